//! A structural check of JPEG files that the decoder does not make.

/// Whether a JPEG's markers run to its end-of-image marker.
///
/// The JPEG decoder `image` uses paints missing data grey rather than failing (as browsers do),
/// so a truncated JPEG would decode "successfully"; walking the segments finds the cut. Bytes
/// after the end-of-image marker (some cameras append data) are allowed.
pub(super) fn is_complete(bytes: &[u8]) -> bool {
    let mut at = 2; // after the start-of-image marker
    loop {
        // The next marker: 0xFF (possibly repeated as fill), then its code. Stray bytes between
        // segments are skipped, as lenient decoders do.
        let Some(offset) = bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|b| *b == 0xFF))
        else {
            return false;
        };
        at += offset;
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return false;
        };
        at += 1;
        match marker {
            0xD9 => return true,
            // Markers without a payload: restart markers and TEM.
            0xD0..=0xD7 | 0x01 => continue,
            _ => {}
        }
        let (Some(&high), Some(&low)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        if length < 2 {
            return false;
        }
        at += length;
        if marker == 0xDA {
            // Entropy-coded data follows a start-of-scan header: 0xFF only appears there as
            // 0xFF00 (a stuffed byte), a restart marker, fill, or the next real marker.
            loop {
                let Some(offset) = bytes
                    .get(at..)
                    .and_then(|rest| rest.iter().position(|b| *b == 0xFF))
                else {
                    return false;
                };
                at += offset;
                match bytes.get(at + 1) {
                    None => return false,
                    Some(0x00 | 0xD0..=0xD7) => at += 2,
                    Some(0xFF) => at += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn encoded(width: u32, height: u32) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7 % 256) as u8, (y * 13 % 256) as u8, 200])
        });
        let mut out = Cursor::new(Vec::new());
        let written =
            image::DynamicImage::ImageRgb8(pixels).write_to(&mut out, image::ImageFormat::Jpeg);
        assert!(written.is_ok(), "{written:?}");
        out.into_inner()
    }

    #[test]
    fn jpegs_are_complete_up_to_their_end_marker_whatever_follows() {
        let whole = encoded(33, 17);
        assert!(is_complete(&whole));
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"\xFF\xDA appended by a camera");
        assert!(is_complete(&trailing));
        for cut in [3, 20, whole.len() / 2, whole.len() - 2, whole.len() - 1] {
            assert!(!is_complete(&whole[..cut]), "cut at {cut}");
        }
    }
}
