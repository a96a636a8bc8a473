//! Status list tokens over HTTPS (draft-ietf-oauth-status-list §8.1): the production
//! [`StatusListFetcher`] for a [`StatusListCache`](schooltas_status_list::StatusListCache).

use std::fmt;
use std::time::Duration;

use schooltas_did::net::{Fetched, Get, GuardedClient, HttpTarget, NameResolver, NetError, TargetRefusal, status_text};

#[cfg(doc)]
use schooltas_status_list::StatusListTokenOptions;
use schooltas_status_list::{FetchError, STATUS_LIST_JWT_MEDIA_TYPE, StatusListFetcher, StatusListUri};

use crate::error::{Error, Result, bounded};

/// The time limit of [`HttpsStatusListFetcher`] unless [`with_timeout`](HttpsStatusListFetcher::with_timeout)
/// says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The body size limit unless [`with_max_len`](HttpsStatusListFetcher::with_max_len) says
/// otherwise: the longest token [`StatusListTokenOptions::default`] accepts (12 MiB).
pub const DEFAULT_MAX_LEN: usize = 12 << 20;

/// The media types a status list token may be served as; a response without a `Content-Type`
/// is accepted too.
pub const ACCEPTED_CONTENT_TYPES: [&str; 2] = [STATUS_LIST_JWT_MEDIA_TYPE, "application/jwt"];

/// Fetches status list tokens over HTTPS (rustls, with the webpki root certificates).
///
/// - https only; plain http only after
///   [`dangerous_allow_http_for_loopback`](Self::dangerous_allow_http_for_loopback), and then
///   only to a loopback host;
/// - `Accept: application/statuslist+jwt` (§8.1); a response `Content-Type` other than
///   [`ACCEPTED_CONTENT_TYPES`] is refused;
/// - redirects are not followed: the token must be at the URI the credential names (its `sub`
///   must equal that URI anyway);
/// - a status other than 2xx is refused;
/// - the body is limited to [`DEFAULT_MAX_LEN`] bytes, whether the server announces its
///   length, sends it chunked, or just closes the connection;
/// - the whole fetch is limited to [`DEFAULT_TIMEOUT`].
///
/// Every fetch goes through `schooltas-did`'s [`GuardedClient`]: the credential names the URI,
/// so a host that resolves to a loopback, private, link-local, shared, multicast or otherwise
/// internal address is refused **before connecting** ([`Error::ForbiddenAddress`]); only the
/// vetted address is dialled, and no proxy from the environment is used (it would resolve the
/// name itself). Transport failures carry fixed messages: no IP address, TLS or I/O error text
/// or server body goes back towards whoever sent the credential.
///
/// ```
/// use std::time::Duration;
/// use schooltas_status_list::StatusListCache;
/// use schooltas_verifier::HttpsStatusListFetcher;
/// let fetcher = HttpsStatusListFetcher::new().with_timeout(Duration::from_secs(5)).with_max_len(1 << 20);
/// let cache = StatusListCache::new(fetcher);
/// # let _ = cache;
/// ```
#[derive(Clone)]
pub struct HttpsStatusListFetcher {
    client: GuardedClient,
    max_len: usize,
    timeout: Duration,
    allow_http_for_loopback: bool,
}

impl HttpsStatusListFetcher {
    /// A fetcher with the defaults: https only, [`DEFAULT_MAX_LEN`], [`DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        HttpsStatusListFetcher {
            client: GuardedClient::new(concat!("schooltas-verifier/", env!("CARGO_PKG_VERSION"))),
            max_len: DEFAULT_MAX_LEN,
            timeout: DEFAULT_TIMEOUT,
            allow_http_for_loopback: false,
        }
    }

    /// The same fetcher over `client` instead: its resolver, its trust anchors
    /// ([`GuardedClient::with_trust_anchors_pem`](schooltas_did::net::GuardedClient::with_trust_anchors_pem) for a deployment with its own PKI) and its
    /// address rule. The limits stay.
    pub fn with_client(mut self, client: GuardedClient) -> Self {
        self.client = client;
        self
    }

    /// Refuses a response body longer than `max_len` bytes. Keep it at or below the cache's
    /// [`StatusListTokenOptions::max_token_len`], which refuses longer tokens anyway.
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Gives up when the whole fetch takes longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// **For tests only.** Fetches from a loopback host (`localhost`, `127.0.0.0/8`, `::1`) over
    /// plain http, without TLS: `https://127.0.0.1:8443/…` is fetched as
    /// `http://127.0.0.1:8443/…`. Every other host is still fetched over https only.
    pub fn dangerous_allow_http_for_loopback(mut self) -> Self {
        self.allow_http_for_loopback = true;
        self
    }

    /// **For tests only.** Lets the fetcher connect to loopback, private and other internal
    /// addresses ([`GuardedClient::dangerous_allow_private_addresses`]), for a test server on
    /// this machine.
    pub fn dangerous_allow_private_addresses(mut self) -> Self {
        self.client = self.client.dangerous_allow_private_addresses();
        self
    }

    /// Resolves host names with `resolver` instead of the system's DNS; the address check
    /// applies to its answers.
    pub fn with_resolver(mut self, resolver: impl NameResolver + 'static) -> Self {
        self.client = self.client.with_resolver(resolver);
        self
    }

    /// The body size limit in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The time limit of one fetch.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Fetches the token at `uri`, with this crate's typed errors: [`Error::ForbiddenAddress`]
    /// for a host resolving to an internal address (nothing is sent), [`Error::Fetch`] naming
    /// the reason in fixed words, or [`Error::TooLarge`].
    pub fn fetch_token(&self, uri: &StatusListUri) -> Result<String> {
        let body =
            self.fetch(uri.as_str(), STATUS_LIST_JWT_MEDIA_TYPE, &ACCEPTED_CONTENT_TYPES, "status list token")?;
        String::from_utf8(body).map_err(|_| Error::Fetch {
            uri: bounded(uri.as_str()),
            reason: "the body is not UTF-8 text, so not a compact JWS".into(),
        })
    }

    /// One guarded GET of `url`, its body as `what` served as one of `accepted`.
    fn fetch(&self, url: &str, accept: &str, accepted: &[&str], what: &str) -> Result<Vec<u8>> {
        let fail = |reason: String| Error::Fetch { uri: bounded(url), reason };
        let target = HttpTarget::parse(url).map_err(|refusal| {
            fail(
                match refusal {
                    TargetRefusal::NotAUrl => "not an http(s) URL",
                    TargetRefusal::OtherScheme => "only https URLs can be fetched",
                    TargetRefusal::UserInfo => "the URL has user information",
                    _ => "the URL has no host",
                }
                .to_owned(),
            )
        })?;
        let plain = self.allow_http_for_loopback && target.loopback;
        if !target.https && !plain {
            return Err(fail(if self.allow_http_for_loopback {
                "plain http is only allowed to a loopback host; use https".into()
            } else {
                format!("plain http is refused: a {what} is fetched over https only")
            }));
        }
        let wire = if plain { format!("http://{}", target.rest) } else { url.to_owned() };
        let get = Get { url: &wire, accept, max_len: self.max_len, timeout: self.timeout, plain_http: plain };
        let fetched = self.client.fetch(&get, accepted).map_err(|error| match error {
            NetError::ForbiddenAddress { class } => Error::ForbiddenAddress { uri: bounded(url), class },
            NetError::BodyTooLarge { .. } => Error::TooLarge {
                uri: bounded(url),
                len: error.body_len(self.max_len).unwrap_or(u64::MAX),
                limit: self.max_len,
            },
            NetError::Timeout => fail(format!("no complete answer within {} ms", self.timeout.as_millis())),
            other => fail(other.to_string()),
        })?;
        match fetched {
            Fetched::Body(body) => Ok(body),
            Fetched::Redirect { status, .. } => Err(fail(format!(
                "the server answered {} (a redirect); redirects are not followed: the {what} must be served at \
                 the URI that names it",
                status_text(status)
            ))),
            Fetched::Status(status) => Err(fail(format!("the server answered {}", status_text(status)))),
            Fetched::WrongContentType => Err(fail(format!(
                "the server sent another content type than a {what}'s (accepted: {}, or none)",
                accepted.join(", ")
            ))),
        }
    }
}

/// JWT VC Issuer Metadata and JWK sets (SD-JWT VC §5), fetched with the same guards as status
/// list tokens: `Accept: application/json`, `application/json` or `application/jwk-set+json`.
impl crate::verify::IssuerMetadataFetcher for HttpsStatusListFetcher {
    fn fetch_json(&self, url: &str) -> Result<Vec<u8>> {
        self.fetch(url, "application/json", &["application/json", "application/jwk-set+json"], "JWT VC Issuer Metadata")
    }
}

impl StatusListFetcher for HttpsStatusListFetcher {
    fn fetch(&self, uri: &StatusListUri) -> std::result::Result<String, FetchError> {
        self.fetch_token(uri).map_err(|error| Box::new(error) as FetchError)
    }
}

impl Default for HttpsStatusListFetcher {
    fn default() -> Self {
        HttpsStatusListFetcher::new()
    }
}

impl fmt::Debug for HttpsStatusListFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsStatusListFetcher")
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .field("allow_http_for_loopback", &self.allow_http_for_loopback)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_status_list::StatusListTokenOptions;

    #[test]
    fn default_limit_is_the_token_limit() {
        assert_eq!(StatusListTokenOptions::default().max_token_len, DEFAULT_MAX_LEN);
    }

    #[test]
    fn refuses_urls_that_are_no_https_url_before_connecting() {
        let fetcher = HttpsStatusListFetcher::new();
        for (uri, expected) in [
            ("ftp://school.example/x", "only https URLs can be fetched"),
            ("https://user@127.0.0.1/x", "the URL has user information"),
            ("https:///x", "the URL has no host"),
        ] {
            let uri = StatusListUri::new(uri).unwrap();
            let error = fetcher.fetch_token(&uri).unwrap_err();
            assert!(matches!(&error, Error::Fetch { reason, .. } if reason == expected), "{error}");
        }
    }

    #[test]
    fn refuses_plain_http_before_connecting() {
        let uri = StatusListUri::new("http://school.example/status/1").unwrap();
        let error = HttpsStatusListFetcher::new().fetch_token(&uri).unwrap_err();
        assert!(
            matches!(&error, Error::Fetch { reason, .. } if reason == "plain http is refused: a status list token is fetched over https only"),
            "{error}"
        );
        // JWT VC Issuer Metadata goes through the same guards.
        use crate::IssuerMetadataFetcher as _;
        let error =
            HttpsStatusListFetcher::new().fetch_json("http://school.example/.well-known/jwt-vc-issuer").unwrap_err();
        assert!(
            matches!(&error, Error::Fetch { reason, .. } if reason == "plain http is refused: a JWT VC Issuer Metadata is fetched over https only"),
            "{error}"
        );
        let error = HttpsStatusListFetcher::new().dangerous_allow_http_for_loopback().fetch_token(&uri).unwrap_err();
        assert!(
            matches!(&error, Error::Fetch { reason, .. } if reason == "plain http is only allowed to a loopback host; use https"),
            "{error}"
        );
    }
}
