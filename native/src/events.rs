//! The NDJSON reader of `events-json`: one JSON record per line to an event row, through the same
//! declarative mappings (Suricata EVE, ECS, Zeek, the user's) as the Python reference
//! `ppcti.formats.events_json._Builder.add`.
//!
//! Per line: parse (`serde_json` into `json::Json`: keys in written order, strings borrowed), flatten
//! to dotted paths exactly as `mapping.flatten` does (kept to the paths some mapping reads), pick the
//! mapping whose signature the paths match best, and read each field by its candidate paths, first
//! non-empty value wins. Every value goes through the rules of `values`,
//! which decide only what they are certain of. A line is then an event, a reject whose reason is
//! certain (not an object, no mapping, no address, no timestamp), blank, or handed back to Python
//! whole ("fallback"): a line serde refuses, e-mail fields, IPv6, floats in `extra`, unusual
//! timestamps... `tests/formats/test_events_native.py` checks that the outputs of a
//! run are byte-identical with and without this reader, and that it ran.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use std::borrow::Cow;

use crate::json::Json;

use crate::values;

/// The event fields a mapping names, in this order in `Mapping::fields`.
const FIELDS: [&str; 8] = [
    "timestamp",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "src_mac",
    "emails",
];
const TIMESTAMP: usize = 0;
const SRC_IP: usize = 1;
const SRC_PORT: usize = 2;
const DST_IP: usize = 3;
const DST_PORT: usize = 4;
const PROTOCOL: usize = 5;
const SRC_MAC: usize = 6;
const EMAILS: usize = 7;

/// A mapping as `ppcti.formats.mapping.Mapping` holds it, its paths as slots of `Paths`.
struct Mapping {
    name: String,
    signature: Vec<usize>,
    fields: Vec<Vec<usize>>,
    /// The candidate paths of each name of `EventsReader::extra_fields`, in that order.
    extra: Vec<Vec<usize>>,
}

/// What the Python side passes for each mapping: name, signature, fields, extra.
type MappingSpec = (
    String,
    Vec<String>,
    HashMap<String, Vec<String>>,
    HashMap<String, Vec<String>>,
);

/// FNV-1a: paths are short, and SipHash's resistance to chosen keys buys nothing against a table
/// whose keys are the mappings' own paths.
#[derive(Default, Clone, Copy)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Every path some mapping reads, numbered: a record's values are kept by number ("slot"), and
/// paths no mapping reads are not kept at all.
#[derive(Default)]
struct Paths(HashMap<String, usize, BuildHasherDefault<Fnv>>);

impl Paths {
    fn slot(&mut self, path: &str) -> usize {
        let next = self.0.len();
        *self.0.entry(path.to_owned()).or_insert(next)
    }
    fn slots(&mut self, paths: &[String]) -> Vec<usize> {
        paths.iter().map(|p| self.slot(p)).collect()
    }
}

/// A record's values by slot: `None` where the path is absent, `Some(Null)` where it holds null.
type Flat<'v, 't> = Vec<Option<&'v Json<'t>>>;

/// `mapping.flatten`, kept to the paths of `paths`: nested objects to dotted paths; a key written with
/// a dot wins over the same path reached by nesting, otherwise the first writer of a path keeps it.
fn flatten<'v, 't>(
    record: &'v [(Cow<'t, str>, Json<'t>)],
    path: &mut String,
    paths: &Paths,
    out: &mut Flat<'v, 't>,
) {
    let base = path.len();
    for (key, value) in record {
        path.truncate(base);
        path.push_str(key);
        if let Some(&slot) = paths.0.get(path.as_str()) {
            if key.contains('.') || out[slot].is_none() {
                out[slot] = Some(value);
            }
        }
        if let Json::Object(inner) = value {
            if !inner.is_empty() {
                path.push('.');
                flatten(inner, path, paths, out);
            }
        }
    }
    path.truncate(base);
}

/// `Mapping.first`: the first value of the candidate paths that is neither null nor `""`.
fn first<'v, 't>(flat: &Flat<'v, 't>, slots: &[usize]) -> Option<&'v Json<'t>> {
    slots
        .iter()
        .find_map(|slot| flat[*slot].filter(|v| !v.is_null() && !v.is_empty_str()))
}

/// What became of one line.
enum Outcome {
    Event(Row),
    Reject(&'static str),
    /// A reject whose raw text the reference cuts to its first 2,000 characters.
    RejectCut(&'static str),
    Blank,
    Fallback,
}

struct Row {
    timestamp: String,
    src_ip: Option<String>,
    src_port: Option<i32>,
    dst_ip: Option<String>,
    dst_port: Option<i32>,
    protocol: Option<String>,
    src_mac: Option<String>,
    mapping: usize,
    extra: Vec<Option<String>>,
    mac_malformed: bool,
}

/// Python's `str.isspace` for ASCII: a line of these (or empty) is blank.
fn is_py_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f)
}

/// A run of 19 digits or more may be an integer out of orjson's 64-bit range, which serde would read
/// as a float where orjson refuses the line: such lines are left to Python.
fn has_long_number(text: &str) -> bool {
    let mut run = 0;
    for c in text.bytes() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 19 {
            return true;
        }
    }
    false
}

/// Reads NDJSON event lines; one per file (it holds nothing between batches but the mappings).
#[pyclass(module = "ppcti_native")]
pub(crate) struct EventsReader {
    paths: Paths,
    mappings: Vec<Mapping>,
    extra_fields: Vec<String>,
    utc: bool,
}

/// What `read` hands back: the events table, rejects as (row, reason, cut), fallback rows, and the blank
/// and malformed-MAC counts.
type ReadResult = (PyTable, Vec<(u32, &'static str, bool)>, Vec<u32>, i64, i64);

#[pymethods]
impl EventsReader {
    /// `mappings` in the order they are tried; `extra_fields` the names of `extra` after `mapping`;
    /// `utc`: timestamps without an offset are UTC (otherwise they are left to Python).
    #[new]
    fn new(mappings: Vec<MappingSpec>, extra_fields: Vec<String>, utc: bool) -> PyResult<Self> {
        if mappings.iter().any(|m| m.1.is_empty()) {
            return Err(PyValueError::new_err(
                "a mapping needs a non-empty signature",
            ));
        }
        let mut paths = Paths::default();
        let none = Vec::new();
        let mappings = mappings
            .into_iter()
            .map(|(name, signature, fields, extra)| Mapping {
                name,
                signature: paths.slots(&signature),
                fields: FIELDS
                    .iter()
                    .map(|f| paths.slots(fields.get(*f).unwrap_or(&none)))
                    .collect(),
                extra: extra_fields
                    .iter()
                    .map(|f| paths.slots(extra.get(f).unwrap_or(&none)))
                    .collect(),
            })
            .collect();
        Ok(Self {
            paths,
            mappings,
            extra_fields,
            utc,
        })
    }

    /// Read a frame of `line` and `text` (one NDJSON line each). Returns `(events, rejects, fallback,
    /// blank, malformed_mac)`: `events` has `line`, `timestamp`, `src_ip`, `src_port`, `dst_ip`,
    /// `dst_port`, `protocol`, `src_mac`, `mapping`, the extra fields, `mac_malformed` and `raw`;
    /// rejects are (row, reason, whether the raw text is cut to 2,000 characters) and fallback lines
    /// row numbers of the frame.
    fn read(&self, py: Python<'_>, frame: PyTable) -> PyResult<ReadResult> {
        let (batches, schema) = frame.into_inner();
        let line_at = schema
            .index_of("line")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let text_at = schema
            .index_of("text")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let result = py.detach(|| self.read_batches(&batches, line_at, text_at));
        let (batch, rejects, fallback, blank, malformed) = result.map_err(PyValueError::new_err)?;
        let schema = batch.schema();
        Ok((
            PyTable::try_new(vec![batch], schema)?,
            rejects,
            fallback,
            blank,
            malformed,
        ))
    }
}

type BatchResult = (
    RecordBatch,
    Vec<(u32, &'static str, bool)>,
    Vec<u32>,
    i64,
    i64,
);

/// The text values of a column Polars hands over (strings in any of Arrow's three layouts).
fn texts(column: &dyn Array) -> Result<Vec<Option<&str>>, String> {
    Ok(match column.data_type() {
        DataType::Utf8View => column.as_string_view().iter().collect(),
        DataType::Utf8 => column.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => column.as_string::<i64>().iter().collect(),
        other => return Err(format!("column text is {other}, not strings")),
    })
}

impl EventsReader {
    fn read_batches(
        &self,
        batches: &[RecordBatch],
        line_at: usize,
        text_at: usize,
    ) -> Result<BatchResult, String> {
        let mut columns = Vec::with_capacity(batches.len());
        for batch in batches {
            let lines = batch
                .column(line_at)
                .as_primitive_opt::<arrow_array::types::Int64Type>()
                .ok_or("column line is not Int64")?;
            columns.push((lines, texts(batch.column(text_at).as_ref())?));
        }
        // the raw lines of the events are most of the text: room for all of it up front, so the
        // buffer is never copied while it grows
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let bytes = columns
            .iter()
            .flat_map(|(_, text)| text.iter())
            .map(|t| t.map_or(0, str::len))
            .sum();
        let mut cols = EventColumns::new(rows, bytes, self.extra_fields.len());
        let (mut rejects, mut fallback) = (Vec::new(), Vec::new());
        let (mut blank, mut malformed) = (0, 0);
        let mut index = 0u32;
        for (lines, text) in columns {
            for (line, text) in lines.iter().zip(text) {
                match self.read_line(text) {
                    Outcome::Event(row) => {
                        malformed += i64::from(row.mac_malformed);
                        cols.push(line.unwrap_or(0), &row, &self.mappings, text.unwrap_or(""));
                    }
                    Outcome::Reject(reason) => rejects.push((index, reason, false)),
                    Outcome::RejectCut(reason) => rejects.push((index, reason, true)),
                    Outcome::Blank => blank += 1,
                    Outcome::Fallback => fallback.push(index),
                }
                index += 1;
            }
        }
        Ok((
            cols.finish(&self.extra_fields),
            rejects,
            fallback,
            blank,
            malformed,
        ))
    }

    fn read_line(&self, text: Option<&str>) -> Outcome {
        let Some(text) = text else {
            return Outcome::Blank;
        };
        if text.bytes().all(is_py_space) {
            return Outcome::Blank;
        }
        if has_long_number(text) {
            return Outcome::Fallback;
        }
        let record = match serde_json::from_str::<Json<'_>>(text) {
            Ok(Json::Object(record)) => record,
            Ok(_) => return Outcome::RejectCut("record is not a JSON object"),
            Err(_) => return Outcome::Fallback,
        };
        let mut flat: Flat<'_, '_> = vec![None; self.paths.0.len()];
        flatten(
            &record,
            &mut String::with_capacity(64),
            &self.paths,
            &mut flat,
        );
        match self.pick(&flat) {
            Some(m) => self.read_record(&flat, m).unwrap_or(Outcome::Fallback),
            None => Outcome::RejectCut("no mapping recognises this record"),
        }
    }

    /// `_Builder._pick`: the mapping with the highest share of signature paths (the first on ties),
    /// if that share is at least a half.
    fn pick(&self, flat: &Flat<'_, '_>) -> Option<usize> {
        let mut best = None;
        let mut best_score = 0.0;
        for (i, mapping) in self.mappings.iter().enumerate() {
            let found = mapping
                .signature
                .iter()
                .filter(|slot| flat[**slot].is_some())
                .count();
            let score = found as f64 / mapping.signature.len() as f64;
            if score > best_score {
                best = Some(i);
                best_score = score;
            }
        }
        best.filter(|_| best_score >= 0.5)
    }

    /// `_Builder.add` for a record with a mapping, in its order of checks; `None` when a value is one
    /// the rules of `values` leave to Python.
    fn read_record(&self, flat: &Flat<'_, '_>, index: usize) -> Option<Outcome> {
        let m = &self.mappings[index];
        let field = |which: usize| first(flat, &m.fields[which]);
        let src_ip = values::ip(field(SRC_IP))?;
        let dst_ip = values::ip(field(DST_IP))?;
        // any e-mail value is left to Python (`clean_email`); an empty list holds none
        for slot in &m.fields[EMAILS] {
            match flat[*slot] {
                None | Some(Json::Null) => {}
                Some(Json::Array(items)) if items.is_empty() => {}
                Some(_) => return None,
            }
        }
        if src_ip.is_none() && dst_ip.is_none() {
            return Some(Outcome::Reject("no valid source or destination address"));
        }
        let Some(raw_time) = field(TIMESTAMP) else {
            return Some(Outcome::Reject("no timestamp"));
        };
        let timestamp = values::timestamp(raw_time, self.utc)?;
        let src_mac = match field(SRC_MAC) {
            None => None,
            Some(Json::Str(s)) => Some(values::mac(s)?),
            Some(_) => return None,
        };
        let mac_malformed = matches!(src_mac, Some(None));
        let mut extra = Vec::with_capacity(self.extra_fields.len());
        for (name, slots) in self.extra_fields.iter().zip(&m.extra) {
            let value = first(flat, slots);
            extra.push(if name == "dst_mac" {
                match value {
                    None => None,
                    Some(Json::Str(s)) => values::mac(s)?,
                    Some(_) => return None,
                }
            } else {
                match value {
                    None => None,
                    Some(v) => Some(values::extra_text(v)?),
                }
            });
        }
        Some(Outcome::Event(Row {
            timestamp,
            src_ip: src_ip.map(str::to_owned),
            src_port: values::port(field(SRC_PORT))?,
            dst_ip: dst_ip.map(str::to_owned),
            dst_port: values::port(field(DST_PORT))?,
            protocol: values::protocol(field(PROTOCOL))?,
            src_mac: src_mac.flatten(),
            mapping: index,
            extra,
            mac_malformed,
        }))
    }
}

/// The Arrow columns of the events a batch read.
struct EventColumns {
    line: Int64Builder,
    timestamp: StringBuilder,
    src_ip: StringBuilder,
    src_port: Int32Builder,
    dst_ip: StringBuilder,
    dst_port: Int32Builder,
    protocol: StringBuilder,
    src_mac: StringBuilder,
    mapping: StringBuilder,
    extra: Vec<StringBuilder>,
    mac_malformed: BooleanBuilder,
    raw: StringBuilder,
}

impl EventColumns {
    fn new(rows: usize, raw_bytes: usize, extra: usize) -> Self {
        let s = || StringBuilder::with_capacity(rows, rows * 16);
        Self {
            line: Int64Builder::with_capacity(rows),
            timestamp: StringBuilder::with_capacity(rows, rows * 32),
            src_ip: s(),
            src_port: Int32Builder::with_capacity(rows),
            dst_ip: s(),
            dst_port: Int32Builder::with_capacity(rows),
            protocol: s(),
            src_mac: StringBuilder::with_capacity(rows, rows * 17),
            mapping: s(),
            extra: (0..extra).map(|_| s()).collect(),
            mac_malformed: BooleanBuilder::with_capacity(rows),
            raw: StringBuilder::with_capacity(rows, raw_bytes),
        }
    }

    fn push(&mut self, line: i64, row: &Row, mappings: &[Mapping], raw: &str) {
        self.line.append_value(line);
        self.timestamp.append_value(&row.timestamp);
        self.src_ip.append_option(row.src_ip.as_deref());
        self.src_port.append_option(row.src_port);
        self.dst_ip.append_option(row.dst_ip.as_deref());
        self.dst_port.append_option(row.dst_port);
        self.protocol.append_option(row.protocol.as_deref());
        self.src_mac.append_option(row.src_mac.as_deref());
        self.mapping.append_value(&mappings[row.mapping].name);
        for (builder, value) in self.extra.iter_mut().zip(&row.extra) {
            builder.append_option(value.as_deref());
        }
        self.mac_malformed
            .append_option(row.mac_malformed.then_some(true));
        self.raw.append_value(raw);
    }

    fn finish(mut self, extra_fields: &[String]) -> RecordBatch {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let mut fields = vec![
            Field::new("line", DataType::Int64, false),
            text("timestamp"),
            text("src_ip"),
            Field::new("src_port", DataType::Int32, true),
            text("dst_ip"),
            Field::new("dst_port", DataType::Int32, true),
            text("protocol"),
            text("src_mac"),
            text("mapping"),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.src_ip.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_ip.finish()),
            Arc::new(self.dst_port.finish()),
            Arc::new(self.protocol.finish()),
            Arc::new(self.src_mac.finish()),
            Arc::new(self.mapping.finish()),
        ];
        for (name, builder) in extra_fields.iter().zip(&mut self.extra) {
            fields.push(text(&format!("extra_{name}")));
            arrays.push(Arc::new(builder.finish()));
        }
        fields.push(Field::new("mac_malformed", DataType::Boolean, true));
        arrays.push(Arc::new(self.mac_malformed.finish()));
        fields.push(Field::new("raw", DataType::Utf8, false));
        arrays.push(Arc::new(self.raw.finish()));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns are built with one value per row")
    }
}
