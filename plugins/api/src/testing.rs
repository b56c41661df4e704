//! Helpers for a plugin's unit tests (feature `testing`): read the fixtures
//! of the plugin's own `[[test]]` cases, to recompute their figures in Rust.

/// The data rows (header left out) of the CSV table `table` in the first
/// `[[test]]` case of `definitions` (a plugin's metrics TOML) that has it.
///
/// # Panics
/// When no case has the table, or its CSV does not parse: a test fixture
/// is wrong.
pub fn fixture_rows(definitions: &str, table: &str) -> Vec<Vec<String>> {
    let doc: toml::Table = definitions.parse().expect("the definitions are TOML");
    let text = doc
        .get("test")
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .find_map(|case| case.get("tables")?.get(table)?.as_str())
        .unwrap_or_else(|| panic!("no [test.tables] {table} in the definitions"));
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.expect("the fixture is CSV")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}
