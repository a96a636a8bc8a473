//! # schooltas-verifier
//!
//! What a school, photographer or learning-app vendor runs to receive data:
//!
//! - [`RequestBuilder`]: OpenID4VP requests (DCQL, purpose, legal basis, retention, transaction
//!   data) that stay within the verifier's registration in the trust list — over-asking is
//!   refused before anything is sent; [`SignedRequest`] signs them (JAR) for a QR code or link;
//! - [`verify_response`]: the whole verification pipeline, returning a [`Verdict`] with the
//!   disclosed claims per credential query or every failed [`Check`] by name;
//! - [`Verifier`]: a service that issues requests, consumes each nonce once, verifies,
//!   records consents with their evidence and applies signed withdrawals;
//! - [`NonceStore`]: the request sessions and replay cache — each request nonce is ours, fresh,
//!   and answered once, and brings back the session it was issued with;
//! - [`ConsentRegister`]: the consents received, with their evidence, withdrawal and status
//!   (GDPR art. 7(1) demonstrable consent, art. 7(3) withdrawal, art. 15 access), on a
//!   transactional [`ConsentStore`] ([`SqliteConsentStore`] embedded);
//! - [`HttpsStatusListFetcher`]: status list tokens over HTTPS for the
//!   [`StatusListCache`](schooltas_status_list::StatusListCache).
//!
//! A school records a parent's consent to a class photo in the newsletter, the newsletter
//! editor asks the register before publishing, the parent withdraws, the editor asks again:
//!
//! ```
//! use schooltas_school::LegalBasis;
//! use schooltas_did::{Algorithm, Signer, SigningKey};
//! use schooltas_verifier::{
//!     ConsentId, ConsentRecord, ConsentRegister, Evidence, NoReason, NonceStore, SqliteConsentStore, UseAnswer,
//!     UseQuery,
//! };
//!
//! let now = 1_800_000_000;
//! let year = 365 * 86_400;
//! let parent = SigningKey::generate(Algorithm::EdDsa)?;
//! let photo = "sha-256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
//!
//! // The request went out with a nonce from the replay cache; the answer consumes it.
//! let nonces = NonceStore::<String>::new();
//! let nonce = nonces.issue_with(now, 300, "newsletter-request-1".into())?;
//! assert_eq!(nonces.consume(nonce.as_str(), now + 40)?, "newsletter-request-1");
//!
//! // The pipeline verified the presentation and the parent's approval; the school records it.
//! let register = ConsentRegister::new(SqliteConsentStore::in_memory()?);
//! let id = register.record(ConsentRecord {
//!     id: ConsentId::random(),
//!     verifier: "decentralized_identifier:did:web:school.example".into(),
//!     subject: "urn:ietf:params:oauth:jwk-thumbprint:sha-256:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs".into(),
//!     purpose: "newsletter".into(),
//!     object: Some(photo.into()),
//!     channel: Some("newsletter".into()),
//!     legal_basis: LegalBasis::Consent,
//!     granted_at: now + 40,
//!     valid_until: now + year,
//!     approver_jwk: parent.verifying_key().to_jwk().into(),
//!     request_nonce: nonce.to_string(),
//!     evidence: Evidence {
//!         presentations: vec!["eyJhbGciOiJFZERTQSJ9.…~WyJzYWx0IiwiZ3JvdXAiLCI3QiJd~eyJ0eXAiOiJrYitqd3QifQ.…".into()],
//!         guardian_approval: Some("eyJ0eXAiOiJndWFyZGlhbi1hcHByb3ZhbCtqd3QifQ.…".into()),
//!         transaction_data: vec!["eyJ0eXBlIjoicGhvdG9fY29uc2VudCJ9".into()],
//!     },
//!     status: None,
//!     status_issuer: None,
//!     withdrawn: None,
//! })?;
//!
//! // The editor asks before publishing.
//! let subject = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
//! let query = UseQuery { subject, purpose: "newsletter", object: Some(photo) };
//! let answer = register.may_use(query, now + 86_400, None)?;
//! let UseAnswer::Yes { evidence } = &answer else { return Err("expected yes".into()) };
//! assert_eq!(evidence.id, id);
//!
//! // The parent withdraws (a message signed with the approving key); the answer turns to no.
//! register.withdraw(&id, now + 2 * 86_400, "eyJ0eXAiOiJ3aXRoZHJhd2FsK2p3dCJ9.…")?;
//! let answer = register.may_use(query, now + 3 * 86_400, None)?;
//! assert_eq!(answer, UseAnswer::No { reason: NoReason::Withdrawn { at: now + 2 * 86_400 } });
//! // The grant and the withdrawal stay on record, for the school's accountability.
//! assert!(register.get(&id)?.is_some_and(|r| r.withdrawn.is_some() && r.evidence.guardian_approval.is_some()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod http;
pub mod nonces;
pub mod register;
pub mod request;
mod service;
mod status_key;
pub mod verify;

pub use error::{Error, Result};
pub use http::HttpsStatusListFetcher;
pub use nonces::{Nonce, NonceError, NonceStore};
pub use register::{
    ConsentId, ConsentRecord, ConsentRegister, ConsentStore, ConsentTx, Evidence, NoReason, SqliteConsentStore,
    StatusCheck, StatusIssuer, UseAnswer, UseQuery, Withdrawal, WithdrawnBy,
};
pub use request::{RequestBuilder, SignedRequest};
pub use service::{DEFAULT_OPEN_REQUESTS, DcApiSession, Received, Verifier};
pub use status_key::{consent_status_key, status_list_token_key};
pub use verify::{
    Check, DisclosedCredential, Failure, IssuerMetadataFetcher, UnknownStatus, Verdict, VerificationContext,
    verify_encrypted_response, verify_response,
};
// The key type of encrypted responses (`direct_post.jwt`), for `Verifier::with_response_encryption`.
pub use schooltas_jwe::{ContentEncryption, EncryptionKey};
