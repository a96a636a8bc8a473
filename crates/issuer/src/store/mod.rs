//! Where the school keeps what it must — and only that.
//!
//! The issuer stores the type, validity, status entries and an opaque subject reference of
//! each credential it issued, never the claims themselves (the school's administration system
//! already holds those; a credential's content lives in the child's wallet). OpenID4VCI state
//! (pre-authorized codes, PINs, access tokens, nonces) is stored as SHA-256 digests — the
//! [`IssuerTx`] methods take digests, so no implementation can store the secrets — and a copy
//! of the database lets no one redeem an offer, fetch a credential or answer with a nonce.
//! (The codes, tokens and nonces are 256-bit random, so their digests cannot be inverted by
//! guessing; a 6-digit PIN's digest can, which is why it is useless without the code.)
//!
//! [`IssuerStore`] runs each operation as one transaction over an [`IssuerTx`]; the embedded
//! implementation is [`SqliteStore`]. A PostgreSQL implementation can implement the same two
//! traits.

mod sqlite;

pub use sqlite::SqliteStore;

use crate::error::Result;

/// A status list the school publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListRow {
    /// Store-assigned id.
    pub id: i64,
    /// The purpose it serves (one list per purpose: `enrolment`, `consent`, …).
    pub purpose: String,
    /// Where its token is published.
    pub uri: String,
    /// Bits per entry.
    pub bits: u8,
    /// Number of entries.
    pub capacity: u64,
    /// Entries handed out so far.
    pub allocated: u64,
}

/// One issued credential (all copies of a batch together).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialRow {
    /// A random id (not derived from the content).
    pub id: String,
    /// The catalog configuration id.
    pub config_id: String,
    /// An opaque reference to the pupil or parent in the school's administration.
    pub subject_ref: String,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`, if any.
    pub expires_at: Option<i64>,
    /// How many copies were issued.
    pub copies: u32,
}

/// A pending credential offer (pre-authorized code flow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferRow {
    /// SHA-256 of the pre-authorized code.
    pub code_digest: [u8; 32],
    /// SHA-256 of the transaction code (PIN), when one is required.
    pub tx_code_digest: Option<[u8; 32]>,
    /// The subject the offered credentials are about.
    pub subject_ref: String,
    /// The offered configuration ids.
    pub config_ids: Vec<String>,
    /// Until when the code can be redeemed.
    pub expires_at: i64,
    /// Wrong PINs entered so far.
    pub failed_attempts: u32,
    /// Whether the code was redeemed (codes are single use).
    pub redeemed: bool,
}

/// An access token handed out by the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessTokenRow {
    /// SHA-256 of the token.
    pub token_digest: [u8; 32],
    /// The subject.
    pub subject_ref: String,
    /// The configuration ids it may fetch.
    pub config_ids: Vec<String>,
    /// The configuration ids already fetched with it: each offered configuration can be
    /// fetched by one credential request (one batch), once.
    pub used_config_ids: Vec<String>,
    /// Until when it is valid.
    pub expires_at: i64,
    /// The RFC 7638 thumbprint of the DPoP key the token is bound to (RFC 9449 §6), if it
    /// was issued to a DPoP proof: then it is used only with a proof by that key.
    pub dpop_jkt: Option<String>,
    /// The `credential_identifiers` the token response handed out (OpenID4VCI 1.0 §6.2, for
    /// configurations asked for by `authorization_details`): each is its configuration's id,
    /// and a credential request for such a configuration names it by `credential_identifier`.
    pub credential_identifiers: Vec<String>,
}

/// A pushed authorization request waiting for the browser (RFC 9126), and then for the portal
/// to say who logged in: stored by the digest of its `request_uri`, and once the browser came,
/// by the digest of the portal's one-time handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingAuthorizationRow {
    /// SHA-256 of the `request_uri`.
    pub request_uri_digest: [u8; 32],
    /// The wallet's client identifier.
    pub client_id: String,
    /// Where the response goes.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The wallet's `state`, returned in the response.
    pub state: Option<String>,
    /// The configuration ids asked for.
    pub config_ids: Vec<String>,
    /// Those of `config_ids` asked for by `authorization_details` (not only by `scope`): the
    /// token response names them with their credential identifiers (OpenID4VCI 1.0 §6.2).
    pub detail_config_ids: Vec<String>,
    /// The offer's `issuer_state`, if the wallet sent one.
    pub issuer_state: Option<String>,
    /// The DPoP key thumbprint the code is bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    /// Until when the `request_uri` (before the browser came) or the handle (after) works.
    pub expires_at: i64,
    /// SHA-256 of the portal's handle, once the browser came to the authorization endpoint
    /// (the `request_uri` is then used up).
    pub handle_digest: Option<[u8; 32]>,
    /// Whether the portal answered (the handle is then used up).
    pub completed: bool,
}

/// An authorization code (RFC 6749 §4.1.2), stored by its digest, bound to everything the
/// token request must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCodeRow {
    /// SHA-256 of the code.
    pub code_digest: [u8; 32],
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the request.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge.
    pub code_challenge: String,
    /// The DPoP key thumbprint it is bound to.
    pub dpop_jkt: Option<String>,
    /// Who the portal logged in.
    pub subject_ref: String,
    /// The configuration ids approved.
    pub config_ids: Vec<String>,
    /// Those of `config_ids` asked for by `authorization_details`.
    pub detail_config_ids: Vec<String>,
    /// Until when the code can be redeemed; once redeemed, until when the row is kept (the
    /// access token's expiry), so that a replayed code still revokes the token.
    pub expires_at: i64,
    /// Whether the code was exchanged for a token.
    pub redeemed: bool,
    /// SHA-256 of the access token issued for it (revoked if the code comes again).
    pub access_token_digest: Option<[u8; 32]>,
}

/// An offer by reference (OpenID4VCI 1.0 §4.1.3) shelved for every instance of a school: the
/// offer JSON sealed by the server (it carries the pre-authorized code, which is never stored
/// readable), found by the digest of its `credential_offer_uri` id.
#[derive(Clone, PartialEq, Eq)]
pub struct OfferReferenceRow {
    /// SHA-256 of the id in the `credential_offer_uri`.
    pub id_digest: [u8; 32],
    /// SHA-256 of the offer's pre-authorized code: redeeming it takes the reference away.
    pub code_digest: [u8; 32],
    /// The offer JSON, sealed (AEAD) under a key only the school's instances hold.
    pub sealed: Vec<u8>,
    /// Until when it is served.
    pub expires_at: i64,
}

impl std::fmt::Debug for OfferReferenceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfferReferenceRow").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// The operations available inside one transaction.
pub trait IssuerTx {
    /// The status lists of a purpose, oldest first.
    fn status_lists(&mut self, purpose: &str) -> Result<Vec<StatusListRow>>;
    /// The status list with this id.
    fn status_list(&mut self, id: i64) -> Result<Option<StatusListRow>>;
    /// Every status list.
    fn all_status_lists(&mut self) -> Result<Vec<StatusListRow>>;
    /// Creates a status list; its `id` and `allocated` are ignored and assigned. Returns the id.
    fn insert_status_list(&mut self, list: &StatusListRow) -> Result<i64>;
    /// Whether the entry is already handed out.
    fn is_allocated(&mut self, list_id: i64, index: u64) -> Result<bool>;
    /// Hands out an entry to a credential copy (initially VALID).
    fn allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> Result<()>;
    /// Hands out the entry if it is free: `true` when this credential copy now holds it,
    /// `false` when it was already handed out (nothing changed). What the issuer's random
    /// allocation calls; a store where a read and a write of the same index page conflict
    /// (PostgreSQL's `SERIALIZABLE`) does it as one statement that reads nothing.
    fn try_allocate(&mut self, list_id: i64, index: u64, credential_id: &str) -> Result<bool> {
        if self.is_allocated(list_id, index)? {
            return Ok(false);
        }
        self.allocate(list_id, index, credential_id)?;
        Ok(true)
    }
    /// The entries of a credential: `(list id, index)`.
    fn entries_of(&mut self, credential_id: &str) -> Result<Vec<(i64, u64)>>;
    /// The status value of an entry.
    fn status(&mut self, list_id: i64, index: u64) -> Result<u8>;
    /// Sets the status value of an entry.
    fn set_status(&mut self, list_id: i64, index: u64, value: u8) -> Result<()>;
    /// The entries of a list whose status is not VALID.
    fn non_valid(&mut self, list_id: i64) -> Result<Vec<(u64, u8)>>;
    /// Records an issued credential.
    fn insert_credential(&mut self, row: &CredentialRow) -> Result<()>;
    /// An issued credential.
    fn credential(&mut self, id: &str) -> Result<Option<CredentialRow>>;
    /// Every credential issued about a subject (an access request, GDPR art. 15).
    fn credentials_of(&mut self, subject_ref: &str) -> Result<Vec<CredentialRow>>;
    /// Records an offer.
    fn insert_offer(&mut self, row: &OfferRow) -> Result<()>;
    /// The offer with this code digest.
    fn offer(&mut self, code_digest: &[u8; 32]) -> Result<Option<OfferRow>>;
    /// Updates an offer's attempts and redeemed flag.
    fn update_offer(&mut self, row: &OfferRow) -> Result<()>;
    /// Records an access token.
    fn insert_access_token(&mut self, row: &AccessTokenRow) -> Result<()>;
    /// The access token with this digest.
    fn access_token(&mut self, token_digest: &[u8; 32]) -> Result<Option<AccessTokenRow>>;
    /// Updates an access token's used configuration ids.
    fn update_access_token(&mut self, row: &AccessTokenRow) -> Result<()>;
    /// Deletes an access token (used up).
    fn delete_access_token(&mut self, token_digest: &[u8; 32]) -> Result<()>;
    /// Records a fresh nonce by its SHA-256 digest (the nonce itself is never stored).
    fn insert_nonce(&mut self, nonce_digest: &[u8; 32], expires_at: i64) -> Result<()>;
    /// Removes the nonce with this digest; `true` if it existed and had not expired at `now`.
    fn consume_nonce(&mut self, nonce_digest: &[u8; 32], now: i64) -> Result<bool>;
    /// Records a pushed authorization request.
    fn insert_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()>;
    /// The pending authorization with this `request_uri` digest.
    fn pending_authorization(&mut self, request_uri_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>>;
    /// The pending authorization whose portal handle has this digest.
    fn pending_authorization_by_handle(&mut self, handle_digest: &[u8; 32]) -> Result<Option<PendingAuthorizationRow>>;
    /// Updates a pending authorization's handle, expiry and completed flag.
    fn update_pending_authorization(&mut self, row: &PendingAuthorizationRow) -> Result<()>;
    /// Records an authorization code.
    fn insert_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()>;
    /// The authorization code with this digest.
    fn authorization_code(&mut self, code_digest: &[u8; 32]) -> Result<Option<AuthorizationCodeRow>>;
    /// Updates a code's redeemed flag, expiry and access token digest.
    fn update_authorization_code(&mut self, row: &AuthorizationCodeRow) -> Result<()>;
    /// Records the first use of a proof (a DPoP proof's or a wallet attestation PoP's `jti`,
    /// by digest) until `expires_at`: `true` if it is new (or its earlier record had expired
    /// at `now`), `false` if it was used before. The database decides (a unique key), so of
    /// two instances that see the same proof at once exactly one gets `true`.
    fn first_use_of_proof(&mut self, proof_digest: &[u8; 32], expires_at: i64, now: i64) -> Result<bool>;
    /// Shelves an offer by reference; its `id_digest` must be new.
    fn insert_offer_reference(&mut self, row: &OfferReferenceRow) -> Result<()>;
    /// The shelved offer with this id digest, if it has not expired at `now`.
    fn offer_reference(&mut self, id_digest: &[u8; 32], now: i64) -> Result<Option<OfferReferenceRow>>;
    /// How many shelved offers have not expired at `now`.
    fn pending_offer_references(&mut self, now: i64) -> Result<u64>;
    /// Takes away the shelved offers of this pre-authorized code (it was redeemed).
    fn delete_offer_references(&mut self, code_digest: &[u8; 32]) -> Result<()>;
    /// Deletes up to `limit` expired rows of each table with an expiry (offers, access tokens,
    /// nonces, pending authorizations, authorization codes, proofs used, offers by reference;
    /// expired: `expires_at <= now`);
    /// returns how many rows went.
    ///
    /// The issuer calls this inside each of its OpenID4VCI write operations, so nobody has
    /// to schedule a purge; the limit keeps any one request's work bounded however large a
    /// backlog is.
    fn purge_expired(&mut self, now: i64, limit: u32) -> Result<u64>;
}

/// A store that runs closures as transactions: all of a closure's writes happen, or — if it
/// returns an error or the process dies — none.
///
/// Transactions must also be serializable (SQLite's `BEGIN IMMEDIATE`; `SERIALIZABLE` or a
/// row lock in PostgreSQL): single use of codes, access tokens and nonces rests on two
/// transactions that read and then spend the same row never both succeeding.
pub trait IssuerStore: Send + Sync {
    /// Runs `work` in one transaction, committing when it returns `Ok`.
    fn transaction(&self, work: &mut dyn FnMut(&mut dyn IssuerTx) -> Result<()>) -> Result<()>;
}

/// Runs `work` in one transaction of `store` and returns its value.
pub fn in_transaction<T>(
    store: &(impl IssuerStore + ?Sized),
    mut work: impl FnMut(&mut dyn IssuerTx) -> Result<T>,
) -> Result<T> {
    let mut out = None;
    store.transaction(&mut |tx| {
        out = Some(work(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| crate::error::Error::Storage { reason: "the transaction produced no result".into() })
}
