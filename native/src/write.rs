//! Writing frames to an open file: events as JSON lines (`ndjson::encode`) and the cleaned copy of a
//! text file, one value per line, in chunks small enough to be copied to the file from the CPU cache.

use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, RawFd};

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use crate::ndjson::{self, Sink};

/// Write `bytes` to the open file descriptor `fd` (the caller has flushed its own buffer).
fn write_fd(fd: RawFd, bytes: &[u8]) -> std::io::Result<()> {
    // SAFETY: `fd` is an open descriptor the caller owns; ManuallyDrop leaves it open
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    file.write_all(bytes)
}

/// Encode a table with `encode` and write it to the file `fd` chunk by chunk;
/// false, with nothing written, when the encoder declines the table.
fn write_encoded(
    py: Python<'_>,
    table: PyTable,
    fd: RawFd,
    encode: impl FnOnce(&[RecordBatch], &mut Sink<'_>) -> std::io::Result<bool> + Send,
) -> PyResult<bool> {
    let (batches, _) = table.into_inner();
    py.detach(|| {
        let mut out = Vec::with_capacity(2 * ndjson::CHUNK);
        let mut flush = |bytes: &[u8]| write_fd(fd, bytes);
        let mut sink = Sink {
            out: &mut out,
            flush: &mut flush,
        };
        Ok(encode(&batches, &mut sink)?)
    })
}

/// Append the rows of an Arrow table (a Polars frame, through its C stream) to the file `fd` as JSON
/// lines with absent values omitted (see `ndjson`), less the rows at the positions `skip` (ascending).
/// False, with nothing written, when a column has a type the writer does not cover.
#[pyfunction]
#[pyo3(signature = (table, fd, skip=Vec::new()))]
pub(crate) fn write_ndjson(
    py: Python<'_>,
    table: PyTable,
    fd: RawFd,
    skip: Vec<u64>,
) -> PyResult<bool> {
    if skip.windows(2).any(|w| w[0] >= w[1]) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "skip: positions must be ascending",
        ));
    }
    write_encoded(py, table, fd, move |batches, sink| {
        ndjson::encode(batches, &skip, sink)
    })
}

/// Append the values of a table's only column, strings without newlines, to the file `fd`, one per line:
/// the cleaned copy of a text file. False, with nothing written, when the column is not strings.
#[pyfunction]
pub(crate) fn write_lines(py: Python<'_>, table: PyTable, fd: RawFd) -> PyResult<bool> {
    write_encoded(py, table, fd, ndjson::lines)
}
