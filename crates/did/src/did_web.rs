//! did:web — PLACEHOLDER INTERFACE, being implemented.

use crate::did::Did;
use crate::document::DidDocument;
use crate::error::Result;

/// Fetches the bytes of a DID document from an https URL.
pub trait DocumentFetcher: Send + Sync {
    /// Fetches `url`.
    fn fetch(&self, url: &str) -> Result<Vec<u8>>;
}

/// Resolves a did:web.
pub fn resolve(did: &Did, fetcher: &dyn DocumentFetcher) -> Result<DidDocument> {
    let _ = (did, fetcher);
    Err(crate::Error::UnsupportedDidMethod { method: "web".into() })
}
