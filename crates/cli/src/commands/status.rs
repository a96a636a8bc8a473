//! `schooltas status new|revoke|suspend|reinstate|token`

use std::io::Write;
use std::path::Path;

use schooltas_did::Signer as _;
use schooltas_status_list::{Bits, DecodeLimits, StatusList, StatusListToken, StatusListUri, StatusValue};
use serde_json::Value;

use crate::args::{StatusChangeArgs, StatusNewArgs, StatusTokenArgs};
use crate::error::{CliError, Result, show};
use crate::files::{self, Mode};

const WHAT: &str = "status list file";

/// A change to one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// → INVALID, from VALID or SUSPENDED. Permanent (draft §7.1).
    Revoke,
    /// → SUSPENDED, from VALID.
    Suspend,
    /// → VALID, from SUSPENDED only: a revoked credential stays revoked.
    Reinstate,
}

impl Change {
    fn verb(self) -> &'static str {
        match self {
            Change::Revoke => "revoke",
            Change::Suspend => "suspend",
            Change::Reinstate => "reinstate",
        }
    }

    /// The new value, or `None` when the change is not allowed from `current`.
    fn apply(self, current: StatusValue) -> Option<StatusValue> {
        match (self, current) {
            (Change::Revoke, StatusValue::VALID | StatusValue::SUSPENDED) => Some(StatusValue::INVALID),
            (Change::Suspend, StatusValue::VALID) => Some(StatusValue::SUSPENDED),
            (Change::Reinstate, StatusValue::SUSPENDED) => Some(StatusValue::VALID),
            _ => None,
        }
    }
}

pub(super) fn new(args: &StatusNewArgs, err: &mut dyn Write) -> Result<()> {
    let bits = args.bits.parse::<u64>().map_err(|e| CliError::argument("--bits", e))?;
    let bits = Bits::new(bits).map_err(|e| CliError::argument("--bits", e))?;
    let list = StatusList::new(bits, args.size).map_err(|e| CliError::argument("--size", e))?;
    write_list(&list, &args.out, |path, bytes| files::write_new(path, bytes, args.force, Mode::Shared, WHAT))?;
    writeln!(err, "{}: {} entries of {} bit(s), all VALID", show(&args.out), list.len(), bits.get())?;
    Ok(())
}

pub(super) fn change(args: &StatusChangeArgs, change: Change, err: &mut dyn Write) -> Result<()> {
    let mut list = read_list(&args.list)?;
    let current = list.get(args.idx).map_err(|e| CliError::read(WHAT, &args.list, e))?;
    let refuse = || CliError::StatusTransition {
        action: change.verb(),
        index: args.idx,
        path: show(&args.list),
        current: current.to_string(),
    };
    let next = change.apply(current).ok_or_else(refuse)?;
    list.set(args.idx, next).map_err(|e| CliError::write(WHAT, &args.list, e))?;
    write_list(&list, &args.list, |path, bytes| files::write_atomically(path, bytes, Mode::Shared, WHAT))?;
    writeln!(err, "{}: entry {} {current} -> {next}", show(&args.list), args.idx)?;
    Ok(())
}

pub(super) fn token(args: &StatusTokenArgs, out: &mut dyn Write) -> Result<()> {
    let list = read_list(&args.list)?;
    let key = files::read_signing_key(&args.issuer_key, "issuer key file")?;
    let uri = StatusListUri::new(args.uri.as_str()).map_err(|e| CliError::argument("--uri", e))?;
    let iat = match args.iat {
        Some(iat) => iat,
        None => files::now()?,
    };
    let (did, kid) = super::did_key_of(key.verifying_key());
    let mut token = StatusListToken::new(uri, iat, list).with_issuer(did.as_str());
    if let Some(ttl) = args.ttl {
        token = token.with_ttl(ttl);
    }
    if let Some(exp) = args.exp {
        token = token.with_expires_at(exp);
    }
    let signed = token
        .sign(&key, Some(&kid))
        .map_err(|e| CliError::Credential { action: "signing the status list token", source: e.into() })?;
    writeln!(out, "{signed}")?;
    Ok(())
}

fn read_list(path: &Path) -> Result<StatusList> {
    let json = files::read_json_object(path, WHAT)?;
    StatusList::from_json(&Value::Object(json), &DecodeLimits::default()).map_err(|e| CliError::read(WHAT, path, e))
}

fn write_list(list: &StatusList, path: &Path, write: impl FnOnce(&Path, &[u8]) -> Result<()>) -> Result<()> {
    let mut text = list.to_json().to_string();
    text.push('\n');
    write(path, text.as_bytes())
}
