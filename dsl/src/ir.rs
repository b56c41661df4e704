//! The typed IR: names resolved, every node typed, metric references kept as
//! nodes (with the referenced metric's checked tree inside) so `explain` can
//! show them. It says *what* to compute, not how: the engine plans and
//! executes it, and another backend could compile it to SQL.

use std::fmt;

use crate::ast::{AggFunc, BinOp, Span, WindowFunc};
use crate::types::Type;

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// Microseconds.
    Duration(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Value),
    /// A column of the row's table.
    Column(String),
    /// A parent column reached through relations: `ticket.customer.plan`
    /// has path `[ticket, customer]` and column `plan`.
    Related {
        path: Vec<String>,
        column: String,
    },
    Param(String),
    /// `params.map[key]`
    Index(Box<Expr>, Box<Expr>),
    PeriodStart,
    PeriodEnd,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Value>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    If {
        branches: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
    Call {
        func: String,
        args: Vec<Expr>,
    },
    /// `prev(value by key)`: over the whole table, ordered by its time column.
    Window {
        func: WindowFunc,
        value: Box<Expr>,
        key: Box<Expr>,
    },
    Aggregate(Box<Aggregate>),
    /// A reference to another metric, with its checked definition.
    Metric {
        id: String,
        expr: Box<Expr>,
    },
}

/// A call of a plugin's aggregate function: one value per group of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginCall {
    pub name: String,
    pub args: Vec<Expr>,
    pub returns: Type,
}

/// Which rows an aggregate sees in a period.
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    /// Rows whose timestamp column falls in [period.start, period.end).
    Column(String),
    /// Rows open at the instant (by the table's interval).
    At(Box<Expr>),
    /// Every row.
    All,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub func: AggFunc,
    pub table: String,
    pub axis: Axis,
    pub arg: Option<Expr>,
    /// Percentile fraction in [0, 1].
    pub fraction: Option<f64>,
    pub filter: Option<Expr>,
    /// For a plugin's aggregate function (`func` is `Plugin`).
    pub plugin: Option<PluginCall>,
    /// Set when the aggregate runs inside a row of a parent table: the
    /// relation of `table` that points at that parent. It then sees only
    /// the rows related to the current parent row.
    pub parent_relation: Option<String>,
}

impl Expr {
    /// Calls `f` on this node and every node below it, aggregates and metric
    /// references included.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        let mut each = |e: &'a Expr| e.walk(f);
        match &self.kind {
            ExprKind::Lit(_)
            | ExprKind::Column(_)
            | ExprKind::Related { .. }
            | ExprKind::Param(_) => {}
            ExprKind::PeriodStart | ExprKind::PeriodEnd => {}
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                each(a);
                each(b);
            }
            ExprKind::Neg(a)
            | ExprKind::Not(a)
            | ExprKind::IsNull { expr: a, .. }
            | ExprKind::In { expr: a, .. } => each(a),
            ExprKind::Between { expr, low, high } => {
                each(expr);
                each(low);
                each(high);
            }
            ExprKind::If {
                branches,
                otherwise,
            } => {
                for (c, v) in branches {
                    each(c);
                    each(v);
                }
                each(otherwise);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(each),
            ExprKind::Window { value, key, .. } => {
                each(value);
                each(key);
            }
            ExprKind::Aggregate(a) => {
                if let Axis::At(e) = &a.axis {
                    each(e);
                }
                a.arg.iter().chain(a.filter.iter()).for_each(&mut each);
                if let Some(p) = &a.plugin {
                    p.args.iter().for_each(each);
                }
            }
            ExprKind::Metric { expr, .. } => each(expr),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Duration(d) => f.write_str(&crate::ast::format_duration(*d)),
        }
    }
}

/// An indented tree, one node a line with its type: what `kpi explain`
/// shows as the typed tree.
pub fn tree(e: &Expr) -> String {
    let mut out = String::new();
    write_tree(e, 0, &mut out);
    out
}

fn write_tree(e: &Expr, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let label = match &e.kind {
        ExprKind::Lit(v) => format!("{v}"),
        ExprKind::Column(c) => format!("column {c}"),
        ExprKind::Related { path, column } => format!("related {}.{column}", path.join(".")),
        ExprKind::Param(p) => format!("params.{p}"),
        ExprKind::Index(..) => "index".into(),
        ExprKind::PeriodStart => "period.start".into(),
        ExprKind::PeriodEnd => "period.end".into(),
        ExprKind::Neg(_) => "negate".into(),
        ExprKind::Not(_) => "not".into(),
        ExprKind::Binary(op, ..) => op.symbol().to_string(),
        ExprKind::IsNull { negated, .. } => if *negated { "is not null" } else { "is null" }.into(),
        ExprKind::In { list, negated, .. } => {
            let items: Vec<String> = list.iter().map(|v| v.to_string()).collect();
            format!(
                "{}in [{}]",
                if *negated { "not " } else { "" },
                items.join(", ")
            )
        }
        ExprKind::Between { .. } => "between".into(),
        ExprKind::If { .. } => "if".into(),
        ExprKind::Call { func, .. } => format!("call {func}"),
        ExprKind::Window { func, .. } => func.name().to_string(),
        ExprKind::Aggregate(a) => {
            let axis = match &a.axis {
                Axis::Column(c) => format!("@{c}"),
                Axis::At(_) => "@instant".into(),
                Axis::All => "@all".into(),
            };
            let frac = a.fraction.map(|f| format!(" {f}")).unwrap_or_default();
            let frac = match &a.plugin {
                Some(p) => format!(" {}{frac}", p.name),
                None => frac,
            };
            let per = a
                .parent_relation
                .as_ref()
                .map(|r| format!(" per parent row via {r}"))
                .unwrap_or_default();
            format!("{}{frac} {}{axis}{per}", a.func.name(), a.table)
        }
        ExprKind::Metric { id, .. } => format!("metric {id}"),
    };
    out.push_str(&format!("{pad}{label} : {}\n", e.ty));
    let child = |e: &Expr, out: &mut String| write_tree(e, depth + 1, out);
    match &e.kind {
        ExprKind::Aggregate(a) => {
            if let Axis::At(x) = &a.axis {
                out.push_str(&format!("{pad}  at:\n"));
                write_tree(x, depth + 2, out);
            }
            if let Some(x) = &a.arg {
                out.push_str(&format!("{pad}  value:\n"));
                write_tree(x, depth + 2, out);
            }
            if let Some(x) = &a.filter {
                out.push_str(&format!("{pad}  where:\n"));
                write_tree(x, depth + 2, out);
            }
            for x in a.plugin.iter().flat_map(|p| &p.args) {
                out.push_str(&format!("{pad}  argument:\n"));
                write_tree(x, depth + 2, out);
            }
        }
        // A referenced metric is explained on its own; don't repeat its tree.
        ExprKind::Metric { .. } => {}
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            child(a, out);
            child(b, out);
        }
        ExprKind::Neg(a)
        | ExprKind::Not(a)
        | ExprKind::IsNull { expr: a, .. }
        | ExprKind::In { expr: a, .. } => child(a, out),
        ExprKind::Between { expr, low, high } => {
            child(expr, out);
            child(low, out);
            child(high, out);
        }
        ExprKind::If {
            branches,
            otherwise,
        } => {
            for (c, v) in branches {
                child(c, out);
                child(v, out);
            }
            child(otherwise, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| child(a, out)),
        ExprKind::Window { value, key, .. } => {
            child(value, out);
            child(key, out);
        }
        _ => {}
    }
}
