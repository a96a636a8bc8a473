//! The command line, as clap types. Parsing only: every check of a value's meaning happens in
//! the library types the commands build from these strings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `schooltas`: keys, DIDs, SD-JWT VCs and status lists for Dutch schools.
#[derive(Debug, Parser)]
#[command(name = "schooltas", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. New ones (the wallet) are added as variants.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Signing keys: generate one, or show the public half of one.
    #[command(subcommand)]
    Key(KeyCommand),
    /// DIDs: resolve one to its DID document.
    #[command(subcommand)]
    Did(DidCommand),
    /// Issue an SD-JWT VC (typ dc+sd-jwt) from a JSON claims file.
    Issue(IssueArgs),
    /// Present an issued SD-JWT VC: only the chosen claims, bound to a verifier's nonce.
    Present(PresentArgs),
    /// Verify an SD-JWT VC presentation; prints the verified claims as JSON.
    Verify(VerifyArgs),
    /// Token Status Lists: create, change entries, sign.
    #[command(subcommand)]
    Status(StatusCommand),
}

/// `schooltas key …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum KeyCommand {
    /// Generate a key: writes the private JWK to --out (mode 0600), prints the public JWK and
    /// its did:key.
    New(KeyNewArgs),
    /// Print the public JWK and did:key of a private JWK file.
    Public(KeyPublicArgs),
}

/// `schooltas key new`
#[derive(Debug, Args)]
pub struct KeyNewArgs {
    /// The signature algorithm.
    #[arg(long, value_enum, ignore_case = true)]
    pub alg: Alg,
    /// Where to write the private JWK. Created with mode 0600 on Unix.
    #[arg(long, value_name = "KEY.jwk")]
    pub out: PathBuf,
    /// Replace an existing file at --out.
    #[arg(long)]
    pub force: bool,
}

/// `schooltas key public`
#[derive(Debug, Args)]
pub struct KeyPublicArgs {
    /// The private JWK file.
    #[arg(long, value_name = "KEY.jwk")]
    pub key: PathBuf,
}

/// A signature algorithm, as named in JWS `alg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Alg {
    /// EdDSA over Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
    /// ECDSA over P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
}

/// `schooltas did …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum DidCommand {
    /// Print the DID document of a DID (did:key and did:jwk offline, did:web over HTTPS).
    Resolve(DidResolveArgs),
}

/// `schooltas did resolve`
#[derive(Debug, Args)]
pub struct DidResolveArgs {
    /// The DID.
    pub did: String,
}

/// `schooltas issue`
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The issuer's private JWK file.
    #[arg(long, value_name = "KEY.jwk")]
    pub issuer_key: PathBuf,
    /// The claims: a JSON object.
    #[arg(long, value_name = "CLAIMS.json")]
    pub claims: PathBuf,
    /// The holder's public JWK file; sets cnf.jwk (binds the credential to that key).
    #[arg(long, value_name = "PUB.jwk")]
    pub holder_jwk: Option<PathBuf>,
    /// Make this claim selectively disclosable (repeatable). Dotted path: `address.locality`,
    /// `nationalities.1` (digits are array indices), `degrees.*` (every element). Without
    /// --sd, every top-level claim except the registered ones (iss, iat, nbf, exp, cnf, vct,
    /// status, sub) is selectively disclosable.
    #[arg(long, value_name = "PATH")]
    pub sd: Vec<String>,
    /// The credential type (vct). Default: the claims file's vct.
    #[arg(long, value_name = "URI")]
    pub vct: Option<String>,
    /// Expiry (exp), Unix seconds.
    #[arg(long, value_name = "UNIX")]
    pub exp: Option<i64>,
    /// Issue time (iat), Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub iat: Option<i64>,
    /// The issuer (iss). Default: the claims file's iss, else the did:key of the issuer key.
    #[arg(long, value_name = "ISS")]
    pub iss: Option<String>,
    /// The status list token's URI (status.status_list.uri).
    #[arg(long, value_name = "URI", requires = "status_idx")]
    pub status_uri: Option<String>,
    /// The credential's entry in that status list (status.status_list.idx).
    #[arg(long, value_name = "N", requires = "status_uri")]
    pub status_idx: Option<u64>,
}

/// `schooltas present`
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// The issued SD-JWT VC (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub credential: PathBuf,
    /// The holder's private JWK file, which signs the key-binding JWT.
    #[arg(long, value_name = "KEY.jwk", required_unless_present = "no_kb", conflicts_with = "no_kb")]
    pub holder_key: Option<PathBuf>,
    /// Disclose this claim (repeatable; dotted path as in `issue --sd`). Claims not named stay
    /// hidden.
    #[arg(long, value_name = "PATH")]
    pub disclose: Vec<String>,
    /// The verifier's nonce.
    #[arg(long, required_unless_present = "no_kb", conflicts_with = "no_kb")]
    pub nonce: Option<String>,
    /// The verifier (the key-binding JWT's aud).
    #[arg(long, value_name = "AUD", required_unless_present = "no_kb", conflicts_with = "no_kb")]
    pub aud: Option<String>,
    /// The key-binding JWT's iat, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX", conflicts_with = "no_kb")]
    pub iat: Option<i64>,
    /// Present without a key-binding JWT.
    #[arg(long)]
    pub no_kb: bool,
}

/// `schooltas verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The issuer's public JWK file. Without it, the issuer key is resolved from the
    /// credential's iss DID (and header kid): did:key and did:jwk offline, did:web over HTTPS.
    #[arg(long, value_name = "PUB.jwk")]
    pub issuer_jwk: Option<PathBuf>,
    /// The nonce the verifier gave the holder.
    #[arg(long, required_unless_present = "no_kb", conflicts_with = "no_kb")]
    pub nonce: Option<String>,
    /// This verifier's identifier (the key-binding JWT's aud).
    #[arg(long, value_name = "AUD", required_unless_present = "no_kb", conflicts_with = "no_kb")]
    pub aud: Option<String>,
    /// Do not require key binding (checks an issued credential). A key-binding JWT that is
    /// present is still checked, except for its nonce and aud.
    #[arg(long)]
    pub no_kb: bool,
    /// The time to verify at, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
    /// Accept a plain SD-JWT with exactly this header typ instead of an SD-JWT VC
    /// (`dc+sd-jwt`); the SD-JWT VC rules (vct, registered claims) are then not applied.
    #[arg(long, value_name = "TYP")]
    pub typ: Option<String>,
    /// A status list token file (statuslist+jwt): check the credential's status in it.
    #[arg(long, value_name = "TOKEN_FILE")]
    pub status_list: Option<PathBuf>,
    /// The public JWK that signed the status list token. Default: the credential's issuer key.
    #[arg(long, value_name = "PUB.jwk", requires = "status_list")]
    pub status_key: Option<PathBuf>,
    /// The presentation (`-` or absent: standard input).
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// `schooltas status …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum StatusCommand {
    /// Create a status list file, every entry VALID.
    New(StatusNewArgs),
    /// Mark an entry INVALID (permanent).
    Revoke(StatusChangeArgs),
    /// Mark a VALID entry SUSPENDED (needs a list of 2 or more bits).
    Suspend(StatusChangeArgs),
    /// Make a SUSPENDED entry VALID again.
    Reinstate(StatusChangeArgs),
    /// Sign the list as a status list token (statuslist+jwt) and print it.
    Token(StatusTokenArgs),
}

/// `schooltas status new`
#[derive(Debug, Args)]
pub struct StatusNewArgs {
    /// Bits per entry.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["1", "2", "4", "8"]))]
    pub bits: String,
    /// The number of entries (rounded up to whole bytes).
    #[arg(long, value_name = "N")]
    pub size: usize,
    /// The status list file to create (JSON `{"bits", "lst"}`).
    #[arg(long, value_name = "LIST.json")]
    pub out: PathBuf,
    /// Replace an existing file at --out.
    #[arg(long)]
    pub force: bool,
}

/// `schooltas status revoke|suspend|reinstate`
#[derive(Debug, Args)]
pub struct StatusChangeArgs {
    /// The status list file, updated in place (atomically).
    #[arg(long, value_name = "LIST.json")]
    pub list: PathBuf,
    /// The entry.
    #[arg(long, value_name = "N")]
    pub idx: u64,
}

/// `schooltas status token`
#[derive(Debug, Args)]
pub struct StatusTokenArgs {
    /// The status list file.
    #[arg(long, value_name = "LIST.json")]
    pub list: PathBuf,
    /// The private JWK that signs the token.
    #[arg(long, value_name = "KEY.jwk")]
    pub issuer_key: PathBuf,
    /// The URI the token is published at (its sub; credentials' status.status_list.uri).
    #[arg(long, value_name = "URI")]
    pub uri: String,
    /// How long (seconds) verifiers may cache the token.
    #[arg(long, value_name = "S")]
    pub ttl: Option<u64>,
    /// Expiry (exp), Unix seconds.
    #[arg(long, value_name = "UNIX")]
    pub exp: Option<i64>,
    /// Issue time (iat), Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub iat: Option<i64>,
}
