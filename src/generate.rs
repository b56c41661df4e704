//! `kpi generate`: a seeded, realistic data set for the canonical event model
//! (DESIGN.md section 5) and a `kpi.toml` that maps it. The bundled example
//! project in `examples/support` is this generator's output for seed 42.
//!
//! Determinism: the seed drives ChaCha8 streams (`rand_chacha`, whose output
//! is fixed by the algorithm, not by a crate version); the samplers below use
//! only IEEE basic arithmetic and `sqrt` (`exp` and `ln` are computed here,
//! not by the platform's libm), and no hash map is iterated, so a seed gives
//! byte-identical files on every machine.
//!
//! Order of work: agents and their shifts first (tickets are routed to agents
//! on shift, and agent work advances only on shift time, which is what gives
//! email its overnight waits); then customers and their subscription history;
//! then tickets day by day in creation order, each written with its messages,
//! calls, surveys and QA reviews as soon as it is made, so memory grows with
//! customers and agents, not with tickets. Everything after the export
//! instant (the end of the range) is cut off: that is what leaves tickets new,
//! open or pending near the end, as in a real export.

use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chrono::{
    Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Weekday,
};
use chrono_tz::Tz;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default number of tickets (the bundled example).
pub const DEFAULT_TICKETS: u64 = 5000;
/// Most tickets `kpi generate` makes (10x the largest benchmark).
pub const MAX_TICKETS: u64 = 100_000_000;
/// Default length of the range in calendar months.
pub const DEFAULT_MONTHS: u32 = 4;
/// Default first day of the range.
pub const DEFAULT_START: &str = "2026-01-01";
/// Default project time zone.
pub const DEFAULT_TIMEZONE: &str = "America/New_York";
/// Default seed (the bundled example).
pub const DEFAULT_SEED: u64 = 42;

/// File format of the generated tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// One CSV file per table, with a header row.
    #[default]
    Csv,
    /// One Parquet file per table, typed as the canonical model declares
    /// (see `ParquetTable`): the same values as the CSV files of the seed.
    Parquet,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["csv", "parquet"];

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "parquet" => Ok(Format::Parquet),
            _ => Err(format!(
                "unknown format `{s}`; use {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Project directory: `kpi.toml` and `data/` are written there.
    pub out: PathBuf,
    pub seed: u64,
    /// Tickets created in the range (exactly this many).
    pub tickets: u64,
    /// First local day of the range.
    pub start: NaiveDate,
    /// Length of the range in calendar months; its end is the export instant.
    pub months: u32,
    /// IANA time zone of the project.
    pub timezone: String,
    pub format: Format,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            out: PathBuf::from("examples/support"),
            seed: DEFAULT_SEED,
            tickets: DEFAULT_TICKETS,
            start: DEFAULT_START.parse().expect("valid default date"),
            months: DEFAULT_MONTHS,
            timezone: DEFAULT_TIMEZONE.to_string(),
            format: Format::Csv,
        }
    }
}

/// One written table.
#[derive(Clone, Debug)]
pub struct TableStats {
    pub name: &'static str,
    pub path: PathBuf,
    pub rows: u64,
    pub bytes: u64,
}

/// What `generate` wrote.
#[derive(Clone, Debug)]
pub struct Summary {
    pub project_file: PathBuf,
    pub tables: Vec<TableStats>,
}

impl Summary {
    pub fn total_bytes(&self) -> u64 {
        self.tables.iter().map(|t| t.bytes).sum()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for t in &self.tables {
            writeln!(
                f,
                "  {:<20} {:>10} rows  {:>12} bytes  {}",
                t.name,
                t.rows,
                t.bytes,
                t.path.display()
            )?;
        }
        writeln!(
            f,
            "  {:<20} {:>10}       {:>12} bytes  {}",
            "total",
            self.tables.iter().map(|t| t.rows).sum::<u64>(),
            self.total_bytes(),
            self.project_file.display()
        )
    }
}

/// Arguments of `kpi generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Project directory to write (kpi.toml and data/); created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Tickets created in the range.
    #[arg(long, default_value_t = DEFAULT_TICKETS)]
    pub tickets: u64,
    /// Length of the range in calendar months.
    #[arg(long, default_value_t = DEFAULT_MONTHS)]
    pub months: u32,
    /// First day of the range (YYYY-MM-DD, local).
    #[arg(long, default_value = DEFAULT_START)]
    pub start: NaiveDate,
    /// Project time zone (IANA name).
    #[arg(long, default_value = DEFAULT_TIMEZONE)]
    pub timezone: String,
    /// Table file format: csv or parquet.
    #[arg(long, default_value = "csv")]
    pub format: Format,
}

/// Runs `kpi generate`: writes the project and prints rows per table to stderr.
pub fn cli(args: &GenerateArgs) -> ExitCode {
    let opts = GenOptions {
        out: args.out.clone(),
        seed: args.seed,
        tickets: args.tickets,
        start: args.start,
        months: args.months,
        timezone: args.timezone.clone(),
        format: args.format,
    };
    let began = Instant::now();
    match generate(&opts) {
        Ok(summary) => {
            eprintln!(
                "generated {} (seed {}, {} tickets from {} for {} months, {}) in {:.1}s:",
                opts.out.display(),
                opts.seed,
                opts.tickets,
                opts.start,
                opts.months,
                opts.timezone,
                began.elapsed().as_secs_f64()
            );
            eprint!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: kpi generate: {e}");
            ExitCode::from(if e.kind() == io::ErrorKind::InvalidInput {
                2
            } else {
                1
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Deterministic randomness and math

/// ChaCha8 with samplers built from basic arithmetic only (see module doc).
struct Rng(ChaCha8Rng);

impl Rng {
    /// An independent stream `stream` of the generator seeded by `seed`.
    fn new(seed: u64, stream: u64) -> Self {
        // The 32-byte key is spelled out (splitmix64 of the seed) rather than
        // left to `seed_from_u64`, so the stream depends on nothing but ChaCha8.
        let mut key = [0u8; 32];
        let mut s = seed;
        for chunk in key.chunks_mut(8) {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
        }
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(stream);
        Rng(rng)
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n); n > 0. (Multiply-shift; the bias is below 2^-40.)
    fn below(&mut self, n: u64) -> u64 {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform integer in [lo, hi].
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Marsaglia's polar method).
    fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.f64() - 1.0;
            let v = 2.0 * self.f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// Log-normal with the given median and log-scale spread, in seconds.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// Exponential with the given mean.
    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * ln(1.0 - self.f64())
    }

    /// Index drawn with probability proportional to `weights`.
    fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const LN2: f64 = std::f64::consts::LN_2;

/// e^x by range reduction and a Taylor polynomial: basic arithmetic only, so
/// the result is the same on every platform (unlike libm's `exp`).
fn exp(x: f64) -> f64 {
    if x < -700.0 {
        return 0.0;
    }
    let x = x.min(700.0);
    // Cody and Waite: ln 2 in two parts, the first exact in k * LN2_HI.
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let k = (x / LN2).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut sum = 1.0;
    let mut term = 1.0;
    for n in 1..=16 {
        term *= r / n as f64;
        sum += term;
    }
    sum * f64::from_bits(((k as i64 + 1023) as u64) << 52)
}

/// Natural logarithm for x > 0 (normal numbers), by frexp and the atanh series.
fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut n = 1.0;
    while n < 40.0 {
        sum += term / n;
        term *= s2;
        n += 2.0;
    }
    e as f64 * LN2 + 2.0 * sum
}

fn clamp_round(x: f64, lo: i64, hi: i64) -> i64 {
    (x.round() as i64).clamp(lo, hi)
}

// ---------------------------------------------------------------------------
// Time

/// Instants are whole seconds since the Unix epoch (UTC). An instant that
/// never happens (work pushed past every known shift).
const NEVER: i64 = i64::MAX / 4;
const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// Days after the range for which shifts exist, so work started near the end
/// has somewhere to finish (after the export instant, hence cut).
const LOOKAHEAD_DAYS: usize = 60;

/// Converts between instants and local times in the project zone.
#[derive(Clone)]
struct TimeFormat {
    tz: Tz,
    /// Second occurrences of repeated local hours (autumn DST): `[from, to)`.
    /// A naive local time there would be read back as the first occurrence,
    /// an hour early, so such instants are written as `to` (see `local`).
    folds: Vec<(i64, i64)>,
}

impl TimeFormat {
    fn new(tz: Tz, lo: i64, hi: i64) -> Self {
        let off = |t: i64| tz.offset_from_utc_datetime(&utc(t)).fix().local_minus_utc() as i64;
        let mut folds = Vec::new();
        let step = 6 * HOUR;
        let mut t = lo;
        while t < hi {
            let (a, b) = (off(t), off(t + step));
            if b < a {
                // The first instant with the new (smaller) offset.
                let (mut l, mut h) = (t, t + step);
                while h - l > 1 {
                    let mid = l + (h - l) / 2;
                    if off(mid) == a {
                        l = mid;
                    } else {
                        h = mid;
                    }
                }
                folds.push((h, h + (a - b)));
            }
            t += step;
        }
        TimeFormat { tz, folds }
    }

    /// The local wall time that reads back (first-occurrence rule) as `t`, or
    /// as the end of the repeated hour when `t` is its second occurrence: a
    /// monotone map, so the order of events survives a naive export.
    fn local(&self, t: i64) -> NaiveDateTime {
        let t = match self.folds.iter().find(|(a, b)| *a <= t && t < *b) {
            Some(&(_, b)) => b,
            None => t,
        };
        self.tz.from_utc_datetime(&utc(t)).naive_local()
    }

    fn write_naive(&self, t: i64, out: &mut String) {
        let n = self.local(t);
        let _ = write!(
            out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            n.year(),
            n.month(),
            n.day(),
            n.hour(),
            n.minute(),
            n.second()
        );
    }

    fn write_rfc3339(&self, t: i64, out: &mut String) {
        let dt = self.tz.from_utc_datetime(&utc(t));
        let n = dt.naive_local();
        let off = dt.offset().fix().local_minus_utc();
        let (sign, off) = if off < 0 { ('-', -off) } else { ('+', off) };
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
            n.year(),
            n.month(),
            n.day(),
            n.hour(),
            n.minute(),
            n.second(),
            sign,
            off / 3600,
            off % 3600 / 60
        );
    }
}

fn utc(t: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("instant in chrono's range")
        .naive_utc()
}

/// The local calendar of the range: day boundaries and local → instant.
struct Clock {
    tz: Tz,
    start: NaiveDate,
    /// Days in the range.
    days: usize,
    /// Local midnights of days `0..=days + LOOKAHEAD_DAYS`.
    midnights: Vec<i64>,
    /// The export instant: local midnight after the last day.
    end: i64,
    /// Local midnights of the first days of the months of the range, and of
    /// the month after.
    month_starts: Vec<i64>,
    /// Day index of each month start.
    month_days: Vec<usize>,
}

impl Clock {
    fn new(tz: Tz, start: NaiveDate, months: u32) -> io::Result<Clock> {
        let end_date = start
            .checked_add_months(chrono::Months::new(months))
            .ok_or_else(|| invalid("the range ends past the calendar"))?;
        let days = (end_date - start).num_days() as usize;
        let mut clock = Clock {
            tz,
            start,
            days,
            midnights: Vec::new(),
            end: 0,
            month_starts: Vec::new(),
            month_days: Vec::new(),
        };
        clock.midnights = (0..=days + LOOKAHEAD_DAYS)
            .map(|d| clock.resolve(clock.date(d).and_hms_opt(0, 0, 0).expect("midnight")))
            .collect();
        clock.end = clock.midnights[days];
        for m in 0..=months {
            let date = start
                .checked_add_months(chrono::Months::new(m))
                .expect("checked above");
            let d = (date - start).num_days() as usize;
            clock.month_days.push(d);
            clock.month_starts.push(clock.midnights[d]);
        }
        Ok(clock)
    }

    fn date(&self, day: usize) -> NaiveDate {
        self.start + Duration::days(day as i64)
    }

    /// A local wall time as an instant: a time in a spring-forward gap moves
    /// forward by the gap, a repeated time takes its first occurrence.
    fn resolve(&self, n: NaiveDateTime) -> i64 {
        let mut n = n;
        for _ in 0..8 {
            match self.tz.from_local_datetime(&n) {
                LocalResult::Single(t) => return t.timestamp(),
                LocalResult::Ambiguous(a, _) => return a.timestamp(),
                LocalResult::None => n += Duration::minutes(30),
            }
        }
        self.tz.from_utc_datetime(&n).timestamp()
    }

    /// `secs` after local midnight of `day`, counted on the wall clock.
    fn at(&self, day: usize, secs: i64) -> i64 {
        let n = self.date(day).and_hms_opt(0, 0, 0).expect("midnight") + Duration::seconds(secs);
        self.resolve(n)
    }

    /// The day index holding `t` (0 before the range, the last known day after).
    fn day_of(&self, t: i64) -> usize {
        self.midnights
            .partition_point(|m| *m <= t)
            .saturating_sub(1)
            .min(self.midnights.len() - 2)
    }

    fn weekday(&self, day: usize) -> Weekday {
        self.date(day).weekday()
    }

    fn local_hour(&self, t: i64) -> u32 {
        self.tz.from_utc_datetime(&utc(t)).hour()
    }

    fn month_of(&self, t: i64) -> Option<usize> {
        let i = self.month_starts.partition_point(|m| *m <= t);
        (i >= 1 && i < self.month_starts.len()).then(|| i - 1)
    }
}

fn is_weekend(w: Weekday) -> bool {
    matches!(w, Weekday::Sat | Weekday::Sun)
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

// ---------------------------------------------------------------------------
// Writers

/// A typed cell. Writers decide the text form (CSV) or the physical type.
#[derive(Clone, Copy)]
enum Val<'a> {
    Str(&'a str),
    Int(i64),
    /// A float with this many decimals in text form.
    Float(f64, usize),
    Bool(bool),
    /// An instant.
    Time(i64),
    /// Seconds.
    Duration(i64),
    Null,
}

fn opt_time(t: Option<i64>) -> Val<'static> {
    t.map_or(Val::Null, Val::Time)
}

fn opt_str(s: Option<&str>) -> Val<'_> {
    s.map_or(Val::Null, Val::Str)
}

/// How a table writes its timestamps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeStyle {
    /// `YYYY-MM-DD HH:MM:SS`, wall time in the project zone.
    Naive,
    /// RFC 3339 with the zone's offset at that instant.
    Rfc3339,
}

/// One output table: `CsvTable` or `ParquetTable`.
trait TableWriter {
    fn row(&mut self, vals: &[Val<'_>]) -> io::Result<()>;
    /// Flushes and closes; returns the rows written.
    fn finish(self: Box<Self>) -> io::Result<u64>;
}

struct CsvTable {
    w: csv::Writer<BufWriter<File>>,
    rec: csv::ByteRecord,
    buf: String,
    time: TimeFormat,
    style: TimeStyle,
    rows: u64,
}

impl TableWriter for CsvTable {
    fn row(&mut self, vals: &[Val<'_>]) -> io::Result<()> {
        self.rec.clear();
        for v in vals {
            self.buf.clear();
            match *v {
                Val::Str(s) => self.buf.push_str(s),
                Val::Int(i) | Val::Duration(i) => {
                    let _ = write!(self.buf, "{i}");
                }
                Val::Float(x, d) => {
                    let _ = write!(self.buf, "{x:.d$}");
                }
                Val::Bool(b) => self.buf.push_str(if b { "true" } else { "false" }),
                Val::Time(t) => match self.style {
                    TimeStyle::Naive => self.time.write_naive(t, &mut self.buf),
                    TimeStyle::Rfc3339 => self.time.write_rfc3339(t, &mut self.buf),
                },
                Val::Null => {}
            }
            self.rec.push_field(self.buf.as_bytes());
        }
        self.w.write_byte_record(&self.rec)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<u64> {
        let rows = self.rows;
        let mut inner = self.w.into_inner().map_err(|e| e.into_error())?;
        io::Write::flush(&mut inner)?;
        Ok(rows)
    }
}

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// A table written as Parquet, one row group per [`ROW_GROUP_ROWS`] rows.
///
/// Column types are the canonical model's: string → BYTE_ARRAY (UTF8), int
/// → INT64, float → DOUBLE, bool → BOOLEAN, duration → INT64 seconds,
/// timestamp → INT64 TIMESTAMP(MICROS). The values are those the CSV
/// files hold, so both formats read the same: a float is rounded to the
/// decimals the CSV prints; the naive local times of the CSV are local wall
/// times (`isAdjustedToUTC = false`, read in the project zone by the same
/// rule), and the RFC 3339 times of `messages` are UTC instants
/// (`isAdjustedToUTC = true`). Columns the model marks nullable are
/// OPTIONAL, the others REQUIRED. Snappy-compressed.
struct ParquetTable {
    w: parquet::file::writer::SerializedFileWriter<BufWriter<File>>,
    table: String,
    cols: Vec<PqColumn>,
    time: TimeFormat,
    style: TimeStyle,
    /// Rows buffered for the next row group.
    buffered: usize,
    rows: u64,
    buf: String,
}

struct PqColumn {
    name: String,
    ty: kpi_dsl::Type,
    optional: bool,
    defs: Vec<i16>,
    values: PqValues,
}

enum PqValues {
    Bytes(Vec<parquet::data_type::ByteArray>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Bool(Vec<bool>),
}

fn pq_error(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

impl ParquetTable {
    fn create(
        path: &Path,
        table: &str,
        header: &[&str],
        time: &TimeFormat,
        style: TimeStyle,
    ) -> io::Result<ParquetTable> {
        use kpi_dsl::Type;
        use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
        use parquet::schema::types::Type as Field;
        let schema = kpi_engine::canonical::tables();
        let Some(ts) = schema.get(table) else {
            return Err(invalid(format!("no canonical table `{table}`")));
        };
        let mut fields = Vec::new();
        let mut cols = Vec::new();
        for &name in header {
            let ty = ts.columns.get(name).cloned().ok_or_else(|| {
                invalid(format!(
                    "no column `{name}` in the canonical table `{table}`"
                ))
            })?;
            let (physical, logical, values) = match ty {
                Type::String => (
                    Physical::BYTE_ARRAY,
                    Some(LogicalType::String),
                    PqValues::Bytes(Vec::new()),
                ),
                Type::Int | Type::Duration => (Physical::INT64, None, PqValues::I64(Vec::new())),
                Type::Float => (Physical::DOUBLE, None, PqValues::F64(Vec::new())),
                Type::Bool => (Physical::BOOLEAN, None, PqValues::Bool(Vec::new())),
                Type::Timestamp => (
                    Physical::INT64,
                    Some(LogicalType::timestamp(
                        style == TimeStyle::Rfc3339,
                        TimeUnit::MICROS,
                    )),
                    PqValues::I64(Vec::new()),
                ),
                ref t => return Err(invalid(format!("cannot write a {t} column"))),
            };
            let optional = kpi_engine::canonical::is_nullable(table, name);
            let field = Field::primitive_type_builder(name, physical)
                .with_logical_type(logical)
                .with_repetition(if optional {
                    Repetition::OPTIONAL
                } else {
                    Repetition::REQUIRED
                })
                .build()
                .map_err(pq_error)?;
            fields.push(std::sync::Arc::new(field));
            cols.push(PqColumn {
                name: name.to_string(),
                ty,
                optional,
                defs: Vec::new(),
                values,
            });
        }
        let root = Field::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(pq_error)?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("kpi generate {}", env!("CARGO_PKG_VERSION")))
            .build();
        let w = parquet::file::writer::SerializedFileWriter::new(
            BufWriter::with_capacity(1 << 16, File::create(path)?),
            std::sync::Arc::new(root),
            std::sync::Arc::new(props),
        )
        .map_err(pq_error)?;
        Ok(ParquetTable {
            w,
            table: table.to_string(),
            cols,
            time: time.clone(),
            style,
            buffered: 0,
            rows: 0,
            buf: String::new(),
        })
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> io::Result<()> {
        use parquet::data_type::{BoolType, ByteArrayType, DoubleType, Int64Type};
        if self.buffered == 0 {
            return Ok(());
        }
        let mut rg = self.w.next_row_group().map_err(pq_error)?;
        for c in &mut self.cols {
            let mut cw = rg
                .next_column()
                .map_err(pq_error)?
                .ok_or_else(|| io::Error::other("fewer column writers than columns"))?;
            let defs = c.optional.then_some(c.defs.as_slice());
            match &mut c.values {
                PqValues::Bytes(v) => {
                    cw.typed::<ByteArrayType>().write_batch(v, defs, None)?;
                    v.clear();
                }
                PqValues::I64(v) => {
                    cw.typed::<Int64Type>().write_batch(v, defs, None)?;
                    v.clear();
                }
                PqValues::F64(v) => {
                    cw.typed::<DoubleType>().write_batch(v, defs, None)?;
                    v.clear();
                }
                PqValues::Bool(v) => {
                    cw.typed::<BoolType>().write_batch(v, defs, None)?;
                    v.clear();
                }
            }
            c.defs.clear();
            cw.close().map_err(pq_error)?;
        }
        rg.close().map_err(pq_error)?;
        self.buffered = 0;
        Ok(())
    }
}

impl TableWriter for ParquetTable {
    fn row(&mut self, vals: &[Val<'_>]) -> io::Result<()> {
        use kpi_dsl::Type;
        if vals.len() != self.cols.len() {
            return Err(io::Error::other(format!(
                "{}: a row of {} values for {} columns",
                self.table,
                vals.len(),
                self.cols.len()
            )));
        }
        for (c, v) in self.cols.iter_mut().zip(vals) {
            let value = match (&mut c.values, &c.ty, *v) {
                (_, _, Val::Null) => None,
                (PqValues::Bytes(out), _, Val::Str(s)) => {
                    out.push(s.into());
                    Some(())
                }
                (PqValues::Bytes(out), _, Val::Int(i)) => {
                    out.push(i.to_string().as_str().into());
                    Some(())
                }
                (PqValues::I64(out), Type::Int, Val::Int(i))
                | (PqValues::I64(out), Type::Duration, Val::Duration(i)) => {
                    out.push(i);
                    Some(())
                }
                (PqValues::I64(out), Type::Timestamp, Val::Time(t)) => {
                    out.push(match self.style {
                        TimeStyle::Naive => self.time.local(t).and_utc().timestamp_micros(),
                        TimeStyle::Rfc3339 => t * 1_000_000,
                    });
                    Some(())
                }
                (PqValues::F64(out), _, Val::Float(x, d)) => {
                    // The value the CSV text holds.
                    self.buf.clear();
                    let _ = write!(self.buf, "{x:.d$}");
                    out.push(self.buf.parse().map_err(io::Error::other)?);
                    Some(())
                }
                (PqValues::F64(out), _, Val::Int(i)) => {
                    out.push(i as f64);
                    Some(())
                }
                (PqValues::Bool(out), _, Val::Bool(b)) => {
                    out.push(b);
                    Some(())
                }
                (_, ty, _) => {
                    return Err(io::Error::other(format!(
                        "{}.{}: a value of another type than {ty}",
                        self.table, c.name
                    )))
                }
            };
            match (value, c.optional) {
                (Some(()), true) => c.defs.push(1),
                (Some(()), false) => {}
                (None, true) => c.defs.push(0),
                (None, false) => {
                    return Err(io::Error::other(format!(
                        "{}.{}: a null in a column the model requires",
                        self.table, c.name
                    )))
                }
            }
        }
        self.buffered += 1;
        self.rows += 1;
        if self.buffered == ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> io::Result<u64> {
        self.flush()?;
        // Writes the footer and flushes the file.
        self.w.close().map_err(pq_error)?;
        Ok(self.rows)
    }
}

/// The canonical tables in model order, with their headers.
const TABLES: &[(&str, &[&str])] = &[
    (
        "tickets",
        &[
            "id",
            "created_at",
            "assigned_at",
            "first_response_at",
            "solved_at",
            "status",
            "channel",
            "priority",
            "agent_id",
            "team",
            "customer_id",
            "escalated",
            "reopened",
            "contacts",
            "handle_time",
            "help_center_resolvable",
        ],
    ),
    (
        "messages",
        &[
            "id",
            "ticket_id",
            "created_at",
            "author_role",
            "agent_id",
            "body",
        ],
    ),
    (
        "calls",
        &[
            "id",
            "ticket_id",
            "agent_id",
            "queued_at",
            "answered_at",
            "ended_at",
            "talk_time",
            "hold_time",
            "wrap_time",
        ],
    ),
    (
        "surveys",
        &[
            "id",
            "ticket_id",
            "customer_id",
            "agent_id",
            "channel",
            "created_at",
            "kind",
            "score",
        ],
    ),
    (
        "qa_reviews",
        &[
            "id",
            "ticket_id",
            "agent_id",
            "channel",
            "reviewed_at",
            "score",
        ],
    ),
    (
        "customers",
        &["id", "created_at", "churned_at", "plan", "premium"],
    ),
    (
        "subscription_events",
        &["id", "customer_id", "at", "kind", "mrr_delta"],
    ),
    ("finance", &["id", "at", "kind", "amount"]),
    ("agent_shifts", &["agent_id", "team", "start_at", "end_at"]),
    (
        "employee_surveys",
        &["id", "agent_id", "team", "created_at", "enps_score"],
    ),
];

/// The one table whose timestamps carry their offset; all others are naive
/// local times, so both forms of DESIGN.md section 2 are exercised.
const RFC3339_TABLE: &str = "messages";

fn open_writer(
    format: Format,
    path: &Path,
    table: &str,
    header: &[&str],
    time: &TimeFormat,
    style: TimeStyle,
) -> io::Result<Box<dyn TableWriter>> {
    match format {
        Format::Parquet => Ok(Box::new(ParquetTable::create(
            path, table, header, time, style,
        )?)),
        Format::Csv => {
            let mut w =
                csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, File::create(path)?));
            w.write_record(header)?;
            Ok(Box::new(CsvTable {
                w,
                rec: csv::ByteRecord::new(),
                buf: String::new(),
                time: time.clone(),
                style,
                rows: 0,
            }))
        }
    }
}

/// All ten writers, addressed by the table's index in `TABLES`.
struct Out {
    writers: Vec<Box<dyn TableWriter>>,
    paths: Vec<PathBuf>,
}

const TICKETS: usize = 0;
const MESSAGES: usize = 1;
const CALLS: usize = 2;
const SURVEYS: usize = 3;
const QA_REVIEWS: usize = 4;
const CUSTOMERS: usize = 5;
const SUBSCRIPTION_EVENTS: usize = 6;
const FINANCE: usize = 7;
const AGENT_SHIFTS: usize = 8;
const EMPLOYEE_SURVEYS: usize = 9;

impl Out {
    fn row(&mut self, table: usize, vals: &[Val<'_>]) -> io::Result<()> {
        self.writers[table].row(vals)
    }
}

// ---------------------------------------------------------------------------
// The model's vocabulary

const TEAMS: [&str; 4] = ["general", "billing", "technical", "tier2"];
const GENERAL: usize = 0;
const BILLING: usize = 1;
const TECHNICAL: usize = 2;
const TIER2: usize = 3;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Channel {
    Email,
    Chat,
    Phone,
    Social,
    Web,
}

impl Channel {
    const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Chat,
        Channel::Phone,
        Channel::Social,
        Channel::Web,
    ];

    fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Phone => "phone",
            Channel::Social => "social",
            Channel::Web => "web",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    fn name(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    /// How much faster agents answer: urgent jumps the queue.
    fn speed(self) -> f64 {
        match self {
            Priority::Low => 1.5,
            Priority::Normal => 1.0,
            Priority::High => 0.5,
            Priority::Urgent => 0.2,
        }
    }

    /// The catalog's default resolution SLA (KPI_CATALOG.md, default params).
    fn sla_resolution(self) -> i64 {
        match self {
            Priority::Low => 96 * HOUR,
            Priority::Normal => 48 * HOUR,
            Priority::High => 24 * HOUR,
            Priority::Urgent => 8 * HOUR,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Topic {
    Billing,
    Technical,
    Account,
    HowTo,
}

impl Topic {
    const ALL: [Topic; 4] = [
        Topic::Billing,
        Topic::Technical,
        Topic::Account,
        Topic::HowTo,
    ];

    fn team(self) -> usize {
        match self {
            Topic::Billing => BILLING,
            Topic::Technical => TECHNICAL,
            Topic::Account | Topic::HowTo => GENERAL,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

const PLANS: [&str; 3] = ["basic", "pro", "enterprise"];
const ENTERPRISE: u8 = 2;

// ---------------------------------------------------------------------------
// Agents and shifts

struct Agent {
    id: String,
    team: usize,
    /// Multiplies every delay of this agent's work (< 1 is faster).
    speed: f64,
    /// About -1 … 1: QA scores, customer satisfaction, fewer reopens.
    quality: f64,
    /// 0 … 1: how often replies carry empathy phrases (read by the PEC plugin).
    empathy: f64,
    /// Multiplies the chance to escalate a ticket.
    escalate: f64,
    /// Mean eNPS answer.
    engagement: f64,
    /// Writes Chinese; Chinese-speaking customers are routed to these agents.
    zh: bool,
    /// First and (exclusive) last day employed.
    hired: usize,
    left: usize,
}

struct Staff {
    agents: Vec<Agent>,
    /// `[agent][day]`: the shift that day, if any (never crosses midnight).
    shifts: Vec<Vec<Option<(i64, i64)>>>,
    /// `[day][team]`: agents with a shift that day.
    rota: Vec<[Vec<u32>; 4]>,
    /// `[day]`: union of that day's shifts, sorted.
    coverage: Vec<Vec<(i64, i64)>>,
}

// Shifts are indexed `[agent][day]` and built day by day.
#[allow(clippy::needless_range_loop)]
fn make_staff(rng: &mut Rng, clock: &Clock, tickets: u64) -> Staff {
    // About 25 agents for the example; a larger data set gets a larger team
    // with the same structure (one team pattern repeats every 25 agents).
    let n = (tickets / 240).clamp(25, 2000) as usize;
    let width = if n < 100 { 2 } else { n.to_string().len() };
    let horizon = clock.days + LOOKAHEAD_DAYS;
    let mut agents = Vec::with_capacity(n);
    for i in 0..n {
        let k = i % 25;
        let team = match k {
            0..=9 => GENERAL,
            10..=14 => BILLING,
            15..=20 => TECHNICAL,
            _ => TIER2,
        };
        let team_speed = [1.0, 1.15, 1.35, 0.85][team];
        // Two late hires (slower, escalate more) and one leaver per 25.
        let late = k == 9 || k == 19;
        let hired = if late {
            (clock.days as f64 * rng.uniform(0.2, 0.6)) as usize
        } else {
            0
        };
        let left = if k == 4 {
            (clock.days as f64 * rng.uniform(0.55, 0.85)) as usize
        } else {
            usize::MAX
        };
        let speed = team_speed * rng.lognormal(1.0, 0.28) * if late { 1.3 } else { 1.0 };
        let quality = (rng.normal() * 0.45 - if late { 0.4 } else { 0.0 }).clamp(-1.0, 1.0);
        agents.push(Agent {
            id: format!("a{:0width$}", i + 1),
            team,
            speed,
            quality,
            empathy: rng.uniform(0.15, 0.9),
            escalate: rng.lognormal(1.0, 0.4) * if late { 1.6 } else { 1.0 },
            engagement: if k == 4 {
                3.5
            } else if late {
                8.6
            } else {
                rng.uniform(7.0, 9.6)
            },
            zh: matches!(k, 2 | 7 | 12 | 17 | 22),
            hired,
            left,
        });
    }

    let mut shifts = vec![vec![None; horizon]; n];
    let start_hours: [i64; 5] = [7, 8, 9, 10, 12];
    // Each agent takes a week of holiday with probability 0.6.
    let holidays: Vec<Option<usize>> = (0..n)
        .map(|_| {
            rng.chance(0.6)
                .then(|| rng.below(clock.days.max(1) as u64) as usize)
        })
        .collect();
    // Weekend rota: a few tier-1 agents per day (3 of the example's 25).
    let weekend_crew = (n * 3 / 25).max(3);
    for day in 0..horizon {
        let employed = |i: usize| day >= agents[i].hired && day < agents[i].left;
        if is_weekend(clock.weekday(day)) {
            let mut pool: Vec<usize> = (0..n)
                .filter(|&i| employed(i) && agents[i].team != TIER2)
                .collect();
            for k in 0..weekend_crew.min(pool.len()) {
                let j = k + rng.below((pool.len() - k) as u64) as usize;
                pool.swap(k, j);
                let hour = [9, 10, 12][k % 3];
                let from = clock.at(day, hour * HOUR + rng.int(-2, 2) * 5 * MIN);
                shifts[pool[k]][day] = Some((from, from + 8 * HOUR));
            }
            continue;
        }
        for (i, a) in agents.iter().enumerate() {
            let on_holiday = holidays[i].is_some_and(|h| day >= h && day < h + 7);
            if !employed(i) || on_holiday || rng.chance(0.025) {
                continue;
            }
            let hour = if a.team == TIER2 {
                start_hours[1 + i % 3]
            } else {
                start_hours[i % 5]
            };
            let from = clock.at(day, hour * HOUR + rng.int(-2, 2) * 5 * MIN);
            shifts[i][day] = Some((from, from + 8 * HOUR));
        }
    }
    let mut rota = Vec::with_capacity(horizon);
    let mut coverage = Vec::with_capacity(horizon);
    for day in 0..horizon {
        let mut teams: [Vec<u32>; 4] = Default::default();
        let mut spans = Vec::new();
        for (i, a) in agents.iter().enumerate() {
            if let Some(s) = shifts[i][day] {
                teams[a.team].push(i as u32);
                spans.push(s);
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        rota.push(teams);
        coverage.push(merged);
    }
    Staff {
        agents,
        shifts,
        rota,
        coverage,
    }
}

impl Staff {
    fn on_shift(&self, clock: &Clock, a: usize, t: i64) -> bool {
        let d = clock.day_of(t);
        self.shifts[a][d].is_some_and(|(s, e)| s <= t && t < e)
    }

    /// The earliest instant ≥ t when someone is on shift.
    fn next_covered(&self, clock: &Clock, t: i64) -> i64 {
        for d in clock.day_of(t)..self.coverage.len() {
            for &(s, e) in &self.coverage[d] {
                if e > t {
                    return s.max(t);
                }
            }
        }
        NEVER
    }

    /// The instant at which agent `a` has worked `secs` of shift time since `t`.
    fn advance(&self, clock: &Clock, a: usize, t: i64, secs: f64) -> i64 {
        let mut left = secs.max(1.0) as i64;
        for d in clock.day_of(t)..self.shifts[a].len() {
            if let Some((s, e)) = self.shifts[a][d] {
                if e > t {
                    let from = s.max(t);
                    if left <= e - from {
                        return from + left;
                    }
                    left -= e - from;
                }
            }
        }
        NEVER
    }

    /// An agent for work arriving at `t`: someone on shift at the first
    /// covered instant, preferably from `team` (and writing Chinese when
    /// `zh`). Returns the agent and that instant.
    fn pick(
        &self,
        rng: &mut Rng,
        clock: &Clock,
        t: i64,
        team: usize,
        zh: bool,
    ) -> Option<(usize, i64)> {
        let t0 = self.next_covered(clock, t);
        if t0 >= NEVER {
            return None;
        }
        let d = clock.day_of(t0);
        // Overflow: 12% of work goes to another tier-1 team.
        let mut order = vec![team];
        if team != TIER2 && rng.chance(0.12) {
            order.insert(0, *rng.choose(&[GENERAL, BILLING, TECHNICAL]));
        }
        order.extend([GENERAL, BILLING, TECHNICAL, TIER2]);
        for &tm in &order {
            let list = &self.rota[d][tm];
            if list.is_empty() {
                continue;
            }
            for attempt in 0..24 {
                let a = list[rng.below(list.len() as u64) as usize] as usize;
                if self.on_shift(clock, a, t0) && (!zh || self.agents[a].zh || attempt >= 12) {
                    return Some((a, t0));
                }
            }
            let on: Vec<u32> = list
                .iter()
                .copied()
                .filter(|&a| self.on_shift(clock, a as usize, t0))
                .collect();
            if !on.is_empty() {
                return Some((on[rng.below(on.len() as u64) as usize] as usize, t0));
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Customers and subscriptions

struct Customer {
    created: i64,
    /// Churn instant, when before the export.
    churn: Option<i64>,
    /// Reactivation after the churn, when before the export.
    react: Option<i64>,
    plan: u8,
    premium: bool,
    zh: bool,
    /// 0 … 1: files more tickets, angrier, rates lower, churns sooner.
    grumpy: f64,
}

impl Customer {
    fn active(&self, t: i64) -> bool {
        (self.created <= t && self.churn.iter().all(|c| t < *c))
            || self.react.is_some_and(|r| r <= t)
    }
}

/// Customers, sorted by creation; their subscription events are written as
/// they are made, and each month's revenue per plan is accumulated.
fn make_customers(
    rng: &mut Rng,
    clock: &Clock,
    n_tickets: u64,
    out: &mut Out,
    revenue: &mut [[f64; 3]],
) -> io::Result<Vec<Customer>> {
    let n = (n_tickets * 2 / 5).max(60) as usize;
    let history_days = 3 * 365;
    let range_days = clock.days as f64;
    let mut customers = Vec::with_capacity(n);
    for _ in 0..n {
        // 88% signed up in the three years before the range (more of them
        // recently: the business grows), the rest during it.
        let day_offset = if rng.chance(0.88) {
            let u = rng.f64();
            -(history_days as f64 * u * u.sqrt()) as i64 - 1
        } else {
            (range_days * rng.f64().sqrt()) as i64
        };
        let created = clock.midnights[0] + day_offset * DAY + rng.int(8 * HOUR, 19 * HOUR);
        let plan = rng.pick(&[0.6, 0.3, 0.1]) as u8;
        let premium = rng.chance([0.04, 0.25, 0.9][plan as usize]);
        let grumpy = rng.f64() * rng.f64();
        let hazard_per_month = [0.028, 0.016, 0.008][plan as usize] * (1.0 + 1.5 * grumpy);
        let churn = created + (rng.exponential(1.0 / hazard_per_month) * 30.4 * DAY as f64) as i64;
        let (churn, react) = if churn < clock.end {
            let react = churn + 7 * DAY + rng.exponential(90.0 * DAY as f64) as i64;
            let reactivates = rng.chance(0.12);
            (
                Some(churn),
                (reactivates && react < clock.end).then_some(react),
            )
        } else {
            (None, None)
        };
        customers.push(Customer {
            created,
            churn,
            react,
            plan,
            premium,
            zh: rng.chance(0.2),
            grumpy,
        });
    }
    customers.sort_by_key(|c| c.created);

    let width = n.to_string().len().max(5);
    let mut event_no = 0u64;
    let mut events: Vec<(i64, &str, f64)> = Vec::new();
    let mid_months: Vec<i64> = clock
        .month_starts
        .windows(2)
        .map(|w| w[0] + (w[1] - w[0]) / 2)
        .collect();
    for (i, c) in customers.iter().enumerate() {
        let id = format!("c{:0width$}", i + 1);
        let churned_at = if c.react.is_some() { None } else { c.churn };
        out.row(
            CUSTOMERS,
            &[
                Val::Str(&id),
                Val::Time(c.created),
                opt_time(churned_at),
                Val::Str(PLANS[c.plan as usize]),
                Val::Bool(c.premium),
            ],
        )?;

        // MRR: seats × list price, or a negotiated amount for enterprise.
        let seat_price = [29.0, 79.0, 0.0][c.plan as usize];
        let mut seats = match c.plan {
            0 => rng.int(1, 3),
            1 => rng.int(2, 12),
            _ => 0,
        };
        let mut mrr = if c.plan == ENTERPRISE {
            rng.int(12, 60) as f64 * 100.0
        } else {
            seats as f64 * seat_price
        };
        events.clear();
        events.push((c.created, "new", mrr));
        let change_rate = [0.02, 0.03, 0.035][c.plan as usize]; // per month
        let mut t = c.created;
        let active_until = c.churn.unwrap_or(clock.end);
        loop {
            t += (rng.exponential(30.4 / change_rate) * DAY as f64) as i64;
            if t >= active_until {
                break;
            }
            let grow = rng.chance(0.68 - 0.3 * c.grumpy);
            let delta = if c.plan == ENTERPRISE {
                let d = (mrr * rng.uniform(0.1, 0.3) / 50.0).round() * 50.0;
                if grow {
                    d
                } else {
                    -d.min(mrr - 500.0).max(0.0)
                }
            } else if grow {
                let k = rng.int(1, 3);
                seats += k;
                k as f64 * seat_price
            } else if seats > 1 {
                seats -= 1;
                -seat_price
            } else {
                0.0
            };
            if delta != 0.0 {
                mrr += delta;
                events.push((
                    t,
                    if delta > 0.0 {
                        "expansion"
                    } else {
                        "contraction"
                    },
                    delta,
                ));
            }
        }
        if let Some(ch) = c.churn {
            events.push((ch, "churn", -mrr));
            if let Some(r) = c.react {
                let back = if c.plan == ENTERPRISE {
                    (mrr * rng.uniform(0.6, 1.0) / 50.0).round() * 50.0
                } else {
                    mrr
                };
                events.push((r, "reactivation", back));
            }
        }
        for &(at, kind, delta) in &events {
            event_no += 1;
            let eid = format!("e{event_no:06}");
            out.row(
                SUBSCRIPTION_EVENTS,
                &[
                    Val::Str(&eid),
                    Val::Str(&id),
                    Val::Time(at),
                    Val::Str(kind),
                    Val::Float(delta, 2),
                ],
            )?;
        }
        for (m, mid) in mid_months.iter().enumerate() {
            let at_mid: f64 = events.iter().filter(|e| e.0 <= *mid).map(|e| e.2).sum();
            revenue[m][c.plan as usize] += at_mid;
        }
    }
    Ok(customers)
}

/// Weighted sampling of the customer who opens a ticket.
struct CustomerPicker {
    cumulative: Vec<f64>,
}

impl CustomerPicker {
    fn new(rng: &mut Rng, customers: &[Customer]) -> Self {
        let mut total = 0.0;
        let cumulative = customers
            .iter()
            .map(|c| {
                total += [1.0, 1.6, 3.5][c.plan as usize]
                    * rng.lognormal(1.0, 0.5)
                    * (1.0 + 1.0 * c.grumpy);
                total
            })
            .collect();
        CustomerPicker { cumulative }
    }

    /// A customer active at `t`.
    fn pick(&self, rng: &mut Rng, customers: &[Customer], t: i64) -> usize {
        let total = *self.cumulative.last().expect("customers exist");
        for _ in 0..64 {
            let x = rng.f64() * total;
            let i = self
                .cumulative
                .partition_point(|c| *c <= x)
                .min(customers.len() - 1);
            if customers[i].active(t) {
                return i;
            }
        }
        let from = rng.below(customers.len() as u64) as usize;
        (0..customers.len())
            .map(|k| (from + k) % customers.len())
            .find(|&i| customers[i].active(t))
            .unwrap_or(from)
    }
}

// ---------------------------------------------------------------------------
// Tickets

/// A ticket to be made: arrival, customer and what it is about.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Arrival {
    created: i64,
    customer: usize,
    /// Follow-ups keep the topic and mostly the channel of their predecessor.
    topic: Option<(u8, u8)>,
}

/// A follow-up scheduled for a later day (min-heap by day).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct FollowUp {
    day: std::cmp::Reverse<usize>,
    seq: std::cmp::Reverse<u64>,
    customer: usize,
    topic: u8,
    channel: u8,
}

/// Ticket arrivals per local hour, weekday and weekend (relative).
const HOURS_WEEKDAY: [f64; 24] = [
    0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.7, 1.3, 2.0, 2.3, 2.2, 1.8, 2.0, 2.2, 2.1, 1.9, 1.6,
    1.2, 0.9, 0.7, 0.55, 0.4, 0.25,
];
const HOURS_WEEKEND: [f64; 24] = [
    0.3, 0.2, 0.15, 0.12, 0.12, 0.2, 0.35, 0.6, 0.9, 1.2, 1.4, 1.5, 1.5, 1.5, 1.4, 1.3, 1.2, 1.1,
    1.0, 0.9, 0.8, 0.7, 0.55, 0.4,
];
/// Volume by weekday, Monday first.
const WEEKDAY_VOLUME: [f64; 7] = [1.18, 1.08, 1.02, 1.0, 0.9, 0.42, 0.38];

struct Msg {
    at: i64,
    role: &'static str,
    agent: Option<usize>,
    body: String,
}

struct Call {
    queued: i64,
    answered: Option<i64>,
    ended: i64,
    agent: Option<usize>,
    talk: i64,
    hold: i64,
    wrap: i64,
}

struct Gen<'a> {
    rng: Rng,
    clock: &'a Clock,
    staff: &'a Staff,
    customers: &'a [Customer],
    out: &'a mut Out,
    customer_ids: Vec<String>,
    ticket_width: usize,
    message_no: u64,
    call_no: u64,
    survey_no: u64,
    qa_no: u64,
    follow_seq: u64,
    follow_ups: BinaryHeap<FollowUp>,
    /// Tickets created per month (for support cost).
    per_month: Vec<u64>,
    msgs: Vec<Msg>,
    calls: Vec<Call>,
}

fn make_tickets(g: &mut Gen<'_>, n_tickets: u64, picker: &CustomerPicker) -> io::Result<()> {
    let clock = g.clock;
    let days = clock.days;
    // Daily volume: weekday pattern, growth, noise and about one incident a
    // month (a day of two to three times the volume, mostly technical).
    let mut incident = vec![false; days];
    let mut weights = Vec::with_capacity(days);
    for (d, inc) in incident.iter_mut().enumerate() {
        let wd = clock.weekday(d).num_days_from_monday() as usize;
        *inc = wd < 5 && g.rng.chance(1.0 / 22.0);
        let w = WEEKDAY_VOLUME[wd]
            * (1.0 + 0.15 * d as f64 / days as f64)
            * g.rng.lognormal(1.0, 0.08)
            * if *inc { g.rng.uniform(1.8, 2.6) } else { 1.0 };
        weights.push(w);
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut done = 0u64;
    let mut ticket_no = 0u64;
    for d in 0..days {
        acc += weights[d];
        let upto = if d + 1 == days {
            n_tickets
        } else {
            ((n_tickets as f64) * acc / total).round() as u64
        };
        let quota = upto.saturating_sub(done) as usize;
        done += quota as u64;
        let weekend = is_weekend(clock.weekday(d));
        let profile = if weekend {
            &HOURS_WEEKEND
        } else {
            &HOURS_WEEKDAY
        };
        let mut arrivals = Vec::with_capacity(quota);
        while g.follow_ups.peek().is_some_and(|f| f.day.0 <= d) {
            let f = g.follow_ups.pop().expect("peeked");
            if arrivals.len() < quota {
                let created = clock.at(
                    d,
                    g.rng.pick(profile) as i64 * HOUR + g.rng.below(HOUR as u64) as i64,
                );
                if g.customers[f.customer].active(created) {
                    arrivals.push(Arrival {
                        created,
                        customer: f.customer,
                        topic: Some((f.topic, f.channel)),
                    });
                }
            }
        }
        while arrivals.len() < quota {
            let created = clock.at(
                d,
                g.rng.pick(profile) as i64 * HOUR + g.rng.below(HOUR as u64) as i64,
            );
            let customer = picker.pick(&mut g.rng, g.customers, created);
            arrivals.push(Arrival {
                created,
                customer,
                topic: None,
            });
        }
        arrivals.sort();
        for a in arrivals {
            ticket_no += 1;
            if let Some(m) = clock.month_of(a.created) {
                g.per_month[m] += 1;
            }
            make_ticket(g, ticket_no, &a, incident[d])?;
        }
    }
    Ok(())
}

fn make_ticket(g: &mut Gen<'_>, no: u64, arrival: &Arrival, incident: bool) -> io::Result<()> {
    let clock = g.clock;
    let staff = g.staff;
    let end = clock.end;
    let id = format!("t{:0w$}", no, w = g.ticket_width);
    let customers = g.customers;
    let cust = &customers[arrival.customer];
    let created = arrival.created;
    let hour = clock.local_hour(created);
    let day = clock.day_of(created);
    let weekend = is_weekend(clock.weekday(day));
    let covered = staff.next_covered(clock, created) == created;
    let rng = &mut g.rng;

    // What it is about, where it comes from, how urgent it is.
    let (topic, channel) = match arrival.topic {
        Some((t, c)) => {
            let c = if rng.chance(0.7) {
                c as usize
            } else {
                rng.below(5) as usize
            };
            (Topic::ALL[t as usize], Channel::ALL[c])
        }
        None => {
            let topic = if incident && rng.chance(0.7) {
                Topic::Technical
            } else {
                Topic::ALL[rng.pick(&[0.22, 0.33, 0.2, 0.25])]
            };
            // email, chat, phone, social, web
            let mut w = if weekend {
                [0.35, 0.3, 0.15, 0.1, 0.1]
            } else {
                [0.35, 0.25, 0.2, 0.08, 0.12]
            };
            if cust.premium || cust.plan == ENTERPRISE {
                w[2] *= 1.5;
            }
            if cust.zh {
                w[3] *= 2.0;
            }
            if !(7..21).contains(&hour) {
                w[1] *= 0.5;
            }
            (topic, Channel::ALL[rng.pick(&w)])
        }
    };
    // Nobody answers the phone when nobody is on shift: the call is
    // abandoned (no ticket), and the ticket comes in by email instead.
    g.msgs.clear();
    g.calls.clear();
    if channel == Channel::Phone && !covered && rng.chance(0.5) {
        let queued = created - rng.int(5 * MIN, 3 * HOUR);
        g.calls.push(Call {
            queued,
            answered: None,
            ended: queued + rng.int(20, 180),
            agent: None,
            talk: 0,
            hold: 0,
            wrap: 0,
        });
    }
    let channel = match channel {
        Channel::Phone if !covered => Channel::Email,
        // An offline chat widget shows the contact form instead.
        Channel::Chat if !covered => Channel::Web,
        c => c,
    };
    let priority = {
        let mut w = if cust.plan == ENTERPRISE {
            [0.1, 0.45, 0.3, 0.15]
        } else {
            [0.2, 0.55, 0.18, 0.07]
        };
        if incident && topic == Topic::Technical {
            w[2] *= 2.0;
            w[3] *= 3.0;
        }
        Priority::ALL[rng.pick(&w)]
    };
    let zh = cust.zh;
    let mut team = topic.team();
    if priority == Priority::Urgent && rng.chance(0.5)
        || cust.plan == ENTERPRISE && priority == Priority::High && rng.chance(0.3)
    {
        team = TIER2;
    }
    let help_center = {
        let p = [0.05, 0.08, 0.25, 0.55][topic.index()];
        if rng.chance(0.2) {
            None
        } else {
            Some(rng.chance(p))
        }
    };
    let contacts_wanted: u8 = {
        let w: [f64; 4] = match channel {
            Channel::Chat => [0.82, 0.12, 0.04, 0.02],
            Channel::Phone => [0.76, 0.16, 0.06, 0.02],
            Channel::Email => [0.62, 0.24, 0.10, 0.04],
            Channel::Web => [0.64, 0.22, 0.10, 0.04],
            Channel::Social => [0.68, 0.20, 0.09, 0.03],
        };
        let mut n = rng.pick(&w) as u8 + 1;
        if topic == Topic::Technical && n < 4 && rng.chance(0.1) {
            n += 1;
        }
        n
    };
    let mood_angry = rng.chance(0.1 + 0.3 * cust.grumpy + if incident { 0.25 } else { 0.0 });
    let lang = if zh { Lang::Zh } else { Lang::En };

    let Some((agent, avail)) = staff.pick(rng, clock, created, team, zh) else {
        // No shift ever again: only possible at the very end of the horizon.
        return write_unworked(
            g,
            &id,
            created,
            channel,
            priority,
            arrival.customer,
            help_center,
        );
    };
    let ag = &staff.agents[agent];
    let sp = ag.speed;
    let pf = priority.speed();
    let escalated = ag.team != TIER2 && {
        let base = [0.05, 0.1, 0.03, 0.015][topic.index()];
        let prio = [0.6, 1.0, 1.3, 1.8][priority as usize];
        rng.chance(base * prio * ag.escalate)
    };
    let contacts_wanted = if escalated {
        contacts_wanted.max(2)
    } else {
        contacts_wanted
    };
    let stuck = rng.chance(0.012);
    // One-touch: the first reply solves it (phone tickets are one call anyway).
    let one_touch = channel != Channel::Phone && contacts_wanted == 1 && !stuck && rng.chance(0.75);
    // Agent working time (handle time), seconds, with the instant it was spent.
    let mut efforts: Vec<(i64, f64)> = Vec::new();

    let assigned;
    let first_response;
    let mut responder = agent;
    let mut live = agent;
    let mut t;
    let mut escalated_to: Option<usize> = None;
    if channel == Channel::Phone {
        // Inbound calls: the ticket is created when the call is queued,
        // assigned and first answered when an agent picks up.
        let peak = (10..15).contains(&hour) && !weekend;
        let asa = rng.lognormal(40.0, 0.9)
            * if peak { 1.8 } else { 1.0 }
            * if incident { 2.5 } else { 1.0 }
            * if clock.weekday(day) == Weekday::Mon {
                1.3
            } else {
                1.0
            };
        let answered = avail + asa as i64;
        let call = phone_call(rng, created, answered, agent, topic);
        assigned = answered;
        first_response = answered;
        t = call.ended + call.wrap;
        efforts.push((t, (call.talk + call.hold + call.wrap) as f64));
        g.msgs.push(Msg {
            at: t,
            role: "agent",
            agent: Some(agent),
            body: call_note(rng, topic),
        });
        g.calls.push(call);
        // Abandoned attempts before getting through (no ticket linked).
        let p_abandon = if peak { 0.16 } else { 0.08 };
        if rng.chance(p_abandon) {
            let queued = created - rng.int(2 * MIN, 40 * MIN);
            let waited = rng.lognormal(70.0, 0.8) as i64;
            g.calls.push(Call {
                queued,
                answered: None,
                ended: queued + waited,
                agent: None,
                talk: 0,
                hold: 0,
                wrap: 0,
            });
        }
    } else {
        assigned = match channel {
            Channel::Chat => avail + rng.lognormal(45.0, 0.8) as i64,
            _ => staff.advance(
                clock,
                agent,
                avail,
                rng.lognormal(15.0 * MIN as f64, 1.0) * pf,
            ),
        };
        let first_delay = match channel {
            Channel::Chat => rng.lognormal(50.0, 0.7) * sp,
            Channel::Email => rng.lognormal(75.0 * MIN as f64, 1.0) * sp * pf,
            Channel::Web => rng.lognormal(100.0 * MIN as f64, 1.0) * sp * pf,
            _ => rng.lognormal(30.0 * MIN as f64, 1.0) * sp * pf,
        };
        first_response = if channel == Channel::Chat && staff.on_shift(clock, agent, assigned) {
            assigned + first_delay as i64
        } else {
            staff.advance(clock, agent, assigned, first_delay)
        };
        g.msgs.push(Msg {
            at: created,
            role: "customer",
            agent: None,
            body: customer_opening(rng, lang, topic, mood_angry),
        });
        if channel == Channel::Email && rng.chance(0.3) {
            g.msgs.push(Msg {
                at: created + rng.int(2, 30),
                role: "system",
                agent: None,
                body: SYSTEM_AUTOREPLY.to_string(),
            });
        }
        g.msgs.push(Msg {
            at: first_response,
            role: "agent",
            agent: Some(agent),
            body: agent_first_reply(rng, lang, topic, ag.empathy, mood_angry, one_touch),
        });
        efforts.push((first_response, msg_effort(rng, channel)));
        t = first_response;
        if channel == Channel::Chat && !one_touch && rng.chance(0.25) {
            t = chat_exchange(&mut g.msgs, rng, t, agent, lang, topic, &mut efforts);
        }
    }

    let rng = &mut g.rng;
    let mut contacts: u8 = 1;
    let mut solved: Option<i64> = None;
    if stuck && rng.chance(0.5) {
        // Stuck: the customer wrote back and nobody answered (open), or the
        // agent's reply was the last word (pending).
        g.msgs.push(Msg {
            at: t + rng.lognormal(4.0 * HOUR as f64, 1.0) as i64,
            role: "customer",
            agent: None,
            body: customer_follow_up(rng, lang, true),
        });
    }
    if !stuck {
        for k in 2..=contacts_wanted {
            if escalated && escalated_to.is_none() && k == 2 {
                // Passed to tier 2: a system note, then a tier-2 agent takes over.
                t += rng.int(5 * MIN, 2 * HOUR);
                g.msgs.push(Msg {
                    at: t,
                    role: "system",
                    agent: None,
                    body: SYSTEM_ESCALATED.to_string(),
                });
                if let Some((b, at)) = staff.pick(rng, clock, t, TIER2, zh) {
                    let b_speed = staff.agents[b].speed;
                    t = staff.advance(
                        clock,
                        b,
                        at,
                        rng.lognormal(3.0 * HOUR as f64, 0.8) * b_speed * pf.max(0.5),
                    );
                    g.msgs.push(Msg {
                        at: t,
                        role: "agent",
                        agent: Some(b),
                        body: tier2_reply(rng, lang, topic),
                    });
                    efforts.push((t, msg_effort(rng, Channel::Email)));
                    escalated_to = Some(b);
                    responder = b;
                }
            }
            contacts = k;
            // The customer comes back: minutes in a chat, hours by email.
            let wait = match channel {
                Channel::Chat => rng.lognormal(5.0 * HOUR as f64, 1.0),
                Channel::Phone => rng.lognormal(20.0 * HOUR as f64, 0.8),
                _ => rng.lognormal(4.0 * HOUR as f64, 1.1),
            };
            t += wait as i64;
            let waited_long = wait > 24.0 * HOUR as f64 || t - created > priority.sla_resolution();
            let angry = mood_angry || waited_long && rng.chance(0.4) || k >= 3 && rng.chance(0.3);
            if matches!(channel, Channel::Phone | Channel::Chat) {
                // Live channels: the customer calls or chats again when
                // someone is on shift, and whoever is free picks it up.
                let queued = staff.next_covered(clock, t + rng.int(0, 30 * MIN));
                let who = if staff.on_shift(clock, responder, queued) {
                    Some((responder, queued))
                } else {
                    staff.pick(rng, clock, queued, team, zh)
                };
                let Some((c, at)) = who.filter(|w| w.1 < NEVER / 2) else {
                    t = NEVER;
                    break;
                };
                live = c;
                if channel == Channel::Phone {
                    let answered = at + rng.lognormal(45.0, 0.9) as i64;
                    let call = phone_call(rng, queued, answered, c, topic);
                    t = call.ended + call.wrap;
                    efforts.push((t, (call.talk + call.hold + call.wrap) as f64));
                    g.msgs.push(Msg {
                        at: t,
                        role: "agent",
                        agent: Some(c),
                        body: call_note(rng, topic),
                    });
                    g.calls.push(call);
                } else {
                    g.msgs.push(Msg {
                        at: queued,
                        role: "customer",
                        agent: None,
                        body: customer_follow_up(rng, lang, angry),
                    });
                    t = at + (rng.lognormal(60.0, 0.8) * staff.agents[c].speed) as i64;
                    g.msgs.push(Msg {
                        at: t,
                        role: "agent",
                        agent: Some(c),
                        body: agent_reply(rng, lang, topic, staff.agents[c].empathy, angry),
                    });
                    efforts.push((t, msg_effort(rng, channel)));
                }
            } else {
                g.msgs.push(Msg {
                    at: t,
                    role: "customer",
                    agent: None,
                    body: customer_follow_up(rng, lang, angry),
                });
                let rs = staff.agents[responder].speed;
                let delay = rng.lognormal(90.0 * MIN as f64, 1.0) * rs * pf;
                t = staff.advance(clock, responder, t, delay);
                g.msgs.push(Msg {
                    at: t,
                    role: "agent",
                    agent: Some(responder),
                    body: agent_reply(rng, lang, topic, staff.agents[responder].empathy, angry),
                });
                efforts.push((t, msg_effort(rng, channel)));
            }
            if t >= NEVER / 2 {
                break;
            }
        }
        // Resolution: the last piece of work, then a closing message.
        if one_touch {
            solved = (t < NEVER / 2).then_some(t);
        } else if t < NEVER / 2 {
            // On live channels the agent of the last contact wraps it up.
            let responder = if escalated_to.is_none() {
                live
            } else {
                responder
            };
            let rs = staff.agents[responder].speed;
            let work = match channel {
                Channel::Chat => rng.lognormal(4.0 * MIN as f64, 0.7),
                Channel::Phone => rng.lognormal(2.0 * MIN as f64, 0.7),
                _ => rng.lognormal(35.0 * MIN as f64, 1.0) * pf,
            } * rs
                * if topic == Topic::Technical { 1.8 } else { 1.0 };
            let at = if matches!(channel, Channel::Chat | Channel::Phone)
                && staff.on_shift(clock, responder, t)
            {
                t + work as i64
            } else {
                staff.advance(clock, responder, t, work)
            };
            if at < NEVER / 2 {
                if channel != Channel::Phone {
                    g.msgs.push(Msg {
                        at,
                        role: "agent",
                        agent: Some(responder),
                        body: agent_solution(rng, lang, topic, staff.agents[responder].empathy),
                    });
                    efforts.push((at, msg_effort(rng, channel)));
                }
                solved = Some(at);
            }
        }
    }

    // Reopened: the customer writes back after the solve; solved again later.
    let mut reopened = false;
    if let Some(s) = solved {
        let p =
            (0.05 + if topic == Topic::Technical { 0.03 } else { 0.0 }) * (1.0 - 0.4 * ag.quality);
        if rng.chance(p) {
            reopened = true;
            contacts = (contacts + 1).min(4);
            let back = s + rng.lognormal(1.5 * DAY as f64, 0.8) as i64;
            g.msgs.push(Msg {
                at: back,
                role: "customer",
                agent: None,
                body: customer_reopen(rng, lang),
            });
            g.msgs.push(Msg {
                at: back,
                role: "system",
                agent: None,
                body: SYSTEM_REOPENED.to_string(),
            });
            let rs = staff.agents[responder].speed;
            let again = staff.advance(
                clock,
                responder,
                back,
                rng.lognormal(2.0 * HOUR as f64, 1.0) * rs * pf,
            );
            if again < NEVER / 2 {
                g.msgs.push(Msg {
                    at: again,
                    role: "agent",
                    agent: Some(responder),
                    body: agent_solution(rng, lang, topic, staff.agents[responder].empathy),
                });
                efforts.push((again, msg_effort(rng, channel)));
            }
            solved = (again < NEVER / 2).then_some(again);
        }
    }

    // How the customer feels about it: fast, one-touch, no reopen, a good agent.
    let experience = solved.map(|s| {
        let r = ((s - created) as f64 / priority.sla_resolution() as f64).max(0.05);
        0.75 - 0.45 * ln(r)
            - 0.35 * (contacts as f64 - 1.0)
            - if reopened { 0.9 } else { 0.0 }
            - if escalated { 0.4 } else { 0.0 }
            + 0.6 * ag.quality
            - 0.9 * cust.grumpy
            - if incident { 0.3 } else { 0.0 }
            - if mood_angry { 0.3 } else { 0.0 }
            + 0.9 * rng.normal()
    });
    if let (Some(s), Some(e)) = (solved, experience) {
        if e > 0.8 && channel != Channel::Phone && rng.chance(0.25) {
            let after = if channel == Channel::Chat {
                rng.int(10, 120)
            } else {
                rng.int(5 * MIN, 6 * HOUR)
            };
            g.msgs.push(Msg {
                at: s + after,
                role: "customer",
                agent: None,
                body: customer_thanks(rng, lang),
            });
        }
    }

    // Follow-up tickets from the same customer: more after a poor experience.
    let p_follow = 0.03
        + if contacts >= 3 { 0.1 } else { 0.0 }
        + if reopened { 0.15 } else { 0.0 }
        + if solved.is_none() { 0.1 } else { 0.0 }
        + if topic == Topic::Technical { 0.04 } else { 0.0 };
    if rng.chance(p_follow) {
        g.follow_seq += 1;
        g.follow_ups.push(FollowUp {
            day: std::cmp::Reverse(day + 1 + rng.exponential(2.5) as usize),
            seq: std::cmp::Reverse(g.follow_seq),
            customer: arrival.customer,
            topic: topic.index() as u8,
            channel: Channel::ALL
                .iter()
                .position(|c| *c == channel)
                .expect("known") as u8,
        });
    }

    // The export cut: only what happened before `end` is known.
    let assigned = (assigned < end).then_some(assigned);
    let first_response = (first_response < end).then_some(first_response);
    let solved = solved.filter(|s| *s < end);
    g.msgs.sort_by_key(|m| m.at);
    let last_role = g
        .msgs
        .iter()
        .rev()
        .find(|m| m.at < end && m.role != "system")
        .map(|m| m.role);
    let status = match (assigned, solved) {
        (None, _) => "new",
        (Some(_), Some(s)) => {
            if s + 4 * DAY <= end {
                "closed"
            } else {
                "solved"
            }
        }
        (Some(_), None) => {
            if last_role == Some("agent") {
                "pending"
            } else {
                "open"
            }
        }
    };
    let effort: f64 = efforts
        .iter()
        .filter(|(at, _)| *at < end)
        .map(|(_, e)| *e)
        .sum();
    let (agent_out, team_out) = match assigned {
        Some(_) => (
            Some(staff.agents[agent].id.as_str()),
            Some(TEAMS[staff.agents[agent].team]),
        ),
        None => (None, None),
    };
    let contacts_out = match solved {
        // A few solved tickets miss the count, as in real exports.
        Some(_) if !rng.chance(0.03) => Val::Int(contacts as i64),
        _ => Val::Null,
    };
    let cust_id = g.customer_ids[arrival.customer].clone();
    // Escalated and reopened as far as the export knows.
    let happened = |note: &str| g.msgs.iter().any(|m| m.body == note && m.at < end);
    g.out.row(
        TICKETS,
        &[
            Val::Str(&id),
            Val::Time(created),
            opt_time(assigned),
            opt_time(first_response),
            opt_time(solved),
            Val::Str(status),
            Val::Str(channel.name()),
            Val::Str(priority.name()),
            opt_str(agent_out),
            opt_str(team_out),
            Val::Str(&cust_id),
            Val::Bool(happened(SYSTEM_ESCALATED)),
            Val::Bool(happened(SYSTEM_REOPENED)),
            contacts_out,
            if effort > 0.0 && assigned.is_some() {
                Val::Duration(effort.round() as i64)
            } else {
                Val::Null
            },
            help_center.map_or(Val::Null, Val::Bool),
        ],
    )?;

    for m in g.msgs.iter().filter(|m| m.at < end) {
        g.message_no += 1;
        let mid = format!("m{:0w$}", g.message_no, w = g.ticket_width + 1);
        g.out.row(
            MESSAGES,
            &[
                Val::Str(&mid),
                Val::Str(&id),
                Val::Time(m.at),
                Val::Str(m.role),
                opt_str(m.agent.map(|a| staff.agents[a].id.as_str())),
                Val::Str(&m.body),
            ],
        )?;
    }
    for c in g.calls.iter().filter(|c| c.ended < end) {
        g.call_no += 1;
        let cid = format!("k{:0w$}", g.call_no, w = g.ticket_width);
        g.out.row(
            CALLS,
            &[
                Val::Str(&cid),
                if c.answered.is_some() {
                    Val::Str(&id)
                } else {
                    Val::Null
                },
                opt_str(c.agent.map(|a| staff.agents[a].id.as_str())),
                Val::Time(c.queued),
                opt_time(c.answered),
                Val::Time(c.ended),
                Val::Duration(c.talk),
                Val::Duration(c.hold),
                Val::Duration(c.wrap),
            ],
        )?;
    }

    let rng = &mut g.rng;
    if let (Some(s), Some(e)) = (solved, experience) {
        // Post-ticket surveys: about a quarter of solved tickets get an answer.
        if rng.chance(if cust.premium { 0.3 } else { 0.25 }) {
            let delay = match channel {
                Channel::Chat => rng.lognormal(15.0 * MIN as f64, 0.8),
                Channel::Phone => rng.lognormal(30.0 * MIN as f64, 0.8),
                _ => rng.lognormal(4.0 * HOUR as f64, 1.0),
            };
            let at = s + delay as i64;
            let kind = rng.pick(&[0.65, 0.15, 0.2]);
            let (kind, score) = match kind {
                0 => ("csat", csat_score(e)),
                1 => ("nps", nps_score(rng, e)),
                _ => ("ces", ces_score(e)),
            };
            if at < end {
                g.survey_no += 1;
                let sid = format!("s{:0w$}", g.survey_no, w = g.ticket_width);
                g.out.row(
                    SURVEYS,
                    &[
                        Val::Str(&sid),
                        Val::Str(&id),
                        Val::Str(&cust_id),
                        opt_str(agent_out),
                        Val::Str(channel.name()),
                        Val::Time(at),
                        Val::Str(kind),
                        Val::Int(score),
                    ],
                )?;
            }
        }
        // QA: a sample of solved tickets, reviewed within a week.
        let p_qa = match channel {
            Channel::Phone | Channel::Email | Channel::Chat => 0.075,
            _ => 0.03,
        };
        if rng.chance(p_qa) {
            let at = s + rng.int(DAY, 8 * DAY);
            let offset = match channel {
                Channel::Phone => -2.0,
                Channel::Chat => 1.5,
                _ => 0.0,
            };
            let score = (82.0 + 9.0 * ag.quality + offset - if reopened { 6.0 } else { 0.0 }
                + 7.0 * rng.normal())
            .clamp(20.0, 100.0);
            if at < end {
                g.qa_no += 1;
                let qid = format!("q{:0w$}", g.qa_no, w = g.ticket_width - 1);
                g.out.row(
                    QA_REVIEWS,
                    &[
                        Val::Str(&qid),
                        Val::Str(&id),
                        Val::Str(&ag.id),
                        Val::Str(channel.name()),
                        Val::Time(at),
                        Val::Float((score * 10.0).round() / 10.0, 1),
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Extra back-and-forth inside one chat session.
fn chat_exchange(
    msgs: &mut Vec<Msg>,
    rng: &mut Rng,
    t: i64,
    agent: usize,
    lang: Lang,
    topic: Topic,
    efforts: &mut Vec<(i64, f64)>,
) -> i64 {
    let asked = t + rng.int(30, 4 * MIN);
    msgs.push(Msg {
        at: asked,
        role: "customer",
        agent: None,
        body: customer_follow_up(rng, lang, false),
    });
    let answered = asked + rng.lognormal(60.0, 0.6) as i64;
    msgs.push(Msg {
        at: answered,
        role: "agent",
        agent: Some(agent),
        body: pick_lang(
            rng,
            lang,
            AGENT_ACTIONS_EN[topic.index()],
            AGENT_ACTIONS_ZH[topic.index()],
        )
        .to_string(),
    });
    efforts.push((answered, rng.lognormal(120.0, 0.5)));
    answered
}

fn phone_call(rng: &mut Rng, queued: i64, answered: i64, agent: usize, topic: Topic) -> Call {
    let talk = rng.lognormal(330.0, 0.6) * if topic == Topic::Technical { 1.4 } else { 1.0 };
    let hold = if rng.chance(0.55) {
        0.0
    } else {
        rng.lognormal(60.0, 0.8)
    };
    let wrap = rng.lognormal(75.0, 0.5);
    let (talk, hold, wrap) = (talk as i64, hold as i64, wrap as i64);
    Call {
        queued,
        answered: Some(answered),
        ended: answered + talk + hold,
        agent: Some(agent),
        talk,
        hold,
        wrap,
    }
}

/// Agent working time for one written reply, seconds.
fn msg_effort(rng: &mut Rng, channel: Channel) -> f64 {
    match channel {
        Channel::Chat => rng.lognormal(150.0, 0.5),
        _ => rng.lognormal(6.0 * MIN as f64, 0.5),
    }
}

/// A ticket that no agent could ever take (no shifts left in the horizon).
fn write_unworked(
    g: &mut Gen<'_>,
    id: &str,
    created: i64,
    channel: Channel,
    priority: Priority,
    customer: usize,
    help_center: Option<bool>,
) -> io::Result<()> {
    let cust_id = g.customer_ids[customer].clone();
    g.out.row(
        TICKETS,
        &[
            Val::Str(id),
            Val::Time(created),
            Val::Null,
            Val::Null,
            Val::Null,
            Val::Str("new"),
            Val::Str(channel.name()),
            Val::Str(priority.name()),
            Val::Null,
            Val::Null,
            Val::Str(&cust_id),
            Val::Bool(false),
            Val::Bool(false),
            Val::Null,
            Val::Null,
            help_center.map_or(Val::Null, Val::Bool),
        ],
    )
}

fn csat_score(e: f64) -> i64 {
    match e {
        e if e >= 0.7 => 5,
        e if e >= -0.3 => 4,
        e if e >= -0.9 => 3,
        e if e >= -1.5 => 2,
        _ => 1,
    }
}

fn nps_score(rng: &mut Rng, e: f64) -> i64 {
    if e >= 0.8 {
        9 + rng.below(2) as i64
    } else if e >= -0.2 {
        7 + rng.below(2) as i64
    } else {
        clamp_round(6.0 + 2.0 * e + rng.normal(), 0, 6)
    }
}

/// Customer effort: 1 = very easy … 5 = very hard.
fn ces_score(e: f64) -> i64 {
    match e {
        e if e >= 1.2 => 1,
        e if e >= 0.4 => 2,
        e if e >= -0.3 => 3,
        e if e >= -1.0 => 4,
        _ => 5,
    }
}

// ---------------------------------------------------------------------------
// The rest: relationship NPS, shifts, employee surveys, finance, kpi.toml

/// Quarterly-style relationship NPS: a few percent of active customers each
/// month, not tied to a ticket.
fn relationship_nps(g: &mut Gen<'_>) -> io::Result<()> {
    let clock = g.clock;
    for m in 0..clock.month_days.len() - 1 {
        let first = clock.month_days[m];
        let customers = g.customers;
        for (i, c) in customers.iter().enumerate() {
            let at = clock.at(
                first + 2 + g.rng.below(10) as usize,
                g.rng.int(8 * HOUR, 21 * HOUR),
            );
            if !g.rng.chance(0.03) || !c.active(at) || at >= clock.end {
                continue;
            }
            let e = 0.9 - 1.6 * c.grumpy
                + if c.plan == ENTERPRISE { 0.2 } else { 0.0 }
                + 1.1 * g.rng.normal();
            let score = nps_score(&mut g.rng, e);
            g.survey_no += 1;
            let sid = format!("s{:0w$}", g.survey_no, w = g.ticket_width);
            g.out.row(
                SURVEYS,
                &[
                    Val::Str(&sid),
                    Val::Null,
                    Val::Str(&g.customer_ids[i]),
                    Val::Null,
                    Val::Null,
                    Val::Time(at),
                    Val::Str("nps"),
                    Val::Int(score),
                ],
            )?;
        }
    }
    Ok(())
}

fn write_shifts(out: &mut Out, clock: &Clock, staff: &Staff) -> io::Result<()> {
    for day in 0..clock.days {
        for (i, a) in staff.agents.iter().enumerate() {
            if let Some((s, e)) = staff.shifts[i][day] {
                out.row(
                    AGENT_SHIFTS,
                    &[
                        Val::Str(&a.id),
                        Val::Str(TEAMS[a.team]),
                        Val::Time(s),
                        Val::Time(e),
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// A monthly pulse survey: most agents answer in the first week.
fn employee_surveys(rng: &mut Rng, out: &mut Out, clock: &Clock, staff: &Staff) -> io::Result<()> {
    let mut no = 0u64;
    for m in 0..clock.month_days.len() - 1 {
        let first = clock.month_days[m];
        for a in &staff.agents {
            let day = first + rng.below(7) as usize;
            let at = clock.at(day, rng.int(9 * HOUR, 17 * HOUR));
            if day < a.hired || day >= a.left || !rng.chance(0.85) || at >= clock.end {
                continue;
            }
            // The leaver's mood sinks month by month.
            let drift = if a.left != usize::MAX {
                -0.6 * m as f64
            } else {
                0.0
            };
            let score = clamp_round(a.engagement + drift + 1.1 * rng.normal(), 0, 10);
            no += 1;
            let id = format!("es{no:05}");
            out.row(
                EMPLOYEE_SURVEYS,
                &[
                    Val::Str(&id),
                    Val::Str(&a.id),
                    Val::Str(TEAMS[a.team]),
                    Val::Time(at),
                    Val::Int(score),
                ],
            )?;
        }
    }
    Ok(())
}

/// Monthly revenue (one row per plan) and support cost (staff, tooling).
fn finance(
    rng: &mut Rng,
    out: &mut Out,
    clock: &Clock,
    staff: &Staff,
    revenue: &[[f64; 3]],
    per_month: &[u64],
) -> io::Result<()> {
    let mut no = 0u64;
    let daily_cost = [190.0, 200.0, 230.0, 270.0];
    for m in 0..revenue.len() {
        let at = clock.month_starts[m];
        let mut row = |kind: &str, amount: f64| {
            no += 1;
            let id = format!("f{no:04}");
            out.row(
                FINANCE,
                &[
                    Val::Str(&id),
                    Val::Time(at),
                    Val::Str(kind),
                    Val::Float(amount, 2),
                ],
            )
        };
        for amount in revenue[m] {
            row("revenue", amount * (1.0 + 0.01 * rng.normal()))?;
        }
        let (d0, d1) = (clock.month_days[m], clock.month_days[m + 1]);
        let staff_cost: f64 = staff
            .agents
            .iter()
            .map(|a| {
                (d0.max(a.hired)..d1.min(a.left))
                    .filter(|d| !is_weekend(clock.weekday(*d)))
                    .count() as f64
                    * daily_cost[a.team]
            })
            .sum();
        row("support_cost", staff_cost)?;
        row(
            "support_cost",
            (1500.0 + 0.85 * per_month[m] as f64) * (1.0 + 0.03 * rng.normal()),
        )?;
    }
    Ok(())
}

fn project_toml(opts: &GenOptions) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Generated by `kpi generate --seed {} --tickets {} --start {} --months {} --timezone {}`.",
        opts.seed, opts.tickets, opts.start, opts.months, opts.timezone
    );
    s.push_str(match opts.format {
        Format::Csv => {
            "# The ten canonical tables (DESIGN.md section 5). Timestamps are naive local\n\
             # times in the project zone, except messages.created_at (RFC 3339 with offset);\n\
             # durations are seconds.\n\n"
        }
        Format::Parquet => {
            "# The ten canonical tables (DESIGN.md section 5), as Parquet. Timestamps are\n\
             # local wall times in the project zone (TIMESTAMP(MICROS, isAdjustedToUTC=false)),\n\
             # except messages.created_at (a UTC instant); durations are INT64 seconds.\n\n"
        }
    });
    s.push_str("[project]\nname = \"support-example\"\n");
    let _ = writeln!(s, "timezone = \"{}\"", opts.timezone);
    s.push_str("week_start = \"monday\"\n");
    // Customer history reaches back years before the first ticket; without a
    // default range, `kpi run` would span all of it.
    let end = opts
        .start
        .checked_add_months(chrono::Months::new(opts.months))
        .unwrap_or(opts.start);
    s.push_str("# The range `kpi run` reports when no --from/--to is given.\n");
    let _ = writeln!(s, "from = \"{}\"\nto = \"{}\"", opts.start, end);
    for (name, _) in TABLES {
        let _ = write!(
            s,
            "\n[tables.{name}]\nsource = \"data/{name}.{}\"\n",
            opts.format.extension()
        );
    }
    s
}

// ---------------------------------------------------------------------------
// Entry point

/// Writes the project: `kpi.toml` and one file per canonical table in `data/`.
pub fn generate(opts: &GenOptions) -> io::Result<Summary> {
    let tz: Tz = opts.timezone.parse().map_err(|_| {
        invalid(format!(
            "unknown time zone `{}`; use an IANA name such as America/New_York",
            opts.timezone
        ))
    })?;
    // Bounded above too: sizes derived from it (customers, staff) overflowed
    // a u64 near u64::MAX, and a run that large would not finish anyway.
    if opts.tickets == 0 || opts.tickets > MAX_TICKETS {
        return Err(invalid(format!(
            "--tickets must be between 1 and {MAX_TICKETS}"
        )));
    }
    if opts.months == 0 || opts.months > 120 {
        return Err(invalid("--months must be between 1 and 120"));
    }
    let clock = Clock::new(tz, opts.start, opts.months)?;
    let time = TimeFormat::new(
        tz,
        clock.midnights[0] - 4 * 366 * DAY,
        *clock.midnights.last().expect("days") + 30 * DAY,
    );
    let data = opts.out.join("data");
    std::fs::create_dir_all(&data)?;
    let mut out = Out {
        writers: Vec::new(),
        paths: Vec::new(),
    };
    for (name, header) in TABLES {
        let path = data.join(format!("{name}.{}", opts.format.extension()));
        let style = if *name == RFC3339_TABLE {
            TimeStyle::Rfc3339
        } else {
            TimeStyle::Naive
        };
        out.writers
            .push(open_writer(opts.format, &path, name, header, &time, style)?);
        out.paths.push(path);
    }

    let staff = make_staff(&mut Rng::new(opts.seed, 1), &clock, opts.tickets);
    let months = clock.month_starts.len() - 1;
    let mut revenue = vec![[0.0; 3]; months];
    let mut crng = Rng::new(opts.seed, 2);
    let customers = make_customers(&mut crng, &clock, opts.tickets, &mut out, &mut revenue)?;
    let picker = CustomerPicker::new(&mut crng, &customers);
    let width = customers.len().to_string().len().max(5);
    let mut g = Gen {
        rng: Rng::new(opts.seed, 3),
        clock: &clock,
        staff: &staff,
        customers: &customers,
        out: &mut out,
        customer_ids: (1..=customers.len())
            .map(|i| format!("c{i:0width$}"))
            .collect(),
        ticket_width: opts.tickets.to_string().len().max(6),
        message_no: 0,
        call_no: 0,
        survey_no: 0,
        qa_no: 0,
        follow_seq: 0,
        follow_ups: BinaryHeap::new(),
        per_month: vec![0; months],
        msgs: Vec::new(),
        calls: Vec::new(),
    };
    make_tickets(&mut g, opts.tickets, &picker)?;
    g.rng = Rng::new(opts.seed, 4);
    relationship_nps(&mut g)?;
    let per_month = std::mem::take(&mut g.per_month);
    write_shifts(&mut out, &clock, &staff)?;
    employee_surveys(&mut Rng::new(opts.seed, 5), &mut out, &clock, &staff)?;
    finance(
        &mut Rng::new(opts.seed, 6),
        &mut out,
        &clock,
        &staff,
        &revenue,
        &per_month,
    )?;

    let mut tables = Vec::new();
    for ((w, path), (name, _)) in out.writers.into_iter().zip(out.paths).zip(TABLES) {
        let rows = w.finish()?;
        let bytes = std::fs::metadata(&path)?.len();
        tables.push(TableStats {
            name,
            path,
            rows,
            bytes,
        });
    }
    let project_file = opts.out.join("kpi.toml");
    std::fs::write(&project_file, project_toml(opts))?;
    Ok(Summary {
        project_file,
        tables,
    })
}

// ---------------------------------------------------------------------------
// Text: short English and Chinese messages with polite, angry and thankful
// phrasing, for the sentiment and PEC plugins to read.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Zh,
}

fn pick_lang(rng: &mut Rng, lang: Lang, en: &[&'static str], zh: &[&'static str]) -> &'static str {
    let list = match lang {
        Lang::En => en,
        Lang::Zh => zh,
    };
    list[rng.below(list.len() as u64) as usize]
}

fn join(lang: Lang, parts: &[&str]) -> String {
    match lang {
        Lang::En => parts.join(" "),
        Lang::Zh => parts.concat(),
    }
}

const SYSTEM_AUTOREPLY: &str = "Auto-reply: we received your request.";
const SYSTEM_ESCALATED: &str = "Escalated to tier 2.";
const SYSTEM_REOPENED: &str = "Ticket reopened.";

const OPENINGS_EN: [&[&str]; 4] = [
    &[
        "I was charged twice this month.",
        "Can I get a refund for my last invoice?",
        "My invoice shows the wrong amount.",
        "Why did my price go up?",
    ],
    &[
        "The app crashes when I upload a file.",
        "I can't log in since this morning.",
        "Sync stopped working on my phone.",
        "I get error 500 when saving.",
    ],
    &[
        "How do I change my email address?",
        "Please add a new user to our team.",
        "I need to reset my password.",
    ],
    &[
        "Where can I export my data?",
        "How do I turn on two-factor login?",
        "Can I share a report?",
    ],
];
const OPENINGS_ZH: [&[&str]; 4] = [
    &[
        "这个月被重复扣费了。",
        "上个月的费用能退吗？",
        "发票金额不对。",
        "为什么涨价了？",
    ],
    &[
        "上传文件时应用闪退。",
        "从早上开始登录不了。",
        "手机同步不工作了。",
        "保存时报错500。",
    ],
    &[
        "怎么修改邮箱地址？",
        "请帮我们添加一个新用户。",
        "我需要重置密码。",
    ],
    &["在哪里导出数据？", "怎么开启两步验证？", "报表可以分享吗？"],
];
const POLITE_EN: &[&str] = &[
    "Hi, hope you are well.",
    "Hello!",
    "Good morning,",
    "Hi there,",
];
const POLITE_ZH: &[&str] = &["您好，", "你好，麻烦问一下，", "早上好，"];
const ANGRY_EN: &[&str] = &[
    "This is unacceptable!",
    "I am really frustrated.",
    "This is ridiculous.",
];
const ANGRY_ZH: &[&str] = &["太让人失望了！", "真的很生气。", "这太离谱了！"];
const FOLLOW_UP_EN: &[&str] = &[
    "Any update on this?",
    "I tried that, still not working.",
    "Here is the screenshot.",
    "Could you check again, please?",
];
const FOLLOW_UP_ZH: &[&str] = &[
    "有进展吗？",
    "试过了，还是不行。",
    "截图发给你们了。",
    "麻烦再看一下。",
];
const FOLLOW_UP_ANGRY_EN: &[&str] = &[
    "Still broken. Why is this so slow?",
    "Worst support I have ever had.",
    "I have been waiting for days!",
    "Fix this or I will cancel.",
];
const FOLLOW_UP_ANGRY_ZH: &[&str] = &[
    "还是没解决，为什么这么慢？",
    "这是最差的客服。",
    "我已经等了好几天了！",
    "再不解决我就退订。",
];
const THANKS_EN: &[&str] = &[
    "Thank you so much, that fixed it!",
    "Great, thanks for the quick help.",
    "Perfect, you are the best!",
    "Thanks, all good now.",
];
const THANKS_ZH: &[&str] = &[
    "太感谢了，问题解决了！",
    "谢谢，处理得真快。",
    "非常好，谢谢！",
    "好的，没问题了，谢谢。",
];
const REOPEN_EN: &[&str] = &[
    "The problem is back.",
    "It worked for a day, now it is broken again.",
];
const REOPEN_ZH: &[&str] = &["问题又出现了。", "好了一天，现在又坏了。"];
const GREETING_EN: &[&str] = &[
    "Hi, thanks for reaching out.",
    "Hello, thanks for contacting us.",
];
const GREETING_ZH: &[&str] = &["您好，感谢联系我们。", "您好，收到您的消息。"];
const EMPATHY_EN: &[&str] = &[
    "So sorry for the trouble, I understand how frustrating this is.",
    "I completely understand, let's sort this out together.",
    "Happy to help!",
];
const EMPATHY_ZH: &[&str] = &[
    "非常抱歉给您带来不便，完全理解您的心情。",
    "理解您的感受，我们一起解决。",
    "很高兴为您服务！",
];
const CURT_EN: &[&str] = &["Noted.", "See below."];
const CURT_ZH: &[&str] = &["收到。", "见下。"];
const AGENT_ACTIONS_EN: [&[&str]; 4] = [
    &[
        "I refunded the duplicate charge; allow 3-5 days.",
        "I corrected the invoice and sent a new copy.",
        "I updated your billing details.",
    ],
    &[
        "Could you send a screenshot of the error?",
        "Please clear the cache and try again.",
        "Our engineers are looking into it.",
        "We released a fix, please update the app.",
    ],
    &[
        "I updated your account.",
        "You can do this under Settings > Account.",
        "I sent you a reset link.",
    ],
    &[
        "See Settings > Export.",
        "The steps are in our help center.",
        "Go to Settings > Security to turn it on.",
    ],
];
const AGENT_ACTIONS_ZH: [&[&str]; 4] = [
    &[
        "重复扣款已退回，3到5天到账。",
        "发票已更正并重新发送。",
        "账单信息已更新。",
    ],
    &[
        "能发一张报错截图吗？",
        "请清除缓存后再试一次。",
        "工程师正在排查。",
        "已发布修复，请更新应用。",
    ],
    &[
        "账号已更新。",
        "在设置 > 账号里可以修改。",
        "重置链接已发送。",
    ],
    &[
        "请看设置 > 导出。",
        "帮助中心里有步骤。",
        "在设置 > 安全里开启。",
    ],
];
const CLOSING_EN: &[&str] = &[
    "Anything else I can help with?",
    "Marking this solved. Have a great day!",
    "Glad it works now.",
];
const CLOSING_ZH: &[&str] = &[
    "还有其他可以帮您的吗？",
    "先标记为已解决，祝您愉快！",
    "很高兴问题解决了。",
];
const TIER2_EN: &[&str] = &[
    "Tier 2 here, I have taken over your case.",
    "Escalation team here, I am on it.",
];
const TIER2_ZH: &[&str] = &[
    "我是二线支持，已接手您的问题。",
    "升级团队已接手，正在处理。",
];
const CALL_NOTES: [&[&str]; 4] = [
    &[
        "Call notes: billing question, explained the invoice.",
        "Call notes: refund issued on the call.",
    ],
    &[
        "Call notes: walked through troubleshooting.",
        "Call notes: reproduced the error, logged it.",
    ],
    &[
        "Call notes: updated account details.",
        "Call notes: password reset on the call.",
    ],
    &[
        "Call notes: explained the feature.",
        "Call notes: sent the help center link.",
    ],
];

fn customer_opening(rng: &mut Rng, lang: Lang, topic: Topic, angry: bool) -> String {
    let main = pick_lang(
        rng,
        lang,
        OPENINGS_EN[topic.index()],
        OPENINGS_ZH[topic.index()],
    );
    if angry {
        let a = pick_lang(rng, lang, ANGRY_EN, ANGRY_ZH);
        join(lang, &[a, main])
    } else if rng.chance(0.5) {
        let p = pick_lang(rng, lang, POLITE_EN, POLITE_ZH);
        join(lang, &[p, main])
    } else {
        main.to_string()
    }
}

fn customer_follow_up(rng: &mut Rng, lang: Lang, angry: bool) -> String {
    if angry {
        pick_lang(rng, lang, FOLLOW_UP_ANGRY_EN, FOLLOW_UP_ANGRY_ZH).to_string()
    } else {
        pick_lang(rng, lang, FOLLOW_UP_EN, FOLLOW_UP_ZH).to_string()
    }
}

fn customer_thanks(rng: &mut Rng, lang: Lang) -> String {
    pick_lang(rng, lang, THANKS_EN, THANKS_ZH).to_string()
}

fn customer_reopen(rng: &mut Rng, lang: Lang) -> String {
    pick_lang(rng, lang, REOPEN_EN, REOPEN_ZH).to_string()
}

/// The first agent reply; when it `solves` the ticket it may close politely.
fn agent_first_reply(
    rng: &mut Rng,
    lang: Lang,
    topic: Topic,
    empathy: f64,
    angry: bool,
    solves: bool,
) -> String {
    let mut parts = Vec::with_capacity(4);
    if rng.chance(0.3) {
        parts.push(pick_lang(rng, lang, GREETING_EN, GREETING_ZH));
    }
    if rng.chance(if angry { empathy.sqrt() } else { empathy * 0.6 }) {
        parts.push(pick_lang(rng, lang, EMPATHY_EN, EMPATHY_ZH));
    }
    parts.push(pick_lang(
        rng,
        lang,
        AGENT_ACTIONS_EN[topic.index()],
        AGENT_ACTIONS_ZH[topic.index()],
    ));
    if solves && rng.chance(0.2 + 0.5 * empathy) {
        parts.push(pick_lang(rng, lang, CLOSING_EN, CLOSING_ZH));
    }
    join(lang, &parts)
}

fn agent_reply(rng: &mut Rng, lang: Lang, topic: Topic, empathy: f64, angry: bool) -> String {
    let action = pick_lang(
        rng,
        lang,
        AGENT_ACTIONS_EN[topic.index()],
        AGENT_ACTIONS_ZH[topic.index()],
    );
    if angry && rng.chance(empathy) {
        let e = pick_lang(rng, lang, EMPATHY_EN, EMPATHY_ZH);
        join(lang, &[e, action])
    } else if rng.chance((1.0 - empathy) * 0.4) {
        let c = pick_lang(rng, lang, CURT_EN, CURT_ZH);
        join(lang, &[c, action])
    } else {
        action.to_string()
    }
}

fn agent_solution(rng: &mut Rng, lang: Lang, topic: Topic, empathy: f64) -> String {
    let action = pick_lang(
        rng,
        lang,
        AGENT_ACTIONS_EN[topic.index()],
        AGENT_ACTIONS_ZH[topic.index()],
    );
    if rng.chance(0.2 + 0.4 * empathy) {
        let c = pick_lang(rng, lang, CLOSING_EN, CLOSING_ZH);
        join(lang, &[action, c])
    } else {
        action.to_string()
    }
}

fn tier2_reply(rng: &mut Rng, lang: Lang, topic: Topic) -> String {
    let t = pick_lang(rng, lang, TIER2_EN, TIER2_ZH);
    let action = pick_lang(
        rng,
        lang,
        AGENT_ACTIONS_EN[topic.index()],
        AGENT_ACTIONS_ZH[topic.index()],
    );
    join(lang, &[t, action])
}

fn call_note(rng: &mut Rng, topic: Topic) -> String {
    rng.choose(CALL_NOTES[topic.index()]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    use kpi_engine::time::parse_timestamp;

    /// A fresh scratch directory for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kpi-generate-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn small(out: PathBuf, seed: u64) -> GenOptions {
        // Spans the spring DST switch in New York (2026-03-08).
        GenOptions {
            out,
            seed,
            tickets: 700,
            start: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            months: 2,
            ..GenOptions::default()
        }
    }

    struct Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    }

    impl Table {
        fn col(&self, name: &str) -> usize {
            self.header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        }

        fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
            let c = self.col(name);
            self.rows.iter().map(move |r| r[c].as_str())
        }
    }

    fn unique<'a>(t: &'a Table, table: &str) -> BTreeSet<&'a str> {
        let ids: BTreeSet<&str> = t.values("id").collect();
        assert_eq!(ids.len(), t.rows.len(), "{table}.id is not unique");
        ids
    }

    fn read(dir: &Path, table: &str) -> Table {
        let mut r = csv::Reader::from_path(dir.join("data").join(format!("{table}.csv"))).unwrap();
        let header = r.headers().unwrap().iter().map(String::from).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        Table { header, rows }
    }

    fn ts(s: &str) -> i64 {
        parse_timestamp(s, chrono_tz::America::New_York).unwrap_or_else(|e| panic!("{e}"))
            / 1_000_000
    }

    fn opt_ts(s: &str) -> Option<i64> {
        (!s.is_empty()).then(|| ts(s))
    }

    #[test]
    fn same_seed_same_bytes_and_another_seed_differs() {
        let (a, b, c) = (scratch("same-a"), scratch("same-b"), scratch("same-c"));
        generate(&small(a.clone(), 7)).unwrap();
        generate(&small(b.clone(), 7)).unwrap();
        let summary = generate(&small(c.clone(), 8)).unwrap();
        let mut files = vec![PathBuf::from("kpi.toml")];
        files.extend(
            summary
                .tables
                .iter()
                .map(|t| PathBuf::from("data").join(t.path.file_name().unwrap())),
        );
        for f in &files {
            let (x, y) = (
                std::fs::read(a.join(f)).unwrap(),
                std::fs::read(b.join(f)).unwrap(),
            );
            assert!(
                x == y,
                "{} differs between two runs with the same seed",
                f.display()
            );
        }
        let t = Path::new("data/tickets.csv");
        assert_ne!(
            std::fs::read(a.join(t)).unwrap(),
            std::fs::read(c.join(t)).unwrap()
        );
        for d in [a, b, c] {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    #[test]
    fn rng_stream_and_math_are_pinned() {
        // The values of the stream itself: a change of ChaCha8 or of the
        // seeding would change every generated file.
        let mut r = Rng::new(42, 3);
        let v: Vec<u64> = (0..6).map(|_| r.below(1000)).collect();
        let mut again = Rng::new(42, 3);
        assert_eq!(v, (0..6).map(|_| again.below(1000)).collect::<Vec<_>>());
        assert_ne!(v, {
            let mut other = Rng::new(42, 4);
            (0..6).map(|_| other.below(1000)).collect::<Vec<_>>()
        });
        assert_eq!(v, PINNED_STREAM, "the ChaCha8 stream for seed 42 changed");
        for x in [-30.0, -2.5, -0.1, 0.0, 1e-9, 0.5, 1.0, 3.7, 20.0, 300.0] {
            let (ours, std) = (exp(x), f64::exp(x));
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std,
                "exp({x}) = {ours}, std {std}"
            );
        }
        for x in [
            1e-300, 1e-12, 0.01, 0.5, 0.999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300,
        ] {
            let (ours, std) = (ln(x), f64::ln(x));
            assert!(
                (ours - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0),
                "ln({x}) = {ours}, std {std}"
            );
        }
    }

    /// `Rng::new(42, 3).below(1000)`, six times.
    const PINNED_STREAM: [u64; 6] = [777, 73, 891, 817, 732, 701];

    #[test]
    fn keys_resolve_across_tables() {
        let dir = scratch("keys");
        generate(&small(dir.clone(), 42)).unwrap();
        let tickets = read(&dir, "tickets");
        let customers = read(&dir, "customers");
        let shifts = read(&dir, "agent_shifts");
        let ticket_ids = unique(&tickets, "tickets");
        let customer_ids = unique(&customers, "customers");
        let agent_ids: BTreeSet<&str> = shifts.values("agent_id").collect();
        assert!(
            (20..=30).contains(&agent_ids.len()),
            "{} agents",
            agent_ids.len()
        );
        let check = |t: &Table, table: &str, col: &str, keys: &BTreeSet<&str>, nullable: bool| {
            for v in t.values(col) {
                if v.is_empty() {
                    assert!(nullable, "{table}.{col} is empty");
                } else {
                    assert!(keys.contains(v), "{table}.{col} = {v} resolves to nothing");
                }
            }
        };
        check(&tickets, "tickets", "customer_id", &customer_ids, false);
        check(&tickets, "tickets", "agent_id", &agent_ids, true);
        for (table, ticket_nullable) in [
            ("messages", false),
            ("calls", true),
            ("surveys", true),
            ("qa_reviews", false),
        ] {
            let t = read(&dir, table);
            unique(&t, table);
            check(&t, table, "ticket_id", &ticket_ids, ticket_nullable);
            if table != "qa_reviews" {
                check(&t, table, "agent_id", &agent_ids, true);
            }
        }
        check(
            &read(&dir, "qa_reviews"),
            "qa_reviews",
            "agent_id",
            &agent_ids,
            false,
        );
        let surveys = read(&dir, "surveys");
        check(&surveys, "surveys", "customer_id", &customer_ids, false);
        // A ticket's survey names the ticket's customer, agent and channel.
        let by_id: BTreeMap<&str, &Vec<String>> = tickets
            .rows
            .iter()
            .map(|r| (r[tickets.col("id")].as_str(), r))
            .collect();
        for r in &surveys.rows {
            let tid = &r[surveys.col("ticket_id")];
            if let Some(t) = by_id.get(tid.as_str()) {
                assert_eq!(r[surveys.col("customer_id")], t[tickets.col("customer_id")]);
                assert_eq!(r[surveys.col("agent_id")], t[tickets.col("agent_id")]);
                assert_eq!(r[surveys.col("channel")], t[tickets.col("channel")]);
            }
        }
        let events = read(&dir, "subscription_events");
        unique(&events, "subscription_events");
        check(
            &events,
            "subscription_events",
            "customer_id",
            &customer_ids,
            false,
        );
        let es = read(&dir, "employee_surveys");
        unique(&es, "employee_surveys");
        check(&es, "employee_surveys", "agent_id", &agent_ids, false);
        unique(&read(&dir, "finance"), "finance");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn every_value_parses_and_events_are_ordered() {
        let dir = scratch("parse");
        let opts = small(dir.clone(), 42);
        generate(&opts).unwrap();
        let end = ts("2026-04-01");
        let model = kpi_engine::canonical::tables();
        for (name, schema) in &model {
            let t = read(&dir, name);
            let header: Vec<&str> = schema.columns.keys().map(String::as_str).collect();
            assert_eq!(
                t.header, header,
                "{name}: columns differ from the canonical model"
            );
            for (c, ty) in &schema.columns {
                let nullable = kpi_engine::canonical::is_nullable(name, c);
                for v in t.values(c) {
                    if v.is_empty() {
                        assert!(nullable, "{name}.{c} is empty but not nullable");
                        continue;
                    }
                    match ty.to_string().as_str() {
                        "timestamp" => {
                            let rfc = v.contains('T');
                            assert_eq!(rfc, *name == RFC3339_TABLE, "{name}.{c} = {v}: wrong form");
                            let at = ts(v);
                            if *c != "end_at" && *c != "churned_at" || *name == "customers" {
                                assert!(at < end, "{name}.{c} = {v} is after the export");
                            }
                        }
                        "duration" | "int" => {
                            assert!(v.parse::<i64>().unwrap() >= 0 || *c == "mrr_delta")
                        }
                        "float" => {
                            v.parse::<f64>().unwrap();
                        }
                        "bool" => assert!(v == "true" || v == "false", "{name}.{c} = {v}"),
                        _ => {}
                    }
                }
            }
        }

        let tickets = read(&dir, "tickets");
        let col = |n: &str| tickets.col(n);
        let mut created_by_id = BTreeMap::new();
        for r in &tickets.rows {
            let created = ts(&r[col("created_at")]);
            created_by_id.insert(r[col("id")].clone(), created);
            let assigned = opt_ts(&r[col("assigned_at")]);
            let first = opt_ts(&r[col("first_response_at")]);
            let solved = opt_ts(&r[col("solved_at")]);
            assert!(assigned.iter().all(|a| *a >= created), "{r:?}");
            assert!(first.iter().all(|f| Some(*f) >= assigned), "{r:?}");
            assert!(
                solved.iter().all(|s| *s >= created && first.is_some()),
                "{r:?}"
            );
            let status = r[col("status")].as_str();
            match status {
                "solved" | "closed" => assert!(solved.is_some(), "{r:?}"),
                "new" => assert!(
                    assigned.is_none()
                        && r[col("agent_id")].is_empty()
                        && r[col("escalated")] == "false",
                    "{r:?}"
                ),
                "open" | "pending" => assert!(solved.is_none() && assigned.is_some(), "{r:?}"),
                other => panic!("status {other}"),
            }
            if let Ok(c) = r[col("contacts")].parse::<i64>() {
                assert!((1..=4).contains(&c));
            }
        }
        for r in &read(&dir, "messages").rows {
            assert!(
                ts(&r[2]) >= created_by_id[&r[1]],
                "message before its ticket: {r:?}"
            );
        }
        let calls = read(&dir, "calls");
        for r in &calls.rows {
            let (q, a, e) = (ts(&r[3]), opt_ts(&r[4]), ts(&r[5]));
            match a {
                Some(a) => {
                    let (talk, hold): (i64, i64) = (r[6].parse().unwrap(), r[7].parse().unwrap());
                    assert!(a >= q && e - a == talk + hold, "{r:?}");
                }
                None => assert!(
                    e >= q && r[1].is_empty() && r[2].is_empty() && r[6] == "0",
                    "abandoned: {r:?}"
                ),
            }
        }
        for r in &read(&dir, "customers").rows {
            assert!(opt_ts(&r[2]).iter().all(|c| *c > ts(&r[1])), "{r:?}");
        }
        for r in &read(&dir, "agent_shifts").rows {
            assert_eq!(ts(&r[3]) - ts(&r[2]), 8 * HOUR, "{r:?}");
        }
        let toml = std::fs::read_to_string(dir.join("kpi.toml")).unwrap();
        assert!(
            toml.contains("timezone = \"America/New_York\"")
                && toml.contains("week_start = \"monday\"")
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn subscriptions_match_customers() {
        let dir = scratch("mrr");
        generate(&small(dir.clone(), 3)).unwrap();
        let customers = read(&dir, "customers");
        let events = read(&dir, "subscription_events");
        let mut per: BTreeMap<&str, Vec<(i64, &str, f64)>> = BTreeMap::new();
        for r in &events.rows {
            per.entry(r[1].as_str()).or_default().push((
                ts(&r[2]),
                r[3].as_str(),
                r[4].parse().unwrap(),
            ));
        }
        for r in &customers.rows {
            let ev = per
                .get(r[0].as_str())
                .unwrap_or_else(|| panic!("{} has no events", r[0]));
            assert_eq!((ev[0].0, ev[0].1), (ts(&r[1]), "new"), "{}", r[0]);
            let mut mrr = 0.0;
            for (i, (at, kind, delta)) in ev.iter().enumerate() {
                assert!(
                    i == 0 || *at >= ev[i - 1].0,
                    "{}: events out of order",
                    r[0]
                );
                let sign_ok = match *kind {
                    "new" | "expansion" | "reactivation" => *delta > 0.0,
                    "contraction" | "churn" => *delta < 0.0,
                    other => panic!("kind {other}"),
                };
                assert!(sign_ok, "{}: {kind} {delta}", r[0]);
                mrr += delta;
                assert!(mrr > -0.005, "{}: MRR below zero", r[0]);
            }
            let churned = !r[2].is_empty();
            assert_eq!(
                mrr.abs() < 0.005,
                churned,
                "{}: final MRR {mrr}, churned_at {:?}",
                r[0],
                r[2]
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn naive_local_times_survive_dst() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let lo = ts("2026-01-01");
        let f = TimeFormat::new(tz, lo - 400 * DAY, lo + 400 * DAY);
        assert_eq!(f.folds.len(), 2, "{:?}", f.folds); // 2025-11-02, 2026-11-01
        let mut prev = i64::MIN;
        // Both switches of 2026, minute by minute.
        for (from, to) in [
            ("2026-03-08 00:00", "2026-03-08 05:00"),
            ("2026-11-01 00:00", "2026-11-01 03:30"),
        ] {
            let (mut t, to) = (ts(from), ts(to));
            while t < to {
                let mut s = String::new();
                f.write_naive(t, &mut s);
                assert!(
                    !s.starts_with("2026-03-08 02:"),
                    "{s} does not exist in New York"
                );
                let back = ts(&s);
                let in_fold = f.folds.iter().any(|(a, b)| *a <= t && t < *b);
                if in_fold {
                    assert!(back > t, "{s}");
                } else {
                    assert_eq!(back, t, "{s}");
                }
                assert!(back >= prev, "order lost at {s}");
                prev = back;
                let mut r = String::new();
                f.write_rfc3339(t, &mut r);
                assert_eq!(ts(&r), t, "{r}");
                t += 60;
            }
        }
    }

    #[test]
    fn the_project_loads_and_runs() {
        let dir = scratch("project");
        generate(&small(dir.clone(), 42)).unwrap();
        let project =
            kpi_engine::Project::load(&dir).unwrap_or_else(|e| panic!("{}", e.render(None)));
        let q = kpi_engine::Query {
            metrics: vec!["escalation_rate".into()],
            by: vec!["agent".into()],
            ..kpi_engine::Query::default()
        };
        let result = project
            .run(&q)
            .unwrap_or_else(|e| panic!("{}", e.render(None)));
        assert!(result.rows.len() >= 2 * 20, "{} rows", result.rows.len());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_data_look_like_a_support_desk() {
        let dir = scratch("realism");
        let opts = GenOptions {
            out: dir.clone(),
            tickets: 3000,
            months: 3,
            ..GenOptions::default()
        };
        generate(&opts).unwrap();
        let end = ts("2026-04-01");
        let tickets = read(&dir, "tickets");
        let n = tickets.rows.len() as f64;
        assert_eq!(n, 3000.0);
        let share = |pred: &dyn Fn(&Vec<String>) -> bool| {
            tickets.rows.iter().filter(|r| pred(r)).count() as f64 / n
        };
        let c = |name: &str| tickets.col(name);
        let escalated = share(&|r| r[c("escalated")] == "true");
        assert!(
            (0.04..0.12).contains(&escalated),
            "escalation rate {escalated}"
        );
        let reopened = share(&|r| r[c("reopened")] == "true");
        assert!((0.02..0.12).contains(&reopened), "reopen rate {reopened}");
        let local = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        let office = share(&|r| (9..18).contains(&local(&r[c("created_at")]).hour()));
        assert!(office > 0.6, "share created 9-18: {office}");
        let weekend = share(&|r| is_weekend(local(&r[c("created_at")]).weekday()));
        assert!(weekend < 0.2, "weekend share {weekend}");
        for ch in ["email", "chat", "phone", "social", "web"] {
            assert!(share(&|r| r[c("channel")] == ch) > 0.05, "{ch}");
        }
        for p in ["low", "normal", "high", "urgent"] {
            assert!(share(&|r| r[c("priority")] == p) > 0.03, "{p}");
        }
        let one_contact = share(&|r| r[c("contacts")] == "1");
        assert!(one_contact > 0.45, "contacts == 1: {one_contact}");
        assert!(share(&|r| r[c("help_center_resolvable")] == "true") > 0.05);
        assert!(share(&|r| r[c("help_center_resolvable")].is_empty()) > 0.05);
        // Unsolved tickets cluster before the export.
        let unsolved: Vec<i64> = tickets
            .rows
            .iter()
            .filter(|r| r[c("solved_at")].is_empty())
            .map(|r| ts(&r[c("created_at")]))
            .collect();
        let late = unsolved.iter().filter(|t| **t > end - 14 * DAY).count();
        assert!(
            unsolved.len() > 10 && late * 2 > unsolved.len(),
            "{late} of {} late",
            unsolved.len()
        );
        // Chat answers in minutes, email in hours.
        let median_frt = |ch: &str| {
            let mut v: Vec<i64> = tickets
                .rows
                .iter()
                .filter(|r| r[c("channel")] == ch && !r[c("first_response_at")].is_empty())
                .map(|r| ts(&r[c("first_response_at")]) - ts(&r[c("created_at")]))
                .collect();
            v.sort();
            v[v.len() / 2]
        };
        assert!(median_frt("chat") < 10 * MIN && median_frt("email") > HOUR);
        // Agents differ: the slowest team answers slower than tier 2.
        let by_team_frt = |team: &str| {
            let v: Vec<i64> = tickets
                .rows
                .iter()
                .filter(|r| {
                    r[c("team")] == team
                        && r[c("channel")] == "email"
                        && !r[c("first_response_at")].is_empty()
                })
                .map(|r| ts(&r[c("first_response_at")]) - ts(&r[c("created_at")]))
                .collect();
            v.iter().sum::<i64>() as f64 / v.len() as f64
        };
        assert!(by_team_frt("technical") > by_team_frt("tier2"));

        // Surveys: about a quarter of solved tickets; faster means happier.
        let surveys = read(&dir, "surveys");
        let solved: BTreeMap<&str, i64> = tickets
            .rows
            .iter()
            .filter(|r| !r[c("solved_at")].is_empty())
            .map(|r| {
                (
                    r[c("id")].as_str(),
                    ts(&r[c("solved_at")]) - ts(&r[c("created_at")]),
                )
            })
            .collect();
        let linked = surveys.rows.iter().filter(|r| !r[1].is_empty()).count() as f64;
        let rate = linked / solved.len() as f64;
        assert!((0.18..0.35).contains(&rate), "survey rate {rate}");
        let kinds: BTreeSet<&str> = surveys.values("kind").collect();
        assert_eq!(kinds, BTreeSet::from(["ces", "csat", "nps"]));
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for r in surveys.rows.iter().filter(|r| r[6] == "csat") {
            let score: f64 = r[7].parse().unwrap();
            assert!((1.0..=5.0).contains(&score));
            if solved[r[1].as_str()] < 4 * HOUR {
                fast.push(score)
            } else if solved[r[1].as_str()] > 48 * HOUR {
                slow.push(score)
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&fast) > mean(&slow) + 0.5,
            "CSAT fast {} slow {}",
            mean(&fast),
            mean(&slow)
        );

        // Conversations: a customer opens, an agent answers; both languages.
        let messages = read(&dir, "messages");
        let mut first_role: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &messages.rows {
            first_role.entry(r[1].as_str()).or_insert(r[3].as_str());
        }
        let non_phone: BTreeSet<&str> = tickets
            .rows
            .iter()
            .filter(|r| r[c("channel")] != "phone")
            .map(|r| r[c("id")].as_str())
            .collect();
        assert!(non_phone
            .iter()
            .all(|t| first_role.get(t) == Some(&"customer")));
        let bodies: Vec<&str> = messages.values("body").collect();
        assert!(bodies
            .iter()
            .any(|b| b.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))));
        assert!(
            bodies.iter().any(|b| b.contains("frustrat"))
                && bodies.iter().any(|b| b.contains("Thank"))
        );
        let calls = read(&dir, "calls");
        assert!(calls.values("answered_at").any(str::is_empty));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_options_are_usage_errors() {
        let dir = scratch("bad");
        let mut o = small(dir.clone(), 1);
        o.timezone = "Mars/Olympus".into();
        assert_eq!(
            generate(&o).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let mut o = small(dir.clone(), 1);
        o.tickets = 0;
        assert_eq!(
            generate(&o).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        assert!(!dir.exists());
    }
}
