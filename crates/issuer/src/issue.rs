//! Issuing: one credential, or a batch of copies each bound to its own holder key.

use std::collections::HashSet;
use std::fmt;

use rand::RngExt;
use serde_json::{Map, Value};

use schooltas_did::VerifyingKey;
use schooltas_school::catalog::Catalog;
use schooltas_school::date::CalendarDate;
use schooltas_sd_jwt::RandomSalts;
use schooltas_status_list::{StatusListUri, StatusValue};

use crate::child_link;
use crate::error::{Error, Result};
use crate::offers::{self, Grant, GrantRefusal, OfferPolicy, OfferSecrets};
use crate::school::SchoolProfile;
use crate::status::{StatusChange, StatusPolicy};
use crate::store::{CredentialRow, IssuerStore, in_transaction};
use crate::validity;
use zeroize::Zeroizing;

/// The largest batch [`Issuer::issue_batch`] accepts by default.
pub const DEFAULT_MAX_BATCH: usize = 20;

/// What [`Issuer::issue_batch`] produced: the credential's id (for revocation) and its copies.
pub struct IssuedBatch {
    id: String,
    copies: Vec<String>,
}

impl IssuedBatch {
    /// The id the school revokes or suspends the credential by (all copies at once).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The SD-JWT VCs, one per holder key, in the order of the keys.
    pub fn copies(&self) -> &[String] {
        &self.copies
    }

    /// Takes the copies out.
    pub fn into_copies(self) -> Vec<String> {
        self.copies
    }
}

impl fmt::Debug for IssuedBatch {
    // Copies hold personal data: show only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedBatch").field("id", &self.id).field("copies", &self.copies.len()).finish()
    }
}

/// A school issuing credentials: profile, catalog, store and status registry together.
///
/// See the crate docs for a full example.
pub struct Issuer<S> {
    profile: SchoolProfile,
    catalog: Catalog,
    store: S,
    status: StatusPolicy,
    max_batch: usize,
    key_attestations: Option<crate::oid4vci::KeyAttestationRequirement>,
    dpop: Option<crate::dpop::DpopState>,
    wallet_attestation: Option<crate::wallet_attestation::WalletAttestationState>,
    /// Set when this issuer is one of several instances over one shared store.
    instance_secret: Option<Zeroizing<[u8; 32]>>,
    pub(crate) authorization: Option<crate::authorization::AuthorizationPolicy>,
}

impl<S: IssuerStore> Issuer<S> {
    /// A school issuing the types of `catalog`, recording in `store`, publishing status lists
    /// under `status.base_uri`.
    pub fn new(profile: SchoolProfile, catalog: Catalog, store: S, status: StatusPolicy) -> Self {
        Issuer {
            profile,
            catalog,
            store,
            status,
            max_batch: DEFAULT_MAX_BATCH,
            key_attestations: None,
            dpop: None,
            wallet_attestation: None,
            instance_secret: None,
            authorization: None,
        }
    }

    /// Sets the largest batch accepted.
    pub fn with_max_batch(mut self, max: usize) -> Self {
        self.max_batch = max.max(1);
        self
    }

    /// Requires a key attestation (OpenID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1) for every
    /// holder key: in each `jwt` proof's header, or as the `attestation` proof type. The
    /// metadata says so (`key_attestations_required`).
    pub fn with_key_attestations(mut self, requirement: crate::oid4vci::KeyAttestationRequirement) -> Self {
        self.key_attestations = Some(requirement);
        self
    }

    /// Binds access tokens to DPoP keys (RFC 9449; HAIP 1.0 requires it): the authorization
    /// server metadata lists `dpop_signing_alg_values_supported`, the token endpoint binds a
    /// token to the proof's key, and the credential endpoint takes it only with a proof by that
    /// key. With [`DpopRequirement::haip`](crate::DpopRequirement::haip), a token request
    /// without a proof is refused and every proof must carry the issuer's current nonce.
    pub fn with_dpop(mut self, requirement: crate::DpopRequirement) -> Self {
        self.dpop = Some(crate::dpop::DpopState::new(requirement, self.instance_secret.as_deref()));
        self
    }

    /// Makes this issuer one of several instances of a school over one shared store (issue
    /// 17): DPoP nonces and wallet attestation challenges are derived from `secret` (which
    /// every instance must be given alike, e.g. derived from the school's key file) instead of
    /// a random per-process secret, so a nonce handed out by one instance is taken by another;
    /// and a proof's `jti` is recorded in the store
    /// ([`IssuerTx::first_use_of_proof`](crate::store::IssuerTx::first_use_of_proof)) instead
    /// of in memory, so a proof used at one instance is refused at every other.
    pub fn with_instance_secret(mut self, secret: Zeroizing<[u8; 32]>) -> Self {
        self.set_instance_secret(secret);
        self
    }

    /// [`with_instance_secret`](Self::with_instance_secret) on an issuer already built.
    pub fn set_instance_secret(&mut self, secret: Zeroizing<[u8; 32]>) {
        if let Some(state) = self.dpop.take() {
            self.dpop = Some(crate::dpop::DpopState::new(state.requirement, Some(&secret)));
        }
        if let Some(state) = self.wallet_attestation.take() {
            self.wallet_attestation =
                Some(crate::wallet_attestation::WalletAttestationState::new(state.requirement, Some(&secret)));
        }
        self.instance_secret = Some(secret);
    }

    /// The store that decides proof replay, when this issuer is one of several instances.
    pub(crate) fn replay_store(&self) -> Option<&dyn IssuerStore> {
        self.instance_secret.as_ref().map(|_| &self.store as &dyn IssuerStore)
    }

    /// The DPoP requirement, when the issuer takes DPoP proofs.
    pub fn dpop(&self) -> Option<crate::DpopRequirement> {
        self.dpop.as_ref().map(|state| state.requirement)
    }

    /// The server nonce to send in a `DPoP-Nonce` header now (RFC 9449 §8), when the issuer
    /// asks for nonces.
    pub fn dpop_nonce(&self, now: i64) -> Option<String> {
        self.dpop.as_ref().and_then(|state| state.nonce(now))
    }

    pub(crate) fn dpop_state(&self) -> Option<&crate::dpop::DpopState> {
        self.dpop.as_ref()
    }

    /// Requires a wallet attestation (OpenID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1) at the token
    /// endpoint: the authorization server metadata lists `attest_jwt_client_auth`, and a token
    /// request without a valid `OAuth-Client-Attestation` / `OAuth-Client-Attestation-PoP` pair
    /// is refused with `invalid_client` before its code is looked at.
    pub fn with_wallet_attestation(mut self, requirement: crate::WalletAttestationRequirement) -> Self {
        self.wallet_attestation =
            Some(crate::wallet_attestation::WalletAttestationState::new(requirement, self.instance_secret.as_deref()));
        self
    }

    /// The wallet attestation requirement, if any.
    pub fn wallet_attestation(&self) -> Option<&crate::WalletAttestationRequirement> {
        self.wallet_attestation.as_ref().map(|state| &state.requirement)
    }

    /// The challenge to send in `OAuth-Client-Attestation-Challenge` now, when the wallet
    /// attestation requirement asks for challenges.
    pub fn attestation_challenge(&self, now: i64) -> Option<String> {
        self.wallet_attestation.as_ref().and_then(|state| state.challenge(now))
    }

    pub(crate) fn wallet_attestation_state(&self) -> Option<&crate::wallet_attestation::WalletAttestationState> {
        self.wallet_attestation.as_ref()
    }

    /// The key attestation requirement, when there is one.
    pub fn key_attestations(&self) -> Option<&crate::oid4vci::KeyAttestationRequirement> {
        self.key_attestations.as_ref()
    }

    /// The school.
    pub fn profile(&self) -> &SchoolProfile {
        &self.profile
    }

    /// The school, for key rotation.
    pub fn profile_mut(&mut self) -> &mut SchoolProfile {
        &mut self.profile
    }

    /// The catalog of types this school issues.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The status policy.
    pub fn status_policy(&self) -> &StatusPolicy {
        &self.status
    }

    /// The largest batch accepted.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Records an offer of `config_ids` about `subject_ref` (OpenID4VCI pre-authorized code
    /// flow) and returns its secrets: the code for the offer / QR code and, when `policy`
    /// asks for one, the PIN for a second channel. Unknown configuration ids are refused.
    pub fn create_offer(
        &self,
        policy: &OfferPolicy,
        subject_ref: &str,
        config_ids: &[String],
        now: i64,
    ) -> Result<OfferSecrets> {
        if config_ids.is_empty() {
            return Err(Error::UnknownCredentialType { config_id: String::new() });
        }
        for config_id in config_ids {
            if self.catalog.get(config_id).is_none() {
                return Err(Error::UnknownCredentialType { config_id: config_id.clone() });
            }
        }
        offers::create_offer(&self.store, policy, subject_ref, config_ids, now)
    }

    /// Exchanges a pre-authorized code and PIN for an access token (the token endpoint's
    /// logic): codes are single use, expire, and lock after `policy.max_pin_attempts` wrong
    /// PINs. A refusal is `Ok(Err(reason))`, a storage failure `Err`.
    pub fn redeem(
        &self,
        policy: &OfferPolicy,
        code: &str,
        pin: Option<&str>,
        now: i64,
    ) -> Result<std::result::Result<Grant, GrantRefusal>> {
        offers::redeem(&self.store, policy, code, pin, None, now)
    }

    /// A fresh single-use nonce for a proof of possession (the nonce endpoint's logic).
    pub fn new_nonce(&self, policy: &OfferPolicy, now: i64) -> Result<String> {
        offers::new_nonce(&self.store, policy, now)
    }

    /// The subject and configuration ids an access token allows, if it is known and unexpired.
    pub fn authorize(&self, access_token: &str, now: i64) -> Result<Option<crate::store::AccessTokenRow>> {
        offers::authorize(&self.store, access_token, now)
    }

    /// Uses up a nonce: `true` if this school issued it, it has not expired and it was not
    /// used before.
    pub fn consume_nonce(&self, nonce: &str, now: i64) -> Result<bool> {
        offers::consume_nonce(&self.store, nonce, now)
    }

    /// Issues one credential of type `config_id` about `subject_ref`, bound to `holder_key`.
    pub fn issue(
        &self,
        config_id: &str,
        subject_ref: &str,
        claims: Map<String, Value>,
        holder_key: &VerifyingKey,
        now: i64,
    ) -> Result<IssuedBatch> {
        self.issue_batch(config_id, subject_ref, claims, std::slice::from_ref(holder_key), now)
    }

    /// Issues one credential as `holder_keys.len()` copies, so that two verifiers who each see
    /// one copy share nothing to link them by (issue 12 item 7; see [`crate::child_link`]):
    ///
    /// - each copy is bound to its own key, with its own salts, its own decoy digests (the
    ///   catalog pads every `_sd` array) and its own random status entry in the list;
    /// - each copy carries its own one-time child link in the type's child-link claim (`sub`,
    ///   `child_id` for a guardianship) in place of the pupil reference the administration put
    ///   there: copy *i* of every type about one pupil in one school year carries the same link,
    ///   so a child's copy *i* and the parent's guardianship copy *i* bind;
    /// - each copy gets its own `iat` and `exp` ([`crate::child_link::jittered_times`]), never
    ///   in the future and never valid longer than the type allows;
    /// - a representation type (guardianship) discloses a coarse `valid_until` — the end of the
    ///   school year, or the end of the month before the authority ends — in place of the one
    ///   given, and its copies expire by the end of that day ([`crate::validity`]); when that day
    ///   has passed, [`Error::RepresentationEnded`].
    ///
    /// The claims are checked against the catalog first (unknown, missing or wrongly typed
    /// claims are refused); the record (type, subject reference, validity, status entries — not
    /// the claims) is written in the same transaction as the copies are signed. Revoking or
    /// suspending the credential acts on every copy's entry.
    pub fn issue_batch(
        &self,
        config_id: &str,
        subject_ref: &str,
        claims: Map<String, Value>,
        holder_keys: &[VerifyingKey],
        now: i64,
    ) -> Result<IssuedBatch> {
        self.issue_batch_within(config_id, subject_ref, claims, holder_keys, now, &mut |_| Ok(()))
    }

    /// [`Issuer::issue_batch`], running `first` at the start of the transaction that records
    /// the credential: the credential endpoint spends its access token and nonce there, so
    /// that they are spent exactly when a credential is recorded.
    pub(crate) fn issue_batch_within(
        &self,
        config_id: &str,
        subject_ref: &str,
        claims: Map<String, Value>,
        holder_keys: &[VerifyingKey],
        now: i64,
        first: &mut dyn FnMut(&mut dyn crate::store::IssuerTx) -> Result<()>,
    ) -> Result<IssuedBatch> {
        if holder_keys.is_empty() || holder_keys.len() > self.max_batch {
            return Err(Error::BatchSize { got: holder_keys.len(), max: self.max_batch });
        }
        let mut seen = HashSet::new();
        for key in holder_keys {
            if !seen.insert(key.to_compressed_bytes()) {
                return Err(Error::DuplicateHolderKey { thumbprint: key.thumbprint() });
            }
        }
        let credential_type = self
            .catalog
            .get(config_id)
            .ok_or_else(|| Error::UnknownCredentialType { config_id: config_id.to_owned() })?;
        let issuer = self.profile.iss();
        // A representation type's representative (`guardian_id`) the administration left out
        // is the DID of each copy's own holder key (see `CredentialType::representative_claim`):
        // validated with the first copy's, replaced per copy below.
        let mut claims = claims;
        let representative = credential_type.representative_claim().filter(|name| !claims.contains_key(*name));
        if let (Some(name), Some(first)) = (representative, holder_keys.first()) {
            claims.insert(name.to_owned(), Value::String(holder_did(first)));
        }
        // Validate once, before anything is written.
        credential_type.validate(&claims).map_err(schooltas_school::Error::from)?;
        let link_claim = credential_type.child_link_claim();
        let pupil_ref = match claims.get(link_claim) {
            None => None,
            Some(Value::String(reference)) if !reference.is_empty() && reference.len() <= 1024 => {
                Some(reference.clone())
            }
            Some(_) => {
                return Err(Error::ChildLinkReference { config_id: config_id.to_owned(), claim: link_claim });
            }
        };
        let school_year = child_link::school_year(now);
        let mut validity = credential_type.default_validity();
        if credential_type.is_representation() {
            // Issue 12 item 8: the always-visible `valid_until` is coarsened so that approvals
            // do not disclose the child's birth date (see `crate::validity`), and the copies'
            // `exp` never says more than it.
            let date =
                |name: &str| claims.get(name).and_then(Value::as_str).and_then(|text| CalendarDate::parse(text).ok());
            let ended = || Error::RepresentationEnded { config_id: config_id.to_owned() };
            // `validate` above made `valid_until` a required date; a type without one has
            // nothing to coarsen.
            if let Some(stated) = date("valid_until") {
                let disclosed =
                    validity::disclosed_valid_until(stated, date("child_birth_date"), now).ok_or_else(ended)?;
                claims.insert("valid_until".to_owned(), Value::String(disclosed.to_string()));
                validity = Some(validity::copy_lifetime(disclosed, validity, now));
            }
        }
        let expires_at = validity.map(|seconds| now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)));
        let id = random_id();
        let kid = self.profile.credential_kid();
        let x5c = self.profile.x5c();
        let signer = self.profile.keys().signer();
        let links = self.profile.child_link_key();
        let copies = in_transaction(&self.store, |tx| {
            first(tx)?;
            tx.insert_credential(&CredentialRow {
                id: id.clone(),
                config_id: config_id.to_owned(),
                subject_ref: subject_ref.to_owned(),
                issued_at: now,
                expires_at,
                copies: u32::try_from(holder_keys.len()).unwrap_or(u32::MAX),
            })?;
            let mut copies = Vec::with_capacity(holder_keys.len());
            for (index, holder_key) in holder_keys.iter().enumerate() {
                let mut copy_claims = claims.clone();
                if let Some(name) = representative {
                    copy_claims.insert(name.to_owned(), Value::String(holder_did(holder_key)));
                }
                if let Some(reference) = &pupil_ref {
                    // The batch size is capped by `max_batch` (a usize checked above); u32 holds it.
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    copy_claims
                        .insert(link_claim.to_owned(), Value::String(links.link(reference, &school_year, index)));
                }
                let (issued_at, copy_expires_at) = child_link::jittered_times(now, validity);
                let mut builder =
                    credential_type.builder(issuer, issued_at, copy_claims)?.holder_key(holder_key).kid(kid.clone());
                if let Some(x5c) = &x5c {
                    builder = builder.header_member("x5c", x5c.clone());
                }
                if let Some(exp) = copy_expires_at {
                    builder = builder.expires_at(exp);
                }
                if let Some(purpose) = credential_type.status_purpose() {
                    let reference = self.status.allocate(tx, purpose, &id)?;
                    builder = builder.status(reference.to_status_claim());
                }
                copies.push(builder.issue(signer, &mut RandomSalts)?.to_string());
            }
            Ok(copies)
        })?;
        Ok(IssuedBatch { id, copies })
    }

    /// Revokes, suspends or reinstates every copy of a credential, in one transaction.
    /// Verifiers see the change once they fetch the next published token.
    pub fn change_status(&self, credential_id: &str, change: StatusChange) -> Result<()> {
        in_transaction(&self.store, |tx| {
            let row = tx
                .credential(credential_id)?
                .ok_or_else(|| Error::UnknownCredential { id: credential_id.to_owned() })?;
            let entries = tx.entries_of(credential_id)?;
            if entries.is_empty() {
                return Err(Error::NoStatus { config_id: row.config_id });
            }
            for (list, index) in entries {
                let current = StatusValue::new(tx.status(list, index)?);
                let next = change.apply(credential_id, current)?;
                tx.set_status(list, index, next.get())?;
            }
            Ok(())
        })
    }

    /// The current status of a credential (all copies share it).
    pub fn status_of(&self, credential_id: &str) -> Result<Option<StatusValue>> {
        in_transaction(&self.store, |tx| {
            tx.credential(credential_id)?.ok_or_else(|| Error::UnknownCredential { id: credential_id.to_owned() })?;
            match tx.entries_of(credential_id)?.first() {
                Some(&(list, index)) => Ok(Some(StatusValue::new(tx.status(list, index)?))),
                None => Ok(None),
            }
        })
    }

    /// Signs a fresh status list token for every list, to publish at each list's URI.
    pub fn status_list_tokens(&self, now: i64) -> Result<Vec<(StatusListUri, String)>> {
        in_transaction(&self.store, |tx| {
            let lists = tx.all_status_lists()?;
            lists.iter().map(|list| self.status.token(tx, list, &self.profile, now)).collect()
        })
    }

    /// What this school issued about a subject: type, dates, number of copies — the answer
    /// to a parent's access request (GDPR art. 15), without the claims, which it does not keep.
    pub fn credentials_of(&self, subject_ref: &str) -> Result<Vec<CredentialRow>> {
        in_transaction(&self.store, |tx| tx.credentials_of(subject_ref))
    }
}

impl<S> fmt::Debug for Issuer<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer").field("profile", &self.profile).field("status", &self.status).finish_non_exhaustive()
    }
}

/// 128 random bits, base64url: ids that say nothing about when or what was issued.
pub(crate) fn random_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    schooltas_did::base64url::encode(bytes)
}

/// The `did:key` of a holder key: the representative a guardianship copy names when the
/// administration gave none.
fn holder_did(key: &VerifyingKey) -> String {
    schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.clone())).as_str().to_owned()
}
