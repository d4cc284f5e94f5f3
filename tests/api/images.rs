//! Image uploads: server icons and banners, category icons, and `/media/<name>`.
//!
//! Images are made in the test with the `image` crate, or by hand when the point is a malformed
//! or hostile file.

use hearth_domain::{CategoryId, ServerId, UserId};
use hearth_tests::ws::{connect, Auth};
use hearth_tests::{assert_error, send, StatusCode, TestApp};
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

struct World {
    app: TestApp,
    owner: UserId,
    owner_token: String,
    category: CategoryId,
    server: ServerId,
}

/// "owner" owns the server "Place" in the category "art".
async fn world() -> World {
    let app = TestApp::spawn().await;
    let (owner, owner_token) = app.user_with_token("owner").await;
    let category = app.category("art").await;
    let server = app.server(owner, category, "Place").await;
    World {
        app,
        owner,
        owner_token,
        category,
        server,
    }
}

/// A `width`×`height` gradient in `format`.
fn image_bytes(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("cannot encode a test image as {format:?}: {e}"));
    out.into_inner()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    image_bytes(width, height, ImageFormat::Png)
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid 1×1 PNG whose header (with a correct CRC) claims `width`×`height`: a decompression
/// bomb's calling card, a few dozen bytes long.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    // Signature (8), chunk length (4), "IHDR" (4), then width and height.
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A valid 1×1 GIF whose logical screen claims `width`×`height`.
fn gif_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = image_bytes(1, 1, ImageFormat::Gif);
    bytes[6..8].copy_from_slice(&width.to_le_bytes());
    bytes[8..10].copy_from_slice(&height.to_le_bytes());
    bytes
}

fn form(file_name: &str, mime: &str, bytes: Vec<u8>) -> Form {
    let part = Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str(mime)
        .unwrap_or_else(|e| panic!("bad mime {mime}: {e}"));
    Form::new().part("file", part)
}

fn icon_path(server: ServerId) -> String {
    format!("/api/servers/{}/icon", server.0)
}

fn banner_path(server: ServerId) -> String {
    format!("/api/servers/{}/banner", server.0)
}

fn category_icon_path(category: CategoryId) -> String {
    format!("/api/categories/{}/icon", category.0)
}

async fn upload(app: &TestApp, path: &str, token: &str, form: Form) -> (StatusCode, Value) {
    send(
        app.http
            .put(app.url(path))
            .bearer_auth(token)
            .multipart(form),
    )
    .await
}

async fn upload_png(app: &TestApp, path: &str, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    upload(app, path, token, form("icon.png", "image/png", bytes)).await
}

/// The stored path in `body[field]`, checked to be `/media/<sha256>.<extension>`.
fn media_path(body: &Value, field: &str, extension: &str) -> String {
    let path = body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} path in {body}"))
        .to_owned();
    let name = path
        .strip_prefix("/media/")
        .unwrap_or_else(|| panic!("{path} is not under /media/"));
    let (hash, ext) = name
        .split_once('.')
        .unwrap_or_else(|| panic!("{name} has no extension"));
    assert_eq!(ext, extension, "{path}");
    assert_eq!(hash.len(), 64, "{path}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{path}");
    path
}

fn stored_file(app: &TestApp, public_path: &str) -> std::path::PathBuf {
    let name = public_path.trim_start_matches("/media/");
    app.media_dir.join(name)
}

/// Names of the files in the media directory (temporary files included).
fn stored_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn get_media(app: &TestApp, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn server_icon_upload_is_stored_served_forever_cacheable_and_listed() {
    let w = world().await;
    let bytes = png(64, 64);
    let (status, body) =
        upload_png(&w.app, &icon_path(w.server), &w.owner_token, bytes.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let icon = media_path(&body, "icon", "png");
    assert_eq!(
        body,
        json!({
            "id": w.server.0, "name": "Place", "owner": w.owner.0, "category": "art",
            "description": "a server", "icon": icon, "banner": null,
        })
    );
    assert!(stored_file(&w.app, &icon).is_file());

    let response = get_media(&w.app, &icon).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let etag = header(&response, "etag").to_owned();
    let served = response
        .bytes()
        .await
        .unwrap_or_else(|e| panic!("cannot read the image: {e}"));
    assert_eq!(served.as_ref(), bytes.as_slice());

    let revalidated = w
        .app
        .http
        .get(w.app.url(&icon))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap_or_else(|e| panic!("conditional GET failed: {e}"));
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

    let (status, listed) = send(
        w.app.http.get(
            w.app
                .url(&format!("/api/server/select/?by_serverid={}", w.server.0)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["icon"], icon);
}

#[tokio::test]
async fn icon_change_is_published_as_server_updated() {
    let w = world().await;
    let channel = w.app.channel(w.server, w.owner, "general").await;
    let path = format!("/ws/servers/{}/channels/{}", w.server.0, channel.id.0);
    let mut socket = connect(w.app.port, &path, Auth::Bearer(w.owner_token.clone()))
        .await
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    // Subscribed once the first frame arrives; an upload before that could go unseen.
    socket
        .recv_type("presence.list", Duration::from_secs(5))
        .await;
    let (status, body) =
        upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(32, 32)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let event = socket
        .recv_type("server.updated", Duration::from_secs(5))
        .await;
    assert_eq!(event["server"], body);
}

#[tokio::test]
async fn icon_larger_than_70_pixels_returns_400_image_too_large() {
    let w = world().await;
    for (width, height) in [(71, 71), (71, 10), (10, 71)] {
        let (status, body) = upload_png(
            &w.app,
            &icon_path(w.server),
            &w.owner_token,
            png(width, height),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{width}×{height}: {body}");
        assert_error(&body, "image_too_large");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains("70×70"), "{message}");
        assert!(message.contains(&format!("{width}×{height}")), "{message}");
    }
    assert!(stored_files(&w.app.media_dir).is_empty());
    let (status, body) =
        upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(70, 70)).await;
    assert_eq!(status, StatusCode::OK, "70×70 is allowed: {body}");
}

#[tokio::test]
async fn png_named_gif_is_stored_and_served_as_png() {
    let w = world().await;
    let (status, body) = upload(
        &w.app,
        &icon_path(w.server),
        &w.owner_token,
        form("icon.gif", "image/gif", png(16, 16)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let icon = media_path(&body, "icon", "png");
    let response = get_media(&w.app, &icon).await;
    assert_eq!(header(&response, "content-type"), "image/png");
}

#[tokio::test]
async fn text_named_png_returns_400_unsupported_image() {
    let w = world().await;
    let (status, body) = upload(
        &w.app,
        &icon_path(w.server),
        &w.owner_token,
        form(
            "icon.png",
            "image/png",
            b"definitely not an image\n".to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "unsupported_image");
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn truncated_images_return_400_invalid_image() {
    let w = world().await;
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ] {
        let mut bytes = image_bytes(64, 64, format);
        bytes.truncate(bytes.len() / 2);
        let (status, body) = upload(
            &w.app,
            &icon_path(w.server),
            &w.owner_token,
            form("icon", "application/octet-stream", bytes),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{format:?}: {body}");
        assert_error(&body, "invalid_image");
    }
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn upload_over_2_mib_returns_413() {
    let w = world().await;
    let mut bytes = png(1, 1);
    bytes.resize(2 * 1024 * 1024 + 1, 0);
    for path in [icon_path(w.server), banner_path(w.server)] {
        let (status, body) = upload_png(&w.app, &path, &w.owner_token, bytes.clone()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert_error(&body, "payload_too_large");
    }
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn oversized_upload_is_refused_while_it_streams_not_after() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let w = world().await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", w.app.port))
        .await
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    let (mut reader, mut writer) = stream.into_split();
    // Announces 1 GiB, sends 3 MiB, and never finishes: the answer must not wait for the end.
    let head = format!(
        "PUT {}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 1073741824\r\n\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.png\"\r\n\
         Content-Type: image/png\r\n\r\n",
        icon_path(w.server),
        w.owner_token
    );
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![0_u8; 64 * 1024];
        for _ in 0..48 {
            writer.write_all(&chunk).await?;
        }
        // Keep the connection open, as a slow client would.
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok::<_, std::io::Error>(writer)
    });
    let mut response = Vec::new();
    let mut buffer = [0_u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while !response.windows(4).any(|window| window == b"\r\n\r\n") {
            let n = reader.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            response.extend_from_slice(&buffer[..n]);
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    sending.abort();
    assert!(
        matches!(read, Ok(Ok(()))),
        "no answer before the body ended: {read:?}"
    );
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn images_declaring_huge_dimensions_return_400_without_being_decoded() {
    let w = world().await;
    let bombs = [
        ("bomb.png", png_claiming(65_535, 65_535)),
        ("bomb.png", png_claiming(100_000, 100_000)),
        ("bomb.gif", gif_claiming(65_535, 65_535)),
    ];
    for path in [icon_path(w.server), banner_path(w.server)] {
        for (name, bytes) in &bombs {
            let started = std::time::Instant::now();
            let (status, body) = upload(
                &w.app,
                &path,
                &w.owner_token,
                form(name, "application/octet-stream", bytes.clone()),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {name}: {body}");
            assert_error(&body, "image_too_large");
            assert!(started.elapsed() < Duration::from_secs(5), "{path} {name}");
        }
    }
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn banner_declaring_allowed_dimensions_without_the_pixels_returns_400_invalid_image() {
    let w = world().await;
    let (status, body) = upload_png(
        &w.app,
        &banner_path(w.server),
        &w.owner_token,
        png_claiming(4096, 4096),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_image");
}

#[tokio::test]
async fn jpeg_gif_and_webp_icons_are_accepted_and_served_with_their_type() {
    let w = world().await;
    for (format, extension, mime) in [
        (ImageFormat::Jpeg, "jpg", "image/jpeg"),
        (ImageFormat::Gif, "gif", "image/gif"),
        (ImageFormat::WebP, "webp", "image/webp"),
    ] {
        let (status, body) = upload(
            &w.app,
            &icon_path(w.server),
            &w.owner_token,
            form(
                "icon",
                "application/octet-stream",
                image_bytes(48, 48, format),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{format:?}: {body}");
        let icon = media_path(&body, "icon", extension);
        let response = get_media(&w.app, &icon).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), mime);
    }
}

#[tokio::test]
async fn banner_of_1200_by_300_is_accepted_and_one_over_4096_is_not() {
    let w = world().await;
    let (status, body) = upload_png(
        &w.app,
        &banner_path(w.server),
        &w.owner_token,
        png(1200, 300),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let banner = media_path(&body, "banner", "png");
    assert_eq!(body["icon"], Value::Null);
    let (_, listed) = send(
        w.app.http.get(
            w.app
                .url(&format!("/api/server/select/?by_serverid={}", w.server.0)),
        ),
    )
    .await;
    assert_eq!(listed[0]["banner"], banner);

    let (status, body) =
        upload_png(&w.app, &banner_path(w.server), &w.owner_token, png(4097, 1)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "image_too_large");
}

#[tokio::test]
async fn replacing_an_icon_removes_the_old_file() {
    let w = world().await;
    let (_, first) = upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(20, 20)).await;
    let first = media_path(&first, "icon", "png");
    let (status, second) =
        upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(30, 30)).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second = media_path(&second, "icon", "png");
    assert_ne!(first, second);
    assert!(
        !stored_file(&w.app, &first).exists(),
        "the old icon is gone"
    );
    assert!(stored_file(&w.app, &second).is_file());
    assert_eq!(
        get_media(&w.app, &first).await.status(),
        StatusCode::NOT_FOUND
    );
    // Uploading the same image again keeps it.
    let (status, again) =
        upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(30, 30)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["icon"], second);
    assert!(stored_file(&w.app, &second).is_file());
    assert_eq!(stored_files(&w.app.media_dir).len(), 1);
}

#[tokio::test]
async fn identical_uploads_share_a_file_that_outlives_one_replacement() {
    let w = world().await;
    let other = w.app.server(w.owner, w.category, "Other").await;
    let (_, one) = upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(40, 40)).await;
    let (_, two) = upload_png(&w.app, &icon_path(other), &w.owner_token, png(40, 40)).await;
    let shared = media_path(&one, "icon", "png");
    assert_eq!(two["icon"], shared);
    assert_eq!(stored_files(&w.app.media_dir).len(), 1);

    let (status, _) = upload_png(&w.app, &icon_path(w.server), &w.owner_token, png(41, 41)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stored_file(&w.app, &shared).is_file(),
        "still the other server's icon"
    );
    // The same file as a banner counts too.
    let (status, _) = upload_png(&w.app, &banner_path(w.server), &w.owner_token, png(40, 40)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = upload_png(&w.app, &icon_path(other), &w.owner_token, png(42, 42)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stored_file(&w.app, &shared).is_file(),
        "still the first server's banner"
    );
}

#[tokio::test]
async fn stranger_gets_403_anonymous_401_and_unknown_server_404() {
    let w = world().await;
    let (_, stranger) = w.app.user_with_token("stranger").await;
    for path in [icon_path(w.server), banner_path(w.server)] {
        let (status, body) = upload_png(&w.app, &path, &stranger, png(8, 8)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_error(&body, "not_owner");

        let (status, body) = send(w.app.http.put(w.app.url(&path)).multipart(form(
            "icon.png",
            "image/png",
            png(8, 8),
        )))
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert_error(&body, "not_authenticated");
    }
    for path in [
        icon_path(ServerId(w.server.0 + 1000)),
        banner_path(ServerId(w.server.0 + 1000)),
        "/api/servers/nope/icon".to_owned(),
    ] {
        let (status, body) = upload_png(&w.app, &path, &w.owner_token, png(8, 8)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_error(&body, "not_found");
    }
    assert!(stored_files(&w.app.media_dir).is_empty());
}

#[tokio::test]
async fn missing_file_field_returns_400_and_a_non_multipart_body_returns_415() {
    let w = world().await;
    let wrong_field = Form::new().part(
        "image",
        Part::bytes(png(8, 8))
            .file_name("icon.png")
            .mime_str("image/png")
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let (status, body) = upload(&w.app, &icon_path(w.server), &w.owner_token, wrong_field).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "validation_failed");
    assert!(body["fields"]["file"][0].is_string(), "{body}");

    let (status, body) = upload(&w.app, &icon_path(w.server), &w.owner_token, Form::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, body) = send(
        w.app
            .http
            .put(w.app.url(&icon_path(w.server)))
            .bearer_auth(&w.owner_token)
            .json(&json!({"file": "icon.png"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_error(&body, "unsupported_media_type");

    let (status, body) = send(
        w.app
            .http
            .put(w.app.url(&icon_path(w.server)))
            .bearer_auth(&w.owner_token)
            .header("content-type", "multipart/form-data; boundary=xyz")
            .body("this is not multipart"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "invalid_multipart");
}

async fn make_staff(app: &TestApp, username: &str, id: UserId) {
    let credentials = hearth_db::users::credentials(&app.db, username)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("{username} not stored"));
    hearth_db::users::set_password(&app.db, id, &credentials.password_hash, true)
        .await
        .unwrap_or_else(|e| panic!("cannot make {username} staff: {e}"));
}

#[tokio::test]
async fn category_icon_by_staff_returns_200_and_by_anyone_else_403() {
    let w = world().await;
    let path = category_icon_path(w.category);

    let (status, body) = upload_png(&w.app, &path, &w.owner_token, png(8, 8)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "server owners are not staff: {body}"
    );
    assert_error(&body, "not_staff");

    let (staff, staff_token) = w.app.user_with_token("staff").await;
    make_staff(&w.app, "staff", staff).await;
    let (status, body) = upload_png(&w.app, &path, &staff_token, png(64, 64)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let icon = media_path(&body, "icon", "png");
    assert_eq!(
        body,
        json!({"id": w.category.0, "name": "art", "description": "about it", "icon": icon})
    );
    let (_, categories) = send(w.app.http.get(w.app.url("/api/server/category/"))).await;
    assert_eq!(categories[0]["icon"], icon);

    let (status, body) = upload_png(&w.app, &path, &staff_token, png(71, 71)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_error(&body, "image_too_large");

    let (status, body) = upload_png(&w.app, &path, &staff_token, png(9, 9)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!stored_file(&w.app, &icon).exists(), "the old icon is gone");

    let (status, body) = upload_png(
        &w.app,
        &category_icon_path(CategoryId(w.category.0 + 1000)),
        &staff_token,
        png(8, 8),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_error(&body, "not_found");
    assert_eq!(stored_files(&w.app.media_dir).len(), 1);
}

#[tokio::test]
async fn media_path_traversal_and_unknown_names_return_404() {
    let w = world().await;
    let unknown = format!("/media/{}.png", "ab".repeat(32));
    for path in [
        "/media/..%2f..%2fetc%2fpasswd",
        "/media/%2e%2e%2f%2e%2e%2fCargo.toml",
        "/media/..%5c..%5cCargo.toml",
        "/media/Cargo.toml",
        &unknown,
    ] {
        let (status, body) = send(w.app.http.get(w.app.url(path))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_error(&body, "not_found");
    }
}
