//! Wallet attestations at the issuer's authorization server (OpenID4VCI 1.0 Appendix E,
//! HAIP 1.0 §4.4.1, draft-ietf-oauth-attestation-based-client-auth): a wallet authenticates at
//! the token endpoint with its wallet provider's attestation and a proof of possession of the
//! attested instance key, in the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP`
//! headers.
//!
//! - The provider's `x5c` chain is validated with `schooltas_x509::validate` to the wallet-provider
//!   trust anchors the school configured ([`WalletAttestationRequirement`]), at the request's time.
//! - An allow-list of wallet `client_id`s (the attestation's `sub`) narrows which wallet apps
//!   may redeem offers.
//! - A PoP's `jti` is accepted once while its `iat` is within the acceptance window (a bounded
//!   in-process cache, as for DPoP proofs; for several instances of a school, recorded by digest
//!   in the shared store, as for DPoP proofs).
//! - Challenges (optional): derived from a per-process secret (or the instances' shared secret)
//!   and the time window, so none is stored; a PoP without the current (or previous) window's challenge gets
//!   `use_attestation_challenge` and the challenge to retry with.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use rand::Rng as _;
use schooltas_did::{Algorithm, base64url};
use schooltas_oid4vc::client_attestation::{
    ClientAttestationError, ClientAttestationPolicy, UnverifiedClientAttestation, VerifiedClientAttestation,
};
use schooltas_x509::{TrustAnchors, Usage, validate};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::store::{IssuerStore, in_transaction};

/// How long one attestation challenge window lasts, in seconds.
pub const ATTESTATION_CHALLENGE_WINDOW: i64 = 300;
/// How many PoPs' `jti` the issuer remembers at most; beyond it, new PoPs are refused until
/// old ones age out of the window (no unbounded growth under a flood).
pub const MAX_REMEMBERED_POPS: usize = 100_000;

/// What an issuer asks of wallets at its token endpoint: an attestation by a wallet provider
/// whose certificate chains to one of `anchors`.
#[derive(Clone, Debug)]
pub struct WalletAttestationRequirement {
    /// The wallet providers' trust anchors (root certificates).
    pub anchors: TrustAnchors,
    /// The wallets (`sub`, their `client_id`) accepted; empty: any wallet of a trusted provider.
    pub allowed_clients: Vec<String>,
    /// The algorithms accepted for the attestation and its PoP (HAIP 1.0: ES256).
    pub algorithms: Vec<Algorithm>,
    /// Seconds of clock difference tolerated.
    pub clock_skew: i64,
    /// The oldest PoP `iat` accepted, in seconds before now.
    pub pop_max_age: i64,
    /// Whether every PoP must carry the issuer's current challenge.
    pub challenge_required: bool,
}

impl WalletAttestationRequirement {
    /// Attestations by providers under `anchors`, any wallet, ES256, 60 s of skew, PoPs at most
    /// 5 minutes old, no challenge.
    pub fn new(anchors: TrustAnchors) -> Self {
        WalletAttestationRequirement {
            anchors,
            allowed_clients: Vec::new(),
            algorithms: vec![Algorithm::Es256],
            clock_skew: 60,
            pop_max_age: 300,
            challenge_required: false,
        }
    }

    /// Accepts only these wallets (`client_id`s).
    pub fn allow_clients<T: Into<String>>(mut self, clients: impl IntoIterator<Item = T>) -> Self {
        self.allowed_clients = clients.into_iter().map(Into::into).collect();
        self
    }

    /// Also accepts EdDSA (outside HAIP).
    pub fn allow_eddsa(mut self) -> Self {
        if !self.algorithms.contains(&Algorithm::EdDsa) {
            self.algorithms.push(Algorithm::EdDsa);
        }
        self
    }

    /// Requires the issuer's challenge in every PoP.
    pub fn require_challenge(mut self) -> Self {
        self.challenge_required = true;
        self
    }
}

/// The issuer's wallet attestation state: its requirement, challenge secret and the PoPs it saw.
pub(crate) struct WalletAttestationState {
    pub(crate) requirement: WalletAttestationRequirement,
    secret: Zeroizing<[u8; 32]>,
    seen: Mutex<BTreeMap<[u8; 32], i64>>,
}

impl std::fmt::Debug for WalletAttestationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalletAttestationState").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

impl WalletAttestationState {
    /// The state for `requirement`, its challenges derived from `shared` (the instances'
    /// secret) or else from a random secret of this process.
    pub(crate) fn new(requirement: WalletAttestationRequirement, shared: Option<&[u8; 32]>) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        match shared {
            Some(shared) => {
                let mut hasher = Sha256::new();
                hasher.update(b"schooltas attestation challenge secret v1\0");
                hasher.update(shared);
                secret.copy_from_slice(&hasher.finalize());
            }
            None => rand::rng().fill_bytes(secret.as_mut()),
        }
        WalletAttestationState { requirement, secret, seen: Mutex::new(BTreeMap::new()) }
    }

    fn challenge_for_window(&self, window: i64) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"schooltas attestation challenge v1\0");
        hasher.update(self.secret.as_ref());
        hasher.update(window.to_be_bytes());
        base64url::encode(&hasher.finalize()[..24])
    }

    /// The challenge to send in `OAuth-Client-Attestation-Challenge` now, when challenges are on.
    pub(crate) fn challenge(&self, now: i64) -> Option<String> {
        self.requirement
            .challenge_required
            .then(|| self.challenge_for_window(now.div_euclid(ATTESTATION_CHALLENGE_WINDOW)))
    }

    /// Checks the pair for the authorization server `audience`: the chain to the anchors, the
    /// draft's rules, the allow-list, and that the PoP's `jti` is new (in `shared`, the store
    /// of all instances, when given; else in this process's memory).
    pub(crate) fn check(
        &self,
        attestation: &str,
        pop: &str,
        audience: &str,
        now: i64,
        shared: Option<&dyn IssuerStore>,
    ) -> Result<VerifiedClientAttestation, ClientAttestationError> {
        let requirement = &self.requirement;
        let mut policy = ClientAttestationPolicy::new(audience);
        policy.algorithms = requirement.algorithms.clone();
        policy.clock_skew = requirement.clock_skew;
        policy.pop_max_age = requirement.pop_max_age;
        if requirement.challenge_required {
            let window = now.div_euclid(ATTESTATION_CHALLENGE_WINDOW);
            policy.challenges = Some(vec![self.challenge_for_window(window), self.challenge_for_window(window - 1)]);
        }
        let verified = UnverifiedClientAttestation::parse(attestation, pop)?.verify(
            &policy,
            |chain| Ok(validate(chain, &requirement.anchors, now, Usage::Any)?.verifying_key().clone()),
            now,
        )?;
        if !requirement.allowed_clients.is_empty() && !requirement.allowed_clients.contains(&verified.client_id) {
            return Err(ClientAttestationError::ClientNotAllowed);
        }
        // The PoP is the wallet instance's; its jti is unique per instance key.
        let mut hasher = Sha256::new();
        hasher.update(verified.instance_key.thumbprint().as_bytes());
        hasher.update([0]);
        hasher.update(verified.pop_jti.as_bytes());
        let jti: [u8; 32] = hasher.finalize().into();
        if let Some(store) = shared {
            let expires_at = verified
                .pop_issued_at
                .max(now)
                .saturating_add(requirement.pop_max_age)
                .saturating_add(requirement.clock_skew);
            // A store that cannot record the use refuses like a full cache: retry shortly.
            let first = in_transaction(store, |tx| tx.first_use_of_proof(&jti, expires_at, now))
                .map_err(|_| ClientAttestationError::ReplayCacheFull)?;
            return if first { Ok(verified) } else { Err(ClientAttestationError::Replayed) };
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = now.saturating_sub(requirement.pop_max_age);
        if seen.len() >= MAX_REMEMBERED_POPS {
            seen.retain(|_, iat| *iat >= oldest);
        }
        if seen.contains_key(&jti) {
            return Err(ClientAttestationError::Replayed);
        }
        if seen.len() >= MAX_REMEMBERED_POPS {
            return Err(ClientAttestationError::ReplayCacheFull);
        }
        seen.insert(jti, verified.pop_issued_at);
        Ok(verified)
    }
}
