//! The resolver: DID URL → key, with the relationship and the algorithm pinned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use schooltas_did::{
    Algorithm, Did, DidDocument, DidUrl, Error, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship,
    did_jwk, did_key,
};
use serde_json::json;

fn kid_for(did: &Did, fragment: &str) -> DidUrl {
    DidUrl::parse(&format!("{did}#{fragment}")).unwrap()
}

#[test]
fn resolves_did_key_and_did_jwk_to_the_signing_key() {
    let resolver = Resolver::offline();
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let public = PublicKey::Verifying(key.verifying_key().clone());

        let did = did_key::did_for(&public);
        let url = kid_for(&did, did.method_specific_id());
        for relationship in [VerificationRelationship::AssertionMethod, VerificationRelationship::Authentication] {
            assert_eq!(&resolver.verifying_key(&url, relationship, alg).unwrap(), key.verifying_key());
        }
        // Without a fragment: the one key of that type is found.
        assert_eq!(
            &resolver.verifying_key(&did.clone().into(), VerificationRelationship::AssertionMethod, alg).unwrap(),
            key.verifying_key()
        );

        let did = did_jwk::did_for(&public);
        let url = kid_for(&did, "0");
        assert_eq!(
            &resolver.verifying_key(&url, VerificationRelationship::AssertionMethod, alg).unwrap(),
            key.verifying_key()
        );
    }
}

#[test]
fn refuses_a_key_of_another_algorithm() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let url = kid_for(&did, did.method_specific_id());
    let err = Resolver::offline()
        .verifying_key(&url, VerificationRelationship::AssertionMethod, Algorithm::Es256)
        .unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason == "the key is of type Ed25519, not one for ES256"),
        "{err}"
    );
}

#[test]
fn refuses_a_key_agreement_key_for_signatures() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let doc = did_key::document(&did, did_key::KeyFormat::Multikey).unwrap();
    let x25519_id = doc.verification_method[1].id.clone();
    let url = DidUrl::parse(&x25519_id).unwrap();
    // Not listed under assertionMethod …
    let err = Resolver::offline()
        .verifying_key(&url, VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason == "the method is not listed under assertionMethod"),
        "{err}"
    );
    // … and under keyAgreement it is not a signature key.
    let err =
        Resolver::offline().verifying_key(&url, VerificationRelationship::KeyAgreement, Algorithm::EdDsa).unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason == "the key is an X25519 key-agreement key and cannot verify signatures"),
        "{err}"
    );
}

#[test]
fn unknown_fragment_and_foreign_did_are_refused() {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let err = Resolver::offline()
        .verifying_key(&kid_for(&did, "nope"), VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason == "no verification method has this id"),
        "{err}"
    );

    let doc = did_key::document(&did, did_key::KeyFormat::Multikey).unwrap();
    let other = did_key::did_for(&PublicKey::Verifying(
        SigningKey::generate(Algorithm::EdDsa).unwrap().verifying_key().clone(),
    ));
    let err = doc
        .verifying_key(&kid_for(&other, "x"), VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason.starts_with("the DID URL is not about did:key:")),
        "{err}"
    );
}

#[test]
fn several_candidate_keys_need_a_fragment() {
    let a = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let b = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let doc = json!({
        "id": "did:web:school.example",
        "verificationMethod": [
            {"id": "#k1", "type": "JsonWebKey2020", "controller": "did:web:school.example", "publicKeyJwk": a.verifying_key().to_jwk()},
            {"id": "did:web:school.example#k2", "type": "JsonWebKey2020", "controller": "did:web:school.example", "publicKeyJwk": b.verifying_key().to_jwk()}
        ],
        "assertionMethod": ["#k1", "did:web:school.example#k2"],
        "service": [{"id": "#openid", "type": "OpenIdCredentialIssuer", "serviceEndpoint": "https://school.example"}]
    });
    let doc = DidDocument::from_json(doc.to_string().as_bytes()).unwrap();
    let did = Did::parse("did:web:school.example").unwrap();
    let err = doc
        .verifying_key(&did.clone().into(), VerificationRelationship::AssertionMethod, Algorithm::EdDsa)
        .unwrap_err();
    assert!(
        matches!(&err, Error::VerificationMethodNotFound { reason, .. } if reason.starts_with("several EdDSA keys are listed under assertionMethod")),
        "{err}"
    );
    assert_eq!(
        &doc.verifying_key(&kid_for(&did, "k1"), VerificationRelationship::AssertionMethod, Algorithm::EdDsa).unwrap(),
        a.verifying_key()
    );
    assert_eq!(
        &doc.verifying_key(&kid_for(&did, "k2"), VerificationRelationship::AssertionMethod, Algorithm::EdDsa).unwrap(),
        b.verifying_key()
    );
    // Unused members survive a round trip.
    assert_eq!(doc.to_json()["service"][0]["type"], "OpenIdCredentialIssuer");
}

#[test]
fn did_web_without_a_fetcher_and_unknown_methods_are_refused() {
    let err = Resolver::offline().resolve(&Did::parse("did:web:school.example").unwrap()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedDidMethod { .. }), "{err}");
    let err = Resolver::offline().resolve(&Did::parse("did:ethr:0xabc").unwrap()).unwrap_err();
    assert!(matches!(err, Error::UnsupportedDidMethod { ref method } if method == "ethr"), "{err}");
}

#[test]
fn fast_path_agrees_with_the_document() {
    // The resolver decodes did:key / did:jwk keys without building the document; the answer
    // must be the document's answer for every relationship and algorithm.
    let resolver = Resolver::offline();
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let public = PublicKey::Verifying(key.verifying_key().clone());
        for did in [did_key::did_for(&public), did_jwk::did_for(&public)] {
            let doc = resolver.resolve(&did).unwrap();
            let fragment = if did.method() == "key" { did.method_specific_id().to_owned() } else { "0".into() };
            for url in [did.clone().into(), kid_for(&did, &fragment), kid_for(&did, "other")] {
                for relationship in VerificationRelationship::ALL {
                    for asked in [Algorithm::EdDsa, Algorithm::Es256] {
                        let fast = resolver.verifying_key(&url, relationship, asked).map_err(|e| e.to_string());
                        let slow = doc.verifying_key(&url, relationship, asked).map_err(|e| e.to_string());
                        assert_eq!(fast.is_ok(), slow.is_ok(), "{url} {relationship:?} {asked}: {fast:?} vs {slow:?}");
                        assert_eq!(fast.ok(), slow.ok());
                    }
                }
            }
        }
    }
}
