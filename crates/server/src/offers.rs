//! Credential offers by reference (OpenID4VCI 1.0 §4.1.3): the offer JSON a wallet fetches
//! from `credential_offer_uri`, kept in the service's memory under an unguessable id until the
//! offer's code is redeemed or expires.
//!
//! The offer carries the pre-authorized code, a secret the issuer's store keeps only as a
//! digest (so a copy of the database redeems nothing). Keeping the JSON in memory, and never
//! on disk, preserves that: after a restart the pending references are gone and the school
//! hands out new offers (an offer by value, the URI itself, is unaffected).

use std::collections::HashMap;
use std::fmt;

use rand::RngExt;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

struct PendingOffer {
    json: Zeroizing<String>,
    code: Zeroizing<String>,
    expires_at: i64,
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
