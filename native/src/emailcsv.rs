//! The row reader of `email-csv`: one CSV line to one event row, as the Python reference
//! (`ppcti.formats.email_csv._Rows.add` after `CsvRecords`) makes it.
//!
//! Per line: split it as the `csv` module does (`csvline`, into a field list reused from line to line),
//! read its fields under the column roles as `ppcti.clean.repair.read_row` does (a row with the
//! header's field count whose every field fits its role has one reading, the fields as written: one pass
//! in `emailfast` checks, cleans and writes it; any other row goes through `repair`'s search: the row as
//! written, or repaired when exactly one reading exists), then build what `_Rows.add` builds into the
//! Arrow columns (`emailcols`): the timestamp, the addresses in order without
//! repeats, sender, recipients, subject, verdict, source IP, and the row written back as CSV as read
//! (`raw`) and as cleaned. A line is then an event, a reject with the reference's reason (no reading, an
//! ambiguous repair, no address), blank, or handed back to Python ("fallback"): a record over several
//! lines, an unbalanced quote, a date or an address whose reading only Python is sure of.
//! `tests/formats/test_email_native.py` checks that a run writes the same bytes with and without this
//! reader, and that it ran.

use std::borrow::Cow;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use pyo3_arrow::PyTable;

use crate::csvline::{py_strip, split_into, write_row};
use crate::emailcols::Columns;
use crate::emailfast::{Plain, Scratch};
use crate::mail::{addresses_in, clean_email, timestamp};
use crate::repair::{fits, read_row, Dates, Fit, Repair, Role};
use arrow_array::RecordBatch;

/// The keys of `HEADER_ROLES` the row reads (others are kept in the cleaned row only).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Date,
    Sender,
    Recipients,
    Subject,
    Verdict,
    SrcIp,
    Other,
}

const KEYS: [Key; 5] = [
    Key::Date,
    Key::Subject,
    Key::Verdict,
    Key::SrcIp,
    Key::Other,
];

/// Reads the data lines of one e-mail CSV file, once its header is known.
#[pyclass(module = "ppcti_native")]
pub(crate) struct EmailCsvReader {
    header: Vec<String>,
    pub(crate) roles: Vec<Role>,
    pub(crate) keys: Vec<Option<Key>>,
    pub(crate) delimiter: u8,
    pub(crate) quote: u8,
    pub(crate) dates: Dates,
    /// Whether the keys go with the roles as `HEADER_ROLES` pairs them (the date key with date columns,
    /// sender with address, recipients with addresses, the others with plain values), which the plain
    /// row's pass (`emailfast`) relies on.
    plain: bool,
}

/// One decided row.
struct Row {
    timestamp: String,
    src_ip: Option<String>,
    emails: Vec<String>,
    sender: Option<String>,
    recipients: Vec<String>,
    subject: Option<String>,
    verdict: Option<String>,
    raw: String,
    cleaned: String,
    repaired: Option<&'static str>,
}

enum Outcome {
    Event(Box<Row>),
    /// A row rejected with a reason the reference gives in these words, and its stage.
    Reject(String, &'static str),
    Fallback,
}

/// Why a row with no address is rejected, in the reference's words.
const NO_ADDRESS: &str = "no e-mail address";

/// A rejected row: the index of its line, the reason, the row as read, the stage.
type Rejected = (u32, String, String, &'static str);

/// What `read` hands back: the events table, the fallback and blank lines as indexes of the input, and
/// the rejected rows.
type ReadResult = (PyTable, Vec<u32>, Vec<u32>, Vec<Rejected>);

#[pymethods]
impl EmailCsvReader {
    /// `header` names, and `roles` and `keys` per header column (`Role` values; `HEADER_ROLES` keys or `None`); one-byte
    /// ASCII `delimiter` and `quotechar`; `utc`: dates without an offset are UTC (otherwise they are
    /// left to Python); `day_first`: `TimeContext.date_order == "DMY"`.
    #[new]
    fn new(
        header: Vec<String>,
        roles: Vec<String>,
        keys: Vec<Option<String>>,
        delimiter: &str,
        quotechar: &str,
        utc: bool,
        day_first: bool,
    ) -> PyResult<Self> {
        let byte = |text: &str| match text.as_bytes() {
            [c] if c.is_ascii() && !matches!(c, b'\r' | b'\n' | 0) => Ok(*c),
            _ => Err(PyValueError::new_err(format!(
                "not a one-byte ASCII delimiter or quote: {text:?}"
            ))),
        };
        let (delimiter, quote) = (byte(delimiter)?, byte(quotechar)?);
        if delimiter == quote || roles.len() != keys.len() || roles.len() != header.len() {
            return Err(PyValueError::new_err("inconsistent CSV dialect or header"));
        }
        let roles = roles
            .iter()
            .map(|r| match r.as_str() {
                "date" => Ok(Role::Date),
                "address" => Ok(Role::Address),
                "addresses" => Ok(Role::Addresses),
                "text" => Ok(Role::Text),
                "token" => Ok(Role::Token),
                "ip" => Ok(Role::Ip),
                other => Err(PyValueError::new_err(format!(
                    "unknown column role {other:?}"
                ))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let keys: Vec<Option<Key>> = keys
            .iter()
            .map(|k| {
                k.as_deref().map(|k| match k {
                    "date" => Key::Date,
                    "sender" => Key::Sender,
                    "recipients" => Key::Recipients,
                    "subject" => Key::Subject,
                    "verdict" => Key::Verdict,
                    "src_ip" => Key::SrcIp,
                    _ => Key::Other,
                })
            })
            .collect();
        let plain = roles.iter().zip(&keys).all(|(role, key)| match *key {
            Some(Key::Date) => *role == Role::Date,
            Some(Key::Sender) => *role == Role::Address,
            Some(Key::Recipients) => *role == Role::Addresses,
            Some(Key::Subject | Key::Verdict | Key::SrcIp) => {
                matches!(role, Role::Text | Role::Token | Role::Ip)
            }
            Some(Key::Other) | None => *role != Role::Date,
        });
        Ok(Self {
            header,
            roles,
            keys,
            delimiter,
            quote,
            dates: Dates { utc, day_first },
            plain,
        })
    }

    /// Read `lines[start:]` (str, none holding a line break), the first of which is line `first_line`.
    /// Returns `(events, fallback, blank, rejects)`: `events` has `line`, `timestamp`, `src_ip`,
    /// `emails`, `sender`, `recipients` (lists of addresses), `subject`, `verdict`, `raw`, `cleaned` and
    /// `repaired` (see `emailcols`); the others give lines as indexes from `start`. Raises
    /// `UnicodeEncodeError` for a line Python cannot write as UTF-8 (a lone surrogate).
    fn read(
        &self,
        py: Python<'_>,
        lines: &Bound<'_, PyList>,
        start: usize,
        first_line: i64,
    ) -> PyResult<ReadResult> {
        let items: Vec<Bound<'_, PyString>> = lines
            .iter()
            .skip(start)
            .map(|line| line.cast_into::<PyString>().map_err(PyErr::from))
            .collect::<PyResult<_>>()?;
        // the texts of Python's strings as they are (ASCII ones without a copy)
        let texts: Vec<&str> = items
            .iter()
            .map(|line| line.to_str())
            .collect::<PyResult<_>>()?;
        let (batch, fallback, blank, rejects) = py.detach(|| self.read_lines(&texts, first_line));
        let schema = batch.schema();
        Ok((
            PyTable::try_new(vec![batch], schema)?,
            fallback,
            blank,
            rejects,
        ))
    }

    /// `read` of the lines of `data` (UTF-8 bytes of whole lines, the last one possibly without its
    /// newline, split as `line_starts` splits them) from line index `start` on; the line at index
    /// `start` is line `first_line`. None when `data` is not UTF-8.
    fn read_bytes(
        &self,
        py: Python<'_>,
        data: &[u8],
        start: usize,
        first_line: i64,
    ) -> PyResult<Option<ReadResult>> {
        let found = py.detach(|| {
            let text = std::str::from_utf8(data).ok()?;
            let (lines, _) = split_lines(text);
            let from = start.min(lines.len());
            Some(self.read_lines(&lines[from..], first_line))
        });
        let Some((batch, fallback, blank, rejects)) = found else {
            return Ok(None);
        };
        let schema = batch.schema();
        Ok(Some((
            PyTable::try_new(vec![batch], schema)?,
            fallback,
            blank,
            rejects,
        )))
    }
}

/// Where each line of `data` starts, as `ppcti.ingest.lines` splits a file into lines (on `\n`, one
/// `\r` before it dropped, text after the last newline a line of its own), and then one past the end
/// of the last line's newline (as if it had one): little-endian `u32`s. None when Python must split
/// `data`: not UTF-8, 4 GiB or more, or a line of more than `max_line_bytes` bytes without its end.
#[pyfunction]
pub(crate) fn line_starts(
    py: Python<'_>,
    data: &[u8],
    max_line_bytes: usize,
) -> Option<Py<PyBytes>> {
    let starts = py.detach(|| {
        let text = std::str::from_utf8(data).ok()?;
        u32::try_from(data.len()).ok()?.checked_add(1)?;
        let (lines, starts) = split_lines(text);
        if lines.iter().any(|line| line.len() > max_line_bytes) {
            return None;
        }
        Some(
            starts
                .iter()
                .flat_map(|s| s.to_le_bytes())
                .collect::<Vec<u8>>(),
        )
    })?;
    Some(PyBytes::new(py, &starts).unbind())
}

/// The lines of `text` as `ppcti.ingest.lines` reads them (see `read_bytes`), and where each starts,
/// then one past the end of the last one's newline.
fn split_lines(text: &str) -> (Vec<&str>, Vec<u32>) {
    let bytes = text.as_bytes();
    let mut lines = Vec::with_capacity(bytes.len() / 64 + 1);
    let mut starts = Vec::with_capacity(bytes.len() / 64 + 2);
    let mut at = 0;
    for end in memchr::memchr_iter(b'\n', bytes) {
        starts.push(at as u32);
        let line = &text[at..end];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        at = end + 1;
    }
    if at < bytes.len() {
        starts.push(at as u32);
        let line = &text[at..];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        at = bytes.len() + 1;
    }
    starts.push(at as u32);
    (lines, starts)
}

impl EmailCsvReader {
    fn read_lines(
        &self,
        lines: &[&str],
        first_line: i64,
    ) -> (RecordBatch, Vec<u32>, Vec<u32>, Vec<Rejected>) {
        let mut columns = Columns::with_capacity(lines.len());
        let (mut fallback, mut blank, mut rejects) = (Vec::new(), Vec::new(), Vec::new());
        let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(self.roles.len() + 4);
        let mut scratch = Scratch::default();
        for (index, &line) in lines.iter().enumerate() {
            let index = index as u32;
            let line_no = first_line + i64::from(index);
            if !split_into(line, self.delimiter, self.quote, &mut fields) {
                fallback.push(index);
                continue;
            }
            if fields.iter().all(|f| py_strip(f).is_empty()) {
                blank.push(index);
                continue;
            }
            let outcome = if self.plain && fields.len() == self.roles.len() {
                match self.read_plain(line_no, line, &fields, &mut scratch, &mut columns) {
                    Plain::Event => continue,
                    Plain::NoAddress => Outcome::Reject(NO_ADDRESS.to_owned(), "parse"),
                    Plain::Unknown => Outcome::Fallback,
                    Plain::Misfit => self.read_fields(&fields),
                }
            } else {
                self.read_fields(&fields)
            };
            match outcome {
                Outcome::Event(row) => columns.push(line_no, &row),
                Outcome::Reject(reason, stage) => {
                    let mut raw = String::with_capacity(line.len());
                    write_row(&mut raw, &fields, char::from(self.delimiter));
                    rejects.push((index, reason, raw, stage));
                }
                Outcome::Fallback => fallback.push(index),
            }
        }
        (columns.finish(), fallback, blank, rejects)
    }

    /// A row whose fields are read (not blank), through the search of its readings.
    fn read_fields(&self, fields: &[Cow<'_, str>]) -> Outcome {
        let fields: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
        let delimiter = char::from(self.delimiter);
        // one reading, or none or two (a reject, whose reason Python words), or a check left to Python
        let (n, m) = (fields.len(), self.roles.len());
        match read_row(&fields, &self.roles, delimiter, self.dates).as_deref() {
            Some([(values, repair)]) => match self.row(&fields, values, *repair) {
                Some(Ok(row)) => Outcome::Event(Box::new(row)),
                Some(Err(reason)) => Outcome::Reject(reason.to_owned(), "parse"),
                None => Outcome::Fallback,
            },
            Some([]) => self.misfit(&fields),
            Some(_) => Outcome::Reject(
                format!("{n} fields where the header has {m}, and the repair is ambiguous"),
                "repair",
            ),
            None => Outcome::Fallback,
        }
    }

    /// `_Rows._misfit`: why a row has no reading, the first column whose value has the wrong type (named
    /// as `repr` writes it: plain ASCII names only), or the field count.
    fn misfit(&self, fields: &[&str]) -> Outcome {
        let (n, m) = (fields.len(), self.roles.len());
        if n == m {
            for ((name, role), value) in self.header.iter().zip(&self.roles).zip(fields) {
                match fits(*role, value, self.dates) {
                    Fit::Yes => {}
                    Fit::Unknown => return Outcome::Fallback,
                    Fit::No => {
                        let plain = name
                            .bytes()
                            .all(|c| (0x20..0x7f).contains(&c) && c != b'\\' && c != b'\'');
                        if !plain {
                            return Outcome::Fallback;
                        }
                        let what = match role {
                            Role::Date => "date",
                            Role::Address => "address",
                            Role::Addresses => "addresses",
                            Role::Text => "text",
                            Role::Token => "token",
                            Role::Ip => "ip",
                        };
                        return Outcome::Reject(
                            format!("column '{name}' does not hold a valid {what}"),
                            "parse",
                        );
                    }
                }
            }
        }
        Outcome::Reject(
            format!("{n} fields where the header has {m}, and no repair fits the columns"),
            "repair",
        )
    }

    /// `_Rows.add` for the one reading of a row: `values` per column. `Err` with the reason of a
    /// rejected row, `None` when the date is left to Python.
    fn row<S: AsRef<str>>(
        &self,
        fields: &[&str],
        values: &[S],
        repair: Repair,
    ) -> Option<Result<Row, &'static str>> {
        let mut found: [Option<&str>; KEYS.len()] = [None; KEYS.len()];
        let slot = |key: Key| KEYS.iter().position(|k| *k == key);
        let mut emails: Vec<String> = Vec::new();
        let mut recipients: Vec<String> = Vec::new();
        let mut sender: Option<String> = None;
        let mut cleaned: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(values.len());
        for ((role, key), value) in self.roles.iter().zip(&self.keys).zip(values) {
            let value = value.as_ref();
            match role {
                Role::Address => {
                    if let Some(address) = clean_email(value) {
                        if *key == Some(Key::Sender) && sender.is_none() {
                            sender = Some(address.clone());
                        }
                        cleaned.push(address.clone().into());
                        add(&mut emails, address);
                    } else {
                        cleaned.push("".into());
                    }
                }
                Role::Addresses => {
                    let found = addresses_in(value).unwrap_or_default();
                    cleaned.push(found.join(";").into());
                    for address in found {
                        if *key == Some(Key::Recipients) {
                            add(&mut recipients, address.clone());
                        }
                        add(&mut emails, address);
                    }
                }
                _ => {
                    cleaned.push(value.into());
                    let text = py_strip(value);
                    if let Some(i) = key.and_then(slot) {
                        if found[i].is_none() && !text.is_empty() {
                            found[i] = Some(text);
                        }
                    }
                }
            }
        }
        // the first date column's date: every date column fits, so it is one the rules read
        let timestamp = timestamp(found[0]?, self.dates.utc, self.dates.day_first)?;
        if emails.is_empty() {
            return Some(Err(NO_ADDRESS));
        }
        for (role, value) in self.roles.iter().zip(cleaned.iter_mut()) {
            if *role == Role::Date {
                *value = timestamp.as_str().into();
            }
        }
        let delimiter = char::from(self.delimiter);
        let mut raw = String::with_capacity(128);
        write_row(&mut raw, fields, delimiter);
        let mut cleaned_text = String::with_capacity(raw.len());
        write_row(&mut cleaned_text, &cleaned, delimiter);
        let owned = |key: Key| slot(key).and_then(|i| found[i]).map(str::to_owned);
        Some(Ok(Row {
            src_ip: owned(Key::SrcIp),
            subject: owned(Key::Subject),
            verdict: owned(Key::Verdict),
            emails,
            recipients,
            sender,
            raw,
            cleaned: cleaned_text,
            timestamp,
            repaired: repair.name(),
        }))
    }
}

/// Append `address` unless the list holds it already (rows have a handful of addresses).
fn add(list: &mut Vec<String>, address: String) {
    if !list.contains(&address) {
        list.push(address);
    }
}

impl Columns {
    /// A row the search decided (a repaired row, or one a plain pass could not take).
    fn push(&mut self, line: i64, row: &Row) {
        self.line.append_value(line);
        self.timestamp.append_value(&row.timestamp);
        self.src_ip.append_option(row.src_ip.as_deref());
        for address in &row.emails {
            self.emails.values().append_value(address);
        }
        self.emails.append(true);
        self.sender.append_option(row.sender.as_deref());
        if row.recipients.is_empty() {
            self.recipients.append_null();
        } else {
            for address in &row.recipients {
                self.recipients.values().append_value(address);
            }
            self.recipients.append(true);
        }
        self.subject.append_option(row.subject.as_deref());
        self.verdict.append_option(row.verdict.as_deref());
        self.raw.append_value(&row.raw);
        self.cleaned.append_value(&row.cleaned);
        self.repaired.append_option(row.repaired);
    }
}
