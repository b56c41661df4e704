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
