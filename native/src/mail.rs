//! The value rules of `email-csv`: addresses as `ppcti.clean.emails.clean_email` and
//! `ppcti.clean.repair.addresses_in` clean them (exact for every input), and dates as
//! `ppcti.clean.timestamps.to_stix_timestamp` reads them (for the common spellings only: `None` leaves a
//! date to Python).

use std::cell::RefCell;

use crate::csvline::{is_py_space, py_strip};
use crate::time::month_of;
use crate::values;

/// What may stand around an address in an export and is not part of it (`_STRAY`).
const STRAY: &[u8] = b" \t\r\n<>\"'`;,.:()[]{}";

/// Slots of the cache of `clean_email` (a power of two): room for the few thousand addresses of an
/// export and the parts of the fields the repair search tries, with few collisions.
const CACHE_SLOTS: usize = 16384;

type Slot = Option<(Box<str>, Option<Box<str>>)>;

thread_local! {
    /// Recently cleaned values, one per slot by hash: exports repeat a few thousand addresses over
    /// millions of rows, and a row's addresses are cleaned once to check them and once to keep them.
    static CLEANED: RefCell<Vec<Slot>> = RefCell::new(vec![None; CACHE_SLOTS]);
    /// The last date read, with the rules it was read under.
    static LAST_DATE: RefCell<(String, bool, bool, Option<String>)> =
        const { RefCell::new((String::new(), false, false, None)) };
}

/// A hash of a short text, eight bytes at a time, to pick a cache slot.
fn slot_of(text: &str) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let b = text.as_bytes();
    let mut h = (b.len() as u64).wrapping_mul(K);
    let mut words = b.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
        h ^= h >> 29;
    }
    let rest = words.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
    h ^= h >> 32;
    (h as usize) & (CACHE_SLOTS - 1)
}

fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&c)
}

/// `_LOCAL`: dot-separated runs of atext.
fn is_local(local: &str) -> bool {
    local
        .as_bytes()
        .split(|c| *c == b'.')
        .all(|run| !run.is_empty() && run.iter().all(|c| is_atext(*c)))
}

/// `_DOMAIN`: labels of 1-63 letters, digits and inner hyphens, then a top-level label of 2-63 letters.
fn is_domain(domain: &str) -> bool {
    let b = domain.as_bytes();
    let Some(dot) = memchr::memrchr(b'.', b) else {
        return false;
    };
    let top = &b[dot + 1..];
    (2..=63).contains(&top.len())
        && top.iter().all(u8::is_ascii_alphabetic)
        && b[..dot].split(|c| *c == b'.').all(|label| {
            (1..=63).contains(&label.len())
                && label[0].is_ascii_alphanumeric()
                && label[label.len() - 1].is_ascii_alphanumeric()
                && label
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// `clean_email(value)`: the address with its stray characters stripped and its domain lower-cased, or
/// `None` when the value is not exactly one address.
pub(crate) fn clean_email(value: &str) -> Option<String> {
    cleaned(value, |found| found.map(str::to_owned))
}

/// `clean_email(value) is not None`, without a copy of the address.
pub(crate) fn is_email(value: &str) -> bool {
    cleaned(value, |found| found.is_some())
}

/// `then` of the cleaned address of `value` (`clean_email(value)`), through the cache.
pub(crate) fn cleaned<T>(value: &str, then: impl FnOnce(Option<&str>) -> T) -> T {
    let at = slot_of(value);
    CLEANED.with_borrow_mut(|slots| {
        if let Some((key, found)) = &slots[at] {
            if **key == *value {
                return then(found.as_deref());
            }
        }
        let found = clean(value);
        let out = then(found.as_deref());
        slots[at] = Some((value.into(), found.map(String::into_boxed_str)));
        out
    })
}

/// `clean_email(value)` without the cache (for texts seen once, such as the cuts the repair search
/// tries, which would only push addresses out of it).
pub(crate) fn clean(value: &str) -> Option<String> {
    let (local, domain) = address_parts(value)?;
    let mut out = String::with_capacity(local.len() + 1 + domain.len());
    out.push_str(local);
    out.push('@');
    out.push_str(&domain.to_ascii_lowercase());
    Some(out)
}

/// Whether `clean_email(value)` is `value` itself with its domain lower-cased (nothing stripped), without
/// the cache or a copy.
pub(crate) fn is_bare_address(value: &str) -> bool {
    // nothing is stripped when both ends are ASCII and neither white space nor stray (which covers
    // `<-`); an end outside ASCII is stripped, or fails the ASCII-only local part or domain
    let b = value.as_bytes();
    let plain = |c: Option<&u8>| {
        c.is_some_and(|c| c.is_ascii() && !is_py_space(char::from(*c)) && !STRAY.contains(c))
    };
    if !plain(b.first()) || !plain(b.last()) {
        return false;
    }
    let Some(at) = memchr::memchr(b'@', b) else {
        return false;
    };
    is_local(&value[..at]) && is_domain(&value[at + 1..])
}

/// `clean_email(value) is not None` without the cache (see `clean`).
pub(crate) fn is_address(value: &str) -> bool {
    address_parts(value).is_some()
}

/// The local part and domain of the one address of `value`, as `clean_email` finds them (before it
/// lower-cases the domain).
fn address_parts(value: &str) -> Option<(&str, &str)> {
    let mut text = py_strip(value);
    if let Some(rest) = text.strip_prefix("<-") {
        text = rest;
    }
    // the stray characters are ASCII: trimmed as bytes, the text stays whole characters
    let b = text.as_bytes();
    let start = b.iter().position(|c| !STRAY.contains(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !STRAY.contains(c))
        .map_or(start, |at| at + 1);
    let text = &text[start..end];
    let at = memchr::memchr(b'@', text.as_bytes())?;
    let (local, domain) = (&text[..at], &text[at + 1..]);
    (is_local(local) && is_domain(domain)).then_some((local, domain))
}

/// `addresses_in(field) is not None`, without copies of the addresses.
pub(crate) fn are_addresses(field: &str) -> bool {
    each_address(field, |_| true)
}

/// `addresses_in(field)`: the cleaned addresses of an address list split on `[;,\s]+`, or `None` when
/// a part is not an address.
pub(crate) fn addresses_in(field: &str) -> Option<Vec<String>> {
    let mut found = Vec::new();
    each_address(field, |address| {
        found.push(address.to_owned());
        true
    })
    .then_some(found)
}

/// Calls `each` with the cleaned address of every part of an address list split on `[;,\s]+`, in
/// order, while it returns true; false when a part is not an address (or `each` said stop). `each`
/// runs inside the address cache, so it must not clean addresses itself.
pub(crate) fn each_address(field: &str, mut each: impl FnMut(&str) -> bool) -> bool {
    parts_of(field, |part| {
        part.is_empty() || cleaned(part, |found| found.is_some_and(&mut each))
    })
}

/// `addresses_in(field) is not None` without the cache (see `clean`).
pub(crate) fn are_addresses_uncached(field: &str) -> bool {
    parts_of(field, |part| {
        part.is_empty() || address_parts(part).is_some()
    })
}

/// Whether `each` holds for every part of a text split on `[;,\s]` (empty parts included).
fn parts_of(field: &str, mut each: impl FnMut(&str) -> bool) -> bool {
    let field = py_strip(field);
    if !field.is_ascii() {
        return field
            .split(|c: char| c == ';' || c == ',' || is_py_space(c))
            .all(each);
    }
    // the separators of an ASCII list are ASCII bytes: cut without decoding characters
    let mut start = 0;
    for (at, c) in field.bytes().enumerate() {
        if matches!(c, b';' | b',' | b'\t'..=b'\r' | 0x1c..=0x1f | b' ') {
            if !each(&field[start..at]) {
                return false;
            }
            start = at + 1;
        }
    }
    each(&field[start..])
}

fn number(text: &str) -> Option<i64> {
    (!text.is_empty() && text.len() <= 4 && text.bytes().all(|c| c.is_ascii_digit()))
        .then(|| text.parse().ok())?
}

/// The parts of a text `_SLASHED` matches: `D/M/YYYY H:MM[:SS[.f]]` (or `.` for `/`, `T` for the
/// space): the two leading numbers, year, hour, minute, second and fraction.
fn slashed_match(s: &str) -> Option<(&str, &str, &str, &str, &str, &str, &str)> {
    let (date, clock) = s.split_once([' ', 'T'])?;
    let mut date_parts = date.split(['/', '.']);
    let (a, b, y) = (date_parts.next()?, date_parts.next()?, date_parts.next()?);
    let digits = |t: &str, low: usize, high: usize| {
        (low..=high).contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit())
    };
    if date_parts.next().is_some() || !digits(a, 1, 2) || !digits(b, 1, 2) || !digits(y, 4, 4) {
        return None;
    }
    let (h, rest) = clock.split_once(':')?;
    let (mi, rest) = rest.split_at_checked(2)?;
    if !digits(h, 1, 2) || !digits(mi, 2, 2) {
        return None;
    }
    let (sec, frac) = match rest {
        "" => ("0", ""),
        _ => {
            let (sec, frac) = rest.strip_prefix(':')?.split_at_checked(2)?;
            let frac = match frac {
                "" => "",
                _ => frac.strip_prefix('.').filter(|f| digits(f, 1, 9))?,
            };
            if !digits(sec, 2, 2) {
                return None;
            }
            (sec, frac)
        }
    };
    Some((a, b, y, h, mi, sec, frac))
}

/// `_SLASHED` in UTC, the order of day and month per `day_first`.
fn slashed(s: &str, day_first: bool) -> Option<String> {
    let (a, b, y, h, mi, sec, frac) = slashed_match(s)?;
    let (a, b) = (number(a)?, number(b)?);
    let (day, month) = if day_first { (a, b) } else { (b, a) };
    values::stix_of(
        [
            number(y)?,
            month,
            day,
            number(h)?,
            number(mi)?,
            number(sec)?,
        ],
        frac,
        0,
    )
}

/// Whether `_ISO` matches an ASCII text:
/// `YYYY-MM-DD[T ]HH:MM[:SS[[.,]f{1,9}]]\s*(Z|[+-]HH[[:]MM])?`.
fn iso_match(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, count: usize| {
        b.get(from..from + count)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0, 4)
        && b.get(4) == Some(&b'-')
        && digits(5, 2)
        && b.get(7) == Some(&b'-')
        && digits(8, 2)
        && matches!(b.get(10), Some(b'T' | b' '))
        && digits(11, 2)
        && b.get(13) == Some(&b':')
        && digits(14, 2))
    {
        return false;
    }
    let mut at = 16;
    if b.get(at) == Some(&b':') && digits(at + 1, 2) {
        at += 3;
        if matches!(b.get(at), Some(b'.' | b',')) {
            let n = b[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if (1..=9).contains(&n) {
                at += 1 + n;
            }
        }
    }
    while b
        .get(at)
        .is_some_and(|c| c.is_ascii() && is_py_space(char::from(*c)))
    {
        at += 1;
    }
    match &b[at..] {
        [] | [b'Z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let d = |i: usize| rest.get(i).is_some_and(u8::is_ascii_digit);
            match rest.len() {
                2 => d(0) && d(1),
                4 => (0..4).all(d),
                5 => d(0) && d(1) && rest[2] == b':' && d(3) && d(4),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a text has the shape of a date pattern of `to_stix_timestamp` (ISO 8601, slashed, epoch
/// seconds): such a text may be a date even where the compiled rules do not read it.
pub(crate) fn date_shape(s: &str) -> bool {
    let epoch = s.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && s.bytes().all(|c| c.is_ascii_digit() || c == b'.');
    epoch || iso_match(s) || slashed_match(s).is_some()
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
    let offset = if z[0] == b'-' {
        -(zh * 60 + zm)
    } else {
        zh * 60 + zm
    };
    values::stix_of(
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
    with_timestamp(value, utc, day_first, |found| found.map(str::to_owned))
}

/// `then` of `timestamp(value, utc, day_first)`, without a copy of the date.
pub(crate) fn with_timestamp<T>(
    value: &str,
    utc: bool,
    day_first: bool,
    then: impl FnOnce(Option<&str>) -> T,
) -> T {
    let s = py_strip(value);
    // rows come in time order: the same date often stands in several rows running
    LAST_DATE.with_borrow_mut(|last| {
        if last.0 != s || last.1 != utc || last.2 != day_first {
            let found = read_date(s, utc, day_first);
            last.0.clear();
            last.0.push_str(s);
            (last.1, last.2, last.3) = (utc, day_first, found);
        }
        then(last.3.as_deref())
    })
}

/// `timestamp` of a stripped text without the cache of the last date (see `clean`).
pub(crate) fn read_date(s: &str, utc: bool, day_first: bool) -> Option<String> {
    if !s.is_ascii() {
        return None;
    }
    if let Some(found) = values::iso(s, utc) {
        return Some(found.into_owned());
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
