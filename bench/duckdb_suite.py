"""The KPI suite in DuckDB SQL: loads the tables (bench/duckdb/load.sql, then
load_events.sql), runs one query per KPI (bench/duckdb/<metric>.sql), spreads
the results on kpi's dense grid (every agent seen by any query, in every
period) and writes them in long format (month, agent, metric, value) for the comparison with kpi.

    python duckdb_suite.py --data DIR --tz ZONE --from 2026-01-01 --to 2027-01-01
                           --out results.csv [--threads 1] [--format csv|parquet]
                           [--full] [metric ...]

--format parquet reads the .parquet tables (load_parquet.sql, load_events_parquet.sql).
--full runs the full built-in suite (suite.FULL, the KPIs `kpi run --by agent`
computes with no metric names) on the wider tables of load_full.sql /
load_full_parquet.sql; metric names then pick from FULL. A series metric
(suite.SERIES: contact_volume_forecast) runs after the others, on the grid's
agents, and alone has rows in the periods after the range.

Prints one JSON object on stdout: load and per-query times in seconds.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
from suite import COUNTS, COUNTS_FULL, FULL, SERIES, SUITE  # noqa: E402  (bench/ is the script's directory)


def sql(name, **subst):
    with open(os.path.join(HERE, "duckdb", name + ".sql")) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace("{" + k + "}", v)
    return text


def instant(day, tz):
    """A date's local midnight in `tz` as a DuckDB TIMESTAMPTZ literal."""
    t = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz))
    return "TIMESTAMPTZ '%s'" % t.isoformat(sep=" ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tz", required=True)
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--format", choices=("csv", "parquet"), default="csv")
    ap.add_argument("--full", action="store_true",
                    help="the full built-in suite (suite.FULL) on the tables of load_full.sql")
    ap.add_argument("metrics", nargs="*")
    a = ap.parse_args()
    known, counts = (FULL, COUNTS_FULL) if a.full else (SUITE, COUNTS)
    metrics = a.metrics or known
    for m in metrics:
        if m not in known:
            sys.exit(f"unknown metric {m}")
    # Series metrics last: they need the agents of the other results.
    metrics = [m for m in metrics if m not in SERIES] + [m for m in metrics if m in SERIES]

    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    con.execute(f"SET TimeZone = '{a.tz}'")
    times = {}

    t0 = time.perf_counter()
    # Tickets (the ten KPIs' columns, or the full suite's with its extra
    # tables), then messages and surveys, which both read alike.
    fmt = "" if a.format == "csv" else "_parquet"
    con.execute(sql("local_ts", tz=a.tz))
    for load in ("load_full" if a.full else "load", "load_events"):
        con.execute(sql(load + fmt, data=os.path.abspath(a.data)))
    times["load"] = time.perf_counter() - t0

    from_ts, to_ts = instant(a.start, a.tz), instant(a.end, a.tz)
    t_compute = time.perf_counter()
    # The periods of the query: calendar months in the project zone, [start, end).
    con.execute(
        f"""CREATE TEMP TABLE periods AS
            SELECT p, p + INTERVAL 1 MONTH AS pe
            FROM generate_series({from_ts}, {to_ts} - INTERVAL 1 MONTH, INTERVAL 1 MONTH) g(p)"""
    )
    times["queries"] = {}
    for m in metrics:
        t = time.perf_counter()
        if m in SERIES:
            # The grid's agents so far (the series query adds its own).
            others = [f"SELECT agent FROM r_{o}" for o in metrics if o not in SERIES]
            con.execute("CREATE OR REPLACE TEMP TABLE grid_agents AS "
                        + (" UNION ".join(others) if others else "SELECT NULL::VARCHAR AS agent WHERE false"))
        con.execute(
            f"CREATE TEMP TABLE r_{m} AS " + sql(m, from_ts=from_ts, to_ts=to_ts)
        )
        times["queries"][m] = time.perf_counter() - t
    # kpi's grid is dense: every group seen by the query's data, in every period.
    t = time.perf_counter()
    agents = " UNION ".join(f"SELECT agent FROM r_{m}" for m in metrics)
    cols = ", ".join(
        (f"coalesce(r_{m}.value, 0)" if m in counts else f"r_{m}.value") + f" AS {m}"
        for m in metrics
    )
    joins = " ".join(
        f"LEFT JOIN r_{m} ON r_{m}.p = g.p AND r_{m}.agent IS NOT DISTINCT FROM g.agent"
        for m in metrics
    )
    con.execute(
        f"""CREATE TEMP TABLE result AS
            WITH g AS (SELECT p, agent FROM periods CROSS JOIN (SELECT DISTINCT agent FROM ({agents})) a)
            SELECT g.p, g.agent, {cols} FROM g {joins}"""
    )
    times["grid"] = time.perf_counter() - t
    times["compute"] = time.perf_counter() - t_compute

    if a.out:
        unpivot = " UNION ALL ".join(
            f"SELECT strftime(p, '%Y-%m') AS period, coalesce(agent, '') AS agent, "
            f"'{m}' AS metric, {m} AS value FROM result"
            for m in metrics
        )
        # A series metric's periods after the range (its rows there only).
        for m in metrics:
            if m in SERIES:
                unpivot += (f" UNION ALL SELECT strftime(p, '%Y-%m'), coalesce(agent, ''), '{m}', value "
                            f"FROM r_{m} WHERE p >= {to_ts}")
        con.execute(f"COPY ({unpivot}) TO '{os.path.abspath(a.out)}' (HEADER, FORMAT csv)")
    times["rows"] = con.execute("SELECT count(*) FROM result").fetchone()[0] * len(metrics) + sum(
        con.execute(f"SELECT count(*) FROM r_{m} WHERE p >= {to_ts}").fetchone()[0]
        for m in metrics if m in SERIES)
    times["version"] = duckdb.__version__
    print(json.dumps(times))


if __name__ == "__main__":
    main()
