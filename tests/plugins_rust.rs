//! Plugins written in Rust with `export_plugin!`, loaded from their shared
//! libraries: the shipped `pec` and `sentiment` plugins (their own test cases,
//! and values worked out by hand on conversations in English and Chinese),
//! the misbehaving test plugin `tests/plugins/rust_broken`, `kpi plugins`,
//! `kpi check` of calls to plugin functions, and the plugin that
//! docs/plugins.md shows.
//!
//! The plugins are built by a nested `cargo build` into their own target
//! directory, `target/plugin-tests` (the outer `cargo test` holds the lock on
//! `target/debug`), once per test run, and loaded with `--plugin` paths
//! relative to the repository root so that messages in snapshots are stable.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{csv_rows, root, Out};

/// The target directory of the nested builds, relative to the root.
const TARGET: &str = "target/plugin-tests";

/// The shared library of crate `lib_name` in the nested target directory.
fn library(lib_name: &str) -> String {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    format!("{TARGET}/debug/{DLL_PREFIX}{lib_name}{DLL_SUFFIX}")
}

/// Runs `cargo ARGS --target-dir target/plugin-tests` in the root.
fn cargo_build(args: &[&str]) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .arg("--target-dir")
        .arg(root().join(TARGET))
        .current_dir(root())
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The workspace's Rust plugins, built once per test run.
struct Plugins {
    pec: String,
    sentiment: String,
    broken: String,
}

fn plugins() -> &'static Plugins {
    static PLUGINS: OnceLock<Plugins> = OnceLock::new();
    PLUGINS.get_or_init(|| {
        cargo_build(&[
            "build",
            "--quiet",
            "-p",
            "kpi-pec",
            "-p",
            "kpi-sentiment",
            "-p",
            "kpi-test-plugin",
        ]);
        Plugins {
            pec: library("kpi_pec"),
            sentiment: library("kpi_sentiment"),
            broken: library("kpi_test_plugin"),
        }
    })
}

/// Runs `kpi ARGS --project tests/fixtures/plugins_rust/PROJECT` in the root.
/// Backtraces are off, so that a panicking plugin prints the same text
/// whatever the caller's environment says.
fn kpi(project: &str, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .args([
            "--project",
            &format!("tests/fixtures/plugins_rust/{project}"),
        ])
        .current_dir(root())
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .expect("run kpi");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The command and its stderr, for a snapshot. The panic hook's line names
/// the thread (with its id) and the line of the panic: those are replaced,
/// and blank lines (the hook's layout varies between Rust versions) dropped.
fn transcript(project: &str, args: &[&str], out: &Out) -> String {
    let stderr: Vec<String> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once(" panicked at ") {
            Some((thread, at)) if thread.starts_with("thread '") => {
                let file = at.split(':').next().unwrap_or_default();
                format!("thread [..] panicked at {file}:[line]:[column]:")
            }
            _ => l.to_string(),
        })
        .collect();
    format!(
        "$ kpi {} --project tests/fixtures/plugins_rust/{project}\nexit code: {}\n{}\n",
        args.join(" "),
        out.code,
        stderr.join("\n")
    )
}

/// `(period_start[..7], group columns..., metric) -> value` from CSV output.
fn values(out: &Out) -> Vec<(String, Option<f64>)> {
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows = csv_rows(&out.stdout);
    let header = &rows[0];
    let metric = header.iter().position(|h| h == "metric").expect("metric");
    rows[1..]
        .iter()
        .map(|r| {
            let mut key = vec![r[0][..7].to_string()];
            key.extend(r[2..=metric].iter().cloned());
            let v = &r[metric + 1];
            (
                key.join(" "),
                (!v.is_empty()).then(|| v.parse::<f64>().expect("a number")),
            )
        })
        .collect()
}

fn assert_values(got: &[(String, Option<f64>)], want: &[(&str, Option<f64>)]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((gk, gv), (wk, wv)) in got.iter().zip(want) {
        assert_eq!(gk, wk, "{got:?}");
        match (gv, wv) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{gk}: {g} != {w}"),
            _ => assert_eq!(gv, wv, "{gk}"),
        }
    }
}

/// The number of `[[test]]` cases in a definitions file.
fn cases_in(path: &str) -> usize {
    std::fs::read_to_string(root().join(path))
        .expect("read metrics.toml")
        .lines()
        .filter(|l| l.trim() == "[[test]]")
        .count()
}

#[test]
fn kpi_test_passes_the_plugins_own_cases() {
    let p = plugins();
    let n = cases_in("plugins/pec/metrics.toml") + cases_in("plugins/sentiment/metrics.toml");
    assert!(n >= 2, "each plugin ships at least one case");
    // The fixture project loads no built-ins: the cases are the plugins' only.
    let out = kpi(
        "conversations",
        &["test", "--plugin", &p.pec, "--plugin", &p.sentiment],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .lines()
            .any(|l| l == format!("{n} passed, 0 failed")),
        "{}",
        out.stderr
    );
}

// The conversations of tests/fixtures/plugins_rust/conversations, scored by
// hand from plugins/sentiment/README.md and plugins/pec/README.md.
//
// Sentiment: valences add up to s; score = s / sqrt(s² + 15). Sums used:
// s = 7 → 7/8 = 0.875; s = 1 → 1/4 = 0.25; s = 0 → 0; s = -4.25 →
// -4.25 / sqrt(18.0625 + 15) = -4.25 / 5.75 = -17/23.
//   m1  "Terrible service, I am disappointed and my parcel is late"
//       terrible -3 + disappointed -2.5 + late -1.5 = -7 → -0.875
//   m3  "Thank you, great job, it is resolved": thank 2 + great 3 + resolved 2 = 7 → 0.875
//   m6  "你好，我想查一下订单": 你好 is neutral, no sentiment word: 0
//   m8  "好的，谢谢，不过还在等待": 好的 and 不过 neutral (kept whole by
//       longest match), 谢谢 2 + 等待 -1 = 1 → 0.25
//   m10 "Hello, I have a question about my invoice": 0
//   m12 "Thanks, but I am still waiting": thanks 2 + waiting -1 = 1 → 0.25
//   m14 "太慢了！真让人生气，我要投诉": 太慢 -2.5 (longest match beats the
//       intensifier 太); 真 would intensify, but 让 and 人 (plain words)
//       end its reach, so 生气 -2.5; 投诉 -2: -7 → -0.875
//   m16 "非常感谢，已经解决了，不错": 非常 1.5 × 感谢 2 = 3, 解决了 2,
//       不错 2 (a word, not the negator 不): 7 → 0.875
//   m18 "The charger is broken and your chat bot was not very helpful."
//       broken -2; not … very helpful: 2 × 1.5 × -0.75 = -2.25; -4.25 → -17/23
//   m21 "?!": no word, null (left out). Agent and system messages don't count.
//
// PEC (tickets by solved_at): greeting 10, name 10, address 10 × share,
// empathy 20, tone 25 × (last - first + 2) / 4, thanks 15, beyond 10.
//   t1 (email) agents m2 "Hello Tom, I am sorry … Your parcel …", m4 "Glad to
//      help! Let me know if you need anything else.": greeting 10, name
//      ("Hello Tom") 10, both address the customer 10, "sorry" 20, tone
//      25 × (0.875 + 0.875 + 2) / 4 = 25 × 0.9375 = 23.4375, "Thank" after the
//      agent 15, "glad to help" 10: 98.4375
//   t2 (chat) agents m7 "您好，王先生，您的订单已经发出了", m9 "不客气，还有什么可以帮您？":
//      您好 10, 王先生 10, 您 in both 10, no empathy 0, tone 25 × (0.25 - 0 + 2) / 4
//      = 25 × 0.5625 = 14.0625, 谢谢 after the agent 15, 还有什么 10: 69.0625
//   t3 (email, solved in February) agents m11 "Hi there, the invoice is
//      attached." (no "you"; "there" is not a name), m13 "I understand. Your
//      corrected invoice …": "Hi" 10, no name 0, address 10 × 1/2 = 5,
//      "I understand" 20, tone 14.0625 (0 → 0.25), "Thanks" 15, no offer of
//      more help 0: 64.0625
//   t4 (chat) agents m15 "非常抱歉给您带来不便…", m17 "如有其他问题随时联系我们":
//      no greeting 0, no name 0, 您 in one of two 5, 抱歉 20, tone 23.4375
//      (-0.875 → 0.875), 感谢 15, 其他问题 10: 73.4375
//   t5 is not solved; t6 (chat, February) has no customer message: null, left out.
#[test]
fn pec_and_sentiment_match_hand_computed_values() {
    let p = plugins();
    let base = [
        "run",
        "pec",
        "sentiment",
        "--format",
        "csv",
        "--plugin",
        &p.pec,
        "--plugin",
        &p.sentiment,
    ];
    let out = kpi("conversations", &base);
    assert_values(
        &values(&out),
        &[
            // (98.4375 + 69.0625) / 2
            ("2026-01 pec", Some(83.75)),
            // (-0.875 + 0.875 + 0 + 0.25 + 0) / 5 = 0.25 / 5
            ("2026-01 sentiment", Some(0.05)),
            // (64.0625 + 73.4375) / 2 (t6 null)
            ("2026-02 pec", Some(68.75)),
            // (0.25 - 0.875 + 0.875 - 17/23) / 4 = (23/92 - 68/92) / 4 = -45/368
            ("2026-02 sentiment", Some(-45.0 / 368.0)),
        ],
    );
    let mut by_channel = base.to_vec();
    by_channel.extend(["--by", "channel"]);
    let out = kpi("conversations", &by_channel);
    assert_values(
        &values(&out),
        &[
            ("2026-01 chat pec", Some(69.0625)),
            // m6, m8: (0 + 0.25) / 2
            ("2026-01 chat sentiment", Some(0.125)),
            ("2026-01 email pec", Some(98.4375)),
            // m1, m3, m10: (-0.875 + 0.875 + 0) / 3
            ("2026-01 email sentiment", Some(0.0)),
            ("2026-02 chat pec", Some(73.4375)),
            // m14, m16: (-0.875 + 0.875) / 2
            ("2026-02 chat sentiment", Some(0.0)),
            ("2026-02 email pec", Some(64.0625)),
            // m12, m18 (m21 null): (0.25 - 17/23) / 2 = -45/184
            ("2026-02 email sentiment", Some(-45.0 / 184.0)),
        ],
    );
}

#[test]
fn a_panic_nan_or_wrong_length_fails_the_run_with_e0502() {
    let p = plugins();
    let mut snap = String::new();
    for metric in ["boom", "nan", "wrong_len"] {
        let args = ["run", metric, "--plugin", &p.broken];
        let out = kpi("broken", &args);
        // 1, not a signal: the process did not abort.
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "no partial result: {}", out.stdout);
        assert!(out.stderr.contains("[E0502]"), "{}", out.stderr);
        snap.push_str(&transcript("broken", &args, &out));
    }
    // The plugin's hook records the panic's place instead of printing it.
    assert!(snap.contains("panicked at tests/plugins/rust_broken/src/lib.rs:"));
    assert!(snap.contains(": boom: the rust_broken plugin panics on purpose"));
    assert!(
        !snap.contains("thread '"),
        "the plugin printed its own panic report:\n{snap}"
    );
    insta::assert_snapshot!("rust_plugin_failures", snap);
}

/// In process, through the library: a panic is an `Err` and leaves the plugin
/// usable.
#[test]
fn after_a_panic_the_host_keeps_calling_the_plugin() {
    use kpi_engine::column::{Column, Data, StrBuilder};
    let p = plugins();
    let plugin = kpi_engine::plugin::load(&root().join(&p.broken)).expect("load rust_broken");
    let f = |name: &str| {
        plugin
            .functions
            .iter()
            .find(|f| f.name == name)
            .expect("declared")
    };
    let ints = Column::new(Data::Int(vec![1, 2]), None);
    for _ in 0..2 {
        let err = f("boom")
            .call_scalar(std::slice::from_ref(&ints), 2)
            .unwrap_err();
        assert!(err.contains("panicked at") && err.contains("boom"), "{err}");
    }
    let mut b = StrBuilder::with_capacity(4);
    for s in ["ab", "", "日本語です", "x"] {
        b.push(s);
    }
    // Row 1 is null; rows 0 and 1 are group 0, rows 2 and 3 group 2; group 1 has no rows.
    let text = Column::new(Data::Str(b.finish()), Some(vec![true, false, true, true]));
    let out = f("longest")
        .call_aggregate(&[text], &[0, 0, 2, 2], 3)
        .expect("longest works after the panics");
    match out.data {
        Data::Int(v) => {
            assert_eq!((v[0], v[2]), (2, 5));
            assert!(out.valid.is_some_and(|valid| valid == [true, false, true]));
        }
        other => panic!("an int column, got {other:?}"),
    }
}

#[test]
fn a_plugin_aggregate_works_per_group_and_inside_a_row() {
    let p = plugins();
    // Message bodies (characters, not bytes): k1 "hello" 5, "hi" 2;
    // k2 "你好吗" 3, "ok, done" 8; k3 only a null body; k4 (February)
    // "héllo wörld" 11, "no" 2.
    let metrics = [
        "run",
        "longest_body",
        "longest_customer_body",
        "avg_longest_per_ticket",
        "--format",
        "csv",
        "--plugin",
        &p.broken,
    ];
    let out = kpi("broken", &metrics);
    assert_values(
        &values(&out),
        &[
            ("2026-01 longest_body", Some(8.0)),
            // customers: "hello" 5, "你好吗" 3
            ("2026-01 longest_customer_body", Some(5.0)),
            // per ticket: k1 5, k2 8, k3 null (left out): (5 + 8) / 2
            ("2026-01 avg_longest_per_ticket", Some(6.5)),
            ("2026-02 longest_body", Some(11.0)),
            ("2026-02 longest_customer_body", Some(11.0)),
            ("2026-02 avg_longest_per_ticket", Some(11.0)),
        ],
    );
    let mut by_channel = metrics.to_vec();
    by_channel.extend(["--by", "channel"]);
    let out = kpi("broken", &by_channel);
    assert_values(
        &values(&out),
        &[
            ("2026-01 chat longest_body", Some(8.0)),
            ("2026-01 chat longest_customer_body", Some(3.0)),
            ("2026-01 chat avg_longest_per_ticket", Some(8.0)),
            ("2026-01 email longest_body", Some(5.0)),
            ("2026-01 email longest_customer_body", Some(5.0)),
            ("2026-01 email avg_longest_per_ticket", Some(5.0)),
            // chat has no rows in February: the plugin gets an empty group.
            ("2026-02 chat longest_body", None),
            ("2026-02 chat longest_customer_body", None),
            ("2026-02 chat avg_longest_per_ticket", None),
            ("2026-02 email longest_body", Some(11.0)),
            ("2026-02 email longest_customer_body", Some(11.0)),
            ("2026-02 email avg_longest_per_ticket", Some(11.0)),
        ],
    );
}

#[test]
fn kpi_plugins_lists_the_rust_plugins() {
    let p = plugins();
    let out = kpi(
        "conversations",
        &[
            "plugins",
            "--plugin",
            &p.pec,
            "--plugin",
            &p.sentiment,
            "--plugin",
            &p.broken,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Library names differ by platform; the snapshot shows the Linux ones.
    let mut text = out.stdout.clone();
    for name in ["kpi_pec", "kpi_sentiment", "kpi_test_plugin"] {
        text = text.replace(&library(name), &format!("{TARGET}/debug/lib{name}.so"));
    }
    insta::assert_snapshot!("rust_plugins_listed", text);
}

#[test]
fn kpi_check_checks_calls_to_plugin_functions() {
    let p = plugins();
    let loaded = ["--plugin", p.pec.as_str(), "--plugin", p.sentiment.as_str()];
    let mut args = vec!["check"];
    args.extend(loaded);
    // The plugins' own definitions check.
    let out = kpi("conversations", &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("ok: 2 metrics checked, no errors"),
        "{}",
        out.stderr
    );
    // A project's definitions with wrong argument types: located errors.
    let out = kpi("bad_call", &args);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stderr.matches("[E0305]").count(), 3, "{}", out.stderr);
    insta::assert_snapshot!("rust_plugin_bad_calls", transcript("bad_call", &args, &out));
}

/// The files of the example plugin in docs/plugins.md: each fenced block
/// right after a `<!-- file: PATH -->` line.
fn doc_files() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(root().join("docs/plugins.md")).expect("read docs");
    let mut files = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- file: ")
            .and_then(|r| r.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().expect("a code block after the marker");
        assert!(fence.starts_with("```"), "{path}: {fence}");
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        files.push((path.to_string(), body.join("\n") + "\n"));
    }
    files
}

/// Writes the docs' example plugin under target/plugin-tests/doc-example,
/// pointed at this checkout's API crate, and builds it once per test run.
fn doc_plugin() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = root().join(TARGET).join("doc-example");
        let files = doc_files();
        assert_eq!(files.len(), 3, "Cargo.toml, src/lib.rs, metrics.toml");
        for (path, mut text) in files {
            if path.ends_with("Cargo.toml") {
                let api = root().join("plugins/api");
                text = text.replace(
                    "path = \"../kpi/plugins/api\"",
                    &format!("path = {:?}", api.display().to_string()),
                );
                assert!(text.contains(&*api.to_string_lossy()), "{text}");
                // The crate lies inside this workspace's directory.
                text.push_str("\n[workspace]\n");
            }
            let file = dir.join(&path);
            std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
            std::fs::write(&file, text).expect("write the example");
        }
        let manifest = dir.join("textstats/Cargo.toml");
        cargo_build(&[
            "build",
            "--quiet",
            "--manifest-path",
            manifest.to_str().expect("utf-8 path"),
        ]);
        library("kpi_textstats")
    })
}

#[test]
fn the_plugin_in_the_docs_builds_loads_and_passes_its_test() {
    let p = doc_plugin();
    assert!(Path::new(&root().join(p)).exists());
    let out = kpi("conversations", &["test", "--plugin", p]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.lines().any(|l| l == "1 passed, 0 failed"),
        "{}",
        out.stderr
    );
    let out = kpi("conversations", &["plugins", "--plugin", p]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = std::fs::read_to_string(root().join("docs/plugins.md")).expect("read docs");
    // The listing the docs show, but for the path.
    let shown = out.stdout.replace(p, "target/release/libkpi_textstats.so");
    assert!(
        doc.contains(&shown),
        "docs/plugins.md should show:\n{shown}"
    );
    // Its functions over real conversations: customer messages in January
    // have 10 ("Terrible service, …"), 7 ("Thank you, great job, …"), 1 and 1
    // (Chinese, no spaces) and 8 ("Hello, I have a question …") words.
    let out = kpi(
        "conversations",
        &[
            "run",
            "customer_words",
            "--format",
            "csv",
            "--to",
            "2026-02-01",
            "--plugin",
            p,
        ],
    );
    // (10 + 7 + 1 + 1 + 8) / 5 = 27 / 5
    assert_values(&values(&out), &[("2026-01 customer_words", Some(5.4))]);
}
