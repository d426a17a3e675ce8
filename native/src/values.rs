//! The value rules of `events-json`, for the values whose outcome is certain without Python.
//!
//! Each function answers `Some(outcome)` when it knows exactly what the Python reference
//! (`ppcti.formats.events_json._Builder.add` and the cleaners it calls) gives for the value, and `None`
//! when it is not sure: the record then goes to the reference as a whole. Only common, plain spellings
//! are decided here (dotted-quad IPv4, ASCII ISO 8601 and epoch timestamps, ASCII MACs, integer ports);
//! IPv6, Unicode, white space, odd numbers and the like are left to Python, which is exact by definition.

use std::borrow::Cow;

use crate::json::Json;

use crate::ndjson::escape;
use crate::time::{civil_from_days, days_from_civil, month_days, push_digits};

/// `canonical_ip` for a value: `Some(None)` when it is no address, `Some(Some(ip))` for a dotted-quad
/// IPv4 address already in canonical form (no leading zeros), `None` for anything else (IPv6, white
/// space, brackets...), which Python's `ipaddress` decides.
pub(crate) fn ip<'v>(value: Option<&'v Json<'_>>) -> Option<Option<&'v str>> {
    match value {
        None => Some(None),
        Some(Json::Str(s)) => is_canonical_v4(s).then_some(Some(s.as_ref())),
        Some(_) => Some(None), // `_ip` takes strings only
    }
}

pub(crate) fn is_canonical_v4(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut parts, mut i) = (0, 0);
    loop {
        let start = i;
        let mut value = 0u32;
        while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
            value = value * 10 + u32::from(c - b'0');
            i += 1;
        }
        let n = i - start;
        // one to three digits, no leading zero, at most 255
        if n == 0 || n > 3 || (n > 1 && b[start] == b'0') || value > 255 {
            return false;
        }
        parts += 1;
        match b.get(i) {
            None => return parts == 4,
            Some(b'.') if parts < 4 => i += 1,
            Some(_) => return false,
        }
    }
}

/// `_port`: `int(value)` within 0-65535. Integers and plain digit strings are decided; floats, booleans
/// (an `int` in Python) and other strings are not.
pub(crate) fn port(value: Option<&Json<'_>>) -> Option<Option<i32>> {
    let in_range = |v: i64| (0..=65_535).contains(&v).then_some(v as i32);
    match value {
        None => Some(None),
        Some(Json::Int(v)) => Some(in_range(*v)),
        Some(Json::UInt(v)) => Some(i64::try_from(*v).ok().and_then(in_range)),
        Some(Json::Float(_)) => None,
        Some(Json::Str(s)) => {
            let b = s.as_bytes();
            if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(in_range(s.parse::<i64>().ok()?))
        }
        Some(Json::Bool(_)) => None,
        Some(_) => Some(None), // int() of a list or object is a TypeError: no port
    }
}

/// A normalised MAC, `aa:bb:cc:dd:ee:ff`, held on the stack: one is read on most lines.
#[derive(Clone, Copy)]
pub(crate) struct MacText([u8; 17]);

impl std::ops::Deref for MacText {
    type Target = str;
    fn deref(&self) -> &str {
        // SAFETY: `mac` writes only ASCII hex digits and colons
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

/// `normalise_mac` of a string without white space or non-ASCII characters (which `strip` and the
/// patterns would treat in ways left to Python): bare, Cisco-dotted or one-separator groups.
pub(crate) fn mac(value: &str) -> Option<Option<MacText>> {
    let b = value.as_bytes();
    if !b.iter().all(|c| (0x21..0x7f).contains(c)) {
        return None;
    }
    Some(mac_digits(b).map(|hexes| {
        let mut out = [b':'; 17];
        for (i, pair) in hexes.chunks(2).enumerate() {
            out[3 * i] = pair[0].to_ascii_lowercase();
            out[3 * i + 1] = pair[1].to_ascii_lowercase();
        }
        MacText(out)
    }))
}

/// The twelve hex digits of a MAC in one of the spellings `mac` decides, single digits of a group
/// padded with a zero.
fn mac_digits(b: &[u8]) -> Option<[u8; 12]> {
    let mut hexes = [0u8; 12];
    if b.len() == 12 && b.iter().all(u8::is_ascii_hexdigit) {
        hexes.copy_from_slice(b);
        return Some(hexes);
    }
    if b.len() == 14 && b[4] == b'.' && b[9] == b'.' {
        let mut n = 0;
        for &c in b.iter().filter(|c| **c != b'.') {
            if n < 12 {
                hexes[n] = c;
            }
            n += 1;
        }
        if n == 12 && hexes.iter().all(u8::is_ascii_hexdigit) {
            return Some(hexes);
        }
    }
    let sep = b.iter().copied().find(|c| *c == b':' || *c == b'-')?;
    let mut n = 0;
    let mut groups = 0;
    for group in b.split(|c| *c == sep) {
        groups += 1;
        if groups > 6 || !(1..=2).contains(&group.len()) || !group.iter().all(u8::is_ascii_hexdigit)
        {
            return None;
        }
        if group.len() == 1 {
            hexes[n] = b'0';
            n += 1;
        }
        for &c in group {
            hexes[n] = c;
            n += 1;
        }
    }
    (groups == 6).then_some(hexes)
}

/// A protocol's name in upper case, on the stack when it is short (as names of protocols are).
pub(crate) enum Upper {
    Short([u8; 16], usize),
    Long(String),
}

impl std::ops::Deref for Upper {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // SAFETY: `protocol` copies ASCII strings only
            Upper::Short(bytes, len) => unsafe { std::str::from_utf8_unchecked(&bytes[..*len]) },
            Upper::Long(text) => text,
        }
    }
}

/// `str(value).upper()` of a protocol, for ASCII strings.
pub(crate) fn protocol(value: Option<&Json<'_>>) -> Option<Option<Upper>> {
    match value {
        None => Some(None),
        Some(Json::Str(s)) if s.is_ascii() => Some(Some(if s.len() <= 16 {
            let mut bytes = [0u8; 16];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            bytes.make_ascii_uppercase();
            Upper::Short(bytes, s.len())
        } else {
            Upper::Long(s.to_ascii_uppercase())
        })),
        Some(_) => None,
    }
}

/// An `extra` value: strings as they are, other values as compact JSON (`orjson.dumps`); floats are
/// left to Python, whose shortest float text is orjson's, not necessarily this crate's.
pub(crate) fn extra_text(value: &Json<'_>) -> Option<String> {
    if let Json::Str(s) = value {
        return Some(s.to_string());
    }
    let mut out = Vec::new();
    json_text(value, &mut out)?;
    String::from_utf8(out).ok()
}

/// Whether the text of an array (as the line wrote it) is what `orjson.dumps` writes for it: nested
/// arrays of strings without escapes, with no white space between the tokens (a string without a
/// backslash holds no character orjson escapes). Then `extra_text` of the array is its text.
pub(crate) fn is_compact_string_array(text: &str) -> bool {
    let mut in_string = false;
    for c in text.bytes() {
        match (in_string, c) {
            (_, b'\\') => return false,
            (_, b'"') => in_string = !in_string,
            (true, _) | (false, b'[' | b']' | b',') => {}
            (false, _) => return false,
        }
    }
    true
}

fn json_text(value: &Json<'_>, out: &mut Vec<u8>) -> Option<()> {
    match value {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Json::UInt(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Json::Float(_) => return None,
        Json::Str(s) => escape(out, s),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_text(item, out)?;
            }
            out.push(b']');
        }
        Json::Object(pairs) => {
            out.push(b'{');
            for (i, (key, item)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                escape(out, key);
                out.push(b':');
                json_text(item, out)?;
            }
            out.push(b'}');
        }
    }
    Some(())
}

/// `to_stix_timestamp` of a timestamp value: ASCII ISO 8601 strings and epoch numbers. `None` for
/// anything else, impossible dates included: Python reads those, and words the reject.
pub(crate) fn timestamp<'v>(value: &'v Json<'_>, utc: bool) -> Option<Cow<'v, str>> {
    match value {
        Json::Str(s) => iso(s, utc),
        Json::UInt(v) => (*v <= 100_000_000_000)
            .then(|| epoch(*v as i64, ""))?
            .map(Cow::Owned),
        Json::Float(v) => {
            let v = *v;
            if !(1.0..1e11).contains(&v) {
                return None;
            }
            // Python's repr of a float in this range is its shortest round-trip digits, as Ryu writes
            // them, with ".0" for whole numbers (which carry no fraction either way); Ryu at a tenth of
            // the cost of `Display`, which was a tenth of the reader's time on Zeek's epoch floats
            let mut digits = ryu::Buffer::new();
            let text = digits.format_finite(v);
            if text.contains(['e', 'E']) {
                return None; // not in this range, but never a guess
            }
            let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
            epoch(whole.parse().ok()?, frac).map(Cow::Owned)
        }
        _ => None,
    }
}

/// `_from_epoch`: whole seconds since 1970 in UTC, the fraction's digits without trailing zeros, at most
/// six.
fn epoch(seconds: i64, frac: &str) -> Option<String> {
    let frac = frac.trim_end_matches('0');
    let frac = &frac[..frac.len().min(6)];
    let days = seconds.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    stix(y, m, d, seconds.rem_euclid(86_400), frac)
}

fn stix(y: i64, m: i64, d: i64, secs: i64, frac: &str) -> Option<String> {
    // strftime pads years below 1000 differently by platform: left to Python
    if !(1000..=9999).contains(&y) {
        return None;
    }
    let mut out = String::with_capacity(32);
    for (value, width, sep) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (secs / 3600, 2, ':'),
        (secs / 60 % 60, 2, ':'),
    ] {
        push_digits(&mut out, value, width);
        out.push(sep);
    }
    push_digits(&mut out, secs % 60, 2);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out.push('Z');
    Some(out)
}

fn two(b: &[u8], at: usize) -> Option<i64> {
    let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
    (h.is_ascii_digit() && l.is_ascii_digit())
        .then(|| i64::from(h - b'0') * 10 + i64::from(l - b'0'))
}

/// The `_ISO` pattern of `ppcti.clean.timestamps`, for strings of printable ASCII with at most the one
/// space between date and time: `YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z|±HH[[:]MM]]`. Impossible dates and
/// offsets of a day or more are left to Python, as is a time without an offset outside UTC. A value
/// already in the STIX form (`YYYY-MM-DDTHH:MM:SS[.f]Z`, a real date) is its own result, borrowed.
pub(crate) fn iso(s: &str, utc: bool) -> Option<Cow<'_, str>> {
    let b = s.as_bytes();
    let printable = b
        .iter()
        .enumerate()
        .all(|(i, c)| (0x21..0x7f).contains(c) || (i == 10 && *c == b' '));
    if !printable || b.len() < 16 {
        return None;
    }
    let year = two(b, 0)? * 100 + two(b, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') || b[13] != b':' {
        return None;
    }
    let (month, day, hour, minute) = (two(b, 5)?, two(b, 8)?, two(b, 11)?, two(b, 14)?);
    let mut at = 16;
    let mut second = 0;
    let mut frac = "";
    // written as STIX writes it so far: a `T`, seconds, a fraction after a dot
    let mut stix_form = b[10] == b'T';
    if b.get(at) == Some(&b':') {
        second = two(b, at + 1)?;
        at += 3;
        if matches!(b.get(at), Some(b'.' | b',')) {
            stix_form &= b[at] == b'.';
            let n = b[at + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n == 0 || n > 9 {
                return None;
            }
            frac = &s[at + 1..at + 1 + n];
            at += 1 + n;
        }
    } else {
        stix_form = false;
    }
    let offset = match &b[at..] {
        [] => {
            if !utc {
                return None;
            }
            0
        }
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let hours = two(rest, 0)?;
            let minutes = match &rest[2..] {
                [] => 0,
                [b':', _, _] => two(rest, 3)?,
                [_, _] => two(rest, 2)?,
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'-' {
                -total
            } else {
                total
            }
        }
        _ => return None,
    };
    let parts = [year, month, day, hour, minute, second];
    if stix_form && b[at..] == *b"Z" && year >= 1000 && real_time(parts) {
        return Some(Cow::Borrowed(s));
    }
    stix_of(parts, frac, offset).map(Cow::Owned)
}

/// Whether `[year, month, day, hour, minute, second]` is a date and time that exists (years 1-9999).
fn real_time(parts: [i64; 6]) -> bool {
    let [y, mo, d, h, mi, s] = parts;
    (1..=9999).contains(&y)
        && (1..=12).contains(&mo)
        && d >= 1
        && d <= month_days(y, mo)
        && h <= 23
        && mi <= 59
        && s <= 59
}

/// The STIX timestamp of a civil date and time (`[year, month, day, hour, minute, second]`) written
/// with fraction `frac` at `offset` minutes east of UTC; `None` for a date or time that does not exist.
pub(crate) fn stix_of(parts: [i64; 6], frac: &str, offset: i64) -> Option<String> {
    if !real_time(parts) {
        return None;
    }
    let [y, mo, d, h, mi, s] = parts;
    let total = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset * 60;
    stix_seconds(total, frac)
}

/// The STIX text of a moment in seconds since 1970 (UTC), with the source's fraction digits.
pub(crate) fn stix_seconds(total: i64, frac: &str) -> Option<String> {
    let (y, m, d) = civil_from_days(total.div_euclid(86_400));
    stix(y, m, d, total.rem_euclid(86_400), frac)
}
