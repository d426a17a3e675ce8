//! Whether the lines of a chunk of a file are UTF-8: the whole-file pass with which
//! `ppcti.ingest.detect.detect_encoding` picks a codec. Python's way to ask was to decode each chunk
//! into a string and throw it away; `simdutf8` answers without building anything.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// `(utf8_seen, fallback_lines)` for complete lines, as `ppcti.ingest.textcodec.count_lines` counts
/// them: nothing for ASCII, one for a chunk that is valid UTF-8 beyond ASCII, else per line (split on
/// LF) one `utf8_seen` per valid non-ASCII line and one `fallback_lines` per invalid one.
#[pyfunction]
pub(crate) fn utf8_lines(py: Python<'_>, data: &Bound<'_, PyBytes>) -> (u64, u64) {
    let data = data.as_bytes();
    py.detach(|| count(data))
}

fn count(data: &[u8]) -> (u64, u64) {
    if data.is_ascii() {
        return (0, 0);
    }
    if simdutf8::basic::from_utf8(data).is_ok() {
        return (1, 0);
    }
    let (mut seen, mut fallback) = (0, 0);
    for line in data.split(|&c| c == b'\n') {
        if line.is_ascii() {
            continue;
        }
        if simdutf8::basic::from_utf8(line).is_ok() {
            seen += 1;
        } else {
            fallback += 1;
        }
    }
    (seen, fallback)
}

/// Whether `data` is valid UTF-8 (strict: no surrogates, no overlong forms), as Python's codec reads it.
#[pyfunction]
pub(crate) fn utf8_valid(py: Python<'_>, data: &Bound<'_, PyBytes>) -> bool {
    let data = data.as_bytes();
    py.detach(|| simdutf8::basic::from_utf8(data).is_ok())
}
