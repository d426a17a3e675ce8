//! One line of `events.jsonl` into the columns of `eventscols`: `serde_json` with visitors that append
//! the values read and decline (`Decline`) whatever Polars might read differently.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::eventscols::{
    micros, Columns, Sparse, DST_PORT, EMAILS, EXTRA, FIELD0, LINE, PROTOCOL, TIMESTAMP,
};
use arrow_array::builder::{ListBuilder, StringViewBuilder};

/// Why a file goes to the reference; never shown to users (the reference reads the file again).
#[derive(Debug)]
pub(crate) struct Decline;

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the reference")
    }
}

impl std::error::Error for Decline {}

impl de::Error for Decline {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Decline
    }
}

/// A string or null, appended to `builder`; any other value declines the file.
struct Text<'b>(&'b mut StringViewBuilder);

impl<'de> DeserializeSeed<'de> for Text<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Text<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.append_null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.append_value(v);
        Ok(())
    }
}

/// `protocol`: as `Text`, and kept for the row's service.
struct Protocol<'b>(&'b mut Columns);

impl<'de> DeserializeSeed<'de> for Protocol<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Protocol<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.texts[PROTOCOL as usize].append_null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.texts[PROTOCOL as usize].append_value(v);
        self.0.keep_protocol(v);
        Ok(())
    }
}

/// An integer or null as the type's range allows, or none; floats, strings and the rest decline.
struct Integer<T>(std::marker::PhantomData<T>);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> DeserializeSeed<'de> for Integer<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<T: TryFrom<i64> + TryFrom<u64>> Visitor<'_> for Integer<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("out of range"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        T::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("out of range"))
    }
}

fn integer<'de, T: TryFrom<i64> + TryFrom<u64>, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<T>, A::Error> {
    map.next_value_seed(Integer::<T>(std::marker::PhantomData))
}

/// The timestamp: its microseconds when certain, else its text for Polars.
struct Timestamp<'b>(&'b mut Columns);

impl<'de> DeserializeSeed<'de> for Timestamp<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Timestamp<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.t.append_null();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        match micros(v) {
            Some(us) => self.0.t.append_value(us),
            None => {
                self.0.t.append_null();
                self.0.ts.put(self.0.rows, v);
            }
        }
        Ok(())
    }
}

/// `emails`: a list of strings or nulls, or null.
struct Emails<'b>(&'b mut ListBuilder<StringViewBuilder>);

impl<'de> DeserializeSeed<'de> for Emails<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Emails<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.append(false);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Text(self.0.values()))?.is_some() {}
        self.0.append(true);
        Ok(())
    }
}

/// A field of `extra`: a string, or null (left as the gap it is).
struct FieldText<'b>(&'b mut Sparse, usize);

impl<'de> DeserializeSeed<'de> for FieldText<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for FieldText<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.put(self.1, v);
        Ok(())
    }
}

/// A value no column reads, parsed all the same: serde's `IgnoredAny` lets numbers past a float's
/// range (`1e400`) through, which Polars refuses.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// Which top-level key of interest (its bit in `Row::seen`).
struct TopKey;

impl<'de> DeserializeSeed<'de> for TopKey {
    type Value = Option<u32>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for TopKey {
    type Value = Option<u32>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u32>, E> {
        Ok(match v {
            "holder" => Some(0),
            "format" => Some(1),
            "source_file" => Some(2),
            "src_ip" => Some(3),
            "dst_ip" => Some(4),
            "nat_ip" => Some(5),
            "protocol" => Some(PROTOCOL),
            "line" => Some(LINE),
            "timestamp" => Some(TIMESTAMP),
            "dst_port" => Some(DST_PORT),
            "emails" => Some(EMAILS),
            "extra" => Some(EXTRA),
            _ => None,
        })
    }
}

/// Which of `names` a key is (keys are compared unescaped, as Polars compares them).
struct KeyOf<'n>(&'n [&'n str]);

impl<'de> DeserializeSeed<'de> for KeyOf<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyOf<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

/// One record's keys, appended to the columns; `seen` the bits of the keys met.
struct Row<'b> {
    columns: &'b mut Columns,
    fields: &'b [&'b str],
    seen: &'b mut u64,
}

/// Mark `bit` as met; a key met twice declines (Polars keeps the first, serde would see both).
fn meet<E: de::Error>(seen: &mut u64, bit: u32) -> Result<(), E> {
    if *seen & (1 << bit) != 0 {
        return Err(E::custom("a key written twice"));
    }
    *seen |= 1 << bit;
    Ok(())
}

impl<'de> DeserializeSeed<'de> for Row<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Row<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an events.jsonl record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Row {
            columns: c,
            fields,
            seen,
        } = self;
        while let Some(key) = map.next_key_seed(TopKey)? {
            let Some(bit) = key else {
                map.next_value_seed(Skip)?;
                continue;
            };
            meet(&mut *seen, bit)?;
            match bit {
                PROTOCOL => map.next_value_seed(Protocol(&mut *c))?,
                0..PROTOCOL => map.next_value_seed(Text(&mut c.texts[bit as usize]))?,
                LINE => {
                    let v = integer::<i64, _>(&mut map)?;
                    c.line.append_option(v);
                }
                TIMESTAMP => map.next_value_seed(Timestamp(&mut *c))?,
                DST_PORT => {
                    let v = integer::<i32, _>(&mut map)?;
                    c.dst_port.append_option(v);
                    c.port = v;
                }
                EMAILS => map.next_value_seed(Emails(&mut c.emails))?,
                _ => {
                    debug_assert_eq!(bit, EXTRA, "TOP ends with extra");
                    map.next_value_seed(Extra {
                        columns: &mut *c,
                        fields,
                        seen: &mut *seen,
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// `extra`: an object whose fields of interest are strings or nulls, or null.
struct Extra<'b> {
    columns: &'b mut Columns,
    fields: &'b [&'b str],
    seen: &'b mut u64,
}

impl<'de> DeserializeSeed<'de> for Extra<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Extra<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyOf(self.fields))? {
            let Some(at) = key else {
                map.next_value_seed(Skip)?;
                continue;
            };
            meet(self.seen, FIELD0 + at as u32)?;
            let row = self.columns.rows;
            map.next_value_seed(FieldText(&mut self.columns.fields[at], row))?;
        }
        Ok(())
    }
}

/// Whether Polars skips the line: nothing but spaces, tabs and carriage returns.
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'))
}

/// Append one line's row; `Err` declines the file.
pub(crate) fn read_line(
    line: &[u8],
    columns: &mut Columns,
    fields: &[&str],
) -> Result<(), Decline> {
    if is_blank(line) {
        return Ok(());
    }
    let text = simdutf8::basic::from_utf8(line).map_err(|_| Decline)?;
    let mut seen = 0u64;
    let mut de = serde_json::Deserializer::from_str(text);
    Row {
        columns: &mut *columns,
        fields,
        seen: &mut seen,
    }
    .deserialize(&mut de)
    .map_err(|_| Decline)?;
    de.end().map_err(|_| Decline)?;
    columns.close_row(seen);
    Ok(())
}
