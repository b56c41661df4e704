//! What the checker knows about the world before any data is read: tables
//! with their typed columns, time axes, intervals, relations and dimensions,
//! and the parameters with their values.

use indexmap::IndexMap;

use crate::types::Type;

/// `[tables.messages.relations] ticket = "ticket_id -> tickets.id"`: each row
/// of the owning table points at one row of `table` (its parent).
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    /// The column of the owning table holding the parent's key.
    pub column: String,
    /// The parent table.
    pub table: String,
    /// The key column of the parent table.
    pub key: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableSchema {
    pub columns: IndexMap<String, Type>,
    /// The default period axis (`time = "created_at"`).
    pub time: Option<String>,
    /// `[from, to)` columns that make a row "open" at an instant.
    pub interval: Option<(String, String)>,
    pub relations: IndexMap<String, Relation>,
    /// Dimension name → column (`agent_id`) or relation path (`ticket.agent_id`).
    pub dimensions: IndexMap<String, String>,
}

/// A parameter value (`[params]`), typed by its TOML form: strings that read
/// as durations (`"30m"`) are durations.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Duration(i64),
    Map(IndexMap<String, ParamValue>),
}

impl ParamValue {
    pub fn ty(&self) -> Type {
        match self {
            ParamValue::Int(_) => Type::Int,
            ParamValue::Float(_) => Type::Float,
            ParamValue::Bool(_) => Type::Bool,
            ParamValue::Str(_) => Type::String,
            ParamValue::Duration(_) => Type::Duration,
            ParamValue::Map(m) => Type::Map(Box::new(
                m.values().next().map(|v| v.ty()).unwrap_or(Type::Null),
            )),
        }
    }

    /// Reads a scalar from text, as `--param k=v` gives it, shaped like `like`
    /// (the value it overrides) when there is one.
    pub fn parse_like(text: &str, like: Option<&ParamValue>) -> Result<ParamValue, String> {
        let guess = || {
            if let Ok(i) = text.parse::<i64>() {
                ParamValue::Int(i)
            } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                ParamValue::Float(f)
            } else if let Some(d) = crate::parse::parse_duration_text(text) {
                ParamValue::Duration(d)
            } else if text == "true" || text == "false" {
                ParamValue::Bool(text == "true")
            } else {
                ParamValue::Str(text.to_string())
            }
        };
        let v = guess();
        match (like, v) {
            (None, v) => Ok(v),
            (Some(ParamValue::Float(_)), ParamValue::Int(i)) => Ok(ParamValue::Float(i as f64)),
            (Some(ParamValue::Str(_)), _) => Ok(ParamValue::Str(text.to_string())),
            (Some(l), v) if l.ty() == v.ty() => Ok(v),
            (Some(l), _) => Err(format!(
                "expected a {} like the value it replaces, found `{text}`",
                l.ty()
            )),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    pub tables: IndexMap<String, TableSchema>,
    pub params: IndexMap<String, ParamValue>,
    /// Functions provided by plugins, by name.
    pub functions: IndexMap<String, ExternalFunction>,
}

/// A function a plugin provides: its signature, declared as data.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalFunction {
    pub name: String,
    pub args: Vec<Type>,
    pub returns: Type,
    /// Called like an aggregate, `f(T: a, b [where p])`, one value per group.
    pub aggregate: bool,
    pub doc: String,
    /// The plugin that provides it.
    pub plugin: String,
}

impl Schema {
    /// The relation of `child` that points at `parent`, if exactly one does.
    pub fn relation_to(&self, child: &str, parent: &str) -> Vec<(&str, &Relation)> {
        self.tables
            .get(child)
            .map(|t| {
                t.relations
                    .iter()
                    .filter(|(_, r)| r.table == parent)
                    .map(|(n, r)| (n.as_str(), r))
                    .collect()
            })
            .unwrap_or_default()
    }
}
