//! `#FIELD`: one string field of a secret that holds a JSON object.
//!
//! The object is walked once with serde: the other fields' values are skipped without being
//! kept, and the chosen one lands straight in a zeroizing buffer. A field that appears twice
//! is refused rather than guessed (JSON parsers disagree on which one wins).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroizing;

/// Why `#FIELD` could not be taken. Messages name the field, never a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The secret is not a JSON object (plain text, an array, broken JSON).
    #[error(
        "the secret is not a JSON object, so #{field} cannot be selected; drop #{field} to use the secret as is"
    )]
    NotJsonObject {
        /// The field asked for.
        field: String,
    },
    /// The object has no such field.
    #[error("the secret has no field \"{field}\" (its fields: {present})")]
    Missing {
        /// The field asked for.
        field: String,
        /// The field names present (names only), comma-separated.
        present: String,
    },
    /// The field holds a number, an object, ... instead of a string.
    #[error("field \"{field}\" of the secret is {kind}, not a string")]
    NotString {
        /// The field asked for.
        field: String,
        /// What it holds ("a number", "an object" ...).
        kind: &'static str,
    },
    /// The field appears more than once.
    #[error("field \"{field}\" appears more than once in the secret")]
    Duplicate {
        /// The field asked for.
        field: String,
    },
}

/// The string value of top-level `field` of the JSON object in `secret`, as UTF-8 bytes.
///
/// # Errors
/// [`FieldError`].
pub fn select_field(secret: &[u8], field: &str) -> Result<Zeroizing<Vec<u8>>, FieldError> {
    let mut de = serde_json::Deserializer::from_slice(secret);
    let picked = Pick { field }
        .deserialize(&mut de)
        .and_then(|picked| de.end().map(|()| picked));
    let Ok(Picked { value, names }) = picked else {
        return Err(FieldError::NotJsonObject {
            field: field.to_owned(),
        });
    };
    match value {
        Found::None => Err(FieldError::Missing {
            field: field.to_owned(),
            present: if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
        }),
        Found::Twice => Err(FieldError::Duplicate {
            field: field.to_owned(),
        }),
        // Moved out, not copied: the String's buffer becomes the Vec's.
        Found::Value(FieldValue::Text(mut text)) => {
            Ok(Zeroizing::new(std::mem::take(&mut *text).into_bytes()))
        }
        Found::Value(FieldValue::Other(kind)) => Err(FieldError::NotString {
            field: field.to_owned(),
            kind,
        }),
    }
}

/// The deserialization of the whole object, keeping only `field`'s value.
struct Pick<'f> {
    field: &'f str,
}

enum Found {
    None,
    Value(FieldValue),
    Twice,
}

struct Picked {
    value: Found,
    /// Every field name, for the "no such field" message (bounded).
    names: Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Picked;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Picked, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Picked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
        let mut value = Found::None;
        let mut names = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == self.field {
                let v = map.next_value::<FieldValue>()?;
                value = match value {
                    Found::None => Found::Value(v),
                    _ => Found::Twice,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            if names.len() < 20 {
                names.push(crate::escape::text(&key));
            }
        }
        Ok(Picked { value, names })
    }
}

/// A field's value: the text of a string (zeroized on drop), or what else it is.
enum FieldValue {
    Text(Zeroizing<String>),
    Other(&'static str),
}

impl<'de> de::Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = FieldValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(Zeroizing::new(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(Zeroizing::new(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Other("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Other("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<FieldValue, E> {
        Ok(FieldValue::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<FieldValue, E> {
        Ok(FieldValue::Other("a number"))
    }
    fn visit_unit<E>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Other("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FieldValue::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldValue::Other("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(secret: &str, field: &str) -> Result<String, FieldError> {
        select_field(secret.as_bytes(), field).map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn a_string_field_is_taken_with_escapes_decoded() {
        let secret = r#"{"user":"am","password":"p\u00e4ss\nword","n":1,"o":{"password":"x"}}"#;
        assert_eq!(pick(secret, "password").unwrap(), "päss\nword");
        assert_eq!(pick(r#" {"a" : "b"} "#, "a").unwrap(), "b");
    }

    #[test]
    fn every_failure_names_the_field_and_no_value() {
        let cases = [
            ("plain text secret", "k", "not a JSON object"),
            (r#"["k"]"#, "k", "not a JSON object"),
            (r#"{"k":"v"} trailing"#, "k", "not a JSON object"),
            (
                r#"{"user":"am","pass":"hunter2"}"#,
                "password",
                "no field \"password\" (its fields: user, pass)",
            ),
            ("{}", "k", "its fields: none"),
            (r#"{"k":12}"#, "k", "a number"),
            (r#"{"k":{"a":"hunter2"}}"#, "k", "an object"),
            (r#"{"k":["hunter2"]}"#, "k", "an array"),
            (r#"{"k":null}"#, "k", "null"),
            (r#"{"k":true}"#, "k", "a boolean"),
            (r#"{"k":"hunter2","k":"other"}"#, "k", "more than once"),
        ];
        for (secret, field, expect) in cases {
            let e = pick(secret, field).unwrap_err().to_string();
            assert!(e.contains(expect), "{secret}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }
}
