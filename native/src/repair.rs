//! `ppcti.clean.repair.read_row` with three-valued checks: every reading of a row's fields under the
//! column roles, searched in the reference's order, as long as each check the search makes is certain.
//!
//! A check answers yes, no, or "only Python knows" (`Fit::Unknown`: a date spelling the compiled rules
//! do not read, an IPv6 address...). The search stops at the first unknown answer that decides its path,
//! and the row goes to Python whole. Where the reference tests `a and b` and `a` is unknown, a certain
//! no for `b` still decides, since the checks have no side effects.

use crate::csvline::py_strip;
use crate::mail::{
    are_addresses, are_addresses_uncached, date_shape, is_address, is_bare_address, is_email,
    read_date, with_timestamp,
};
use crate::values::is_canonical_v4;

/// `ppcti.clean.repair.Role`, by its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Date,
    Address,
    Addresses,
    Text,
    Token,
    Ip,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    Yes,
    No,
    Unknown,
}

impl From<bool> for Fit {
    fn from(value: bool) -> Self {
        if value {
            Fit::Yes
        } else {
            Fit::No
        }
    }
}

/// How a row was read: as written, or repaired (`Reading.repair`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repair {
    None,
    Merged,
    Extra,
}

impl Repair {
    pub(crate) fn name(self) -> Option<&'static str> {
        match self {
            Repair::None => None,
            Repair::Merged => Some("merged"),
            Repair::Extra => Some("extra"),
        }
    }
}

/// The dates and time zone the checks read dates with.
#[derive(Clone, Copy)]
pub(crate) struct Dates {
    pub(crate) utc: bool,
    pub(crate) day_first: bool,
}

/// `fits(role, field)`.
pub(crate) fn fits(role: Role, field: &str, dates: Dates) -> Fit {
    let text = py_strip(field);
    match role {
        Role::Date => date_fit(text, dates),
        Role::Address => (text.is_empty() || is_email(text)).into(),
        Role::Addresses => (text.is_empty() || are_addresses(text)).into(),
        Role::Ip => {
            if text.is_empty() || is_canonical_v4(text) {
                Fit::Yes
            } else if !text.contains('%')
                && !text
                    .bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            {
                Fit::No // no IPv4 or IPv6 spelling (or scope) has other characters
            } else {
                Fit::Unknown
            }
        }
        Role::Token => {
            (memchr::memchr(b'@', text.as_bytes()).is_none() && text.chars().count() <= 64).into()
        }
        Role::Text => Fit::Yes,
    }
}

/// `cached_stix_timestamp(text) is not None` for a stripped text.
fn date_fit(text: &str, dates: Dates) -> Fit {
    if text.is_empty() {
        return Fit::No;
    }
    let read = with_timestamp(text, dates.utc, dates.day_first, |found| found.is_some());
    date_fit_of(text, read)
}

/// `date_fit` of a non-empty stripped text, once `timestamp` said whether it reads it (`read`).
pub(crate) fn date_fit_of(text: &str, read: bool) -> Fit {
    if read {
        return Fit::Yes;
    }
    if !text.is_ascii() || date_shape(text) {
        return Fit::Unknown; // a spelling the reference reads (an impossible date, another zone...)
    }
    // past the patterns, the reference tries RFC 2822 when the text has a comma or starts with letters
    let head = &text[..text.len().min(3)];
    if text.contains(',') || head.bytes().all(|c| c.is_ascii_alphabetic()) {
        return Fit::Unknown;
    }
    Fit::No
}

/// `_tight(role, part)`: a part of a split field, without stray characters at the cut. The parts are
/// cuts of one field, each seen once: they are checked without the caches.
fn tight(role: Role, part: &str, dates: Dates) -> Fit {
    if part.is_empty() || py_strip(part).len() != part.len() {
        return Fit::No;
    }
    match role {
        Role::Address => is_bare_address(part).into(),
        Role::Date => date_fit_of(part, read_date(part, dates.utc, dates.day_first).is_some()),
        Role::Addresses => are_addresses_uncached(part).into(),
        _ => fits(role, part, dates),
    }
}

/// How costly `tight` is for a role, to order the checks of a cut.
fn cost(role: Role) -> u8 {
    match role {
        Role::Address => 0, // no `@`, no address
        Role::Ip | Role::Token | Role::Text => 1,
        Role::Date => 2,
        Role::Addresses => 3,
    }
}

fn strong(role: Role) -> bool {
    matches!(
        role,
        Role::Date | Role::Address | Role::Addresses | Role::Ip
    )
}

/// One reading: for each column, the text it takes (a field, fields joined, or part of a field).
pub(crate) type Reading<'f> = (Vec<std::borrow::Cow<'f, str>>, Repair);

/// `read_row(fields, roles, delimiter)` with `limit=2`; `None` when a check it needed is unknown.
pub(crate) fn read_row<'f>(
    fields: &[&'f str],
    roles: &[Role],
    delimiter: char,
    dates: Dates,
) -> Option<Vec<Reading<'f>>> {
    let mut search = Search {
        fields,
        roles,
        delimiter,
        dates,
        out: Vec::new(),
    };
    let mut acc = Vec::with_capacity(roles.len());
    search.walk(0, 0, &mut acc, Repair::None)?;
    Some(search.out)
}

struct Search<'s, 'f> {
    fields: &'s [&'f str],
    roles: &'s [Role],
    delimiter: char,
    dates: Dates,
    out: Vec<Reading<'f>>,
}

impl<'f> Search<'_, 'f> {
    fn check(&self, role: Role, field: &str) -> Option<bool> {
        match fits(role, field, self.dates) {
            Fit::Yes => Some(true),
            Fit::No => Some(false),
            Fit::Unknown => None,
        }
    }

    fn walk(
        &mut self,
        i: usize,
        j: usize,
        acc: &mut Vec<std::borrow::Cow<'f, str>>,
        repair: Repair,
    ) -> Option<()> {
        let (n, m) = (self.fields.len(), self.roles.len());
        if self.out.len() >= 2 {
            return Some(());
        }
        if j == m {
            if i == n {
                self.out.push((acc.clone(), repair));
            }
            return Some(());
        }
        if i == n {
            return Some(());
        }
        let role = self.roles[j];
        // 1. the field as it is
        if self.check(role, self.fields[i])? {
            acc.push(self.fields[i].into());
            self.walk(i + 1, j + 1, acc, repair)?;
            acc.pop();
        }
        // 2. several fields joined
        if matches!(role, Role::Addresses | Role::Text)
            && n > m
            && matches!(repair, Repair::None | Repair::Extra)
        {
            for k in i + 2..=n - (m - j - 1) {
                let parts = &self.fields[i..k];
                if role == Role::Text && parts.iter().any(|p| is_address(p)) {
                    continue;
                }
                if role == Role::Addresses {
                    let mut all = true;
                    for part in parts {
                        if !self.check(Role::Addresses, part)? {
                            all = false;
                            break;
                        }
                    }
                    if !all {
                        continue;
                    }
                }
                let joined = parts.join(self.delimiter.encode_utf8(&mut [0; 4]));
                acc.push(joined.into());
                self.walk(k, j + 1, acc, Repair::Extra)?;
                acc.pop();
            }
        }
        // 3. one field holding two typed columns whose delimiter went missing
        if n < m
            && j + 1 < m
            && matches!(repair, Repair::None | Repair::Merged)
            && strong(role)
            && strong(self.roles[j + 1])
        {
            let field = self.fields[i];
            let next = self.roles[j + 1];
            for (cut, _) in field.char_indices().skip(1) {
                let (head, tail) = field.split_at(cut);
                // the checks have no side effects, and either part that does not fit decides the
                // cut: the cheaper check first (most cuts give no address at once)
                let (first, second) = if cost(next) < cost(role) {
                    ((next, tail), (role, head))
                } else {
                    ((role, head), (next, tail))
                };
                let both = match tight(first.0, first.1, self.dates) {
                    Fit::No => false,
                    fit => match (fit, tight(second.0, second.1, self.dates)) {
                        (_, Fit::No) => false,
                        (Fit::Yes, Fit::Yes) => true,
                        _ => return None,
                    },
                };
                if both {
                    acc.push(head.into());
                    acc.push(tail.into());
                    self.walk(i + 1, j + 2, acc, Repair::Merged)?;
                    acc.pop();
                    acc.pop();
                }
            }
        }
        Some(())
    }
}
