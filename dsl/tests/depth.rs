//! The depth limits in front of pest (`MAX_DEPTH`, `MAX_CHAIN`): formulas
//! nested 100,000 deep are refused with a located `TOO_DEEP` error instead of
//! overflowing the stack, on a thread with a 2 MiB stack (the size of a
//! default spawned thread), and failing nested formulas fail fast.

use std::time::{Duration, Instant};

use kpi_dsl::{codes, parse, Code, Schema, MAX_CHAIN, MAX_DEPTH};

const N: usize = 100_000;
const SMALL_STACK: usize = 2 << 20;

/// Runs `f` on a thread with a `stack`-byte stack; a stack overflow aborts
/// the whole test binary, so getting a value back is the assertion.
fn on_stack<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

/// Loads `formula` as the one metric of a definition file, checks it against
/// an empty schema and renders the diagnostics: everything `kpi check` does
/// with a formula.
fn load_check_render(formula: &str) {
    let mut defs = kpi_dsl::Definitions::default();
    let mut sources = kpi_dsl::SourceMap::new();
    let mut diags = Vec::new();
    let toml = format!("[metric.m]\nformula = {}\n", toml_string(formula));
    kpi_dsl::defs::load_file("deep.toml", &toml, &mut sources, &mut defs, &mut diags);
    assert!(diags.is_empty(), "{}", kpi_dsl::render(&diags, &sources));
    let checked = kpi_dsl::check(&defs, &Schema::default());
    diags.extend(checked.diagnostics);
    let _ = kpi_dsl::render(&diags, &sources);
}

/// A TOML multi-line literal string holding `s` (no `'''` in these tests).
fn toml_string(s: &str) -> String {
    assert!(!s.contains("'''"));
    format!("'''{s}'''")
}

/// Parses `text` on a 2 MiB stack, then loads and checks it there too
/// (check parses the formula again and walks whatever comes out).
fn parse_on_small_stack(text: String) -> Result<(), Code> {
    on_stack(SMALL_STACK, move || {
        let parsed = parse(&text, 0).map(|_| ()).map_err(|d| d.code);
        if parsed.is_err() {
            load_check_render(&text);
        }
        parsed
    })
}

fn assert_too_deep(what: &str, text: String) {
    assert_eq!(
        parse_on_small_stack(text),
        Err(codes::TOO_DEEP),
        "{what} must be refused as too deep"
    );
}

#[test]
fn deep_parentheses() {
    assert_too_deep("((((", "(".repeat(N) + "1" + &")".repeat(N));
    // Unclosed: the depth check runs before pest sees the text.
    assert_too_deep("(((( unclosed", "(".repeat(N));
    assert_too_deep("[[[[", "[".repeat(N) + "1" + &"]".repeat(N));
    assert_too_deep("f(f(f(", "f(".repeat(N) + "1" + &")".repeat(N));
    assert_too_deep("x[x[x[", "x[".repeat(N) + "1" + &"]".repeat(N));
    assert_too_deep(
        "count(t@(count(t@(",
        "count(t@(".repeat(N) + "x" + &"))".repeat(N),
    );
}

#[test]
fn deep_if() {
    assert_too_deep(
        "if if if",
        "if ".repeat(N) + "a" + &" then 1 else 2 end".repeat(N),
    );
    assert_too_deep(
        "if .. else if .. else",
        "if a then 1 else ".repeat(N) + "2" + &" end".repeat(N),
    );
}

#[test]
fn deep_prefix_operators() {
    assert_too_deep("- - - -", "-".repeat(N) + "x");
    assert_too_deep("----1", "-".repeat(N) + "1");
    assert_too_deep("not not not", "not ".repeat(N) + "x");
    // `not` and `-` on an operand that is already deep.
    let nested = ("not ".repeat(200) + "(").repeat(20) + "x" + &")".repeat(20);
    assert_too_deep("not (not (...", nested);
    let nested = ("-".repeat(200) + "(").repeat(20) + "x" + &")".repeat(20);
    assert_too_deep("-(-(...", nested);
}

/// Parses `text` on a 2 MiB stack without checking it: for the 100,000-link
/// chains, which pest reads in full (linear, but ~20 µs a link in a debug
/// build) before the tree builder refuses them.
fn assert_too_deep_parse_only(what: &str, text: String) {
    let r = on_stack(SMALL_STACK, move || {
        parse(&text, 0).map(|_| ()).map_err(|d| d.code)
    });
    assert_eq!(
        r,
        Err(codes::TOO_DEEP),
        "{what} must be refused as too deep"
    );
}

#[test]
fn long_postfix_chains() {
    assert_too_deep_parse_only("a.b.c...", "a".to_string() + &".b".repeat(N));
    assert_too_deep(
        "period.end.x...",
        "period.end".to_string() + &".x".repeat(N / 100),
    );
    assert_too_deep("a[1][1]...", "a".to_string() + &"[1]".repeat(N / 100));
}

#[test]
fn long_operator_chains() {
    assert_too_deep_parse_only("+", vec!["x"; N].join(" + "));
    // Past MAX_CHAIN is enough for the other operators and the check.
    for op in ["+", "-", "*", "/", "and", "or"] {
        assert_too_deep(op, vec!["x"; N / 100].join(&format!(" {op} ")));
    }
    // Comparisons do not chain: a syntax error, not a deep tree.
    let r = parse_on_small_stack(vec!["x"; N / 100].join(" == "));
    assert_eq!(r, Err(codes::SYNTAX));
    // Mixed precedence levels, each chain short, the tree deep.
    assert_too_deep("a * b + a * b ...", vec!["a * b"; N / 100].join(" + "));
}

/// Ways the nesting count before pest could be fooled, found while writing
/// these tests: a `"` in a comment hid every later bracket, and `period.end`
/// (or `end` in a comment) counted as the `end` of an `if`.
#[test]
fn the_nesting_count_is_not_fooled() {
    assert_too_deep(
        "a quote in a comment",
        "# \"\n".to_string() + &"(".repeat(N) + "1" + &")".repeat(N),
    );
    assert_too_deep(
        "period.end unwinding ifs",
        "if period.end then ".repeat(N) + "1" + &" else 2 end".repeat(N),
    );
    assert_too_deep(
        "`end` in comments",
        "if a then # end\n".repeat(N) + "1" + &" else 2 end".repeat(N),
    );
    // Brackets in strings do not count.
    let strings = format!("f({})", vec!["\"((((\\\"((((\""; 100].join(", "));
    assert_eq!(parse_on_small_stack(strings), Ok(()));
}

/// Formulas at the limits parse on the same 2 MiB stack. Checking them
/// needs more in a debug build (the checker's frames are large when
/// unoptimized; the CLI runs on a thread with a large stack), so the check
/// runs on 2 MiB only in release builds.
#[test]
fn within_the_limits_parses() {
    let (d, c) = (MAX_DEPTH, MAX_CHAIN);
    let formulas = [
        "(".repeat(d) + "1" + &")".repeat(d),
        "if a then 1 else ".repeat(d) + "2" + &" end".repeat(d),
        "if ".repeat(d) + "a" + &" then 1 else 2 end".repeat(d),
        "count(t@(".repeat(d / 2) + "x" + &"))".repeat(d / 2),
        "f(".repeat(d) + "x" + &")".repeat(d),
        "[".repeat(d) + "x" + &"]".repeat(d),
        vec!["x"; c].join(" + "),
        "-".repeat(c - 1) + "x",
        "not ".repeat(c - 1) + "x",
        "a".to_string() + &".b".repeat(c - 1),
    ];
    let check_stack = if cfg!(debug_assertions) {
        64 << 20
    } else {
        SMALL_STACK
    };
    for text in formulas {
        let t = text.clone();
        let parsed = on_stack(SMALL_STACK, move || {
            parse(&t, 0).map(|e| e.to_string()).map_err(|d| d.message)
        });
        let printed = parsed.unwrap_or_else(|m| panic!("{}: {m}", &text[..60.min(text.len())]));
        // Printing and parsing again gives the same text.
        let again = on_stack(SMALL_STACK, move || {
            parse(&printed, 0).map(|e| e.to_string())
        });
        assert!(again.is_ok());
        on_stack(check_stack, move || load_check_render(&text));
    }
}

/// pest does not memoize: alternatives that both parse a nested expression
/// before failing made failing formulas exponential in their nesting
/// (`count(t@(` twelve deep took minutes). Each of these must fail fast.
#[test]
fn failing_nested_formulas_fail_fast() {
    let d = MAX_DEPTH / 2;
    for (open, close) in [
        ("count(t@(", "))"),
        ("count(t@count(t@", ")"),
        ("count(t: ", ")"),
        ("percentile(t: x, ", ")"),
        ("count(t: a, b, ", ")"),
        ("prev(", " by k)"),
        ("prev(a, ", ")"),
        ("f(t@(", "))"),
        ("f(t: ", ")"),
        ("f(", ")"),
        ("x[", "]"),
        ("[", "]"),
        ("if a then ", " else 1 end"),
    ] {
        // Unclosed at the innermost level, and closed but for a dangling `+`.
        for text in [
            open.repeat(d) + "x",
            open.repeat(d) + "x" + &close.repeat(d) + " +",
        ] {
            let t = Instant::now();
            let r = on_stack(SMALL_STACK, {
                let text = text.clone();
                move || parse(&text, 0).map(|_| ())
            });
            assert!(r.is_err(), "{text}");
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "{open}: {:?}",
                t.elapsed()
            );
        }
    }
}

/// Checks a definition file, returning its diagnostics (code and message)
/// and the ids of the metrics that passed. On a 2 MiB stack in release
/// builds; the checker's frames are large unoptimized (see above).
fn check_file(file: String) -> (Vec<(&'static str, String)>, Vec<String>) {
    let stack = if cfg!(debug_assertions) {
        64 << 20
    } else {
        SMALL_STACK
    };
    on_stack(stack, move || {
        let mut defs = kpi_dsl::Definitions::default();
        let mut sources = kpi_dsl::SourceMap::new();
        let mut diags = Vec::new();
        kpi_dsl::defs::load_file("refs.toml", &file, &mut sources, &mut defs, &mut diags);
        let checked = kpi_dsl::check(&defs, &Schema::default());
        diags.extend(checked.diagnostics);
        let _ = kpi_dsl::render(&diags, &sources);
        (
            diags
                .iter()
                .map(|d| (d.code.id, d.message.clone()))
                .collect(),
            checked.metrics.keys().cloned().collect(),
        )
    })
}

/// The IR copies a metric's tree into each metric naming it: chains and
/// doublings are bounded instead of growing the trees (and the recursion
/// over them) without end. 25 doubling metrics took 18 GB before.
#[test]
fn metric_references_are_bounded() {
    let m0 = "[metric.m0]\nformula = '1'\n";
    let doubling: String = (1..40)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{0} + m{0}'\n", i - 1))
        .collect();
    let (diags, ok) = check_file(format!("{m0}{doubling}"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].0, "E0102");
    assert!(diags[0].1.contains("nodes"), "{diags:?}");
    assert!(ok.len() > 10 && ok.len() < 20, "{ok:?}");
    // A chain 3,000 long: refused where the expanded tree gets too deep.
    let chain: String = (1..3000)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{} + 1'\n", i - 1))
        .collect();
    let (diags, ok) = check_file(format!("{m0}{chain}"));
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].1.contains("levels deep"), "{diags:?}");
    assert!(ok.len() > 500, "{}", ok.len());
    // Defined in reverse, checking follows the references depth-first.
    let reverse: String = (0..3000)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{} + 1'\n", i + 1))
        .collect();
    let (diags, _) = check_file(format!("{reverse}[metric.m3000]\nformula = '1'\n"));
    assert!(!diags.is_empty());
    for (code, message) in &diags {
        assert_eq!(*code, "E0102");
        assert!(message.contains("more than 64 deep"), "{message}");
    }
    // Short chains are fine.
    let chain: String = (1..50)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{} * 2'\n", i - 1))
        .collect();
    let (diags, ok) = check_file(format!("{m0}{chain}"));
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ok.len(), 50);
}
