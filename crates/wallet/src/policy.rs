//! The wallet's policy rules, decided from what the wallet can verify — the trust list and the
//! credentials it holds — never from what a request says about itself.
//!
//! - [`check_legal_basis`]: who approves follows the **registered** legal basis (issue 12,
//!   item 2). A request that states a weaker basis than its registration is refused.
//! - [`check_transfer_enrolment`]: a transfer dossier goes only to a school the pupil is
//!   registered at (DOMAIN.md, "registration before transfer").
//! - [`child_link`] and [`check_one_child`]: a parent approves for one child, the one their
//!   guardianship credential names (issue 12, item 1, wallet side).
//! - [`unverified_issuer`]: the issuer of a presentation, read before any signature check, so
//!   that the trust list is consulted before any DID is resolved (issue 12, item 3);
//!   [`check_registered_client`] and [`check_registered_kid`] do the same for the verifier
//!   before its `request_uri` is fetched or its DID resolved.

use serde::Deserialize;
use serde_json::Value;

use schooltas_did::Did;
use schooltas_did::jws::CompactJws;
use schooltas_oid4vc::oid4vp::AuthorizationRequest;
use schooltas_school::catalog::Catalog;
use schooltas_school::trust_list::{CurrentTrustList, VerifierRegistration};
use schooltas_school::{LegalBasis, SchooltasExtension};
use schooltas_sd_jwt::VerifiedSdJwt;

use crate::copies::IndexedCopy;
use crate::error::{Error, Result};

/// The catalog id of the transfer dossier (onderwijskundig rapport).
pub(crate) const TRANSFER_DOSSIER: &str = "transfer_dossier";
/// The catalog id of the enrolment credential.
pub(crate) const PUPIL_ENROLMENT: &str = "pupil_enrolment";

/// The type of the pupil enrolment credential in `catalog`, if it has one.
pub(crate) fn enrolment_vct(catalog: &Catalog) -> Option<String> {
    catalog.get(PUPIL_ENROLMENT).map(|t| t.vct().as_str().to_owned())
}

/// Checks each credential query's stated legal basis against the verifier's registration.
///
/// The rule (DOMAIN.md: a basis "cannot be used as a pretext"; GDPR art. 6 and UAVG art. 5):
///
/// - A query stated on **consent** is always acceptable: consent is the strictest basis (the
///   child's assent and, under 16, the parent's approval), so nobody loses a say. Where the
///   registration names another basis, the over-asking check already warns about it.
/// - A query stated on any **other** basis (legal obligation, public task, contract) needs the
///   registration to back exactly that basis for every credential type the query accepts
///   (the per-type basis where the registration has one, else the purpose's). Anything else —
///   consent registered, another basis registered, the purpose or type not registered at all —
///   is refused with [`Error::LegalBasisMismatch`]: the wallet would otherwise let data leave
///   without the approval the registration requires.
///
/// After this check the stated basis of every query is at least as strict as the registered
/// one, so the rest of the wallet may read the basis from the request's extension.
pub(crate) fn check_legal_basis(
    registration: &VerifierRegistration,
    request: &AuthorizationRequest,
    extension: &SchooltasExtension,
) -> Result<()> {
    let purpose = registration.purpose(&extension.purpose.code);
    for query in &request.dcql_query.credentials {
        let stated = extension.basis_for(&query.id);
        if stated == LegalBasis::Consent {
            continue;
        }
        let refuse = |registered| Error::LegalBasisMismatch { query_id: bounded(&query.id), stated, registered };
        let Some(purpose) = purpose else { return Err(refuse(None)) };
        let types = query.vct_values();
        if types.is_empty() {
            return Err(refuse(None));
        }
        for vct in types {
            match purpose.basis_for(vct) {
                Some(registered) if registered == stated => {}
                other => return Err(refuse(other)),
            }
        }
    }
    Ok(())
}

/// Whether the request asks for a transfer dossier in any credential query.
pub(crate) fn asks_for_transfer_dossier(catalog: &Catalog, request: &AuthorizationRequest) -> bool {
    let Some(dossier) = catalog.get(TRANSFER_DOSSIER) else { return false };
    let dossier = dossier.vct().as_str();
    request.dcql_query.credentials.iter().any(|query| query.vct_values().iter().any(|vct| vct.as_str() == dossier))
}

/// "Registration before transfer" (DOMAIN.md): a transfer dossier is answered only when the
/// wallet holds an enrolment credential from the requesting school.
///
/// How "the requesting school" is matched — only on what is signed:
///
/// 1. The request object is signed with a key of the verifier's DID (checked before this is
///    called), so that DID is who asks. A verifier's own registration carries a name and no
///    BRIN, and a name is not an identity.
/// 2. The trust list is the only signed statement tying a DID to a school: the requesting DID
///    must be an **accredited issuer** of enrolment credentials, with a BRIN. A school asks for
///    a transfer dossier under the DID it issues enrolments with.
/// 3. The wallet must hold an enrolment credential **issued by that same DID** (its `iss`,
///    verified when the credential was received) whose `school_brin` is the BRIN the trust list
///    gives that issuer, and that has not expired (`exp`). An enrolment from another school
///    — the primary school the dossier comes from, or a school that merely claims the BRIN in
///    its own credential — does not count.
///
/// Revocation of the enrolment is not re-checked here (the wallet would have to fetch the
/// status list for every request); it was VALID when received.
pub(crate) fn check_transfer_enrolment(
    catalog: &Catalog,
    trust_list: CurrentTrustList<'_>,
    verifier: &Did,
    copies: &[IndexedCopy],
    now: i64,
) -> Result<()> {
    let refuse = || Error::TransferWithoutEnrolment { verifier: bounded(verifier.as_str()) };
    let enrolment = catalog.get(PUPIL_ENROLMENT).ok_or_else(refuse)?.vct().as_str().to_owned();
    let school = trust_list.check_issuer(verifier, &enrolment).map_err(|_| refuse())?;
    let brin = school.brin.as_deref().ok_or_else(refuse)?;
    let registered = copies.iter().any(|copy| {
        copy.vct == enrolment
            && copy.issuer == verifier.as_str()
            && copy.claims.get("school_brin").and_then(Value::as_str) == Some(brin)
            && copy.claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp > now)
    });
    if registered { Ok(()) } else { Err(refuse()) }
}

/// The child link a verified child's presentation discloses: its `sub` (see
/// docs/protocol/guardian-approval.md, "Verification", step 6).
pub(crate) fn child_link(presentation: &VerifiedSdJwt) -> Option<&str> {
    presentation.claims().get("sub").and_then(Value::as_str)
}

/// One approval is for one child: every child link seen must be the same, and be the child the
/// guardianship names. `links` pairs each credential query id with the child link its
/// presentation disclosed (`None`: it disclosed none) and whether the query rests on consent.
///
/// A consent presentation without a child link is refused ([`Error::ChildLinkMissing`]); a
/// presentation on another basis may omit it (it needs no approval, and the request may not ask
/// for `sub`), but if it discloses one, that must be the same child too.
pub(crate) fn check_one_child(links: &[(String, Option<String>, bool)], child_id: &str) -> Result<()> {
    let mut first: Option<&str> = None;
    for (query_id, link, consent) in links {
        let Some(link) = link.as_deref() else {
            if *consent {
                return Err(Error::ChildLinkMissing { query_id: bounded(query_id) });
            }
            continue;
        };
        match first {
            None => first = Some(link),
            Some(seen) if seen != link => return Err(Error::NotOneChild { query_id: bounded(query_id) }),
            Some(_) => {}
        }
        if link != child_id {
            return Err(Error::WrongChild { query_id: bounded(query_id) });
        }
    }
    Ok(())
}

/// Trust before network for a request passed by reference: the `client_id` parameter of the
/// `openid4vp://` URI must name a verifier registered in the trust list before its
/// `request_uri` is fetched. (The fetched object must then carry the same `client_id`.)
pub(crate) fn check_registered_client(trust_list: CurrentTrustList<'_>, client_id: &str) -> Result<()> {
    match schooltas_oid4vc::oid4vp::ClientId::parse(client_id) {
        Ok(schooltas_oid4vc::oid4vp::ClientId::Did(did)) => check_registered(trust_list, &did),
        Ok(_) => match trust_list.verifier_for_client(client_id) {
            Some(_) => Ok(()),
            None => Err(Error::VerifierNotRegistered { did: bounded(client_id) }),
        },
        Err(_) => Err(Error::InvalidInput {
            reason: "the request's client_id is not decentralized_identifier:<did>, x509_san_dns:<host> or \
                     x509_hash:<hash>"
                .into(),
        }),
    }
}

/// Trust before network for a request object: the DID of its `kid` (which verification then
/// requires to be the DID in `client_id`) must be a registered verifier before it is resolved.
pub(crate) fn check_registered_kid(trust_list: CurrentTrustList<'_>, kid: Option<&str>) -> Result<()> {
    let kid = kid.ok_or_else(|| Error::InvalidInput { reason: "the request object names no key (kid)".into() })?;
    let kid = schooltas_did::DidUrl::parse(kid)
        .map_err(|_| Error::InvalidInput { reason: "the request object's kid is not a DID URL".into() })?;
    check_registered(trust_list, kid.did())
}

fn check_registered(trust_list: CurrentTrustList<'_>, did: &Did) -> Result<()> {
    match trust_list.verifier(did) {
        Some(_) => Ok(()),
        None => Err(Error::VerifierNotRegistered { did: bounded(did.as_str()) }),
    }
}

#[derive(Deserialize)]
struct IssuerAndType {
    iss: Option<String>,
    vct: Option<String>,
}

/// The `iss` and `vct` of a presentation's issuer-signed JWT, **not verified**: read only to ask
/// the trust list whether the issuer is accredited for the type before anything is resolved or
/// fetched for it. The verified values are checked again after the signature.
pub(crate) fn unverified_issuer(presentation: &str) -> Result<(String, String)> {
    let malformed = |reason: &str| Error::InvalidInput { reason: format!("a child's presentation {reason}") };
    let jwt = presentation.split('~').next().unwrap_or_default();
    let jws = CompactJws::parse(jwt)?;
    let payload = jws.dangerous_unverified_payload()?;
    // Strict: a payload naming `iss` twice must not pass this check with one reading and be
    // resolved with the other (issue 12 items 3 and 10).
    let claims: IssuerAndType = schooltas_did::strict_json::from_slice_or(&payload, |_| {
        malformed("does not carry a strict JSON object payload")
    })?;
    let iss = claims.iss.ok_or_else(|| malformed("names no issuer (iss)"))?;
    let vct = claims.vct.ok_or_else(|| malformed("names no credential type (vct)"))?;
    // A DID or an https identifier (the EU profile); the trust list knows which it accredits.
    if iss.starts_with("did:") {
        Did::parse(&iss)?;
    } else if !iss.starts_with("https://") {
        return Err(malformed("names an issuer that is neither a DID nor an https identifier"));
    }
    Ok((iss, vct))
}

/// At most 100 characters of `text`, for an error that echoes something a verifier chose.
fn bounded(text: &str) -> String {
    text.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use schooltas_oid4vc::oid4vp::{CredentialQuery, DcqlQuery};
    use schooltas_school::trust_list::RegisteredPurpose;
    use schooltas_school::{LocalizedText, Purpose};
    use schooltas_sd_jwt::ClaimPath;

    const ADVICE: &str = "https://schooltas.nl/credentials/school-advice/v1";
    const SUPPORT: &str = "https://schooltas.nl/credentials/support-needs/v1";

    fn text() -> LocalizedText {
        LocalizedText { nl: "Overstap".into(), en: "Transfer".into() }
    }

    /// A transfer purpose on legal obligation, with the support needs on consent (per type).
    fn registration() -> (Did, VerifierRegistration) {
        let did = Did::parse("did:web:stedelijk.example").unwrap();
        let purpose = RegisteredPurpose::new("transfer", text(), LegalBasis::LegalObligation, 730)
            .allow(ADVICE, [ClaimPath::claim("advice")])
            .allow_with_basis(SUPPORT, [ClaimPath::claim("arrangements")], LegalBasis::Consent);
        (did.clone(), VerifierRegistration::new(did, "Het Stedelijk College").with_purpose(purpose))
    }

    fn request(did: &Did, queries: Vec<CredentialQuery>, basis: LegalBasis) -> AuthorizationRequest {
        let mut dcql = DcqlQuery::builder();
        for query in queries {
            dcql = dcql.credential(query);
        }
        let request =
            AuthorizationRequest::new(did, "https://stedelijk.example/r", "n-0123456789abcdef", dcql.build().unwrap());
        SchooltasExtension::new(Purpose { code: "transfer".into(), text: text() }, basis, 365).apply(request).unwrap()
    }

    fn check(request: &AuthorizationRequest, registration: &VerifierRegistration) -> Result<()> {
        check_legal_basis(registration, request, &SchooltasExtension::from_request(request).unwrap().unwrap())
    }

    #[test]
    fn the_per_type_basis_of_the_registration_wins_over_the_purposes() {
        let (did, registration) = registration();
        let advice = CredentialQuery::sd_jwt_vc("advice", [ADVICE]).claim(ClaimPath::claim("advice"));
        let support = CredentialQuery::sd_jwt_vc("support", [SUPPORT]).claim(ClaimPath::claim("arrangements"));
        // The support needs "under the legal obligation" of the purpose: registered on consent.
        let both = request(&did, vec![advice.clone(), support.clone()], LegalBasis::LegalObligation);
        assert!(matches!(
            check(&both, &registration),
            Err(Error::LegalBasisMismatch { query_id, stated: LegalBasis::LegalObligation, registered: Some(LegalBasis::Consent) })
                if query_id == "support"
        ));
        // With the support query on consent, it stands.
        let extension = SchooltasExtension::from_request(&both).unwrap().unwrap();
        let split = extension.with_query_basis("support", LegalBasis::Consent).apply(both.clone()).unwrap();
        assert!(check(&split, &registration).is_ok());
        // A query accepting either type, stated on the purpose's basis: the consent type decides.
        let either = CredentialQuery::sd_jwt_vc("either", [ADVICE, SUPPORT]).claim(ClaimPath::claim("advice"));
        assert!(matches!(
            check(&request(&did, vec![either], LegalBasis::LegalObligation), &registration),
            Err(Error::LegalBasisMismatch { registered: Some(LegalBasis::Consent), .. })
        ));
        // A type the purpose does not allow, on a non-consent basis: nothing backs it.
        let other = CredentialQuery::sd_jwt_vc("other", ["https://schooltas.nl/credentials/enrolment/v1"])
            .claim(ClaimPath::claim("group"));
        assert!(matches!(
            check(&request(&did, vec![advice, other], LegalBasis::LegalObligation), &registration),
            Err(Error::LegalBasisMismatch { registered: None, .. })
        ));
        // Everything on consent is always acceptable (the strictest basis).
        assert!(check(&request(&did, vec![support], LegalBasis::Consent), &registration).is_ok());
    }

    fn link(query: &str, sub: Option<&str>, consent: bool) -> (String, Option<String>, bool) {
        (query.to_owned(), sub.map(str::to_owned), consent)
    }

    #[test]
    fn one_child_rule() {
        assert!(check_one_child(&[link("a", Some("did:c"), true), link("b", None, false)], "did:c").is_ok());
        assert!(matches!(
            check_one_child(&[link("a", Some("did:c"), true), link("b", Some("did:s"), true)], "did:c"),
            Err(Error::NotOneChild { query_id }) if query_id == "b"
        ));
        assert!(matches!(
            check_one_child(&[link("a", Some("did:s"), true)], "did:c"),
            Err(Error::WrongChild { query_id }) if query_id == "a"
        ));
        assert!(matches!(
            check_one_child(&[link("a", None, true)], "did:c"),
            Err(Error::ChildLinkMissing { query_id }) if query_id == "a"
        ));
        // A non-consent presentation that does disclose a link must be the same child.
        assert!(matches!(
            check_one_child(&[link("a", Some("did:c"), true), link("b", Some("did:s"), false)], "did:c"),
            Err(Error::NotOneChild { .. })
        ));
    }

    #[test]
    fn unverified_issuer_refuses_junk_without_panicking() {
        use schooltas_did::base64url::encode;
        // Not a JWS at all: the JWS parser's own error.
        for junk in ["", "~"] {
            assert!(
                matches!(unverified_issuer(junk), Err(Error::Did(schooltas_did::Error::MalformedJws { .. }))),
                "{junk:?}"
            );
        }
        for junk in ["a.b.c~", "\u{1F600}.\u{1F600}.x~"] {
            assert!(
                matches!(
                    unverified_issuer(junk),
                    Err(Error::Did(schooltas_did::Error::InvalidBase64 { part: "header" }))
                ),
                "{junk:?}"
            );
        }
        // A JWS whose payload names no issuer, or names `iss` twice (two parsers would read two
        // issuers: the trust check and the resolution must not disagree).
        let header = encode(br#"{"alg":"EdDSA"}"#);
        for payload in [&br#"{}"#[..], br#"{"iss":"did:web:evil.example","iss":"did:key:z6Mk","vct":"x"}"#] {
            let jwt = format!("{header}.{}.{}~", encode(payload), encode([0u8; 64]));
            assert!(
                matches!(
                    (payload.len(), unverified_issuer(&jwt)),
                    (2, Err(Error::InvalidInput { .. })) | (_, Err(Error::Did(schooltas_did::Error::Json(_))))
                ),
                "{jwt}"
            );
        }
    }
}
