"""Hand-computed micro cases for catalog.py.

Run from the workspace root:  python3 -m unittest discover -s tests/independent
(or: cd tests/independent && python3 -m unittest test_catalog)
"""

import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "catalog.py")
_spec = importlib.util.spec_from_file_location("catalog", SCRIPT)
catalog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalog)

NY = "America/New_York"

TICKET_COLS = ["id", "created_at", "assigned_at", "first_response_at",
               "solved_at", "status", "channel", "priority", "agent_id",
               "team", "customer_id", "escalated", "reopened", "contacts",
               "handle_time", "help_center_resolvable"]


def ticket(**kw):
    row = {"status": "open", "channel": "email", "priority": "normal",
           "customer_id": "c1", "escalated": "false", "reopened": "false"}
    row.update(kw)
    return row


def write_csv(directory, table, columns, rows):
    with open(os.path.join(directory, table + ".csv"), "w", newline="") as f:
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(",".join(str(r.get(c, "")) for c in columns) + "\n")


class Case(unittest.TestCase):
    """Helpers: run the catalog on CSV tables written to a temp dir."""

    def run_catalog(self, files, *, frm="2026-01-01", to="2026-05-01",
                    period="month", by=None, metrics=None, tz=NY, params=None):
        with tempfile.TemporaryDirectory() as d:
            for table, (cols, rows) in files.items():
                write_csv(d, table, cols, rows)
            zone = ZoneInfo(tz)
            tables = catalog.load_tables(d, zone)
            p = catalog.copy_params(catalog.DEFAULT_PARAMS)
            for a in params or []:
                catalog.set_param(p, a)
            return catalog.compute(
                tables, zone, period,
                catalog.parse_bound(frm, zone), catalog.parse_bound(to, zone),
                by_agent=(by == "agent"), metrics=metrics, params=p)

    @staticmethod
    def values(rows, metric, agent="__none__"):
        return [r["value"] for r in rows if r["metric"] == metric
                and (agent == "__none__" or r.get("agent") == agent)]


class Satisfaction(Case):
    COLS = ["id", "created_at", "kind", "score", "agent_id"]

    def test_csat_skips_null_score(self):
        rows = [{"id": i, "created_at": "2026-01-10 12:00", "kind": "csat",
                 "score": s} for i, s in enumerate([5, 4, 3, ""])]
        out = self.run_catalog({"surveys": (self.COLS, rows)},
                               metrics=["csat", "csat_average"])
        jan = [r for r in out if r["period_start"].startswith("2026-01")]
        self.assertAlmostEqual(self.values(jan, "csat")[0], 200 / 3)
        self.assertAlmostEqual(self.values(jan, "csat")[0], 66.67, places=2)
        self.assertAlmostEqual(self.values(jan, "csat_average")[0], 4.0)
        # February: no responses -> null, not 0
        self.assertIsNone(self.values(out, "csat")[1])

    def test_nps(self):
        rows = [{"id": i, "created_at": "2026-02-01 00:00", "kind": "nps",
                 "score": s} for i, s in enumerate([10, 9, 7, 3])]
        # a csat row must not leak in
        rows.append({"id": 99, "created_at": "2026-02-02", "kind": "csat",
                     "score": 1})
        out = self.run_catalog({"surveys": (self.COLS, rows)}, metrics=["nps"])
        self.assertEqual(self.values(out, "nps"), [None, 25.0, None, None])

    def test_ces_as_recorded(self):
        rows = [{"id": i, "created_at": "2026-03-03", "kind": "ces",
                 "score": s} for i, s in enumerate([2, 7])]
        out = self.run_catalog({"surveys": (self.COLS, rows)}, metrics=["ces"])
        self.assertEqual(self.values(out, "ces")[2], 4.5)

    def test_enps(self):
        cols = ["id", "agent_id", "created_at", "enps_score"]
        rows = [{"id": i, "agent_id": "a", "created_at": "2026-01-05",
                 "enps_score": s} for i, s in enumerate([9, 6, 6, 8, 10])]
        out = self.run_catalog({"employee_surveys": (cols, rows)},
                               metrics=["employee_engagement"])
        self.assertAlmostEqual(self.values(out, "employee_engagement")[0], 0.0)


class Tickets(Case):
    def test_first_response_time_excludes_null(self):
        rows = [
            ticket(id=1, created_at="2026-01-05 09:00",
                   first_response_at="2026-01-05 09:10"),       # 600 s
            ticket(id=2, created_at="2026-01-05 10:00",
                   first_response_at="2026-01-05 10:30:00"),    # 1800 s
            ticket(id=3, created_at="2026-01-06 10:00"),        # no response
            # created in December: not in January even though answered then
            ticket(id=4, created_at="2025-12-31 23:00",
                   first_response_at="2026-01-01 01:00"),
        ]
        out = self.run_catalog({"tickets": (TICKET_COLS, rows)},
                               metrics=["first_response_time",
                                        "first_response_sla_compliance"])
        self.assertEqual(self.values(out, "first_response_time")[0], 1200.0)
        # 3 created in January, 2 answered within 24h (normal)
        self.assertAlmostEqual(
            self.values(out, "first_response_sla_compliance")[0], 200 / 3)

    def test_backlog_at_month_end(self):
        rows = [
            ticket(id=1, created_at="2026-01-10", solved_at="2026-01-20"),
            ticket(id=2, created_at="2026-01-10", solved_at="2026-02-03"),
            ticket(id=3, created_at="2026-01-31 23:59"),
            # solved exactly at the February boundary (local midnight): not
            # open at the end of January's instant, since [created, solved)
            ticket(id=4, created_at="2026-01-15", solved_at="2026-02-01 00:00"),
            # created exactly at Feb 1 00:00 local: open at that instant
            ticket(id=5, created_at="2026-02-01T05:00:00Z"),
            ticket(id=6, created_at="2026-03-15", solved_at="2026-03-16"),
        ]
        out = self.run_catalog({"tickets": (TICKET_COLS, rows)},
                               metrics=["backlog", "unresolved",
                                        "tickets_resolved"])
        # Jan end: 2, 3, 5 open.  Feb end: 3, 5.  Mar end: 3, 5.  Apr: 3, 5
        self.assertEqual(self.values(out, "backlog"), [3, 2, 2, 2])
        self.assertEqual(self.values(out, "unresolved"), [3, 2, 2, 2])
        self.assertEqual(self.values(out, "tickets_resolved"), [1, 2, 1, 0])

    def test_resolution_sla_and_breach(self):
        rows = [
            # urgent: 8h limit; solved after 9h -> breach (resolution)
            ticket(id=1, priority="urgent", created_at="2026-01-05 00:00",
                   first_response_at="2026-01-05 00:05",
                   solved_at="2026-01-05 09:00", contacts=1,
                   help_center_resolvable="yes", handle_time="1:00:00"),
            # normal: 48h limit; 2h -> ok, but first response 30m > 20m
            ticket(id=2, priority="normal", created_at="2026-01-06 00:00",
                   first_response_at="2026-01-06 00:30",
                   solved_at="2026-01-06 02:00", contacts=2,
                   help_center_resolvable="", handle_time="30m"),
            # low: 96h; no first response, 1h -> ok, no breach
            ticket(id=3, priority="low", created_at="2026-01-07 00:00",
                   solved_at="2026-01-07 01:00", contacts="",
                   help_center_resolvable="0", handle_time=""),
        ]
        out = self.run_catalog(
            {"tickets": (TICKET_COLS, rows)},
            metrics=["resolution_time", "sla_compliance", "sla_breach_rate",
                     "first_contact_resolution", "resolved_second_contact",
                     "help_center_effectiveness", "ticket_handling_time",
                     "average_resolution_time_email"])
        jan = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-01")}
        self.assertEqual(jan["resolution_time"], (9 + 2 + 1) * 3600 / 3)
        self.assertEqual(jan["average_resolution_time_email"], 4 * 3600)
        self.assertAlmostEqual(jan["sla_compliance"], 200 / 3)
        self.assertAlmostEqual(jan["sla_breach_rate"], 200 / 3)
        self.assertEqual(jan["first_contact_resolution"], 50.0)
        self.assertEqual(jan["resolved_second_contact"], 1)
        self.assertAlmostEqual(jan["help_center_effectiveness"], 100 / 3)
        self.assertEqual(jan["ticket_handling_time"], (3600 + 1800) / 2)

    def test_next_issue_rate_looks_before_period(self):
        rows = [
            ticket(id=1, customer_id="a", created_at="2025-12-28"),
            ticket(id=2, customer_id="a", created_at="2026-01-03"),  # 6d: repeat
            ticket(id=3, customer_id="b", created_at="2026-01-03"),
            ticket(id=4, customer_id="b", created_at="2026-01-10 00:00"),  # 7d exactly: repeat
            ticket(id=5, customer_id="c", created_at="2026-01-03"),
            ticket(id=6, customer_id="d", created_at="2026-01-03"),
            ticket(id=7, customer_id="d", created_at="2026-01-20"),  # 17d: no
        ]
        out = self.run_catalog({"tickets": (TICKET_COLS, rows)},
                               metrics=["next_issue_rate",
                                        "next_issue_avoidance"])
        self.assertEqual(self.values(out, "next_issue_rate")[0], 50.0)
        self.assertEqual(self.values(out, "next_issue_avoidance")[0], 50.0)
        self.assertIsNone(self.values(out, "next_issue_rate")[1])

    def test_by_agent_dense_grid(self):
        rows = [
            ticket(id=1, agent_id="ann", created_at="2026-01-05",
                   escalated="true"),
            ticket(id=2, agent_id="ann", created_at="2026-01-06"),
            ticket(id=3, agent_id="bob", created_at="2026-02-06",
                   solved_at="2026-02-07"),
        ]
        out = self.run_catalog({"tickets": (TICKET_COLS, rows)}, by="agent",
                               metrics=["escalation_rate", "tickets_resolved"])
        jan = [r for r in out if r["period_start"].startswith("2026-01")]
        self.assertEqual(self.values(jan, "escalation_rate", "ann"), [50.0])
        self.assertEqual(self.values(jan, "escalation_rate", "bob"), [None])
        self.assertEqual(self.values(jan, "tickets_resolved", "bob"), [0])
        feb = [r for r in out if r["period_start"].startswith("2026-02")]
        self.assertEqual(self.values(feb, "tickets_resolved", "bob"), [1])
        # ordered by period, then group, then metric
        self.assertEqual([(r["agent"], r["metric"]) for r in jan],
                         [("ann", "escalation_rate"), ("ann", "tickets_resolved"),
                          ("bob", "escalation_rate"), ("bob", "tickets_resolved")])


class Messages(Case):
    MSG_COLS = ["id", "ticket_id", "created_at", "author_role", "agent_id"]

    def test_response_time_pairs_and_touches(self):
        tickets = [
            ticket(id="t1", channel="chat", agent_id="ann",
                   created_at="2026-01-31 23:00", solved_at="2026-02-02"),
            ticket(id="t2", channel="email", agent_id="bob",
                   created_at="2026-02-01 10:00", solved_at="2026-02-01 12:00"),
        ]
        msgs = [
            # t1: customer 23:50 Jan 31, agent 00:10 Feb 1 -> 1200 s in Feb
            {"id": 1, "ticket_id": "t1", "created_at": "2026-01-31 23:50",
             "author_role": "customer"},
            {"id": 2, "ticket_id": "t1", "created_at": "2026-02-01 00:10",
             "author_role": "agent", "agent_id": "zed"},
            # agent after agent: not a reply to the customer
            {"id": 3, "ticket_id": "t1", "created_at": "2026-02-01 00:20",
             "author_role": "agent"},
            # t2 (file order shuffled): customer 10:00, system 10:01, agent
            # 10:05 (previous is system: not counted), customer 11:00,
            # agent 11:01 -> 60 s
            {"id": 8, "ticket_id": "t2", "created_at": "2026-02-01 11:01",
             "author_role": "agent"},
            {"id": 4, "ticket_id": "t2", "created_at": "2026-02-01 10:00",
             "author_role": "customer"},
            {"id": 5, "ticket_id": "t2", "created_at": "2026-02-01 10:01",
             "author_role": "system"},
            {"id": 6, "ticket_id": "t2", "created_at": "2026-02-01 10:05",
             "author_role": "agent"},
            {"id": 7, "ticket_id": "t2", "created_at": "2026-02-01 11:00",
             "author_role": "customer"},
        ]
        files = {"tickets": (TICKET_COLS, tickets),
                 "messages": (self.MSG_COLS, msgs)}
        metrics = ["average_response_time", "average_response_time_chat",
                   "touches_per_ticket"]
        out = self.run_catalog(files, metrics=metrics)
        feb = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-02")}
        self.assertEqual(feb["average_response_time"], (1200 + 60) / 2)
        self.assertEqual(feb["average_response_time_chat"], 1200.0)
        self.assertEqual(feb["touches_per_ticket"], (2 + 2) / 2)
        by = self.run_catalog(files, metrics=metrics, by="agent")
        feb = [r for r in by if r["period_start"].startswith("2026-02")]
        # grouped by the ticket's agent, not the message's agent_id ("zed")
        self.assertEqual(self.values(feb, "average_response_time", "ann"), [1200.0])
        self.assertEqual(self.values(feb, "average_response_time", "bob"), [60.0])
        self.assertEqual(self.values(feb, "average_response_time", "zed"), [])


class Calls(Case):
    COLS = ["id", "agent_id", "queued_at", "answered_at", "ended_at",
            "talk_time", "hold_time", "wrap_time"]

    def test_call_times_and_calls_per_hour(self):
        calls = [
            {"id": 1, "agent_id": "a", "queued_at": "2026-01-05 09:00:00",
             "answered_at": "2026-01-05 09:00:30", "ended_at": "2026-01-05 09:10",
             "talk_time": "300", "hold_time": "0:01:00", "wrap_time": "1m30s"},
            {"id": 2, "agent_id": "a", "queued_at": "2026-01-05 10:00:00",
             "answered_at": "2026-01-05 10:01:30", "ended_at": "2026-01-05 10:05",
             "talk_time": "100", "hold_time": "0", "wrap_time": "20"},
            # abandoned after 2 minutes: wait counts, not answered
            {"id": 3, "agent_id": "", "queued_at": "2026-01-05 11:00:00",
             "ended_at": "2026-01-05 11:02:00",
             "talk_time": "0", "hold_time": "0", "wrap_time": "0"},
        ]
        shifts = [{"agent_id": "a", "start_at": "2026-01-05 08:00",
                   "end_at": "2026-01-05 12:00"}]
        out = self.run_catalog(
            {"calls": (self.COLS, calls),
             "agent_shifts": (["agent_id", "start_at", "end_at"], shifts)},
            metrics=["average_handle_time", "average_speed_of_answer",
                     "average_wait_time_phone", "calls_per_hour"])
        jan = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-01")}
        self.assertEqual(jan["average_handle_time"], (450 + 120) / 2)
        self.assertEqual(jan["average_speed_of_answer"], (30 + 90) / 2)
        self.assertEqual(jan["average_wait_time_phone"], (30 + 90 + 120) / 2)
        self.assertEqual(jan["calls_per_hour"], 0.5)


class Customers(Case):
    COLS = ["id", "created_at", "churned_at", "plan", "premium"]

    def test_retention_churn_loyalty(self):
        rows = [
            {"id": 1, "created_at": "2024-06-01", "plan": "p", "premium": "y"},
            {"id": 2, "created_at": "2025-02-01", "plan": "p", "premium": "n"},
            {"id": 3, "created_at": "2025-03-01", "churned_at": "2026-01-15",
             "plan": "p", "premium": "n"},
            {"id": 4, "created_at": "2025-12-01", "plan": "p", "premium": "n"},
            {"id": 5, "created_at": "2026-01-10", "plan": "p", "premium": "true"},
        ]
        out = self.run_catalog(
            {"customers": (self.COLS, rows)},
            metrics=["customer_retention_rate", "customer_churn_rate",
                     "premium_user_share", "loyal_customer_rate"])
        jan = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-01")}
        # start: 1,2,3,4 active (4).  end: 1,2,4,5 (4).  acquired: 5.
        self.assertEqual(jan["customer_retention_rate"], (4 - 1) / 4 * 100)
        self.assertEqual(jan["customer_churn_rate"], 25.0)
        self.assertEqual(jan["premium_user_share"], 50.0)
        # tenure >= 12 months at Feb 1: customers 1 and 2 (2025-02-01 + 12m
        # == 2026-02-01, exactly the period end)
        self.assertEqual(jan["loyal_customer_rate"], 50.0)
        # February: no churn -> 0; CLV would be null
        feb = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-02")}
        self.assertEqual(feb["customer_churn_rate"], 0.0)


class Revenue(Case):
    def test_mrr_family(self):
        cols = ["id", "customer_id", "at", "kind", "mrr_delta"]
        ev = [
            {"id": 1, "customer_id": "a", "at": "2025-12-01", "kind": "new", "mrr_delta": 100},
            {"id": 2, "customer_id": "b", "at": "2025-12-02", "kind": "new", "mrr_delta": 100},
            {"id": 3, "customer_id": "a", "at": "2026-01-05", "kind": "expansion", "mrr_delta": 50},
            {"id": 4, "customer_id": "b", "at": "2026-01-06", "kind": "contraction", "mrr_delta": -20},
            {"id": 5, "customer_id": "c", "at": "2026-01-07", "kind": "new", "mrr_delta": 30},
            {"id": 6, "customer_id": "b", "at": "2026-01-20", "kind": "churn", "mrr_delta": -80},
        ]
        cust = [
            {"id": "a", "created_at": "2025-12-01", "plan": "p", "premium": "n"},
            {"id": "b", "created_at": "2025-12-02", "churned_at": "2026-01-20", "plan": "p", "premium": "n"},
            {"id": "c", "created_at": "2026-01-07", "plan": "p", "premium": "n"},
        ]
        fin = [
            {"id": 1, "at": "2026-01-31 23:59:59", "kind": "revenue", "amount": 1000},
            {"id": 2, "at": "2026-01-15", "kind": "support_cost", "amount": 250},
        ]
        tickets = [ticket(id=1, created_at="2026-01-01", solved_at="2026-01-02"),
                   ticket(id=2, created_at="2026-01-01", solved_at="2026-01-03")]
        out = self.run_catalog({
            "subscription_events": (cols, ev),
            "customers": (["id", "created_at", "churned_at", "plan", "premium"], cust),
            "finance": (["id", "at", "kind", "amount"], fin),
            "tickets": (TICKET_COLS, tickets),
        }, metrics=["mrr", "new_mrr", "expansion_mrr", "contraction_mrr",
                    "churned_mrr", "net_new_mrr", "mrr_growth_rate",
                    "net_revenue_retention", "revenue_churn_rate",
                    "customer_lifetime_value", "total_revenue",
                    "support_cost_ratio", "cost_per_ticket"])
        jan = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-01")}
        self.assertEqual(jan["mrr"], 180)
        self.assertEqual(jan["new_mrr"], 30)
        self.assertEqual(jan["expansion_mrr"], 50)
        self.assertEqual(jan["contraction_mrr"], -20)
        self.assertEqual(jan["churned_mrr"], -80)
        self.assertEqual(jan["net_new_mrr"], -20)
        self.assertEqual(jan["mrr_growth_rate"], -10.0)
        self.assertEqual(jan["net_revenue_retention"], (200 + 50 - 20 - 80) / 200 * 100)
        self.assertEqual(jan["revenue_churn_rate"], 50.0)
        # (180 / 2 active) * 0.8 / (1 churned / 2 active at start)
        self.assertAlmostEqual(jan["customer_lifetime_value"], 90 * 0.8 / 0.5)
        self.assertEqual(jan["total_revenue"], 1000)
        self.assertEqual(jan["support_cost_ratio"], 25.0)
        self.assertEqual(jan["cost_per_ticket"], 125.0)
        feb = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-02")}
        self.assertEqual(feb["mrr"], 180)
        self.assertEqual(feb["net_new_mrr"], 0)
        self.assertIsNone(feb["cost_per_ticket"])
        self.assertIsNone(feb["support_cost_ratio"])


class Quality(Case):
    def test_quality_by_channel(self):
        cols = ["id", "agent_id", "channel", "reviewed_at", "score"]
        rows = [
            {"id": 1, "agent_id": "a", "channel": "phone", "reviewed_at": "2026-01-02", "score": 80},
            {"id": 2, "agent_id": "a", "channel": "phone", "reviewed_at": "2026-01-03", "score": 91.5},
            {"id": 3, "agent_id": "b", "channel": "email", "reviewed_at": "2026-01-03", "score": 70},
        ]
        out = self.run_catalog({"qa_reviews": (cols, rows)},
                               metrics=["call_quality_score", "email_quality_score",
                                        "chat_quality_score"])
        jan = {r["metric"]: r["value"] for r in out
               if r["period_start"].startswith("2026-01")}
        self.assertEqual(jan["call_quality_score"], 85.75)
        self.assertEqual(jan["email_quality_score"], 70.0)
        self.assertIsNone(jan["chat_quality_score"])


class TimeHandling(Case):
    def test_values(self):
        ny = ZoneInfo(NY)
        p = catalog.parse_timestamp
        self.assertEqual(p("2026-01-01 00:00", ny), p("2026-01-01T05:00:00Z", ny))
        self.assertEqual(p("2026-07-01T00:00", ny), p("2026-07-01T00:00:00-04:00", ny))
        self.assertEqual(p("2026-01-01", ny), p("2026-01-01 00:00:00.000000", ny))
        self.assertEqual(catalog.parse_duration("1h30m"), 5400)
        self.assertEqual(catalog.parse_duration("1:30:00"), 5400)
        self.assertEqual(catalog.parse_duration("12.5"), 12.5)
        for word in ["true", "YES", "1", "t", "Y"]:
            self.assertIs(catalog.parse_bool(word), True)
        for word in ["false", "No", "0", "f", "n"]:
            self.assertIs(catalog.parse_bool(word), False)

    def test_dst_difference_and_month_bounds(self):
        # Across the spring-forward night (2026-03-08): 01:00 EST -> 04:00 EDT
        # is 2 real hours, not 3 wall-clock hours.
        rows = [ticket(id=1, created_at="2026-03-08 01:00",
                       first_response_at="2026-03-08 04:00")]
        out = self.run_catalog({"tickets": (TICKET_COLS, rows)},
                               metrics=["first_response_time"])
        self.assertEqual(self.values(out, "first_response_time")[2], 7200.0)
        starts = sorted({r["period_start"] for r in out})
        self.assertEqual(starts, ["2026-01-01T00:00:00-05:00",
                                  "2026-02-01T00:00:00-05:00",
                                  "2026-03-01T00:00:00-05:00",
                                  "2026-04-01T00:00:00-04:00"])

    def test_weeks_start_monday(self):
        zone = ZoneInfo("UTC")
        periods = catalog.make_periods(catalog.parse_bound("2026-01-05", zone),
                                       catalog.parse_bound("2026-01-19", zone),
                                       "week", zone, 0)
        self.assertEqual(len(periods), 2)


class EndToEnd(unittest.TestCase):
    """The CLI runs on a random data set with every table and prints valid
    long-format JSON with no NaN or infinity."""

    def test_cli_on_random_data(self):
        rng = random.Random(7)
        with tempfile.TemporaryDirectory() as d:
            make_random_data(d, rng)
            for by in ([], ["--by", "agent"]):
                res = subprocess.run(
                    [sys.executable, SCRIPT, d, "--timezone", NY, "--period",
                     "month", "--from", "2026-01-01", "--to", "2026-05-01"] + by,
                    capture_output=True, text=True, check=True)
                rows = json.loads(res.stdout)
                ids = {r["metric"] for r in rows}
                if by:
                    self.assertIn("tickets_resolved", ids)
                    self.assertNotIn("mrr", ids)
                    self.assertTrue(all("agent" in r for r in rows))
                else:
                    self.assertEqual(ids, set(catalog.METRIC_IDS))
                    self.assertEqual(len(rows), 4 * len(catalog.METRIC_IDS))
                for r in rows:
                    v = r["value"]
                    self.assertTrue(v is None or v == v and abs(v) != float("inf"))


def make_random_data(d, rng):
    """A small random data set covering every canonical table."""
    agents = ["ann", "bob", "cy"]
    def ts(day_lo=-40, day_hi=140):
        base = 1767243600  # 2026-01-01T00:00:00-05:00
        return base + rng.randint(day_lo * 86400, day_hi * 86400)
    def fmt(epoch):
        from datetime import datetime, timezone
        return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    tickets, msgs = [], []
    for i in range(200):
        c = ts()
        t = ticket(id=i, created_at=fmt(c), customer_id=f"c{rng.randint(1, 40)}",
                   channel=rng.choice(["email", "chat", "phone"]),
                   priority=rng.choice(["low", "normal", "high", "urgent"]),
                   agent_id=rng.choice(agents + [""]),
                   escalated=rng.choice(["true", "false"]),
                   contacts=rng.choice(["", 1, 2, 3, 4]),
                   handle_time=rng.choice(["", rng.randint(60, 5000)]),
                   help_center_resolvable=rng.choice(["", "yes", "no"]))
        if rng.random() < 0.8:
            t["first_response_at"] = fmt(c + rng.randint(60, 90000))
            t["assigned_at"] = fmt(c + rng.randint(10, 3000))
        if rng.random() < 0.7:
            t["solved_at"] = fmt(c + rng.randint(600, 500000))
        tickets.append(t)
        at = c
        for j in range(rng.randint(0, 5)):
            at += rng.randint(30, 20000)
            msgs.append({"id": f"{i}-{j}", "ticket_id": i, "created_at": fmt(at),
                         "author_role": rng.choice(["customer", "agent", "system"])})
    write_csv(d, "tickets", TICKET_COLS, tickets)
    write_csv(d, "messages", Messages.MSG_COLS, msgs)
    calls = []
    for i in range(100):
        q = ts()
        row = {"id": i, "agent_id": rng.choice(agents), "queued_at": fmt(q),
               "talk_time": rng.randint(0, 900), "hold_time": rng.randint(0, 90),
               "wrap_time": rng.randint(0, 120), "ended_at": fmt(q + 1000)}
        if rng.random() < 0.8:
            row["answered_at"] = fmt(q + rng.randint(0, 300))
        calls.append(row)
    write_csv(d, "calls", Calls.COLS, calls)
    shifts = [{"agent_id": a, "start_at": fmt(s), "end_at": fmt(s + 8 * 3600)}
              for a in agents for s in (ts() for _ in range(20))]
    write_csv(d, "agent_shifts", ["agent_id", "start_at", "end_at"], shifts)
    surveys = [{"id": i, "created_at": fmt(ts()), "agent_id": rng.choice(agents),
                "kind": k, "score": rng.choice(["", *range(lo, hi + 1)])}
               for i, (k, lo, hi) in enumerate(
                   [("csat", 1, 5), ("nps", 0, 10), ("ces", 1, 5)] * 40)]
    write_csv(d, "surveys", Satisfaction.COLS, surveys)
    qa = [{"id": i, "agent_id": rng.choice(agents), "reviewed_at": fmt(ts()),
           "channel": rng.choice(["phone", "email", "chat"]),
           "score": round(rng.uniform(50, 100), 1)} for i in range(60)]
    write_csv(d, "qa_reviews", ["id", "agent_id", "channel", "reviewed_at", "score"], qa)
    customers, events = [], []
    for i in range(40):
        c = ts(-800, 120)
        row = {"id": f"c{i}", "created_at": fmt(c), "plan": "basic",
               "premium": rng.choice(["yes", "no"])}
        events.append({"id": f"n{i}", "customer_id": f"c{i}", "at": fmt(c),
                       "kind": "new", "mrr_delta": 50})
        if rng.random() < 0.3:
            ch = c + rng.randint(86400, 400 * 86400)
            row["churned_at"] = fmt(ch)
            events.append({"id": f"x{i}", "customer_id": f"c{i}", "at": fmt(ch),
                           "kind": "churn", "mrr_delta": -50})
        customers.append(row)
    for i in range(30):
        kind = rng.choice(["expansion", "contraction"])
        events.append({"id": f"e{i}", "customer_id": f"c{rng.randint(0, 39)}",
                       "at": fmt(ts()), "kind": kind,
                       "mrr_delta": 10 if kind == "expansion" else -10})
    write_csv(d, "customers", Customers.COLS, customers)
    write_csv(d, "subscription_events", ["id", "customer_id", "at", "kind", "mrr_delta"], events)
    fin = [{"id": i, "at": fmt(ts()), "kind": rng.choice(["revenue", "support_cost"]),
            "amount": rng.randint(100, 1000)} for i in range(50)]
    write_csv(d, "finance", ["id", "at", "kind", "amount"], fin)
    emp = [{"id": i, "agent_id": rng.choice(agents), "created_at": fmt(ts()),
            "enps_score": rng.randint(0, 10)} for i in range(40)]
    write_csv(d, "employee_surveys", ["id", "agent_id", "created_at", "enps_score"], emp)


if __name__ == "__main__":
    unittest.main()
