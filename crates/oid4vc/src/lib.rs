//! # schooltas-oid4vc
//!
//! OpenID for Verifiable Credential Issuance 1.0 and OpenID for Verifiable Presentations 1.0
//! with DCQL, for SD-JWT VC (`dc+sd-jwt`): typed, validated messages, free of transport. Built
//! on `schooltas-did` (keys, JWS, DIDs) and `schooltas-sd-jwt` (claim paths, presentations). It
//! knows nothing of schools: a profile's own request members and response parameters travel in
//! typed carriers ([`oid4vp::Extensions`], [`oid4vp::AuthorizationResponse::parameters`]).
//!
//! - [`oid4vci`]: the pre-authorized code flow — credential offers, metadata, token, nonce and
//!   credential messages, [key proofs](oid4vci::proof), error responses — and the
//!   [authorization code flow](oid4vci::authorization) with PAR, PKCE and `iss`;
//! - [`oid4vp`]: signed authorization requests (JAR), DCQL queries and the wallet's matching,
//!   transaction data, authorization responses and the verifier's check of them;
//! - [`client_attestation`]: wallet attestations (OAuth 2.0 Attestation-Based Client
//!   Authentication, OpenID4VCI 1.0 Appendix E) with their proofs of possession;
//! - [`dpop`]: DPoP proofs (RFC 9449) for sender-constrained access tokens;
//! - [`form`]: strict `application/x-www-form-urlencoded`.
//!
//! A photographer asks for a child's enrolment, the wallet picks the claims, the photographer
//! checks the answer:
//!
//! ```
//! use std::collections::BTreeMap;
//! use schooltas_sd_jwt::ClaimPath;
//! use schooltas_oid4vc::oid4vp::{
//!     AuthorizationRequest, AuthorizationRequestUri, AuthorizationResponse, CredentialQuery, DcqlQuery,
//!     PresentedCredential, UnverifiedRequestObject, WalletCredential, random_nonce,
//! };
//! use schooltas_sd_jwt::{
//!     HolderSdJwt, KeyBinding, KeyBindingInput, RandomSalts, SdJwtBuilder, UnverifiedSdJwt, VerifyOptions,
//! };
//! use schooltas_did::{Algorithm, PublicKey, Resolver, Signer, SigningKey, did_key};
//! use serde_json::json;
//!
//! let now = 1_800_000_000;
//! let vct = "https://schooltas.nl/credentials/enrolment/v1";
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let child = SigningKey::generate(Algorithm::EdDsa)?;
//! let photographer = SigningKey::generate(Algorithm::EdDsa)?;
//! let photographer_did = did_key::did_for(&PublicKey::Verifying(photographer.verifying_key().clone()));
//! let kid = photographer_did.with_fragment(photographer_did.method_specific_id())?;
//!
//! // Verifier: a query for the group only, in a signed request object passed by value.
//! let query = DcqlQuery::builder()
//!     .credential(CredentialQuery::sd_jwt_vc("enrolment", [vct]).claim(ClaimPath::claim("group")))
//!     .build()?;
//! let nonce = random_nonce();
//! let request = AuthorizationRequest::new(&photographer_did, "https://photo.example/response", &nonce, query.clone())
//!     .with_extension("example_purpose", json!("class_photo"))?;
//! let jwt = request.sign(&photographer, &kid, now, 300)?;
//! let link = AuthorizationRequestUri::ByValue { client_id: request.client_id.clone(), request_jwt: jwt }.to_uri();
//!
//! // Wallet: parse the link, verify the request object against the verifier's DID.
//! let AuthorizationRequestUri::ByValue { request_jwt, .. } = AuthorizationRequestUri::parse(&link)? else {
//!     return Err("expected a request by value".into());
//! };
//! let received = UnverifiedRequestObject::parse(&request_jwt)?.verify_with_resolver(&Resolver::offline(), now, 60)?;
//! assert_eq!(received.extension("example_purpose"), Some(&json!("class_photo")));
//!
//! // Wallet: the child's enrolment credential (issued earlier by the school).
//! let claims = json!({"iss": "did:web:school.example", "vct": vct, "given_name": "Sanne", "group": "7B"});
//! let issued = SdJwtBuilder::new(claims.as_object().cloned().unwrap_or_default())
//!     .disclosable(ClaimPath::claim("given_name"))
//!     .disclosable(ClaimPath::claim("group"))
//!     .holder_key(child.verifying_key())
//!     .issue(&school, &mut RandomSalts)?
//!     .to_string();
//! // The matcher sees the credential as the holder does: all claims, with the `cnf` key binding.
//! let mut holder_view = claims.clone();
//! holder_view["cnf"] = json!({"jwk": child.verifying_key().to_jwk()});
//! let matched = received.dcql_query.match_credentials(&[WalletCredential::new(0, vct, &holder_view)])?;
//! let answer = matched.answer.ok_or("cannot answer")?;
//! assert_eq!(answer["enrolment"][0].disclose, [ClaimPath::claim("group")]);
//! let kb = KeyBindingInput { nonce: received.nonce.clone(), audience: received.client_id.clone(), issued_at: now };
//! let presentation = HolderSdJwt::parse(&issued)?.present(&answer["enrolment"][0].disclose, Some((&child, &kb)))?;
//! let body = AuthorizationResponse::new(BTreeMap::from([("enrolment".into(), vec![presentation])]), None).to_form();
//!
//! // Verifier: read the body, verify each SD-JWT, check the answer against the query.
//! let response = AuthorizationResponse::from_form(&body)?;
//! let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(nonce.as_str(), request.client_id.as_str()));
//! let mut presented = BTreeMap::new();
//! for (id, list) in &response.vp_token {
//!     let verified = list
//!         .iter()
//!         .map(|p| Ok(PresentedCredential::from_verified(&UnverifiedSdJwt::parse(p)?.verify(school.verifying_key(), &options, now)?)))
//!         .collect::<Result<Vec<_>, schooltas_oid4vc::Error>>()?;
//!     presented.insert(id.clone(), verified);
//! }
//! let report = query.check_response(&presented)?;
//! assert!(report.is_satisfied());
//! assert!(report.extra_claims.is_empty()); // the given name never left the wallet
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod client_attestation;
pub mod dpop;
mod error;
pub mod form;
pub mod oid4vci;
pub mod oid4vp;

pub use error::{Error, Result};
