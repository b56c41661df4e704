//! Property tests of the formula language front end:
//!
//! * random formula trees covering every construct print to text that
//!   parses back to the same tree (modulo spans), and printing that tree
//!   gives the same text again (a fixed point);
//! * parse + check + render never panic, on arbitrary strings, on mutations
//!   of the built-in definitions' formulas, on printed random trees, and on
//!   arbitrary definition files.
//!
//! Case counts follow proptest's default (256, or `PROPTEST_CASES`).

use indexmap::IndexMap;
use kpi_dsl::ast::{AggFunc, Aggregate, Axis, BinOp, Expr, ExprKind, Ident, Span, WindowFunc};
use kpi_dsl::schema::ExternalFunction;
use kpi_dsl::{parse, ParamValue, Relation, Schema, TableSchema, Type};
use proptest::prelude::*;
use proptest::test_runner::Config;

// ---------------------------------------------------------------------------
// Generating trees in the form the parser builds them.

const KEYWORDS: &[&str] = &[
    "or", "and", "not", "is", "null", "in", "between", "if", "then", "elif", "else", "end", "true",
    "false", "where", "all", "by",
];
const AGGREGATES: &[&str] = &[
    "count",
    "count_distinct",
    "sum",
    "avg",
    "min",
    "max",
    "median",
    "percentile",
];

/// Names: the schema's (so checking reaches the typed paths), look-alikes
/// of keywords and functions, `params` and `period` as plain names.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "tickets", "messages", "created_at", "solved_at", "channel", "priority", "escalated",
            "contacts", "handle_time", "agent_id", "ticket", "customer_id", "author_role", "body",
            "sla", "target", "x", "_y2",
        ])
        .prop_map(str::to_string),
        1 => prop::sample::select(vec![
            "params", "period", "count", "prev", "next", "ends", "iff", "all_", "nulls", "e", "e1",
            "abs", "coalesce", "hours",
        ])
        .prop_map(str::to_string),
        2 => "[a-z_][a-z0-9_]{0,6}"
            .prop_filter("not a keyword", |s| !KEYWORDS.contains(&s.as_str())),
    ]
}

fn ident() -> impl Strategy<Value = Ident> {
    name().prop_map(|name| Ident {
        name,
        span: Span::default(),
    })
}

/// A name after `period.`, which may be a keyword.
fn period_name() -> impl Strategy<Value = Ident> {
    prop_oneof![
        prop::sample::select(vec!["start", "end", "if", "all", "x"]).prop_map(str::to_string),
        name(),
    ]
    .prop_map(|name| Ident {
        name,
        span: Span::default(),
    })
}

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn bx(x: Expr) -> Box<Expr> {
    Box::new(x)
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z \"\\\\\n\t\r#()\\[\\]{}'é]{0,8}",
        any::<String>(),
        Just("if end ( ] #".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (0i64..1000).prop_map(|v| e(ExprKind::Int(v))),
        // Negative literals are folded by the parser: `-5` is Int(-5).
        prop_oneof![Just(i64::MAX), 1i64..i64::MAX, 1i64..100].prop_map(|v| e(ExprKind::Int(-v))),
        any::<i64>()
            .prop_filter("i64::MIN has no literal", |v| *v != i64::MIN)
            .prop_map(|v| e(ExprKind::Int(v))),
        prop_oneof![
            prop::num::f64::POSITIVE | prop::num::f64::ZERO,
            Just(1e20),
            Just(1e15),
            Just(0.1),
            Just(5e-324),
            Just(f64::MAX),
        ]
        .prop_filter("finite", |v| v.is_finite())
        .prop_flat_map(|v| prop_oneof![Just(v), Just(-v)].boxed())
        // -0.0 reads back as 0.0 with a minus: not a literal the parser builds.
        .prop_filter("no negative zero", |v| !(*v == 0.0 && v.is_sign_negative()))
        .prop_map(|v| e(ExprKind::Float(v))),
        // Durations are whole milliseconds (the smallest unit).
        prop_oneof![0i64..100_000_000, 0i64..i64::MAX / 1000]
            .prop_map(|ms| e(ExprKind::Duration(ms * 1000))),
        string().prop_map(|s| e(ExprKind::Str(s))),
        any::<bool>().prop_map(|b| e(ExprKind::Bool(b))),
        Just(e(ExprKind::Null)),
        name().prop_map(|n| e(ExprKind::Ident(n))),
        ident().prop_map(|n| e(ExprKind::Param(n))),
        period_name().prop_map(|n| e(ExprKind::Period(n))),
    ]
}

fn binop() -> impl Strategy<Value = BinOp> {
    prop::sample::select(BinOp::ALL.to_vec())
}

/// `-x` as the parser builds it: a minus before a positive literal is part
/// of the literal.
fn neg(x: Expr) -> Expr {
    match x.kind {
        ExprKind::Int(v) if v > 0 => e(ExprKind::Int(-v)),
        ExprKind::Float(v) if v > 0.0 => e(ExprKind::Float(-v)),
        kind => e(ExprKind::Neg(bx(e(kind)))),
    }
}

fn formula() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        let axis = prop_oneof![
            Just(Axis::All(Span::default())),
            inner.clone().prop_map(|x| Axis::Expr(bx(x))),
        ];
        let aggregate = (
            prop::sample::select(AGGREGATES.to_vec()),
            ident(),
            prop::option::of(axis.clone()),
            prop::option::of((inner.clone(), prop::option::of(inner.clone()))),
            prop::option::of(inner.clone()),
        )
            .prop_map(|(func, table, axis, args, filter)| {
                let (arg, extra) = match args {
                    Some((a, x)) => (Some(bx(a)), x.map(bx)),
                    None => (None, None),
                };
                e(ExprKind::Aggregate(Aggregate {
                    func: AggFunc::from_name(func).expect("an aggregate"),
                    table,
                    axis,
                    arg,
                    extra,
                    filter: filter.map(bx),
                    plugin: None,
                }))
            });
        // A plugin's aggregate; a built-in name with three or more
        // arguments reads as one too.
        let plugin_name = prop_oneof![
            name().prop_filter("not an aggregate", |n| !AGGREGATES.contains(&n.as_str())),
            prop::sample::select(AGGREGATES.to_vec()).prop_map(str::to_string),
        ];
        let plugin = (
            plugin_name,
            ident(),
            prop::option::of(axis),
            prop::collection::vec(inner.clone(), 1..4),
            prop::option::of(inner.clone()),
        )
            .prop_filter(
                "a built-in name needs 3+ arguments",
                |(n, _, _, args, _)| !AGGREGATES.contains(&n.as_str()) || args.len() >= 3,
            )
            .prop_map(|(n, table, axis, args, filter)| {
                e(ExprKind::Aggregate(Aggregate {
                    func: AggFunc::Plugin,
                    table,
                    axis,
                    arg: None,
                    extra: None,
                    filter: filter.map(bx),
                    plugin: Some((
                        Ident {
                            name: n,
                            span: Span::default(),
                        },
                        args,
                    )),
                }))
            });
        let call_name = name().prop_filter("aggregates with a table read as aggregates", |n| {
            !AGGREGATES.contains(&n.as_str())
        });
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(|v| e(ExprKind::List(v))),
            1 => (inner.clone(), ident()).prop_map(|(x, n)| e(ExprKind::Field(bx(x), n))),
            1 => (inner.clone(), inner.clone())
                .prop_map(|(x, i)| e(ExprKind::Index(bx(x), bx(i)))),
            1 => inner.clone().prop_map(neg),
            1 => inner.clone().prop_map(|x| e(ExprKind::Not(bx(x)))),
            3 => (binop(), inner.clone(), inner.clone())
                .prop_map(|(op, l, r)| e(ExprKind::Binary(op, bx(l), bx(r)))),
            1 => (inner.clone(), any::<bool>()).prop_map(|(x, negated)| e(ExprKind::IsNull {
                expr: bx(x),
                negated
            })),
            1 => (inner.clone(), inner.clone(), any::<bool>()).prop_map(|(x, l, negated)| e(
                ExprKind::In {
                    expr: bx(x),
                    list: bx(l),
                    negated
                }
            )),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(x, lo, hi)| e(
                ExprKind::Between {
                    expr: bx(x),
                    low: bx(lo),
                    high: bx(hi)
                }
            )),
            1 => (
                prop::collection::vec((inner.clone(), inner.clone()), 1..3),
                inner.clone()
            )
                .prop_map(|(branches, o)| e(ExprKind::If {
                    branches,
                    otherwise: bx(o)
                })),
            2 => aggregate,
            1 => plugin,
            1 => (any::<bool>(), inner.clone(), inner.clone()).prop_map(|(prev, v, k)| e(
                ExprKind::Window {
                    func: if prev {
                        WindowFunc::Prev
                    } else {
                        WindowFunc::Next
                    },
                    value: bx(v),
                    key: bx(k)
                }
            )),
            1 => (call_name, prop::collection::vec(inner.clone(), 0..4)).prop_map(|(n, args)| e(
                ExprKind::Call {
                    name: Ident {
                        name: n,
                        span: Span::default()
                    },
                    args
                }
            )),
        ]
    })
}

// ---------------------------------------------------------------------------
// Comparing trees modulo spans.

fn strip(x: &mut Expr) {
    x.span = Span::default();
    let id = |i: &mut Ident| i.span = Span::default();
    match &mut x.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Duration(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Ident(_) => {}
        ExprKind::List(items) => items.iter_mut().for_each(strip),
        ExprKind::Field(a, n) => {
            strip(a);
            id(n);
        }
        ExprKind::Index(a, b) => {
            strip(a);
            strip(b);
        }
        ExprKind::Param(n) | ExprKind::Period(n) => id(n),
        ExprKind::Neg(a) | ExprKind::Not(a) => strip(a),
        ExprKind::Binary(_, a, b) => {
            strip(a);
            strip(b);
        }
        ExprKind::IsNull { expr, .. } => strip(expr),
        ExprKind::In { expr, list, .. } => {
            strip(expr);
            strip(list);
        }
        ExprKind::Between { expr, low, high } => {
            strip(expr);
            strip(low);
            strip(high);
        }
        ExprKind::If {
            branches,
            otherwise,
        } => {
            for (c, v) in branches {
                strip(c);
                strip(v);
            }
            strip(otherwise);
        }
        ExprKind::Aggregate(a) => {
            id(&mut a.table);
            match &mut a.axis {
                Some(Axis::All(s)) => *s = Span::default(),
                Some(Axis::Expr(x)) => strip(x),
                None => {}
            }
            for x in [&mut a.arg, &mut a.extra, &mut a.filter]
                .into_iter()
                .flatten()
            {
                strip(x);
            }
            if let Some((n, args)) = &mut a.plugin {
                id(n);
                args.iter_mut().for_each(strip);
            }
        }
        ExprKind::Window { value, key, .. } => {
            strip(value);
            strip(key);
        }
        ExprKind::Call { name, args } => {
            id(name);
            args.iter_mut().for_each(strip);
        }
    }
}

fn reparse(text: &str) -> Result<Expr, String> {
    let mut x = parse(text, 0).map_err(|d| format!("{}: {}", d.code.id, d.message))?;
    strip(&mut x);
    Ok(x)
}

// ---------------------------------------------------------------------------
// Parse + check + render, which must not panic.

/// A schema shaped like the canonical one: typed columns, time axes, an
/// interval, relations, dimensions, parameters of every kind and plugin
/// functions (scalar and aggregate).
fn schema() -> Schema {
    let mut tickets = TableSchema {
        time: Some("created_at".into()),
        interval: Some(("created_at".into(), "solved_at".into())),
        ..Default::default()
    };
    for (c, t) in [
        ("id", Type::String),
        ("created_at", Type::Timestamp),
        ("solved_at", Type::Timestamp),
        ("channel", Type::String),
        ("priority", Type::String),
        ("agent_id", Type::String),
        ("customer_id", Type::String),
        ("escalated", Type::Bool),
        ("contacts", Type::Int),
        ("handle_time", Type::Duration),
        ("score", Type::Float),
    ] {
        tickets.columns.insert(c.into(), t);
    }
    tickets.dimensions.insert("agent".into(), "agent_id".into());
    tickets
        .dimensions
        .insert("channel".into(), "channel".into());
    let mut messages = TableSchema {
        time: Some("created_at".into()),
        ..Default::default()
    };
    for (c, t) in [
        ("id", Type::String),
        ("ticket_id", Type::String),
        ("created_at", Type::Timestamp),
        ("author_role", Type::String),
        ("body", Type::String),
    ] {
        messages.columns.insert(c.into(), t);
    }
    messages.relations.insert(
        "ticket".into(),
        Relation {
            column: "ticket_id".into(),
            table: "tickets".into(),
            key: "id".into(),
        },
    );
    messages
        .dimensions
        .insert("channel".into(), "ticket.channel".into());
    let mut tables = IndexMap::new();
    tables.insert("tickets".to_string(), tickets);
    tables.insert("messages".to_string(), messages);
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
    params.insert("empty".to_string(), ParamValue::Map(IndexMap::new()));
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
        functions.insert(
            name.to_string(),
            ExternalFunction {
                name: name.into(),
                args,
                returns,
                aggregate,
                doc: String::new(),
                plugin: "test".into(),
            },
        );
    }
    Schema {
        tables,
        params,
        functions,
    }
}

/// Loads `file` as a definition file, checks it and renders every
/// diagnostic, as `kpi check` does.
fn load_and_check(file: &str, schema: &Schema) {
    let mut defs = kpi_dsl::Definitions::default();
    let mut sources = kpi_dsl::SourceMap::new();
    let mut diags = Vec::new();
    kpi_dsl::defs::load_file("kpis/fuzz.toml", file, &mut sources, &mut defs, &mut diags);
    let checked = kpi_dsl::check(&defs, schema);
    diags.extend(checked.diagnostics);
    let _ = kpi_dsl::render(&diags, &sources);
    for m in checked.metrics.values() {
        let _ = format!("{:?}", m.expr);
    }
}

/// A definition file with `formula` as its one metric (and a second metric
/// referring to it), quoted as a TOML basic string.
fn definition_file(formula: &str) -> String {
    let quoted: String = formula
        .chars()
        .flat_map(|c| match c {
            '"' => "\\\"".chars().collect::<Vec<_>>(),
            '\\' => "\\\\".chars().collect(),
            '\n' => "\\n".chars().collect(),
            '\r' => "\\r".chars().collect(),
            '\t' => "\\t".chars().collect(),
            c if c.is_control() => format!("\\u{:04x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect();
    format!(
        "[metric.m]\nformula = \"{quoted}\"\nunit = \"%\"\n\n[metric.uses_m]\nformula = \"m * 2 + params.target\"\n"
    )
}

/// Formulas of the built-in definitions, the seeds of the mutations.
fn seed_formulas() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../metrics.d");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        if let Some(metrics) = doc.get("metric").and_then(|m| m.as_table()) {
            for m in metrics.values() {
                if let Some(f) = m.get("formula").and_then(|f| f.as_str()) {
                    out.push(f.to_string());
                }
            }
        }
    }
    out.extend(
        [
            "sum(tickets@solved_at: count(messages where author_role == \"agent\")) / count(tickets@solved_at)",
            "percentile(tickets: solved_at - created_at, 0.9 where channel in [\"email\", \"chat\"])",
            "count(tickets@(period.end - 1d))",
            "avg(tickets: created_at - prev(created_at by customer_id))",
            "if a then 1 elif b then 2 else 3 end",
            "x between 1 and 2 and y is not null",
            "params.sla[priority] >= 2h",
            "pec_score(messages: body, author_role where ticket.escalated)",
            "count(tickets@all where not escalated) # comment\n + 1",
        ]
        .map(String::from),
    );
    assert!(out.len() > 20, "the built-in definitions were not found");
    out
}

/// Pieces spliced into formulas: tokens of every kind, and broken ones.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\\",
    "#",
    "\n",
    "@",
    "@all",
    ":",
    ",",
    ".",
    "..",
    "+",
    "-",
    "*",
    "/",
    "==",
    "!=",
    "<",
    "<=",
    "=",
    "!",
    "%",
    "'",
    " and ",
    " or ",
    " not ",
    " is ",
    " null ",
    " in ",
    " between ",
    " if ",
    " then ",
    " elif ",
    " else ",
    " end ",
    " where ",
    " by ",
    "true",
    "params.",
    "period.",
    "period.end",
    "count(",
    "prev(",
    "sum(tickets: ",
    "1h30m",
    "0ms",
    "1.5e300",
    "1e999",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "ü",
    "\u{0}",
    "\r",
    "\u{feff}",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<usize>(), 1usize..8).prop_map(|(a, n)| Mutation::Delete(a, n)),
        2 => (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::Insert(a, t)),
        1 => (any::<usize>(), 1usize..16).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Applies `m` at char boundaries of `s`.
fn mutate(s: &mut String, m: &Mutation) {
    let bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let at = |i: usize| bounds[i % bounds.len()];
    match *m {
        Mutation::Delete(a, n) => {
            let start = at(a);
            let end = bounds
                [(bounds.iter().position(|b| *b == start).unwrap_or(0) + n).min(bounds.len() - 1)];
            s.replace_range(start..end, "");
        }
        Mutation::Insert(a, t) => s.insert_str(at(a), t),
        Mutation::Duplicate(a, n) => {
            let start = at(a);
            let end = bounds
                [(bounds.iter().position(|b| *b == start).unwrap_or(0) + n).min(bounds.len() - 1)];
            let piece = s[start..end].to_string();
            s.insert_str(end, &piece);
        }
        Mutation::Truncate(a) => s.truncate(at(a)),
    }
}

fn config() -> Config {
    Config {
        // Findings become named regression tests below, not files.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// print → parse gives the same tree, and print → parse → print the
    /// same text.
    #[test]
    fn print_parse_print_is_a_fixed_point(tree in formula()) {
        let printed = tree.to_string();
        let parsed = reparse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}\n  does not parse: {}", parsed.unwrap_err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &tree, "{}", printed);
        prop_assert_eq!(parsed.to_string(), printed);
    }

    /// Printed random trees are well-formed but mostly ill-typed: they reach
    /// the checker's every branch.
    #[test]
    fn checking_printed_trees_never_panics(tree in formula()) {
        load_and_check(&definition_file(&tree.to_string()), &schema());
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = parse(&text, 0);
        load_and_check(&definition_file(&text), &schema());
    }

    #[test]
    fn parsing_mutated_formulas_never_panics(
        seed in prop::sample::select(seed_formulas()),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut text = seed;
        for m in &mutations {
            mutate(&mut text, m);
        }
        if let Ok(x) = parse(&text, 0) {
            // Whatever parses prints back to text that parses the same.
            let printed = x.to_string();
            let mut x = x;
            strip(&mut x);
            let again = reparse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&x), "{} printed as {}", text, printed);
        }
        load_and_check(&definition_file(&text), &schema());
    }

    /// Whole definition files: arbitrary text, and text spliced from TOML
    /// pieces around a formula.
    #[test]
    fn loading_arbitrary_definition_files_never_panics(
        text in prop_oneof![
            any::<String>(),
            prop::collection::vec(prop::sample::select(vec![
                "[metric.a]\n", "[metric.b]\n", "[metric]\n", "[[metric]]\n", "[params]\n",
                "[[test]]\n", "formula = \"count(tickets)\"\n", "formula = 'a +'\n",
                "formula = 3\n", "formula = \"\"\"\ncount(tickets)\n\"\"\"\n", "unit = \"%\"\n",
                "unit = \"bogus\"\n", "better = \"higher\"\n", "target = 0.9\n",
                "target = \"x\"\n", "hidden = true\n", "replaces = true\n", "sla = \"30m\"\n",
                "sla = { high = \"1h\", low = 2 }\n", "x = nan\n", "x = inf\n", "x = 1e999\n",
                "metrics = [\"a\"]\n", "period = \"month\"\n", "expect = { a = 1 }\n",
                "rows = []\n", "=\n", "\"\n", "[\n", "a.b.c = 1\n", "\u{feff}", "\r\n",
            ]), 0..12).prop_map(|parts| parts.concat()),
        ]
    ) {
        load_and_check(&text, &schema());
    }
}

// ---------------------------------------------------------------------------
// What the properties found, kept as named cases.

fn roundtrips(text: &str) {
    let x = reparse(text).unwrap_or_else(|m| panic!("{text}: {m}"));
    let printed = x.to_string();
    assert_eq!(
        reparse(&printed).as_ref(),
        Ok(&x),
        "{text} printed as {printed}"
    );
    assert_eq!(reparse(&printed).map(|x| x.to_string()), Ok(printed));
}

/// A whole float kept its `.0` only below 1e15: 1e20 printed as
/// `100000000000000000000`, which reads back as an integer out of range.
#[test]
fn large_whole_floats_stay_floats() {
    for text in [
        "1e20",
        "1.0e15",
        "123456789012345680.0",
        "1.7976931348623157e308",
    ] {
        roundtrips(text);
        assert!(matches!(reparse(text).unwrap().kind, ExprKind::Float(_)));
    }
    let x = e(ExprKind::Float(1e20));
    assert_eq!(reparse(&x.to_string()), Ok(x));
}

/// `(params).x` is a field of a column named `params`; printed bare it read
/// back as the parameter `params.x`.
#[test]
fn a_column_named_params_keeps_its_brackets() {
    roundtrips("(params).x");
    roundtrips("(period).x");
    assert!(matches!(
        reparse("(params).x").unwrap().kind,
        ExprKind::Field(..)
    ));
}

/// The axis took `(expr)` before the postfix form, so `t@(a + b).c` (which
/// the printer writes for that axis) did not parse.
#[test]
fn bracketed_axis_with_a_field() {
    roundtrips("count(t@(a + b).c)");
    roundtrips("count(t@(x)[1] where y)");
}

/// A built-in aggregate with three or more arguments reads as a plugin's
/// aggregate of that name, and `prev(x)` without `by` as a call; both as
/// before the grammar merged those forms.
#[test]
fn merged_forms_build_the_same_trees() {
    let x = reparse("count(t: a, b, c where d)").unwrap();
    let ExprKind::Aggregate(a) = &x.kind else {
        panic!("{x:?}")
    };
    assert_eq!(a.func, AggFunc::Plugin);
    assert_eq!(
        a.plugin.as_ref().map(|(n, v)| (n.name.as_str(), v.len())),
        Some(("count", 3))
    );
    assert!(a.filter.is_some());
    for text in ["prev(x)", "prev()", "next(a, b)"] {
        assert!(
            matches!(reparse(text).unwrap().kind, ExprKind::Call { .. }),
            "{text}"
        );
        roundtrips(text);
    }
    assert!(matches!(
        reparse("prev(x by k)").unwrap().kind,
        ExprKind::Window { .. }
    ));
    assert!(parse("prev(a, b by c)", 0).is_err());
    assert!(parse("f(a by c)", 0).is_err());
}

#[test]
fn negative_durations_print_with_a_sign() {
    assert_eq!(kpi_dsl::ast::format_duration(-5_400_000_000), "-1h30m");
    assert_eq!(
        kpi_dsl::ast::format_duration(i64::MIN).chars().next(),
        Some('-')
    );
}

/// Prints a few generated formulas (`cargo test -- --ignored --nocapture`),
/// to see what the generator makes.
#[test]
#[ignore]
fn show_generated_formulas() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::default();
    for _ in 0..20 {
        let tree = formula().new_tree(&mut runner).expect("a tree").current();
        println!("{tree}");
    }
}
