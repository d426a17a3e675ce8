//! Event frames as JSON lines in the events.jsonl form: absent values omitted.
//!
//! A key is left out when its value is null, an empty list, or a struct none of whose fields is present
//! (so an `extra` with nothing in it disappears too). Strings are escaped as serde_json and orjson
//! escape them. The writer walks the Arrow columns once per row with an encoder chosen per column up
//! front; it covers the types events have (strings, integers, booleans, nulls, lists and structs of
//! those) and declines any other, which the caller then writes with orjson. `tests/test_outputs.py`
//! checks that both give the same bytes.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, PrimitiveArray, RecordBatch};
use arrow_schema::DataType;

use crate::text::{json_special, json_specials};

/// How one column's values are written, and where its nulls are.
struct Encoder<'a> {
    kind: Kind<'a>,
    nulls: Option<&'a arrow_buffer::NullBuffer>,
}

/// What one column holds.
enum Kind<'a> {
    Null,
    Str(&'a arrow_array::StringArray),
    LargeStr(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
    Bool(&'a arrow_array::BooleanArray),
    List(&'a arrow_array::ListArray, Box<Encoder<'a>>),
    LargeList(&'a arrow_array::LargeListArray, Box<Encoder<'a>>),
    Struct(Vec<(Vec<u8>, Encoder<'a>)>),
    /// A string column whose every row is the same string (a value Polars broadcast, such as the holder
    /// or the file name), escaped once.
    Const(Vec<u8>),
}

/// `"name":`, escaped once.
fn key(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 3);
    escape(&mut out, name);
    out.push(b':');
    out
}

impl<'a> Encoder<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        let kind = match array.data_type() {
            DataType::Null => Kind::Null,
            DataType::Utf8 => Kind::Str(array.as_string::<i32>()),
            DataType::LargeUtf8 => Kind::LargeStr(array.as_string::<i64>()),
            DataType::Utf8View => {
                let view = array.as_string_view();
                match constant(view) {
                    Some(text) => {
                        let mut escaped = Vec::with_capacity(text.len() + 2);
                        escape(&mut escaped, text);
                        Kind::Const(escaped)
                    }
                    None => Kind::View(view),
                }
            }
            DataType::Int8 => Kind::I8(array.as_primitive()),
            DataType::Int16 => Kind::I16(array.as_primitive()),
            DataType::Int32 => Kind::I32(array.as_primitive()),
            DataType::Int64 => Kind::I64(array.as_primitive()),
            DataType::UInt8 => Kind::U8(array.as_primitive()),
            DataType::UInt16 => Kind::U16(array.as_primitive()),
            DataType::UInt32 => Kind::U32(array.as_primitive()),
            DataType::UInt64 => Kind::U64(array.as_primitive()),
            DataType::Boolean => Kind::Bool(array.as_boolean()),
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                Kind::List(list, Box::new(Self::of(list.values().as_ref())?))
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                Kind::LargeList(list, Box::new(Self::of(list.values().as_ref())?))
            }
            DataType::Struct(fields) => {
                let st = array.as_struct();
                let mut children = Vec::with_capacity(fields.len());
                for (field, column) in fields.iter().zip(st.columns()) {
                    children.push((key(field.name()), Self::of(column.as_ref())?));
                }
                Kind::Struct(children)
            }
            _ => return None,
        };
        let nulls = array.nulls().filter(|n| n.null_count() > 0);
        Some(Self { kind, nulls })
    }

    fn is_null(&self, row: usize) -> bool {
        matches!(self.kind, Kind::Null) || self.nulls.is_some_and(|n| n.is_null(row))
    }

    /// Null, an empty list, or a struct with no field present: left out of its object.
    fn is_absent(&self, row: usize) -> bool {
        if self.is_null(row) {
            return true;
        }
        match &self.kind {
            Kind::List(a, _) => a.value_length(row) == 0,
            Kind::LargeList(a, _) => a.value_length(row) == 0,
            Kind::Struct(children) => children.iter().all(|(_, child)| child.is_absent(row)),
            _ => false,
        }
    }

    fn write(&self, out: &mut Vec<u8>, row: usize) {
        if self.is_null(row) {
            out.extend_from_slice(b"null");
            return;
        }
        match &self.kind {
            Kind::Null => out.extend_from_slice(b"null"),
            Kind::Str(a) => escape(out, a.value(row)),
            Kind::LargeStr(a) => escape(out, a.value(row)),
            Kind::View(a) => escape(out, a.value(row)),
            Kind::I8(a) => integer(out, a.value(row)),
            Kind::I16(a) => integer(out, a.value(row)),
            Kind::I32(a) => integer(out, a.value(row)),
            Kind::I64(a) => integer(out, a.value(row)),
            Kind::U8(a) => integer(out, a.value(row)),
            Kind::U16(a) => integer(out, a.value(row)),
            Kind::U32(a) => integer(out, a.value(row)),
            Kind::U64(a) => integer(out, a.value(row)),
            Kind::Bool(a) => out.extend_from_slice(if a.value(row) { b"true" } else { b"false" }),
            Kind::Const(escaped) => out.extend_from_slice(escaped),
            Kind::List(a, child) => {
                let offsets = a.value_offsets();
                items(out, child, offsets[row] as usize, offsets[row + 1] as usize);
            }
            Kind::LargeList(a, child) => {
                let offsets = a.value_offsets();
                items(out, child, offsets[row] as usize, offsets[row + 1] as usize);
            }
            Kind::Struct(children) => object(out, children, row),
        }
    }
}

/// The one string of a column with no null whose rows all hold the same view (the same bytes: equal
/// inline strings, or the same place in the same buffer), as Polars exports a broadcast value; None
/// for any other column, after one pass of 16-byte compares.
fn constant(array: &arrow_array::StringViewArray) -> Option<&str> {
    if array.is_empty() || array.null_count() > 0 {
        return None;
    }
    let views = array.views();
    let first = views[0];
    views.iter().all(|v| *v == first).then(|| array.value(0))
}

/// List items are written as they are, nulls included: their positions mean something.
fn items(out: &mut Vec<u8>, child: &Encoder<'_>, start: usize, end: usize) {
    out.push(b'[');
    for (n, i) in (start..end).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        child.write(out, i);
    }
    out.push(b']');
}

fn object(out: &mut Vec<u8>, fields: &[(Vec<u8>, Encoder<'_>)], row: usize) {
    out.push(b'{');
    let mut first = true;
    for (name, encoder) in fields {
        if encoder.is_absent(row) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(name);
        encoder.write(out, row);
    }
    out.push(b'}');
}

/// An integer's decimal text, by `itoa` (two digits per step, no 128-bit arithmetic).
fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(value).as_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `bytes` hold nothing JSON escapes. Sixteen bytes at a time without an early exit, which the
/// compiler turns into vector compares: a byte-by-byte search with an exit per byte was a third of the
/// time spent writing events. The bytes after the last sixteen (all of a string of 8 to 15 bytes, as
/// most values are) are read as at most two overlapping words, not byte by byte.
fn plain(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n < 8 {
        return !bytes.iter().any(|&c| json_special(c));
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        json_specials(u64::from_le_bytes(w)) != 0
    };
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &c| any | json_special(c)) {
            return false;
        }
    }
    let rest = chunks.remainder().len();
    rest == 0 || !(word(n - 8) || rest > 8 && word(n - rest))
}

/// A JSON string: `"` `\` and control characters escaped (the short forms where JSON has them),
/// everything else, non-ASCII included, as it is.
pub(crate) fn escape(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    if plain(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let short = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0x00..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(b"00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Where encoded rows go: a buffer handed to `flush` whenever it holds a chunk. Small chunks are copied
/// to the file while they are still in the CPU cache; one buffer per batch (tens of MB) made the kernel's
/// copy into the page cache read cold memory and cost as much as the encoding.
pub struct Sink<'a> {
    pub out: &'a mut Vec<u8>,
    pub flush: &'a mut dyn FnMut(&[u8]) -> std::io::Result<()>,
}

/// A chunk of 256 KiB: small enough to stay in a core's L2 cache until it is written, large enough that
/// a write per chunk costs little per row (whole runs measured in docs/benchmarks.md).
pub const CHUNK: usize = 256 * 1024;

impl Sink<'_> {
    fn row_done(&mut self) -> std::io::Result<()> {
        if self.out.len() >= CHUNK {
            self.finish()?;
        }
        Ok(())
    }

    /// Hand over what the buffer holds.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            (self.flush)(self.out)?;
            self.out.clear();
        }
        Ok(())
    }
}

/// Write the batches to `sink` as JSON lines, leaving out the rows at the positions `skip` (ascending,
/// counted over all the batches: the duplicates of a batch, which the caller then need not cut out of
/// every column first); `Ok(false)`, with nothing written, when a column has a type this writer does not
/// cover.
pub fn encode(batches: &[RecordBatch], skip: &[u64], sink: &mut Sink<'_>) -> std::io::Result<bool> {
    let mut encoders = Vec::with_capacity(batches.len());
    for batch in batches {
        let schema = batch.schema();
        let mut fields = Vec::with_capacity(batch.num_columns());
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            match Encoder::of(column.as_ref()) {
                Some(encoder) => fields.push((key(field.name()), encoder)),
                None => return Ok(false),
            }
        }
        encoders.push((fields, batch.num_rows()));
    }
    let (mut skip, mut position) = (skip.iter().peekable(), 0u64);
    for (fields, rows) in &encoders {
        for row in 0..*rows {
            position += 1;
            if skip.next_if_eq(&&(position - 1)).is_some() {
                continue;
            }
            object(sink.out, fields, row);
            sink.out.push(b'\n');
            sink.row_done()?;
        }
    }
    sink.finish()?;
    Ok(true)
}

/// Write the strings of the batches' only column to `sink`, one per line; `Ok(false)`, with nothing
/// written, for anything else.
pub fn lines(batches: &[RecordBatch], sink: &mut Sink<'_>) -> std::io::Result<bool> {
    let text =
        |t: &DataType| matches!(t, DataType::Utf8View | DataType::Utf8 | DataType::LargeUtf8);
    if !batches
        .iter()
        .all(|b| b.num_columns() == 1 && text(b.column(0).data_type()))
    {
        return Ok(false);
    }
    for batch in batches {
        let column = batch.column(0);
        let mut push = |value: Option<&str>| -> std::io::Result<()> {
            sink.out.extend_from_slice(value.unwrap_or("").as_bytes());
            sink.out.push(b'\n');
            sink.row_done()
        };
        match column.data_type() {
            DataType::Utf8View => column.as_string_view().iter().try_for_each(&mut push)?,
            DataType::Utf8 => column.as_string::<i32>().iter().try_for_each(&mut push)?,
            _ => column.as_string::<i64>().iter().try_for_each(&mut push)?,
        }
    }
    sink.finish()?;
    Ok(true)
}
