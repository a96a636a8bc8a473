//! Status list tokens over HTTPS (draft-ietf-oauth-status-list §8.1): the production
//! [`StatusListFetcher`] for a [`StatusListCache`](schooltas_credential::status_list::StatusListCache).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use schooltas_did::net::{Get, GuardedClient, NameResolver, NetError};

#[cfg(doc)]
use schooltas_credential::status_list::StatusListTokenOptions;
use schooltas_credential::status_list::{FetchError, STATUS_LIST_JWT_MEDIA_TYPE, StatusListFetcher, StatusListUri};

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
/// use schooltas_credential::status_list::StatusListCache;
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
        let fail = |reason: String| Error::Fetch { uri: bounded(uri.as_str()), reason };
        let target = Target::parse(uri.as_str()).map_err(|reason| fail(reason.to_owned()))?;
        let plain = self.allow_http_for_loopback && target.loopback;
        if !target.https && !plain {
            return Err(fail(if self.allow_http_for_loopback {
                "plain http is only allowed to a loopback host; use https".into()
            } else {
                "plain http is refused: status list tokens are fetched over https only".into()
            }));
        }
        let wire = if plain { format!("http://{}", target.rest) } else { uri.as_str().to_owned() };
        let get = Get {
            url: &wire,
            accept: STATUS_LIST_JWT_MEDIA_TYPE,
            max_len: self.max_len,
            timeout: self.timeout,
            plain_http: plain,
        };
        let too_large = |len: u64| Error::TooLarge { uri: bounded(uri.as_str()), len, limit: self.max_len };
        let answer = self.client.get(&get).map_err(|error| match error {
            NetError::ForbiddenAddress { class } => Error::ForbiddenAddress { uri: bounded(uri.as_str()), class },
            NetError::BodyTooLarge { declared: Some(len) } => too_large(len),
            NetError::BodyTooLarge { declared: None } => {
                too_large(u64::try_from(self.max_len).unwrap_or(u64::MAX).saturating_add(1))
            }
            NetError::Timeout => fail(format!("no complete answer within {} ms", self.timeout.as_millis())),
            other => fail(other.to_string()),
        })?;

        let status = answer.status;
        if (300..400).contains(&status) {
            return Err(fail(format!(
                "the server answered {} (a redirect); redirects are not followed: the token must be served at \
                 the URI the credential names",
                status_text(status)
            )));
        }
        if !(200..300).contains(&status) {
            return Err(fail(format!("the server answered {}", status_text(status))));
        }
        check_content_type(answer.content_type.as_deref()).map_err(fail)?;
        String::from_utf8(answer.body).map_err(|_| fail("the body is not UTF-8 text, so not a compact JWS".into()))
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

/// What the fetcher needs to know of a URI: its scheme, whether its host is loopback, and what
/// follows `scheme:`.
struct Target<'a> {
    https: bool,
    loopback: bool,
    /// After `scheme://`.
    rest: &'a str,
}

impl<'a> Target<'a> {
    fn parse(uri: &'a str) -> std::result::Result<Self, &'static str> {
        let (scheme, rest) = uri.split_once("://").ok_or("not an http(s) URL")?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err("only https URLs can be fetched");
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err("a status list URL has no user information");
        }
        let host = if let Some(bracketed) = authority.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or_default()
        } else {
            authority.split(':').next().unwrap_or_default()
        };
        if host.is_empty() {
            return Err("the URL has no host");
        }
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
            || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
        Ok(Target { https, loopback, rest })
    }
}

/// Accepts a missing `Content-Type` or one of [`ACCEPTED_CONTENT_TYPES`] (parameters ignored).
/// The server's value is not repeated: it is the server's text, not ours.
fn check_content_type(value: Option<&str>) -> std::result::Result<(), String> {
    let Some(text) = value else { return Ok(()) };
    let media_type = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if ACCEPTED_CONTENT_TYPES.contains(&media_type.as_str()) {
        return Ok(());
    }
    Err(format!(
        "the server sent another content type than a status list token's (accepted: {}, or none)",
        ACCEPTED_CONTENT_TYPES.join(", ")
    ))
}

fn status_text(status: u16) -> String {
    match ureq::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_credential::status_list::StatusListTokenOptions;

    #[test]
    fn default_limit_is_the_token_limit() {
        assert_eq!(StatusListTokenOptions::default().max_token_len, DEFAULT_MAX_LEN);
    }

    #[test]
    fn reads_scheme_and_loopback() {
        let t = Target::parse("https://127.0.0.1:8443/status/1").unwrap();
        assert!(t.https && t.loopback);
        assert_eq!(t.rest, "127.0.0.1:8443/status/1");
        assert!(Target::parse("https://[::1]/x").unwrap().loopback);
        assert!(Target::parse("HTTP://localhost/x").is_ok_and(|t| !t.https && t.loopback));
        assert!(!Target::parse("https://school.example/x").unwrap().loopback);
        assert!(!Target::parse("https://127.0.0.1.evil.example/x").unwrap().loopback);
        assert!(Target::parse("https://user@127.0.0.1/x").is_err());
        assert!(Target::parse("ftp://school.example/x").is_err());
        assert!(Target::parse("urn:uuid:1234").is_err());
    }

    #[test]
    fn refuses_plain_http_before_connecting() {
        let uri = StatusListUri::new("http://school.example/status/1").unwrap();
        let error = HttpsStatusListFetcher::new().fetch_token(&uri).unwrap_err();
        assert!(error.to_string().contains("https only"), "{error}");
        let error = HttpsStatusListFetcher::new().dangerous_allow_http_for_loopback().fetch_token(&uri).unwrap_err();
        assert!(error.to_string().contains("only allowed to a loopback host"), "{error}");
    }
}
