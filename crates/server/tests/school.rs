//! `SchoolServer`: the issuer and the verifier behind one public router and one admin router,
//! QR codes of letters that decode back to their offer, offers by value from the roster.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../wallet/tests/common/mod.rs"]
#[allow(unreachable_pub)]
mod family;

use std::net::SocketAddr;
use std::path::Path;

use schooltas_server::AdminToken;
use schooltas_server::config::SchoolConfig;
use schooltas_server::keyfile::SchoolSecrets;
use schooltas_server::school::{OfferSelection, SchoolServer, VerifierParts};
use schooltas_status_list::StatusListCache;

const TOKEN: &str = "an-admin-token-of-at-least-32-characters";

fn config(dir: &Path) -> SchoolConfig {
    config_with(dir, "")
}

fn config_with(dir: &Path, extra: &str) -> SchoolConfig {
    let text = r#"
[school]
name = "Basisschool De Linde"
brin = "12AB"
issuer_url = "https://delinde.example"
did = "did:web:delinde.example"
[storage]
dir = "state"
[listen]
public = "127.0.0.1:0"
admin = "127.0.0.1:0"
[admin]
token_env = "UNUSED"
[offers]
pin_length = 4
[verifier]
response_url = "https://delinde.example/oid4vp/response"
trust_list = "trust-list.jwt"
trust_operator = "did:key:z6MkUnused"
"#;
    SchoolConfig::parse(&format!("{text}{extra}"), dir).unwrap()
}

fn temp_dir(label: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("schooltas-school-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn server(dir: &Path) -> SchoolServer {
    server_with(config(dir))
}

fn server_with(config: SchoolConfig) -> SchoolServer {
    let school = family::School::new();
    let parts = VerifierParts {
        trust_list: family::trust_list(&family::Verifier::new(21)),
        resolver: school.resolver(),
        status: StatusListCache::new(school.lists.clone()),
    };
    SchoolServer::open(config, SchoolSecrets::generate().unwrap(), Some(parts)).unwrap()
}

fn get(address: SocketAddr, path: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut request = agent.get(format!("http://{address}{path}"));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn one_public_and_one_admin_router_reach_both_services() {
    let dir = temp_dir("routers");
    let server = server(&dir);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (public, admin) = runtime.block_on(async {
        (
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
    });
    let (public_address, admin_address) = (public.local_addr().unwrap(), admin.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let token = AdminToken::new(TOKEN).unwrap();
    let serving = runtime
        .spawn(async move { server.serve_until(public, admin, token, None, async move { drop(stopped.await) }).await });
    let (status, body) = std::thread::spawn(move || {
        let issuer = get(public_address, "/.well-known/openid-credential-issuer", None);
        assert_eq!(issuer.0, 200, "{}", issuer.1);
        assert!(issuer.1.contains("\"credential_issuer\":\"https://delinde.example\""));
        // The verifier's own fallback answers under its path, the issuer's elsewhere.
        let verifier = get(public_address, "/oid4vp/elsewhere", None);
        assert_eq!(verifier.0, 404);
        assert!(verifier.1.contains("there is no endpoint at this path"), "{}", verifier.1);
        let unknown = get(public_address, "/elsewhere", None);
        assert_eq!(unknown.0, 404);
        assert!(unknown.1.contains("no endpoint at this address"), "{}", unknown.1);
        // Admin: the issuer's, the verifier's outcomes, both behind the token.
        assert_eq!(get(admin_address, "/admin/subjects/1001/credentials", None).0, 401);
        assert_eq!(get(admin_address, "/admin/subjects/1001/credentials", Some(TOKEN)), (200, "[]".to_owned()));
        assert_eq!(get(admin_address, "/oid4vp/sessions/nope", None).0, 401);
        get(admin_address, "/oid4vp/sessions/nope", Some(TOKEN))
    })
    .join()
    .unwrap();
    assert_eq!(status, 404, "{body}");
    stop.send(()).unwrap();
    runtime.block_on(serving).unwrap().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn letters_are_offers_by_value_per_pupil_and_guardian() {
    let dir = temp_dir("letters");
    let server = server(&dir);
    let pupils = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n\
                  1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n1002,Daan,Jansen,2013-05-09,8A,2026-2027\n";
    let guardians = "leerlingnummer,ouder_id,relatie\n1001,a@example.nl,ouder\n1001,b@example.nl,voogd\n";
    server.roster().import(Some(pupils.as_bytes()), Some(guardians.as_bytes())).unwrap();
    let offers =
        server.letter_offers(&OfferSelection { group: Some("7B".into()), pupil: None }, 1_800_000_000).unwrap();
    let refs: Vec<&str> = offers.iter().map(|offer| offer.subject_ref.as_str()).collect();
    assert_eq!(refs, ["1001", "1001/a@example.nl", "1001/b@example.nl"]);
    for offer in &offers {
        assert!(offer.uri.starts_with("openid-credential-offer://?credential_offer="));
        assert_eq!(offer.pin.as_ref().map(|pin| pin.len()), Some(4));
        assert!(!format!("{offer:?}").contains(offer.pin.as_ref().unwrap().as_str()));
    }
    let only =
        server.letter_offers(&OfferSelection { group: None, pupil: Some("1002".into()) }, 1_800_000_000).unwrap();
    assert_eq!(only.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn qr_codes_decode_back_to_the_uri() {
    let uri = "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22https%3A%2F%2Fdelinde.example%22%7D";
    let svg = schooltas_server::qr::svg(uri).unwrap();
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
    let png = schooltas_server::qr::png(uri).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let (width, height) = (info.width as usize, info.height as usize);
    assert_eq!(width, height);
    assert_eq!(width % schooltas_server::qr::PNG_MODULE_PIXELS, 0);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    assert_eq!(grids[0].decode().unwrap().1, uri);
    // Far too long for any QR code.
    assert!(matches!(schooltas_server::qr::svg(&"x".repeat(8000)), Err(schooltas_server::qr::QrError::TooLong(_))));
}

#[test]
fn a_verifier_response_endpoint_at_the_root_is_refused() {
    let dir = temp_dir("root-response");
    let mut config = config(&dir);
    config.verifier.as_mut().unwrap().response_url = "https://delinde.example/response".into();
    let school = family::School::new();
    let parts = VerifierParts {
        trust_list: family::trust_list(&family::Verifier::new(21)),
        resolver: school.resolver(),
        status: StatusListCache::new(school.lists.clone()),
    };
    let refused = SchoolServer::open(config, SchoolSecrets::generate().unwrap(), Some(parts));
    assert!(matches!(refused, Err(schooltas_server::Error::UnservablePath { what: "response endpoint", .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wallet_attestation_section_makes_the_issuer_require_attestations_from_the_named_providers() {
    let dir = temp_dir("wallet-attestation");
    let provider_ca = schooltas_x509::CertificateAuthority::root(
        schooltas_did::SigningKey::generate(schooltas_did::Algorithm::Es256).unwrap(),
        schooltas_x509::Subject::new("Wallet Provider", "Wallet Provider Root").unwrap(),
        schooltas_x509::Validity::days_from(1_700_000_000, 3650).unwrap(),
        Some(0),
        schooltas_x509::Profile::Haip,
    )
    .unwrap();
    std::fs::write(dir.join("wallet-providers.pem"), provider_ca.certificate_pem()).unwrap();
    let mut config = config(&dir);
    config.wallet_attestation = Some(schooltas_server::config::WalletAttestationSection {
        trust_anchors: dir.join("wallet-providers.pem"),
        clients: vec!["https://wallet.example".into()],
        require_challenge: false,
    });
    let school = family::School::new();
    let parts = || VerifierParts {
        trust_list: family::trust_list(&family::Verifier::new(21)),
        resolver: school.resolver(),
        status: StatusListCache::new(school.lists.clone()),
    };
    let server = SchoolServer::open(config.clone(), SchoolSecrets::generate().unwrap(), Some(parts())).unwrap();
    let metadata = server.issuer().with_issuer(|issuer| issuer.authorization_server_metadata());
    assert_eq!(metadata.token_endpoint_auth_methods_supported, ["attest_jwt_client_auth"]);
    assert_eq!(metadata.client_attestation_signing_alg_values_supported, ["ES256"]);
    drop(server);

    // Anchors that are not certificates refuse the start, naming the file.
    std::fs::write(dir.join("wallet-providers.pem"), "not a certificate").unwrap();
    let refused = SchoolServer::open(config, SchoolSecrets::generate().unwrap(), Some(parts()));
    match refused {
        Err(schooltas_server::Error::CertificateChain { path, reason }) => {
            assert!(path.ends_with("wallet-providers.pem"), "{path}");
            assert!(reason.contains("wallet providers' PEM root certificates"), "{reason}");
        }
        Err(other) => panic!("expected a refused anchors file, got {other}"),
        Ok(_) => panic!("expected a refused anchors file"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `[store]` puts the issuer's offers (and the consent register) in the school's tenant of a
/// PostgreSQL database instead of the SQLite files. Runs when `SCHOOLTAS_TEST_POSTGRES` is set
/// (crates/postgres/ci.sh), as `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
#[test]
fn a_store_section_keeps_the_offers_in_the_schools_postgresql_tenant() {
    let Some(url) = std::env::var("SCHOOLTAS_TEST_POSTGRES").ok().filter(|url| !url.is_empty()) else {
        eprintln!(
            "SKIPPED: set SCHOOLTAS_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/DATABASE (crates/postgres/ci.sh)"
        );
        return;
    };
    // school.toml holds no password: split it off into a password file.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, host) = rest.split_once('@').unwrap();
    let (user, password) = credentials.split_once(':').unwrap();
    let dir = temp_dir("postgres");
    std::fs::write(dir.join("db-password"), password).unwrap();
    let store = format!("[store]\nurl = \"{scheme}://{user}@{host}\"\npassword_file = \"db-password\"\n");
    // A location of its own, so that repeated runs on one database start from no offers.
    let location = u8::try_from(std::process::id() % 100).unwrap();
    let mut config = config_with(&dir, &store);
    config.school.location = location;
    let server = server_with(config);
    let pupils = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n\
                  1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n";
    server.roster().import(Some(pupils.as_bytes()), None).unwrap();
    let offers = server.letter_offers(&OfferSelection::default(), 1_800_000_000).unwrap();
    assert_eq!(offers.len(), 1);
    assert!(!dir.join("state/issuer.sqlite").exists(), "no SQLite issuer store beside PostgreSQL");
    assert!(!dir.join("state/consents.sqlite").exists());
    // The offer is in the tenant 12AB-<location>: purging far in the future removes it.
    let pool = schooltas_postgres::connect(&url, 1).unwrap();
    let tenant = schooltas_postgres::Tenant::new(&format!("12AB-{location:02}")).unwrap();
    let tenant_store = schooltas_postgres::PostgresIssuerStore::open(pool, tenant).unwrap();
    let purged = schooltas_issuer::store::in_transaction(&tenant_store, |tx| tx.purge_expired(i64::MAX, 100)).unwrap();
    assert_eq!(purged, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
