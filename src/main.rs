//! The `kpi` command line. Data goes to stdout, messages to stderr.
//! Exit codes: 0 ok, 1 evaluation or data error, 2 usage or definition error.

mod generate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kpi_dsl::ir;
use kpi_engine::{Error, Format, PeriodKind, Project, Query};

#[derive(Parser)]
#[command(
    name = "kpi",
    version,
    about = "Customer-service KPIs from event tables"
)]
struct Cli {
    /// Project directory (holding kpi.toml); default: the current directory,
    /// or the bundled example project when there is no kpi.toml.
    #[arg(long, global = true, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Load a plugin (a shared library built against kpi-plugin-api), besides
    /// those the project file names. Repeatable.
    #[arg(long = "plugin", global = true, value_name = "PATH")]
    plugins: Vec<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compute metrics per period (and per group).
    Run {
        /// Metric ids; default: every visible metric whose tables exist.
        metrics: Vec<String>,
        /// Dimensions to group by, comma-separated (agent, team, channel, ...).
        #[arg(long, value_delimiter = ',')]
        by: Vec<String>,
        /// day, week, month, quarter, year or all.
        #[arg(long, default_value = "month")]
        period: String,
        /// Start (inclusive): a date (local midnight) or a timestamp.
        #[arg(long)]
        from: Option<String>,
        /// End (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// table, csv, json or jsonl.
        #[arg(long, default_value = "table")]
        format: String,
        /// Override a parameter: name=value or name.key=value (repeatable).
        #[arg(long = "param", value_name = "K=V")]
        params: Vec<String>,
        /// Write the result to FILE (atomically) instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Tolerate up to N rejected rows (bad values, empty required
        /// values, ragged rows), leaving them out of every metric; default 0:
        /// any rejected row fails the run.
        #[arg(long, value_name = "N", default_value_t = 0)]
        max_rejects: u64,
        /// Write every rejected row (file, line, column, kind, message, text)
        /// to FILE, atomically: CSV, or JSON Lines when FILE ends in .jsonl.
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        /// Threads for reading and computing (default: one per core). The
        /// numbers are the same for any count.
        #[arg(long, value_name = "N", default_value_t = 0)]
        threads: usize,
    },
    /// List metrics: id, title, unit, tables needed, source.
    List {
        /// Include hidden building-block metrics.
        #[arg(long)]
        all: bool,
        /// table, csv or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Show a metric's formula, typed tree, tables and columns, description.
    Explain { metric: String },
    /// Parse and type-check every definition (plugins' too); reads no data.
    Check,
    /// List the loaded plugins and the functions and metrics they provide.
    Plugins,
    /// Run the `[[test]]` cases of every definition file (built-ins too).
    Test {
        /// Only the cases that check this metric.
        metric: Option<String>,
    },
    /// Write a seeded, realistic example project (kpi.toml and data/).
    Generate(generate::GenerateArgs),
}

/// Stack of the thread the command runs on. Formulas are bounded in depth
/// (`kpi_dsl::MAX_DEPTH`, `MAX_CHAIN`), but the checker and the evaluator
/// recurse over them with frames that are large in debug builds: at the
/// limits they need more than a main thread's 8 MiB (1 MiB on Windows).
/// The memory is reserved, not committed, until used.
const STACK_SIZE: usize = 256 << 20;

fn main() -> ExitCode {
    match std::thread::Builder::new()
        .name("kpi".into())
        .stack_size(STACK_SIZE)
        .spawn(cli_main)
    {
        // A panic has been reported by the hook; keep its exit code.
        Ok(thread) => thread.join().unwrap_or(ExitCode::from(101)),
        // No thread (a tight limit on virtual memory): run here.
        Err(_) => cli_main(),
    }
}

fn cli_main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    // `generate` writes a project; it does not need one.
    if let Command::Generate(args) = &cli.command {
        return generate::cli(args);
    }
    let (dir, bundled) = project_dir(cli.project.as_deref());
    if bundled {
        eprintln!(
            "note: no kpi.toml here; using the bundled example project in {}",
            dir.display()
        );
    }
    let project = match Project::load_with_plugins(&dir, &cli.plugins) {
        Ok(p) => p,
        Err(e) => return fail(&e, None),
    };
    match execute(cli.command, project) {
        Ok(()) => ExitCode::SUCCESS,
        Err((e, project)) => fail(&e, project.as_ref().map(|p| &p.sources)),
    }
}

fn fail(e: &Error, sources: Option<&kpi_dsl::SourceMap>) -> ExitCode {
    eprint!("{}", e.render(sources));
    ExitCode::from(e.exit_code() as u8)
}

/// The project to use: `--project`, else the working directory when it has a
/// kpi.toml, else the example project shipped with the source.
fn project_dir(arg: Option<&Path>) -> (PathBuf, bool) {
    if let Some(p) = arg {
        return (p.to_path_buf(), false);
    }
    if Path::new("kpi.toml").exists() {
        return (PathBuf::from("."), false);
    }
    (
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/support"),
        true,
    )
}

/// An error, and the project whose sources it may point into (boxed: a
/// project is large, and errors travel by value).
type Failure = (Error, Option<Box<Project>>);

fn execute(command: Command, mut project: Project) -> Result<(), Failure> {
    match command {
        Command::Run {
            metrics,
            by,
            period,
            from,
            to,
            format,
            params,
            output,
            max_rejects,
            rejects,
            threads,
        } => {
            let period = PeriodKind::parse(&period).ok_or_else(|| {
                (
                    Error::usage(format!(
                        "unknown period `{period}`; use day, week, month, quarter, year or all"
                    )),
                    None,
                )
            })?;
            let format = Format::parse(&format).ok_or_else(|| {
                (
                    Error::usage(format!(
                        "unknown format `{format}`; use {}",
                        Format::NAMES.join(", ")
                    )),
                    None,
                )
            })?;
            for p in &params {
                if let Err(e) = project.set_param(p) {
                    return Err((e, None));
                }
            }
            let query = Query {
                metrics,
                by,
                period,
                from,
                to,
                max_rejects,
                threads,
            };
            let result = project.run(&query);
            // The accounting, from the result or from the error of a run
            // with too many rejects: reported either way.
            let accounting = match &result {
                Ok(r) => Some((r.files.as_slice(), r.rejects.as_slice())),
                Err(e) => e
                    .accounting
                    .as_deref()
                    .map(|a| (a.files.as_slice(), a.rejects.as_slice())),
            };
            if let Some((files, rejected)) = accounting {
                eprint!("{}", summary(files));
                if let Some(path) = &rejects {
                    write_atomically(path, &rejects_file(path, rejected)).map_err(|e| {
                        (
                            Error::usage(format!("cannot write {}: {e}", path.display())),
                            None,
                        )
                    })?;
                }
            }
            let result = match result {
                Ok(r) => r,
                Err(e) => return Err((e, Some(Box::new(project)))),
            };
            if !result.rejects.is_empty() {
                let n = result.rejects.len();
                eprintln!(
                    "warning: {n} row{} rejected (--max-rejects {max_rejects}) and left out of every metric:",
                    if n == 1 { "" } else { "s" }
                );
                eprint!(
                    "{}",
                    kpi_engine::read::describe_rejects(&result.rejects, REJECTS_SHOWN)
                );
            }
            for (id, why) in &result.skipped {
                eprintln!("skipped {id}: {why}");
            }
            let text = result.render(format);
            match output {
                Some(path) => write_atomically(&path, text.as_bytes()).map_err(|e| {
                    (
                        Error::usage(format!("cannot write {}: {e}", path.display())),
                        None,
                    )
                })?,
                None => print_out(&text),
            }
            Ok(())
        }
        Command::List { all, format } => {
            let mut rows = Vec::new();
            for m in project
                .checked
                .metrics
                .values()
                .filter(|m| all || !m.def.hidden)
            {
                rows.push([
                    m.def.id.clone(),
                    m.def.title.clone().unwrap_or_default(),
                    m.def.unit.clone().unwrap_or_default(),
                    m.tables.iter().cloned().collect::<Vec<_>>().join(" "),
                    m.def.source.clone().unwrap_or_else(|| m.def.file.clone()),
                ]);
            }
            let header = ["id", "title", "unit", "tables", "source"];
            let text = match format.as_str() {
                "json" => {
                    let items: Vec<serde_json::Value> = rows
                        .iter()
                        .map(|r| {
                            let m = &project.checked.metrics[&r[0]];
                            serde_json::json!({
                                "id": r[0], "title": r[1], "unit": r[2],
                                "tables": r[3].split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                                "source": r[4],
                                "description": m.def.description.clone().unwrap_or_default(),
                                "hidden": m.def.hidden,
                            })
                        })
                        .collect();
                    serde_json::to_string_pretty(&items).expect("plain JSON") + "\n"
                }
                "csv" => {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    w.write_record(header).expect("memory");
                    for r in &rows {
                        w.write_record(r).expect("memory");
                    }
                    String::from_utf8(w.into_inner().expect("memory")).expect("utf-8")
                }
                "table" => {
                    let mut t = comfy_table::Table::new();
                    t.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
                    t.set_header(header);
                    for r in rows {
                        t.add_row(r);
                    }
                    format!("{t}\n")
                }
                other => {
                    return Err((
                        Error::usage(format!("unknown format `{other}`; use table, csv or json")),
                        None,
                    ))
                }
            };
            print_out(&text);
            Ok(())
        }
        Command::Explain { metric } => {
            let Some(m) = project.checked.metrics.get(&metric) else {
                let hint = kpi_dsl::diag::did_you_mean(
                    &metric,
                    project.checked.metrics.keys().map(String::as_str),
                )
                .unwrap_or_else(|| "`kpi list --all` shows every metric".into());
                return Err((
                    Error::usage(format!("unknown metric `{metric}`; {hint}")),
                    None,
                ));
            };
            let mut out = String::new();
            let def = &m.def;
            out.push_str(&format!(
                "{}{}\n",
                def.id,
                def.title
                    .as_ref()
                    .map(|t| format!(" — {t}"))
                    .unwrap_or_default()
            ));
            out.push_str(&format!("  formula:     {}\n", def.formula));
            if let Some(d) = &def.description {
                out.push_str(&format!("  description: {d}\n"));
            }
            if let Some(u) = &def.unit {
                out.push_str(&format!("  unit:        {u}\n"));
            }
            if let Some(b) = def.better {
                out.push_str(&format!(
                    "  better:      {}\n",
                    if b == kpi_dsl::Better::Higher {
                        "higher"
                    } else {
                        "lower"
                    }
                ));
            }
            if let Some(t) = def.target {
                out.push_str(&format!("  target:      {t}\n"));
            }
            if let Some(s) = &def.source {
                out.push_str(&format!("  source:      {s}\n"));
            }
            out.push_str(&format!("  defined in:  {}\n", def.file));
            for r in &m.replaced {
                out.push_str(&format!("  replaces:    {} ({})\n", r.file, r.formula));
            }
            out.push_str(&format!(
                "  tables:      {}\n",
                m.tables.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
            let cols: Vec<String> = m.columns.iter().map(|(t, c)| format!("{t}.{c}")).collect();
            out.push_str(&format!("  columns:     {}\n", cols.join(", ")));
            let mut params = std::collections::BTreeSet::new();
            m.expr.walk(&mut |e| {
                if let ir::ExprKind::Param(p) = &e.kind {
                    params.insert(p.clone());
                }
            });
            for p in params {
                out.push_str(&format!(
                    "  param:       {p} = {:?}\n",
                    project.schema.params[&p]
                ));
            }
            out.push_str("  typed tree:\n");
            for line in ir::tree(&m.expr).lines() {
                out.push_str(&format!("    {line}\n"));
            }
            print_out(&out);
            Ok(())
        }
        Command::Test { metric } => {
            let report = kpi_engine::testing::run_tests(&project, metric.as_deref());
            for f in &report.failures {
                eprintln!("FAIL {} {}", f.location, f.name);
                for p in &f.problems {
                    eprintln!("    {p}");
                }
            }
            let passed = report.cases - report.failures.len();
            eprintln!("{passed} passed, {} failed", report.failures.len());
            if report.failures.is_empty() {
                Ok(())
            } else {
                Err((
                    Error::data(format!(
                        "{} of {} test cases failed",
                        report.failures.len(),
                        report.cases
                    )),
                    None,
                ))
            }
        }
        Command::Generate(_) => unreachable!("`generate` runs before a project is loaded"),
        Command::Plugins => {
            let (major, minor) = kpi_engine::plugin::host_abi();
            let mut out = format!("host plugin ABI {major}.{minor}\n");
            if project.loaded_plugins.is_empty() {
                out.push_str("no plugins loaded (name them in kpi.toml `plugins = [...]` or with --plugin PATH)\n");
            }
            for p in &project.loaded_plugins {
                out.push_str(&format!(
                    "{} {} (ABI {}.{}) from {}\n",
                    p.name,
                    p.version,
                    p.abi.0,
                    p.abi.1,
                    p.path.display()
                ));
                for f in &p.functions {
                    let args: Vec<&str> = f.args.iter().map(|t| t.name()).collect();
                    let (open, kind) = match f.kind {
                        kpi_plugin_api::FunctionKind::Aggregate => ("T: ", "aggregate"),
                        kpi_plugin_api::FunctionKind::Scalar => ("", "function"),
                    };
                    out.push_str(&format!(
                        "  {kind} {}({open}{}) -> {}  {}\n",
                        f.name,
                        args.join(", "),
                        f.returns.name(),
                        f.doc
                    ));
                }
                let label = format!("<plugin {}>/definitions.toml", p.name);
                for m in project
                    .checked
                    .metrics
                    .values()
                    .filter(|m| m.def.file == label)
                {
                    out.push_str(&format!(
                        "  metric {}  {}\n",
                        m.def.id,
                        m.def.title.clone().unwrap_or_default()
                    ));
                }
            }
            print_out(&out);
            Ok(())
        }
        Command::Check => {
            eprintln!(
                "ok: {} metrics checked, no errors",
                project.checked.metrics.len()
            );
            Ok(())
        }
    }
}

/// Rejects listed on stderr when a run tolerates them.
const REJECTS_SHOWN: usize = 5;

/// One line per file read: `path (table): N read, N accepted, N rejected`.
fn summary(files: &[kpi_engine::FileAccount]) -> String {
    files
        .iter()
        .map(|f| {
            format!(
                "{} ({}): {} read, {} accepted, {} rejected\n",
                f.path.display(),
                f.table,
                f.read,
                f.accepted,
                f.rejected
            )
        })
        .collect()
}

/// The rejects file: JSON Lines when `path` ends in `.jsonl`, else CSV;
/// one record per rejected row.
fn rejects_file(path: &Path, rejects: &[kpi_engine::Reject]) -> Vec<u8> {
    let jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if jsonl {
        let mut out = String::new();
        for r in rejects {
            let o = serde_json::json!({
                "file": r.file.display().to_string(),
                "line": r.line,
                "column": r.column,
                "kind": r.kind.as_str(),
                "message": r.message,
                "text": r.text,
            });
            out.push_str(&o.to_string());
            out.push('\n');
        }
        return out.into_bytes();
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["file", "line", "column", "kind", "message", "text"])
        .expect("writing to memory");
    for r in rejects {
        w.write_record([
            r.file.display().to_string().as_str(),
            &r.line.to_string(),
            r.column.as_deref().unwrap_or(""),
            r.kind.as_str(),
            &r.message,
            &r.text,
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("flush to memory")
}

/// Writes stdout, ignoring a closed pipe (`kpi run | head`).
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Writes a file via a temporary file and a rename, so readers never see half a result.
///
/// Only regular files are replaced that way. An existing path that is
/// neither a file nor a directory (`/dev/stdout`, a terminal, a pipe) is
/// written to directly: renaming over it replaced the device node itself
/// (`--output /dev/full` left a regular file in /dev when run as root). A
/// symlink is followed, so the file it points at is replaced, not the link.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            return f.write_all(bytes).and_then(|_| f.flush());
        }
    }
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            // A dangling link: create the file it names.
            resolved = std::fs::canonicalize(path).or_else(|_| {
                let parent = path.parent().unwrap_or(Path::new(""));
                std::fs::read_link(path).map(|t| parent.join(t))
            })?;
            resolved.as_path()
        }
        _ => path,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let res = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}
