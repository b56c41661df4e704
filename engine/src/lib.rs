//! The kpi engine: project loading, columnar storage and readers, and the
//! evaluation of checked metrics per period and group.
//!
//! ```text
//! kpi.toml ──Project::load──► Schema + Definitions ──kpi_dsl::check──► typed IR
//! CSV / JSON Lines / Parquet ──read──► columnar Tables
//! Project::run(Query): plan passes (one per table × period axis) ─► Exec ─► ResultTable
//! ```
//!
//! ```no_run
//! use kpi_engine::{Project, Query};
//! let project = Project::load(std::path::Path::new("examples/support")).unwrap();
//! let result = project.run(&Query { metrics: vec!["escalation_rate".into()], ..Query::default() }).unwrap();
//! print!("{}", result.to_csv());
//! ```

mod agg;
pub mod canonical;
pub mod column;
mod exec;
mod fast;
mod groups;
pub mod kernels;
mod parquet;
pub mod period;
pub mod plugin;
pub mod project;
pub mod read;
pub mod result;
mod run;
mod series;
pub mod testing;
pub mod time;

use kpi_dsl::{codes, Diagnostic, SourceMap};

pub use period::{Calendar, PeriodKind};
pub use project::Project;
pub use read::{Accounting, FileAccount, Reject, RejectKind};
pub use result::{Format, Number, ResultRow, ResultTable, Status};
pub use run::{Query, TIME_DIMENSIONS};

/// How an error ends a command: bad usage or definitions (exit 2) or bad
/// data during evaluation (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Usage,
    Definition,
    Data,
}

/// An engine error: one or more diagnostics, with the sources they point
/// into when they were raised before a project existed.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub diagnostics: Vec<Diagnostic>,
    sources: Option<SourceMap>,
    /// The files read and the rows rejected, when a run failed for having
    /// more rejected rows than it tolerates (boxed: errors travel by value).
    pub accounting: Option<Box<Accounting>>,
}

impl Error {
    pub fn new(kind: ErrorKind, d: Diagnostic) -> Self {
        Error {
            kind,
            diagnostics: vec![d],
            sources: None,
            accounting: None,
        }
    }
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage, Diagnostic::new(codes::USAGE, msg))
    }
    pub fn data(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Data, Diagnostic::new(codes::DATA, msg))
    }
    pub fn definitions(diagnostics: Vec<Diagnostic>, sources: SourceMap) -> Self {
        Error {
            kind: ErrorKind::Definition,
            diagnostics,
            sources: Some(sources),
            accounting: None,
        }
    }
    /// Attaches the accounting of the reads.
    pub fn with_accounting(mut self, accounting: Accounting) -> Self {
        self.accounting = Some(Box::new(accounting));
        self
    }
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Data => 1,
            ErrorKind::Usage | ErrorKind::Definition => 2,
        }
    }
    /// Renders every diagnostic; `project` gives the sources for errors
    /// raised after loading.
    pub fn render(&self, project: Option<&SourceMap>) -> String {
        match self.sources.as_ref().or(project) {
            Some(s) => kpi_dsl::render(&self.diagnostics, s),
            None => kpi_dsl::render(&self.diagnostics, &SourceMap::new()),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for d in &self.diagnostics {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
