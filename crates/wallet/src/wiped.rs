//! JSON for records that hold secrets (holder keys, the identity key), written so that no
//! copy of them is left behind in freed memory.
//!
//! `serde_json::to_vec` grows its buffer as it writes, and each growth frees the previous
//! buffer — holding a prefix of the record, private JWK included — without wiping it. Here the
//! length is measured first, then the record is written once into a buffer of exactly that
//! size, which is wiped when dropped.

use std::io;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Counts the bytes written to it, keeping none.
struct Length(usize);

impl io::Write for Length {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(bytes.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON in a buffer allocated once and wiped on drop.
pub(crate) fn to_json(value: &impl Serialize) -> Result<Zeroizing<Vec<u8>>> {
    let storage = |e: serde_json::Error| Error::Storage { reason: e.to_string() };
    let mut length = Length(0);
    serde_json::to_writer(&mut length, value).map_err(storage)?;
    let mut out = Zeroizing::new(Vec::with_capacity(length.0));
    // Serializing the same value writes the same bytes, so the buffer never grows.
    serde_json::to_writer(&mut *out, value).map_err(storage)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::to_json;

    #[test]
    fn the_buffer_is_allocated_once_at_its_exact_size() {
        let record = serde_json::json!({"holder_key": "x".repeat(1_000), "escaped": "\"quoted\"\n"});
        let bytes = to_json(&record).unwrap();
        assert_eq!(bytes.len(), bytes.capacity());
        assert_eq!(&bytes[..], serde_json::to_vec(&record).unwrap().as_slice());
    }

    #[test]
    fn a_stored_copy_prints_no_key_material() {
        use schooltas_did::{Algorithm, Signer as _, SigningKey};
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&key.to_private_jwk()).unwrap();
        let d = jwk["d"].as_str().unwrap().to_owned();
        let copy = crate::copies::StoredCredential {
            id: "copy-1".into(),
            batch: "batch-1".into(),
            config_id: "pupil_enrolment".into(),
            vct: "https://schooltas.nl/vct/pupil_enrolment".into(),
            issuer: "did:web:delinde.example".into(),
            sd_jwt: "eyJ.eyJ.sig~".into(),
            holder_key: key.to_private_jwk().into(),
            received_at: 0,
            used: false,
            claims: serde_json::json!({"given_name": "Sanne"}),
            batch_index: 0,
            authority_key_ids: Vec::new(),
        };
        for printed in [format!("{copy:?}"), format!("{copy:#?}"), format!("{:?}", copy.holder_key)] {
            assert!(!printed.contains(&d), "{printed}");
            assert!(!printed.contains("\"d\""), "{printed}");
            assert!(!printed.contains("Sanne"), "no claim values either: {printed}");
        }
        // Sealed as a whole, it round-trips with the key intact.
        let bytes = to_json(&copy).unwrap();
        let back: crate::copies::StoredCredential = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(&back.holder_key.verifying_key().unwrap(), key.verifying_key());
    }

    #[test]
    fn a_copy_in_the_format_before_key_stores_still_loads_with_its_software_key() {
        use schooltas_did::{Algorithm, Signer as _, SigningKey};
        let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
        // A record as every earlier version wrote it: `holder_key` is the private JWK's text.
        let old = serde_json::json!({
            "id": "copy-1", "batch": "batch-1", "config_id": "pupil_enrolment",
            "vct": "https://schooltas.nl/vct/pupil_enrolment", "issuer": "did:web:delinde.example",
            "sd_jwt": "eyJ.eyJ.sig~", "holder_key": key.to_private_jwk().as_str(), "received_at": 0,
            "used": false, "batch_index": 0, "claims": {}
        });
        let back: crate::copies::StoredCredential = serde_json::from_value(old.clone()).unwrap();
        let crate::keys::HolderKey::Software(jwk) = &back.holder_key else { panic!("an external key") };
        assert_eq!(jwk.to_signing_key().unwrap().verifying_key(), key.verifying_key());
        // And it is written back in the same format.
        let again: serde_json::Value = serde_json::from_slice(&to_json(&back).unwrap()).unwrap();
        assert_eq!(again["holder_key"], old["holder_key"]);
    }
}
