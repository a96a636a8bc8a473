//! DPoP at the issuer (RFC 9449, HAIP 1.0): access tokens bound to the wallet's DPoP key,
//! server nonces, and proofs used once.
//!
//! - The token endpoint binds the token to the thumbprint (`jkt`) of the proof's key and
//!   answers `token_type: DPoP`.
//! - The credential endpoint then takes that token only as `Authorization: DPoP <token>`,
//!   with a proof by the same key whose `ath` names the token.
//! - Server nonces (RFC 9449 §8): every proof must carry the issuer's current `DPoP-Nonce`.
//!   A nonce is derived from a secret and the time window (5 minutes), so no nonce is stored,
//!   and the current and previous windows' nonces are accepted. A proof without it gets
//!   `use_dpop_nonce` and the nonce to retry with. The secret is random per process, or, for
//!   several instances of a school ([`Issuer::with_instance_secret`](crate::Issuer::with_instance_secret)),
//!   the instances' shared secret, so any instance takes any instance's nonce.
//! - A proof's `jti` is accepted once while its `iat` is within the acceptance window: in a
//!   bounded in-process cache, or, for several instances, recorded by digest in the shared
//!   store, whose unique key decides which of two instances seeing one proof takes it.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use rand::Rng as _;
use schooltas_did::base64url;
use schooltas_oid4vc::dpop::{DpopError, DpopPolicy, VerifiedDpop, verify_dpop_proof};

use crate::store::{IssuerStore, in_transaction};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// How long one server nonce window lasts, in seconds.
pub const DPOP_NONCE_WINDOW: i64 = 300;
/// How many proofs' `jti` the issuer remembers at most; beyond it, new proofs are refused
/// until old ones age out of the window (no unbounded growth under a flood).
pub const MAX_REMEMBERED_PROOFS: usize = 100_000;

/// What an issuer asks of DPoP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpopRequirement {
    /// Tokens are issued only to a DPoP proof (HAIP 1.0); otherwise a request without a proof
    /// gets a Bearer token as before, and one with a proof a bound token.
    pub required: bool,
    /// Proofs must carry the issuer's current nonce (RFC 9449 §8).
    pub nonces: bool,
    /// The proofs' `iat` window.
    pub policy: DpopPolicy,
}

impl DpopRequirement {
    /// DPoP required, with server nonces (the HAIP profile).
    pub fn haip() -> Self {
        DpopRequirement { required: true, nonces: true, policy: DpopPolicy::default() }
    }

    /// DPoP accepted (tokens bound when a proof comes) but not required; no nonces.
    pub fn optional() -> Self {
        DpopRequirement { required: false, nonces: false, policy: DpopPolicy::default() }
    }
}

/// The issuer's DPoP state: its requirement, its nonce secret and the proofs it saw.
pub(crate) struct DpopState {
    pub(crate) requirement: DpopRequirement,
    secret: Zeroizing<[u8; 32]>,
    seen: Mutex<BTreeMap<[u8; 32], i64>>,
}

impl std::fmt::Debug for DpopState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopState").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

impl DpopState {
    /// The state for `requirement`, its nonces derived from `shared` (the instances' secret)
    /// or else from a random secret of this process.
    pub(crate) fn new(requirement: DpopRequirement, shared: Option<&[u8; 32]>) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        match shared {
            Some(shared) => {
                let mut hasher = Sha256::new();
                hasher.update(b"schooltas dpop nonce secret v1\0");
                hasher.update(shared);
                secret.copy_from_slice(&hasher.finalize());
            }
            None => rand::rng().fill_bytes(secret.as_mut()),
        }
        DpopState { requirement, secret, seen: Mutex::new(BTreeMap::new()) }
    }

    fn nonce_for_window(&self, window: i64) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"schooltas dpop nonce v1\0");
        hasher.update(self.secret.as_ref());
        hasher.update(window.to_be_bytes());
        base64url::encode(&hasher.finalize()[..24])
    }

    /// The nonce to send in `DPoP-Nonce` now, when nonces are on.
    pub(crate) fn nonce(&self, now: i64) -> Option<String> {
        self.requirement.nonces.then(|| self.nonce_for_window(now.div_euclid(DPOP_NONCE_WINDOW)))
    }

    fn nonce_is_current(&self, nonce: &str, now: i64) -> bool {
        let window = now.div_euclid(DPOP_NONCE_WINDOW);
        [window, window - 1].into_iter().any(|w| {
            let expected = self.nonce_for_window(w);
            crate::offers::same(&Sha256::digest(expected.as_bytes()).into(), &Sha256::digest(nonce.as_bytes()).into())
        })
    }

    /// Checks a proof for a `method` request to `url` (with `access_token` at the credential
    /// endpoint): the proof itself, the nonce when nonces are on, and that its `jti` is new:
    /// in `shared` (the store of all instances) when given, else in this process's memory.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: i64,
        shared: Option<&dyn IssuerStore>,
    ) -> Result<VerifiedDpop, DpopError> {
        let verified = verify_dpop_proof(proof, method, url, access_token, &self.requirement.policy, now)?;
        if self.requirement.nonces && !verified.nonce.as_deref().is_some_and(|n| self.nonce_is_current(n, now)) {
            return Err(DpopError::UseNonce);
        }
        let jti: [u8; 32] = Sha256::digest(verified.jti.as_bytes()).into();
        if let Some(store) = shared {
            // Kept until no proof with this `iat` can be accepted any more.
            let policy = &self.requirement.policy;
            let expires_at =
                verified.issued_at.max(now).saturating_add(policy.max_age).saturating_add(policy.clock_skew);
            let first = in_transaction(store, |tx| tx.first_use_of_proof(&jti, expires_at, now)).map_err(|_| {
                DpopError::InvalidProof("the issuer could not record the proof's use; retry shortly".into())
            })?;
            return if first { Ok(verified) } else { Err(DpopError::Replayed) };
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = now.saturating_sub(self.requirement.policy.max_age);
        if seen.len() >= MAX_REMEMBERED_PROOFS {
            seen.retain(|_, iat| *iat >= oldest);
        }
        if seen.contains_key(&jti) {
            return Err(DpopError::Replayed);
        }
        if seen.len() >= MAX_REMEMBERED_PROOFS {
            return Err(DpopError::InvalidProof("too many proofs at once; retry shortly".into()));
        }
        seen.insert(jti, verified.issued_at);
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schooltas_did::{Algorithm, Signer, SigningKey};
    use schooltas_oid4vc::dpop::sign_dpop_proof;

    const URL: &str = "https://school.example/oid4vci/token";

    #[test]
    fn nonces_rotate_by_window_and_the_previous_one_still_counts() {
        let state = DpopState::new(DpopRequirement::haip(), None);
        let now = 1_800_000_100;
        let nonce = state.nonce(now).unwrap();
        assert!(state.nonce_is_current(&nonce, now));
        assert!(state.nonce_is_current(&nonce, now + DPOP_NONCE_WINDOW), "one window later");
        assert!(!state.nonce_is_current(&nonce, now + 2 * DPOP_NONCE_WINDOW), "two windows later");
        assert_ne!(state.nonce(now + DPOP_NONCE_WINDOW).unwrap(), nonce);
        // Another process (another secret) makes other nonces.
        assert!(!DpopState::new(DpopRequirement::haip(), None).nonce_is_current(&nonce, now));
        assert!(DpopState::new(DpopRequirement::optional(), None).nonce(now).is_none());
        // Instances sharing a secret make and take each other's nonces.
        let a = DpopState::new(DpopRequirement::haip(), Some(&[7; 32]));
        let b = DpopState::new(DpopRequirement::haip(), Some(&[7; 32]));
        assert!(b.nonce_is_current(&a.nonce(now).unwrap(), now));
        assert!(!DpopState::new(DpopRequirement::haip(), Some(&[8; 32])).nonce_is_current(&a.nonce(now).unwrap(), now));
    }

    #[test]
    fn with_a_shared_store_a_proof_is_used_once_across_instances() {
        let store = crate::store::SqliteStore::in_memory().unwrap();
        let a = DpopState::new(DpopRequirement::haip(), Some(&[7; 32]));
        let b = DpopState::new(DpopRequirement::haip(), Some(&[7; 32]));
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let now = 1_800_000_100;
        let proof = sign_dpop_proof(&key, "POST", URL, None, Some(&a.nonce(now).unwrap()), now).unwrap();
        assert!(a.check(&proof, "POST", URL, None, now, Some(&store)).is_ok());
        assert_eq!(b.check(&proof, "POST", URL, None, now + 1, Some(&store)), Err(DpopError::Replayed));
    }

    #[test]
    fn a_proof_without_the_nonce_is_sent_back_for_it_and_a_proof_is_used_once() {
        let state = DpopState::new(DpopRequirement::haip(), None);
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let now = 1_800_000_100;
        let bare = sign_dpop_proof(&key, "POST", URL, None, None, now).unwrap();
        assert_eq!(state.check(&bare, "POST", URL, None, now, None), Err(DpopError::UseNonce));
        let stale = sign_dpop_proof(&key, "POST", URL, None, Some("not-the-nonce"), now).unwrap();
        assert_eq!(state.check(&stale, "POST", URL, None, now, None), Err(DpopError::UseNonce));
        let nonce = state.nonce(now).unwrap();
        let proof = sign_dpop_proof(&key, "POST", URL, None, Some(&nonce), now).unwrap();
        assert_eq!(state.check(&proof, "POST", URL, None, now, None).unwrap().jkt, key.verifying_key().thumbprint());
        assert_eq!(state.check(&proof, "POST", URL, None, now + 1, None), Err(DpopError::Replayed));
    }
}
