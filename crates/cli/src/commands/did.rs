//! `schooltas did resolve`

use std::io::Write;

use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::{Did, Resolver};

use crate::args::DidResolveArgs;
use crate::error::{CliError, Result};

pub(super) fn resolve(args: &DidResolveArgs, out: &mut dyn Write) -> Result<()> {
    let did = Did::parse(&args.did).map_err(|e| CliError::argument("DID", e))?;
    let document = Resolver::with_web_fetcher(HttpsFetcher::new())
        .resolve(&did)
        .map_err(|source| CliError::Did { action: "resolving the DID", source })?;
    let json = serde_json::to_string_pretty(&document.to_json()).map_err(std::io::Error::other)?;
    writeln!(out, "{json}")?;
    Ok(())
}
