//! Cross-check: on data from the generator (a seed of its own, not the
//! example project's), every built-in KPI computed by `kpi run` agrees to
//! 1e-9 relative with tests/independent/catalog.py, a row-by-row Python
//! implementation written from KPI_CATALOG.md alone.

use std::collections::HashMap;
use std::process::Command;

use serde_json::Value;

use crate::common::{kpi_in, root};

const FROM: &str = "2026-01-01";
const TO: &str = "2026-04-01";
const TZ: &str = "America/New_York";

fn generated(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kpi-independent-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().expect("utf-8").to_string();
    let out = kpi_in(
        &root(),
        &[
            "generate",
            "--out",
            &d,
            "--seed",
            "20260101",
            "--tickets",
            "1500",
            "--months",
            "3",
            "--start",
            FROM,
            "--timezone",
            TZ,
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    dir
}

/// `(period_start, group, metric) -> value` in seconds for durations.
type Values = HashMap<(String, Option<String>, String), Option<f64>>;

fn unit_factor(unit: &str) -> f64 {
    match unit {
        "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => 1.0,
    }
}

/// Period starts as instants, so `Z` and `+00:00` spellings meet.
fn instant(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339")
        .timestamp()
        .to_string()
}

fn ours(dir: &std::path::Path, by: Option<&str>) -> Values {
    let d = dir.to_str().expect("utf-8");
    let mut args = vec![
        "run",
        "--project",
        d,
        "--format",
        "json",
        "--period",
        "month",
        "--from",
        FROM,
        "--to",
        TO,
    ];
    if let Some(b) = by {
        args.extend(["--by", b]);
    }
    let out = kpi_in(&root(), &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc: Value = serde_json::from_str(&out.stdout).expect("JSON output");
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let unit = r["unit"].as_str().unwrap_or("");
            let group = by
                .map(|b| r[b].as_str().map(str::to_string))
                .unwrap_or(None);
            let key = (
                instant(r["period_start"].as_str().expect("start")),
                group,
                r["metric"].as_str().expect("metric").to_string(),
            );
            (key, r["value"].as_f64().map(|v| v * unit_factor(unit)))
        })
        .collect()
}

fn theirs(dir: &std::path::Path, by: Option<&str>) -> Values {
    let data = dir.join("data");
    let script = root().join("tests/independent/catalog.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script).arg(&data).args([
        "--timezone",
        TZ,
        "--period",
        "month",
        "--from",
        FROM,
        "--to",
        TO,
    ]);
    if let Some(b) = by {
        cmd.args(["--by", b]);
    }
    let out = cmd
        .output()
        .expect("python3 runs (the CI machine has CPython 3.11)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON from catalog.py");
    rows.iter()
        .map(|r| {
            let group = by
                .map(|b| r[b].as_str().map(str::to_string))
                .unwrap_or(None);
            let key = (
                instant(r["period_start"].as_str().expect("start")),
                group,
                r["metric"].as_str().expect("metric").to_string(),
            );
            (key, r["value"].as_f64())
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn compare(by: Option<&str>) {
    let dir = generated(by.unwrap_or("all"));
    let (a, b) = (ours(&dir, by), theirs(&dir, by));
    let metrics: std::collections::BTreeSet<&String> = b.keys().map(|k| &k.2).collect();
    assert!(
        metrics.len() >= 20,
        "the reference computed only {metrics:?}"
    );
    let mut compared = 0;
    let mut diffs = Vec::new();
    for (key, theirs) in &b {
        match a.get(key) {
            Some(ours) => {
                compared += 1;
                if !close(*ours, *theirs) {
                    diffs.push(format!("{key:?}: kpi {ours:?}, reference {theirs:?}"));
                }
            }
            // A group the reference lists in a period where it has no data
            // (its grid includes every agent of the table) is absent here only
            // when its value is "nothing": 0 or null.
            None if by.is_some() && theirs.is_none_or(|v| v == 0.0) => {}
            None => diffs.push(format!(
                "{key:?}: missing from kpi's output (reference {theirs:?})"
            )),
        }
    }
    diffs.sort();
    assert!(
        diffs.is_empty(),
        "{} of {compared} values differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(compared > 100, "compared only {compared} values");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_kpi_by_month_agrees_with_the_independent_implementation() {
    compare(None);
}

#[test]
fn agent_kpis_by_agent_agree_with_the_independent_implementation() {
    compare(Some("agent"));
}
