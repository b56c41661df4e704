//! Numbers (issue 6): no NaN or infinity ever reaches a result, and ratios
//! are ratios of sums.
//!
//! - The kernels, over operands chosen to break floating point (0, -0,
//!   subnormals, ±f64::MAX, i64 extremes): every result column is finite or
//!   null, or the operation fails with a clear error.
//! - End to end through `kpi_engine::Project`: metrics built to produce 0/0,
//!   x/0, duration/0 and overflowing products give null or a data error,
//!   and every output format of the ones that succeed is free of non-finite
//!   tokens.
//! - A ratio metric by month equals the ratio of the summed daily numerator
//!   and denominator, never the mean of the daily ratios.

mod common;

use chrono_tz::Tz;
use kpi_dsl::ast::BinOp;
use kpi_dsl::check::binary_type;
use kpi_dsl::Type;
use kpi_engine::column::{Column, Data};
use kpi_engine::kernels::{binary, call, get, V};
use kpi_engine::{ErrorKind, Format, Number, PeriodKind, Project, Query, ResultTable};
use proptest::prelude::*;

/// A token that Rust (or a JSON/CSV reader) would read as NaN or infinity.
fn non_finite(token: &str) -> bool {
    let t = token.trim_matches(|c: char| matches!(c, '"' | ',' | ':' | '[' | ']' | '{' | '}'));
    t.parse::<f64>().is_ok_and(|x| !x.is_finite())
}

/// Every rendering of `r` is free of NaN/inf tokens, and every value is
/// finite.
fn assert_finite_everywhere(r: &ResultTable, what: &str) {
    for row in &r.rows {
        if let Some(Number::Float(x)) = row.value {
            assert!(x.is_finite(), "{what}: {} = {x}", row.metric);
        }
    }
    for f in [Format::Csv, Format::Json, Format::Jsonl, Format::Table] {
        let text = r.render(f);
        let bad: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == '│')
            .filter(|t| non_finite(t))
            .collect();
        assert!(bad.is_empty(), "{what} as {f:?}: {bad:?} in\n{text}");
    }
}

// ---------------------------------------------------------------- kernels

fn column(ty: &Type, v: Option<f64>, i: Option<i64>) -> Column {
    let valid = Some(vec![v.is_some() || i.is_some()]);
    let data = match ty {
        Type::Int => Data::Int(vec![i.unwrap_or(0)]),
        Type::Duration => Data::Duration(vec![v.unwrap_or(0.0)]),
        _ => Data::Float(vec![v.unwrap_or(0.0)]),
    };
    Column::new(data, valid)
}

fn nasty_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            5e-324,
            -5e-324,
            1e-308,
            1e-200,
            1e200,
            1e308,
            -1e308,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
        ]),
        -1e6f64..1e6,
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ]
}

fn nasty_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        prop::sample::select(vec![0i64, 1, -1, 2, i64::MAX, i64::MIN, i64::MAX / 2]),
        any::<i64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// `l op r` for every arithmetic operator and operand type pair the
    /// checker accepts: finite, null, or an error; never NaN or infinity.
    #[test]
    fn arithmetic_is_finite_null_or_an_error(
        op in prop::sample::select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]),
        lt in prop::sample::select(vec![Type::Int, Type::Float, Type::Duration]),
        rt in prop::sample::select(vec![Type::Int, Type::Float, Type::Duration]),
        (lf, li, rf, ri) in (nasty_float(), nasty_int(), nasty_float(), nasty_int()),
    ) {
        let Ok(ty) = binary_type(op, &lt, &rt) else { return Ok(()) };
        let l = column(&lt, Some(lf), Some(li));
        let r = column(&rt, Some(rf), Some(ri));
        match binary(op, &l, &r, &ty) {
            Ok(c) => match get(&c, 0) {
                V::F(x) | V::D(x) => prop_assert!(x.is_finite(), "{lf} {op:?} {rf} = {x}"),
                V::Null => prop_assert!(op == BinOp::Div, "null from {:?}", op),
                V::I(_) => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            },
            Err(e) => prop_assert!(
                e.contains("overflow") || e.contains("not a finite number"),
                "unclear error: {e}"
            ),
        }
    }

    /// The numeric row functions on the same operands.
    #[test]
    fn row_functions_are_finite_null_or_an_error(
        x in nasty_float(),
        places in -20i64..20,
    ) {
        let f = column(&Type::Float, Some(x), None);
        let d = column(&Type::Duration, Some(x), None);
        let p = column(&Type::Int, None, Some(places));
        let runs = [
            call("round", &[f.clone(), p], &Type::Float, Tz::UTC, 1),
            call("abs", std::slice::from_ref(&f), &Type::Float, Tz::UTC, 1),
            call("minutes", std::slice::from_ref(&d), &Type::Float, Tz::UTC, 1),
            call("hours", std::slice::from_ref(&d), &Type::Float, Tz::UTC, 1),
            call("days", std::slice::from_ref(&d), &Type::Float, Tz::UTC, 1),
        ];
        for out in runs {
            match out {
                Ok(c) => match get(&c, 0) {
                    V::F(y) | V::D(y) => prop_assert!(y.is_finite(), "{x} → {y}"),
                    _ => {}
                },
                Err(e) => prop_assert!(e.contains("not a finite number") || e.contains("overflow"), "{e}"),
            }
        }
    }
}

#[test]
fn zero_denominators_are_null() {
    let f = |x: f64| column(&Type::Float, Some(x), None);
    let i = |x: i64| column(&Type::Int, None, Some(x));
    let d = |x: f64| column(&Type::Duration, Some(x), None);
    let div = |l: &Column, r: &Column| {
        let ty = binary_type(BinOp::Div, &l.ty(), &r.ty()).expect("typed");
        get(&binary(BinOp::Div, l, r, &ty).expect("no error"), 0).to_owned_f64()
    };
    // 0/0, x/0 and -0 denominators for every type pair with a division.
    assert_eq!(div(&i(0), &i(0)), None);
    assert_eq!(div(&i(5), &i(0)), None);
    assert_eq!(div(&f(0.0), &f(0.0)), None);
    assert_eq!(div(&f(1.0), &f(-0.0)), None);
    assert_eq!(div(&f(-1.0), &i(0)), None);
    assert_eq!(div(&d(60e6), &i(0)), None);
    assert_eq!(div(&d(60e6), &f(0.0)), None);
    assert_eq!(div(&d(0.0), &d(0.0)), None);
    assert_eq!(div(&d(60e6), &d(-0.0)), None);
    // A subnormal denominator is not zero: the quotient overflows, an error.
    let ty = Type::Float;
    let e = binary(BinOp::Div, &f(1.0), &f(5e-324), &ty).unwrap_err();
    assert!(e.contains("not a finite number"), "{e}");
}

trait OwnedF64 {
    fn to_owned_f64(self) -> Option<f64>;
}
impl OwnedF64 for V<'_> {
    fn to_owned_f64(self) -> Option<f64> {
        match self {
            V::F(x) | V::D(x) => Some(x),
            V::I(x) => Some(x as f64),
            _ => None,
        }
    }
}

// ------------------------------------------------------------ end to end

/// What a metric must give: null, a finite number, or a data error.
#[derive(Debug)]
enum Want {
    Null,
    Value(f64),
    DataError,
}

#[test]
fn metrics_built_to_make_nan_give_null_or_an_error() {
    let toml = r#"
[project]
timezone = "America/New_York"
definitions = ["kpis"]
builtins = false

[tables.t]
source = "data/t.csv"
time = "at"
[tables.t.types]
id = "string"
at = "timestamp"
v = "float"
z = "int"
d = "duration"
big = "float"
pm = "float"
pp = "float"
"#;
    let data = "id,at,v,z,d,big,pm,pp\n\
                a,2026-01-05 09:00,1.5,0,60,1e200,1.7e308,1.7e308\n\
                b,2026-01-06 10:00,2.5,0,30,1e200,-1.7e308,1.7e308\n";
    let metrics: &[(&str, &str, &str, Want)] = &[
        ("zero_over_zero", "sum(t: z) / sum(t: z)", "", Want::Null),
        (
            "float_zero_over_zero",
            "sum(t: v * 0) / sum(t: v * 0)",
            "",
            Want::Null,
        ),
        ("x_over_zero", "sum(t: v) / sum(t: z)", "", Want::Null),
        (
            "duration_over_zero",
            "sum(t: d) / sum(t: z)",
            "s",
            Want::Null,
        ),
        (
            "duration_over_zero_float",
            "sum(t: d) / (sum(t: v) * 0)",
            "s",
            Want::Null,
        ),
        (
            "duration_over_zero_duration",
            "sum(t: d) / sum(t: d * 0)",
            "",
            Want::Null,
        ),
        ("mean_of_nothing", "avg(t: v where z > 0)", "", Want::Null),
        (
            "median_of_nothing",
            "median(t: v where z > 0)",
            "",
            Want::Null,
        ),
        ("change_from_zero", "change(sum(t: z))", "%", Want::Null),
        ("ratio", "sum(t: v) / count(t)", "", Want::Value(2.0)),
        // The median of ±1.7e308 is 0: interpolating must not overflow.
        ("median_of_extremes", "median(t: pm)", "", Want::Value(0.0)),
        (
            "p90_of_extremes",
            "percentile(t: pm, 0.9)",
            "",
            Want::Value(0.8 * 1.7e308),
        ),
        ("max_of_extremes", "max(t: pp)", "", Want::Value(1.7e308)),
        (
            "huge_product",
            "sum(t: big) * sum(t: big)",
            "",
            Want::DataError,
        ),
        ("huge_sum", "sum(t: pp)", "", Want::DataError),
        ("huge_mean", "avg(t: pp)", "", Want::DataError),
        ("huge_row_product", "sum(t: big * big)", "", Want::DataError),
        ("tiny_divisor", "sum(t: big) / 1e-200", "", Want::DataError),
        ("huge_duration", "sum(t: d) * 1e305", "s", Want::DataError),
        (
            "huge_duration_sum",
            "sum(t: d * 1e306)",
            "s",
            Want::DataError,
        ),
    ];
    let mut defs = String::new();
    for (id, formula, unit, _) in metrics {
        defs.push_str(&format!("[metric.{id}]\nformula = '{formula}'\n"));
        if !unit.is_empty() {
            defs.push_str(&format!("unit = \"{unit}\"\n"));
        }
    }
    let dir = common::temp_project(
        "numbers",
        &[
            ("kpi.toml", toml.to_string()),
            ("kpis/m.toml", defs),
            ("data/t.csv", data.to_string()),
        ],
    );
    let project = Project::load(&dir).unwrap_or_else(|e| panic!("{}", e.render(None)));
    for (id, _, _, want) in metrics {
        let q = Query {
            metrics: vec![id.to_string()],
            ..Query::default()
        };
        match (project.run(&q), want) {
            (Ok(r), Want::DataError) => panic!("{id}: expected an error, got {:?}", r.rows),
            (Ok(r), want) => {
                assert_finite_everywhere(&r, id);
                assert_eq!(r.rows.len(), 1, "{id}: {:?}", r.rows);
                let got = r.rows[0].value.map(|n| n.as_f64());
                match want {
                    Want::Null => assert_eq!(got, None, "{id}"),
                    Want::Value(w) => {
                        let g = got.unwrap_or_else(|| panic!("{id}: null"));
                        assert!((g - w).abs() <= 1e-12 * w.abs(), "{id}: {g} vs {w}");
                    }
                    Want::DataError => unreachable!(),
                }
            }
            (Err(e), Want::DataError) => {
                assert_eq!(e.kind, ErrorKind::Data, "{id}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.contains("overflow") || msg.contains("not a finite number"),
                    "{id}: unclear error {msg}"
                );
            }
            (Err(e), _) => panic!("{id}: {}", e.render(Some(&project.sources))),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------ ratios of sums

const TICKETS_HEADER: &str = "id,created_at,assigned_at,first_response_at,solved_at,status,\
channel,priority,agent_id,team,customer_id,escalated,reopened,contacts,handle_time,\
help_center_resolvable";

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The built-in escalation rate over a month, a week and the whole range
    /// is 100 × Σ escalations / Σ tickets over its days, whatever the daily
    /// volumes (a mean of daily ratios would weigh a day of 1 ticket like a
    /// day of 30). February–March 2026 in New York, across the DST switch.
    #[test]
    fn escalation_rate_is_a_ratio_of_sums(
        days in prop::collection::vec((0usize..30, 0u32..=100, 0u32..1440), 59),
    ) {
        let mut csv = format!("{TICKETS_HEADER}\n");
        let mut n = 0;
        let first = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).expect("date");
        // Per day: (tickets, escalations), as the data says.
        let mut truth = Vec::new();
        for (k, &(count, pct, minute)) in days.iter().enumerate() {
            let date = first + chrono::Days::new(k as u64);
            let esc = (count as u32 * pct / 100) as usize;
            for j in 0..count {
                n += 1;
                // Spread over the day; naive local times, some in the gap
                // of 2026-03-08 (02:00–03:00), which still belong to that day.
                let m = (minute as usize + j * 47) % 1440;
                let at = format!("{date} {:02}:{:02}", m / 60, m % 60);
                csv.push_str(&format!(
                    "t{n},{at},,,,open,email,normal,a1,general,c{n},{},false,,,\n",
                    j < esc
                ));
            }
            truth.push((date, count as i64, esc as i64));
        }
        let dir = common::temp_project("numbers", &[
            (
                "kpi.toml",
                "[project]\ntimezone = \"America/New_York\"\n\n[tables.tickets]\nsource = \"tickets.csv\"\n"
                    .to_string(),
            ),
            ("tickets.csv", csv),
        ]);
        let project = Project::load(&dir).unwrap_or_else(|e| panic!("{}", e.render(None)));
        let run = |period: PeriodKind| {
            let q = Query {
                metrics: vec!["escalation_rate".into(), "tickets".into(), "escalations".into()],
                period,
                from: Some("2026-02-01".into()),
                to: Some("2026-04-01".into()),
                ..Query::default()
            };
            project.run(&q).unwrap_or_else(|e| panic!("{}", e.render(Some(&project.sources))))
        };
        let value = |r: &ResultTable, start: i64, metric: &str| {
            r.rows
                .iter()
                .find(|x| x.period_start == start && &*x.metric == metric)
                .map(|x| x.value.map(|v| v.as_f64()))
                .unwrap_or_else(|| panic!("no {metric} at {start}"))
        };
        // The daily counts as the engine sees them match the data.
        let daily = run(PeriodKind::Day);
        let mut day_counts = Vec::new();
        for (s, _) in daily.rows.iter().map(|r| (r.period_start, r.period_end)).collect::<std::collections::BTreeSet<_>>() {
            let t = value(&daily, s, "tickets").expect("a count") as i64;
            let e = value(&daily, s, "escalations").expect("a count") as i64;
            day_counts.push((s, t, e));
        }
        prop_assert_eq!(day_counts.len(), truth.len());
        for ((_, t, e), (date, tt, te)) in day_counts.iter().zip(&truth) {
            prop_assert_eq!((t, e), (tt, te), "{}", date);
        }
        for period in [PeriodKind::Week, PeriodKind::Month, PeriodKind::All] {
            let r = run(period);
            for row in r.rows.iter().filter(|x| &*x.metric == "escalation_rate") {
                let inside = day_counts
                    .iter()
                    .filter(|(s, _, _)| row.period_start <= *s && *s < row.period_end);
                let (t, e) = inside.fold((0, 0), |(a, b), (_, t, e)| (a + t, b + e));
                let got = row.value.map(|v| v.as_f64());
                if t == 0 {
                    prop_assert_eq!(got, None);
                } else {
                    let want = e as f64 / t as f64 * 100.0;
                    let g = got.expect("a rate");
                    prop_assert!((g - want).abs() <= 1e-12 * want.max(1.0), "{:?}: {} vs {}", period, g, want);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Aggregates written alike in several metrics are computed once; ones
/// that differ in any part (function, fraction, axis, argument, filter)
/// are not mistaken for each other. Each metric's value in one run of
/// them all equals its value run alone.
#[test]
fn aggregates_written_alike_share_a_value_and_no_others_do() {
    let toml = r#"
[project]
timezone = "UTC"
definitions = ["kpis"]
builtins = false

[tables.t]
source = "data/t.csv"
time = "at"
interval = ["at", "done"]
[tables.t.types]
id = "string"
at = "timestamp"
done = "timestamp"
v = "float"
"#;
    let data = "id,at,done,v\n\
                a,2026-01-05 09:00,2026-02-01 09:00,1\n\
                b,2026-01-06 10:00,2026-01-07 10:00,2\n\
                c,2026-02-06 10:00,2026-02-07 10:00,4\n\
                d,2026-02-07 10:00,2026-02-28 00:00,8\n";
    let metrics: &[(&str, &str)] = &[
        ("count_a", "count(t)"),
        ("count_b", "count(t)"),
        ("count_done", "count(t@done)"),
        ("count_open", "count(t@period.end)"),
        ("count_open_start", "count(t@period.start)"),
        ("sum_v", "sum(t: v)"),
        ("avg_v", "avg(t: v)"),
        ("sum_v_twice", "sum(t: v * 2)"),
        ("big", "count(t where v > 1)"),
        ("bigger", "count(t where v > 2)"),
        ("p25", "percentile(t: v, 0.25)"),
        ("p75", "percentile(t: v, 0.75)"),
        ("p25_again", "percentile(t: v, 0.25)"),
    ];
    let mut defs = String::new();
    for (id, formula) in metrics {
        defs.push_str(&format!("[metric.{id}]\nformula = '{formula}'\n"));
    }
    let dir = common::temp_project(
        "numbers",
        &[
            ("kpi.toml", toml.to_string()),
            ("kpis/m.toml", defs),
            ("data/t.csv", data.to_string()),
        ],
    );
    let project = Project::load(&dir).unwrap_or_else(|e| panic!("{}", e.render(None)));
    let run = |ids: Vec<String>| {
        let q = Query {
            metrics: ids,
            period: PeriodKind::Month,
            ..Query::default()
        };
        let r = project
            .run(&q)
            .unwrap_or_else(|e| panic!("{}", e.render(Some(&project.sources))));
        r.rows
            .iter()
            .map(|row| {
                (
                    row.period_start,
                    row.metric.to_string(),
                    row.value.map(|n| n.as_f64()),
                )
            })
            .collect::<Vec<_>>()
    };
    let together = run(metrics.iter().map(|(id, _)| id.to_string()).collect());
    let mut alone = Vec::new();
    for (id, _) in metrics {
        alone.extend(run(vec![id.to_string()]));
    }
    let mut sorted = together.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    alone.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    assert_eq!(sorted, alone);
    // January then February: the values that tell the aggregates apart.
    let of = |id: &str| -> Vec<Option<f64>> {
        together.iter().filter(|r| r.1 == id).map(|r| r.2).collect()
    };
    assert_eq!(of("count_a"), vec![Some(2.0), Some(2.0)]);
    assert_eq!(of("count_b"), of("count_a"));
    assert_eq!(of("count_done"), vec![Some(1.0), Some(3.0)]);
    assert_eq!(of("count_open"), vec![Some(1.0), Some(0.0)]);
    assert_eq!(of("count_open_start"), vec![Some(0.0), Some(1.0)]);
    assert_eq!(of("sum_v"), vec![Some(3.0), Some(12.0)]);
    assert_eq!(of("avg_v"), vec![Some(1.5), Some(6.0)]);
    assert_eq!(of("sum_v_twice"), vec![Some(6.0), Some(24.0)]);
    assert_eq!(of("big"), vec![Some(1.0), Some(2.0)]);
    assert_eq!(of("bigger"), vec![Some(0.0), Some(2.0)]);
    assert_eq!(of("p25"), vec![Some(1.25), Some(5.0)]);
    assert_eq!(of("p75"), vec![Some(1.75), Some(7.0)]);
    assert_eq!(of("p25_again"), of("p25"));
}
