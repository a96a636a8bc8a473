//! The `"schooltas"` member of an OpenID4VP Authorization Request: why a verifier asks, on
//! what legal ground, and how long it keeps what it receives.

use std::collections::BTreeMap;

use schooltas_oid4vc::oid4vp::{AuthorizationRequest, DcqlQuery, Oid4vpError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::trust_list::{RegisteredPurpose, VerifierRegistration};
use crate::{Error, Result};

/// A private extension of the Authorization Request, the JSON member `"schooltas"`:
///
/// ```json
/// "schooltas": {
///   "purpose": {"code": "newsletter", "text": {"nl": "Nieuwsbrief", "en": "Newsletter"}},
///   "legal_basis": "consent",
///   "retention_days": 365
/// }
/// ```
///
/// OpenID4VP 1.0 §5 allows additional request parameters and tells wallets to ignore ones they
/// do not recognise, so other wallets are unaffected. Schooltas wallets show it to the person
/// who decides (the consent rule) and check it against the verifier's registration.
///
/// The generic request keeps the member as JSON in its
/// [`extensions`](schooltas_oid4vc::oid4vp::AuthorizationRequest::extensions);
/// [`SchooltasExtension::apply`] puts it there and [`SchooltasExtension::from_request`] reads
/// it back, refusing a malformed one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchooltasExtension {
    /// Why the verifier asks.
    pub purpose: Purpose,
    /// On what ground (AVG art. 6).
    pub legal_basis: LegalBasis,
    /// How long the verifier keeps what it receives, in days.
    pub retention_days: u32,
    /// A different legal basis for some Credential Queries, by query id (the transfer to a
    /// secondary school asks for the advice under a legal obligation and for support needs
    /// under consent, in one request). Queries not named here rest on `legal_basis`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_bases: BTreeMap<String, LegalBasis>,
}

impl SchooltasExtension {
    /// The name of the request member that carries the extension.
    pub const MEMBER: &'static str = "schooltas";

    /// The extension `request` carries, if any (a `null` member counts as none).
    ///
    /// A member that is not of the shape above is refused as the request was before the
    /// extension left the generic crate: [`Oid4vpError::MalformedJson`] for an `"authorization
    /// request"`. An empty purpose code, or a `query_bases` entry naming a Credential Query the
    /// request's DCQL query does not have, is [`Error::InvalidSchooltasExtension`]. A wallet
    /// calls this as soon as it has verified a request, before it uses the request.
    pub fn from_request(request: &AuthorizationRequest) -> Result<Option<Self>> {
        let extension = match request.extension(Self::MEMBER) {
            None | Some(Value::Null) => return Ok(None),
            Some(value) => SchooltasExtension::deserialize(value).map_err(|e: serde_json::Error| {
                Oid4vpError::MalformedJson { what: "authorization request", line: e.line(), column: e.column() }
            })?,
        };
        extension.check(&request.dcql_query)?;
        Ok(Some(extension))
    }

    /// `request` with this extension as its `"schooltas"` member, after checking it against
    /// the request's DCQL query (see [`SchooltasExtension::from_request`]).
    pub fn apply(self, request: AuthorizationRequest) -> Result<AuthorizationRequest> {
        self.check(&request.dcql_query)?;
        let value = serde_json::to_value(&self).map_err(|e| Oid4vpError::MalformedJson {
            what: "authorization request",
            line: e.line(),
            column: e.column(),
        })?;
        Ok(request.with_extension(Self::MEMBER, value)?)
    }

    fn check(&self, query: &DcqlQuery) -> Result<()> {
        if self.purpose.code.is_empty() {
            return Err(Error::InvalidSchooltasExtension { reason: "the purpose code is empty" });
        }
        if self.query_bases.keys().any(|id| query.credential(id).is_none()) {
            return Err(Error::InvalidSchooltasExtension {
                reason: "query_bases names a credential query the DCQL query does not have",
            });
        }
        Ok(())
    }

    /// The purpose, legal basis and retention `request` rests on, and where they come from:
    /// the request's own `schooltas` member ([`PurposeSource::Request`], checked as
    /// [`SchooltasExtension::from_request`] does), or — for a standard OpenID4VP request that
    /// states none — the verifier's `registration` ([`PurposeSource::Registration`]): the one
    /// registered purpose that covers every Credential Query
    /// ([`VerifierRegistration::purpose_covering`]), with its registered bases and its longest
    /// retention. `None` when the request states none and no single purpose covers it.
    ///
    /// ```
    /// use schooltas_did::Did;
    /// use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
    /// use schooltas_school::extension::PurposeSource;
    /// use schooltas_school::trust_list::{RegisteredPurpose, VerifierRegistration};
    /// use schooltas_school::{LegalBasis, LocalizedText, SchooltasExtension};
    /// use schooltas_sd_jwt::ClaimPath;
    ///
    /// let did = Did::parse("did:web:verifier.example")?;
    /// let text = LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() };
    /// let registration = VerifierRegistration::new(did.clone(), "De Linde").with_purpose(
    ///     RegisteredPurpose::new("newsletter", text, LegalBasis::Consent, 365)
    ///         .allow("https://example.org/enrolment", [ClaimPath::claim("group")]),
    /// );
    /// // A standard request, as any OpenID4VP verifier library builds it: no `schooltas` member.
    /// let query = CredentialQuery::sd_jwt_vc("e", ["https://example.org/enrolment"]).claim(ClaimPath::claim("group"));
    /// let request =
    ///     AuthorizationRequest::new(&did, "https://verifier.example/response", "n-0123456789abcdef", DcqlQuery::builder().credential(query).build()?);
    /// let (extension, source) = SchooltasExtension::of_request(&request, &registration)?.unwrap();
    /// assert_eq!(source, PurposeSource::Registration);
    /// assert_eq!((extension.purpose.code.as_str(), extension.retention_days), ("newsletter", 365));
    /// assert_eq!(extension.basis_for("e"), LegalBasis::Consent);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of_request(
        request: &AuthorizationRequest,
        registration: &VerifierRegistration,
    ) -> Result<Option<(Self, PurposeSource)>> {
        if let Some(stated) = Self::from_request(request)? {
            return Ok(Some((stated, PurposeSource::Request)));
        }
        Ok(registration
            .purpose_covering(&request.dcql_query)
            .map(|purpose| (Self::from_registered(purpose, &request.dcql_query), PurposeSource::Registration)))
    }

    /// The extension `purpose` gives `query`: its code and text, its longest retention, and
    /// per Credential Query the registered basis (consent when any type the query accepts is
    /// registered on consent, the stricter reading for the family).
    pub fn from_registered(purpose: &RegisteredPurpose, query: &DcqlQuery) -> Self {
        let basis_of = |credential_query: &schooltas_oid4vc::oid4vp::CredentialQuery| {
            let bases: Vec<LegalBasis> =
                credential_query.vct_values().iter().filter_map(|vct| purpose.basis_for(vct)).collect();
            if bases.contains(&LegalBasis::Consent) {
                LegalBasis::Consent
            } else {
                bases.first().copied().unwrap_or(purpose.legal_basis)
            }
        };
        let legal_basis = query.credentials.first().map_or(purpose.legal_basis, basis_of);
        let mut extension = SchooltasExtension::new(
            Purpose { code: purpose.code.clone(), text: purpose.text.clone() },
            legal_basis,
            purpose.max_retention_days,
        );
        for credential_query in &query.credentials {
            let basis = basis_of(credential_query);
            if basis != legal_basis {
                extension = extension.with_query_basis(credential_query.id.clone(), basis);
            }
        }
        extension
    }

    /// An extension with one legal basis for every query.
    pub fn new(purpose: Purpose, legal_basis: LegalBasis, retention_days: u32) -> Self {
        SchooltasExtension { purpose, legal_basis, retention_days, query_bases: BTreeMap::new() }
    }

    /// Rests the Credential Query `query_id` on `basis` instead of the request's basis.
    pub fn with_query_basis(mut self, query_id: impl Into<String>, basis: LegalBasis) -> Self {
        self.query_bases.insert(query_id.into(), basis);
        self
    }

    /// The legal basis of the Credential Query `query_id`.
    pub fn basis_for(&self, query_id: &str) -> LegalBasis {
        self.query_bases.get(query_id).copied().unwrap_or(self.legal_basis)
    }
}

/// Where the purpose, legal basis and retention a wallet shows come from
/// ([`SchooltasExtension::of_request`]); the prompt says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeSource {
    /// The request's own `schooltas` member, checked against the registration.
    Request,
    /// The verifier's registration in the trust list: the request (a standard OpenID4VP one)
    /// states none, and exactly one registered purpose covers every Credential Query.
    Registration,
}

/// The purpose of a request: a code from the verifier's registration and a text to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// The registered purpose code (`"newsletter"`).
    pub code: String,
    /// The text shown to the family.
    pub text: LocalizedText,
}

/// A text in Dutch and English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

/// The legal basis of processing (AVG art. 6(1)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a): consent — the parent (under 16) or the pupil must say yes.
    Consent,
    /// Art. 6(1)(c): a legal obligation (reporting to DUO, the *onderwijskundig rapport*).
    LegalObligation,
    /// Art. 6(1)(e): a task in the public interest.
    PublicTask,
    /// Art. 6(1)(b): a contract with the data subject.
    Contract,
}

/// Typed access to the `"schooltas"` member of a generic [`AuthorizationRequest`]:
/// `request.schooltas()?` and `request.with_schooltas(extension)?`.
pub trait SchooltasRequest: Sized {
    /// [`SchooltasExtension::from_request`].
    fn schooltas(&self) -> Result<Option<SchooltasExtension>>;

    /// [`SchooltasExtension::apply`]: the request with `extension` as its `"schooltas"` member.
    fn with_schooltas(self, extension: SchooltasExtension) -> Result<Self>;
}

impl SchooltasRequest for AuthorizationRequest {
    fn schooltas(&self) -> Result<Option<SchooltasExtension>> {
        SchooltasExtension::from_request(self)
    }

    fn with_schooltas(self, extension: SchooltasExtension) -> Result<Self> {
        extension.apply(self)
    }
}
