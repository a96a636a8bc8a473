//! The ureq transport of [`GuardedClient`](super::GuardedClient) (cargo feature `https`): the
//! agent, the resolver step that vets every address, and the mapping of ureq's errors to
//! [`NetError`]'s fixed messages.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver as UreqResolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::{AddressClass, Answer, Get, NameResolver, NetError, Post};

/// The agent: https only, no redirects followed (each fetcher decides), no proxy, and the
/// vetting [`Guard`] as its resolver.
pub(super) fn agent(
    user_agent: &'static str,
    resolver: Option<Arc<dyn NameResolver>>,
    allow_private: bool,
    trust_anchors: Option<&Vec<Vec<u8>>>,
) -> ureq::Agent {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(anchors) = trust_anchors {
        let roots = anchors.iter().map(|der| ureq::tls::Certificate::from_der(der).to_owned()).collect();
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)));
    }
    let config = ureq::Agent::config_builder()
        .tls_config(tls.build())
        .https_only(true)
        .http_status_as_error(false)
        .max_redirects(0)
        // A proxy resolves names itself, out of reach of the address check.
        .proxy(None)
        .user_agent(user_agent)
        .build();
    ureq::Agent::with_parts(config, DefaultConnector::new(), Guard { resolver, allow_private })
}

/// One GET through `agent`, as [`GuardedClient::get`](super::GuardedClient::get) describes.
pub(super) fn get(agent: &ureq::Agent, request: &Get<'_>) -> Result<Answer, NetError> {
    let mut builder = agent.get(request.url).header("Accept", request.accept);
    let mut config = builder.config().timeout_global(Some(request.timeout));
    if request.plain_http {
        config = config.https_only(false);
    }
    builder = config.build();
    let mut response = builder.call().map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header(ureq::http::header::CONTENT_TYPE);
    let location = header(ureq::http::header::LOCATION);
    let dpop_nonce = header(ureq::http::HeaderName::from_static("dpop-nonce"));
    let attestation_challenge = header(ureq::http::HeaderName::from_static("oauth-client-attestation-challenge"));
    if !(200..300).contains(&status) {
        return Ok(Answer { status, content_type, location, dpop_nonce, attestation_challenge, body: Vec::new() });
    }
    let limit = u64::try_from(request.max_len).unwrap_or(u64::MAX);
    if let Some(declared) = response.body().content_length().filter(|len| *len > limit) {
        return Err(NetError::BodyTooLarge { declared: Some(declared) });
    }
    let body = response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| describe(&e))?;
    Ok(Answer { status, content_type, location, dpop_nonce, attestation_challenge, body })
}

/// One POST through `agent`, as [`GuardedClient::post`](super::GuardedClient::post) describes.
pub(super) fn post(agent: &ureq::Agent, request: &Post<'_>) -> Result<Answer, NetError> {
    let mut builder =
        agent.post(request.url).header("Content-Type", request.content_type).header("Accept", request.accept);
    let scheme = if request.dpop.is_some() { "DPoP" } else { "Bearer" };
    if let Some(token) = request.bearer {
        builder = builder.header("Authorization", format!("{scheme} {token}"));
    }
    if let Some(proof) = request.dpop {
        builder = builder.header("DPoP", proof);
    }
    if let Some((attestation, pop)) = request.client_attestation {
        builder = builder.header("OAuth-Client-Attestation", attestation).header("OAuth-Client-Attestation-PoP", pop);
    }
    let mut config = builder.config().timeout_global(Some(request.timeout));
    if request.plain_http {
        config = config.https_only(false);
    }
    builder = config.build();
    let mut response = builder.send(request.body).map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let content_type = header(ureq::http::header::CONTENT_TYPE);
    let location = header(ureq::http::header::LOCATION);
    let dpop_nonce = header(ureq::http::HeaderName::from_static("dpop-nonce"));
    let attestation_challenge = header(ureq::http::HeaderName::from_static("oauth-client-attestation-challenge"));
    let limit = u64::try_from(request.max_len).unwrap_or(u64::MAX);
    if let Some(declared) = response.body().content_length().filter(|len| *len > limit) {
        return Err(NetError::BodyTooLarge { declared: Some(declared) });
    }
    let body = response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| describe(&e))?;
    Ok(Answer { status, content_type, location, dpop_nonce, attestation_challenge, body })
}

/// Maps a ureq error to a fixed message.
fn describe(error: &ureq::Error) -> NetError {
    match error {
        ureq::Error::Timeout(_) => NetError::Timeout,
        ureq::Error::HostNotFound => NetError::HostNotFound,
        ureq::Error::ConnectionFailed => NetError::ConnectionFailed,
        ureq::Error::BodyExceedsLimit(_) => NetError::BodyTooLarge { declared: None },
        // A plain http:// URL without the caller's leave is not one this client requests.
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::RequireHttpsOnly(_) => NetError::BadUrl,
        ureq::Error::Tls(_) => NetError::Tls,
        ureq::Error::Protocol(_) => NetError::ConnectionClosed,
        ureq::Error::Io(io) => {
            if let Some(Forbidden(class)) = io.get_ref().and_then(|inner| inner.downcast_ref::<Forbidden>()) {
                return NetError::ForbiddenAddress { class: *class };
            }
            // rustls reports a certificate it does not trust (unknown issuer, wrong name,
            // expired) as an I/O error carrying its own error.
            if io.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) {
                return NetError::Tls;
            }
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => NetError::ConnectionRefused,
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => NetError::Timeout,
                std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::InvalidData => NetError::ConnectionClosed,
                _ => NetError::ConnectionFailed,
            }
        }
        // rustls errors arrive wrapped in other variants depending on the version.
        other if other.to_string().to_ascii_lowercase().contains("tls") => NetError::Tls,
        _ => NetError::Other,
    }
}

/// The refusal carried out of the resolver inside an `io::Error`.
#[derive(Debug)]
struct Forbidden(AddressClass);

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused a {} address", self.0)
    }
}

impl std::error::Error for Forbidden {}

/// ureq's resolver step: resolve (system or injected), then vet every address. What this
/// returns is what ureq's connector dials.
#[derive(Debug)]
struct Guard {
    resolver: Option<Arc<dyn NameResolver>>,
    allow_private: bool,
}

impl UreqResolver for Guard {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = match &self.resolver {
            None => DefaultResolver::default().resolve(uri, config, timeout)?,
            Some(resolver) => {
                let host = uri.host().ok_or_else(|| ureq::Error::BadUri("no host".into()))?;
                let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
                let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
                let found: Vec<SocketAddr> = match literal.parse::<IpAddr>() {
                    Ok(ip) => vec![SocketAddr::new(ip, port)],
                    Err(_) => resolver.resolve(host, port).map_err(|_| ureq::Error::HostNotFound)?,
                };
                let mut addresses = self.empty();
                for address in found {
                    // At most 16 are kept (ureq's limit); the rest are never dialled.
                    if addresses.try_push(address).is_err() {
                        break;
                    }
                }
                if addresses.is_empty() {
                    return Err(ureq::Error::HostNotFound);
                }
                addresses
            }
        };
        if !self.allow_private {
            // Refuse if ANY answer is internal: a name that mixes public and internal addresses
            // is a rebinding attempt, not a misconfiguration to work around.
            if let Some(class) = addresses.iter().find_map(|address| AddressClass::of(address.ip())) {
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    Forbidden(class),
                )));
            }
        }
        Ok(addresses)
    }
}
