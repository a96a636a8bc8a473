//! Random identifiers for the wallet's own records (copies, batches, requests, consents).

/// 128 random bits, base64url: unguessable, and a valid record id.
pub(crate) fn random_id() -> String {
    use rand::RngExt;
    let bytes: [u8; 16] = rand::rng().random();
    schooltas_did::base64url::encode(bytes)
}
