//! Group keys: the group of each row of a table (one value per dimension
//! of `--by`), as a code of a byte or two into the run's interned keys.
//!
//! A row's group is found without a string per row: each dimension's value
//! is a code (a string column's own dictionary code, or an hour), the codes
//! of several dimensions are combined into one, and each distinct code is
//! interned once. A table grouped by one string column of its own keeps no
//! code per row: its rows' groups are read through the column's codes and
//! a small code → group table. A table that reaches all its dimensions
//! through one relation (messages by team, through their ticket) takes its
//! parent's group codes through the relation's parent rows: 37.6M messages
//! read one byte of 10M tickets each, and no dimension value.

use std::collections::HashMap;
use std::sync::Arc;

use kpi_dsl::Type;

use crate::column::{Code, Codes, Data, Dict};
use crate::exec::{key_ids, Exec, NO_ROW};
use crate::kernels::{get, V};
use crate::project::Project;
use crate::run::Dim;
use crate::with_codes;

/// A group key: one value per dimension (`None` for null).
pub(crate) type Key = Vec<Option<String>>;

/// The run's interned group keys, whether a selected row holds each, and
/// the group codes of the tables computed so far (`'a`: the tables').
#[derive(Default)]
pub(crate) struct GroupKeys<'a> {
    index: HashMap<Key, u32>,
    pub keys: Vec<Key>,
    pub seen: Vec<bool>,
    /// Group codes by table and dimensions: a table's own, and a parent's
    /// that its children read through a relation (computed once).
    computed: Vec<(String, Vec<Dim>, TableKeys<'a>)>,
    /// Where each table's own codes are in `computed`.
    own: HashMap<String, usize>,
}

/// The group of each row of a table, and the groups that occur.
pub(crate) struct TableKeys<'a> {
    pub codes: RowGroups<'a>,
    /// The distinct groups of `codes`.
    pub groups: Vec<u32>,
}

/// The group of each row of a table.
pub(crate) enum RowGroups<'a> {
    /// Each row's group.
    Codes(Codes),
    /// The groups of a table of one dimension, a string column: a row's
    /// group is `of[c]` of its code `c` in the column, or the last of `of`
    /// (the null group) where the column is null. Grouping 37.6M messages
    /// by their agent writes no code per row (75 MB), and reading a row's
    /// group costs the same lookup in a small table that ranking it does
    /// anyway.
    Of {
        codes: &'a Codes,
        valid: Option<&'a [bool]>,
        of: Vec<u32>,
    },
}

/// What [`RowGroups`] holds, to read in a loop: each row's code in
/// `codes`; the code `null` where `valid` says the row is null; the
/// group of code `c` is `of[c]` (`c` itself without `of`).
pub(crate) struct GroupParts<'r> {
    pub codes: &'r Codes,
    pub valid: Option<&'r [bool]>,
    pub null: u32,
    pub of: Option<&'r [u32]>,
}

impl RowGroups<'_> {
    pub fn parts(&self) -> GroupParts<'_> {
        match self {
            RowGroups::Codes(codes) => GroupParts {
                codes,
                valid: None,
                null: u32::MAX,
                of: None,
            },
            RowGroups::Of { codes, valid, of } => GroupParts {
                codes,
                valid: *valid,
                null: of.len() as u32 - 1,
                of: Some(of),
            },
        }
    }
}

impl GroupParts<'_> {
    /// Row `r`'s code.
    #[inline]
    pub fn code(&self, r: usize) -> u32 {
        match self.valid {
            Some(v) if !v[r] => self.null,
            _ => self.codes.get(r),
        }
    }

    /// The group of code `c`.
    #[inline]
    pub fn group(&self, c: u32) -> u32 {
        self.of.map_or(c, |of| of[c as usize])
    }

    /// Adds `f(c)` of the code `c` ([`GroupParts::code`]) of each row of
    /// `rows` to the value beside it in `out`.
    #[inline]
    pub fn add_each(&self, rows: &[u32], out: &mut [u32], f: impl Fn(u32) -> u32) {
        let null = self.null;
        let each = rows.iter().zip(out);
        match self.valid {
            None => with_codes!(self.codes, v => each.for_each(|(&r, o)| {
                *o += f(v[r as usize].wide())
            })),
            Some(valid) => with_codes!(self.codes, v => each.for_each(|(&r, o)| {
                let r = r as usize;
                *o += f(if valid[r] { v[r].wide() } else { null })
            })),
        }
    }

    /// `f(c)` of each code `c` ([`GroupParts::code`]) of rows `range`,
    /// pushed onto `out`.
    #[inline]
    pub fn extend(
        &self,
        range: std::ops::Range<usize>,
        out: &mut Vec<u32>,
        f: impl Fn(u32) -> u32,
    ) {
        let null = self.null;
        match self.valid {
            None => with_codes!(self.codes, v => out.extend(v[range].iter().map(|&c| f(c.wide())))),
            Some(valid) => with_codes!(self.codes, v => out.extend(
                v[range.clone()]
                    .iter()
                    .zip(&valid[range])
                    .map(|(&c, &ok)| f(if ok { c.wide() } else { null }))
            )),
        }
    }
}

impl<'a> GroupKeys<'a> {
    pub fn intern(&mut self, k: Key) -> u32 {
        if let Some(&i) = self.index.get(&k) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.index.insert(k.clone(), i);
        self.keys.push(k);
        self.seen.push(false);
        i
    }

    /// Computes the group key of every row of `table` (see
    /// [`GroupKeys::take_tables`]).
    pub fn add_table(
        &mut self,
        p: &Project,
        exec: &Exec<'a>,
        table: &str,
        by: &[String],
    ) -> Result<(), String> {
        if self.own.contains_key(table) {
            return Ok(());
        }
        let dims = by
            .iter()
            .map(|d| p.dimension_of(table, d))
            .collect::<Result<Vec<_>, _>>()?;
        let i = self.for_dims(p, exec, table, &dims)?;
        self.own.insert(table.to_string(), i);
        Ok(())
    }

    /// The group codes of the tables added, by table (what was computed
    /// only for a child table is dropped).
    pub fn take_tables(&mut self) -> HashMap<String, TableKeys<'a>> {
        let mut computed: Vec<Option<TableKeys<'a>>> = std::mem::take(&mut self.computed)
            .into_iter()
            .map(|(_, _, k)| Some(k))
            .collect();
        self.own
            .drain()
            .map(|(t, i)| (t, computed[i].take().expect("one table each")))
            .collect()
    }

    /// The index in `computed` of `table`'s group codes by `dims`.
    fn for_dims(
        &mut self,
        p: &Project,
        exec: &Exec<'a>,
        table: &str,
        dims: &[Dim],
    ) -> Result<usize, String> {
        if let Some(i) = self
            .computed
            .iter()
            .position(|(t, d, _)| t == table && d == dims)
        {
            return Ok(i);
        }
        let keys = match through_one_path(dims) {
            Some((path, columns)) => self.through(p, exec, table, path, &columns)?,
            None => self.combine(p, exec, table, dims)?,
        };
        self.computed.push((table.to_string(), dims.to_vec(), keys));
        Ok(self.computed.len() - 1)
    }

    /// Group codes of a table whose dimensions are `columns` of the table
    /// at the end of `path`: the parent's codes at each row's parent row,
    /// the null group where there is none.
    fn through(
        &mut self,
        p: &Project,
        exec: &Exec<'a>,
        table: &str,
        path: &[String],
        columns: &[String],
    ) -> Result<TableKeys<'a>, String> {
        let (end, rows) = exec.follow_all(table, path)?;
        let rows = rows.expect("a path");
        let parent_dims: Vec<Dim> = columns
            .iter()
            .map(|c| Dim::Column {
                path: Vec::new(),
                column: c.clone(),
            })
            .collect();
        let pi = self.for_dims(p, exec, &end, &parent_dims)?;
        let null = self.intern(vec![None; columns.len()]);
        let parent = self.computed[pi].2.codes.parts();
        let mut hit = vec![false; self.keys.len()];
        // The parent's group of each row's parent row, in the width the
        // groups so far need.
        macro_rules! gathered {
            ($group:expr) => {
                match width(self.keys.len()) {
                    1 => Codes::U8(gather(&rows, null, &mut hit, $group)),
                    2 => Codes::U16(gather(&rows, null, &mut hit, $group)),
                    _ => Codes::U32(gather(&rows, null, &mut hit, $group)),
                }
            };
        }
        let codes = match parent.of {
            None => with_codes!(parent.codes, v => gathered!(|r| v[r].wide())),
            // A parent grouped by its own column: its rows' groups are
            // looked up through it.
            Some(_) => gathered!(|r| parent.group(parent.code(r))),
        };
        let groups = (0..hit.len() as u32).filter(|&g| hit[g as usize]).collect();
        Ok(TableKeys {
            codes: RowGroups::Codes(codes),
            groups,
        })
    }

    /// Group codes of a table from its dimensions' values: the codes of
    /// the dimensions combined two by two, then each combination interned.
    fn combine(
        &mut self,
        p: &Project,
        exec: &Exec<'a>,
        table: &str,
        dims: &[Dim],
    ) -> Result<TableKeys<'a>, String> {
        let len = exec.table(table)?.len;
        let values = dims
            .iter()
            .map(|d| values(p, exec, table, d))
            .collect::<Result<Vec<_>, _>>()?;
        let Some((first, rest)) = values.split_first() else {
            // No dimension: every row is in the one group of no values.
            let groups = if len > 0 {
                vec![self.intern(Vec::new())]
            } else {
                Vec::new()
            };
            let g = groups.first().copied().unwrap_or(0);
            let codes = Codes::narrow(vec![g; len], g as usize + 1);
            return Ok(TableKeys {
                codes: RowGroups::Codes(codes),
                groups,
            });
        };
        if let (Ids::Codes(codes, valid), []) = (&first.ids, rest) {
            return Ok(self.assign_of(codes, *valid, first));
        }
        // Combinations of the dimensions so far, numbered as they first
        // occur; `backs[d][c]` is combination `c`'s combination of the
        // dimensions before `d + 1`, and its value of `d + 1`.
        let mut combos: Option<(Ids<'_>, usize)> = None;
        let mut backs: Vec<Vec<(u32, u32)>> = Vec::new();
        for v in rest {
            let (ids, n) = match &combos {
                Some((ids, n)) => (ids, *n),
                None => (&first.ids, first.n),
            };
            let (next, back) = pair(ids, n, &v.ids, v.n, len);
            combos = Some((Ids::Owned(next), back.len()));
            backs.push(back);
        }
        let key = |c: u32| -> Key {
            let mut key = vec![None; values.len()];
            let mut c = c;
            for (d, back) in backs.iter().enumerate().rev() {
                let (before, v) = back[c as usize];
                key[d + 1] = values[d + 1].name(v);
                c = before;
            }
            key[0] = first.name(c);
            key
        };
        let (ids, n) = match &combos {
            Some((ids, n)) => (ids, *n),
            None => (&first.ids, first.n),
        };
        Ok(self.assign(ids, n, key))
    }

    /// The seen groups in output order (values ascending, nulls last), and
    /// each key's rank among them.
    pub fn order(&self) -> (Vec<Key>, Vec<u32>) {
        let mut ids: Vec<u32> = (0..self.keys.len() as u32)
            .filter(|&i| self.seen[i as usize])
            .collect();
        // Value by value, a null after every value.
        let cmp = |a: &Key, b: &Key| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x.is_none(), x).cmp(&(y.is_none(), y)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        ids.sort_by(|&i, &j| cmp(&self.keys[i as usize], &self.keys[j as usize]));
        let mut rank = vec![u32::MAX; self.keys.len()];
        for (r, &i) in ids.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        (
            ids.iter().map(|&i| self.keys[i as usize].clone()).collect(),
            rank,
        )
    }

    /// The group of each row whose value (or combination) is `ids`, of `n`
    /// distinct ones, each interned as `key` names it when first met.
    fn assign(&mut self, ids: &Ids<'_>, n: usize, key: impl Fn(u32) -> Key) -> TableKeys<'a> {
        // The codes' width: what the groups so far and these values reach.
        let bound = self.keys.len() + n;
        let mut group_of = vec![u32::MAX; n];
        let mut groups = Vec::new();
        // A value met for the first time: out of the loop's way.
        let mut first = |v: u32| {
            let g = self.intern(key(v));
            groups.push(g);
            g
        };
        let first: &mut dyn FnMut(u32) -> u32 = &mut first;
        let mut group = |v: u32| {
            let g = &mut group_of[v as usize];
            if *g == u32::MAX {
                *g = first(v);
            }
            *g
        };
        let codes = match width(bound) {
            1 => Codes::U8(ids.map(n, |v| group(v) as u8)),
            2 => Codes::U16(ids.map(n, |v| group(v) as u16)),
            _ => Codes::U32(ids.map(n, group)),
        };
        TableKeys {
            codes: RowGroups::Codes(codes),
            groups,
        }
    }

    /// The groups of a table of one dimension, a string column whose rows
    /// hold `codes` where `valid` (of the values `v` names, the last null):
    /// the group of each value that occurs, interned in value order. The
    /// codes are read until every value has occurred (usually in the first
    /// block of rows; a dimension of more values than a block has rows is
    /// read whole).
    fn assign_of(
        &mut self,
        codes: &'a Codes,
        valid: Option<&'a [bool]>,
        v: &Values<'_>,
    ) -> TableKeys<'a> {
        let mut hit = vec![false; v.n];
        hit[v.n - 1] = valid.is_some_and(|valid| valid.contains(&false));
        // A block of rows at a time, without a branch per row.
        const BLOCK: usize = 1 << 16;
        with_codes!(codes, c => {
            for (b, block) in c.chunks(BLOCK).enumerate() {
                match valid {
                    None => block.iter().for_each(|&x| hit[x.wide() as usize] = true),
                    Some(valid) => block
                        .iter()
                        .zip(&valid[b * BLOCK..])
                        .for_each(|(&x, &ok)| hit[x.wide() as usize] |= ok),
                }
                // (Checked only while it costs less than the block.)
                if v.n <= BLOCK && hit[..v.n - 1].iter().all(|&h| h) {
                    break;
                }
            }
        });
        let mut of = vec![u32::MAX; v.n];
        let mut groups = Vec::new();
        for (x, _) in hit.iter().enumerate().filter(|(_, &h)| h) {
            let g = self.intern(vec![v.name(x as u32)]);
            of[x] = g;
            groups.push(g);
        }
        TableKeys {
            codes: RowGroups::Of { codes, valid, of },
            groups,
        }
    }
}

/// The relation path and columns of dimensions that all follow the same
/// non-empty path (to the columns of one parent table).
fn through_one_path(dims: &[Dim]) -> Option<(&[String], Vec<String>)> {
    let Some(Dim::Column { path, .. }) = dims.first() else {
        return None;
    };
    if path.is_empty() {
        return None;
    }
    let columns = dims
        .iter()
        .map(|d| match d {
            Dim::Column { path: p, column } if p == path => Some(column.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((path, columns))
}

/// Bytes a code takes when there are `n` of them.
fn width(n: usize) -> usize {
    match n {
        n if n <= 1 << 8 => 1,
        n if n <= 1 << 16 => 2,
        _ => 4,
    }
}

/// The group of each row's parent row `r` (`group(r)`), `null` where there
/// is none; each group met marked in `hit`.
fn gather<O: Code>(
    rows: &[u32],
    null: u32,
    hit: &mut [bool],
    group: impl Fn(usize) -> u32,
) -> Vec<O> {
    rows.iter()
        .map(|&r| {
            let g = if r == NO_ROW { null } else { group(r as usize) };
            hit[g as usize] = true;
            O::from_wide(g)
        })
        .collect()
}

/// Each row's value of one dimension, as an index among its distinct values
/// (`n` of them; the last, `n - 1`, is null), and the values' names.
struct Values<'a> {
    ids: Ids<'a>,
    n: usize,
    names: Names,
}

/// Value indexes: a string column's codes (borrowed; null where a row is
/// not valid), or computed.
enum Ids<'a> {
    Codes(&'a Codes, Option<&'a [bool]>),
    Owned(Vec<u32>),
}

/// What a dimension's values are called.
enum Names {
    Dict(Arc<Dict>),
    Hour,
    Weekday,
}

impl Values<'_> {
    fn name(&self, v: u32) -> Option<String> {
        if v as usize == self.n - 1 {
            return None;
        }
        Some(match &self.names {
            Names::Dict(d) => d.get(v as usize).to_string(),
            Names::Hour => format!("{v:02}"),
            Names::Weekday => v.to_string(),
        })
    }
}

impl Ids<'_> {
    /// Row `i`'s index (`n` values).
    #[inline]
    fn get(&self, i: usize, n: usize) -> u32 {
        match self {
            Ids::Codes(c, valid) if valid.is_none_or(|v| v[i]) => c.get(i),
            Ids::Codes(..) => n as u32 - 1,
            Ids::Owned(v) => v[i],
        }
    }

    /// `f` of each row's index (`n` values), a loop per code width.
    fn map<O>(&self, n: usize, mut f: impl FnMut(u32) -> O) -> Vec<O> {
        let null = n as u32 - 1;
        match self {
            Ids::Codes(c, None) => with_codes!(c, v => v.iter().map(|x| f(x.wide())).collect()),
            Ids::Codes(c, Some(valid)) => with_codes!(c, v => v
                .iter()
                .zip(*valid)
                .map(|(x, &ok)| f(if ok { x.wide() } else { null }))
                .collect()),
            Ids::Owned(v) => v.iter().map(|&x| f(x)).collect(),
        }
    }
}

/// Combinations up to which a pair of dimensions is numbered through a
/// table (a slot each), not a hash map.
const DENSE: usize = 1 << 20;

/// The pair of indexes `(a, b)` of each row (`na` and `nb` values),
/// numbered as first met, and each number's pair.
fn pair(a: &Ids<'_>, na: usize, b: &Ids<'_>, nb: usize, len: usize) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut back = Vec::new();
    let mut number = |slot: &mut u32, x: u32, y: u32| {
        if *slot == u32::MAX {
            *slot = back.len() as u32;
            back.push((x, y));
        }
        *slot
    };
    let out = if na.saturating_mul(nb) <= DENSE {
        let mut slots = vec![u32::MAX; na * nb];
        (0..len)
            .map(|i| {
                let (x, y) = (a.get(i, na), b.get(i, nb));
                number(&mut slots[x as usize * nb + y as usize], x, y)
            })
            .collect()
    } else {
        let mut slots: foldhash::HashMap<(u32, u32), u32> = Default::default();
        (0..len)
            .map(|i| {
                let (x, y) = (a.get(i, na), b.get(i, nb));
                number(slots.entry((x, y)).or_insert(u32::MAX), x, y)
            })
            .collect()
    };
    (out, back)
}

/// Each row's value of dimension `d` of `table`.
fn values<'a>(p: &Project, exec: &Exec<'a>, table: &str, d: &Dim) -> Result<Values<'a>, String> {
    match d {
        Dim::Column { path, column } => {
            let (end, rows) = exec.follow_all(table, path)?;
            let col = exec.column(&end, column)?;
            let (ids, dict) = match &col.data {
                Data::Str(s) => (Ids::Codes(&s.codes, col.valid.as_deref()), s.dict.clone()),
                // Other keys (int ids) by their text.
                _ => {
                    let (ids, dict) = key_ids(col);
                    let null = dict.len() as u32;
                    let ids = ids
                        .into_iter()
                        .map(|i| if i == NO_ROW { null } else { i })
                        .collect();
                    (Ids::Owned(ids), dict)
                }
            };
            let n = dict.len() + 1;
            let ids = match rows {
                None => ids,
                Some(rows) => Ids::Owned(
                    rows.iter()
                        .map(|&r| {
                            if r == NO_ROW {
                                n as u32 - 1
                            } else {
                                ids.get(r as usize, n)
                            }
                        })
                        .collect(),
                ),
            };
            Ok(Values {
                ids,
                n,
                names: Names::Dict(dict),
            })
        }
        Dim::Time { column, hour } => {
            let len = exec.table(table)?.len;
            let col = exec.column(table, column)?;
            let f = if *hour { "hour" } else { "weekday" };
            let c =
                crate::kernels::call(f, std::slice::from_ref(col), &Type::Int, p.calendar.tz, len)?;
            // Hours and weekdays are below 24; 24 is null.
            let ids = (0..len)
                .map(|i| match get(&c, i) {
                    V::I(x) => x as u32,
                    _ => 24,
                })
                .collect();
            Ok(Values {
                ids: Ids::Owned(ids),
                n: 25,
                names: if *hour { Names::Hour } else { Names::Weekday },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::StrBuilder;

    /// Each row of a one-dimension table is in the group of its value, or
    /// in the null group, read through the column's own codes; groups met
    /// before (from another table) keep their codes.
    #[test]
    fn groups_of_a_column_read_through_its_codes() {
        let mut b = StrBuilder::default();
        for s in ["ann", "bob", "ann", "", "cy", "bob", ""] {
            b.push(s);
        }
        let s = b.finish();
        // Rows 3 and 6 are null.
        let valid = [true, true, true, false, true, true, false];
        let values = Values {
            ids: Ids::Codes(&s.codes, Some(&valid)),
            n: s.dict.len() + 1,
            names: Names::Dict(s.dict.clone()),
        };
        let mut keys = GroupKeys::default();
        let bob = keys.intern(vec![Some("bob".into())]);
        let t = keys.assign_of(&s.codes, Some(&valid), &values);
        let g = t.codes.parts();
        let name = |r: usize| keys.keys[g.group(g.code(r)) as usize][0].clone();
        let want = [
            Some("ann"),
            Some("bob"),
            Some("ann"),
            None,
            Some("cy"),
            Some("bob"),
            None,
        ];
        for (r, w) in want.iter().enumerate() {
            assert_eq!(name(r).as_deref(), *w, "row {r}");
        }
        assert_eq!(g.group(g.code(1)), bob);
        // Every group the rows hold, each once; "" occurs only in null rows.
        let mut groups: Vec<Option<String>> = t
            .groups
            .iter()
            .map(|&k| keys.keys[k as usize][0].clone())
            .collect();
        groups.sort();
        assert_eq!(
            groups,
            [
                None,
                Some("ann".into()),
                Some("bob".into()),
                Some("cy".into())
            ]
        );
        // A range of rows in one loop gives the same codes.
        let mut out = Vec::new();
        g.extend(2..7, &mut out, |c| g.group(c));
        assert_eq!(out, (2..7).map(|r| g.group(g.code(r))).collect::<Vec<_>>());
    }
}
