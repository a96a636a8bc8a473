//! OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-auth),
//! as OpenID4VCI 1.0 Appendix E and HAIP 1.0 §4.4.1 use it for **wallet attestations**.
//!
//! A wallet provider vouches for its wallet app with a *Client Attestation JWT* (`typ`
//! `oauth-client-attestation+jwt`): `sub` is the wallet's `client_id` (the same for every
//! installation), `cnf.jwk` the key of this one installation (the *client instance key*), and
//! the provider's certificate chain sits in the `x5c` header (HAIP 1.0 §4.4.1). With every
//! request to an authorization server the wallet sends it in the `OAuth-Client-Attestation`
//! header, beside a fresh *Client Attestation PoP JWT* (`typ` `oauth-client-attestation-pop+jwt`)
//! signed by the instance key, whose `aud` is that server's issuer identifier, in the
//! `OAuth-Client-Attestation-PoP` header.
//!
//! - [`sign_client_attestation`] (the wallet provider) and [`sign_client_attestation_pop`] (the
//!   wallet) make them;
//! - [`UnverifiedClientAttestation::parse`] reads the pair without trusting anything, and only
//!   [`UnverifiedClientAttestation::verify`] yields a [`VerifiedClientAttestation`]: the chain is
//!   validated by the caller (to its wallet-provider trust anchors), then every rule of the
//!   draft's §"Verification and Processing" is checked. Replay of a PoP's `jti` is the server's
//!   to refuse, with what the verified attestation returns.
//!
//! ```
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use schooltas_oid4vc::client_attestation::{
//!     ClientAttestationClaims, ClientAttestationPolicy, UnverifiedClientAttestation, sign_client_attestation,
//!     sign_client_attestation_pop,
//! };
//! use schooltas_x509::{CertificateAuthority, Profile, Subject, TrustAnchors, Usage, Validity, validate};
//!
//! let now = 1_800_000_000;
//! // The wallet provider: a CA and a signing certificate for its attestations.
//! let root = CertificateAuthority::root(
//!     SigningKey::generate(Algorithm::Es256)?,
//!     Subject::new("Wallet BV", "Wallet BV Root")?,
//!     Validity::days_from(now, 3650)?,
//!     Some(0),
//!     Profile::Haip,
//! )?;
//! let provider_key = SigningKey::generate(Algorithm::Es256)?;
//! let provider_cert = root.issue_wallet_provider_certificate(
//!     provider_key.verifying_key(),
//!     "https://wallet.example",
//!     &Subject::new("Wallet BV", "Wallet BV attestations")?,
//!     Validity::days_from(now, 365)?,
//! )?;
//! // One installation's key, attested.
//! let instance = SigningKey::generate(Algorithm::Es256)?;
//! let claims = ClientAttestationClaims::new(
//!     "https://wallet.example",
//!     "https://wallet.example/app",
//!     now + 86_400,
//!     instance.verifying_key().clone(),
//! )
//! .wallet_name("Schooltas Wallet");
//! let attestation = sign_client_attestation(&provider_key, provider_cert.chain().certificates().to_vec(), &claims)?;
//! let pop = sign_client_attestation_pop(&instance, "https://school.example", "jti-1", now, None)?;
//!
//! // The authorization server.
//! let anchors = TrustAnchors::from_der(vec![root.certificate_der().to_vec()])?;
//! let policy = ClientAttestationPolicy::new("https://school.example");
//! let verified = UnverifiedClientAttestation::parse(&attestation, &pop)?.verify(
//!     &policy,
//!     |chain| Ok(validate(chain, &anchors, now, Usage::Any)?.verifying_key().clone()),
//!     now,
//! )?;
//! assert_eq!(verified.client_id, "https://wallet.example/app");
//! assert_eq!(verified.instance_key, *instance.verifying_key());
//! assert_eq!(verified.pop_jti, "jti-1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use schooltas_did::jws::{CompactJws, Header, sign_compact_json};
use schooltas_did::{Algorithm, Signer, VerifyingKey};
use schooltas_x509::{CertificateChain, X509Error};
use serde_json::{Map, Value};

/// The `typ` of a Client Attestation JWT.
pub const CLIENT_ATTESTATION_TYP: &str = "oauth-client-attestation+jwt";
/// The `typ` of a Client Attestation PoP JWT.
pub const CLIENT_ATTESTATION_POP_TYP: &str = "oauth-client-attestation-pop+jwt";
/// The HTTP header that carries the Client Attestation JWT.
pub const CLIENT_ATTESTATION_HEADER: &str = "OAuth-Client-Attestation";
/// The HTTP header that carries the Client Attestation PoP JWT.
pub const CLIENT_ATTESTATION_POP_HEADER: &str = "OAuth-Client-Attestation-PoP";
/// The HTTP header in which a server gives a fresh challenge (draft §"Challenges").
pub const CLIENT_ATTESTATION_CHALLENGE_HEADER: &str = "OAuth-Client-Attestation-Challenge";
/// The `token_endpoint_auth_methods_supported` value of this method with a PoP JWT.
pub const ATTEST_JWT_CLIENT_AUTH: &str = "attest_jwt_client_auth";
/// The longest Client Attestation JWT accepted (an `x5c` chain makes it a few KiB).
pub const MAX_CLIENT_ATTESTATION_LEN: usize = 16 << 10;
/// The longest Client Attestation PoP JWT accepted.
pub const MAX_CLIENT_ATTESTATION_POP_LEN: usize = 4096;
/// The longest PoP `jti` accepted, in bytes.
pub const MAX_POP_JTI_LEN: usize = 256;

/// JWK members that only a private (or symmetric) key has (RFC 7518 §6).
const PRIVATE_JWK_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Which of the two JWTs a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationPart {
    /// The Client Attestation JWT (`OAuth-Client-Attestation`).
    Attestation,
    /// The Client Attestation PoP JWT (`OAuth-Client-Attestation-PoP`).
    Pop,
}

impl std::fmt::Display for AttestationPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AttestationPart::Attestation => "client attestation",
            AttestationPart::Pop => "client attestation PoP",
        })
    }
}

/// Why a client (wallet) attestation was refused. Every variant names the rule; none carries a
/// claim value, a key or a token. [`ClientAttestationError::error_code`] gives the OAuth error
/// code to answer with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAttestationError {
    /// Not a compact JWS, too long, a strict-JSON problem, or a header the library refuses
    /// (`alg` `none` or HMAC, an unknown critical header).
    #[error("{part}: malformed: {reason}")]
    Malformed {
        /// Which JWT.
        part: AttestationPart,
        /// What is wrong with it.
        reason: String,
    },
    /// `typ` is not the one the draft requires.
    #[error("{part}: typ must be {expected}")]
    WrongTyp {
        /// Which JWT.
        part: AttestationPart,
        /// The `typ` it must carry.
        expected: &'static str,
    },
    /// `alg` is not one this server accepts.
    #[error("{part}: alg {alg} is not accepted here (accepted: {accepted})")]
    AlgorithmNotAccepted {
        /// Which JWT.
        part: AttestationPart,
        /// The JWT's `alg`.
        alg: &'static str,
        /// The accepted algorithms, comma separated.
        accepted: String,
    },
    /// The attestation has no `x5c` header: HAIP 1.0 §4.4.1 puts the wallet provider's
    /// certificate chain there.
    #[error("client attestation: the x5c header with the wallet provider's certificate chain is missing")]
    MissingX5c,
    /// The `x5c` chain is malformed, or does not lead to a trusted wallet provider.
    #[error("client attestation: its signer is not a trusted wallet provider: {0}")]
    UntrustedProvider(#[source] X509Error),
    /// The signature does not verify (the attestation with the provider's key, the PoP with
    /// the attested instance key).
    #[error("{part}: the signature does not verify{hint}")]
    BadSignature {
        /// Which JWT.
        part: AttestationPart,
        /// What it means, for the PoP: signed by another key than the attested one.
        hint: &'static str,
    },
    /// A required claim is missing or of the wrong type.
    #[error("{part}: claim {claim} is missing or not of the required type")]
    MissingClaim {
        /// Which JWT.
        part: AttestationPart,
        /// The claim.
        claim: &'static str,
    },
    /// The attestation's `exp` has passed: get a fresh one from the wallet provider.
    #[error("client attestation: expired at {exp} (now {now}): get a fresh attestation from the wallet provider")]
    Expired {
        /// `exp`.
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The attestation's `nbf` or `iat` lies in the future (beyond the clock skew).
    #[error("client attestation: not valid yet ({claim} {at}, now {now}); check the clocks")]
    NotYetValid {
        /// `nbf` or `iat`.
        claim: &'static str,
        /// Its value.
        at: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `cnf.jwk` holds a private key member (draft: "is not a private key").
    #[error("client attestation: cnf.jwk holds a private key; it must be the public instance key only")]
    PrivateKeyInCnf,
    /// `cnf.jwk` is not a public key this library reads.
    #[error("client attestation: cnf.jwk is not a usable public key: {reason}")]
    InvalidCnfKey {
        /// What is wrong with it.
        reason: String,
    },
    /// The PoP's `aud` is not this authorization server's issuer identifier.
    #[error(
        "client attestation PoP: aud is not this authorization server's issuer identifier: make one PoP per server"
    )]
    AudienceMismatch,
    /// The PoP's `iat` is too old or in the future.
    #[error("client attestation PoP: iat {iat} is outside the accepted window around now ({now}): make a fresh PoP")]
    PopNotFresh {
        /// `iat`.
        iat: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The PoP's `jti` is longer than [`MAX_POP_JTI_LEN`].
    #[error("client attestation PoP: jti is longer than {MAX_POP_JTI_LEN} bytes")]
    JtiTooLong,
    /// The server requires its challenge and the PoP has none, or another one: retry with the
    /// `OAuth-Client-Attestation-Challenge` value (`use_attestation_challenge`).
    #[error(
        "client attestation PoP: it must carry this server's current challenge: retry with the OAuth-Client-Attestation-Challenge header's value"
    )]
    UseChallenge,
    /// A PoP (`jti`) was presented a second time (the server's replay cache).
    #[error("client attestation PoP: it was used before: make a new PoP for every request")]
    Replayed,
    /// The server remembers too many recent PoPs to take another now (a flood); retry shortly.
    #[error("client attestation PoP: the server sees too many at once; retry shortly")]
    ReplayCacheFull,
    /// The attestation's `sub` is not a wallet this server accepts.
    #[error("client attestation: the wallet (sub) is not one this authorization server accepts")]
    ClientNotAllowed,
    /// A `client_id` in the request differs from the attestation's `sub`.
    #[error("client attestation: the request's client_id is not the attestation's sub")]
    ClientIdMismatch,
}

impl ClientAttestationError {
    /// The OAuth error code to answer with (draft §"Errors", RFC 6749 §5.2):
    /// `use_attestation_challenge` when the server's challenge is missing, `use_fresh_attestation`
    /// for an expired attestation, `invalid_client` for every other refusal. (The draft allows
    /// `invalid_client_attestation` "in addition"; a server that wants it uses
    /// [`ClientAttestationError::INVALID_CLIENT_ATTESTATION`].)
    pub fn error_code(&self) -> &'static str {
        match self {
            ClientAttestationError::UseChallenge => "use_attestation_challenge",
            ClientAttestationError::Expired { .. } => "use_fresh_attestation",
            _ => "invalid_client",
        }
    }

    /// The draft's `invalid_client_attestation` code: the attestation or its PoP did not verify.
    pub const INVALID_CLIENT_ATTESTATION: &'static str = "invalid_client_attestation";
}

/// The claims of a Client Attestation JWT (draft §"Client Attestation JWT"; OpenID4VCI 1.0
/// Appendix E.1 adds `wallet_name`, `wallet_link` and `status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAttestationClaims {
    /// `iss`: the wallet provider.
    pub issuer: String,
    /// `sub`: the wallet's `client_id`, the same for every installation (HAIP 1.0 §4.4.1: no
    /// per-instance identifier).
    pub client_id: String,
    /// `exp`.
    pub expires_at: i64,
    /// `iat`, when stated.
    pub issued_at: Option<i64>,
    /// `nbf`, when stated.
    pub not_before: Option<i64>,
    /// `cnf.jwk`: the client instance key, which signs the PoPs.
    pub instance_key: VerifyingKey,
    /// `wallet_name`: a human-readable name of the wallet.
    pub wallet_name: Option<String>,
    /// `wallet_link`: a URL with information about the wallet.
    pub wallet_link: Option<String>,
    /// `status`: where the attestation's revocation status is found (kept as JSON).
    pub status: Option<Value>,
}

impl ClientAttestationClaims {
    /// An attestation by `issuer` that wallet `client_id` holds `instance_key`, until `expires_at`.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        expires_at: i64,
        instance_key: VerifyingKey,
    ) -> Self {
        ClientAttestationClaims {
            issuer: issuer.into(),
            client_id: client_id.into(),
            expires_at,
            issued_at: None,
            not_before: None,
            instance_key,
            wallet_name: None,
            wallet_link: None,
            status: None,
        }
    }

    /// Sets `iat`.
    pub fn issued_at(mut self, iat: i64) -> Self {
        self.issued_at = Some(iat);
        self
    }

    /// Sets `nbf`.
    pub fn not_before(mut self, nbf: i64) -> Self {
        self.not_before = Some(nbf);
        self
    }

    /// Sets `wallet_name`.
    pub fn wallet_name(mut self, name: impl Into<String>) -> Self {
        self.wallet_name = Some(name.into());
        self
    }

    /// Sets `wallet_link`.
    pub fn wallet_link(mut self, link: impl Into<String>) -> Self {
        self.wallet_link = Some(link.into());
        self
    }

    /// Sets `status`.
    pub fn status(mut self, status: Value) -> Self {
        self.status = Some(status);
        self
    }

    fn to_json(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(self.issuer.clone()));
        claims.insert("sub".into(), Value::String(self.client_id.clone()));
        claims.insert("exp".into(), Value::from(self.expires_at));
        if let Some(iat) = self.issued_at {
            claims.insert("iat".into(), Value::from(iat));
        }
        if let Some(nbf) = self.not_before {
            claims.insert("nbf".into(), Value::from(nbf));
        }
        let mut cnf = Map::new();
        cnf.insert("jwk".into(), Value::Object(self.instance_key.to_jwk()));
        claims.insert("cnf".into(), Value::Object(cnf));
        if let Some(name) = &self.wallet_name {
            claims.insert("wallet_name".into(), Value::String(name.clone()));
        }
        if let Some(link) = &self.wallet_link {
            claims.insert("wallet_link".into(), Value::String(link.clone()));
        }
        if let Some(status) = &self.status {
            claims.insert("status".into(), status.clone());
        }
        claims
    }
}

/// Signs a Client Attestation JWT (`typ` `oauth-client-attestation+jwt`) with the wallet
/// provider's key; `x5c` is the provider's certificate chain, leaf (the certificate of
/// `provider`'s key) first, without the trust anchor (HAIP 1.0 §4.4.1).
pub fn sign_client_attestation(
    provider: &(impl Signer + ?Sized),
    x5c: Vec<Vec<u8>>,
    claims: &ClientAttestationClaims,
) -> crate::Result<String> {
    let chain = CertificateChain::new(x5c).map_err(ClientAttestationError::UntrustedProvider)?;
    let header = Header::new().with_typ(CLIENT_ATTESTATION_TYP).with_member("x5c", chain.to_x5c());
    Ok(sign_compact_json(&header, &claims.to_json(), provider)?)
}

/// Signs a Client Attestation PoP JWT (`typ` `oauth-client-attestation-pop+jwt`) with the
/// client instance key: `aud` the authorization server's issuer identifier, `jti` unique per
/// PoP, and the server's `challenge` when it gave one.
pub fn sign_client_attestation_pop(
    instance: &(impl Signer + ?Sized),
    aud: &str,
    jti: &str,
    issued_at: i64,
    challenge: Option<&str>,
) -> crate::Result<String> {
    let mut claims = Map::new();
    claims.insert("aud".into(), Value::String(aud.to_owned()));
    claims.insert("jti".into(), Value::String(jti.to_owned()));
    claims.insert("iat".into(), Value::from(issued_at));
    if let Some(challenge) = challenge {
        claims.insert("challenge".into(), Value::String(challenge.to_owned()));
    }
    Ok(sign_compact_json(&Header::new().with_typ(CLIENT_ATTESTATION_POP_TYP), &claims, instance)?)
}

/// What an authorization server accepts of a client attestation and its PoP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAttestationPolicy {
    /// The server's RFC 8414 issuer identifier: the PoP's `aud` must be exactly this.
    pub audience: String,
    /// The algorithms accepted for both JWTs (HAIP 1.0: ES256).
    pub algorithms: Vec<Algorithm>,
    /// Seconds of clock difference tolerated.
    pub clock_skew: i64,
    /// The oldest PoP `iat` accepted, in seconds before now.
    pub pop_max_age: i64,
    /// When set, the PoP's `challenge` must equal one of these (the server's current
    /// challenges); a PoP without one, or with another, is [`ClientAttestationError::UseChallenge`].
    pub challenges: Option<Vec<String>>,
}

impl ClientAttestationPolicy {
    /// PoPs for `audience`, ES256 only, 60 s of skew, PoPs at most 5 minutes old, no challenge.
    pub fn new(audience: impl Into<String>) -> Self {
        ClientAttestationPolicy {
            audience: audience.into(),
            algorithms: vec![Algorithm::Es256],
            clock_skew: 60,
            pop_max_age: 300,
            challenges: None,
        }
    }

    /// Also accepts EdDSA (outside HAIP).
    pub fn allow_eddsa(mut self) -> Self {
        if !self.algorithms.contains(&Algorithm::EdDsa) {
            self.algorithms.push(Algorithm::EdDsa);
        }
        self
    }

    /// Requires the PoP to carry one of `challenges`.
    pub fn require_challenge(mut self, challenges: Vec<String>) -> Self {
        self.challenges = Some(challenges);
        self
    }
}

/// An attestation and its PoP that passed [`UnverifiedClientAttestation::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedClientAttestation {
    /// `sub`: the wallet's `client_id`.
    pub client_id: String,
    /// `iss`: the wallet provider, when the attestation names it (the draft does not require
    /// it: the provider is who the `x5c` chain certifies).
    pub provider: Option<String>,
    /// `wallet_name`, when given.
    pub wallet_name: Option<String>,
    /// `wallet_link`, when given.
    pub wallet_link: Option<String>,
    /// `status`, when given (the caller checks it if its policy asks).
    pub status: Option<Value>,
    /// `exp` of the attestation.
    pub expires_at: i64,
    /// `cnf.jwk`: the client instance key, which signed the PoP.
    pub instance_key: VerifyingKey,
    /// The PoP's `jti`: the server refuses a second PoP with it while `iat` is in its window.
    pub pop_jti: String,
    /// The PoP's `iat`.
    pub pop_issued_at: i64,
}

/// A client attestation and its PoP, parsed, nothing trusted: only
/// [`UnverifiedClientAttestation::verify`] reads their claims.
pub struct UnverifiedClientAttestation<'a> {
    attestation: CompactJws<'a>,
    pop: CompactJws<'a>,
    chain: CertificateChain,
}

impl std::fmt::Debug for UnverifiedClientAttestation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnverifiedClientAttestation").field("chain", &self.chain).finish_non_exhaustive()
    }
}

fn malformed(part: AttestationPart, reason: impl std::fmt::Display) -> ClientAttestationError {
    ClientAttestationError::Malformed { part, reason: reason.to_string() }
}

fn parse_jws<'a>(
    jwt: &'a str,
    max: usize,
    part: AttestationPart,
    typ: &'static str,
) -> Result<CompactJws<'a>, ClientAttestationError> {
    // The header parser refuses `alg` none / HMAC (only EdDSA and ES256 exist here) and any
    // `crit` member it does not understand (RFC 7515 §4.1.11).
    let jws = CompactJws::parse_with_limit(jwt, max).map_err(|e| malformed(part, e))?;
    if jws.header().typ() != Some(typ) {
        return Err(ClientAttestationError::WrongTyp { part, expected: typ });
    }
    Ok(jws)
}

fn claims_of(payload: &[u8], part: AttestationPart) -> Result<Map<String, Value>, ClientAttestationError> {
    match schooltas_did::strict_json::to_value(payload) {
        Ok(Value::Object(claims)) => Ok(claims),
        Ok(_) => Err(malformed(part, "the payload is not a JSON object")),
        Err(e) => Err(malformed(part, e)),
    }
}

impl<'a> UnverifiedClientAttestation<'a> {
    /// Parses the two header values: each a compact JWS within its size limit
    /// ([`MAX_CLIENT_ATTESTATION_LEN`], [`MAX_CLIENT_ATTESTATION_POP_LEN`]) with exactly its
    /// `typ`, the attestation with an `x5c` header read strictly.
    pub fn parse(attestation: &'a str, pop: &'a str) -> Result<Self, ClientAttestationError> {
        let attestation =
            parse_jws(attestation, MAX_CLIENT_ATTESTATION_LEN, AttestationPart::Attestation, CLIENT_ATTESTATION_TYP)?;
        let pop = parse_jws(pop, MAX_CLIENT_ATTESTATION_POP_LEN, AttestationPart::Pop, CLIENT_ATTESTATION_POP_TYP)?;
        let x5c = attestation.header().get("x5c").ok_or(ClientAttestationError::MissingX5c)?;
        let chain = CertificateChain::from_x5c(x5c).map_err(ClientAttestationError::UntrustedProvider)?;
        Ok(UnverifiedClientAttestation { attestation, pop, chain })
    }

    /// The wallet provider's certificate chain from the `x5c` header, **not validated**.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// Verifies the pair (draft §"Verification and Processing"):
    ///
    /// 1. both `alg`s are in `policy.algorithms`;
    /// 2. `trust` validates the `x5c` chain to the server's wallet-provider anchors at `now` and
    ///    returns the leaf's key, which must verify the attestation;
    /// 3. `sub` is a non-empty string (and `iss`, if present, a string), `exp` a number in the future, `nbf`/`iat` (when present)
    ///    not in the future (all with `policy.clock_skew`);
    /// 4. `cnf.jwk` is a public key (no private member), and it verifies the PoP;
    /// 5. the PoP's `aud` is exactly `policy.audience`, `jti` a non-empty string, `iat` within
    ///    `policy.pop_max_age` before and the skew after `now`, and `challenge` one of
    ///    `policy.challenges` when the server requires one.
    pub fn verify(
        self,
        policy: &ClientAttestationPolicy,
        trust: impl FnOnce(&CertificateChain) -> Result<VerifyingKey, X509Error>,
        now: i64,
    ) -> Result<VerifiedClientAttestation, ClientAttestationError> {
        use AttestationPart::{Attestation, Pop};
        let accepted = || policy.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ");
        for (part, jws) in [(Attestation, &self.attestation), (Pop, &self.pop)] {
            if !policy.algorithms.contains(&jws.algorithm()) {
                return Err(ClientAttestationError::AlgorithmNotAccepted {
                    part,
                    alg: jws.algorithm().as_str(),
                    accepted: accepted(),
                });
            }
        }

        let provider_key = trust(&self.chain).map_err(ClientAttestationError::UntrustedProvider)?;
        let verified = self
            .attestation
            .verify(&provider_key)
            .map_err(|_| ClientAttestationError::BadSignature { part: Attestation, hint: "" })?;
        let claims = claims_of(verified.payload(), Attestation)?;
        let missing = |claim| ClientAttestationError::MissingClaim { part: Attestation, claim };
        let text = |name: &'static str| match claims.get(name) {
            Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
            _ => Err(missing(name)),
        };
        let optional_text = |name: &'static str| match claims.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(missing(name)),
        };
        let time = |name: &'static str| match claims.get(name) {
            None => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or_else(|| missing(name)),
        };
        let provider = optional_text("iss")?;
        let client_id = text("sub")?;
        let expires_at = time("exp")?.ok_or_else(|| missing("exp"))?;
        if expires_at <= now.saturating_sub(policy.clock_skew) {
            return Err(ClientAttestationError::Expired { exp: expires_at, now });
        }
        for claim in ["nbf", "iat"] {
            if let Some(at) = time(claim)?
                && at > now.saturating_add(policy.clock_skew)
            {
                return Err(ClientAttestationError::NotYetValid { claim, at, now });
            }
        }
        let jwk = match claims.get("cnf") {
            Some(Value::Object(cnf)) => match cnf.get("jwk") {
                Some(Value::Object(jwk)) => jwk,
                _ => return Err(missing("cnf.jwk")),
            },
            _ => return Err(missing("cnf")),
        };
        if PRIVATE_JWK_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
            return Err(ClientAttestationError::PrivateKeyInCnf);
        }
        let instance_key =
            VerifyingKey::from_jwk(jwk).map_err(|e| ClientAttestationError::InvalidCnfKey { reason: e.to_string() })?;

        let pop = self.pop.verify(&instance_key).map_err(|_| ClientAttestationError::BadSignature {
            part: Pop,
            hint: " with the attested instance key (cnf.jwk): sign the PoP with the attested key",
        })?;
        let pop_claims = claims_of(pop.payload(), Pop)?;
        let pop_missing = |claim| ClientAttestationError::MissingClaim { part: Pop, claim };
        match pop_claims.get("aud") {
            Some(Value::String(aud)) if *aud == policy.audience => {}
            Some(Value::String(_)) => return Err(ClientAttestationError::AudienceMismatch),
            _ => return Err(pop_missing("aud")),
        }
        let pop_jti = match pop_claims.get("jti") {
            Some(Value::String(jti)) if !jti.is_empty() => jti.clone(),
            _ => return Err(pop_missing("jti")),
        };
        if pop_jti.len() > MAX_POP_JTI_LEN {
            return Err(ClientAttestationError::JtiTooLong);
        }
        let pop_issued_at = pop_claims.get("iat").and_then(Value::as_i64).ok_or_else(|| pop_missing("iat"))?;
        if pop_issued_at > now.saturating_add(policy.clock_skew)
            || pop_issued_at < now.saturating_sub(policy.pop_max_age)
        {
            return Err(ClientAttestationError::PopNotFresh { iat: pop_issued_at, now });
        }
        if let Some(expected) = &policy.challenges {
            let challenge = match pop_claims.get("challenge") {
                None => None,
                Some(Value::String(challenge)) => Some(challenge.as_str()),
                Some(_) => return Err(pop_missing("challenge")),
            };
            if !challenge.is_some_and(|c| expected.iter().any(|e| e == c)) {
                return Err(ClientAttestationError::UseChallenge);
            }
        }

        Ok(VerifiedClientAttestation {
            client_id,
            provider,
            wallet_name: optional_text("wallet_name")?,
            wallet_link: optional_text("wallet_link")?,
            status: claims.get("status").cloned(),
            expires_at,
            instance_key,
            pop_jti,
            pop_issued_at,
        })
    }
}

#[cfg(test)]
mod tests;
