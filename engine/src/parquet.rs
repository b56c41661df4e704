//! Reader from Apache Parquet files into columnar [`Table`]s, next to the
//! CSV and JSON Lines readers of [`crate::read`] and with the same contract:
//! only the declared columns ([`ColumnSpec`]) are read (projection: the
//! other column chunks are never decoded), row group by row group, and
//! every row is accounted for — rows read = rows accepted + rows rejected.
//!
//! Types, file → declared:
//!
//! | declared  | Parquet column |
//! |-----------|----------------|
//! | int       | INT32, INT64 |
//! | float     | FLOAT, DOUBLE, INT32, INT64 |
//! | bool      | BOOLEAN |
//! | string    | BYTE_ARRAY (UTF-8), INT32, INT64, BOOLEAN (as their text) |
//! | timestamp | INT64 TIMESTAMP(MILLIS/MICROS/NANOS), INT32 DATE, BYTE_ARRAY text |
//! | duration  | INT32, INT64 or DOUBLE seconds, BYTE_ARRAY text (`1h30m`, `90`, …) |
//!
//! A TIMESTAMP with `isAdjustedToUTC = true` is an instant; with `false` it
//! is a wall time in the project zone, resolved like a naive CSV timestamp
//! ([`crate::time`]: an ambiguous time is its first occurrence, a time in
//! a spring-forward gap is shifted forward by the gap). A DATE is the first
//! instant of that local day. Text is parsed exactly like a CSV field.
//!
//! Nulls are Parquet nulls; the table's null tokens also apply to string
//! values (as in JSON Lines), so a file written from CSV text reads the same.
//! A row is rejected — left out and recorded as a [`Reject`] whose `line`
//! is the 1-based row number in the file — when a required column is null,
//! a value does not convert (text that does not parse, a timestamp out of
//! range, a non-finite float, bytes that are not UTF-8), at its first
//! problem from the left. A missing column, a column of a type that cannot
//! be read as the declared one, a nested column, or a file that is not
//! readable Parquet is a [`ReadError`].

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate};
use indexmap::IndexMap;
use kpi_dsl::Type;
use parquet::basic::{ConvertedType, Encoding, LogicalType, TimeUnit, Type as Physical};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, Int32Type};
use parquet::errors::ParquetError;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::schema::types::{ColumnDescPtr, ColumnDescriptor, Type as Schema};

use crate::column::{Column, Data, Dict, Following, StrBuilder, MICROS};
use crate::read::{
    clip_text, did_you_mean, ColumnSpec, Loaded, ParentKey, ReadError, ReadOptions, Reject,
    RejectKind,
};
use crate::time::{local_date_start, parse_duration, parse_timestamp, resolve_local};

/// Reads the columns `specs` of the Parquet file at `path` into a table
/// called `name` (see the module documentation).
pub(crate) fn read_parquet(
    name: &str,
    path: &Path,
    text: Option<&str>,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Loaded, ReadError> {
    if text.is_some() {
        return Err(file_error(
            path,
            "Parquet is a binary format: it is read from a file, not from inline rows".into(),
        ));
    }
    // The parquet crate reports malformed data as errors, but a reader of
    // untrusted bytes must not take the process down if one slips through.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_file(name, path, specs, opts)
    }))
    .unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        Err(file_error(
            path,
            format!("cannot read the Parquet data (the file is likely corrupt): {what}"),
        ))
    })
}

fn file_error(path: &Path, message: String) -> ReadError {
    ReadError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        message,
        hint: None,
    }
}

/// A time unit of a Parquet TIMESTAMP.
#[derive(Clone, Copy, Debug)]
enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn to_micros(self, v: i64) -> Option<i64> {
        match self {
            Unit::Millis => v.checked_mul(1000),
            Unit::Micros => Some(v),
            // Truncated to microseconds, towards the past (like a text
            // timestamp's extra fraction digits).
            Unit::Nanos => Some(v.div_euclid(1000)),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::Micros => "µs",
            Unit::Nanos => "ns",
        }
    }
}

/// How a file column becomes a declared one.
#[derive(Clone, Copy, Debug)]
enum Conv {
    /// INT32/INT64 → int.
    Int,
    /// INT32/INT64/FLOAT/DOUBLE → float.
    Float,
    /// BOOLEAN → bool.
    Bool,
    /// BYTE_ARRAY → string.
    Str,
    /// INT32/INT64/BOOLEAN → string: the value's text.
    TextOf,
    /// INT64 TIMESTAMP, adjusted to UTC → timestamp.
    Instant(Unit),
    /// INT64 TIMESTAMP, not adjusted to UTC: a wall time in the project zone.
    Local(Unit),
    /// INT32 DATE → the first instant of that local day.
    Date,
    /// BYTE_ARRAY → timestamp, parsed as text.
    ParseTimestamp,
    /// INT32/INT64 seconds → duration.
    Seconds,
    /// FLOAT/DOUBLE seconds → duration.
    FloatSeconds,
    /// BYTE_ARRAY → duration, parsed as text.
    ParseDuration,
}

/// What a column of the file holds, for messages: `INT64 TIMESTAMP(µs, UTC)`.
fn describe(d: &ColumnDescriptor) -> String {
    let logical = match d.logical_type_ref() {
        Some(LogicalType::Timestamp(t)) => {
            let unit = match t.unit {
                TimeUnit::MILLIS => "ms",
                TimeUnit::MICROS => "µs",
                TimeUnit::NANOS => "ns",
            };
            let zone = if t.is_adjusted_to_u_t_c {
                "UTC"
            } else {
                "local"
            };
            format!(" TIMESTAMP({unit}, {zone})")
        }
        Some(LogicalType::Decimal(dt)) => format!(" DECIMAL({},{})", dt.precision, dt.scale),
        Some(l) => format!(" {l:?}").to_uppercase(),
        None if d.converted_type() != ConvertedType::NONE => format!(" {}", d.converted_type()),
        None => String::new(),
    };
    format!("{}{logical}", d.physical_type())
}

/// The conversion from the file column `d` to the declared type `ty`, if
/// there is one.
fn conversion(d: &ColumnDescriptor, ty: &Type) -> Option<Conv> {
    let physical = d.physical_type();
    let logical = d.logical_type_ref();
    let converted = d.converted_type();
    let timestamp = match logical {
        Some(LogicalType::Timestamp(t)) => Some((
            match t.unit {
                TimeUnit::MILLIS => Unit::Millis,
                TimeUnit::MICROS => Unit::Micros,
                TimeUnit::NANOS => Unit::Nanos,
            },
            t.is_adjusted_to_u_t_c,
        )),
        // Legacy annotations, which mean instants.
        None if converted == ConvertedType::TIMESTAMP_MILLIS => Some((Unit::Millis, true)),
        None if converted == ConvertedType::TIMESTAMP_MICROS => Some((Unit::Micros, true)),
        _ => None,
    };
    let date = matches!(logical, Some(LogicalType::Date)) || converted == ConvertedType::DATE;
    // A plain integer: no logical type, or INTEGER.
    let plain_int = matches!(physical, Physical::INT32 | Physical::INT64)
        && matches!(logical, None | Some(LogicalType::Integer(_)))
        && matches!(
            converted,
            ConvertedType::NONE
                | ConvertedType::INT_8
                | ConvertedType::INT_16
                | ConvertedType::INT_32
                | ConvertedType::INT_64
                | ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32
        );
    let float = matches!(physical, Physical::FLOAT | Physical::DOUBLE);
    // Text: BYTE_ARRAY without a logical type, or STRING / ENUM / JSON.
    let text = physical == Physical::BYTE_ARRAY
        && matches!(
            logical,
            None | Some(LogicalType::String | LogicalType::Enum | LogicalType::Json)
        )
        && matches!(
            converted,
            ConvertedType::NONE | ConvertedType::UTF8 | ConvertedType::ENUM | ConvertedType::JSON
        );
    Some(match ty {
        Type::Int if plain_int => Conv::Int,
        Type::Float if plain_int || float => Conv::Float,
        Type::Bool if physical == Physical::BOOLEAN => Conv::Bool,
        Type::String if text => Conv::Str,
        Type::String if plain_int || physical == Physical::BOOLEAN => Conv::TextOf,
        Type::Timestamp => match timestamp {
            Some((unit, true)) if physical == Physical::INT64 => Conv::Instant(unit),
            Some((unit, false)) if physical == Physical::INT64 => Conv::Local(unit),
            None if date && physical == Physical::INT32 => Conv::Date,
            None if text => Conv::ParseTimestamp,
            _ => return None,
        },
        Type::Duration if plain_int => Conv::Seconds,
        Type::Duration if float => Conv::FloatSeconds,
        Type::Duration if text => Conv::ParseDuration,
        _ => return None,
    })
}

/// Values of one column chunk as decoded: the non-null values, in order.
enum Raw {
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    Bytes(Vec<ByteArray>),
    /// A BYTE_ARRAY chunk read by [`TextPages`]: its texts, and each
    /// non-null value's index among them.
    Texts(Texts, Vec<i32>),
}

/// The texts of a BYTE_ARRAY chunk as [`TextPages`] reads it, back to back:
/// the entries of its dictionary, then its plain-encoded values (a value
/// equal to the one before it is not stored again).
#[derive(Default)]
struct Texts {
    bytes: Vec<u8>,
    /// End of text `i` in `bytes`; it starts where `i - 1` ends.
    ends: Vec<usize>,
}

impl Texts {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }

    /// The byte range of text `i`.
    fn range(&self, i: usize) -> std::ops::Range<usize> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Appends the PLAIN-encoded byte arrays that fill `buf` (each a 4-byte
    /// little-endian length, then its bytes). With `indices`, a value equal
    /// to the last text is not stored again, and each value's index among
    /// the texts is written to `indices` as a little-endian INT32. Returns
    /// the number of values.
    fn push_plain(
        &mut self,
        mut buf: &[u8],
        mut indices: Option<&mut Vec<u8>>,
    ) -> Result<usize, ParquetError> {
        let mut n = 0;
        // The previous value of this page and its index.
        let mut prev: Option<(&[u8], usize)> = None;
        while !buf.is_empty() {
            let value = buf
                .split_first_chunk::<4>()
                .and_then(|(len, rest)| rest.split_at_checked(u32::from_le_bytes(*len) as usize));
            let Some((value, rest)) = value else {
                return Err(ParquetError::General(
                    "a plain-encoded byte array runs past the end of its page".into(),
                ));
            };
            buf = rest;
            n += 1;
            let Some(indices) = indices.as_deref_mut() else {
                self.push(value);
                continue;
            };
            // Equal to the last text: the value before it in this page,
            // or (for the page's first value) the last text stored.
            let last = match prev {
                Some((p, i)) => same_bytes(p, value).then_some(i),
                None => self
                    .len()
                    .checked_sub(1)
                    .filter(|&last| self.bytes[self.range(last)] == *value),
            };
            let i = match last {
                Some(i) => i,
                None => {
                    self.push(value);
                    self.len() - 1
                }
            };
            prev = Some((value, i));
            let i = i32::try_from(i).map_err(|_| {
                ParquetError::General("more than 2^31 texts in one column chunk".into())
            })?;
            indices.extend_from_slice(&i.to_le_bytes());
        }
        Ok(n)
    }

    fn push(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
        self.ends.push(self.bytes.len());
    }
}

/// Whether `a` and `b` hold the same bytes: for values of at most 16 bytes
/// (ids, dimension values) by a few overlapping loads, not a call to
/// `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let half = |x: &[u8], i: usize| u32::from_le_bytes(x[i..i + 4].try_into().expect("four bytes"));
    let word =
        |x: &[u8], i: usize| u64::from_le_bytes(x[i..i + 8].try_into().expect("eight bytes"));
    match n {
        0 => true,
        // First, middle and last byte: every byte of up to three.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        9..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// The column descriptor for reading a BYTE_ARRAY chunk as text indices
/// ([`TextPages`]): INT32, with the column's levels.
fn indices_column(d: &ColumnDescriptor) -> Result<ColumnDescPtr, ParquetError> {
    let t = Schema::primitive_type_builder(d.name(), Physical::INT32)
        .with_repetition(d.self_type().get_basic_info().repetition())
        .build()?;
    Ok(Arc::new(ColumnDescriptor::new(
        Arc::new(t),
        d.max_def_level(),
        d.max_rep_level(),
        d.path().clone(),
    )))
}

/// Whether every data page of the chunk is PLAIN or dictionary-encoded
/// (the pages [`TextPages`] reads), by the chunk's list of encodings (which
/// names the encodings of its levels too).
fn plain_or_dictionary(c: &ColumnChunkMetaData) -> bool {
    #[allow(deprecated)] // BIT_PACKED: the legacy encoding of levels
    c.encodings().all(|e| {
        matches!(
            e,
            Encoding::PLAIN
                | Encoding::PLAIN_DICTIONARY
                | Encoding::RLE_DICTIONARY
                | Encoding::RLE
                | Encoding::BIT_PACKED
        )
    })
}

/// The pages of a BYTE_ARRAY chunk, for an INT32 column reader whose values
/// are then indices among the chunk's [`Texts`]: the dictionary page's
/// entries become the first texts and the page is replaced by the INT32
/// dictionary 0, 1, 2, …; a PLAIN data page's values become texts too, and
/// the page's values are replaced by their indices. The parquet crate still
/// decodes the levels and the dictionary indices, but a text is one slice
/// of one buffer, not a `ByteArray` (a reference count) per value, and a
/// dictionary entry or a repeated plain value is converted once.
struct TextPages {
    pages: Box<dyn PageReader>,
    /// The column's maximum definition level (its repetition level is 0).
    max_def: i16,
    texts: Arc<Mutex<Texts>>,
}

impl TextPages {
    /// A PLAIN data page's buffer with its values replaced by their
    /// indices among the texts; `levels` is the length of its levels.
    fn plain(&self, buf: &[u8], levels: usize) -> Result<Vec<u8>, ParquetError> {
        let Some((levels, values)) = buf.split_at_checked(levels) else {
            return Err(ParquetError::General(
                "a data page's levels run past its end".into(),
            ));
        };
        let mut out = Vec::with_capacity(levels.len() + values.len());
        out.extend_from_slice(levels);
        let mut texts = self.texts.lock().expect("not poisoned");
        texts.push_plain(values, Some(&mut out))?;
        Ok(out)
    }
}

impl PageReader for TextPages {
    fn get_next_page(&mut self) -> Result<Option<Page>, ParquetError> {
        let page = self.pages.get_next_page()?;
        Ok(match page {
            Some(Page::DictionaryPage {
                buf,
                num_values,
                encoding,
                is_sorted,
            }) => {
                if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                    return Err(ParquetError::General(format!(
                        "unsupported encoding for a dictionary: {encoding}"
                    )));
                }
                let mut texts = self.texts.lock().expect("not poisoned");
                if texts.len() > 0 {
                    return Err(ParquetError::General(
                        "a dictionary page after the first page of a column chunk".into(),
                    ));
                }
                let n = texts.push_plain(&buf, None)?;
                if n != num_values as usize {
                    return Err(ParquetError::General(format!(
                        "a dictionary page of {n} values whose header says {num_values}"
                    )));
                }
                let identity: Vec<u8> = (0..num_values as i32).flat_map(i32::to_le_bytes).collect();
                Some(Page::DictionaryPage {
                    buf: identity.into(),
                    num_values,
                    encoding: Encoding::PLAIN,
                    is_sorted,
                })
            }
            Some(Page::DataPage {
                buf,
                num_values,
                encoding: Encoding::PLAIN,
                def_level_encoding,
                rep_level_encoding,
                statistics,
            }) => {
                let levels = v1_levels_len(self.max_def, def_level_encoding, num_values, &buf)?;
                Some(Page::DataPage {
                    buf: self.plain(&buf, levels)?.into(),
                    num_values,
                    encoding: Encoding::PLAIN,
                    def_level_encoding,
                    rep_level_encoding,
                    statistics,
                })
            }
            Some(Page::DataPageV2 {
                buf,
                num_values,
                encoding: Encoding::PLAIN,
                num_nulls,
                num_rows,
                def_levels_byte_len,
                rep_levels_byte_len,
                is_compressed: _,
                statistics,
            }) => {
                let levels = def_levels_byte_len as usize + rep_levels_byte_len as usize;
                Some(Page::DataPageV2 {
                    buf: self.plain(&buf, levels)?.into(),
                    num_values,
                    encoding: Encoding::PLAIN,
                    num_nulls,
                    num_rows,
                    def_levels_byte_len,
                    rep_levels_byte_len,
                    // Its values were decompressed by the page reader.
                    is_compressed: false,
                    statistics,
                })
            }
            Some(Page::DataPage { encoding, .. } | Page::DataPageV2 { encoding, .. })
                if !matches!(
                    encoding,
                    Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY
                ) =>
            {
                return Err(ParquetError::General(format!(
                    "a {encoding} data page in a chunk whose metadata lists no such encoding"
                )))
            }
            page => page,
        })
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>, ParquetError> {
        self.pages.peek_next_page()
    }

    fn skip_next_page(&mut self) -> Result<(), ParquetError> {
        self.pages.skip_next_page()
    }

    fn at_record_boundary(&mut self) -> Result<bool, ParquetError> {
        self.pages.at_record_boundary()
    }
}

impl Iterator for TextPages {
    type Item = Result<Page, ParquetError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

/// The length of the definition levels at the start of a V1 data page of
/// `num_values` levels (as the parquet crate's column reader reads them).
fn v1_levels_len(
    max_def: i16,
    encoding: Encoding,
    num_values: u32,
    buf: &[u8],
) -> Result<usize, ParquetError> {
    let len = match encoding {
        _ if max_def == 0 => return Ok(0),
        Encoding::RLE => buf
            .first_chunk::<4>()
            .map(|n| 4 + u32::from_le_bytes(*n) as usize),
        #[allow(deprecated)] // the legacy encoding of levels
        Encoding::BIT_PACKED => {
            let bits = 16 - max_def.leading_zeros() as usize;
            Some((num_values as usize * bits).div_ceil(8))
        }
        e => {
            return Err(ParquetError::General(format!(
                "invalid level encoding: {e}"
            )))
        }
    };
    len.filter(|&n| n <= buf.len())
        .ok_or_else(|| ParquetError::General("not enough data to read levels".into()))
}

/// Reads `rows` records of a flat column: the non-null values into
/// `values`, the definition levels into `defs` when the column is optional.
fn read_rows<T: DataType>(
    r: &mut ColumnReaderImpl<T>,
    rows: usize,
    optional: bool,
    values: &mut Vec<T::T>,
    defs: &mut Vec<i16>,
) -> Result<(), ParquetError> {
    values.clear();
    defs.clear();
    let mut got = 0;
    while got < rows {
        let levels = if optional { Some(&mut *defs) } else { None };
        let (n, _, _) = r.read_records(rows - got, levels, None, values)?;
        if n == 0 {
            return Err(ParquetError::General(format!(
                "the column chunk ends after {got} of its row group's {rows} rows"
            )));
        }
        got += n;
    }
    Ok(())
}

/// A string column's rows of one row group, converted: the values met,
/// each once per address (see [`Convert::texts`]), and each row's entry
/// among them in [`Scratch::ids`]. Entry 0 is `""`, which a null or a
/// rejected value stores (strings push `""` under a null, as the CSV
/// reader does).
type Entries<'a> = Vec<Cow<'a, str>>;

/// Buffers of one declared column, reused from row group to row group (a
/// fresh vector per row group costs its page faults again).
#[derive(Default)]
struct Scratch {
    /// Strings: each row's entry.
    ids: Vec<u32>,
    /// Each row's validity in the row group.
    valid: Vec<bool>,
    /// Strings: entry → its code in the column, once a kept row used it.
    codes: Vec<u32>,
    /// Strings: the address cache.
    seen: Vec<(usize, usize, u32)>,
    /// Strings: text → entry, or [`NULL_TOKEN`] or [`INVALID`].
    known: Vec<u32>,
    /// Strings: the allocation of the entries, empty between row groups.
    entries: Entries<'static>,
}

/// An empty vector with the allocation of `v`, for values of another
/// lifetime (collected in place: same layout, no new allocation).
fn recycle<'b>(mut v: Entries<'_>) -> Entries<'b> {
    v.clear();
    v.into_iter().map(|_| Cow::Borrowed("")).collect()
}

/// A problem with one value of a row group.
struct Problem {
    /// Row in the row group.
    row: usize,
    /// Index of the column in the file (the leftmost problem of a row wins).
    leaf: usize,
    spec: usize,
    kind: RejectKind,
    message: String,
    text: String,
}

/// The column under construction for one spec.
enum Values {
    I64(Vec<i64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
    Str(StrBuilder),
    /// A relation's key coded in its parent key's dictionary.
    Follow(Following),
}

impl Values {
    /// A string column codes its strings in `parent` from now on, when its
    /// strings so far are the parent's first ones ([`StrBuilder::can_follow`]).
    fn follow(&mut self, parent: &Arc<Dict>) {
        if matches!(self, Values::Str(b) if b.can_follow(parent)) {
            let Values::Str(b) = std::mem::replace(self, Values::Bool(Vec::new())) else {
                unreachable!("matched above");
            };
            *self = Values::Follow(Following::start(b, parent));
        }
    }

    /// A column that follows its parent's dictionary builds its own again.
    fn unfollow(&mut self) {
        if let Values::Follow(_) = self {
            let Values::Follow(f) = std::mem::replace(self, Values::Bool(Vec::new())) else {
                unreachable!("matched above");
            };
            *self = Values::Str(f.unfollow());
        }
    }
}

/// Slots of the address cache of a string chunk (a power of two).
const SEEN: usize = 4096;

/// An address cache slot's entry for a null token.
const NULL_TOKEN: u32 = u32::MAX;

/// A value not met yet.
const UNSEEN: u32 = u32::MAX - 1;

/// A text that is not UTF-8.
const INVALID: u32 = u32::MAX - 2;

/// A declared column found in the file.
struct Plan<'a> {
    spec: &'a ColumnSpec,
    /// Index of the leaf column in the file.
    leaf: usize,
    optional: bool,
    conv: Conv,
    /// For a string column of BYTE_ARRAY: the column read as text indices.
    indices: Option<ColumnDescPtr>,
    /// For a relation's key: its parent key's dictionary, once read.
    parent: Option<&'a ParentKey>,
}

fn read_file(
    name: &str,
    path: &Path,
    specs: &[ColumnSpec],
    opts: &ReadOptions,
) -> Result<Loaded, ReadError> {
    let err = |message: String| file_error(path, message);
    let col_err = |spec: &ColumnSpec, message: String| ReadError {
        column: Some(spec.source.clone()),
        ..err(message)
    };
    let file = File::open(path).map_err(|e| err(format!("cannot open file: {e}")))?;
    let reader = SerializedFileReader::new(file).map_err(|e| ReadError {
        hint: Some("a .parquet source must be an Apache Parquet file".into()),
        ..err(format!("not a readable Parquet file: {e}"))
    })?;
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let fields = schema.root_schema().get_fields();

    // Find each declared column: a top-level, non-repeated primitive.
    let mut plans = Vec::with_capacity(specs.len());
    for spec in specs {
        let found = fields
            .iter()
            .position(|f| f.name() == spec.source)
            .or_else(|| {
                let mut it = fields
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.name().trim() == spec.source.trim());
                match (it.next(), it.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            });
        let Some(field) = found else {
            return Err(missing_column(name, path, spec, fields));
        };
        let fname = fields[field].name();
        let leaf = schema
            .columns()
            .iter()
            .position(|c| c.path().parts().len() == 1 && c.path().parts()[0] == fname);
        let leaf = match leaf {
            Some(l) if schema.column(l).max_rep_level() == 0 => l,
            _ => {
                return Err(col_err(
                    spec,
                    "is a nested or repeated column; only flat columns are read".into(),
                ))
            }
        };
        let d = schema.column(leaf);
        let conv = match &spec.ty {
            Type::Null | Type::List(_) | Type::Map(_) => {
                return Err(col_err(
                    spec,
                    format!("cannot read a column of type {} from a file", spec.ty),
                ))
            }
            ty => conversion(&d, ty).ok_or_else(|| ReadError {
                hint: Some(
                    "write the column with a matching Parquet type, or declare the type it holds"
                        .into(),
                ),
                ..col_err(
                    spec,
                    format!(
                        "the file holds {}, which cannot be read as {}",
                        describe(&d),
                        spec.ty
                    ),
                )
            })?,
        };
        let indices = matches!(conv, Conv::Str)
            .then(|| indices_column(&d))
            .transpose()
            .map_err(|e| err(e.to_string()))?;
        plans.push(Plan {
            spec,
            leaf,
            optional: d.max_def_level() > 0,
            conv,
            indices,
            parent: opts.parent_keys.get(&spec.name),
        });
    }

    let total = meta.file_metadata().num_rows().max(0) as usize;
    let mut cols: Vec<(Values, Validity)> = plans
        .iter()
        .map(|p| {
            let v = match p.spec.ty {
                Type::Float => Values::F64(Vec::with_capacity(total)),
                Type::Bool => Values::Bool(Vec::with_capacity(total)),
                Type::String => Values::Str(StrBuilder::with_capacity(total)),
                _ => Values::I64(Vec::with_capacity(total)),
            };
            (v, Validity::default())
        })
        .collect();
    let mut raws: Vec<Option<Raw>> = plans.iter().map(|_| None).collect();
    let mut scratch: Vec<Scratch> = plans.iter().map(|_| Scratch::default()).collect();
    let mut defs: Vec<Vec<i16>> = plans.iter().map(|_| Vec::new()).collect();
    let mut rejects = Vec::new();
    let mut read = 0u64;
    let mut cache = LocalCache::new(opts.tz);
    // Whether a relation's key was offered its parent's dictionary (which
    // it follows from then on, or never: see `StrBuilder::can_follow`).
    let mut offered = vec![false; plans.len()];

    for g in 0..reader.num_row_groups() {
        let rg = reader
            .get_row_group(g)
            .map_err(|e| err(format!("cannot read row group {}: {e}", g + 1)))?;
        let rows = rg.metadata().num_rows().max(0) as usize;
        // Decode the chunks of the declared columns only.
        for (k, p) in plans.iter().enumerate() {
            let fail = |e: ParquetError| {
                col_err(
                    p.spec,
                    format!("cannot read the data of row group {}: {e}", g + 1),
                )
            };
            let d = &mut defs[k];
            let raw = &mut raws[k];
            let chunk = rg.metadata().column(p.leaf);
            if let Some(descr) = p.indices.as_ref().filter(|_| plain_or_dictionary(chunk)) {
                let (mut texts, mut idx) = match raw.take() {
                    Some(Raw::Texts(t, i)) => (t, i),
                    _ => (Texts::default(), Vec::with_capacity(rows)),
                };
                texts.clear();
                let texts = Arc::new(Mutex::new(texts));
                let pages = TextPages {
                    pages: rg.get_column_page_reader(p.leaf).map_err(fail)?,
                    max_def: chunk.column_descr().max_def_level(),
                    texts: texts.clone(),
                };
                let mut r = ColumnReaderImpl::<Int32Type>::new(descr.clone(), Box::new(pages));
                read_rows(&mut r, rows, p.optional, &mut idx, d).map_err(fail)?;
                let texts = std::mem::take(&mut *texts.lock().expect("not poisoned"));
                *raw = Some(Raw::Texts(texts, idx));
                continue;
            }
            let cr = rg.get_column_reader(p.leaf).map_err(fail)?;
            macro_rules! take {
                ($variant:ident, $r:expr) => {{
                    let mut r = $r;
                    let mut v = match raw.take() {
                        Some(Raw::$variant(v)) => v,
                        _ => Vec::with_capacity(rows),
                    };
                    read_rows(&mut r, rows, p.optional, &mut v, d).map_err(fail)?;
                    *raw = Some(Raw::$variant(v));
                }};
            }
            match cr {
                ColumnReader::Int32ColumnReader(r) => take!(I32, r),
                ColumnReader::Int64ColumnReader(r) => take!(I64, r),
                ColumnReader::FloatColumnReader(r) => take!(F32, r),
                ColumnReader::DoubleColumnReader(r) => take!(F64, r),
                ColumnReader::BoolColumnReader(r) => take!(Bool, r),
                ColumnReader::ByteArrayColumnReader(r) => take!(Bytes, r),
                // `conversion` admits no other physical type.
                _ => return Err(col_err(p.spec, "unsupported physical type".into())),
            }
        }
        // Convert, collecting the problems of every column: other columns
        // straight into the table, strings first into their entries (a
        // string is interned only once its row is known to be kept).
        let mut problems = Vec::new();
        let mut texts = Vec::with_capacity(plans.len());
        let mut bases = Vec::with_capacity(plans.len());
        for (k, p) in plans.iter().enumerate() {
            let raw = raws[k].as_ref().expect("decoded above");
            let d = p.optional.then_some(defs[k].as_slice());
            let mut cx = Convert {
                path,
                k,
                plan: p,
                opts,
                problems: &mut problems,
                cache: &mut cache,
            };
            let (values, valid) = &mut cols[k];
            if let Some(parent) = p.parent.and_then(|slot| slot.get()) {
                if !std::mem::replace(&mut offered[k], true) {
                    values.follow(parent);
                }
            }
            bases.push(valid.len);
            texts.push(match values {
                Values::Str(_) | Values::Follow(_) => {
                    let s = &mut scratch[k];
                    let mut entries = std::mem::take(&mut s.entries);
                    cx.texts(raw, d, rows, &mut entries, s)?;
                    Some(entries)
                }
                _ => {
                    let s = &mut scratch[k];
                    s.valid.clear();
                    cx.convert(raw, d, rows, values, &mut s.valid)?;
                    None
                }
            });
        }
        // The rows to leave out: each at its leftmost problem.
        problems.sort_unstable_by_key(|q| (q.row, q.leaf));
        problems.dedup_by_key(|q| q.row);
        let keep = (!problems.is_empty()).then(|| {
            let mut keep = vec![true; rows];
            for q in &problems {
                keep[q.row] = false;
            }
            keep
        });
        for q in problems {
            rejects.push(Reject {
                file: path.to_path_buf(),
                line: read + q.row as u64 + 1,
                column: Some(plans[q.spec].spec.source.clone()),
                kind: q.kind,
                message: q.message,
                text: clip_text(&q.text),
            });
        }
        for (k, entries) in texts.into_iter().enumerate() {
            let (values, valid) = &mut cols[k];
            let keep = keep.as_deref();
            match (values, entries) {
                (values, Some(entries)) => {
                    let s = &mut scratch[k];
                    append_texts(values, &entries, s, keep);
                    s.entries = recycle(entries);
                }
                (values, _) => {
                    if let Some(keep) = keep {
                        let base = bases[k];
                        match values {
                            Values::I64(v) => retain(v, base, keep),
                            Values::F64(v) => retain(v, base, keep),
                            Values::Bool(v) => retain(v, base, keep),
                            Values::Str(_) | Values::Follow(_) => {
                                unreachable!("strings have entries")
                            }
                        }
                    }
                }
            }
            valid.append(&scratch[k].valid, keep, total);
        }
        read += rows as u64;
    }

    // The row groups' buffers go before the columns are finished (a
    // string column's may be copied into narrower codes).
    drop((raws, scratch, defs));
    let accepted = read - rejects.len() as u64;
    let mut columns = IndexMap::with_capacity(specs.len());
    for (p, (values, valid)) in plans.iter().zip(cols) {
        let data = match (values, &p.spec.ty) {
            (Values::I64(v), Type::Timestamp) => Data::Timestamp(v),
            (Values::I64(v), Type::Duration) => {
                Data::Duration(v.into_iter().map(|x| x as f64).collect())
            }
            (Values::I64(v), _) => Data::Int(v),
            (Values::F64(v), _) => Data::Float(v),
            (Values::Bool(v), _) => Data::Bool(v),
            (Values::Str(b), _) => Data::Str(b.finish()),
            (Values::Follow(f), _) => Data::Str(f.finish()),
        };
        debug_assert_eq!(valid.len as u64, accepted, "{}", p.spec.name);
        columns.insert(p.spec.name.clone(), Column::new(data, valid.rows));
    }
    Ok(Loaded::new(name, path, read, columns, rejects))
}

/// The validity of a column under construction: nothing is stored while
/// every row is valid (most columns have no null; a vector of `true` would
/// only cost its pages).
#[derive(Default)]
struct Validity {
    /// Rows so far.
    len: usize,
    /// Each row's validity, from the first invalid row on.
    rows: Option<Vec<bool>>,
}

impl Validity {
    /// Appends the kept rows (all when `keep` is `None`) of a row group's
    /// validity `group`; `total` is the file's row count.
    fn append(&mut self, group: &[bool], keep: Option<&[bool]>, total: usize) {
        // Without rejects (the usual row group) both the test and the copy
        // are whole-slice operations, which are vectorized; row by row
        // through `kept` they cost a branch each.
        let all_valid = |g: &[bool]| g.iter().fold(true, |all, &v| all & v);
        let n = match keep {
            None => group.len(),
            Some(k) => k.iter().filter(|k| **k).count(),
        };
        let valid_where_kept = match keep {
            None => all_valid(group),
            Some(k) => group.iter().zip(k).all(|(&v, &k)| v || !k),
        };
        if self.rows.is_none() && valid_where_kept {
            self.len += n;
            return;
        }
        let rows = self.rows.get_or_insert_with(|| {
            let mut rows = Vec::with_capacity(total.max(self.len + n));
            rows.resize(self.len, true);
            rows
        });
        match keep {
            None => rows.extend_from_slice(group),
            Some(k) => rows.extend(group.iter().zip(k).filter(|(_, &k)| k).map(|(&v, _)| v)),
        }
        self.len += n;
    }
}

/// Keeps, of the rows of `v` from `base` on (one row group's), those that
/// `keep` says.
fn retain<T: Copy>(v: &mut Vec<T>, base: usize, keep: &[bool]) {
    let mut to = base;
    for (i, &k) in keep.iter().enumerate() {
        if k {
            v[to] = v[base + i];
            to += 1;
        }
    }
    v.truncate(to);
}

/// Appends the kept rows of a string column's row group (all rows when
/// `keep` is `None`), coding each entry at its first kept row: in the
/// column's own dictionary, or in its parent's while it follows it (and,
/// when a string is not found there, in a dictionary of its own again).
fn append_texts(
    values: &mut Values,
    entries: &[Cow<'_, str>],
    s: &mut Scratch,
    keep: Option<&[bool]>,
) {
    macro_rules! extend {
        ($b:expr) => {{
            let codes = &s.codes;
            match keep {
                None => $b.extend_codes(s.ids.iter().map(|&e| codes[e as usize])),
                Some(k) => $b.extend_codes(
                    s.ids
                        .iter()
                        .zip(k)
                        .filter(|(_, &k)| k)
                        .map(|(&e, _)| codes[e as usize]),
                ),
            }
        }};
    }
    if let Values::Follow(f) = values {
        // Entry 0 is the null rows', which any code stands for.
        if code_entries(entries, s, keep, |e, text| match e {
            0 => Some(0),
            _ => f.code_of(text),
        }) {
            extend!(f);
            return;
        }
        values.unfollow();
    }
    let Values::Str(b) = values else {
        unreachable!("a string column's values");
    };
    code_entries(entries, s, keep, |_, text| Some(b.intern(text).0));
    extend!(b);
}

/// Each entry's code (`s.codes`) by `code_of`, asked at the entry's first
/// kept row; false as soon as it gives none.
fn code_entries(
    entries: &[Cow<'_, str>],
    s: &mut Scratch,
    keep: Option<&[bool]>,
    mut code_of: impl FnMut(usize, &str) -> Option<u32>,
) -> bool {
    s.codes.clear();
    s.codes.resize(entries.len(), u32::MAX);
    let kept = |row: usize| keep.is_none_or(|k| k[row]);
    for (row, &e) in s.ids.iter().enumerate() {
        let code = &mut s.codes[e as usize];
        if *code == u32::MAX && kept(row) {
            match code_of(e as usize, &entries[e as usize]) {
                Some(c) => *code = c,
                None => return false,
            }
        }
    }
    true
}

/// Converts the decoded chunk of one column.
struct Convert<'c, 'p> {
    path: &'c Path,
    /// Index of the spec.
    k: usize,
    plan: &'c Plan<'p>,
    opts: &'c ReadOptions,
    problems: &'c mut Vec<Problem>,
    cache: &'c mut LocalCache,
}

impl Convert<'_, '_> {
    fn problem(&mut self, row: usize, kind: RejectKind, message: String, text: String) {
        self.problems.push(Problem {
            row,
            leaf: self.plan.leaf,
            spec: self.k,
            kind,
            message,
            text,
        });
    }

    /// A null at `row`: a problem when the column is required.
    fn null(&mut self, row: usize) {
        if !self.plan.spec.nullable {
            self.problem(
                row,
                RejectKind::MissingValue,
                "a value is required here (the column is not nullable)".into(),
                String::new(),
            );
        }
    }

    fn is_null_token(&self, s: &str, trims: bool) -> bool {
        let t = &self.opts.null_tokens;
        t.iter().any(|n| n == s) || (trims && t.iter().any(|n| n == s.trim()))
    }

    /// Maps each row's value (`None` for a null) through `f`, which gives
    /// the converted value or a problem, onto `out` and `valid`; a null or
    /// a problem stores `zero` and is invalid.
    #[allow(clippy::too_many_arguments)]
    fn map<'v, T, U: Copy>(
        &mut self,
        vals: &'v [T],
        defs: Option<&[i16]>,
        rows: usize,
        zero: U,
        out: &mut Vec<U>,
        valid: &mut Vec<bool>,
        mut f: impl FnMut(&mut Self, &'v T) -> Result<Option<U>, Bad>,
    ) -> Result<(), ReadError> {
        let start = valid.len();
        valid.resize(start + rows, true);
        let valid = &mut valid[start..];
        // The values are counted against the levels first, so that the
        // rows are converted by one `extend` (which writes without a
        // capacity check per row).
        match defs {
            // A required column: a value per row.
            None => {
                if vals.len() < rows {
                    return Err(self.corrupt("fewer values than non-null levels"));
                }
                if vals.len() > rows {
                    return Err(self.corrupt("more values than non-null levels"));
                }
                out.extend(vals.iter().enumerate().map(|(row, x)| match f(self, x) {
                    Ok(Some(v)) => v,
                    r => {
                        self.invalid(row, r.err());
                        valid[row] = false;
                        zero
                    }
                }));
            }
            Some(defs) => {
                let defs = &defs[..rows];
                let max = self.plan.optional as i16;
                let present = defs.iter().filter(|&&d| d == max).count();
                if vals.len() < present {
                    return Err(self.corrupt("fewer values than non-null levels"));
                }
                if vals.len() > present {
                    return Err(self.corrupt("more values than non-null levels"));
                }
                let nullable = self.plan.spec.nullable;
                let mut it = vals.iter();
                out.extend(defs.iter().enumerate().map(|(row, &d)| {
                    if d != max {
                        if !nullable {
                            self.null(row);
                        }
                        valid[row] = false;
                        return zero;
                    }
                    let x = it.next().expect("a value per non-null level (counted)");
                    match f(self, x) {
                        Ok(Some(v)) => v,
                        r => {
                            self.invalid(row, r.err());
                            valid[row] = false;
                            zero
                        }
                    }
                }));
            }
        }
        Ok(())
    }

    /// An invalid value at `row`: a null (or a null token) when `bad` is
    /// `None`, else a value that does not convert.
    #[cold]
    fn invalid(&mut self, row: usize, bad: Option<Bad>) {
        match bad {
            None => self.null(row),
            Some((kind, message, text)) => self.problem(row, kind, message, text),
        }
    }

    fn corrupt(&self, what: &str) -> ReadError {
        ReadError {
            file: self.path.to_path_buf(),
            line: None,
            column: Some(self.plan.spec.source.clone()),
            message: format!("corrupt column chunk: {what}"),
            hint: None,
        }
    }

    /// Converts the decoded chunk of a string column into entries, each
    /// row's entry and validity in `s`. The texts of a [`Raw::Texts`] chunk
    /// are converted once each. A `ByteArray` value the parquet crate
    /// decoded from a dictionary page points into that page: every value of
    /// the chunk lives as long as `raw`, so an address and length identify
    /// a text, and a text met again is neither validated nor compared with
    /// the null tokens again.
    fn texts<'a>(
        &mut self,
        raw: &'a Raw,
        defs: Option<&[i16]>,
        rows: usize,
        entries: &mut Entries<'a>,
        s: &mut Scratch,
    ) -> Result<(), ReadError> {
        entries.clear();
        entries.push(Cow::Borrowed(""));
        s.ids.clear();
        s.valid.clear();
        let (ids, valid) = (&mut s.ids, &mut s.valid);
        let mut add = |e: Cow<'a, str>| {
            entries.push(e);
            Ok(Some(entries.len() as u32 - 1))
        };
        match (self.plan.conv, raw) {
            (Conv::Str, Raw::Bytes(v)) => {
                s.seen.clear();
                s.seen.resize(SEEN, (usize::MAX, usize::MAX, 0));
                let seen = &mut s.seen;
                // The previous value's bytes and entry: in a file sorted by
                // this column, plain-encoded repeats (a ticket's messages)
                // are equal neighbours at different addresses.
                let mut prev: (&[u8], u32) = (&[], UNSEEN);
                self.map(v, defs, rows, 0, ids, valid, |cx, x| {
                    let data = x.data();
                    let key = (data.as_ptr() as usize, data.len());
                    let slot = &mut seen[(key.0 >> 2 ^ key.1) & (SEEN - 1)];
                    let e = if (slot.0, slot.1) == key {
                        slot.2
                    } else if prev.1 != UNSEEN && prev.0 == data {
                        prev.1
                    } else {
                        let s = utf8(x.data())?;
                        let e = if cx.is_null_token(s, false) {
                            NULL_TOKEN
                        } else {
                            add(Cow::Borrowed(s))?.expect("an entry")
                        };
                        *slot = (key.0, key.1, e);
                        e
                    };
                    prev = (data, e);
                    Ok((e != NULL_TOKEN).then_some(e))
                })
            }
            (Conv::Str, Raw::Texts(t, idx)) => {
                // Each text is converted once, before the rows: into an
                // entry, a null token, or INVALID (its rows then report the
                // problem). The buffer is validated as UTF-8 in one go, and
                // then a text that starts and ends on a character boundary
                // is valid too.
                let whole = std::str::from_utf8(&t.bytes).ok();
                s.known.clear();
                for i in 0..t.len() {
                    let r = t.range(i);
                    let text = whole
                        .and_then(|w| w.get(r.clone()))
                        .or_else(|| std::str::from_utf8(&t.bytes[r]).ok());
                    s.known.push(match text {
                        None => INVALID,
                        Some(x) if self.is_null_token(x, false) => NULL_TOKEN,
                        Some(x) => {
                            entries.push(Cow::Borrowed(x));
                            entries.len() as u32 - 1
                        }
                    });
                }
                let known = &s.known;
                // In range: an index is one the reader checked against the
                // dictionary, or one `TextPages` wrote.
                self.map(idx, defs, rows, 0, ids, valid, |_, &i| {
                    match known[i as usize] {
                        NULL_TOKEN => Ok(None),
                        INVALID => Err(not_utf8(&t.bytes[t.range(i as usize)])),
                        e => Ok(Some(e)),
                    }
                })
            }
            (Conv::TextOf, Raw::I64(v)) => self.map(v, defs, rows, 0, ids, valid, |_, x| {
                add(Cow::Owned(x.to_string()))
            }),
            (Conv::TextOf, Raw::I32(v)) => self.map(v, defs, rows, 0, ids, valid, |_, x| {
                add(Cow::Owned(x.to_string()))
            }),
            (Conv::TextOf, Raw::Bool(v)) => self.map(v, defs, rows, 0, ids, valid, |_, &x| {
                add(Cow::Borrowed(if x { "true" } else { "false" }))
            }),
            (conv, _) => unreachable!("{conv:?} is chosen from the physical type"),
        }
    }

    /// Converts the decoded chunk of a column other than a string one onto
    /// `values` and `valid`.
    fn convert(
        &mut self,
        raw: &Raw,
        defs: Option<&[i16]>,
        rows: usize,
        values: &mut Values,
        valid: &mut Vec<bool>,
    ) -> Result<(), ReadError> {
        let tz = self.opts.tz;
        let fin = |x: f64| {
            if x.is_finite() {
                Ok(Some(x))
            } else {
                Err((
                    RejectKind::InvalidValue,
                    format!("expected a float, found {x}"),
                    x.to_string(),
                ))
            }
        };
        let seconds = |s: i64| {
            s.checked_mul(MICROS).map(Some).ok_or_else(|| {
                (
                    RejectKind::InvalidValue,
                    format!("duration {s} s is out of range"),
                    s.to_string(),
                )
            })
        };
        let float_seconds = |x: f64| {
            let us = (x * MICROS as f64).round();
            if us.is_finite() && us.abs() < 9.2e18 {
                Ok(Some(us as i64))
            } else {
                Err((
                    RejectKind::InvalidValue,
                    format!("duration {x} s is out of range"),
                    x.to_string(),
                ))
            }
        };
        let conv = self.plan.conv;
        match (conv, raw, values) {
            (Conv::Int, Raw::I64(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| Ok(Some(x)))
            }
            (Conv::Int, Raw::I32(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| Ok(Some(x as i64)))
            }
            (Conv::Float, Raw::F64(v), Values::F64(o)) => {
                self.map(v, defs, rows, 0.0, o, valid, |_, &x| fin(x))
            }
            (Conv::Float, Raw::F32(v), Values::F64(o)) => {
                self.map(v, defs, rows, 0.0, o, valid, |_, &x| fin(x as f64))
            }
            (Conv::Float, Raw::I64(v), Values::F64(o)) => {
                self.map(v, defs, rows, 0.0, o, valid, |_, &x| Ok(Some(x as f64)))
            }
            (Conv::Float, Raw::I32(v), Values::F64(o)) => {
                self.map(v, defs, rows, 0.0, o, valid, |_, &x| Ok(Some(x as f64)))
            }
            (Conv::Bool, Raw::Bool(v), Values::Bool(o)) => {
                self.map(v, defs, rows, false, o, valid, |_, &x| Ok(Some(x)))
            }
            (Conv::Instant(unit), Raw::I64(v), Values::I64(o)) => {
                let (lo, hi) = instants();
                self.map(v, defs, rows, 0, o, valid, |_, &x| {
                    match unit.to_micros(x) {
                        Some(us) if (lo..=hi).contains(&us) => Ok(Some(us)),
                        _ => Err(out_of_range(x, unit)),
                    }
                })
            }
            (Conv::Local(unit), Raw::I64(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |cx, &x| {
                    unit.to_micros(x)
                        .and_then(|us| cx.cache.resolve(us))
                        .map(Some)
                        .ok_or_else(|| out_of_range(x, unit))
                })
            }
            (Conv::Date, Raw::I32(v), Values::I64(o)) => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                self.map(v, defs, rows, 0, o, valid, |_, &x| {
                    epoch
                        .checked_add_signed(chrono::Duration::days(x as i64))
                        .map(|d| Some(local_date_start(d, tz)))
                        .ok_or_else(|| {
                            (
                                RejectKind::InvalidValue,
                                format!("date {x} (days since 1970-01-01) is out of range"),
                                x.to_string(),
                            )
                        })
                })
            }
            (Conv::ParseTimestamp, Raw::Bytes(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |cx, x| {
                    let s = utf8(x.data())?;
                    if cx.is_null_token(s, true) {
                        return Ok(None);
                    }
                    parse_timestamp(s, tz)
                        .map(Some)
                        .map_err(|m| (RejectKind::InvalidValue, clip_message(m, s), s.into()))
                })
            }
            (Conv::Seconds, Raw::I64(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| seconds(x))
            }
            (Conv::Seconds, Raw::I32(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| seconds(x as i64))
            }
            (Conv::FloatSeconds, Raw::F64(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| float_seconds(x))
            }
            (Conv::FloatSeconds, Raw::F32(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |_, &x| float_seconds(x as f64))
            }
            (Conv::ParseDuration, Raw::Bytes(v), Values::I64(o)) => {
                self.map(v, defs, rows, 0, o, valid, |cx, x| {
                    let s = utf8(x.data())?;
                    if cx.is_null_token(s, true) {
                        return Ok(None);
                    }
                    parse_duration(s)
                        .map(Some)
                        .map_err(|m| (RejectKind::InvalidValue, clip_message(m, s), s.into()))
                })
            }
            _ => unreachable!("{conv:?} is chosen from the physical type"),
        }
    }
}

/// Why a value does not convert: the kind of reject, its message and the
/// text to show.
type Bad = (RejectKind, String, String);

/// The microseconds since the epoch that are instants (chrono's range).
fn instants() -> (i64, i64) {
    (
        DateTime::<chrono::Utc>::MIN_UTC.timestamp_micros(),
        DateTime::<chrono::Utc>::MAX_UTC.timestamp_micros(),
    )
}

/// A BYTE_ARRAY value as text, or why not.
fn utf8(x: &[u8]) -> Result<&str, Bad> {
    std::str::from_utf8(x).map_err(|_| not_utf8(x))
}

/// Why `x` is not a string.
#[cold]
fn not_utf8(x: &[u8]) -> Bad {
    (
        RejectKind::InvalidUtf8,
        "invalid UTF-8; strings must be UTF-8".to_string(),
        String::from_utf8_lossy(x).into_owned(),
    )
}

#[cold]
fn out_of_range(x: i64, unit: Unit) -> Bad {
    (
        RejectKind::InvalidValue,
        format!("timestamp {x} {} is out of range", unit.name()),
        x.to_string(),
    )
}

/// A parse error whose message quotes a long text whole, shortened.
fn clip_message(message: String, text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => message.replace(&format!("{text:?}"), &format!("{:?}…", &text[..i])),
        None => message,
    }
}

/// Local wall times (µs) → instants in the project zone, by the rule of
/// [`resolve_local`], with the UTC offset of each local hour remembered:
/// a table's timestamps span few distinct hours, and an offset lookup in
/// the zone's rules costs more than the rest of the conversion.
struct LocalCache {
    tz: chrono_tz::Tz,
    /// Local hour `h` → its offset in µs (local − UTC), or [`TRANSITION`],
    /// in slot `h mod HOURS` (two years of hours before one is evicted).
    hours: Vec<(i64, i64)>,
    /// The first microsecond of the last hour found with one offset, that
    /// offset, and the hour's length (0 before there is one): a column in
    /// time order stays in an hour for many rows, each then converted with
    /// a comparison and a subtraction.
    last: (i64, i64, u64),
}

const HOUR_US: i64 = 3600 * MICROS;

/// Slots of [`LocalCache`] (a power of two).
const HOURS: usize = 1 << 15;

/// The offset of an hour that holds a transition (its values are resolved
/// one by one), or that is out of range.
const TRANSITION: i64 = i64::MIN;

impl LocalCache {
    fn new(tz: chrono_tz::Tz) -> Self {
        LocalCache {
            tz,
            // No hour is i64::MIN (µs / HOUR_US is far from it).
            hours: vec![(i64::MIN, TRANSITION); HOURS],
            last: (0, 0, 0),
        }
    }

    #[inline]
    fn resolve(&mut self, local_us: i64) -> Option<i64> {
        let (start, off, len) = self.last;
        if (local_us.wrapping_sub(start) as u64) < len {
            return local_us.checked_sub(off);
        }
        self.resolve_hour(local_us)
    }

    fn resolve_hour(&mut self, local_us: i64) -> Option<i64> {
        let h = local_us.div_euclid(HOUR_US);
        let slot = self.hours[h as usize & (HOURS - 1)];
        let off = if slot.0 == h {
            slot.1
        } else {
            let off = self.offset(h).unwrap_or(TRANSITION);
            self.hours[h as usize & (HOURS - 1)] = (h, off);
            off
        };
        match off {
            TRANSITION => resolve_local(naive(local_us)?, self.tz),
            off => {
                // `offset` found h * HOUR_US in range.
                self.last = (h * HOUR_US, off, HOUR_US as u64);
                local_us.checked_sub(off)
            }
        }
    }

    /// The offset of the local hour `h` throughout, if it has one.
    fn offset(&self, h: i64) -> Option<i64> {
        // One offset throughout: the hour's first and last microsecond
        // each occur once, with the same offset (zones change offset at
        // most once in an hour).
        let first = h.checked_mul(HOUR_US)?;
        let a = single_offset(self.tz, first)?;
        let b = single_offset(self.tz, first.checked_add(HOUR_US - 1)?)?;
        (a == b).then_some(a)
    }
}

fn naive(us: i64) -> Option<chrono::NaiveDateTime> {
    DateTime::from_timestamp_micros(us).map(|d| d.naive_utc())
}

/// The offset (µs, local − UTC) of the local time `us` when it occurs
/// exactly once in `tz`.
fn single_offset(tz: chrono_tz::Tz, us: i64) -> Option<i64> {
    use chrono::{Offset, TimeZone};
    match tz.from_local_datetime(&naive(us)?) {
        chrono::LocalResult::Single(d) => Some(d.offset().fix().local_minus_utc() as i64 * MICROS),
        _ => None,
    }
}

/// The error for a declared column the file does not have.
fn missing_column(
    table: &str,
    path: &Path,
    spec: &ColumnSpec,
    fields: &[parquet::schema::types::TypePtr],
) -> ReadError {
    let mapped = if spec.name != spec.source {
        format!(" (mapped to `{}`)", spec.name)
    } else {
        String::new()
    };
    const SHOW: usize = 40;
    let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
    let mut list = names
        .iter()
        .take(SHOW)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOW {
        list.push_str(&format!(", … ({} more)", names.len() - SHOW));
    }
    let hint = did_you_mean(&spec.source, names.iter().copied()).map(|h| {
        format!(
            "did you mean `{h}`? map it with `{} = \"{h}\"` under [tables.{table}.columns]",
            spec.name
        )
    });
    ReadError {
        file: path.to_path_buf(),
        line: None,
        column: Some(spec.source.clone()),
        message: format!("not found{mapped}; the file's columns are: {list}"),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The range check of instants agrees with chrono at both ends.
    #[test]
    fn instants_are_chronos_range() {
        let (lo, hi) = instants();
        for us in [
            lo - 1,
            lo,
            lo + 1,
            -1,
            0,
            1,
            hi - 1,
            hi,
            hi + 1,
            i64::MIN,
            i64::MAX,
        ] {
            let chrono = DateTime::from_timestamp_micros(us).is_some();
            assert_eq!((lo..=hi).contains(&us), chrono, "{us}");
        }
    }

    /// Validity stores nothing until a kept row is invalid, then every
    /// kept row, as appending the kept rows to a vector would.
    #[test]
    fn validity_is_the_kept_rows() {
        let groups: [(&[bool], Option<&[bool]>); 5] = [
            (&[true, true], None),
            (&[true, false, true], Some(&[true, false, true])),
            (&[true, true], Some(&[false, true])),
            (&[false, true, true], None),
            (&[true, false], Some(&[false, true])),
        ];
        let mut v = Validity::default();
        let mut want = Vec::new();
        for (i, (group, keep)) in groups.into_iter().enumerate() {
            v.append(group, keep, 0);
            let kept = |r: usize| keep.is_none_or(|k| k[r]);
            want.extend(
                group
                    .iter()
                    .enumerate()
                    .filter(|(r, _)| kept(*r))
                    .map(|(_, x)| *x),
            );
            assert_eq!(v.len, want.len());
            // A null under a rejected row (group 1) is not kept.
            match i {
                0..=2 => assert_eq!(v.rows, None),
                _ => assert_eq!(v.rows.as_ref(), Some(&want)),
            }
        }
    }

    fn plain(values: &[&[u8]]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|v| {
                (v.len() as u32)
                    .to_le_bytes()
                    .into_iter()
                    .chain(v.iter().copied())
            })
            .collect()
    }

    /// Plain values become texts, a value equal to the text before it is
    /// stored once, and each value's index is written as an INT32.
    #[test]
    fn plain_values_become_texts_and_indices() {
        let mut t = Texts::default();
        assert_eq!(t.push_plain(&plain(&[b"a", b"bc"]), None).unwrap(), 2);
        let mut idx = Vec::new();
        let page = plain(&[b"bc", b"bc", b"", b"d", b"d", b"a"]);
        assert_eq!(t.push_plain(&page, Some(&mut idx)).unwrap(), 6);
        let idx: Vec<i32> = idx
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(idx, [1, 1, 2, 3, 3, 4]);
        let texts: Vec<&[u8]> = (0..t.len()).map(|i| &t.bytes[t.range(i)]).collect();
        assert_eq!(texts, [&b"a"[..], b"bc", b"", b"d", b"a"]);
        // A length or a value cut short is an error, not a panic.
        for cut in [&plain(&[b"abc"])[..5], &[1, 0, 0]] {
            assert!(t.push_plain(cut, Some(&mut Vec::new())).is_err());
        }
    }

    /// Comparing by overlapping loads agrees with comparing slices, for
    /// every length up to past 16 bytes and a difference at any byte.
    #[test]
    fn same_bytes_is_slice_equality() {
        let a: Vec<u8> = (1..=20).collect();
        for n in 0..=20 {
            let x = &a[..n];
            assert!(same_bytes(x, x), "{n}");
            assert!(!same_bytes(x, &a[..n.saturating_sub(1)]) || n == 0);
            for i in 0..n {
                let mut y = x.to_vec();
                y[i] ^= 0x80;
                assert_eq!(same_bytes(x, &y), x == &y[..], "{n} bytes, byte {i}");
            }
        }
    }

    /// The definition levels of a V1 page: none for a required column, a
    /// length prefix (RLE) or the packed bits, and never past the page.
    #[test]
    #[allow(deprecated)]
    fn v1_levels_are_measured_as_the_crate_reads_them() {
        let buf = [3, 0, 0, 0, 9, 9, 9, 7, 7];
        assert_eq!(v1_levels_len(0, Encoding::RLE, 5, &buf).unwrap(), 0);
        assert_eq!(v1_levels_len(1, Encoding::RLE, 5, &buf).unwrap(), 7);
        assert_eq!(v1_levels_len(1, Encoding::BIT_PACKED, 9, &buf).unwrap(), 2);
        assert_eq!(v1_levels_len(3, Encoding::BIT_PACKED, 8, &buf).unwrap(), 2);
        assert!(v1_levels_len(1, Encoding::RLE, 5, &buf[..6]).is_err());
        assert!(v1_levels_len(1, Encoding::RLE, 5, &buf[..3]).is_err());
        assert!(v1_levels_len(1, Encoding::BIT_PACKED, 80, &buf).is_err());
        assert!(v1_levels_len(1, Encoding::PLAIN, 5, &buf).is_err());
    }

    /// Keeping a row group's rows leaves the rows before it alone.
    #[test]
    fn retain_keeps_the_kept_rows_of_the_tail() {
        let mut v = vec![1, 2, 3, 4, 5, 6];
        retain(&mut v, 2, &[false, true, true, false]);
        assert_eq!(v, [1, 2, 4, 5]);
        retain(&mut v, 4, &[]);
        assert_eq!(v, [1, 2, 4, 5]);
        retain(&mut v, 0, &[false, false, false, false]);
        assert!(v.is_empty());
    }

    /// Times out of range are no instant, and no panic.
    #[test]
    fn local_cache_out_of_range() {
        let mut cache = LocalCache::new(chrono_tz::Europe::Paris);
        for us in [i64::MIN, i64::MIN + 1, i64::MAX] {
            assert_eq!(cache.resolve(us), None);
        }
    }

    /// The hour cache resolves every local time as `resolve_local` does,
    /// across DST changes on the hour, on the half hour (Lord Howe) and in
    /// zones with odd offsets.
    #[test]
    fn local_cache_matches_resolve_local() {
        let zones = [
            chrono_tz::America::New_York,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::America::Santiago,
            chrono_tz::Europe::Dublin,
            chrono_tz::UTC,
        ];
        let start = naive(0).unwrap() + chrono::Duration::days(365 * 55);
        let start = start.and_utc().timestamp_micros();
        for tz in zones {
            let mut cache = LocalCache::new(tz);
            // Every 7 minutes over two years, plus the minute after, and
            // a time in the hour that takes the same slot.
            let mut us = start;
            let far = HOURS as i64 * HOUR_US;
            while us < start + 2 * 366 * 24 * HOUR_US {
                for v in [us, us + 60 * MICROS, us + far] {
                    let want = resolve_local(naive(v).unwrap(), tz);
                    assert_eq!(cache.resolve(v), want, "{tz} {:?}", naive(v));
                }
                us += 7 * 60 * MICROS;
            }
        }
    }
}
