//! Reading inputs and writing outputs: the only place the command touches the file system.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use schooltas_did::{SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// The largest input file read, so a wrong path (a disk image, say) fails fast.
const MAX_INPUT_LEN: u64 = 16 << 20;

/// Whether `path` means standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The whole text of `path` (`-`: standard input), at most 16 MiB.
pub(crate) fn read_text(path: &Path, what: &'static str) -> Result<String> {
    let mut text = String::new();
    let result = if is_stdin(path) {
        io::stdin().lock().take(MAX_INPUT_LEN + 1).read_to_string(&mut text)
    } else {
        File::open(path).and_then(|file| file.take(MAX_INPUT_LEN + 1).read_to_string(&mut text))
    };
    result.map_err(|e| CliError::read(what, path, e))?;
    if text.len() as u64 > MAX_INPUT_LEN {
        return Err(CliError::read(what, path, "larger than 16 MiB"));
    }
    Ok(text)
}

/// A file that must hold one JSON object.
pub(crate) fn read_json_object(path: &Path, what: &'static str) -> Result<Map<String, Value>> {
    match schooltas_did::strict_json::from_str::<Value>(&read_text(path, what)?) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::read(what, path, "expected a JSON object")),
        Err(e) => Err(CliError::read(what, path, format!("not JSON ({e})"))),
    }
}

/// A private JWK file. The text is wiped once the key is built.
pub(crate) fn read_signing_key(path: &Path, what: &'static str) -> Result<SigningKey> {
    let text = Zeroizing::new(read_text(path, what)?);
    SigningKey::from_jwk_json(&text).map_err(|e| CliError::read(what, path, e))
}

/// A public JWK file. A private JWK is refused: a private key has no business on this side.
pub(crate) fn read_verifying_key(path: &Path, what: &'static str) -> Result<VerifyingKey> {
    let text = Zeroizing::new(read_text(path, what)?);
    let jwk: Map<String, Value> = match schooltas_did::strict_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => map,
        _ => return Err(CliError::read(what, path, "expected a JWK (a JSON object)")),
    };
    if jwk.contains_key("d") {
        let mut jwk = jwk;
        if let Some(Value::String(d)) = jwk.get_mut("d") {
            zeroize::Zeroize::zeroize(d);
        }
        return Err(CliError::read(
            what,
            path,
            "this is a private key; pass the public JWK (see `schooltas key public`)",
        ));
    }
    VerifyingKey::from_jwk(&jwk).map_err(|e| CliError::read(what, path, e))
}

/// Who may read a file the command writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Only the owner (0600 on Unix), from the moment the file exists: private keys.
    Private,
    /// Anyone the umask allows (0644 before the umask on Unix): status lists.
    Shared,
}

/// Creates `path`, never replacing a file unless `force`, in which case the old file is
/// replaced atomically.
pub(crate) fn write_new(path: &Path, contents: &[u8], force: bool, mode: Mode, what: &'static str) -> Result<()> {
    if force {
        return write_atomically(path, contents, mode, what);
    }
    let mut file = create_new(path, mode).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => CliError::AlreadyExists { what, path: crate::error::show(path) },
        _ => CliError::write(what, path, e),
    })?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(|e| CliError::write(what, path, e))
}

/// Replaces `path` atomically: the new contents go to a fresh file beside it, which is then
/// renamed over `path`, so a reader sees the old file or the new one, never half of either.
pub(crate) fn write_atomically(path: &Path, contents: &[u8], mode: Mode, what: &'static str) -> Result<()> {
    let temp = temp_path_beside(path);
    let result = create_new(&temp, mode)
        .and_then(|mut file| file.write_all(contents).and_then(|()| file.sync_all()))
        .and_then(|()| fs::rename(&temp, path));
    if let Err(e) = result {
        // The temporary file may not exist; nothing to report if it does not.
        let _ = fs::remove_file(&temp);
        return Err(CliError::write(what, path, e));
    }
    Ok(())
}

fn create_new(path: &Path, mode: Mode) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(match mode {
            Mode::Private => 0o600,
            Mode::Shared => 0o644,
        });
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// `.<name>.<pid>-<nanos>.tmp` in the same directory, so the rename stays on one file system.
fn temp_path_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    path.with_file_name(format!(".{name}.{}-{nanos}.tmp", std::process::id()))
}

/// Makes an existing file readable and writable by its owner only (0600 on Unix).
pub(crate) fn restrict_to_owner(path: &Path, what: &'static str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|e| CliError::write(what, path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}

/// Now, in Unix seconds.
pub(crate) fn now() -> Result<i64> {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| CliError::Clock)?;
    i64::try_from(since.as_secs()).map_err(|_| CliError::Clock)
}
