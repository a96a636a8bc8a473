//! QR codes of offer URIs for letters home: SVG for printing, PNG for mail merges. Each has a
//! quiet zone of four modules (ISO/IEC 18004 §6.3.8) and error correction level M.

use qrcode::{Color, EcLevel, QrCode};

/// Why a QR code could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit in a QR code (an offer by value is far below the limit; use an
    /// offer by reference for very large ones).
    #[error("the text does not fit in a QR code: {0}")]
    TooLong(#[from] qrcode::types::QrError),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {reason}")]
    Png {
        /// The encoder's message.
        reason: String,
    },
}

/// Pixels per module in the PNG.
pub const PNG_MODULE_PIXELS: usize = 8;
const QUIET_ZONE: usize = 4;

fn code(text: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?)
}

/// The QR code of `text` as an SVG document (at least 320 × 320 units).
pub fn svg(text: &str) -> Result<String, QrError> {
    Ok(code(text)?.render::<qrcode::render::svg::Color<'_>>().min_dimensions(320, 320).quiet_zone(true).build())
}

/// The QR code of `text` as an 8-bit greyscale PNG, [`PNG_MODULE_PIXELS`] pixels a module.
pub fn png(text: &str) -> Result<Vec<u8>, QrError> {
    let code = code(text)?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * PNG_MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (index % width + QUIET_ZONE, index / width + QUIET_ZONE);
        for dy in 0..PNG_MODULE_PIXELS {
            let row = (y * PNG_MODULE_PIXELS + dy) * side;
            let start = row + x * PNG_MODULE_PIXELS;
            if let Some(span) = pixels.get_mut(start..start + PNG_MODULE_PIXELS) {
                span.fill(0);
            }
        }
    }
    let png_error = |error: png::EncodingError| QrError::Png { reason: error.to_string() };
    let side32 = u32::try_from(side).map_err(|_| QrError::Png { reason: "image too large".into() })?;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side32, side32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
    }
    Ok(out)
}
