//! A trust list as a compact JWS (`typ: schooltas-trust-list+jwt`) signed by the operator.

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Did, DidUrl, Resolver, Signer, VerificationRelationship, VerifyingKey};
use serde_json::{Map, Value};

use super::{TrustList, TrustListError, VerifiedTrustList};
use crate::error::Result;
use schooltas_oid4vc::oid4vp::truncate;

/// The `typ` of a signed trust list.
pub const TRUST_LIST_TYP: &str = "schooltas-trust-list+jwt";

/// The largest signed trust list accepted (1 MiB): room for every school in the country.
pub const MAX_TRUST_LIST_LEN: usize = 1 << 20;

impl TrustList {
    /// Signs the list as a compact JWS: header `alg` (the signer's), `typ`
    /// ([`TRUST_LIST_TYP`]) and `kid`; the payload is the list's JSON form.
    ///
    /// The list is validated first ([`TrustList::validate`]), and `kid` must be a key of the
    /// operator's DID ([`TrustListError::KidNotOperator`]).
    pub fn sign(&self, signer: &(impl Signer + ?Sized), kid: &DidUrl) -> Result<String> {
        self.validate()?;
        if kid.did() != &self.operator {
            return Err(TrustListError::KidNotOperator {
                operator: self.operator.to_string(),
                kid_did: kid.did().to_string(),
            }
            .into());
        }
        let header = Header::new().with_typ(TRUST_LIST_TYP).with_kid(kid.as_str());
        Ok(jws::sign_compact_json(&header, self, signer)?)
    }

    /// Signs the list ([`TrustList::sign`]) and verifies the result with the signer's own key
    /// ([`UnverifiedTrustList::verify_with`]): the operator's (or a test's) way to use a list
    /// it publishes. Returns the JWT to publish and the verified list.
    pub fn sign_and_verify(
        &self,
        signer: &(impl Signer + ?Sized),
        kid: &DidUrl,
        now: i64,
        skew: i64,
    ) -> Result<(String, VerifiedTrustList)> {
        let jwt = self.sign(signer, kid)?;
        let verified =
            UnverifiedTrustList::parse(&jwt)?.verify_with(signer.verifying_key(), &self.operator, now, skew)?;
        Ok((jwt, verified))
    }
}

/// A signed trust list whose signature has not been checked: only its header is readable.
#[derive(Debug)]
pub struct UnverifiedTrustList<'a> {
    jws: CompactJws<'a>,
}

impl<'a> UnverifiedTrustList<'a> {
    /// Parses a compact JWS of at most [`MAX_TRUST_LIST_LEN`] bytes whose `typ` is
    /// [`TRUST_LIST_TYP`]. `alg: none`, HMAC and unknown algorithms are refused here (by
    /// `schooltas-did`).
    pub fn parse(jwt: &'a str) -> Result<Self> {
        if jwt.len() > MAX_TRUST_LIST_LEN {
            return Err(TrustListError::TooLarge { len: jwt.len(), limit: MAX_TRUST_LIST_LEN }.into());
        }
        let jws = CompactJws::parse_with_limit(jwt, MAX_TRUST_LIST_LEN)?;
        let typ = jws.header().typ();
        if typ != Some(TRUST_LIST_TYP) {
            return Err(TrustListError::WrongTyp { found: typ.map(truncate) }.into());
        }
        Ok(UnverifiedTrustList { jws })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        self.jws.header()
    }

    /// The key id (`kid`): a DID URL naming one of the operator's keys.
    pub fn kid(&self) -> Result<DidUrl, TrustListError> {
        let kid = self.jws.header().kid().ok_or(TrustListError::MissingKid)?;
        DidUrl::parse(kid).map_err(|_| TrustListError::InvalidKid)
    }

    /// Verifies the list with `key` and returns it, if it was signed by `operator` and is
    /// current at `now` (seconds since the epoch, with `skew` seconds of clock tolerance).
    ///
    /// In order:
    ///
    /// 1. `kid` is a DID URL of `operator` ([`TrustListError::KidNotOperator`]);
    /// 2. the signature verifies with `key`, the algorithm pinned to the key;
    /// 3. the payload is a JSON object with `iss`, `iat` and `exp`
    ///    ([`TrustListError::MissingClaim`]); unknown members are ignored;
    /// 4. `iss` is `operator` ([`TrustListError::OperatorMismatch`]);
    /// 5. `exp` is after `iat`, every entry is well formed and no DID or purpose code repeats
    ///    ([`TrustList::validate`]);
    /// 6. `iat` is not after `now + skew`, `exp` is after `now − skew`
    ///    ([`TrustListError::IssuedInFuture`], [`TrustListError::Expired`]) — checked again, with
    ///    the same `skew`, at each [`VerifiedTrustList::at`].
    pub fn verify_with(&self, key: &VerifyingKey, operator: &Did, now: i64, skew: i64) -> Result<VerifiedTrustList> {
        let kid = self.kid()?;
        if kid.did() != operator {
            return Err(TrustListError::KidNotOperator {
                operator: operator.to_string(),
                kid_did: kid.did().to_string(),
            }
            .into());
        }
        let verified = self.jws.verify(key)?;
        let claims: Map<String, Value> = schooltas_did::strict_json::from_slice_or(verified.payload(), |e| {
            crate::Error::from(TrustListError::MalformedTrustList { reason: truncate(&e.to_string()) })
        })?;
        for (claim, valid) in
            [("iss", Value::is_string as fn(&Value) -> bool), ("iat", is_integer), ("exp", is_integer)]
        {
            if !claims.get(claim).is_some_and(valid) {
                return Err(TrustListError::MissingClaim { claim }.into());
            }
        }
        let list: TrustList = serde::Deserialize::deserialize(Value::Object(claims))
            .map_err(|e: serde_json::Error| TrustListError::MalformedTrustList { reason: truncate(&e.to_string()) })?;
        if &list.operator != operator {
            return Err(TrustListError::OperatorMismatch {
                expected: operator.to_string(),
                found: list.operator.to_string(),
            }
            .into());
        }
        list.validate()?;
        list.check_current(now, skew)?;
        Ok(VerifiedTrustList::new(list, skew))
    }

    /// [`UnverifiedTrustList::verify_with`], resolving `kid` with `resolver` as an
    /// `assertionMethod` key of the operator's DID for the header's algorithm.
    pub fn verify_with_resolver(
        &self,
        resolver: &Resolver,
        operator: &Did,
        now: i64,
        skew: i64,
    ) -> Result<VerifiedTrustList> {
        let kid = self.kid()?;
        // Refuse a foreign kid before resolving anything: no fetch for a DID we would not trust.
        if kid.did() != operator {
            return Err(TrustListError::KidNotOperator {
                operator: operator.to_string(),
                kid_did: kid.did().to_string(),
            }
            .into());
        }
        let key = resolver.verifying_key(&kid, VerificationRelationship::AssertionMethod, self.jws.algorithm())?;
        self.verify_with(&key, operator, now, skew)
    }
}

fn is_integer(value: &Value) -> bool {
    value.as_i64().is_some()
}
