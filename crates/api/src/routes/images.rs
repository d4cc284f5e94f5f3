//! Images: server icons and banners and category icons, uploaded as `multipart/form-data`, and
//! the stored files themselves at `/media/<name>`.
//!
//! The checks and the storage live in [`crate::media`]; handlers authorize, hand over the
//! upload, record the new path and clean up the one it replaced.

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::media::{self, Bounds, MediaName};
use crate::routes::catalogue::CategoryDto;
use crate::routes::categories::require_staff;
use crate::routes::servers::require_owner;
use crate::startup::AppState;
use actix_multipart::Multipart;
use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::{get, put, web, HttpMessage as _, HttpRequest, HttpResponse};
use hearth_domain::{CategoryId, Event, ServerId, ServerView};
use utoipa::ToSchema;

/// A one-field `multipart/form-data` form.
#[derive(ToSchema)]
pub struct ImageUpload {
    /// A PNG, JPEG, GIF or WebP image of at most 2 MiB. Its format is read from its content;
    /// the file name and the part's content type are ignored.
    #[schema(
        value_type = String,
        format = Binary,
        content_media_type = "application/octet-stream"
    )]
    pub file: Vec<u8>,
}

/// Which image of a server an upload replaces.
#[derive(Debug, Clone, Copy)]
enum ServerImage {
    Icon,
    Banner,
}

impl ServerImage {
    fn bounds(self) -> Bounds {
        match self {
            ServerImage::Icon => media::ICON,
            ServerImage::Banner => media::BANNER,
        }
    }
}

fn no_such_server() -> ApiError {
    ApiError::not_found("Server not found")
}

/// Owner only: checked before a byte of the upload is read.
async fn replace_server_image(
    state: &AppState,
    user: AuthUser,
    server: ServerId,
    upload: Multipart,
    image: ServerImage,
) -> Result<web::Json<ServerView>, ApiError> {
    require_owner(state, server, user.id).await?;
    let bytes = media::read_file_field(upload).await?;
    let stored = state.media.save(bytes, image.bounds()).await?;
    let path = stored.public_path();
    let replaced = match image {
        ServerImage::Icon => hearth_db::images::set_server_icon(&state.db, server, &path).await,
        ServerImage::Banner => hearth_db::images::set_server_banner(&state.db, server, &path).await,
    };
    let previous = match replaced {
        Ok(Some(previous)) => previous,
        // Deleted while the upload was read, or the update failed: the new file may be orphaned.
        Ok(None) => {
            state.media.remove_if_unused(&state.db, &path).await;
            return Err(no_such_server());
        }
        Err(e) => {
            state.media.remove_if_unused(&state.db, &path).await;
            return Err(e.into());
        }
    };
    if let Some(previous) = previous.filter(|previous| *previous != path) {
        state.media.remove_if_unused(&state.db, &previous).await;
    }
    let server = hearth_db::servers::find(&state.db, server)
        .await?
        .ok_or_else(no_such_server)?;
    let view = ServerView::from(&server);
    state.hub.publish(Event::ServerUpdated {
        server: view.clone(),
    });
    Ok(web::Json(view))
}

/// Sets a server's icon (owner only): a PNG, JPEG, GIF or WebP image of at most 70×70 pixels
/// and 2 MiB.
///
/// The stored path (`/media/<sha256>.<ext>`) appears in the server's `icon`; the icon it
/// replaces is deleted unless something else still shows it. Published as `server.updated`.
#[utoipa::path(
    tag = "images",
    params(("server_id" = i64, Path, description = "The server's id")),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The server with its new icon", body = ServerView),
        (status = 400, description = "Not a PNG, JPEG, GIF or WebP image (`unsupported_image`), larger than 70×70 (`image_too_large`), corrupt or truncated (`invalid_image`), or no `file` field (`validation_failed`, with `fields.file`)", body = ErrorBody,
            example = json!({"error": "An icon may be at most 70×70 pixels; this image is 71×71", "code": "image_too_large"})),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the server's owner", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        (status = 413, description = "Larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Not a multipart/form-data body", body = ErrorBody),
    )
)]
#[put("/api/servers/{server_id}/icon/")]
#[tracing::instrument(skip_all, fields(server_id = %server_id, user_id = %user.id))]
pub async fn set_server_icon(
    state: web::Data<AppState>,
    user: AuthUser,
    server_id: web::Path<i64>,
    upload: Multipart,
) -> Result<web::Json<ServerView>, ApiError> {
    let server = ServerId(server_id.into_inner());
    replace_server_image(&state, user, server, upload, ServerImage::Icon).await
}

/// Sets a server's banner (owner only): a PNG, JPEG, GIF or WebP image of at most 4096×4096
/// pixels and 2 MiB.
///
/// The banner it replaces is deleted unless something else still shows it. Published as
/// `server.updated`.
#[utoipa::path(
    tag = "images",
    params(("server_id" = i64, Path, description = "The server's id")),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The server with its new banner", body = ServerView),
        (status = 400, description = "Not a PNG, JPEG, GIF or WebP image, larger than 4096×4096, corrupt or truncated, or no `file` field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not the server's owner", body = ErrorBody),
        (status = 404, description = "No such server", body = ErrorBody),
        (status = 413, description = "Larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Not a multipart/form-data body", body = ErrorBody),
    )
)]
#[put("/api/servers/{server_id}/banner/")]
#[tracing::instrument(skip_all, fields(server_id = %server_id, user_id = %user.id))]
pub async fn set_server_banner(
    state: web::Data<AppState>,
    user: AuthUser,
    server_id: web::Path<i64>,
    upload: Multipart,
) -> Result<web::Json<ServerView>, ApiError> {
    let server = ServerId(server_id.into_inner());
    replace_server_image(&state, user, server, upload, ServerImage::Banner).await
}

/// Sets a category's icon (staff only): a PNG, JPEG, GIF or WebP image of at most 70×70 pixels
/// and 2 MiB.
///
/// The icon it replaces is deleted unless something else still shows it.
#[utoipa::path(
    tag = "images",
    params(("category_id" = i64, Path, description = "The category's id")),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    security(("cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The category with its new icon", body = CategoryDto),
        (status = 400, description = "Not a PNG, JPEG, GIF or WebP image, larger than 70×70, corrupt or truncated, or no `file` field", body = ErrorBody),
        (status = 401, description = "Not authenticated", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 413, description = "Larger than 2 MiB", body = ErrorBody),
        (status = 415, description = "Not a multipart/form-data body", body = ErrorBody),
    )
)]
#[put("/api/categories/{category_id}/icon/")]
#[tracing::instrument(skip_all, fields(category_id = %category_id, user_id = %user.id))]
pub async fn set_category_icon(
    state: web::Data<AppState>,
    user: AuthUser,
    category_id: web::Path<i64>,
    upload: Multipart,
) -> Result<web::Json<CategoryDto>, ApiError> {
    let category = CategoryId(category_id.into_inner());
    require_staff(&user)?;
    // Refuse an unknown category before reading the upload.
    if hearth_db::categories::find(&state.db, category)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("Category not found"));
    }
    let bytes = media::read_file_field(upload).await?;
    let stored = state.media.save(bytes, media::ICON).await?;
    let path = stored.public_path();
    let change = match hearth_db::images::set_category_icon(&state.db, category, &path).await {
        Ok(Some(change)) => change,
        Ok(None) => {
            state.media.remove_if_unused(&state.db, &path).await;
            return Err(ApiError::not_found("Category not found"));
        }
        Err(e) => {
            state.media.remove_if_unused(&state.db, &path).await;
            return Err(e.into());
        }
    };
    if let Some(previous) = change.previous.filter(|previous| *previous != path) {
        state.media.remove_if_unused(&state.db, &previous).await;
    }
    Ok(web::Json(change.category.into()))
}

/// An uploaded image, as named in an `icon` or `banner` path.
///
/// Names are content hashes, so responses may be cached forever (`immutable`); the ETag is the
/// hash.
#[utoipa::path(
    tag = "images",
    params(("name" = String, Path, description = "`<sha256>.<png|jpg|gif|webp>`, the last segment of a `/media/...` path")),
    responses(
        (status = 200, description = "The image", content(
            ("image/png"), ("image/jpeg"), ("image/gif"), ("image/webp")
        )),
        (status = 304, description = "Not modified (`If-None-Match` names this image)"),
        (status = 404, description = "No such image", body = ErrorBody),
    )
)]
#[get("/media/{name}")]
#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn get_media(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("Image not found");
    // Only content-addressed names pass: no `..`, no separators, no other files.
    let name = MediaName::parse(&name).ok_or_else(not_found)?;
    let tag = EntityTag::new_strong(name.hash().to_owned());
    let cache = CacheControl(vec![
        CacheDirective::Public,
        CacheDirective::MaxAge(31_536_000),
        CacheDirective::Extension("immutable".to_owned(), None),
    ]);
    let unchanged = match request.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&tag)),
        None => false,
    };
    if unchanged && state.media.contains(&name).await {
        return Ok(HttpResponse::NotModified()
            .insert_header(header::ETag(tag))
            .insert_header(cache)
            .finish());
    }
    let bytes = state.media.read(&name).await?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok()
        .content_type(name.kind().mime())
        .insert_header(header::ETag(tag))
        .insert_header(cache)
        .body(bytes))
}
