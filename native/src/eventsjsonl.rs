//! The reader of ppcti's own `events.jsonl` for the analysis: only the columns of
//! `ppcti.analysis.load.SCAN_SCHEMA`, read on all cores, with the timestamps already in microseconds.
//!
//! The reference is Polars' `scan_ndjson(path, schema=SCAN_SCHEMA)` followed by `load.typed`. Polars
//! parses every value of every line into a tape and then builds the columns (the nested `extra` as a
//! struct of 19 string fields); here each line goes once through `serde_json` with a visitor that
//! appends the values it wants straight to Arrow builders and skips the rest, strings borrowed from the
//! line (`eventsline`; the builders and the timestamp rule are in `eventscols`). The file is cut into
//! line-aligned segments, one per core, each read with its own handle; fields of `extra` null in every
//! line are left out of the table.
//!
//! It takes a file only when it is certain to read it as Polars does. Anything else makes the whole
//! file go to the reference (`None`), so errors and results stay the reference's: a value of another
//! type than its column's (Polars turns numbers into strings and refuses strings for integers), a
//! number that is not an integer in range (`-0` included: serde reads it as a float), a key of
//! interest written twice, a line serde refuses (`1e400` included), bytes that are not UTF-8, an empty file. Timestamps
//! not in the plain `YYYY-MM-DDTHH:MM:SS[.f]Z` form, or on a leap second, are handed over as text
//! (`_ts`) for Polars' `strptime` to decide. `tests/analysis/test_load_native.py` compares the frames.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use arrow_array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use crate::eventscols::{Columns, MAX_FIELDS};
use crate::eventsline::{read_line, Decline};

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
    // zeroed once and reused: the bytes of a read go after the unfinished line kept from the last one
    let mut buf: Vec<u8> = vec![0; 2 * READ];
    let mut held = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Decline);
        }
        if buf.len() < held + READ {
            buf.resize(held + READ, 0); // a line longer than a read
        }
        let n = file
            .read(&mut buf[held..held + READ])
            .map_err(|_| Decline)?;
        held += n;
        let data = &buf[..held];
        let eof = n == 0;
        let mut from = 0;
        if skip {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    from = i + 1;
                    skip = false;
                }
                None if eof => break,
                None => continue,
            }
        }
        while offset + (from as u64) < end {
            match memchr::memchr(b'\n', &data[from..]) {
                Some(i) => {
                    read_line(&data[from..from + i], &mut columns, &fields)?;
                    from += i + 1;
                }
                None if eof => {
                    read_line(&data[from..], &mut columns, &fields)?;
                    from = held;
                    break;
                }
                None => break,
            }
        }
        if eof || offset + (from as u64) >= end {
            break;
        }
        buf.copy_within(from..held, 0);
        held -= from;
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
