//! did:web (W3C CCG did-method-web): a DID document served over HTTPS by the DID's own host.
//!
//! - [`url_for`] maps a DID to the URL of its document: `did:web:school.example` is served at
//!   `https://school.example/.well-known/did.json`, `did:web:school.example:schools:12AB00` at
//!   `https://school.example/schools/12AB00/did.json`, and a port is written percent-encoded
//!   (`did:web:school.example%3A8443`). [`did_for_url`] is the reverse.
//! - [`resolve`] fetches the document through a [`DocumentFetcher`] and checks that it describes
//!   the DID that was resolved.
//! - [`HttpsFetcher`] is the fetcher for production: https only, a size limit, a time limit,
//!   redirects only within the same host, and no connection to a host that resolves to an
//!   internal address ([`crate::net`]).
//!
//! The spec forbids IP addresses in a did:web; this module accepts loopback addresses
//! (`127.0.0.0/8`, `::1`) all the same, so that tests can run against a local server (the
//! fetcher connects to them only after [`HttpsFetcher::dangerous_allow_private_addresses`]).

use std::fmt;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

use crate::algorithm::truncate_for_message;
use crate::did::Did;
use crate::document::{DidDocument, MAX_DOCUMENT_LEN};
use crate::error::{Error, Result};
use crate::net::{AddressClass, Fetched, Get, GuardedClient, NameResolver, NetError, status_text};

/// Fetches the bytes of a DID document from an https URL.
pub trait DocumentFetcher: Send + Sync {
    /// Fetches `url`.
    fn fetch(&self, url: &str) -> Result<Vec<u8>>;
}

/// Bytes written as themselves in a URL path segment (RFC 3986 unreserved); all others are
/// percent-encoded.
const URL_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Bytes written as themselves in a DID's method-specific id (DID Core `idchar`, less `%`).
const DID_IDCHAR: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_');

// ---- DID <-> URL ------------------------------------------------------------------------------

/// The https URL of the document of a did:web.
///
/// The method-specific id is split at `:`; the first part is the host (with an optional
/// percent-encoded port), the others are path segments, each percent-decoded. Refused, with
/// [`Error::InvalidDid`] saying why: a DID of another method, an empty segment, a host that is
/// neither a domain name nor a loopback IP address, a port that is not a number from 1 to 65535,
/// and any decoded character that would change the structure of the URL (`/`, `?`, `#`, `@`,
/// `\`, `%`, a control character, or a `.`/`..` segment).
///
/// ```
/// use schooltas_did::{Did, did_web};
///
/// let did: Did = "did:web:school.example".parse()?;
/// assert_eq!(did_web::url_for(&did)?, "https://school.example/.well-known/did.json");
///
/// let did: Did = "did:web:school.example%3A8443:schools:12AB00".parse()?;
/// assert_eq!(did_web::url_for(&did)?, "https://school.example:8443/schools/12AB00/did.json");
///
/// // A percent-encoded '/' would smuggle a path into the host.
/// assert!(matches!(
///     did_web::url_for(&"did:web:school.example%2Fadmin".parse()?),
///     Err(schooltas_did::Error::InvalidDid { .. })
/// ));
/// # Ok::<(), schooltas_did::Error>(())
/// ```
pub fn url_for(did: &Did) -> Result<String> {
    let invalid = |reason: &'static str| Error::InvalidDid { did: truncate_for_message(did.as_str()), reason };
    if did.method() != "web" {
        return Err(invalid("not a did:web: only a did:web names an https URL"));
    }
    let mut segments = did.method_specific_id().split(':');
    let authority = decode_did_authority(segments.next().unwrap_or_default()).map_err(invalid)?;
    let mut path = String::new();
    for segment in segments {
        let bytes = decode_path_segment(segment).map_err(invalid)?;
        path.push('/');
        path.extend(percent_encode(&bytes, URL_SEGMENT));
    }
    if path.is_empty() {
        path.push_str("/.well-known");
    }
    Ok(format!("https://{authority}{path}/did.json"))
}

/// The did:web whose document is at `url`, the reverse of [`url_for`].
///
/// `url` is an https URL of a `did.json` (`https://host/.well-known/did.json`,
/// `https://host/a/b/did.json`) or of a host or directory (`https://host`, `https://host/a/b/`).
/// A port is written `%3A<port>`; the default port 443 is left out, and the host is written in
/// lowercase. Refused with [`Error::InvalidDid`]: another scheme than https, user information,
/// a query or fragment, `https://host/did.json` (a host's own DID lives under `/.well-known`),
/// and everything [`url_for`] refuses.
///
/// ```
/// use schooltas_did::did_web;
/// let did = did_web::did_for_url("https://school.example:8443/schools/12AB00/did.json")?;
/// assert_eq!(did.as_str(), "did:web:school.example%3A8443:schools:12AB00");
/// # Ok::<(), schooltas_did::Error>(())
/// ```
pub fn did_for_url(url: &str) -> Result<Did> {
    let invalid = |reason: &'static str| Error::InvalidDid { did: for_message(url), reason };
    let rest =
        strip_prefix_ignore_case(url, "https://").ok_or_else(|| invalid("a did:web URL must start with https://"))?;
    if rest.contains(['?', '#']) {
        return Err(invalid("a did:web URL has no query or fragment"));
    }
    let (authority_text, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let authority = parse_authority(authority_text, IpPolicy::LoopbackOnly).map_err(invalid)?;
    let directory = match path {
        "" | "/" | "/.well-known/did.json" => "",
        "/did.json" => {
            return Err(invalid(
                "https://host/did.json is not a did:web location: the DID of a host alone lives at /.well-known/did.json",
            ));
        }
        _ => {
            let dir = path.strip_suffix("/did.json").or_else(|| path.strip_suffix('/')).unwrap_or(path);
            dir.strip_prefix('/').unwrap_or(dir)
        }
    };
    let mut text = String::from("did:web:");
    text.extend(percent_encode(authority.host.to_string().as_bytes(), DID_IDCHAR));
    if let Some(port) = authority.port.filter(|port| *port != 443) {
        let _ = write!(text, "%3A{port}");
    }
    if !directory.is_empty() {
        for segment in directory.split('/') {
            let bytes = decode_path_segment(segment).map_err(invalid)?;
            text.push(':');
            text.extend(percent_encode(&bytes, DID_IDCHAR));
        }
    }
    let did = Did::parse(&text)?;
    // The two mappings must agree: whatever this function builds, url_for accepts.
    url_for(&did)?;
    Ok(did)
}

// ---- resolution -------------------------------------------------------------------------------

/// Resolves a did:web: fetches the document at [`url_for`]`(did)` with `fetcher`, parses it, and
/// checks that its `id` is `did` (a document served for another DID is refused).
///
/// Errors name the DID: [`Error::InvalidDid`] from [`url_for`], [`Error::Fetch`] and
/// [`Error::TooLarge`] from the fetcher, [`Error::InvalidDidDocument`] for a document that is not
/// valid JSON of a DID document or that describes another DID.
pub fn resolve(did: &Did, fetcher: &dyn DocumentFetcher) -> Result<DidDocument> {
    let url = url_for(did)?;
    let bytes = fetcher.fetch(&url).map_err(|e| match e {
        Error::Fetch { url, reason } => Error::Fetch { url, reason: format!("{reason} (resolving {did})") },
        other => other,
    })?;
    let document = DidDocument::from_json(&bytes).map_err(|e| match e {
        Error::InvalidDidDocument { reason, .. } => {
            Error::InvalidDidDocument { did: did.to_string(), reason: format!("{reason} (fetched from {url})") }
        }
        other => other,
    })?;
    document.check_subject(did)?;
    Ok(document)
}

// ---- the HTTPS fetcher ------------------------------------------------------------------------

/// The time limit of [`HttpsFetcher`] unless [`HttpsFetcher::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many redirects [`HttpsFetcher`] follows (all to the same scheme, host and port).
pub const MAX_REDIRECTS: usize = 3;

/// The media types a DID document may be served as; a response without a `Content-Type` is
/// accepted too.
pub const ACCEPTED_CONTENT_TYPES: [&str; 4] =
    ["application/did+json", "application/did+ld+json", "application/json", "application/ld+json"];

const ACCEPT_HEADER: &str =
    "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8, application/ld+json;q=0.7";

/// A [`DocumentFetcher`] over HTTPS (rustls, with the webpki root certificates).
///
/// The transport is `schooltas-did`'s cargo feature `https` (on by default). Built without
/// it, this type is still here, so callers compile unchanged, and every fetch fails with
/// [`Error::HttpsNotBuilt`] naming the URL; did:key and did:jwk resolve offline either way.
///
/// - https only; plain http only after [`dangerous_allow_http_for_loopback`](Self::dangerous_allow_http_for_loopback),
///   and then only to a loopback host;
/// - the body is limited to [`MAX_DOCUMENT_LEN`] bytes ([`with_max_len`](Self::with_max_len)),
///   whether the server announces its length, sends it chunked, or just closes the connection;
/// - the whole fetch, redirects and body included, is limited to [`DEFAULT_TIMEOUT`]
///   ([`with_timeout`](Self::with_timeout));
/// - at most [`MAX_REDIRECTS`] redirects are followed, and only to the same scheme, host and port:
///   a did:web document is served by the DID's own host;
/// - a status other than 2xx and a `Content-Type` other than [`ACCEPTED_CONTENT_TYPES`] are
///   refused.
///
/// Every fetch goes through a [`GuardedClient`]: a host that resolves to a loopback, private,
/// link-local, shared, multicast or otherwise internal address is refused **before connecting**
/// ([`Error::ForbiddenAddress`]), only the vetted address is dialled, and no proxy from the
/// environment is used (it would resolve the name itself). A did:web names its host, and the
/// DID came from whoever sent the credential: without this check, any credential could make the
/// verifier probe its own network. Transport failures are reported with fixed messages (no IP
/// address, TLS or I/O error text, or server body).
///
/// ```
/// use std::time::Duration;
/// use schooltas_did::{Resolver, did_web::HttpsFetcher};
/// let fetcher = HttpsFetcher::new().with_timeout(Duration::from_secs(5)).with_max_len(64 << 10);
/// let resolver = Resolver::with_web_fetcher(fetcher);
/// # let _ = resolver;
/// ```
#[derive(Clone)]
pub struct HttpsFetcher {
    client: GuardedClient,
    max_len: usize,
    timeout: Duration,
    allow_http_for_loopback: bool,
}

impl HttpsFetcher {
    /// A fetcher with the defaults: https only, [`MAX_DOCUMENT_LEN`], [`DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        HttpsFetcher {
            client: GuardedClient::new(concat!("schooltas-did/", env!("CARGO_PKG_VERSION"))),
            max_len: MAX_DOCUMENT_LEN,
            timeout: DEFAULT_TIMEOUT,
            allow_http_for_loopback: false,
        }
    }

    /// Refuses a response body longer than `max_len` bytes (the default is [`MAX_DOCUMENT_LEN`];
    /// [`resolve`] refuses longer documents anyway).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// Gives up when the whole fetch, redirects and body included, takes longer than `timeout`
    /// (the default is [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// **For tests only.** Fetches from a loopback host (`localhost`, `127.0.0.0/8`, `::1`) over
    /// plain http, without TLS: an `https://127.0.0.1:8443/…` URL is fetched as
    /// `http://127.0.0.1:8443/…`. Every other host is still fetched over https only, and plain
    /// http to it is refused before connecting.
    pub fn dangerous_allow_http_for_loopback(mut self) -> Self {
        self.allow_http_for_loopback = true;
        self
    }

    /// **For tests only.** Lets the fetcher connect to loopback, private and other internal
    /// addresses ([`GuardedClient::dangerous_allow_private_addresses`]), for a test server on
    /// this machine. Together with [`dangerous_allow_http_for_loopback`](Self::dangerous_allow_http_for_loopback)
    /// it reaches a plain-http server on 127.0.0.1.
    pub fn dangerous_allow_private_addresses(mut self) -> Self {
        self.client = self.client.dangerous_allow_private_addresses();
        self
    }

    /// The same fetcher over `client` instead: its resolver, its trust anchors
    /// ([`GuardedClient::with_trust_anchors_pem`] for a deployment with its own PKI) and its
    /// address rule. The limits stay.
    pub fn with_client(mut self, client: GuardedClient) -> Self {
        self.client = client;
        self
    }

    /// Resolves host names with `resolver` instead of the system's DNS; the address check
    /// applies to its answers. For tests, and for deployments with their own resolver.
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

    /// Whether the URL is fetched over plain http (loopback only, and only if allowed).
    fn is_plain(&self, url: &FetchUrl) -> bool {
        self.allow_http_for_loopback && url.authority.host.is_loopback()
    }

    /// Refuses plain http unless it is allowed for this host.
    fn check_scheme(&self, url: &FetchUrl) -> std::result::Result<(), String> {
        if url.https || self.is_plain(url) {
            return Ok(());
        }
        if self.allow_http_for_loopback {
            Err(format!(
                "plain http is only allowed to a loopback host (localhost, 127.0.0.0/8, ::1), and {} is not one; \
                 use https",
                url.authority.host
            ))
        } else {
            Err("plain http is refused: did:web documents are fetched over https only".into())
        }
    }

    /// Follows a redirect from `from` to `location`, if it stays on the same scheme, host and port.
    ///
    /// The `Location` is the server's text and may name an internal host (a load balancer's
    /// backend): messages name the origin the DID gave, never the redirect target.
    fn redirect_target(&self, from: &FetchUrl, location: &str) -> std::result::Result<FetchUrl, String> {
        let to = from.join(location).map_err(|reason| format!("a redirect is refused: {reason}"))?;
        if !to.https && !self.is_plain(&to) {
            return Err("a redirect from https to plain http is refused".into());
        }
        if to.authority.host != from.authority.host || to.effective_port() != from.effective_port() {
            return Err(format!(
                "redirected from {} to another host; a did:web document must be served by the DID's own host, \
                 so redirects to another host or port are refused",
                from.origin()
            ));
        }
        Ok(to)
    }

    fn fetch_checked(&self, start: FetchUrl) -> std::result::Result<Vec<u8>, FetchFailure> {
        let deadline = Instant::now().checked_add(self.timeout);
        let mut current = start;
        let mut redirects = 0;
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if remaining.is_some_and(|r| r.is_zero()) {
                return Err(FetchFailure::Reason(self.timeout_reason()));
            }
            let plain = self.is_plain(&current);
            let wire = current.wire_url(plain);
            let get = Get {
                url: &wire,
                accept: ACCEPT_HEADER,
                max_len: self.max_len,
                timeout: remaining.unwrap_or(self.timeout),
                plain_http: plain,
            };
            let fetched = self.client.fetch(&get, &ACCEPTED_CONTENT_TYPES).map_err(|e| self.describe(e))?;
            let here = if redirects == 0 {
                String::new()
            } else {
                format!(" (after redirects, at {})", current.logical_url())
            };

            match fetched {
                Fetched::Body(body) => return Ok(body),
                Fetched::Redirect { status, location } => {
                    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                        return Err(FetchFailure::Reason(format!(
                            "the server answered {}, which is not a redirect that can be followed{here}",
                            status_text(status)
                        )));
                    }
                    if redirects == MAX_REDIRECTS {
                        return Err(FetchFailure::Reason(format!(
                            "more than {MAX_REDIRECTS} redirects; a did:web document must be reachable in at most \
                             {MAX_REDIRECTS}{here}"
                        )));
                    }
                    let location = location.ok_or_else(|| {
                        FetchFailure::Reason(format!(
                            "the server answered {} without a readable Location header{here}",
                            status_text(status)
                        ))
                    })?;
                    current = self.redirect_target(&current, &location).map_err(FetchFailure::Reason)?;
                    redirects += 1;
                }
                Fetched::Status(status) => {
                    return Err(FetchFailure::Reason(format!("the server answered {}{here}", status_text(status))));
                }
                Fetched::WrongContentType => {
                    return Err(FetchFailure::Reason(format!(
                        "the server sent another content type than a DID document's (accepted: {}, or none){here}",
                        ACCEPTED_CONTENT_TYPES.join(", ")
                    )));
                }
            }
        }
    }

    fn timeout_reason(&self) -> String {
        format!(
            "no complete answer within {} ms (the time limit for the whole fetch, redirects included)",
            self.timeout.as_millis()
        )
    }

    /// A fixed, person-readable reason for a transport failure: nothing the network or the
    /// server said is repeated.
    fn describe(&self, error: NetError) -> FetchFailure {
        match error {
            NetError::ForbiddenAddress { class } => FetchFailure::Forbidden(class),
            NetError::HttpsNotBuilt => FetchFailure::HttpsNotBuilt,
            NetError::Timeout => FetchFailure::Reason(self.timeout_reason()),
            NetError::BodyTooLarge { declared } => FetchFailure::TooLarge {
                what: if declared.is_some() {
                    "the did:web response body (by its Content-Length header)"
                } else {
                    "the did:web response body (reading stopped one byte past the limit)"
                },
                len: error.body_len(self.max_len).map_or(usize::MAX, |len| usize::try_from(len).unwrap_or(usize::MAX)),
            },
            other => FetchFailure::Reason(other.to_string()),
        }
    }
}

/// Why a fetch failed, before it is given the URL.
enum FetchFailure {
    Reason(String),
    Forbidden(AddressClass),
    HttpsNotBuilt,
    TooLarge { what: &'static str, len: usize },
}

impl Default for HttpsFetcher {
    fn default() -> Self {
        HttpsFetcher::new()
    }
}

impl fmt::Debug for HttpsFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsFetcher")
            .field("max_len", &self.max_len)
            .field("timeout", &self.timeout)
            .field("max_redirects", &MAX_REDIRECTS)
            .field("allow_http_for_loopback", &self.allow_http_for_loopback)
            .finish()
    }
}

impl DocumentFetcher for HttpsFetcher {
    fn fetch(&self, url: &str) -> Result<Vec<u8>> {
        let fetch_error = |reason: String| Error::Fetch { url: for_message(url), reason };
        let start = FetchUrl::parse(url).map_err(|reason| fetch_error(reason.to_owned()))?;
        self.check_scheme(&start).map_err(fetch_error)?;
        self.fetch_checked(start).map_err(|failure| match failure {
            FetchFailure::Reason(reason) => fetch_error(reason),
            FetchFailure::TooLarge { what, len } => Error::TooLarge { what, len, limit: self.max_len },
            FetchFailure::Forbidden(class) => Error::ForbiddenAddress { url: for_message(url), class },
            FetchFailure::HttpsNotBuilt => Error::HttpsNotBuilt { url: for_message(url) },
        })
    }
}

// ---- hosts, ports and URLs ----------------------------------------------------------------------

/// A host: a lowercase domain name or an IP address.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Name(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Host::Name(name) => name == "localhost",
            Host::V4(addr) => addr.is_loopback(),
            Host::V6(addr) => addr.is_loopback(),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::V4(addr) => write!(f, "{addr}"),
            Host::V6(addr) => write!(f, "[{addr}]"),
        }
    }
}

/// `host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Authority {
    host: Host,
    port: Option<u16>,
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// Which IP addresses are accepted as a host.
#[derive(Clone, Copy)]
enum IpPolicy {
    /// In a did:web, which must not name an IP address, except loopback ones for tests.
    LoopbackOnly,
    /// In a URL given to the fetcher.
    Any,
}

/// The first segment of a did:web's method-specific id, percent-decoded.
fn decode_did_authority(segment: &str) -> std::result::Result<Authority, &'static str> {
    if segment.is_empty() {
        return Err("the host is empty");
    }
    let decoded = percent_decode_str(segment).decode_utf8().map_err(|_| "the host does not decode to UTF-8")?;
    if decoded.contains(['/', '?', '#', '@', '\\', '%']) {
        return Err("the host decodes to '/', '?', '#', '@', '\\' or '%', which would change the URL's structure");
    }
    parse_authority(&decoded, IpPolicy::LoopbackOnly)
}

/// Parses `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_authority(text: &str, ips: IpPolicy) -> std::result::Result<Authority, &'static str> {
    if text.is_empty() {
        return Err("the host is empty");
    }
    if text.contains('@') {
        return Err("user information (user@host) is not allowed");
    }
    if !text.is_ascii() {
        return Err("the host is not ASCII: write an internationalized domain name in its xn-- (punycode) form");
    }
    let (host, port_text) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or("an IPv6 address has '[' but no ']'")?;
        let addr: Ipv6Addr = inside.parse().map_err(|_| "the host in [brackets] is not an IPv6 address")?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("unexpected text after the ']' of an IPv6 address")?),
        };
        (Host::V6(addr), port)
    } else {
        let (name, port) = match text.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        };
        if port.is_some_and(|p| p.contains(':')) {
            return Err("the host has more than one ':' (an IPv6 address must be written in [brackets])");
        }
        let host = match name.parse::<Ipv4Addr>() {
            Ok(addr) => Host::V4(addr),
            Err(_) => {
                check_dns_name(name)?;
                Host::Name(name.to_ascii_lowercase())
            }
        };
        (host, port)
    };
    if matches!(ips, IpPolicy::LoopbackOnly) && matches!(host, Host::V4(_) | Host::V6(_)) && !host.is_loopback() {
        return Err(
            "a did:web must name a domain, not an IP address (only loopback addresses are accepted, for tests)",
        );
    }
    let port = port_text.map(parse_port).transpose()?;
    Ok(Authority { host, port })
}

/// Checks a domain name (RFC 1035, RFC 1123): dot-separated labels of 1 to 63 letters, digits
/// and inner hyphens, at most 253 characters, the last label starting with a letter (so that
/// `127.1` or `0x7f.1` is not read as an IP address by the resolver).
fn check_dns_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("the host is empty");
    }
    if name.len() > 253 {
        return Err("the domain name is longer than 253 characters");
    }
    let mut last = "";
    for label in name.split('.') {
        if label.is_empty() {
            return Err("the domain name has an empty label (a leading, trailing or doubled '.')");
        }
        if label.len() > 63 {
            return Err("a label of the domain name is longer than 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err("the host is not a valid domain name: a label may only have letters, digits and '-'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label of the domain name starts or ends with '-'");
        }
        last = label;
    }
    if !last.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("the host is neither a domain name (its last label must start with a letter) nor an IP address");
    }
    Ok(())
}

/// A decimal port from 1 to 65535.
fn parse_port(text: &str) -> std::result::Result<u16, &'static str> {
    const BAD: &str = "the port must be a number from 1 to 65535";
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BAD);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(BAD),
        Ok(port) => Ok(port),
    }
}

/// A path segment (of a did:web or of a URL), percent-decoded, refused if it could change the
/// structure of the URL it goes into.
fn decode_path_segment(segment: &str) -> std::result::Result<Vec<u8>, &'static str> {
    if segment.is_empty() {
        return Err("a path segment is empty ('::' in a DID, '//' in a URL)");
    }
    let bytes: Vec<u8> = percent_decode_str(segment).collect();
    if bytes == b"." || bytes == b".." {
        return Err("a path segment is '.' or '..' (path traversal)");
    }
    if bytes.iter().any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\' | b'%')) {
        return Err(
            "a path segment decodes to '/', '?', '#', '@', '\\' or '%', which would change the URL's structure",
        );
    }
    if bytes.iter().any(|b| b.is_ascii_control()) {
        return Err("a path segment decodes to a control character");
    }
    if std::str::from_utf8(&bytes).is_err() {
        return Err("a path segment does not decode to UTF-8");
    }
    Ok(bytes)
}

/// A URL for an error message: user information (`user:password@`) replaced, and cut if long.
fn for_message(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => truncate_for_message(&format!("{}(user information removed)@{}", &url[..start], &rest[at + 1..])),
        None => truncate_for_message(url),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// An http(s) URL as the fetcher sees it.
#[derive(Clone, Debug)]
struct FetchUrl {
    https: bool,
    authority: Authority,
    /// Starts with `/`; visible ASCII only; no fragment.
    path_and_query: String,
}

impl FetchUrl {
    fn parse(url: &str) -> std::result::Result<Self, &'static str> {
        let (https, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err("only https URLs are fetched");
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let (authority_text, path) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
        let authority = parse_authority(authority_text, IpPolicy::Any)?;
        let path_and_query = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        check_path(&path_and_query)?;
        Ok(FetchUrl { https, authority, path_and_query })
    }

    /// Resolves a `Location` header against this URL (RFC 3986 §5.2, without dot-segment removal:
    /// the target must be on the same host anyway).
    fn join(&self, location: &str) -> std::result::Result<FetchUrl, &'static str> {
        let location = location.trim();
        let location = location.split('#').next().unwrap_or_default();
        if location.is_empty() {
            return Err("the Location header is empty");
        }
        if let Some(colon) = location.find(':') {
            let scheme = &location[..colon];
            if !scheme.is_empty()
                && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            {
                return if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
                    FetchUrl::parse(location)
                } else {
                    Err("the redirect target is not an http(s) URL")
                };
            }
        }
        if location.starts_with("//") {
            let scheme = if self.https { "https:" } else { "http:" };
            return FetchUrl::parse(&format!("{scheme}{location}"));
        }
        let path_and_query = if location.starts_with('/') {
            location.to_owned()
        } else if location.starts_with('?') {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            format!("{path}{location}")
        } else {
            let path = self.path_and_query.split('?').next().unwrap_or("/");
            let directory = path.rfind('/').map_or("/", |i| &path[..=i]);
            format!("{directory}{location}")
        };
        check_path(&path_and_query)?;
        Ok(FetchUrl { https: self.https, authority: self.authority.clone(), path_and_query })
    }

    fn effective_port(&self) -> u16 {
        self.authority.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `host:port`, for messages.
    fn origin(&self) -> String {
        format!("{}:{}", self.authority.host, self.effective_port())
    }

    /// The URL as given (https or http).
    fn logical_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.path_and_query)
    }

    /// The URL actually requested: in plain mode, http to the same host, port and path.
    fn wire_url(&self, plain: bool) -> String {
        if plain {
            format!("http://{}:{}{}", self.authority.host, self.effective_port(), self.path_and_query)
        } else {
            format!("https://{}{}", self.authority, self.path_and_query)
        }
    }
}

fn check_path(path: &str) -> std::result::Result<(), &'static str> {
    if path.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err("the URL path has a space, a control character or a non-ASCII character")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(did: &str) -> Result<String> {
        url_for(&Did::parse(did).unwrap())
    }

    fn refused(did: &str) -> String {
        match url(did) {
            Err(e @ Error::InvalidDid { .. }) => e.to_string(),
            other => panic!("{did}: expected InvalidDid, got {other:?}"),
        }
    }

    #[test]
    fn maps_hosts_ports_and_paths() {
        for (did, expected) in [
            ("did:web:example.com", "https://example.com/.well-known/did.json"),
            ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
            ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
            ("did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
            ("did:web:example.com%3a3000:user:alice", "https://example.com:3000/user/alice/did.json"),
            ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
            ("did:web:127.0.0.1%3A4000:schools:12AB00", "https://127.0.0.1:4000/schools/12AB00/did.json"),
            ("did:web:%5B%3A%3A1%5D%3A8443", "https://[::1]:8443/.well-known/did.json"),
            ("did:web:%5B%3A%3A1%5D", "https://[::1]/.well-known/did.json"),
            ("did:web:example.com:a%20b:caf%C3%A9", "https://example.com/a%20b/caf%C3%A9/did.json"),
            ("did:web:example.com:a%3Ab", "https://example.com/a%3Ab/did.json"),
            ("did:web:example.com:...", "https://example.com/.../did.json"),
            ("did:web:example.com%3A65535", "https://example.com:65535/.well-known/did.json"),
            ("did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"),
        ] {
            assert_eq!(url(did).unwrap(), expected, "{did}");
        }
    }

    #[test]
    fn refuses_other_methods() {
        let err =
            url_for(&Did::parse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp").unwrap()).unwrap_err();
        assert!(matches!(err, Error::InvalidDid { .. }), "{err}");
        assert!(err.to_string().contains("not a did:web"), "{err}");
    }

    #[test]
    fn refuses_empty_segments() {
        assert!(refused("did:web:example.com::alice").contains("empty"));
        assert!(refused("did:web::alice").contains("host is empty"));
    }

    #[test]
    fn refuses_bad_hosts() {
        for (did, says) in [
            ("did:web:exa_mple.com", "letters, digits and '-'"),
            ("did:web:-example.com", "starts or ends with '-'"),
            ("did:web:example..com", "empty label"),
            ("did:web:example.com.", "empty label"),
            ("did:web:127.1", "neither a domain name"),
            ("did:web:0x7f.1", "neither a domain name"),
            ("did:web:256.0.0.1", "neither a domain name"),
            ("did:web:192.0.2.1", "not an IP address"),
            ("did:web:%5B2001%3Adb8%3A%3A1%5D", "not an IP address"),
            ("did:web:%5B%3A%3A1", "no ']'"),
            ("did:web:%5Bnope%5D", "not an IPv6 address"),
            ("did:web:ex%C3%A4mple.com", "punycode"),
            ("did:web:a%3A1%3A2", "more than one ':'"),
        ] {
            let message = refused(did);
            assert!(message.contains(says), "{did}: {message}");
        }
        let long = format!("did:web:{}.example", "a".repeat(64));
        assert!(refused(&long).contains("63"));
        let long = format!("did:web:{}example", "abcdefghi.".repeat(26));
        assert!(refused(&long).contains("253"));
    }

    #[test]
    fn refuses_structure_changing_characters() {
        for did in [
            "did:web:example.com%2Fadmin",
            "did:web:example.com%3Fx",
            "did:web:example.com%23x",
            "did:web:user%40example.com",
            "did:web:example.com%5Cx",
            "did:web:example.com:a%2Fb",
            "did:web:example.com:a%3Fb",
            "did:web:example.com:a%23b",
            "did:web:example.com:a%40b",
            "did:web:example.com:a%5Cb",
            "did:web:example.com:a%252Fb",
        ] {
            let message = refused(did);
            assert!(message.contains("would change the URL's structure"), "{did}: {message}");
        }
        for did in
            ["did:web:example.com:..", "did:web:example.com:%2E%2E", "did:web:example.com:.", "did:web:example.com:%2e"]
        {
            assert!(refused(did).contains("path traversal"), "{did}");
        }
        assert!(refused("did:web:example.com:a%0Ab").contains("control character"));
        assert!(refused("did:web:example.com:%FF").contains("UTF-8"));
    }

    #[test]
    fn refuses_bad_ports() {
        for did in [
            "did:web:example.com%3A",
            "did:web:example.com%3A0",
            "did:web:example.com%3A65536",
            "did:web:example.com%3A99999999",
            "did:web:example.com%3Ahttps",
            "did:web:example.com%3A-1",
            "did:web:example.com%3A%2B80",
            "did:web:%5B%3A%3A1%5D%3Ax",
        ] {
            assert!(refused(did).contains("port must be a number from 1 to 65535"), "{did}");
        }
    }

    #[test]
    fn maps_urls_back_to_dids() {
        for (u, expected) in [
            ("https://example.com/.well-known/did.json", "did:web:example.com"),
            ("https://example.com", "did:web:example.com"),
            ("https://example.com/", "did:web:example.com"),
            ("HTTPS://Example.COM/", "did:web:example.com"),
            ("https://example.com:443/.well-known/did.json", "did:web:example.com"),
            ("https://example.com:3000/user/alice/did.json", "did:web:example.com%3A3000:user:alice"),
            ("https://example.com/user/alice/", "did:web:example.com:user:alice"),
            ("https://example.com/user/alice", "did:web:example.com:user:alice"),
            ("https://127.0.0.1:4000/schools/12AB00/did.json", "did:web:127.0.0.1%3A4000:schools:12AB00"),
            ("https://[::1]:8443/did.json/x/did.json", "did:web:%5B%3A%3A1%5D%3A8443:did.json:x"),
            ("https://example.com/a%20b/caf%C3%A9~/did.json", "did:web:example.com:a%20b:caf%C3%A9%7E"),
            ("https://example.com/a:b/did.json", "did:web:example.com:a%3Ab"),
        ] {
            let did = did_for_url(u).unwrap();
            assert_eq!(did.as_str(), expected, "{u}");
        }
    }

    #[test]
    fn round_trips() {
        for did in [
            "did:web:example.com",
            "did:web:example.com%3A8443",
            "did:web:example.com%3A8443:user:alice",
            "did:web:example.com:a%20b:caf%C3%A9",
            "did:web:localhost%3A1",
            "did:web:%5B%3A%3A1%5D%3A8443:x",
        ] {
            let url = url(did).unwrap();
            assert_eq!(did_for_url(&url).unwrap().as_str(), did, "{url}");
        }
    }

    #[test]
    fn refuses_urls_that_are_no_did_web_location() {
        for (u, says) in [
            ("http://example.com/.well-known/did.json", "must start with https://"),
            ("ftp://example.com/", "must start with https://"),
            ("example.com", "must start with https://"),
            ("https://example.com/did.json", "/.well-known/did.json"),
            ("https://example.com/.well-known/did.json?x=1", "no query or fragment"),
            ("https://example.com/#frag", "no query or fragment"),
            ("https://user@example.com/", "user information"),
            ("https://user:pw@example.com/", "user information"),
            ("https:///did.json", "host is empty"),
            ("https://example.com:0/", "port must be a number"),
            ("https://example.com:70000/", "port must be a number"),
            ("https://example.com:x/", "port must be a number"),
            ("https://203.0.113.9/", "not an IP address"),
            ("https://example.com/a//b/did.json", "empty"),
            ("https://example.com/a/../b/did.json", "path traversal"),
            ("https://example.com/a%2Fb/did.json", "would change the URL's structure"),
            ("https://exa mple.com/", "letters, digits and '-'"),
        ] {
            match did_for_url(u) {
                Err(e @ Error::InvalidDid { .. }) => assert!(e.to_string().contains(says), "{u}: {e}"),
                other => panic!("{u}: expected InvalidDid, got {other:?}"),
            }
        }
    }

    #[test]
    fn parses_fetch_urls_and_joins_redirects() {
        let base = FetchUrl::parse("https://Example.com:8443/a/b/did.json?x#f").unwrap();
        assert_eq!(base.logical_url(), "https://example.com:8443/a/b/did.json?x");
        assert_eq!(base.wire_url(true), "http://example.com:8443/a/b/did.json?x");
        let no_port = FetchUrl::parse("https://127.0.0.1").unwrap();
        assert_eq!(no_port.wire_url(true), "http://127.0.0.1:443/");
        assert_eq!(no_port.wire_url(false), "https://127.0.0.1/");
        for (location, expected) in [
            ("/c/did.json", "https://example.com:8443/c/did.json"),
            ("c.json", "https://example.com:8443/a/b/c.json"),
            ("?y", "https://example.com:8443/a/b/did.json?y"),
            ("//other.example/x", "https://other.example/x"),
            ("http://example.com:8443/x#frag", "http://example.com:8443/x"),
            ("HTTPS://example.com:8443/x", "https://example.com:8443/x"),
        ] {
            assert_eq!(base.join(location).unwrap().logical_url(), expected, "{location}");
        }
        const BAD_PATH: &str = "the URL path has a space, a control character or a non-ASCII character";
        for (location, expected) in [
            ("", "the Location header is empty"),
            ("ftp://example.com/x", "the redirect target is not an http(s) URL"),
            ("javascript:alert(1)", "the redirect target is not an http(s) URL"),
            ("/a b", BAD_PATH),
            ("https://u@example.com/", "user information (user@host) is not allowed"),
        ] {
            assert_eq!(base.join(location).err(), Some(expected), "{location}");
        }
        for (bad, expected) in [
            ("ftp://example.com", "only https URLs are fetched"),
            ("https://", "the host is empty"),
            ("https://example.com/\u{7f}", BAD_PATH),
            (
                "https://ex\u{e4}mple.com/",
                "the host is not ASCII: write an internationalized domain name in its xn-- (punycode) form",
            ),
        ] {
            assert_eq!(FetchUrl::parse(bad).err(), Some(expected), "{bad}");
        }
    }

    #[test]
    fn keeps_user_information_out_of_messages() {
        assert_eq!(for_message("https://u:pw@example.com/x@y"), "https://(user information removed)@example.com/x@y");
        assert_eq!(for_message("https://example.com/x@y"), "https://example.com/x@y");
        assert_eq!(for_message("u:pw@example.com"), "(user information removed)@example.com");
        let err = did_for_url("https://alice:hunter2@example.com/").unwrap_err();
        assert!(matches!(err, Error::InvalidDid { .. }), "{err}");
        assert!(!err.to_string().contains("hunter2") && err.to_string().contains("user information"), "{err}");
        let err = HttpsFetcher::new().fetch("https://alice:hunter2@example.com/").unwrap_err();
        assert!(matches!(err, Error::Fetch { .. }), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn fetcher_debug_and_defaults() {
        let fetcher = HttpsFetcher::default();
        assert_eq!(fetcher.max_len(), MAX_DOCUMENT_LEN);
        assert_eq!(fetcher.timeout(), DEFAULT_TIMEOUT);
        let text = format!("{fetcher:?}");
        assert!(text.contains("allow_http_for_loopback: false"), "{text}");
        let fetcher =
            fetcher.with_max_len(10).with_timeout(Duration::from_millis(5)).dangerous_allow_http_for_loopback();
        assert_eq!((fetcher.max_len(), fetcher.timeout()), (10, Duration::from_millis(5)));
        assert!(format!("{fetcher:?}").contains("allow_http_for_loopback: true"));
    }
}
