//! One 64-bit key per row of a table, equal exactly when the rows' values are equal: what
//! `ppcti.clean.dedup.Deduplicator` compares events and their raw text by.
//!
//! Each row is written into a scratch buffer as tagged, length-prefixed values (so `["ab"]` and
//! `["a", "b"]`, a null and an empty text, never write the same bytes) and the buffer is hashed with
//! aHash under fixed seeds. Polars' struct hash, the reference, hashed each key column over the whole
//! batch and then combined them, four times the work on e-mail events with their address lists. The
//! keys only ever meet keys of the same run made by the same function, so they need not equal Polars'.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// How one column's values are written into a row's bytes.
enum Column<'a> {
    Null,
    Str(&'a arrow_array::StringArray),
    LargeStr(&'a arrow_array::LargeStringArray),
    View(&'a arrow_array::StringViewArray),
    Signed(Box<dyn Fn(usize) -> i64 + 'a>),
    Unsigned(Box<dyn Fn(usize) -> u64 + 'a>),
    Float(Box<dyn Fn(usize) -> f64 + 'a>),
    Bool(&'a arrow_array::BooleanArray),
    List(Vec<usize>, Box<Value<'a>>),
    Struct(Vec<Value<'a>>),
}

struct Value<'a> {
    column: Column<'a>,
    nulls: Option<&'a arrow_buffer::NullBuffer>,
}

fn signed<'a, T>(array: &'a PrimitiveArray<T>) -> Column<'a>
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: Into<i64>,
{
    Column::Signed(Box::new(move |i| array.value(i).into()))
}

fn unsigned<'a, T>(array: &'a PrimitiveArray<T>) -> Column<'a>
where
    T: arrow_array::ArrowPrimitiveType,
    T::Native: Into<u64>,
{
    Column::Unsigned(Box::new(move |i| array.value(i).into()))
}

impl<'a> Value<'a> {
    /// None for a type no event column has (the caller then hashes with Polars).
    fn of(array: &'a dyn Array) -> Option<Self> {
        let column = match array.data_type() {
            DataType::Null => Column::Null,
            DataType::Utf8 => Column::Str(array.as_string::<i32>()),
            DataType::LargeUtf8 => Column::LargeStr(array.as_string::<i64>()),
            DataType::Utf8View => Column::View(array.as_string_view()),
            DataType::Int8 => signed(array.as_primitive::<Int8Type>()),
            DataType::Int16 => signed(array.as_primitive::<Int16Type>()),
            DataType::Int32 => signed(array.as_primitive::<Int32Type>()),
            DataType::Int64 => signed(array.as_primitive::<Int64Type>()),
            DataType::UInt8 => unsigned(array.as_primitive::<UInt8Type>()),
            DataType::UInt16 => unsigned(array.as_primitive::<UInt16Type>()),
            DataType::UInt32 => unsigned(array.as_primitive::<UInt32Type>()),
            DataType::UInt64 => unsigned(array.as_primitive::<UInt64Type>()),
            DataType::Float32 => {
                let a = array.as_primitive::<Float32Type>();
                Column::Float(Box::new(move |i| f64::from(a.value(i))))
            }
            DataType::Float64 => {
                let a = array.as_primitive::<Float64Type>();
                Column::Float(Box::new(move |i| a.value(i)))
            }
            DataType::Boolean => Column::Bool(array.as_boolean()),
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                let offsets = list.value_offsets().iter().map(|&o| o as usize).collect();
                Column::List(offsets, Box::new(Self::of(list.values().as_ref())?))
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                let offsets = list.value_offsets().iter().map(|&o| o as usize).collect();
                Column::List(offsets, Box::new(Self::of(list.values().as_ref())?))
            }
            DataType::Struct(_) => {
                let fields = array.as_struct().columns().iter();
                Column::Struct(
                    fields
                        .map(|c| Self::of(c.as_ref()))
                        .collect::<Option<_>>()?,
                )
            }
            _ => return None,
        };
        let nulls = array.nulls().filter(|n| n.null_count() > 0);
        Some(Self { column, nulls })
    }

    /// Append row `i`'s value as tag and payload; texts and lists carry their length.
    fn write(&self, out: &mut Vec<u8>, i: usize) {
        if matches!(self.column, Column::Null) || self.nulls.is_some_and(|n| n.is_null(i)) {
            out.push(0);
            return;
        }
        let text = |out: &mut Vec<u8>, s: &str| {
            out.push(1);
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        match &self.column {
            Column::Null => {}
            Column::Str(a) => text(out, a.value(i)),
            Column::LargeStr(a) => text(out, a.value(i)),
            Column::View(a) => text(out, a.value(i)),
            Column::Signed(value) => {
                out.push(2);
                out.extend_from_slice(&value(i).to_le_bytes());
            }
            Column::Unsigned(value) => {
                out.push(3);
                out.extend_from_slice(&value(i).to_le_bytes());
            }
            Column::Float(value) => {
                let v = value(i);
                // one spelling of zero and of NaN: equal values, equal bytes
                let v = if v == 0.0 {
                    0.0
                } else if v.is_nan() {
                    f64::NAN
                } else {
                    v
                };
                out.push(4);
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
            Column::Bool(a) => out.extend_from_slice(&[5, u8::from(a.value(i))]),
            Column::List(offsets, items) => {
                let (start, end) = (offsets[i], offsets[i + 1]);
                out.push(6);
                out.extend_from_slice(&((end - start) as u64).to_le_bytes());
                for item in start..end {
                    items.write(out, item);
                }
            }
            Column::Struct(fields) => {
                out.push(7);
                for field in fields {
                    field.write(out, i);
                }
            }
        }
    }
}

/// The key of every row of `batches`, in order; None when a column has a type this does not cover.
fn keys(batches: &[RecordBatch]) -> Option<Vec<u64>> {
    let state = ahash::RandomState::with_seeds(
        0x7070_6374_6964_6564,
        0x6b65_7973_0000_0001,
        0x9e37_79b9_7f4a_7c15,
        0x2545_f491_4f6c_dd1d,
    );
    let mut keys = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    let mut row = Vec::with_capacity(256);
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(|c| Value::of(c.as_ref()))
            .collect::<Option<Vec<_>>>()?;
        for i in 0..batch.num_rows() {
            row.clear();
            for column in &columns {
                column.write(&mut row, i);
            }
            let mut hasher = state.build_hasher();
            hasher.write(&row);
            keys.push(hasher.finish());
        }
    }
    Some(keys)
}

/// The row keys of an Arrow table (a Polars frame, through its C stream) as a one-column table `key`
/// of UInt64; None when a column has a type this does not cover.
#[pyfunction]
pub(crate) fn row_keys(py: Python<'_>, table: PyTable) -> PyResult<Option<PyTable>> {
    let (batches, _) = table.into_inner();
    let Some(keys) = py.detach(|| keys(&batches)) else {
        return Ok(None);
    };
    let schema = Arc::new(Schema::new(vec![Field::new(
        "key",
        DataType::UInt64,
        false,
    )]));
    let column: ArrayRef = Arc::new(UInt64Array::from(keys));
    let batch = RecordBatch::try_new(schema.clone(), vec![column])
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(Some(PyTable::try_new(vec![batch], schema)?))
}
