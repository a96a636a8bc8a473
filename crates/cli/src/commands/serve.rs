//! `schooltas serve init` and `schooltas serve`: the school's key file, then the issuer and
//! verifier on their listeners (see `schooltas_server::school`). The key passphrase comes from
//! `SCHOOLTAS_KEY_PASSPHRASE` or the first line of standard input, never from a flag.

use std::io::Write;
use std::path::Path;

use schooltas_server::AdminToken;
use schooltas_server::config::SchoolConfig;
use schooltas_server::keyfile::{KeyFileKdf, SchoolSecrets};
use schooltas_server::school::{SchoolServer, VerifierParts, did_document_url, verifier_did};
use zeroize::Zeroizing;

use crate::args::{SchoolArgs, ServeInitArgs};
use crate::error::{CliError, Result};

/// The environment variable holding the key file's passphrase.
const KEY_PASSPHRASE_VAR: &str = "SCHOOLTAS_KEY_PASSPHRASE";

fn failed<E: std::error::Error + Send + Sync + 'static>(action: &'static str) -> impl FnOnce(E) -> CliError {
    move |error| CliError::School { action, source: Box::new(error) }
}

/// The configuration named by `--config`.
pub(super) fn config(path: Option<&Path>) -> Result<SchoolConfig> {
    let path = path.ok_or(CliError::MissingConfig)?;
    SchoolConfig::load(path).map_err(failed("reading the configuration"))
}

/// The key passphrase: standard input's first line with `--passphrase-stdin`, else the
/// environment variable.
pub(super) fn passphrase(from_stdin: bool) -> Result<Zeroizing<String>> {
    if from_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin().read_line(&mut line).map_err(|e| CliError::read("key passphrase", Path::new("-"), e))?;
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned());
        if trimmed.is_empty() {
            return Err(CliError::MissingKeyPassphrase);
        }
        return Ok(trimmed);
    }
    match std::env::var(KEY_PASSPHRASE_VAR) {
        Ok(value) if !value.is_empty() => Ok(Zeroizing::new(value)),
        _ => Err(CliError::MissingKeyPassphrase),
    }
}

/// The school's keys from its key file.
pub(super) fn secrets(config: &SchoolConfig, args: &SchoolArgs) -> Result<SchoolSecrets> {
    let passphrase = passphrase(args.passphrase_stdin)?;
    SchoolSecrets::open(&config.key_file, &passphrase).map_err(failed("opening the key file"))
}

/// `schooltas serve init`
pub(super) fn init(args: &ServeInitArgs, out: &mut dyn Write) -> Result<()> {
    let config = config(args.school.config.as_deref())?;
    let passphrase = passphrase(args.school.passphrase_stdin)?;
    config.create_storage_dir().map_err(failed("creating the storage directory"))?;
    // The EU profile (an https identity, or a verifier certified by the operator's CA) signs
    // with ES256 only.
    let eu_profile = config.school.has_https_identity()
        || config.verifier.as_ref().is_some_and(|verifier| verifier.certificate_chain.is_some());
    let algorithm = if eu_profile { schooltas_did::Algorithm::Es256 } else { schooltas_did::Algorithm::EdDsa };
    let secrets = SchoolSecrets::generate_with(algorithm).map_err(failed("making keys"))?;
    let kdf = if args.kdf_insecure_for_tests { KeyFileKdf::INSECURE_FOR_TESTS } else { KeyFileKdf::default() };
    secrets.seal_to(&config.key_file, &passphrase, kdf).map_err(failed("writing the key file"))?;
    writeln!(out, "key file {}", config.key_file.display())?;
    writeln!(out, "school DID {} (document served at {})", config.school.did, did_document_url(&config))?;
    writeln!(out, "verifier DID {}", verifier_did(&secrets))?;
    if eu_profile {
        writeln!(
            out,
            "next: `schooltas serve public-keys` prints the public keys for the trust-list operator's CA to certify"
        )?;
    }
    Ok(())
}

/// `schooltas serve public-keys`
pub(super) fn public_keys(args: &SchoolArgs, out: &mut dyn Write) -> Result<()> {
    use schooltas_did::Signer as _;
    let config = config(args.config.as_deref())?;
    let secrets = secrets(&config, args)?;
    if let Some((kid, key)) = secrets.school_keys.last() {
        writeln!(out, "school {kid} {}", serde_json::Value::Object(key.verifying_key().to_jwk()))?;
    }
    writeln!(out, "verifier {}", serde_json::Value::Object(secrets.verifier_key.verifying_key().to_jwk()))?;
    Ok(())
}

/// `schooltas serve`
pub(super) fn serve(args: &SchoolArgs, out: &mut dyn Write) -> Result<()> {
    let config = config(args.config.as_deref())?;
    let secrets = secrets(&config, args)?;
    let token = config.admin_token.read().map_err(failed("reading the admin token"))?;
    let token = AdminToken::new(&token).map_err(failed("reading the admin token"))?;
    let tls = match &config.tls {
        Some((chain, key)) => {
            Some(schooltas_server::TlsConfig::from_pem_files(chain, key).map_err(failed("loading TLS"))?)
        }
        None => None,
    };
    let verifier = match &config.verifier {
        Some(section) => {
            let now = crate::files::now()?;
            let operator = section.trust_operator.clone();
            Some(VerifierParts {
                trust_list: super::load_trust_list(&section.trust_list, &operator, "verifier.trust_operator", now)?,
                resolver: super::resolver()?,
                status: super::status_cache(&[])?,
            })
        }
        None => None,
    };
    let (public_address, admin_address) = (config.public, config.admin);
    let server = SchoolServer::open(config, secrets, verifier).map_err(failed("starting the server"))?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(failed("starting the runtime"))?;
    runtime.block_on(async {
        let public = tokio::net::TcpListener::bind(public_address).await.map_err(failed("listening (public)"))?;
        let admin = tokio::net::TcpListener::bind(admin_address).await.map_err(failed("listening (admin)"))?;
        writeln!(out, "listening public={} admin={}", public.local_addr()?, admin.local_addr()?)?;
        out.flush()?;
        server.serve_until(public, admin, token, tls, shutdown_signal()).await.map_err(failed("serving"))
    })
}

/// SIGINT (Ctrl-C) or SIGTERM (a service manager stopping us).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            // No SIGTERM handler could be installed: Ctrl-C still stops the server.
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
