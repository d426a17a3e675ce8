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
