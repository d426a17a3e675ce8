//! The Arrow columns of `eventsjsonl`: one builder per column read, the mostly-null ones kept sparse,
//! the plain timestamps in microseconds, and each row's service text (`_service`).

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, ListBuilder, StringViewBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringViewArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};

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
/// The bit of `protocol` in `Row::seen` (the last of the texts).
pub(crate) const PROTOCOL: u32 = 6;
/// Bits of the other top-level keys in `Row::seen` (the texts take bits 0..7).
pub(crate) const LINE: u32 = 7;
pub(crate) const TIMESTAMP: u32 = 8;
pub(crate) const DST_PORT: u32 = 9;
pub(crate) const EMAILS: u32 = 10;
pub(crate) const EXTRA: u32 = 11;
/// The first bit of the fields of `extra`.
pub(crate) const FIELD0: u32 = 12;
/// Bits in a `u64`: the fields of `extra` read at most.
pub(crate) const MAX_FIELDS: usize = 64 - FIELD0 as usize;

/// The columns of one segment.
pub(crate) struct Columns {
    pub(crate) texts: Vec<StringViewBuilder>,
    pub(crate) line: Int64Builder,
    pub(crate) t: Int64Builder,
    pub(crate) ts: Sparse,
    pub(crate) dst_port: Int32Builder,
    pub(crate) emails: ListBuilder<StringViewBuilder>,
    pub(crate) fields: Vec<Sparse>,
    pub(crate) rows: usize,
    /// `_service`, from the row's protocol and port (see `close_row`).
    service: StringViewBuilder,
    /// The row's protocol text (when `has_protocol`: a string, not null) and port, for its service.
    protocol: String,
    has_protocol: bool,
    pub(crate) port: Option<i32>,
    text: String,
}

/// A column that is mostly null (the fields of `extra`, the timestamps left to Polars): its values
/// and their rows, spread out once at the end instead of a null view written per row.
#[derive(Default)]
pub(crate) struct Sparse {
    pub(crate) rows: Vec<u32>,
    values: StringViewBuilder,
}

impl Sparse {
    pub(crate) fn put(&mut self, row: usize, value: &str) {
        self.rows
            .push(u32::try_from(row).expect("a segment holds fewer than 2^32 lines"));
        self.values.append_value(value);
    }

    pub(crate) fn finish(mut self, len: usize) -> StringViewArray {
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
    pub(crate) fn new(fields: usize) -> Self {
        Self {
            texts: (0..TEXTS.len()).map(|_| StringViewBuilder::new()).collect(),
            line: Int64Builder::new(),
            t: Int64Builder::new(),
            ts: Sparse::default(),
            dst_port: Int32Builder::new(),
            emails: ListBuilder::new(StringViewBuilder::new()),
            fields: (0..fields).map(|_| Sparse::default()).collect(),
            rows: 0,
            service: StringViewBuilder::new(),
            protocol: String::new(),
            has_protocol: false,
            port: None,
            text: String::new(),
        }
    }

    /// Keep the row's protocol text for its service (a buffer reused from row to row).
    pub(crate) fn keep_protocol(&mut self, value: &str) {
        self.protocol.clear();
        self.protocol.push_str(value);
        self.has_protocol = true;
    }

    /// A null in every column whose key the record did not have (or had as null, for `extra`).
    pub(crate) fn close_row(&mut self, seen: u64) {
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
        // as `load._service` writes it: `TCP/22`, the protocol alone without a port, `ANY` without one
        self.text.clear();
        self.text.push_str(if self.has_protocol {
            &self.protocol
        } else {
            "ANY"
        });
        if let Some(port) = self.port.take() {
            self.text.push('/');
            self.text.push_str(itoa::Buffer::new().format(port));
        }
        self.service.append_value(&self.text);
        self.has_protocol = false;
        self.rows += 1;
    }

    /// The fields of `extra` with a value in some row.
    pub(crate) fn present(&self) -> Vec<bool> {
        self.fields.iter().map(|f| !f.rows.is_empty()).collect()
    }

    /// The batch, with the fields of `extra` marked in `keep` (the others are null in every segment:
    /// the caller adds them as null literals instead of a 16-byte view per row).
    pub(crate) fn finish(mut self, names: &[String], keep: &[bool]) -> RecordBatch {
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
        fields.push(Field::new("_service", text(), false));
        arrays.push(Arc::new(self.service.finish()));
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
pub(crate) fn micros(text: &str) -> Option<i64> {
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
