//! `schooltas request new|verify`: the verifier's side, one request at a time from files.
//!
//! A command run keeps no state between runs, so the replay check (each nonce answered
//! once) is the caller's: `request verify` checks everything else.

use std::io::Write;

use schooltas_did::{DidUrl, Signer as _};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, DcqlQuery, TransactionData, random_nonce};
use schooltas_verifier::{RequestBuilder, SignedRequest, VerificationContext, verify_response};
use serde_json::{Map, Value};

use crate::args::{RequestNewArgs, RequestVerifyArgs};
use crate::error::{CliError, Result};
use crate::files::{self, Mode};

pub(super) fn new(args: &RequestNewArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.verifier_key, "verifier key file")?;
    let query = files::read_json_object(&args.query, "query file")?;
    let query: DcqlQuery =
        serde_json::from_value(Value::Object(query)).map_err(|e| CliError::read("query file", &args.query, e))?;
    let mut transaction_data = Vec::new();
    for path in &args.transaction_data {
        let data = files::read_json_object(path, "transaction data file")?;
        let data: TransactionData = serde_json::from_value(Value::Object(data))
            .map_err(|e| CliError::read("transaction data file", path, e))?;
        transaction_data.push(data);
    }
    let now = super::now_or(args.now)?;
    let trust_list = super::trust_list(&args.trust, now)?;
    let (did, kid) = super::did_key_of(key.verifying_key());
    let kid = DidUrl::parse(&kid).map_err(|e| CliError::argument("--verifier-key", e))?;

    let current = trust_list.at(now).map_err(|source| CliError::TrustList {
        path: crate::error::show(&args.trust.trust_list),
        source: source.into(),
    })?;
    let mut builder = RequestBuilder::new(current, &did, args.response_uri.as_str(), args.purpose.as_str());
    if let Some(days) = args.retention_days {
        builder = builder.retention_days(days);
    }
    for credential in query.credentials {
        builder = builder.credential(credential);
    }
    for set in query.credential_sets.into_iter().flatten() {
        builder = builder.credential_set(set);
    }
    for data in transaction_data {
        builder = builder.transaction_data(data);
    }
    let building = |source| CliError::Credential { action: "building the request", source };
    let request = builder.build(random_nonce()).map_err(building)?;
    let signed = SignedRequest::sign(request, &key, &kid, now, args.lifetime)
        .map_err(|source| CliError::Credential { action: "signing the request", source })?;
    if let Some(path) = &args.out {
        let mut text = serde_json::to_string_pretty(&signed.request).map_err(std::io::Error::other)?;
        text.push('\n');
        files::write_new(path, text.as_bytes(), args.force, Mode::Private, "request file")?;
    }
    writeln!(out, "{}", signed.uri_by_value())?;
    Ok(())
}

/// The `direct_post` body: from `{"body": …}` as `wallet answer` prints it, or as is.
fn response_body(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(object)) if object.get("body").is_some_and(Value::is_string) => {
            object.get("body").and_then(Value::as_str).unwrap_or_default().to_owned()
        }
        _ => text.trim().to_owned(),
    }
}

pub(super) fn verify(args: &RequestVerifyArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.verifier_key, "verifier key file")?;
    let request = files::read_json_object(&args.request_file, "request file")?;
    let request: AuthorizationRequest = serde_json::from_value(Value::Object(request))
        .map_err(|e| CliError::read("request file", &args.request_file, e))?;
    let (did, _) = super::did_key_of(key.verifying_key());
    let client_id = format!("{}{did}", schooltas_oid4vc::oid4vp::DID_CLIENT_ID_PREFIX);
    if request.client_id != client_id {
        return Err(CliError::read(
            "request file",
            &args.request_file,
            format!("the request is from {}, not from this verifier ({client_id})", request.client_id),
        ));
    }
    let body = response_body(&files::read_text(&args.response, "response file")?);

    let status = super::status_cache(&args.status_list)?;

    let now = super::now_or(args.now)?;
    let trust_list = super::trust_list(&args.trust, now)?;
    let resolver = super::resolver()?;
    let context = VerificationContext::new(&trust_list, &resolver, &status, now);
    let verdict = verify_response(&request, &body, &context);
    if !verdict.is_accepted() {
        return Err(CliError::Refused { failures: verdict.failures.iter().map(ToString::to_string).collect() });
    }
    let mut credentials = Map::new();
    for credential in &verdict.credentials {
        credentials.insert(credential.query_id.clone(), Value::Object(credential.claims.clone()));
    }
    let accepted = serde_json::json!({
        "accepted": true,
        "subject": verdict.subject,
        "guardian_approval": verdict.guardian_approval_jwt.is_some(),
        "credentials": credentials,
    });
    super::print_json(out, &accepted)
}
