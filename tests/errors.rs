//! Every diagnostic, triggered through the real CLI and snapshotted.
//!
//! Each error code of `kpi_dsl::codes::ALL` has at least one case here, run
//! on a fixture project under tests/fixtures/errors/ (passed to `--project`
//! as a relative path, so every path in a message is stable), and
//! `every_code_has_a_snapshot` fails when a new code has none. A snapshot
//! holds the command, its exit code and its stderr: read it when you accept
//! it (file, line and column; a caret under the offending text; a hint that
//! helps). Messages that still read badly live in bad_error_messages.rs.

use crate::common::{kpi_in, kpi_transcript, root, temp_project, Out};

/// Runs `kpi ARGS --project tests/fixtures/errors/NAME` from the repository
/// root and checks the exit code (2: definitions or usage, 1: data).
fn kpi_errors(name: &str, args: &[&str], code: i32) -> (Out, String) {
    let project = format!("tests/fixtures/errors/{name}");
    let mut all = args.to_vec();
    all.extend(["--project", &project]);
    kpi_transcript(&all, code)
}

/// `kpi_errors` for the snapshot alone.
fn transcript(name: &str, args: &[&str], code: i32) -> String {
    kpi_errors(name, args, code).1
}

/// The column (1-based, in characters) where the underline drawn under
/// source line `line` of a report starts: where the caret is.
fn caret_column(stderr: &str, line: usize) -> Option<usize> {
    let rows: Vec<Vec<char>> = stderr.lines().map(|l| l.chars().collect()).collect();
    let tag = format!("{line} │ ");
    let i = rows.iter().position(|r| {
        let text: String = r.iter().collect();
        text.trim_start().starts_with(&tag)
    })?;
    let bar = rows[i].iter().position(|c| *c == '│')?;
    // The source text starts two characters after the margin's bar ("│ ").
    let under = rows.get(i + 1)?;
    let k = under
        .iter()
        .skip(bar + 2)
        .position(|c| matches!(c, '─' | '┬'))?;
    Some(k + 1)
}

// --- the headline ------------------------------------------------------------

/// One definitions file with three independent mistakes: a typo in a column
/// name, a string compared to a number, two metrics in a cycle. One
/// `kpi check` reports all three, each at its place in the TOML file.
#[test]
fn headline_three_errors_in_one_check() {
    let (out, snap) = kpi_errors("headline", &["check"], 2);
    let err = &out.stderr;
    // kpis/support.toml, counted by hand:
    // line 5  `formula = 'avg(tickets: first_respons_at - created_at)'`
    //         `formula = '` is 11 characters, `avg(tickets: ` 13 more: col 25.
    // line 9  `formula = 'count(tickets where channel == 5)'`
    //         11 + `count(tickets where ` (20): `channel` at col 32.
    // line 12 `formula = 'open_tickets - 1'`: `open_tickets` at col 12,
    // line 15 `formula = 'backlog + ...'`: `backlog` at col 12.
    let expect = [
        (
            "[E0203] Error: table `tickets` has no column `first_respons_at` (kpis/support.toml:5:25)",
            5,
            25,
        ),
        (
            "[E0301] Error: cannot compare a string with an int (kpis/support.toml:9:32)",
            9,
            32,
        ),
        (
            "[E0207] Error: metric `backlog` depends on itself: backlog → open_tickets → backlog (kpis/support.toml:12:12)",
            12,
            12,
        ),
    ];
    for (header, line, col) in expect {
        assert!(err.contains(header), "missing `{header}` in:\n{err}");
        assert_eq!(
            caret_column(err, line),
            Some(col),
            "caret on line {line}:\n{err}"
        );
    }
    // The cycle also points at the reference that closes it.
    assert_eq!(caret_column(err, 15), Some(12), "{err}");
    assert!(err.contains("did you mean `first_response_at`?"), "{err}");
    assert_eq!(
        err.matches("Error:").count(),
        3,
        "exactly three errors:\n{err}"
    );
    insta::assert_snapshot!("headline", snap);
}

// --- E01xx: definition files and parsing --------------------------------------

#[test]
fn e0100_toml_syntax_in_definition_files() {
    // Three broken files, each reported at its place; a fourth, valid TOML,
    // is still checked (E0202).
    let (out, snap) = kpi_errors("e0100_toml_syntax", &["check"], 2);
    assert!(
        out.stderr.contains("(kpis/a_unclosed.toml:2:26)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("(kpis/b_unquoted.toml:2:11)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("(kpis/c_duplicate.toml:4:9)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("(kpis/d_typo.toml:3:18)"),
        "{}",
        out.stderr
    );
    insta::assert_snapshot!("e0100_toml_syntax", snap);
}

#[test]
fn e0100_toml_syntax_in_project_file() {
    insta::assert_snapshot!(
        "e0100_project_toml",
        transcript("e0100_project_toml", &["check"], 2)
    );
}

#[test]
fn e0101_syntax() {
    insta::assert_snapshot!("e0101_syntax", transcript("e0101_syntax", &["check"], 2));
}

/// Nesting is bounded before pest (or any tree walk) recurses: 100,000
/// brackets are an error, not a stack overflow. Generated, so the project is
/// a temporary one; definition files show as `kpis/...`, a stable path.
#[test]
fn e0102_too_deep() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let ifs = format!(
        "{}1{}",
        "if true then ".repeat(70),
        " else 2 end".repeat(70)
    );
    let chain = vec!["count(tickets)"; 300].join(" + ");
    let defs = format!(
        "[metric.deep]\nformula = '{deep}'\n\n[metric.nested_ifs]\nformula = '{ifs}'\n\n[metric.long_chain]\nformula = '{chain}'\n"
    );
    let dir = temp_project(
        "e0102",
        &[
            (
                "kpi.toml",
                "[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\n\n[tables.tickets]\nsource = \"tickets.csv\"\n",
            ),
            ("kpis/deep.toml", &defs),
        ],
    );
    let out = kpi_in(
        &root(),
        &["check", "--project", dir.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!out.stderr.contains("overflow"), "{}", out.stderr);
    assert_eq!(out.stderr.matches("[E0102]").count(), 3, "{}", out.stderr);
    // The first `(` past the limit of 64: column 11 + 65.
    assert!(
        out.stderr.contains("(kpis/deep.toml:2:76)"),
        "{}",
        out.stderr
    );
    // A 200,000-character line is shown as an excerpt around the caret.
    assert!(out.stderr.len() < 4_000, "{} bytes", out.stderr.len());
    let dir_s = dir.display().to_string();
    assert!(
        !out.stderr.contains(&dir_s),
        "unstable path in:\n{}",
        out.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
    let snap = format!(
        "$ kpi check --project <generated: kpis/deep.toml>\nexit code: {}\n{}",
        out.code, out.stderr
    );
    insta::assert_snapshot!("e0102_too_deep", snap);
}

#[test]
fn e0103_bad_literal() {
    insta::assert_snapshot!(
        "e0103_bad_literal",
        transcript("e0103_bad_literal", &["check"], 2)
    );
}

#[test]
fn e0104_bad_field() {
    insta::assert_snapshot!(
        "e0104_bad_field",
        transcript("e0104_bad_field", &["check"], 2)
    );
}

// --- E02xx: names ------------------------------------------------------------------

#[test]
fn e0201_unknown_name() {
    insta::assert_snapshot!(
        "e0201_unknown_name",
        transcript("e0201_unknown_name", &["check"], 2)
    );
}

#[test]
fn e0202_unknown_table() {
    insta::assert_snapshot!(
        "e0202_unknown_table",
        transcript("e0202_unknown_table", &["check"], 2)
    );
}

#[test]
fn e0203_unknown_column() {
    insta::assert_snapshot!(
        "e0203_unknown_column",
        transcript("e0203_unknown_column", &["check"], 2)
    );
}

#[test]
fn e0204_unknown_relation() {
    insta::assert_snapshot!(
        "e0204_unknown_relation",
        transcript("e0204_unknown_relation", &["check"], 2)
    );
}

#[test]
fn e0205_unknown_param() {
    insta::assert_snapshot!(
        "e0205_unknown_param",
        transcript("e0205_unknown_param", &["check"], 2)
    );
}

#[test]
fn e0206_unknown_function() {
    insta::assert_snapshot!(
        "e0206_unknown_function",
        transcript("e0206_unknown_function", &["check"], 2)
    );
}

#[test]
fn e0207_cycle() {
    // `uses_a` refers to a metric in the cycle: it is not reported again.
    let (out, snap) = kpi_errors("e0207_cycle", &["check"], 2);
    assert_eq!(out.stderr.matches("[E0207]").count(), 2, "{}", out.stderr);
    assert!(!out.stderr.contains("uses_a"), "{}", out.stderr);
    insta::assert_snapshot!("e0207_cycle", snap);
}

#[test]
fn e0208_duplicate() {
    insta::assert_snapshot!(
        "e0208_duplicate",
        transcript("e0208_duplicate", &["check"], 2)
    );
}

/// The line of `[metric.ID]` in a built-in definition file.
fn builtin_line(file: &str, id: &str) -> usize {
    let text = std::fs::read_to_string(root().join("metrics.d").join(file)).expect("built-in file");
    let header = format!("[metric.{id}]");
    1 + text
        .lines()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("{header} in metrics.d/{file}"))
}

/// A project metric with the id of a built-in, without `replaces = true`:
/// E0208, pointing at both files.
#[test]
fn e0208_project_metric_shadows_builtin() {
    let (out, snap) = kpi_errors("replaces_missing", &["check"], 2);
    let line = builtin_line("escalation.toml", "escalation_rate");
    let builtin = format!("<builtin>/metrics.d/escalation.toml:{line}:9");
    assert!(
        out.stderr.contains("(kpis/escalation.toml:1:9)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&builtin),
        "{builtin} in:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("first defined here"), "{}", out.stderr);
    assert!(out.stderr.contains("replaces = true"), "{}", out.stderr);
    // The built-in's line moves when metrics.d/ is edited; the snapshot
    // should not: the line number becomes `#`s of the same width.
    let hashes = "#".repeat(line.to_string().len());
    let snap = snap
        .replace(
            &builtin,
            &format!("<builtin>/metrics.d/escalation.toml:{hashes}:9"),
        )
        .replace(
            &format!(" {line} │ [metric.escalation_rate]"),
            &format!(" {hashes} │ [metric.escalation_rate]"),
        );
    insta::assert_snapshot!("e0208_shadows_builtin", snap);
}

/// With `replaces = true` the project's definition wins, and `kpi explain`
/// names both files.
#[test]
fn replaces_true_replaces_a_builtin() {
    let (out, _) = kpi_errors("replaces_builtin", &["explain", "escalation_rate"], 0);
    assert!(
        out.stdout.contains("  defined in:  kpis/escalation.toml\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  replaces:    <builtin>/metrics.d/escalation.toml ("),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  formula:     count(tickets where escalated) / count(tickets)\n"),
        "{}",
        out.stdout
    );
    let (out, _) = kpi_errors("replaces_builtin", &["check"], 0);
    assert!(out.stderr.starts_with("ok: "), "{}", out.stderr);
}

#[test]
fn e0209_no_relation() {
    insta::assert_snapshot!(
        "e0209_no_relation",
        transcript("e0209_no_relation", &["check"], 2)
    );
}

#[test]
fn e0210_unknown_period_field() {
    insta::assert_snapshot!(
        "e0210_unknown_period_field",
        transcript("e0210_unknown_period_field", &["check"], 2)
    );
}

#[test]
fn e0211_no_interval() {
    insta::assert_snapshot!(
        "e0211_no_interval",
        transcript("e0211_no_interval", &["check"], 2)
    );
}

// --- E03xx: types --------------------------------------------------------------------

#[test]
fn e0301_mismatch() {
    insta::assert_snapshot!(
        "e0301_mismatch",
        transcript("e0301_mismatch", &["check"], 2)
    );
}

#[test]
fn e0302_row_outside_aggregate() {
    insta::assert_snapshot!(
        "e0302_row_outside_aggregate",
        transcript("e0302_row_outside_aggregate", &["check"], 2)
    );
}

#[test]
fn e0303_aggregate_in_row() {
    insta::assert_snapshot!(
        "e0303_aggregate_in_row",
        transcript("e0303_aggregate_in_row", &["check"], 2)
    );
}

#[test]
fn e0304_aggregate_argument() {
    insta::assert_snapshot!(
        "e0304_aggregate_argument",
        transcript("e0304_aggregate_argument", &["check"], 2)
    );
}

#[test]
fn e0305_function_argument() {
    insta::assert_snapshot!(
        "e0305_function_argument",
        transcript("e0305_function_argument", &["check"], 2)
    );
}

#[test]
fn e0306_not_bool() {
    insta::assert_snapshot!(
        "e0306_not_bool",
        transcript("e0306_not_bool", &["check"], 2)
    );
}

#[test]
fn e0307_metric_type() {
    insta::assert_snapshot!(
        "e0307_metric_type",
        transcript("e0307_metric_type", &["check"], 2)
    );
}

#[test]
fn e0308_axis_type() {
    insta::assert_snapshot!(
        "e0308_axis_type",
        transcript("e0308_axis_type", &["check"], 2)
    );
}

#[test]
fn e0309_branch_types() {
    insta::assert_snapshot!(
        "e0309_branch_types",
        transcript("e0309_branch_types", &["check"], 2)
    );
}

#[test]
fn e0310_index() {
    insta::assert_snapshot!("e0310_index", transcript("e0310_index", &["check"], 2));
}

// --- E04xx: project, data, command line -----------------------------------------------

#[test]
fn e0401_project() {
    insta::assert_snapshot!("e0401_project", transcript("e0401_project", &["check"], 2));
}

#[test]
fn e0402_dimension() {
    insta::assert_snapshot!(
        "e0402_dimension",
        transcript("e0402_dimension", &["run", "replies", "--by", "plan"], 2)
    );
}

/// Data errors exit with 1 and name the file, line, column and value.
#[test]
fn e0403_data() {
    let bad_value = transcript("e0403_data", &["run", "escalations"], 1);
    let missing_column = transcript("e0403_data", &["run", "handle_time"], 1);
    insta::assert_snapshot!("e0403_data", format!("{bad_value}\n{missing_column}"));
}

#[test]
fn e0404_usage() {
    let runs = [
        transcript("run", &["run", "tickets", "--period", "fortnight"], 2),
        transcript("run", &["run", "tickets", "--from", "2026-13-01"], 2),
        transcript(
            "run",
            &[
                "run",
                "tickets",
                "--from",
                "2026-03-01",
                "--to",
                "2026-02-01",
            ],
            2,
        ),
        transcript("run", &["run", "tikets"], 2),
        transcript("run", &["run", "tickets", "--by", "agnt"], 2),
        transcript("run", &["run", "tickets", "--param", "sla=2h"], 2),
        transcript("run", &["explain", "tikets"], 2),
        transcript("no_such_project", &["check"], 2),
    ];
    insta::assert_snapshot!("e0404_usage", runs.join("\n"));
}

#[test]
fn e0405_missing_table() {
    insta::assert_snapshot!(
        "e0405_missing_table",
        transcript("run", &["run", "replies"], 2)
    );
}

// --- the registry ----------------------------------------------------------------------

/// A new error code must come with a snapshot that shows it.
#[test]
fn every_code_has_a_snapshot() {
    let dir = root().join("tests/snapshots");
    let mut text = String::new();
    for entry in std::fs::read_dir(&dir).expect("tests/snapshots") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "snap") {
            text.push_str(&std::fs::read_to_string(&path).expect("snapshot"));
        }
    }
    let missing: Vec<&str> = kpi_dsl::codes::ALL
        .iter()
        .map(|c| c.id)
        .filter(|id| !text.contains(&format!("[{id}] Error:")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a snapshot in tests/snapshots/: {missing:?}"
    );
}
