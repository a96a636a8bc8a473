//! DPoP at the issuer (RFC 9449, HAIP 1.0): access tokens bound to the wallet's DPoP key,
//! server nonces, and proofs used once.
//!
//! - The token endpoint binds the token to the thumbprint (`jkt`) of the proof's key and
//!   answers `token_type: DPoP`.
//! - The credential endpoint then takes that token only as `Authorization: DPoP <token>`,
//!   with a proof by the same key whose `ath` names the token.
//! - Server nonces (RFC 9449 §8): every proof must carry the issuer's current `DPoP-Nonce`.
//!   A nonce is derived from a per-process secret and the time window (5 minutes), so no nonce
//!   is stored, and the current and previous windows' nonces are accepted. A proof without it
//!   gets `use_dpop_nonce` and the nonce to retry with.
//! - A proof's `jti` is accepted once while its `iat` is within the acceptance window (a
//!   bounded in-process cache). One process only: issue 17 moves this to the shared store.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use rand::Rng as _;
use schooltas_did::base64url;
use schooltas_oid4vc::dpop::{DpopError, DpopPolicy, VerifiedDpop, verify_dpop_proof};
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
    pub(crate) fn new(requirement: DpopRequirement) -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(secret.as_mut());
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
    /// endpoint): the proof itself, the nonce when nonces are on, and that its `jti` is new.
    pub(crate) fn check(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: i64,
    ) -> Result<VerifiedDpop, DpopError> {
        let verified = verify_dpop_proof(proof, method, url, access_token, &self.requirement.policy, now)?;
        if self.requirement.nonces && !verified.nonce.as_deref().is_some_and(|n| self.nonce_is_current(n, now)) {
            return Err(DpopError::UseNonce);
        }
        let jti: [u8; 32] = Sha256::digest(verified.jti.as_bytes()).into();
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
        let state = DpopState::new(DpopRequirement::haip());
        let now = 1_800_000_100;
        let nonce = state.nonce(now).unwrap();
        assert!(state.nonce_is_current(&nonce, now));
        assert!(state.nonce_is_current(&nonce, now + DPOP_NONCE_WINDOW), "one window later");
        assert!(!state.nonce_is_current(&nonce, now + 2 * DPOP_NONCE_WINDOW), "two windows later");
        assert_ne!(state.nonce(now + DPOP_NONCE_WINDOW).unwrap(), nonce);
        // Another process (another secret) makes other nonces.
        assert!(!DpopState::new(DpopRequirement::haip()).nonce_is_current(&nonce, now));
        assert!(DpopState::new(DpopRequirement::optional()).nonce(now).is_none());
    }

    #[test]
    fn a_proof_without_the_nonce_is_sent_back_for_it_and_a_proof_is_used_once() {
        let state = DpopState::new(DpopRequirement::haip());
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let now = 1_800_000_100;
        let bare = sign_dpop_proof(&key, "POST", URL, None, None, now).unwrap();
        assert_eq!(state.check(&bare, "POST", URL, None, now), Err(DpopError::UseNonce));
        let stale = sign_dpop_proof(&key, "POST", URL, None, Some("not-the-nonce"), now).unwrap();
        assert_eq!(state.check(&stale, "POST", URL, None, now), Err(DpopError::UseNonce));
        let nonce = state.nonce(now).unwrap();
        let proof = sign_dpop_proof(&key, "POST", URL, None, Some(&nonce), now).unwrap();
        assert_eq!(state.check(&proof, "POST", URL, None, now).unwrap().jkt, key.verifying_key().thumbprint());
        assert_eq!(state.check(&proof, "POST", URL, None, now + 1), Err(DpopError::Replayed));
    }
}
