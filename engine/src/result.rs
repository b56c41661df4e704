//! The result table and its renderings: a human table, CSV, JSON, JSON Lines.
//! Long format, one row per period × group × metric.

use std::sync::Arc;

use chrono_tz::Tz;
use serde_json::{json, Map, Value as Json};

use crate::period::PeriodKind;
use crate::read::{FileAccount, Reject};
use crate::time::format_rfc3339;

/// A metric value: counts stay integers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(&self) -> f64 {
        match *self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Against the metric's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    Miss,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Miss => "miss",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// Microseconds since the epoch (UTC); printed in the project zone.
    pub period_start: i64,
    pub period_end: i64,
    /// One value per dimension of the query; `None` is a null group value.
    /// Shared by the rows of a group (and `metric`, `unit` by the rows of a
    /// metric): a full suite has hundreds of thousands of rows.
    pub group: Arc<[Option<String>]>,
    pub metric: Arc<str>,
    /// `None` is "no data" (a mean of no rows, a zero denominator).
    pub value: Option<Number>,
    pub unit: Arc<str>,
    pub status: Option<Status>,
}

#[derive(Clone, Debug)]
pub struct ResultTable {
    pub dimensions: Vec<String>,
    pub period: PeriodKind,
    pub tz: Tz,
    /// Whether any metric has a target (then a `status` column is printed).
    pub has_status: bool,
    pub rows: Vec<ResultRow>,
    /// Metrics left out of a run of all metrics, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Every source file read: rows read, accepted and rejected.
    pub files: Vec<FileAccount>,
    /// The rejected rows (tolerated by `Query::max_rejects`), in file and
    /// line order; they count in no metric.
    pub rejects: Vec<Reject>,
}

/// Output formats of `kpi run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Jsonl,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["table", "csv", "json", "jsonl"];
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            "jsonl" => Format::Jsonl,
            _ => return None,
        })
    }
}

impl ResultTable {
    /// Column names of the long format.
    pub fn header(&self) -> Vec<String> {
        let mut h = vec!["period_start".to_string(), "period_end".to_string()];
        h.extend(self.dimensions.iter().cloned());
        h.extend([
            "metric".to_string(),
            "value".to_string(),
            "unit".to_string(),
        ]);
        if self.has_status {
            h.push("status".to_string());
        }
        h
    }

    /// A period bound as RFC 3339 local time. Rows share a few bounds, so
    /// each is formatted once.
    fn stamp(&self, ts: i64) -> String {
        thread_local! {
            static STAMPS: std::cell::RefCell<foldhash::HashMap<(i64, Tz), String>> = Default::default();
        }
        STAMPS.with_borrow_mut(|m| {
            if m.len() > 100_000 {
                m.clear();
            }
            m.entry((ts, self.tz))
                .or_insert_with(|| format_rfc3339(ts, self.tz))
                .clone()
        })
    }

    fn cells(&self, r: &ResultRow, null: &str, value: impl Fn(&Number) -> String) -> Vec<String> {
        let mut c = vec![self.stamp(r.period_start), self.stamp(r.period_end)];
        c.extend(
            r.group
                .iter()
                .map(|g| g.clone().unwrap_or_else(|| null.to_string())),
        );
        c.push(r.metric.to_string());
        c.push(
            r.value
                .as_ref()
                .map(value)
                .unwrap_or_else(|| null.to_string()),
        );
        c.push(r.unit.to_string());
        if self.has_status {
            c.push(r.status.map(|s| s.as_str().to_string()).unwrap_or_default());
        }
        c
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_table(),
            Format::Csv => self.to_csv(),
            Format::Json => {
                let mut s =
                    serde_json::to_string_pretty(&self.to_json()).expect("JSON of plain values");
                s.push('\n');
                s
            }
            Format::Jsonl => self
                .rows
                .iter()
                .map(|r| format!("{}\n", self.json_row(r)))
                .collect(),
        }
    }

    /// The CSV text: a header line, then a line per row. A full suite has
    /// hundreds of thousands of rows sharing a few texts (period bounds,
    /// groups, metrics, units): each text is escaped once, and each line
    /// is written in place with its value, without a record of strings.
    pub fn to_csv(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(64 + self.rows.len() * 96);
        let header: Vec<String> = self.header().iter().map(|h| csv_field(h)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        // Escaped texts by what they are shared as: a bound by its
        // instant, the others by their allocation.
        let mut esc = Escaped::default();
        for r in &self.rows {
            for t in [r.period_start, r.period_end] {
                out.push_str(esc.text((0, t as usize), || csv_field(&format_rfc3339(t, self.tz))));
                out.push(',');
            }
            if !self.dimensions.is_empty() {
                out.push_str(
                    esc.text((1, Arc::as_ptr(&r.group) as *const () as usize), || {
                        let fields: Vec<String> = r
                            .group
                            .iter()
                            .map(|g| csv_field(g.as_deref().unwrap_or("")))
                            .collect();
                        fields.join(",")
                    }),
                );
                out.push(',');
            }
            out.push_str(
                esc.text((2, Arc::as_ptr(&r.metric) as *const u8 as usize), || {
                    csv_field(&r.metric)
                }),
            );
            out.push(',');
            if let Some(v) = &r.value {
                write!(out, "{v}").expect("writing to a string");
            }
            out.push(',');
            out.push_str(
                esc.text((2, Arc::as_ptr(&r.unit) as *const u8 as usize), || {
                    csv_field(&r.unit)
                }),
            );
            if self.has_status {
                out.push(',');
                out.push_str(r.status.map_or("", |s| s.as_str()));
            }
            out.push('\n');
        }
        out
    }

    /// The JSON document: `{"rows": [...], "metadata": {...}}`, the
    /// metadata holding the accounting of every file read, the number of
    /// rejected rows and the metrics skipped.
    pub fn to_json(&self) -> Json {
        let rows: Vec<Json> = self.rows.iter().map(|r| self.json_row(r)).collect();
        let files: Vec<Json> = self
            .files
            .iter()
            .map(|f| {
                json!({
                    "path": f.path.display().to_string(),
                    "table": f.table,
                    "read": f.read,
                    "accepted": f.accepted,
                    "rejected": f.rejected,
                })
            })
            .collect();
        let skipped: Vec<Json> = self
            .skipped
            .iter()
            .map(|(metric, reason)| json!({"metric": metric, "reason": reason}))
            .collect();
        json!({
            "rows": rows,
            "metadata": {
                "files": files,
                "rejects": self.rejects.len(),
                "skipped": skipped,
            }
        })
    }

    fn json_row(&self, r: &ResultRow) -> Json {
        let mut o = Map::new();
        o.insert("period_start".into(), json!(self.stamp(r.period_start)));
        o.insert("period_end".into(), json!(self.stamp(r.period_end)));
        for (d, v) in self.dimensions.iter().zip(r.group.iter()) {
            o.insert(d.clone(), v.as_ref().map_or(Json::Null, |s| json!(s)));
        }
        o.insert("metric".into(), json!(&*r.metric));
        o.insert(
            "value".into(),
            match r.value {
                None => Json::Null,
                Some(Number::Int(i)) => json!(i),
                // Finite by construction: kernels refuse NaN and infinity.
                Some(Number::Float(f)) => {
                    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
                }
            },
        );
        o.insert("unit".into(), json!(&*r.unit));
        if self.has_status {
            o.insert(
                "status".into(),
                r.status.map_or(Json::Null, |s| json!(s.as_str())),
            );
        }
        Json::Object(o)
    }

    pub fn to_table(&self) -> String {
        use comfy_table::{presets::UTF8_BORDERS_ONLY, CellAlignment, Table};
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        t.set_header(self.header());
        for r in &self.rows {
            let mut cells = self.cells(r, "–", |n| match n {
                Number::Int(i) => i.to_string(),
                Number::Float(f) => format!("{f:.2}"),
            });
            // Whole periods read better as their start date.
            if self.period != PeriodKind::All {
                for c in cells.iter_mut().take(2) {
                    if let Some(d) = c.get(..10).filter(|_| c.get(10..19) == Some("T00:00:00")) {
                        *c = d.to_string();
                    }
                }
            }
            t.add_row(cells);
        }
        let value_col = 2 + self.dimensions.len() + 1;
        if let Some(c) = t.column_mut(value_col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
        format!("{t}\n")
    }
}

/// CSV fields escaped once each, by a key naming what they escape.
#[derive(Default)]
struct Escaped(foldhash::HashMap<(u8, usize), String>);

impl Escaped {
    /// The text under `key`, made by `make` the first time.
    fn text(&mut self, key: (u8, usize), make: impl FnOnce() -> String) -> &str {
        self.0.entry(key).or_insert_with(make)
    }
}

/// `text` as one CSV field of a record of several, quoted where the CSV
/// writer quotes it (`csv_core` decides: a delimiter, a quote or a line
/// break); an empty field is left empty, as the writer does in a record of
/// several fields.
fn csv_field(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut w = csv_core::Writer::new();
    // At worst every byte is a doubled quote, between two quotes.
    let mut out = vec![0; 2 * text.len() + 2];
    let (res, read, n) = w.field(text.as_bytes(), &mut out);
    debug_assert!(matches!(res, csv_core::WriteResult::InputEmpty) && read == text.len());
    let (_, m) = w.finish(&mut out[n..]);
    out.truncate(n + m);
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table written record by record with the `csv` crate.
    fn written_by_csv_crate(t: &ResultTable) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(t.header()).unwrap();
        for r in &t.rows {
            w.write_record(t.cells(r, "", |n| n.to_string())).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn table(dimensions: &[&str], groups: &[Vec<Option<&str>>], has_status: bool) -> ResultTable {
        let metrics: [(Arc<str>, Arc<str>); 2] = [
            (Arc::from("csat"), Arc::from("%")),
            (Arc::from("odd, \"name\""), Arc::from("")),
        ];
        let values = [Some(Number::Int(-3)), Some(Number::Float(0.1 + 0.2)), None];
        let mut rows = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let group: Arc<[Option<String>]> = g.iter().map(|v| v.map(str::to_string)).collect();
            for (k, (metric, unit)) in metrics.iter().enumerate() {
                rows.push(ResultRow {
                    period_start: 1_700_000_000_000_000 + i as i64,
                    period_end: 1_800_000_000_000_000,
                    group: group.clone(),
                    metric: metric.clone(),
                    value: values[(i + k) % values.len()],
                    unit: unit.clone(),
                    status: [None, Some(Status::Ok), Some(Status::Miss)][(i + k) % 3],
                });
            }
        }
        ResultTable {
            dimensions: dimensions.iter().map(|d| d.to_string()).collect(),
            period: PeriodKind::Month,
            tz: "America/New_York".parse().unwrap(),
            has_status,
            rows,
            skipped: Vec::new(),
            files: Vec::new(),
            rejects: Vec::new(),
        }
    }

    /// Texts escaped once and lines written in place equal the records
    /// the `csv` crate writes: quotes, delimiters, line breaks and empty
    /// texts in groups and metrics; null groups and values; with and
    /// without dimensions and a status column.
    #[test]
    fn csv_equals_the_csv_crate() {
        let groups = vec![
            vec![Some("a0001"), Some("team, \"north\"")],
            vec![None, Some("line\nbreak")],
            vec![Some(""), Some("\r")],
            vec![Some("a0001"), Some("team, \"north\"")],
        ];
        for has_status in [false, true] {
            let t = table(&["agent", "team"], &groups, has_status);
            assert_eq!(t.to_csv(), written_by_csv_crate(&t));
            let t = table(&[], &[vec![], vec![]], has_status);
            assert_eq!(t.to_csv(), written_by_csv_crate(&t));
        }
        // A quoted field is really written (the check above compares two
        // writers, so show one line outright).
        let t = table(&["agent", "team"], &groups[..1], false);
        assert!(t
            .to_csv()
            .contains(",a0001,\"team, \"\"north\"\"\",csat,-3,%\n"));
    }
}
