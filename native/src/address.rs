//! IPv4 addresses with an optional port, found as the patterns `ip_port` and `host_ip` find them.

use crate::text::{is_digit, is_word};

/// The next `IPV4(:port)?` match at or after `from`, as the pattern `_IP_PORT` finds it: an address
/// starts at a digit run not preceded by a word character, its first three octets are whole digit runs
/// followed by a dot, the last one a whole digit run followed by no word character (each of 0-255
/// without a leading zero); a port is the up to five digits after a colon.
pub(crate) fn next_ip(b: &[u8], from: usize) -> Option<(usize, usize)> {
    // A first octet is a whole digit run with a dot right after it, so candidates are found from the
    // dots (a few per line) rather than by looking at every byte.
    for dot in memchr::memchr_iter(b'.', b.get(from..)?).map(|d| from + d) {
        let mut start = dot;
        while start > from && dot - start < 4 && is_digit(b[start - 1]) {
            start -= 1;
        }
        let run = dot - start;
        if run == 0 || run > 3 || (start > 0 && is_word(b[start - 1])) {
            continue;
        }
        if let Some(end) = address_at(b, start) {
            return Some((start, end));
        }
    }
    None
}

/// The end of the address (and port) starting at `start`, if one does.
fn address_at(b: &[u8], start: usize) -> Option<usize> {
    let n = b.len();
    let mut pos = start;
    for octet in 0..4 {
        let mut len = 0;
        let mut value = 0u32;
        while len < 4 && pos + len < n && is_digit(b[pos + len]) {
            value = value * 10 + u32::from(b[pos + len] - b'0');
            len += 1;
        }
        let valid = match len {
            1 => true,
            2 => b[pos] != b'0',
            3 => b[pos] != b'0' && value <= 255,
            _ => false,
        };
        if !valid {
            return None;
        }
        pos += len;
        if octet < 3 {
            if pos >= n || b[pos] != b'.' {
                return None;
            }
            pos += 1;
        } else if pos < n && is_word(b[pos]) {
            return None;
        }
    }
    if pos < n && b[pos] == b':' {
        let mut port = 0;
        while port < 5 && pos + 1 + port < n && is_digit(b[pos + 1 + port]) {
            port += 1;
        }
        if port > 0 {
            pos += 1 + port;
        }
    }
    Some(pos)
}
pub(crate) fn split_port(found: &str) -> (&str, Option<i32>) {
    match memchr::memchr(b':', found.as_bytes()) {
        // the port is 1-5 ASCII digits (see `address_at`)
        Some(at) => {
            let port = found.as_bytes()[at + 1..]
                .iter()
                .fold(0i32, |v, d| v * 10 + i32::from(d - b'0'));
            (&found[..at], (port <= 65_535).then_some(port))
        }
        None => (found, None),
    }
}
