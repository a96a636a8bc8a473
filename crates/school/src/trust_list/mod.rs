//! Trust lists: signed lists of accredited issuers (schools) and registered verifiers, with
//! the purposes, legal bases, retention and claims each verifier may ask for.
//!
//! A trust list is a compact JWS signed by the trust-list operator's DID key: header `alg`
//! (EdDSA or ES256, pinned to the key), `typ` [`TRUST_LIST_TYP`] and `kid` (a DID URL of the
//! operator); the payload is a [`TrustList`]:
//!
//! ```json
//! {
//!   "iss": "did:web:trust.example", "iat": 1800000000, "exp": 1802592000,
//!   "issuers": [
//!     {"did": "did:web:school.example", "name": "Basisschool De Linde", "brin": "12AB",
//!      "credential_types": ["https://schooltas.nl/vct/pupil_enrolment"]}
//!   ],
//!   "verifiers": [
//!     {"did": "did:key:z6Mk…", "name": "Fotostudio Klik",
//!      "purposes": [
//!        {"code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"},
//!         "legal_basis": "consent", "max_retention_days": 365,
//!         "credentials": [
//!           {"vct": "https://schooltas.nl/vct/pupil_enrolment",
//!            "claims": [["given_name"], ["group"], ["school_brin"]],
//!            "legal_basis": "consent"}]}]}
//!   ]
//! }
//! ```
//!
//! - The operator builds a [`TrustList`] and signs it with [`TrustList::sign`];
//! - wallets and verifiers parse it with [`UnverifiedTrustList::parse`] and trust it only once
//!   [`UnverifiedTrustList::verify_with`] or [`UnverifiedTrustList::verify_with_resolver`]
//!   returns a [`VerifiedTrustList`] (signature by the expected operator, not expired) — the
//!   only kind of list with lookups;
//! - every use goes through [`VerifiedTrustList::at`]`(now)`, which refuses a list that has
//!   expired since it was loaded ([`TrustListError::Expired`]) and returns the
//!   [`CurrentTrustList`] to look up in;
//! - a verifier of credentials checks the issuer with [`CurrentTrustList::check_issuer`];
//! - a wallet flags over-asking with [`VerifierRegistration::over_asking`]; a verifier's
//!   request builder refuses it with [`CurrentTrustList::check_request`].
//!
//! ```
//! use schooltas_sd_jwt::ClaimPath;
//! use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
//! use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
//! use schooltas_school::trust_list::{
//!     AccreditedIssuer, OverAsking, RegisteredPurpose, TrustList, TrustListError, UnverifiedTrustList,
//!     VerifierRegistration,
//! };
//! use schooltas_did::{Algorithm, Did, PublicKey, Resolver, Signer, SigningKey, did_key};
//!
//! let now = 1_800_000_000;
//! let vct = "https://schooltas.nl/vct/pupil_enrolment";
//! let newsletter = LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() };
//!
//! // The operator lists a school and a photographer, and signs the list for 30 days.
//! let operator_key = SigningKey::generate(Algorithm::EdDsa)?;
//! let operator = did_key::did_for(&PublicKey::Verifying(operator_key.verifying_key().clone()));
//! let kid = operator.with_fragment(operator.method_specific_id())?;
//! let school = Did::parse("did:web:school.example")?;
//! let photographer = Did::parse("did:web:klik.example")?;
//! let list = TrustList::new(operator.clone(), now, now + 30 * 86_400)
//!     .with_issuer(AccreditedIssuer::new(school.clone(), "Basisschool De Linde").with_brin("12AB").accredited_for(vct))
//!     .with_verifier(VerifierRegistration::new(photographer.clone(), "Fotostudio Klik").with_purpose(
//!         RegisteredPurpose::new("newsletter", newsletter.clone(), LegalBasis::Consent, 365)
//!             .allow(vct, [ClaimPath::claim("given_name"), ClaimPath::claim("group")]),
//!     ));
//! let jwt = list.sign(&operator_key, &kid)?;
//!
//! // A wallet verifies it against the operator it trusts.
//! let trusted = UnverifiedTrustList::parse(&jwt)?.verify_with_resolver(&Resolver::offline(), &operator, now, 60)?;
//! assert_eq!(trusted.at(now)?.check_issuer(&school, vct)?.brin.as_deref(), Some("12AB"));
//! // Kept past its `exp`, it is refused at the next use.
//! assert!(matches!(trusted.at(now + 31 * 86_400), Err(TrustListError::Expired { .. })));
//!
//! // The photographer asks for the group and the birth date: the birth date is over-asking.
//! let query = DcqlQuery::builder()
//!     .credential(
//!         CredentialQuery::sd_jwt_vc("enrolment", [vct])
//!             .claim(ClaimPath::claim("group"))
//!             .claim(ClaimPath::claim("birth_date")),
//!     )
//!     .build()?;
//! let request = AuthorizationRequest::new(&photographer, "https://klik.example/response", "n0nce-f0r-the-d0cs", query)
//!     .with_schooltas(SchooltasExtension::new(
//!         Purpose { code: "newsletter".into(), text: newsletter },
//!         LegalBasis::Consent,
//!         365,
//!     ))?;
//! let registration = trusted.at(now)?.verifier(&photographer).ok_or("the photographer is not listed")?;
//! let findings = registration.over_asking(&request);
//! assert_eq!(
//!     findings,
//!     [OverAsking::ClaimNotAllowed {
//!         query_id: "enrolment".into(),
//!         vct: vct.into(),
//!         path: ClaimPath::claim("birth_date"),
//!     }]
//! );
//! assert!(trusted.at(now)?.check_request(&request).is_err()); // the verifier's builder refuses to send it
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod list;
mod over_asking;
mod token;

pub use list::{
    AccreditedIssuer, AllowedCredential, CurrentTrustList, RegisteredPurpose, TrustList, VerifiedTrustList,
    VerifierRegistration,
};
pub use over_asking::OverAsking;
pub use token::{MAX_TRUST_LIST_LEN, TRUST_LIST_TYP, UnverifiedTrustList};

/// Why a trust list or a lookup in it was refused.
///
/// Each variant names the rule that failed and the DID, purpose code or type at fault. Trust
/// lists hold no personal data of pupils; still, texts taken from the input are truncated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {
    // ---- the signed list ------------------------------------------------------------------------
    /// The signed list is larger than [`MAX_TRUST_LIST_LEN`].
    #[error("the trust list is {len} bytes, the limit is {limit}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The JWS `typ` is not [`TRUST_LIST_TYP`].
    #[error("wrong typ {found:?}: a trust list has typ \"schooltas-trust-list+jwt\"")]
    WrongTyp {
        /// What the header says (None when absent).
        found: Option<String>,
    },
    /// The JWS header has no `kid`.
    #[error("the trust list header has no kid naming the operator's key")]
    MissingKid,
    /// The `kid` is not a DID URL.
    #[error("the trust list kid is not a DID URL")]
    InvalidKid,
    /// The `kid` names a key of another DID than the operator's.
    #[error("the trust list is signed with a key of {kid_did}, not of the operator {operator}")]
    KidNotOperator {
        /// The operator's DID.
        operator: String,
        /// The DID of the `kid`.
        kid_did: String,
    },
    /// The list's `iss` is not the operator it was expected from.
    #[error("the trust list is issued by {found}, expected the operator {expected}")]
    OperatorMismatch {
        /// The operator trusted.
        expected: String,
        /// The list's `iss`.
        found: String,
    },
    /// A required claim (`iss`, `iat` or `exp`) is absent or of the wrong type.
    #[error("the trust list has no valid {claim:?} claim")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// The payload is not JSON of the trust list's shape.
    #[error("malformed trust list: {reason}")]
    MalformedTrustList {
        /// What serde found wrong (the input is public data of the operator, never of a pupil).
        reason: String,
    },
    /// `exp` is not after `iat`.
    #[error("the trust list expires ({expires_at}) no later than it is issued ({issued_at})")]
    InvalidValidityPeriod {
        /// `iat`.
        issued_at: i64,
        /// `exp`.
        expires_at: i64,
    },
    /// The list has expired (`exp` ≤ now − skew): fetch a new one.
    #[error("the trust list expired at {expires_at} (now is {now}); fetch a new one")]
    Expired {
        /// `exp`.
        expires_at: i64,
        /// The clock used.
        now: i64,
    },
    /// The list is issued in the future (`iat` > now + skew): a wrong clock on either side.
    #[error("the trust list is issued at {issued_at}, after now ({now}); check the clocks")]
    IssuedInFuture {
        /// `iat`.
        issued_at: i64,
        /// The clock used.
        now: i64,
    },

    // ---- entries --------------------------------------------------------------------------------
    /// An issuer DID appears more than once.
    #[error("the issuer {did} is listed more than once")]
    DuplicateIssuer {
        /// The DID.
        did: String,
    },
    /// A verifier DID appears more than once.
    #[error("the verifier {did} is listed more than once")]
    DuplicateVerifier {
        /// The DID.
        did: String,
    },
    /// An issuer or verifier has an empty name.
    #[error("the entry for {did} has an empty name")]
    EmptyName {
        /// The entry's DID.
        did: String,
    },
    /// An issuer's BRIN is not two digits followed by two capital letters or digits.
    #[error("the issuer {did} has an invalid BRIN {brin:?}: two digits, then two capital letters or digits")]
    InvalidBrin {
        /// The issuer's DID.
        did: String,
        /// The BRIN given.
        brin: String,
    },
    /// An issuer is accredited for no credential type.
    #[error("the issuer {did} is accredited for no credential type")]
    NoCredentialTypes {
        /// The issuer's DID.
        did: String,
    },
    /// A credential type is not a valid `vct`.
    #[error("the entry for {did} names an invalid credential type {vct:?}")]
    InvalidCredentialType {
        /// The entry's DID.
        did: String,
        /// The type given.
        vct: String,
    },
    /// A verifier is registered for no purpose.
    #[error("the verifier {did} is registered for no purpose")]
    NoPurposes {
        /// The verifier's DID.
        did: String,
    },
    /// A purpose has an empty code.
    #[error("the verifier {did} has a purpose with an empty code")]
    EmptyPurposeCode {
        /// The verifier's DID.
        did: String,
    },
    /// A purpose code appears more than once for a verifier.
    #[error("the verifier {did} has the purpose {code:?} more than once")]
    DuplicatePurpose {
        /// The verifier's DID.
        did: String,
        /// The code.
        code: String,
    },
    /// A purpose has an empty Dutch or English text.
    #[error("the purpose {code:?} of the verifier {did} has an empty text")]
    EmptyPurposeText {
        /// The verifier's DID.
        did: String,
        /// The purpose code.
        code: String,
    },
    /// A purpose allows no credential type.
    #[error("the purpose {code:?} of the verifier {did} allows no credential type")]
    NoAllowedCredentials {
        /// The verifier's DID.
        did: String,
        /// The purpose code.
        code: String,
    },
    /// A purpose names a credential type more than once.
    #[error("the purpose {code:?} of the verifier {did} names the credential type {vct} more than once")]
    DuplicateAllowedCredential {
        /// The verifier's DID.
        did: String,
        /// The purpose code.
        code: String,
        /// The type.
        vct: String,
    },

    /// An issuer's EU-profile identifier is not an `https` URL without query, fragment or
    /// trailing slash.
    #[error(
        "the issuer {did} has an issuer_uri that is not an https URL without query, fragment or trailing slash: {uri}"
    )]
    InvalidIssuerUri {
        /// The issuer's DID.
        did: String,
        /// The identifier given.
        uri: String,
    },
    /// A verifier's extra client identifier is not `x509_hash:…`, `x509_san_dns:…` or
    /// `origin:https://<host>[:<port>]`.
    #[error(
        "the verifier {did} lists a client identifier that is not x509_hash:…, x509_san_dns:… or \
         origin:https://<host>[:<port>]: {client_id}"
    )]
    InvalidClientId {
        /// The verifier's DID.
        did: String,
        /// The identifier given.
        client_id: String,
    },
    /// An X.509 trust anchor is not standard base64 of a DER certificate.
    #[error("x509_trust_anchors[{index}] is not standard base64 of a DER certificate")]
    InvalidTrustAnchor {
        /// Its position in the list.
        index: usize,
    },

    // ---- lookups ----------------------------------------------------------------------------------
    /// The issuer is not on the trust list.
    #[error("the issuer {did} is not on the trust list")]
    IssuerNotListed {
        /// The issuer's DID.
        did: String,
    },
    /// The issuer is on the trust list, but not accredited for this credential type.
    #[error("the issuer {did} is not accredited for the credential type {vct}")]
    IssuerNotAccredited {
        /// The issuer's DID.
        did: String,
        /// The type asked for.
        vct: String,
    },
    /// The verifier is not on the trust list.
    #[error("the verifier {did} is not on the trust list")]
    VerifierNotListed {
        /// The verifier's DID.
        did: String,
    },
    /// The request asks for more than the verifier is registered for.
    #[error("the request exceeds the verifier's registration: {}", join(findings))]
    RequestExceedsRegistration {
        /// Every way it does.
        findings: Vec<OverAsking>,
    },
    /// A consent query asks for a type whose registration does not allow the child link `sub`:
    /// no consent answer to it could ever be accepted (the verifier refuses a consent
    /// presentation without `sub`, `Check::ChildLink`), so the request is not built.
    #[error(
        "credential query {query_id:?} rests on consent for purpose {purpose:?}, but the registration does not \
         allow the child link: register `sub` for this purpose and type {vct:?} (or ask on another basis)"
    )]
    ChildLinkNotRegistered {
        /// The DCQL credential query id.
        query_id: String,
        /// The purpose code.
        purpose: String,
        /// The type accepted by the query whose registration lacks `sub`.
        vct: String,
    },
}

fn join(findings: &[OverAsking]) -> String {
    findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
