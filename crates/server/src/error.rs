//! The one error type of the server crate: what stops a service from starting or serving, and
//! what the embedding program's own calls (offers, status changes) can meet.
//!
//! Requests from outside never produce this type: they are answered with the protocol's error
//! JSON and an HTTP status (see [`crate::IssuerService`]). No variant carries a claim value or
//! a secret (a pre-authorized code, a PIN, an access token).

/// Everything that can go wrong while building, running or using an [`crate::IssuerService`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The issuer refused or failed (unknown credential type, storage, status change, …).
    #[error(transparent)]
    Issuer(#[from] schooltas_issuer::Error),
    /// An OpenID4VCI message could not be built (for example an offer URI).
    #[error(transparent)]
    Message(#[from] schooltas_oid4vc::Error),
    /// An identifier names a location this service cannot serve literally.
    #[error("cannot serve the {what} at its location: {reason}")]
    UnservablePath {
        /// Which location (`credential issuer`, `did:web document`, `status list base URI`).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two endpoints would share a path, or one would lie under another.
    #[error(
        "the endpoints at {first} and {second} would shadow each other; give the status lists or the did:web document another path"
    )]
    PathConflict {
        /// One path.
        first: String,
        /// The other.
        second: String,
    },
    /// The service already holds its maximum of offers by reference that are neither expired
    /// nor redeemed.
    #[error(
        "{held} offers by reference are waiting to be fetched (the configured maximum); wait until some are redeemed or expire, or raise ServiceConfig::max_pending_offers"
    )]
    TooManyPendingOffers {
        /// How many are held.
        held: usize,
    },
    /// The verifier library refused (a request it cannot build or sign, say).
    #[error(transparent)]
    Verifier(#[from] schooltas_verifier::Error),
    /// The verifier's response encryption key could not be made (encrypted responses on).
    #[error("the key for encrypted responses could not be generated: {0}")]
    ResponseEncryption(#[from] schooltas_jwe::JweError),
    /// A school rule refused (the trust list expired, the request asks more than the
    /// registration allows).
    #[error(transparent)]
    School(#[from] schooltas_school::Error),
    /// A service was configured after it was cloned or started serving.
    #[error("{what} must be set before the service is cloned or served")]
    ConfiguredTooLate {
        /// What was set too late.
        what: &'static str,
    },
    /// The verifier service holds its maximum of open sessions.
    #[error(
        "{limit} sessions are open (the configured maximum); wait until some expire, or raise VerifierConfig::max_sessions"
    )]
    TooManySessions {
        /// The configured maximum.
        limit: usize,
    },
    /// The verifier's session store could not be read or written.
    #[error("the verifier's session store failed: {reason}")]
    SessionStore {
        /// What the store reported.
        reason: String,
    },
    /// A certificate or key file could not be read.
    #[cfg(feature = "tls")]
    #[error("cannot read the TLS file {path}: {reason}")]
    TlsFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong (never the key's bytes).
        reason: String,
    },
    /// The certificate chain and key do not make a TLS configuration (for example, the key
    /// is not the certificate's).
    #[cfg(feature = "tls")]
    #[error("the TLS certificate and key are not usable: {reason}")]
    Tls {
        /// What rustls reported.
        reason: String,
    },
    /// The administration token is too weak: at least 32 characters, no surrounding spaces.
    #[error(
        "the administration token must be at least 32 characters without surrounding spaces (a random value from the school's configuration)"
    )]
    WeakAdminToken,
    /// The pupil roster refused an import or could not be read.
    #[error(transparent)]
    Roster(#[from] crate::roster::RosterError),
    /// The school's key file could not be made or opened.
    #[error(transparent)]
    KeyFile(#[from] crate::keyfile::KeyFileError),
    /// The PostgreSQL store of `[store]` could not be opened (connection, migration, role).
    #[error(transparent)]
    Postgres(#[from] schooltas_postgres::Error),
    /// The database password of `[store]` could not be read from where the configuration says.
    #[error("database password: {reason}")]
    StorePassword {
        /// Where it was looked for and why it failed (never the password).
        reason: String,
    },
    /// The storage directory could not be created.
    #[error("cannot create the storage directory: {reason}")]
    StorageDir {
        /// The system's reason.
        reason: String,
    },
    /// Listening or accepting connections failed.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
    /// A configured certificate file (`school.certificate_chain`,
    /// `verifier.certificate_chain`, `wallet_attestation.trust_anchors`) cannot be used.
    #[error("the certificate chain {path} cannot be used: {reason}")]
    CertificateChain {
        /// The PEM file.
        path: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
