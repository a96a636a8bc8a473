//! The one guarded HTTP client behind every fetch a credential or request can trigger: did:web
//! documents, status-list tokens and `request_uri` request objects.
//!
//! Whoever sends a credential or a request names the URL, so every fetch is a request the
//! *sender* makes from the verifier's or wallet's network position (server-side request forgery,
//! OWASP SSRF; OpenID4VP 1.0 §5.10 and draft-ietf-oauth-status-list §12 warn of exactly this).
//! [`GuardedClient`] therefore:
//!
//! - resolves the host name, then refuses the fetch **before connecting** if any resolved
//!   address is loopback, private (RFC 1918, `fc00::/7`), link-local (`169.254/16`,
//!   `fe80::/10`), shared (`100.64/10`, RFC 6598), multicast, unspecified, broadcast or another
//!   special-purpose range (RFC 6890), including those addresses written as IPv4-mapped
//!   (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`), NAT64 (`64:ff9b::/96`) or 6to4
//!   (`2002::/16`) IPv6 —
//!   [`NetError::ForbiddenAddress`];
//! - connects only to the addresses it vetted: the resolver is ureq's pluggable one, and its
//!   answer is what the connector dials, so a second DNS answer cannot slip in between the check
//!   and the connection (no time-of-check/time-of-use gap, no DNS rebinding);
//! - never uses a proxy from the environment: a proxy would resolve the name itself, out of
//!   reach of the check;
//! - reports failures as [`NetError`] with fixed messages: no IP address, no TLS or I/O error
//!   text and no server body goes back to the party that named the URL.
//!
//! The transport is the cargo feature `https` (on by default). Without it the types here are
//! the same, and every fetch is [`NetError::HttpsNotBuilt`] before anything is resolved.
//!
//! [`GuardedClient::dangerous_allow_private_addresses`] lifts the address check, for tests
//! against a loopback server; [`GuardedClient::with_resolver`] injects a [`NameResolver`], so
//! tests can make a name resolve anywhere without real DNS.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "https")]
mod transport;

/// Why an address is never fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// `127.0.0.0/8`, `::1`: this machine.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) and IPv6 unique-local (`fc00::/7`) or
    /// site-local (`fec0::/10`): an internal network.
    Private,
    /// `169.254/16` (cloud metadata services live here), `fe80::/10`.
    LinkLocal,
    /// `100.64/10`, carrier-grade NAT (RFC 6598).
    Shared,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `0.0.0.0/8`, `::`: "this host", which connects to the local machine.
    Unspecified,
    /// `255.255.255.255`.
    Broadcast,
    /// Other special-purpose ranges (RFC 6890): documentation, benchmarking, IETF protocol
    /// assignments, reserved `240/4`, discard-only `100::/64`.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`, or `None` for a public (globally routable) address.
    ///
    /// An IPv6 address that embeds an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
    /// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::/48`) is judged by the IPv4
    /// address it carries.
    ///
    /// ```
    /// use std::net::IpAddr;
    /// use schooltas_did::net::AddressClass;
    /// let class = |text: &str| AddressClass::of(text.parse::<IpAddr>().unwrap());
    /// assert_eq!(class("169.254.169.254"), Some(AddressClass::LinkLocal));
    /// assert_eq!(class("::ffff:10.0.0.1"), Some(AddressClass::Private));
    /// assert_eq!(class("93.184.215.14"), None);
    /// ```
    pub fn of(ip: IpAddr) -> Option<AddressClass> {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Option<AddressClass> {
        let [a, b, c, _] = ip.octets();
        Some(match (a, b, c) {
            _ if ip.is_broadcast() => AddressClass::Broadcast,
            (0, _, _) => AddressClass::Unspecified,
            (127, _, _) => AddressClass::Loopback,
            (10, _, _) | (192, 168, _) => AddressClass::Private,
            (172, 16..=31, _) => AddressClass::Private,
            (169, 254, _) => AddressClass::LinkLocal,
            (100, 64..=127, _) => AddressClass::Shared,
            (224..=239, _, _) => AddressClass::Multicast,
            (240..=255, _, _) => AddressClass::Reserved,
            // IETF protocol assignments, TEST-NET-1/2/3, benchmarking, 6to4 relay anycast.
            (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (192, 88, 99) => AddressClass::Reserved,
            (198, 18..=19, _) => AddressClass::Reserved,
            _ => return None,
        })
    }

    fn of_v6(ip: Ipv6Addr) -> Option<AddressClass> {
        if ip.is_unspecified() {
            return Some(AddressClass::Unspecified);
        }
        if ip.is_loopback() {
            return Some(AddressClass::Loopback);
        }
        let segments = ip.segments();
        let embedded_v4 = || {
            let [.., a, b, c, d] = ip.octets();
            Ipv4Addr::new(a, b, c, d)
        };
        match segments {
            // IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5).
            [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => {
                return Self::of_v4(embedded_v4());
            }
            // NAT64 well-known prefix (RFC 6052): a translator would reach the IPv4 address.
            [0x64, 0xff9b, 0, 0, 0, 0, _, _] => return Self::of_v4(embedded_v4()),
            // Local-use NAT64 (RFC 8215): translated inside the operator's own network.
            [0x64, 0xff9b, 0x0001, ..] => return Some(AddressClass::Private),
            // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 relays to the IPv4 address AA.BB.CC.DD.
            [0x2002, high, low, ..] => {
                let [a, b] = high.to_be_bytes();
                let [c, d] = low.to_be_bytes();
                if let Some(class) = Self::of_v4(Ipv4Addr::new(a, b, c, d)) {
                    return Some(class);
                }
            }
            _ => {}
        }
        let first = segments[0];
        Some(match first {
            _ if first & 0xff00 == 0xff00 => AddressClass::Multicast,
            _ if first & 0xfe00 == 0xfc00 => AddressClass::Private,
            _ if first & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
            _ if first & 0xffc0 == 0xfec0 => AddressClass::Private,
            // Documentation 2001:db8::/32, discard-only 100::/64.
            0x2001 if segments[1] == 0x0db8 => AddressClass::Reserved,
            0x0100 if segments[1..4] == [0, 0, 0] => AddressClass::Reserved,
            _ => return None,
        })
    }

    /// A short name for messages ("loopback", "private", …).
    pub const fn as_str(self) -> &'static str {
        match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Shared => "shared (carrier-grade NAT)",
            AddressClass::Multicast => "multicast",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Turns a host name into addresses. The system resolver is used unless
/// [`GuardedClient::with_resolver`] names another (tests inject one, so no real DNS is asked).
pub trait NameResolver: Send + Sync + fmt::Debug {
    /// The addresses of `host` (a DNS name, never an IP literal) at `port`.
    fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// A failed fetch, with a fixed message: nothing the server or the network said is repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The host resolves to an address that is never fetched; nothing was sent to it.
    #[error(
        "the host resolves to a {class} address, which is never fetched (the URL came from outside, so an internal \
         address is refused before connecting)"
    )]
    ForbiddenAddress {
        /// Which kind of address (the address itself is not given back).
        class: AddressClass,
    },
    /// The host name could not be resolved.
    #[error("the host name could not be resolved (DNS)")]
    HostNotFound,
    /// Nothing accepted the connection.
    #[error("connection refused: nothing listens at that host and port")]
    ConnectionRefused,
    /// The connection could not be made or broke.
    #[error("could not connect to the host")]
    ConnectionFailed,
    /// The server closed the connection early, or its answer is not HTTP/1.1.
    #[error("the server closed the connection before a complete answer (over https: it may not speak TLS)")]
    ConnectionClosed,
    /// TLS failed (certificate, name, protocol).
    #[error("the TLS connection could not be established (certificate or protocol failure)")]
    Tls,
    /// No complete answer within the time limit.
    #[error("no complete answer within the time limit")]
    Timeout,
    /// The body is longer than the limit.
    #[error("the answer is longer than the limit")]
    BodyTooLarge {
        /// The length the server announced in `Content-Length`, if that is what exceeded it.
        declared: Option<u64>,
    },
    /// The URL cannot be requested (not a valid http(s) URL).
    #[error("the URL cannot be requested")]
    BadUrl,
    /// Another failure of the HTTP exchange.
    #[error("the HTTP exchange failed")]
    Other,
    /// The trust anchors given to [`GuardedClient::with_trust_anchors_pem`] hold no usable
    /// PEM certificate.
    #[error("the trust anchors are not PEM certificates (-----BEGIN CERTIFICATE-----)")]
    BadTrustAnchors,
    /// `schooltas-did` was built without its cargo feature `https`, so there is no HTTP client;
    /// nothing was resolved or sent.
    #[error(
        "this build has no HTTPS client: schooltas-did was compiled without its cargo feature \"https\" (enable it \
         to fetch did:web documents, status lists or request objects)"
    )]
    HttpsNotBuilt,
}

/// What a server answered.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if present and text.
    pub content_type: Option<String>,
    /// The `Location` header, if present and text.
    pub location: Option<String>,
    /// The `DPoP-Nonce` header (RFC 9449 §8), if present and text.
    pub dpop_nonce: Option<String>,
    /// The `OAuth-Client-Attestation-Challenge` header (draft-ietf-oauth-attestation-based-client-auth
    /// §"Challenges"), if present and text.
    pub attestation_challenge: Option<String>,
    /// The body, at most the limit: for a GET only with a 2xx status (empty otherwise), for a
    /// POST with any status.
    pub body: Vec<u8>,
}

impl fmt::Debug for Answer {
    // The body may be a credential's status list or a request: print its length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("location", &self.location)
            .field("dpop_nonce", &self.dpop_nonce)
            .field("attestation_challenge", &self.attestation_challenge)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// One GET request through a [`GuardedClient`].
#[derive(Clone, Copy, Debug)]
pub struct Get<'a> {
    /// The URL to request (`https://…`, or `http://…` with `plain_http`).
    pub url: &'a str,
    /// The `Accept` header.
    pub accept: &'a str,
    /// The longest body read; longer is [`NetError::BodyTooLarge`].
    pub max_len: usize,
    /// The time limit for the whole exchange, body included.
    pub timeout: Duration,
    /// Allow `http://` for this request (the caller decides when, for tests against loopback).
    pub plain_http: bool,
}

/// One POST request through a [`GuardedClient`] (an OAuth token or nonce endpoint, an
/// OpenID4VCI credential endpoint, an OpenID4VP `response_uri`).
#[derive(Clone, Copy)]
pub struct Post<'a> {
    /// The URL to post to (`https://…`, or `http://…` with `plain_http`).
    pub url: &'a str,
    /// The body's `Content-Type` (`application/x-www-form-urlencoded`, `application/json`).
    pub content_type: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// The `Accept` header.
    pub accept: &'a str,
    /// A bearer token for the `Authorization` header (RFC 6750 §2.1), if any.
    pub bearer: Option<&'a str>,
    /// A DPoP proof for the `DPoP` header (RFC 9449 §4), if any; with it, the token of
    /// `bearer` is sent as `Authorization: DPoP <token>` (§7.1).
    pub dpop: Option<&'a str>,
    /// A client (wallet) attestation and its proof of possession for the
    /// `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` headers
    /// (draft-ietf-oauth-attestation-based-client-auth), if any.
    pub client_attestation: Option<(&'a str, &'a str)>,
    /// The longest answer body read; longer is [`NetError::BodyTooLarge`].
    pub max_len: usize,
    /// The time limit for the whole exchange, both bodies included.
    pub timeout: Duration,
    /// Allow `http://` for this request (the caller decides when, for tests against loopback).
    pub plain_http: bool,
}

impl fmt::Debug for Post<'_> {
    // The body is a credential request, a PIN or a presentation, the token a credential to
    // the issuer: lengths only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Post")
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .field("bearer", &self.bearer.map(|_| "…"))
            .field("dpop", &self.dpop.map(|_| "…"))
            .field("client_attestation", &self.client_attestation.map(|_| "…"))
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .field("plain_http", &self.plain_http)
            .finish()
    }
}

/// An HTTPS client that refuses internal addresses after DNS resolution. Clones share one
/// connection pool.
///
/// The transport (ureq with rustls) is the cargo feature `https`, on by default. Built without
/// it, the client still exists, so that code holding one compiles the same, but every
/// [`get`](Self::get) and [`fetch`](Self::fetch) fails with [`NetError::HttpsNotBuilt`] before
/// anything is resolved or sent.
#[derive(Clone)]
pub struct GuardedClient {
    #[cfg(feature = "https")]
    agent: ureq::Agent,
    user_agent: &'static str,
    resolver: Option<Arc<dyn NameResolver>>,
    allow_private: bool,
    /// DER certificates trusted instead of the Web PKI roots, if any.
    trust_anchors: Option<Arc<Vec<Vec<u8>>>>,
}

impl GuardedClient {
    /// A client sending `user_agent`, with the system resolver and the address check on.
    pub fn new(user_agent: &'static str) -> Self {
        Self::build(user_agent, None, false, None)
    }

    /// Resolves host names with `resolver` instead of the system's (IP literals are never
    /// resolved). The address check applies to its answers as to any other.
    pub fn with_resolver(self, resolver: impl NameResolver + 'static) -> Self {
        Self::build(self.user_agent, Some(Arc::new(resolver)), self.allow_private, self.trust_anchors)
    }

    /// **For tests only.** Lifts the address check, so that a loopback test server can be
    /// reached. Never use it where the URL comes from a credential or request.
    pub fn dangerous_allow_private_addresses(self) -> Self {
        Self::build(self.user_agent, self.resolver, true, self.trust_anchors)
    }

    /// Whether [`dangerous_allow_private_addresses`](Self::dangerous_allow_private_addresses) was called.
    pub fn allows_private_addresses(&self) -> bool {
        self.allow_private
    }

    /// Whether this build can fetch at all: `false` when `schooltas-did` was built without its
    /// cargo feature `https`, and then every request fails with [`NetError::HttpsNotBuilt`].
    pub const fn is_available() -> bool {
        cfg!(feature = "https")
    }

    /// Trusts the CA certificates in `pem` **instead of** the Web PKI roots: for a deployment
    /// with its own PKI (a test environment, a closed network) and for tests against a loopback
    /// server with a throw-away CA. Every certificate in `pem` becomes a trust anchor.
    pub fn with_trust_anchors_pem(self, pem: &[u8]) -> Result<Self, NetError> {
        let anchors = pem_certificates(pem).ok_or(NetError::BadTrustAnchors)?;
        Ok(Self::build(self.user_agent, self.resolver, self.allow_private, Some(Arc::new(anchors))))
    }

    fn build(
        user_agent: &'static str,
        resolver: Option<Arc<dyn NameResolver>>,
        allow_private: bool,
        trust_anchors: Option<Arc<Vec<Vec<u8>>>>,
    ) -> Self {
        GuardedClient {
            #[cfg(feature = "https")]
            agent: transport::agent(user_agent, resolver.clone(), allow_private, trust_anchors.as_deref()),
            user_agent,
            resolver,
            allow_private,
            trust_anchors,
        }
    }

    /// Sends one GET and reads the answer: the body (for a 2xx status only) up to
    /// `request.max_len`, whether the server announces its length, sends it chunked, or just
    /// closes the connection.
    ///
    /// Without the cargo feature `https` this is always [`NetError::HttpsNotBuilt`].
    pub fn get(&self, request: &Get<'_>) -> Result<Answer, NetError> {
        #[cfg(feature = "https")]
        {
            transport::get(&self.agent, request)
        }
        #[cfg(not(feature = "https"))]
        {
            let _ = request;
            Err(NetError::HttpsNotBuilt)
        }
    }

    /// Sends one POST and reads the answer: unlike [`get`](Self::get), the body is read for
    /// **every** status (an OAuth error response is a 400 with a JSON body, RFC 6749 §5.2), up
    /// to `request.max_len`. Redirects are not followed.
    ///
    /// Without the cargo feature `https` this is always [`NetError::HttpsNotBuilt`].
    pub fn post(&self, request: &Post<'_>) -> Result<Answer, NetError> {
        #[cfg(feature = "https")]
        {
            transport::post(&self.agent, request)
        }
        #[cfg(not(feature = "https"))]
        {
            let _ = request;
            Err(NetError::HttpsNotBuilt)
        }
    }
}

/// What [`GuardedClient::fetch`] got when the exchange itself worked: the status and media-type
/// rules every fetcher shares, applied once. Which of these a fetcher follows or refuses, and
/// in which words, stays its own rule.
#[derive(Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A 2xx answer with an accepted media type (or no `Content-Type`): its body, at most the limit.
    Body(Vec<u8>),
    /// A 3xx answer; the caller decides whether (and where) to follow it.
    Redirect {
        /// The HTTP status code.
        status: u16,
        /// The `Location` header, if present and text (the server's text: never put in a message).
        location: Option<String>,
    },
    /// Any other status than 2xx or 3xx.
    Status(u16),
    /// A 2xx answer whose `Content-Type` is none of the accepted ones. The value is not kept:
    /// it is the server's text, not ours.
    WrongContentType,
}

impl fmt::Debug for Fetched {
    // The body may be a credential's status list or a request: print its length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fetched::Body(body) => f.debug_struct("Body").field("len", &body.len()).finish(),
            Fetched::Redirect { status, location } => {
                f.debug_struct("Redirect").field("status", status).field("location", location).finish()
            }
            Fetched::Status(status) => f.debug_tuple("Status").field(status).finish(),
            Fetched::WrongContentType => f.write_str("WrongContentType"),
        }
    }
}

impl GuardedClient {
    /// Sends one GET ([`get`](Self::get): body limit, time limit, address check) and sorts the
    /// answer: a 3xx is [`Fetched::Redirect`], another non-2xx [`Fetched::Status`], a 2xx whose
    /// `Content-Type` is neither absent nor one of `accepted` (compared without parameters,
    /// case-insensitively, RFC 9110 §8.3.1) [`Fetched::WrongContentType`], and the rest
    /// [`Fetched::Body`]. `accepted` holds lowercase media types.
    pub fn fetch(&self, request: &Get<'_>, accepted: &[&str]) -> Result<Fetched, NetError> {
        let answer = self.get(request)?;
        Ok(match answer.status {
            300..=399 => Fetched::Redirect { status: answer.status, location: answer.location },
            200..=299 if !media_type_accepted(answer.content_type.as_deref(), accepted) => Fetched::WrongContentType,
            200..=299 => Fetched::Body(answer.body),
            other => Fetched::Status(other),
        })
    }
}

/// Whether a `Content-Type` value is absent or names one of `accepted` (lowercase media types),
/// parameters such as `charset` ignored (RFC 9110 §8.3.1: the type is case-insensitive).
pub fn media_type_accepted(content_type: Option<&str>, accepted: &[&str]) -> bool {
    let Some(text) = content_type else { return true };
    let media_type = text.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    accepted.contains(&media_type.as_str())
}

impl NetError {
    /// For [`NetError::BodyTooLarge`], the length to report against `max_len`: the declared
    /// `Content-Length`, or `max_len + 1` when reading stopped one byte past the limit. `None`
    /// for every other error.
    pub fn body_len(&self, max_len: usize) -> Option<u64> {
        match self {
            NetError::BodyTooLarge { declared: Some(declared) } => Some(*declared),
            NetError::BodyTooLarge { declared: None } => {
                Some(u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1))
            }
            _ => None,
        }
    }
}

/// A status code with its reason phrase ("404 Not Found"), for a message: our words for the
/// code (RFC 9110 §15 and the registered codes a fetch may meet), never the server's reason
/// text.
pub fn status_text(status: u16) -> String {
    match reason_phrase(status) {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The IANA HTTP status code registry's reason phrases (RFC 9110 §15, RFC 6585, RFC 7725,
/// RFC 8297, RFC 4918, RFC 2774).
const fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// The DER bodies of the `CERTIFICATE` blocks in `pem`; `None` when there is none or one is
/// not base64.
fn pem_certificates(pem: &[u8]) -> Option<Vec<Vec<u8>>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).ok()?;
    let mut certificates = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
        let end = body.find("-----END CERTIFICATE-----")?;
        let base64: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        certificates.push(base64::engine::general_purpose::STANDARD.decode(base64).ok()?);
        rest = &body[end + "-----END CERTIFICATE-----".len()..];
    }
    (!certificates.is_empty()).then_some(certificates)
}

/// What a fetcher needs to know of an `http(s)://` URL before fetching it/// What a fetcher needs to know of an `http(s)://` URL before fetching it: the scheme, whether
/// the host is loopback (the only host a test may reach over plain http), and what follows
/// `scheme://`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpTarget<'a> {
    /// The scheme is `https` (any case); otherwise it is `http`.
    pub https: bool,
    /// The host is `localhost`, in `127.0.0.0/8` or `::1`.
    pub loopback: bool,
    /// Everything after `scheme://`.
    pub rest: &'a str,
}

/// Why [`HttpTarget::parse`] refused a URL; each fetcher words it for its own kind of URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetRefusal {
    /// No `scheme://`.
    NotAUrl,
    /// A scheme other than http or https.
    OtherScheme,
    /// User information (`user@host`) in the authority: a classic way to disguise the host.
    UserInfo,
    /// An empty host.
    NoHost,
}

impl<'a> HttpTarget<'a> {
    /// Splits `url` (RFC 3986 §3: the authority ends at the first `/`, `?` or `#`).
    pub fn parse(url: &'a str) -> Result<Self, TargetRefusal> {
        let (scheme, rest) = url.split_once("://").ok_or(TargetRefusal::NotAUrl)?;
        let https = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(TargetRefusal::OtherScheme);
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(TargetRefusal::UserInfo);
        }
        let host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() {
            return Err(TargetRefusal::NoHost);
        }
        let loopback = host.eq_ignore_ascii_case("localhost")
            || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
            || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
        Ok(HttpTarget { https, loopback, rest })
    }
}

impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("user_agent", &self.user_agent)
            .field("resolver", &self.resolver)
            .field("allow_private_addresses", &self.allow_private)
            .field("trust_anchors", &self.trust_anchors.as_ref().map(|anchors| anchors.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn class(text: &str) -> Option<AddressClass> {
        AddressClass::of(text.parse().unwrap())
    }

    #[test]
    fn classifies_internal_addresses() {
        use AddressClass::*;
        for (text, expected) in [
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("10.0.0.1", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("fec0::1", Private),
            ("169.254.169.254", LinkLocal),
            ("fe80::1", LinkLocal),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("240.0.0.1", Reserved),
            ("192.0.2.1", Reserved),
            ("198.18.0.1", Reserved),
            ("2001:db8::1", Reserved),
            // IPv4 written as IPv6.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::127.0.0.1", Loopback),
            ("::10.1.2.3", Private),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b:1::a00:1", Private),
            ("2002:7f00:1::", Loopback),
            ("2002:a9fe:a9fe::1", LinkLocal),
        ] {
            assert_eq!(class(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for text in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert_eq!(class(text), None, "{text}");
        }
    }

    #[test]
    fn media_types_compare_without_parameters() {
        let accepted = ["application/jwt"];
        assert!(media_type_accepted(None, &accepted));
        assert!(media_type_accepted(Some("Application/JWT; charset=utf-8"), &accepted));
        assert!(!media_type_accepted(Some("text/html"), &accepted));
        assert!(!media_type_accepted(Some(""), &accepted));
    }

    #[test]
    fn body_len_reports_declared_or_one_past_the_limit() {
        assert_eq!(NetError::BodyTooLarge { declared: Some(99) }.body_len(10), Some(99));
        assert_eq!(NetError::BodyTooLarge { declared: None }.body_len(10), Some(11));
        assert_eq!(NetError::BodyTooLarge { declared: None }.body_len(usize::MAX), Some(u64::MAX));
        assert_eq!(NetError::Timeout.body_len(10), None);
    }

    #[test]
    fn targets_split_and_refuse() {
        let target = HttpTarget::parse("HTTP://[::1]:8080/x#y").unwrap();
        assert!(!target.https && target.loopback && target.rest == "[::1]:8080/x#y");
        assert!(HttpTarget::parse("https://LOCALHOST/").unwrap().loopback);
        assert!(!HttpTarget::parse("https://127.0.0.1.example/").unwrap().loopback);
        assert_eq!(HttpTarget::parse("no url"), Err(TargetRefusal::NotAUrl));
        assert_eq!(HttpTarget::parse("ftp://a/"), Err(TargetRefusal::OtherScheme));
        assert_eq!(HttpTarget::parse("https://127.0.0.1@evil.example/"), Err(TargetRefusal::UserInfo));
        assert_eq!(HttpTarget::parse("https:///x"), Err(TargetRefusal::NoHost));
    }

    #[test]
    fn status_texts_name_the_code_in_our_words() {
        assert_eq!(status_text(404), "404 Not Found");
        assert_eq!(status_text(308), "308 Permanent Redirect");
        assert_eq!(status_text(599), "599");
    }

    /// The reason phrases are the ones the messages carried while they came from ureq's `http`
    /// crate, so no message changed when the table replaced it.
    #[cfg(feature = "https")]
    #[test]
    fn reason_phrases_are_the_http_crates() {
        for code in 100..=999u16 {
            let theirs = ureq::http::StatusCode::from_u16(code).ok().and_then(|s| s.canonical_reason());
            assert_eq!(reason_phrase(code), theirs, "{code}");
        }
    }

    #[test]
    fn messages_are_fixed_and_name_no_address() {
        let error = NetError::ForbiddenAddress { class: AddressClass::LinkLocal };
        let text = error.to_string();
        assert!(text.contains("link-local") && !text.contains("169.254"), "{text}");
    }
}
