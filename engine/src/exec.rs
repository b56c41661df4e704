//! The executor: evaluates typed IR over column batches.
//!
//! Row expressions run over a selection of a table's rows (a batch);
//! metric expressions run over the cells of the result grid (period ×
//! group), where each aggregate has already been computed in a fused pass
//! per table and period axis (see `run.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono_tz::Tz;
use indexmap::IndexMap;
use kpi_dsl::ast::{BinOp, WindowFunc};
use kpi_dsl::ir::{self, Axis, ExprKind as K};
use kpi_dsl::{ParamValue, Schema, Type};

use crate::agg::Accumulator;
use crate::column::{Column, Data, Table};
use crate::fast::At;
use crate::kernels::{self, get, V};
use crate::plugin::PluginFunction;

/// Child rows per unit of work of an aggregate per parent row.
const CHILD_CHUNK: usize = 1 << 18;

/// No related row (a child without a parent, a first row without a `prev`).
pub(crate) const NO_ROW: u32 = u32::MAX;

/// Identity of an IR node for caches: its address (the IR outlives a run).
pub(crate) fn id<T>(x: &T) -> usize {
    x as *const T as usize
}

/// What an expression is evaluated over.
pub(crate) enum Frame<'f> {
    /// A batch of rows of `table`, in the period `period` (index, bounds) if any.
    Rows {
        table: &'f str,
        rows: &'f [u32],
        period: Option<(usize, (i64, i64))>,
        /// Values of the subexpressions repeated in a pass, kept while
        /// these rows are evaluated (none for rows of another kind: a
        /// window's neighbours, a child table's).
        shared: Option<&'f Shared<'f>>,
    },
    /// The cells of the result grid: cell `i` is period `i / groups`, group `i % groups`.
    Cells {
        periods: &'f [(i64, i64)],
        groups: usize,
        aggs: &'f HashMap<usize, Column>,
        /// Periods that hold data; those after them are forecast periods.
        history: usize,
    },
    /// One instant computation per period (`T@expr`).
    Instant { period: (i64, i64) },
}

/// The subexpressions that occur more than once among a pass's filters and
/// arguments (`solved_at - created_at` in a resolution time and an SLA
/// filter; `role == "agent" and prev(role by ticket_id) == "customer"`
/// under two response times), each as a slot: node address → slot, where
/// equal subexpressions (by their written-out tree) share a slot. Names,
/// literals and parameters are not kept: reading them again costs no more
/// than a copy.
pub(crate) fn shared_slots(exprs: &[&ir::Expr]) -> (foldhash::HashMap<usize, usize>, usize) {
    let mut nodes: Vec<(&ir::Expr, String)> = Vec::new();
    let mut count: HashMap<String, usize> = HashMap::new();
    for e in exprs {
        e.walk(&mut |x| {
            if matches!(
                x.kind,
                K::Lit(_) | K::Column(_) | K::Param(_) | K::PeriodStart | K::PeriodEnd
            ) {
                return;
            }
            let t = ir::tree(x);
            *count.entry(t.clone()).or_default() += 1;
            nodes.push((x, t));
        });
    }
    let mut slot_of_tree: HashMap<String, usize> = HashMap::new();
    let mut slot_of = foldhash::HashMap::default();
    for (x, t) in nodes {
        if count[&t] < 2 {
            continue;
        }
        let next = slot_of_tree.len();
        slot_of.insert(id(x), *slot_of_tree.entry(t).or_insert(next));
    }
    (slot_of, slot_of_tree.len())
}

/// The values of a pass's repeated subexpressions ([`shared_slots`]) over
/// one batch of rows, each computed when first asked.
pub(crate) struct Shared<'s> {
    slot_of: &'s foldhash::HashMap<usize, usize>,
    values: std::cell::RefCell<Vec<Option<Arc<Column>>>>,
    /// The neighbour rows of the batch's rows, by window (its rows for
    /// every row of the table): `prev(created_at by ticket_id)` and
    /// `prev(author_role by ticket_id)` look them up once.
    neighbours: std::cell::RefCell<Vec<Neighbours>>,
}

/// A window's rows for every row of a table, and for the rows of a batch.
type Neighbours = (Arc<WindowRows>, Arc<At<'static>>);

impl<'s> Shared<'s> {
    pub fn new(slots: &'s (foldhash::HashMap<usize, usize>, usize)) -> Self {
        Shared {
            slot_of: &slots.0,
            values: std::cell::RefCell::new(vec![None; slots.1]),
            neighbours: Default::default(),
        }
    }

    /// Forgets the values of the previous batch.
    pub fn clear(&self) {
        self.values.borrow_mut().iter_mut().for_each(|v| *v = None);
        self.neighbours.borrow_mut().clear();
    }
}

impl Frame<'_> {
    fn len(&self) -> usize {
        match self {
            Frame::Rows { rows, .. } => rows.len(),
            Frame::Cells {
                periods, groups, ..
            } => periods.len() * groups,
            Frame::Instant { .. } => 1,
        }
    }
}

pub(crate) struct Exec<'a> {
    pub schema: &'a Schema,
    pub params: &'a IndexMap<String, ParamValue>,
    pub tz: Tz,
    pub data: &'a IndexMap<String, Table>,
    pub plugins: &'a IndexMap<String, PluginFunction>,
    /// Threads for work inside an evaluation (child aggregates).
    pub threads: usize,
    /// `(table, relation)` → the parent row of each row.
    parents: Cache<(String, String), ParentRows<'a>>,
    /// For each row, the row a window reads (`prev`/`next` by a key), by
    /// table, key expression and direction.
    windows: Cache<(String, String, bool), WindowRows>,
    /// Child aggregates per parent row, by IR node and period.
    children: Cache<ChildKey, Column>,
}

/// Values computed once per run and shared by every thread: the first
/// thread to ask computes (others asking for the same key wait for it);
/// errors are kept too, so every asker sees the same one.
pub(crate) struct Cache<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
}

/// The parent row of each row of a table through a relation ([`NO_ROW`]
/// where there is none): computed, or the child key column's own codes
/// ([`Exec::parent_rows_in_codes`]).
pub(crate) enum ParentRows<'a> {
    Owned(Vec<u32>),
    Codes(&'a [u32]),
}

impl std::ops::Deref for ParentRows<'_> {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        match self {
            ParentRows::Owned(v) => v,
            ParentRows::Codes(c) => c,
        }
    }
}

/// One cached value: computed once, by whichever thread asks first.
type Slot<V> = Arc<OnceLock<R<Arc<V>>>>;

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq, V> Cache<K, V> {
    fn clear(&mut self) {
        self.slots
            .get_mut()
            .expect("no thread panics holding the cache")
            .clear();
    }

    fn get_or(&self, key: K, compute: impl FnOnce() -> R<V>) -> R<Arc<V>> {
        let slot = self
            .slots
            .lock()
            .expect("no thread panics holding the cache")
            .entry(key)
            .or_default()
            .clone();
        slot.get_or_init(|| compute().map(Arc::new)).clone()
    }
}
/// A child aggregate's cache key: its IR node, and the period when its value depends on it.
type ChildKey = (usize, Option<usize>);

pub(crate) type R<T> = Result<T, String>;

impl<'a> Exec<'a> {
    pub fn new(
        schema: &'a Schema,
        params: &'a IndexMap<String, ParamValue>,
        tz: Tz,
        data: &'a IndexMap<String, Table>,
        plugins: &'a IndexMap<String, PluginFunction>,
    ) -> Self {
        Exec {
            schema,
            params,
            tz,
            data,
            plugins,
            threads: 1,
            parents: Default::default(),
            windows: Default::default(),
            children: Default::default(),
        }
    }

    /// Forgets the windows and child aggregates computed so far (they are
    /// computed again if asked for again): the run calls this when it is
    /// done with a table, so that the next one does not hold them.
    pub fn forget_windows_and_children(&mut self) {
        self.windows.clear();
        self.children.clear();
    }

    pub fn table(&self, name: &str) -> R<&'a Table> {
        self.data
            .get(name)
            .ok_or_else(|| format!("internal: table `{name}` was not loaded"))
    }

    pub fn column(&self, table: &str, name: &str) -> R<&'a Column> {
        self.table(table)?
            .columns
            .get(name)
            .ok_or_else(|| format!("internal: column `{table}.{name}` was not loaded"))
    }

    /// The parent row of every row of `table` through `relation`. Keys are
    /// compared by value as text, so integer and string ids meet.
    pub fn parents(&self, table: &str, relation: &str) -> R<Arc<ParentRows<'a>>> {
        let key = (table.to_string(), relation.to_string());
        self.parents
            .get_or(key, || self.compute_parents(table, relation))
    }

    fn compute_parents(&self, table: &str, relation: &str) -> R<ParentRows<'a>> {
        let rel = &self.schema.tables[table].relations[relation];
        if let Some(rows) = self.parent_rows_in_codes(table, relation) {
            return Ok(ParentRows::Codes(rows));
        }
        // Keys are compared through their distinct values: one hash lookup
        // per distinct child key, not one String per row.
        let (parent_ids, parent_texts) = key_ids(self.column(&rel.table, &rel.key)?);
        let mut row_of = vec![u32::MAX; parent_texts.len()];
        for (i, &id) in parent_ids.iter().enumerate() {
            if id == NO_ROW {
                continue;
            }
            if row_of[id as usize] != u32::MAX {
                return Err(format!(
                    "table `{}` has the key {} = `{}` more than once, so `{table}.{relation}` cannot tell which row is meant",
                    rel.table, rel.key, &parent_texts[id as usize]
                ));
            }
            row_of[id as usize] = i as u32;
        }
        // Exports are usually in key order, so a child's distinct keys often
        // come in the parent's order: try the same position first, and
        // build a hash index of the parent keys only for those that miss.
        let (child_ids, child_texts) = key_ids(self.column(table, &rel.column)?);
        let mut by_text: Option<foldhash::HashMap<&str, u32>> = None;
        // A key column coded in its parent's dictionary (`recode_into`).
        // Its codes are then the parent's: no text is compared.
        let translate: Vec<u32> = if Arc::ptr_eq(&parent_texts, &child_texts) {
            row_of
        } else {
            child_texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let p = match (i < parent_texts.len()).then(|| parent_texts.get(i)) {
                        Some(same) if same == t => Some(i as u32),
                        _ => by_text
                            .get_or_insert_with(|| {
                                parent_texts
                                    .iter()
                                    .enumerate()
                                    .map(|(i, t)| (t, i as u32))
                                    .collect()
                            })
                            .get(t)
                            .copied(),
                    };
                    p.map_or(NO_ROW, |p| row_of[p as usize])
                })
                .collect()
        };
        Ok(ParentRows::Owned(through(&child_ids, &translate)))
    }

    /// The child's key codes themselves, when they are its parent rows: the
    /// key column is coded in its parent key's dictionary
    /// ([`crate::column::recode_into`]), has no nulls, and the parent key
    /// holds code `i` at row `i` (unique keys interned in row order do). At
    /// 37.6M messages this spares a 150 MB copy.
    fn parent_rows_in_codes(&self, table: &str, relation: &str) -> Option<&'a [u32]> {
        let rel = &self.schema.tables[table].relations[relation];
        let parent = self.column(&rel.table, &rel.key).ok()?;
        let child = self.column(table, &rel.column).ok()?;
        let (Data::Str(p), Data::Str(c)) = (&parent.data, &child.data) else {
            return None;
        };
        let crate::column::Codes::U32(codes) = &c.codes else {
            return None;
        };
        let identity = parent.valid.is_none()
            && p.dict.len() == parent.len()
            && p.codes
                .as_u32()
                .iter()
                .enumerate()
                .all(|(i, &k)| k as usize == i);
        (child.valid.is_none() && Arc::ptr_eq(&p.dict, &c.dict) && identity).then_some(codes)
    }

    /// Follows a relation path from the rows of `table`; [`NO_ROW`] where a
    /// row has no related row.
    pub fn follow(&self, table: &str, rows: &[u32], path: &[String]) -> R<(String, Vec<u32>)> {
        let Some((first, rest)) = path.split_first() else {
            return Ok((table.to_string(), rows.to_vec()));
        };
        // The first step maps the rows themselves: no copy of them first.
        let parents = self.parents(table, first)?;
        let mut idx = through(rows, &parents);
        let mut t = self.schema.tables[table].relations[first].table.clone();
        for rel in rest {
            idx = through(&idx, &self.parents(&t, rel)?);
            t = self.schema.tables[&t].relations[rel].table.clone();
        }
        Ok((t, idx))
    }

    /// [`Exec::follow`] from every row of `table`: `None` for an empty
    /// path (each row is its own), without a vector of all rows; one
    /// relation's parent rows are shared, not copied.
    pub fn follow_all(
        &self,
        table: &str,
        path: &[String],
    ) -> R<(String, Option<Arc<ParentRows<'a>>>)> {
        let Some((first, rest)) = path.split_first() else {
            return Ok((table.to_string(), None));
        };
        let mut rows = self.parents(table, first)?;
        let mut t = self.schema.tables[table].relations[first].table.clone();
        for rel in rest {
            rows = Arc::new(ParentRows::Owned(through(&rows, &self.parents(&t, rel)?)));
            t = self.schema.tables[&t].relations[rel].table.clone();
        }
        Ok((t, Some(rows)))
    }

    pub fn eval(&self, e: &ir::Expr, f: &Frame<'_>) -> R<Column> {
        Ok(Arc::unwrap_or_clone(self.eval_arc(e, f)?))
    }

    /// [`Exec::eval`], shared: a repeated subexpression's value is not
    /// copied for each use.
    pub fn eval_arc(&self, e: &ir::Expr, f: &Frame<'_>) -> R<Arc<Column>> {
        if let Frame::Rows {
            shared: Some(s), ..
        } = f
        {
            if let Some(&slot) = s.slot_of.get(&id(e)) {
                if let Some(c) = &s.values.borrow()[slot] {
                    return Ok(c.clone());
                }
                let c = Arc::new(self.eval_node(e, f)?);
                s.values.borrow_mut()[slot] = Some(c.clone());
                return Ok(c);
            }
        }
        self.eval_node(e, f).map(Arc::new)
    }

    fn eval_node(&self, e: &ir::Expr, f: &Frame<'_>) -> R<Column> {
        let n = f.len();
        if let Some((c, at)) = self.reads(e, f)? {
            return Ok(crate::fast::read(c, &at));
        }
        let out = match &e.kind {
            K::Lit(v) => kernels::broadcast(v, &e.ty, n),
            K::Column(c) => match f {
                Frame::Rows { table, rows, .. } => kernels::gather(self.column(table, c)?, rows),
                _ => return Err(format!("internal: column `{c}` outside a row")),
            },
            K::Related { path, column } => match f {
                Frame::Rows { table, rows, .. } => {
                    let (t, idx) = self.follow(table, rows, path)?;
                    kernels::gather_opt(self.column(&t, column)?, &idx)
                }
                _ => return Err("internal: related column outside a row".into()),
            },
            K::Param(name) => match kpi_dsl::check::param_constant(&self.params[name]) {
                Some(v) => kernels::broadcast(&v, &e.ty, n),
                None => {
                    return Err(format!(
                        "internal: parameter table `{name}` used without a key"
                    ))
                }
            },
            K::Index(base, key) => {
                let K::Param(name) = &base.kind else {
                    return Err("internal: index of a non-parameter".into());
                };
                let ParamValue::Map(map) = &self.params[name] else {
                    return Err(format!("internal: `{name}` is not a table"));
                };
                match self.reads(key, f)? {
                    Some((keys, at)) => index_map_at(map, keys, &at, &e.ty)?,
                    None => index_map(map, &*self.eval_arc(key, f)?, &e.ty)?,
                }
            }
            K::PeriodStart | K::PeriodEnd => {
                let pick = |p: (i64, i64)| {
                    if matches!(e.kind, K::PeriodStart) {
                        p.0
                    } else {
                        p.1
                    }
                };
                match f {
                    Frame::Rows {
                        period: Some((_, p)),
                        ..
                    }
                    | Frame::Instant { period: p } => {
                        Column::new(Data::Timestamp(vec![pick(*p); n]), None)
                    }
                    Frame::Rows { period: None, .. } => {
                        kernels::broadcast(&ir::Value::Null, &Type::Timestamp, n)
                    }
                    Frame::Cells {
                        periods, groups, ..
                    } => Column::new(
                        Data::Timestamp((0..n).map(|i| pick(periods[i / groups])).collect()),
                        None,
                    ),
                }
            }
            K::Neg(x) => kernels::neg(&*self.eval_arc(x, f)?)?,
            K::Not(x) => kernels::not(&*self.eval_arc(x, f)?)?,
            K::Binary(op, l, r) => match self.binary_at(*op, l, r, f)? {
                Some(out) => out,
                None => {
                    let (l, r) = (self.eval_arc(l, f)?, self.eval_arc(r, f)?);
                    kernels::binary(*op, &l, &r, &e.ty)?
                }
            },
            K::IsNull { expr, negated } => kernels::is_null(&*self.eval_arc(expr, f)?, *negated),
            K::In {
                expr,
                list,
                negated,
            } => kernels::in_list(&*self.eval_arc(expr, f)?, list, *negated)?,
            K::Between { expr, low, high } => {
                let x = self.eval(expr, f)?;
                let ge = kernels::binary(BinOp::Ge, &x, &self.eval(low, f)?, &Type::Bool)?;
                let le = kernels::binary(BinOp::Le, &x, &self.eval(high, f)?, &Type::Bool)?;
                kernels::binary(BinOp::And, &ge, &le, &Type::Bool)?
            }
            K::If {
                branches,
                otherwise,
            } => {
                let mut bs = Vec::new();
                for (c, v) in branches {
                    bs.push((self.eval(c, f)?, self.eval(v, f)?));
                }
                kernels::choose(&bs, &self.eval(otherwise, f)?, &e.ty)?
            }
            K::Call { func, args } => {
                let cols: Vec<Column> = args.iter().map(|a| self.eval(a, f)).collect::<R<_>>()?;
                if kpi_dsl::functions::is_series(func) {
                    let Frame::Cells {
                        periods,
                        groups,
                        history,
                        ..
                    } = f
                    else {
                        return Err(format!(
                            "internal: series function `{func}` outside the result grid"
                        ));
                    };
                    crate::series::apply(func, &cols, &e.ty, periods.len(), *groups, *history)?
                } else if let Some(p) = self.plugins.get(func) {
                    p.call_scalar(&cols, n)?
                } else {
                    kernels::call(func, &cols, &e.ty, self.tz, n)?
                }
            }
            K::Window { func, value, key } => match f {
                Frame::Rows { table, rows, .. } => {
                    // The value at each row's neighbour, evaluated at those
                    // rows only (outside any period, as over the table).
                    let source = self.window(*func, key, table)?;
                    let idx: Vec<u32> = rows.iter().map(|&r| source.of(r)).collect();
                    if let K::Column(c) = &value.kind {
                        // A column (`prev(created_at by …)`): read in one pass.
                        kernels::gather_opt(self.column(table, c)?, &idx)
                    } else {
                        let dense: Vec<u32> = idx
                            .iter()
                            .map(|&r| if r == NO_ROW { 0 } else { r })
                            .collect();
                        let at = Frame::Rows {
                            table,
                            rows: &dense,
                            period: None,
                            shared: None,
                        };
                        kernels::mask_rows(self.eval(value, &at)?, &idx, NO_ROW)
                    }
                }
                _ => return Err("internal: window outside a row".into()),
            },
            K::Aggregate(a) => match f {
                Frame::Cells { aggs, .. } => aggs.get(&id(&**a)).cloned().ok_or_else(|| {
                    format!("internal: aggregate over `{}` was not planned", a.table)
                })?,
                Frame::Rows {
                    table,
                    rows,
                    period,
                    ..
                } => kernels::gather(&*self.child_aggregate(a, table, *period)?, rows),
                Frame::Instant { .. } => return Err("internal: aggregate in an instant".into()),
            },
            K::Metric { expr, .. } => self.eval(expr, f)?,
        };
        debug_assert!(
            out.ty() == e.ty
                || e.ty == Type::Null
                || (e.ty == Type::Float && out.ty() == Type::Float),
            "evaluation returned {} where {} was planned for {:?}",
            out.ty(),
            e.ty,
            e.kind
        );
        Ok(out)
    }

    /// A node that reads a stored column at some rows of a batch — a
    /// column, a window over a column, a related column — as the column
    /// and those rows, for kernels that read it in place; `None` for other
    /// nodes and frames.
    fn reads<'f>(&self, e: &ir::Expr, f: &Frame<'f>) -> R<Option<(&'a Column, Arc<At<'f>>)>> {
        let Frame::Rows {
            table,
            rows,
            shared,
            ..
        } = f
        else {
            return Ok(None);
        };
        let (c, at) = match &e.kind {
            K::Column(c) => (self.column(table, c)?, Arc::new(At::rows(rows))),
            K::Window { func, value, key } => {
                let K::Column(c) = &value.kind else {
                    return Ok(None);
                };
                let source = self.window(*func, key, table)?;
                let cached = shared.and_then(|s| {
                    let known = s.neighbours.borrow();
                    let hit = known.iter().find(|(w, _)| Arc::ptr_eq(w, &source));
                    hit.map(|(_, at)| at.clone())
                });
                let at = match cached {
                    Some(at) => at,
                    None => {
                        let at = Arc::new(source.at(rows));
                        if let Some(s) = shared {
                            s.neighbours.borrow_mut().push((source, at.clone()));
                        }
                        at
                    }
                };
                (self.column(table, c)?, at)
            }
            K::Related { path, column } => {
                let (t, idx) = self.follow(table, rows, path)?;
                (
                    self.column(&t, column)?,
                    Arc::new(At::optional(idx, NO_ROW)),
                )
            }
            _ => return Ok(None),
        };
        // An empty column has no row 0 for missing rows to read.
        Ok((!c.is_empty() || at.is_empty()).then_some((c, at)))
    }

    /// The value of a literal or a parameter that is one value (not null),
    /// as [`kernels::broadcast`] would spread it.
    fn constant(&self, e: &ir::Expr) -> Option<ir::Value> {
        let v = match &e.kind {
            K::Lit(v) => v.clone(),
            K::Param(name) => kpi_dsl::check::param_constant(self.params.get(name)?)?,
            _ => return None,
        };
        match (v, &e.ty) {
            (ir::Value::Null, _) => None,
            (ir::Value::Int(i), Type::Float) => Some(ir::Value::Float(i as f64)),
            (v, _) => Some(v),
        }
    }

    /// `l op r` for the shapes read without gathering their operands: a
    /// comparison with a constant (`contacts >= 3`, `role == "agent"`,
    /// `prev(role by ticket_id) == "customer"`), a difference of two
    /// timestamp columns read at rows. `None` for the others.
    fn binary_at(&self, op: BinOp, l: &ir::Expr, r: &ir::Expr, f: &Frame<'_>) -> R<Option<Column>> {
        if !matches!(f, Frame::Rows { .. }) {
            return Ok(None);
        }
        if op.is_comparison() {
            let Some(k) = self.constant(r) else {
                return Ok(None);
            };
            let k = value_v(&k);
            if let Some((c, at)) = self.reads(l, f)? {
                return Ok(crate::fast::compare_const(op, c, &at, &k));
            }
            let c = self.eval_arc(l, f)?;
            return match crate::fast::compare_const(op, &c, &At::all(c.len()), &k) {
                Some(out) => Ok(Some(out)),
                None => Ok(Some(kernels::binary(
                    op,
                    &c,
                    &*self.eval_arc(r, f)?,
                    &Type::Bool,
                )?)),
            };
        }
        if op == BinOp::Sub && l.ty == Type::Timestamp && r.ty == Type::Timestamp {
            if let (Some((a, at_a)), Some((b, at_b))) = (self.reads(l, f)?, self.reads(r, f)?) {
                return Ok(crate::fast::sub_timestamps(a, &at_a, b, &at_b));
            }
        }
        Ok(None)
    }

    /// `prev/next(… by key)` over the whole table, ordered by its time
    /// column (ties by row order): for each row, the row whose value it
    /// reads ([`NO_ROW`] for none). One per key and direction, shared by
    /// every window over them (`prev(created_at by ticket_id)` and
    /// `prev(author_role by ticket_id)` sort once).
    fn window(&self, func: WindowFunc, key: &ir::Expr, table: &str) -> R<Arc<WindowRows>> {
        let cache_key = (
            table.to_string(),
            ir::tree(key),
            matches!(func, WindowFunc::Prev),
        );
        self.windows
            .get_or(cache_key, || self.compute_window(func, key, table))
    }

    fn compute_window(&self, func: WindowFunc, key: &ir::Expr, table: &str) -> R<WindowRows> {
        let t = self.table(table)?;
        // A key that is a column is read in place; another expression is
        // evaluated over every row.
        let evaluated;
        let keys = match &key.kind {
            K::Column(c) => self.column(table, c)?,
            _ => {
                let all: Vec<u32> = (0..t.len as u32).collect();
                let frame = Frame::Rows {
                    table,
                    rows: &all,
                    period: None,
                    shared: None,
                };
                evaluated = self.eval(key, &frame)?;
                &evaluated
            }
        };
        let (ids, distinct) = dense_ids(keys);
        let time_col = self.schema.tables[table]
            .time
            .as_ref()
            .ok_or("internal: window without a time column")?;
        let time = self.column(table, time_col)?;
        let Data::Timestamp(ts) = &time.data else {
            return Err("internal: time column is not a timestamp".into());
        };
        // Null times sort first: as i64::MIN, ties kept in row order.
        let at = |r: u32| {
            if time.is_valid(r as usize) {
                ts[r as usize]
            } else {
                i64::MIN
            }
        };
        let prev = matches!(func, WindowFunc::Prev);
        if time.valid.is_none() {
            if let Some(beside) = rows_beside(prev, &ids, distinct, ts) {
                return Ok(WindowRows::Beside { prev, beside });
            }
        }
        Ok(WindowRows::Rows(
            neighbours_in_row_order(prev, &ids, distinct, at)
                .unwrap_or_else(|| neighbours_by_sorting(prev, &ids, distinct, at)),
        ))
    }

    /// An aggregate over child rows, one value per row of the parent table.
    fn child_aggregate(
        &self,
        a: &ir::Aggregate,
        parent: &str,
        period: Option<(usize, (i64, i64))>,
    ) -> R<Arc<Column>> {
        let depends_on_period = !matches!(a.axis, Axis::All) || uses_period(a);
        let cache_key = (
            id(a),
            if depends_on_period {
                period.map(|p| p.0)
            } else {
                None
            },
        );
        self.children.get_or(cache_key, || {
            self.compute_child_aggregate(a, parent, period)
        })
    }

    fn compute_child_aggregate(
        &self,
        a: &ir::Aggregate,
        parent: &str,
        period: Option<(usize, (i64, i64))>,
    ) -> R<Column> {
        let rel = a
            .parent_relation
            .as_ref()
            .ok_or("internal: row aggregate without a relation")?;
        let parent_len = self.table(parent)?.len;
        let owners = self.parents(&a.table, rel)?;
        if let Some(call) = &a.plugin {
            // One call over every selected child row, grouped by parent row.
            let rows = self.select(&a.table, &a.axis, period.map(|p| p.1))?;
            let frame = Frame::Rows {
                table: &a.table,
                rows: &rows,
                period,
                shared: None,
            };
            let (values, groups) = self.plugin_batch(a, call, &frame, &rows, |r| {
                Some(owners[r as usize]).filter(|&o| o != NO_ROW)
            })?;
            return self
                .plugin(&call.name)?
                .call_aggregate(&values, &groups, parent_len);
        }
        let mut acc = Accumulator::new(
            a.func,
            a.arg.as_ref().map(|x| x.ty.clone()),
            agg_output(a),
            a.fraction,
            parent_len,
        );
        // Every row of the table (no period, or `@all`) is not listed: each
        // chunk lists its own range (37.6M messages would take 150 MB).
        let every = period.is_none() || matches!(a.axis, Axis::All);
        let selected = if every {
            Vec::new()
        } else {
            self.select(&a.table, &a.axis, period.map(|p| p.1))?
        };
        let total = if every {
            self.table(&a.table)?.len
        } else {
            selected.len()
        };
        // Chunks evaluated side by side, accumulated in row order: the same
        // updates in the same order for any number of threads.
        use std::borrow::Cow;
        // A chunk's rows, and their parent rows (each row's cell): a range
        // of the table's own when every row is (not copied).
        let chunk_rows = |c: usize| -> (Cow<'_, [u32]>, Cow<'_, [u32]>) {
            let range = c * CHILD_CHUNK..((c + 1) * CHILD_CHUNK).min(total);
            if every {
                let cells = Cow::Borrowed(&owners[range.clone()]);
                (Cow::Owned(range.map(|r| r as u32).collect()), cells)
            } else {
                let rows = &selected[range];
                let cells = rows.iter().map(|&r| owners[r as usize]).collect();
                (Cow::Borrowed(rows), Cow::Owned(cells))
            }
        };
        let unit = |c: usize| {
            let (rows, cells) = chunk_rows(c);
            let frame = Frame::Rows {
                table: &a.table,
                rows: &rows,
                period,
                shared: None,
            };
            let filter = a
                .filter
                .as_ref()
                .map(|p| self.eval(p, &frame))
                .transpose()?;
            let values = a.arg.as_ref().map(|x| self.eval(x, &frame)).transpose()?;
            Ok::<_, String>((cells, filter, values))
        };
        par_fold(
            total.div_ceil(CHILD_CHUNK),
            self.threads,
            unit,
            |(cells, filter, values)| acc.update_batch(&cells, values.as_ref(), filter.as_ref()),
        )?;
        acc.evaluate()
    }

    pub fn plugin(&self, name: &str) -> R<&'a PluginFunction> {
        self.plugins
            .get(name)
            .ok_or_else(|| format!("internal: plugin function `{name}` is not loaded"))
    }

    /// The argument columns of a plugin aggregate over the rows of `frame`
    /// that pass its filter and belong to a group (`group_of` maps a row to
    /// its group index), and those group indexes.
    pub fn plugin_batch(
        &self,
        a: &ir::Aggregate,
        call: &ir::PluginCall,
        frame: &Frame<'_>,
        rows: &[u32],
        group_of: impl Fn(u32) -> Option<u32>,
    ) -> R<(Vec<Column>, Vec<u32>)> {
        let filter = a.filter.as_ref().map(|p| self.eval(p, frame)).transpose()?;
        let mut keep = Vec::new();
        let mut groups = Vec::new();
        for (k, &r) in rows.iter().enumerate() {
            if filter.as_ref().is_some_and(|m| get(m, k) != V::B(true)) {
                continue;
            }
            if let Some(g) = group_of(r) {
                keep.push(k as u32);
                groups.push(g);
            }
        }
        let values = call
            .args
            .iter()
            .map(|x| self.eval(x, frame).map(|c| kernels::gather(&c, &keep)))
            .collect::<R<Vec<_>>>()?;
        Ok((values, groups))
    }

    /// Rows of `table` that an axis selects in one period (every row when
    /// there is no period).
    pub fn select(&self, table: &str, axis: &Axis, period: Option<(i64, i64)>) -> R<Vec<u32>> {
        let t = self.table(table)?;
        let Some((start, end)) = period else {
            return Ok((0..t.len as u32).collect());
        };
        Ok(match axis {
            Axis::All => (0..t.len as u32).collect(),
            Axis::Column(c) => {
                let col = self.column(table, c)?;
                let Data::Timestamp(ts) = &col.data else {
                    return Err(format!("internal: axis `{c}` is not a timestamp"));
                };
                (0..t.len)
                    .filter(|&i| col.is_valid(i) && ts[i] >= start && ts[i] < end)
                    .map(|i| i as u32)
                    .collect()
            }
            Axis::At(x) => {
                let at = self.instant(x, (start, end))?;
                match at {
                    Some(at) => self.open_at(table, at)?,
                    None => Vec::new(),
                }
            }
        })
    }

    /// The instant of `T@expr` in a period.
    pub fn instant(&self, x: &ir::Expr, period: (i64, i64)) -> R<Option<i64>> {
        let c = self.eval(x, &Frame::Instant { period })?;
        Ok(match get(&c, 0) {
            V::T(t) => Some(t),
            _ => None,
        })
    }

    /// Rows open at `at`: `from < at <= to`, with a null `to` meaning still
    /// open — the state just before the instant. Periods are `[start, end)`,
    /// so an event exactly at `period.end` belongs to the next period; read
    /// this way, "open at period.end" is the state at the end of the period
    /// and "open at period.start" the state at its start, and the one equals
    /// the other plus what opened minus what closed in between.
    pub fn open_at(&self, table: &str, at: i64) -> R<Vec<u32>> {
        let (fc, tc) = self.interval(table)?;
        let (Data::Timestamp(f), Data::Timestamp(t)) = (&fc.data, &tc.data) else {
            return Err(format!(
                "internal: the interval of `{table}` is not two timestamps"
            ));
        };
        Ok((0..f.len())
            .filter(|&i| fc.is_valid(i) && f[i] < at && (!tc.is_valid(i) || at <= t[i]))
            .map(|i| i as u32)
            .collect())
    }

    /// The interval columns of `table` (`from`, `to`).
    pub fn interval(&self, table: &str) -> R<(&'a Column, &'a Column)> {
        let (from, to) = self.schema.tables[table]
            .interval
            .as_ref()
            .ok_or_else(|| format!("internal: `{table}` has no interval"))?;
        Ok((self.column(table, from)?, self.column(table, to)?))
    }
}

/// For each row of a table, the row its window reads (`prev`/`next` by a
/// key).
pub(crate) enum WindowRows {
    /// The row beside each row — the one before it for `prev`, after it for
    /// `next` — where `beside` holds, none elsewhere: each key's rows come
    /// together and in time order (messages in ticket-then-time order). A
    /// byte a row instead of four, found in one pass without lookups
    /// ([`rows_beside`]).
    Beside { prev: bool, beside: Vec<bool> },
    /// Each row's neighbour, [`NO_ROW`] where it has none.
    Rows(Vec<u32>),
}

impl WindowRows {
    /// The neighbour of row `r`.
    fn of(&self, r: u32) -> u32 {
        match self {
            WindowRows::Beside { prev, beside } => crate::fast::row_beside(*prev, beside, r),
            WindowRows::Rows(source) => source[r as usize],
        }
    }

    /// The neighbours of a batch's rows, to read columns at.
    fn at(&self, rows: &[u32]) -> At<'static> {
        match self {
            WindowRows::Beside { prev, beside } => At::beside(*prev, beside, rows),
            WindowRows::Rows(source) => At::neighbours(source, rows, NO_ROW),
        }
    }
}

/// Whether each row's neighbour is the row beside it
/// ([`WindowRows::Beside`]), given each row's key (`ids`, dense below
/// `distinct`, `u32::MAX` for none) and time (`ts`, none null): `None`
/// unless the rows of each key come together, in time order, and no key
/// is null. Loops without early exits, which the compiler vectorizes; keys
/// whose runs do not rise (codes in first-seen order do) are then checked
/// to occur in one run each.
fn rows_beside(prev: bool, ids: &[u32], distinct: usize, ts: &[i64]) -> Option<Vec<bool>> {
    let n = ids.len();
    if ids.first() == Some(&u32::MAX) {
        return None;
    }
    let mut beside = vec![false; n];
    if n < 2 {
        return Some(beside);
    }
    // `prev`: row r reads row r - 1 when they share a key; `next`: row
    // r - 1 reads row r.
    let out = if prev {
        &mut beside[1..]
    } else {
        &mut beside[..n - 1]
    };
    let keys = || ids[..n - 1].iter().zip(&ids[1..]);
    for (b, (k0, k1)) in out.iter_mut().zip(keys()) {
        *b = k0 == k1;
    }
    let times = ts[..n - 1].iter().zip(&ts[1..]);
    let ordered = out
        .iter()
        .zip(times)
        .fold(true, |ok, (&same, (t0, t1))| ok & (!same | (t0 <= t1)));
    let (rising, null) = out
        .iter()
        .zip(keys())
        .fold((true, false), |(up, null), (&same, (k0, k1))| {
            (up & (same | (k0 < k1)), null | (*k1 == u32::MAX))
        });
    if !ordered || null {
        return None;
    }
    if !rising {
        let mut seen = vec![false; distinct];
        for (r, &k) in ids.iter().enumerate() {
            let starts = r == 0 || ids[r - 1] != k;
            if starts && std::mem::replace(&mut seen[k as usize], true) {
                return None;
            }
        }
    }
    Some(beside)
}

/// For each row with a key (`ids`: dense key ids below `distinct`,
/// `u32::MAX` for none), the row before it (`prev`) or after it in its
/// key's time order (`at`, ties by row order); [`NO_ROW`] for none.
///
/// This is the fast case: one pass over the rows, when every key's rows
/// already come in time order (rows grouped by key, or the table sorted by
/// time), so that the order within a key is the row order and a row's
/// `prev` is the last row before it with its key. `None` as soon as a key's
/// rows are found out of time order; [`neighbours_by_sorting`] is the
/// general case (`tests::neighbours_agree` checks they agree).
fn neighbours_in_row_order(
    prev: bool,
    ids: &[u32],
    distinct: usize,
    at: impl Fn(u32) -> i64,
) -> Option<Vec<u32>> {
    let mut last = vec![NO_ROW; distinct];
    // `prev` is written row after row; `next` lands on earlier rows.
    let mut source: Vec<u32> = match prev {
        true => Vec::with_capacity(ids.len()),
        false => vec![NO_ROW; ids.len()],
    };
    // Rows `sorted_from..=r` are in time order, so a row's key's previous
    // row among them comes no later: its time (a random read, the whole
    // cost of this pass when keys are scattered) is read only when it is
    // before them. A table sorted by time reads none.
    let (mut sorted_from, mut latest) = (0, i64::MIN);
    for (r, &k) in ids.iter().enumerate() {
        // Keys scattered over the rows (tickets by customer) read `last`
        // at random: ask for a later row's entry ahead of time.
        #[cfg(target_arch = "x86_64")]
        if let Some(ahead) = ids
            .get(r + PREFETCH_AHEAD)
            .and_then(|&a| last.get(a as usize))
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: SSE is part of x86_64; a prefetch reads nothing
            // and the address is an element of `last`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(ahead).cast()) };
        }
        let r = r as u32;
        let t = at(r);
        if t < latest {
            sorted_from = r;
        }
        latest = t;
        let before = match k {
            u32::MAX => NO_ROW,
            k => std::mem::replace(&mut last[k as usize], r),
        };
        if before != NO_ROW && before < sorted_from && at(before) > t {
            return None;
        }
        if prev {
            source.push(before);
        } else if before != NO_ROW {
            source[before as usize] = r;
        }
    }
    Some(source)
}

/// How many rows ahead [`neighbours_in_row_order`] prefetches.
const PREFETCH_AHEAD: usize = 16;

/// [`neighbours_in_row_order`] for any order of rows: a counting sort by
/// key, then a (stable) sort by time of each key's rows where they are not
/// already in time order.
fn neighbours_by_sorting(
    prev: bool,
    ids: &[u32],
    distinct: usize,
    at: impl Fn(u32) -> i64,
) -> Vec<u32> {
    let mut starts = vec![0u32; distinct + 1];
    for &k in ids.iter() {
        if k != u32::MAX {
            starts[k as usize + 1] += 1;
        }
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let runs = starts.clone();
    let mut rows = vec![0u32; starts[distinct] as usize];
    for (r, &k) in ids.iter().enumerate() {
        if k != u32::MAX {
            rows[starts[k as usize] as usize] = r as u32;
            starts[k as usize] += 1;
        }
    }
    let mut source: Vec<u32> = vec![NO_ROW; ids.len()];
    for run in runs.windows(2) {
        let part = &mut rows[run[0] as usize..run[1] as usize];
        if part.windows(2).any(|w| at(w[0]) > at(w[1])) {
            part.sort_by_key(|&r| at(r));
        }
        for w in part.windows(2) {
            if prev {
                source[w[1] as usize] = w[0];
            } else {
                source[w[0] as usize] = w[1];
            }
        }
    }
    source
}

/// The rows open at each instant of `ats` (none where it is `None`), as
/// [`Exec::open_at`] selects them (`from < at <= to`, a null `to` still
/// open), in one pass over the rows: a row is open at the instants in
/// `(from, to]`, a range of the instants sorted. Each list is in row order.
///
/// The range starts after the instants at or before `from`: a cursor that
/// moves forward while `from` does not decrease (tickets come in order of
/// creation), a binary search where it does. Most rows close before the
/// next instant and are done with one comparison.
pub(crate) fn open_at_each(from: &Column, to: &Column, ats: &[Option<i64>]) -> R<Vec<Vec<u32>>> {
    let (Data::Timestamp(f), Data::Timestamp(t)) = (&from.data, &to.data) else {
        return Err("internal: an interval is not two timestamps".into());
    };
    let mut sorted: Vec<(i64, usize)> = ats
        .iter()
        .enumerate()
        .filter_map(|(i, at)| at.map(|at| (at, i)))
        .collect();
    sorted.sort_by_key(|&(at, _)| at);
    let mut out = vec![Vec::new(); ats.len()];
    let (mut lo, mut last_from) = (0, i64::MIN);
    for i in 0..f.len() {
        if !from.is_valid(i) {
            continue;
        }
        if f[i] < last_from {
            lo = sorted.partition_point(|&(at, _)| at <= f[i]);
        } else {
            while sorted.get(lo).is_some_and(|&(at, _)| at <= f[i]) {
                lo += 1;
            }
        }
        last_from = f[i];
        let Some(&(next, _)) = sorted.get(lo) else {
            continue;
        };
        let hi = match to.is_valid(i) {
            true if t[i] < next => continue,
            true => lo + sorted[lo..].partition_point(|&(at, _)| at <= t[i]),
            false => sorted.len(),
        };
        for &(_, k) in &sorted[lo..hi] {
            out[k].push(i as u32);
        }
    }
    Ok(out)
}

/// Each row's key as an index into the column's distinct key texts
/// ([`NO_ROW`] for null). Strings already are: their dictionary codes.
/// Other key types (int ids) are compared by their text, so `12` and `"12"`
/// meet.
pub(crate) fn key_ids(c: &Column) -> (Vec<u32>, Arc<crate::column::Dict>) {
    if let crate::column::Data::Str(s) = &c.data {
        let ids = match &c.valid {
            None => s.codes.as_u32().into_owned(),
            Some(v) => s
                .codes
                .iter()
                .zip(v)
                .map(|(k, &ok)| if ok { k } else { NO_ROW })
                .collect(),
        };
        return (ids, s.dict.clone());
    }
    let mut b = crate::column::StrBuilder::with_capacity(c.len());
    let mut valid = Vec::with_capacity(c.len());
    for i in 0..c.len() {
        let text = kernels::key_text(get(c, i));
        valid.push(text.is_some());
        b.push(text.as_deref().unwrap_or(""));
    }
    let s = b.finish();
    let ids = s
        .codes
        .iter()
        .zip(valid)
        .map(|(code, v)| if v { code } else { NO_ROW })
        .collect();
    (ids, s.dict)
}

/// Each row's value as a dense id (equal values, equal ids; `u32::MAX` for
/// null), and the number of ids. Strings are their dictionary codes.
pub(crate) fn dense_ids(c: &Column) -> (std::borrow::Cow<'_, [u32]>, usize) {
    let valid = |i: usize| c.is_valid(i);
    if let Data::Str(s) = &c.data {
        if c.valid.is_none() {
            return (s.codes.as_u32(), s.dict.len());
        }
        let ids = s
            .codes
            .iter()
            .enumerate()
            .map(|(i, k)| if valid(i) { k } else { u32::MAX })
            .collect();
        return (std::borrow::Cow::Owned(ids), s.dict.len());
    }
    let bits: Vec<u64> = match &c.data {
        Data::Int(v) | Data::Timestamp(v) => v.iter().map(|&x| x as u64).collect(),
        // -0.0 and 0.0 are one value.
        Data::Float(v) | Data::Duration(v) => v.iter().map(|&x| (x + 0.0).to_bits()).collect(),
        Data::Bool(v) => v.iter().map(|&x| x as u64).collect(),
        Data::Str(_) => unreachable!("strings are handled above"),
    };
    let mut index: foldhash::HashMap<u64, u32> = Default::default();
    let ids = bits
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if !valid(i) {
                return u32::MAX;
            }
            let next = index.len() as u32;
            *index.entry(*b).or_insert(next)
        })
        .collect();
    (ids, index.len())
}

/// `map[i]` for each index `i` of `idx`; [`NO_ROW`] stays [`NO_ROW`].
fn through(idx: &[u32], map: &[u32]) -> Vec<u32> {
    idx.iter()
        .map(|&i| if i == NO_ROW { NO_ROW } else { map[i as usize] })
        .collect()
}

/// `f(0..n)` on up to `threads` threads, the results in order. On error,
/// the first error in unit order: units are claimed in order, so every unit
/// before a failed one has run, whatever the timing.
pub(crate) fn par_map<T: Send, E: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> Result<T, E> + Sync,
) -> Result<Vec<T>, E> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if threads <= 1 || n <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<Result<T, E>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads.min(n) {
            // Evaluation recurses over the expression tree: workers get the
            // large stack the CLI's main thread has.
            std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    let failed = r.is_err();
                    *done[i].lock().expect("no panic holding a result") = Some(r);
                    if failed {
                        next.fetch_max(n, Ordering::SeqCst);
                    }
                })
                .expect("a worker thread starts");
        }
    });
    let mut out = Vec::with_capacity(n);
    for d in done {
        match d.into_inner().expect("no panic holding a result") {
            Some(r) => out.push(r?),
            None => unreachable!("a unit after a failed one is never left unreported before it"),
        }
    }
    Ok(out)
}

/// `f(0..n)` on up to `threads` threads, each result handed to `fold` in
/// unit order, the first error in unit order returned as [`par_map`] does.
/// Units run in waves of a few per thread, so only a wave's results are
/// held at once: a pass's units each carry a copy of its accumulators.
pub(crate) fn par_fold<T: Send, E: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(usize) -> Result<T, E> + Sync,
    mut fold: impl FnMut(T),
) -> Result<(), E> {
    let wave = threads.max(1) * 4;
    let mut start = 0;
    while start < n {
        let len = wave.min(n - start);
        for t in par_map(len, threads, |i| f(start + i))? {
            fold(t);
        }
        start += len;
    }
    Ok(())
}

/// Stack of a worker thread (address space; only the pages used are memory).
const WORKER_STACK: usize = 256 << 20;

/// The result type the checker planned for an aggregate.
pub(crate) fn agg_output(a: &ir::Aggregate) -> Type {
    match &a.plugin {
        Some(p) => p.returns.clone(),
        None => kpi_dsl::check::aggregate_type(a.func, a.arg.as_ref().map(|x| &x.ty))
            .unwrap_or(Type::Null),
    }
}

/// Whether an aggregate's value or filter depends on the period: it reads
/// `period.start/end`, or holds a nested aggregate with its own period axis
/// (`sum(customers@all: sum(tickets: count(messages@created_at)))`: the
/// middle aggregate is `@all` but its values change with the period, so it
/// must not be cached across periods).
pub(crate) fn uses_period(a: &ir::Aggregate) -> bool {
    let mut found = false;
    for x in a
        .arg
        .iter()
        .chain(a.filter.iter())
        .chain(a.plugin.iter().flat_map(|p| &p.args))
    {
        x.walk(&mut |e| {
            found |= match &e.kind {
                K::PeriodStart | K::PeriodEnd => true,
                K::Aggregate(inner) => !matches!(inner.axis, Axis::All),
                _ => false,
            }
        });
    }
    found
}

/// [`index_map`] of the string column `keys` read at the rows of `at`
/// (`params.sla_resolution[priority]`): each distinct key looked up once,
/// and each row's value read through its key's code, without a gathered
/// key column.
fn index_map_at(
    map: &IndexMap<String, ParamValue>,
    keys: &Column,
    at: &At<'_>,
    ty: &Type,
) -> R<Column> {
    match &keys.data {
        Data::Str(s) if s.dict.len() <= at.len() => {
            let mut b = kernels::Builder::new(ty, s.dict.len());
            for k in s.dict.iter() {
                match map.get(k).and_then(kpi_dsl::check::param_constant) {
                    Some(v) => b.push(value_v(&v))?,
                    None => b.push(V::Null)?,
                }
            }
            Ok(crate::fast::read_by_code(&b.finish(), keys, at)
                .expect("a string column read at rows"))
        }
        _ => index_map(map, &crate::fast::read(keys, at), ty),
    }
}

/// `map[key]` for each row's key: null where the key is null or not in
/// the map.
fn index_map(map: &IndexMap<String, ParamValue>, keys: &Column, ty: &Type) -> R<Column> {
    let lookup = |k: V<'_>| match k {
        V::S(k) => map.get(k).and_then(kpi_dsl::check::param_constant),
        _ => None,
    };
    let push = |b: &mut kernels::Builder, k: V<'_>| match &lookup(k) {
        Some(v) => b.push(value_v(v)),
        None => b.push(V::Null),
    };
    let n = keys.len();
    match &keys.data {
        // String keys (`params.sla[priority]`): each distinct string is
        // looked up once and rows take their code's value — when the
        // dictionary is no larger than the rows, so that a key column's
        // millions of ids are never all looked up for a batch.
        Data::Str(s) if s.dict.len() <= n => {
            let mut b = kernels::Builder::new(ty, s.dict.len());
            for k in s.dict.iter() {
                push(&mut b, V::S(k))?;
            }
            let by_code = kernels::gather(&b.finish(), &s.codes.as_u32());
            let valid = (0..n)
                .map(|i| keys.is_valid(i) && by_code.is_valid(i))
                .collect();
            Ok(Column::new(by_code.data, Some(valid)))
        }
        _ => {
            let mut b = kernels::Builder::new(ty, n);
            for i in 0..n {
                push(&mut b, get(keys, i))?;
            }
            Ok(b.finish())
        }
    }
}

fn value_v(v: &ir::Value) -> V<'_> {
    match v {
        ir::Value::Null => V::Null,
        ir::Value::Int(i) => V::I(*i),
        ir::Value::Float(f) => V::F(*f),
        ir::Value::Bool(b) => V::B(*b),
        ir::Value::Str(s) => V::S(s),
        ir::Value::Duration(d) => V::D(*d as f64),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{
        neighbours_by_sorting, neighbours_in_row_order, open_at_each, rows_beside, WindowRows,
    };
    use crate::column::{Column, Data};

    proptest! {
        /// `map[key]` looked up per distinct string equals the lookup per
        /// row: keys null, missing from the map, and repeated; dictionaries
        /// smaller and larger than the rows.
        #[test]
        fn index_map_by_code_equals_per_row(
            keys in prop::collection::vec(prop::option::of(0u8..6), 0..30),
            extra in 0usize..40,
        ) {
            use kpi_dsl::{ParamValue, Type};
            let map: indexmap::IndexMap<String, ParamValue> = (0..4)
                .map(|k| (format!("k{k}"), ParamValue::Duration(k * 1000)))
                .collect();
            let mut b = crate::column::StrBuilder::default();
            for k in 0..extra {
                b.push(&format!("x{k}"));
            }
            for k in &keys {
                b.push(&format!("k{}", k.unwrap_or(0)));
            }
            let mut s = b.finish();
            let codes: Vec<u32> = s.codes.iter().skip(extra).collect();
            s.codes = crate::column::Codes::U32(codes);
            let col = Column::new(Data::Str(s), Some(keys.iter().map(Option::is_some).collect()));
            let got = super::index_map(&map, &col, &Type::Duration).unwrap();
            for (i, k) in keys.iter().enumerate() {
                let want = match k {
                    Some(k) if *k < 4 => crate::kernels::V::D(*k as f64 * 1000.0),
                    _ => crate::kernels::V::Null,
                };
                prop_assert_eq!(crate::kernels::get(&got, i), want);
            }
        }

        /// `map[key]` read through the codes of the keys at rows equals
        /// the lookup of the gathered keys.
        #[test]
        fn index_map_at_rows_equals_gathered(
            keys in prop::collection::vec(prop::option::of(0u8..6), 1..30),
            rows in prop::collection::vec(0usize..30, 0..40),
        ) {
            use kpi_dsl::{ParamValue, Type};
            let map: indexmap::IndexMap<String, ParamValue> = (0..4)
                .map(|k| (format!("k{k}"), ParamValue::Duration(k * 1000)))
                .collect();
            let mut b = crate::column::StrBuilder::default();
            for k in &keys {
                b.push(&format!("k{}", k.unwrap_or(0)));
            }
            let col = Column::new(Data::Str(b.finish()), Some(keys.iter().map(Option::is_some).collect()));
            let rows: Vec<u32> = rows.iter().map(|&r| (r % keys.len()) as u32).collect();
            let at = crate::fast::At::rows(&rows);
            let got = super::index_map_at(&map, &col, &at, &Type::Duration).unwrap();
            let want = super::index_map(&map, &crate::kernels::gather(&col, &rows), &Type::Duration).unwrap();
            for i in 0..rows.len() {
                prop_assert_eq!(crate::kernels::get(&got, i), crate::kernels::get(&want, i));
            }
        }

        /// Rows open at each instant, found in one pass, equal a filter per
        /// instant (`from < at <= to`, a null `to` open); instants repeat,
        /// go backwards and are missing. Rows in `from` order (the cursor)
        /// are generated as often as any order (binary searches), and rows
        /// in order but for two (both).
        #[test]
        fn open_at_each_equals_a_filter_per_instant(
            rows in prop::collection::vec((prop::option::of(0i64..8), prop::option::of(0i64..8)), 0..40),
            ats in prop::collection::vec(prop::option::of(0i64..8), 0..6),
            arrange in 0..3u8,
            swap in (0usize..40, 0usize..40),
        ) {
            let mut rows = rows;
            if arrange > 0 {
                rows.sort_by_key(|r| r.0);
            }
            if arrange == 2 && !rows.is_empty() {
                let n = rows.len();
                rows.swap(swap.0 % n, swap.1 % n);
            }
            let col = |xs: Vec<Option<i64>>| Column::new(
                Data::Timestamp(xs.iter().map(|x| x.unwrap_or(0)).collect()),
                Some(xs.iter().map(Option::is_some).collect()),
            );
            let from = col(rows.iter().map(|r| r.0).collect());
            let to = col(rows.iter().map(|r| r.1).collect());
            let want: Vec<Vec<u32>> = ats
                .iter()
                .map(|at| match at {
                    None => Vec::new(),
                    Some(at) => (0..rows.len() as u32)
                        .filter(|&i| {
                            let (f, t) = rows[i as usize];
                            f.is_some_and(|f| f < *at) && t.is_none_or(|t| *at <= t)
                        })
                        .collect(),
                })
                .collect();
            prop_assert_eq!(open_at_each(&from, &to, &ats).unwrap(), want);
        }

        /// The one-pass neighbours equal the sorted ones whenever the
        /// one-pass case applies; rows grouped by key and rows sorted by
        /// time (the cases it is for) are generated as often as any order.
        #[test]
        fn neighbours_agree(
            rows in prop::collection::vec((prop::option::of(0u32..6), prop::option::of(0i64..5)), 0..60),
            arrange in 0..4u8,
            swap in (0usize..60, 0usize..60),
        ) {
            let mut rows = rows;
            match arrange {
                0 => rows.sort_by_key(|r| (r.0, r.1.unwrap_or(i64::MIN))),
                1 => rows.sort_by_key(|r| r.1.unwrap_or(i64::MIN)),
                // Sorted by time but for two rows: a key's previous row
                // may be before the rows in time order (read, compared).
                2 if !rows.is_empty() => {
                    rows.sort_by_key(|r| r.1.unwrap_or(i64::MIN));
                    let n = rows.len();
                    rows.swap(swap.0 % n, swap.1 % n);
                }
                _ => {}
            }
            let ids: Vec<u32> = rows.iter().map(|r| r.0.unwrap_or(u32::MAX)).collect();
            let at = |r: u32| rows[r as usize].1.unwrap_or(i64::MIN);
            if arrange < 2 {
                prop_assert!(neighbours_in_row_order(true, &ids, 6, at).is_some());
            }
            for prev in [true, false] {
                if let Some(fast) = neighbours_in_row_order(prev, &ids, 6, at) {
                    prop_assert_eq!(fast, neighbours_by_sorting(prev, &ids, 6, at));
                }
            }
        }

        /// Rows beside each other answer exactly when each key's rows come
        /// together in time order without a null key, and then agree with
        /// the sorted neighbours; keys in rising or any order, runs split
        /// in two, rows out of time order and null keys are all generated.
        #[test]
        fn rows_beside_agree(
            runs in prop::collection::vec((prop::option::of(0u32..8), 1usize..4, 0i64..3), 0..12),
            reorder in 0..3u8,
            late in any::<bool>(),
        ) {
            let mut runs = runs;
            match reorder {
                0 => runs.sort_by_key(|r| r.0),
                1 => runs.reverse(),
                _ => {}
            }
            let mut ids = Vec::new();
            let mut times = Vec::new();
            for &(k, len, step) in &runs {
                for i in 0..len {
                    ids.push(k.unwrap_or(u32::MAX));
                    times.push(i as i64 * step);
                }
            }
            if late && times.len() > 1 {
                times[1] = 5 - times[1];
            }
            let together_in_order = (0..ids.len()).all(|r| {
                ids[r] != u32::MAX
                    && (r == 0 || ids[r - 1] != ids[r] || times[r - 1] <= times[r])
                    && (r == 0 || ids[r - 1] == ids[r] || !ids[..r].contains(&ids[r]))
            });
            for prev in [true, false] {
                let got = rows_beside(prev, &ids, 8, &times);
                prop_assert_eq!(got.is_some(), together_in_order);
                if let Some(beside) = got {
                    let rows = WindowRows::Beside { prev, beside };
                    let want = neighbours_by_sorting(prev, &ids, 8, |r| times[r as usize]);
                    let of: Vec<u32> = (0..ids.len() as u32).map(|r| rows.of(r)).collect();
                    prop_assert_eq!(of, want);
                }
            }
        }

        /// Both ways follow the definition: each row's neighbour among the
        /// rows of its key ordered by (time, row), null times first.
        #[test]
        fn neighbours_follow_the_definition(
            rows in prop::collection::vec((prop::option::of(0u32..4), prop::option::of(0i64..4)), 0..30),
            in_order in any::<bool>(),
            prev in any::<bool>(),
        ) {
            let mut rows = rows;
            if in_order {
                rows.sort_by_key(|r| r.1.unwrap_or(i64::MIN));
            }
            let ids: Vec<u32> = rows.iter().map(|r| r.0.unwrap_or(u32::MAX)).collect();
            let times: Vec<i64> = rows.iter().map(|r| r.1.unwrap_or(i64::MIN)).collect();
            let at = |r: u32| times[r as usize];
            let want: Vec<u32> = (0..ids.len())
                .map(|r| {
                    if ids[r] == u32::MAX {
                        return super::NO_ROW;
                    }
                    let mut same: Vec<usize> = (0..ids.len()).filter(|&q| ids[q] == ids[r]).collect();
                    same.sort_by_key(|&q| (times[q], q));
                    let i = same.iter().position(|&q| q == r).unwrap();
                    let n = if prev { i.checked_sub(1) } else { Some(i + 1) };
                    n.and_then(|n| same.get(n)).map_or(super::NO_ROW, |&q| q as u32)
                })
                .collect();
            prop_assert_eq!(&neighbours_by_sorting(prev, &ids, 4, at), &want);
            match neighbours_in_row_order(prev, &ids, 4, at) {
                Some(got) => prop_assert_eq!(&got, &want),
                None => prop_assert!(!in_order, "rows in time order are answered in one pass"),
            }
        }
    }
}
