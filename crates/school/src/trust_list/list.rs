//! The content of a trust list: accredited issuers, registered verifiers and their purposes,
//! the rules a well-formed list keeps, and the lookups wallets and verifiers make in it.

use std::collections::BTreeSet;

use schooltas_did::Did;
use serde::{Deserialize, Serialize};

use super::TrustListError;
use crate::extension::{LegalBasis, LocalizedText};
use schooltas_oid4vc::oid4vp::truncate;
use schooltas_sd_jwt::{ClaimPath, Vct};

/// A trust list's content: who the operator vouches for, from `issued_at` until `expires_at`.
///
/// The JSON form is the signed payload (see the [module documentation](super)); the operator
/// is `iss`, the validity period `iat` and `exp` (seconds since the epoch).
///
/// Build one with [`TrustList::new`], [`TrustList::with_issuer`] and
/// [`TrustList::with_verifier`]; [`TrustList::sign`] validates it before signing. This type
/// has no lookups: a list is used only as a [`VerifiedTrustList`], which only
/// [`super::UnverifiedTrustList::verify_with`] (or
/// [`super::UnverifiedTrustList::verify_with_resolver`]) returns — so a list deserialized or
/// built by hand cannot be mistaken for a trusted one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustList {
    /// The trust-list operator, whose key signs the list (`iss`).
    #[serde(rename = "iss")]
    pub operator: Did,
    /// When the list was issued (`iat`, seconds since the epoch).
    #[serde(rename = "iat")]
    pub issued_at: i64,
    /// When the list stops being valid (`exp`, seconds since the epoch); after `issued_at`.
    #[serde(rename = "exp")]
    pub expires_at: i64,
    /// The accredited issuers (schools), each DID at most once.
    #[serde(default)]
    pub issuers: Vec<AccreditedIssuer>,
    /// The registered verifiers, each DID at most once.
    #[serde(default)]
    pub verifiers: Vec<VerifierRegistration>,
    /// The X.509 trust anchors of the EU profile (HAIP 1.0): the operator's CA certificates, as
    /// standard base64 DER (the `x5c` encoding). A credential whose issuer-signed JWT carries
    /// an `x5c` chain is trusted only through a chain ending at one of these, and only for an
    /// issuer listed with that chain's `issuer_uri`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x509_trust_anchors: Vec<String>,
}

/// An issuer the operator accredits for some credential types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccreditedIssuer {
    /// The issuer's DID (the `iss` of the credentials it issues).
    pub did: Did,
    /// Its name, for display (`"Basisschool De Linde"`); never empty.
    pub name: String,
    /// The school's BRIN code (two digits, two capital letters or digits: `12AB`), if it is a
    /// school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brin: Option<String>,
    /// The credential types (`vct`) it may issue; never empty.
    pub credential_types: Vec<String>,
    /// The issuer's `https` identifier in the EU profile (the `iss` of credentials it signs
    /// with an X.509 certificate instead of its DID; SD-JWT VC §3.5), unique in the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_uri: Option<String>,
}

/// A verifier (relying party) and the purposes it is registered for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierRegistration {
    /// The verifier's DID (the DID in the `client_id` of its requests).
    pub did: Did,
    /// Its name, for display (`"Fotostudio Klik"`); never empty.
    pub name: String,
    /// The purposes it may ask for; never empty, each code at most once.
    pub purposes: Vec<RegisteredPurpose>,
    /// The other client identifiers that name it (OpenID4VP §5.9.3), when it signs its
    /// requests with an X.509 certificate (the EU profile): `x509_hash:<hash of its
    /// certificate>` (the operator, as the certificate authority, lists the certificates it
    /// issued), `x509_san_dns:<host>`; and `origin:https://<host>[:<port>]`, the web origin
    /// of its page when it asks over the Digital Credentials API with unsigned requests
    /// (OpenID4VP 1.0 Appendix A: the platform vouches for the origin). Each at most once in
    /// the list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
}

/// A purpose a verifier is registered for: on what legal basis, for how long, and which
/// claims of which credential types it may ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredPurpose {
    /// The purpose code requests name (`"newsletter"`); never empty.
    pub code: String,
    /// The text shown to the family.
    pub text: LocalizedText,
    /// The legal basis of the purpose (AVG art. 6(1)); a credential may name its own.
    pub legal_basis: LegalBasis,
    /// The longest the verifier may keep what it receives, in days.
    pub max_retention_days: u32,
    /// The credential types and claims it may ask for; never empty, each `vct` at most once.
    pub credentials: Vec<AllowedCredential>,
}

/// A credential type a purpose may ask for, and the claims of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedCredential {
    /// The credential type.
    pub vct: String,
    /// The claims paths it may ask for (JSON arrays, as in DCQL). A path also allows every
    /// claim inside it; `null` (every array element) allows any index.
    pub claims: Vec<ClaimPath>,
    /// The legal basis for this credential type, when it differs from the purpose's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

impl TrustList {
    /// An empty list by `operator`, valid from `issued_at` until `expires_at`.
    pub fn new(operator: Did, issued_at: i64, expires_at: i64) -> Self {
        TrustList {
            operator,
            issued_at,
            expires_at,
            issuers: Vec::new(),
            verifiers: Vec::new(),
            x509_trust_anchors: Vec::new(),
        }
    }

    /// Adds an accredited issuer.
    pub fn with_issuer(mut self, issuer: AccreditedIssuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Adds an X.509 trust anchor (a CA certificate, DER) for the EU profile's `x5c` chains.
    pub fn with_x509_trust_anchor(mut self, certificate_der: &[u8]) -> Self {
        use base64::Engine as _;
        self.x509_trust_anchors.push(base64::engine::general_purpose::STANDARD.encode(certificate_der));
        self
    }

    /// Adds a registered verifier.
    pub fn with_verifier(mut self, verifier: VerifierRegistration) -> Self {
        self.verifiers.push(verifier);
        self
    }

    /// Checks the rules of a well-formed list:
    ///
    /// - `expires_at` is after `issued_at`;
    /// - issuers: unique DIDs, a non-empty name, a valid BRIN when present, at least one
    ///   credential type, each a valid `vct`;
    /// - verifiers: unique DIDs, a non-empty name, at least one purpose, unique purpose codes;
    /// - purposes: a non-empty code and texts, at least one credential type, each a valid and
    ///   unique `vct`.
    pub fn validate(&self) -> Result<(), TrustListError> {
        if self.expires_at <= self.issued_at {
            return Err(TrustListError::InvalidValidityPeriod {
                issued_at: self.issued_at,
                expires_at: self.expires_at,
            });
        }
        let mut issuer_dids = BTreeSet::new();
        let mut issuer_uris = BTreeSet::new();
        for issuer in &self.issuers {
            if !issuer_dids.insert(&issuer.did) {
                return Err(TrustListError::DuplicateIssuer { did: issuer.did.to_string() });
            }
            if let Some(uri) = &issuer.issuer_uri
                && !issuer_uris.insert(uri.as_str())
            {
                return Err(TrustListError::DuplicateIssuer { did: truncate(uri) });
            }
            issuer.validate()?;
        }
        for (index, anchor) in self.x509_trust_anchors.iter().enumerate() {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(anchor) {
                Ok(der) if !der.is_empty() => {}
                _ => return Err(TrustListError::InvalidTrustAnchor { index }),
            }
        }
        let mut verifier_dids = BTreeSet::new();
        let mut client_ids = BTreeSet::new();
        for verifier in &self.verifiers {
            if !verifier_dids.insert(&verifier.did) {
                return Err(TrustListError::DuplicateVerifier { did: verifier.did.to_string() });
            }
            for client_id in &verifier.client_ids {
                // An `origin:` one names the web origin of a verifier that asks over the Digital
                // Credentials API without signing (OpenID4VP 1.0 Appendix A): checked as an
                // origin, as the wallet compares it with the platform's origin exactly.
                let valid = client_id.starts_with("x509_hash:")
                    || client_id.starts_with("x509_san_dns:")
                    || schooltas_oid4vc::oid4vp::Origin::from_client_id(client_id).is_ok();
                if !valid || client_id.chars().any(char::is_whitespace) {
                    return Err(TrustListError::InvalidClientId {
                        did: verifier.did.to_string(),
                        client_id: truncate(client_id),
                    });
                }
                if !client_ids.insert(client_id.to_ascii_lowercase()) {
                    return Err(TrustListError::DuplicateVerifier { did: truncate(client_id) });
                }
            }
            verifier.validate()?;
        }
        Ok(())
    }

    /// Whether the list may be relied on at `now`: issued no later than `now + skew` and not
    /// expired (`expires_at > now − skew`). [`VerifiedTrustList::at`] checks this at each use.
    pub(crate) fn check_current(&self, now: i64, skew: i64) -> Result<(), TrustListError> {
        if self.issued_at > now.saturating_add(skew) {
            return Err(TrustListError::IssuedInFuture { issued_at: self.issued_at, now });
        }
        if self.expires_at <= now.saturating_sub(skew) {
            return Err(TrustListError::Expired { expires_at: self.expires_at, now });
        }
        Ok(())
    }
}

/// A trust list whose signature, operator, shape and validity period were verified
/// ([`super::UnverifiedTrustList::verify_with`]): the only kind of list lookups can be made
/// in. It cannot be deserialized or built by hand.
///
/// Being verified once is not enough to be used forever: a list loaded at start-up expires
/// while a service runs. So the lookups are not on this type but on the view
/// [`VerifiedTrustList::at`] returns, which checks the validity period again at each use and
/// refuses an expired list with [`TrustListError::Expired`].
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedTrustList {
    list: TrustList,
    skew: i64,
}

impl VerifiedTrustList {
    /// Wraps a list that was just verified, with the clock tolerance it was verified with.
    pub(crate) fn new(list: TrustList, skew: i64) -> Self {
        VerifiedTrustList { list, skew }
    }

    /// The list for lookups at `now` (seconds since the epoch), with the clock tolerance it
    /// was verified with: refused with [`TrustListError::Expired`] once `expires_at` has
    /// passed, and with [`TrustListError::IssuedInFuture`] before `issued_at`.
    pub fn at(&self, now: i64) -> Result<CurrentTrustList<'_>, TrustListError> {
        self.list.check_current(now, self.skew)?;
        Ok(CurrentTrustList { list: &self.list })
    }

    /// The operator who signed it (`iss`).
    pub fn operator(&self) -> &Did {
        &self.list.operator
    }

    /// When it was issued (`iat`).
    pub fn issued_at(&self) -> i64 {
        self.list.issued_at
    }

    /// When it expires (`exp`): fetch a new list before then.
    pub fn expires_at(&self) -> i64 {
        self.list.expires_at
    }

    /// The verified content, to display or re-publish — not to look up in: lookups go
    /// through [`VerifiedTrustList::at`], which checks expiry.
    pub fn content(&self) -> &TrustList {
        &self.list
    }
}

/// A verified trust list at one moment at which it is valid: where issuers and verifiers are
/// looked up. Get one from [`VerifiedTrustList::at`] for each use; do not keep it.
#[derive(Clone, Copy, Debug)]
pub struct CurrentTrustList<'a> {
    list: &'a TrustList,
}

impl<'a> CurrentTrustList<'a> {
    /// The issuer with this DID, if the list has it.
    pub fn issuer(&self, did: &Did) -> Option<&'a AccreditedIssuer> {
        self.list.issuers.iter().find(|issuer| &issuer.did == did)
    }

    /// The issuer a credential's `iss` names: by DID, or by its EU-profile `https` identifier.
    pub fn issuer_named(&self, iss: &str) -> Option<&'a AccreditedIssuer> {
        if iss.starts_with("did:") {
            let did = Did::parse(iss).ok()?;
            return self.issuer(&did);
        }
        self.list.issuers.iter().find(|issuer| issuer.issuer_uri.as_deref() == Some(iss))
    }

    /// Like [`Self::check_issuer`], for a credential's `iss` (a DID or an `https` identifier).
    pub fn check_iss(&self, iss: &str, vct: &str) -> Result<&'a AccreditedIssuer, TrustListError> {
        let listed = self.issuer_named(iss).ok_or_else(|| TrustListError::IssuerNotListed { did: truncate(iss) })?;
        if !listed.is_accredited_for(vct) {
            return Err(TrustListError::IssuerNotAccredited { did: truncate(iss), vct: truncate(vct) });
        }
        Ok(listed)
    }

    /// The X.509 trust anchors (DER), for validating `x5c` chains.
    pub fn x509_trust_anchors(&self) -> Vec<Vec<u8>> {
        use base64::Engine as _;
        // Validated when the list was verified.
        self.list
            .x509_trust_anchors
            .iter()
            .filter_map(|anchor| base64::engine::general_purpose::STANDARD.decode(anchor).ok())
            .collect()
    }

    /// The issuer with this DID, if it is accredited for the credential type `vct`.
    ///
    /// Refused with [`TrustListError::IssuerNotListed`] when the list does not have the issuer,
    /// and with [`TrustListError::IssuerNotAccredited`] when it does, but not for `vct`.
    pub fn check_issuer(&self, issuer: &Did, vct: &str) -> Result<&'a AccreditedIssuer, TrustListError> {
        let listed = self.issuer(issuer).ok_or_else(|| TrustListError::IssuerNotListed { did: issuer.to_string() })?;
        if !listed.is_accredited_for(vct) {
            return Err(TrustListError::IssuerNotAccredited { did: issuer.to_string(), vct: truncate(vct) });
        }
        Ok(listed)
    }

    /// The verifier a request's `client_id` names (its DID, or an x509 client identifier it is
    /// registered with), if the list has it.
    pub fn verifier_for_client(&self, client_id: &str) -> Option<&'a VerifierRegistration> {
        self.list.verifiers.iter().find(|verifier| verifier.is_named_by(client_id))
    }

    /// The verifier with this DID, if the list has it.
    pub fn verifier(&self, did: &Did) -> Option<&'a VerifierRegistration> {
        self.list.verifiers.iter().find(|verifier| &verifier.did == did)
    }

    /// The operator who signed the list.
    pub fn operator(&self) -> &'a Did {
        &self.list.operator
    }
}

impl AccreditedIssuer {
    /// An issuer named `name`, accredited for nothing yet.
    pub fn new(did: Did, name: impl Into<String>) -> Self {
        AccreditedIssuer { did, name: name.into(), brin: None, credential_types: Vec::new(), issuer_uri: None }
    }

    /// Sets the school's BRIN code.
    pub fn with_brin(mut self, brin: impl Into<String>) -> Self {
        self.brin = Some(brin.into());
        self
    }

    /// Sets the issuer's `https` identifier for the EU profile (its credentials' `iss` when
    /// they are signed with an X.509 certificate).
    pub fn with_issuer_uri(mut self, uri: impl Into<String>) -> Self {
        self.issuer_uri = Some(uri.into());
        self
    }

    /// Accredits the issuer for the credential type `vct`.
    pub fn accredited_for(mut self, vct: impl Into<String>) -> Self {
        self.credential_types.push(vct.into());
        self
    }

    /// Whether the issuer is accredited for the credential type `vct`.
    pub fn is_accredited_for(&self, vct: &str) -> bool {
        self.credential_types.iter().any(|t| t == vct)
    }

    fn validate(&self) -> Result<(), TrustListError> {
        let did = || self.did.to_string();
        if self.name.trim().is_empty() {
            return Err(TrustListError::EmptyName { did: did() });
        }
        if let Some(brin) = &self.brin
            && !is_brin(brin)
        {
            return Err(TrustListError::InvalidBrin { did: did(), brin: truncate(brin) });
        }
        if self.credential_types.is_empty() {
            return Err(TrustListError::NoCredentialTypes { did: did() });
        }
        if let Some(uri) = &self.issuer_uri {
            let rest = uri.strip_prefix("https://").unwrap_or_default();
            let host = rest.split('/').next().unwrap_or_default();
            if host.is_empty() || uri.contains(['?', '#']) || uri.ends_with('/') || uri.chars().any(char::is_whitespace)
            {
                return Err(TrustListError::InvalidIssuerUri { did: did(), uri: truncate(uri) });
            }
        }
        for vct in &self.credential_types {
            check_vct(&self.did, vct)?;
        }
        Ok(())
    }
}

impl VerifierRegistration {
    /// A verifier named `name`, registered for no purpose yet.
    pub fn new(did: Did, name: impl Into<String>) -> Self {
        VerifierRegistration { did, name: name.into(), purposes: Vec::new(), client_ids: Vec::new() }
    }

    /// Adds a purpose.
    pub fn with_purpose(mut self, purpose: RegisteredPurpose) -> Self {
        self.purposes.push(purpose);
        self
    }

    /// Adds a client identifier naming this verifier (`x509_hash:…`, `x509_san_dns:…`,
    /// `origin:https://…`).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_ids.push(client_id.into());
        self
    }

    /// Whether `client_id` names this verifier: its DID as `decentralized_identifier:<did>`,
    /// or one of its [`client_ids`](Self::client_ids) (an `x509_san_dns` host compared without
    /// regard to case).
    pub fn is_named_by(&self, client_id: &str) -> bool {
        if let Some(did) = client_id.strip_prefix("decentralized_identifier:") {
            return did == self.did.as_str();
        }
        self.client_ids
            .iter()
            .any(|own| own == client_id || (own.starts_with("x509_san_dns:") && own.eq_ignore_ascii_case(client_id)))
    }

    /// The registered purpose with this code.
    pub fn purpose(&self, code: &str) -> Option<&RegisteredPurpose> {
        self.purposes.iter().find(|purpose| purpose.code == code)
    }

    fn validate(&self) -> Result<(), TrustListError> {
        let did = || self.did.to_string();
        if self.name.trim().is_empty() {
            return Err(TrustListError::EmptyName { did: did() });
        }
        if self.purposes.is_empty() {
            return Err(TrustListError::NoPurposes { did: did() });
        }
        let mut codes = BTreeSet::new();
        for purpose in &self.purposes {
            if purpose.code.trim().is_empty() {
                return Err(TrustListError::EmptyPurposeCode { did: did() });
            }
            if !codes.insert(purpose.code.as_str()) {
                return Err(TrustListError::DuplicatePurpose { did: did(), code: truncate(&purpose.code) });
            }
            purpose.validate(&self.did)?;
        }
        Ok(())
    }
}

impl RegisteredPurpose {
    /// A purpose `code` on `legal_basis`, kept at most `max_retention_days`, allowing no
    /// credential yet.
    pub fn new(code: impl Into<String>, text: LocalizedText, legal_basis: LegalBasis, max_retention_days: u32) -> Self {
        RegisteredPurpose { code: code.into(), text, legal_basis, max_retention_days, credentials: Vec::new() }
    }

    /// Allows asking for the claims at `paths` (and inside them) of credentials of type `vct`,
    /// on the purpose's legal basis.
    pub fn allow(mut self, vct: impl Into<String>, paths: impl IntoIterator<Item = ClaimPath>) -> Self {
        self.credentials.push(AllowedCredential {
            vct: vct.into(),
            claims: paths.into_iter().collect(),
            legal_basis: None,
        });
        self
    }

    /// Like [`RegisteredPurpose::allow`], on its own legal basis `legal_basis`.
    pub fn allow_with_basis(
        mut self,
        vct: impl Into<String>,
        paths: impl IntoIterator<Item = ClaimPath>,
        legal_basis: LegalBasis,
    ) -> Self {
        self.credentials.push(AllowedCredential {
            vct: vct.into(),
            claims: paths.into_iter().collect(),
            legal_basis: Some(legal_basis),
        });
        self
    }

    /// What the purpose allows for the credential type `vct`, if anything.
    pub fn credential(&self, vct: &str) -> Option<&AllowedCredential> {
        self.credentials.iter().find(|credential| credential.vct == vct)
    }

    /// The legal basis for credentials of type `vct` under this purpose: the credential's own,
    /// else the purpose's. `None` when the purpose does not allow `vct`.
    pub fn basis_for(&self, vct: &str) -> Option<LegalBasis> {
        self.credential(vct).map(|credential| credential.legal_basis.unwrap_or(self.legal_basis))
    }

    /// Whether the purpose allows asking for the claim at `path` of a credential of type `vct`.
    ///
    /// A registered path allows itself and every path inside it (`["administrative"]` allows
    /// `["administrative", "given_name"]`); a registered `null` matches any array index and
    /// `null`. A registered index does not allow `null` (all elements).
    pub fn allows(&self, vct: &str, path: &ClaimPath) -> bool {
        self.credential(vct).is_some_and(|credential| credential.allows(path))
    }

    fn validate(&self, verifier: &Did) -> Result<(), TrustListError> {
        let code = || truncate(&self.code);
        if self.text.nl.trim().is_empty() || self.text.en.trim().is_empty() {
            return Err(TrustListError::EmptyPurposeText { did: verifier.to_string(), code: code() });
        }
        if self.credentials.is_empty() {
            return Err(TrustListError::NoAllowedCredentials { did: verifier.to_string(), code: code() });
        }
        let mut types = BTreeSet::new();
        for credential in &self.credentials {
            check_vct(verifier, &credential.vct)?;
            if !types.insert(credential.vct.as_str()) {
                return Err(TrustListError::DuplicateAllowedCredential {
                    did: verifier.to_string(),
                    code: code(),
                    vct: truncate(&credential.vct),
                });
            }
        }
        Ok(())
    }
}

impl AllowedCredential {
    /// Whether the claim at `path` is one of the allowed claims or lies inside one.
    pub fn allows(&self, path: &ClaimPath) -> bool {
        self.claims.iter().any(|allowed| path.starts_with(allowed))
    }
}

fn check_vct(did: &Did, vct: &str) -> Result<(), TrustListError> {
    Vct::new(vct)
        .map(drop)
        .map_err(|_| TrustListError::InvalidCredentialType { did: did.to_string(), vct: truncate(vct) })
}

/// A BRIN code (DUO's school identifier): two digits, then two capital letters or digits.
/// The catalog's `school_brin` claim is stricter (letters only); a trust list also accepts the
/// digit forms so that it never refuses a school DUO has registered.
fn is_brin(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 4
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes[2..].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::is_brin;

    #[test]
    fn brin_codes() {
        for good in ["12AB", "00ZZ", "30N1"] {
            assert!(is_brin(good), "{good}");
        }
        for bad in ["", "12ab", "1AB2", "12ABC", "AB12", "12A", "12Ä"] {
            assert!(!is_brin(bad), "{bad}");
        }
    }
}
