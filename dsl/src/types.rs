//! The types of the formula language and of table columns.

use std::fmt;

/// A value type. Every type is nullable; `Null` is the type of the `null`
/// literal, which unifies with any other type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Float,
    Bool,
    String,
    Timestamp,
    Duration,
    Null,
    /// A list literal (`["a", "b"]`), only valid on the right of `in`.
    List(Box<Type>),
    /// A keyed parameter (`params.sla_resolution`), indexed with `[key]`.
    Map(Box<Type>),
}

impl Type {
    /// Parses a declared column type name (`[tables.X.types]`).
    pub fn from_name(s: &str) -> Option<Type> {
        Some(match s {
            "int" => Type::Int,
            "float" => Type::Float,
            "bool" => Type::Bool,
            "string" => Type::String,
            "timestamp" => Type::Timestamp,
            "duration" => Type::Duration,
            _ => return None,
        })
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Null)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::String => f.write_str("string"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Duration => f.write_str("duration"),
            Type::Null => f.write_str("null"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Map(t) => write!(f, "map of {t}"),
        }
    }
}
