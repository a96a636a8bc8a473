//! Receiving credentials: the wallet side of the OpenID4VCI 1.0 pre-authorized code flow.
//!
//! The wallet takes an offer (URI or value) and the PIN, fetches the issuer's metadata, gets a
//! token, makes a fresh key per copy and proves possession of each, and checks every
//! credential before it stores anything: the issuer's signature (with the key the caller
//! trusts for that issuer), the binding to the key it proved, a type the catalog knows, and a
//! VALID status. Credentials, their keys and the log entry are stored in one transaction.

use schooltas_did::jws::Header;
use schooltas_did::{Algorithm, Signer, SigningKey, VerifyingKey};
use schooltas_oid4vc::dpop::sign_dpop_proof;
use schooltas_oid4vc::oid4vci::proof::{sign_proof, sign_proof_with_key_attestation};
use schooltas_oid4vc::oid4vci::{
    AuthorizationServerMetadata, AuthorizedCredential, CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri,
    CredentialRequest, CredentialResponse, ErrorCode, ErrorResponse, NonceResponse, TokenRequest, TokenResponse,
};
use schooltas_school::catalog::Catalog;
use schooltas_sd_jwt::{UnverifiedSdJwt, Vct, VerifyOptions};
use schooltas_status_list::StatusListCache;
use zeroize::Zeroizing;

use crate::copies::{self, child_link};
pub use crate::copies::{CREDENTIAL_KIND, StoredCredential, stored_credentials};
use crate::error::{Error, Result};
use crate::ids::random_id;
use crate::keys::{BoxedSigner, HolderKey, HolderKeys, SoftwareHolderKeys, signer_for};
use crate::log::{self, LogEvent};
use crate::vault::Vault;
use crate::wallet_attestation::{ClientAuth, USE_ATTESTATION_CHALLENGE, WalletAttestor};

/// The algorithm of the holder keys for a configuration: the first of the issuer's
/// `proof_signing_alg_values_supported` that the key store makes (an EU-profile issuer lists
/// only ES256, so the keys are P-256, as a phone's secure element holds them); the store's
/// preferred algorithm when the issuer lists none (EdDSA for software keys). Refused with
/// [`Error::NoHolderKeyAlgorithm`] when the two have none in common.
fn holder_key_algorithm(
    configuration: &schooltas_oid4vc::oid4vci::CredentialConfiguration,
    store: &dyn HolderKeys,
) -> Result<Algorithm> {
    let supported = store.algorithms();
    let offered: &[String] = configuration
        .proof_types_supported
        .get("jwt")
        .map_or(&[], |jwt| jwt.proof_signing_alg_values_supported.as_slice());
    let chosen = if offered.is_empty() {
        supported.first().copied()
    } else {
        offered.iter().filter_map(|alg| Algorithm::from_jws_alg(alg).ok()).find(|alg| supported.contains(alg))
    };
    chosen.ok_or_else(|| Error::NoHolderKeyAlgorithm {
        offered: offered.to_vec(),
        supported: supported.iter().map(|alg| alg.as_str().to_owned()).collect(),
    })
}

/// What an endpoint answered: a body, or the spec's error response.
pub type Answer = std::result::Result<String, ErrorResponse>;

/// How the wallet reaches an issuer (HTTPS in an app; a direct call in tests and examples).
pub trait IssuerConnection {
    /// The credential issuer metadata (`/.well-known/openid-credential-issuer`).
    fn issuer_metadata(&self, credential_issuer: &str) -> Result<String>;
    /// The authorization server metadata (`/.well-known/oauth-authorization-server`).
    fn authorization_server_metadata(&self, authorization_server: &str) -> Result<String>;
    /// An offer by reference.
    fn offer(&self, offer_uri: &str) -> Result<String>;
    /// POST a form to the token endpoint.
    fn token(&self, token_endpoint: &str, form: &str) -> Result<Answer>;
    /// POST to the nonce endpoint.
    fn nonce(&self, nonce_endpoint: &str) -> Result<Answer>;
    /// POST a credential request with the Bearer token.
    fn credential(&self, credential_endpoint: &str, access_token: &str, body: &str) -> Result<Answer>;
    /// POST a form to the token endpoint with a `DPoP` proof header (RFC 9449 §5); the answer
    /// and the server's `DPoP-Nonce`. A connection that cannot send headers refuses.
    fn token_with_dpop(&self, token_endpoint: &str, form: &str, proof: &str) -> Result<DpopAnswer> {
        let _ = (token_endpoint, form, proof);
        Err(Error::InvalidInput {
            reason: "the issuer binds tokens to DPoP keys and this connection cannot send DPoP proofs".into(),
        })
    }
    /// POST a form to the token endpoint with the wallet's client authentication headers
    /// (`OAuth-Client-Attestation`, `OAuth-Client-Attestation-PoP`) and, when the server binds
    /// tokens, a `DPoP` proof; the answer and the server's `DPoP-Nonce`. A connection that
    /// cannot send headers refuses.
    fn token_with_client_auth(
        &self,
        token_endpoint: &str,
        form: &str,
        dpop_proof: Option<&str>,
        client_auth: &ClientAuth,
    ) -> Result<DpopAnswer> {
        let _ = (token_endpoint, form, dpop_proof, client_auth);
        Err(Error::InvalidInput {
            reason: "the wallet attests itself to issuers and this connection cannot send the OAuth-Client-Attestation headers"
                .into(),
        })
    }
    /// POST a pushed authorization request (RFC 9126 §2.1, a form) to the PAR endpoint. A
    /// connection that cannot reach one refuses.
    fn push_authorization_request(&self, par_endpoint: &str, form: &str) -> Result<Answer> {
        let _ = (par_endpoint, form);
        Err(Error::InvalidInput {
            reason: "this connection cannot send pushed authorization requests (the authorization code flow)".into(),
        })
    }
    /// POST a pushed authorization request with a `DPoP` proof header (RFC 9449 §10); the
    /// answer and the server's `DPoP-Nonce`.
    fn push_authorization_request_with_dpop(&self, par_endpoint: &str, form: &str, proof: &str) -> Result<DpopAnswer> {
        let _ = (par_endpoint, form, proof);
        Err(Error::InvalidInput {
            reason: "the issuer binds codes to DPoP keys and this connection cannot send DPoP proofs".into(),
        })
    }
    /// POST a pushed authorization request with the wallet's client authentication headers
    /// (HAIP 1.0 §4.3: the wallet authenticates at PAR as at the token endpoint) and, when the
    /// server binds codes, a `DPoP` proof; the answer, the server's `DPoP-Nonce` and
    /// attestation challenge. A connection that cannot send headers refuses.
    fn push_authorization_request_with_client_auth(
        &self,
        par_endpoint: &str,
        form: &str,
        dpop_proof: Option<&str>,
        client_auth: &ClientAuth,
    ) -> Result<DpopAnswer> {
        let _ = (par_endpoint, form, dpop_proof, client_auth);
        Err(Error::InvalidInput {
            reason: "the wallet attests itself to issuers and this connection cannot send the OAuth-Client-Attestation headers with a pushed authorization request"
                .into(),
        })
    }
    /// POST a credential request with `Authorization: DPoP <token>` and a `DPoP` proof header
    /// (RFC 9449 §7); the answer and the server's `DPoP-Nonce`.
    fn credential_with_dpop(
        &self,
        credential_endpoint: &str,
        access_token: &str,
        body: &str,
        proof: &str,
    ) -> Result<DpopAnswer> {
        let _ = (credential_endpoint, access_token, body, proof);
        Err(Error::InvalidInput {
            reason: "the issuer binds tokens to DPoP keys and this connection cannot send DPoP proofs".into(),
        })
    }
}

/// An answer to a request with a DPoP proof, and the `DPoP-Nonce` the server sent with it.
#[derive(Debug)]
pub struct DpopAnswer {
    /// The answer.
    pub answer: Answer,
    /// The server's nonce for the next proof (RFC 9449 §8), if it sent one.
    pub dpop_nonce: Option<String>,
    /// The server's challenge for the next client attestation PoP
    /// (`OAuth-Client-Attestation-Challenge`), if it sent one.
    pub attestation_challenge: Option<String>,
}

/// What the wallet needs to receive.
pub struct Receiver<'a> {
    /// Where the wallet stores.
    pub vault: &'a Vault,
    /// How it reaches issuers.
    pub connection: &'a dyn IssuerConnection,
    /// The credential types it accepts.
    pub catalog: &'a Catalog,
    /// The key of a trusted issuer for a credential's header and `iss` (from a trust list or
    /// DID resolution); an error refuses the credential.
    pub issuer_key: IssuerKey<'a>,
    /// Status lookups.
    pub status: &'a StatusListCache,
    /// Copies per credential (batch issuance; capped by the issuer's batch size).
    pub copies: usize,
    /// Who attests the holder keys to an issuer that requires key attestations (OpenID4VCI
    /// 1.0 Appendix D): the wallet provider's service, vouching for the key store the keys
    /// live in. `None`: such issuers are refused with a message saying why.
    pub key_attestor: Option<&'a dyn KeyAttestor>,
    /// Who attests this wallet to authorization servers (OpenID4VCI 1.0 Appendix E, HAIP 1.0
    /// §4.4.1): when set, every token request carries the `OAuth-Client-Attestation` and
    /// `OAuth-Client-Attestation-PoP` headers, with a fresh PoP for the server. `None`: an
    /// issuer that requires wallet attestation refuses the token request (`invalid_client`).
    pub wallet_attestor: Option<&'a dyn WalletAttestor>,
    /// Where the holder keys are made ([`crate::Wallet::holder_keys`]: a phone's secure element
    /// through the app); `None`: software keys sealed in each copy ([`SoftwareHolderKeys`]).
    pub holder_keys: Option<&'a dyn HolderKeys>,
}

/// A wallet provider's key attestation service (OpenID4VCI 1.0 Appendix D, HAIP 1.0 §4.5.1):
/// it returns a `key-attestation+jwt` attesting `keys`, carrying the issuer's `c_nonce`, with
/// an `exp` — one attestation for a whole batch.
pub trait KeyAttestor {
    /// Attests `keys` for an issuer whose `c_nonce` is `nonce`.
    fn attest(&self, keys: &[VerifyingKey], nonce: &str, now: i64) -> Result<String>;
}

pub(crate) fn issuer_refused(error: ErrorResponse) -> Error {
    Error::IssuerRefused { error: error.error.as_str().to_owned(), description: error.error_description }
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<T> {
    schooltas_did::strict_json::from_str_or(json, |_| Error::InvalidInput {
        reason: format!("the issuer's {what} is not valid JSON"),
    })
}

/// The DPoP key of one issuance and the server's latest nonce (RFC 9449).
pub(crate) struct Dpop {
    pub(crate) key: SigningKey,
    pub(crate) nonce: Option<String>,
}

impl Dpop {
    /// A fresh key when the authorization server takes DPoP proofs: ES256 where it is listed,
    /// else EdDSA; `None` when the server lists no DPoP algorithm (Bearer tokens), an error
    /// when it lists only ones this wallet does not make.
    pub(crate) fn for_server(metadata: &AuthorizationServerMetadata) -> Result<Option<Self>> {
        let algs = &metadata.dpop_signing_alg_values_supported;
        if algs.is_empty() {
            return Ok(None);
        }
        let algorithm = if algs.iter().any(|a| a == "ES256") {
            Algorithm::Es256
        } else if algs.iter().any(|a| a == "EdDSA") {
            Algorithm::EdDsa
        } else {
            return Err(Error::InvalidInput {
                reason: "the issuer's DPoP algorithms are neither ES256 nor EdDSA".into(),
            });
        };
        Ok(Some(Dpop { key: SigningKey::generate(algorithm)?, nonce: None }))
    }

    /// Sends a request with a fresh proof for `url` (naming `access_token` when given); on
    /// `use_dpop_nonce` once more with the nonce the server sent. Keeps the newest nonce.
    pub(crate) fn send(
        &mut self,
        now: i64,
        url: &str,
        access_token: Option<&str>,
        mut request: impl FnMut(&str) -> Result<DpopAnswer>,
    ) -> Result<Answer> {
        let mut retried = false;
        loop {
            let proof = sign_dpop_proof(&self.key, "POST", url, access_token, self.nonce.as_deref(), now)?;
            let DpopAnswer { answer, dpop_nonce, .. } = request(&proof)?;
            let fresh = dpop_nonce.is_some() && dpop_nonce != self.nonce;
            if dpop_nonce.is_some() {
                self.nonce = dpop_nonce;
            }
            match answer {
                Err(refused) if refused.error == ErrorCode::UseDpopNonce && fresh && !retried => retried = true,
                answer => return Ok(answer),
            }
        }
    }
}

/// Appendix E: with a wallet attestor, each attempt carries the attestation and a fresh PoP for
/// the server `authorization_server` (a retried PoP would be a replay). Draft §"Challenges": a
/// server that wants its challenge in the PoP answers `use_attestation_challenge` with one; the
/// wallet retries once with it, and keeps it in `challenge`.
pub(crate) fn attested_send(
    attestor: &dyn WalletAttestor,
    authorization_server: &str,
    challenge: &mut Option<String>,
    now: i64,
    mut send: impl FnMut(&ClientAuth) -> Result<DpopAnswer>,
) -> Result<DpopAnswer> {
    let mut retried = false;
    loop {
        let client_auth = match challenge.as_deref() {
            Some(challenge) => attestor.attest_with_challenge(authorization_server, challenge, now)?,
            None => attestor.attest(authorization_server, now)?,
        };
        let answer = send(&client_auth)?;
        if answer.attestation_challenge.is_some() {
            challenge.clone_from(&answer.attestation_challenge);
        }
        match &answer.answer {
            Err(refused)
                if refused.error.as_str() == USE_ATTESTATION_CHALLENGE
                    && answer.attestation_challenge.is_some()
                    && !retried =>
            {
                retried = true;
            }
            _ => return Ok(answer),
        }
    }
}

impl Receiver<'_> {
    /// Receives every credential of an offer, returning the stored copies' summaries.
    pub fn receive(&self, offer_uri: &str, pin: Option<&str>, now: i64) -> Result<Vec<(String, String, usize)>> {
        let offer = match CredentialOfferUri::parse(offer_uri)? {
            CredentialOfferUri::ByValue(offer) => offer,
            CredentialOfferUri::ByReference(location) => {
                CredentialOffer::from_json(&self.connection.offer(&location)?)?
            }
        };
        let metadata =
            CredentialIssuerMetadata::from_json(&self.connection.issuer_metadata(&offer.credential_issuer)?)?;
        metadata.check_issuer(&offer.credential_issuer)?;
        let server = metadata.authorization_servers.first().cloned().unwrap_or_else(|| offer.credential_issuer.clone());
        let server_metadata: AuthorizationServerMetadata =
            parse("authorization server metadata", &self.connection.authorization_server_metadata(&server)?)?;
        let grant = offer.pre_authorized_grant().ok_or_else(|| Error::InvalidInput {
            reason: "the offer has no pre-authorized code: start the authorization code flow (Receiver::start_authorization)".into(),
        })?;
        if grant.tx_code.is_some() && pin.is_none() {
            return Err(Error::InvalidInput { reason: "this offer needs the PIN the school sent separately".into() });
        }
        let request =
            TokenRequest { pre_authorized_code: grant.pre_authorized_code.clone(), tx_code: pin.map(str::to_owned) };
        // RFC 9449: an authorization server that lists DPoP algorithms binds tokens to a key of
        // this issuance (ES256 where offered: a phone's secure element holds P-256 keys).
        let dpop = Dpop::for_server(&server_metadata)?;
        // A pre-authorized token response names configurations, never identifiers.
        let (access_token, dpop, _) = self.token(&server_metadata, &request.to_form(), dpop, now)?;
        self.fetch_and_store(
            &metadata,
            &offer.credential_issuer,
            &offer.credential_configuration_ids,
            &[],
            &access_token,
            dpop,
            now,
        )
    }

    /// Sends a token request (`form`, of either grant) to the server's token endpoint, with a
    /// DPoP proof when `dpop` is given; the access token, and the DPoP key when the token is
    /// bound to it.
    pub(crate) fn token(
        &self,
        server_metadata: &AuthorizationServerMetadata,
        form: &str,
        mut dpop: Option<Dpop>,
        now: i64,
    ) -> Result<(Zeroizing<String>, Option<Dpop>, Vec<AuthorizedCredential>)> {
        let endpoint = &server_metadata.token_endpoint;
        let mut challenge: Option<String> = None;
        let mut attested = |proof: Option<&str>, attestor: &dyn WalletAttestor| -> Result<DpopAnswer> {
            attested_send(attestor, &server_metadata.issuer, &mut challenge, now, |client_auth| {
                self.connection.token_with_client_auth(endpoint, form, proof, client_auth)
            })
        };
        let token_json = match (&mut dpop, self.wallet_attestor) {
            (Some(dpop), Some(attestor)) => dpop.send(now, endpoint, None, |proof| attested(Some(proof), attestor))?,
            (Some(dpop), None) => {
                dpop.send(now, endpoint, None, |proof| self.connection.token_with_dpop(endpoint, form, proof))?
            }
            (None, Some(attestor)) => attested(None, attestor)?.answer,
            (None, None) => self.connection.token(endpoint, form)?,
        }
        .map_err(issuer_refused)?;
        let token = TokenResponse::from_json(&token_json)?;
        let access_token = Zeroizing::new(token.access_token.clone());
        // RFC 9449 §5: a client that sent a proof gets a DPoP token, or refuses the answer.
        let dpop = match dpop {
            Some(dpop) if token.token_type.eq_ignore_ascii_case("DPoP") => Some(dpop),
            Some(_) => {
                return Err(Error::InvalidInput {
                    reason: "the issuer lists DPoP but issued a Bearer token; refusing an unbound token".into(),
                });
            }
            None => None,
        };
        Ok((access_token, dpop, token.authorization_details.unwrap_or_default()))
    }

    /// With an access token for `config_ids`: for each, a nonce, fresh holder keys and their
    /// proofs, the credential request, and the checks of every copy; then all of them stored
    /// and logged in one transaction. Returns `(configuration id, vct, copies)` per
    /// configuration. A configuration the token response named in `authorization_details` is
    /// asked for by its (first) `credential_identifier` (OpenID4VCI 1.0 §8.2: then it MUST be).
    #[allow(clippy::too_many_arguments)] // the token's parts and where they go, each once
    pub(crate) fn fetch_and_store(
        &self,
        metadata: &CredentialIssuerMetadata,
        credential_issuer: &str,
        config_ids: &[String],
        authorized: &[AuthorizedCredential],
        access_token: &str,
        dpop: Option<Dpop>,
        now: i64,
    ) -> Result<Vec<(String, String, usize)>> {
        let mut dpop = dpop;
        let batch_size = metadata.batch_credential_issuance.map_or(1, |b| b.batch_size as usize);
        let copies = self.copies.clamp(1, batch_size.max(1));

        let mut received: Vec<StoredCredential> = Vec::new();
        for config_id in config_ids {
            let configuration = metadata.credential_configurations_supported.get(config_id).ok_or_else(|| {
                Error::InvalidInput { reason: format!("the issuer's metadata does not describe {config_id}") }
            })?;
            let nonce_endpoint = metadata
                .nonce_endpoint
                .as_deref()
                .ok_or_else(|| Error::InvalidInput { reason: "the issuer has no nonce endpoint".into() })?;
            let nonce: NonceResponse =
                parse("nonce response", &self.connection.nonce(nonce_endpoint)?.map_err(issuer_refused)?)?;
            let store = self.holder_keys.unwrap_or(&SoftwareHolderKeys);
            let algorithm = holder_key_algorithm(configuration, store)?;
            let keys: Vec<HolderKey> = (0..copies).map(|_| store.generate(algorithm)).collect::<Result<_>>()?;
            let signers: Vec<BoxedSigner> = keys.iter().map(|key| signer_for(store, key)).collect::<Result<_>>()?;
            if signers.iter().any(|signer| signer.algorithm() != algorithm) {
                return Err(Error::HolderKeyUnavailable {
                    reason: format!("the key store made a key of another algorithm than the {algorithm:?} asked for"),
                });
            }
            let attestation_required = configuration
                .proof_types_supported
                .get("jwt")
                .is_some_and(|jwt| jwt.key_attestations_required.is_some());
            let proofs = if attestation_required {
                // One attestation of the whole batch, in each proof's header (HAIP 1.0 §4.5.1).
                let attestor = self.key_attestor.ok_or_else(|| Error::InvalidInput {
                    reason:
                        "the issuer requires key attestations, and this wallet has no wallet provider to attest its \
                             keys"
                            .into(),
                })?;
                let public: Vec<VerifyingKey> = signers.iter().map(|key| key.verifying_key().clone()).collect();
                let attestation = attestor.attest(&public, &nonce.c_nonce, now)?;
                signers
                    .iter()
                    .map(|key| {
                        sign_proof_with_key_attestation(key, credential_issuer, Some(&nonce.c_nonce), now, &attestation)
                    })
                    .collect::<schooltas_oid4vc::Result<Vec<_>>>()?
            } else {
                signers
                    .iter()
                    .map(|key| sign_proof(key, credential_issuer, Some(&nonce.c_nonce), now, None))
                    .collect::<schooltas_oid4vc::Result<Vec<_>>>()?
            };
            let mut request = CredentialRequest::new(config_id.clone(), proofs);
            if let Some(identifier) = authorized
                .iter()
                .find(|detail| detail.credential_configuration_id == *config_id)
                .and_then(|detail| detail.credential_identifiers.first())
            {
                request.credential_configuration_id = None;
                request.credential_identifier = Some(identifier.clone());
            }
            let body = request.to_json();
            let answer = match &mut dpop {
                Some(dpop) => dpop.send(now, &metadata.credential_endpoint, Some(access_token), |proof| {
                    self.connection.credential_with_dpop(&metadata.credential_endpoint, access_token, &body, proof)
                })?,
                None => self.connection.credential(&metadata.credential_endpoint, access_token, &body)?,
            };
            let response = CredentialResponse::from_json(&answer.map_err(issuer_refused)?)?;
            if response.credentials.len() != keys.len() {
                return Err(Error::InvalidInput {
                    reason: format!("asked for {} copies, the issuer sent {}", keys.len(), response.credentials.len()),
                });
            }
            let batch = random_id();
            for (batch_index, ((key, signer), issued)) in
                keys.into_iter().zip(&signers).zip(&response.credentials).enumerate()
            {
                let (issuer, vct, claims) =
                    self.check(&issued.credential, signer.verifying_key(), &configuration.vct, now)?;
                received.push(StoredCredential {
                    id: random_id(),
                    batch: batch.clone(),
                    config_id: config_id.clone(),
                    vct,
                    issuer,
                    sd_jwt: issued.credential.clone(),
                    holder_key: key,
                    received_at: now,
                    used: false,
                    batch_index: u32::try_from(batch_index).unwrap_or(u32::MAX),
                    claims,
                    authority_key_ids: crate::x5c::authority_key_ids(&issued.credential),
                });
            }
        }
        // A copy whose one-time child link another credential already spent (the school
        // re-issued within the same school year) would link this presentation to that one:
        // it is stored as used, so it goes out only when nothing unused is left. The links'
        // records in the index say so without decrypting any copy.
        let links: Vec<&str> = received.iter().filter_map(|credential| child_link(&credential.claims)).collect();
        let carried = copies::read_current(self.vault, |tx| copies::carrying(tx, links.iter().copied()))?;
        let consumed: std::collections::HashSet<String> =
            carried.into_iter().filter(|(_, copies)| copies.values().any(|used| *used)).map(|(link, _)| link).collect();
        for credential in &mut received {
            if child_link(&credential.claims).is_some_and(|link| consumed.contains(link)) {
                credential.used = true;
            }
        }
        // Store everything, index it and log it, in one transaction.
        self.vault.transaction(|tx| {
            copies::store(tx, &received)?;
            let mut batches: Vec<(&str, &str, &str, u32)> = Vec::new();
            for credential in &received {
                match batches.iter_mut().find(|(batch, ..)| *batch == credential.batch) {
                    Some(entry) => entry.3 += 1,
                    None => batches.push((&credential.batch, &credential.issuer, &credential.vct, 1)),
                }
            }
            for (_, issuer, vct, copies) in &batches {
                log::append(
                    tx,
                    now,
                    LogEvent::CredentialReceived {
                        issuer: (*issuer).to_owned(),
                        vct: (*vct).to_owned(),
                        copies: *copies,
                    },
                )?;
            }
            Ok(())
        })?;
        let mut summary: Vec<(String, String, usize)> = Vec::new();
        for credential in &received {
            match summary.iter_mut().find(|(config, ..)| *config == credential.config_id) {
                Some(entry) => entry.2 += 1,
                None => summary.push((credential.config_id.clone(), credential.vct.clone(), 1)),
            }
        }
        Ok(summary)
    }

    /// Checks one received credential; returns its issuer, vct and processed claims.
    fn check(
        &self,
        sd_jwt: &str,
        key: &VerifyingKey,
        expected_vct: &str,
        now: i64,
    ) -> Result<(String, String, serde_json::Value)> {
        check_credential(sd_jwt, key, Some(expected_vct), self.catalog, self.issuer_key, self.status, now)
    }
}

/// A credential's issuer key: from a trust list or DID resolution; an error refuses the credential.
/// Any `Fn(&Header, Option<&str>) -> schooltas_sd_jwt::Result<VerifyingKey>` is one; so is
/// [`TrustedIssuers`], which also checks a status list token's own `x5c`.
pub type IssuerKey<'a> = &'a dyn IssuerTrust;

/// How a wallet trusts the issuer of a credential it receives, and the signer of the status
/// list token the credential points at.
pub trait IssuerTrust {
    /// The key of the issuer named `iss` of a credential with `header`; an error refuses it.
    fn issuer_key(&self, header: &Header, iss: Option<&str>) -> schooltas_sd_jwt::Result<VerifyingKey>;

    /// The key the status list token with `header` must verify with at `now`, for a
    /// credential of `credential_iss` whose signature verified with `credential_key`.
    ///
    /// The default (what a bare closure gives) knows no X.509 trust anchors: a token without
    /// `x5c` must verify with `credential_key`, and one with `x5c` is refused
    /// ([`schooltas_status_list::StatusSignerRefusal::DidIssuerWithX5c`] for a DID issuer,
    /// [`schooltas_status_list::StatusSignerRefusal::NoTrustAnchors`] otherwise) — fail closed;
    /// [`TrustedIssuers`] validates the chain to the trust list's anchors.
    fn status_list_key(
        &self,
        header: &Header,
        credential_iss: &str,
        credential_key: &VerifyingKey,
        now: i64,
    ) -> schooltas_status_list::Result<VerifyingKey> {
        schooltas_status_list::status_list_signer_key(header, credential_iss, credential_key, Vec::new, now)
    }
}

impl<F> IssuerTrust for F
where
    F: Fn(&Header, Option<&str>) -> schooltas_sd_jwt::Result<VerifyingKey>,
{
    fn issuer_key(&self, header: &Header, iss: Option<&str>) -> schooltas_sd_jwt::Result<VerifyingKey> {
        self(header, iss)
    }
}

/// The issuers `trust_list` vouches for at `now` ([`trusted_issuer_key`]).
#[derive(Clone, Copy)]
pub struct TrustedIssuers<'a> {
    trust_list: &'a schooltas_school::trust_list::VerifiedTrustList,
    resolver: &'a schooltas_did::Resolver,
    now: i64,
}

impl std::fmt::Debug for TrustedIssuers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedIssuers").field("now", &self.now).finish_non_exhaustive()
    }
}

impl IssuerTrust for TrustedIssuers<'_> {
    fn issuer_key(&self, header: &Header, iss: Option<&str>) -> schooltas_sd_jwt::Result<VerifyingKey> {
        crate::chains::issuer_key(header, iss, self.trust_list, self.resolver, self.now)
    }

    /// [`schooltas_status_list::status_list_signer_key`] with the trust list's X.509 anchors:
    /// without `x5c` the credential's key; with `x5c` a chain to the anchors whose leaf names
    /// `credential_iss` and, for another key, carries the status list signing EKU.
    fn status_list_key(
        &self,
        header: &Header,
        credential_iss: &str,
        credential_key: &VerifyingKey,
        now: i64,
    ) -> schooltas_status_list::Result<VerifyingKey> {
        let anchors = || self.trust_list.at(now).map(|current| current.x509_trust_anchors()).unwrap_or_default();
        schooltas_status_list::status_list_signer_key(header, credential_iss, credential_key, anchors, now)
    }
}

/// The issuer key of a received credential as `trust_list` vouches for it at `now`, for
/// [`Receiver::issuer_key`]: the issuer must be listed; a DID issuer's key is resolved with
/// `resolver` (a credential that carries an `x5c` chain beside a DID is refused); an issuer
/// named by an `https` identifier (HAIP 1.0) is trusted through its `x5c` chain, validated to
/// the trust list's X.509 anchors, whose leaf names that identifier. Every refusal is a
/// [`schooltas_sd_jwt::Error::IssuerKey`] naming the rule. A status list token with its own
/// `x5c` is validated the same way ([`IssuerTrust::status_list_key`]); a refusal there is
/// [`schooltas_status_list::Error::UntrustedStatusSigner`].
///
/// Only that the issuer is listed is checked here; its accreditation for the credential's type
/// is checked by whoever the credential is presented to.
pub fn trusted_issuer_key<'a>(
    trust_list: &'a schooltas_school::trust_list::VerifiedTrustList,
    resolver: &'a schooltas_did::Resolver,
    now: i64,
) -> TrustedIssuers<'a> {
    TrustedIssuers { trust_list, resolver, now }
}

/// The checks before a credential is stored: the issuer's signature (key from `issuer_key`),
/// the binding to `key`, a type the catalog knows (and the one expected, if given), a VALID
/// status. Returns its issuer, vct and processed claims.
pub(crate) fn check_credential(
    sd_jwt: &str,
    key: &VerifyingKey,
    expected_vct: Option<&str>,
    catalog: &Catalog,
    issuer_key: IssuerKey<'_>,
    status: &StatusListCache,
    now: i64,
) -> Result<(String, String, serde_json::Value)> {
    let options = VerifyOptions::sd_jwt_vc_as_issued();
    let mut used_key = None;
    let verified = UnverifiedSdJwt::parse(sd_jwt)?.verify_with(
        |header, iss| {
            let found = issuer_key.issuer_key(header, iss)?;
            used_key = Some(found.clone());
            Ok(found)
        },
        &options,
        now,
    )?;
    if verified.holder_key() != Some(key) {
        return Err(Error::InvalidInput { reason: "the credential is not bound to this holder key".into() });
    }
    let vct = verified.vct().unwrap_or_default().to_owned();
    if expected_vct.is_some_and(|expected| expected != vct) || catalog.by_vct(&Vct::new(vct.clone())?).is_none() {
        return Err(Error::InvalidInput {
            reason: format!("credential type {vct} is not the one offered or not known"),
        });
    }
    if let (Some(reference), Some(credential_key)) = (verified.status_reference()?, used_key) {
        let iss = verified.issuer().unwrap_or_default();
        status.check_with(
            &reference,
            |header, _| issuer_key.status_list_key(header, iss, &credential_key, now),
            now,
        )?;
    }
    Ok((verified.issuer().unwrap_or_default().to_owned(), vct, serde_json::Value::Object(verified.into_claims())))
}

#[cfg(test)]
mod strict_json_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_did::strict_json::Error as J;

    #[test]
    fn an_issuer_message_naming_a_member_twice_is_refused() {
        let err =
            parse::<serde_json::Value>("credential response", r#"{"credentials":[],"credentials":[{}]}"#).unwrap_err();
        assert!(
            matches!(err, Error::Did(schooltas_did::Error::Json(J::DuplicateMember { ref name })) if name == "credentials"),
            "{err}"
        );
        let err = parse::<serde_json::Value>("token response", r#"{"expires_in":18446744073709551616}"#).unwrap_err();
        assert!(matches!(err, Error::Did(schooltas_did::Error::Json(J::IntegerOutOfRange))), "{err}");
        let err = parse::<serde_json::Value>("token response", "{").unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
}

#[cfg(test)]
mod holder_key_algorithm_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::keys::ExternalKey;

    struct EdDsaOnly;

    impl HolderKeys for EdDsaOnly {
        fn algorithms(&self) -> Vec<Algorithm> {
            vec![Algorithm::EdDsa]
        }
        fn generate(&self, _: Algorithm) -> Result<HolderKey> {
            Err(Error::HolderKeyUnavailable { reason: "not in this test".into() })
        }
        fn signer(&self, _: &ExternalKey) -> Result<BoxedSigner> {
            Err(Error::HolderKeyUnavailable { reason: "not in this test".into() })
        }
    }

    fn configuration(algs: &[&str]) -> schooltas_oid4vc::oid4vci::CredentialConfiguration {
        serde_json::from_value(serde_json::json!({
            "format": "dc+sd-jwt", "vct": "https://example.invalid/v1",
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": algs}}
        }))
        .unwrap()
    }

    #[test]
    fn the_first_issuer_algorithm_the_store_makes_is_chosen_and_none_in_common_is_refused() {
        let both = configuration(&["EdDSA", "ES256"]);
        assert_eq!(holder_key_algorithm(&both, &SoftwareHolderKeys).unwrap(), Algorithm::EdDsa);
        let es256 = configuration(&["ES256"]);
        assert_eq!(holder_key_algorithm(&es256, &SoftwareHolderKeys).unwrap(), Algorithm::Es256);
        let err = holder_key_algorithm(&es256, &EdDsaOnly).unwrap_err();
        assert!(
            matches!(&err, Error::NoHolderKeyAlgorithm { offered, supported }
                if offered == &["ES256".to_owned()] && supported == &["EdDSA".to_owned()]),
            "{err}"
        );
        // An issuer that lists none: the store's preferred algorithm (software: EdDSA, as before).
        let none = configuration(&[]);
        assert_eq!(holder_key_algorithm(&none, &SoftwareHolderKeys).unwrap(), Algorithm::EdDsa);
        assert_eq!(holder_key_algorithm(&none, &EdDsaOnly).unwrap(), Algorithm::EdDsa);
    }
}
