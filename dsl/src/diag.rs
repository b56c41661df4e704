//! Diagnostics are data: a stable code, a message, labelled spans and a hint.
//! They are rendered only at the edge (`render`), with file, line and column
//! inside the TOML file and a caret under the offending text.

use std::fmt;
use std::ops::Range;

use crate::ast::{Span, SrcId};

/// A stable error code. Codes never change meaning; new ones are appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    pub id: &'static str,
    pub title: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $title:literal;)*) => {
        /// The registry of every error code, grouped by range:
        /// E01xx definition files and parsing, E02xx name resolution,
        /// E03xx types, E04xx project and data, E05xx plugins.
        pub mod codes {
            use super::Code;
            $(pub const $name: Code = Code { id: $id, title: $title };)*
            /// Every code, in order.
            pub const ALL: &[Code] = &[$($name),*];
        }
    };
}

codes! {
    TOML_SYNTAX = "E0100", "malformed TOML";
    SYNTAX = "E0101", "formula syntax error";
    TOO_DEEP = "E0102", "formula nested too deeply";
    BAD_LITERAL = "E0103", "literal out of range";
    BAD_FIELD = "E0104", "invalid entry in a definition file";
    UNKNOWN_NAME = "E0201", "unknown metric or name";
    UNKNOWN_TABLE = "E0202", "unknown table";
    UNKNOWN_COLUMN = "E0203", "unknown column";
    UNKNOWN_RELATION = "E0204", "unknown relation";
    UNKNOWN_PARAM = "E0205", "unknown parameter";
    UNKNOWN_FUNCTION = "E0206", "unknown function";
    CYCLE = "E0207", "metrics refer to each other in a cycle";
    DUPLICATE = "E0208", "duplicate metric";
    NO_RELATION = "E0209", "tables are not related";
    UNKNOWN_PERIOD_FIELD = "E0210", "unknown period field";
    NO_INTERVAL = "E0211", "table has no interval";
    MISMATCH = "E0301", "operand types do not fit the operator";
    ROW_OUTSIDE_AGGREGATE = "E0302", "row expression outside an aggregate";
    AGGREGATE_IN_ROW = "E0303", "aggregate of the same table in a row position";
    AGGREGATE_ARGUMENT = "E0304", "invalid aggregate argument";
    FUNCTION_ARGUMENT = "E0305", "invalid function argument";
    NOT_BOOL = "E0306", "condition is not a bool";
    METRIC_TYPE = "E0307", "a metric must be a number or a duration";
    AXIS_TYPE = "E0308", "period axis is not a timestamp";
    BRANCH_TYPES = "E0309", "if branches have different types";
    INDEX = "E0310", "invalid index";
    PROJECT = "E0401", "invalid project file";
    DIMENSION = "E0402", "dimension not available";
    DATA = "E0403", "data error";
    USAGE = "E0404", "invalid command-line value";
    MISSING_TABLE = "E0405", "table not configured";
    PLUGIN = "E0501", "plugin refused";
    PLUGIN_CALL = "E0502", "plugin function failed";
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// The first label is the primary location.
    pub labels: Vec<Label>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            labels: Vec::new(),
            hint: None,
        }
    }
    pub fn at(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic::new(code, message).label(span, "")
    }
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn primary(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code.id, self.message)
    }
}

/// A list of diagnostics is itself an error: the checker returns all of them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[derive(Debug)]
struct SourceFile {
    path: String,
    text: String,
}

#[derive(Debug)]
enum Source {
    File(usize),
    /// A formula held in a TOML string. `base` is the offset of the formula's
    /// first byte in the file when the string is written verbatim (a literal
    /// string, or a basic string without escapes); `escaped` maps each byte
    /// of a one-line basic string with escapes (`"... \"chat\" ..."`) to its
    /// offset in the file; otherwise spans fall back to the whole literal `lit`.
    Formula {
        file: usize,
        text: String,
        base: Option<usize>,
        escaped: Option<Vec<usize>>,
        lit: Range<usize>,
    },
}

/// Every piece of source text that diagnostics may point into.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    srcs: Vec<Source>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a whole file and returns the source id of its text.
    pub fn add_file(&mut self, path: impl Into<String>, text: impl Into<String>) -> SrcId {
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        self.srcs.push(Source::File(self.files.len() - 1));
        (self.srcs.len() - 1) as SrcId
    }

    /// Registers a formula whose TOML string literal (quotes included)
    /// occupies `lit` in the file registered as `file`.
    pub fn add_formula(
        &mut self,
        file: SrcId,
        text: impl Into<String>,
        lit: Range<usize>,
    ) -> SrcId {
        let text = text.into();
        let file = match self.srcs[file as usize] {
            Source::File(f) => f,
            Source::Formula { file, .. } => file,
        };
        let raw = self.files[file].text.get(lit.clone()).unwrap_or("");
        let base = verbatim_offset(raw, &text).map(|o| lit.start + o);
        let escaped = match base {
            Some(_) => None,
            None => escaped_offsets(raw, &text)
                .map(|offsets| offsets.into_iter().map(|o| lit.start + o).collect()),
        };
        self.srcs.push(Source::Formula {
            file,
            text,
            base,
            escaped,
            lit,
        });
        (self.srcs.len() - 1) as SrcId
    }

    pub fn text(&self, src: SrcId) -> &str {
        match &self.srcs[src as usize] {
            Source::File(f) => &self.files[*f].text,
            Source::Formula { text, .. } => text,
        }
    }

    /// The file a span points into, and the span's byte range in that file.
    fn resolve(&self, span: Span) -> (usize, Range<usize>) {
        match &self.srcs[span.src as usize] {
            Source::File(f) => (*f, span.start as usize..span.end as usize),
            Source::Formula {
                file,
                base: Some(b),
                ..
            } => (*file, b + span.start as usize..b + span.end as usize),
            Source::Formula {
                file,
                escaped: Some(offsets),
                lit,
                ..
            } => match (
                offsets.get(span.start as usize),
                offsets.get(span.end as usize),
            ) {
                (Some(&start), Some(&end)) => (*file, start..end),
                _ => (*file, lit.clone()),
            },
            Source::Formula { file, lit, .. } => (*file, lit.clone()),
        }
    }

    pub fn path(&self, span: Span) -> &str {
        &self.files[self.resolve(span).0].path
    }

    /// `(path, line, column)`, 1-based, column counted in characters.
    pub fn location(&self, span: Span) -> (&str, usize, usize) {
        let (f, range) = self.resolve(span);
        let text = &self.files[f].text;
        let before = &text[..range.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (&self.files[f].path, line, col)
    }
}

/// Where `text` starts inside the raw TOML string literal `raw`, if the
/// literal holds it byte for byte.
fn verbatim_offset(raw: &str, text: &str) -> Option<usize> {
    for delim in ["'''", "\"\"\"", "'", "\""] {
        if raw.len() >= 2 * delim.len() && raw.starts_with(delim) && raw.ends_with(delim) {
            let inner = &raw[delim.len()..raw.len() - delim.len()];
            if inner == text {
                return Some(delim.len());
            }
            // Multi-line strings drop a newline right after the opening quotes.
            for nl in ["\r\n", "\n"] {
                if delim.len() == 3 && inner.strip_prefix(nl) == Some(text) {
                    return Some(delim.len() + nl.len());
                }
            }
            return None;
        }
    }
    None
}

/// For a one-line basic string `raw` (quotes included) whose escapes decode
/// to `text`: the offset in `raw` of each byte of `text`, and of its end.
fn escaped_offsets(raw: &str, text: &str) -> Option<Vec<usize>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.starts_with("\"\"") || inner.contains('\n') {
        return None;
    }
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let mut decoded = String::with_capacity(text.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        let at = 1 + i;
        let ch = if c != '\\' {
            c
        } else {
            let (_, e) = chars.next()?;
            match e {
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                '"' => '"',
                '\\' => '\\',
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex: String = (0..n)
                        .filter_map(|_| chars.next().map(|(_, h)| h))
                        .collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                _ => return None,
            }
        };
        decoded.push(ch);
        offsets.resize(offsets.len() + ch.len_utf8(), at);
    }
    offsets.push(raw.len() - 1);
    (decoded == text).then_some(offsets)
}

/// Renders diagnostics for a terminal or a log: code, message, the file with
/// line and column, the source line with a caret, and the hint.
pub fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    use ariadne::{Config, IndexType, Label as AL, Report, ReportKind};

    let mut out = Vec::new();
    for d in diags {
        let Some(primary) = d.primary() else {
            // Nothing to point at (a command-line value, a data file): the
            // same first line as a located report, then the hint.
            out.extend_from_slice(format!("[{}] Error: {}\n", d.code.id, d.message).as_bytes());
            if let Some(h) = &d.hint {
                out.extend_from_slice(format!("    Help: {h}\n").as_bytes());
            }
            continue;
        };
        let (file, range) = sources.resolve(primary);
        let path = sources.files[file].path.clone();
        let (_, line, col) = sources.location(primary);
        if line_len(&sources.files[file].text, range.start) > LONG_LINE {
            render_long(d, sources, &mut out);
            continue;
        }
        let config = Config::default()
            .with_color(false)
            .with_index_type(IndexType::Byte);
        let mut report = Report::build(ReportKind::Error, (path.clone(), range))
            .with_config(config)
            .with_code(d.code.id)
            .with_message(format!("{} ({path}:{line}:{col})", d.message));
        for (i, l) in d.labels.iter().enumerate() {
            let (lf, mut lr) = sources.resolve(l.span);
            // An empty range draws no caret: widen it to the character there.
            if lr.is_empty() {
                let text = &sources.files[lf].text;
                let next = text[lr.start.min(text.len())..].chars().next();
                lr.end = lr.start + next.map_or(0, char::len_utf8);
            }
            let lpath = sources.files[lf].path.clone();
            // ariadne draws no underline for a label without a message, so
            // the primary label falls back to the code's title: every
            // located diagnostic gets its caret.
            let message = match l.message.as_str() {
                "" if i == 0 => d.code.title,
                m => m,
            };
            // ariadne starts a new section whenever a label's line goes
            // back up, and heads it with the primary location: order the
            // labels by file (the primary's first) and position instead.
            let rank = if lf == file {
                0
            } else {
                1 + lf.min(100) as i32
            };
            let order = rank * (1 << 24) + lr.start.min((1 << 24) - 1) as i32;
            let mut label = AL::new((lpath, lr)).with_order(order);
            if !message.is_empty() {
                label = label.with_message(message);
            }
            report = report.with_label(label);
        }
        if let Some(h) = &d.hint {
            report = report.with_help(h);
        }
        let cache = ariadne::sources(
            sources
                .files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone())),
        );
        // Rendering into a Vec cannot fail for I/O reasons.
        let _ = report.finish().write(cache, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lines longer than this (a generated formula) are shown as an excerpt
/// around the primary label; ariadne would print them whole.
const LONG_LINE: usize = 200;

/// The length in characters of the line holding byte `at`.
fn line_len(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    text[start..end].chars().count()
}

/// Renders a diagnostic whose primary label sits on a very long line: the
/// same frame as ariadne's, with a window of the line around the label.
fn render_long(d: &Diagnostic, sources: &SourceMap, out: &mut Vec<u8>) {
    const BEFORE: usize = 40;
    const WIDTH: usize = 80;
    let primary = d.labels[0].span;
    let (file, range) = sources.resolve(primary);
    let text = &sources.files[file].text;
    let (path, line, col) = sources.location(primary);
    let line_text: Vec<char> = text[range.start - (col_byte(text, range.start))..]
        .split('\n')
        .next()
        .unwrap_or("")
        .chars()
        .collect();
    let from = (col - 1).saturating_sub(BEFORE);
    let to = (from + WIDTH).min(line_text.len());
    let excerpt: String = line_text[from..to].iter().collect();
    // At least one character wide, at most to the end of the excerpt (an
    // empty span at the end of the line still gets its caret).
    let room = to.saturating_sub(col - 1).max(1);
    let width = text[range.clone()].chars().count().clamp(1, room);
    let pad = line.to_string().len();
    let margin = " ".repeat(pad + 1);
    let lead = usize::from(from > 0);
    let mut s = format!(
        "[{}] Error: {} ({path}:{line}:{col})\n{margin} ╭─[ {path}:{line}:{col} ]\n{margin} │\n",
        d.code.id, d.message
    );
    s += &format!(
        " {line} │ {}{excerpt}{}\n",
        if from > 0 { "…" } else { "" },
        if to < line_text.len() { "…" } else { "" }
    );
    let at = " ".repeat(lead + col - 1 - from);
    let message = match d.labels[0].message.as_str() {
        "" => d.code.title,
        m => m,
    };
    s += &format!("{margin} │ {at}┬{}\n", "─".repeat(width - 1));
    s += &format!("{margin} │ {at}╰── {message}\n");
    for l in &d.labels[1..] {
        let (p, ln, c) = sources.location(l.span);
        s += &format!("{margin} │ {p}:{ln}:{c}: {}\n", l.message);
    }
    if let Some(h) = &d.hint {
        s += &format!("{margin} │\n{margin} │ Help: {h}\n");
    }
    s += &format!("{}╯\n", "─".repeat(pad + 2));
    out.extend_from_slice(s.as_bytes());
}

/// How many bytes of its line come before byte `at`.
fn col_byte(text: &str, at: usize) -> usize {
    at - text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    // One edit per three characters: `tikets` finds `tickets`, but `vip`
    // does not find `id`.
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    let candidates: Vec<&str> = candidates.into_iter().collect();
    let close = candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.to_string()))
        .map(|(_, c)| c);
    // `agent` for `agent_id`, `created` for `created_at`: a name cut short
    // at an underscore is too far for the edit distance.
    let prefix = format!("{name}_");
    let cut_short = || {
        candidates
            .iter()
            .filter(|c| len >= 3 && c.starts_with(&prefix))
            .min_by_key(|c| (c.len(), c.to_string()))
            .copied()
    };
    close
        .or_else(cut_short)
        .map(|c| format!("did you mean `{c}`?"))
}
