//! Strict Ed25519 verification at the cost of a plain one.
//!
//! ed25519-dalek's `verify_strict` accepts a signature `R ‖ S` on `M` under the key `A` iff
//!
//! 1. `S < L` (RFC 8032 §5.1.7 step 1; §8.4: otherwise signatures are malleable);
//! 2. `R` decompresses to a point;
//! 3. neither `R` nor `A` is of small order (an order dividing 8);
//! 4. the cofactorless equation holds *byte for byte*: the canonical encoding of
//!    `[S]B − [k]A`, with `k = SHA-512(R ‖ A ‖ M) mod L`, equals the 32 bytes `R` given.
//!
//! Plain `verify` checks rules 1 and 4 only. Rule 2 costs a decompression (a field inverse
//! square root, some 6 µs) on every signature, only to serve rule 3 for `R`. It is not needed:
//!
//! - rule 4 compares against a *canonical* encoding of a *valid* point, so any `R` that
//!   passes rule 4 decompresses (rule 2 holds for free), to exactly that point;
//! - `R` then has small order iff its 32 bytes are the canonical encoding of one of the eight
//!   points of order dividing 8, which a table lookup answers.
//!
//! So [`verify`] refuses `S ≥ L` (with curve25519-dalek's `Scalar::from_canonical_bytes`), an
//! `R` found in [`SMALL_ORDER_ENCODINGS`], a small-order `A` (ed25519-dalek's own check on the
//! decompressed key, as `verify_strict` does), and otherwise runs ed25519-dalek's
//! cofactorless check (`hazmat::raw_verify`, which is plain `verify`). The table holds every
//! encoding of a small-order point, canonical or not (compared without the sign bit, as
//! libsodium's blocklist is), although only the canonical ones can ever pass rule 4.
//! docs/decisions/0015-strict-ed25519-without-r-decompression.md gives the argument in full
//! and the evidence: the RFC 8032 §7.1, Wycheproof and ed25519-speccheck vectors and a mutation
//! fuzz, each case checked to give `verify_strict`'s answer.
//!
//! No field arithmetic is written here: the only arithmetic is ed25519-dalek's and
//! curve25519-dalek's.

use sha2::Sha512;

/// Why [`verify`] refused a signature (one reason per rule; the caller turns every one into
/// the same [`crate::Error::InvalidSignature`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `S ≥ L`: a non-canonical scalar (RFC 8032 §5.1.7 step 1).
    NonCanonicalS,
    /// `R` encodes a point of small order.
    SmallOrderR,
    /// The public key `A` is a point of small order.
    SmallOrderKey,
    /// The cofactorless equation does not hold (or `R` is not the canonical encoding of the
    /// point it computes).
    Equation,
}

/// The y coordinates, as 32 little-endian bytes with the top (sign) bit clear, of every
/// encoding of a point of order 1, 2, 4 or 8 on edwards25519: the eight small-order points
/// have y ∈ {1, −1, 0, ±y₈} (x = 0 for y = ±1, x = ±√−1 for y = 0, and four points of order 8
/// on the two y values ±y₈), and y = 0 and y = 1 also have the non-canonical encodings p and
/// p + 1 (every other small-order y is ≥ 19 below p, so y + p does not fit in 255 bits). With
/// the sign bit either way these are all 14 byte strings a lenient decoder maps to a
/// small-order point. The test `table_is_the_eight_torsion` derives the entries from
/// curve25519-dalek's `EIGHT_TORSION` and its decoder.
pub(crate) const SMALL_ORDER_ENCODINGS: [[u8; 32]; 7] = [
    // y = 0: the two points of order 4, (±√−1, 0).
    [0; 32],
    // y = 1: the identity (0, 1), order 1.
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    // y = −1 = p − 1: (0, −1), order 2.
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
    // y = y₈: two points of order 8.
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
        0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ],
    // y = −y₈: the other two points of order 8.
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
        0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ],
    // y = p, a non-canonical 0.
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
    // y = p + 1, a non-canonical 1.
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
    ],
];

/// Whether `encoding` (a point encoding, such as a signature's `R`) is one of the encodings of
/// a small-order point, sign bit ignored. Public data only, so the comparison may stop early.
pub(crate) fn is_small_order_encoding(encoding: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.iter().any(|entry| entry[..31] == encoding[..31] && entry[31] == encoding[31] & 0x7f)
}

/// Verifies an Ed25519 signature (RFC 8032 §5.1.7) with exactly the acceptance rules of
/// ed25519-dalek's `verify_strict`, without decompressing `R` (see the module documentation).
pub(crate) fn verify(key: &ed25519_dalek::VerifyingKey, message: &[u8], signature: &[u8; 64]) -> Result<(), Refusal> {
    let mut r = [0u8; 32];
    let mut s = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    s.copy_from_slice(&signature[32..]);
    // RFC 8032 §5.1.7 step 1: S in [0, L). ed25519-dalek checks this too, unless some crate in
    // the build turns on its `legacy_compatibility` feature (features unify): checking it here
    // keeps the rule whatever the rest of the build asks for.
    if bool::from(curve25519_dalek::Scalar::from_canonical_bytes(s).is_none()) {
        return Err(Refusal::NonCanonicalS);
    }
    if is_small_order_encoding(&r) {
        return Err(Refusal::SmallOrderR);
    }
    // The key is already decompressed; this is verify_strict's own check on it (three
    // doublings). VerifyingKey::from_ed25519_bytes refuses such keys anyway.
    if key.is_weak() {
        return Err(Refusal::SmallOrderKey);
    }
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    // The cofactorless check, R compared byte for byte with the canonical encoding of
    // [S]B - [k]A: what `verify` does, and what makes the table above sufficient.
    ed25519_dalek::hazmat::raw_verify::<Sha512>(key, message, &signature).map_err(|_| Refusal::Equation)
}

#[cfg(test)]
mod tests;
