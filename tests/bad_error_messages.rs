//! Error messages that still read badly, and why (PRQL's
//! `bad_error_messages.rs`). Each case pins today's output with an inline
//! snapshot; when a fix lands the snapshot fails, and the case moves to
//! errors.rs with its improved message.

use crate::common::{kpi_in, root, temp_project};

/// `plan` is a dimension of tickets only through the `customer` relation, so
/// grouping tickets by plan needs the customers table. The message names the
/// table but not why it is needed (`--by plan`, via `tickets.customer`), has
/// no location and no hint (add `[tables.customers]`, or group by another
/// dimension). Raised in engine/src/run.rs when the data is loaded.
#[test]
fn dimension_through_a_relation_without_its_table() {
    let out = kpi_in(
        &root(),
        &[
            "run",
            "tickets",
            "--by",
            "plan",
            "--project",
            "tests/fixtures/errors/run",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    insta::assert_snapshot!(out.stderr, @"[E0404] Error: table `customers` has no source in this project");
}

/// The argument errors of row functions come from the signatures in
/// dsl/src/functions.rs and name types without an article ("found
/// timestamp"), unlike every other type error ("found an int"); and the
/// label falls back to the code's title because the checker does not know
/// which argument is wrong.
#[test]
fn function_argument_types_read_telegraphic() {
    let dir = temp_project(
        "bad-function-argument",
        &[
            (
                "kpi.toml",
                "[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\n\n[tables.tickets]\nsource = \"tickets.csv\"\n",
            ),
            (
                "kpis/hours.toml",
                "[metric.busy_hours]\nformula = 'avg(tickets: hour(handle_time))'\n",
            ),
        ],
    );
    let out = kpi_in(
        &root(),
        &["check", "--project", dir.to_str().expect("utf-8")],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("─ invalid function argument"),
        "{}",
        out.stderr
    );
    let first = out.stderr.lines().next().unwrap_or_default();
    insta::assert_snapshot!(first, @"[E0305] Error: `hour` expects a timestamp, found duration (kpis/hours.toml:2:25)");
}
