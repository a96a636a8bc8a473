//! `schooltas verify`

use std::io::Write;
use std::path::PathBuf;

use schooltas_credential::Error as CredentialError;
use schooltas_credential::sd_jwt::{KeyBinding, KeyBindingPolicy, TypPolicy, UnverifiedSdJwt, VerifyOptions};
use schooltas_credential::status_list::{FetchError, StatusListCache, StatusListUri};
use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::jws::Header;
use schooltas_did::{Did, DidUrl, Resolver, VerificationRelationship, VerifyingKey};
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
    let now = match args.now {
        Some(now) => now,
        None => files::now()?,
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

    let parsed = UnverifiedSdJwt::parse(text.trim()).map_err(CliError::Verification)?;
    let mut used_key = None;
    let verified = parsed
        .verify_with(
            |header, iss| {
                let key = match &issuer_key {
                    Some(key) => key.clone(),
                    None => issuer_key_from_did(header, iss)?,
                };
                used_key = Some(key.clone());
                Ok(key)
            },
            &options,
            now,
        )
        .map_err(CliError::Verification)?;

    let reference = verified.status_reference().map_err(CliError::Verification)?;
    match (status_token, reference) {
        (Some(token), Some(reference)) => {
            // verify_with asked for the issuer key before it could succeed.
            let key = status_key.or(used_key).ok_or(CliError::NoStatusKey)?;
            // The token comes from a file; the library checks that its sub is the URI the
            // credential names, its signature, its time claims and the entry.
            let cache = StatusListCache::new(move |_: &StatusListUri| Ok::<_, FetchError>(token.clone()));
            cache.check(&reference, &key, now).map_err(CliError::Verification)?;
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

/// The issuer key named by the credential itself: `iss` must be a DID, and a header `kid`, when
/// present, a key of that DID. did:key and did:jwk resolve offline, did:web over HTTPS; the key
/// must be listed under assertionMethod and match the header's algorithm.
fn issuer_key_from_did(header: &Header, iss: Option<&str>) -> schooltas_credential::Result<VerifyingKey> {
    let no_did = |reason: String| CredentialError::InvalidPayload { reason };
    let iss = iss.ok_or_else(|| no_did("no iss claim to find the issuer key by; pass --issuer-jwk".into()))?;
    let did = Did::parse(iss)
        .map_err(|_| no_did(format!("iss {iss:?} is not a DID, so its key cannot be resolved; pass --issuer-jwk")))?;
    let url = match header.kid() {
        None => DidUrl::from(did),
        Some(fragment) if fragment.starts_with('#') => did.with_fragment(&fragment[1..])?,
        Some(kid) => {
            let url = DidUrl::parse(kid)?;
            if url.did() != &did {
                return Err(no_did(format!("the header kid names a key of {}, but iss is {did}", url.did())));
            }
            url
        }
    };
    let alg = header.alg().ok_or_else(|| no_did("the header has no usable alg".into()))?;
    Ok(Resolver::with_web_fetcher(HttpsFetcher::new()).verifying_key(
        &url,
        VerificationRelationship::AssertionMethod,
        alg,
    )?)
}
