//! `schooltas verify`

use std::io::Write;
use std::path::PathBuf;

use schooltas_did::Did;
use schooltas_sd_jwt::{
    Error as SdJwtError, KeyBinding, KeyBindingPolicy, TypPolicy, UnverifiedSdJwt, VerifyOptions, issuer_key_via_did,
};
use schooltas_status_list::{FetchError, StatusListCache, StatusListUri};
use serde_json::Value;

use crate::args::VerifyArgs;
use crate::error::{CliError, Result};
use crate::files;

pub(super) fn verify(args: &VerifyArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let input = args.input.clone().unwrap_or_else(|| PathBuf::from("-"));
    let text = files::read_text(&input, "presentation")?;
    let issuer_key = args.issuer_jwk.as_deref().map(|p| files::read_verifying_key(p, "issuer key file")).transpose()?;
    let status_key = args.status_key.as_deref().map(|p| files::read_verifying_key(p, "status key file")).transpose()?;
    let status_token =
        args.status_list.as_deref().map(|p| files::read_text(p, "status list token file")).transpose()?;
    let now = super::now_or(args.now)?;
    let trust_list = match (&args.trust_list, &args.trust_operator) {
        (Some(path), Some(operator)) => Some(super::load_trust_list(path, operator, "--trust-operator", now)?),
        _ => None,
    };

    let mut options = VerifyOptions::sd_jwt_vc_as_issued();
    if let Some(typ) = &args.typ {
        options.typ = TypPolicy::Exact(typ.clone());
    }
    options.key_binding = if args.no_kb {
        KeyBindingPolicy::NotRequired
    } else {
        // Never a silent fallback to no key binding: without --no-kb both are needed.
        let (Some(nonce), Some(aud)) = (&args.nonce, &args.aud) else {
            return Err(CliError::MissingKeyBinding { needed: "--nonce and --aud" });
        };
        KeyBindingPolicy::Required(KeyBinding::new(nonce.as_str(), aud.as_str()))
    };

    let parsed = UnverifiedSdJwt::parse(text.trim()).map_err(|e| CliError::Verification(e.into()))?;
    let resolver = super::resolver()?;
    let mut used_key = None;
    let verified = parsed
        .verify_with(
            |header, iss| {
                let key = match &issuer_key {
                    Some(key) => key.clone(),
                    None => issuer_key_via_did(&resolver, header, iss)?,
                };
                used_key = Some(key.clone());
                Ok(key)
            },
            &options,
            now,
        )
        .map_err(|error| match error {
            SdJwtError::IssuerKey { .. } if issuer_key.is_none() => CliError::IssuerKeyNotFound(error.into()),
            other => CliError::Verification(other.into()),
        })?;

    if let Some(list) = &trust_list {
        // The issuer must be accredited for this type: the DID its key came from, the vct
        // the credential states.
        let not_accredited = |reason: String| CliError::Verification(SdJwtError::InvalidPayload { reason }.into());
        let iss = verified.issuer().ok_or_else(|| not_accredited("the credential has no iss".into()))?;
        let vct = verified.vct().ok_or_else(|| not_accredited("the credential has no vct".into()))?;
        let did = Did::parse(iss).map_err(|_| not_accredited(format!("iss {iss:?} is not a DID")))?;
        list.at(now)
            .and_then(|current| current.check_issuer(&did, vct).map(drop))
            .map_err(|e| CliError::Verification(e.into()))?;
    }

    let reference = verified.status_reference().map_err(|e| CliError::Verification(e.into()))?;
    match (status_token, reference) {
        (Some(token), Some(reference)) => {
            // verify_with asked for the issuer key before it could succeed.
            let key = status_key.or(used_key).ok_or(CliError::NoStatusKey)?;
            // The token comes from a file; the library checks that its sub is the URI the
            // credential names, its signature, its time claims and the entry.
            let cache = StatusListCache::new(move |_: &StatusListUri| Ok::<_, FetchError>(token.clone()));
            cache.check(&reference, &key, now).map_err(|e| CliError::Verification(e.into()))?;
        }
        (Some(_), None) => return Err(CliError::NoStatusReference),
        (None, Some(reference)) => writeln!(
            err,
            "schooltas: warning: status not checked (entry {} of {}); pass --status-list to check it",
            reference.index(),
            reference.uri()
        )?,
        (None, None) => {}
    }

    let json = serde_json::to_string_pretty(&Value::Object(verified.into_claims())).map_err(std::io::Error::other)?;
    writeln!(out, "{json}")?;
    Ok(())
}
