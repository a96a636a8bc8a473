//! Building presentation requests that stay within the verifier's own registration.

use schooltas_did::{Did, DidUrl, Signer};
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationRequestUri, ClaimsQuery, CredentialQuery, CredentialSetQuery, DcqlQuery,
    TransactionData,
};
use schooltas_school::trust_list::{CurrentTrustList, TrustListError};
use schooltas_school::{LegalBasis, Purpose, SchooltasExtension};
use schooltas_sd_jwt::ClaimPath;

/// Builds an OpenID4VP request: a DCQL query, the purpose (code and text from the verifier's
/// registration), legal basis (per query if needed), retention, transaction data, nonce and
/// `state`. [`RequestBuilder::build`] refuses a request that asks for more than the verifier's
/// registration in the trust list allows — the verifier cannot even send one.
///
/// Every credential query that rests on consent — by the request's basis or by the
/// registration's, whichever is stricter — also asks for the child link `sub`, added when the
/// query does not list it: the verifier refuses a consent presentation without it
/// ([`crate::Check::ChildLink`]), because the guardian approval and the consent record are
/// bound to that one child. Register `sub` for every type a consent purpose accepts: a consent
/// query for a type whose registration lacks it is refused with
/// [`TrustListError::ChildLinkNotRegistered`] (no answer to it could be accepted).
///
/// ```
/// use schooltas_sd_jwt::ClaimPath;
/// use schooltas_oid4vc::oid4vp::CredentialQuery;
/// use schooltas_school::{LegalBasis, LocalizedText, SchooltasRequest};
/// use schooltas_school::trust_list::{RegisteredPurpose, TrustList, TrustListError, VerifierRegistration};
/// use schooltas_did::{Algorithm, Did, PublicKey, Signer, SigningKey, did_key};
/// use schooltas_verifier::RequestBuilder;
///
/// let school = SigningKey::generate(Algorithm::EdDsa)?;
/// let did = did_key::did_for(&PublicKey::Verifying(school.verifying_key().clone()));
/// let enrolment = "https://schooltas.nl/credentials/enrolment/v1";
/// let text = LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() };
/// let now = 1_800_000_000;
/// // The verifier signs its own list here; in practice it verifies the operator's.
/// let kid = did.with_fragment(did.method_specific_id())?;
/// let (_, trust_list) = TrustList::new(did.clone(), now - 60, now + 86_400)
///     .with_verifier(VerifierRegistration::new(did.clone(), "De Linde").with_purpose(
///         RegisteredPurpose::new("newsletter", text, LegalBasis::Consent, 365)
///             .allow(enrolment, vec![ClaimPath::claim("group"), ClaimPath::claim("sub")]),
///     ))
///     .sign_and_verify(&school, &kid, now, 60)?;
/// let asks_group = CredentialQuery::sd_jwt_vc("enrolment", [enrolment]).claim(ClaimPath::claim("group"));
/// let request = RequestBuilder::new(trust_list.at(now)?, &did, "https://delinde.example/response", "newsletter")
///     .retention_days(365)
///     .credential(asks_group.clone())
///     .build("n-4f0c8a7e1b2d3c5f")?;
/// assert_eq!(request.schooltas()?.map(|e| e.legal_basis), Some(LegalBasis::Consent));
/// // On consent, the query also asks for the child link `sub`.
/// let asked = request.dcql_query.credentials[0].claims.as_ref().map(|c| c.len());
/// assert_eq!(asked, Some(2));
///
/// // Asking for the birth date as well is refused: it is not in the registration.
/// let too_much = asks_group.claim(ClaimPath::claim("birth_date"));
/// let refused = RequestBuilder::new(trust_list.at(now)?, &did, "https://delinde.example/response", "newsletter")
///     .credential(too_much)
///     .build("n-4f0c8a7e1b2d3c5f");
/// assert!(matches!(
///     refused,
///     Err(schooltas_school::Error::TrustList(TrustListError::RequestExceedsRegistration { .. }))
/// ));
/// # Ok::<(), schooltas_school::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RequestBuilder<'a> {
    trust_list: CurrentTrustList<'a>,
    verifier: Did,
    response_uri: String,
    purpose_code: String,
    legal_basis: Option<LegalBasis>,
    retention_days: Option<u32>,
    credentials: Vec<CredentialQuery>,
    credential_sets: Vec<CredentialSetQuery>,
    query_bases: Vec<(String, LegalBasis)>,
    transaction_data: Vec<TransactionData>,
    state: Option<String>,
}

impl<'a> RequestBuilder<'a> {
    /// A request from `verifier` (its DID, as registered in `trust_list`) for the registered
    /// purpose `purpose_code`, answered at `response_uri` (https). Take `trust_list` from
    /// [`schooltas_school::trust_list::VerifiedTrustList::at`] for each request: an expired
    /// list then refuses to build any.
    pub fn new(
        trust_list: CurrentTrustList<'a>,
        verifier: &Did,
        response_uri: impl Into<String>,
        purpose_code: impl Into<String>,
    ) -> Self {
        RequestBuilder {
            trust_list,
            verifier: verifier.clone(),
            response_uri: response_uri.into(),
            purpose_code: purpose_code.into(),
            legal_basis: None,
            retention_days: None,
            credentials: Vec::new(),
            credential_sets: Vec::new(),
            query_bases: Vec::new(),
            transaction_data: Vec::new(),
            state: None,
        }
    }

    /// The legal basis (default: the registered purpose's).
    pub fn legal_basis(mut self, basis: LegalBasis) -> Self {
        self.legal_basis = Some(basis);
        self
    }

    /// How long the answer is kept, in days (default: the registered maximum).
    pub fn retention_days(mut self, days: u32) -> Self {
        self.retention_days = Some(days);
        self
    }

    /// Asks for a credential.
    pub fn credential(mut self, query: CredentialQuery) -> Self {
        self.credentials.push(query);
        self
    }

    /// Adds a credential set (alternatives, optional credentials).
    pub fn credential_set(mut self, set: CredentialSetQuery) -> Self {
        self.credential_sets.push(set);
        self
    }

    /// Rests the credential query `query_id` on another legal basis than the request's.
    pub fn query_basis(mut self, query_id: impl Into<String>, basis: LegalBasis) -> Self {
        self.query_bases.push((query_id.into(), basis));
        self
    }

    /// Attaches transaction data (e.g. the photo's hash and channel) for the holder to sign.
    pub fn transaction_data(mut self, data: TransactionData) -> Self {
        self.transaction_data.push(data);
        self
    }

    /// Sets `state` (default: a fresh random value, so a response can be matched to its request).
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Builds the request with `nonce`, refusing one the registration does not allow.
    pub fn build(self, nonce: impl Into<String>) -> schooltas_school::Result<AuthorizationRequest> {
        let registration = self
            .trust_list
            .verifier(&self.verifier)
            .ok_or_else(|| TrustListError::VerifierNotListed { did: self.verifier.to_string() })?;
        let registered = registration.purpose(&self.purpose_code);
        let text = registered.map(|p| p.text.clone()).unwrap_or_else(|| schooltas_school::LocalizedText {
            nl: self.purpose_code.clone(),
            en: self.purpose_code.clone(),
        });
        let basis = self.legal_basis.or(registered.map(|p| p.legal_basis)).unwrap_or(LegalBasis::Consent);
        let retention = self.retention_days.or(registered.map(|p| p.max_retention_days)).unwrap_or(0);
        let mut extension =
            SchooltasExtension::new(Purpose { code: self.purpose_code.clone(), text }, basis, retention);
        for (query_id, basis) in self.query_bases {
            extension = extension.with_query_basis(query_id, basis);
        }
        let mut dcql = DcqlQuery::builder();
        for query in self.credentials {
            let consent = extension.basis_for(&query.id) == LegalBasis::Consent
                || registered.is_some_and(|purpose| {
                    query.vct_values().iter().any(|vct| purpose.basis_for(vct) == Some(LegalBasis::Consent))
                });
            // Only where the registration allows `sub` for every type the query accepts: adding
            // it elsewhere would turn the request into over-asking. Without it, a consent
            // presentation cannot be linked and the verifier refuses it (Check::ChildLink).
            //
            // A consent query for a type whose registration lacks `sub` could never be
            // answered acceptably, so it is refused here with what to register, rather than
            // sent (an unregistered purpose is left to `check_request`, which names that).
            if let Some(purpose) = registered.filter(|_| consent) {
                let sub = ClaimPath::claim("sub");
                let vcts = query.vct_values();
                // A type the purpose does not register at all is over-asking, named by `check_request`.
                let lacks_sub = |vct: &&String| purpose.basis_for(vct).is_some() && !purpose.allows(vct, &sub);
                if let Some(vct) = vcts.iter().find(lacks_sub) {
                    return Err(TrustListError::ChildLinkNotRegistered {
                        query_id: query.id.chars().take(64).collect(),
                        purpose: self.purpose_code.chars().take(64).collect(),
                        vct: vct.chars().take(200).collect(),
                    }
                    .into());
                }
                dcql = dcql.credential(if vcts.is_empty() { query } else { with_child_link(query) });
            } else {
                dcql = dcql.credential(query);
            }
        }
        for set in self.credential_sets {
            dcql = dcql.credential_set(set);
        }
        let state = self.state.unwrap_or_else(schooltas_oid4vc::oid4vp::random_nonce);
        let request =
            AuthorizationRequest::new(&self.verifier, self.response_uri, nonce, dcql.build()?).with_state(state);
        let mut request = extension.apply(request)?;
        for data in &self.transaction_data {
            request = request.with_transaction_data(data)?;
        }
        request.validate()?;
        self.trust_list.check_request(&request)?;
        Ok(request)
    }
}

/// Adds the child link `sub` to a consent query that does not ask for it (issue 12 item 1).
///
/// With `claim_sets`, the claim gets an id and every option names it: whichever option the
/// wallet picks, the child link is disclosed. A query without `claims` is left alone: the
/// over-asking check refuses it anyway ("lists no claims").
fn with_child_link(mut query: CredentialQuery) -> CredentialQuery {
    let sub = ClaimPath::claim("sub");
    let Some(claims) = query.claims.as_mut() else { return query };
    let existing = claims.iter().find(|claim| claim.path == sub).map(|claim| claim.id.clone());
    let id = match existing {
        Some(id) => id,
        None => {
            let id = query.claim_sets.as_ref().map(|_| {
                let mut id = "child_link".to_owned();
                let mut n = 1;
                while claims.iter().any(|claim| claim.id.as_deref() == Some(id.as_str())) {
                    id = format!("child_link_{n}");
                    n += 1;
                }
                id
            });
            claims.push(ClaimsQuery { id: id.clone(), path: sub, values: None });
            id
        }
    };
    if let (Some(id), Some(sets)) = (id, query.claim_sets.as_mut()) {
        for option in sets.iter_mut() {
            if !option.contains(&id) {
                option.push(id.clone());
            }
        }
    }
    query
}

/// A signed request and the ways to hand it to a wallet.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    /// The request.
    pub request: AuthorizationRequest,
    /// The signed request object (JAR, `typ: oauth-authz-req+jwt`).
    pub request_object: String,
}

impl SignedRequest {
    /// Signs `request` with the verifier's key `kid`, valid for `lifetime` seconds.
    pub fn sign(
        request: AuthorizationRequest,
        signer: &(impl Signer + ?Sized),
        kid: &DidUrl,
        now: i64,
        lifetime: i64,
    ) -> schooltas_school::Result<Self> {
        let request_object = request.sign(signer, kid, now, lifetime)?;
        Ok(SignedRequest { request, request_object })
    }

    /// Signs `request` (whose `client_id` is an X.509 one, HAIP 1.0) with the key of `chain`'s
    /// leaf, putting the chain in `x5c`, valid for `lifetime` seconds.
    pub fn sign_x509(
        request: AuthorizationRequest,
        signer: &(impl Signer + ?Sized),
        chain: &schooltas_x509::CertificateChain,
        now: i64,
        lifetime: i64,
    ) -> schooltas_school::Result<Self> {
        let request_object = request.sign_x509(signer, chain.certificates(), now, lifetime, None)?;
        Ok(SignedRequest { request, request_object })
    }

    /// `openid4vp://?client_id=…&request=…` (by value, for a QR code or a link).
    pub fn uri_by_value(&self) -> String {
        AuthorizationRequestUri::ByValue {
            client_id: self.request.client_id.clone(),
            request_jwt: self.request_object.clone(),
        }
        .to_uri()
    }

    /// `openid4vp://?client_id=…&request_uri=…`: the wallet fetches the request object from
    /// `request_uri` (serve [`SignedRequest::request_object`] there as
    /// `application/oauth-authz-req+jwt`).
    pub fn uri_by_reference(&self, request_uri: impl Into<String>) -> String {
        AuthorizationRequestUri::ByReference {
            client_id: self.request.client_id.clone(),
            request_uri: request_uri.into(),
        }
        .to_uri()
    }
}
