//! Resolver and type checker: AST → typed IR. Every definition is checked
//! and every problem collected; a broken metric does not hide the problems
//! of the others, and a metric that refers to a broken one is not reported
//! twice.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;

use crate::ast::{self, AggFunc, BinOp, Span};
use crate::defs::{Definitions, MetricDef};
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::functions::{self, unify};
use crate::ir::{self, Axis, ExprKind as K, Value};
use crate::schema::{ParamValue, Schema};
use crate::types::Type;

/// A metric that passed every check.
#[derive(Clone, Debug)]
pub struct CheckedMetric {
    pub def: MetricDef,
    /// Definitions this one replaced (`replaces = true`), oldest first.
    pub replaced: Vec<MetricDef>,
    pub expr: ir::Expr,
    /// Every table the metric reads, through references and relations too.
    pub tables: BTreeSet<String>,
    /// Every `(table, column)` the metric reads.
    pub columns: BTreeSet<(String, String)>,
}

/// The result of checking: the metrics that passed, in definition order, and
/// every diagnostic.
#[derive(Debug, Default)]
pub struct Checked {
    pub metrics: IndexMap<String, CheckedMetric>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The type of `l op r`, or why the operands don't fit. The one place that
/// decides operator types; the engine trusts it.
pub fn binary_type(op: BinOp, l: &Type, r: &Type) -> Result<Type, String> {
    use Type::*;
    let num = |t: &Type| matches!(t, Int | Float | Null);
    let arith = |a: &Type, b: &Type| if *a == Int && *b == Int { Int } else { Float };
    let fail = || {
        Err(if op.is_comparison() {
            format!("cannot compare {} with {}", a_type(l), a_type(r))
        } else {
            format!(
                "cannot apply `{}` to {} and {}",
                op.symbol(),
                a_type(l),
                a_type(r)
            )
        })
    };
    match op {
        BinOp::And | BinOp::Or => match (l, r) {
            (Bool | Null, Bool | Null) => Ok(Bool),
            _ => fail(),
        },
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ok = match (l, r) {
                (Null, _) | (_, Null) => true,
                (a, b) if num(a) && num(b) => true,
                (Bool, Bool) => matches!(op, BinOp::Eq | BinOp::Ne),
                (a, b) => a == b && matches!(a, String | Timestamp | Duration),
            };
            if ok {
                Ok(Bool)
            } else {
                fail()
            }
        }
        BinOp::Add => match (l, r) {
            (Null, Null) => Ok(Null),
            (a, b) if num(a) && num(b) => Ok(arith(a, b)),
            (Timestamp, Duration | Null) | (Duration | Null, Timestamp) => Ok(Timestamp),
            (Duration, Duration | Null) | (Null, Duration) => Ok(Duration),
            _ => fail(),
        },
        BinOp::Sub => match (l, r) {
            (Null, Null) => Ok(Null),
            (a, b) if num(a) && num(b) => Ok(arith(a, b)),
            (Timestamp, Timestamp) => Ok(Duration),
            (Timestamp, Duration) | (Null, Duration) if *l == Timestamp => Ok(Timestamp),
            (Duration, Duration | Null) | (Null, Duration) => Ok(Duration),
            (Timestamp, Null) | (Null, Timestamp) => Ok(Duration),
            _ => fail(),
        },
        BinOp::Mul => match (l, r) {
            (Null, Null) => Ok(Null),
            (a, b) if num(a) && num(b) => Ok(arith(a, b)),
            (Duration, Int | Float) | (Int | Float, Duration) => Ok(Duration),
            _ => fail(),
        },
        BinOp::Div => match (l, r) {
            (Null, Null) => Ok(Null),
            (a, b) if num(a) && num(b) => Ok(Float),
            (Duration, Duration) => Ok(Float),
            (Duration, Int | Float | Null) => Ok(Duration),
            _ => fail(),
        },
    }
}

/// The result type of an aggregate over values of type `arg`.
pub fn aggregate_type(func: AggFunc, arg: Option<&Type>) -> Result<Type, String> {
    use Type::*;
    match (func, arg) {
        (AggFunc::Count, _) => Ok(Int),
        (AggFunc::CountDistinct, Some(List(_) | Map(_))) => {
            Err("cannot count distinct lists".into())
        }
        (AggFunc::CountDistinct, Some(_)) => Ok(Int),
        (_, None) => Err(format!(
            "`{}` needs a value: {}(T: expr)",
            func.name(),
            func.name()
        )),
        (AggFunc::Sum, Some(Bool)) => Err("cannot sum bools".into()),
        (AggFunc::Sum, Some(t @ (Int | Float | Duration))) => Ok(t.clone()),
        (AggFunc::Sum, Some(Null)) => Ok(Int),
        (AggFunc::Avg | AggFunc::Median | AggFunc::Percentile, Some(Int | Float | Null)) => {
            Ok(Float)
        }
        (AggFunc::Avg | AggFunc::Median | AggFunc::Percentile, Some(Duration)) => Ok(Duration),
        (AggFunc::Min | AggFunc::Max, Some(t @ (Int | Float | Duration | Timestamp))) => {
            Ok(t.clone())
        }
        (AggFunc::Min | AggFunc::Max, Some(Null)) => Ok(Float),
        (f, Some(t)) => Err(format!("cannot take `{}` of {}", f.name(), a_type(t))),
    }
}

#[derive(Clone, Copy)]
enum Scope<'s> {
    /// A metric formula: aggregates, metric references, params, period.
    Metric,
    /// An `@` instant: period, params and constants only.
    Instant,
    /// Inside `T: ...` or `where ...`: columns of `table`.
    Row {
        table: &'s str,
        outer: Option<&'s Scope<'s>>,
    },
}

impl Scope<'_> {
    fn row_tables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut s = Some(self);
        while let Some(Scope::Row { table, outer }) = s {
            out.push(*table);
            s = *outer;
        }
        out
    }
}

enum State {
    InProgress,
    Done(Option<ir::Expr>),
}

struct Checker<'a> {
    schema: &'a Schema,
    defs: IndexMap<String, (&'a MetricDef, Vec<MetricDef>)>,
    state: HashMap<String, State>,
    stack: Vec<String>,
    /// `refs[i]` is where metric `stack[i]` names `stack[i + 1]`.
    refs: Vec<Span>,
    diags: Vec<Diagnostic>,
    /// The size of each checked metric's tree with the metrics it refers
    /// to expanded in it (the IR copies them in, see `K::Metric`).
    expanded: HashMap<String, Expanded>,
    /// For each metric in `stack`, what its references expanded so far.
    expanding: Vec<Expanded>,
    /// Nodes of every checked metric's expanded tree, all together.
    total_nodes: usize,
}

/// Bounds on an expanded tree: its nodes, and its height.
#[derive(Clone, Copy, Debug, Default)]
struct Expanded {
    nodes: usize,
    depth: usize,
}

/// The IR copies a referenced metric's tree into every metric that names it,
/// so without bounds a chain of metrics grows the trees (and the recursion
/// over them) without end, and `m2 = m1 + m1`, `m3 = m2 + m2`, ... doubles
/// them: 25 such lines took 18 GB. A metric may name metrics at most
/// `MAX_REFERENCE_DEPTH` deep, its expanded tree may hold at most
/// `MAX_EXPANDED_NODES` nodes and be `MAX_EXPANDED_DEPTH` high, and all the
/// expanded trees together at most `MAX_TOTAL_NODES` nodes.
pub const MAX_REFERENCE_DEPTH: usize = 64;
pub const MAX_EXPANDED_NODES: usize = 20_000;
pub const MAX_EXPANDED_DEPTH: usize = 1_024;
pub const MAX_TOTAL_NODES: usize = 2_000_000;

/// Resolves and type-checks every definition against the schema.
pub fn check(defs: &Definitions, schema: &Schema) -> Checked {
    let mut c = Checker {
        schema,
        defs: IndexMap::new(),
        state: HashMap::new(),
        stack: Vec::new(),
        refs: Vec::new(),
        diags: Vec::new(),
        expanded: HashMap::new(),
        expanding: Vec::new(),
        total_nodes: 0,
    };
    for m in &defs.metrics {
        match c.defs.get_mut(&m.id) {
            None if m.replaces => c.diags.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    format!(
                        "`{}` says `replaces = true`, but there is no metric `{}` to replace",
                        m.id, m.id
                    ),
                )
                .label(m.id_span, "no earlier definition of this id")
                .hint("remove `replaces = true`"),
            ),
            None => {
                c.defs.insert(m.id.clone(), (m, Vec::new()));
            }
            Some(slot) if m.replaces => {
                let old = std::mem::replace(&mut slot.0, m);
                slot.1.push(old.clone());
            }
            Some(slot) => c.diags.push(
                Diagnostic::new(
                    codes::DUPLICATE,
                    format!("metric `{}` is defined twice", m.id),
                )
                .label(m.id_span, "defined again here")
                .label(slot.0.id_span, "first defined here")
                .hint("rename one, or add `replaces = true` to replace the earlier definition"),
            ),
        }
    }
    let ids: Vec<String> = c.defs.keys().cloned().collect();
    let mut metrics = IndexMap::new();
    for id in ids {
        if let Some(expr) = c.metric(&id) {
            let (def, replaced) = &c.defs[&id];
            let (tables, columns) = reads(&expr, schema);
            metrics.insert(
                id.clone(),
                CheckedMetric {
                    def: (*def).clone(),
                    replaced: replaced.clone(),
                    expr,
                    tables,
                    columns,
                },
            );
        }
    }
    Checked {
        metrics,
        diagnostics: c.diags,
    }
}

/// The tables and columns an expression reads.
fn reads(e: &ir::Expr, schema: &Schema) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut r = Reads {
        schema,
        tables: BTreeSet::new(),
        columns: BTreeSet::new(),
    };
    r.visit(e, None);
    (r.tables, r.columns)
}

struct Reads<'s> {
    schema: &'s Schema,
    tables: BTreeSet<String>,
    columns: BTreeSet<(String, String)>,
}

impl Reads<'_> {
    fn col(&mut self, t: &str, c: &str) {
        self.columns.insert((t.to_string(), c.to_string()));
    }

    fn visit(&mut self, e: &ir::Expr, table: Option<&str>) {
        let schema = self.schema;
        match &e.kind {
            K::Column(c) => {
                if let Some(t) = table {
                    self.col(t, c);
                }
            }
            K::Related { path, column } => {
                let Some(mut t) = table.map(str::to_string) else {
                    return;
                };
                for rel in path {
                    let Some(r) = schema.tables.get(&t).and_then(|s| s.relations.get(rel)) else {
                        return;
                    };
                    self.col(&t, &r.column);
                    self.col(&r.table, &r.key);
                    self.tables.insert(r.table.clone());
                    t = r.table.clone();
                }
                self.col(&t, column);
            }
            K::Aggregate(a) => {
                self.tables.insert(a.table.clone());
                let ts = schema.tables.get(&a.table);
                match &a.axis {
                    Axis::Column(c) => self.col(&a.table, c),
                    Axis::At(x) => {
                        if let Some((from, to)) = ts.and_then(|s| s.interval.as_ref()) {
                            self.col(&a.table, from);
                            self.col(&a.table, to);
                        }
                        self.visit(x, None);
                    }
                    Axis::All => {}
                }
                if let Some(r) = a
                    .parent_relation
                    .as_ref()
                    .and_then(|rel| ts.and_then(|s| s.relations.get(rel)))
                {
                    self.col(&a.table, &r.column);
                    self.col(&r.table, &r.key);
                }
                for x in a
                    .arg
                    .iter()
                    .chain(a.filter.iter())
                    .chain(a.plugin.iter().flat_map(|p| &p.args))
                {
                    self.visit(x, Some(&a.table));
                }
            }
            K::Window { value, key, .. } => {
                if let Some(t) = table {
                    if let Some(time) = schema.tables.get(t).and_then(|s| s.time.as_ref()) {
                        self.col(t, time);
                    }
                }
                self.visit(value, table);
                self.visit(key, table);
            }
            K::Metric { expr, .. } => self.visit(expr, None),
            _ => {
                // Every other node: visit direct children in the same table.
                let mut kids: Vec<&ir::Expr> = Vec::new();
                match &e.kind {
                    K::Index(a, b) | K::Binary(_, a, b) => kids.extend([&**a, &**b]),
                    K::Neg(a) | K::Not(a) | K::IsNull { expr: a, .. } | K::In { expr: a, .. } => {
                        kids.push(a)
                    }
                    K::Between { expr, low, high } => kids.extend([&**expr, &**low, &**high]),
                    K::If {
                        branches,
                        otherwise,
                    } => {
                        for (c, v) in branches {
                            kids.extend([c, v]);
                        }
                        kids.push(otherwise);
                    }
                    K::Call { args, .. } => kids.extend(args.iter()),
                    _ => {}
                }
                for k in kids {
                    self.visit(k, table);
                }
            }
        }
    }
}

type Checked1 = Option<ir::Expr>;

/// `a string`, `an int`, `null`: a type in a sentence.
fn a_type(ty: &Type) -> String {
    match ty {
        Type::Null => "null".to_string(),
        Type::Int => "an int".to_string(),
        t => format!("a {t}"),
    }
}

fn node(kind: K, ty: Type, span: Span) -> ir::Expr {
    ir::Expr { kind, ty, span }
}

impl<'a> Checker<'a> {
    fn error(&mut self, d: Diagnostic) -> Checked1 {
        self.diags.push(d);
        None
    }

    /// Checks metric `id` once, following references depth-first.
    fn metric(&mut self, id: &str) -> Checked1 {
        match self.state.get(id) {
            Some(State::Done(e)) => return e.clone(),
            Some(State::InProgress) => return None,
            None => {}
        }
        let def = self.defs[id].0;
        self.state.insert(id.to_string(), State::InProgress);
        self.stack.push(id.to_string());
        self.expanding.push(Expanded::default());
        let result = match crate::parse::parse(&def.formula, def.formula_src) {
            Err(d) => self.error(d),
            Ok(ast) => {
                let e = self.expr(&ast, Scope::Metric);
                let e = self.bound_expansion(id, def, &ast, e);
                match e {
                    Some(e)
                        if !matches!(
                            e.ty,
                            Type::Int | Type::Float | Type::Duration | Type::Null
                        ) =>
                    {
                        let hint = match e.ty {
                            Type::Bool => "a condition is not a number: count the rows where it holds with count(T where ...), and compare a metric with a goal with `target = ...`",
                            Type::Timestamp => "a point in time is not a number: subtract two timestamps for a duration, e.g. avg(tickets: solved_at - created_at)",
                            _ => "a metric is a number or a duration, e.g. count(T), avg(T: column)",
                        };
                        self.error(
                            Diagnostic::new(
                                codes::METRIC_TYPE,
                                format!("metric `{id}` computes {}", a_type(&e.ty)),
                            )
                            .label(e.span, format!("this is {}", a_type(&e.ty)))
                            .hint(hint),
                        )
                    }
                    e => e,
                }
            }
        };
        self.stack.pop();
        self.expanding.pop();
        self.state
            .insert(id.to_string(), State::Done(result.clone()));
        result
    }

    /// Measures metric `id`'s expanded tree `e` and refuses it past the
    /// bounds (see [`MAX_EXPANDED_NODES`]).
    fn bound_expansion(
        &mut self,
        id: &str,
        def: &MetricDef,
        ast: &ast::Expr,
        e: Checked1,
    ) -> Checked1 {
        let e = e?;
        let refs = self.expanding.last().copied().unwrap_or_default();
        // The references were bounded as they were expanded, so this walk
        // is bounded too.
        let mut nodes = 0;
        e.walk(&mut |_| nodes += 1);
        let depth = ast.depth() + refs.depth;
        self.total_nodes += nodes;
        let too_large = if nodes > MAX_EXPANDED_NODES || depth > MAX_EXPANDED_DEPTH {
            Some(format!(
                "with the metrics it refers to written out, metric `{id}` has {nodes} nodes, \
                 up to {depth} levels deep (at most {MAX_EXPANDED_NODES} nodes, \
                 {MAX_EXPANDED_DEPTH} levels)"
            ))
        } else if self.total_nodes > MAX_TOTAL_NODES {
            Some(format!(
                "with the metrics they refer to written out, the metrics up to `{id}` have more \
                 than {MAX_TOTAL_NODES} nodes in all"
            ))
        } else {
            None
        };
        if let Some(message) = too_large {
            return self.error(
                Diagnostic::new(codes::TOO_DEEP, message)
                    .label(def.id_span, "defined here")
                    .hint("a metric copies the formulas of the metrics it names; name fewer, or split the chain"),
            );
        }
        self.expanded
            .insert(id.to_string(), Expanded { nodes, depth });
        Some(e)
    }

    /// Counts a referenced metric's expanded tree `m` into the metric being
    /// checked; `None` (and a diagnostic at the reference) past the bound.
    fn expand(&mut self, m: Expanded, span: Span) -> Option<()> {
        let budget = self.expanding.last_mut()?;
        budget.nodes += m.nodes;
        budget.depth = budget.depth.max(m.depth);
        if budget.nodes <= MAX_EXPANDED_NODES {
            return Some(());
        }
        let id = self.stack.last().cloned().unwrap_or_default();
        self.diags.push(
            Diagnostic::at(
                codes::TOO_DEEP,
                span,
                format!(
                    "with the metrics it refers to written out, metric `{id}` has more than \
                     {MAX_EXPANDED_NODES} nodes"
                ),
            )
            .hint("a metric copies the formulas of the metrics it names; name fewer, or split the chain"),
        );
        None
    }

    fn column_type(&self, table: &str, column: &str) -> Option<&'a Type> {
        self.schema
            .tables
            .get(table)
            .and_then(|t| t.columns.get(column))
    }

    fn unknown_column(&mut self, table: &str, name: &str, span: Span) -> Checked1 {
        let ts = &self.schema.tables[table];
        let mut d = Diagnostic::at(
            codes::UNKNOWN_COLUMN,
            span,
            format!("table `{table}` has no column `{name}`"),
        );
        let candidates = ts
            .columns
            .keys()
            .map(String::as_str)
            .chain(ts.relations.keys().map(String::as_str));
        if let Some(h) = did_you_mean(name, candidates) {
            d = d.hint(h);
        } else {
            let cols: Vec<&str> = ts.columns.keys().map(String::as_str).collect();
            d = d.hint(format!("its columns are {}", cols.join(", ")));
        }
        self.error(d)
    }

    fn expr(&mut self, e: &ast::Expr, scope: Scope<'_>) -> Checked1 {
        use ast::ExprKind as A;
        let span = e.span;
        match &e.kind {
            A::Int(v) => Some(node(K::Lit(Value::Int(*v)), Type::Int, span)),
            A::Float(v) => Some(node(K::Lit(Value::Float(*v)), Type::Float, span)),
            A::Duration(v) => Some(node(K::Lit(Value::Duration(*v)), Type::Duration, span)),
            A::Str(s) => Some(node(K::Lit(Value::Str(s.clone())), Type::String, span)),
            A::Bool(b) => Some(node(K::Lit(Value::Bool(*b)), Type::Bool, span)),
            A::Null => Some(node(K::Lit(Value::Null), Type::Null, span)),
            A::List(_) => self.error(
                Diagnostic::new(
                    codes::MISMATCH,
                    "a list can only stand on the right of `in`",
                )
                .label(span, "a list")
                .hint("write `x in [\"a\", \"b\"]`"),
            ),
            A::Ident(name) => self.ident(name, span, scope),
            A::Field(base, field) => self.field(base, field, span, scope),
            A::Index(base, key) => {
                let b = self.expr(base, scope);
                let k = self.expr(key, scope);
                let (b, k) = (b?, k?);
                match (&b.ty, &k.ty) {
                    (Type::Map(v), Type::String | Type::Null) => {
                        let ty = (**v).clone();
                        Some(node(K::Index(Box::new(b), Box::new(k)), ty, span))
                    }
                    (Type::Map(_), t) => self.error(
                        Diagnostic::new(
                            codes::INDEX,
                            format!(
                                "a parameter table is indexed by a string, found {}",
                                a_type(t)
                            ),
                        )
                        .label(key.span, format!("this is {}", a_type(t)))
                        .hint(format!(
                            "index it with a string column or literal, e.g. {base}[priority]"
                        )),
                    ),
                    (t, _) => self.error(
                        Diagnostic::new(codes::INDEX, format!("cannot index {}", a_type(t)))
                            .label(base.span, format!("this is {}", a_type(t)))
                            .hint("only parameter tables (`params.x[key]`) take an index"),
                    ),
                }
            }
            A::Param(name) => match self.schema.params.get(&name.name) {
                Some(v) => Some(node(K::Param(name.name.clone()), v.ty(), span)),
                None => {
                    let mut d = Diagnostic::at(
                        codes::UNKNOWN_PARAM,
                        name.span,
                        format!("unknown parameter `{}`", name.name),
                    );
                    if let Some(h) =
                        did_you_mean(&name.name, self.schema.params.keys().map(String::as_str))
                    {
                        d = d.hint(h);
                    } else {
                        d = d.hint("declare it under [params] in kpi.toml or a definition file");
                    }
                    self.error(d)
                }
            },
            A::Period(f) => match f.name.as_str() {
                "start" => Some(node(K::PeriodStart, Type::Timestamp, span)),
                "end" => Some(node(K::PeriodEnd, Type::Timestamp, span)),
                other => {
                    let mut d = Diagnostic::at(
                        codes::UNKNOWN_PERIOD_FIELD,
                        f.span,
                        format!("`period` has no field `{other}`"),
                    );
                    d = d.hint(
                        did_you_mean(other, ["start", "end"])
                            .unwrap_or("use period.start or period.end".into()),
                    );
                    self.error(d)
                }
            },
            A::Neg(x) => {
                let x = self.expr(x, scope)?;
                match x.ty {
                    Type::Int | Type::Float | Type::Duration | Type::Null => {
                        let ty = x.ty.clone();
                        Some(node(K::Neg(Box::new(x)), ty, span))
                    }
                    ref t => {
                        let d = Diagnostic::new(
                            codes::MISMATCH,
                            format!("cannot negate {}", a_type(t)),
                        )
                        .label(x.span, format!("this is {}", a_type(t)));
                        self.error(d)
                    }
                }
            }
            A::Not(x) => {
                let x = self.condition(x, scope, "`not`")?;
                Some(node(K::Not(Box::new(x)), Type::Bool, span))
            }
            A::Binary(op, l, r) => {
                let before = self.diags.len();
                let operands = [&**l, &**r];
                let (l, r) = (self.expr(l, scope), self.expr(r, scope));
                if op.is_comparison() {
                    self.suggest_quotes(before, operands);
                }
                let (l, r) = (l?, r?);
                match binary_type(*op, &l.ty, &r.ty) {
                    Ok(ty) => Some(node(K::Binary(*op, Box::new(l), Box::new(r)), ty, span)),
                    Err(msg) => {
                        // The left operand carries the location; both say their type.
                        let mut d = Diagnostic::new(codes::MISMATCH, msg)
                            .label(l.span, format!("this is {}", a_type(&l.ty)))
                            .label(r.span, format!("this is {}", a_type(&r.ty)));
                        if matches!(
                            (&l.ty, &r.ty),
                            (Type::String, Type::Int | Type::Float)
                                | (Type::Int | Type::Float, Type::String)
                        ) {
                            d = d.hint("compare a string with a string (\"...\") and a number with a number");
                        } else if matches!(op, BinOp::And | BinOp::Or) {
                            d = d.hint("both sides of `and`/`or` must be conditions");
                        } else if matches!(op, BinOp::Add | BinOp::Sub)
                            && matches!(
                                (&l.ty, &r.ty),
                                (Type::Timestamp, Type::Int | Type::Float)
                                    | (Type::Int | Type::Float, Type::Timestamp)
                            )
                        {
                            d = d.hint("add or subtract a duration, e.g. period.end - 1d or created_at + 2h");
                        }
                        self.error(d)
                    }
                }
            }
            A::IsNull { expr, negated } => {
                let x = self.expr(expr, scope)?;
                Some(node(
                    K::IsNull {
                        expr: Box::new(x),
                        negated: *negated,
                    },
                    Type::Bool,
                    span,
                ))
            }
            A::In {
                expr,
                list,
                negated,
            } => {
                let x = self.expr(expr, scope);
                let A::List(items) = &list.kind else {
                    return self.error(
                        Diagnostic::new(codes::MISMATCH, "`in` takes a list of constants")
                            .label(list.span, "not a list")
                            .hint("write `x in [\"a\", \"b\"]`"),
                    );
                };
                let mut values = Vec::new();
                let mut ok = true;
                for it in items {
                    match constant(it) {
                        Some(v) => values.push(v),
                        None => {
                            ok = false;
                            self.diags.push(
                                Diagnostic::new(codes::MISMATCH, "list items must be constants")
                                    .label(it.span, "not a constant")
                                    .hint("an `in` list holds literal values, e.g. [\"email\", \"chat\"]; compare columns with `==`"),
                            );
                        }
                    }
                }
                let x = x?;
                if !ok {
                    return None;
                }
                for (v, it) in values.iter().zip(items) {
                    let vt = value_type(v);
                    if binary_type(BinOp::Eq, &x.ty, &vt).is_err() {
                        return self.error(
                            Diagnostic::new(
                                codes::MISMATCH,
                                format!("cannot compare {} with {}", a_type(&x.ty), a_type(&vt)),
                            )
                            .label(it.span, format!("this is {}", a_type(&vt)))
                            .label(x.span, format!("this is {}", a_type(&x.ty))),
                        );
                    }
                }
                Some(node(
                    K::In {
                        expr: Box::new(x),
                        list: values,
                        negated: *negated,
                    },
                    Type::Bool,
                    span,
                ))
            }
            A::Between { expr, low, high } => {
                let (x, lo, hi) = (
                    self.expr(expr, scope),
                    self.expr(low, scope),
                    self.expr(high, scope),
                );
                let (x, lo, hi) = (x?, lo?, hi?);
                for bound in [&lo, &hi] {
                    if let Err(msg) = binary_type(BinOp::Le, &x.ty, &bound.ty) {
                        return self.error(
                            Diagnostic::new(codes::MISMATCH, msg)
                                .label(bound.span, format!("this is {}", a_type(&bound.ty)))
                                .label(x.span, format!("this is {}", a_type(&x.ty))),
                        );
                    }
                }
                Some(node(
                    K::Between {
                        expr: Box::new(x),
                        low: Box::new(lo),
                        high: Box::new(hi),
                    },
                    Type::Bool,
                    span,
                ))
            }
            A::If {
                branches,
                otherwise,
            } => {
                let mut out = Vec::new();
                let mut ty = Type::Null;
                let mut failed = false;
                for (c, v) in branches {
                    let c = self.condition(c, scope, "`if`");
                    let v = self.expr(v, scope);
                    match (c, v) {
                        (Some(c), Some(v)) => out.push((c, v)),
                        _ => failed = true,
                    }
                }
                let o = self.expr(otherwise, scope);
                let o = o?;
                if failed {
                    return None;
                }
                // The first branch with a type other than null sets it.
                let mut first: Option<Span> = None;
                for v in out.iter().map(|(_, v)| v).chain(std::iter::once(&o)) {
                    match unify(&ty, &v.ty) {
                        Some(t) => {
                            if v.ty != Type::Null {
                                first.get_or_insert(v.span);
                            }
                            ty = t;
                        }
                        None => {
                            let mut d = Diagnostic::new(
                                codes::BRANCH_TYPES,
                                format!(
                                    "an `if` branch is {} where an earlier one is {}",
                                    a_type(&v.ty),
                                    a_type(&ty)
                                ),
                            )
                            .label(v.span, format!("this is {}", a_type(&v.ty)));
                            if let Some(f) = first {
                                d = d.label(f, format!("this is {}", a_type(&ty)));
                            }
                            return self
                                .error(d.hint("every branch of an `if` must have the same type"));
                        }
                    }
                }
                Some(node(
                    K::If {
                        branches: out,
                        otherwise: Box::new(o),
                    },
                    ty,
                    span,
                ))
            }
            A::Call { name, args } => {
                if AggFunc::from_name(&name.name).is_some() {
                    // `avg(handle_time)`, `count()`: an aggregate without a
                    // table parses as a call. One error, not one per argument.
                    return self.aggregate_without_table(&name.name, args, span);
                }
                if matches!(name.name.as_str(), "prev" | "next") {
                    // A window function written like a call: the `by` is missing.
                    return self.error(
                        Diagnostic::new(
                            codes::FUNCTION_ARGUMENT,
                            format!("`{0}` needs a key to follow: {0}(column by key)", name.name),
                        )
                        .label(span, "no `by`")
                        .hint(format!(
                            "e.g. {}(created_at by customer_id): the same customer's {} ticket",
                            name.name,
                            if name.name == "prev" {
                                "previous"
                            } else {
                                "next"
                            }
                        )),
                    );
                }
                let checked: Vec<Checked1> = args.iter().map(|a| self.expr(a, scope)).collect();
                if functions::lookup(&name.name).is_none()
                    && self.schema.functions.contains_key(&name.name)
                {
                    let args: Vec<ir::Expr> = checked.into_iter().collect::<Option<_>>()?;
                    let (args, ty) = self.plugin_call(name, args, span, false)?;
                    return Some(node(
                        K::Call {
                            func: name.name.clone(),
                            args,
                        },
                        ty,
                        span,
                    ));
                }
                let Some(f) = functions::lookup(&name.name) else {
                    let mut d = Diagnostic::at(
                        codes::UNKNOWN_FUNCTION,
                        name.span,
                        format!("unknown function `{}`", name.name),
                    );
                    let names = functions::FUNCTIONS
                        .iter()
                        .chain(functions::SERIES_FUNCTIONS)
                        .map(|f| f.name);
                    match did_you_mean(&name.name, names.clone()) {
                        Some(h) => d = d.hint(h),
                        None => {
                            let all: Vec<&str> = names.collect();
                            d = d.hint(format!(
                                "the built-in functions are {}; a plugin's function needs the plugin loaded \
                                 (`plugins = [\"...\"]` in kpi.toml, or --plugin PATH)",
                                all.join(", ")
                            ));
                        }
                    }
                    return self.error(d);
                };
                let args: Vec<ir::Expr> = checked.into_iter().collect::<Option<_>>()?;
                if functions::is_series(f.name) {
                    if !matches!(scope, Scope::Metric) {
                        return self.error(
                            Diagnostic::at(
                                codes::FUNCTION_ARGUMENT,
                                span,
                                format!("`{}` works across periods, on metrics", f.name),
                            )
                            .hint("use it in a metric formula, outside any aggregate"),
                        );
                    }
                    for a in &args[1.min(args.len())..] {
                        if !matches!(a.kind, K::Lit(Value::Int(n)) if n >= 1) {
                            return self.error(
                                Diagnostic::at(
                                    codes::FUNCTION_ARGUMENT,
                                    a.span,
                                    format!(
                                        "`{}` takes a whole number of periods (1 or more) here",
                                        f.name
                                    ),
                                )
                                .hint(format!("usage: {}", f.signature)),
                            );
                        }
                    }
                }
                let types: Vec<Type> = args.iter().map(|a| a.ty.clone()).collect();
                match (f.returns)(&types) {
                    Ok(ty) => Some(node(
                        K::Call {
                            func: f.name.to_string(),
                            args,
                        },
                        ty,
                        span,
                    )),
                    Err(msg) => {
                        let hint = if matches!(f.name, "minutes" | "hours" | "days")
                            && types.first() == Some(&Type::Timestamp)
                        {
                            format!(
                                "subtract two timestamps for a duration, e.g. {}(solved_at - created_at)",
                                f.name
                            )
                        } else {
                            format!("usage: {}", f.signature)
                        };
                        self.error(
                            Diagnostic::at(
                                codes::FUNCTION_ARGUMENT,
                                span,
                                format!("`{}` {msg}", f.name),
                            )
                            .hint(hint),
                        )
                    }
                }
            }
            A::Window { func, value, key } => {
                let Scope::Row { table, .. } = scope else {
                    return self.error(
                        Diagnostic::at(
                            codes::ROW_OUTSIDE_AGGREGATE,
                            span,
                            format!("`{}` reads rows; use it inside an aggregate", func.name()),
                        )
                        .hint("e.g. avg(tickets: created_at - prev(created_at by customer_id))"),
                    );
                };
                if self.schema.tables[table].time.is_none() {
                    return self.error(
                        Diagnostic::new(
                            codes::AXIS_TYPE,
                            format!(
                                "`{}` orders rows by time, and table `{table}` has no time column",
                                func.name()
                            ),
                        )
                        .label(span, "needs a time column")
                        .hint(format!("set `time` for [tables.{table}] in kpi.toml")),
                    );
                }
                let (v, k) = (self.expr(value, scope), self.expr(key, scope));
                let (v, k) = (v?, k?);
                let ty = v.ty.clone();
                Some(node(
                    K::Window {
                        func: *func,
                        value: Box::new(v),
                        key: Box::new(k),
                    },
                    ty,
                    span,
                ))
            }
            A::Aggregate(a) => self.aggregate(a, span, scope),
        }
    }

    /// `channel == email`: an unknown column compared with something reads
    /// like a value that lost its quotes.
    fn suggest_quotes(&mut self, from: usize, operands: [&ast::Expr; 2]) {
        for d in &mut self.diags[from..] {
            // Only where no better hint was found (a near name, a relation).
            if d.code != codes::UNKNOWN_COLUMN
                || !d
                    .hint
                    .as_ref()
                    .is_some_and(|h| h.starts_with("its columns are"))
            {
                continue;
            }
            for o in operands {
                if let ast::ExprKind::Ident(name) = &o.kind {
                    if d.primary() == Some(o.span) {
                        d.hint = Some(format!("a text value is written in quotes: \"{name}\""));
                    }
                }
            }
        }
    }

    fn aggregate_without_table(&mut self, func: &str, args: &[ast::Expr], span: Span) -> Checked1 {
        let hint = match args {
            [] if func == "count" => "name the table, e.g. count(tickets)".to_string(),
            [] => format!("name the table and the value, e.g. {func}(tickets: handle_time)"),
            [ast::Expr {
                kind: ast::ExprKind::Ident(c),
                ..
            }] => match self.schema.tables.iter().find(|(_, t)| t.columns.contains_key(c)) {
                Some((t, _)) => format!("write {func}({t}: {c})"),
                None => format!("write {func}(T: expr), e.g. {func}(tickets: {c})"),
            },
            _ => format!(
                "write {func}(T: expr); to combine metrics, name them in the formula, e.g. escalations / tickets"
            ),
        };
        self.error(
            Diagnostic::new(
                codes::AGGREGATE_ARGUMENT,
                format!("`{func}` needs a table first: {func}(T: expr)"),
            )
            .label(span, "no table named here")
            .hint(hint),
        )
    }

    fn condition(&mut self, e: &ast::Expr, scope: Scope<'_>, what: &str) -> Checked1 {
        let x = self.expr(e, scope)?;
        if matches!(x.ty, Type::Bool | Type::Null) {
            Some(x)
        } else {
            let ty = x.ty.clone();
            let hint = match ty {
                Type::String => format!("compare it, e.g. `{e} == \"...\"`"),
                Type::Int | Type::Float => format!("compare it, e.g. `{e} > 0`"),
                Type::Duration => format!("compare it, e.g. `{e} > 1h`"),
                _ => format!("compare it, e.g. `{e} is not null`"),
            };
            self.error(
                Diagnostic::new(
                    codes::NOT_BOOL,
                    format!("{what} needs a condition, found {}", a_type(&ty)),
                )
                .label(x.span, format!("this is {}", a_type(&ty)))
                .hint(hint),
            )
        }
    }

    fn ident(&mut self, name: &str, span: Span, scope: Scope<'_>) -> Checked1 {
        match scope {
            Scope::Row { table, .. } => {
                if let Some(t) = self.column_type(table, name) {
                    return Some(node(K::Column(name.to_string()), t.clone(), span));
                }
                if self.schema.tables[table].relations.contains_key(name) {
                    return self.error(
                        Diagnostic::at(
                            codes::UNKNOWN_COLUMN,
                            span,
                            format!("`{name}` is a relation of `{table}`, not a column"),
                        )
                        .hint(format!("read a column of the related row: `{name}.column`")),
                    );
                }
                if self.defs.contains_key(name) {
                    return self.error(
                        Diagnostic::at(codes::AGGREGATE_IN_ROW, span, format!("metric `{name}` cannot be used inside a row expression of `{table}`"))
                            .hint("metrics are values per period; combine them outside the aggregate"),
                    );
                }
                self.unknown_column(table, name, span)
            }
            Scope::Metric if self.defs.contains_key(name) => {
                if let Some(start) = self.stack.iter().position(|s| s == name) {
                    // Point at every reference along the cycle, starting in
                    // the metric that closes it.
                    let mut path: Vec<&str> =
                        self.stack[start..].iter().map(String::as_str).collect();
                    path.push(name);
                    let mut d = Diagnostic::new(
                        codes::CYCLE,
                        format!("metric `{name}` depends on itself: {}", path.join(" → ")),
                    );
                    let spans = self.refs[start..].iter().copied().chain([span]);
                    for (w, at) in path.windows(2).zip(spans) {
                        let what = if w[0] == w[1] {
                            format!("`{}` refers to itself", w[0])
                        } else {
                            format!("`{}` refers to `{}`", w[0], w[1])
                        };
                        d = d.label(at, what);
                    }
                    return self.error(
                        d.hint("a metric cannot refer to itself, directly or through others"),
                    );
                }
                if self.stack.len() >= MAX_REFERENCE_DEPTH {
                    return self.error(
                        Diagnostic::at(
                            codes::TOO_DEEP,
                            span,
                            format!(
                                "metrics refer to metrics more than {MAX_REFERENCE_DEPTH} deep here"
                            ),
                        )
                        .hint("a metric copies the formulas of the metrics it names; shorten the chain"),
                    );
                }
                // A metric checked before is measured: refuse before
                // copying it in when it would make this one too large.
                let measured = self.expanded.get(name).copied();
                if let Some(m) = measured {
                    self.expand(m, span)?;
                }
                self.refs.push(span);
                let inner = self.metric(name);
                self.refs.pop();
                let inner = inner?;
                if measured.is_none() {
                    // Checked just now, depth-first.
                    let m = self.expanded.get(name).copied().unwrap_or_default();
                    self.expand(m, span)?;
                }
                let ty = inner.ty.clone();
                Some(node(
                    K::Metric {
                        id: name.to_string(),
                        expr: Box::new(inner),
                    },
                    ty,
                    span,
                ))
            }
            _ => {
                let tables_with: Vec<&str> = self
                    .schema
                    .tables
                    .iter()
                    .filter(|(_, t)| t.columns.contains_key(name))
                    .map(|(n, _)| n.as_str())
                    .collect();
                if let (Scope::Metric, Some(t)) = (scope, tables_with.first()) {
                    return self.error(
                        Diagnostic::at(codes::ROW_OUTSIDE_AGGREGATE, span, format!("`{name}` is a column of `{t}`; a metric needs an aggregate over rows"))
                            .hint(format!("e.g. avg({t}: {name}) or count({t} where ...)")),
                    );
                }
                if let Scope::Instant = scope {
                    return self.error(
                        Diagnostic::at(codes::UNKNOWN_NAME, span, format!("`{name}` cannot be used in an `@` instant"))
                            .hint("an instant is built from period.start, period.end, params and constants"),
                    );
                }
                let mut d = Diagnostic::at(
                    codes::UNKNOWN_NAME,
                    span,
                    format!("unknown metric `{name}`"),
                );
                if let Some(h) = did_you_mean(name, self.defs.keys().map(String::as_str)) {
                    d = d.hint(h);
                }
                self.error(d)
            }
        }
    }

    /// `a.b`: a relation hop in a row, or `ticket.customer.plan`.
    fn field(
        &mut self,
        base: &ast::Expr,
        field: &ast::Ident,
        span: Span,
        scope: Scope<'_>,
    ) -> Checked1 {
        let Scope::Row { table, .. } = scope else {
            return self.error(
                Diagnostic::at(
                    codes::ROW_OUTSIDE_AGGREGATE,
                    span,
                    "a related column can only be read inside an aggregate",
                )
                .hint("e.g. count(messages where ticket.channel == \"chat\")"),
            );
        };
        // Flatten `a.b.c` into the relation path [a, b] and the column c.
        let mut path = Vec::new();
        let mut cur = base;
        loop {
            match &cur.kind {
                ast::ExprKind::Ident(n) => {
                    path.push((n.clone(), cur.span));
                    break;
                }
                ast::ExprKind::Field(b, f) => {
                    path.push((f.name.clone(), f.span));
                    cur = b;
                }
                _ => {
                    return self.error(
                        Diagnostic::new(codes::UNKNOWN_RELATION, "only relations have fields")
                            .label(cur.span, "not a relation")
                            .hint("a field reads a column of a related row, e.g. ticket.channel"),
                    )
                }
            }
        }
        path.reverse();
        let mut t = table.to_string();
        let mut names = Vec::new();
        for (rel, rspan) in &path {
            let ts = &self.schema.tables[&t];
            match ts.relations.get(rel) {
                Some(r) => {
                    names.push(rel.clone());
                    t = r.table.clone();
                }
                None => {
                    let mut d = Diagnostic::at(
                        codes::UNKNOWN_RELATION,
                        *rspan,
                        format!("table `{t}` has no relation `{rel}`"),
                    );
                    if let Some(h) = did_you_mean(rel, ts.relations.keys().map(String::as_str)) {
                        d = d.hint(h);
                    } else if ts.columns.contains_key(rel) {
                        d = d.hint(format!("`{rel}` is a column; columns have no fields"));
                    }
                    return self.error(d);
                }
            }
        }
        match self.column_type(&t, &field.name) {
            Some(ty) => Some(node(
                K::Related {
                    path: names,
                    column: field.name.clone(),
                },
                ty.clone(),
                span,
            )),
            None => self.unknown_column(&t.clone(), &field.name, field.span),
        }
    }

    fn aggregate(&mut self, a: &ast::Aggregate, span: Span, scope: Scope<'_>) -> Checked1 {
        let tname = a.table.name.as_str();
        let Some(ts) = self.schema.tables.get(tname) else {
            let mut d = Diagnostic::at(
                codes::UNKNOWN_TABLE,
                a.table.span,
                format!("unknown table `{tname}`"),
            );
            if let Some(h) = did_you_mean(tname, self.schema.tables.keys().map(String::as_str)) {
                d = d.hint(h);
            } else if let Some((t, _)) = self
                .schema
                .tables
                .iter()
                .find(|(_, t)| t.columns.contains_key(tname))
            {
                // `avg(handle_time)`: a column where the table belongs.
                d = d.hint(format!(
                    "`{tname}` is a column of `{t}`: write {}({t}: {tname})",
                    a.func.name()
                ));
            }
            return self.error(d);
        };
        let parent_relation = match scope {
            Scope::Instant => {
                return self.error(Diagnostic::at(
                    codes::UNKNOWN_NAME,
                    span,
                    "an `@` instant cannot hold an aggregate",
                ));
            }
            Scope::Metric => None,
            Scope::Row { table: parent, .. } => {
                if scope.row_tables().contains(&tname) {
                    return self.error(
                        Diagnostic::at(
                            codes::AGGREGATE_IN_ROW,
                            span,
                            format!("an aggregate over `{tname}` inside a row of `{tname}`"),
                        )
                        .hint(
                            "aggregates inside a row run over related child rows of another table",
                        ),
                    );
                }
                let rels = self.schema.relation_to(tname, parent);
                match rels.as_slice() {
                    [(name, _)] => Some(name.to_string()),
                    [] => {
                        return self.error(
                            Diagnostic::at(codes::NO_RELATION, a.table.span, format!("`{tname}` has no relation to `{parent}`"))
                                .hint(format!("declare one: [tables.{tname}.relations] {parent} = \"<column> -> {parent}.<key>\"")),
                        )
                    }
                    _ => {
                        let names: Vec<&str> = rels.iter().map(|(n, _)| *n).collect();
                        return self.error(
                            Diagnostic::at(
                                codes::NO_RELATION,
                                a.table.span,
                                format!("`{tname}` relates to `{parent}` in several ways ({})", names.join(", ")),
                            )
                            .hint(format!("an aggregate inside a row follows the one relation from `{tname}` to `{parent}`; keep one in [tables.{tname}.relations]")),
                        );
                    }
                }
            }
        };
        let axis = match &a.axis {
            Some(ast::Axis::All(_)) => Some(Axis::All),
            None if parent_relation.is_some() => Some(Axis::All),
            None => match &ts.time {
                Some(t) => Some(Axis::Column(t.clone())),
                None => self.error(
                    Diagnostic::new(codes::AXIS_TYPE, format!("table `{tname}` has no time column to cut periods by"))
                        .label(a.table.span, "no time column")
                        .hint(format!("write {tname}@all, or {tname}@<timestamp column>, or set `time` for the table")),
                ).map(|_| Axis::All),
            },
            Some(ast::Axis::Expr(x)) => match &x.kind {
                ast::ExprKind::Ident(c) if ts.columns.contains_key(c) => {
                    if ts.columns[c] == Type::Timestamp {
                        Some(Axis::Column(c.clone()))
                    } else {
                        let ty = a_type(&ts.columns[c]);
                        let stamps: Vec<&str> = ts.columns.iter().filter(|(_, t)| **t == Type::Timestamp).map(|(n, _)| n.as_str()).collect();
                        let d = Diagnostic::new(codes::AXIS_TYPE, format!("`{c}` is {ty}, not a timestamp"))
                            .label(x.span, format!("this is {ty}"))
                            .hint(format!("`@` picks the timestamp that puts a row in a period: {}", stamps.join(", ")));
                        self.error(d).map(|_| Axis::All)
                    }
                }
                ast::ExprKind::Ident(c) if !self.schema.params.contains_key(c) => {
                    let mut d = Diagnostic::at(codes::UNKNOWN_COLUMN, x.span, format!("table `{tname}` has no column `{c}`"));
                    let stamps = ts.columns.iter().filter(|(_, t)| **t == Type::Timestamp).map(|(n, _)| n.as_str());
                    if let Some(h) = did_you_mean(c, stamps) {
                        d = d.hint(h);
                    }
                    self.error(d).map(|_| Axis::All)
                }
                _ => match self.expr(x, Scope::Instant) {
                    Some(e) if e.ty != Type::Timestamp => self
                        .error(
                            Diagnostic::new(codes::AXIS_TYPE, format!("an `@` instant must be a timestamp, found {}", a_type(&e.ty)))
                                .label(x.span, format!("this is {}", a_type(&e.ty)))
                                .hint("build an instant from period.start or period.end, e.g. @(period.end - 1d)"),
                        )
                        .map(|_| Axis::All),
                    Some(_) if ts.interval.is_none() => self
                        .error(
                            Diagnostic::at(codes::NO_INTERVAL, x.span, format!("table `{tname}` has no interval, so no rows are open at an instant"))
                                .hint(format!("set interval = [\"from_column\", \"to_column\"] for [tables.{tname}]")),
                        )
                        .map(|_| Axis::All),
                    Some(e) => Some(Axis::At(Box::new(e))),
                    None => None,
                },
            },
        };
        let row = Scope::Row {
            table: tname,
            outer: match scope {
                Scope::Row { .. } => Some(&scope),
                _ => None,
            },
        };
        let arg = a.arg.as_ref().map(|x| self.expr(x, row));
        let filter = a.filter.as_ref().map(|x| self.condition(x, row, "`where`"));
        let fraction = match (&a.extra, a.func) {
            (None, AggFunc::Percentile) => {
                self.error(
                    Diagnostic::at(
                        codes::AGGREGATE_ARGUMENT,
                        span,
                        "`percentile` needs a fraction",
                    )
                    .hint("percentile(T: expr, 0.9)"),
                );
                None
            }
            (Some(x), AggFunc::Percentile) => match x.kind {
                ast::ExprKind::Float(f) if (0.0..=1.0).contains(&f) => Some(f),
                ast::ExprKind::Int(i @ (0 | 1)) => Some(i as f64),
                _ => {
                    let mut d = Diagnostic::at(
                        codes::AGGREGATE_ARGUMENT,
                        x.span,
                        "the percentile fraction must be a number between 0 and 1",
                    );
                    let pct = match x.kind {
                        ast::ExprKind::Int(i) => Some(i as f64),
                        ast::ExprKind::Float(f) => Some(f),
                        _ => None,
                    };
                    if let Some(p) = pct.filter(|p| *p > 1.0 && *p <= 100.0) {
                        d = d.hint(format!("write {} for the {p}th percentile", p / 100.0));
                    }
                    self.error(d);
                    None
                }
            },
            (Some(x), f) => {
                self.error(
                    Diagnostic::at(
                        codes::AGGREGATE_ARGUMENT,
                        x.span,
                        format!("`{}` takes one value", f.name()),
                    )
                    .hint("only percentile takes a second argument: percentile(T: expr, 0.9)"),
                );
                None
            }
            (None, _) => None,
        };
        let axis = axis?;
        let arg = match arg {
            Some(x) => Some(x?),
            None => None,
        };
        let filter = match filter {
            Some(x) => Some(x?),
            None => None,
        };
        if a.func == AggFunc::Percentile && fraction.is_none() {
            return None;
        }
        if let Some((name, args)) = &a.plugin {
            let args: Vec<Checked1> = args.iter().map(|x| self.expr(x, row)).collect();
            let args: Vec<ir::Expr> = args.into_iter().collect::<Option<_>>()?;
            let (call, ty) = self.plugin_call(name, args, span, true)?;
            let agg = ir::Aggregate {
                func: AggFunc::Plugin,
                table: tname.to_string(),
                axis,
                arg: None,
                fraction: None,
                filter,
                plugin: Some(ir::PluginCall {
                    name: name.name.clone(),
                    args: call,
                    returns: ty.clone(),
                }),
                parent_relation,
            };
            return Some(node(K::Aggregate(Box::new(agg)), ty, span));
        }
        let ty = match aggregate_type(a.func, arg.as_ref().map(|x| &x.ty)) {
            Ok(t) => t,
            Err(msg) => {
                let mut d = Diagnostic::new(codes::AGGREGATE_ARGUMENT, msg);
                d = match &arg {
                    Some(x) => d.label(x.span, format!("this is {}", a_type(&x.ty))),
                    None => d.label(span, "no value to aggregate").hint(format!(
                        "write {}({tname}: <column>); count({tname}) counts rows",
                        a.func.name()
                    )),
                };
                if arg.as_ref().is_some_and(|x| x.ty == Type::Bool) {
                    let cond = a.arg.as_ref().map(|x| x.to_string()).unwrap_or_default();
                    d = d.hint(format!(
                        "count the rows where it holds: count({tname} where {cond})"
                    ));
                }
                return self.error(d);
            }
        };
        let agg = ir::Aggregate {
            func: a.func,
            table: tname.to_string(),
            axis,
            arg,
            fraction,
            filter,
            plugin: None,
            parent_relation,
        };
        Some(node(K::Aggregate(Box::new(agg)), ty, span))
    }

    /// Checks the arguments of a plugin function against its declared
    /// signature; returns them and the result type.
    fn plugin_call(
        &mut self,
        name: &ast::Ident,
        args: Vec<ir::Expr>,
        span: Span,
        as_aggregate: bool,
    ) -> Option<(Vec<ir::Expr>, Type)> {
        let Some(f) = self.schema.functions.get(&name.name) else {
            let mut d = Diagnostic::at(
                codes::UNKNOWN_FUNCTION,
                name.span,
                format!("unknown function `{}`", name.name),
            );
            let known = functions::FUNCTIONS
                .iter()
                .chain(functions::SERIES_FUNCTIONS)
                .map(|f| f.name);
            if let Some(h) = did_you_mean(
                &name.name,
                known.chain(self.schema.functions.keys().map(String::as_str)),
            ) {
                d = d.hint(h);
            } else if as_aggregate {
                d = d.hint("an aggregate over a table is count, sum, avg, min, max, median, percentile, count_distinct, or a plugin's aggregate (see `kpi plugins`)");
            }
            self.error(d);
            return None;
        };
        let usage = format!(
            "{}({}{})",
            f.name,
            if f.aggregate { "T: " } else { "" },
            f.args
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if f.aggregate != as_aggregate {
            let how = if f.aggregate {
                "an aggregate: call it over a table"
            } else {
                "a row function: call it on values"
            };
            self.error(
                Diagnostic::at(
                    codes::FUNCTION_ARGUMENT,
                    span,
                    format!("`{}` (from plugin `{}`) is {how}", f.name, f.plugin),
                )
                .hint(format!("usage: {usage}")),
            );
            return None;
        }
        if args.len() != f.args.len() {
            self.error(
                Diagnostic::at(
                    codes::FUNCTION_ARGUMENT,
                    span,
                    format!(
                        "`{}` takes {} arguments, found {}",
                        f.name,
                        f.args.len(),
                        args.len()
                    ),
                )
                .hint(format!("usage: {usage}")),
            );
            return None;
        }
        for (x, want) in args.iter().zip(&f.args) {
            let fits =
                x.ty == *want || x.ty == Type::Null || (x.ty == Type::Int && *want == Type::Float);
            if !fits {
                self.error(
                    Diagnostic::at(
                        codes::FUNCTION_ARGUMENT,
                        x.span,
                        format!(
                            "`{}` expects {} here, found {}",
                            f.name,
                            a_type(want),
                            a_type(&x.ty)
                        ),
                    )
                    .hint(format!("usage: {usage}")),
                );
                return None;
            }
        }
        Some((args, f.returns.clone()))
    }
}

fn constant(e: &ast::Expr) -> Option<Value> {
    use ast::ExprKind as A;
    Some(match &e.kind {
        A::Int(v) => Value::Int(*v),
        A::Float(v) => Value::Float(*v),
        A::Str(s) => Value::Str(s.clone()),
        A::Bool(b) => Value::Bool(*b),
        A::Duration(d) => Value::Duration(*d),
        A::Null => Value::Null,
        _ => return None,
    })
}

fn value_type(v: &Value) -> Type {
    match v {
        Value::Null => Type::Null,
        Value::Int(_) => Type::Int,
        Value::Float(_) => Type::Float,
        Value::Bool(_) => Type::Bool,
        Value::Str(_) => Type::String,
        Value::Duration(_) => Type::Duration,
    }
}

/// The value of a parameter as a typed constant, for scalar parameters.
pub fn param_constant(p: &ParamValue) -> Option<Value> {
    Some(match p {
        ParamValue::Int(i) => Value::Int(*i),
        ParamValue::Float(f) => Value::Float(*f),
        ParamValue::Bool(b) => Value::Bool(*b),
        ParamValue::Str(s) => Value::Str(s.clone()),
        ParamValue::Duration(d) => Value::Duration(*d),
        ParamValue::Map(_) => return None,
    })
}
