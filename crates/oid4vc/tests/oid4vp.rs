//! OpenID4VP 1.0 with DCQL: the spec's DCQL examples, one refusal per rule, wallet matching,
//! the verifier's response check, request objects, URIs, transaction data and responses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use schooltas_did::jws::{self, Header};
use schooltas_did::{Algorithm, Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, base64url, did_key};
use schooltas_oid4vc::Error;
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationRequestUri, AuthorizationResponse, ClaimValue, CredentialQuery,
    CredentialSetQuery, DcqlQuery, Oid4vpError, PresentedCredential, ResponseFailure, TransactionData,
    UnverifiedRequestObject, WalletCredential, form, random_nonce, transaction_data_hash, transaction_data_hashes,
};
use schooltas_sd_jwt::ClaimPath;
use serde_json::{Value, json};

const VCT: &str = "https://schooltas.nl/credentials/enrolment/v1";
const NOW: i64 = 1_800_000_000;

fn path(json: Value) -> ClaimPath {
    ClaimPath::from_json(&json).unwrap()
}

fn refused(query: Value) -> Oid4vpError {
    DcqlQuery::from_json(&query).expect_err("the query must be refused")
}

fn one_credential(extra: Value) -> Value {
    let mut credential = json!({"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}});
    for (k, v) in extra.as_object().unwrap() {
        credential[k] = v.clone();
    }
    json!({ "credentials": [credential] })
}

// ---- DCQL examples re-typed from OpenID4VP 1.0 --------------------------------------------------

/// §7.4 (DCQL Examples), `examples/query_lang/simple.json`.
#[test]
fn spec_simple_query() {
    let query = DcqlQuery::parse(
        r#"{
          "credentials": [
            {
              "id": "my_credential",
              "format": "dc+sd-jwt",
              "meta": { "vct_values": [ "https://credentials.example.com/identity_credential" ] },
              "claims": [
                  {"path": ["family_name"]},
                  {"path": ["given_name"]},
                  {"path": ["address", "street_address"]}
              ]
            }
          ]
        }"#,
    )
    .unwrap();
    let credential = query.credential("my_credential").unwrap();
    assert_eq!(credential.vct_values(), ["https://credentials.example.com/identity_credential"]);
    assert!(!credential.multiple);
    assert!(credential.require_cryptographic_holder_binding);
    assert_eq!(credential.claims.as_ref().unwrap()[2].path, path(json!(["address", "street_address"])));
    // Serializing gives the same JSON back (defaults are left out).
    let again = DcqlQuery::from_json(&query.to_json()).unwrap();
    assert_eq!(again, query);
}

/// Appendix D, `claims_alternatives.json`.
#[test]
fn spec_claims_alternatives_query() {
    let query = DcqlQuery::from_json(&claims_alternatives()).unwrap();
    assert_eq!(query.credentials[0].claim_sets.as_ref().unwrap().len(), 2);
}

fn claims_alternatives() -> Value {
    json!({
      "credentials": [
        {
          "id": "pid",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": [ "https://credentials.example.com/identity_credential" ] },
          "claims": [
            {"id": "a", "path": ["family_name"]},
            {"id": "b", "path": ["postal_code"]},
            {"id": "c", "path": ["locality"]},
            {"id": "d", "path": ["region"]},
            {"id": "e", "path": ["date_of_birth"]}
          ],
          "claim_sets": [
            ["a", "c", "d", "e"],
            ["a", "b", "e"]
          ]
        }
      ]
    })
}

/// Appendix D, `credentials_alternatives.json`.
fn credentials_alternatives() -> Value {
    json!({
      "credentials": [
        {
          "id": "pid",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://credentials.example.com/identity_credential"] },
          "claims": [
            {"path": ["given_name"]},
            {"path": ["family_name"]},
            {"path": ["address", "street_address"]}
          ]
        },
        {
          "id": "other_pid",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://othercredentials.example/pid"] },
          "claims": [
            {"path": ["given_name"]},
            {"path": ["family_name"]},
            {"path": ["address", "street_address"]}
          ]
        },
        {
          "id": "pid_reduced_cred_1",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://credentials.example.com/reduced_identity_credential"] },
          "claims": [
            {"path": ["family_name"]},
            {"path": ["given_name"]}
          ]
        },
        {
          "id": "pid_reduced_cred_2",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://cred.example/residence_credential"] },
          "claims": [
            {"path": ["postal_code"]},
            {"path": ["locality"]},
            {"path": ["region"]}
          ]
        },
        {
          "id": "nice_to_have",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://company.example/company_rewards"] },
          "claims": [
            {"path": ["rewards_number"]}
          ]
        }
      ],
      "credential_sets": [
        {
          "options": [
            [ "pid" ],
            [ "other_pid" ],
            [ "pid_reduced_cred_1", "pid_reduced_cred_2" ]
          ]
        },
        {
          "required": false,
          "options": [
            [ "nice_to_have" ]
          ]
        }
      ]
    })
}

#[test]
fn spec_credentials_alternatives_query() {
    let query = DcqlQuery::from_json(&credentials_alternatives()).unwrap();
    let sets = query.credential_sets.as_ref().unwrap();
    assert!(sets[0].required);
    assert!(!sets[1].required);
}

/// Appendix D, `value_matching_simple.json`.
#[test]
fn spec_value_matching_query() {
    let query = DcqlQuery::parse(
        r#"{
          "credentials": [
            {
              "id": "my_credential",
              "format": "dc+sd-jwt",
              "meta": { "vct_values": [ "https://credentials.example.com/identity_credential" ] },
              "claims": [
                  { "path": ["family_name"], "values": ["Doe"] },
                  {"path": ["given_name"]},
                  {"path": ["address", "street_address"]},
                  { "path": ["postal_code"], "values": ["90210", "90211"] }
              ]
            }
          ]
        }"#,
    )
    .unwrap();
    let claims = query.credentials[0].claims.as_ref().unwrap();
    assert_eq!(claims[3].values.as_deref(), Some(&[ClaimValue::from("90210"), ClaimValue::from("90211")][..]));
}

/// Appendix D, `multi_credentials.json`: valid DCQL, but its mdoc query is refused by name.
#[test]
fn spec_multi_credentials_query_refuses_mdoc() {
    let query = json!({
      "credentials": [
        {
          "id": "pid",
          "format": "dc+sd-jwt",
          "meta": { "vct_values": ["https://credentials.example.com/identity_credential"] },
          "claims": [
            {"path": ["given_name"]},
            {"path": ["family_name"]},
            {"path": ["address", "street_address"]}
          ]
        },
        {
          "id": "mdl",
          "format": "mso_mdoc",
          "meta": { "doctype_value": "org.iso.7367.1.mVRC" },
          "claims": [
            {"path": ["org.iso.7367.1", "vehicle_holder"]},
            {"path": ["org.iso.18013.5.1", "given_name"]}
          ]
        }
      ]
    });
    let error = refused(query);
    assert!(
        matches!(&error, Oid4vpError::UnsupportedFormat { credential_id, format } if credential_id == "mdl" && format == "mso_mdoc")
    );
    assert!(error.to_string().contains("only dc+sd-jwt is supported"));
}

// ---- DCQL refusals, one per rule ---------------------------------------------------------------

#[test]
fn refuses_empty_credentials() {
    assert!(matches!(refused(json!({"credentials": []})), Oid4vpError::EmptyCredentials));
}

#[test]
fn refuses_missing_credentials_member() {
    assert!(matches!(refused(json!({"credential_sets": []})), Oid4vpError::MalformedJson { .. }));
}

#[test]
fn refuses_bad_credential_ids() {
    for id in ["", "my credential", "é", "a.b"] {
        let query = json!({"credentials": [{"id": id, "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}}]});
        assert!(matches!(refused(query), Oid4vpError::InvalidCredentialId { .. }), "{id:?}");
    }
}

#[test]
fn refuses_duplicate_credential_ids() {
    let c = json!({"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}});
    assert!(matches!(refused(json!({"credentials": [c.clone(), c]})), Oid4vpError::DuplicateCredentialId { .. }));
}

#[test]
fn refuses_missing_or_empty_vct_values() {
    let query = json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {}}]});
    assert!(matches!(refused(query), Oid4vpError::MissingVctValues { .. }));
    let query = json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": []}}]});
    assert!(matches!(refused(query), Oid4vpError::MissingVctValues { .. }));
}

#[test]
fn refuses_missing_meta() {
    let query = json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt"}]});
    assert!(matches!(refused(query), Oid4vpError::MalformedJson { .. }));
}

#[test]
fn refuses_empty_claims() {
    assert!(matches!(refused(one_credential(json!({"claims": []}))), Oid4vpError::EmptyClaims { .. }));
}

#[test]
fn refuses_duplicate_claim_ids() {
    let query = one_credential(json!({"claims": [{"id": "a", "path": ["x"]}, {"id": "a", "path": ["y"]}]}));
    assert!(matches!(refused(query), Oid4vpError::DuplicateClaimId { claim_id, .. } if claim_id == "a"));
}

#[test]
fn refuses_invalid_claim_ids() {
    let query = one_credential(json!({"claims": [{"id": "a b", "path": ["x"]}]}));
    assert!(matches!(refused(query), Oid4vpError::InvalidClaimId { .. }));
}

#[test]
fn refuses_duplicate_claim_paths() {
    let query = one_credential(json!({"claims": [{"path": ["x"]}, {"path": ["x"]}]}));
    assert!(matches!(refused(query), Oid4vpError::DuplicateClaimPath { .. }));
}

#[test]
fn refuses_claim_sets_when_a_claim_has_no_id() {
    let query = one_credential(json!({"claims": [{"id": "a", "path": ["x"]}, {"path": ["y"]}], "claim_sets": [["a"]]}));
    assert!(matches!(refused(query), Oid4vpError::ClaimWithoutId { .. }));
}

#[test]
fn refuses_claim_sets_with_unknown_ids() {
    let query = one_credential(json!({"claims": [{"id": "a", "path": ["x"]}], "claim_sets": [["a", "z"]]}));
    assert!(matches!(refused(query), Oid4vpError::UnknownClaimId { claim_id, .. } if claim_id == "z"));
}

#[test]
fn refuses_claim_sets_without_claims() {
    let query = one_credential(json!({"claim_sets": [["a"]]}));
    assert!(matches!(refused(query), Oid4vpError::ClaimSetsWithoutClaims { .. }));
}

#[test]
fn refuses_empty_claim_sets() {
    let query = one_credential(json!({"claims": [{"id": "a", "path": ["x"]}], "claim_sets": []}));
    assert!(matches!(refused(query), Oid4vpError::EmptyClaimSet { .. }));
    let query = one_credential(json!({"claims": [{"id": "a", "path": ["x"]}], "claim_sets": [[]]}));
    assert!(matches!(refused(query), Oid4vpError::EmptyClaimSet { .. }));
}

#[test]
fn refuses_values_of_other_types() {
    for values in [json!([{"a": 1}]), json!([1.5]), json!([null]), json!([["x"]]), json!("x")] {
        let query = one_credential(json!({"claims": [{"path": ["x"], "values": values}]}));
        assert!(matches!(refused(query), Oid4vpError::InvalidClaimValue { .. }), "{values}");
    }
    let query = one_credential(json!({"claims": [{"path": ["x"], "values": []}]}));
    assert!(matches!(refused(query), Oid4vpError::EmptyValues { .. }));
    // Strings, integers and booleans are fine.
    DcqlQuery::from_json(&one_credential(json!({"claims": [{"path": ["x"], "values": ["a", 7, -2, true]}]}))).unwrap();
}

#[test]
fn refuses_invalid_paths() {
    for bad in [json!([]), json!([-1]), json!([true]), json!([1.5]), json!("x"), json!([{"a": 1}])] {
        let query = one_credential(json!({"claims": [{"path": bad}]}));
        assert!(matches!(refused(query), Oid4vpError::InvalidClaimPath { .. }), "{bad}");
    }
}

#[test]
fn refuses_bad_credential_sets() {
    let mut query = one_credential(json!({}));
    query["credential_sets"] = json!([]);
    assert!(matches!(refused(query.clone()), Oid4vpError::EmptyCredentialSets));
    query["credential_sets"] = json!([{"options": []}]);
    assert!(matches!(refused(query.clone()), Oid4vpError::EmptyCredentialSetOption { set_index: 0 }));
    query["credential_sets"] = json!([{"options": [["pid"]]}, {"options": [[]]}]);
    assert!(matches!(refused(query.clone()), Oid4vpError::EmptyCredentialSetOption { set_index: 1 }));
    query["credential_sets"] = json!([{"options": [["pid", "nope"]]}]);
    assert!(matches!(refused(query), Oid4vpError::UnknownCredentialId { id } if id == "nope"));
}

#[test]
fn refuses_oversized_query_text() {
    let text = format!("{{\"credentials\": [], \"pad\": \"{}\"}}", "x".repeat(70_000));
    assert!(matches!(DcqlQuery::parse(&text), Err(Oid4vpError::TooLarge { .. })));
}

#[test]
fn builder_builds_what_the_json_says() {
    let built = DcqlQuery::builder()
        .credential(
            CredentialQuery::sd_jwt_vc("enrolment", [VCT])
                .claim(ClaimPath::claim("group"))
                .claim_with_id("g", ClaimPath::claim("school")),
        )
        .build()
        .unwrap();
    let parsed = DcqlQuery::from_json(&json!({
        "credentials": [{
            "id": "enrolment", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
            "claims": [{"path": ["group"]}, {"id": "g", "path": ["school"]}]
        }]
    }))
    .unwrap();
    assert_eq!(built, parsed);
    // build() validates.
    let invalid = DcqlQuery::builder()
        .credential(CredentialQuery::sd_jwt_vc("a", [VCT]).claim_with_id("x", ClaimPath::claim("n")).claim_set(["y"]))
        .build();
    assert!(matches!(invalid, Err(Oid4vpError::UnknownClaimId { .. })));
    assert!(matches!(DcqlQuery::builder().build(), Err(Oid4vpError::EmptyCredentials)));
    let with_sets = DcqlQuery::builder()
        .credential(CredentialQuery::sd_jwt_vc("a", [VCT]))
        .credential(CredentialQuery::sd_jwt_vc("b", [VCT]).multiple(true))
        .credential_set(CredentialSetQuery::required([["a"], ["b"]]))
        .credential_set(CredentialSetQuery::optional([["b"]]))
        .build()
        .unwrap();
    assert_eq!(
        with_sets.to_json()["credential_sets"],
        json!([{"options": [["a"], ["b"]]}, {"options": [["b"]], "required": false}])
    );
    assert_eq!(with_sets.to_json()["credentials"][1]["multiple"], json!(true));
}

// ---- Matching (wallet) --------------------------------------------------------------------------

/// The holder-binding claim every fixture of a bound credential carries.
fn cnf() -> Value {
    json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}})
}

fn bound(mut claims: Value) -> Value {
    claims["cnf"] = cnf();
    claims
}

fn pupil() -> Value {
    json!({
        "iss": "did:web:school.example", "vct": VCT, "cnf": cnf(),
        "given_name": "Sanne", "family_name": "de Vries", "birth_date": "2014-03-01", "group": "7B",
        "age_over_12": true,
        "address": {"street_address": "Schoolstraat 1", "locality": "Utrecht", "postal_code": "3511AA"},
        "nationalities": ["NL", "BE"],
        "degrees": [{"type": "swimming A", "year": 2020}, {"type": "swimming B", "year": 2021}]
    })
}

fn match_one(query: &DcqlQuery, claims: &Value) -> Option<Vec<ClaimPath>> {
    let result = query.match_credentials(&[WalletCredential::new(7, VCT, claims)]).unwrap();
    let answer = result.answer?;
    Some(answer.values().next().unwrap()[0].disclose.clone())
}

fn query_with(claims: Value) -> DcqlQuery {
    DcqlQuery::from_json(&one_credential(json!({ "claims": claims }))).unwrap()
}

#[test]
fn matches_simple_claims_and_discloses_only_them() {
    let query = query_with(json!([{"path": ["group"]}, {"path": ["age_over_12"]}]));
    let result = query.match_credentials(&[WalletCredential::new(7, VCT, &pupil())]).unwrap();
    assert!(result.is_satisfiable());
    assert!(result.unsatisfied.is_empty());
    assert_eq!(result.candidates("pid")[0].handle, 7);
    assert_eq!(result.candidates("pid")[0].disclose, [ClaimPath::claim("group"), ClaimPath::claim("age_over_12")]);
}

#[test]
fn matches_nested_paths() {
    let query = query_with(json!([{"path": ["address", "locality"]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap(), [path(json!(["address", "locality"]))]);
    let query = query_with(json!([{"path": ["address", "country"]}]));
    assert_eq!(match_one(&query, &pupil()), None);
}

#[test]
fn matches_array_elements_and_null_paths() {
    let query = query_with(json!([{"path": ["nationalities", 1]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap(), [path(json!(["nationalities", 1]))]);
    let query = query_with(json!([{"path": ["nationalities", 5]}]));
    assert_eq!(match_one(&query, &pupil()), None);
    // null: every element; disclosed as asked.
    let query = query_with(json!([{"path": ["degrees", null, "type"]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap(), [path(json!(["degrees", null, "type"]))]);
    // §7.1.1 step 2: a string component on a non-object is an error, so no match.
    let query = query_with(json!([{"path": ["nationalities", null, "x"]}]));
    assert_eq!(match_one(&query, &pupil()), None);
    // null with values: only the matching elements are disclosed.
    let query = query_with(json!([{"path": ["nationalities", null], "values": ["BE"]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap(), [path(json!(["nationalities", 1]))]);
}

#[test]
fn values_mismatch_is_treated_as_absent() {
    let query = query_with(json!([{"path": ["group"], "values": ["8A", "8B"]}]));
    let result = query.match_credentials(&[WalletCredential::new(0, VCT, &pupil())]).unwrap();
    assert!(!result.is_satisfiable());
    assert_eq!(result.unsatisfied, ["pid"]);
    // Type and value both: "true" is not true, 2014 is not "2014".
    let query = query_with(json!([{"path": ["age_over_12"], "values": ["true"]}]));
    assert_eq!(match_one(&query, &pupil()), None);
    let query = query_with(json!([{"path": ["age_over_12"], "values": [false, true]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap(), [ClaimPath::claim("age_over_12")]);
    let query = query_with(json!([{"path": ["degrees", 0, "year"]}, {"path": ["group"], "values": ["7B"]}]));
    assert_eq!(match_one(&query, &pupil()).unwrap().len(), 2);
}

#[test]
fn claim_sets_fall_back_to_the_second_option() {
    // Appendix D claims_alternatives: the first option needs locality and region.
    let mut query = claims_alternatives();
    query["credentials"][0]["meta"]["vct_values"] = json!([VCT]);
    let query = DcqlQuery::from_json(&query).unwrap();
    let without_region = bound(json!({"family_name": "de Vries", "postal_code": "3511AA", "locality": "Utrecht",
                                "date_of_birth": "2014-03-01", "nickname": "S"}));
    assert_eq!(
        match_one(&query, &without_region).unwrap(),
        [ClaimPath::claim("family_name"), ClaimPath::claim("postal_code"), ClaimPath::claim("date_of_birth")]
    );
    let mut with_region = without_region.clone();
    with_region["region"] = json!("Utrecht");
    assert_eq!(
        match_one(&query, &with_region).unwrap(),
        [
            ClaimPath::claim("family_name"),
            ClaimPath::claim("locality"),
            ClaimPath::claim("region"),
            ClaimPath::claim("date_of_birth")
        ]
    );
    assert_eq!(match_one(&query, &bound(json!({"family_name": "x"}))), None);
}

#[test]
fn credential_sets_optional_may_stay_unanswered_required_may_not() {
    let query = DcqlQuery::from_json(&credentials_alternatives()).unwrap();
    let reduced = bound(json!({"family_name": "Doe", "given_name": "J"}));
    let residence = bound(json!({"postal_code": "1", "locality": "L", "region": "R"}));
    let credentials = [
        WalletCredential::new(1, "https://credentials.example.com/reduced_identity_credential", &reduced),
        WalletCredential::new(2, "https://cred.example/residence_credential", &residence),
    ];
    let result = query.match_credentials(&credentials).unwrap();
    assert_eq!(result.unsatisfied, ["pid", "other_pid", "nice_to_have"]);
    let answer = result.answer.unwrap();
    assert_eq!(answer.keys().collect::<Vec<_>>(), ["pid_reduced_cred_1", "pid_reduced_cred_2"]);
    assert_eq!(answer["pid_reduced_cred_2"][0].handle, 2);

    // The required set cannot be met with the residence credential alone: nothing is returned.
    let result = query.match_credentials(&credentials[1..]).unwrap();
    assert!(!result.is_satisfiable());

    // With a rewards card the optional set is answered too.
    let rewards = bound(json!({"rewards_number": 12}));
    let mut more = credentials.to_vec();
    more.push(WalletCredential::new(3, "https://company.example/company_rewards", &rewards));
    let answer = query.match_credentials(&more).unwrap().answer.unwrap();
    assert!(answer.contains_key("nice_to_have"));
}

#[test]
fn credential_sets_prefer_the_first_satisfiable_option() {
    let query = DcqlQuery::from_json(&credentials_alternatives()).unwrap();
    let pid = bound(json!({"family_name": "Doe", "given_name": "J", "address": {"street_address": "S"}}));
    let reduced = bound(json!({"family_name": "Doe", "given_name": "J"}));
    let residence = bound(json!({"postal_code": "1", "locality": "L", "region": "R"}));
    let credentials = [
        WalletCredential::new(1, "https://credentials.example.com/reduced_identity_credential", &reduced),
        WalletCredential::new(2, "https://cred.example/residence_credential", &residence),
        WalletCredential::new(3, "https://othercredentials.example/pid", &pid),
    ];
    let answer = query.match_credentials(&credentials).unwrap().answer.unwrap();
    assert_eq!(answer.keys().collect::<Vec<_>>(), ["other_pid"]);
}

#[test]
fn multiple_returns_every_candidate_otherwise_the_first() {
    let a = bound(json!({"group": "7B"}));
    let b = bound(json!({"group": "3A"}));
    let wrong_type = bound(json!({"group": "1"}));
    let credentials = [
        WalletCredential::new(10, VCT, &a),
        WalletCredential::new(11, "https://other.example/vct", &wrong_type),
        WalletCredential::new(12, VCT, &b),
    ];
    let single = query_with(json!([{"path": ["group"]}]));
    let result = single.match_credentials(&credentials).unwrap();
    assert_eq!(result.candidates("pid").iter().map(|c| c.handle).collect::<Vec<_>>(), [10, 12]);
    assert_eq!(result.answer.unwrap()["pid"].len(), 1);

    let mut multiple = single.clone();
    multiple.credentials[0].multiple = true;
    let answer = multiple.match_credentials(&credentials).unwrap().answer.unwrap();
    assert_eq!(answer["pid"].iter().map(|c| c.handle).collect::<Vec<_>>(), [10, 12]);
}

#[test]
fn holder_binding_requires_cnf() {
    // Appendix B.3: without `cnf` the credential cannot answer a query requiring holder binding.
    let mut unbound = pupil();
    unbound.as_object_mut().unwrap().remove("cnf");
    let query = query_with(json!([{"path": ["group"]}]));
    assert_eq!(match_one(&query, &unbound), None);
    let mut relaxed = query.clone();
    relaxed.credentials[0].require_cryptographic_holder_binding = false;
    assert_eq!(match_one(&relaxed, &unbound).unwrap(), [ClaimPath::claim("group")]);
}

#[test]
fn a_query_without_claims_discloses_nothing() {
    let query = DcqlQuery::from_json(&one_credential(json!({}))).unwrap();
    assert_eq!(match_one(&query, &pupil()).unwrap(), Vec::<ClaimPath>::new());
}

// ---- check_response (verifier) ------------------------------------------------------------------

fn presented(id: &str, list: Vec<PresentedCredential>) -> BTreeMap<String, Vec<PresentedCredential>> {
    BTreeMap::from([(id.to_owned(), list)])
}

#[test]
fn a_matching_response_passes() {
    let query = query_with(json!([{"path": ["group"]}, {"path": ["address", "locality"]}]));
    let claims = json!({"iss": "did:web:s", "vct": VCT, "iat": 1, "exp": 2, "cnf": {}, "status": {},
                        "group": "7B", "address": {"locality": "Utrecht"}});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, claims)])).unwrap();
    assert!(report.is_satisfied(), "{report:?}");
    assert!(report.extra_claims.is_empty(), "{report:?}");
    assert_eq!(report.answered, ["pid"]);
}

#[test]
fn a_missing_required_claim_fails() {
    let query = query_with(json!([{"path": ["group"]}, {"path": ["age_over_12"]}]));
    let report =
        query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, json!({"group": "7B"}))])).unwrap();
    assert!(!report.is_satisfied());
    assert_eq!(
        report.failures,
        [ResponseFailure::MissingClaim { query_id: "pid".into(), index: 0, path: ClaimPath::claim("age_over_12") }]
    );
    assert!(report.answered.is_empty());
}

#[test]
fn extra_claims_are_reported_apart_from_failures() {
    let query = query_with(json!([{"path": ["group"]}, {"path": ["address", "street_address"]}]));
    let claims = json!({"vct": VCT, "group": "7B", "birth_date": "2014-03-01",
                        "address": {"street_address": "Schoolstraat 1", "locality": "Utrecht"}});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, claims)])).unwrap();
    assert!(report.is_satisfied());
    let extra: Vec<String> = report.extra_claims.iter().map(|e| e.path.to_string()).collect();
    assert_eq!(extra, [r#"["address","locality"]"#, r#"["birth_date"]"#]);
    assert_eq!(report.extra_claims[0].query_id, "pid");
}

#[test]
fn extra_array_elements_are_reported() {
    let query = query_with(json!([{"path": ["nationalities", 0]}]));
    let claims = json!({"nationalities": ["NL", "BE"]});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, claims)])).unwrap();
    assert!(report.is_satisfied());
    assert_eq!(report.extra_claims[0].path, path(json!(["nationalities", 1])));
    // A null path covers every element.
    let query = query_with(json!([{"path": ["nationalities", null]}]));
    let claims = json!({"nationalities": ["NL", "BE"]});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, claims)])).unwrap();
    assert!(report.extra_claims.is_empty());
}

#[test]
fn a_wrong_vct_fails() {
    let query = query_with(json!([{"path": ["group"]}]));
    let report = query
        .check_response(&presented(
            "pid",
            vec![PresentedCredential::new("https://evil.example/vct", json!({"group": "7B"}))],
        ))
        .unwrap();
    assert!(
        matches!(&report.failures[..], [ResponseFailure::WrongVct { vct, .. }] if vct == "https://evil.example/vct")
    );
}

#[test]
fn a_value_mismatch_fails_without_naming_the_value() {
    let query = query_with(json!([{"path": ["group"], "values": ["8A"]}]));
    let report = query
        .check_response(&presented("pid", vec![PresentedCredential::new(VCT, json!({"group": "Sanne-7B"}))]))
        .unwrap();
    assert!(matches!(&report.failures[..], [ResponseFailure::ValueMismatch { .. }]));
    let message = report.failures[0].to_string();
    assert!(!message.contains("Sanne") && !message.contains("8A"), "{message}");
}

#[test]
fn unanswered_and_unknown_queries_fail() {
    let query = query_with(json!([{"path": ["group"]}]));
    let report = query.check_response(&BTreeMap::new()).unwrap();
    assert_eq!(report.failures, [ResponseFailure::MissingCredential { query_id: "pid".into() }]);
    let report =
        query.check_response(&presented("other", vec![PresentedCredential::new(VCT, json!({"group": "7B"}))])).unwrap();
    assert!(report.failures.contains(&ResponseFailure::UnknownCredentialQuery { query_id: "other".into() }));
    let report = query.check_response(&presented("pid", vec![])).unwrap();
    assert!(report.failures.contains(&ResponseFailure::EmptyPresentationList { query_id: "pid".into() }));
    let two = vec![
        PresentedCredential::new(VCT, json!({"group": "7B"})),
        PresentedCredential::new(VCT, json!({"group": "7C"})),
    ];
    let report = query.check_response(&presented("pid", two)).unwrap();
    assert!(report.failures.contains(&ResponseFailure::MultipleNotAllowed { query_id: "pid".into(), count: 2 }));
}

#[test]
fn credential_sets_on_the_verifier_side() {
    let query = DcqlQuery::from_json(&credentials_alternatives()).unwrap();
    let pid = PresentedCredential::new(
        "https://credentials.example.com/identity_credential",
        json!({"given_name": "J", "family_name": "D", "address": {"street_address": "S"}}),
    );
    // The optional nice_to_have is not answered: fine.
    let report = query.check_response(&presented("pid", vec![pid])).unwrap();
    assert!(report.is_satisfied(), "{report:?}");
    // Only the optional one: the required set fails.
    let rewards = PresentedCredential::new("https://company.example/company_rewards", json!({"rewards_number": 1}));
    let report = query.check_response(&presented("nice_to_have", vec![rewards])).unwrap();
    assert_eq!(report.failures, [ResponseFailure::CredentialSetUnsatisfied { set_index: 0 }]);
}

#[test]
fn claim_sets_on_the_verifier_side() {
    let mut query = claims_alternatives();
    query["credentials"][0]["meta"]["vct_values"] = json!([VCT]);
    let query = DcqlQuery::from_json(&query).unwrap();
    let second_option = json!({"family_name": "D", "postal_code": "1", "date_of_birth": "x"});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, second_option)])).unwrap();
    assert!(report.is_satisfied() && report.extra_claims.is_empty(), "{report:?}");
    let neither = json!({"family_name": "D"});
    let report = query.check_response(&presented("pid", vec![PresentedCredential::new(VCT, neither)])).unwrap();
    assert!(matches!(&report.failures[..], [ResponseFailure::ClaimSetUnsatisfied { .. }]));
}

// ---- Authorization request and request object -------------------------------------------------

struct Verifier {
    key: SigningKey,
    did: Did,
    kid: DidUrl,
}

fn verifier() -> Verifier {
    let key = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let did = did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()));
    let kid = did.with_fragment(did.method_specific_id()).unwrap();
    Verifier { key, did, kid }
}

fn request_for(v: &Verifier) -> AuthorizationRequest {
    let query = DcqlQuery::builder()
        .credential(CredentialQuery::sd_jwt_vc("enrolment", [VCT]).claim(ClaimPath::claim("group")))
        .build()
        .unwrap();
    AuthorizationRequest::new(&v.did, "https://school.example/oid4vp/response", random_nonce(), query)
        .with_state("session-4f1c9a")
        .with_extension("example_profile", json!({"purpose": "newsletter", "text": {"nl": "Nieuwsbrief"}}))
        .unwrap()
}

fn verify(jwt: &str, now: i64) -> Result<AuthorizationRequest, Error> {
    UnverifiedRequestObject::parse(jwt)?.verify_with_resolver(&Resolver::offline(), now, 60)
}

/// Signs arbitrary claims as a request object (for hostile inputs).
fn sign_raw(signer: &SigningKey, header: &Header, claims: &Value) -> String {
    jws::sign_compact_json(header, claims, signer).unwrap()
}

fn raw_claims(request: &AuthorizationRequest, did: &Did) -> Value {
    let mut claims = serde_json::to_value(request).unwrap();
    claims["iss"] = json!(did.as_str());
    claims["aud"] = json!("https://self-issued.me/v2");
    claims["iat"] = json!(NOW);
    claims["exp"] = json!(NOW + 300);
    claims
}

fn good_header(v: &Verifier) -> Header {
    Header::new().with_typ("oauth-authz-req+jwt").with_kid(v.kid.as_str())
}

#[test]
fn request_object_round_trip() {
    let v = verifier();
    let request = request_for(&v);
    let jwt = request.sign(&v.key, &v.kid, NOW, 300).unwrap();
    let parsed = UnverifiedRequestObject::parse(&jwt).unwrap();
    assert_eq!(parsed.header().typ(), Some("oauth-authz-req+jwt"));
    assert_eq!(parsed.header().kid(), Some(v.kid.as_str()));
    let received = verify(&jwt, NOW + 10).unwrap();
    assert_eq!(received, request);
    assert!(received.client_id.starts_with("decentralized_identifier:did:key:"));

    // The claims carry the JAR members and the extension member as documented.
    let payload: Value = serde_json::from_slice(&base64url::decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(payload["iss"], json!(v.did.as_str()));
    assert_eq!(payload["aud"], json!("https://self-issued.me/v2"));
    assert_eq!(payload["exp"], json!(NOW + 300));
    assert_eq!(payload["response_mode"], json!("direct_post"));
    assert_eq!(payload["example_profile"]["purpose"], json!("newsletter"));
    assert_eq!(payload["example_profile"]["text"]["nl"], json!("Nieuwsbrief"));
    assert_eq!(received.extension("example_profile"), request.extension("example_profile"));
    // The registered JWT claims are the request object's, not extensions.
    assert!(received.extension("iss").is_none() && received.extension("exp").is_none());

    // verify_with with a key given directly.
    let direct = UnverifiedRequestObject::parse(&jwt)
        .unwrap()
        .verify_with(
            |_, did| {
                assert_eq!(did, Some(v.did.as_str()));
                Ok(v.key.verifying_key().clone())
            },
            NOW,
            0,
        )
        .unwrap();
    assert_eq!(direct, request);
}

#[test]
fn request_object_with_wrong_typ_is_refused() {
    let v = verifier();
    let claims = raw_claims(&request_for(&v), &v.did);
    for header in [Header::new().with_kid(v.kid.as_str()), Header::new().with_typ("JWT").with_kid(v.kid.as_str())] {
        let jwt = sign_raw(&v.key, &header, &claims);
        assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::WrongRequestObjectTyp { .. }))));
    }
}

#[test]
fn expired_or_future_request_objects_are_refused() {
    let v = verifier();
    let jwt = request_for(&v).sign(&v.key, &v.kid, NOW, 300).unwrap();
    assert!(matches!(verify(&jwt, NOW + 300 + 61), Err(Error::Oid4vp(Oid4vpError::RequestObjectExpired { .. }))));
    assert!(verify(&jwt, NOW + 300 + 59).is_ok()); // within the skew
    assert!(matches!(verify(&jwt, NOW - 61), Err(Error::Oid4vp(Oid4vpError::RequestObjectIssuedInFuture { .. }))));
    // Neither exp nor iat is required (RFC 9101, OpenID4VP 1.0 §5): a request object a verifier
    // library builds without them is read; one that is not a number is refused.
    let request = request_for(&v);
    let mut claims = raw_claims(&request, &v.did);
    claims.as_object_mut().unwrap().remove("exp");
    claims.as_object_mut().unwrap().remove("iat");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert_eq!(verify(&jwt, NOW).unwrap().nonce, request.nonce);
    let mut claims = raw_claims(&request_for(&v), &v.did);
    claims["exp"] = json!("tomorrow");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::MissingTimeClaim { claim: "exp" }))));
    assert!(matches!(request_for(&v).sign(&v.key, &v.kid, NOW, 0), Err(Error::Oid4vp(Oid4vpError::InvalidLifetime))));
}

#[test]
fn a_kid_of_another_did_is_refused() {
    let v = verifier();
    let other = verifier();
    let request = request_for(&v);
    // sign() refuses to sign for another DID.
    assert!(matches!(
        request.sign(&other.key, &other.kid, NOW, 300),
        Err(Error::Oid4vp(Oid4vpError::ClientIdKidMismatch { .. }))
    ));
    // A hand-made object signed by the other key, claiming the verifier's client_id.
    let jwt = sign_raw(&other.key, &good_header(&other), &raw_claims(&request, &v.did));
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::ClientIdKidMismatch { .. }))));
    // The verifier's kid but the other key's signature.
    let jwt = sign_raw(&other.key, &good_header(&v), &raw_claims(&request, &v.did));
    assert!(matches!(verify(&jwt, NOW), Err(Error::Did(_))));
    // No kid, or a kid that is not a DID URL.
    let jwt = sign_raw(&v.key, &Header::new().with_typ("oauth-authz-req+jwt"), &raw_claims(&request, &v.did));
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::MissingKid))));
    let header = Header::new().with_typ("oauth-authz-req+jwt").with_kid("key-1");
    let jwt = sign_raw(&v.key, &header, &raw_claims(&request, &v.did));
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::InvalidKid))));
}

#[test]
fn a_tampered_request_object_is_refused() {
    let v = verifier();
    let jwt = request_for(&v).sign(&v.key, &v.kid, NOW, 300).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload: Value = serde_json::from_slice(&base64url::decode(parts[1]).unwrap()).unwrap();
    payload["response_uri"] = json!("https://attacker.example/collect");
    let tampered = format!("{}.{}.{}", parts[0], base64url::encode(payload.to_string()), parts[2]);
    assert!(matches!(verify(&tampered, NOW), Err(Error::Did(_))));
}

#[test]
fn request_rules_are_enforced_at_sign_and_verify() {
    let v = verifier();
    type Case = (fn(&mut AuthorizationRequest), fn(&Oid4vpError) -> bool);
    let cases: Vec<Case> = vec![
        (|r| r.response_uri = "http://school.example/response".into(), |e| matches!(e, Oid4vpError::NotHttps { .. })),
        (|r| r.response_uri = "https://user@school.example/r".into(), |e| matches!(e, Oid4vpError::NotHttps { .. })),
        (|r| r.response_uri = "https://school.example/r#x".into(), |e| matches!(e, Oid4vpError::NotHttps { .. })),
        (|r| r.nonce = "n-0S6_WzA2Mj".into(), |e| matches!(e, Oid4vpError::InvalidNonce { .. })),
        (|r| r.nonce = "aaaaaaaaaaaaaaaaaaaaaaaa".into(), |e| matches!(e, Oid4vpError::InvalidNonce { .. })),
        (|r| r.nonce = "0S6_WzA2Mj 0S6_WzA2Mj".into(), |e| matches!(e, Oid4vpError::InvalidNonce { .. })),
        (|r| r.state = Some("a b".into()), |e| matches!(e, Oid4vpError::InvalidState)),
        (|r| r.response_mode = "fragment".into(), |e| matches!(e, Oid4vpError::UnsupportedResponseMode { .. })),
        (|r| r.response_type = "code".into(), |e| matches!(e, Oid4vpError::UnsupportedResponseType { .. })),
        (
            |r| r.client_id = "redirect_uri:https://school.example/cb".into(),
            |e| matches!(e, Oid4vpError::InvalidClientId { .. }),
        ),
        (|r| r.dcql_query.credentials.clear(), |e| matches!(e, Oid4vpError::EmptyCredentials)),
    ];
    for (i, (break_it, expected)) in cases.into_iter().enumerate() {
        let mut request = request_for(&v);
        break_it(&mut request);
        match request.validate() {
            Err(e) => assert!(expected(&e), "case {i}: {e:?}"),
            Ok(()) => panic!("case {i}: validate accepted"),
        }
        assert!(request.sign(&v.key, &v.kid, NOW, 300).is_err(), "case {i}: sign accepted");
        // A hand-signed object with the same flaw is refused by the wallet.
        let jwt = sign_raw(&v.key, &good_header(&v), &raw_claims(&request, &v.did));
        match verify(&jwt, NOW) {
            Err(Error::Oid4vp(e)) => {
                assert!(expected(&e) || matches!(e, Oid4vpError::InvalidClientId { .. }), "case {i}: {e:?}")
            }
            other => panic!("case {i}: {other:?}"),
        }
    }
}

#[test]
fn redirect_uri_scope_and_audience_are_checked() {
    let v = verifier();
    let request = request_for(&v);
    let mut claims = raw_claims(&request, &v.did);
    claims["redirect_uri"] = json!("https://school.example/cb");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::RedirectUriNotAllowed))));
    let mut claims = raw_claims(&request, &v.did);
    claims["scope"] = json!("openid");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::ScopeNotSupported))));
    let mut claims = raw_claims(&request, &v.did);
    claims["aud"] = json!("https://wallet.example");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::WrongAudience { .. }))));
    // Without aud (RFC 9101 does not require one; §5.8 only says what it must be): read.
    let mut claims = raw_claims(&request, &v.did);
    claims.as_object_mut().unwrap().remove("aud");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(verify(&jwt, NOW).is_ok_and(|read| read.nonce == request.nonce));
    // aud as an array holding the static-discovery audience: read.
    let mut claims = raw_claims(&request, &v.did);
    claims["aud"] = json!(["https://self-issued.me/v2"]);
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(verify(&jwt, NOW).is_ok());
    let mut claims = raw_claims(&request, &v.did);
    claims["dcql_query"]["credentials"][0]["format"] = json!("mso_mdoc");
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    assert!(matches!(verify(&jwt, NOW), Err(Error::Oid4vp(Oid4vpError::UnsupportedFormat { .. }))));
    // iss is ignored (§5); unknown parameters are kept as extensions for the profile that
    // knows them, and change nothing else.
    let mut claims = raw_claims(&request, &v.did);
    claims["iss"] = json!("did:example:someone-else");
    claims["verifier_info"] = json!([{"format": "jwt", "data": "x"}]);
    let jwt = sign_raw(&v.key, &good_header(&v), &claims);
    let mut received = verify(&jwt, NOW).unwrap();
    assert_eq!(received.extension("verifier_info"), Some(&json!([{"format": "jwt", "data": "x"}])));
    assert!(received.extension("iss").is_none());
    received.extensions.remove("verifier_info");
    assert_eq!(received, request);
}

#[test]
fn extension_members_cannot_take_the_name_of_a_request_member() {
    let v = verifier();
    for name in ["client_id", "nonce", "dcql_query", "state", "redirect_uri", "scope", "iss", "exp", "aud"] {
        let error = request_for(&v).with_extension(name, json!("x")).unwrap_err();
        assert!(matches!(&error, Oid4vpError::ReservedExtension { name: found } if found == name), "{error}");
    }
    let request = request_for(&v).with_extension("other_profile", json!({"a": 1})).unwrap();
    assert_eq!(request.extensions.len(), 2);
    assert_eq!(request.extension("other_profile"), Some(&json!({"a": 1})));
}

// ---- Authorization request URIs and form encoding ----------------------------------------------

#[test]
fn uri_by_value_and_by_reference() {
    let v = verifier();
    let request = request_for(&v);
    let jwt = request.sign(&v.key, &v.kid, NOW, 300).unwrap();
    let by_value = AuthorizationRequestUri::ByValue { client_id: request.client_id.clone(), request_jwt: jwt.clone() };
    let uri = by_value.to_uri();
    assert!(uri.starts_with("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A"));
    let parsed = AuthorizationRequestUri::parse(&uri).unwrap();
    assert_eq!(parsed, by_value);
    parsed.check_client_id(&verify(&jwt, NOW).unwrap()).unwrap();

    let by_reference = AuthorizationRequestUri::ByReference {
        client_id: request.client_id.clone(),
        request_uri: "https://school.example/oid4vp/request/abc?x=1&y=2".into(),
    };
    let uri = by_reference.to_uri();
    assert!(uri.contains("request_uri=https%3A%2F%2Fschool.example%2Foid4vp%2Frequest%2Fabc%3Fx%3D1%26y%3D2"));
    assert_eq!(AuthorizationRequestUri::parse(&uri).unwrap(), by_reference);
    // An https universal link and extra parameters (request_uri_method) are fine.
    let link =
        "https://wallet.example/authorize?client_id=x&request_uri=https%3A%2F%2Fv.example%2Fr&request_uri_method=get";
    assert!(matches!(AuthorizationRequestUri::parse(link).unwrap(), AuthorizationRequestUri::ByReference { .. }));
}

#[test]
fn uri_refusals() {
    let cases = [
        ("openid4vp://?client_id=x&request_uri=http%3A%2F%2Fv.example%2Fr", "http request_uri"),
        ("openid4vp://?client_id=x&request=a.b.c&request_uri=https%3A%2F%2Fv.example%2Fr", "both"),
        ("openid4vp://?client_id=x&response_type=vp_token&nonce=n", "neither (unsigned)"),
        ("openid4vp://?request=a.b.c", "no client_id"),
        ("openid4vp://?client_id=x&client_id=y&request=a.b.c", "duplicate client_id"),
        ("openid4vp://?client_id=x%zz&request=a.b.c", "invalid escape"),
        ("openid4vp://?client_id=x%4&request=a.b.c", "truncated escape"),
        ("openid4vp://?client_id=%FF&request=a.b.c", "invalid UTF-8"),
        ("openid4vp://?client_id=x&request=a.b.c#frag", "fragment"),
        ("javascript://?client_id=x&request=a.b.c", "scheme"),
        ("openid4vp://client_id=x", "no query"),
        ("openid4vp://?client_id=x&request=notajws", "request not a JWS"),
    ];
    for (uri, what) in cases {
        assert!(AuthorizationRequestUri::parse(uri).is_err(), "{what}: {uri}");
    }
    assert!(matches!(
        AuthorizationRequestUri::parse("openid4vp://?client_id=x&client_id=y&request=a.b.c"),
        Err(Oid4vpError::DuplicateParameter { .. })
    ));
    assert!(matches!(
        AuthorizationRequestUri::parse("openid4vp://?client_id=%FF&request=a.b.c"),
        Err(Oid4vpError::InvalidFormEncoding { .. })
    ));
    // A URI client_id that is not the request object's is caught.
    let v = verifier();
    let request = request_for(&v);
    let uri = AuthorizationRequestUri::ByReference {
        client_id: "decentralized_identifier:did:web:other.example".into(),
        request_uri: "https://v.example/r".into(),
    };
    assert!(matches!(uri.check_client_id(&request), Err(Oid4vpError::ClientIdMismatch { .. })));
}

#[test]
fn form_encoding_is_whatwg() {
    let pairs = [("a b", "x&y=z+"), ("ü", "*-._~"), ("empty", ""), ("json", r#"{"k":["v"]}"#)];
    let encoded = form::encode(&pairs);
    assert_eq!(encoded, "a+b=x%26y%3Dz%2B&%C3%BC=*-._%7E&empty=&json=%7B%22k%22%3A%5B%22v%22%5D%7D");
    let decoded = form::decode(&encoded).unwrap();
    let expected: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(decoded, expected);
    // Empty sequences are skipped; a name without '=' has an empty value; lowercase hex is fine.
    assert_eq!(
        form::decode("&&a=%c3%bc&&b&").unwrap(),
        [("a".to_string(), "ü".to_string()), ("b".to_string(), String::new())]
    );
}

// ---- Transaction data ---------------------------------------------------------------------------

#[test]
fn transaction_data_round_trip_and_hash() {
    let data = TransactionData::new("https://schooltas.nl/transaction/photo_consent", ["enrolment"])
        .with_member("photo_sha256", json!("3q2-7w"))
        .with_member("channel", json!("newsletter"));
    let encoded = data.encode().unwrap();
    assert!(!encoded.contains('=') && !encoded.contains('+') && !encoded.contains('/'));
    assert_eq!(TransactionData::decode(&encoded).unwrap(), data);
    let object: Value = serde_json::from_slice(&base64url::decode(&encoded).unwrap()).unwrap();
    assert_eq!(object["type"], "https://schooltas.nl/transaction/photo_consent");
    assert_eq!(object["credential_ids"], json!(["enrolment"]));

    // Appendix B.3.3.1: SHA-256 over the string as received, base64url without padding.
    // Known answer: SHA-256("abc").
    assert_eq!(transaction_data_hash("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    let hashes = transaction_data_hashes(std::slice::from_ref(&encoded));
    assert_eq!(hashes, [transaction_data_hash(&encoded)]);
    // Not the hash of the decoded JSON.
    assert_ne!(hashes[0], transaction_data_hash(&String::from_utf8(base64url::decode(&encoded).unwrap()).unwrap()));

    // In a request: decoded back, ids checked against the query.
    let v = verifier();
    let request = request_for(&v);
    let with_data = request.clone().with_transaction_data(&TransactionData::new("t", ["enrolment"])).unwrap();
    with_data.validate().unwrap();
    assert_eq!(with_data.decoded_transaction_data().unwrap()[0].type_, "t");
    let jwt = with_data.sign(&v.key, &v.kid, NOW, 300).unwrap();
    assert_eq!(verify(&jwt, NOW).unwrap().transaction_data, with_data.transaction_data);
    let unknown = request.clone().with_transaction_data(&TransactionData::new("t", ["other"])).unwrap();
    assert!(matches!(unknown.validate(), Err(Oid4vpError::UnknownCredentialId { .. })));
    let mut unbound = request.with_transaction_data(&TransactionData::new("t", ["enrolment"])).unwrap();
    unbound.dcql_query.credentials[0].require_cryptographic_holder_binding = false;
    assert!(matches!(unbound.validate(), Err(Oid4vpError::TransactionDataWithoutHolderBinding { .. })));
}

#[test]
fn transaction_data_is_decoded_strictly() {
    let enc = |v: Value| base64url::encode(v.to_string());
    let bad = [
        format!("{}=", enc(json!({"type": "t", "credential_ids": ["a"]}))),
        "not base64!".to_owned(),
        enc(json!(["t"])),
        enc(json!({"credential_ids": ["a"]})),
        enc(json!({"type": 1, "credential_ids": ["a"]})),
        enc(json!({"type": "t"})),
        enc(json!({"type": "t", "credential_ids": []})),
        enc(json!({"type": "t", "credential_ids": [1]})),
        enc(json!({"type": "", "credential_ids": ["a"]})),
        base64url::encode("{not json"),
    ];
    for text in &bad {
        assert!(matches!(TransactionData::decode(text), Err(Oid4vpError::InvalidTransactionData { .. })), "{text}");
    }
    let sha512_only = enc(json!({"type": "t", "credential_ids": ["a"], "transaction_data_hashes_alg": ["sha-512"]}));
    assert!(matches!(TransactionData::decode(&sha512_only), Err(Oid4vpError::UnsupportedTransactionDataHashAlg)));
    let with_sha256 =
        enc(json!({"type": "t", "credential_ids": ["a"], "transaction_data_hashes_alg": ["sha-512", "sha-256"]}));
    TransactionData::decode(&with_sha256).unwrap();
}

// ---- Response -----------------------------------------------------------------------------------

#[test]
fn response_round_trip_through_form_and_json() {
    let response = AuthorizationResponse::new(
        BTreeMap::from([
            ("enrolment".to_owned(), vec!["eyJhbGciOiJFZERTQSJ9.e30.c2ln~WyJzIiwiZ3JvdXAiLCI3QiJd~kb".to_owned()]),
            ("parent".to_owned(), vec!["a~".to_owned(), "b~".to_owned()]),
        ]),
        Some("session-4f1c9a".into()),
    )
    .with_parameter("example_approval", "eyJ0eXAiOiJleGFtcGxlLWFwcHJvdmFsK2p3dCJ9.e30.c2ln");
    let body = response.to_form();
    assert!(body.starts_with("vp_token=%7B%22enrolment%22%3A%5B%22"));
    assert!(body.contains("&state=session-4f1c9a&example_approval=eyJ0eXAi"));
    let names = ["example_approval"];
    assert_eq!(AuthorizationResponse::from_form_with(&body, &names).unwrap(), response);
    assert_eq!(AuthorizationResponse::from_json_with(&response.to_json().to_string(), &names).unwrap(), response);
    assert_eq!(response.parameter("example_approval").map(|a| a.starts_with("eyJ")), Some(true));
    // A parameter nobody asked for is ignored (§8.1).
    let plain = AuthorizationResponse::new(response.vp_token.clone(), response.state.clone());
    assert_eq!(AuthorizationResponse::from_form(&body).unwrap(), plain);
    assert_eq!(AuthorizationResponse::from_json(&response.to_json().to_string()).unwrap(), plain);
    // An asked-for parameter that is not a string is refused; vp_token and state are never
    // additional parameters.
    let not_a_string = r#"{"vp_token":{"a":["x"]},"example_approval":7}"#;
    assert!(matches!(
        AuthorizationResponse::from_json_with(not_a_string, &names),
        Err(Oid4vpError::ParameterNotAString { name }) if name == "example_approval"
    ));
    let shadow = plain.clone().with_parameter("state", "other").with_parameter("vp_token", "{}");
    assert_eq!(shadow.to_form(), plain.to_form());
    assert!(response.state_matches(Some("session-4f1c9a")));
    // Debug shows ids and counts, not presentations.
    assert!(!format!("{response:?}").contains("eyJ"));
    // Unknown parameters are ignored.
    let with_extra = format!("{body}&iss=https%3A%2F%2Fwallet.example");
    assert_eq!(AuthorizationResponse::from_form_with(&with_extra, &names).unwrap(), response);
}

#[test]
fn response_refusals_do_not_quote_presentations() {
    let leak = "WyJzYWx0IiwiZ2l2ZW5fbmFtZSIsIlNhbm5lIl0";
    let bodies = [
        form::encode(&[("vp_token", &format!(r#"{{"enrolment":"{leak}"}}"#))]),
        "vp_token=%7B%22enrolment%22%3A%5B%5D%7D".to_owned(),
        "vp_token=%7B%22enrolment%22%3A%5B1%5D%7D".to_owned(),
        "vp_token=%7B%7D".to_owned(),
        format!("vp_token={leak}"),
        "state=x".to_owned(),
        "vp_token=%7B%7D&vp_token=%7B%7D".to_owned(),
    ];
    for body in &bodies {
        let error = AuthorizationResponse::from_form(body).expect_err(body);
        assert!(!error.to_string().contains(leak), "{error}");
    }
    let error = AuthorizationResponse::from_form("error=access_denied&state=x").unwrap_err();
    assert!(matches!(error, Oid4vpError::ErrorResponse { error } if error == "access_denied"));
}

#[test]
fn errors_never_carry_claim_values() {
    // A query whose `multiple` holds a child's name: serde would quote it; we do not.
    let text =
        r#"{"credentials":[{"id":"a","format":"dc+sd-jwt","meta":{"vct_values":["x"]},"multiple":"Sanne de Vries"}]}"#;
    let error = DcqlQuery::parse(text).unwrap_err();
    assert!(matches!(error, Oid4vpError::MalformedJson { .. }));
    assert!(!error.to_string().contains("Sanne"), "{error}");
}

// ---- strict JSON (issue 12 item 10) ----------------------------------------------------------

fn strict_of(error: &Oid4vpError) -> Option<&schooltas_did::strict_json::Error> {
    match error {
        Oid4vpError::StrictJson(strict) => Some(strict),
        _ => None,
    }
}

#[test]
fn a_request_object_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let v = verifier();
    let claims = raw_claims(&request_for(&v), &v.did);
    // Written by hand: a serializer would never repeat response_uri.
    let text = claims.to_string().replacen('{', r#"{"response_uri":"https://evil.example/steal","#, 1);
    let jwt = jws::sign_compact(&good_header(&v), text.as_bytes(), &v.key).unwrap();
    let err = verify(&jwt, NOW).unwrap_err();
    assert!(
        matches!(&err, Error::Oid4vp(e) if matches!(strict_of(e), Some(J::DuplicateMember { name }) if name == "response_uri")),
        "{err}"
    );
    // A 2^64 integer (exp) is refused rather than read as a float.
    let text = claims.to_string().replacen(&format!("\"exp\":{}", NOW + 300), "\"exp\":18446744073709551616", 1);
    let jwt = jws::sign_compact(&good_header(&v), text.as_bytes(), &v.key).unwrap();
    let err = verify(&jwt, NOW).unwrap_err();
    assert!(matches!(&err, Error::Oid4vp(e) if matches!(strict_of(e), Some(J::IntegerOutOfRange))), "{err}");
    // The untouched claims still verify (the round trip).
    let jwt = jws::sign_compact(&good_header(&v), claims.to_string().as_bytes(), &v.key).unwrap();
    assert!(verify(&jwt, NOW).is_ok());
}

#[test]
fn a_dcql_query_or_response_naming_a_member_twice_is_refused() {
    use schooltas_did::strict_json::Error as J;
    let query = r#"{"credentials":[{"id":"a","format":"dc+sd-jwt","format":"mso_mdoc","meta":{"vct_values":["x"]}}]}"#;
    let err = DcqlQuery::parse(query).unwrap_err();
    assert!(matches!(strict_of(&err), Some(J::DuplicateMember { name }) if name == "format"), "{err}");
    let err = AuthorizationResponse::from_json(r#"{"vp_token":{"a":["x"]},"state":"s","state":"t"}"#).unwrap_err();
    assert!(matches!(strict_of(&err), Some(J::DuplicateMember { name }) if name == "state"), "{err}");
    let err = AuthorizationResponse::from_json(r#"{"vp_token":{"a":["x"],"a":["y"]}}"#).unwrap_err();
    assert!(matches!(strict_of(&err), Some(J::DuplicateMember { name }) if name == "a"), "{err}");
}

// ---- trusted_authorities (§6.1.1) ---------------------------------------------------------------

fn with_authorities(authorities: Value) -> DcqlQuery {
    DcqlQuery::from_json(&one_credential(json!({
        "claims": [{"path": ["group"]}],
        "trusted_authorities": authorities,
    })))
    .unwrap()
}

#[test]
fn an_aki_trusted_authority_is_evaluated_against_the_credentials_chain() {
    let ca_key_id = vec![0x3c, 0x91, 0x05, 0xaa];
    let held = [ca_key_id.clone()];
    let pupil = pupil();
    let chained = WalletCredential::new(1, VCT, &pupil).with_authority_key_ids(&held);
    let unchained = WalletCredential::new(2, VCT, &pupil);

    // The verifier accepts the CA whose key identifier the credential's chain names.
    let query = with_authorities(json!([{"type": "aki", "values": ["s4aRAg", base64url::encode(&ca_key_id)]}]));
    let result = query.match_credentials(&[chained, unchained]).unwrap();
    let handles: Vec<usize> = result.candidates("pid").iter().map(|c| c.handle).collect();
    assert_eq!(handles, [1], "a credential without a chain (a DID key) matches no aki");
    assert!(result.queries[0].unevaluated_authorities.is_empty());

    // Another CA: nothing is offered, and the query is unsatisfied.
    let query = with_authorities(json!([{"type": "aki", "values": [base64url::encode([1u8, 2, 3])]}]));
    let result = query.match_credentials(&[chained, unchained]).unwrap();
    assert_eq!(result.unsatisfied, ["pid"]);
    assert!(!result.is_satisfiable());
}

#[test]
fn trusted_authority_types_the_wallet_cannot_evaluate_are_reported_and_exclude_nothing() {
    let pupil = pupil();
    let credential = WalletCredential::new(3, VCT, &pupil);
    let query = with_authorities(json!([
        {"type": "aki", "values": [base64url::encode([9u8, 9])]},
        {"type": "etsi_tl", "values": ["https://lotl.example/tl.xml"]},
        {"type": "openid_federation", "values": ["https://ta.example"]},
    ]));
    let result = query.match_credentials(&[credential]).unwrap();
    // The aki does not match, but the credential may be under the trusted list or the
    // federation: kept, and the caller told which types it could not check.
    assert_eq!(result.candidates("pid").len(), 1);
    assert_eq!(result.queries[0].unevaluated_authorities, ["etsi_tl", "openid_federation"]);
}

#[test]
fn malformed_trusted_authorities_are_refused() {
    for authorities in [
        json!([]),
        json!([{"type": "aki", "values": []}]),
        json!([{"type": "", "values": ["x"]}]),
        json!([{"type": "aki", "values": [""]}]),
    ] {
        let query = one_credential(json!({"trusted_authorities": authorities}));
        assert!(matches!(refused(query), Oid4vpError::EmptyTrustedAuthorities { .. }), "{authorities}");
    }
    for authorities in [json!([{"type": 5, "values": ["x"]}]), json!([{"values": ["x"]}]), json!(["aki"])] {
        let query = one_credential(json!({"trusted_authorities": authorities}));
        assert!(matches!(refused(query), Oid4vpError::MalformedJson { .. }), "{authorities}");
    }
}

// ---- x509 client identifier prefixes (§5.9.3, HAIP 1.0 §5) -----------------------------------

/// What a verifier's certificate chain is to this layer: DER bytes, hashed and carried in `x5c`.
/// (Chain validation is the wallet's `key_for`; crates/x509 and the wallet test it.)
const LEAF: &[u8] = b"0\x82\x01\x00 a DER leaf certificate, as far as this layer cares";

#[test]
fn an_x509_hash_request_is_signed_with_the_leaf_and_names_its_hash() {
    use schooltas_oid4vc::oid4vp::{ClientId, x509_hash};
    let v = verifier();
    let client = ClientId::X509Hash(x509_hash(LEAF));
    let request = request_for(&v).with_client_id(&client);
    assert!(request.client_id.starts_with("x509_hash:"));
    let jwt = request.sign_x509(&v.key, &[LEAF.to_vec(), b"intermediate".to_vec()], NOW, 300, None).unwrap();
    let unverified = UnverifiedRequestObject::parse(&jwt).unwrap();
    assert!(unverified.header().kid().is_none(), "the key is found through x5c, not kid");
    let mut seen = None;
    let verified = unverified
        .verify_with_client(
            |_, client| {
                seen = Some(client.clone());
                Ok(v.key.verifying_key().clone())
            },
            NOW,
            60,
        )
        .unwrap();
    assert_eq!(verified, request);
    assert_eq!(seen, Some(client.clone()));
    // A wallet that resolves DIDs only says why it cannot.
    let error = UnverifiedRequestObject::parse(&jwt).unwrap().verify_with(|_, _| unreachable!(), NOW, 60).unwrap_err();
    assert!(
        matches!(error, Error::Oid4vp(Oid4vpError::InvalidClientId { reason }) if reason.contains("verify_with_client"))
    );

    // Another certificate than the one hashed: refused before any key is looked up.
    let error = request.sign_x509(&v.key, &[b"another".to_vec()], NOW, 300, None).unwrap_err();
    assert!(matches!(error, Error::Oid4vp(Oid4vpError::InvalidClientId { .. })), "{error}");
    let mut header = Header::new().with_typ("oauth-authz-req+jwt");
    header = header.with_member("x5c", json!([base64_std(b"another")]));
    let mut claims = raw_claims(&request, &v.did);
    claims["iss"] = json!(request.client_id);
    let forged = sign_raw(&v.key, &header, &claims);
    let error = UnverifiedRequestObject::parse(&forged)
        .unwrap()
        .verify_with_client(|_, _| unreachable!("refused before the key"), NOW, 60)
        .unwrap_err();
    assert!(matches!(error, Error::Oid4vp(Oid4vpError::InvalidClientId { reason }) if reason.contains("not the hash")));
    // Without x5c at all.
    let forged = sign_raw(&v.key, &Header::new().with_typ("oauth-authz-req+jwt"), &claims);
    let error = UnverifiedRequestObject::parse(&forged)
        .unwrap()
        .verify_with_client(|_, _| unreachable!(), NOW, 60)
        .unwrap_err();
    assert!(matches!(error, Error::Oid4vp(Oid4vpError::InvalidClientId { reason }) if reason.contains("x5c")));
    // A key other than the leaf's signed it.
    let other = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let jwt = request.sign_x509(&other, &[LEAF.to_vec()], NOW, 300, None).unwrap();
    let error = UnverifiedRequestObject::parse(&jwt).unwrap().verify_with_client(
        |_, _| Ok(v.key.verifying_key().clone()),
        NOW,
        60,
    );
    assert!(matches!(error, Err(Error::Did(schooltas_did::Error::InvalidSignature))), "{error:?}");
}

#[test]
fn an_x509_san_dns_verifier_answers_on_its_own_host() {
    use schooltas_oid4vc::oid4vp::ClientId;
    let v = verifier();
    let client = ClientId::parse("x509_san_dns:School.Example").unwrap();
    assert_eq!(client, ClientId::X509SanDns("school.example".into()));
    let request = request_for(&v).with_client_id(&client);
    let jwt = request.sign_x509(&v.key, &[LEAF.to_vec()], NOW, 300, None).unwrap();
    let verified = UnverifiedRequestObject::parse(&jwt)
        .unwrap()
        .verify_with_client(|_, _| Ok(v.key.verifying_key().clone()), NOW, 60)
        .unwrap();
    assert_eq!(verified.client().unwrap(), client);
    // The response going to another host is refused, signed or not.
    let mut elsewhere = request.clone();
    elsewhere.response_uri = "https://collector.example/oid4vp/response".into();
    assert!(matches!(
        elsewhere.validate(),
        Err(Oid4vpError::InvalidClientId { reason }) if reason.contains("response_uri")
    ));
    let error = elsewhere.sign_x509(&v.key, &[LEAF.to_vec()], NOW, 300, None).unwrap_err();
    assert!(
        matches!(&error, Error::Oid4vp(Oid4vpError::InvalidClientId { reason }) if reason.contains("response_uri")),
        "{error}"
    );
    // Not DNS names; unknown prefixes; a hash of the wrong length.
    for bad in [
        "x509_san_dns:localhost",
        "x509_san_dns:a..b",
        "x509_san_dns:-a.example",
        "x509_hash:AAAA",
        "https://v.example",
        "redirect_uri:https://v.example",
    ] {
        assert!(matches!(ClientId::parse(bad), Err(Oid4vpError::InvalidClientId { .. })), "{bad}");
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---- direct_post.jwt (§8.3) -------------------------------------------------------------

mod encrypted_response {
    use super::*;
    use schooltas_jwe::{ContentEncryption, EncryptionKey, JweError};
    use schooltas_oid4vc::oid4vp::{RESPONSE_MODE_DIRECT_POST_JWT, decrypt_jwt_form};

    fn response() -> AuthorizationResponse {
        let mut vp_token = BTreeMap::new();
        vp_token.insert("enrolment".to_owned(), vec!["eyJhbGciOiJFZERTQSJ9.e30.c2ln~".to_owned()]);
        AuthorizationResponse::new(vp_token, Some("session-4f1c9a".into()))
    }

    #[test]
    fn signed_request_round_trip_then_encrypted_response_round_trip() {
        let v = verifier();
        let key = EncryptionKey::generate("enc-1").unwrap();
        let request = request_for(&v)
            .with_encrypted_response(vec![key.public_jwk()], &[ContentEncryption::A256Gcm, ContentEncryption::A128Gcm]);
        let jwt = request.sign(&v.key, &v.kid, NOW, 300).unwrap();
        let received = verify(&jwt, NOW).unwrap();
        assert_eq!(received.response_mode, RESPONSE_MODE_DIRECT_POST_JWT);
        let encryption = received.response_encryption().unwrap().unwrap();
        // The verifier's first supported preference.
        assert_eq!(encryption.enc(), ContentEncryption::A256Gcm);
        assert_eq!(encryption.key().kid(), Some("enc-1"));

        let body = response().to_jwt_form(&encryption).unwrap();
        assert!(body.starts_with("response=") && !body.contains("vp_token") && !body.contains("session-4f1c9a"));
        let back =
            AuthorizationResponse::from_jwt_form_with(&body, &key, &request.offered_response_encs().unwrap(), &[])
                .unwrap();
        assert_eq!(back, response());
    }

    #[test]
    fn default_enc_is_a128gcm() {
        let key = EncryptionKey::generate("enc-1").unwrap();
        let request = request_for(&verifier()).with_encrypted_response(vec![key.public_jwk()], &[]);
        assert_eq!(request.offered_response_encs().unwrap(), vec![ContentEncryption::A128Gcm]);
        assert_eq!(request.response_encryption().unwrap().unwrap().enc(), ContentEncryption::A128Gcm);
        // Plain direct_post asks for no encryption.
        assert_eq!(request_for(&verifier()).response_encryption().unwrap(), None);
    }

    #[test]
    fn direct_post_jwt_without_usable_key_is_refused() {
        let v = verifier();
        let key = EncryptionKey::generate("enc-1").unwrap();
        let mut signing_jwk = key.public_jwk();
        signing_jwk.insert("use".into(), "sig".into());
        for keys in [vec![], vec![signing_jwk]] {
            let request = request_for(&v).with_encrypted_response(keys, &[]);
            assert!(matches!(request.validate(), Err(Oid4vpError::NoUsableEncryptionKey)));
        }
        let mut request = request_for(&v);
        request.response_mode = RESPONSE_MODE_DIRECT_POST_JWT.into();
        assert!(matches!(request.response_encryption(), Err(Oid4vpError::NoUsableEncryptionKey)));
    }

    #[test]
    fn direct_post_jwt_without_supported_enc_is_refused() {
        let key = EncryptionKey::generate("enc-1").unwrap();
        let mut request = request_for(&verifier()).with_encrypted_response(vec![key.public_jwk()], &[]);
        request.client_metadata.as_mut().unwrap()["encrypted_response_enc_values_supported"] = json!(["A128CBC-HS256"]);
        assert!(matches!(request.validate(), Err(Oid4vpError::NoSupportedResponseEncryption)));
    }

    #[test]
    fn plaintext_body_is_refused_as_unencrypted() {
        let key = EncryptionKey::generate("enc-1").unwrap();
        let offered = [ContentEncryption::A128Gcm];
        assert!(matches!(
            decrypt_jwt_form(&response().to_form(), &key, &offered),
            Err(Oid4vpError::UnencryptedResponse)
        ));
        // A parameter beside the JWE was not encrypted either.
        let request = request_for(&verifier()).with_encrypted_response(vec![key.public_jwk()], &[]);
        let body = response().to_jwt_form(&request.response_encryption().unwrap().unwrap()).unwrap();
        assert!(matches!(
            decrypt_jwt_form(&format!("{body}&state=x"), &key, &offered),
            Err(Oid4vpError::UnencryptedResponse)
        ));
    }

    #[test]
    fn jwe_to_another_key_or_enc_not_offered_is_refused() {
        let key = EncryptionKey::generate("enc-1").unwrap();
        let request =
            request_for(&verifier()).with_encrypted_response(vec![key.public_jwk()], &[ContentEncryption::A256Gcm]);
        let body = response().to_jwt_form(&request.response_encryption().unwrap().unwrap()).unwrap();
        let other = EncryptionKey::generate("enc-2").unwrap();
        assert!(matches!(
            decrypt_jwt_form(&body, &other, &[ContentEncryption::A256Gcm]),
            Err(Oid4vpError::Encryption(JweError::KeyIdMismatch { .. }))
        ));
        assert!(matches!(
            decrypt_jwt_form(&body, &key, &[ContentEncryption::A128Gcm]),
            Err(Oid4vpError::Encryption(JweError::EncryptionNotOffered { enc: ContentEncryption::A256Gcm }))
        ));
    }
}
