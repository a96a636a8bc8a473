//! Verification of SD-JWTs and SD-JWT VCs (RFC 9901 §7, SD-JWT VC §3), strictly.

use std::collections::HashSet;
use std::fmt;

use schooltas_did::jws::{CompactJws, Header};
use schooltas_did::{VerifyingKey, base64url};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::disclosure::Disclosure;
use super::path::{ClaimPath, PathElement};
use crate::{Error, Result};

/// Hard limits that keep hostile input from exhausting memory or stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest presentation accepted, in bytes.
    pub max_len: usize,
    /// The most disclosures accepted.
    pub max_disclosures: usize,
    /// The deepest nesting of objects and arrays accepted in the processed payload.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_len: 512 << 10, max_disclosures: 512, max_depth: 32 }
    }
}

/// Which `typ` the issuer-signed JWT must carry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypPolicy {
    /// SD-JWT VC: `dc+sd-jwt` (SD-JWT VC §3.2.1), and the VC rules: `vct` present, registered
    /// claims (`iss`, `nbf`, `exp`, `cnf`, `vct`, `status`) never selectively disclosed.
    SdJwtVc,
    /// Exactly this `typ` (plain SD-JWT of an application profile).
    Exact(String),
    /// Any or no `typ`. For test vectors of other profiles; not for production.
    DangerousAny,
}

/// What the verifier expects of the key-binding JWT (RFC 9901 §7.3): one value, so key binding
/// cannot be half-configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBinding {
    /// The nonce the verifier issued for this presentation.
    pub nonce: String,
    /// The verifier's own identifier, which must be the KB-JWT `aud`.
    pub audience: String,
    /// How old (seconds) the KB-JWT `iat` may be.
    pub max_age: i64,
}

impl KeyBinding {
    /// Expect `nonce` and `audience`, accepting a KB-JWT issued up to 5 minutes ago.
    pub fn new(nonce: impl Into<String>, audience: impl Into<String>) -> Self {
        KeyBinding { nonce: nonce.into(), audience: audience.into(), max_age: 300 }
    }
}

/// Whether the presentation must be key-bound.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyBindingPolicy {
    /// A KB-JWT must be present and match these expectations.
    Required(KeyBinding),
    /// No KB-JWT is required (checking an issuance, say). A KB-JWT that is present is still
    /// checked for its signature and `sd_hash`; its nonce and audience are not checked.
    NotRequired,
}

/// Everything verification needs besides the input and the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The `typ` rule.
    pub typ: TypPolicy,
    /// The key-binding rule.
    pub key_binding: KeyBindingPolicy,
    /// Accepted clock difference, in seconds, for `iat`, `nbf`, `exp` and the KB-JWT `iat`.
    pub clock_skew: i64,
    /// Size, count and depth limits.
    pub limits: Limits,
}

impl VerifyOptions {
    /// SD-JWT VC with key binding to `nonce` and `audience`, 60 s clock skew, default limits.
    pub fn sd_jwt_vc(key_binding: KeyBinding) -> Self {
        VerifyOptions {
            typ: TypPolicy::SdJwtVc,
            key_binding: KeyBindingPolicy::Required(key_binding),
            clock_skew: 60,
            limits: Limits::default(),
        }
    }

    /// SD-JWT VC as issued, without key binding: what a wallet checks before storing a
    /// credential it has just received (it holds the key; there is no verifier nonce yet).
    /// A verifier receiving a presentation uses [`sd_jwt_vc`](Self::sd_jwt_vc) instead.
    pub fn sd_jwt_vc_as_issued() -> Self {
        VerifyOptions {
            typ: TypPolicy::SdJwtVc,
            key_binding: KeyBindingPolicy::NotRequired,
            clock_skew: 60,
            limits: Limits::default(),
        }
    }
}

/// An SD-JWT split into its parts, nothing checked yet (RFC 9901 §4, compact form).
///
/// There is no way to read claims from it: only [`UnverifiedSdJwt::verify`] yields them.
pub struct UnverifiedSdJwt<'a> {
    jwt: CompactJws<'a>,
    disclosures: Vec<&'a str>,
    kb_jwt: Option<&'a str>,
    /// Everything up to and including the last `~`: what `sd_hash` covers (RFC 9901 §4.3.1).
    without_kb: &'a str,
}

impl<'a> UnverifiedSdJwt<'a> {
    /// Splits a compact SD-JWT with the default [`Limits`].
    pub fn parse(text: &'a str) -> Result<Self> {
        Self::parse_with_limits(text, &Limits::default())
    }

    /// Splits a compact SD-JWT, enforcing `limits` before doing any work.
    pub fn parse_with_limits(text: &'a str, limits: &Limits) -> Result<Self> {
        if text.len() > limits.max_len {
            return Err(Error::LimitExceeded { what: "SD-JWT length", actual: text.len(), limit: limits.max_len });
        }
        let last_tilde = text.rfind('~').ok_or(Error::MalformedSdJwt {
            reason: "an SD-JWT ends with '~' or a key-binding JWT after the last '~'",
        })?;
        let without_kb = &text[..=last_tilde];
        let kb_part = &text[last_tilde + 1..];
        let mut parts = without_kb[..last_tilde].split('~');
        let jwt_text = parts.next().unwrap_or_default();
        let mut disclosures = Vec::new();
        for part in parts {
            if part.is_empty() {
                return Err(Error::MalformedSdJwt { reason: "empty disclosure between '~' separators" });
            }
            if disclosures.len() == limits.max_disclosures {
                return Err(Error::LimitExceeded {
                    what: "number of disclosures",
                    actual: without_kb.matches('~').count() - 1,
                    limit: limits.max_disclosures,
                });
            }
            disclosures.push(part);
        }
        let jwt = CompactJws::parse_with_limit(jwt_text, limits.max_len)?;
        let kb_jwt = (!kb_part.is_empty()).then_some(kb_part);
        Ok(UnverifiedSdJwt { jwt, disclosures, kb_jwt, without_kb })
    }

    /// Makes the KB-JWT `sd_hash` cover `text` instead of this SD-JWT's own text up to the last
    /// `~`: in the JWS JSON serialization it covers the compact form built from the first
    /// signature, whichever signature is verified (RFC 9901 §8.1).
    pub(super) fn with_sd_hash_input(mut self, text: &'a str) -> Self {
        self.without_kb = text;
        self
    }

    /// The `sd_hash` a key-binding JWT over this SD-JWT carries: base64url SHA-256 of everything
    /// up to and including the last `~` (RFC 9901 §4.3.1). Another signed message can name this
    /// exact presentation by it (a Schooltas guardian approval does).
    pub fn sd_hash(&self) -> String {
        base64url::encode(Sha256::digest(self.without_kb.as_bytes()))
    }

    /// The issuer-signed JWT's protected header (for choosing the key: `kid`, `alg`).
    pub fn issuer_header(&self) -> &Header {
        self.jwt.header()
    }

    /// Whether a key-binding JWT is attached.
    pub fn has_key_binding(&self) -> bool {
        self.kb_jwt.is_some()
    }

    /// Verifies against a known issuer key at time `now` (Unix seconds).
    pub fn verify(&self, issuer_key: &VerifyingKey, options: &VerifyOptions, now: i64) -> Result<VerifiedSdJwt> {
        self.verify_with(|_, _| Ok(issuer_key.clone()), options, now)
    }

    /// Verifies, asking `issuer_key` for the key given the header and the (not yet verified)
    /// `iss` claim — for example to resolve `iss`/`kid` through a trust list or a DID resolver.
    /// Nothing from the payload is returned unless the signature verifies with that key.
    pub fn verify_with(
        &self,
        issuer_key: impl FnOnce(&Header, Option<&str>) -> Result<VerifyingKey>,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedSdJwt> {
        self.verify_with_payload(
            |header, payload| issuer_key(header, payload.get("iss").and_then(Value::as_str)),
            options,
            now,
        )
    }

    /// Verifies like [`verify_with`](Self::verify_with), but hands `issuer_key` the whole
    /// issuer-signed payload as parsed (strictly) — **not yet verified** — so that a caller can
    /// decide on the key from `iss` and `vct` together (a trust list accrediting an issuer per
    /// credential type, say) without parsing the payload a second time. The payload is the one
    /// the signature is then checked over; nothing from it is returned unless that check passes.
    pub fn verify_with_payload(
        &self,
        issuer_key: impl FnOnce(&Header, &Map<String, Value>) -> Result<VerifyingKey>,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedSdJwt> {
        check_typ(self.jwt.header(), &options.typ)?;
        // The payload is read first only to find the issuer key; it is used after the
        // signature check passes.
        let payload_bytes = self.jwt.dangerous_unverified_payload()?;
        // Strict: a member named twice (anywhere) or an integer beyond 64 bits would let two
        // verifiers read one signed credential differently.
        let mut payload = match schooltas_did::strict_json::to_value(&payload_bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(Error::InvalidPayload { reason: "the payload is not a JSON object".into() }),
            Err(error) if error.is_strictness() => return Err(error.into()),
            Err(_) => return Err(Error::InvalidPayload { reason: "the payload is not JSON".into() }),
        };
        let key = issuer_key(self.jwt.header(), &payload)?;
        // RFC 9901 §7.1 step 2: the signature, with the algorithm pinned to the issuer's key.
        key.verify(self.jwt.algorithm(), self.jwt.signing_input().as_bytes(), self.jwt.signature())?;

        // RFC 9901 §7.1 step 3.a: the hash algorithm.
        match payload.remove("_sd_alg") {
            None => {}
            Some(Value::String(alg)) if alg == "sha-256" => {}
            Some(Value::String(alg)) => return Err(Error::UnsupportedHashAlgorithm { alg }),
            Some(_) => return Err(Error::InvalidPayload { reason: "_sd_alg is not a string".into() }),
        }

        check_time(&payload, now, options.clock_skew)?;

        let mut processor = Processor::new(&self.disclosures, options.limits.max_depth)?;
        let claims = processor.process_object(payload, 0, &mut Vec::new())?;
        // RFC 9901 §7.1 step 5: every presented disclosure must have been referenced.
        if let Some(unused) = processor.slots.iter().flatten().next() {
            return Err(Error::UnreferencedDisclosure { digest: unused.digest().to_owned() });
        }
        let disclosed = processor.disclosed;

        if options.typ == TypPolicy::SdJwtVc {
            check_vc_rules(&claims, &disclosed)?;
        }

        // The holder key is read when key binding is checked (and must then be usable); without
        // key binding an unusable `cnf` is not an error, the key is simply not available.
        let key_binding_checked = self.kb_jwt.is_some() || matches!(options.key_binding, KeyBindingPolicy::Required(_));
        let holder_key = if key_binding_checked { holder_key(&claims)? } else { holder_key(&claims).ok().flatten() };
        let key_binding = self.check_key_binding(holder_key.as_ref(), &options.key_binding, options.clock_skew, now)?;

        Ok(VerifiedSdJwt { header: self.jwt.header().clone(), claims, disclosed, holder_key, key_binding })
    }

    fn check_key_binding(
        &self,
        holder_key: Option<&VerifyingKey>,
        policy: &KeyBindingPolicy,
        skew: i64,
        now: i64,
    ) -> Result<Option<KeyBindingClaims>> {
        let Some(kb_text) = self.kb_jwt else {
            return match policy {
                KeyBindingPolicy::Required(_) => Err(Error::MissingKeyBinding),
                KeyBindingPolicy::NotRequired => Ok(None),
            };
        };
        let holder_key = holder_key.ok_or(Error::MissingHolderKey)?;
        // A KB-JWT that is not a JWS at all is a key-binding failure, not an issuer-signature
        // one; strict-JSON refusals of its header keep their own error (issue 12 item 10).
        let kb = CompactJws::parse(kb_text).map_err(|e| match e {
            strict @ schooltas_did::Error::Json(_) => Error::Did(strict),
            _ => Error::InvalidKeyBinding { reason: "it is not a compact JWS" },
        })?;
        // RFC 9901 §7.3 step 5: typ kb+jwt, signature with the cnf key (alg pinned to it).
        if kb.header().typ() != Some("kb+jwt") {
            return Err(Error::WrongTyp { found: kb.header().typ().map(str::to_owned), expected: "kb+jwt".into() });
        }
        let verified = kb.verify(holder_key).map_err(|e| match e {
            strict @ schooltas_did::Error::Json(_) => Error::Did(strict),
            source => Error::KeyBindingSignature { source },
        })?;
        // `to_value` and a match rather than `payload_json::<Map>`, which builds the object twice.
        let claims = match schooltas_did::strict_json::to_value(verified.payload()) {
            Ok(Value::Object(claims)) => claims,
            Ok(_) | Err(schooltas_did::strict_json::Error::Invalid(_)) => {
                return Err(Error::InvalidKeyBinding { reason: "the payload is not a JSON object" });
            }
            Err(strict) => return Err(strict.into()),
        };
        let text = |name, missing| {
            claims.get(name).and_then(Value::as_str).ok_or(Error::InvalidKeyBinding { reason: missing })
        };
        let sd_hash = text("sd_hash", "sd_hash is missing or not a string")?;
        let nonce = text("nonce", "nonce is missing or not a string")?;
        let aud = text("aud", "aud is missing or not a single string")?;
        let iat = claims
            .get("iat")
            .and_then(numeric_date)
            .ok_or(Error::InvalidKeyBinding { reason: "iat is missing or not a number" })?;
        // RFC 9901 §7.3 step 6: sd_hash over the exact presented text up to the last '~'.
        let computed = base64url::encode(Sha256::digest(self.without_kb.as_bytes()));
        if sd_hash != computed {
            return Err(Error::SdHashMismatch);
        }
        if let KeyBindingPolicy::Required(expected) = policy {
            if nonce != expected.nonce {
                return Err(Error::NonceMismatch);
            }
            if aud != expected.audience {
                return Err(Error::AudienceMismatch { found: aud.to_owned(), expected: expected.audience.clone() });
            }
            let earliest = now - expected.max_age - skew;
            let latest = now + skew;
            if iat < earliest || iat > latest {
                return Err(Error::KeyBindingStale { iat, earliest, latest });
            }
        }
        let transaction_data_hashes = match claims.get("transaction_data_hashes") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(Error::InvalidKeyBinding { reason: "transaction_data_hashes is not an array of strings" })?,
            Some(_) => {
                return Err(Error::InvalidKeyBinding { reason: "transaction_data_hashes is not an array of strings" });
            }
        };
        Ok(Some(KeyBindingClaims {
            nonce: nonce.to_owned(),
            audience: aud.to_owned(),
            issued_at: iat,
            transaction_data_hashes,
            sd_hash: computed,
        }))
    }
}

impl fmt::Debug for UnverifiedSdJwt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnverifiedSdJwt")
            .field("header", self.jwt.header())
            .field("disclosures", &self.disclosures.len())
            .field("key_binding", &self.kb_jwt.is_some())
            .finish()
    }
}

fn check_typ(header: &Header, policy: &TypPolicy) -> Result<()> {
    let expected = match policy {
        TypPolicy::DangerousAny => return Ok(()),
        TypPolicy::SdJwtVc => "dc+sd-jwt",
        TypPolicy::Exact(typ) => typ.as_str(),
    };
    match header.typ() {
        Some(typ) if typ == expected => Ok(()),
        found => Err(Error::WrongTyp { found: found.map(str::to_owned), expected: expected.to_owned() }),
    }
}

/// A JWT NumericDate (RFC 7519 §2): a JSON number of seconds; fractions are truncated.
fn numeric_date(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

fn date_claim(payload: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match payload.get(name) {
        None => Ok(None),
        Some(value) => numeric_date(value)
            .map(Some)
            .ok_or_else(|| Error::InvalidPayload { reason: format!("{name} is not a number") }),
    }
}

/// RFC 7519 §4.1.4/5/6 against the injected clock, with bounded skew.
fn check_time(payload: &Map<String, Value>, now: i64, skew: i64) -> Result<()> {
    if let Some(exp) = date_claim(payload, "exp")?
        && now >= exp.saturating_add(skew)
    {
        return Err(Error::Expired { exp, now });
    }
    if let Some(nbf) = date_claim(payload, "nbf")?
        && now < nbf.saturating_sub(skew)
    {
        return Err(Error::NotYetValid { nbf, now });
    }
    if let Some(iat) = date_claim(payload, "iat")?
        && iat.saturating_sub(skew) > now
    {
        return Err(Error::IssuedInFuture { iat, now });
    }
    Ok(())
}

/// SD-JWT VC §3.2.2: `vct` is required, and these claims must never be selectively disclosed.
fn check_vc_rules(claims: &Map<String, Value>, disclosed: &[ClaimPath]) -> Result<()> {
    if !matches!(claims.get("vct"), Some(Value::String(_))) {
        return Err(Error::InvalidPayload { reason: "an SD-JWT VC must have a string vct claim".into() });
    }
    for path in disclosed {
        if let [PathElement::Key(name)] = path.elements()
            && super::vc::NEVER_DISCLOSABLE.contains(&name.as_str())
        {
            return Err(Error::InvalidPayload {
                reason: format!("the registered claim {name:?} must not be selectively disclosable"),
            });
        }
    }
    Ok(())
}

fn holder_key(claims: &Map<String, Value>) -> Result<Option<VerifyingKey>> {
    let Some(cnf) = claims.get("cnf") else { return Ok(None) };
    let invalid = |reason: &str| Error::InvalidHolderKey { reason: reason.to_owned() };
    let cnf = cnf.as_object().ok_or_else(|| invalid("cnf is not an object"))?;
    match cnf.get("jwk") {
        Some(Value::Object(jwk)) => VerifyingKey::from_jwk(jwk).map(Some).map_err(|e| invalid(&e.to_string())),
        Some(_) => Err(invalid("cnf.jwk is not an object")),
        None => Err(invalid("only cnf.jwk holder keys are supported")),
    }
}

/// Walks the payload, replacing digests with their disclosures (RFC 9901 §7.1 step 3).
struct Processor {
    /// Disclosures in presentation order; a slot is emptied when its disclosure is used.
    slots: Vec<Option<Disclosure>>,
    /// (digest, slot) sorted by digest: a binary search per digest in the payload, no hashing
    /// (a presentation carries a handful of disclosures, at most `max_disclosures`).
    index: Vec<(String, usize)>,
    /// Digests met that no disclosure matches (decoys, undisclosed claims), to refuse one met
    /// twice. A digest that matches a disclosure is met twice when its slot is already empty.
    /// Hashed with the standard library's keyed hasher: the digests are the sender's strings.
    unmatched: HashSet<String>,
    disclosed: Vec<ClaimPath>,
    max_depth: usize,
}

impl Processor {
    fn new(encoded: &[&str], max_depth: usize) -> Result<Self> {
        let mut slots = Vec::with_capacity(encoded.len());
        let mut index: Vec<(String, usize)> = Vec::with_capacity(encoded.len());
        for text in encoded {
            let disclosure = Disclosure::parse(text)?;
            // RFC 9901 §7.1 step 5 (second part): the same disclosure twice is refused.
            match index.binary_search_by(|(digest, _)| digest.as_str().cmp(disclosure.digest())) {
                Ok(_) => return Err(Error::DuplicateDisclosure { digest: disclosure.digest().to_owned() }),
                Err(at) => index.insert(at, (disclosure.digest().to_owned(), slots.len())),
            }
            slots.push(Some(disclosure));
        }
        Ok(Processor { slots, index, unmatched: HashSet::new(), disclosed: Vec::new(), max_depth })
    }

    /// Records a digest; the same digest twice anywhere in the SD-JWT is refused (§7.1 step 4).
    fn take(&mut self, digest: String) -> Result<Option<Disclosure>> {
        match self.index.binary_search_by(|(known, _)| known.as_str().cmp(&digest)) {
            Ok(at) => match self.slots[self.index[at].1].take() {
                Some(disclosure) => Ok(Some(disclosure)),
                None => Err(Error::DuplicateDigest { digest }),
            },
            Err(_) if self.unmatched.contains(digest.as_str()) => Err(Error::DuplicateDigest { digest }),
            Err(_) => {
                self.unmatched.insert(digest);
                Ok(None)
            }
        }
    }

    fn depth_check(&self, depth: usize) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::LimitExceeded { what: "nesting depth", actual: depth, limit: self.max_depth });
        }
        Ok(())
    }

    fn process_value(&mut self, value: Value, depth: usize, path: &mut Vec<PathElement>) -> Result<Value> {
        match value {
            Value::Object(map) => self.process_object(map, depth + 1, path).map(Value::Object),
            Value::Array(items) => self.process_array(items, depth + 1, path).map(Value::Array),
            other => Ok(other),
        }
    }

    fn process_object(
        &mut self,
        mut map: Map<String, Value>,
        depth: usize,
        path: &mut Vec<PathElement>,
    ) -> Result<Map<String, Value>> {
        self.depth_check(depth)?;
        let digests = match map.remove("_sd") {
            None => Vec::new(),
            Some(Value::Array(digests)) => digests,
            Some(_) => return Err(Error::InvalidPayload { reason: "_sd is not an array".into() }),
        };
        if map.contains_key("...") {
            return Err(Error::InvalidPayload { reason: "\"...\" is only allowed as an array element digest".into() });
        }
        let mut out = Map::new();
        for (name, value) in map {
            path.push(PathElement::Key(name.clone()));
            let processed = self.process_value(value, depth, path)?;
            path.pop();
            out.insert(name, processed);
        }
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(Error::InvalidPayload { reason: "_sd contains a value that is not a string".into() });
            };
            let Some(disclosure) = self.take(digest)? else { continue };
            let Some(name) = disclosure.claim_name().map(str::to_owned) else {
                return Err(Error::DisclosureKindMismatch {
                    digest: disclosure.digest().to_owned(),
                    reason: "an array-element disclosure is referenced from an object's _sd",
                });
            };
            // RFC 9901 §7.1 step 3.c.ii.3: a disclosed claim never overwrites one that exists.
            if out.contains_key(&name) {
                return Err(Error::ClaimCollision { digest: disclosure.digest().to_owned(), name });
            }
            path.push(PathElement::Key(name.clone()));
            self.disclosed.push(ClaimPath::new(path.clone())?);
            let value = self.process_value(disclosure.into_value(), depth, path)?;
            path.pop();
            out.insert(name, value);
        }
        Ok(out)
    }

    fn process_array(&mut self, items: Vec<Value>, depth: usize, path: &mut Vec<PathElement>) -> Result<Vec<Value>> {
        self.depth_check(depth)?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let digest = match &item {
                Value::Object(map) if map.contains_key("...") => {
                    if map.len() != 1 {
                        return Err(Error::InvalidPayload {
                            reason: "an array element digest object has exactly one member \"...\"".into(),
                        });
                    }
                    match map.get("...") {
                        Some(Value::String(d)) => Some(d.clone()),
                        _ => return Err(Error::InvalidPayload { reason: "\"...\" is not a string".into() }),
                    }
                }
                _ => None,
            };
            path.push(PathElement::Index(out.len()));
            match digest {
                None => {
                    let value = self.process_value(item, depth, path)?;
                    out.push(value);
                }
                Some(digest) => {
                    // RFC 9901 §7.1 step 3.d: an undisclosed element is removed.
                    if let Some(disclosure) = self.take(digest)? {
                        if disclosure.claim_name().is_some() {
                            return Err(Error::DisclosureKindMismatch {
                                digest: disclosure.digest().to_owned(),
                                reason: "an object-property disclosure is referenced as an array element",
                            });
                        }
                        self.disclosed.push(ClaimPath::new(path.clone())?);
                        let value = self.process_value(disclosure.into_value(), depth, path)?;
                        out.push(value);
                    }
                }
            }
            path.pop();
        }
        Ok(out)
    }
}

/// The claims of a key-binding JWT that was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBindingClaims {
    /// The nonce it carries.
    pub nonce: String,
    /// Its audience.
    pub audience: String,
    /// Its `iat`.
    pub issued_at: i64,
    /// Its `transaction_data_hashes` (OpenID4VP Appendix B.3.3), empty when absent.
    pub transaction_data_hashes: Vec<String>,
    /// Its `sd_hash`, checked: the base64url SHA-256 of the presentation up to the last `~`
    /// (RFC 9901 §4.3.1), by which another signed message can name this presentation (a
    /// guardian approval does) without hashing it again.
    pub sd_hash: String,
}

/// A verified SD-JWT: the processed payload (disclosed claims merged in, `_sd`, `_sd_alg` and
/// `...` removed) plus what the verifier needs next, as typed values.
#[derive(Clone)]
pub struct VerifiedSdJwt {
    header: Header,
    claims: Map<String, Value>,
    disclosed: Vec<ClaimPath>,
    holder_key: Option<VerifyingKey>,
    key_binding: Option<KeyBindingClaims>,
}

impl VerifiedSdJwt {
    /// The processed payload.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Takes the processed payload.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }

    /// The issuer-signed JWT's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// `iss`, if present.
    pub fn issuer(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }

    /// `vct`, if present.
    pub fn vct(&self) -> Option<&str> {
        self.claims.get("vct").and_then(Value::as_str)
    }

    /// The holder key from `cnf.jwk`, if the credential is holder-bound.
    pub fn holder_key(&self) -> Option<&VerifyingKey> {
        self.holder_key.as_ref()
    }

    /// The claims of the key-binding JWT, if one was presented and checked.
    pub fn key_binding(&self) -> Option<&KeyBindingClaims> {
        self.key_binding.as_ref()
    }

    /// The paths of the claims that were selectively disclosed in this presentation.
    pub fn disclosed_paths(&self) -> &[ClaimPath] {
        &self.disclosed
    }

    /// The raw `status` claim, if present.
    pub fn status(&self) -> Option<&Value> {
        self.claims.get("status")
    }

    /// The Token Status List entry the `status` claim points at: `Ok(None)` when there is no
    /// `status` claim or it names another mechanism only, an error when it is malformed. Check it
    /// with [`StatusListCache::check`](schooltas_status_list::StatusListCache::check).
    pub fn status_reference(&self) -> Result<Option<schooltas_status_list::StatusReference>> {
        match self.status() {
            None => Ok(None),
            Some(status) => Ok(schooltas_status_list::StatusReference::from_status_claim(status)?),
        }
    }
}

impl fmt::Debug for VerifiedSdJwt {
    // Claim values are personal data: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedSdJwt")
            .field("issuer", &self.issuer())
            .field("vct", &self.vct())
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .field("disclosed", &self.disclosed)
            .field("key_binding", &self.key_binding.is_some())
            .finish()
    }
}
