//! The one integration-test binary (`autotests = false`): end-to-end runs of
//! the `kpi` CLI and the library on fixture projects, with insta snapshots.

mod bad_error_messages;
mod builtins;
mod cli_corpus;
mod common;
mod design_card;
mod errors;
mod example;
mod independent;
mod no_nan;
mod parquet;
mod plugins;
mod plugins_rust;
mod rejects;
mod semantics;
