//! The credential catalog: realistic claims validate, wrong claims are refused without their
//! values in the message, the builder marks exactly the disclosable claims.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_did::{Algorithm, SigningKey};
use schooltas_school::catalog::{Catalog, CatalogError, Language};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, RandomSalts};
use serde_json::{Map, Value, json};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn examples() -> Vec<(&'static str, Value)> {
    let did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    vec![
        (
            "pupil_enrolment",
            json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
                   "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
                   "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false}),
        ),
        (
            "guardianship",
            json!({"guardian_id": did, "child_id": did, "relation": "parent", "valid_until": "2030-03-01",
                   "child_birth_date": "2014-03-01", "school_brin": "12AB"}),
        ),
        (
            "learning_results",
            json!({"school_name": "De Linde", "school_brin": "12AB", "test_name": "Doorstroomtoets",
                   "test_date": "2027-02-10", "reading_level": "2F", "language_level": "1F", "maths_level": "1S"}),
        ),
        (
            "school_advice",
            json!({"school_name": "De Linde", "school_brin": "12AB", "advice": ["havo", "vwo"],
                   "advice_date": "2027-01-31", "adjusted_after_final_test": false}),
        ),
        (
            "support_needs",
            json!({"school_name": "De Linde", "school_brin": "12AB", "arrangements": ["extra time"],
                   "dyslexia_statement": true, "statement_issued_by": "Dyslexiecentrum Utrecht"}),
        ),
        (
            "transfer_dossier",
            json!({"administrative": {"given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-03-01"},
                   "school_history_and_results": {"advice": ["havo"], "final_test_result": "2F/1S"},
                   "social_emotional_development": {"summary": "..."},
                   "guidance": {"summary": "..."}, "absence": {"days": 3}, "parents_view": "Agreed"}),
        ),
        (
            "consent_receipt",
            json!({"purpose": "newsletter", "channel": "newsletter", "object_digest": "ab".repeat(32),
                   "subject_id": did, "consented_by": did, "school_year": "2026-2027", "valid_until": "2027-07-31"}),
        ),
        ("achievement", json!({"title": "Zwemdiploma A", "criteria": "25 m", "achieved_on": "2022-06-01"})),
    ]
}

#[test]
fn every_standard_type_accepts_a_realistic_credential_and_issues_it() {
    let catalog = Catalog::standard();
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    assert_eq!(catalog.iter().count(), examples().len());
    for (id, claims) in examples() {
        let credential_type = catalog.get(id).unwrap();
        assert_eq!(catalog.by_vct(credential_type.vct()).unwrap().id(), id);
        let mut claims = object(claims);
        claims.insert("iss".into(), json!("did:web:ignored.example")); // registered claims are the issuer's
        credential_type.validate(&claims).unwrap_or_else(|e| panic!("{id}: {e}"));
        claims.remove("iss");
        let issued = credential_type.builder("did:web:delinde.example", 1_800_000_000, claims.clone()).unwrap();
        let issued = issued.issue(&school, &mut RandomSalts).unwrap().to_string();
        // Every disclosable claim that is present is a disclosure, and nothing else is.
        let holder = HolderSdJwt::parse(&issued).unwrap();
        let everything = holder.present(&[], None).unwrap();
        assert!(everything.ends_with('~'));
        let expected = credential_type
            .claims()
            .iter()
            .filter(|c| c.disclosable)
            .filter(|c| {
                let mut value = Value::Object(claims.clone());
                c.path.elements().iter().all(|e| match e {
                    schooltas_sd_jwt::PathElement::Key(k) => match value.get(k) {
                        Some(v) => {
                            value = v.clone();
                            true
                        }
                        None => false,
                    },
                    _ => false,
                })
            })
            .count();
        assert_eq!(issued.matches('~').count() - 1, expected, "{id}");
    }
}

fn refusal(id: &str, claims: Value) -> CatalogError {
    Catalog::standard().get(id).unwrap().validate(&object(claims)).unwrap_err()
}

fn enrolment() -> Value {
    examples().remove(0).1
}

#[test]
fn refuses_unknown_claims_at_any_depth() {
    let mut claims = enrolment();
    claims["shoe_size"] = json!(34);
    let error = refusal("pupil_enrolment", claims);
    assert!(matches!(&error, CatalogError::UnknownClaim { path, .. } if path == "shoe_size"), "{error}");
    let mut dossier = examples().remove(5).1;
    dossier["absence"]["reasons"] = json!("Sick with measles");
    let error = refusal("transfer_dossier", dossier);
    assert!(matches!(&error, CatalogError::UnknownClaim { path, .. } if path == "absence.reasons"), "{error}");
    assert!(!error.to_string().contains("measles"));
}

#[test]
fn refuses_missing_required_claims() {
    let mut claims = enrolment();
    claims.as_object_mut().unwrap().remove("birth_date");
    let error = refusal("pupil_enrolment", claims);
    assert!(matches!(&error, CatalogError::MissingClaim { path, .. } if path == "birth_date"), "{error}");
    let mut dossier = examples().remove(5).1;
    dossier["administrative"].as_object_mut().unwrap().remove("family_name");
    let error = refusal("transfer_dossier", dossier);
    assert!(matches!(&error, CatalogError::MissingClaim { path, .. } if path == "administrative.family_name"));
}

#[test]
fn refuses_wrongly_typed_values_without_echoing_them() {
    for (claim, value) in [
        ("birth_date", json!("2023-02-30")),
        ("birth_date", json!("01-03-2014")),
        ("birth_date", json!(20140301)),
        ("school_brin", json!("12ab")),
        ("school_brin", json!("1234")),
        ("school_location", json!("0")),
        ("school_year", json!("2026-2028")),
        ("age_over_12", json!("yes")),
        ("given_name", json!(["Sanne"])),
    ] {
        let mut claims = enrolment();
        claims[claim] = value.clone();
        let error = refusal("pupil_enrolment", claims);
        assert!(matches!(&error, CatalogError::WrongType { path, .. } if path == claim), "{claim}: {error}");
        if let Some(text) = value.as_str() {
            assert!(!error.to_string().contains(text), "{error} leaks the value");
        }
    }
    let mut results = examples().remove(2).1;
    results["maths_level"] = json!("3F");
    assert!(refusal("learning_results", results).to_string().contains("one of 1F, 2F, 1S"));
    let mut advice = examples().remove(3).1;
    advice["advice"] = json!(["gymnasium"]);
    assert!(matches!(refusal("school_advice", advice), CatalogError::WrongType { .. }));
    let mut dossier = examples().remove(5).1;
    dossier["absence"]["days"] = json!("three");
    assert!(
        matches!(refusal("transfer_dossier", dossier), CatalogError::WrongType { path, .. } if path == "absence.days")
    );
}

#[test]
fn leap_days_are_dates() {
    let mut claims = enrolment();
    claims["birth_date"] = json!("2012-02-29");
    Catalog::standard().get("pupil_enrolment").unwrap().validate(&object(claims)).unwrap();
}

/// The payload of an issued SD-JWT's issuer-signed JWT.
fn payload_of(issued: &str) -> Value {
    let jwt = issued.split('~').next().unwrap();
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&schooltas_did::base64url::decode(part).unwrap()).unwrap()
}

#[test]
fn the_representation_is_never_hidden_and_the_rest_is_disclosable() {
    let catalog = Catalog::standard();
    let guardianship = catalog.get("guardianship").unwrap();
    assert!(guardianship.is_representation());
    assert_eq!(guardianship.child_link_claim(), "child_id");
    let disclosable = |name: &str| guardianship.claim(&ClaimPath::claim(name)).unwrap().disclosable;
    for always in ["relation", "child_id", "valid_until"] {
        assert!(!disclosable(always), "{always} states the representation: never hideable");
    }
    for hideable in ["guardian_id", "child_birth_date", "school_brin"] {
        assert!(disclosable(hideable), "{hideable} must be selectively disclosable");
    }
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let issued = guardianship
        .builder("did:web:delinde.example", 1, object(examples().remove(1).1))
        .unwrap()
        .issue(&school, &mut RandomSalts)
        .unwrap();
    let names: Vec<&str> = issued.disclosures().iter().filter_map(|d| d.claim_name()).collect();
    assert_eq!(names.len(), 3);
    for hideable in ["guardian_id", "child_birth_date", "school_brin"] {
        assert!(names.contains(&hideable));
    }
    let payload = payload_of(&issued.to_string());
    for always in ["relation", "child_id", "valid_until"] {
        assert!(payload.get(always).is_some(), "{always} is in the clear");
    }
    for hidden in ["guardian_id", "child_birth_date", "school_brin"] {
        assert!(payload.get(hidden).is_none(), "{hidden} is not in the clear");
    }
}

#[test]
fn a_custom_representation_type_cannot_make_the_representation_hideable() {
    use schooltas_school::catalog::{ClaimDefinition, ClaimKind, CredentialType, Label};
    use schooltas_sd_jwt::Vct;
    let definition = |name: &str| ClaimDefinition {
        path: ClaimPath::claim(name),
        kind: ClaimKind::String,
        required: true,
        disclosable: true,
        special_category: false,
        label: Label::new(name, name),
    };
    let custom = CredentialType::new(
        "custom_guardianship",
        Vct::new("https://example.org/guardianship").unwrap(),
        Label::new("Voogdij", "Guardianship"),
        Label::new("-", "-"),
    )
    .with_claim(definition("relation"))
    .with_claim(definition("child_id"))
    .with_claim(definition("valid_until"))
    .with_claim(definition("note"))
    .representing();
    let flag = |name: &str| custom.claim(&ClaimPath::claim(name)).unwrap().disclosable;
    assert!(!flag("relation") && !flag("child_id") && !flag("valid_until"));
    assert!(flag("note"));
}

#[test]
fn every_sd_array_is_padded_to_the_type_size_whatever_the_optional_claims() {
    let catalog = Catalog::standard();
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    for (id, claims) in examples() {
        let credential_type = catalog.get(id).unwrap();
        let padding = credential_type.digest_padding();
        let full = credential_type.builder("did:web:delinde.example", 1, object(claims.clone())).unwrap();
        let full = full.issue(&school, &mut RandomSalts).unwrap();
        // The same type with every optional claim left out.
        let mut minimal = object(claims);
        for definition in credential_type.claims().iter().filter(|c| !c.required) {
            if let [schooltas_sd_jwt::PathElement::Key(name)] = definition.path.elements() {
                minimal.remove(name);
            }
        }
        let minimal = credential_type.builder("did:web:delinde.example", 1, minimal).unwrap();
        let minimal = minimal.issue(&school, &mut RandomSalts).unwrap();
        for (level, size) in &padding {
            // The `_sd` at `level`: in the payload, or inside the disclosure of a concealed object.
            let at = |issued: &schooltas_sd_jwt::IssuedSdJwt| {
                let mut value = payload_of(&issued.to_string());
                for name in level {
                    value = match value.get(name) {
                        Some(inner) => inner.clone(),
                        None => issued
                            .disclosures()
                            .iter()
                            .find(|d| d.claim_name() == Some(name.as_str()))
                            .map(|d| d.value().clone())
                            .unwrap_or(Value::Null),
                    };
                }
                value.get("_sd").and_then(Value::as_array).map(Vec::len)
            };
            assert_eq!(at(&full), Some(*size), "{id} at {level:?}");
            if let Some(len) = at(&minimal) {
                assert_eq!(len, *size, "{id} at {level:?} without optional claims");
            }
            assert_eq!(size % schooltas_school::catalog::DIGEST_BUCKET, 0);
        }
        if !padding.is_empty() {
            assert_eq!(payload_of(&full.to_string())["_sd_alg"], "sha-256");
        }
    }
    // The enrolment's top level: 10 disclosable claims and `sub`, padded to 12.
    let enrolment = catalog.get("pupil_enrolment").unwrap().digest_padding();
    assert_eq!(enrolment, vec![(Vec::<String>::new(), 12)]);
}

#[test]
fn special_category_marks_the_diagnosis_not_the_arrangement() {
    let catalog = Catalog::standard();
    let support = catalog.get("support_needs").unwrap();
    assert!(support.is_special_category(&ClaimPath::claim("dyslexia_statement")));
    assert!(!support.is_special_category(&ClaimPath::claim("arrangements")));
    assert!(!support.is_special_category(&ClaimPath::parse_dotted("arrangements.0").unwrap()));
    let dossier = catalog.get("transfer_dossier").unwrap();
    assert!(dossier.is_special_category(&ClaimPath::claim("guidance")));
    assert!(dossier.is_special_category(&ClaimPath::parse_dotted("guidance.summary").unwrap()));
    assert!(!dossier.is_special_category(&ClaimPath::claim("absence")));
    assert_eq!(support.special_category_paths().count(), 2);
}

#[test]
fn labels_and_metadata_in_both_languages() {
    let catalog = Catalog::standard();
    let support = catalog.get("support_needs").unwrap();
    assert_eq!(support.label(&ClaimPath::claim("dyslexia_statement"), Language::Nl), Some("Dyslexieverklaring"));
    assert_eq!(
        support.label(&ClaimPath::parse_dotted("arrangements.1").unwrap(), Language::En).map(|l| &l[..12]),
        Some("Arrangements")
    );
    let metadata = support.credential_metadata();
    let locales: Vec<&str> =
        metadata["display"].as_array().unwrap().iter().map(|d| d["locale"].as_str().unwrap()).collect();
    assert_eq!(locales, ["nl-NL", "en-US"]);
    let first = &metadata["claims"][0];
    assert_eq!(first["path"], json!(["school_name"]));
    assert_eq!(first["mandatory"], json!(true));
    assert_eq!(first["display"][1]["name"], "School name");
}

#[test]
fn insert_refuses_duplicates() {
    let mut catalog = Catalog::standard();
    let copy = catalog.get("achievement").unwrap().clone();
    assert!(matches!(catalog.insert(copy), Err(CatalogError::Duplicate { what: "id", .. })));
    let mut empty = Catalog::new();
    empty.insert(Catalog::standard().get("achievement").unwrap().clone()).unwrap();
    assert!(empty.get("achievement").is_some());
}

#[test]
fn two_issuances_of_the_same_claims_share_no_digest_and_decoys_do_not_disturb_verification() {
    use schooltas_did::Signer as _;
    use schooltas_sd_jwt::{UnverifiedSdJwt, VerifyOptions};
    let catalog = Catalog::standard();
    let enrolment = catalog.get("pupil_enrolment").unwrap();
    let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let issue = || {
        enrolment
            .builder("did:web:delinde.example", 1, enrolment_claims())
            .unwrap()
            .issue(&school, &mut RandomSalts)
            .unwrap()
    };
    let (first, second) = (issue(), issue());
    let digests = |issued: &schooltas_sd_jwt::IssuedSdJwt| -> std::collections::BTreeSet<String> {
        payload_of(&issued.to_string())["_sd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(digests(&first).len(), 12);
    assert!(digests(&first).is_disjoint(&digests(&second)), "fresh salts and fresh decoys every time");
    // 10 disclosures, 2 decoys: every disclosure verifies, the decoys match none.
    assert_eq!(first.disclosures().len(), 10);
    let verified = UnverifiedSdJwt::parse(&first.to_string())
        .unwrap()
        .verify(school.verifying_key(), &VerifyOptions::sd_jwt_vc_as_issued(), 2)
        .unwrap();
    assert_eq!(verified.claims()["given_name"], "Sanne");
    assert!(verified.claims().get("_sd").is_none());
}

fn enrolment_claims() -> Map<String, Value> {
    object(examples().remove(0).1)
}
