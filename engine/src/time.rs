//! Parsing and formatting of timestamps and durations.
//!
//! Timestamps are microseconds since the Unix epoch (UTC); durations are
//! microseconds (see [`crate::column`]).
//!
//! # Naive local times and daylight saving time
//!
//! A timestamp without an offset is read in the project time zone. Two local
//! times need a rule:
//!
//! - a local time inside a spring-forward **gap** (it never shows on a wall
//!   clock) is shifted forward by the length of the gap: `2026-03-08 02:30`
//!   in America/New_York becomes 03:30 EDT (`07:30Z`). This is what
//!   PostgreSQL and most databases do; it equals reading the time with the
//!   offset in force just before the gap.
//! - a local time inside an autumn **overlap** (it shows twice) takes the
//!   earlier instant, the first occurrence (still daylight time):
//!   `2026-11-01 01:30` in America/New_York is 01:30 EDT (`05:30Z`).

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat,
    TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::column::MICROS;

const TIMESTAMP_EXPECTED: &str = "a timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]])";
const DURATION_EXPECTED: &str =
    "a duration (seconds as a number, H:MM:SS, or units like 45s, 20m, 8h, 7d, 1h30m, 500ms)";

/// Parses a timestamp into microseconds since the Unix epoch (UTC).
///
/// Accepted forms:
/// - RFC 3339 with an offset or `Z`, `T` or a space between date and time,
///   any fractional seconds (truncated to microseconds):
///   `2026-03-08T01:30:00-05:00`, `2026-03-08 06:30:00.25Z`;
/// - naive local times, read in `tz`: `2026-03-08T01:30:00`,
///   `2026-03-08 01:30:00.5`, `2026-03-08 01:30`, `2026-03-08T01:30`, and a
///   bare date `2026-03-08` (the first instant of that local day, see
///   [`local_date_start`]).
///
/// DST rule for naive local times: a time in a spring-forward gap is shifted
/// forward by the gap length (`2026-03-08 02:30` in America/New_York →
/// 03:30 EDT); an ambiguous time in the autumn overlap takes the earlier
/// instant (the first occurrence, daylight time). Leading and trailing
/// whitespace is ignored.
pub fn parse_timestamp(s: &str, tz: Tz) -> Result<i64, String> {
    let t = s.trim();
    if let Some(f) = Fields::parse(t.as_bytes()) {
        let v = match f.offset {
            Some(off) => Some(f.at_offset(off)),
            None => f.naive().and_then(|n| resolve_local(n, tz)),
        };
        if let Some(v) = v {
            return Ok(v);
        }
    }
    parse_timestamp_general(s, tz)
}

/// [`parse_timestamp`] without the fixed-layout fast path: the reference
/// that the fast path must agree with, and its fallback for everything else
/// (other layouts, leap seconds, and all the errors).
fn parse_timestamp_general(s: &str, tz: Tz) -> Result<i64, String> {
    let t = s.trim();
    let err = || format!("expected {TIMESTAMP_EXPECTED}, found {s:?}");
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_micros());
    }
    let n = parse_naive(t).ok_or_else(err)?;
    resolve_local(n, tz).ok_or_else(err)
}

/// A timestamp in one of the layouts data files almost always use, read
/// by fixed byte positions: `YYYY-MM-DD`, `YYYY-MM-DD(T| )HH:MM`, and
/// `YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z|±HH:MM]`.
///
/// Hand-written rather than chrono's parsers because it runs once per value
/// of every timestamp column (tens of millions of times in a large load), and
/// with the layout fixed it is a few digit checks and additions: chrono's
/// RFC 3339 parser costs several times that, and a naive time first fails
/// in it before being read again. It accepts only what
/// [`parse_timestamp_general`] accepts, with the same value (tests check
/// this on many forms); anything else, including every error, goes to that
/// general path.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fields {
    /// The wall-clock time read as if it were UTC, in whole seconds.
    wall: i64,
    /// Microseconds past `wall` (fraction digits beyond six are truncated).
    micro: i64,
    /// The offset written in the text (seconds east of UTC); `None` for a
    /// naive local time.
    offset: Option<i32>,
}

/// Two ASCII digits at `b[i..i + 2]` as a number.
#[inline]
fn two_digits(b: &[u8], i: usize) -> Option<u32> {
    let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (x < 10 && y < 10).then_some(x as u32 * 10 + y as u32)
}

// `is_multiple_of` is newer (1.87) than the workspace's rust-version.
#[allow(clippy::manual_is_multiple_of)]
fn is_leap(y: u32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Fields {
    fn parse(b: &[u8]) -> Option<Fields> {
        Fields::parse_after_date(b, Fields::date(b)?)
    }

    /// The days since 1970-01-01 of the date `YYYY-MM-DD` that `b` starts with.
    fn date(b: &[u8]) -> Option<i64> {
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
        let (month, day) = (two_digits(b, 5)?, two_digits(b, 8)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(days_from_civil(year as i64, month, day))
    }

    /// The rest of [`parse`](Self::parse), given the [`date`](Self::date)
    /// of `b`'s first ten bytes.
    fn parse_after_date(b: &[u8], days: i64) -> Option<Fields> {
        let mut f = Fields {
            wall: days * 86_400,
            micro: 0,
            offset: None,
        };
        if b.len() == 10 {
            return Some(f);
        }
        if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
            return None;
        }
        let (h, m) = (two_digits(b, 11)?, two_digits(b, 14)?);
        if h > 23 || m > 59 {
            return None;
        }
        f.wall += (h * 3600 + m * 60) as i64;
        if b.len() == 16 {
            return Some(f);
        }
        if b[16] != b':' || b.len() < 19 {
            return None;
        }
        // A leap second (60) takes the general path.
        let sec = two_digits(b, 17)?;
        if sec > 59 {
            return None;
        }
        f.wall += sec as i64;
        let mut rest = &b[19..];
        if let [b'.', frac @ ..] = rest {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            for i in 0..6 {
                f.micro = f.micro * 10
                    + frac
                        .get(i)
                        .filter(|_| i < n)
                        .map_or(0, |&c| (c - b'0') as i64);
            }
            rest = &frac[n..];
        }
        f.offset = match rest {
            [] => None,
            [b'Z' | b'z'] => Some(0),
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (oh, om) = (two_digits(rest, 1)?, two_digits(rest, 4)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = (oh * 3600 + om * 60) as i32;
                Some(if *sign == b'-' { -off } else { off })
            }
            _ => return None,
        };
        Some(f)
    }

    /// The instant, read with `offset` (seconds east of UTC).
    fn at_offset(&self, offset: i32) -> i64 {
        (self.wall - offset as i64) * MICROS + self.micro
    }

    /// The wall time as a chrono value, for the general DST rule.
    fn naive(&self) -> Option<NaiveDateTime> {
        DateTime::from_timestamp(self.wall, self.micro as u32 * 1000).map(|d| d.naive_utc())
    }
}

/// Reads the timestamps of one column: [`parse_timestamp`], with the UTC
/// offset of naive local times remembered per local hour.
///
/// Resolving a local time in a zone (chrono-tz) is a search of the zone's
/// transitions; a column of a million values covers a few thousand hours.
/// An hour is remembered with its offset only when its first and last
/// second both map to one instant with the same offset: as zones do not
/// change offset twice within a day, every time in between then maps the
/// same way. Hours holding a transition (a gap or an overlap) are
/// remembered as such, and their times take the general rule of
/// `resolve_local` one by one.
pub struct TimestampParser {
    tz: Tz,
    /// Direct-mapped by local hour: (hour, offset or [`Self::MIXED`]).
    hours: Vec<(i64, i32)>,
    /// Valid dates read (their ten bytes) with their day numbers,
    /// direct-mapped by the bytes: rows in time order repeat a date many
    /// times, and the messages of one ticket after another come back to
    /// a few dates.
    dates: Vec<Option<([u8; 10], i64)>>,
}

impl TimestampParser {
    const SLOTS: usize = 1024;
    const DATES: usize = 512;
    /// An hour whose local times do not all have one offset.
    const MIXED: i32 = i32::MIN;

    pub fn new(tz: Tz) -> Self {
        TimestampParser {
            tz,
            hours: vec![(i64::MIN, 0); Self::SLOTS],
            dates: vec![None; Self::DATES],
        }
    }

    /// Same as [`parse_timestamp`] in this parser's zone.
    pub fn parse(&mut self, s: &str) -> Result<i64, String> {
        match self.parse_plain(s.trim().as_bytes()) {
            Some(v) => Ok(v),
            None => parse_timestamp(s, self.tz),
        }
    }

    /// A timestamp of the fixed layouts, from bytes not surrounded by
    /// whitespace, with the value [`parse`](Self::parse) gives it; `None`
    /// for anything else (which `parse` reads the general way, or rejects).
    #[inline]
    pub fn parse_plain(&mut self, b: &[u8]) -> Option<i64> {
        let key: [u8; 10] = b.get(..10)?.try_into().expect("ten bytes");
        // The slot: month and day (and the year's last digit) spread.
        let mix = u64::from_le_bytes(key[2..10].try_into().expect("eight bytes"));
        let slot = (mix.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 55) as usize % Self::DATES;
        let days = match self.dates[slot] {
            Some((k, days)) if k == key => days,
            _ => {
                let days = Fields::date(b)?;
                self.dates[slot] = Some((key, days));
                days
            }
        };
        let f = Fields::parse_after_date(b, days)?;
        let offset = match f.offset {
            Some(off) => off,
            None => self.hour_offset(f.wall)?,
        };
        Some(f.at_offset(offset))
    }

    /// The offset of every local time in the hour of `wall`, if they share one.
    fn hour_offset(&mut self, wall: i64) -> Option<i32> {
        let hour = wall.div_euclid(3600);
        let slot = &mut self.hours[hour as usize % Self::SLOTS];
        if slot.0 != hour {
            let single = |w: i64| match self
                .tz
                .from_local_datetime(&DateTime::from_timestamp(w, 0)?.naive_utc())
            {
                LocalResult::Single(dt) => Some(dt.offset().fix().local_minus_utc()),
                _ => None,
            };
            let first = single(hour * 3600);
            let off = match first {
                Some(a) if first == single(hour * 3600 + 3599) => a,
                _ => Self::MIXED,
            };
            *slot = (hour, off);
        }
        (slot.1 != Self::MIXED).then_some(slot.1)
    }
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]]`, by hand: this runs once per
/// value of every naive timestamp column, and chrono's format-string parser
/// is several times slower. Fractions beyond microseconds are truncated.
fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(r)?;
        digits.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
        })
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    if b.len() == 10 {
        return Some(date.and_time(NaiveTime::MIN));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (h, m) = (num(11..13)?, num(14..16)?);
    let (mut sec, mut micro) = (0, 0);
    if b.len() > 16 {
        if b[16] != b':' {
            return None;
        }
        sec = num(17..19)?;
        if b.len() > 19 {
            let frac = &b[20..];
            if b[19] != b'.' || frac.is_empty() || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for i in 0..6 {
                micro = micro * 10 + frac.get(i).map_or(0, |&c| (c - b'0') as u32);
            }
        }
    }
    Some(date.and_time(NaiveTime::from_hms_micro_opt(h, m, sec, micro)?))
}

/// Parses `--from` / `--to`: a bare date (`YYYY-MM-DD`) is local midnight in
/// `tz` (the first instant of that local day), anything else is a timestamp
/// as read by [`parse_timestamp`].
pub fn parse_bound(s: &str, tz: Tz) -> Result<i64, String> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(local_date_start(d, tz));
    }
    parse_timestamp(t, tz)
        .map_err(|_| format!("expected a date (YYYY-MM-DD) or {TIMESTAMP_EXPECTED}, found {s:?}"))
}

/// The first instant of local day `date` in `tz`, in microseconds (UTC).
///
/// Normally local midnight. Where midnight falls in a DST gap (e.g.
/// America/Santiago on 2026-09-06) it is the first instant after the gap
/// (01:00 local); where midnight occurs twice it is the first occurrence.
pub fn local_date_start(date: NaiveDate, tz: Tz) -> i64 {
    let n = date.and_time(NaiveTime::MIN);
    // `resolve_local` only fails outside chrono's range (±262,000 years);
    // fall back to reading midnight as UTC there rather than panicking.
    resolve_local(n, tz).unwrap_or_else(|| n.and_utc().timestamp_micros())
}

/// Formats an instant as RFC 3339 in `tz`, with the numeric offset of that
/// zone (`+00:00` for UTC, never `Z`). Seconds precision when there are no
/// fractional microseconds, otherwise milliseconds or microseconds as
/// needed: `2026-03-01T00:00:00-05:00`, `2026-03-01T00:00:00.250-05:00`.
pub fn format_rfc3339(ts: i64, tz: Tz) -> String {
    match DateTime::<Utc>::from_timestamp_micros(ts) {
        Some(dt) => dt
            .with_timezone(&tz)
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        None => format!("<timestamp out of range: {ts}µs>"),
    }
}

/// Resolves a naive local time in `tz` to an instant by the module's DST
/// rule. `None` only when the result is outside chrono's range.
pub(crate) fn resolve_local(n: NaiveDateTime, tz: Tz) -> Option<i64> {
    match tz.from_local_datetime(&n) {
        LocalResult::Single(dt) => Some(dt.timestamp_micros()),
        LocalResult::Ambiguous(earliest, _) => Some(earliest.timestamp_micros()),
        LocalResult::None => {
            // In a gap: read the wall time with the offset in force before the
            // gap. That instant lies after the transition, i.e. the wall time
            // shifted forward by the gap length. One day back is safely before
            // the transition (zones don't change offset twice within a day).
            let before = n.checked_sub_signed(Duration::days(1))?;
            let offset = tz.offset_from_utc_datetime(&before).fix();
            let utc = n.checked_sub_signed(Duration::seconds(offset.local_minus_utc() as i64))?;
            Some(utc.and_utc().timestamp_micros())
        }
    }
}

/// Parses a duration into microseconds.
///
/// Accepted forms:
/// - seconds as a plain number, negative allowed: `90`, `12.5`, `-3`;
/// - `H:MM:SS` with any number of hour digits, optional fractional seconds:
///   `1:30:00`, `36:00:00`, `0:00:12.5`;
/// - units, largest first, each at most once, optionally separated by
///   spaces: `45s`, `20m`, `8h`, `7d`, `1h30m`, `1d2h3m4s`, `500ms`, `250us`;
///   a component may be fractional (`1.5h`). No sign in this form.
///
/// Values are converted exactly (decimal fractions beyond a microsecond
/// are rounded half up).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let err = || format!("expected {DURATION_EXPECTED}, found {s:?}");
    let overflow = || format!("duration {s:?} is out of range");
    if t.is_empty() {
        return Err(err());
    }
    // Plain number of seconds.
    if let Some(d) = Decimal::parse_signed(t) {
        return d.times(MICROS as i128).ok_or_else(overflow);
    }
    // H:MM:SS
    if t.contains(':') {
        let parts: Vec<&str> = t.split(':').collect();
        let [h, m, sec] = parts[..] else {
            return Err(err());
        };
        let two_digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        let (sec_int, sec_frac) = sec.split_once('.').unwrap_or((sec, ""));
        if h.is_empty()
            || h.len() > 15
            || !h.bytes().all(|b| b.is_ascii_digit())
            || !two_digits(m)
            || !two_digits(sec_int)
            || (sec.contains('.') && (sec_frac.is_empty() || !is_digits(sec_frac)))
        {
            return Err(err());
        }
        let mm: i128 = m.parse().map_err(|_| err())?;
        let secs = Decimal::parse_signed(sec).ok_or_else(err)?;
        if mm >= 60 || secs.int >= 60 {
            return Err(format!(
                "expected {DURATION_EXPECTED}, found {s:?} (minutes and seconds must be below 60)"
            ));
        }
        let hh: i128 = h.parse().map_err(|_| overflow())?;
        let whole = (hh * 3600 + mm * 60) * MICROS as i128;
        let total = secs.times(MICROS as i128).ok_or_else(overflow)? as i128 + whole;
        return i64::try_from(total).map_err(|_| overflow());
    }
    // Unit form.
    const UNITS: &[(&str, i128)] = &[
        ("d", 86_400 * MICROS as i128),
        ("h", 3_600 * MICROS as i128),
        ("ms", 1_000),
        ("m", 60 * MICROS as i128),
        ("s", MICROS as i128),
        ("us", 1),
        ("µs", 1),
    ];
    let mut rest = t;
    let mut total: i128 = 0;
    let mut last_unit = i128::MAX;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = Decimal::parse_unsigned(&rest[..num_len]).ok_or_else(err)?;
        rest = &rest[num_len..];
        let &(unit, scale) = UNITS
            .iter()
            .find(|(u, _)| {
                rest.starts_with(u)
                    && !rest[u.len()..].starts_with(|c: char| c.is_ascii_alphabetic())
            })
            .ok_or_else(err)?;
        if scale >= last_unit {
            return Err(format!(
                "expected {DURATION_EXPECTED}, found {s:?} (units must go from largest to smallest, each once)"
            ));
        }
        last_unit = scale;
        total += num.times(scale).ok_or_else(overflow)? as i128;
        rest = rest[unit.len()..].trim_start();
    }
    i64::try_from(total).map_err(|_| overflow())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An exact decimal number `[-]int.frac` as written in the text.
struct Decimal<'a> {
    negative: bool,
    int: i128,
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    /// `[+-]?digits[.digits]` (also `.5` and `5.`).
    fn parse_signed(s: &'a str) -> Option<Self> {
        let (negative, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let mut d = Self::parse_unsigned(body)?;
        d.negative = negative;
        Some(d)
    }

    fn parse_unsigned(s: &'a str) -> Option<Self> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if (int.is_empty() && frac.is_empty())
            || !(int.is_empty() || is_digits(int))
            || !(frac.is_empty() || is_digits(frac))
            || int.len() > 30
        {
            return None;
        }
        let int = if int.is_empty() { 0 } else { int.parse().ok()? };
        Some(Decimal {
            negative: false,
            int,
            frac,
        })
    }

    /// `self * scale`, rounded half up (away from zero) to an integer.
    fn times(&self, scale: i128) -> Option<i64> {
        let mut v = self.int.checked_mul(scale)?;
        // Fraction: use up to 18 digits, which is plenty for microseconds.
        let digits = &self.frac[..self.frac.len().min(18)];
        if !digits.is_empty() {
            let f: i128 = digits.parse().ok()?;
            let den = 10i128.pow(digits.len() as u32);
            let num = f.checked_mul(scale)?;
            v = v.checked_add((num + den / 2) / den)?;
        }
        if self.negative {
            v = -v;
        }
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use chrono_tz::America::New_York;
    use chrono_tz::UTC;

    const H: i64 = 3_600 * MICROS;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn rfc3339_with_offsets() {
        // 2026-03-08T06:30:00Z = 1772951400 s since the epoch.
        assert_eq!(utc("2026-03-08T06:30:00Z"), 1_772_951_400 * MICROS);
        assert_eq!(
            parse_timestamp("2026-03-08T01:30:00-05:00", UTC),
            Ok(1_772_951_400 * MICROS)
        );
        // Offset in the text wins over the zone.
        assert_eq!(
            parse_timestamp("2026-03-08T01:30:00-05:00", New_York),
            Ok(1_772_951_400 * MICROS)
        );
        assert_eq!(
            parse_timestamp("2026-03-08 06:30:00Z", New_York),
            Ok(1_772_951_400 * MICROS)
        );
        assert_eq!(
            parse_timestamp("2026-03-08T06:30:00.123456789z", UTC),
            Ok(1_772_951_400 * MICROS + 123_456)
        );
        assert_eq!(
            parse_timestamp(" 2026-03-08T12:15:00.5+05:45 ", UTC),
            Ok(1_772_951_400 * MICROS + 500_000)
        );
    }

    #[test]
    fn naive_forms_read_in_zone() {
        let expect = 1_772_951_400 * MICROS; // 01:30 EST = 06:30Z
        for s in [
            "2026-03-08T01:30:00",
            "2026-03-08 01:30:00",
            "2026-03-08 01:30",
            "2026-03-08T01:30",
            "2026-03-08 01:30:00.000",
        ] {
            assert_eq!(parse_timestamp(s, New_York), Ok(expect), "{s}");
        }
        assert_eq!(
            parse_timestamp("2026-03-08 01:30:00.25", New_York),
            Ok(expect + 250_000)
        );
        assert_eq!(
            parse_timestamp("2026-03-08t01:30:00.123456789", New_York),
            Ok(expect + 123_456)
        );
        // Bare date: local midnight, 05:00Z in EST.
        assert_eq!(
            parse_timestamp("2026-03-08", New_York),
            Ok(expect - 90 * 60 * MICROS)
        );
        assert_eq!(parse_timestamp("1970-01-01", UTC), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31 23:59:59", UTC), Ok(-MICROS));
    }

    #[test]
    fn dst_gap_shifts_forward_and_overlap_takes_earlier() {
        // 02:30 does not exist on 2026-03-08 in New York: 03:30 EDT = 07:30Z.
        assert_eq!(
            parse_timestamp("2026-03-08 02:30", New_York),
            Ok(utc("2026-03-08T07:30:00Z"))
        );
        assert_eq!(
            parse_timestamp("2026-03-08 02:00:00", New_York),
            Ok(utc("2026-03-08T03:00:00-04:00"))
        );
        // 01:30 occurs twice on 2026-11-01: first occurrence is EDT (05:30Z).
        assert_eq!(
            parse_timestamp("2026-11-01 01:30", New_York),
            Ok(utc("2026-11-01T05:30:00Z"))
        );
        assert_eq!(
            parse_timestamp("2026-11-01 02:00", New_York),
            Ok(utc("2026-11-01T07:00:00Z"))
        );
    }

    /// The fixed-layout fast path gives what the general parser gives, on
    /// the forms it takes and on near misses it must leave to it.
    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        use chrono_tz::{Australia::Lord_Howe, Pacific::Apia};
        let mut texts = vec![];
        for date in [
            "2026-03-08",
            "2026-11-01",
            "2024-02-29",
            "2023-02-29",
            "1900-02-29",
            "2000-02-29",
            "1970-01-01",
            "1969-12-31",
            "0000-01-01",
            "0000-02-29",
            "9999-12-31",
            "2026-00-10",
            "2026-13-01",
            "2026-04-31",
            "2026-04-00",
            "2011-12-30",
        ] {
            texts.push(date.to_string());
            for sep in ["T", "t", " ", "_"] {
                for time in ["00:00", "01:30", "02:30", "23:59", "24:00", "12:60", "1:30"] {
                    texts.push(format!("{date}{sep}{time}"));
                    for sec in [":00", ":59", ":60", ":5", ":5x"] {
                        for frac in [
                            "",
                            ".",
                            ".5",
                            ".25",
                            ".123456",
                            ".1234567",
                            ".123456789",
                            ".123456789012",
                            ".5x",
                        ] {
                            for off in [
                                "",
                                "Z",
                                "z",
                                "+00:00",
                                "-05:00",
                                "+05:45",
                                "+23:59",
                                "-23:59",
                                "+24:00",
                                "+05:60",
                                "+0545",
                                "+05",
                                " UTC",
                                "Zz",
                                "\u{2212}05:00",
                            ] {
                                texts.push(format!("{date}{sep}{time}{sec}{frac}{off}"));
                            }
                        }
                    }
                }
            }
        }
        for s in [
            "",
            "2026",
            "2026-03-0",
            "+2026-03-08",
            "2026/03/08",
            " 2026-03-08 01:30 ",
            "20260308",
        ] {
            texts.push(s.to_string());
        }
        let mut fast = 0;
        for tz in [New_York, Lord_Howe, Apia] {
            let mut parser = TimestampParser::new(tz);
            for s in &texts {
                let general = parse_timestamp_general(s, tz);
                assert_eq!(parse_timestamp(s, tz), general, "{s:?} in {tz}");
                assert_eq!(parser.parse(s), general, "{s:?} in {tz}, cached");
                fast += Fields::parse(s.trim().as_bytes()).is_some() as usize;
            }
        }
        assert!(fast > 3 * 10_000, "the fast path took {fast} texts");
    }

    /// The cached parser reads every naive wall time as the general rule
    /// does, through years of transitions: gaps shift forward, overlaps take
    /// the first occurrence (Apia skipped 2011-12-30 entirely).
    #[test]
    fn cached_offsets_agree_through_transitions() {
        use chrono_tz::{America::Santiago, Australia::Lord_Howe, Pacific::Apia};
        for tz in [New_York, Santiago, Lord_Howe, Apia, UTC] {
            let mut parser = TimestampParser::new(tz);
            let start = utc("2011-01-01T00:00:00Z") / MICROS;
            // Every 7 min 13 s over two years, then every 97 s from each
            // day's midnight to 04:00.
            let mut walls: Vec<i64> = (0..2 * 365 * 24 * 3600 / 433)
                .map(|i| start + i * 433)
                .collect();
            walls.extend((0..730).flat_map(|d| (0..150).map(move |i| start + d * 86_400 + i * 97)));
            for w in walls {
                let n = DateTime::from_timestamp(w, 0).unwrap().naive_utc();
                let s = n.format("%Y-%m-%d %H:%M:%S").to_string();
                assert_eq!(
                    parser.parse(&s),
                    parse_timestamp_general(&s, tz),
                    "{s} in {tz}"
                );
            }
        }
    }

    /// Dates out of order (messages of one ticket after another) share
    /// the parser's slots and still read as the general rule reads them.
    #[test]
    fn cached_dates_agree_in_any_order() {
        let mut parser = TimestampParser::new(New_York);
        let start = utc("2025-06-01T12:00:00Z") / MICROS;
        // A stride coprime with the span visits its days out of order.
        for i in 0..5_000i64 {
            let w = start + (i * 389 % 1_500) * 86_400 + i % 3_600;
            let s = DateTime::from_timestamp(w, 0)
                .unwrap()
                .naive_utc()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string();
            assert_eq!(
                parser.parse(&s),
                parse_timestamp_general(&s, New_York),
                "{s}"
            );
        }
    }

    #[test]
    fn days_from_civil_matches_chrono() {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let mut d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        while d.year() < 10_000 {
            let days = days_from_civil(d.year() as i64, d.month(), d.day());
            assert_eq!(days, (d - epoch).num_days(), "{d}");
            d += Duration::days(13);
        }
    }

    #[test]
    fn timestamp_errors() {
        let e = parse_timestamp("abc", UTC).unwrap_err();
        assert_eq!(
            e,
            r#"expected a timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]), found "abc""#
        );
        for bad in [
            "",
            "2026-03-08T",
            "2026-03-08 1:30",
            "2026-03-08 01:30:5",
            "2026-03-08 01:30:00.",
            "2026-03-08 01:30:00.5x",
            "2026-03-08 01:30:00,5",
            "2026-03-08 24:00",
            "2026-3-8",
            "+2026-03-08",
            "2026-03-08x",
            "2026-13-01",
            "2026-02-30",
            "2026-03-08T25:00",
            "08/03/2026",
            "2026-03-08T01:30:00+25:00",
        ] {
            assert!(parse_timestamp(bad, UTC).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_date_start_in_gaps() {
        use chrono_tz::America::{Santiago, Sao_Paulo};
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(
            local_date_start(d(2026, 3, 8), New_York),
            utc("2026-03-08T05:00:00Z")
        );
        assert_eq!(
            local_date_start(d(2026, 3, 9), New_York),
            utc("2026-03-09T04:00:00Z")
        );
        // Santiago springs forward at local midnight on 2026-09-06 (-04 → -03):
        // the day starts at 01:00 -03 = 04:00Z.
        assert_eq!(
            local_date_start(d(2026, 9, 6), Santiago),
            utc("2026-09-06T04:00:00Z")
        );
        assert_eq!(
            local_date_start(d(2026, 9, 5), Santiago),
            utc("2026-09-05T04:00:00Z")
        );
        // Sao Paulo, 2018-11-04 (-03 → -02 at midnight): 01:00 -02 = 03:00Z.
        assert_eq!(
            local_date_start(d(2018, 11, 4), Sao_Paulo),
            utc("2018-11-04T03:00:00Z")
        );
        assert_eq!(
            format_rfc3339(local_date_start(d(2018, 11, 4), Sao_Paulo), Sao_Paulo),
            "2018-11-04T01:00:00-02:00"
        );
    }

    #[test]
    fn bounds() {
        assert_eq!(
            parse_bound("2026-03-01", New_York),
            Ok(utc("2026-03-01T05:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-07-01", New_York),
            Ok(utc("2026-07-01T04:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03-01T12:00:00Z", New_York),
            Ok(utc("2026-03-01T12:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-03-01 12:00", New_York),
            Ok(utc("2026-03-01T17:00:00Z"))
        );
        assert_eq!(
            parse_bound("next week", UTC).unwrap_err(),
            r#"expected a date (YYYY-MM-DD) or a timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]), found "next week""#
        );
    }

    #[test]
    fn formatting() {
        let t = utc("2026-03-01T05:00:00Z");
        assert_eq!(format_rfc3339(t, New_York), "2026-03-01T00:00:00-05:00");
        assert_eq!(format_rfc3339(t, UTC), "2026-03-01T05:00:00+00:00");
        assert_eq!(
            format_rfc3339(t + 250_000, New_York),
            "2026-03-01T00:00:00.250-05:00"
        );
        assert_eq!(
            format_rfc3339(t + 7, New_York),
            "2026-03-01T00:00:00.000007-05:00"
        );
        assert_eq!(
            format_rfc3339(utc("2026-07-01T04:00:00Z"), New_York),
            "2026-07-01T00:00:00-04:00"
        );
        assert_eq!(
            format_rfc3339(0, chrono_tz::Asia::Kathmandu),
            "1970-01-01T05:30:00+05:30"
        );
        assert_eq!(
            format_rfc3339(utc("2026-01-01T00:00:00Z"), chrono_tz::Asia::Kathmandu),
            "2026-01-01T05:45:00+05:45"
        );
        // Round trip.
        for s in ["2026-03-08T03:00:00-04:00", "2026-11-01T01:30:00-05:00"] {
            let ts = parse_timestamp(s, UTC).unwrap();
            assert_eq!(format_rfc3339(ts, New_York), s);
        }
    }

    #[test]
    fn durations_plain_seconds() {
        assert_eq!(parse_duration("90"), Ok(90 * MICROS));
        assert_eq!(parse_duration("12.5"), Ok(12_500_000));
        assert_eq!(parse_duration("-3"), Ok(-3 * MICROS));
        assert_eq!(parse_duration("-0.25"), Ok(-250_000));
        assert_eq!(parse_duration("+2"), Ok(2 * MICROS));
        assert_eq!(parse_duration(".5"), Ok(500_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("0.0000015"), Ok(2)); // rounded half up
        assert_eq!(parse_duration(" 7 "), Ok(7 * MICROS));
    }

    #[test]
    fn durations_clock_form() {
        assert_eq!(parse_duration("1:30:00"), Ok(90 * 60 * MICROS));
        assert_eq!(parse_duration("01:30:15"), Ok((5400 + 15) * MICROS));
        assert_eq!(parse_duration("36:00:00"), Ok(36 * H));
        assert_eq!(parse_duration("0:00:12.5"), Ok(12_500_000));
        assert_eq!(parse_duration("100:00:01"), Ok(100 * H + MICROS));
        for bad in [
            "1:30",
            "1:60:00",
            "1:00:60",
            "1:5:00",
            ":00:00",
            "-1:00:00",
            "1:00:00.",
            "1:00:00:00",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_unit_form() {
        assert_eq!(parse_duration("45s"), Ok(45 * MICROS));
        assert_eq!(parse_duration("20m"), Ok(20 * 60 * MICROS));
        assert_eq!(parse_duration("8h"), Ok(8 * H));
        assert_eq!(parse_duration("7d"), Ok(7 * 24 * H));
        assert_eq!(parse_duration("1h30m"), Ok(90 * 60 * MICROS));
        assert_eq!(
            parse_duration("1d2h3m4s"),
            Ok((86_400 + 2 * 3600 + 3 * 60 + 4) * MICROS)
        );
        assert_eq!(parse_duration("500ms"), Ok(500_000));
        assert_eq!(parse_duration("1s500ms"), Ok(1_500_000));
        assert_eq!(parse_duration("1m30s250ms"), Ok(90_250_000));
        assert_eq!(parse_duration("1.5h"), Ok(90 * 60 * MICROS));
        assert_eq!(parse_duration("1h 30m"), Ok(90 * 60 * MICROS));
        assert_eq!(parse_duration("250us"), Ok(250));
        for bad in [
            "-5m", "5x", "h", "1h1h", "30m1h", "1hour", "1m 2", "1..5s", "m5", "5ms5s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_duration("abc").unwrap_err(),
            r#"expected a duration (seconds as a number, H:MM:SS, or units like 45s, 20m, 8h, 7d, 1h30m, 500ms), found "abc""#
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("1e3").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("9999999999999999").is_err());
    }
}
