//! Guardian approvals (`schooltas-guardian-approval+jwt`) and consent withdrawals
//! (`schooltas-consent-withdrawal+jwt`), docs/protocol/guardian-approval.md: parsing, the
//! embedded guardianship presentation, the checks against the verified guardianship and the
//! request (key binding, audience, nonce, purpose, basis, freshness, child, validity, the
//! approved `sd_hash`es), and withdrawals (signature, audience, age).
//!
//! Modes (first byte `mod 4`):
//! - 0: the rest is an approval as received; its guardianship presentation is verified (key
//!   binding to the fixed nonce and audience) and the approval checked against it.
//! - 1: the rest is a withdrawal as received, checked against the parent's key.
//! - 2: field 0 extra header members, field 1 an approval payload (`"$GUARDIANSHIP"` → a
//!   genuine key-bound guardianship presentation, `"$CHILD_SD_HASH"` → the `sd_hash` of the
//!   child's presentation, `"$NOW"`); signed with the parent's key and checked against the
//!   genuine guardianship, so every rule after the signature is reached.
//! - 3: field 0 extra header members, field 1 a withdrawal payload; signed with the parent's
//!   key.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schooltas_did::Signer;
use schooltas_fuzz::{
    GUARDIANSHIP, KB_AUDIENCE, KB_NONCE, NOW, bounded, expand, field, header, held_claims, holder, issuer, issuer_key,
    sign_raw, split,
};
use schooltas_school::consent::{
    ApprovalContext, ChildPresentation, GUARDIAN_APPROVAL_TYP, UnverifiedGuardianApproval, UnverifiedWithdrawal, WITHDRAWAL_TYP,
};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{
    FixedSalts, HolderSdJwt, KeyBinding, KeyBindingInput, SdJwtBuilder, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions,
};

const PURPOSE: &str = "newsletter";
const CHILD_ID: &str = "urn:uuid:child-Sanne";

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let raw = std::str::from_utf8(data.get(1..).unwrap_or_default()).unwrap_or_default();
    match mode % 4 {
        0 => approval(raw, mode),
        1 => withdrawal(raw),
        2 => {
            let header = header(holder(), GUARDIAN_APPROVAL_TYP, None, bounded(field(&fields, 0), 4096));
            let fixtures = fixtures();
            let payload = expand(field(&fields, 1))
                .replace("\"$GUARDIANSHIP\"", &serde_json::Value::from(fixtures.guardianship.as_str()).to_string())
                .replace("\"$CHILD_SD_HASH\"", &serde_json::Value::from(fixtures.child_sd_hash.as_str()).to_string());
            approval(&sign_raw(&header, payload.as_bytes(), holder()), mode);
        }
        _ => {
            let header = header(holder(), WITHDRAWAL_TYP, None, bounded(field(&fields, 0), 4096));
            withdrawal(&sign_raw(&header, expand(field(&fields, 1)).as_bytes(), holder()));
        }
    }
});

fn approval(jwt: &str, mode: u8) {
    let Ok(parsed) = UnverifiedGuardianApproval::parse(jwt) else { return };
    let fixtures = fixtures();
    // The verifier's path: verify the embedded guardianship first, then the approval.
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(KB_NONCE, KB_AUDIENCE));
    let embedded = UnverifiedSdJwt::parse(parsed.guardianship()).and_then(|g| g.verify(issuer_key(), &options, NOW));
    let guardianship = match &embedded {
        Ok(verified) => verified,
        Err(_) => &fixtures.verified_guardianship,
    };
    let child_presentations = [ChildPresentation::new("pupil", fixtures.child.as_str())];
    let child_id = if mode & 0x40 == 0 { Some(CHILD_ID) } else { None };
    let context = ApprovalContext {
        audience: KB_AUDIENCE,
        nonce: KB_NONCE,
        purpose: PURPOSE,
        child_presentations: &child_presentations,
        child_id,
        now: NOW,
        max_age: 600,
        skew: 60,
    };
    if let Ok(verified) = parsed.verify(guardianship, &context) {
        assert!(child_id.is_some(), "an approval passed without an identified child");
        let _ = format!("{verified:?}");
    }
}

fn withdrawal(jwt: &str) {
    let Ok(parsed) = UnverifiedWithdrawal::parse(jwt) else { return };
    let _ = (parsed.unverified_nonce(), parsed.unverified_audience());
    let _ = parsed.verify(holder().verifying_key(), KB_AUDIENCE, NOW, 60);
    let _ = parsed.verify(issuer_key(), KB_AUDIENCE, NOW, 60);
}

struct Fixtures {
    /// The parent's guardianship credential, presented with key binding to the fixed nonce
    /// and audience.
    guardianship: String,
    verified_guardianship: VerifiedSdJwt,
    /// The child's enrolment presentation.
    child: String,
    child_sd_hash: String,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| match build() {
        Ok(fixtures) => fixtures,
        Err(e) => panic!("consent fixtures: {e}"),
    })
}

fn build() -> Result<Fixtures, schooltas_school::Error> {
    let salts = || FixedSalts::new((0..32).map(|i| format!("salt-{i:02}-0123456789abcdef")));
    let claims = |vct: &str| {
        held_claims().iter().find(|(v, _)| v == vct).and_then(|(_, c)| c.as_object().cloned()).unwrap_or_default()
    };
    let mut guardianship = SdJwtBuilder::new(claims(GUARDIANSHIP)).typ("dc+sd-jwt");
    for name in ["child_id", "relation", "valid_until"] {
        guardianship = guardianship.disclosable(ClaimPath::claim(name));
    }
    let guardianship = guardianship.holder_key(holder().verifying_key()).issue(issuer(), &mut salts())?.to_string();
    let kb = KeyBindingInput { nonce: KB_NONCE.into(), audience: KB_AUDIENCE.into(), issued_at: NOW };
    let wanted = [ClaimPath::claim("child_id"), ClaimPath::claim("relation"), ClaimPath::claim("valid_until")];
    let guardianship = HolderSdJwt::parse(&guardianship)?.present(&wanted, Some((holder(), &kb)))?;
    let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(KB_NONCE, KB_AUDIENCE));
    let verified_guardianship = UnverifiedSdJwt::parse(&guardianship)?.verify(issuer_key(), &options, NOW)?;

    let enrolment = claims(schooltas_fuzz::ENROLMENT);
    let child = SdJwtBuilder::new(enrolment)
        .typ("dc+sd-jwt")
        .disclosable(ClaimPath::claim("given_name"))
        .issue(issuer(), &mut salts())?
        .to_string();
    let child_sd_hash = UnverifiedSdJwt::parse(&child)?.sd_hash();
    Ok(Fixtures { guardianship, verified_guardianship, child, child_sd_hash })
}
