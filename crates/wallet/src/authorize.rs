//! Receiving credentials through the authorization code flow (OpenID4VCI 1.0 §5–6, HAIP 1.0
//! §4): for a parent who starts at the school's own portal rather than at a letter with a QR
//! code and a PIN.
//!
//! 1. [`Receiver::start_authorization`] fetches the metadata, makes a PKCE verifier (32 random
//!    bytes, RFC 7636), a `state` and — when the server binds tokens — a DPoP key, pushes the
//!    request (RFC 9126) and returns an [`AuthorizationInProgress`]: the URL to open in the
//!    browser, and what the wallet must keep until the browser comes back.
//! 2. The parent logs in at the school's portal and says yes (or no); the browser lands on the
//!    wallet's redirect URI.
//! 3. [`Receiver::finish_authorization`] checks the response — `state` (RFC 6749 §10.12), `iss`
//!    (RFC 9207: the mix-up defence), `error` (`access_denied`: the parent said no) — redeems
//!    the code with the verifier, and fetches, checks and stores the credentials exactly as
//!    [`Receiver::receive`] does.
//!
//! The wallet's `client_id` is one value for every installation of the app (so it does not
//! single out a family; HAIP), given by the app.

use std::fmt;

use rand::RngExt as _;
use schooltas_did::{Signer as _, SigningKey};
use schooltas_oid4vc::oid4vci::authorization::{AuthorizationRequestReference, check_redirect_uri};
use schooltas_oid4vc::oid4vci::{
    AuthorizationCodeTokenRequest, AuthorizationResponse, AuthorizationServerMetadata, CredentialIssuerMetadata,
    CredentialOffer, CredentialOfferUri, ErrorCode, PushedAuthorizationRequest, PushedAuthorizationResponse,
    pkce_challenge,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{AuthorizationResponseRefusal, Error, Result};
use crate::receive::{Dpop, Receiver, attested_send, issuer_refused, parse};

/// Where the authorization code flow starts: an issuer the app knows (the school's portal
/// names it), or a credential offer with the `authorization_code` grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartFrom<'a> {
    /// The credential issuer identifier (`https://…`).
    Issuer(&'a str),
    /// A credential offer URI (`openid-credential-offer://…`, by value or reference); its
    /// `issuer_state` goes with the request.
    Offer(&'a str),
}

/// An authorization under way while the browser is at the school: the URL to open, and what
/// the wallet needs when the browser comes back.
///
/// **A secret.** It holds the PKCE verifier and, when the server binds tokens, the private DPoP
/// key: whoever has it and the code gets the credentials. Keep it in the app's protected
/// storage (or the wallet's vault) across the browser hop, never in logs or plain files;
/// `Debug` prints neither, and both are wiped from memory on drop.
#[derive(Clone, Serialize, Deserialize)]
pub struct AuthorizationInProgress {
    authorization_url: String,
    state: String,
    #[serde(with = "secret")]
    code_verifier: Zeroizing<String>,
    #[serde(with = "optional_secret", default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<Zeroizing<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_nonce: Option<String>,
    credential_issuer: String,
    authorization_server: String,
    iss_required: bool,
    client_id: String,
    redirect_uri: String,
    config_ids: Vec<String>,
    /// The configurations asked for by `authorization_details` (no scope in the metadata).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    by_details: Vec<String>,
}

impl AuthorizationInProgress {
    /// The URL to open in the browser (the authorization endpoint with `client_id` and
    /// `request_uri`).
    pub fn authorization_url(&self) -> &str {
        &self.authorization_url
    }

    /// The `state` the response must carry.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The configuration ids asked for.
    pub fn config_ids(&self) -> &[String] {
        &self.config_ids
    }

    /// Whether the token will be bound to a DPoP key of this authorization.
    pub fn has_dpop_key(&self) -> bool {
        self.dpop_key.is_some()
    }

    /// As JSON, to keep in protected storage (it holds the secrets; see the type's docs).
    pub fn to_json(&self) -> Zeroizing<String> {
        Zeroizing::new(serde_json::to_string(self).unwrap_or_default())
    }

    /// From the JSON of [`to_json`](Self::to_json).
    pub fn from_json(json: &str) -> Result<Self> {
        schooltas_did::strict_json::from_str_or(json, |_| Error::InvalidInput {
            reason: "the stored authorization in progress is not valid JSON".into(),
        })
    }
}

impl fmt::Debug for AuthorizationInProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationInProgress")
            .field("credential_issuer", &self.credential_issuer)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("config_ids", &self.config_ids)
            .field("code_verifier", &"<redacted>")
            .field("dpop_key", &self.dpop_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

mod secret {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub(super) fn serialize<S: Serializer>(value: &Zeroizing<String>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Zeroizing<String>, D::Error> {
        String::deserialize(deserializer).map(Zeroizing::new)
    }
}

mod optional_secret {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    #[allow(clippy::ref_option)] // serde's `with` hands the field by reference.
    pub(super) fn serialize<S: Serializer>(
        value: &Option<Zeroizing<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_some(value.as_str()),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Zeroizing<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(|value| value.map(Zeroizing::new))
    }
}

/// 32 random bytes, base64url (43 characters).
fn random_value() -> Zeroizing<String> {
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(rand::rng().random());
    Zeroizing::new(schooltas_did::base64url::encode(bytes.as_ref()))
}

/// The part of a URL before its query and fragment.
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

impl Receiver<'_> {
    /// The issuer's metadata and its authorization server's, checked: the credential issuer
    /// and the server name themselves (OpenID4VCI 1.0 §12.2.3, RFC 8414 §3.3).
    fn metadata_of(&self, credential_issuer: &str) -> Result<(CredentialIssuerMetadata, AuthorizationServerMetadata)> {
        let metadata = CredentialIssuerMetadata::from_json(&self.connection.issuer_metadata(credential_issuer)?)?;
        metadata.check_issuer(credential_issuer)?;
        let server = metadata.authorization_servers.first().cloned().unwrap_or_else(|| credential_issuer.to_owned());
        let server_metadata: AuthorizationServerMetadata =
            parse("authorization server metadata", &self.connection.authorization_server_metadata(&server)?)?;
        if server_metadata.issuer.trim_end_matches('/') != server.trim_end_matches('/') {
            return Err(Error::InvalidInput {
                reason: "the authorization server's metadata names another issuer than the server it was fetched for"
                    .into(),
            });
        }
        Ok((metadata, server_metadata))
    }

    /// Starts the authorization code flow for `config_ids` (empty with an offer: the offer's),
    /// as the app's `client_id`, answered at `redirect_uri` (the app's claimed `https` link, a
    /// private-use scheme with a dot, or a loopback `http` URL; RFC 8252). Pushes the request
    /// and returns what to open in the browser and keep until it comes back.
    ///
    /// With a [wallet attestor](Receiver::wallet_attestor) the push carries the attestation
    /// and a fresh PoP (HAIP 1.0 §4.3), and `client_id` must be the attestor's (§4.4.1: the
    /// server compares it with the attestation's `sub`): another one is refused
    /// ([`Error::ClientIdMismatch`]) before anything is sent.
    pub fn start_authorization(
        &self,
        from: StartFrom<'_>,
        config_ids: &[String],
        client_id: &str,
        redirect_uri: &str,
        now: i64,
    ) -> Result<AuthorizationInProgress> {
        check_redirect_uri(redirect_uri)?;
        if let Some(attestor) = self.wallet_attestor
            && attestor.client_id() != client_id
        {
            return Err(Error::ClientIdMismatch);
        }
        let (credential_issuer, offered, issuer_state) = match from {
            StartFrom::Issuer(issuer) => (issuer.trim_end_matches('/').to_owned(), Vec::new(), None),
            StartFrom::Offer(uri) => {
                let offer = match CredentialOfferUri::parse(uri)? {
                    CredentialOfferUri::ByValue(offer) => offer,
                    CredentialOfferUri::ByReference(location) => {
                        CredentialOffer::from_json(&self.connection.offer(&location)?)?
                    }
                };
                let grant = offer.authorization_code_grant().ok_or_else(|| Error::InvalidInput {
                    reason: "the offer has no authorization_code grant: redeem it with its pre-authorized code".into(),
                })?;
                let issuer_state = grant.issuer_state.clone();
                (offer.credential_issuer, offer.credential_configuration_ids, issuer_state)
            }
        };
        let config_ids: Vec<String> = if config_ids.is_empty() { offered } else { config_ids.to_vec() };
        if config_ids.is_empty() {
            return Err(Error::InvalidInput { reason: "no credential configuration was asked for".into() });
        }
        let (metadata, server_metadata) = self.metadata_of(&credential_issuer)?;
        let (Some(authorization_endpoint), Some(par_endpoint)) =
            (&server_metadata.authorization_endpoint, &server_metadata.pushed_authorization_request_endpoint)
        else {
            return Err(Error::InvalidInput {
                reason: "the issuer does not offer the authorization code flow with pushed requests".into(),
            });
        };
        if !server_metadata.code_challenge_methods_supported.iter().any(|method| method == "S256") {
            return Err(Error::InvalidInput { reason: "the issuer does not take PKCE with S256".into() });
        }
        if !authorization_endpoint.starts_with("https://") {
            return Err(Error::InvalidInput { reason: "the issuer's authorization endpoint is not https".into() });
        }
        let code_verifier = random_value();
        let state = random_value().to_string();
        let mut request = PushedAuthorizationRequest::new(client_id, redirect_uri, pkce_challenge(&code_verifier))
            .with_state(state.clone());
        let mut by_details = Vec::new();
        for config_id in &config_ids {
            let configuration = metadata.credential_configurations_supported.get(config_id).ok_or_else(|| {
                Error::InvalidInput { reason: format!("the issuer's metadata does not describe {config_id}") }
            })?;
            // OpenID4VCI 1.0 §5.1.2: the configuration's scope; without one, authorization_details.
            request = match &configuration.scope {
                Some(scope) => request.with_scope(scope.clone()),
                None => {
                    by_details.push(config_id.clone());
                    request.with_configuration(config_id.clone())
                }
            };
        }
        if let Some(issuer_state) = issuer_state {
            request = request.with_issuer_state(issuer_state);
        }
        let mut dpop = Dpop::for_server(&server_metadata)?;
        // RFC 9449 §10: the code is bound to this key (dpop_jkt and a proof).
        if let Some(dpop) = &dpop {
            request = request.with_dpop_jkt(dpop.key.verifying_key().thumbprint());
        }
        let form = request.to_form();
        // HAIP 1.0 §4.3: with an attestor, every push (a retry too) carries a fresh PoP.
        let mut challenge: Option<String> = None;
        let mut attested = |proof: Option<&str>, attestor: &dyn crate::wallet_attestation::WalletAttestor| {
            attested_send(attestor, &server_metadata.issuer, &mut challenge, now, |client_auth| {
                self.connection.push_authorization_request_with_client_auth(par_endpoint, &form, proof, client_auth)
            })
        };
        let answer = match (&mut dpop, self.wallet_attestor) {
            (Some(dpop), Some(attestor)) => {
                dpop.send(now, par_endpoint, None, |proof| attested(Some(proof), attestor))?
            }
            (Some(dpop), None) => dpop.send(now, par_endpoint, None, |proof| {
                self.connection.push_authorization_request_with_dpop(par_endpoint, &form, proof)
            })?,
            (None, Some(attestor)) => attested(None, attestor)?.answer,
            (None, None) => self.connection.push_authorization_request(par_endpoint, &form)?,
        }
        .map_err(issuer_refused)?;
        let pushed = PushedAuthorizationResponse::from_json(&answer)?;
        let reference =
            AuthorizationRequestReference { client_id: client_id.to_owned(), request_uri: pushed.request_uri };
        let (dpop_key, dpop_nonce) = match dpop {
            Some(dpop) => (Some(Zeroizing::new(dpop.key.to_private_jwk().as_str().to_owned())), dpop.nonce),
            None => (None, None),
        };
        Ok(AuthorizationInProgress {
            authorization_url: reference.to_url(authorization_endpoint),
            state,
            code_verifier,
            dpop_key,
            dpop_nonce,
            credential_issuer,
            authorization_server: server_metadata.issuer.clone(),
            iss_required: server_metadata.authorization_response_iss_parameter_supported,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            config_ids,
            by_details,
        })
    }

    /// Finishes the authorization when the browser came back to the redirect URI with
    /// `redirect_url`: the response is checked (redirect URI, `state`, `iss` — a missing one
    /// refused where the server says it sends it — and `error`: `access_denied` is
    /// [`Error::AuthorizationDenied`]), the code redeemed with the PKCE verifier (and DPoP
    /// key), and the credentials fetched, checked and stored as [`Receiver::receive`] does.
    /// Returns `(configuration id, vct, copies)` per configuration.
    pub fn finish_authorization(
        &self,
        in_progress: &AuthorizationInProgress,
        redirect_url: &str,
        now: i64,
    ) -> Result<Vec<(String, String, usize)>> {
        let refused = |why| Err(Error::AuthorizationResponse(why));
        if without_query(redirect_url) != without_query(&in_progress.redirect_uri) {
            return refused(AuthorizationResponseRefusal::WrongRedirectUri);
        }
        let response = AuthorizationResponse::from_redirect_url(redirect_url)?;
        if response.state() != Some(in_progress.state.as_str()) {
            return refused(AuthorizationResponseRefusal::StateMismatch);
        }
        // RFC 9207 §2.4: compare before anything else of the response is used.
        match response.iss() {
            Some(iss) if iss.trim_end_matches('/') != in_progress.authorization_server.trim_end_matches('/') => {
                return refused(AuthorizationResponseRefusal::IssuerMismatch);
            }
            None if in_progress.iss_required => return refused(AuthorizationResponseRefusal::MissingIssuer),
            _ => {}
        }
        let code = match response {
            AuthorizationResponse::Code { code, .. } => Zeroizing::new(code),
            AuthorizationResponse::Error { error: ErrorCode::AccessDenied, .. } => {
                return Err(Error::AuthorizationDenied);
            }
            AuthorizationResponse::Error { error, error_description, .. } => {
                return Err(issuer_refused(schooltas_oid4vc::oid4vci::ErrorResponse { error, error_description }));
            }
        };
        let (metadata, server_metadata) = self.metadata_of(&in_progress.credential_issuer)?;
        if server_metadata.issuer.trim_end_matches('/') != in_progress.authorization_server.trim_end_matches('/') {
            return Err(Error::InvalidInput {
                reason: "the issuer's authorization server changed during the authorization".into(),
            });
        }
        let request = AuthorizationCodeTokenRequest {
            code,
            redirect_uri: in_progress.redirect_uri.clone(),
            code_verifier: in_progress.code_verifier.clone(),
            client_id: in_progress.client_id.clone(),
        };
        let dpop = match &in_progress.dpop_key {
            Some(jwk) => Some(Dpop { key: SigningKey::from_jwk_json(jwk)?, nonce: in_progress.dpop_nonce.clone() }),
            None => None,
        };
        let form = Zeroizing::new(request.to_form());
        // The code's token request is authenticated again (`token` sends the attestation).
        let (access_token, dpop, authorized) = self.token(&server_metadata, &form, dpop, now)?;
        // OpenID4VCI 1.0 §6.2: a request by authorization_details is answered with them, and
        // their identifiers are what the credential requests name (§8.2).
        if in_progress.by_details.iter().any(|id| !authorized.iter().any(|d| d.credential_configuration_id == *id)) {
            return Err(Error::InvalidInput {
                reason: "the token response does not give credential_identifiers for the configurations asked for by authorization_details".into(),
            });
        }
        self.fetch_and_store(
            &metadata,
            &in_progress.credential_issuer,
            &in_progress.config_ids,
            &authorized,
            &access_token,
            dpop,
            now,
        )
    }
}
