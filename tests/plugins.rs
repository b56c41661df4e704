//! Native plugins through the C ABI: a plugin written in C (compiled here with
//! the system C compiler against plugins/api/include/kpi_plugin.h), the
//! refusals of broken plugins, and failures inside plugin functions.

use std::process::Command;
use std::sync::OnceLock;

use crate::common::{csv_rows, kpi_in, root};

/// Compiles tests/plugins/c_plugin.c with extra flags into
/// target/test-plugins/NAME.so once per test run; returns the path relative
/// to the repository root (so messages in snapshots are stable).
fn c_plugin(name: &str, flags: &[&str]) -> String {
    let rel = format!("target/test-plugins/{name}.so");
    let out = root().join(&rel);
    std::fs::create_dir_all(out.parent().expect("dir")).expect("mkdir target/test-plugins");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-I"])
        .arg(root().join("plugins/api/include"))
        .args(flags)
        .arg(root().join("tests/plugins/c_plugin.c"))
        .arg("-o")
        .arg(&out)
        .arg("-lm")
        .status()
        .unwrap_or_else(|e| panic!("the C plugin test needs a C compiler ({cc}): {e}"));
    assert!(status.success(), "{cc} failed on tests/plugins/c_plugin.c");
    rel
}

fn cwords() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| c_plugin("cwords", &[]))
}

fn run(args: &[&str]) -> crate::common::Out {
    let mut all = args.to_vec();
    all.extend(["--project", "tests/fixtures/plugins"]);
    kpi_in(&root(), &all)
}

fn transcript(args: &[&str], out: &crate::common::Out) -> String {
    format!(
        "$ kpi {} --project tests/fixtures/plugins\nexit code: {}\n{}",
        args.join(" "),
        out.code,
        out.stderr
    )
}

#[test]
fn a_plugin_written_in_c_computes_its_metric() {
    let p = cwords();
    let out = run(&["run", "message_words", "--plugin", p, "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // January: "my order has not arrived" 5 words, "hello" 1: (5 + 1) / 2 = 3
    // (the agent message is filtered out). February: the empty body is null
    // and skipped; "thanks  a lot again" is 4 words (two spaces, one gap).
    let rows = csv_rows(&out.stdout);
    let got: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (&r[0][..7], r[3].as_str()))
        .collect();
    assert_eq!(got, [("2026-01", "3"), ("2026-02", "4")]);
}

#[test]
fn kpi_plugins_lists_what_a_plugin_provides() {
    let p = cwords();
    let out = run(&["plugins", "--plugin", p]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("cwords 1.0.0 (ABI 1.0) from target/test-plugins/cwords.so"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("function words(string) -> int"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("metric message_words"),
        "{}",
        out.stdout
    );
}

#[test]
fn broken_plugins_are_refused_with_exit_code_2() {
    let newer_minor = c_plugin("abi_1_5", &["-DKPI_TEST_ABI=((1u << 16) | 5u)"]);
    let older_major = c_plugin("abi_0_9", &["-DKPI_TEST_ABI=9u"]);
    let no_entry = c_plugin("no_entry", &["-DKPI_TEST_NO_ENTRY"]);
    let not_a_library = "tests/plugins/not_a_library.so";
    let mut snap = String::new();
    for plugin in [
        newer_minor.as_str(),
        older_major.as_str(),
        no_entry.as_str(),
        not_a_library,
        "target/test-plugins/missing.so",
    ] {
        let args = ["check", "--plugin", plugin];
        let out = run(&args);
        assert_eq!(out.code, 2, "{plugin}: {}", out.stderr);
        assert!(
            out.stderr.contains("[E0501]") && out.stderr.contains(plugin),
            "{}",
            out.stderr
        );
        snap.push_str(&transcript(&args, &out));
    }
    // The same functions twice: the second declaration is refused.
    let p = cwords();
    let args = ["check", "--plugin", p, "--plugin", p];
    let out = run(&args);
    assert_eq!(out.code, 2, "{}", out.stderr);
    snap.push_str(&transcript(&args, &out));
    insta::assert_snapshot!("plugin_refusals", snap);
}

#[test]
fn a_failing_or_nan_returning_function_fails_the_run_with_exit_code_1() {
    let p = cwords();
    let mut snap = String::new();
    for metric in ["failing", "nan"] {
        let args = ["run", metric, "--plugin", p];
        let out = run(&args);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty(), "no partial result: {}", out.stdout);
        assert!(out.stderr.contains("[E0502]"), "{}", out.stderr);
        snap.push_str(&transcript(&args, &out));
    }
    insta::assert_snapshot!("plugin_failures", snap);
}
