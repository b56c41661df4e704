//! The canonical event model (DESIGN.md section 5): tables predeclared with
//! their types, time axis, interval, dimensions and relations, so a project
//! only names its source files and any renamed columns.

use indexmap::IndexMap;
use kpi_dsl::{Relation, TableSchema, Type};

/// `(table, time column, interval, columns)`. A trailing `?` marks a nullable
/// column; every column may be null in the data, the mark documents intent.
type TableDef = (
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
    &'static [(&'static str, &'static str)],
);
const TABLES: &[TableDef] = &[
    (
        "tickets",
        "created_at",
        Some(("created_at", "solved_at")),
        &[
            ("id", "string"),
            ("created_at", "timestamp"),
            ("assigned_at", "timestamp?"),
            ("first_response_at", "timestamp?"),
            ("solved_at", "timestamp?"),
            ("status", "string"),
            ("channel", "string"),
            ("priority", "string"),
            ("agent_id", "string?"),
            ("team", "string?"),
            ("customer_id", "string"),
            ("escalated", "bool"),
            ("reopened", "bool"),
            ("contacts", "int?"),
            ("handle_time", "duration?"),
            ("help_center_resolvable", "bool?"),
        ],
    ),
    (
        "messages",
        "created_at",
        None,
        &[
            ("id", "string"),
            ("ticket_id", "string"),
            ("created_at", "timestamp"),
            ("author_role", "string"),
            ("agent_id", "string?"),
            ("body", "string?"),
        ],
    ),
    (
        "calls",
        "queued_at",
        None,
        &[
            ("id", "string"),
            ("ticket_id", "string?"),
            ("agent_id", "string?"),
            ("queued_at", "timestamp"),
            ("answered_at", "timestamp?"),
            ("ended_at", "timestamp?"),
            ("talk_time", "duration"),
            ("hold_time", "duration"),
            ("wrap_time", "duration"),
        ],
    ),
    (
        "surveys",
        "created_at",
        None,
        &[
            ("id", "string"),
            ("ticket_id", "string?"),
            ("customer_id", "string?"),
            ("agent_id", "string?"),
            ("channel", "string?"),
            ("created_at", "timestamp"),
            ("kind", "string"),
            ("score", "int"),
        ],
    ),
    (
        "qa_reviews",
        "reviewed_at",
        None,
        &[
            ("id", "string"),
            ("ticket_id", "string?"),
            ("agent_id", "string"),
            ("channel", "string"),
            ("reviewed_at", "timestamp"),
            ("score", "float"),
        ],
    ),
    (
        "customers",
        "created_at",
        Some(("created_at", "churned_at")),
        &[
            ("id", "string"),
            ("created_at", "timestamp"),
            ("churned_at", "timestamp?"),
            ("plan", "string"),
            ("premium", "bool"),
        ],
    ),
    (
        "subscription_events",
        "at",
        None,
        &[
            ("id", "string"),
            ("customer_id", "string"),
            ("at", "timestamp"),
            ("kind", "string"),
            ("mrr_delta", "float"),
        ],
    ),
    (
        "finance",
        "at",
        None,
        &[
            ("id", "string"),
            ("at", "timestamp"),
            ("kind", "string"),
            ("amount", "float"),
        ],
    ),
    (
        "agent_shifts",
        "start_at",
        Some(("start_at", "end_at")),
        &[
            ("agent_id", "string"),
            ("team", "string?"),
            ("start_at", "timestamp"),
            ("end_at", "timestamp"),
        ],
    ),
    (
        "employee_surveys",
        "created_at",
        None,
        &[
            ("id", "string"),
            ("agent_id", "string"),
            ("team", "string?"),
            ("created_at", "timestamp"),
            ("enps_score", "int"),
        ],
    ),
];

/// `(child table, relation name, column, parent table)`; parents are keyed by `id`.
const RELATIONS: &[(&str, &str, &str, &str)] = &[
    ("messages", "ticket", "ticket_id", "tickets"),
    ("calls", "ticket", "ticket_id", "tickets"),
    ("surveys", "ticket", "ticket_id", "tickets"),
    ("qa_reviews", "ticket", "ticket_id", "tickets"),
    ("tickets", "customer", "customer_id", "customers"),
    ("surveys", "customer", "customer_id", "customers"),
    (
        "subscription_events",
        "customer",
        "customer_id",
        "customers",
    ),
];

/// Canonical dimension → column, taken wherever the column exists.
pub const DIMENSIONS: &[(&str, &str)] = &[
    ("agent", "agent_id"),
    ("team", "team"),
    ("channel", "channel"),
    ("priority", "priority"),
    ("customer", "customer_id"),
    ("plan", "plan"),
];

/// Dimensions a table lacks as a column but reaches through a relation.
const RELATED_DIMENSIONS: &[(&str, &str, &str)] = &[
    ("messages", "channel", "ticket.channel"),
    ("messages", "priority", "ticket.priority"),
    ("messages", "team", "ticket.team"),
    ("messages", "customer", "ticket.customer_id"),
    ("calls", "channel", "ticket.channel"),
    ("calls", "priority", "ticket.priority"),
    ("calls", "team", "ticket.team"),
    ("calls", "customer", "ticket.customer_id"),
    ("surveys", "priority", "ticket.priority"),
    ("surveys", "team", "ticket.team"),
    ("qa_reviews", "team", "ticket.team"),
    ("qa_reviews", "priority", "ticket.priority"),
    ("tickets", "plan", "customer.plan"),
    ("subscription_events", "plan", "customer.plan"),
];

/// The canonical tables' schemas, in model order.
pub fn tables() -> IndexMap<String, TableSchema> {
    let mut out = IndexMap::new();
    for (name, time, interval, cols) in TABLES {
        let mut t = TableSchema {
            time: Some(time.to_string()),
            ..Default::default()
        };
        t.interval = interval.map(|(a, b)| (a.to_string(), b.to_string()));
        for (c, ty) in *cols {
            let ty = Type::from_name(ty.trim_end_matches('?')).expect("canonical types are valid");
            t.columns.insert(c.to_string(), ty);
        }
        for (dim, col) in DIMENSIONS {
            if t.columns.contains_key(*col) {
                t.dimensions.insert(dim.to_string(), col.to_string());
            }
        }
        out.insert(name.to_string(), t);
    }
    for (child, rel, col, parent) in RELATIONS {
        let r = Relation {
            column: col.to_string(),
            table: parent.to_string(),
            key: "id".to_string(),
        };
        out[*child].relations.insert(rel.to_string(), r);
    }
    for (table, dim, path) in RELATED_DIMENSIONS {
        out[*table]
            .dimensions
            .entry(dim.to_string())
            .or_insert_with(|| path.to_string());
    }
    out
}

/// Whether a column is marked nullable in the model.
pub fn is_nullable(table: &str, column: &str) -> bool {
    TABLES
        .iter()
        .find(|t| t.0 == table)
        .and_then(|t| t.3.iter().find(|c| c.0 == column))
        .is_some_and(|c| c.1.ends_with('?'))
}
