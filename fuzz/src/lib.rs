//! Shared fixtures for the Schooltas fuzz targets.
//!
//! Most Schooltas parsers end in a signature check. A fuzzer cannot forge signatures, so a
//! target that only fed it raw bytes would spend its whole budget in front of that check.
//! Each signed format therefore gets two entry points in its target:
//!
//! - **raw**: the input is the token exactly as it would arrive over the network, parsed and
//!   verified against a fixed key (finds everything before the signature check, and checks
//!   that nothing unsigned gets through);
//! - **signed**: the input supplies the protected header and payload bytes (and, for SD-JWT,
//!   disclosures and a key-binding JWT), and the harness signs them with the fixed key the
//!   verifier trusts, so the fuzzer reaches the code that runs *after* the signature check
//!   (claim processing, disclosures, time checks, the status-list inflater, …).
//!
//! The keys are fixed (deterministic seeds) so that crashes reproduce.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use schooltas_did::base64url;
use schooltas_did::{Did, PublicKey, Signer, SigningKey, VerifyingKey, did_key};

/// The fixed "now" every target verifies at (2027-01-15T08:00:00Z, Unix seconds).
pub const NOW: i64 = 1_800_000_000;

/// An Ed25519 key with a fixed seed: the issuer / school / operator / verifier every target
/// trusts.
pub fn issuer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_ed25519_seed(&[7; 32]))
}

/// An Ed25519 key with a fixed seed: the holder (child or parent) key that `cnf` names.
pub fn holder() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_ed25519_seed(&[9; 32]))
}

/// A P-256 key with a fixed scalar, so both JWS algorithms are exercised.
pub fn p256() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut d = [0u8; 32];
        d[31] = 0x2a;
        d[0] = 0x11;
        // A fixed, in-range, non-zero scalar: the constructor cannot fail on it.
        match SigningKey::from_p256_scalar(&d) {
            Ok(key) => key,
            Err(e) => panic!("fixed P-256 scalar refused: {e}"),
        }
    })
}

/// The did:key of [`issuer`].
pub fn issuer_did() -> &'static Did {
    static DID: OnceLock<Did> = OnceLock::new();
    DID.get_or_init(|| did_key::did_for(&PublicKey::Verifying(issuer().verifying_key().clone())))
}

/// The DID URL (`did:key:…#…`) naming [`issuer`]'s key.
pub fn issuer_kid() -> String {
    format!("{}#{}", issuer_did(), issuer_did().method_specific_id())
}

/// The verifying key of [`issuer`].
pub fn issuer_key() -> &'static VerifyingKey {
    issuer().verifying_key()
}

/// Picks a signing key from one input byte, so targets cover EdDSA and ES256.
pub fn signer_for(selector: u8) -> &'static SigningKey {
    if selector & 1 == 0 { issuer() } else { p256() }
}

/// Signs the exact header and payload bytes given (not re-serialized), RFC 7515 §7.1.
///
/// Unlike `jws::sign_compact`, the header is taken as-is, so duplicate members, odd `alg`
/// values and non-UTF-8 bytes all reach the verifier's header parser *with a valid
/// signature*.
pub fn sign_raw(header: &[u8], payload: &[u8], signer: &SigningKey) -> String {
    let mut token = base64url::encode(header);
    token.push('.');
    base64url::encode_into(payload, &mut token);
    // Signing with a fixed in-memory Ed25519 or P-256 key does not fail.
    let signature = match signer.sign(token.as_bytes()) {
        Ok(signature) => signature,
        Err(e) => panic!("fixed key failed to sign: {e}"),
    };
    token.push('.');
    base64url::encode_into(signature.as_bytes(), &mut token);
    token
}

/// A protected header `{"alg":…,"typ":…,"kid":…}` for `signer`, plus `extra` members (raw
/// JSON text without braces, possibly empty or malformed: the fuzzer chooses it).
pub fn header(signer: &SigningKey, typ: &str, kid: Option<&str>, extra: &str) -> Vec<u8> {
    let alg = signer.algorithm().as_str();
    let mut out = format!("{{\"alg\":\"{alg}\",\"typ\":{}", serde_json::Value::from(typ));
    if let Some(kid) = kid {
        out.push_str(",\"kid\":");
        out.push_str(&serde_json::Value::from(kid).to_string());
    }
    if !extra.is_empty() {
        out.push(',');
        out.push_str(extra);
    }
    out.push('}');
    out.into_bytes()
}

/// The holder's public JWK as JSON text, for `cnf` in signed payloads.
pub fn holder_cnf() -> String {
    serde_json::json!({ "jwk": holder().verifying_key().to_jwk() }).to_string()
}

/// Replaces every `"$CNF"` placeholder in fuzzer-chosen JSON text with the holder's `cnf`
/// object, every `"$ISS"` with the issuer's DID, every `"$CLIENT_ID"` with the issuer's
/// OpenID4VP client id (`decentralized_identifier:<DID>`), and every `"$NOW"` with [`NOW`], so
/// that structurally valid credentials are one mutation away.
pub fn expand(text: &str) -> String {
    if !text.contains('$') {
        return text.to_owned();
    }
    text.replace("\"$CNF\"", &holder_cnf())
        .replace("\"$ISS\"", &serde_json::Value::from(issuer_did().as_str()).to_string())
        .replace("\"$CLIENT_ID\"", &serde_json::Value::from(client_id()).to_string())
        .replace("\"$NOW\"", &NOW.to_string())
}

/// The fixed verifier's OpenID4VP client id: `decentralized_identifier:<issuer DID>`.
pub fn client_id() -> String {
    format!("decentralized_identifier:{}", issuer_did())
}

/// Keeps only the first `max` bytes of `text`, cut at a character boundary (the harness
/// bounds its own work, never slicing inside a character).
pub fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The separator between fields of a structured input: 0xFF never occurs in UTF-8, so it
/// cannot collide with the JSON and token text the fields carry.
pub const SEP: u8 = 0xFF;

/// Splits a structured input into its mode byte and its fields (see [`SEP`]).
///
/// Inputs are plain bytes rather than `arbitrary` structures so that seed corpora can be
/// written by hand and by `fuzz/gen_corpus`: `mode ‖ field₀ ‖ 0xFF ‖ field₁ ‖ …`.
pub fn split(data: &[u8]) -> Option<(u8, Vec<&[u8]>)> {
    let (&mode, rest) = data.split_first()?;
    Some((mode, rest.split(|b| *b == SEP).collect()))
}

/// Field `index` as UTF-8 text (`""` when absent or not UTF-8).
pub fn field<'a>(fields: &[&'a [u8]], index: usize) -> &'a str {
    fields.get(index).and_then(|f| std::str::from_utf8(f).ok()).unwrap_or_default()
}

/// Field `index` as bytes (empty when absent).
pub fn field_bytes<'a>(fields: &[&'a [u8]], index: usize) -> &'a [u8] {
    fields.get(index).copied().unwrap_or_default()
}

/// Joins fields into a structured input (for the corpus generator and regression tests).
pub fn join(mode: u8, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![mode];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(SEP);
        }
        out.extend_from_slice(f);
    }
    out
}

/// The nonce and audience the key-binding targets expect.
pub const KB_NONCE: &str = "fuzz-nonce-0123456789abcdef";
/// The verifier identifier (KB-JWT `aud`) the key-binding targets expect.
pub const KB_AUDIENCE: &str = "https://verifier.example";

/// Encodes each newline-separated disclosure JSON text of `field` as base64url and returns
/// the encoded disclosures together with their digests (RFC 9901 §4.2.3), for `$SD` / `$D<n>`
/// placeholders in a signed payload.
pub fn disclosures(field: &str) -> (Vec<String>, Vec<String>) {
    let mut encoded = Vec::new();
    let mut digests = Vec::new();
    for line in field.split('\n').filter(|l| !l.is_empty()).take(64) {
        let text = base64url::encode(line.as_bytes());
        let digest = schooltas_did::base64url::encode(sha256(text.as_bytes()));
        encoded.push(text);
        digests.push(digest);
    }
    (encoded, digests)
}

/// SHA-256 (for disclosure digests and `sd_hash` placeholders).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

/// [`expand`], and `"$SD"` → the array of all disclosure digests, `"$D0"`…`"$D9"` → one
/// digest each.
pub fn expand_sd(text: &str, digests: &[String]) -> String {
    let mut out = expand(text);
    if out.contains("\"$SD\"") {
        out = out.replace("\"$SD\"", &serde_json::Value::from(digests.to_vec()).to_string());
    }
    if out.contains("\"$D") {
        for (i, digest) in digests.iter().enumerate().take(10) {
            out = out.replace(&format!("\"$D{i}\""), &serde_json::Value::from(digest.as_str()).to_string());
        }
    }
    out
}

/// Assembles and signs a compact SD-JWT from structured fields (see the `sd_jwt_compact`
/// target): field 0 extra issuer-header members, field 1 the payload, field 2 disclosures
/// (JSON text, one per line), field 3 extra KB-JWT header members, field 4 the KB-JWT payload
/// (`"$SD_HASH"` is replaced by the real `sd_hash`). Without `with_kb` no KB-JWT is attached.
pub fn assemble_sd_jwt(fields: &[&[u8]], with_kb: bool) -> String {
    let issuer_header = header(issuer(), "dc+sd-jwt", Some(&issuer_kid()), bounded(field(fields, 0), 4096));
    let (encoded, digests) = disclosures(field(fields, 2));
    let payload = expand_sd(field(fields, 1), &digests);
    let mut text = sign_raw(&issuer_header, payload.as_bytes(), issuer());
    text.push('~');
    for d in &encoded {
        text.push_str(d);
        text.push('~');
    }
    if with_kb {
        let sd_hash = base64url::encode(sha256(text.as_bytes()));
        let kb_header = header(holder(), "kb+jwt", None, bounded(field(fields, 3), 4096));
        let kb_payload =
            expand_sd(field(fields, 4), &[]).replace("\"$SD_HASH\"", &serde_json::Value::from(sd_hash).to_string());
        text.push_str(&sign_raw(&kb_header, kb_payload.as_bytes(), holder()));
    }
    text
}

/// The `vct` of the enrolment credential the fixtures use.
pub const ENROLMENT: &str = "https://schooltas.example/credentials/enrolment";
/// The `vct` of the guardianship credential the fixtures use.
pub const GUARDIANSHIP: &str = "https://schooltas.example/credentials/guardianship";

/// The claims of three credentials a wallet holds: a child's enrolment, the same child's
/// guardianship, and a sibling's enrolment (for DCQL matching and response checks).
pub fn held_claims() -> &'static [(String, serde_json::Value)] {
    static HELD: OnceLock<Vec<(String, serde_json::Value)>> = OnceLock::new();
    HELD.get_or_init(|| {
        let enrolment = |name: &str, birth: &str, over_16: bool| {
            serde_json::json!({
                "iss": issuer_did().as_str(), "vct": ENROLMENT, "iat": NOW - 60, "exp": NOW + 86_400,
                "sub": format!("urn:uuid:child-{name}"), "given_name": name, "family_name": "de Vries",
                "birth_date": birth, "age_over_12": true, "age_over_16": over_16, "group": "7B",
                "school": {"brin": "12AB", "name": "De Regenboog"}, "nationalities": ["NL", "MA"],
                "status": {"status_list": {"idx": 7, "uri": "https://school.example/status/1"}},
            })
        };
        vec![
            (ENROLMENT.to_owned(), enrolment("Sanne", "2014-03-01", false)),
            (
                GUARDIANSHIP.to_owned(),
                serde_json::json!({
                    "iss": issuer_did().as_str(), "vct": GUARDIANSHIP, "child_id": "urn:uuid:child-Sanne",
                    "relation": "parent", "valid_until": "2030-03-01", "iat": NOW - 60,
                }),
            ),
            (ENROLMENT.to_owned(), enrolment("Daan", "2010-01-01", true)),
        ]
    })
}

/// A current trust list: the fixed issuer accredited for enrolment and guardianship, and
/// registered as a verifier for the purpose `newsletter` (consent) with a few claims.
pub fn trust_list() -> &'static schooltas_school::trust_list::VerifiedTrustList {
    use schooltas_school::trust_list::{
        AccreditedIssuer, RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration,
    };
    use schooltas_school::{LegalBasis, LocalizedText};
    static LIST: OnceLock<VerifiedTrustList> = OnceLock::new();
    LIST.get_or_init(|| {
        let did = issuer_did().clone();
        let text = LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() };
        let purpose = RegisteredPurpose::new("newsletter", text, LegalBasis::Consent, 365).allow(
            ENROLMENT,
            [
                schooltas_sd_jwt::ClaimPath::claim("given_name"),
                schooltas_sd_jwt::ClaimPath::claim("group"),
                schooltas_sd_jwt::ClaimPath::claim("age_over_12"),
                schooltas_sd_jwt::ClaimPath::claim("sub"),
            ],
        );
        let list = TrustList::new(did.clone(), NOW - 3_600, NOW + 86_400)
            .with_issuer(
                AccreditedIssuer::new(did.clone(), "De Regenboog")
                    .accredited_for(ENROLMENT)
                    .accredited_for(GUARDIANSHIP),
            )
            .with_verifier(VerifierRegistration::new(did, "De Regenboog").with_purpose(purpose));
        let kid = match schooltas_did::DidUrl::parse(&issuer_kid()) {
            Ok(kid) => kid,
            Err(e) => panic!("fixture kid refused: {e}"),
        };
        match list.sign_and_verify(issuer(), &kid, NOW, 60) {
            Ok((_, verified)) => verified,
            Err(e) => panic!("fixture trust list refused: {e}"),
        }
    })
}
