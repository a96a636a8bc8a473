//! The school: its name, its Dutch school code (BRIN + location), its DID and its signing keys.

use std::fmt;
use std::sync::Arc;

use serde_json::{Value, json};

use schooltas_did::{Did, Signer, VerifyingKey};

use crate::child_link::ChildLinkKey;
use crate::error::{Error, Result};

/// A BRIN code: the four-character institution code of a Dutch school (`12AB`): two digits and
/// two capital letters.
///
/// ```
/// use schooltas_issuer::Brin;
/// assert_eq!(Brin::new("12AB")?.as_str(), "12AB");
/// assert!(matches!(Brin::new("12ab"), Err(schooltas_issuer::Error::InvalidProfile { .. })));
/// assert!(matches!(Brin::new("1234"), Err(schooltas_issuer::Error::InvalidProfile { .. })));
/// # Ok::<(), schooltas_issuer::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Brin(String);

impl Brin {
    /// Validates a BRIN code.
    pub fn new(code: &str) -> Result<Self> {
        let bytes = code.as_bytes();
        let valid = bytes.len() == 4
            && bytes[..2].iter().all(u8::is_ascii_digit)
            && bytes[2..].iter().all(u8::is_ascii_uppercase);
        if valid {
            Ok(Brin(code.to_owned()))
        } else {
            Err(Error::InvalidProfile {
                reason: format!("BRIN code {code:?} is not two digits and two capital letters (like 12AB)"),
            })
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A school location: the BRIN code plus a two-digit location number (`12AB00`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchoolLocation {
    brin: Brin,
    number: u8,
}

impl SchoolLocation {
    /// The location `number` (0–99) of the school `brin`.
    pub fn new(brin: Brin, number: u8) -> Result<Self> {
        if number > 99 {
            return Err(Error::InvalidProfile { reason: format!("location number {number} is not two digits") });
        }
        Ok(SchoolLocation { brin, number })
    }

    /// The institution's BRIN code.
    pub fn brin(&self) -> &Brin {
        &self.brin
    }

    /// The two-digit location number, as written in credentials (`"00"`).
    pub fn number(&self) -> String {
        format!("{:02}", self.number)
    }

    /// The full location code (`12AB00`).
    pub fn code(&self) -> String {
        format!("{}{:02}", self.brin.as_str(), self.number)
    }
}

/// A school's signing keys: one active key that signs, and the retired keys that no longer
/// sign but still appear in the school's DID document so credentials they signed stay
/// verifiable.
#[derive(Clone)]
pub struct SchoolKeys {
    active: (String, Arc<dyn Signer + Send + Sync>),
    retired: Vec<(String, VerifyingKey)>,
    /// X.509 certificate chains (DER, leaf first) by key id, for the EU profile's `x5c`.
    chains: Vec<(String, Arc<[Vec<u8>]>)>,
    /// A separate key that signs the status list tokens, with its certificate chain.
    status_list: Option<StatusListKey>,
}

/// A key that signs only status list tokens, certified for it (draft-ietf-oauth-status-list
/// `id-kp-oauthStatusSigning`, `schooltas_x509::CertificateAuthority::issue_status_list_certificate`).
#[derive(Clone)]
struct StatusListKey {
    kid: String,
    signer: Arc<dyn Signer + Send + Sync>,
    chain: Arc<[Vec<u8>]>,
}

impl SchoolKeys {
    /// Keys with `signer` active under the key id `kid` (a fragment such as `key-1`).
    pub fn new(kid: impl Into<String>, signer: impl Signer + Send + Sync + 'static) -> Self {
        SchoolKeys {
            active: (kid.into(), Arc::new(signer)),
            retired: Vec::new(),
            chains: Vec::new(),
            status_list: None,
        }
    }

    /// Makes `signer` the active key under `kid`; the previous key is retired (kept for
    /// verification). Refuses a key id already in use.
    pub fn rotate(&mut self, kid: impl Into<String>, signer: impl Signer + Send + Sync + 'static) -> Result<()> {
        let kid = kid.into();
        if self.kid_in_use(&kid) {
            return Err(Error::InvalidProfile { reason: format!("key id {kid:?} is already in use") });
        }
        let previous = std::mem::replace(&mut self.active, (kid, Arc::new(signer)));
        self.retired.push((previous.0, previous.1.verifying_key().clone()));
        Ok(())
    }

    /// Attaches the X.509 certificate chain of key `kid` (DER, leaf first, without the trust
    /// anchor — HAIP 1.0): credentials and status lists that key signs carry it as `x5c`.
    /// The leaf must certify that key: [`SchoolKeys::check_certificate_chains`] checks it (the
    /// server does at start).
    pub fn with_certificate_chain(mut self, kid: &str, chain: Vec<Vec<u8>>) -> Result<Self> {
        if self.verifying_key(kid).is_none() {
            return Err(Error::InvalidProfile { reason: format!("no key {kid:?} to attach a certificate chain to") });
        }
        if chain.is_empty() || chain.iter().any(Vec::is_empty) {
            return Err(Error::InvalidProfile { reason: format!("the certificate chain of key {kid:?} is empty") });
        }
        self.chains.retain(|(old, _)| old != kid);
        self.chains.push((kid.to_owned(), chain.into()));
        Ok(self)
    }

    /// The certificate chain of key `kid`, if one is attached.
    pub fn certificate_chain(&self, kid: &str) -> Option<&[Vec<u8>]> {
        self.chains.iter().find(|(old, _)| old == kid).map(|(_, chain)| &**chain)
    }

    /// Signs the school's status list tokens with `signer` (key id `kid`) instead of the
    /// credential key, carrying `chain` (DER, leaf first, without the trust anchor) as `x5c`:
    /// the draft's delegated Status Issuer, its certificate carrying the status list signing
    /// EKU and naming the school's issuer identifier. Verifiers and wallets accept such a token
    /// only through that chain, so it needs the EU profile
    /// ([`SchoolProfile::with_https_identity`]); a school named by its DID signs its lists with
    /// its credential key. Without this, status lists are signed as credentials are.
    ///
    /// Refuses a `kid` already in use or an empty chain; that the leaf certifies `signer`'s key
    /// and is valid is checked by [`SchoolKeys::check_certificate_chains`] (the server does at
    /// start).
    pub fn with_status_list_key(
        mut self,
        kid: impl Into<String>,
        signer: impl Signer + Send + Sync + 'static,
        chain: Vec<Vec<u8>>,
    ) -> Result<Self> {
        let kid = kid.into();
        if self.kid_in_use(&kid) {
            return Err(Error::InvalidProfile { reason: format!("key id {kid:?} is already in use") });
        }
        if chain.is_empty() || chain.iter().any(Vec::is_empty) {
            return Err(Error::InvalidProfile {
                reason: format!("the certificate chain of status list key {kid:?} is empty"),
            });
        }
        self.status_list = Some(StatusListKey { kid, signer: Arc::new(signer), chain: chain.into() });
        Ok(self)
    }

    /// The separate status list key, if one is set: its key id, signer and certificate chain.
    pub fn status_list_key(&self) -> Option<(&str, &(dyn Signer + Send + Sync), &[Vec<u8>])> {
        self.status_list.as_ref().map(|key| (key.kid.as_str(), &*key.signer, &*key.chain))
    }

    /// Checks every attached certificate chain (the credential keys' and the status list
    /// key's) at `now` (unix seconds): its leaf certifies the key it is attached to and is
    /// within its validity period. The first problem is an [`Error::CertificateChain`] naming
    /// the key id. Only the school's own configuration is checked here; that the chain leads
    /// to the trust list's anchors is the relying party's check.
    pub fn check_certificate_chains(&self, now: i64) -> Result<()> {
        let attached =
            self.chains.iter().filter_map(|(kid, chain)| Some((kid.as_str(), self.verifying_key(kid)?, chain)));
        let status = self.status_list.iter().map(|key| (key.kid.as_str(), key.signer.verifying_key(), &key.chain));
        for (kid, key, chain) in attached.chain(status) {
            let refused = |problem| Error::CertificateChain { kid: kid.to_owned(), problem };
            let chain = schooltas_x509::CertificateChain::new(chain.to_vec())
                .map_err(|_| refused(crate::ChainProblem::Unreadable))?;
            let certified = chain.unvalidated_leaf_key().map_err(|_| refused(crate::ChainProblem::Unreadable))?;
            if &certified != key {
                return Err(refused(crate::ChainProblem::OtherKey));
            }
            let validity = chain.unvalidated_leaf_validity().map_err(|_| refused(crate::ChainProblem::Unreadable))?;
            if now > validity.not_after() {
                return Err(refused(crate::ChainProblem::Expired { not_after: validity.not_after(), now }));
            }
            if now < validity.not_before() {
                return Err(refused(crate::ChainProblem::NotYetValid { not_before: validity.not_before(), now }));
            }
        }
        Ok(())
    }

    fn kid_in_use(&self, kid: &str) -> bool {
        kid == self.active.0
            || self.retired.iter().any(|(old, _)| old == kid)
            || self.status_list.as_ref().is_some_and(|key| key.kid == kid)
    }

    /// The active key id.
    pub fn active_kid(&self) -> &str {
        &self.active.0
    }

    /// The active signer.
    pub fn signer(&self) -> &(dyn Signer + Send + Sync) {
        &*self.active.1
    }

    /// The verification key for `kid`, active or retired.
    pub fn verifying_key(&self, kid: &str) -> Option<&VerifyingKey> {
        if kid == self.active.0 {
            return Some(self.active.1.verifying_key());
        }
        self.retired.iter().find(|(old, _)| old == kid).map(|(_, key)| key)
    }

    /// Every key id with its verification key, active first.
    pub fn all(&self) -> impl Iterator<Item = (&str, &VerifyingKey)> {
        std::iter::once((self.active.0.as_str(), self.active.1.verifying_key()))
            .chain(self.retired.iter().map(|(kid, key)| (kid.as_str(), key)))
    }
}

impl fmt::Debug for SchoolKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retired: Vec<&str> = self.retired.iter().map(|(kid, _)| kid.as_str()).collect();
        let status_list = self.status_list.as_ref().map(|key| key.kid.as_str());
        f.debug_struct("SchoolKeys")
            .field("active", &self.active.0)
            .field("retired", &retired)
            .field("status_list", &status_list)
            .finish()
    }
}

/// Who the school is: its name, location, DID, credential issuer URL and keys.
#[derive(Clone, Debug)]
pub struct SchoolProfile {
    name: String,
    location: SchoolLocation,
    did: Did,
    issuer_url: String,
    keys: SchoolKeys,
    child_links: ChildLinkKey,
    https_identity: bool,
}

impl SchoolProfile {
    /// A school. `issuer_url` is its OpenID4VCI credential issuer identifier (an `https` URL);
    /// `did` the identifier in `iss` (a `did:web` in production, whose document lists
    /// [`did_document`](Self::did_document); a `did:key` for tests, which cannot rotate keys).
    pub fn new(
        name: impl Into<String>,
        location: SchoolLocation,
        did: Did,
        issuer_url: impl Into<String>,
        keys: SchoolKeys,
    ) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() || name.len() > 200 {
            return Err(Error::InvalidProfile { reason: "the school name is empty or longer than 200 bytes".into() });
        }
        let issuer_url = issuer_url.into();
        let https = issuer_url.strip_prefix("https://").is_some_and(|rest| !rest.is_empty());
        if !https || issuer_url.contains(['#', '?', ' ']) {
            return Err(Error::InvalidProfile {
                reason: format!("the credential issuer {issuer_url:?} is not an https URL without query or fragment"),
            });
        }
        if did.method() == "key" && keys.retired.is_empty() {
            let own = schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(
                keys.signer().verifying_key().clone(),
            ));
            if own != did {
                return Err(Error::InvalidProfile { reason: "a did:key school DID must be its active key's".into() });
            }
        }
        Ok(SchoolProfile {
            name,
            location,
            did,
            issuer_url: issuer_url.trim_end_matches('/').to_owned(),
            keys,
            child_links: ChildLinkKey::generate(),
            https_identity: false,
        })
    }

    /// The school's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its BRIN code and location.
    pub fn location(&self) -> &SchoolLocation {
        &self.location
    }

    /// Its DID (`iss` of every credential).
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// Its credential issuer identifier (OpenID4VCI).
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The EU profile (HAIP 1.0): credentials name the school by its `https` credential issuer
    /// identifier instead of its DID (`iss` = [`Self::issuer_url`]), their `kid` is the bare
    /// key id of [`Self::jwt_vc_issuer_metadata`]'s JWK set, and a key with a certificate
    /// chain ([`SchoolKeys::with_certificate_chain`]) puts it in `x5c`.
    ///
    /// HAIP 1.0 asks ES256 of every key: refused unless the active key (and the status list
    /// key, [`SchoolKeys::with_status_list_key`]) is a P-256 key (and [`Self::rotate_key`]
    /// then takes P-256 keys only).
    pub fn with_https_identity(mut self) -> Result<Self> {
        if self.keys.signer().algorithm() != schooltas_did::Algorithm::Es256 {
            return Err(Error::InvalidProfile {
                reason: "the EU profile (HAIP 1.0) signs with ES256: make the school's key a P-256 key".into(),
            });
        }
        if self
            .keys
            .status_list_key()
            .is_some_and(|(_, signer, _)| signer.algorithm() != schooltas_did::Algorithm::Es256)
        {
            return Err(Error::InvalidProfile {
                reason: "the EU profile (HAIP 1.0) signs with ES256: make the status list key a P-256 key".into(),
            });
        }
        self.https_identity = true;
        Ok(self)
    }

    /// Whether credentials name the school by its `https` identifier.
    pub fn has_https_identity(&self) -> bool {
        self.https_identity
    }

    /// The `iss` of everything the school signs: its DID, or in the EU profile its `https`
    /// credential issuer identifier.
    pub fn iss(&self) -> &str {
        if self.https_identity { &self.issuer_url } else { self.did.as_str() }
    }

    /// The `kid` header of what the active key signs: a DID URL, or in the EU profile the key
    /// id in the JWT VC Issuer Metadata.
    pub fn credential_kid(&self) -> String {
        if self.https_identity { self.keys.active_kid().to_owned() } else { self.active_kid_url() }
    }

    /// The `x5c` header of what the active key signs (standard base64 DER, leaf first), when
    /// its certificate chain is attached.
    pub fn x5c(&self) -> Option<Value> {
        use base64::Engine as _;
        let chain = self.keys.certificate_chain(self.keys.active_kid())?;
        Some(Value::Array(
            chain.iter().map(|der| Value::String(base64::engine::general_purpose::STANDARD.encode(der))).collect(),
        ))
    }

    /// The JWT VC Issuer Metadata (SD-JWT VC §5) to serve at
    /// `/.well-known/jwt-vc-issuer<path of iss>` in the EU profile: the issuer identifier and
    /// every key, active and retired, with its `kid`. `None` for a school named by its DID.
    pub fn jwt_vc_issuer_metadata(&self) -> Option<Value> {
        if !self.https_identity {
            return None;
        }
        let keys: Vec<Value> = self
            .keys
            .all()
            .map(|(kid, key)| {
                let mut jwk = key.to_jwk();
                jwk.insert("kid".into(), Value::String(kid.to_owned()));
                jwk.insert("use".into(), Value::String("sig".into()));
                jwk.insert("alg".into(), Value::String(key.algorithm().as_str().to_owned()));
                Value::Object(jwk)
            })
            .collect();
        Some(serde_json::json!({ "issuer": self.issuer_url, "jwks": { "keys": keys } }))
    }

    /// Its keys.
    pub fn keys(&self) -> &SchoolKeys {
        &self.keys
    }

    /// Uses `key` for the one-time child links (see [`crate::child_link`]) instead of the fresh
    /// random key [`SchoolProfile::new`] made. A school that restarts or issues from several
    /// processes must set the key it keeps, so guardianship copies issued later still carry the
    /// links of the child's copies.
    pub fn with_child_link_key(mut self, key: ChildLinkKey) -> Self {
        self.child_links = key;
        self
    }

    /// The key for one-time child links.
    pub fn child_link_key(&self) -> &ChildLinkKey {
        &self.child_links
    }

    /// Rotates the signing key (see [`SchoolKeys::rotate`]).
    pub fn rotate_key(&mut self, kid: impl Into<String>, signer: impl Signer + Send + Sync + 'static) -> Result<()> {
        if self.https_identity && signer.algorithm() != schooltas_did::Algorithm::Es256 {
            return Err(Error::InvalidProfile {
                reason: "the EU profile (HAIP 1.0) signs with ES256: the new key must be a P-256 key".into(),
            });
        }
        if self.did.method() == "key" {
            return Err(Error::InvalidProfile {
                reason: "a did:key school cannot rotate keys: its DID is its key; use did:web".into(),
            });
        }
        self.keys.rotate(kid, signer)
    }

    /// The `kid` header of credentials signed now: the DID URL of the active key.
    pub fn active_kid_url(&self) -> String {
        self.kid_url(self.keys.active_kid())
    }

    fn kid_url(&self, kid: &str) -> String {
        if self.did.method() == "key" {
            // did:key documents name their one key after the multibase value.
            format!("{}#{}", self.did, self.did.method_specific_id())
        } else {
            format!("{}#{kid}", self.did)
        }
    }

    /// The verification key for a credential's `kid` header (a DID URL of this school).
    pub fn verifying_key_for(&self, kid_url: &str) -> Option<&VerifyingKey> {
        self.keys.all().find(|(kid, _)| self.kid_url(kid) == kid_url).map(|(_, key)| key)
    }

    /// The DID document to publish at the did:web location (`/.well-known/did.json` or
    /// `/<path>/did.json`): every key, active and retired, as a JsonWebKey verification method
    /// for `assertionMethod`, so credentials signed before a rotation still verify.
    pub fn did_document(&self) -> Value {
        let methods: Vec<Value> = self
            .keys
            .all()
            .map(|(kid, key)| {
                json!({
                    "id": self.kid_url(kid),
                    "type": "JsonWebKey",
                    "controller": self.did.as_str(),
                    "publicKeyJwk": Value::Object(key.to_jwk()),
                })
            })
            .collect();
        let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
            "id": self.did.as_str(),
            "verificationMethod": methods,
            "assertionMethod": ids,
        })
    }
}
