//! DID documents (DID Core §4–5) as a did:web server would send them: JSON parsing within the
//! size limit, `id` against the resolved DID, verification methods (embedded and referenced,
//! relative ids), relationships, key selection with the algorithm pinned to the key, and the
//! whole `did_web::resolve` path with a fetcher that returns the input.
//!
//! Mode byte: bit 0 picks which DID the document is resolved as; the rest is the document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::did_web::{self, DocumentFetcher};
use schooltas_did::{Algorithm, Did, DidDocument, DidUrl, Result, VerificationRelationship};

/// Serves the fuzz input as the body of every did:web fetch (no network).
struct Fixed<'a>(&'a [u8]);

impl DocumentFetcher for Fixed<'_> {
    fn fetch(&self, _url: &str) -> Result<Vec<u8>> {
        Ok(self.0.to_vec())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, document)) = data.split_first() else { return };
    if let Ok(parsed) = DidDocument::from_json(document) {
        let _ = parsed.to_json();
        let id = parsed.id.clone();
        let _ = parsed.check_subject(&id);
        for relationship in VerificationRelationship::ALL {
            let _ = parsed.relationship(relationship).len();
            for method in parsed.verification_method.iter().take(8) {
                let absolute = parsed.absolute_id(&method.id);
                let _ = parsed.is_authorized(&absolute, relationship);
                if let Ok(url) = DidUrl::parse(&absolute) {
                    let _ = parsed.method(&url);
                    for alg in [Algorithm::EdDsa, Algorithm::Es256] {
                        let _ = parsed.verifying_key(&url, relationship, alg);
                    }
                }
            }
            if let Ok(url) = DidUrl::parse(id.as_str()) {
                for alg in [Algorithm::EdDsa, Algorithm::Es256] {
                    let _ = parsed.verifying_key(&url, relationship, alg);
                }
            }
        }
    }
    // The did:web path: URL mapping, fetch, size limit, parse, subject check.
    let did = if mode & 1 == 0 { "did:web:school.example" } else { "did:web:school.example%3A8443:users:alice" };
    let Ok(did) = Did::parse(did) else { return };
    if let Ok(resolved) = did_web::resolve(&did, &Fixed(document)) {
        assert_eq!(resolved.id, did, "did:web accepted a document about another DID");
    }
});
