//! The kinds of text request bodies carry, as named schemas whose `pattern` says exactly what
//! the rules in `hearth_domain::rules` accept, trimming included: clients (and the spec fuzzer)
//! learn the rules from the spec instead of from 400s.
//!
//! Patterns are ECMA-262 regular expressions, as JSON Schema uses. Rust's `str::trim` removes
//! Unicode `White_Space`; `char::is_control` is the `Cc` category.

use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Control characters (`Cc`).
macro_rules! control {
    () => {
        r"\u0000-\u001f\u007f-\u009f"
    };
}
/// `White_Space` characters that are not control characters.
macro_rules! spaces {
    () => {
        r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}
/// Every `White_Space` character.
macro_rules! white_space {
    () => {
        concat!(r"\t-\r\u0085", spaces!())
    };
}

/// Server, channel and category names ([`hearth_domain::rules::name_is_valid`]): trimmed, 1 to
/// 100 characters, no control characters anywhere.
#[rustfmt::skip]
const NAME: &str = concat!(
    "^[", spaces!(), "]*",                                          // trimmed away
    "[^", control!(), spaces!(), "]",                               // the first kept
    "(?:[^", control!(), "]{0,98}[^", control!(), spaces!(), "])?", // ... to the last kept
    "[", spaces!(), "]*$",                                          // trimmed away
);

/// Chat messages ([`hearth_domain::rules::normalize_message`]): trimmed, 1 to 2000 characters,
/// no NUL.
#[rustfmt::skip]
const MESSAGE: &str = concat!(
    "^[", white_space!(), "]*",
    "[^\\u0000", white_space!(), "]",
    "(?:[^\\u0000]{0,1998}[^\\u0000", white_space!(), "])?",
    "[", white_space!(), "]*$",
);

/// Nonces ([`hearth_domain::rules::nonce_is_valid`]): no control characters.
const NONCE: &str = concat!("^[^", control!(), "]*$");

/// Free text that is stored: PostgreSQL text cannot hold NUL.
const STORABLE: &str = r"^[^\u0000]*$";

fn string(description: &str, pattern: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([json!(example)])
}

/// Declares a named text schema.
macro_rules! text_schema {
    ($(#[doc = $doc:literal])* $name:ident => $schema:expr) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                Schema::Object($schema.build()).into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

text_schema!(
    /// A server, channel or category name.
    Name => string(
        "1 to 100 characters once leading and trailing spaces are trimmed; no control characters.",
        NAME,
        "Rustaceans",
    )
);

text_schema!(
    /// The content of a chat message.
    MessageContent => string(
        "1 to 2000 characters once leading and trailing white space is trimmed; no NUL.",
        MESSAGE,
        "Hello!",
    )
);

text_schema!(
    /// A client's de-duplication key for a message.
    Nonce => string(
        "1 to 64 characters, none of them control characters; compared exactly.",
        NONCE,
        "5f0c6c1e-8d5b-4a53-9a8e-3f1d2c9b7a10",
    )
        .min_length(Some(1))
        .max_length(Some(hearth_domain::rules::NONCE_MAX_CHARS))
);

text_schema!(
    /// A server's or category's description.
    Description => string("At most 500 characters; no NUL.", STORABLE, "A friendly place")
        .max_length(Some(hearth_domain::rules::DESCRIPTION_MAX_CHARS))
);

text_schema!(
    /// A channel's topic.
    Topic => string("At most 1024 characters; no NUL.", STORABLE, "Anything goes")
        .max_length(Some(hearth_domain::rules::TOPIC_MAX_CHARS))
);

/// Ids in JSON bodies: an integer, written as JSON integers are (`7`) or as a number with no
/// fraction (`7.0`, which JSON Schema counts as an integer too). Anything else, or a number
/// outside 64 bits, is a field error.
pub mod ids {
    use serde::de::{Deserializer, Error};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Integer(i64),
        Float(f64),
    }

    fn integral<E: Error>(number: Number) -> Result<i64, E> {
        // 2^53: past it a float no longer tells neighbouring integers apart, so it cannot say
        // exactly which id it means.
        const LIMIT: f64 = 9_007_199_254_740_992.0;
        match number {
            Number::Integer(id) => Ok(id),
            Number::Float(f) if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) =>
            {
                #[expect(clippy::cast_possible_truncation, reason = "integral and in range")]
                Ok(f as i64)
            }
            Number::Float(f) => Err(E::custom(format!("expected a 64-bit integer, not {f}"))),
        }
    }

    /// One id.
    pub fn one<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        integral(Number::deserialize(deserializer)?)
    }

    /// An optional id (`null` or absent: none).
    pub fn opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        Option::<Number>::deserialize(deserializer)?
            .map(integral)
            .transpose()
    }

    /// An integer query parameter (`?user_id=7`, or `7.0`): query values arrive as text.
    pub fn query<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        from_text(&text)
    }

    /// An optional integer query parameter.
    pub fn query_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i64>,
    {
        Option::<std::borrow::Cow<str>>::deserialize(deserializer)?
            .map(|text| from_text(&text))
            .transpose()
    }

    fn from_text<E: Error, T: TryFrom<i64>>(text: &str) -> Result<T, E> {
        let text = text.trim();
        let integer_literal = !text.is_empty()
            && text
                .strip_prefix(['-', '+'])
                .unwrap_or(text)
                .bytes()
                .all(|b| b.is_ascii_digit());
        let number = match text.parse::<i64>() {
            Ok(id) => Number::Integer(id),
            Err(_) if integer_literal => {
                return Err(E::custom(format!("`{text}` is out of range")));
            }
            Err(_) => Number::Float(
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| E::custom(format!("`{text}` is not an integer")))?,
            ),
        };
        T::try_from(integral(number)?).map_err(|_| E::custom(format!("`{text}` is out of range")))
    }

    /// A list of ids.
    pub fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<i64>, D::Error> {
        Vec::<Number>::deserialize(deserializer)?
            .into_iter()
            .map(integral)
            .collect()
    }
}

#[cfg(test)]
mod id_tests {
    use super::ids;
    use serde::de::value::{Error, StrDeserializer};
    use serde::de::IntoDeserializer;

    fn query(text: &str) -> Result<i64, Error> {
        let deserializer: StrDeserializer<'_, Error> = text.into_deserializer();
        ids::query(deserializer)
    }

    fn body(json: &str) -> Result<i64, serde_json::Error> {
        ids::one(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn ids_are_integers_written_either_way_and_nothing_else() {
        assert_eq!(query("7").ok(), Some(7));
        assert_eq!(query(" 7.0 ").ok(), Some(7));
        assert_eq!(query("1e3").ok(), Some(1000));
        assert_eq!(query("9223372036854775807").ok(), Some(i64::MAX));
        assert_eq!(query("-9223372036854775808").ok(), Some(i64::MIN));
        for bad in [
            "7.5",
            "-9223372036854775809",
            "9223372036854775808",
            "1e300",
            "nan",
            "inf",
            "abc",
            "",
        ] {
            assert!(query(bad).is_err(), "{bad}");
        }
        assert_eq!(body("7").ok(), Some(7));
        assert_eq!(body("7.0").ok(), Some(7));
        for bad in ["7.5", "9223372036854775808", "\"7\"", "null", "1e300"] {
            assert!(body(bad).is_err(), "{bad}");
        }
    }
}
