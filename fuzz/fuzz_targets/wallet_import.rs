//! The wallet export file (`Vault::export` / `Vault::import`): the JSON envelope, base64url
//! fields, the Argon2id parameters it carries, XChaCha20-Poly1305 opening, the record list
//! and every record name and body as it is written into a new wallet.
//!
//! Modes (first byte, bit 0):
//! - 0: the rest is an export file as received, imported with the passphrase `correct horse`.
//! - 1: the rest is the *plaintext* record list (JSON); the harness seals it exactly as
//!   `Vault::export` does (Argon2id with tiny parameters, a fixed salt and nonce), so the
//!   fuzzer reaches what happens after decryption.
//!
//! The vault bounds Argon2id parameters read from an export (at most 1 GiB, 16 passes, 16
//! lanes; `Error::KdfOutOfBounds`, tested in `crates/wallet/tests/vault.rs`), but one derivation
//! near those bounds still takes seconds, which libFuzzer would report as a timeout rather than
//! a parsing bug. So mode 0 skips inputs whose `params` exceed small values (a throughput guard,
//! see `guard_kdf_params`); mode 1 and the vault's own tests cover the bounds.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use libfuzzer_sys::fuzz_target;
use schooltas_did::base64url;
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};

const PASSPHRASE: &str = "correct horse";
const FORMAT: &str = "schooltas-wallet/1";
const SALT: [u8; 16] = [3; 16];
const NONCE: [u8; 24] = [5; 24];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode & 1 == 0 {
        if !guard_kdf_params(rest) {
            return;
        }
        import(rest);
    } else {
        import(&seal(rest));
    }
});

/// Throughput guard: true when the export's Argon2id parameters, if any, are small enough to
/// run in a fuzzing loop (the vault's own bounds are far larger; see the module docs).
fn guard_kdf_params(export: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(top)) = serde_json::from_slice::<serde_json::Value>(export) else { return true };
    let Some(params) = top.get("params") else { return true };
    let small = |name: &str, max: u64| params.get(name).and_then(serde_json::Value::as_u64).is_none_or(|v| v <= max);
    small("memory_kib", 1024) && small("iterations", 4) && small("parallelism", 4)
}

fn import(export: &[u8]) {
    let path = scratch();
    cleanup(&path);
    let key = WalletKey::from_bytes([1; 32]);
    let result = Vault::import(&path, export, PASSPHRASE, Unlock::Key(&key), KdfParams::INSECURE_FOR_TESTS);
    if let Ok(vault) = result {
        // What was imported must read back and pass the integrity check.
        assert!(vault.verify_integrity().is_ok(), "an imported wallet fails its integrity check");
    }
    cleanup(&path);
}

/// Seals `plaintext` as `Vault::export` does (same AAD: format, kind `export`, id = format).
fn seal(plaintext: &[u8]) -> Vec<u8> {
    let cipher = cipher();
    let aad = format!("{FORMAT}\u{0}export\u{0}{FORMAT}");
    let Ok(ciphertext) = cipher.encrypt(XNonce::from_slice(&NONCE), Payload { msg: plaintext, aad: aad.as_bytes() })
    else {
        return Vec::new();
    };
    let params = KdfParams::INSECURE_FOR_TESTS;
    serde_json::json!({
        "format": FORMAT,
        "salt": base64url::encode(SALT),
        "params": {"memory_kib": params.memory_kib, "iterations": params.iterations, "parallelism": params.parallelism},
        "nonce": base64url::encode(NONCE),
        "ciphertext": base64url::encode(ciphertext),
    })
    .to_string()
    .into_bytes()
}

/// The export key, derived once (Argon2id over the fixed passphrase and salt).
fn cipher() -> &'static XChaCha20Poly1305 {
    static CIPHER: OnceLock<XChaCha20Poly1305> = OnceLock::new();
    CIPHER.get_or_init(|| {
        let params = KdfParams::INSECURE_FOR_TESTS;
        let argon = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            match argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32)) {
                Ok(p) => p,
                Err(e) => panic!("fixed Argon2 parameters refused: {e}"),
            },
        );
        let mut key = [0u8; 32];
        if let Err(e) = argon.hash_password_into(PASSPHRASE.as_bytes(), &SALT, &mut key) {
            panic!("Argon2 on fixed input failed: {e}");
        }
        XChaCha20Poly1305::new((&key).into())
    })
}

/// A per-process wallet path in shared memory (a RAM disk where there is one).
fn scratch() -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    dir.join(format!("schooltas-fuzz-import-{}.wallet", std::process::id()))
}

fn cleanup(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}
