//! The school's configuration file (`school.toml`) for `schooltas serve`: parsed with serde,
//! unknown keys refused, every value checked here so the rest of the program takes typed
//! values. A sample with every key explained is `docs/sample-school.toml`.
//!
//! Secrets are never inline: the admin token comes from a file or an environment variable,
//! and `token = "…"` in the file is refused ([`ConfigError::InlineSecret`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use serde::Deserialize;
use zeroize::Zeroizing;

/// Why a configuration was refused. Each variant names the key (`section.key`) to fix.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file is not TOML, has an unknown key or a value of the wrong type.
    #[error("school.toml: {reason}")]
    Syntax {
        /// The TOML parser's message (line, key; values of secrets never appear since none
        /// are inline).
        reason: String,
    },
    /// A value is present but not acceptable.
    #[error("school.toml: {key} {reason}")]
    Invalid {
        /// The key, as `section.key`.
        key: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A secret was written into the file itself.
    #[error("school.toml: {key} must not hold the secret itself; use {instead}")]
    InlineSecret {
        /// The key.
        key: &'static str,
        /// What to use instead.
        instead: &'static str,
    },
    /// The admin listener is not on a loopback address and `listen.allow_remote_admin` is not set.
    #[error(
        "school.toml: listen.admin {address} is not a loopback address; staff-only endpoints belong on 127.0.0.1 (or set listen.allow_remote_admin = true behind a firewall)"
    )]
    RemoteAdmin {
        /// The address.
        address: SocketAddr,
    },
    /// A remote admin listener without `listen.behind_proxy`: the admin listener speaks plain
    /// HTTP, so its Bearer token would cross the network in clear.
    #[error(
        "school.toml: listen.admin {address} is remote but the admin listener speaks plain HTTP, so the admin token would cross the network in clear; keep it on 127.0.0.1, or put a TLS-terminating proxy in front and set listen.behind_proxy = true"
    )]
    RemoteAdminInClear {
        /// The address.
        address: SocketAddr,
    },
    /// Plain HTTP on a non-loopback address without `listen.behind_proxy`.
    #[error(
        "school.toml: listen.public {address} is not loopback and there is no [tls] section; add [tls] or set listen.behind_proxy = true when a reverse proxy terminates TLS"
    )]
    PlainHttpInPublic {
        /// The address.
        address: SocketAddr,
    },
    /// The admin token could not be read from where the configuration says.
    #[error("admin token: {reason}")]
    AdminToken {
        /// Where it was looked for and why it failed (never the token).
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    school: RawSchool,
    storage: RawStorage,
    listen: RawListen,
    tls: Option<RawTls>,
    admin: RawAdmin,
    #[serde(default)]
    offers: RawOffers,
    verifier: Option<RawVerifier>,
    wallet_attestation: Option<RawWalletAttestation>,
    store: Option<RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: String,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWalletAttestation {
    trust_anchors: PathBuf,
    #[serde(default)]
    clients: Vec<String>,
    #[serde(default)]
    require_challenge: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchool {
    name: String,
    brin: String,
    #[serde(default)]
    location: u8,
    issuer_url: String,
    did: String,
    #[serde(default)]
    dpop: Option<String>,
    #[serde(default)]
    identity: Option<String>,
    #[serde(default)]
    certificate_chain: Option<PathBuf>,
    #[serde(default)]
    portal_login_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    dir: PathBuf,
    key_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    public: SocketAddr,
    admin: SocketAddr,
    #[serde(default)]
    allow_remote_admin: bool,
    #[serde(default)]
    behind_proxy: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    certificate_chain: PathBuf,
    private_key: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    token_file: Option<PathBuf>,
    token_env: Option<String>,
    token: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffers {
    #[serde(default = "default_pin_length")]
    pin_length: u32,
    #[serde(default = "default_lifetime_days")]
    lifetime_days: u32,
}

impl Default for RawOffers {
    fn default() -> Self {
        RawOffers { pin_length: default_pin_length(), lifetime_days: default_lifetime_days() }
    }
}

fn default_pin_length() -> u32 {
    6
}

fn default_lifetime_days() -> u32 {
    14
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerifier {
    response_url: String,
    trust_list: PathBuf,
    trust_operator: String,
    #[serde(default)]
    encrypted_responses: bool,
    #[serde(default)]
    certificate_chain: Option<PathBuf>,
}

/// The school as the credentials name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolSection {
    /// The school's name.
    pub name: String,
    /// BRIN code (four characters, `12AB`).
    pub brin: String,
    /// Location number, 0–99.
    pub location: u8,
    /// The credential issuer identifier, `https://…` without a trailing slash.
    pub issuer_url: String,
    /// The school's DID (a did:web on the issuer's host, normally).
    pub did: String,
    /// DPoP-bound access tokens (RFC 9449): `"required"` (HAIP 1.0, with server nonces),
    /// `"optional"` (bound when the wallet sends a proof), or off (`None`, Bearer tokens).
    /// With an `https` identity it defaults to required, and off is refused.
    pub dpop: Option<schooltas_issuer::DpopRequirement>,
    /// The school portal's login page (`https://…`): set, it turns the authorization code
    /// flow on (PAR, PKCE, `iss`; HAIP 1.0 §4) for parents who start at the portal; the
    /// authorization endpoint sends the browser there with `?authorization=<handle>`.
    pub portal_login_url: Option<String>,
    /// `identity = "https"` (the EU profile, HAIP 1.0): the credentials name the school by
    /// `issuer_url` instead of its DID, its keys are ES256, and the PEM file here (the issuer
    /// certificate the trust-list operator's CA made for the active key, then its
    /// intermediates, leaf first) goes into every credential's and status list's `x5c`.
    /// `None` for `identity = "did"` (the default).
    pub certificate_chain: Option<PathBuf>,
}

impl SchoolSection {
    /// Whether the school names itself by its `https` identifier (the EU profile).
    pub fn has_https_identity(&self) -> bool {
        self.certificate_chain.is_some()
    }
}

/// Where the admin token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A file holding the token (one line; surrounding whitespace trimmed).
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl TokenSource {
    /// Reads the token (at least 32 characters is checked by [`crate::AdminToken::new`]).
    pub fn read(&self) -> Result<Zeroizing<String>, ConfigError> {
        match self {
            TokenSource::File(path) => {
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|error| ConfigError::AdminToken {
                    reason: format!("cannot read {}: {error}", path.display()),
                })?);
                Ok(Zeroizing::new(text.trim().to_owned()))
            }
            TokenSource::Env(name) => std::env::var(name)
                .map(Zeroizing::new)
                .map_err(|_| ConfigError::AdminToken { reason: format!("environment variable {name} is not set") }),
        }
    }
}

/// The verifier's part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierSection {
    /// The `direct_post` response endpoint, `https://…/oid4vp/response`; request objects are
    /// served beside it at `…/requests`.
    pub response_url: String,
    /// The signed trust list JWT (`schooltas trust-list sign` makes one).
    pub trust_list: PathBuf,
    /// The DID of the trust list's operator, whose key must have signed it.
    pub trust_operator: String,
    /// Ask wallets for encrypted responses (`direct_post.jwt`, HAIP 1.0), each request with a
    /// fresh key.
    pub encrypted_responses: bool,
    /// The verifier's request-signing certificate chain (PEM, leaf first) from the trust-list
    /// operator's CA: the verifier is then `x509_hash:<hash of the leaf>` (HAIP 1.0) and
    /// signs its request objects with `x5c`; `None`: it is its key's did:key.
    pub certificate_chain: Option<PathBuf>,
}

/// `[wallet_attestation]`: the issuer requires wallets to authenticate with a wallet
/// attestation (OAuth 2.0 Attestation-Based Client Authentication, OpenID4VCI 1.0 Appendix E,
/// HAIP 1.0 §4.4.1) at its token (and PAR) endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletAttestationSection {
    /// PEM file of the wallet providers' root certificates (the `x5c` of an attestation must
    /// lead to one of them).
    pub trust_anchors: PathBuf,
    /// Only these wallets (`client_id`, the attestation's `sub`); empty: any wallet whose
    /// provider is trusted.
    pub clients: Vec<String>,
    /// Wallets must put the server's challenge in their PoP (the draft's §"Challenges").
    pub require_challenge: bool,
}

/// `[store]`: the issuer's store and the consent register in a PostgreSQL database instead of
/// the SQLite files, as the school's tenant (`<brin>-<location>`, e.g. `12AB-00`), so that
/// several servers (or schools) share one database. The roster stays in `roster.sqlite`. The
/// verifier's open requests and sessions go there too (sealed under keys derived from the
/// school's key file), so an answer posted to any instance is accepted once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSection {
    /// The connection URL, `postgres://user@host:port/database` (or `host=… user=…` pairs),
    /// without a password.
    pub url: String,
    /// Where the database password comes from, if the server asks for one.
    pub password: Option<TokenSource>,
}

/// A checked `school.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolConfig {
    /// The school.
    pub school: SchoolSection,
    /// The directory of the SQLite files (`issuer.sqlite`, `consents.sqlite`,
    /// `roster.sqlite`), created mode 0700.
    pub storage_dir: PathBuf,
    /// `[store]`: PostgreSQL for the issuer and the consent register; `None`: the SQLite
    /// files in `storage_dir` (the default).
    pub store: Option<StoreSection>,
    /// The encrypted key file (default `<storage dir>/keys.sealed`).
    pub key_file: PathBuf,
    /// The public listener (OpenID4VCI, OpenID4VP).
    pub public: SocketAddr,
    /// The admin listener (staff only).
    pub admin: SocketAddr,
    /// Plain HTTP on the public address, a reverse proxy terminating TLS in front.
    pub behind_proxy: bool,
    /// TLS certificate chain and key PEM files; `None` for plain HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Where the admin token comes from.
    pub admin_token: TokenSource,
    /// PIN digits of each offer (0: no PIN).
    pub pin_length: u32,
    /// Days an offer can be redeemed.
    pub offer_lifetime_days: u32,
    /// The verifier, when the school also verifies.
    pub verifier: Option<VerifierSection>,
    /// Wallet attestation required at the issuer, when set.
    pub wallet_attestation: Option<WalletAttestationSection>,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

fn https_url(key: &'static str, url: &str) -> Result<(), ConfigError> {
    let rest = url.strip_prefix("https://").ok_or_else(|| invalid(key, "must start with https://"))?;
    if rest.is_empty() || url.ends_with('/') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(key, "must be an https URL with a host and no trailing slash"));
    }
    Ok(())
}

impl SchoolConfig {
    /// Parses and checks a configuration; relative paths are taken relative to `base` (the
    /// directory of the file).
    pub fn parse(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|error| ConfigError::Syntax { reason: error.message().to_owned() + &location(text, &error) })?;
        let school = raw.school;
        if school.name.trim().is_empty() {
            return Err(invalid("school.name", "is empty"));
        }
        if school.brin.len() != 4 || !school.brin.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid("school.brin", "must be a four-character BRIN code such as 12AB"));
        }
        if school.location > 99 {
            return Err(invalid("school.location", "must be 0 to 99"));
        }
        https_url("school.issuer_url", &school.issuer_url)?;
        if !school.did.starts_with("did:") {
            return Err(invalid("school.did", "must be a DID (did:web:…)"));
        }
        if let Some(url) = &school.portal_login_url {
            https_url("school.portal_login_url", url)?;
            if url.contains('#') {
                return Err(invalid("school.portal_login_url", "must not have a fragment"));
            }
        }
        let resolve = |path: PathBuf| if path.is_absolute() { path } else { base.join(path) };
        let https_identity = match school.identity.as_deref() {
            None | Some("did") => false,
            Some("https") => true,
            Some(_) => return Err(invalid("school.identity", "must be \"did\" or \"https\"")),
        };
        let certificate_chain = match (https_identity, school.certificate_chain) {
            (true, Some(chain)) => Some(resolve(chain)),
            (true, None) => {
                return Err(invalid(
                    "school.certificate_chain",
                    "is needed with identity = \"https\": the PEM file of the issuer certificate the trust-list operator's CA made for the school's key",
                ));
            }
            (false, Some(_)) => {
                return Err(invalid(
                    "school.certificate_chain",
                    "is for identity = \"https\" only: a credential naming the school by its DID is trusted through the DID, and verifiers refuse an x5c beside it",
                ));
            }
            (false, None) => None,
        };
        let dpop = match (school.dpop.as_deref(), https_identity) {
            (None, true) | (Some("required"), _) => Some(schooltas_issuer::DpopRequirement::haip()),
            (Some("off"), true) => {
                return Err(invalid(
                    "school.dpop",
                    "cannot be \"off\" with identity = \"https\": HAIP 1.0 requires DPoP-bound access tokens",
                ));
            }
            (None | Some("off"), false) => None,
            (Some("optional"), _) => Some(schooltas_issuer::DpopRequirement::optional()),
            (Some(_), _) => return Err(invalid("school.dpop", "must be \"required\", \"optional\" or \"off\"")),
        };
        let storage_dir = resolve(raw.storage.dir);
        let key_file = raw.storage.key_file.map_or_else(|| storage_dir.join("keys.sealed"), resolve);
        let listen = raw.listen;
        if !listen.admin.ip().is_loopback() && !listen.allow_remote_admin {
            return Err(ConfigError::RemoteAdmin { address: listen.admin });
        }
        if !listen.admin.ip().is_loopback() && !listen.behind_proxy {
            return Err(ConfigError::RemoteAdminInClear { address: listen.admin });
        }
        if listen.public == listen.admin && listen.public.port() != 0 {
            return Err(invalid("listen.admin", "must differ from listen.public"));
        }
        let tls = raw.tls.map(|tls| (resolve(tls.certificate_chain), resolve(tls.private_key)));
        if tls.is_none() && !listen.public.ip().is_loopback() && !listen.behind_proxy {
            return Err(ConfigError::PlainHttpInPublic { address: listen.public });
        }
        let admin_token = match (raw.admin.token, raw.admin.token_file, raw.admin.token_env) {
            (Some(_), _, _) => {
                return Err(ConfigError::InlineSecret {
                    key: "admin.token",
                    instead: "admin.token_file or admin.token_env",
                });
            }
            (None, Some(file), None) => TokenSource::File(resolve(file)),
            (None, None, Some(env)) if !env.is_empty() => TokenSource::Env(env),
            (None, Some(_), Some(_)) => return Err(invalid("admin", "give token_file or token_env, not both")),
            _ => return Err(invalid("admin", "needs token_file or token_env")),
        };
        if !(0..=12).contains(&raw.offers.pin_length) || raw.offers.pin_length == 1 || raw.offers.pin_length == 2 {
            return Err(invalid("offers.pin_length", "must be 0 (no PIN) or 3 to 12 digits"));
        }
        if !(1..=90).contains(&raw.offers.lifetime_days) {
            return Err(invalid("offers.lifetime_days", "must be 1 to 90 days"));
        }
        let verifier = match raw.verifier {
            Some(verifier) => {
                https_url("verifier.response_url", &verifier.response_url)?;
                if !verifier.trust_operator.starts_with("did:") {
                    return Err(invalid("verifier.trust_operator", "must be the operator's DID"));
                }
                Some(VerifierSection {
                    response_url: verifier.response_url,
                    trust_list: resolve(verifier.trust_list),
                    trust_operator: verifier.trust_operator,
                    encrypted_responses: verifier.encrypted_responses,
                    certificate_chain: verifier.certificate_chain.map(resolve),
                })
            }
            None => None,
        };
        let wallet_attestation = match raw.wallet_attestation {
            Some(section) => {
                if section.clients.iter().any(|client| client.trim().is_empty()) {
                    return Err(invalid("wallet_attestation.clients", "has an empty client_id"));
                }
                Some(WalletAttestationSection {
                    trust_anchors: resolve(section.trust_anchors),
                    clients: section.clients,
                    require_challenge: section.require_challenge,
                })
            }
            None => None,
        };
        let store = match raw.store {
            Some(store) => {
                let config = schooltas_postgres::Config::from_str(&store.url).map_err(|_| {
                    invalid("store.url", "is not a PostgreSQL connection URL (postgres://USER@HOST:PORT/DATABASE)")
                })?;
                if config.get_password().is_some() {
                    return Err(ConfigError::InlineSecret {
                        key: "store.url",
                        instead: "a URL without the password, and store.password_file or store.password_env",
                    });
                }
                let password = match (store.password_file, store.password_env) {
                    (Some(file), None) => Some(TokenSource::File(resolve(file))),
                    (None, Some(env)) if !env.is_empty() => Some(TokenSource::Env(env)),
                    (None, None) => None,
                    _ => return Err(invalid("store", "give password_file or password_env (a name), not both")),
                };
                Some(StoreSection { url: store.url, password })
            }
            None => None,
        };
        Ok(SchoolConfig {
            store,
            school: SchoolSection {
                name: school.name,
                brin: school.brin,
                location: school.location,
                issuer_url: school.issuer_url,
                did: school.did,
                dpop,
                certificate_chain,
                portal_login_url: school.portal_login_url,
            },
            storage_dir,
            key_file,
            public: listen.public,
            admin: listen.admin,
            behind_proxy: listen.behind_proxy,
            tls,
            admin_token,
            pin_length: raw.offers.pin_length,
            offer_lifetime_days: raw.offers.lifetime_days,
            verifier,
            wallet_attestation,
        })
    }

    /// Reads and parses `path` (relative paths in it are taken relative to its directory).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError::Syntax { reason: format!("cannot read {}: {error}", path.display()) })?;
        Self::parse(&text, path.parent().unwrap_or_else(|| Path::new(".")))
    }

    /// The issuer's SQLite file.
    pub fn issuer_db(&self) -> PathBuf {
        self.storage_dir.join("issuer.sqlite")
    }

    /// The roster's SQLite file.
    pub fn roster_db(&self) -> PathBuf {
        self.storage_dir.join("roster.sqlite")
    }

    /// The consent register's SQLite file.
    pub fn consents_db(&self) -> PathBuf {
        self.storage_dir.join("consents.sqlite")
    }

    /// Creates the storage directory (mode 0700 on Unix) if it is missing.
    pub fn create_storage_dir(&self) -> std::io::Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.storage_dir)
    }
}

fn location(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let line = text.get(..span.start).map_or(0, |before| before.matches('\n').count()) + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}
