//! Readers from CSV / TSV and JSON Lines files into columnar [`Table`]s.
//!
//! Only the declared columns ([`ColumnSpec`]) are read; each value is parsed
//! as its declared type.
//!
//! Every row is accounted for ([`FileAccount`]): rows read = rows accepted +
//! rows rejected. A row is *rejected* — left out of the table, and recorded
//! as a [`Reject`] with its file, 1-based physical line, column, kind and
//! offending text — when a value does not parse as its column's type, a
//! required column is empty, the row has more or fewer fields than the
//! header, or (JSON Lines) the line is not a JSON object. Only the declared
//! null tokens are null; nothing else becomes a null silently.
//!
//! Problems with the file as a whole are a [`ReadError`] instead: it cannot
//! be opened, it is empty (no header), a declared column is missing from
//! the header, or one record is longer than
//! [`ReadOptions::max_record_bytes`] (a file without line breaks must not
//! exhaust memory).

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use chrono_tz::Tz;
use indexmap::IndexMap;
use kpi_dsl::Type;
use serde_json::Value;

use crate::column::{Column, Data, Dict, StrBuilder, Table, MICROS};
use crate::time::{parse_duration, TimestampParser};

/// The file extensions [`read_table`] accepts.
pub const EXTENSIONS: &[&str] = &["csv", "tsv", "jsonl", "ndjson", "parquet"];

/// The default longest record (CSV) or line (JSON Lines): 16 MiB.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

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
    /// required column rejects the row; it is never a silent null.
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
    /// The longest record (CSV, quoted line breaks included) or line (JSON
    /// Lines) in bytes; a longer one is a [`ReadError`].
    pub max_record_bytes: usize,
    /// Relation key columns, by name, with the dictionary of their parent's
    /// key once the parent table is read: a Parquet reader then codes the
    /// column in it as it goes ([`crate::column::Following`]).
    pub parent_keys: IndexMap<String, ParentKey>,
}

/// The dictionary of a relation's parent key, set when its table is read.
pub type ParentKey = Arc<OnceLock<Arc<Dict>>>;

impl Default for ReadOptions {
    /// UTC, comma, only the empty field is null, records up to 16 MiB.
    fn default() -> Self {
        ReadOptions {
            tz: Tz::UTC,
            delimiter: b',',
            null_tokens: vec![String::new()],
            max_record_bytes: MAX_RECORD_BYTES,
            parent_keys: IndexMap::new(),
        }
    }
}

/// An error that stops reading a file (a row's problems are [`Reject`]s).
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
    /// `data/tickets.csv:1: column `created_at`: not found ...`, then
    /// `\n  hint: ...` when there is a hint.
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

/// Why a row was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectKind {
    /// A value that does not parse as its column's type.
    InvalidValue,
    /// A null (a null token, a missing JSON key) in a required column.
    MissingValue,
    /// A CSV record with more or fewer fields than the header.
    FieldCount,
    /// A JSON Lines line that is not a JSON object.
    InvalidJson,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
}

impl RejectKind {
    /// The name used in the rejects file.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectKind::InvalidValue => "invalid_value",
            RejectKind::MissingValue => "missing_value",
            RejectKind::FieldCount => "field_count",
            RejectKind::InvalidJson => "invalid_json",
            RejectKind::InvalidUtf8 => "invalid_utf8",
        }
    }
}

/// A rejected row: where, why, and the text that caused it. A row with
/// several problems is one reject, reported at its first (in file order).
#[derive(Clone, Debug, PartialEq)]
pub struct Reject {
    pub file: PathBuf,
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// The column's name in the file; `None` for a problem of the whole row.
    pub column: Option<String>,
    pub kind: RejectKind,
    pub message: String,
    /// The offending text: the field, or the row for a whole-row problem
    /// (at most [`Reject::MAX_TEXT`] bytes, then `…`).
    pub text: String,
}

impl Reject {
    /// The longest offending text kept, in bytes.
    pub const MAX_TEXT: usize = 1024;
}

impl fmt::Display for Reject {
    /// `data/tickets.csv:14: column `contacts`: expected an int, found "abc"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// The rows of one source file: `read == accepted + rejected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileAccount {
    pub path: PathBuf,
    /// The table the file is a source of.
    pub table: String,
    /// Data rows read (CSV records after the header; non-blank JSON lines).
    pub read: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// The accounting of a run's reads: every file, and every rejected row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accounting {
    pub files: Vec<FileAccount>,
    pub rejects: Vec<Reject>,
}

/// A table read from one file, with its accounting.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The accepted rows.
    pub table: Table,
    pub account: FileAccount,
    pub rejects: Vec<Reject>,
}

impl Loaded {
    /// The table `name` read from `path`: `read` rows, the accepted ones in
    /// `columns`, the others in `rejects`.
    pub(crate) fn new(
        name: &str,
        path: &Path,
        read: u64,
        columns: IndexMap<String, Column>,
        rejects: Vec<Reject>,
    ) -> Loaded {
        let rejected = rejects.len() as u64;
        let accepted = read - rejected;
        Loaded {
            table: Table {
                name: name.to_string(),
                len: accepted as usize,
                columns,
            },
            account: FileAccount {
                path: path.to_path_buf(),
                table: name.to_string(),
                read,
                accepted,
                rejected,
            },
            rejects,
        }
    }
}

/// Lines listing the first `show` rejects, indented by two spaces, then
/// `… and N more` when there are more.
pub fn describe_rejects(rejects: &[Reject], show: usize) -> String {
    let mut s = String::new();
    for r in rejects.iter().take(show) {
        s.push_str(&format!("  {r}\n"));
    }
    if rejects.len() > show {
        s.push_str(&format!("  … and {} more\n", rejects.len() - show));
    }
    s
}

/// Reads the columns `specs` of the file at `path` into a table called
/// `name`. The format comes from the extension: `.csv` (delimiter from
/// `opts`), `.tsv` (tab), `.jsonl` / `.ndjson` (one JSON object per line;
/// a missing key or JSON `null` is null), `.parquet` (`engine/src/parquet.rs`).
pub fn read_table(
    name: &str,
    path: &Path,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Loaded, ReadError> {
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
) -> Result<Loaded, ReadError> {
    read_from(name, label, Some(text), specs, opts)
}

fn read_from(
    name: &str,
    path: &Path,
    text: Option<&str>,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Loaded, ReadError> {
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
                "unsupported file type ({found}); expected .csv, .tsv, .jsonl, .ndjson or .parquet"
            ))
        });
    }
    if ext == "parquet" {
        return crate::parquet::read_parquet(name, path, text, specs, opts);
    }
    let mut cols = Vec::with_capacity(specs.len());
    for spec in specs {
        let b = ColBuilder::new(&spec.ty, opts.tz).ok_or_else(|| ReadError {
            column: Some(spec.source.clone()),
            ..err(format!(
                "cannot read a column of type {} from a file",
                spec.ty
            ))
        })?;
        cols.push(b);
    }
    let file: Box<dyn ReadSeek + '_> = match text {
        Some(t) => Box::new(Cursor::new(t.as_bytes())),
        None => Box::new(File::open(path).map_err(|e| err(format!("cannot open file: {e}")))?),
    };
    let mut r = Reader {
        table: name,
        path,
        specs,
        opts,
        cols,
        lines: Lines::new(path, text),
        read: 0,
        rejects: Vec::new(),
    };
    match ext.as_str() {
        "csv" => r.csv(file, opts.delimiter)?,
        "tsv" => r.csv(file, b'\t')?,
        _ => r.jsonl(file)?,
    };
    let accepted = r.read - r.rejects.len() as u64;
    let mut columns = IndexMap::with_capacity(specs.len());
    for (spec, b) in specs.iter().zip(r.cols) {
        debug_assert_eq!(b.valid.len() as u64, accepted, "{}", spec.name);
        columns.insert(spec.name.clone(), b.finish());
    }
    Ok(Loaded::new(name, path, r.read, columns, r.rejects))
}

/// A file that CSV reading can read again from its start ([`Records`]).
trait ReadSeek: Read + Seek {}

impl<T: Read + Seek> ReadSeek for T {}

/// Bytes asked of the file at a time: the splitter runs over long stretches
/// of input, and read calls cost nothing per record; and the stretch the
/// kernel copies in is still in the core's L2 cache (512 KiB here) when the
/// splitter reads it (a 1 MiB one is not).
const CHUNK: usize = 1 << 18;

/// Why [`Records::next`] stopped.
enum RecordsError {
    Io(std::io::Error),
    /// The record being parsed grew past the limit.
    TooLong,
}

/// The file under [`Records`]: read by the splitter through [`Feed`], and
/// by csv-core from its start again when it takes over.
struct Source<R> {
    file: R,
    /// Bytes handed to the splitter, and where its current record starts.
    given: u64,
    record_start: u64,
    /// The most bytes handed past a record's start: the record limit and
    /// one read more.
    most: u64,
    /// The splitter was refused more bytes (its record is past the limit).
    refused: bool,
}

/// The splitter's reader of the [`Source`]: refused past
/// [`Source::most`] bytes into one record, so that a file without line
/// breaks (or a quote left open) does not grow the splitter's buffer
/// without bound.
struct Feed<R>(Rc<RefCell<Source<R>>>);

impl<R: Read> Read for Feed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let s = &mut *self.0.borrow_mut();
        if s.given - s.record_start > s.most {
            s.refused = true;
            return Err(std::io::Error::other("record too long"));
        }
        // The first read holds a BOM whole: the splitter looks for one in
        // its first input only.
        let want = if s.given == 0 { 4 } else { 1 };
        let mut n = 0;
        while n < want.min(buf.len()) {
            match s.file.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        s.given += n as u64;
        Ok(n)
    }
}

/// Whether csv-core reads `record` — a record as the splitter cut it, its
/// line terminator taken off — exactly as the splitter does: it has no CR
/// outside quotes, and each quote opens a field, closes one (before a
/// delimiter or the end), or is doubled inside a quoted field. Then both
/// end the record and its fields at the same bytes, and the splitter's
/// unescaped fields are csv-core's. Anything else (a quote inside an
/// unquoted field, text after a closing quote, a quote left open, a CR
/// ending a line) the splitter may cut otherwise.
fn splits_alike(record: &[u8], delimiter: u8) -> bool {
    let mut quoted = false;
    let mut hits = memchr::memchr2_iter(b'"', b'\r', record);
    while let Some(i) = hits.next() {
        if record[i] == b'\r' {
            if !quoted {
                return false;
            }
        } else if !quoted {
            if i > 0 && record[i - 1] != delimiter {
                return false;
            }
            quoted = true;
        } else {
            match record.get(i + 1) {
                // A doubled quote: the next hit is its second half.
                Some(b'"') => drop(hits.next()),
                Some(&b) if b == delimiter => quoted = false,
                None => quoted = false,
                Some(_) => return false,
            }
        }
    }
    !quoted
}

/// csv-core run over `chunk`-sized reads, each record's fields left in one
/// reused buffer: the reader of a file from its first record the splitter
/// may cut otherwise on.
struct Core {
    core: csv_core::Reader,
    buf: Vec<u8>,
    /// The unparsed input is `buf[pos..filled]`.
    pos: usize,
    filled: usize,
    eof: bool,
    /// Bytes of the file the tokenizer has consumed.
    consumed: u64,
    /// The last record's fields, back to back; field `i` ends at `ends[i]`.
    out: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
}

impl Core {
    fn new(delimiter: u8, chunk: usize) -> Self {
        Core {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; chunk],
            pos: 0,
            filled: 0,
            eof: false,
            consumed: 0,
            out: vec![0; 1024],
            ends: vec![0; 64],
            fields: 0,
        }
    }

    /// Parses the next record of `file`, at most `limit` bytes of it (leading
    /// blank lines and the terminator included); `false` at the end.
    fn next(&mut self, file: &mut impl Read, limit: u64) -> Result<bool, RecordsError> {
        use csv_core::ReadRecordResult as R;
        let start = self.consumed;
        let (mut nout, mut nend) = (0, 0);
        loop {
            if self.pos == self.filled && !self.eof {
                self.fill(file)?;
            }
            let (res, nin, o, e) = self.core.read_record(
                &self.buf[self.pos..self.filled],
                &mut self.out[nout..],
                &mut self.ends[nend..],
            );
            self.pos += nin;
            self.consumed += nin as u64;
            nout += o;
            nend += e;
            if self.consumed - start > limit {
                return Err(RecordsError::TooLong);
            }
            match res {
                R::InputEmpty => {}
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => {
                    self.fields = nend;
                    return Ok(true);
                }
                R::End => return Ok(false),
            }
        }
    }

    /// Reads the next stretch of input into `buf`.
    fn fill(&mut self, file: &mut impl Read) -> Result<(), RecordsError> {
        // The first input is longer than a BOM's three bytes: csv-core
        // strips a BOM from the start of its first input, and takes an
        // input left empty by that for the end of the file.
        let want = if self.consumed == 0 { 4 } else { 1 };
        let want = want.min(self.buf.len());
        (self.pos, self.filled) = (0, 0);
        while self.filled < want {
            match file.read(&mut self.buf[self.filled..]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RecordsError::Io(e)),
            }
        }
        self.eof = self.filled == 0;
        Ok(())
    }

    /// csv-core over `source` from its start, past its first `skip`
    /// records (the ones the splitter gave; they are within the limit).
    fn take_over<R: Read + Seek>(
        source: &RefCell<Source<R>>,
        delimiter: u8,
        chunk: usize,
        skip: u64,
    ) -> Result<Core, RecordsError> {
        let file = &mut source.borrow_mut().file;
        file.seek(SeekFrom::Start(0)).map_err(RecordsError::Io)?;
        let mut core = Core::new(delimiter, chunk);
        for _ in 0..skip {
            let given = core.next(file, u64::MAX)?;
            debug_assert!(given, "csv-core found fewer records than the splitter");
        }
        Ok(core)
    }
}

/// The CSV records of a file. A SIMD splitter ([`simd_csv`]) cuts them
/// where they lie in its buffer, and only the fields read are unescaped;
/// at the first record it may cut otherwise than csv-core
/// ([`splits_alike`]), or one too long to tell, csv-core reads the file
/// again from its start, past the records already given, and reads the
/// rest. Either way the records are csv-core's.
struct Records<R> {
    source: Rc<RefCell<Source<R>>>,
    /// The splitter, while it reads.
    splitter: Option<simd_csv::ZeroCopyReader<Feed<R>>>,
    /// csv-core, once it has taken over.
    core: Option<Core>,
    delimiter: u8,
    chunk: usize,
    /// The longest record, in bytes of the file: the splitter's record
    /// (quoted line breaks included, its terminator not); csv-core's counts
    /// its leading blank lines and terminator too, so a few bytes more.
    limit: u64,
    /// Records given so far.
    count: u64,
    /// Where the last record (or the one being parsed) starts: its byte
    /// offset, and its line if [`Lines`] cannot tell (csv-core's count,
    /// one short after a CRLF terminator; the record's number while the
    /// splitter reads).
    start: u64,
    start_line: u64,
    /// Bytes of the file read, at its end.
    consumed: u64,
}

/// One record of [`Records`]: where it starts (as [`Records::start`] and
/// [`Records::start_line`]), and its fields.
struct Record<'r> {
    start: u64,
    line: u64,
    fields: Fields<'r>,
}

enum Fields<'r> {
    /// Fields where they lie in the splitter's buffer, quotes and all.
    Split(simd_csv::ZeroCopyByteRecord<'r>),
    /// csv-core's fields, back to back; field `i` ends at `ends[i]`.
    Core { out: &'r [u8], ends: &'r [usize] },
}

impl Record<'_> {
    fn len(&self) -> usize {
        match &self.fields {
            Fields::Split(r) => r.len(),
            Fields::Core { ends, .. } => ends.len(),
        }
    }

    /// Field `i`, unescaped.
    #[inline(always)]
    fn field(&self, i: usize) -> Cow<'_, [u8]> {
        match &self.fields {
            Fields::Split(r) => r.unescape(i).expect("a field of the record"),
            Fields::Core { out, ends } => {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                Cow::Borrowed(&out[start..ends[i]])
            }
        }
    }

    fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        (0..self.len()).map(|i| self.field(i))
    }
}

impl<R: Read + Seek> Records<R> {
    /// Records of `file`, read `chunk` bytes at a time.
    fn new(file: R, delimiter: u8, limit: usize, chunk: usize) -> Self {
        let limit = limit as u64;
        let source = Rc::new(RefCell::new(Source {
            file,
            given: 0,
            record_start: 0,
            most: limit.saturating_add(chunk as u64),
            refused: false,
        }));
        let splitter = simd_csv::ZeroCopyReaderBuilder::new()
            .delimiter(delimiter)
            .buffer_capacity(chunk)
            .flexible(true)
            .has_headers(false)
            .from_reader(Feed(source.clone()));
        Records {
            source,
            splitter: Some(splitter),
            core: None,
            delimiter,
            chunk,
            limit,
            count: 0,
            start: 0,
            start_line: 1,
            consumed: 0,
        }
    }

    /// Parses the next record; `None` at the end of the file.
    fn next(&mut self) -> Result<Option<Record<'_>>, RecordsError> {
        if self.core.is_some() {
            self.splitter = None;
        }
        if let Some(splitter) = &mut self.splitter {
            self.start = splitter.position();
            self.start_line = self.count + 1;
            self.source.borrow_mut().record_start = self.start;
            match splitter.read_byte_record() {
                Ok(Some(r)) if splits_alike(r.as_slice(), self.delimiter) => {
                    if r.as_slice().len() as u64 > self.limit {
                        return Err(RecordsError::TooLong);
                    }
                    self.count += 1;
                    return Ok(Some(Record {
                        start: self.start,
                        line: self.start_line,
                        fields: Fields::Split(r),
                    }));
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.consumed = self.source.borrow().given;
                    return Ok(None);
                }
                Err(_) if self.source.borrow().refused => {}
                Err(e) => {
                    return Err(RecordsError::Io(match e.into_kind() {
                        simd_csv::ErrorKind::Io(e) => e,
                        kind => std::io::Error::other(format!("{kind:?}")),
                    }))
                }
            }
            self.core = Some(Core::take_over(
                &self.source,
                self.delimiter,
                self.chunk,
                self.count,
            )?);
        }
        let core = self
            .core
            .as_mut()
            .expect("csv-core reads when the splitter does not");
        self.start = core.consumed;
        self.start_line = core.core.line();
        if !core.next(&mut self.source.borrow_mut().file, self.limit)? {
            self.consumed = core.consumed;
            return Ok(None);
        }
        self.count += 1;
        Ok(Some(Record {
            start: self.start,
            line: self.start_line,
            fields: Fields::Core {
                out: &core.out,
                ends: &core.ends[..core.fields],
            },
        }))
    }
}

/// The 1-based physical line of byte offsets, asked in increasing order: a
/// second reader over the same bytes, opened at the first question, that
/// follows the parser. (`csv::Position::line` is one short in CRLF files:
/// the parser stops after the `\r` of a record's terminator, so the next
/// record's position is taken before its `\n`.)
struct Lines<'a> {
    path: &'a Path,
    text: Option<&'a str>,
    src: Option<Box<dyn BufRead + 'a>>,
    /// Bytes passed, and the line the next byte is on.
    at: u64,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(path: &'a Path, text: Option<&'a str>) -> Self {
        Lines {
            path,
            text,
            src: None,
            at: 0,
            line: 1,
        }
    }

    /// The line where the record at `byte` starts: the first byte at or
    /// after `byte` that is not part of a line terminator (the CSV parser
    /// skips empty lines, so a record never starts with `\r` or `\n`).
    fn record_line(&mut self, byte: u64) -> std::io::Result<u64> {
        if self.src.is_none() {
            self.src = Some(match self.text {
                Some(t) => Box::new(t.as_bytes()),
                None => Box::new(BufReader::new(File::open(self.path)?)),
            });
        }
        let src = self.src.as_mut().expect("opened above");
        loop {
            let buf = src.fill_buf()?;
            if buf.is_empty() {
                return Ok(self.line);
            }
            let mut used = 0;
            for &b in buf {
                if self.at >= byte && b != b'\r' && b != b'\n' {
                    src.consume(used);
                    return Ok(self.line);
                }
                self.line += (b == b'\n') as u64;
                self.at += 1;
                used += 1;
            }
            src.consume(used);
        }
    }
}

struct Reader<'a> {
    /// The table being read.
    table: &'a str,
    path: &'a Path,
    specs: &'a [ColumnSpec],
    opts: &'a ReadOptions,
    cols: Vec<ColBuilder>,
    lines: Lines<'a>,
    /// Data rows read so far.
    read: u64,
    rejects: Vec<Reject>,
}

/// A parsed value waiting for the rest of its row.
enum Parsed<'t> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(Cow<'t, str>),
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

    fn reject(
        &mut self,
        line: u64,
        column: Option<&str>,
        kind: RejectKind,
        message: String,
        text: &str,
    ) {
        self.rejects.push(Reject {
            file: self.path.to_path_buf(),
            line,
            column: column.map(str::to_string),
            kind,
            message,
            text: clip_text(text),
        });
    }

    fn is_null(&self, text: &str) -> bool {
        self.opts.null_tokens.iter().any(|t| t == text)
    }

    /// A null for column `k`, or why it may not be null.
    fn null(&self, k: usize) -> Result<Parsed<'static>, (RejectKind, String)> {
        if self.specs[k].nullable {
            Ok(Parsed::Null)
        } else {
            Err(missing_value())
        }
    }

    /// The line of the record at byte `start`, for a message; `fallback`
    /// when the file cannot be read again to count.
    fn line_of(&mut self, start: u64, fallback: u64) -> u64 {
        self.lines.record_line(start).unwrap_or(fallback)
    }

    /// Reads CSV records.
    fn csv(&mut self, file: impl Read + Seek, delimiter: u8) -> Result<(), ReadError> {
        let mut records = Records::new(file, delimiter, self.opts.max_record_bytes, CHUNK);
        let mut names = Vec::new();
        let header = match records.next() {
            Ok(header) => header,
            Err(e) => return Err(self.csv_error(e, &records)),
        };
        for (i, h) in header.iter().flat_map(|h| h.iter()).enumerate() {
            let h = std::str::from_utf8(&h).map_err(|_| {
                self.error(
                    Some(1),
                    None,
                    format!(
                        "invalid UTF-8 in header field {}; the file must be UTF-8",
                        i + 1
                    ),
                )
            })?;
            // csv-core strips a UTF-8 BOM already; this is a second guard.
            names.push(
                if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                }
                .to_string(),
            );
        }
        if names.is_empty() {
            let expected: Vec<&str> = self.specs.iter().map(|s| s.source.as_str()).collect();
            let what = if records.consumed == 0 {
                "the file is empty (0 bytes): no header"
            } else {
                "no header: the file has only blank lines"
            };
            return Err(ReadError {
                hint: Some(if expected.is_empty() {
                    "a CSV source starts with a header line naming its columns".to_string()
                } else {
                    format!(
                        "a CSV source starts with a header line naming its columns; this table needs {}",
                        expected.join(", ")
                    )
                }),
                ..self.error(None, None, what.to_string())
            });
        }
        // (file position, spec) in file order, so a row is rejected at its
        // first problem from the left.
        let mut index = Vec::with_capacity(self.specs.len());
        for (k, spec) in self.specs.iter().enumerate() {
            match find_header(&names, &spec.source) {
                Some(i) => index.push((i, k)),
                None => return Err(self.missing_column(spec, &names, delimiter)),
            }
        }
        index.sort_unstable();
        let width = names.len();
        let nulls = Nulls::new(&self.opts.null_tokens);
        loop {
            let rec = match records.next() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) => return Err(self.csv_error(e, &records)),
            };
            self.read += 1;
            if rec.len() != width {
                let line = self.line_of(rec.start, rec.line);
                // The fields joined again: the text of the row as parsed.
                let joined = rec
                    .iter()
                    .map(|f| String::from_utf8_lossy(&f).into_owned())
                    .collect::<Vec<_>>()
                    .join(&(delimiter as char).to_string());
                self.reject(
                    line,
                    None,
                    RejectKind::FieldCount,
                    format!(
                        "the record has {} field{}, but the header has {width}",
                        rec.len(),
                        if rec.len() == 1 { "" } else { "s" }
                    ),
                    &joined,
                );
                continue;
            }
            // Each value is appended as soon as it parses; a row found bad
            // takes back what it appended (columns are in spec order,
            // `index` in file order, so a row is rejected at its first
            // problem from the left).
            for (j, &(i, k)) in index.iter().enumerate() {
                let nullable = self.specs[k].nullable;
                if let Err((kind, message, text)) =
                    self.cols[k].push_field(&rec.field(i), &nulls, nullable)
                {
                    for &(_, pushed) in &index[..j] {
                        self.cols[pushed].pop();
                    }
                    let line = self.line_of(rec.start, rec.line);
                    let column = self.specs[k].source.clone();
                    self.reject(line, Some(&column), kind, message, &text);
                    break;
                }
            }
        }
        Ok(())
    }

    /// A CSV error that stops reading.
    fn csv_error<R>(&mut self, e: RecordsError, rec: &Records<R>) -> ReadError {
        match e {
            RecordsError::TooLong => {
                let line = self.line_of(rec.start, rec.start_line);
                ReadError {
                    hint: Some(
                        "a binary file, a file without line breaks or a quote left open makes one huge record"
                            .into(),
                    ),
                    ..self.error(
                        Some(line),
                        None,
                        format!(
                            "a record longer than {}: reading stopped",
                            bytes_text(self.opts.max_record_bytes as u64)
                        ),
                    )
                }
            }
            RecordsError::Io(io) => self.error(None, None, format!("cannot read file: {io}")),
        }
    }

    fn missing_column(&self, spec: &ColumnSpec, headers: &[String], delimiter: u8) -> ReadError {
        let mapped = if spec.name != spec.source {
            format!(" (mapped to `{}`)", spec.name)
        } else {
            String::new()
        };
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
        let message = format!("not found{mapped}; the header has: {list}");
        // One header field holding another delimiter: the file's delimiter
        // was not declared.
        let other = match headers {
            [h] => [b';', b',', b'\t', b'|']
                .into_iter()
                .find(|&d| d != delimiter && h.as_bytes().contains(&d)),
            _ => None,
        };
        let hint = match other {
            Some(b'\t') => Some(
                "the header is one field holding tabs: name the file .tsv, or declare `delimiter = \"\\t\"`".to_string(),
            ),
            Some(d) if delimiter == b'\t' => Some(format!(
                "the header is one field holding `{}`: a .tsv file is separated by tabs; name the file .csv (and declare its delimiter)",
                d as char
            )),
            Some(d) => Some(format!(
                "the header is one field holding `{}`: declare `delimiter = \"{}\"` for this table",
                d as char, d as char
            )),
            None => did_you_mean(&spec.source, headers.iter().map(|h| h.as_str())).map(|h| {
                format!(
                    "did you mean `{h}`? map it with `{} = \"{h}\"` under [tables.{}.columns]",
                    spec.name, self.table
                )
            }),
        };
        ReadError {
            hint,
            ..self.error(Some(1), Some(&spec.source), message)
        }
    }

    /// Reads JSON Lines. Blank lines are skipped (and not counted).
    fn jsonl(&mut self, file: impl Read) -> Result<(), ReadError> {
        let limit = self.opts.max_record_bytes;
        let mut reader = BufReader::new(file);
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            // At most one byte past the limit: a longer line is an error,
            // not an allocation.
            let n = (&mut reader)
                .take(limit as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(|e| {
                    self.error(Some(line_no + 1), None, format!("cannot read file: {e}"))
                })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if buf.len() > limit && buf.last() != Some(&b'\n') {
                return Err(ReadError {
                    hint: Some(
                        "a binary file or a file without line breaks makes one huge line".into(),
                    ),
                    ..self.error(
                        Some(line_no),
                        None,
                        format!(
                            "a line longer than {}: reading stopped",
                            bytes_text(limit as u64)
                        ),
                    )
                });
            }
            let line = line_no;
            let Ok(mut text) = std::str::from_utf8(&buf) else {
                if String::from_utf8_lossy(&buf).trim().is_empty() {
                    continue;
                }
                self.read += 1;
                let lossy = String::from_utf8_lossy(&buf).trim_end().to_string();
                self.reject(
                    line,
                    None,
                    RejectKind::InvalidUtf8,
                    "invalid UTF-8; the file must be UTF-8".into(),
                    &lossy,
                );
                continue;
            };
            if line_no == 1 {
                text = text.trim_start_matches('\u{feff}');
            }
            if text.trim().is_empty() {
                continue;
            }
            self.read += 1;
            let obj = match serde_json::from_str::<Value>(text.trim_end()) {
                Ok(Value::Object(m)) => m,
                Ok(v) => {
                    let m = format!("expected a JSON object, found {}", json_kind(&v));
                    self.reject(line, None, RejectKind::InvalidJson, m, text.trim_end());
                    continue;
                }
                Err(e) => {
                    let mut msg = e.to_string();
                    if let Some(i) = msg.rfind(" at line ") {
                        msg.truncate(i);
                    }
                    let m = format!("invalid JSON at character {}: {msg}", e.column());
                    self.reject(line, None, RejectKind::InvalidJson, m, text.trim_end());
                    continue;
                }
            };
            let mut cells = Vec::with_capacity(self.specs.len());
            let mut problem = None;
            for k in 0..self.specs.len() {
                let spec = &self.specs[k];
                let cell = match obj.get(&spec.source) {
                    None | Some(Value::Null) => self.null(k),
                    Some(Value::String(s)) if self.is_null(s) => self.null(k),
                    Some(v) => self.cols[k]
                        .parse_json(v)
                        .map_err(|m| (RejectKind::InvalidValue, m)),
                };
                match cell {
                    Ok(c) => cells.push(c),
                    Err((kind, m)) => {
                        let found = match obj.get(&spec.source) {
                            None => String::new(),
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                        };
                        problem = Some((k, kind, m, found));
                        break;
                    }
                }
            }
            match problem {
                None => {
                    for (k, c) in cells.into_iter().enumerate() {
                        self.cols[k].push(c);
                    }
                }
                Some((k, kind, message, found)) => {
                    let column = self.specs[k].source.clone();
                    self.reject(line, Some(&column), kind, message, &found);
                }
            }
        }
        Ok(())
    }
}

/// `16 MiB (16777216 bytes)`, or `100 bytes` below a KiB.
fn bytes_text(n: u64) -> String {
    if n >= 1 << 20 && n.trailing_zeros() >= 20 {
        format!("{} MiB ({n} bytes)", n >> 20)
    } else if n >= 1 << 10 && n.trailing_zeros() >= 10 {
        format!("{} KiB ({n} bytes)", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// The offending text kept in a reject: at most [`Reject::MAX_TEXT`] bytes.
pub(crate) fn clip_text(s: &str) -> String {
    if s.len() <= Reject::MAX_TEXT {
        return s.to_string();
    }
    let mut end = Reject::MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
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
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
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

/// An optionally signed run of at most 18 ASCII digits (never out of
/// range), as `str::parse::<i64>` reads it; `None` for anything else.
#[inline]
fn plain_int(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut x = 0i64;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        x = x * 10 + d as i64;
    }
    Some(if negative { -x } else { x })
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

/// Why a null in a required column rejects its row.
fn missing_value() -> (RejectKind, String) {
    (
        RejectKind::MissingValue,
        "a value is required here (the column is not nullable)".into(),
    )
}

/// The null tokens of a read.
struct Nulls<'a> {
    tokens: &'a [String],
    /// The tokens are just the empty text (the default).
    only_empty: bool,
}

impl<'a> Nulls<'a> {
    fn new(tokens: &'a [String]) -> Self {
        Nulls {
            tokens,
            only_empty: tokens.len() == 1 && tokens[0].is_empty(),
        }
    }

    #[inline]
    fn contains(&self, text: &str) -> bool {
        self.contains_bytes(text.as_bytes())
    }

    #[inline]
    fn contains_bytes(&self, bytes: &[u8]) -> bool {
        if self.only_empty {
            bytes.is_empty()
        } else {
            self.tokens.iter().any(|t| t.as_bytes() == bytes)
        }
    }
}

/// `s.trim()`, without the Unicode scan when `s` starts and ends with
/// printable ASCII (which is never whitespace).
#[inline]
fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if (b'!'..=b'~').contains(first) && (b'!'..=b'~').contains(last) => s,
        [only] if (b'!'..=b'~').contains(only) => s,
        _ => s.trim(),
    }
}

/// Values of one column under construction.
enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Str(StrBuilder),
    Timestamp(Vec<i64>, TimestampParser),
    Duration(Vec<f64>),
}

struct ColBuilder {
    values: Values,
    valid: Vec<bool>,
}

/// A parse error whose message quotes the whole of a long text, shortened.
fn clip_found(message: String, text: &str) -> String {
    if text.chars().count() <= 80 {
        return message;
    }
    message.replace(&format!("{text:?}"), &clip(text))
}

impl ColBuilder {
    fn new(ty: &Type, tz: Tz) -> Option<Self> {
        let values = match ty {
            Type::Int => Values::Int(Vec::new()),
            Type::Float => Values::Float(Vec::new()),
            Type::Bool => Values::Bool(Vec::new()),
            Type::String => Values::Str(StrBuilder::default()),
            Type::Timestamp => Values::Timestamp(Vec::new(), TimestampParser::new(tz)),
            Type::Duration => Values::Duration(Vec::new()),
            Type::Null | Type::List(_) | Type::Map(_) => return None,
        };
        Some(ColBuilder {
            values,
            valid: Vec::new(),
        })
    }

    /// Appends a value parsed for this column (a row's values are parsed
    /// first and appended only when the whole row is good).
    fn push(&mut self, value: Parsed<'_>) {
        match (&mut self.values, value) {
            (Values::Int(v) | Values::Timestamp(v, _), Parsed::Int(x)) => v.push(x),
            (Values::Duration(v), Parsed::Int(x)) => v.push(x as f64),
            (Values::Float(v), Parsed::Float(x)) => v.push(x),
            (Values::Bool(v), Parsed::Bool(x)) => v.push(x),
            (Values::Str(b), Parsed::Str(s)) => b.push(&s),
            (_, Parsed::Null) => {
                self.push_null();
                return;
            }
            _ => unreachable!("a value parsed for another column type"),
        }
        self.valid.push(true);
    }

    fn push_null(&mut self) {
        match &mut self.values {
            Values::Int(v) | Values::Timestamp(v, _) => v.push(0),
            Values::Float(v) | Values::Duration(v) => v.push(0.0),
            Values::Bool(v) => v.push(false),
            Values::Str(b) => b.push(""),
        }
        self.valid.push(false);
    }

    /// Takes back the last value appended (of a row found bad later on).
    fn pop(&mut self) {
        match &mut self.values {
            Values::Int(v) | Values::Timestamp(v, _) => drop(v.pop()),
            Values::Float(v) | Values::Duration(v) => drop(v.pop()),
            Values::Bool(v) => drop(v.pop()),
            Values::Str(b) => b.pop(),
        }
        self.valid.pop();
    }

    /// Parses the bytes of a CSV field as the column's type and appends it,
    /// or says why it cannot (and the field's text).
    ///
    /// The common cases are read from the bytes directly — a null, a string,
    /// a plain integer, a timestamp of a fixed layout, `true` and `false` —
    /// each exactly as [`push_text`](Self::push_text) reads it; everything
    /// else, every error included, goes through the text.
    #[inline]
    fn push_field(
        &mut self,
        bytes: &[u8],
        nulls: &Nulls,
        nullable: bool,
    ) -> Result<(), (RejectKind, String, String)> {
        if self.push_plain(bytes, nulls, nullable) {
            return Ok(());
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self
                .push_text(text, nulls, nullable)
                .map_err(|(kind, m)| (kind, m, text.to_string())),
            Err(_) => Err((
                RejectKind::InvalidUtf8,
                "invalid UTF-8; the file must be UTF-8".to_string(),
                String::from_utf8_lossy(bytes).into_owned(),
            )),
        }
    }

    /// [`push_field`](Self::push_field)'s common cases; `false` (nothing
    /// appended) for the rest.
    #[inline]
    fn push_plain(&mut self, bytes: &[u8], nulls: &Nulls, nullable: bool) -> bool {
        if nulls.contains_bytes(bytes) {
            if nullable {
                self.push_null();
            }
            return nullable;
        }
        if let Values::Str(b) = &mut self.values {
            // A string is never trimmed, so no other null token applies.
            // (Only a new string is checked for UTF-8.)
            if b.push_utf8(bytes).is_none() {
                return false;
            }
            self.valid.push(true);
            return true;
        }
        // Other types are trimmed first (a trimmed text may be a null
        // token): only texts that begin and end with printable ASCII, which
        // trimming leaves alone, are read here.
        let printable = |b: Option<&u8>| b.is_some_and(|b| (b'!'..=b'~').contains(b));
        if !printable(bytes.first()) || !printable(bytes.last()) {
            return false;
        }
        match &mut self.values {
            Values::Int(v) => match plain_int(bytes) {
                Some(x) => v.push(x),
                None => return false,
            },
            Values::Timestamp(v, p) => match p.parse_plain(bytes) {
                Some(x) => v.push(x),
                None => return false,
            },
            Values::Bool(v) => match bytes {
                b"true" => v.push(true),
                b"false" => v.push(false),
                _ => return false,
            },
            _ => return false,
        }
        self.valid.push(true);
        true
    }

    /// Parses a CSV field as the column's type and appends it, or says why
    /// it cannot. A field equal to a null token (for other than strings,
    /// also once trimmed of whitespace) is a null.
    fn push_text(
        &mut self,
        text: &str,
        nulls: &Nulls,
        nullable: bool,
    ) -> Result<(), (RejectKind, String)> {
        let t = match self.values {
            Values::Str(_) => text,
            _ => trim(text),
        };
        if nulls.contains(text) || (t.len() != text.len() && nulls.contains(t)) {
            if !nullable {
                return Err(missing_value());
            }
            self.push_null();
            return Ok(());
        }
        let invalid = |m: String| (RejectKind::InvalidValue, m);
        match &mut self.values {
            Values::Int(v) => v.push(parse_int(t).map_err(invalid)?),
            Values::Float(v) => v.push(parse_float(t).map_err(invalid)?),
            Values::Bool(v) => v.push(parse_bool(t).map_err(invalid)?),
            Values::Str(b) => b.push(text),
            Values::Timestamp(v, p) => {
                v.push(p.parse(t).map_err(|m| invalid(clip_found(m, text)))?)
            }
            Values::Duration(v) => {
                v.push(parse_duration(t).map_err(|m| invalid(clip_found(m, text)))? as f64)
            }
        }
        self.valid.push(true);
        Ok(())
    }

    /// Parses a text field (a JSON string) as the column's type.
    fn parse_text<'t>(&mut self, text: &'t str) -> Result<Parsed<'t>, String> {
        let t = text.trim();
        Ok(match &mut self.values {
            Values::Int(_) => Parsed::Int(parse_int(t)?),
            Values::Float(_) => Parsed::Float(parse_float(t)?),
            Values::Bool(_) => Parsed::Bool(parse_bool(t)?),
            Values::Str(_) => Parsed::Str(Cow::Borrowed(text)),
            Values::Timestamp(_, p) => Parsed::Int(p.parse(t).map_err(|m| clip_found(m, text))?),
            Values::Duration(_) => Parsed::Int(parse_duration(t).map_err(|m| clip_found(m, text))?),
        })
    }

    /// Converts a non-null JSON value to the column's type.
    fn parse_json<'t>(&mut self, value: &'t Value) -> Result<Parsed<'t>, String> {
        if let Value::String(s) = value {
            return self.parse_text(s);
        }
        let mismatch = |what: &str| format!("expected {what}, found {}", json_found(value));
        Ok(match (&self.values, value) {
            (Values::Int(_), Value::Number(n)) => {
                let i = n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                });
                Parsed::Int(i.ok_or_else(|| mismatch("an int"))?)
            }
            (Values::Float(_), Value::Number(n)) => Parsed::Float(
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| mismatch("a float"))?,
            ),
            (Values::Bool(_), Value::Bool(b)) => Parsed::Bool(*b),
            (Values::Bool(_), Value::Number(n)) => match n.as_i64() {
                Some(0) => Parsed::Bool(false),
                Some(1) => Parsed::Bool(true),
                _ => return Err(mismatch("a bool (true/false, yes/no, 1/0)")),
            },
            // Keys may be numbers in the source; a string column keeps their text.
            (Values::Str(_), Value::Number(n)) => Parsed::Str(Cow::Owned(n.to_string())),
            (Values::Str(_), Value::Bool(x)) => {
                Parsed::Str(Cow::Borrowed(if *x { "true" } else { "false" }))
            }
            // A number of seconds.
            (Values::Duration(_), Value::Number(n)) => {
                let us = match n.as_i64() {
                    Some(i) => i.checked_mul(MICROS),
                    None => n
                        .as_f64()
                        .map(|f| (f * MICROS as f64).round())
                        .filter(|f| f.is_finite() && f.abs() < 9.2e18)
                        .map(|f| f as i64),
                };
                Parsed::Int(us.ok_or_else(|| mismatch("a duration in range"))?)
            }
            (Values::Int(_), _) => return Err(mismatch("an int")),
            (Values::Float(_), _) => return Err(mismatch("a float")),
            (Values::Bool(_), _) => return Err(mismatch("a bool")),
            (Values::Str(_), _) => return Err(mismatch("a string")),
            (Values::Timestamp(..), _) => {
                return Err(mismatch(
                    "a timestamp string (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]])",
                ))
            }
            (Values::Duration(_), _) => {
                return Err(mismatch(
                    "a duration (a number of seconds or a string like \"1h30m\")",
                ))
            }
        })
    }

    fn finish(mut self) -> Column {
        self.valid.shrink_to_fit();
        let mut data = match self.values {
            Values::Int(v) => Data::Int(v),
            Values::Float(v) => Data::Float(v),
            Values::Bool(v) => Data::Bool(v),
            Values::Str(b) => Data::Str(b.finish()),
            Values::Timestamp(v, _) => Data::Timestamp(v),
            Values::Duration(v) => Data::Duration(v),
        };
        data.shrink_to_fit();
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

    /// Reads a file that must load with every row accepted.
    fn load(name: &str, p: &Path, specs: &[ColumnSpec], opts: &ReadOptions) -> Table {
        let l = read_table(name, p, specs, opts).unwrap();
        assert!(l.rejects.is_empty(), "{:?}", l.rejects);
        assert_eq!(
            (l.account.read, l.account.accepted, l.account.rejected),
            (l.table.len as u64, l.table.len as u64, 0)
        );
        l.table
    }

    /// The one reject of a file with exactly one bad row.
    fn rejected(p: &Path, specs: &[ColumnSpec], opts: &ReadOptions) -> Reject {
        let l = read_table("t", p, specs, opts).unwrap();
        assert_eq!(l.rejects.len(), 1, "{:?}", l.rejects);
        assert_eq!(l.account.rejected, 1);
        assert_eq!(l.account.read, l.account.accepted + 1);
        assert_eq!(l.table.len as u64, l.account.accepted);
        l.rejects[0].clone()
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
        let t = load("tickets", &p, &specs, &opts);
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
        assert_eq!(ch.codes.get(0), ch.codes.get(2));
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
        let t = load("a", &p, &specs, &opts);
        // "" is not a null token here: an empty string stays a string.
        assert_eq!(
            strs(&t, "agent"),
            [None, Some(String::new()), Some("bob".into())]
        );
        // Trimmed " n/a " is null for a non-string column.
        assert_eq!(ints(&t, "n"), [None, Some(3), None]);

        let p = d.file("b.tsv", "id\tname\n7\ta,b\n");
        let t = load(
            "b",
            &p,
            &[spec("id", Type::Int), spec("name", Type::String)],
            &ReadOptions::default(),
        );
        assert_eq!(ints(&t, "id"), [Some(7)]);
        assert_eq!(strs(&t, "name"), [Some("a,b".into())]);
    }

    #[test]
    fn bad_int_reports_its_line() {
        let d = TempDir::new("badint");
        let p = d.file("data.csv", "id,contacts\n1,2\n2,3\n3,abc\n4,5\n");
        let e = rejected(&p, &[spec("contacts", Type::Int)], &ReadOptions::default());
        assert_eq!(e.line, 4);
        assert_eq!(e.column.as_deref(), Some("contacts"));
        assert_eq!(e.kind, RejectKind::InvalidValue);
        assert_eq!(e.message, r#"expected an int, found "abc""#);
        assert_eq!(e.text, "abc");
        assert_eq!(
            e.to_string(),
            format!(
                r#"{}:4: column `contacts`: expected an int, found "abc""#,
                p.display()
            )
        );
        let p = d.file("f.csv", "n\n12.0\n12.5\n");
        let e = rejected(&p, &[spec("n", Type::Int)], &ReadOptions::default());
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, r#"expected an int, found "12.5" (not a whole number)"#)
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
            let e = rejected(&p, &[spec("v", ty.clone())], &ReadOptions::default());
            assert_eq!((e.line, e.message.as_str()), (2, msg), "{ty}");
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
        let e = rejected(&p, &specs, &ReadOptions::default());
        // Record 3 starts on physical line 7 (1 header + 2 + 3 lines before).
        assert_eq!(e.line, 7);
        assert_eq!(e.column.as_deref(), Some("created_at"));

        let p = d.file(
            "ok.csv",
            "id,body\n1,\"hello\nworld\"\n2,\"say \"\"hi\"\"\"\n",
        );
        let t = load("m", &p, &specs[..2], &ReadOptions::default());
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
        let t = load("t", &p, &specs, &ReadOptions::default());
        assert_eq!(ints(&t, "id"), [Some(1), Some(2)]);
        assert_eq!(
            strs(&t, "name"),
            [Some("ann".into()), Some("b\r\nob".into())]
        );
        let e = rejected(&p, &[spec("n", Type::Int)], &ReadOptions::default());
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, r#"expected an int, found "x""#)
        );
    }

    #[test]
    fn wrong_field_count_is_a_reject() {
        let d = TempDir::new("fields");
        let p = d.file("t.csv", "a,b\n1,2\n3\n");
        let e = rejected(&p, &[spec("a", Type::Int)], &ReadOptions::default());
        assert_eq!((e.line, e.column.as_deref()), (3, None));
        assert_eq!(e.kind, RejectKind::FieldCount);
        assert_eq!(e.message, "the record has 1 field, but the header has 2");
        let p = d.file("crlf.csv", "a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n4\r\n");
        let e = rejected(&p, &[spec("a", Type::Int)], &ReadOptions::default());
        assert_eq!(e.line, 6);
        assert_eq!(e.message, "the record has 1 field, but the header has 2");
        // Extra fields too; the row as parsed is the offending text.
        let p = d.file("x.csv", "a;b\n1;2\n3;4;5\n6;7\n");
        let opts = ReadOptions {
            delimiter: b';',
            ..Default::default()
        };
        let l = read_table("t", &p, &[spec("a", Type::Int)], &opts).unwrap();
        assert_eq!(ints(&l.table, "a"), [Some(1), Some(6)]);
        let e = &l.rejects[0];
        assert_eq!(
            (e.line, e.message.as_str(), e.text.as_str()),
            (3, "the record has 3 fields, but the header has 2", "3;4;5")
        );
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
        assert_eq!(
            e.hint.as_deref(),
            Some("did you mean `asignee`? map it with `agent_id = \"asignee\"` under [tables.tickets.columns]")
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{}:1: column `assignee`: not found (mapped to `agent_id`); the header has: id, created_at, asignee, Channel\n  hint: did you mean `asignee`? map it with `agent_id = \"asignee\"` under [tables.tickets.columns]",
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
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean `Channel`? ")),
            "{e}"
        );
        let e = read_table(
            "tickets",
            &p,
            &[spec("priority", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.hint, None);
        // A header that is one field holding another delimiter.
        let p = d.file("semi.csv", "id;created_at\n1;2026-03-01\n");
        let e = read_table("t", &p, &[spec("id", Type::Int)], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.hint.as_deref(),
            Some("the header is one field holding `;`: declare `delimiter = \";\"` for this table")
        );
    }

    #[test]
    fn header_only_gives_empty_table() {
        let d = TempDir::new("hdr");
        let p = d.file("t.csv", "id,name\n");
        let t = load(
            "t",
            &p,
            &[spec("id", Type::Int), spec("name", Type::String)],
            &ReadOptions::default(),
        );
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
        let t = load("events", &p, &specs, &opts);
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
        let t = load("n", &p, &[spec("n", Type::Int)], &ReadOptions::default());
        assert_eq!(ints(&t, "n"), [Some(1), Some(2), None]);
    }

    #[test]
    fn jsonl_errors() {
        let d = TempDir::new("jsonlerr");
        let read = |content: &str, ty: Type| {
            let p = d.file("e.jsonl", content);
            rejected(&p, &[spec("v", ty)], &ReadOptions::default())
        };
        let e = read("{\"v\": 1}\n{\"v\": 2.5}\n", Type::Int);
        assert_eq!(
            (e.line, e.column.as_deref(), e.message.as_str()),
            (2, Some("v"), "expected an int, found 2.5")
        );
        let e = read("{\"v\": 1}\n\n{\"v\": \"x\"}\n", Type::Int);
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, r#"expected an int, found "x""#)
        );
        let e = read("{\"v\": 1}\n[1]\n", Type::Int);
        assert_eq!(
            (e.line, e.column.as_deref(), e.message.as_str()),
            (2, None, "expected a JSON object, found an array")
        );
        assert_eq!((e.kind, e.text.as_str()), (RejectKind::InvalidJson, "[1]"));
        let e = read("{\"v\": 1,}\n", Type::Int);
        assert_eq!((e.line, e.kind), (1, RejectKind::InvalidJson));
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
        assert_eq!(e.text, r#"{"a":1}"#);
        // A required key that is missing, null, or a null token.
        let required = [ColumnSpec {
            nullable: false,
            ..spec("v", Type::Int)
        }];
        let p = d.file("r.jsonl", "{\"v\": 1}\n{}\n{\"v\": null}\n{\"v\": \"\"}\n");
        let l = read_table("r", &p, &required, &ReadOptions::default()).unwrap();
        let got: Vec<(u64, RejectKind)> = l.rejects.iter().map(|r| (r.line, r.kind)).collect();
        assert_eq!(
            got,
            [
                (2, RejectKind::MissingValue),
                (3, RejectKind::MissingValue),
                (4, RejectKind::MissingValue)
            ]
        );
        assert_eq!(ints(&l.table, "v"), [Some(1)]);
    }

    #[test]
    fn every_row_is_accounted_for_and_rejected_rows_leave_no_trace() {
        let d = TempDir::new("account");
        // 7 records: line 3 bad int, line 4 empty required `at`, line 5
        // ragged, line 7 bad int *and* empty `at` (one reject, at its first
        // problem from the left: `at`); 3 accepted.
        let p = d.file(
            "t.csv",
            "id,at,n\n\
             a,2026-01-01,1\n\
             b,2026-01-02,x\n\
             c,,2\n\
             d,2026-01-04\n\
             e,2026-01-05,\n\
             f,,y\n\
             g,2026-01-07,7\n",
        );
        let specs = [
            spec("n", Type::Int),
            ColumnSpec {
                nullable: false,
                ..spec("at", Type::Timestamp)
            },
            spec("id", Type::String),
        ];
        let l = read_table("t", &p, &specs, &ReadOptions::default()).unwrap();
        assert_eq!(
            l.account,
            FileAccount {
                path: p.clone(),
                table: "t".into(),
                read: 7,
                accepted: 3,
                rejected: 4
            }
        );
        let got: Vec<(u64, Option<&str>, RejectKind, &str)> = l
            .rejects
            .iter()
            .map(|r| (r.line, r.column.as_deref(), r.kind, r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, Some("n"), RejectKind::InvalidValue, "x"),
                (4, Some("at"), RejectKind::MissingValue, ""),
                (5, None, RejectKind::FieldCount, "d,2026-01-04"),
                (7, Some("at"), RejectKind::MissingValue, ""),
            ]
        );
        assert_eq!(
            l.rejects[1].to_string(),
            format!(
                "{}:4: column `at`: a value is required here (the column is not nullable)",
                p.display()
            )
        );
        // Every column holds the accepted rows only, aligned.
        let t = &l.table;
        assert_eq!(t.len, 3);
        assert_eq!(
            strs(t, "id"),
            [Some("a".into()), Some("e".into()), Some("g".into())]
        );
        assert_eq!(ints(t, "n"), [Some(1), None, Some(7)]);
        let Data::Str(ids) = &t.columns["id"].data else {
            unreachable!()
        };
        assert_eq!(ids.dict.len(), 3, "no string of a rejected row is kept");
        assert_eq!(
            describe_rejects(&l.rejects, 2),
            format!("  {}\n  {}\n  … and 2 more\n", l.rejects[0], l.rejects[1])
        );
    }

    #[test]
    fn invalid_utf8_is_a_reject_and_long_texts_are_clipped() {
        let d = TempDir::new("utf8");
        let p = d.0.join("t.csv");
        std::fs::write(&p, b"id,name\n1,ok\n2,caf\xe9\n3,\xff\n").unwrap();
        let l = read_table(
            "t",
            &p,
            &[spec("id", Type::Int), spec("name", Type::String)],
            &ReadOptions::default(),
        )
        .unwrap();
        let got: Vec<(u64, RejectKind, &str)> = l
            .rejects
            .iter()
            .map(|r| (r.line, r.kind, r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, RejectKind::InvalidUtf8, "caf\u{fffd}"),
                (4, RejectKind::InvalidUtf8, "\u{fffd}")
            ]
        );
        // An invalid line of JSON Lines; a long offending text is clipped.
        let p = d.0.join("t.jsonl");
        let long = "9".repeat(5000);
        let mut bytes = b"{\"n\": 1}\n{\"n\": \"\xff\"}\n".to_vec();
        bytes.extend(format!("{{\"n\": \"{long}x\"}}\n").as_bytes());
        std::fs::write(&p, bytes).unwrap();
        let l = read_table("t", &p, &[spec("n", Type::Int)], &ReadOptions::default()).unwrap();
        assert_eq!(
            (l.account.read, l.account.accepted, l.account.rejected),
            (3, 1, 2)
        );
        assert_eq!(
            (l.rejects[0].line, l.rejects[0].kind),
            (2, RejectKind::InvalidUtf8)
        );
        let r = &l.rejects[1];
        assert_eq!((r.line, r.kind), (3, RejectKind::InvalidValue));
        assert_eq!(r.text.len(), Reject::MAX_TEXT + "…".len());
        assert!(r.message.len() < 200, "{}", r.message);
    }

    #[test]
    fn empty_and_blank_files_have_no_header() {
        let d = TempDir::new("empty");
        let specs = [spec("id", Type::Int), spec("at", Type::Timestamp)];
        let p = d.file("empty.csv", "");
        let e = read_table("t", &p, &specs, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.message, "the file is empty (0 bytes): no header");
        assert_eq!(
            e.hint.as_deref(),
            Some("a CSV source starts with a header line naming its columns; this table needs id, at")
        );
        let p = d.file("blank.csv", "\n\r\n\n");
        let e = read_table("t", &p, &specs, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.message, "no header: the file has only blank lines");
        // JSON Lines have no header: an empty file is no rows.
        let p = d.file("empty.jsonl", "");
        let l = read_table("t", &p, &specs, &ReadOptions::default()).unwrap();
        assert_eq!((l.table.len, l.account.read), (0, 0));
    }

    #[test]
    fn a_record_longer_than_the_limit_stops_reading() {
        let d = TempDir::new("giant");
        let opts = ReadOptions {
            max_record_bytes: 1000,
            ..Default::default()
        };
        let specs = [spec("id", Type::Int), spec("s", Type::String)];
        // Records up to the limit are fine, however many.
        let ok = format!("id,s\n{}", format!("1,{}\n", "x".repeat(990)).repeat(50));
        let p = d.file("ok.csv", &ok);
        assert_eq!(load("t", &p, &specs, &opts).len, 50);
        // A line of 100 kB without a line break, after two good lines.
        let p = d.file(
            "giant.csv",
            &format!("id,s\r\n1,a\r\n2,{}", "y".repeat(100_000)),
        );
        let e = read_table("t", &p, &specs, &opts).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.message,
            "a record longer than 1000 bytes: reading stopped"
        );
        // Longer than the splitter's buffer may grow: it is refused more
        // bytes, and csv-core finds the same.
        let p = d.file(
            "huge.csv",
            &format!("id,s\r\n1,a\r\n2,{}", "y".repeat(CHUNK + 5000)),
        );
        let e = read_table("t", &p, &specs, &opts).unwrap_err();
        assert_eq!(e.line, Some(3));
        // A quote left open swallows the rest of the file into one record.
        let rest = "3,b\n".repeat(1000);
        let p = d.file("open.csv", &format!("id,s\n1,a\n2,\"oops\n{rest}"));
        let e = read_table("t", &p, &specs, &opts).unwrap_err();
        assert_eq!(e.line, Some(3));
        // The header counts too.
        let p = d.file("header.csv", &"h".repeat(5000));
        let e = read_table("t", &p, &specs, &opts).unwrap_err();
        assert_eq!(e.line, Some(1));
        // JSON Lines: a line over the limit; one exactly at it is fine.
        let at_limit = format!("{{\"id\": 1, \"s\": \"{}\"}}", "z".repeat(1000 - 18));
        assert_eq!(at_limit.len(), 1000);
        let p = d.file("ok.jsonl", &format!("{at_limit}\n{at_limit}"));
        assert_eq!(load("t", &p, &specs, &opts).len, 2);
        let p = d.file("giant.jsonl", &format!("{at_limit}\n{at_limit}z"));
        let e = read_table("t", &p, &specs, &opts).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(2), "a line longer than 1000 bytes: reading stopped")
        );
        assert_eq!(
            bytes_text(MAX_RECORD_BYTES as u64),
            "16 MiB (16777216 bytes)"
        );
    }

    #[test]
    fn unsupported_extension_and_type() {
        let d = TempDir::new("ext");
        let p = d.file("t.xlsx", "");
        let e = read_table("t", &p, &[], &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.message,
            "unsupported file type (`.xlsx`); expected .csv, .tsv, .jsonl, .ndjson or .parquet"
        );
        let p = d.file("t.csv", "a\n1\n");
        let e = read_table("t", &p, &[spec("a", Type::Null)], &ReadOptions::default()).unwrap_err();
        assert_eq!(e.message, "cannot read a column of type null from a file");
        let e = read_table("t", &d.0.join("nope.csv"), &[], &ReadOptions::default()).unwrap_err();
        assert!(e.message.starts_with("cannot open file: "), "{}", e.message);
        assert_eq!(e.line, None);
    }

    /// The first byte at or after `start` that is not part of a line
    /// terminator: where [`Lines`] takes a record starting at `start` to
    /// start. (The splitter gives a record's start after its CRLF
    /// terminator, csv-core between its CR and LF.)
    fn first_byte(text: &[u8], start: u64) -> u64 {
        let skip = text[start as usize..]
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        start + skip as u64
    }

    /// Records as (first byte, fields).
    type Split = Vec<(u64, Vec<Vec<u8>>)>;

    /// Every record of `text` as `Records` splits it, read `chunk` bytes at
    /// a time, (first byte, fields), and whether the splitter read them all
    /// (csv-core did not take over).
    fn records(text: &[u8], chunk: usize) -> (Split, bool) {
        let mut records = Records::new(Cursor::new(text), b',', usize::MAX, chunk);
        let mut out = vec![];
        while let Some(rec) = records.next().map_err(|_| "io").unwrap() {
            out.push((
                first_byte(text, rec.start),
                rec.iter().map(Cow::into_owned).collect(),
            ));
        }
        (out, records.core.is_none())
    }

    /// The same records as the csv crate's reader gives them.
    fn csv_crate_records(text: &[u8]) -> Split {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        let mut rec = csv::ByteRecord::new();
        let mut out = vec![];
        while r.read_byte_record(&mut rec).unwrap() {
            let pos = rec.position().unwrap();
            out.push((
                first_byte(text, pos.byte()),
                rec.iter().map(<[u8]>::to_vec).collect(),
            ));
        }
        out
    }

    proptest::proptest! {
        /// Records, their fields and where they start do not depend on
        /// how the file is cut into reads, and agree with the csv crate
        /// (quotes, doubled quotes, line breaks in quotes, CR, CRLF, blank
        /// lines, a BOM, multi-byte characters), whether the splitter
        /// reads them or hands over to csv-core (a quote inside an unquoted
        /// field, text after a closing quote, a quote left open at the
        /// end, a lone CR ending a line).
        #[test]
        fn records_agree_with_the_csv_crate(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "bc", ",", "\"", "\"\"", "\n", "\r", "\r\n", " ", "é", "\u{feff}", "12",
                ]),
                0..40,
            ),
            bom in proptest::bool::ANY,
            chunk in 1usize..9,
        ) {
            let text = format!("{}{}", if bom { "\u{feff}" } else { "" }, parts.concat());
            let want = csv_crate_records(text.as_bytes());
            proptest::prop_assert_eq!(&records(text.as_bytes(), CHUNK).0, &want);
            // Neither recognises a BOM split between reads.
            if !text.starts_with('\u{feff}') || chunk >= 4 {
                proptest::prop_assert_eq!(&records(text.as_bytes(), chunk).0, &want);
            }
        }

        /// Well-formed CSV — fields unquoted or quoted whole (delimiters,
        /// doubled quotes, line breaks and CRs inside), LF or CRLF line
        /// ends, blank lines, the last line end left out or not — is read
        /// by the splitter alone, as the csv crate reads it.
        #[test]
        fn well_formed_records_stay_with_the_splitter(
            lines in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::sample::select(vec![
                            "", "a", "bc", "é", " ", "12", "\"\"", "\"a,b\"", "\"x\"\"y\"",
                            "\"l\r\nm\"", "\"\n\"", "\"\"\"\"", "\"\r\"",
                        ]),
                        1..5,
                    ),
                    proptest::sample::select(vec!["\n", "\r\n", "\n\n", "\r\n\r\n", "\n\r\n"]),
                ),
                0..8,
            ),
            last_end in proptest::bool::ANY,
            bom in proptest::bool::ANY,
            chunk in 4usize..12,
        ) {
            let mut text = String::from(if bom { "\u{feff}" } else { "" });
            for (i, (fields, end)) in lines.iter().enumerate() {
                text.push_str(&fields.join(","));
                if last_end || i + 1 < lines.len() {
                    text.push_str(end);
                }
            }
            let want = csv_crate_records(text.as_bytes());
            for chunk in [chunk, CHUNK] {
                let (got, split) = records(text.as_bytes(), chunk);
                proptest::prop_assert_eq!(&got, &want);
                proptest::prop_assert!(split, "csv-core took over {:?}", text);
            }
        }
    }

    /// What the splitter would cut otherwise is read as csv-core reads it:
    /// csv-core reads the file again from its start, and reads on.
    #[test]
    fn csv_core_takes_over_from_the_splitter() {
        let d = TempDir::new("takeover");
        let specs = [spec("id", Type::Int), spec("s", Type::String)];
        let opts = ReadOptions {
            max_record_bytes: 1000,
            ..Default::default()
        };
        // A quote inside an unquoted field; the splitter would read the
        // rest of the file (longer than the limit) as one quoted field.
        let rest: String = (2..500).map(|i| format!("{i},b\n")).collect();
        let p = d.file("stray.csv", &format!("id,s\n1,jo\"hn\n{rest}"));
        let l = read_table("t", &p, &specs, &opts).unwrap();
        assert_eq!(l.account.read, 499);
        assert_eq!(
            strs(&l.table, "s")[..2],
            [Some("jo\"hn".into()), Some("b".into())]
        );
        assert_eq!(ints(&l.table, "id")[498], Some(499));
        // Text after a closing quote; lines ended by a lone CR.
        let p = d.file("after.csv", "id,s\n1,\"ab\"c\n2,x\r3,y\r");
        let l = read_table("t", &p, &specs, &opts).unwrap();
        assert_eq!(
            strs(&l.table, "s"),
            [Some("abc".into()), Some("x".into()), Some("y".into())]
        );
        // A bad row after the hand-over is still named by its line.
        let p = d.file("late.csv", "id,s\n1,a\r2,b\n\n3,\"c\nd\"\nx,e\n");
        let e = rejected(&p, &specs, &opts);
        assert_eq!((e.line, e.column.as_deref()), (6, Some("id")));
        // The records the splitter gave are not given again.
        let text = b"a,b\n1,2\n3,\"4\"5\n6,7\n";
        let (got, split) = records(text, CHUNK);
        assert!(!split);
        assert_eq!(got, csv_crate_records(text));
        assert_eq!(got.len(), 4);
    }

    /// `push_field` (bytes, fast paths) appends and rejects exactly as the
    /// text path it shortcuts (`from_utf8`, then `push_text`), for every
    /// column type, with and without nulls allowed, under several null
    /// token lists.
    #[test]
    fn plain_fields_read_as_their_text_does() {
        let mut fields: Vec<Vec<u8>> = [
            "",
            " ",
            "0",
            "7",
            "-3",
            "+3",
            "-",
            "+",
            "--1",
            "1-",
            "12.0",
            "1e3",
            " 42",
            "42 ",
            "\t42",
            "999999999999999999",
            "-999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "0012",
            "NA",
            "null",
            "NULL",
            "x",
            "true",
            "false",
            "TRUE",
            "no",
            "1h30m",
            "90",
            "ab c",
            "é",
            "2026-03-08",
            "2026-03-08 02:30",
            "2026-03-08 02:30:00",
            "2026-11-01 01:30:00",
            "2026-01-01T00:04:59-05:00",
            "2026-01-01T00:04:59Z",
            "2026-01-01 00:04:59.123456",
            "2026-02-30 10:00:00",
            "2026-01-01 24:00:00",
            "2026-01-01 10:00:60",
            " 2026-01-01 10:00:00",
            "2026-01-01 10:00:00 ",
            "2026/01/01",
            "2026-1-1",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        fields.push(b"\xff12".to_vec());
        fields.push(b"12\xc3".to_vec());
        fields.push(
            "2026-01-01 10:00:00"
                .as_bytes()
                .iter()
                .chain(b"\x80")
                .copied()
                .collect(),
        );
        let tokens: [&[&str]; 3] = [&[""], &["", "NA"], &["NULL", " 42"]];
        let tz: Tz = "America/New_York".parse().unwrap();
        for ty in [
            Type::Int,
            Type::Float,
            Type::Bool,
            Type::String,
            Type::Timestamp,
            Type::Duration,
        ] {
            for tokens in tokens {
                let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
                let nulls = Nulls::new(&tokens);
                for nullable in [true, false] {
                    let mut fast = ColBuilder::new(&ty, tz).unwrap();
                    let mut slow = ColBuilder::new(&ty, tz).unwrap();
                    for f in &fields {
                        let want = match std::str::from_utf8(f) {
                            Ok(text) => slow
                                .push_text(text, &nulls, nullable)
                                .map_err(|(kind, m)| (kind, m, text.to_string())),
                            Err(_) => Err((
                                RejectKind::InvalidUtf8,
                                "invalid UTF-8; the file must be UTF-8".to_string(),
                                String::from_utf8_lossy(f).into_owned(),
                            )),
                        };
                        let got = fast.push_field(f, &nulls, nullable);
                        assert_eq!(got, want, "{ty} {tokens:?} {nullable} {f:?}");
                    }
                    assert_eq!(
                        format!("{:?}", fast.finish()),
                        format!("{:?}", slow.finish()),
                        "{ty} {tokens:?} {nullable}"
                    );
                }
            }
        }
    }
}
