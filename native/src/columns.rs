//! The Arrow columns a scan builds, one value per line, handed to Polars as one record batch.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

pub(crate) struct Columns {
    pub(crate) line: Int64Builder,
    pub(crate) timestamp: StringViewBuilder,
    pub(crate) src_ip: StringViewBuilder,
    pub(crate) src_port: Int32Builder,
    pub(crate) dst_ip: StringViewBuilder,
    pub(crate) dst_port: Int32Builder,
    pub(crate) nat_ip: StringViewBuilder,
    pub(crate) protocol: StringViewBuilder,
    pub(crate) src_mac: StringViewBuilder,
    pub(crate) host: StringViewBuilder,
    pub(crate) chain: StringViewBuilder,
    pub(crate) prefix: StringViewBuilder,
    pub(crate) tcp_flags: StringViewBuilder,
    pub(crate) icmp: StringViewBuilder,
    pub(crate) mac_malformed: BooleanBuilder,
    pub(crate) raw: StringViewBuilder,
    pub(crate) reason: StringViewBuilder,
}

impl Columns {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        let s = || StringViewBuilder::with_capacity(rows);
        Self {
            line: Int64Builder::with_capacity(rows),
            timestamp: s(),
            src_ip: s(),
            src_port: Int32Builder::with_capacity(rows),
            dst_ip: s(),
            dst_port: Int32Builder::with_capacity(rows),
            nat_ip: s(),
            protocol: s(),
            src_mac: s(),
            host: s(),
            chain: s(),
            prefix: s(),
            tcp_flags: s(),
            icmp: s(),
            mac_malformed: BooleanBuilder::with_capacity(rows),
            raw: s(),
            reason: s(),
        }
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let text = || DataType::Utf8View;
        let fields = vec![
            Field::new("line", DataType::Int64, false),
            Field::new("timestamp", text(), true),
            Field::new("src_ip", text(), true),
            Field::new("src_port", DataType::Int32, true),
            Field::new("dst_ip", text(), true),
            Field::new("dst_port", DataType::Int32, true),
            Field::new("nat_ip", text(), true),
            Field::new("protocol", text(), true),
            Field::new("src_mac", text(), true),
            Field::new("host", text(), true),
            Field::new("chain", text(), true),
            Field::new("prefix", text(), true),
            Field::new("tcp_flags", text(), true),
            Field::new("icmp", text(), true),
            Field::new("mac_malformed", DataType::Boolean, true),
            Field::new("raw", text(), false),
            Field::new("_reason", text(), true),
        ];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.src_ip.finish()),
            Arc::new(self.src_port.finish()),
            Arc::new(self.dst_ip.finish()),
            Arc::new(self.dst_port.finish()),
            Arc::new(self.nat_ip.finish()),
            Arc::new(self.protocol.finish()),
            Arc::new(self.src_mac.finish()),
            Arc::new(self.host.finish()),
            Arc::new(self.chain.finish()),
            Arc::new(self.prefix.finish()),
            Arc::new(self.tcp_flags.finish()),
            Arc::new(self.icmp.finish()),
            Arc::new(self.mac_malformed.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(self.reason.finish()),
        ];
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns are built with one value per row")
    }
}
