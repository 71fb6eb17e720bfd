//! serde: deserialize records, nodes, relationships and values into your types, and build
//! parameters from any `Serialize` value.
//!
//! * A record deserializes like a map from its keys to its values
//!   ([`Record::to`](crate::Record::to)); a node or relationship like the map of its properties;
//!   a list like a sequence; `null` like `None`/`()`; strings and byte arrays borrow from the
//!   record. Temporal values deserialize as their Cypher literal text (e.g. `2024-05-01`); points,
//!   paths and vectors are read with [`Record::get`](crate::Record::get) instead.
//! * [`to_value`] turns a `Serialize` value into a [`Value`] (structs and maps become maps, `None`
//!   becomes null, sequences become lists, unsigned integers above `i64::MAX` are an error);
//!   [`to_params`] requires a map.

use std::fmt::{self, Display};

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize};

use quiver_bolt::value::{Map, PackStr, Value};

use crate::error::Error;

/// A (de)serialization failure.
#[derive(Debug, Clone)]
pub struct SerdeError(String);

impl Display for SerdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerdeError {}

impl de::Error for SerdeError {
    fn custom<T: Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

impl ser::Error for SerdeError {
    fn custom<T: Display>(msg: T) -> Self {
        SerdeError(msg.to_string())
    }
}

impl From<SerdeError> for Error {
    fn from(value: SerdeError) -> Self {
        Error::Conversion(value.0)
    }
}

/// Deserialize a `T` from a value.
pub fn from_value<'a, T: de::Deserialize<'a>>(value: &'a Value) -> Result<T, Error> {
    T::deserialize(ValueDeserializer(value)).map_err(Error::from)
}

pub(crate) fn from_pairs<'a, T: de::Deserialize<'a>>(
    keys: &'a [PackStr],
    values: &'a [Value],
) -> Result<T, Error> {
    T::deserialize(PairsDeserializer { keys, values }).map_err(Error::from)
}

struct ValueDeserializer<'a>(&'a Value);

struct MapIter<'a, I: Iterator<Item = (&'a str, &'a Value)>> {
    iter: I,
    value: Option<&'a Value>,
}

impl<'de, I: Iterator<Item = (&'de str, &'de Value)>> MapAccess<'de> for MapIter<'de, I> {
    type Error = SerdeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SerdeError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SerdeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| SerdeError("value requested before key".into()))?;
        seed.deserialize(ValueDeserializer(value))
    }
}

struct SeqIter<'a>(std::slice::Iter<'a, Value>);

impl<'de> SeqAccess<'de> for SeqIter<'de> {
    type Error = SerdeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SerdeError> {
        self.0
            .next()
            .map(|v| seed.deserialize(ValueDeserializer(v)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

fn visit_map<'de, V: Visitor<'de>>(map: &'de Map, visitor: V) -> Result<V::Value, SerdeError> {
    visitor.visit_map(MapIter {
        iter: map.iter().map(|(k, v)| (k.as_str(), v)),
        value: None,
    })
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s.as_str()),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::List(items) => visitor.visit_seq(SeqIter(items.iter())),
            Value::Map(map) => visit_map(map, visitor),
            Value::Node(node) => visit_map(&node.properties, visitor),
            Value::Relationship(rel) => visit_map(&rel.properties, visitor),
            Value::Date(_)
            | Value::Time(_)
            | Value::LocalTime(_)
            | Value::DateTime(_)
            | Value::DateTimeZoneId(_)
            | Value::LocalDateTime(_)
            | Value::Duration(_) => visitor.visit_string(self.0.to_string()),
            other => Err(SerdeError(format!(
                "a {} value cannot be deserialized; read it with Record::get instead",
                other.type_name()
            ))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(SerdeError(format!(
                "expected a string for an enum, found {}",
                other.type_name()
            ))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct PairsDeserializer<'a> {
    keys: &'a [PackStr],
    values: &'a [Value],
}

impl<'de> de::Deserializer<'de> for PairsDeserializer<'de> {
    type Error = SerdeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_map(MapIter {
            iter: self
                .keys
                .iter()
                .map(PackStr::as_str)
                .zip(self.values.iter()),
            value: None,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SerdeError> {
        visitor.visit_seq(SeqIter(self.values.iter()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SerdeError> {
        visitor.visit_seq(SeqIter(self.values.iter()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct tuple_struct map struct enum identifier ignored_any
    }
}

/// Serialize `value` into a [`Value`].
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ValueSerializer).map_err(Error::from)
}

/// Serialize `value` (a struct or a map) into query parameters.
pub fn to_params<T: Serialize + ?Sized>(value: &T) -> Result<Map, Error> {
    match to_value(value)? {
        Value::Map(map) => Ok(map),
        other => Err(Error::Conversion(format!(
            "parameters must serialize to a map (a struct or a map), not {}",
            other.type_name()
        ))),
    }
}

struct ValueSerializer;

fn int<T: TryInto<i64> + Display + Copy>(v: T) -> Result<Value, SerdeError> {
    v.try_into().map(Value::Integer).map_err(|_| {
        SerdeError(format!(
            "{v} does not fit in a 64-bit signed integer (Bolt's only integer type)"
        ))
    })
}

/// Collects sequence elements.
struct SeqSerializer {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

/// Collects map entries.
struct MapSerializer {
    map: Map,
    key: Option<PackStr>,
    variant: Option<&'static str>,
}

fn wrap_variant(variant: Option<&'static str>, value: Value) -> Value {
    match variant {
        Some(name) => {
            let mut map = Map::new();
            map.insert(name, value);
            Value::Map(map)
        }
        None => value,
    }
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerdeError;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = MapSerializer;

    fn serialize_bool(self, v: bool) -> Result<Value, SerdeError> {
        Ok(Value::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_i16(self, v: i16) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_i32(self, v: i32) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_i64(self, v: i64) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_i128(self, v: i128) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u16(self, v: u16) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u32(self, v: u32) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u64(self, v: u64) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_u128(self, v: u128) -> Result<Value, SerdeError> {
        int(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, SerdeError> {
        Ok(Value::Float(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, SerdeError> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, SerdeError> {
        Ok(Value::String(PackStr::from(v.to_string())))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerdeError> {
        Ok(Value::String(PackStr::from(v)))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerdeError> {
        Ok(Value::Bytes(bytes::Bytes::copy_from_slice(v)))
    }
    fn serialize_none(self) -> Result<Value, SerdeError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, SerdeError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, SerdeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, SerdeError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, SerdeError> {
        Ok(Value::String(PackStr::from(variant)))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, SerdeError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, SerdeError> {
        Ok(wrap_variant(Some(variant), value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, SerdeError> {
        Ok(SeqSerializer {
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, SerdeError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, SerdeError> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapSerializer, SerdeError> {
        Ok(MapSerializer {
            map: Map::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<MapSerializer, SerdeError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapSerializer, SerdeError> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

impl SeqSerializer {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Result<Value, SerdeError> {
        Ok(wrap_variant(self.variant, Value::List(self.items)))
    }
}

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl MapSerializer {
    fn finish(self) -> Result<Value, SerdeError> {
        Ok(wrap_variant(self.variant, Value::Map(self.map)))
    }
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerdeError> {
        match key.serialize(ValueSerializer)? {
            Value::String(key) => {
                self.key = Some(key);
                Ok(())
            }
            other => Err(SerdeError(format!(
                "map keys must be strings, found {}",
                other.type_name()
            ))),
        }
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerdeError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| SerdeError("map value without a key".into()))?;
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapSerializer {
    type Ok = Value;
    type Error = SerdeError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerdeError> {
        self.map.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, SerdeError> {
        self.finish()
    }
}

/// Build query parameters: `params! { "name" => "Alice", "age" => 42 }` is a [`Map`] of
/// [`Value`]s (anything with `Into<Value>`).
#[macro_export]
macro_rules! params {
    () => { $crate::Map::new() };
    ($($key:expr => $value:expr),+ $(,)?) => {{
        let mut map = $crate::Map::new();
        $( map.insert($key, $crate::Value::from($value)); )+
        map
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use quiver_bolt::value::Node;

    #[derive(Debug, PartialEq, serde::Deserialize, serde::Serialize)]
    struct Person {
        name: String,
        age: u8,
        nickname: Option<String>,
        tags: Vec<String>,
    }

    #[test]
    fn records_and_nodes_deserialize_into_structs() {
        let props: Map = [
            ("name", Value::from("Alice")),
            ("age", Value::Integer(42)),
            ("tags", Value::List(vec![Value::from("a")])),
        ]
        .into_iter()
        .collect();
        let node = Value::Node(Box::new(Node {
            id: 1,
            labels: vec![PackStr::from("Person")],
            properties: props.clone(),
            element_id: None,
        }));
        let person: Person = from_value(&node).unwrap();
        assert_eq!(
            person,
            Person {
                name: "Alice".into(),
                age: 42,
                nickname: None,
                tags: vec!["a".into()]
            }
        );
        let record = Record::new(
            vec![
                PackStr::from("name"),
                PackStr::from("age"),
                PackStr::from("tags"),
                PackStr::from("nickname"),
            ]
            .into(),
            vec![
                Value::from("Bob"),
                Value::Integer(7),
                Value::List(vec![]),
                Value::from("B"),
            ],
        );
        let bob: Person = record.to().unwrap();
        assert_eq!(bob.nickname.as_deref(), Some("B"));
        let pair = Record::new(
            vec![PackStr::from("n"), PackStr::from("a")].into(),
            vec![Value::from("x"), Value::Integer(1)],
        );
        let (name, age): (&str, i64) = pair.to().unwrap();
        assert_eq!((name, age), ("x", 1));
    }

    #[test]
    fn conversion_errors_are_clear() {
        let value = Value::Integer(300);
        let err = from_value::<u8>(&value).unwrap_err().to_string();
        assert!(err.contains("300"), "{err}");
        let err = from_value::<String>(&value).unwrap_err().to_string();
        assert!(err.contains("string"), "{err}");
    }

    #[test]
    fn parameters_from_serialize_and_the_params_macro() {
        let p = Person {
            name: "Carol".into(),
            age: 3,
            nickname: None,
            tags: vec!["x".into(), "y".into()],
        };
        let params = to_params(&p).unwrap();
        assert_eq!(params.get("name"), Some(&Value::from("Carol")));
        assert_eq!(params.get("nickname"), Some(&Value::Null));
        let back: Person = from_value(&Value::Map(params)).unwrap();
        assert_eq!(back, p);
        assert!(to_params(&5).is_err());
        assert!(to_value(&u64::MAX).is_err());
        let m = crate::params! { "a" => 1, "b" => "two" };
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("b"), Some(&Value::from("two")));
    }
}
