//! The OpenID4VCI state a school keeps between messages: pre-authorized codes with their PIN
//! (`tx_code`), access tokens and nonces — all stored as SHA-256 digests, codes single use, PIN
//! attempts limited, each access token good for one credential request per offered
//! configuration.

use std::fmt;

use rand::RngExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::store::{AccessTokenRow, IssuerStore, IssuerTx, OfferRow, in_transaction};

/// Where an issuer gets the claims for a credential when the wallet redeems an offer: the
/// school's administration system. The issuer itself keeps no claims (data minimisation).
pub trait ClaimsSource: Send + Sync {
    /// The claims of a `config_id` credential about `subject_ref`, as of now.
    fn claims(&self, subject_ref: &str, config_id: &str) -> Result<Map<String, Value>>;
}

impl<F> ClaimsSource for F
where
    F: Fn(&str, &str) -> Result<Map<String, Value>> + Send + Sync,
{
    fn claims(&self, subject_ref: &str, config_id: &str) -> Result<Map<String, Value>> {
        self(subject_ref, config_id)
    }
}

/// Lifetimes and limits of the pre-authorized code flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfferPolicy {
    /// Seconds a pre-authorized code can be redeemed (a QR code on a letter home: days).
    pub offer_lifetime: i64,
    /// Digits of the PIN (`tx_code`) sent through a second channel; 0 for no PIN.
    pub pin_length: u32,
    /// Wrong PINs before the offer is locked.
    pub max_pin_attempts: u32,
    /// Seconds an access token is valid.
    pub token_lifetime: i64,
    /// Seconds a nonce is valid.
    pub nonce_lifetime: i64,
}

impl Default for OfferPolicy {
    /// Offers valid 7 days with a 6-digit PIN and 5 attempts; tokens and nonces 5 minutes.
    fn default() -> Self {
        OfferPolicy {
            offer_lifetime: 7 * 86_400,
            pin_length: 6,
            max_pin_attempts: 5,
            token_lifetime: 300,
            nonce_lifetime: 300,
        }
    }
}

/// A new offer's secrets: the pre-authorized code (goes in the offer / QR code) and the PIN
/// (goes to the parent through another channel, e.g. the school's app or a letter). Neither is
/// stored; both are wiped from memory on drop and never printed.
pub struct OfferSecrets {
    /// The pre-authorized code.
    pub code: Zeroizing<String>,
    /// The PIN, if the offer requires one.
    pub pin: Option<Zeroizing<String>>,
}

impl fmt::Debug for OfferSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfferSecrets")
            .field("code", &"<redacted>")
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a pre-authorized code was not accepted (OAuth `invalid_grant` unless noted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantRefusal {
    /// No such code (or it was purged after expiry).
    #[error("the pre-authorized code is not known")]
    UnknownCode,
    /// The code's lifetime has passed.
    #[error("the pre-authorized code has expired")]
    Expired,
    /// The code was already exchanged for a token.
    #[error("the pre-authorized code was already used")]
    AlreadyUsed,
    /// The offer requires a PIN and none was sent (OAuth `invalid_request`).
    #[error("this offer requires the transaction code (PIN)")]
    PinRequired,
    /// The PIN is wrong.
    #[error("the transaction code (PIN) is wrong")]
    WrongPin,
    /// Too many wrong PINs: the offer is locked and the school must make a new one.
    #[error("too many wrong transaction codes: the offer is locked")]
    Locked,
}

/// Why the credential endpoint refused a request's access token or nonce.
///
/// The token refusals are OAuth `invalid_token` (RFC 6750 §3.1: "expired, revoked, malformed,
/// or invalid for other reasons"), which OpenID4VCI 1.0 §8.3.1 has the credential endpoint
/// answer for an access token that does not allow the requested credential; the others are
/// noted per variant. No variant carries the token or the nonce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialRequestRefusal {
    /// No such token: never issued, purged after expiry, or used for every configuration it
    /// was issued for.
    #[error("the access token is unknown or used up")]
    UnknownToken,
    /// The token's lifetime has passed.
    #[error("the access token has expired")]
    ExpiredToken,
    /// The token was already used for a credential request of this configuration: a token
    /// buys one request (one batch) per offered configuration, not a credential per request
    /// for its whole lifetime.
    #[error("the access token was already used for {config_id}; ask the school for a new offer")]
    TokenAlreadyUsed {
        /// The configuration asked for again.
        config_id: String,
    },
    /// The configuration was not offered with this token (`unknown_credential_configuration`).
    #[error("{config_id} was not offered with this token")]
    NotOffered {
        /// The configuration asked for.
        config_id: String,
    },
    /// The proofs' nonce was not issued here, has expired or was used (`invalid_nonce`).
    #[error("the nonce is unknown, expired or used; fetch a fresh one")]
    InvalidNonce,
}

/// An access token and what it allows.
pub struct Grant {
    /// The token (Bearer).
    pub access_token: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The configuration ids it may fetch.
    pub config_ids: Vec<String>,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("config_ids", &self.config_ids)
            .finish()
    }
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub(crate) fn random_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill(&mut bytes[..]);
    Zeroizing::new(schooltas_did::base64url::encode(&bytes[..]))
}

fn random_pin(digits: u32) -> Zeroizing<String> {
    let mut rng = rand::rng();
    Zeroizing::new((0..digits).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect())
}

/// Compares two digests without an early exit.
pub(crate) fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Records a new offer of `config_ids` about `subject_ref` and returns its secrets.
pub(crate) fn create_offer(
    store: &(impl IssuerStore + ?Sized),
    policy: &OfferPolicy,
    subject_ref: &str,
    config_ids: &[String],
    now: i64,
) -> Result<OfferSecrets> {
    let code = random_secret();
    let pin = (policy.pin_length > 0).then(|| random_pin(policy.pin_length));
    let row = OfferRow {
        code_digest: digest(&code),
        tx_code_digest: pin.as_ref().map(|pin| digest(pin)),
        subject_ref: subject_ref.to_owned(),
        config_ids: config_ids.to_vec(),
        expires_at: now.saturating_add(policy.offer_lifetime),
        failed_attempts: 0,
        redeemed: false,
    };
    in_transaction(store, |tx| {
        tx.insert_offer(&row)?;
        purge_expired(tx, now)
    })?;
    Ok(OfferSecrets { code, pin })
}

/// Exchanges a pre-authorized code (and PIN) for an access token, in one transaction: a code
/// is redeemed at most once, and each wrong PIN is counted even though the request fails.
pub(crate) fn redeem(
    store: &(impl IssuerStore + ?Sized),
    policy: &OfferPolicy,
    code: &str,
    pin: Option<&str>,
    dpop_jkt: Option<&str>,
    now: i64,
) -> Result<std::result::Result<Grant, GrantRefusal>> {
    let code_digest = digest(code);
    in_transaction(store, |tx| {
        let outcome = redeem_in(tx, policy, &code_digest, pin, dpop_jkt, now)?;
        purge_expired(tx, now)?;
        Ok(outcome)
    })
}

fn redeem_in(
    tx: &mut dyn IssuerTx,
    policy: &OfferPolicy,
    code_digest: &[u8; 32],
    pin: Option<&str>,
    dpop_jkt: Option<&str>,
    now: i64,
) -> Result<std::result::Result<Grant, GrantRefusal>> {
    let Some(mut offer) = tx.offer(code_digest)? else {
        return Ok(Err(GrantRefusal::UnknownCode));
    };
    if offer.redeemed {
        return Ok(Err(GrantRefusal::AlreadyUsed));
    }
    if now >= offer.expires_at {
        return Ok(Err(GrantRefusal::Expired));
    }
    if offer.failed_attempts >= policy.max_pin_attempts {
        return Ok(Err(GrantRefusal::Locked));
    }
    if let Some(expected) = offer.tx_code_digest {
        let Some(pin) = pin else {
            return Ok(Err(GrantRefusal::PinRequired));
        };
        if !same(&digest(pin), &expected) {
            offer.failed_attempts += 1;
            tx.update_offer(&offer)?;
            let locked = offer.failed_attempts >= policy.max_pin_attempts;
            return Ok(Err(if locked { GrantRefusal::Locked } else { GrantRefusal::WrongPin }));
        }
    }
    offer.redeemed = true;
    tx.update_offer(&offer)?;
    let access_token = random_secret();
    tx.insert_access_token(&AccessTokenRow {
        token_digest: digest(&access_token),
        subject_ref: offer.subject_ref.clone(),
        config_ids: offer.config_ids.clone(),
        used_config_ids: Vec::new(),
        expires_at: now.saturating_add(policy.token_lifetime),
        dpop_jkt: dpop_jkt.map(str::to_owned),
        // An offer names configurations, never authorization_details: no identifiers.
        credential_identifiers: Vec::new(),
    })?;
    Ok(Ok(Grant { access_token, expires_in: policy.token_lifetime, config_ids: offer.config_ids }))
}

/// A fresh single-use nonce for proofs of possession.
pub(crate) fn new_nonce(store: &(impl IssuerStore + ?Sized), policy: &OfferPolicy, now: i64) -> Result<String> {
    let nonce = random_secret();
    in_transaction(store, |tx| {
        tx.insert_nonce(&digest(&nonce), now.saturating_add(policy.nonce_lifetime))?;
        purge_expired(tx, now)
    })?;
    Ok(nonce.to_string())
}

/// The subject and configuration ids an access token allows, if it is known and unexpired.
pub(crate) fn authorize(store: &(impl IssuerStore + ?Sized), token: &str, now: i64) -> Result<Option<AccessTokenRow>> {
    let token_digest = digest(token);
    Ok(in_transaction(store, |tx| tx.access_token(&token_digest))?.filter(|row| now < row.expires_at))
}

/// What the access token allows for a request of `config_id` at `now`, without spending it:
/// the early check that spares the school's administration a lookup for a dead token.
pub(crate) fn check_access(
    tx: &mut dyn IssuerTx,
    token_digest: &[u8; 32],
    config_id: &str,
    now: i64,
) -> Result<std::result::Result<AccessTokenRow, CredentialRequestRefusal>> {
    let Some(row) = tx.access_token(token_digest)? else {
        return Ok(Err(CredentialRequestRefusal::UnknownToken));
    };
    if now >= row.expires_at {
        return Ok(Err(CredentialRequestRefusal::ExpiredToken));
    }
    if !row.config_ids.iter().any(|id| id == config_id) {
        return Ok(Err(CredentialRequestRefusal::NotOffered { config_id: config_id.to_owned() }));
    }
    if row.used_config_ids.iter().any(|id| id == config_id) {
        return Ok(Err(CredentialRequestRefusal::TokenAlreadyUsed { config_id: config_id.to_owned() }));
    }
    Ok(Ok(row))
}

/// Spends the access token for `config_id` and consumes the proofs' nonce, inside the
/// transaction that records the issued credential: either the credential is recorded and the
/// token and nonce are spent, or — on any error, or if the process dies first — neither.
///
/// Two requests with one token race for the same row; the store's transactions are
/// serializable, so the second reads the token as used (or deleted) and is refused.
pub(crate) fn spend_access(
    tx: &mut dyn IssuerTx,
    token_digest: &[u8; 32],
    config_id: &str,
    nonce: &str,
    now: i64,
) -> Result<()> {
    let mut row = check_access(tx, token_digest, config_id, now)??;
    if !tx.consume_nonce(&digest(nonce), now)? {
        return Err(CredentialRequestRefusal::InvalidNonce.into());
    }
    row.used_config_ids.push(config_id.to_owned());
    // Used for every configuration it was issued for: nothing is left to allow, so delete it.
    if row.config_ids.iter().all(|id| row.used_config_ids.contains(id)) {
        tx.delete_access_token(token_digest)?;
    } else {
        tx.update_access_token(&row)?;
    }
    purge_expired(tx, now)
}

/// How many expired rows of each table one write operation deletes at most. Each operation
/// adds at most one row, so any backlog shrinks by at least this much minus one per write,
/// while no single request pays for more than `3 × PURGE_LIMIT` deletions.
pub(crate) const PURGE_LIMIT: u32 = 64;

/// The purge every write operation makes, in its own transaction: expired offers, access
/// tokens and nonces go without anyone having to call a purge (a stolen database then holds
/// only what is still live).
pub(crate) fn purge_expired(tx: &mut dyn IssuerTx, now: i64) -> Result<()> {
    tx.purge_expired(now, PURGE_LIMIT).map(drop)
}

/// Consumes a nonce: `true` if it was issued here, unexpired and unused.
pub(crate) fn consume_nonce(store: &(impl IssuerStore + ?Sized), nonce: &str, now: i64) -> Result<bool> {
    in_transaction(store, |tx| {
        let fresh = tx.consume_nonce(&digest(nonce), now)?;
        purge_expired(tx, now)?;
        Ok(fresh)
    })
}
