#!/usr/bin/env python3
"""Independent reference implementation of the built-in KPI catalog.

Written from the written definitions only (/work/shared/KPI_CATALOG.md,
DESIGN.md sections 4, 5 and 7, docs/data-model.md), never from the engine's
formulas, so that the two can be compared.  Standard library only.

    python3 tests/independent/catalog.py DATA_DIR --timezone America/New_York \
        --period month --from 2026-01-01 --to 2026-05-01 [--by agent]

DATA_DIR holds the canonical tables as CSV files with canonical column names
(tickets.csv, messages.csv, ...; whichever exist).  The output is a JSON
array in long format, one object per period x group x metric:

    {"period_start": "2026-01-01T00:00:00-05:00",
     "period_end":   "2026-02-01T00:00:00-05:00",
     "agent": "ann",                 # only with --by agent
     "metric": "csat", "value": 66.66666666666667}

Units: percentages are x100, durations are SECONDS, counts are integers.

The code is deliberately plain: every table is a list of dicts, every metric
is a loop over rows that fills dicts keyed by group.  Each metric function
starts with a docstring stating exactly which rows it reads and which reading
was chosen where the catalog leaves room; README.md lists the same choices.

General choices (apply everywhere):
  * "In the period" means the row's time column t satisfies start <= t < end.
  * "Open at instant T" uses the table's interval [from, to): from <= T and
    (to is null or T < to).  Tickets: [created_at, solved_at); customers:
    [created_at, churned_at).
  * All instants are held as integer microseconds since the Unix epoch (UTC),
    so DST never disturbs a difference (Python subtracts two datetimes that
    share a tzinfo on the wall clock, which would be wrong across DST).
  * A naive timestamp is read in the project zone with fold=0: an ambiguous
    wall time (fall back) is the first occurrence; a non-existent one (spring
    forward gap) gets the offset in force before the gap.
  * Means and ratios over no rows, or with a zero denominator, are null.
    Counts over no rows are 0.  Sums over no rows are 0 (choice).
  * Nulls are skipped by aggregates; a comparison with null is false.
"""

import argparse
import csv
import json
import os
import re
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

US = 1_000_000  # microseconds per second
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# ---------------------------------------------------------------------------
# Canonical tables (DESIGN.md section 5 / docs/data-model.md)
# ---------------------------------------------------------------------------

# type names: key (string id), str, ts, dur, bool, int, float
SCHEMA = {
    "tickets": {
        "id": "key", "created_at": "ts", "assigned_at": "ts",
        "first_response_at": "ts", "solved_at": "ts", "status": "str",
        "channel": "str", "priority": "str", "agent_id": "key", "team": "str",
        "customer_id": "key", "escalated": "bool", "reopened": "bool",
        "contacts": "int", "handle_time": "dur",
        "help_center_resolvable": "bool",
    },
    "messages": {
        "id": "key", "ticket_id": "key", "created_at": "ts",
        "author_role": "str", "agent_id": "key", "body": "str",
    },
    "calls": {
        "id": "key", "ticket_id": "key", "agent_id": "key", "queued_at": "ts",
        "answered_at": "ts", "ended_at": "ts", "talk_time": "dur",
        "hold_time": "dur", "wrap_time": "dur",
    },
    "surveys": {
        "id": "key", "ticket_id": "key", "customer_id": "key",
        "agent_id": "key", "channel": "str", "created_at": "ts", "kind": "str",
        "score": "int",
    },
    "qa_reviews": {
        "id": "key", "ticket_id": "key", "agent_id": "key", "channel": "str",
        "reviewed_at": "ts", "score": "float",
    },
    "customers": {
        "id": "key", "created_at": "ts", "churned_at": "ts", "plan": "str",
        "premium": "bool",
    },
    "subscription_events": {
        "id": "key", "customer_id": "key", "at": "ts", "kind": "str",
        "mrr_delta": "float",
    },
    "finance": {"id": "key", "at": "ts", "kind": "str", "amount": "float"},
    "agent_shifts": {
        "agent_id": "key", "team": "str", "start_at": "ts", "end_at": "ts",
    },
    "employee_surveys": {
        "id": "key", "agent_id": "key", "team": "str", "created_at": "ts",
        "enps_score": "int",
    },
}

TIME_COLUMN = {
    "tickets": "created_at", "messages": "created_at", "calls": "queued_at",
    "surveys": "created_at", "qa_reviews": "reviewed_at",
    "customers": "created_at", "subscription_events": "at", "finance": "at",
    "agent_shifts": "start_at", "employee_surveys": "created_at",
}

# ---------------------------------------------------------------------------
# Default params (KPI_CATALOG.md "Default params"); durations in seconds
# ---------------------------------------------------------------------------

H = 3600
DEFAULT_PARAMS = {
    "csat_satisfied_min": 4,
    "sla_first_response": {"urgent": 1 * H, "high": 4 * H, "normal": 24 * H,
                           "low": 48 * H},
    "sla_resolution": {"urgent": 8 * H, "high": 24 * H, "normal": 48 * H,
                       "low": 96 * H},
    "sla_breach_first_response": 20 * 60,
    "next_issue_window": 7 * 24 * H,
    "loyalty_months": 12,
    "gross_margin": 0.8,
}
DURATION_PARAMS = {"sla_first_response", "sla_resolution",
                   "sla_breach_first_response", "next_issue_window"}

# ---------------------------------------------------------------------------
# Value parsing (docs/data-model.md "Value formats")
# ---------------------------------------------------------------------------

TRUE_WORDS = {"true", "1", "yes", "t", "y"}
FALSE_WORDS = {"false", "0", "no", "f", "n"}
DURATION_UNITS = re.compile(
    r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?"
    r"(?:(\d+(?:\.\d+)?)s)?$")
HMS = re.compile(r"^(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
NAIVE_TS = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?$")
OFFSET_TS = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
    r"(?:[Zz]|[+-]\d{2}:\d{2})$")


def to_micros(aware):
    """An aware datetime -> integer microseconds since the epoch (UTC)."""
    delta = aware.astimezone(timezone.utc) - EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def from_micros(us, zone):
    return (EPOCH + timedelta(microseconds=us)).astimezone(zone)


def local_to_micros(naive, zone):
    """A naive wall-clock time in `zone` -> micros (fold=0, see module doc)."""
    return to_micros(naive.replace(tzinfo=zone, fold=0))


def parse_timestamp(text, zone):
    s = text.strip()
    if OFFSET_TS.match(s):
        if s[-1] in "Zz":
            s = s[:-1] + "+00:00"
        # keep at most 6 fractional digits for fromisoformat
        m = re.match(r"^(.*\.\d{6})\d+([+-]\d{2}:\d{2})$", s)
        if m:
            s = m.group(1) + m.group(2)
        return to_micros(datetime.fromisoformat(s.replace("t", "T")))
    if NAIVE_TS.match(s):
        return local_to_micros(datetime.fromisoformat(s), zone)
    raise ValueError(f"not a timestamp: {text!r}")


def parse_duration(text):
    """Seconds as a number, H:MM:SS, or 1h30m-style -> float seconds."""
    s = text.strip()
    try:
        return float(s)
    except ValueError:
        pass
    m = HMS.match(s)
    if m:
        secs = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))
        return -secs if m.group(1) else secs
    m = DURATION_UNITS.match(s)
    if m and any(m.groups()):
        d, h, mi, se = (float(x) if x else 0.0 for x in m.groups())
        return d * 86400 + h * 3600 + mi * 60 + se
    raise ValueError(f"not a duration: {text!r}")


def parse_bool(text):
    s = text.strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    raise ValueError(f"not a bool: {text!r}")


def parse_int(text):
    s = text.strip()
    try:
        return int(s)
    except ValueError:
        f = float(s)
        if f != int(f):
            raise ValueError(f"not an integer: {text!r}")
        return int(f)


def parse_value(text, kind, zone):
    if text is None or text == "":
        return None  # the empty string is the null token
    if kind == "key" or kind == "str":
        return text
    if kind == "ts":
        return parse_timestamp(text, zone)
    if kind == "dur":
        return parse_duration(text)
    if kind == "bool":
        return parse_bool(text)
    if kind == "int":
        return parse_int(text)
    if kind == "float":
        return float(text)
    raise AssertionError(kind)


def load_table(path, table, zone):
    """Read one CSV into a list of dicts with typed values.  A canonical
    column absent from the header reads as null in every row (the engine
    would error only if a requested metric needs it; here a warning)."""
    schema = SCHEMA[table]
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in schema if c not in header]
        if missing:
            print(f"note: {path}: columns {missing} absent, read as null",
                  file=sys.stderr)
        for line_no, raw in enumerate(reader, start=2):
            row = {}
            for col, kind in schema.items():
                try:
                    row[col] = parse_value(raw.get(col), kind, zone)
                except ValueError as e:
                    raise SystemExit(f"{path}:{line_no}: column {col}: {e}")
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# Periods (DESIGN.md section 7)
# ---------------------------------------------------------------------------

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday"]


def floor_local(d, period, week_start):
    """Start (naive local datetime) of the calendar period holding d."""
    day = datetime(d.year, d.month, d.day)
    if period == "day":
        return day
    if period == "week":
        back = (day.weekday() - week_start) % 7
        return day - timedelta(days=back)
    if period == "month":
        return datetime(d.year, d.month, 1)
    if period == "quarter":
        return datetime(d.year, (d.month - 1) // 3 * 3 + 1, 1)
    if period == "year":
        return datetime(d.year, 1, 1)
    raise AssertionError(period)


def add_months(d, n):
    """Calendar month arithmetic on a naive datetime; the day is clamped to
    the last day of the target month (Jan 31 + 1 month = Feb 28/29)."""
    y = d.year + (d.month - 1 + n) // 12
    m = (d.month - 1 + n) % 12 + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return d.replace(year=y, month=m, day=min(d.day, last))


def next_local(start, period):
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return add_months(start, 1)
    if period == "quarter":
        return add_months(start, 3)
    if period == "year":
        return add_months(start, 12)
    raise AssertionError(period)


def make_periods(from_us, to_us, period, zone, week_start):
    """Calendar periods covering [from, to).  A period that sticks out of
    [from, to) is clipped to it (choice: --to is exclusive and --from is an
    instant, so no row outside [from, to) is ever counted).  period == "all"
    is one period [from, to)."""
    if period == "all":
        return [(from_us, to_us)]
    periods = []
    local = from_micros(from_us, zone).replace(tzinfo=None)
    start = floor_local(local, period, week_start)
    while True:
        s_us = local_to_micros(start, zone)
        if s_us >= to_us:
            break
        nxt = next_local(start, period)
        e_us = local_to_micros(nxt, zone)
        periods.append((max(s_us, from_us), min(e_us, to_us)))
        start = nxt
    return periods


def parse_bound(text, zone):
    """--from / --to: a bare date is local midnight, else a timestamp."""
    return parse_timestamp(text, zone)


# ---------------------------------------------------------------------------
# Context: loaded tables, params, precomputed relations
# ---------------------------------------------------------------------------

ALL = "__all__"  # the single group when not grouping


class Context:
    def __init__(self, tables, params, zone, by_agent):
        self.tables = tables
        self.params = params
        self.zone = zone
        self.by_agent = by_agent

        # tickets by id (first row wins if an id repeats)
        self.ticket_by_id = {}
        for t in tables.get("tickets", []):
            if t["id"] is not None and t["id"] not in self.ticket_by_id:
                self.ticket_by_id[t["id"]] = t

        # messages of each ticket, ordered by created_at (stable: file order
        # breaks ties)
        self.messages_by_ticket = {}
        for m in tables.get("messages", []):
            self.messages_by_ticket.setdefault(m["ticket_id"], []).append(m)
        for msgs in self.messages_by_ticket.values():
            msgs.sort(key=lambda m: (m["created_at"] is None,
                                     m["created_at"] or 0))

    def rows(self, table):
        return self.tables.get(table, [])

    # group keys ----------------------------------------------------------
    def agent_of_row(self, row):
        """tickets / calls / surveys / qa_reviews / agent_shifts: the row's
        own agent_id column."""
        return row["agent_id"] if self.by_agent else ALL

    def agent_of_message(self, m):
        """messages: the message's own agent_id, i.e. the agent who wrote it
        (for a reply: the agent who replied).  The data model gives messages
        an agent_id column; DESIGN.md maps the `agent` dimension to it
        "wherever the column exists", and a reply's speed belongs to the
        agent who gave it, not to the ticket's assignee."""
        if not self.by_agent:
            return ALL
        return m["agent_id"]


def in_period(ts, start, end):
    return ts is not None and start <= ts < end


def open_at(frm, to, instant):
    """Interval [frm, to) contains instant; a null `to` never ends."""
    return frm is not None and frm <= instant and (to is None or instant < to)


def pct(num, den):
    return None if not den else num / den * 100


def means(total, count, scale=1):
    return {g: total[g] / count[g] / scale for g in count}


def bump(d, g, v=1):
    d[g] = d.get(g, 0) + v


# ---------------------------------------------------------------------------
# Response and handling time
# ---------------------------------------------------------------------------

def first_response_time(ctx, start, end):
    """Mean of (first_response_at - created_at), seconds, over tickets with
    created_at in the period and first_response_at not null.  Negative gaps
    are kept as recorded."""
    total, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["created_at"], start, end) and t["first_response_at"] is not None:
            g = ctx.agent_of_row(t)
            bump(total, g, t["first_response_at"] - t["created_at"])
            bump(n, g)
    return means(total, n, US)


def _reply_gaps(ctx, start, end, channel=None):
    """Yield (group, gap_us) for every agent message created in the period
    whose immediately previous message on the same ticket (ordered by
    created_at over ALL messages, including ones before the period) has
    author_role == "customer".  A previous "system" or "agent" message means
    the reply is not counted.  Group = the replying message's agent_id."""
    for ticket_id, msgs in ctx.messages_by_ticket.items():
        if channel is not None:
            t = ctx.ticket_by_id.get(ticket_id)
            if t is None or t["channel"] != channel:
                continue
        prev = None
        for m in msgs:
            if (prev is not None and m["author_role"] == "agent"
                    and prev["author_role"] == "customer"
                    and in_period(m["created_at"], start, end)
                    and prev["created_at"] is not None):
                yield ctx.agent_of_message(m), m["created_at"] - prev["created_at"]
            prev = m


def average_response_time(ctx, start, end):
    """Mean gap (seconds) between a customer message and the agent message
    that directly follows it on the same ticket.  The reply's created_at
    decides the period; the customer message may predate the period.  The
    first message of a ticket has no previous message.  --by agent: the
    replying message's agent_id."""
    total, n = {}, {}
    for g, gap in _reply_gaps(ctx, start, end):
        bump(total, g, gap)
        bump(n, g)
    return means(total, n, US)


def average_response_time_chat(ctx, start, end):
    """average_response_time restricted to messages whose ticket (looked up
    in tickets by ticket_id) has channel == "chat"; messages of unknown
    tickets are left out."""
    total, n = {}, {}
    for g, gap in _reply_gaps(ctx, start, end, channel="chat"):
        bump(total, g, gap)
        bump(n, g)
    return means(total, n, US)


def average_handle_time(ctx, start, end):
    """Mean of (talk_time + hold_time + wrap_time), seconds, over calls with
    queued_at in the period and answered_at not null.  A null component
    makes the call's sum null and the call is skipped."""
    total, n = {}, {}
    for c in ctx.rows("calls"):
        if not in_period(c["queued_at"], start, end) or c["answered_at"] is None:
            continue
        parts = (c["talk_time"], c["hold_time"], c["wrap_time"])
        if any(p is None for p in parts):
            continue
        g = ctx.agent_of_row(c)
        bump(total, g, parts[0] + parts[1] + parts[2])
        bump(n, g)
    return means(total, n)


def resolution_time(ctx, start, end, channel=None):
    """Mean of (solved_at - created_at), seconds, over tickets with solved_at
    in the period ("solved" = solved_at is set; status is not consulted)."""
    total, n = {}, {}
    for t in ctx.rows("tickets"):
        if channel is not None and t["channel"] != channel:
            continue
        if in_period(t["solved_at"], start, end) and t["created_at"] is not None:
            g = ctx.agent_of_row(t)
            bump(total, g, t["solved_at"] - t["created_at"])
            bump(n, g)
    return means(total, n, US)


def average_resolution_time_email(ctx, start, end):
    """resolution_time over tickets with channel == "email" (exact, case
    sensitive)."""
    return resolution_time(ctx, start, end, channel="email")


def queue_time(ctx, start, end):
    """Mean of (assigned_at - created_at), seconds, over tickets with
    created_at in the period and assigned_at not null."""
    total, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["created_at"], start, end) and t["assigned_at"] is not None:
            g = ctx.agent_of_row(t)
            bump(total, g, t["assigned_at"] - t["created_at"])
            bump(n, g)
    return means(total, n, US)


def average_speed_of_answer(ctx, start, end):
    """Mean of (answered_at - queued_at), seconds, over calls with queued_at
    in the period and answered_at not null."""
    total, n = {}, {}
    for c in ctx.rows("calls"):
        if in_period(c["queued_at"], start, end) and c["answered_at"] is not None:
            g = ctx.agent_of_row(c)
            bump(total, g, c["answered_at"] - c["queued_at"])
            bump(n, g)
    return means(total, n, US)


def average_wait_time_phone(ctx, start, end):
    """Over calls with queued_at in the period: the sum of each call's wait
    (coalesce(answered_at, ended_at) - queued_at; a call with neither is
    skipped) divided by the number of those calls with answered_at not null.
    So abandoned calls add wait to the numerator but not to the
    denominator.  Zero answered calls -> null."""
    wait, answered = {}, {}
    groups = set()
    for c in ctx.rows("calls"):
        if not in_period(c["queued_at"], start, end):
            continue
        g = ctx.agent_of_row(c)
        groups.add(g)
        stop = c["answered_at"] if c["answered_at"] is not None else c["ended_at"]
        if stop is not None:
            bump(wait, g, stop - c["queued_at"])
        if c["answered_at"] is not None:
            bump(answered, g)
    return {g: (wait.get(g, 0) / answered[g] / US if answered.get(g) else None)
            for g in groups}


# ---------------------------------------------------------------------------
# Customer satisfaction (surveys: created_at in the period, kind as named)
# ---------------------------------------------------------------------------

def _scores(ctx, start, end, kind):
    """Yield (group, score) for surveys of `kind` (exact match) created in
    the period with a non-null score."""
    for s in ctx.rows("surveys"):
        if s["kind"] == kind and in_period(s["created_at"], start, end) \
                and s["score"] is not None:
            yield ctx.agent_of_row(s), s["score"]


def csat(ctx, start, end):
    """% of csat responses (non-null score) with score >=
    params.csat_satisfied_min; a null score is in neither count."""
    good, n = {}, {}
    for g, score in _scores(ctx, start, end, "csat"):
        bump(n, g)
        if score >= ctx.params["csat_satisfied_min"]:
            bump(good, g)
    return {g: pct(good.get(g, 0), n[g]) for g in n}


def csat_average(ctx, start, end):
    """Mean score of csat responses (nulls skipped)."""
    total, n = {}, {}
    for g, score in _scores(ctx, start, end, "csat"):
        bump(total, g, score)
        bump(n, g)
    return means(total, n)


def _net_score(pairs):
    """% of 9..10 minus % of 0..6 among the given (group, score) pairs."""
    promo, detr, n = {}, {}, {}
    for g, score in pairs:
        bump(n, g)
        if 9 <= score <= 10:
            bump(promo, g)
        elif 0 <= score <= 6:
            bump(detr, g)
    return {g: (promo.get(g, 0) - detr.get(g, 0)) / n[g] * 100 for g in n}


def nps(ctx, start, end):
    """% promoters (9-10) - % detractors (0-6) over nps responses with a
    non-null score; the denominator is every such response (7-8 included,
    and an out-of-range score counts in the denominator only)."""
    return _net_score(_scores(ctx, start, end, "nps"))


def ces(ctx, start, end):
    """Mean score of ces responses, as recorded (no rescaling)."""
    total, n = {}, {}
    for g, score in _scores(ctx, start, end, "ces"):
        bump(total, g, score)
        bump(n, g)
    return means(total, n)


# ---------------------------------------------------------------------------
# Agent performance
# ---------------------------------------------------------------------------

def ticket_handling_time(ctx, start, end):
    """Mean handle_time (seconds) over tickets with solved_at in the period
    and handle_time not null."""
    total, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end) and t["handle_time"] is not None:
            g = ctx.agent_of_row(t)
            bump(total, g, t["handle_time"])
            bump(n, g)
    return means(total, n)


def tickets_resolved(ctx, start, end):
    """Count of tickets with solved_at in the period."""
    n = {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end):
            bump(n, ctx.agent_of_row(t))
    return n


def calls_per_hour(ctx, start, end):
    """(calls with queued_at in the period and answered_at not null) /
    (sum over agent_shifts with start_at in the period of (end_at -
    start_at), in hours).  Shifts are attributed whole to the period of their
    start (not clipped); a shift with null end_at is skipped.  --by agent:
    calls.agent_id and agent_shifts.agent_id.  No shift hours -> null."""
    calls, hours = {}, {}
    for c in ctx.rows("calls"):
        if in_period(c["queued_at"], start, end) and c["answered_at"] is not None:
            bump(calls, ctx.agent_of_row(c))
    for s in ctx.rows("agent_shifts"):
        if in_period(s["start_at"], start, end) and s["end_at"] is not None:
            bump(hours, ctx.agent_of_row(s), (s["end_at"] - s["start_at"]) / US / 3600)
    groups = set(calls) | set(hours)
    return {g: (calls.get(g, 0) / hours[g] if hours.get(g) else None)
            for g in groups}


def touches_per_ticket(ctx, start, end):
    """(messages with author_role == "agent", created at any time, whose
    ticket_id is a ticket solved in the period) / (tickets solved in the
    period).  --by agent: both sides by the ticket's agent_id."""
    agent_msgs = {}
    for m in ctx.rows("messages"):
        if m["author_role"] == "agent":
            bump(agent_msgs, m["ticket_id"])
    touches, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end):
            g = ctx.agent_of_row(t)
            bump(n, g)
            bump(touches, g, agent_msgs.get(t["id"], 0))
    return {g: touches[g] / n[g] for g in n}


# ---------------------------------------------------------------------------
# Team efficiency
# ---------------------------------------------------------------------------

def sla_compliance(ctx, start, end):
    """% of tickets with solved_at in the period whose (solved_at -
    created_at) <= params.sla_resolution[priority].  The denominator is every
    ticket solved in the period; a priority missing from the map gives no
    threshold and the ticket counts as not compliant."""
    ok, n = {}, {}
    sla = ctx.params["sla_resolution"]
    for t in ctx.rows("tickets"):
        if not in_period(t["solved_at"], start, end):
            continue
        g = ctx.agent_of_row(t)
        bump(n, g)
        limit = sla.get(t["priority"])
        if limit is not None and t["created_at"] is not None \
                and t["solved_at"] - t["created_at"] <= limit * US:
            bump(ok, g)
    return {g: pct(ok.get(g, 0), n[g]) for g in n}


def first_response_sla_compliance(ctx, start, end):
    """% of tickets with created_at in the period whose first_response_at is
    not null and (first_response_at - created_at) <=
    params.sla_first_response[priority].  The denominator is every ticket
    created in the period, so a ticket not (yet) answered counts as not
    compliant, as does an unknown priority."""
    ok, n = {}, {}
    sla = ctx.params["sla_first_response"]
    for t in ctx.rows("tickets"):
        if not in_period(t["created_at"], start, end):
            continue
        g = ctx.agent_of_row(t)
        bump(n, g)
        limit = sla.get(t["priority"])
        if limit is not None and t["first_response_at"] is not None \
                and t["first_response_at"] - t["created_at"] <= limit * US:
            bump(ok, g)
    return {g: pct(ok.get(g, 0), n[g]) for g in n}


def sla_breach_rate(ctx, start, end):
    """% of tickets "closed in the period", read as solved_at in the period
    (status is not consulted), that breached: (first_response_at -
    created_at) > params.sla_breach_first_response, or (solved_at -
    created_at) > params.sla_resolution[priority].  A null first response or
    an unknown priority is not a breach on that leg (null compares false)."""
    bad, n = {}, {}
    sla = ctx.params["sla_resolution"]
    fr_limit = ctx.params["sla_breach_first_response"]
    for t in ctx.rows("tickets"):
        if not in_period(t["solved_at"], start, end):
            continue
        g = ctx.agent_of_row(t)
        bump(n, g)
        created = t["created_at"]
        late_first = (t["first_response_at"] is not None and created is not None
                      and t["first_response_at"] - created > fr_limit * US)
        limit = sla.get(t["priority"])
        late_solve = (limit is not None and created is not None
                      and t["solved_at"] - created > limit * US)
        if late_first or late_solve:
            bump(bad, g)
    return {g: pct(bad.get(g, 0), n[g]) for g in n}


def backlog(ctx, start, end):
    """Count of tickets open at the instant period end by the interval
    [created_at, solved_at): created_at <= end and (solved_at null or
    solved_at > end).  Status is not consulted."""
    n = {}
    for t in ctx.rows("tickets"):
        if open_at(t["created_at"], t["solved_at"], end):
            bump(n, ctx.agent_of_row(t))
    return n


def first_contact_resolution(ctx, start, end):
    """% of tickets solved in the period with contacts == 1, among tickets
    solved in the period whose contacts is not null."""
    one, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end) and t["contacts"] is not None:
            g = ctx.agent_of_row(t)
            bump(n, g)
            if t["contacts"] == 1:
                bump(one, g)
    return {g: pct(one.get(g, 0), n[g]) for g in n}


def resolved_second_contact(ctx, start, end):
    """Count of tickets solved in the period with contacts == 2."""
    n = {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end) and t["contacts"] == 2:
            bump(n, ctx.agent_of_row(t))
    return n


def resolved_third_contact(ctx, start, end):
    """Count of tickets solved in the period with contacts >= 3."""
    n = {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end) and t["contacts"] is not None \
                and t["contacts"] >= 3:
            bump(n, ctx.agent_of_row(t))
    return n


def unresolved(ctx, start, end):
    """Tickets still open at period end: the same set as backlog (all open
    tickets, not only those created in the period)."""
    return backlog(ctx, start, end)


def escalation_rate(ctx, start, end):
    """escalated tickets / tickets x 100, both over tickets with created_at
    in the period (the table's time axis).  escalated null -> not escalated,
    still in the denominator."""
    esc, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["created_at"], start, end):
            g = ctx.agent_of_row(t)
            bump(n, g)
            if t["escalated"] is True:
                bump(esc, g)
    return {g: pct(esc.get(g, 0), n[g]) for g in n}


def _previous_ticket_gaps(ctx):
    """For each ticket (by identity), the gap in micros to the same
    customer's previous ticket, ordering ALL tickets by created_at (file
    order breaks ties, so two tickets at the same instant give a gap of 0 to
    the later row).  None for a customer's first ticket."""
    by_customer = {}
    for t in ctx.rows("tickets"):
        if t["customer_id"] is not None and t["created_at"] is not None:
            by_customer.setdefault(t["customer_id"], []).append(t)
    gaps = {}
    for tickets in by_customer.values():
        tickets.sort(key=lambda t: t["created_at"])
        prev = None
        for t in tickets:
            gaps[id(t)] = None if prev is None else t["created_at"] - prev["created_at"]
            prev = t
    return gaps


def next_issue_rate(ctx, start, end):
    """distinct customers having a ticket created in the period whose gap to
    the customer's previous ticket (any time, any agent) is <=
    params.next_issue_window, / distinct customers with a ticket created in
    the period, x 100.  --by agent: a customer counts in an agent's group
    when one of that agent's tickets qualifies (denominator: customers with
    any of that agent's tickets in the period)."""
    gaps = _previous_ticket_gaps(ctx)
    window = ctx.params["next_issue_window"] * US
    repeat, seen = {}, {}
    for t in ctx.rows("tickets"):
        if not in_period(t["created_at"], start, end) or t["customer_id"] is None:
            continue
        g = ctx.agent_of_row(t)
        seen.setdefault(g, set()).add(t["customer_id"])
        gap = gaps.get(id(t))
        if gap is not None and gap <= window:
            repeat.setdefault(g, set()).add(t["customer_id"])
    return {g: pct(len(repeat.get(g, ())), len(seen[g])) for g in seen}


def next_issue_avoidance(ctx, start, end):
    """100 - next_issue_rate (null stays null)."""
    rate = next_issue_rate(ctx, start, end)
    return {g: (None if v is None else 100 - v) for g, v in rate.items()}


def help_center_effectiveness(ctx, start, end):
    """tickets solved in the period with help_center_resolvable true /
    tickets solved in the period x 100 (null = not resolvable)."""
    yes, n = {}, {}
    for t in ctx.rows("tickets"):
        if in_period(t["solved_at"], start, end):
            g = ctx.agent_of_row(t)
            bump(n, g)
            if t["help_center_resolvable"] is True:
                bump(yes, g)
    return {g: pct(yes.get(g, 0), n[g]) for g in n}


# ---------------------------------------------------------------------------
# Quality (qa_reviews: reviewed_at in the period)
# ---------------------------------------------------------------------------

def _qa_mean(ctx, start, end, channel):
    """Mean score of qa_reviews with channel == `channel` (the review's own
    channel column, exact match) reviewed in the period."""
    total, n = {}, {}
    for r in ctx.rows("qa_reviews"):
        if r["channel"] == channel and in_period(r["reviewed_at"], start, end) \
                and r["score"] is not None:
            g = ctx.agent_of_row(r)
            bump(total, g, r["score"])
            bump(n, g)
    return means(total, n)


def call_quality_score(ctx, start, end):
    """Mean QA score of reviews with channel == "phone"."""
    return _qa_mean(ctx, start, end, "phone")


def email_quality_score(ctx, start, end):
    """Mean QA score of reviews with channel == "email"."""
    return _qa_mean(ctx, start, end, "email")


def chat_quality_score(ctx, start, end):
    """Mean QA score of reviews with channel == "chat"."""
    return _qa_mean(ctx, start, end, "chat")


# ---------------------------------------------------------------------------
# Customers and revenue (never grouped)
# ---------------------------------------------------------------------------

def _active_customers(ctx, instant):
    """Customers open at `instant` by [created_at, churned_at)."""
    return [c for c in ctx.rows("customers")
            if open_at(c["created_at"], c["churned_at"], instant)]


def customer_retention_rate(ctx, start, end):
    """(active at period end - customers with created_at in the period) /
    active at period start x 100.  "Acquired" counts every customer created
    in the period, including ones that already churned again."""
    at_end = len(_active_customers(ctx, end))
    at_start = len(_active_customers(ctx, start))
    acquired = sum(1 for c in ctx.rows("customers")
                   if in_period(c["created_at"], start, end))
    return {ALL: pct(at_end - acquired, at_start)}


def customer_churn_rate(ctx, start, end):
    """customers with churned_at in the period (whenever they were created) /
    active at period start x 100."""
    churned = sum(1 for c in ctx.rows("customers")
                  if in_period(c["churned_at"], start, end))
    return {ALL: pct(churned, len(_active_customers(ctx, start)))}


def premium_user_share(ctx, start, end):
    """premium customers among those active at period end / active at period
    end x 100 ("premium customers" read as premium AND active at end)."""
    active = _active_customers(ctx, end)
    premium = sum(1 for c in active if c["premium"] is True)
    return {ALL: pct(premium, len(active))}


def loyal_customer_rate(ctx, start, end):
    """active at period end with tenure >= params.loyalty_months / active at
    period end x 100.  Tenure in calendar months: created_at (local wall
    time in the project zone) + loyalty_months months (day clamped to the
    month's end) <= period end."""
    active = _active_customers(ctx, end)
    months = int(ctx.params["loyalty_months"])
    loyal = 0
    for c in active:
        created_local = from_micros(c["created_at"], ctx.zone).replace(tzinfo=None)
        if local_to_micros(add_months(created_local, months), ctx.zone) <= end:
            loyal += 1
    return {ALL: pct(loyal, len(active))}


def _mrr_at(ctx, instant):
    """Sum of every mrr_delta with at < instant (0 when none)."""
    return sum(e["mrr_delta"] for e in ctx.rows("subscription_events")
               if e["at"] is not None and e["at"] < instant
               and e["mrr_delta"] is not None)


def _mrr_sum(ctx, start, end, kind):
    """Sum of mrr_delta (as recorded, sign kept) of events with `at` in the
    period and kind == `kind` (None = every kind).  0 when none."""
    total = 0
    for e in ctx.rows("subscription_events"):
        if in_period(e["at"], start, end) and e["mrr_delta"] is not None \
                and (kind is None or e["kind"] == kind):
            total += e["mrr_delta"]
    return total


def mrr(ctx, start, end):
    """MRR at period end: sum of all mrr_delta with at < period end."""
    return {ALL: _mrr_at(ctx, end)}


def new_mrr(ctx, start, end):
    """Sum of mrr_delta of kind "new" in the period."""
    return {ALL: _mrr_sum(ctx, start, end, "new")}


def expansion_mrr(ctx, start, end):
    """Sum of mrr_delta of kind "expansion" in the period."""
    return {ALL: _mrr_sum(ctx, start, end, "expansion")}


def contraction_mrr(ctx, start, end):
    """Sum of mrr_delta of kind "contraction" in the period, sign as recorded
    (normally negative)."""
    return {ALL: _mrr_sum(ctx, start, end, "contraction")}


def churned_mrr(ctx, start, end):
    """Sum of mrr_delta of kind "churn" in the period, sign as recorded
    (normally negative)."""
    return {ALL: _mrr_sum(ctx, start, end, "churn")}


def net_new_mrr(ctx, start, end):
    """Sum of mrr_delta of every kind (reactivation included) in the
    period."""
    return {ALL: _mrr_sum(ctx, start, end, None)}


def mrr_growth_rate(ctx, start, end):
    """net_new_mrr / MRR at period start x 100 (MRR at start = sum of
    mrr_delta with at < start).  Zero MRR at start -> null."""
    return {ALL: pct(_mrr_sum(ctx, start, end, None), _mrr_at(ctx, start))}


def net_revenue_retention(ctx, start, end):
    """(MRR at start + expansion - |contraction| - |churn|) / MRR at start
    x 100, where expansion/contraction/churn are the period's sums by kind
    and "as positive amounts" is read as the absolute value of each sum."""
    base = _mrr_at(ctx, start)
    expansion = _mrr_sum(ctx, start, end, "expansion")
    contraction = abs(_mrr_sum(ctx, start, end, "contraction"))
    churn = abs(_mrr_sum(ctx, start, end, "churn"))
    return {ALL: pct(base + expansion - contraction - churn, base)}


def revenue_churn_rate(ctx, start, end):
    """(|churned MRR| + |contraction MRR|) / MRR at start x 100: the amounts
    taken as positive, as in net_revenue_retention, so the rate is >= 0."""
    base = _mrr_at(ctx, start)
    lost = abs(_mrr_sum(ctx, start, end, "churn")) \
        + abs(_mrr_sum(ctx, start, end, "contraction"))
    return {ALL: pct(lost, base)}


def customer_lifetime_value(ctx, start, end):
    """(MRR at period end / customers active at period end) x
    params.gross_margin / (customer_churn_rate / 100).  Null when there are
    no active customers at end, or churn rate is null or 0."""
    active = len(_active_customers(ctx, end))
    churn = customer_churn_rate(ctx, start, end)[ALL]
    if not active or not churn:
        return {ALL: None}
    return {ALL: _mrr_at(ctx, end) / active * ctx.params["gross_margin"]
            / (churn / 100)}


def _finance_sum(ctx, start, end, kind):
    """Sum of amount of finance rows with kind == `kind` and `at` in the
    period (0 when none)."""
    return sum(f["amount"] for f in ctx.rows("finance")
               if f["kind"] == kind and in_period(f["at"], start, end)
               and f["amount"] is not None)


def total_revenue(ctx, start, end):
    """Sum of amount of kind "revenue" in the period."""
    return {ALL: _finance_sum(ctx, start, end, "revenue")}


def support_cost_ratio(ctx, start, end):
    """support_cost / revenue x 100, both sums over the period."""
    return {ALL: pct(_finance_sum(ctx, start, end, "support_cost"),
                     _finance_sum(ctx, start, end, "revenue"))}


def cost_per_ticket(ctx, start, end):
    """support_cost in the period / tickets with solved_at in the period.
    Zero tickets -> null."""
    solved = sum(1 for t in ctx.rows("tickets")
                 if in_period(t["solved_at"], start, end))
    cost = _finance_sum(ctx, start, end, "support_cost")
    return {ALL: (cost / solved if solved else None)}


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

def employee_engagement(ctx, start, end):
    """eNPS: % of enps_score 9-10 - % of 0-6 over employee_surveys created
    in the period with a non-null score."""
    pairs = [(ALL, s["enps_score"]) for s in ctx.rows("employee_surveys")
             if in_period(s["created_at"], start, end)
             and s["enps_score"] is not None]
    return _net_score(pairs) or {ALL: None}


# ---------------------------------------------------------------------------
# Registry: id, function, tables read, empty value, groupable by agent
# ---------------------------------------------------------------------------

COUNT, VALUE = 0, None  # what a group with no rows shows

METRICS = [
    # id, function, tables, empty, agent-groupable
    ("first_response_time", first_response_time, ["tickets"], VALUE, True),
    ("average_response_time", average_response_time, ["messages"], VALUE, True),
    ("average_handle_time", average_handle_time, ["calls"], VALUE, True),
    ("resolution_time", resolution_time, ["tickets"], VALUE, True),
    ("queue_time", queue_time, ["tickets"], VALUE, True),
    ("average_speed_of_answer", average_speed_of_answer, ["calls"], VALUE, True),
    ("average_wait_time_phone", average_wait_time_phone, ["calls"], VALUE, True),
    ("average_resolution_time_email", average_resolution_time_email, ["tickets"], VALUE, True),
    ("average_response_time_chat", average_response_time_chat, ["messages", "tickets"], VALUE, True),
    ("csat", csat, ["surveys"], VALUE, True),
    ("csat_average", csat_average, ["surveys"], VALUE, True),
    ("nps", nps, ["surveys"], VALUE, True),
    ("ces", ces, ["surveys"], VALUE, True),
    ("ticket_handling_time", ticket_handling_time, ["tickets"], VALUE, True),
    ("tickets_resolved", tickets_resolved, ["tickets"], COUNT, True),
    ("calls_per_hour", calls_per_hour, ["calls", "agent_shifts"], VALUE, True),
    ("touches_per_ticket", touches_per_ticket, ["messages", "tickets"], VALUE, True),
    ("sla_compliance", sla_compliance, ["tickets"], VALUE, True),
    ("first_response_sla_compliance", first_response_sla_compliance, ["tickets"], VALUE, True),
    ("sla_breach_rate", sla_breach_rate, ["tickets"], VALUE, True),
    ("backlog", backlog, ["tickets"], COUNT, True),
    ("first_contact_resolution", first_contact_resolution, ["tickets"], VALUE, True),
    ("resolved_second_contact", resolved_second_contact, ["tickets"], COUNT, True),
    ("resolved_third_contact", resolved_third_contact, ["tickets"], COUNT, True),
    ("unresolved", unresolved, ["tickets"], COUNT, True),
    ("escalation_rate", escalation_rate, ["tickets"], VALUE, True),
    ("next_issue_rate", next_issue_rate, ["tickets"], VALUE, True),
    ("next_issue_avoidance", next_issue_avoidance, ["tickets"], VALUE, True),
    ("help_center_effectiveness", help_center_effectiveness, ["tickets"], VALUE, True),
    ("call_quality_score", call_quality_score, ["qa_reviews"], VALUE, True),
    ("email_quality_score", email_quality_score, ["qa_reviews"], VALUE, True),
    ("chat_quality_score", chat_quality_score, ["qa_reviews"], VALUE, True),
    ("customer_retention_rate", customer_retention_rate, ["customers"], VALUE, False),
    ("customer_churn_rate", customer_churn_rate, ["customers"], VALUE, False),
    ("premium_user_share", premium_user_share, ["customers"], VALUE, False),
    ("loyal_customer_rate", loyal_customer_rate, ["customers"], VALUE, False),
    ("mrr", mrr, ["subscription_events"], VALUE, False),
    ("new_mrr", new_mrr, ["subscription_events"], VALUE, False),
    ("expansion_mrr", expansion_mrr, ["subscription_events"], VALUE, False),
    ("contraction_mrr", contraction_mrr, ["subscription_events"], VALUE, False),
    ("churned_mrr", churned_mrr, ["subscription_events"], VALUE, False),
    ("net_new_mrr", net_new_mrr, ["subscription_events"], VALUE, False),
    ("mrr_growth_rate", mrr_growth_rate, ["subscription_events"], VALUE, False),
    ("net_revenue_retention", net_revenue_retention, ["subscription_events"], VALUE, False),
    ("revenue_churn_rate", revenue_churn_rate, ["subscription_events"], VALUE, False),
    ("customer_lifetime_value", customer_lifetime_value, ["subscription_events", "customers"], VALUE, False),
    ("total_revenue", total_revenue, ["finance"], VALUE, False),
    ("support_cost_ratio", support_cost_ratio, ["finance"], VALUE, False),
    ("cost_per_ticket", cost_per_ticket, ["finance", "tickets"], VALUE, False),
    ("employee_engagement", employee_engagement, ["employee_surveys"], VALUE, False),
]
METRIC_IDS = [m[0] for m in METRICS]


def agent_groups(ctx, tables):
    """Dense grid choice: the agent groups of a metric are every distinct
    agent value (null included) over ALL rows of the tables it reads (no
    period or range filter).  messages contribute their own agent_id."""
    groups = set()
    for table in tables:
        for row in ctx.rows(table):
            if table == "messages":
                groups.add(ctx.agent_of_message(row))
            else:
                groups.add(row["agent_id"])
    return groups


def group_sort_key(g):
    return (g is None, "" if g is None else str(g))


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def set_param(params, assignment):
    """--param name=value or --param sla_resolution.urgent=4h."""
    name, _, value = assignment.partition("=")
    key, _, sub = name.partition(".")
    if key not in DEFAULT_PARAMS:
        raise SystemExit(f"unknown param {key!r}")
    parsed = parse_duration(value) if key in DURATION_PARAMS else float(value)
    if sub:
        params[key][sub] = parsed
    else:
        params[key] = parsed


def load_tables(data_dir, zone):
    tables = {}
    for table in SCHEMA:
        path = os.path.join(data_dir, table + ".csv")
        if os.path.exists(path):
            tables[table] = load_table(path, table, zone)
    return tables


def data_span(tables):
    instants = [row[TIME_COLUMN[t]] for t, rows in tables.items() for row in rows
                if row[TIME_COLUMN[t]] is not None]
    if not instants:
        raise SystemExit("no data and no --from/--to")
    return min(instants), max(instants)


def compute(tables, zone, period, from_us, to_us, by_agent=False,
            metrics=None, params=None, week_start=0):
    """All rows of the long output, in order period, group, metric."""
    params = params if params is not None else copy_params(DEFAULT_PARAMS)
    ctx = Context(tables, params, zone, by_agent)
    if from_us is None or to_us is None:
        lo, hi = data_span(tables)
        if period == "all":
            lo_day = from_micros(lo, zone).replace(tzinfo=None)
            hi_day = from_micros(hi, zone).replace(tzinfo=None)
            lo_start = floor_local(lo_day, "day", week_start)
            hi_end = floor_local(hi_day, "day", week_start) + timedelta(days=1)
        else:
            lo_start = floor_local(from_micros(lo, zone).replace(tzinfo=None),
                                   period, week_start)
            hi_end = next_local(floor_local(
                from_micros(hi, zone).replace(tzinfo=None), period, week_start),
                period)
        if from_us is None:
            from_us = local_to_micros(lo_start, zone)
        if to_us is None:
            to_us = local_to_micros(hi_end, zone)
    periods = make_periods(from_us, to_us, period, zone, week_start)

    wanted = metrics or METRIC_IDS
    chosen = []
    for mid in wanted:
        entry = next((m for m in METRICS if m[0] == mid), None)
        if entry is None:
            raise SystemExit(f"unknown metric {mid!r}")
        _, fn, needs, empty, groupable = entry
        missing = [t for t in needs if t not in tables]
        if missing:
            print(f"skipped {mid}: no table {', '.join(missing)}", file=sys.stderr)
            continue
        if by_agent and not groupable:
            print(f"skipped {mid}: not grouped by agent here", file=sys.stderr)
            continue
        groups = agent_groups(ctx, needs) if by_agent else {ALL}
        chosen.append((mid, fn, empty, groups))

    out = []
    for p_index, (start, end) in enumerate(periods):
        for m_index, (mid, fn, empty, groups) in enumerate(chosen):
            values = fn(ctx, start, end)
            for g in groups:
                value = values.get(g, empty)
                row = {
                    "period_start": iso(start, zone),
                    "period_end": iso(end, zone),
                }
                if by_agent:
                    row["agent"] = g
                row["metric"] = mid
                row["value"] = value
                out.append(((p_index, group_sort_key(g), m_index), row))
    out.sort(key=lambda pair: pair[0])
    return [row for _, row in out]


def copy_params(params):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in params.items()}


def iso(us, zone):
    dt = from_micros(us, zone)
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("--timezone", default="UTC")
    ap.add_argument("--period", default="month",
                    choices=["day", "week", "month", "quarter", "year", "all"])
    ap.add_argument("--from", dest="frm")
    ap.add_argument("--to")
    ap.add_argument("--by", choices=["agent"])
    ap.add_argument("--week-start", default="monday", choices=WEEKDAYS)
    ap.add_argument("--metrics", help="comma-separated ids (default: all)")
    ap.add_argument("--param", action="append", default=[],
                    help="name=value, or map.key=duration")
    args = ap.parse_args(argv)

    zone = ZoneInfo(args.timezone)
    params = copy_params(DEFAULT_PARAMS)
    for assignment in args.param:
        set_param(params, assignment)
    tables = load_tables(args.data_dir, zone)
    rows = compute(
        tables, zone, args.period,
        parse_bound(args.frm, zone) if args.frm else None,
        parse_bound(args.to, zone) if args.to else None,
        by_agent=args.by == "agent",
        metrics=args.metrics.split(",") if args.metrics else None,
        params=params,
        week_start=WEEKDAYS.index(args.week_start),
    )
    json.dump(rows, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
