//! The test school every issuer test uses: Basisschool De Linde, did:web, one Ed25519 key.
#![allow(dead_code, clippy::unwrap_used)]

use schooltas_did::{Did, SigningKey};
use schooltas_issuer::store::SqliteStore;
use schooltas_issuer::{Brin, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;

/// The school's signing key number `seed`.
pub(crate) fn school_key(seed: u8) -> SigningKey {
    SigningKey::from_ed25519_seed(&[seed; 32])
}

/// De Linde (`did:web:delinde.example`, issuer `https://delinde.example`, key-1) over `store`.
pub(crate) fn school(store: SqliteStore) -> Issuer<SqliteStore> {
    let location = SchoolLocation::new(Brin::new("12AB").unwrap(), 0).unwrap();
    let profile = SchoolProfile::new(
        "Basisschool De Linde",
        location,
        Did::parse("did:web:delinde.example").unwrap(),
        "https://delinde.example",
        SchoolKeys::new("key-1", school_key(1)),
    )
    .unwrap();
    Issuer::new(profile, Catalog::standard(), store, StatusPolicy::new("https://delinde.example/status"))
}

/// Verifies an SD-JWT VC of `issuer` without key binding, finding the issuer key in the
/// school's published DID document by the `kid` header — as a verifier or wallet would.
pub(crate) fn verify_via_did_document(
    issuer: &Issuer<SqliteStore>,
    sd_jwt: &str,
    now: i64,
) -> schooltas_sd_jwt::VerifiedSdJwt {
    use schooltas_did::{Algorithm, DidDocument, DidUrl, VerificationRelationship};
    use schooltas_sd_jwt::{UnverifiedSdJwt, VerifyOptions};
    let document = DidDocument::from_json(issuer.profile().did_document().to_string().as_bytes()).unwrap();
    UnverifiedSdJwt::parse(sd_jwt)
        .unwrap()
        .verify_with(
            |header, _| {
                let kid = DidUrl::parse(header.kid().unwrap_or_default())?;
                Ok(document.verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)?)
            },
            &VerifyOptions::sd_jwt_vc_as_issued(),
            now,
        )
        .unwrap()
}
