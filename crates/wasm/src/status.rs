//! Reading a Token Status List (what `StatusList.verify` runs): the signed `statuslist+jwt`,
//! verified against the issuer's key, then one entry by index.

use schooltas_did::VerifyingKey;
use schooltas_status_list::{StatusListToken, StatusListTokenOptions, UnverifiedStatusListToken};

use crate::Result;

/// A status list whose token verified: read entries from it.
#[derive(Clone, Debug)]
pub struct VerifiedStatusList {
    token: StatusListToken,
}

impl VerifiedStatusList {
    /// Verifies `token` (draft-ietf-oauth-status-list §8.3) signed by `key` at `now`.
    pub fn verify(token: &str, key: &VerifyingKey, now: i64) -> Result<Self> {
        let token = UnverifiedStatusListToken::parse(token)?.verify(key, &StatusListTokenOptions::default(), now)?;
        Ok(VerifiedStatusList { token })
    }

    /// The status value at `index` (0 valid, 1 invalid, 2 suspended, others per the registry).
    pub fn status(&self, index: u64) -> Result<u8> {
        Ok(self.token.list().get(index)?.get())
    }

    /// The list's URI (the token's `sub`).
    pub fn subject(&self) -> &str {
        self.token.subject().as_str()
    }

    /// How many entries the list has.
    pub fn len(&self) -> usize {
        self.token.list().len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.token.list().is_empty()
    }
}
