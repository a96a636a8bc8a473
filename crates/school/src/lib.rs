//! # schooltas-school
//!
//! What makes the generic credential stack Schooltas: the crate that knows about schools,
//! pupils and parents. Built on `schooltas-sd-jwt` (credentials), `schooltas-status-list`
//! (revocation), `schooltas-oid4vc` (issuance and presentation messages) and `schooltas-did`;
//! none of those depends on this one.
//!
//! - [`catalog`]: the credential types a school issues (claims, labels, validity);
//! - [`consent`]: the guardian approval (a parent's signed yes for a child under 16) and the
//!   signed withdrawal of a consent, and the response parameter that carries the approval;
//! - [`trust_list`]: the operator's signed list of accredited schools and registered verifiers,
//!   and the over-asking checks against it;
//! - [`extension`]: the `"schooltas"` member of a presentation request — purpose, legal basis
//!   ([`LegalBasis`]), retention — read with [`SchooltasRequest::schooltas`];
//! - [`date`]: calendar dates for birth dates and school years.
//!
//! A school issues an enrolment credential from the catalog; a photographer asks for the group,
//! for the class photo, on consent:
//!
//! ```
//! use schooltas_did::{Algorithm, PublicKey, Signer, SigningKey, did_key};
//! use schooltas_oid4vc::oid4vp::{AuthorizationRequest, CredentialQuery, DcqlQuery};
//! use schooltas_school::catalog::Catalog;
//! use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
//! use schooltas_sd_jwt::{ClaimPath, RandomSalts};
//! use serde_json::json;
//!
//! let now = 1_800_000_000;
//! let catalog = Catalog::standard();
//! let enrolment = catalog.get("pupil_enrolment").ok_or("no enrolment type")?;
//! let claims = json!({
//!     "school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
//!     "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
//!     "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false,
//! });
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let issued = enrolment
//!     .builder("did:web:delinde.example", now, claims.as_object().cloned().unwrap_or_default())?
//!     .issue(&school, &mut RandomSalts)?;
//! assert_eq!(issued.disclosures().len(), 10); // every personal claim selectively disclosable
//!
//! let photographer = SigningKey::generate(Algorithm::EdDsa)?;
//! let did = did_key::did_for(&PublicKey::Verifying(photographer.verifying_key().clone()));
//! let query = DcqlQuery::builder()
//!     .credential(CredentialQuery::sd_jwt_vc("enrolment", [enrolment.vct().as_str()]).claim(ClaimPath::claim("group")))
//!     .build()?;
//! let purpose = Purpose {
//!     code: "class_photo".into(),
//!     text: LocalizedText { nl: "Klassenfoto".into(), en: "Class photo".into() },
//! };
//! let request = AuthorizationRequest::new(&did, "https://photo.example/response", "n-81f2c0d4e5a6b7c8", query)
//!     .with_schooltas(SchooltasExtension::new(purpose, LegalBasis::Consent, 365))?;
//! assert_eq!(request.extension("schooltas").map(|m| m["legal_basis"].clone()), Some(json!("consent")));
//! assert_eq!(request.schooltas()?.map(|e| e.basis_for("enrolment")), Some(LegalBasis::Consent));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod catalog;
pub mod consent;
pub mod date;
mod error;
pub mod extension;
pub mod trust_list;

pub use error::{Error, Result};
pub use extension::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
