//! A certificate's validity period: written by issuance, read back from a chain's leaf.

use crate::X509Error;

/// A certificate's validity period, unix seconds, both ends inclusive (RFC 5280 §4.1.2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    not_before: i64,
    not_after: i64,
}

impl Validity {
    /// From `not_before` to `not_after` (unix seconds); refused when `not_after <= not_before`
    /// or either is before 1970 or after 9999.
    pub fn new(not_before: i64, not_after: i64) -> Result<Self, X509Error> {
        // 253402300799 = 9999-12-31T23:59:59Z, the last GeneralizedTime RFC 5280 can express.
        let in_range = |t: i64| (0..=253_402_300_799).contains(&t);
        if not_after <= not_before || !in_range(not_before) || !in_range(not_after) {
            return Err(X509Error::InvalidValidity { not_before, not_after });
        }
        Ok(Validity { not_before, not_after })
    }

    /// `days` days from `now`.
    pub fn days_from(now: i64, days: u32) -> Result<Self, X509Error> {
        Validity::new(now, now.saturating_add(i64::from(days) * 86_400))
    }

    /// Start, unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End, unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }
}
