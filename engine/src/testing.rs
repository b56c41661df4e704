//! `kpi test`: runs the `[[test]]` cases of every loaded definition file.
//! Each case runs its metrics — checked exactly as in the project — over
//! the case's own rows, and compares the expected values.

use std::collections::HashSet;

use chrono::Weekday;
use chrono_tz::Tz;
use kpi_dsl::cases::TestCase;
use kpi_dsl::{Checked, Definitions, ParamValue, SourceMap};

use crate::canonical;
use crate::period::{Calendar, PeriodKind};
use crate::project::{Project, TableSource};
use crate::result::ResultTable;
use crate::run::Query;
use crate::time::format_rfc3339;

/// Relative tolerance for comparing expected values.
pub const TOLERANCE: f64 = 1e-9;

/// One failed case, located in its definition file.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// `file:line:col` of the `[[test]]` entry.
    pub location: String,
    pub name: String,
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub cases: usize,
    pub failures: Vec<Failure>,
}

/// Runs every test case whose metrics include one matching `filter` (all when `None`).
pub fn run_tests(project: &Project, filter: Option<&str>) -> Report {
    let mut report = Report::default();
    for (i, case) in project.definitions.tests.iter().enumerate() {
        if filter.is_some_and(|f| !case.metrics.iter().any(|m| m == f)) {
            continue;
        }
        report.cases += 1;
        let (path, line, col) = project.sources.location(case.span);
        let name = case
            .name
            .clone()
            .unwrap_or_else(|| format!("test {} of {}", i + 1, case.metrics.join(", ")));
        let problems = match run_case(project, case, &format!("{path}:{line}")) {
            Ok(result) => compare(case, &result),
            Err(e) => vec![e],
        };
        if !problems.is_empty() {
            report.failures.push(Failure {
                location: format!("{path}:{line}:{col}"),
                name,
                problems,
            });
        }
    }
    report
}

fn run_case(project: &Project, case: &TestCase, label: &str) -> Result<ResultTable, String> {
    let tz: Tz = match &case.timezone {
        Some(z) => z.parse().map_err(|_| format!("unknown time zone `{z}`"))?,
        None => Tz::UTC,
    };
    let mut schema = project.schema.clone();
    for (k, v) in &case.params {
        match schema.params.get_mut(k) {
            None => return Err(format!("unknown parameter `{k}`")),
            Some(ParamValue::Map(old)) => match v {
                ParamValue::Map(new) => old.extend(new.clone()),
                _ => return Err(format!("parameter `{k}` is a table")),
            },
            Some(old) => {
                let ok = old.ty() == v.ty()
                    || matches!((&*old, v), (ParamValue::Float(_), ParamValue::Int(_)));
                if !ok {
                    return Err(format!("parameter `{k}` must be a {}", old.ty()));
                }
                *old = match (&*old, v) {
                    (ParamValue::Float(_), ParamValue::Int(i)) => ParamValue::Float(*i as f64),
                    _ => v.clone(),
                };
            }
        }
    }
    let mut tables = indexmap::IndexMap::new();
    for (t, data) in &case.tables {
        let Some(ts) = schema.tables.get(t) else {
            return Err(format!("unknown table `{t}` in the test's tables"));
        };
        // Test rows are written in canonical column names: no mapping applies.
        let required: HashSet<String> = match project.tables.get(t) {
            Some(src) if canonical::tables().get(t).is_none() => src.required.clone(),
            _ => ts
                .columns
                .keys()
                .filter(|c| !canonical::is_nullable(t, c))
                .cloned()
                .collect(),
        };
        let source = TableSource {
            delimiter: b',',
            null_tokens: vec![String::new()],
            required,
            inline: Some((
                format!("{label} (test rows of {t}).csv"),
                data.text.trim_start().to_string(),
            )),
            ..Default::default()
        };
        tables.insert(t.clone(), source);
    }
    let period = PeriodKind::parse(&case.period)
        .ok_or_else(|| format!("unknown period `{}`", case.period))?;
    let p = Project {
        root: project.root.clone(),
        file: None,
        calendar: Calendar::new(tz, Weekday::Mon),
        schema,
        tables,
        sources: SourceMap::new(),
        definitions: Definitions::default(),
        checked: Checked {
            metrics: project.checked.metrics.clone(),
            diagnostics: Vec::new(),
        },
        plugins: Vec::new(),
        loaded_plugins: project.loaded_plugins.clone(),
        plugin_functions: project.plugin_functions.clone(),
        default_range: (None, None),
    };
    let q = Query {
        metrics: case.metrics.clone(),
        by: case.by.clone(),
        period,
        from: case.from.clone(),
        to: case.to.clone(),
        max_rejects: 0,
        threads: 0,
    };
    p.run(&q).map_err(|e| e.to_string().trim().to_string())
}

fn compare(case: &TestCase, result: &ResultTable) -> Vec<String> {
    let mut problems = Vec::new();
    for e in &case.expect {
        let what = describe(e.period.as_deref(), &e.group);
        for (metric, want) in &e.values {
            let matching: Vec<_> = result
                .rows
                .iter()
                .filter(|r| *r.metric == **metric)
                .filter(|r| {
                    e.period.as_ref().is_none_or(|p| {
                        format_rfc3339(r.period_start, result.tz).starts_with(p.as_str())
                    })
                })
                .filter(|r| {
                    e.group.iter().all(|(d, v)| {
                        result
                            .dimensions
                            .iter()
                            .position(|x| x == d)
                            .is_some_and(|i| r.group[i].as_deref() == Some(v.as_str()))
                    })
                })
                .collect();
            let row = match matching.as_slice() {
                [one] => one,
                [] => {
                    problems.push(format!("{metric} {what}: no such row in the result"));
                    continue;
                }
                many => {
                    problems.push(format!(
                        "{metric} {what}: {} rows match; name the period or group more precisely",
                        many.len()
                    ));
                    continue;
                }
            };
            let got = row.value.map(|v| v.as_f64());
            let same = match (want, got) {
                (None, None) => true,
                (Some(w), Some(g)) => (w - g).abs() <= TOLERANCE * w.abs().max(1.0),
                _ => false,
            };
            if !same {
                let show = |v: Option<f64>| v.map_or("null".to_string(), |x| x.to_string());
                problems.push(format!(
                    "{metric} {what}: expected {}, got {}",
                    show(*want),
                    show(got)
                ));
            }
        }
    }
    problems
}

fn describe(period: Option<&str>, group: &indexmap::IndexMap<String, String>) -> String {
    let mut parts: Vec<String> = period.map(|p| format!("period {p}")).into_iter().collect();
    parts.extend(group.iter().map(|(k, v)| format!("{k}={v}")));
    if parts.is_empty() {
        "(every row)".into()
    } else {
        format!("at {}", parts.join(", "))
    }
}
