//! `schooltas trust-list sign|show`

use std::io::Write;

use schooltas_did::{DidUrl, Signer as _};
use schooltas_school::trust_list::TrustList;
use serde_json::Value;

use crate::args::{TrustListShowArgs, TrustListSignArgs};
use crate::error::{CliError, Result};
use crate::files;

pub(super) fn sign(args: &TrustListSignArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.operator_key, "operator key file")?;
    let mut json = files::read_json_object(&args.list, "trust list file")?;
    let kid = match &args.operator_kid {
        Some(kid) => DidUrl::parse(kid).map_err(|e| CliError::argument("--operator-kid", e))?,
        None => {
            let (_, kid) = super::did_key_of(key.verifying_key());
            DidUrl::parse(&kid).map_err(|e| CliError::argument("--operator-key", e))?
        }
    };
    // The arguments win over the file; the file over the defaults.
    if !json.contains_key("iss") {
        json.insert("iss".into(), Value::String(kid.did().to_string()));
    }
    match args.iat {
        Some(iat) => {
            json.insert("iat".into(), iat.into());
        }
        None if !json.contains_key("iat") => {
            json.insert("iat".into(), files::now()?.into());
        }
        None => {}
    }
    if let Some(exp) = args.exp {
        json.insert("exp".into(), exp.into());
    }
    if !json.contains_key("exp") {
        return Err(CliError::read("trust list file", &args.list, "no \"exp\": pass --exp UNIX"));
    }
    let list: TrustList =
        serde_json::from_value(Value::Object(json)).map_err(|e| CliError::read("trust list file", &args.list, e))?;
    let jwt =
        list.sign(&key, &kid).map_err(|source| CliError::Credential { action: "signing the trust list", source })?;
    writeln!(out, "{jwt}")?;
    Ok(())
}

pub(super) fn show(args: &TrustListShowArgs, out: &mut dyn Write) -> Result<()> {
    let now = super::now_or(args.now)?;
    let list = super::load_trust_list(&args.input, &args.operator, "--operator", now)?;
    super::print_json(out, list.content())
}
