//! The verifier's open-request store ([`RequestStore`]): what every implementation keeps, in
//! one process (in memory) or shared by many (PostgreSQL).

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};

use schooltas_oid4vc::oid4vp::AuthorizationRequest;
use schooltas_verifier::{EncryptionKey, Nonce, NonceError, OpenRequest, RequestStore};
use serde_json::json;

use super::{RACERS, RequestDeployment};

const NOW: i64 = 1_800_000_000;

/// A request as a verifier keeps it, for `nonce`, with a `state` a test can look for.
pub(crate) fn request(nonce: &Nonce, state: &str) -> AuthorizationRequest {
    serde_json::from_value(json!({
        "client_id": "decentralized_identifier:did:web:school.example",
        "response_type": "vp_token",
        "response_mode": "direct_post.jwt",
        "response_uri": "https://school.example/oid4vp/response",
        "nonce": nonce.as_str(),
        "state": state,
        "dcql_query": {"credentials": [{
            "id": "pupil", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://school.example/pupil"]},
        }]},
        "purpose_code": "class-photo",
    }))
    .unwrap()
}

/// An open request with a fresh per-request key.
pub(crate) fn open_with_key(nonce: &Nonce) -> (OpenRequest, EncryptionKey) {
    let key = EncryptionKey::generate(Nonce::random().as_str()).unwrap();
    (OpenRequest { request: request(nonce, "state-of-the-session"), response_key: Some(key.clone()) }, key)
}

pub(crate) fn requests_round_trip_with_their_response_keys(deployment: &dyn RequestDeployment) {
    let (writer, reader) = (deployment.requests("school"), deployment.requests("school"));
    let nonce = Nonce::random();
    let (open, key) = open_with_key(&nonce);
    writer.register(&nonce, open.clone(), NOW, NOW + 600).unwrap();
    // Another handle (another server) reads what the first wrote.
    let found = reader.peek(nonce.as_str(), NOW + 1).unwrap();
    assert_eq!(found.request, open.request);
    let found_key = found.response_key.expect("the per-request key comes back");
    assert_eq!(found_key.kid(), key.kid());
    assert_eq!(*found_key.to_scalar_bytes(), *key.to_scalar_bytes());
    let by_kid = reader.response_key(key.kid(), NOW + 1).unwrap().expect("found by kid");
    assert_eq!(*by_kid.to_scalar_bytes(), *key.to_scalar_bytes());
    assert!(reader.response_key(Nonce::random().as_str(), NOW + 1).unwrap().is_none());
    // Without a key.
    let plain = Nonce::random();
    let open = OpenRequest { request: request(&plain, "another-state"), response_key: None };
    writer.register(&plain, open.clone(), NOW, NOW + 600).unwrap();
    let found = reader.peek(plain.as_str(), NOW).unwrap();
    assert_eq!(found.request, open.request);
    assert!(found.response_key.is_none());
    // Peeking changed nothing: it is spent once, by either handle.
    reader.consume(plain.as_str(), NOW + 2).unwrap();
    assert_eq!(writer.consume(plain.as_str(), NOW + 3), Err(NonceError::AlreadyUsed { used_at: NOW + 2 }));
}

pub(crate) fn unknown_expired_and_spent_are_told_apart(deployment: &dyn RequestDeployment) {
    let store = deployment.requests("school");
    let never = Nonce::random();
    assert_eq!(store.peek(never.as_str(), NOW).err(), Some(NonceError::Unknown));
    assert_eq!(store.consume(never.as_str(), NOW), Err(NonceError::Unknown));

    let nonce = Nonce::random();
    let (open, key) = open_with_key(&nonce);
    assert_eq!(
        store.register(&nonce, open.clone(), NOW, NOW),
        Err(NonceError::InvalidLifetime { expires_at: NOW, now: NOW })
    );
    store.register(&nonce, open.clone(), NOW, NOW + 60).unwrap();
    assert_eq!(store.register(&nonce, open, NOW, NOW + 60), Err(NonceError::Duplicate));
    assert_eq!(
        store.peek(nonce.as_str(), NOW + 60).err(),
        Some(NonceError::Expired { expired_at: NOW + 60, now: NOW + 60 })
    );
    assert_eq!(
        store.consume(nonce.as_str(), NOW + 61),
        Err(NonceError::Expired { expired_at: NOW + 60, now: NOW + 61 })
    );
    // The key is found while its request is open (at its expiry second too), not after.
    assert!(store.response_key(key.kid(), NOW + 60).unwrap().is_some());
    assert!(store.response_key(key.kid(), NOW + 61).unwrap().is_none());

    let spent = Nonce::random();
    let (open, key) = open_with_key(&spent);
    store.register(&spent, open, NOW, NOW + 60).unwrap();
    store.consume(spent.as_str(), NOW + 5).unwrap();
    assert_eq!(store.peek(spent.as_str(), NOW + 6).err(), Some(NonceError::AlreadyUsed { used_at: NOW + 5 }));
    assert_eq!(store.consume(spent.as_str(), NOW + 6), Err(NonceError::AlreadyUsed { used_at: NOW + 5 }));
    // A spent request's key still decrypts a replay, which is then refused as one.
    assert!(store.response_key(key.kid(), NOW + 6).unwrap().is_some());
}

pub(crate) fn a_request_raced_by_many_servers_is_consumed_once(deployment: &dyn RequestDeployment) {
    for _ in 0..3 {
        let nonce = Nonce::random();
        deployment.requests("school").register(&nonce, open_with_key(&nonce).0, NOW, NOW + 600).unwrap();
        let servers: Vec<Box<dyn RequestStore>> = (0..RACERS).map(|_| deployment.requests("school")).collect();
        let (wins, replays) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let barrier = Barrier::new(RACERS);
        std::thread::scope(|scope| {
            for server in &servers {
                let (nonce, wins, replays, barrier) = (&nonce, &wins, &replays, &barrier);
                scope.spawn(move || {
                    server.peek(nonce.as_str(), NOW + 1).unwrap();
                    barrier.wait();
                    match server.consume(nonce.as_str(), NOW + 1) {
                        Ok(()) => wins.fetch_add(1, Ordering::SeqCst),
                        Err(NonceError::AlreadyUsed { used_at }) => {
                            assert_eq!(used_at, NOW + 1);
                            replays.fetch_add(1, Ordering::SeqCst)
                        }
                        Err(other) => panic!("unexpected {other}"),
                    };
                });
            }
        });
        assert_eq!(wins.load(Ordering::SeqCst), 1, "exactly one server spends the nonce");
        assert_eq!(replays.load(Ordering::SeqCst), RACERS - 1);
    }
}

pub(crate) fn one_school_cannot_peek_or_spend_another_schools_request(deployment: &dyn RequestDeployment) {
    let (school_a, school_b) = (deployment.requests("a"), deployment.requests("b"));
    let nonce = Nonce::random();
    let (open, key) = open_with_key(&nonce);
    school_a.register(&nonce, open.clone(), NOW, NOW + 600).unwrap();
    assert_eq!(school_b.peek(nonce.as_str(), NOW).err(), Some(NonceError::Unknown));
    assert_eq!(school_b.consume(nonce.as_str(), NOW), Err(NonceError::Unknown));
    assert!(school_b.response_key(key.kid(), NOW).unwrap().is_none());
    assert_eq!(school_b.purge_expired(NOW + 10_000).unwrap(), 0, "school b's purge does not touch school a's rows");
    // School b may hold the same nonce for its own request; school a's is untouched.
    school_b.register(&nonce, open, NOW, NOW + 600).unwrap();
    school_b.consume(nonce.as_str(), NOW + 1).unwrap();
    assert!(school_a.peek(nonce.as_str(), NOW + 2).is_ok());
    school_a.consume(nonce.as_str(), NOW + 2).unwrap();
}

pub(crate) fn purge_forgets_expired_requests_and_keeps_live_ones(deployment: &dyn RequestDeployment) {
    let store = deployment.requests("school");
    let short = Nonce::random();
    let (open, short_key) = open_with_key(&short);
    store.register(&short, open, NOW, NOW + 10).unwrap();
    let spent = Nonce::random();
    store.register(&spent, open_with_key(&spent).0, NOW, NOW + 100).unwrap();
    store.consume(spent.as_str(), NOW + 1).unwrap();
    let live = Nonce::random();
    store.register(&live, open_with_key(&live).0, NOW, NOW + 100).unwrap();

    assert_eq!(store.purge_expired(NOW + 9).unwrap(), 0);
    assert_eq!(store.purge_expired(NOW + 10).unwrap(), 1);
    assert_eq!(store.peek(short.as_str(), NOW + 11).err(), Some(NonceError::Unknown));
    assert!(store.response_key(short_key.kid(), NOW + 10).unwrap().is_none(), "the key went with its request");
    // A spent nonce is remembered until its expiry, so a replay is still named a replay.
    assert_eq!(store.consume(spent.as_str(), NOW + 11), Err(NonceError::AlreadyUsed { used_at: NOW + 1 }));
    store.consume(live.as_str(), NOW + 11).unwrap();
    assert_eq!(store.purge_expired(NOW + 100).unwrap(), 2);
    assert_eq!(store.purge_expired(NOW + 100).unwrap(), 0);
}
