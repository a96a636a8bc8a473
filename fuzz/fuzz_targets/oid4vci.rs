//! OpenID4VCI 1.0 messages as a wallet or an issuer receives them: credential offers (JSON and
//! `openid-credential-offer://` URIs), issuer and authorization-server metadata, token
//! requests (form) and responses, nonce responses, credential requests with their proofs,
//! credential responses and error responses; and key proofs (§8.2.1.1, Appendix F.1).
//!
//! Modes (first byte `mod 10`): 0 offer JSON, 1 offer URI, 2 issuer metadata, 3 AS metadata,
//! 4 token request form, 5 token response, 6 nonce response, 7 credential request (each proof
//! verified), 8 credential / error response, 9 a proof the harness signs with the holder key:
//! field 0 extra header members (`"$JWK"` → the holder's public JWK, `"$KID"` → its did:key
//! URL), field 1 the payload (`"$NOW"`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_did::{PublicKey, Signer, did_key};
use schooltas_fuzz::{NOW, bounded, expand, field, header, holder, sign_raw, split};
use schooltas_oid4vc::oid4vci::proof::{ProofPolicy, verify_proof};
use schooltas_oid4vc::oid4vci::{
    AuthorizationServerMetadata, CredentialIssuerMetadata, CredentialOffer, CredentialOfferUri, CredentialRequest,
    CredentialResponse, ErrorResponse, NonceResponse, TokenRequest, TokenResponse,
};

const ISSUER: &str = "https://school.example";

fuzz_target!(|data: &[u8]| {
    let Some((mode, fields)) = split(data) else { return };
    let Ok(text) = std::str::from_utf8(data.get(1..).unwrap_or_default()) else { return };
    match mode % 10 {
        0 => {
            if let Ok(offer) = CredentialOffer::from_json(text) {
                let _ = offer.validate();
                let _ = offer.pre_authorized_grant();
                let json = offer.to_json();
                assert!(
                    CredentialOffer::from_json(&json).is_ok_and(|again| again == offer),
                    "offer does not round-trip"
                );
                if let Ok(uri) = offer.to_uri() {
                    let _ = CredentialOfferUri::parse(&uri);
                }
            }
            let _ = CredentialOffer::reference_uri(text);
        }
        1 => {
            let _ = CredentialOfferUri::parse(text);
        }
        2 => {
            if let Ok(metadata) = CredentialIssuerMetadata::from_json(text) {
                let _ = metadata.check_issuer(ISSUER);
                let _ = CredentialIssuerMetadata::from_json(&metadata.to_json());
            }
        }
        3 => {
            let _ = serde_json::from_str::<AuthorizationServerMetadata>(text);
        }
        4 => {
            if let Ok(request) = TokenRequest::from_form(text) {
                let form = request.to_form();
                assert!(TokenRequest::from_form(&form).is_ok_and(|again| again == request), "token request round trip");
                let _ = format!("{request:?}");
            }
        }
        5 => {
            if let Ok(response) = TokenResponse::from_json(text) {
                let _ = TokenResponse::from_json(&response.to_json());
                let _ = format!("{response:?}");
            }
        }
        6 => {
            let _ = serde_json::from_str::<NonceResponse>(text);
        }
        7 => {
            for max_proofs in [1, 8] {
                if let Ok(request) = CredentialRequest::from_json(text, max_proofs) {
                    for proof in request.proofs.iter().flat_map(|p| p.jwt.iter()).take(8) {
                        let _ = verify_proof(proof, &ProofPolicy::new(ISSUER), NOW);
                    }
                    let _ = CredentialRequest::from_json(&request.to_json(), max_proofs);
                }
            }
        }
        8 => {
            if let Ok(response) = CredentialResponse::from_json(text) {
                let _ = CredentialResponse::from_json(&response.to_json());
            }
            if let Ok(error) = ErrorResponse::from_json(text) {
                let _ = (error.to_json(), error.to_string());
            }
        }
        _ => {
            let jwk = serde_json::Value::Object(holder().verifying_key().to_jwk()).to_string();
            let did = did_key::did_for(&PublicKey::Verifying(holder().verifying_key().clone()));
            let kid = serde_json::Value::from(format!("{did}#{}", did.method_specific_id())).to_string();
            let extra = bounded(field(&fields, 0), 4096).replace("\"$JWK\"", &jwk).replace("\"$KID\"", &kid);
            let header = header(holder(), "openid4vci-proof+jwt", None, &extra);
            let payload = expand(field(&fields, 1));
            let proof = sign_raw(&header, payload.as_bytes(), holder());
            let mut policy = ProofPolicy::new(ISSUER);
            for require_nonce in [true, false] {
                policy.require_nonce = require_nonce;
                if let Ok(verified) = verify_proof(&proof, &policy, NOW) {
                    assert!(!require_nonce || verified.nonce.is_some(), "a proof without nonce passed");
                    assert_eq!(&verified.holder_key, holder().verifying_key(), "proof bound to another key");
                }
            }
            let request = CredentialRequest::new("enrolment", vec![proof]).to_json();
            let _ = CredentialRequest::from_json(&request, 1);
        }
    }
});
