//! The authorization code flow (OpenID4VCI 1.0 §5–6 as HAIP 1.0 §4 profiles it), for a parent
//! who starts at the school's own portal: the wallet pushes its request (RFC 9126, PKCE
//! `S256`, optionally bound to its DPoP key, RFC 9449 §10), the browser brings the
//! `request_uri` to the authorization endpoint, the school's portal logs the parent in and says
//! who it is, and the wallet redeems the code (with its PKCE verifier) at the token endpoint for
//! the same kind of access token the pre-authorized code flow gives.
//!
//! Everything secret — `request_uri`, the portal's handle, the code — is 256-bit random, stored
//! only as its SHA-256 digest, good once and for a short time. Every state change is one store
//! transaction, so of two redemptions of a code exactly one gets a token, and a code that comes
//! a second time revokes the token issued for it (RFC 6749 §4.1.2, §10.5).
//!
//! Errors at the authorization endpoint and the portal's completion are not redirected to the
//! wallet ([`AuthorizationRefusal`]): before the pending request is found, its redirect URI is
//! not known to be the wallet's (RFC 6749 §4.1.2.1).

use std::fmt;

use schooltas_oid4vc::oid4vci::{
    AUTHORIZATION_CODE_GRANT, AuthorizationCodeTokenRequest, AuthorizationResponse, ErrorCode, ErrorResponse,
    PushedAuthorizationRequest, PushedAuthorizationResponse, REQUEST_URI_PREFIX, pkce_challenge,
};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::issue::Issuer;
use crate::offers::{self, OfferPolicy, digest, random_secret, same};
use crate::oid4vci::{ClientAuthHeaders, DpopContext, dpop_refusal, server_error};
use crate::store::{
    AccessTokenRow, AuthorizationCodeRow, IssuerStore, IssuerTx, PendingAuthorizationRow, in_transaction,
};

/// The pushed authorization request endpoint's path, under the credential issuer URL.
pub const PAR_PATH: &str = "/par";
/// The authorization endpoint's path, under the credential issuer URL.
pub const AUTHORIZE_PATH: &str = "/authorize";

/// Lifetimes of the authorization code flow's one-time values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthorizationPolicy {
    /// Seconds between the pushed request and the browser's arrival (RFC 9126 §2.2: short).
    pub request_uri_lifetime: i64,
    /// Seconds the portal has to log the parent in and answer (the handle's lifetime).
    pub handle_lifetime: i64,
    /// Seconds an authorization code can be redeemed (RFC 6749 §4.1.2: at most ten minutes,
    /// recommended much less).
    pub code_lifetime: i64,
}

impl Default for AuthorizationPolicy {
    /// `request_uri` and code 60 seconds each; the portal 10 minutes for a login.
    fn default() -> Self {
        AuthorizationPolicy { request_uri_lifetime: 60, handle_lifetime: 600, code_lifetime: 60 }
    }
}

/// Why the authorization endpoint or the portal's completion refused. Shown to the person as
/// a page, never sent to the wallet's redirect URI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationRefusal {
    /// The issuer does not run the authorization code flow.
    #[error("this issuer does not offer the authorization code flow")]
    FlowOff,
    /// No pushed request has this `request_uri` (never pushed, or purged after expiry).
    #[error("the request_uri is not known: the wallet must push its authorization request again")]
    UnknownRequestUri,
    /// The `request_uri`'s lifetime has passed.
    #[error("the request_uri has expired: the wallet must push its authorization request again")]
    RequestUriExpired,
    /// The browser already came with this `request_uri` (it is good once).
    #[error("the request_uri was already used: the wallet must push its authorization request again")]
    RequestUriUsed,
    /// The `client_id` is not the one of the pushed request.
    #[error("the client_id is not the one that pushed the request")]
    ClientMismatch,
    /// No authorization waits under this handle.
    #[error("no authorization waits under this handle")]
    UnknownHandle,
    /// The portal took longer than the handle's lifetime.
    #[error("the authorization handle has expired: the parent must start again from the wallet")]
    HandleExpired,
    /// The portal already answered for this handle.
    #[error("the authorization handle was already answered")]
    HandleUsed,
    /// The portal approved a configuration the wallet did not ask for.
    #[error("{config_id} was not asked for in this authorization")]
    NotRequested {
        /// The configuration id.
        config_id: String,
    },
    /// The portal approved an empty list (deny instead).
    #[error("nothing was approved: deny the authorization instead")]
    NothingApproved,
}

/// Why the token endpoint refused an authorization code (OAuth `invalid_grant`, except a key
/// mismatch, which is `invalid_dpop_proof`). No variant carries the code or the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeRefusal {
    /// No such code.
    #[error("the authorization code is not known")]
    UnknownCode,
    /// The code's lifetime has passed.
    #[error("the authorization code has expired")]
    Expired,
    /// The code was already exchanged; the token issued for it is revoked.
    #[error("the authorization code was already used; the access token issued for it is revoked")]
    AlreadyUsed,
    /// `BASE64URL(SHA-256(code_verifier))` is not the code challenge (RFC 7636 §4.6).
    #[error("the code_verifier does not match the code_challenge")]
    WrongVerifier,
    /// The redirect URI is not the authorization request's.
    #[error("the redirect_uri is not the one of the authorization request")]
    RedirectUriMismatch,
    /// The client is not the one the code was issued to.
    #[error("the code was issued to another client_id")]
    ClientMismatch,
    /// The code is bound to a DPoP key and the request carries no proof by that key.
    #[error("the code is bound to a DPoP key: send a DPoP proof signed by that key")]
    DpopKeyMismatch,
}

/// What the portal needs to show the parent, from the authorization endpoint: the one-time
/// `handle` to answer with, and what is asked.
pub struct AuthorizationStart {
    /// The one-time handle the portal answers with ([`Issuer::complete_authorization`]). A
    /// secret: whoever holds it may answer for the parent.
    pub handle: Zeroizing<String>,
    /// The wallet's client identifier.
    pub client_id: String,
    /// Where the answer will go.
    pub redirect_uri: String,
    /// The configuration ids asked for.
    pub config_ids: Vec<String>,
    /// The offer's `issuer_state`, if the wallet came from an offer.
    pub issuer_state: Option<String>,
    /// Until when the portal can answer.
    pub expires_at: i64,
}

impl fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("handle", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("config_ids", &self.config_ids)
            .field("issuer_state", &self.issuer_state)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where the portal sends the browser after it answered: the wallet's redirect URI with the
/// authorization response. A secret (it holds the code); `Debug` does not show it.
pub struct AuthorizationRedirect(Zeroizing<String>);

impl AuthorizationRedirect {
    /// The location.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthorizationRedirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationRedirect(<redacted>)")
    }
}

/// An outcome the person sees as a refusal page, or the value.
type Decided<T> = std::result::Result<T, AuthorizationRefusal>;

fn invalid_request(description: &str) -> ErrorResponse {
    ErrorResponse::new(ErrorCode::InvalidRequest, description)
}

impl<S: IssuerStore> Issuer<S> {
    /// Turns the authorization code flow on (HAIP 1.0 §4): the authorization server metadata
    /// lists the PAR and authorization endpoints, PKCE `S256` and `iss` in responses.
    pub fn with_authorization_code_flow(mut self, policy: AuthorizationPolicy) -> Self {
        self.authorization = Some(policy);
        self
    }

    /// Turns the authorization code flow on (`Some`) or off (`None`) in place — for a service
    /// that runs the flow only while a portal can log people in.
    pub fn set_authorization_code_flow(&mut self, policy: Option<AuthorizationPolicy>) {
        self.authorization = policy;
    }

    /// The authorization code flow's policy, when the flow is on.
    pub fn authorization_code_flow(&self) -> Option<&AuthorizationPolicy> {
        self.authorization.as_ref()
    }

    fn flow(&self) -> std::result::Result<&AuthorizationPolicy, AuthorizationRefusal> {
        self.authorization.as_ref().ok_or(AuthorizationRefusal::FlowOff)
    }

    /// The pushed authorization request endpoint (RFC 9126 §2): a form-encoded request in (see
    /// [`PushedAuthorizationRequest::from_form`]), a `request_uri` out (answer it with `201`).
    ///
    /// Each scope and each `authorization_details` entry must name a catalog configuration
    /// (`invalid_scope` / `invalid_request`). For an issuer [with DPoP](Issuer::with_dpop) the
    /// code is bound to the DPoP key (RFC 9449 §10): the `dpop_jkt` parameter or the proof's
    /// key, which must agree when both come; an issuer that requires DPoP refuses a request
    /// with neither (`invalid_dpop_proof`), and a proof without its nonce gets
    /// `use_dpop_nonce`.
    ///
    /// An issuer [with wallet attestation](Issuer::with_wallet_attestation) refuses this
    /// method's requests (`invalid_client`): it authenticates wallets at PAR, through
    /// [`Issuer::par_endpoint_with`].
    pub fn par_endpoint(
        &self,
        body: &str,
        dpop: Option<DpopContext<'_>>,
        now: i64,
    ) -> std::result::Result<PushedAuthorizationResponse, ErrorResponse> {
        self.par_endpoint_with(body, dpop, None, now)
    }

    /// [`Issuer::par_endpoint`] with the request's client authentication headers. For an
    /// issuer [with wallet attestation](Issuer::with_wallet_attestation), HAIP 1.0 §4.3 has the
    /// wallet authenticate at PAR as at the token endpoint: the pair is checked
    /// ([`Issuer::check_client_attestation`]) before anything else of the request, and the
    /// request's `client_id` must be the attestation's `sub` (§4.4.1); both refusals are
    /// `invalid_client` (answer 401) and store nothing. The code's token request is then
    /// authenticated again ([`Issuer::token_endpoint_with`]) and must come from the same
    /// `client_id`. An issuer without it ignores `client_auth`.
    pub fn par_endpoint_with(
        &self,
        body: &str,
        dpop: Option<DpopContext<'_>>,
        client_auth: Option<ClientAuthHeaders<'_>>,
        now: i64,
    ) -> std::result::Result<PushedAuthorizationResponse, ErrorResponse> {
        let policy = *self.flow().map_err(|refusal| invalid_request(&refusal.to_string()))?;
        let attested = match self.wallet_attestation_state() {
            Some(_) => {
                let headers = client_auth.unwrap_or_default();
                Some(self.check_client_attestation(headers.attestation, headers.pop, now)?.client_id)
            }
            None => None,
        };
        let request = PushedAuthorizationRequest::from_form(body).map_err(|e| ErrorResponse::from(&e))?;
        if let Some(sub) = attested
            && sub != request.client_id
        {
            return Err(crate::oid4vci::attestation_refusal(
                &schooltas_oid4vc::client_attestation::ClientAttestationError::ClientIdMismatch,
            ));
        }
        let dpop_jkt = match self.dpop_state() {
            None => None,
            Some(state) => {
                let proven = match dpop.and_then(|d| d.proof.map(|proof| (proof, d.url))) {
                    Some((proof, url)) => Some(
                        state
                            .check(proof, "POST", url, None, now, self.replay_store())
                            .map_err(|e| dpop_refusal(&e))?
                            .jkt,
                    ),
                    None => None,
                };
                match (proven, request.dpop_jkt.clone()) {
                    (Some(proven), Some(claimed)) if !same(&digest(&proven), &digest(&claimed)) => {
                        return Err(ErrorResponse::new(
                            ErrorCode::InvalidDpopProof,
                            "dpop_jkt is not the thumbprint of the DPoP proof's key (RFC 9449 §10.1)",
                        ));
                    }
                    (Some(jkt), _) | (None, Some(jkt)) => Some(jkt),
                    (None, None) if state.requirement.required => {
                        return Err(ErrorResponse::new(
                            ErrorCode::InvalidDpopProof,
                            "this issuer binds authorization codes to a DPoP key: send a DPoP proof or dpop_jkt",
                        ));
                    }
                    (None, None) => None,
                }
            }
        };
        let mut config_ids: Vec<String> = Vec::new();
        for scope in &request.scope {
            // The metadata gives every configuration its id as scope.
            let known = self.catalog().get(scope).is_some();
            if !known {
                return Err(ErrorResponse::new(
                    ErrorCode::InvalidScope,
                    format!("no credential has the scope {scope:?}"),
                ));
            }
            if !config_ids.contains(scope) {
                config_ids.push(scope.clone());
            }
        }
        let mut detail_config_ids: Vec<String> = Vec::new();
        for detail in &request.authorization_details {
            let id = &detail.credential_configuration_id;
            if self.catalog().get(id).is_none() {
                return Err(invalid_request(&format!("authorization_details names the unknown configuration {id:?}")));
            }
            if !config_ids.contains(id) {
                config_ids.push(id.clone());
            }
            if !detail_config_ids.contains(id) {
                detail_config_ids.push(id.clone());
            }
        }
        let request_uri = Zeroizing::new(format!("{REQUEST_URI_PREFIX}{}", random_secret().as_str()));
        let row = PendingAuthorizationRow {
            request_uri_digest: digest(&request_uri),
            client_id: request.client_id,
            redirect_uri: request.redirect_uri,
            code_challenge: request.code_challenge,
            state: request.state,
            config_ids,
            detail_config_ids,
            issuer_state: request.issuer_state,
            dpop_jkt,
            expires_at: now.saturating_add(policy.request_uri_lifetime),
            handle_digest: None,
            completed: false,
        };
        in_transaction(self.store(), |tx| {
            tx.insert_pending_authorization(&row)?;
            offers::purge_expired(tx, now)
        })
        .map_err(|e| server_error(&e))?;
        Ok(PushedAuthorizationResponse {
            request_uri: request_uri.to_string(),
            expires_in: policy.request_uri_lifetime,
        })
    }

    /// The authorization endpoint (RFC 9126 §4): the browser's `client_id` and `request_uri`.
    /// The pushed request must exist, be unexpired and unused, and be the client's; it is used
    /// up here. Returns what the school's portal needs, with a one-time handle good for
    /// [`AuthorizationPolicy::handle_lifetime`]. A refusal is [`Error::Authorization`](crate::Error::Authorization), for a
    /// page to the person (never a redirect).
    pub fn authorization_endpoint(&self, client_id: &str, request_uri: &str, now: i64) -> Result<AuthorizationStart> {
        let policy = *self.flow()?;
        let request_uri_digest = digest(request_uri);
        let handle = random_secret();
        let handle_digest = digest(&handle);
        let outcome = in_transaction(self.store(), |tx| {
            let outcome = (|| -> Result<Decided<PendingAuthorizationRow>> {
                let Some(mut row) = tx.pending_authorization(&request_uri_digest)? else {
                    return Ok(Err(AuthorizationRefusal::UnknownRequestUri));
                };
                if row.handle_digest.is_some() {
                    return Ok(Err(AuthorizationRefusal::RequestUriUsed));
                }
                if now >= row.expires_at {
                    return Ok(Err(AuthorizationRefusal::RequestUriExpired));
                }
                if row.client_id != client_id {
                    return Ok(Err(AuthorizationRefusal::ClientMismatch));
                }
                row.handle_digest = Some(handle_digest);
                row.expires_at = now.saturating_add(policy.handle_lifetime);
                tx.update_pending_authorization(&row)?;
                Ok(Ok(row))
            })()?;
            offers::purge_expired(tx, now)?;
            Ok(outcome)
        })?;
        let row = outcome?;
        Ok(AuthorizationStart {
            handle,
            client_id: row.client_id,
            redirect_uri: row.redirect_uri,
            config_ids: row.config_ids,
            issuer_state: row.issuer_state,
            expires_at: row.expires_at,
        })
    }

    /// The portal's yes: the person it logged in is `subject_ref` (e.g. a parent's
    /// guardianship reference), and it approves `config_ids_allowed` of what was asked (`None`:
    /// all of it). Returns where to send the browser: the wallet's redirect URI with the code,
    /// `state` and `iss` (RFC 9207). The code is bound to the client, redirect URI, PKCE
    /// challenge, DPoP key, subject and configurations, and good for
    /// [`AuthorizationPolicy::code_lifetime`]. The handle works once.
    pub fn complete_authorization(
        &self,
        handle: &str,
        subject_ref: &str,
        config_ids_allowed: Option<&[String]>,
        now: i64,
    ) -> Result<AuthorizationRedirect> {
        let policy = *self.flow()?;
        let code = random_secret();
        let code_digest = digest(&code);
        let row = self.answer_handle(handle, now, |tx, row| {
            let config_ids = match config_ids_allowed {
                None => row.config_ids.clone(),
                Some([]) => return Ok(Err(AuthorizationRefusal::NothingApproved)),
                Some(allowed) => {
                    if let Some(other) = allowed.iter().find(|id| !row.config_ids.contains(id)) {
                        return Ok(Err(AuthorizationRefusal::NotRequested { config_id: other.clone() }));
                    }
                    row.config_ids.iter().filter(|id| allowed.contains(id)).cloned().collect()
                }
            };
            tx.insert_authorization_code(&AuthorizationCodeRow {
                code_digest,
                client_id: row.client_id.clone(),
                redirect_uri: row.redirect_uri.clone(),
                code_challenge: row.code_challenge.clone(),
                dpop_jkt: row.dpop_jkt.clone(),
                subject_ref: subject_ref.to_owned(),
                detail_config_ids: row.detail_config_ids.iter().filter(|id| config_ids.contains(id)).cloned().collect(),
                config_ids,
                expires_at: now.saturating_add(policy.code_lifetime),
                redeemed: false,
                access_token_digest: None,
            })?;
            Ok(Ok(()))
        })?;
        let response = AuthorizationResponse::Code {
            code: code.to_string(),
            state: row.state,
            iss: Some(self.profile().issuer_url().to_owned()),
        };
        Ok(AuthorizationRedirect(Zeroizing::new(response.redirect_location(&row.redirect_uri))))
    }

    /// The portal's no (the parent declined, or is not who may decide): where to send the
    /// browser, the wallet's redirect URI with `error=access_denied`, `state` and `iss`. The
    /// handle works once.
    pub fn deny_authorization(&self, handle: &str, now: i64) -> Result<AuthorizationRedirect> {
        self.flow()?;
        let row = self.answer_handle(handle, now, |_, _| Ok(Ok(())))?;
        let response = AuthorizationResponse::Error {
            error: ErrorCode::AccessDenied,
            error_description: Some("the request was declined at the school".into()),
            state: row.state,
            iss: Some(self.profile().issuer_url().to_owned()),
        };
        Ok(AuthorizationRedirect(Zeroizing::new(response.redirect_location(&row.redirect_uri))))
    }

    /// Finds the pending authorization of `handle` (known, unanswered, unexpired), runs
    /// `answer` on it and marks it answered, in one transaction.
    fn answer_handle(
        &self,
        handle: &str,
        now: i64,
        mut answer: impl FnMut(
            &mut dyn IssuerTx,
            &PendingAuthorizationRow,
        ) -> Result<std::result::Result<(), AuthorizationRefusal>>,
    ) -> Result<PendingAuthorizationRow> {
        let handle_digest = digest(handle);
        let outcome = in_transaction(self.store(), |tx| {
            let outcome = (|| -> Result<Decided<PendingAuthorizationRow>> {
                let Some(mut row) = tx.pending_authorization_by_handle(&handle_digest)? else {
                    return Ok(Err(AuthorizationRefusal::UnknownHandle));
                };
                if row.completed {
                    return Ok(Err(AuthorizationRefusal::HandleUsed));
                }
                if now >= row.expires_at {
                    return Ok(Err(AuthorizationRefusal::HandleExpired));
                }
                if let Err(refusal) = answer(tx, &row)? {
                    return Ok(Err(refusal));
                }
                row.completed = true;
                tx.update_pending_authorization(&row)?;
                Ok(Ok(row))
            })()?;
            offers::purge_expired(tx, now)?;
            Ok(outcome)
        })?;
        Ok(outcome?)
    }

    /// The token endpoint's authorization code grant, after the DPoP proof (if any) was
    /// checked: `jkt` is its key's thumbprint. Returns the token, its lifetime and its
    /// credential identifiers (one per configuration asked for by `authorization_details`).
    pub(crate) fn redeem_authorization_code(
        &self,
        policy: &OfferPolicy,
        request: &AuthorizationCodeTokenRequest,
        jkt: Option<&str>,
        now: i64,
    ) -> std::result::Result<(Zeroizing<String>, i64, Vec<String>), ErrorResponse> {
        if self.authorization.is_none() {
            return Err(ErrorResponse::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "unsupported grant type {AUTHORIZATION_CODE_GRANT:?}: this issuer has only the pre-authorized code flow"
                ),
            ));
        }
        let code_digest = digest(&request.code);
        let outcome = in_transaction(self.store(), |tx| {
            let outcome = redeem_code_in(tx, policy, &code_digest, request, jkt, now)?;
            offers::purge_expired(tx, now)?;
            Ok(outcome)
        });
        match outcome {
            Ok(Ok((token, identifiers))) => Ok((token, policy.token_lifetime, identifiers)),
            Ok(Err(refusal)) => {
                let code = match refusal {
                    CodeRefusal::DpopKeyMismatch => ErrorCode::InvalidDpopProof,
                    _ => ErrorCode::InvalidGrant,
                };
                Err(ErrorResponse::new(code, refusal.to_string()))
            }
            Err(error) => Err(server_error(&error)),
        }
    }
}

/// A redeemed code: the access token and its credential identifiers.
type Redeemed = (Zeroizing<String>, Vec<String>);

fn redeem_code_in(
    tx: &mut dyn IssuerTx,
    policy: &OfferPolicy,
    code_digest: &[u8; 32],
    request: &AuthorizationCodeTokenRequest,
    jkt: Option<&str>,
    now: i64,
) -> Result<std::result::Result<Redeemed, CodeRefusal>> {
    let Some(mut row) = tx.authorization_code(code_digest)? else {
        return Ok(Err(CodeRefusal::UnknownCode));
    };
    if row.redeemed {
        // RFC 6749 §4.1.2: a code used twice is refused, and the tokens issued for it revoked
        // (someone else holds the code: the wallet's or the attacker's token is the stolen one).
        if let Some(token) = row.access_token_digest.take() {
            tx.delete_access_token(&token)?;
            tx.update_authorization_code(&row)?;
        }
        return Ok(Err(CodeRefusal::AlreadyUsed));
    }
    if now >= row.expires_at {
        return Ok(Err(CodeRefusal::Expired));
    }
    if row.client_id != request.client_id {
        return Ok(Err(CodeRefusal::ClientMismatch));
    }
    if row.redirect_uri != request.redirect_uri {
        return Ok(Err(CodeRefusal::RedirectUriMismatch));
    }
    // RFC 7636 §4.6, compared in constant time.
    if !same(&digest(&pkce_challenge(&request.code_verifier)), &digest(&row.code_challenge)) {
        return Ok(Err(CodeRefusal::WrongVerifier));
    }
    if let Some(bound) = &row.dpop_jkt
        && !jkt.is_some_and(|jkt| same(&digest(jkt), &digest(bound)))
    {
        return Ok(Err(CodeRefusal::DpopKeyMismatch));
    }
    let access_token = random_secret();
    let token_digest = digest(&access_token);
    let token_expires_at = now.saturating_add(policy.token_lifetime);
    tx.insert_access_token(&AccessTokenRow {
        token_digest,
        subject_ref: row.subject_ref.clone(),
        config_ids: row.config_ids.clone(),
        used_config_ids: Vec::new(),
        expires_at: token_expires_at,
        dpop_jkt: jkt.map(str::to_owned),
        // OpenID4VCI 1.0 §6.2: one identifier per configuration, its id. The catalog holds one
        // dataset per configuration and subject, so an identifier has nothing else to tell
        // apart; the token (a 256-bit secret bound to this grant) is what authorizes.
        credential_identifiers: row.detail_config_ids.clone(),
    })?;
    row.redeemed = true;
    row.access_token_digest = Some(token_digest);
    // Kept while the token lives, so that a replay of the code can still revoke it.
    row.expires_at = row.expires_at.max(token_expires_at);
    tx.update_authorization_code(&row)?;
    Ok(Ok((access_token, row.detail_config_ids)))
}

/// The authorization code flow's metadata members (RFC 8414 §2, RFC 9126 §5, RFC 9207 §3),
/// added to `metadata` for an issuer at `base`.
pub(crate) fn advertise(metadata: &mut schooltas_oid4vc::oid4vci::AuthorizationServerMetadata, base: &str) {
    metadata.authorization_endpoint = Some(format!("{base}{AUTHORIZE_PATH}"));
    metadata.pushed_authorization_request_endpoint = Some(format!("{base}{PAR_PATH}"));
    metadata.require_pushed_authorization_requests = true;
    metadata.code_challenge_methods_supported = vec!["S256".into()];
    metadata.response_types_supported = vec!["code".into()];
    metadata.grant_types_supported =
        vec![AUTHORIZATION_CODE_GRANT.into(), schooltas_oid4vc::oid4vci::PRE_AUTHORIZED_GRANT.into()];
    metadata.authorization_response_iss_parameter_supported = true;
}
