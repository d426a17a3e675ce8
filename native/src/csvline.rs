//! One CSV line read and one CSV row written as Python's `csv` module does, for the lines whose reading
//! is certain: the e-mail CSV reader (`emailcsv`) hands every other line back to Python.
//!
//! Reading follows `csv.reader(..., doublequote=True, strict=False)` on a line that is a whole record:
//! a field is quoted when it starts with the quote character, `""` inside it is one quote, and a quote
//! inside an unquoted field is an ordinary character. A line that ends inside a quoted field (a record
//! over several lines, or an unbalanced quote), that holds a carriage return or NUL (the module ends a
//! record there or refuses the line) or a line break, that has text after a closing quote, or that is longer than the
//! module's field limit is not read here. Writing follows `csv.writer(..., lineterminator="")` with its
//! minimal quoting (Python 3.11): a field is quoted when it holds the delimiter or `"`, and a row of
//! one empty field is written `""`.

use std::borrow::Cow;

/// `csv.field_size_limit()`'s default: a longer field makes the module raise, which Python words.
const FIELD_LIMIT: usize = 131_072;

/// What `str.isspace` (so `str.strip()` and the regex class `\s`) counts as white space.
pub(crate) fn is_py_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// `text.strip()`.
pub(crate) fn py_strip(text: &str) -> &str {
    // most texts start and end with a plain ASCII character: nothing to decode
    let plain = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii() && !is_py_space(char::from(*c)));
    let b = text.as_bytes();
    if plain(b.first()) && plain(b.last()) {
        return text;
    }
    text.trim_matches(is_py_space)
}

/// The fields of `line` into `fields` (cleared first, reused from line to line); false when Python must
/// read the line (see the module's documentation). An empty line has no field, as for the `csv` module.
pub(crate) fn split_into<'l>(
    line: &'l str,
    delimiter: u8,
    quote: u8,
    fields: &mut Vec<Cow<'l, str>>,
) -> bool {
    fields.clear();
    let b = line.as_bytes();
    if b.len() > FIELD_LIMIT || memchr::memchr3(b'\r', b'\n', 0, b).is_some() {
        return false;
    }
    if b.is_empty() {
        return true;
    }
    let mut at = 0;
    loop {
        if b.get(at) == Some(&quote) {
            // a quoted field: up to the quote not followed by another
            let mut value: Option<String> = None;
            let mut start = at + 1;
            let mut i = start;
            loop {
                let Some(next) = memchr::memchr(quote, &b[i..]) else {
                    return false; // the record goes on past the line
                };
                let next = next + i;
                if b.get(next + 1) == Some(&quote) {
                    value
                        .get_or_insert_with(String::new)
                        .push_str(&line[start..=next]);
                    start = next + 2;
                    i = start;
                    continue;
                }
                let field = match value {
                    None => Cow::Borrowed(&line[start..next]),
                    Some(mut text) => {
                        text.push_str(&line[start..next]);
                        Cow::Owned(text)
                    }
                };
                fields.push(field);
                at = next + 1;
                break;
            }
            match b.get(at) {
                None => return true,
                Some(c) if *c == delimiter => at += 1,
                Some(_) => return false, // text after the closing quote
            }
        } else {
            match memchr::memchr(delimiter, &b[at..]) {
                Some(end) => {
                    fields.push(Cow::Borrowed(&line[at..at + end]));
                    at += end + 1;
                }
                None => {
                    fields.push(Cow::Borrowed(&line[at..]));
                    return true;
                }
            }
        }
        if at == b.len() {
            // a delimiter at the end: one more, empty field
            fields.push(Cow::Borrowed(""));
            return true;
        }
    }
}

/// Append one row as `csv.writer(buffer, delimiter=delimiter, lineterminator="")` writes it.
/// `delimiter` is ASCII.
pub(crate) fn write_row<S: AsRef<str>>(out: &mut String, fields: &[S], delimiter: char) {
    if let [only] = fields {
        if only.as_ref().is_empty() {
            out.push_str("\"\"");
            return;
        }
    }
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        write_field(out, field.as_ref(), delimiter);
    }
}

/// Append one field of a row as `write_row` writes it (a row of more than one field, or a non-empty one).
pub(crate) fn write_field(out: &mut String, field: &str, delimiter: char) {
    if memchr::memchr2(delimiter as u8, b'"', field.as_bytes()).is_some() {
        out.push('"');
        for part in field.split_inclusive('"') {
            out.push_str(part);
            if part.ends_with('"') {
                out.push('"');
            }
        }
        out.push('"');
    } else {
        out.push_str(field);
    }
}
