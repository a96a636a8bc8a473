//! The JWE compact serialization (RFC 7516 §7.1) with `alg: ECDH-ES` (RFC 7518 §4.6).
//!
//! `BASE64URL(header) . "" . BASE64URL(iv) . BASE64URL(ciphertext) . BASE64URL(tag)`: with
//! direct key agreement the encrypted key is empty and the content encryption key is the
//! Concat KDF output over the ECDH shared secret of the ephemeral key (`epk`) and the
//! recipient's static key.

use schooltas_did::{base64url, strict_json};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::content::{self, ContentEncryption, IV_LEN, TAG_LEN};
use crate::error::{JweError, shorten};
use crate::kdf::concat_kdf;
use crate::key::{ALG_ECDH_ES, EncryptionKey, RecipientKey, point_from_coordinates, point_to_jwk, shorten_kid};

/// How a JWE is made: the content encryption and the optional Concat KDF party information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encryption {
    enc: ContentEncryption,
    apu: Option<Vec<u8>>,
    apv: Option<Vec<u8>>,
}

/// The fresh values one encryption consumes: the ephemeral key and the IV. Passed in by
/// [`Encryption::encrypt_with`] so that tests can fix them; [`Encryption::encrypt`] draws them.
pub struct Randomness {
    /// The ephemeral key pair whose public half becomes `epk`; never used twice.
    pub ephemeral: EncryptionKey,
    /// The 96-bit AES-GCM IV.
    pub iv: [u8; IV_LEN],
}

impl Randomness {
    /// Draws a fresh ephemeral key and IV from the operating system.
    pub fn generate() -> Result<Self, JweError> {
        let ephemeral = EncryptionKey::generate("")?;
        let mut iv = [0u8; IV_LEN];
        getrandom::fill(&mut iv).map_err(|_| JweError::RandomnessUnavailable)?;
        Ok(Self { ephemeral, iv })
    }
}

impl std::fmt::Debug for Randomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Randomness").finish_non_exhaustive()
    }
}

impl Encryption {
    /// ECDH-ES with content encryption `enc`, no `apu`/`apv`.
    pub fn new(enc: ContentEncryption) -> Self {
        Self { enc, apu: None, apv: None }
    }

    /// Sets `apu` (agreement PartyUInfo, raw bytes; RFC 7518 §4.6.1.2).
    pub fn with_apu(mut self, apu: impl Into<Vec<u8>>) -> Self {
        self.apu = Some(apu.into());
        self
    }

    /// Sets `apv` (agreement PartyVInfo, raw bytes; RFC 7518 §4.6.1.3).
    pub fn with_apv(mut self, apv: impl Into<Vec<u8>>) -> Self {
        self.apv = Some(apv.into());
        self
    }

    /// The content encryption.
    pub fn enc(&self) -> ContentEncryption {
        self.enc
    }

    /// Encrypts `plaintext` to `recipient` with a fresh ephemeral key and IV.
    pub fn encrypt(&self, recipient: &RecipientKey, plaintext: &[u8]) -> Result<String, JweError> {
        self.encrypt_with(recipient, plaintext, Randomness::generate()?)
    }

    /// Encrypts `plaintext` to `recipient` with the given ephemeral key and IV. The header
    /// carries `alg`, `enc`, `epk`, the recipient's `kid` if it has one, and `apu`/`apv` if set.
    pub fn encrypt_with(
        &self,
        recipient: &RecipientKey,
        plaintext: &[u8],
        randomness: Randomness,
    ) -> Result<String, JweError> {
        let mut header = Map::new();
        header.insert("alg".into(), ALG_ECDH_ES.into());
        header.insert("enc".into(), self.enc.as_str().into());
        if let Some(kid) = recipient.kid() {
            header.insert("kid".into(), kid.into());
        }
        header.insert("epk".into(), Value::Object(point_to_jwk(&randomness.ephemeral.secret().public_key())));
        if let Some(apu) = &self.apu {
            header.insert("apu".into(), base64url::encode(apu).into());
        }
        if let Some(apv) = &self.apv {
            header.insert("apv".into(), base64url::encode(apv).into());
        }
        let header_text = serde_json::to_vec(&Value::Object(header))
            .map_err(|_| JweError::InvalidHeader { reason: "the header could not be serialized" })?;
        let protected = base64url::encode(&header_text);

        let cek = derive_cek(
            self.enc,
            randomness.ephemeral.secret(),
            recipient.public(),
            self.apu.as_deref().unwrap_or_default(),
            self.apv.as_deref().unwrap_or_default(),
        );
        let mut buffer = plaintext.to_vec();
        // RFC 7516 §5.1 step 14: the AAD is ASCII(BASE64URL(UTF8(protected header))).
        let tag = content::seal(self.enc, &cek, &randomness.iv, protected.as_bytes(), &mut buffer)?;

        let mut out = protected;
        out.push_str("..");
        base64url::encode_into(randomness.iv, &mut out);
        out.push('.');
        base64url::encode_into(&buffer, &mut out);
        out.push('.');
        base64url::encode_into(tag, &mut out);
        Ok(out)
    }
}

/// The JWE protected header members this crate reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `enc`.
    pub enc: ContentEncryption,
    /// `kid`, naming the recipient's key, if present.
    pub kid: Option<String>,
    /// `apu`, decoded, if present.
    pub apu: Option<Vec<u8>>,
    /// `apv`, decoded, if present.
    pub apv: Option<Vec<u8>>,
    epk: p256::PublicKey,
}

/// A compact JWE whose structure and header have been checked, not yet decrypted.
#[derive(Clone, Debug)]
pub struct ParsedJwe<'a> {
    protected: &'a str,
    header: Header,
    iv: [u8; IV_LEN],
    ciphertext: Vec<u8>,
    tag: [u8; TAG_LEN],
}

impl<'a> ParsedJwe<'a> {
    /// Parses a compact JWE: five parts (RFC 7516 §7.1), strict base64url, an empty encrypted
    /// key (RFC 7518 §4.6), strict JSON header with `alg` ECDH-ES, `enc` A128GCM or A256GCM, an
    /// `epk` on P-256; `zip` and `crit` are refused; a 96-bit IV and a 128-bit tag.
    pub fn parse(text: &'a str) -> Result<Self, JweError> {
        let mut parts = text.split('.');
        let (Some(protected), Some(encrypted_key), Some(iv), Some(ciphertext), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JweError::Malformed { reason: "a compact JWE has exactly five parts separated by dots" });
        };
        let header_bytes = base64url::decode(protected)
            .ok_or(JweError::Malformed { reason: "the protected header is not base64url" })?;
        let header = parse_header(&header_bytes)?;
        if !encrypted_key.is_empty() {
            return Err(JweError::EncryptedKeyPresent);
        }
        let iv = base64url::decode_array::<IV_LEN>(iv)
            .ok_or(JweError::Malformed { reason: "the IV is not 12 bytes of base64url" })?;
        let ciphertext =
            base64url::decode(ciphertext).ok_or(JweError::Malformed { reason: "the ciphertext is not base64url" })?;
        let tag = base64url::decode_array::<TAG_LEN>(tag)
            .ok_or(JweError::Malformed { reason: "the authentication tag is not 16 bytes of base64url" })?;
        Ok(Self { protected, header, iv, ciphertext, tag })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Decrypts with `key`, accepting only the content encryptions in `offered`. A `kid` in the
    /// header must be the key's ([`JweError::KeyIdMismatch`]); a tag that does not verify is
    /// [`JweError::DecryptionFailed`], whatever was changed.
    pub fn decrypt(&self, key: &EncryptionKey, offered: &[ContentEncryption]) -> Result<Zeroizing<Vec<u8>>, JweError> {
        if !offered.contains(&self.header.enc) {
            return Err(JweError::EncryptionNotOffered { enc: self.header.enc });
        }
        if let Some(kid) = &self.header.kid
            && kid != key.kid()
        {
            return Err(JweError::KeyIdMismatch { expected: shorten_kid(key.kid()), found: shorten_kid(kid) });
        }
        let cek = derive_cek(
            self.header.enc,
            key.secret(),
            &self.header.epk,
            self.header.apu.as_deref().unwrap_or_default(),
            self.header.apv.as_deref().unwrap_or_default(),
        );
        let mut buffer = Zeroizing::new(self.ciphertext.clone());
        content::open(self.header.enc, &cek, &self.iv, self.protected.as_bytes(), &mut buffer, &self.tag)?;
        Ok(buffer)
    }
}

/// Parses and decrypts a compact JWE in one step ([`ParsedJwe::parse`], [`ParsedJwe::decrypt`]).
pub fn decrypt(text: &str, key: &EncryptionKey, offered: &[ContentEncryption]) -> Result<Zeroizing<Vec<u8>>, JweError> {
    ParsedJwe::parse(text)?.decrypt(key, offered)
}

fn parse_header(bytes: &[u8]) -> Result<Header, JweError> {
    let Value::Object(header) = strict_json::to_value(bytes)? else {
        return Err(JweError::InvalidHeader { reason: "the header is not a JSON object" });
    };
    let text = |name: &'static str, reason: &'static str| -> Result<Option<&str>, JweError> {
        match header.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(JweError::InvalidHeader { reason }),
        }
    };
    // RFC 7516 §4.1.13: an extension we do not understand that is marked critical must be
    // refused; we understand none.
    if header.contains_key("crit") {
        return Err(JweError::CriticalExtension);
    }
    if header.contains_key("zip") {
        return Err(JweError::CompressionRefused);
    }
    let alg =
        text("alg", "\"alg\" is not a string")?.ok_or(JweError::InvalidHeader { reason: "\"alg\" is missing" })?;
    if alg != ALG_ECDH_ES {
        return Err(JweError::UnsupportedAlgorithm { alg: shorten(alg) });
    }
    let enc =
        text("enc", "\"enc\" is not a string")?.ok_or(JweError::InvalidHeader { reason: "\"enc\" is missing" })?;
    let enc = ContentEncryption::from_enc(enc)?;
    let kid = text("kid", "\"kid\" is not a string")?.map(str::to_owned);
    let party = |name: &'static str, reason: &'static str| -> Result<Option<Vec<u8>>, JweError> {
        text(name, reason)?.map(|v| base64url::decode(v).ok_or(JweError::InvalidHeader { reason })).transpose()
    };
    let apu = party("apu", "\"apu\" is not a base64url string")?;
    let apv = party("apv", "\"apv\" is not a base64url string")?;
    let Some(Value::Object(epk)) = header.get("epk") else {
        return Err(JweError::InvalidEphemeralKey { reason: "\"epk\" is missing or not a JWK object" });
    };
    let epk_text = |name: &str| match epk.get(name) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if epk_text("kty") != Some("EC") || epk_text("crv") != Some("P-256") {
        return Err(JweError::InvalidEphemeralKey { reason: "\"epk\" is not an EC P-256 key" });
    }
    if epk.contains_key("d") {
        return Err(JweError::InvalidEphemeralKey { reason: "\"epk\" carries a private key" });
    }
    let (Some(x), Some(y)) = (epk_text("x"), epk_text("y")) else {
        return Err(JweError::InvalidEphemeralKey { reason: "\"epk\" lacks \"x\" or \"y\"" });
    };
    let epk = point_from_coordinates(x, y).map_err(|reason| JweError::InvalidEphemeralKey { reason })?;
    Ok(Header { enc, kid, apu, apv, epk })
}

/// RFC 7518 §4.6.2: Z is the x-coordinate of the ECDH result; the key is Concat KDF over Z
/// with AlgorithmID = `enc` (direct key agreement) and keydatalen = the `enc` key length.
/// Both points are non-identity points on P-256 (checked by p256 when parsed) and the scalar is
/// non-zero, so on this prime-order curve the ECDH result is never the identity.
fn derive_cek(
    enc: ContentEncryption,
    secret: &p256::SecretKey,
    public: &p256::PublicKey,
    apu: &[u8],
    apv: &[u8],
) -> Zeroizing<Vec<u8>> {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    let z = shared.raw_secret_bytes();
    match enc {
        ContentEncryption::A128Gcm => Zeroizing::new(concat_kdf::<16>(z, enc.as_str(), apu, apv).to_vec()),
        ContentEncryption::A256Gcm => Zeroizing::new(concat_kdf::<32>(z, enc.as_str(), apu, apv).to_vec()),
    }
}

/// The ECDH-ES derived key for `enc` between `secret` and `public` (RFC 7518 §4.6.2), for test
/// vectors such as RFC 7518 Appendix C.
pub fn derive_key(
    enc: ContentEncryption,
    secret: &EncryptionKey,
    public: &RecipientKey,
    apu: &[u8],
    apv: &[u8],
) -> Zeroizing<Vec<u8>> {
    derive_cek(enc, secret.secret(), public.public(), apu, apv)
}
