//! Wallet attestations: how the wallet authenticates to an issuer's authorization server
//! (OpenID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1, draft-ietf-oauth-attestation-based-client-auth).
//!
//! The wallet provider vouches for the wallet app in a Client Attestation JWT whose `sub` is the
//! app's `client_id` and whose `cnf.jwk` is a key of this installation; with each token request
//! the wallet sends it in `OAuth-Client-Attestation`, beside a fresh PoP JWT signed by that key
//! for the server (`aud`), in `OAuth-Client-Attestation-PoP`.
//!
//! - [`WalletAttestor`] is the wallet provider's side as the wallet sees it (in an app: a call
//!   to the provider's backend and a key in the phone's secure element);
//! - [`SoftwareWalletAttestor`] does it in software, for tests and the demo: it holds the
//!   provider's signing key and certificate chain and makes, **per authorization server**, an
//!   attestation of a fresh instance key (HAIP 1.0 §4.4.1: attestations are not reused across
//!   issuers, so two schools cannot link the family's wallet by its instance key), and a new PoP
//!   with a random `jti` for every request.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use schooltas_did::{Algorithm, Signer, SigningKey};
use schooltas_oid4vc::client_attestation::{
    ClientAttestationClaims, sign_client_attestation, sign_client_attestation_pop,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The two header values of one request's client authentication.
pub struct ClientAuth {
    /// The Client Attestation JWT (`OAuth-Client-Attestation`).
    pub attestation: String,
    /// The Client Attestation PoP JWT (`OAuth-Client-Attestation-PoP`), for this one request.
    pub pop: Zeroizing<String>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth").finish_non_exhaustive()
    }
}

/// A wallet provider's attestation of this wallet, as the wallet uses it.
pub trait WalletAttestor {
    /// The wallet's `client_id` the attestation names (its `sub`).
    fn client_id(&self) -> &str;

    /// The attestation and a fresh PoP (a new `jti`, `iat` = `now`) for a request to the
    /// authorization server whose issuer identifier is `authorization_server` (the PoP's `aud`).
    fn attest(&self, authorization_server: &str, now: i64) -> Result<ClientAuth>;

    /// [`WalletAttestor::attest`] with the server's `challenge` in the PoP (the draft's
    /// §"Challenges": the server answered `use_attestation_challenge` with one). An attestor
    /// that cannot include one refuses.
    fn attest_with_challenge(&self, authorization_server: &str, challenge: &str, now: i64) -> Result<ClientAuth> {
        let _ = (authorization_server, challenge, now);
        Err(Error::InvalidInput {
            reason:
                "the issuer requires its attestation challenge in the PoP, and this wallet attestor cannot include one"
                    .into(),
        })
    }
}

/// The OAuth error code with which a server asks for its challenge in the PoP.
pub const USE_ATTESTATION_CHALLENGE: &str = "use_attestation_challenge";

/// An attestation for one authorization server and the instance key it attests.
struct Issued {
    attestation: String,
    expires_at: i64,
    instance_key: SigningKey,
}

/// A wallet provider in software (tests, the demo): the provider's key and certificate chain
/// (leaf first, without the anchor), the wallet's `client_id`.
pub struct SoftwareWalletAttestor {
    provider_key: SigningKey,
    chain: Vec<Vec<u8>>,
    provider: String,
    client_id: String,
    wallet_name: Option<String>,
    lifetime: i64,
    issued: Mutex<BTreeMap<String, Issued>>,
}

impl std::fmt::Debug for SoftwareWalletAttestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareWalletAttestor")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How long a software attestation lasts unless [`SoftwareWalletAttestor::with_lifetime`] says.
pub const DEFAULT_ATTESTATION_LIFETIME: i64 = 24 * 3600;

impl SoftwareWalletAttestor {
    /// A provider `provider` (its `iss`) signing with `provider_key`, whose certificate chain is
    /// `chain`, attesting the wallet `client_id`.
    pub fn new(
        provider_key: SigningKey,
        chain: Vec<Vec<u8>>,
        provider: impl Into<String>,
        client_id: impl Into<String>,
    ) -> Self {
        SoftwareWalletAttestor {
            provider_key,
            chain,
            provider: provider.into(),
            client_id: client_id.into(),
            wallet_name: None,
            lifetime: DEFAULT_ATTESTATION_LIFETIME,
            issued: Mutex::new(BTreeMap::new()),
        }
    }

    /// Names the wallet in its attestations (`wallet_name`).
    pub fn with_wallet_name(mut self, name: impl Into<String>) -> Self {
        self.wallet_name = Some(name.into());
        self
    }

    /// Attestations last `seconds`.
    pub fn with_lifetime(mut self, seconds: i64) -> Self {
        self.lifetime = seconds;
        self
    }

    fn issue(&self, now: i64) -> Result<Issued> {
        let instance_key = SigningKey::generate(Algorithm::Es256)?;
        let expires_at = now.saturating_add(self.lifetime);
        let mut claims = ClientAttestationClaims::new(
            self.provider.clone(),
            self.client_id.clone(),
            expires_at,
            instance_key.verifying_key().clone(),
        )
        .issued_at(now);
        claims.wallet_name = self.wallet_name.clone();
        let attestation = sign_client_attestation(&self.provider_key, self.chain.clone(), &claims)?;
        Ok(Issued { attestation, expires_at, instance_key })
    }
}

impl WalletAttestor for SoftwareWalletAttestor {
    fn client_id(&self) -> &str {
        &self.client_id
    }

    fn attest(&self, authorization_server: &str, now: i64) -> Result<ClientAuth> {
        self.attest_for(authorization_server, None, now)
    }

    fn attest_with_challenge(&self, authorization_server: &str, challenge: &str, now: i64) -> Result<ClientAuth> {
        self.attest_for(authorization_server, Some(challenge), now)
    }
}

impl SoftwareWalletAttestor {
    fn attest_for(&self, authorization_server: &str, challenge: Option<&str>, now: i64) -> Result<ClientAuth> {
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        // A fresh attestation when none is held for this server or it is about to expire.
        let fresh = match issued.get(authorization_server) {
            Some(held) => held.expires_at <= now.saturating_add(60),
            None => true,
        };
        if fresh {
            issued.insert(authorization_server.to_owned(), self.issue(now)?);
        }
        let held = issued
            .get(authorization_server)
            .ok_or_else(|| Error::InvalidInput { reason: "the wallet attestation could not be kept".into() })?;
        let jti = schooltas_oid4vc::oid4vp::random_nonce();
        let pop = sign_client_attestation_pop(&held.instance_key, authorization_server, &jti, now, challenge)?;
        Ok(ClientAuth { attestation: held.attestation.clone(), pop: Zeroizing::new(pop) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_oid4vc::client_attestation::{ClientAttestationPolicy, UnverifiedClientAttestation};
    use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Usage, Validity, validate};

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn one_attestation_per_server_and_a_new_pop_per_request() {
        let root = CertificateAuthority::root(
            SigningKey::generate(Algorithm::Es256).unwrap(),
            Subject::new("Wallet BV", "Wallet BV Root").unwrap(),
            Validity::days_from(NOW - 60, 3650).unwrap(),
            Some(0),
            Profile::Haip,
        )
        .unwrap();
        let key = SigningKey::generate(Algorithm::Es256).unwrap();
        let chain = root
            .issue_wallet_provider_certificate(
                key.verifying_key(),
                "https://wallet.example",
                &Subject::new("Wallet BV", "Wallet BV attestations").unwrap(),
                Validity::days_from(NOW - 60, 365).unwrap(),
            )
            .unwrap();
        let attestor = SoftwareWalletAttestor::new(
            key,
            chain.chain().certificates().to_vec(),
            "https://wallet.example",
            "https://wallet.example/app",
        )
        .with_wallet_name("Schooltas Wallet");
        let anchors = TrustAnchors::from_der(vec![root.certificate_der().to_vec()]).unwrap();
        let verify = |auth: &ClientAuth, server: &str| {
            UnverifiedClientAttestation::parse(&auth.attestation, &auth.pop)
                .unwrap()
                .verify(
                    &ClientAttestationPolicy::new(server),
                    |chain| Ok(validate(chain, &anchors, NOW, Usage::Any)?.verifying_key().clone()),
                    NOW,
                )
                .unwrap()
        };
        let first = attestor.attest("https://a.example", NOW).unwrap();
        let second = attestor.attest("https://a.example", NOW).unwrap();
        let other = attestor.attest("https://b.example", NOW).unwrap();
        let (v1, v2, v3) = (
            verify(&first, "https://a.example"),
            verify(&second, "https://a.example"),
            verify(&other, "https://b.example"),
        );
        assert_eq!(first.attestation, second.attestation);
        assert_ne!(v1.pop_jti, v2.pop_jti);
        assert_eq!(v1.instance_key, v2.instance_key);
        // Another server: another attestation of another instance key, the same client_id.
        assert_ne!(first.attestation, other.attestation);
        assert_ne!(v1.instance_key, v3.instance_key);
        assert_eq!(v3.client_id, "https://wallet.example/app");
        assert_eq!(v3.wallet_name.as_deref(), Some("Schooltas Wallet"));
        assert!(!format!("{first:?}{attestor:?}").contains("eyJ"));
    }
}
