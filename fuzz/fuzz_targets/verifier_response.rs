//! The verifier's whole pipeline on a `direct_post` body (`schooltas_verifier::verify_response`):
//! body parsing, `state`, every presentation (issuer signature via the trust list and the
//! offline resolver, accreditation, key binding to the request's nonce and client id,
//! validity, status through the status-list cache), transaction data, the DCQL check,
//! dropped claims, the consent rule (guardian approval required), the verdict.
//!
//! Modes (first byte):
//! - `0 mod 3`: the rest is a body as received (form or JSON).
//! - `1 mod 3` / `2 mod 3`: fields 0–4 and 5–9 build two presentations as in
//!   `sd_jwt_compact` (with KB-JWT; the KB payload may use `"$CLIENT_ID"`, the request's client
//!   id); field 10 is a JSON body template in which `"$P0"` and `"$P1"` are replaced by them.
//!   Mode `1 mod 3` posts it as JSON, `2 mod 3` form-encodes its top-level members.
//!
//! Bit 7 of the mode picks the request: a consent request (purpose `newsletter`, registered on
//! consent) or one without the Schooltas extension.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schooltas_did::Resolver;
use schooltas_fuzz::{
    ENROLMENT, GUARDIANSHIP, KB_NONCE, NOW, assemble_sd_jwt, field, issuer, issuer_did, issuer_kid, split, trust_list,
};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery, form};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_status_list::{Bits, InMemoryStatusLists, StatusList, StatusListCache, StatusListToken, StatusListUri};
use schooltas_verifier::{VerificationContext, verify_response};
use serde_json::Value;

const STATE: &str = "state-0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let body = match mode % 3 {
        0 => match std::str::from_utf8(data.get(1..).unwrap_or_default()) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        },
        encoding => {
            let p0 = assemble_sd_jwt(fields.get(..5).unwrap_or_default(), true);
            let p1 = assemble_sd_jwt(fields.get(5..10).unwrap_or_default(), true);
            let template = field(&fields, 10);
            let json = template
                .replace("\"$P0\"", &Value::from(p0).to_string())
                .replace("\"$P1\"", &Value::from(p1).to_string());
            if encoding == 1 {
                json
            } else {
                let Ok(Value::Object(members)) = serde_json::from_str::<Value>(&json) else { return };
                let pairs: Vec<(String, String)> = members
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect();
                form::encode(&pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
            }
        }
    };
    let fixtures = fixtures();
    let request = if mode & 0x80 == 0 { &fixtures.consent_request } else { &fixtures.plain_request };
    let resolver = Resolver::offline();
    let context = VerificationContext::new(trust_list(), &resolver, &fixtures.status, NOW);
    let verdict = verify_response(request, &body, &context);
    if verdict.is_accepted() {
        // A consent request about a child under 16 is accepted only with the parent's approval.
        if verdict.guardian_approval_required {
            assert!(verdict.guardian_approval.is_some(), "accepted without the required guardian approval");
        }
    }
    let _ = format!("{:?}", verdict.failures);
});

struct Fixtures {
    consent_request: AuthorizationRequest,
    plain_request: AuthorizationRequest,
    status: StatusListCache,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| match build() {
        Ok(f) => f,
        Err(e) => panic!("verifier fixtures: {e}"),
    })
}

fn build() -> Result<Fixtures, Box<dyn std::error::Error>> {
    let query = DcqlQuery::builder()
        .credential(
            CredentialQuery::sd_jwt_vc("pupil", [ENROLMENT])
                .claim(ClaimPath::claim("given_name"))
                .claim(ClaimPath::claim("group"))
                .claim(ClaimPath::claim("age_over_12")),
        )
        .credential(
            CredentialQuery::sd_jwt_vc("guardian", [GUARDIANSHIP])
                .claim(ClaimPath::claim("child_id"))
                .claim(ClaimPath::claim("relation")),
        )
        .build()?;
    let purpose = Purpose {
        code: "newsletter".into(),
        text: LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
    };
    let plain_request =
        AuthorizationRequest::new(issuer_did(), "https://verifier.example/response", KB_NONCE, query).with_state(STATE);
    let consent_request =
        plain_request.clone().with_schooltas(SchooltasExtension::new(purpose, LegalBasis::Consent, 365))?;
    // The status list every seed credential points at (index 7 valid, 9 revoked).
    let uri = StatusListUri::new("https://school.example/status/1")?;
    let mut list = StatusList::new(Bits::Two, 1 << 10)?;
    list.set(9, schooltas_status_list::StatusValue::INVALID)?;
    let token =
        StatusListToken::new(uri.clone(), NOW - 60, list).with_ttl(3_600).sign(issuer(), Some(&issuer_kid()))?;
    let lists = InMemoryStatusLists::new();
    lists.publish(uri, token);
    Ok(Fixtures { consent_request, plain_request, status: StatusListCache::new(lists) })
}
