//! What an uploaded file really is: its format from its first bytes, its dimensions from its
//! header, and a full decode under memory and size limits.
//!
//! Runs on the blocking pool (decoding is CPU work). The file name and the part's content type
//! are never consulted: clients lie, by mistake or not.

use super::MediaError;
use image::{ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Most memory a decoder may allocate for one image (the decoded pixels included).
const MAX_DECODE_ALLOC: u64 = 64 * 1024 * 1024;

/// The image formats Hearth accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageKind {
    /// The format the magic number at the start of `bytes` announces, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    /// The file extension stored names end with.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    /// The kind a stored name's extension stands for.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension {
            "png" => Some(Self::Png),
            "jpg" => Some(Self::Jpeg),
            "gif" => Some(Self::Gif),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }

    /// The format's usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
        }
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Gif => ImageFormat::Gif,
            Self::Webp => ImageFormat::WebP,
        }
    }
}

/// How large an image may be, in pixels, and what to call it in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub what: &'static str,
    pub max_width: u32,
    pub max_height: u32,
}

/// Server and category icons: at most 70×70, as in the reference.
pub const ICON: Bounds = Bounds {
    what: "An icon",
    max_width: 70,
    max_height: 70,
};

/// Server banners.
pub const BANNER: Bounds = Bounds {
    what: "A banner",
    max_width: 4096,
    max_height: 4096,
};

fn limits(bounds: Option<Bounds>) -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    if let Some(bounds) = bounds {
        limits.max_image_width = Some(bounds.max_width);
        limits.max_image_height = Some(bounds.max_height);
    }
    limits
}

fn reader(bytes: &[u8], kind: ImageKind, bounds: Option<Bounds>) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(limits(bounds));
    reader
}

fn invalid(kind: ImageKind, err: &ImageError) -> MediaError {
    match err {
        ImageError::Limits(_) => MediaError::TooLarge(
            "The image needs too much memory to decode; upload a smaller one".to_owned(),
        ),
        _ => MediaError::Invalid(format!(
            "The file starts like a {} image but cannot be decoded ({err})",
            kind.name()
        )),
    }
}

/// Checks that `bytes` are a whole image of an accepted format within `bounds`.
///
/// The header's dimensions are checked before any pixel is decoded, so a small file that
/// declares a huge image is refused at once; the full decode then runs under the same bounds
/// and a memory cap, which catches truncated and corrupt files.
pub fn inspect(bytes: &[u8], bounds: Bounds) -> Result<ImageKind, MediaError> {
    let kind = ImageKind::sniff(bytes).ok_or(MediaError::Unsupported)?;
    let (width, height) = reader(bytes, kind, None)
        .into_dimensions()
        .map_err(|e| invalid(kind, &e))?;
    if width > bounds.max_width || height > bounds.max_height {
        return Err(MediaError::TooLarge(format!(
            "{} may be at most {}×{} pixels; this image is {width}×{height}",
            bounds.what, bounds.max_width, bounds.max_height
        )));
    }
    reader(bytes, kind, Some(bounds))
        .decode()
        .map_err(|e| invalid(kind, &e))?;
    if kind == ImageKind::Jpeg && !super::jpeg::is_complete(bytes) {
        return Err(MediaError::Invalid(
            "The JPEG image is truncated (it has no end-of-image marker)".to_owned(),
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_magic_numbers_only() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a...."), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns=...>"), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }

    #[test]
    fn extensions_round_trip() {
        for kind in [
            ImageKind::Png,
            ImageKind::Jpeg,
            ImageKind::Gif,
            ImageKind::Webp,
        ] {
            assert_eq!(ImageKind::from_extension(kind.extension()), Some(kind));
        }
        assert_eq!(ImageKind::from_extension("svg"), None);
    }

    fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, 200])
        });
        let mut out = Cursor::new(Vec::new());
        let written = image::DynamicImage::ImageRgb8(pixels).write_to(&mut out, format);
        assert!(written.is_ok(), "{written:?}");
        out.into_inner()
    }

    const FORMATS: [(ImageFormat, ImageKind); 4] = [
        (ImageFormat::Png, ImageKind::Png),
        (ImageFormat::Jpeg, ImageKind::Jpeg),
        (ImageFormat::Gif, ImageKind::Gif),
        (ImageFormat::WebP, ImageKind::Webp),
    ];

    #[test]
    fn whole_images_within_bounds_pass() {
        for (format, kind) in FORMATS {
            let bytes = encoded(70, 70, format);
            assert_eq!(inspect(&bytes, ICON).ok(), Some(kind), "{format:?}");
        }
    }

    #[test]
    fn truncated_images_are_invalid() {
        for (format, _) in FORMATS {
            let mut bytes = encoded(64, 64, format);
            bytes.truncate(bytes.len() / 2);
            let result = inspect(&bytes, ICON);
            assert!(
                matches!(result, Err(MediaError::Invalid(_))),
                "{format:?}: {result:?}"
            );
        }
    }

    #[test]
    fn dimensions_are_checked_before_decoding() {
        for (format, _) in FORMATS {
            let bytes = encoded(71, 1, format);
            let result = inspect(&bytes, ICON);
            assert!(
                matches!(&result, Err(MediaError::TooLarge(m)) if m.contains("71×1")),
                "{format:?}: {result:?}"
            );
        }
    }

    #[test]
    fn text_is_not_an_image() {
        assert!(matches!(
            inspect(b"hello, world", ICON),
            Err(MediaError::Unsupported)
        ));
    }
}
