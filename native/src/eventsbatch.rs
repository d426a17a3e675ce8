//! The events the `events-json` reader decided, as one Arrow record batch already in the batch schema
//! of `ppcti.formats.base` (`BATCH_COLUMNS`, `extra` as the struct `events_json.EXTRA_TYPE`, `raw`):
//! Polars takes it as it is, with no select, struct or cast per batch on the Python side.
//!
//! Strings are `Utf8View`, Polars' own layout, so nothing is converted on the way in. When the reader
//! was handed the chunk of the file itself (`EventsReader::read_bytes`), the `raw` column is views
//! into that chunk: the raw lines, most of the bytes, are never copied; so are the other strings that
//! are slices of a line (addresses, timestamps already in the STIX form, `extra` texts).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringViewBuilder};
use arrow_array::{new_null_array, ArrayRef, RecordBatch, StructArray};
use arrow_buffer::Buffer;
use arrow_schema::{DataType, Field, Fields, Schema};

/// Where a row's raw text is: a slice of the block handed over with `EventBatch::with_block`, or a
/// string to copy.
pub(crate) enum Raw<'a> {
    Block { offset: usize, len: usize },
    Text(&'a str),
}

/// The Arrow builders of a batch, one value per event.
pub(crate) struct EventBatch {
    rows: usize,
    line: Int64Builder,
    timestamp: StringViewBuilder,
    src_ip: StringViewBuilder,
    src_port: Int32Builder,
    dst_ip: StringViewBuilder,
    dst_port: Int32Builder,
    protocol: StringViewBuilder,
    src_mac: StringViewBuilder,
    mapping: StringViewBuilder,
    /// One per name of `EventsReader::extra_fields`, in that order.
    extra: Vec<StringViewBuilder>,
    mac_malformed: BooleanBuilder,
    raw: StringViewBuilder,
    block: Option<u32>,
    /// Where the block starts in memory (to tell slices of it from other strings) and its length.
    block_start: usize,
    block_len: usize,
}

/// The values of one event.
pub(crate) struct EventValues<'a> {
    pub(crate) line: i64,
    pub(crate) timestamp: &'a str,
    pub(crate) src_ip: Option<&'a str>,
    pub(crate) src_port: Option<i32>,
    pub(crate) dst_ip: Option<&'a str>,
    pub(crate) dst_port: Option<i32>,
    pub(crate) protocol: Option<&'a str>,
    pub(crate) src_mac: Option<&'a str>,
    pub(crate) mapping: &'a str,
    pub(crate) mac_malformed: bool,
    /// One per name of `EventsReader::extra_fields`, in that order.
    pub(crate) extra: &'a [Option<std::borrow::Cow<'a, str>>],
}

impl EventBatch {
    pub(crate) fn new(rows: usize, extra: usize) -> Self {
        let s = || StringViewBuilder::with_capacity(rows);
        Self {
            rows: 0,
            line: Int64Builder::with_capacity(rows),
            timestamp: s(),
            src_ip: s(),
            src_port: Int32Builder::with_capacity(rows),
            dst_ip: s(),
            dst_port: Int32Builder::with_capacity(rows),
            protocol: s(),
            src_mac: s(),
            mapping: s(),
            extra: (0..extra).map(|_| s()).collect(),
            mac_malformed: BooleanBuilder::with_capacity(rows),
            raw: s(),
            block: None,
            block_start: 0,
            block_len: 0,
        }
    }

    /// The string builders whose values may be slices of a line (not the protocol, the source MAC
    /// and the mapping name, which the reader rewrites): each takes the block, so that such values are
    /// views, not copies.
    fn texts(&mut self) -> impl Iterator<Item = &mut StringViewBuilder> {
        [
            &mut self.timestamp,
            &mut self.src_ip,
            &mut self.dst_ip,
            &mut self.raw,
        ]
        .into_iter()
        .chain(&mut self.extra)
    }

    /// `value` appended to `builder`: a view when it is a slice of the block (which every builder
    /// holds at the same index), a copy otherwise.
    #[inline]
    fn text(builder: &mut StringViewBuilder, block: Option<(u32, usize, usize)>, value: &str) {
        if let Some((index, start, len)) = block {
            let at = (value.as_ptr() as usize).wrapping_sub(start);
            if at <= len && value.len() <= len - at {
                // SAFETY: `with_block` appended the block to every builder at `index`; the view lies
                // inside it (above), and its bytes are `value`'s own, a `str`, so UTF-8.
                unsafe { builder.append_view_unchecked(index, at as u32, value.len() as u32) };
                return;
            }
        }
        builder.append_value(value);
    }

    #[inline]
    fn text_option(
        builder: &mut StringViewBuilder,
        block: Option<(u32, usize, usize)>,
        value: Option<&str>,
    ) {
        match value {
            Some(value) => Self::text(builder, block, value),
            None => builder.append_null(),
        }
    }

    /// The buffer `Raw::Block` offsets point into.
    pub(crate) fn with_block(mut self, block: Buffer) -> Self {
        assert!(u32::try_from(block.len()).is_ok(), "a block below 4 GiB");
        self.block_len = block.len();
        self.block_start = block.as_ptr() as usize;
        let indexes: Vec<u32> = self
            .texts()
            .map(|b| b.append_block(block.clone()))
            .collect();
        assert!(
            indexes.iter().all(|i| *i == indexes[0]),
            "the block at one index"
        );
        self.block = indexes.first().copied();
        self
    }

    /// One event.
    pub(crate) fn push(&mut self, v: &EventValues<'_>, raw: Raw<'_>) {
        self.rows += 1;
        let block = self.block.map(|b| (b, self.block_start, self.block_len));
        self.line.append_value(v.line);
        Self::text(&mut self.timestamp, block, v.timestamp);
        Self::text_option(&mut self.src_ip, block, v.src_ip);
        self.src_port.append_option(v.src_port);
        Self::text_option(&mut self.dst_ip, block, v.dst_ip);
        self.dst_port.append_option(v.dst_port);
        self.protocol.append_option(v.protocol);
        self.src_mac.append_option(v.src_mac);
        self.mapping.append_value(v.mapping);
        for (builder, value) in self.extra.iter_mut().zip(v.extra) {
            Self::text_option(builder, block, value.as_deref());
        }
        self.mac_malformed
            .append_option(v.mac_malformed.then_some(true));
        match (raw, self.block) {
            (Raw::Block { offset, len }, Some(block)) => {
                assert!(offset + len <= self.block_len, "a line inside the block");
                // SAFETY: the block was appended with `with_block`, the view lies inside it (above),
                // and a line of a chunk checked as UTF-8 is UTF-8 (lines end at a newline byte).
                // Offsets fit in 32 bits: the Python side hands chunks of `batch_bytes`.
                unsafe {
                    self.raw
                        .append_view_unchecked(block, offset as u32, len as u32)
                };
            }
            (Raw::Text(text), _) => self.raw.append_value(text),
            (Raw::Block { .. }, None) => unreachable!("a block offset without a block"),
        }
    }

    pub(crate) fn finish(mut self, extra_fields: &[String]) -> RecordBatch {
        let text = |name: &str| Field::new(name, DataType::Utf8View, true);
        let emails = DataType::LargeList(Arc::new(Field::new("item", DataType::Utf8View, true)));
        let mut extra_schema = vec![text("mapping")];
        let mut extra_arrays: Vec<ArrayRef> = vec![Arc::new(self.mapping.finish())];
        for (name, builder) in extra_fields.iter().zip(&mut self.extra) {
            extra_schema.push(text(name));
            extra_arrays.push(Arc::new(builder.finish()));
        }
        extra_schema.push(Field::new("mac_malformed", DataType::Boolean, true));
        extra_arrays.push(Arc::new(self.mac_malformed.finish()));
        let extra_schema = Fields::from(extra_schema);
        let extra = StructArray::new(extra_schema.clone(), extra_arrays, None);
        let fields = vec![
            Field::new("line", DataType::Int64, false),
            text("timestamp"),
            text("src_ip"),
            Field::new("src_port", DataType::Int32, true),
            text("dst_ip"),
            Field::new("dst_port", DataType::Int32, true),
            text("nat_ip"),
            text("protocol"),
            text("src_mac"),
            Field::new("emails", emails.clone(), true),
            Field::new("extra", DataType::Struct(extra_schema), false),
            Field::new("raw", DataType::Utf8View, false),
        ];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.src_ip.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_ip.finish()),
            Arc::new(self.dst_port.finish()),
            new_null_array(&DataType::Utf8View, self.rows),
            Arc::new(self.protocol.finish()),
            Arc::new(self.src_mac.finish()),
            new_null_array(&emails, self.rows),
            Arc::new(extra),
            Arc::new(self.raw.finish()),
        ];
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns are built with one value per row")
    }
}
