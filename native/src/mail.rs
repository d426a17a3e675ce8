//! The value rules of `email-csv`: addresses as `ppcti.clean.emails.clean_email` and
//! `ppcti.clean.repair.addresses_in` clean them (exact for every input), and dates as
//! `ppcti.clean.timestamps.to_stix_timestamp` reads them (for the common spellings only: `None` leaves a
//! date to Python).

use crate::csvline::{is_py_space, py_strip};
use crate::time::{days_from_civil, month_days, month_of};
use crate::values;

/// What may stand around an address in an export and is not part of it (`_STRAY`).
const STRAY: &[char] = &[
    ' ', '\t', '\r', '\n', '<', '>', '"', '\'', '`', ';', ',', '.', ':', '(', ')', '[', ']', '{', '}',
];

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&c)
}

/// `_LOCAL`: dot-separated runs of atext.
fn is_local(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|run| !run.is_empty() && run.bytes().all(is_atext))
}

/// `_DOMAIN`: labels of 1-63 letters, digits and inner hyphens, then a top-level label of 2-63 letters.
fn is_domain(domain: &str) -> bool {
    let Some((labels, top)) = domain.rsplit_once('.') else {
        return false;
    };
    (2..=63).contains(&top.len())
        && top.bytes().all(|c| c.is_ascii_alphabetic())
        && labels.split('.').all(|label| {
            let b = label.as_bytes();
            (1..=63).contains(&b.len())
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `clean_email(value)`: the address with its stray characters stripped and its domain lower-cased, or
/// `None` when the value is not exactly one address.
pub(crate) fn clean_email(value: &str) -> Option<String> {
    let mut text = py_strip(value);
    if let Some(rest) = text.strip_prefix("<-") {
        text = rest;
    }
    let text = text.trim_matches(STRAY);
    let (local, domain) = text.split_once('@')?;
    if !is_local(local) || !is_domain(domain) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&domain.to_ascii_lowercase());
    Some(out)
}

/// `addresses_in(field)`: the cleaned addresses of an address list split on `[;,\s]+`, or `None` when
/// a part is not an address.
pub(crate) fn addresses_in(field: &str) -> Option<Vec<String>> {
    py_strip(field)
        .split(|c: char| c == ';' || c == ',' || is_py_space(c))
        .filter(|part| !part.is_empty())
        .map(clean_email)
        .collect()
}

fn number(text: &str) -> Option<i64> {
    (!text.is_empty() && text.len() <= 4 && text.bytes().all(|c| c.is_ascii_digit()))
        .then(|| text.parse().ok())?
}

/// The STIX text of a checked local time shifted by `offset` minutes; `None` for impossible dates and
/// years whose text `strftime` may pad differently.
fn stix_of(parts: [i64; 6], frac: &str, offset: i64) -> Option<String> {
    let [y, mo, d, h, mi, s] = parts;
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || d < 1
        || d > month_days(y, mo)
        || h > 23
        || mi > 59
        || s > 59
    {
        return None;
    }
    let total = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset * 60;
    values::stix_seconds(total, frac)
}

/// `_SLASHED`: `D/M/YYYY H:MM[:SS[.f]]` (or `/` as `.`, `T` for the space), the order per `day_first`,
/// local time in UTC.
fn slashed(s: &str, day_first: bool) -> Option<String> {
    let (date, clock) = s.split_once([' ', 'T'])?;
    let mut date_parts = date.split(['/', '.']);
    let (a, b, y) = (date_parts.next()?, date_parts.next()?, date_parts.next()?);
    if date_parts.next().is_some() || a.len() > 2 || b.len() > 2 || y.len() != 4 {
        return None;
    }
    let (h, rest) = clock.split_once(':')?;
    let (mi, rest) = rest.split_at_checked(2)?;
    let (sec, frac) = match rest {
        "" => ("0", ""),
        _ => {
            let rest = rest.strip_prefix(':')?;
            let (sec, frac) = rest.split_at_checked(2)?;
            match frac {
                "" => (sec, ""),
                _ => {
                    let frac = frac.strip_prefix('.')?;
                    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit())
                    {
                        return None;
                    }
                    (sec, frac)
                }
            }
        }
    };
    if h.len() > 2 || mi.len() != 2 || sec.len() > 2 || (sec != "0" && sec.len() != 2) {
        return None;
    }
    let (a, b) = (number(a)?, number(b)?);
    let (day, month) = if day_first { (a, b) } else { (b, a) };
    stix_of(
        [number(y)?, month, day, number(h)?, number(mi)?, number(sec)?],
        frac,
        0,
    )
}

/// RFC 2822 as mail exports write it, `Www, D Mon YYYY HH:MM:SS ±HHMM`, which `parsedate_to_datetime`
/// reads as the written offset (`-0000` as local time, UTC here).
fn rfc2822(s: &str) -> Option<String> {
    let mut words = s.split(' ');
    let weekday = words.next()?;
    let (day, month, year, clock, zone) = (
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
    );
    if words.next().is_some()
        || weekday.len() != 4
        || !weekday.ends_with(',')
        || !weekday[..3].bytes().all(|c| c.is_ascii_alphabetic())
        || day.len() > 2
        || year.len() != 4
        || month.len() != 3
    {
        return None;
    }
    let month = month_of(month)?;
    let c = clock.as_bytes();
    if c.len() != 8 || c[2] != b':' || c[5] != b':' {
        return None;
    }
    let z = zone.as_bytes();
    if z.len() != 5 || !matches!(z[0], b'+' | b'-') {
        return None;
    }
    let (zh, zm) = (number(&zone[1..3])?, number(&zone[3..5])?);
    if zh > 23 || zm > 59 {
        return None;
    }
    let offset = if z[0] == b'-' { -(zh * 60 + zm) } else { zh * 60 + zm };
    stix_of(
        [
            number(year)?,
            i64::from(month),
            number(day)?,
            number(&clock[0..2])?,
            number(&clock[3..5])?,
            number(&clock[6..8])?,
        ],
        "",
        offset,
    )
}

/// `to_stix_timestamp(value)` of a date column's value when it is certain, in UTC: ISO 8601, the
/// slashed day-month style, and RFC 2822 with a numeric offset. Other spellings are left to Python.
pub(crate) fn timestamp(value: &str, utc: bool, day_first: bool) -> Option<String> {
    let s = py_strip(value);
    if !s.is_ascii() {
        return None;
    }
    if let Some(found) = values::iso(s, utc) {
        return Some(found);
    }
    if !utc {
        return None;
    }
    match s.as_bytes().first() {
        Some(c) if c.is_ascii_digit() => slashed(s, day_first),
        Some(c) if c.is_ascii_alphabetic() => rfc2822(s),
        _ => None,
    }
}
