//! The interface between `kpi` and its native plugins.
//!
//! A plugin is a shared library (`.so`, `.dylib`, `.dll`) that exports one C
//! function, [`ENTRY_POINT`] (`kpi_plugin_entry`), returning a pointer to a
//! [`PluginDescriptor`]. The descriptor declares, as plain data, the plugin's
//! name and version, the ABI version it was built for, its functions (name,
//! argument types, return type, and a vectorised callback), and optional TOML
//! metric definitions that use them. `kpi` reads the signatures to type-check
//! formulas without ever calling into the plugin, and calls a function once per
//! batch of rows.
//!
//! Columns cross the boundary in the layout of the
//! [Arrow C Data Interface](https://arrow.apache.org/docs/format/CDataInterface.html)
//! ([`ArrowArray`]): the schema of each column is implied by the declared
//! [`TypeCode`], so only arrays are passed. Ownership follows that interface:
//! input arrays belong to the host and are only borrowed for the duration of a
//! call; the output array belongs to the plugin until the host calls its
//! `release` callback, which frees it with the plugin's own allocator. Error
//! messages are written into a buffer the host owns ([`ErrorBuffer`]), so no
//! memory is ever freed by the side that did not allocate it.
//!
//! The same layer is usable from C: `include/kpi_plugin.h` declares every
//! structure of this module.
//!
//! # Writing a plugin in Rust
//!
//! ```
//! use kpi_plugin_api::{export_plugin, Column, Output, TypeCode};
//!
//! /// Length of a text in characters.
//! fn text_length(args: &[Column<'_>], rows: usize) -> Result<Output, String> {
//!     let mut out = Vec::with_capacity(rows);
//!     for i in 0..rows {
//!         out.push(args[0].str(i).map(|s| s.chars().count() as i64));
//!     }
//!     Ok(Output::Int(out))
//! }
//!
//! export_plugin! {
//!     name: "textlen",
//!     version: "0.1.0",
//!     definitions: "",
//!     scalar "text_length"(TypeCode::String) -> TypeCode::Int = text_length,
//!         "Length of a text in characters.";
//! }
//! # fn main() {}
//! ```
//!
//! The macro writes the exported entry point and an `extern "C"` wrapper per
//! function; the wrapper catches panics, so a panic in a plugin becomes an
//! error message in `kpi`, never an abort. No `unsafe` is needed in the plugin.

#![deny(missing_docs)]

mod array;
mod macros;
#[cfg(feature = "testing")]
pub mod testing;

use std::ffi::c_void;

pub use array::{AggregateImpl, Column, Output, ScalarImpl};

/// The major version of this ABI. A host accepts plugins of its own major
/// version only.
pub const ABI_MAJOR: u32 = 1;
/// The minor version of this ABI. Minor versions only add at the end of the
/// descriptor; a host accepts plugins whose minor version is at most its own.
pub const ABI_MINOR: u32 = 0;
/// `major << 16 | minor`, as stored in [`PluginDescriptor::abi_version`].
pub const ABI_VERSION: u32 = ABI_MAJOR << 16 | ABI_MINOR;
/// The symbol every plugin exports.
pub const ENTRY_POINT: &str = "kpi_plugin_entry";

/// Splits a packed ABI version into `(major, minor)`.
pub const fn abi_parts(v: u32) -> (u32, u32) {
    (v >> 16, v & 0xffff)
}

/// The signature of [`ENTRY_POINT`]. The descriptor it returns must stay
/// valid for the life of the process (plugins are never unloaded).
pub type EntryPoint = unsafe extern "C" fn() -> *const PluginDescriptor;

/// A borrowed UTF-8 string: pointer and length in bytes, no terminating NUL
/// required. Owned by whoever created it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Str {
    /// First byte; may be null when `len` is 0.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl Str {
    /// A `Str` pointing at a `'static` string.
    pub const fn from_static(s: &'static str) -> Str {
        Str {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// The text, if the bytes are valid UTF-8.
    ///
    /// # Safety
    /// `ptr` must point at `len` readable bytes that outlive `'a`.
    pub unsafe fn as_str<'a>(&self) -> Option<&'a str> {
        if self.len == 0 {
            return Some("");
        }
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes).ok()
    }
}

/// The value types of the formula language, as they cross the boundary.
/// Each fixes the Arrow layout of a column.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeCode {
    /// 64-bit signed integers (Arrow format `l`).
    Int = 1,
    /// 64-bit floats (Arrow `g`). Must be finite: NaN and infinity are errors.
    Float = 2,
    /// Booleans, bit-packed (Arrow `b`).
    Bool = 3,
    /// UTF-8 strings with 32-bit offsets (Arrow `u`).
    String = 4,
    /// Microseconds since the Unix epoch, UTC, as 64-bit integers (Arrow `tsu:UTC`).
    Timestamp = 5,
    /// Microseconds, as 64-bit integers (Arrow `tDu`).
    Duration = 6,
}

impl TypeCode {
    /// The type with this code, if there is one.
    pub fn from_u32(v: u32) -> Option<TypeCode> {
        Some(match v {
            1 => TypeCode::Int,
            2 => TypeCode::Float,
            3 => TypeCode::Bool,
            4 => TypeCode::String,
            5 => TypeCode::Timestamp,
            6 => TypeCode::Duration,
            _ => return None,
        })
    }

    /// The type's name in the formula language.
    pub fn name(self) -> &'static str {
        match self {
            TypeCode::Int => "int",
            TypeCode::Float => "float",
            TypeCode::Bool => "bool",
            TypeCode::String => "string",
            TypeCode::Timestamp => "timestamp",
            TypeCode::Duration => "duration",
        }
    }
}

/// Whether a function works row by row or over groups of rows.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionKind {
    /// One output value per input row; called like `f(x, y)` in a formula.
    Scalar = 1,
    /// One output value per group of rows; called like an aggregate,
    /// `f(T: x, y [where p])`. The host passes every row of every group of a
    /// batch in one call, with each row's group index.
    Aggregate = 2,
}

/// An Arrow C Data Interface array (the `ArrowArray` struct of the spec).
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    /// Number of values.
    pub length: i64,
    /// Number of nulls, or -1 if not computed.
    pub null_count: i64,
    /// Offset of the first value in the buffers (in values, not bytes).
    pub offset: i64,
    /// Number of buffers: 2 for fixed-width and bool types, 3 for strings.
    pub n_buffers: i64,
    /// Always 0 for the types of this ABI.
    pub n_children: i64,
    /// `n_buffers` pointers: validity bitmap (may be null when there are no
    /// nulls), then values (and for strings: offsets, then data).
    pub buffers: *mut *const c_void,
    /// Unused (null).
    pub children: *mut *mut ArrowArray,
    /// Unused (null).
    pub dictionary: *mut ArrowArray,
    /// Frees the array; null once released. Called by the consumer, runs the
    /// producer's code.
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    /// The producer's bookkeeping.
    pub private_data: *mut c_void,
}

impl ArrowArray {
    /// A released (empty) array, for the callee to fill in.
    pub const fn empty() -> ArrowArray {
        ArrowArray {
            length: 0,
            null_count: 0,
            offset: 0,
            n_buffers: 0,
            n_children: 0,
            buffers: std::ptr::null_mut(),
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: None,
            private_data: std::ptr::null_mut(),
        }
    }
}

impl Drop for ArrowArray {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: a non-null release means the array is live and owned by
            // whoever holds this struct; the spec makes release idempotent by
            // nulling the callback.
            unsafe { release(self) };
        }
    }
}

/// A buffer the host owns, into which a failing function writes its message
/// (UTF-8, truncated to `capacity`).
#[repr(C)]
#[derive(Debug)]
pub struct ErrorBuffer {
    /// Start of the buffer.
    pub data: *mut u8,
    /// Its size in bytes.
    pub capacity: usize,
    /// Bytes written.
    pub len: usize,
}

impl ErrorBuffer {
    /// Writes `msg`, truncated at a character boundary to fit.
    ///
    /// # Safety
    /// `data` must point at `capacity` writable bytes.
    pub unsafe fn write(&mut self, msg: &str) {
        let mut n = msg.len().min(self.capacity);
        while n > 0 && !msg.is_char_boundary(n) {
            n -= 1;
        }
        if n > 0 {
            // SAFETY: `n <= capacity` writable bytes at `data` (caller's promise).
            unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), self.data, n) };
        }
        self.len = n;
    }
}

/// A scalar function: `n_rows` input rows in, one output value per row.
/// Returns 0 on success (and fills `out`), non-zero on failure (and writes
/// `err`).
pub type ScalarFn = unsafe extern "C" fn(
    args: *const *const ArrowArray,
    n_args: usize,
    n_rows: i64,
    out: *mut ArrowArray,
    err: *mut ErrorBuffer,
) -> i32;

/// An aggregate function: `n_rows` input rows, each in group `groups[i]`
/// (`0..n_groups`); one output value per group. Returns 0 on success.
pub type AggregateFn = unsafe extern "C" fn(
    args: *const *const ArrowArray,
    n_args: usize,
    n_rows: i64,
    groups: *const u32,
    n_groups: i64,
    out: *mut ArrowArray,
    err: *mut ErrorBuffer,
) -> i32;

/// One function a plugin provides. Its signature is data: the host
/// type-checks formulas from it without calling the plugin.
#[repr(C)]
#[derive(Debug)]
pub struct FunctionDescriptor {
    /// The name formulas call it by.
    pub name: Str,
    /// One line for `kpi plugins` and `kpi explain`.
    pub doc: Str,
    /// A [`FunctionKind`] value.
    pub kind: u32,
    /// `n_args` [`TypeCode`] values.
    pub arg_types: *const u32,
    /// Number of arguments.
    pub n_args: usize,
    /// A [`TypeCode`] value.
    pub return_type: u32,
    /// Set for scalar functions.
    pub scalar: Option<ScalarFn>,
    /// Set for aggregate functions.
    pub aggregate: Option<AggregateFn>,
}

/// What [`ENTRY_POINT`] returns. The first field is the struct's own size, so
/// a host can tell which fields a plugin's descriptor has.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDescriptor {
    /// `size_of::<PluginDescriptor>()` as the plugin was compiled.
    pub size: u32,
    /// [`ABI_VERSION`] as the plugin was compiled.
    pub abi_version: u32,
    /// The plugin's name (for messages and `kpi plugins`).
    pub name: Str,
    /// The plugin's own version.
    pub version: Str,
    /// `n_functions` function descriptors.
    pub functions: *const FunctionDescriptor,
    /// Number of functions.
    pub n_functions: usize,
    /// TOML text with `[metric.ID]` definitions (and `[[test]]` cases) that
    /// use the plugin's functions; empty for none.
    pub definitions: Str,
}

/// Wraps a descriptor so it can live in a `static`: it holds raw pointers,
/// but only to data that is itself `'static` and never mutated.
#[doc(hidden)]
pub struct StaticDescriptor(pub PluginDescriptor);
// SAFETY: every pointer in the descriptor points at leaked, immutable data.
unsafe impl Sync for StaticDescriptor {}
// SAFETY: as above.
unsafe impl Send for StaticDescriptor {}

#[doc(hidden)]
pub mod __private {
    pub use crate::array::{
        call_aggregate, call_scalar, leak_descriptor, quiet_panics, FunctionSpec,
    };
}
