//! Reading the one `file` field of a `multipart/form-data` upload, within a size limit enforced
//! while the bytes arrive.

use crate::error::{ApiError, FieldErrors};
use actix_multipart::{Multipart, MultipartError};
use actix_web::error::PayloadError;
use futures_util::StreamExt;

/// Largest upload accepted: the bytes of every field together.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// Form fields read before giving up (a stream of empty fields would otherwise never end).
const MAX_FIELDS: usize = 8;

/// The name of the field that carries the image.
pub const FILE_FIELD: &str = "file";

fn multipart_error(err: MultipartError) -> ApiError {
    match err {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::UnsupportedMediaType(
            "Expected a multipart/form-data body with the image in a `file` field".to_owned(),
        ),
        MultipartError::Payload(PayloadError::Overflow) => ApiError::PayloadTooLarge,
        other => ApiError::bad_request(
            "invalid_multipart",
            format!("Malformed multipart body: {other}"),
        ),
    }
}

/// The bytes of the `file` field.
///
/// Stops reading and answers 413 as soon as the fields together exceed [`MAX_UPLOAD_BYTES`], so
/// an oversized upload is never buffered. Other fields are read and discarded (they count
/// towards the limit); a second `file` field is refused.
pub async fn read_file_field(mut multipart: Multipart) -> Result<Vec<u8>, ApiError> {
    let mut file: Option<Vec<u8>> = None;
    let mut total = 0_usize;
    let mut fields = 0_usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(multipart_error)?;
        fields += 1;
        if fields > MAX_FIELDS {
            return Err(ApiError::bad_request(
                "invalid_multipart",
                format!("Too many form fields; send only `{FILE_FIELD}`"),
            ));
        }
        let is_file = field.name() == Some(FILE_FIELD);
        if is_file && file.is_some() {
            return Err(ApiError::bad_request(
                "invalid_multipart",
                format!("Send exactly one `{FILE_FIELD}` field"),
            ));
        }
        let mut content = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            total = total.saturating_add(chunk.len());
            if total > MAX_UPLOAD_BYTES {
                return Err(ApiError::PayloadTooLarge);
            }
            if is_file {
                content.extend_from_slice(&chunk);
            }
        }
        if is_file {
            file = Some(content);
        }
    }
    // A required field like any other: named in `fields` (as the reference's DRF does).
    file.ok_or_else(|| {
        ApiError::Validation(FieldErrors::from([(
            FILE_FIELD.to_owned(),
            vec![format!(
                "No file was submitted: send the image in a multipart field named `{FILE_FIELD}`."
            )],
        )]))
    })
}
