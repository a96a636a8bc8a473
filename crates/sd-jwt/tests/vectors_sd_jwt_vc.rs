//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc-18) acceptance vectors
//! (`test-vectors/ietf-sd-jwt-vc/`): the generated complete cases with the draft's own strings,
//! and every complete SD-JWT among the draft's figures. Everything is verified as an SD-JWT VC
//! (`typ` `dc+sd-jwt`, `vct` present, registered claims never selectively disclosed).
//!
//! One `#[test]` walks every case and reports every failing case by name at the end; cases
//! that are known not to pass are listed in [`EXCEPTIONS`] with a reason, and an excepted case
//! that starts passing fails the test too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    Ctx, Outcome, Report, clock_for, expect_eq, expect_key_binding_flag, expect_spec_claims, field, full_claims,
    is_json, issuer_keys, json_files, jwt_part, public_key, read, spec_strings, split, text, verify, without,
};
use schooltas_did::VerifyingKey;
use schooltas_sd_jwt::TypPolicy;
use serde_json::{Value, json};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-vectors/ietf-sd-jwt-vc");

/// Cases known not to pass, each with its reason. Empty: every case passes.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// `examples/settings.yml`: the verifier identifier and the nonce every KB-JWT carries.
const AUDIENCE: &str = "https://example.com/verifier";
const NONCE: &str = "1234567890";

/// The registered claims an issuer adds in the clear.
const REGISTERED: [&str; 4] = ["iss", "iat", "exp", "cnf"];

/// Verifies as an SD-JWT VC, with key binding to [`NONCE`] and [`AUDIENCE`] exactly when the
/// presentation carries a KB-JWT, and returns the processed payload.
fn verify_vc(text: &str, key: &VerifyingKey) -> Outcome<Value> {
    if is_json(text) {
        return Err("parse: not a compact SD-JWT".into());
    }
    let (_, _, kb) = split(text)?;
    let verified = verify(text, key, TypPolicy::SdJwtVc, kb.map(|_| (NONCE, AUDIENCE)), clock_for(text, None)?)?;
    expect_eq("header typ", &json!(verified.header().typ()), &json!("dc+sd-jwt"))?;
    if verified.vct().is_none() {
        return Err("no vct".into());
    }
    Ok(Value::Object(verified.into_claims()))
}

// ---- generated/ -----------------------------------------------------------------------------

fn issuer_key(v: &Value) -> Outcome<VerifyingKey> {
    issuer_keys(v)?.into_iter().next().ctx("issuer key")
}

fn check_vector_settings(v: &Value) -> Outcome {
    if field(v, "key_binding")?.as_bool().ctx("key_binding")? {
        expect_eq("kb_nonce", field(v, "kb_nonce")?, &json!(NONCE))?;
        expect_eq("kb_aud", field(v, "kb_aud")?, &json!(AUDIENCE))?;
    }
    Ok(())
}

fn generated_presentation(v: &Value) -> Outcome {
    check_vector_settings(v)?;
    let text = text(v, "generated_sd_jwt_presentation")?;
    expect_key_binding_flag(v, text)?;
    let claims = verify_vc(text, &issuer_key(v)?)?;
    expect_eq("processed payload", &claims, field(v, "expected_processed_payload")?)
}

fn generated_issuance(v: &Value) -> Outcome {
    let claims = verify_vc(text(v, "generated_sd_jwt_issuance")?, &issuer_key(v)?)?;
    expect_eq("processed issuance", &claims, &full_claims(v)?)
}

/// The draft's own strings for the same payload: an issuance must give all claims, a
/// presentation part of them.
fn spec_string(v: &Value, spec: &Value) -> Outcome {
    let text = text(spec, "value")?;
    let claims = verify_vc(text, &issuer_key(v)?)?;
    expect_spec_claims(v, text, &claims)
}

// ---- extracted/draft-18-figures.json --------------------------------------------------------

/// What each complete SD-JWT figure must verify to.
enum Expect {
    /// An issuance: all claims, i.e. the figure's user data plus the registered claims.
    AllOf { user_data: usize },
    /// A presentation: the figure with the processed payload.
    Processed { figure: usize, kb_payload: Option<usize> },
}

const FIGURES: [(usize, Expect); 5] = [
    (6, Expect::AllOf { user_data: 4 }),
    (7, Expect::Processed { figure: 8, kb_payload: None }),
    (9, Expect::Processed { figure: 10, kb_payload: None }),
    (23, Expect::AllOf { user_data: 22 }),
    (25, Expect::Processed { figure: 27, kb_payload: Some(26) }),
];

fn figure(figures: &[Value], index: usize) -> Outcome<&Value> {
    let figure = figures.get(index).ctx("figure")?;
    expect_eq("figure index", field(figure, "index")?, &json!(index))?;
    Ok(figure)
}

fn figure_case(figures: &[Value], index: usize, expect: &Expect, key: &VerifyingKey) -> Outcome {
    let sd_jwt = figure(figures, index)?;
    expect_eq("kind", field(sd_jwt, "kind")?, &json!("sd-jwt"))?;
    let value = field(sd_jwt, "value")?;
    let compact = text(value, "compact")?;
    let (jwt, _, kb) = split(compact)?;
    expect_eq("decoded header", &jwt_part(&jwt, 0)?, field(value, "header")?)?;
    expect_eq("decoded payload", &jwt_part(&jwt, 1)?, field(value, "payload")?)?;
    let claims = verify_vc(compact, key)?;
    match *expect {
        Expect::AllOf { user_data } => {
            let user_data = field(figure(figures, user_data)?, "value")?;
            expect_eq(
                "processed issuance without registered claims",
                &without(&claims, &REGISTERED),
                &without(user_data, &REGISTERED),
            )?;
            for name in REGISTERED {
                expect_eq(name, &json!(claims.get(name)), &json!(field(value, "payload")?.get(name)))?;
            }
            Ok(())
        }
        Expect::Processed { figure: expected, kb_payload } => {
            if let Some(kb_figure) = kb_payload {
                let kb = kb.ctx("KB-JWT")?;
                expect_eq("KB-JWT payload", &jwt_part(&kb, 1)?, field(figure(figures, kb_figure)?, "value")?)?;
            }
            expect_eq("processed payload", &claims, field(figure(figures, expected)?, "value")?)
        }
    }
}

// ---- the walk -------------------------------------------------------------------------------

#[test]
fn sd_jwt_vc_vectors() {
    let mut report = Report::new("ietf-sd-jwt-vc");
    let mut settings_key = None;
    for (name, v) in json_files(&format!("{DIR}/generated")) {
        settings_key.get_or_insert_with(|| v["issuer_public_jwks"][0].clone());
        report.case(format!("generated/{name}: presentation"), || generated_presentation(&v));
        report.case(format!("generated/{name}: issuance"), || generated_issuance(&v));
        for (i, section, spec) in spec_strings(&v) {
            report.case(format!("generated/{name}: spec string {i} ({section})"), || spec_string(&v, &spec));
        }
    }

    // The figures are signed with the examples/settings.yml issuer key, the generated cases' key.
    let figures = read(&format!("{DIR}/extracted/draft-18-figures.json"));
    let figures = figures.as_array().cloned().unwrap_or_default();
    let key = public_key(&settings_key.unwrap_or_default());
    let complete: Vec<usize> = figures
        .iter()
        .filter(|f| f["kind"] == "sd-jwt")
        .filter_map(|f| f["index"].as_u64())
        .map(|i| i as usize)
        .collect();
    report.case("extracted/draft-18-figures: every SD-JWT figure is checked".into(), || {
        expect_eq("SD-JWT figures", &json!(complete), &json!(FIGURES.iter().map(|(i, _)| *i).collect::<Vec<_>>()))
    });
    for (index, expect) in &FIGURES {
        let section = figures.get(*index).and_then(|f| f["section"].as_str()).unwrap_or_default().to_owned();
        report.case(format!("extracted/draft-18-figures: figure {} ({section})", index + 1), || {
            figure_case(&figures, *index, expect, key.as_ref().map_err(Clone::clone)?)
        });
    }

    report.finish(EXCEPTIONS);
}
