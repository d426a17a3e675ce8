//! The first occurrences a run's deduplication has seen, keyed by the 64-bit hash of each normalised
//! event: one hash-map look-up per row. The Python reference (`ppcti.clean.dedup._History`) keeps
//! sorted runs that it merges as they grow and binary-searches per batch; at 600,000 events that was a
//! fifth of an events-json run's CPU.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Int64Array, RecordBatch, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// The keys are hashes already (Polars' row hash): used as they are.
#[derive(Default)]
struct Pass(u64);

impl Hasher for Pass {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // only `write_u64` is used for `u64` keys; fold anything else in all the same
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// Where an event was first seen: file number, line (`NO_LINE` when the row had none), raw-text hash;
/// 24 bytes, where an `Option` for the line made it 32 (the map is most of a long run's dedup memory).
type First = (u32, i64, u64);

/// A row without a line number: line numbers count from 1, so no row has this one.
const NO_LINE: i64 = i64::MIN;

/// The events a run has seen, by hash (one per format group on the Python side).
#[pyclass]
pub(crate) struct SeenEvents {
    first: HashMap<u64, First, BuildHasherDefault<Pass>>,
}

fn column<'a>(batch: &'a RecordBatch, name: &str, want: &DataType) -> PyResult<&'a ArrayRef> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| PyValueError::new_err(format!("missing column {name}")))?;
    if column.data_type() != want {
        return Err(PyValueError::new_err(format!(
            "column {name} is {}, not {want}",
            column.data_type()
        )));
    }
    Ok(column)
}

#[pymethods]
impl SeenEvents {
    #[new]
    fn new() -> Self {
        Self {
            first: HashMap::default(),
        }
    }

    fn __len__(&self) -> usize {
        self.first.len()
    }

    /// One batch's rows, in order (`_h` u64 event hash, `_raw` u64 raw-text hash, `_line` i64): a row
    /// is a duplicate when its `_h` was seen in an earlier batch or an earlier row of this one, and is
    /// remembered with `file` otherwise. Returns `dup` and, for the duplicates, where their event was
    /// first seen (`_first_file`, `_first_line`, `_first_raw`; null on the other rows).
    fn mark(&mut self, py: Python<'_>, keys: PyTable, file: u32) -> PyResult<PyTable> {
        let (batches, _) = keys.into_inner();
        let batch = py.detach(|| {
            let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
            let mut dup = Vec::with_capacity(rows);
            let mut of_file = Vec::with_capacity(rows);
            let mut of_line = Vec::with_capacity(rows);
            let mut of_raw = Vec::with_capacity(rows);
            self.first.reserve(rows);
            for batch in &batches {
                let hashes = column(batch, "_h", &DataType::UInt64)?.as_primitive::<UInt64Type>();
                let raws = column(batch, "_raw", &DataType::UInt64)?.as_primitive::<UInt64Type>();
                let lines = column(batch, "_line", &DataType::Int64)?.as_primitive::<Int64Type>();
                if hashes.null_count() > 0 || raws.null_count() > 0 {
                    return Err(PyValueError::new_err("null hash"));
                }
                for i in 0..batch.num_rows() {
                    let line = if lines.is_valid(i) {
                        lines.value(i)
                    } else {
                        NO_LINE
                    };
                    match self.first.entry(hashes.value(i)) {
                        Entry::Occupied(seen) => {
                            let (f, l, r) = *seen.get();
                            dup.push(true);
                            of_file.push(Some(f));
                            of_line.push((l != NO_LINE).then_some(l));
                            of_raw.push(Some(r));
                        }
                        Entry::Vacant(slot) => {
                            slot.insert((file, line, raws.value(i)));
                            dup.push(false);
                            of_file.push(None);
                            of_line.push(None);
                            of_raw.push(None);
                        }
                    }
                }
            }
            let schema = Schema::new(vec![
                Field::new("dup", DataType::Boolean, false),
                Field::new("_first_file", DataType::UInt32, true),
                Field::new("_first_line", DataType::Int64, true),
                Field::new("_first_raw", DataType::UInt64, true),
            ]);
            let arrays: Vec<ArrayRef> = vec![
                Arc::new(BooleanArray::from(dup)),
                Arc::new(UInt32Array::from(of_file)),
                Arc::new(Int64Array::from(of_line)),
                Arc::new(UInt64Array::from(of_raw)),
            ];
            RecordBatch::try_new(Arc::new(schema), arrays)
                .map_err(|e| PyValueError::new_err(e.to_string()))
        })?;
        let schema = batch.schema();
        PyTable::try_new(vec![batch], schema)
    }
}
