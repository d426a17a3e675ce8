//! Compiled hot paths of ppcti: the `firewall-text` line scanner and the events writer.
//!
//! The Polars path in `ppcti.formats.firewall_text` is the reference: it reads a batch into a column of
//! lines and derives every feature with a dozen column passes over the patterns in `PATTERNS`. This
//! scanner does the same work in one pass per line, with hand-written matchers that implement those
//! patterns (it refuses to start if Python hands it different ones), and hands Polars finished columns
//! through the Arrow C stream interface. `tests/formats/test_firewall_native.py` checks that the two
//! paths give identical frames, rejects and notes on the real corpus, generated samples and random
//! lines.

mod ndjson;

use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::{FromRawFd, RawFd};
use std::sync::Arc;
use std::sync::Mutex;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringViewBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use memchr::memmem;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use regex::Regex;

/// Names of the counters a batch reports, in the order of `Notes`.
const NOTE_NAMES: [&str; 7] = [
    "blank_lines",
    "malformed_mac",
    "year_from_context",
    "year_from_run_date",
    "year_from_settings",
    "date_from_settings",
    "date_from_context",
];

#[derive(Default)]
struct Notes([i64; 7]);

impl Notes {
    fn add(&mut self, which: usize) {
        self.0[which] += 1;
    }
}

/// The parts of a line's header and the four tokens after it: what the Python pattern `_HEAD` captures.
#[derive(Default)]
struct Head<'a> {
    r_mon: Option<&'a str>,
    r_day: Option<&'a str>,
    r_year: Option<&'a str>,
    r_clock: Option<&'a str>,
    i_year: Option<&'a str>,
    i_mon: Option<&'a str>,
    i_day: Option<&'a str>,
    i_clock: Option<&'a str>,
    i_frac: Option<&'a str>,
    i_off: Option<&'a str>,
    b_mon: Option<&'a str>,
    b_day: Option<&'a str>,
    b_clock: Option<&'a str>,
    t_clock: Option<&'a str>,
    t: [Option<&'a str>; 4],
}

fn digits_at(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit)
}

fn letters_at(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_alphabetic)
}

fn clock_at(b: &[u8], at: usize) -> bool {
    digits_at(b, at, 2)
        && b.get(at + 2) == Some(&b':')
        && digits_at(b, at + 3, 2)
        && b.get(at + 5) == Some(&b':')
        && digits_at(b, at + 6, 2)
}

/// Parse the header the way the anchored pattern `_HEAD` does. Its four alternatives are told apart by
/// their first characters (letters then `/` or a space; four digits then `-`, or two then `:`), and
/// every optional part is taken whenever it fits, because what follows the header always matches: so a
/// single forward pass gives the regex engine's leftmost-first captures.
fn parse_head(text: &str) -> Option<Head<'_>> {
    let b = text.as_bytes();
    let mut at = 0;
    if b.first() == Some(&b'<') {
        let digits = b[1..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if (1..=3).contains(&digits) && b.get(1 + digits) == Some(&b'>') {
            at = 2 + digits;
        } else {
            return None;
        }
    }
    let rest = &text[at..];
    at += rest.len() - rest.trim_start().len();
    let s = |from: usize, len: usize| Some(&text[from..from + len]);
    let mut head = Head::default();
    let end;
    if letters_at(b, at, 3) && b.get(at + 3) == Some(&b'/') {
        // Mar/07/2023 10:38:03
        if !(digits_at(b, at + 4, 2)
            && b.get(at + 6) == Some(&b'/')
            && digits_at(b, at + 7, 4)
            && b.get(at + 11) == Some(&b' ')
            && clock_at(b, at + 12))
        {
            return None;
        }
        head.r_mon = s(at, 3);
        head.r_day = s(at + 4, 2);
        head.r_year = s(at + 7, 4);
        head.r_clock = s(at + 12, 8);
        end = at + 20;
    } else if letters_at(b, at, 3) {
        // Mar  2 08:14:23
        let spaces = b[at + 3..]
            .iter()
            .take(2)
            .take_while(|c| **c == b' ')
            .count();
        let day_at = at + 3 + spaces;
        let day = b[day_at.min(b.len())..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if spaces == 0
            || day == 0
            || b.get(day_at + day) != Some(&b' ')
            || !clock_at(b, day_at + day + 1)
        {
            return None;
        }
        head.b_mon = s(at, 3);
        head.b_day = s(day_at, day);
        head.b_clock = s(day_at + day + 1, 8);
        end = day_at + day + 9;
    } else if digits_at(b, at, 4) && b.get(at + 4) == Some(&b'-') {
        // 2023-03-18T20:35:05.734011+01:00
        if !(digits_at(b, at + 5, 2)
            && b.get(at + 7) == Some(&b'-')
            && digits_at(b, at + 8, 2)
            && matches!(b.get(at + 10), Some(b'T' | b' '))
            && clock_at(b, at + 11))
        {
            return None;
        }
        head.i_year = s(at, 4);
        head.i_mon = s(at + 5, 2);
        head.i_day = s(at + 8, 2);
        head.i_clock = s(at + 11, 8);
        let mut pos = at + 19;
        if matches!(b.get(pos), Some(b'.' | b',')) {
            let n = b[pos + 1..]
                .iter()
                .take(9)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n > 0 {
                head.i_frac = s(pos + 1, n);
                pos += 1 + n;
            }
        }
        if b.get(pos) == Some(&b'Z') {
            head.i_off = s(pos, 1);
            pos += 1;
        } else if matches!(b.get(pos), Some(b'+' | b'-')) && digits_at(b, pos + 1, 2) {
            let colon = usize::from(b.get(pos + 3) == Some(&b':'));
            if digits_at(b, pos + 3 + colon, 2) {
                head.i_off = s(pos, 5 + colon);
                pos += 5 + colon;
            }
        }
        end = pos;
    } else if clock_at(b, at) {
        head.t_clock = s(at, 8);
        end = at + 8;
    } else {
        return None;
    }
    let mut rest = &text[end..];
    for slot in &mut head.t {
        rest = &rest[space_end(rest)..];
        if rest.is_empty() {
            break;
        }
        let len = run_end(rest, b"");
        *slot = Some(&rest[..len]);
        rest = &rest[len..];
    }
    Some(head)
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_digit(c: u8) -> bool {
    c.wrapping_sub(b'0') < 10
}

/// The next `IPV4(:port)?` match at or after `from`, as the pattern `_IP_PORT` finds it: an address
/// starts at a digit run not preceded by a word character, its first three octets are whole digit runs
/// followed by a dot, the last one a whole digit run followed by no word character (each of 0-255
/// without a leading zero); a port is the up to five digits after a colon.
fn next_ip(b: &[u8], from: usize) -> Option<(usize, usize)> {
    // A first octet is a whole digit run with a dot right after it, so candidates are found from the
    // dots (a few per line) rather than by looking at every byte.
    for dot in memchr::memchr_iter(b'.', b.get(from..)?).map(|d| from + d) {
        let mut start = dot;
        while start > from && dot - start < 4 && is_digit(b[start - 1]) {
            start -= 1;
        }
        let run = dot - start;
        if run == 0 || run > 3 || (start > 0 && is_word(b[start - 1])) {
            continue;
        }
        if let Some(end) = address_at(b, start) {
            return Some((start, end));
        }
    }
    None
}

/// The end of the address (and port) starting at `start`, if one does.
fn address_at(b: &[u8], start: usize) -> Option<usize> {
    let n = b.len();
    let mut pos = start;
    for octet in 0..4 {
        let mut len = 0;
        let mut value = 0u32;
        while len < 4 && pos + len < n && is_digit(b[pos + len]) {
            value = value * 10 + u32::from(b[pos + len] - b'0');
            len += 1;
        }
        let valid = match len {
            1 => true,
            2 => b[pos] != b'0',
            3 => b[pos] != b'0' && value <= 255,
            _ => false,
        };
        if !valid {
            return None;
        }
        pos += len;
        if octet < 3 {
            if pos >= n || b[pos] != b'.' {
                return None;
            }
            pos += 1;
        } else if pos < n && is_word(b[pos]) {
            return None;
        }
    }
    if pos < n && b[pos] == b':' {
        let mut port = 0;
        while port < 5 && pos + 1 + port < n && is_digit(b[pos + 1 + port]) {
            port += 1;
        }
        if port > 0 {
            pos += 1 + port;
        }
    }
    Some(pos)
}

/// Where a run of whitespace (`\s*`) ends.
fn space_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if !(c == b' ' || (0x09..=0x0d).contains(&c)) {
                return i;
            }
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap_or('x');
            if !ch.is_whitespace() {
                return i;
            }
            i += ch.len_utf8();
        }
    }
    b.len()
}

/// Where a run of characters that are neither whitespace nor one of `stop` ends (`[^\s<stop>]+`).
fn run_end(text: &str, stop: &[u8]) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            if c == b' ' || (0x09..=0x0d).contains(&c) || stop.contains(&c) {
                return i;
            }
            i += 1;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            if ch.is_whitespace() {
                return i;
            }
            i += ch.len_utf8();
        }
    }
    b.len()
}

/// The first `src-mac VALUE` (`_MAC_SRC`): VALUE runs to whitespace or a comma.
fn mac_src<'a>(finder: &memmem::Finder<'_>, text: &'a str) -> Option<&'a str> {
    for at in finder.find_iter(text.as_bytes()) {
        let rest = &text[at + 8..];
        let len = run_end(rest, b",");
        if len > 0 {
            return Some(&rest[..len]);
        }
    }
    None
}

/// The first `proto NAME` with its optional ` (DETAIL)` (`_PROTO`), at a word boundary.
fn proto<'a>(finder: &memmem::Finder<'_>, text: &'a str) -> Option<(&'a str, Option<&'a str>)> {
    let b = text.as_bytes();
    for at in finder.find_iter(b) {
        if at > 0 && is_word(b[at - 1]) {
            continue;
        }
        let rest = &text[at + 6..];
        let len = run_end(rest, b"(,");
        if len == 0 {
            continue;
        }
        let detail = rest[len..]
            .strip_prefix(" (")
            .and_then(|d| memchr::memchr(b')', d.as_bytes()).map(|close| &d[..close]));
        return Some((&rest[..len], detail));
    }
    None
}

/// The patterns of `ppcti.formats.firewall_text.PATTERNS` that the hand-written matchers implement. The
/// scanner refuses to start when Python passes others (someone changed a pattern): the format then
/// falls back to its Polars path instead of silently parsing by the old rules.
const IMPLEMENTED: [(&str, &str); 5] = [
    (
        "head",
        r#"^(?:<(?P<pri>[0-9]{1,3})>)?\s*(?:(?P<r_mon>[A-Za-z]{3})/(?P<r_day>[0-9]{2})/(?P<r_year>[0-9]{4}) (?P<r_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})|(?P<i_year>[0-9]{4})-(?P<i_mon>[0-9]{2})-(?P<i_day>[0-9]{2})[T ](?P<i_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:[.,](?P<i_frac>[0-9]{1,9}))?(?P<i_off>Z|[+-][0-9]{2}:?[0-9]{2})?|(?P<b_mon>[A-Za-z]{3}) {1,2}(?P<b_day>[0-9]{1,2}) (?P<b_clock>[0-9]{2}:[0-9]{2}:[0-9]{2})|(?P<t_clock>[0-9]{2}:[0-9]{2}:[0-9]{2}))\s*(?P<t1>\S+)?(?:\s+(?P<t2>\S+))?(?:\s+(?P<t3>\S+))?(?:\s+(?P<t4>\S+))?"#,
    ),
    (
        "ip_port",
        r#"(?-u:\b)(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}(?-u:\b)(?::[0-9]{1,5})?"#,
    ),
    (
        "host_ip",
        r#"^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$"#,
    ),
    ("mac_src", r#"src-mac ([^\s,]+)"#),
    (
        "proto",
        r#"(?-u:\b)proto (?P<name>[^\s(,]+)(?: \((?P<detail>[^)]*)\))?"#,
    ),
];

/// What a scan hands back: the table, the note counters by name, and the oversized lines.
type ScanResult = (PyTable, Vec<(&'static str, i64)>, Vec<(i64, String)>);

/// Scans batches of firewall text; one instance per file, so that the last complete date carries over
/// from one batch to the next.
#[pyclass(module = "ppcti_native")]
struct FirewallScanner {
    mac_any: Regex,
    src_mac_finder: memmem::Finder<'static>,
    proto_finder: memmem::Finder<'static>,
    ips: Vec<(usize, usize)>,
    timestamp: String,
    upper: String,
    max_line_bytes: usize,
    year: Option<i32>,
    date: Option<String>,
    run_year: i32,
    #[pyo3(get)]
    last_date: Option<String>,
}

fn compile(pattern: &str) -> PyResult<Regex> {
    Regex::new(pattern).map_err(|e| PyValueError::new_err(e.to_string()))
}

#[pymethods]
impl FirewallScanner {
    /// `patterns` are the format's patterns by name: `mac_any` (the fallback MAC, rarely needed) is used
    /// as it is; `head`, `ip_port`, `host_ip`, `mac_src` and `proto` are what the hand-written matchers
    /// below implement, twice as fast as the same patterns on the `regex` crate.
    #[new]
    #[pyo3(signature = (patterns, *, max_line_bytes, year, date, run_year))]
    fn new(
        patterns: std::collections::HashMap<String, String>,
        max_line_bytes: usize,
        year: Option<i32>,
        date: Option<String>,
        run_year: i32,
    ) -> PyResult<Self> {
        let get = |key: &str| -> PyResult<Regex> {
            compile(
                patterns
                    .get(key)
                    .ok_or_else(|| PyValueError::new_err(format!("missing pattern {key}")))?,
            )
        };
        for (key, implemented) in IMPLEMENTED {
            if patterns.get(key).map(String::as_str) != Some(implemented) {
                return Err(PyValueError::new_err(format!(
                    "pattern {key} differs from the one the compiled scanner implements"
                )));
            }
        }
        Ok(Self {
            mac_any: get("mac_any")?,
            src_mac_finder: memmem::Finder::new(b"src-mac ").into_owned(),
            proto_finder: memmem::Finder::new(b"proto ").into_owned(),
            ips: Vec::new(),
            timestamp: String::new(),
            upper: String::new(),
            max_line_bytes,
            year,
            date,
            run_year,
            last_date: None,
        })
    }

    /// Scan `data` (whole lines; the last one may lack its newline), whose first line is `first_line`.
    ///
    /// Returns `(table, notes, oversized)`: the table has one row per non-blank line within the size
    /// limit, with the event columns, `raw` and `_reason` (null for events); `oversized` lists the lines
    /// over the limit as `(line, first 200 characters)`.
    fn scan(&mut self, py: Python<'_>, data: &[u8], first_line: i64) -> PyResult<ScanResult> {
        let (batch, notes, oversized) = py.detach(|| self.scan_batch(data, first_line));
        let schema = batch.schema();
        let table = PyTable::try_new(vec![batch], schema)?;
        let notes = NOTE_NAMES.iter().copied().zip(notes.0).collect();
        Ok((table, notes, oversized))
    }
}

struct Columns {
    line: Int64Builder,
    timestamp: StringViewBuilder,
    src_ip: StringViewBuilder,
    src_port: Int32Builder,
    dst_ip: StringViewBuilder,
    dst_port: Int32Builder,
    nat_ip: StringViewBuilder,
    protocol: StringViewBuilder,
    src_mac: StringViewBuilder,
    host: StringViewBuilder,
    chain: StringViewBuilder,
    prefix: StringViewBuilder,
    tcp_flags: StringViewBuilder,
    icmp: StringViewBuilder,
    mac_malformed: BooleanBuilder,
    raw: StringViewBuilder,
    reason: StringViewBuilder,
}

impl Columns {
    fn with_capacity(rows: usize) -> Self {
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

    fn finish(mut self) -> RecordBatch {
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

enum Month<'a> {
    Number(i32),
    Text(&'a str),
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_of(name: &str) -> Option<i32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as i32 + 1)
}

/// Polars' `str.slice(offset, length)` of a date text (always ASCII here: it is built from digits).
fn char_slice(text: &str, offset: usize, length: usize) -> &str {
    let end = (offset + length).min(text.len());
    text.get(offset.min(end)..end).unwrap_or("")
}

/// Polars' lenient integer cast of a string (`cast(pl.Int32, strict=False)`).
fn int_of(text: &str) -> Option<i32> {
    text.parse::<i32>().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn month_days(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `HH:MM:SS` within a day, as seconds.
fn clock_seconds(clock: &str) -> Option<i64> {
    let b = clock.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<i64> {
        let (h, l) = (b[i], b[i + 1]);
        (h.is_ascii_digit() && l.is_ascii_digit())
            .then(|| i64::from(h - b'0') * 10 + i64::from(l - b'0'))
    };
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    (h <= 23 && m <= 59 && s <= 59).then_some(h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn push_digits(out: &mut String, value: i64, width: usize) {
    if width == 2 && (0..100).contains(&value) {
        out.push(char::from(b'0' + (value / 10) as u8));
        out.push(char::from(b'0' + (value % 10) as u8));
        return;
    }
    let mut digits = [b'0'; 20];
    let mut v = value.unsigned_abs();
    let mut n = 0;
    while v > 0 || n < width {
        digits[19 - n] = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
    }
    for d in &digits[20 - n..] {
        out.push(char::from(*d));
    }
}

/// Write the STIX timestamp of checked parts, shifted by a written UTC offset, into `out`; false for
/// impossible dates (what the reference's `utc_parts_expr` and `stix_timestamp_expr` make null).
fn stix_timestamp(
    out: &mut String,
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    clock: Option<&str>,
    fraction: Option<&str>,
    offset_minutes: Option<i64>,
) -> bool {
    out.clear();
    let (Some(y), Some(m), Some(d), Some(clock)) = (year, month, day, clock) else {
        return false;
    };
    let (y, m, d) = (i64::from(y), i64::from(m), i64::from(d));
    let Some(seconds) = clock_seconds(clock) else {
        return false;
    };
    let shifted = matches!(offset_minutes, Some(o) if o != 0);
    // UTC parts are only checked; a real offset goes through the calendar (year 0 is a valid input
    // there, as in the reference's strptime)
    let lowest = if shifted { 0 } else { 1 };
    if !(lowest..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > month_days(y, m) {
        return false;
    }
    if shifted {
        let total = days_from_civil(y, m, d) * 86_400 + seconds - offset_minutes.unwrap_or(0) * 60;
        let (yy, mm, dd) = civil_from_days(total.div_euclid(86_400));
        let s = total.rem_euclid(86_400);
        if !(0..=9999).contains(&yy) {
            return false;
        }
        for (value, width, sep) in [
            (yy, 4, '-'),
            (mm, 2, '-'),
            (dd, 2, 'T'),
            (s / 3600, 2, ':'),
            (s / 60 % 60, 2, ':'),
            (s % 60, 2, ' '),
        ] {
            push_digits(out, value, width);
            if sep != ' ' {
                out.push(sep);
            }
        }
    } else {
        for (value, width, sep) in [(y, 4, '-'), (m, 2, '-'), (d, 2, 'T')] {
            push_digits(out, value, width);
            out.push(sep);
        }
        out.push_str(clock);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out.push('Z');
    true
}

/// The written offset in minutes: `Z`, `+hh:mm`, `-hhmm`.
fn offset_minutes(off: Option<&str>) -> Option<i64> {
    let off = off?;
    if off == "Z" {
        return Some(0);
    }
    let digits: Vec<i64> = off
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| i64::from(b - b'0'))
        .collect();
    if digits.len() < 4 {
        return None;
    }
    let sign = if off.starts_with('-') { -1 } else { 1 };
    Some(sign * ((digits[0] * 10 + digits[1]) * 60 + digits[2] * 10 + digits[3]))
}

fn is_canonical_mac(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(c)
            }
        })
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// `ppcti.clean.mac.normalise_mac_series`: lower-case colon form, or None when not a whole MAC.
fn normalise_mac(raw: &str) -> Option<String> {
    let lowered = raw.to_lowercase();
    if is_canonical_mac(&lowered) {
        return Some(lowered);
    }
    let l = raw.trim().to_lowercase();
    let b = l.as_bytes();
    let colons = b.iter().filter(|c| **c == b':').count();
    let dashes = b.iter().filter(|c| **c == b'-').count();
    if (colons == 5) ^ (dashes == 5) {
        let groups: Vec<&str> = l.split([':', '-']).collect();
        if groups.len() == 6
            && groups
                .iter()
                .all(|g| (1..=2).contains(&g.len()) && g.bytes().all(is_lower_hex))
        {
            let padded: Vec<String> = groups.iter().map(|g| format!("{g:0>2}")).collect();
            return Some(padded.join(":"));
        }
    }
    let dotted = b.len() == 14
        && b[4] == b'.'
        && b[9] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 9 || is_lower_hex(*c));
    let bare = b.len() == 12 && b.iter().all(|c| is_lower_hex(*c));
    if dotted || bare {
        let hexes: Vec<u8> = b.iter().copied().filter(|c| *c != b'.').collect();
        let pairs: Vec<&str> = hexes
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap_or(""))
            .collect();
        return Some(pairs.join(":"));
    }
    None
}

fn split_port(found: &str) -> (&str, Option<i32>) {
    match memchr::memchr(b':', found.as_bytes()) {
        // the port is 1-5 ASCII digits (see `address_at`)
        Some(at) => {
            let port = found.as_bytes()[at + 1..]
                .iter()
                .fold(0i32, |v, d| v * 10 + i32::from(d - b'0'));
            (&found[..at], (port <= 65_535).then_some(port))
        }
        None => (found, None),
    }
}

impl FirewallScanner {
    fn scan_batch(
        &mut self,
        data: &[u8],
        first_line: i64,
    ) -> (RecordBatch, Notes, Vec<(i64, String)>) {
        let body = data.strip_suffix(b"\n").unwrap_or(data);
        let mut cols = Columns::with_capacity(memchr::memchr_iter(b'\n', body).count() + 1);
        let mut notes = Notes::default();
        let mut oversized = Vec::new();
        if data.is_empty() {
            return (cols.finish(), notes, oversized);
        }
        // a newline never belongs to an invalid sequence, so decoding the chunk once equals per line
        let all: Cow<str> = match simdutf8::basic::from_utf8(body) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(body),
        };
        // the raw lines are views into one copy of the chunk rather than copied line by line
        let block = (all.len() < u32::MAX as usize).then(|| {
            cols.raw
                .append_block(arrow_buffer::Buffer::from(all.as_bytes()))
        });
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', all.as_bytes()).chain(std::iter::once(all.len()));
        for (index, end) in ends.enumerate() {
            let line = &all[start..end];
            start = end + 1;
            let number = first_line + index as i64;
            let text = line.strip_suffix('\r').unwrap_or(line);
            if text.trim().is_empty() {
                notes.add(0);
                continue;
            }
            if text.len() > self.max_line_bytes {
                oversized.push((number, text.chars().take(200).collect()));
                continue;
            }
            self.scan_line(number, text, &mut cols, &mut notes);
            match block {
                // SAFETY: the block holds `all`'s bytes and `text` is a slice of `all`: the range is
                // within the block, and valid UTF-8 on character boundaries
                Some(id) => unsafe {
                    let offset = text.as_ptr() as usize - all.as_ptr() as usize;
                    cols.raw
                        .append_view_unchecked(id, offset as u32, text.len() as u32);
                },
                None => cols.raw.append_value(text),
            }
        }
        (cols.finish(), notes, oversized)
    }

    fn scan_line(&mut self, number: i64, text: &str, cols: &mut Columns, notes: &mut Notes) {
        let h = parse_head(text).unwrap_or_default();
        let (r_mon, r_day, r_year, r_clock) = (h.r_mon, h.r_day, h.r_year, h.r_clock);
        let (i_year, i_mon, i_day, i_clock) = (h.i_year, h.i_mon, h.i_day, h.i_clock);
        let (i_frac, i_off) = (h.i_frac, h.i_off);
        let (b_mon, b_day, b_clock, t_clock) = (h.b_mon, h.b_day, h.b_clock, h.t_clock);
        let [t1, t2, t3, t4] = h.t;

        // dates: the last complete one carries forward to lines that lack one
        let full_date = match (r_year, r_mon, r_day) {
            (Some(y), Some(m), Some(d)) => month_of(m).map(|m| (y, Month::Number(m), d)),
            _ => None,
        }
        .or(match (i_year, i_mon, i_day) {
            (Some(y), Some(m), Some(d)) => Some((y, Month::Text(m), d)),
            _ => None,
        });
        if let Some((y, m, d)) = full_date {
            let date = self.last_date.get_or_insert_with(String::new);
            date.clear();
            date.push_str(y);
            date.push('-');
            match m {
                Month::Number(n) => push_digits(date, i64::from(n), 2),
                Month::Text(t) => date.push_str(t),
            }
            date.push('-');
            date.push_str(d);
        }
        let known = self.last_date.as_deref();
        let is_bsd = b_clock.is_some();
        let is_time_only = t_clock.is_some();
        if self.year.is_none() {
            if is_bsd && known.is_some() {
                notes.add(2);
            } else if is_bsd {
                notes.add(3);
            }
        } else if is_bsd {
            notes.add(4);
        }
        let day_for_time = match &self.date {
            Some(d) => {
                if is_time_only {
                    notes.add(5);
                }
                Some(d.as_str())
            }
            None => {
                if is_time_only && known.is_some() {
                    notes.add(6);
                }
                known
            }
        };
        let year = if let Some(y) = r_year.or(i_year) {
            int_of(y)
        } else if is_bsd {
            Some(
                self.year
                    .or_else(|| known.and_then(|k| int_of(char_slice(k, 0, 4))))
                    .unwrap_or(self.run_year),
            )
        } else {
            day_for_time.and_then(|d| int_of(char_slice(d, 0, 4)))
        };
        let month = if let Some(m) = r_mon {
            month_of(m)
        } else if let Some(m) = i_mon {
            int_of(m)
        } else if let Some(m) = b_mon {
            month_of(m)
        } else {
            day_for_time.and_then(|d| int_of(char_slice(d, 5, 2)))
        };
        let day = match r_day.or(i_day).or(b_day) {
            Some(d) => int_of(d),
            None => day_for_time.and_then(|d| int_of(char_slice(d, 8, 2))),
        };
        let clock = r_clock.or(i_clock).or(b_clock).or(t_clock);
        let no_date = is_time_only && day_for_time.is_none();
        let stamped = stix_timestamp(
            &mut self.timestamp,
            year,
            month,
            day,
            clock,
            i_frac,
            offset_minutes(i_off),
        );

        // tokens after the header: relay host, topics, rule prefix, chain
        // ':' and ',' are ASCII, so a byte test is a character test
        let contains = |t: Option<&str>, c: &[u8]| t.map(|t| t.bytes().any(|b| c.contains(&b)));
        let ends = |t: Option<&str>| t.is_some_and(|t| t.ends_with(':'));
        let has_host = (i_clock.is_some() || is_bsd)
            && contains(t2, b",").unwrap_or(false)
            && !contains(t1, b":,").unwrap_or(true);
        let (t1c, t2c) = (
            contains(t1, b",").unwrap_or(false),
            contains(t2, b",").unwrap_or(false),
        );
        let (e2, e3, e4) = (ends(t2), ends(t3), ends(t4));
        let host = if has_host { t1 } else { None };
        let direct = !has_host && t1c;
        let relayed = has_host && t2c;
        let chain = if direct && e2 {
            t2
        } else if (direct || relayed) && e3 {
            t3
        } else if relayed && e4 {
            t4
        } else {
            None
        }
        .map(|c| c.strip_suffix(':').unwrap_or(c));
        let prefix = if direct && !e2 && e3 {
            t2
        } else if relayed && !e3 && e4 {
            t3
        } else {
            None
        };

        // addresses, read from the whole line; a relay host that is an address is not one of them
        let bytes = text.as_bytes();
        self.ips.clear();
        let mut from = 0;
        while let Some((start, end)) = next_ip(bytes, from) {
            self.ips.push((start, end));
            from = end;
        }
        let host_is_ip = host.is_some_and(|h| {
            next_ip(h.as_bytes(), 0) == Some((0, h.len()))
                && memchr::memchr(b':', h.as_bytes()).is_none()
        });
        let ips = &self.ips[usize::from(host_is_ip).min(self.ips.len())..];
        let address = |i: Option<&(usize, usize)>| i.map(|(a, b)| split_port(&text[*a..*b]));
        let (src_ip, src_port) =
            address(ips.first()).map_or((None, None), |(ip, port)| (Some(ip), port));
        let (dst_ip, dst_port) =
            address(ips.get(1)).map_or((None, None), |(ip, port)| (Some(ip), port));
        let nat_ip = if ips.len() > 2 {
            address(ips.last()).map(|(ip, _)| ip)
        } else {
            None
        };

        let mac_raw = mac_src(&self.src_mac_finder, text).or_else(|| {
            self.mac_any
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str())
        });
        let mut mac_buf = [0u8; 17];
        let src_mac: Option<Cow<str>> = mac_raw.and_then(|raw| {
            if raw.len() == 17 && raw.is_ascii() {
                mac_buf.copy_from_slice(raw.as_bytes());
                mac_buf.make_ascii_lowercase();
                if let Ok(lowered) = std::str::from_utf8(&mac_buf) {
                    if is_canonical_mac(lowered) {
                        return Some(Cow::Owned(lowered.to_owned()));
                    }
                }
            }
            normalise_mac(raw).map(Cow::Owned)
        });
        let mac_malformed = mac_raw.is_some() && src_mac.is_none();
        if mac_malformed {
            notes.add(1);
        }

        let mut detail = None;
        let protocol = proto(&self.proto_finder, text).map(|(name, d)| {
            detail = d;
            self.upper.clear();
            if name.is_ascii() {
                self.upper.push_str(name);
                self.upper.make_ascii_uppercase();
            } else {
                self.upper.push_str(&name.to_uppercase());
            }
            self.upper.as_str()
        });
        let tcp_flags: Option<Cow<str>> = match protocol {
            Some("TCP") => detail.map(|d| {
                if memchr::memchr(b' ', d.as_bytes()).is_some() {
                    Cow::Owned(d.replace(' ', ""))
                } else {
                    Cow::Borrowed(d)
                }
            }),
            _ => None,
        };
        let icmp = match protocol {
            Some("ICMP") => detail,
            _ => None,
        };

        let reason = if ips.is_empty() {
            Some("no IP address")
        } else if clock.is_none() {
            Some("no timestamp at the start of the line")
        } else if no_date {
            Some("time without a date: set --date")
        } else if !stamped {
            Some("invalid timestamp")
        } else {
            None
        };

        cols.line.append_value(number);
        cols.timestamp
            .append_option(stamped.then_some(self.timestamp.as_str()));
        cols.src_ip.append_option(src_ip);
        cols.src_port.append_option(src_port);
        cols.dst_ip.append_option(dst_ip);
        cols.dst_port.append_option(dst_port);
        cols.nat_ip.append_option(nat_ip);
        cols.protocol.append_option(protocol);
        cols.src_mac.append_option(src_mac.as_deref());
        cols.host.append_option(host);
        cols.chain.append_option(chain);
        cols.prefix.append_option(prefix);
        cols.tcp_flags.append_option(tcp_flags.as_deref());
        cols.icmp.append_option(icmp);
        cols.mac_malformed
            .append_option(mac_malformed.then_some(true));
        cols.reason.append_option(reason);
    }
}

/// A buffer kept from one write to the next: a fresh one per batch costs a page fault per 4 KiB.
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Write `bytes` to the open file descriptor `fd` (the caller has flushed its own buffer).
fn write_fd(fd: RawFd, bytes: &[u8]) -> std::io::Result<()> {
    // SAFETY: `fd` is an open descriptor the caller owns; ManuallyDrop leaves it open
    let mut file = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    file.write_all(bytes)
}

/// Encode a table with `encode` into the kept buffer and write it to the file `fd`; false, with nothing
/// written, when the encoder declines the table.
fn write_encoded(
    py: Python<'_>,
    table: PyTable,
    fd: RawFd,
    encode: fn(&[RecordBatch], &mut Vec<u8>) -> bool,
) -> PyResult<bool> {
    let (batches, _) = table.into_inner();
    py.detach(|| {
        let mut out = OUTPUT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        out.clear();
        if !encode(&batches, &mut out) {
            return Ok(false);
        }
        write_fd(fd, &out)?;
        Ok(true)
    })
}

/// Append the rows of an Arrow table (a Polars frame, through its C stream) to the file `fd` as JSON
/// lines with absent values omitted (see `ndjson`). False, with nothing written, when a column has a
/// type the writer does not cover.
#[pyfunction]
fn write_ndjson(py: Python<'_>, table: PyTable, fd: RawFd) -> PyResult<bool> {
    write_encoded(py, table, fd, ndjson::encode)
}

/// Append the values of a table's only column, strings without newlines, to the file `fd`, one per line:
/// the cleaned copy of a text file. False, with nothing written, when the column is not strings.
#[pyfunction]
fn write_lines(py: Python<'_>, table: PyTable, fd: RawFd) -> PyResult<bool> {
    write_encoded(py, table, fd, ndjson::lines)
}

/// Raised whenever the Python side may no longer match this build (a signature, a rule outside the
/// patterns): `ppcti.native` uses the module only when the numbers agree, so a stale build is ignored.
const INTERFACE: u32 = 1;

#[pymodule]
fn ppcti_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("INTERFACE", INTERFACE)?;
    m.add_function(wrap_pyfunction!(write_ndjson, m)?)?;
    m.add_function(wrap_pyfunction!(write_lines, m)?)?;
    m.add_class::<FirewallScanner>()?;
    m.add_class::<PyTable>()?;
    Ok(())
}
