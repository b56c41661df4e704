//! Mergeable aggregate state, one slot per cell (period × group, or parent
//! row). A mean keeps its sum and count, a median keeps its values, so
//! chunks, hours and days combine exactly: update, merge, evaluate.

use std::collections::HashSet;
use std::sync::Arc;

use kpi_dsl::ast::AggFunc;
use kpi_dsl::Type;

use crate::column::{Code, Column, Data};
use crate::kernels::{get, Builder, V};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    I(i64),
    F(u64),
    B(bool),
    S(Arc<str>),
}

/// How a distinct count keys its strings: by dictionary code while every
/// string it has seen came from one dictionary (a table column's) — the
/// codes are kept as (cell, code) pairs and counted once at the end, no
/// hashing ([`CodeCells`]) — and by text in hash sets once two
/// dictionaries meet. Never both in one state.
#[derive(Clone, Debug)]
enum StrKeys {
    Unset,
    Codes(Arc<crate::column::Dict>),
    Text,
}

type KeySet = HashSet<Key, foldhash::fast::RandomState>;

#[derive(Clone, Debug)]
enum Slots {
    Count(Vec<i64>),
    /// Int and duration sums are exact (i128); float sums are f64. The
    /// counts are a mean's (a sum keeps none).
    SumExact(Vec<i128>, Vec<u64>),
    SumFloat(Vec<f64>, Vec<u64>),
    Min(Vec<Option<f64>>, Vec<Option<i64>>),
    Max(Vec<Option<f64>>, Vec<Option<i64>>),
    Values(Vec<Vec<f64>>),
    Distinct(Box<Distinct>),
}

/// A distinct count's state.
#[derive(Clone, Debug)]
struct Distinct {
    /// Keys per cell that are not dictionary codes (numbers, bools, strings
    /// once keyed by text); no sets at all until the first such key.
    sets: Vec<KeySet>,
    /// How strings are keyed.
    strs: StrKeys,
    /// The strings' codes per cell while they are keyed by code.
    codes: CodeCells,
}

impl Distinct {
    /// The key sets, one per cell, made when first needed.
    fn sets(&mut self) -> &mut Vec<KeySet> {
        if self.sets.is_empty() {
            self.sets = vec![KeySet::default(); self.codes.n];
        }
        &mut self.sets
    }

    /// Turns a state keyed by dictionary codes into one keyed by text.
    fn key_by_text(&mut self) {
        if let StrKeys::Codes(d) = &self.strs {
            let d = d.clone();
            let n = self.codes.n;
            let codes = std::mem::replace(&mut self.codes, CodeCells::new(n));
            let sets = self.sets();
            codes.for_each(|cell, code| {
                sets[cell].insert(Key::S(Arc::from(&d[code as usize])));
            });
        }
        self.strs = StrKeys::Text;
    }

    /// The distinct keys of every cell.
    fn counts(&self) -> Vec<u64> {
        let mut out = match &self.strs {
            StrKeys::Codes(d) => self.codes.counts(d.len()),
            _ => vec![0; self.codes.n],
        };
        for (o, s) in out.iter_mut().zip(&self.sets) {
            *o += s.len() as u64;
        }
        out
    }
}

/// Dictionary codes per cell, for a distinct count: appended as (cell,
/// code) pairs while rows come (`pending`, one `u64` each, the cell in the
/// high half: no allocation per cell), and sealed into blocks grouped by
/// cell. Merging shares the other state's blocks (and seals its pending
/// pairs): the units of a pass hand theirs to the pass without copying.
/// Each cell's codes are counted once, at the end ([`CodeCells::counts`]).
#[derive(Clone, Debug)]
struct CodeCells {
    /// Number of cells.
    n: usize,
    pending: Vec<u64>,
    blocks: Vec<Arc<Block>>,
}

/// Pairs grouped by cell: the codes of cell `cells[i]` are
/// `codes[ends[i - 1]..ends[i]]` (from 0 for the first), cells ascending,
/// only the cells that have codes.
#[derive(Debug, Default)]
struct Block {
    cells: Vec<u32>,
    ends: Vec<u32>,
    codes: Vec<u32>,
}

/// Pending pairs sealed into a block at once (512 KB): a block holds a
/// code in 4 bytes, a pair takes 8, and a pass holds a few units' states
/// at once.
#[cfg(not(test))]
const SEAL: usize = 1 << 16;
#[cfg(test)]
const SEAL: usize = 64;

impl Block {
    /// `pairs` (cell in the high half) grouped by cell: by a counting sort
    /// when the cells are few for the pairs, by sorting the pairs when
    /// they are many (a child aggregate's cells are its parent's rows).
    fn of(pairs: &[u64], n: usize) -> Block {
        let mut b = Block::default();
        if n <= 2 * pairs.len() {
            // Each cell's pairs, then where its codes go.
            let mut at = vec![0u32; n];
            for &p in pairs {
                at[(p >> 32) as usize] += 1;
            }
            let mut end = 0;
            for (c, a) in at.iter_mut().enumerate() {
                if *a > 0 {
                    end += *a;
                    b.cells.push(c as u32);
                    b.ends.push(end);
                }
                *a = end - *a;
            }
            b.codes = vec![0; pairs.len()];
            for &p in pairs {
                let a = &mut at[(p >> 32) as usize];
                b.codes[*a as usize] = p as u32;
                *a += 1;
            }
        } else {
            let mut sorted = pairs.to_vec();
            sorted.sort_unstable();
            b.codes = sorted.iter().map(|&p| p as u32).collect();
            for (i, &p) in sorted.iter().enumerate() {
                let cell = (p >> 32) as u32;
                if b.cells.last() != Some(&cell) {
                    b.cells.push(cell);
                    b.ends.push(i as u32);
                }
                *b.ends.last_mut().expect("a cell") += 1;
            }
        }
        b
    }

    /// The codes of the `i`-th cell listed.
    fn codes_of(&self, i: usize) -> &[u32] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.codes[start as usize..self.ends[i] as usize]
    }
}

impl CodeCells {
    fn new(n: usize) -> CodeCells {
        CodeCells {
            n,
            pending: Vec::new(),
            blocks: Vec::new(),
        }
    }

    /// Seals the pending pairs once there are enough of them.
    fn seal_if_full(&mut self) {
        if self.pending.len() >= SEAL {
            self.blocks.push(Arc::new(Block::of(&self.pending, self.n)));
            self.pending.clear();
        }
    }

    /// Adds the codes of `other` (same cells).
    fn absorb(&mut self, other: &CodeCells) {
        self.blocks.extend(other.blocks.iter().cloned());
        if !other.pending.is_empty() {
            self.blocks
                .push(Arc::new(Block::of(&other.pending, self.n)));
        }
    }

    /// Every (cell, code) pair, in no particular order.
    fn for_each(&self, mut f: impl FnMut(usize, u32)) {
        for &p in &self.pending {
            f((p >> 32) as usize, p as u32);
        }
        for b in &self.blocks {
            for (i, &cell) in b.cells.iter().enumerate() {
                for &code in b.codes_of(i) {
                    f(cell as usize, code);
                }
            }
        }
    }

    /// The number of distinct codes (below `dict`) of every cell. Cells
    /// are walked in order, each block's cursor moving with them, and a
    /// cell's codes are marked in a bitset of the dictionary (a few
    /// hundred KB for millions of strings: it stays in cache), cleared
    /// after the cell. When the cells are too many for that walk (a child
    /// aggregate's), the pairs are sorted and counted instead.
    fn counts(&self, dict: usize) -> Vec<u64> {
        let pending = (!self.pending.is_empty()).then(|| Block::of(&self.pending, self.n));
        let blocks: Vec<&Block> = self.blocks.iter().map(|b| &**b).chain(&pending).collect();
        let total: usize = blocks.iter().map(|b| b.codes.len()).sum();
        if self.n.saturating_mul(blocks.len()) > 8 * total + (1 << 16) {
            self.sorted_counts(total)
        } else {
            walk_counts(self.n, &blocks, dict)
        }
    }

    /// [`CodeCells::counts`] by sorting every pair.
    fn sorted_counts(&self, total: usize) -> Vec<u64> {
        let mut all = Vec::with_capacity(total);
        self.for_each(|cell, code| all.push((cell as u64) << 32 | code as u64));
        all.sort_unstable();
        all.dedup();
        let mut out = vec![0u64; self.n];
        for p in all {
            out[(p >> 32) as usize] += 1;
        }
        out
    }
}

/// [`CodeCells::counts`] by walking the `n` cells through `blocks`.
fn walk_counts(n: usize, blocks: &[&Block], dict: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    let mut bits = vec![0u64; dict.div_ceil(64)];
    let mut cursor = vec![0usize; blocks.len()];
    let mut slices: Vec<&[u32]> = Vec::with_capacity(blocks.len());
    for (c, o) in out.iter_mut().enumerate() {
        slices.clear();
        for (b, i) in blocks.iter().zip(&mut cursor) {
            if b.cells.get(*i) == Some(&(c as u32)) {
                slices.push(b.codes_of(*i));
                *i += 1;
            }
        }
        let mut new = 0;
        for s in &slices {
            for &x in *s {
                let (w, m) = (&mut bits[(x >> 6) as usize], 1u64 << (x & 63));
                new += (*w & m == 0) as u64;
                *w |= m;
            }
        }
        for s in &slices {
            for &x in *s {
                bits[(x >> 6) as usize] = 0;
            }
        }
        *o = new;
    }
    out
}

/// The state of one aggregate over `n` cells.
#[derive(Clone, Debug)]
pub struct Accumulator {
    func: AggFunc,
    /// Type of the aggregated values (`None` for `count(T)`).
    input: Option<Type>,
    /// Result type, as the checker planned it.
    output: Type,
    fraction: f64,
    slots: Slots,
}

impl Accumulator {
    pub fn new(
        func: AggFunc,
        input: Option<Type>,
        output: Type,
        fraction: Option<f64>,
        n: usize,
    ) -> Accumulator {
        let exact = matches!(input, Some(Type::Int | Type::Timestamp | Type::Null));
        let slots = match func {
            AggFunc::Count => Slots::Count(vec![0; n]),
            AggFunc::Sum | AggFunc::Avg if exact => Slots::SumExact(vec![0; n], vec![0; n]),
            AggFunc::Sum | AggFunc::Avg => Slots::SumFloat(vec![0.0; n], vec![0; n]),
            AggFunc::Min => Slots::Min(vec![None; n], vec![None; n]),
            AggFunc::Max => Slots::Max(vec![None; n], vec![None; n]),
            AggFunc::Median | AggFunc::Percentile => Slots::Values(vec![Vec::new(); n]),
            AggFunc::CountDistinct => Slots::Distinct(Box::new(Distinct {
                sets: Vec::new(),
                strs: StrKeys::Unset,
                codes: CodeCells::new(n),
            })),
            // The executor calls a plugin aggregate once per batch of rows
            // (`plugin::PluginFunction::call_aggregate`); it keeps no state here.
            AggFunc::Plugin => unreachable!("plugin aggregates are not accumulated"),
        };
        let fraction = if func == AggFunc::Median {
            0.5
        } else {
            fraction.unwrap_or(0.5)
        };
        Accumulator {
            func,
            input,
            output,
            fraction,
            slots,
        }
    }

    /// Adds row `i` of `values` (or just counts the row, for `count(T)`)
    /// to cell `cell`. Nulls are skipped.
    #[inline]
    pub fn update(&mut self, cell: usize, values: Option<&Column>, i: usize) {
        let v = match values {
            None => {
                if let Slots::Count(c) = &mut self.slots {
                    c[cell] += 1;
                }
                return;
            }
            Some(col) => get(col, i),
        };
        if v == V::Null {
            return;
        }
        match &mut self.slots {
            Slots::Count(c) => c[cell] += 1,
            Slots::SumExact(s, n) => {
                if let V::I(x) | V::T(x) = v {
                    s[cell] += x as i128;
                    n[cell] += 1;
                }
            }
            Slots::SumFloat(s, n) => {
                if let Some(x) = as_f64(v) {
                    s[cell] += x;
                    n[cell] += 1;
                }
            }
            Slots::Min(f, i) => match v {
                V::I(x) | V::T(x) => i[cell] = Some(i[cell].map_or(x, |m| m.min(x))),
                _ => {
                    if let Some(x) = as_f64(v) {
                        f[cell] = Some(f[cell].map_or(x, |m| m.min(x)));
                    }
                }
            },
            Slots::Max(f, i) => match v {
                V::I(x) | V::T(x) => i[cell] = Some(i[cell].map_or(x, |m| m.max(x))),
                _ => {
                    if let Some(x) = as_f64(v) {
                        f[cell] = Some(f[cell].map_or(x, |m| m.max(x)));
                    }
                }
            },
            Slots::Values(vals) => {
                let x = match v {
                    V::I(x) | V::T(x) => x as f64,
                    other => as_f64(other).unwrap_or(f64::NAN),
                };
                if !x.is_nan() {
                    vals[cell].push(x);
                }
            }
            Slots::Distinct(d) => {
                if matches!(v, V::S(_)) {
                    d.key_by_text();
                }
                let key = match v {
                    V::I(x) | V::T(x) => Key::I(x),
                    V::F(x) | V::D(x) => Key::F(if x == 0.0 { 0 } else { x.to_bits() }),
                    V::B(b) => Key::B(b),
                    V::S(s) => Key::S(Arc::from(s)),
                    V::Null => return,
                };
                d.sets()[cell].insert(key);
            }
        }
    }

    /// Adds a batch of rows: row `k` goes to cell `cells[k]` (none when it
    /// is `u32::MAX`) if `filter` is true there. The same as calling
    /// [`Accumulator::update`] row by row (`tests::batch_equals_rows`), as
    /// typed loops.
    pub fn update_batch(
        &mut self,
        cells: &[u32],
        values: Option<&Column>,
        filter: Option<&Column>,
    ) {
        // The filter's values and validity; not a boolean: no row passes
        // (the checker plans booleans).
        let mask: Option<(&[bool], Option<&[bool]>)> = match filter {
            None => None,
            Some(f) => match &f.data {
                Data::Bool(b) => Some((b, f.valid.as_deref())),
                _ => return,
            },
        };
        // Whether every row is in a cell (none is `u32::MAX`, a row of no
        // parent of a row aggregate): the loops below then test only
        // whether a row counts.
        let all_in = !cells.contains(&u32::MAX);
        // A count of the rows where a filter holds (the commonest
        // aggregate): the filter is read as the rows are counted.
        if let (None, Slots::Count(c), Some((m, mv))) = (values, &mut self.slots, mask) {
            match mv {
                // Every row in a cell (a pass's rows always are): no test
                // per row, the filter added.
                None if all_in => {
                    for (&cell, &take) in cells.iter().zip(m) {
                        c[cell as usize] += take as i64;
                    }
                }
                Some(mv) if all_in => {
                    for ((&cell, &take), &ok) in cells.iter().zip(m).zip(mv) {
                        c[cell as usize] += (take & ok) as i64;
                    }
                }
                _ => {
                    for (k, (&cell, &take)) in cells.iter().zip(m).enumerate() {
                        if cell != u32::MAX {
                            c[cell as usize] += (take && mv.is_none_or(|v| v[k])) as i64;
                        }
                    }
                }
            }
            return;
        }
        let row_valid = values.and_then(|c| c.valid.as_deref());
        // Whether each row counts (its filter holds, its value is not
        // null); `None` when every row does. Read from the columns
        // themselves unless both say something.
        let keep: Option<std::borrow::Cow<'_, [bool]>> = match (mask, row_valid) {
            (None, None) => None,
            (Some((m, None)), None) | (None, Some(m)) => Some(std::borrow::Cow::Borrowed(m)),
            _ => {
                // No branch per row: each source ands its flags in.
                let mut keep = vec![true; cells.len()];
                let sources = [mask.map(|m| m.0), mask.and_then(|m| m.1), row_valid];
                for source in sources.into_iter().flatten() {
                    keep.iter_mut().zip(source).for_each(|(k, &s)| *k &= s);
                }
                Some(std::borrow::Cow::Owned(keep))
            }
        };
        // `$body` for each row that counts, in order.
        macro_rules! each {
            (|$cell:ident, $k:ident| $body:expr) => {
                match &keep {
                    None if all_in => {
                        for ($k, &$cell) in cells.iter().enumerate() {
                            let $cell = $cell as usize;
                            $body;
                        }
                    }
                    None => {
                        for ($k, &$cell) in cells.iter().enumerate() {
                            if $cell != u32::MAX {
                                let $cell = $cell as usize;
                                $body;
                            }
                        }
                    }
                    Some(keep) if all_in => {
                        for ($k, (&$cell, &take)) in cells.iter().zip(keep.iter()).enumerate() {
                            if take {
                                let $cell = $cell as usize;
                                $body;
                            }
                        }
                    }
                    Some(keep) => {
                        for ($k, (&$cell, &take)) in cells.iter().zip(keep.iter()).enumerate() {
                            if take && $cell != u32::MAX {
                                let $cell = $cell as usize;
                                $body;
                            }
                        }
                    }
                }
            };
        }
        let Some(col) = values else {
            if let Slots::Count(c) = &mut self.slots {
                each!(|cell, _k| c[cell] += 1);
            }
            return;
        };
        // A sum keeps no count; a mean does. (Adding zero for a row that
        // does not count, rather than branching, is slower: a mean's filter
        // often drops most rows.)
        let mean = self.func == AggFunc::Avg;
        match (&mut self.slots, &col.data) {
            (Slots::Count(c), _) => each!(|cell, _k| c[cell] += 1),
            (Slots::SumExact(s, n), Data::Int(v) | Data::Timestamp(v)) => each!(|cell, k| {
                s[cell] += v[k] as i128;
                if mean {
                    n[cell] += 1;
                }
            }),
            (Slots::SumFloat(s, n), Data::Float(v) | Data::Duration(v)) => each!(|cell, k| {
                s[cell] += v[k];
                if mean {
                    n[cell] += 1;
                }
            }),
            (Slots::Min(_, i), Data::Int(v) | Data::Timestamp(v)) => {
                each!(|cell, k| i[cell] = Some(i[cell].map_or(v[k], |m| m.min(v[k]))))
            }
            (Slots::Min(f, _), Data::Float(v) | Data::Duration(v)) => {
                each!(|cell, k| f[cell] = Some(f[cell].map_or(v[k], |m| m.min(v[k]))))
            }
            (Slots::Max(_, i), Data::Int(v) | Data::Timestamp(v)) => {
                each!(|cell, k| i[cell] = Some(i[cell].map_or(v[k], |m| m.max(v[k]))))
            }
            (Slots::Max(f, _), Data::Float(v) | Data::Duration(v)) => {
                each!(|cell, k| f[cell] = Some(f[cell].map_or(v[k], |m| m.max(v[k]))))
            }
            (Slots::Values(vals), Data::Int(v) | Data::Timestamp(v)) => {
                each!(|cell, k| vals[cell].push(v[k] as f64))
            }
            (Slots::Values(vals), Data::Float(v) | Data::Duration(v)) => {
                each!(|cell, k| vals[cell].push(v[k]))
            }
            (Slots::Distinct(d), Data::Str(v)) => {
                if matches!(d.strs, StrKeys::Unset) {
                    d.strs = StrKeys::Codes(v.dict.clone());
                }
                match &d.strs {
                    StrKeys::Codes(dict) if Arc::ptr_eq(dict, &v.dict) => {
                        let pending = &mut d.codes.pending;
                        pending.reserve(cells.len());
                        crate::with_codes!(&v.codes, codes => each!(|cell, k| {
                            pending.push((cell as u64) << 32 | codes[k].wide() as u64)
                        }));
                        d.codes.seal_if_full();
                    }
                    _ => {
                        d.key_by_text();
                        let sets = d.sets();
                        each!(|cell, k| sets[cell].insert(Key::S(Arc::from(v.get(k)))))
                    }
                }
            }
            _ => {
                let keep = keep.as_deref();
                for (k, &cell) in cells.iter().enumerate() {
                    if cell != u32::MAX && keep.is_none_or(|t| t[k]) {
                        self.update(cell as usize, Some(col), k);
                    }
                }
            }
        }
    }

    /// Folds `other` (same aggregate, same cells) into this state: how
    /// partial states of chunks (or of hours into a day) combine. The tests
    /// prove it; the executor will use it for parallel chunks.
    #[allow(dead_code)]
    pub fn merge(&mut self, other: &Accumulator) {
        fn opt<T: Copy>(a: &mut [Option<T>], b: &[Option<T>], pick: fn(T, T) -> T) {
            for (x, y) in a.iter_mut().zip(b) {
                *x = match (*x, *y) {
                    (Some(p), Some(q)) => Some(pick(p, q)),
                    (p, q) => p.or(q),
                };
            }
        }
        match (&mut self.slots, &other.slots) {
            (Slots::Count(a), Slots::Count(b)) => a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
            (Slots::SumExact(a, n), Slots::SumExact(b, m)) => {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                n.iter_mut().zip(m).for_each(|(x, y)| *x += y);
            }
            (Slots::SumFloat(a, n), Slots::SumFloat(b, m)) => {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                n.iter_mut().zip(m).for_each(|(x, y)| *x += y);
            }
            (Slots::Min(af, ai), Slots::Min(bf, bi)) => {
                opt(af, bf, f64::min);
                opt(ai, bi, i64::min);
            }
            (Slots::Max(af, ai), Slots::Max(bf, bi)) => {
                opt(af, bf, f64::max);
                opt(ai, bi, i64::max);
            }
            (Slots::Values(a), Slots::Values(b)) => a
                .iter_mut()
                .zip(b)
                .for_each(|(x, y)| x.extend_from_slice(y)),
            (Slots::Distinct(a), Slots::Distinct(b)) => {
                let same = match (&a.strs, &b.strs) {
                    (StrKeys::Codes(x), StrKeys::Codes(y)) => Arc::ptr_eq(x, y),
                    (_, StrKeys::Unset) => true,
                    (StrKeys::Unset, _) => a.sets.iter().all(HashSet::is_empty),
                    (StrKeys::Text, StrKeys::Text) => true,
                    _ => false,
                };
                if !same {
                    a.key_by_text();
                } else if matches!(a.strs, StrKeys::Unset) {
                    a.strs = b.strs.clone();
                }
                if !b.sets.is_empty() {
                    for (x, y) in a.sets().iter_mut().zip(&b.sets) {
                        x.extend(y.iter().cloned());
                    }
                }
                match (&a.strs, &b.strs) {
                    // One dictionary: the codes join the codes.
                    (StrKeys::Codes(_), _) => a.codes.absorb(&b.codes),
                    // Keyed by text: the other side's codes become texts.
                    (_, StrKeys::Codes(d)) => {
                        let sets = a.sets();
                        b.codes.for_each(|cell, code| {
                            sets[cell].insert(Key::S(Arc::from(&d[code as usize])));
                        });
                    }
                    _ => {}
                }
            }
            _ => unreachable!("merging accumulators of different aggregates"),
        }
    }

    /// The final value of every cell. Counts and sums of no rows are 0;
    /// means, medians, minima and maxima of no rows are null.
    pub fn evaluate(self) -> Result<Column, String> {
        let n = self.len();
        // Counts (a child aggregate has one per parent row: ten million)
        // become the column as they are.
        if self.output == Type::Int {
            match self.slots {
                Slots::Count(v) => return Ok(Column::new(Data::Int(v), None)),
                Slots::Distinct(d) => {
                    let counts = d.counts().into_iter().map(|k| k as i64).collect();
                    return Ok(Column::new(Data::Int(counts), None));
                }
                _ => {}
            }
        }
        let mut b = Builder::new(&self.output, n);
        let wrap = |x: f64| -> V<'static> {
            match self.output {
                Type::Duration => V::D(x),
                Type::Int => V::I(x as i64),
                _ => V::F(x),
            }
        };
        let distinct = match &self.slots {
            Slots::Distinct(d) => d.counts(),
            _ => Vec::new(),
        };
        for c in 0..n {
            let v = match &self.slots {
                Slots::Count(v) => V::I(v[c]),
                Slots::SumExact(s, k) => match self.func {
                    AggFunc::Sum => {
                        let x =
                            i64::try_from(s[c]).map_err(|_| "sum overflows 64 bits".to_string())?;
                        V::I(x)
                    }
                    _ if k[c] == 0 => V::Null,
                    _ => wrap(s[c] as f64 / k[c] as f64),
                },
                Slots::SumFloat(s, k) => match self.func {
                    AggFunc::Sum => wrap(s[c]),
                    _ if k[c] == 0 => V::Null,
                    _ => wrap(s[c] / k[c] as f64),
                },
                Slots::Min(f, i) | Slots::Max(f, i) => match (f[c], i[c]) {
                    (Some(x), _) if self.output == Type::Duration => V::D(x),
                    (Some(x), _) => V::F(x),
                    (_, Some(x)) => match self.output {
                        Type::Timestamp => V::T(x),
                        _ => V::I(x),
                    },
                    _ => V::Null,
                },
                Slots::Values(vals) => match quantile(&vals[c], self.fraction) {
                    Some(x) => wrap(x),
                    None => V::Null,
                },
                Slots::Distinct(_) => V::I(distinct[c] as i64),
            };
            b.push(v)?;
        }
        debug_assert!(
            self.input.is_none() || self.func != AggFunc::Count || self.output == Type::Int
        );
        Ok(b.finish())
    }

    pub fn len(&self) -> usize {
        match &self.slots {
            Slots::Count(v) => v.len(),
            Slots::SumExact(v, _) => v.len(),
            Slots::SumFloat(v, _) => v.len(),
            Slots::Min(v, _) | Slots::Max(v, _) => v.len(),
            Slots::Values(v) => v.len(),
            Slots::Distinct(d) => d.codes.n,
        }
    }
}

fn as_f64(v: V<'_>) -> Option<f64> {
    match v {
        V::I(x) => Some(x as f64),
        V::F(x) | V::D(x) => Some(x),
        _ => None,
    }
}

/// The continuous quantile (linear interpolation between the two nearest
/// ranks), as PostgreSQL's `percentile_cont` and DuckDB's `quantile_cont`.
///
/// Finite for finite values: when the two ranks are so far apart that their
/// difference overflows (-1.7e308 and 1.7e308), the interpolation is taken
/// as the weighted mean of the two, which cannot.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b, w) = (v[lo], v[hi], pos - lo as f64);
    let d = b - a;
    Some(if d.is_finite() {
        a + d * w
    } else {
        a * (1.0 - w) + b * w
    })
}

/// A column holding `n` nulls of a count-like type is never needed: counts
/// start at 0. This helper is for tests that compare finished columns.
#[cfg(test)]
fn floats(c: &Column) -> Vec<Option<f64>> {
    (0..c.len())
        .map(|i| match get(c, i) {
            V::F(x) | V::D(x) => Some(x),
            V::I(x) => Some(x as f64),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::StrBuilder;

    fn col(v: &[Option<f64>]) -> Column {
        Column::new(
            Data::Float(v.iter().map(|x| x.unwrap_or(0.0)).collect()),
            Some(v.iter().map(Option::is_some).collect()),
        )
    }

    #[test]
    fn avg_skips_nulls_and_merges_exactly() {
        let c = col(&[Some(1.0), None, Some(2.0), Some(6.0)]);
        let mut a = Accumulator::new(AggFunc::Avg, Some(Type::Float), Type::Float, None, 2);
        let mut b = a.clone();
        a.update(0, Some(&c), 0);
        a.update(0, Some(&c), 1);
        b.update(0, Some(&c), 2);
        b.update(0, Some(&c), 3);
        a.merge(&b);
        // (1 + 2 + 6) / 3 = 3; cell 1 saw no rows: null.
        assert_eq!(floats(&a.evaluate().unwrap()), vec![Some(3.0), None]);
    }

    /// Batch updates agree with hand counts whether or not some rows are in
    /// no cell (`u32::MAX`), with and without a filter that can be null.
    #[test]
    fn batch_updates_skip_rows_in_no_cell() {
        let flags = |v: &[Option<bool>]| {
            Column::new(
                Data::Bool(v.iter().map(|x| x.unwrap_or(false)).collect()),
                v.iter()
                    .any(Option::is_none)
                    .then(|| v.iter().map(Option::is_some).collect()),
            )
        };
        let values = col(&[Some(1.0), Some(2.0), None, Some(4.0), Some(8.0)]);
        let sure = flags(&[Some(true), Some(false), Some(true), Some(true), Some(true)]);
        let unsure = flags(&[Some(true), None, Some(true), Some(true), None]);
        let everywhere = [0, 1, 0, 1, 1];
        let somewhere = [0, u32::MAX, 0, 1, u32::MAX];
        let run = |func, values: Option<&Column>, filter: Option<&Column>, cells: &[u32]| {
            let ty = values.map(|_| Type::Float);
            let out = if func == AggFunc::Count {
                Type::Int
            } else {
                Type::Float
            };
            let mut a = Accumulator::new(func, ty, out, None, 2);
            a.update_batch(cells, values, filter);
            floats(&a.evaluate().unwrap())
        };
        use AggFunc::{Avg, Count};
        let c = |a: f64, b: f64| vec![Some(a), Some(b)];
        // Counts where the filter holds (and is not null).
        assert_eq!(run(Count, None, Some(&sure), &everywhere), c(2.0, 2.0));
        assert_eq!(run(Count, None, Some(&sure), &somewhere), c(2.0, 1.0));
        assert_eq!(run(Count, None, Some(&unsure), &everywhere), c(2.0, 1.0));
        assert_eq!(run(Count, None, Some(&unsure), &somewhere), c(2.0, 1.0));
        assert_eq!(run(Count, None, None, &somewhere), c(2.0, 1.0));
        // Means of the non-null values where the filter holds.
        assert_eq!(
            run(Avg, Some(&values), None, &everywhere),
            c(1.0, 14.0 / 3.0)
        );
        assert_eq!(run(Avg, Some(&values), None, &somewhere), c(1.0, 4.0));
        assert_eq!(
            run(Avg, Some(&values), Some(&sure), &everywhere),
            c(1.0, 6.0)
        );
        assert_eq!(
            run(Avg, Some(&values), Some(&unsure), &everywhere),
            c(1.0, 4.0)
        );
        assert_eq!(
            run(Avg, Some(&values), Some(&sure), &somewhere),
            c(1.0, 4.0)
        );
    }

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), Some(4.6));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn distinct_strings_from_two_dictionaries_count_by_text() {
        let strings = |xs: &[&str]| {
            let mut b = StrBuilder::default();
            xs.iter().for_each(|x| b.push(x));
            Column::new(Data::Str(b.finish()), None)
        };
        let (x, y) = (strings(&["a", "b", "a"]), strings(&["b", "c"]));
        let new = || {
            Accumulator::new(
                AggFunc::CountDistinct,
                Some(Type::String),
                Type::Int,
                None,
                1,
            )
        };
        // Codes (a=0, b=1) and (b=0, c=1) overlap; texts a, b, c are three.
        let (mut one, mut two) = (new(), new());
        one.update_batch(&[0, 0, 0], Some(&x), None);
        two.update_batch(&[0, 0], Some(&y), None);
        one.merge(&two);
        assert_eq!(get(&one.evaluate().unwrap(), 0), V::I(3));
        // One state fed from both dictionaries, then row by row.
        let mut both = new();
        both.update_batch(&[0, 0, 0], Some(&x), None);
        both.update_batch(&[0, 0], Some(&y), None);
        both.update(0, Some(&strings(&["d"])), 0);
        assert_eq!(get(&both.evaluate().unwrap(), 0), V::I(4));
        // The same dictionary merges by code.
        let (mut p, mut q) = (new(), new());
        p.update_batch(&[0, 0, u32::MAX], Some(&x), None);
        q.update_batch(&[u32::MAX, u32::MAX, 0], Some(&x), None);
        p.merge(&q);
        assert_eq!(get(&p.evaluate().unwrap(), 0), V::I(2));
    }

    #[test]
    fn count_distinct_and_sum_of_nothing() {
        let c = col(&[Some(1.0), Some(1.0), Some(2.0)]);
        let mut d = Accumulator::new(
            AggFunc::CountDistinct,
            Some(Type::Float),
            Type::Int,
            None,
            1,
        );
        let mut s = Accumulator::new(AggFunc::Sum, Some(Type::Float), Type::Float, None, 2);
        for i in 0..3 {
            d.update(0, Some(&c), i);
            s.update(0, Some(&c), i);
        }
        assert_eq!(floats(&d.evaluate().unwrap()), vec![Some(2.0)]);
        assert_eq!(floats(&s.evaluate().unwrap()), vec![Some(4.0), Some(0.0)]);
        let _ = Data::Int(vec![]);
    }
}

/// Property tests (issue 6, "Numbers"): for every aggregate kind, merging
/// the states of random chunks equals aggregating all values at once, and a
/// day's value equals the one recombined from its hours' partial states.
#[cfg(test)]
mod props {
    use std::collections::HashSet;

    use chrono::{Days, NaiveDate, Weekday};
    use chrono_tz::Tz;
    use kpi_dsl::ast::AggFunc;
    use kpi_dsl::check::aggregate_type;
    use kpi_dsl::Type;
    use proptest::prelude::*;

    use super::{quantile, Accumulator};
    use crate::column::{Column, Data, StrBuilder};
    use crate::kernels::{get, V};
    use crate::period::{Calendar, PeriodKind};
    use crate::time::local_date_start;

    const HOUR: i64 = 3_600_000_000;

    /// One raw input row: an int, a float, and whether it is null.
    type Row = (i64, f64, bool);

    /// Every aggregate kind with every input type the checker accepts for it
    /// (`None` input: `count(T)`, which counts rows).
    fn cases() -> Vec<(AggFunc, Option<Type>)> {
        use AggFunc::*;
        let mut out = vec![(Count, None)];
        let all = [
            Type::Int,
            Type::Float,
            Type::Duration,
            Type::Timestamp,
            Type::String,
            Type::Bool,
        ];
        for t in &all {
            out.push((Count, Some(t.clone())));
            out.push((CountDistinct, Some(t.clone())));
        }
        for f in [Sum, Avg, Median, Percentile] {
            for t in [Type::Int, Type::Float, Type::Duration] {
                out.push((f, Some(t)));
            }
        }
        for f in [Min, Max] {
            for t in [Type::Int, Type::Float, Type::Duration, Type::Timestamp] {
                out.push((f, Some(t)));
            }
        }
        out
    }

    /// The column of `rows` as values of type `ty`. Strings and bools
    /// repeat, so count_distinct has duplicates to find.
    fn column(ty: &Type, rows: &[Row]) -> Column {
        let valid = Some(rows.iter().map(|r| !r.2).collect());
        let data = match ty {
            Type::Int => Data::Int(rows.iter().map(|r| r.0).collect()),
            Type::Timestamp => Data::Timestamp(rows.iter().map(|r| r.0).collect()),
            Type::Float => Data::Float(rows.iter().map(|r| r.1).collect()),
            // Durations are whole microseconds held as floats (reader's form).
            Type::Duration => {
                Data::Duration(rows.iter().map(|r| (r.0 % (1 << 40)) as f64).collect())
            }
            Type::Bool => Data::Bool(rows.iter().map(|r| r.0 % 2 == 0).collect()),
            _ => {
                let mut b = StrBuilder::default();
                for r in rows {
                    b.push(&format!("s{}", r.0.rem_euclid(17)));
                }
                Data::Str(b.finish())
            }
        };
        Column::new(data, valid)
    }

    fn new_acc(func: AggFunc, input: &Option<Type>, fraction: f64, n: usize) -> Accumulator {
        let output = aggregate_type(func, input.as_ref()).expect("a planned aggregate");
        let fraction = (func == AggFunc::Percentile).then_some(fraction);
        Accumulator::new(func, input.clone(), output, fraction, n)
    }

    /// A finished value, for comparing.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Out {
        Null,
        I(i64),
        F(f64),
    }

    fn outs(r: &Result<Column, String>) -> Result<Vec<Out>, String> {
        let c = r.as_ref().map_err(Clone::clone)?;
        Ok((0..c.len())
            .map(|i| match get(c, i) {
                V::Null => Out::Null,
                V::I(x) | V::T(x) => Out::I(x),
                V::F(x) | V::D(x) => Out::F(x),
                other => panic!("aggregate produced {other:?}"),
            })
            .collect())
    }

    /// Float sums and means may differ by rounding, which depends on the
    /// order of additions: to 1e-12 relative to the sum of the magnitudes
    /// (the condition of the sum; relative to the result it is unbounded
    /// under cancellation). Everything else is exact.
    fn inexact(func: AggFunc, input: &Option<Type>) -> bool {
        matches!(func, AggFunc::Sum | AggFunc::Avg)
            && matches!(input, Some(Type::Float | Type::Duration))
    }

    fn assert_same(
        what: &str,
        func: AggFunc,
        input: &Option<Type>,
        got: &Result<Column, String>,
        want: &Result<Column, String>,
        magnitude: &[f64],
    ) -> Result<(), TestCaseError> {
        let (got, want) = (outs(got), outs(want));
        let (Ok(g), Ok(w)) = (&got, &want) else {
            prop_assert_eq!(got, want, "{} {:?}({:?})", what, func, input);
            return Ok(());
        };
        prop_assert_eq!(g.len(), w.len());
        for (c, (a, b)) in g.iter().zip(w).enumerate() {
            match (a, b) {
                (Out::F(x), Out::F(y)) if inexact(func, input) => prop_assert!(
                    (x - y).abs() <= 1e-12 * magnitude[c],
                    "{} {:?}({:?}) cell {}: {} vs {}",
                    what,
                    func,
                    input,
                    c,
                    x,
                    y
                ),
                _ => prop_assert_eq!(a, b, "{} {:?}({:?}) cell {}", what, func, input, c),
            }
        }
        Ok(())
    }

    /// What `func` gives over the non-null values of one cell, computed
    /// naively: the oracle the whole-input accumulator is checked against.
    fn oracle(func: AggFunc, input: &Option<Type>, fraction: f64, rows: &[Row]) -> Out {
        let Some(ty) = input else {
            return Out::I(rows.len() as i64);
        };
        let col = column(ty, rows);
        let vals: Vec<V<'_>> = (0..rows.len())
            .map(|i| get(&col, i))
            .filter(|v| *v != V::Null)
            .collect();
        let num = |v: &V<'_>| match *v {
            V::I(x) | V::T(x) => x as f64,
            V::F(x) | V::D(x) => x,
            _ => unreachable!(),
        };
        let float_out = |x: f64| Out::F(x);
        match func {
            AggFunc::Count => Out::I(vals.len() as i64),
            AggFunc::CountDistinct => {
                // 0.0 and -0.0 are one value (they compare equal).
                let key = |v: &V<'_>| match *v {
                    V::F(x) | V::D(x) if x == 0.0 => "0".to_string(),
                    other => format!("{other:?}"),
                };
                let keys: HashSet<String> = vals.iter().map(key).collect();
                Out::I(keys.len() as i64)
            }
            AggFunc::Sum if *ty == Type::Int => {
                // Exact: from the raw ints, not via f64.
                let s: i128 = rows.iter().filter(|r| !r.2).map(|r| r.0 as i128).sum();
                i64::try_from(s).map_or(Out::Null, Out::I)
            }
            AggFunc::Sum => float_out(vals.iter().map(num).sum()),
            _ if vals.is_empty() => Out::Null,
            AggFunc::Avg if *ty == Type::Int => {
                let s: i128 = rows.iter().filter(|r| !r.2).map(|r| r.0 as i128).sum();
                Out::F(s as f64 / vals.len() as f64)
            }
            AggFunc::Avg => float_out(vals.iter().map(num).sum::<f64>() / vals.len() as f64),
            AggFunc::Min | AggFunc::Max => {
                let pick = |a: f64, b: f64| {
                    if func == AggFunc::Min {
                        a.min(b)
                    } else {
                        a.max(b)
                    }
                };
                let m = vals.iter().map(num).reduce(pick).expect("non-empty");
                match ty {
                    Type::Int | Type::Timestamp => Out::I(m as i64).max_exact(rows, func),
                    _ => Out::F(m),
                }
            }
            _ => {
                let mut v: Vec<f64> = vals.iter().map(num).collect();
                v.sort_by(f64::total_cmp);
                let q = if func == AggFunc::Median {
                    0.5
                } else {
                    fraction
                };
                // Nearest ranks and linear interpolation, by definition.
                let pos = q * (v.len() - 1) as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                let w = pos - lo as f64;
                let x = if lo == hi {
                    v[lo]
                } else {
                    v[lo] * (1.0 - w) + v[hi] * w
                };
                Out::F(x)
            }
        }
    }

    impl Out {
        /// The exact min/max of the raw ints (f64 rounds large ones).
        fn max_exact(self, rows: &[Row], func: AggFunc) -> Out {
            let it = rows.iter().filter(|r| !r.2).map(|r| r.0);
            Out::I(
                if func == AggFunc::Min {
                    it.min()
                } else {
                    it.max()
                }
                .expect("non-empty"),
            )
        }
    }

    fn rows_item() -> impl Strategy<Value = Row> {
        let int = prop_oneof![
            4 => -5i64..5,
            4 => -1_000_000_000_000i64..1_000_000_000_000,
            1 => any::<i64>(),
        ];
        let float = prop_oneof![-1e9f64..1e9, -1.0f64..1.0, Just(0.0), Just(-0.0)];
        let null = prop::bool::weighted(0.2);
        (int, float, null)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Splitting the rows into chunks (and cells) and merging the
        /// chunks' states gives what one pass over all rows gives, which
        /// in turn is what the aggregate means.
        #[test]
        fn merged_chunks_equal_one_pass(
            rows_cells in prop::collection::vec((rows_item(), 0usize..3), 0..120),
            cuts in prop::collection::vec(0usize..120, 0..6),
            fraction in prop_oneof![0.0f64..=1.0, Just(0.0), Just(1.0), Just(0.9)],
        ) {
            let (rows, cells): (Vec<Row>, Vec<usize>) = rows_cells.into_iter().unzip();
            let n = rows.len();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(n)).collect();
            cuts.extend([0, n]);
            cuts.sort_unstable();
            for (func, input) in cases() {
                let col = input.as_ref().map(|t| column(t, &rows));
                let mut whole = new_acc(func, &input, fraction, 3);
                for (i, &cell) in cells.iter().enumerate() {
                    whole.update(cell, col.as_ref(), i);
                }
                let mut merged = new_acc(func, &input, fraction, 3);
                for w in cuts.windows(2) {
                    let mut part = new_acc(func, &input, fraction, 3);
                    for (i, &cell) in cells.iter().enumerate().take(w[1]).skip(w[0]) {
                        part.update(cell, col.as_ref(), i);
                    }
                    merged.merge(&part);
                }
                let per_cell: Vec<Vec<Row>> = (0..3)
                    .map(|c| (0..n).filter(|&i| cells[i] == c).map(|i| rows[i]).collect())
                    .collect();
                let magnitude: Vec<f64> = per_cell
                    .iter()
                    .map(|r| {
                        let col = input.as_ref().map(|t| column(t, r));
                        col.map_or(0.0, |c| {
                            (0..c.len())
                                .map(|i| match get(&c, i) {
                                    V::F(x) | V::D(x) => x.abs(),
                                    // An interpolated percentile of ints is a
                                    // float, rounded relative to its ranks.
                                    V::I(x) | V::T(x) => x.unsigned_abs() as f64,
                                    _ => 0.0,
                                })
                                .sum::<f64>()
                        })
                    })
                    .collect();
                let (w, m) = (whole.evaluate(), merged.evaluate());
                assert_same("merged chunks", func, &input, &m, &w, &magnitude)?;
                // The one pass against the definition (a 64-bit overflow of
                // an int sum is an error, the oracle's null).
                let got = outs(&w);
                for (c, r) in per_cell.iter().enumerate() {
                    let want = oracle(func, &input, fraction, r);
                    let got_c = match &got {
                        Ok(v) => v[c],
                        Err(e) => {
                            prop_assert_eq!(e.as_str(), "sum overflows 64 bits");
                            Out::Null
                        }
                    };
                    match (got_c, want) {
                        (Out::F(x), Out::F(y)) => prop_assert!(
                            (x - y).abs() <= 1e-12 * magnitude[c].max(x.abs()).max(y.abs()),
                            "{:?}({:?}) cell {}: {} vs {}", func, input, c, x, y
                        ),
                        _ if got.is_err() => {}
                        _ => prop_assert_eq!(got_c, want, "{:?}({:?}) cell {}", func, input, c),
                    }
                }
            }
        }

        /// The typed batch update gives exactly what row-by-row updates
        /// give, with skipped rows (`u32::MAX`) and a filter with nulls.
        #[test]
        fn batch_equals_rows(
            rows in prop::collection::vec((rows_item(), 0u32..4, any::<Option<bool>>()), 0..120),
            fraction in 0.0f64..=1.0,
            filtered in any::<bool>(),
        ) {
            let cells: Vec<u32> = rows.iter().map(|r| if r.1 == 3 { u32::MAX } else { r.1 }).collect();
            let keep = Column::new(
                Data::Bool(rows.iter().map(|r| r.2.unwrap_or(false)).collect()),
                Some(rows.iter().map(|r| r.2.is_some()).collect()),
            );
            let filter = filtered.then_some(&keep);
            let values: Vec<Row> = rows.iter().map(|r| r.0).collect();
            for (func, input) in cases() {
                let col = input.as_ref().map(|t| column(t, &values));
                let mut one = new_acc(func, &input, fraction, 3);
                for (k, &cell) in cells.iter().enumerate() {
                    let passes = filter.is_none_or(|f| get(f, k) == V::B(true));
                    if cell != u32::MAX && passes {
                        one.update(cell as usize, col.as_ref(), k);
                    }
                }
                let mut batch = new_acc(func, &input, fraction, 3);
                batch.update_batch(&cells, col.as_ref(), filter);
                prop_assert_eq!(outs(&batch.evaluate()), outs(&one.evaluate()), "{:?}({:?})", func, input);
            }
        }

        /// Random events in one local day (any of the zones, often
        /// a DST switch day): the day's accumulator equals the merge of the
        /// per-hour accumulators, in any order.
        #[test]
        fn day_equals_merged_hours(
            zone in 0usize..4,
            day in 0u64..47_000,
            switch_day in prop::sample::select(vec![
                (0usize, 2026, 3, 8), (0, 2026, 11, 1), (1, 2026, 3, 29), (1, 2026, 10, 25),
                (2, 2026, 4, 5), (2, 2026, 10, 4), (3, 1986, 1, 1),
            ]),
            use_switch in any::<bool>(),
            events in prop::collection::vec((0u64..1_000_000, (-1_000i64..1_000, -1e6f64..1e6, prop::bool::weighted(0.1))), 0..150),
            reverse in any::<bool>(),
            fraction in 0.0f64..=1.0,
        ) {
            let zones = [
                chrono_tz::America::New_York,
                chrono_tz::Europe::Berlin,
                chrono_tz::Australia::Lord_Howe,
                chrono_tz::Asia::Kathmandu,
            ];
            let (tz, date): (Tz, NaiveDate) = if use_switch {
                let (z, y, m, d) = switch_day;
                (zones[z], NaiveDate::from_ymd_opt(y, m, d).expect("date"))
            } else {
                (zones[zone], NaiveDate::from_ymd_opt(1970, 1, 2).expect("date") + Days::new(day))
            };
            let cal = Calendar::new(tz, Weekday::Mon);
            let start = local_date_start(date, tz);
            let end = cal.next(PeriodKind::Day, start);
            let len = end - start;
            // Events at increasing instants within the day.
            let mut events = events;
            events.sort_by_key(|e| e.0);
            let ts: Vec<i64> = events
                .iter()
                .map(|e| start + (len as i128 * e.0 as i128 / 1_000_000) as i64)
                .collect();
            let rows: Vec<Row> = events.iter().map(|e| e.1).collect();
            let hours = ((len + HOUR - 1) / HOUR) as usize;
            for &t in &ts {
                prop_assert_eq!(cal.floor(PeriodKind::Day, t), start);
            }
            for (func, input) in cases() {
                let col = input.as_ref().map(|t| column(t, &rows));
                let mut day_acc = new_acc(func, &input, fraction, 1);
                let mut hour_acc: Vec<Accumulator> =
                    (0..hours).map(|_| new_acc(func, &input, fraction, 1)).collect();
                for (i, &t) in ts.iter().enumerate() {
                    day_acc.update(0, col.as_ref(), i);
                    hour_acc[((t - start) / HOUR) as usize].update(0, col.as_ref(), i);
                }
                if reverse {
                    hour_acc.reverse();
                }
                let mut recombined = new_acc(func, &input, fraction, 1);
                for h in &hour_acc {
                    recombined.merge(h);
                }
                let magnitude = [rows
                    .iter()
                    .filter(|r| !r.2)
                    .map(|r| if input == Some(Type::Float) { r.1.abs() } else { r.0.abs() as f64 })
                    .sum::<f64>()];
                assert_same("hours into a day", func, &input, &recombined.evaluate(), &day_acc.evaluate(), &magnitude)?;
            }
        }

        /// A distinct count of strings by dictionary code, fed in batches
        /// with skipped rows, a filter and nulls, split into units merged
        /// in any order (and sealed into blocks on the way, `SEAL` being
        /// small under test), counts what a set of texts per cell counts:
        /// with few cells (blocks by counting sort, counted by walking the
        /// cells) and many (blocks by sorting, counted by sorting), and
        /// after meeting a second dictionary (counted by text).
        #[test]
        fn distinct_codes_equal_sets_of_texts(
            rows in prop::collection::vec(
                (prop::option::of(0u32..40), 0u32..1000, any::<Option<bool>>()),
                0..400,
            ),
            many_cells in any::<bool>(),
            cuts in prop::collection::vec(0usize..400, 0..8),
            reverse in any::<bool>(),
            extra in 0usize..100,
            second in any::<bool>(),
        ) {
            let n = if many_cells { 5000 } else { 3 };
            let cells: Vec<u32> = rows
                .iter()
                .map(|r| if r.1 % 7 == 6 { u32::MAX } else { r.1 % n })
                .collect();
            let mut b = StrBuilder::default();
            for k in 0..extra {
                b.push(&format!("x{k}"));
            }
            for r in &rows {
                b.push(&format!("s{}", r.0.unwrap_or(0)));
            }
            let mut texts = b.finish();
            texts.codes = crate::column::Codes::narrow(texts.codes.iter().skip(extra).collect(), texts.dict.len());
            let values = Column::new(Data::Str(texts), Some(rows.iter().map(|r| r.0.is_some()).collect()));
            let keep = Column::new(
                Data::Bool(rows.iter().map(|r| r.2.unwrap_or(false)).collect()),
                Some(rows.iter().map(|r| r.2.is_some()).collect()),
            );
            let new = || Accumulator::new(AggFunc::CountDistinct, Some(Type::String), Type::Int, None, n as usize);
            let mut want = vec![HashSet::new(); n as usize];
            for (k, r) in rows.iter().enumerate() {
                if cells[k] != u32::MAX && r.2 == Some(true) {
                    if let Some(x) = r.0 {
                        want[cells[k] as usize].insert(format!("s{x}"));
                    }
                }
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(rows.len())).collect();
            cuts.extend([0, rows.len()]);
            cuts.sort_unstable();
            let mut parts: Vec<Accumulator> = cuts
                .windows(2)
                .map(|w| {
                    let mut part = new();
                    // Batches of up to 50 rows.
                    for start in (w[0]..w[1]).step_by(50) {
                        let end = (start + 50).min(w[1]);
                        let idx: Vec<u32> = (start as u32..end as u32).collect();
                        part.update_batch(
                            &cells[start..end],
                            Some(&crate::kernels::gather(&values, &idx)),
                            Some(&crate::kernels::gather(&keep, &idx)),
                        );
                    }
                    part
                })
                .collect();
            if reverse {
                parts.reverse();
            }
            let mut whole = new();
            for p in &parts {
                whole.merge(p);
            }
            let counts = |c: &Column| {
                (0..c.len())
                    .map(|i| match get(c, i) {
                        V::I(x) => x,
                        other => panic!("{other:?}"),
                    })
                    .collect::<Vec<i64>>()
            };
            let expect: Vec<i64> = want.iter().map(|s| s.len() as i64).collect();
            prop_assert_eq!(counts(&whole.clone().evaluate().unwrap()), expect.clone());
            // Both ways of counting, whichever `counts` picks.
            if let super::Slots::Distinct(d) = &whole.slots {
                if let super::StrKeys::Codes(dict) = &d.strs {
                    let blocks: Vec<&super::Block> = d.codes.blocks.iter().map(|b| &**b).collect();
                    prop_assert!(d.codes.pending.is_empty());
                    let total = blocks.iter().map(|b| b.codes.len()).sum();
                    let walked = super::walk_counts(n as usize, &blocks, dict.len());
                    prop_assert_eq!(&walked, &d.codes.sorted_counts(total));
                    let expect: Vec<u64> = want.iter().map(|s| s.len() as u64).collect();
                    prop_assert_eq!(walked, expect);
                }
            }
            // A second dictionary: everything is counted by text.
            if second {
                let mut b = StrBuilder::default();
                b.push("s0");
                b.push("other");
                let other = Column::new(Data::Str(b.finish()), None);
                let mut more = new();
                more.update_batch(&[0, 0], Some(&other), None);
                whole.merge(&more);
                want[0].extend(["s0".to_string(), "other".to_string()]);
                let expect: Vec<i64> = want.iter().map(|s| s.len() as i64).collect();
                prop_assert_eq!(counts(&whole.evaluate().unwrap()), expect);
            }
        }
    }

    #[test]
    fn quantile_matches_definition_on_ranks() {
        assert_eq!(quantile(&[3.0], 0.9), Some(3.0));
        assert_eq!(quantile(&[1.0, 3.0], 0.0), Some(1.0));
        assert_eq!(quantile(&[1.0, 3.0], 1.0), Some(3.0));
    }
}

/// Aggregates fed values chosen to make NaN or infinity: each result is
/// null, finite, or a clear error (issue 6, "no NaN or infinity").
#[cfg(test)]
mod non_finite {
    use kpi_dsl::ast::AggFunc;
    use kpi_dsl::Type;

    use super::{quantile, Accumulator};
    use crate::column::{Column, Data};
    use crate::kernels::{get, V};

    const BIG: f64 = 1.7e308;

    fn run(
        func: AggFunc,
        ty: Type,
        data: Data,
        fraction: Option<f64>,
    ) -> Result<V<'static>, String> {
        let col = Column::new(data, None);
        let output = kpi_dsl::check::aggregate_type(func, Some(&ty)).expect("planned");
        let mut a = Accumulator::new(func, Some(ty), output, fraction, 1);
        for i in 0..col.len() {
            a.update(0, Some(&col), i);
        }
        let c = a.evaluate()?;
        Ok(match get(&c, 0) {
            V::F(x) => V::F(x),
            V::D(x) => V::D(x),
            V::I(x) => V::I(x),
            V::Null => V::Null,
            other => panic!("{other:?}"),
        })
    }

    fn floats(v: &[f64]) -> Data {
        Data::Float(v.to_vec())
    }

    #[test]
    fn quantiles_of_extremes_do_not_overflow() {
        // Bug found by the property tests: v[lo] + (v[hi] - v[lo]) * w
        // overflowed to infinity (then failed the run) for ±1.7e308.
        assert_eq!(quantile(&[-BIG, BIG], 0.5), Some(0.0));
        assert_eq!(quantile(&[-f64::MAX, f64::MAX], 0.5), Some(0.0));
        let x = quantile(&[-BIG, BIG], 0.75).expect("value");
        assert!((x - BIG / 2.0).abs() <= 1e-15 * BIG, "{x}");
        assert_eq!(quantile(&[-BIG, BIG], 1.0), Some(BIG));
        assert_eq!(quantile(&[BIG, BIG, BIG], 0.3), Some(BIG));
        for q in [0.0, 0.1, 0.5, 0.9, 1.0] {
            let x = quantile(&[f64::MIN, -1.0, 0.0, f64::MAX], q).expect("value");
            assert!(x.is_finite(), "{q}: {x}");
        }
        assert_eq!(
            run(AggFunc::Median, Type::Float, floats(&[-BIG, BIG]), None),
            Ok(V::F(0.0))
        );
        assert_eq!(
            run(
                AggFunc::Percentile,
                Type::Duration,
                Data::Duration(vec![-BIG, BIG]),
                Some(0.5)
            ),
            Ok(V::D(0.0))
        );
    }

    #[test]
    fn overflowing_sums_and_means_are_errors() {
        let e = run(AggFunc::Sum, Type::Float, floats(&[BIG, BIG]), None).unwrap_err();
        assert_eq!(e, "numeric overflow: a result is not a finite number");
        // The mean of two 1.7e308 is 1.7e308, but its sum overflows: an
        // error that says so rather than a wrong or infinite mean.
        let e = run(AggFunc::Avg, Type::Float, floats(&[BIG, BIG]), None).unwrap_err();
        assert_eq!(e, "numeric overflow: a result is not a finite number");
        let e = run(
            AggFunc::Sum,
            Type::Duration,
            Data::Duration(vec![BIG, BIG]),
            None,
        )
        .unwrap_err();
        assert_eq!(e, "duration overflow");
        let e = run(AggFunc::Sum, Type::Int, Data::Int(vec![i64::MAX, 1]), None).unwrap_err();
        assert_eq!(e, "sum overflows 64 bits");
        // The exact int sum only fails when the total does not fit.
        assert_eq!(
            run(
                AggFunc::Sum,
                Type::Int,
                Data::Int(vec![i64::MAX, 1, -1]),
                None
            ),
            Ok(V::I(i64::MAX))
        );
        assert_eq!(
            run(
                AggFunc::Avg,
                Type::Int,
                Data::Int(vec![i64::MAX, i64::MAX]),
                None
            ),
            Ok(V::F(i64::MAX as f64))
        );
    }

    #[test]
    fn cancelling_float_sums_stay_finite() {
        // Merging a +inf-bound and a -inf-bound partial sum would be NaN;
        // with finite inputs each partial sum is finite or already failed.
        assert_eq!(
            run(AggFunc::Sum, Type::Float, floats(&[BIG, -BIG, BIG]), None),
            Ok(V::F(BIG))
        );
        assert_eq!(
            run(AggFunc::Avg, Type::Float, floats(&[BIG, -BIG]), None),
            Ok(V::F(0.0))
        );
        assert_eq!(
            run(AggFunc::Min, Type::Float, floats(&[BIG, -BIG]), None),
            Ok(V::F(-BIG))
        );
    }

    #[test]
    fn aggregates_of_nothing_are_null_or_zero() {
        for func in [AggFunc::Avg, AggFunc::Median, AggFunc::Min, AggFunc::Max] {
            assert_eq!(
                run(func, Type::Float, floats(&[]), None),
                Ok(V::Null),
                "{func:?}"
            );
        }
        assert_eq!(
            run(AggFunc::Percentile, Type::Int, Data::Int(vec![]), Some(0.9)),
            Ok(V::Null)
        );
        assert_eq!(
            run(AggFunc::Sum, Type::Float, floats(&[]), None),
            Ok(V::F(0.0))
        );
        assert_eq!(
            run(AggFunc::Count, Type::Float, floats(&[]), None),
            Ok(V::I(0))
        );
    }
}
