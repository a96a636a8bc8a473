//! One module per subcommand; [`run`] dispatches.

use std::io::Write;

use std::path::Path;

use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::{Did, Resolver};
use schooltas_school::trust_list::{UnverifiedTrustList, VerifiedTrustList};

use crate::args::{
    CaCommand, Cli, Command, DidCommand, KeyCommand, RequestCommand, SchoolCommand, ServeCommand, StatusCommand,
    TrustArgs, TrustListCommand, WalletCommand,
};
use crate::error::{CliError, Result, show};
use crate::files;

mod ca;
mod did;
mod issue;
mod key;
mod present;
mod request;
mod school;
mod serve;
mod status;
mod trust;
mod verify;
mod wallet;

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
        Command::Ca(CaCommand::Root(args)) => ca::root(args, out)?,
        Command::Ca(CaCommand::Issuer(args)) => ca::issue(args, ca::Leaf::Issuer, out)?,
        Command::Ca(CaCommand::Verifier(args)) => ca::issue(args, ca::Leaf::Verifier, out)?,
        Command::TrustList(TrustListCommand::Sign(args)) => trust::sign(args, out)?,
        Command::TrustList(TrustListCommand::Show(args)) => trust::show(args, out)?,
        Command::Wallet(WalletCommand::Init(args)) => wallet::init(args, out)?,
        Command::Wallet(WalletCommand::List(args)) => wallet::list(args, out)?,
        Command::Wallet(WalletCommand::Log(args)) => wallet::log(args, out)?,
        Command::Wallet(WalletCommand::Consents(args)) => wallet::consents(args, out)?,
        Command::Wallet(WalletCommand::Withdraw(args)) => wallet::withdraw(args, out)?,
        Command::Wallet(WalletCommand::Answer(args)) => wallet::answer(args, out, err)?,
        Command::Wallet(WalletCommand::ApproveChild(args)) => wallet::approve_child(args, out, err)?,
        Command::Wallet(WalletCommand::Approve(args)) => wallet::approve(args, out, err)?,
        Command::Wallet(WalletCommand::Complete(args)) => wallet::complete(args, out, err)?,
        Command::Wallet(WalletCommand::Add(args)) => wallet::add(args, out)?,
        Command::Wallet(WalletCommand::Receive(args)) => wallet::receive(args, out, err)?,
        Command::Request(RequestCommand::New(args)) => request::new(args, out)?,
        Command::Request(RequestCommand::Verify(args)) => request::verify(args, out)?,
        Command::Serve(args) => match &args.init {
            Some(ServeCommand::Init(init)) => serve::init(init, out)?,
            Some(ServeCommand::PublicKeys(school)) => serve::public_keys(school, out)?,
            None => serve::serve(&args.school, out)?,
        },
        Command::School(SchoolCommand::Import(args)) => school::import(args, out)?,
        Command::School(SchoolCommand::Offers(args)) => school::offers(args, out)?,
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
fn claim_paths(texts: &[String], argument: &'static str) -> Result<Vec<schooltas_sd_jwt::ClaimPath>> {
    texts
        .iter()
        .map(|text| {
            schooltas_sd_jwt::ClaimPath::parse_dotted(text).map_err(|e| crate::error::CliError::argument(argument, e))
        })
        .collect()
}

/// The environment variable naming a PEM file of CA certificates that every HTTPS fetch
/// trusts **instead of** the Web PKI roots: a closed deployment with its own PKI, or a demo
/// with a throw-away CA.
pub(crate) const CA_FILE_VAR: &str = "SCHOOLTAS_CA_FILE";

/// The environment variable that, set to `1`, lets every fetch reach loopback, private and
/// other internal addresses: **for a demo or a test on one machine only** (URLs in offers and
/// requests come from outside; this lifts the guard against them reaching the home network).
pub(crate) const PRIVATE_ADDRESSES_VAR: &str = "SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES";

/// The guarded HTTPS client every fetch of a command goes through, with [`CA_FILE_VAR`] and
/// [`PRIVATE_ADDRESSES_VAR`] applied.
fn guarded_client() -> Result<schooltas_did::net::GuardedClient> {
    let mut client = schooltas_did::net::GuardedClient::new(concat!("schooltas-cli/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = std::env::var_os(CA_FILE_VAR).filter(|p| !p.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let pem = files::read_text(&path, "CA file")?;
        client = client.with_trust_anchors_pem(pem.as_bytes()).map_err(|e| CliError::argument(CA_FILE_VAR, e))?;
    }
    if std::env::var(PRIVATE_ADDRESSES_VAR).is_ok_and(|v| v == "1") {
        client = client.dangerous_allow_private_addresses();
    }
    Ok(client)
}

/// DID resolution as the command does it: did:key and did:jwk offline, did:web over HTTPS.
fn resolver() -> Result<Resolver> {
    Ok(Resolver::with_web_fetcher(HttpsFetcher::new().with_client(guarded_client()?)))
}

/// `given`, else the system clock.
fn now_or(given: Option<i64>) -> Result<i64> {
    match given {
        Some(now) => Ok(now),
        None => files::now(),
    }
}

/// Clock difference tolerated on trust lists (seconds).
const TRUST_LIST_SKEW: i64 = 60;

/// Reads a signed trust list and returns it once it verifies: signed by `operator` (its key
/// resolved from the DID), well formed and current at `now`.
fn load_trust_list(path: &Path, operator: &str, argument: &'static str, now: i64) -> Result<VerifiedTrustList> {
    let operator = Did::parse(operator).map_err(|e| CliError::argument(argument, e))?;
    let text = files::read_text(path, "trust list")?;
    let trust_error = |source| CliError::TrustList { path: show(path), source };
    let resolver = resolver()?;
    UnverifiedTrustList::parse(text.trim())
        .and_then(|list| list.verify_with_resolver(&resolver, &operator, now, TRUST_LIST_SKEW))
        .map_err(trust_error)
}

/// [`load_trust_list`] from the common `--trust-list --trust-operator` arguments.
fn trust_list(args: &TrustArgs, now: i64) -> Result<VerifiedTrustList> {
    load_trust_list(&args.trust_list, &args.trust_operator, "--trust-operator", now)
}

/// Writes `value` as pretty JSON and a newline.
fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    writeln!(out, "{json}")?;
    Ok(())
}

/// A status list cache that reads `URI=TOKEN_FILE` pairs first and fetches other lists over HTTPS.
fn status_cache(pairs: &[String]) -> Result<schooltas_status_list::StatusListCache> {
    use schooltas_status_list::{FetchError, StatusListCache, StatusListFetcher as _, StatusListUri};
    let mut tokens: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for pair in pairs {
        let Some((uri, path)) = pair.split_once('=') else {
            return Err(CliError::argument("--status-list", std::io::Error::other("expected URI=TOKEN_FILE")));
        };
        let uri = StatusListUri::new(uri).map_err(|e| CliError::argument("--status-list", e))?;
        let token = crate::files::read_text(std::path::Path::new(path), "status list token file")?;
        tokens.insert(uri.as_str().to_owned(), token.trim().to_owned());
    }
    let https = schooltas_verifier::HttpsStatusListFetcher::new().with_client(guarded_client()?);
    Ok(StatusListCache::new(move |uri: &StatusListUri| -> std::result::Result<String, FetchError> {
        match tokens.get(uri.as_str()) {
            Some(token) => Ok(token.clone()),
            None => https.fetch(uri),
        }
    }))
}
