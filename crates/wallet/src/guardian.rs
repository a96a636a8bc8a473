//! The parent's side of a child's request: review exactly what the child's presentations
//! disclose, then approve (a signed guardian approval, see
//! [`schooltas_school::consent`]) or refuse.
//!
//! The parent's wallet trusts nothing the child's wallet says about the request: it verifies
//! the verifier's request object itself, looks the verifier up in the trust list, and verifies
//! each of the child's presentations (issuer signature via the issuer's DID, issuer accredited
//! for the type, key binding to this verifier and nonce) before showing what they disclose.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use schooltas_oid4vc::oid4vp::{AuthorizationRequest, transaction_data_hash};
use schooltas_school::catalog::REPRESENTATION_CLAIMS;
use schooltas_school::consent::{ApprovedPresentation, GuardianApproval};
use schooltas_school::date::CalendarDate;
use schooltas_school::extension::PurposeSource;
use schooltas_school::{LegalBasis, Purpose, SchooltasExtension};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, KeyBinding, KeyBindingInput, UnverifiedSdJwt, VerifyOptions};

use crate::consents::{self, Approver};
use crate::copies::{self, IndexedCopy, StoredCredential, get_credential};
use crate::error::{Error, Result};
use crate::log::{self, Actor, LogEvent};
use crate::owner::Role;
use crate::policy;
use crate::request::{
    GuardianAnswer, GuardianRequest, PromptClaim, Verifiers, basis_name, prompt_claim, read_dc_api_request,
    verify_request_object,
};
use crate::wallet::Wallet;

/// What the parent sees: the child's presentations, as the verifier will see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardianPrompt {
    /// The child, by the one-time child link of the presentations.
    pub child_id: String,
    /// The verifier's registered name.
    pub verifier_name: String,
    /// The verifier's client id.
    pub verifier_client_id: String,
    /// Why it asks.
    pub purpose: Purpose,
    /// How long it keeps the data, in days.
    pub retention_days: u32,
    /// Where the purpose, the legal bases and the retention come from (the request, or the
    /// verifier's registration for a standard request that states none).
    pub purpose_source: PurposeSource,
    /// Per credential: what the child's presentation discloses.
    pub items: Vec<GuardianPromptItem>,
    /// Each way the request exceeds the verifier's registration.
    pub over_asking: Vec<String>,
    /// The transaction data (e.g. the photo's hash).
    pub transaction_data: Vec<Value>,
    /// When the child said yes.
    pub child_assented_at: i64,
    /// Every copy of the parent's guardianship credential has been presented before: the
    /// approval reuses one, and this verifier and the earlier one(s) can link the two
    /// approvals to this parent (issue 12, item 9). An app says so before the parent decides.
    pub reuses_guardianship_copy: bool,
}

/// One of the child's presentations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianPromptItem {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The credential type.
    pub vct: String,
    /// The legal basis.
    pub legal_basis: LegalBasis,
    /// Exactly the claims it discloses.
    pub disclosed: Vec<PromptClaim>,
}

struct Reviewed {
    request: AuthorizationRequest,
    /// The key-binding and approval audience: the `client_id`, or `origin:<origin>` for a
    /// request over the Digital Credentials API (OpenID4VP 1.0 Appendix A.4).
    audience: String,
    prompt: GuardianPrompt,
    guardianship: StoredCredential,
}

impl Wallet {
    /// Checks a child's request for approval and returns what to show the parent.
    ///
    /// Refused when this is not a parent's wallet, the wallet holds no current guardianship
    /// credential for the child, the request or the verifier does not check out, or a
    /// presentation does not verify.
    pub fn review_child_request(
        &self,
        request: &GuardianRequest,
        verifiers: &Verifiers<'_>,
        now: i64,
    ) -> Result<GuardianPrompt> {
        Ok(self.review(request, verifiers, now)?.prompt)
    }

    /// The parent's answer: with `approve`, presents the guardianship credential to the
    /// verifier and signs the guardian approval with its key; otherwise a refusal. Logged
    /// either way; an approval is recorded as a consent this wallet can withdraw.
    pub fn answer_child_request(
        &self,
        request: &GuardianRequest,
        approve: bool,
        verifiers: &Verifiers<'_>,
        now: i64,
    ) -> Result<GuardianAnswer> {
        let reviewed = self.review(request, verifiers, now)?;
        let asked: Vec<String> = reviewed
            .prompt
            .items
            .iter()
            .flat_map(|item| item.disclosed.iter().map(move |c| format!("{}:{}", item.vct, c.path)))
            .collect();
        let received = LogEvent::RequestReceived {
            request_id: request.request_id.clone(),
            verifier: reviewed.request.client_id.clone(),
            purpose: reviewed.prompt.purpose.code.clone(),
            legal_basis: basis_name(LegalBasis::Consent),
            claims: asked.clone(),
        };
        if !approve {
            self.vault.transaction(|tx| {
                log::append(tx, now, received.clone())?;
                log::append(
                    tx,
                    now,
                    LogEvent::Decision {
                        request_id: request.request_id.clone(),
                        by: Actor::Parent,
                        approved: false,
                        claims: Vec::new(),
                    },
                )?;
                Ok(())
            })?;
            return Ok(GuardianAnswer::Denied { request_id: request.request_id.clone() });
        }

        let copy = &reviewed.guardianship;
        let key = self.holder_signer(copy)?;
        let input = KeyBindingInput {
            nonce: reviewed.request.nonce.clone(),
            audience: reviewed.audience.clone(),
            issued_at: now,
        };
        // The approval reveals only the representation (issue 12 item 8): relation, the child
        // link and the validity — always visible in the issuer-signed JWT of a catalog
        // guardianship, named here in case another issuer made them disclosable — and the
        // copy's key (`cnf`). Never the parent's DID, the child's birth date or the school.
        let representation: Vec<ClaimPath> = REPRESENTATION_CLAIMS
            .iter()
            .filter(|name| copy.claims.get(**name).is_some())
            .map(|name| ClaimPath::claim(*name))
            .collect();
        let guardianship = HolderSdJwt::parse(&copy.sd_jwt)?.present(&representation, Some((&*key, &input)))?;
        let presentations = request
            .vp_token
            .iter()
            .flat_map(|(query_id, list)| list.iter().map(move |p| (query_id, p)))
            .map(|(query_id, presentation)| {
                Ok(ApprovedPresentation {
                    credential_query_id: query_id.clone(),
                    sd_hash: UnverifiedSdJwt::parse(presentation)?.sd_hash(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let approval = GuardianApproval {
            audience: reviewed.audience.clone(),
            nonce: reviewed.request.nonce.clone(),
            issued_at: now,
            purpose: reviewed.prompt.purpose.code.clone(),
            legal_basis: LegalBasis::Consent,
            child_id: request.child_id.clone(),
            presentations,
            transaction_data_hashes: reviewed
                .request
                .transaction_data
                .iter()
                .map(|t| transaction_data_hash(t))
                .collect(),
            guardianship,
        }
        .sign(&key)?;

        self.vault.transaction(|tx| {
            copies::mark_used(tx, std::slice::from_ref(&reviewed.guardianship.id))?;
            log::append(tx, now, received.clone())?;
            log::append(
                tx,
                now,
                LogEvent::Decision {
                    request_id: request.request_id.clone(),
                    by: Actor::Parent,
                    approved: true,
                    claims: asked.clone(),
                },
            )?;
            log::append(
                tx,
                now,
                LogEvent::Disclosure {
                    request_id: request.request_id.clone(),
                    verifier: reviewed.request.client_id.clone(),
                    purpose: reviewed.prompt.purpose.code.clone(),
                    vct: copy.vct.clone(),
                    claims: representation.iter().map(crate::wallet::dotted).collect(),
                },
            )?;
            consents::record_for(
                tx,
                &reviewed.request,
                &reviewed.prompt.verifier_name,
                Approver::Copy { copy_id: copy.id.clone() },
                Some(request.child_id.clone()),
                now,
            )?;
            Ok(())
        })?;
        Ok(GuardianAnswer::Approved { request_id: request.request_id.clone(), approval })
    }

    fn review(&self, request: &GuardianRequest, verifiers: &Verifiers<'_>, now: i64) -> Result<Reviewed> {
        if !matches!(self.owner.role(), Role::Parent) {
            return Err(Error::NotGuardian { reason: "this is not a parent's wallet".into() });
        }
        // A request over the Digital Credentials API is read as the child's wallet read it,
        // with the origin the child's platform reported (the parent's phone saw no browser).
        let (verified_request, audience) = match &request.dc_api_origin {
            None => {
                let verified = verify_request_object(&request.request_object, verifiers, now)?;
                let audience = verified.client_id.clone();
                (verified, audience)
            }
            Some(origin) => {
                let origin = schooltas_oid4vc::oid4vp::Origin::parse(origin)?;
                (read_dc_api_request(&request.request_object, &origin, verifiers, now)?, origin.audience())
            }
        };
        let trusted = verifiers.trust_list.at(now)?;
        let registration = trusted
            .verifier_for_client(&verified_request.client_id)
            .ok_or_else(|| Error::VerifierNotRegistered { did: verified_request.client_id.clone() })?;
        // As the child's wallet did: a request that states no purpose rests on the one
        // registered purpose that covers it, and the approval names that purpose.
        let (extension, purpose_source) =
            SchooltasExtension::of_request(&verified_request, registration)?.ok_or(Error::MissingPurpose)?;
        let verified_request = match purpose_source {
            PurposeSource::Request => verified_request,
            PurposeSource::Registration => extension.clone().apply(verified_request)?,
        };
        // The parent's wallet applies the registered basis itself, as the child's did.
        policy::check_legal_basis(registration, &verified_request, &extension)?;
        let guardianship = self.guardianship_for(&request.child_id, now)?;

        let mut items = Vec::new();
        let mut links = Vec::new();
        let options = VerifyOptions::sd_jwt_vc(KeyBinding::new(&verified_request.nonce, &audience));
        for (query_id, list) in &request.vp_token {
            if verified_request.dcql_query.credential(query_id).is_none() {
                return Err(Error::InvalidInput {
                    reason: format!("the child answered {query_id:?}, which the request does not ask"),
                });
            }
            let consent = extension.basis_for(query_id) == LegalBasis::Consent;
            for presentation in list {
                // Trust before network: the (unverified) issuer must be accredited for the
                // (unverified) type before its DID is resolved — a did:web issuer would
                // otherwise make this wallet fetch any URL a child's wallet names.
                let (claimed_issuer, claimed_vct) = policy::unverified_issuer(presentation)?;
                trusted.check_iss(&claimed_issuer, &claimed_vct)?;
                let verified = UnverifiedSdJwt::parse(presentation)?.verify_with(
                    // A DID issuer's key from its DID; an https issuer's through its x5c
                    // chain to the trust list's X.509 anchors (HAIP 1.0).
                    |header, iss| crate::chains::issuer_key(header, iss, verifiers.trust_list, verifiers.resolver, now),
                    &options,
                    now,
                )?;
                let vct = verified.vct().unwrap_or_default().to_owned();
                trusted.check_iss(verified.issuer().unwrap_or_default(), &vct)?;
                links.push((query_id.clone(), policy::child_link(&verified).map(str::to_owned), consent));
                let disclosed = verified
                    .disclosed_paths()
                    .iter()
                    .map(|path| prompt_claim(&self.catalog, &vct, path, None))
                    .collect();
                items.push(GuardianPromptItem {
                    query_id: query_id.clone(),
                    vct,
                    legal_basis: extension.basis_for(query_id),
                    disclosed,
                });
            }
        }
        if items.is_empty() {
            return Err(Error::InvalidInput { reason: "the child's request holds no presentation".into() });
        }
        // One approval, one child: the child the guardianship credential names.
        policy::check_one_child(&links, &request.child_id)?;
        let over_asking = registration.over_asking(&verified_request).iter().map(ToString::to_string).collect();
        let transaction_data = verified_request
            .decoded_transaction_data()?
            .iter()
            .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
            .collect();
        let prompt = GuardianPrompt {
            child_id: request.child_id.clone(),
            verifier_name: registration.name.clone(),
            verifier_client_id: verified_request.client_id.clone(),
            purpose: extension.purpose.clone(),
            retention_days: extension.retention_days,
            purpose_source,
            items,
            over_asking,
            transaction_data,
            child_assented_at: request.assented_at,
            reuses_guardianship_copy: guardianship.used,
        };
        Ok(Reviewed { request: verified_request, audience, prompt, guardianship })
    }

    /// The guardianship credential copy naming this parent and the one-time child link
    /// `child_id` (copy *i* of the guardianship batch carries the child's copy *i* link), still
    /// valid today — an unused copy where there is one.
    fn guardianship_for(&self, child_id: &str, now: i64) -> Result<StoredCredential> {
        let guardianship_vct = self.catalog.get("guardianship").map(|t| t.vct().as_str().to_owned());
        let today = CalendarDate::from_unix(now);
        let me = self.owner.did().as_str();
        let mut ended = None;
        let mut found: Option<IndexedCopy> = None;
        // Only the guardianship copies are read, from the index: no copy is decrypted but the
        // one returned.
        let wanted: std::collections::BTreeSet<&str> = guardianship_vct.as_deref().into_iter().collect();
        for copy in self.copies_of(Some(&wanted))? {
            if Some(&copy.vct) != guardianship_vct.as_ref() {
                continue;
            }
            let text = |name: &str| copy.claims.get(name).and_then(Value::as_str).map(str::to_owned);
            // The copy names this parent: by the wallet's DID, or — when the school's
            // administration did not know it — by the did:key of the copy's own holder key.
            let names_me = text("guardian_id").is_some_and(|named| named == me || names_holder(&copy.claims, &named));
            if text("child_id").as_deref() != Some(child_id) || !names_me {
                continue;
            }
            let valid_until = text("valid_until").and_then(|d| CalendarDate::parse(&d).ok());
            // The school lets a copy's `exp` fall within the last day of its (coarse)
            // `valid_until` (issue 12 item 8): a copy past its `exp` is over too, or the
            // verifier would refuse the approval for an expired guardianship.
            let expired = copy.claims.get("exp").and_then(Value::as_i64).is_some_and(|exp| exp <= now);
            match valid_until {
                Some(date) if date >= today && !expired => {}
                other => {
                    ended = other;
                    continue;
                }
            }
            if found.as_ref().is_none_or(|f| f.used && !copy.used) {
                found = Some(copy);
            }
        }
        let found = found.ok_or_else(|| Error::NotGuardian {
            reason: match ended {
                Some(date) => format!("the guardianship for this child ended on {date}"),
                None => "this wallet holds no guardianship credential for this child".into(),
            },
        })?;
        self.vault.read(|tx| get_credential(tx, &found.id))
    }
}

/// Whether `named` is the `did:key` of the copy's holder key (`cnf.jwk`): the representative a
/// school names when it issues guardianship without knowing the parent's wallet DID.
fn names_holder(claims: &Value, named: &str) -> bool {
    let Some(jwk) = claims.get("cnf").and_then(|cnf| cnf.get("jwk")).and_then(Value::as_object) else {
        return false;
    };
    schooltas_did::PublicKey::from_jwk(jwk).is_ok_and(|key| schooltas_did::did_key::did_for(&key).as_str() == named)
}
