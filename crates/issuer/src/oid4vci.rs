//! The school's OpenID4VCI endpoints as plain methods over typed messages: a web framework
//! mounts them, tests call them directly.

use std::collections::BTreeMap;

use schooltas_oid4vc::oid4vci::proof::{ProofPolicy, verify_proof};
use schooltas_oid4vc::oid4vci::{
    AuthorizationServerMetadata, AuthorizedCredential, BatchIssuance, CredentialConfiguration,
    CredentialIssuerMetadata, CredentialOffer, CredentialRequest, CredentialResponse, ErrorCode, ErrorResponse,
    IssuedCredential, KeyAttestationsRequired, NonceResponse, ProofTypeSupported, TokenGrant, TokenRequest,
    TokenResponse, TxCode,
};
use serde_json::json;

use crate::error::Error;
use crate::issue::Issuer;
use crate::offers::{self, ClaimsSource, CredentialRequestRefusal, GrantRefusal, OfferPolicy, OfferSecrets};
use crate::store::{IssuerStore, IssuerTx, in_transaction};

/// Where the issuer's endpoints live, relative to its credential issuer URL.
pub const CREDENTIAL_PATH: &str = "/credential";
/// The nonce endpoint's path.
pub const NONCE_PATH: &str = "/nonce";
/// The token endpoint's path.
pub const TOKEN_PATH: &str = "/token";

pub(crate) fn server_error(error: &Error) -> ErrorResponse {
    // Storage failures are the issuer's problem; tell the wallet to try again without details.
    let _ = error;
    ErrorResponse::new(ErrorCode::Other("server_error".into()), "the issuer could not complete the request")
}

/// How the issuer finds a wallet provider's key for a key attestation's header (`x5c`, `kid`):
/// an error refuses the attestation (its message is shown to the wallet).
pub type ProviderKey = dyn Fn(&schooltas_did::jws::Header) -> Result<schooltas_did::VerifyingKey, String> + Send + Sync;

/// What an issuer requires of the keys it binds credentials to (OpenID4VCI 1.0 Appendix D,
/// HAIP 1.0 §4.5.1): attested by a wallet provider it trusts, in a key store (and behind a user
/// authentication) of a level it accepts.
#[derive(Clone)]
pub struct KeyAttestationRequirement {
    /// Accepted `key_storage` levels (one must be attested; empty: any).
    pub key_storage: Vec<String>,
    /// Accepted `user_authentication` levels (one must be attested; empty: any).
    pub user_authentication: Vec<String>,
    provider_key: std::sync::Arc<ProviderKey>,
}

impl KeyAttestationRequirement {
    /// Attestations signed by a key `provider_key` accepts, of any level.
    pub fn new(
        provider_key: impl Fn(&schooltas_did::jws::Header) -> Result<schooltas_did::VerifyingKey, String>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        KeyAttestationRequirement {
            key_storage: Vec::new(),
            user_authentication: Vec::new(),
            provider_key: std::sync::Arc::new(provider_key),
        }
    }

    /// Accepts only these `key_storage` levels (`iso_18045_high`, …).
    pub fn key_storage<T: Into<String>>(mut self, levels: impl IntoIterator<Item = T>) -> Self {
        self.key_storage = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts only these `user_authentication` levels.
    pub fn user_authentication<T: Into<String>>(mut self, levels: impl IntoIterator<Item = T>) -> Self {
        self.user_authentication = levels.into_iter().map(Into::into).collect();
        self
    }

    /// Verifies an attestation against this requirement; its `nonce` must be `nonce`.
    fn verify(
        &self,
        jwt: &str,
        nonce: Option<&str>,
        require_exp: bool,
        now: i64,
    ) -> Result<Vec<schooltas_did::VerifyingKey>, ErrorResponse> {
        use schooltas_oid4vc::oid4vci::key_attestation::{KeyAttestationPolicy, UnverifiedKeyAttestation};
        let parsed = UnverifiedKeyAttestation::parse(jwt).map_err(|e| ErrorResponse::from(&e))?;
        let key = (self.provider_key)(parsed.header()).map_err(|reason| {
            ErrorResponse::new(
                ErrorCode::InvalidProof,
                format!("key attestation: its signer is not a trusted wallet provider: {reason}"),
            )
        })?;
        let mut policy = KeyAttestationPolicy::new()
            .key_storage(self.key_storage.clone())
            .user_authentication(self.user_authentication.clone());
        policy.require_exp = require_exp;
        policy.nonce = nonce.map(str::to_owned);
        Ok(parsed.verify(&key, &policy, now).map_err(|e| ErrorResponse::from(&e))?.attested_keys)
    }
}

impl std::fmt::Debug for KeyAttestationRequirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAttestationRequirement")
            .field("key_storage", &self.key_storage)
            .field("user_authentication", &self.user_authentication)
            .finish_non_exhaustive()
    }
}

impl<S: IssuerStore> Issuer<S> {
    /// The credential issuer metadata (§12.2): endpoints, batch size, display, and one
    /// `dc+sd-jwt` configuration per catalog type with its display data and claims.
    pub fn metadata(&self) -> CredentialIssuerMetadata {
        let base = self.profile().issuer_url();
        let alg = self.profile().keys().signer().algorithm().as_str().to_owned();
        // The EU profile (HAIP 1.0) asks ES256 of every key, the holder's too: a phone's
        // secure element holds P-256 keys. Otherwise EdDSA first, ES256 beside it.
        let proof_algs: Vec<String> = if self.profile().has_https_identity() {
            vec!["ES256".into()]
        } else {
            vec!["EdDSA".into(), "ES256".into()]
        };
        let required = self.key_attestations().map(|requirement| KeyAttestationsRequired {
            key_storage: requirement.key_storage.clone(),
            user_authentication: requirement.user_authentication.clone(),
        });
        let mut proof_types = BTreeMap::from([(
            "jwt".to_owned(),
            ProofTypeSupported {
                proof_signing_alg_values_supported: proof_algs.clone(),
                key_attestations_required: required.clone(),
            },
        )]);
        if required.is_some() {
            // Appendix F.3: one key attestation for a batch of keys, without proofs.
            proof_types.insert(
                "attestation".to_owned(),
                ProofTypeSupported {
                    proof_signing_alg_values_supported: proof_algs,
                    key_attestations_required: required,
                },
            );
        }
        let configurations: BTreeMap<String, CredentialConfiguration> = self
            .catalog()
            .iter()
            .map(|credential_type| {
                let configuration = CredentialConfiguration {
                    format: "dc+sd-jwt".into(),
                    vct: credential_type.vct().as_str().to_owned(),
                    cryptographic_binding_methods_supported: vec!["jwk".into()],
                    credential_signing_alg_values_supported: vec![alg.clone()],
                    proof_types_supported: proof_types.clone(),
                    credential_metadata: Some(credential_type.credential_metadata()),
                    // HAIP 1.0 §4.1: a scope for every configuration; the configuration id
                    // is one (OAuth scope tokens: printable ASCII without space, `"` or `\`).
                    scope: Some(credential_type.id().to_owned()),
                };
                (credential_type.id().to_owned(), configuration)
            })
            .collect();
        CredentialIssuerMetadata {
            credential_issuer: base.to_owned(),
            authorization_servers: Vec::new(),
            credential_endpoint: format!("{base}{CREDENTIAL_PATH}"),
            nonce_endpoint: Some(format!("{base}{NONCE_PATH}")),
            batch_credential_issuance: Some(BatchIssuance {
                batch_size: u32::try_from(self.max_batch()).unwrap_or(u32::MAX),
            }),
            display: vec![
                json!({"name": self.profile().name(), "locale": "nl-NL"}),
                json!({"name": self.profile().name(), "locale": "en-US"}),
            ],
            credential_configurations_supported: configurations,
        }
    }

    /// The OAuth authorization server metadata (RFC 8414) of this issuer, which is its own
    /// authorization server: the token endpoint, anonymous pre-authorized access allowed, and
    /// — when the [authorization code flow](Issuer::with_authorization_code_flow) is on — the
    /// PAR and authorization endpoints, PKCE `S256` and `iss` in responses (HAIP 1.0 §4).
    pub fn authorization_server_metadata(&self) -> AuthorizationServerMetadata {
        let base = self.profile().issuer_url();
        let mut metadata = AuthorizationServerMetadata {
            issuer: base.to_owned(),
            token_endpoint: format!("{base}{TOKEN_PATH}"),
            pre_authorized_grant_anonymous_access_supported: true,
            dpop_signing_alg_values_supported: match self.dpop() {
                Some(_) if self.profile().has_https_identity() => vec!["ES256".into()],
                Some(_) => vec!["ES256".into(), "EdDSA".into()],
                None => Vec::new(),
            },
            token_endpoint_auth_methods_supported: match self.wallet_attestation() {
                Some(_) => vec![schooltas_oid4vc::client_attestation::ATTEST_JWT_CLIENT_AUTH.into()],
                None => Vec::new(),
            },
            client_attestation_signing_alg_values_supported: self.wallet_attestation_algs(),
            client_attestation_pop_signing_alg_values_supported: self.wallet_attestation_algs(),
            ..AuthorizationServerMetadata::default()
        };
        if self.authorization_code_flow().is_some() {
            crate::authorization::advertise(&mut metadata, base);
        }
        metadata
    }

    fn wallet_attestation_algs(&self) -> Vec<String> {
        self.wallet_attestation()
            .map(|requirement| requirement.algorithms.iter().map(|alg| alg.as_str().to_owned()).collect())
            .unwrap_or_default()
    }

    /// Checks a wallet's client authentication (draft-ietf-oauth-attestation-based-client-auth,
    /// HAIP 1.0 §4.4.1): the `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP`
    /// header values of one request, for an issuer [with wallet
    /// attestation](Issuer::with_wallet_attestation). The PoP's `aud` must be this issuer's
    /// identifier (it is its own authorization server), and a PoP is accepted once.
    ///
    /// Refusals are `invalid_client` (RFC 6749 §5.2: answer 401), `use_attestation_challenge`
    /// when the PoP lacks the current challenge (send [`Issuer::attestation_challenge`] in the
    /// `OAuth-Client-Attestation-Challenge` header) or `use_fresh_attestation` for an expired
    /// attestation.
    pub fn check_client_attestation(
        &self,
        attestation: Option<&str>,
        pop: Option<&str>,
        now: i64,
    ) -> Result<schooltas_oid4vc::client_attestation::VerifiedClientAttestation, ErrorResponse> {
        let Some(state) = self.wallet_attestation_state() else {
            return Err(ErrorResponse::new(
                ErrorCode::InvalidClient,
                "this issuer is not configured to accept wallet attestations",
            ));
        };
        let (Some(attestation), Some(pop)) = (attestation, pop) else {
            return Err(ErrorResponse::new(
                ErrorCode::InvalidClient,
                "this issuer requires a wallet attestation: send the OAuth-Client-Attestation and OAuth-Client-Attestation-PoP headers",
            ));
        };
        state
            .check(attestation, pop, self.profile().issuer_url(), now, self.replay_store())
            .map_err(|e| attestation_refusal(&e))
    }

    /// Makes a credential offer of `config_ids` about `subject_ref`: the offer (to show as a QR
    /// code via [`CredentialOffer::to_uri`]) and the PIN to send through another channel.
    pub fn offer(
        &self,
        policy: &OfferPolicy,
        subject_ref: &str,
        config_ids: &[String],
        now: i64,
    ) -> Result<(CredentialOffer, OfferSecrets), Error> {
        let secrets = self.create_offer(policy, subject_ref, config_ids, now)?;
        let tx_code = secrets.pin.as_ref().map(|pin| {
            TxCode::numeric(
                u32::try_from(pin.len()).unwrap_or(u32::MAX),
                format!("De pincode van {} / the PIN from {}", self.profile().name(), self.profile().name()),
            )
        });
        let offer = CredentialOffer::pre_authorized(
            self.profile().issuer_url(),
            config_ids.to_vec(),
            secrets.code.as_str(),
            tx_code,
        );
        Ok((offer, secrets))
    }

    /// The token endpoint (§6): a form-encoded pre-authorized code (or, with the
    /// [authorization code flow](Issuer::with_authorization_code_flow) on, authorization code)
    /// request in, a Bearer token or an OAuth error out.
    pub fn token_endpoint(&self, policy: &OfferPolicy, body: &str, now: i64) -> Result<TokenResponse, ErrorResponse> {
        self.token_endpoint_with_dpop(policy, body, None, now)
    }

    /// The token endpoint with the request's DPoP proof (RFC 9449 §5), for an issuer
    /// [with DPoP](Issuer::with_dpop): a valid proof binds the token to its key (`token_type`
    /// `DPoP`); a missing proof where DPoP is required is `invalid_dpop_proof`, a proof without
    /// the current server nonce `use_dpop_nonce` (send [`Issuer::dpop_nonce`] in the
    /// `DPoP-Nonce` header). The proof is checked before the code is looked at, so a refused
    /// proof costs the family no PIN attempt and no code. An issuer without DPoP ignores it.
    ///
    /// The grant type decides the rest (RFC 6749 §4.1.3, RFC 7636 §4.6): an authorization code
    /// is good once (a second use is `invalid_grant` and revokes the token issued for it),
    /// until it expires, for the client and redirect URI it was issued to, with the PKCE
    /// verifier of its challenge, and — when bound to a DPoP key — with a proof by that key.
    pub fn token_endpoint_with_dpop(
        &self,
        policy: &OfferPolicy,
        body: &str,
        dpop: Option<DpopContext<'_>>,
        now: i64,
    ) -> Result<TokenResponse, ErrorResponse> {
        self.token_endpoint_with(policy, body, dpop, None, now)
    }

    /// [`Issuer::token_endpoint_with_dpop`] with the request's client authentication headers:
    /// for an issuer [with wallet attestation](Issuer::with_wallet_attestation) the pair is
    /// checked ([`Issuer::check_client_attestation`]) before the DPoP proof and the code, so a
    /// refused attestation costs the family no PIN attempt and no code; a `client_id` in the
    /// body must be the attestation's `sub`. An issuer without it ignores `client_auth`.
    pub fn token_endpoint_with(
        &self,
        policy: &OfferPolicy,
        body: &str,
        dpop: Option<DpopContext<'_>>,
        client_auth: Option<ClientAuthHeaders<'_>>,
        now: i64,
    ) -> Result<TokenResponse, ErrorResponse> {
        // Without the authorization code flow, only the pre-authorized grant is known.
        let request = match self.authorization_code_flow() {
            Some(_) => TokenGrant::from_form(body),
            None => TokenRequest::from_form(body).map(TokenGrant::PreAuthorizedCode),
        }
        .map_err(|e| ErrorResponse::from(&e))?;
        if self.wallet_attestation_state().is_some() {
            let headers = client_auth.unwrap_or_default();
            let verified = self.check_client_attestation(headers.attestation, headers.pop, now)?;
            check_client_id(body, &verified.client_id)?;
        }
        let jkt = match (self.dpop_state(), dpop.and_then(|d| d.proof.map(|proof| (proof, d.url)))) {
            (None, _) => None,
            (Some(state), Some((proof, url))) => {
                Some(state.check(proof, "POST", url, None, now, self.replay_store()).map_err(|e| dpop_refusal(&e))?.jkt)
            }
            (Some(state), None) if state.requirement.required => {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidDpopProof,
                    "this issuer binds access tokens to a DPoP key: send a DPoP proof (RFC 9449) with the token request",
                ));
            }
            (Some(_), None) => None,
        };
        let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
        let request = match request {
            TokenGrant::PreAuthorizedCode(request) => request,
            TokenGrant::AuthorizationCode(request) => {
                let (access_token, expires_in, identifiers) =
                    self.redeem_authorization_code(policy, &request, jkt.as_deref(), now)?;
                // OpenID4VCI 1.0 §6.2: a request by authorization_details is answered with them.
                let details = (!identifiers.is_empty()).then(|| {
                    identifiers.into_iter().map(|id| AuthorizedCredential::new(id.clone(), vec![id])).collect()
                });
                return Ok(TokenResponse {
                    access_token: access_token.to_string(),
                    token_type: token_type.into(),
                    expires_in: Some(expires_in),
                    authorization_details: details,
                });
            }
        };
        let redeemed = offers::redeem(
            self.store(),
            policy,
            &request.pre_authorized_code,
            request.tx_code.as_deref(),
            jkt.as_deref(),
            now,
        );
        match redeemed {
            Ok(Ok(grant)) => Ok(TokenResponse {
                access_token: grant.access_token.to_string(),
                token_type: token_type.into(),
                expires_in: Some(grant.expires_in),
                authorization_details: None,
            }),
            Ok(Err(refusal)) => {
                let code = match refusal {
                    GrantRefusal::PinRequired => ErrorCode::InvalidRequest,
                    _ => ErrorCode::InvalidGrant,
                };
                Err(ErrorResponse::new(code, refusal.to_string()))
            }
            Err(error) => Err(server_error(&error)),
        }
    }

    /// The nonce endpoint (§7).
    pub fn nonce_endpoint(&self, policy: &OfferPolicy, now: i64) -> Result<NonceResponse, ErrorResponse> {
        self.new_nonce(policy, now).map(|c_nonce| NonceResponse { c_nonce }).map_err(|e| server_error(&e))
    }

    /// The credential endpoint (§8): checks the Bearer token, the request, every proof (typ,
    /// key, signature, `aud` = this issuer, fresh `iat`) and their one shared nonce (issued
    /// here, unused), fetches the claims from `claims` (the school's administration), and
    /// issues one copy per proof as a batch.
    ///
    /// An access token buys one credential request per configuration it was issued for (that
    /// request may carry a batch of proofs): the token is spent for that configuration, and
    /// the nonce used up, in the transaction that records the credential — so of two requests
    /// with one token, even at the same moment, exactly one gets credentials, and a failure
    /// anywhere (or a crash) leaves the token and nonce as they were. A second request answers
    /// `invalid_token` (RFC 6750 §3.1, as OpenID4VCI 1.0 §8.3.1 has the credential endpoint
    /// answer for an access token that does not allow the credential).
    ///
    /// A token whose response carried `authorization_details` (OpenID4VCI 1.0 §6.2) is used
    /// with `credential_identifier` for those configurations (§8.2); an identifier it was not
    /// given is `unknown_credential_identifier`, and such a configuration asked for by
    /// `credential_configuration_id` is `invalid_credential_request`.
    pub fn credential_endpoint(
        &self,
        access_token: &str,
        body: &str,
        claims: &dyn ClaimsSource,
        now: i64,
    ) -> Result<CredentialResponse, ErrorResponse> {
        self.credential_endpoint_with_dpop(access_token, TokenScheme::Bearer, None, body, claims, now)
    }

    /// The credential endpoint with the request's authorization scheme and DPoP proof
    /// (RFC 9449 §7): a token bound to a DPoP key is taken only as `Authorization: DPoP` with a
    /// proof by that key, for this request (`htm`, `htu`), naming this token (`ath`), carrying
    /// the current nonce when the issuer asks for nonces. A bound token presented as Bearer, or
    /// a Bearer token presented as DPoP, is `invalid_token`. All of it is checked before the
    /// request is read.
    pub fn credential_endpoint_with_dpop(
        &self,
        access_token: &str,
        scheme: TokenScheme,
        dpop: Option<DpopContext<'_>>,
        body: &str,
        claims: &dyn ClaimsSource,
        now: i64,
    ) -> Result<CredentialResponse, ErrorResponse> {
        let token_digest = offers::digest(access_token);
        // The token is checked before anything of the request is looked at (RFC 6750 §3).
        // One read of the token row: known and unexpired, and to which DPoP key it is bound.
        let row = match in_transaction(self.store(), |tx| tx.access_token(&token_digest)) {
            Ok(Some(row)) if now < row.expires_at => row,
            Ok(Some(_)) => return Err(refused(&CredentialRequestRefusal::ExpiredToken)),
            Ok(None) => return Err(refused(&CredentialRequestRefusal::UnknownToken)),
            Err(error) => return Err(server_error(&error)),
        };
        match (&row.dpop_jkt, scheme) {
            (Some(jkt), TokenScheme::Dpop) => {
                let state = self.dpop_state().ok_or_else(|| {
                    ErrorResponse::new(ErrorCode::InvalidToken, "this issuer no longer takes DPoP-bound tokens")
                })?;
                let (proof, url) = dpop.and_then(|d| d.proof.map(|proof| (proof, d.url))).ok_or_else(|| {
                    ErrorResponse::new(ErrorCode::InvalidDpopProof, "a DPoP-bound token needs a DPoP proof header")
                })?;
                let verified = state
                    .check(proof, "POST", url, Some(access_token), now, self.replay_store())
                    .map_err(|e| dpop_refusal(&e))?;
                if !offers::same(&offers::digest(&verified.jkt), &offers::digest(jkt)) {
                    return Err(dpop_refusal(&schooltas_oid4vc::dpop::DpopError::KeyMismatch));
                }
            }
            (Some(_), TokenScheme::Bearer) => {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidToken,
                    "the access token is bound to a DPoP key: present it as Authorization: DPoP with a proof",
                ));
            }
            (None, TokenScheme::Dpop) => {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidToken,
                    "the access token is a Bearer token: present it as Authorization: Bearer",
                ));
            }
            (None, TokenScheme::Bearer) => {}
        }
        let request = CredentialRequest::from_json(body, self.max_batch()).map_err(|e| ErrorResponse::from(&e))?;
        // §8.2: a configuration whose token response entry gave credential identifiers is
        // asked for by identifier (then MUST be used instead of credential_configuration_id).
        let config_id = match (&request.credential_configuration_id, &request.credential_identifier) {
            (_, Some(identifier)) => match row.credential_identifiers.iter().find(|id| *id == identifier) {
                Some(id) => id.as_str(),
                None => {
                    return Err(ErrorResponse::new(
                        ErrorCode::UnknownCredentialIdentifier,
                        "the credential_identifier is not one the token response gave for this access token",
                    ));
                }
            },
            (Some(config_id), None) if row.credential_identifiers.contains(config_id) => {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidCredentialRequest,
                    "the token response gave credential_identifiers for this configuration: send credential_identifier instead of credential_configuration_id (OpenID4VCI 1.0 §8.2)",
                ));
            }
            (Some(config_id), None) => config_id.as_str(),
            (None, None) => {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidCredentialRequest,
                    "the request names neither a credential_configuration_id nor a credential_identifier",
                ));
            }
        };
        let grant = match in_transaction(self.store(), |tx| offers::check_access(tx, &token_digest, config_id, now)) {
            Ok(Ok(grant)) => grant,
            Ok(Err(refusal)) => return Err(refused(&refusal)),
            Err(error) => return Err(server_error(&error)),
        };
        let (holder_keys, nonce) = self.holder_keys(&request, now)?;
        let subject_claims = claims.claims(&grant.subject_ref, config_id).map_err(|e| server_error(&e))?;
        let mut spend = |tx: &mut dyn IssuerTx| offers::spend_access(tx, &token_digest, config_id, &nonce, now);
        match self.issue_batch_within(config_id, &grant.subject_ref, subject_claims, &holder_keys, now, &mut spend) {
            Ok(batch) => Ok(CredentialResponse {
                credentials: batch
                    .into_copies()
                    .into_iter()
                    .map(|credential| IssuedCredential { credential })
                    .collect(),
                transaction_id: None,
                notification_id: None,
            }),
            // Lost a race with another request of the same token, or the nonce was spent meanwhile.
            Err(Error::CredentialRequest(refusal)) => Err(refused(&refusal)),
            Err(Error::DuplicateHolderKey { .. }) => {
                Err(ErrorResponse::new(ErrorCode::InvalidProof, "two proofs are for the same key"))
            }
            Err(Error::Credential(error)) => Err(ErrorResponse::new(
                ErrorCode::CredentialRequestDenied,
                format!("the school's records do not make a valid credential: {error}"),
            )),
            Err(error) => Err(server_error(&error)),
        }
    }
}

impl<S: IssuerStore> Issuer<S> {
    /// The holder keys a credential request proves (or, with the `attestation` proof type,
    /// has attested), and the `c_nonce` they carry: every `jwt` proof verified, one nonce for
    /// all, no key twice, ES256 keys in the EU profile, and each key attested when the issuer
    /// requires key attestations.
    fn holder_keys(
        &self,
        request: &CredentialRequest,
        now: i64,
    ) -> Result<(Vec<schooltas_did::VerifyingKey>, String), ErrorResponse> {
        let policy = ProofPolicy::new(self.profile().issuer_url());
        let invalid = |text: &str| ErrorResponse::new(ErrorCode::InvalidProof, text);
        let proofs = request.proofs.as_ref();
        let mut holder_keys: Vec<schooltas_did::VerifyingKey> = Vec::new();
        let mut nonce: Option<String> = None;
        if let Some(attestation) = proofs.and_then(|p| p.attestation.first()) {
            // Appendix F.3: no proof of possession; the attestation's nonce is the c_nonce.
            let requirement = self
                .key_attestations()
                .ok_or_else(|| invalid("this issuer does not take the attestation proof type: send jwt proofs"))?;
            let claimed_nonce = attestation_nonce(attestation);
            if claimed_nonce.is_none() {
                return Err(invalid("key attestation: it carries no nonce; put this issuer's c_nonce in it"));
            }
            holder_keys = requirement.verify(attestation, claimed_nonce.as_deref(), false, now)?;
            if holder_keys.len() > self.max_batch() {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidCredentialRequest,
                    format!(
                        "the key attestation attests {} keys; at most {} per request",
                        holder_keys.len(),
                        self.max_batch()
                    ),
                ));
            }
            nonce = claimed_nonce;
        }
        for jwt in proofs.map(|p| p.jwt.as_slice()).unwrap_or_default() {
            let proof = verify_proof(jwt, &policy, now).map_err(|e| ErrorResponse::from(&e))?;
            if let Some(requirement) = self.key_attestations() {
                let attestation = proof.key_attestation.as_deref().ok_or_else(|| {
                    invalid("this issuer requires a key attestation in each proof's key_attestation header")
                })?;
                // verify_proof checked the proof's key is one of the (then unverified) attested keys.
                requirement.verify(attestation, proof.nonce.as_deref(), true, now)?;
            }
            match (&nonce, proof.nonce) {
                (None, found) => nonce = found,
                (Some(first), Some(found)) if *first == found => {}
                _ => return Err(ErrorResponse::new(ErrorCode::InvalidNonce, "the proofs carry different nonces")),
            }
            if holder_keys.contains(&proof.holder_key) {
                return Err(invalid("two proofs are for the same key"));
            }
            holder_keys.push(proof.holder_key);
        }
        if self.profile().has_https_identity()
            && holder_keys.iter().any(|key| key.algorithm() != schooltas_did::Algorithm::Es256)
        {
            return Err(invalid("this issuer takes ES256 (P-256) holder keys only, as its metadata says"));
        }
        let mut seen = std::collections::BTreeSet::new();
        if !holder_keys.iter().all(|key| seen.insert(key.to_compressed_bytes())) {
            return Err(invalid("two proofs are for the same key"));
        }
        Ok((holder_keys, nonce.unwrap_or_default()))
    }
}

/// The `nonce` of a key attestation that [`UnverifiedKeyAttestation::parse`] accepted.
///
/// [`UnverifiedKeyAttestation::parse`]: schooltas_oid4vc::oid4vci::key_attestation::UnverifiedKeyAttestation::parse
fn attestation_nonce(jwt: &str) -> Option<String> {
    let jws = schooltas_did::jws::CompactJws::parse(jwt).ok()?;
    let payload = jws.dangerous_unverified_payload().ok()?;
    let value = schooltas_did::strict_json::to_value(&payload).ok()?;
    value.get("nonce").and_then(serde_json::Value::as_str).map(str::to_owned)
}

/// The OAuth error for a refused token or nonce.
/// How the wallet presented its access token (`Authorization: Bearer` or `Authorization:
/// DPoP`, RFC 9449 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenScheme {
    /// `Authorization: Bearer <token>` (RFC 6750).
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof header (RFC 9449).
    Dpop,
}

/// The DPoP proof of a request and the URL the request was sent to (the issuer's own public
/// URL of the endpoint, not what a proxy saw).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpopContext<'a> {
    /// The `DPoP` header's value, if the request had exactly one.
    pub proof: Option<&'a str>,
    /// The endpoint's URL (`htu` is compared with it).
    pub url: &'a str,
}

/// The client authentication headers of a token request (draft-ietf-oauth-attestation-based-client-auth):
/// each the value of the request's one `OAuth-Client-Attestation` / `OAuth-Client-Attestation-PoP`
/// header, if it had exactly one (a header given twice is the web layer's `invalid_request`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAuthHeaders<'a> {
    /// The `OAuth-Client-Attestation` header's value.
    pub attestation: Option<&'a str>,
    /// The `OAuth-Client-Attestation-PoP` header's value.
    pub pop: Option<&'a str>,
}

/// RFC 6749 §2.3 with the draft's §"Client Attestation as an OAuth Client Authentication": a
/// `client_id` in the token request must be the attestation's `sub`.
fn check_client_id(body: &str, client_id: &str) -> Result<(), ErrorResponse> {
    let pairs = schooltas_oid4vc::form::decode(body)
        .map_err(|_| ErrorResponse::new(ErrorCode::InvalidRequest, "the token request is not a valid form"))?;
    if pairs.iter().any(|(name, value)| name == "client_id" && value != client_id) {
        return Err(attestation_refusal(
            &schooltas_oid4vc::client_attestation::ClientAttestationError::ClientIdMismatch,
        ));
    }
    Ok(())
}

pub(crate) fn attestation_refusal(
    error: &schooltas_oid4vc::client_attestation::ClientAttestationError,
) -> ErrorResponse {
    let code = match error.error_code() {
        "invalid_client" => ErrorCode::InvalidClient,
        other => ErrorCode::Other(other.to_owned()),
    };
    ErrorResponse::new(code, error.to_string())
}

pub(crate) fn dpop_refusal(error: &schooltas_oid4vc::dpop::DpopError) -> ErrorResponse {
    use schooltas_oid4vc::dpop::DpopError;
    let code = match error {
        DpopError::UseNonce => ErrorCode::UseDpopNonce,
        DpopError::KeyMismatch => ErrorCode::InvalidToken,
        _ => ErrorCode::InvalidDpopProof,
    };
    ErrorResponse::new(code, error.to_string())
}

fn refused(refusal: &CredentialRequestRefusal) -> ErrorResponse {
    let code = match refusal {
        CredentialRequestRefusal::NotOffered { .. } => ErrorCode::UnknownCredentialConfiguration,
        CredentialRequestRefusal::InvalidNonce => ErrorCode::InvalidNonce,
        // RFC 6750 §3.1 `invalid_token`: unknown, expired, or spent ("revoked") for this request.
        _ => ErrorCode::InvalidToken,
    };
    ErrorResponse::new(code, refusal.to_string())
}
