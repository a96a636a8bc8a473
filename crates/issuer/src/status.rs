//! The school's status registry: random index allocation, revoke / suspend / reinstate, and
//! the signed status list tokens it publishes — one list per purpose.

use rand::RngExt;

use schooltas_status_list::{Bits, StatusList, StatusListToken, StatusListUri, StatusReference, StatusValue};

use crate::error::{Error, Result};
use crate::store::{IssuerTx, StatusListRow};

/// How the school's status lists are laid out and published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusPolicy {
    /// Lists are published at `<base_uri>/<purpose>/<n>`.
    pub base_uri: String,
    /// Bits per entry: 2 holds VALID, INVALID and SUSPENDED.
    pub bits: Bits,
    /// Entries per list. Larger lists hide each credential among more others (herd privacy).
    pub list_capacity: u64,
    /// A list takes new credentials until this share (in percent) is allocated; random
    /// allocation then starts a new list, so probing for a free index stays cheap.
    pub fill_percent: u8,
    /// `ttl` of published tokens: how long verifiers may cache them.
    pub token_ttl: u64,
    /// Seconds from publishing to a token's `exp`.
    pub token_validity: i64,
}

impl StatusPolicy {
    /// 2 bits, 2^17 entries (32 KiB) per list filled to 75 %, tokens cached for 15 minutes and
    /// valid for a day.
    pub fn new(base_uri: impl Into<String>) -> Self {
        StatusPolicy {
            base_uri: base_uri.into().trim_end_matches('/').to_owned(),
            bits: Bits::Two,
            list_capacity: 1 << 17,
            fill_percent: 75,
            token_ttl: 900,
            token_validity: 86_400,
        }
    }

    fn check_purpose(purpose: &str) -> Result<()> {
        let ok = !purpose.is_empty()
            && purpose.len() <= 64
            && purpose.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidProfile { reason: format!("status purpose {purpose:?} is not [a-z0-9_-]{{1,64}}") })
        }
    }

    /// Hands out a random free entry of a list of `purpose` to `credential_id`, creating a new
    /// list when every list of that purpose is filled to `fill_percent`.
    pub(crate) fn allocate(
        &self,
        tx: &mut dyn IssuerTx,
        purpose: &str,
        credential_id: &str,
    ) -> Result<StatusReference> {
        Self::check_purpose(purpose)?;
        let limit = self.list_capacity.saturating_mul(u64::from(self.fill_percent.clamp(1, 100))) / 100;
        let lists = tx.status_lists(purpose)?;
        let open = lists.iter().find(|list| list.allocated < limit.max(1)).cloned();
        let list = match open {
            Some(list) => list,
            None => {
                let mut row = StatusListRow {
                    id: 0,
                    purpose: purpose.to_owned(),
                    uri: format!("{}/{purpose}/{}", self.base_uri, lists.len() + 1),
                    bits: self.bits.get(),
                    capacity: self.list_capacity,
                    allocated: 0,
                };
                StatusListUri::new(row.uri.clone())?;
                row.id = tx.insert_status_list(&row)?;
                row
            }
        };
        let mut rng = rand::rng();
        // At most 75 % full by default: a free index is found in ~4 tries on average.
        for _ in 0..256 {
            let index = rng.random_range(0..list.capacity);
            if tx.try_allocate(list.id, index, credential_id)? {
                return Ok(StatusReference::new(StatusListUri::new(list.uri.clone())?, index));
            }
        }
        Err(Error::Storage { reason: format!("no free status entry found in list {} after 256 tries", list.uri) })
    }

    /// Signs the current state of a list as a status list token.
    pub(crate) fn token(
        &self,
        tx: &mut dyn IssuerTx,
        list: &StatusListRow,
        profile: &crate::SchoolProfile,
        now: i64,
    ) -> Result<(StatusListUri, String)> {
        // Signed like the school's credentials (same `iss`, `kid` and `x5c`), or by the
        // separate status list key with its own chain (draft §"Key Resolution and Trust
        // Management": a Status Issuer the issuer's CA delegated to).
        let issuer = profile.iss();
        let (signer, kid, x5c) = match profile.keys().status_list_key() {
            Some(_) if !profile.has_https_identity() => {
                return Err(Error::InvalidProfile {
                    reason: "a separate status list key needs the EU profile (https identity): relying parties \
                             trust a DID school's status lists only under its DID's keys"
                        .into(),
                });
            }
            Some((kid, signer, chain)) => (signer, kid.to_owned(), Some(x5c_of(chain))),
            None => (profile.keys().signer(), profile.credential_kid(), profile.x5c()),
        };
        let bits = Bits::new(u64::from(list.bits))?;
        let capacity = usize::try_from(list.capacity)
            .map_err(|_| Error::CorruptStore { reason: format!("capacity {}", list.capacity) })?;
        let mut statuses = StatusList::new(bits, capacity)?;
        for (index, value) in tx.non_valid(list.id)? {
            statuses.set(index, StatusValue::new(value))?;
        }
        let uri = StatusListUri::new(list.uri.clone())?;
        let token = StatusListToken::new(uri.clone(), now, statuses)
            .with_issuer(issuer)
            .with_ttl(self.token_ttl)
            .with_expires_at(now.saturating_add(self.token_validity));
        Ok((uri, token.sign_with_x5c(signer, Some(&kid), x5c.as_ref())?))
    }
}

/// `x5c` (RFC 7515 §4.1.6): standard base64 DER, leaf first.
fn x5c_of(chain: &[Vec<u8>]) -> serde_json::Value {
    use base64::Engine as _;
    serde_json::Value::Array(
        chain
            .iter()
            .map(|der| serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(der)))
            .collect(),
    )
}

/// A change of a credential's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusChange {
    /// Permanently invalid (leaving school, a withdrawn consent, an error in the credential).
    Revoke,
    /// Temporarily invalid.
    Suspend,
    /// Valid again after a suspension.
    Reinstate,
}

impl StatusChange {
    fn verb(self) -> &'static str {
        match self {
            StatusChange::Revoke => "revoke",
            StatusChange::Suspend => "suspend",
            StatusChange::Reinstate => "reinstate",
        }
    }

    /// The new value, or why the change is not allowed from `current`.
    pub(crate) fn apply(self, id: &str, current: StatusValue) -> Result<StatusValue> {
        let refuse =
            || Error::StatusTransition { id: id.to_owned(), action: self.verb(), current: current.to_string() };
        match (self, current) {
            (StatusChange::Revoke, StatusValue::VALID | StatusValue::SUSPENDED) => Ok(StatusValue::INVALID),
            (StatusChange::Suspend, StatusValue::VALID) => Ok(StatusValue::SUSPENDED),
            (StatusChange::Reinstate, StatusValue::SUSPENDED) => Ok(StatusValue::VALID),
            _ => Err(refuse()),
        }
    }
}
