//! Running a query: choose metrics, load the columns they read, cut the
//! periods, find the groups, compute every aggregate in one pass per table
//! and period axis, then evaluate the metric formulas over the result grid.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use indexmap::IndexMap;
use kpi_dsl::diag::did_you_mean;
use kpi_dsl::ir::{self, Axis, ExprKind as K};
use kpi_dsl::{codes, Better, CheckedMetric, Diagnostic, Type};

use crate::agg::Accumulator;
use crate::column::{Column, Data, Table, MICROS};
use crate::exec::{
    agg_output, id, par_fold, par_map, shared_slots, uses_period, Exec, Frame, Shared,
};
use crate::groups::{GroupKeys, RowGroups};
use crate::kernels::{get, V};
use crate::period::PeriodKind;
use crate::project::{resolve_path, Project};
use crate::read::{describe_rejects, read_table, Accounting, ColumnSpec, ParentKey, ReadOptions};
use crate::result::{Number, ResultRow, ResultTable, Status};
use crate::Error;

/// Time dimensions every table with a time column has.
pub const TIME_DIMENSIONS: &[&str] = &["weekday", "hour"];

/// What to compute.
#[derive(Clone, Debug)]
pub struct Query {
    /// Metric ids; empty means every visible metric whose tables exist.
    pub metrics: Vec<String>,
    /// Dimensions to group by, in output order.
    pub by: Vec<String>,
    pub period: PeriodKind,
    /// Inclusive start: a date (local midnight) or a timestamp.
    pub from: Option<String>,
    /// Exclusive end.
    pub to: Option<String>,
    /// Rejected rows tolerated (left out of every metric); more fail the
    /// run. 0 by default: any reject fails it.
    pub max_rejects: u64,
    /// Threads for loading and computing; 0 means one per core. The
    /// result is the same for every number of threads.
    pub threads: usize,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            metrics: Vec::new(),
            by: Vec::new(),
            period: PeriodKind::Month,
            from: None,
            to: None,
            max_rejects: 0,
            threads: 0,
        }
    }
}

/// Metrics left out of a run, with the reason.
type Skipped = Vec<(String, String)>;

/// One fused scan: every aggregate over `table` that selects rows by the same axis.
struct Pass<'p> {
    table: String,
    axis: &'p Axis,
    aggs: Vec<&'p ir::Aggregate>,
}

impl Project {
    /// The metrics a query asks for, and those skipped (with the reason)
    /// when it asks for all.
    fn choose(&self, q: &Query) -> Result<(Vec<&CheckedMetric>, Skipped), Error> {
        let missing = |m: &CheckedMetric| {
            m.tables
                .iter()
                .find(|t| !self.tables.contains_key(*t))
                .cloned()
        };
        if q.metrics.is_empty() {
            let mut chosen = Vec::new();
            let mut skipped = Vec::new();
            for m in self.checked.metrics.values().filter(|m| !m.def.hidden) {
                match missing(m) {
                    Some(t) => skipped.push((
                        m.def.id.clone(),
                        format!("table `{t}` has no source in this project"),
                    )),
                    None => chosen.push(m),
                }
            }
            return Ok((chosen, skipped));
        }
        let mut chosen = Vec::new();
        for name in &q.metrics {
            let Some(m) = self.checked.metrics.get(name) else {
                let hint = did_you_mean(name, self.checked.metrics.keys().map(String::as_str))
                    .unwrap_or_else(|| "`kpi list` shows every metric".into());
                return Err(Error::usage(format!("unknown metric `{name}`; {hint}")));
            };
            if let Some(t) = missing(m) {
                return Err(Error::new(
                    crate::ErrorKind::Usage,
                    Diagnostic::at(codes::MISSING_TABLE, m.def.id_span, format!("metric `{name}` reads table `{t}`, which has no source in this project"))
                        .hint(format!("add [tables.{t}] with source = \"...\" to kpi.toml")),
                ));
            }
            chosen.push(m);
        }
        Ok((chosen, Vec::new()))
    }

    /// Runs a query over the project's data. Rows the readers reject are
    /// left out of every metric and listed in [`ResultTable::rejects`];
    /// more of them than `q.max_rejects` is a data error that carries the
    /// accounting ([`Error::accounting`]).
    pub fn run(&self, q: &Query) -> Result<ResultTable, Error> {
        let (mut metrics, mut skipped) = self.choose(q)?;
        if q.metrics.is_empty() {
            // Running everything by a dimension: leave out, and name, the
            // metrics that read a table without it (asked by name, they are
            // an error below).
            metrics.retain(|m| {
                let mut aggs = Vec::new();
                top_aggregates(&m.expr, &mut aggs);
                let lacking = aggs.iter().find_map(|a| {
                    q.by.iter()
                        .find(|d| self.dimension_of(&a.table, d).is_err())
                        .map(|d| (a.table.clone(), d))
                });
                match lacking {
                    Some((t, d)) => {
                        skipped.push((
                            m.def.id.clone(),
                            format!("table `{t}` has no dimension `{d}`"),
                        ));
                        false
                    }
                    None => true,
                }
            });
        }
        for d in &q.by {
            let known = self
                .schema
                .tables
                .values()
                .any(|t| t.dimensions.contains_key(d))
                || TIME_DIMENSIONS.contains(&d.as_str());
            if !known {
                let all: BTreeSet<&str> = self
                    .schema
                    .tables
                    .values()
                    .flat_map(|t| t.dimensions.keys().map(String::as_str))
                    .chain(TIME_DIMENSIONS.iter().copied())
                    .collect();
                let hint = did_you_mean(d, all.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "dimensions are {}",
                        all.into_iter().collect::<Vec<_>>().join(", ")
                    )
                });
                return Err(Error::usage(format!("unknown dimension `{d}`; {hint}")));
            }
        }

        // The aggregates each metric computes at the metric level.
        let mut per_metric: Vec<Vec<&ir::Aggregate>> = Vec::new();
        for m in &metrics {
            let mut aggs = Vec::new();
            top_aggregates(&m.expr, &mut aggs);
            for a in &aggs {
                for d in &q.by {
                    self.dimension_of(&a.table, d).map_err(|_| {
                        let has: Vec<&str> = self.schema.tables[&a.table].dimensions.keys().map(String::as_str).collect();
                        Error::new(
                            crate::ErrorKind::Usage,
                            Diagnostic::at(
                                codes::DIMENSION,
                                m.def.id_span,
                                format!("metric `{}` reads table `{}`, which has no dimension `{d}`", m.def.id, a.table),
                            )
                            .hint(format!(
                                "`{}` can be grouped by {}; map the dimension with [tables.{}.dimensions] {d} = \"column\"",
                                a.table,
                                if has.is_empty() { "time dimensions only".to_string() } else { has.join(", ") },
                                a.table
                            )),
                        )
                    })?;
                }
            }
            per_metric.push(aggs);
        }

        // Plugins promise no thread safety (docs/plugins.md): a query that
        // calls one runs on one thread.
        let calls_plugin = metrics.iter().any(|m| {
            let mut found = false;
            m.expr.walk(&mut |e| {
                found |= match &e.kind {
                    K::Call { func, .. } => self.plugin_functions.contains_key(func),
                    K::Aggregate(a) => a.plugin.is_some(),
                    _ => false,
                }
            });
            found
        });
        let threads = match q.threads {
            _ if calls_plugin => 1,
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let (data, accounting) = self.load_data(&metrics, &q.by, threads)?;
        let rejected = accounting.rejects.len() as u64;
        if rejected > q.max_rejects {
            return Err(too_many_rejects(q.max_rejects, accounting));
        }
        let params = &self.schema.params;
        let mut exec = Exec::new(
            &self.schema,
            params,
            self.calendar.tz,
            &data,
            &self.plugin_functions,
        );
        exec.threads = threads;

        // Fuse: one pass per (table, axis).
        let mut passes: Vec<Pass<'_>> = Vec::new();
        let mut seen_aggs = std::collections::HashSet::new();
        // An aggregate written the same way in several metrics
        // (`count(tickets@solved_at)`) is computed once: each later one is
        // an alias of the first (plugin aggregates are always called).
        let mut first_of: HashMap<String, usize> = HashMap::new();
        let mut aliases: Vec<(usize, usize)> = Vec::new();
        for a in per_metric.iter().flatten() {
            if !seen_aggs.insert(id(*a)) {
                continue;
            }
            if a.plugin.is_none() {
                match first_of.entry(aggregate_key(a)) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        aliases.push((id(*a), *first.get()));
                        continue;
                    }
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(id(*a));
                    }
                }
            }
            match passes
                .iter_mut()
                .find(|p| p.table == a.table && same_axis(p.axis, &a.axis))
            {
                Some(p) => p.aggs.push(a),
                None => passes.push(Pass {
                    table: a.table.clone(),
                    axis: &a.axis,
                    aggs: vec![a],
                }),
            }
        }

        // A table's passes run one after another, tables in the order the
        // metrics first read them: what a table's passes build (its windows,
        // its group keys, child aggregates over its rows) is freed before the
        // next table's are built. The order changes no value.
        let first_read: Vec<String> = passes.iter().map(|p| p.table.clone()).collect();
        passes.sort_by_key(|p| first_read.iter().position(|t| *t == p.table));

        let mut periods = self.periods(q, &passes, &exec)?;
        let history = periods.len();
        // forecast(m, h) extends the result by h periods after the data.
        let horizons: Vec<usize> = metrics.iter().map(|m| forecast_horizon(&m.expr)).collect();
        let horizon = horizons.iter().copied().max().unwrap_or(0);
        if q.period != PeriodKind::All {
            for _ in 0..horizon {
                let Some(&(_, start)) = periods.last() else {
                    break;
                };
                let end = self
                    .calendar
                    .next(q.period, self.calendar.floor(q.period, start));
                periods.push((start, end));
            }
        }
        let plugin_err = |e: String| {
            Error::new(
                crate::ErrorKind::Data,
                Diagnostic::new(codes::PLUGIN_CALL, e),
            )
        };
        // A plugin's failure surfaces through evaluation too; its messages
        // start with "plugin `NAME` function `f`" (plugin.rs).
        let data_err = |e: String| {
            if e.starts_with("plugin `") {
                plugin_err(e)
            } else {
                Error::data(e)
            }
        };

        // Row selections per pass and period, and the groups they hold.
        let mut keys = GroupKeys::default();
        for p in &passes {
            keys.add_table(self, &exec, &p.table, &q.by)
                .map_err(data_err)?;
        }
        // Each table's group codes (a byte or two a row, or its dimension's
        // own codes), and the groups they hold.
        let (mut row_keys, table_groups): (
            HashMap<String, RowGroups<'_>>,
            HashMap<String, Vec<u32>>,
        ) = keys
            .take_tables()
            .into_iter()
            .map(|(t, k)| ((t.clone(), k.codes), (t, k.groups)))
            .unzip();
        // The rows each pass reads, first to find the groups that occur. A
        // period axis is read in place: each row's period is found when its
        // batch is read (no period per row is held: 150 MB for 37.6M
        // messages); the rows open at each period's instant (an interval
        // axis: a scan per period, usually few rows) are kept.
        let periods_of = Periods::new(&periods);
        let select_pass = |p: &Pass<'_>| -> Result<Selection<'_>, Error> {
            Ok(match p.axis {
                Axis::Column(c) => {
                    let col = exec.column(&p.table, c).map_err(data_err)?;
                    let Data::Timestamp(ts) = &col.data else {
                        return Err(data_err(format!("internal: axis `{c}` is not a timestamp")));
                    };
                    Selection::Axis(ts, col)
                }
                // Rows open at each period's instant: one pass over the rows.
                Axis::At(x) => {
                    let ats = periods
                        .iter()
                        .map(|&period| exec.instant(x, period))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(data_err)?;
                    let (from, to) = exec.interval(&p.table).map_err(data_err)?;
                    Selection::Lists(crate::exec::open_at_each(from, to, &ats).map_err(data_err)?)
                }
                _ => Selection::Lists(par_map(periods.len(), threads, |pi| {
                    exec.select(&p.table, p.axis, Some(periods[pi]))
                        .map_err(data_err)
                })?),
            })
        };
        let mut selections: Vec<Selection<'_>> = Vec::with_capacity(passes.len());
        for p in &passes {
            let sel = select_pass(p)?;
            selections.push(sel);
        }
        // The groups the selections hold: an axis without nulls first (a
        // table's every row, usually), after which a table's other passes
        // have no group left to find and are not read.
        let mut by_nulls: Vec<usize> = (0..passes.len()).collect();
        by_nulls.sort_by_key(
            |&i| !matches!(&selections[i], Selection::Axis(_, col) if col.valid.is_none()),
        );
        for i in by_nulls {
            let t = &passes[i].table;
            mark_seen(
                &selections[i],
                &row_keys[t],
                &table_groups[t],
                &periods_of,
                &mut keys.seen,
            );
        }
        if q.by.is_empty() {
            keys.intern(Vec::new());
            keys.seen[0] = true;
        }
        let (groups, rank) = keys.order();
        let g = groups.len();

        // Aggregates: the fused pass.
        let mut agg_values: HashMap<usize, Column> = HashMap::new();
        for (i, (p, sel)) in passes.iter().zip(&selections).enumerate() {
            let rk = row_keys[&p.table].parts();
            // The rank of the group of each code of `rk`.
            let ranks_of: Vec<u32>;
            let code_rank: &[u32] = match rk.of {
                None => &rank,
                Some(of) => {
                    ranks_of = of
                        .iter()
                        .map(|&k| rank.get(k as usize).copied().unwrap_or(u32::MAX))
                        .collect();
                    &ranks_of
                }
            };
            // Built-in aggregates keep mergeable state per cell; a plugin's
            // aggregate is called once per period with every group's rows.
            let mut accs: Vec<Option<Accumulator>> = p
                .aggs
                .iter()
                .map(|a| {
                    a.plugin.is_none().then(|| {
                        Accumulator::new(
                            a.func,
                            a.arg.as_ref().map(|x| x.ty.clone()),
                            agg_output(a),
                            a.fraction,
                            periods.len() * g,
                        )
                    })
                })
                .collect();
            let mut plugin_parts: Vec<Vec<Column>> = vec![Vec::new(); p.aggs.len()];
            // Aggregates whose values do not depend on the period are
            // evaluated once over every selected row of the table, each row
            // sent to its cell (period × group); the others once per period.
            // Within one evaluation, equal filters and arguments are
            // computed once.
            let whole: Vec<bool> = p
                .aggs
                .iter()
                .map(|a| a.plugin.is_none() && !uses_period(a))
                .collect();
            let empty: Vec<Option<Accumulator>> = accs.clone();
            let plan = MemoPlan::new(&p.aggs);
            let cell = |pi: u32, r: u32| pi * g as u32 + code_rank[rk.code(r as usize) as usize];
            if whole.iter().any(|&w| w) {
                // Fixed chunks, whatever the number of threads, merged in
                // chunk order: the same sums in the same order on 1 thread
                // or on many. A chunk is a range of the table's rows (a
                // period axis: each row in at most one period), or of the
                // (period, row) pairs (an interval or `@all` axis).
                let chunk = chunk_rows(periods.len() * g);
                let pairs: Vec<(u32, u32)> = match sel {
                    Selection::Axis(..) => Vec::new(),
                    Selection::Lists(lists) => lists
                        .iter()
                        .enumerate()
                        .flat_map(|(pi, rows)| rows.iter().map(move |&r| (pi as u32, r)))
                        .collect(),
                };
                let total = match sel {
                    Selection::Axis(ts, _) => ts.len(),
                    Selection::Lists(_) => pairs.len(),
                };
                let unit = |c: usize| {
                    let mut part = empty.clone();
                    let mut memo = Memo::new(&plan);
                    let shared = Shared::new(&plan.shared);
                    // A unit is evaluated in batches of rows small enough
                    // to stay in cache, accumulated in row order: the same
                    // updates, in the same order, as one evaluation of the
                    // whole unit.
                    let mut rows = Vec::with_capacity(BATCH);
                    let mut cells = Vec::with_capacity(BATCH);
                    let end = ((c + 1) * chunk).min(total);
                    let mut start = c * chunk;
                    let mut evaluated = false;
                    let mut hint = 0;
                    while start < end || !evaluated {
                        let range = start..(start + BATCH).min(end);
                        start = range.end;
                        rows.clear();
                        cells.clear();
                        match sel {
                            // Every row of the batch valid and in one
                            // period (the usual batch of a table exported
                            // in time order): its rows are the range, its
                            // cells one period's, read in one loop.
                            Selection::Axis(ts, col)
                                if periods_of.holds_all(
                                    &ts[range.clone()],
                                    col.valid.as_deref().map(|v| &v[range.clone()]),
                                    &mut hint,
                                ) =>
                            {
                                let base = hint as u32 * g as u32;
                                match col.valid.as_deref() {
                                    None => {
                                        rows.extend(range.start as u32..range.end as u32);
                                        rk.extend(range, &mut cells, |k| {
                                            base + code_rank[k as usize]
                                        });
                                    }
                                    // Rows without a time are in no period.
                                    Some(valid) => {
                                        for r in range.filter(|&r| valid[r]) {
                                            rows.push(r as u32);
                                            cells.push(base + code_rank[rk.code(r) as usize]);
                                        }
                                    }
                                }
                            }
                            // Each row's period first, then its group's
                            // rank added in a loop per code width.
                            Selection::Axis(ts, col) => {
                                for r in range {
                                    if !col.is_valid(r) {
                                        continue;
                                    }
                                    if let Some(pi) = periods_of.find(ts[r], &mut hint) {
                                        rows.push(r as u32);
                                        cells.push(pi * g as u32);
                                    }
                                }
                                rk.add_each(&rows, &mut cells, |k| code_rank[k as usize]);
                            }
                            Selection::Lists(_) => {
                                for &(pi, r) in &pairs[range] {
                                    rows.push(r);
                                    cells.push(pi * g as u32);
                                }
                                rk.add_each(&rows, &mut cells, |k| code_rank[k as usize]);
                            }
                        }
                        // A unit without rows is still evaluated once, so
                        // what evaluation reports does not depend on it.
                        if rows.is_empty() && (evaluated || start < end) {
                            continue;
                        }
                        evaluated = true;
                        shared.clear();
                        let frame = Frame::Rows {
                            table: &p.table,
                            rows: &rows,
                            period: None,
                            shared: Some(&shared),
                        };
                        memo.clear();
                        for (k, a) in p.aggs.iter().enumerate() {
                            let Some(acc) = part[k].as_mut().filter(|_| whole[k]) else {
                                continue;
                            };
                            memo.accumulate(&exec, k, a, &frame, acc, &cells)
                                .map_err(data_err)?;
                        }
                    }
                    Ok(part)
                };
                par_fold(total.div_ceil(chunk), threads, unit, |part| {
                    merge_into(&mut accs, &part, &whole, true)
                })?;
            }
            if !whole.iter().all(|&w| w) {
                // One unit of work per period; a period's cells are its own,
                // so merging them is exact in any order.
                let lists = match sel {
                    Selection::Lists(l) => std::borrow::Cow::Borrowed(l),
                    Selection::Axis(ts, col) => {
                        let mut l = vec![Vec::new(); periods.len()];
                        let mut hint = 0;
                        for (r, &t) in ts.iter().enumerate() {
                            if !col.is_valid(r) {
                                continue;
                            }
                            if let Some(pi) = periods_of.find(t, &mut hint) {
                                l[pi as usize].push(r as u32);
                            }
                        }
                        std::borrow::Cow::Owned(l)
                    }
                };
                let unit = |pi: usize| {
                    let rows = &lists[pi];
                    let shared = Shared::new(&plan.shared);
                    let frame = Frame::Rows {
                        table: &p.table,
                        rows,
                        period: Some((pi, periods[pi])),
                        shared: Some(&shared),
                    };
                    let cells: Vec<u32> = rows.iter().map(|&r| cell(pi as u32, r)).collect();
                    let mut memo = Memo::new(&plan);
                    let mut part = empty.clone();
                    let mut plugin_out: Vec<Option<Column>> = vec![None; p.aggs.len()];
                    for (k, a) in p.aggs.iter().enumerate() {
                        if whole[k] {
                            continue;
                        }
                        let Some(acc) = part[k].as_mut() else {
                            let call = a.plugin.as_ref().expect("a plugin aggregate");
                            let (values, groups) = exec
                                .plugin_batch(a, call, &frame, rows, |r| {
                                    Some(code_rank[rk.code(r as usize) as usize])
                                })
                                .map_err(data_err)?;
                            let f = exec.plugin(&call.name).map_err(data_err)?;
                            plugin_out[k] =
                                Some(f.call_aggregate(&values, &groups, g).map_err(plugin_err)?);
                            continue;
                        };
                        if rows.is_empty() {
                            continue;
                        }
                        memo.accumulate(&exec, k, a, &frame, acc, &cells)
                            .map_err(data_err)?;
                    }
                    Ok((part, plugin_out))
                };
                par_fold(lists.len(), threads, unit, |(part, plugin_out)| {
                    merge_into(&mut accs, &part, &whole, false);
                    for (k, c) in plugin_out.into_iter().enumerate() {
                        plugin_parts[k].extend(c);
                    }
                })?;
            }
            for ((a, acc), parts) in p.aggs.iter().zip(accs).zip(plugin_parts) {
                let column = match acc {
                    Some(acc) => acc.evaluate().map_err(data_err)?,
                    None => concat_columns(&agg_output(a), &parts.iter().collect::<Vec<_>>())
                        .map_err(data_err)?,
                };
                agg_values.insert(id(*a), column);
            }
            // A table's group keys (a byte or two a row), windows and child
            // aggregates go after its last pass.
            if passes.get(i + 1).is_none_or(|q| q.table != p.table) {
                row_keys.remove(&p.table);
                exec.forget_windows_and_children();
            }
        }

        for (alias, first) in aliases {
            let column = agg_values[&first].clone();
            agg_values.insert(alias, column);
        }

        // Metric formulas over the grid.
        let frame = Frame::Cells {
            periods: &periods,
            groups: g,
            aggs: &agg_values,
            history,
        };
        let mut values = Vec::new();
        for m in &metrics {
            values.push(
                exec.eval(&m.expr, &frame)
                    .map_err(|e| Error::data(format!("metric `{}`: {e}", m.def.id)))?,
            );
        }
        // The tables, their indexes and the aggregates are done with: free
        // them before the result's rows are built (at 10M tickets the
        // tables are about 2 GB, the rows of a full suite 150 MB).
        drop(agg_values);
        drop(exec);
        drop(data);
        // Each group's key and each metric's id and unit once, shared by
        // their rows.
        let groups: Vec<Arc<[Option<String>]>> = groups.into_iter().map(Arc::from).collect();
        let names: Vec<(Arc<str>, Arc<str>)> = metrics
            .iter()
            .map(|m| {
                (
                    Arc::from(m.def.id.as_str()),
                    Arc::from(m.def.unit.as_deref().unwrap_or_default()),
                )
            })
            .collect();
        let mut rows = Vec::with_capacity(periods.len() * g * metrics.len());
        for (pi, &(start, end)) in periods.iter().enumerate() {
            for (gi, group) in groups.iter().enumerate() {
                for (((m, col), &h), (id, unit)) in
                    metrics.iter().zip(&values).zip(&horizons).zip(&names)
                {
                    // Forecast periods carry only the metrics that forecast.
                    if pi >= history && h == 0 {
                        continue;
                    }
                    let value = number(col, pi * g + gi, m);
                    let status = match (m.def.target, &value, m.def.better) {
                        (Some(target), Some(v), better) => {
                            let v = v.as_f64();
                            let ok = if better == Some(Better::Lower) {
                                v <= target
                            } else {
                                v >= target
                            };
                            Some(if ok { Status::Ok } else { Status::Miss })
                        }
                        _ => None,
                    };
                    rows.push(ResultRow {
                        period_start: start,
                        period_end: end,
                        group: group.clone(),
                        metric: id.clone(),
                        value,
                        unit: unit.clone(),
                        status,
                    });
                }
            }
        }
        Ok(ResultTable {
            dimensions: q.by.clone(),
            period: q.period,
            tz: self.calendar.tz,
            has_status: metrics.iter().any(|m| m.def.target.is_some()),
            rows,
            skipped,
            files: accounting.files,
            rejects: accounting.rejects,
        })
    }

    /// How table `table` reaches dimension `dim`: a relation path and a column,
    /// or a time dimension of its time axis.
    pub(crate) fn dimension_of(&self, table: &str, dim: &str) -> Result<Dim, String> {
        let ts = &self.schema.tables[table];
        if TIME_DIMENSIONS.contains(&dim) {
            return match &ts.time {
                Some(t) => Ok(Dim::Time {
                    column: t.clone(),
                    hour: dim == "hour",
                }),
                None => Err(format!("table `{table}` has no time column")),
            };
        }
        let path = ts
            .dimensions
            .get(dim)
            .ok_or_else(|| format!("table `{table}` has no dimension `{dim}`"))?;
        let (path, column) = resolve_path(&self.schema, table, path)?;
        Ok(Dim::Column { path, column })
    }

    /// Reads the columns the metrics and dimensions need, from every table
    /// they touch, and accounts for every row of every file.
    fn load_data(
        &self,
        metrics: &[&CheckedMetric],
        by: &[String],
        threads: usize,
    ) -> Result<(IndexMap<String, Table>, Accounting), Error> {
        let mut needed: IndexMap<String, BTreeSet<String>> = IndexMap::new();
        let mut add = |t: &str, c: &str| {
            needed
                .entry(t.to_string())
                .or_default()
                .insert(c.to_string());
        };
        for m in metrics {
            for t in &m.tables {
                add(t, "");
            }
            for (t, c) in &m.columns {
                add(t, c);
            }
            let mut aggs = Vec::new();
            top_aggregates(&m.expr, &mut aggs);
            for a in aggs {
                if let Some(time) = &self.schema.tables[&a.table].time {
                    add(&a.table, time);
                }
                for d in by {
                    match self.dimension_of(&a.table, d) {
                        Ok(Dim::Time { column, .. }) => add(&a.table, &column),
                        Ok(Dim::Column { path, column }) => {
                            let mut t = a.table.clone();
                            for rel in &path {
                                let r = &self.schema.tables[&t].relations[rel];
                                add(&t, &r.column);
                                add(&r.table, &r.key);
                                t = r.table.clone();
                            }
                            add(&t, &column);
                        }
                        Err(_) => {}
                    }
                }
            }
        }
        let parent_keys = self.parent_keys(&needed);
        // Tables are read side by side (one unit of work each), and joined
        // in the order they were asked for.
        let needed: Vec<(String, BTreeSet<String>)> = needed.into_iter().collect();
        let loaded = par_map(needed.len(), threads, |i| {
            let (t, cols) = &needed[i];
            let source = self.tables.get(t).ok_or_else(|| {
                Error::usage(format!("table `{t}` has no source in this project"))
            })?;
            let ts = &self.schema.tables[t];
            let specs: Vec<ColumnSpec> = cols
                .iter()
                .filter(|c| !c.is_empty())
                .map(|c| ColumnSpec {
                    name: c.clone(),
                    source: source.columns.get(c).cloned().unwrap_or_else(|| c.clone()),
                    ty: ts.columns[c].clone(),
                    nullable: !source.required.contains(c),
                })
                .collect();
            let opts = ReadOptions {
                tz: self.calendar.tz,
                delimiter: source.delimiter,
                null_tokens: source.null_tokens.clone(),
                parent_keys: parent_keys
                    .iter()
                    .filter(|k| &k.child.0 == t)
                    .map(|k| (k.child.1.clone(), k.dict.clone()))
                    .collect(),
                ..ReadOptions::default()
            };
            let mut loaded = Vec::new();
            if let Some((label, text)) = &source.inline {
                let label = std::path::Path::new(label);
                loaded.push(
                    crate::read::read_text(t, label, text, &specs, &opts)
                        .map_err(|e| Error::data(e.to_string()))?,
                );
            }
            for f in &source.files {
                loaded
                    .push(read_table(t, f, &specs, &opts).map_err(|e| Error::data(e.to_string()))?);
            }
            if threads > 1 {
                release_free_memory();
            }
            // A key read from one file is final: its children may follow
            // its dictionary from now on.
            if let [one] = &loaded[..] {
                for k in parent_keys.iter().filter(|k| &k.parent.0 == t) {
                    if let Some(Data::Str(key)) =
                        one.table.columns.get(&k.parent.1).map(|c| &c.data)
                    {
                        let _ = k.dict.set(key.dict.clone());
                    }
                }
            }
            Ok((loaded, specs))
        })?;
        let mut out = IndexMap::new();
        let mut accounting = Accounting::default();
        for ((t, _), (loaded, specs)) in needed.iter().zip(loaded) {
            let mut parts = Vec::with_capacity(loaded.len());
            for l in loaded {
                accounting.files.push(l.account);
                accounting.rejects.extend(l.rejects);
                parts.push(l.table);
            }
            out.insert(t.clone(), concat(t, parts, &specs));
        }
        share_key_dictionaries(&self.schema, &mut out);
        Ok((out, accounting))
    }

    /// The relations whose key and parent key are both read as strings, in
    /// two tables: while the tables are read, a child whose parent is read
    /// first codes its key in the parent's dictionary.
    fn parent_keys(&self, needed: &IndexMap<String, BTreeSet<String>>) -> Vec<ParentKeyOf> {
        let string = |t: &str, c: &str| {
            needed.get(t).is_some_and(|cols| cols.contains(c))
                && self.schema.tables[t].columns.get(c) == Some(&Type::String)
        };
        let mut out = Vec::new();
        for t in needed.keys() {
            for rel in self.schema.tables[t].relations.values() {
                if rel.table != *t && string(t, &rel.column) && string(&rel.table, &rel.key) {
                    out.push(ParentKeyOf {
                        child: (t.clone(), rel.column.clone()),
                        parent: (rel.table.clone(), rel.key.clone()),
                        dict: Default::default(),
                    });
                }
            }
        }
        out
    }

    /// The periods of the query: `--from/--to` clipped, or the data's span
    /// extended to whole periods.
    fn periods(
        &self,
        q: &Query,
        passes: &[Pass<'_>],
        exec: &Exec<'_>,
    ) -> Result<Vec<(i64, i64)>, Error> {
        let cal = &self.calendar;
        let bound = |s: &Option<String>, what: &str| -> Result<Option<i64>, Error> {
            s.as_ref()
                .map(|s| {
                    crate::time::parse_bound(s, cal.tz)
                        .map_err(|e| Error::usage(format!("--{what}: {e}")))
                })
                .transpose()
        };
        // The project's default range applies when the query names none.
        let (q_from, q_to) = match (&q.from, &q.to) {
            (None, None) => (&self.default_range.0, &self.default_range.1),
            _ => (&q.from, &q.to),
        };
        let (from, to) = (bound(q_from, "from")?, bound(q_to, "to")?);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        if from.is_none() || to.is_none() {
            for p in passes {
                // The span covers the table's own time column as well as the
                // axis, so a metric over `@solved_at` shows the months its
                // tickets were created in too.
                let mut columns: Vec<&String> = self.schema.tables[&p.table].time.iter().collect();
                if let Axis::Column(c) = p.axis {
                    columns.push(c);
                }
                for column in columns {
                    let col = exec.column(&p.table, column).map_err(Error::data)?;
                    if let Data::Timestamp(ts) = &col.data {
                        for (i, &t) in ts.iter().enumerate() {
                            if col.is_valid(i) {
                                lo = lo.min(t);
                                hi = hi.max(t);
                            }
                        }
                    }
                }
            }
        }
        let has_data = lo <= hi;
        let from = match from {
            Some(f) => f,
            None if has_data => cal.floor(PeriodKind::Day, lo),
            None => return Ok(Vec::new()),
        };
        let to = match to {
            Some(t) => t,
            None if has_data => cal.next(PeriodKind::Day, cal.floor(PeriodKind::Day, hi)),
            None => return Ok(Vec::new()),
        };
        if to <= from {
            // Only a contradiction when the user gave both bounds. With one
            // bound the other comes from the data: `--from` after the last
            // row (or `--to` before the first) is an empty range, not a
            // complaint about an option that was never given.
            if q_from.is_some() && q_to.is_some() {
                return Err(Error::usage("--to must be after --from".to_string()));
            }
            return Ok(Vec::new());
        }
        let mut periods = cal.periods(q.period, from, to);
        // Explicit bounds clip the first and last period: rows outside the
        // asked range never count.
        if q_from.is_some() {
            if let Some(first) = periods.first_mut() {
                first.0 = first.0.max(from);
            }
        }
        if q_to.is_some() {
            if let Some(last) = periods.last_mut() {
                last.1 = last.1.min(to);
            }
        }
        Ok(periods)
    }
}

/// The rows a pass reads: the timestamps of a period axis (with their
/// column, for validity), each row's period found when it is read; or the
/// rows of each period.
enum Selection<'a> {
    Axis(&'a [i64], &'a Column),
    Lists(Vec<Vec<u32>>),
}

/// The periods of a query, for finding the period of a timestamp.
struct Periods<'a> {
    periods: &'a [(i64, i64)],
    /// `[start, end)` of all of them, when they follow each other without gaps.
    span: Option<(i64, i64)>,
}

impl<'a> Periods<'a> {
    fn new(periods: &'a [(i64, i64)]) -> Self {
        let contiguous = periods.windows(2).all(|w| w[0].1 == w[1].0);
        let span = match (periods.first(), periods.last()) {
            (Some(f), Some(l)) if contiguous => Some((f.0, l.1)),
            _ => None,
        };
        Periods { periods, span }
    }

    /// Whether some period holds `t`.
    fn covers(&self, t: i64) -> bool {
        match self.span {
            Some((start, end)) => start <= t && t < end,
            None => crate::period::bucket(self.periods, t).is_some(),
        }
    }

    /// Whether one period holds every time of `ts` that is `valid` (at
    /// least one; all when `valid` is `None`); `hint` is tried first and
    /// then set to that period, as in [`Periods::find`].
    fn holds_all(&self, ts: &[i64], valid: Option<&[bool]>, hint: &mut usize) -> bool {
        // Without a branch per row: an invalid time widens nothing.
        let (lo, hi) = match valid {
            None => ts
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t))),
            Some(v) => ts
                .iter()
                .zip(v)
                .fold((i64::MAX, i64::MIN), |(lo, hi), (&t, &ok)| {
                    let (l, h) = if ok { (t, t) } else { (i64::MAX, i64::MIN) };
                    (lo.min(l), hi.max(h))
                }),
        };
        if lo > hi {
            return false;
        }
        let mut at = *hint;
        let Some(p) = self.find(lo, &mut at) else {
            return false;
        };
        let holds = hi < self.periods[p as usize].1;
        if holds {
            *hint = at;
        }
        holds
    }

    /// The period that holds `t` (the same as [`crate::period::bucket`]:
    /// periods do not overlap). `hint` is tried first and then set to the
    /// period found: rows often come in time order, so a row's period is
    /// often its predecessor's.
    fn find(&self, t: i64, hint: &mut usize) -> Option<u32> {
        if let Some(&(start, end)) = self.periods.get(*hint) {
            if start <= t && t < end {
                return Some(*hint as u32);
            }
        }
        let found = crate::period::bucket(self.periods, t)?;
        *hint = found;
        Some(found as u32)
    }
}

/// Marks the groups of the rows `sel` selects as seen. `groups` are all the
/// groups in the table's codes `rk`: once each is seen, no row can add one,
/// and the rest of the rows is not read (usually every agent is met in the
/// first few thousand rows of a table, or in an earlier table).
fn mark_seen(
    sel: &Selection<'_>,
    rk: &RowGroups<'_>,
    groups: &[u32],
    periods: &Periods<'_>,
    seen: &mut [bool],
) {
    let mut left = groups.iter().filter(|&&g| !seen[g as usize]).count();
    if left == 0 {
        return;
    }
    let rk = rk.parts();
    // Whether every group is seen after that of code `c`.
    let mut see = |c: u32| {
        let s = &mut seen[rk.group(c) as usize];
        if !*s {
            *s = true;
            left -= 1;
        }
        left == 0
    };
    let codes = rk
        .of
        .map_or(groups.iter().max().map_or(0, |&g| g + 1), |of| {
            of.len() as u32
        });
    match sel {
        // A block of rows at a time, each row's code marked without a
        // branch (an agent first met late in a table makes the whole table
        // read); then the codes met, until every group is seen. Codes more
        // than a block's rows (a dimension of millions of values) are
        // marked row by row instead.
        Selection::Axis(ts, col) if codes as usize <= BATCH => {
            let mut met = vec![false; codes as usize];
            let mut block = Vec::with_capacity(BATCH);
            for start in (0..ts.len()).step_by(BATCH) {
                let range = start..(start + BATCH).min(ts.len());
                block.clear();
                rk.extend(range.clone(), &mut block, |c| c);
                let covered = ts[range.clone()].iter().map(|&t| periods.covers(t));
                match col.valid.as_deref() {
                    None => covered
                        .zip(&block)
                        .for_each(|(ok, &c)| met[c as usize] |= ok),
                    Some(valid) => covered
                        .zip(&valid[range])
                        .zip(&block)
                        .for_each(|((ok, &v), &c)| met[c as usize] |= ok & v),
                }
                let all_seen = (0..codes).any(|c| std::mem::take(&mut met[c as usize]) && see(c));
                if all_seen {
                    return;
                }
            }
        }
        Selection::Axis(ts, col) => {
            for (r, &t) in ts.iter().enumerate() {
                if periods.covers(t) && col.is_valid(r) && see(rk.code(r)) {
                    return;
                }
            }
        }
        Selection::Lists(lists) => {
            for &r in lists.iter().flatten() {
                if see(rk.code(r as usize)) {
                    return;
                }
            }
        }
    }
}

/// Rows per unit of work of a whole-table pass over `cells` cells: each
/// unit has its own accumulators, merged at the end, so units grow with the
/// cells. It depends on the query only, never on the number of threads.
fn chunk_rows(cells: usize) -> usize {
    cells.saturating_mul(8).clamp(1 << 14, 1 << 20)
}

/// Folds a unit's accumulators into the pass's: those of the whole-table
/// aggregates (`whole_part`) or of the per-period ones.
fn merge_into(
    accs: &mut [Option<Accumulator>],
    part: &[Option<Accumulator>],
    whole: &[bool],
    whole_part: bool,
) {
    for ((acc, p), &w) in accs.iter_mut().zip(part).zip(whole) {
        if let (Some(acc), Some(p)) = (acc.as_mut(), p) {
            if w == whole_part {
                acc.merge(p);
            }
        }
    }
}

/// Rows per batch of a unit of work: a batch's evaluated columns (a few
/// times 8 bytes a row) stay in cache, and are allocated from the heap
/// rather than mapped afresh.
const BATCH: usize = 1 << 13;

/// The distinct filters and arguments of a pass's aggregates, found once
/// per pass: aggregates often share a filter (`where status == "solved"`)
/// or an argument, computed once per batch.
struct MemoPlan<'p> {
    exprs: Vec<&'p ir::Expr>,
    /// Each aggregate's filter and argument, as indexes into `exprs`.
    of: Vec<(Option<usize>, Option<usize>)>,
    /// The subexpressions repeated among `exprs` ([`shared_slots`]).
    shared: (foldhash::HashMap<usize, usize>, usize),
}

impl<'p> MemoPlan<'p> {
    fn new(aggs: &[&'p ir::Aggregate]) -> Self {
        let mut exprs = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut slot = |e: Option<&'p ir::Expr>| {
            e.map(|e| {
                *index.entry(ir::tree(e)).or_insert_with(|| {
                    exprs.push(e);
                    exprs.len() - 1
                })
            })
        };
        let of = aggs
            .iter()
            .map(|a| (slot(a.filter.as_ref()), slot(a.arg.as_ref())))
            .collect();
        let shared = shared_slots(&exprs);
        MemoPlan { exprs, of, shared }
    }
}

/// The filters and arguments of one batch, each evaluated when first asked.
struct Memo<'m, 'p> {
    plan: &'m MemoPlan<'p>,
    done: Vec<Option<std::sync::Arc<Column>>>,
}

impl<'m, 'p> Memo<'m, 'p> {
    fn new(plan: &'m MemoPlan<'p>) -> Self {
        Memo {
            plan,
            done: vec![None; plan.exprs.len()],
        }
    }

    /// Forgets the values of the previous batch.
    fn clear(&mut self) {
        self.done.iter_mut().for_each(|d| *d = None);
    }

    fn eval(
        &mut self,
        exec: &Exec<'_>,
        slot: Option<usize>,
        frame: &Frame<'_>,
    ) -> Result<Option<std::sync::Arc<Column>>, String> {
        let Some(i) = slot else { return Ok(None) };
        if let Some(c) = &self.done[i] {
            return Ok(Some(c.clone()));
        }
        let c = exec.eval_arc(self.plan.exprs[i], frame)?;
        self.done[i] = Some(c.clone());
        Ok(Some(c))
    }

    /// Adds the rows of `frame` to `acc`, the state of the pass's aggregate
    /// `k` (`a`): row `i` to cell `cells[i]`, where the aggregate's filter
    /// holds.
    fn accumulate(
        &mut self,
        exec: &Exec<'_>,
        k: usize,
        a: &ir::Aggregate,
        frame: &Frame<'_>,
        acc: &mut Accumulator,
        cells: &[u32],
    ) -> Result<(), String> {
        let (filter, arg) = self.plan.of[k];
        debug_assert_eq!(filter.is_some(), a.filter.is_some());
        debug_assert_eq!(arg.is_some(), a.arg.is_some());
        let filter = self.eval(exec, filter, frame)?;
        let values = self.eval(exec, arg, frame)?;
        acc.update_batch(cells, values.as_deref(), filter.as_deref());
        Ok(())
    }
}

/// How a table reaches a dimension.
#[derive(Clone, PartialEq)]
pub(crate) enum Dim {
    Column { path: Vec<String>, column: String },
    Time { column: String, hour: bool },
}

/// Rejects shown in the error of a run that has more than it tolerates.
const REJECTS_SHOWN: usize = 5;

/// The error of a run with more rejected rows than `max` (the accounting
/// travels with it, for the run summary and the rejects file).
fn too_many_rejects(max: u64, accounting: Accounting) -> Error {
    let n = accounting.rejects.len();
    let rows = if n == 1 { "row" } else { "rows" };
    let allowed = match max {
        0 => "none is tolerated by default".to_string(),
        m => format!("at most {m} tolerated (--max-rejects {m})"),
    };
    let message = format!(
        "{n} {rows} rejected; {allowed}\n{}",
        describe_rejects(&accounting.rejects, REJECTS_SHOWN).trim_end()
    );
    let mut hint = format!(
        "`--max-rejects {n}` leaves the rejected rows out of every metric; \
         `--rejects FILE` writes them all, with their text"
    );
    if accounting
        .rejects
        .iter()
        .any(|r| r.kind == crate::read::RejectKind::InvalidValue)
    {
        hint.push_str(
            "; texts that mean \"no value\" (like `N/A`) can be declared with `null = [...]` in the table",
        );
    }
    let d = Diagnostic::new(codes::DATA, message).hint(hint);
    Error::new(crate::ErrorKind::Data, d).with_accounting(accounting)
}

/// Aggregates reached from a metric formula without entering a row context.
fn top_aggregates<'e>(e: &'e ir::Expr, out: &mut Vec<&'e ir::Aggregate>) {
    match &e.kind {
        K::Aggregate(a) => out.push(a),
        K::Metric { expr, .. } => top_aggregates(expr, out),
        K::Index(a, b) | K::Binary(_, a, b) => {
            top_aggregates(a, out);
            top_aggregates(b, out);
        }
        K::Neg(a) | K::Not(a) | K::IsNull { expr: a, .. } | K::In { expr: a, .. } => {
            top_aggregates(a, out)
        }
        K::Between { expr, low, high } => {
            for x in [expr, low, high] {
                top_aggregates(x, out);
            }
        }
        K::If {
            branches,
            otherwise,
        } => {
            for (c, v) in branches {
                top_aggregates(c, out);
                top_aggregates(v, out);
            }
            top_aggregates(otherwise, out);
        }
        K::Call { args, .. } => args.iter().for_each(|a| top_aggregates(a, out)),
        _ => {}
    }
}

/// The largest `h` of the `forecast(m, h)` calls in a metric (0 if none).
fn forecast_horizon(e: &ir::Expr) -> usize {
    let mut h = 0;
    e.walk(&mut |x| {
        if let K::Call { func, args } = &x.kind {
            if func == "forecast" {
                if let Some(K::Lit(ir::Value::Int(n))) = args.get(1).map(|a| &a.kind) {
                    h = h.max(*n as usize);
                }
            }
        }
    });
    h
}

/// What an aggregate computes, written out: two aggregates with the same
/// key compute the same column (the expressions' trees hold every name,
/// literal, operator and type).
fn aggregate_key(a: &ir::Aggregate) -> String {
    let mut k = format!(
        "{:?} {} {:?} {:?}\n",
        a.func, a.table, a.fraction, a.parent_relation
    );
    match &a.axis {
        Axis::Column(c) => k.push_str(&format!("@{c}\n")),
        Axis::All => k.push_str("@all\n"),
        Axis::At(x) => {
            k.push_str("@at\n");
            k.push_str(&ir::tree(x));
        }
    }
    for (label, e) in [("value", &a.arg), ("where", &a.filter)] {
        if let Some(e) = e {
            k.push_str(label);
            k.push('\n');
            k.push_str(&ir::tree(e));
        }
    }
    k
}

fn same_axis(a: &Axis, b: &Axis) -> bool {
    match (a, b) {
        (Axis::All, Axis::All) => true,
        (Axis::Column(x), Axis::Column(y)) => x == y,
        // Instants compare by meaning, not by where they were written.
        (Axis::At(x), Axis::At(y)) => ir::tree(x) == ir::tree(y),
        _ => false,
    }
}

/// A metric's value in one cell, converted to its unit.
fn number(col: &Column, i: usize, m: &CheckedMetric) -> Option<Number> {
    // `-0` is an artefact of negating a zero; print it as 0.
    let zero = |x: f64| if x == 0.0 { 0.0 } else { x };
    let value = number_raw(col, i, m)?;
    Some(match value {
        Number::Float(x) => Number::Float(zero(x)),
        n => n,
    })
}

fn number_raw(col: &Column, i: usize, m: &CheckedMetric) -> Option<Number> {
    match get(col, i) {
        V::I(x) => Some(Number::Int(x)),
        V::F(x) => Some(Number::Float(x)),
        V::D(us) => {
            let secs = us / MICROS as f64;
            Some(Number::Float(match m.def.unit.as_deref() {
                Some("min") => secs / 60.0,
                Some("h") => secs / 3600.0,
                Some("d") => secs / 86400.0,
                _ => secs,
            }))
        }
        _ => None,
    }
}

/// Gives the allocator's free pages back to the system. glibc keeps what
/// a thread frees in that thread's arena, out of the other threads' reach:
/// the row-group buffers of a table one reader read (about 75 MB for ten
/// million tickets) would stay resident beside the table another reader
/// is still filling, to the end of the load.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only hands free memory back; it may be called
    // from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A relation's key (table, column), its parent's key, and the parent key's
/// dictionary once read.
struct ParentKeyOf {
    child: (String, String),
    parent: (String, String),
    dict: ParentKey,
}

/// Joins columns of one type end to end.
fn concat_columns(ty: &Type, parts: &[&Column]) -> Result<Column, String> {
    let mut b = crate::kernels::Builder::new(ty, parts.iter().map(|c| c.len()).sum());
    for c in parts {
        for i in 0..c.len() {
            b.push(get(c, i))?;
        }
    }
    Ok(b.finish())
}

/// Codes each relation's key column in its parent key's dictionary where
/// every key is there ([`crate::column::recode_into`]): one copy of the
/// ids in memory, and relations matched by code.
fn share_key_dictionaries(schema: &kpi_dsl::schema::Schema, tables: &mut IndexMap<String, Table>) {
    for (t, ts) in &schema.tables {
        for rel in ts.relations.values() {
            let Some(parent) = tables.get(&rel.table).and_then(|p| p.columns.get(&rel.key)) else {
                continue;
            };
            // The parent's dictionary (an `Arc`), so that the child can be
            // borrowed mutably.
            let Data::Str(pk) = &parent.data else {
                continue;
            };
            let dict = pk.dict.clone();
            let Some(child) = tables
                .get_mut(t)
                .and_then(|c| c.columns.get_mut(&rel.column))
            else {
                continue;
            };
            if let Data::Str(ck) = &mut child.data {
                crate::column::recode_into(ck, child.valid.as_deref(), &dict);
            }
        }
    }
}

/// Joins the tables read from several files of one source.
fn concat(name: &str, mut parts: Vec<Table>, specs: &[ColumnSpec]) -> Table {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let mut out = Table {
        name: name.to_string(),
        len: 0,
        columns: IndexMap::new(),
    };
    for s in specs {
        let columns: Vec<&Column> = parts.iter().map(|p| &p.columns[&s.name]).collect();
        let joined =
            concat_columns(&s.ty, &columns).expect("every part has the column's declared type");
        out.columns.insert(s.name.clone(), joined);
    }
    out.len = parts.iter().map(|p| p.len).sum();
    out
}

#[cfg(test)]
mod tests {
    use super::Periods;

    #[test]
    fn one_period_holds_a_batch_only_when_it_holds_every_time() {
        let periods = [(0, 10), (10, 20), (30, 40)];
        let p = Periods::new(&periods);
        let mut hint = 0;
        assert!(p.holds_all(&[9, 1, 5], None, &mut hint));
        assert_eq!(hint, 0);
        // Across a boundary, past the end, in a gap, or no times at all.
        assert!(!p.holds_all(&[5, 12], None, &mut hint));
        assert!(!p.holds_all(&[39, 40], None, &mut hint));
        assert!(!p.holds_all(&[25], None, &mut hint));
        assert!(!p.holds_all(&[], None, &mut hint));
        // Found away from the hint, which then follows.
        assert!(p.holds_all(&[31, 39, 30], None, &mut hint));
        assert_eq!(hint, 2);
        assert!(p.holds_all(&[10, 19], None, &mut hint));
        assert_eq!(hint, 1);
        // Only valid times count, and at least one must be.
        let ok = [true, false, true];
        assert!(p.holds_all(&[31, 5, 39], Some(&ok), &mut hint));
        assert_eq!(hint, 2);
        assert!(!p.holds_all(&[31, 5, 40], Some(&ok), &mut hint));
        assert!(!p.holds_all(&[31, 5, 39], Some(&[false; 3]), &mut hint));
    }
}
