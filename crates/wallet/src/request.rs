//! Answering a verifier: OpenID4VP 1.0 with DCQL, under the consent rule.
//!
//! 1. [`Wallet::handle_request`] verifies the signed request object (the verifier's DID
//!    resolved), finds the verifier's registration in the trust list, matches the DCQL query
//!    against the stored credentials and returns a [`ConsentPrompt`]: who asks, why, on what
//!    legal basis, for how long, each claim in Dutch and English, which are special-category
//!    data, which exceed the registration (over-asking), and which credentials can answer.
//! 2. [`Wallet::decide`] takes the person's [`Decision`]. A "no" ends it. A "yes" from a child
//!    under 16 to anything resting on consent is the child's **assent**: the presentations are
//!    built, and a [`GuardianRequest`] goes to the parent's wallet (see [`crate::guardian`]).
//!    Otherwise the response is ready to send.
//! 3. [`Wallet::complete_with_guardian`] adds the parent's approval (or stops on their "no").
//!
//! Every step is logged. Each credential copy is presented once while unused copies remain;
//! when none is left the prompt says the copy shown is linkable ([`PromptItem::reuses_copy`]).
//! Who must approve is decided from the verifier's **registered** legal basis: a request stating
//! a weaker one is refused (see `policy.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use schooltas_did::Resolver;
use schooltas_oid4vc::form;
use schooltas_oid4vc::oid4vp::{
    AuthorizationRequest, AuthorizationRequestUri, AuthorizationResponse, ClientId, DcApiProtocol, DcApiRequest,
    DcqlMatch, Oid4vpError, Origin, REGISTERED_CLAIMS, TransactionData, UnverifiedRequestObject, WalletCredential,
    transaction_data_hash,
};
use schooltas_school::catalog::{Catalog, Language};
use schooltas_school::consent;
use schooltas_school::extension::PurposeSource;
use schooltas_school::trust_list::{OverAsking, VerifiedTrustList};
use schooltas_school::{LegalBasis, Purpose, SchooltasExtension};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{HolderSdJwt, KeyBindingInput, Vct};

use crate::consents::{self, Approver};
use crate::copies::{self, IndexedCopy, LinkedCopies, StoredCredential};
use crate::error::{Error, Result};
use crate::ids::random_id;
use crate::log::{self, Actor, LogEvent};
use crate::owner::AgeBand;
use crate::policy;
use crate::vault::VaultTx;
use crate::wallet::{Wallet, dotted, restrict};

const PENDING_KIND: &str = "pending";

/// Clock difference tolerated on request objects (seconds).
pub const CLOCK_SKEW: i64 = 60;

/// Fetches a request object from its `request_uri`.
pub type FetchRequestObject<'a> = &'a dyn Fn(&str) -> Result<String>;

/// What the wallet trusts when it reads a request.
pub struct Verifiers<'a> {
    /// The trust list naming registered verifiers (and accredited issuers); checked for expiry
    /// at each request, so a list kept past its `exp` refuses every verifier.
    pub trust_list: &'a VerifiedTrustList,
    /// DID resolution for the verifier's request-object key.
    pub resolver: &'a Resolver,
    /// Fetches a request object by reference (`request_uri`); `None` accepts only requests by value.
    pub fetch_request_object: Option<FetchRequestObject<'a>>,
}

/// Who must say yes before anything leaves the wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhoDecides {
    /// The holder alone (a young person of 16 or over, or a parent for their own data).
    Holder,
    /// The child assents and a parent approves (under 16, consent-based).
    ChildAndParent,
    /// No consent is needed (legal obligation, public task, contract), but the holder still
    /// approves the disclosure and it is logged.
    HolderNoConsentNeeded,
}

/// One claim in a prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptClaim {
    /// The claim path, dotted (`administrative.given_name`).
    pub path: String,
    /// The label in Dutch.
    pub label_nl: String,
    /// The label in English.
    pub label_en: String,
    /// Health or other special-category data (GDPR art. 9).
    pub special_category: bool,
    /// Outside what the verifier's registration allows for this purpose.
    pub over_asked: bool,
}

/// A credential that can answer a query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The batch (credential) id.
    pub batch: String,
    /// The issuer's DID.
    pub issuer: String,
    /// When it was received.
    pub received_at: i64,
    /// Copies not yet presented; 0 means presenting it again makes two presentations linkable.
    pub unused_copies: usize,
}

/// One credential asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptItem {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The credential type asked for.
    pub vct: String,
    /// Its name in Dutch.
    pub name_nl: String,
    /// Its name in English.
    pub name_en: String,
    /// The legal basis for this credential.
    pub legal_basis: LegalBasis,
    /// The claims that would be disclosed.
    pub claims: Vec<PromptClaim>,
    /// Credentials in the wallet that can answer (empty: this query cannot be answered).
    pub candidates: Vec<Candidate>,
    /// Every copy of the credential that would be presented has been presented before: the
    /// wallet must reuse one, and this verifier and the earlier one(s) can link the two
    /// answers (the same issuer signature, salts and holder key). The prompt says so.
    pub reuses_copy: bool,
    /// The `trusted_authorities` types the verifier limits this credential by that the wallet
    /// cannot check (`etsi_tl`, `openid_federation`, …): the credential offered may be one the
    /// verifier will not accept. (`aki` is checked: a credential outside it is not offered.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked_authorities: Vec<String>,
}

/// What an app shows the person who decides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentPrompt {
    /// The wallet's id for this request (pass it to [`Wallet::decide`]).
    pub request_id: String,
    /// The verifier's client id.
    pub verifier_client_id: String,
    /// The verifier's DID.
    pub verifier_did: String,
    /// The verifier's registered name (from the trust list).
    pub verifier_name: String,
    /// Why it asks.
    pub purpose: Purpose,
    /// How long it keeps the data, in days.
    pub retention_days: u32,
    /// Where the purpose, the legal bases and the retention come from: the request itself, or
    /// the verifier's registration (a standard request that states none).
    pub purpose_source: PurposeSource,
    /// What it asks for.
    pub items: Vec<PromptItem>,
    /// Each way the request exceeds the verifier's registration, in plain English.
    pub over_asking: Vec<String>,
    /// The transaction data the verifier attached (e.g. the photo's hash and the channel).
    pub transaction_data: Vec<Value>,
    /// Who decides.
    pub who_decides: WhoDecides,
    /// The holder's age band today.
    pub age_band: AgeBand,
    /// Whether the wallet holds what is needed to answer.
    pub answerable: bool,
}

impl ConsentPrompt {
    /// Whether answering means presenting a copy that was presented before (linkable to the
    /// earlier verifier): see [`PromptItem::reuses_copy`].
    pub fn reuses_copies(&self) -> bool {
        self.items.iter().any(|item| item.reuses_copy)
    }

    /// Whether any claim asked for is special-category data.
    pub fn has_special_category(&self) -> bool {
        self.items.iter().flat_map(|i| &i.claims).any(|c| c.special_category)
    }

    /// The prompt as text in `language`, for a terminal or a screen reader.
    pub fn render(&self, language: Language) -> String {
        let nl = language == Language::Nl;
        let pick = |nl_text: &str, en_text: &str| if nl { nl_text.to_owned() } else { en_text.to_owned() };
        let mut out = String::new();
        out.push_str(&format!(
            "{} {} ({})\n",
            pick("Verzoek van", "Request from"),
            self.verifier_name,
            self.verifier_did
        ));
        out.push_str(&format!(
            "{}: {}\n",
            pick("Doel", "Purpose"),
            if nl { &self.purpose.text.nl } else { &self.purpose.text.en }
        ));
        out.push_str(&source_line(self.purpose_source, language));
        for item in &self.items {
            let basis = basis_label(item.legal_basis, language);
            let name = if nl { &item.name_nl } else { &item.name_en };
            out.push_str(&format!("- {name} [{basis}]\n"));
            for claim in &item.claims {
                let label = if nl { &claim.label_nl } else { &claim.label_en };
                let mut marks = String::new();
                if claim.special_category {
                    marks.push_str(&pick(" — BIJZONDER PERSOONSGEGEVEN", " — SPECIAL-CATEGORY DATA"));
                }
                if claim.over_asked {
                    marks.push_str(&pick(" — MEER DAN TOEGESTAAN", " — BEYOND REGISTRATION"));
                }
                out.push_str(&format!("    {label}{marks}\n"));
            }
            if item.candidates.is_empty() {
                out.push_str(&pick("    (niet in de wallet)\n", "    (not in the wallet)\n"));
            }
            if !item.unchecked_authorities.is_empty() {
                let kinds = item.unchecked_authorities.join(", ");
                out.push_str(&if nl {
                    format!("    (de aanvrager accepteert alleen uitgevers volgens {kinds}; dat kan deze wallet niet controleren)\n")
                } else {
                    format!("    (the verifier accepts only issuers under {kinds}; this wallet cannot check that)\n")
                });
            }
            if item.reuses_copy {
                out.push_str(&pick(
                    "    LET OP: alle exemplaren hiervan zijn al eerder gedeeld. De wallet moet een exemplaar \
                     opnieuw gebruiken, en wie het eerder kreeg kan samen met deze aanvrager zien dat het om \
                     dezelfde persoon gaat. Vraag de school om nieuwe exemplaren als je dat niet wilt.\n",
                    "    NOTE: every copy of this credential has been shared before. The wallet must reuse one, \
                     and whoever received it earlier can tell, together with this verifier, that both answers \
                     are about the same person. Ask the school for fresh copies if you do not want that.\n",
                ));
            }
        }
        for data in &self.transaction_data {
            let members: Vec<String> = data
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| !matches!(name.as_str(), "type" | "credential_ids" | "transaction_data_hashes_alg"))
                .map(|(name, value)| {
                    format!("{name} = {}", value.as_str().map_or_else(|| value.to_string(), str::to_owned))
                })
                .collect();
            out.push_str(&format!("{}: {}\n", pick("Het gaat om", "Concerning"), members.join(", ")));
        }
        out.push_str(&format!(
            "{}: {} {}\n",
            pick("Bewaartermijn", "Retention"),
            self.retention_days,
            pick("dagen", "days")
        ));
        for warning in &self.over_asking {
            out.push_str(&format!("{}: {warning}\n", pick("WAARSCHUWING", "WARNING")));
        }
        out.push_str(&match self.who_decides {
            WhoDecides::Holder => pick("Jij beslist.\n", "You decide.\n"),
            WhoDecides::ChildAndParent => {
                pick("Jij én je ouder moeten ja zeggen.\n", "You and your parent must both say yes.\n")
            }
            WhoDecides::HolderNoConsentNeeded => pick(
                "Hiervoor is geen toestemming nodig (wettelijke grondslag); het wordt wel vastgelegd.\n",
                "No consent is needed (legal basis other than consent); it is still logged.\n",
            ),
        });
        out
    }
}

/// The prompt's line saying where the purpose, bases and retention come from.
pub(crate) fn source_line(source: PurposeSource, language: Language) -> String {
    match (source, language) {
        (PurposeSource::Request, Language::Nl) => "(doel, grondslag en bewaartermijn: zoals het verzoek ze noemt)\n",
        (PurposeSource::Request, _) => "(purpose, legal basis and retention: as the request states them)\n",
        (PurposeSource::Registration, Language::Nl) => {
            "(doel, grondslag en bewaartermijn: het verzoek noemt ze niet; uit de registratie van de verifier in de vertrouwenslijst)\n"
        }
        (PurposeSource::Registration, _) => {
            "(purpose, legal basis and retention: the request states none; from the verifier's registration in the trust list)\n"
        }
    }
    .to_owned()
}

fn basis_label(basis: LegalBasis, language: Language) -> &'static str {
    match (basis, language) {
        (LegalBasis::Consent, Language::Nl) => "toestemming",
        (LegalBasis::LegalObligation, Language::Nl) => "wettelijke plicht",
        (LegalBasis::PublicTask, Language::Nl) => "publieke taak",
        (LegalBasis::Contract, Language::Nl) => "overeenkomst",
        (LegalBasis::Consent, _) => "consent",
        (LegalBasis::LegalObligation, _) => "legal obligation",
        (LegalBasis::PublicTask, _) => "public task",
        (LegalBasis::Contract, _) => "contract",
    }
}

/// What the person decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Share everything asked for.
    ApproveAll,
    /// Share only these credential queries, each with only these claims (a subset of what the
    /// prompt lists). The selection must still answer the request.
    Approve(BTreeMap<String, Vec<ClaimPath>>),
    /// Share nothing.
    Deny,
}

/// The body to post for `response`: the `direct_post` form (OpenID4VP 1.0 §8.2), or for a
/// request that asked for `direct_post.jwt` the parameters encrypted to the verifier's key
/// (`response=<JWE>`, §8.3). The request was validated when it arrived, so a `direct_post.jwt`
/// request has a usable key; there is no plaintext fallback.
///
/// Over the Digital Credentials API the body is the JSON `data` the wallet returns through the
/// platform: `{"response": <JWE>}` for `dc_api.jwt`, the response parameters for `dc_api`.
fn response_body(request: &AuthorizationRequest, response: &AuthorizationResponse) -> Result<String> {
    Ok(match (request.response_encryption()?, request.is_dc_api()) {
        (Some(encryption), true) => response.to_dc_api_jwt(&encryption)?.to_string(),
        (None, true) => response.to_json().to_string(),
        (Some(encryption), false) => response.to_jwt_form(&encryption)?,
        (None, false) => response.to_form(),
    })
}

/// The body of a refusal (`error=access_denied`, with `state`), encrypted like a response for a
/// `direct_post.jwt` request.
fn refusal_body(request: &AuthorizationRequest) -> Result<String> {
    let mut pairs = vec![("error", "access_denied")];
    if let Some(state) = &request.state {
        pairs.push(("state", state.as_str()));
    }
    let parameters: Map<String, Value> =
        pairs.iter().map(|(name, value)| ((*name).to_owned(), Value::String((*value).to_owned()))).collect();
    Ok(match (request.response_encryption()?, request.is_dc_api()) {
        (None, false) => form::encode(&pairs),
        (Some(encryption), false) => encryption.encrypt_parameters(&parameters)?,
        // OpenID4VP 1.0 Appendix A.4: an error is an object with `error` in `data`.
        (None, true) => Value::Object(parameters).to_string(),
        (Some(encryption), true) => {
            let mut data = Map::new();
            data.insert("response".into(), Value::String(encryption.encrypt_to_jwe(&parameters)?));
            Value::Object(data).to_string()
        }
    })
}

/// A message for the verifier: POST `body` (form-encoded) to `response_uri`; or, for a request
/// over the Digital Credentials API ([`Wallet::handle_dc_api_request`]), `response_uri` empty
/// and `body` the JSON `data` to hand back to the platform ([`ResponseToSend::dc_api_data`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseToSend {
    /// Where to post it (empty over the Digital Credentials API).
    pub response_uri: String,
    /// The `direct_post` body: a `vp_token` response, or `error=access_denied`; for a
    /// `direct_post.jwt` request, either one encrypted as `response=<JWE>`.
    pub body: String,
    /// Whether anything is disclosed (false for a refusal).
    pub discloses: bool,
}

impl ResponseToSend {
    /// For a request over the Digital Credentials API, the JSON `data` the wallet returns to
    /// the platform (`{"response": <JWE>}` for `dc_api.jwt`); `None` for a response to POST.
    pub fn dc_api_data(&self) -> Option<&str> {
        self.response_uri.is_empty().then_some(self.body.as_str())
    }
}

impl std::fmt::Debug for ResponseToSend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseToSend")
            .field("response_uri", &self.response_uri)
            .field("discloses", &self.discloses)
            .finish_non_exhaustive()
    }
}

/// The child's request to a parent's wallet: approve these presentations for this verifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianRequest {
    /// The child's wallet's id for the request.
    pub request_id: String,
    /// The verifier's signed request object, which the parent's wallet checks itself (for a
    /// request over the Digital Credentials API, the `{"protocol", "data"}` JSON).
    pub request_object: String,
    /// For a request over the Digital Credentials API, the origin the child's platform
    /// reported: the parent's wallet reads the request with it, and the approval's audience
    /// is `origin:<origin>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc_api_origin: Option<String>,
    /// The one-time child link the presentations carry as `sub` (the `child_id` of the parent's
    /// guardianship copy with the same index); the child's DID only for a credential without one.
    pub child_id: String,
    /// The child's presentations, by credential query id (already bound to the verifier).
    pub vp_token: BTreeMap<String, Vec<String>>,
    /// When the child assented.
    pub assented_at: i64,
}

impl std::fmt::Debug for GuardianRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardianRequest")
            .field("request_id", &self.request_id)
            .field("queries", &self.vp_token.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The parent's wallet's answer to a [`GuardianRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum GuardianAnswer {
    /// The parent approves: the signed guardian approval.
    Approved {
        /// The child's request id.
        request_id: String,
        /// The guardian approval JWT.
        approval: String,
    },
    /// The parent says no.
    Denied {
        /// The child's request id.
        request_id: String,
    },
}

/// What happens after a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send this to the verifier (a response, or a refusal).
    Send(ResponseToSend),
    /// Ask the parent's wallet first.
    AwaitGuardian(GuardianRequest),
}

/// A copy chosen to answer a query and the paths it discloses.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Planned {
    query_id: String,
    copy_id: String,
    disclose: Vec<ClaimPath>,
    /// The copy's type (empty in requests stored before it was recorded: then read from the copy).
    #[serde(default)]
    vct: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Stage {
    Prompted,
    AwaitingGuardian { vp_token: BTreeMap<String, Vec<String>>, planned: Vec<Planned> },
    Answered,
    Refused,
}

#[derive(Clone, Serialize, Deserialize)]
struct Pending {
    id: String,
    request_object: String,
    request: AuthorizationRequest,
    /// The origin a request over the Digital Credentials API came from (`None`: the redirect
    /// flow): the key-binding audience is then `origin:<origin>` (OpenID4VP 1.0 Appendix A.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dc_api_origin: Option<String>,
    verifier_name: String,
    received_at: i64,
    /// Per query: the candidate copies (one per batch) and what each would disclose.
    candidates: BTreeMap<String, Vec<Planned>>,
    who_decides: WhoDecides,
    stage: Stage,
}

impl Pending {
    /// The key-binding audience: `origin:<origin>` over the Digital Credentials API
    /// (OpenID4VP 1.0 Appendix A.4, signed requests too), else the client id.
    fn audience(&self) -> Result<String> {
        Ok(match &self.dc_api_origin {
            Some(origin) => Origin::parse(origin)?.audience(),
            None => self.request.client_id.clone(),
        })
    }
}

impl Wallet {
    /// Reads a request (an `openid4vp://` URI, by value or by reference), checks it, logs it,
    /// and returns the prompt to show.
    ///
    /// Refused (and logged) when the request object does not verify, the verifier is not in the
    /// trust list, or the request carries no purpose and legal basis. Also refused and logged,
    /// before anything is matched or shown: a stated legal basis other than consent that the
    /// verifier's registration does not hold for that purpose and credential type
    /// ([`Error::LegalBasisMismatch`]: who approves follows the registration, not the request),
    /// and a transfer-dossier request from a school whose own enrolment credential the wallet
    /// does not hold ([`Error::TransferWithoutEnrolment`]).
    pub fn handle_request(&self, uri: &str, verifiers: &Verifiers<'_>, now: i64) -> Result<ConsentPrompt> {
        let (request_object, request) = match read_request(uri, verifiers, now) {
            Err(Error::VerifierNotRegistered { did }) => {
                let client_id = format!("{}{did}", schooltas_oid4vc::oid4vp::DID_CLIENT_ID_PREFIX);
                self.log_refusal(&client_id, "the verifier is not registered in the trust list", now)?;
                return Err(Error::VerifierNotRegistered { did });
            }
            other => other?,
        };
        self.prompt(request_object, request, None, verifiers, now)
    }

    /// Reads a request passed over the W3C Digital Credentials API (OpenID4VP 1.0 Appendix A;
    /// HAIP 1.0 §5.1) by the page at `origin` (the origin the platform reports with the
    /// request), checks it, logs it, and returns the prompt to show — the same prompt, rules
    /// and next steps as [`Wallet::handle_request`]: [`Wallet::decide`], the guardian's
    /// approval under 16, over-asking. The answer ([`ResponseToSend::dc_api_data`]) goes back
    /// through the platform, not to a URI.
    ///
    /// `request_json` is one `{"protocol", "data"}` entry of the page's `digital.requests`:
    ///
    /// - `openid4vp-v1-unsigned`: the verifier is the origin, which the trust list must
    ///   register as `origin:<origin>` among a verifier's client ids; an unregistered origin is
    ///   refused ([`Error::VerifierNotRegistered`]) before the request is read further;
    /// - `openid4vp-v1-signed`: the request object is verified as for `request_uri` requests
    ///   (the DID key, or the `x5c` chain for X.509 client ids), and its `expected_origins`
    ///   must hold `origin` exactly ([`Oid4vpError::OriginNotExpected`]);
    /// - `openid4vp-v1-multisigned`: accepted when one signature verifies for a client id the
    ///   trust list registers ([`Oid4vpError::NoTrustedSignature`] otherwise).
    ///
    /// The presentations' key binding names `origin:<origin>` as audience (Appendix A.4).
    pub fn handle_dc_api_request(
        &self,
        request_json: &str,
        origin: &str,
        verifiers: &Verifiers<'_>,
        now: i64,
    ) -> Result<ConsentPrompt> {
        let origin = Origin::parse(origin)?;
        let request = match read_dc_api_request(request_json, &origin, verifiers, now) {
            Err(Error::VerifierNotRegistered { did }) => {
                self.log_refusal(&did, "the verifier is not registered in the trust list", now)?;
                return Err(Error::VerifierNotRegistered { did });
            }
            Err(error @ Error::Credential(schooltas_school::Error::Oid4vp(Oid4vpError::OriginNotExpected { .. }))) => {
                self.log_refusal(&origin.audience(), "the request is not meant for the page that passed it", now)?;
                return Err(error);
            }
            other => other?,
        };
        self.prompt(request_json.to_owned(), request, Some(origin.as_str().to_owned()), verifiers, now)
    }

    /// The prompt for a verified request (by `request_uri`/value, or over the DC API from
    /// `dc_api_origin`), once the verifier's registration is found.
    fn prompt(
        &self,
        request_object: String,
        request: AuthorizationRequest,
        dc_api_origin: Option<String>,
        verifiers: &Verifiers<'_>,
        now: i64,
    ) -> Result<ConsentPrompt> {
        let list = match verifiers.trust_list.at(now) {
            Ok(list) => list,
            Err(error) => {
                self.log_refusal(&request.client_id, "the trust list is not valid now; fetch a new one", now)?;
                return Err(error.into());
            }
        };
        let Some(registration) = list.verifier_for_client(&request.client_id) else {
            self.log_refusal(&request.client_id, "the verifier is not registered in the trust list", now)?;
            return Err(Error::VerifierNotRegistered { did: request.client_id.clone() });
        };
        // A standard OpenID4VP request states no purpose: it rests on the one registered
        // purpose that covers it, and the prompt says so. The pending request keeps what it
        // rests on, so everything after (the log, the consent kept) reads one statement.
        let Some((extension, purpose_source)) = SchooltasExtension::of_request(&request, registration)? else {
            self.log_refusal(
                &request.client_id,
                "the request states no purpose, and no single registered purpose covers it",
                now,
            )?;
            return Err(Error::MissingPurpose);
        };
        let request = match purpose_source {
            PurposeSource::Request => request,
            PurposeSource::Registration => extension.clone().apply(request)?,
        };
        // Who approves follows the registered basis, not the stated one: a request stating a
        // weaker basis than its registration is refused before anything is matched or shown.
        if let Err(error) = policy::check_legal_basis(registration, &request, &extension) {
            self.log_refusal(&request.client_id, &error.to_string(), now)?;
            return Err(error);
        }
        let findings: Vec<OverAsking> = registration.over_asking(&request);
        let registered = registration.purpose(&extension.purpose.code);

        // Match the query against one copy per batch (an unused one where possible), among
        // the copies of the types asked for only: one sealed index record per type is read.
        let copies = self.copies_of(Some(&asked_types(&request)))?;
        // Registration before transfer: a transfer dossier goes only to the school that
        // enrolled the pupil (see `policy::check_transfer_enrolment` for the matching).
        if policy::asks_for_transfer_dossier(&self.catalog, &request)
            && let Err(error) = policy::check_transfer_enrolment(
                &self.catalog,
                verifiers.trust_list.at(now)?,
                &registration.did,
                // Only the enrolment copies (none at all if the catalog has no enrolment type).
                &self.copies_of(Some(&policy::enrolment_vct(&self.catalog).iter().map(String::as_str).collect()))?,
                now,
            )
        {
            self.log_refusal(&request.client_id, &error.to_string(), now)?;
            return Err(error);
        }
        let representatives = representatives(&copies);
        let chains: Vec<Vec<Vec<u8>>> =
            representatives.iter().map(|(copy, _)| crate::x5c::decoded(&copy.authority_key_ids)).collect();
        let wallet_credentials: Vec<WalletCredential<'_>> = representatives
            .iter()
            .zip(&chains)
            .enumerate()
            .map(|(handle, ((copy, _), chain))| {
                WalletCredential::new(handle, &copy.vct, &copy.claims).with_authority_key_ids(chain)
            })
            .collect();
        let matched: DcqlMatch = request.dcql_query.match_credentials(&wallet_credentials)?;

        let mut items = Vec::new();
        let mut candidates: BTreeMap<String, Vec<Planned>> = BTreeMap::new();
        for query in &request.dcql_query.credentials {
            let vct = query.vct_values().first().cloned().unwrap_or_default();
            let (name_nl, name_en) = self.type_name(&vct);
            let basis = extension.basis_for(&query.id);
            let found = matched.candidates(&query.id);
            let paths: Vec<ClaimPath> = match found.first() {
                Some(first) => first.disclose.clone(),
                None => query.claims.iter().flatten().map(|c| c.path.clone()).collect(),
            };
            let claims = paths
                .iter()
                .map(|path| prompt_claim(&self.catalog, &vct, path, registered.map(|p| p.allows(&vct, path))))
                .collect();
            let mut listed = Vec::new();
            for candidate in found {
                let Some((copy, unused)) = representatives.get(candidate.handle) else { continue };
                listed.push(Candidate {
                    batch: copy.batch.clone(),
                    issuer: copy.issuer.clone(),
                    received_at: copy.received_at,
                    unused_copies: *unused,
                });
                candidates.entry(query.id.clone()).or_default().push(Planned {
                    query_id: query.id.clone(),
                    copy_id: copy.id.clone(),
                    disclose: candidate.disclose.clone(),
                    vct: copy.vct.clone(),
                });
            }
            // The first candidate is the one presented; with no unused copy left, the copy
            // shown is one an earlier verifier already saw (same signature, salts, key).
            let reuses_copy = listed.first().is_some_and(|c| c.unused_copies == 0);
            items.push(PromptItem {
                query_id: query.id.clone(),
                vct,
                name_nl,
                name_en,
                legal_basis: basis,
                claims,
                candidates: listed,
                reuses_copy,
                unchecked_authorities: matched
                    .queries
                    .iter()
                    .find(|q| q.query_id == query.id)
                    .map(|q| q.unevaluated_authorities.clone())
                    .unwrap_or_default(),
            });
        }
        let any_consent = items.iter().any(|i| i.legal_basis == LegalBasis::Consent);
        let age_band = self.owner.age_band(now);
        let who_decides = match (any_consent, age_band.needs_guardian()) {
            (true, true) => WhoDecides::ChildAndParent,
            (true, false) => WhoDecides::Holder,
            (false, _) => WhoDecides::HolderNoConsentNeeded,
        };
        let transaction_data = request
            .decoded_transaction_data()?
            .iter()
            .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
            .collect();
        let pending = Pending {
            id: random_id(),
            request_object,
            request: request.clone(),
            dc_api_origin,
            verifier_name: registration.name.clone(),
            received_at: now,
            candidates,
            who_decides,
            stage: Stage::Prompted,
        };
        let prompt = ConsentPrompt {
            request_id: pending.id.clone(),
            verifier_client_id: request.client_id.clone(),
            verifier_did: registration.did.to_string(),
            verifier_name: registration.name.clone(),
            purpose: extension.purpose.clone(),
            retention_days: extension.retention_days,
            purpose_source,
            items,
            over_asking: findings.iter().map(ToString::to_string).collect(),
            transaction_data,
            who_decides,
            age_band,
            answerable: matched.is_satisfiable(),
        };
        let asked: Vec<String> = prompt
            .items
            .iter()
            .flat_map(|item| item.claims.iter().map(move |c| format!("{}:{}", item.vct, c.path)))
            .collect();
        // A prompt shown but not answered promises nothing: lost in a power cut, the request is
        // simply unknown and the verifier asks again. Its decision's synced commit makes it
        // durable with the decision (see `Vault::transaction_unsynced`).
        self.vault.transaction_unsynced(|tx| {
            save_pending(tx, &pending)?;
            log::append(
                tx,
                now,
                LogEvent::RequestReceived {
                    request_id: pending.id.clone(),
                    verifier: request.client_id.clone(),
                    purpose: extension.purpose.code.clone(),
                    legal_basis: basis_name(extension.legal_basis),
                    claims: asked,
                },
            )?;
            Ok(())
        })?;
        Ok(prompt)
    }

    /// Applies the holder's decision on a prompted request.
    pub fn decide(&self, request_id: &str, decision: Decision, now: i64) -> Result<Outcome> {
        let mut pending = self.load_pending(request_id)?;
        if !matches!(pending.stage, Stage::Prompted) {
            return Err(Error::RequestAlreadyAnswered { request_id: request_id.to_owned() });
        }
        let actor = if pending.who_decides == WhoDecides::ChildAndParent { Actor::Child } else { Actor::Holder };
        let selection = match decision {
            Decision::Deny => return self.refuse(&mut pending, actor, now),
            Decision::ApproveAll => None,
            Decision::Approve(selection) => Some(selection),
        };
        let copies = self.copies_of(Some(&asked_types(&pending.request)))?;
        let mut plan = match selection {
            None => self.plan_all(&pending, &copies)?,
            Some(selection) => self.plan_selection(&pending, &selection, &copies)?,
        };
        let chosen = self.choose_copies(&copies, &mut plan)?;
        let held = self.vault.read(|tx| {
            plan.iter().map(|planned| copies::get_credential(tx, &planned.copy_id)).collect::<Result<Vec<_>>>()
        })?;
        let vp_token = self.present(&pending.request, &pending.audience()?, &plan, &held, now)?;
        let approved: Vec<String> = plan.iter().flat_map(describe).collect();

        if pending.who_decides == WhoDecides::ChildAndParent {
            let request = GuardianRequest {
                request_id: pending.id.clone(),
                request_object: pending.request_object.clone(),
                dc_api_origin: pending.dc_api_origin.clone(),
                // The one-time child link the presentations carry: the parent's wallet answers
                // with the guardianship copy naming it, so the approval binds to it.
                child_id: chosen.link.clone().unwrap_or_else(|| self.owner.did().to_string()),
                vp_token: vp_token.clone(),
                assented_at: now,
            };
            pending.stage = Stage::AwaitingGuardian { vp_token, planned: plan.clone() };
            self.vault.transaction(|tx| {
                copies::mark_used(tx, &chosen.spent)?;
                save_pending(tx, &pending)?;
                log::append(
                    tx,
                    now,
                    LogEvent::Decision {
                        request_id: pending.id.clone(),
                        by: Actor::Child,
                        approved: true,
                        claims: approved,
                    },
                )?;
                Ok(())
            })?;
            return Ok(Outcome::AwaitGuardian(request));
        }

        let response = AuthorizationResponse::new(vp_token, pending.request.state.clone());
        // Encrypted before anything is committed: a direct_post.jwt answer never leaves in
        // plaintext, and a failure here leaves the request unanswered.
        let body = response_body(&pending.request, &response)?;
        pending.stage = Stage::Answered;
        // The one synced commit of an answer: the copies spent, the decision, the disclosures
        // and the consent are durable before the response can leave the wallet.
        self.vault.transaction(|tx| {
            copies::mark_used(tx, &chosen.spent)?;
            save_pending(tx, &pending)?;
            log::append(
                tx,
                now,
                LogEvent::Decision { request_id: pending.id.clone(), by: actor, approved: true, claims: approved },
            )?;
            self.log_disclosures(tx, &pending, &plan, now)?;
            if let Some(first_consent) = self.first_consent_copy(&pending, &plan) {
                consents::record(
                    tx,
                    &pending.request,
                    &pending.verifier_name,
                    Approver::Copy { copy_id: first_consent },
                    now,
                )?;
            }
            Ok(())
        })?;
        Ok(Outcome::Send(ResponseToSend { response_uri: pending.request.response_uri.clone(), body, discloses: true }))
    }

    /// Finishes a request that waited for the parent: attaches the approval, or stops on a "no".
    pub fn complete_with_guardian(&self, answer: &GuardianAnswer, now: i64) -> Result<ResponseToSend> {
        let request_id = match answer {
            GuardianAnswer::Approved { request_id, .. } | GuardianAnswer::Denied { request_id } => request_id,
        };
        let mut pending = self.load_pending(request_id)?;
        let Stage::AwaitingGuardian { vp_token, planned } = pending.stage.clone() else {
            return Err(Error::RequestAlreadyAnswered { request_id: request_id.clone() });
        };
        let approval = match answer {
            GuardianAnswer::Denied { .. } => {
                return self.refuse(&mut pending, Actor::Parent, now).and_then(expect_send);
            }
            GuardianAnswer::Approved { approval, .. } => approval.clone(),
        };
        let response = consent::with_guardian_approval(
            AuthorizationResponse::new(vp_token, pending.request.state.clone()),
            approval,
        );
        let body = response_body(&pending.request, &response)?;
        pending.stage = Stage::Answered;
        let approved: Vec<String> = planned.iter().flat_map(describe).collect();
        self.vault.transaction(|tx| {
            save_pending(tx, &pending)?;
            log::append(
                tx,
                now,
                LogEvent::Decision {
                    request_id: pending.id.clone(),
                    by: Actor::Parent,
                    approved: true,
                    claims: approved,
                },
            )?;
            self.log_disclosures(tx, &pending, &planned, now)?;
            let child_copy = self.first_consent_copy(&pending, &planned);
            consents::record_parent_given(tx, &pending.request, &pending.verifier_name, child_copy, now)?;
            Ok(())
        })?;
        Ok(ResponseToSend { response_uri: pending.request.response_uri.clone(), body, discloses: true })
    }

    fn refuse(&self, pending: &mut Pending, actor: Actor, now: i64) -> Result<Outcome> {
        let body = refusal_body(&pending.request)?;
        pending.stage = Stage::Refused;
        self.vault.transaction(|tx| {
            save_pending(tx, pending)?;
            log::append(
                tx,
                now,
                LogEvent::Decision { request_id: pending.id.clone(), by: actor, approved: false, claims: Vec::new() },
            )?;
            Ok(())
        })?;
        Ok(Outcome::Send(ResponseToSend { response_uri: pending.request.response_uri.clone(), body, discloses: false }))
    }

    fn plan_all(&self, pending: &Pending, copies: &[IndexedCopy]) -> Result<Vec<Planned>> {
        let mut plan = Vec::new();
        for query in &pending.request.dcql_query.credentials {
            if let Some(first) = pending.candidates.get(&query.id).and_then(|c| c.first()) {
                plan.push(first.clone());
            }
        }
        self.check_plan(pending, &plan, copies)?;
        Ok(plan)
    }

    fn plan_selection(
        &self,
        pending: &Pending,
        selection: &BTreeMap<String, Vec<ClaimPath>>,
        copies: &[IndexedCopy],
    ) -> Result<Vec<Planned>> {
        let mut plan = Vec::new();
        for (query_id, paths) in selection {
            let candidate = pending.candidates.get(query_id).and_then(|c| c.first()).ok_or_else(|| {
                Error::SelectionIncomplete { reason: format!("nothing in the wallet answers {query_id:?}") }
            })?;
            if let Some(extra) = paths.iter().find(|p| !candidate.disclose.contains(p)) {
                return Err(Error::SelectionIncomplete {
                    reason: format!("{} was not asked for in {query_id:?}", dotted(extra)),
                });
            }
            plan.push(Planned {
                query_id: query_id.clone(),
                copy_id: candidate.copy_id.clone(),
                disclose: paths.clone(),
                vct: candidate.vct.clone(),
            });
        }
        self.check_plan(pending, &plan, copies)?;
        Ok(plan)
    }

    /// The plan must answer the DCQL query (required credential sets, required claims): the
    /// verifier would refuse anything less, after the data had left the wallet.
    fn check_plan(&self, pending: &Pending, plan: &[Planned], copies: &[IndexedCopy]) -> Result<()> {
        let mut restricted = Vec::new();
        for (handle, planned) in plan.iter().enumerate() {
            let copy = indexed(copies, &planned.copy_id)?;
            // What the verifier will see: the selected claims plus the always-visible ones.
            let all = copy.claims.as_object().cloned().unwrap_or_default();
            let mut claims = restrict(&all, &planned.disclose);
            for name in REGISTERED_CLAIMS {
                if let Some(value) = all.get(name)
                    && name != "sub"
                {
                    claims.insert(name.to_owned(), value.clone());
                }
            }
            restricted.push((
                handle,
                copy.vct.clone(),
                Value::Object(claims),
                crate::x5c::decoded(&copy.authority_key_ids),
            ));
        }
        let wallet_credentials: Vec<WalletCredential<'_>> = restricted
            .iter()
            .map(|(handle, vct, claims, chain)| {
                WalletCredential::new(*handle, vct, claims).with_authority_key_ids(chain)
            })
            .collect();
        let matched = pending.request.dcql_query.match_credentials(&wallet_credentials)?;
        if !matched.is_satisfiable() {
            return Err(Error::SelectionIncomplete {
                reason: if plan.is_empty() {
                    "the wallet holds nothing that answers this request".into()
                } else {
                    "the selection leaves out something the request requires; deny instead".into()
                },
            });
        }
        Ok(())
    }

    /// Builds one presentation per planned query, bound to the verifier's nonce and `audience`
    /// (its client id, or `origin:<origin>` over the Digital Credentials API).
    fn present(
        &self,
        request: &AuthorizationRequest,
        audience: &str,
        plan: &[Planned],
        held: &[StoredCredential],
        now: i64,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let transaction_data: Vec<(String, TransactionData)> =
            request.transaction_data.iter().cloned().zip(request.decoded_transaction_data()?).collect();
        let mut vp_token = BTreeMap::new();
        for (planned, copy) in plan.iter().zip(held) {
            let key = self.holder_signer(copy)?;
            let input = KeyBindingInput { nonce: request.nonce.clone(), audience: audience.to_owned(), issued_at: now };
            let hashes: Vec<Value> = transaction_data
                .iter()
                .filter(|(_, data)| data.credential_ids.contains(&planned.query_id))
                .map(|(encoded, _)| Value::String(transaction_data_hash(encoded)))
                .collect();
            let mut extra = Map::new();
            if !hashes.is_empty() {
                extra.insert("transaction_data_hashes".into(), Value::Array(hashes));
                extra.insert("transaction_data_hashes_alg".into(), Value::String("sha-256".into()));
            }
            let presentation = HolderSdJwt::parse(&copy.sd_jwt)?.present_with_claims(
                &planned.disclose,
                Some((&*key, &input)),
                &extra,
            )?;
            vp_token.insert(planned.query_id.clone(), vec![presentation]);
        }
        Ok(vp_token)
    }

    /// Chooses the copies the plan presents (see [`select_copies`]), from `copies` (those of
    /// the types asked for) and the index's records of the child links their batches carry.
    fn choose_copies(&self, copies: &[IndexedCopy], plan: &mut [Planned]) -> Result<Chosen> {
        let batches: HashSet<&str> =
            plan.iter().filter_map(|p| copies.iter().find(|c| c.id == p.copy_id)).map(|c| c.batch.as_str()).collect();
        let links: BTreeSet<&str> =
            copies.iter().filter(|c| batches.contains(c.batch.as_str())).filter_map(IndexedCopy::link).collect();
        let linked = copies::read_current(&self.vault, |tx| copies::carrying(tx, links.iter().copied()))?;
        Ok(select_copies(copies, &linked, plan))
    }

    fn log_disclosures(&self, tx: &mut VaultTx<'_>, pending: &Pending, plan: &[Planned], now: i64) -> Result<()> {
        let extension = SchooltasExtension::from_request(&pending.request)?;
        for planned in plan {
            let vct = match planned.vct.as_str() {
                "" => copies::get_credential(tx, &planned.copy_id)?.vct.clone(),
                vct => vct.to_owned(),
            };
            log::append(
                tx,
                now,
                LogEvent::Disclosure {
                    request_id: pending.id.clone(),
                    verifier: pending.request.client_id.clone(),
                    purpose: extension.as_ref().map(|e| e.purpose.code.clone()).unwrap_or_default(),
                    vct,
                    claims: planned.disclose.iter().map(dotted).collect(),
                },
            )?;
        }
        Ok(())
    }

    /// The copy whose key bound the first consent-based presentation: the key of a consent a
    /// young person (16+) gave alone, and the child's key in the evidence of one a parent
    /// approved.
    fn first_consent_copy(&self, pending: &Pending, plan: &[Planned]) -> Option<String> {
        let extension = SchooltasExtension::from_request(&pending.request).ok().flatten()?;
        plan.iter().find(|p| extension.basis_for(&p.query_id) == LegalBasis::Consent).map(|p| p.copy_id.clone())
    }

    fn load_pending(&self, request_id: &str) -> Result<Pending> {
        let bytes = self
            .vault
            .get(PENDING_KIND, request_id)?
            .ok_or_else(|| Error::UnknownRequest { request_id: request_id.to_owned() })?;
        serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("request record {request_id}") })
    }

    fn log_refusal(&self, verifier: &str, reason: &str, now: i64) -> Result<()> {
        self.vault.transaction(|tx| {
            log::append(
                tx,
                now,
                LogEvent::RequestRefused { verifier: verifier.to_owned(), reason: reason.to_owned() },
            )?;
            Ok(())
        })
    }

    /// Requests waiting for the holder's decision or a parent's answer: (request id, verifier).
    pub fn pending_requests(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (id, bytes) in self.vault.list(PENDING_KIND)? {
            let pending: Pending = serde_json::from_slice(&bytes)
                .map_err(|_| Error::Corrupted { what: format!("request record {id}") })?;
            if matches!(pending.stage, Stage::Prompted | Stage::AwaitingGuardian { .. }) {
                out.push((pending.id, pending.request.client_id));
            }
        }
        Ok(out)
    }
}

/// Verifies a request object (by value or fetched by reference) with the verifier's DID key.
///
/// Trust before network: the (unverified) verifier must be registered in the trust list before
/// anything is fetched for it — neither its `request_uri` nor its DID document (did:web).
pub(crate) fn read_request(uri: &str, verifiers: &Verifiers<'_>, now: i64) -> Result<(String, AuthorizationRequest)> {
    let parsed = AuthorizationRequestUri::parse(uri)?;
    let jwt = match &parsed {
        AuthorizationRequestUri::ByValue { request_jwt, .. } => request_jwt.clone(),
        AuthorizationRequestUri::ByReference { request_uri, client_id } => {
            policy::check_registered_client(verifiers.trust_list.at(now)?, client_id)?;
            match verifiers.fetch_request_object {
                Some(fetch) => fetch(request_uri)?,
                None => {
                    return Err(Error::InvalidInput {
                        reason: "this request is passed by reference and the wallet has no way to fetch it".into(),
                    });
                }
            }
        }
    };
    let request = verify_request_object(&jwt, verifiers, now)?;
    parsed.check_client_id(&request)?;
    Ok((jwt, request))
}

/// Verifies a signed request object by its `client_id`: for a DID, with the key its `kid`
/// names in the verifier's DID — once that DID (which must be the one in `client_id`) is
/// registered in the trust list, so that an unregistered did:web verifier makes the wallet
/// fetch nothing; for an X.509 client id (`x509_hash`, `x509_san_dns`, HAIP 1.0), with the
/// leaf key of its `x5c` chain, once the client id is registered and the chain leads to the
/// trust list's X.509 anchors (and, for `x509_san_dns`, names the host).
pub(crate) fn verify_request_object(jwt: &str, verifiers: &Verifiers<'_>, now: i64) -> Result<AuthorizationRequest> {
    let object = UnverifiedRequestObject::parse(jwt)?;
    // The wallet's own refusal from `key_for`, returned instead of the placeholder it stops
    // the verification with.
    let mut refusal: Option<Error> = None;
    let verified = object.verify_with_client(
        |header, client| {
            client_key(header, client, verifiers, now).map_err(|error| {
                refusal = Some(error);
                Oid4vpError::InvalidClientId { reason: "the wallet does not trust this client" }.into()
            })
        },
        now,
        CLOCK_SKEW,
    );
    let request = match (verified, refusal) {
        (_, Some(error)) => return Err(error),
        (result, None) => result?,
    };
    // The Schooltas member is read here, before anything uses the request: a malformed one is
    // refused as the request itself would be.
    SchooltasExtension::from_request(&request)?;
    Ok(request)
}

/// The key a signed request's client signs with, once the client is registered in the trust
/// list: for a DID, its `kid` resolved (trust before network); for an X.509 client id, the
/// leaf key of an `x5c` chain leading to the trust list's anchors.
fn client_key(
    header: &schooltas_did::jws::Header,
    client: &ClientId,
    verifiers: &Verifiers<'_>,
    now: i64,
) -> Result<schooltas_did::VerifyingKey> {
    match client {
        ClientId::Did(_) => {
            policy::check_registered_kid(verifiers.trust_list.at(now)?, header.kid())?;
            let kid = schooltas_did::DidUrl::parse(header.kid().unwrap_or_default())?;
            let alg = header.alg().ok_or(schooltas_did::Error::UnsupportedAlgorithm { alg: "none".into() })?;
            Ok(verifiers.resolver.verifying_key(&kid, schooltas_did::VerificationRelationship::Authentication, alg)?)
        }
        ClientId::X509Hash(_) | ClientId::X509SanDns(_) => {
            crate::chains::verifier_key(header, client, verifiers.trust_list, now)
        }
    }
}

/// Reads a request passed over the Digital Credentials API by `origin` (OpenID4VP 1.0
/// Appendix A): see [`Wallet::handle_dc_api_request`]. Trust first: an unsigned request's
/// origin must be registered before the request is read; a signed one's client before its key
/// is resolved.
pub(crate) fn read_dc_api_request(
    json: &str,
    origin: &Origin,
    verifiers: &Verifiers<'_>,
    now: i64,
) -> Result<AuthorizationRequest> {
    let dc_api = DcApiRequest::from_json(json)?;
    let request = match dc_api.protocol() {
        DcApiProtocol::Unsigned => {
            let audience = origin.audience();
            if verifiers.trust_list.at(now)?.verifier_for_client(&audience).is_none() {
                return Err(Error::VerifierNotRegistered { did: audience });
            }
            dc_api.read_unsigned(origin)?
        }
        protocol => {
            // The wallet's own refusal for a single signature, as for request objects; with
            // several, an untrusted one is skipped and the next tried.
            let mut refusal: Option<Error> = None;
            let verified = dc_api.verify_signed(
                origin,
                |header, client| {
                    client_key(header, client, verifiers, now).map_err(|error| {
                        refusal = Some(error);
                        Oid4vpError::InvalidClientId { reason: "the wallet does not trust this client" }.into()
                    })
                },
                now,
                CLOCK_SKEW,
            );
            match (verified, refusal) {
                (Ok(request), _) => request,
                (Err(_), Some(error)) if protocol == DcApiProtocol::Signed => return Err(error),
                (Err(error), _) => return Err(error.into()),
            }
        }
    };
    // The Schooltas member is read here, before anything uses the request.
    SchooltasExtension::from_request(&request)?;
    Ok(request)
}

fn expect_send(outcome: Outcome) -> Result<ResponseToSend> {
    match outcome {
        Outcome::Send(response) => Ok(response),
        Outcome::AwaitGuardian(_) => Err(Error::Storage { reason: "a refusal cannot wait for a guardian".into() }),
    }
}

fn describe(planned: &Planned) -> Vec<String> {
    planned.disclose.iter().map(|p| format!("{}:{}", planned.query_id, dotted(p))).collect()
}

/// One copy per batch — an unused one where there is one — with the count of unused copies.
fn representatives(copies: &[IndexedCopy]) -> Vec<(&IndexedCopy, usize)> {
    let mut out: Vec<(&IndexedCopy, usize)> = Vec::new();
    let mut by_batch: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for copy in copies {
        match by_batch.get(copy.batch.as_str()).and_then(|at| out.get_mut(*at)) {
            Some((chosen, unused)) => {
                *unused += usize::from(!copy.used);
                if chosen.used && !copy.used {
                    *chosen = copy;
                }
            }
            None => {
                by_batch.insert(copy.batch.as_str(), out.len());
                out.push((copy, usize::from(!copy.used)));
            }
        }
    }
    out
}

pub(crate) fn prompt_claim(catalog: &Catalog, vct: &str, path: &ClaimPath, allowed: Option<bool>) -> PromptClaim {
    let credential_type = Vct::new(vct.to_owned()).ok().and_then(|v| catalog.by_vct(&v));
    let is_sub = path == &ClaimPath::claim("sub");
    let label = |language| {
        if is_sub {
            return match language {
                Language::Nl => {
                    "Eenmalige leerlingcode (koppelt de toestemming van je ouder; elke keer een andere)".to_owned()
                }
                _ => "One-time pupil code (links your parent's approval; different every time)".to_owned(),
            };
        }
        credential_type.and_then(|t| t.label(path, language)).map_or_else(|| dotted(path), str::to_owned)
    };
    PromptClaim {
        path: dotted(path),
        label_nl: label(Language::Nl),
        label_en: label(Language::En),
        special_category: credential_type.is_some_and(|t| t.is_special_category(path)),
        over_asked: allowed == Some(false),
    }
}

/// The copies a plan presents, and what presenting them spends.
#[derive(Debug, Default)]
struct Chosen {
    /// The one-time child link the presentations share, if the copies carry one.
    link: Option<String>,
    /// Every copy to mark used: the presented ones and every other copy carrying their links.
    spent: Vec<String>,
}

/// The order in which a copy is preferred: unused before used, then an unconsumed link before
/// a consumed one, then the lowest position in its batch (the parent's guardianship copies
/// follow the same order).
fn preference(copy: &IndexedCopy, consumed: &HashSet<&str>) -> (bool, bool, u32) {
    (copy.used, copy.link().is_some_and(|link| consumed.contains(link)), copy.batch_index)
}

/// The copies of one batch.
fn members<'a>(copies: &'a [IndexedCopy], batch: &'a str) -> impl Iterator<Item = &'a IndexedCopy> + 'a {
    copies.iter().filter(move |c| c.batch == batch)
}

/// For each planned batch, the copy to present (issue 12 item 7):
///
/// - When every planned batch carries child links and they share some link, one shared link
///   is chosen — unconsumed in the whole wallet if possible, then the lowest copy index — so
///   the presentations of one response are about one child link (the verifier's one-child
///   rule and the guardian approval bind to it). Only when every shared link is consumed is
///   one reused: the prompt's `unused_copies` is then 0 and says so.
/// - Otherwise each batch presents its own preferred copy ([`preference`]).
///
/// Presenting consumes the chosen links as a whole: every copy in the wallet carrying one of
/// them — of any type — is marked used, so no other credential with that link goes to
/// another verifier.
///
/// `copies` holds at least every copy of the planned batches; `linked`, for each child link
/// those copies carry, every copy in the wallet carrying it (the index's link records).
fn select_copies(copies: &[IndexedCopy], linked: &HashMap<String, LinkedCopies>, plan: &mut [Planned]) -> Chosen {
    let consumed: HashSet<&str> = copies
        .iter()
        .filter(|c| c.used)
        .filter_map(IndexedCopy::link)
        .chain(linked.iter().filter(|(_, carriers)| carriers.values().any(|used| *used)).map(|(link, _)| link.as_str()))
        .collect();
    let batch_of = |copy_id: &str| copies.iter().find(|c| c.id == copy_id).map(|c| c.batch.as_str());
    let batches: Vec<Option<&str>> = plan.iter().map(|p| batch_of(&p.copy_id)).collect();
    let all_linked = !plan.is_empty()
        && batches.iter().all(|b| b.is_some_and(|batch| members(copies, batch).all(|c| c.link().is_some())));
    let mut shared: Option<&str> = None;
    if all_linked {
        let first = batches.first().copied().flatten().unwrap_or_default();
        let mut options: Vec<(&IndexedCopy, (bool, bool, u32))> = Vec::new();
        for copy in members(copies, first) {
            let Some(link) = copy.link() else { continue };
            // The link must be in every planned batch; rank it by its worst copy there.
            let mut worst = (false, consumed.contains(link), copy.batch_index);
            let mut everywhere = true;
            for batch in batches.iter().flatten() {
                match members(copies, batch).find(|c| c.link() == Some(link)) {
                    Some(other) => worst = worst.max((other.used, consumed.contains(link), other.batch_index)),
                    None => everywhere = false,
                }
            }
            if everywhere {
                options.push((copy, worst));
            }
        }
        shared = options.iter().min_by_key(|(_, rank)| *rank).and_then(|(copy, _)| copy.link());
    }
    let mut chosen = Chosen::default();
    for (planned, batch) in plan.iter_mut().zip(&batches) {
        let Some(batch) = batch else { continue };
        let pick = match shared {
            Some(link) => members(copies, batch).find(|c| c.link() == Some(link)),
            None => members(copies, batch).min_by_key(|c| preference(c, &consumed)),
        };
        if let Some(copy) = pick {
            planned.copy_id = copy.id.clone();
            if chosen.link.is_none() {
                chosen.link = copy.link().map(str::to_owned);
            }
        }
    }
    let presented: HashSet<&str> = plan.iter().map(|p| p.copy_id.as_str()).collect();
    let links: HashSet<&str> =
        copies.iter().filter(|c| presented.contains(c.id.as_str())).filter_map(IndexedCopy::link).collect();
    let spent: BTreeSet<&str> = copies
        .iter()
        .filter(|c| presented.contains(c.id.as_str()) || c.link().is_some_and(|link| links.contains(link)))
        .map(|c| c.id.as_str())
        .chain(
            links.iter().filter_map(|link| linked.get(*link)).flat_map(|carriers| carriers.keys().map(String::as_str)),
        )
        .collect();
    chosen.spent = spent.into_iter().map(str::to_owned).collect();
    chosen
}

fn save_pending(tx: &mut VaultTx<'_>, pending: &Pending) -> Result<()> {
    let bytes = Zeroizing::new(serde_json::to_vec(pending).map_err(|e| Error::Storage { reason: e.to_string() })?);
    tx.put(PENDING_KIND, &pending.id, &bytes)
}

pub(crate) fn basis_name(basis: LegalBasis) -> String {
    serde_json::to_value(basis).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The credential types a request asks for: DCQL requires `vct_values` on every SD-JWT VC
/// query (OpenID4VP 1.0 B.3.5), so no other copy can match.
fn asked_types(request: &AuthorizationRequest) -> BTreeSet<&str> {
    request.dcql_query.credentials.iter().flat_map(|query| query.vct_values()).map(String::as_str).collect()
}

/// The indexed copy `id` among `copies`.
fn indexed<'c>(copies: &'c [IndexedCopy], id: &str) -> Result<&'c IndexedCopy> {
    copies
        .iter()
        .find(|copy| copy.id == id)
        .ok_or_else(|| Error::InvalidInput { reason: format!("credential copy {id} is no longer in the wallet") })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod select_tests {
    use super::*;

    fn copy(id: &str, batch: &str, index: u32, link: Option<&str>, used: bool) -> IndexedCopy {
        let claims = match link {
            Some(link) => serde_json::json!({"sub": link}),
            None => serde_json::json!({}),
        };
        IndexedCopy {
            id: id.into(),
            batch: batch.into(),
            vct: "v".into(),
            issuer: "i".into(),
            received_at: 0,
            used,
            batch_index: index,
            claims,
            authority_key_ids: Vec::new(),
        }
    }

    fn plan(copy_ids: &[&str]) -> Vec<Planned> {
        copy_ids
            .iter()
            .map(|id| Planned {
                query_id: format!("q-{id}"),
                copy_id: (*id).into(),
                disclose: Vec::new(),
                vct: "v".into(),
            })
            .collect()
    }

    /// The index's link records for `copies`.
    fn linked(copies: &[IndexedCopy]) -> HashMap<String, LinkedCopies> {
        let mut out: HashMap<String, LinkedCopies> = HashMap::new();
        for copy in copies {
            if let Some(link) = copy.link() {
                out.entry(link.to_owned()).or_default().insert(copy.id.clone(), copy.used);
            }
        }
        out
    }

    #[test]
    fn a_link_spent_by_one_type_is_skipped_for_the_others_and_spent_everywhere() {
        // Enrolment copies e0..e2 and support copies s0..s2 carry links L0..L2; guardianship-like
        // copies of a third batch too. e0 was presented: L0 is consumed.
        let copies = vec![
            copy("e0", "E", 0, Some("L0"), true),
            copy("e1", "E", 1, Some("L1"), false),
            copy("e2", "E", 2, Some("L2"), false),
            copy("s0", "S", 0, Some("L0"), false),
            copy("s1", "S", 1, Some("L1"), false),
            copy("s2", "S", 2, Some("L2"), false),
        ];
        let mut planned = plan(&["s0"]);
        let chosen = select_copies(&copies, &linked(&copies), &mut planned);
        assert_eq!(planned[0].copy_id, "s1", "s0 carries the spent link L0");
        assert_eq!(chosen.link.as_deref(), Some("L1"));
        let mut spent = chosen.spent.clone();
        spent.sort();
        assert_eq!(spent, ["e1", "s1"], "every copy carrying L1 is spent");

        // Two queries: one shared link, the lowest unconsumed one.
        let mut both = plan(&["e2", "s0"]);
        let chosen = select_copies(&copies, &linked(&copies), &mut both);
        assert_eq!((both[0].copy_id.as_str(), both[1].copy_id.as_str()), ("e1", "s1"));
        assert_eq!(chosen.link.as_deref(), Some("L1"));
    }

    #[test]
    fn copies_of_other_types_known_only_from_the_link_records_are_spent_and_count_as_consumed() {
        // Only the asked type's copies are loaded; the support credential's copies are known
        // from the index's link records: s0 (link L0) was presented, s1 (link L1) was not.
        let copies = vec![copy("e0", "E", 0, Some("L0"), false), copy("e1", "E", 1, Some("L1"), false)];
        let mut linked = linked(&copies);
        linked.get_mut("L0").unwrap().insert("s0".into(), true);
        linked.get_mut("L1").unwrap().insert("s1".into(), false);
        let mut planned = plan(&["e0"]);
        let chosen = select_copies(&copies, &linked, &mut planned);
        assert_eq!(planned[0].copy_id, "e1", "L0 was consumed by the support copy s0");
        assert_eq!(chosen.spent, ["e1", "s1"], "the support copy carrying L1 is spent too");
    }

    #[test]
    fn every_shared_link_spent_reuses_one_and_batches_without_links_take_their_best_copy() {
        let copies = vec![
            copy("e0", "E", 0, Some("L0"), true),
            copy("e1", "E", 1, Some("L1"), true),
            copy("s0", "S", 0, Some("L0"), true),
            copy("s1", "S", 1, Some("L1"), true),
            copy("a0", "A", 0, None, true),
            copy("a1", "A", 1, None, false),
        ];
        let mut both = plan(&["e1", "s0"]);
        let chosen = select_copies(&copies, &linked(&copies), &mut both);
        assert_eq!(both[0].copy_id[1..], both[1].copy_id[1..], "still one link for the response");
        assert!(chosen.link.is_some());
        // A batch without links next to linked ones: no shared link; each batch its best copy.
        let mut mixed = plan(&["a0", "e0"]);
        let chosen = select_copies(&copies, &linked(&copies), &mut mixed);
        assert_eq!(mixed[0].copy_id, "a1", "the unused copy of the unlinked batch");
        assert!(chosen.spent.contains(&"a1".to_owned()));
    }
}
