//! Request objects by reference over HTTPS (OpenID4VP 1.0 §5.10, RFC 9101 §5.2): the production
//! fetcher behind [`Verifiers::fetch_request_object`](crate::Verifiers::fetch_request_object).
//!
//! The `request_uri` comes from whoever showed the wallet a QR code or link, so the fetch is a
//! request the *sender* makes from the family's phone. It goes through `schooltas-did`'s
//! [`GuardedClient`]: a host resolving to a loopback, private, link-local, shared, multicast
//! or otherwise internal address (the home router, a printer) is refused before connecting.

use std::fmt;
use std::time::Duration;

use schooltas_did::net::{Fetched, Get, GuardedClient, HttpTarget, NameResolver, NetError, TargetRefusal};

use crate::error::{Error, Result};

/// The media type of a request object (RFC 9101 §10.2).
pub const REQUEST_OBJECT_MEDIA_TYPE: &str = "application/oauth-authz-req+jwt";

/// The media types a request object may be served as; a response without a `Content-Type`
/// is accepted too.
pub const ACCEPTED_CONTENT_TYPES: [&str; 2] = [REQUEST_OBJECT_MEDIA_TYPE, "application/jwt"];

/// The time limit unless [`with_timeout`](HttpsRequestObjectFetcher::with_timeout) says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The body size limit unless [`with_max_len`](HttpsRequestObjectFetcher::with_max_len) says
/// otherwise (256 KiB: a signed request with its DCQL query is a few KiB).
pub const DEFAULT_MAX_LEN: usize = 256 << 10;

/// Fetches request objects over HTTPS (rustls, webpki roots).
///
/// - https only; plain http only after
///   [`dangerous_allow_http_for_loopback`](Self::dangerous_allow_http_for_loopback), and then
///   only to a loopback host;
/// - internal addresses refused after DNS resolution, unless
///   [`dangerous_allow_private_addresses`](Self::dangerous_allow_private_addresses);
/// - `Accept: application/oauth-authz-req+jwt`; another `Content-Type` is refused;
/// - redirects are not followed, a status other than 2xx is refused;
/// - the body is limited to [`DEFAULT_MAX_LEN`] and the whole fetch to [`DEFAULT_TIMEOUT`].
///
/// Failures are `schooltas-did` errors inside [`Error::Did`]: [`schooltas_did::Error::ForbiddenAddress`],
/// [`schooltas_did::Error::Fetch`] (fixed words, never the server's text or an address) or
/// [`schooltas_did::Error::TooLarge`].
///
/// ```
/// use schooltas_wallet::http::HttpsRequestObjectFetcher;
/// let fetcher = HttpsRequestObjectFetcher::new();
/// let fetch = |uri: &str| fetcher.fetch(uri);
/// # let _ = fetch;
/// ```
#[derive(Clone)]
pub struct HttpsRequestObjectFetcher {
    client: GuardedClient,
    max_len: usize,
    timeout: Duration,
    allow_http_for_loopback: bool,
}

impl HttpsRequestObjectFetcher {
    /// A fetcher with the defaults.
    pub fn new() -> Self {
        HttpsRequestObjectFetcher {
            client: GuardedClient::new(concat!("schooltas-wallet/", env!("CARGO_PKG_VERSION"))),
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

    /// Refuses a body longer than `max_len` bytes.
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Gives up when the whole fetch takes longer than `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Resolves host names with `resolver` instead of the system's DNS; the address check
    /// applies to its answers.
    pub fn with_resolver(mut self, resolver: impl NameResolver + 'static) -> Self {
        self.client = self.client.with_resolver(resolver);
        self
    }

    /// **For tests only.** Lets the fetcher connect to loopback, private and other internal
    /// addresses, for a test server on this machine.
    pub fn dangerous_allow_private_addresses(mut self) -> Self {
        self.client = self.client.dangerous_allow_private_addresses();
        self
    }

    /// **For tests only.** Fetches from a loopback host over plain http: `https://127.0.0.1:8443/…`
    /// is fetched as `http://127.0.0.1:8443/…`. Other hosts are still fetched over https only.
    pub fn dangerous_allow_http_for_loopback(mut self) -> Self {
        self.allow_http_for_loopback = true;
        self
    }

    /// Fetches the request object at `uri` as text.
    pub fn fetch(&self, uri: &str) -> Result<String> {
        let shown = bounded(uri);
        let fail = |reason: &str| Error::Did(schooltas_did::Error::Fetch { url: shown.clone(), reason: reason.into() });
        let target = HttpTarget::parse(uri).map_err(|refusal| {
            fail(match refusal {
                TargetRefusal::NotAUrl => "the request_uri is not an http(s) URL",
                TargetRefusal::OtherScheme => "the request_uri is not an https URL",
                TargetRefusal::UserInfo => "a request_uri has no user information",
                _ => "the request_uri has no host",
            })
        })?;
        let plain = self.allow_http_for_loopback && target.loopback;
        if !target.https && !plain {
            return Err(fail("plain http is refused: a request object is fetched over https only"));
        }
        let wire = if plain { format!("http://{}", target.rest) } else { format!("https://{}", target.rest) };
        let get = Get {
            url: &wire,
            accept: REQUEST_OBJECT_MEDIA_TYPE,
            max_len: self.max_len,
            timeout: self.timeout,
            plain_http: plain,
        };
        let fetched = self
            .client
            .fetch(&get, &ACCEPTED_CONTENT_TYPES)
            .map_err(|error| net_error("request object", uri, self.max_len, error))?;
        let body = match fetched {
            Fetched::Body(body) => body,
            Fetched::Redirect { .. } => {
                return Err(fail("the server answered with a redirect; redirects are not followed for a request_uri"));
            }
            Fetched::Status(_) => return Err(fail("the server did not answer 2xx")),
            Fetched::WrongContentType => {
                return Err(fail("the server sent another content type than a request object's"));
            }
        };
        String::from_utf8(body).map_err(|_| fail("the body is not UTF-8 text, so not a request object"))
    }
}

impl Default for HttpsRequestObjectFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HttpsRequestObjectFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsRequestObjectFetcher")
            .field("client", &self.client)
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .field("allow_http_for_loopback", &self.allow_http_for_loopback)
            .finish()
    }
}

/// A transport failure as this crate reports it (inside [`Error::Did`]): an internal address
/// by its class, an answer over `max_len` by its length, anything else in fixed words. The
/// URL is shown at most 200 characters long; nothing the server said is repeated.
pub(crate) fn net_error(what: &'static str, url: &str, max_len: usize, error: NetError) -> Error {
    Error::Did(match error {
        NetError::ForbiddenAddress { class } => schooltas_did::Error::ForbiddenAddress { url: bounded(url), class },
        NetError::BodyTooLarge { .. } => schooltas_did::Error::TooLarge {
            what,
            len: error.body_len(max_len).map_or(usize::MAX, |len| usize::try_from(len).unwrap_or(usize::MAX)),
            limit: max_len,
        },
        other => schooltas_did::Error::Fetch { url: bounded(url), reason: other.to_string() },
    })
}

/// At most 200 characters of a URI, for a message.
pub(crate) fn bounded(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn refuses_urls_that_are_no_https_request_uri_before_connecting() {
        let fetcher = HttpsRequestObjectFetcher::new();
        for (uri, expected) in [
            ("urn:x", "the request_uri is not an http(s) URL"),
            ("ftp://v.example/", "the request_uri is not an https URL"),
            ("https://u@v.example/", "a request_uri has no user information"),
            ("https:///x", "the request_uri has no host"),
        ] {
            let error = fetcher.fetch(uri).unwrap_err();
            assert!(
                matches!(&error, Error::Did(schooltas_did::Error::Fetch { reason, .. }) if reason == expected),
                "{uri}: {error}"
            );
        }
    }

    #[test]
    fn plain_http_is_refused_before_connecting() {
        let err = HttpsRequestObjectFetcher::new().fetch("http://verifier.example/r/1").unwrap_err();
        assert!(matches!(err, Error::Did(schooltas_did::Error::Fetch { .. })), "{err}");
        let err = HttpsRequestObjectFetcher::new()
            .dangerous_allow_http_for_loopback()
            .fetch("http://verifier.example/r/1")
            .unwrap_err();
        assert!(matches!(err, Error::Did(schooltas_did::Error::Fetch { .. })), "{err}");
    }
}
