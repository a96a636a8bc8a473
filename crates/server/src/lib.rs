//! # schooltas-server
//!
//! The school's OpenID4VCI issuer on the wire: an HTTP layer (axum on tokio) over
//! [`schooltas_issuer`], with no protocol logic of its own. Every endpoint parses the
//! transport, calls the issuer's method and answers with the status, headers and error JSON
//! the specifications give.
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-credential-issuer[/<path>]` | credential issuer metadata (OpenID4VCI 1.0 §12.2.2: the well-known segment goes between host and path) |
//! | `GET /.well-known/oauth-authorization-server[/<path>]` | authorization server metadata (RFC 8414 §3.1, likewise) |
//! | `GET /.well-known/did.json`, `/<path>/did.json` | the did:web document, when the school's DID is a did:web on the issuer's host |
//! | `POST <path>/token` | pre-authorized code + `tx_code` (form-encoded) → Bearer token; RFC 6749 §5.2 errors, `Cache-Control: no-store` |
//! | `POST <path>/nonce` | a fresh `c_nonce` (§7), `Cache-Control: no-store` |
//! | `POST <path>/credential` | Bearer token, JSON request with a batch of proofs → credentials (§8); 401 with `WWW-Authenticate` for a missing or refused token |
//! | `GET <path>/offers/<id>` | a credential offer by reference (§4.1.3), from [`IssuerService::publish_offer`] |
//! | `GET <status path>/<purpose>/<n>` | status list tokens, `application/statuslist+jwt` (Token Status List §8) |
//!
//! The guardian hand-over relay between a child's and a parent's phone (write-once boxes of
//! ciphertext the relay cannot read) is [`relay`], a router of its own to merge or serve alone.
//!
//! One school's whole deployment — configuration ([`config`]), sealed keys ([`keyfile`]), the
//! pupil roster as the issuer's claims source ([`roster`]), QR letters ([`qr`]) and both
//! services on a public and an admin listener ([`school`]) — is what `schooltas serve` runs.
//!
//! The school's own administration endpoints (offers in bulk, status changes, what was issued
//! about a pupil) are a separate router behind a Bearer token, without CORS, for a listener
//! only staff reach: see [`admin`].
//!
//! CORS allows any origin on these public endpoints (browser wallets); every `POST` body is
//! limited ([`ServiceConfig::max_body_bytes`], 413 beyond it) and every request timed out
//! ([`ServiceConfig::request_timeout`], 408). Errors name rules, never claim values or
//! secrets. HTTPS in-process with the `tls` feature (on by default: rustls on ring, from PEM
//! files, [`IssuerService::serve_tls`]), or plain HTTP behind a reverse proxy that terminates
//! TLS ([`IssuerService::serve`]); the issuer's identifiers are `https` either way.
//!
//! ```
//! use schooltas_did::{Did, SigningKey};
//! use schooltas_issuer::store::SqliteStore;
//! use schooltas_issuer::{Brin, Error, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
//! use schooltas_school::catalog::Catalog;
//! use schooltas_server::{IssuerService, ServiceConfig};
//! use serde_json::{Map, Value};
//!
//! let profile = SchoolProfile::new(
//!     "Basisschool De Linde",
//!     SchoolLocation::new(Brin::new("12AB")?, 0)?,
//!     Did::parse("did:web:delinde.example")?,
//!     "https://delinde.example",
//!     SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
//! )?;
//! let store = SqliteStore::in_memory()?;
//! let issuer = Issuer::new(profile, Catalog::standard(), store, StatusPolicy::new("https://delinde.example/status"));
//! // The school's administration answers the claims of a pupil when the wallet redeems.
//! let administration = |_pupil: &str, _config_id: &str| -> Result<Map<String, Value>, Error> { Ok(Map::new()) };
//! let service = IssuerService::new(issuer, administration, ServiceConfig::default())?;
//! assert_eq!(service.paths().credential_issuer_metadata, "/.well-known/openid-credential-issuer");
//!
//! // The letter home: a QR code of this URI, and the PIN printed beside it.
//! let offer = service.publish_offer("pupil-17", &["pupil_enrolment".to_owned()])?;
//! assert!(offer.uri.starts_with("openid-credential-offer://?credential_offer_uri="));
//! assert_eq!(offer.pin.as_ref().map(|pin| pin.len()), Some(6));
//!
//! // Serving (behind a reverse proxy that terminates TLS for https://delinde.example):
//! # let serve = async move {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! service.serve(listener).await?;
//! # Ok::<(), schooltas_server::Error>(())
//! # };
//! # drop(serve);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod admin;
pub mod config;
mod error;
pub mod keyfile;
mod offers;
mod paths;
pub mod portal;
pub mod qr;
pub mod relay;
pub mod roster;
mod routes;
#[cfg(feature = "tls")]
pub mod school;
mod serve;
mod service;
#[cfg(feature = "tls")]
mod tls;
pub mod verifier;

pub use admin::AdminToken;
pub use error::{Error, Result};
pub use paths::{
    AUTHORIZATION_SERVER_WELL_KNOWN, CREDENTIAL_ISSUER_WELL_KNOWN, IssuerPaths, JWT_VC_ISSUER_WELL_KNOWN, OFFERS_PATH,
};
pub use portal::{AuthorizationPortal, RedirectPortal};
pub use relay::{GuardianRelay, RelayConfig};
pub use routes::{DID_DOCUMENT, STATUS_LIST_JWT};
pub use serve::MAX_HEAD_BYTES;
pub use service::{Clock, IssuerService, PublishedOffer, ServiceConfig, SystemClock};
#[cfg(feature = "tls")]
pub use tls::TlsConfig;
