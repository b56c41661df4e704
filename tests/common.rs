//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The root of the repository.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture project under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The result of one CLI run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `kpi` binary with `args` in `cwd`.
pub fn kpi_in(cwd: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run kpi");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `kpi` on a fixture project (`--project` is added).
pub fn kpi(project: &str, args: &[&str]) -> Out {
    let dir = fixture(project);
    let mut all: Vec<&str> = args.to_vec();
    let dir_s = dir.to_str().expect("utf-8 path").to_string();
    all.extend(["--project", &dir_s]);
    kpi_in(&root(), &all)
}

/// Parses CSV output into rows of strings (header first).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.expect("valid CSV").iter().map(str::to_string).collect())
        .collect()
}

/// Writes a temporary project: `files` are (relative path, contents).
pub fn temp_project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kpi-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write fixture");
    }
    dir
}

/// Runs `kpi ARGS` from the repository root (so paths in messages are
/// stable), checks the exit code and that nothing panicked, and returns the
/// output with a transcript for a snapshot: the command, its exit code and
/// its stderr.
pub fn kpi_transcript(args: &[&str], code: i32) -> (Out, String) {
    let out = kpi_in(&root(), args);
    let command = format!("kpi {}", args.join(" "));
    assert_eq!(
        out.code, code,
        "{command}\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(
        !out.stderr.contains("panicked"),
        "{command} panicked:\n{}",
        out.stderr
    );
    let transcript = format!("$ {command}\nexit code: {}\n{}", out.code, out.stderr);
    (out, transcript)
}
