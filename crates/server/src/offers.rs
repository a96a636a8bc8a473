//! Credential offers by reference (OpenID4VCI 1.0 §4.1.3): the offer JSON a wallet fetches
//! from `credential_offer_uri`, kept under an unguessable id until the offer's code is
//! redeemed or expires.
//!
//! The offer carries the pre-authorized code, a secret the issuer's store keeps only as a
//! digest (so a copy of the database redeems nothing). By default ([`OfferShelf`]) the JSON is
//! kept in the service's memory, never on disk: after a restart the pending references are
//! gone and the school hands out new offers (an offer by value, the URI itself, is unaffected).
//!
//! Several instances of a school over one shared store ([`SealedShelf`], issue 17) must serve
//! each other's references: the JSON is then stored in the issuer's store sealed with
//! XChaCha20-Poly1305 under a key derived (HKDF-SHA256, its own `info`) from the school's key
//! file, which every instance opens and the database never sees; the row's tenant and id are
//! the associated data, so a row moved to another id or school does not open. The row is
//! found by the id's SHA-256 digest, so the database does not hold the URI either.

use std::collections::HashMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt;
use schooltas_issuer::store::{IssuerStore, OfferReferenceRow, in_transaction};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The HKDF `info` of the key that seals offers by reference.
pub(crate) const SEAL_KEY_INFO: &[u8] = b"schooltas offer by reference seal key v1";

/// Offers by reference in the issuer's shared store, sealed.
pub(crate) struct SealedShelf {
    key: Zeroizing<[u8; 32]>,
    tenant: String,
    max: usize,
}

impl fmt::Debug for SealedShelf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedShelf").field("tenant", &self.tenant).field("max", &self.max).finish_non_exhaustive()
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

impl SealedShelf {
    /// A shelf sealing under `key` (see [`SEAL_KEY_INFO`]) for the school `tenant`, holding at
    /// most `max` pending offers.
    pub(crate) fn new(key: Zeroizing<[u8; 32]>, tenant: &str, max: usize) -> Self {
        SealedShelf { key, tenant: tenant.to_owned(), max }
    }

    fn aad(&self, id: &str) -> Vec<u8> {
        let mut aad = b"schooltas offer by reference v1\0".to_vec();
        aad.extend_from_slice(self.tenant.as_bytes());
        aad.push(0);
        aad.extend_from_slice(id.as_bytes());
        aad
    }

    fn cipher(&self) -> Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.key.as_ref()).map_err(|_| {
            Error::Issuer(schooltas_issuer::Error::Storage { reason: "the offer seal key has the wrong length".into() })
        })
    }

    /// Seals and shelves an offer until `expires_at`, if fewer than the maximum are pending
    /// (counted and inserted in one transaction: instances racing for the last place cannot
    /// both take it); returns its id: 128 random bits, base64url.
    pub(crate) fn put(
        &self,
        store: &dyn IssuerStore,
        json: &str,
        code: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String> {
        let id = schooltas_did::base64url::encode(rand::rng().random::<[u8; 16]>());
        let nonce: [u8; 24] = rand::rng().random();
        let ciphertext = self
            .cipher()?
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: json.as_bytes(), aad: &self.aad(&id) })
            .map_err(|_| {
                Error::Issuer(schooltas_issuer::Error::Storage { reason: "sealing the offer failed".into() })
            })?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        let row = OfferReferenceRow { id_digest: digest(&id), code_digest: digest(code), sealed, expires_at };
        let max = u64::try_from(self.max).unwrap_or(u64::MAX);
        let held = in_transaction(store, |tx| {
            let held = tx.pending_offer_references(now)?;
            if held >= max {
                return Ok(Some(held));
            }
            tx.insert_offer_reference(&row)?;
            Ok(None)
        })?;
        match held {
            Some(held) => Err(Error::TooManyPendingOffers { held: usize::try_from(held).unwrap_or(usize::MAX) }),
            None => Ok(id),
        }
    }

    /// The offer JSON under `id`, if it is pending and unexpired; a row that does not open
    /// under this school's key and id reads as absent.
    pub(crate) fn get(&self, store: &dyn IssuerStore, id: &str, now: i64) -> Result<Option<Zeroizing<String>>> {
        let Some(row) = in_transaction(store, |tx| tx.offer_reference(&digest(id), now))? else { return Ok(None) };
        let Some((nonce, ciphertext)) = row.sealed.split_at_checked(24) else { return Ok(None) };
        let Ok(plain) =
            self.cipher()?.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &self.aad(id) })
        else {
            return Ok(None);
        };
        let plain = Zeroizing::new(plain);
        Ok(std::str::from_utf8(&plain).ok().map(|json| Zeroizing::new(json.to_owned())))
    }

    /// Takes away the offers of the code just redeemed.
    pub(crate) fn redeemed(&self, store: &dyn IssuerStore, code: &str) -> Result<()> {
        in_transaction(store, |tx| tx.delete_offer_references(&digest(code)))?;
        Ok(())
    }
}

struct PendingOffer {
    json: Zeroizing<String>,
    code: Zeroizing<String>,
    expires_at: i64,
}

/// Where a service keeps its offers by reference: in memory (one process, the default) or
/// sealed in the shared store (several instances).
#[derive(Debug)]
pub(crate) enum Shelf {
    /// In this process's memory.
    Memory(std::sync::Mutex<OfferShelf>),
    /// In the issuer's store, sealed.
    Sealed(SealedShelf),
}

impl Shelf {
    fn memory(shelf: &std::sync::Mutex<OfferShelf>) -> std::sync::MutexGuard<'_, OfferShelf> {
        shelf.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Shelves an offer; see [`OfferShelf::put`] and [`SealedShelf::put`].
    pub(crate) fn put(
        &self,
        store: &dyn IssuerStore,
        json: String,
        code: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<String> {
        match self {
            Shelf::Memory(shelf) => Self::memory(shelf).put(json, code, expires_at, now),
            Shelf::Sealed(shelf) => shelf.put(store, &Zeroizing::new(json), code, expires_at, now),
        }
    }

    /// The offer JSON under `id`, if pending and unexpired.
    pub(crate) fn get(&self, store: &dyn IssuerStore, id: &str, now: i64) -> Result<Option<Zeroizing<String>>> {
        match self {
            Shelf::Memory(shelf) => Ok(Self::memory(shelf).get(id, now)),
            Shelf::Sealed(shelf) => shelf.get(store, id, now),
        }
    }

    /// Forgets the offers of a code just redeemed.
    pub(crate) fn redeemed(&self, store: &dyn IssuerStore, code: &str) -> Result<()> {
        match self {
            Shelf::Memory(shelf) => {
                Self::memory(shelf).redeemed(code);
                Ok(())
            }
            Shelf::Sealed(shelf) => shelf.redeemed(store, code),
        }
    }
}

/// The pending offers, by id.
pub(crate) struct OfferShelf {
    by_id: HashMap<String, PendingOffer>,
    max: usize,
}

impl fmt::Debug for OfferShelf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfferShelf").field("pending", &self.by_id.len()).field("max", &self.max).finish()
    }
}

impl OfferShelf {
    pub(crate) fn new(max: usize) -> Self {
        OfferShelf { by_id: HashMap::new(), max }
    }

    /// Shelves an offer (its JSON and its pre-authorized code) until `expires_at`; returns
    /// its id: 128 random bits, base64url.
    pub(crate) fn put(&mut self, json: String, code: &str, expires_at: i64, now: i64) -> Result<String> {
        if self.by_id.len() >= self.max {
            self.by_id.retain(|_, offer| offer.expires_at > now);
        }
        if self.by_id.len() >= self.max {
            return Err(Error::TooManyPendingOffers { held: self.by_id.len() });
        }
        let id = loop {
            let bytes: [u8; 16] = rand::rng().random();
            let id = schooltas_did::base64url::encode(bytes);
            if !self.by_id.contains_key(&id) {
                break id;
            }
        };
        let offer = PendingOffer { json: Zeroizing::new(json), code: Zeroizing::new(code.to_owned()), expires_at };
        self.by_id.insert(id.clone(), offer);
        Ok(id)
    }

    /// The offer JSON under `id`, if it is pending and unexpired.
    pub(crate) fn get(&mut self, id: &str, now: i64) -> Option<Zeroizing<String>> {
        match self.by_id.get(id) {
            Some(offer) if offer.expires_at > now => Some(offer.json.clone()),
            Some(_) => {
                self.by_id.remove(id);
                None
            }
            None => None,
        }
    }

    /// Forgets the offer whose code was just redeemed: nothing is left for a wallet to fetch.
    pub(crate) fn redeemed(&mut self, code: &str) {
        self.by_id.retain(|_, offer| offer.code.as_str() != code);
    }

    /// How many offers are pending.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_issuer::store::SqliteStore;

    #[test]
    fn a_sealed_offer_is_served_by_every_instance_until_redeemed_and_never_stored_readable() {
        let store = SqliteStore::in_memory().unwrap();
        let a = SealedShelf::new(Zeroizing::new([7; 32]), "00AA-00", 10);
        let b = SealedShelf::new(Zeroizing::new([7; 32]), "00AA-00", 10);
        let json = "{\"grants\":\"the-pre-authorized-code\"}";
        let id = a.put(&store, json, "the-pre-authorized-code", 100, 0).unwrap();
        assert_eq!(id.len(), 22, "128 bits in base64url");
        assert_eq!(b.get(&store, &id, 99).unwrap().unwrap().as_str(), json, "another instance");
        let row = in_transaction(&store, |tx| tx.offer_reference(&digest(&id), 0)).unwrap().unwrap();
        assert!(!row.sealed.windows(8).any(|w| w == b"pre-auth"), "the code is not stored readable");
        // Another school's key or tenant does not open it; an expired one is not served.
        assert!(SealedShelf::new(Zeroizing::new([8; 32]), "00AA-00", 10).get(&store, &id, 0).unwrap().is_none());
        assert!(SealedShelf::new(Zeroizing::new([7; 32]), "00BB-00", 10).get(&store, &id, 0).unwrap().is_none());
        assert!(b.get(&store, &id, 100).unwrap().is_none(), "expired");
        b.redeemed(&store, "the-pre-authorized-code").unwrap();
        assert!(a.get(&store, &id, 0).unwrap().is_none(), "redeemed");
    }

    #[test]
    fn a_full_sealed_shelf_refuses_until_offers_expire() {
        let store = SqliteStore::in_memory().unwrap();
        let shelf = SealedShelf::new(Zeroizing::new([7; 32]), "00AA-00", 2);
        shelf.put(&store, "{}", "c1", 10, 0).unwrap();
        shelf.put(&store, "{}", "c2", 20, 0).unwrap();
        let error = shelf.put(&store, "{}", "c3", 30, 5).unwrap_err();
        assert!(matches!(error, Error::TooManyPendingOffers { held: 2 }), "{error}");
        shelf.put(&store, "{}", "c3", 30, 10).unwrap();
    }

    #[test]
    fn an_offer_is_served_until_it_expires_or_is_redeemed() {
        let mut shelf = OfferShelf::new(10);
        let first = shelf.put("{\"a\":1}".into(), "code-1", 100, 0).unwrap();
        let second = shelf.put("{\"b\":2}".into(), "code-2", 100, 0).unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 22, "128 bits in base64url");
        assert_eq!(shelf.get(&first, 99).unwrap().as_str(), "{\"a\":1}");
        assert!(shelf.get(&first, 100).is_none(), "expired");
        shelf.redeemed("code-2");
        assert!(shelf.get(&second, 0).is_none(), "redeemed");
        assert_eq!(shelf.len(), 0);
    }

    #[test]
    fn a_full_shelf_makes_room_from_expired_offers_only() {
        let mut shelf = OfferShelf::new(2);
        shelf.put(String::new(), "c1", 10, 0).unwrap();
        shelf.put(String::new(), "c2", 20, 0).unwrap();
        let error = shelf.put(String::new(), "c3", 30, 5).unwrap_err();
        assert!(matches!(error, Error::TooManyPendingOffers { held: 2 }), "{error}");
        shelf.put(String::new(), "c3", 30, 10).unwrap();
        assert_eq!(shelf.len(), 2);
    }
}
