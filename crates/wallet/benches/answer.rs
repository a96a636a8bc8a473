//! Wallets holding 100, 1,000 and 10,000 credential copies: answering an OpenID4VP request
//! (`handle_request` + `decide`: DCQL match over the copies of the asked type, one presentation,
//! one synced commit), the first answer after opening, listing and opening the store — next to
//! the raw operations an answer cannot avoid: one request-object signature check, one KB-JWT
//! signature, and (for the durability floor) one `fdatasync` of a 4 KiB write in the same
//! directory. Argon2id key derivation with the default parameters is timed separately.
//!
//! `cargo bench -p schooltas-wallet --bench answer -- --warm-up-time 1 --measurement-time 5`
//! (`--profile-time 10 <name>` runs one benchmark only, for `perf record`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use schooltas_did::{Algorithm, Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas_oid4vc::oid4vp::{AuthorizationRequest, AuthorizationRequestUri, CredentialQuery, DcqlQuery};
use schooltas_school::catalog::Catalog;
use schooltas_school::date::CalendarDate;
use schooltas_school::trust_list::{RegisteredPurpose, TrustList, VerifiedTrustList, VerifierRegistration};
use schooltas_school::{LegalBasis, LocalizedText, Purpose, SchooltasExtension, SchooltasRequest};
use schooltas_sd_jwt::ClaimPath;
use schooltas_sd_jwt::{RandomSalts, UnverifiedSdJwt, VerifyOptions};
use schooltas_wallet::receive::{CREDENTIAL_KIND, StoredCredential};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas_wallet::{Decision, Outcome, Role, Verifiers, Wallet};
use serde_json::{Map, Value, json};

#[path = "../../did/benches/support/ratios.rs"]
mod ratios;
use ratios::{Ratio, interleaved_ratio, median_ns, print_ratios};

const NOW: i64 = 1_800_000_000; // 2027-01-15
const SIZES: [usize; 3] = [100, 1_000, 10_000];
const LARGEST: usize = 10_000;
const PER_BATCH: usize = 3;
const ENROLMENT: &str = "https://schooltas.nl/credentials/enrolment/v1";
const NEWSLETTER_CLAIMS: [&str; 4] = ["group", "given_name", "sub", "age_over_16"];
const PASSPHRASE: &str = "correct horse battery staple";

fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

fn kid_of(did: &Did) -> DidUrl {
    let fragment = did.as_str().trim_start_matches("did:key:");
    DidUrl::parse(&format!("{did}#{fragment}")).unwrap()
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

/// The claims of copy batch `n` (not the enrolment): achievements, learning results and
/// school advice in turn.
fn filler_claims(n: usize) -> (&'static str, Map<String, Value>) {
    let day = 1 + n % 28;
    match n % 3 {
        0 => (
            "achievement",
            object(json!({"title": format!("Badge {n}"), "criteria": "Zwemdiploma A: 25 meter borstcrawl",
                          "achieved_on": format!("2026-03-{day:02}"), "issued_by": "Zwembad De Wetering"})),
        ),
        1 => (
            "learning_results",
            object(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
                          "test_name": format!("Doorstroomtoets {n}"), "test_date": format!("2026-02-{day:02}"),
                          "reading_level": "2F", "language_level": "1F", "maths_level": "1S"})),
        ),
        _ => (
            "school_advice",
            object(json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
                          "advice": ["havo", "vwo"], "advice_date": format!("2026-01-{day:02}"),
                          "adjusted_after_final_test": n.is_multiple_of(2)})),
        ),
    }
}

fn enrolment_claims(sub: &str) -> Map<String, Value> {
    object(json!({"sub": sub, "school_name": "Basisschool De Linde", "school_brin": "12AB",
                  "school_location": "00", "school_year": "2026-2027", "group": "7B", "given_name": "Sanne",
                  "family_name": "de Vries", "birth_date": "2009-05-01", "age_over_12": true, "age_over_16": true}))
}

/// One stored copy: a real SD-JWT VC from the school's did:key, bound to its own holder key.
fn stored_copy(
    catalog: &Catalog,
    school: &SigningKey,
    school_kid: &str,
    config_id: &str,
    claims: Map<String, Value>,
    id: String,
    batch: String,
) -> StoredCredential {
    let school_did = did_of(school);
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let credential_type = catalog.get(config_id).unwrap();
    let issued = credential_type
        .builder(school_did.as_str(), NOW - 86_400, claims)
        .unwrap()
        .holder_key(holder.verifying_key())
        .kid(school_kid)
        .issue(school, &mut RandomSalts)
        .unwrap()
        .to_string();
    let verified = UnverifiedSdJwt::parse(&issued)
        .unwrap()
        .verify(school.verifying_key(), &VerifyOptions::sd_jwt_vc_as_issued(), NOW)
        .unwrap();
    StoredCredential {
        id,
        batch,
        config_id: config_id.to_owned(),
        vct: credential_type.vct().as_str().to_owned(),
        issuer: school_did.to_string(),
        sd_jwt: issued,
        holder_key: holder.to_private_jwk().into(),
        received_at: NOW - 86_400,
        used: false,
        batch_index: 0,
        claims: Value::Object(verified.into_claims()),
        authority_key_ids: Vec::new(),
    }
}

/// A wallet file with `total` copies: batches of fillers and one enrolment batch, all of 3
/// copies (for 10,000: 3,332 filler batches of 3, one of 1, and the enrolment batch). Written
/// straight into the vault, so the first `Wallet::open` builds the credential index.
fn fill(vault: &Vault, sub: &str, total: usize) {
    let catalog = Catalog::standard();
    let school = SigningKey::from_ed25519_seed(&[1; 32]);
    let school_kid = kid_of(&did_of(&school)).to_string();
    let mut copies = Vec::with_capacity(total);
    for i in 0..PER_BATCH {
        copies.push(stored_copy(
            &catalog,
            &school,
            &school_kid,
            "pupil_enrolment",
            enrolment_claims(sub),
            format!("enrolment-{i}"),
            "batch-enrolment".into(),
        ));
    }
    let mut n = 0;
    while copies.len() < total {
        let (config_id, claims) = filler_claims(n / PER_BATCH);
        copies.push(stored_copy(
            &catalog,
            &school,
            &school_kid,
            config_id,
            claims,
            format!("copy-{n:05}"),
            format!("batch-{:05}", n / PER_BATCH),
        ));
        n += 1;
    }
    for chunk in copies.chunks(2_500) {
        vault
            .transaction(|tx| {
                for copy in chunk {
                    tx.put(CREDENTIAL_KIND, &copy.id, &serde_json::to_vec(copy).unwrap())?;
                }
                Ok(())
            })
            .unwrap();
    }
}

fn trust_list(verifier: &Did) -> VerifiedTrustList {
    let operator = SigningKey::from_ed25519_seed(&[9; 32]);
    let registration = VerifierRegistration::new(verifier.clone(), "Basisschool De Linde (nieuwsbrief)").with_purpose(
        RegisteredPurpose::new(
            "newsletter",
            LocalizedText { nl: "Nieuwsbrief".into(), en: "Newsletter".into() },
            LegalBasis::Consent,
            365,
        )
        .allow(ENROLMENT, NEWSLETTER_CLAIMS.iter().map(|n| ClaimPath::claim(*n)).collect::<Vec<_>>()),
    );
    TrustList::new(did_of(&operator), NOW - 3600, NOW + 400 * 86_400)
        .with_verifier(registration)
        .sign_and_verify(&operator, &kid_of(&did_of(&operator)), NOW, 60)
        .unwrap()
        .1
}

/// A freshly signed newsletter request (a new nonce each time: requests are stored by id).
fn request_uri(verifier: &SigningKey) -> (String, AuthorizationRequest) {
    let did = did_of(verifier);
    let mut query = CredentialQuery::sd_jwt_vc("enrolment", [ENROLMENT]);
    for name in NEWSLETTER_CLAIMS {
        query = query.claim(ClaimPath::claim(name));
    }
    let dcql = DcqlQuery::builder().credential(query).build().unwrap();
    let request = AuthorizationRequest::new(
        &did,
        "https://delinde.example/oid4vp/response",
        schooltas_oid4vc::oid4vp::random_nonce(),
        dcql,
    )
    .with_state("session-81f2a")
    .with_schooltas(SchooltasExtension::new(
        Purpose {
            code: "newsletter".into(),
            text: LocalizedText {
                nl: "Klassenfoto in de nieuwsbrief".into(),
                en: "Class photo in the newsletter".into(),
            },
        },
        LegalBasis::Consent,
        365,
    ))
    .unwrap();
    let jwt = request.sign(verifier, &kid_of(&did), NOW, 600).unwrap();
    (AuthorizationRequestUri::ByValue { client_id: request.client_id.clone(), request_jwt: jwt }.to_uri(), request)
}

fn answer(wallet: &Wallet, uri: &str, verifiers: &Verifiers<'_>) -> String {
    let prompt = wallet.handle_request(uri, verifiers, NOW).unwrap();
    assert!(prompt.answerable);
    match wallet.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap() {
        Outcome::Send(response) => response.body,
        Outcome::AwaitGuardian(_) => panic!("a 17-year-old decides alone"),
    }
}

fn open_wallet(path: &Path, unlock: Unlock<'_>) -> Wallet {
    Wallet::open(Vault::open(path, unlock).unwrap()).unwrap()
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A 17-year-old's wallet file with `total` copies, its index built (the rebuild at the first
/// open after the raw fill is timed and printed).
fn make_wallet(dir: &Path, total: usize, key: &WalletKey) -> PathBuf {
    let path = dir.join(format!("wallet-{total}.sqlite"));
    let started = Instant::now();
    let wallet = Wallet::create(
        Vault::create(&path, Unlock::Key(key), KdfParams::default()).unwrap(),
        Role::Child { birth_date: CalendarDate::parse("2009-05-01").unwrap() },
        NOW,
    )
    .unwrap();
    fill(wallet.vault(), wallet.owner().did().as_str(), total);
    drop(wallet);
    let filled = started.elapsed();
    let started = Instant::now();
    drop(open_wallet(&path, Unlock::Key(key)));
    let rebuilt = started.elapsed();
    let started = Instant::now();
    drop(open_wallet(&path, Unlock::Key(key)));
    println!(
        "setup {total:>6} copies: issued and stored in {:.1} s; first open (index built from the raw fill) {:.1} ms, \
         next open {:.1} ms",
        filled.as_secs_f64(),
        rebuilt.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3
    );
    path
}

fn bench(c: &mut Criterion, profiling: bool) {
    let dir = TempDir(std::env::temp_dir().join(format!(
        "schooltas-wallet-bench-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    )));
    std::fs::create_dir_all(&dir.0).unwrap();
    let key = WalletKey::from_bytes([7; 32]);
    let paths: Vec<(usize, PathBuf)> = SIZES.iter().map(|&n| (n, make_wallet(&dir.0, n, &key))).collect();
    let wallets: Vec<(usize, Wallet)> =
        paths.iter().map(|(n, path)| (*n, open_wallet(path, Unlock::Key(&key)))).collect();
    let (largest_path, largest) = (&paths.last().unwrap().1, &wallets.iter().find(|(n, _)| *n == LARGEST).unwrap().1);
    // The same wallet on tmpfs, where fdatasync returns at once: what an answer costs the CPU.
    let shm = Path::new("/dev/shm");
    let memory_dir = shm.is_dir().then(|| {
        let dir = TempDir(shm.join(format!("schooltas-wallet-bench-{}", std::process::id())));
        std::fs::create_dir_all(&dir.0).unwrap();
        dir
    });
    let in_memory = memory_dir.as_ref().map(|dir| open_wallet(&make_wallet(&dir.0, LARGEST, &key), Unlock::Key(&key)));

    let verifier = SigningKey::from_ed25519_seed(&[21; 32]);
    let trust = trust_list(&did_of(&verifier));
    let resolver = Resolver::offline();
    let verifiers = Verifiers { trust_list: &trust, resolver: &resolver, fetch_request_object: None };

    // One answer up front: checks the flow and gives the real message lengths for the floor.
    let (uri, _) = request_uri(&verifier);
    let jwt = match AuthorizationRequestUri::parse(&uri).unwrap() {
        AuthorizationRequestUri::ByValue { request_jwt, .. } => request_jwt,
        AuthorizationRequestUri::ByReference { .. } => unreachable!(),
    };
    let request_input_len = jwt.rfind('.').unwrap();
    let body = answer(largest, &uri, &verifiers);
    let response = schooltas_school::consent::response_from_form(&body).unwrap();
    let presentation = &response.vp_token["enrolment"][0];
    let kb_jwt = presentation.rsplit('~').next().unwrap();
    let kb_input_len = kb_jwt.rfind('.').unwrap();
    if !profiling {
        println!("signing inputs: request object {request_input_len} bytes, KB-JWT {kb_input_len} bytes");
        println!("credentials listed: {} batches", largest.credentials().unwrap().len());
        sub_steps(largest, &verifier, &verifiers);
        first_answer_steps(largest_path, &key, &verifier, &verifiers);
    }

    // The floor: raw Ed25519 over messages as long as the real signing inputs, and one
    // fdatasync of a 4 KiB write next to the wallet file (what one durable commit must wait for).
    let holder = SigningKey::generate(Algorithm::EdDsa).unwrap();
    let kb_message = vec![b'e'; kb_input_len];
    let request_message = vec![b'e'; request_input_len];
    let request_signature = verifier.sign(&request_message).unwrap();
    let sync_file = std::fs::File::create(dir.0.join("fdatasync-probe")).unwrap();
    let page = [0x5a_u8; 4096];
    let fdatasync = || {
        use std::os::unix::fs::FileExt;
        sync_file.write_all_at(&page, 0).unwrap();
        sync_file.sync_data().unwrap();
    };
    let mut raw = c.benchmark_group("wallet_raw");
    raw.bench_function("ed25519_sign_kb_jwt", |b| b.iter(|| holder.sign(black_box(&kb_message)).unwrap()));
    raw.bench_function("ed25519_verify_request_object", |b| {
        b.iter(|| {
            verifier.verifying_key().verify(Algorithm::EdDsa, black_box(&request_message), &request_signature).unwrap()
        })
    });
    raw.sample_size(20).bench_function("fdatasync_4k", |b| b.iter(fdatasync));
    raw.finish();

    let mut group = c.benchmark_group("wallet");
    group.sample_size(10);
    // Opening first, while the files hold only the copies (answers add records).
    // Opening = `Vault::open` (file, pragmas, key check, state root) + `Wallet::open` (the
    // owner record, the index's digest compared).
    group.bench_function(format!("open_store_{LARGEST}_credentials"), |b| {
        b.iter(|| open_wallet(largest_path, Unlock::Key(&key)))
    });
    for (n, wallet) in &wallets {
        group.bench_function(format!("answer_request_{n}_credentials"), |b| {
            b.iter_batched(|| request_uri(&verifier).0, |uri| answer(wallet, &uri, &verifiers), BatchSize::PerIteration)
        });
    }
    if let Some(wallet) = &in_memory {
        group.bench_function(format!("answer_request_{LARGEST}_credentials_tmpfs"), |b| {
            b.iter_batched(|| request_uri(&verifier).0, |uri| answer(wallet, &uri, &verifiers), BatchSize::PerIteration)
        });
    }
    // The first answer of a freshly opened wallet (the open itself is not timed; the handle
    // is dropped untimed too).
    group.bench_function(format!("first_answer_after_open_{LARGEST}_credentials"), |b| {
        b.iter_batched(
            || (open_wallet(largest_path, Unlock::Key(&key)), request_uri(&verifier).0),
            |(wallet, uri)| {
                black_box(answer(&wallet, &uri, &verifiers));
                wallet
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(format!("list_credentials_{LARGEST}"), |b| b.iter(|| largest.credentials().unwrap()));
    group.finish();

    if profiling {
        return;
    }
    // The deliberate KDF cost: a passphrase wallet (Argon2id, 64 MiB, t=3, p=1) opened.
    let passphrase_path = dir.0.join("passphrase.sqlite");
    drop(
        Wallet::create(
            Vault::create(&passphrase_path, Unlock::Passphrase(PASSPHRASE), KdfParams::default()).unwrap(),
            Role::Child { birth_date: CalendarDate::parse("2009-05-01").unwrap() },
            NOW,
        )
        .unwrap(),
    );
    let mut kdf = c.benchmark_group("wallet_kdf");
    kdf.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    kdf.bench_function("open_store_passphrase_argon2id_default", |b| {
        b.iter(|| open_wallet(&passphrase_path, Unlock::Passphrase(PASSPHRASE)))
    });
    kdf.finish();

    // The answer's ratio measured interleaved with its floor (robust to speed drift), without
    // and with the one fdatasync a durable answer waits for. Requests are signed up front so
    // that only the answer is timed.
    const ROUNDS: usize = 21;
    let mut uris: Vec<String> = (0..3 * ROUNDS).map(|_| request_uri(&verifier).0).collect();
    println!();
    let signatures = || {
        black_box(holder.sign(black_box(&kb_message)).unwrap());
        verifier.verifying_key().verify(Algorithm::EdDsa, black_box(&request_message), &request_signature).unwrap();
    };
    interleaved_ratio(
        &format!("wallet/answer_request_{LARGEST}_credentials"),
        || black_box(answer(largest, &uris.pop().unwrap(), &verifiers)).clear(),
        signatures,
        ROUNDS,
        1,
    );
    interleaved_ratio(
        "  … to signatures + one fdatasync_4k",
        || black_box(answer(largest, &uris.pop().unwrap(), &verifiers)).clear(),
        || {
            signatures();
            fdatasync();
        },
        ROUNDS,
        1,
    );
    if let Some(wallet) = &in_memory {
        interleaved_ratio(
            &format!("wallet/answer_request_{LARGEST}_credentials_tmpfs"),
            || black_box(answer(wallet, &uris.pop().unwrap(), &verifiers)).clear(),
            signatures,
            ROUNDS,
            1,
        );
    }
    drop(wallets);
    drop(in_memory);
}

/// The first answer after opening, split the same way (median of 7 fresh opens).
fn first_answer_steps(path: &Path, key: &WalletKey, verifier: &SigningKey, verifiers: &Verifiers<'_>) {
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (mut open, mut handle, mut decide) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let (uri, _) = request_uri(verifier);
        let start = Instant::now();
        let wallet = open_wallet(path, Unlock::Key(key));
        open.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let prompt = wallet.handle_request(&uri, verifiers, NOW).unwrap();
        handle.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        black_box(wallet.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap());
        decide.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "first answer after open (median of 7, {LARGEST} copies): open {:.2} ms, handle_request {:.2} ms, decide {:.2} ms",
        median(open),
        median(handle),
        median(decide),
    );
}

/// Times the answer's two calls once each (median of a few runs): where the time goes.
fn sub_steps(wallet: &Wallet, verifier: &SigningKey, verifiers: &Verifiers<'_>) {
    let median = |mut times: Vec<f64>| {
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let (mut handle, mut decide) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (uri, _) = request_uri(verifier);
        let start = Instant::now();
        let prompt = wallet.handle_request(&uri, verifiers, NOW).unwrap();
        handle.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        black_box(wallet.decide(&prompt.request_id, Decision::ApproveAll, NOW).unwrap());
        decide.push(start.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "sub-steps (median of 7, {LARGEST} copies): handle_request {:.2} ms (unsynced commit), decide {:.2} ms (one \
         synced commit)",
        median(handle),
        median(decide),
    );
}

fn main() {
    let profiling = std::env::args().any(|a| a == "--profile-time");
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, profiling);
    c.final_summary();
    if profiling {
        return;
    }
    let signatures: &[&str] = &["wallet_raw/ed25519_sign_kb_jwt", "wallet_raw/ed25519_verify_request_object"];
    let durable: &[&str] =
        &["wallet_raw/ed25519_sign_kb_jwt", "wallet_raw/ed25519_verify_request_object", "wallet_raw/fdatasync_4k"];
    let names: Vec<String> = SIZES
        .iter()
        .map(|n| format!("wallet/answer_request_{n}_credentials"))
        .chain([format!("wallet/first_answer_after_open_{LARGEST}_credentials")])
        .collect();
    let tmpfs = format!("wallet/answer_request_{LARGEST}_credentials_tmpfs");
    let mut rows: Vec<Ratio<'_>> = names.iter().map(|name| Ratio { operation: name, floors: signatures }).collect();
    rows.push(Ratio { operation: &tmpfs, floors: signatures });
    rows.extend(names.iter().map(|name| Ratio { operation: name, floors: durable }));
    print_ratios(&rows);
    if let (Some(passphrase), Some(key)) = (
        median_ns("wallet_kdf/open_store_passphrase_argon2id_default"),
        median_ns(&format!("wallet/open_store_{LARGEST}_credentials")),
    ) {
        println!(
            "Argon2id (64 MiB, t=3, p=1) ≈ passphrase open − key open = {:.1} ms − {:.3} ms = {:.1} ms",
            passphrase / 1e6,
            key / 1e6,
            (passphrase - key) / 1e6
        );
    }
}
