//! A verifier service: issues signed requests, remembers them by nonce (bounded, single use),
//! verifies the responses, records consents with their evidence and applies withdrawals.

use schooltas_did::jws::CompactJws;
use schooltas_did::{Did, DidUrl, PublicKey, Signer, SigningKey, VerifyingKey, did_key};
use schooltas_jwe::{ContentEncryption, EncryptionKey};
use schooltas_oid4vc::form;
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, ClientId, DcApiProtocol, DcApiRequest, Oid4vpError, Origin, dc_api_response_kid,
    decrypt_dc_api_response, decrypt_jwt_form, jwt_form_kid,
};
use schooltas_school::consent::{self, UnverifiedWithdrawal};
use schooltas_school::{LegalBasis, SchooltasExtension};
use schooltas_x509::CertificateChain;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::nonces::{Nonce, NonceError, NonceStore};
use crate::register::{
    ConsentId, ConsentRecord, ConsentRegister, ConsentStore, Evidence, WithdrawnBy, withdrawal_keys,
};
use crate::request::{RequestBuilder, SignedRequest};
use crate::verify::{Check, Verdict, VerificationContext, verify_plaintext, verify_plaintext_for};

/// How many open requests a verifier remembers by default.
pub const DEFAULT_OPEN_REQUESTS: usize = 100_000;

/// A response and the request it answered.
#[derive(Debug)]
pub struct Received {
    /// The request the response answered (`None` when it matched no open request).
    pub request: Option<AuthorizationRequest>,
    /// The outcome.
    pub verdict: Verdict,
}

/// A request made for the W3C Digital Credentials API ([`Verifier::dc_api_request`]): the
/// request as the verifier keeps it, and what its page passes to the API.
#[derive(Clone, Debug)]
pub struct DcApiSession {
    /// The request (with the verifier's `client_id` and `expected_origins`, also when the
    /// unsigned form sent leaves them out).
    pub request: AuthorizationRequest,
    /// `{"protocol", "data"}` for `navigator.credentials.get({digital: {requests: [...]}})`.
    pub dc_api: DcApiRequest,
}

/// A verifier: its key and DID, its response endpoint and its open requests.
///
/// A request's nonce is single use, and only a valid answer spends it: [`Verifier::receive`]
/// looks the request up by the nonce (unknown, expired or spent: [`Check::Replay`]), verifies
/// everything, and consumes the nonce only when the whole verdict is accepted — atomically, so
/// of two valid answers racing exactly one is accepted and the other fails [`Check::Replay`].
/// Junk that merely names the nonce therefore cannot burn the family's request (issue 12 item 4).
pub struct Verifier {
    signer: SigningKey,
    did: Did,
    kid: DidUrl,
    response_uri: String,
    open: NonceStore<AuthorizationRequest>,
    /// `direct_post.jwt` (OpenID4VP 1.0 §8.3): the keys responses are encrypted to and the
    /// content encryptions offered, in order of preference.
    encryption: Option<(ResponseKeys, Vec<ContentEncryption>)>,
    /// HAIP 1.0: an X.509 client id (`x509_hash` / `x509_san_dns`) and the certificate chain
    /// of `signer`'s key its requests are signed with (`x5c`); `None`: the DID client id.
    x509: Option<(ClientId, CertificateChain)>,
}

/// The keys a verifier decrypts responses with.
enum ResponseKeys {
    /// One key for every request (given by the deployer).
    Fixed(EncryptionKey),
    /// A fresh key for every request (HAIP 1.0: an ephemeral key per request), by `kid`, kept
    /// until the request expires (so that a replay is still named a replay): a key that leaks
    /// opens no other request's response, and a response encrypted to one request's key is
    /// refused as the answer to another.
    PerRequest(Mutex<BTreeMap<String, (EncryptionKey, i64)>>),
}

impl ResponseKeys {
    /// The key a `response=<JWE>` body was encrypted to: the fixed key, or the open request's
    /// key its header `kid` names.
    fn for_body(&self, body: &str, now: i64) -> std::result::Result<EncryptionKey, Oid4vpError> {
        match self {
            ResponseKeys::Fixed(key) => Ok(key.clone()),
            ResponseKeys::PerRequest(_) => self.for_kid(jwt_form_kid(body)?, now),
        }
    }

    /// The fixed key, or the open request's key named `kid` (the JWE header's).
    fn for_kid(&self, kid: Option<String>, now: i64) -> std::result::Result<EncryptionKey, Oid4vpError> {
        match self {
            ResponseKeys::Fixed(key) => Ok(key.clone()),
            ResponseKeys::PerRequest(keys) => {
                let keys = keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match kid.as_deref().and_then(|kid| keys.get(kid)) {
                    Some((key, expires)) if *expires >= now => Ok(key.clone()),
                    _ => Err(Oid4vpError::Encryption(schooltas_jwe::JweError::KeyIdMismatch {
                        expected: "the key of an open request".into(),
                        found: kid.as_deref().map(oid4vp_truncate).unwrap_or_else(|| "no kid".into()),
                    })),
                }
            }
        }
    }
}

fn oid4vp_truncate(text: &str) -> String {
    schooltas_oid4vc::oid4vp::truncate(text)
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("did", &self.did).field("open", &self.open.len()).finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier identified by the did:key of `signer`, answered at `response_uri`.
    pub fn new(signer: SigningKey, response_uri: impl Into<String>) -> Result<Self> {
        let did = did_key::did_for(&PublicKey::Verifying(signer.verifying_key().clone()));
        let fragment = did.as_str().trim_start_matches("did:key:").to_owned();
        let kid = DidUrl::parse(&format!("{did}#{fragment}")).map_err(schooltas_school::Error::from)?;
        Ok(Self::with_did(signer, did, kid, response_uri))
    }

    /// A verifier with its own DID (e.g. did:web) whose key `kid` is `signer`'s.
    pub fn with_did(signer: SigningKey, did: Did, kid: DidUrl, response_uri: impl Into<String>) -> Self {
        Verifier {
            signer,
            did,
            kid,
            response_uri: response_uri.into(),
            open: NonceStore::with_capacity(DEFAULT_OPEN_REQUESTS),
            encryption: None,
            x509: None,
        }
    }

    /// Names this verifier by an X.509 client id (OpenID4VP 1.0 §5.9.3, HAIP 1.0): `client`
    /// is `x509_hash:<hash of chain's leaf>` or `x509_san_dns:<host>` (a host the leaf names,
    /// on which the response URI is), `chain` the certificate chain of the signer's key, leaf
    /// first, issued under an anchor of the trust list. Requests are then signed with
    /// `sign_x509` (`x5c`, no `kid`), and [`Verifier::client_id`] — the key-binding audience —
    /// is `client`. The trust list must register `client` for this verifier.
    ///
    /// Refused for a DID client id, or an `x509_hash` that is not the leaf's hash.
    pub fn with_x509_client(mut self, client: ClientId, chain: CertificateChain) -> Result<Self> {
        let refuse = |reason| Error::from(schooltas_school::Error::from(Oid4vpError::InvalidClientId { reason }));
        match &client {
            ClientId::Did(_) => return Err(refuse("an X.509 client id is x509_hash or x509_san_dns, not a DID")),
            ClientId::X509Hash(hash) if *hash != chain.leaf_x509_hash() => {
                return Err(refuse("x509_hash is not the hash of the chain's leaf certificate"));
            }
            _ => {}
        }
        self.x509 = Some((client, chain));
        Ok(self)
    }

    /// Asks for encrypted responses (`direct_post.jwt`, OpenID4VP 1.0 §8.3; HAIP 1.0): every
    /// request names `key`'s public JWK in `client_metadata.jwks` and offers `encs` (empty: the
    /// default, A128GCM); [`Verifier::receive`] then refuses a plaintext response with
    /// [`Check::Encryption`].
    pub fn with_response_encryption(mut self, key: EncryptionKey, encs: &[ContentEncryption]) -> Self {
        let encs = if encs.is_empty() { vec![ContentEncryption::A128Gcm] } else { encs.to_vec() };
        self.encryption = Some((ResponseKeys::Fixed(key), encs));
        self
    }

    /// Asks for encrypted responses with a fresh P-256 key for every request (HAIP 1.0:
    /// ephemeral keys for `direct_post.jwt`): [`Verifier::request`] makes the key and names it
    /// in that request's `client_metadata.jwks`; the key is dropped once the request has
    /// expired, and a response is accepted only under the key of the request it answers. Offers
    /// `encs` (empty: A128GCM). As with [`Verifier::with_response_encryption`], a plaintext
    /// response is refused with [`Check::Encryption`].
    pub fn with_ephemeral_response_encryption(mut self, encs: &[ContentEncryption]) -> Self {
        let encs = if encs.is_empty() { vec![ContentEncryption::A128Gcm] } else { encs.to_vec() };
        self.encryption = Some((ResponseKeys::PerRequest(Mutex::new(BTreeMap::new())), encs));
        self
    }

    /// Whether this verifier asks for encrypted responses (`direct_post.jwt`).
    pub fn asks_for_encrypted_responses(&self) -> bool {
        self.encryption.is_some()
    }

    /// The decrypted JSON text of a `direct_post.jwt` body, when this verifier asks for
    /// encrypted responses and `body` is one (`response=<JWE>`); `None` otherwise. For a
    /// front end that reads an encrypted error response ([`error_response_of`]) before
    /// [`Verifier::receive`].
    ///
    /// [`error_response_of`]: schooltas_oid4vc::oid4vp::error_response_of
    pub fn decrypt_response(&self, body: &str, now: i64) -> Option<std::result::Result<String, Oid4vpError>> {
        let (keys, encs) = self.encryption.as_ref()?;
        is_encrypted_form(body).then(|| decrypt_jwt_form(body, &keys.for_body(body, now)?, encs))
    }

    /// The one key responses are encrypted to, when the verifier asks for encrypted responses
    /// [with a fixed key](Verifier::with_response_encryption) (`None` with
    /// [per-request keys](Verifier::with_ephemeral_response_encryption): see the request's
    /// `client_metadata`).
    pub fn response_encryption_key(&self) -> Option<&EncryptionKey> {
        match self.encryption.as_ref() {
            Some((ResponseKeys::Fixed(key), _)) => Some(key),
            _ => None,
        }
    }

    /// The verifier's DID.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The OpenID4VP client id and key-binding audience: `decentralized_identifier:<did>`, or
    /// the X.509 client id given to [`Verifier::with_x509_client`].
    pub fn client_id(&self) -> String {
        match &self.x509 {
            Some((client, _)) => client.to_string(),
            None => format!("{}{}", schooltas_oid4vc::oid4vp::DID_CLIENT_ID_PREFIX, self.did),
        }
    }

    /// Where wallets post responses.
    pub fn response_uri(&self) -> &str {
        &self.response_uri
    }

    /// Builds (refusing over-asking), signs and remembers a request, open for `lifetime` seconds.
    pub fn request(&self, builder: RequestBuilder<'_>, now: i64, lifetime: i64) -> Result<SignedRequest> {
        let nonce = Nonce::random();
        let (request, ephemeral) = self.encrypted(builder.build(nonce.as_str())?)?;
        let signed = match &self.x509 {
            Some((client, chain)) => {
                SignedRequest::sign_x509(request.with_client_id(client), &self.signer, chain, now, lifetime)?
            }
            None => SignedRequest::sign(request, &self.signer, &self.kid, now, lifetime)?,
        };
        self.open.register_with(&nonce, now, now.saturating_add(lifetime), signed.request.clone())?;
        self.remember_key(ephemeral, now, now.saturating_add(lifetime));
        Ok(signed)
    }

    /// Builds (refusing over-asking) and remembers a request for the W3C Digital Credentials
    /// API (OpenID4VP 1.0 Appendix A, HAIP 1.0 §5.1), open for `lifetime` seconds: what the
    /// verifier's page passes to `navigator.credentials.get`.
    ///
    /// `expected_origins` are the origins of the verifier's pages (at least one): a signed
    /// request names them so that a wallet refuses it from another site, and
    /// [`Verifier::receive_dc_api`] refuses an answer the page saw at another origin. The
    /// response mode is `dc_api.jwt` when this verifier asks for encrypted responses (HAIP 1.0
    /// requires it; the key as for [`Verifier::request`], per request with
    /// [`Verifier::with_ephemeral_response_encryption`]), `dc_api` otherwise.
    ///
    /// - [`DcApiProtocol::Unsigned`]: the parameters without `client_id` or
    ///   `expected_origins`; the wallet knows the verifier by its origin, which the trust list
    ///   must register (`origin:https://…` in its client ids);
    /// - [`DcApiProtocol::Signed`]: a request object signed as [`Verifier::request`] signs
    ///   (the DID key with `kid`, or the X.509 leaf key with `x5c`).
    ///
    /// This verifier signs with one key, so [`DcApiProtocol::MultiSigned`] is refused (a
    /// deployer with several trust frameworks uses [`DcApiRequest::multisigned`]).
    pub fn dc_api_request(
        &self,
        builder: RequestBuilder<'_>,
        protocol: DcApiProtocol,
        expected_origins: &[Origin],
        now: i64,
        lifetime: i64,
    ) -> Result<DcApiSession> {
        let refuse = |error: Oid4vpError| Error::from(schooltas_school::Error::from(error));
        if expected_origins.is_empty() {
            return Err(refuse(Oid4vpError::MissingParameter { name: schooltas_oid4vc::oid4vp::EXPECTED_ORIGINS }));
        }
        if protocol == DcApiProtocol::MultiSigned {
            return Err(refuse(Oid4vpError::InvalidDcApiRequest {
                reason: "this verifier signs with one key: ask with a signed or an unsigned request",
            }));
        }
        let nonce = Nonce::random();
        let (request, ephemeral) = self.encrypted(builder.build(nonce.as_str())?)?;
        let request = match &self.x509 {
            Some((client, _)) => request.with_client_id(client),
            None => request,
        }
        .for_dc_api(expected_origins);
        let dc_api = match protocol {
            DcApiProtocol::Unsigned => DcApiRequest::unsigned(&request).map_err(schooltas_school::Error::from)?,
            _ => DcApiRequest::signed(self.sign_request_object(&request, now, lifetime, None)?),
        };
        self.open.register_with(&nonce, now, now.saturating_add(lifetime), request.clone())?;
        self.remember_key(ephemeral, now, now.saturating_add(lifetime));
        Ok(DcApiSession { request, dc_api })
    }

    /// `request` asking for an encrypted response when this verifier asks for them, and the
    /// fresh key made for it (per-request keys).
    fn encrypted(&self, request: AuthorizationRequest) -> Result<(AuthorizationRequest, Option<EncryptionKey>)> {
        Ok(match &self.encryption {
            Some((ResponseKeys::Fixed(key), encs)) => {
                (request.with_encrypted_response(vec![key.public_jwk()], encs), None)
            }
            Some((ResponseKeys::PerRequest(_), encs)) => {
                let key = EncryptionKey::generate(Nonce::random().as_str())
                    .map_err(|e| Error::from(schooltas_school::Error::from(Oid4vpError::from(e))))?;
                (request.with_encrypted_response(vec![key.public_jwk()], encs), Some(key))
            }
            None => (request, None),
        })
    }

    /// Keeps a request's own key until the request expires.
    fn remember_key(&self, ephemeral: Option<EncryptionKey>, now: i64, expires: i64) {
        if let (Some(key), Some((ResponseKeys::PerRequest(keys), _))) = (ephemeral, &self.encryption) {
            let mut keys = keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Expired requests' keys go; the open-request store bounds how many stay.
            keys.retain(|_, (_, until)| *until >= now);
            keys.insert(key.kid().to_owned(), (key, expires));
        }
    }

    /// The request object of `request` (one this verifier opened with [`Verifier::request`])
    /// signed again, now, for `lifetime` seconds, with the `wallet_nonce` a wallet sent when it
    /// fetched it with `request_uri_method=post` (OpenID4VP 1.0 §5.10.1).
    pub fn sign_request_object(
        &self,
        request: &AuthorizationRequest,
        now: i64,
        lifetime: i64,
        wallet_nonce: Option<&str>,
    ) -> Result<String> {
        match &self.x509 {
            Some((_, chain)) => {
                Ok(request.sign_x509(&self.signer, chain.certificates(), now, lifetime, wallet_nonce)?)
            }
            None => Ok(request.sign_with_wallet_nonce(&self.signer, &self.kid, now, lifetime, wallet_nonce)?),
        }
    }

    /// Verifies a `direct_post` body: finds the open request by the nonce its key binding
    /// names (unauthenticated: it only finds the request), runs the whole pipeline against it,
    /// and spends the nonce only when the verdict is accepted.
    ///
    /// - a key binding naming a nonce this verifier never issued, or one that expired:
    ///   [`Check::Nonce`]; an already spent nonce: [`Check::Replay`]; either way nothing is
    ///   verified (and nothing fetched), `request: None`;
    /// - a refused answer (junk naming the nonce, a forged or incomplete presentation) leaves
    ///   the request open: the family's genuine answer still gets through. A key-binding JWT
    ///   over our nonce that verifies is necessary for acceptance (the pipeline checks it for
    ///   every presentation), so nothing without the holder's key can spend the nonce;
    /// - an accepted answer consumes the nonce atomically ([`NonceStore::consume`] under one
    ///   lock); if another answer spent it meanwhile, this one fails [`Check::Replay`] and is
    ///   returned with `request: None`, like any replay.
    ///
    /// A verifier [with response encryption](Verifier::with_response_encryption) decrypts a
    /// `response=<JWE>` body first; a plaintext body, a JWE to another key, a changed JWE or
    /// a content encryption it did not offer fails [`Check::Encryption`] (`request: None`), as
    /// does an encrypted body to a verifier without a key.
    pub fn receive(&self, body: &str, context: &VerificationContext<'_>) -> Received {
        let refused = |check: Check, reason: String| {
            let mut verdict = Verdict::default();
            verdict.fail(check, None, reason);
            Received { request: None, verdict }
        };
        let encrypted = is_encrypted_form(body);
        let mut decryption_kid: Option<String> = None;
        let plaintext: std::borrow::Cow<'_, str> = match (&self.encryption, encrypted) {
            (Some((keys, encs)), true) => match keys.for_body(body, context.now).and_then(|key| {
                if matches!(keys, ResponseKeys::PerRequest(_)) {
                    decryption_kid = Some(key.kid().to_owned());
                }
                decrypt_jwt_form(body, &key, encs)
            }) {
                Ok(text) => text.into(),
                Err(error @ Oid4vpError::ErrorResponse { .. }) => return refused(Check::Response, error.to_string()),
                Err(error) => return refused(Check::Encryption, error.to_string()),
            },
            (Some(_), false) => {
                return refused(Check::Encryption, Oid4vpError::UnencryptedResponse.to_string());
            }
            (None, true) => {
                return refused(
                    Check::Encryption,
                    "an encrypted response, but this verifier asks for plaintext responses (direct_post)".into(),
                );
            }
            (None, false) => body.into(),
        };
        let body = plaintext.as_ref();
        let nonce = match claimed_nonce(body) {
            Ok(nonce) => nonce,
            Err(reason) => {
                let mut verdict = Verdict::default();
                verdict.fail(Check::Response, None, reason);
                return Received { request: None, verdict };
            }
        };
        let request = match self.open.peek(&nonce, context.now) {
            Ok(request) => request,
            Err(error) => {
                // A nonce we never issued (or forgot long after its expiry), or one that
                // expired, is a nonce mismatch: the key binding answers no request of ours. Only
                // a nonce already spent makes the response a replay.
                let check = match error {
                    NonceError::AlreadyUsed { .. } => Check::Replay,
                    _ => Check::Nonce,
                };
                let mut verdict = Verdict::default();
                verdict.fail(check, None, error.to_string());
                return Received { request: None, verdict };
            }
        };
        // An answer to a request made for the Digital Credentials API comes back through the
        // page, with the origin it was passed by: `receive_dc_api`.
        if request.is_dc_api() {
            return refused(
                Check::Response,
                "the answer names a request made for the Digital Credentials API (use receive_dc_api)".into(),
            );
        }
        // The request's own mode decides (a verifier whose configuration changed while a
        // request was open still holds each request to what it asked).
        if request.wants_encrypted_response() != encrypted {
            let reason = if encrypted {
                "an encrypted response to a request that did not ask for one"
            } else {
                "the response is not encrypted, but the request asked for direct_post.jwt"
            };
            return refused(Check::Encryption, reason.into());
        }
        // With a key per request, the response must be encrypted to the key of the request it
        // answers: one decrypted with another open request's key answers that one, not this.
        if let Some(kid) = &decryption_kid {
            let own = request.response_encryption().ok().flatten();
            if own.as_ref().and_then(|e| e.key().kid()) != Some(kid.as_str()) {
                return refused(
                    Check::Encryption,
                    "the response is encrypted to the key of another request than the one it answers".into(),
                );
            }
        }
        let mut verdict = verify_plaintext(&request, body, context);
        if !verdict.is_accepted() {
            return Received { request: Some(request), verdict };
        }
        match self.open.consume(&nonce, context.now) {
            Ok(_) => Received { request: Some(request), verdict },
            Err(error) => {
                // Another valid answer to the same request won the race (or the nonce expired
                // while this one was verified): this one is a replay and gives nothing.
                verdict.guardian_approval = None;
                verdict.guardian_approval_jwt = None;
                verdict.guardianship_status = None;
                verdict.guardianship_issuer = None;
                verdict.fail(Check::Replay, None, error.to_string());
                Received { request: None, verdict }
            }
        }
    }

    /// Verifies the answer a page received from `navigator.credentials.get` for a request made
    /// with [`Verifier::dc_api_request`]: `data` is the credential's `data` as JSON text
    /// (`{"response": <JWE>}` for `dc_api.jwt`), `origin` the origin of the page that called
    /// the API (the backend knows it: its own page posted the result).
    ///
    /// As [`Verifier::receive`] — found by the key binding's nonce, spent only when accepted —
    /// with the Digital Credentials API's rules (OpenID4VP 1.0 Appendix A):
    ///
    /// - `origin` must be an https origin and one of the request's expected origins, else
    ///   [`Check::Origin`];
    /// - a plaintext answer to a `dc_api.jwt` request, a JWE to another key, or to the key of
    ///   another open request: [`Check::Encryption`];
    /// - the key binding's audience (and a guardian approval's) must be `origin:<origin>`
    ///   (Appendix A.4; for signed requests too), else [`Check::Audience`];
    /// - an answer to a request made for the redirect flow: [`Check::Response`].
    pub fn receive_dc_api(&self, data: &str, origin: &str, context: &VerificationContext<'_>) -> Received {
        let refused = |check: Check, reason: String| {
            let mut verdict = Verdict::default();
            verdict.fail(check, None, reason);
            Received { request: None, verdict }
        };
        let origin = match Origin::parse(origin) {
            Ok(origin) => origin,
            Err(error) => return refused(Check::Origin, error.to_string()),
        };
        let encrypted = matches!(
            schooltas_did::strict_json::from_str::<Value>(data),
            Ok(Value::Object(ref object)) if object.contains_key("response")
        );
        let mut decryption_kid: Option<String> = None;
        let plaintext: String = match (&self.encryption, encrypted) {
            (Some((keys, encs)), true) => {
                match dc_api_response_kid(data).and_then(|kid| keys.for_kid(kid, context.now)).and_then(|key| {
                    if matches!(keys, ResponseKeys::PerRequest(_)) {
                        decryption_kid = Some(key.kid().to_owned());
                    }
                    decrypt_dc_api_response(data, &key, encs)
                }) {
                    Ok(text) => text,
                    Err(error @ Oid4vpError::ErrorResponse { .. }) => {
                        return refused(Check::Response, error.to_string());
                    }
                    Err(error) => return refused(Check::Encryption, error.to_string()),
                }
            }
            (Some(_), false) => {
                let reason = match dc_api_response_kid(data) {
                    Err(error @ Oid4vpError::ErrorResponse { .. }) => {
                        return refused(Check::Response, error.to_string());
                    }
                    _ => "the response is not encrypted, but the request asked for dc_api.jwt",
                };
                return refused(Check::Encryption, reason.into());
            }
            (None, true) => {
                return refused(
                    Check::Encryption,
                    "an encrypted response, but this verifier asks for plaintext responses (dc_api)".into(),
                );
            }
            (None, false) => data.to_owned(),
        };
        let nonce = match claimed_nonce(&plaintext) {
            Ok(nonce) => nonce,
            Err(reason) => return refused(Check::Response, reason),
        };
        let request = match self.open.peek(&nonce, context.now) {
            Ok(request) => request,
            Err(error) => {
                let check = match error {
                    NonceError::AlreadyUsed { .. } => Check::Replay,
                    _ => Check::Nonce,
                };
                return refused(check, error.to_string());
            }
        };
        if !request.is_dc_api() {
            return refused(Check::Response, "the answer names a request made for the redirect flow".into());
        }
        if request.wants_encrypted_response() != encrypted {
            return refused(Check::Encryption, "an encrypted response to a request that did not ask for one".into());
        }
        if let Some(kid) = &decryption_kid {
            let own = request.response_encryption().ok().flatten();
            if own.as_ref().and_then(|e| e.key().kid()) != Some(kid.as_str()) {
                return refused(
                    Check::Encryption,
                    "the response is encrypted to the key of another request than the one it answers".into(),
                );
            }
        }
        // The origin the page saw must be one this request was made for.
        if !request.expected_origins().unwrap_or_default().contains(&origin) {
            return refused(
                Check::Origin,
                format!("the answer came to {origin}, which is not one of the request's expected origins"),
            );
        }
        let mut verdict = verify_plaintext_for(&request, &origin.audience(), &plaintext, context);
        if !verdict.is_accepted() {
            return Received { request: Some(request), verdict };
        }
        match self.open.consume(&nonce, context.now) {
            Ok(_) => Received { request: Some(request), verdict },
            Err(error) => {
                verdict.guardian_approval = None;
                verdict.guardian_approval_jwt = None;
                verdict.guardianship_status = None;
                verdict.guardianship_issuer = None;
                verdict.fail(Check::Replay, None, error.to_string());
                Received { request: None, verdict }
            }
        }
    }

    /// Records the consent an accepted response gave (requests on consent only), with its
    /// evidence: the presentations, the guardian approval, the transaction data, and the key
    /// that approved (the parent's below 16, the pupil's own from 16) — a withdrawal must be
    /// signed by it. A parent's consent also records the guardianship credential's status
    /// entry: when the school revokes the guardianship, `may_use` with a status check says no.
    pub fn record_consent<S: ConsentStore>(
        &self,
        register: &ConsentRegister<S>,
        received: &Received,
        now: i64,
    ) -> Result<ConsentId> {
        let request = received
            .request
            .as_ref()
            .ok_or(Error::InvalidRecord { reason: "the response answered no open request" })?;
        let verdict = &received.verdict;
        if !verdict.is_accepted() {
            return Err(Error::InvalidRecord { reason: "only an accepted response gives consent" });
        }
        let extension = SchooltasExtension::from_request(request)?
            .ok_or(Error::InvalidRecord { reason: "the request states no purpose" })?;
        // The bases the pipeline established, not the request's own statement.
        let consent_queries = verdict.consent_queries();
        if consent_queries.is_empty() {
            return Err(Error::InvalidRecord { reason: "nothing in this response rests on consent" });
        }
        let approver: VerifyingKey = match &verdict.guardian_approval {
            Some(approval) => approval.guardian_key.clone(),
            None => verdict
                .credentials
                .iter()
                .find(|c| consent_queries.contains(&c.query_id.as_str()))
                .and_then(|c| c.holder_key.clone())
                .ok_or(Error::InvalidRecord { reason: "no key approved the consent" })?,
        };
        // The one child every consent presentation named (Check::ChildLink, Check::OneChild):
        // never a key thumbprint or a guess, so a record is always about the child who answered.
        let subject =
            verdict.subject.clone().filter(|subject| !subject.is_empty()).ok_or(Error::InvalidRecord {
                reason: "the response names no child (sub) to record the consent for",
            })?;
        let decoded = request.decoded_transaction_data().map_err(schooltas_school::Error::from)?;
        let member =
            |name: &str| decoded.iter().find_map(|d| d.extra.get(name).and_then(Value::as_str).map(str::to_owned));
        let record = ConsentRecord {
            id: ConsentId::random(),
            verifier: request.client_id.clone(),
            subject,
            purpose: extension.purpose.code.clone(),
            object: member("object"),
            channel: member("channel"),
            legal_basis: LegalBasis::Consent,
            granted_at: now,
            valid_until: now.saturating_add(i64::from(extension.retention_days) * 86_400),
            approver_jwk: Value::Object(approver.to_jwk()),
            request_nonce: request.nonce.clone(),
            evidence: Evidence {
                presentations: verdict.credentials.iter().map(|c| c.presentation.clone()).collect(),
                guardian_approval: verdict.guardian_approval_jwt.clone(),
                transaction_data: request.transaction_data.clone(),
            },
            status: verdict.guardianship_status.clone(),
            status_issuer: verdict.guardianship_issuer.clone(),
            withdrawn: None,
        };
        register.record(record)
    }

    /// Applies a signed withdrawal: finds the consent by our client id and the request nonce
    /// it names, checks the signature against the keys that may withdraw it, and withdraws it
    /// (effective from now; the message is kept as evidence). Returns the consent withdrawn;
    /// [`Verifier::apply_withdrawal_by`] also says whose key signed.
    ///
    /// The keys that may withdraw (see [`WithdrawnBy`]): the approver key recorded with the
    /// consent (the parent's below 16, the pupil's own from 16), and — for a consent a parent
    /// approved — the holder key of each child presentation the guardian approval names: the
    /// young person withdrawing, from 16, a consent their parent gave. Withdrawing only reduces
    /// processing, so either suffices; any other key (a sibling's, another family's) is
    /// refused with [`Error::WithdrawalNotByConsenter`]. A message signed by an accepted key
    /// but for another audience, stale or from the future is refused as such.
    pub fn apply_withdrawal<S: ConsentStore>(
        &self,
        register: &ConsentRegister<S>,
        jwt: &str,
        now: i64,
    ) -> Result<ConsentId> {
        self.apply_withdrawal_by(register, jwt, now).map(|(id, _)| id)
    }

    /// [`Verifier::apply_withdrawal`], returning also whose key signed the withdrawal (keep it
    /// with the register's answer: "withdrawn by the pupil at 16" reads differently from
    /// "withdrawn by the parent").
    pub fn apply_withdrawal_by<S: ConsentStore>(
        &self,
        register: &ConsentRegister<S>,
        jwt: &str,
        now: i64,
    ) -> Result<(ConsentId, WithdrawnBy)> {
        let message = UnverifiedWithdrawal::parse(jwt)?;
        let client_id = self.client_id();
        let record = register.by_request(&client_id, message.unverified_nonce())?.ok_or(Error::NoConsentForRequest)?;
        // The audience the consent was given to: our client id, or — for an answer over the
        // Digital Credentials API — the `origin:<origin>` its key binding named (verified when
        // the consent was recorded); a withdrawal naming either is for this consent.
        let audience = match message.unverified_audience() {
            named if named != client_id && key_binding_audiences(&record).iter().any(|aud| aud == named) => {
                named.to_owned()
            }
            _ => client_id,
        };
        for (by, key) in withdrawal_keys(&record)? {
            match message.verify(&key, &audience, now, 60) {
                Ok(_) => {
                    register.withdraw(&record.id, now, jwt)?;
                    return Ok((record.id, by));
                }
                // Not this key (wrong signature, or an algorithm this key does not use): try
                // the next one. The audience and time checks come after the signature, so any
                // other error means the key fits and the message is refused for what it says.
                Err(schooltas_school::Error::Did(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(Error::WithdrawalNotByConsenter)
    }
}

/// The `aud` of the key bindings of a consent's recorded presentations that are `origin:`
/// audiences (OpenID4VP 1.0 Appendix A.4); the pipeline verified them before the record was made.
fn key_binding_audiences(record: &ConsentRecord) -> Vec<String> {
    record
        .evidence
        .presentations
        .iter()
        .filter_map(|presentation| presentation.rsplit('~').next().filter(|kb| !kb.is_empty()))
        .filter_map(|kb| CompactJws::parse(kb).ok()?.dangerous_unverified_payload().ok())
        .filter_map(|payload| schooltas_did::strict_json::from_slice::<Value>(&payload).ok())
        .filter_map(|payload| payload.get("aud").and_then(Value::as_str).map(str::to_owned))
        .filter(|aud| aud.starts_with(schooltas_oid4vc::oid4vp::ORIGIN_CLIENT_ID_PREFIX))
        .collect()
}

/// Whether `body` is a `direct_post.jwt` form: form-encoded with a `response` parameter.
fn is_encrypted_form(body: &str) -> bool {
    !body.trim_start().starts_with('{')
        && form::decode(body).is_ok_and(|pairs| pairs.iter().any(|(name, _)| name == "response"))
}

/// The nonce a response's first key-binding JWT names (unauthenticated: it only finds the
/// request, which then verifies everything).
fn claimed_nonce(body: &str) -> std::result::Result<String, String> {
    let response = if body.trim_start().starts_with('{') {
        consent::response_from_json(body)
    } else {
        consent::response_from_form(body)
    }
    .map_err(|e| e.to_string())?;
    let presentation = response.vp_token.values().flatten().next().ok_or("the response holds no presentation")?;
    let kb = presentation.rsplit('~').next().filter(|kb| !kb.is_empty()).ok_or("a presentation has no key binding")?;
    let jws = CompactJws::parse(kb).map_err(|e| e.to_string())?;
    let payload: Value =
        schooltas_did::strict_json::from_slice(&jws.dangerous_unverified_payload().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    payload.get("nonce").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| "the key binding has no nonce".into())
}
