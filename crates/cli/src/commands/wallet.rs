//! `schooltas wallet init|list|log|consents|withdraw|answer|approve|approve-child|complete`
//!
//! A child's request that needs a parent goes to the parent's phone either as a file
//! (`answer --to-parent`, `approve-child`, `complete --answer`) or through the school's relay,
//! end-to-end encrypted (`answer --relay --handover`, `approve --link`, `complete --handover`).
//!
//! The wallet file is the library's encrypted vault; the passphrase comes from the
//! environment variable `SCHOOLTAS_PASSPHRASE` only, so it never shows in a process list or a
//! shell history.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use schooltas_did::Resolver;
use schooltas_school::catalog::Language;
use schooltas_school::date::CalendarDate;
use schooltas_wallet::relay::{HandOver, fetch_request};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault};
use schooltas_wallet::{Decision, GuardianAnswer, GuardianRequest, Outcome, ResponseToSend, Role, Verifiers, Wallet};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::args::{
    Lang, WalletAddArgs, WalletAnswerArgs, WalletApproveArgs, WalletApproveChildArgs, WalletCompleteArgs,
    WalletFileArgs, WalletInitArgs, WalletLogArgs, WalletReceiveArgs, WalletWithdrawArgs,
};
use crate::error::{CliError, Result};
use crate::files::{self, Mode};

/// The environment variable holding the wallet passphrase.
pub(crate) const PASSPHRASE_VAR: &str = "SCHOOLTAS_PASSPHRASE";

fn passphrase() -> Result<Zeroizing<String>> {
    match std::env::var(PASSPHRASE_VAR) {
        Ok(passphrase) if !passphrase.is_empty() => Ok(Zeroizing::new(passphrase)),
        _ => Err(CliError::MissingPassphrase),
    }
}

fn failed(action: &'static str) -> impl FnOnce(schooltas_wallet::Error) -> CliError {
    move |source| CliError::Wallet { action, source }
}

/// Opens the wallet file with the passphrase.
fn open(path: &Path) -> Result<Wallet> {
    let passphrase = passphrase()?;
    let vault = Vault::open(path, Unlock::Passphrase(&passphrase)).map_err(failed("opening the wallet"))?;
    Wallet::open(vault).map_err(failed("opening the wallet"))
}

pub(super) fn init(args: &WalletInitArgs, out: &mut dyn Write) -> Result<()> {
    let passphrase = passphrase()?;
    let role = match (&args.birth_date, args.parent) {
        (Some(date), false) => {
            Role::Child { birth_date: CalendarDate::parse(date).map_err(|e| CliError::argument("--birth-date", e))? }
        }
        _ => Role::Parent,
    };
    let now = super::now_or(args.now)?;
    let params = if args.kdf_insecure_for_tests { KdfParams::INSECURE_FOR_TESTS } else { KdfParams::default() };
    if args.wallet.exists() {
        return Err(CliError::AlreadyExists { what: "wallet file", path: crate::error::show(&args.wallet) });
    }
    let vault =
        Vault::create(&args.wallet, Unlock::Passphrase(&passphrase), params).map_err(failed("creating the wallet"))?;
    // Before the owner's identity key is written: only the owner may read the file (SQLite
    // gives its journal files the same mode).
    files::restrict_to_owner(&args.wallet, "wallet file")?;
    for suffix in ["-wal", "-shm"] {
        let mut journal = args.wallet.clone().into_os_string();
        journal.push(suffix);
        let journal = std::path::PathBuf::from(journal);
        if journal.exists() {
            files::restrict_to_owner(&journal, "wallet file")?;
        }
    }
    let wallet = Wallet::create(vault, role, now).map_err(failed("creating the wallet"))?;
    writeln!(out, "{}", wallet.owner().did())?;
    Ok(())
}

pub(super) fn list(args: &WalletFileArgs, out: &mut dyn Write) -> Result<()> {
    let wallet = open(&args.wallet)?;
    let credentials = wallet.credentials().map_err(failed("listing the credentials"))?;
    let listed: Vec<Value> = credentials
        .iter()
        .map(|c| {
            json!({
                "batch": c.batch,
                "vct": c.vct,
                "name": {"nl": c.name.0, "en": c.name.1},
                "issuer": c.issuer,
                "received_at": c.received_at,
                "unused_copies": c.unused_copies,
                "copies": c.copies,
            })
        })
        .collect();
    super::print_json(out, &listed)
}

pub(super) fn log(args: &WalletLogArgs, out: &mut dyn Write) -> Result<()> {
    let wallet = open(&args.wallet)?;
    if args.verify {
        let entries = wallet.log().map_err(failed("verifying the log"))?;
        writeln!(out, "the log's hash chain verifies: {} entries", entries.len())?;
        return Ok(());
    }
    let json = wallet.export_log().map_err(failed("exporting the log"))?;
    writeln!(out, "{json}")?;
    Ok(())
}

pub(super) fn consents(args: &WalletFileArgs, out: &mut dyn Write) -> Result<()> {
    let wallet = open(&args.wallet)?;
    let consents = wallet.consents().map_err(failed("listing the consents"))?;
    super::print_json(out, &consents)
}

pub(super) fn withdraw(args: &WalletWithdrawArgs, out: &mut dyn Write) -> Result<()> {
    let wallet = open(&args.wallet)?;
    let now = super::now_or(args.now)?;
    let message = wallet.withdraw(&args.consent, now).map_err(failed("withdrawing the consent"))?;
    writeln!(out, "{}", message.jwt)?;
    Ok(())
}

/// Request objects by reference, over HTTPS (internal addresses refused after DNS resolution).
fn fetch_request_object(url: &str) -> schooltas_wallet::Result<String> {
    let client =
        super::guarded_client().map_err(|e| schooltas_wallet::Error::InvalidInput { reason: e.to_string() })?;
    schooltas_wallet::http::HttpsRequestObjectFetcher::new().with_client(client).fetch(url)
}

/// `all`, `none`, or `QUERY:PATH,QUERY:PATH,…`.
fn decision(text: &str) -> Result<Decision> {
    match text {
        "all" => return Ok(Decision::ApproveAll),
        "none" => return Ok(Decision::Deny),
        _ => {}
    }
    let mut selection: BTreeMap<String, Vec<schooltas_sd_jwt::ClaimPath>> = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        let Some((query, path)) = item.split_once(':') else {
            return Err(CliError::argument(
                "--approve",
                std::io::Error::other(format!("{item:?} is not QUERY:PATH (or all, none)")),
            ));
        };
        let path = schooltas_sd_jwt::ClaimPath::parse_dotted(path).map_err(|e| CliError::argument("--approve", e))?;
        selection.entry(query.to_owned()).or_default().push(path);
    }
    if selection.is_empty() {
        return Err(CliError::argument("--approve", std::io::Error::other("expected all, none or QUERY:PATH,…")));
    }
    Ok(Decision::Approve(selection))
}

fn print_response(out: &mut dyn Write, response: &ResponseToSend) -> Result<()> {
    super::print_json(
        out,
        &json!({"response_uri": response.response_uri, "body": response.body, "discloses": response.discloses}),
    )
}

/// Posts `response` to its `response_uri` through the guarded client; prints where the verifier
/// sends the person next, if anywhere.
fn send_response(out: &mut dyn Write, err: &mut dyn Write, response: &ResponseToSend) -> Result<()> {
    let connection = schooltas_wallet::issuer_http::HttpsIssuerConnection::with_client(super::guarded_client()?);
    let redirect = connection.post_response(response).map_err(failed("sending the response"))?;
    writeln!(err, "schooltas: the verifier accepted the response")?;
    super::print_json(out, &json!({"sent": true, "discloses": response.discloses, "redirect_uri": redirect}))
}

pub(super) fn answer(args: &WalletAnswerArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    // Check the decision's syntax before anything is logged in the wallet.
    let decided = args.approve.as_deref().map(decision).transpose()?;
    if let Some(path) = args.to_parent.as_deref().filter(|path| path.exists()) {
        return Err(CliError::AlreadyExists { what: "request to the parent", path: crate::error::show(path) });
    }
    let uri = if args.request.starts_with("openid4vp:") {
        args.request.clone()
    } else {
        files::read_text(Path::new(&args.request), "request file")?.trim().to_owned()
    };
    let now = super::now_or(args.now)?;
    let trust_list = super::trust_list(&args.trust, now)?;
    let resolver: Resolver = super::resolver()?;
    let fetch: &dyn Fn(&str) -> schooltas_wallet::Result<String> = &fetch_request_object;
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(fetch) };
    let wallet = open(&args.wallet)?;

    let prompt = wallet.handle_request(&uri, &verifiers, now).map_err(failed("reading the request"))?;
    let language = match args.lang {
        Lang::Nl => Language::Nl,
        Lang::En => Language::En,
    };
    write!(err, "{}", prompt.render(language))?;
    let Some(decided) = decided else {
        writeln!(err, "schooltas: no --approve given: nothing was sent; the request is {}", prompt.request_id)?;
        return super::print_json(out, &prompt);
    };
    match wallet.decide(&prompt.request_id, decided, now).map_err(failed("deciding"))? {
        Outcome::Send(response) if args.send => send_response(out, err, &response),
        Outcome::Send(response) => print_response(out, &response),
        Outcome::AwaitGuardian(request) if args.relay.is_some() => hand_over(args, &request, out, err),
        Outcome::AwaitGuardian(request) => match &args.to_parent {
            Some(path) => {
                let mut text = serde_json::to_string_pretty(&request).map_err(std::io::Error::other)?;
                text.push('\n');
                // The child's presentations are in it: only the owner may read it.
                files::write_new(path, text.as_bytes(), false, Mode::Private, "request to the parent")?;
                writeln!(
                    err,
                    "schooltas: a parent must approve; the request for the parent's wallet is in {}",
                    crate::error::show(path)
                )?;
                Ok(())
            }
            None => {
                writeln!(err, "schooltas: a parent must approve; pass this to `schooltas wallet approve-child`")?;
                super::print_json(out, &request)
            }
        },
    }
}

/// Hands `request` over through the relay: keeps the hand-over (with its key) in the
/// `--handover` file, prints the parent's link.
fn hand_over(
    args: &WalletAnswerArgs,
    request: &GuardianRequest,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let (Some(relay), Some(path)) = (args.relay.as_deref(), args.handover.as_deref()) else {
        return Err(CliError::argument("--relay", std::io::Error::other("--relay needs --handover FILE")));
    };
    if path.exists() {
        return Err(CliError::AlreadyExists { what: "hand-over file", path: crate::error::show(path) });
    }
    let client = super::guarded_client()?;
    let hand_over = HandOver::send(&client, relay, request).map_err(failed("handing the request over"))?;
    let mut text = Zeroizing::new(serde_json::to_string_pretty(&hand_over).map_err(std::io::Error::other)?);
    text.push('\n');
    // It holds the key to the child's presentations: only the owner may read it.
    files::write_new(path, text.as_bytes(), false, Mode::Private, "hand-over file")?;
    writeln!(
        err,
        "schooltas: a parent must approve; show this link to the parent's phone (as a QR code, or over a \
         private channel: whoever holds it can read the request until it expires). The hand-over is kept in {}",
        crate::error::show(path)
    )?;
    writeln!(out, "{}", hand_over.link().as_str())?;
    Ok(())
}

/// The link from `--link`: the link itself, `-` for standard input, or a file holding it.
fn link_text(given: &str) -> Result<Zeroizing<String>> {
    if given.starts_with("https://") || given.starts_with(schooltas_wallet::relay::APP_SCHEME) {
        return Ok(Zeroizing::new(given.to_owned()));
    }
    let text = Zeroizing::new(files::read_text(Path::new(given), "hand-over link")?);
    Ok(Zeroizing::new(text.trim().to_owned()))
}

pub(super) fn approve(args: &WalletApproveArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let link = link_text(&args.link)?;
    let now = super::now_or(args.now)?;
    let trust_list = super::trust_list(&args.trust, now)?;
    let resolver = super::resolver()?;
    let fetch: &dyn Fn(&str) -> schooltas_wallet::Result<String> = &fetch_request_object;
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(fetch) };
    let wallet = open(&args.wallet)?;
    let client = super::guarded_client()?;
    let (request, reply) = fetch_request(&client, &link).map_err(failed("fetching the child's request"))?;
    let review = wallet.review_child_request(&request, &verifiers, now).map_err(failed("reviewing the request"))?;
    let shown = serde_json::to_string_pretty(&review).map_err(std::io::Error::other)?;
    writeln!(err, "{shown}")?;
    let answer: GuardianAnswer =
        wallet.answer_child_request(&request, args.yes, &verifiers, now).map_err(failed("answering the child"))?;
    reply.send(&client, &answer).map_err(failed("sending the answer"))?;
    writeln!(err, "schooltas: the answer is on its way to the child's phone")?;
    super::print_json(out, &json!({"sent": true, "approved": matches!(answer, GuardianAnswer::Approved { .. })}))
}

pub(super) fn approve_child(args: &WalletApproveChildArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let text = files::read_text(&args.request, "request from the child")?;
    let request: GuardianRequest = schooltas_did::strict_json::from_str(&text)
        .map_err(|e| CliError::read("request from the child", &args.request, e))?;
    let now = super::now_or(args.now)?;
    let trust_list = super::trust_list(&args.trust, now)?;
    let resolver = super::resolver()?;
    let fetch: &dyn Fn(&str) -> schooltas_wallet::Result<String> = &fetch_request_object;
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(fetch) };
    let wallet = open(&args.wallet)?;
    let review = wallet.review_child_request(&request, &verifiers, now).map_err(failed("reviewing the request"))?;
    let shown = serde_json::to_string_pretty(&review).map_err(std::io::Error::other)?;
    writeln!(err, "{shown}")?;
    let answer: GuardianAnswer =
        wallet.answer_child_request(&request, args.yes, &verifiers, now).map_err(failed("answering the child"))?;
    super::print_json(out, &answer)
}

pub(super) fn complete(args: &WalletCompleteArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let answer: GuardianAnswer = match (&args.answer, &args.handover) {
        (Some(path), _) => {
            let text = files::read_text(path, "parent's answer")?;
            schooltas_did::strict_json::from_str(&text).map_err(|e| CliError::read("parent's answer", path, e))?
        }
        (None, Some(path)) => {
            let text = Zeroizing::new(files::read_text(path, "hand-over file")?);
            let hand_over: HandOver =
                serde_json::from_str(&text).map_err(|e| CliError::read("hand-over file", path, e))?;
            let polled = hand_over.poll_answer(&super::guarded_client()?).map_err(failed("asking for the answer"))?;
            polled.ok_or(CliError::AnswerPending)?
        }
        (None, None) => {
            return Err(CliError::argument("--answer", std::io::Error::other("give --answer FILE or --handover FILE")));
        }
    };
    let now = super::now_or(args.now)?;
    let wallet = open(&args.wallet)?;
    let response = wallet.complete_with_guardian(&answer, now).map_err(failed("completing the request"))?;
    if args.send { send_response(out, err, &response) } else { print_response(out, &response) }
}

pub(super) fn add(args: &WalletAddArgs, out: &mut dyn Write) -> Result<()> {
    let credential = files::read_text(&args.credential, "credential file")?.trim().to_owned();
    let holder_key = files::read_signing_key(&args.holder_key, "holder key file")?;
    let status = super::status_cache(&args.status_list)?;
    let now = super::now_or(args.now)?;
    let resolver: Resolver = super::resolver()?;
    let trust_list = optional_trust_list(args.trust_list.as_deref(), args.trust_operator.as_deref(), now)?;
    let trusted = trust_list.as_ref().map(|list| schooltas_wallet::receive::trusted_issuer_key(list, &resolver, now));
    let by_did = |header: &schooltas_did::jws::Header, iss: Option<&str>| match iss {
        Some(iss) if iss.starts_with("https://") => Err(schooltas_sd_jwt::Error::IssuerKey {
            reason: "the issuer is named by an https identifier, trusted only through its certificate chain: pass --trust-list and --trust-operator",
        }),
        _ => schooltas_sd_jwt::issuer_key_via_did(&resolver, header, iss),
    };
    let issuer_key: &dyn schooltas_wallet::receive::IssuerTrust = match &trusted {
        Some(trusted) => trusted,
        None => &by_did,
    };
    let wallet = open(&args.wallet)?;
    let summary = wallet
        .add_credential(&credential, &holder_key, issuer_key, &status, now)
        .map_err(failed("adding the credential"))?;
    super::print_json(
        out,
        &json!({"batch": summary.batch, "vct": summary.vct, "name": summary.name.1, "issuer": summary.issuer}),
    )
}

/// The trust list of `--trust-list` / `--trust-operator`, when given (clap requires both or
/// neither).
fn optional_trust_list(
    list: Option<&Path>,
    operator: Option<&str>,
    now: i64,
) -> Result<Option<schooltas_school::trust_list::VerifiedTrustList>> {
    match (list, operator) {
        (Some(list), Some(operator)) => Ok(Some(super::load_trust_list(list, operator, "--trust-operator", now)?)),
        _ => Ok(None),
    }
}

/// The environment variable holding an offer's PIN (`tx_code`) when `--pin-stdin` is not given.
pub(crate) const PIN_VAR: &str = "SCHOOLTAS_PIN";

/// The PIN: the first line of standard input with `--pin-stdin`, else [`PIN_VAR`], else none.
fn pin(from_stdin: bool) -> Result<Option<Zeroizing<String>>> {
    if from_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().read_line(&mut line).map_err(|e| CliError::read("PIN", Path::new("-"), e))?;
        let pin = Zeroizing::new(line.trim().to_owned());
        return Ok((!pin.is_empty()).then_some(pin));
    }
    Ok(std::env::var(PIN_VAR).ok().filter(|pin| !pin.is_empty()).map(Zeroizing::new))
}

pub(super) fn receive(args: &WalletReceiveArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let offer = if args.offer.starts_with("openid-credential-offer:") {
        args.offer.clone()
    } else {
        files::read_text(Path::new(&args.offer), "offer file")?.trim().to_owned()
    };
    let pin = pin(args.pin_stdin)?;
    let status = super::status_cache(&args.status_list)?;
    let now = super::now_or(args.now)?;
    let resolver: Resolver = super::resolver()?;
    let trust_list = optional_trust_list(args.trust_list.as_deref(), args.trust_operator.as_deref(), now)?;
    let trusted = trust_list.as_ref().map(|list| schooltas_wallet::receive::trusted_issuer_key(list, &resolver, now));
    let by_did = |header: &schooltas_did::jws::Header, iss: Option<&str>| match iss {
        Some(iss) if iss.starts_with("https://") => Err(schooltas_sd_jwt::Error::IssuerKey {
            reason: "the issuer is named by an https identifier, trusted only through its certificate chain: pass --trust-list and --trust-operator",
        }),
        _ => schooltas_sd_jwt::issuer_key_via_did(&resolver, header, iss),
    };
    let issuer_key: &dyn schooltas_wallet::receive::IssuerTrust = match &trusted {
        Some(trusted) => trusted,
        None => &by_did,
    };
    let connection = schooltas_wallet::issuer_http::HttpsIssuerConnection::with_client(super::guarded_client()?);
    let wallet = open(&args.wallet)?;
    let receiver = schooltas_wallet::receive::Receiver {
        vault: wallet.vault(),
        connection: &connection,
        catalog: wallet.catalog(),
        issuer_key,
        status: &status,
        copies: args.copies,
        key_attestor: None,
        wallet_attestor: None,
        holder_keys: None,
    };
    let stored =
        receiver.receive(&offer, pin.as_deref().map(String::as_str), now).map_err(failed("receiving the offer"))?;
    let summary: Vec<_> = stored
        .iter()
        .map(|(configuration, vct, copies)| json!({"configuration": configuration, "vct": vct, "copies": copies}))
        .collect();
    let copies: usize = stored.iter().map(|(_, _, copies)| copies).sum();
    writeln!(err, "schooltas: stored {} credential(s), {copies} copies", stored.len())?;
    super::print_json(out, &json!({ "received": summary }))
}
