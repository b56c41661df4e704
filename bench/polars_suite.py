"""The KPI suite in Polars, with kpi's semantics (docs/language.md,
docs/data-model.md): loads the columns the suite reads, computes one lazy
query per KPI grouped by agent x calendar month in the project zone, spreads
the results on kpi's dense grid and writes them in long format (month, agent,
metric, value) for the comparison with kpi.

    POLARS_MAX_THREADS=1 python polars_suite.py --data DIR --tz ZONE
        --from 2026-01-01 --to 2027-01-01 --out results.csv
        [--format csv|parquet] [metric ...]

--format parquet reads the .parquet tables of `kpi generate --format parquet`.

Prints one JSON object on stdout: load and per-query times in seconds.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from suite import COUNTS, SUITE  # noqa: E402  (bench/ is the script's directory)
US_PER_MIN = 60e6
US_PER_H = 3600e6
# params.sla_resolution (metrics.d/team.toml), in microseconds.
SLA_US = {"urgent": 8 * 3600 * 10**6, "high": 24 * 3600 * 10**6,
          "normal": 48 * 3600 * 10**6, "low": 96 * 3600 * 10**6}
NAIVE = "%Y-%m-%d %H:%M:%S"


def local_ts(df, cols, tz):
    """Naive local times (strings, or naive datetimes from Parquet) in `tz`
    to UTC instants, as kpi reads them: an ambiguous time takes its first
    occurrence, a time in the spring gap is moved forward by the gap (one
    hour in the zones this generator writes)."""
    out = []
    for c in cols:
        naive = df[c] if df[c].dtype != pl.String else df[c].str.to_datetime(NAIVE, time_unit="us")
        inst = naive.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
        if inst.null_count() > naive.null_count():  # a time in a DST gap
            shifted = (naive + timedelta(hours=1)).dt.replace_time_zone(
                tz, ambiguous="earliest", non_existent="null")
            inst = pl.select(pl.coalesce(inst, shifted)).to_series()
        out.append(inst.dt.convert_time_zone("UTC").alias(c))
    return df.with_columns(out)


def load(data, tz):
    tickets = pl.read_csv(
        os.path.join(data, "tickets.csv"),
        columns=["id", "created_at", "first_response_at", "solved_at",
                 "priority", "agent_id", "escalated", "contacts"],
        schema_overrides={"created_at": pl.String, "first_response_at": pl.String,
                          "solved_at": pl.String, "escalated": pl.Boolean,
                          "contacts": pl.Int64, "agent_id": pl.String, "id": pl.String,
                          "priority": pl.String},
    )
    tickets = local_ts(tickets, ["created_at", "first_response_at", "solved_at"], tz)
    messages = pl.read_csv(
        os.path.join(data, "messages.csv"),
        columns=["ticket_id", "created_at", "author_role", "agent_id"],
        schema_overrides={"ticket_id": pl.String, "created_at": pl.String,
                          "author_role": pl.String, "agent_id": pl.String},
    ).with_columns(
        pl.col("created_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_unit="us")
        .dt.convert_time_zone("UTC")
    ).with_row_index("row")  # file order: breaks ties in prev() as kpi does
    surveys = pl.read_csv(
        os.path.join(data, "surveys.csv"),
        columns=["created_at", "kind", "score", "agent_id"],
        schema_overrides={"created_at": pl.String, "kind": pl.String,
                          "score": pl.Int64, "agent_id": pl.String},
    )
    surveys = local_ts(surveys, ["created_at"], tz)
    return tickets.lazy(), messages.lazy(), surveys.lazy()


def load_parquet(data, tz):
    """The tables of load(), from the Parquet files: local wall times are
    naive datetimes, messages.created_at is already an instant (UTC)."""
    tickets = pl.read_parquet(
        os.path.join(data, "tickets.parquet"),
        columns=["id", "created_at", "first_response_at", "solved_at",
                 "priority", "agent_id", "escalated", "contacts"],
    )
    tickets = local_ts(tickets, ["created_at", "first_response_at", "solved_at"], tz)
    messages = pl.read_parquet(
        os.path.join(data, "messages.parquet"),
        columns=["ticket_id", "created_at", "author_role", "agent_id"],
    ).with_columns(
        pl.col("created_at").dt.convert_time_zone("UTC")
    ).with_row_index("row")  # file order: breaks ties in prev() as kpi does
    surveys = pl.read_parquet(
        os.path.join(data, "surveys.parquet"),
        columns=["created_at", "kind", "score", "agent_id"],
    )
    surveys = local_ts(surveys, ["created_at"], tz)
    return tickets.lazy(), messages.lazy(), surveys.lazy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tz", required=True)
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--out")
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("metrics", nargs="*")
    a = ap.parse_args()
    metrics = a.metrics or SUITE
    for m in metrics:
        if m not in SUITE:
            sys.exit(f"unknown metric {m}")
    tz = a.tz
    zone = ZoneInfo(tz)
    utc = ZoneInfo("UTC")
    lo = datetime.fromisoformat(a.start).replace(tzinfo=zone)
    hi = datetime.fromisoformat(a.end).replace(tzinfo=zone)
    lo_utc, hi_utc = lo.astimezone(utc), hi.astimezone(utc)
    times = {}

    t0 = time.perf_counter()
    tickets, messages, surveys = (load if a.format == "csv" else load_parquet)(a.data, tz)
    times["load"] = time.perf_counter() - t0

    def month(c):
        return pl.col(c).dt.convert_time_zone(tz).dt.truncate("1mo").alias("p")

    def in_range(c):
        return (pl.col(c) >= lo_utc) & (pl.col(c) < hi_utc)

    def ratio(num, den):
        return pl.when(den != 0).then(num / den).otherwise(None)

    us = lambda a_, b_: (pl.col(a_) - pl.col(b_)).dt.total_microseconds()  # noqa: E731

    def by_created():
        return tickets.filter(in_range("created_at")).group_by(
            month("created_at"), pl.col("agent_id").alias("agent"))

    def by_solved():
        return tickets.filter(in_range("solved_at")).group_by(
            month("solved_at"), pl.col("agent_id").alias("agent"))

    t_compute = time.perf_counter()
    periods = pl.DataFrame({"p": pl.datetime_range(
        lo, hi, "1mo", time_zone=tz, closed="left", eager=True, time_unit="us")})
    periods = periods.with_columns(
        pl.col("p").dt.offset_by("1mo").dt.convert_time_zone("UTC").alias("pe"))

    def q(m):
        if m == "first_response_time":
            return by_created().agg((us("first_response_at", "created_at").mean() / US_PER_MIN).alias("value"))
        if m == "resolution_time":
            return by_solved().agg((us("solved_at", "created_at").mean() / US_PER_H).alias("value"))
        if m == "tickets_resolved":
            return by_solved().agg(pl.len().cast(pl.Float64).alias("value"))
        if m == "escalation_rate":
            return by_created().agg(
                (ratio(pl.col("escalated").sum(), pl.len()) * 100).alias("value"))
        if m == "sla_compliance":
            target = pl.col("priority").replace_strict(SLA_US, default=None, return_dtype=pl.Int64)
            met = (us("solved_at", "created_at") <= target).fill_null(False)
            return by_solved().agg((ratio(met.sum(), pl.len()) * 100).alias("value"))
        if m == "first_contact_resolution":
            return by_solved().agg(
                (ratio((pl.col("contacts") == 1).fill_null(False).sum(),
                       pl.col("contacts").count()) * 100).alias("value"))
        if m == "backlog":
            open_ = tickets.select(
                "agent_id", "created_at",
                pl.col("solved_at").fill_null(datetime.max.replace(tzinfo=ZoneInfo("UTC"))),
            )
            return (periods.lazy()
                    .join_where(open_, pl.col("created_at") < pl.col("pe"),
                                pl.col("solved_at") >= pl.col("pe"))
                    .group_by("p", pl.col("agent_id").alias("agent"))
                    .agg(pl.len().cast(pl.Float64).alias("value")))
        if m == "touches_per_ticket":
            touches = (messages.filter(pl.col("author_role") == "agent")
                       .group_by("ticket_id").agg(pl.len().alias("n")))
            return (tickets.filter(in_range("solved_at"))
                    .join(touches, left_on="id", right_on="ticket_id", how="left")
                    .group_by(month("solved_at"), pl.col("agent_id").alias("agent"))
                    .agg(ratio(pl.col("n").fill_null(0).sum(), pl.len()).alias("value")))
        if m == "average_response_time":
            w = (messages.sort("ticket_id", "created_at", "row")
                 .with_columns(
                     same=pl.col("ticket_id") == pl.col("ticket_id").shift(1),
                     prev_at=pl.col("created_at").shift(1),
                     prev_role=pl.col("author_role").shift(1)))
            reply = (pl.col("author_role") == "agent") & pl.col("same") & (pl.col("prev_role") == "customer")
            gap = pl.when(reply.fill_null(False)).then(us("created_at", "prev_at"))
            return (w.filter(in_range("created_at"))
                    .group_by(month("created_at"), pl.col("agent_id").alias("agent"))
                    .agg((gap.mean() / US_PER_MIN).alias("value")))
        if m == "csat":
            csat = pl.col("kind") == "csat"
            return (surveys.filter(in_range("created_at"))
                    .group_by(month("created_at"), pl.col("agent_id").alias("agent"))
                    .agg((ratio((csat & (pl.col("score") >= 4)).sum(), csat.sum()) * 100).alias("value")))
        raise ValueError(m)

    results = {}
    times["queries"] = {}
    for m in metrics:
        t = time.perf_counter()
        results[m] = q(m).collect()
        times["queries"][m] = time.perf_counter() - t
    # kpi's grid is dense: every group seen by the query's data, in every period.
    t = time.perf_counter()
    agents = pl.concat([r.select("agent") for r in results.values()]).unique()
    grid = periods.select("p").join(agents, how="cross")
    for m, r in results.items():
        grid = grid.join(r.rename({"value": m}), on=["p", "agent"], how="left", nulls_equal=True)
        if m in COUNTS:
            grid = grid.with_columns(pl.col(m).fill_null(0.0))
    times["grid"] = time.perf_counter() - t
    times["compute"] = time.perf_counter() - t_compute

    if a.out:
        long = grid.unpivot(index=["p", "agent"], variable_name="metric", value_name="value")
        long.select(
            pl.col("p").dt.strftime("%Y-%m").alias("period"),
            pl.col("agent").fill_null(""), "metric", "value",
        ).write_csv(a.out, float_precision=None)
    times["rows"] = grid.height * len(metrics)
    times["version"] = pl.__version__
    print(json.dumps(times))


if __name__ == "__main__":
    main()
