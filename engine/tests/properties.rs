//! Property tests of the time rules (issue 6, "Time"): every instant lands in
//! exactly one period, period starts are local midnights, and every naive
//! local wall time parses by the documented DST rule.
//!
//! The zones are the four: America/New_York and Europe/Berlin (one-
//! hour switches at 02:00/03:00), Australia/Lord_Howe (a 30-minute switch)
//! and Asia/Kathmandu (+05:45, and a 15-minute gap at midnight on
//! 1986-01-01). Instants are drawn uniformly over 1970–2100 and, as often,
//! near one of the zones' actual offset transitions (found by scanning the
//! tz database through chrono-tz, independently of the code under test) or
//! near a local midnight, where the boundary cases are.
//!
//! The oracles are written from the definitions, not from the engine's
//! code: a period's first local date is computed here by calendar
//! arithmetic; "the period start" is checked as "the first instant whose
//! local date is that date"; a gap time's expected instant comes from the
//! transition that opened the gap.

use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use kpi_engine::period::{bucket, Calendar, PeriodKind};
use kpi_engine::time::{format_rfc3339, local_date_start, parse_timestamp, TimestampParser};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

const SEC: i64 = 1_000_000;
const HOUR: i64 = 3_600 * SEC;
const DAY: i64 = 24 * HOUR;
/// 1970-01-01T00:00:00Z and 2100-01-01T00:00:00Z.
const LO: i64 = 0;
const HI: i64 = 4_102_444_800 * SEC;

const ZONES: [Tz; 4] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kathmandu,
];
const KINDS: [PeriodKind; 5] = [
    PeriodKind::Day,
    PeriodKind::Week,
    PeriodKind::Month,
    PeriodKind::Quarter,
    PeriodKind::Year,
];
const WEEK_STARTS: [Weekday; 2] = [Weekday::Mon, Weekday::Sun];

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// UTC offset in force at instant `t`, in seconds.
fn offset(tz: Tz, t: i64) -> i64 {
    let utc = DateTime::<Utc>::from_timestamp_micros(t).expect("in range");
    tz.offset_from_utc_datetime(&utc.naive_utc())
        .fix()
        .local_minus_utc() as i64
}

/// The local wall time of instant `t`.
fn local(tz: Tz, t: i64) -> NaiveDateTime {
    let utc = DateTime::<Utc>::from_timestamp_micros(t).expect("in range");
    utc.with_timezone(&tz).naive_local()
}

fn local_date(tz: Tz, t: i64) -> NaiveDate {
    local(tz, t).date()
}

/// Wall time `n` read with a fixed offset (seconds), as an instant.
fn at_offset(n: NaiveDateTime, off: i64) -> i64 {
    n.and_utc().timestamp_micros() - off * SEC
}

/// Every offset change of `tz` in [LO, HI), as the first instant of the new
/// offset. Found by comparing offsets a day apart and bisecting (every
/// transition in these zones is at least months from the next).
fn transitions(zone: usize) -> &'static [i64] {
    static ALL: OnceLock<Vec<Vec<i64>>> = OnceLock::new();
    &ALL.get_or_init(|| {
        ZONES
            .iter()
            .map(|&tz| transitions_between(tz, LO, HI))
            .collect()
    })[zone]
}

/// The first local date of the period of `kind` holding local date `d`, by
/// calendar arithmetic.
fn first_date(kind: PeriodKind, week_start: Weekday, d: NaiveDate) -> NaiveDate {
    let ymd = |y, m| NaiveDate::from_ymd_opt(y, m, 1).expect("valid date");
    match kind {
        PeriodKind::Day => d,
        PeriodKind::Week => {
            let back =
                (d.weekday().num_days_from_monday() + 7 - week_start.num_days_from_monday()) % 7;
            d - Days::new(back as u64)
        }
        PeriodKind::Month => ymd(d.year(), d.month()),
        PeriodKind::Quarter => ymd(d.year(), (d.month() - 1) / 3 * 3 + 1),
        PeriodKind::Year => ymd(d.year(), 1),
        PeriodKind::All => unreachable!(),
    }
}

/// The first local date of the period after the one starting on `d`.
fn next_first_date(kind: PeriodKind, d: NaiveDate) -> NaiveDate {
    match kind {
        PeriodKind::Day => d + Days::new(1),
        PeriodKind::Week => d + Days::new(7),
        PeriodKind::Month => d + Months::new(1),
        PeriodKind::Quarter => d + Months::new(3),
        PeriodKind::Year => d + Months::new(12),
        PeriodKind::All => unreachable!(),
    }
}

/// `s` is the start of local date `d`: local midnight, or, where midnight
/// falls in a gap, the first instant after the gap. Either way it is the
/// first instant whose local date is `d`.
fn assert_day_start(tz: Tz, s: i64, d: NaiveDate, ctx: &str) {
    assert_eq!(local_date(tz, s), d, "{ctx}: start {s} is not on {d}");
    assert!(
        local_date(tz, s - 1) < d,
        "{ctx}: the instant before start {s} is already on {d}"
    );
    let midnight = d.and_time(NaiveTime::MIN);
    if local(tz, s) != midnight {
        assert!(
            matches!(tz.from_local_datetime(&midnight), LocalResult::None),
            "{ctx}: start {} is not midnight, yet midnight exists",
            format_rfc3339(s, tz)
        );
        assert_ne!(
            offset(tz, s - 1),
            offset(tz, s),
            "{ctx}: start {} is not the first instant after a gap",
            format_rfc3339(s, tz)
        );
    }
}

/// An instant of zone `zone`: uniform over 1970–2100 (`pick` 0), within two
/// days of an offset transition (1), within a few µs of one (2), or near
/// a local midnight (3).
fn instant(zone: usize, pick: u8, a: u64, delta: i64) -> i64 {
    let tz = ZONES[zone];
    let trans = transitions(zone);
    match pick {
        0 => LO + (a % (HI - LO) as u64) as i64,
        1 => trans[(a % trans.len() as u64) as usize] + delta,
        2 => trans[(a % trans.len() as u64) as usize] + delta % 4,
        _ => {
            let days = (HI - LO) / DAY - 2;
            let d = NaiveDate::from_ymd_opt(1970, 1, 2).expect("date") + Days::new(a % days as u64);
            local_date_start(d, tz) + delta % (2 * SEC)
        }
    }
}

fn instant_args() -> impl Strategy<Value = (usize, u8, u64, i64)> {
    (0..ZONES.len(), 0u8..4, any::<u64>(), -2 * DAY..2 * DAY)
}

#[test]
fn transitions_are_found() {
    // The scan is the oracle of the gap rule below: make sure it sees the
    // switches it should (2 a year where the zone has DST).
    let ny = transitions(0);
    assert!(ny.len() > 250, "{}", ny.len());
    let t = ny
        .iter()
        .find(|&&t| local_date(ZONES[0], t).year() == 2026)
        .expect("a 2026 switch");
    assert_eq!(format_rfc3339(*t, ZONES[0]), "2026-03-08T03:00:00-04:00");
    // Lord Howe switches by 30 minutes (since 1986; by an hour before);
    // Kathmandu once, by 15, in 1986.
    let lh = transitions(2);
    assert!(lh.len() > 200);
    let shift = |t: i64| (offset(ZONES[2], t) - offset(ZONES[2], t - 1)).abs();
    assert!(lh
        .iter()
        .filter(|&&t| local_date(ZONES[2], t).year() >= 1986)
        .all(|&t| shift(t) == 1800));
    assert_eq!(
        transitions(3)
            .iter()
            .map(|&t| format_rfc3339(t, ZONES[3]))
            .collect::<Vec<_>>(),
        ["1986-01-01T00:15:00+05:45"]
    );
}

proptest! {
    #![proptest_config(config(1000))]

    /// floor(t) <= t < next(floor(t)); floor is idempotent; the period
    /// starts (and ends) on the right local date, at its first instant.
    #[test]
    fn every_instant_has_exactly_one_period((zone, pick, a, delta) in instant_args()) {
        let tz = ZONES[zone];
        let t = instant(zone, pick, a, delta);
        let d = local_date(tz, t);
        for week_start in WEEK_STARTS {
            let cal = Calendar::new(tz, week_start);
            for kind in KINDS {
                if kind != PeriodKind::Week && week_start != Weekday::Mon {
                    continue;
                }
                let ctx = format!("{tz} {kind:?} {week_start} t={} ({t})", format_rfc3339(t, tz));
                let f = cal.floor(kind, t);
                let n = cal.next(kind, f);
                prop_assert!(f <= t && t < n, "{ctx}: [{f}, {n}) misses t");
                prop_assert_eq!(cal.floor(kind, f), f, "{}: floor not idempotent", ctx);
                prop_assert_eq!(cal.floor(kind, n - 1), f, "{}", ctx);
                prop_assert_eq!(cal.floor(kind, n), n, "{}", ctx);
                let first = first_date(kind, week_start, d);
                assert_day_start(tz, f, first, &ctx);
                assert_day_start(tz, n, next_first_date(kind, first), &ctx);
                // Length sanity: the calendar days between the two dates,
                // give or take the offset changes in between (at most 1.5 h:
                // Lord Howe went from +10:00 to +11:30 in 1981).
                let days = (next_first_date(kind, first) - first).num_days();
                prop_assert!(((n - f) - days * DAY).abs() <= 3 * HOUR / 2, "{}: length {}", ctx, n - f);
            }
        }
    }

    /// `periods(kind, a, b)` is sorted, contiguous, covers [a, b) with
    /// whole periods, and `bucket` finds each instant in exactly the one
    /// period whose local start date is that instant's period date.
    #[test]
    fn periods_are_contiguous_and_bucket_is_exact(
        (zone, pick, a, delta) in instant_args(),
        kind in 0..KINDS.len(),
        sunday in any::<bool>(),
        span in 0u64..1_000_000,
        probes in proptest::collection::vec(0u64..1_000_000, 1..8),
    ) {
        let tz = ZONES[zone];
        let kind = KINDS[kind];
        let week_start = if sunday { Weekday::Sun } else { Weekday::Mon };
        let cal = Calendar::new(tz, week_start);
        // At most ~60 periods of the kind.
        let max_span = match kind {
            PeriodKind::Day => 60 * DAY,
            PeriodKind::Week => 400 * DAY,
            PeriodKind::Month => 5 * 366 * DAY,
            PeriodKind::Quarter => 15 * 366 * DAY,
            _ => 60 * 366 * DAY,
        };
        let from = instant(zone, pick, a, delta).min(HI - max_span - 1);
        let to = from + 1 + (span as i64 * (max_span / 1_000_000));
        let ps = cal.periods(kind, from, to);
        let ctx = format!("{tz} {kind:?} {week_start} [{}, {})", format_rfc3339(from, tz), format_rfc3339(to, tz));
        prop_assert!(!ps.is_empty(), "{}", ctx);
        prop_assert_eq!(ps[0].0, cal.floor(kind, from), "{}", ctx);
        let last = *ps.last().expect("non-empty");
        prop_assert!(last.0 < to && to <= last.1, "{}: last period {:?}", ctx, last);
        for w in ps.windows(2) {
            prop_assert_eq!(w[0].1, w[1].0, "{}: not contiguous", ctx);
        }
        let mut prev_date = None;
        for &(s, e) in &ps {
            prop_assert!(s < e, "{}: empty period", ctx);
            prop_assert_eq!(cal.floor(kind, s), s, "{}", ctx);
            prop_assert_eq!(cal.next(kind, s), e, "{}", ctx);
            let d = local_date(tz, s);
            prop_assert_eq!(first_date(kind, week_start, d), d, "{}: {} starts no period", ctx, d);
            assert_day_start(tz, s, d, &ctx);
            if let Some(p) = prev_date {
                prop_assert_eq!(next_first_date(kind, p), d, "{}: a period is missing", ctx);
            }
            prev_date = Some(d);
        }
        prop_assert_eq!(bucket(&ps, ps[0].0 - 1), None);
        prop_assert_eq!(bucket(&ps, last.1), None);
        let mut ts = vec![from, to - 1, ps[0].0, last.1 - 1];
        ts.extend(probes.iter().map(|&p| from + ((to - from) as i128 * p as i128 / 1_000_000) as i64));
        ts.extend(ps.iter().flat_map(|&(s, e)| [s, e - 1]));
        for t in ts {
            let i = bucket(&ps, t);
            let holding: Vec<usize> = (0..ps.len()).filter(|&k| ps[k].0 <= t && t < ps[k].1).collect();
            prop_assert_eq!(holding.len(), 1, "{}: t={} in {:?}", ctx, t, holding);
            prop_assert_eq!(i, Some(holding[0]), "{}: bucket of {}", ctx, t);
            let want = first_date(kind, week_start, local_date(tz, t));
            prop_assert_eq!(local_date(tz, ps[holding[0]].0), want, "{}: t={}", ctx, t);
        }
    }

    /// Every naive local wall time parses. Times that exist once round-trip;
    /// ambiguous ones take the earlier instant; times in a gap are shifted
    /// forward by the length of the gap.
    #[test]
    fn every_local_wall_time_parses(
        zone in 0..ZONES.len(),
        pick in 0u8..3,
        a in any::<u64>(),
        secs in -3 * 3_600i64..3 * 3_600,
        micros in 0u32..1_000_000,
        form in 0u8..5,
    ) {
        let tz = ZONES[zone];
        let trans = transitions(zone);
        // Anywhere (pick 0), within 3 h of a transition (1), or within an
        // hour of one, where the gaps and overlaps are (2).
        let base = if pick > 0 {
            // The wall clock at a transition, as it read just before it.
            let t = trans[(a % trans.len() as u64) as usize];
            local(tz, t - 1) + chrono::Duration::microseconds(1)
        } else {
            let days = (HI - LO) / DAY - 2;
            (NaiveDate::from_ymd_opt(1970, 1, 2).expect("date") + Days::new(a % days as u64))
                .and_time(NaiveTime::MIN)
                + chrono::Duration::seconds(3 * 3_600)
        };
        let n = base + chrono::Duration::seconds(if pick == 2 { secs % 3_600 } else { secs });
        let n = n.date().and_time(
            NaiveTime::from_hms_micro_opt(n.hour(), n.minute(), n.second(), micros).expect("time"),
        );
        // The forms of the reader, each giving the wall time it denotes.
        let (text, n) = match form {
            0 => (n.format("%Y-%m-%d %H:%M:%S%.6f").to_string(), n),
            1 => (n.format("%Y-%m-%dT%H:%M:%S%.f").to_string(), n),
            2 => {
                let n = n.with_nanosecond(0).expect("whole second");
                (n.format("%Y-%m-%d %H:%M:%S").to_string(), n)
            }
            3 => {
                let n = n.with_nanosecond(0).and_then(|n| n.with_second(0)).expect("whole minute");
                (n.format("%Y-%m-%dT%H:%M").to_string(), n)
            }
            _ => {
                let n = n.date().and_time(NaiveTime::MIN);
                (n.format("%Y-%m-%d").to_string(), n)
            }
        };
        let r = parse_timestamp(&text, tz);
        prop_assert!(r.is_ok(), "{} in {}: {:?}", text, tz, r);
        let r = r.expect("checked");
        let ctx = format!("{text} in {tz} → {}", format_rfc3339(r, tz));
        match tz.from_local_datetime(&n) {
            LocalResult::Single(dt) => {
                prop_assert_eq!(r, dt.timestamp_micros(), "{}", ctx);
                // Round trip: the instant reads back as the same wall time,
                // and its RFC 3339 form parses back to it in any zone.
                prop_assert_eq!(local(tz, r), n, "{}", ctx);
                let printed = format_rfc3339(r, tz);
                prop_assert_eq!(parse_timestamp(&printed, Tz::UTC), Ok(r), "{}", ctx);
                prop_assert_eq!(parse_timestamp(&printed, tz), Ok(r), "{}", ctx);
            }
            LocalResult::Ambiguous(earlier, later) => {
                prop_assert_eq!(local(tz, r), n, "{}", ctx);
                prop_assert!(earlier < later);
                prop_assert_eq!(r, earlier.timestamp_micros(), "{}: not the earlier instant", ctx);
            }
            LocalResult::None => {
                // The gap opened by transition T reads [T + before, T + after)
                // on the wall; n - before (as UTC) is n shifted by the gap.
                let gap = trans.iter().copied().find(|&t| {
                    let (before, after) = (offset(tz, t - 1), offset(tz, t));
                    let wall = |off: i64| local(tz, t - 1) + chrono::Duration::microseconds(1)
                        + chrono::Duration::seconds(off - before);
                    wall(before) <= n && n < wall(after)
                });
                prop_assert!(gap.is_some(), "{}: a gap no transition explains", ctx);
                let t = gap.expect("checked");
                let (before, after) = (offset(tz, t - 1), offset(tz, t));
                prop_assert!(after > before, "{}: a gap where the clock goes back", ctx);
                prop_assert_eq!(r, at_offset(n, before), "{}: not shifted by the gap", ctx);
                prop_assert_eq!(local(tz, r), n + chrono::Duration::seconds(after - before), "{}", ctx);
                prop_assert!(t <= r && r < t + (after - before) * SEC, "{}", ctx);
            }
        }
    }

    /// The reader's parser, which remembers offsets per local hour, reads
    /// runs of wall times around transitions as `parse_timestamp` does.
    #[test]
    fn cached_parser_agrees_near_transitions(
        zone in 0..ZONES.len(),
        a in any::<u64>(),
        steps in proptest::collection::vec(-4 * 3_600i64..4 * 3_600, 1..40),
        micros in 0i64..1_000_000,
    ) {
        let tz = ZONES[zone];
        let trans = transitions(zone);
        let t = trans[(a % trans.len() as u64) as usize];
        let base = local(tz, t - 1) + chrono::Duration::microseconds(micros);
        let mut parser = TimestampParser::new(tz);
        for s in steps {
            let n = base + chrono::Duration::seconds(s);
            for text in [
                n.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
                n.format("%Y-%m-%dT%H:%M").to_string(),
            ] {
                prop_assert_eq!(parser.parse(&text), parse_timestamp(&text, tz), "{} in {}", text, tz);
            }
        }
    }

    /// Any instant prints as RFC 3339 (with the zone's offset) and parses
    /// back to itself.
    #[test]
    fn rfc3339_round_trips((zone, pick, a, delta) in instant_args()) {
        let tz = ZONES[zone];
        let t = instant(zone, pick, a, delta);
        let s = format_rfc3339(t, tz);
        prop_assert_eq!(parse_timestamp(&s, Tz::UTC), Ok(t), "{}", s);
        prop_assert_eq!(parse_timestamp(&s, ZONES[(zone + 1) % ZONES.len()]), Ok(t), "{}", s);
    }
}

/// Transitions of any zone in one year.
fn transitions_in_year(tz: Tz, year: i32) -> Vec<i64> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1)
        .expect("date")
        .and_time(NaiveTime::MIN)
        .and_utc()
        .timestamp_micros();
    transitions_between(tz, start, start + 366 * DAY)
}

/// Every offset change of `tz` in the days from `from` until `to`, as the
/// first instant of the new offset: offsets compared a day apart, the change
/// found by bisection (transitions are months apart in every zone).
fn transitions_between(tz: Tz, from: i64, to: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        let (a, b) = (t, t + DAY);
        if offset(tz, a) != offset(tz, b) {
            let (mut lo, mut hi) = (a, b);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset(tz, mid) == offset(tz, lo) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            out.push(hi);
        }
        t = b;
    }
    out
}

proptest! {
    #![proptest_config(config(300))]

    /// Beyond the four zones: in every zone of the tz database, near its
    /// transitions, floor/next/periods/bucket agree and period starts are
    /// local midnights or the first instant after a gap at midnight. (In
    /// zones whose clock once fell back across midnight, Atlantic Canada
    /// before 2011, the repeated hour lies after the new day's start and
    /// belongs to the new day's period: the local date of such an instant
    /// is not its period's, so that part is only checked in the four zones.)
    #[test]
    fn any_zone_periods_agree(
        zone in 0..chrono_tz::TZ_VARIANTS.len(),
        year in 1970i32..2100,
        a in any::<u64>(),
        delta in -2 * DAY..2 * DAY,
        sunday in any::<bool>(),
    ) {
        let tz = chrono_tz::TZ_VARIANTS[zone];
        let trans = transitions_in_year(tz, year);
        let year_start = NaiveDate::from_ymd_opt(year, 1, 1).expect("date")
            .and_time(NaiveTime::MIN).and_utc().timestamp_micros();
        let t = if trans.is_empty() {
            year_start + (a % (365 * DAY) as u64) as i64
        } else {
            trans[(a % trans.len() as u64) as usize] + if a % 3 == 0 { delta % 4 } else { delta }
        };
        let week_start = if sunday { Weekday::Sun } else { Weekday::Mon };
        let cal = Calendar::new(tz, week_start);
        for kind in KINDS {
            let ctx = format!("{tz} {kind:?} {week_start} t={} ({t})", format_rfc3339(t, tz));
            let f = cal.floor(kind, t);
            let n = cal.next(kind, f);
            prop_assert!(f <= t && t < n, "{}: [{}, {}) misses t", ctx, format_rfc3339(f, tz), format_rfc3339(n, tz));
            prop_assert_eq!(cal.floor(kind, f), f, "{}", ctx);
            prop_assert_eq!(cal.floor(kind, n - 1), f, "{}", ctx);
            prop_assert_eq!(cal.floor(kind, n), n, "{}", ctx);
            let d = local_date(tz, f);
            prop_assert_eq!(first_date(kind, week_start, d), d, "{}: {} starts no period", ctx, d);
            assert_day_start(tz, f, d, &ctx);
            let ps = cal.periods(kind, t - 3 * DAY, t + 3 * DAY);
            for w in ps.windows(2) {
                prop_assert_eq!(w[0].1, w[1].0, "{}", ctx);
            }
            let i = bucket(&ps, t).expect("inside");
            prop_assert_eq!(ps[i], (f, n), "{}", ctx);
        }
        // The gap rule, in any zone: a wall time in a gap is shifted
        // forward by the gap.
        for &tr in &trans {
            let (before, after) = (offset(tz, tr - 1), offset(tz, tr));
            if after <= before {
                continue;
            }
            let gap_start = local(tz, tr - 1) + chrono::Duration::microseconds(1);
            let k = (a % (after - before) as u64) as i64;
            let n = gap_start + chrono::Duration::seconds(k);
            let text = n.format("%Y-%m-%d %H:%M:%S").to_string();
            prop_assert_eq!(
                parse_timestamp(&text, tz),
                Ok(at_offset(n, before)),
                "{} in {}", text, tz
            );
        }
    }
}

/// Deterministic companion of the properties: the day periods around every
/// transition of every zone, 1970–2100, are contiguous and start at the
/// first instant of their local date.
#[test]
fn every_transition_day_is_cut_exactly() {
    for (zone, &tz) in ZONES.iter().enumerate() {
        let cal = Calendar::new(tz, Weekday::Mon);
        for &t in transitions(zone) {
            let ps = cal.periods(PeriodKind::Day, t - 2 * DAY, t + 2 * DAY);
            for w in ps.windows(2) {
                assert_eq!(w[0].1, w[1].0);
            }
            for &(s, e) in &ps {
                let d = local_date(tz, s);
                assert_day_start(tz, s, d, &format!("{tz} around {t}"));
                assert_eq!(local_date(tz, e), d + Days::new(1));
                let len = e - s;
                let shift = (offset(tz, e) - offset(tz, s)) * SEC;
                // A day is 24 h minus the clock's jump forward (plus its jump
                // back), unless it starts after a gap at midnight.
                if local(tz, s).time() == NaiveTime::MIN && local(tz, e).time() == NaiveTime::MIN {
                    assert_eq!(len, DAY - shift, "{tz} {}", format_rfc3339(s, tz));
                }
            }
            for dt in [-1, 0, 1, -HOUR, HOUR] {
                let x = t + dt;
                let i = bucket(&ps, x).expect("inside");
                assert_eq!(local_date(tz, ps[i].0), local_date(tz, x));
            }
        }
    }
}
