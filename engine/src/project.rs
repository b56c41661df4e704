//! Project loading: `kpi.toml` (time zone, week start, params, tables with
//! their sources, column mapping, types, dimensions, relations, interval),
//! the built-in and project definitions, and the check of all of them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Weekday;
use chrono_tz::Tz;
use indexmap::IndexMap;
use kpi_dsl::defs::{param_value, parse_toml, span_of};
use kpi_dsl::diag::did_you_mean;
use kpi_dsl::{
    codes, Checked, Definitions, Diagnostic, ParamValue, Relation, Schema, SourceMap, TableSchema,
    Type,
};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::canonical;
use crate::period::Calendar;
use crate::Error;

/// The built-in definitions, embedded at build time from `metrics.d/`.
pub const BUILTINS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// Where a table's rows come from and how its columns are named there.
#[derive(Clone, Debug, Default)]
pub struct TableSource {
    /// Files, after glob expansion, in name order.
    pub files: Vec<PathBuf>,
    /// Canonical column → column name in the source, where they differ.
    pub columns: IndexMap<String, String>,
    pub delimiter: u8,
    pub null_tokens: Vec<String>,
    /// Columns that must hold a value in every row.
    pub required: HashSet<String>,
    /// CSV text held in memory (a test case's rows) instead of files,
    /// with the label that names it in errors.
    pub inline: Option<(String, String)>,
}

/// A loaded, checked project. No data has been read yet.
pub struct Project {
    pub root: PathBuf,
    /// The project file, or `None` for a project built in memory.
    pub file: Option<PathBuf>,
    pub calendar: Calendar,
    pub schema: Schema,
    /// The tables that have a source, in project-file order.
    pub tables: IndexMap<String, TableSource>,
    pub sources: SourceMap,
    pub definitions: Definitions,
    pub checked: Checked,
    pub plugins: Vec<PathBuf>,
    /// The plugins loaded for this project (never unloaded).
    pub loaded_plugins: Vec<crate::plugin::Plugin>,
    /// Every plugin function by name.
    pub plugin_functions: IndexMap<String, crate::plugin::PluginFunction>,
    /// `[project] from/to`: the range `kpi run` uses when no `--from/--to` is given.
    pub default_range: (Option<String>, Option<String>),
}

const PROJECT_KEYS: &[&str] = &[
    "name",
    "timezone",
    "week_start",
    "definitions",
    "plugins",
    "builtins",
    "from",
    "to",
];
const TABLE_KEYS: &[&str] = &[
    "source",
    "time",
    "interval",
    "columns",
    "types",
    "dimensions",
    "relations",
    "delimiter",
    "null",
];

struct Loader<'a> {
    src: kpi_dsl::ast::SrcId,
    diags: &'a mut Vec<Diagnostic>,
    /// Where each relation and dimension is written (`messages.relations.ticket`),
    /// for the checks that run once every table is known.
    spans: std::collections::HashMap<String, std::ops::Range<usize>>,
}

impl Loader<'_> {
    fn err(&mut self, span: std::ops::Range<usize>, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::at(codes::PROJECT, span_of(self.src, span), msg)
    }
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
    fn string(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Option<String> {
        match v.get_ref().as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                let d = self.err(v.span(), format!("{what} must be a string"));
                self.push(d);
                None
            }
        }
    }
    fn strings(&mut self, v: &Spanned<DeValue<'_>>, what: &str) -> Vec<String> {
        match v.get_ref() {
            DeValue::String(s) => vec![s.to_string()],
            DeValue::Array(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            _ => {
                let d = self.err(
                    v.span(),
                    format!("{what} must be a string or a list of strings"),
                );
                self.push(d);
                Vec::new()
            }
        }
    }
    fn table<'t, 'i>(
        &mut self,
        v: &'t Spanned<DeValue<'i>>,
        what: &str,
    ) -> Option<&'t DeTable<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            let d = self.err(v.span(), format!("{what} must be a table"));
            self.push(d);
        }
        t
    }
    fn unknown_key(
        &mut self,
        key: &Spanned<toml::de::DeString<'_>>,
        section: &str,
        known: &[&str],
    ) {
        let name = key.get_ref().as_ref();
        let mut d = self.err(key.span(), format!("unknown key `{name}` in [{section}]"));
        d = d.hint(
            did_you_mean(name, known.iter().copied())
                .unwrap_or_else(|| format!("[{section}] takes {}", known.join(", "))),
        );
        self.push(d);
    }
}

impl Project {
    /// Loads the project in `dir` (which holds `kpi.toml`).
    pub fn load(dir: &Path) -> Result<Project, Error> {
        let file = dir.join("kpi.toml");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                let d = Diagnostic::new(codes::USAGE, format!("no kpi.toml in {}", dir.display()))
                    .hint("--project names the directory that holds kpi.toml");
                Error::new(crate::ErrorKind::Usage, d)
            } else {
                Error::usage(format!("cannot read {}: {e}", file.display()))
            }
        })?;
        Self::from_toml(dir, &file.display().to_string(), &text)
    }

    /// Like [`Project::load`], with plugins named on the command line
    /// (`--plugin PATH`) besides those of the project file.
    pub fn load_with_plugins(dir: &Path, plugins: &[PathBuf]) -> Result<Project, Error> {
        PLUGIN_ARGS.with(|p| *p.borrow_mut() = plugins.to_vec());
        let result = Self::load(dir);
        PLUGIN_ARGS.with(|p| p.borrow_mut().clear());
        result
    }

    /// Builds a project from the text of a project file; relative paths are
    /// taken from `root`.
    pub fn from_toml(root: &Path, label: &str, text: &str) -> Result<Project, Error> {
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let src = sources.add_file(label, text);
        let doc = match parse_toml(text, src) {
            Ok(d) => d,
            Err(d) => return Err(Error::definitions(vec![d], sources)),
        };
        let mut l = Loader {
            src,
            diags: &mut diags,
            spans: Default::default(),
        };
        let mut tz = Tz::UTC;
        let mut week_start = Weekday::Mon;
        let mut def_dirs: Vec<String> = Vec::new();
        let mut def_dirs_span = None;
        let mut plugins = Vec::new();
        let mut builtins = true;
        let mut default_range: (Option<String>, Option<String>) = (None, None);
        let mut schema = Schema {
            tables: canonical::tables(),
            params: IndexMap::new(),
            functions: IndexMap::new(),
        };
        let mut tables = IndexMap::new();
        let mut project_params: Vec<(String, Spanned<DeValue<'_>>, std::ops::Range<usize>)> =
            Vec::new();

        for (key, value) in doc.get_ref().iter() {
            match key.get_ref().as_ref() {
                "project" => {
                    let Some(t) = l.table(value, "[project]") else {
                        continue;
                    };
                    for (k, v) in t.iter() {
                        match k.get_ref().as_ref() {
                            "name" => {
                                l.string(v, "name");
                            }
                            "timezone" => {
                                if let Some(s) = l.string(v, "timezone") {
                                    match s.parse::<Tz>() {
                                        Ok(z) => tz = z,
                                        Err(_) => {
                                            let d = l.err(v.span(), format!("unknown time zone `{s}`")).hint(
                                                did_you_mean(&s, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
                                                    .unwrap_or("use an IANA name such as \"Europe/Berlin\"".into()),
                                            );
                                            l.push(d);
                                        }
                                    }
                                }
                            }
                            "week_start" => {
                                if let Some(s) = l.string(v, "week_start") {
                                    match s.parse::<Weekday>() {
                                        Ok(w) => week_start = w,
                                        Err(_) => {
                                            let d = l
                                                .err(v.span(), format!("`{s}` is not a weekday"))
                                                .hint("write \"monday\" or \"sunday\"");
                                            l.push(d);
                                        }
                                    }
                                }
                            }
                            "definitions" => {
                                def_dirs = l.strings(v, "definitions");
                                def_dirs_span = Some(span_of(src, v.span()));
                            }
                            "plugins" => {
                                plugins = l
                                    .strings(v, "plugins")
                                    .into_iter()
                                    .map(|p| root.join(p))
                                    .collect()
                            }
                            key @ ("from" | "to") => {
                                if let Some(s) = l.string(v, key) {
                                    match crate::time::parse_bound(&s, Tz::UTC) {
                                        Ok(_) if key == "from" => default_range.0 = Some(s),
                                        Ok(_) => default_range.1 = Some(s),
                                        Err(e) => {
                                            let d = l.err(v.span(), format!("{key}: {e}"));
                                            l.push(d);
                                        }
                                    }
                                }
                            }
                            "builtins" => match v.get_ref().as_bool() {
                                Some(b) => builtins = b,
                                None => {
                                    let d = l.err(v.span(), "builtins must be true or false");
                                    l.push(d);
                                }
                            },
                            _ => l.unknown_key(k, "project", PROJECT_KEYS),
                        }
                    }
                }
                "params" => {
                    let Some(t) = l.table(value, "[params]") else {
                        continue;
                    };
                    for (k, v) in t.iter() {
                        project_params.push((k.get_ref().to_string(), v.clone(), k.span()));
                    }
                }
                "tables" => {
                    let Some(t) = l.table(value, "[tables]") else {
                        continue;
                    };
                    for (name, body) in t.iter() {
                        if let Some((ts, source)) = load_table(&mut l, root, name, body, &schema) {
                            schema.tables.insert(name.get_ref().to_string(), ts);
                            tables.insert(name.get_ref().to_string(), source);
                        }
                    }
                }
                _ => l.unknown_key(key, "the project file", &["project", "params", "tables"]),
            }
        }
        check_table_references(&mut l, &schema, &tables);

        // Plugins: loaded once, checked, their functions registered before
        // any definition is checked.
        let mut all_plugins: Vec<PathBuf> = plugins.clone();
        all_plugins.extend(PLUGIN_ARGS.with(|p| p.borrow().clone()));
        let mut loaded_plugins = Vec::new();
        let mut plugin_functions: IndexMap<String, crate::plugin::PluginFunction> = IndexMap::new();
        for path in &all_plugins {
            match crate::plugin::load(path) {
                Ok(p)
                    if loaded_plugins
                        .iter()
                        .any(|q: &crate::plugin::Plugin| q.name == p.name) =>
                {
                    let first = loaded_path(&loaded_plugins, &p.name);
                    diags.push(
                        Diagnostic::new(
                            codes::PLUGIN,
                            format!(
                                "plugin {} ({}) is already loaded from {first}",
                                path.display(),
                                p.name
                            ),
                        )
                        .hint("name each plugin once, in kpi.toml or with --plugin"),
                    );
                }
                Ok(p) => {
                    for f in &p.functions {
                        let taken = if kpi_dsl::functions::lookup(&f.name).is_some()
                            || matches!(f.name.as_str(), "prev" | "next")
                        {
                            Some("a built-in function".to_string())
                        } else if kpi_dsl::ast::AggFunc::from_name(&f.name).is_some() {
                            Some("a built-in aggregate".to_string())
                        } else {
                            plugin_functions.get(&f.name).map(|o| {
                                format!(
                                    "a function of plugin `{}` ({})",
                                    o.plugin,
                                    loaded_path(&loaded_plugins, &o.plugin)
                                )
                            })
                        };
                        if let Some(what) = taken {
                            diags.push(
                                Diagnostic::new(codes::PLUGIN, format!("plugin {} ({}) declares `{}`, which is already {what}", path.display(), p.name, f.name))
                                    .hint("rename the function in the plugin, or load only one of the two plugins"),
                            );
                            continue;
                        }
                        schema.functions.insert(
                            f.name.clone(),
                            kpi_dsl::schema::ExternalFunction {
                                name: f.name.clone(),
                                args: f
                                    .args
                                    .iter()
                                    .map(|t| crate::plugin::language_type(*t))
                                    .collect(),
                                returns: crate::plugin::language_type(f.returns),
                                aggregate: f.kind == kpi_plugin_api::FunctionKind::Aggregate,
                                doc: f.doc.clone(),
                                plugin: p.name.clone(),
                            },
                        );
                        plugin_functions.insert(f.name.clone(), f.clone());
                    }
                    loaded_plugins.push(p);
                }
                Err(msg) => diags.push(Diagnostic::new(codes::PLUGIN, msg)),
            }
        }

        // Definitions may call the plugins' functions: with a plugin refused,
        // checking them would only repeat the refusal as unknown functions.
        if diags.iter().any(|d| d.code == codes::PLUGIN) {
            return Err(Error::definitions(diags, sources));
        }

        // Definitions: built-ins first, then the plugins', then the project's own directories.
        let mut definitions = Definitions::default();
        if builtins {
            for (name, text) in BUILTINS {
                kpi_dsl::defs::load_file(
                    &format!("<builtin>/metrics.d/{name}"),
                    text,
                    &mut sources,
                    &mut definitions,
                    &mut diags,
                );
            }
        }
        for p in &loaded_plugins {
            if !p.definitions.trim().is_empty() {
                let label = format!("<plugin {}>/definitions.toml", p.name);
                kpi_dsl::defs::load_file(
                    &label,
                    &p.definitions,
                    &mut sources,
                    &mut definitions,
                    &mut diags,
                );
            }
        }
        for dir in &def_dirs {
            let path = root.join(dir);
            let mut files: Vec<PathBuf> = match std::fs::read_dir(&path) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) => {
                    let mut d = Diagnostic::new(
                        codes::PROJECT,
                        if e.kind() == std::io::ErrorKind::NotFound {
                            format!("definitions directory {} does not exist", path.display())
                        } else {
                            format!("cannot read definitions directory {}: {e}", path.display())
                        },
                    );
                    if let Some(span) = def_dirs_span {
                        d = d.label(span, "listed here");
                    }
                    diags.push(d);
                    continue;
                }
            };
            files.sort();
            for f in files {
                match std::fs::read_to_string(&f) {
                    Ok(text) => {
                        let label = f.strip_prefix(root).unwrap_or(&f).display().to_string();
                        kpi_dsl::defs::load_file(
                            &label,
                            &text,
                            &mut sources,
                            &mut definitions,
                            &mut diags,
                        );
                    }
                    Err(e) => diags.push(Diagnostic::new(
                        codes::PROJECT,
                        format!("cannot read {}: {e}", f.display()),
                    )),
                }
            }
        }

        // Params: definition defaults, then the project's values (same type).
        for (name, p) in &definitions.params {
            schema.params.insert(name.clone(), p.value.clone());
        }
        for (name, v, kspan) in project_params {
            match param_value(&v, src) {
                Ok(value) => match schema.params.get(&name) {
                    Some(old) if !same_shape(old, &value) => diags.push(
                        Diagnostic::at(
                            codes::PROJECT,
                            span_of(src, v.span()),
                            format!("parameter `{name}` must be a {} like its default", old.ty()),
                        )
                        .label(span_of(src, kspan), ""),
                    ),
                    Some(ParamValue::Map(old)) => {
                        // A map override may give only some keys.
                        let mut merged = old.clone();
                        if let ParamValue::Map(new) = value {
                            merged.extend(new);
                        }
                        schema.params.insert(name, ParamValue::Map(merged));
                    }
                    _ => {
                        schema.params.insert(name, value);
                    }
                },
                // A bad value in kpi.toml is a project-file error.
                Err(d) => diags.push(Diagnostic {
                    code: codes::PROJECT,
                    ..d
                }),
            }
        }

        let checked = kpi_dsl::check(&definitions, &schema);
        diags.extend(checked.diagnostics.iter().cloned());
        if !diags.is_empty() {
            return Err(Error::definitions(diags, sources));
        }
        Ok(Project {
            root: root.to_path_buf(),
            file: Some(PathBuf::from(label)),
            calendar: Calendar::new(tz, week_start),
            schema,
            tables,
            sources,
            definitions,
            checked,
            plugins: all_plugins,
            loaded_plugins,
            plugin_functions,
            default_range,
        })
    }

    /// Overrides a parameter for this run: `name=value`, or `name.key=value`
    /// for one entry of a parameter table. The value keeps the parameter's type.
    pub fn set_param(&mut self, assignment: &str) -> Result<(), Error> {
        let (name, text) = assignment.split_once('=').ok_or_else(|| {
            Error::usage(format!("--param takes name=value, found `{assignment}`"))
        })?;
        let (name, key) = match name.split_once('.') {
            Some((n, k)) => (n.trim(), Some(k.trim())),
            None => (name.trim(), None),
        };
        let Some(current) = self.schema.params.get_mut(name) else {
            let hint = did_you_mean(name, self.schema.params.keys().map(String::as_str))
                .unwrap_or_default();
            return Err(Error::usage(
                format!("unknown parameter `{name}` {hint}")
                    .trim()
                    .to_string(),
            ));
        };
        match (current, key) {
            (ParamValue::Map(m), Some(k)) => {
                let like = m.values().next().cloned();
                let v = ParamValue::parse_like(text, like.as_ref())
                    .map_err(|e| Error::usage(format!("--param {name}.{k}: {e}")))?;
                m.insert(k.to_string(), v);
            }
            (ParamValue::Map(_), None) => {
                return Err(Error::usage(format!(
                    "`{name}` is a table; set one entry with --param {name}.KEY=VALUE"
                )))
            }
            (_, Some(_)) => return Err(Error::usage(format!("`{name}` is not a table"))),
            (cur, None) => {
                *cur = ParamValue::parse_like(text, Some(cur))
                    .map_err(|e| Error::usage(format!("--param {name}: {e}")))?;
            }
        }
        Ok(())
    }
}

thread_local! {
    /// Plugins named on the command line, for the project being loaded.
    static PLUGIN_ARGS: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn loaded_path(loaded: &[crate::plugin::Plugin], name: &str) -> String {
    loaded
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.path.display().to_string())
        .unwrap_or_default()
}

fn same_shape(a: &ParamValue, b: &ParamValue) -> bool {
    match (a, b) {
        (ParamValue::Float(_), ParamValue::Int(_)) => true,
        (ParamValue::Map(x), ParamValue::Map(y)) => match (x.values().next(), y.values().next()) {
            (Some(p), Some(q)) => same_shape(p, q),
            _ => true,
        },
        _ => a.ty() == b.ty(),
    }
}

fn load_table(
    l: &mut Loader<'_>,
    root: &Path,
    name: &Spanned<toml::de::DeString<'_>>,
    body: &Spanned<DeValue<'_>>,
    schema: &Schema,
) -> Option<(TableSchema, TableSource)> {
    let tname = name.get_ref().to_string();
    let t = l.table(body, &format!("[tables.{tname}]"))?;
    let canonical = schema.tables.get(&tname).cloned();
    let is_canonical = canonical.is_some();
    let mut ts = canonical.unwrap_or_default();
    let mut source = TableSource {
        delimiter: b',',
        null_tokens: vec![String::new()],
        ..Default::default()
    };
    let mut has_source = false;
    let before = l.diags.len();
    let section = format!("tables.{tname}");
    // Types first: other keys refer to columns.
    if let Some((_, v)) = t.iter().find(|(k, _)| k.get_ref() == "types") {
        if let Some(types) = l.table(v, &format!("[{section}.types]")) {
            for (c, ty) in types.iter() {
                if let Some(s) = l.string(ty, "a column type") {
                    match Type::from_name(s.trim_end_matches('?')) {
                        Some(t) => {
                            ts.columns.insert(c.get_ref().to_string(), t);
                            if !s.ends_with('?') {
                                source.required.insert(c.get_ref().to_string());
                            }
                        }
                        None => {
                            let d = l
                                .err(ty.span(), format!("unknown column type `{s}`"))
                                .hint("types are int, float, bool, string, timestamp, duration (add `?` for nullable)");
                            l.push(d);
                        }
                    }
                }
            }
        }
    }
    if is_canonical {
        for c in ts.columns.keys() {
            if !canonical::is_nullable(&tname, c)
                && canonical::tables()[&tname].columns.contains_key(c)
            {
                source.required.insert(c.clone());
            }
        }
    }
    let column_check = |l: &mut Loader<'_>,
                        ts: &TableSchema,
                        c: &str,
                        span: std::ops::Range<usize>,
                        what: &str| {
        if !ts.columns.contains_key(c) {
            let d = l
                .err(span, format!("{what}: table `{tname}` has no column `{c}`"))
                .hint(
                    did_you_mean(c, ts.columns.keys().map(String::as_str))
                        .unwrap_or_else(|| format!("declare it in [{section}.types]")),
                );
            l.push(d);
        }
    };
    for (k, v) in t.iter() {
        match k.get_ref().as_ref() {
            "types" => {}
            "source" => {
                has_source = true;
                for pattern in l.strings(v, "source") {
                    match expand(root, &pattern) {
                        Ok(files) if files.is_empty() => {
                            let d = l
                                .err(v.span(), format!("no file matches `{pattern}`"))
                                .hint(
                                    "source paths are relative to the directory holding kpi.toml",
                                );
                            l.push(d);
                        }
                        Ok(files) => source.files.extend(files),
                        Err(e) => {
                            let d = l.err(v.span(), e);
                            l.push(d);
                        }
                    }
                }
            }
            "time" => {
                if let Some(c) = l.string(v, "time") {
                    column_check(l, &ts, &c, v.span(), "time");
                    ts.time = Some(c);
                }
            }
            "interval" => {
                let cols = l.strings(v, "interval");
                if let [a, b] = cols.as_slice() {
                    column_check(l, &ts, a, v.span(), "interval");
                    column_check(l, &ts, b, v.span(), "interval");
                    ts.interval = Some((a.clone(), b.clone()));
                } else {
                    let d = l.err(v.span(), "interval takes two columns: [\"from\", \"to\"]");
                    l.push(d);
                }
            }
            "delimiter" => {
                if let Some(s) = l.string(v, "delimiter") {
                    match s.as_bytes() {
                        [b] if s.is_ascii() => source.delimiter = *b,
                        _ => {
                            let d = l.err(v.span(), "delimiter must be one ASCII character");
                            l.push(d);
                        }
                    }
                }
            }
            "null" => source.null_tokens = l.strings(v, "null"),
            "columns" => {
                let Some(map) = l.table(v, &format!("[{section}.columns]")) else {
                    continue;
                };
                for (c, s) in map.iter() {
                    column_check(l, &ts, c.get_ref(), c.span(), "columns");
                    if let Some(s) = l.string(s, "a source column name") {
                        source.columns.insert(c.get_ref().to_string(), s);
                    }
                }
            }
            "dimensions" => {
                let Some(map) = l.table(v, &format!("[{section}.dimensions]")) else {
                    continue;
                };
                for (d, s) in map.iter() {
                    if let Some(text) = l.string(s, "a dimension's column") {
                        l.spans
                            .insert(format!("{tname}.dimensions.{}", d.get_ref()), s.span());
                        ts.dimensions.insert(d.get_ref().to_string(), text);
                    }
                }
            }
            "relations" => {
                let Some(map) = l.table(v, &format!("[{section}.relations]")) else {
                    continue;
                };
                for (r, s) in map.iter() {
                    let Some(text) = l.string(s, "a relation") else {
                        continue;
                    };
                    match parse_relation(&text) {
                        Some(rel) => {
                            column_check(l, &ts, &rel.column, s.span(), "relation");
                            l.spans
                                .insert(format!("{tname}.relations.{}", r.get_ref()), s.span());
                            ts.relations.insert(r.get_ref().to_string(), rel);
                        }
                        None => {
                            let d = l
                                .err(s.span(), format!("cannot read relation `{text}`"))
                                .hint("write \"column -> table.key\"");
                            l.push(d);
                        }
                    }
                }
            }
            _ => l.unknown_key(k, &section, TABLE_KEYS),
        }
    }
    if !has_source {
        let d = l
            .err(name.span(), format!("table `{tname}` has no source"))
            .hint("add source = \"data/file.csv\"");
        l.push(d);
    }
    if !is_canonical && ts.columns.is_empty() {
        let d = l
            .err(
                name.span(),
                format!("`{tname}` is not a canonical table, so its columns must be declared"),
            )
            .hint(format!(
                "add [{section}.types] with column = \"type\" lines"
            ));
        l.push(d);
    }
    (l.diags.len() == before).then_some((ts, source))
}

/// Relations and dimensions name other tables and columns: check them once
/// every table is known.
fn check_table_references(
    l: &mut Loader<'_>,
    schema: &Schema,
    tables: &IndexMap<String, TableSource>,
) {
    for tname in tables.keys() {
        let ts = &schema.tables[tname];
        // Canonical relations and dimensions are not written in the file.
        let located = |l: &mut Loader<'_>, key: String, message: String| match l.spans.get(&key) {
            Some(span) => l.err(span.clone(), message),
            None => Diagnostic::new(codes::PROJECT, message),
        };
        for (rname, r) in &ts.relations {
            let key = format!("{tname}.relations.{rname}");
            match schema.tables.get(&r.table) {
                None => {
                    let mut d = located(
                        l,
                        key,
                        format!(
                            "relation `{tname}.{rname}` points at unknown table `{}`",
                            r.table
                        ),
                    );
                    if let Some(h) =
                        did_you_mean(&r.table, schema.tables.keys().map(String::as_str))
                    {
                        d = d.hint(h);
                    }
                    l.push(d);
                }
                Some(p) if !p.columns.contains_key(&r.key) => {
                    let mut d = located(
                        l,
                        key,
                        format!(
                            "relation `{tname}.{rname}`: table `{}` has no column `{}`",
                            r.table, r.key
                        ),
                    );
                    if let Some(h) = did_you_mean(&r.key, p.columns.keys().map(String::as_str)) {
                        d = d.hint(h);
                    }
                    l.push(d);
                }
                _ => {}
            }
        }
        for (dim, path) in &ts.dimensions {
            if let Err(e) = resolve_path(schema, tname, path) {
                let key = format!("{tname}.dimensions.{dim}");
                let d = located(l, key, format!("dimension `{dim}` of `{tname}`: {e}"));
                l.push(d);
            }
        }
    }
}

/// Follows `rel.rel.column` from `table`; returns the relation path and column.
pub fn resolve_path(
    schema: &Schema,
    table: &str,
    path: &str,
) -> Result<(Vec<String>, String), String> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let column = parts.pop().unwrap_or_default().to_string();
    let mut t = table.to_string();
    for rel in &parts {
        let r = schema
            .tables
            .get(&t)
            .and_then(|s| s.relations.get(*rel))
            .ok_or_else(|| format!("table `{t}` has no relation `{rel}`"))?;
        t = r.table.clone();
    }
    if !schema
        .tables
        .get(&t)
        .is_some_and(|s| s.columns.contains_key(&column))
    {
        return Err(format!("table `{t}` has no column `{column}`"));
    }
    Ok((parts.iter().map(|s| s.to_string()).collect(), column))
}

fn parse_relation(text: &str) -> Option<Relation> {
    let (col, target) = text.split_once("->")?;
    let (table, key) = target.trim().split_once('.')?;
    let (col, table, key) = (col.trim(), table.trim(), key.trim());
    if col.is_empty() || table.is_empty() || key.is_empty() {
        return None;
    }
    Some(Relation {
        column: col.to_string(),
        table: table.to_string(),
        key: key.to_string(),
    })
}

/// A source path or glob, relative to the project root.
fn expand(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = root.join(pattern);
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![full]);
    }
    let text = full.to_str().ok_or("source path is not UTF-8")?;
    let paths = glob::glob(text).map_err(|e| format!("bad glob `{pattern}`: {e}"))?;
    let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
    files.sort();
    Ok(files)
}
