//! The JWS JSON serialization of SD-JWTs (RFC 9901 §8), verifier side.
//!
//! Both forms of RFC 7515 §7.2 are read:
//!
//! - flattened: `{"protected", "payload", "signature", "header": {"disclosures", "kb_jwt"}}`;
//! - general: `{"payload", "signatures": [{"protected", "header", "signature"}, …]}`, where
//!   `disclosures` and `kb_jwt` sit in the **first** signature's unprotected header only
//!   (RFC 9901 §8.3).
//!
//! Each signature is turned into the equivalent compact SD-JWT
//! (`<protected>.<payload>.<signature>~<d1>~…~<dn>~[<kb-jwt>]`) and checked by exactly the code
//! that checks compact SD-JWTs ([`UnverifiedSdJwt`]). The one difference is what the KB-JWT's
//! `sd_hash` covers: RFC 9901 §8.1 has it computed over the compact form built from the
//! protected header, payload and signature **of the first signature** plus the disclosures,
//! whichever signature the verifier checks.
//!
//! The unprotected headers are not integrity protected: apart from `disclosures` and `kb_jwt`
//! (which the issuer signature and `sd_hash` protect indirectly) nothing in them is used for
//! verification.
//!
//! ```
//! use schooltas_sd_jwt::ClaimPath;
//! use schooltas_sd_jwt::{
//!     KeyBindingPolicy, Limits, RandomSalts, SdJwtBuilder, TypPolicy, VerifyOptions, parse_json_serialization,
//! };
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use serde_json::json;
//!
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let claims = json!({"vct": "https://schooltas.example/enrolment", "given_name": "Sanne"});
//! let issued = SdJwtBuilder::new(claims.as_object().cloned().unwrap_or_default())
//!     .disclosable(ClaimPath::claim("given_name"))
//!     .issue(&school, &mut RandomSalts)?;
//!
//! // The same SD-JWT in the flattened JWS JSON serialization.
//! let mut parts = issued.jwt().split('.');
//! let (protected, payload, signature) = (parts.next(), parts.next(), parts.next());
//! let disclosures: Vec<&str> = issued.disclosures().iter().map(|d| d.as_str()).collect();
//! let json = json!({"protected": protected, "payload": payload, "signature": signature,
//!                   "header": {"disclosures": disclosures}}).to_string();
//!
//! let options = VerifyOptions {
//!     typ: TypPolicy::SdJwtVc,
//!     key_binding: KeyBindingPolicy::NotRequired,
//!     clock_skew: 60,
//!     limits: Limits::default(),
//! };
//! let verified = parse_json_serialization(&json)?.verify(school.verifying_key(), &options, 1_800_000_000)?;
//! assert_eq!(verified.claims()["given_name"], "Sanne");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use schooltas_did::VerifyingKey;
use schooltas_did::jws::{CompactJws, Header};
use serde_json::{Map, Value};

use super::verify::{Limits, UnverifiedSdJwt, VerifiedSdJwt, VerifyOptions};
use crate::{Error, Result};

/// The most signatures accepted in the general JSON serialization. Verification tries each
/// signature in turn, so the count is bounded like every other hostile input.
pub const MAX_SIGNATURES: usize = 16;

/// The unprotected header members RFC 9901 §8.1 defines.
const DISCLOSURES: &str = "disclosures";
const KB_JWT: &str = "kb_jwt";

/// Parses an SD-JWT or SD-JWT+KB in the JWS JSON serialization (flattened or general,
/// RFC 9901 §8) with the default [`Limits`]. Shorthand for [`JsonSdJwt::parse`].
pub fn parse_json_serialization(json: &str) -> Result<JsonSdJwt> {
    JsonSdJwt::parse(json)
}

/// One signature of a JSON-serialized SD-JWT.
#[derive(Clone)]
struct SignatureEntry {
    /// The checked protected header.
    protected: Header,
    /// The unprotected header without `disclosures` and `kb_jwt`.
    unprotected: Map<String, Value>,
    /// `<protected>.<payload>.<signature>~<d1>~…~<dn>~[<kb-jwt>]`.
    compact: String,
}

/// An SD-JWT in the JWS JSON serialization, split into its parts, nothing checked yet.
///
/// Like [`UnverifiedSdJwt`] it hands out no claims: only [`JsonSdJwt::verify`] yields them.
#[derive(Clone)]
pub struct JsonSdJwt {
    signatures: Vec<SignatureEntry>,
    /// Length of the first signature's compact form up to and including the last `~`: what
    /// `sd_hash` covers (RFC 9901 §8.1).
    sd_hash_len: usize,
    has_kb: bool,
}

impl JsonSdJwt {
    /// Parses the flattened or general JWS JSON serialization with the default [`Limits`].
    pub fn parse(json: &str) -> Result<Self> {
        Self::parse_with_limits(json, &Limits::default())
    }

    /// Parses the flattened or general JWS JSON serialization, enforcing `limits` before doing
    /// any work.
    ///
    /// Refused: input that is not a JSON object, duplicate member names at any depth, a mix of
    /// the flattened and general members, a missing `protected` header, `disclosures` or
    /// `kb_jwt` anywhere but the first unprotected header, unprotected members that repeat a
    /// protected one or that must be protected (`alg`, `crit`, `b64`, RFC 7515 §4.1.11,
    /// §7.2.1), and parts that are not base64url.
    pub fn parse_with_limits(json: &str, limits: &Limits) -> Result<Self> {
        if json.len() > limits.max_len {
            return Err(Error::LimitExceeded { what: "SD-JWT length", actual: json.len(), limit: limits.max_len });
        }
        let value: Value = schooltas_did::strict_json::from_str_or(json, |_| {
            malformed("the JWS JSON serialization is not JSON without duplicate member names")
        })?;
        let Value::Object(mut top) = value else {
            return Err(malformed("the JWS JSON serialization is a JSON object"));
        };
        let payload = take_string(&mut top, "payload", "\"payload\" is missing or not a string")?;
        check_base64url(&payload, "\"payload\" is empty or not base64url")?;

        // (protected, unprotected, signature) per signature, in order.
        let raw: Vec<(String, Map<String, Value>, String)> = match top.remove("signatures") {
            Some(signatures) => {
                if ["protected", "header", "signature"].iter().any(|name| top.contains_key(*name)) {
                    return Err(malformed(
                        "the general JSON serialization has no top-level protected, header or signature",
                    ));
                }
                let Value::Array(signatures) = signatures else {
                    return Err(malformed("\"signatures\" is not an array"));
                };
                if signatures.is_empty() {
                    return Err(malformed("\"signatures\" is empty"));
                }
                if signatures.len() > MAX_SIGNATURES {
                    return Err(Error::LimitExceeded {
                        what: "number of signatures",
                        actual: signatures.len(),
                        limit: MAX_SIGNATURES,
                    });
                }
                signatures
                    .into_iter()
                    .map(|entry| match entry {
                        Value::Object(entry) => signature_parts(entry),
                        _ => Err(malformed("an element of \"signatures\" is not an object")),
                    })
                    .collect::<Result<_>>()?
            }
            None => vec![signature_parts(top)?],
        };

        // RFC 9901 §8.3: disclosures and kb_jwt only in the first unprotected header.
        let mut raw = raw.into_iter();
        let Some((protected, mut unprotected, signature)) = raw.next() else {
            return Err(malformed("\"signatures\" is empty"));
        };
        let disclosures = match unprotected.remove(DISCLOSURES) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                if items.len() > limits.max_disclosures {
                    return Err(Error::LimitExceeded {
                        what: "number of disclosures",
                        actual: items.len(),
                        limit: limits.max_disclosures,
                    });
                }
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::String(text) => {
                            check_base64url(&text, "a disclosure is empty or not base64url")?;
                            Ok(text)
                        }
                        _ => Err(malformed("\"disclosures\" contains a value that is not a string")),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            Some(_) => return Err(malformed("\"disclosures\" is not an array of strings")),
        };
        let kb_jwt = match unprotected.remove(KB_JWT) {
            None => None,
            Some(Value::String(text)) => {
                if text.is_empty() || !text.bytes().all(|b| is_base64url(b) || b == b'.') {
                    return Err(malformed("\"kb_jwt\" is not a compact JWS"));
                }
                Some(text)
            }
            Some(_) => return Err(malformed("\"kb_jwt\" is not a string")),
        };

        let mut tail = String::with_capacity(1 + disclosures.iter().map(|d| d.len() + 1).sum::<usize>());
        tail.push('~');
        for disclosure in &disclosures {
            tail.push_str(disclosure);
            tail.push('~');
        }
        let kb_text = kb_jwt.as_deref().unwrap_or_default();

        let mut signatures = Vec::with_capacity(1 + raw.len());
        let mut sd_hash_len = 0;
        for (index, (protected, unprotected, signature)) in
            std::iter::once((protected, unprotected, signature)).chain(raw).enumerate()
        {
            if index > 0 && (unprotected.contains_key(DISCLOSURES) || unprotected.contains_key(KB_JWT)) {
                return Err(malformed("disclosures and kb_jwt belong in the first unprotected header only"));
            }
            let jws_len = protected.len() + payload.len() + signature.len() + 2;
            let mut compact = String::with_capacity(jws_len + tail.len() + kb_text.len());
            compact.push_str(&protected);
            compact.push('.');
            compact.push_str(&payload);
            compact.push('.');
            compact.push_str(&signature);
            let header = CompactJws::parse_with_limit(&compact, limits.max_len)?.header().clone();
            check_unprotected(&header, &unprotected)?;
            compact.push_str(&tail);
            if index == 0 {
                sd_hash_len = compact.len();
            }
            compact.push_str(kb_text);
            // The same structural checks as for a compact SD-JWT, now rather than at verify time.
            UnverifiedSdJwt::parse_with_limits(&compact, limits)?;
            signatures.push(SignatureEntry { protected: header, unprotected, compact });
        }
        Ok(JsonSdJwt { signatures, sd_hash_len, has_kb: kb_jwt.is_some() })
    }

    /// How many signatures it carries (1 for the flattened form).
    pub fn signature_count(&self) -> usize {
        self.signatures.len()
    }

    /// The protected header of each signature, in order (for choosing a key: `kid`, `alg`).
    pub fn protected_headers(&self) -> impl Iterator<Item = &Header> {
        self.signatures.iter().map(|s| &s.protected)
    }

    /// The unprotected header of each signature, in order, without `disclosures` and `kb_jwt`.
    /// Nothing in it is integrity protected: a `kid` found here may pick a key, never trust one.
    pub fn unprotected_headers(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.signatures.iter().map(|s| &s.unprotected)
    }

    /// Whether a key-binding JWT is attached.
    pub fn has_key_binding(&self) -> bool {
        self.has_kb
    }

    /// The equivalent compact SD-JWT built from the first signature (RFC 9901 §8.1): the text
    /// whose part up to the last `~` the KB-JWT's `sd_hash` covers.
    pub fn compact(&self) -> &str {
        self.signatures.first().map(|s| s.compact.as_str()).unwrap_or_default()
    }

    /// Verifies against a known issuer key at time `now` (Unix seconds).
    ///
    /// With several signatures (general form), the first one whose signature verifies with
    /// `issuer_key` is the issuer-signed JWT that is checked: its protected header must meet
    /// `options.typ`, and the SD-JWT is then processed exactly as a compact one. Signatures by
    /// other keys are neither required nor checked. When no signature verifies with the key,
    /// the first signature's error is returned. The KB-JWT `sd_hash` is always checked over
    /// the first signature's compact form (RFC 9901 §8.1), whichever signature verified.
    pub fn verify(&self, issuer_key: &VerifyingKey, options: &VerifyOptions, now: i64) -> Result<VerifiedSdJwt> {
        let first = self.signatures.first().ok_or(malformed("\"signatures\" is empty"))?;
        let sd_hash_input = first.compact.get(..self.sd_hash_len).unwrap_or_default();
        let mut first_error = None;
        for entry in &self.signatures {
            let sd_jwt = UnverifiedSdJwt::parse_with_limits(&entry.compact, &options.limits)?;
            let jws_end = entry.compact.find('~').unwrap_or(entry.compact.len());
            let jws = CompactJws::parse_with_limit(&entry.compact[..jws_end], options.limits.max_len)?;
            match issuer_key.verify(jws.algorithm(), jws.signing_input().as_bytes(), jws.signature()) {
                Ok(()) => return sd_jwt.with_sd_hash_input(sd_hash_input).verify(issuer_key, options, now),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.map_or_else(|| malformed("\"signatures\" is empty"), Error::from))
    }
}

impl fmt::Debug for JsonSdJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonSdJwt")
            .field("protected_headers", &self.signatures.iter().map(|s| &s.protected).collect::<Vec<_>>())
            .field("key_binding", &self.has_kb)
            .finish_non_exhaustive()
    }
}

fn malformed(reason: &'static str) -> Error {
    Error::MalformedSdJwt { reason }
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Non-empty base64url, so that the compact form rebuilt from the parts is unambiguous.
fn check_base64url(text: &str, reason: &'static str) -> Result<()> {
    if text.is_empty() || !text.bytes().all(is_base64url) {
        return Err(malformed(reason));
    }
    Ok(())
}

fn take_string(map: &mut Map<String, Value>, name: &str, reason: &'static str) -> Result<String> {
    match map.remove(name) {
        Some(Value::String(text)) => Ok(text),
        _ => Err(malformed(reason)),
    }
}

/// `protected`, `header` and `signature` of one signature (flattened object or an element of
/// `signatures`).
fn signature_parts(mut entry: Map<String, Value>) -> Result<(String, Map<String, Value>, String)> {
    if entry.contains_key("signatures") {
        return Err(malformed("the flattened JSON serialization has no \"signatures\""));
    }
    let protected = take_string(&mut entry, "protected", "\"protected\" is missing or not a string")?;
    check_base64url(&protected, "\"protected\" is empty or not base64url")?;
    let signature = take_string(&mut entry, "signature", "\"signature\" is missing or not a string")?;
    check_base64url(&signature, "\"signature\" is empty or not base64url")?;
    let unprotected = match entry.remove("header") {
        None => Map::new(),
        Some(Value::Object(header)) => header,
        Some(_) => return Err(malformed("\"header\" is not an object")),
    };
    Ok((protected, unprotected, signature))
}

/// RFC 7515 §7.2.1: protected and unprotected member names are disjoint; `crit` (§4.1.11) and
/// `b64` (RFC 7797 §3) must be integrity protected, and `alg` is taken from the protected
/// header only.
fn check_unprotected(protected: &Header, unprotected: &Map<String, Value>) -> Result<()> {
    for name in unprotected.keys() {
        if matches!(name.as_str(), "alg" | "crit" | "b64") {
            return Err(malformed("alg, crit and b64 must be in the protected header"));
        }
        if protected.members().contains_key(name) {
            return Err(malformed("a header member is both protected and unprotected"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use schooltas_did::{Algorithm, Signer, SigningKey, base64url};
    use serde_json::json;

    use super::*;
    use crate::{
        ClaimPath, HolderSdJwt, KeyBinding, KeyBindingInput, KeyBindingPolicy, RandomSalts, SdJwtBuilder, TypPolicy,
        key_binding_jwt,
    };

    const NOW: i64 = 1_800_000_000;

    struct Setup {
        issuer: SigningKey,
        second_issuer: SigningKey,
        holder: SigningKey,
        /// `jwt~<given_name>~`
        presented: String,
    }

    impl Setup {
        fn new() -> Self {
            let issuer = SigningKey::generate(Algorithm::EdDsa).unwrap();
            let second_issuer = SigningKey::generate(Algorithm::Es256).unwrap();
            let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
            let claims = json!({"iss": "https://school.example", "given_name": "Sanne", "group": "7"});
            let issued = SdJwtBuilder::new(claims.as_object().unwrap().clone())
                .typ("example+sd-jwt")
                .disclosable(ClaimPath::claim("given_name"))
                .disclosable(ClaimPath::claim("group"))
                .holder_key(holder.verifying_key())
                .issue(&issuer, &mut RandomSalts)
                .unwrap();
            let presented = HolderSdJwt::parse(&issued.to_string())
                .unwrap()
                .present(&[ClaimPath::claim("given_name")], None)
                .unwrap();
            Setup { issuer, second_issuer, holder, presented }
        }

        fn parts(&self) -> (String, String, String, Vec<String>) {
            let mut pieces = self.presented.trim_end_matches('~').split('~');
            let jwt = pieces.next().unwrap();
            let disclosures = pieces.map(str::to_owned).collect();
            let mut jws = jwt.split('.').map(str::to_owned);
            (jws.next().unwrap(), jws.next().unwrap(), jws.next().unwrap(), disclosures)
        }

        fn kb_over(&self, text: &str) -> String {
            let input = KeyBindingInput { nonce: "n".into(), audience: "https://v.example".into(), issued_at: NOW };
            key_binding_jwt(text, &self.holder, &input).unwrap()
        }

        /// The general form: the issuer's signature first, then one by `second_issuer`.
        fn general(&self) -> Value {
            let (protected, payload, signature, disclosures) = self.parts();
            let second_protected = base64url::encode(br#"{"alg":"ES256","typ":"example+sd-jwt"}"#);
            let second = self.second_issuer.sign(format!("{second_protected}.{payload}").as_bytes()).unwrap();
            json!({
                "payload": payload,
                "signatures": [
                    {"protected": protected, "signature": signature,
                     "header": {"kid": "k1", "disclosures": disclosures, "kb_jwt": self.kb_over(&self.presented)}},
                    {"protected": second_protected, "signature": base64url::encode(second.as_bytes()),
                     "header": {"kid": "k2"}},
                ]
            })
        }

        fn flattened(&self) -> Value {
            let (protected, payload, signature, disclosures) = self.parts();
            json!({"protected": protected, "payload": payload, "signature": signature,
                   "header": {"disclosures": disclosures, "kb_jwt": self.kb_over(&self.presented)}})
        }
    }

    fn options() -> VerifyOptions {
        VerifyOptions {
            typ: TypPolicy::Exact("example+sd-jwt".into()),
            key_binding: KeyBindingPolicy::Required(KeyBinding::new("n", "https://v.example")),
            clock_skew: 0,
            limits: Limits::default(),
        }
    }

    fn verify(json: &Value, key: &VerifyingKey) -> Result<VerifiedSdJwt> {
        parse_json_serialization(&json.to_string())?.verify(key, &options(), NOW)
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        use schooltas_did::strict_json::Error as J;
        let duplicate = |text: &str| {
            matches!(
                parse_json_serialization(text),
                Err(Error::Did(schooltas_did::Error::Json(J::DuplicateMember { .. })))
            )
        };
        assert!(duplicate(r#"{"a": 1, "a": 2}"#));
        assert!(duplicate(r#"{"header": {"disclosures": [], "disclosures": []}}"#));
        let setup = Setup::new();
        let text = setup.flattened().to_string();
        let doubled = text.replacen("\"payload\":", "\"payload\":\"eyJ9\",\"payload\":", 1);
        assert!(duplicate(&doubled));
        // Equal names in two different objects are no duplicate.
        assert!(matches!(parse_json_serialization(r#"[{"x": 1}, {"x": 1}]"#), Err(Error::MalformedSdJwt { .. })));
    }

    #[test]
    fn flattened_and_general_verify_with_each_signers_key() {
        let setup = Setup::new();
        let flattened = verify(&setup.flattened(), setup.issuer.verifying_key()).unwrap();
        assert_eq!(flattened.claims()["given_name"], "Sanne");
        assert!(flattened.claims().get("group").is_none());
        assert!(flattened.key_binding().is_some());

        let general = setup.general();
        let parsed = parse_json_serialization(&general.to_string()).unwrap();
        assert_eq!(parsed.signature_count(), 2);
        assert!(parsed.has_key_binding());
        assert_eq!(parsed.unprotected_headers().map(|h| h["kid"].clone()).collect::<Vec<_>>(), ["k1", "k2"]);
        assert!(parsed.compact().starts_with(&setup.presented));
        for key in [setup.issuer.verifying_key(), setup.second_issuer.verifying_key()] {
            let verified = parsed.verify(key, &options(), NOW).unwrap();
            assert_eq!(verified.claims()["given_name"], "Sanne");
        }
        let stranger = SigningKey::generate(Algorithm::EdDsa).unwrap();
        assert!(matches!(parsed.verify(stranger.verifying_key(), &options(), NOW), Err(Error::Did(_))));
    }

    #[test]
    fn sd_hash_covers_the_first_signature_only() {
        let setup = Setup::new();
        let mut general = setup.general();
        // A KB-JWT over the second signature's compact form is refused, with either key.
        let (_, payload, _, disclosures) = setup.parts();
        let second = &general["signatures"][1];
        let mut second_compact =
            format!("{}.{payload}.{}~", second["protected"].as_str().unwrap(), second["signature"].as_str().unwrap());
        for d in &disclosures {
            second_compact.push_str(d);
            second_compact.push('~');
        }
        general["signatures"][0]["header"]["kb_jwt"] = json!(setup.kb_over(&second_compact));
        for key in [setup.issuer.verifying_key(), setup.second_issuer.verifying_key()] {
            assert!(matches!(verify(&general, key), Err(Error::SdHashMismatch)));
        }
    }

    #[test]
    fn structure_rules_are_enforced() {
        let setup = Setup::new();
        let malformed =
            |json: &Value| matches!(parse_json_serialization(&json.to_string()), Err(Error::MalformedSdJwt { .. }));

        // Disclosures or kb_jwt in a later unprotected header.
        let mut general = setup.general();
        general["signatures"][1]["header"]["disclosures"] = json!([]);
        assert!(malformed(&general));
        let mut general = setup.general();
        general["signatures"][1]["header"]["kb_jwt"] = general["signatures"][0]["header"]["kb_jwt"].clone();
        assert!(malformed(&general));
        // Flattened and general members mixed; no signatures; no protected header.
        let mut mixed = setup.general();
        mixed["signature"] = setup.flattened()["signature"].clone();
        assert!(malformed(&mixed));
        let mut mixed = setup.flattened();
        mixed["signatures"] = json!([]);
        assert!(malformed(&mixed));
        let mut empty = setup.general();
        empty["signatures"] = json!([]);
        assert!(malformed(&empty));
        let mut unprotected_only = setup.flattened();
        unprotected_only.as_object_mut().unwrap().remove("protected");
        assert!(malformed(&unprotected_only));
        // Unprotected alg/crit, or a member both protected and unprotected.
        for (name, value) in [("alg", json!("EdDSA")), ("crit", json!(["b64"])), ("typ", json!("example+sd-jwt"))] {
            let mut flattened = setup.flattened();
            flattened["header"][name] = value;
            assert!(malformed(&flattened), "{name}");
        }
        // Parts that would change the compact form: a '~' inside a disclosure, a non-string.
        let mut flattened = setup.flattened();
        flattened["header"]["disclosures"][0] = json!(format!("{}~", setup.parts().3[0]));
        assert!(malformed(&flattened));
        let mut flattened = setup.flattened();
        flattened["header"]["disclosures"] = json!([1]);
        assert!(malformed(&flattened));
        let mut flattened = setup.flattened();
        flattened["header"]["kb_jwt"] = json!("a~b");
        assert!(malformed(&flattened));
        assert!(malformed(&json!(["not", "an", "object"])));
        // Too many signatures.
        let mut many = setup.general();
        let copy = many["signatures"][1].clone();
        many["signatures"] = Value::Array(vec![copy; MAX_SIGNATURES + 1]);
        assert!(matches!(
            parse_json_serialization(&many.to_string()),
            Err(Error::LimitExceeded { what: "number of signatures", .. })
        ));
    }

    #[test]
    fn tampering_is_refused_as_in_the_compact_form() {
        let setup = Setup::new();
        // A disclosure dropped after the KB-JWT was made: sd_hash no longer matches.
        let mut flattened = setup.flattened();
        flattened["header"]["disclosures"] = json!([]);
        assert!(matches!(verify(&flattened, setup.issuer.verifying_key()), Err(Error::SdHashMismatch)));
        // Key binding required but absent.
        let mut flattened = setup.flattened();
        flattened["header"].as_object_mut().unwrap().remove("kb_jwt");
        assert!(matches!(verify(&flattened, setup.issuer.verifying_key()), Err(Error::MissingKeyBinding)));
        // A signature from another key under the issuer's protected header.
        let mut flattened = setup.flattened();
        flattened["signature"] = setup.general()["signatures"][1]["signature"].clone();
        assert!(verify(&flattened, setup.issuer.verifying_key()).is_err());
    }
}
