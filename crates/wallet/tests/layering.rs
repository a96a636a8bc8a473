//! The crate's modules form layers: each uses only modules below it, so there is no import
//! circle (`request` ↔ `wallet` ↔ `consents` was one). Rust cannot check this at compile time
//! within a crate, so this test reads the sources: every `crate::<module>` path outside
//! comments and test modules must name a module of a lower layer (or the module itself).
//! The layers are listed in the crate docs (`src/lib.rs`, "Layers"); a new module is added to
//! `LAYERS` below and there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first. A module may use the modules before it.
const LAYERS: &[&str] = &[
    "error",
    "wiped",
    "ids",
    "keys",
    "x5c",
    "chains",
    "vault",
    "log",
    "owner",
    "http",
    "copies",
    "wallet_attestation",
    "receive",
    "authorize",
    "policy",
    "wallet",
    "consents",
    "request",
    "guardian",
    "issuer_http",
    "relay",
];

/// Every `crate::<name>` path in the code of `source` (comments and everything from the first
/// `#[cfg(test)]` on are skipped: unit tests may use any module).
fn crate_paths(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or_default();
        assert!(!code.contains("crate::{"), "line {}: split `use crate::{{..}}` into one `use` per module", number + 1);
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push((number + 1, name));
        }
    }
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, name)| (*name, i)).collect();
    let mut seen = Vec::new();
    let mut upward = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let module = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if path.extension().is_none_or(|e| e != "rs") || module == "lib" {
            continue;
        }
        let own = *rank.get(module.as_str()).unwrap_or_else(|| panic!("src/{module}.rs is not in LAYERS"));
        seen.push(module.clone());
        for (line, used) in crate_paths(&std::fs::read_to_string(&path).unwrap()) {
            let used_rank =
                *rank.get(used.as_str()).unwrap_or_else(|| panic!("src/{module}.rs:{line}: crate::{used}?"));
            if used_rank > own {
                upward.push(format!("src/{module}.rs:{line} uses crate::{used}, a higher layer"));
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layering:\n{}", upward.join("\n"));
    seen.sort();
    let mut listed: Vec<String> = LAYERS.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(seen, listed, "LAYERS lists a module that does not exist");
}

#[test]
fn the_check_finds_an_upward_import() {
    let paths = crate_paths(
        "use crate::request::Verifiers;\n// use crate::guardian::X;\nlet x = crate::wallet::dotted(p);\n#[cfg(test)]\nuse crate::guardian;\n",
    );
    assert_eq!(paths, [(1, "request".to_owned()), (3, "wallet".to_owned())]);
}

#[test]
fn the_crate_docs_list_the_same_layers() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let listed = lib
        .lines()
        .find_map(|line| line.strip_prefix("//! Layers, lowest first: "))
        .expect("src/lib.rs states the layers");
    let names: Vec<&str> = listed.trim_end_matches('.').split(" → ").map(|n| n.trim_matches('`')).collect();
    assert_eq!(names, LAYERS);
}
