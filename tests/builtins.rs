//! The built-in definitions in metrics.d/: each carries test cases with
//! hand-computed values, and they all pass.

use kpi_engine::testing::run_tests;
use kpi_engine::Project;

fn builtins_only() -> Project {
    Project::from_toml(&crate::common::root(), "kpi.toml", "[project]\n").unwrap_or_else(|e| panic!("{}", e.render(None)))
}

#[test]
fn every_builtin_test_case_passes() {
    let p = builtins_only();
    let report = run_tests(&p, None);
    assert!(report.cases > 0);
    let failures: Vec<String> =
        report.failures.iter().map(|f| format!("{} {}:\n  {}", f.location, f.name, f.problems.join("\n  "))).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_builtin_metric_has_a_test_case() {
    let p = builtins_only();
    let tested: std::collections::HashSet<&str> =
        p.definitions.tests.iter().flat_map(|t| t.metrics.iter().map(String::as_str)).collect();
    let untested: Vec<&str> = p.checked.metrics.keys().map(String::as_str).filter(|m| !tested.contains(m)).collect();
    assert!(untested.is_empty(), "built-ins without a test case: {untested:?}");
}

#[test]
fn a_wrong_expectation_is_reported_with_its_file_and_values() {
    let root = crate::common::temp_project(
        "wrong-expectation",
        &[
            ("kpi.toml", "[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\n"),
            (
                "kpis/t.toml",
                "[metric.n]\nformula = 'count(tickets)'\n\n[[test]]\nmetrics = [\"n\"]\n[test.tables]\ntickets = '''\nid,created_at\nt1,2026-01-05\n'''\n[[test.expect]]\nperiod = \"2026-01\"\nn = 2\n",
            ),
        ],
    );
    let p = Project::load(&root).unwrap_or_else(|e| panic!("{}", e.render(None)));
    let report = run_tests(&p, None);
    assert_eq!(report.failures.len(), 1);
    let f = &report.failures[0];
    assert_eq!(f.location, "kpis/t.toml:4:1");
    assert_eq!(f.problems, ["n at period 2026-01: expected 2, got 1"]);
}
