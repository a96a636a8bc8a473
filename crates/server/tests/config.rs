//! `school.toml`: the documented sample parses; each refusal names its key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use schooltas_did::Signer as _;
use schooltas_server::config::{ConfigError, SchoolConfig, TokenSource};
use schooltas_server::keyfile::{KeyFileError, KeyFileKdf, SchoolSecrets};

const MINIMAL: &str = r#"
[school]
name = "Basisschool De Linde"
brin = "12AB"
issuer_url = "https://localhost:8443"
did = "did:web:localhost%3A8443"

[storage]
dir = "state"

[listen]
public = "127.0.0.1:0"
admin = "127.0.0.1:0"

[admin]
token_env = "SCHOOLTAS_ADMIN_TOKEN"
"#;

fn parse(text: &str) -> Result<SchoolConfig, ConfigError> {
    SchoolConfig::parse(text, Path::new("/srv/school"))
}

#[test]
fn the_documented_sample_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/sample-school.toml");
    let config = SchoolConfig::load(&path).unwrap();
    assert_eq!(config.school.brin, "12AB");
    assert_eq!(config.key_file, Path::new("/var/lib/schooltas/keys.sealed"));
    assert_eq!(config.admin_token, TokenSource::File("/etc/schooltas/admin-token".into()));
    assert_eq!(config.pin_length, 6);
    assert!(config.tls.is_some());
    assert!(config.verifier.is_some());
}

#[test]
fn a_minimal_config_takes_defaults_and_resolves_relative_paths() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.storage_dir, Path::new("/srv/school/state"));
    assert_eq!(config.issuer_db(), Path::new("/srv/school/state/issuer.sqlite"));
    assert_eq!(config.roster_db(), Path::new("/srv/school/state/roster.sqlite"));
    assert_eq!((config.pin_length, config.offer_lifetime_days), (6, 14));
    assert!(config.tls.is_none() && config.verifier.is_none());
}

#[test]
fn the_eu_profile_switches_dpop_and_encrypted_responses() {
    assert_eq!(parse(MINIMAL).unwrap().school.dpop, None);
    let required = MINIMAL
        .replace("did = \"did:web:localhost%3A8443\"", "did = \"did:web:localhost%3A8443\"\ndpop = \"required\"");
    assert_eq!(parse(&required).unwrap().school.dpop, Some(schooltas_issuer::DpopRequirement::haip()));
    let optional = MINIMAL
        .replace("did = \"did:web:localhost%3A8443\"", "did = \"did:web:localhost%3A8443\"\ndpop = \"optional\"");
    assert_eq!(parse(&optional).unwrap().school.dpop, Some(schooltas_issuer::DpopRequirement::optional()));
    let verifier = format!(
        "{MINIMAL}\n[verifier]\nresponse_url = \"https://localhost:8443/oid4vp/response\"\ntrust_list = \"t.jwt\"\n\
         trust_operator = \"did:web:trust.example\"\nencrypted_responses = true\n"
    );
    assert!(parse(&verifier).unwrap().verifier.unwrap().encrypted_responses);
}

#[test]
fn an_https_identity_needs_its_certificate_chain_and_takes_dpop_by_default() {
    let https = |extra: &str| {
        MINIMAL.replace("did = \"did:web:localhost%3A8443\"", &format!("did = \"did:web:localhost%3A8443\"\n{extra}"))
    };
    let config = parse(&https("identity = \"https\"\ncertificate_chain = \"certs/school.pem\"")).unwrap();
    assert!(config.school.has_https_identity());
    assert_eq!(config.school.certificate_chain.as_deref(), Some(Path::new("/srv/school/certs/school.pem")));
    assert_eq!(config.school.dpop, Some(schooltas_issuer::DpopRequirement::haip()), "HAIP: DPoP by default");
    let optional = parse(&https("identity = \"https\"\ncertificate_chain = \"c.pem\"\ndpop = \"optional\"")).unwrap();
    assert_eq!(optional.school.dpop, Some(schooltas_issuer::DpopRequirement::optional()));
    assert!(!parse(MINIMAL).unwrap().school.has_https_identity());

    let refused = |extra: &str| match parse(&https(extra)) {
        Err(ConfigError::Invalid { key, reason }) => (key, reason),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let (key, reason) = refused("identity = \"https\"");
    assert_eq!(key, "school.certificate_chain");
    assert!(reason.contains("is needed"), "{reason}");
    let (key, reason) = refused("certificate_chain = \"c.pem\"");
    assert_eq!(key, "school.certificate_chain");
    assert!(reason.contains("identity = \"https\" only"), "{reason}");
    let (key, reason) = refused("identity = \"https\"\ncertificate_chain = \"c.pem\"\ndpop = \"off\"");
    assert_eq!(key, "school.dpop");
    assert!(reason.contains("HAIP 1.0 requires"), "{reason}");
    assert_eq!(refused("identity = \"x509\"").0, "school.identity");

    let verifier = format!(
        "{MINIMAL}\n[verifier]\nresponse_url = \"https://localhost:8443/oid4vp/response\"\ntrust_list = \"t.jwt\"\n\
         trust_operator = \"did:web:trust.example\"\ncertificate_chain = \"desk.pem\"\n"
    );
    let section = parse(&verifier).unwrap().verifier.unwrap();
    assert_eq!(section.certificate_chain.as_deref(), Some(Path::new("/srv/school/desk.pem")));
}

#[test]
fn a_portal_login_url_turns_the_authorization_code_flow_on() {
    assert_eq!(parse(MINIMAL).unwrap().school.portal_login_url, None);
    let with_portal = MINIMAL.replace(
        "did = \"did:web:localhost%3A8443\"",
        "did = \"did:web:localhost%3A8443\"\nportal_login_url = \"https://portal.delinde.example/login\"",
    );
    assert_eq!(
        parse(&with_portal).unwrap().school.portal_login_url.as_deref(),
        Some("https://portal.delinde.example/login")
    );
    for bad in ["http://portal.delinde.example/login", "https://portal.delinde.example/login#x"] {
        let text = with_portal.replace("https://portal.delinde.example/login", bad);
        match parse(&text).unwrap_err() {
            ConfigError::Invalid { key, .. } => assert_eq!(key, "school.portal_login_url", "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_wallet_attestation_section_names_its_anchors_and_clients() {
    assert_eq!(parse(MINIMAL).unwrap().wallet_attestation, None);
    let text = format!(
        "{MINIMAL}\n[wallet_attestation]\ntrust_anchors = \"providers.pem\"\nclients = [\"https://wallet.example\"]\nrequire_challenge = true\n"
    );
    let section = parse(&text).unwrap().wallet_attestation.unwrap();
    assert_eq!(section.trust_anchors, Path::new("/srv/school/providers.pem"));
    assert_eq!(section.clients, ["https://wallet.example"]);
    assert!(section.require_challenge);
    let empty = text.replace("\"https://wallet.example\"", "\" \"");
    assert!(matches!(parse(&empty), Err(ConfigError::Invalid { key: "wallet_attestation.clients", .. })));
    let unknown = format!("{MINIMAL}\n[wallet_attestation]\ntrust_anchors = \"p.pem\"\nanchors = \"x\"\n");
    assert!(matches!(parse(&unknown), Err(ConfigError::Syntax { .. })));
}

#[test]
fn a_store_section_puts_the_issuer_and_the_register_on_postgresql_without_an_inline_password() {
    assert_eq!(parse(MINIMAL).unwrap().store, None, "SQLite is the default");
    let with = |store: &str| parse(&format!("{MINIMAL}\n[store]\n{store}\n"));
    let config =
        with("url = \"postgres://schooltas@127.0.0.1:5432/schooltas\"\npassword_file = \"db-password\"").unwrap();
    let store = config.store.unwrap();
    assert_eq!(store.url, "postgres://schooltas@127.0.0.1:5432/schooltas");
    assert_eq!(store.password, Some(TokenSource::File("/srv/school/db-password".into())));
    let by_env = with("url = \"host=/run/postgresql user=schooltas\"\npassword_env = \"DB_PASSWORD\"").unwrap();
    assert_eq!(by_env.store.unwrap().password, Some(TokenSource::Env("DB_PASSWORD".into())));
    assert_eq!(with("url = \"host=/run/postgresql user=schooltas\"").unwrap().store.unwrap().password, None);
    for inline in
        ["url = \"postgres://schooltas:hunter2@127.0.0.1/schooltas\"", "url = \"host=db user=s password=hunter2\""]
    {
        let error = with(inline).unwrap_err();
        assert!(matches!(error, ConfigError::InlineSecret { key: "store.url", .. }), "{error:?}");
        assert!(!error.to_string().contains("hunter2"));
    }
    let error = with("url = \"postgres://[::1\"").unwrap_err();
    assert!(matches!(error, ConfigError::Invalid { key: "store.url", .. }), "{error:?}");
    let error = with("url = \"postgres://s@db/s\"\npassword_file = \"f\"\npassword_env = \"E\"").unwrap_err();
    assert!(matches!(error, ConfigError::Invalid { key: "store", .. }), "{error:?}");
}

#[test]
fn an_inline_admin_token_is_refused() {
    let text = MINIMAL.replace("token_env = \"SCHOOLTAS_ADMIN_TOKEN\"", "token = \"0123456789abcdef0123456789abcdef\"");
    let error = parse(&text).unwrap_err();
    assert_eq!(error, ConfigError::InlineSecret { key: "admin.token", instead: "admin.token_file or admin.token_env" });
    assert!(!error.to_string().contains("0123456789abcdef"));
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let text = MINIMAL.replace("[storage]", "[storage]\ncolour = \"blue\"");
    match parse(&text).unwrap_err() {
        ConfigError::Syntax { reason } => assert!(reason.contains("colour"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_remote_admin_listener_is_refused_unless_allowed() {
    let text = MINIMAL.replace("admin = \"127.0.0.1:0\"", "admin = \"0.0.0.0:8444\"");
    assert!(matches!(parse(&text).unwrap_err(), ConfigError::RemoteAdmin { .. }));
    // Allowed, but the admin listener speaks plain HTTP: the token would cross the network in
    // clear unless a TLS-terminating proxy is in front.
    let allowed = text.replace("[listen]", "[listen]\nallow_remote_admin = true");
    assert!(matches!(parse(&allowed).unwrap_err(), ConfigError::RemoteAdminInClear { .. }));
    let proxied = allowed.replace("[listen]", "[listen]\nbehind_proxy = true");
    assert!(parse(&proxied).is_ok());
}

#[test]
fn plain_http_on_a_public_address_needs_a_proxy() {
    let text = MINIMAL.replace("public = \"127.0.0.1:0\"", "public = \"0.0.0.0:80\"");
    assert!(matches!(parse(&text).unwrap_err(), ConfigError::PlainHttpInPublic { .. }));
    let proxied = text.replace("[listen]", "[listen]\nbehind_proxy = true");
    assert!(parse(&proxied).unwrap().behind_proxy);
}

#[test]
fn bad_values_name_their_key() {
    let cases = [
        ("issuer_url = \"https://localhost:8443\"", "issuer_url = \"http://localhost:8443\"", "school.issuer_url"),
        ("brin = \"12AB\"", "brin = \"12AB3\"", "school.brin"),
        ("did = \"did:web:localhost%3A8443\"", "did = \"localhost\"", "school.did"),
        ("[admin]", "[offers]\npin_length = 2\n[admin]", "offers.pin_length"),
        ("[admin]", "[offers]\nlifetime_days = 0\n[admin]", "offers.lifetime_days"),
        ("token_env = \"SCHOOLTAS_ADMIN_TOKEN\"", "", "admin"),
        ("did = \"did:web:localhost%3A8443\"", "did = \"did:web:localhost%3A8443\"\ndpop = \"always\"", "school.dpop"),
    ];
    for (from, to, key) in cases {
        match parse(&MINIMAL.replace(from, to)).unwrap_err() {
            ConfigError::Invalid { key: named, .. } => assert_eq!(named, key),
            other => panic!("{key}: {other:?}"),
        }
    }
}

#[test]
fn a_token_file_is_read_and_trimmed() {
    let dir = std::env::temp_dir().join(format!("schooltas-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("token"), "abcdefghijklmnopqrstuvwxyz0123456789\n").unwrap();
    let source = TokenSource::File(dir.join("token"));
    assert_eq!(source.read().unwrap().as_str(), "abcdefghijklmnopqrstuvwxyz0123456789");
    assert!(matches!(TokenSource::File(dir.join("missing")).read(), Err(ConfigError::AdminToken { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_key_file_round_trips_and_refuses_a_wrong_passphrase_and_overwriting() {
    let dir = std::env::temp_dir().join(format!("schooltas-keyfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.sealed");
    let secrets = SchoolSecrets::generate().unwrap();
    secrets.seal_to(&path, "correct horse battery staple", KeyFileKdf::INSECURE_FOR_TESTS).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let opened = SchoolSecrets::open(&path, "correct horse battery staple").unwrap();
    assert_eq!(opened.school_keys.len(), 1);
    assert_eq!(opened.school_keys[0].0, "key-1");
    assert_eq!(opened.school_keys[0].1.verifying_key(), secrets.school_keys[0].1.verifying_key());
    assert_eq!(*opened.child_link.to_bytes(), *secrets.child_link.to_bytes());
    assert_eq!(opened.verifier_key.verifying_key(), secrets.verifier_key.verifying_key());

    assert!(matches!(SchoolSecrets::open(&path, "wrong horse battery staple"), Err(KeyFileError::WrongPassphrase)));
    assert!(matches!(
        secrets.seal_to(&path, "correct horse battery staple", KeyFileKdf::INSECURE_FOR_TESTS),
        Err(KeyFileError::Exists { .. })
    ));
    assert!(matches!(
        secrets.seal_to(&dir.join("other"), "short", KeyFileKdf::INSECURE_FOR_TESTS),
        Err(KeyFileError::WeakPassphrase)
    ));
    // A changed cost parameter (outside the ciphertext) fails like a wrong passphrase.
    let text = std::fs::read_to_string(&path).unwrap().replace("\"iterations\":1", "\"iterations\":2");
    std::fs::write(dir.join("tampered"), text).unwrap();
    assert!(matches!(
        SchoolSecrets::open(&dir.join("tampered"), "correct horse battery staple"),
        Err(KeyFileError::WrongPassphrase)
    ));
    assert!(!format!("{opened:?}").contains("\"d\""));
    std::fs::remove_dir_all(&dir).unwrap();
}
