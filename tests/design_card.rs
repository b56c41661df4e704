//! DESIGN.md's own example: `escalations / tickets * 100` over a tickets CSV,
//! by month and by agent, in America/New_York.

use crate::common::{csv_rows, kpi};

#[test]
fn escalation_rate_by_month() {
    let out = kpi(
        "design_card",
        &["run", "escalation_rate", "--format", "csv"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // January: tickets 1-4 (ticket 4 at 23:30 local on Jan 31 is still January
    // in New York), escalated 1 and 4: 2 / 4 * 100 = 50.
    // February: tickets 5-7, none escalated: 0. March: ticket 8, escalated: 100.
    // Target 10, better lower: 50 miss, 0 ok, 100 miss.
    let rows = csv_rows(&out.stdout);
    assert_eq!(
        rows[0],
        [
            "period_start",
            "period_end",
            "metric",
            "value",
            "unit",
            "status"
        ]
    );
    let got: Vec<(&str, &str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[3].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-01-01T00:00:00-05:00", "50", "miss"),
            ("2026-02-01T00:00:00-05:00", "0", "ok"),
            ("2026-03-01T00:00:00-05:00", "100", "miss"),
        ]
    );
    // March ends at local midnight after the DST switch: offset -04:00.
    assert_eq!(rows[3][1], "2026-04-01T00:00:00-04:00");
}

#[test]
fn escalation_rate_by_agent() {
    let out = kpi(
        "design_card",
        &["run", "escalation_rate", "--by", "agent", "--format", "csv"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // ann: Jan {1 esc, 2} = 50; Feb {5} = 0; Mar {8 esc} = 100.
    // bob: Jan {3, 4 esc} = 50; Feb {6, 7} = 0; Mar: no tickets, so the
    // ratio has a zero denominator and is null (empty), never NaN.
    let rows = csv_rows(&out.stdout);
    let got: Vec<(&str, &str, &str)> = rows[1..]
        .iter()
        .map(|r| (&r[0][..7], r[2].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-01", "ann", "50"),
            ("2026-01", "bob", "50"),
            ("2026-02", "ann", "0"),
            ("2026-02", "bob", "0"),
            ("2026-03", "ann", "100"),
            ("2026-03", "bob", ""),
        ]
    );
}
