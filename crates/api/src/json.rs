//! JSON request bodies, which are always objects.

use crate::error::{ApiError, FieldErrors};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::ops::Deref;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

/// A JSON object body, read as `T`.
///
/// Every request body in the API is an object. serde also reads a struct from an array of its
/// fields in order (`["alice", "secret"]`, or `[null, null]` for a struct of options), which no
/// client means and the spec does not allow; this extractor refuses anything but an object with
/// 400. Size limit, content type and malformed JSON are handled by `web::Json` (and its
/// `JsonConfig`), so they answer exactly as before. A body that does not fit `T` is a 400 with
/// field errors: every missing required field (from `T`'s schema, so the spec and the check
/// agree), or the field with a value of the wrong type.
#[derive(Debug)]
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for JsonObject<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

fn invalid_body(problem: impl std::fmt::Display) -> actix_web::Error {
    ApiError::bad_request("invalid_body", format!("Invalid request body: {problem}")).into()
}

/// The field errors of a body that does not fit `T`: every required field that is missing
/// ("This field is required.", as the reference's Django REST Framework says), or else the
/// field whose value has the wrong type. `None` when no field is to blame.
fn field_errors<T: ToSchema>(
    body: &serde_json::Map<String, serde_json::Value>,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> Option<FieldErrors> {
    let required = match T::schema() {
        RefOr::T(Schema::Object(object)) => object.required,
        _ => Vec::new(),
    };
    let missing: FieldErrors = required
        .into_iter()
        .filter(|field| !body.contains_key(field))
        .map(|field| (field, vec!["This field is required.".to_owned()]))
        .collect();
    if !missing.is_empty() {
        return Some(missing);
    }
    let field = error.path().to_string();
    // `.` is the body itself: no field to name.
    (field != ".").then(|| FieldErrors::from([(field, vec![sentence(error.inner())])]))
}

/// serde's message without its position ("... at line 1 column 9"), which means nothing
/// once the body was parsed, with a capital and a full stop.
fn sentence(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let mut chars = text.chars();
    let capitalized: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!("{capitalized}.")
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let serde_json::Value::Object(body) = value.await?.into_inner() else {
                return Err(invalid_body("expected a JSON object"));
            };
            let parsed = serde_path_to_error::deserialize(&body);
            parsed
                .map(JsonObject)
                .map_err(|e| match field_errors::<T>(&body, &e) {
                    Some(fields) => ApiError::Validation(fields).into(),
                    None => invalid_body(e.inner()),
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, ToSchema)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Credentials {
        username: String,
        password: String,
        #[serde(default)]
        remember: bool,
    }

    fn errors(body: serde_json::Value) -> Option<FieldErrors> {
        let serde_json::Value::Object(body) = body else {
            return None;
        };
        let error = serde_path_to_error::deserialize::<_, Credentials>(&body).err()?;
        field_errors::<Credentials>(&body, &error)
    }

    #[test]
    fn every_missing_required_field_is_named() {
        let fields = errors(serde_json::json!({"remember": true}));
        let required = vec!["This field is required.".to_owned()];
        assert_eq!(
            fields,
            Some(FieldErrors::from([
                ("password".to_owned(), required.clone()),
                ("username".to_owned(), required),
            ]))
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_field_without_a_position() {
        let fields = errors(serde_json::json!({"username": 5, "password": "x"}));
        let problems = fields.as_ref().and_then(|f| f.get("username"));
        assert_eq!(
            problems.map(Vec::as_slice),
            Some(["Invalid type: integer `5`, expected a string.".to_owned()].as_slice()),
            "{fields:?}"
        );
    }
}
