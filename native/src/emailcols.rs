//! The Arrow columns of the rows the e-mail CSV reader (`emailcsv`) decided, one value per event row.
//!
//! Text columns are string views, which Polars keeps as they are (plain `Utf8` would be copied into
//! views on import), and the addresses of a row are list columns, so Python needs no split pass.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

pub(crate) struct Columns {
    pub(crate) line: Int64Builder,
    pub(crate) timestamp: StringViewBuilder,
    pub(crate) src_ip: StringViewBuilder,
    pub(crate) emails: ListBuilder<StringViewBuilder>,
    pub(crate) sender: StringViewBuilder,
    /// Null when the row has no recipient, as the reference's `None` split gives.
    pub(crate) recipients: ListBuilder<StringViewBuilder>,
    pub(crate) subject: StringViewBuilder,
    pub(crate) verdict: StringViewBuilder,
    pub(crate) raw: StringViewBuilder,
    pub(crate) cleaned: StringViewBuilder,
    pub(crate) repaired: StringViewBuilder,
}

impl Columns {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        let s = || StringViewBuilder::with_capacity(rows);
        let list = || ListBuilder::with_capacity(StringViewBuilder::with_capacity(rows * 2), rows);
        Self {
            line: Int64Builder::with_capacity(rows),
            timestamp: s(),
            src_ip: s(),
            emails: list(),
            sender: s(),
            recipients: list(),
            subject: s(),
            verdict: s(),
            raw: s(),
            cleaned: s(),
            repaired: s(),
        }
    }

    pub(crate) fn finish(mut self) -> RecordBatch {
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8View, nullable);
        let list = |name: &str, nullable: bool| {
            Field::new_list(
                name,
                Field::new_list_field(DataType::Utf8View, true),
                nullable,
            )
        };
        let fields = vec![
            Field::new("line", DataType::Int64, false),
            text("timestamp", false),
            text("src_ip", true),
            list("emails", false),
            text("sender", true),
            list("recipients", true),
            text("subject", true),
            text("verdict", true),
            text("raw", false),
            text("cleaned", false),
            text("repaired", true),
        ];
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.src_ip.finish()),
            Arc::new(self.emails.finish()),
            Arc::new(self.sender.finish()),
            Arc::new(self.recipients.finish()),
            Arc::new(self.subject.finish()),
            Arc::new(self.verdict.finish()),
            Arc::new(self.raw.finish()),
            Arc::new(self.cleaned.finish()),
            Arc::new(self.repaired.finish()),
        ];
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .expect("columns are built with one value per row")
    }
}
