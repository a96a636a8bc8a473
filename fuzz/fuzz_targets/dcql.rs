//! DCQL (OpenID4VP 1.0 §6): query parsing within the size limit, validation (ids, formats,
//! `vct_values`, claim paths §7, `values`, `claim_sets`, `credential_sets`, `multiple`), the
//! wallet's matching against held credentials, the verifier's check of a response, and claim
//! paths on their own.
//!
//! Mode byte: bit 0 chooses whether the rest is a DCQL query or a claim path (JSON array or
//! dotted form).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use schooltas_fuzz::held_claims;
use schooltas_oid4vc::oid4vp::{DcqlQuery, PresentedCredential, WalletCredential};
use schooltas_sd_jwt::ClaimPath;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if mode & 1 == 1 {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(path) = ClaimPath::from_json(&value) {
                let _ = (path.to_string(), format!("{path:?}"));
            }
        }
        let _ = ClaimPath::parse_dotted(text);
        return;
    }
    let Ok(query) = DcqlQuery::parse(text) else { return };
    let valid = query.validate().is_ok();
    let json = query.to_json();
    if valid {
        assert!(DcqlQuery::from_json(&json).is_ok(), "a valid query's own JSON is refused");
    }
    let held: Vec<WalletCredential<'_>> = held_claims()
        .iter()
        .enumerate()
        .map(|(handle, (vct, claims))| WalletCredential::new(handle, vct, claims))
        .collect();
    if let Ok(matched) = query.match_credentials(&held) {
        let _ = matched.is_satisfiable();
        for credential in &query.credentials {
            for candidate in matched.candidates(&credential.id) {
                let _ = candidate;
            }
        }
    }
    // The verifier's view: every held credential presented under every query id.
    let mut presented: BTreeMap<String, Vec<PresentedCredential>> = BTreeMap::new();
    for (i, credential) in query.credentials.iter().enumerate().take(8) {
        let Some((vct, claims)) = held_claims().get(i % held_claims().len()) else { continue };
        presented.entry(credential.id.clone()).or_default().push(PresentedCredential::new(vct, claims.clone()));
    }
    if let Ok(report) = query.check_response(&presented) {
        let _ = (report.is_satisfied(), format!("{report:?}"));
    }
});
