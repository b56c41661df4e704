pub mod column;
