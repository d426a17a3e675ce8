//! The plain row of `email-csv`: as many fields as the header has columns, each of which fits its role.
//!
//! Most rows of an export are such rows, and `repair::read_row` then has one reading, the fields as
//! written (a repair needs more or fewer fields than columns). For them the reader skips the search:
//! one pass over the fields checks each against its role and cleans it at once (an address is looked
//! up once to check it and keep it), into buffers reused from row to row, and writes the row's values
//! straight into the Arrow columns. The first check that is not a certain yes ends the pass: a no
//! sends the row to the search (which rejects or repairs it as before), an unknown to Python.

use std::borrow::Cow;

use crate::csvline::{py_strip, write_field};
use crate::emailcols::Columns;
use crate::emailcsv::{EmailCsvReader, Key};
use crate::mail::{cleaned, each_address, with_timestamp};
use crate::repair::{date_fit_of, fits, Fit, Role};

/// What the pass made of a row.
pub(crate) enum Plain {
    /// An event, written to the columns.
    Event,
    /// Every column fits, and none holds an address: rejected as the reference rejects it.
    NoAddress,
    /// A column that does not fit: the search decides.
    Misfit,
    /// Python decides.
    Unknown,
}

/// Buffers reused from row to row.
#[derive(Default)]
pub(crate) struct Scratch {
    /// The cleaned addresses of the row, back to back, and where each starts and ends.
    addresses: String,
    spans: Vec<(usize, usize)>,
    /// The row's addresses without repeats, and its recipients, as indexes of `spans`.
    emails: Vec<usize>,
    recipients: Vec<usize>,
    /// Per column, the first and one-past-last index of its addresses in `spans`.
    columns: Vec<(usize, usize)>,
    timestamp: String,
    text: String,
}

impl Scratch {
    fn address(&self, at: usize) -> &str {
        let (start, end) = self.spans[at];
        &self.addresses[start..end]
    }

    /// Keep address `at` in the row's addresses, and in its recipients when `recipient`, unless they
    /// hold it already (rows have a handful of addresses).
    fn add(&mut self, at: usize, recipient: bool) {
        let address = self.address(at);
        let holds = |list: &[usize]| list.iter().any(|&k| self.address(k) == address);
        let (email, recipient) = (!holds(&self.emails), recipient && !holds(&self.recipients));
        if email {
            self.emails.push(at);
        }
        if recipient {
            self.recipients.push(at);
        }
    }
}

impl EmailCsvReader {
    /// Read a row whose field count is the header's (`fields`, of `line`) into `columns`.
    pub(crate) fn read_plain(
        &self,
        line_no: i64,
        line: &str,
        fields: &[Cow<'_, str>],
        s: &mut Scratch,
        columns: &mut Columns,
    ) -> Plain {
        s.addresses.clear();
        s.spans.clear();
        s.emails.clear();
        s.recipients.clear();
        s.columns.clear();
        s.timestamp.clear();
        let (mut dated, mut sender) = (false, None);
        let (mut src_ip, mut subject, mut verdict) = (None, None, None);
        for ((role, key), field) in self.roles.iter().zip(&self.keys).zip(fields) {
            let field = field.as_ref();
            let first = s.spans.len();
            let fit = match role {
                Role::Date => {
                    let text = py_strip(field);
                    if text.is_empty() {
                        Fit::No
                    } else {
                        let (utc, day_first) = (self.dates.utc, self.dates.day_first);
                        let read = with_timestamp(text, utc, day_first, |found| match found {
                            Some(found) if !dated => {
                                // the first date column's date stands in every date column
                                s.timestamp.push_str(found);
                                true
                            }
                            found => found.is_some(),
                        });
                        dated = true;
                        date_fit_of(text, read)
                    }
                }
                Role::Address => cleaned(field, |found| match found {
                    Some(address) => {
                        let start = s.addresses.len();
                        s.addresses.push_str(address);
                        s.spans.push((start, s.addresses.len()));
                        Fit::Yes
                    }
                    None if py_strip(field).is_empty() => Fit::Yes,
                    None => Fit::No,
                }),
                Role::Addresses => each_address(field, |address| {
                    let start = s.addresses.len();
                    s.addresses.push_str(address);
                    s.spans.push((start, s.addresses.len()));
                    true
                })
                .into(),
                Role::Text | Role::Token | Role::Ip => {
                    let fit = match role {
                        Role::Text => Fit::Yes, // any text
                        _ => fits(*role, field, self.dates),
                    };
                    let text = py_strip(field);
                    let slot = match key {
                        Some(Key::Subject) => Some(&mut subject),
                        Some(Key::Verdict) => Some(&mut verdict),
                        Some(Key::SrcIp) => Some(&mut src_ip),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        if slot.is_none() && !text.is_empty() {
                            *slot = Some(text);
                        }
                    }
                    fit
                }
            };
            match fit {
                Fit::Yes => {}
                Fit::No => return Plain::Misfit,
                Fit::Unknown => return Plain::Unknown,
            }
            for at in first..s.spans.len() {
                s.add(at, *key == Some(Key::Recipients));
            }
            if *key == Some(Key::Sender) && sender.is_none() && s.spans.len() > first {
                sender = Some(first);
            }
            s.columns.push((first, s.spans.len()));
        }
        if !dated {
            return Plain::Unknown; // no date column: the reference words the reject
        }
        if s.emails.is_empty() {
            return Plain::NoAddress;
        }
        columns.line.append_value(line_no);
        columns.timestamp.append_value(&s.timestamp);
        columns.src_ip.append_option(src_ip);
        for &at in &s.emails {
            columns.emails.values().append_value(s.address(at));
        }
        columns.emails.append(true);
        columns.sender.append_option(sender.map(|at| s.address(at)));
        if s.recipients.is_empty() {
            columns.recipients.append_null();
        } else {
            for &at in &s.recipients {
                columns.recipients.values().append_value(s.address(at));
            }
            columns.recipients.append(true);
        }
        columns.subject.append_option(subject);
        columns.verdict.append_option(verdict);
        // the row as read: the line itself when no field was quoted and none needs quotes
        if memchr::memchr2(self.quote, b'"', line.as_bytes()).is_none() {
            columns.raw.append_value(line);
        } else {
            s.text.clear();
            crate::csvline::write_row(&mut s.text, fields, char::from(self.delimiter));
            columns.raw.append_value(&s.text);
        }
        self.write_cleaned(fields, s);
        columns.cleaned.append_value(&s.text);
        columns.repaired.append_null();
        Plain::Event
    }

    /// The cleaned row into `s.text`: the date columns hold the timestamp, the address columns their
    /// cleaned addresses (joined by `;`), the others their field as read.
    fn write_cleaned(&self, fields: &[Cow<'_, str>], s: &mut Scratch) {
        let delimiter = char::from(self.delimiter);
        let mut text = std::mem::take(&mut s.text);
        text.clear();
        if let ([role], [field]) = (self.roles.as_slice(), fields) {
            // a row of one empty field is written `""`
            let empty = match role {
                Role::Date => s.timestamp.is_empty(),
                Role::Address | Role::Addresses => s.spans.is_empty(),
                _ => field.is_empty(),
            };
            if empty {
                text.push_str("\"\"");
                s.text = text;
                return;
            }
        }
        let mut joined = String::new();
        for (j, (role, field)) in self.roles.iter().zip(fields).enumerate() {
            if j > 0 {
                text.push(delimiter);
            }
            match role {
                Role::Date => write_field(&mut text, &s.timestamp, delimiter),
                Role::Address | Role::Addresses => {
                    let (first, end) = s.columns[j];
                    if end == first + 1 {
                        write_field(&mut text, s.address(first), delimiter);
                    } else if end > first {
                        joined.clear();
                        for at in first..end {
                            if at > first {
                                joined.push(';');
                            }
                            joined.push_str(s.address(at));
                        }
                        write_field(&mut text, &joined, delimiter);
                    }
                }
                _ => write_field(&mut text, field, delimiter),
            }
        }
        s.text = text;
    }
}
