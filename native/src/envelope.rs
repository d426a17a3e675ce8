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

/// A chunk's lines checked and hashed, before their envelopes are written into Python bytes.
struct Made<'a> {
    /// Newlines in the chunk: how far the line numbers move on.
    newlines: usize,
    /// The 0-based index, among the chunk's lines, of the first line that is not JSON.
    bad: Option<usize>,
    lines: Vec<&'a [u8]>,
    /// The ids in hex, `ID_LEN` bytes each.
    ids: Vec<u8>,
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
        let made = py.detach(|| self.make(region));
        // written straight into each bytes object: no buffer in between, and no copy of it
        let (mut total, mut longest) = (0, 0);
        let fixed = self.before_id.len()
            + ID_LEN
            + self.before_seq.len()
            + self.before_payload.len()
            + self.after.len();
        let mut values = Vec::with_capacity(made.lines.len());
        for ((line, hex), seq) in made
            .lines
            .iter()
            .zip(made.ids.chunks_exact(ID_LEN))
            .zip(first_seq..)
        {
            let mut digits = [0u8; 20];
            let seq = decimal(&mut digits, seq);
            let size = fixed + seq.len() + line.len();
            total += size;
            longest = longest.max(size);
            let parts: [&[u8]; 7] = [
                &self.before_id,
                hex,
                &self.before_seq,
                seq,
                &self.before_payload,
                line,
                &self.after,
            ];
            values.push(PyBytes::new_with(py, size, |buf| {
                let mut at = 0;
                for part in parts {
                    buf[at..at + part.len()].copy_from_slice(part);
                    at += part.len();
                }
                Ok(())
            })?);
        }
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
            PyList::new(py, values)?,
            total,
            longest,
        ))
    }
}

impl EnvelopeFrame {
    fn make<'a>(&self, region: &'a [u8]) -> Made<'a> {
        let mut made = Made {
            newlines: memchr::memchr_iter(b'\n', region).count(),
            bad: None,
            lines: Vec::new(),
            ids: Vec::new(),
        };
        for (index, line) in pieces(region).enumerate() {
            let line = strip(line);
            if line.is_empty() {
                continue;
            }
            if !is_json(line) {
                made.bad = Some(index);
                break;
            }
            made.lines.push(line);
        }
        // four hashes at a time with AVX2: about half the time of one after another
        let mut states: Vec<State> = made.lines.iter().map(|_| self.prefix.clone()).collect();
        blake2b_simd::many::update_many(states.iter_mut().zip(&made.lines));
        made.ids.reserve(made.lines.len() * ID_LEN);
        for state in &states {
            made.ids
                .extend_from_slice(state.finalize().to_hex().as_bytes());
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

/// `n` in decimal, written at the end of `digits`.
fn decimal(digits: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &digits[at..]
}

#[cfg(test)]
mod tests {
    use super::{decimal, pieces, strip};

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
            let mut digits = [0u8; 20];
            assert_eq!(decimal(&mut digits, n), n.to_string().as_bytes());
        }
    }
}
