//! The kpi formula language.
//!
//! ```text
//! TOML file ──load_file──► MetricDef (formula text + spans in the file)
//!    formula ──parse──► ast::Expr (spanned)
//!    ast + Schema ──check──► ir::Expr (resolved, typed)   ──► kpi-engine
//! ```
//!
//! pest stays inside [`parse`]; diagnostics are data ([`Diagnostic`]) and are
//! rendered at the edge ([`diag::render`]).

pub mod ast;
pub mod cases;
pub mod check;
pub mod defs;
pub mod diag;
pub mod functions;
pub mod ir;
mod parse;
pub mod schema;
mod types;

pub use check::{check, Checked, CheckedMetric};
pub use defs::{Better, Definitions, MetricDef};
pub use diag::{codes, render, Code, Diagnostic, Diagnostics, SourceMap};
pub use parse::{parse, parse_duration_literal, parse_duration_text, MAX_CHAIN, MAX_DEPTH};
pub use schema::{ParamValue, Relation, Schema, TableSchema};
pub use types::Type;
