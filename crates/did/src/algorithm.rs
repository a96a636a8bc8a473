//! The JWS signature algorithms this library speaks.

use std::fmt;

use crate::error::{Error, Result};

/// A JWS signature algorithm (RFC 7518 §3.1, RFC 8037 §3.1).
///
/// Only asymmetric algorithms exist here: `none` and the HMAC family cannot be represented, so a
/// verifier holding an `Algorithm` can never be talked into them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// EdDSA over Ed25519 (RFC 8037). The default: fast, deterministic, small keys.
    EdDsa,
    /// ECDSA over P-256 with SHA-256 (RFC 7518 §3.4), for interoperability with EU wallets.
    Es256,
}

impl Algorithm {
    /// The `alg` header value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256 => "ES256",
        }
    }

    /// Parses a JWS `alg` value, refusing `none`, HMAC and unknown algorithms with distinct errors.
    ///
    /// ```
    /// use schooltas_did::{Algorithm, Error};
    /// assert_eq!(Algorithm::from_jws_alg("EdDSA").unwrap(), Algorithm::EdDsa);
    /// assert!(matches!(Algorithm::from_jws_alg("none"), Err(Error::AlgNone)));
    /// assert!(matches!(Algorithm::from_jws_alg("HS256"), Err(Error::HmacAlgorithm { .. })));
    /// ```
    pub fn from_jws_alg(alg: &str) -> Result<Self> {
        match alg {
            "EdDSA" | "Ed25519" => Ok(Algorithm::EdDsa),
            "ES256" => Ok(Algorithm::Es256),
            // RFC 7518 §3.6; also refuse case variants so "None" cannot slip past a filter.
            a if a.eq_ignore_ascii_case("none") => Err(Error::AlgNone),
            // `get` and not `[..2]`: the name is outside input, and byte 2 may fall inside a
            // multi-byte character (`"mʔS"` once panicked here).
            a if a.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) => {
                Err(Error::HmacAlgorithm { alg: truncate_for_message(a) })
            }
            other => Err(Error::UnsupportedAlgorithm { alg: truncate_for_message(other) }),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keeps hostile input from blowing up error messages.
pub(crate) fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_none_hmac_and_unknown_with_distinct_errors() {
        assert!(matches!(Algorithm::from_jws_alg("none"), Err(Error::AlgNone)));
        assert!(matches!(Algorithm::from_jws_alg("NONE"), Err(Error::AlgNone)));
        for hs in ["HS256", "HS384", "HS512", "hs256"] {
            assert!(matches!(Algorithm::from_jws_alg(hs), Err(Error::HmacAlgorithm { .. })), "{hs}");
        }
        for unknown in ["RS256", "ES384", "ES256K", "PS256", ""] {
            assert!(matches!(Algorithm::from_jws_alg(unknown), Err(Error::UnsupportedAlgorithm { .. })), "{unknown}");
        }
    }

    #[test]
    fn a_multibyte_character_at_byte_two_is_refused_not_a_panic() {
        // Issue 12 item 12: "mʔS" has a two-byte character across byte 2.
        for alg in ["mʔS", "ʔ", "Hʔ", "ʔʔʔ", "é", "H\u{1F600}S"] {
            assert!(matches!(Algorithm::from_jws_alg(alg), Err(Error::UnsupportedAlgorithm { .. })), "{alg}");
        }
        assert!(matches!(Algorithm::from_jws_alg("HSʔ"), Err(Error::HmacAlgorithm { .. })));
    }

    #[test]
    fn round_trips_supported_names() {
        for alg in [Algorithm::EdDsa, Algorithm::Es256] {
            assert_eq!(Algorithm::from_jws_alg(alg.as_str()).unwrap(), alg);
        }
    }

    #[test]
    fn long_unknown_names_are_truncated_in_errors() {
        let long = "X".repeat(10_000);
        let err = Algorithm::from_jws_alg(&long).unwrap_err();
        assert!(matches!(&err, Error::UnsupportedAlgorithm { alg } if alg.len() < 200), "{err}");
        assert!(err.to_string().len() < 200, "{err}");
    }
}
