//! The spanned syntax tree that `parse` produces. Nothing here is resolved
//! or typed yet: a name is just a name.

use std::fmt;

/// Identifies one piece of source text in a [`crate::SourceMap`]: a whole
/// TOML file, or one formula inside it.
pub type SrcId = u32;

/// A byte range inside the source `src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub src: SrcId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(src: SrcId, start: usize, end: usize) -> Self {
        Span {
            src,
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            src: self.src,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A name with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// Every operator, loosest-binding first.
    pub const ALL: [BinOp; 12] = [
        BinOp::Or,
        BinOp::And,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
    /// Binding strength, loosest first; used by the printer to place parentheses.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }
}

/// The aggregate functions: the bridge from rows to numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Median,
    Percentile,
    /// A plugin's aggregate function; its name is in [`Aggregate::plugin`].
    Plugin,
}

impl AggFunc {
    pub fn from_name(s: &str) -> Option<AggFunc> {
        Some(match s {
            "count" => AggFunc::Count,
            "count_distinct" => AggFunc::CountDistinct,
            "sum" => AggFunc::Sum,
            "avg" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "median" => AggFunc::Median,
            "percentile" => AggFunc::Percentile,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::CountDistinct => "count_distinct",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Median => "median",
            AggFunc::Percentile => "percentile",
            AggFunc::Plugin => "plugin",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowFunc {
    Prev,
    Next,
}

impl WindowFunc {
    pub fn name(self) -> &'static str {
        match self {
            WindowFunc::Prev => "prev",
            WindowFunc::Next => "next",
        }
    }
}

/// Which rows of a table an aggregate sees in a period (`T@axis`).
#[derive(Clone, Debug, PartialEq)]
pub enum Axis {
    /// `T@all`: no period filter.
    All(Span),
    /// `T@column` or `T@<timestamp expression>`; the resolver decides which.
    Expr(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    pub func: AggFunc,
    pub table: Ident,
    pub axis: Option<Axis>,
    /// The `T: expr` argument.
    pub arg: Option<Box<Expr>>,
    /// The second argument of `percentile(T: e, 0.9)`.
    pub extra: Option<Box<Expr>>,
    pub filter: Option<Box<Expr>>,
    /// For a plugin's aggregate (`func` is `Plugin`): its name and arguments.
    pub plugin: Option<(Ident, Vec<Expr>)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    /// A duration literal, in microseconds.
    Duration(i64),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    Ident(String),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    /// `params.name`
    Param(Ident),
    /// `period.start` / `period.end` (anything else is rejected by the checker)
    Period(Ident),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Box<Expr>,
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
    Aggregate(Aggregate),
    Window {
        func: WindowFunc,
        value: Box<Expr>,
        key: Box<Expr>,
    },
    Call {
        name: Ident,
        args: Vec<Expr>,
    },
}

/// Formats a duration in microseconds the way the language writes it.
/// A negative duration gets a leading `-` (it printed as nothing before).
pub fn format_duration(us: i64) -> String {
    if us == 0 {
        return "0s".into();
    }
    let sign = if us < 0 { "-" } else { "" };
    let mut out = sign.to_string();
    let mut rest = us.unsigned_abs();
    for (unit, size) in [
        ("d", 86_400_000_000u64),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
    ] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if rest > 0 {
        // Sub-millisecond durations cannot be written as literals; say it in seconds.
        return format!("{sign}{}s", us.unsigned_abs() as f64 / 1e6);
    }
    out
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// Prints an expression back as formula text that parses to the same tree
/// (modulo spans). Parentheses are added wherever precedence needs them.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Int(v) => write!(f, "{v}"),
            ExprKind::Float(v) => {
                // A whole float must keep a `.` or an exponent to stay a
                // float: `{v}` printed 1e20 as 100000000000000000000, which
                // reads back as an integer (out of range, or an Int below
                // i64::MAX). Debug prints 3.0, 1000000000000000.0, 1e20.
                if v.fract() == 0.0 {
                    write!(f, "{v:?}")
                } else {
                    write!(f, "{v}")
                }
            }
            ExprKind::Duration(us) => f.write_str(&format_duration(*us)),
            ExprKind::Str(s) => write_string(f, s),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Null => f.write_str("null"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            ExprKind::Ident(n) => f.write_str(n),
            ExprKind::Field(e, name) => {
                // A column named `params` or `period` is bracketed: written
                // bare, `params.x` would read back as a parameter.
                match &e.kind {
                    ExprKind::Ident(n) if n == "params" || n == "period" => write!(f, "({e})")?,
                    _ => write_operand(f, e, 8)?,
                }
                write!(f, ".{}", name.name)
            }
            ExprKind::Index(e, i) => {
                write_operand(f, e, 8)?;
                write!(f, "[{i}]")
            }
            ExprKind::Param(n) => write!(f, "params.{}", n.name),
            ExprKind::Period(n) => write!(f, "period.{}", n.name),
            ExprKind::Neg(e) => {
                f.write_str("-")?;
                write_operand(f, e, 7)
            }
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                write_operand(f, e, 3)
            }
            ExprKind::Binary(op, l, r) => {
                let p = op.precedence();
                // Comparisons do not chain: both sides must bind tighter.
                let lp = if op.is_comparison() { p + 1 } else { p };
                write_operand(f, l, lp)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, r, p + 1)
            }
            ExprKind::IsNull { expr, negated } => {
                write_operand(f, expr, 5)?;
                f.write_str(if *negated { " is not null" } else { " is null" })
            }
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                write_operand(f, expr, 5)?;
                f.write_str(if *negated { " not in " } else { " in " })?;
                write_operand(f, list, 5)
            }
            ExprKind::Between { expr, low, high } => {
                write_operand(f, expr, 5)?;
                f.write_str(" between ")?;
                write_operand(f, low, 5)?;
                f.write_str(" and ")?;
                write_operand(f, high, 5)
            }
            ExprKind::If {
                branches,
                otherwise,
            } => {
                for (i, (c, v)) in branches.iter().enumerate() {
                    f.write_str(if i == 0 { "if " } else { " elif " })?;
                    write!(f, "{c} then {v}")?;
                }
                write!(f, " else {otherwise} end")
            }
            ExprKind::Aggregate(a) => {
                let name = a
                    .plugin
                    .as_ref()
                    .map_or(a.func.name(), |(n, _)| n.name.as_str());
                write!(f, "{name}({}", a.table.name)?;
                match &a.axis {
                    None => {}
                    Some(Axis::All(_)) => f.write_str("@all")?,
                    Some(Axis::Expr(e)) => match e.kind {
                        ExprKind::Ident(_)
                        | ExprKind::Period(_)
                        | ExprKind::Param(_)
                        | ExprKind::Field(..) => write!(f, "@{e}")?,
                        _ => write!(f, "@({e})")?,
                    },
                }
                if let Some(arg) = &a.arg {
                    write!(f, ": {arg}")?;
                }
                if let Some(extra) = &a.extra {
                    write!(f, ", {extra}")?;
                }
                if let Some((_, args)) = &a.plugin {
                    for (i, x) in args.iter().enumerate() {
                        write!(f, "{}{x}", if i == 0 { ": " } else { ", " })?;
                    }
                }
                if let Some(p) = &a.filter {
                    write!(f, " where {p}")?;
                }
                f.write_str(")")
            }
            ExprKind::Window { func, value, key } => write!(f, "{}({value} by {key})", func.name()),
            ExprKind::Call { name, args } => {
                write!(f, "{}(", name.name)?;
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Precedence of the syntactic form of `e` (higher binds tighter).
fn form_precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => op.precedence(),
        ExprKind::Not(_) => 3,
        ExprKind::IsNull { .. } | ExprKind::In { .. } | ExprKind::Between { .. } => 4,
        ExprKind::Neg(_) => 7,
        // A negative literal prints with a leading minus and behaves like a negation.
        ExprKind::Int(v) if *v < 0 => 7,
        ExprKind::Float(v) if *v < 0.0 => 7,
        _ => 9,
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if form_precedence(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Expr {
    /// The direct subexpressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Ident(_)
            | ExprKind::Param(_)
            | ExprKind::Period(_) => Vec::new(),
            ExprKind::List(items) => items.iter().collect(),
            ExprKind::Field(e, _)
            | ExprKind::Neg(e)
            | ExprKind::Not(e)
            | ExprKind::IsNull { expr: e, .. } => vec![e],
            ExprKind::Index(a, b)
            | ExprKind::Binary(_, a, b)
            | ExprKind::In {
                expr: a, list: b, ..
            }
            | ExprKind::Window {
                value: a, key: b, ..
            } => vec![a, b],
            ExprKind::Between { expr, low, high } => vec![expr, low, high],
            ExprKind::If {
                branches,
                otherwise,
            } => branches
                .iter()
                .flat_map(|(c, v)| [c, v])
                .chain([&**otherwise])
                .collect(),
            ExprKind::Aggregate(a) => {
                let mut out = Vec::new();
                if let Some(Axis::Expr(e)) = &a.axis {
                    out.push(&**e);
                }
                out.extend(a.arg.as_deref());
                out.extend(a.extra.as_deref());
                if let Some((_, args)) = &a.plugin {
                    out.extend(args);
                }
                out.extend(a.filter.as_deref());
                out
            }
            ExprKind::Call { args, .. } => args.iter().collect(),
        }
    }

    /// The height of the tree (a leaf is 1). Trees from [`crate::parse`]
    /// are at most [`crate::MAX_CHAIN`] + 1 high, so this recursion is bounded.
    pub fn depth(&self) -> usize {
        1 + self
            .children()
            .into_iter()
            .map(Expr::depth)
            .max()
            .unwrap_or(0)
    }
}
