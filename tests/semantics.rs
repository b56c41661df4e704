//! The formula language of DESIGN.md section 4, run end to end through the
//! `kpi` CLI (and once through the library) on small fixtures under
//! tests/fixtures/semantics/. Every expected value is worked out by hand in
//! the comment next to it, from the fixture's data files.

use crate::common::{csv_rows, fixture, kpi, Out};

/// Runs `kpi run ARGS` on fixture `semantics/NAME`.
fn kpi_run(name: &str, args: &[&str]) -> Out {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    kpi(&format!("semantics/{name}"), &all)
}

/// `kpi run ARGS --format csv` on a fixture: asserts exit 0, returns the
/// header and the data rows.
fn run_csv(name: &str, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut all = args.to_vec();
    all.extend(["--format", "csv"]);
    let out = kpi_run(name, &all);
    assert_eq!(out.code, 0, "kpi run {all:?} failed:\n{}", out.stderr);
    let mut rows = csv_rows(&out.stdout);
    assert!(!rows.is_empty(), "no CSV header in {:?}", out.stdout);
    let header = rows.remove(0);
    (header, rows)
}

/// Compares a printed value with the expected one: `""` is "no data";
/// numbers compare with a relative tolerance of 1e-9 (5.1 may print as
/// 5.1000000000000005), so the test is about the arithmetic, not the digits.
fn same(got: &str, want: &str, ctx: &str) {
    if want.is_empty() || got.is_empty() {
        assert_eq!(got, want, "{ctx}");
        return;
    }
    let g: f64 = got
        .parse()
        .unwrap_or_else(|_| panic!("{ctx}: `{got}` is not a number"));
    let w: f64 = want.parse().expect("expected value is a number");
    assert!(
        (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        "{ctx}: got {got}, want {want}"
    );
}

/// Runs the metrics of `want` (in that order) without grouping and checks
/// the whole grid: one row per period (`periods` are period_start values)
/// and metric, in period order then metric order; `want` gives each
/// metric's value per period.
fn check_grid(name: &str, extra: &[&str], periods: &[&str], want: &[(&str, &[&str])]) {
    let mut args: Vec<&str> = want.iter().map(|w| w.0).collect();
    args.extend_from_slice(extra);
    let (header, rows) = run_csv(name, &args);
    assert_eq!(
        header,
        ["period_start", "period_end", "metric", "value", "unit"]
    );
    assert_eq!(
        rows.len(),
        periods.len() * want.len(),
        "one row per period and metric:\n{rows:?}"
    );
    let mut it = rows.iter();
    for (p, start) in periods.iter().enumerate() {
        for (metric, values) in want {
            let r = it.next().expect("row");
            assert_eq!(&r[0], start, "period order");
            assert_eq!(&r[2], metric, "metric order in {start}");
            same(&r[3], values[p], &format!("{metric} in {start}"));
        }
    }
}

/// Rows projected to `(period_start, group..., metric, value)` strings.
fn project(rows: &[Vec<String>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|r| {
            let n = r.len();
            // period_start, dims..., metric, value (drop period_end and unit).
            let mut v = vec![r[0].as_str()];
            v.extend(r[2..n - 1].iter().map(String::as_str));
            v
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Aggregates (fixture `aggregates`, UTC).
//
// tickets.csv, by created_at month:
//   Jan: #1 c1 contacts 1, handle 600 s,     first response +30m,  escalated
//        #2 c2 contacts 2, handle 0:20:00,   first response +1h
//        #3 c1 contacts -, handle -,         no first response
//        #4 c3 contacts 3, handle 1h30m,     first response +10m,  escalated
//        #5 c2 contacts 6, handle 45m,       first response +2h
//   Feb: #6 c4, #7 c4: no contacts, no handle time, no first response
//   Mar: nothing
//   Apr: #8 c5 contacts 4, handle 120 s, first response +15m
// ---------------------------------------------------------------------------

#[test]
fn every_aggregate_kind() {
    // Jan contacts (nulls skipped) = [1, 2, 3, 6]:
    //   count(T: contacts) = 4, sum 12, avg 12/4 = 3, min 1, max 6,
    //   median (2 + 3) / 2 = 2.5,
    //   p90: rank 0.9 * (4 - 1) = 2.7 -> 3 + 0.7 * (6 - 3) = 5.1,
    //   p25: rank 0.25 * 3 = 0.75 -> 1 + 0.75 * (2 - 1) = 1.75,
    //   sum(contacts * 0.5) = 6.
    // Jan customers {c1, c2, c3} = 3; Feb {c4} = 1; Mar none = 0.
    // Feb has rows but no contacts: the count of values and the sum are 0,
    // avg/min/max/median/percentile of no values are null.
    // Mar has no rows at all: counts 0, means null (dense grid).
    // Apr: one value 4, so every statistic of it is 4.
    check_grid(
        "aggregates",
        &[],
        &[
            "2026-01-01T00:00:00+00:00",
            "2026-02-01T00:00:00+00:00",
            "2026-03-01T00:00:00+00:00",
            "2026-04-01T00:00:00+00:00",
        ],
        &[
            ("n", &["5", "2", "0", "1"]),
            ("escalations", &["2", "0", "0", "0"]),
            ("with_contacts", &["4", "0", "0", "1"]),
            ("contacts_sum", &["12", "0", "0", "4"]),
            ("contacts_avg", &["3", "", "", "4"]),
            ("contacts_min", &["1", "", "", "4"]),
            ("contacts_max", &["6", "", "", "4"]),
            ("contacts_median", &["2.5", "", "", "4"]),
            ("contacts_p90", &["5.1", "", "", "4"]),
            ("contacts_p25", &["1.75", "", "", "4"]),
            ("half_contacts_sum", &["6", "0", "0", "2"]),
            ("customers", &["3", "1", "0", "1"]),
        ],
    );
}

#[test]
fn duration_aggregates_and_units() {
    // Jan handle times: 600 s + 0:20:00 (1200 s) + 1h30m (5400 s) + 45m
    // (2700 s) = 9900 s = 2.75 h; avg 9900 / 4 = 2475 s = 41.25 min.
    // Apr: 120 s; avg 2 min.
    // First response (first_response_at - created_at), Jan:
    //   [30m, 1h, 10m, 2h] = [1800, 3600, 600, 7200] s:
    //   avg 13200 / 4 = 3300 s = 55 min; median (1800 + 3600) / 2 = 2700 s
    //   = 45 min; min 600 s (no unit: seconds); max 7200 s = 2 h;
    //   p90 rank 2.7 over [10, 30, 60, 120] min -> 60 + 0.7 * 60 = 102 min.
    // Apr: 15 min = 900 s = 0.25 h.
    let periods = [
        "2026-01-01T00:00:00+00:00",
        "2026-02-01T00:00:00+00:00",
        "2026-03-01T00:00:00+00:00",
        "2026-04-01T00:00:00+00:00",
    ];
    check_grid(
        "aggregates",
        &[],
        &periods,
        &[
            ("handle_sum", &["9900", "0", "0", "120"]),
            ("handle_sum_h", &["2.75", "0", "0", "0.0333333333333333333"]),
            ("handle_avg_min", &["41.25", "", "", "2"]),
            ("frt_avg_min", &["55", "", "", "15"]),
            ("frt_median_min", &["45", "", "", "15"]),
            ("frt_min_s", &["600", "", "", "900"]),
            ("frt_max_h", &["2", "", "", "0.25"]),
            ("frt_p90_min", &["102", "", "", "15"]),
        ],
    );
    // The unit column carries the metric's unit; seconds when none is set.
    let (_, rows) = run_csv(
        "aggregates",
        &[
            "handle_sum",
            "handle_sum_h",
            "handle_avg_min",
            "frt_min_s",
            "--to",
            "2026-02-01",
        ],
    );
    let units: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        units,
        [
            ("handle_sum", "s"),
            ("handle_sum_h", "h"),
            ("handle_avg_min", "min"),
            ("frt_min_s", "")
        ]
    );
}

// ---------------------------------------------------------------------------
// `@` forms (fixture `axes`, UTC), --from 2026-01-01 --to 2026-04-01.
//
//   #  created_at        solved_at         escalated
//   1  2026-01-05 09:00  2026-01-06 09:00
//   2  2026-01-20        2026-02-10        yes
//   3  2026-01-25        -
//   4  2026-02-01 00:00  2026-03-01 00:00
//   5  2026-02-15        2026-04-02        yes
//   6  2026-03-10        2026-03-11
//   7  2025-12-20        2026-01-03        yes
// ---------------------------------------------------------------------------

#[test]
fn at_forms_choose_the_rows_of_a_period() {
    // created (default axis created_at): Jan {1,2,3} 3; Feb {4,5} 2; Mar {6} 1
    //   (#7 was created in December, before --from).
    // solved (@solved_at): Jan {1, 7} 2; Feb {2} 1; Mar {4 at 03-01 00:00, 6} 2
    //   (#5 is solved in April, after --to).
    // backlog (@period.end: open just before the instant, created_at < t <= solved_at):
    //   at 02-01 00:00: #2, #3; #4, created exactly at that instant, belongs
    //   to February (created_at < t fails) -> 2;
    //   at 03-01 00:00: #3, #5, and #4, solved at that very instant: it was
    //   still open at the end of February (t <= solved_at) -> 3;
    //   at 04-01 00:00: #3, #5 (solved 04-02) -> 2.
    // backlog_at_start (@period.start): at 01-01: #7 (solved 01-03) -> 1;
    //   then the previous period's end: 2, 3.
    // open_day_before_end (@(period.end - 1d)): at 01-31: #2, #3 -> 2;
    //   at 02-28: #3, #4, #5 -> 3; at 03-31: #3, #5 -> 2.
    // total (@all): all 7 rows in every period; escalated_ever: #2, #5, #7 = 3.
    // solved_by_where (@all where period.start <= solved_at < period.end)
    //   equals `solved`: 2, 1, 2.
    // resolution_h (avg over @solved_at of solved_at - created_at):
    //   Jan: #1 24 h, #7 14 d = 336 h -> 180; Feb: #2 21 d = 504 h;
    //   Mar: #4 28 d = 672 h, #6 24 h -> 348.
    // escalated_share_of_solved: Jan 1/2 = 50 %; Feb 1/1 = 100; Mar 0/2 = 0.
    check_grid(
        "axes",
        &["--from", "2026-01-01", "--to", "2026-04-01"],
        &[
            "2026-01-01T00:00:00+00:00",
            "2026-02-01T00:00:00+00:00",
            "2026-03-01T00:00:00+00:00",
        ],
        &[
            ("created", &["3", "2", "1"]),
            ("solved", &["2", "1", "2"]),
            ("backlog", &["2", "3", "2"]),
            ("backlog_at_start", &["1", "2", "3"]),
            ("open_day_before_end", &["2", "3", "2"]),
            ("total", &["7", "7", "7"]),
            ("escalated_ever", &["3", "3", "3"]),
            ("solved_by_where", &["2", "1", "2"]),
            ("resolution_h", &["180", "504", "348"]),
            ("escalated_share_of_solved", &["50", "100", "0"]),
        ],
    );
}

// ---------------------------------------------------------------------------
// Relations (fixture `relations`, UTC).
//
// tickets.csv: 1 email ann k1 solved 01-04; 2 chat bob k1 solved 02-02;
//              3 chat ann k2 open;         4 phone bob k2 solved 02-06.
// customers.csv: k1 plan pro, k2 plan free.
// messages.jsonl (ticket_id as JSON numbers, once as the string "2"):
//   Jan: m1 T1 customer, m2 T1 agent ann, m3 T1 agent ann,
//        m4 T2 customer, m5 T2 agent bob, m6 T2 customer (01-31 23:00),
//        m9 T3 customer
//   Feb: m7 T2 agent bob, m8 T2 agent ann, m10 T4 agent bob,
//        m11 T4 customer, m13 T4 agent bob, m12 -> ticket 9 (no such ticket)
// ---------------------------------------------------------------------------

#[test]
fn relations_both_ways() {
    // messages: Jan m1-m6, m9 = 7; Feb m7, m8, m10-m13 = 6.
    // chat_messages (ticket.channel == "chat", tickets 2 and 3):
    //   Jan m4, m5, m6, m9 = 4; Feb m7, m8 = 2 (m12 has no ticket: null, false).
    // orphans (ticket.channel is null): Jan 0; Feb m12 = 1.
    // agent_messages: Jan m2, m3, m5 = 3; Feb m7, m8, m10, m13 = 4.
    // touches = sum(tickets@solved_at: agent messages of the ticket, any time)
    //   / count(tickets@solved_at):
    //   Jan: ticket 1 {m2, m3} -> 2 / 1 = 2;
    //   Feb: ticket 2 {m5 (January!), m7, m8} = 3, ticket 4 {m10, m13} = 2
    //   -> 5 / 2 = 2.5.
    // touches_in_period: the child aggregate has its own @created_at, so only
    //   the period's messages count: Jan 2; Feb ticket 2 {m7, m8} + ticket 4
    //   {m10, m13} = 4.
    // replies_by_assignee (agent_id == ticket.agent_id): Jan m2, m3, m5 = 3;
    //   Feb m7, m10, m13 = 3 (m8 is ann on bob's ticket).
    check_grid(
        "relations",
        &[],
        &["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
        &[
            ("messages", &["7", "6"]),
            ("chat_messages", &["4", "2"]),
            ("orphans", &["0", "1"]),
            ("agent_messages", &["3", "4"]),
            ("solved", &["1", "2"]),
            ("touches", &["2", "2.5"]),
            ("touches_in_period", &["2", "4"]),
            ("replies_by_assignee", &["3", "3"]),
        ],
    );
}

#[test]
fn nested_child_aggregates_follow_the_period() {
    // sum(customers@all: sum(tickets: count(messages@created_at where agent)))
    // counts the period's agent messages of every customer's tickets:
    // Jan 3 (m2, m3, m5), Feb 4 (m7, m8, m10, m13) -- the same as
    // agent_messages. The middle aggregate (tickets, no own `@`) must not be
    // computed once and reused for every period.
    check_grid(
        "relations",
        &["--from", "2026-01-01"],
        &["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
        &[
            ("agent_messages", &["3", "4"]),
            ("agent_messages_via_customers", &["3", "4"]),
        ],
    );
}

#[test]
fn messages_grouped_by_channel_through_their_ticket() {
    // messages has no channel column; the canonical model maps its `channel`
    // dimension to ticket.channel.
    // Jan: chat m4, m5, m6, m9 = 4; email m1, m2, m3 = 3; phone 0.
    // Feb: chat m7, m8 = 2; email 0; phone m10, m11, m13 = 3; and m12,
    // whose ticket does not exist, in the null group (printed empty, last).
    let (header, rows) = run_csv("relations", &["messages", "--by", "channel"]);
    assert_eq!(
        header,
        [
            "period_start",
            "period_end",
            "channel",
            "metric",
            "value",
            "unit"
        ]
    );
    let jan = "2026-01-01T00:00:00+00:00";
    let feb = "2026-02-01T00:00:00+00:00";
    assert_eq!(
        project(&rows),
        [
            [jan, "chat", "messages", "4"],
            [jan, "email", "messages", "3"],
            [jan, "phone", "messages", "0"],
            [jan, "", "messages", "0"],
            [feb, "chat", "messages", "2"],
            [feb, "email", "messages", "0"],
            [feb, "phone", "messages", "3"],
            [feb, "", "messages", "1"],
        ]
    );
}

#[test]
fn parent_aggregates_grouped_and_related_dimension_of_tickets() {
    // touches by the ticket's own channel: Jan email: ticket 1, 2 / 1 = 2;
    // chat and phone solved nothing: 0 / 0 is null. Feb chat: ticket 2,
    // 3 / 1 = 3; phone: ticket 4, 2 / 1 = 2; email null.
    let (_, rows) = run_csv("relations", &["touches", "--by", "channel"]);
    let jan = "2026-01-01T00:00:00+00:00";
    let feb = "2026-02-01T00:00:00+00:00";
    assert_eq!(
        project(&rows),
        [
            [jan, "chat", "touches", ""],
            [jan, "email", "touches", "2"],
            [jan, "phone", "touches", ""],
            [feb, "chat", "touches", "3"],
            [feb, "email", "touches", ""],
            [feb, "phone", "touches", "2"],
        ]
    );
    // tickets reach `plan` through customer.plan: solved in Jan: ticket 1
    // (k1, pro); in Feb: ticket 2 (k1, pro), ticket 4 (k2, free).
    let (_, rows) = run_csv("relations", &["solved", "--by", "plan"]);
    assert_eq!(
        project(&rows),
        [
            [jan, "free", "solved", "0"],
            [jan, "pro", "solved", "1"],
            [feb, "free", "solved", "1"],
            [feb, "pro", "solved", "1"],
        ]
    );
}

// ---------------------------------------------------------------------------
// Windows and parameters (fixture `params`, UTC), --from 2026-01-01
// --to 2026-03-01. Rows are out of time order in the file on purpose.
//
//   id  created_at         first response  priority  customer
//   t1  2025-12-28 10:00   +2h             normal    c1
//   t4  2026-01-09 10:00   +8h             normal    c1
//   t2  2026-01-02 10:00   +1h30m          urgent    c1
//   t3  2026-01-05 00:00   +5h             high      c2
//   t5  2026-01-06 12:00   -               low       c2
//   t6  2026-02-01 00:00   +1m             critical  c3
//
// sla: the definition file says urgent 2h, high 4h, normal 8h, low 24h;
// kpi.toml overrides urgent = 1h only. repeat_window = 7d, weight = 3.
// ---------------------------------------------------------------------------

#[test]
fn windows_params_and_period_in_where() {
    // prev(created_at by customer_id), over the whole table in time order:
    //   t2 <- t1 (2025-12-28, before the range): 5 d = 120 h
    //   t4 <- t2: 7 d = 168 h;  t3: first of c2, null;  t5 <- t3: 36 h.
    // gap_h Jan: (120 + 168 + 36) / 3 = 108; Feb: t6 has no previous: null.
    // first_contacts (prev is null): Jan t3 = 1; Feb t6 = 1.
    // repeats (gap <= 7d): 120 h, 168 h, 36 h all within 168 h -> 3; Feb 0.
    // has_next (next(...) is not null): t2 (-> t4), t3 (-> t5) = 2; Feb 0.
    // returning (prev < period.start): t2 (prev in December) = 1; Feb 0.
    // created_before (@all where created_at < period.start):
    //   before 01-01: t1 = 1; before 02-01: t1-t5 = 5.
    // within_sla (first response <= params.sla[priority]):
    //   t2 urgent 1h30m > 1h (project override) no; t3 high 5h > 4h no;
    //   t4 normal 8h <= 8h yes; t5 no response: null, false -> Jan 1.
    //   Feb: t6 `critical` is not in the map: null, false -> 0.
    // responded: Jan t2, t3, t4 = 3; Feb t6 = 1.
    // sla_rate = round(within / responded * 100, 1): 33.333.. -> 33.3; Feb 0.
    // weighted = count * params.weight: 4 * 3 = 12; 1 * 3 = 3.
    check_grid(
        "params",
        &["--from", "2026-01-01", "--to", "2026-03-01"],
        &["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
        &[
            ("gap_h", &["108", ""]),
            ("first_contacts", &["1", "1"]),
            ("repeats", &["3", "0"]),
            ("has_next", &["2", "0"]),
            ("returning", &["1", "0"]),
            ("created_before", &["1", "5"]),
            ("within_sla", &["1", "0"]),
            ("responded", &["3", "1"]),
            ("sla_rate", &["33.3", "0"]),
            ("weighted", &["12", "3"]),
        ],
    );
}

#[test]
fn params_overridden_on_the_command_line() {
    // --param repeat_window=2d: only the 36 h gap is within 48 h -> 1.
    // --param sla.high=6h: t3 (5h) is now within -> t3, t4 = 2 of 3 -> 66.7.
    // --param weight=5: 4 * 5 = 20; 1 * 5 = 5.
    let range = ["--from", "2026-01-01", "--to", "2026-03-01"];
    let mut extra = range.to_vec();
    extra.extend([
        "--param",
        "repeat_window=2d",
        "--param",
        "sla.high=6h",
        "--param",
        "weight=5",
    ]);
    check_grid(
        "params",
        &extra,
        &["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
        &[
            ("repeats", &["1", "0"]),
            ("within_sla", &["2", "0"]),
            ("sla_rate", &["66.7", "0"]),
            ("weighted", &["20", "5"]),
        ],
    );
    // Also sla.urgent=2h (back to the definition's default): t2 (1h30m) is
    // within as well -> 3 of 3 = 100.
    extra.extend(["--param", "sla.urgent=2h"]);
    check_grid(
        "params",
        &extra,
        &["2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"],
        &[("within_sla", &["3", "0"]), ("sla_rate", &["100", "0"])],
    );
    // A value of the wrong type is a usage error.
    let out = kpi_run("params", &["weighted", "--param", "weight=abc"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("weight"), "{}", out.stderr);
}

// ---------------------------------------------------------------------------
// Null rules, conditions and row functions (fixture `rules`,
// America/New_York; January is EST, UTC-5).
//
//   id  created_at (local)  solved_at         channel contacts handle esc hcr
//   r1  Mon 01-05 22:00     01-05 23:30       email   1        90 s   yes yes
//   r2  Tue 01-06 08:00     01-07 09:00       chat    2        1h     no  -
//   r3  Sat 01-10 12:00     -                 phone   -        -      no  no
//   r4  Sat 01-10 23:30     01-11 00:30       web     3        1d     yes yes
//   r5  Sun 01-11 13:00     01-11 14:00       chat    5        30m    no  -
//   r6  Mon 03-02 10:00     03-02 11:00       email   4        600 s  no  no
// February has no rows. In UTC r1 is Tue 01-06 03:00 and r4 Sun 01-11 04:30.
// ---------------------------------------------------------------------------

#[test]
fn null_rules_conditions_and_functions() {
    // Jan contacts = [1, 2, -, 3, 5].
    // one_contact (== 1): r1 = 1. not_one_contact (!= 1): r2, r4, r5 = 3;
    //   r3's null comparison is null, which a where treats as false, so
    //   1 + 3 != 5 rows; not (contacts != 1) is null for r3 too: 1.
    // plus_one_sum: null + 1 is null and skipped: 2 + 3 + 4 + 6 = 15; its
    //   non-null count: 4. no_contacts (is null) 1; some_contacts 4.
    // chat_or_phone (in ["chat", "phone"]): r2, r3, r5 = 3;
    //   not_chat (not in ["chat"]): r1, r3, r4 = 3;
    //   not_in_with_null (not in ["chat", null]): never true (SQL rule) = 0.
    // mid_contacts (between 2 and 3, inclusive): r2, r4 = 2.
    // buckets (if null 100 elif >= 3 10 else 1): 1 + 1 + 100 + 10 + 10 = 122.
    // coalesce(contacts, 0): sum 11, avg 11 / 5 = 2.2; avg(contacts) 11 / 4 = 2.75.
    // least(contacts, 2) skips the null argument: 1 + 2 + 2 + 2 + 2 = 9.
    // greatest(contacts, 2): 2 + 2 + 2 + 3 + 5 = 14.
    // abs(contacts - 3): 2 + 1 + 0 + 2 = 5 (r3 null).
    // minutes(handle): 1.5 + 60 + 1440 + 30 = 1531.5;
    //   hours: 0.025 + 1 + 24 + 0.5 = 25.525; max days: 1d = 1.
    // saturdays (weekday == 6, local): r3, r4 = 2 (r4 is a Sunday in UTC).
    // late (hour >= 22, local): r1 22h, r4 23h = 2 (UTC hours are 3 and 4).
    // same_day (date(solved) == date(created), local): r1, r5 = 2 (r4 crosses
    //   local midnight but not UTC midnight; r3 is null).
    // resolvable (where help_center_resolvable): r1, r4 = 2;
    //   not_resolvable: r3 = 1 (nulls are neither).
    // quick (solved_at <= created_at + 2h): r1 1h30m, r4 1h, r5 1h = 3.
    // escalation_rate: 2 / 5 * 100 = 40. social_ratio: 2 / 0 = null.
    // n_plus_avg: 5 + 2.75 = 7.75. rounded_avg: round(2.75 * 10 / 3, 2) = 9.17.
    //
    // February (no rows): counts and sums 0; avg/max and ratios null;
    //   n_plus_avg = 0 + null = null.
    // March (r6: email, 4 contacts, 600 s, Monday 10:00, solved after 1h):
    //   one_contact 0, not_one 1, not_not_one 0, plus_one 5 / 1, no_contacts 0,
    //   some 1, chat_or_phone 0, not_chat 1, not_in_with_null 0 (email is not
    //   chat, but the list holds null), mid 0, buckets 10, coalesced 4 / 4,
    //   avg 4, least 2, greatest 4, abs 1, minutes 10, hours 1/6,
    //   days 600 / 86400, saturdays 0, late 0, same_day 1, resolvable 0,
    //   not_resolvable 1, quick 1, escalation 0, social null, n_plus_avg
    //   1 + 4 = 5, rounded round(4 * 10 / 3, 2) = 13.33.
    check_grid(
        "rules",
        &[],
        &[
            "2026-01-01T00:00:00-05:00",
            "2026-02-01T00:00:00-05:00",
            "2026-03-01T00:00:00-05:00",
        ],
        &[
            ("n", &["5", "0", "1"]),
            ("one_contact", &["1", "0", "0"]),
            ("not_one_contact", &["3", "0", "1"]),
            ("not_not_one", &["1", "0", "0"]),
            ("plus_one_sum", &["15", "0", "5"]),
            ("plus_one_count", &["4", "0", "1"]),
            ("no_contacts", &["1", "0", "0"]),
            ("some_contacts", &["4", "0", "1"]),
            ("chat_or_phone", &["3", "0", "0"]),
            ("not_chat", &["3", "0", "1"]),
            ("not_in_with_null", &["0", "0", "0"]),
            ("mid_contacts", &["2", "0", "0"]),
            ("buckets", &["122", "0", "10"]),
            ("coalesced_sum", &["11", "0", "4"]),
            ("coalesced_avg", &["2.2", "", "4"]),
            ("contacts_avg", &["2.75", "", "4"]),
            ("capped", &["9", "0", "2"]),
            ("floored", &["14", "0", "4"]),
            ("abs_dev", &["5", "0", "1"]),
            ("handle_minutes", &["1531.5", "0", "10"]),
            ("handle_hours", &["25.525", "0", "0.16666666666666667"]),
            ("handle_days_max", &["1", "", "0.006944444444444444"]),
            ("saturdays", &["2", "0", "0"]),
            ("late", &["2", "0", "0"]),
            ("same_day", &["2", "0", "1"]),
            ("resolvable", &["2", "0", "0"]),
            ("not_resolvable", &["1", "0", "1"]),
            ("quick", &["3", "0", "1"]),
            ("escalation_rate", &["40", "", "0"]),
            ("social_ratio", &["", "", ""]),
            ("n_plus_avg", &["7.75", "", "5"]),
            ("rounded_avg", &["9.17", "", "13.33"]),
        ],
    );
}

#[test]
fn dense_grid_every_group_in_every_period() {
    // Groups seen: chat, email, phone, web. Jan: chat r2, r5 (avg (2 + 5) / 2
    // = 3.5); email r1 (1); phone r3 (count 1, no contacts: avg null); web r4
    // (3). Feb: no rows: every group is there with count 0 and avg null.
    // Mar: email r6 (4); the others 0 / null.
    let (_, rows) = run_csv("rules", &["n", "contacts_avg", "--by", "channel"]);
    let (jan, feb, mar) = (
        "2026-01-01T00:00:00-05:00",
        "2026-02-01T00:00:00-05:00",
        "2026-03-01T00:00:00-05:00",
    );
    let want: Vec<[&str; 4]> = vec![
        [jan, "chat", "n", "2"],
        [jan, "chat", "contacts_avg", "3.5"],
        [jan, "email", "n", "1"],
        [jan, "email", "contacts_avg", "1"],
        [jan, "phone", "n", "1"],
        [jan, "phone", "contacts_avg", ""],
        [jan, "web", "n", "1"],
        [jan, "web", "contacts_avg", "3"],
        [feb, "chat", "n", "0"],
        [feb, "chat", "contacts_avg", ""],
        [feb, "email", "n", "0"],
        [feb, "email", "contacts_avg", ""],
        [feb, "phone", "n", "0"],
        [feb, "phone", "contacts_avg", ""],
        [feb, "web", "n", "0"],
        [feb, "web", "contacts_avg", ""],
        [mar, "chat", "n", "0"],
        [mar, "chat", "contacts_avg", ""],
        [mar, "email", "n", "1"],
        [mar, "email", "contacts_avg", "4"],
        [mar, "phone", "n", "0"],
        [mar, "phone", "contacts_avg", ""],
        [mar, "web", "n", "0"],
        [mar, "web", "contacts_avg", ""],
    ];
    assert_eq!(project(&rows), want);
}

#[test]
fn no_data_in_every_format() {
    // February has no tickets: escalation_rate = 0 / 0 and social_ratio
    // = 0 / 0 are null; n is 0. Asked as social_ratio, n: that order.
    let args = [
        "social_ratio",
        "n",
        "--from",
        "2026-02-01",
        "--to",
        "2026-03-01",
    ];
    let (_, rows) = run_csv("rules", &args);
    assert_eq!(
        project(&rows),
        [
            ["2026-02-01T00:00:00-05:00", "social_ratio", ""],
            ["2026-02-01T00:00:00-05:00", "n", "0"],
        ]
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = kpi_run("rules", &json_args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        v["rows"],
        serde_json::json!([
            {"period_start": "2026-02-01T00:00:00-05:00", "period_end": "2026-03-01T00:00:00-05:00",
             "metric": "social_ratio", "value": null, "unit": ""},
            {"period_start": "2026-02-01T00:00:00-05:00", "period_end": "2026-03-01T00:00:00-05:00",
             "metric": "n", "value": 0, "unit": ""},
        ])
    );

    let mut jsonl_args = args.to_vec();
    jsonl_args.extend(["--format", "jsonl"]);
    let out = kpi_run("rules", &jsonl_args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["metric"], "social_ratio");
    assert_eq!(lines[0]["value"], serde_json::Value::Null);
    assert_eq!(lines[1]["metric"], "n");
    assert_eq!(lines[1]["value"], 0);

    let mut table_args = args.to_vec();
    table_args.extend(["--format", "table"]);
    let out = kpi_run("rules", &table_args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The cells of each data line (borders dropped; the unit is empty).
    let cells: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|t| *t != "│")
                .collect::<Vec<_>>()
        })
        .filter(|c| c.len() == 4 && c[0].starts_with("2026"))
        .collect();
    // Whole periods print as dates; null prints as an en dash.
    assert_eq!(
        cells,
        [
            ["2026-02-01", "2026-03-01", "social_ratio", "–"],
            ["2026-02-01", "2026-03-01", "n", "0"],
        ],
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------
// Calendar periods in America/New_York (fixture `calendar`, a user table
// `events` with time = "at"). Local times unless an offset is written:
//   e1  Sat 2026-03-07 23:30 EST          e9  Sat 2026-10-31 23:59 EDT
//   e2  Sun 2026-03-08 00:30 EST          e10 Sun 2026-11-01 01:30 (naive: the
//   e3  Sun 2026-03-08 01:59 EST              first occurrence, EDT, 05:30Z)
//   e4  2026-03-08T03:30:00-04:00 (EDT)   e11 2026-11-01T01:30:00-05:00 (EST,
//   e5  Sun 2026-03-08 23:30 EDT              06:30Z)
//       (= 03-09 03:30Z)                  e12 2026-11-02T00:00:00Z (= Sun 11-01
//   e6  Mon 2026-03-09 00:30 EDT              19:00 EST)
//   e7  Tue 2026-03-31 23:30 EDT          e13 Sun 2026-11-01 23:30 EST
//       (= 04-01 03:30Z)                  e14 Thu 2026-12-31 23:30 EST
//   e8  Tue 2026-06-30 23:00 EDT              (= 2027-01-01 04:30Z)
//       (= 07-01 03:00Z)                  e15 Fri 2027-01-01 00:30 EST
// ---------------------------------------------------------------------------

#[test]
fn days_across_the_dst_switches() {
    // Spring forward: March 8 runs from 00:00-05:00 to March 9 00:00-04:00,
    // 23 hours. Mar 7: e1; Mar 8: e2, e3, e4, e5 (e5 is March 9 in UTC);
    // Mar 9: e6.
    let (_, rows) = run_csv(
        "calendar",
        &[
            "events",
            "period_hours",
            "--period",
            "day",
            "--from",
            "2026-03-07",
            "--to",
            "2026-03-10",
        ],
    );
    let got: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-03-07T00:00:00-05:00",
                "2026-03-08T00:00:00-05:00",
                "events",
                "1"
            ],
            [
                "2026-03-07T00:00:00-05:00",
                "2026-03-08T00:00:00-05:00",
                "period_hours",
                "24"
            ],
            [
                "2026-03-08T00:00:00-05:00",
                "2026-03-09T00:00:00-04:00",
                "events",
                "4"
            ],
            [
                "2026-03-08T00:00:00-05:00",
                "2026-03-09T00:00:00-04:00",
                "period_hours",
                "23"
            ],
            [
                "2026-03-09T00:00:00-04:00",
                "2026-03-10T00:00:00-04:00",
                "events",
                "1"
            ],
            [
                "2026-03-09T00:00:00-04:00",
                "2026-03-10T00:00:00-04:00",
                "period_hours",
                "24"
            ],
        ]
    );
    // Fall back: November 1 runs from 00:00-04:00 to November 2 00:00-05:00,
    // 25 hours, and holds both 01:30s (e10, e11), e12 and e13 (= 11-02 04:30Z,
    // still before 05:00Z). Oct 31: e9 (= 11-01 03:59Z). Nov 2: no events, 0.
    let (_, rows) = run_csv(
        "calendar",
        &[
            "events",
            "period_hours",
            "--period",
            "day",
            "--from",
            "2026-10-31",
            "--to",
            "2026-11-03",
        ],
    );
    let got: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-10-31T00:00:00-04:00",
                "2026-11-01T00:00:00-04:00",
                "events",
                "1"
            ],
            [
                "2026-10-31T00:00:00-04:00",
                "2026-11-01T00:00:00-04:00",
                "period_hours",
                "24"
            ],
            [
                "2026-11-01T00:00:00-04:00",
                "2026-11-02T00:00:00-05:00",
                "events",
                "4"
            ],
            [
                "2026-11-01T00:00:00-04:00",
                "2026-11-02T00:00:00-05:00",
                "period_hours",
                "25"
            ],
            [
                "2026-11-02T00:00:00-05:00",
                "2026-11-03T00:00:00-05:00",
                "events",
                "0"
            ],
            [
                "2026-11-02T00:00:00-05:00",
                "2026-11-03T00:00:00-05:00",
                "period_hours",
                "24"
            ],
        ]
    );
}

#[test]
fn weeks_start_on_the_project_week_start() {
    // Monday weeks: [Mon 03-02, Mon 03-09) holds e1-e5 = 5 and is 7 * 24 - 1
    // = 167 hours (it contains the spring-forward Sunday); [03-09, 03-16): e6.
    let (_, rows) = run_csv(
        "calendar",
        &[
            "events",
            "period_hours",
            "--period",
            "week",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-16",
        ],
    );
    assert_eq!(
        project(&rows),
        [
            ["2026-03-02T00:00:00-05:00", "events", "5"],
            ["2026-03-02T00:00:00-05:00", "period_hours", "167"],
            ["2026-03-09T00:00:00-04:00", "events", "1"],
            ["2026-03-09T00:00:00-04:00", "period_hours", "168"],
        ]
    );
    assert_eq!(rows[0][1], "2026-03-09T00:00:00-04:00");
    // Sunday weeks (fixture calendar_sunday: same data and metrics):
    // [Sun 03-01, Sun 03-08): e1 = 1; [03-08, 03-15): e2-e6 = 5.
    let (_, rows) = run_csv(
        "calendar_sunday",
        &[
            "events",
            "--period",
            "week",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-15",
        ],
    );
    let got: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-03-01T00:00:00-05:00",
                "2026-03-08T00:00:00-05:00",
                "1"
            ],
            [
                "2026-03-08T00:00:00-05:00",
                "2026-03-15T00:00:00-04:00",
                "5"
            ],
        ]
    );
}

#[test]
fn months_quarters_years_and_all() {
    // Without --from/--to the range is the data's span in whole periods.
    // Months: Mar e1-e7 = 7 (e7, 23:30 on the 31st, is April in UTC);
    // Jun e8 = 1 (July in UTC); Oct e9 = 1; Nov e10-e13 = 4; Dec e14 = 1
    // (2027 in UTC); Jan 2027 e15 = 1; the months between: 0.
    let (_, rows) = run_csv("calendar", &["events", "--period", "month"]);
    let got: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-03-01T00:00:00-05:00",
                "2026-04-01T00:00:00-04:00",
                "7"
            ],
            [
                "2026-04-01T00:00:00-04:00",
                "2026-05-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-05-01T00:00:00-04:00",
                "2026-06-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-06-01T00:00:00-04:00",
                "2026-07-01T00:00:00-04:00",
                "1"
            ],
            [
                "2026-07-01T00:00:00-04:00",
                "2026-08-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-08-01T00:00:00-04:00",
                "2026-09-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-09-01T00:00:00-04:00",
                "2026-10-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-10-01T00:00:00-04:00",
                "2026-11-01T00:00:00-04:00",
                "1"
            ],
            [
                "2026-11-01T00:00:00-04:00",
                "2026-12-01T00:00:00-05:00",
                "4"
            ],
            [
                "2026-12-01T00:00:00-05:00",
                "2027-01-01T00:00:00-05:00",
                "1"
            ],
            [
                "2027-01-01T00:00:00-05:00",
                "2027-02-01T00:00:00-05:00",
                "1"
            ],
        ]
    );
    // Quarters: Q1 7; Q2 e8 1; Q3 0; Q4 e9-e14 6; 2027 Q1 e15 1.
    let (_, rows) = run_csv("calendar", &["events", "--period", "quarter"]);
    let got: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-01-01T00:00:00-05:00",
                "2026-04-01T00:00:00-04:00",
                "7"
            ],
            [
                "2026-04-01T00:00:00-04:00",
                "2026-07-01T00:00:00-04:00",
                "1"
            ],
            [
                "2026-07-01T00:00:00-04:00",
                "2026-10-01T00:00:00-04:00",
                "0"
            ],
            [
                "2026-10-01T00:00:00-04:00",
                "2027-01-01T00:00:00-05:00",
                "6"
            ],
            [
                "2027-01-01T00:00:00-05:00",
                "2027-04-01T00:00:00-04:00",
                "1"
            ],
        ]
    );
    // Years: 2026 e1-e14 = 14; 2027 e15 = 1.
    let (_, rows) = run_csv("calendar", &["events", "--period", "year"]);
    let got: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [
            [
                "2026-01-01T00:00:00-05:00",
                "2027-01-01T00:00:00-05:00",
                "14"
            ],
            [
                "2027-01-01T00:00:00-05:00",
                "2028-01-01T00:00:00-05:00",
                "1"
            ],
        ]
    );
    // All: one period from the first event's day to the day after the last.
    let (_, rows) = run_csv("calendar", &["events", "--period", "all"]);
    let got: Vec<[&str; 3]> = rows
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        got,
        [[
            "2026-03-07T00:00:00-05:00",
            "2027-01-02T00:00:00-05:00",
            "15"
        ]]
    );
}

#[test]
fn from_and_to_clip_the_first_and_last_periods() {
    // --from 2026-03-08 (local midnight, -05:00) cuts March to e2-e7 = 6;
    // --to 2026-11-01 12:00 (naive: local, EST after the switch at 02:00)
    // is exclusive and cuts November to e10, e11 = 2 (e12 is 19:00).
    let (_, rows) = run_csv(
        "calendar",
        &[
            "events",
            "--period",
            "month",
            "--from",
            "2026-03-08",
            "--to",
            "2026-11-01 12:00",
        ],
    );
    assert_eq!(rows.len(), 9, "March to November");
    assert_eq!(rows[0][0], "2026-03-08T00:00:00-05:00");
    assert_eq!(rows[0][1], "2026-04-01T00:00:00-04:00");
    assert_eq!(rows[0][3], "6");
    assert_eq!(rows[3][0], "2026-06-01T00:00:00-04:00");
    assert_eq!(rows[3][3], "1");
    assert_eq!(rows[8][0], "2026-11-01T00:00:00-04:00");
    assert_eq!(rows[8][1], "2026-11-01T12:00:00-05:00");
    assert_eq!(rows[8][3], "2");
    // A timestamp with an offset as --from, a bare date as --to, --period all:
    // [2026-03-08 03:00-04:00 (07:00Z), 2026-03-09 00:00-04:00): e4 (07:30Z)
    // and e5 = 2; e2 and e3 are before 03:00 EDT.
    let (_, rows) = run_csv(
        "calendar",
        &[
            "events",
            "--period",
            "all",
            "--from",
            "2026-03-08T03:00:00-04:00",
            "--to",
            "2026-03-09",
        ],
    );
    assert_eq!(
        project(&rows),
        [["2026-03-08T03:00:00-04:00", "events", "2"]]
    );
    assert_eq!(rows[0][1], "2026-03-09T00:00:00-04:00");
    // --from after the last event, with no --to: an empty range, not an
    // error about a --to that was never given.
    let (_, rows) = run_csv("calendar", &["events", "--from", "2027-06-01"]);
    assert!(rows.is_empty(), "{rows:?}");
    // Both bounds given the wrong way round: a usage error.
    let out = kpi_run(
        "calendar",
        &["events", "--from", "2026-04-01", "--to", "2026-03-01"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn time_dimensions_weekday_and_hour_are_local() {
    // ISO weekdays in New York: Mon e6; Tue e7, e8; Thu e14; Fri e15;
    // Sat e1, e9; Sun e2-e5, e10-e13 (8). 1 + 2 + 1 + 1 + 2 + 8 = 15.
    let (header, rows) = run_csv(
        "calendar",
        &["events", "--period", "all", "--by", "weekday"],
    );
    assert_eq!(header[2], "weekday");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("1", "1"),
            ("2", "2"),
            ("4", "1"),
            ("5", "1"),
            ("6", "2"),
            ("7", "8")
        ]
    );
    // Local hours: 00 e2, e6, e15; 01 e3, e10, e11 (both 01:30s); 03 e4;
    // 19 e12; 23 e1, e5, e7, e8, e9, e13, e14.
    let (header, rows) = run_csv("calendar", &["events", "--period", "all", "--by", "hour"]);
    assert_eq!(header[2], "hour");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("00", "3"),
            ("01", "3"),
            ("03", "1"),
            ("19", "1"),
            ("23", "7")
        ]
    );
}

// ---------------------------------------------------------------------------
// Grouping and errors.
// ---------------------------------------------------------------------------

#[test]
fn group_by_two_dimensions() {
    // aggregates fixture, January and February (--to 2026-03-01):
    //   Jan: ann/email #1 (1), ann/chat #2 (2), bob/email #3 (-),
    //        bob/phone #4 (3), cat/chat #5 (6)
    //   Feb: ann/email #6 (-), (no agent)/chat #7 (-)
    // Groups sort by agent then channel, null last; each appears in both
    // months (count 0, avg null where it has no rows).
    let (header, rows) = run_csv(
        "aggregates",
        &[
            "n",
            "contacts_avg",
            "--by",
            "agent,channel",
            "--to",
            "2026-03-01",
        ],
    );
    assert_eq!(
        header,
        [
            "period_start",
            "period_end",
            "agent",
            "channel",
            "metric",
            "value",
            "unit"
        ]
    );
    let jan = "2026-01-01T00:00:00+00:00";
    let feb = "2026-02-01T00:00:00+00:00";
    let want: Vec<[&str; 5]> = vec![
        [jan, "ann", "chat", "n", "1"],
        [jan, "ann", "chat", "contacts_avg", "2"],
        [jan, "ann", "email", "n", "1"],
        [jan, "ann", "email", "contacts_avg", "1"],
        [jan, "bob", "email", "n", "1"],
        [jan, "bob", "email", "contacts_avg", ""],
        [jan, "bob", "phone", "n", "1"],
        [jan, "bob", "phone", "contacts_avg", "3"],
        [jan, "cat", "chat", "n", "1"],
        [jan, "cat", "chat", "contacts_avg", "6"],
        [jan, "", "chat", "n", "0"],
        [jan, "", "chat", "contacts_avg", ""],
        [feb, "ann", "chat", "n", "0"],
        [feb, "ann", "chat", "contacts_avg", ""],
        [feb, "ann", "email", "n", "1"],
        [feb, "ann", "email", "contacts_avg", ""],
        [feb, "bob", "email", "n", "0"],
        [feb, "bob", "email", "contacts_avg", ""],
        [feb, "bob", "phone", "n", "0"],
        [feb, "bob", "phone", "contacts_avg", ""],
        [feb, "cat", "chat", "n", "0"],
        [feb, "cat", "chat", "contacts_avg", ""],
        [feb, "", "chat", "n", "1"],
        [feb, "", "chat", "contacts_avg", ""],
    ];
    assert_eq!(project(&rows), want);
}

#[test]
fn grouping_by_a_missing_dimension_is_a_usage_error() {
    // `events` maps no `agent`: exit 2, and the message names the metric,
    // the table and the dimension.
    let out = kpi_run("calendar", &["events", "--by", "agent", "--format", "csv"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "no partial output: {}", out.stdout);
    assert!(
        out.stderr
            .contains("metric `events` reads table `events`, which has no dimension `agent`"),
        "{}",
        out.stderr
    );
    // The same for a canonical table: messages have no `plan`.
    let out = kpi_run("relations", &["agent_messages", "--by", "plan"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    for word in ["agent_messages", "messages", "plan"] {
        assert!(out.stderr.contains(&format!("`{word}`")), "{}", out.stderr);
    }
}

// ---------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------

#[test]
fn rows_follow_the_asked_metric_order_and_output_file() {
    // Asked in the order contacts_avg, n (the reverse of the definition file):
    // Jan 3 / 5, Feb null / 2.
    let dir = std::env::temp_dir().join(format!("kpi-semantics-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("result.json");
    let file_s = file.to_str().expect("utf-8 path");
    let out = kpi_run(
        "aggregates",
        &[
            "contacts_avg",
            "n",
            "--to",
            "2026-03-01",
            "--format",
            "json",
            "--output",
            file_s,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "the result goes to the file only");
    let text = std::fs::read_to_string(&file).expect("--output wrote the file");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON object");
    let got: Vec<(String, String, serde_json::Value)> = v["rows"]
        .as_array()
        .expect("array")
        .iter()
        .map(|o| {
            (
                o["period_start"].as_str().expect("string").to_string(),
                o["metric"].as_str().expect("string").to_string(),
                o["value"].clone(),
            )
        })
        .collect();
    let jan = "2026-01-01T00:00:00+00:00".to_string();
    let feb = "2026-02-01T00:00:00+00:00".to_string();
    assert_eq!(
        got,
        [
            (jan.clone(), "contacts_avg".into(), serde_json::json!(3.0)),
            (jan, "n".into(), serde_json::json!(5)),
            (feb.clone(), "contacts_avg".into(), serde_json::Value::Null),
            (feb, "n".into(), serde_json::json!(2)),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_carries_group_columns_and_null_groups() {
    // relations, messages by channel in February: chat 2, phone 3, and the
    // orphan message m12 in the null group (JSON null). Email has messages
    // only in January, outside the query's range, so it is no group here:
    // the groups are those seen in the query's data.
    let out = kpi_run(
        "relations",
        &[
            "messages",
            "--by",
            "channel",
            "--from",
            "2026-02-01",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got: Vec<(serde_json::Value, serde_json::Value)> = out
        .stdout
        .lines()
        .map(|l| {
            let o: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            assert_eq!(o["period_end"], "2026-03-01T00:00:00+00:00");
            (o["channel"].clone(), o["value"].clone())
        })
        .collect();
    use serde_json::json;
    assert_eq!(
        got,
        [
            (json!("chat"), json!(2)),
            (json!("phone"), json!(3)),
            (json!(null), json!(1)),
        ]
    );
}

// ---------------------------------------------------------------------------
// The library API.
// ---------------------------------------------------------------------------

#[test]
fn library_load_and_run() {
    use kpi_engine::{Number, PeriodKind, Project, Query};
    let project = Project::load(&fixture("semantics/axes")).expect("project loads");
    let result = project
        .run(&Query {
            metrics: vec!["backlog".into(), "resolution_h".into()],
            by: Vec::new(),
            period: PeriodKind::Month,
            from: Some("2026-01-01".into()),
            to: Some("2026-03-01".into()),
            max_rejects: 0,
            threads: 0,
        })
        .expect("query runs");
    // Same numbers as the CLI test: backlog 2 then 3; resolution 180 h then
    // 504 h, as floats in the metric's unit.
    let got: Vec<(i64, &str, Option<Number>, &str)> = result
        .rows
        .iter()
        .map(|r| (r.period_start, &*r.metric, r.value, &*r.unit))
        .collect();
    // 2026-01-01T00:00Z = 1767225600 s; 2026-02-01 = + 31 * 86400 s.
    let jan = 1_767_225_600_000_000;
    let feb = jan + 31 * 86_400_000_000;
    assert_eq!(
        got,
        [
            (jan, "backlog", Some(Number::Int(2)), ""),
            (jan, "resolution_h", Some(Number::Float(180.0)), "h"),
            (feb, "backlog", Some(Number::Int(3)), ""),
            (feb, "resolution_h", Some(Number::Float(504.0)), "h"),
        ]
    );
    assert_eq!(result.rows[1].period_end, feb);
    assert!(result.rows.iter().all(|r| r.group.is_empty()));

    // Project::from_toml: the calendar fixture's project text with weeks
    // starting on Sunday, relative paths taken from the fixture directory.
    let root = fixture("semantics/calendar");
    let text = std::fs::read_to_string(root.join("kpi.toml")).expect("kpi.toml");
    let text = text.replace("week_start = \"monday\"", "week_start = \"sunday\"");
    let project = Project::from_toml(&root, "kpi.toml", &text).expect("project from text");
    let result = project
        .run(&Query {
            metrics: vec!["events".into()],
            by: vec!["weekday".into()],
            period: PeriodKind::Week,
            from: Some("2026-03-08".into()),
            to: Some("2026-03-15".into()),
            max_rejects: 0,
            threads: 0,
        })
        .expect("query runs");
    // The week of Sunday 03-08 (05:00Z = 1772946000 s): e2-e5 on Sunday (7),
    // e6 on Monday (1).
    let got: Vec<(i64, Vec<Option<String>>, Option<Number>)> = result
        .rows
        .iter()
        .map(|r| (r.period_start, r.group.to_vec(), r.value))
        .collect();
    let start = 1_772_946_000_000_000;
    assert_eq!(
        got,
        [
            (start, vec![Some("1".to_string())], Some(Number::Int(1))),
            (start, vec![Some("7".to_string())], Some(Number::Int(4))),
        ]
    );
    assert_eq!(result.dimensions, ["weekday"]);
    // The rendering of the same result: CSV from the library.
    let csv = result.to_csv();
    assert!(
        csv.starts_with("period_start,period_end,weekday,metric,value,unit\n"),
        "{csv}"
    );
    assert!(
        csv.contains("2026-03-08T00:00:00-05:00,2026-03-15T00:00:00-04:00,7,events,4,"),
        "{csv}"
    );
}

#[test]
fn relations_over_four_byte_keys() {
    // 70,000 tickets t00000..t69999 (more than 65,536: key codes take four
    // bytes, and the messages' codes are then their tickets' rows), each
    // with one customer message and i % 3 agent messages, in ticket order;
    // every fourth ticket is a chat.
    //   chat_messages = sum over i = 4k (k < 17,500) of 1 + (4k % 3 = k % 3)
    //                 = 17,500 + 5,833 * 3 (k = 0..17,498) + 0 (k = 17,499) = 34,999
    //   touches = sum(i % 3) / 70,000 = (23,333 * 3 + 0) / 70,000 = 69,999 / 70,000
    let n = 70_000;
    let mut tickets = String::from("id,created_at,solved_at,channel\n");
    let mut messages = String::from("id,ticket_id,created_at,author_role\n");
    for i in 0..n {
        let channel = if i % 4 == 0 { "chat" } else { "email" };
        tickets.push_str(&format!(
            "t{i:05},2026-01-02 09:00,2026-01-03 09:00,{channel}\n"
        ));
        messages.push_str(&format!("c{i},t{i:05},2026-01-02 10:00,customer\n"));
        for j in 0..i % 3 {
            messages.push_str(&format!("a{i}-{j},t{i:05},2026-01-02 11:0{j},agent\n"));
        }
    }
    let kpis = r#"
[metric.chat_messages]
formula = 'count(messages where ticket.channel == "chat")'

[metric.touches]
formula = 'sum(tickets@solved_at: count(messages where author_role == "agent")) / count(tickets@solved_at)'
"#;
    let dir = crate::common::temp_project(
        "four-byte-keys",
        &[
            (
                "kpi.toml",
                "[project]\ntimezone = \"UTC\"\ndefinitions = [\"kpis\"]\nbuiltins = false\n\
                 [tables.tickets]\nsource = \"data/tickets.csv\"\n\
                 [tables.messages]\nsource = \"data/messages.csv\"\n",
            ),
            ("kpis/k.toml", kpis),
            ("data/tickets.csv", &tickets),
            ("data/messages.csv", &messages),
        ],
    );
    for threads in ["1", "2"] {
        let out = crate::common::kpi_in(
            &dir,
            &[
                "run",
                "--period",
                "all",
                "--format",
                "csv",
                "--threads",
                threads,
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let rows = crate::common::csv_rows(&out.stdout);
        let value = |metric: &str| {
            rows.iter()
                .find(|r| r[2] == metric)
                .unwrap_or_else(|| panic!("no {metric} in {:?}", out.stdout))[3]
                .clone()
        };
        assert_eq!(value("chat_messages"), "34999");
        same(
            &value("touches"),
            &(69_999.0 / 70_000.0).to_string(),
            "touches",
        );
    }
}
