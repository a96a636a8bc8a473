//! One-time child links and per-copy timestamps: what keeps two verifiers from linking the
//! copies of one child's batch (issue 12 item 7).
//!
//! ## Child links
//! Every copy *i* of a batch about a pupil carries its own identifier in the type's child-link
//! claim ([`CredentialType::child_link_claim`]: `sub` in the child's credentials, `child_id` in
//! the parent's guardianship):
//!
//! ```text
//! link_i = base64url( HMAC-SHA-256( K, "schooltas child link v1" ‖ 0x00 ‖ len(ref) ‖ ref ‖ school year ‖ i )[0..16] )
//! ```
//!
//! `K` is the school's [`ChildLinkKey`]; `ref` the pupil reference the administration puts in
//! that claim (the child's DID, a pupil number — it never leaves the school); the school year
//! (`2026-2027`, from 1 August) the epoch; `i` the copy's position in the batch (u32, big
//! endian). So enrolment copy *i*, support-needs copy *i* and guardianship copy *i* issued in
//! the same school year carry the same link — a response answering several queries for one
//! child, and the parent's approval for it, still bind (OpenID4VP one-child rule) — while copy
//! *i* and copy *j* share nothing a verifier can compare. Without `K` the links are
//! indistinguishable from random 128-bit strings (HMAC as a PRF), so the school's pupil
//! reference cannot be recovered or tested from them. The child's wallet treats a link as
//! consumed as a whole: once any credential carrying `link_i` has been presented, no other
//! credential carrying it goes to another verifier.
//!
//! Issue the child's and the parent's credentials in the same school year (a new year gives new
//! links; issuing both at enrolment time, then again each August, keeps them aligned). Copies
//! re-issued within one school year carry the same links as before; the wallet then counts the
//! ones it already used as used.
//!
//! ## Timestamps
//! Each copy gets its own `iat` and `exp` ([`jittered_times`]): `iat` = now − a uniformly
//! random offset in [0, 24 h), so it is never in the future and every credential issued in any
//! 24-hour window is a candidate for it; `exp` = now + validity − an independent offset in
//! [0, min(24 h, validity / 4)), so validity never exceeds the type's policy counted from the
//! real issue time, and `exp − iat` does not pin two copies together either.
//!
//! [`CredentialType::child_link_claim`]: schooltas_school::catalog::CredentialType::child_link_claim

use std::fmt;

use rand::{Rng as _, RngExt};
use ring::hmac;
use zeroize::Zeroizing;

use schooltas_school::date::CalendarDate;

/// Domain separation for the child-link PRF.
const CONTEXT: &[u8] = b"schooltas child link v1\0";

/// How far back `iat` may be moved (seconds).
pub const ISSUED_AT_JITTER: i64 = 86_400;

/// The most `exp` is moved earlier (seconds), before the validity / 4 cap.
pub const EXPIRY_JITTER: i64 = 86_400;

/// The school's secret for child links: 256 bits, kept with the school's signing keys.
///
/// A school that issues from more than one process, or restarts, must keep the same key
/// ([`ChildLinkKey::from_bytes`] from its key store), or the guardianship copies it issues later
/// will not carry the links of the child's copies. `Debug` never shows it.
#[derive(Clone)]
pub struct ChildLinkKey(Zeroizing<[u8; 32]>);

impl ChildLinkKey {
    /// A fresh key from the operating system's CSPRNG (via `rand`'s thread RNG, seeded from it).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(&mut bytes[..]);
        ChildLinkKey(bytes)
    }

    /// A key read back from the school's key store.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ChildLinkKey(Zeroizing::new(bytes))
    }

    /// The key's bytes, to store it (zeroized when dropped).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.0.clone()
    }

    /// The link of copy `index` about the pupil `pupil_ref`, issued in `school_year`.
    pub fn link(&self, pupil_ref: &str, school_year: &str, index: u32) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.0[..]);
        let mut context = hmac::Context::with_key(&key);
        context.update(CONTEXT);
        // Length-prefixed, so no (ref, year) pair can be read as another.
        context.update(&u64::try_from(pupil_ref.len()).unwrap_or(u64::MAX).to_be_bytes());
        context.update(pupil_ref.as_bytes());
        context.update(school_year.as_bytes());
        context.update(&index.to_be_bytes());
        let tag = context.sign();
        // 128 bits are plenty against collisions among one school's links; the rest is dropped.
        let truncated: &[u8] = tag.as_ref().get(..16).unwrap_or(tag.as_ref());
        schooltas_did::base64url::encode(truncated)
    }
}

impl fmt::Debug for ChildLinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChildLinkKey(..)")
    }
}

/// The Dutch school year a moment falls in (`2026-2027`): school years start on 1 August.
pub fn school_year(now: i64) -> String {
    let date = CalendarDate::from_unix(now);
    let start = if date.month() >= 8 { date.year() } else { date.year() - 1 };
    format!("{start}-{}", start + 1)
}

/// One copy's `iat` and `exp` (see the module docs): `iat` in (now − 24 h, now], `exp` (when the
/// type expires after `validity` seconds) in (now + validity − min(24 h, validity / 4), now +
/// validity].
pub fn jittered_times(now: i64, validity: Option<u64>) -> (i64, Option<i64>) {
    let mut rng = rand::rng();
    let issued_at = now.saturating_sub(rng.random_range(0..ISSUED_AT_JITTER));
    let expires_at = validity.map(|seconds| {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        let spread = EXPIRY_JITTER.min(seconds / 4);
        let offset = if spread > 0 { rng.random_range(0..spread) } else { 0 };
        now.saturating_add(seconds).saturating_sub(offset)
    });
    (issued_at, expires_at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn links_differ_per_copy_pupil_year_and_key_and_repeat_for_the_same_inputs() {
        let key = ChildLinkKey::from_bytes([7; 32]);
        let a = key.link("did:key:child", "2026-2027", 0);
        assert_eq!(a, key.link("did:key:child", "2026-2027", 0));
        assert_eq!(a.len(), 22);
        assert!(!a.contains("child"));
        assert_ne!(a, key.link("did:key:child", "2026-2027", 1));
        assert_ne!(a, key.link("did:key:other", "2026-2027", 0));
        assert_ne!(a, key.link("did:key:child", "2027-2028", 0));
        assert_ne!(a, ChildLinkKey::from_bytes([8; 32]).link("did:key:child", "2026-2027", 0));
        // The length prefix keeps ("ab", "c…") and ("a", "bc…") apart.
        assert_ne!(key.link("2026", "-2027", 0), key.link("2026-", "2027", 0));
        assert_eq!(format!("{key:?}"), "ChildLinkKey(..)");
    }

    #[test]
    fn school_years_start_in_august() {
        assert_eq!(school_year(1_800_000_000), "2026-2027"); // 2027-01-15
        assert_eq!(school_year(CalendarDate::new(2027, 7, 31).unwrap().to_unix() + 86_399), "2026-2027");
        assert_eq!(school_year(CalendarDate::new(2027, 8, 1).unwrap().to_unix()), "2027-2028");
    }

    #[test]
    fn times_stay_within_the_policy() {
        let now = 1_800_000_000;
        for _ in 0..2000 {
            let (iat, exp) = jittered_times(now, Some(366 * 86_400));
            assert!(iat <= now && iat > now - ISSUED_AT_JITTER);
            let exp = exp.unwrap();
            assert!(exp <= now + 366 * 86_400 && exp > now + 365 * 86_400);
            let (_, short) = jittered_times(now, Some(100));
            assert!((now + 75..=now + 100).contains(&short.unwrap()));
            assert_eq!(jittered_times(now, None).1, None);
        }
    }
}
