//! The build without the cargo feature `https` (`cargo test -p schooltas-did
//! --no-default-features`): did:key and did:jwk still resolve offline, and a did:web
//! resolution or a guarded fetch fails with a typed error that names the missing feature,
//! before anything is resolved or sent. With the feature, the same entry points report that
//! the client is there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use std::time::Duration;

use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::net::{Get, GuardedClient};
use schooltas_did::{
    Algorithm, DidUrl, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship, did_jwk, did_key,
};

#[test]
fn the_client_reports_whether_it_was_built() {
    assert_eq!(GuardedClient::is_available(), cfg!(feature = "https"));
}

#[test]
fn did_key_and_did_jwk_resolve_with_or_without_https() {
    let resolver = Resolver::with_web_fetcher(HttpsFetcher::new());
    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
        let key = SigningKey::generate(alg).unwrap();
        let public = PublicKey::Verifying(key.verifying_key().clone());
        for did in [did_key::did_for(&public), did_jwk::did_for(&public)] {
            let fragment = if did.method() == "key" { did.method_specific_id().to_owned() } else { "0".to_owned() };
            let kid = DidUrl::parse(&format!("{did}#{fragment}")).unwrap();
            let found = resolver.verifying_key(&kid, VerificationRelationship::AssertionMethod, alg).unwrap();
            assert_eq!(&found, key.verifying_key(), "{did}");
        }
    }
}

#[cfg(not(feature = "https"))]
mod without_the_feature {
    use super::*;
    use schooltas_did::net::NetError;
    use schooltas_did::{Did, Error};

    #[test]
    fn a_did_web_resolution_is_a_typed_error_naming_the_feature() {
        let did: Did = "did:web:school.example:schools:12AB00".parse().unwrap();
        let error = Resolver::with_web_fetcher(HttpsFetcher::new()).resolve(&did).unwrap_err();
        assert!(
            matches!(&error, Error::HttpsNotBuilt { url } if url == "https://school.example/schools/12AB00/did.json"),
            "{error:?}"
        );
        assert!(error.to_string().contains("feature \"https\""), "{error}");
    }

    #[test]
    fn even_an_internal_address_is_not_resolved_or_dialled() {
        // The refusal comes before DNS: no resolver is asked, so an internal host gives the
        // same answer as a public one.
        let client = GuardedClient::new("test").dangerous_allow_private_addresses();
        let get = Get {
            url: "http://127.0.0.1:9/",
            accept: "*/*",
            max_len: 16,
            timeout: Duration::from_millis(50),
            plain_http: true,
        };
        assert_eq!(client.get(&get), Err(NetError::HttpsNotBuilt));
        assert!(matches!(client.fetch(&get, &["application/json"]), Err(NetError::HttpsNotBuilt)));
    }
}

#[cfg(feature = "https")]
#[test]
fn with_the_feature_a_refused_address_is_the_address_refusal() {
    // The same request as above, with the transport built: the guard answers, not the
    // "no HTTPS client" error.
    let client = GuardedClient::new("test");
    let get = Get {
        url: "https://127.0.0.1:9/",
        accept: "*/*",
        max_len: 16,
        timeout: Duration::from_millis(500),
        plain_http: false,
    };
    assert!(matches!(
        client.get(&get),
        Err(schooltas_did::net::NetError::ForbiddenAddress { class: schooltas_did::net::AddressClass::Loopback })
    ));
}
