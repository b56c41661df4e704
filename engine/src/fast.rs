//! Typed kernels: the common operator shapes run as loops over the typed
//! vectors, with validity combined separately, instead of one [`V`] per
//! value. Each returns `None` for a shape it does not cover, and the caller
//! falls back to the per-value kernel in `kernels.rs`, which is the
//! reference: `tests::fast_equals_reference` checks the two agree on every
//! shape covered here, nulls and zero denominators included.
//!
//! [`V`]: crate::kernels::V

use std::sync::Arc;

use kpi_dsl::ast::BinOp;

use crate::column::{Code, Codes, Column, Data, Dict, StrVec};
use crate::kernels::V;
use crate::with_codes;

/// Validity of `l op r` for a null-propagating operator: valid where both are.
fn both_valid(l: &Column, r: &Column) -> Option<Vec<bool>> {
    match (&l.valid, &r.valid) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a.clone()),
        (Some(a), Some(b)) => Some(a.iter().zip(b).map(|(x, y)| *x & *y).collect()),
    }
}

fn cmp_bools<T: Copy>(
    op: BinOp,
    a: &[T],
    b: &[T],
    f: impl Fn(T, T) -> std::cmp::Ordering,
) -> Vec<bool> {
    use std::cmp::Ordering::*;
    macro_rules! go {
        ($pred:expr) => {
            a.iter().zip(b).map(|(&x, &y)| $pred(f(x, y))).collect()
        };
    }
    match op {
        BinOp::Eq => go!(|o| o == Equal),
        BinOp::Ne => go!(|o| o != Equal),
        BinOp::Lt => go!(|o| o == Less),
        BinOp::Le => go!(|o| o != Greater),
        BinOp::Gt => go!(|o| o == Greater),
        _ => go!(|o| o != Less),
    }
}

/// Columns hold finite floats only (readers and kernels refuse NaN and
/// infinities), so every pair is ordered; `-0.0 == 0.0` as in the reference.
fn float_cmp(x: f64, y: f64) -> std::cmp::Ordering {
    x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
}

/// The codes of `r` translated into `l`'s dictionary (`u32::MAX` where `l`
/// has no such string), so equal strings have equal codes.
fn codes_in(l: &StrVec, r: &StrVec) -> Vec<u32> {
    if Arc::ptr_eq(&l.dict, &r.dict) {
        return r.codes.as_u32().into_owned();
    }
    let translate: Vec<u32> = if r.dict.len() <= 4 {
        // A literal or a short list: look each one up.
        r.dict
            .iter()
            .map(|s| code_in(&l.dict, s).unwrap_or(u32::MAX))
            .collect()
    } else {
        let index: std::collections::HashMap<&str, u32> = l
            .dict
            .iter()
            .enumerate()
            .map(|(i, s)| (s, i as u32))
            .collect();
        r.dict
            .iter()
            .map(|s| index.get(s).copied().unwrap_or(u32::MAX))
            .collect()
    };
    with_codes!(&r.codes, v => v.iter().map(|&c| translate[c as usize]).collect())
}

/// Literal lookups remembered per thread: (dictionary, string) → code.
/// The dictionary is held weakly, so a dictionary freed and another
/// allocated at its address is never mistaken for it.
type Lookups = Vec<(std::sync::Weak<Dict>, String, Option<u32>)>;

thread_local! {
    static LOOKUPS: std::cell::RefCell<Lookups> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The code of `s` in `dict`. A pass evaluates `ticket_id == "t42"` batch
/// by batch, and a key column's dictionary holds millions of strings: the
/// search through it is made once per thread, not once per batch.
fn code_in(dict: &Arc<Dict>, s: &str) -> Option<u32> {
    const KEEP: usize = 32;
    LOOKUPS.with_borrow_mut(|memo| {
        let hit = memo
            .iter()
            .find(|(d, t, _)| t == s && d.upgrade().is_some_and(|d| Arc::ptr_eq(&d, dict)));
        if let Some(&(_, _, code)) = hit {
            return code;
        }
        let code = dict.iter().position(|d| d == s).map(|p| p as u32);
        if memo.len() == KEEP {
            memo.remove(0);
        }
        memo.push((Arc::downgrade(dict), s.to_string(), code));
        code
    })
}

fn finite(v: Vec<f64>, valid: &Option<Vec<bool>>, what: &str) -> Result<Vec<f64>, String> {
    let bad = match valid {
        None => v.iter().any(|x| !x.is_finite()),
        Some(m) => v.iter().zip(m).any(|(x, ok)| *ok && !x.is_finite()),
    };
    if bad {
        Err(what.to_string())
    } else {
        Ok(v)
    }
}

const FLOAT_OVERFLOW: &str = "numeric overflow: a result is not a finite number";
const DURATION_OVERFLOW: &str = "duration overflow";

/// Numbers as floats: ints converted, floats borrowed.
fn as_floats(d: &Data) -> Option<std::borrow::Cow<'_, [f64]>> {
    match d {
        Data::Float(v) => Some(std::borrow::Cow::Borrowed(v)),
        Data::Int(v) => Some(std::borrow::Cow::Owned(
            v.iter().map(|&x| x as f64).collect(),
        )),
        _ => None,
    }
}

/// Division: null where the denominator is zero.
fn divide(x: &[f64], y: &[f64], valid: Option<Vec<bool>>) -> (Vec<f64>, Option<Vec<bool>>) {
    let out: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(&a, &b)| if b == 0.0 { 0.0 } else { a / b })
        .collect();
    if y.iter().all(|&b| b != 0.0) {
        return (out, valid);
    }
    let mut m = valid.unwrap_or_else(|| vec![true; y.len()]);
    for (ok, &b) in m.iter_mut().zip(y) {
        if b == 0.0 {
            *ok = false;
        }
    }
    (out, Some(m))
}

/// `l op r` for the typed shapes; `None` for the others.
pub fn binary(op: BinOp, l: &Column, r: &Column) -> Option<Result<Column, String>> {
    use Data::*;
    if l.len() != r.len() {
        return None;
    }
    if matches!(op, BinOp::And | BinOp::Or) {
        let (Bool(a), Bool(b)) = (&l.data, &r.data) else {
            return None;
        };
        return Some(Ok(logic(op == BinOp::And, a, &l.valid, b, &r.valid)));
    }
    let valid = both_valid(l, r);
    if op.is_comparison() {
        let out = match (&l.data, &r.data) {
            (Int(a), Int(b)) | (Timestamp(a), Timestamp(b)) => {
                cmp_bools(op, a, b, |x, y| x.cmp(&y))
            }
            (Float(a), Float(b)) | (Duration(a), Duration(b)) => cmp_bools(op, a, b, float_cmp),
            (Int(_) | Float(_), Int(_) | Float(_)) => {
                let (a, b) = (as_floats(&l.data)?, as_floats(&r.data)?);
                cmp_bools(op, &a, &b, float_cmp)
            }
            (Bool(a), Bool(b)) => cmp_bools(op, a, b, |x, y| x.cmp(&y)),
            // One string on the right (`role == "agent"`: a literal):
            // its code in the left's dictionary is found once.
            (Str(a), Str(b)) if matches!(op, BinOp::Eq | BinOp::Ne) && b.dict.len() == 1 => {
                let code = match Arc::ptr_eq(&a.dict, &b.dict) {
                    true => 0,
                    false => code_in(&a.dict, b.dict.get(0)).unwrap_or(u32::MAX),
                };
                let eq = op == BinOp::Eq;
                with_codes!(&a.codes, v => v.iter().map(|&x| (x.wide() == code) == eq).collect())
            }
            (Str(a), Str(b)) if matches!(op, BinOp::Eq | BinOp::Ne) => {
                let rb = codes_in(a, b);
                let eq = op == BinOp::Eq;
                with_codes!(&a.codes, v => v
                    .iter()
                    .zip(&rb)
                    .map(|(&x, &y)| (x.wide() == y) == eq)
                    .collect())
            }
            _ => return None,
        };
        return Some(Ok(Column::new(Bool(out), valid)));
    }
    arith(op, l, r, valid).transpose()
}

fn arith(
    op: BinOp,
    l: &Column,
    r: &Column,
    valid: Option<Vec<bool>>,
) -> Result<Option<Column>, String> {
    use Data::*;
    let zip_f = |a: &[f64], b: &[f64], f: fn(f64, f64) -> f64| -> Vec<f64> {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    };
    let float_op = |op: BinOp| -> fn(f64, f64) -> f64 {
        match op {
            BinOp::Add => |x, y| x + y,
            BinOp::Sub => |x, y| x - y,
            _ => |x, y| x * y,
        }
    };
    let (data, valid) = match (op, &l.data, &r.data) {
        (BinOp::Sub, Timestamp(a), Timestamp(b)) => {
            // Overflow is rare: one loop without branches, and the row by
            // row loop below only when some difference overflowed.
            let mut overflowed = false;
            let out: Vec<f64> = a
                .iter()
                .zip(b)
                .map(|(&x, &y)| {
                    let (d, o) = x.overflowing_sub(y);
                    overflowed |= o;
                    d as f64
                })
                .collect();
            if !overflowed {
                return Ok(Some(Column::new(Duration(out), valid)));
            }
            let mut out = Vec::with_capacity(a.len());
            for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
                let ok = valid.as_ref().is_none_or(|m| m[i]);
                out.push(match x.checked_sub(y) {
                    Some(d) => d as f64,
                    None if ok => return Err("integer overflow".into()),
                    None => 0.0,
                });
            }
            (Duration(out), valid)
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul, Int(a), Int(b)) => {
            let f: fn(i64, i64) -> Option<i64> = match op {
                BinOp::Add => i64::checked_add,
                BinOp::Sub => i64::checked_sub,
                _ => i64::checked_mul,
            };
            let mut out = Vec::with_capacity(a.len());
            for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
                let ok = valid.as_ref().is_none_or(|m| m[i]);
                out.push(match f(x, y) {
                    Some(v) => v,
                    None if ok => return Err("integer overflow".into()),
                    None => 0,
                });
            }
            (Int(out), valid)
        }
        (BinOp::Add | BinOp::Sub, Duration(a), Duration(b)) => {
            let out = finite(zip_f(a, b, float_op(op)), &valid, DURATION_OVERFLOW)?;
            (Duration(out), valid)
        }
        (BinOp::Div, Duration(a), Duration(b)) => {
            let (out, valid) = divide(a, b, valid);
            (Float(finite(out, &valid, FLOAT_OVERFLOW)?), valid)
        }
        (BinOp::Mul, Duration(a), Int(_) | Float(_)) => {
            let k = as_floats(&r.data).expect("a number");
            (
                Duration(finite(
                    zip_f(a, &k, |x, y| x * y),
                    &valid,
                    DURATION_OVERFLOW,
                )?),
                valid,
            )
        }
        (BinOp::Mul, Int(_) | Float(_), Duration(b)) => {
            let k = as_floats(&l.data).expect("a number");
            (
                Duration(finite(
                    zip_f(&k, b, |x, y| x * y),
                    &valid,
                    DURATION_OVERFLOW,
                )?),
                valid,
            )
        }
        (BinOp::Div, Duration(a), Int(_) | Float(_)) => {
            let k = as_floats(&r.data).expect("a number");
            let (out, valid) = divide(a, &k, valid);
            (Duration(finite(out, &valid, DURATION_OVERFLOW)?), valid)
        }
        (BinOp::Div, Int(_) | Float(_), Int(_) | Float(_)) => {
            let (a, b) = (
                as_floats(&l.data).expect("a number"),
                as_floats(&r.data).expect("a number"),
            );
            let (out, valid) = divide(&a, &b, valid);
            (Float(finite(out, &valid, FLOAT_OVERFLOW)?), valid)
        }
        (BinOp::Add | BinOp::Sub | BinOp::Mul, Int(_) | Float(_), Int(_) | Float(_)) => {
            let (a, b) = (
                as_floats(&l.data).expect("a number"),
                as_floats(&r.data).expect("a number"),
            );
            (
                Float(finite(zip_f(&a, &b, float_op(op)), &valid, FLOAT_OVERFLOW)?),
                valid,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(Column::new(data, valid)))
}

/// Three-valued `and`/`or` over two boolean columns.
fn logic(
    and: bool,
    a: &[bool],
    va: &Option<Vec<bool>>,
    b: &[bool],
    vb: &Option<Vec<bool>>,
) -> Column {
    if va.is_none() && vb.is_none() {
        let out = if and {
            a.iter().zip(b).map(|(x, y)| *x & *y).collect()
        } else {
            a.iter().zip(b).map(|(x, y)| *x | *y).collect()
        };
        return Column::new(Data::Bool(out), None);
    }
    // The dominant value (false for and, true for or) decides alone, where
    // it is known; otherwise the result is known when both sides are.
    // And is true where both are known and true; or where one is known
    // and true (a null is stored as false). Loops over whole slices,
    // without pushes, which the compiler vectorizes.
    let ones = match va.is_none() || vb.is_none() {
        true => vec![true; a.len()],
        false => Vec::new(),
    };
    let (ka, kb) = (
        va.as_deref().unwrap_or(&ones),
        vb.as_deref().unwrap_or(&ones),
    );
    let sides = || a.iter().zip(ka).zip(b.iter().zip(kb));
    let (out, valid): (Vec<bool>, Vec<bool>) = if and {
        let out = sides()
            .map(|((&x, &kx), (&y, &ky))| kx & ky & x & y)
            .collect();
        let valid = sides()
            .map(|((&x, &kx), (&y, &ky))| (kx & !x) | (ky & !y) | (kx & ky))
            .collect();
        (out, valid)
    } else {
        let out = sides()
            .map(|((&x, &kx), (&y, &ky))| (kx & x) | (ky & y))
            .collect();
        let valid = sides()
            .map(|((&x, &kx), (&y, &ky))| (kx & x) | (ky & y) | (kx & ky))
            .collect();
        (out, valid)
    };
    Column::new(Data::Bool(out), Some(valid))
}

/// A column of `n` copies of one string: one dictionary entry.
pub fn broadcast_str(s: &str, n: usize) -> Data {
    Data::Str(StrVec {
        codes: Codes::zeros(n),
        dict: Arc::new(std::iter::once(s).collect()),
    })
}

/// `x in [strings]` for a string column: each string's code found once
/// ([`code_in`]), then codes compared. `None` unless the list holds only
/// strings.
pub fn in_strings(c: &Column, list: &[kpi_dsl::ir::Value], negated: bool) -> Option<Column> {
    let Data::Str(s) = &c.data else { return None };
    let mut codes: Vec<u32> = list
        .iter()
        .map(|v| match v {
            kpi_dsl::ir::Value::Str(x) => Some(code_in(&s.dict, x)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let out = with_codes!(&s.codes, v => v
        .iter()
        .map(|&k| codes.binary_search(&k.wide()).is_ok() != negated)
        .collect());
    Some(Column::new(Data::Bool(out), c.valid.clone()))
}

/// Durations in minutes, hours or days (`unit` seconds).
pub fn duration_in(c: &Column, unit: f64) -> Option<Column> {
    let Data::Duration(d) = &c.data else {
        return None;
    };
    let k = crate::column::MICROS as f64 * unit;
    Some(Column::new(
        Data::Float(d.iter().map(|x| x / k).collect()),
        c.valid.clone(),
    ))
}

/// `coalesce`, `least` and `greatest` over columns of one numeric type
/// (ints, timestamps, floats or durations): the first non-null value, or
/// the least (greatest) non-null one, as the per-value kernel picks it.
/// `None` for another function or mixed types.
pub fn pick(name: &str, args: &[Column]) -> Option<Column> {
    let way = match name {
        "coalesce" => Pick::First,
        "least" => Pick::Least,
        "greatest" => Pick::Greatest,
        _ => return None,
    };
    let first = args.first()?;
    let n = first.len();
    if args.iter().any(|c| c.len() != n) {
        return None;
    }
    macro_rules! typed {
        ($variant:ident) => {{
            let cols: Vec<(&[_], Option<&[bool]>)> = args
                .iter()
                .map(|c| match &c.data {
                    Data::$variant(v) => Some((v.as_slice(), c.valid.as_deref())),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            let (out, valid) = pick_in(way, &cols, n);
            Some(Column::new(Data::$variant(out), valid))
        }};
    }
    match &first.data {
        Data::Int(_) => typed!(Int),
        Data::Timestamp(_) => typed!(Timestamp),
        Data::Float(_) => typed!(Float),
        Data::Duration(_) => typed!(Duration),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Pick {
    First,
    Least,
    Greatest,
}

/// [`pick`] over typed vectors: arguments in order, nulls skipped; a later
/// value replaces the one kept when it is less (`least`) or not less
/// (`greatest`), as `kernels::call1` compares.
fn pick_in<T: Copy + Default + PartialOrd>(
    way: Pick,
    cols: &[(&[T], Option<&[bool]>)],
    n: usize,
) -> (Vec<T>, Option<Vec<bool>>) {
    let mut out = vec![T::default(); n];
    let mut valid = vec![false; n];
    // Without branches per value: a present value is taken where none is
    // yet, or where it is the better one.
    let step = |o: &mut T, known: &mut bool, x: T, present: bool| {
        let less = x.partial_cmp(o) == Some(std::cmp::Ordering::Less);
        let better = match way {
            Pick::First => false,
            Pick::Least => less,
            Pick::Greatest => !less,
        };
        let take = present & (!*known | better);
        *o = if take { x } else { *o };
        *known |= present;
    };
    for (v, ok) in cols {
        let slots = out.iter_mut().zip(valid.iter_mut()).zip(v.iter());
        match ok {
            None => slots.for_each(|((o, k), &x)| step(o, k, x, true)),
            Some(m) => slots
                .zip(m.iter())
                .for_each(|(((o, k), &x), &p)| step(o, k, x, p)),
        }
    }
    let valid = (!valid.iter().all(|&v| v)).then_some(valid);
    (out, valid)
}

/// The rows of a stored column that a batch reads, one per batch row: the
/// batch's own rows (a column), its neighbours (`prev(x by k)`), its
/// related rows (`ticket.channel`). Kernels read the column at these rows
/// directly, instead of a gathered copy of it.
pub struct At<'r> {
    idx: Idx<'r>,
    /// False where a batch row has no row to read (its value is null);
    /// `None` when every batch row has one.
    present: Option<Vec<bool>>,
}

enum Idx<'r> {
    /// Consecutive rows (a batch of a pass usually is).
    Range(std::ops::Range<usize>),
    /// Any rows; a row that is missing reads row 0 (and is not `present`).
    Rows(std::borrow::Cow<'r, [u32]>),
}

/// Each value of `v` at the rows of `at`, as an iterator `it` in `body`.
macro_rules! each_at {
    ($at:expr, $v:expr, $it:ident => $body:expr) => {
        match &$at.idx {
            Idx::Range(r) => {
                let $it = $v[r.clone()].iter().copied();
                $body
            }
            Idx::Rows(ix) => {
                let $it = ix.iter().map(|&i| $v[i as usize]);
                $body
            }
        }
    };
}

/// The row beside row `r` — before it (`prev`) or after it — where
/// `beside[r]` holds; `u32::MAX` where it does not.
pub(crate) fn row_beside(prev: bool, beside: &[bool], r: u32) -> u32 {
    match (beside[r as usize], prev) {
        (false, _) => u32::MAX,
        (true, true) => r - 1,
        (true, false) => r + 1,
    }
}

impl<'r> At<'r> {
    /// The rows `rows` themselves.
    pub fn rows(rows: &'r [u32]) -> At<'r> {
        let idx = match crate::kernels::contiguous(rows) {
            Some(range) => Idx::Range(range),
            None => Idx::Rows(std::borrow::Cow::Borrowed(rows)),
        };
        At { idx, present: None }
    }

    /// Rows `0..n` (a column already computed for the batch).
    pub fn all(n: usize) -> At<'static> {
        At {
            idx: Idx::Range(0..n),
            present: None,
        }
    }

    /// Rows where `none` marks a batch row without one. Reading them needs
    /// a column with at least one row.
    pub fn optional(mut idx: Vec<u32>, none: u32) -> At<'static> {
        // Loops without early exits or pushes, which the compiler unrolls.
        let missing = idx.iter().fold(false, |m, &i| m | (i == none));
        let present = missing.then(|| {
            let present: Vec<bool> = idx.iter().map(|&i| i != none).collect();
            for (i, &ok) in idx.iter_mut().zip(&present) {
                *i = if ok { *i } else { 0 };
            }
            present
        });
        At {
            idx: Idx::Rows(std::borrow::Cow::Owned(idx)),
            present,
        }
    }

    /// The rows `source` gives the batch rows `rows` (a window's
    /// neighbours), where `none` marks a batch row without one. Read as the
    /// contiguous rows before them when `rows` are contiguous and each
    /// reads the row before it or none (`prev(x by ticket_id)` over
    /// messages in ticket-then-time order); as [`At::optional`] otherwise.
    pub fn neighbours(source: &[u32], rows: &[u32], none: u32) -> At<'static> {
        if let Some(r) = crate::kernels::contiguous(rows).filter(|r| r.start > 0) {
            let s = &source[r.clone()];
            // Loops without early exits, which the compiler vectorizes.
            let before = s
                .iter()
                .zip(r.start as u32 - 1..)
                .fold(true, |ok, (&n, p)| ok & ((n == p) | (n == none)));
            if before {
                let missing = s.iter().fold(false, |m, &n| m | (n == none));
                return At {
                    idx: Idx::Range(r.start - 1..r.end - 1),
                    present: missing.then(|| s.iter().map(|&n| n != none).collect()),
                };
            }
        }
        At::optional(rows.iter().map(|&r| source[r as usize]).collect(), none)
    }

    /// The rows beside the batch rows `rows` — the row before each
    /// (`prev`) or after it — where `beside` holds, none elsewhere (a
    /// window over rows grouped by key: `prev(x by ticket_id)` over
    /// messages in ticket-then-time order). Contiguous rows are read as the
    /// range beside them.
    pub fn beside(prev: bool, beside: &[bool], rows: &[u32]) -> At<'static> {
        if let Some(r) = crate::kernels::contiguous(rows) {
            let shifted = match prev {
                true => r.start.checked_sub(1).map(|s| s..r.end - 1),
                false => (r.end < beside.len()).then(|| r.start + 1..r.end + 1),
            };
            if let Some(range) = shifted {
                let b = &beside[r];
                let every = b.iter().fold(true, |all, &x| all & x);
                return At {
                    idx: Idx::Range(range),
                    present: (!every).then(|| b.to_vec()),
                };
            }
        }
        let idx = rows.iter().map(|&r| row_beside(prev, beside, r)).collect();
        At::optional(idx, u32::MAX)
    }

    pub fn len(&self) -> usize {
        match &self.idx {
            Idx::Range(r) => r.len(),
            Idx::Rows(ix) => ix.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn map<T: Copy, U>(&self, v: &[T], f: impl Fn(T) -> U) -> Vec<U> {
        each_at!(self, v, it => it.map(f).collect())
    }

    /// Validity of `c` read at these rows: valid where there is a row and
    /// its value is valid.
    fn valid(&self, c: &Column) -> Option<Vec<bool>> {
        match (&self.present, &c.valid) {
            (None, None) => None,
            (Some(p), None) => Some(p.clone()),
            (None, Some(v)) => Some(self.map(v, |b| b)),
            (Some(p), Some(v)) => {
                Some(each_at!(self, v, it => it.zip(p).map(|(b, &ok)| b & ok).collect()))
            }
        }
    }
}

/// `c` read at the rows of `at` (a gather; null where there is no row).
/// `c` holds a row unless `at` is empty.
pub fn read(c: &Column, at: &At<'_>) -> Column {
    use std::convert::identity as copy;
    let data = match &c.data {
        Data::Int(v) => Data::Int(at.map(v, copy)),
        Data::Float(v) => Data::Float(at.map(v, copy)),
        Data::Bool(v) => Data::Bool(at.map(v, copy)),
        Data::Timestamp(v) => Data::Timestamp(at.map(v, copy)),
        Data::Duration(v) => Data::Duration(at.map(v, copy)),
        Data::Str(s) => Data::Str(StrVec {
            codes: match &s.codes {
                Codes::U8(v) => Codes::U8(at.map(v, copy)),
                Codes::U16(v) => Codes::U16(at.map(v, copy)),
                Codes::U32(v) => Codes::U32(at.map(v, copy)),
            },
            dict: s.dict.clone(),
        }),
    };
    Column::new(data, at.valid(c))
}

/// `table` (a value per code of the string column `keys`) read through
/// the codes of `keys` at the rows of `at`: null where the key is, or the
/// table's value. `None` unless `keys` holds strings.
pub fn read_by_code(table: &Column, keys: &Column, at: &At<'_>) -> Option<Column> {
    let Data::Str(s) = &keys.data else {
        return None;
    };
    if table.is_empty() && !at.is_empty() {
        return None;
    }
    let codes: Vec<u32> = with_codes!(&s.codes, v => at.map(v, |k| k.wide()));
    let by_code = At {
        idx: Idx::Rows(std::borrow::Cow::Owned(codes)),
        present: at.valid(keys),
    };
    Some(read(table, &by_code))
}

/// `v op k` at the rows of `at`, for the ordering `f` gives of a value and `k`.
fn cmp_at<T: Copy>(
    op: BinOp,
    at: &At<'_>,
    v: &[T],
    f: impl Fn(T) -> std::cmp::Ordering,
) -> Vec<bool> {
    use std::cmp::Ordering::*;
    match op {
        BinOp::Eq => at.map(v, |x| f(x) == Equal),
        BinOp::Ne => at.map(v, |x| f(x) != Equal),
        BinOp::Lt => at.map(v, |x| f(x) == Less),
        BinOp::Le => at.map(v, |x| f(x) != Greater),
        BinOp::Gt => at.map(v, |x| f(x) == Greater),
        _ => at.map(v, |x| f(x) != Less),
    }
}

/// `c op k` for a comparison `op`, `c` read at the rows of `at` and `k` a
/// constant that is not null (`contacts >= 3`, `role == "agent"` from the
/// column's codes, `x > params.limit`); `None` for the shapes not covered.
/// Equal to gathering `c` and comparing it with a broadcast `k`.
pub fn compare_const(op: BinOp, c: &Column, at: &At<'_>, k: &V<'_>) -> Option<Column> {
    if !op.is_comparison() || (c.is_empty() && !at.is_empty()) {
        return None;
    }
    let out = match (&c.data, *k) {
        (Data::Int(v), V::I(y)) => cmp_at(op, at, v, |x| x.cmp(&y)),
        (Data::Int(v), V::F(y)) if y.is_finite() => cmp_at(op, at, v, |x| float_cmp(x as f64, y)),
        (Data::Float(v), V::F(y)) if y.is_finite() => cmp_at(op, at, v, |x| float_cmp(x, y)),
        (Data::Float(v), V::I(y)) => {
            let y = y as f64;
            cmp_at(op, at, v, |x| float_cmp(x, y))
        }
        (Data::Duration(v), V::D(y)) if y.is_finite() => cmp_at(op, at, v, |x| float_cmp(x, y)),
        (Data::Timestamp(v), V::T(y)) => cmp_at(op, at, v, |x| x.cmp(&y)),
        (Data::Bool(v), V::B(y)) => cmp_at(op, at, v, |x| x.cmp(&y)),
        (Data::Str(s), V::S(y)) if matches!(op, BinOp::Eq | BinOp::Ne) => {
            let code = code_in(&s.dict, y).unwrap_or(u32::MAX);
            let eq = op == BinOp::Eq;
            with_codes!(&s.codes, v => at.map(v, |x| (x.wide() == code) == eq))
        }
        _ => return None,
    };
    Some(Column::new(Data::Bool(out), at.valid(c)))
}

/// `a - b` for two timestamp columns read at rows (`created_at -
/// prev(created_at by ticket_id)`): durations, null where either is.
/// `None` for other types, and when a difference overflows (the caller's
/// general kernel then reports it, or not, as a null decides).
pub fn sub_timestamps(a: &Column, at_a: &At<'_>, b: &Column, at_b: &At<'_>) -> Option<Column> {
    let (Data::Timestamp(x), Data::Timestamp(y)) = (&a.data, &b.data) else {
        return None;
    };
    if at_a.len() != at_b.len() || ((a.is_empty() || b.is_empty()) && !at_a.is_empty()) {
        return None;
    }
    // Two loops without early exits or captured state, which the
    // compiler vectorizes: whether a difference overflows, then the
    // differences.
    let overflowed = each_at!(at_a, x, p => each_at!(at_b, y, q => p
        .zip(q)
        .fold(false, |o, (s, t)| o | s.overflowing_sub(t).1)));
    if overflowed {
        return None;
    }
    let out: Vec<f64> = each_at!(at_a, x, p => each_at!(at_b, y, q => p
        .zip(q)
        .map(|(s, t)| s.wrapping_sub(t) as f64)
        .collect()));
    let valid = match (at_a.valid(a), at_b.valid(b)) {
        (None, None) => None,
        (Some(v), None) | (None, Some(v)) => Some(v),
        (Some(mut v), Some(w)) => {
            v.iter_mut().zip(&w).for_each(|(p, q)| *p &= *q);
            Some(v)
        }
    };
    Some(Column::new(Data::Duration(out), valid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::StrBuilder;
    use crate::kernels::{get, scalar_binary, Builder};
    use kpi_dsl::Type;
    use proptest::prelude::*;

    /// A column of type `ty` from small seeds (`None` is null); zeros and
    /// repeats are common so that division by zero and equality happen.
    /// Strings are coded in one, two or four bytes by `width` (0, 1, 2).
    fn column(ty: &Type, seeds: &[Option<i8>], dict_offset: u8, width: u8) -> Column {
        let mut valid = Vec::new();
        let data = match ty {
            Type::Int => Data::Int(seeds.iter().map(|s| s.unwrap_or(0) as i64 % 4).collect()),
            Type::Float => Data::Float(seeds.iter().map(|s| s.unwrap_or(0) as f64 / 4.0).collect()),
            Type::Duration => Data::Duration(
                seeds
                    .iter()
                    .map(|s| (s.unwrap_or(0) as f64 % 5.0) * 1e6)
                    .collect(),
            ),
            Type::Timestamp => Data::Timestamp(
                seeds
                    .iter()
                    .map(|s| 1_700_000_000_000_000 + (s.unwrap_or(0) as i64 % 3) * 1_000_000)
                    .collect(),
            ),
            Type::Bool => Data::Bool(seeds.iter().map(|s| s.unwrap_or(0) % 2 == 0).collect()),
            _ => {
                // A different dictionary order per `dict_offset`: strings
                // that only the prefix uses come first.
                let mut b = StrBuilder::with_capacity(seeds.len());
                for k in 0..dict_offset {
                    b.push(&format!("s{}", 2 - k));
                }
                for seed in seeds {
                    b.push(&format!("s{}", seed.unwrap_or(0).rem_euclid(3)));
                }
                let mut s = b.finish();
                let rest: Vec<u32> = s.codes.iter().skip(dict_offset as usize).collect();
                s.codes = match width {
                    0 => Codes::U8(rest.iter().map(|&c| c as u8).collect()),
                    1 => Codes::U16(rest.iter().map(|&c| c as u16).collect()),
                    _ => Codes::U32(rest),
                };
                Data::Str(s)
            }
        };
        for s in seeds {
            valid.push(s.is_some());
        }
        Column::new(data, Some(valid))
    }

    #[test]
    fn literal_codes_are_remembered_per_dictionary() {
        for round in 0..50 {
            // A new dictionary each round, often where a freed one was.
            let strs: Vec<String> = (0..3).map(|i| format!("s{}", (i + round) % 5)).collect();
            let d: Arc<Dict> = Arc::new(strs.iter().map(|s| s.as_str()).collect());
            for probe in ["s0", "s1", "s2", "s3", "s4"] {
                let want = strs.iter().position(|s| s == probe).map(|p| p as u32);
                assert_eq!(code_in(&d, probe), want, "round {round}");
                assert_eq!(code_in(&d, probe), want, "round {round}, remembered");
            }
        }
    }

    #[test]
    fn an_overflowing_difference_is_left_to_the_general_kernel() {
        let ts = |v: Vec<i64>| Column::new(Data::Timestamp(v), None);
        let (a, b) = (ts(vec![0, i64::MIN]), ts(vec![0, 1]));
        assert!(sub_timestamps(&a, &At::all(2), &b, &At::all(2)).is_none());
        let fine = sub_timestamps(&a, &At::all(1), &b, &At::all(1)).unwrap();
        assert!(matches!(&fine.data, Data::Duration(d) if d == &[0.0]));
    }

    #[test]
    fn in_strings_is_membership_by_text() {
        let mut b = StrBuilder::default();
        for s in ["a", "b", "c", "a", "d"] {
            b.push(s);
        }
        let c = Column::new(
            Data::Str(b.finish()),
            Some(vec![true, true, true, true, false]),
        );
        let list: Vec<kpi_dsl::ir::Value> = ["c", "a", "zz", "a"]
            .iter()
            .map(|s| kpi_dsl::ir::Value::Str(s.to_string()))
            .collect();
        for negated in [false, true] {
            let got = in_strings(&c, &list, negated).unwrap();
            let Data::Bool(v) = &got.data else { panic!() };
            let want = [true, false, true, true];
            assert_eq!(v[..4], want.map(|w| w != negated));
            assert_eq!(got.valid, c.valid, "a null stays null");
        }
        let mixed = [kpi_dsl::ir::Value::Int(1)];
        assert!(in_strings(&c, &mixed, false).is_none());
    }

    fn reference(op: BinOp, l: &Column, r: &Column, ty: &Type) -> Result<Vec<String>, String> {
        let mut b = Builder::new(ty, l.len());
        for i in 0..l.len() {
            b.push(scalar_binary(op, get(l, i), get(r, i))?)?;
        }
        let c = b.finish();
        Ok((0..c.len()).map(|i| format!("{:?}", get(&c, i))).collect())
    }

    fn types() -> Vec<Type> {
        vec![
            Type::Int,
            Type::Float,
            Type::Duration,
            Type::Timestamp,
            Type::Bool,
            Type::String,
        ]
    }

    /// Reading a column of each type, with nulls and without, at `at`
    /// equals gathering it at `idx` (`u32::MAX`: no row).
    fn reads_equal_gathers(
        at: &At<'_>,
        seeds: &[Option<i8>],
        idx: &[u32],
    ) -> Result<(), TestCaseError> {
        use crate::kernels::gather_opt;
        let show = |c: &Column| {
            (0..c.len())
                .map(|i| format!("{:?}", get(c, i)))
                .collect::<Vec<_>>()
        };
        for ty in types() {
            let mut c = column(&ty, seeds, 0, 0);
            prop_assert_eq!(show(&read(&c, at)), show(&gather_opt(&c, idx)), "{}", ty);
            c.valid = None;
            prop_assert_eq!(
                show(&read(&c, at)),
                show(&gather_opt(&c, idx)),
                "{} valid",
                ty
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// `coalesce`, `least` and `greatest` picked over typed vectors
        /// equal the per-value kernel, for each numeric type and one to
        /// three arguments (nulls and ties common).
        #[test]
        fn pick_equals_reference(
            seeds in proptest::collection::vec(
                (any::<Option<i8>>(), any::<Option<i8>>(), any::<Option<i8>>()), 0..40),
            arity in 1usize..4,
        ) {
            let cols: [Vec<Option<i8>>; 3] = [
                seeds.iter().map(|s| s.0).collect(),
                seeds.iter().map(|s| s.1).collect(),
                seeds.iter().map(|s| s.2).collect(),
            ];
            for ty in [Type::Int, Type::Float, Type::Duration, Type::Timestamp] {
                let args: Vec<Column> = cols[..arity].iter().map(|s| column(&ty, s, 0, 0)).collect();
                for name in ["coalesce", "least", "greatest"] {
                    let fast = pick(name, &args).expect("a numeric shape");
                    let mut b = Builder::new(&ty, seeds.len());
                    for i in 0..seeds.len() {
                        let vals: Vec<_> = args.iter().map(|c| get(c, i)).collect();
                        b.push(crate::kernels::call1(name, &vals, chrono_tz::UTC).unwrap()).unwrap();
                    }
                    let slow = b.finish();
                    let show = |c: &Column| (0..c.len()).map(|i| format!("{:?}", get(c, i))).collect::<Vec<_>>();
                    prop_assert_eq!(show(&fast), show(&slow), "{} {}", name, ty);
                }
            }
        }

        /// Reading a column at rows (the batch's own, contiguous or not,
        /// or with missing ones) equals gathering it, and comparing it
        /// there with a constant, or subtracting two timestamp columns
        /// there, equals the per-value kernel over the gathered columns.
        #[test]
        fn reading_at_rows_equals_gathering(
            seeds in proptest::collection::vec((any::<Option<i8>>(), any::<Option<i8>>()), 1..30),
            picks in proptest::collection::vec(prop::option::of(0usize..64), 0..30),
            konst in any::<i8>(),
            width in 0u8..3,
            shape in 0u8..3,
        ) {
            use crate::kernels::gather_opt;
            let n = seeds.len();
            let (ls, rs): (Vec<_>, Vec<_>) = seeds.into_iter().unzip();
            // Rows: a contiguous range, any rows, or rows with missing ones.
            let rows: Vec<u32> = match shape {
                0 => (0..n.min(picks.len()) as u32).collect(),
                _ => picks
                    .iter()
                    .map(|p| match p {
                        Some(p) => (p % n) as u32,
                        None if shape == 2 => u32::MAX,
                        None => 0,
                    })
                    .collect(),
            };
            let at = match shape {
                2 => At::optional(rows.clone(), u32::MAX),
                _ => At::rows(&rows),
            };
            let show = |c: &Column| (0..c.len()).map(|i| format!("{:?}", get(c, i))).collect::<Vec<_>>();
            for ty in types() {
                let c = column(&ty, &ls, 0, width);
                let gathered = gather_opt(&c, &rows);
                prop_assert_eq!(show(&read(&c, &at)), show(&gathered), "read {}", ty);
                let k = column(&ty, &[Some(konst)], 1, 0);
                let kv = get(&k, 0);
                for op in BinOp::ALL.into_iter().filter(|op| op.is_comparison()) {
                    let Some(fast) = compare_const(op, &c, &at, &kv) else { continue };
                    let want: Vec<String> = (0..rows.len())
                        .map(|i| format!("{:?}", scalar_binary(op, get(&gathered, i), kv).unwrap()))
                        .collect();
                    prop_assert_eq!(show(&fast), want, "{:?} {}", op, ty);
                }
            }
            let (a, b) = (column(&Type::Timestamp, &ls, 0, 0), column(&Type::Timestamp, &rs, 0, 0));
            let other = At::optional(rows.iter().rev().copied().collect(), u32::MAX);
            let fast = sub_timestamps(&a, &at, &b, &other).expect("no overflow");
            let reversed: Vec<u32> = rows.iter().rev().copied().collect();
            let want = crate::kernels::binary(
                BinOp::Sub,
                &gather_opt(&a, &rows),
                &gather_opt(&b, &reversed),
                &Type::Duration,
            ).unwrap();
            prop_assert_eq!(show(&fast), show(&want));
        }

        /// Reading a column at a window's neighbours equals gathering it
        /// there, whether they are the rows before the batch's (read as a
        /// range) or not.
        #[test]
        fn reading_at_neighbours_equals_gathering(
            seeds in proptest::collection::vec(any::<Option<i8>>(), 1..30),
            links in proptest::collection::vec(0u8..8, 30),
            (from, len) in (0usize..30, 0usize..30),
            scattered in any::<bool>(),
        ) {
            use crate::kernels::gather_opt;
            let n = seeds.len();
            // Mostly the row before, sometimes none, rarely another row.
            let source: Vec<u32> = (0..n)
                .map(|r| match links[r] {
                    0 | 1 => u32::MAX,
                    2 => (r * 7 % n) as u32,
                    _ if r == 0 => u32::MAX,
                    _ => r as u32 - 1,
                })
                .collect();
            let from = from % n;
            let mut rows: Vec<u32> = (from..(from + len).min(n)).map(|r| r as u32).collect();
            if scattered {
                rows.reverse();
            }
            let idx: Vec<u32> = rows.iter().map(|&r| source[r as usize]).collect();
            let at = At::neighbours(&source, &rows, u32::MAX);
            reads_equal_gathers(&at, &seeds, &idx)?;
            let show = |c: &Column| (0..c.len()).map(|i| format!("{:?}", get(c, i))).collect::<Vec<_>>();
            let (a, b) = (column(&Type::Timestamp, &seeds, 0, 0), column(&Type::Timestamp, &seeds, 1, 0));
            let fast = sub_timestamps(&a, &At::rows(&rows), &b, &at).expect("no overflow");
            let want = crate::kernels::binary(
                BinOp::Sub,
                &gather_opt(&a, &rows),
                &gather_opt(&b, &idx),
                &Type::Duration,
            ).unwrap();
            prop_assert_eq!(show(&fast), show(&want));
        }

        /// Reading at the rows beside a batch's equals gathering there,
        /// from ranges at either end of the table and from scattered rows.
        #[test]
        fn reading_beside_equals_gathering(
            seeds in proptest::collection::vec(any::<Option<i8>>(), 1..30),
            links in proptest::collection::vec(any::<bool>(), 30),
            (from, len) in (0usize..30, 0usize..30),
            scattered in any::<bool>(),
            prev in any::<bool>(),
        ) {
            let n = seeds.len();
            // No row before the first, or after the last.
            let beside: Vec<bool> = (0..n)
                .map(|r| links[r] && if prev { r > 0 } else { r + 1 < n })
                .collect();
            let from = from % n;
            let mut rows: Vec<u32> = (from..(from + len).min(n)).map(|r| r as u32).collect();
            if scattered {
                rows.reverse();
            }
            // Restated from the definition, not through `row_beside`.
            let idx: Vec<u32> = rows
                .iter()
                .map(|&r| match (beside[r as usize], prev) {
                    (false, _) => u32::MAX,
                    (true, true) => r - 1,
                    (true, false) => r + 1,
                })
                .collect();
            reads_equal_gathers(&At::beside(prev, &beside, &rows), &seeds, &idx)?;
        }

        #[test]
        fn fast_equals_reference(
            seeds in proptest::collection::vec((any::<Option<i8>>(), any::<Option<i8>>()), 0..40),
            off in 0u8..3,
            (lw, rw) in (0u8..3, 0u8..3),
        ) {
            let (ls, rs): (Vec<_>, Vec<_>) = seeds.into_iter().unzip();
            for lt in types() {
                for rt in types() {
                    let (l, r) = (column(&lt, &ls, 0, lw), column(&rt, &rs, off, rw));
                    for op in BinOp::ALL {
                        let Ok(ty) = kpi_dsl::check::binary_type(op, &lt, &rt) else { continue };
                        let Some(fast) = binary(op, &l, &r) else { continue };
                        let fast = fast.map(|c| (0..c.len()).map(|i| format!("{:?}", get(&c, i))).collect::<Vec<_>>());
                        let slow = reference(op, &l, &r, &ty);
                        match (&fast, &slow) {
                            (Ok(f), Ok(s)) => prop_assert_eq!(f, s, "{:?} {} {}", op, lt, rt),
                            (Err(_), Err(_)) => {}
                            _ => prop_assert!(false, "{:?} {} {}: {:?} vs {:?}", op, lt, rt, fast, slow),
                        }
                    }
                }
            }
        }
    }
}
