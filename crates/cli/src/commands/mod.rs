//! One module per subcommand; [`run`] dispatches.

use std::io::Write;

use crate::args::{Cli, Command, DidCommand, KeyCommand, StatusCommand};
use crate::error::Result;

mod did;
mod issue;
mod key;
mod present;
mod status;
mod verify;

/// Runs a parsed command line: results go to `out` (standard output), notes and warnings to
/// `err` (standard error). The caller prints the returned error and exits with
/// [`CliError::exit_code`](crate::CliError::exit_code).
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    match &cli.command {
        Command::Key(KeyCommand::New(args)) => key::new(args, out)?,
        Command::Key(KeyCommand::Public(args)) => key::public(args, out)?,
        Command::Did(DidCommand::Resolve(args)) => did::resolve(args, out)?,
        Command::Issue(args) => issue::issue(args, out)?,
        Command::Present(args) => present::present(args, out)?,
        Command::Verify(args) => verify::verify(args, out, err)?,
        Command::Status(StatusCommand::New(args)) => status::new(args, err)?,
        Command::Status(StatusCommand::Revoke(args)) => status::change(args, status::Change::Revoke, err)?,
        Command::Status(StatusCommand::Suspend(args)) => status::change(args, status::Change::Suspend, err)?,
        Command::Status(StatusCommand::Reinstate(args)) => status::change(args, status::Change::Reinstate, err)?,
        Command::Status(StatusCommand::Token(args)) => status::token(args, out)?,
    }
    out.flush()?;
    Ok(())
}

/// The did:key of a key and the DID URL that names it (`did:key:z…#z…`), for `iss` and `kid`.
fn did_key_of(key: &schooltas_did::VerifyingKey) -> (schooltas_did::Did, String) {
    let did = schooltas_did::did_key::did_for(&schooltas_did::PublicKey::Verifying(key.clone()));
    let kid = format!("{did}#{}", did.method_specific_id());
    (did, kid)
}

/// Dotted claim paths from repeated arguments, naming the argument that was wrong.
fn claim_paths(texts: &[String], argument: &'static str) -> Result<Vec<schooltas_credential::ClaimPath>> {
    texts
        .iter()
        .map(|text| {
            schooltas_credential::ClaimPath::parse_dotted(text)
                .map_err(|e| crate::error::CliError::argument(argument, e))
        })
        .collect()
}
