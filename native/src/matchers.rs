//! The `src-mac VALUE` and `proto NAME (DETAIL)` matchers, and MAC normalisation as
//! `ppcti.clean.mac.normalise_mac_series` does it.

use memchr::memmem;

use crate::text::{is_word, run_end};

/// The first `src-mac VALUE` (`_MAC_SRC`): VALUE runs to whitespace or a comma.
pub(crate) fn mac_src<'a>(finder: &memmem::Finder<'_>, text: &'a str) -> Option<&'a str> {
    for at in finder.find_iter(text.as_bytes()) {
        let rest = &text[at + 8..];
        let len = run_end(rest, b",");
        if len > 0 {
            return Some(&rest[..len]);
        }
    }
    None
}

/// The first `proto NAME` with its optional ` (DETAIL)` (`_PROTO`), at a word boundary.
pub(crate) fn proto<'a>(
    finder: &memmem::Finder<'_>,
    text: &'a str,
) -> Option<(&'a str, Option<&'a str>)> {
    let b = text.as_bytes();
    for at in finder.find_iter(b) {
        if at > 0 && is_word(b[at - 1]) {
            continue;
        }
        let rest = &text[at + 6..];
        let len = run_end(rest, b"(,");
        if len == 0 {
            continue;
        }
        let detail = rest[len..]
            .strip_prefix(" (")
            .and_then(|d| memchr::memchr(b')', d.as_bytes()).map(|close| &d[..close]));
        return Some((&rest[..len], detail));
    }
    None
}

/// The patterns of `ppcti.formats.firewall_text.PATTERNS` that the hand-written matchers implement. The
/// scanner refuses to start when Python passes others (someone changed a pattern): the format then
pub(crate) fn is_canonical_mac(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(c)
            }
        })
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// `ppcti.clean.mac.normalise_mac_series`: lower-case colon form, or None when not a whole MAC.
pub(crate) fn normalise_mac(raw: &str) -> Option<String> {
    let lowered = raw.to_lowercase();
    if is_canonical_mac(&lowered) {
        return Some(lowered);
    }
    let l = raw.trim().to_lowercase();
    let b = l.as_bytes();
    let colons = b.iter().filter(|c| **c == b':').count();
    let dashes = b.iter().filter(|c| **c == b'-').count();
    if (colons == 5) ^ (dashes == 5) {
        let groups: Vec<&str> = l.split([':', '-']).collect();
        if groups.len() == 6
            && groups
                .iter()
                .all(|g| (1..=2).contains(&g.len()) && g.bytes().all(is_lower_hex))
        {
            let padded: Vec<String> = groups.iter().map(|g| format!("{g:0>2}")).collect();
            return Some(padded.join(":"));
        }
    }
    let dotted = b.len() == 14
        && b[4] == b'.'
        && b[9] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 9 || is_lower_hex(*c));
    let bare = b.len() == 12 && b.iter().all(|c| is_lower_hex(*c));
    if dotted || bare {
        let hexes: Vec<u8> = b.iter().copied().filter(|c| *c != b'.').collect();
        let pairs: Vec<&str> = hexes
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap_or(""))
            .collect();
        return Some(pairs.join(":"));
    }
    None
}
