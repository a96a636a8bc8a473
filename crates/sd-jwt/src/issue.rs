//! Issuance (RFC 9901 §4.2, §5.1): turning claims into an issuer-signed JWT plus disclosures.

use std::fmt;

use schooltas_did::jws::{self, Header};
use schooltas_did::{Signer, VerifyingKey, base64url};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::disclosure::Disclosure;
use super::path::{ClaimPath, PathElement};
use crate::{Error, Result};

/// Where salts come from. Production uses [`RandomSalts`]; tests pass fixed salts.
pub trait SaltSource {
    /// A fresh salt: at least 128 bits of entropy, base64url-encoded (RFC 9901 §4.2.1).
    ///
    /// # Errors
    ///
    /// When no randomness can be had; issuing then fails rather than use a weaker salt.
    fn next_salt(&mut self) -> Result<String>;
}

/// 128-bit salts straight from the operating system's random number generator (`getrandom`),
/// drawn 1 KiB (64 salts) at a time into a per-thread pool so that issuing costs one system
/// call per 64 salts, not one per salt. Bytes are handed out once and wiped from the pool as
/// they are taken (and the pool when its thread ends): a salt that was never disclosed guards a
/// concealed claim against guessing, so it must not linger.
///
/// A process that `fork`s without `exec` gives the child a copy of the pool, as with any
/// user-space generator: a child that issues must not share its parent's pool (Schooltas
/// never forks).
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomSalts;

impl SaltSource for RandomSalts {
    fn next_salt(&mut self) -> Result<String> {
        let mut bytes = zeroize::Zeroizing::new([0u8; SALT_BYTES]);
        SALT_POOL.with(|pool| pool.borrow_mut().take(&mut bytes))?;
        Ok(base64url::encode(*bytes))
    }
}

/// 128 bits per salt (RFC 9901 §4.2.1 recommends at least 128).
const SALT_BYTES: usize = 16;

thread_local! {
    static SALT_POOL: std::cell::RefCell<SaltPool> = std::cell::RefCell::new(SaltPool::empty());
}

/// Random bytes from the operating system, handed out once each (see [`RandomSalts`]).
struct SaltPool {
    bytes: zeroize::Zeroizing<[u8; SaltPool::BYTES]>,
    /// Bytes before `next` were handed out (and wiped).
    next: usize,
}

impl SaltPool {
    /// How many bytes one refill draws: 64 salts.
    const BYTES: usize = 64 * SALT_BYTES;

    fn empty() -> Self {
        SaltPool { bytes: zeroize::Zeroizing::new([0; Self::BYTES]), next: Self::BYTES }
    }

    fn take(&mut self, out: &mut [u8; SALT_BYTES]) -> Result<()> {
        if self.next + SALT_BYTES > Self::BYTES {
            getrandom::fill(self.bytes.as_mut_slice())
                .map_err(|_| Error::Did(schooltas_did::Error::RandomnessUnavailable))?;
            self.next = 0;
        }
        let taken = &mut self.bytes[self.next..self.next + SALT_BYTES];
        out.copy_from_slice(taken);
        taken.fill(0);
        self.next += SALT_BYTES;
        Ok(())
    }
}

impl fmt::Debug for SaltPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaltPool").field("left", &((Self::BYTES - self.next) / SALT_BYTES)).finish_non_exhaustive()
    }
}

/// Salts taken in order from a list, for reproducing test vectors. Falls back to
/// [`RandomSalts`] when the list runs out.
#[derive(Clone, Debug, Default)]
pub struct FixedSalts(std::collections::VecDeque<String>);

impl FixedSalts {
    /// Uses `salts` in order.
    pub fn new(salts: impl IntoIterator<Item = String>) -> Self {
        FixedSalts(salts.into_iter().collect())
    }
}

impl SaltSource for FixedSalts {
    fn next_salt(&mut self) -> Result<String> {
        match self.0.pop_front() {
            Some(salt) => Ok(salt),
            None => RandomSalts.next_salt(),
        }
    }
}

/// Builds and signs an SD-JWT.
///
/// ```
/// use schooltas_sd_jwt::{RandomSalts, SdJwtBuilder};
/// use schooltas_sd_jwt::ClaimPath;
/// use schooltas_did::{Algorithm, Signer, SigningKey};
/// use serde_json::json;
///
/// let school = SigningKey::generate(Algorithm::EdDsa)?;
/// let claims = json!({"iss": "did:web:school.example", "vct": "https://schooltas.example/enrolment",
///                     "given_name": "Sanne", "school": {"brin": "12AB", "group": "7"}});
/// let issued = SdJwtBuilder::new(claims.as_object().unwrap().clone())
///     .disclosable(ClaimPath::claim("given_name"))
///     .disclosable(ClaimPath::parse_dotted("school.group")?)
///     .issue(&school, &mut RandomSalts)?;
/// assert_eq!(issued.disclosures().len(), 2);
/// assert!(issued.to_string().ends_with('~'));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SdJwtBuilder {
    claims: Map<String, Value>,
    disclosable: Vec<ClaimPath>,
    decoys: usize,
    padding: Vec<(Vec<String>, usize)>,
    header: Header,
    vc: bool,
}

impl SdJwtBuilder {
    /// Starts from the full claims; nothing is selectively disclosable until marked.
    /// The header's `typ` defaults to `dc+sd-jwt` (SD-JWT VC).
    pub fn new(claims: Map<String, Value>) -> Self {
        SdJwtBuilder {
            claims,
            disclosable: Vec::new(),
            decoys: 0,
            padding: Vec::new(),
            header: Header::new().with_typ("dc+sd-jwt"),
            vc: false,
        }
    }

    /// An SD-JWT VC (`typ: dc+sd-jwt`) of type `vct` from `issuer`, issued at `issued_at`
    /// (Unix seconds). The registered claims ([`super::NEVER_DISCLOSABLE`]) are set here or with
    /// [`Self::expires_at`], [`Self::not_before`] and [`Self::status`], and [`Self::issue`]
    /// refuses to make any of them selectively disclosable.
    pub fn sd_jwt_vc(vct: &super::Vct, issuer: &str, issued_at: i64, claims: Map<String, Value>) -> Self {
        let mut builder = SdJwtBuilder::new(claims);
        builder.claims.insert("vct".into(), Value::String(vct.as_str().to_owned()));
        builder.claims.insert("iss".into(), Value::String(issuer.to_owned()));
        builder.claims.insert("iat".into(), Value::from(issued_at));
        builder.vc = true;
        builder
    }

    /// Sets `exp` (Unix seconds).
    pub fn expires_at(mut self, exp: i64) -> Self {
        self.claims.insert("exp".into(), Value::from(exp));
        self
    }

    /// Sets `nbf` (Unix seconds).
    pub fn not_before(mut self, nbf: i64) -> Self {
        self.claims.insert("nbf".into(), Value::from(nbf));
        self
    }

    /// Sets the `status` claim (a Token Status List reference:
    /// `{"status_list": {"idx": …, "uri": …}}`).
    pub fn status(mut self, status: Value) -> Self {
        self.claims.insert("status".into(), status);
        self
    }

    /// Makes the claim at `path` selectively disclosable: an object member, an array element
    /// (`["nationalities", 1]`), or every element (`["nationalities", null]`). Marking both a
    /// claim and claims inside it makes it recursively disclosable.
    pub fn disclosable(mut self, path: ClaimPath) -> Self {
        self.disclosable.push(path);
        self
    }

    /// Adds `count` decoy digests to the top-level `_sd` (RFC 9901 §4.2.5), hiding how many
    /// claims are selectively disclosable.
    pub fn decoy_digests(mut self, count: usize) -> Self {
        self.decoys = count;
        self
    }

    /// Pads the `_sd` array of the object at `level` (claim names from the top; empty for the
    /// top level) with decoy digests (RFC 9901 §4.2.5) up to `size` entries, so that the number
    /// of digests says nothing about how many claims a credential holds: every credential of a
    /// type padded to the same size per level looks alike. Decoys are SHA-256 digests of 128
    /// fresh bits from the operating system's CSPRNG (never from the [`SaltSource`], which tests
    /// fix), sorted in with the real digests. An object at `level` with no selectively
    /// disclosable claim gets an `_sd` array of decoys only, so even "no optional claim" does
    /// not show. A level with more real digests than `size` keeps them all (nothing is dropped).
    /// Objects inside arrays are not padded (the array's length is visible anyway).
    pub fn pad_digests(mut self, level: &[&str], size: usize) -> Self {
        let level: Vec<String> = level.iter().map(|name| (*name).to_owned()).collect();
        match self.padding.iter_mut().find(|(existing, _)| *existing == level) {
            Some(entry) => entry.1 = size,
            None => self.padding.push((level, size)),
        }
        self
    }

    /// Binds the credential to the holder's key (`cnf.jwk`, RFC 7800).
    pub fn holder_key(mut self, key: &VerifyingKey) -> Self {
        let mut cnf = Map::new();
        cnf.insert("jwk".into(), Value::Object(key.to_jwk()));
        self.claims.insert("cnf".into(), Value::Object(cnf));
        self
    }

    /// Sets the header's `typ`.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.header = self.header.with_typ(typ);
        self
    }

    /// Sets the header's `kid` (the issuer key's DID URL, say).
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.header = self.header.with_kid(kid);
        self
    }

    /// Sets another header member.
    pub fn header_member(mut self, name: impl Into<String>, value: Value) -> Self {
        self.header = self.header.with_member(name, value);
        self
    }

    /// Conceals the marked claims, signs, and returns the issued SD-JWT.
    pub fn issue(self, signer: &(impl Signer + ?Sized), salts: &mut (impl SaltSource + ?Sized)) -> Result<IssuedSdJwt> {
        let SdJwtBuilder { claims, disclosable, decoys, padding, header, vc } = self;
        for path in &disclosable {
            check_path_exists(&claims, path)?;
            if vc
                && let Some(PathElement::Key(name)) = path.elements().first()
                && super::NEVER_DISCLOSABLE.contains(&name.as_str())
            {
                return Err(path_error(path, "this registered SD-JWT VC claim must stay always visible"));
            }
        }
        let suffixes: Vec<&[PathElement]> = disclosable.iter().map(ClaimPath::elements).collect();
        let mut disclosures = Vec::with_capacity(disclosable.len());
        let mut padded = false;
        let mut pad = Pad { table: &padding, added: &mut padded };
        // The object levels are tracked only for padding: without a padding table no level
        // path is built for every claim.
        let top: Option<&[String]> = if padding.is_empty() { None } else { Some(&[]) };
        let mut payload = conceal_object(claims, &suffixes, salts, &mut disclosures, &mut pad, top)?;
        if decoys > 0 {
            let sd = payload.entry("_sd").or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(digests) = sd {
                for _ in 0..decoys {
                    digests.push(Value::String(base64url::encode(Sha256::digest(salts.next_salt()?.as_bytes()))));
                }
                sort_digests(digests);
            }
        }
        if !disclosures.is_empty() || decoys > 0 || padded {
            payload.insert("_sd_alg".into(), Value::String("sha-256".into()));
        }
        let jwt = jws::sign_compact_json(&header, &payload, signer)?;
        Ok(IssuedSdJwt { jwt, disclosures })
    }
}

impl fmt::Debug for SdJwtBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdJwtBuilder")
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .field("disclosable", &self.disclosable)
            .field("decoys", &self.decoys)
            .field("padding", &self.padding)
            .finish()
    }
}

/// A decoy digest (RFC 9901 §4.2.5): SHA-256 over 128 bits from the CSPRNG, which no
/// disclosure can ever match.
fn random_decoy() -> Result<Value> {
    Ok(Value::String(base64url::encode(Sha256::digest(RandomSalts.next_salt()?.as_bytes()))))
}

/// The padding table of [`SdJwtBuilder::pad_digests`] while concealing.
struct Pad<'a> {
    table: &'a [(Vec<String>, usize)],
    added: &'a mut bool,
}

impl Pad<'_> {
    /// Pads `digests` (the `_sd` of the object at `level`) to the size the table names for it.
    /// Done before the object is itself concealed, so objects inside disclosures are padded too.
    fn apply(&mut self, level: Option<&[String]>, digests: &mut Vec<Value>) -> Result<()> {
        let Some(level) = level else { return Ok(()) };
        let Some((_, size)) = self.table.iter().find(|(l, _)| l.as_slice() == level) else { return Ok(()) };
        while digests.len() < *size {
            digests.push(random_decoy()?);
            *self.added = true;
        }
        Ok(())
    }
}

fn sort_digests(digests: &mut [Value]) {
    digests.sort_unstable_by(|a, b| a.as_str().cmp(&b.as_str()));
}

fn path_error(path: &ClaimPath, reason: &'static str) -> Error {
    Error::InvalidClaimPath { path: path.to_string(), reason }
}

/// Every marked path must name a claim that exists, so a typo never silently discloses a
/// claim in the clear.
fn check_path_exists(claims: &Map<String, Value>, path: &ClaimPath) -> Result<()> {
    fn walk(value: &Value, rest: &[PathElement], path: &ClaimPath) -> Result<()> {
        let Some((first, rest)) = rest.split_first() else { return Ok(()) };
        match (first, value) {
            (PathElement::Key(k), Value::Object(map)) => {
                walk(map.get(k).ok_or_else(|| path_error(path, "no claim at this path"))?, rest, path)
            }
            (PathElement::Index(i), Value::Array(items)) => {
                walk(items.get(*i).ok_or_else(|| path_error(path, "no array element at this index"))?, rest, path)
            }
            (PathElement::AllElements, Value::Array(items)) => items.iter().try_for_each(|item| walk(item, rest, path)),
            _ => Err(path_error(path, "the path does not match the claims' structure")),
        }
    }
    let Some((PathElement::Key(first), rest)) = path.elements().split_first() else {
        return Err(path_error(path, "a path starts with a claim name"));
    };
    if matches!(first.as_str(), "_sd" | "_sd_alg" | "...") {
        return Err(path_error(path, "reserved claim names cannot be disclosable"));
    }
    walk(claims.get(first).ok_or_else(|| path_error(path, "no claim at this path"))?, rest, path)
}

/// The paths (suffixes) that continue below `element`, and whether `element` itself is marked.
fn below<'p>(suffixes: &[&'p [PathElement]], matches: impl Fn(&PathElement) -> bool) -> (Vec<&'p [PathElement]>, bool) {
    let mut inner = Vec::new();
    let mut marked = false;
    for suffix in suffixes {
        if let Some((first, rest)) = suffix.split_first()
            && matches(first)
        {
            if rest.is_empty() {
                marked = true;
            } else {
                inner.push(rest);
            }
        }
    }
    (inner, marked)
}

fn conceal_value(
    value: Value,
    suffixes: &[&[PathElement]],
    salts: &mut (impl SaltSource + ?Sized),
    out: &mut Vec<Disclosure>,
    pad: &mut Pad<'_>,
    level: Option<&[String]>,
) -> Result<Value> {
    let wants_padding = matches!(&value, Value::Object(_))
        && level.is_some_and(|level| pad.table.iter().any(|(l, _)| l.as_slice() == level));
    if suffixes.is_empty() && !wants_padding {
        return Ok(value);
    }
    match value {
        Value::Object(map) => conceal_object(map, suffixes, salts, out, pad, level).map(Value::Object),
        Value::Array(items) => {
            let mut result = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let (inner, marked) =
                    below(suffixes, |e| *e == PathElement::Index(i) || *e == PathElement::AllElements);
                // Objects inside arrays are not padded: the array's length shows anyway.
                let item = conceal_value(item, &inner, salts, out, pad, None)?;
                if marked {
                    // RFC 9901 §4.2.2: array elements are disclosed as [salt, value].
                    let disclosure = Disclosure::new(salts.next_salt()?, None, item);
                    let mut placeholder = Map::new();
                    placeholder.insert("...".into(), Value::String(disclosure.digest().to_owned()));
                    result.push(Value::Object(placeholder));
                    out.push(disclosure);
                } else {
                    result.push(item);
                }
            }
            Ok(Value::Array(result))
        }
        other => Ok(other),
    }
}

fn conceal_object(
    map: Map<String, Value>,
    suffixes: &[&[PathElement]],
    salts: &mut (impl SaltSource + ?Sized),
    out: &mut Vec<Disclosure>,
    pad: &mut Pad<'_>,
    level: Option<&[String]>,
) -> Result<Map<String, Value>> {
    let mut result = Map::new();
    let mut digests = Vec::new();
    for (name, value) in map {
        if name == "_sd" || name == "..." {
            return Err(Error::InvalidPayload { reason: format!("the claim name {name:?} is reserved by SD-JWT") });
        }
        let (inner, marked) = below(suffixes, |e| matches!(e, PathElement::Key(k) if *k == name));
        let below_level = level.map(|level| {
            let mut below_level = level.to_vec();
            below_level.push(name.clone());
            below_level
        });
        let value = conceal_value(value, &inner, salts, out, pad, below_level.as_deref())?;
        if marked {
            let disclosure = Disclosure::new(salts.next_salt()?, Some(name), value);
            digests.push(Value::String(disclosure.digest().to_owned()));
            out.push(disclosure);
        } else {
            result.insert(name, value);
        }
    }
    pad.apply(level, &mut digests)?;
    if !digests.is_empty() {
        // Sorted, so the order reveals nothing about the original claim order (§4.2.4.1);
        // decoys sort in among the real digests.
        sort_digests(&mut digests);
        result.insert("_sd".into(), Value::Array(digests));
    }
    Ok(result)
}

/// An issued SD-JWT: the issuer-signed JWT and every disclosure, as the issuer hands it to the
/// holder (`<jwt>~<d1>~…~<dn>~`).
#[derive(Clone)]
pub struct IssuedSdJwt {
    jwt: String,
    disclosures: Vec<Disclosure>,
}

impl IssuedSdJwt {
    /// The issuer-signed JWT.
    pub fn jwt(&self) -> &str {
        &self.jwt
    }

    /// All disclosures, in issuance order.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    pub(crate) fn from_parts(jwt: String, disclosures: Vec<Disclosure>) -> Self {
        IssuedSdJwt { jwt, disclosures }
    }
}

impl fmt::Display for IssuedSdJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.jwt)?;
        f.write_str("~")?;
        for disclosure in &self.disclosures {
            f.write_str(disclosure.as_str())?;
            f.write_str("~")?;
        }
        Ok(())
    }
}

impl fmt::Debug for IssuedSdJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedSdJwt").field("disclosures", &self.disclosures).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_salts_are_128_bits_each_and_never_repeat_across_pool_refills() {
        let mut seen = std::collections::BTreeSet::new();
        // Five refills of the pool and a bit.
        for _ in 0..(5 * SaltPool::BYTES / SALT_BYTES + 3) {
            let salt = RandomSalts.next_salt().unwrap();
            assert_eq!(base64url::decode(&salt).map(|b| b.len()), Some(SALT_BYTES), "{salt}");
            assert!(seen.insert(salt), "a salt came twice");
        }
    }

    #[test]
    fn a_taken_salt_is_wiped_from_the_pool() {
        let mut pool = SaltPool::empty();
        let mut first = [0u8; SALT_BYTES];
        pool.take(&mut first).unwrap();
        assert_eq!(pool.next, SALT_BYTES);
        assert!(pool.bytes[..SALT_BYTES].iter().all(|b| *b == 0), "handed-out bytes stay in the pool");
        assert!(pool.bytes[SALT_BYTES..].iter().any(|b| *b != 0), "the rest is the refill's");
        assert_ne!(first, [0; SALT_BYTES]);
        // Debug shows how many salts are left, never the bytes.
        assert_eq!(format!("{pool:?}"), "SaltPool { left: 63, .. }");
    }
}
