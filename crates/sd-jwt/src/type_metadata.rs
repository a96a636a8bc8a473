//! SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6) and the integrity of referenced
//! documents (§7): the document a `vct` URL serves, and the `vct#integrity` string that pins it.
//!
//! A consumer (wallet or verifier) fetches the document from the `vct` URL, then calls
//! [`TypeMetadata::parse_pinned`] with the credential's `vct` and `vct#integrity`: the digest
//! is checked over the **octets as received** before anything is parsed, the JSON is parsed
//! strictly, and its `vct` must be the credential's. A publisher builds the document with
//! [`TypeMetadata::to_json`] and pins it with [`Integrity::sha256`] of exactly those bytes.
//!
//! ```
//! use schooltas_sd_jwt::type_metadata::{ClaimMetadata, Disclosability, Integrity, LocalizedDisplay, TypeMetadata};
//! use schooltas_sd_jwt::ClaimPath;
//! let metadata = TypeMetadata::new("https://schooltas.example/credentials/enrolment/v1")
//!     .with_display(LocalizedDisplay::new("nl", "Inschrijving"))
//!     .with_claim(ClaimMetadata::new(ClaimPath::claim("school")).mandatory().sd(Disclosability::Always));
//! let served = metadata.to_json();
//! let pin = Integrity::sha256(served.as_bytes());
//! let parsed = TypeMetadata::parse_pinned(served.as_bytes(), &metadata.vct, Some(pin.as_str()))?;
//! assert_eq!(parsed, metadata);
//! // One byte changed, and the document is refused before it is read.
//! let mut tampered = served.into_bytes();
//! tampered[2] ^= 1;
//! assert!(TypeMetadata::parse_pinned(&tampered, &metadata.vct, Some(pin.as_str())).is_err());
//! # Ok::<(), schooltas_sd_jwt::type_metadata::TypeMetadataError>(())
//! ```

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::ClaimPath;

/// The largest Type Metadata document accepted (64 KiB).
pub const MAX_TYPE_METADATA_LEN: usize = 64 << 10;

/// Why a Type Metadata document or an integrity string was refused. Messages never echo the
/// document's content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeMetadataError {
    /// The document is larger than [`MAX_TYPE_METADATA_LEN`].
    #[error("the type metadata is {len} bytes, the limit is {limit}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The integrity string is not W3C SRI `<alg>-<base64>` with a hash this library supports
    /// (sha256, sha384, sha512).
    #[error(
        "the integrity metadata is not sha256-, sha384- or sha512- followed by a base64 digest of the right length"
    )]
    InvalidIntegrity,
    /// The document's digest is not the one pinned by `#integrity`.
    #[error("the type metadata does not match its integrity digest: it was changed after the credential was issued")]
    IntegrityMismatch,
    /// The document is not a Type Metadata JSON object of the draft's shape.
    #[error("the type metadata is malformed: {reason}")]
    Malformed {
        /// What is wrong (never a value from the document).
        reason: String,
    },
    /// The document describes another type than the credential's `vct`.
    #[error("the type metadata describes another vct than the credential's")]
    WrongVct,
}

/// A W3C Subresource Integrity metadata string, one or more `<alg>-<base64 digest>`
/// expressions separated by spaces (SD-JWT VC §7). Only sha256, sha384 and sha512 are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integrity(String);

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Hash::Sha256),
            "sha384" => Some(Hash::Sha384),
            "sha512" => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn digest(self, octets: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(octets).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(octets).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(octets).to_vec(),
        }
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

impl Integrity {
    /// `sha256-<base64 of SHA-256(octets)>`.
    pub fn sha256(octets: &[u8]) -> Self {
        Integrity(format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Hash::Sha256.digest(octets))))
    }

    /// Parses an integrity string: every expression with a known hash must be well formed,
    /// and at least one must have a known hash. SRI options (`?…`) are ignored, as SRI says.
    pub fn parse(text: &str) -> Result<Self, TypeMetadataError> {
        if text.len() > 1024 {
            return Err(TypeMetadataError::InvalidIntegrity);
        }
        if Self::expressions(text)?.is_empty() {
            return Err(TypeMetadataError::InvalidIntegrity);
        }
        Ok(Integrity(text.to_owned()))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn expressions(text: &str) -> Result<Vec<(Hash, Vec<u8>)>, TypeMetadataError> {
        let mut known = Vec::new();
        for expression in text.split_ascii_whitespace() {
            let Some((name, rest)) = expression.split_once('-') else {
                return Err(TypeMetadataError::InvalidIntegrity);
            };
            let Some(hash) = Hash::parse(name) else { continue };
            let value = rest.split_once('?').map_or(rest, |(value, _options)| value);
            let digest = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|_| TypeMetadataError::InvalidIntegrity)?;
            if digest.len() != hash.len() {
                return Err(TypeMetadataError::InvalidIntegrity);
            }
            known.push((hash, digest));
        }
        Ok(known)
    }

    /// Whether `octets` match: the strongest hash named decides, and any of its expressions
    /// may match (SD-JWT VC §7).
    pub fn verify(&self, octets: &[u8]) -> Result<(), TypeMetadataError> {
        let expressions = Self::expressions(&self.0)?;
        let strongest = expressions.iter().map(|(hash, _)| *hash).max().ok_or(TypeMetadataError::InvalidIntegrity)?;
        let computed = strongest.digest(octets);
        if expressions.iter().any(|(hash, digest)| *hash == strongest && digest.as_slice() == computed.as_slice()) {
            Ok(())
        } else {
            Err(TypeMetadataError::IntegrityMismatch)
        }
    }
}

/// A Type Metadata document (SD-JWT VC §6.2). Members the draft defines and this library does
/// not use (`rendering`, `svg_id`, `extends`) are kept only as far as they are typed here;
/// unknown members are ignored, as the draft requires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeMetadata {
    /// The type described.
    pub vct: String,
    /// A name for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A description for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A type this one extends. Extended types are not followed by this library: a document
    /// with `extends` is refused by [`TypeMetadata::parse_pinned`] (see its docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Display information, one object per locale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<LocalizedDisplay>,
    /// Claim metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimMetadata>,
}

/// The type's name and description in one locale (SD-JWT VC §6.6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedDisplay {
    /// An RFC 5646 language tag.
    pub locale: String,
    /// The name for end users.
    pub name: String,
    /// The description for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl LocalizedDisplay {
    /// A display in `locale` with `name`.
    pub fn new(locale: impl Into<String>, name: impl Into<String>) -> Self {
        LocalizedDisplay { locale: locale.into(), name: name.into(), description: None }
    }

    /// With a description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// Whether the issuer makes a claim selectively disclosable (SD-JWT VC §6.7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disclosability {
    /// Always selectively disclosable.
    Always,
    /// May be.
    Allowed,
    /// Never.
    Never,
}

/// A claim's label in one locale (SD-JWT VC §6.7.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDisplay {
    /// An RFC 5646 language tag.
    pub locale: String,
    /// The label for end users.
    pub label: String,
    /// A description for end users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Metadata of one claim (SD-JWT VC §6.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimMetadata {
    /// The claim path.
    pub path: ClaimPath,
    /// Its labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<ClaimDisplay>,
    /// Whether the issuer must include it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mandatory: bool,
    /// Whether it is selectively disclosable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<Disclosability>,
}

impl ClaimMetadata {
    /// Metadata for the claim at `path`.
    pub fn new(path: ClaimPath) -> Self {
        ClaimMetadata { path, display: Vec::new(), mandatory: false, sd: None }
    }

    /// Marks it mandatory.
    pub fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }

    /// Sets `sd`.
    pub fn sd(mut self, sd: Disclosability) -> Self {
        self.sd = Some(sd);
        self
    }

    /// Adds a label in `locale`.
    pub fn with_label(mut self, locale: impl Into<String>, label: impl Into<String>) -> Self {
        self.display.push(ClaimDisplay { locale: locale.into(), label: label.into(), description: None });
        self
    }
}

impl TypeMetadata {
    /// A document for `vct`, with nothing else yet.
    pub fn new(vct: impl Into<String>) -> Self {
        TypeMetadata {
            vct: vct.into(),
            name: None,
            description: None,
            extends: None,
            display: Vec::new(),
            claims: Vec::new(),
        }
    }

    /// Sets the developer name and description.
    pub fn with_name(mut self, name: impl Into<String>, description: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self.description = Some(description.into());
        self
    }

    /// Adds display information for a locale.
    pub fn with_display(mut self, display: LocalizedDisplay) -> Self {
        self.display.push(display);
        self
    }

    /// Adds claim metadata.
    pub fn with_claim(mut self, claim: ClaimMetadata) -> Self {
        self.claims.push(claim);
        self
    }

    /// The document as served: compact JSON, members in a fixed order, so that the same
    /// metadata always has the same digest.
    pub fn to_json(&self) -> String {
        // Serializing typed structs with String keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The display for `locale` (exact match, then the same primary language, then the first).
    pub fn display_for(&self, locale: &str) -> Option<&LocalizedDisplay> {
        let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
        self.display
            .iter()
            .find(|d| d.locale.eq_ignore_ascii_case(locale))
            .or_else(|| self.display.iter().find(|d| primary(&d.locale) == primary(locale)))
            .or_else(|| self.display.first())
    }

    /// Parses a document as retrieved, for a credential of type `vct` with `vct#integrity`
    /// `integrity` (when the credential has one): size limit, then the digest over the
    /// received octets, then strict JSON of the draft's shape, then `vct` equality.
    ///
    /// A document that `extends` another type is refused ([`TypeMetadataError::Malformed`]):
    /// the draft requires the extended type to be processed first, and this library does not
    /// fetch chains of documents (none of the catalog's types extends another).
    pub fn parse_pinned(octets: &[u8], vct: &str, integrity: Option<&str>) -> Result<Self, TypeMetadataError> {
        if octets.len() > MAX_TYPE_METADATA_LEN {
            return Err(TypeMetadataError::TooLarge { len: octets.len(), limit: MAX_TYPE_METADATA_LEN });
        }
        if let Some(integrity) = integrity {
            Integrity::parse(integrity)?.verify(octets)?;
        }
        let value = schooltas_did::strict_json::to_value(octets)
            .map_err(|error| TypeMetadataError::Malformed { reason: format!("not strict JSON ({error})") })?;
        if !value.is_object() {
            return Err(TypeMetadataError::Malformed { reason: "not a JSON object".into() });
        }
        let metadata: TypeMetadata = serde_json::from_value(value).map_err(|error| TypeMetadataError::Malformed {
            reason: format!("not of the draft's shape ({})", error.classify_name()),
        })?;
        if metadata.extends.is_some() {
            return Err(TypeMetadataError::Malformed {
                reason: "extends another type, which this library does not follow".into(),
            });
        }
        for display in &metadata.display {
            if display.locale.is_empty() || display.name.is_empty() {
                return Err(TypeMetadataError::Malformed { reason: "a display object without locale or name".into() });
            }
        }
        if metadata.vct != vct {
            return Err(TypeMetadataError::WrongVct);
        }
        Ok(metadata)
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "a member has the wrong type or is missing",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_hash_decides() {
        let doc = b"{\"vct\":\"x\"}";
        let good256 = Integrity::sha256(doc);
        let wrong512 = format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode([0u8; 64]));
        // A matching sha256 beside a wrong sha512: the sha512 decides, and it fails.
        let both = Integrity::parse(&format!("{} {wrong512}", good256.as_str())).unwrap();
        assert_eq!(both.verify(doc), Err(TypeMetadataError::IntegrityMismatch));
        assert_eq!(good256.verify(doc), Ok(()));
        // Unknown algorithms are skipped; only unknown ones is refused.
        assert_eq!(Integrity::parse("md5-AAAA"), Err(TypeMetadataError::InvalidIntegrity));
        let with_unknown = Integrity::parse(&format!("md5-AAAA {}", good256.as_str())).unwrap();
        assert_eq!(with_unknown.verify(doc), Ok(()));
        // A digest of the wrong length, or not base64.
        assert_eq!(Integrity::parse("sha256-AAAA"), Err(TypeMetadataError::InvalidIntegrity));
        assert_eq!(Integrity::parse("sha256-!!!!"), Err(TypeMetadataError::InvalidIntegrity));
    }

    #[test]
    fn refusals_name_their_reason() {
        let doc = TypeMetadata::new("https://a.example/t").to_json();
        assert_eq!(
            TypeMetadata::parse_pinned(doc.as_bytes(), "https://b.example/t", None),
            Err(TypeMetadataError::WrongVct)
        );
        let dup = br#"{"vct":"https://a.example/t","vct":"https://b.example/t"}"#;
        assert!(matches!(
            TypeMetadata::parse_pinned(dup, "https://a.example/t", None),
            Err(TypeMetadataError::Malformed { .. })
        ));
        let extends = br#"{"vct":"https://a.example/t","extends":"https://b.example/t"}"#;
        assert!(matches!(
            TypeMetadata::parse_pinned(extends, "https://a.example/t", None),
            Err(TypeMetadataError::Malformed { .. })
        ));
        let big = vec![b' '; MAX_TYPE_METADATA_LEN + 1];
        assert!(matches!(TypeMetadata::parse_pinned(&big, "x", None), Err(TypeMetadataError::TooLarge { .. })));
        let bad_sd = br#"{"vct":"https://a.example/t","claims":[{"path":["a"],"sd":"sometimes"}]}"#;
        assert!(matches!(
            TypeMetadata::parse_pinned(bad_sd, "https://a.example/t", None),
            Err(TypeMetadataError::Malformed { .. })
        ));
    }

    #[test]
    fn display_falls_back_by_primary_language() {
        let metadata = TypeMetadata::new("t")
            .with_display(LocalizedDisplay::new("nl-NL", "Inschrijving"))
            .with_display(LocalizedDisplay::new("en", "Enrolment"));
        assert_eq!(metadata.display_for("nl").map(|d| d.name.as_str()), Some("Inschrijving"));
        assert_eq!(metadata.display_for("en-GB").map(|d| d.name.as_str()), Some("Enrolment"));
        assert_eq!(metadata.display_for("fr").map(|d| d.name.as_str()), Some("Inschrijving"));
    }
}
