//! Readers from CSV / TSV and JSON Lines files into columnar [`Table`]s.
//!
//! Only the declared columns ([`ColumnSpec`]) are read; each value is parsed
//! as its declared type, and a value that doesn't parse is an error naming
//! the file, the 1-based physical line where the record starts, the column
//! and the offending text.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use indexmap::IndexMap;
use kpi_dsl::Type;
use serde_json::Value;

use crate::column::{Column, Data, StrBuilder, Table, MICROS};
use crate::time::{parse_duration, parse_timestamp};

/// The file extensions [`read_table`] accepts.
pub const EXTENSIONS: &[&str] = &["csv", "tsv", "jsonl", "ndjson"];

/// One column to read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    /// Canonical name: the key in [`Table::columns`].
    pub name: String,
    /// Header (CSV) or key (JSON) of the column in the file.
    pub source: String,
    /// One of `Int`, `Float`, `Bool`, `String`, `Timestamp`, `Duration`.
    pub ty: Type,
    /// Whether an empty value (a null token) is allowed. A null in a
    /// required column is an error, never a silently skipped row.
    pub nullable: bool,
}

impl ColumnSpec {
    /// A column whose name in the file is its canonical name.
    pub fn new(name: &str, ty: Type) -> Self {
        ColumnSpec {
            name: name.to_string(),
            source: name.to_string(),
            ty,
            nullable: true,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Zone in which naive timestamps are read.
    pub tz: Tz,
    /// Field delimiter for `.csv` files; `.tsv` files always use a tab.
    pub delimiter: u8,
    /// Texts that mean null. Compared with the raw field text and, for
    /// non-string columns, with the text trimmed of whitespace. In JSON they
    /// apply to string values.
    pub null_tokens: Vec<String>,
}

impl Default for ReadOptions {
    /// UTC, comma, and only the empty field is null.
    fn default() -> Self {
        ReadOptions {
            tz: Tz::UTC,
            delimiter: b',',
            null_tokens: vec![String::new()],
        }
    }
}

/// An error reading a table file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub file: PathBuf,
    /// 1-based physical line in the file (of the record's start).
    pub line: Option<u64>,
    /// The column's name in the file.
    pub column: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ReadError {
    /// `data/tickets.csv:14: column `created_at`: expected a timestamp ...`,
    /// then `\n  hint: ...` when there is a hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReadError {}

/// Reads the columns `specs` of the file at `path` into a table called
/// `name`. The format comes from the extension: `.csv` (delimiter from
/// `opts`), `.tsv` (tab), `.jsonl` / `.ndjson` (one JSON object per line;
/// a missing key or JSON `null` is null).
pub fn read_table(
    name: &str,
    path: &Path,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Table, ReadError> {
    read_from(name, path, None, specs, opts)
}

/// Like [`read_table`], from CSV text held in memory (a test case's rows);
/// `label` names it in errors and its extension picks the format.
pub fn read_text(
    name: &str,
    label: &Path,
    text: &str,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Table, ReadError> {
    read_from(name, label, Some(text), specs, opts)
}

fn read_from(
    name: &str,
    path: &Path,
    text: Option<&str>,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Table, ReadError> {
    let err = |message: String| ReadError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        message,
        hint: None,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    if !EXTENSIONS.contains(&ext.as_str()) {
        let found = if ext.is_empty() {
            "no extension".to_string()
        } else {
            format!("`.{ext}`")
        };
        return Err(ReadError {
            hint: Some("name the file with one of those extensions".into()),
            ..err(format!(
                "unsupported file type ({found}); expected .csv, .tsv, .jsonl or .ndjson"
            ))
        });
    }
    let mut cols = Vec::with_capacity(specs.len());
    for spec in specs {
        let b = ColBuilder::new(&spec.ty).ok_or_else(|| ReadError {
            column: Some(spec.source.clone()),
            ..err(format!(
                "cannot read a column of type {} from a file",
                spec.ty
            ))
        })?;
        cols.push(b);
    }
    let file: Box<dyn std::io::Read + '_> = match text {
        Some(t) => Box::new(t.as_bytes()),
        None => Box::new(File::open(path).map_err(|e| err(format!("cannot open file: {e}")))?),
    };
    let mut r = Reader {
        path,
        text,
        specs,
        opts,
        cols,
    };
    let len = match ext.as_str() {
        "csv" => r.csv(file, opts.delimiter)?,
        "tsv" => r.csv(file, b'\t')?,
        _ => r.jsonl(file)?,
    };
    let mut columns = IndexMap::with_capacity(specs.len());
    for (spec, b) in specs.iter().zip(r.cols) {
        columns.insert(spec.name.clone(), b.finish());
    }
    Ok(Table {
        name: name.to_string(),
        len,
        columns,
    })
}

struct Reader<'a> {
    path: &'a Path,
    /// The contents, when read from memory rather than from `path`.
    text: Option<&'a str>,
    specs: &'a [ColumnSpec],
    opts: &'a ReadOptions,
    cols: Vec<ColBuilder>,
}

impl Reader<'_> {
    fn error(&self, line: Option<u64>, column: Option<&str>, message: String) -> ReadError {
        ReadError {
            file: self.path.to_path_buf(),
            line,
            column: column.map(str::to_string),
            message,
            hint: None,
        }
    }

    fn push_null(&mut self, k: usize) -> Result<(), String> {
        if !self.specs[k].nullable {
            return Err("a value is required here (the column is not nullable)".into());
        }
        self.cols[k].push_null();
        Ok(())
    }

    fn is_null(&self, text: &str) -> bool {
        self.opts.null_tokens.iter().any(|t| t == text)
    }

    /// Reads CSV records; returns the number of rows.
    fn csv(&mut self, file: impl std::io::Read, delimiter: u8) -> Result<usize, ReadError> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .flexible(false)
            .from_reader(file);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| self.csv_error(e))?
            .iter()
            .enumerate()
            // csv-core strips a UTF-8 BOM already; this is a second guard.
            .map(|(i, h)| {
                if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                }
                .to_string()
            })
            .collect();
        let mut index = Vec::with_capacity(self.specs.len());
        for spec in self.specs {
            match find_header(&headers, &spec.source) {
                Some(i) => index.push(i),
                None => return Err(self.missing_column(spec, &headers)),
            }
        }
        let mut rec = csv::StringRecord::new();
        let mut rows = 0;
        loop {
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(self.csv_error(e)),
            }
            for (k, &i) in index.iter().enumerate() {
                let text = rec.get(i).unwrap_or("");
                let null =
                    self.is_null(text) || (self.cols[k].trims() && self.is_null(text.trim()));
                let res = if null {
                    self.push_null(k)
                } else {
                    self.cols[k].push_text(text, self.opts.tz)
                };
                if let Err(m) = res {
                    let line = rec.position().map(|p| self.line_of(p));
                    return Err(self.error(line, Some(&self.specs[k].source), m));
                }
            }
            rows += 1;
        }
        Ok(rows)
    }

    /// The 1-based physical line where the record at `pos` starts.
    ///
    /// `csv::Position::line` is one short in CRLF files (the reader stops
    /// after the `\r` of a record's terminator, so the next record's position
    /// is taken before its `\n`). So count the newlines before the record's
    /// byte offset instead, skipping the rest of a terminator (csv skips
    /// empty lines, so a record never starts with `\r` or `\n`). Only runs
    /// when reporting an error; falls back to `pos.line()`.
    fn line_of(&self, pos: &csv::Position) -> u64 {
        use std::io::Read;
        let count = || -> std::io::Result<u64> {
            let mut f: Box<dyn BufRead> = match self.text {
                Some(t) => Box::new(t.as_bytes()),
                None => Box::new(BufReader::new(File::open(self.path)?)),
            };
            let mut buf = [0u8; 64 * 1024];
            let (mut at, mut lines) = (0u64, 1u64);
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(lines);
                }
                for &b in &buf[..n] {
                    if at >= pos.byte() && b != b'\r' && b != b'\n' {
                        return Ok(lines);
                    }
                    lines += (b == b'\n') as u64;
                    at += 1;
                }
            }
        };
        count().unwrap_or_else(|_| pos.line())
    }

    fn csv_error(&self, e: csv::Error) -> ReadError {
        match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => self.error(
                pos.as_ref().map(|p| self.line_of(p)),
                None,
                format!("the record has {len} fields, but the header has {expected_len}"),
            ),
            csv::ErrorKind::Utf8 { pos, err } => self.error(
                pos.as_ref().map(|p| self.line_of(p)),
                None,
                format!(
                    "invalid UTF-8 in field {}; the file must be UTF-8",
                    err.field() + 1
                ),
            ),
            csv::ErrorKind::Io(io) => self.error(None, None, format!("cannot read file: {io}")),
            _ => self.error(e.position().map(|p| self.line_of(p)), None, e.to_string()),
        }
    }

    fn missing_column(&self, spec: &ColumnSpec, headers: &[String]) -> ReadError {
        let mapped = if spec.name != spec.source {
            format!(" (mapped to `{}`)", spec.name)
        } else {
            String::new()
        };
        let message = if headers.is_empty() || headers.len() == 1 && headers[0].is_empty() {
            format!("not found{mapped}: the file is empty, expected a header line")
        } else {
            const SHOW: usize = 40;
            let mut list = headers
                .iter()
                .take(SHOW)
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            if headers.len() > SHOW {
                list.push_str(&format!(", … ({} more)", headers.len() - SHOW));
            }
            format!("not found{mapped}; the header has: {list}")
        };
        ReadError {
            hint: did_you_mean(&spec.source, headers.iter().map(|h| h.as_str()))
                .map(|h| format!("did you mean `{h}`?")),
            ..self.error(Some(1), Some(&spec.source), message)
        }
    }

    /// Reads JSON Lines; returns the number of rows. Blank lines are skipped.
    fn jsonl(&mut self, file: impl std::io::Read) -> Result<usize, ReadError> {
        let mut reader = BufReader::new(file);
        let mut buf = String::new();
        let mut line_no = 0u64;
        let mut rows = 0;
        loop {
            buf.clear();
            let n = reader.read_line(&mut buf).map_err(|e| {
                let msg = if e.kind() == std::io::ErrorKind::InvalidData {
                    "invalid UTF-8; the file must be UTF-8".to_string()
                } else {
                    format!("cannot read file: {e}")
                };
                self.error(Some(line_no + 1), None, msg)
            })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let mut text = buf.as_str();
            if line_no == 1 {
                text = text.trim_start_matches('\u{feff}');
            }
            if text.trim().is_empty() {
                continue;
            }
            let line = Some(line_no);
            let obj = match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => m,
                Ok(v) => {
                    return Err(self.error(
                        line,
                        None,
                        format!("expected a JSON object, found {}", json_kind(&v)),
                    ))
                }
                Err(e) => {
                    let mut msg = e.to_string();
                    if let Some(i) = msg.rfind(" at line ") {
                        msg.truncate(i);
                    }
                    return Err(self.error(
                        line,
                        None,
                        format!("invalid JSON at character {}: {msg}", e.column()),
                    ));
                }
            };
            for k in 0..self.specs.len() {
                let spec = &self.specs[k];
                let res = match obj.get(&spec.source) {
                    None | Some(Value::Null) => self.push_null(k),
                    Some(Value::String(s)) if self.is_null(s) => self.push_null(k),
                    Some(v) => self.cols[k].push_json(v, self.opts.tz),
                };
                if let Err(m) = res {
                    return Err(self.error(line, Some(&spec.source), m));
                }
            }
            rows += 1;
        }
        Ok(rows)
    }
}

/// Position of `name` in the header: exact match, else the only match
/// ignoring surrounding whitespace.
fn find_header(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name).or_else(|| {
        let mut it = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.trim() == name.trim());
        match (it.next(), it.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    })
}

/// The candidate closest to `name`: equal ignoring case, or within a
/// Levenshtein distance of max(2, len/3).
fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .filter(|c| !c.is_empty())
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Shortens a value for an error message.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
    }
}

/// How a JSON value is shown in an error: strings quoted, others as JSON.
fn json_found(v: &Value) -> String {
    match v {
        Value::String(s) => clip(s),
        Value::Array(_) | Value::Object(_) => json_kind(v).to_string(),
        _ => v.to_string(),
    }
}

fn parse_int(s: &str) -> Result<i64, String> {
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    // Integral floats like `12.0` (pandas writes int columns with nulls so).
    if let Ok(f) = s.parse::<f64>() {
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 && !s.contains(['e', 'E']) {
            return Ok(f as i64);
        }
    }
    let why = if s.parse::<f64>().is_ok_and(f64::is_finite) {
        " (not a whole number)"
    } else {
        ""
    };
    Err(format!("expected an int, found {}{why}", clip(s)))
}

fn parse_float(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        _ => Err(format!("expected a float, found {}", clip(s))),
    }
}

fn parse_bool(s: &str) -> Result<bool, String> {
    const TRUE: &[&str] = &["true", "1", "yes", "t", "y"];
    const FALSE: &[&str] = &["false", "0", "no", "f", "n"];
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Ok(true)
    } else if FALSE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Ok(false)
    } else {
        Err(format!(
            "expected a bool (true/false, yes/no, 1/0), found {}",
            clip(s)
        ))
    }
}

/// Values of one column under construction.
enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Str(StrBuilder),
    Timestamp(Vec<i64>),
    Duration(Vec<i64>),
}

struct ColBuilder {
    values: Values,
    valid: Vec<bool>,
}

impl ColBuilder {
    fn new(ty: &Type) -> Option<Self> {
        let values = match ty {
            Type::Int => Values::Int(Vec::new()),
            Type::Float => Values::Float(Vec::new()),
            Type::Bool => Values::Bool(Vec::new()),
            Type::String => Values::Str(StrBuilder::default()),
            Type::Timestamp => Values::Timestamp(Vec::new()),
            Type::Duration => Values::Duration(Vec::new()),
            Type::Null | Type::List(_) | Type::Map(_) => return None,
        };
        Some(ColBuilder {
            values,
            valid: Vec::new(),
        })
    }

    /// Whether values are trimmed of whitespace before parsing (all but
    /// strings, which are kept as they are).
    fn trims(&self) -> bool {
        !matches!(self.values, Values::Str(_))
    }

    fn push_null(&mut self) {
        match &mut self.values {
            Values::Int(v) | Values::Timestamp(v) | Values::Duration(v) => v.push(0),
            Values::Float(v) => v.push(0.0),
            Values::Bool(v) => v.push(false),
            Values::Str(b) => b.push(""),
        }
        self.valid.push(false);
    }

    /// Parses a text field (CSV, or a JSON string) as the column's type.
    fn push_text(&mut self, text: &str, tz: Tz) -> Result<(), String> {
        let t = text.trim();
        match &mut self.values {
            Values::Int(v) => v.push(parse_int(t)?),
            Values::Float(v) => v.push(parse_float(t)?),
            Values::Bool(v) => v.push(parse_bool(t)?),
            Values::Str(b) => b.push(text),
            Values::Timestamp(v) => v.push(parse_timestamp(t, tz)?),
            Values::Duration(v) => v.push(parse_duration(t)?),
        }
        self.valid.push(true);
        Ok(())
    }

    /// Converts a non-null JSON value to the column's type.
    fn push_json(&mut self, value: &Value, tz: Tz) -> Result<(), String> {
        if let Value::String(s) = value {
            return self.push_text(s, tz);
        }
        let mismatch = |what: &str| format!("expected {what}, found {}", json_found(value));
        match (&mut self.values, value) {
            (Values::Int(v), Value::Number(n)) => {
                let i = n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                });
                v.push(i.ok_or_else(|| mismatch("an int"))?);
            }
            (Values::Float(v), Value::Number(n)) => v.push(
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| mismatch("a float"))?,
            ),
            (Values::Bool(v), Value::Bool(b)) => v.push(*b),
            (Values::Bool(v), Value::Number(n)) => match n.as_i64() {
                Some(0) => v.push(false),
                Some(1) => v.push(true),
                _ => return Err(mismatch("a bool (true/false, yes/no, 1/0)")),
            },
            // Keys may be numbers in the source; a string column keeps their text.
            (Values::Str(b), Value::Number(n)) => b.push(&n.to_string()),
            (Values::Str(b), Value::Bool(x)) => b.push(if *x { "true" } else { "false" }),
            // A number of seconds.
            (Values::Duration(v), Value::Number(n)) => {
                let us = match n.as_i64() {
                    Some(i) => i.checked_mul(MICROS),
                    None => n
                        .as_f64()
                        .map(|f| (f * MICROS as f64).round())
                        .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                        .map(|f| f as i64),
                };
                v.push(us.ok_or_else(|| mismatch("a duration in range"))?);
            }
            (Values::Int(_), _) => return Err(mismatch("an int")),
            (Values::Float(_), _) => return Err(mismatch("a float")),
            (Values::Bool(_), _) => return Err(mismatch("a bool")),
            (Values::Str(_), _) => return Err(mismatch("a string")),
            (Values::Timestamp(_), _) => {
                return Err(mismatch(
                    "a timestamp string (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]])",
                ))
            }
            (Values::Duration(_), _) => {
                return Err(mismatch(
                    "a duration (a number of seconds or a string like \"1h30m\")",
                ))
            }
        }
        self.valid.push(true);
        Ok(())
    }

    fn finish(self) -> Column {
        let data = match self.values {
            Values::Int(v) => Data::Int(v),
            Values::Float(v) => Data::Float(v),
            Values::Bool(v) => Data::Bool(v),
            Values::Str(b) => Data::Str(b.finish()),
            Values::Timestamp(v) => Data::Timestamp(v),
            Values::Duration(v) => Data::Duration(v.into_iter().map(|x| x as f64).collect()),
        };
        Column::new(data, Some(self.valid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;

    /// A scratch directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "kpi-read-{}-{}-{tag}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn file(&self, name: &str, content: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, content).unwrap();
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn spec(name: &str, ty: Type) -> ColumnSpec {
        ColumnSpec::new(name, ty)
    }

    fn ints(t: &Table, c: &str) -> Vec<Option<i64>> {
        let col = &t.columns[c];
        let v: Vec<i64> = match &col.data {
            Data::Int(v) | Data::Timestamp(v) => v.clone(),
            // Durations read from files are whole microseconds.
            Data::Duration(v) => v.iter().map(|x| *x as i64).collect(),
            d => panic!("{c} is {:?}", d.ty()),
        };
        (0..col.len())
            .map(|i| col.is_valid(i).then_some(v[i]))
            .collect()
    }

    fn strs(t: &Table, c: &str) -> Vec<Option<String>> {
        let col = &t.columns[c];
        let Data::Str(v) = &col.data else {
            panic!("{c} is not a string")
        };
        (0..col.len())
            .map(|i| col.is_valid(i).then(|| v.get(i).to_string()))
            .collect()
    }

    fn ts(s: &str) -> i64 {
        parse_timestamp(s, Tz::UTC).unwrap()
    }

    #[test]
    fn csv_typed_values_and_nulls() {
        let d = TempDir::new("typed");
        let p = d.file(
            "tickets.csv",
            "id,created_at,channel,escalated,contacts,handle_time,score,unused\n\
             1,2026-03-01 09:00,email,true,2,1h30m,4.5,x\n\
             2,2026-03-01T10:00:00Z,chat,no,,90,,y\n\
             3,,email,1,0,0:01:00,-1e2,z\n\
             4,2026-03-02,,FALSE, 7 ,,0.25,\n",
        );
        let specs = [
            spec("id", Type::Int),
            spec("created_at", Type::Timestamp),
            spec("channel", Type::String),
            spec("escalated", Type::Bool),
            spec("contacts", Type::Int),
            spec("handle_time", Type::Duration),
            spec("score", Type::Float),
        ];
        let opts = ReadOptions {
            tz: chrono_tz::America::New_York,
            ..Default::default()
        };
        let t = read_table("tickets", &p, &specs, &opts).unwrap();
        assert_eq!(t.name, "tickets");
        assert_eq!(t.len, 4);
        assert_eq!(
            t.columns.keys().collect::<Vec<_>>(),
            specs.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        assert_eq!(ints(&t, "id"), [Some(1), Some(2), Some(3), Some(4)]);
        assert!(
            t.columns["id"].valid.is_none(),
            "an all-valid column has no mask"
        );
        assert_eq!(
            ints(&t, "created_at"),
            [
                Some(ts("2026-03-01T14:00:00Z")), // 09:00 EST
                Some(ts("2026-03-01T10:00:00Z")),
                None,
                Some(ts("2026-03-02T05:00:00Z")), // local midnight
            ]
        );
        assert_eq!(
            strs(&t, "channel"),
            [
                Some("email".into()),
                Some("chat".into()),
                Some("email".into()),
                None
            ]
        );
        let Data::Str(ch) = &t.columns["channel"].data else {
            unreachable!()
        };
        assert_eq!(ch.dict.len(), 3, "email, chat and the null placeholder");
        assert_eq!(ch.codes[0], ch.codes[2]);
        let esc = &t.columns["escalated"];
        assert!(esc.valid.is_none());
        let Data::Bool(b) = &esc.data else {
            unreachable!()
        };
        assert_eq!(b, &[true, false, true, false]);
        assert_eq!(ints(&t, "contacts"), [Some(2), None, Some(0), Some(7)]);
        assert_eq!(
            ints(&t, "handle_time"),
            [
                Some(5400 * MICROS),
                Some(90 * MICROS),
                Some(60 * MICROS),
                None
            ]
        );
        let sc = &t.columns["score"];
        let Data::Float(f) = &sc.data else {
            unreachable!()
        };
        assert_eq!(sc.valid, Some(vec![true, false, true, true]));
        assert_eq!((f[0], f[2], f[3]), (4.5, -100.0, 0.25));
    }

    #[test]
    fn custom_null_tokens_delimiter_and_tsv() {
        let d = TempDir::new("nulls");
        let p = d.file("a.csv", "id;agent;n\n1;NULL;NA\n2;;3\n3;bob; n/a \n");
        let opts = ReadOptions {
            delimiter: b';',
            null_tokens: vec!["NULL".into(), "NA".into(), "n/a".into()],
            ..Default::default()
        };
        let specs = [spec("agent", Type::String), spec("n", Type::Int)];
        let t = read_table("a", &p, &specs, &opts).unwrap();
        // "" is not a null token here: an empty string stays a string.
        assert_eq!(
            strs(&t, "agent"),
            [None, Some(String::new()), Some("bob".into())]
        );
        // Trimmed " n/a " is null for a non-string column.
        assert_eq!(ints(&t, "n"), [None, Some(3), None]);

        let p = d.file("b.tsv", "id\tname\n7\ta,b\n");
        let t = read_table(
            "b",
            &p,
            &[spec("id", Type::Int), spec("name", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(ints(&t, "id"), [Some(7)]);
        assert_eq!(strs(&t, "name"), [Some("a,b".into())]);
    }

    #[test]
    fn bad_int_reports_its_line() {
        let d = TempDir::new("badint");
        let p = d.file("data.csv", "id,contacts\n1,2\n2,3\n3,abc\n4,5\n");
        let e = read_table(
            "t",
            &p,
            &[spec("contacts", Type::Int)],
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.column.as_deref(), Some("contacts"));
        assert_eq!(e.message, r#"expected an int, found "abc""#);
        assert_eq!(
            e.to_string(),
            format!(
                r#"{}:4: column `contacts`: expected an int, found "abc""#,
                p.display()
            )
        );
        let p = d.file("f.csv", "n\n12.0\n12.5\n");
        let e = read_table("t", &p, &[spec("n", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (
                Some(3),
                r#"expected an int, found "12.5" (not a whole number)"#
            )
        );
    }

    #[test]
    fn bad_values_of_other_types() {
        let d = TempDir::new("badvals");
        let cases = [
            (Type::Float, "NaN", r#"expected a float, found "NaN""#),
            (Type::Float, "inf", r#"expected a float, found "inf""#),
            (
                Type::Bool,
                "maybe",
                r#"expected a bool (true/false, yes/no, 1/0), found "maybe""#,
            ),
            (
                Type::Timestamp,
                "abc",
                r#"expected a timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]), found "abc""#,
            ),
            (
                Type::Duration,
                "soon",
                r#"expected a duration (seconds as a number, H:MM:SS, or units like 45s, 20m, 8h, 7d, 1h30m, 500ms), found "soon""#,
            ),
        ];
        for (ty, text, msg) in cases {
            let p = d.file("v.csv", &format!("v\n{text}\n"));
            let e =
                read_table("t", &p, &[spec("v", ty.clone())], &ReadOptions::default()).unwrap_err();
            assert_eq!((e.line, e.message.as_str()), (Some(2), msg), "{ty}");
        }
    }

    #[test]
    fn quoted_newlines_shift_line_numbers() {
        let d = TempDir::new("quoted");
        let p = d.file(
            "messages.csv",
            "id,body,created_at\n\
             1,\"hello\nworld\",2026-03-01T10:00:00Z\n\
             2,\"a\n\nb\",2026-03-01T11:00:00Z\n\
             3,plain,yesterday\n",
        );
        let specs = [
            spec("id", Type::Int),
            spec("body", Type::String),
            spec("created_at", Type::Timestamp),
        ];
        let e = read_table("m", &p, &specs, &ReadOptions::default()).unwrap_err();
        // Record 3 starts on physical line 7 (1 header + 2 + 3 lines before).
        assert_eq!(e.line, Some(7));
        assert_eq!(e.column.as_deref(), Some("created_at"));

        let p = d.file(
            "ok.csv",
            "id,body\n1,\"hello\nworld\"\n2,\"say \"\"hi\"\"\"\n",
        );
        let t = read_table("m", &p, &specs[..2], &ReadOptions::default()).unwrap();
        assert_eq!(
            strs(&t, "body"),
            [Some("hello\nworld".into()), Some("say \"hi\"".into())]
        );
    }

    #[test]
    fn bom_and_crlf() {
        let d = TempDir::new("bom");
        let p = d.file(
            "t.csv",
            "\u{feff}id,name,n\r\n1,ann,2\r\n2,\"b\r\nob\",x\r\n",
        );
        let specs = [spec("id", Type::Int), spec("name", Type::String)];
        let t = read_table("t", &p, &specs, &ReadOptions::default()).unwrap();
        assert_eq!(ints(&t, "id"), [Some(1), Some(2)]);
        assert_eq!(
            strs(&t, "name"),
            [Some("ann".into()), Some("b\r\nob".into())]
        );
        let e = read_table("t", &p, &[spec("n", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(3), r#"expected an int, found "x""#)
        );
    }

    #[test]
    fn wrong_field_count_is_an_error() {
        let d = TempDir::new("fields");
        let p = d.file("t.csv", "a,b\n1,2\n3\n");
        let e = read_table("t", &p, &[spec("a", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(e.line, Some(3));
        let p = d.file("crlf.csv", "a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n4\r\n");
        let e = read_table("t", &p, &[spec("a", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(e.line, Some(6));
        assert_eq!(e.message, "the record has 1 fields, but the header has 2");
    }

    #[test]
    fn missing_column_with_did_you_mean() {
        let d = TempDir::new("missing");
        let p = d.file(
            "tickets.csv",
            "id,created_at,asignee,Channel\n1,2026-03-01,ann,email\n",
        );
        let specs = [
            spec("id", Type::Int),
            ColumnSpec {
                name: "agent_id".into(),
                source: "assignee".into(),
                ty: Type::String,
                nullable: true,
            },
        ];
        let e = read_table("tickets", &p, &specs, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.column.as_deref(), Some("assignee"));
        assert_eq!(e.hint.as_deref(), Some("did you mean `asignee`?"));
        assert_eq!(
            e.to_string(),
            format!(
                "{}:1: column `assignee`: not found (mapped to `agent_id`); the header has: id, created_at, asignee, Channel\n  hint: did you mean `asignee`?",
                p.display()
            )
        );
        let e = read_table(
            "tickets",
            &p,
            &[spec("channel", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `Channel`?"));
        let e = read_table(
            "tickets",
            &p,
            &[spec("priority", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.hint, None);
        let p = d.file("empty.csv", "");
        let e = read_table("t", &p, &[spec("id", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.message,
            "not found: the file is empty, expected a header line"
        );
    }

    #[test]
    fn header_only_gives_empty_table() {
        let d = TempDir::new("hdr");
        let p = d.file("t.csv", "id,name\n");
        let t = read_table(
            "t",
            &p,
            &[spec("id", Type::Int), spec("name", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.len, 0);
        assert_eq!(t.columns["id"].len(), 0);
        assert!(t.columns["id"].valid.is_none());
    }

    #[test]
    fn jsonl_missing_keys_and_numeric_ids() {
        let d = TempDir::new("jsonl");
        let p = d.file(
            "events.jsonl",
            concat!(
                "{\"id\": 101, \"customer_id\": \"c-1\", \"at\": \"2026-03-01T10:00:00Z\", \"ok\": true, \"wait\": 90, \"amt\": 3}\n",
                "\n",
                "{\"id\": \"A-7\", \"customer_id\": 42, \"at\": \"2026-03-01 05:00\", \"ok\": null, \"wait\": \"1h\", \"amt\": 2.5}\r\n",
                "{\"id\": 103, \"extra\": [1, 2], \"wait\": 1.5, \"amt\": \"7\", \"ok\": \"no\"}\n",
            ),
        );
        let specs = [
            spec("id", Type::String),
            spec("customer_id", Type::String),
            spec("at", Type::Timestamp),
            spec("ok", Type::Bool),
            spec("wait", Type::Duration),
            spec("amt", Type::Float),
        ];
        let opts = ReadOptions {
            tz: chrono_tz::America::New_York,
            ..Default::default()
        };
        let t = read_table("events", &p, &specs, &opts).unwrap();
        assert_eq!(t.len, 3);
        assert_eq!(
            strs(&t, "id"),
            [Some("101".into()), Some("A-7".into()), Some("103".into())]
        );
        assert_eq!(
            strs(&t, "customer_id"),
            [Some("c-1".into()), Some("42".into()), None]
        );
        assert_eq!(
            ints(&t, "at"),
            [
                Some(ts("2026-03-01T10:00:00Z")),
                Some(ts("2026-03-01T10:00:00Z")),
                None
            ]
        );
        let ok = &t.columns["ok"];
        assert_eq!(ok.valid, Some(vec![true, false, true]));
        let Data::Bool(b) = &ok.data else {
            unreachable!()
        };
        assert_eq!((b[0], b[2]), (true, false));
        assert_eq!(
            ints(&t, "wait"),
            [Some(90 * MICROS), Some(3600 * MICROS), Some(1_500_000)]
        );
        let Data::Float(f) = &t.columns["amt"].data else {
            unreachable!()
        };
        assert_eq!(f, &[3.0, 2.5, 7.0]);

        // .ndjson, ints from JSON numbers; integral floats accepted.
        let p = d.file("n.ndjson", "{\"n\": 1}\n{\"n\": 2.0}\n{}\n");
        let t = read_table("n", &p, &[spec("n", Type::Int)], &ReadOptions::default()).unwrap();
        assert_eq!(ints(&t, "n"), [Some(1), Some(2), None]);
    }

    #[test]
    fn jsonl_errors() {
        let d = TempDir::new("jsonlerr");
        let read = |content: &str, ty: Type| {
            let p = d.file("e.jsonl", content);
            read_table("e", &p, &[spec("v", ty)], &ReadOptions::default()).unwrap_err()
        };
        let e = read("{\"v\": 1}\n{\"v\": 2.5}\n", Type::Int);
        assert_eq!(
            (e.line, e.column.as_deref(), e.message.as_str()),
            (Some(2), Some("v"), "expected an int, found 2.5")
        );
        let e = read("{\"v\": 1}\n\n{\"v\": \"x\"}\n", Type::Int);
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(3), r#"expected an int, found "x""#)
        );
        let e = read("{\"v\": 1}\n[1]\n", Type::Int);
        assert_eq!(
            (e.line, e.column.as_deref(), e.message.as_str()),
            (Some(2), None, "expected a JSON object, found an array")
        );
        let e = read("{\"v\": 1,}\n", Type::Int);
        assert_eq!(e.line, Some(1));
        assert!(
            e.message.starts_with("invalid JSON at character "),
            "{}",
            e.message
        );
        let e = read("{\"v\": 1772951400}\n", Type::Timestamp);
        assert_eq!(
            e.message,
            "expected a timestamp string (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]), found 1772951400"
        );
        let e = read("{\"v\": {\"a\": 1}}\n", Type::String);
        assert_eq!(e.message, "expected a string, found an object");
    }

    #[test]
    fn unsupported_extension_and_type() {
        let d = TempDir::new("ext");
        let p = d.file("t.xlsx", "");
        let e = read_table("t", &p, &[], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.message,
            "unsupported file type (`.xlsx`); expected .csv, .tsv, .jsonl or .ndjson"
        );
        let p = d.file("t.csv", "a\n1\n");
        let e = read_table("t", &p, &[spec("a", Type::Null)], &ReadOptions::default()).unwrap_err();
        assert_eq!(e.message, "cannot read a column of type null from a file");
        let e = read_table("t", &d.0.join("nope.csv"), &[], &ReadOptions::default()).unwrap_err();
        assert!(e.message.starts_with("cannot open file: "), "{}", e.message);
        assert_eq!(e.line, None);
    }
}
