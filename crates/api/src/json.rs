//! JSON request bodies, which are always objects.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use std::ops::Deref;

/// A JSON object body, read as `T`.
///
/// Every request body in the API is an object. serde also reads a struct from an array of its
/// fields in order (`["alice", "secret"]`, or `[null, null]` for a struct of options), which no
/// client means and the spec does not allow; this extractor refuses anything but an object with
/// 400. Size limit, content type and malformed JSON are handled by `web::Json` (and its
/// `JsonConfig`), so they answer exactly as before.
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

impl<T: DeserializeOwned + 'static> FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if !value.is_object() {
                return Err(invalid_body("expected a JSON object"));
            }
            serde_json::from_value(value)
                .map(JsonObject)
                .map_err(invalid_body)
        })
    }
}
