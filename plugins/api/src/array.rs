//! Reading and writing Arrow C Data arrays of the ABI's types, and the
//! `extern "C"` trampolines that [`crate::export_plugin!`] builds on.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::{
    AggregateFn, ArrowArray, ErrorBuffer, FunctionDescriptor, FunctionKind, PluginDescriptor,
    ScalarFn, StaticDescriptor, Str, TypeCode, ABI_VERSION,
};

/// A read-only view of one column passed across the boundary.
#[derive(Clone, Copy, Debug)]
pub struct Column<'a> {
    ty: TypeCode,
    len: usize,
    offset: usize,
    validity: Option<&'a [u8]>,
    /// Values (fixed-width and bool) or offsets (strings).
    values: *const u8,
    /// String bytes.
    data: *const u8,
    _life: std::marker::PhantomData<&'a ArrowArray>,
}

impl<'a> Column<'a> {
    /// Views `array` as a column of type `ty`.
    ///
    /// # Safety
    /// `array` must be a live Arrow C Data array of the layout `ty` names,
    /// valid for `'a`.
    pub unsafe fn from_arrow(array: &'a ArrowArray, ty: TypeCode) -> Result<Column<'a>, String> {
        let want = if ty == TypeCode::String { 3 } else { 2 };
        if array.n_buffers != want
            || array.buffers.is_null()
            || array.length < 0
            || array.offset < 0
        {
            return Err(format!(
                "malformed {} column: {} buffers",
                ty.name(),
                array.n_buffers
            ));
        }
        let len = array.length as usize;
        let offset = array.offset as usize;
        // SAFETY: `n_buffers` pointers at `buffers` (checked above, caller's promise of a live array).
        let buffers = unsafe { std::slice::from_raw_parts(array.buffers, want as usize) };
        let validity = if buffers[0].is_null() {
            None
        } else {
            // SAFETY: a validity bitmap holds a bit per value from the start of the buffer.
            Some(unsafe {
                std::slice::from_raw_parts(buffers[0] as *const u8, (offset + len).div_ceil(8))
            })
        };
        let data = if ty == TypeCode::String {
            buffers[2] as *const u8
        } else {
            std::ptr::null()
        };
        if buffers[1].is_null() && len > 0 {
            return Err(format!("malformed {} column: no values buffer", ty.name()));
        }
        Ok(Column {
            ty,
            len,
            offset,
            validity,
            values: buffers[1] as *const u8,
            data,
            _life: std::marker::PhantomData,
        })
    }

    /// The column's type.
    pub fn ty(&self) -> TypeCode {
        self.ty
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the column holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether value `i` is present (not null).
    pub fn is_valid(&self, i: usize) -> bool {
        assert!(i < self.len, "row {i} of a column of {}", self.len);
        let j = self.offset + i;
        self.validity.is_none_or(|v| v[j / 8] >> (j % 8) & 1 == 1)
    }

    fn word(&self, i: usize) -> Option<u64> {
        if !self.is_valid(i) {
            return None;
        }
        // SAFETY: fixed-width values buffer of at least offset+len 8-byte values.
        Some(unsafe {
            (self.values as *const u64)
                .add(self.offset + i)
                .read_unaligned()
        })
    }

    /// An int, timestamp or duration value (`None` for null or another type).
    pub fn i64(&self, i: usize) -> Option<i64> {
        match self.ty {
            TypeCode::Int | TypeCode::Timestamp | TypeCode::Duration => {
                self.word(i).map(|w| w as i64)
            }
            _ => None,
        }
    }

    /// A float value; ints are widened.
    pub fn f64(&self, i: usize) -> Option<f64> {
        match self.ty {
            TypeCode::Float => self.word(i).map(f64::from_bits),
            TypeCode::Int => self.i64(i).map(|x| x as f64),
            _ => None,
        }
    }

    /// A bool value.
    pub fn bool(&self, i: usize) -> Option<bool> {
        if self.ty != TypeCode::Bool || !self.is_valid(i) {
            return None;
        }
        let j = self.offset + i;
        // SAFETY: a bit-packed values buffer of at least offset+len bits.
        Some(unsafe { *self.values.add(j / 8) } >> (j % 8) & 1 == 1)
    }

    /// A string value (`None` for null, or for bytes that are not UTF-8).
    pub fn str(&self, i: usize) -> Option<&'a str> {
        if self.ty != TypeCode::String || !self.is_valid(i) {
            return None;
        }
        let j = self.offset + i;
        // SAFETY: offsets buffer of offset+len+1 i32 values; data holds the bytes they index.
        let (start, end) = unsafe {
            let offs = self.values as *const i32;
            (
                offs.add(j).read_unaligned(),
                offs.add(j + 1).read_unaligned(),
            )
        };
        if start < 0 || end < start {
            return None;
        }
        // SAFETY: as above.
        let bytes = unsafe {
            std::slice::from_raw_parts(self.data.add(start as usize), (end - start) as usize)
        };
        std::str::from_utf8(bytes).ok()
    }
}

/// The values a function returns (or the host sends), one per row or group.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Ints.
    Int(Vec<Option<i64>>),
    /// Floats (must be finite).
    Float(Vec<Option<f64>>),
    /// Bools.
    Bool(Vec<Option<bool>>),
    /// Strings.
    String(Vec<Option<String>>),
    /// Timestamps, microseconds since the epoch.
    Timestamp(Vec<Option<i64>>),
    /// Durations, microseconds.
    Duration(Vec<Option<i64>>),
}

impl Output {
    /// The type of the values.
    pub fn ty(&self) -> TypeCode {
        match self {
            Output::Int(_) => TypeCode::Int,
            Output::Float(_) => TypeCode::Float,
            Output::Bool(_) => TypeCode::Bool,
            Output::String(_) => TypeCode::String,
            Output::Timestamp(_) => TypeCode::Timestamp,
            Output::Duration(_) => TypeCode::Duration,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Output::Int(v) | Output::Timestamp(v) | Output::Duration(v) => v.len(),
            Output::Float(v) => v.len(),
            Output::Bool(v) => v.len(),
            Output::String(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the values into a new Arrow array whose `release` frees them.
    pub fn into_arrow(self) -> ArrowArray {
        let len = self.len();
        let mut validity = vec![0u8; len.div_ceil(8)];
        let mut nulls = 0i64;
        let mut set = |i: usize, present: bool| {
            if present {
                validity[i / 8] |= 1 << (i % 8);
            } else {
                nulls += 1;
            }
        };
        let (values, data): (Vec<u8>, Option<Vec<u8>>) = match &self {
            Output::Int(v) | Output::Timestamp(v) | Output::Duration(v) => {
                let mut b = Vec::with_capacity(len * 8);
                for (i, x) in v.iter().enumerate() {
                    set(i, x.is_some());
                    b.extend_from_slice(&x.unwrap_or(0).to_le_bytes());
                }
                (b, None)
            }
            Output::Float(v) => {
                let mut b = Vec::with_capacity(len * 8);
                for (i, x) in v.iter().enumerate() {
                    set(i, x.is_some());
                    b.extend_from_slice(&x.unwrap_or(0.0).to_le_bytes());
                }
                (b, None)
            }
            Output::Bool(v) => {
                let mut b = vec![0u8; len.div_ceil(8)];
                for (i, x) in v.iter().enumerate() {
                    set(i, x.is_some());
                    if *x == Some(true) {
                        b[i / 8] |= 1 << (i % 8);
                    }
                }
                (b, None)
            }
            Output::String(v) => {
                let mut offsets = Vec::with_capacity((len + 1) * 4);
                let mut bytes = Vec::new();
                offsets.extend_from_slice(&0i32.to_le_bytes());
                for (i, x) in v.iter().enumerate() {
                    set(i, x.is_some());
                    bytes.extend_from_slice(x.as_deref().unwrap_or("").as_bytes());
                    offsets.extend_from_slice(&(bytes.len() as i32).to_le_bytes());
                }
                (offsets, Some(bytes))
            }
        };
        // Values are little-endian on every platform this ABI targets; u64
        // alignment comes from allocating as u64.
        let values = aligned(values);
        let data = data.map(aligned);
        let mut holder = Box::new(Holder {
            validity: aligned(validity),
            values,
            data,
            pointers: Vec::new(),
        });
        holder.pointers = vec![
            if nulls == 0 {
                std::ptr::null()
            } else {
                holder.validity.as_ptr() as *const c_void
            },
            holder.values.as_ptr() as *const c_void,
        ];
        if let Some(d) = &holder.data {
            holder.pointers.push(d.as_ptr() as *const c_void);
        }
        let n_buffers = holder.pointers.len() as i64;
        let buffers = holder.pointers.as_mut_ptr();
        ArrowArray {
            length: len as i64,
            null_count: nulls,
            offset: 0,
            n_buffers,
            n_children: 0,
            buffers,
            children: std::ptr::null_mut(),
            dictionary: std::ptr::null_mut(),
            release: Some(release_holder),
            private_data: Box::into_raw(holder) as *mut c_void,
        }
    }

    /// Reads an array of type `ty` into owned values.
    ///
    /// # Safety
    /// As for [`Column::from_arrow`].
    pub unsafe fn from_arrow(array: &ArrowArray, ty: TypeCode) -> Result<Output, String> {
        // SAFETY: forwarded to the caller.
        let c = unsafe { Column::from_arrow(array, ty)? };
        let n = c.len();
        Ok(match ty {
            TypeCode::Int => Output::Int((0..n).map(|i| c.i64(i)).collect()),
            TypeCode::Timestamp => Output::Timestamp((0..n).map(|i| c.i64(i)).collect()),
            TypeCode::Duration => Output::Duration((0..n).map(|i| c.i64(i)).collect()),
            TypeCode::Float => Output::Float((0..n).map(|i| c.f64(i)).collect()),
            TypeCode::Bool => Output::Bool((0..n).map(|i| c.bool(i)).collect()),
            TypeCode::String => {
                let mut v = Vec::with_capacity(n);
                for i in 0..n {
                    if c.is_valid(i) {
                        v.push(Some(
                            c.str(i)
                                .ok_or_else(|| format!("row {i}: string is not UTF-8"))?
                                .to_string(),
                        ));
                    } else {
                        v.push(None);
                    }
                }
                Output::String(v)
            }
        })
    }
}

/// Buffers as u64 words so 8-byte values are aligned.
fn aligned(bytes: Vec<u8>) -> Vec<u64> {
    let mut words = vec![0u64; bytes.len().div_ceil(8).max(1)];
    // SAFETY: `words` has at least `bytes.len()` bytes of storage.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), words.as_mut_ptr() as *mut u8, bytes.len())
    };
    words
}

struct Holder {
    validity: Vec<u64>,
    values: Vec<u64>,
    data: Option<Vec<u64>>,
    pointers: Vec<*const c_void>,
}

unsafe extern "C" fn release_holder(array: *mut ArrowArray) {
    // SAFETY: called by the consumer on an array made by `into_arrow`, whose
    // private data is a leaked `Box<Holder>`; nulling `release` marks it freed.
    unsafe {
        let a = &mut *array;
        if !a.private_data.is_null() {
            drop(Box::from_raw(a.private_data as *mut Holder));
        }
        a.private_data = std::ptr::null_mut();
        a.release = None;
    }
}

/// What the macro declares for one function.
pub struct FunctionSpec {
    /// Name in formulas.
    pub name: &'static str,
    /// One-line documentation.
    pub doc: &'static str,
    /// Scalar or aggregate.
    pub kind: FunctionKind,
    /// Argument types.
    pub args: &'static [TypeCode],
    /// Return type.
    pub returns: TypeCode,
    /// The scalar trampoline.
    pub scalar: Option<ScalarFn>,
    /// The aggregate trampoline.
    pub aggregate: Option<AggregateFn>,
}

/// Builds the plugin's descriptor once and leaks it: it lives as long as the
/// process, as the host never unloads a plugin.
pub fn leak_descriptor(
    name: &'static str,
    version: &'static str,
    definitions: &'static str,
    specs: &[FunctionSpec],
) -> &'static StaticDescriptor {
    let functions: Vec<FunctionDescriptor> = specs
        .iter()
        .map(|s| {
            let codes: &'static [u32] = Vec::leak(s.args.iter().map(|t| *t as u32).collect());
            FunctionDescriptor {
                name: Str::from_static(s.name),
                doc: Str::from_static(s.doc),
                kind: s.kind as u32,
                arg_types: codes.as_ptr(),
                n_args: codes.len(),
                return_type: s.returns as u32,
                scalar: s.scalar,
                aggregate: s.aggregate,
            }
        })
        .collect();
    let functions: &'static [FunctionDescriptor] = Vec::leak(functions);
    Box::leak(Box::new(StaticDescriptor(PluginDescriptor {
        size: std::mem::size_of::<PluginDescriptor>() as u32,
        abi_version: ABI_VERSION,
        name: Str::from_static(name),
        version: Str::from_static(version),
        functions: functions.as_ptr(),
        n_functions: functions.len(),
        definitions: Str::from_static(definitions),
    })))
}

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook
    /// that [`quiet_panics`] installs.
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Replaces the plugin's panic hook (a cdylib has a standard library, and
/// so a hook, of its own) with one that records the location instead of
/// printing to the host's stderr: the host reports the panic as an error
/// message, location included.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        PANIC_AT.with(|p| *p.borrow_mut() = at);
    }));
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned());
    let at = PANIC_AT
        .with(|p| p.borrow_mut().take())
        .map(|a| format!(" at {a}"))
        .unwrap_or_default();
    format!(
        "panicked{at}: {}",
        what.unwrap_or_else(|| "(no message)".into())
    )
}

/// Views the `n_args` argument arrays with their declared types.
///
/// # Safety
/// `args` holds `n_args` live arrays of the declared types.
unsafe fn columns<'a>(
    args: *const *const ArrowArray,
    n_args: usize,
    types: &[TypeCode],
    rows: usize,
) -> Result<Vec<Column<'a>>, String> {
    if n_args != types.len() {
        return Err(format!(
            "called with {n_args} arguments, declared {}",
            types.len()
        ));
    }
    let mut out = Vec::with_capacity(n_args);
    for (k, ty) in types.iter().enumerate() {
        // SAFETY: `n_args` valid pointers to live arrays (caller's promise).
        let a = unsafe { &**args.add(k) };
        // SAFETY: as above.
        let c = unsafe { Column::from_arrow(a, *ty)? };
        if c.len() != rows {
            return Err(format!(
                "argument {} has {} rows, expected {rows}",
                k + 1,
                c.len()
            ));
        }
        out.push(c);
    }
    Ok(out)
}

fn finish(
    result: Result<Output, String>,
    returns: TypeCode,
    len: usize,
    out: *mut ArrowArray,
    err: *mut ErrorBuffer,
) -> i32 {
    let result = result.and_then(|o| {
        if o.ty() != returns {
            Err(format!(
                "returned {} values, declared {}",
                o.ty().name(),
                returns.name()
            ))
        } else if o.len() != len {
            Err(format!(
                "returned {} values for {len} rows or groups",
                o.len()
            ))
        } else {
            Ok(o)
        }
    });
    match result {
        Ok(o) => {
            // SAFETY: `out` points at a host-owned, released array to fill.
            unsafe { std::ptr::write(out, o.into_arrow()) };
            0
        }
        Err(msg) => {
            // SAFETY: `err` points at a host-owned buffer.
            unsafe { (*err).write(&msg) };
            1
        }
    }
}

/// A plugin's scalar function, as `export_plugin!` takes it: the argument
/// columns and the row count in, one value per row out.
pub type ScalarImpl = fn(&[Column<'_>], usize) -> Result<Output, String>;
/// A plugin's aggregate function: the argument columns, each row's group
/// index and the number of groups in, one value per group out.
pub type AggregateImpl = fn(&[Column<'_>], &[u32], usize) -> Result<Output, String>;

/// The body of a scalar trampoline: converts the arguments, calls `f`
/// inside `catch_unwind`, and exports its output.
///
/// # Safety
/// Called by the host with the arguments of [`ScalarFn`].
// The arguments mirror the C signature one to one.
#[allow(clippy::too_many_arguments)]
pub unsafe fn call_scalar(
    f: ScalarImpl,
    types: &[TypeCode],
    returns: TypeCode,
    args: *const *const ArrowArray,
    n_args: usize,
    n_rows: i64,
    out: *mut ArrowArray,
    err: *mut ErrorBuffer,
) -> i32 {
    let rows = n_rows.max(0) as usize;
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded from the host's call.
        let cols = unsafe { columns(args, n_args, types, rows)? };
        f(&cols, rows)
    }))
    .unwrap_or_else(|p| Err(panic_message(p)));
    finish(result, returns, rows, out, err)
}

/// The body of an aggregate trampoline.
///
/// # Safety
/// Called by the host with the arguments of [`AggregateFn`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn call_aggregate(
    f: AggregateImpl,
    types: &[TypeCode],
    returns: TypeCode,
    args: *const *const ArrowArray,
    n_args: usize,
    n_rows: i64,
    groups: *const u32,
    n_groups: i64,
    out: *mut ArrowArray,
    err: *mut ErrorBuffer,
) -> i32 {
    let rows = n_rows.max(0) as usize;
    let n_groups = n_groups.max(0) as usize;
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded from the host's call.
        let cols = unsafe { columns(args, n_args, types, rows)? };
        let g: &[u32] = if rows == 0 {
            &[]
        } else {
            // SAFETY: the host passes `n_rows` group indexes.
            unsafe { std::slice::from_raw_parts(groups, rows) }
        };
        if let Some(bad) = g.iter().find(|&&x| x as usize >= n_groups) {
            return Err(format!("group index {bad} out of range 0..{n_groups}"));
        }
        f(&cols, g, n_groups)
    }))
    .unwrap_or_else(|p| Err(panic_message(p)));
    finish(result, returns, n_groups, out, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_type() {
        let cases = vec![
            Output::Int(vec![Some(1), None, Some(-3)]),
            Output::Float(vec![Some(0.5), Some(-2.25), None]),
            Output::Bool(vec![
                Some(true),
                None,
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(false),
            ]),
            Output::String(vec![
                Some("héllo".into()),
                None,
                Some("".into()),
                Some("世界".into()),
            ]),
            Output::Timestamp(vec![Some(1_767_225_600_000_000)]),
            Output::Duration(vec![None, Some(90_000_000)]),
        ];
        for o in cases {
            let arr = o.clone().into_arrow();
            // SAFETY: made just above with the same type.
            let back = unsafe { Output::from_arrow(&arr, o.ty()) }.unwrap();
            assert_eq!(back, o);
            drop(arr); // releases through the callback
        }
    }

    #[test]
    fn panics_become_errors() {
        fn boom(_: &[Column<'_>], _: usize) -> Result<Output, String> {
            panic!("no luck")
        }
        let input = Output::Int(vec![Some(1)]).into_arrow();
        let ptrs = [&input as *const ArrowArray];
        let mut out = ArrowArray::empty();
        let mut buf = vec![0u8; 256];
        let mut err = ErrorBuffer {
            data: buf.as_mut_ptr(),
            capacity: buf.len(),
            len: 0,
        };
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        // SAFETY: valid host-side arguments.
        let rc = unsafe {
            call_scalar(
                boom,
                &[TypeCode::Int],
                TypeCode::Int,
                ptrs.as_ptr(),
                1,
                1,
                &mut out,
                &mut err,
            )
        };
        std::panic::set_hook(prev);
        assert_eq!(rc, 1);
        assert_eq!(
            std::str::from_utf8(&buf[..err.len]).unwrap(),
            "panicked: no luck"
        );
        assert!(out.release.is_none());
    }
}
