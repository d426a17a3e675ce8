//! Calendar arithmetic and STIX timestamps (`YYYY-MM-DDTHH:MM:SS[.f]Z`), as the reference's
//! `utc_parts_expr` and `stix_timestamp_expr` compute them: impossible dates give none, a written UTC
//! offset shifts the time through the calendar.

pub(crate) enum Month<'a> {
    Number(i32),
    Text(&'a str),
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

pub(crate) fn month_of(name: &str) -> Option<i32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as i32 + 1)
}

/// Polars' `str.slice(offset, length)` of a date text (always ASCII here: it is built from digits).
pub(crate) fn char_slice(text: &str, offset: usize, length: usize) -> &str {
    let end = (offset + length).min(text.len());
    text.get(offset.min(end)..end).unwrap_or("")
}

/// Polars' lenient integer cast of a string (`cast(pl.Int32, strict=False)`).
pub(crate) fn int_of(text: &str) -> Option<i32> {
    text.parse::<i32>().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(crate) fn month_days(year: i64, month: i64) -> i64 {
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
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
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

pub(crate) fn push_digits(out: &mut String, value: i64, width: usize) {
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
pub(crate) fn stix_timestamp(
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
pub(crate) fn offset_minutes(off: Option<&str>) -> Option<i64> {
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
