//! Definition files: TOML with `[metric.ID]` tables and `[params]` defaults.
//! Every key and value keeps its span so diagnostics point into the file.

use std::ops::Range;

use indexmap::IndexMap;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::ast::{Span, SrcId};
use crate::diag::{codes, did_you_mean, Diagnostic, SourceMap};
use crate::schema::ParamValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// Units a metric may carry. Duration units also decide how a duration
/// result is printed (`min` prints minutes).
pub const UNITS: &[&str] = &[
    "%", "count", "score", "currency", "ratio", "s", "min", "h", "d",
];

/// One `[metric.ID]` table.
#[derive(Clone, Debug)]
pub struct MetricDef {
    pub id: String,
    pub id_span: Span,
    /// The file it came from, as shown to users.
    pub file: String,
    pub formula: String,
    /// Source id of the formula text (spans of its AST refer to it).
    pub formula_src: SrcId,
    pub title: Option<String>,
    pub unit: Option<String>,
    pub better: Option<Better>,
    pub target: Option<f64>,
    pub description: Option<String>,
    pub hidden: bool,
    pub replaces: bool,
    /// Where the definition comes from (a seed article, a company wiki page).
    pub source: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ParamDef {
    pub value: ParamValue,
    pub span: Span,
}

/// Everything loaded from definition files, in load order.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    pub metrics: Vec<MetricDef>,
    pub params: IndexMap<String, ParamDef>,
    /// `[[test]]` cases, run by `kpi test`.
    pub tests: Vec<crate::cases::TestCase>,
}

/// Parses a TOML document, turning a syntax error into a located diagnostic.
pub fn parse_toml<'i>(text: &'i str, src: SrcId) -> Result<Spanned<DeTable<'i>>, Diagnostic> {
    DeTable::parse(text).map_err(|e| {
        let r = e.span().unwrap_or(0..0);
        let mut message = e.message().trim().to_string();
        let mut hint = None;
        if message == "duplicate key" {
            if let Some(key) = text.get(r.clone()).filter(|k| !k.is_empty()) {
                message = format!("duplicate key `{key}`");
            }
            hint = Some("a key, and so a metric id, may appear only once in a file");
        } else if message.starts_with("string values must be quoted") {
            hint = Some("quote the value, e.g. formula = 'count(tickets)'");
        } else if message.starts_with("invalid literal string")
            || message.starts_with("invalid basic string")
        {
            hint = Some(
                "a '...' string ends on its line; use '''...''' for a formula over several lines",
            );
        }
        let here = Span::new(src, r.start, r.end);
        let mut d = Diagnostic::at(codes::TOML_SYNTAX, here, message);
        if message_is_duplicate(&d.message) {
            if let Some(first) = first_definition(text, r.clone()) {
                d = Diagnostic::new(codes::TOML_SYNTAX, d.message)
                    .label(here, "defined again here")
                    .label(Span::new(src, first.start, first.end), "first defined here");
            }
        }
        match hint {
            Some(h) => d.hint(h),
            None => d,
        }
    })
}

fn message_is_duplicate(m: &str) -> bool {
    m.starts_with("duplicate key")
}

/// For a duplicate key at `dup`: the same key written on an earlier line
/// with the same text before it (`[metric.tickets]`, `formula =`). TOML's
/// error names only the second one.
fn first_definition(text: &str, dup: Range<usize>) -> Option<Range<usize>> {
    let line_start = text[..dup.start].rfind('\n').map_or(0, |i| i + 1);
    let lead = text[line_start..dup.start].trim_start();
    let key = text.get(dup.clone())?;
    let mut at = 0;
    for line in text[..line_start].split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(rest) = trimmed.strip_prefix(lead).and_then(|r| r.strip_prefix(key)) {
            if !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-') {
                let start = at + indent + lead.len();
                return Some(start..start + key.len());
            }
        }
        at += line.len();
    }
    None
}

pub fn span_of(src: SrcId, r: Range<usize>) -> Span {
    Span::new(src, r.start, r.end)
}

/// Converts a TOML value into a parameter value.
pub fn param_value(v: &Spanned<DeValue<'_>>, src: SrcId) -> Result<ParamValue, Diagnostic> {
    let bad = |msg: String| Diagnostic::at(codes::BAD_FIELD, span_of(src, v.span()), msg);
    Ok(match v.get_ref() {
        DeValue::Integer(i) => ParamValue::Int(
            i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map_err(|e| bad(e.to_string()))?,
        ),
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) if x.is_finite() => ParamValue::Float(x),
            _ => return Err(bad(format!("`{}` is not a finite number", f.as_str()))),
        },
        DeValue::Boolean(b) => ParamValue::Bool(*b),
        DeValue::String(s) => match crate::parse::parse_duration_text(s) {
            Some(d) => ParamValue::Duration(d),
            None => ParamValue::Str(s.to_string()),
        },
        DeValue::Table(t) => {
            let mut m = IndexMap::new();
            let mut ty = None;
            for (k, v) in t.iter() {
                let pv = param_value(v, src)?;
                match (&ty, pv.ty()) {
                    (None, t) => ty = Some(t),
                    (Some(a), b) if *a != b => {
                        return Err(Diagnostic::at(
                            codes::BAD_FIELD,
                            span_of(src, v.span()),
                            format!(
                                "expected {} like the other entries, found {}",
                                a_type(a),
                                a_type(&b)
                            ),
                        ));
                    }
                    _ => {}
                }
                if matches!(pv, ParamValue::Map(_)) {
                    return Err(bad("parameter tables nest one level only".into()));
                }
                m.insert(k.get_ref().to_string(), pv);
            }
            ParamValue::Map(m)
        }
        other => {
            let ty = other.type_str();
            let a = if ty.starts_with('a') { "an" } else { "a" };
            return Err(bad(format!("a parameter cannot be {a} {ty}")));
        }
    })
}

const METRIC_KEYS: &[&str] = &[
    "formula",
    "title",
    "unit",
    "better",
    "target",
    "description",
    "hidden",
    "replaces",
    "source",
];

/// Loads one definition file into `out`, pushing every problem to `diags`.
pub fn load_file(
    path: &str,
    text: &str,
    sources: &mut SourceMap,
    out: &mut Definitions,
    diags: &mut Vec<Diagnostic>,
) {
    let src = sources.add_file(path, text);
    let doc = match parse_toml(text, src) {
        Ok(d) => d,
        Err(d) => return diags.push(d),
    };
    for (key, value) in doc.get_ref().iter() {
        match key.get_ref().as_ref() {
            "metric" => {
                let Some(table) = value.get_ref().as_table() else {
                    diags.push(Diagnostic::at(
                        codes::BAD_FIELD,
                        span_of(src, value.span()),
                        "`metric` must be a table of metrics",
                    ));
                    continue;
                };
                for (id, body) in table.iter() {
                    if let Some(m) = load_metric(path, src, id, body, sources, diags) {
                        out.metrics.push(m);
                    }
                }
            }
            "params" => {
                let Some(table) = value.get_ref().as_table() else {
                    diags.push(Diagnostic::at(
                        codes::BAD_FIELD,
                        span_of(src, value.span()),
                        "`params` must be a table",
                    ));
                    continue;
                };
                for (name, v) in table.iter() {
                    match param_value(v, src) {
                        Ok(value) => {
                            let span = span_of(src, name.span());
                            // A second default would silently change every
                            // metric that reads the first: refuse it.
                            if let Some(first) = out.params.get(name.get_ref().as_ref()) {
                                diags.push(
                                    Diagnostic::new(codes::DUPLICATE, format!("parameter `{}` is defined twice", name.get_ref()))
                                        .label(span, "defined again here")
                                        .label(first.span, "first defined here")
                                        .hint("set a project's own value under [params] in kpi.toml (or with --param); definition files only declare defaults"),
                                );
                                continue;
                            }
                            out.params
                                .insert(name.get_ref().to_string(), ParamDef { value, span });
                        }
                        Err(d) => diags.push(d),
                    }
                }
            }
            "test" => crate::cases::load_cases(path, src, value, &mut out.tests, diags),
            other => {
                let mut d = Diagnostic::at(
                    codes::BAD_FIELD,
                    span_of(src, key.span()),
                    format!("unknown section `{other}`"),
                );
                d = d.hint(did_you_mean(other, ["metric", "params", "test"]).unwrap_or(
                    "a definition file holds `[metric.ID]`, `[params]` and `[[test]]`".into(),
                ));
                diags.push(d);
            }
        }
    }
}

fn load_metric(
    path: &str,
    src: SrcId,
    id: &Spanned<toml::de::DeString<'_>>,
    body: &Spanned<DeValue<'_>>,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<MetricDef> {
    let id_span = span_of(src, id.span());
    let name = id.get_ref().to_string();
    if !is_identifier(&name) {
        diags.push(
            Diagnostic::at(
                codes::BAD_FIELD,
                id_span,
                format!("metric id `{name}` is not a name"),
            )
            .hint("ids are letters, digits and `_`, starting with a letter"),
        );
        return None;
    }
    let Some(table) = body.get_ref().as_table() else {
        diags.push(Diagnostic::at(
            codes::BAD_FIELD,
            span_of(src, body.span()),
            format!("`metric.{name}` must be a table"),
        ));
        return None;
    };
    let mut m = MetricDef {
        id: name.clone(),
        id_span,
        file: path.to_string(),
        formula: String::new(),
        formula_src: src,
        title: None,
        unit: None,
        better: None,
        target: None,
        description: None,
        hidden: false,
        replaces: false,
        source: None,
    };
    let mut has_formula = false;
    let before = diags.len();
    for (key, value) in table.iter() {
        let vspan = span_of(src, value.span());
        let want = |what: &str| {
            Diagnostic::at(
                codes::BAD_FIELD,
                vspan,
                format!("`{}` must be {what}", key.get_ref()),
            )
        };
        let string = |diags: &mut Vec<Diagnostic>| match value.get_ref().as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                diags.push(want("a string"));
                None
            }
        };
        let boolean = |diags: &mut Vec<Diagnostic>| match value.get_ref().as_bool() {
            Some(b) => b,
            None => {
                let mut d = want("true or false");
                if value.get_ref().as_str().is_some() {
                    d = d.hint(format!("write {} = true, without quotes", key.get_ref()));
                }
                diags.push(d);
                false
            }
        };
        match key.get_ref().as_ref() {
            "formula" => {
                if let Some(f) = string(diags) {
                    m.formula_src = sources.add_formula(src, f.clone(), value.span());
                    m.formula = f;
                    has_formula = true;
                }
            }
            "title" => m.title = string(diags),
            "description" => m.description = string(diags),
            "source" => m.source = string(diags),
            "unit" => {
                m.unit = string(diags);
                if let Some(u) = &m.unit {
                    if !UNITS.contains(&u.as_str()) {
                        let mut d = want(&format!("one of {}", UNITS.join(", ")));
                        if let Some(h) = unit_hint(u) {
                            d = d.hint(h);
                        }
                        diags.push(d);
                    }
                }
            }
            "better" => match value.get_ref().as_str() {
                Some("higher") => m.better = Some(Better::Higher),
                Some("lower") => m.better = Some(Better::Lower),
                _ => diags.push(want("\"higher\" or \"lower\"")),
            },
            "target" => match param_value(value, src) {
                Ok(ParamValue::Int(i)) => m.target = Some(i as f64),
                Ok(ParamValue::Float(f)) => m.target = Some(f),
                _ => diags.push(want("a number")),
            },
            "hidden" => m.hidden = boolean(diags),
            "replaces" => m.replaces = boolean(diags),
            other => {
                let mut d = Diagnostic::at(
                    codes::BAD_FIELD,
                    span_of(src, key.span()),
                    format!("unknown field `{other}` in metric `{name}`"),
                );
                if let Some(h) = did_you_mean(other, METRIC_KEYS.iter().copied()) {
                    d = d.hint(h);
                } else {
                    d = d.hint(format!("a metric takes {}", METRIC_KEYS.join(", ")));
                }
                diags.push(d);
            }
        }
    }
    if !has_formula && diags.len() == before {
        diags.push(
            Diagnostic::at(
                codes::BAD_FIELD,
                id_span,
                format!("metric `{name}` has no formula"),
            )
            .hint("add a line such as formula = 'count(tickets)'"),
        );
    }
    (has_formula && diags.len() == before).then_some(m)
}

/// A hint for a unit that is not one of [`UNITS`]: the spelled-out names
/// people write, then near misses.
fn unit_hint(u: &str) -> Option<String> {
    let known = match u.to_ascii_lowercase().as_str() {
        "percent" | "percentage" | "pct" | "percents" => "%",
        "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "mins" | "minute" | "minutes" => "min",
        "hr" | "hrs" | "hour" | "hours" => "h",
        "day" | "days" => "d",
        "number" | "tickets" | "rows" => "count",
        _ => return did_you_mean(u, UNITS.iter().copied()),
    };
    Some(format!("write unit = \"{known}\""))
}

/// `a duration`, `an int`: a type in a sentence.
fn a_type(ty: &crate::Type) -> String {
    match ty.to_string() {
        t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
