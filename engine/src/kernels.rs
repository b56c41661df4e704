//! Vector kernels: operators and row functions applied to whole columns.
//! Every kernel follows the language's null rules (null in, null out; a
//! zero denominator gives null) and returns the type that
//! `kpi_dsl::check::binary_type` planned.

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use kpi_dsl::ast::BinOp;
use kpi_dsl::ir::Value;
use kpi_dsl::Type;

use crate::column::{Codes, Column, Data, StrBuilder, MICROS};

/// One value read out of a column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum V<'a> {
    Null,
    I(i64),
    F(f64),
    B(bool),
    S(&'a str),
    T(i64),
    /// Microseconds.
    D(f64),
}

impl V<'_> {
    fn num(self) -> Option<f64> {
        match self {
            V::I(i) => Some(i as f64),
            V::F(f) => Some(f),
            _ => None,
        }
    }
}

#[inline]
pub fn get(c: &Column, i: usize) -> V<'_> {
    if !c.is_valid(i) {
        return V::Null;
    }
    match &c.data {
        Data::Int(v) => V::I(v[i]),
        Data::Float(v) => V::F(v[i]),
        Data::Bool(v) => V::B(v[i]),
        Data::Str(s) => V::S(s.get(i)),
        Data::Timestamp(v) => V::T(v[i]),
        Data::Duration(v) => V::D(v[i]),
    }
}

/// Builds a column of a planned type from values.
pub struct Builder {
    data: Data,
    strings: Option<StrBuilder>,
    valid: Vec<bool>,
}

impl Builder {
    pub fn new(ty: &Type, n: usize) -> Builder {
        let (data, strings) = match ty {
            Type::Float => (Data::Float(Vec::with_capacity(n)), None),
            Type::Bool => (Data::Bool(Vec::with_capacity(n)), None),
            Type::String => (
                Data::Str(Default::default()),
                Some(StrBuilder::with_capacity(n)),
            ),
            Type::Timestamp => (Data::Timestamp(Vec::with_capacity(n)), None),
            Type::Duration => (Data::Duration(Vec::with_capacity(n)), None),
            // Int, and the type of a bare `null`, which holds no values.
            _ => (Data::Int(Vec::with_capacity(n)), None),
        };
        Builder {
            data,
            strings,
            valid: Vec::with_capacity(n),
        }
    }

    pub fn push(&mut self, v: V<'_>) -> Result<(), String> {
        let ok = !matches!(v, V::Null);
        match (&mut self.data, v) {
            (Data::Int(d), V::I(x)) => d.push(x),
            (Data::Float(d), V::F(x)) => {
                if !x.is_finite() {
                    return Err("numeric overflow: a result is not a finite number".into());
                }
                d.push(x)
            }
            (Data::Float(d), V::I(x)) => d.push(x as f64),
            (Data::Bool(d), V::B(x)) => d.push(x),
            (Data::Timestamp(d), V::T(x)) => d.push(x),
            (Data::Duration(d), V::D(x)) => {
                if !x.is_finite() {
                    return Err("duration overflow".into());
                }
                d.push(x)
            }
            (Data::Str(_), V::S(s)) => self.strings.as_mut().expect("string builder").push(s),
            (Data::Str(_), V::Null) => self.strings.as_mut().expect("string builder").push(""),
            (Data::Int(d) | Data::Timestamp(d), V::Null) => d.push(0),
            (Data::Float(d) | Data::Duration(d), V::Null) => d.push(0.0),
            (Data::Bool(d), V::Null) => d.push(false),
            (data, v) => {
                return Err(format!(
                    "internal: value {v:?} does not fit a {} column",
                    data.ty()
                ))
            }
        }
        self.valid.push(ok);
        Ok(())
    }

    pub fn finish(self) -> Column {
        let data = match self.strings {
            Some(b) => Data::Str(b.finish()),
            None => self.data,
        };
        Column::new(data, Some(self.valid))
    }
}

/// A column of `n` copies of a constant.
pub fn broadcast(v: &Value, ty: &Type, n: usize) -> Column {
    let valid = if matches!(v, Value::Null) {
        Some(vec![false; n])
    } else {
        None
    };
    let data = match (v, ty) {
        (Value::Int(i), Type::Float) => Data::Float(vec![*i as f64; n]),
        (Value::Int(i), _) => Data::Int(vec![*i; n]),
        (Value::Float(f), _) => Data::Float(vec![*f; n]),
        (Value::Bool(b), _) => Data::Bool(vec![*b; n]),
        (Value::Str(s), _) => crate::fast::broadcast_str(s, n),
        (Value::Duration(d), _) => Data::Duration(vec![*d as f64; n]),
        (Value::Null, t) => return Builder::new(t, 0).finish_nulls(n),
    };
    Column::new(data, valid)
}

impl Builder {
    fn finish_nulls(mut self, n: usize) -> Column {
        for _ in 0..n {
            let _ = self.push(V::Null);
        }
        self.finish()
    }
}

pub fn map1(
    c: &Column,
    ty: &Type,
    f: impl Fn(V<'_>) -> Result<V<'_>, String>,
) -> Result<Column, String> {
    let mut b = Builder::new(ty, c.len());
    for i in 0..c.len() {
        b.push(f(get(c, i))?)?;
    }
    Ok(b.finish())
}

/// `l op r`, element by element.
pub fn binary(op: BinOp, l: &Column, r: &Column, ty: &Type) -> Result<Column, String> {
    if let Some(out) = crate::fast::binary(op, l, r) {
        return out;
    }
    let n = l.len();
    let mut b = Builder::new(ty, n);
    for i in 0..n {
        b.push(scalar_binary(op, get(l, i), get(r, i))?)?;
    }
    Ok(b.finish())
}

fn overflow() -> String {
    "integer overflow".to_string()
}

/// One binary operation on two values (three-valued logic for and/or).
pub fn scalar_binary<'a>(op: BinOp, a: V<'a>, b: V<'a>) -> Result<V<'a>, String> {
    use V::*;
    match op {
        BinOp::And => {
            return Ok(match (a, b) {
                (B(false), _) | (_, B(false)) => B(false),
                (B(true), B(true)) => B(true),
                _ => Null,
            })
        }
        BinOp::Or => {
            return Ok(match (a, b) {
                (B(true), _) | (_, B(true)) => B(true),
                (B(false), B(false)) => B(false),
                _ => Null,
            })
        }
        _ => {}
    }
    if matches!(a, Null) || matches!(b, Null) {
        return Ok(Null);
    }
    if op.is_comparison() {
        let ord = match (a, b) {
            (I(x), I(y)) | (T(x), T(y)) => x.partial_cmp(&y),
            (D(x), D(y)) => x.partial_cmp(&y),
            (S(x), S(y)) => x.partial_cmp(y),
            (B(x), B(y)) => x.partial_cmp(&y),
            (x, y) => match (x.num(), y.num()) {
                (Some(p), Some(q)) => p.partial_cmp(&q),
                _ => return Err(format!("internal: cannot compare {x:?} and {y:?}")),
            },
        };
        let Some(ord) = ord else { return Ok(Null) };
        use std::cmp::Ordering::*;
        let t = match op {
            BinOp::Eq => ord == Equal,
            BinOp::Ne => ord != Equal,
            BinOp::Lt => ord == Less,
            BinOp::Le => ord != Greater,
            BinOp::Gt => ord == Greater,
            _ => ord != Less,
        };
        return Ok(B(t));
    }
    Ok(match (op, a, b) {
        (BinOp::Add, I(x), I(y)) => I(x.checked_add(y).ok_or_else(overflow)?),
        (BinOp::Sub, I(x), I(y)) => I(x.checked_sub(y).ok_or_else(overflow)?),
        (BinOp::Mul, I(x), I(y)) => I(x.checked_mul(y).ok_or_else(overflow)?),
        // A timestamp moves by whole microseconds.
        (BinOp::Add, T(t), D(d)) | (BinOp::Add, D(d), T(t)) => {
            T(t.checked_add(float_to_micros(d)?).ok_or_else(overflow)?)
        }
        (BinOp::Sub, T(t), D(d)) => T(t.checked_sub(float_to_micros(d)?).ok_or_else(overflow)?),
        (BinOp::Sub, T(x), T(y)) => D(x.checked_sub(y).ok_or_else(overflow)? as f64),
        (BinOp::Add, D(x), D(y)) => D(x + y),
        (BinOp::Sub, D(x), D(y)) => D(x - y),
        (BinOp::Mul, D(d), k) | (BinOp::Mul, k, D(d)) => match k.num() {
            Some(k) => D(d * k),
            None => return Err(format!("internal: cannot multiply a duration by {k:?}")),
        },
        (BinOp::Div, D(x), D(y)) => {
            if y == 0.0 {
                Null
            } else {
                F(x / y)
            }
        }
        (BinOp::Div, D(d), k) => match k.num() {
            Some(k) if k != 0.0 => D(d / k),
            _ => Null,
        },
        (BinOp::Div, x, y) => match (x.num(), y.num()) {
            (Some(_), Some(0.0)) => Null,
            (Some(p), Some(q)) => F(p / q),
            _ => return Err(format!("internal: cannot divide {x:?} by {y:?}")),
        },
        (op, x, y) => match (x.num(), y.num()) {
            (Some(p), Some(q)) => F(match op {
                BinOp::Add => p + q,
                BinOp::Sub => p - q,
                _ => p * q,
            }),
            _ => {
                return Err(format!(
                    "internal: cannot apply {} to {x:?} and {y:?}",
                    op.symbol()
                ))
            }
        },
    })
}

fn float_to_micros(x: f64) -> Result<i64, String> {
    if x.is_finite() && x.abs() < 9.0e18 {
        Ok(x.round() as i64)
    } else {
        Err("duration overflow".into())
    }
}

pub fn neg(c: &Column) -> Result<Column, String> {
    let ty = c.ty();
    map1(c, &ty, |v| {
        Ok(match v {
            V::I(x) => V::I(x.checked_neg().ok_or_else(overflow)?),
            V::F(x) => V::F(-x),
            V::D(x) => V::D(-x),
            other => other,
        })
    })
}

pub fn not(c: &Column) -> Result<Column, String> {
    map1(c, &Type::Bool, |v| {
        Ok(if let V::B(b) = v { V::B(!b) } else { V::Null })
    })
}

pub fn is_null(c: &Column, negated: bool) -> Column {
    let v: Vec<bool> = (0..c.len()).map(|i| c.is_valid(i) == negated).collect();
    Column::new(Data::Bool(v), None)
}

fn value_v(v: &Value) -> V<'_> {
    match v {
        Value::Null => V::Null,
        Value::Int(i) => V::I(*i),
        Value::Float(f) => V::F(*f),
        Value::Bool(b) => V::B(*b),
        Value::Str(s) => V::S(s),
        Value::Duration(d) => V::D(*d as f64),
    }
}

/// `x in [..]`: true if equal to an item, null if x is null (or no match and
/// the list holds a null), false otherwise.
pub fn in_list(c: &Column, list: &[Value], negated: bool) -> Result<Column, String> {
    if let Some(out) = crate::fast::in_strings(c, list, negated) {
        return Ok(out);
    }
    let items: Vec<V<'_>> = list.iter().map(value_v).collect();
    let has_null = items.contains(&V::Null);
    map1(c, &Type::Bool, |v| {
        if v == V::Null {
            return Ok(V::Null);
        }
        for it in &items {
            if scalar_binary(BinOp::Eq, v, *it)? == V::B(true) {
                return Ok(V::B(!negated));
            }
        }
        Ok(if has_null { V::Null } else { V::B(negated) })
    })
}

/// `if c1 then v1 elif ... else o end`: the first branch whose condition is true.
pub fn choose(
    branches: &[(Column, Column)],
    otherwise: &Column,
    ty: &Type,
) -> Result<Column, String> {
    let n = otherwise.len();
    let mut b = Builder::new(ty, n);
    for i in 0..n {
        let v = branches
            .iter()
            .find(|(c, _)| get(c, i) == V::B(true))
            .map(|(_, v)| get(v, i))
            .unwrap_or_else(|| get(otherwise, i));
        b.push(v)?;
    }
    Ok(b.finish())
}

/// A row function from `kpi_dsl::functions::FUNCTIONS`, by name.
pub fn call(name: &str, args: &[Column], ty: &Type, tz: Tz, n: usize) -> Result<Column, String> {
    let unit = match name {
        "minutes" => Some(60.0),
        "hours" => Some(3600.0),
        "days" => Some(86400.0),
        _ => None,
    };
    if let Some(out) = unit.and_then(|u| crate::fast::duration_in(&args[0], u)) {
        return Ok(out);
    }
    if let Some(out) = crate::fast::pick(name, args) {
        return Ok(out);
    }
    let mut b = Builder::new(ty, n);
    let mut vals: Vec<V<'_>> = Vec::with_capacity(args.len());
    for i in 0..n {
        vals.clear();
        vals.extend(args.iter().map(|c| get(c, i)));
        b.push(call1(name, &vals, tz)?)?;
    }
    Ok(b.finish())
}

pub(crate) fn call1<'a>(name: &str, a: &[V<'a>], tz: Tz) -> Result<V<'a>, String> {
    let local = |t: i64| tz.timestamp_micros(t).single();
    Ok(match name {
        "coalesce" => a.iter().copied().find(|v| *v != V::Null).unwrap_or(V::Null),
        "least" | "greatest" => {
            let mut best: Option<V<'a>> = None;
            for v in a.iter().copied().filter(|v| *v != V::Null) {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let less = scalar_binary(BinOp::Lt, v, b)? == V::B(true);
                        if less == (name == "least") {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            best.unwrap_or(V::Null)
        }
        "abs" => match a[0] {
            V::I(x) => V::I(x.checked_abs().ok_or_else(overflow)?),
            V::F(x) => V::F(x.abs()),
            V::D(x) => V::D(x.abs()),
            v => v,
        },
        "round" => match (a[0].num(), a[1]) {
            (Some(x), V::I(places)) => {
                let places = places.clamp(-15, 15) as i32;
                let m = 10f64.powi(places);
                let scaled = x * m;
                // A number too large to scale has no digits at that place.
                V::F(if scaled.is_finite() {
                    scaled.round() / m
                } else {
                    x
                })
            }
            _ => V::Null,
        },
        "minutes" | "hours" | "days" => match a[0] {
            V::D(d) => {
                let unit = match name {
                    "minutes" => 60.0,
                    "hours" => 3600.0,
                    _ => 86400.0,
                };
                V::F(d / MICROS as f64 / unit)
            }
            _ => V::Null,
        },
        "weekday" => match a[0] {
            V::T(t) => local(t).map_or(V::Null, |d| V::I(d.weekday().number_from_monday() as i64)),
            _ => V::Null,
        },
        "hour" => match a[0] {
            V::T(t) => local(t).map_or(V::Null, |d| V::I(d.hour() as i64)),
            _ => V::Null,
        },
        "add_months" => match (a[0], a[1]) {
            (V::T(t), V::I(n)) => {
                let moved = local(t).and_then(|d| {
                    let n = i32::try_from(n).ok()?;
                    let months = chrono::Months::new(n.unsigned_abs());
                    let naive = d.naive_local();
                    if n >= 0 {
                        naive.checked_add_months(months)
                    } else {
                        naive.checked_sub_months(months)
                    }
                });
                match moved.and_then(|m| crate::time::resolve_local(m, tz)) {
                    Some(x) => V::T(x),
                    None => {
                        return Err(format!(
                            "add_months: {n} months from this timestamp is out of range"
                        ))
                    }
                }
            }
            _ => V::Null,
        },
        "date" => match a[0] {
            V::T(t) => local(t).map_or(V::Null, |d| {
                V::T(crate::time::local_date_start(d.date_naive(), tz))
            }),
            _ => V::Null,
        },
        other => return Err(format!("internal: no kernel for function `{other}`")),
    })
}

/// `c[idx]` for each index: the rows of a selection.
pub fn gather(c: &Column, idx: &[u32]) -> Column {
    if let Some(range) = contiguous(idx) {
        return slice(c, range);
    }
    let valid = c
        .valid
        .as_ref()
        .map(|v| idx.iter().map(|&i| v[i as usize]).collect());
    let data = match &c.data {
        Data::Int(v) => Data::Int(idx.iter().map(|&i| v[i as usize]).collect()),
        Data::Float(v) => Data::Float(idx.iter().map(|&i| v[i as usize]).collect()),
        Data::Bool(v) => Data::Bool(idx.iter().map(|&i| v[i as usize]).collect()),
        Data::Timestamp(v) => Data::Timestamp(idx.iter().map(|&i| v[i as usize]).collect()),
        Data::Duration(v) => Data::Duration(idx.iter().map(|&i| v[i as usize]).collect()),
        Data::Str(s) => Data::Str(crate::column::StrVec {
            codes: s.codes.gather(idx),
            dict: s.dict.clone(),
        }),
    };
    Column::new(data, valid)
}

/// The range `idx` lists when it is consecutive rows, in order (a batch
/// of a pass over a period axis usually is).
pub(crate) fn contiguous(idx: &[u32]) -> Option<std::ops::Range<usize>> {
    let (&first, &last) = (idx.first()?, idx.last()?);
    // Without an early exit, so that the check is vectorized.
    let consecutive = last.checked_sub(first)? as usize == idx.len() - 1
        && idx
            .iter()
            .enumerate()
            .fold(true, |ok, (k, &i)| ok & (i.wrapping_sub(first) == k as u32));
    consecutive.then(|| first as usize..last as usize + 1)
}

/// Rows `range` of `c`, copied as slices.
fn slice(c: &Column, range: std::ops::Range<usize>) -> Column {
    let valid = c.valid.as_ref().map(|v| v[range.clone()].to_vec());
    let data = match &c.data {
        Data::Int(v) => Data::Int(v[range].to_vec()),
        Data::Float(v) => Data::Float(v[range].to_vec()),
        Data::Bool(v) => Data::Bool(v[range].to_vec()),
        Data::Timestamp(v) => Data::Timestamp(v[range].to_vec()),
        Data::Duration(v) => Data::Duration(v[range].to_vec()),
        Data::Str(s) => Data::Str(crate::column::StrVec {
            codes: match &s.codes {
                Codes::U8(v) => Codes::U8(v[range].to_vec()),
                Codes::U16(v) => Codes::U16(v[range].to_vec()),
                Codes::U32(v) => Codes::U32(v[range].to_vec()),
            },
            dict: s.dict.clone(),
        }),
    };
    Column::new(data, valid)
}

/// Like [`gather`], where the index `u32::MAX` gives null (a row with no
/// parent, a first row with no `prev`).
pub fn gather_opt(c: &Column, idx: &[u32]) -> Column {
    const NONE: u32 = u32::MAX;
    if c.is_empty() {
        return broadcast(&Value::Null, &c.ty(), idx.len());
    }
    if !idx.contains(&NONE) {
        return gather(c, idx);
    }
    // One pass: a missing row reads row 0 and is null.
    let row = |i: u32| if i == NONE { 0 } else { i as usize };
    let valid = idx
        .iter()
        .map(|&i| i != NONE && c.is_valid(row(i)))
        .collect();
    let data = match &c.data {
        Data::Int(v) => Data::Int(idx.iter().map(|&i| v[row(i)]).collect()),
        Data::Float(v) => Data::Float(idx.iter().map(|&i| v[row(i)]).collect()),
        Data::Bool(v) => Data::Bool(idx.iter().map(|&i| v[row(i)]).collect()),
        Data::Timestamp(v) => Data::Timestamp(idx.iter().map(|&i| v[row(i)]).collect()),
        Data::Duration(v) => Data::Duration(idx.iter().map(|&i| v[row(i)]).collect()),
        Data::Str(s) => Data::Str(crate::column::StrVec {
            codes: match &s.codes {
                Codes::U8(v) => Codes::U8(idx.iter().map(|&i| v[row(i)]).collect()),
                Codes::U16(v) => Codes::U16(idx.iter().map(|&i| v[row(i)]).collect()),
                Codes::U32(v) => Codes::U32(idx.iter().map(|&i| v[row(i)]).collect()),
            },
            dict: s.dict.clone(),
        }),
    };
    Column::new(data, Some(valid))
}

/// `c` with the rows where `idx` is `none` made null.
pub fn mask_rows(mut c: Column, idx: &[u32], none: u32) -> Column {
    if !idx.contains(&none) {
        return c;
    }
    let valid: Vec<bool> = idx
        .iter()
        .enumerate()
        .map(|(k, &i)| i != none && c.is_valid(k))
        .collect();
    c.valid = Some(valid).filter(|v| v.iter().any(|b| !b));
    c
}

/// The text of a value, as a grouping key or a join key.
pub fn key_text(v: V<'_>) -> Option<String> {
    Some(match v {
        V::Null => return None,
        V::I(i) => i.to_string(),
        V::F(f) => f.to_string(),
        V::B(b) => b.to_string(),
        V::S(s) => s.to_string(),
        V::T(t) => t.to_string(),
        V::D(d) => d.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(v: &[Option<i64>]) -> Column {
        let valid = v.iter().map(Option::is_some).collect();
        Column::new(
            Data::Int(v.iter().map(|x| x.unwrap_or(0)).collect()),
            Some(valid),
        )
    }

    #[test]
    fn gathering_consecutive_rows_equals_gathering_each() {
        let strings = {
            let mut b = StrBuilder::default();
            for s in ["a", "b", "a", "c", "d", "b"] {
                b.push(s);
            }
            Column::new(
                Data::Str(b.finish()),
                Some(vec![true, false, true, true, true, true]),
            )
        };
        let ints = ints(&[Some(1), None, Some(3), Some(4), None, Some(6)]);
        let show = |c: &Column| {
            (0..c.len())
                .map(|i| format!("{:?}", get(c, i)))
                .collect::<Vec<_>>()
        };
        for c in [&ints, &strings] {
            for idx in [
                &[1u32, 2, 3][..],
                &[2, 3, 4, 5],
                &[0],
                &[],
                &[3, 2, 1],
                &[1, 3, 2, 4],
                &[2, 2, 3],
            ] {
                let want: Vec<String> = idx
                    .iter()
                    .map(|&i| format!("{:?}", get(c, i as usize)))
                    .collect();
                assert_eq!(show(&gather(c, idx)), want, "{idx:?}");
            }
        }
    }

    #[test]
    fn timestamp_differences_overflow_only_where_valid() {
        let ts = |v: &[Option<i64>]| {
            Column::new(
                Data::Timestamp(v.iter().map(|x| x.unwrap_or(i64::MIN)).collect()),
                Some(v.iter().map(Option::is_some).collect()),
            )
        };
        let a = ts(&[Some(i64::MAX), Some(5), None]);
        let b = ts(&[Some(-1), Some(2), Some(1)]);
        assert!(binary(BinOp::Sub, &a, &b, &Type::Duration).is_err());
        // Row 0 overflows (i64::MIN - 1) under a null: no error.
        let a = ts(&[None, Some(5), Some(i64::MAX)]);
        let b = ts(&[Some(1), Some(2), Some(1)]);
        let out = binary(BinOp::Sub, &a, &b, &Type::Duration).unwrap();
        assert_eq!(get(&out, 0), V::Null);
        assert_eq!(get(&out, 1), V::D(3.0));
        assert_eq!(get(&out, 2), V::D((i64::MAX - 1) as f64));
    }

    #[test]
    fn division_by_zero_is_null_and_int_division_is_float() {
        let out = binary(
            BinOp::Div,
            &ints(&[Some(1), Some(3), None]),
            &ints(&[Some(0), Some(2), Some(1)]),
            &Type::Float,
        )
        .unwrap();
        assert_eq!(get(&out, 0), V::Null);
        assert_eq!(get(&out, 1), V::F(1.5));
        assert_eq!(get(&out, 2), V::Null);
    }

    #[test]
    fn three_valued_logic() {
        assert_eq!(
            scalar_binary(BinOp::And, V::Null, V::B(false)).unwrap(),
            V::B(false)
        );
        assert_eq!(
            scalar_binary(BinOp::And, V::Null, V::B(true)).unwrap(),
            V::Null
        );
        assert_eq!(
            scalar_binary(BinOp::Or, V::Null, V::B(true)).unwrap(),
            V::B(true)
        );
        assert_eq!(scalar_binary(BinOp::Eq, V::Null, V::I(1)).unwrap(), V::Null);
    }

    #[test]
    fn time_arithmetic() {
        assert_eq!(
            scalar_binary(BinOp::Sub, V::T(5_000_000), V::T(2_000_000)).unwrap(),
            V::D(3_000_000.0)
        );
        assert_eq!(
            scalar_binary(BinOp::Div, V::D(3.0), V::D(0.0)).unwrap(),
            V::Null
        );
        assert_eq!(
            scalar_binary(BinOp::Mul, V::D(10.0), V::F(1.5)).unwrap(),
            V::D(15.0)
        );
        assert!(scalar_binary(BinOp::Mul, V::I(i64::MAX), V::I(2)).is_err());
    }
}
