//! A verifier's OpenID4VP service (`schooltas_server::verifier`) over TLS on 127.0.0.1, and a
//! real wallet answering it through its own guarded HTTPS client: the QR code's
//! `openid4vp://` URI, the request object fetched by reference, the prompt, the answer posted
//! to the `response_uri`, the `redirect_uri` back, and the verdict read by the verifier's front
//! end. A replayed answer, a declined request and junk are refused with the check that failed.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The wallet's own test fixtures: a school with its did:web document and status lists, a trust
// list registering the newsletter purpose, and a family whose wallets hold their credentials.
#[path = "../../wallet/tests/common/mod.rs"]
mod family;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use family::{ENROLMENT, NOW, paths};
use schooltas_did::SigningKey;
use schooltas_did::net::GuardedClient;
use schooltas_oid4vc::oid4vp::CredentialQuery;
use schooltas_server::AdminToken;
use schooltas_server::TlsConfig;
use schooltas_server::verifier::{SessionOutcome, VerifierConfig, VerifierService};
use schooltas_status_list::StatusListCache;
use schooltas_verifier::register::{ConsentRegister, SqliteConsentStore};
use schooltas_verifier::{Check, Verifier};
use schooltas_wallet::http::HttpsRequestObjectFetcher;
use schooltas_wallet::issuer_http::HttpsIssuerConnection;
use schooltas_wallet::request::Outcome;
use schooltas_wallet::{Decision, Error, Verifiers};

const TOKEN: &str = "front-end-token-0123456789abcdef0123456789";

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls").join(name)
}

fn client() -> GuardedClient {
    GuardedClient::new("schooltas-wallet-test")
        .with_trust_anchors_pem(&std::fs::read(tls_file("ca.pem")).unwrap())
        .unwrap()
        .dangerous_allow_private_addresses()
}

/// The verifier (did:key of seed 21, as the trust list registers it) at
/// `https://localhost:<port>/oid4vp/…`, its wallet router over TLS and its front-end router
/// on a second, plain loopback listener.
struct Desk {
    service: VerifierService,
    admin: std::net::SocketAddr,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Desk {
    fn start(school: &family::School) -> Desk {
        Self::start_with(school, None)
    }

    /// [`Desk::start`] keeping its consents in `register`.
    fn start_with(school: &family::School, register: Option<ConsentRegister<SqliteConsentStore>>) -> Desk {
        Self::start_configured(school, register, VerifierConfig::default())
    }

    /// [`Desk::start_with`] with `config`.
    fn start_configured(
        school: &family::School,
        register: Option<ConsentRegister<SqliteConsentStore>>,
        config: VerifierConfig,
    ) -> Desk {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("https://localhost:{port}/oid4vp");
        let verifier = Verifier::new(SigningKey::from_ed25519_seed(&[21; 32]), format!("{base}/response")).unwrap();
        let trust_list = family::trust_list(&family::Verifier::new(21));
        let status = StatusListCache::new(school.lists.clone());
        let service = VerifierService::with_clock(
            verifier,
            trust_list,
            school.resolver(),
            status,
            &format!("{base}/requests"),
            config,
            || NOW,
        )
        .unwrap();
        let service = match register {
            Some(register) => service.with_consent_register(register).unwrap(),
            None => service,
        };
        let admin_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        admin_listener.set_nonblocking(true).unwrap();
        let admin = admin_listener.local_addr().unwrap();
        let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key")).unwrap();
        let (mut stops, mut threads) = (Vec::new(), Vec::new());
        for (listener, is_admin) in [(listener, false), (admin_listener, true)] {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let (serving, tls) = (service.clone(), tls.clone());
            threads.push(std::thread::spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let shutdown = async move { drop(stopped.await) };
                    if is_admin {
                        serving.serve_admin_until(listener, AdminToken::new(TOKEN).unwrap(), shutdown).await.unwrap();
                    } else {
                        serving.serve_tls_until(listener, tls, shutdown).await.unwrap();
                    }
                });
            }));
            stops.push(stop);
        }
        Desk { service, admin, stops, threads }
    }

    /// `GET <admin>/<path>` with `token`.
    fn staff_get(&self, path_and_query: &str, token: &str) -> (u16, serde_json::Value) {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let url = format!("http://{}{path_and_query}", self.admin);
        let mut answer = agent.get(&url).header("Authorization", format!("Bearer {token}")).call().unwrap();
        let status = answer.status().as_u16();
        (status, serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap())
    }

    /// The front end asks how session `id` stands.
    fn outcome_over_http(&self, id: &str, token: &str) -> (u16, serde_json::Value) {
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let url = format!("http://{}{}/{id}", self.admin, self.service.sessions_path());
        let mut answer = agent.get(&url).header("Authorization", format!("Bearer {token}")).call().unwrap();
        let status = answer.status().as_u16();
        (status, serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap())
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            stop.send(()).ok();
        }
        for thread in self.threads.drain(..) {
            thread.join().ok();
        }
    }
}

fn newsletter_session(desk: &Desk) -> schooltas_server::verifier::OpenedSession {
    desk.service
        .open_session("newsletter", Some("https://delinde.example/nieuwsbrief/klaar"), |builder| {
            let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
            for path in paths(&["group", "given_name", "age_over_16"]) {
                query = query.claim(path);
            }
            builder.retention_days(365).credential(query)
        })
        .unwrap()
}

#[test]
fn a_wallet_answers_the_verifiers_qr_code_over_https() {
    let school = family::School::new();
    // Sixteen on the test day: answers a consent request alone.
    let family = family::family(&school, "pupil-17", "2010-03-01");
    school.publish();
    let desk = Desk::start(&school);
    let session = newsletter_session(&desk);
    assert!(
        session.uri.starts_with("openid4vp://?client_id=decentralized_identifier%3Adid%3Akey%3A"),
        "{}",
        session.uri
    );

    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a sixteen-year-old answers alone")
    };
    assert!(response.response_uri.ends_with("/oid4vp/response"));
    let connection = HttpsIssuerConnection::with_client(client());
    let redirect = connection.post_response(&response).unwrap().unwrap();
    // OpenID4VP 1.0 §8.2: the redirect carries a fresh response code back to the browser.
    let code = redirect.strip_prefix("https://delinde.example/nieuwsbrief/klaar#response_code=").unwrap();
    assert_eq!(code.len(), 32);

    // The front end learns the verdict.
    let Some(SessionOutcome::Accepted { verdict, .. }) = desk.service.outcome(&session.id) else {
        panic!("not accepted")
    };
    assert_eq!(verdict.claims("enrolment").unwrap()["group"], "7B");
    // HAIP 1.0 §5.1: without the code the redirect carried, the front end gets nothing; with
    // another code (the answer came back to another browser session) it is refused.
    let (status, outcome) = desk.outcome_over_http(&session.id, TOKEN);
    assert_eq!((status, outcome["status"].as_str()), (200, Some("awaiting_redirect")));
    assert!(outcome.get("credentials").is_none());
    let (status, outcome) =
        desk.outcome_over_http(&format!("{}?response_code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", session.id), TOKEN);
    assert_eq!((status, outcome["error"].as_str()), (403, Some("invalid_request")));
    let (status, outcome) = desk.outcome_over_http(&format!("{}?response_code={code}", session.id), TOKEN);
    assert_eq!(status, 200);
    assert_eq!(outcome["status"], "accepted");
    assert_eq!(outcome["credentials"][0]["claims"]["given_name"], "Sanne");
    let (status, outcome) = desk.outcome_over_http(&session.id, "not-the-token-0123456789abcdef0123456789");
    assert_eq!((status, outcome["error"].as_str()), (401, Some("invalid_token")));

    // The same answer again is a replay; the request object is no longer served.
    let error = connection.post_response(&response).unwrap_err();
    assert!(
        matches!(&error, Error::VerifierRefused { error, description: Some(d) } if error == "invalid_request" && d.contains(Check::Replay.name())),
        "{error}"
    );
    let error = fetcher.fetch(&session.request_uri).unwrap_err();
    assert!(matches!(&error, Error::Did(schooltas_did::Error::Fetch { .. })), "{error}");
}

#[test]
fn a_declined_request_closes_the_session_and_junk_is_refused_without_burning_it() {
    let school = family::School::new();
    let family = family::family(&school, "pupil-17", "2010-03-01");
    school.publish();
    let desk = Desk::start(&school);
    let connection = HttpsIssuerConnection::with_client(client());

    // Junk naming no open request: refused, the session stays open.
    let session = newsletter_session(&desk);
    let junk = schooltas_wallet::request::ResponseToSend {
        response_uri: session.request_uri.replace(&format!("requests/{}", session.id), "response"),
        body: "vp_token=%7B%7D".into(),
        discloses: false,
    };
    let error = connection.post_response(&junk).unwrap_err();
    assert!(matches!(&error, Error::VerifierRefused { error, .. } if error == "invalid_request"), "{error}");
    assert!(matches!(desk.service.outcome(&session.id), Some(SessionOutcome::Pending { .. })));

    // The child says no: the wallet posts error=access_denied with the state; the session closes.
    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(refusal) = family.child.decide(&prompt.request_id, Decision::Deny, NOW).unwrap() else {
        panic!("a refusal is sent")
    };
    assert!(!refusal.discloses);
    assert_eq!(connection.post_response(&refusal).unwrap(), None);
    assert!(
        matches!(desk.service.outcome(&session.id), Some(SessionOutcome::Declined { error }) if error == "access_denied")
    );

    // An error response carries no key binding, and its `state` is in the request object anyone
    // who saw the QR code can fetch: a decline must not lock the family out. The request is
    // still served, and the child's answer when she changes her mind is accepted.
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(answer) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a sixteen-year-old answers alone")
    };
    assert!(connection.post_response(&answer).unwrap().is_some());
    assert!(matches!(desk.service.outcome(&session.id), Some(SessionOutcome::Accepted { .. })));
    // A decline after the acceptance changes nothing.
    assert_eq!(connection.post_response(&refusal).unwrap(), None);
    assert!(matches!(desk.service.outcome(&session.id), Some(SessionOutcome::Accepted { .. })));

    // Bytes that are not UTF-8 where the form is expected: 400, named.
    let response_uri = answer.response_uri.clone();
    let post = schooltas_did::net::Post {
        url: &response_uri,
        content_type: "application/x-www-form-urlencoded",
        body: &[0x76, 0x70, 0x3d, 0xff, 0xfe],
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 16,
        timeout: std::time::Duration::from_secs(10),
        plain_http: false,
    };
    let answer = client().post(&post).unwrap();
    assert_eq!(answer.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error_description"], "the body is not UTF-8");
}

fn pct(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A folder of this test's own, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = std::env::temp_dir().join(format!("schooltas-server-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn a_parents_consent_is_recorded_answered_exported_and_withdrawn_over_https() {
    let school = family::School::new();
    // Twelve: her parent approves from a second wallet.
    let family = family::family(&school, "pupil-17", "2014-03-01");
    school.publish();
    let folder = Folder::new("consents");
    let database = folder.0.join("consents.sqlite");
    let register = ConsentRegister::new(SqliteConsentStore::open(&database).unwrap());
    let desk = Desk::start_with(&school, Some(register));
    let session = newsletter_session(&desk);

    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::AwaitGuardian(to_parent) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap()
    else {
        panic!("a twelve-year-old needs her parent")
    };
    let answer = family.parent.answer_child_request(&to_parent, true, &verifiers, NOW).unwrap();
    let response = family.child.complete_with_guardian(&answer, NOW).unwrap();
    let connection = HttpsIssuerConnection::with_client(client());
    let redirect = connection.post_response(&response).unwrap().unwrap();
    let (_, code) = redirect.split_once("#response_code=").unwrap();

    // Recorded before the wallet heard yes: the outcome names it, and the file holds it.
    let (status, outcome) = desk.outcome_over_http(&format!("{}?response_code={code}", session.id), TOKEN);
    assert_eq!((status, outcome["status"].as_str()), (200, Some("accepted")));
    assert_eq!(outcome["guardian_approval"], true);
    let consent_id = outcome["consent_id"].as_str().unwrap().to_owned();
    let subject = outcome["subject"].as_str().unwrap().to_owned();
    let on_disk = ConsentRegister::new(SqliteConsentStore::open(&database).unwrap());
    assert_eq!(on_disk.list(&subject).unwrap().len(), 1, "the consent is in the database file");

    // The newsletter editor asks; the guardianship's status is checked too.
    let consents = desk.service.consents_path().to_owned();
    let ask = format!("{consents}/may-use?subject={}&purpose=newsletter", pct(&subject));
    let (status, yes) = desk.staff_get(&ask, TOKEN);
    assert_eq!((status, yes["answer"].as_str()), (200, Some("yes")), "{yes}");
    assert_eq!(yes["consent_id"], consent_id.as_str());
    assert_eq!(yes["approved_by_guardian"], true);
    // Without the token, or with a malformed question: refused.
    let (status, refused) = desk.staff_get(&ask, "not-the-token-0123456789abcdef0123456789");
    assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_token")));
    let (status, refused) = desk.staff_get(&format!("{consents}/may-use?subject=x&purpose=a&purpose=b"), TOKEN);
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")));
    let (status, refused) = desk.staff_get(&format!("{consents}/may-use?purpose=newsletter"), TOKEN);
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")));
    // Another child, or another purpose: no.
    let (_, no) = desk.staff_get(&format!("{consents}/may-use?subject=someone-else&purpose=newsletter"), TOKEN);
    assert_eq!((no["answer"].as_str(), no["reason"].as_str()), (Some("no"), Some("no_consent")));

    // The family's access request (GDPR art. 15): the consent with its evidence.
    let (status, export) = desk.staff_get(&format!("{consents}/subjects/{}", pct(&subject)), TOKEN);
    assert_eq!(status, 200);
    assert_eq!(export["subject"], subject.as_str());
    assert_eq!(export["consents"].as_array().unwrap().len(), 1);

    // A withdrawal signed by someone else's key for the same consent: 403, nothing changes.
    let record = on_disk.list(&subject).unwrap().remove(0);
    let stranger = SigningKey::from_ed25519_seed(&[99; 32]);
    let forged =
        schooltas_school::consent::ConsentWithdrawal::new(&record.verifier, &record.request_nonce, "newsletter", NOW)
            .sign(&stranger)
            .unwrap();
    let forged = schooltas_wallet::WithdrawalMessage {
        verifier: record.verifier.clone(),
        response_uri: response.response_uri.clone(),
        jwt: forged,
    };
    let error = connection.post_withdrawal(&forged).unwrap_err();
    assert!(matches!(&error, Error::VerifierRefused { error, .. } if error == "not_the_consenter"), "{error}");
    assert_eq!(desk.staff_get(&ask, TOKEN).1["answer"], "yes");

    // The parent withdraws from her wallet: one signed message to the response endpoint.
    let given = family.parent.consents().unwrap().remove(0);
    let withdrawal = family.parent.withdraw(&given.id, NOW + 60).unwrap();
    assert_eq!(withdrawal.response_uri, response.response_uri);
    connection.post_withdrawal(&withdrawal).unwrap();
    let (_, no) = desk.staff_get(&ask, TOKEN);
    assert_eq!((no["answer"].as_str(), no["reason"].as_str()), (Some("no"), Some("withdrawn")), "{no}");
    // Sent again: 409, the first withdrawal stands.
    let error = connection.post_withdrawal(&withdrawal).unwrap_err();
    assert!(matches!(&error, Error::VerifierRefused { error, .. } if error == "already_withdrawn"), "{error}");
    let (_, export) = desk.staff_get(&format!("{consents}/subjects/{}", pct(&subject)), TOKEN);
    assert!(export["consents"][0]["withdrawn"].is_object(), "{export}");
    // Junk as a withdrawal: 400.
    let junk = schooltas_wallet::WithdrawalMessage { jwt: "not.a.jwt".into(), ..withdrawal };
    let error = connection.post_withdrawal(&junk).unwrap_err();
    assert!(matches!(&error, Error::VerifierRefused { error, .. } if error == "invalid_request"), "{error}");
    // Bytes that are not UTF-8 as a withdrawal, and as the subject asked about: 400, named.
    let post = schooltas_did::net::Post {
        url: &junk.response_uri,
        content_type: "application/schooltas-consent-withdrawal+jwt",
        body: &[0x65, 0x79, 0xff, 0xfe],
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 16,
        timeout: std::time::Duration::from_secs(10),
        plain_http: false,
    };
    let answer = client().post(&post).unwrap();
    assert_eq!(answer.status, 400);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error_description"], "the body is not UTF-8");
    let (status, refused) = desk.staff_get(&format!("{consents}/may-use?subject=%FF%FE&purpose=newsletter"), TOKEN);
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")));
    // The withdrawn consent is still withdrawn after all of it.
    assert_eq!(desk.staff_get(&ask, TOKEN).1["reason"], "withdrawn");
}

#[test]
fn request_uri_method_post_gets_an_object_carrying_the_wallets_nonce() {
    let school = family::School::new();
    let family = family::family(&school, "pupil-17", "2010-03-01");
    school.publish();
    let config = VerifierConfig { request_uri_method_post: true, ..VerifierConfig::default() };
    let desk = Desk::start_configured(&school, None, config);
    let session = newsletter_session(&desk);
    assert!(session.uri.ends_with("&request_uri_method=post"), "{}", session.uri);

    let post = |body: &str| {
        let post = schooltas_did::net::Post {
            url: &session.request_uri,
            content_type: "application/x-www-form-urlencoded",
            body: body.as_bytes(),
            accept: "application/oauth-authz-req+jwt",
            bearer: None,
            dpop: None,
            client_attestation: None,
            max_len: 1 << 16,
            timeout: std::time::Duration::from_secs(10),
            plain_http: false,
        };
        let answer = client().post(&post).unwrap();
        (answer.status, String::from_utf8(answer.body).unwrap())
    };
    let claims = |jwt: &str| -> serde_json::Value {
        let payload = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&schooltas_did::base64url::decode(payload).unwrap()).unwrap()
    };
    // §5.10.1: the object fetched with a wallet_nonce carries it, for the same request.
    let (status, jwt) = post("wallet_nonce=qPmxiNFCR3QTm19POc8u&wallet_metadata=%7B%7D");
    assert_eq!(status, 200, "{jwt}");
    let fresh = claims(&jwt);
    assert_eq!(fresh["wallet_nonce"], "qPmxiNFCR3QTm19POc8u");
    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let read = schooltas_oid4vc::oid4vp::UnverifiedRequestObject::parse(&jwt)
        .unwrap()
        .verify_with_resolver(&resolver, NOW, 60)
        .unwrap();
    assert!(read.extension("wallet_nonce").is_none(), "the wallet's nonce is not a request parameter");
    let (_, plain) = post("");
    assert_eq!(claims(&plain)["nonce"], fresh["nonce"], "one request, whatever the fetch");
    assert!(claims(&plain).get("wallet_nonce").is_none());
    // Refused: two nonces, a nonce that is not printable ASCII, a body that is not a form.
    for (body, reason) in [
        ("wallet_nonce=a&wallet_nonce=b", "each parameter once"),
        ("wallet_nonce=a+b", "printable ASCII"),
        ("wallet_nonce=%ZZ", "not a strict form"),
    ] {
        let (status, answer) = post(body);
        assert_eq!(status, 400, "{body}");
        assert!(answer.contains(reason), "{answer}");
    }

    // A wallet that fetches with GET (ours, today) still answers the URI.
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(response) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a sixteen-year-old answers alone")
    };
    assert!(HttpsIssuerConnection::with_client(client()).post_response(&response).unwrap().is_some());
}

/// HAIP 1.0 (`VerifierConfig::haip`): the request asks for `direct_post.jwt` with the desk's
/// key, the wallet encrypts its answer and its refusal, and the desk refuses a plaintext
/// answer and a changed JWE with 400 `invalid_request` naming the check `encryption`.
#[test]
fn encrypted_responses_round_trip_and_plaintext_or_tampered_answers_are_refused() {
    let school = family::School::new();
    let family = family::family(&school, "pupil-17", "2010-03-01");
    school.publish();
    let desk = Desk::start_configured(&school, None, VerifierConfig::haip());
    let connection = HttpsIssuerConnection::with_client(client());
    let trust_list = family::trust_list(&family::Verifier::new(21));
    let resolver = school.resolver();
    let fetcher = HttpsRequestObjectFetcher::new().with_client(client());
    let fetch = |uri: &str| fetcher.fetch(uri);
    let verifiers = Verifiers { trust_list: &trust_list, resolver: &resolver, fetch_request_object: Some(&fetch) };

    let session = newsletter_session(&desk);
    let prompt = family.child.handle_request(&session.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(answer) = family.child.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() else {
        panic!("a sixteen-year-old answers alone")
    };
    assert!(answer.body.starts_with("response=ey"), "the answer is one JWE");
    assert!(!answer.body.contains("vp_token") && !answer.body.contains("state="));

    let refused_for_encryption = |error: &Error| {
        matches!(error, Error::VerifierRefused { error, description: Some(d) }
            if error == "invalid_request" && d.contains(Check::Encryption.name()))
    };
    // A plaintext answer to a request that asked for an encrypted one.
    let plaintext = schooltas_wallet::request::ResponseToSend {
        response_uri: answer.response_uri.clone(),
        body: "vp_token=%7B%22enrolment%22%3A%5B%22x~%22%5D%7D".into(),
        discloses: false,
    };
    let error = connection.post_response(&plaintext).unwrap_err();
    assert!(refused_for_encryption(&error), "{error}");
    // On the wire: 400, error code invalid_request, the failed check named.
    let post = schooltas_did::net::Post {
        url: &answer.response_uri,
        content_type: "application/x-www-form-urlencoded",
        body: plaintext.body.as_bytes(),
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 1 << 16,
        timeout: std::time::Duration::from_secs(10),
        plain_http: false,
    };
    let raw = client().post(&post).unwrap();
    assert_eq!(raw.status, 400);
    let raw: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(raw["error"], "invalid_request");
    assert!(raw["error_description"].as_str().unwrap().contains("encryption"), "{raw}");
    // The JWE with one character of its ciphertext changed.
    let mut parts: Vec<String> = answer.body.split('.').map(str::to_owned).collect();
    let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
    parts[3].replace_range(0..1, flipped);
    let tampered = schooltas_wallet::request::ResponseToSend { body: parts.join("."), ..plaintext.clone() };
    let error = connection.post_response(&tampered).unwrap_err();
    assert!(refused_for_encryption(&error), "{error}");
    assert!(matches!(desk.service.outcome(&session.id), Some(SessionOutcome::Pending { .. })));

    // The genuine answer is accepted, once.
    assert!(connection.post_response(&answer).unwrap().is_some());
    let Some(SessionOutcome::Accepted { verdict, .. }) = desk.service.outcome(&session.id) else {
        panic!("not accepted")
    };
    assert_eq!(verdict.claims("enrolment").unwrap()["group"], "7B");
    let error = connection.post_response(&answer).unwrap_err();
    assert!(matches!(&error, Error::VerifierRefused { description: Some(d), .. } if d.contains(Check::Replay.name())));

    // A refusal is encrypted too, and still closes its session.
    let declined = newsletter_session(&desk);
    let prompt = family.child.handle_request(&declined.uri, &verifiers, NOW).unwrap();
    let Outcome::Send(refusal) = family.child.decide(&prompt.request_id, Decision::Deny, NOW).unwrap() else {
        panic!("a refusal is sent")
    };
    assert!(refusal.body.starts_with("response=ey") && !refusal.body.contains("access_denied"));
    assert_eq!(connection.post_response(&refusal).unwrap(), None);
    assert!(
        matches!(desk.service.outcome(&declined.id), Some(SessionOutcome::Declined { error }) if error == "access_denied")
    );
}
