//! X.509 certificate chains for Schooltas issuers and verifiers, as HAIP 1.0 (the EU wallets'
//! profile) wants them: an issuer's key is trusted only through the `x5c` chain in its
//! issuer-signed JWT's header, validated to configured trust anchors, and a verifier signs its
//! OpenID4VP request objects with a certificate's key (`x509_san_dns`, `x509_hash` client ids).
//!
//! - [`CertificateAuthority`] (the trust-list operator: a root, optionally an intermediate)
//!   issues school certificates ([`CertificateAuthority::issue_issuer_certificate`]) and
//!   verifier certificates ([`CertificateAuthority::issue_verifier_certificate`]) and the
//!   certificates of separate status list keys
//!   ([`CertificateAuthority::issue_status_list_certificate`], EKU
//!   [`Usage::STATUS_LIST_SIGNING_OID`]), signed by any [`schooltas_did::Signer`].
//! - [`CertificateChain`] reads and writes `x5c` strictly; [`TrustAnchors`] holds the roots.
//! - [`validate`] checks a chain at an injected time and yields a [`ValidatedChain`], the only
//!   way to the leaf's key.
//!
//! ```
//! use schooltas_did::{Algorithm, Signer as _, SigningKey};
//! use schooltas_x509::{validate, CertificateAuthority, Profile, Subject, TrustAnchors, Usage, Validity};
//!
//! let now = 1_800_000_000;
//! let root = CertificateAuthority::root(
//!     SigningKey::generate(Algorithm::Es256)?,
//!     Subject::new("Stichting Schooltas", "Schooltas Root CA")?,
//!     Validity::days_from(now, 3650)?,
//!     Some(0),
//!     Profile::Haip,
//! )?;
//! let school_key = SigningKey::generate(Algorithm::Es256)?;
//! let issued = root.issue_issuer_certificate(
//!     school_key.verifying_key(),
//!     "https://school.example/issuer",
//!     &Subject::new("OBS De Linde", "OBS De Linde issuer")?,
//!     Validity::days_from(now, 365)?,
//! )?;
//! let x5c = issued.chain().to_x5c(); // into the JWS header
//!
//! let anchors = TrustAnchors::from_der(vec![root.certificate_der().to_vec()])?;
//! let chain = schooltas_x509::CertificateChain::from_x5c(&x5c)?;
//! let validated = validate(&chain, &anchors, now + 60, Usage::Any)?;
//! assert_eq!(validated.verifying_key(), school_key.verifying_key());
//! assert!(validated.matches_https_issuer("https://school.example/issuer"));
//! assert!(validated.matches_dns("school.example"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod algorithms;
mod chain;
mod error;
#[cfg(feature = "issue")]
mod issue;
mod pem;
mod subject;
mod validate;
mod validity;

pub use chain::{CertificateChain, MAX_CERTIFICATE_LEN, MAX_CHAIN_LEN, TrustAnchors};
pub use error::X509Error;
#[cfg(feature = "issue")]
pub use issue::{CertificateAuthority, IssuedCertificate, IssuerEku, Profile};
pub use subject::Subject;
pub use validate::{Usage, ValidatedChain, validate};
pub use validity::Validity;
