//! The Kafka envelopes of a chunk of `cti/bundles.jsonl`, made with the GIL released.
//!
//! `ppcti.bus.batches` reads the file 4 MB at a time; for each chunk this splits the lines, strips them
//! as Python's `bytes.strip` does, checks each is one JSON value as orjson accepts it (`jsoncheck`),
//! computes its content id (BLAKE2b-128 of the run's prefix and the line, in hex) and formats its
//! envelope from the run's fixed parts: the same bytes as `ppcti.bus.envelope.encode`, which stays the
//! reference (`tests/bus/test_bus_batches_native.py` compares the two). Publishing then has only the
//! produce call left per message, and the next chunk is made on another thread meanwhile.

use blake2b_simd::{Params, State};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use crate::jsoncheck::is_json;

/// What the envelopes of one kind, run and holder share; `chunk` makes a chunk's envelopes.
#[pyclass(frozen, module = "ppcti_native")]
pub(crate) struct EnvelopeFrame {
    before_id: Vec<u8>,
    before_seq: Vec<u8>,
    before_payload: Vec<u8>,
    after: Vec<u8>,
    /// The id hash after the prefix `kind\0run\0holder\0`: cloned for every line.
    prefix: State,
}

/// The envelopes of one chunk, before they become Python objects.
struct Made {
    /// Newlines in the chunk: how far the line numbers move on.
    newlines: usize,
    /// The 0-based index, among the chunk's lines, of the first line that is not JSON.
    bad: Option<usize>,
    ids: Vec<u8>,
    out: Vec<u8>,
    ends: Vec<usize>,
    longest: usize,
}

const ID_LEN: usize = 32;

/// What `chunk` returns to Python: `(newlines, bad, ids, values, total_bytes, longest)`.
type Chunk<'py> = (
    usize,
    Option<usize>,
    Bound<'py, PyList>,
    Bound<'py, PyList>,
    usize,
    usize,
);

#[pymethods]
impl EnvelopeFrame {
    /// `before_id`, `before_seq`, `before_payload`, `after`: the envelope around its id, seq and payload
    /// (`ppcti.bus.envelope.envelope_parts`); `id_prefix`: what the content id hashes before the payload.
    #[new]
    fn new(
        before_id: &[u8],
        before_seq: &[u8],
        before_payload: &[u8],
        after: &[u8],
        id_prefix: &[u8],
    ) -> Self {
        let mut prefix = Params::new().hash_length(16).to_state();
        prefix.update(id_prefix);
        Self {
            before_id: before_id.to_vec(),
            before_seq: before_seq.to_vec(),
            before_payload: before_payload.to_vec(),
            after: after.to_vec(),
            prefix,
        }
    }

    /// The envelopes of the lines in `data[:end]`, numbered from `first_seq` (blank lines skipped):
    /// `(newlines, bad, ids, values, total_bytes, longest)`. `bad` is the index of the first line that
    /// is not JSON, counted from 0 over the lines of the chunk; then the lists stop before it.
    fn chunk<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        end: usize,
        first_seq: u64,
    ) -> PyResult<Chunk<'py>> {
        let region = data.get(..end).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err("end lies past the chunk's data")
        })?;
        let made = py.detach(|| self.make(region, first_seq));
        let mut start = 0;
        let values = PyList::new(
            py,
            made.ends.iter().map(|&stop| {
                let value = PyBytes::new(py, &made.out[start..stop]);
                start = stop;
                value
            }),
        )?;
        let ids = PyList::new(
            py,
            made.ids
                .chunks_exact(ID_LEN)
                .map(|hex| PyString::new(py, std::str::from_utf8(hex).unwrap_or_default())),
        )?;
        Ok((
            made.newlines,
            made.bad,
            ids,
            values,
            made.out.len(),
            made.longest,
        ))
    }
}

impl EnvelopeFrame {
    fn make(&self, region: &[u8], first_seq: u64) -> Made {
        let mut made = Made {
            newlines: memchr::memchr_iter(b'\n', region).count(),
            bad: None,
            ids: Vec::new(),
            out: Vec::with_capacity(region.len() + region.len() / 8),
            ends: Vec::new(),
            longest: 0,
        };
        let mut lines: Vec<&[u8]> = Vec::new();
        for (index, line) in pieces(region).enumerate() {
            let line = strip(line);
            if line.is_empty() {
                continue;
            }
            if !is_json(line) {
                made.bad = Some(index);
                break;
            }
            lines.push(line);
        }
        // four hashes at a time with AVX2: about half the time of one after another
        let mut states: Vec<State> = lines.iter().map(|_| self.prefix.clone()).collect();
        blake2b_simd::many::update_many(states.iter_mut().zip(&lines));
        made.ids.reserve(lines.len() * ID_LEN);
        made.ends.reserve(lines.len());
        for (seq, (line, state)) in (first_seq..).zip(lines.iter().zip(&states)) {
            let hex = state.finalize().to_hex();
            let started = made.out.len();
            made.out.extend_from_slice(&self.before_id);
            made.out.extend_from_slice(hex.as_bytes());
            made.out.extend_from_slice(&self.before_seq);
            push_decimal(&mut made.out, seq);
            made.out.extend_from_slice(&self.before_payload);
            made.out.extend_from_slice(line);
            made.out.extend_from_slice(&self.after);
            made.longest = made.longest.max(made.out.len() - started);
            made.ends.push(made.out.len());
            made.ids.extend_from_slice(hex.as_bytes());
        }
        made
    }
}

/// The pieces of `region` between newlines, as `region.split(b"\n")` in Python; found with `memchr`,
/// several times faster than testing byte by byte.
fn pieces(region: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', region).chain(std::iter::once(region.len()));
    std::iter::from_fn(move || {
        let end = ends.next()?;
        let piece = &region[start..end];
        start = end + 1;
        Some(piece)
    })
}

/// Python's `bytes.strip()`: its ASCII whitespace includes the vertical tab (Rust's `trim_ascii` does
/// not).
fn strip(line: &[u8]) -> &[u8] {
    let space = |b: &u8| b" \t\n\r\x0b\x0c".contains(b);
    let Some(first) = line.iter().position(|b| !space(b)) else {
        return b"";
    };
    let last = line.iter().rposition(|b| !space(b)).unwrap_or(first);
    &line[first..=last]
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::{pieces, push_decimal, strip};

    #[test]
    fn pieces_as_python_split() {
        fn split(b: &[u8]) -> Vec<&[u8]> {
            pieces(b).collect()
        }
        assert_eq!(split(b""), [b""]);
        assert_eq!(split(b"a\n\nb"), [&b"a"[..], b"", b"b"]);
        assert_eq!(split(b"a\n"), [&b"a"[..], b""]);
    }

    #[test]
    fn strips_as_python() {
        assert_eq!(strip(b"\x0b\x0c\t {} \x0b\x0c\r"), b"{}");
        assert_eq!(strip(b" \t"), b"");
        assert_eq!(strip(b"1"), b"1");
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 1_234_567, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
