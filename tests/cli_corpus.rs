//! The CLI never panics: the `kpi` binary driven with a corpus of broken
//! inputs and flag combinations (unknown flags, bad values of every flag,
//! missing or wrong project directories, a kpi.toml that is a directory or
//! binary garbage, garbage, huge and deeply nested definition files, plugin
//! paths that are not plugins, outputs that cannot be written, every
//! subcommand's `--help`). Each case asserts its exit code (0, 1 or 2, never
//! 101 or a signal) and that stderr holds no panic; a representative subset
//! of the messages is snapshotted.
//!
//! The cases run in a temporary directory holding the projects, with
//! relative paths, so messages are stable.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::Out;

/// Longest a case may take (debug builds, a loaded machine).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `kpi ARGS` in `cwd`; a run past [`TIMEOUT`] fails the test.
fn kpi(cwd: &Path, args: &[&str]) -> Out {
    let child = Command::new(env!("CARGO_BIN_EXE_kpi"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kpi");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("kpi {} did not finish in {TIMEOUT:?}", args.join(" ")))
        .expect("wait for kpi");
    Out {
        // A signal (a stack overflow's abort) has no code: -1.
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The case's command line as a user would type it (long arguments cut).
fn command_line(args: &[&str]) -> String {
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.len() > 60 {
                format!(
                    "{}...",
                    &a[..a.char_indices().nth(57).map_or(a.len(), |(i, _)| i)]
                )
            } else if a.is_empty() || a.contains(' ') {
                format!("'{a}'")
            } else {
                a.to_string()
            }
        })
        .collect();
    format!("kpi {}", shown.join(" "))
}

/// Runs one case and asserts it ended the way a CLI should: the expected
/// exit code, which is 0, 1 or 2, and no panic or crash on stderr.
fn case(cwd: &Path, args: &[&str], code: i32) -> Out {
    let out = kpi(cwd, args);
    let cmd = command_line(args);
    for crash in [
        "panicked",
        "overflowed its stack",
        "RUST_BACKTRACE",
        "fatal runtime error",
    ] {
        assert!(
            !out.stderr.contains(crash),
            "{cmd} crashed ({crash}):\n{}",
            out.stderr
        );
    }
    assert!(
        [0, 1, 2].contains(&out.code),
        "{cmd} exited with {} (101 is a panic, -1 a signal):\n{}",
        out.code,
        out.stderr
    );
    assert_eq!(
        out.code, code,
        "{cmd}\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    out
}

/// Deterministic bytes (an xorshift stream): binary garbage that is the
/// same on every run.
fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The corpus directory: a valid project `ok` and one broken project per
/// kind, all under one temporary directory.
struct Corpus {
    dir: PathBuf,
}

const KPI_TOML: &str = "[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\n\n\
    [params]\ntarget = 0.5\n\n[tables.tickets]\nsource = \"data/tickets.csv\"\n";
const TICKETS: &str = "id,created_at,escalated,contacts\n\
    t1,2026-01-05 09:00,true,2\nt2,2026-01-06 10:00,false,1\nt3,2026-02-07 11:00,false,1\n";
const DEFINITIONS: &str = "[metric.tickets]\nformula = 'count(tickets)'\n\n\
    [metric.escalation_rate]\nformula = 'count(tickets where escalated) / count(tickets) * 100'\nunit = \"%\"\n";

impl Corpus {
    /// `name`: one directory per test, as the tests run in parallel.
    fn new(name: &str) -> Corpus {
        let dir =
            std::env::temp_dir().join(format!("kpi-cli-corpus-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let c = Corpus { dir };
        c.project("ok", KPI_TOML.as_bytes(), DEFINITIONS.as_bytes());
        c
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }

    /// A project `name` with this kpi.toml and kpis/defs.toml and the
    /// tickets table.
    fn project(&self, name: &str, kpi_toml: &[u8], definitions: &[u8]) {
        self.write(&format!("{name}/kpi.toml"), kpi_toml);
        self.write(&format!("{name}/kpis/defs.toml"), definitions);
        self.write(&format!("{name}/data/tickets.csv"), TICKETS.as_bytes());
    }

    fn run(&self, args: &[&str], code: i32) -> Out {
        case(&self.dir, args, code)
    }
}

impl Drop for Corpus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Appends `$ command`, the exit code and stderr to a transcript.
fn transcript(t: &mut String, args: &[&str], out: &Out) {
    t.push_str(&format!(
        "$ {}\nexit code: {}\n{}\n",
        command_line(args),
        out.code,
        out.stderr.trim_end()
    ));
}

#[test]
fn every_subcommand_has_help() {
    let c = Corpus::new("every_subcommand_has_help");
    for args in [
        &["--help"][..],
        &["-h"],
        &["--version"],
        &["help"],
        &["help", "run"],
        &["help", "nonsense"],
    ] {
        // `help nonsense` is a usage error; the others print and exit 0.
        let code = if args.contains(&"nonsense") { 2 } else { 0 };
        c.run(args, code);
    }
    for sub in [
        "run", "list", "explain", "check", "plugins", "test", "generate",
    ] {
        let out = c.run(&[sub, "--help"], 0);
        assert!(
            out.stdout.contains("Usage"),
            "{sub} --help:\n{}",
            out.stdout
        );
        c.run(&[sub, "-h"], 0);
    }
    // `help` takes subcommand names, not flags.
    c.run(&["help", "--help"], 2);
    // Help wins over a broken project or missing arguments.
    c.run(&["run", "--help", "--project", "nonexistent"], 0);
    c.run(&["explain", "--help"], 0);
    c.run(&["generate", "--help", "--tickets", "0"], 0);
}

#[test]
fn unknown_flags_and_bad_flag_values() {
    let c = Corpus::new("unknown_flags_and_bad_flag_values");
    let mut t = String::new();
    // (args, exit code, snapshotted)
    let cases: &[(&[&str], i32, bool)] = &[
        (&[], 2, false),
        (&["--bogus"], 2, true),
        (&["bogus"], 2, true),
        (&["run", "--bogus", "--project", "ok"], 2, false),
        (&["run", "--project"], 2, false),
        (&["run", "--project", "ok", "--period"], 2, false),
        (
            &["run", "--project", "ok", "--period", "fortnight"],
            2,
            true,
        ),
        (&["run", "--project", "ok", "--period", ""], 2, false),
        (&["run", "--project", "ok", "--period", "MONTH"], 2, false),
        (&["run", "--project", "ok", "--format", "xml"], 2, true),
        (&["run", "--project", "ok", "--format", ""], 2, false),
        (&["list", "--project", "ok", "--format", "xml"], 2, false),
        (&["run", "--project", "ok", "--from", "yesterday"], 2, true),
        (
            &["run", "--project", "ok", "--from", "2026-13-45"],
            2,
            false,
        ),
        (
            &["run", "--project", "ok", "--from", "2026-02-30"],
            2,
            false,
        ),
        (
            &["run", "--project", "ok", "--from", "2026-01-01 25:00"],
            2,
            false,
        ),
        (
            &["run", "--project", "ok", "--from", "99999-01-01"],
            2,
            false,
        ),
        (
            &["run", "--project", "ok", "--from", "-0001-01-01"],
            2,
            false,
        ),
        (
            &[
                "run",
                "--project",
                "ok",
                "--from",
                "2026-01-01T00:00:00+99:00",
            ],
            2,
            false,
        ),
        (&["run", "--project", "ok", "--to", "\u{7f}"], 2, false),
        (
            &[
                "run",
                "--project",
                "ok",
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
            ],
            2,
            true,
        ),
        (
            &[
                "run",
                "--project",
                "ok",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-01",
            ],
            2,
            false,
        ),
        // Far but valid ranges: no overflow.
        (&["run", "--project", "ok", "--to", "0001-01-01"], 0, false),
        (
            &["run", "--project", "ok", "--from", "+10000-01-01"],
            0,
            false,
        ),
        (
            &[
                "run",
                "--project",
                "ok",
                "--period",
                "year",
                "--from",
                "0001-01-01",
                "--to",
                "9999-12-31",
            ],
            0,
            false,
        ),
        (&["run", "--project", "ok", "--by", "nonsense"], 2, true),
        (&["run", "--project", "ok", "--by", ""], 2, false),
        (&["run", "--project", "ok", "--by", ",,,"], 2, false),
        (&["run", "--project", "ok", "--param", "target"], 2, true),
        (&["run", "--project", "ok", "--param", "=1"], 2, false),
        (&["run", "--project", "ok", "--param", "nope=1"], 2, false),
        (
            &["run", "--project", "ok", "--param", "target=high"],
            2,
            true,
        ),
        (
            &["run", "--project", "ok", "--param", "target=1e999"],
            2,
            false,
        ),
        (
            &["run", "--project", "ok", "--param", "target=NaN"],
            2,
            false,
        ),
        (&["run", "--project", "ok", "--param", "target="], 2, false),
        (
            &["run", "--project", "ok", "--param", "target.x=1"],
            2,
            false,
        ),
        (&["run", "--project", "ok", "--max-rejects", "-1"], 2, false),
        (
            &["run", "--project", "ok", "--max-rejects", "many"],
            2,
            false,
        ),
        (
            &[
                "run",
                "--project",
                "ok",
                "--max-rejects",
                "99999999999999999999999",
            ],
            2,
            false,
        ),
        (&["run", "--project", "ok", "nonexistent_metric"], 2, true),
        (&["run", "--project", "ok", ""], 2, false),
        (&["run", "--project", "ok", "tickets", "tickets"], 0, false),
        (&["explain", "--project", "ok"], 2, false),
        (&["explain", "--project", "ok", "ticket"], 2, true),
        (
            &["explain", "--project", "ok", "tickets", "extra"],
            2,
            false,
        ),
        (&["test", "--project", "ok", "nonexistent_metric"], 0, false),
        (&["generate"], 2, false),
        (&["generate", "--out", "gen", "--tickets", "0"], 2, true),
        (
            &[
                "generate",
                "--out",
                "gen",
                "--tickets",
                "18446744073709551615",
            ],
            2,
            true,
        ),
        (&["generate", "--out", "gen", "--tickets", "-5"], 2, false),
        (&["generate", "--out", "gen", "--months", "0"], 2, false),
        (
            &["generate", "--out", "gen", "--months", "4294967295"],
            2,
            false,
        ),
        (
            &[
                "generate",
                "--out",
                "gen",
                "--timezone",
                "Mars/Olympus_Mons",
            ],
            2,
            true,
        ),
        (
            &["generate", "--out", "gen", "--start", "2026-02-30"],
            2,
            false,
        ),
        (&["generate", "--out", "gen", "--format", "xlsx"], 2, false),
        (&["generate", "--out", "gen", "--seed", "-1"], 2, false),
        (
            &["generate", "--out", "ok/kpi.toml", "--tickets", "10"],
            1,
            false,
        ),
    ];
    for (args, code, snap) in cases {
        let out = c.run(args, *code);
        if *snap {
            transcript(&mut t, args, &out);
        }
    }
    insta::assert_snapshot!("cli_corpus_flags", t);
}

#[test]
fn broken_project_directories_and_files() {
    let c = Corpus::new("broken_project_directories_and_files");
    // kpi.toml is a directory; the project is a file; binary garbage and
    // invalid UTF-8 as kpi.toml and as a definition file; a definitions
    // entry that is a directory; an empty kpi.toml.
    std::fs::create_dir_all(c.path("toml_is_dir/kpi.toml")).expect("mkdir");
    c.project("garbage_toml", &garbage(4096, 1), DEFINITIONS.as_bytes());
    c.project(
        "latin1_toml",
        b"[project]\nname = \"caf\xe9\"\n",
        DEFINITIONS.as_bytes(),
    );
    c.project(
        "nul_toml",
        b"[project]\x00\nname = 1\n",
        DEFINITIONS.as_bytes(),
    );
    c.project("garbage_defs", KPI_TOML.as_bytes(), &garbage(4096, 2));
    let printable: String = garbage(4096, 3)
        .iter()
        .map(|b| char::from(b' ' + b % 95))
        // A leading `#` would make it all a comment.
        .map(|c| if c == '#' { '\n' } else { c })
        .collect();
    c.project("printable_defs", KPI_TOML.as_bytes(), printable.as_bytes());
    c.project(
        "bom_defs",
        KPI_TOML.as_bytes(),
        b"\xef\xbb\xbf[metric.x]\nformula = \"count(tickets)\"\n",
    );
    c.project("dir_defs", KPI_TOML.as_bytes(), DEFINITIONS.as_bytes());
    std::fs::create_dir_all(c.path("dir_defs/kpis/more.toml")).expect("mkdir");
    c.project("empty_toml", b"", b"");
    c.project(
        "bad_project_keys",
        b"[project]\ntimezone = \"Mars/Olympus_Mons\"\nweek_start = \"caturday\"\nfrom = \"soon\"\n\
          definitions = [\"nowhere\", \"kpi.toml\"]\nbuiltins = \"yes\"\n[tables.tickets]\nsource = \"data\"\n\
          delimiter = \"\xc3\xa9\"\n[tables.nope]\nsource = \"data/*.parquet\"\n",
        DEFINITIONS.as_bytes(),
    );
    c.project(
        "source_is_dir",
        b"[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\n[tables.tickets]\nsource = \"data\"\n",
        DEFINITIONS.as_bytes(),
    );
    c.project("garbage_data", KPI_TOML.as_bytes(), DEFINITIONS.as_bytes());
    c.write("garbage_data/data/tickets.csv", &garbage(65536, 4));

    let mut t = String::new();
    let cases: &[(&[&str], i32, bool)] = &[
        (&["check", "--project", "nonexistent"], 2, true),
        (&["run", "--project", "nonexistent"], 2, false),
        (&["check", "--project", "ok/kpi.toml"], 2, true),
        (&["check", "--project", "toml_is_dir"], 2, true),
        (&["check", "--project", "garbage_toml"], 2, true),
        (&["run", "--project", "garbage_toml"], 2, false),
        (&["check", "--project", "latin1_toml"], 2, false),
        (&["check", "--project", "nul_toml"], 2, false),
        (&["check", "--project", "garbage_defs"], 2, true),
        (&["run", "--project", "garbage_defs"], 2, false),
        (&["check", "--project", "printable_defs"], 2, false),
        (&["list", "--project", "printable_defs"], 2, false),
        (&["check", "--project", "bom_defs"], 0, false),
        (&["check", "--project", "dir_defs"], 2, true),
        (&["check", "--project", "empty_toml"], 0, false),
        (&["check", "--project", "bad_project_keys"], 2, false),
        (&["run", "--project", "source_is_dir"], 1, false),
        (&["run", "--project", "garbage_data"], 1, false),
        (&["test", "--project", "garbage_defs"], 2, false),
        (
            &["explain", "tickets", "--project", "garbage_defs"],
            2,
            false,
        ),
        (&["plugins", "--project", "garbage_toml"], 2, false),
    ];
    for (args, code, snap) in cases {
        let out = c.run(args, *code);
        if *snap {
            transcript(&mut t, args, &out);
        }
    }
    insta::assert_snapshot!("cli_corpus_projects", t);
}

#[test]
fn huge_and_deeply_nested_definitions() {
    let c = Corpus::new("huge_and_deeply_nested_definitions");
    let project = |name: &str, defs: String| c.project(name, KPI_TOML.as_bytes(), defs.as_bytes());
    let d = kpi_dsl::MAX_DEPTH;
    // At the limits: accepted, and run.
    project(
        "at_limits",
        format!(
            "[metric.brackets]\nformula = '{}count(tickets){}'\n\
             [metric.ifs]\nformula = '{}count(tickets){}'\n\
             [metric.chain]\nformula = '{}'\n\
             [metric.negs]\nformula = '{}count(tickets)'\n\
             [metric.nots]\nformula = 'count(tickets where {}escalated)'\n",
            "(".repeat(d - 1),
            ")".repeat(d - 1),
            "if true then ".repeat(d - 1),
            " else 2 end".repeat(d - 1),
            vec!["count(tickets)"; kpi_dsl::MAX_CHAIN].join(" + "),
            "-".repeat(kpi_dsl::MAX_CHAIN - 2),
            "not ".repeat(kpi_dsl::MAX_CHAIN - 10),
        ),
    );
    // Past them: refused with E0102.
    project(
        "too_deep",
        format!(
            "[metric.brackets]\nformula = '{}1{}'\n\
             [metric.ifs]\nformula = '{}1{}'\n\
             [metric.chain]\nformula = '{}'\n\
             [metric.fields]\nformula = 'count(tickets: a{})'\n\
             [metric.hidden_brackets]\nformula = '''# \"\n{}1'''\n",
            "(".repeat(100_000),
            ")".repeat(100_000),
            "if true then ".repeat(100_000),
            " else 2 end".repeat(100_000),
            vec!["count(tickets)"; 5_000].join(" + "),
            ".b".repeat(5_000),
            "(".repeat(100_000),
        ),
    );
    // TOML nested past the TOML parser's limit.
    project(
        "deep_toml",
        format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
    );
    project("deep_tables", format!("[{}b]\n", "a.".repeat(50_000)));
    // Metrics naming metrics: a chain 3,000 long, one 3,000 long defined in
    // reverse, and 40 that each double the one before.
    let chain: String = (1..3000)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{} + 1'\n", i - 1))
        .collect();
    project(
        "metric_chain",
        format!("[metric.m0]\nformula = 'count(tickets)'\n{chain}"),
    );
    let reverse: String = (0..3000)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{} + 1'\n", i + 1))
        .collect();
    project(
        "metric_chain_reversed",
        format!("{reverse}[metric.m3000]\nformula = 'count(tickets)'\n"),
    );
    let doubling: String = (1..40)
        .map(|i| format!("[metric.m{i}]\nformula = 'm{0} + m{0}'\n", i - 1))
        .collect();
    project(
        "metric_doubling",
        format!("[metric.m0]\nformula = 'count(tickets)'\n{doubling}"),
    );
    // Many metrics, a long formula, a long description, a long line.
    let many: String = (0..5_000)
        .map(|i| format!("[metric.x{i}]\nformula = 'count(tickets where contacts > {i})'\n"))
        .collect();
    project("many_metrics", many);
    project(
        "long_strings",
        format!(
            "# {}\n[metric.long]\nformula = 'count(tickets where id in [{}])'\ndescription = \"{}\"\n",
            "x".repeat(1 << 20),
            vec!["\"t1\""; 20_000].join(", "),
            "y".repeat(1 << 20),
        ),
    );

    let mut t = String::new();
    for name in ["at_limits", "long_strings"] {
        c.run(&["check", "--project", name], 0);
        c.run(&["run", "--project", name, "--format", "json"], 0);
    }
    c.run(&["explain", "ifs", "--project", "at_limits"], 0);
    c.run(&["explain", "chain", "--project", "at_limits"], 0);
    c.run(&["check", "--project", "many_metrics"], 0);
    for name in [
        "too_deep",
        "deep_toml",
        "deep_tables",
        "metric_chain",
        "metric_chain_reversed",
        "metric_doubling",
    ] {
        let args = ["check", "--project", name];
        let out = c.run(&args, 2);
        assert!(
            out.stderr.contains("[E0102]") || name.starts_with("deep_"),
            "{}",
            out.stderr
        );
        // Messages about huge inputs stay small: excerpts, not the input.
        assert!(
            out.stderr.len() < 200_000,
            "{name}: {} bytes",
            out.stderr.len()
        );
        // The first line says what is wrong.
        let head = out.stderr.lines().next().unwrap_or_default().to_string();
        transcript(
            &mut t,
            &args,
            &Out {
                stderr: head,
                ..out
            },
        );
    }
    insta::assert_snapshot!("cli_corpus_deep", t);
}

#[test]
fn plugins_and_outputs_that_are_not_files() {
    let c = Corpus::new("plugins_and_outputs_that_are_not_files");
    c.write("not_a_plugin.so", &garbage(5000, 5));
    c.write("elf_header.so", b"\x7fELF\x02\x01\x01\x00");
    std::fs::create_dir_all(c.path("a_dir")).expect("mkdir");
    c.project(
        "plugin_dirs",
        b"[project]\ndefinitions = [\"kpis\"]\nbuiltins = false\nplugins = [\"data\", \"kpi.toml\", \"nope.so\"]\n\
          [tables.tickets]\nsource = \"data/tickets.csv\"\n",
        DEFINITIONS.as_bytes(),
    );
    let mut t = String::new();
    let cases: &[(&[&str], i32, bool)] = &[
        // Not snapshotted: a relative path without a `/` reaches dlopen as is,
        // which searches the library path for it (reported to the engine).
        (&["--plugin", "a_dir", "check", "--project", "ok"], 2, false),
        (
            &["--plugin", "./a_dir", "check", "--project", "ok"],
            2,
            true,
        ),
        (
            &["--plugin", "nonexistent.so", "check", "--project", "ok"],
            2,
            true,
        ),
        (
            &["--plugin", "not_a_plugin.so", "run", "--project", "ok"],
            2,
            false,
        ),
        (
            &["--plugin", "elf_header.so", "plugins", "--project", "ok"],
            2,
            false,
        ),
        (
            &["--plugin", "ok/kpi.toml", "list", "--project", "ok"],
            2,
            false,
        ),
        (&["--plugin", "", "check", "--project", "ok"], 2, false),
        (&["check", "--project", "plugin_dirs"], 2, true),
        (&["run", "--project", "ok", "--output", "a_dir"], 2, true),
        (
            &[
                "run",
                "--project",
                "ok",
                "--output",
                "ok/kpi.toml/result.csv",
            ],
            2,
            true,
        ),
        (
            &[
                "run",
                "--project",
                "ok",
                "--output",
                "no/such/dir/result.csv",
            ],
            2,
            false,
        ),
        (&["run", "--project", "ok", "--output", ""], 2, false),
        (&["run", "--project", "ok", "--output", "."], 2, false),
        (&["run", "--project", "ok", "--rejects", "a_dir"], 2, false),
        (
            &[
                "run",
                "--project",
                "ok",
                "--rejects",
                "ok/kpi.toml/rejects.csv",
            ],
            2,
            false,
        ),
    ];
    for (args, code, snap) in cases {
        let out = c.run(args, *code);
        if *snap {
            transcript(&mut t, args, &out);
        }
    }
    // Nothing was written where a write failed, and no temporary file is
    // left behind.
    assert!(std::fs::read_dir(c.path("a_dir"))
        .expect("a_dir")
        .next()
        .is_none());
    let leftovers: Vec<_> = std::fs::read_dir(&c.dir)
        .expect("corpus dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    insta::assert_snapshot!("cli_corpus_plugins_outputs", t);
}

/// `--output` through a symlink replaces the file it points at and keeps
/// the link; a dangling link gets its file created.
#[cfg(unix)]
#[test]
fn output_through_a_symlink() {
    let c = Corpus::new("output_through_a_symlink");
    c.write("result.csv", b"old");
    std::os::unix::fs::symlink("result.csv", c.path("link.csv")).expect("symlink");
    std::os::unix::fs::symlink("created.csv", c.path("dangling.csv")).expect("symlink");
    for link in ["link.csv", "dangling.csv"] {
        c.run(
            &[
                "run",
                "--project",
                "ok",
                "--format",
                "csv",
                "--output",
                link,
            ],
            0,
        );
        let meta = std::fs::symlink_metadata(c.path(link)).expect("link");
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
    }
    for file in ["result.csv", "created.csv"] {
        let text = std::fs::read_to_string(c.path(file)).expect("written");
        assert!(text.starts_with("period_start,"), "{file}: {text}");
    }
}
