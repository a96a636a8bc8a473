//! # schooltas-cli
//!
//! The `schooltas` command for schools, parents and verifiers. It holds argument parsing, file
//! handling and output only; every rule lives in `schooltas-did`, `schooltas-school`,
//! `schooltas-wallet` and `schooltas-verifier`.
//! Inputs are files (`-` for standard input where noted), outputs are standard formats on
//! standard output (JWK, DID documents, compact SD-JWT, JSON), errors go to standard error.
//! Exit status: 0 success, 1 any failure (a verification rule, a bad file), 2 a usage error.
//!
//! ## Commands
//!
//! | command | does |
//! |---|---|
//! | `schooltas key new --alg EdDSA\|ES256 --out KEY.jwk [--force]` | writes a new private JWK (mode 0600; an existing file only with `--force`); prints the public JWK (one line of JSON) and its did:key |
//! | `schooltas key public --key KEY.jwk` | prints the public JWK and did:key of a private JWK |
//! | `schooltas did resolve DID` | prints the DID document (did:key, did:jwk offline; did:web over HTTPS) |
//! | `schooltas issue --issuer-key KEY.jwk --claims CLAIMS.json [--holder-jwk PUB.jwk] [--sd PATH]… [--vct URI] [--exp UNIX] [--iat UNIX] [--iss ISS] [--status-uri URI --status-idx N]` | prints an SD-JWT VC (`typ: dc+sd-jwt`) |
//! | `schooltas present --credential FILE\|- (--holder-key KEY.jwk --nonce N --aud A [--iat UNIX] \| --no-kb) [--disclose PATH]…` | prints a presentation with only the chosen disclosures and a key-binding JWT |
//! | `schooltas verify [--issuer-jwk PUB.jwk] (--nonce N --aud A \| --no-kb) [--now UNIX] [--typ TYP] [--status-list TOKEN_FILE [--status-key PUB.jwk]] [FILE\|-]` | prints the verified claims as JSON, or names the rule that failed and exits 1 |
//! | `schooltas status new --bits 1\|2\|4\|8 --size N --out LIST.json [--force]` | writes a status list (`{"bits", "lst"}`), every entry VALID |
//! | `schooltas status revoke\|suspend\|reinstate --list LIST.json --idx N` | changes one entry, replacing the file atomically |
//! | `schooltas status token --list LIST.json --issuer-key KEY.jwk --uri URI [--ttl S] [--exp UNIX] [--iat UNIX]` | prints a signed status list token (`statuslist+jwt`) |
//! | `schooltas verify … --trust-list LIST.jwt --trust-operator DID` | as `verify`, and the issuer must be accredited for the credential's vct in the (verified, unexpired) trust list |
//! | `schooltas trust-list sign --operator-key KEY.jwk [--operator-kid DIDURL] --list LIST.json [--iat UNIX] [--exp UNIX]` | prints the signed trust list (`schooltas-trust-list+jwt`); `iss` defaults to the key's did:key |
//! | `schooltas trust-list show --operator DID [--now UNIX] LIST.jwt` | verifies the list and prints its content as JSON |
//! | `schooltas wallet init --wallet FILE (--child --birth-date YYYY-MM-DD \| --parent)` | creates an encrypted wallet file (mode 0600); prints the owner's DID |
//! | `schooltas wallet list\|consents --wallet FILE` | the credentials (batch, type, issuer, unused copies) or the consents given, as JSON |
//! | `schooltas wallet log --wallet FILE [--verify]` | the hash-chained log as JSON (the chain is always checked) |
//! | `schooltas wallet withdraw --wallet FILE --consent ID` | prints the signed withdrawal JWT for the verifier |
//! | `schooltas wallet answer --wallet FILE --trust-list LIST.jwt --trust-operator DID --request URI_OR_FILE [--approve all\|none\|QUERY:PATH,…] [--lang nl\|en] [--to-parent FILE] [--send]` | prints the prompt on standard error, then the response `{"response_uri", "body", "discloses"}` (with `--send`: posts it to the verifier over HTTPS and prints `{"sent", "redirect_uri"}`), or the request for the parent's wallet |
//! | `schooltas wallet approve-child --wallet FILE --trust-list … --trust-operator … --request GUARDIAN_REQUEST.json (--yes\|--no)` | the parent's review on standard error; prints the answer JSON |
//! | `schooltas wallet complete --wallet FILE --answer ANSWER.json` | prints the response JSON |
//! | `schooltas wallet receive --wallet FILE --offer URI_OR_FILE [--pin-stdin] [--copies N]` | redeems an `openid-credential-offer://` over HTTPS (metadata, token with the PIN, nonce, a batch); every credential checked (issuer via its DID, binding, type, status) and stored; prints `{"received": [{"configuration", "vct", "copies"}]}` |
//! | `schooltas request new --verifier-key KEY.jwk --trust-list … --trust-operator … --purpose CODE --response-uri URI --query QUERY.json [--transaction-data DATA.json]… [--retention-days N] [--out REQ.json]` | refuses over-asking; prints the signed request as an `openid4vp://` URI |
//! | `schooltas request verify --verifier-key KEY.jwk --request-file REQ.json --response RESPONSE.json --trust-list … --trust-operator … [--status-list URI=TOKEN_FILE]…` | prints the accepted claims, or every failed check by name (exit 1) |
//!
//! Wallet commands read the passphrase from the environment variable `SCHOOLTAS_PASSPHRASE`
//! (never a flag). Every command that reads a clock takes `--now UNIX`. `request verify` keeps
//! no state between runs: checking that a nonce is answered only once is the caller's job.
//! `wallet receive` takes the offer's PIN from the first line of standard input
//! (`--pin-stdin`) or from `SCHOOLTAS_PIN`, never from a flag.
//!
//! Every HTTPS fetch (did:web documents, status lists, request objects, an issuer's endpoints)
//! goes through one guarded client: https only, loopback/private/link-local addresses refused
//! after DNS resolution, bounded bodies and time. `SCHOOLTAS_CA_FILE=ca.pem` trusts the CA
//! certificates in that file instead of the Web PKI roots (a closed deployment, a demo);
//! `SCHOOLTAS_DANGEROUS_ALLOW_PRIVATE_ADDRESSES=1` lifts the address guard, for a demo or test
//! on one machine only.
//!
//! Claim paths are dotted: `address.locality`, `nationalities.1` (a segment of digits is an
//! array index), `degrees.*` (every element). Without `--sd`, `issue` makes every top-level
//! claim selectively disclosable except the registered ones (iss, iat, nbf, exp, cnf, vct,
//! status, sub). `iss` defaults to the did:key of the issuer key, which `verify` resolves
//! offline when no `--issuer-jwk` is given.
//!
//! ## A school, a child and a photographer
//!
//! ```sh
//! schooltas key new --alg EdDSA --out school.jwk
//! schooltas key new --alg ES256 --out child.jwk
//! schooltas key public --key child.jwk | head -n 1 > child.pub.jwk
//! schooltas status new --bits 2 --size 10000 --out status.json
//! schooltas issue --issuer-key school.jwk --claims sanne.json --holder-jwk child.pub.jwk \
//!     --vct https://schooltas.example/credentials/enrolment \
//!     --status-uri https://school.example/status/1 --status-idx 42 > sanne.sdjwt
//! schooltas present --credential sanne.sdjwt --holder-key child.jwk --disclose group \
//!     --nonce n-81f2 --aud https://photo.example > shown.sdjwt
//! schooltas status token --list status.json --issuer-key school.jwk --uri https://school.example/status/1 > status.jwt
//! schooltas verify --nonce n-81f2 --aud https://photo.example --status-list status.jwt shown.sdjwt
//! ```
//!
//! The same from Rust, as the binary runs it:
//!
//! ```
//! use clap::Parser as _;
//! let dir = std::env::temp_dir().join(format!("schooltas-cli-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let key = dir.join("school.jwk");
//! # let _ = std::fs::remove_file(&key);
//! let mut args: Vec<std::ffi::OsString> = ["schooltas", "key", "new", "--alg", "EdDSA", "--out"].map(Into::into).into();
//! args.push(key.clone().into());
//! let cli = schooltas_cli::Cli::try_parse_from(args)?;
//! let (mut out, mut err) = (Vec::new(), Vec::new());
//! schooltas_cli::run(&cli, &mut out, &mut err)?;
//! // Line 1: the public JWK; line 2: its did:key. The private key is only in the file.
//! let printed = String::from_utf8(out)?;
//! assert!(printed.lines().nth(1).is_some_and(|did| did.starts_with("did:key:z6Mk")));
//! assert!(!printed.contains("\"d\""));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod args;
mod commands;
mod error;
mod files;

pub use args::{
    Alg, Cli, Command, DidCommand, DidResolveArgs, IssueArgs, KeyCommand, KeyNewArgs, KeyPublicArgs, Lang, PresentArgs,
    RequestCommand, RequestNewArgs, RequestVerifyArgs, StatusChangeArgs, StatusCommand, StatusNewArgs, StatusTokenArgs,
    TrustArgs, TrustListCommand, TrustListShowArgs, TrustListSignArgs, VerifyArgs, WalletAddArgs, WalletAnswerArgs,
    WalletApproveChildArgs, WalletCommand, WalletCompleteArgs, WalletFileArgs, WalletInitArgs, WalletLogArgs,
    WalletWithdrawArgs,
};
pub use commands::run;
pub use error::{CliError, Result};
