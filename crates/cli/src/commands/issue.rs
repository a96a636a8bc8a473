//! `schooltas issue`

use std::io::Write;

use schooltas_did::Signer as _;
use schooltas_school::catalog::REGISTERED_CLAIMS;
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{RandomSalts, SdJwtBuilder, Vct};
use schooltas_status_list::{StatusListUri, StatusReference};
use serde_json::Value;

use crate::args::IssueArgs;
use crate::error::{CliError, Result};
use crate::files;

pub(super) fn issue(args: &IssueArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.issuer_key, "issuer key file")?;
    let mut claims = files::read_json_object(&args.claims, "claims file")?;
    let holder =
        args.holder_jwk.as_deref().map(|path| files::read_verifying_key(path, "holder key file")).transpose()?;

    // The arguments win over the claims file; the claims file over the defaults.
    let claimed =
        |claims: &serde_json::Map<String, Value>, name| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let vct = args.vct.clone().or_else(|| claimed(&claims, "vct")).ok_or(CliError::MissingVct)?;
    let vct = Vct::new(vct).map_err(|e| CliError::argument("--vct", e))?;
    let (issuer_did, kid) = super::did_key_of(key.verifying_key());
    let iss = args.iss.clone().or_else(|| claimed(&claims, "iss")).unwrap_or_else(|| issuer_did.to_string());
    let iat = match args.iat {
        Some(iat) => iat,
        None => files::now()?,
    };
    for name in ["vct", "iss", "iat"] {
        claims.remove(name);
    }

    let disclosable = if args.sd.is_empty() {
        claims.keys().filter(|name| !REGISTERED_CLAIMS.contains(&name.as_str())).map(ClaimPath::claim).collect()
    } else {
        super::claim_paths(&args.sd, "--sd")?
    };

    let mut builder = SdJwtBuilder::sd_jwt_vc(&vct, &iss, iat, claims);
    if iss == issuer_did.as_str() {
        // A verifier finds the key from iss and kid alone.
        builder = builder.kid(kid);
    }
    if let Some(exp) = args.exp {
        builder = builder.expires_at(exp);
    }
    if let (Some(uri), Some(index)) = (&args.status_uri, args.status_idx) {
        let uri = StatusListUri::new(uri.as_str()).map_err(|e| CliError::argument("--status-uri", e))?;
        builder = builder.status(StatusReference::new(uri, index).to_status_claim());
    }
    if let Some(holder) = &holder {
        builder = builder.holder_key(holder);
    }
    for path in disclosable {
        builder = builder.disclosable(path);
    }
    let issued = builder
        .issue(&key, &mut RandomSalts)
        .map_err(|e| CliError::Credential { action: "issuing", source: e.into() })?;
    writeln!(out, "{issued}")?;
    Ok(())
}
