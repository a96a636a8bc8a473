//! The wallet's client over HTTPS: the production [`IssuerConnection`] (OpenID4VCI), and
//! posting an OpenID4VP response to its `response_uri` ([`HttpsIssuerConnection::post_response`]).
//!
//! Every URL here comes from an offer someone showed the family (a QR code, a link) or from
//! the metadata the issuer named in it, so every request goes through `schooltas-did`'s
//! [`GuardedClient`]: https only, internal addresses refused after DNS resolution, bounded
//! bodies and time, no redirects followed.
//!
//! - metadata at the well-known locations with the path-insertion rule (OpenID4VCI 1.0
//!   §12.2.2, RFC 8414 §3.1), `Accept: application/json`;
//! - an offer by reference (`credential_offer_uri`, §4.1.3) fetched with GET;
//! - the pushed authorization request endpoint (RFC 9126) with a form POST, optionally with a
//!   DPoP proof;
//! - the token endpoint with a form POST (RFC 6749 §4.1.3 as OpenID4VCI §6.1 uses it), the nonce
//!   endpoint with an empty POST (§7.1), the credential endpoint with a JSON POST and the access
//!   token as a Bearer token (RFC 6750 §2.1);
//! - an OAuth error answer (a 400 or 401 with `{"error": …}`, RFC 6749 §5.2, OpenID4VCI §8.3.1)
//!   comes back as the spec's [`ErrorResponse`]; a 401 with only a `WWW-Authenticate` challenge
//!   as `invalid_token`.
//!
//! ```no_run
//! use schooltas_wallet::issuer_http::HttpsIssuerConnection;
//! use schooltas_wallet::receive::IssuerConnection;
//! let connection = HttpsIssuerConnection::new();
//! let metadata = connection.issuer_metadata("https://delinde.example")?;
//! # Ok::<(), schooltas_wallet::Error>(())
//! ```

use std::fmt;
use std::time::Duration;

use schooltas_did::net::{Get, GuardedClient, HttpTarget, NameResolver, NetError, Post};
use schooltas_oid4vc::oid4vci::{
    AUTHORIZATION_SERVER_METADATA_SUFFIX, ErrorCode, ErrorResponse, ISSUER_METADATA_SUFFIX, well_known_url,
};

use crate::error::{Error, Result};
use crate::receive::{Answer, DpopAnswer, IssuerConnection};
use crate::request::ResponseToSend;
use crate::wallet_attestation::ClientAuth;

/// The time limit of one exchange unless [`with_timeout`](HttpsIssuerConnection::with_timeout)
/// says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest answer read unless [`with_max_len`](HttpsIssuerConnection::with_max_len) says
/// otherwise: 1 MiB, a batch of credentials with their disclosures and the issuer's metadata in
/// two languages fit many times over.
pub const DEFAULT_MAX_LEN: usize = 1 << 20;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The OpenID4VCI client over HTTPS (rustls, Web PKI roots unless told otherwise).
#[derive(Clone)]
pub struct HttpsIssuerConnection {
    client: GuardedClient,
    max_len: usize,
    timeout: Duration,
}

impl HttpsIssuerConnection {
    /// A client with the defaults: system DNS, Web PKI roots, the address check on.
    pub fn new() -> Self {
        Self::with_client(GuardedClient::new(concat!("schooltas-wallet/", env!("CARGO_PKG_VERSION"))))
    }

    /// A client over `client` (its resolver, trust anchors and address rule).
    pub fn with_client(client: GuardedClient) -> Self {
        HttpsIssuerConnection { client, max_len: DEFAULT_MAX_LEN, timeout: DEFAULT_TIMEOUT }
    }

    /// Refuses an answer longer than `max_len` bytes.
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Gives up when one exchange takes longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Resolves host names with `resolver`; the address check applies to its answers.
    pub fn with_resolver(mut self, resolver: impl NameResolver + 'static) -> Self {
        self.client = self.client.with_resolver(resolver);
        self
    }

    /// Checks `url` before anything is sent: https, a host, no user information.
    fn target<'u>(&self, what: &'static str, url: &'u str) -> Result<&'u str> {
        match HttpTarget::parse(url) {
            Ok(target) if target.https => Ok(url),
            Ok(_) => Err(fetch_error(url, format!("the {what} is not an https URL; plain http is refused"))),
            Err(_) => Err(fetch_error(url, format!("the {what} is not an https URL with a host"))),
        }
    }

    fn net_error(&self, what: &'static str, url: &str, error: NetError) -> Error {
        crate::http::net_error(what, url, self.max_len, error)
    }

    /// GETs a JSON document.
    fn get_json(&self, what: &'static str, url: &str) -> Result<String> {
        let url = self.target(what, url)?;
        let get = Get { url, accept: JSON, max_len: self.max_len, timeout: self.timeout, plain_http: false };
        let answer = self.client.get(&get).map_err(|e| self.net_error(what, url, e))?;
        match answer.status {
            200..=299 => text(what, url, answer.body),
            300..=399 => Err(fetch_error(url, format!("the {what} answered with a redirect, which is not followed"))),
            status => Err(fetch_error(url, format!("the {what} answered {}", schooltas_did::net::status_text(status)))),
        }
    }

    /// POSTs and sorts the answer: 2xx is the body, an OAuth error answer the spec's error.
    fn post(
        &self,
        what: &'static str,
        url: &str,
        content_type: &str,
        body: &[u8],
        bearer: Option<&str>,
    ) -> Result<Answer> {
        self.post_with_dpop(what, url, content_type, body, Credentials { bearer, ..Credentials::default() })
            .map(|(answer, ..)| answer)
    }

    /// [`post`](Self::post) with a DPoP proof (the token then sent as `Authorization: DPoP`);
    /// also returns the answer's `DPoP-Nonce` and `OAuth-Client-Attestation-Challenge`.
    fn post_with_dpop(
        &self,
        what: &'static str,
        url: &str,
        content_type: &str,
        body: &[u8],
        credentials: Credentials<'_>,
    ) -> Result<(Answer, Option<String>, Option<String>)> {
        let Credentials { bearer, dpop, client_auth } = credentials;
        let url = self.target(what, url)?;
        let post = Post {
            url,
            content_type,
            body,
            accept: JSON,
            bearer,
            dpop,
            client_attestation: client_auth.map(|auth| (auth.attestation.as_str(), auth.pop.as_str())),
            max_len: self.max_len,
            timeout: self.timeout,
            plain_http: false,
        };
        let answer = self.client.post(&post).map_err(|e| self.net_error(what, url, e))?;
        let nonce = answer.dpop_nonce.clone();
        let challenge = answer.attestation_challenge.clone();
        let answer = match answer.status {
            200..=299 => text(what, url, answer.body).map(Ok),
            400..=499 => {
                let body = String::from_utf8(answer.body).unwrap_or_default();
                match ErrorResponse::from_json(&body) {
                    Ok(error) => Ok(Err(error)),
                    // RFC 6750 §3: a 401 may carry its error in `WWW-Authenticate` only.
                    Err(_) if answer.status == 401 => Ok(Err(ErrorResponse {
                        error: ErrorCode::InvalidToken,
                        error_description: Some("the issuer did not accept the access token".into()),
                    })),
                    Err(_) => Err(fetch_error(
                        url,
                        format!("the {what} answered {} without an error response", status_line(answer.status)),
                    )),
                }
            }
            300..=399 => Err(fetch_error(url, format!("the {what} answered with a redirect, which is not followed"))),
            status => Err(fetch_error(url, format!("the {what} answered {}", status_line(status)))),
        };
        answer.map(|answer| (answer, nonce, challenge))
    }
}

impl HttpsIssuerConnection {
    /// Posts a `direct_post` response (OpenID4VP 1.0 §8.2) to its `response_uri`: 200 gives
    /// the verifier's `redirect_uri`, if it sent one (https only: anything else is dropped, the
    /// wallet never opens it); a 4xx with an error JSON is [`Error::VerifierRefused`].
    pub fn post_response(&self, response: &ResponseToSend) -> Result<Option<String>> {
        let what = "response endpoint";
        match self.post(what, &response.response_uri, FORM, response.body.as_bytes(), None)? {
            Ok(body) => {
                let answer: serde_json::Value = schooltas_did::strict_json::from_str_or(&body, |_| {
                    fetch_error(&response.response_uri, "the response endpoint did not answer JSON".into())
                })?;
                Ok(answer
                    .get("redirect_uri")
                    .and_then(serde_json::Value::as_str)
                    .filter(|uri| HttpTarget::parse(uri).is_ok_and(|target| target.https))
                    .map(str::to_owned))
            }
            Err(refused) => Err(Error::VerifierRefused {
                error: refused.error.as_str().chars().take(64).collect(),
                description: refused.error_description.map(|d| d.chars().take(1000).collect()),
            }),
        }
    }
}

impl HttpsIssuerConnection {
    /// Sends a signed consent withdrawal to the service that received the consent: `POST` to
    /// its `response_uri` as `application/schooltas-consent-withdrawal+jwt`. A refusal (the
    /// verifier knows no such consent, the key did not give it, it was withdrawn already) is
    /// [`Error::VerifierRefused`] with the verifier's error code.
    pub fn post_withdrawal(&self, withdrawal: &crate::consents::WithdrawalMessage) -> Result<()> {
        let what = "response endpoint (withdrawal)";
        match self.post(what, &withdrawal.response_uri, WITHDRAWAL_JWT, withdrawal.jwt.as_bytes(), None)? {
            Ok(_) => Ok(()),
            Err(refused) => Err(Error::VerifierRefused {
                error: refused.error.as_str().chars().take(64).collect(),
                description: refused.error_description.map(|d| d.chars().take(1000).collect()),
            }),
        }
    }
}

/// What authenticates one POST: the access token, a DPoP proof (with which the token goes as
/// `Authorization: DPoP`), the wallet's client attestation headers.
#[derive(Clone, Copy, Default)]
struct Credentials<'a> {
    bearer: Option<&'a str>,
    dpop: Option<&'a str>,
    client_auth: Option<&'a ClientAuth>,
}

/// The media type of a consent withdrawal (its JWT `typ`).
const WITHDRAWAL_JWT: &str = "application/schooltas-consent-withdrawal+jwt";

impl IssuerConnection for HttpsIssuerConnection {
    fn issuer_metadata(&self, credential_issuer: &str) -> Result<String> {
        let url = well_known_url(credential_issuer, ISSUER_METADATA_SUFFIX)?;
        self.get_json("credential issuer metadata", &url)
    }

    fn authorization_server_metadata(&self, authorization_server: &str) -> Result<String> {
        let url = well_known_url(authorization_server, AUTHORIZATION_SERVER_METADATA_SUFFIX)?;
        self.get_json("authorization server metadata", &url)
    }

    fn offer(&self, offer_uri: &str) -> Result<String> {
        self.get_json("credential offer", offer_uri)
    }

    fn token(&self, token_endpoint: &str, form: &str) -> Result<Answer> {
        self.post("token endpoint", token_endpoint, FORM, form.as_bytes(), None)
    }

    fn nonce(&self, nonce_endpoint: &str) -> Result<Answer> {
        self.post("nonce endpoint", nonce_endpoint, FORM, b"", None)
    }

    fn credential(&self, credential_endpoint: &str, access_token: &str, body: &str) -> Result<Answer> {
        self.post("credential endpoint", credential_endpoint, JSON, body.as_bytes(), Some(access_token))
    }

    fn token_with_dpop(&self, token_endpoint: &str, form: &str, proof: &str) -> Result<DpopAnswer> {
        let (answer, dpop_nonce, attestation_challenge) = self.post_with_dpop(
            "token endpoint",
            token_endpoint,
            FORM,
            form.as_bytes(),
            Credentials { dpop: Some(proof), ..Credentials::default() },
        )?;
        Ok(DpopAnswer { answer, dpop_nonce, attestation_challenge })
    }

    fn token_with_client_auth(
        &self,
        token_endpoint: &str,
        form: &str,
        dpop_proof: Option<&str>,
        client_auth: &ClientAuth,
    ) -> Result<DpopAnswer> {
        let (answer, dpop_nonce, attestation_challenge) = self.post_with_dpop(
            "token endpoint",
            token_endpoint,
            FORM,
            form.as_bytes(),
            Credentials { bearer: None, dpop: dpop_proof, client_auth: Some(client_auth) },
        )?;
        Ok(DpopAnswer { answer, dpop_nonce, attestation_challenge })
    }

    fn push_authorization_request(&self, par_endpoint: &str, form: &str) -> Result<Answer> {
        self.post("pushed authorization request endpoint", par_endpoint, FORM, form.as_bytes(), None)
    }

    fn push_authorization_request_with_dpop(&self, par_endpoint: &str, form: &str, proof: &str) -> Result<DpopAnswer> {
        let what = "pushed authorization request endpoint";
        let credentials = Credentials { dpop: Some(proof), ..Credentials::default() };
        let (answer, dpop_nonce, attestation_challenge) =
            self.post_with_dpop(what, par_endpoint, FORM, form.as_bytes(), credentials)?;
        Ok(DpopAnswer { answer, dpop_nonce, attestation_challenge })
    }

    fn push_authorization_request_with_client_auth(
        &self,
        par_endpoint: &str,
        form: &str,
        dpop_proof: Option<&str>,
        client_auth: &ClientAuth,
    ) -> Result<DpopAnswer> {
        let (answer, dpop_nonce, attestation_challenge) = self.post_with_dpop(
            "pushed authorization request endpoint",
            par_endpoint,
            FORM,
            form.as_bytes(),
            Credentials { bearer: None, dpop: dpop_proof, client_auth: Some(client_auth) },
        )?;
        Ok(DpopAnswer { answer, dpop_nonce, attestation_challenge })
    }

    fn credential_with_dpop(
        &self,
        credential_endpoint: &str,
        access_token: &str,
        body: &str,
        proof: &str,
    ) -> Result<DpopAnswer> {
        let (answer, dpop_nonce, attestation_challenge) = self.post_with_dpop(
            "credential endpoint",
            credential_endpoint,
            JSON,
            body.as_bytes(),
            Credentials { bearer: Some(access_token), dpop: Some(proof), client_auth: None },
        )?;
        Ok(DpopAnswer { answer, dpop_nonce, attestation_challenge })
    }
}

impl Default for HttpsIssuerConnection {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HttpsIssuerConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsIssuerConnection")
            .field("client", &self.client)
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn status_line(status: u16) -> String {
    schooltas_did::net::status_text(status)
}

fn text(what: &'static str, url: &str, body: Vec<u8>) -> Result<String> {
    String::from_utf8(body).map_err(|_| fetch_error(url, format!("the {what} is not UTF-8 text")))
}

fn fetch_error(url: &str, reason: String) -> Error {
    Error::Did(schooltas_did::Error::Fetch { url: crate::http::bounded(url), reason })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn urls_that_are_not_https_are_refused_before_anything_is_sent() {
        let connection = HttpsIssuerConnection::new();
        for (url, expected) in [
            ("http://delinde.example/offers/1", "is not an https URL; plain http is refused"),
            ("ftp://delinde.example/offers/1", "is not an https URL with a host"),
            ("https://user@delinde.example/offers/1", "is not an https URL with a host"),
        ] {
            let error = connection.offer(url).unwrap_err();
            assert!(
                matches!(&error, Error::Did(schooltas_did::Error::Fetch { reason, .. }) if reason.ends_with(expected)),
                "{url}: {error}"
            );
        }
        let error = connection.token("http://delinde.example/token", "a=b").unwrap_err();
        assert!(
            matches!(&error, Error::Did(schooltas_did::Error::Fetch { reason, .. }) if reason.contains("plain http"))
        );
        let error = connection.issuer_metadata("http://delinde.example").unwrap_err();
        assert!(matches!(error, Error::Credential(_)) && error.to_string().contains("not an https URL"), "{error}");
    }
}
