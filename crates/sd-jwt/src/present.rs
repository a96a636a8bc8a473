//! Presentation (RFC 9901 §4.3, §5.2): the holder picks claims by path and binds the result to
//! the verifier's nonce and audience.

use std::collections::{BTreeSet, HashMap};

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
        let payload: Map<String, Value> =
            schooltas_did::strict_json::from_slice_or(&parsed.dangerous_unverified_payload()?, |_| {
                Error::InvalidPayload { reason: "the payload is not a JSON object".into() }
            })?;
        let disclosures = parts.map(Disclosure::parse).collect::<Result<Vec<_>>>()?;
        Ok(HolderSdJwt { issued: IssuedSdJwt::from_parts(jwt.to_owned(), disclosures), payload })
    }

    /// The issued form.
    pub fn issued(&self) -> &IssuedSdJwt {
        &self.issued
    }

    /// The disclosures needed to reveal `paths` and nothing else: for each path, the
    /// disclosures of its parents and of everything inside it.
    pub fn disclosures_for(&self, paths: &[ClaimPath]) -> Result<Vec<&Disclosure>> {
        let by_digest: HashMap<&str, &Disclosure> = self.issued.disclosures().iter().map(|d| (d.digest(), d)).collect();
        let mut selected = BTreeSet::new();
        let root = Node::Object(&self.payload);
        for path in paths {
            let mut found = false;
            select(root, path.elements(), &by_digest, &mut selected, &mut found, path)?;
            if !found {
                return Err(Error::InvalidClaimPath {
                    path: path.to_string(),
                    reason: "the credential has no such claim",
                });
            }
        }
        // Keep issuance order: it is what the holder received, and reveals nothing new.
        Ok(self.issued.disclosures().iter().filter(|d| selected.contains(d.digest())).collect())
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
    let mut claims = extra.clone();
    claims.insert("iat".into(), Value::from(input.issued_at));
    claims.insert("aud".into(), Value::String(input.audience.clone()));
    claims.insert("nonce".into(), Value::String(input.nonce.clone()));
    claims.insert("sd_hash".into(), Value::String(sd_hash));
    Ok(jws::sign_compact_json(&Header::new().with_typ("kb+jwt"), &claims, signer)?)
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
fn visible_elements<'a>(
    items: &'a [Value],
    by_digest: &HashMap<&str, &'a Disclosure>,
) -> Vec<(&'a Value, Option<&'a Disclosure>)> {
    items
        .iter()
        .filter_map(|item| match element_digest(item) {
            None => Some((item, None)),
            Some(digest) => by_digest.get(digest).map(|d| (d.value(), Some(*d))),
        })
        .collect()
}

fn select<'a>(
    at: Node<'a>,
    rest: &[PathElement],
    by_digest: &HashMap<&str, &'a Disclosure>,
    selected: &mut BTreeSet<&'a str>,
    found: &mut bool,
    path: &ClaimPath,
) -> Result<()> {
    let Some((first, rest)) = rest.split_first() else {
        *found = true;
        select_all(at, by_digest, selected);
        return Ok(());
    };
    match (first, at) {
        (PathElement::Key(name), Node::Object(map)) => {
            if let Some(value) = map.get(name) {
                return select(node(value), rest, by_digest, selected, found, path);
            }
            let digests = map.get("_sd").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for digest in digests.iter().filter_map(Value::as_str) {
                if let Some(d) = by_digest.get(digest)
                    && d.claim_name() == Some(name.as_str())
                {
                    selected.insert(d.digest());
                    return select(node(d.value()), rest, by_digest, selected, found, path);
                }
            }
            Ok(())
        }
        (PathElement::Index(i), Node::Array(items)) => {
            if let Some((value, disclosure)) = visible_elements(items, by_digest).get(*i) {
                if let Some(d) = disclosure {
                    selected.insert(d.digest());
                }
                select(node(value), rest, by_digest, selected, found, path)?;
            }
            Ok(())
        }
        (PathElement::AllElements, Node::Array(items)) => {
            for (value, disclosure) in visible_elements(items, by_digest) {
                if let Some(d) = disclosure {
                    selected.insert(d.digest());
                }
                select(node(value), rest, by_digest, selected, found, path)?;
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
fn select_all<'a>(at: Node<'a>, by_digest: &HashMap<&str, &'a Disclosure>, selected: &mut BTreeSet<&'a str>) {
    match at {
        Node::Object(map) => {
            for (name, value) in map {
                if name == "_sd" {
                    for digest in
                        value.as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(Value::as_str)
                    {
                        if let Some(d) = by_digest.get(digest) {
                            selected.insert(d.digest());
                            select_all(node(d.value()), by_digest, selected);
                        }
                    }
                } else {
                    select_all(node(value), by_digest, selected);
                }
            }
        }
        Node::Array(items) => {
            for (value, disclosure) in visible_elements(items, by_digest) {
                if let Some(d) = disclosure {
                    selected.insert(d.digest());
                }
                select_all(node(value), by_digest, selected);
            }
        }
        Node::Leaf => {}
    }
}
