//! A JSON object read with every key of every object told apart. serde_json's own `Map`
//! keeps the last of two equal keys, so `{"roles":[],"roles":["admin"]}` read as admin
//! here while a proxy or audit tool that keeps the first saw no roles. This reads the
//! same `Value` tree in the same single pass as serde_json's, and notes where the first
//! repeated key sits; the caller refuses the body.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// A body's top-level object, and the field path of its first repeated key.
pub struct UniqueKeys {
    pub object: Map<String, Value>,
    /// e.g. `roles`, `metadata.team` or `items[2].name`.
    pub duplicate: Option<String>,
}

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut duplicate = None;
        let object = deserializer.deserialize_map(TopLevel(&mut duplicate))?;
        Ok(UniqueKeys { object, duplicate })
    }
}

/// Where a value sits in the body. Kept on the stack while the body is read, and only
/// written out for a repeated key.
#[derive(Clone, Copy)]
enum Place<'a> {
    Root,
    Key(&'a Place<'a>, &'a str),
    Index(&'a Place<'a>, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Root => Ok(()),
            Place::Key(Place::Root, key) => f.write_str(key),
            Place::Key(parent, key) => write!(f, "{parent}.{key}"),
            Place::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// The body itself, which must be an object.
struct TopLevel<'s>(&'s mut Option<String>);

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        read_object(access, Place::Root, self.0)
    }
}

/// Any value at `place`, read as serde_json's `Value` reads it.
struct Any<'p, 's> {
    place: Place<'p>,
    duplicate: &'s mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Any<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Any<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let Any { place, duplicate } = self;
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(Any {
            place: Place::Index(&place, items.len()),
            duplicate: &mut *duplicate,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Value, A::Error> {
        read_object(access, self.place, self.duplicate).map(Value::Object)
    }
}

/// The entries of the object at `place`. A repeated key does not stop the read (the
/// body must still be read to its end to be taken as JSON); the first one is noted.
fn read_object<'de, A: MapAccess<'de>>(
    mut access: A,
    place: Place<'_>,
    duplicate: &mut Option<String>,
) -> Result<Map<String, Value>, A::Error> {
    let mut object = Map::new();
    while let Some(key) = access.next_key::<String>()? {
        let value = access.next_value_seed(Any {
            place: Place::Key(&place, &key),
            duplicate: &mut *duplicate,
        })?;
        match object.entry(key) {
            Entry::Vacant(entry) => {
                entry.insert(value);
            }
            Entry::Occupied(entry) => {
                if duplicate.is_none() {
                    *duplicate = Some(Place::Key(&place, entry.key()).to_string());
                }
            }
        }
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duplicate_in(body: &str) -> Option<String> {
        serde_json::from_str::<UniqueKeys>(body).unwrap().duplicate
    }

    #[test]
    fn a_repeated_key_is_named_by_its_path() {
        let named = |body| duplicate_in(body).unwrap();
        assert_eq!(named(r#"{"roles":[],"roles":["admin"]}"#), "roles");
        assert_eq!(
            named(r#"{"metadata":{"team":"a","team":"b"}}"#),
            "metadata.team"
        );
        assert_eq!(named(r#"{"a":[1,{"b":{}},{"c":0,"c":1}]}"#), "a[2].c");
        assert_eq!(named(r#"{"a":[[{"x":1,"x":1}]]}"#), "a[0][0].x");
        // Equal once unescaped: the key is what serde_json reads, not its spelling.
        assert_eq!(named(r#"{"name":"a","n\u0061me":"b"}"#), "name");
        // The first in the body's order, and only one.
        assert_eq!(named(r#"{"x":{"y":1,"y":2},"z":1,"z":2}"#), "x.y");
    }

    #[test]
    fn equal_keys_in_different_objects_are_fine() {
        let body = r#"{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}],"k":null}"#;
        assert_eq!(duplicate_in(body), None);
    }

    #[test]
    fn the_object_read_is_the_one_serde_json_reads() {
        let body = r#"{"s":"tést\n","n":-3,"u":18446744073709551615,"f":1.5e300,
            "t":true,"z":null,"a":[[],{}, [1, "x"]],"o":{"p":{"q":[false]}}}"#;
        let ours = serde_json::from_str::<UniqueKeys>(body).unwrap();
        let theirs: Map<String, Value> = serde_json::from_str(body).unwrap();
        assert_eq!(ours.object, theirs);
        assert_eq!(ours.duplicate, None);
    }

    #[test]
    fn only_an_object_is_a_body() {
        for body in ["[]", "[null]", "\"x\"", "1", "null", "true"] {
            let err = serde_json::from_str::<UniqueKeys>(body).err().unwrap();
            assert!(err.to_string().contains("expected a JSON object"), "{err}");
        }
        assert!(serde_json::from_str::<UniqueKeys>(r#"{"a":1,"a":2"#).is_err());
        assert!(serde_json::from_str::<UniqueKeys>(r#"{"a":1} x"#).is_err());
    }

    #[test]
    fn nesting_stays_within_serde_json_s_limit() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let err = serde_json::from_str::<UniqueKeys>(&deep).err().unwrap();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }
}
