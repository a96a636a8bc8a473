//! What the register keeps about one consent.

use std::fmt;
use std::str::FromStr;

use schooltas_school::LegalBasis;
use schooltas_status_list::{StatusListUri, StatusReference};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};

/// The id of a recorded consent: 128 random bits as 32 lowercase hexadecimal characters, not
/// derived from anything in the consent (so it says nothing about the child or the purpose).
///
/// ```
/// use schooltas_verifier::ConsentId;
/// let id = ConsentId::random();
/// assert_eq!(id.as_str().len(), 32);
/// assert_eq!(id.as_str().parse::<ConsentId>()?, id);
/// assert!(matches!("not-an-id".parse::<ConsentId>(), Err(schooltas_verifier::Error::InvalidConsentId { .. })));
/// # Ok::<(), schooltas_verifier::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsentId(String);

impl ConsentId {
    /// A fresh random id.
    pub fn random() -> Self {
        use rand::Rng as _;
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let mut text = String::with_capacity(32);
        for byte in bytes {
            text.push(hex_digit(byte >> 4));
            text.push(hex_digit(byte & 0x0f));
        }
        ConsentId(text)
    }

    /// Validates an id read from elsewhere (a URL, a form, an export).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() != 32 {
            return Err(Error::InvalidConsentId { reason: "a consent id is 32 characters long" });
        }
        if !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::InvalidConsentId { reason: "a consent id holds only 0-9 and a-f" });
        }
        Ok(ConsentId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 })
}

impl FromStr for ConsentId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        ConsentId::parse(text)
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsentId({})", self.0)
    }
}

impl Serialize for ConsentId {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> std::result::Result<Ser::Ok, Ser::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ConsentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ConsentId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What proves the consent (GDPR art. 7(1): the controller must be able to demonstrate it).
///
/// Its `Debug` shows counts and sizes only: presentations carry the disclosed claims.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The verified presentations (SD-JWT with key binding, as received).
    pub presentations: Vec<String>,
    /// The guardian's signed approval, when a parent approved for a child under 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_approval: Option<String>,
    /// The OpenID4VP `transaction_data` strings the key-binding JWT signed the hashes of
    /// (photo hash, channel, retention): exactly what was agreed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transaction_data: Vec<String>,
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("presentations", &self.presentations.len())
            .field("guardian_approval", &self.guardian_approval.is_some())
            .field("transaction_data", &self.transaction_data.len())
            .finish()
    }
}

/// The withdrawal of a consent: effective for the future from `at` (GDPR art. 7(3)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// When it was withdrawn.
    pub at: i64,
    /// The signed withdrawal message, or a note on the status change that ended the consent.
    pub evidence: String,
}

/// One consent a school (or another verifier) received, with its evidence.
///
/// Its `Debug` leaves out the subject and shows only the shape of the evidence.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// A random id ([`ConsentId::random`]).
    pub id: ConsentId,
    /// Our OpenID4VP `client_id`: the verifier the consent was given to.
    pub verifier: String,
    /// Whom the consent is about: the (pairwise) subject or holder identifier the presentation
    /// proved, such as a JWK thumbprint or a DID.
    pub subject: String,
    /// The registered purpose code (`"newsletter"`).
    pub purpose: String,
    /// What exactly, when the consent is about one object, e.g. `sha-256:…` of a photo from the
    /// transaction data. `None` covers every object of the purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The channel (`"newsletter"`, `"website"`, `"social_media"`), when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The legal basis the request stated.
    pub legal_basis: LegalBasis,
    /// When the consent was given (Unix seconds).
    pub granted_at: i64,
    /// Until when it may be used and kept (the retention end, exclusive).
    pub valid_until: i64,
    /// The public JWK that approved: the parent's for a child under 16, the pupil's from 16.
    /// A withdrawal must be signed by this key.
    pub approver_jwk: Value,
    /// The nonce of the request the consent answered.
    pub request_nonce: String,
    /// What proves it.
    pub evidence: Evidence,
    /// A status-list entry whose revocation or suspension also ends the consent (e.g. the
    /// guardianship credential's, which ends at the child's 16th birthday or a change of
    /// custody).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "status_json")]
    pub status: Option<StatusReference>,
    /// Whose status entry `status` is: the credential's issuer and the key its signature
    /// verified with, so that a later status check applies the same signer rule as the
    /// verification did (`schooltas_status_list::status_list_signer_key`, decision 0021) — a
    /// status list token signed by another accredited issuer is refused. `None` in records
    /// written before schema version 2 (then the token's signer need only be accredited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_issuer: Option<StatusIssuer>,
    /// The withdrawal, once withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Withdrawal>,
}

/// The issuer of the credential a consent's status entry belongs to (the guardianship's): its
/// `iss` and the public key its issuer-signed JWT verified with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusIssuer {
    /// The credential's `iss` (a DID or an `https` identifier).
    pub iss: String,
    /// The verifying key, as a public JWK.
    pub key: Value,
}

impl StatusIssuer {
    /// The issuer `iss` whose signature verified with `key`.
    pub fn new(iss: impl Into<String>, key: &schooltas_did::VerifyingKey) -> Self {
        StatusIssuer { iss: iss.into(), key: Value::Object(key.to_jwk()) }
    }

    /// The key, read back from its JWK.
    pub fn verifying_key(&self) -> Option<schooltas_did::VerifyingKey> {
        self.key.as_object().and_then(|jwk| schooltas_did::VerifyingKey::from_jwk(jwk).ok())
    }
}

impl ConsentRecord {
    /// Whether the record covers `object`: a record without an object covers every object of
    /// its purpose; one with an object covers only that object. A question without an object
    /// ("may we use this purpose at all?") is covered only by a record without one.
    pub fn covers(&self, object: Option<&str>) -> bool {
        match (&self.object, object) {
            (None, _) => true,
            (Some(mine), Some(asked)) => mine == asked,
            (Some(_), None) => false,
        }
    }

    /// The withdrawal, if it took effect at or before `now`.
    pub fn withdrawn_at(&self, now: i64) -> Option<i64> {
        self.withdrawn.as_ref().map(|w| w.at).filter(|at| *at <= now)
    }

    /// The rules [`ConsentRegister::record`](crate::ConsentRegister::record) checks.
    pub(crate) fn validate(&self) -> Result<()> {
        let refuse = |reason| Err(Error::InvalidRecord { reason });
        if self.verifier.trim().is_empty() {
            return refuse("verifier (our client_id) is empty");
        }
        if self.subject.trim().is_empty() {
            return refuse("subject is empty");
        }
        if self.purpose.trim().is_empty() {
            return refuse("purpose is empty");
        }
        if self.request_nonce.is_empty() {
            return refuse("request_nonce is empty");
        }
        if self.object.as_deref().is_some_and(|o| o.trim().is_empty()) {
            return refuse("object is empty; leave it out to cover the whole purpose");
        }
        if self.valid_until <= self.granted_at {
            return refuse("valid_until must be after granted_at");
        }
        let Some(jwk) = self.approver_jwk.as_object() else {
            return refuse("approver_jwk must be a JWK (a JSON object)");
        };
        if !jwk.get("kty").is_some_and(Value::is_string) {
            return refuse("approver_jwk has no kty");
        }
        if jwk.contains_key("d") {
            return refuse("approver_jwk holds a private key (member d); record the public key only");
        }
        if self.withdrawn.is_some() {
            return refuse("a new consent cannot be recorded as withdrawn; record it, then withdraw it");
        }
        if self.evidence.presentations.is_empty() {
            return refuse("evidence holds no presentation");
        }
        Ok(())
    }
}

impl fmt::Debug for ConsentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentRecord")
            .field("id", &self.id)
            .field("verifier", &self.verifier)
            .field("purpose", &self.purpose)
            .field("legal_basis", &self.legal_basis)
            .field("granted_at", &self.granted_at)
            .field("valid_until", &self.valid_until)
            .field("evidence", &self.evidence)
            .field("status", &self.status)
            .field("status_issuer", &self.status_issuer.as_ref().map(|issuer| &issuer.iss))
            .field("withdrawn_at", &self.withdrawn.as_ref().map(|w| w.at))
            .finish_non_exhaustive()
    }
}

/// `status` as `{"uri": …, "idx": …}` (the members of draft §6.2's `status_list`).
mod status_json {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Shape {
        uri: String,
        idx: u64,
    }

    pub(super) fn serialize<Ser: Serializer>(
        status: &Option<StatusReference>,
        serializer: Ser,
    ) -> std::result::Result<Ser::Ok, Ser::Error> {
        status.as_ref().map(|s| Shape { uri: s.uri().to_string(), idx: s.index() }).serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Option<StatusReference>, D::Error> {
        let Some(shape) = Option::<Shape>::deserialize(deserializer)? else { return Ok(None) };
        let uri = StatusListUri::new(shape.uri).map_err(serde::de::Error::custom)?;
        Ok(Some(StatusReference::new(uri, shape.idx)))
    }
}
