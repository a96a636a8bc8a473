//! The one error type of the wallet crate. No variant carries a claim value, a key or a
//! passphrase.

use schooltas_school::LegalBasis;
use schooltas_school::catalog::Language;

/// Everything that can go wrong in a wallet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A credential problem from `schooltas-school`.
    #[error(transparent)]
    Credential(#[from] schooltas_school::Error),
    /// A key, JWS or DID problem from `schooltas-did`.
    #[error(transparent)]
    Did(#[from] schooltas_did::Error),
    /// The passphrase (or platform key) does not open this wallet.
    #[error("wrong passphrase: this wallet cannot be opened with it")]
    WrongPassphrase,
    /// Stored data failed its integrity check: a record was altered, moved or damaged on disk.
    /// Nothing of it is returned.
    #[error("the wallet's storage is corrupted ({what}); restore it from an export")]
    Corrupted {
        /// What failed the check.
        what: String,
    },
    /// The storage layer failed; the operation was rolled back.
    #[error("wallet storage failed (nothing was written): {reason}")]
    Storage {
        /// What the storage layer reported.
        reason: String,
    },
    /// Sealed records of the wallet file were deleted, put back from an older copy, swapped or
    /// added: the file no longer matches its sealed state root. Nothing of it is returned.
    #[error(
        "the wallet file was tampered with ({what}); its records no longer match the sealed state, \
         so it is not used. Restore it from an export"
    )]
    Tampered {
        /// What did not match (names kinds and counts, never record contents).
        what: String,
    },
    /// The wallet file is older than the state last recorded outside it (the rollback anchor
    /// kept by the app in the platform keystore, or this open handle): an older copy of the
    /// whole file was put back, or a `-wal` file with acknowledged writes was lost.
    #[error(
        "the wallet file is an older copy: it holds state {file_generation}, but state \
         {known_generation} was already recorded. Writes made since then are missing; restore \
         the newest export instead"
    )]
    RolledBack {
        /// The state generation found in the file.
        file_generation: u64,
        /// The generation last recorded by the anchor (or seen by this handle).
        known_generation: u64,
    },
    /// Another process (or connection) holds the wallet's write lock and did not release it in
    /// time. Nothing was written; try again once the other app is done.
    #[error("another process is writing to the wallet right now; nothing was written, try again in a moment")]
    Busy,
    /// A key-derivation parameter read from a file (or given) lies outside what this app
    /// accepts. Refused before any memory is allocated or any time is spent deriving.
    #[error(
        "the key-derivation parameter {parameter} = {value} is outside the accepted bound ({bound}); the file was not made by this app or was altered"
    )]
    KdfOutOfBounds {
        /// Which parameter (`memory_kib`, `iterations`, `parallelism`, `salt length`, …).
        parameter: &'static str,
        /// The value found.
        value: u64,
        /// The bound, in words (`at most 1048576`).
        bound: String,
    },
    /// The write is stored in the wallet file, but the rollback anchor outside it could not be
    /// updated; the next open catches the anchor up.
    #[error("the change was saved, but the rollback anchor could not be updated: {reason}")]
    Anchor {
        /// What the anchor reported.
        reason: String,
    },
    /// The file is not a Schooltas wallet, or one of a newer version.
    #[error("not a Schooltas wallet: {reason}")]
    NotAWallet {
        /// Why.
        reason: String,
    },
    /// A wallet export could not be read.
    #[error("invalid wallet export: {reason}")]
    InvalidExport {
        /// Why.
        reason: String,
    },
    /// An issuer answered with an OpenID4VCI error.
    #[error("the issuer refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    IssuerRefused {
        /// The error code (`invalid_grant`, `invalid_proof`, …).
        error: String,
        /// Its description.
        description: Option<String>,
    },
    /// The verifier's response endpoint refused the answer (OpenID4VP 1.0 §8.2): it names the
    /// checks that failed. The answer was sent; the copies it used stay used.
    #[error("the verifier refused the answer: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    VerifierRefused {
        /// The error code (`invalid_request`, …).
        error: String,
        /// Its description (the failed checks, in the verifier's words, at most 1,000 characters).
        description: Option<String>,
    },
    /// The verifier is not in the trust list: the wallet does not answer it.
    #[error("the verifier {did} is not registered in the trust list; the wallet does not answer it")]
    VerifierNotRegistered {
        /// The verifier's DID.
        did: String,
    },
    /// The request states no purpose and legal basis (the `schooltas` request extension), and
    /// no single purpose of the verifier's registration covers every credential it asks for.
    #[error(
        "the request states no purpose and legal basis, and no single registered purpose of the verifier covers it, so nobody can decide on it"
    )]
    MissingPurpose,
    /// No request with this id is waiting in the wallet.
    #[error("no request {request_id} is waiting in this wallet")]
    UnknownRequest {
        /// The id given.
        request_id: String,
    },
    /// The request was already answered or refused.
    #[error("request {request_id} was already answered or refused")]
    RequestAlreadyAnswered {
        /// The id given.
        request_id: String,
    },
    /// The approved selection does not answer the request.
    #[error("the selection cannot be sent: {reason}")]
    SelectionIncomplete {
        /// Why.
        reason: String,
    },
    /// The wallet cannot act as this child's guardian.
    #[error("cannot approve for this child: {reason}")]
    NotGuardian {
        /// Why.
        reason: String,
    },
    /// The young person is 16 or over: the parent's view of their log has ended.
    #[error("the child turned 16 on {since}; from then on only they can read their log")]
    ParentViewEnded {
        /// The 16th birthday.
        since: String,
    },
    /// No consent with this id.
    #[error("no consent {consent_id} in this wallet")]
    UnknownConsent {
        /// The id given.
        consent_id: String,
    },
    /// The consent was already withdrawn.
    #[error("consent {consent_id} was already withdrawn")]
    AlreadyWithdrawn {
        /// The id given.
        consent_id: String,
    },
    /// The consent was given by a parent; before the 16th birthday it is withdrawn from the
    /// parent's wallet (from 16 the young person withdraws it from their own).
    #[error("this consent was given by a parent; until the 16th birthday it is withdrawn from the parent's wallet")]
    GivenByParent,
    /// The request states another legal basis for a credential query than the verifier's
    /// registration holds for that purpose and credential type (or states a basis other than
    /// consent where the registration holds none). The wallet decides who approves from the
    /// registration, never from the request (DOMAIN.md: a basis "cannot be used as a
    /// pretext"), so it does not answer at all. [`Error::localized`] gives the sentence in
    /// Dutch.
    #[error(
        "the verifier states {} as the legal basis for {query_id:?}, but for this purpose it is registered {}; \
         the wallet does not answer a request whose basis differs from the registration",
        basis_en(*stated),
        registered.map_or_else(|| "for no legal basis other than consent".to_owned(), |b| format!("only on {}", basis_en(b)))
    )]
    LegalBasisMismatch {
        /// The DCQL credential query id.
        query_id: String,
        /// The basis the request states.
        stated: LegalBasis,
        /// The basis the registration holds (`None`: the registration does not cover this
        /// purpose or credential type).
        registered: Option<LegalBasis>,
    },
    /// A transfer dossier (onderwijskundig rapport) was asked for by a school the pupil is not
    /// registered at: the wallet holds no current enrolment credential issued by the requesting
    /// school (DOMAIN.md: the receiving school may ask only after registration).
    #[error(
        "the transfer dossier goes only to a school where the pupil is registered; this wallet holds no \
         current enrolment credential issued by {verifier}"
    )]
    TransferWithoutEnrolment {
        /// The requesting verifier's DID.
        verifier: String,
    },
    /// A child's presentation in a request for a parent's approval discloses no child link
    /// (`sub`), so the parent's wallet cannot tell whom it is about.
    #[error("the child's presentation for {query_id:?} does not say which child it is about; it cannot be approved")]
    ChildLinkMissing {
        /// The DCQL credential query id.
        query_id: String,
    },
    /// The presentations in a request for a parent's approval are not all about the same child.
    #[error(
        "the presentations to approve are not all about the same child (the one for {query_id:?} is about \
         another); one approval is for one child"
    )]
    NotOneChild {
        /// The credential query whose presentation differs.
        query_id: String,
    },
    /// The presentations in a request for a parent's approval are about another child than the
    /// one the request names (and the parent's guardianship credential covers).
    #[error("the presentation for {query_id:?} is about another child than the one this approval is for")]
    WrongChild {
        /// The DCQL credential query id.
        query_id: String,
    },
    /// The consent is not one a parent gave that this young person can confirm (yet).
    #[error("consent {consent_id} cannot be confirmed here: {reason}")]
    NotReconfirmable {
        /// The consent's id.
        consent_id: String,
        /// Why.
        reason: &'static str,
    },
    /// A verifier with an X.509 client id (`x509_hash`, `x509_san_dns`) signed its request
    /// with a certificate chain that does not lead to the trust list's X.509 anchors (unknown
    /// CA, expired, bad signature, …), or sent none; the wallet does not answer it.
    #[error("the verifier's certificate chain is not trusted: {0}")]
    UntrustedVerifierCertificate(#[source] schooltas_x509::X509Error),
    /// An `x509_san_dns` verifier's certificate does not name the host of its client id.
    #[error("the verifier's certificate does not name the host of its x509_san_dns client id")]
    VerifierCertificateNameMismatch,
    /// A guardian hand-over link is malformed (no `#k=` key, not https, no box id, …).
    #[error("this is not a usable guardian hand-over link: {reason}")]
    BadHandOverLink {
        /// What is wrong with it (never the key).
        reason: &'static str,
    },
    /// A hand-over message did not decrypt: it was altered, belongs to another box or
    /// direction (an answer offered as a request), or the link's key is not the one it was
    /// sealed with. Nothing of it is used.
    #[error(
        "the guardian hand-over {what} could not be decrypted: it was altered, or the link is not \
         the one for this box; ask for a new link"
    )]
    HandOverUnreadable {
        /// `request` or `answer`.
        what: &'static str,
    },
    /// The hand-over relay refused an exchange (`box_not_found` once a box expired,
    /// `slot_taken` for a second write, `slot_too_large`, `relay_full`, `invalid_box_id`).
    #[error("the hand-over relay answered {status} {error}")]
    RelayRefused {
        /// The HTTP status.
        status: u16,
        /// The relay's error code (at most 64 printable ASCII characters).
        error: String,
    },
    /// The authorization response the browser brought back to the wallet's redirect URI is
    /// refused (RFC 6749 §10.12, RFC 9207 §2.4): nothing was sent to the issuer.
    #[error("the authorization response is refused: {0}")]
    AuthorizationResponse(AuthorizationResponseRefusal),
    /// The person (a parent at the school's portal) or the school declined the authorization
    /// (`access_denied`): nothing was issued.
    #[error("the authorization was declined at the issuer (access_denied): nothing was issued")]
    AuthorizationDenied,
    /// The app's `client_id` for the authorization is not the one its wallet attestation
    /// names (HAIP 1.0 §4.4.1: the server compares them); nothing was sent.
    #[error("the client_id is not the one the wallet attestation names: use the attestor's client_id")]
    ClientIdMismatch,
    /// The issuer takes key proofs only in algorithms the wallet's key store cannot make (a
    /// secure element makes P-256 keys, ES256, only): nothing was asked for or stored.
    #[error(
        "the issuer accepts holder keys of {} only, and this wallet's key store makes {} only; nothing was received",
        offered.join(", "), supported.join(", ")
    )]
    NoHolderKeyAlgorithm {
        /// The algorithms the issuer's configuration lists.
        offered: Vec<String>,
        /// The algorithms the key store makes.
        supported: Vec<String>,
    },
    /// A credential's holder key cannot sign: it is in an app's key store that this wallet was
    /// opened without, or the store's key is not the one the credential is bound to. (A store
    /// that fails while signing reports [`schooltas_did::Error::Signer`] through [`Error::Did`].)
    #[error("the credential's holder key cannot sign: {reason}")]
    HolderKeyUnavailable {
        /// Why (never a key or a reference's secret).
        reason: String,
    },
    /// A value given to the wallet is malformed.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
}

/// Why the wallet refused an authorization response (the authorization code flow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationResponseRefusal {
    /// The URL is not at the redirect URI the wallet gave.
    #[error("it did not arrive at this wallet's redirect URI")]
    WrongRedirectUri,
    /// `state` is missing or not the one the wallet sent (RFC 6749 §10.12: a forged or
    /// another session's response).
    #[error("its state is missing or not the one this wallet sent")]
    StateMismatch,
    /// `iss` names another authorization server than the one the request went to (RFC 9207
    /// §2.4: a mix-up attack).
    #[error("its iss is not the authorization server the request was sent to")]
    IssuerMismatch,
    /// `iss` is missing although the server's metadata says it sends it (RFC 9207 §2.4).
    #[error("it carries no iss, although the authorization server says it always sends one")]
    MissingIssuer,
}

/// The legal basis in plain English.
fn basis_en(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "consent",
        LegalBasis::LegalObligation => "legal obligation",
        LegalBasis::PublicTask => "public task",
        LegalBasis::Contract => "contract",
    }
}

/// The legal basis in plain Dutch.
fn basis_nl(basis: LegalBasis) -> &'static str {
    match basis {
        LegalBasis::Consent => "toestemming",
        LegalBasis::LegalObligation => "wettelijke plicht",
        LegalBasis::PublicTask => "publieke taak",
        LegalBasis::Contract => "overeenkomst",
    }
}

impl Error {
    /// The message in `language`, for the person holding the phone. Variants with a Dutch
    /// wording (the refusals a family sees) give it; the others fall back to the English
    /// `Display`.
    pub fn localized(&self, language: Language) -> String {
        if language == Language::En {
            return self.to_string();
        }
        match self {
            Error::LegalBasisMismatch { stated, registered, .. } => format!(
                "De aanvrager noemt '{}' als grondslag, maar is voor dit doel {}. Daarom geeft de wallet \
                 geen antwoord: wie moet beslissen hangt af van de registratie, niet van wat de aanvrager zegt.",
                basis_nl(*stated),
                match registered {
                    Some(LegalBasis::Consent) => "alleen geregistreerd op toestemming".to_owned(),
                    Some(other) => format!("alleen geregistreerd op '{}'", basis_nl(*other)),
                    None => "niet geregistreerd op een andere grondslag dan toestemming".to_owned(),
                }
            ),
            Error::TransferWithoutEnrolment { .. } => "Het onderwijskundig rapport gaat alleen naar een school \
                 waar de leerling al is ingeschreven, en deze wallet heeft geen inschrijving van die school."
                .to_owned(),
            Error::ChildLinkMissing { .. } => {
                "Uit een van de gegevens van het kind blijkt niet over welk kind het gaat; dat kun je niet goedkeuren."
                    .to_owned()
            }
            Error::NotOneChild { .. } => {
                "De gegevens gaan niet allemaal over hetzelfde kind; één goedkeuring geldt voor één kind.".to_owned()
            }
            Error::WrongChild { .. } => {
                "De gegevens gaan over een ander kind dan het kind waarvoor je toestemming kunt geven.".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<schooltas_oid4vc::oid4vp::Oid4vpError> for Error {
    fn from(error: schooltas_oid4vc::oid4vp::Oid4vpError) -> Self {
        Error::Credential(error.into())
    }
}

impl From<schooltas_school::trust_list::TrustListError> for Error {
    fn from(error: schooltas_school::trust_list::TrustListError) -> Self {
        Error::Credential(error.into())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
                Error::Corrupted { what: "the database file failed SQLite's own checks".into() }
            }
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => Error::Busy,
            Some(rusqlite::ErrorCode::NotADatabase) => {
                Error::NotAWallet { reason: "the file is not an SQLite database".into() }
            }
            _ => Error::Storage { reason: error.to_string() },
        }
    }
}

/// A strict-JSON refusal (duplicate member name, integer beyond 64 bits, nesting too deep) is
/// a `schooltas-did` error wherever it was found: match `Error::Did(schooltas_did::Error::Json(..))`.
impl From<schooltas_did::strict_json::Error> for Error {
    fn from(error: schooltas_did::strict_json::Error) -> Self {
        Error::Did(schooltas_did::Error::Json(error))
    }
}

/// A status-list error is a credential error ([`Error::Credential`]), in the shape the
/// credential crate gives it.
impl From<schooltas_status_list::Error> for Error {
    fn from(error: schooltas_status_list::Error) -> Self {
        Error::Credential(error.into())
    }
}

/// An SD-JWT error is a credential error ([`Error::Credential`]), in the shape the credential
/// crate gives it.
impl From<schooltas_sd_jwt::Error> for Error {
    fn from(error: schooltas_sd_jwt::Error) -> Self {
        Error::Credential(error.into())
    }
}

/// An OpenID4VC error is a credential error ([`Error::Credential`]), in the shape the
/// credential crate gives it.
impl From<schooltas_oid4vc::Error> for Error {
    fn from(error: schooltas_oid4vc::Error) -> Self {
        Error::Credential(error.into())
    }
}
