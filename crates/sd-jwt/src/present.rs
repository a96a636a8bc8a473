//! Presentation (RFC 9901 §4.3, §5.2): the holder picks claims by path and binds the result to
//! the verifier's nonce and audience.

use schooltas_did::jws::{self, CompactJws, Header};
use schooltas_did::{Signer, base64url};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::disclosure::Disclosure;
use super::issue::IssuedSdJwt;
use super::path::{ClaimPath, PathElement};
use crate::{Error, Result};

/// What the key-binding JWT binds the presentation to (RFC 9901 §4.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBindingInput {
    /// The verifier's nonce.
    pub nonce: String,
    /// The verifier (the KB-JWT `aud`).
    pub audience: String,
    /// When the presentation is made (Unix seconds).
    pub issued_at: i64,
}

/// The holder's copy of an SD-JWT: the issuer-signed payload with every disclosure, ready to
/// present parts of.
///
/// The holder parses what the issuer sent; a wallet verifies it (signature, status, type) with
/// [`super::UnverifiedSdJwt`] before storing it.
///
/// ```
/// use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput, RandomSalts, SdJwtBuilder};
/// use schooltas_sd_jwt::ClaimPath;
/// use schooltas_did::{Algorithm, Signer, SigningKey};
/// use serde_json::json;
///
/// let school = SigningKey::generate(Algorithm::EdDsa)?;
/// let child = SigningKey::generate(Algorithm::EdDsa)?;
/// let claims = json!({"vct": "https://schooltas.example/enrolment", "given_name": "Sanne", "group": "7"});
/// let issued = SdJwtBuilder::new(claims.as_object().unwrap().clone())
///     .disclosable(ClaimPath::claim("given_name"))
///     .disclosable(ClaimPath::claim("group"))
///     .holder_key(child.verifying_key())
///     .issue(&school, &mut RandomSalts)?;
///
/// let holder = HolderSdJwt::parse(&issued.to_string())?;
/// let kb = KeyBindingInput { nonce: "n-123".into(), audience: "https://photo.example".into(), issued_at: 1_700_000_000 };
/// let presentation = holder.present(&[ClaimPath::claim("group")], Some((&child, &kb)))?;
/// assert_eq!(presentation.matches('~').count(), 2); // jwt~<group>~<kb-jwt>
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct HolderSdJwt {
    issued: IssuedSdJwt,
    payload: Map<String, Value>,
    /// The disclosures' indices sorted by digest, built once per parse: every presentation of
    /// this copy looks disclosures up by binary search instead of building a map.
    by_digest: Vec<usize>,
}

impl HolderSdJwt {
    /// Parses `<jwt>~<d1>~…~` as issued. A key-binding JWT at the end is refused: an issuance
    /// never has one.
    pub fn parse(text: &str) -> Result<Self> {
        let Some(body) = text.strip_suffix('~') else {
            return Err(Error::MalformedSdJwt { reason: "an issued SD-JWT ends with '~'" });
        };
        let mut parts = body.split('~');
        let jwt = parts.next().unwrap_or_default();
        let parsed = CompactJws::parse(jwt)?;
        // `to_value` and a match rather than `from_slice::<Map>`, which builds the object twice.
        let payload = match schooltas_did::strict_json::to_value(&parsed.dangerous_unverified_payload()?) {
            Ok(Value::Object(payload)) => payload,
            Ok(_) | Err(schooltas_did::strict_json::Error::Invalid(_)) => {
                return Err(Error::InvalidPayload { reason: "the payload is not a JSON object".into() });
            }
            Err(refusal) => return Err(refusal.into()),
        };
        let disclosures = parts.map(Disclosure::parse).collect::<Result<Vec<_>>>()?;
        let mut by_digest: Vec<usize> = (0..disclosures.len()).collect();
        by_digest.sort_unstable_by(|&a, &b| digest_at(&disclosures, a).cmp(digest_at(&disclosures, b)));
        Ok(HolderSdJwt { issued: IssuedSdJwt::from_parts(jwt.to_owned(), disclosures), payload, by_digest })
    }

    /// The issued form.
    pub fn issued(&self) -> &IssuedSdJwt {
        &self.issued
    }

    /// The disclosures needed to reveal `paths` and nothing else: for each path, the
    /// disclosures of its parents and of everything inside it.
    pub fn disclosures_for(&self, paths: &[ClaimPath]) -> Result<Vec<&Disclosure>> {
        let disclosures = self.issued.disclosures();
        let mut selection =
            Selection { disclosures, by_digest: &self.by_digest, chosen: vec![false; disclosures.len()] };
        let root = Node::Object(&self.payload);
        for path in paths {
            let mut found = false;
            select(root, path.elements(), &mut selection, &mut found, path)?;
            if !found {
                return Err(Error::InvalidClaimPath {
                    path: path.to_string(),
                    reason: "the credential has no such claim",
                });
            }
        }
        // Keep issuance order: it is what the holder received, and reveals nothing new.
        Ok(disclosures.iter().zip(&selection.chosen).filter(|(_, chosen)| **chosen).map(|(d, _)| d).collect())
    }

    /// Presents the claims at `paths`, with a key-binding JWT signed by `holder` when given.
    pub fn present(&self, paths: &[ClaimPath], key_binding: Option<(&dyn Signer, &KeyBindingInput)>) -> Result<String> {
        self.present_with_claims(paths, key_binding, &Map::new())
    }

    /// As [`HolderSdJwt::present`], with `extra` claims in the key-binding JWT — OpenID4VP's
    /// `transaction_data_hashes` and `transaction_data_hashes_alg` (Appendix B.3.3). `extra`
    /// cannot replace `iat`, `aud`, `nonce` or `sd_hash`.
    pub fn present_with_claims(
        &self,
        paths: &[ClaimPath],
        key_binding: Option<(&dyn Signer, &KeyBindingInput)>,
        extra: &Map<String, Value>,
    ) -> Result<String> {
        let chosen = self.disclosures_for(paths)?;
        let mut out = String::with_capacity(
            self.issued.jwt().len() + chosen.iter().map(|d| d.as_str().len() + 1).sum::<usize>() + 400,
        );
        out.push_str(self.issued.jwt());
        out.push('~');
        for disclosure in chosen {
            out.push_str(disclosure.as_str());
            out.push('~');
        }
        if let Some((signer, input)) = key_binding {
            let kb = key_binding_jwt_with_claims(&out, signer, input, extra)?;
            out.push_str(&kb);
        }
        Ok(out)
    }
}

impl std::fmt::Debug for HolderSdJwt {
    // Claim values are personal data: show claim names and disclosure digests only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HolderSdJwt")
            .field("claim_names", &self.payload.keys().collect::<Vec<_>>())
            .field("disclosures", &self.issued.disclosures())
            .finish()
    }
}

/// A KB-JWT over `presented` (everything up to and including the last `~`).
pub fn key_binding_jwt(presented: &str, signer: &dyn Signer, input: &KeyBindingInput) -> Result<String> {
    key_binding_jwt_with_claims(presented, signer, input, &Map::new())
}

/// A KB-JWT over `presented` with `extra` claims besides the four RFC 9901 ones.
pub fn key_binding_jwt_with_claims(
    presented: &str,
    signer: &dyn Signer,
    input: &KeyBindingInput,
    extra: &Map<String, Value>,
) -> Result<String> {
    let sd_hash = base64url::encode(Sha256::digest(presented.as_bytes()));
    let claims = KbClaims { extra, iat: input.issued_at, aud: &input.audience, nonce: &input.nonce, sd_hash: &sd_hash };
    Ok(jws::sign_compact_json(&Header::new().with_typ("kb+jwt"), &claims, signer)?)
}

/// The KB-JWT payload, serialized without building a map: the members in name order (as a
/// JSON object map holds them), the four RFC 9901 claims replacing any `extra` member of the
/// same name.
struct KbClaims<'a> {
    extra: &'a Map<String, Value>,
    iat: i64,
    aud: &'a str,
    nonce: &'a str,
    sd_hash: &'a str,
}

impl serde::Serialize for KbClaims<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        enum Own<'a> {
            Text(&'a str),
            Number(i64),
        }
        // Sorted by name, as the extra members are.
        let own = [
            ("aud", Own::Text(self.aud)),
            ("iat", Own::Number(self.iat)),
            ("nonce", Own::Text(self.nonce)),
            ("sd_hash", Own::Text(self.sd_hash)),
        ];
        let extra = self.extra.iter().filter(|(name, _)| !own.iter().any(|(own, _)| own == name));
        let mut map = serializer.serialize_map(Some(own.len() + extra.clone().count()))?;
        let mut extra = extra.peekable();
        for (name, value) in &own {
            while let Some((extra_name, extra_value)) = extra.next_if(|(extra_name, _)| extra_name.as_str() < *name) {
                map.serialize_entry(extra_name, extra_value)?;
            }
            match value {
                Own::Text(text) => map.serialize_entry(name, text)?,
                Own::Number(number) => map.serialize_entry(name, number)?,
            }
        }
        for (name, value) in extra {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

fn digest_at(disclosures: &[Disclosure], index: usize) -> &str {
    disclosures.get(index).map(Disclosure::digest).unwrap_or_default()
}

/// The disclosures of one copy, looked up by digest, and which of them a presentation takes.
struct Selection<'a> {
    disclosures: &'a [Disclosure],
    by_digest: &'a [usize],
    chosen: Vec<bool>,
}

impl<'a> Selection<'a> {
    /// The first position in `by_digest` whose disclosure has `digest`, if any.
    fn position(&self, digest: &str) -> Option<usize> {
        let at = self.by_digest.partition_point(|&i| digest_at(self.disclosures, i) < digest);
        let index = *self.by_digest.get(at)?;
        (digest_at(self.disclosures, index) == digest).then_some(at)
    }

    fn get(&self, digest: &str) -> Option<&'a Disclosure> {
        let at = self.position(digest)?;
        self.by_digest.get(at).and_then(|&i| self.disclosures.get(i))
    }

    /// Takes the disclosure with `digest` (every copy of it, should the issuer have sent one
    /// twice).
    fn choose(&mut self, digest: &str) {
        let Some(at) = self.position(digest) else { return };
        for &index in self.by_digest.get(at..).unwrap_or_default() {
            if digest_at(self.disclosures, index) != digest {
                break;
            }
            if let Some(chosen) = self.chosen.get_mut(index) {
                *chosen = true;
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Object(&'a Map<String, Value>),
    Array(&'a [Value]),
    Leaf,
}

fn node(value: &Value) -> Node<'_> {
    match value {
        Value::Object(map) => Node::Object(map),
        Value::Array(items) => Node::Array(items),
        _ => Node::Leaf,
    }
}

/// The digest of an array element placeholder `{"...": digest}`.
fn element_digest(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get("...").and_then(Value::as_str),
        _ => None,
    }
}

/// The elements of an array as the holder sees them: plain values and disclosed elements, in
/// order; decoys (digests without a disclosure) are skipped.
fn visible_elements<'a>(items: &'a [Value], selection: &Selection<'a>) -> Vec<(&'a Value, Option<&'a Disclosure>)> {
    items
        .iter()
        .filter_map(|item| match element_digest(item) {
            None => Some((item, None)),
            Some(digest) => selection.get(digest).map(|d| (d.value(), Some(d))),
        })
        .collect()
}

fn select<'a>(
    at: Node<'a>,
    rest: &[PathElement],
    selection: &mut Selection<'a>,
    found: &mut bool,
    path: &ClaimPath,
) -> Result<()> {
    let Some((first, rest)) = rest.split_first() else {
        *found = true;
        select_all(at, selection);
        return Ok(());
    };
    match (first, at) {
        (PathElement::Key(name), Node::Object(map)) => {
            if let Some(value) = map.get(name) {
                return select(node(value), rest, selection, found, path);
            }
            // Name first: of the few disclosures that carry this claim name, the one this
            // object's `_sd` references (a short string compare per disclosure instead of a
            // digest lookup per `_sd` entry).
            let digests = map.get("_sd").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let disclosures = selection.disclosures;
            for d in disclosures.iter().filter(|d| d.claim_name() == Some(name.as_str())) {
                if digests.iter().any(|digest| digest.as_str() == Some(d.digest())) {
                    selection.choose(d.digest());
                    return select(node(d.value()), rest, selection, found, path);
                }
            }
            Ok(())
        }
        (PathElement::Index(i), Node::Array(items)) => {
            if let Some(&(value, disclosure)) = visible_elements(items, selection).get(*i) {
                if let Some(d) = disclosure {
                    selection.choose(d.digest());
                }
                select(node(value), rest, selection, found, path)?;
            }
            Ok(())
        }
        (PathElement::AllElements, Node::Array(items)) => {
            for (value, disclosure) in visible_elements(items, selection) {
                if let Some(d) = disclosure {
                    selection.choose(d.digest());
                }
                select(node(value), rest, selection, found, path)?;
            }
            Ok(())
        }
        _ => Err(Error::InvalidClaimPath {
            path: path.to_string(),
            reason: "the path does not match the claims' structure",
        }),
    }
}

/// Everything disclosable inside a selected claim.
fn select_all<'a>(at: Node<'a>, selection: &mut Selection<'a>) {
    match at {
        Node::Object(map) => {
            for (name, value) in map {
                if name == "_sd" {
                    for digest in
                        value.as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(Value::as_str)
                    {
                        if let Some(d) = selection.get(digest) {
                            selection.choose(digest);
                            select_all(node(d.value()), selection);
                        }
                    }
                } else {
                    select_all(node(value), selection);
                }
            }
        }
        Node::Array(items) => {
            for (value, disclosure) in visible_elements(items, selection) {
                if let Some(d) = disclosure {
                    selection.choose(d.digest());
                }
                select_all(node(value), selection);
            }
        }
        Node::Leaf => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use schooltas_did::{Algorithm, SigningKey};
    use serde_json::json;

    use super::*;
    use crate::{FixedSalts, SdJwtBuilder};

    fn kb_payload(kb_jwt: &str) -> Vec<u8> {
        let payload = kb_jwt.split('.').nth(1).unwrap();
        base64url::decode(payload).unwrap()
    }

    /// The KB-JWT payload is written without a map, but byte for byte as the map was: members
    /// in name order, the four RFC 9901 claims winning over an extra member of the same name.
    #[test]
    fn the_key_binding_payload_is_the_sorted_map_it_replaces() {
        let child = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let input =
            KeyBindingInput { nonce: "n-1".into(), audience: "https://v.example".into(), issued_at: 1_700_000_000 };
        let extra = json!({"transaction_data_hashes": ["abc"], "transaction_data_hashes_alg": "sha-256",
                           "a_first": 1, "nonce": "replaced", "zz_last": {"k": [true, null]}});
        let extra = extra.as_object().unwrap().clone();
        let kb = key_binding_jwt_with_claims("jwt~d1~", &child, &input, &extra).unwrap();
        let mut expected = extra.clone();
        expected.insert("iat".into(), Value::from(input.issued_at));
        expected.insert("aud".into(), Value::String(input.audience.clone()));
        expected.insert("nonce".into(), Value::String(input.nonce.clone()));
        expected.insert("sd_hash".into(), Value::String(base64url::encode(Sha256::digest(b"jwt~d1~"))));
        assert_eq!(kb_payload(&kb), serde_json::to_vec(&expected).unwrap());

        let plain = key_binding_jwt("jwt~", &child, &input).unwrap();
        let payload: Value = serde_json::from_slice(&kb_payload(&plain)).unwrap();
        assert_eq!(payload.as_object().unwrap().keys().collect::<Vec<_>>(), ["aud", "iat", "nonce", "sd_hash"]);
    }

    /// A disclosure the issuer sent twice is presented twice when chosen, as before the
    /// digest index (the verifier then refuses the duplicate; the holder does not hide it).
    #[test]
    fn a_disclosure_sent_twice_is_presented_with_both_copies() {
        let school = SigningKey::generate(Algorithm::EdDsa).unwrap();
        let claims = json!({"given_name": "Sanne", "group": "7B", "nested": {"a": 1, "b": 2}});
        let issued = SdJwtBuilder::new(claims.as_object().unwrap().clone())
            .disclosable(ClaimPath::claim("given_name"))
            .disclosable(ClaimPath::claim("group"))
            .disclosable(ClaimPath::parse_dotted("nested.a").unwrap())
            .disclosable(ClaimPath::claim("nested"))
            .issue(&school, &mut FixedSalts::default())
            .unwrap();
        let group = issued.disclosures().iter().find(|d| d.claim_name() == Some("group")).unwrap().as_str();
        let text = format!("{issued}{group}~");
        let holder = HolderSdJwt::parse(&text).unwrap();
        let chosen = holder.disclosures_for(&[ClaimPath::claim("group")]).unwrap();
        assert_eq!(chosen.iter().map(|d| d.as_str()).collect::<Vec<_>>(), [group, group]);
        // Recursive selection still takes the nested claim with its parent.
        let nested = holder.disclosures_for(&[ClaimPath::claim("nested")]).unwrap();
        let mut names: Vec<_> = nested.iter().map(|d| d.claim_name().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "nested"]);
        // A claim the copy does not have is the specific error.
        let missing = holder.disclosures_for(&[ClaimPath::claim("family_name")]).unwrap_err();
        assert!(matches!(missing, Error::InvalidClaimPath { reason: "the credential has no such claim", .. }));
    }
}
