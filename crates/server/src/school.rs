//! One school's whole server, as `schooltas serve --config school.toml` runs it: the issuer on
//! its SQLite store (or, with `[store]`, the school's tenant of a PostgreSQL database:
//! [`SchoolStore`]) with the [`Roster`] as administration, the verifier (when configured), the
//! public endpoints of both on one listener and their administration on another, and the
//! roster import and offers by value that staff use.
//!
//! Offers made here are **by value** (the pre-authorized code in the QR code itself): their
//! codes live in the issuer's SQLite store, as digests, so a letter home still works after
//! the server restarts. Offers by reference ([`IssuerService::publish_offer`]) stay in memory
//! on purpose (see `offers.rs`), except with `[store]`: then several instances of the school
//! may share the database, and the service runs [`IssuerService::across_instances`] (offers by
//! reference sealed in the store, DPoP nonces and proof replay shared).

use std::future::Future;
use std::str::FromStr as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hyper::service::Service as _;
use hyper_util::service::TowerToHyperService;
use schooltas_did::{Did, Signer as _};
use schooltas_issuer::store::{IssuerStore, IssuerTx, SqliteStore};
use schooltas_issuer::{Brin, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::VerifiedTrustList;
use schooltas_status_list::StatusListCache;
use serde_json::json;
use zeroize::Zeroizing;

use crate::admin::AdminToken;
use crate::config::SchoolConfig;
use crate::error::{Error, Result};
use crate::keyfile::SchoolSecrets;
use crate::relay::{GuardianRelay, RelayConfig};
use crate::roster::{Roster, RosterError, SchoolInfo};
use crate::service::{IssuerService, ServiceConfig};
use crate::verifier::{VerifierConfig, VerifierService};
use schooltas_postgres::{
    PostgresConsentStore, PostgresIssuerStore, PostgresRequestStore, PostgresSessionStore, REQUEST_SEALING_INFO,
    SESSION_SEALING_INFO, SealingKey, Tenant,
};
use schooltas_verifier::register::{ConsentRegister, ConsentStore, SqliteConsentStore};

/// What the verifier needs besides its key: the verified trust list, the DID resolver for
/// issuers' keys and the status list cache. The embedding program builds them (they fetch over
/// HTTPS with the program's client).
pub struct VerifierParts {
    /// The current trust list.
    pub trust_list: VerifiedTrustList,
    /// Resolves issuers' DIDs.
    pub resolver: schooltas_did::Resolver,
    /// Fetches and caches status lists.
    pub status: StatusListCache,
}

/// An offer by value, for a letter home: the URI for the QR code and the PIN for another
/// channel. Neither is printed by `Debug`.
pub struct LetterOffer {
    /// The subject reference (`<pupil>` or `<pupil>/<guardian>`): the file name of its QR code.
    pub subject_ref: String,
    /// `openid-credential-offer://?credential_offer=…`.
    pub uri: Zeroizing<String>,
    /// The PIN, when the offer policy asks for one.
    pub pin: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for LetterOffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LetterOffer").field("subject_ref", &self.subject_ref).finish_non_exhaustive()
    }
}

/// Which offers [`SchoolServer::letter_offers`] makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferSelection {
    /// Only the pupils of this group.
    pub group: Option<String>,
    /// Only this pupil.
    pub pupil: Option<String>,
}

/// The issuer's store of a school's server: the SQLite file in the storage directory (the
/// default), or the school's tenant of the PostgreSQL database of `[store]`.
#[derive(Debug)]
#[non_exhaustive]
pub enum SchoolStore {
    /// `issuer.sqlite` in the storage directory.
    Sqlite(SqliteStore),
    /// The school's tenant (`<brin>-<location>`) of a shared PostgreSQL database.
    Postgres(PostgresIssuerStore),
}

impl IssuerStore for SchoolStore {
    fn transaction(
        &self,
        work: &mut dyn FnMut(&mut dyn IssuerTx) -> schooltas_issuer::Result<()>,
    ) -> schooltas_issuer::Result<()> {
        match self {
            SchoolStore::Sqlite(store) => store.transaction(work),
            SchoolStore::Postgres(store) => store.transaction(work),
        }
    }
}

/// The connections of `[store]` and the school's tenant in them: `<brin>-<location>`.
fn postgres(config: &SchoolConfig) -> Result<Option<(schooltas_postgres::Pool, Tenant)>> {
    let Some(store) = &config.store else { return Ok(None) };
    let mut connection =
        schooltas_postgres::Config::from_str(&store.url).map_err(|_| schooltas_postgres::Error::InvalidUrl)?;
    if let Some(source) = &store.password {
        let password = match source {
            crate::config::TokenSource::File(path) => Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|error| Error::StorePassword {
                        reason: format!("cannot read {}: {error}", path.display()),
                    })?
                    .trim()
                    .to_owned(),
            ),
            crate::config::TokenSource::Env(name) => Zeroizing::new(
                std::env::var(name)
                    .map_err(|_| Error::StorePassword { reason: format!("environment variable {name} is not set") })?,
            ),
        };
        connection.password(password.as_bytes());
    }
    let tenant = Tenant::new(&format!("{}-{:02}", config.school.brin, config.school.location))?;
    Ok(Some((schooltas_postgres::pool_with(connection, POSTGRES_CONNECTIONS)?, tenant)))
}

/// Connections a school's server keeps to PostgreSQL (the issuer's and the register's
/// operations each hold one for one transaction).
const POSTGRES_CONNECTIONS: u32 = 16;

/// The school's server: the issuer service over its store with the roster, and the verifier.
pub struct SchoolServer {
    issuer: IssuerService<SchoolStore>,
    roster: Arc<Roster>,
    verifier: Option<VerifierService>,
    /// The guardian hand-over relay, served with the verifier (`/relay`).
    relay: Option<GuardianRelay>,
    config: SchoolConfig,
}

impl std::fmt::Debug for SchoolServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchoolServer").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// The school facts the roster's claims carry.
pub fn school_info(config: &SchoolConfig) -> SchoolInfo {
    SchoolInfo {
        name: config.school.name.clone(),
        brin: config.school.brin.clone(),
        location: format!("{:02}", config.school.location),
    }
}

/// The offer policy of a configuration.
pub fn offer_policy(config: &SchoolConfig) -> OfferPolicy {
    OfferPolicy {
        pin_length: config.pin_length,
        offer_lifetime: i64::from(config.offer_lifetime_days) * 86_400,
        ..OfferPolicy::default()
    }
}

/// Opens the roster of a configuration (creating the storage directory and the database).
pub fn open_roster(config: &SchoolConfig) -> Result<Roster> {
    config.create_storage_dir().map_err(|error| Error::StorageDir { reason: error.to_string() })?;
    Ok(Roster::open(config.roster_db(), school_info(config))?)
}

impl SchoolServer {
    /// The school of `config` with its `secrets`; the verifier too when `config` has a
    /// `[verifier]` section and `verifier` is given.
    pub fn open(config: SchoolConfig, secrets: SchoolSecrets, verifier: Option<VerifierParts>) -> Result<Self> {
        let SchoolSecrets { school_keys, child_link, verifier_key } = secrets;
        // What every instance of the school holds alike (its key file): with a shared store,
        // the instances derive their shared secrets and the keys their shared rows are sealed
        // with from it (HKDF, one info string each).
        let instance_key_material = child_link.to_bytes();
        let mut school_keys = school_keys.into_iter();
        let (kid, key) =
            school_keys.next().ok_or(crate::keyfile::KeyFileError::Malformed { reason: "no school key" })?;
        let mut keys = SchoolKeys::new(kid, key);
        for (kid, key) in school_keys {
            keys.rotate(kid, key)?;
        }
        let school = &config.school;
        if let Some(path) = &school.certificate_chain {
            let active = keys.active_kid().to_owned();
            let key = keys
                .verifying_key(&active)
                .cloned()
                .ok_or(crate::keyfile::KeyFileError::Malformed { reason: "the active school key is missing" })?;
            let chain = load_certificate_chain(path, &key, "the school's active key")?;
            keys = keys.with_certificate_chain(&active, chain.certificates().to_vec())?;
        }
        let mut profile = SchoolProfile::new(
            &school.name,
            SchoolLocation::new(Brin::new(&school.brin)?, school.location)?,
            Did::parse(&school.did).map_err(schooltas_issuer::Error::from)?,
            &school.issuer_url,
            keys,
        )?
        .with_child_link_key(child_link);
        if school.has_https_identity() {
            profile = profile.with_https_identity()?;
        }
        let roster = Arc::new(open_roster(&config)?);
        let database = postgres(&config)?;
        let store = match &database {
            Some((pool, tenant)) => SchoolStore::Postgres(PostgresIssuerStore::open(pool.clone(), tenant.clone())?),
            None => SchoolStore::Sqlite(SqliteStore::open(config.issuer_db())?),
        };
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            store,
            StatusPolicy::new(format!("{}/status", school.issuer_url)),
        );
        let issuer = match school.dpop {
            Some(requirement) => issuer.with_dpop(requirement),
            None => issuer,
        };
        let issuer = match &config.wallet_attestation {
            Some(section) => {
                let path = &section.trust_anchors;
                let refuse = |reason: String| Error::CertificateChain { path: path.display().to_string(), reason };
                let pem = std::fs::read_to_string(path).map_err(|error| refuse(format!("cannot read it: {error}")))?;
                let anchors = schooltas_x509::TrustAnchors::from_pem(&pem)
                    .map_err(|error| refuse(format!("not the wallet providers' PEM root certificates: {error}")))?;
                let mut requirement = schooltas_issuer::WalletAttestationRequirement::new(anchors);
                if !section.clients.is_empty() {
                    requirement = requirement.allow_clients(section.clients.iter().cloned());
                }
                if section.require_challenge {
                    requirement = requirement.require_challenge();
                }
                issuer.with_wallet_attestation(requirement)
            }
            None => issuer,
        };
        let service_config = ServiceConfig { offer_policy: offer_policy(&config), ..ServiceConfig::default() };
        let claims = Arc::clone(&roster);
        let issuer = IssuerService::new(
            issuer,
            move |subject: &str, config_id: &str| schooltas_issuer::ClaimsSource::claims(&*claims, subject, config_id),
            service_config,
        )?;
        // Instances over one shared store take each other's nonces, refuse each other's used
        // proofs and serve each other's offers by reference.
        let issuer = match &database {
            Some((_, tenant)) => issuer.across_instances(instance_key_material.as_ref(), tenant.as_str())?,
            None => issuer,
        };
        // A portal login URL turns the authorization code flow on (parents who start there).
        let issuer = match &school.portal_login_url {
            Some(url) => issuer.with_authorization_portal(crate::RedirectPortal::new(url.clone())?)?,
            None => issuer,
        };
        let verifier = match (&config.verifier, verifier) {
            (Some(section), Some(parts)) => {
                // The verifier's endpoints are told apart from the issuer's by their common
                // prefix (`/oid4vp/` for `…/oid4vp/response`): a response endpoint at the root
                // would take every path.
                if verifier_prefix(&section.response_url) == "/" {
                    return Err(Error::UnservablePath {
                        what: "response endpoint",
                        reason: "it needs a path of its own, such as https://<host>/oid4vp/response".into(),
                    });
                }
                let key = schooltas_did::Signer::verifying_key(&verifier_key).clone();
                let mut verifier = schooltas_verifier::Verifier::new(verifier_key, section.response_url.clone())?;
                // With `[store]`, the open requests (and their per-request keys) are shared by
                // every instance of the school: an answer is accepted once, wherever it lands.
                if let Some((pool, tenant)) = &database {
                    let sealing = SealingKey::derive(instance_key_material.as_ref(), REQUEST_SEALING_INFO);
                    verifier =
                        verifier.with_request_store(PostgresRequestStore::open(pool.clone(), tenant.clone(), sealing)?);
                }
                if let Some(path) = &section.certificate_chain {
                    if key.algorithm() != schooltas_did::Algorithm::Es256 {
                        return Err(Error::CertificateChain {
                            path: path.display().to_string(),
                            reason: "the verifier key in the key file is not ES256, which HAIP 1.0 requires for request signing: make the key file anew with `schooltas serve init` for this configuration".into(),
                        });
                    }
                    let chain = load_certificate_chain(path, &key, "the verifier key")?;
                    let client = schooltas_oid4vc::oid4vp::ClientId::X509Hash(chain.leaf_x509_hash());
                    verifier = verifier.with_x509_client(client, chain)?;
                }
                let base = match section.response_url.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/requests"),
                    None => {
                        return Err(Error::UnservablePath {
                            what: "response endpoint",
                            reason: "it has no path".into(),
                        });
                    }
                };
                // Consents given through the school's verifier are kept in `consents.sqlite`, or
                // the school's tenant of `[store]` (synchronous writes: recorded before the
                // wallet hears yes).
                let consents: Arc<dyn ConsentStore> = match &database {
                    Some((pool, tenant)) => Arc::new(PostgresConsentStore::open(pool.clone(), tenant.clone())?),
                    None => Arc::new(SqliteConsentStore::open(config.consents_db())?),
                };
                let register = ConsentRegister::new(consents);
                let service = VerifierService::new(
                    verifier,
                    parts.trust_list,
                    parts.resolver,
                    parts.status,
                    &base,
                    VerifierConfig { encrypted_responses: section.encrypted_responses, ..VerifierConfig::default() },
                )?
                .with_consent_register(register)?;
                Some(match &database {
                    Some((pool, tenant)) => {
                        let sealing = SealingKey::derive(instance_key_material.as_ref(), SESSION_SEALING_INFO);
                        service.with_session_store(PostgresSessionStore::open(
                            pool.clone(),
                            tenant.clone(),
                            sealing,
                        )?)?
                    }
                    None => service,
                })
            }
            _ => None,
        };
        let relay = match &verifier {
            Some(_) => Some(GuardianRelay::new(RelayConfig::default())?),
            None => None,
        };
        Ok(SchoolServer { issuer, roster, verifier, relay, config })
    }

    /// The issuer service.
    pub fn issuer(&self) -> &IssuerService<SchoolStore> {
        &self.issuer
    }

    /// The roster.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The verifier service, when configured.
    pub fn verifier(&self) -> Option<&VerifierService> {
        self.verifier.as_ref()
    }

    /// Offers by value for letters home: per selected pupil one `pupil_enrolment` offer (to the
    /// child, subject `<pupil>`) and per guardian one `guardianship` offer (subject
    /// `<pupil>/<guardian>`). Their codes are kept in the issuer's store, so they survive a
    /// restart. Blocks on the stores.
    pub fn letter_offers(&self, selection: &OfferSelection, now: i64) -> Result<Vec<LetterOffer>> {
        let mut pupils = self.roster.pupils(selection.group.as_deref())?;
        if let Some(only) = &selection.pupil {
            pupils.retain(|pupil| &pupil.number == only);
        }
        let policy = offer_policy(&self.config);
        let mut offers = Vec::new();
        let mut offer = |subject_ref: String, config_id: &str| -> Result<()> {
            let ids = [config_id.to_owned()];
            let (offer, secrets) = self.issuer.with_issuer(|issuer| issuer.offer(&policy, &subject_ref, &ids, now))?;
            let uri = Zeroizing::new(offer.to_uri()?);
            offers.push(LetterOffer { subject_ref, uri, pin: secrets.pin });
            Ok(())
        };
        for pupil in &pupils {
            offer(pupil.number.clone(), "pupil_enrolment")?;
            for guardian in self.roster.guardians(&pupil.number)? {
                offer(guardian.subject_ref(), "guardianship")?;
            }
        }
        Ok(offers)
    }

    /// Where the school's did:web document is served.
    pub fn did_document_url(&self) -> String {
        did_document_url(&self.config)
    }

    /// The public router: the issuer's endpoints, and the verifier's under its path.
    pub fn public_router(&self) -> Router {
        let issuer = self.issuer.router();
        let with_verifier = match &self.verifier {
            Some(verifier) => {
                let prefix = self.verifier_prefix();
                dispatch(prefix, verifier.router(), issuer)
            }
            None => issuer,
        };
        match &self.relay {
            Some(relay) => dispatch(format!("{}/", relay.base_path()), relay.router(), with_verifier),
            None => with_verifier,
        }
    }

    /// The guardian hand-over relay (`https://<host>/relay`), when the verifier is configured.
    pub fn relay(&self) -> Option<&GuardianRelay> {
        self.relay.as_ref()
    }

    /// The administration router behind `token`: the issuer's (offers, status, credentials of
    /// a subject), `POST /admin/roster/pupils` and `POST /admin/roster/guardians` (CSV bodies,
    /// see [`crate::roster`]), and the verifier's outcomes and consent register (`may-use`,
    /// the art. 15 export).
    pub fn admin_router(&self, token: AdminToken) -> Router {
        let roster = Router::new()
            .route("/admin/roster/pupils", post(import_pupils))
            .route("/admin/roster/guardians", post(import_guardians))
            .layer(DefaultBodyLimit::max(crate::roster::MAX_CSV_BYTES))
            .with_state(Arc::new(RosterState { roster: Arc::clone(&self.roster), token: token.clone() }));
        let issuer = roster.merge(self.issuer.admin_router(token.clone()));
        match &self.verifier {
            Some(verifier) => {
                // The sessions and the consent register's staff endpoints share the
                // verifier's base (`/oid4vp/sessions/…`, `/oid4vp/consents/…`).
                let sessions = verifier.sessions_path();
                let base = sessions.rsplit_once('/').map_or(sessions, |(base, _)| base);
                dispatch(format!("{base}/"), verifier.admin_router(token), issuer)
            }
            None => issuer,
        }
    }

    fn verifier_prefix(&self) -> String {
        verifier_prefix(self.config.verifier.as_ref().map(|v| v.response_url.as_str()).unwrap_or_default())
    }

    /// Serves the public router on `public` (over TLS when `tls` is given) and the
    /// administration router on `admin` (plain HTTP: loopback only, as the configuration
    /// checks), until `shutdown` completes; then lets requests under way finish.
    pub async fn serve_until(
        &self,
        public: tokio::net::TcpListener,
        admin: tokio::net::TcpListener,
        token: AdminToken,
        tls: Option<crate::TlsConfig>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let limits = || crate::serve::ConnectionLimits {
            header_timeout: self.issuer.config().header_timeout,
            max_connections: self.issuer.config().max_connections,
        };
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let wait = move |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            // An error means the sender is gone: stop as well.
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let acceptor = tls.map(|tls| tokio_rustls::TlsAcceptor::from(tls.server));
        let public = crate::serve::serve(self.public_router(), public, limits(), acceptor, wait(stopped.clone()));
        let admin = crate::serve::serve(self.admin_router(token), admin, limits(), None, wait(stopped));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        let ((), public, admin) = tokio::join!(signal, public, admin);
        public.and(admin)
    }
}

/// The path prefix of the verifier's endpoints: the response URL's parent path with a
/// trailing slash (`/oid4vp/` for `https://host/oid4vp/response`).
/// The PEM chain at `path`, checked to certify `key` (`whose` names it) and to be valid now.
fn load_certificate_chain(
    path: &std::path::Path,
    key: &schooltas_did::VerifyingKey,
    whose: &str,
) -> Result<schooltas_x509::CertificateChain> {
    let refuse = |reason: String| Error::CertificateChain { path: path.display().to_string(), reason };
    let pem = std::fs::read_to_string(path).map_err(|error| refuse(format!("cannot read it: {error}")))?;
    let chain = schooltas_x509::CertificateChain::from_pem(&pem)
        .map_err(|error| refuse(format!("not PEM certificates, leaf first: {error}")))?;
    let certified = chain.unvalidated_leaf_key().map_err(|error| refuse(format!("its first certificate: {error}")))?;
    if &certified != key {
        return Err(refuse(format!(
            "its first certificate does not certify {whose}: ask the CA for a certificate of the key `schooltas serve public-keys` prints"
        )));
    }
    let validity = chain.unvalidated_leaf_validity().map_err(|error| refuse(error.to_string()))?;
    let (not_before, not_after) = (validity.not_before(), validity.not_after());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    if now < not_before {
        return Err(refuse("its first certificate is not valid yet".into()));
    }
    if now >= not_after {
        return Err(refuse("its first certificate has expired: ask the CA for a new one".into()));
    }
    Ok(chain)
}

fn verifier_prefix(response_url: &str) -> String {
    let path = response_url
        .strip_prefix("https://")
        .and_then(|rest| rest.find('/').and_then(|at| rest.get(at..)))
        .unwrap_or("/");
    match path.rsplit_once('/') {
        Some((base, _)) => format!("{base}/"),
        None => "/".to_owned(),
    }
}

/// A router that sends paths under `prefix` to `first` and all others to `second` (both have
/// their own fallbacks, which axum's `merge` refuses).
fn dispatch(prefix: String, first: Router, second: Router) -> Router {
    let first = TowerToHyperService::new(first);
    let second = TowerToHyperService::new(second);
    let prefix = Arc::new(prefix);
    Router::new().fallback(move |request: Request| {
        let (first, second, prefix) = (first.clone(), second.clone(), Arc::clone(&prefix));
        async move {
            let answer = if request.uri().path().starts_with(prefix.as_str()) {
                first.call(request).await
            } else {
                second.call(request).await
            };
            match answer {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

struct RosterState {
    roster: Arc<Roster>,
    token: AdminToken,
}

fn admin_answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_string())
            .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"schooltas-admin\""));
    }
    response
}

fn roster_import(state: &RosterState, headers: &HeaderMap, body: Bytes, pupils: bool) -> Response {
    if !state.token.admits_request(headers) {
        return admin_answer(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "error_description": "the administration endpoints need the administration's Bearer token"}),
        );
    }
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")));
    if !csv {
        return admin_answer(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "invalid_request", "error_description": "send the file as Content-Type: text/csv"}),
        );
    }
    let result = if pupils { state.roster.import(Some(&body), None) } else { state.roster.import(None, Some(&body)) };
    match result {
        Ok(report) => admin_answer(StatusCode::OK, json!({"pupils": report.pupils, "guardians": report.guardians})),
        Err(RosterError::Lines(lines)) => {
            let problems: Vec<_> = lines
                .iter()
                .map(|line| json!({"line": line.line, "column": line.column, "problem": line.problem.to_string()}))
                .collect();
            admin_answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "invalid_roster", "error_description": "nothing was imported", "problems": problems}),
            )
        }
        Err(error @ RosterError::Database(_)) => admin_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "server_error", "error_description": error.to_string()}),
        ),
        Err(error) => admin_answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "invalid_roster", "error_description": error.to_string()}),
        ),
    }
}

async fn import_pupils(State(state): State<Arc<RosterState>>, headers: HeaderMap, body: Bytes) -> Response {
    let state = Arc::clone(&state);
    tokio::task::spawn_blocking(move || roster_import(&state, &headers, body, true))
        .await
        .unwrap_or_else(|_| admin_answer(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "server_error"})))
}

async fn import_guardians(State(state): State<Arc<RosterState>>, headers: HeaderMap, body: Bytes) -> Response {
    let state = Arc::clone(&state);
    tokio::task::spawn_blocking(move || roster_import(&state, &headers, body, false))
        .await
        .unwrap_or_else(|_| admin_answer(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "server_error"})))
}

/// The verifier's DID for a key (did:key), as `schooltas serve init` prints it.
pub fn verifier_did(secrets: &SchoolSecrets) -> String {
    schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(secrets.verifier_key.verifying_key().clone()))
        .to_string()
}

/// Where the school's did:web document is served (`<issuer>/.well-known/did.json` for a DID
/// on the issuer's host without a path).
pub fn did_document_url(config: &SchoolConfig) -> String {
    let host_and_path = config.school.did.strip_prefix("did:web:").unwrap_or_default();
    let mut parts = host_and_path.split(':');
    let host = parts.next().unwrap_or_default().replace("%3A", ":").replace("%3a", ":");
    let path: Vec<&str> = parts.collect();
    if path.is_empty() {
        format!("https://{host}/.well-known/did.json")
    } else {
        format!("https://{host}/{}/did.json", path.join("/"))
    }
}
