//! The one reading of a payload's bytes: JSON with no key twice in any object.
//!
//! `{"event_id":"a","event_id":"b"}` is valid JSON whose meaning depends on the reader (serde_json
//! keeps the last, others the first or refuse it), so a payload holding a key twice, at any depth
//! (the top, an envelope's `detail`, `vars`, `follow`), is refused, naming the key's path.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::MAX_PAYLOAD_BYTES;
use crate::error::InputError;

/// Decodes `bytes` (at most [`MAX_PAYLOAD_BYTES`]) as one JSON value without duplicate keys.
pub(super) fn decode(bytes: &[u8]) -> Result<Value, InputError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Strict {
        path: String::new(),
        duplicate: &duplicate,
    };
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match (value, duplicate.into_inner()) {
        (_, Some(path)) => Err(InputError::field(path, "appears more than once")),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(InputError::NotJson(e.to_string())),
    }
}

/// Builds a `Value` like serde_json's own, recording the path of the first key seen twice.
struct Strict<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl Strict<'_> {
    fn child(&self, step: String) -> Strict<'_> {
        Strict {
            path: step,
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(path);
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(self.child(path))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &str) -> String {
        decode(body.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn a_key_twice_is_refused_at_every_depth_naming_its_path() {
        let cases = [
            (
                r#"{"event_id":"a","event_id":"b"}"#,
                "`event_id` appears more than once",
            ),
            (
                r#"{"event_id":"a","vars":{"max_count":5,"max_count":500}}"#,
                "`vars.max_count` appears more than once",
            ),
            (
                r#"{"event_id":"a","vars":{},"vars":{"max_count":5}}"#,
                "`vars` appears more than once",
            ),
            (
                r#"{"event_id":"a","follow":{"run_id":"apply-1","run_id":"destroy-1"}}"#,
                "`follow.run_id` appears more than once",
            ),
            (
                r#"{"source":"s","detail-type":"t","detail":{"event_id":"a","event_id":"b"}}"#,
                "`detail.event_id` appears more than once",
            ),
            (
                r#"{"source":"s","detail-type":"t","detail":{"event_id":"a","vars":{"x":1,"x":2}}}"#,
                "`detail.vars.x` appears more than once",
            ),
            (
                r#"{"source":"s","source":"t","detail-type":"t","detail":{"event_id":"a"}}"#,
                "`source` appears more than once",
            ),
            (
                r#"{"event_id":"a","event\u005fid":"b"}"#,
                "`event_id` appears more than once",
            ),
            (
                r#"{"resources":[{"a":1},{"a":1,"a":2}]}"#,
                "`resources[1].a` appears more than once",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(refused(body), want, "{body}");
        }
    }

    #[test]
    fn unambiguous_json_reads_as_serde_json_reads_it() {
        let body = r#"{"detail":{"event_id":"a","vars":{"n":4,"f":2.5,"neg":-1,"s":"x\n","b":true,"z":null}},
                      "a":[1,[2,{"event_id":"a"}]],"event_id":{"event_id":1}}"#;
        let strict = decode(body.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(body).unwrap();
        assert_eq!(strict, plain);
    }

    #[test]
    fn not_json_is_still_reported_as_such() {
        for body in ["", "{", r#"{"a":1} {"a":2}"#, r#"{"a":1,}"#, "\u{feff}{}"] {
            assert!(
                refused(body).starts_with("payload is not valid JSON"),
                "{body:?}"
            );
        }
    }
}
