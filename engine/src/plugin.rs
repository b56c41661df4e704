//! The plugin host: loads native plugins through the `kpi-plugin-api` C ABI,
//! checks them, and calls their functions over columns.
//!
//! A plugin is loaded once and never unloaded (its `Library` is leaked on
//! purpose: thread-local destructors in a plugin crash after `dlclose`).

use std::path::{Path, PathBuf};

use kpi_dsl::Type;
use kpi_plugin_api::{
    abi_parts, AggregateFn, ArrowArray, EntryPoint, ErrorBuffer, FunctionKind, Output,
    PluginDescriptor, ScalarFn, TypeCode, ABI_MAJOR, ABI_MINOR, ABI_VERSION, ENTRY_POINT,
};

use crate::column::{Column, Data, StrBuilder};
use crate::kernels::{get, V};

/// A function a plugin provides, with its signature.
#[derive(Clone, Debug)]
pub struct PluginFunction {
    pub name: String,
    pub doc: String,
    pub plugin: String,
    pub kind: FunctionKind,
    pub args: Vec<TypeCode>,
    pub returns: TypeCode,
    scalar: Option<ScalarFn>,
    aggregate: Option<AggregateFn>,
}

/// A loaded plugin.
#[derive(Clone, Debug)]
pub struct Plugin {
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    /// `(major, minor)` of the ABI it was built for.
    pub abi: (u32, u32),
    pub functions: Vec<PluginFunction>,
    /// TOML definitions shipped with the plugin.
    pub definitions: String,
}

/// The language type of an ABI type code.
pub fn language_type(t: TypeCode) -> Type {
    match t {
        TypeCode::Int => Type::Int,
        TypeCode::Float => Type::Float,
        TypeCode::Bool => Type::Bool,
        TypeCode::String => Type::String,
        TypeCode::Timestamp => Type::Timestamp,
        TypeCode::Duration => Type::Duration,
    }
}

fn host_accepts() -> String {
    if ABI_MINOR == 0 {
        format!("this kpi accepts plugin ABI {ABI_MAJOR}.0")
    } else {
        format!("this kpi accepts plugin ABI {ABI_MAJOR}.0 to {ABI_MAJOR}.{ABI_MINOR}")
    }
}

/// Loads and checks the plugin at `path`. Every refusal names the file, what
/// it was built for and what this host accepts.
pub fn load(path: &Path) -> Result<Plugin, String> {
    let shown = path.display();
    if !path.exists() {
        return Err(format!("plugin {shown}: no such file"));
    }
    // A bare file name would make the system loader search its library path
    // (and maybe load another library of that name): load the file named.
    let file = if path.components().count() == 1 {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    // SAFETY: loading a library runs its initialisers; a plugin is trusted
    // code the user named. It is never unloaded (see the module docs).
    let lib = unsafe { libloading::Library::new(&file) }
        .map_err(|e| format!("plugin {shown}: not a loadable library ({e})"))?;
    let lib: &'static libloading::Library = Box::leak(Box::new(lib));
    // SAFETY: the symbol's type is the ABI's entry point type; a library that
    // exports a different symbol of that name breaks the ABI contract.
    let entry = unsafe { lib.get::<EntryPoint>(format!("{ENTRY_POINT}\0").as_bytes()) }.map_err(|_| {
        format!("plugin {shown}: no `{ENTRY_POINT}` entry point; it was not built with kpi-plugin-api ({})", host_accepts())
    })?;
    // SAFETY: calling the entry point as the ABI defines it.
    let desc = unsafe { entry() };
    if desc.is_null() {
        return Err(format!(
            "plugin {shown}: `{ENTRY_POINT}` returned no descriptor"
        ));
    }
    // The first two fields (size, abi_version) are stable across every ABI
    // version; read them before trusting the rest of the layout.
    // SAFETY: every ABI version starts the descriptor with two u32 fields.
    let (size, abi) = unsafe { (*(desc as *const u32), *(desc as *const u32).add(1)) };
    let (major, minor) = abi_parts(abi);
    if major != ABI_MAJOR || minor > ABI_MINOR {
        return Err(format!(
            "plugin {shown}: built for plugin ABI {major}.{minor}; {}",
            host_accepts()
        ));
    }
    let required = descriptor_size(minor);
    if (size as usize) < required {
        return Err(format!(
            "plugin {shown}: descriptor of {size} bytes is smaller than ABI {major}.{minor} requires ({required} bytes)"
        ));
    }
    // SAFETY: the version and size checks above say the layout is ours.
    let d = unsafe { &*desc };
    // SAFETY: strings in a descriptor are static in the plugin.
    let text = |s: &kpi_plugin_api::Str, what: &str| {
        unsafe { s.as_str() }
            .map(str::to_string)
            .ok_or_else(|| format!("plugin {shown}: {what} is not UTF-8"))
    };
    let name = text(&d.name, "its name")?;
    let version = text(&d.version, "its version")?;
    let definitions = text(&d.definitions, "its definitions")?;
    let mut functions = Vec::new();
    if d.functions.is_null() && d.n_functions > 0 {
        return Err(format!(
            "plugin {shown}: declares {} functions but gives no table of them",
            d.n_functions
        ));
    }
    for i in 0..d.n_functions {
        // SAFETY: `n_functions` descriptors at `functions`, checked non-null.
        let f = unsafe { &*d.functions.add(i) };
        let fname = text(&f.name, "a function name")?;
        let doc = text(&f.doc, "a function doc")?;
        let bad = |why: String| format!("plugin {shown} ({name}): function `{fname}`: {why}");
        let kind = match f.kind {
            1 => FunctionKind::Scalar,
            2 => FunctionKind::Aggregate,
            k => return Err(bad(format!("unknown function kind {k}"))),
        };
        let codes: &[u32] = if f.n_args == 0 {
            &[]
        } else if f.arg_types.is_null() {
            return Err(bad(format!(
                "declares {} arguments but gives no argument types",
                f.n_args
            )));
        } else {
            // SAFETY: `n_args` type codes at `arg_types`.
            unsafe { std::slice::from_raw_parts(f.arg_types, f.n_args) }
        };
        let args = codes
            .iter()
            .map(|&c| {
                TypeCode::from_u32(c).ok_or_else(|| bad(format!("unknown argument type code {c}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let returns = TypeCode::from_u32(f.return_type)
            .ok_or_else(|| bad(format!("unknown return type code {}", f.return_type)))?;
        match kind {
            FunctionKind::Scalar if f.scalar.is_none() => {
                return Err(bad("scalar function without a callback".into()))
            }
            FunctionKind::Aggregate if f.aggregate.is_none() => {
                return Err(bad("aggregate function without a callback".into()))
            }
            _ => {}
        }
        if !kpi_dsl::defs::is_identifier(&fname) {
            return Err(bad("the name is not an identifier".into()));
        }
        if KEYWORDS.contains(&fname.as_str()) {
            return Err(bad(
                "the name is a keyword of the formula language, so no formula could call it".into(),
            ));
        }
        functions.push(PluginFunction {
            name: fname,
            doc,
            plugin: name.clone(),
            kind,
            args,
            returns,
            scalar: f.scalar,
            aggregate: f.aggregate,
        });
    }
    Ok(Plugin {
        path: path.to_path_buf(),
        name,
        version,
        abi: (major, minor),
        functions,
        definitions,
    })
}

/// Words of the formula language a function cannot be named.
const KEYWORDS: &[&str] = &[
    "or", "and", "not", "is", "null", "in", "between", "if", "then", "elif", "else", "end", "true",
    "false", "where", "all", "by", "params", "period",
];

/// The smallest descriptor a plugin of ABI minor version `minor` may hand
/// over: minor versions only append fields, so an older plugin's descriptor
/// ends earlier. (ABI 1.0 is the first; later minors add their sizes here.)
fn descriptor_size(_minor: u32) -> usize {
    // Every minor version accepted so far (1.0) has this size.
    std::mem::size_of::<PluginDescriptor>()
}

/// The ABI version this host speaks, for `kpi plugins`.
pub fn host_abi() -> (u32, u32) {
    abi_parts(ABI_VERSION)
}

fn to_output(c: &Column, ty: TypeCode) -> Output {
    let n = c.len();
    match ty {
        TypeCode::Int | TypeCode::Timestamp | TypeCode::Duration => {
            let v = (0..n)
                .map(|i| match get(c, i) {
                    V::I(x) | V::T(x) => Some(x),
                    // The ABI carries whole microseconds.
                    V::D(x) => Some(x.round() as i64),
                    _ => None,
                })
                .collect();
            match ty {
                TypeCode::Int => Output::Int(v),
                TypeCode::Timestamp => Output::Timestamp(v),
                _ => Output::Duration(v),
            }
        }
        TypeCode::Float => Output::Float(
            (0..n)
                .map(|i| match get(c, i) {
                    V::F(x) => Some(x),
                    V::I(x) => Some(x as f64),
                    _ => None,
                })
                .collect(),
        ),
        TypeCode::Bool => Output::Bool(
            (0..n)
                .map(|i| {
                    if let V::B(b) = get(c, i) {
                        Some(b)
                    } else {
                        None
                    }
                })
                .collect(),
        ),
        TypeCode::String => Output::String(
            (0..n)
                .map(|i| {
                    if let V::S(s) = get(c, i) {
                        Some(s.to_string())
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    }
}

fn from_output(o: Output, who: &str) -> Result<Column, String> {
    let valid_of = |v: &[bool]| Some(v.to_vec());
    Ok(match o {
        Output::Int(v) => {
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            Column::new(
                Data::Int(v.into_iter().map(|x| x.unwrap_or(0)).collect()),
                valid_of(&valid),
            )
        }
        Output::Timestamp(v) => {
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            Column::new(
                Data::Timestamp(v.into_iter().map(|x| x.unwrap_or(0)).collect()),
                valid_of(&valid),
            )
        }
        Output::Duration(v) => {
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            Column::new(
                Data::Duration(v.into_iter().map(|x| x.unwrap_or(0) as f64).collect()),
                valid_of(&valid),
            )
        }
        Output::Float(v) => {
            if let Some(i) = v.iter().position(|x| x.is_some_and(|f| !f.is_finite())) {
                return Err(format!(
                    "{who} returned {} for value {}; a plugin must return finite numbers or null",
                    v[i].unwrap_or_default(),
                    i + 1
                ));
            }
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            Column::new(
                Data::Float(v.into_iter().map(|x| x.unwrap_or(0.0)).collect()),
                valid_of(&valid),
            )
        }
        Output::Bool(v) => {
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            Column::new(
                Data::Bool(v.into_iter().map(|x| x.unwrap_or(false)).collect()),
                valid_of(&valid),
            )
        }
        Output::String(v) => {
            let valid: Vec<bool> = v.iter().map(Option::is_some).collect();
            let mut b = StrBuilder::with_capacity(v.len());
            for s in &v {
                b.push(s.as_deref().unwrap_or(""));
            }
            Column::new(Data::Str(b.finish()), valid_of(&valid))
        }
    })
}

enum Call<'a> {
    Scalar { rows: usize },
    Aggregate { groups: &'a [u32], n_groups: usize },
}

impl PluginFunction {
    fn who(&self) -> String {
        format!("plugin `{}` function `{}`", self.plugin, self.name)
    }

    /// Calls a scalar function over `rows` rows.
    pub fn call_scalar(&self, args: &[Column], rows: usize) -> Result<Column, String> {
        self.call(args, Call::Scalar { rows })
    }

    /// Calls an aggregate function: `groups[i]` is row `i`'s group; one value per group.
    pub fn call_aggregate(
        &self,
        args: &[Column],
        groups: &[u32],
        n_groups: usize,
    ) -> Result<Column, String> {
        self.call(args, Call::Aggregate { groups, n_groups })
    }

    fn call(&self, args: &[Column], call: Call<'_>) -> Result<Column, String> {
        let arrays: Vec<ArrowArray> = args
            .iter()
            .zip(&self.args)
            .map(|(c, t)| to_output(c, *t).into_arrow())
            .collect();
        let ptrs: Vec<*const ArrowArray> = arrays.iter().map(|a| a as *const ArrowArray).collect();
        let mut out = ArrowArray::empty();
        let mut buf = vec![0u8; 4096];
        let mut err = ErrorBuffer {
            data: buf.as_mut_ptr(),
            capacity: buf.len(),
            len: 0,
        };
        let (rc, expected) = match call {
            Call::Scalar { rows } => {
                let f = self
                    .scalar
                    .ok_or_else(|| format!("{} is not a scalar function", self.who()))?;
                // SAFETY: arrays, output slot and error buffer are live and owned here.
                (
                    unsafe { f(ptrs.as_ptr(), ptrs.len(), rows as i64, &mut out, &mut err) },
                    rows,
                )
            }
            Call::Aggregate { groups, n_groups } => {
                let f = self
                    .aggregate
                    .ok_or_else(|| format!("{} is not an aggregate", self.who()))?;
                // SAFETY: as above; `groups` has one entry per row.
                let rc = unsafe {
                    f(
                        ptrs.as_ptr(),
                        ptrs.len(),
                        groups.len() as i64,
                        groups.as_ptr(),
                        n_groups as i64,
                        &mut out,
                        &mut err,
                    )
                };
                (rc, n_groups)
            }
        };
        drop(arrays);
        if rc != 0 {
            let msg = String::from_utf8_lossy(&buf[..err.len.min(buf.len())]).into_owned();
            return Err(format!(
                "{} failed: {}",
                self.who(),
                if msg.is_empty() {
                    "(no message)".into()
                } else {
                    msg
                }
            ));
        }
        if out.release.is_none() {
            return Err(format!(
                "{} reported success but returned no values",
                self.who()
            ));
        }
        // SAFETY: a released-on-drop array the plugin filled, of the declared type.
        let values = unsafe { Output::from_arrow(&out, self.returns) }
            .map_err(|e| format!("{}: {e}", self.who()))?;
        drop(out);
        if values.len() != expected {
            return Err(format!(
                "{} returned {} values, expected {expected}",
                self.who(),
                values.len()
            ));
        }
        from_output(values, &self.who())
    }
}
