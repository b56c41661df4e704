//! Bytes → formula and definition file → `kpi_dsl::parse`, `kpi_dsl::check`
//! against the canonical schema → rendered diagnostics. Any panic, stack
//! overflow or slow input is a finding; so is a parsed formula whose printed
//! form does not parse back to the same text.
#![no_main]

use std::sync::OnceLock;

use indexmap::IndexMap;
use kpi_dsl::schema::ExternalFunction;
use kpi_dsl::{Definitions, ParamValue, Schema, SourceMap, Type};
use libfuzzer_sys::fuzz_target;

/// The canonical tables, parameters of every kind and a scalar and an
/// aggregate plugin function.
fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut sla = IndexMap::new();
        sla.insert("high".to_string(), ParamValue::Duration(3_600_000_000));
        sla.insert("low".to_string(), ParamValue::Duration(86_400_000_000));
        let mut params = IndexMap::new();
        params.insert("sla".to_string(), ParamValue::Map(sla));
        params.insert("target".to_string(), ParamValue::Float(0.9));
        params.insert("n".to_string(), ParamValue::Int(3));
        params.insert("on".to_string(), ParamValue::Bool(true));
        params.insert("channel".to_string(), ParamValue::Str("email".into()));
        params.insert("wait".to_string(), ParamValue::Duration(60_000_000));
        let mut functions = IndexMap::new();
        for (name, args, returns, aggregate) in [
            ("sentiment", vec![Type::String], Type::Float, false),
            (
                "pec_score",
                vec![Type::String, Type::String],
                Type::Float,
                true,
            ),
        ] {
            let f = ExternalFunction {
                name: name.into(),
                args,
                returns,
                aggregate,
                doc: String::new(),
                plugin: "fuzz".into(),
            };
            functions.insert(name.to_string(), f);
        }
        Schema {
            tables: kpi_engine::canonical::tables(),
            params,
            functions,
        }
    })
}

/// Printing a parsed formula gives text that parses to the same print.
fn assert_roundtrip(formula: &str) {
    if let Ok(e) = kpi_dsl::parse(formula, 0) {
        let printed = e.to_string();
        match kpi_dsl::parse(&printed, 0) {
            Ok(again) => assert_eq!(again.to_string(), printed, "formula: {formula:?}"),
            Err(d) => panic!(
                "{formula:?} printed as {printed:?}, which does not parse: {}",
                d.message
            ),
        }
    }
}

/// Loads `file` as a definition file, checks it and renders everything.
fn load_check(file: &str) {
    let mut defs = Definitions::default();
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    kpi_dsl::defs::load_file("kpis/fuzz.toml", file, &mut sources, &mut defs, &mut diags);
    for m in &defs.metrics {
        assert_roundtrip(&m.formula);
    }
    let checked = kpi_dsl::check(&defs, schema());
    diags.extend(checked.diagnostics);
    let _ = kpi_dsl::render(&diags, &sources);
}

/// `formula` as the one metric of a definition file (a TOML basic string).
fn as_definition(formula: &str) -> String {
    let mut quoted = String::with_capacity(formula.len() + 8);
    for c in formula.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    format!("[metric.m]\nformula = \"{quoted}\"\n\n[metric.n]\nformula = \"m + 1\"\n")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The bytes as one formula...
    assert_roundtrip(&text);
    load_check(&as_definition(&text));
    // ...and as a whole definition file.
    load_check(&text);
});
