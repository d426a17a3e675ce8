//! The `firewall-text` line scanner: one pass per line over the header, tokens, addresses, MAC and
//! protocol, with the hand-written matchers of `head`, `address` and `matchers` standing in for the
//! patterns of `ppcti.formats.firewall_text.PATTERNS`.
//!
//! A line is read in steps, each a function below: the header (`parse_head`), the date it carries or
//! inherits (`FirewallScanner::when`), the tokens after it (`tokens`), the addresses (`addresses`),
//! the MAC (`FirewallScanner::src_mac`), the protocol (`protocol`), and finally why it is rejected, if
//! it is (`reason`).

use std::borrow::Cow;
use std::collections::HashMap;

use arrow_array::RecordBatch;
use memchr::memmem;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use regex::Regex;

use crate::address::{next_ip, split_port};
use crate::columns::Columns;
use crate::head::{parse_head, Head};
use crate::matchers::{is_canonical_mac, mac_src, normalise_mac, proto};
use crate::time::{
    char_slice, int_of, month_of, offset_minutes, push_digits, stix_timestamp, Month,
};

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

/// Indexes into `NOTE_NAMES`.
const BLANK: usize = 0;
const MALFORMED_MAC: usize = 1;
const YEAR_FROM_CONTEXT: usize = 2;
const YEAR_FROM_RUN_DATE: usize = 3;
const YEAR_FROM_SETTINGS: usize = 4;
const DATE_FROM_SETTINGS: usize = 5;
const DATE_FROM_CONTEXT: usize = 6;

#[derive(Default)]
struct Notes([i64; 7]);

impl Notes {
    fn add(&mut self, which: usize) {
        self.0[which] += 1;
    }
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
pub(crate) struct FirewallScanner {
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
        patterns: HashMap<String, String>,
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

/// When a line happened, as parts (checked by `stix_timestamp`), and whether it had a time but no date
/// to put it on.
struct When<'a> {
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    clock: Option<&'a str>,
    no_date: bool,
}

/// What the tokens after the header say: a relay host, the firewall chain and the rule prefix.
struct Tokens<'a> {
    host: Option<&'a str>,
    chain: Option<&'a str>,
    prefix: Option<&'a str>,
}

/// The tokens after the header: a relay host comes first when the second token holds the topics (a
/// comma) and the first does not; the chain is the token ending in `:` after the topics, the prefix
/// the token between them. `:` and `,` are ASCII, so a byte test is a character test.
fn tokens<'a>(h: &Head<'a>) -> Tokens<'a> {
    let [t1, t2, t3, t4] = h.t;
    let contains = |t: Option<&str>, c: &[u8]| t.map(|t| t.bytes().any(|b| c.contains(&b)));
    let ends = |t: Option<&str>| t.is_some_and(|t| t.ends_with(':'));
    let has_host = (h.i_clock.is_some() || h.b_clock.is_some())
        && contains(t2, b",").unwrap_or(false)
        && !contains(t1, b":,").unwrap_or(true);
    let (t1c, t2c) = (
        contains(t1, b",").unwrap_or(false),
        contains(t2, b",").unwrap_or(false),
    );
    let (e2, e3, e4) = (ends(t2), ends(t3), ends(t4));
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
    Tokens {
        host: if has_host { t1 } else { None },
        chain,
        prefix,
    }
}

/// Source, destination and NAT address of a line.
struct Addresses<'a> {
    src_ip: Option<&'a str>,
    src_port: Option<i32>,
    dst_ip: Option<&'a str>,
    dst_port: Option<i32>,
    nat_ip: Option<&'a str>,
    /// Whether the line holds any address (besides a relay host).
    any: bool,
}

/// The addresses of the whole line, in order, into `found`; a relay host that is an address is not
/// one of them. The first is the source, the second the destination, a third or later the last NAT.
fn addresses<'a>(
    text: &'a str,
    host: Option<&str>,
    found: &mut Vec<(usize, usize)>,
) -> Addresses<'a> {
    let bytes = text.as_bytes();
    found.clear();
    let mut from = 0;
    while let Some((start, end)) = next_ip(bytes, from) {
        found.push((start, end));
        from = end;
    }
    let host_is_ip = host.is_some_and(|h| {
        next_ip(h.as_bytes(), 0) == Some((0, h.len()))
            && memchr::memchr(b':', h.as_bytes()).is_none()
    });
    let ips = &found[usize::from(host_is_ip).min(found.len())..];
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
    Addresses {
        src_ip,
        src_port,
        dst_ip,
        dst_port,
        nat_ip,
        any: !ips.is_empty(),
    }
}

/// The protocol in upper case, with the TCP flags or ICMP type its detail gives.
struct Protocol<'a> {
    name: Option<&'a str>,
    tcp_flags: Option<Cow<'a, str>>,
    icmp: Option<&'a str>,
}

/// `proto NAME (DETAIL)`: NAME upper-cased into `upper`; DETAIL is the TCP flags (spaces dropped) or
/// the ICMP type, by protocol.
fn protocol<'a>(finder: &memmem::Finder<'_>, text: &'a str, upper: &'a mut String) -> Protocol<'a> {
    let Some((name, detail)) = proto(finder, text) else {
        return Protocol {
            name: None,
            tcp_flags: None,
            icmp: None,
        };
    };
    upper.clear();
    if name.is_ascii() {
        upper.push_str(name);
        upper.make_ascii_uppercase();
    } else {
        upper.push_str(&name.to_uppercase());
    }
    let name = upper.as_str();
    let tcp_flags = match name {
        "TCP" => detail.map(|d| {
            if memchr::memchr(b' ', d.as_bytes()).is_some() {
                Cow::Owned(d.replace(' ', ""))
            } else {
                Cow::Borrowed(d)
            }
        }),
        _ => None,
    };
    let icmp = match name {
        "ICMP" => detail,
        _ => None,
    };
    Protocol {
        name: Some(name),
        tcp_flags,
        icmp,
    }
}

/// Why a line is not an event, in the order the reference checks.
fn reason(addresses: &Addresses<'_>, when: &When<'_>, stamped: bool) -> Option<&'static str> {
    if !addresses.any {
        Some("no IP address")
    } else if when.clock.is_none() {
        Some("no timestamp at the start of the line")
    } else if when.no_date {
        Some("time without a date: set --date")
    } else if !stamped {
        Some("invalid timestamp")
    } else {
        None
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
                notes.add(BLANK);
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
        self.carry_date(&h);
        let when = self.when(&h, notes);
        let stamped = stix_timestamp(
            &mut self.timestamp,
            when.year,
            when.month,
            when.day,
            when.clock,
            h.i_frac,
            offset_minutes(h.i_off),
        );
        let tokens = tokens(&h);
        let addresses = addresses(text, tokens.host, &mut self.ips);
        let (src_mac, mac_malformed) = self.src_mac(text);
        if mac_malformed {
            notes.add(MALFORMED_MAC);
        }
        let reason = reason(&addresses, &when, stamped);
        let protocol = protocol(&self.proto_finder, text, &mut self.upper);

        cols.line.append_value(number);
        cols.timestamp
            .append_option(stamped.then_some(self.timestamp.as_str()));
        cols.src_ip.append_option(addresses.src_ip);
        cols.src_port.append_option(addresses.src_port);
        cols.dst_ip.append_option(addresses.dst_ip);
        cols.dst_port.append_option(addresses.dst_port);
        cols.nat_ip.append_option(addresses.nat_ip);
        cols.protocol.append_option(protocol.name);
        cols.src_mac.append_option(src_mac.as_deref());
        cols.host.append_option(tokens.host);
        cols.chain.append_option(tokens.chain);
        cols.prefix.append_option(tokens.prefix);
        cols.tcp_flags.append_option(protocol.tcp_flags.as_deref());
        cols.icmp.append_option(protocol.icmp);
        cols.mac_malformed
            .append_option(mac_malformed.then_some(true));
        cols.reason.append_option(reason);
    }

    /// A complete date in the header becomes the last known date, which lines without one inherit.
    fn carry_date(&mut self, h: &Head<'_>) {
        let full_date = match (h.r_year, h.r_mon, h.r_day) {
            (Some(y), Some(m), Some(d)) => month_of(m).map(|m| (y, Month::Number(m), d)),
            _ => None,
        }
        .or(match (h.i_year, h.i_mon, h.i_day) {
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
    }

    /// The date and time parts of a line: its own where the header has them; else a BSD header's year
    /// from the settings, the last known date or the run's year, and a bare time's date from the
    /// settings or the last known date. Counts where each assumption came from.
    fn when<'a>(&self, h: &Head<'a>, notes: &mut Notes) -> When<'a> {
        let known = self.last_date.as_deref();
        let is_bsd = h.b_clock.is_some();
        let is_time_only = h.t_clock.is_some();
        if self.year.is_none() {
            if is_bsd && known.is_some() {
                notes.add(YEAR_FROM_CONTEXT);
            } else if is_bsd {
                notes.add(YEAR_FROM_RUN_DATE);
            }
        } else if is_bsd {
            notes.add(YEAR_FROM_SETTINGS);
        }
        let day_for_time = match &self.date {
            Some(d) => {
                if is_time_only {
                    notes.add(DATE_FROM_SETTINGS);
                }
                Some(d.as_str())
            }
            None => {
                if is_time_only && known.is_some() {
                    notes.add(DATE_FROM_CONTEXT);
                }
                known
            }
        };
        let year = if let Some(y) = h.r_year.or(h.i_year) {
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
        let month = if let Some(m) = h.r_mon {
            month_of(m)
        } else if let Some(m) = h.i_mon {
            int_of(m)
        } else if let Some(m) = h.b_mon {
            month_of(m)
        } else {
            day_for_time.and_then(|d| int_of(char_slice(d, 5, 2)))
        };
        let day = match h.r_day.or(h.i_day).or(h.b_day) {
            Some(d) => int_of(d),
            None => day_for_time.and_then(|d| int_of(char_slice(d, 8, 2))),
        };
        When {
            year,
            month,
            day,
            clock: h.r_clock.or(h.i_clock).or(h.b_clock).or(h.t_clock),
            no_date: is_time_only && day_for_time.is_none(),
        }
    }

    /// The source MAC, normalised, and whether one was written but is not a MAC (`src-mac VALUE`
    /// first, then the format's fallback pattern).
    fn src_mac(&self, text: &str) -> (Option<String>, bool) {
        let mac_raw = mac_src(&self.src_mac_finder, text).or_else(|| {
            self.mac_any
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str())
        });
        let Some(raw) = mac_raw else {
            return (None, false);
        };
        if raw.len() == 17 && raw.is_ascii() {
            let mut mac_buf = [0u8; 17];
            mac_buf.copy_from_slice(raw.as_bytes());
            mac_buf.make_ascii_lowercase();
            if let Ok(lowered) = std::str::from_utf8(&mac_buf) {
                if is_canonical_mac(lowered) {
                    return (Some(lowered.to_owned()), false);
                }
            }
        }
        let mac = normalise_mac(raw);
        let malformed = mac.is_none();
        (mac, malformed)
    }
}
