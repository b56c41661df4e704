//! The built-in definitions in metrics.d/: each carries test cases with
//! hand-computed values, and they all pass.

use kpi_engine::testing::run_tests;
use kpi_engine::Project;

fn builtins_only() -> Project {
    Project::from_toml(&crate::common::root(), "kpi.toml", "[project]\n")
        .unwrap_or_else(|e| panic!("{}", e.render(None)))
}

#[test]
fn every_builtin_test_case_passes() {
    let p = builtins_only();
    let report = run_tests(&p, None);
    assert!(report.cases > 0);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| format!("{} {}:\n  {}", f.location, f.name, f.problems.join("\n  ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_builtin_metric_has_a_test_case() {
    let p = builtins_only();
    let tested: std::collections::HashSet<&str> = p
        .definitions
        .tests
        .iter()
        .flat_map(|t| t.metrics.iter().map(String::as_str))
        .collect();
    let untested: Vec<&str> = p
        .checked
        .metrics
        .keys()
        .map(String::as_str)
        .filter(|m| !tested.contains(m))
        .collect();
    assert!(
        untested.is_empty(),
        "built-ins without a test case: {untested:?}"
    );
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

/// Every KPI id of ../shared/KPI_CATALOG.md but `pec` and `sentiment` (they
/// come with the plugins) and customer journey analytics (a later issue).
const CATALOG: &[&str] = &[
    "first_response_time",
    "average_response_time",
    "average_handle_time",
    "resolution_time",
    "queue_time",
    "average_speed_of_answer",
    "average_wait_time_phone",
    "average_resolution_time_email",
    "average_response_time_chat",
    "csat",
    "csat_average",
    "nps",
    "ces",
    "ticket_handling_time",
    "tickets_resolved",
    "calls_per_hour",
    "touches_per_ticket",
    "sla_compliance",
    "first_response_sla_compliance",
    "sla_breach_rate",
    "backlog",
    "first_contact_resolution",
    "resolved_second_contact",
    "resolved_third_contact",
    "unresolved",
    "escalation_rate",
    "next_issue_rate",
    "next_issue_avoidance",
    "help_center_effectiveness",
    "call_quality_score",
    "email_quality_score",
    "chat_quality_score",
    "customer_retention_rate",
    "customer_churn_rate",
    "premium_user_share",
    "loyal_customer_rate",
    "mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "net_new_mrr",
    "mrr_growth_rate",
    "net_revenue_retention",
    "revenue_churn_rate",
    "customer_lifetime_value",
    "total_revenue",
    "support_cost_ratio",
    "cost_per_ticket",
    "employee_engagement",
    "contact_volume_forecast",
];

#[test]
fn kpi_list_json_holds_every_catalog_kpi_with_its_source() {
    let dir = crate::common::temp_project("list", &[("kpi.toml", "[project]\n")]);
    let out = crate::common::kpi_in(&dir, &["list", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let items: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).expect("JSON");
    for id in CATALOG {
        let item = items
            .iter()
            .find(|i| i["id"] == *id)
            .unwrap_or_else(|| panic!("`kpi list` lacks {id}"));
        for field in ["title", "unit", "source", "description"] {
            assert!(
                item[field].as_str().is_some_and(|s| !s.is_empty()),
                "{id} has no {field}"
            );
        }
        assert!(
            !item["tables"].as_array().expect("tables").is_empty(),
            "{id} reads no table"
        );
    }
}

#[test]
fn a_project_with_only_tickets_computes_what_it_can_and_names_what_it_skipped() {
    let dir = crate::common::temp_project(
        "only-tickets",
        &[
            ("kpi.toml", "[project]\n[tables.tickets]\nsource = \"tickets.csv\"\n"),
            (
                "tickets.csv",
                "id,created_at,assigned_at,first_response_at,solved_at,status,channel,priority,agent_id,team,customer_id,escalated,reopened,contacts,handle_time,help_center_resolvable\n\
                 t1,2026-01-05 09:00,,,2026-01-06 09:00,solved,email,normal,a1,,c1,true,false,1,600,\n\
                 t2,2026-01-07 09:00,,,,open,chat,high,a1,,c2,false,false,,,\n",
            ),
        ],
    );
    let out = crate::common::kpi_in(&dir, &["run", "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Ticket metrics ran: 1 of 2 tickets escalated.
    assert!(
        out.stdout.contains(",escalation_rate,50,%"),
        "{}",
        out.stdout
    );
    // The others are named with the table they lack.
    assert!(
        out.stderr
            .contains("skipped csat: table `surveys` has no source in this project"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("skipped mrr: table `subscription_events` has no source in this project"),
        "{}",
        out.stderr
    );
    // Asked for by name, a metric whose table is missing is an error naming it.
    let out = crate::common::kpi_in(&dir, &["run", "csat"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("[E0405]") && out.stderr.contains("table `surveys`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_definition_file_cannot_silently_redefine_a_builtin_parameter() {
    let dir = crate::common::temp_project(
        "param-twice",
        &[
            ("kpi.toml", "[project]\ndefinitions = [\"kpis\"]\n"),
            ("kpis/p.toml", "[params]\nnext_issue_window = \"1d\"\n"),
        ],
    );
    let out = crate::common::kpi_in(&dir, &["check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "[E0208] Error: parameter `next_issue_window` is defined twice (kpis/p.toml:2:1)"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("<builtin>/metrics.d/team.toml"),
        "{}",
        out.stderr
    );
    // The sanctioned way: the project's own value in kpi.toml.
    let dir = crate::common::temp_project(
        "param-project",
        &[(
            "kpi.toml",
            "[project]\n[params]\nnext_issue_window = \"1d\"\n",
        )],
    );
    assert_eq!(crate::common::kpi_in(&dir, &["check"]).code, 0);
}
