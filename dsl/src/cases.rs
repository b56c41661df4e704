//! Test cases inside definition files (`[[test]]`), promtool style: a few
//! input rows per table, the expected value per period and group. `kpi test`
//! runs them; every built-in KPI carries at least one.
//!
//! ```toml
//! [[test]]
//! metrics = ["escalation_rate"]
//! period = "month"                 # default month
//! by = ["agent"]                   # optional
//! # 1 of 2 tickets escalated: 1 / 2 * 100 = 50
//! [test.tables]
//! tickets = '''
//! id,created_at,escalated,agent_id
//! t1,2026-01-05 09:00,true,ann
//! t2,2026-01-06 10:00,false,ann
//! '''
//! [[test.expect]]
//! period = "2026-01"               # prefix of period_start (local time)
//! agent = "ann"
//! escalation_rate = 50             # "null" expects no data
//! ```

use indexmap::IndexMap;
use toml::de::DeValue;
use toml::Spanned;

use crate::ast::{Span, SrcId};
use crate::defs::{param_value, span_of};
use crate::diag::{codes, did_you_mean, Diagnostic};
use crate::schema::ParamValue;

/// One `[[test]]` entry.
#[derive(Clone, Debug)]
pub struct TestCase {
    pub file: String,
    pub span: Span,
    pub name: Option<String>,
    pub metrics: Vec<String>,
    pub period: String,
    pub by: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// IANA zone the periods are cut in; default UTC.
    pub timezone: Option<String>,
    pub params: IndexMap<String, ParamValue>,
    /// Table → CSV text (header first).
    pub tables: IndexMap<String, TestTable>,
    pub expect: Vec<Expect>,
}

#[derive(Clone, Debug)]
pub struct TestTable {
    pub text: String,
    pub span: Span,
}

/// One expected result row: which period and group, and metric values.
#[derive(Clone, Debug)]
pub struct Expect {
    pub span: Span,
    /// A prefix of the period start in local time (`2026-01`, `2026-03-08`).
    pub period: Option<String>,
    pub group: IndexMap<String, String>,
    /// Metric → expected value (`None`: no data).
    pub values: IndexMap<String, Option<f64>>,
}

const CASE_KEYS: &[&str] = &[
    "name", "metrics", "period", "by", "from", "to", "timezone", "params", "tables", "expect",
];

/// Reads the `test` array of a definition file.
pub fn load_cases(
    path: &str,
    src: SrcId,
    value: &Spanned<DeValue<'_>>,
    out: &mut Vec<TestCase>,
    diags: &mut Vec<Diagnostic>,
) {
    let err = |span: std::ops::Range<usize>, msg: String| {
        Diagnostic::at(codes::BAD_FIELD, span_of(src, span), msg)
    };
    let Some(items) = value.get_ref().as_array() else {
        diags.push(err(
            value.span(),
            "`test` must be an array of tables: write [[test]]".into(),
        ));
        return;
    };
    for item in items.iter() {
        let Some(t) = item.get_ref().as_table() else {
            diags.push(err(item.span(), "each test must be a table".into()));
            continue;
        };
        let mut case = TestCase {
            file: path.to_string(),
            span: span_of(src, item.span()),
            name: None,
            metrics: Vec::new(),
            period: "month".into(),
            by: Vec::new(),
            from: None,
            to: None,
            timezone: None,
            params: IndexMap::new(),
            tables: IndexMap::new(),
            expect: Vec::new(),
        };
        let before = diags.len();
        let string =
            |v: &Spanned<DeValue<'_>>, diags: &mut Vec<Diagnostic>| match v.get_ref().as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    diags.push(err(v.span(), "expected a string".into()));
                    None
                }
            };
        let strings = |v: &Spanned<DeValue<'_>>, diags: &mut Vec<Diagnostic>| -> Vec<String> {
            match v.get_ref().as_array() {
                Some(a) => a.iter().filter_map(|x| string(x, diags)).collect(),
                None => {
                    diags.push(err(v.span(), "expected a list of strings".into()));
                    Vec::new()
                }
            }
        };
        for (k, v) in t.iter() {
            match k.get_ref().as_ref() {
                "name" => case.name = string(v, diags),
                "metrics" => case.metrics = strings(v, diags),
                "period" => case.period = string(v, diags).unwrap_or_default(),
                "by" => case.by = strings(v, diags),
                "from" => case.from = string(v, diags),
                "to" => case.to = string(v, diags),
                "timezone" => case.timezone = string(v, diags),
                "params" => match v.get_ref().as_table() {
                    Some(p) => {
                        for (pk, pv) in p.iter() {
                            match param_value(pv, src) {
                                Ok(x) => {
                                    case.params.insert(pk.get_ref().to_string(), x);
                                }
                                Err(d) => diags.push(d),
                            }
                        }
                    }
                    None => diags.push(err(v.span(), "`params` must be a table".into())),
                },
                "tables" => match v.get_ref().as_table() {
                    Some(tables) => {
                        for (tk, tv) in tables.iter() {
                            if let Some(text) = string(tv, diags) {
                                case.tables.insert(
                                    tk.get_ref().to_string(),
                                    TestTable {
                                        text,
                                        span: span_of(src, tv.span()),
                                    },
                                );
                            }
                        }
                    }
                    None => diags.push(err(
                        v.span(),
                        "`tables` must be a table of CSV texts".into(),
                    )),
                },
                "expect" => match v.get_ref().as_array() {
                    Some(rows) => {
                        for row in rows.iter() {
                            if let Some(e) = load_expect(src, row, diags) {
                                case.expect.push(e);
                            }
                        }
                    }
                    None => diags.push(err(
                        v.span(),
                        "`expect` must be an array of tables: write [[test.expect]]".into(),
                    )),
                },
                other => {
                    let hint = did_you_mean(other, CASE_KEYS.iter().copied())
                        .unwrap_or_else(|| format!("a test takes {}", CASE_KEYS.join(", ")));
                    diags
                        .push(err(k.span(), format!("unknown key `{other}` in a test")).hint(hint));
                }
            }
        }
        if case.metrics.is_empty() && diags.len() == before {
            diags.push(err(
                item.span(),
                "a test names the metrics it checks: metrics = [\"id\"]".into(),
            ));
        }
        if case.expect.is_empty() && diags.len() == before {
            diags.push(err(
                item.span(),
                "a test needs at least one [[test.expect]] row".into(),
            ));
        }
        for e in &case.expect {
            for m in e.values.keys() {
                if !case.metrics.contains(m) {
                    diags.push(Diagnostic::at(
                        codes::BAD_FIELD,
                        e.span,
                        format!("expected value for `{m}`, which is not in this test's metrics"),
                    ));
                }
            }
        }
        if diags.len() == before {
            out.push(case);
        }
    }
}

fn load_expect(
    src: SrcId,
    row: &Spanned<DeValue<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Expect> {
    let Some(t) = row.get_ref().as_table() else {
        diags.push(Diagnostic::at(
            codes::BAD_FIELD,
            span_of(src, row.span()),
            "each expected row must be a table",
        ));
        return None;
    };
    let mut e = Expect {
        span: span_of(src, row.span()),
        period: None,
        group: IndexMap::new(),
        values: IndexMap::new(),
    };
    for (k, v) in t.iter() {
        let key = k.get_ref().to_string();
        let vspan = span_of(src, v.span());
        match (key.as_str(), v.get_ref()) {
            ("period", DeValue::String(s)) => e.period = Some(s.to_string()),
            (_, DeValue::String(s)) if s.as_ref() == "null" => {
                e.values.insert(key, None);
            }
            (_, DeValue::String(s)) => {
                e.group.insert(key, s.to_string());
            }
            (_, DeValue::Integer(_) | DeValue::Float(_)) => match param_value(v, src) {
                Ok(ParamValue::Int(i)) => {
                    e.values.insert(key, Some(i as f64));
                }
                Ok(ParamValue::Float(f)) => {
                    e.values.insert(key, Some(f));
                }
                _ => diags.push(Diagnostic::at(codes::BAD_FIELD, vspan, "expected a number")),
            },
            _ => diags.push(
                Diagnostic::at(
                    codes::BAD_FIELD,
                    vspan,
                    format!("`{key}`: expected a number, \"null\", or a group value"),
                )
                .hint("period = \"2026-01\", a dimension = \"value\", and metric = number"),
            ),
        }
    }
    Some(e)
}
