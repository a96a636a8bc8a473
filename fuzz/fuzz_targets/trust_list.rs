//! Signed trust lists (`schooltas-trust-list+jwt`): the `typ`, `kid` ↔ operator, the
//! signature, the claims (`iss`, `iat`, `exp`), the list's own rules (no repeated DID or
//! purpose, `exp` after `iat`), currency, issuer accreditation look-ups and the over-asking
//! check of a fixed request against the list.
//!
//! Modes (first byte, bit 0): 0 the rest is a list as received, verified against the fixed
//! operator key and through the offline resolver; 1 field 0 extra header members, field 1 the
//! payload (`"$ISS"`, `"$NOW"`), signed by the harness with the operator key its `kid` names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::Resolver;
use schooltas_fuzz::{
    ENROLMENT, GUARDIANSHIP, NOW, bounded, expand, field, header, issuer, issuer_did, issuer_key, issuer_kid, sign_raw,
    split,
};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
use schooltas_school::trust_list::{TRUST_LIST_TYP, TrustList, UnverifiedTrustList};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    if mode & 1 == 0 {
        let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
        check(text);
    } else {
        let header = header(issuer(), TRUST_LIST_TYP, Some(&issuer_kid()), bounded(field(&fields, 0), 4096));
        let payload = expand(field(&fields, 1));
        check(&sign_raw(&header, payload.as_bytes(), issuer()));
    }
});

fn check(jwt: &str) {
    let Ok(parsed) = UnverifiedTrustList::parse(jwt) else { return };
    let _ = (parsed.header().typ(), parsed.kid());
    let _ = parsed.verify_with_resolver(&Resolver::offline(), issuer_did(), NOW, 60);
    let Ok(list) = parsed.verify_with(issuer_key(), issuer_did(), NOW, 60) else { return };
    // What a verified list must already satisfy: its own rules, and current at the moment it
    // was verified (lookups go through `at(now)`, which re-checks expiry at each use).
    assert!(list.content().validate().is_ok(), "a verified trust list fails its own validation");
    let Ok(current) = list.at(NOW) else { panic!("a verified trust list is not current") };
    for vct in [ENROLMENT, GUARDIANSHIP, ""] {
        let _ = current.check_issuer(issuer_did(), vct);
    }
    let _ = (current.issuer(issuer_did()), current.verifier(issuer_did()));
    let _ = current.check_request(request());
    if let Some(registration) = current.verifier(issuer_did()) {
        let _ = registration.over_asking(request());
    }
    // Far past its `exp`, no lookup is possible.
    assert!(list.at(i64::MAX / 2).is_err(), "an expired trust list is still looked up in");
    let _ = round_trip(list.content());
}

fn round_trip(list: &TrustList) -> Option<()> {
    let jwt = list.sign(issuer(), &schooltas_did::DidUrl::parse(&issuer_kid()).ok()?).ok()?;
    let again = UnverifiedTrustList::parse(&jwt).ok()?.verify_with(issuer_key(), issuer_did(), NOW, 60);
    assert!(again.is_ok(), "a verified trust list, signed again, is refused");
    Some(())
}

/// A request from the fixed verifier for the purpose `newsletter`.
fn request() -> &'static AuthorizationRequest {
    static REQUEST: std::sync::OnceLock<AuthorizationRequest> = std::sync::OnceLock::new();
    REQUEST.get_or_init(|| {
        let query = DcqlQuery::builder()
            .credential(
                CredentialQuery::sd_jwt_vc("pupil", [ENROLMENT])
                    .claim(ClaimPath::claim("given_name"))
                    .claim(ClaimPath::claim("birth_date")),
            )
            .build();
        let query = match query {
            Ok(query) => query,
            Err(e) => panic!("fixture query refused: {e}"),
        };
        let purpose = Purpose {
            code: "newsletter".into(),
            text: LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
        };
        AuthorizationRequest::new(issuer_did(), "https://verifier.example/response", "nonce-0123456789abcdef", query)
            .with_schooltas(SchooltasExtension::new(purpose, LegalBasis::Consent, 365))
            .unwrap()
    })
}
