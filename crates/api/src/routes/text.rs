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
