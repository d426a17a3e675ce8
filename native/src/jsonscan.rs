//! One pass over an NDJSON line that checks it is JSON and keeps only the values at the paths some
//! mapping reads, by slot: what `mapping.flatten` followed by a look-up per path gives, without
//! building the record.
//!
//! The mappings' paths are a tree of key segments (`Tree`), walked key by key while scanning, so a
//! key costs one small table probe and nothing is allocated per line. Values come back as `Val`,
//! slices of the line; strings with escapes, arrays and objects are decoded (`Val::json`) only when a
//! field reads them. The scanner accepts only text it is sure orjson reads to the same values; it
//! gives up (`None`) on anything else (an escape in a key, an integer of 19 digits or more, a number
//! out of range, a lone surrogate, nesting past 128 levels, a key of the mappings written twice in one
//! object), and the line then takes the `serde_json` path or goes to the reference.

use std::borrow::Cow;

use crate::json::Json;
use crate::text::{below, json_plain_run, LOW};

/// No node: the subtree under a key no path goes through.
const NONE: u32 = u32::MAX;
/// `serde_json`'s own limit, so that a line this scanner refuses for depth the old path refuses too.
const MAX_DEPTH: usize = 128;

/// A value at a slot, borrowed from the line.
#[derive(Clone, Copy)]
pub(crate) enum Val<'t> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A number with a fraction or exponent, and its text.
    Float(&'t str),
    /// A string without escapes, without its quotes.
    Str(&'t str),
    /// A string with escapes, with its quotes.
    Escaped(&'t str),
    /// An array: its text, and whether it is empty.
    Array(&'t str, bool),
    /// An object: its text.
    Object(&'t str),
}

impl<'t> Val<'t> {
    /// Not null and not `""`: what `Mapping.first` takes.
    pub(crate) fn is_value(&self) -> bool {
        !matches!(self, Val::Null | Val::Str(""))
    }

    /// The value as `json::Json`, for the rules of `values`; `None` when `serde_json` refuses it (a
    /// lone surrogate, a key written twice in a nested object...).
    pub(crate) fn json(self) -> Option<Json<'t>> {
        Some(match self {
            Val::Null => Json::Null,
            Val::Bool(b) => Json::Bool(b),
            Val::Int(v) => Json::Int(v),
            Val::UInt(v) => Json::UInt(v),
            Val::Float(text) => Json::Float(text.parse().ok().filter(|v: &f64| v.is_finite())?),
            Val::Str(s) => Json::Str(Cow::Borrowed(s)),
            Val::Escaped(text) => Json::Str(Cow::Owned(serde_json::from_str::<String>(text).ok()?)),
            Val::Array(text, _) | Val::Object(text) => {
                serde_json::from_str::<Json<'t>>(text).ok()?
            }
        })
    }
}

struct Node {
    slot: u32,
    /// Open addressing over `children`, by `seg_hash`; `NONE` where empty.
    table: Vec<u32>,
    children: Vec<Child>,
}

/// A key segment under a node: its first eight bytes as a word (zero past its end) and its length
/// decide most comparisons in one step; `bytes` holds the whole segment for longer ones.
struct Child {
    word: u64,
    len: usize,
    bytes: Box<[u8]>,
    node: u32,
}

/// The first eight bytes of `seg` as a little-endian word, zero past its end.
fn word_of(seg: &[u8]) -> u64 {
    let mut out = [0u8; 8];
    let n = seg.len().min(8);
    out[..n].copy_from_slice(&seg[..n]);
    u64::from_le_bytes(out)
}

/// `word_of(&b[at..at + len])`, in one load where the line goes on for eight bytes (a key is always
/// followed by at least its closing quote, a colon and a value).
#[inline]
fn word_at(b: &[u8], at: usize, len: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(w) => {
            let mask = if len >= 8 {
                u64::MAX
            } else {
                (1u64 << (8 * len)) - 1
            };
            u64::from_le_bytes(w.try_into().unwrap_or([0; 8])) & mask
        }
        None => word_of(&b[at..at + len]),
    }
}

/// Whether `b[at..at + len]`, whose first eight bytes are `word`, holds a dot.
#[inline]
fn has_dot(b: &[u8], at: usize, len: usize, word: u64) -> bool {
    // the bytes past the segment are zero in `word`, not dots
    if below(word ^ (LOW * u64::from(b'.')), 1) != 0 {
        return true;
    }
    len > 8 && b[at + 8..at + len].contains(&b'.')
}

/// A cheap hash of a key segment: its first eight bytes and its length.
#[inline]
fn seg_hash(word: u64, len: usize) -> usize {
    ((word ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as usize
}

/// The paths of the mappings as a tree of their dot-separated segments; node 0 is the record.
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// `paths[slot]` is the path of each slot.
    pub(crate) fn new(paths: &[&str]) -> Self {
        let mut nodes = vec![Node {
            slot: NONE,
            table: Vec::new(),
            children: Vec::new(),
        }];
        for (slot, path) in paths.iter().enumerate() {
            let mut at = 0usize;
            for seg in path.as_bytes().split(|c| *c == b'.') {
                let found = nodes[at].children.iter().find(|c| &*c.bytes == seg);
                at = match found {
                    Some(c) => c.node as usize,
                    None => {
                        let n = nodes.len();
                        nodes.push(Node {
                            slot: NONE,
                            table: Vec::new(),
                            children: Vec::new(),
                        });
                        nodes[at].children.push(Child {
                            word: word_of(seg),
                            len: seg.len(),
                            bytes: seg.into(),
                            node: n as u32,
                        });
                        n
                    }
                };
            }
            nodes[at].slot = slot as u32;
        }
        for node in &mut nodes {
            let size = (node.children.len() * 4).next_power_of_two().max(4);
            node.table = vec![NONE; size];
            for (i, c) in node.children.iter().enumerate() {
                let mut h = seg_hash(c.word, c.len) & (size - 1);
                while node.table[h] != NONE {
                    h = (h + 1) & (size - 1);
                }
                node.table[h] = i as u32;
            }
        }
        Self { nodes }
    }

    /// The child of `node` for the segment `b[at..at + len]`, whose first eight bytes are `word`.
    #[inline]
    fn child(&self, node: u32, b: &[u8], at: usize, len: usize, word: u64) -> u32 {
        let node = &self.nodes[node as usize];
        let mask = node.table.len() - 1;
        let mut h = seg_hash(word, len) & mask;
        loop {
            let i = node.table[h];
            if i == NONE {
                return NONE;
            }
            let c = &node.children[i as usize];
            if c.word == word && c.len == len && (len <= 8 || c.bytes[8..] == b[at + 8..at + len]) {
                return c.node;
            }
            h = (h + 1) & mask;
        }
    }

    /// The node the key `b[at..at + len]` leads to from `node`, segment by segment, and whether the
    /// key has a dot.
    #[inline]
    fn walk(&self, node: u32, b: &[u8], at: usize, len: usize) -> (u32, bool) {
        let word = word_at(b, at, len);
        if !has_dot(b, at, len, word) {
            return (self.child(node, b, at, len, word), false);
        }
        let mut node = node;
        let mut start = at;
        for seg in b[at..at + len].split(|c| *c == b'.') {
            if node == NONE {
                break;
            }
            node = self.child(node, b, start, seg.len(), word_at(b, start, seg.len()));
            start += seg.len() + 1;
        }
        (node, true)
    }
}

/// The values of a line by slot, and what the scan of one line needs; reused from line to line.
pub(crate) struct Scan<'t> {
    vals: Vec<Val<'t>>,
    /// `set[slot] == line`: the slot holds a value of this line.
    set: Vec<u32>,
    /// `seen[node] == object`: a key leading to `node` was read in this object already.
    seen: Vec<u32>,
    line: u32,
    object: u32,
}

impl<'t> Scan<'t> {
    pub(crate) fn new(tree: &Tree, slots: usize) -> Self {
        Self {
            vals: vec![Val::Null; slots],
            set: vec![0; slots],
            seen: vec![0; tree.nodes.len()],
            line: 0,
            object: 0,
        }
    }

    /// Whether the line has the path of `slot`.
    #[inline]
    pub(crate) fn has(&self, slot: usize) -> bool {
        self.set[slot] == self.line
    }

    /// The value at `slot`, if the line has the path.
    #[inline]
    pub(crate) fn get(&self, slot: usize) -> Option<Val<'t>> {
        (self.set[slot] == self.line).then(|| self.vals[slot])
    }

    /// Scan `text`, an object (after JSON white space): `Some(())` when it is read and certain.
    pub(crate) fn line(&mut self, tree: &Tree, text: &'t str) -> Option<()> {
        self.line = self.line.wrapping_add(1);
        if self.line == 0 {
            // stamps wrapped: old ones could match again
            self.set.fill(0);
            self.line = 1;
        }
        let mut p = Parser {
            b: text.as_bytes(),
            text,
            i: 0,
        };
        p.ws();
        if p.peek() != Some(b'{') {
            return None;
        }
        p.object(tree, self, 0, 0)?;
        p.ws();
        (p.i == p.b.len()).then_some(())
    }

    fn next_object(&mut self) -> u32 {
        self.object = self.object.wrapping_add(1);
        if self.object == 0 {
            self.seen.fill(0);
            self.object = 1;
        }
        self.object
    }
}

struct Parser<'t> {
    b: &'t [u8],
    text: &'t str,
    i: usize,
}

impl<'t> Parser<'t> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// An object at `self.i` (its `{`), under `node` (`NONE`: no path goes through it).
    fn object(&mut self, tree: &Tree, scan: &mut Scan<'t>, node: u32, depth: usize) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.i += 1; // '{'
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(());
        }
        let stamp = if node == NONE { 0 } else { scan.next_object() };
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return None;
            }
            let (key, escaped) = self.string()?;
            if escaped {
                return None;
            }
            self.eat(b':')?;
            self.ws();
            let (child, dotted) = if node == NONE {
                (NONE, false)
            } else {
                // the key's place in the line: the tree reads its bytes a word at a time
                let at = key.as_ptr() as usize - self.b.as_ptr() as usize;
                tree.walk(node, self.b, at, key.len())
            };
            if child != NONE {
                if scan.seen[child as usize] == stamp {
                    return None; // a key written twice: Python keeps the last value at the first place
                }
                scan.seen[child as usize] = stamp;
            }
            let value = self.value(tree, scan, child, depth + 1)?;
            if child != NONE {
                let slot = tree.nodes[child as usize].slot;
                if slot != NONE {
                    let slot = slot as usize;
                    // a key written with dots wins over the same path reached by nesting; otherwise
                    // the first writer of a path keeps it
                    if dotted || scan.set[slot] != scan.line {
                        scan.set[slot] = scan.line;
                        scan.vals[slot] = value;
                    }
                }
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, tree: &Tree, scan: &mut Scan<'t>, depth: usize) -> Option<bool> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.i += 1; // '['
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(true);
        }
        loop {
            self.ws();
            self.value(tree, scan, NONE, depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Some(false);
                }
                _ => return None,
            }
        }
    }

    // inlined into `object` and `array`: a value handed back through memory cost a stall per key
    #[inline(always)]
    fn value(
        &mut self,
        tree: &Tree,
        scan: &mut Scan<'t>,
        node: u32,
        depth: usize,
    ) -> Option<Val<'t>> {
        let start = self.i;
        Some(match self.peek()? {
            b'"' => {
                let (s, escaped) = self.string()?;
                if escaped {
                    Val::Escaped(&self.text[start..self.i])
                } else {
                    Val::Str(s)
                }
            }
            b'{' => {
                self.object(tree, scan, node, depth)?;
                Val::Object(&self.text[start..self.i])
            }
            b'[' => {
                let empty = self.array(tree, scan, depth)?;
                Val::Array(&self.text[start..self.i], empty)
            }
            b't' => self.literal(b"true", Val::Bool(true))?,
            b'f' => self.literal(b"false", Val::Bool(false))?,
            b'n' => self.literal(b"null", Val::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        })
    }

    fn literal(&mut self, word: &[u8], val: Val<'t>) -> Option<Val<'t>> {
        self.b[self.i..].starts_with(word).then(|| {
            self.i += word.len();
            val
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    /// A number as JSON writes it; a run of 19 digits or more (an integer orjson may refuse where
    /// `serde_json` reads a float) and numbers out of a float's range are given up.
    fn number(&mut self) -> Option<Val<'t>> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int_start = self.i;
        // the integer part's value as it is scanned (wrapping past 18 digits, which are refused)
        let mut magnitude = 0u64;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            self.i += 1;
        }
        let n = self.i - int_start;
        if n == 0 || n >= 19 || (n > 1 && self.b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !(1..19).contains(&self.digits()) {
                return None;
            }
            float = true;
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !(1..19).contains(&self.digits()) {
                return None;
            }
            float = true;
            exponent = true;
        }
        let text = &self.text[start..self.i];
        if float {
            if exponent && !text.parse::<f64>().ok()?.is_finite() {
                return None;
            }
            return Some(Val::Float(text));
        }
        Some(if negative && magnitude != 0 {
            Val::Int(-i64::try_from(magnitude).ok()?)
        } else {
            Val::UInt(magnitude)
        })
    }

    /// A string at `self.i` (its opening quote): its text without quotes, and whether it has escapes.
    fn string(&mut self) -> Option<(&'t str, bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = json_plain_run(self.b, self.i);
            match *self.b.get(self.i)? {
                b'"' => {
                    let s = &self.text[start..self.i];
                    self.i += 1;
                    return Some((s, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return None, // a control character
            }
        }
    }

    /// An escape at `self.i` (its backslash); a `\u` escape of a surrogate must be one half of a pair.
    fn escape(&mut self) -> Option<()> {
        match *self.b.get(self.i + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                self.i += 2;
                Some(())
            }
            b'u' => {
                let unit = self.hex4(self.i + 2)?;
                self.i += 6;
                match unit {
                    0xd800..=0xdbff => {
                        if self.b.get(self.i) != Some(&b'\\')
                            || self.b.get(self.i + 1) != Some(&b'u')
                        {
                            return None;
                        }
                        let low = self.hex4(self.i + 2)?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return None;
                        }
                        self.i += 6;
                        Some(())
                    }
                    0xdc00..=0xdfff => None,
                    _ => Some(()),
                }
            }
            _ => None,
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let mut v = 0;
        for d in digits {
            v = v * 16 + char::from(*d).to_digit(16)?;
        }
        Some(v)
    }
}
