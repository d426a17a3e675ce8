//! The NDJSON reader of `events-json`: one JSON record per line to an event row, through the same
//! declarative mappings (Suricata EVE, ECS, Zeek, the user's) as the Python reference
//! `ppcti.formats.events_json._Builder.add`.
//!
//! `read_bytes` is handed a chunk of the file as bytes and splits its lines itself; `read` takes a
//! frame of lines (chunks it does not split the way the Python side would, records of JSON arrays).
//! Per line: one pass of `jsonscan` checks the JSON and keeps the values at the paths some mapping
//! reads, as `mapping.flatten` would find them; the mapping whose signature the paths match best is
//! picked, and each field read by its candidate paths, first non-empty value wins. Every value goes
//! through the rules of `values`, which decide only what they are certain of. A line is then an event
//! (pushed to `eventsbatch`), a reject whose reason is certain (not an object, no mapping, no address,
//! no timestamp), blank, or handed back to Python whole ("fallback"): a line the scanner does not read
//! as orjson would, e-mail fields, IPv6, floats in `extra`, unusual timestamps...
//! `tests/formats/test_events_native.py` checks that the outputs of a run are byte-identical with and
//! without this reader, and that it ran.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_buffer::Buffer;
use arrow_schema::DataType;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3_arrow::PyTable;

use crate::eventsbatch::{EventBatch, EventValues, Raw};
use crate::jsonscan::{Scan, Tree, Val};
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

/// `Mapping.first`: the first value of the candidate paths that is neither null nor `""`.
fn first<'t>(scan: &Scan<'t>, slots: &[usize]) -> Option<Val<'t>> {
    slots
        .iter()
        .find_map(|slot| scan.get(*slot).filter(Val::is_value))
}

/// What became of one line.
enum Outcome {
    /// An event, pushed to the batch; whether its source MAC was malformed.
    Event(bool),
    Reject(&'static str),
    /// A reject whose raw text the reference cuts to its first 2,000 characters.
    RejectCut(&'static str),
    Blank,
    Fallback,
}

/// JSON's white space.
fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
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
    tree: Tree,
    mappings: Vec<Mapping>,
    extra_fields: Vec<String>,
    /// The index of `dst_mac` in `extra_fields` (a MAC, normalised), if there.
    dst_mac: Option<usize>,
    utc: bool,
}

/// What `read` hands back: the events batch, rejects as (row, reason, cut), fallback rows, and the
/// blank and malformed-MAC counts.
type ReadResult = (PyTable, Vec<(u32, &'static str, bool)>, Vec<u32>, i64, i64);

/// What `read_bytes` hands back: the events batch, rejects as (line, reason, raw text as the reference
/// keeps it), fallback lines as (line, text), and the blank and malformed-MAC counts.
type BytesResult = (
    PyTable,
    Vec<(i64, &'static str, String)>,
    Vec<(i64, String)>,
    i64,
    i64,
);

/// The counts and row lists of one read, whatever the input.
struct Tally<R, F> {
    rejects: Vec<R>,
    fallback: Vec<F>,
    blank: i64,
    malformed: i64,
}

/// The tally of `read`: rejects as (row, reason, cut) and fallback rows.
type RowTally = Tally<(u32, &'static str, bool), u32>;
/// The tally of `read_bytes`: rejects as (line, reason, raw text) and fallback lines as (line, text).
type LineTally = Tally<(i64, &'static str, String), (i64, String)>;

impl<R, F> Default for Tally<R, F> {
    fn default() -> Self {
        Self {
            rejects: Vec::new(),
            fallback: Vec::new(),
            blank: 0,
            malformed: 0,
        }
    }
}

/// The first 2,000 characters of `text` (Python's `text[:2000]`).
fn cut(text: &str) -> &str {
    text.char_indices()
        .nth(2000)
        .map_or(text, |(i, _)| &text[..i])
}

/// The chunk as text if the reader splits it itself exactly as `ppcti.formats._lines` would hand it
/// over: under 4 GiB, valid UTF-8 without a carriage return, a NUL or a leading byte-order mark (those
/// chunks take the frame path, whose line splitting is the reference).
fn plain_text(data: &[u8]) -> Option<&str> {
    // the raw column's views hold 32-bit offsets into the chunk (chunks are 8 MiB unless a caller asks)
    if u32::try_from(data.len()).is_err()
        || data.starts_with(b"\xef\xbb\xbf")
        || memchr::memchr2(b'\r', 0, data).is_some()
    {
        return None;
    }
    simdutf8::basic::from_utf8(data).ok()
}

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
        let mut by_slot = vec![""; paths.0.len()];
        for (path, slot) in &paths.0 {
            by_slot[*slot] = path.as_str();
        }
        let tree = Tree::new(&by_slot);
        Ok(Self {
            paths,
            tree,
            mappings,
            dst_mac: extra_fields.iter().position(|f| f == "dst_mac"),
            extra_fields,
            utc,
        })
    }

    /// Read a frame of `line` and `text` (one NDJSON line each). Returns `(events, rejects, fallback,
    /// blank, malformed_mac)`: `events` in the batch schema (`BATCH_COLUMNS`, `extra`, `raw`); rejects
    /// are (row, reason, whether the raw text is cut to 2,000 characters) and fallback lines row
    /// numbers of the frame.
    fn read(&self, py: Python<'_>, frame: PyTable) -> PyResult<ReadResult> {
        let (batches, schema) = frame.into_inner();
        let line_at = schema
            .index_of("line")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let text_at = schema
            .index_of("text")
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let result = py.detach(|| self.read_batches(&batches, line_at, text_at));
        let (batch, tally) = result.map_err(PyValueError::new_err)?;
        let schema = batch.schema();
        Ok((
            PyTable::try_new(vec![batch], schema)?,
            tally.rejects,
            tally.fallback,
            tally.blank,
            tally.malformed,
        ))
    }

    /// Read a chunk of the file as `ppcti.formats._lines.iter_line_chunks` hands it over (whole
    /// lines, the first numbered `first_line`), splitting the lines here: no frame of lines is built,
    /// and the events' `raw` column is views into `data`. `None` for a chunk it does not split the
    /// way the frame path would (see `plain_text`): the caller then builds the frame and calls
    /// `read`. Otherwise `(events, rejects, fallback, blank, malformed_mac)` as for `read`, but
    /// rejects as (line, reason, raw text) and fallback lines as (line, text).
    fn read_bytes(
        &self,
        py: Python<'_>,
        data: PyBackedBytes,
        first_line: i64,
    ) -> PyResult<Option<BytesResult>> {
        let owner = data.clone_ref(py);
        let result = py.detach(|| {
            let text = plain_text(&data)?;
            let len = data.len();
            let ptr = NonNull::new(data.as_ptr().cast_mut()).unwrap_or(NonNull::dangling());
            // SAFETY: the bytes of a Python `bytes` object never change, and `owner` keeps the object
            // alive as long as the buffer (its reference is given back through PyO3's pool when the
            // buffer is dropped without the interpreter)
            let block = unsafe {
                Buffer::from_custom_allocation(ptr, len, Arc::new(AssertUnwindSafe(owner)))
            };
            Some(self.read_block(text, block, first_line))
        });
        let Some((batch, tally)) = result else {
            return Ok(None);
        };
        let schema = batch.schema();
        Ok(Some((
            PyTable::try_new(vec![batch], schema)?,
            tally.rejects,
            tally.fallback,
            tally.blank,
            tally.malformed,
        )))
    }
}

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
    ) -> Result<(RecordBatch, RowTally), String> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut out = EventBatch::new(rows, self.extra_fields.len());
        let mut tally = Tally::default();
        let mut scratch = self.scratch();
        let mut index = 0u32;
        for batch in batches {
            let lines = batch
                .column(line_at)
                .as_primitive_opt::<arrow_array::types::Int64Type>()
                .ok_or("column line is not Int64")?;
            let text = texts(batch.column(text_at).as_ref())?;
            for (line, text) in lines.iter().zip(text) {
                let line = line.unwrap_or(0);
                let raw = Raw::Text(text.unwrap_or(""));
                match self.read_line(text, line, raw, &mut scratch, &mut out) {
                    Outcome::Event(malformed) => tally.malformed += i64::from(malformed),
                    Outcome::Reject(reason) => tally.rejects.push((index, reason, false)),
                    Outcome::RejectCut(reason) => tally.rejects.push((index, reason, true)),
                    Outcome::Blank => tally.blank += 1,
                    Outcome::Fallback => tally.fallback.push(index),
                }
                index += 1;
            }
        }
        Ok((out.finish(&self.extra_fields), tally))
    }

    /// The lines of `text` (see `plain_text`), `block` the same bytes as an Arrow buffer for the `raw`
    /// views.
    fn read_block(&self, text: &str, block: Buffer, first_line: i64) -> (RecordBatch, LineTally) {
        let data = text.as_bytes();
        // room for lines of 128 bytes or more; the builders grow past that
        let rows = data.len() / 128 + 1;
        let mut out = EventBatch::new(rows, self.extra_fields.len()).with_block(block);
        let mut tally = Tally::default();
        let mut scratch = self.scratch();
        let mut line = first_line;
        let mut start = 0;
        while start < text.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(text.len(), |i| start + i);
            let t = &text[start..end];
            let raw = Raw::Block {
                offset: start,
                len: end - start,
            };
            match self.read_line(Some(t), line, raw, &mut scratch, &mut out) {
                Outcome::Event(malformed) => tally.malformed += i64::from(malformed),
                Outcome::Reject(reason) => tally.rejects.push((line, reason, t.to_owned())),
                Outcome::RejectCut(reason) => tally.rejects.push((line, reason, cut(t).to_owned())),
                Outcome::Blank => tally.blank += 1,
                Outcome::Fallback => tally.fallback.push((line, t.to_owned())),
            }
            line += 1;
            start = end + 1;
        }
        (out.finish(&self.extra_fields), tally)
    }

    fn scratch<'t>(&self) -> Scratch<'t> {
        Scratch {
            scan: Scan::new(&self.tree, self.paths.0.len()),
            extra: vec![None; self.extra_fields.len()],
        }
    }

    fn read_line<'t>(
        &self,
        text: Option<&'t str>,
        line: i64,
        raw: Raw<'_>,
        scratch: &mut Scratch<'t>,
        out: &mut EventBatch,
    ) -> Outcome {
        let Some(text) = text else {
            return Outcome::Blank;
        };
        if text.bytes().all(is_py_space) {
            return Outcome::Blank;
        }
        if !text.trim_start_matches(is_json_space).starts_with('{') {
            // not an object: a reject if it is JSON at all (as orjson reads it)
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) if !has_long_number(text) => {
                    Outcome::RejectCut("record is not a JSON object")
                }
                _ => Outcome::Fallback,
            };
        }
        let scan = &mut scratch.scan;
        if scan.line(&self.tree, text).is_none() {
            return Outcome::Fallback;
        }
        match self.pick(scan) {
            Some(m) => self
                .read_record(scan, &mut scratch.extra, m, line, raw, out)
                .unwrap_or(Outcome::Fallback),
            None => Outcome::RejectCut("no mapping recognises this record"),
        }
    }

    /// `_Builder._pick`: the mapping with the highest share of signature paths (the first on ties),
    /// if that share is at least a half.
    fn pick(&self, scan: &Scan<'_>) -> Option<usize> {
        // shares compared as fractions (found / len), multiplied out: no division per mapping
        let mut best = None;
        let (mut best_found, mut best_len) = (0, 1);
        for (i, mapping) in self.mappings.iter().enumerate() {
            let found = mapping
                .signature
                .iter()
                .filter(|slot| scan.has(**slot))
                .count();
            let len = mapping.signature.len();
            if found * best_len > best_found * len {
                best = Some(i);
                (best_found, best_len) = (found, len);
            }
        }
        best.filter(|_| 2 * best_found >= best_len)
    }

    /// `_Builder.add` for a record with a mapping, in its order of checks, pushing the event to `out`;
    /// `None` when a value is one the rules of `values` leave to Python.
    fn read_record<'t>(
        &self,
        scan: &Scan<'t>,
        extra: &mut [Option<Cow<'t, str>>],
        index: usize,
        line: i64,
        raw: Raw<'_>,
        out: &mut EventBatch,
    ) -> Option<Outcome> {
        let m = &self.mappings[index];
        // `Some(None)`: no value; `None`: a value serde refuses
        let field = |which: usize| match first(scan, &m.fields[which]) {
            None => Some(None),
            Some(v) => v.json().map(Some),
        };
        let src_ip = field(SRC_IP)?;
        let src_ip = values::ip(src_ip.as_ref())?;
        let dst_ip = field(DST_IP)?;
        let dst_ip = values::ip(dst_ip.as_ref())?;
        // any e-mail value is left to Python (`clean_email`); an empty list holds none
        for slot in &m.fields[EMAILS] {
            match scan.get(*slot) {
                None | Some(Val::Null | Val::Array(_, true)) => {}
                Some(_) => return None,
            }
        }
        if src_ip.is_none() && dst_ip.is_none() {
            return Some(Outcome::Reject("no valid source or destination address"));
        }
        let Some(raw_time) = field(TIMESTAMP)? else {
            return Some(Outcome::Reject("no timestamp"));
        };
        let timestamp = values::timestamp(&raw_time, self.utc)?;
        let src_mac = match first(scan, &m.fields[SRC_MAC]) {
            None => None,
            Some(Val::Str(s)) => Some(values::mac(s)?),
            Some(_) => return None,
        };
        let mac_malformed = matches!(src_mac, Some(None));
        for (i, slots) in m.extra.iter().enumerate() {
            let value = first(scan, slots);
            extra[i] = if Some(i) == self.dst_mac {
                match value {
                    None => None,
                    Some(Val::Str(s)) => values::mac(s)?.map(|m| Cow::Owned(m.to_string())),
                    Some(_) => return None,
                }
            } else {
                match value {
                    None => None,
                    Some(Val::Str(s)) => Some(Cow::Borrowed(s)),
                    Some(Val::Array(text, _)) if values::is_compact_string_array(text) => {
                        Some(Cow::Borrowed(text))
                    }
                    Some(v) => Some(Cow::Owned(values::extra_text(&v.json()?)?)),
                }
            };
        }
        let src_port = field(SRC_PORT)?;
        let src_port = values::port(src_port.as_ref())?;
        let dst_port = field(DST_PORT)?;
        let dst_port = values::port(dst_port.as_ref())?;
        let protocol = field(PROTOCOL)?;
        let protocol = values::protocol(protocol.as_ref())?;
        out.push(
            &EventValues {
                line,
                timestamp: &timestamp,
                src_ip,
                src_port,
                dst_ip,
                dst_port,
                protocol: protocol.as_deref(),
                src_mac: src_mac.flatten().as_deref(),
                mapping: &m.name,
                mac_malformed,
                extra,
            },
            raw,
        );
        Some(Outcome::Event(mac_malformed))
    }
}

/// What the reading of one line reuses from the line before.
struct Scratch<'t> {
    scan: Scan<'t>,
    /// The `extra` values of the line, one per name of `EventsReader::extra_fields`.
    extra: Vec<Option<Cow<'t, str>>>,
}
