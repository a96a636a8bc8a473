//! The status list token (draft §5.1): a JWT with `typ: statuslist+jwt` that signs a status list.

use serde_json::{Map, Value};

use schooltas_did::jws::{CompactJws, Header, sign_compact_json};
use schooltas_did::{Signer, VerifyingKey};

use super::list::{DecodeLimits, StatusList};
use super::reference::StatusListUri;
use crate::{Error, Result};

/// The JOSE `typ` of a status list token.
pub const STATUS_LIST_JWT_TYP: &str = "statuslist+jwt";

/// The media type a status provider serves status list tokens with (draft §8.2).
pub const STATUS_LIST_JWT_MEDIA_TYPE: &str = "application/statuslist+jwt";

/// A status list token's content: the list and the claims around it.
///
/// Built by a status issuer and [signed](StatusListToken::sign); returned by
/// [`UnverifiedStatusListToken::verify`] only after every check passed.
///
/// ```
/// use schooltas_status_list::{
///     Bits, StatusList, StatusListToken, StatusListTokenOptions, StatusListUri, StatusValue,
///     UnverifiedStatusListToken,
/// };
/// use schooltas_did::{Algorithm, Signer, SigningKey};
///
/// let school = SigningKey::generate(Algorithm::EdDsa)?;
/// let uri = StatusListUri::new("https://school.example/status/consent")?;
/// let mut list = StatusList::new(Bits::Two, 1 << 12)?;
/// list.set(7, StatusValue::INVALID)?;
/// let jwt = StatusListToken::new(uri, 1_800_000_000, list).with_ttl(3_600).sign(&school, None)?;
///
/// let token = UnverifiedStatusListToken::parse(&jwt)?.verify(
///     school.verifying_key(),
///     &StatusListTokenOptions::default(),
///     1_800_000_100,
/// )?;
/// assert_eq!(token.list().get(7)?, StatusValue::INVALID);
/// # Ok::<(), schooltas_status_list::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListToken {
    subject: StatusListUri,
    issued_at: i64,
    expires_at: Option<i64>,
    ttl: Option<u64>,
    issuer: Option<String>,
    list: StatusList,
}

impl StatusListToken {
    /// A token for the list published at `subject`, issued at `issued_at` (Unix seconds).
    pub fn new(subject: StatusListUri, issued_at: i64, list: StatusList) -> Self {
        StatusListToken { subject, issued_at, expires_at: None, ttl: None, issuer: None, list }
    }

    /// Sets `exp`: after this time the list must not be relied upon.
    pub fn with_expires_at(mut self, exp: i64) -> Self {
        self.expires_at = Some(exp);
        self
    }

    /// Sets `ttl`: how many seconds a consumer may cache the token before fetching again.
    pub fn with_ttl(mut self, seconds: u64) -> Self {
        self.ttl = Some(seconds);
        self
    }

    /// Sets `iss`.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// `sub`: the URI the token is published at.
    pub fn subject(&self) -> &StatusListUri {
        &self.subject
    }

    /// `iat`.
    pub fn issued_at(&self) -> i64 {
        self.issued_at
    }

    /// `exp`, when present.
    pub fn expires_at(&self) -> Option<i64> {
        self.expires_at
    }

    /// `ttl`, when present.
    pub fn ttl(&self) -> Option<u64> {
        self.ttl
    }

    /// `iss`, when present.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The status list.
    pub fn list(&self) -> &StatusList {
        &self.list
    }

    /// Takes the status list out.
    pub fn into_list(self) -> StatusList {
        self.list
    }

    /// Signs the token as a compact JWS with `typ: statuslist+jwt` and the signer's algorithm.
    pub fn sign(&self, signer: &(impl Signer + ?Sized), kid: Option<&str>) -> Result<String> {
        self.sign_with_x5c(signer, kid, None)
    }

    /// [`Self::sign`], with the signing key's X.509 chain in the `x5c` header (standard base64
    /// DER strings, leaf first) when one is given: the EU profile (HAIP 1.0) finds a status
    /// list's key the way it finds a credential's.
    pub fn sign_with_x5c(
        &self,
        signer: &(impl Signer + ?Sized),
        kid: Option<&str>,
        x5c: Option<&Value>,
    ) -> Result<String> {
        if self.ttl == Some(0) {
            return Err(invalid_token("ttl must be a positive number of seconds"));
        }
        let mut claims = Map::new();
        claims.insert("sub".into(), Value::String(self.subject.as_str().to_owned()));
        claims.insert("iat".into(), Value::from(self.issued_at));
        if let Some(exp) = self.expires_at {
            claims.insert("exp".into(), Value::from(exp));
        }
        if let Some(ttl) = self.ttl {
            claims.insert("ttl".into(), Value::from(ttl));
        }
        if let Some(iss) = &self.issuer {
            claims.insert("iss".into(), Value::String(iss.clone()));
        }
        claims.insert("status_list".into(), self.list.to_json());
        let mut header = Header::new().with_typ(STATUS_LIST_JWT_TYP);
        if let Some(kid) = kid {
            header = header.with_kid(kid);
        }
        if let Some(x5c) = x5c {
            header = header.with_member("x5c", x5c.clone());
        }
        Ok(sign_compact_json(&header, &claims, signer)?)
    }
}

/// What [`UnverifiedStatusListToken::verify`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusListTokenOptions {
    /// Seconds of clock difference tolerated for `iat`, `nbf` and `exp`.
    pub clock_skew: i64,
    /// The longest token accepted, in bytes.
    pub max_token_len: usize,
    /// Limits on the embedded list.
    pub limits: DecodeLimits,
}

impl Default for StatusListTokenOptions {
    /// 60 s skew, 12 MiB tokens, [`DecodeLimits::default`].
    fn default() -> Self {
        StatusListTokenOptions { clock_skew: 60, max_token_len: 12 << 20, limits: DecodeLimits::default() }
    }
}

/// A status list token as received, before any check.
#[derive(Debug)]
pub struct UnverifiedStatusListToken<'a> {
    jws: CompactJws<'a>,
}

impl<'a> UnverifiedStatusListToken<'a> {
    /// Parses a compact JWS (no check of its content yet), refusing tokens over 12 MiB.
    pub fn parse(token: &'a str) -> Result<Self> {
        Self::parse_with_limit(token, StatusListTokenOptions::default().max_token_len)
    }

    /// Parses a compact JWS of at most `max_len` bytes.
    pub fn parse_with_limit(token: &'a str, max_len: usize) -> Result<Self> {
        Ok(UnverifiedStatusListToken { jws: CompactJws::parse_with_limit(token, max_len)? })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        self.jws.header()
    }

    /// Verifies the token signed by `key`; see [`verify_with`](Self::verify_with).
    pub fn verify(&self, key: &VerifyingKey, options: &StatusListTokenOptions, now: i64) -> Result<StatusListToken> {
        self.verify_with(|_, _| Ok(key.clone()), options, now)
    }

    /// Verifies the token (draft §8.3 step 3–5): `typ` is `statuslist+jwt`; the signature
    /// verifies with the key `key_for` returns for the header and the unverified `iss` (the
    /// algorithm pinned to that key); `sub`, `iat` and `status_list` are present and well
    /// formed; `iat` and `nbf` are not in the future and `exp` is not past (with
    /// `options.clock_skew`); `ttl`, when present, is a positive integer; the list inflates
    /// within `options.limits`.
    pub fn verify_with(
        &self,
        key_for: impl FnOnce(&Header, Option<&str>) -> Result<VerifyingKey>,
        options: &StatusListTokenOptions,
        now: i64,
    ) -> Result<StatusListToken> {
        check_typ(self.jws.header())?;
        let payload = self.jws.dangerous_unverified_payload()?;
        let claims = match schooltas_did::strict_json::from_slice::<Value>(&payload) {
            Ok(Value::Object(claims)) => claims,
            Err(error) if error.is_strictness() => return Err(error.into()),
            _ => return Err(invalid_token("the payload is not a JSON object")),
        };
        let key = key_for(self.jws.header(), claims.get("iss").and_then(Value::as_str))?;
        key.verify(self.jws.algorithm(), self.jws.signing_input().as_bytes(), self.jws.signature())?;
        read_claims(claims, options, now)
    }
}

fn check_typ(header: &Header) -> Result<()> {
    let typ = header.typ();
    // RFC 7515 §4.1.9: media types compare case-insensitively; "application/" may be omitted.
    let matches = typ.is_some_and(|typ| {
        let typ = typ.to_ascii_lowercase();
        typ == STATUS_LIST_JWT_TYP || typ == STATUS_LIST_JWT_MEDIA_TYPE
    });
    if matches {
        Ok(())
    } else {
        Err(Error::WrongTyp { found: typ.map(str::to_owned), expected: STATUS_LIST_JWT_TYP.into() })
    }
}

fn read_claims(mut claims: Map<String, Value>, options: &StatusListTokenOptions, now: i64) -> Result<StatusListToken> {
    let skew = options.clock_skew;
    let subject = match claims.remove("sub") {
        Some(Value::String(sub)) => StatusListUri::new(sub)
            .map_err(|_| invalid_token("sub is not an absolute URI without whitespace or fragment"))?,
        Some(_) => return Err(invalid_token("sub is not a string")),
        None => return Err(invalid_token("sub is missing")),
    };
    let issued_at = numeric_date(&claims, "iat")?.ok_or_else(|| invalid_token("iat is missing"))?;
    if issued_at > now.saturating_add(skew) {
        return Err(invalid_token("iat is in the future"));
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")?
        && nbf > now.saturating_add(skew)
    {
        return Err(invalid_token("nbf is in the future: the token is not valid yet"));
    }
    let expires_at = numeric_date(&claims, "exp")?;
    if let Some(exp) = expires_at
        && now >= exp.saturating_add(skew)
    {
        return Err(Error::StatusListExpired { uri: subject.to_string(), expired_at: exp });
    }
    let ttl = match claims.get("ttl") {
        None => None,
        Some(value) => match value.as_u64() {
            Some(ttl) if ttl > 0 => Some(ttl),
            _ => return Err(invalid_token("ttl is not a positive integer")),
        },
    };
    let issuer = match claims.remove("iss") {
        None => None,
        Some(Value::String(iss)) => Some(iss),
        Some(_) => return Err(invalid_token("iss is not a string")),
    };
    let list = claims.get("status_list").ok_or_else(|| invalid_token("status_list is missing"))?;
    let list = StatusList::from_json(list, &options.limits)?;
    Ok(StatusListToken { subject, issued_at, expires_at, ttl, issuer, list })
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions truncated.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => match (value.as_i64(), value.as_f64()) {
            (Some(seconds), _) => Ok(Some(seconds)),
            (None, Some(seconds)) if seconds.is_finite() && seconds.abs() < 1e15 => Ok(Some(seconds as i64)),
            _ => Err(Error::InvalidStatusListToken { reason: format!("{name} is not a NumericDate") }),
        },
    }
}

fn invalid_token(reason: &str) -> Error {
    Error::InvalidStatusListToken { reason: reason.into() }
}
