//! Uploaded images: checked, stored under content-addressed names, served at `/media/<name>`.
//!
//! A stored name is `<sha256 of the bytes>.<ext>`, so identical uploads share one file and a
//! name never changes meaning (it can be cached forever). Only names of exactly that shape are
//! ever read or removed, whatever a database row or a URL says.

mod inspect;
mod jpeg;
mod upload;

pub use inspect::{inspect, Bounds, ImageKind, BANNER, ICON};
pub use upload::{read_file_field, FILE_FIELD, MAX_UPLOAD_BYTES};

use crate::error::ApiError;
use anyhow::Context;
use hearth_db::Db;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tokio::sync::Semaphore;

/// Where stored files appear in URLs and in the database.
pub const PUBLIC_PREFIX: &str = "/media/";

/// Images decoded at once: each may take up to 64 MiB, so a burst of uploads stays bounded.
const DECODES_AT_ONCE: usize = 4;

/// Why an upload was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("not a PNG, JPEG, GIF or WebP image")]
    Unsupported,
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Invalid(String),
    #[error("media storage failed: {0}")]
    Storage(String),
}

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::Unsupported => ApiError::bad_request(
                "unsupported_image",
                "The file is not a PNG, JPEG, GIF or WebP image",
            ),
            MediaError::TooLarge(message) => ApiError::bad_request("image_too_large", message),
            MediaError::Invalid(message) => ApiError::bad_request("invalid_image", message),
            MediaError::Storage(cause) => ApiError::Internal(cause),
        }
    }
}

/// The name of a stored file: 64 lower-case hex digits, a dot, an accepted extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaName {
    name: String,
    kind: ImageKind,
}

impl MediaName {
    fn new(bytes: &[u8], kind: ImageKind) -> Self {
        let digest = Sha256::digest(bytes);
        let mut name = String::with_capacity(64 + 5);
        for byte in digest.iter() {
            let _ = write!(name, "{byte:02x}");
        }
        name.push('.');
        name.push_str(kind.extension());
        Self { name, kind }
    }

    /// `name` when it is a stored file's name; `None` for anything else (`..`, slashes, ...).
    pub fn parse(name: &str) -> Option<Self> {
        let (hash, extension) = name.split_once('.')?;
        let is_hash = hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let kind = ImageKind::from_extension(extension)?;
        is_hash.then(|| Self {
            name: name.to_owned(),
            kind,
        })
    }

    /// The name in a `/media/<name>` path.
    pub fn from_public_path(path: &str) -> Option<Self> {
        Self::parse(path.strip_prefix(PUBLIC_PREFIX)?)
    }

    /// `/media/<name>`.
    pub fn public_path(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", self.name)
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The hash part, which identifies the content (an ETag).
    pub fn hash(&self) -> &str {
        self.name
            .split_once('.')
            .map_or(&self.name, |(hash, _)| hash)
    }

    pub fn kind(&self) -> ImageKind {
        self.kind
    }
}

/// The media directory.
#[derive(Debug)]
pub struct MediaStore {
    root: PathBuf,
    decodes: Semaphore,
}

impl MediaStore {
    /// Uses `root`, creating it when missing.
    pub fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).with_context(|| {
            format!(
                "cannot create the media directory {} (HEARTH_MEDIA_DIR)",
                root.display()
            )
        })?;
        Ok(Self {
            root,
            decodes: Semaphore::new(DECODES_AT_ONCE),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks an uploaded file (format, `bounds`, a full decode) and stores it, on the blocking
    /// pool. Storing bytes that are already stored changes nothing.
    #[tracing::instrument(skip_all, fields(bytes = bytes.len()))]
    pub async fn save(&self, bytes: Vec<u8>, bounds: Bounds) -> Result<MediaName, MediaError> {
        let _permit = self
            .decodes
            .acquire()
            .await
            .map_err(|e| MediaError::Storage(format!("decoder closed: {e}")))?;
        let root = self.root.clone();
        let name = tokio::task::spawn_blocking(move || {
            let kind = inspect(&bytes, bounds)?;
            let name = MediaName::new(&bytes, kind);
            write_atomically(&root, name.as_str(), &bytes)
                .map_err(|e| MediaError::Storage(format!("cannot write {}: {e}", name.as_str())))?;
            Ok::<_, MediaError>(name)
        })
        .await
        .map_err(|e| MediaError::Storage(format!("image task failed: {e}")))??;
        tracing::info!(name = name.as_str(), "image stored");
        Ok(name)
    }

    /// Whether a file of this name is stored.
    pub async fn contains(&self, name: &MediaName) -> bool {
        let path = self.root.join(name.as_str());
        tokio::task::spawn_blocking(move || path.is_file())
            .await
            .unwrap_or(false)
    }

    /// The bytes of a stored file; `None` when there is no such file.
    pub async fn read(&self, name: &MediaName) -> Result<Option<Vec<u8>>, MediaError> {
        let path = self.root.join(name.as_str());
        match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
            Ok(Ok(bytes)) => Ok(Some(bytes)),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Ok(Err(e)) => Err(MediaError::Storage(format!(
                "cannot read {}: {e}",
                name.as_str()
            ))),
            Err(e) => Err(MediaError::Storage(format!("read task failed: {e}"))),
        }
    }

    /// Deletes the file behind `public_path` unless a server or category still shows it.
    ///
    /// Never fails: problems are logged, and the worst outcome is an orphaned file. Paths that
    /// are not stored uploads (seed data, other hosts) are left alone.
    ///
    /// A small race remains: an upload of the same bytes that finds the file present and commits
    /// its row between the check and the removal is left pointing at a missing file (a 404
    /// until it is uploaded again). Closing it would need a lock shared by both paths, which is
    /// not worth it for identical images being swapped at the same instant.
    #[tracing::instrument(skip_all, fields(path = public_path))]
    pub async fn remove_if_unused(&self, db: &Db, public_path: &str) {
        let Some(name) = MediaName::from_public_path(public_path) else {
            tracing::debug!("not a stored upload; left alone");
            return;
        };
        match hearth_db::images::is_referenced(db, public_path).await {
            Ok(true) => {
                tracing::debug!("still in use; kept");
                return;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether the image is still in use; kept");
                return;
            }
        }
        let path = self.root.join(name.as_str());
        match tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await {
            Ok(Ok(())) => tracing::info!("unused image removed"),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot remove an unused image"),
            Err(e) => tracing::warn!(error = %e, "image removal task failed"),
        }
    }
}

/// Writes `bytes` to `root/name` through a temporary file and a rename, so a reader never sees
/// half a file. An existing file of that name already holds these bytes.
fn write_atomically(root: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let target = root.join(name);
    if target.exists() {
        return Ok(());
    }
    let temporary = root.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = std::fs::File::create_new(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &target)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn names_are_the_sha256_of_the_content() {
        let name = MediaName::new(b"", ImageKind::Png);
        assert_eq!(name.as_str(), format!("{HASH}.png"));
        assert_eq!(name.hash(), HASH);
        assert_eq!(name.public_path(), format!("/media/{HASH}.png"));
    }

    #[test]
    fn only_stored_names_parse() {
        assert!(MediaName::parse(&format!("{HASH}.webp")).is_some());
        assert!(MediaName::from_public_path(&format!("/media/{HASH}.jpg")).is_some());
        for bad in [
            "../../etc/passwd".to_owned(),
            format!("{HASH}.svg"),
            format!("{HASH}.png.png"),
            format!("{}.png", HASH.to_uppercase()),
            format!("{}.png", &HASH[1..]),
            format!("../{HASH}.png"),
            format!("{HASH}/.png"),
            String::new(),
        ] {
            assert!(MediaName::parse(&bad).is_none(), "{bad}");
        }
        assert!(MediaName::from_public_path(&format!("/static/{HASH}.png")).is_none());
    }
}
