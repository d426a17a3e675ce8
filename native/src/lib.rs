//! Compiled hot paths of ppcti: the `firewall-text` line scanner, the `events-json` NDJSON reader, the
//! `email-csv` row reader and the events writer.
//!
//! The Polars path in `ppcti.formats.firewall_text` is the reference: it reads a batch into a column of
//! lines and derives every feature with a dozen column passes over the patterns in `PATTERNS`. This
//! scanner does the same work in one pass per line, with hand-written matchers that implement those
//! patterns (it refuses to start if Python hands it different ones), and hands Polars finished columns
//! through the Arrow C stream interface. `tests/formats/test_firewall_native.py` checks that the two
//! paths give identical frames, rejects and notes on the real corpus, generated samples and random
//! lines.
//!
//! Modules, one job each: `scan` (the scanner and its steps per line), `head` (the line header),
//! `address` (IPv4 and ports), `matchers` (`src-mac`, `proto`, MAC normalisation), `text` (character
//! runs), `time` (calendar and STIX timestamps), `columns` (the Arrow columns of a scan), `events`,
//! `jsonscan`, `eventsbatch` and `values` (the NDJSON reader of `events-json`: lines, the one-pass scan,
//! the Arrow batch, the value rules), `emailcsv`, `emailfast`, `emailcols`, `csvline`, `mail` and
//! `repair` (the row reader of `email-csv`, its pass over plain rows and its columns: CSV lines as
//! Python's `csv` module reads and writes them, address and date rules, the search for a row's
//! readings), `eventsjsonl`, `eventsline` and
//! `eventscols` (the analysis' reader of ppcti's own events.jsonl: files and segments, lines, columns),
//! `ndjson` (the JSON-lines encoder), `linecount` (the newlines of a chunk of lines), `write` (writing encoded frames to a file), `formula` (the
//! entries of a cleaned CSV copy to make safe), `envelope` and
//! `jsoncheck` (the Kafka envelopes of a chunk of CTI bundles, and the JSON check they rest on), `seen`
//! (the events deduplication has seen, by hash).

mod address;
mod columns;
mod csvline;
mod emailcols;
mod emailcsv;
mod emailfast;
mod envelope;
mod events;
mod eventsbatch;
mod eventscols;
mod eventsjsonl;
mod eventsline;
mod formula;
mod head;
mod json;
mod jsoncheck;
mod jsonscan;
mod linecount;
mod mail;
mod matchers;
mod ndjson;
mod repair;
mod scan;
mod seen;
mod text;
mod time;
mod values;
mod write;

use pyo3::prelude::*;
use pyo3_arrow::PyTable;

/// Raised whenever the Python side may no longer match this build (a signature, a rule outside the
/// patterns): `ppcti.native` uses the module only when the numbers agree, so a stale build is ignored.
const INTERFACE: u32 = 15;

#[pymodule]
fn ppcti_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("INTERFACE", INTERFACE)?;
    m.add_function(wrap_pyfunction!(write::write_ndjson, m)?)?;
    m.add_function(wrap_pyfunction!(write::write_lines, m)?)?;
    m.add_function(wrap_pyfunction!(linecount::count_newlines, m)?)?;
    m.add_function(wrap_pyfunction!(formula::risky_rows, m)?)?;
    m.add_class::<scan::FirewallScanner>()?;
    m.add_class::<events::EventsReader>()?;
    m.add_function(wrap_pyfunction!(eventsjsonl::read_events_jsonl, m)?)?;
    m.add_function(wrap_pyfunction!(eventsjsonl::read_events_block, m)?)?;
    m.add_class::<emailcsv::EmailCsvReader>()?;
    m.add_function(wrap_pyfunction!(emailcsv::line_starts, m)?)?;
    m.add_class::<envelope::EnvelopeFrame>()?;
    m.add_class::<seen::SeenEvents>()?;
    m.add_class::<PyTable>()?;
    Ok(())
}
