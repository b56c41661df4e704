//! Calendar periods in the project time zone.
//!
//! Periods are cut in local time: a day starts at local midnight (so it is
//! 23 or 25 hours long on DST switch days, and starts at the first instant
//! after the gap where midnight does not exist), a week on `week_start` at
//! local midnight, a month on the 1st, a quarter on Jan/Apr/Jul/Oct 1st, a
//! year on Jan 1st. Boundaries are computed from local calendar dates with
//! chrono-tz, never by adding fixed hours. Periods are half-open and
//! contiguous: every instant is in exactly one, `floor(t) <= t <
//! next(floor(t))` (property-tested in engine/tests/properties.rs).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use crate::time::local_date_start;

/// The length of the periods a result is cut into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    /// One period spanning the whole requested range.
    All,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 6] = [
        PeriodKind::Day,
        PeriodKind::Week,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
        PeriodKind::All,
    ];

    /// Parses `day`, `week`, `month`, `quarter`, `year`, `all` (as printed by
    /// [`PeriodKind::name`]).
    pub fn parse(s: &str) -> Option<Self> {
        PeriodKind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn name(&self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
            PeriodKind::All => "all",
        }
    }
}

/// The project calendar: time zone and first day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub tz: Tz,
    pub week_start: Weekday,
}

impl Default for Calendar {
    /// UTC, weeks starting on Monday.
    fn default() -> Self {
        Calendar {
            tz: Tz::UTC,
            week_start: Weekday::Mon,
        }
    }
}

impl Calendar {
    pub fn new(tz: Tz, week_start: Weekday) -> Self {
        Calendar { tz, week_start }
    }

    /// The local calendar date of instant `ts` (µs since the epoch, UTC).
    /// `None` only outside chrono's range (±262,000 years).
    pub fn local_date(&self, ts: i64) -> Option<NaiveDate> {
        let dt = DateTime::<Utc>::from_timestamp_micros(ts)?;
        Some(dt.with_timezone(&self.tz).date_naive())
    }

    /// The first local date of the period of `kind` containing local date `d`.
    fn period_first_date(&self, kind: PeriodKind, d: NaiveDate) -> NaiveDate {
        match kind {
            PeriodKind::Day | PeriodKind::All => d,
            PeriodKind::Week => {
                let back = d.weekday().days_since(self.week_start);
                d - chrono::Days::new(back as u64)
            }
            PeriodKind::Month => d.with_day(1).unwrap_or(d),
            PeriodKind::Quarter => {
                let m = (d.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(d.year(), m, 1).unwrap_or(d)
            }
            PeriodKind::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
        }
    }

    /// The first local date of the period after the one starting on `d`.
    fn next_first_date(kind: PeriodKind, d: NaiveDate) -> Option<NaiveDate> {
        match kind {
            PeriodKind::Day => d.succ_opt(),
            PeriodKind::Week => d.checked_add_days(chrono::Days::new(7)),
            PeriodKind::Month => d.checked_add_months(Months::new(1)),
            PeriodKind::Quarter => d.checked_add_months(Months::new(3)),
            PeriodKind::Year => d.checked_add_months(Months::new(12)),
            PeriodKind::All => None,
        }
    }

    /// The start of the period of `kind` containing instant `ts`. For
    /// [`PeriodKind::All`] (and outside chrono's range) returns `ts` itself.
    pub fn floor(&self, kind: PeriodKind, ts: i64) -> i64 {
        if kind == PeriodKind::All {
            return ts;
        }
        let Some(d) = self.local_date(ts) else {
            return ts;
        };
        let start = local_date_start(self.period_first_date(kind, d), self.tz);
        // A local day that is skipped entirely (Pacific/Apia, 2011-12-30)
        // resolves to the start of the next day; never return a start after ts.
        let start = start.min(ts);
        // Where the clock fell back across midnight (America/Moncton until
        // 2006: 00:01 ADT → 23:01 AST), the repeated hour shows the old date
        // but comes after the new date's start (its first midnight): it
        // belongs to the period starting then, so that floor and `next` agree
        // with `periods`/`bucket` (floor(t) <= t < next(floor(t))).
        let next = self.next(kind, start);
        if next <= ts {
            next
        } else {
            start
        }
    }

    /// The start of the period after the one starting at `start`. Always
    /// greater than `start`; `i64::MAX` for [`PeriodKind::All`] (there is no
    /// next period) and at the end of chrono's range.
    pub fn next(&self, kind: PeriodKind, start: i64) -> i64 {
        let Some(d) = self.local_date(start) else {
            return i64::MAX;
        };
        let mut first = self.period_first_date(kind, d);
        loop {
            let Some(n) = Self::next_first_date(kind, first) else {
                return i64::MAX;
            };
            let next = local_date_start(n, self.tz);
            if next > start {
                return next;
            }
            first = n;
        }
    }

    /// The periods covering `[from, to)`: `from` is floored to a period
    /// start and the last period is the one containing `to - 1µs`, so the
    /// result is whole periods. For [`PeriodKind::All`] it is the single
    /// period `[from, to)`. Empty if `to <= from`. The periods are sorted
    /// and contiguous (each end is the next start).
    pub fn periods(&self, kind: PeriodKind, from: i64, to: i64) -> Vec<(i64, i64)> {
        if to <= from {
            return Vec::new();
        }
        if kind == PeriodKind::All {
            return vec![(from, to)];
        }
        let mut out = Vec::new();
        let mut s = self.floor(kind, from);
        loop {
            let e = self.next(kind, s);
            out.push((s, e));
            if e >= to {
                return out;
            }
            s = e;
        }
    }
}

/// The index of the period containing `ts`, by binary search over the
/// period starts; `None` if `ts` is before the first or at/after the end of
/// the last. `periods` must be sorted and contiguous (as from
/// [`Calendar::periods`]).
pub fn bucket(periods: &[(i64, i64)], ts: i64) -> Option<usize> {
    let i = periods
        .partition_point(|&(start, _)| start <= ts)
        .checked_sub(1)?;
    (ts < periods[i].1).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::MICROS;
    use crate::time::{format_rfc3339, parse_timestamp};
    use chrono_tz::America::New_York;

    const H: i64 = 3_600 * MICROS;

    fn ts(s: &str) -> i64 {
        parse_timestamp(s, Tz::UTC).unwrap()
    }

    fn ny() -> Calendar {
        Calendar::new(New_York, Weekday::Mon)
    }

    fn fmt(cal: &Calendar, ps: &[(i64, i64)]) -> Vec<String> {
        ps.iter()
            .map(|&(s, e)| {
                format!(
                    "{} {}",
                    format_rfc3339(s, cal.tz),
                    format_rfc3339(e, cal.tz)
                )
            })
            .collect()
    }

    #[test]
    fn kind_names() {
        for k in PeriodKind::ALL {
            assert_eq!(PeriodKind::parse(k.name()), Some(k));
        }
        assert_eq!(PeriodKind::parse("month"), Some(PeriodKind::Month));
        assert_eq!(PeriodKind::parse("fortnight"), None);
    }

    #[test]
    fn spring_forward_day_is_23_hours() {
        let cal = ny();
        let day = cal.floor(PeriodKind::Day, ts("2026-03-08T12:00:00-04:00"));
        assert_eq!(day, ts("2026-03-08T05:00:00Z"));
        let next = cal.next(PeriodKind::Day, day);
        assert_eq!(next, ts("2026-03-09T04:00:00Z"));
        assert_eq!(next - day, 23 * H);
        // Both sides of the gap are in the same day.
        let before_gap = ts("2026-03-08T01:59:59-05:00");
        let after_gap = ts("2026-03-08T03:00:00-04:00");
        assert_eq!(after_gap - before_gap, MICROS);
        assert_eq!(cal.floor(PeriodKind::Day, before_gap), day);
        assert_eq!(cal.floor(PeriodKind::Day, after_gap), day);
        let ps = cal.periods(
            PeriodKind::Day,
            ts("2026-03-07T05:00:00Z"),
            ts("2026-03-10T04:00:00Z"),
        );
        assert_eq!(
            fmt(&cal, &ps),
            [
                "2026-03-07T00:00:00-05:00 2026-03-08T00:00:00-05:00",
                "2026-03-08T00:00:00-05:00 2026-03-09T00:00:00-04:00",
                "2026-03-09T00:00:00-04:00 2026-03-10T00:00:00-04:00",
            ]
        );
        assert_eq!(bucket(&ps, before_gap), Some(1));
        assert_eq!(bucket(&ps, after_gap), Some(1));
        assert_eq!(bucket(&ps, ts("2026-03-08T04:59:59.999999Z")), Some(0));
        assert_eq!(bucket(&ps, ts("2026-03-09T04:00:00Z")), Some(2));
    }

    #[test]
    fn fall_back_day_is_25_hours() {
        let cal = ny();
        let day = cal.floor(PeriodKind::Day, ts("2026-11-01T01:30:00-05:00"));
        assert_eq!(day, ts("2026-11-01T04:00:00Z"));
        // Both occurrences of 01:30 are in 2026-11-01.
        assert_eq!(
            cal.floor(PeriodKind::Day, ts("2026-11-01T01:30:00-04:00")),
            day
        );
        let next = cal.next(PeriodKind::Day, day);
        assert_eq!(next, ts("2026-11-02T05:00:00Z"));
        assert_eq!(next - day, 25 * H);
        assert_eq!(cal.floor(PeriodKind::Day, next - 1), day);
        assert_eq!(cal.floor(PeriodKind::Day, next), next);
    }

    #[test]
    fn months_quarters_years() {
        let cal = ny();
        let t = ts("2026-03-15T12:00:00Z");
        let m = cal.floor(PeriodKind::Month, t);
        assert_eq!(m, ts("2026-03-01T05:00:00Z"));
        assert_eq!(cal.next(PeriodKind::Month, m), ts("2026-04-01T04:00:00Z"));
        // 00:30 local on March 1st is still in March; 23:30 local on Feb 28
        // (04:30Z on March 1st) is in February.
        assert_eq!(cal.floor(PeriodKind::Month, ts("2026-03-01T05:30:00Z")), m);
        assert_eq!(
            cal.floor(PeriodKind::Month, ts("2026-03-01T04:30:00Z")),
            ts("2026-02-01T05:00:00Z")
        );
        let q = cal.floor(PeriodKind::Quarter, t);
        assert_eq!(q, ts("2026-01-01T05:00:00Z"));
        assert_eq!(cal.next(PeriodKind::Quarter, q), ts("2026-04-01T04:00:00Z"));
        assert_eq!(
            cal.floor(PeriodKind::Quarter, ts("2026-12-31T12:00:00Z")),
            ts("2026-10-01T04:00:00Z")
        );
        let y = cal.floor(PeriodKind::Year, t);
        assert_eq!(y, ts("2026-01-01T05:00:00Z"));
        assert_eq!(cal.next(PeriodKind::Year, y), ts("2027-01-01T05:00:00Z"));

        // --from 2026-01-15 --to 2026-07-01 by month: January is whole.
        let ps = cal.periods(
            PeriodKind::Month,
            ts("2026-01-15T05:00:00Z"),
            ts("2026-07-01T04:00:00Z"),
        );
        assert_eq!(ps.len(), 6);
        assert_eq!(ps[0].0, ts("2026-01-01T05:00:00Z"));
        assert_eq!(ps[5].1, ts("2026-07-01T04:00:00Z"));
        assert!(ps.windows(2).all(|w| w[0].1 == w[1].0));
        // `to` one microsecond into July adds July.
        let ps = cal.periods(
            PeriodKind::Month,
            ts("2026-01-15T05:00:00Z"),
            ts("2026-07-01T04:00:00Z") + 1,
        );
        assert_eq!(ps.len(), 7);
        let ps = cal.periods(
            PeriodKind::Quarter,
            ts("2026-02-01T05:00:00Z"),
            ts("2026-08-01T04:00:00Z"),
        );
        assert_eq!(
            fmt(&cal, &ps),
            [
                "2026-01-01T00:00:00-05:00 2026-04-01T00:00:00-04:00",
                "2026-04-01T00:00:00-04:00 2026-07-01T00:00:00-04:00",
                "2026-07-01T00:00:00-04:00 2026-10-01T00:00:00-04:00",
            ]
        );
    }

    #[test]
    fn weeks_monday_and_sunday_start() {
        // 2026-03-08 is a Sunday.
        let t = ts("2026-03-08T12:00:00-04:00");
        let mon = ny();
        let w = mon.floor(PeriodKind::Week, t);
        assert_eq!(format_rfc3339(w, New_York), "2026-03-02T00:00:00-05:00");
        let n = mon.next(PeriodKind::Week, w);
        assert_eq!(format_rfc3339(n, New_York), "2026-03-09T00:00:00-04:00");
        assert_eq!(n - w, 7 * 24 * H - H);
        // The Monday itself at 00:00 starts a week.
        assert_eq!(mon.floor(PeriodKind::Week, n), n);
        assert_eq!(mon.floor(PeriodKind::Week, n - 1), w);

        let sun = Calendar::new(New_York, Weekday::Sun);
        let w = sun.floor(PeriodKind::Week, t);
        assert_eq!(format_rfc3339(w, New_York), "2026-03-08T00:00:00-05:00");
        assert_eq!(
            format_rfc3339(sun.next(PeriodKind::Week, w), New_York),
            "2026-03-15T00:00:00-04:00"
        );
        // Saturday 2026-03-07 belongs to the week starting Sunday 03-01.
        assert_eq!(
            format_rfc3339(
                sun.floor(PeriodKind::Week, ts("2026-03-07T23:00:00-05:00")),
                New_York
            ),
            "2026-03-01T00:00:00-05:00"
        );
        // Weeks across a year boundary: Thursday 2026-01-01 → Monday 2025-12-29.
        assert_eq!(
            format_rfc3339(
                mon.floor(PeriodKind::Week, ts("2026-01-01T12:00:00Z")),
                New_York
            ),
            "2025-12-29T00:00:00-05:00"
        );
    }

    #[test]
    fn kathmandu_quarter_hour_offset() {
        let cal = Calendar::new(chrono_tz::Asia::Kathmandu, Weekday::Mon);
        // 2026-03-08T18:14:59Z is 23:59:59 local (+05:45); 18:15Z is midnight.
        let d = cal.floor(PeriodKind::Day, ts("2026-03-08T18:14:59Z"));
        assert_eq!(d, ts("2026-03-07T18:15:00Z"));
        assert_eq!(
            cal.floor(PeriodKind::Day, ts("2026-03-08T18:15:00Z")),
            ts("2026-03-08T18:15:00Z")
        );
        assert_eq!(cal.next(PeriodKind::Day, d), ts("2026-03-08T18:15:00Z"));
        assert_eq!(
            cal.floor(PeriodKind::Month, ts("2026-03-08T18:15:00Z")),
            ts("2026-02-28T18:15:00Z")
        );
        assert_eq!(
            format_rfc3339(
                cal.floor(PeriodKind::Year, ts("2026-06-01T00:00:00Z")),
                cal.tz
            ),
            "2026-01-01T00:00:00+05:45"
        );
    }

    #[test]
    fn midnight_in_dst_gap_starts_day_at_one() {
        // Santiago springs forward at 24:00 on Saturday 2026-09-05 (-04 → -03).
        let cal = Calendar::new(chrono_tz::America::Santiago, Weekday::Mon);
        let day = cal.floor(PeriodKind::Day, ts("2026-09-06T12:00:00-03:00"));
        assert_eq!(format_rfc3339(day, cal.tz), "2026-09-06T01:00:00-03:00");
        assert_eq!(day, ts("2026-09-06T04:00:00Z"));
        // The day before is 24h long and ends where 09-06 starts.
        let prev = cal.floor(PeriodKind::Day, ts("2026-09-05T12:00:00-04:00"));
        assert_eq!(prev, ts("2026-09-05T04:00:00Z"));
        assert_eq!(cal.next(PeriodKind::Day, prev), day);
        assert_eq!(cal.next(PeriodKind::Day, day) - day, 23 * H);
        // Sunday 09-06 belongs to the week starting Monday 08-31.
        let w = cal.floor(PeriodKind::Week, day);
        assert_eq!(format_rfc3339(w, cal.tz), "2026-08-31T00:00:00-04:00");
        assert_eq!(
            format_rfc3339(cal.next(PeriodKind::Week, w), cal.tz),
            "2026-09-07T00:00:00-03:00"
        );

        let sp = Calendar::new(chrono_tz::America::Sao_Paulo, Weekday::Mon);
        let day = sp.floor(PeriodKind::Day, ts("2018-11-04T15:00:00Z"));
        assert_eq!(format_rfc3339(day, sp.tz), "2018-11-04T01:00:00-02:00");
        let ps = sp.periods(
            PeriodKind::Day,
            ts("2018-11-03T03:00:00Z"),
            ts("2018-11-05T02:00:00Z"),
        );
        assert_eq!(
            fmt(&sp, &ps),
            [
                "2018-11-03T00:00:00-03:00 2018-11-04T01:00:00-02:00",
                "2018-11-04T01:00:00-02:00 2018-11-05T00:00:00-02:00",
            ]
        );
        assert_eq!(ps[0].1 - ps[0].0, 24 * H);
        assert_eq!(ps[1].1 - ps[1].0, 23 * H);
    }

    #[test]
    fn skipped_calendar_day() {
        // Samoa skipped 2011-12-30 entirely (-10 → +14).
        let cal = Calendar::new(chrono_tz::Pacific::Apia, Weekday::Mon);
        let ps = cal.periods(
            PeriodKind::Day,
            ts("2011-12-29T10:00:00Z"),
            ts("2011-12-31T09:00:00Z"),
        );
        assert_eq!(
            fmt(&cal, &ps),
            [
                "2011-12-29T00:00:00-10:00 2011-12-31T00:00:00+14:00",
                "2011-12-31T00:00:00+14:00 2012-01-01T00:00:00+14:00",
            ]
        );
    }

    #[test]
    fn fall_back_across_midnight() {
        // America/Moncton fell back at 00:01 ADT on 1993-10-31 to 23:01 AST
        // on the 30th: 23:01-23:59 of the 30th shows twice, the second time
        // after the 31st has begun (its first midnight, 00:00 ADT = 03:00Z).
        // That hour belongs to the 31st, the period holding it; floor used
        // to answer the 30th, whose period had already ended (found by the
        // property tests run over every zone).
        let cal = Calendar::new(chrono_tz::America::Moncton, Weekday::Mon);
        let oct31 = ts("1993-10-31T03:00:00Z");
        assert_eq!(format_rfc3339(oct31, cal.tz), "1993-10-31T00:00:00-03:00");
        let again = ts("1993-10-31T03:30:00Z");
        assert_eq!(format_rfc3339(again, cal.tz), "1993-10-30T23:30:00-04:00");
        assert_eq!(cal.floor(PeriodKind::Day, again), oct31);
        assert!(again < cal.next(PeriodKind::Day, oct31));
        let ps = cal.periods(
            PeriodKind::Day,
            ts("1993-10-29T12:00:00Z"),
            ts("1993-11-02T00:00:00Z"),
        );
        assert_eq!(bucket(&ps, again).map(|i| ps[i].0), Some(oct31));
        // The first 23:30 of the 30th is in the 30th.
        let first = ts("1993-10-31T02:30:00Z");
        assert_eq!(format_rfc3339(first, cal.tz), "1993-10-30T23:30:00-03:00");
        assert_eq!(
            cal.floor(PeriodKind::Day, first),
            ts("1993-10-30T03:00:00Z")
        );
        // Same at a month boundary: America/Goose_Bay, 2009-11-01.
        let cal = Calendar::new(chrono_tz::America::Goose_Bay, Weekday::Mon);
        let again = ts("2009-11-01T03:30:00Z");
        assert_eq!(format_rfc3339(again, cal.tz), "2009-10-31T23:30:00-04:00");
        assert_eq!(
            format_rfc3339(cal.floor(PeriodKind::Month, again), cal.tz),
            "2009-11-01T00:00:00-03:00"
        );
    }

    #[test]
    fn all_and_empty_ranges() {
        let cal = ny();
        let (a, b) = (ts("2026-01-15T00:00:00Z"), ts("2026-02-15T00:00:00Z"));
        assert_eq!(cal.periods(PeriodKind::All, a, b), vec![(a, b)]);
        assert_eq!(cal.floor(PeriodKind::All, a), a);
        assert_eq!(cal.next(PeriodKind::All, a), i64::MAX);
        assert!(cal.periods(PeriodKind::Day, b, a).is_empty());
        assert!(cal.periods(PeriodKind::All, a, a).is_empty());
        // A range inside one day yields that whole day.
        let ps = cal.periods(
            PeriodKind::Day,
            ts("2026-01-15T15:00:00Z"),
            ts("2026-01-15T16:00:00Z"),
        );
        assert_eq!(
            ps,
            vec![(ts("2026-01-15T05:00:00Z"), ts("2026-01-16T05:00:00Z"))]
        );
        // Far outside chrono's range: no panic.
        assert_eq!(cal.floor(PeriodKind::Day, i64::MIN), i64::MIN);
        assert_eq!(cal.next(PeriodKind::Day, i64::MAX - 1), i64::MAX);
    }

    #[test]
    fn bucket_binary_search() {
        let ps = [(0, 10), (10, 25), (25, 26), (26, 100)];
        assert_eq!(bucket(&ps, -1), None);
        assert_eq!(bucket(&ps, 0), Some(0));
        assert_eq!(bucket(&ps, 9), Some(0));
        assert_eq!(bucket(&ps, 10), Some(1));
        assert_eq!(bucket(&ps, 25), Some(2));
        assert_eq!(bucket(&ps, 26), Some(3));
        assert_eq!(bucket(&ps, 99), Some(3));
        assert_eq!(bucket(&ps, 100), None);
        assert_eq!(bucket(&[], 5), None);
    }
}
