//! Parquet sources: `kpi generate --format parquet` gives the same `kpi run`
//! output as the CSV generation of the same seed, and small files written
//! here with the parquet writer check nulls, rejects, time zones and errors
//! by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ::parquet::data_type::{BoolType, ByteArrayType, DoubleType, Int32Type, Int64Type};
use ::parquet::file::properties::WriterProperties;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::parser::parse_message_type;
use kpi_dsl::Type;
use kpi_engine::column::{Data, Table};
use kpi_engine::read::{read_table, ColumnSpec, ReadOptions};
use kpi_engine::RejectKind;

use crate::common::kpi_in;

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kpi-parquet-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn generated_parquet_runs_like_the_csv() {
    let d = Scratch::new("gen");
    let dir = |f: &str| d.0.join(f).to_str().unwrap().to_string();
    for (name, format) in [("csv", "csv"), ("pq", "parquet")] {
        let out = kpi_in(
            &d.0,
            &[
                "generate",
                "--out",
                &dir(name),
                "--tickets",
                "2000",
                "--seed",
                "7",
                "--format",
                format,
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let toml = std::fs::read_to_string(d.0.join("pq/kpi.toml")).unwrap();
    assert!(toml.contains("source = \"data/tickets.parquet\""), "{toml}");
    assert!(!toml.contains(".csv"), "{toml}");
    assert!(d.0.join("pq/data/messages.parquet").is_file());
    for by in [&[][..], &["--by", "agent"][..]] {
        let run = |p: &str| {
            let mut args = vec!["run", "--project", p, "--format", "csv"];
            args.extend(by);
            let out = kpi_in(&d.0, &args);
            assert_eq!(out.code, 0, "{}", out.stderr);
            out
        };
        let (csv, pq) = (run(&dir("csv")), run(&dir("pq")));
        assert!(csv.stdout.lines().count() > 100, "{}", csv.stdout);
        assert_eq!(csv.stdout, pq.stdout, "by {by:?}");
        // Every row of every file is accepted.
        assert!(pq
            .stderr
            .contains("tickets.parquet (tickets): 2000 read, 2000 accepted, 0 rejected"));
    }
}

/// A column of a test file: values per row, `None` for null.
enum Col<'a> {
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<&'a str>>),
    /// Bytes that need not be UTF-8.
    Raw(Vec<Option<Vec<u8>>>),
}

/// Writes `cols` (in schema order) as one Parquet file; `group` rows per
/// row group.
fn write(path: &Path, schema: &str, cols: &[Col<'_>], group: usize) {
    write_with(
        path,
        schema,
        cols,
        group,
        WriterProperties::builder().build(),
    );
}

/// [`write`] with writer properties (encodings, page sizes).
fn write_with(path: &Path, schema: &str, cols: &[Col<'_>], group: usize, props: WriterProperties) {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let optional: Vec<bool> = schema
        .get_fields()
        .iter()
        .map(|f| f.is_optional())
        .collect();
    let props = Arc::new(props);
    let mut w =
        SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    let rows = match &cols[0] {
        Col::I64(v) => v.len(),
        Col::I32(v) => v.len(),
        Col::F64(v) => v.len(),
        Col::Bool(v) => v.len(),
        Col::Str(v) => v.len(),
        Col::Raw(v) => v.len(),
    };
    let mut start = 0;
    while start < rows {
        let end = (start + group).min(rows);
        let mut rg = w.next_row_group().unwrap();
        for (c, opt) in cols.iter().zip(&optional) {
            let mut cw = rg.next_column().unwrap().unwrap();
            fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
                let defs = v.iter().map(|x| x.is_some() as i16).collect();
                (v.iter().flatten().cloned().collect(), defs)
            }
            macro_rules! put {
                ($ty:ty, $v:expr) => {{
                    let (vals, defs) = split(&$v[start..end]);
                    let defs = opt.then_some(&defs[..]);
                    cw.typed::<$ty>().write_batch(&vals, defs, None).unwrap();
                }};
            }
            match c {
                Col::I64(v) => put!(Int64Type, v),
                Col::I32(v) => put!(Int32Type, v),
                Col::F64(v) => put!(DoubleType, v),
                Col::Bool(v) => put!(BoolType, v),
                Col::Str(v) => {
                    let v: Vec<Option<::parquet::data_type::ByteArray>> =
                        v.iter().map(|s| s.map(|s| s.into())).collect();
                    put!(ByteArrayType, v)
                }
                Col::Raw(v) => {
                    let v: Vec<Option<::parquet::data_type::ByteArray>> =
                        v.iter().map(|s| s.clone().map(|s| s.into())).collect();
                    put!(ByteArrayType, v)
                }
            }
            cw.close().unwrap();
        }
        rg.close().unwrap();
        start = end;
    }
    w.close().unwrap();
}

fn spec(name: &str, ty: Type) -> ColumnSpec {
    ColumnSpec::new(name, ty)
}

fn ts(s: &str) -> i64 {
    kpi_engine::time::parse_timestamp(s, chrono_tz::UTC).unwrap()
}

/// Local wall time as micros since the epoch of the naive time.
fn wall(s: &str) -> i64 {
    ts(&format!("{s}Z"))
}

fn ints(t: &Table, c: &str) -> Vec<Option<i64>> {
    let col = &t.columns[c];
    let v: Vec<i64> = match &col.data {
        Data::Int(v) | Data::Timestamp(v) => v.clone(),
        Data::Duration(v) => v.iter().map(|x| *x as i64).collect(),
        d => panic!("{c} is {:?}", d.ty()),
    };
    (0..col.len())
        .map(|i| col.is_valid(i).then_some(v[i]))
        .collect()
}

fn strs(t: &Table, c: &str) -> Vec<Option<String>> {
    let col = &t.columns[c];
    let Data::Str(s) = &col.data else {
        panic!("{c} is not a string column")
    };
    (0..col.len())
        .map(|i| col.is_valid(i).then(|| s.get(i).to_string()))
        .collect()
}

const SCHEMA: &str = "message t {
    required binary id (STRING);
    optional int64 at (TIMESTAMP(MICROS,false));
    optional int64 at_utc (TIMESTAMP(MILLIS,true));
    optional binary at_text (STRING);
    optional int64 wait;
    optional double amt;
    optional boolean ok;
    optional int32 n;
    optional int32 req;
}";

fn fixture(path: &Path, group: usize) {
    write(
        path,
        SCHEMA,
        &[
            Col::Str(vec![Some("a"), Some("b"), Some("c"), Some("d"), Some("e")]),
            Col::I64(vec![
                // The autumn overlap in New York: the first occurrence.
                Some(wall("2026-11-01T01:30:00")),
                None,
                Some(wall("2026-03-01T12:00:00")),
                Some(wall("2026-03-01T12:30:00")),
                Some(wall("2026-11-01T01:45:00")),
            ]),
            Col::I64(vec![
                Some(ts("2026-03-01T10:00:00.250Z") / 1000),
                None,
                None,
                None,
                Some(0),
            ]),
            Col::Str(vec![
                // The spring gap: shifted forward by the gap, as in CSV.
                Some("2026-03-08 02:30"),
                None,
                Some("not a time"),
                None,
                // A null token.
                Some(""),
            ]),
            Col::I64(vec![Some(90), None, Some(1), Some(2), Some(-3)]),
            Col::F64(vec![Some(2.5), None, Some(1.0), Some(f64::NAN), Some(-0.5)]),
            Col::Bool(vec![Some(true), None, Some(false), Some(true), Some(false)]),
            Col::I32(vec![Some(7), None, Some(1), Some(2), Some(3)]),
            Col::I32(vec![Some(1), Some(1), Some(1), None, Some(1)]),
        ],
        group,
    );
}

fn fixture_specs() -> Vec<ColumnSpec> {
    vec![
        spec("id", Type::String),
        spec("at", Type::Timestamp),
        spec("at_utc", Type::Timestamp),
        spec("at_text", Type::Timestamp),
        spec("wait", Type::Duration),
        spec("n", Type::Int),
        spec("ok", Type::Bool),
        ColumnSpec {
            nullable: false,
            ..spec("req", Type::Int)
        },
    ]
}

#[test]
fn nulls_rejects_and_local_times_by_hand() {
    let d = Scratch::new("fixture");
    let opts = ReadOptions {
        tz: chrono_tz::America::New_York,
        ..Default::default()
    };
    // One row group, and one row per group: the same result.
    for group in [100, 1] {
        let p = d.0.join(format!("t{group}.parquet"));
        fixture(&p, group);
        let l = read_table("t", &p, &fixture_specs(), &opts).unwrap();
        assert_eq!(
            (l.account.read, l.account.accepted, l.account.rejected),
            (5, 3, 2)
        );
        let got: Vec<(u64, Option<&str>, RejectKind, &str)> = l
            .rejects
            .iter()
            .map(|r| (r.line, r.column.as_deref(), r.kind, r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, Some("at_text"), RejectKind::InvalidValue, "not a time"),
                (4, Some("req"), RejectKind::MissingValue, ""),
            ]
        );
        assert_eq!(
            l.rejects[0].to_string(),
            format!(
                "{}:3: column `at_text`: expected a timestamp (RFC 3339 or YYYY-MM-DD[ HH:MM[:SS]]), found \"not a time\"",
                p.display()
            )
        );
        let t = &l.table;
        assert_eq!(t.len, 3);
        assert_eq!(
            strs(t, "id"),
            [Some("a".into()), Some("b".into()), Some("e".into())]
        );
        assert_eq!(
            ints(t, "at"),
            [
                Some(ts("2026-11-01T05:30:00Z")),
                None,
                Some(ts("2026-11-01T05:45:00Z"))
            ]
        );
        assert_eq!(
            ints(t, "at_utc"),
            [Some(ts("2026-03-01T10:00:00.250Z")), None, Some(0)]
        );
        assert_eq!(
            ints(t, "at_text"),
            [Some(ts("2026-03-08T07:30:00Z")), None, None]
        );
        assert_eq!(ints(t, "wait"), [Some(90_000_000), None, Some(-3_000_000)]);
        assert_eq!(ints(t, "n"), [Some(7), None, Some(3)]);
        let ok = &t.columns["ok"];
        assert_eq!(ok.valid, Some(vec![true, false, true]));
        // No string of a rejected row is kept.
        let Data::Str(ids) = &t.columns["id"].data else {
            unreachable!()
        };
        assert_eq!(ids.dict.len(), 3);
    }
    // A NaN is a reject for a float column (row 4, before `req`, which
    // comes later in the file... and the leftmost problem of a row wins).
    let p = d.0.join("t100.parquet");
    let mut specs = fixture_specs();
    specs.push(spec("amt", Type::Float));
    let l = read_table("t", &p, &specs, &opts).unwrap();
    let got: Vec<(u64, Option<&str>)> = l
        .rejects
        .iter()
        .map(|r| (r.line, r.column.as_deref()))
        .collect();
    assert_eq!(got, [(3, Some("at_text")), (4, Some("amt"))]);
    assert_eq!(l.rejects[1].message, "expected a float, found NaN");
    // Local times read in another zone move with it.
    let l = read_table(
        "t",
        &p,
        &[spec("at", Type::Timestamp)],
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(ints(&l.table, "at")[0], Some(ts("2026-11-01T01:30:00Z")));
}

#[test]
fn file_errors_name_the_file_and_column() {
    let d = Scratch::new("errors");
    let p = d.0.join("t.parquet");
    fixture(&p, 100);
    let opts = ReadOptions::default();
    // A missing column, with a hint.
    let e = read_table(
        "tickets",
        &p,
        &[ColumnSpec {
            source: "waitt".into(),
            ..spec("handle_time", Type::Duration)
        }],
        &opts,
    )
    .unwrap_err();
    assert_eq!(e.column.as_deref(), Some("waitt"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: column `waitt`: not found (mapped to `handle_time`); the file's columns are: id, at, at_utc, at_text, wait, amt, ok, n, req\n  hint: did you mean `wait`? map it with `handle_time = \"wait\"` under [tables.tickets.columns]",
            p.display()
        )
    );
    // A type the column cannot be read as.
    let e = read_table("t", &p, &[spec("at", Type::Bool)], &opts).unwrap_err();
    assert_eq!(
        e.message,
        "the file holds INT64 TIMESTAMP(µs, local), which cannot be read as bool"
    );
    // Not Parquet, truncated, or damaged: an error, never a panic.
    let bytes = std::fs::read(&p).unwrap();
    let bad = d.0.join("bad.parquet");
    std::fs::write(&bad, "id,at\n1,2026-01-01\n").unwrap();
    let e = read_table("t", &bad, &[spec("id", Type::String)], &opts).unwrap_err();
    assert!(
        e.message.starts_with("not a readable Parquet file: "),
        "{e}"
    );
    assert_eq!(e.file, bad);
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    assert!(read_table("t", &bad, &[spec("id", Type::String)], &opts).is_err());
    for i in 4..bytes.len() - 8 {
        let mut b = bytes.clone();
        b[i] ^= 0xff;
        std::fs::write(&bad, &b).unwrap();
        // (The parquet crate panics on a few of these; the reader turns
        // that into an error.)
        if let Ok(l) = read_table("t", &bad, &fixture_specs(), &opts) {
            assert_eq!(l.account.read, l.account.accepted + l.account.rejected);
        }
    }
    let e = read_table("t", &d.0.join("none.parquet"), &[], &opts).unwrap_err();
    assert!(e.message.starts_with("cannot open file: "), "{e}");
}

#[test]
fn a_project_reads_a_parquet_source() {
    let d = Scratch::new("project");
    std::fs::create_dir_all(d.0.join("data")).unwrap();
    write(
        &d.0.join("data/tickets.parquet"),
        "message t {
            required binary id (STRING);
            required int64 created_at (TIMESTAMP(MICROS,false));
            optional int64 solved_at (TIMESTAMP(MICROS,false));
            optional binary agent_id (STRING);
        }",
        &[
            Col::Str(vec![Some("t1"), Some("t2"), Some("t3")]),
            Col::I64(vec![
                Some(wall("2026-01-05T09:00:00")),
                Some(wall("2026-01-06T09:00:00")),
                Some(wall("2026-02-02T09:00:00")),
            ]),
            Col::I64(vec![
                Some(wall("2026-01-05T10:00:00")),
                None,
                Some(wall("2026-02-03T09:00:00")),
            ]),
            Col::Str(vec![Some("ann"), Some("bob"), Some("ann")]),
        ],
        100,
    );
    std::fs::write(
        d.0.join("kpi.toml"),
        "[project]\ntimezone = \"Europe/Paris\"\n\n[tables.tickets]\nsource = \"data/tickets.parquet\"\n",
    )
    .unwrap();
    let out = kpi_in(
        &d.0,
        &[
            "run",
            "tickets_resolved",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-01",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let values: Vec<&str> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').nth(1).unwrap_or(l))
        .collect();
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);
    assert!(out.stdout.contains("tickets_resolved"), "{}", out.stdout);
    assert!(values.iter().all(|v| *v == "1"), "{}", out.stdout);
}

/// A string column reads the same whether its chunks are dictionary-encoded
/// (read as dictionary indices), plain, dictionary-encoded falling back to
/// plain mid-chunk, in V2 data pages, plain or not, or in an encoding read
/// value by value: values, nulls, null tokens, invalid UTF-8, rejects and
/// the order of the column's dictionary.
#[test]
fn strings_read_alike_whatever_the_encoding() {
    use ::parquet::basic::Encoding;
    use ::parquet::file::properties::WriterVersion;
    const SCHEMA: &str = "message t {
        optional binary s (STRING);
        required binary u (STRING);
        optional int32 req;
        optional binary b;
    }";
    let pool = [
        "a",
        "b",
        "NA",
        "",
        "ccc",
        "é",
        "a long value, longer than the others",
    ];
    let rows = 3000;
    let mut x = 12345u64;
    let mut next = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let (mut s, mut u, mut req, mut b) = (vec![], vec![], vec![], vec![]);
    let names: Vec<String> = (0..rows).map(|i| format!("id-{i:05}")).collect();
    for name in &names {
        let k = next(9) as usize;
        s.push(pool.get(k).copied());
        u.push(Some(name.as_str()));
        req.push((next(13) != 0).then_some(1));
        b.push(match next(50) {
            0 => Some(vec![0xff, b'x']),
            1 => None,
            k => Some(pool[k as usize % pool.len()].as_bytes().to_vec()),
        });
    }
    let cols = [
        Col::Str(s.clone()),
        Col::Str(u),
        Col::I32(req.clone()),
        Col::Raw(b),
    ];
    let d = Scratch::new("encodings");
    let opts = ReadOptions {
        null_tokens: vec!["".into(), "NA".into()],
        ..Default::default()
    };
    let specs = [
        spec("s", Type::String),
        spec("u", Type::String),
        ColumnSpec {
            nullable: false,
            ..spec("req", Type::Int)
        },
        spec("b", Type::String),
    ];
    let props = [
        WriterProperties::builder().build(),
        WriterProperties::builder()
            .set_dictionary_enabled(false)
            .build(),
        WriterProperties::builder()
            .set_dictionary_page_size_limit(64)
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(100)
            .build(),
        WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(100)
            .build(),
        // Plain values in V2 data pages (levels before the values).
        WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN)
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(100)
            .build(),
        // An encoding the parquet crate decodes value by value.
        ["s", "u", "b"]
            .into_iter()
            .fold(
                WriterProperties::builder().set_dictionary_enabled(false),
                |w, c| w.set_column_encoding(c.into(), Encoding::DELTA_LENGTH_BYTE_ARRAY),
            )
            .build(),
    ];
    let mut first = None;
    for (i, props) in props.into_iter().enumerate() {
        let p = d.0.join(format!("e{i}.parquet"));
        write_with(&p, SCHEMA, &cols, 700, props);
        // The last two write the encodings they are there for.
        let encodings = {
            use ::parquet::file::reader::{FileReader, SerializedFileReader};
            let r = SerializedFileReader::new(std::fs::File::open(&p).unwrap()).unwrap();
            let e: Vec<Encoding> = r.metadata().row_group(0).column(1).encodings().collect();
            e
        };
        match i {
            4 => assert!(
                encodings.contains(&Encoding::PLAIN)
                    && !encodings.contains(&Encoding::RLE_DICTIONARY),
                "{encodings:?}"
            ),
            5 => assert!(
                encodings.contains(&Encoding::DELTA_LENGTH_BYTE_ARRAY),
                "{encodings:?}"
            ),
            _ => {}
        }
        let l = read_table("t", &p, &specs, &opts).unwrap();
        let t = &l.table;
        // By hand: the rows without a null `req` or invalid bytes.
        let kept: Vec<usize> = (0..rows)
            .filter(|&r| req[r].is_some() && !matches!(&cols[3], Col::Raw(b) if b[r].as_deref().is_some_and(|b| std::str::from_utf8(b).is_err())))
            .collect();
        let want: Vec<Option<String>> = kept
            .iter()
            .map(|&r| {
                s[r].filter(|v| !v.is_empty() && *v != "NA")
                    .map(String::from)
            })
            .collect();
        assert_eq!(strs(t, "s"), want, "encoding {i}");
        let want: Vec<Option<String>> = kept.iter().map(|&r| Some(names[r].clone())).collect();
        assert_eq!(strs(t, "u"), want, "encoding {i}");
        assert_eq!(
            l.account.rejected as usize,
            rows - kept.len(),
            "encoding {i}"
        );
        let dict = |c: &str| match &t.columns[c].data {
            Data::Str(v) => v.dict.iter().map(String::from).collect::<Vec<_>>(),
            _ => unreachable!(),
        };
        let got = (
            l.rejects
                .iter()
                .map(|r| (r.line, r.column.clone(), r.kind, r.text.clone()))
                .collect::<Vec<_>>(),
            strs(t, "b"),
            dict("s"),
            dict("b"),
        );
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(&got, f, "encoding {i}"),
        }
    }
    let (rejects, ..) = first.unwrap();
    assert!(rejects.iter().any(|r| r.2 == RejectKind::InvalidUtf8));
    assert!(rejects.iter().any(|r| r.2 == RejectKind::MissingValue));
}

#[test]
fn a_key_read_after_its_parent_is_coded_in_the_parents_dictionary() {
    use kpi_engine::read::ParentKey;
    const CHILD: &str = "message m {
        optional binary ticket_id (STRING);
        optional int32 req;
    }";
    let d = Scratch::new("follow");
    let ids: Vec<String> = (1..=8).map(|i| format!("t{i:02}")).collect();
    write(
        &d.0.join("tickets.parquet"),
        "message t { required binary id (STRING); }",
        &[Col::Str(ids.iter().map(|s| Some(s.as_str())).collect())],
        3,
    );
    let opts = ReadOptions::default();
    let tickets = read_table(
        "tickets",
        &d.0.join("tickets.parquet"),
        &[spec("id", Type::String)],
        &opts,
    )
    .unwrap();
    let Data::Str(key) = &tickets.table.columns["id"].data else {
        panic!("id is a string column");
    };
    let slot = ParentKey::default();
    slot.set(key.dict.clone()).unwrap();
    let following = ReadOptions {
        parent_keys: [("ticket_id".to_string(), slot)].into_iter().collect(),
        ..ReadOptions::default()
    };
    let specs = [
        spec("ticket_id", Type::String),
        ColumnSpec {
            nullable: false,
            ..spec("req", Type::Int)
        },
    ];
    let child = |name: &str, ids: &[Option<&str>], plain: bool| {
        let path = d.0.join(name);
        let mut props = WriterProperties::builder();
        if plain {
            props = props.set_dictionary_enabled(false);
        }
        // The sixth row is rejected (a null in a required column).
        let req = (0..ids.len()).map(|i| (i != 5).then_some(1)).collect();
        write_with(
            &path,
            CHILD,
            &[Col::Str(ids.to_vec()), Col::I32(req)],
            3,
            props.build(),
        );
        let read = |opts: &ReadOptions| read_table("messages", &path, &specs, opts).unwrap();
        let (alone, after) = (read(&opts), read(&following));
        assert_eq!(after.rejects.len(), 1);
        assert_eq!(
            strs(&after.table, "ticket_id"),
            strs(&alone.table, "ticket_id")
        );
        let Data::Str(k) = &after.table.columns["ticket_id"].data else {
            panic!("ticket_id is a string column");
        };
        (
            strs(&after.table, "ticket_id"),
            Arc::ptr_eq(&k.dict, &key.dict),
        )
    };
    // In the tickets' order, with repeats, gaps and a null: coded in the
    // tickets' dictionary.
    let ordered = [
        Some("t01"),
        Some("t01"),
        Some("t02"),
        None,
        Some("t04"),
        Some("t05"),
        Some("t04"),
        Some("t07"),
        Some("t07"),
    ];
    // Every row but the rejected sixth, in both encodings.
    let check = |name: &str, ids: &[Option<&str>], shared: bool| {
        let want: Vec<Option<String>> = (ids.iter().enumerate())
            .filter(|&(i, _)| i != 5)
            .map(|(_, s)| s.map(String::from))
            .collect();
        for plain in [false, true] {
            assert_eq!(child(name, ids, plain), (want.clone(), shared));
        }
    };
    check("ordered.parquet", &ordered, true);
    // A ticket the tickets lack, and one met again out of order: the
    // column leaves the tickets' dictionary and keeps every value.
    let astray = [
        Some("t01"),
        Some("t03"),
        Some("t03"),
        Some("x99"),
        Some("t02"),
        Some("t08"),
        Some("t03"),
    ];
    check("astray.parquet", &astray, false);
}
