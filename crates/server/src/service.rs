//! The school's issuer as a service: the shared state every request handler reads, the
//! configuration, and the calls the embedding program makes itself (offers, status changes).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use schooltas_issuer::store::IssuerStore;
use schooltas_issuer::{ClaimsSource, Issuer, OfferPolicy, StatusChange};
use schooltas_oid4vc::oid4vci::CredentialOffer;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::offers::{OfferShelf, Shelf};
use crate::paths::IssuerPaths;

/// Where the service reads the time (Unix seconds): the system clock in production, a fixed
/// or stepped clock in tests. Any `Fn() -> i64` is one.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

impl<F: Fn() -> i64 + Send + Sync> Clock for F {
    fn now(&self) -> i64 {
        self()
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
    }
}

/// Limits and lifetimes of an [`IssuerService`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Offer, PIN, token and nonce lifetimes and limits (the issuer's).
    pub offer_policy: OfferPolicy,
    /// The largest request body any `POST` accepts, in bytes; a larger one is answered 413.
    /// The default is the OpenID4VC messages' own limit (64 KiB), which a batch of 20 proofs
    /// stays well under.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's head (request line and headers); then
    /// the connection is closed.
    pub header_timeout: Duration,
    /// How long one request may take, from its head to the response; then 408.
    pub request_timeout: Duration,
    /// How long a signed status list token is reused before it is signed again (each token
    /// carries the status policy's `ttl`; verifiers cache it that long anyway). Status
    /// changes made through [`IssuerService::change_status`] are published at once.
    pub status_token_reuse: i64,
    /// How many offers by reference may wait to be fetched at once.
    pub max_pending_offers: usize,
    /// How many connections [`IssuerService::serve`] (and the other `serve_*`) keeps open at
    /// once; further clients wait in the listener's backlog until one closes.
    pub max_connections: usize,
}

impl Default for ServiceConfig {
    /// The issuer's default offer policy, 64 KiB bodies, 10 s for a request head and 30 s
    /// per request, status tokens re-signed at most once a minute, 100 000 pending offers by
    /// reference, 1024 connections.
    fn default() -> Self {
        ServiceConfig {
            offer_policy: OfferPolicy::default(),
            max_body_bytes: schooltas_oid4vc::oid4vci::MAX_MESSAGE_LEN,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            status_token_reuse: 60,
            max_pending_offers: 100_000,
            max_connections: 1024,
        }
    }
}

/// An offer by reference, ready to hand out: the URI for the QR code or link, and the PIN to
/// send through another channel. Neither is printed by `Debug`.
pub struct PublishedOffer {
    /// `openid-credential-offer://?credential_offer_uri=<issuer>/offers/<id>`.
    pub uri: Zeroizing<String>,
    /// The PIN (`tx_code`), when the offer policy asks for one.
    pub pin: Option<Zeroizing<String>>,
}

impl fmt::Debug for PublishedOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishedOffer")
            .field("uri", &"<redacted>")
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Signed status list tokens, reused for [`ServiceConfig::status_token_reuse`] seconds.
pub(crate) struct StatusTokens {
    pub(crate) signed_at: i64,
    /// `(uri, token)` per list.
    pub(crate) tokens: Arc<Vec<(String, String)>>,
}

/// The documents every wallet fetches, serialized once: the credential issuer metadata alone
/// takes the issuer ~150 µs to build from the catalog. Made anew after
/// [`IssuerService::with_issuer_mut`] (a key rotation changes the DID document).
pub(crate) struct Documents {
    pub(crate) credential_issuer_metadata: String,
    pub(crate) authorization_server_metadata: String,
    pub(crate) did_document: String,
    /// The JWT VC Issuer Metadata, in the EU profile.
    pub(crate) jwt_vc_issuer_metadata: Option<String>,
    /// `(path, document)`: the catalog's Type Metadata, by the path of its `vct`.
    pub(crate) type_metadata: Vec<(String, String)>,
}

impl Documents {
    pub(crate) fn of<S: IssuerStore>(issuer: &Issuer<S>) -> Self {
        Documents {
            credential_issuer_metadata: issuer.metadata().to_json(),
            // Plain data with string keys: serializing it cannot fail.
            authorization_server_metadata: serde_json::to_string(&issuer.authorization_server_metadata())
                .unwrap_or_default(),
            did_document: issuer.profile().did_document().to_string(),
            jwt_vc_issuer_metadata: issuer.profile().jwt_vc_issuer_metadata().map(|metadata| metadata.to_string()),
            type_metadata: issuer
                .catalog()
                .iter()
                .filter_map(|t| {
                    let path = t.vct().as_str().strip_prefix("https://")?.split_once('/')?.1;
                    Some((format!("/{path}"), t.type_metadata_json()))
                })
                .collect(),
        }
    }
}

/// The HKDF `info` of the secret a school's instances derive their DPoP nonces, attestation
/// challenges from ([`IssuerService::across_instances`]).
const INSTANCE_SECRET_INFO: &[u8] = b"schooltas issuer instance secret v1";

/// What every request handler shares.
pub(crate) struct Shared<S> {
    pub(crate) issuer: RwLock<Issuer<S>>,
    pub(crate) documents: RwLock<Arc<Documents>>,
    pub(crate) claims: Arc<dyn ClaimsSource>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ServiceConfig,
    pub(crate) paths: IssuerPaths,
    pub(crate) issuer_url: String,
    pub(crate) status_base_uri: String,
    pub(crate) offers: Shelf,
    pub(crate) status_tokens: Mutex<Option<StatusTokens>>,
    /// Set when a credential was issued since the tokens were signed: its copies may sit in a
    /// list the cached tokens do not hold yet (the first credential of a purpose opens one).
    pub(crate) lists_may_have_grown: std::sync::atomic::AtomicBool,
    /// The school's portal, when the authorization code flow is on.
    pub(crate) portal: Option<Arc<dyn crate::portal::AuthorizationPortal>>,
    /// The issuer's own policy for the authorization code flow, kept until a portal turns the
    /// flow on.
    pub(crate) authorization_policy: Option<schooltas_issuer::AuthorizationPolicy>,
}

impl<S: IssuerStore> Shared<S> {
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The issuer, for reading. A panic elsewhere while it was held broke nothing: every
    /// issuer operation is one store transaction, rolled back when it does not finish.
    pub(crate) fn issuer(&self) -> std::sync::RwLockReadGuard<'_, Issuer<S>> {
        self.issuer.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_timeout: self.config.header_timeout,
            max_connections: self.config.max_connections,
        }
    }

    /// The published documents.
    pub(crate) fn documents(&self) -> Arc<Documents> {
        Arc::clone(&self.documents.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Every list's current token, signed now or reused from less than
    /// [`ServiceConfig::status_token_reuse`] seconds ago.
    pub(crate) fn status_tokens(&self) -> Result<Arc<Vec<(String, String)>>> {
        let now = self.now();
        let mut cached = self.status_tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tokens) = cached.as_ref()
            && now >= tokens.signed_at
            && now - tokens.signed_at < self.config.status_token_reuse
        {
            return Ok(Arc::clone(&tokens.tokens));
        }
        let signed = self.issuer().status_list_tokens(now)?;
        let tokens: Arc<Vec<(String, String)>> =
            Arc::new(signed.into_iter().map(|(uri, token)| (uri.as_str().to_owned(), token)).collect());
        *cached = Some(StatusTokens { signed_at: now, tokens: Arc::clone(&tokens) });
        Ok(tokens)
    }

    /// The token of the list at `uri`. A list the cached tokens do not hold is looked for once
    /// more, freshly signed, only if a credential was issued since they were signed: a request
    /// for a list that does not exist cannot make the service sign again and again.
    pub(crate) fn status_token(&self, uri: &str) -> Result<Option<String>> {
        let find = |tokens: &[(String, String)]| tokens.iter().find(|(listed, _)| listed == uri).map(|t| t.1.clone());
        if let Some(token) = find(&self.status_tokens()?) {
            return Ok(Some(token));
        }
        if self.lists_may_have_grown.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.forget_status_tokens();
            return Ok(find(&self.status_tokens()?));
        }
        Ok(None)
    }

    fn forget_status_tokens(&self) {
        *self.status_tokens.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// A school's OpenID4VCI issuer as an HTTP service: build it from an [`Issuer`], then take
/// its [`router`](Self::router) into a program's own axum application or let
/// [`serve`](Self::serve) run it on a listener.
///
/// Cloning is cheap: every clone shares the issuer, the pending offers and the status tokens.
/// The issuer sits behind a read-write lock: requests only read it (the store serializes its
/// own transactions), and [`with_issuer_mut`](Self::with_issuer_mut) takes it for writing, for
/// a key rotation. Every issuer call runs on tokio's blocking pool, as SQLite writes wait for
/// the disk.
pub struct IssuerService<S> {
    pub(crate) shared: Arc<Shared<S>>,
}

impl<S> Clone for IssuerService<S> {
    fn clone(&self) -> Self {
        IssuerService { shared: Arc::clone(&self.shared) }
    }
}

impl<S> fmt::Debug for IssuerService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerService")
            .field("issuer_url", &self.shared.issuer_url)
            .field("paths", &self.shared.paths)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<S: IssuerStore + 'static> IssuerService<S> {
    /// The service of `issuer`, which fetches the claims of each credential from `claims`
    /// (the school's administration) when a wallet redeems an offer.
    ///
    /// Refused when the issuer URL, the did:web document or the status lists sit at paths the
    /// service cannot serve literally ([`crate::Error::UnservablePath`], [`crate::Error::PathConflict`]),
    /// and when a certificate chain attached to one of the school's keys does not certify that
    /// key or is outside its validity at start (`schooltas_issuer::Error::CertificateChain`,
    /// naming the key id).
    pub fn new(issuer: Issuer<S>, claims: impl ClaimsSource + 'static, config: ServiceConfig) -> Result<Self> {
        Self::with_clock(issuer, claims, config, SystemClock)
    }

    /// [`new`](Self::new) with another clock than the system's.
    pub fn with_clock(
        mut issuer: Issuer<S>,
        claims: impl ClaimsSource + 'static,
        config: ServiceConfig,
        clock: impl Clock + 'static,
    ) -> Result<Self> {
        // A certificate that is not the key's, or has expired, would have every credential or
        // status list it signs refused: refuse to start instead, naming the key id.
        issuer.profile().keys().check_certificate_chains(clock.now())?;
        let issuer_url = issuer.profile().issuer_url().to_owned();
        let status_base_uri = issuer.status_policy().base_uri.clone();
        let paths = IssuerPaths::new(&issuer_url, issuer.profile().did(), &status_base_uri)?.with_published_metadata(
            &issuer_url,
            issuer.profile().has_https_identity(),
            issuer.catalog().iter().map(|t| t.vct().as_str()),
        )?;
        let offers = Shelf::Memory(Mutex::new(OfferShelf::new(config.max_pending_offers)));
        // The authorization code flow runs only with a portal to log people in
        // (`with_authorization_portal`); until then it is off, in the metadata too.
        let authorization_policy = issuer.authorization_code_flow().copied();
        issuer.set_authorization_code_flow(None);
        let documents = RwLock::new(Arc::new(Documents::of(&issuer)));
        Ok(IssuerService {
            shared: Arc::new(Shared {
                issuer: RwLock::new(issuer),
                documents,
                claims: Arc::new(claims),
                clock: Arc::new(clock),
                config,
                paths,
                issuer_url,
                status_base_uri,
                offers,
                status_tokens: Mutex::new(None),
                lists_may_have_grown: std::sync::atomic::AtomicBool::new(false),
                portal: None,
                authorization_policy,
            }),
        })
    }

    /// The HTTP paths this service answers.
    pub fn paths(&self) -> &IssuerPaths {
        &self.shared.paths
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.shared.config
    }

    /// Makes an offer of `config_ids` about `subject_ref` (see [`Issuer::offer`]) and
    /// publishes it by reference: the returned URI names `<issuer>/offers/<id>`, which
    /// answers the offer JSON until its code is redeemed or it expires. Blocks on the store.
    pub fn publish_offer(&self, subject_ref: &str, config_ids: &[String]) -> Result<PublishedOffer> {
        let now = self.shared.now();
        let policy = self.shared.config.offer_policy;
        let issuer = self.shared.issuer();
        let (offer, secrets): (CredentialOffer, _) = issuer.offer(&policy, subject_ref, config_ids, now)?;
        let json = offer.to_json();
        let expires_at = now.saturating_add(policy.offer_lifetime);
        let id = self.shared.offers.put(issuer.store(), json, &secrets.code, expires_at, now)?;
        drop(issuer);
        let location = format!("{}{}/{id}", self.shared.issuer_url, crate::paths::OFFERS_PATH);
        let uri = Zeroizing::new(CredentialOffer::reference_uri(&location)?);
        Ok(PublishedOffer { uri, pin: secrets.pin })
    }

    /// Makes this service one of several instances of a school over one shared store (issue
    /// 17), given key material every instance holds alike (the school's key file; the server
    /// passes its child-link key) and the school's `tenant` name: the issuer's DPoP nonces,
    /// wallet attestation challenges and proof replay are shared
    /// ([`Issuer::with_instance_secret`], its secret derived with HKDF-SHA256, `info`
    /// `schooltas issuer instance secret v1`), and offers by reference are kept sealed in the
    /// store (under a key derived with `info` `schooltas offer by reference seal key v1`), so
    /// an offer published on one instance is fetched from any, and the pending-offer limit
    /// counts all of them. Refused once the service was cloned or served.
    pub fn across_instances(mut self, key_material: &[u8], tenant: &str) -> Result<Self> {
        let shared =
            Arc::get_mut(&mut self.shared).ok_or(Error::ConfiguredTooLate { what: "sharing with other instances" })?;
        let derive = |info: &[u8]| -> Result<Zeroizing<[u8; 32]>> {
            let mut okm = Zeroizing::new([0u8; 32]);
            hkdf::Hkdf::<sha2::Sha256>::new(Some(b"schooltas instances v1"), key_material)
                .expand(info, okm.as_mut())
                .map_err(|_| Error::Issuer(schooltas_issuer::Error::Storage { reason: "HKDF output length".into() }))?;
            Ok(okm)
        };
        shared
            .issuer
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .set_instance_secret(derive(INSTANCE_SECRET_INFO)?);
        shared.offers = Shelf::Sealed(crate::offers::SealedShelf::new(
            derive(crate::offers::SEAL_KEY_INFO)?,
            tenant,
            shared.config.max_pending_offers,
        ));
        Ok(self)
    }

    /// Revokes, suspends or reinstates a credential (see [`Issuer::change_status`]); the next
    /// status list request gets a freshly signed token. Blocks on the store.
    pub fn change_status(&self, credential_id: &str, change: StatusChange) -> Result<()> {
        self.shared.issuer().change_status(credential_id, change)?;
        self.shared.forget_status_tokens();
        Ok(())
    }

    /// Runs `read` with the issuer (for example to list what was issued about a pupil).
    pub fn with_issuer<T>(&self, read: impl FnOnce(&Issuer<S>) -> T) -> T {
        read(&self.shared.issuer())
    }

    /// Runs `write` with the issuer taken for writing, while no request reads it (for a key
    /// rotation). The metadata and DID document are made anew and status tokens signed anew
    /// afterwards.
    pub fn with_issuer_mut<T>(&self, write: impl FnOnce(&mut Issuer<S>) -> T) -> T {
        let mut issuer = self.shared.issuer.write().unwrap_or_else(PoisonError::into_inner);
        let out = write(&mut issuer);
        *self.shared.documents.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Documents::of(&issuer));
        drop(issuer);
        self.shared.forget_status_tokens();
        out
    }

    /// Serves the [`router`](Self::router) on `listener` until the process ends (HTTP/1.1;
    /// request heads of at most [`crate::MAX_HEAD_BYTES`], sent within
    /// [`ServiceConfig::header_timeout`]).
    pub async fn serve(self, listener: tokio::net::TcpListener) -> Result<()> {
        self.serve_until(listener, std::future::pending()).await
    }

    /// [`serve`](Self::serve) until `shutdown` completes, then lets the requests under way
    /// finish.
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        crate::serve::serve(self.router(), listener, self.shared.connection_limits(), None, shutdown).await
    }

    /// [`serve`](Self::serve) over HTTPS: each connection completes a TLS handshake with
    /// `tls` first (within [`ServiceConfig::header_timeout`]).
    #[cfg(feature = "tls")]
    pub async fn serve_tls(self, listener: tokio::net::TcpListener, tls: crate::TlsConfig) -> Result<()> {
        self.serve_tls_until(listener, tls, std::future::pending()).await
    }

    /// [`serve_tls`](Self::serve_tls) until `shutdown` completes, then lets the requests under
    /// way finish.
    #[cfg(feature = "tls")]
    pub async fn serve_tls_until(
        self,
        listener: tokio::net::TcpListener,
        tls: crate::TlsConfig,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server);
        crate::serve::serve(self.router(), listener, self.shared.connection_limits(), Some(acceptor), shutdown).await
    }
}
