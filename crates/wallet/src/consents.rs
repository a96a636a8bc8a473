//! The consents a family gave, and withdrawing one: one call, one signed message, one log entry.
//!
//! At the 16th birthday the consents a parent gave are put to the young person
//! ([`Wallet::consents_to_reconfirm`]) to confirm ([`Wallet::confirm_consent`]) or withdraw
//! ([`Wallet::withdraw`], signed with the key of their own presentation that the verifier holds
//! as evidence of that consent).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use schooltas_oid4vc::oid4vp::AuthorizationRequest;
use schooltas_school::consent::ConsentWithdrawal;
use schooltas_school::{Purpose, SchooltasExtension};

use crate::copies::get_credential;
use crate::error::{Error, Result};
use crate::ids::random_id;
use crate::log::{self, LogEvent};
use crate::owner::Role;
use crate::vault::VaultTx;
use crate::wallet::Wallet;

const CONSENT_KIND: &str = "consent";

/// Whose key gave a consent (and so must sign its withdrawal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Approver {
    /// This wallet's holder, with the key of this credential copy.
    Copy {
        /// The credential copy id.
        copy_id: String,
    },
    /// A parent, from their own wallet: the parent's wallet withdraws it.
    Parent,
}

/// A consent given to a verifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGiven {
    /// The wallet's id for it.
    pub id: String,
    /// The verifier's client id.
    pub verifier: String,
    /// Its registered name.
    pub verifier_name: String,
    /// For what.
    pub purpose: Purpose,
    /// The request's nonce: with the verifier, it names the consent in a withdrawal.
    pub request_nonce: String,
    /// Where the verifier received the response (withdrawals go to the same service).
    pub response_uri: String,
    /// When it was given.
    pub given_at: i64,
    /// Whose key gave it.
    pub approver: Approver,
    /// For whom a parent gave it, in a parent's wallet: the one-time child link the approval
    /// bound to (the guardianship copy's `child_id`), not a stable identifier of the child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// When it was withdrawn, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<i64>,
    /// In a child's wallet, for a consent a parent gave: the credential copy whose key bound
    /// the child's consent presentation. The verifier keeps that presentation as evidence, so
    /// from the 16th birthday the young person can withdraw with this key
    /// ([`Wallet::withdraw`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_copy: Option<String>,
    /// When the young person (16 or over) confirmed a consent a parent gave
    /// ([`Wallet::confirm_consent`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<i64>,
}

impl ConsentGiven {
    /// Whether it is still in force as far as this wallet knows (not withdrawn).
    pub fn is_active(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// A signed withdrawal to deliver to the verifier (its consent register applies it).
#[derive(Clone, PartialEq, Eq)]
pub struct WithdrawalMessage {
    /// The verifier's client id.
    pub verifier: String,
    /// The service that received the consent.
    pub response_uri: String,
    /// The `schooltas-consent-withdrawal+jwt`.
    pub jwt: String,
}

impl std::fmt::Debug for WithdrawalMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithdrawalMessage").field("verifier", &self.verifier).finish_non_exhaustive()
    }
}

/// Records a consent inside the transaction that sends it.
pub(crate) fn record(
    tx: &mut VaultTx<'_>,
    request: &AuthorizationRequest,
    verifier_name: &str,
    approver: Approver,
    now: i64,
) -> Result<ConsentGiven> {
    record_for(tx, request, verifier_name, approver, None, now)
}

/// Records, in the child's wallet, a consent a parent approved: with the copy whose key bound
/// the child's consent presentation, so the young person can withdraw it from 16.
pub(crate) fn record_parent_given(
    tx: &mut VaultTx<'_>,
    request: &AuthorizationRequest,
    verifier_name: &str,
    child_copy: Option<String>,
    now: i64,
) -> Result<ConsentGiven> {
    let mut consent = record_for(tx, request, verifier_name, Approver::Parent, None, now)?;
    consent.child_copy = child_copy;
    put(tx, &consent)?;
    Ok(consent)
}

/// Records a consent a parent gave for a child.
pub(crate) fn record_for(
    tx: &mut VaultTx<'_>,
    request: &AuthorizationRequest,
    verifier_name: &str,
    approver: Approver,
    on_behalf_of: Option<String>,
    now: i64,
) -> Result<ConsentGiven> {
    let purpose = SchooltasExtension::from_request(request)?.map(|e| e.purpose).ok_or(Error::MissingPurpose)?;
    let consent = ConsentGiven {
        id: random_id(),
        verifier: request.client_id.clone(),
        verifier_name: verifier_name.to_owned(),
        purpose,
        request_nonce: request.nonce.clone(),
        response_uri: request.response_uri.clone(),
        given_at: now,
        approver,
        on_behalf_of,
        withdrawn_at: None,
        child_copy: None,
        confirmed_at: None,
    };
    put(tx, &consent)?;
    Ok(consent)
}

fn load(tx: &mut VaultTx<'_>, consent_id: &str) -> Result<ConsentGiven> {
    let bytes =
        tx.get(CONSENT_KIND, consent_id)?.ok_or_else(|| Error::UnknownConsent { consent_id: consent_id.to_owned() })?;
    serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("consent record {consent_id}") })
}

fn put(tx: &mut VaultTx<'_>, consent: &ConsentGiven) -> Result<()> {
    let bytes = Zeroizing::new(serde_json::to_vec(consent).map_err(|e| Error::Storage { reason: e.to_string() })?);
    tx.put(CONSENT_KIND, &consent.id, &bytes)
}

impl Wallet {
    /// The consents given from this wallet (withdrawn ones included, marked).
    pub fn consents(&self) -> Result<Vec<ConsentGiven>> {
        let mut out: Vec<ConsentGiven> = self
            .vault
            .list(CONSENT_KIND)?
            .into_iter()
            .map(|(id, bytes)| {
                serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: format!("consent record {id}") })
            })
            .collect::<Result<_>>()?;
        out.sort_by(|a, b| (a.given_at, &a.id).cmp(&(b.given_at, &b.id)));
        Ok(out)
    }

    /// The consents a parent gave for this young person that they have not confirmed or
    /// withdrawn, once they are 16 or over on the day of `now`; empty before (and in a
    /// parent's wallet).
    ///
    /// From the 16th birthday the young person decides alone (UAVG art. 5; DOMAIN.md: "existing
    /// consents are re-confirmed"): an app shows these and lets them
    /// [`confirm_consent`](Self::confirm_consent) or [`withdraw`](Self::withdraw) each one.
    pub fn consents_to_reconfirm(&self, now: i64) -> Result<Vec<ConsentGiven>> {
        if !self.decides_alone(now) {
            return Ok(Vec::new());
        }
        Ok(self
            .consents()?
            .into_iter()
            .filter(|c| c.approver == Approver::Parent && c.is_active() && c.confirmed_at.is_none())
            .collect())
    }

    /// The young person (16 or over) confirms a consent their parent gave: it stays in force
    /// and is no longer put to them. Logged. Nothing is sent: the verifier already holds a
    /// valid consent, and withdrawing stays possible at any time.
    ///
    /// Refused with [`Error::NotReconfirmable`] before the 16th birthday, for a consent the
    /// holder gave themselves, or one already confirmed; [`Error::AlreadyWithdrawn`] and
    /// [`Error::UnknownConsent`] as for [`withdraw`](Self::withdraw).
    pub fn confirm_consent(&self, consent_id: &str, now: i64) -> Result<ConsentGiven> {
        let adult = self.decides_alone(now);
        self.vault.transaction(|tx| {
            let mut consent = load(tx, consent_id)?;
            let refuse = |reason| Err(Error::NotReconfirmable { consent_id: consent_id.to_owned(), reason });
            if consent.withdrawn_at.is_some() {
                return Err(Error::AlreadyWithdrawn { consent_id: consent_id.to_owned() });
            }
            if consent.approver != Approver::Parent || consent.on_behalf_of.is_some() {
                return refuse("it was not given by a parent for the holder of this wallet");
            }
            if !adult {
                return refuse("only a young person of 16 or over confirms a consent their parent gave");
            }
            if consent.confirmed_at.is_some() {
                return refuse("it was already confirmed");
            }
            consent.confirmed_at = Some(now);
            put(tx, &consent)?;
            log::append(
                tx,
                now,
                LogEvent::ConsentConfirmed {
                    consent_id: consent.id.clone(),
                    verifier: consent.verifier.clone(),
                    purpose: consent.purpose.code.clone(),
                },
            )?;
            Ok(consent)
        })
    }

    /// A child's wallet whose holder is 16 or over today.
    fn decides_alone(&self, now: i64) -> bool {
        matches!(self.owner.role(), Role::Child { .. }) && !self.owner.age_band(now).needs_guardian()
    }

    /// Withdraws a consent: signs the withdrawal with the key that gave it, marks it withdrawn
    /// and logs it, in one transaction. Deliver the message to the verifier.
    ///
    /// A consent a parent gave is withdrawn from the parent's wallet (their approval key) —
    /// or, from the 16th birthday, from the young person's own wallet with the key of the
    /// child's presentation the verifier holds as evidence; before 16 the child's wallet
    /// refuses with [`Error::GivenByParent`].
    pub fn withdraw(&self, consent_id: &str, now: i64) -> Result<WithdrawalMessage> {
        let adult = self.decides_alone(now);
        self.vault.transaction(|tx| {
            let mut consent = load(tx, consent_id)?;
            if consent.withdrawn_at.is_some() {
                return Err(Error::AlreadyWithdrawn { consent_id: consent_id.to_owned() });
            }
            let copy_id = match (&consent.approver, &consent.child_copy) {
                (Approver::Copy { copy_id }, _) => copy_id.clone(),
                (Approver::Parent, Some(child_copy)) if adult => child_copy.clone(),
                (Approver::Parent, _) => return Err(Error::GivenByParent),
            };
            let copy = get_credential(tx, &copy_id)?;
            let key = self.holder_signer(&copy)?;
            let jwt = ConsentWithdrawal::new(&consent.verifier, &consent.request_nonce, &consent.purpose.code, now)
                .sign(&key)?;
            consent.withdrawn_at = Some(now);
            put(tx, &consent)?;
            log::append(
                tx,
                now,
                LogEvent::Withdrawal {
                    consent_id: consent.id.clone(),
                    verifier: consent.verifier.clone(),
                    purpose: consent.purpose.code.clone(),
                },
            )?;
            Ok(WithdrawalMessage { verifier: consent.verifier, response_uri: consent.response_uri, jwt })
        })
    }
}
