pub mod column;
pub mod period;
pub mod read;
pub mod time;
