//! `rust_broken`: a kpi plugin that misbehaves on purpose, for
//! `tests/plugins_rust.rs`. Built with `export_plugin!` like any Rust plugin,
//! it proves that the API crate and the host turn each kind of misbehaviour
//! into an error (E0502, exit code 1) instead of a crash or a wrong number:
//!
//! | function | misbehaviour |
//! |---|---|
//! | `boom(int) -> float` | panics |
//! | `nan(int) -> float` | returns NaN for every row |
//! | `wrong_len(int) -> int` | returns one value more than there are rows |
//!
//! and one well-behaved aggregate, `longest(T: string) -> int`: the length in
//! characters of the longest non-null string of each group (null for a group
//! without one).

use kpi_plugin_api::{export_plugin, Column, Output, TypeCode};

/// The text of `boom`'s panic; tests look for it in the error message.
pub const PANIC_TEXT: &str = "boom: the rust_broken plugin panics on purpose";

fn boom(_args: &[Column<'_>], _rows: usize) -> Result<Output, String> {
    panic!("{PANIC_TEXT}")
}

fn nan(_args: &[Column<'_>], rows: usize) -> Result<Output, String> {
    Ok(Output::Float(vec![Some(f64::NAN); rows]))
}

fn wrong_len(_args: &[Column<'_>], rows: usize) -> Result<Output, String> {
    Ok(Output::Int(vec![Some(1); rows + 1]))
}

fn longest(args: &[Column<'_>], groups: &[u32], n_groups: usize) -> Result<Output, String> {
    let text = &args[0];
    let mut out: Vec<Option<i64>> = vec![None; n_groups];
    for (row, &g) in groups.iter().enumerate() {
        if let Some(s) = text.str(row) {
            let n = s.chars().count() as i64;
            let best = &mut out[g as usize];
            *best = Some(best.map_or(n, |b| b.max(n)));
        }
    }
    Ok(Output::Int(out))
}

export_plugin! {
    name: "rust_broken",
    version: "0.0.1",
    definitions: "",
    scalar "boom"(TypeCode::Int) -> TypeCode::Float = boom,
        "Panics.";
    scalar "nan"(TypeCode::Int) -> TypeCode::Float = nan,
        "Returns NaN.";
    scalar "wrong_len"(TypeCode::Int) -> TypeCode::Int = wrong_len,
        "Returns one value too many.";
    aggregate "longest"(TypeCode::String) -> TypeCode::Int = longest,
        "Length in characters of the longest string of each group; null for a group without one.";
}
