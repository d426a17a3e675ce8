//! The reader of ppcti's own `events.jsonl` for the analysis: only the columns of
//! `ppcti.analysis.load.SCAN_SCHEMA`, read on all cores, with the timestamps already in microseconds.
//!
//! The reference is Polars' `scan_ndjson(path, schema=SCAN_SCHEMA)` followed by `load.typed`. Polars
//! parses every value of every line into a tape and then builds the columns (the nested `extra` as a
//! struct of 19 string fields); here each line goes once through `serde_json` with a visitor that
//! appends the values it wants straight to Arrow builders and skips the rest, strings borrowed from the
//! line. The file is cut into line-aligned segments, one per core, each read with its own handle.
//!
//! It takes a file only when it is certain to read it as Polars does. Anything else makes the whole
//! file go to the reference (`None`), so errors and results stay the reference's: a value of another
//! type than its column's (Polars turns numbers into strings and refuses strings for integers), a
//! number that is not an integer in range (`-0` included: serde reads it as a float), a key of
//! interest written twice, a line serde refuses, bytes that are not UTF-8, an empty file. Timestamps
//! not in the plain `YYYY-MM-DDTHH:MM:SS[.f]Z` form, or on a leap second, are handed over as text
//! (`_ts`) for Polars' `strptime` to decide. `tests/analysis/test_load_native.py` compares the frames.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, ListBuilder, StringViewBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringViewArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::time::{days_from_civil, month_days};

/// The string columns read from the top level of a record, in output order.
const TEXTS: [&str; 7] = [
    "holder",
    "format",
    "source_file",
    "src_ip",
    "dst_ip",
    "nat_ip",
    "protocol",
];
/// Bits of the other top-level keys in `Row::seen` (the texts take bits 0..7).
const LINE: u32 = 7;
const TIMESTAMP: u32 = 8;
const DST_PORT: u32 = 9;
const EMAILS: u32 = 10;
const EXTRA: u32 = 11;
/// The first bit of the fields of `extra`.
const FIELD0: u32 = 12;
/// Bits in a `u64`: the fields of `extra` read at most.
const MAX_FIELDS: usize = 64 - FIELD0 as usize;

/// Why a file goes to the reference; never shown to users (the reference reads the file again).
#[derive(Debug)]
struct Decline;

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the reference")
    }
}

impl std::error::Error for Decline {}

impl de::Error for Decline {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Decline
    }
}

/// The columns of one segment.
struct Columns {
    texts: Vec<StringViewBuilder>,
    line: Int64Builder,
    t: Int64Builder,
    ts: Sparse,
    dst_port: Int32Builder,
    emails: ListBuilder<StringViewBuilder>,
    fields: Vec<Sparse>,
    rows: usize,
}

/// A column that is mostly null (the fields of `extra`, the timestamps left to Polars): its values
/// and their rows, spread out once at the end instead of a null view written per row.
#[derive(Default)]
struct Sparse {
    rows: Vec<u32>,
    values: StringViewBuilder,
}

impl Sparse {
    fn put(&mut self, row: usize, value: &str) {
        self.rows
            .push(u32::try_from(row).expect("a segment holds fewer than 2^32 lines"));
        self.values.append_value(value);
    }

    fn finish(mut self, len: usize) -> StringViewArray {
        let dense = self.values.finish();
        if self.rows.len() == len {
            return dense; // a value in every row, in order
        }
        let mut views = vec![0u128; len];
        let mut valid = BooleanBufferBuilder::new(len);
        valid.append_n(len, false);
        for (&row, &view) in self.rows.iter().zip(dense.views().iter()) {
            views[row as usize] = view;
            valid.set_bit(row as usize, true);
        }
        let nulls = NullBuffer::new(valid.finish());
        StringViewArray::try_new(
            ScalarBuffer::from(views),
            dense.data_buffers().to_vec(),
            Some(nulls),
        )
        .expect("the views of a built array, moved to their rows")
    }
}

impl Columns {
    fn new(fields: usize) -> Self {
        Self {
            texts: (0..TEXTS.len()).map(|_| StringViewBuilder::new()).collect(),
            line: Int64Builder::new(),
            t: Int64Builder::new(),
            ts: Sparse::default(),
            dst_port: Int32Builder::new(),
            emails: ListBuilder::new(StringViewBuilder::new()),
            fields: (0..fields).map(|_| Sparse::default()).collect(),
            rows: 0,
        }
    }

    /// A null in every column whose key the record did not have (or had as null, for `extra`).
    fn close_row(&mut self, seen: u64) {
        for (bit, text) in self.texts.iter_mut().enumerate() {
            if seen & (1 << bit) == 0 {
                text.append_null();
            }
        }
        if seen & (1 << LINE) == 0 {
            self.line.append_null();
        }
        if seen & (1 << TIMESTAMP) == 0 {
            self.t.append_null();
        }
        if seen & (1 << DST_PORT) == 0 {
            self.dst_port.append_null();
        }
        if seen & (1 << EMAILS) == 0 {
            self.emails.append(false);
        }
        self.rows += 1;
    }

    /// The fields of `extra` with a value in some row.
    fn present(&self) -> Vec<bool> {
        self.fields.iter().map(|f| !f.rows.is_empty()).collect()
    }

    /// The batch, with the fields of `extra` marked in `keep` (the others are null in every segment:
    /// the caller adds them as null literals instead of a 16-byte view per row).
    fn finish(mut self, names: &[String], keep: &[bool]) -> RecordBatch {
        let text = || DataType::Utf8View;
        let mut fields = Vec::with_capacity(12 + names.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(12 + names.len());
        let mut texts = self.texts.into_iter();
        let mut push_text = |name: &str, fields: &mut Vec<Field>, arrays: &mut Vec<ArrayRef>| {
            let mut builder = texts.next().expect("one builder per text column");
            fields.push(Field::new(name, text(), true));
            arrays.push(Arc::new(builder.finish()));
        };
        for name in &TEXTS[..3] {
            push_text(name, &mut fields, &mut arrays);
        }
        fields.push(Field::new("line", DataType::Int64, true));
        arrays.push(Arc::new(self.line.finish()));
        fields.push(Field::new("t", DataType::Int64, true));
        arrays.push(Arc::new(self.t.finish()));
        fields.push(Field::new("_ts", text(), true));
        arrays.push(Arc::new(self.ts.finish(self.rows)));
        push_text("src_ip", &mut fields, &mut arrays);
        push_text("dst_ip", &mut fields, &mut arrays);
        fields.push(Field::new("dst_port", DataType::Int32, true));
        arrays.push(Arc::new(self.dst_port.finish()));
        push_text("nat_ip", &mut fields, &mut arrays);
        push_text("protocol", &mut fields, &mut arrays);
        let emails = self.emails.finish();
        fields.push(Field::new("emails", emails.data_type().clone(), true));
        arrays.push(Arc::new(emails));
        for ((name, field), _) in names
            .iter()
            .zip(self.fields)
            .zip(keep)
            .filter(|(_, keep)| **keep)
        {
            fields.push(Field::new(name, text(), true));
            arrays.push(Arc::new(field.finish(self.rows)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("every column has one value per row")
    }
}

/// Microseconds since the epoch of a plain `YYYY-MM-DDTHH:MM:SS[.f]Z` (1 to 9 fraction digits,
/// truncated to microseconds as Polars does); `None` for every other text, which Polars then reads.
fn micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > month_days(year, month) {
        return None;
    }
    // a leap second (:60) is Polars' to read
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut fraction = 0;
    if b.len() > 20 {
        let digits = &b[20..b.len() - 1];
        if b[19] != b'.' || digits.is_empty() || digits.len() > 9 {
            return None;
        }
        let mut scale = 100_000;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            fraction += i64::from(c - b'0') * scale;
            scale /= 10;
        }
    }
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(seconds * 1_000_000 + fraction)
}

/// A string or null, appended to `builder`; any other value declines the file.
struct Text<'b>(&'b mut StringViewBuilder);

impl<'de> DeserializeSeed<'de> for Text<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Text<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.append_null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.append_value(v);
        Ok(())
    }
}

/// An integer or null as the type's range allows, or none; floats, strings and the rest decline.
struct Integer<T>(std::marker::PhantomData<T>);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> DeserializeSeed<'de> for Integer<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<T: TryFrom<i64> + TryFrom<u64>> Visitor<'_> for Integer<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("out of range"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("out of range"))
    }
}

fn integer<'de, T: TryFrom<i64> + TryFrom<u64>, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<T>, A::Error> {
    map.next_value_seed(Integer::<T>(std::marker::PhantomData))
}

/// The timestamp: its microseconds when certain, else its text for Polars.
struct Timestamp<'b>(&'b mut Columns);

impl<'de> DeserializeSeed<'de> for Timestamp<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Timestamp<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.t.append_null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match micros(v) {
            Some(us) => self.0.t.append_value(us),
            None => {
                self.0.t.append_null();
                self.0.ts.put(self.0.rows, v);
            }
        }
        Ok(())
    }
}

/// `emails`: a list of strings or nulls, or null.
struct Emails<'b>(&'b mut ListBuilder<StringViewBuilder>);

impl<'de> DeserializeSeed<'de> for Emails<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Emails<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.append(false);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Text(self.0.values()))?.is_some() {}
        self.0.append(true);
        Ok(())
    }
}

/// A field of `extra`: a string, or null (left as the gap it is).
struct FieldText<'b>(&'b mut Sparse, usize);

impl<'de> DeserializeSeed<'de> for FieldText<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for FieldText<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.put(self.1, v);
        Ok(())
    }
}

/// A value no column reads, parsed all the same: serde's `IgnoredAny` lets numbers past a float's
/// range (`1e400`) through, which Polars refuses.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// Which top-level key of interest (its bit in `Row::seen`).
struct TopKey;

impl<'de> DeserializeSeed<'de> for TopKey {
    type Value = Option<u32>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for TopKey {
    type Value = Option<u32>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u32>, E> {
        Ok(match v {
            "holder" => Some(0),
            "format" => Some(1),
            "source_file" => Some(2),
            "src_ip" => Some(3),
            "dst_ip" => Some(4),
            "nat_ip" => Some(5),
            "protocol" => Some(6),
            "line" => Some(LINE),
            "timestamp" => Some(TIMESTAMP),
            "dst_port" => Some(DST_PORT),
            "emails" => Some(EMAILS),
            "extra" => Some(EXTRA),
            _ => None,
        })
    }
}

/// Which of `names` a key is (keys are compared unescaped, as Polars compares them).
struct KeyOf<'n>(&'n [&'n str]);

impl<'de> DeserializeSeed<'de> for KeyOf<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyOf<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

/// One record's keys, appended to the columns; `seen` the bits of the keys met.
struct Row<'b> {
    columns: &'b mut Columns,
    fields: &'b [&'b str],
    seen: &'b mut u64,
}

/// Mark `bit` as met; a key met twice declines (Polars keeps the first, serde would see both).
fn meet<E: de::Error>(seen: &mut u64, bit: u32) -> Result<(), E> {
    if *seen & (1 << bit) != 0 {
        return Err(E::custom("a key written twice"));
    }
    *seen |= 1 << bit;
    Ok(())
}

impl<'de> DeserializeSeed<'de> for Row<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Row<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an events.jsonl record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Row {
            columns: c,
            fields,
            seen,
        } = self;
        while let Some(key) = map.next_key_seed(TopKey)? {
            let Some(bit) = key else {
                map.next_value_seed(Skip)?;
                continue;
            };
            meet(&mut *seen, bit)?;
            match bit {
                0..=6 => map.next_value_seed(Text(&mut c.texts[bit as usize]))?,
                LINE => {
                    let v = integer::<i64, _>(&mut map)?;
                    c.line.append_option(v);
                }
                TIMESTAMP => map.next_value_seed(Timestamp(&mut *c))?,
                DST_PORT => {
                    let v = integer::<i32, _>(&mut map)?;
                    c.dst_port.append_option(v);
                }
                EMAILS => map.next_value_seed(Emails(&mut c.emails))?,
                _ => {
                    debug_assert_eq!(bit, EXTRA, "TOP ends with extra");
                    map.next_value_seed(Extra {
                        columns: &mut *c,
                        fields,
                        seen: &mut *seen,
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// `extra`: an object whose fields of interest are strings or nulls, or null.
struct Extra<'b> {
    columns: &'b mut Columns,
    fields: &'b [&'b str],
    seen: &'b mut u64,
}

impl<'de> DeserializeSeed<'de> for Extra<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Extra<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyOf(self.fields))? {
            let Some(at) = key else {
                map.next_value_seed(Skip)?;
                continue;
            };
            meet(self.seen, FIELD0 + at as u32)?;
            let row = self.columns.rows;
            map.next_value_seed(FieldText(&mut self.columns.fields[at], row))?;
        }
        Ok(())
    }
}

/// Whether Polars skips the line: nothing but spaces, tabs and carriage returns.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'))
}

/// Append one line's row; `Err` declines the file.
fn read_line(line: &[u8], columns: &mut Columns, fields: &[&str]) -> Result<(), Decline> {
    if is_blank(line) {
        return Ok(());
    }
    let text = simdutf8::basic::from_utf8(line).map_err(|_| Decline)?;
    let mut seen = 0u64;
    let mut de = serde_json::Deserializer::from_str(text);
    Row {
        columns: &mut *columns,
        fields,
        seen: &mut seen,
    }
    .deserialize(&mut de)
    .map_err(|_| Decline)?;
    de.end().map_err(|_| Decline)?;
    columns.close_row(seen);
    Ok(())
}

/// Bytes read at a time by a segment.
const READ: usize = 4 << 20;

/// The lines starting in `[start, end)` of the file: a line starting before `start` belongs to the
/// segment before.
fn read_segment(
    path: &Path,
    start: u64,
    end: u64,
    names: &[String],
    stop: &AtomicBool,
) -> Result<Columns, Decline> {
    let fields: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut columns = Columns::new(fields.len());
    let mut file = File::open(path).map_err(|_| Decline)?;
    // from the byte before: a segment starting right after a newline keeps its first line
    let mut offset = start.saturating_sub(1);
    file.seek(SeekFrom::Start(offset)).map_err(|_| Decline)?;
    let mut skip = start > 0;
    let mut buf: Vec<u8> = Vec::with_capacity(2 * READ);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Decline);
        }
        let old = buf.len();
        buf.resize(old + READ, 0);
        let n = file.read(&mut buf[old..]).map_err(|_| Decline)?;
        buf.truncate(old + n);
        let eof = n == 0;
        let mut from = 0;
        if skip {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    from = i + 1;
                    skip = false;
                }
                None if eof => break,
                None => continue,
            }
        }
        while offset + (from as u64) < end {
            match memchr::memchr(b'\n', &buf[from..]) {
                Some(i) => {
                    read_line(&buf[from..from + i], &mut columns, &fields)?;
                    from += i + 1;
                }
                None if eof => {
                    read_line(&buf[from..], &mut columns, &fields)?;
                    from = buf.len();
                    break;
                }
                None => break,
            }
        }
        if eof || offset + (from as u64) >= end {
            break;
        }
        buf.drain(..from);
        offset += from as u64;
    }
    Ok(columns)
}

/// All segments of the file, in order, or `None` when one of them declines.
fn read_file(
    path: &Path,
    names: &[String],
    threads: usize,
    min_segment: u64,
) -> Option<Vec<RecordBatch>> {
    let size = std::fs::metadata(path).ok()?.len();
    let parts = threads.clamp(
        1,
        usize::try_from(size / min_segment.max(1))
            .unwrap_or(usize::MAX)
            .max(1),
    );
    let bounds: Vec<u64> = (0..=parts as u64)
        .map(|i| size * i / parts as u64)
        .collect();
    let stop = AtomicBool::new(false);
    let results: Vec<Result<Columns, Decline>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let stop = &stop;
                scope.spawn(move || {
                    let result = read_segment(path, w[0], w[1], names, stop);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(Decline)))
            .collect()
    });
    let segments: Vec<Columns> = results.into_iter().collect::<Result<_, _>>().ok()?;
    let mut keep = vec![false; names.len()];
    for segment in &segments {
        for (k, p) in keep.iter_mut().zip(segment.present()) {
            *k |= p;
        }
    }
    let batches: Vec<RecordBatch> = segments
        .into_iter()
        .map(|s| s.finish(names, &keep))
        .collect();
    (batches.iter().map(RecordBatch::num_rows).sum::<usize>() > 0).then_some(batches)
}

/// The lines of one block of bytes (whole lines), or `None` when the block goes to the reference.
fn read_block(data: &[u8], names: &[String]) -> Option<RecordBatch> {
    let fields: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut columns = Columns::new(fields.len());
    for line in data.split(|&c| c == b'\n') {
        read_line(line, &mut columns, &fields).ok()?;
    }
    let keep = columns.present();
    let batch = columns.finish(names, &keep);
    (batch.num_rows() > 0).then_some(batch)
}

fn check(fields: &[String]) -> PyResult<()> {
    if fields.len() > MAX_FIELDS {
        return Err(PyValueError::new_err(format!(
            "at most {MAX_FIELDS} fields of extra are read"
        )));
    }
    Ok(())
}

/// Read an events.jsonl file into one table (a batch per segment, `threads` at most): the columns
/// `holder`, `format`, `source_file`, `line`, `t` (µs), `_ts` (timestamps left to Polars), `src_ip`,
/// `dst_ip`, `dst_port`, `nat_ip`, `protocol`, `emails`, then those `fields` of `extra` that have a value
/// in some line (the others are left out). `None` when
/// the file is left to the reference (see the module docs). Segments are `min_segment` bytes at
/// least (smaller ones are not worth a thread).
#[pyfunction]
#[pyo3(signature = (path, fields, *, threads, min_segment = 8 << 20))]
pub fn read_events_jsonl(
    py: Python<'_>,
    path: std::path::PathBuf,
    fields: Vec<String>,
    threads: usize,
    min_segment: u64,
) -> PyResult<Option<PyTable>> {
    check(&fields)?;
    let Some(batches) = py.detach(|| read_file(&path, &fields, threads, min_segment)) else {
        return Ok(None);
    };
    let schema = batches[0].schema();
    Ok(Some(PyTable::try_new(batches, schema)?))
}

/// As `read_events_jsonl`, of a block of whole lines in memory.
#[pyfunction]
pub fn read_events_block(
    py: Python<'_>,
    data: &[u8],
    fields: Vec<String>,
) -> PyResult<Option<PyTable>> {
    check(&fields)?;
    let Some(batch) = py.detach(|| read_block(data, &fields)) else {
        return Ok(None);
    };
    let schema = batch.schema();
    Ok(Some(PyTable::try_new(vec![batch], schema)?))
}

#[cfg(test)]
mod tests {
    use super::micros;

    #[test]
    fn plain_timestamps() {
        assert_eq!(micros("2023-03-05T07:06:40Z"), Some(1_678_000_000_000_000));
        assert_eq!(micros("1969-12-31T23:59:59.999999Z"), Some(-1));
        assert_eq!(
            micros("2023-03-05T07:06:40.123456789Z"),
            Some(1_678_000_000_123_456)
        );
        assert_eq!(micros("2023-02-29T07:06:40Z"), None);
        assert_eq!(micros("2023-03-05T23:59:60Z"), None);
        assert_eq!(micros("2023-03-05T07:06:40.Z"), None);
        assert_eq!(micros("2023-3-05T07:06:40Z"), None);
    }
}
