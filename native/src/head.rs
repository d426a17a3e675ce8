//! The header of a firewall line (its timestamp in one of four shapes) and the four tokens after it:
//! what the anchored pattern `head` of `ppcti.formats.firewall_text.PATTERNS` captures.

use crate::text::{run_end, space_end};

/// The parts of a line's header and the four tokens after it: what the Python pattern `_HEAD` captures.
#[derive(Default)]
pub(crate) struct Head<'a> {
    pub(crate) r_mon: Option<&'a str>,
    pub(crate) r_day: Option<&'a str>,
    pub(crate) r_year: Option<&'a str>,
    pub(crate) r_clock: Option<&'a str>,
    pub(crate) i_year: Option<&'a str>,
    pub(crate) i_mon: Option<&'a str>,
    pub(crate) i_day: Option<&'a str>,
    pub(crate) i_clock: Option<&'a str>,
    pub(crate) i_frac: Option<&'a str>,
    pub(crate) i_off: Option<&'a str>,
    pub(crate) b_mon: Option<&'a str>,
    pub(crate) b_day: Option<&'a str>,
    pub(crate) b_clock: Option<&'a str>,
    pub(crate) t_clock: Option<&'a str>,
    pub(crate) t: [Option<&'a str>; 4],
}

fn digits_at(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit)
}

fn letters_at(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_alphabetic)
}

fn clock_at(b: &[u8], at: usize) -> bool {
    digits_at(b, at, 2)
        && b.get(at + 2) == Some(&b':')
        && digits_at(b, at + 3, 2)
        && b.get(at + 5) == Some(&b':')
        && digits_at(b, at + 6, 2)
}

/// Parse the header the way the anchored pattern `_HEAD` does. Its four alternatives are told apart by
/// their first characters (letters then `/` or a space; four digits then `-`, or two then `:`), and
/// every optional part is taken whenever it fits, because what follows the header always matches: so a
/// single forward pass gives the regex engine's leftmost-first captures.
pub(crate) fn parse_head(text: &str) -> Option<Head<'_>> {
    let b = text.as_bytes();
    let mut at = 0;
    if b.first() == Some(&b'<') {
        let digits = b[1..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if (1..=3).contains(&digits) && b.get(1 + digits) == Some(&b'>') {
            at = 2 + digits;
        } else {
            return None;
        }
    }
    let rest = &text[at..];
    at += rest.len() - rest.trim_start().len();
    let s = |from: usize, len: usize| Some(&text[from..from + len]);
    let mut head = Head::default();
    let end;
    if letters_at(b, at, 3) && b.get(at + 3) == Some(&b'/') {
        // Mar/07/2023 10:38:03
        if !(digits_at(b, at + 4, 2)
            && b.get(at + 6) == Some(&b'/')
            && digits_at(b, at + 7, 4)
            && b.get(at + 11) == Some(&b' ')
            && clock_at(b, at + 12))
        {
            return None;
        }
        head.r_mon = s(at, 3);
        head.r_day = s(at + 4, 2);
        head.r_year = s(at + 7, 4);
        head.r_clock = s(at + 12, 8);
        end = at + 20;
    } else if letters_at(b, at, 3) {
        // Mar  2 08:14:23
        let spaces = b[at + 3..]
            .iter()
            .take(2)
            .take_while(|c| **c == b' ')
            .count();
        let day_at = at + 3 + spaces;
        let day = b[day_at.min(b.len())..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if spaces == 0
            || day == 0
            || b.get(day_at + day) != Some(&b' ')
            || !clock_at(b, day_at + day + 1)
        {
            return None;
        }
        head.b_mon = s(at, 3);
        head.b_day = s(day_at, day);
        head.b_clock = s(day_at + day + 1, 8);
        end = day_at + day + 9;
    } else if digits_at(b, at, 4) && b.get(at + 4) == Some(&b'-') {
        // 2023-03-18T20:35:05.734011+01:00
        if !(digits_at(b, at + 5, 2)
            && b.get(at + 7) == Some(&b'-')
            && digits_at(b, at + 8, 2)
            && matches!(b.get(at + 10), Some(b'T' | b' '))
            && clock_at(b, at + 11))
        {
            return None;
        }
        head.i_year = s(at, 4);
        head.i_mon = s(at + 5, 2);
        head.i_day = s(at + 8, 2);
        head.i_clock = s(at + 11, 8);
        let mut pos = at + 19;
        if matches!(b.get(pos), Some(b'.' | b',')) {
            let n = b[pos + 1..]
                .iter()
                .take(9)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if n > 0 {
                head.i_frac = s(pos + 1, n);
                pos += 1 + n;
            }
        }
        if b.get(pos) == Some(&b'Z') {
            head.i_off = s(pos, 1);
            pos += 1;
        } else if matches!(b.get(pos), Some(b'+' | b'-')) && digits_at(b, pos + 1, 2) {
            let colon = usize::from(b.get(pos + 3) == Some(&b':'));
            if digits_at(b, pos + 3 + colon, 2) {
                head.i_off = s(pos, 5 + colon);
                pos += 5 + colon;
            }
        }
        end = pos;
    } else if clock_at(b, at) {
        head.t_clock = s(at, 8);
        end = at + 8;
    } else {
        return None;
    }
    let mut rest = &text[end..];
    for slot in &mut head.t {
        rest = &rest[space_end(rest)..];
        if rest.is_empty() {
            break;
        }
        let len = run_end(rest, b"");
        *slot = Some(&rest[..len]);
        rest = &rest[len..];
    }
    Some(head)
}
