//! The two certificate signature algorithms this profile accepts, verified by the same code that
//! verifies every JWS in Schooltas (`schooltas_did::VerifyingKey`) instead of a second crypto
//! library (decision 0022).
//!
//! rustls-webpki builds the path and calls these for each certificate's signature. Without them
//! it would need its `ring` (or `aws-lc-rs`) provider: a C build that does not compile for
//! `wasm32-unknown-unknown` without clang, and a second implementation whose acceptance rules
//! would have to be kept equal to ours. Here:
//! - **ecdsa-with-SHA256 over P-256**: the DER `ECDSA-Sig-Value` (RFC 5480 §2.2.3, strict DER:
//!   minimal positive INTEGERs, nothing after the SEQUENCE) becomes the JWS form `r ‖ s`, checked
//!   with `r` and `s` in `[1, n)`, high `s` accepted as X.509 (and ring) accept it;
//! - **Ed25519** (RFC 8410): the strict rules of decision 0015 — no small-order key or `R`,
//!   canonical `S` and point encodings.

use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id};
use schooltas_did::{Algorithm, Signature, VerifyingKey};
use x509_cert::der::asn1::UintRef;
use x509_cert::der::{Decode as _, Reader as _, SliceReader};

/// The algorithms rustls-webpki may use for a path, in the order it tries them.
pub(crate) const ALL: &[&dyn SignatureVerificationAlgorithm] = &[&ECDSA_P256_SHA256, &ED25519];

/// ecdsa-with-SHA256 by a P-256 key.
#[derive(Debug)]
pub(crate) struct EcdsaP256Sha256;

/// Ed25519, strictly.
#[derive(Debug)]
pub(crate) struct Ed25519;

pub(crate) const ECDSA_P256_SHA256: EcdsaP256Sha256 = EcdsaP256Sha256;
pub(crate) const ED25519: Ed25519 = Ed25519;

impl SignatureVerificationAlgorithm for EcdsaP256Sha256 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        // The subjectPublicKey of an id-ecPublicKey SPKI is the SEC1 point; RFC 5480 §2.2
        // requires the uncompressed form ("MUST support"; compressed "MAY"), both are read.
        let key = VerifyingKey::from_p256_sec1(public_key).map_err(|_| InvalidSignature)?;
        let raw = ecdsa_der_to_raw(signature).ok_or(InvalidSignature)?;
        key.verify(Algorithm::Es256, message, &Signature::from_bytes(raw)).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P256
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA256
    }
}

impl SignatureVerificationAlgorithm for Ed25519 {
    fn verify_signature(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), InvalidSignature> {
        let bytes: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = VerifyingKey::from_ed25519_bytes(bytes).map_err(|_| InvalidSignature)?;
        if signature.len() != 64 {
            return Err(InvalidSignature);
        }
        let signature = Signature::from_slice(signature).ok_or(InvalidSignature)?;
        key.verify(Algorithm::EdDsa, message, &signature).map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` in DER → the 64-byte `r ‖ s`.
///
/// `UintRef` refuses a negative or non-minimal INTEGER; the length check refuses values of more
/// than 32 bytes (which are ≥ 2^256 > n); zero and values ≥ n are refused by the verification.
fn ecdsa_der_to_raw(der: &[u8]) -> Option<[u8; 64]> {
    let mut reader = SliceReader::new(der).ok()?;
    let (r, s) = reader
        .sequence(|sequence| Ok::<_, x509_cert::der::Error>((UintRef::decode(sequence)?, UintRef::decode(sequence)?)))
        .ok()?;
    reader.finish().ok()?;
    let mut raw = [0u8; 64];
    for (half, integer) in [(0, r), (32, s)] {
        let bytes = integer.as_bytes();
        if bytes.len() > 32 {
            return None;
        }
        raw[half + 32 - bytes.len()..half + 32].copy_from_slice(bytes);
    }
    Some(raw)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use schooltas_did::{Signer as _, SigningKey};

    /// DER of `SEQUENCE { r, s }` from raw halves, as a CA would write it.
    fn to_der(raw: &[u8]) -> Vec<u8> {
        let integer = |half: &[u8]| {
            let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
            let mut body = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { vec![0] } else { vec![] };
            body.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
            let mut out = vec![0x02, u8::try_from(body.len()).unwrap()];
            out.extend(body);
            out
        };
        let body = [integer(&raw[..32]), integer(&raw[32..])].concat();
        let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
        out.extend(body);
        out
    }

    #[test]
    fn ecdsa_signatures_in_der_verify_and_bad_encodings_are_refused() {
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let point = key.verifying_key().to_compressed_bytes();
        let raw = key.sign(b"tbs").unwrap();
        let der = to_der(raw.as_bytes());
        assert!(ECDSA_P256_SHA256.verify_signature(&point, b"tbs", &der).is_ok());
        assert!(matches!(ECDSA_P256_SHA256.verify_signature(&point, b"tbS", &der), Err(InvalidSignature)));
        // Trailing bytes after the SEQUENCE, a non-minimal INTEGER, the raw form itself.
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(ecdsa_der_to_raw(&trailing), None);
        let mut padded = vec![0x30, der[1] + 1, 0x02, der[3] + 1, 0x00];
        padded.extend_from_slice(&der[4..]);
        assert_eq!(ecdsa_der_to_raw(&padded), None);
        assert!(matches!(ECDSA_P256_SHA256.verify_signature(&point, b"tbs", raw.as_bytes()), Err(InvalidSignature)));
        // A negative INTEGER (high bit set without the 0x00 pad), an empty one, and 33 bytes
        // of value after the pad (≥ 2^256).
        assert_eq!(ecdsa_der_to_raw(&[0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01]), None);
        assert_eq!(ecdsa_der_to_raw(&[0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01]), None);
        let mut wide = vec![0x30, 0x26, 0x02, 0x21];
        wide.extend([0x01; 33]);
        wide.extend([0x02, 0x01, 0x01]);
        assert_eq!(ecdsa_der_to_raw(&wide), None);
        // Small valid integers are left-padded: r = 1, s = 1 decode (and then fail to verify).
        let tiny = ecdsa_der_to_raw(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]).unwrap();
        assert_eq!((tiny[31], tiny[63], tiny[..31].iter().all(|b| *b == 0)), (1, 1, true));
        // An Ed25519 key is not a P-256 point.
        let ed = SigningKey::generate(Algorithm::EdDsa).unwrap();
        assert!(matches!(
            ECDSA_P256_SHA256.verify_signature(&ed.verifying_key().to_compressed_bytes(), b"tbs", &der),
            Err(InvalidSignature)
        ));
    }

    #[test]
    fn ed25519_refuses_small_order_keys_and_wrong_lengths() {
        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let public = key.verifying_key().to_compressed_bytes();
        let signature = key.sign(b"tbs").unwrap();
        assert!(ED25519.verify_signature(&public, b"tbs", signature.as_bytes()).is_ok());
        assert!(matches!(ED25519.verify_signature(&public, b"tbz", signature.as_bytes()), Err(InvalidSignature)));
        assert!(matches!(ED25519.verify_signature(&public[..31], b"tbs", signature.as_bytes()), Err(InvalidSignature)));
        assert!(matches!(
            ED25519.verify_signature(&public, b"tbs", &signature.as_bytes()[..63]),
            Err(InvalidSignature)
        ));
        // The identity point (small order) as a key: refused before any signature check.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(ED25519.verify_signature(&identity, b"tbs", signature.as_bytes()), Err(InvalidSignature)));
    }
}
