//! Multicodec-prefixed public keys in multibase base58btc, as did:key and `Multikey` use them.

use crate::error::{Error, Result};
use crate::key::{PublicKey, VerifyingKey, X25519PublicKey};

/// Unsigned-varint prefixes of the key types this library reads and writes.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const X25519_PUB: [u8; 2] = [0xec, 0x01];
const P256_PUB: [u8; 2] = [0x80, 0x24];

/// Longest multibase key accepted (a P-521 or RSA key is larger than anything we read anyway).
const MAX_MULTIBASE_LEN: usize = 1024;

/// Encodes a public key as `z` + base58btc(multicodec prefix ‖ key bytes).
pub(crate) fn encode_multibase_key(key: &PublicKey) -> String {
    let mut bytes = Vec::with_capacity(35);
    match key {
        PublicKey::Verifying(k) => {
            bytes.extend_from_slice(match k.algorithm() {
                crate::Algorithm::EdDsa => &ED25519_PUB,
                crate::Algorithm::Es256 => &P256_PUB,
            });
            bytes.extend_from_slice(&k.to_compressed_bytes());
        }
        PublicKey::X25519(k) => {
            bytes.extend_from_slice(&X25519_PUB);
            bytes.extend_from_slice(k.as_bytes());
        }
    }
    let mut out = String::with_capacity(50);
    out.push('z');
    out.push_str(&bs58::encode(bytes).into_string());
    out
}

/// Decodes `z` + base58btc(multicodec prefix ‖ key bytes).
pub(crate) fn decode_multibase_key(text: &str) -> Result<PublicKey> {
    let bad = |reason: &'static str| Error::InvalidPublicKey { key_type: "multibase", reason };
    if text.len() > MAX_MULTIBASE_LEN {
        return Err(bad("longer than 1024 characters"));
    }
    let base58 = text.strip_prefix('z').ok_or(bad("only base58btc multibase ('z' prefix) is supported"))?;
    let bytes = bs58::decode(base58).into_vec().map_err(|_| bad("not valid base58btc"))?;
    let (codec, rest) = read_varint(&bytes).ok_or(bad("missing multicodec prefix"))?;
    match codec {
        0xed => {
            let raw: &[u8; 32] = rest
                .try_into()
                .map_err(|_| Error::InvalidPublicKey { key_type: "Ed25519", reason: "an Ed25519 key is 32 bytes" })?;
            VerifyingKey::from_ed25519_bytes(raw).map(PublicKey::Verifying)
        }
        0xec => {
            let raw: [u8; 32] = rest
                .try_into()
                .map_err(|_| Error::InvalidPublicKey { key_type: "X25519", reason: "an X25519 key is 32 bytes" })?;
            Ok(PublicKey::X25519(X25519PublicKey::from_bytes(raw)))
        }
        0x1200 => {
            if rest.len() != 33 {
                // The did:key spec requires the compressed form for P-256.
                return Err(Error::InvalidPublicKey {
                    key_type: "P-256",
                    reason: "did:key encodes P-256 keys as 33-byte compressed points",
                });
            }
            VerifyingKey::from_p256_sec1(rest).map(PublicKey::Verifying)
        }
        other => Err(Error::UnsupportedMulticodec { codec: codec_name(other) }),
    }
}

/// Reads an unsigned varint (at most 3 bytes: all codes we know fit in 21 bits).
fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().take(3).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            // Refuse non-minimal encodings (a trailing zero byte), as the varint spec requires.
            if i > 0 && *byte == 0 {
                return None;
            }
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

fn codec_name(code: u64) -> String {
    let name = match code {
        0xe7 => "secp256k1-pub",
        0xea => "bls12_381-g1-pub",
        0xeb => "bls12_381-g2-pub",
        0xee => "bls12_381-g1g2-pub",
        0x1201 => "p384-pub",
        0x1202 => "p521-pub",
        0x1205 => "rsa-pub",
        _ => return format!("0x{code:x}"),
    };
    format!("{name} (0x{code:x})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_minimal() {
        assert_eq!(read_varint(&[0xed, 0x01]).map(|(c, _)| c), Some(0xed));
        assert_eq!(read_varint(&[0x80, 0x24]).map(|(c, _)| c), Some(0x1200));
        assert_eq!(read_varint(&[0xed, 0x81, 0x00]), None, "non-minimal");
        assert_eq!(read_varint(&[0x80, 0x80, 0x80, 0x01]), None, "too long");
        assert_eq!(read_varint(&[]), None);
    }

    #[test]
    fn names_unsupported_codecs() {
        // secp256k1 key from the did:key test vectors
        let err = decode_multibase_key("zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme").unwrap_err();
        assert!(matches!(&err, Error::UnsupportedMulticodec { codec } if codec == "secp256k1-pub (0xe7)"), "{err}");
    }
}
