//! The signed withdrawal of a consent.

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Signer, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{ConsentError, MAX_CONSENT_MESSAGE_LEN, WITHDRAWAL_TYP, check_fresh};
use crate::error::Result;

const WHAT: &str = "consent withdrawal";

/// How old a withdrawal may be when it arrives (a day: a phone may be offline for a while).
const MAX_AGE: i64 = 86_400;

/// A withdrawal: "stop using what I agreed to in the request with this nonce".
///
/// ```json
/// {"aud": "decentralized_identifier:did:web:school.example", "nonce": "…",
///  "purpose": "newsletter", "iat": 1800000000, "jti": "…"}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentWithdrawal {
    /// The verifier that holds the consent (its `client_id`).
    #[serde(rename = "aud")]
    pub audience: String,
    /// The nonce of the request the consent answered: with `aud`, it names the consent.
    pub nonce: String,
    /// The purpose code of that request.
    pub purpose: String,
    /// When it was withdrawn.
    #[serde(rename = "iat")]
    pub issued_at: i64,
    /// A unique id, so two withdrawals are two messages.
    pub jti: String,
}

impl ConsentWithdrawal {
    /// A withdrawal of the consent given to `audience` in the request with `nonce`.
    pub fn new(audience: impl Into<String>, nonce: impl Into<String>, purpose: impl Into<String>, now: i64) -> Self {
        ConsentWithdrawal {
            audience: audience.into(),
            nonce: nonce.into(),
            purpose: purpose.into(),
            issued_at: now,
            jti: schooltas_oid4vc::oid4vp::random_nonce(),
        }
    }

    /// Signs it with the key that gave the consent (`typ: schooltas-consent-withdrawal+jwt`).
    pub fn sign(&self, approver: &(impl Signer + ?Sized)) -> Result<String> {
        if self.audience.is_empty() || self.nonce.is_empty() || self.purpose.is_empty() || self.jti.is_empty() {
            return Err(ConsentError::malformed(WHAT, "aud, nonce, purpose and jti must not be empty").into());
        }
        Ok(jws::sign_compact_json(&Header::new().with_typ(WITHDRAWAL_TYP), self, approver)?)
    }
}

/// A parsed withdrawal whose signature has not been checked.
#[derive(Debug)]
pub struct UnverifiedWithdrawal<'a> {
    jws: CompactJws<'a>,
    claims: ConsentWithdrawal,
}

impl<'a> UnverifiedWithdrawal<'a> {
    /// Parses a withdrawal (size limit, `typ`, claims shape).
    pub fn parse(jwt: &'a str) -> Result<Self> {
        let jws = CompactJws::parse_with_limit(jwt, MAX_CONSENT_MESSAGE_LEN)?;
        if jws.header().typ() != Some(WITHDRAWAL_TYP) {
            let found = jws.header().typ().map(|t| t.chars().take(64).collect());
            return Err(ConsentError::WrongTyp { what: WHAT, expected: WITHDRAWAL_TYP, found }.into());
        }
        let claims: ConsentWithdrawal =
            schooltas_did::strict_json::from_slice_or(&jws.dangerous_unverified_payload()?, |e| {
                crate::Error::from(ConsentError::malformed(WHAT, e))
            })?;
        Ok(UnverifiedWithdrawal { jws, claims })
    }

    /// The nonce it names, to look the consent (and its approver's key) up. Not authenticated.
    pub fn unverified_nonce(&self) -> &str {
        &self.claims.nonce
    }

    /// The audience it names. Not authenticated.
    pub fn unverified_audience(&self) -> &str {
        &self.claims.audience
    }

    /// Verifies the signature with the key that gave the consent (algorithm pinned to it), that
    /// `aud` is `audience`, and that `iat` is not in the future and at most a day old.
    pub fn verify(&self, approver: &VerifyingKey, audience: &str, now: i64, skew: i64) -> Result<ConsentWithdrawal> {
        self.jws.verify(approver)?;
        if self.claims.audience != audience {
            return Err(ConsentError::WrongAudience { what: WHAT }.into());
        }
        check_fresh(WHAT, self.claims.issued_at, now, MAX_AGE, skew)?;
        Ok(self.claims.clone())
    }
}
