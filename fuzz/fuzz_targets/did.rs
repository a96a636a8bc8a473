//! DIDs and DID URLs (DID Core §3), did:key (multibase / multicodec decoding, Ed25519 and
//! P-256 points), did:jwk (base64url JWK), offline resolution to a DID document and key
//! selection, did:web DID ↔ URL mapping.
//!
//! The whole input is one string, tried as a DID, as a DID URL, and as a did:web URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::{Algorithm, Did, DidUrl, Resolver, VerificationRelationship, did_jwk, did_key, did_web};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let resolver = Resolver::offline();
    if let Ok(did) = Did::parse(text) {
        let _ = (did.method(), did.method_specific_id(), did.as_str(), did.to_string());
        let again = Did::parse(did.as_str());
        assert!(again.is_ok_and(|again| again == did), "a DID does not round-trip");
        if let Ok(document) = resolver.resolve(&did) {
            let _ = document.check_subject(&did);
            let _ = document.to_json();
        }
        let _ = did_key::public_key(&did);
        let _ = did_jwk::jwk(&did);
        let _ = did_web::url_for(&did);
        let _ = did.with_fragment("key-1");
        let _ = did.with_fragment(text);
    }
    if let Ok(url) = DidUrl::parse(text) {
        let _ = (url.did(), url.fragment(), url.path_and_query(), url.as_str(), url.to_string());
        for relationship in VerificationRelationship::ALL {
            for alg in [Algorithm::EdDsa, Algorithm::Es256] {
                let _ = resolver.verifying_key(&url, relationship, alg);
            }
        }
    }
    if let Ok(did) = did_web::did_for_url(text) {
        // A did:web built from a URL must map back to a URL.
        let _ = did_web::url_for(&did);
    }
});
