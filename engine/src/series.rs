//! Series functions: evaluated across the periods of a result, per group.
//! Cells are laid out period-major: cell `p * groups + g`.

use kpi_dsl::Type;

use crate::column::Column;
use crate::kernels::{get, Builder, V};

/// Smoothing of the level and of the trend in `forecast` (Holt's method).
pub const FORECAST_ALPHA: f64 = 0.5;
pub const FORECAST_BETA: f64 = 0.3;

/// Applies series function `func` to `args` (the metric values over all
/// cells, then int constants). `periods` counts every period of the grid,
/// `history` those that hold data (the rest are forecast periods).
pub fn apply(
    func: &str,
    args: &[Column],
    ty: &Type,
    periods: usize,
    groups: usize,
    history: usize,
) -> Result<Column, String> {
    let m = &args[0];
    let constant = |i: usize| match args.get(i).map(|c| get(c, 0)) {
        Some(V::I(n)) if n >= 1 => Ok(n as usize),
        _ => Err(format!("internal: `{func}` without its period count")),
    };
    let duration = m.ty() == Type::Duration;
    let num = |p: usize, g: usize| -> Option<f64> {
        if p >= history {
            return None;
        }
        match get(m, p * groups + g) {
            V::I(x) => Some(x as f64),
            V::D(x) => Some(x),
            V::F(x) => Some(x),
            _ => None,
        }
    };
    let mut out = vec![None; periods * groups];
    match func {
        "previous" => {
            for g in 0..groups {
                for p in 1..periods.min(history + 1) {
                    out[p * groups + g] = num(p - 1, g);
                }
            }
        }
        "change" => {
            for g in 0..groups {
                for p in 1..history {
                    out[p * groups + g] = match (num(p, g), num(p - 1, g)) {
                        // `x / prev - 1` rather than `(x - prev) / prev`: the
                        // difference of two huge values of opposite sign overflows.
                        (Some(x), Some(prev)) if prev != 0.0 => Some((x / prev - 1.0) * 100.0),
                        _ => None,
                    };
                }
            }
        }
        "rolling" => {
            let n = constant(1)?;
            for g in 0..groups {
                for p in (n - 1)..history {
                    let window: Option<Vec<f64>> = (p + 1 - n..=p).map(|q| num(q, g)).collect();
                    // Divide before summing, so a window of huge values stays finite.
                    out[p * groups + g] =
                        window.map(|w| w.iter().map(|x| x / n as f64).sum::<f64>());
                }
            }
        }
        "cumulative" => {
            for g in 0..groups {
                let mut acc = 0.0;
                for p in 0..history {
                    acc += num(p, g).unwrap_or(0.0);
                    out[p * groups + g] = Some(acc);
                }
            }
        }
        "forecast" => {
            let h = constant(1)?;
            for g in 0..groups {
                let mut state: Option<(f64, f64)> = None; // (level, trend)
                for p in 0..history {
                    out[p * groups + g] = state.map(|(l, b)| l + b);
                    if let Some(y) = num(p, g) {
                        state = Some(match state {
                            None => (y, 0.0),
                            Some((l, b)) => {
                                let level = FORECAST_ALPHA * y + (1.0 - FORECAST_ALPHA) * (l + b);
                                (
                                    level,
                                    FORECAST_BETA * (level - l) + (1.0 - FORECAST_BETA) * b,
                                )
                            }
                        });
                    }
                }
                for k in 1..=h {
                    let p = history + k - 1;
                    if p < periods {
                        out[p * groups + g] = state.map(|(l, b)| l + b * k as f64);
                    }
                }
            }
        }
        other => return Err(format!("internal: no series function `{other}`")),
    }
    let mut b = Builder::new(ty, out.len());
    for v in out {
        b.push(match (v, ty) {
            (None, _) => V::Null,
            (Some(x), Type::Duration) => V::D(x),
            (Some(x), Type::Int) if !duration => V::I(x.round() as i64),
            (Some(x), _) => V::F(x),
        })?;
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Data;

    fn floats(c: &Column) -> Vec<Option<f64>> {
        (0..c.len())
            .map(|i| match get(c, i) {
                V::F(x) => Some((x * 1e9).round() / 1e9),
                V::I(x) => Some(x as f64),
                _ => None,
            })
            .collect()
    }

    fn series(v: &[i64]) -> Column {
        Column::new(Data::Int(v.to_vec()), None)
    }

    fn k(n: i64) -> Column {
        Column::new(Data::Int(vec![n]), None)
    }

    #[test]
    fn previous_change_rolling_cumulative() {
        let m = series(&[10, 20, 15, 0, 30]);
        let p = |f: &str, args: &[Column], ty: Type| floats(&apply(f, args, &ty, 5, 1, 5).unwrap());
        assert_eq!(
            p("previous", std::slice::from_ref(&m), Type::Int),
            [None, Some(10.0), Some(20.0), Some(15.0), Some(0.0)]
        );
        // 20/10 - 1 = 100 %; 15/20 - 1 = -25 %; 0/15 - 1 = -100 %; from 0: null.
        assert_eq!(
            p("change", std::slice::from_ref(&m), Type::Float),
            [None, Some(100.0), Some(-25.0), Some(-100.0), None]
        );
        // Means of 3: (10+20+15)/3 = 15, (20+15+0)/3 = 11.666..., (15+0+30)/3 = 15.
        assert_eq!(
            p("rolling", &[m.clone(), k(3)], Type::Float),
            [None, None, Some(15.0), Some(11.666666667), Some(15.0)]
        );
        assert_eq!(
            p("cumulative", &[m], Type::Int),
            [Some(10.0), Some(30.0), Some(45.0), Some(45.0), Some(75.0)]
        );
    }

    #[test]
    fn forecast_by_hand() {
        // y = 10, 20, 30 with alpha 0.5, beta 0.3, level0 = 10, trend0 = 0:
        // p1 forecast 10; l1 = 0.5*20 + 0.5*10 = 15, b1 = 0.3*5 = 1.5
        // p2 forecast 16.5; l2 = 0.5*30 + 0.5*16.5 = 23.25, b2 = 0.3*8.25 + 0.7*1.5 = 3.525
        // future: 23.25 + 3.525 = 26.775, then 30.3.
        let m = series(&[10, 20, 30, 0, 0]);
        let out = floats(&apply("forecast", &[m, k(2)], &Type::Float, 5, 1, 3).unwrap());
        assert_eq!(
            out,
            [None, Some(10.0), Some(16.5), Some(26.775), Some(30.3)]
        );
    }
}
