//! Row accounting and the corpus of broken inputs (tests/fixtures/broken/,
//! one project per kind of failure).
//!
//! Every fixture reads one table, `tickets`, through three metrics:
//! `tickets` = count, `contacts` = sum(contacts), `escalated` = count where
//! escalated. Each fixture's kpi.toml says, in its first line, what is
//! broken and the figures counted by hand. A run exits 1 when a file cannot
//! be read or any row is rejected (unless `--max-rejects` tolerates it),
//! never 101; the snapshots hold the command, the exit code and stderr.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::{csv_rows, fixture, kpi_in, kpi_transcript, root, temp_project, Out};

const METRICS: [&str; 3] = ["tickets", "contacts", "escalated"];

/// Runs `kpi run tickets contacts escalated ARGS --project
/// tests/fixtures/broken/KIND` from the repository root (so paths in
/// messages are stable) and checks the exit code and that nothing panicked.
fn broken(kind: &str, args: &[&str], code: i32) -> (Out, String) {
    let project = format!("tests/fixtures/broken/{kind}");
    let mut all = vec!["run"];
    all.extend(METRICS);
    all.extend(args);
    all.extend(["--project", &project]);
    kpi_transcript(&all, code)
}

/// (read, accepted, rejected) of each file in a JSON result's metadata.
fn figures(doc: &Value) -> Vec<(String, u64, u64, u64)> {
    doc["metadata"]["files"]
        .as_array()
        .expect("metadata.files")
        .iter()
        .map(|f| {
            let n = |k: &str| f[k].as_u64().expect("a count");
            let path = f["path"].as_str().expect("path");
            let name = Path::new(path).file_name().expect("file name");
            assert_eq!(f["table"], "tickets");
            (
                name.to_string_lossy().into_owned(),
                n("read"),
                n("accepted"),
                n("rejected"),
            )
        })
        .collect()
}

/// (period start month, metric, value) of CSV output.
fn values(stdout: &str) -> Vec<(String, String, String)> {
    csv_rows(stdout)
        .into_iter()
        .skip(1)
        .map(|r| (r[0][..7].to_string(), r[2].clone(), r[3].clone()))
        .collect()
}

fn v(month: &str, metric: &str, value: &str) -> (String, String, String) {
    (month.into(), metric.into(), value.into())
}

// --- the corpus -------------------------------------------------------------------------

/// Files whose rows are rejected: exit 1, every reject located (file, line,
/// column, the offending text), the summary counts each file's rows. With
/// the rejects tolerated, the JSON metadata carries the same figures.
#[test]
fn rejected_rows_fail_the_run_and_are_located() {
    // kind, file, (read, accepted, rejected), counted by hand in the fixture.
    let cases = [
        ("bad_int", "tickets.csv", (5, 3, 2)),
        ("bad_timestamp", "tickets.csv", (4, 2, 2)),
        ("empty_required", "tickets.csv", (4, 2, 2)),
        ("ragged_row", "tickets.csv", (4, 2, 2)),
        ("jsonl_bad_json", "tickets.jsonl", (4, 2, 2)),
        ("jsonl_wrong_type", "tickets.jsonl", (6, 3, 3)),
    ];
    for (kind, file, (read, accepted, rejected)) in cases {
        let (out, transcript) = broken(kind, &[], 1);
        assert!(out.stdout.is_empty(), "no partial output: {}", out.stdout);
        let summary =
            format!("{file} (tickets): {read} read, {accepted} accepted, {rejected} rejected");
        assert!(out.stderr.contains(&summary), "{kind}: {}", out.stderr);
        let header =
            format!("[E0403] Error: {rejected} rows rejected; none is tolerated by default\n");
        assert!(out.stderr.contains(&header), "{kind}: {}", out.stderr);
        insta::assert_snapshot!(format!("broken_{kind}"), transcript);

        // One fewer tolerated than rejected still fails; as many succeeds.
        let under = (rejected - 1).to_string();
        broken(kind, &["--max-rejects", &under], 1);
        let enough = rejected.to_string();
        let (out, _) = broken(kind, &["--max-rejects", &enough, "--format", "json"], 0);
        let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
        assert_eq!(
            figures(&doc),
            [(file.to_string(), read, accepted, rejected)]
        );
        assert_eq!(doc["metadata"]["rejects"], json!(rejected));
        assert!(
            out.stderr.contains(&format!(
                "warning: {rejected} rows rejected (--max-rejects {rejected}) and left out of every metric:"
            )),
            "{}",
            out.stderr
        );
    }
}

/// Files that cannot be read at all: exit 1 with a located error; nothing
/// is computed.
#[test]
fn unreadable_files_are_located_errors() {
    for kind in ["empty_file", "missing_column"] {
        let (out, transcript) = broken(kind, &[], 1);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        // No --max-rejects tolerates a file that cannot be read.
        broken(kind, &["--max-rejects", "1000"], 1);
        insta::assert_snapshot!(format!("broken_{kind}"), transcript);
    }
    let (out, _) = broken("empty_file", &[], 1);
    assert!(
        out.stderr
            .contains("tickets.csv: the file is empty (0 bytes): no header"),
        "{}",
        out.stderr
    );
    let (out, _) = broken("missing_column", &[], 1);
    assert!(
        out.stderr.contains(
            "tickets.csv:1: column `escalated`: not found; the header has: id, created_at, escalted, contacts"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `escalted`?"),
        "{}",
        out.stderr
    );
}

/// A header and no rows is a table with no rows: no periods, no error.
#[test]
fn header_only_is_no_rows() {
    let (out, transcript) = broken("header_only", &["--format", "json"], 0);
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["rows"], json!([]));
    assert_eq!(figures(&doc), [("tickets.csv".to_string(), 0, 0, 0)]);
    insta::assert_snapshot!("broken_header_only", transcript);
}

/// An Excel-style export (BOM, CRLF, line breaks inside quoted fields,
/// doubled quotes) loads whole: 3 read, 3 accepted. By channel: January
/// has t1 (email, escalated, 1 contact) and t2 ("live\nchat", 2 contacts);
/// February t3 (email, contacts empty). The grid is dense, so "live\nchat"
/// shows in February with zeros.
#[test]
fn bom_crlf_and_quoted_line_breaks_load() {
    let (out, transcript) = broken(
        "bom_crlf_quoted",
        &["--by", "channel", "--format", "csv"],
        0,
    );
    let rows: Vec<Vec<String>> = csv_rows(&out.stdout)
        .into_iter()
        .skip(1)
        .map(|r| {
            vec![
                r[0][..7].to_string(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
            ]
        })
        .collect();
    let want = [
        ["2026-01", "email", "tickets", "1"],
        ["2026-01", "email", "contacts", "1"],
        ["2026-01", "email", "escalated", "1"],
        ["2026-01", "live\nchat", "tickets", "1"],
        ["2026-01", "live\nchat", "contacts", "2"],
        ["2026-01", "live\nchat", "escalated", "0"],
        ["2026-02", "email", "tickets", "1"],
        ["2026-02", "email", "contacts", "0"],
        ["2026-02", "email", "escalated", "0"],
        ["2026-02", "live\nchat", "tickets", "0"],
        ["2026-02", "live\nchat", "contacts", "0"],
        ["2026-02", "live\nchat", "escalated", "0"],
    ];
    assert_eq!(rows, want);
    insta::assert_snapshot!("broken_bom_crlf_quoted", transcript);
}

/// `delimiter = ";"` in the table reads a `;`-separated file (a `,` inside
/// a field is text, a quoted `;` too). Without it, the header is one field:
/// the error says so and names the fix.
#[test]
fn semicolon_delimiter_declared_per_table() {
    let (out, transcript) = broken("semicolon", &["--format", "csv"], 0);
    assert_eq!(
        values(&out.stdout),
        [
            v("2026-01", "tickets", "2"),
            v("2026-01", "contacts", "3"),
            v("2026-01", "escalated", "1"),
            v("2026-02", "tickets", "1"),
            v("2026-02", "contacts", "0"),
            v("2026-02", "escalated", "0"),
        ]
    );
    insta::assert_snapshot!("broken_semicolon", transcript);

    let src = fixture("broken/semicolon");
    let read = |p: &str| std::fs::read_to_string(src.join(p)).expect("fixture file");
    let toml = read("kpi.toml").replace("delimiter = \";\"\n", "");
    let dir = temp_project(
        "undeclared-semicolon",
        &[
            ("kpi.toml", &toml),
            ("kpis/run.toml", &read("kpis/run.toml")),
            ("data/tickets.csv", &read("data/tickets.csv")),
        ],
    );
    let out = kpi_in(&dir, &["run", "tickets", "--project", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "hint: the header is one field holding `;`: declare `delimiter = \";\"` for this table"
        ),
        "{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A 50 MB line without a line break stops reading at the 16 MiB record
/// limit: a located error, not 50 MB (or 1 GiB) held in memory.
#[test]
fn a_giant_line_is_a_bounded_error() {
    let base = std::env::temp_dir().join(format!("kpi-test-{}-giant", std::process::id()));
    let dir = base.join("giant_line");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(dir.join("kpis")).expect("mkdir");
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    let src = fixture("broken/giant_line");
    for f in ["kpi.toml", "kpis/run.toml"] {
        std::fs::copy(src.join(f), dir.join(f)).expect("copy fixture");
    }
    let mut data = b"id,created_at,escalated,contacts\n\
                     t1,2026-01-05 09:00,true,1\n\
                     t2,2026-01-06 10:00,false,2\n"
        .to_vec();
    data.resize(data.len() + 50_000_000, b'x');
    std::fs::write(dir.join("data/tickets.csv"), &data).expect("write 50 MB");
    let out = kpi_in(&base, &["run", "--project", "giant_line"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(
        "broken_giant_line",
        format!(
            "$ kpi run --project giant_line   (data/tickets.csv: 2 rows, then 50 MB without a line break)\nexit code: {}\n{}",
            out.code, out.stderr
        )
    );
    let _ = std::fs::remove_dir_all(&base);
}

/// No input of the corpus, in any output format, with or without
/// tolerated rejects, makes the CLI panic; and whenever it reports files,
/// rows read = accepted + rejected.
#[test]
fn the_corpus_never_panics() {
    let dir = fixture("broken");
    let mut kinds: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/broken")
        .filter_map(|e| {
            let e = e.expect("entry");
            e.file_type()
                .expect("type")
                .is_dir()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .filter(|k| k != "giant_line")
        .collect();
    kinds.sort();
    assert!(kinds.len() >= 12, "{kinds:?}");
    for kind in &kinds {
        for format in ["table", "csv", "json", "jsonl"] {
            for max in ["0", "100"] {
                let project = format!("tests/fixtures/broken/{kind}");
                let out = kpi_in(
                    &root(),
                    &[
                        "run",
                        "--project",
                        &project,
                        "--format",
                        format,
                        "--max-rejects",
                        max,
                        "--by",
                        "weekday",
                    ],
                );
                assert!(
                    out.code == 0 || out.code == 1,
                    "{kind} {format} {max}: exit {}\n{}",
                    out.code,
                    out.stderr
                );
                assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
                for line in out.stderr.lines().filter(|l| l.ends_with(" rejected")) {
                    let n: Vec<u64> = line
                        .rsplit(": ")
                        .next()
                        .expect("figures")
                        .split(", ")
                        .map(|w| w.split(' ').next().expect("n").parse().expect("a count"))
                        .collect();
                    assert_eq!(n[0], n[1] + n[2], "{line}");
                }
            }
        }
    }
}

// --- --max-rejects, --rejects FILE, JSON metadata ------------------------------------------

/// The two files of `mixed`, counted by hand:
/// tickets-1.csv: a1 ok, a2 `nope` for a bool (line 3), a3 ok, a4 `x` for
/// an int (line 5): 4 read, 2 accepted, 2 rejected;
/// tickets-2.csv: b1 ok, b2 no created_at (line 3), b3 five fields (line
/// 4), b4 ok, b5 ok (contacts empty, a null): 5 read, 3 accepted, 2 rejected.
/// Left: January a1 (escalated, 1), a3 (2), b1 (escalated, 3): tickets 3,
/// contacts 6, escalated 2; February b4 (escalated, 4), b5: 2, 4, 1.
#[test]
fn max_rejects_tolerates_up_to_n_in_total() {
    let (out, transcript) = broken("mixed", &["--max-rejects", "3"], 1);
    assert!(out
        .stderr
        .contains("4 rows rejected; at most 3 tolerated (--max-rejects 3)"));
    insta::assert_snapshot!("mixed_max_rejects_3", transcript);

    let (out, transcript) = broken("mixed", &["--max-rejects", "4", "--format", "csv"], 0);
    assert_eq!(
        values(&out.stdout),
        [
            v("2026-01", "tickets", "3"),
            v("2026-01", "contacts", "6"),
            v("2026-01", "escalated", "2"),
            v("2026-02", "tickets", "2"),
            v("2026-02", "contacts", "4"),
            v("2026-02", "escalated", "1"),
        ]
    );
    insta::assert_snapshot!("mixed_max_rejects_4", transcript);
}

#[test]
fn json_output_carries_the_accounting() {
    let (out, _) = broken("mixed", &["--max-rejects", "4", "--format", "json"], 0);
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(
        doc["metadata"],
        json!({
            "files": [
                {"path": "tests/fixtures/broken/mixed/data/tickets-1.csv", "table": "tickets",
                 "read": 4, "accepted": 2, "rejected": 2},
                {"path": "tests/fixtures/broken/mixed/data/tickets-2.csv", "table": "tickets",
                 "read": 5, "accepted": 3, "rejected": 2},
            ],
            "rejects": 4,
            "skipped": [],
        })
    );
    let rows = doc["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["metric"], "tickets");
    assert_eq!(rows[0]["value"], 3);

    // JSON Lines stay one row object a line, no metadata.
    let (out, _) = broken("mixed", &["--max-rejects", "4", "--format", "jsonl"], 0);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object a line"))
        .collect();
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().all(|l| l.get("metric").is_some()));
}

/// A scratch directory for output files.
fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kpi-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// `--rejects FILE` writes every reject, CSV or JSON Lines by extension,
/// atomically, also when the rejects fail the run.
#[test]
fn rejects_file_lists_every_reject() {
    let d = scratch("rejects");
    let csv_path = d.join("rejects.csv");
    std::fs::write(&csv_path, "stale\n").expect("an old file");
    let csv_s = csv_path.to_str().expect("utf-8");
    // Failing (0 tolerated): the file is written all the same.
    broken("mixed", &["--rejects", csv_s], 1);
    let want = "\
file,line,column,kind,message,text
tests/fixtures/broken/mixed/data/tickets-1.csv,3,escalated,invalid_value,\"expected a bool (true/false, yes/no, 1/0), found \"\"nope\"\"\",nope
tests/fixtures/broken/mixed/data/tickets-1.csv,5,contacts,invalid_value,\"expected an int, found \"\"x\"\"\",x
tests/fixtures/broken/mixed/data/tickets-2.csv,3,created_at,missing_value,a value is required here (the column is not nullable),
tests/fixtures/broken/mixed/data/tickets-2.csv,4,,field_count,\"the record has 5 fields, but the header has 4\",\"b3,2026-02-02 10:00,false,2,9\"
";
    assert_eq!(
        std::fs::read_to_string(&csv_path).expect("rejects.csv"),
        want
    );

    let jsonl_path = d.join("rejects.jsonl");
    let (out, _) = broken(
        "mixed",
        &[
            "--max-rejects",
            "4",
            "--rejects",
            jsonl_path.to_str().expect("utf-8"),
            "--format",
            "csv",
        ],
        0,
    );
    assert!(!out.stdout.is_empty());
    let lines: Vec<Value> = std::fs::read_to_string(&jsonl_path)
        .expect("rejects.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[3],
        json!({
            "file": "tests/fixtures/broken/mixed/data/tickets-2.csv", "line": 4, "column": null,
            "kind": "field_count", "message": "the record has 5 fields, but the header has 4",
            "text": "b3,2026-02-02 10:00,false,2,9",
        })
    );
    assert_eq!(lines[2]["kind"], "missing_value");
    assert_eq!(lines[2]["text"], "");

    // No rejects: an empty list (a header for CSV), so scripts can rely on it.
    let none = d.join("none.csv");
    broken(
        "semicolon",
        &["--rejects", none.to_str().expect("utf-8")],
        0,
    );
    assert_eq!(
        std::fs::read_to_string(&none).expect("none.csv"),
        "file,line,column,kind,message,text\n"
    );
    // Written through a temporary file and a rename: nothing else is left.
    let mut names: Vec<String> = std::fs::read_dir(&d)
        .expect("scratch")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["none.csv", "rejects.csv", "rejects.jsonl"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// More rejects than are shown: the first five, then how many more.
#[test]
fn the_first_five_rejects_are_shown() {
    let mut data = String::from("id,created_at,escalated,contacts\n");
    for i in 0..8 {
        data.push_str(&format!("t{i},2026-01-0{} 09:00,false,n{i}\n", i + 1));
    }
    data.push_str("ok,2026-01-09 09:00,true,1\n");
    let src = fixture("broken/bad_int");
    let read = |p: &str| std::fs::read_to_string(src.join(p)).expect("fixture file");
    let dir = temp_project(
        "eight-rejects",
        &[
            ("kpi.toml", &read("kpi.toml")),
            ("kpis/run.toml", &read("kpis/run.toml")),
            ("data/tickets.csv", &data),
        ],
    );
    let out = kpi_in(&dir, &["run", "--project", "."]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!(out.stderr, @r#"
    ./data/tickets.csv (tickets): 9 read, 1 accepted, 8 rejected
    [E0403] Error: 8 rows rejected; none is tolerated by default
      ./data/tickets.csv:2: column `contacts`: expected an int, found "n0"
      ./data/tickets.csv:3: column `contacts`: expected an int, found "n1"
      ./data/tickets.csv:4: column `contacts`: expected an int, found "n2"
      ./data/tickets.csv:5: column `contacts`: expected an int, found "n3"
      ./data/tickets.csv:6: column `contacts`: expected an int, found "n4"
      … and 3 more
        Help: `--max-rejects 8` leaves the rejected rows out of every metric; `--rejects FILE` writes them all, with their text; texts that mean "no value" (like `N/A`) can be declared with `null = [...]` in the table
    "#);
    let out = kpi_in(&dir, &["run", "--project", ".", "--max-rejects", "8"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("  … and 3 more\n"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(dir);
}
