//! Whose wallet this is: a child (with a birth date) or a parent, and the identity key that
//! names them in guardianship credentials.

use serde::{Deserialize, Serialize};

use schooltas_did::{Algorithm, Did, PrivateJwk, PublicKey, Signer, SigningKey, did_key};
use schooltas_school::consent::AGE_OF_CONSENT;
use schooltas_school::date::CalendarDate;

use crate::error::{Error, Result};
use crate::vault::{Vault, VaultTx};

const PROFILE_KIND: &str = "profile";
const PROFILE_ID: &str = "owner";

/// Who the wallet belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// A pupil; the birth date decides, at each request, whether a parent must approve.
    Child {
        /// The child's birth date.
        birth_date: CalendarDate,
    },
    /// A parent or guardian.
    Parent,
}

/// The age bands the consent rule uses (DOMAIN: good practice in Dutch health and psychology
/// codes): under 12 the parent decides, 12–15 parent and child both decide, from 16 the young
/// person decides alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBand {
    /// Under 12.
    Under12,
    /// 12 to 15.
    From12To15,
    /// 16 or over (or a parent's own wallet).
    Adult,
}

impl AgeBand {
    /// Whether a consent-based disclosure needs a parent's approval.
    pub fn needs_guardian(self) -> bool {
        !matches!(self, AgeBand::Adult)
    }
}

#[derive(Serialize, Deserialize)]
struct Profile {
    role: Role,
    /// The identity key (private JWK): its did:key names this person in guardianship
    /// credentials and as `sub` in the child's credentials.
    identity_key: PrivateJwk,
    created_at: i64,
}

/// The owner of an opened wallet.
pub struct Owner {
    role: Role,
    did: Did,
}

impl std::fmt::Debug for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owner").field("role", &self.role).field("did", &self.did).finish_non_exhaustive()
    }
}

impl Owner {
    /// Writes a new owner into an empty wallet, with a fresh identity key.
    pub(crate) fn create(vault: &Vault, role: Role, now: i64) -> Result<Owner> {
        let identity = SigningKey::generate(Algorithm::EdDsa)?;
        let profile = Profile { role, identity_key: identity.to_private_jwk(), created_at: now };
        let bytes = crate::wiped::to_json(&profile)?;
        vault.transaction(|tx: &mut VaultTx<'_>| {
            if tx.get(PROFILE_KIND, PROFILE_ID)?.is_some() {
                return Err(Error::InvalidInput { reason: "this wallet already has an owner".into() });
            }
            tx.put(PROFILE_KIND, PROFILE_ID, &bytes)
        })?;
        Owner::from_profile(&profile)
    }

    /// Reads the owner of an opened wallet.
    pub(crate) fn load(vault: &Vault) -> Result<Owner> {
        let bytes = vault.get(PROFILE_KIND, PROFILE_ID)?.ok_or_else(|| Error::NotAWallet {
            reason: "this wallet has no owner yet; create it as a child's or a parent's wallet".into(),
        })?;
        let profile: Profile =
            serde_json::from_slice(&bytes).map_err(|_| Error::Corrupted { what: "the owner record".into() })?;
        Owner::from_profile(&profile)
    }

    fn from_profile(profile: &Profile) -> Result<Owner> {
        let identity = SigningKey::from_jwk_json(&profile.identity_key)
            .map_err(|_| Error::Corrupted { what: "the identity key".into() })?;
        let did = did_key::did_for(&PublicKey::Verifying(identity.verifying_key().clone()));
        Ok(Owner { role: profile.role, did })
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The person's DID (did:key of the identity key): the `child_id` / `guardian_id` of a
    /// guardianship credential, the `sub` of a child's credentials.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The child's age on the day of `now` (`None` for a parent's wallet).
    pub fn age(&self, now: i64) -> Option<u32> {
        match self.role {
            Role::Child { birth_date } => Some(birth_date.age_on(CalendarDate::from_unix(now))),
            Role::Parent => None,
        }
    }

    /// The age band on the day of `now`.
    pub fn age_band(&self, now: i64) -> AgeBand {
        match self.age(now) {
            Some(age) if age < 12 => AgeBand::Under12,
            Some(age) if age < AGE_OF_CONSENT => AgeBand::From12To15,
            _ => AgeBand::Adult,
        }
    }

    /// The 16th birthday (a child's wallet): from this day the child decides alone and the
    /// parent's view of the log ends.
    pub fn sixteenth_birthday(&self) -> Option<CalendarDate> {
        match self.role {
            Role::Child { birth_date } => Some(birth_date.anniversary(AGE_OF_CONSENT)),
            Role::Parent => None,
        }
    }
}
