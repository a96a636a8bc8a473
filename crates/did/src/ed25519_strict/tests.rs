//! The evidence that [`verify`] is `verify_strict`: the small-order table derived from
//! curve25519-dalek, one walker per vector source (RFC 8032 §7.1, ed25519-speccheck,
//! Wycheproof) that checks every case against `verify_strict` and against the answer the
//! source expects, and a bounded mutation fuzz.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed step is a failed test

use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::hazmat::ExpandedSecretKey;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha512 as Sha};

use super::*;

fn vectors(path: &str) -> serde_json::Value {
    let file = format!("{}/../../test-vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().unwrap()
}

/// The two verifiers on one case: `(ours, verify_strict)` acceptance. A key that does not
/// decompress cannot be handed to either; `None` then.
fn both(key: &[u8], message: &[u8], signature: &[u8]) -> Option<(bool, bool)> {
    let key = VerifyingKey::from_bytes(&array(key)).ok()?;
    Some(judge(&key, message, &array(signature)))
}

fn judge(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> (bool, bool) {
    let ours = verify(key, message, signature).is_ok();
    let strict = key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(signature)).is_ok();
    (ours, strict)
}

// ---- the table ----------------------------------------------------------------------------------

#[test]
fn table_is_the_eight_torsion() {
    // Every small-order point's canonical encoding is in the table...
    for (i, point) in EIGHT_TORSION.iter().enumerate() {
        let encoding = point.compress().to_bytes();
        assert!(is_small_order_encoding(&encoding), "EIGHT_TORSION[{i}]");
    }
    // ...the table holds nothing else: each entry, with the sign bit either way, either does
    // not decode or decodes (leniently, as curve25519-dalek does) to a small-order point...
    let mut decoded = 0;
    for entry in SMALL_ORDER_ENCODINGS {
        assert_eq!(entry[31] & 0x80, 0, "entries are stored without the sign bit");
        for sign in [0u8, 0x80] {
            let mut encoding = entry;
            encoding[31] |= sign;
            if let Some(point) = CompressedEdwardsY(encoding).decompress() {
                assert!(point.is_small_order(), "{entry:02x?} with sign {sign:#x}");
                decoded += 1;
            }
        }
    }
    assert!(decoded >= 8, "the eight points are all reachable");
    // ...and the canonical entries are exactly the y values of the eight points.
    let mut ys: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|p| {
            let mut y = p.compress().to_bytes();
            y[31] &= 0x7f;
            y
        })
        .collect();
    ys.sort_unstable();
    ys.dedup();
    assert_eq!(ys.len(), 5);
    for y in &ys {
        assert!(SMALL_ORDER_ENCODINGS[..5].contains(y), "{y:02x?}");
    }
}

#[test]
fn each_rule_has_its_refusal() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let good = key.sign(b"school").to_bytes();
    assert_eq!(verify(&public, b"school", &good), Ok(()));
    assert_eq!(verify(&public, b"schoo1", &good), Err(Refusal::Equation));

    let mut high_s = good;
    add_l(&mut high_s);
    assert_eq!(verify(&public, b"school", &high_s), Err(Refusal::NonCanonicalS));

    let mut small_r = good;
    small_r[..32].copy_from_slice(&EIGHT_TORSION[3].compress().to_bytes());
    assert_eq!(verify(&public, b"school", &small_r), Err(Refusal::SmallOrderR));

    let weak = VerifyingKey::from(EIGHT_TORSION[2]);
    assert_eq!(verify(&weak, b"school", &good), Err(Refusal::SmallOrderKey));
}

/// `S + L`: the same scalar mod L, written non-canonically (the top bits of S are clear in a
/// real signature, so the sum fits in 32 bytes). Integer addition, not field arithmetic.
fn add_l(signature: &mut [u8; 64]) {
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian (RFC 8032 §5.1).
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (byte, l) in signature[32..].iter_mut().zip(L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
}

// ---- RFC 8032 §7.1 --------------------------------------------------------------------------------

#[test]
fn rfc8032_vectors_verify_like_verify_strict() {
    let file = vectors("rfc8032/section-7.1.json");
    let tests = file["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 5);
    for test in tests {
        let name = test["name"].as_str().unwrap();
        let field = |key: &str| hex(test[key].as_str().unwrap());
        // The transcription checks itself: signing is deterministic (RFC 8032 §5.1.6), so the
        // key pair and the signature must come out of the secret key and message again.
        let secret = SigningKey::from_bytes(&array(&field("secret_key")));
        assert_eq!(secret.verifying_key().to_bytes().to_vec(), field("public_key"), "{name}: public key");
        let message = field("message");
        assert_eq!(secret.sign(&message).to_bytes().to_vec(), field("signature"), "{name}: signature");
        let (ours, strict) = both(&field("public_key"), &message, &field("signature")).unwrap();
        assert!(ours && strict, "{name}: ours {ours}, verify_strict {strict}, RFC: valid");
        // And through the public path the JWS verify uses.
        let key = crate::VerifyingKey::from_ed25519_bytes(&array(&field("public_key"))).unwrap();
        let signature = crate::Signature::from_bytes(array(&field("signature")));
        key.verify(crate::Algorithm::EdDsa, &message, &signature).unwrap();
    }
}

// ---- ed25519-speccheck ------------------------------------------------------------------------------

#[test]
fn speccheck_cases_verify_like_verify_strict() {
    // ed25519-speccheck's README, table of results, row "Dalek strict": only case 3 (mixed-order
    // A and R, the cofactorless equation holds, no small-order component is refused) passes.
    // Cases 0–2 have a small-order A or R, 4–5 hold only cofactored, 6–7 have S ≥ L, 8–9 a
    // non-canonical R, 10–11 a non-canonical small-order A.
    const EXPECTED: [bool; 12] = [false, false, false, true, false, false, false, false, false, false, false, false];
    let cases = vectors("ed25519-speccheck/cases.json");
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), EXPECTED.len());
    for (id, case) in cases.iter().enumerate() {
        let field = |key: &str| hex(case[key].as_str().unwrap());
        let (ours, strict) = both(&field("pub_key"), &field("message"), &field("signature"))
            .unwrap_or_else(|| panic!("case {id}: the key does not decompress"));
        assert_eq!(ours, strict, "case {id}: ours {ours}, verify_strict {strict}");
        assert_eq!(ours, EXPECTED[id], "case {id}: ours {ours}, speccheck's table says {}", EXPECTED[id]);
    }
}

// ---- Wycheproof -------------------------------------------------------------------------------------

#[test]
fn wycheproof_cases_verify_like_verify_strict() {
    let file = vectors("wycheproof/ed25519_test.json");
    let mut seen = 0;
    let mut accepted = 0;
    for group in file["testGroups"].as_array().unwrap() {
        let key = hex(group["publicKey"]["pk"].as_str().unwrap());
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let valid = match test["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {id}: result {other:?} (no \"acceptable\" cases in this file)"),
            };
            seen += 1;
            let message = hex(test["msg"].as_str().unwrap());
            let signature = hex(test["sig"].as_str().unwrap());
            if signature.len() != 64 {
                // A signature of another length is no Ed25519 signature; our `Signature` type
                // cannot hold it, so the JWS layer refuses it before any verify.
                assert!(!valid, "tcId {id}: a {}-byte signature marked valid", signature.len());
                assert!(crate::Signature::from_slice(&signature).is_none(), "tcId {id}");
                continue;
            }
            let Some((ours, strict)) = both(&key, &message, &signature) else {
                assert!(!valid, "tcId {id}: the key does not decompress, yet the case is valid");
                continue;
            };
            assert_eq!(ours, strict, "tcId {id}: ours {ours}, verify_strict {strict} ({})", test["comment"]);
            assert_eq!(ours, valid, "tcId {id}: ours {ours}, Wycheproof says {valid} ({})", test["comment"]);
            accepted += usize::from(ours);
        }
    }
    assert_eq!(seen, file["numberOfTests"].as_u64().unwrap() as usize, "every case was read");
    assert!(accepted > 0);
}

// ---- mutation fuzz --------------------------------------------------------------------------------

/// A deterministic byte stream (SHA-512 in counter mode over a fixed seed): the fuzz is the
/// same on every run, so a failure names a round that can be replayed.
struct Stream {
    block: [u8; 64],
    used: usize,
    counter: u64,
}

impl Stream {
    fn new() -> Self {
        Stream { block: [0; 64], used: 64, counter: 0 }
    }

    fn byte(&mut self) -> u8 {
        if self.used == 64 {
            let mut hash = Sha::new();
            hash.update(b"schooltas ed25519_strict fuzz");
            hash.update(self.counter.to_le_bytes());
            self.block.copy_from_slice(&hash.finalize());
            self.counter += 1;
            self.used = 0;
        }
        self.used += 1;
        self.block[self.used - 1]
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(u16::from_le_bytes([self.byte(), self.byte()])) % n
    }
}

#[test]
fn mutated_signatures_verify_like_verify_strict() {
    // Bounded so a debug run stays well under 20 s (each round is some 20 verifications).
    const ROUNDS: usize = 48;
    let mut stream = Stream::new();
    let mut accepted = 0;
    let mut accepted_mixed_key = 0;
    let mut checks = 0;
    for round in 0..ROUNDS {
        let seed: [u8; 32] = stream.array();
        let signing = SigningKey::from_bytes(&seed);
        let public = signing.verifying_key();
        let length = stream.below(80);
        let message: Vec<u8> = (0..length).map(|_| stream.byte()).collect();
        let good = signing.sign(&message).to_bytes();

        let mut check = |what: &str, key: &VerifyingKey, message: &[u8], signature: &[u8; 64]| {
            let (ours, strict) = judge(key, message, signature);
            assert_eq!(ours, strict, "round {round}, {what}: ours {ours}, verify_strict {strict}");
            checks += 1;
            ours
        };

        accepted += usize::from(check("unchanged", &public, &message, &good));
        for _ in 0..4 {
            let bit = stream.below(512);
            let mut flipped = good;
            flipped[bit / 8] ^= 1 << (bit % 8);
            check("a flipped bit", &public, &message, &flipped);
        }
        let mut other_message = message.clone();
        other_message.push(stream.byte());
        check("another message", &public, &other_message, &good);

        let mut high_s = good;
        add_l(&mut high_s);
        check("S + L", &public, &message, &high_s);
        let mut random_s = good;
        random_s[32..].copy_from_slice(&stream.array::<32>());
        check("a random S", &public, &message, &random_s);

        let entry = SMALL_ORDER_ENCODINGS[stream.below(SMALL_ORDER_ENCODINGS.len())];
        let mut small_r = good;
        small_r[..32].copy_from_slice(&entry);
        small_r[31] |= stream.byte() & 0x80;
        check("a small-order R", &public, &message, &small_r);

        let torsion = EIGHT_TORSION[1 + stream.below(7)];
        let r = CompressedEdwardsY(array(&good[..32])).decompress().unwrap();
        let mut mixed_r = good;
        mixed_r[..32].copy_from_slice(&(r + torsion).compress().to_bytes());
        check("R plus a small-order point", &public, &message, &mixed_r);

        let weak = VerifyingKey::from(EIGHT_TORSION[stream.below(8)]);
        check("a small-order key", &weak, &message, &good);

        // A mixed-order key A + T signed for with hazmat: the cofactorless equation holds when
        // k·T = 0, for about one k in eight (order-8 T) to one in two (order-2 T). Both must
        // accept exactly those (speccheck case 3 is one of them).
        let expanded = ExpandedSecretKey::from_bytes(&array(&Sha::digest(seed)));
        let mixed_key = VerifyingKey::from(public.to_edwards() + torsion);
        let signature = ed25519_dalek::hazmat::raw_sign::<Sha512>(&expanded, &message, &mixed_key).to_bytes();
        accepted_mixed_key += usize::from(check("a mixed-order key", &mixed_key, &message, &signature));
    }
    assert_eq!(accepted, ROUNDS, "every unchanged signature verifies");
    assert!(accepted_mixed_key > 0, "the mixed-order-key case was reached with an accepting signature");
    assert!(checks >= ROUNDS * 12);
}
