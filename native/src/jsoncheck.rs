//! Whether bytes are exactly one JSON value as `orjson.loads` accepts it, without building anything.
//!
//! Publishing checks every line of `cti/bundles.jsonl` before it goes out; `orjson.loads` does that by
//! building the Python objects of a 2 kB bundle and throwing them away, which costs more than sending
//! it. This check walks the bytes once and answers yes or no, to orjson's rules (tested against orjson
//! in `tests/bus/test_bus_batches_native.py`):
//!
//! - the input is valid UTF-8 (no encoded surrogates, no overlong forms, no byte order mark);
//! - one value, surrounded only by space, tab, CR and LF; nothing after it;
//! - no `NaN`/`Infinity`, no leading zeros, no `+`, no `.5` or `5.`; a number whose nearest double is
//!   infinite (`1e400`, a 400-digit integer) is refused, one that underflows to zero is accepted;
//! - strings without raw control characters (below 0x20), escapes among `\" \\ \/ \b \f \n \r \t \uXXXX`,
//!   a `\u` high surrogate followed by a `\u` low surrogate and never a lone one;
//! - at most 1,024 arrays and objects nested, empty ones included; duplicate keys are accepted.

use crate::text::json_plain_run;

/// Deepest nesting of arrays and objects orjson accepts.
const MAX_DEPTH: usize = 1024;

/// One JSON value, to orjson's rules.
pub(crate) fn is_json(s: &[u8]) -> bool {
    simdutf8::basic::from_utf8(s).is_ok() && Checker { s, i: 0 }.document()
}

/// Which containers are open, object or array: a bit each, on the stack (no allocation per line).
#[derive(Default)]
struct Open {
    objects: [u64; MAX_DEPTH / 64],
    depth: usize,
}

impl Open {
    fn push(&mut self, object: bool) {
        let (word, bit) = (self.depth / 64, self.depth % 64);
        self.objects[word] = self.objects[word] & !(1 << bit) | u64::from(object) << bit;
        self.depth += 1;
    }

    fn last(&self) -> Option<bool> {
        let top = self.depth.checked_sub(1)?;
        Some(self.objects[top / 64] >> (top % 64) & 1 == 1)
    }

    fn pop(&mut self) {
        self.depth -= 1;
    }
}

struct Checker<'a> {
    s: &'a [u8],
    i: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A key, its colon and the whitespace before the value.
    fn key(&mut self) -> bool {
        if !(self.eat(b'"') && self.string_rest()) {
            return false;
        }
        self.skip_ws();
        let colon = self.eat(b':');
        self.skip_ws();
        colon
    }

    /// The whole input: values and containers walked with an explicit stack of the open ones.
    fn document(&mut self) -> bool {
        let mut open = Open::default();
        self.skip_ws();
        loop {
            // a value starts here
            match self.peek() {
                Some(b @ (b'{' | b'[')) => {
                    if open.depth >= MAX_DEPTH {
                        return false;
                    }
                    self.i += 1;
                    self.skip_ws();
                    let object = b == b'{';
                    if self.eat(if object { b'}' } else { b']' }) {
                        // empty: a value already complete
                    } else {
                        open.push(object);
                        if object && !self.key() {
                            return false;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    if !self.string_rest() {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.literal(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.literal(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.literal(b"null") {
                        return false;
                    }
                }
                _ => return false,
            }
            // a value ended: close containers until one takes another value
            loop {
                self.skip_ws();
                let Some(object) = open.last() else {
                    return self.i == self.s.len();
                };
                if self.eat(b',') {
                    self.skip_ws();
                    if object && !self.key() {
                        return false;
                    }
                    break;
                }
                if !self.eat(if object { b'}' } else { b']' }) {
                    return false;
                }
                open.pop();
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// After the opening quote: through the closing one.
    fn string_rest(&mut self) -> bool {
        let s = self.s;
        loop {
            self.i = json_plain_run(s, self.i);
            match s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.i += 1;
                    if !self.escape() {
                        return false;
                    }
                }
                _ => return false, // a control character or the end of the input
            }
        }
    }

    /// After a backslash.
    fn escape(&mut self) -> bool {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.i += 1;
                true
            }
            Some(b'u') => {
                self.i += 1;
                match self.hex4() {
                    Some(0xD800..=0xDBFF) => {
                        // a high surrogate must be followed by an escaped low one
                        self.literal(b"\\u") && matches!(self.hex4(), Some(0xDC00..=0xDFFF))
                    }
                    Some(0xDC00..=0xDFFF) | None => false,
                    Some(_) => true,
                }
            }
            _ => false,
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.i..self.i + 4)?;
        let mut value = 0;
        for &d in digits {
            value = value * 16 + (d as char).to_digit(16)?;
        }
        self.i += 4;
        Some(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// A number in JSON's grammar whose nearest double is finite.
    fn number(&mut self) -> bool {
        let start = self.i;
        self.eat(b'-');
        let int_start = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        let int_end = self.i;
        let (mut frac_start, mut frac_end) = (self.i, self.i);
        if self.eat(b'.') {
            frac_start = self.i;
            if self.digits() == 0 {
                return false;
            }
            frac_end = self.i;
        }
        let mut exponent: i64 = 0;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let negative = self.eat(b'-');
            if !negative {
                self.eat(b'+');
            }
            let digits_start = self.i;
            if self.digits() == 0 {
                return false;
            }
            for &d in &self.s[digits_start..self.i] {
                exponent = (exponent * 10 + i64::from(d - b'0')).min(1 << 40);
            }
            if negative {
                exponent = -exponent;
            }
        }
        // decimal magnitude of the first significant digit: value lies in [10^m, 10^(m+1))
        let int = &self.s[int_start..int_end];
        let frac = &self.s[frac_start..frac_end];
        let magnitude = match int.iter().position(|&d| d != b'0') {
            Some(first) => (int.len() - first) as i64 - 1,
            None => match frac.iter().position(|&d| d != b'0') {
                Some(first) => -(first as i64) - 1,
                None => return true, // zero
            },
        };
        match magnitude + exponent {
            ..=306 => true,
            309.. => false,
            _ => {
                // near the largest double: let the correctly rounded parse decide
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("inf");
                text.parse::<f64>().is_ok_and(f64::is_finite)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn accepts_and_refuses_as_orjson() {
        for ok in [
            &b"1"[..],
            b"-0",
            b" {\"a\" : [1, 2.5e-3, true, null, \"x\\u00e9\\ud83d\\ude00\"] }\r",
            b"1e-400",
            b"18446744073709551616",
            b"1.7976931348623157e308",
            b"\"\x7f\"",
        ] {
            assert!(is_json(ok), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b""[..],
            b"NaN",
            b"1e400",
            b"1.7976931348623159e308",
            b"01",
            b"1.",
            b".1",
            b"+1",
            b"[1,]",
            b"1 2",
            b"\"\\ud800\"",
            b"\"\\udc00\"",
            b"\"\x01\"",
            b"\"\xed\xa0\x80\"",
            b"[1\x0c]",
            b"{1:2}",
        ] {
            assert!(!is_json(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn plain_runs_end_at_the_first_byte_that_needs_attention() {
        let text = b"abcdefgh\x01\x1f\"\\ijklmnopqrstuvwxyz\"";
        for start in 0..text.len() {
            let expected = (start..text.len())
                .find(|&i| text[i] < 0x20 || text[i] == b'"' || text[i] == b'\\')
                .unwrap_or(text.len());
            assert_eq!(crate::text::json_plain_run(text, start), expected);
        }
        // a byte of 0x20 after a flagged one, and bytes past 0x7f, are not flags
        assert_eq!(crate::text::json_plain_run(b"\x00 \xc3\xa9abcdef", 1), 10);
    }

    #[test]
    fn depth_limit() {
        let nested = |d: usize| [vec![b'['; d], vec![b']'; d]].concat();
        assert!(is_json(&nested(1024)));
        assert!(!is_json(&nested(1025)));
    }
}
