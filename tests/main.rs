//! The one integration-test binary (`autotests = false`): end-to-end runs of
//! the `kpi` CLI and the library on fixture projects, with insta snapshots.

mod common;
mod builtins;
mod design_card;
mod independent;
mod semantics;
mod errors;
mod bad_error_messages;
