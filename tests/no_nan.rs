//! Numbers (issue 6): no NaN or infinity in any output format, and results
//! identical across runs.
//!
//! - Every snapshot under tests/snapshots/ is scanned for NaN / inf /
//!   infinity in value positions: the `value` column of a CSV result, the
//!   `"value"` of a JSON row, the cells of a result table. (Error messages
//!   may say "NaN" — a plugin that returned one is refused by name — and a
//!   reject may quote the offending text; those are not values.)
//! - The example project (examples/support) is run in csv, json, jsonl and
//!   table formats: no such token, every value finite or null, and the three
//!   machine formats agree on every value (so a NaN cannot hide as a JSON
//!   null).
//! - Two runs give byte-identical CSV and JSON.

use crate::common::{csv_rows, kpi_in, root};

/// Whether `token` reads as NaN or an infinity (Rust's float syntax, which
/// takes `NaN`, `inf`, `-inf`, `infinity` in any case, and overflowing
/// literals like `1e999`; JSON's `Infinity` too).
fn non_finite(token: &str) -> bool {
    let t = token.trim().trim_matches('"');
    t.parse::<f64>().is_ok_and(|x| !x.is_finite())
}

/// The values of a text, by position: `(where, value)`.
fn values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    // CSV results: a header starting `period_start,period_end,` with a
    // `value` column, and the records under it with as many fields.
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if line.starts_with("period_start,period_end,") {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&text.as_bytes()[offset..]);
            let mut records = r.records();
            let header = records.next().and_then(Result::ok).unwrap_or_default();
            if let Some(k) = header.iter().position(|h| h == "value") {
                for rec in records {
                    let Some(rec) = rec.ok().filter(|r| r.len() == header.len()) else {
                        break;
                    };
                    let at = n as u64 + rec.position().map_or(0, |p| p.line());
                    out.push((format!("CSV line {at}"), rec[k].to_string()));
                }
            }
        }
        offset += line.len();
    }
    // JSON: every `"value":` and the token after it.
    for (n, line) in lines.iter().enumerate() {
        let mut rest = *line;
        while let Some(p) = rest.find("\"value\":") {
            rest = rest[p + 8..].trim_start();
            let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
            out.push((
                format!("JSON line {}", n + 1),
                rest[..end].trim().to_string(),
            ));
            rest = &rest[end..];
        }
    }
    // Result tables: rows inside the border, `│ cell  cell … │`.
    for (n, line) in lines.iter().enumerate() {
        if let Some(inner) = line.strip_prefix('│') {
            for cell in inner.trim_end_matches('│').split_whitespace() {
                out.push((format!("table line {}", n + 1), cell.to_string()));
            }
        }
    }
    out
}

/// The non-finite values of `text`, with where they are.
fn bad_values(text: &str) -> Vec<(String, String)> {
    values(text)
        .into_iter()
        .filter(|(_, v)| non_finite(v))
        .collect()
}

#[test]
fn the_scanner_finds_non_finite_values_and_ignores_prose() {
    let csv = "period_start,period_end,metric,value,unit\n\
               2026-01-01,2026-02-01,a,1.5,%\n\
               2026-01-01,2026-02-01,b,NaN,%\n\
               2026-01-01,2026-02-01,c,,%\n";
    assert_eq!(bad_values(csv).len(), 1, "{:?}", values(csv));
    assert_eq!(values(csv).len(), 3);
    let with_dims = "period_start,period_end,agent,metric,value,unit,status\n\
                     x,y,inf,m,-inf,%,ok\n";
    assert_eq!(
        bad_values(with_dims),
        [("CSV line 2".into(), "-inf".into())]
    );
    for json in [
        "{\"metric\":\"m\",\"value\":NaN,\"unit\":\"%\"}",
        "  \"value\": Infinity,",
        "[{\"value\": -infinity}]",
        "{\"value\":1e999}",
    ] {
        assert_eq!(bad_values(json).len(), 1, "{json}");
    }
    assert!(bad_values("{\"value\":null,\"v\":1.5}").is_empty());
    let table = "┌───┐\n│ period_start  metric  value │\n│ 2026-01-01  m  inf │\n└───┘\n";
    assert_eq!(bad_values(table).len(), 1);
    // Prose and quoted offending text are not values.
    let prose = "[E0502] Error: plugin `p` function `f` returned NaN for value 1\n\
                 $ kpi run nan --project x\n  x.csv:3: column `v`: expected a float, found \"NaN\"\n";
    assert!(values(prose).is_empty(), "{:?}", values(prose));
}

#[test]
fn no_snapshot_holds_a_non_finite_value() {
    let dir = root().join("tests/snapshots");
    let mut seen = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/snapshots") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".snap") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).expect("read snapshot");
        seen += values(&text).len();
        let bad = bad_values(&text);
        assert!(bad.is_empty(), "{name}: non-finite values {bad:?}");
    }
    // The scan is not vacuous: the example snapshots alone hold hundreds.
    assert!(files > 10, "{files} snapshots");
    assert!(seen > 200, "only {seen} values found in {files} snapshots");
}

/// `kpi run` on the example project with `args`; asserts success.
fn run_example(args: &[&str]) -> String {
    let mut all = vec!["run", "--project", "examples/support"];
    all.extend_from_slice(args);
    let out = kpi_in(&root(), &all);
    assert_eq!(out.code, 0, "kpi {all:?}: {}", out.stderr);
    out.stdout
}

/// The value column of a CSV result, parsed: null is `None`.
fn csv_values(text: &str) -> Vec<Option<f64>> {
    let rows = csv_rows(text);
    let v = rows[0].iter().position(|h| h == "value").expect("value");
    rows[1..].iter().map(|r| number(&r[v], "")).collect()
}

/// The `"value"` of every JSON row, parsed by Rust's (exact) float parser
/// from the text: serde_json's default float parsing may be off by an ulp.
fn json_values(text: &str) -> Vec<Option<f64>> {
    values(text)
        .into_iter()
        .map(|(_, v)| number(&v, "null"))
        .collect()
}

fn number(text: &str, null: &str) -> Option<f64> {
    (text != null).then(|| {
        text.parse::<f64>()
            .unwrap_or_else(|_| panic!("value {text:?} is not a number"))
    })
}

/// The first difference of two value lists, if any.
fn first_difference(a: &[Option<f64>], b: &[Option<f64>]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} values vs {}", a.len(), b.len()));
    }
    let i = a.iter().zip(b).position(|(x, y)| x != y)?;
    Some(format!("row {}: {:?} vs {:?}", i + 1, a[i], b[i]))
}

fn assert_no_non_finite(text: &str, what: &str) {
    let bad = bad_values(text);
    assert!(bad.is_empty(), "{what}: {bad:?}");
    // Belt and braces: no such token anywhere in a result rendering.
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || ",:[]{}│".contains(c))
        .filter(|t| non_finite(t))
        .collect();
    assert!(tokens.is_empty(), "{what}: {tokens:?}");
}

fn check_formats(args: &[&str]) {
    let with = |format: &str| {
        let mut a = args.to_vec();
        a.extend(["--format", format]);
        run_example(&a)
    };
    let csv = with("csv");
    let json = with("json");
    let jsonl = with("jsonl");
    let table = with("table");
    for (text, f) in [
        (&csv, "csv"),
        (&json, "json"),
        (&jsonl, "jsonl"),
        (&table, "table"),
    ] {
        assert_no_non_finite(text, &format!("{args:?} as {f}"));
    }
    let from_csv = csv_values(&csv);
    assert!(from_csv.len() > 50, "{} rows", from_csv.len());
    assert!(from_csv.iter().all(|v| v.is_none_or(f64::is_finite)));
    // Valid JSON, one row object per CSV row, the same values.
    let doc: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    for line in jsonl.lines() {
        let _: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
    }
    let rows_in = |d: &serde_json::Value| d.as_array().map_or(0, Vec::len);
    assert!(rows_in(&doc) == 0 || rows_in(&doc) == from_csv.len());
    for (name, text) in [("JSON", &json), ("JSON Lines", &jsonl)] {
        let diff = first_difference(&from_csv, &json_values(text));
        assert!(
            diff.is_none(),
            "{args:?}: CSV and {name} disagree: {diff:?}"
        );
    }
    let table_rows = table.lines().filter(|l| l.starts_with('│')).count();
    assert_eq!(
        table_rows,
        from_csv.len() + 1,
        "{args:?}: table rows + header"
    );
}

#[test]
fn example_by_month_has_no_non_finite_value_in_any_format() {
    check_formats(&[]);
}

#[test]
fn example_by_day_and_channel_has_no_non_finite_value_in_any_format() {
    // Days hold the small and empty groups where 0/0 would show; March
    // has the DST switch.
    check_formats(&[
        "--period",
        "day",
        "--by",
        "channel",
        "--from",
        "2026-03-01",
        "--to",
        "2026-04-01",
    ]);
}

#[test]
fn results_are_identical_across_runs() {
    for args in [
        &["--format", "csv"][..],
        &["--format", "json"],
        &["--format", "csv", "--period", "week", "--by", "agent"],
        &[
            "--format",
            "json",
            "--period",
            "day",
            "--by",
            "channel",
            "--from",
            "2026-03-01",
        ],
    ] {
        let first = run_example(args);
        let second = run_example(args);
        assert!(!first.is_empty());
        assert!(
            first.as_bytes() == second.as_bytes(),
            "{args:?}: two runs differ"
        );
    }
}
