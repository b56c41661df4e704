"""The KPI suite every engine of the benchmark computes, in one place."""

# Ten KPIs, grouped by agent x month.
SUITE = [
    "first_response_time",
    "resolution_time",
    "tickets_resolved",
    "escalation_rate",
    "sla_compliance",
    "first_contact_resolution",
    "backlog",
    "touches_per_ticket",
    "average_response_time",
    "csat",
]
# Metrics that are counts: 0, not null, where a group has no row in a period.
COUNTS = {"tickets_resolved", "backlog"}

# The full built-in suite: every built-in KPI whose tables exist and have an
# agent dimension, as `kpi run --by agent --period month` (no metric names)
# computes it on the generated data (bench/duckdb/<metric>.sql for each; the
# tables of bench/duckdb/load_full.sql).
FULL = [
    "average_handle_time",
    "average_resolution_time_email",
    "average_response_time",
    "average_response_time_chat",
    "average_speed_of_answer",
    "average_wait_time_phone",
    "backlog",
    "call_quality_score",
    "calls_per_hour",
    "ces",
    "chat_quality_score",
    "contact_volume_forecast",
    "csat",
    "csat_average",
    "email_quality_score",
    "employee_engagement",
    "escalation_rate",
    "first_contact_resolution",
    "first_response_sla_compliance",
    "first_response_time",
    "help_center_effectiveness",
    "next_issue_avoidance",
    "next_issue_rate",
    "nps",
    "queue_time",
    "resolution_time",
    "resolved_second_contact",
    "resolved_third_contact",
    "sla_breach_rate",
    "sla_compliance",
    "ticket_handling_time",
    "tickets_resolved",
    "touches_per_ticket",
    "unresolved",
]
COUNTS_FULL = COUNTS | {"resolved_second_contact", "resolved_third_contact", "unresolved"}
# Series metrics: computed over the whole grid (every agent of the other
# results), after the others; value = horizon, the periods the result gains
# after the range (only these metrics have rows there).
SERIES = {"contact_volume_forecast": 3}
