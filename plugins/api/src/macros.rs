/// Exports a plugin: writes the `kpi_plugin_entry` symbol and one
/// panic-catching `extern "C"` wrapper per function.
///
/// Each function line is
/// `scalar "name"(TypeCode::A, ...) -> TypeCode::R = path_to_fn, "doc";` or
/// `aggregate "name"(...) -> TypeCode::R = path_to_fn, "doc";`.
/// A scalar function has the type `fn(&[Column], rows) -> Result<Output, String>`
/// and returns one value per row; an aggregate function has the type
/// `fn(&[Column], groups: &[u32], n_groups) -> Result<Output, String>` and
/// returns one value per group (`groups[i]` is the group of row `i`).
///
/// The crate must be built as a `cdylib`.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:expr,
        version: $version:expr,
        definitions: $defs:expr,
        $( $kind:ident $fname:literal ( $($arg:path),* $(,)? ) -> $ret:path = $f:path, $doc:literal; )*
    ) => {
        /// The plugin's entry point, called once by the host.
        #[no_mangle]
        pub extern "C" fn kpi_plugin_entry() -> *const $crate::PluginDescriptor {
            static DESCRIPTOR: ::std::sync::OnceLock<&'static $crate::StaticDescriptor> = ::std::sync::OnceLock::new();
            let d = DESCRIPTOR.get_or_init(|| {
                $crate::__private::quiet_panics();
                let specs = [ $( $crate::export_plugin!(@spec $kind $fname ( $($arg),* ) -> $ret = $f, $doc) ),* ];
                $crate::__private::leak_descriptor($name, $version, $defs, &specs)
            });
            &d.0 as *const $crate::PluginDescriptor
        }
    };
    (@spec scalar $fname:literal ( $($arg:path),* ) -> $ret:path = $f:path, $doc:literal) => {{
        const ARGS: &[$crate::TypeCode] = &[$($arg),*];
        unsafe extern "C" fn trampoline(
            args: *const *const $crate::ArrowArray,
            n_args: usize,
            n_rows: i64,
            out: *mut $crate::ArrowArray,
            err: *mut $crate::ErrorBuffer,
        ) -> i32 {
            // SAFETY: the host calls with the arguments `ScalarFn` documents.
            unsafe { $crate::__private::call_scalar($f, ARGS, $ret, args, n_args, n_rows, out, err) }
        }
        $crate::__private::FunctionSpec {
            name: $fname,
            doc: $doc,
            kind: $crate::FunctionKind::Scalar,
            args: ARGS,
            returns: $ret,
            scalar: Some(trampoline),
            aggregate: None,
        }
    }};
    (@spec aggregate $fname:literal ( $($arg:path),* ) -> $ret:path = $f:path, $doc:literal) => {{
        const ARGS: &[$crate::TypeCode] = &[$($arg),*];
        unsafe extern "C" fn trampoline(
            args: *const *const $crate::ArrowArray,
            n_args: usize,
            n_rows: i64,
            groups: *const u32,
            n_groups: i64,
            out: *mut $crate::ArrowArray,
            err: *mut $crate::ErrorBuffer,
        ) -> i32 {
            // SAFETY: the host calls with the arguments `AggregateFn` documents.
            unsafe { $crate::__private::call_aggregate($f, ARGS, $ret, args, n_args, n_rows, groups, n_groups, out, err) }
        }
        $crate::__private::FunctionSpec {
            name: $fname,
            doc: $doc,
            kind: $crate::FunctionKind::Aggregate,
            args: ARGS,
            returns: $ret,
            scalar: None,
            aggregate: Some(trampoline),
        }
    }};
}
