//! Character classes and runs the matchers share: `\w`, `[0-9]`, `\s*` and `[^\s...]+` as the
//! `regex` crate reads them (Unicode white space included), on byte offsets into UTF-8 text.

pub(crate) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

pub(crate) fn is_digit(c: u8) -> bool {
    c.wrapping_sub(b'0') < 10
}

/// Where a run of whitespace (`\s*`) ends.
pub(crate) fn space_end(text: &str) -> usize {
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
pub(crate) fn run_end(text: &str, stop: &[u8]) -> usize {
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

/// One in each byte of a word, and each byte's high bit: for testing eight bytes at a time.
pub(crate) const LOW: u64 = 0x0101_0101_0101_0101;
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` below `n` (`n` <= 128). A borrow can flag a byte above a flagged
/// one, never below it: the lowest flag is exact, and so is whether there is any.
#[inline]
pub(crate) fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LOW * u64::from(n)) & !x & HIGH
}

/// Whether a JSON string cannot hold byte `c` as it is: a quote, a backslash or a control character.
#[inline]
pub(crate) fn json_special(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

/// The bytes of `word` (eight, little-endian) that a JSON string cannot hold as they are: a quote, a
/// backslash or a control character, flagged as `below` flags them.
#[inline]
pub(crate) fn json_specials(word: u64) -> u64 {
    below(word, 0x20)
        | below(word ^ (LOW * u64::from(b'"')), 1)
        | below(word ^ (LOW * u64::from(b'\\')), 1)
}

/// The end of the run of string bytes from `at` that need no attention (not a quote, a backslash or a
/// control character), eight bytes at a time: the first flagged byte of a word is where it ends.
#[inline]
pub(crate) fn json_plain_run(b: &[u8], mut at: usize) -> usize {
    while let Some(word) = b.get(at..at + 8) {
        let flags = json_specials(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while b.get(at).is_some_and(|&c| !json_special(c)) {
        at += 1;
    }
    at
}
