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
    /// Trust lists: sign one (the operator), or verify and show one.
    #[command(subcommand)]
    TrustList(TrustListCommand),
    /// A child's or a parent's wallet in a file: create, list, answer requests, consents.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Presentation requests (the verifier): build and sign one, verify a response to it.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Run the school's server from school.toml (`serve init` makes its key file first).
    Serve(ServeArgs),
    /// The school's roster and letters home: import CSV exports, make offers as QR codes.
    #[command(subcommand)]
    School(SchoolCommand),
    /// The trust-list operator's X.509 certificate authority (the EU profile, HAIP 1.0): a
    /// root certificate for the trust list, issuer certificates for schools, request-signing
    /// certificates for verifiers.
    #[command(subcommand)]
    Ca(CaCommand),
}

/// `schooltas ca …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum CaCommand {
    /// Make the root certificate (self-signed, PEM) of the CA key; put it in the trust list's
    /// `x509_trust_anchors` (base64 DER) as the line after the PEM says.
    Root(CaRootArgs),
    /// Certify a school's issuer key for its `https` issuer identifier (PEM chain, leaf first,
    /// for `school.certificate_chain`).
    Issuer(CaIssueArgs),
    /// Certify a verifier's request-signing key for the DNS name its response URI is on (PEM
    /// chain, leaf first, for `verifier.certificate_chain`; prints its `x509_hash` client id).
    Verifier(CaIssueArgs),
}

/// `schooltas ca root`
#[derive(Debug, Args)]
pub struct CaRootArgs {
    /// The CA's private JWK file (`schooltas key new --alg ES256`).
    #[arg(long, value_name = "CA.jwk")]
    pub ca_key: PathBuf,
    /// The organisation (O) in the certificate's subject.
    #[arg(long)]
    pub organization: String,
    /// The common name (CN) in the certificate's subject.
    #[arg(long)]
    pub name: String,
    /// Days the root certificate is valid, from now.
    #[arg(long, default_value_t = 3650)]
    pub days: u32,
    /// Where to write the PEM certificate (refuses to overwrite).
    #[arg(long, value_name = "ROOT.pem")]
    pub out: PathBuf,
}

/// `schooltas ca issuer|verifier`
#[derive(Debug, Args)]
pub struct CaIssueArgs {
    /// The CA's private JWK file.
    #[arg(long, value_name = "CA.jwk")]
    pub ca_key: PathBuf,
    /// The CA's own certificate (PEM; `ca root` made it), then its chain if it is an
    /// intermediate.
    #[arg(long, value_name = "CA.pem")]
    pub ca_certificate: PathBuf,
    /// The public JWK to certify (`schooltas serve public-keys` prints the school's).
    #[arg(long, value_name = "PUB.jwk")]
    pub public_key: PathBuf,
    /// `ca issuer`: the school's `https` issuer identifier (`school.issuer_url`); `ca
    /// verifier`: the DNS name of the verifier's response URI.
    #[arg(long, value_name = "URL|HOST")]
    pub subject: String,
    /// The organisation (O) in the certificate's subject.
    #[arg(long)]
    pub organization: String,
    /// Days the certificate is valid, from now.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Where to write the PEM chain (refuses to overwrite).
    #[arg(long, value_name = "CHAIN.pem")]
    pub out: PathBuf,
}

/// `schooltas serve [init] --config school.toml`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// `init`: create the key file instead of serving.
    #[command(subcommand)]
    pub init: Option<ServeCommand>,
    /// Where the configuration is, and how the key passphrase is given.
    #[command(flatten)]
    pub school: SchoolArgs,
}

/// `schooltas serve …` subcommands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum ServeCommand {
    /// Create the school's sealed key file (refuses to overwrite one); prints the DID
    /// document location and the verifier's DID. With `identity = "https"` the keys are
    /// ES256.
    Init(ServeInitArgs),
    /// Print the public JWKs of the school's active key and the verifier key, one per line
    /// (`school <kid> <jwk>`, `verifier <jwk>`), for the operator's CA to certify.
    PublicKeys(SchoolArgs),
}

/// `schooltas serve init`
#[derive(Debug, Args)]
pub struct ServeInitArgs {
    /// Where the configuration is, and how the key passphrase is given.
    #[command(flatten)]
    pub school: SchoolArgs,
    /// Cheap Argon2id parameters: for tests only, a passphrase then falls to brute force.
    #[arg(long, hide = true)]
    pub kdf_insecure_for_tests: bool,
}

/// The configuration file and the key passphrase's source.
#[derive(Debug, Args)]
pub struct SchoolArgs {
    /// The school's configuration (see docs/sample-school.toml).
    #[arg(long, value_name = "school.toml")]
    pub config: Option<PathBuf>,
    /// Read the key passphrase from the first line of standard input instead of the
    /// environment variable SCHOOLTAS_KEY_PASSPHRASE.
    #[arg(long)]
    pub passphrase_stdin: bool,
}

/// `schooltas school …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum SchoolCommand {
    /// Import the administration's CSV exports into the roster (all or nothing; safe while
    /// the server runs).
    Import(SchoolImportArgs),
    /// Make offers by value for letters home: DIR/<ref>.svg and DIR/<ref>.png (QR codes) and
    /// one DIR/pins.csv (mode 0600) with the PINs, to send through another channel.
    Offers(SchoolOffersArgs),
}

/// `schooltas school import`
#[derive(Debug, Args)]
pub struct SchoolImportArgs {
    /// The school's configuration.
    #[arg(long, value_name = "school.toml")]
    pub config: PathBuf,
    /// pupils.csv: leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar.
    #[arg(long, value_name = "pupils.csv")]
    pub pupils: Option<PathBuf>,
    /// guardians.csv: leerlingnummer,ouder_id,relatie.
    #[arg(long, value_name = "guardians.csv")]
    pub guardians: Option<PathBuf>,
}

/// `schooltas school offers`
#[derive(Debug, Args)]
pub struct SchoolOffersArgs {
    /// Where the configuration is, and how the key passphrase is given.
    #[command(flatten)]
    pub school: SchoolArgs,
    /// Only the pupils of this group.
    #[arg(long)]
    pub group: Option<String>,
    /// Only this pupil (by pupil number).
    #[arg(long)]
    pub pupil: Option<String>,
    /// The directory for the QR codes and pins.csv (created; must not hold a pins.csv).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
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
    /// The verifier's nonce (taken as it is even when it starts with `-`, as one random
    /// base64url nonce in 64 does).
    #[arg(long, required_unless_present = "no_kb", conflicts_with = "no_kb", allow_hyphen_values = true)]
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
    /// The nonce the verifier gave the holder (taken as it is even when it starts with `-`).
    #[arg(long, required_unless_present = "no_kb", conflicts_with = "no_kb", allow_hyphen_values = true)]
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
    /// A signed trust list: the credential's issuer must be accredited in it for the
    /// credential's type (vct). The list itself must verify and be unexpired.
    #[arg(long, value_name = "LIST.jwt", requires = "trust_operator", conflicts_with = "issuer_jwk")]
    pub trust_list: Option<PathBuf>,
    /// The DID of the trust-list operator whose signature the list must carry.
    #[arg(long, value_name = "DID", requires = "trust_list")]
    pub trust_operator: Option<String>,
    /// The presentation (`-` or absent: standard input).
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// The trust list every wallet and verifier command reads.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The signed trust list (`schooltas-trust-list+jwt`).
    #[arg(long, value_name = "LIST.jwt")]
    pub trust_list: PathBuf,
    /// The DID of the trust-list operator whose signature the list must carry.
    #[arg(long, value_name = "DID")]
    pub trust_operator: String,
}

/// `schooltas trust-list …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum TrustListCommand {
    /// Sign a trust list (TrustList JSON) with the operator's key; prints the JWT.
    Sign(TrustListSignArgs),
    /// Verify a signed trust list against its operator and print its content as JSON.
    Show(TrustListShowArgs),
}

/// `schooltas trust-list sign`
#[derive(Debug, Args)]
pub struct TrustListSignArgs {
    /// The operator's private JWK file.
    #[arg(long, value_name = "KEY.jwk")]
    pub operator_key: PathBuf,
    /// The key id to put in the header, a DID URL of the operator. Default: the did:key of
    /// the operator key (then `iss` defaults to that did:key too).
    #[arg(long, value_name = "DIDURL")]
    pub operator_kid: Option<String>,
    /// The list: a JSON object with `issuers` and `verifiers` (and optionally `iss`, `iat`,
    /// `exp`), as the TrustList type serializes.
    #[arg(long, value_name = "LIST.json")]
    pub list: PathBuf,
    /// Issue time (iat), Unix seconds. Default: the file's iat, else now.
    #[arg(long, value_name = "UNIX")]
    pub iat: Option<i64>,
    /// Expiry (exp), Unix seconds. Default: the file's exp.
    #[arg(long, value_name = "UNIX")]
    pub exp: Option<i64>,
}

/// `schooltas trust-list show`
#[derive(Debug, Args)]
pub struct TrustListShowArgs {
    /// The DID of the operator whose signature the list must carry.
    #[arg(long, value_name = "DID")]
    pub operator: String,
    /// The time to check expiry at, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
    /// The signed trust list (`-` for standard input).
    #[arg(value_name = "LIST.jwt")]
    pub input: PathBuf,
}

/// `schooltas wallet …`. The passphrase comes from the environment variable
/// `SCHOOLTAS_PASSPHRASE`, never from a flag.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum WalletCommand {
    /// Create a wallet file for a child (with a birth date) or a parent; prints the owner's DID.
    Init(WalletInitArgs),
    /// List the credentials: batch, type, issuer, unused copies.
    List(WalletFileArgs),
    /// Print the log as JSON (its hash chain is always checked).
    Log(WalletLogArgs),
    /// List the consents given from this wallet, as JSON.
    Consents(WalletFileArgs),
    /// Withdraw a consent; prints the signed withdrawal JWT for the verifier.
    Withdraw(WalletWithdrawArgs),
    /// Answer a presentation request: show the prompt, decide, print the response (or the
    /// request to the parent's wallet).
    Answer(WalletAnswerArgs),
    /// In a parent's wallet: approve or refuse a child's request; prints the answer JSON.
    ApproveChild(WalletApproveChildArgs),
    /// In a parent's wallet: fetch a child's request from the hand-over link (the QR code on
    /// the child's phone), review it, approve or refuse, and send the answer back through the
    /// relay.
    Approve(WalletApproveArgs),
    /// In the child's wallet: finish a request with the parent's answer (from a file, or polled
    /// once from the relay with `--handover`); prints the response, or posts it with `--send`.
    Complete(WalletCompleteArgs),
    /// Store a credential from a file (e.g. made by `schooltas issue`) with its holder key,
    /// after checking it: issuer signature via the issuer's DID, binding, known type, status.
    Add(WalletAddArgs),
    /// Redeem a credential offer over HTTPS (OpenID4VCI pre-authorized code): metadata, token
    /// with the PIN, nonce, a batch of credentials, each checked and stored.
    Receive(WalletReceiveArgs),
}

/// `schooltas wallet receive`
#[derive(Debug, Args)]
pub struct WalletReceiveArgs {
    /// The wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The offer: an `openid-credential-offer://` URI (by value or by reference), or a file
    /// holding one.
    #[arg(long, value_name = "URI_OR_FILE")]
    pub offer: String,
    /// Read the PIN the school sent separately from the first line of standard input. Without
    /// it the PIN comes from the environment variable `SCHOOLTAS_PIN`; it is never a flag.
    #[arg(long)]
    pub pin_stdin: bool,
    /// Copies of each credential (batch issuance: one per presentation, so no two verifiers
    /// see the same copy); the issuer's batch size caps it.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub copies: usize,
    /// The signed trust list to check the issuer against (required for an issuer named by an
    /// `https` identifier, whose key is trusted only through its `x5c` chain to the list's
    /// X.509 anchors). Without it the issuer's key comes from its DID.
    #[arg(long, value_name = "LIST.jwt", requires = "trust_operator")]
    pub trust_list: Option<PathBuf>,
    /// The DID of the trust-list operator whose signature the list must carry.
    #[arg(long, value_name = "DID", requires = "trust_list")]
    pub trust_operator: Option<String>,
    /// A status list token for a URI (repeatable): `URI=TOKEN_FILE`. Other status lists are
    /// fetched over HTTPS.
    #[arg(long, value_name = "URI=TOKEN_FILE")]
    pub status_list: Vec<String>,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas wallet add`
#[derive(Debug, Args)]
pub struct WalletAddArgs {
    /// The wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The SD-JWT VC as issued (every disclosure).
    #[arg(long, value_name = "FILE")]
    pub credential: PathBuf,
    /// The holder's private JWK the credential is bound to (stored encrypted in the wallet).
    #[arg(long, value_name = "KEY.jwk")]
    pub holder_key: PathBuf,
    /// The signed trust list to check the issuer against (required for an issuer named by an
    /// `https` identifier, whose key is trusted only through its `x5c` chain to the list's
    /// X.509 anchors). Without it the issuer's key comes from its DID.
    #[arg(long, value_name = "LIST.jwt", requires = "trust_operator")]
    pub trust_list: Option<PathBuf>,
    /// The DID of the trust-list operator whose signature the list must carry.
    #[arg(long, value_name = "DID", requires = "trust_list")]
    pub trust_operator: Option<String>,
    /// A status list token for a URI (repeatable): `URI=TOKEN_FILE`. Other status lists are
    /// fetched over HTTPS.
    #[arg(long, value_name = "URI=TOKEN_FILE")]
    pub status_list: Vec<String>,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// The wallet file.
#[derive(Debug, Args)]
pub struct WalletFileArgs {
    /// The wallet file (SQLite, every record encrypted).
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
}

/// `schooltas wallet init`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("role").required(true).args(["child", "parent"])))]
pub struct WalletInitArgs {
    /// The wallet file to create (mode 0600); an existing file is never replaced.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// A child's wallet (needs --birth-date).
    #[arg(long, requires = "birth_date")]
    pub child: bool,
    /// A parent's wallet.
    #[arg(long)]
    pub parent: bool,
    /// The child's birth date.
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "parent")]
    pub birth_date: Option<String>,
    /// The creation time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
    /// Cheap key derivation, for tests only: the passphrase then falls to brute force.
    #[arg(long, hide = true)]
    pub kdf_insecure_for_tests: bool,
}

/// `schooltas wallet log`
#[derive(Debug, Args)]
pub struct WalletLogArgs {
    /// The wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// Only verify the hash chain: print the number of entries instead of the log.
    #[arg(long)]
    pub verify: bool,
}

/// `schooltas wallet withdraw`
#[derive(Debug, Args)]
pub struct WalletWithdrawArgs {
    /// The wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The consent id (see `schooltas wallet consents`). Ids are random base64url, so one in
    /// 64 starts with `-`: the value is taken as it is, never as another option.
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub consent: String,
    /// The withdrawal time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// The language of a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Dutch.
    Nl,
    /// English.
    En,
}

/// `schooltas wallet answer`
#[derive(Debug, Args)]
pub struct WalletAnswerArgs {
    /// The wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The trust list.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The request: an `openid4vp://` URI, or a file holding one.
    #[arg(long, value_name = "URI_OR_FILE")]
    pub request: String,
    /// The decision: `all`, `none`, or `QUERY:PATH,…` (share only these claims, by credential
    /// query id and dotted claim path). Without it, only the prompt is shown.
    #[arg(long, value_name = "DECISION")]
    pub approve: Option<String>,
    /// The prompt's language (printed on standard error).
    #[arg(long, value_enum, ignore_case = true, default_value = "nl")]
    pub lang: Lang,
    /// Where to write the request to the parent's wallet, when a parent must approve
    /// (mode 0600). Default: standard output.
    #[arg(long, value_name = "FILE")]
    pub to_parent: Option<PathBuf>,
    /// Post the response to the verifier's `response_uri` over HTTPS (OpenID4VP `direct_post`)
    /// instead of printing it; prints `{"sent": true, "redirect_uri"}`.
    #[arg(long)]
    pub send: bool,
    /// When a parent must approve: hand the request over through this relay
    /// (`https://school.example/relay`, end-to-end encrypted) and print the link for the
    /// parent's phone on standard output. Needs `--handover`.
    #[arg(long, value_name = "URL", requires = "handover", conflicts_with = "to_parent")]
    pub relay: Option<String>,
    /// Where to keep the hand-over for `wallet complete --handover` (mode 0600: it holds the
    /// hand-over's key).
    #[arg(long, value_name = "FILE", requires = "relay")]
    pub handover: Option<PathBuf>,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas wallet approve`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("answer").required(true).args(["yes", "no"])))]
pub struct WalletApproveArgs {
    /// The parent's wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The trust list.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The hand-over link from the child's phone (`https://…/boxes/…#k=…` or
    /// `schooltas-guardian://?link=…`), or a file holding it, or `-` for standard input. The
    /// link holds the key to the child's presentations: prefer a file or standard input, since
    /// a command line is visible to other users of this machine.
    #[arg(long, value_name = "LINK_OR_FILE")]
    pub link: String,
    /// Approve.
    #[arg(long)]
    pub yes: bool,
    /// Refuse.
    #[arg(long)]
    pub no: bool,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas wallet approve-child`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("answer").required(true).args(["yes", "no"])))]
pub struct WalletApproveChildArgs {
    /// The parent's wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The trust list.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The child's request (the JSON `wallet answer` wrote).
    #[arg(long, value_name = "GUARDIAN_REQUEST.json")]
    pub request: PathBuf,
    /// Approve.
    #[arg(long)]
    pub yes: bool,
    /// Refuse.
    #[arg(long)]
    pub no: bool,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas wallet complete`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["answer", "handover"])))]
pub struct WalletCompleteArgs {
    /// The child's wallet file.
    #[arg(long, value_name = "FILE")]
    pub wallet: PathBuf,
    /// The parent's answer (the JSON `wallet approve-child` printed).
    #[arg(long, value_name = "ANSWER.json")]
    pub answer: Option<PathBuf>,
    /// The hand-over `wallet answer --relay` kept: the relay is asked once for the parent's
    /// answer; without one yet, the command exits with status 3 and prints nothing.
    #[arg(long, value_name = "FILE")]
    pub handover: Option<PathBuf>,
    /// Post the response to the verifier's `response_uri` over HTTPS instead of printing it;
    /// prints `{"sent": true, "redirect_uri"}`.
    #[arg(long)]
    pub send: bool,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas request …`
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum RequestCommand {
    /// Build (refusing over-asking) and sign a request; prints the `openid4vp://` URI.
    New(RequestNewArgs),
    /// Verify a response to a request; prints the accepted claims, or every failed check.
    Verify(RequestVerifyArgs),
}

/// `schooltas request new`
#[derive(Debug, Args)]
pub struct RequestNewArgs {
    /// The verifier's private JWK file (its did:key is the client id).
    #[arg(long, value_name = "KEY.jwk")]
    pub verifier_key: PathBuf,
    /// The trust list (the verifier must be registered in it).
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The registered purpose code.
    #[arg(long, value_name = "CODE")]
    pub purpose: String,
    /// Where wallets post the response (https).
    #[arg(long, value_name = "URI")]
    pub response_uri: String,
    /// The DCQL query: a JSON object with `credentials` (and optionally `credential_sets`).
    #[arg(long, value_name = "QUERY.json")]
    pub query: PathBuf,
    /// Transaction data for the holder to sign (repeatable): a JSON object with `type`,
    /// `credential_ids` and the type's members.
    #[arg(long, value_name = "DATA.json")]
    pub transaction_data: Vec<PathBuf>,
    /// How long the answer is kept. Default: the registered maximum.
    #[arg(long, value_name = "N")]
    pub retention_days: Option<u32>,
    /// Where to write the request (JSON, with its nonce), for `request verify`.
    #[arg(long, value_name = "REQ.json")]
    pub out: Option<PathBuf>,
    /// Replace an existing file at --out.
    #[arg(long)]
    pub force: bool,
    /// How long the request object is valid, seconds.
    #[arg(long, value_name = "S", default_value_t = 600)]
    pub lifetime: i64,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
}

/// `schooltas request verify`
#[derive(Debug, Args)]
pub struct RequestVerifyArgs {
    /// The verifier's private JWK file: the request must be this verifier's.
    #[arg(long, value_name = "KEY.jwk")]
    pub verifier_key: PathBuf,
    /// The request (the JSON `request new --out` wrote).
    #[arg(long, value_name = "REQ.json")]
    pub request_file: PathBuf,
    /// The response: JSON `{"response_uri", "body"}` as `wallet answer` prints it, or the
    /// raw `direct_post` body.
    #[arg(long, value_name = "RESPONSE.json")]
    pub response: PathBuf,
    /// The trust list (issuers must be accredited in it).
    #[command(flatten)]
    pub trust: TrustArgs,
    /// A status list token for a URI (repeatable): `URI=TOKEN_FILE`. Other status lists are
    /// fetched over HTTPS.
    #[arg(long, value_name = "URI=TOKEN_FILE")]
    pub status_list: Vec<String>,
    /// The time, Unix seconds. Default: now.
    #[arg(long, value_name = "UNIX")]
    pub now: Option<i64>,
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, WalletCommand};

    /// One random consent id in 64 starts with `-` (base64url): it must be read as the value,
    /// not as an unknown option (a flaky CLI test found `--consent -kllib6qqjQkISAmVHEWEg`).
    #[test]
    fn a_consent_id_starting_with_a_hyphen_is_a_value() {
        let cli = Cli::try_parse_from([
            "schooltas",
            "wallet",
            "withdraw",
            "--wallet",
            "w.db",
            "--consent",
            "-kllib6qqjQkISAmVHEWEg",
        ]);
        match cli.map(|cli| cli.command) {
            Ok(Command::Wallet(WalletCommand::Withdraw(args))) => assert_eq!(args.consent, "-kllib6qqjQkISAmVHEWEg"),
            other => panic!("not parsed as a withdrawal: {other:?}"),
        }
    }

    /// The same holds for a verifier's nonce given to `present` and `verify`.
    #[test]
    fn a_nonce_starting_with_a_hyphen_is_a_value() {
        for command in ["present", "verify"] {
            let mut argv = vec!["schooltas", command, "--nonce", "-n81f2", "--aud", "https://v.example"];
            if command == "present" {
                argv.extend(["--credential", "vc.txt", "--holder-key", "child.jwk"]);
            }
            let cli = Cli::try_parse_from(argv);
            let nonce = match cli.map(|cli| cli.command) {
                Ok(Command::Present(args)) => args.nonce,
                Ok(Command::Verify(args)) => args.nonce,
                other => panic!("{command}: not parsed: {other:?}"),
            };
            assert_eq!(nonce.as_deref(), Some("-n81f2"), "{command}");
        }
    }
}
