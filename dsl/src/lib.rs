pub mod ast;
pub mod diag;
mod parse;
mod types;

pub use diag::{codes, Code, Diagnostic, Diagnostics, SourceMap};
pub use parse::{parse, MAX_CHAIN, MAX_DEPTH};
pub use types::Type;
