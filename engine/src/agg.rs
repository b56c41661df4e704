//! Mergeable aggregate state, one slot per cell (period × group, or parent
//! row). A mean keeps its sum and count, a median keeps its values, so
//! chunks, hours and days combine exactly: update, merge, evaluate.

use std::collections::HashSet;
use std::sync::Arc;

use kpi_dsl::ast::AggFunc;
use kpi_dsl::Type;

use crate::column::Column;
#[cfg(test)]
use crate::column::Data;
use crate::kernels::{get, Builder, V};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    I(i64),
    F(u64),
    B(bool),
    S(Arc<str>),
}

#[derive(Clone, Debug)]
enum Slots {
    Count(Vec<i64>),
    /// Int and duration sums are exact (i128); float sums are f64.
    SumExact(Vec<i128>, Vec<u64>),
    SumFloat(Vec<f64>, Vec<u64>),
    Min(Vec<Option<f64>>, Vec<Option<i64>>),
    Max(Vec<Option<f64>>, Vec<Option<i64>>),
    Values(Vec<Vec<f64>>),
    Distinct(Vec<HashSet<Key>>),
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
            AggFunc::CountDistinct => Slots::Distinct(vec![HashSet::new(); n]),
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
            Slots::Distinct(sets) => {
                let key = match v {
                    V::I(x) | V::T(x) => Key::I(x),
                    V::F(x) | V::D(x) => Key::F(if x == 0.0 { 0 } else { x.to_bits() }),
                    V::B(b) => Key::B(b),
                    V::S(s) => Key::S(Arc::from(s)),
                    V::Null => return,
                };
                sets[cell].insert(key);
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
            (Slots::Distinct(a), Slots::Distinct(b)) => a
                .iter_mut()
                .zip(b)
                .for_each(|(x, y)| x.extend(y.iter().cloned())),
            _ => unreachable!("merging accumulators of different aggregates"),
        }
    }

    /// The final value of every cell. Counts and sums of no rows are 0;
    /// means, medians, minima and maxima of no rows are null.
    pub fn evaluate(&self) -> Result<Column, String> {
        let n = self.len();
        let mut b = Builder::new(&self.output, n);
        let wrap = |x: f64| -> V<'static> {
            match self.output {
                Type::Duration => V::D(x),
                Type::Int => V::I(x as i64),
                _ => V::F(x),
            }
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
                Slots::Distinct(s) => V::I(s[c].len() as i64),
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
            Slots::Distinct(v) => v.len(),
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
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
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

    #[test]
    fn quantiles_interpolate() {
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9), Some(4.6));
        assert_eq!(quantile(&[], 0.5), None);
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
