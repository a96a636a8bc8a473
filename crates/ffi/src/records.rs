//! What the app shows and gets back, as plain records and enums: the consent prompt with every
//! field of the wallet's [`schooltas_wallet::ConsentPrompt`], the parent's
//! [`schooltas_wallet::GuardianPrompt`], consents, log entries, credentials.

use schooltas_school::LegalBasis as LibLegalBasis;
use schooltas_school::extension::PurposeSource as LibPurposeSource;
use schooltas_wallet as w;

/// Who must say yes before anything leaves the wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum WhoDecides {
    /// The holder alone (16 or over, or a parent for their own data).
    Holder,
    /// The child assents and a parent approves (under 16, consent-based): a guardian decides.
    ChildAndParent,
    /// No consent is needed (legal obligation, public task, contract), but the holder still
    /// approves the disclosure and it is logged.
    HolderNoConsentNeeded,
}

impl From<w::WhoDecides> for WhoDecides {
    fn from(who: w::WhoDecides) -> Self {
        match who {
            w::WhoDecides::Holder => WhoDecides::Holder,
            w::WhoDecides::ChildAndParent => WhoDecides::ChildAndParent,
            w::WhoDecides::HolderNoConsentNeeded => WhoDecides::HolderNoConsentNeeded,
        }
    }
}

/// The legal basis of processing (GDPR art. 6(1)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum LegalBasis {
    /// Art. 6(1)(a): consent.
    Consent,
    /// Art. 6(1)(c): a legal obligation.
    LegalObligation,
    /// Art. 6(1)(e): a task in the public interest.
    PublicTask,
    /// Art. 6(1)(b): a contract.
    Contract,
}

impl From<LibLegalBasis> for LegalBasis {
    fn from(basis: LibLegalBasis) -> Self {
        match basis {
            LibLegalBasis::Consent => LegalBasis::Consent,
            LibLegalBasis::LegalObligation => LegalBasis::LegalObligation,
            LibLegalBasis::PublicTask => LegalBasis::PublicTask,
            LibLegalBasis::Contract => LegalBasis::Contract,
        }
    }
}

/// Where the purpose, the legal bases and the retention come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum PurposeSource {
    /// The request itself (checked against the registration).
    Request,
    /// The verifier's registration (a standard request that states none).
    Registration,
}

impl From<LibPurposeSource> for PurposeSource {
    fn from(source: LibPurposeSource) -> Self {
        match source {
            LibPurposeSource::Request => PurposeSource::Request,
            LibPurposeSource::Registration => PurposeSource::Registration,
        }
    }
}

/// The age bands the consent rule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AgeBand {
    /// Under 12.
    Under12,
    /// 12 to 15.
    From12To15,
    /// 16 or over (or a parent's own wallet).
    Adult,
}

impl From<w::AgeBand> for AgeBand {
    fn from(band: w::AgeBand) -> Self {
        match band {
            w::AgeBand::Under12 => AgeBand::Under12,
            w::AgeBand::From12To15 => AgeBand::From12To15,
            w::AgeBand::Adult => AgeBand::Adult,
        }
    }
}

/// Why a verifier asks: its registered code and the text to show.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Purpose {
    /// The purpose code of the verifier's registration (`newsletter`).
    pub code: String,
    /// The text in Dutch.
    pub text_nl: String,
    /// The text in English.
    pub text_en: String,
}

impl From<&schooltas_school::Purpose> for Purpose {
    fn from(purpose: &schooltas_school::Purpose) -> Self {
        Purpose { code: purpose.code.clone(), text_nl: purpose.text.nl.clone(), text_en: purpose.text.en.clone() }
    }
}

/// One claim in a prompt.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PromptClaim {
    /// The claim path, dotted (`given_name`, `address.locality`).
    pub path: String,
    /// The label in Dutch.
    pub label_nl: String,
    /// The label in English.
    pub label_en: String,
    /// Health or other special-category data (GDPR art. 9): show it apart.
    pub special_category: bool,
    /// Outside what the verifier's registration allows for this purpose.
    pub over_asked: bool,
}

impl From<&w::PromptClaim> for PromptClaim {
    fn from(claim: &w::PromptClaim) -> Self {
        PromptClaim {
            path: claim.path.clone(),
            label_nl: claim.label_nl.clone(),
            label_en: claim.label_en.clone(),
            special_category: claim.special_category,
            over_asked: claim.over_asked,
        }
    }
}

/// A credential in the wallet that can answer a query.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Candidate {
    /// The batch (credential) id.
    pub batch: String,
    /// The issuer.
    pub issuer: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
    /// Copies not yet presented (0: presenting it again makes two presentations linkable).
    pub unused_copies: u64,
}

/// One credential asked for.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct PromptItem {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The credential type.
    pub vct: String,
    /// Its name in Dutch.
    pub name_nl: String,
    /// Its name in English.
    pub name_en: String,
    /// The legal basis for this credential.
    pub legal_basis: LegalBasis,
    /// The claims that would be disclosed.
    pub claims: Vec<PromptClaim>,
    /// Credentials that can answer (empty: this query cannot be answered).
    pub candidates: Vec<Candidate>,
    /// Every copy was presented before: this answer can be linked to an earlier one.
    pub reuses_copy: bool,
    /// Trusted-authority types the verifier limits this credential by that the wallet cannot check.
    pub unchecked_authorities: Vec<String>,
}

impl From<&w::PromptItem> for PromptItem {
    fn from(item: &w::PromptItem) -> Self {
        PromptItem {
            query_id: item.query_id.clone(),
            vct: item.vct.clone(),
            name_nl: item.name_nl.clone(),
            name_en: item.name_en.clone(),
            legal_basis: item.legal_basis.into(),
            claims: item.claims.iter().map(PromptClaim::from).collect(),
            candidates: item
                .candidates
                .iter()
                .map(|c| Candidate {
                    batch: c.batch.clone(),
                    issuer: c.issuer.clone(),
                    received_at: c.received_at,
                    unused_copies: c.unused_copies as u64,
                })
                .collect(),
            reuses_copy: item.reuses_copy,
            unchecked_authorities: item.unchecked_authorities.clone(),
        }
    }
}

/// What the app shows the person who decides on a request.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ConsentPrompt {
    /// The wallet's id for this request (pass it to `decide`).
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
    /// Where the purpose, legal bases and retention come from.
    pub purpose_source: PurposeSource,
    /// What it asks for.
    pub items: Vec<PromptItem>,
    /// Each way the request exceeds the verifier's registration, in plain English.
    pub over_asking: Vec<String>,
    /// The transaction data the verifier attached, each as JSON text.
    pub transaction_data: Vec<String>,
    /// Who decides.
    pub who_decides: WhoDecides,
    /// The holder's age band today.
    pub age_band: AgeBand,
    /// Whether the wallet holds what is needed to answer.
    pub answerable: bool,
    /// Whether any claim asked for is special-category data.
    pub has_special_category: bool,
    /// The prompt as text in Dutch (what the wallet's own renderer says).
    pub text_nl: String,
    /// The prompt as text in English.
    pub text_en: String,
}

impl From<&w::ConsentPrompt> for ConsentPrompt {
    fn from(prompt: &w::ConsentPrompt) -> Self {
        use schooltas_school::catalog::Language;
        ConsentPrompt {
            request_id: prompt.request_id.clone(),
            verifier_client_id: prompt.verifier_client_id.clone(),
            verifier_did: prompt.verifier_did.clone(),
            verifier_name: prompt.verifier_name.clone(),
            purpose: (&prompt.purpose).into(),
            retention_days: prompt.retention_days,
            purpose_source: prompt.purpose_source.into(),
            items: prompt.items.iter().map(PromptItem::from).collect(),
            over_asking: prompt.over_asking.clone(),
            transaction_data: prompt.transaction_data.iter().map(ToString::to_string).collect(),
            who_decides: prompt.who_decides.into(),
            age_band: prompt.age_band.into(),
            answerable: prompt.answerable,
            has_special_category: prompt.has_special_category(),
            text_nl: prompt.render(Language::Nl),
            text_en: prompt.render(Language::En),
        }
    }
}

/// One of the child's presentations, as the parent sees it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
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

/// What the parent's wallet shows before the parent approves a child's request.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
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
    /// Where the purpose, legal bases and retention come from.
    pub purpose_source: PurposeSource,
    /// Per credential: what the child's presentation discloses.
    pub items: Vec<GuardianPromptItem>,
    /// Each way the request exceeds the verifier's registration.
    pub over_asking: Vec<String>,
    /// The transaction data, each as JSON text.
    pub transaction_data: Vec<String>,
    /// When the child said yes (Unix seconds).
    pub child_assented_at: i64,
    /// Every guardianship copy was presented before: this approval can be linked to an earlier one.
    pub reuses_guardianship_copy: bool,
}

impl From<&w::GuardianPrompt> for GuardianPrompt {
    fn from(prompt: &w::GuardianPrompt) -> Self {
        GuardianPrompt {
            child_id: prompt.child_id.clone(),
            verifier_name: prompt.verifier_name.clone(),
            verifier_client_id: prompt.verifier_client_id.clone(),
            purpose: (&prompt.purpose).into(),
            retention_days: prompt.retention_days,
            purpose_source: prompt.purpose_source.into(),
            items: prompt
                .items
                .iter()
                .map(|item| GuardianPromptItem {
                    query_id: item.query_id.clone(),
                    vct: item.vct.clone(),
                    legal_basis: item.legal_basis.into(),
                    disclosed: item.disclosed.iter().map(PromptClaim::from).collect(),
                })
                .collect(),
            over_asking: prompt.over_asking.clone(),
            transaction_data: prompt.transaction_data.iter().map(ToString::to_string).collect(),
            child_assented_at: prompt.child_assented_at,
            reuses_guardianship_copy: prompt.reuses_guardianship_copy,
        }
    }
}

/// What the person decided.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Decision {
    /// Share everything asked for.
    ApproveAll,
    /// Share only these queries, each with only these claims (a subset of the prompt's).
    Approve {
        /// The selection.
        selection: Vec<Selection>,
    },
    /// Share nothing.
    Deny,
}

/// The claims chosen for one credential query.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Selection {
    /// The DCQL credential query id.
    pub query_id: String,
    /// The claim paths, dotted as in the prompt (`given_name`, `levels.0`, `advice.*`).
    pub paths: Vec<String>,
}

/// A consent given to a verifier.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Consent {
    /// The wallet's id for it (pass it to `withdraw`).
    pub id: String,
    /// The verifier's client id.
    pub verifier: String,
    /// Its registered name.
    pub verifier_name: String,
    /// For what.
    pub purpose: Purpose,
    /// When it was given (Unix seconds).
    pub given_at: i64,
    /// Whether a parent gave it (from their own wallet).
    pub given_by_parent: bool,
    /// In a parent's wallet: the one-time child link it was given for.
    pub on_behalf_of: Option<String>,
    /// When it was withdrawn, if it was.
    pub withdrawn_at: Option<i64>,
    /// When the young person (16 or over) confirmed a consent a parent gave.
    pub confirmed_at: Option<i64>,
    /// Still in force.
    pub active: bool,
}

impl From<&w::ConsentGiven> for Consent {
    fn from(consent: &w::ConsentGiven) -> Self {
        Consent {
            id: consent.id.clone(),
            verifier: consent.verifier.clone(),
            verifier_name: consent.verifier_name.clone(),
            purpose: (&consent.purpose).into(),
            given_at: consent.given_at,
            given_by_parent: matches!(consent.approver, w::Approver::Parent),
            on_behalf_of: consent.on_behalf_of.clone(),
            withdrawn_at: consent.withdrawn_at,
            confirmed_at: consent.confirmed_at,
            active: consent.is_active(),
        }
    }
}

/// One entry of the wallet's hash-chained log.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LogEntry {
    /// Position, from 1.
    pub seq: u64,
    /// When (Unix seconds).
    pub at: i64,
    /// What kind of event (`credential_received`, `request_received`, `request_refused`,
    /// `decision`, `disclosure`, `consent_confirmed`, `withdrawal`).
    pub kind: String,
    /// The event as JSON text (who, what, which claim paths — never claim values).
    pub event_json: String,
    /// This entry's hash (hex).
    pub hash: String,
}

impl From<&w::log::LogEntry> for LogEntry {
    fn from(entry: &w::log::LogEntry) -> Self {
        let event = serde_json::to_value(&entry.event).unwrap_or_default();
        LogEntry {
            seq: entry.seq,
            at: entry.at,
            kind: event.get("type").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned(),
            event_json: event.to_string(),
            hash: entry.hash.clone(),
        }
    }
}

/// A stored credential (a batch of copies).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CredentialInfo {
    /// The batch id.
    pub batch: String,
    /// The credential type.
    pub vct: String,
    /// Its name in Dutch.
    pub name_nl: String,
    /// Its name in English.
    pub name_en: String,
    /// The issuer.
    pub issuer: String,
    /// When it was received (Unix seconds).
    pub received_at: i64,
    /// Copies not yet presented.
    pub unused_copies: u64,
    /// All copies.
    pub copies: u64,
}

impl From<&w::CredentialSummary> for CredentialInfo {
    fn from(summary: &w::CredentialSummary) -> Self {
        CredentialInfo {
            batch: summary.batch.clone(),
            vct: summary.vct.clone(),
            name_nl: summary.name.0.clone(),
            name_en: summary.name.1.clone(),
            issuer: summary.issuer.clone(),
            received_at: summary.received_at,
            unused_copies: summary.unused_copies as u64,
            copies: summary.copies as u64,
        }
    }
}

/// What one offer brought, per credential configuration.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Received {
    /// The issuer's configuration id (`pupil_enrolment`).
    pub configuration: String,
    /// The credential type.
    pub vct: String,
    /// How many copies were stored.
    pub copies: u64,
}
