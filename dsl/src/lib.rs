mod types;
pub use types::Type;
