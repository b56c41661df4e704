//! The bundled example project (examples/support, written by `kpi generate`
//! with seed 42): every built-in KPI by month, and the agent-level KPIs by
//! agent, pinned as CSV snapshots. The values are cross-checked on other
//! generated data by tests/independent.rs; these snapshots catch any change.

use crate::common::{kpi_in, root};

const AGENT_KPIS: &[&str] = &[
    "first_response_time",
    "average_response_time",
    "average_handle_time",
    "resolution_time",
    "ticket_handling_time",
    "tickets_resolved",
    "calls_per_hour",
    "touches_per_ticket",
    "csat",
    "sla_compliance",
    "first_contact_resolution",
    "escalation_rate",
    "call_quality_score",
];

#[test]
fn every_kpi_by_month() {
    let out = kpi_in(
        &root(),
        &["run", "--project", "examples/support", "--format", "csv"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Every visible built-in whose tables exist runs; none is skipped.
    assert!(!out.stderr.contains("skipped"), "{}", out.stderr);
    assert!(!out.stdout.contains("NaN") && !out.stdout.contains("inf"));
    insta::assert_snapshot!("example_all_kpis_by_month", out.stdout);
}

#[test]
fn agent_kpis_by_agent() {
    let mut args = vec![
        "run",
        "--project",
        "examples/support",
        "--format",
        "csv",
        "--by",
        "agent",
    ];
    args.extend(AGENT_KPIS);
    let out = kpi_in(&root(), &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("NaN") && !out.stdout.contains("inf"));
    insta::assert_snapshot!("example_agent_kpis_by_agent", out.stdout);
}

/// Work is cut into chunks of at least 16,384 rows, each with its own
/// accumulators merged in order, and spread over threads: the example's
/// messages (about 19,000 rows) make two chunks by period `all`. Any number
/// of threads gives the same bytes.
#[test]
fn threads_do_not_change_a_number() {
    let run = |threads: &str, period: &str| {
        let out = kpi_in(
            &root(),
            &[
                "run",
                "--project",
                "examples/support",
                "--format",
                "csv",
                "--by",
                "agent",
                "--period",
                period,
                "--threads",
                threads,
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    for period in ["all", "month", "day"] {
        let one = run("1", period);
        assert!(one.lines().count() > 100, "{period}: {one}");
        for threads in ["2", "3", "8"] {
            assert!(
                one == run(threads, period),
                "--threads {threads} --period {period} changed the result"
            );
        }
    }
}

#[test]
fn without_a_project_file_kpi_runs_the_example() {
    let dir = std::env::temp_dir().join(format!("kpi-no-project-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = kpi_in(&dir, &["run", "escalation_rate", "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("bundled example project"),
        "{}",
        out.stderr
    );
    // January to April 2026, the example's default range.
    assert_eq!(out.stdout.lines().count(), 1 + 4, "{}", out.stdout);
}
