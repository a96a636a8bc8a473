//! The verifier front end's session store ([`SessionStore`]): what every implementation keeps.

use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};

use schooltas_verifier::register::ConsentId;
use schooltas_verifier::sessions::{SessionError, SessionOutcome, SessionRecord, SessionStore};
use schooltas_verifier::{Check, DisclosedCredential, Failure, Nonce, Verdict};
use serde_json::json;

use super::requests::request;
use super::{RACERS, RequestDeployment};

const NOW: i64 = 1_800_000_000;

/// A fresh pending session open for 600 seconds.
pub(crate) fn session() -> SessionRecord {
    let nonce = Nonce::random();
    SessionRecord {
        id: Nonce::random().to_string(),
        request_object: "eyJhbGciOiJFUzI1NiJ9.request-object.signature".into(),
        request: request(&nonce, "state-of-the-session"),
        state: Nonce::random().to_string(),
        nonce: nonce.to_string(),
        expires_at: NOW + 600,
        redirect_uri: Some("https://school.example/done".into()),
        response_code: None,
        outcome: SessionOutcome::Pending { last_refusal: None },
    }
}

/// An accepted verdict that discloses a claim a test can look for.
pub(crate) fn verdict() -> Verdict {
    let mut verdict = Verdict::default();
    let claims = json!({"given_name": "Fleur-de-test", "sub": "child-7"});
    verdict.credentials.push(DisclosedCredential {
        query_id: "pupil".into(),
        issuer: "did:web:school.example".into(),
        vct: "https://school.example/pupil".into(),
        claims: claims.as_object().unwrap().clone(),
        holder_key: None,
        presentation: "eyJ.presentation~".into(),
    });
    verdict.subject = Some("child-7".into());
    verdict.guardian_approval_jwt = Some("eyJ.approval.sig".into());
    verdict
}

fn accepted(outcome: &SessionOutcome) -> Option<(&Verdict, &Option<ConsentId>)> {
    match outcome {
        SessionOutcome::Accepted { verdict, consent } => Some((verdict, consent)),
        _ => None,
    }
}

pub(crate) fn sessions_round_trip_and_are_found_by_id_state_and_nonce(deployment: &dyn RequestDeployment) {
    let (writer, reader) = (deployment.sessions("school"), deployment.sessions("school"));
    let opened = session();
    writer.open(opened.clone(), NOW, 100).unwrap();
    let found = reader.get(&opened.id, NOW + 1).unwrap().expect("another server finds it");
    assert_eq!(
        (found.id.as_str(), found.state.as_str(), found.nonce.as_str()),
        (opened.id.as_str(), opened.state.as_str(), opened.nonce.as_str())
    );
    assert_eq!(found.request, opened.request);
    assert_eq!(found.request_object, opened.request_object);
    assert_eq!(found.redirect_uri, opened.redirect_uri);
    assert_eq!(found.expires_at, NOW + 600);
    assert!(matches!(found.outcome, SessionOutcome::Pending { last_refusal: None }));
    assert_eq!(reader.id_by_state(&opened.state, NOW).unwrap().as_deref(), Some(opened.id.as_str()));
    assert_eq!(reader.id_by_nonce(&opened.nonce, NOW).unwrap().as_deref(), Some(opened.id.as_str()));
    assert_eq!(reader.id_by_nonce(&opened.state, NOW).unwrap(), None);
    assert!(reader.get("no-such-session", NOW).unwrap().is_none());
    assert_eq!(writer.open(opened.clone(), NOW, 100), Err(SessionError::Duplicate));

    // A refusal, then the accepted outcome with its consent and response code.
    let failure = Failure { check: Check::KeyBinding, query_id: Some("pupil".into()), reason: "bad signature".into() };
    reader.refuse(&opened.id, std::slice::from_ref(&failure), NOW + 2).unwrap();
    let found = writer.get(&opened.id, NOW + 3).unwrap().unwrap();
    assert!(matches!(&found.outcome, SessionOutcome::Pending { last_refusal: Some(f) } if *f == vec![failure.clone()]));
    let consent = ConsentId::random();
    assert!(
        reader
            .accept(&opened.id, verdict(), Some(consent.clone()), Some("code-1".into()), NOW + 1_200, NOW + 4)
            .unwrap()
    );
    let found = writer.get(&opened.id, NOW + 1_000).unwrap().expect("kept until the outcome's expiry");
    let (got, got_consent) = accepted(&found.outcome).expect("accepted");
    assert_eq!(got_consent.as_ref(), Some(&consent));
    assert_eq!(got.subject.as_deref(), Some("child-7"));
    assert_eq!(got.credentials.len(), 1);
    assert_eq!(got.credentials[0].claims, verdict().credentials[0].claims);
    assert_eq!(got.guardian_approval_jwt.as_deref(), Some("eyJ.approval.sig"));
    assert!(got.is_accepted());
    assert_eq!(found.response_code.as_deref(), Some("code-1"));
    assert_eq!(found.expires_at, NOW + 1_200);
}

pub(crate) fn an_accepted_outcome_is_set_once_and_never_overwritten(deployment: &dyn RequestDeployment) {
    let store = deployment.sessions("school");
    let opened = session();
    store.open(opened.clone(), NOW, 100).unwrap();
    assert!(store.decline(&opened.id, "access_denied", NOW + 1).unwrap());
    assert!(
        matches!(store.get(&opened.id, NOW + 1).unwrap().unwrap().outcome, SessionOutcome::Declined { ref error } if error == "access_denied")
    );
    // A valid answer still replaces a decline (it is unauthenticated).
    assert!(store.accept(&opened.id, verdict(), None, None, NOW + 900, NOW + 2).unwrap());
    assert!(
        !store.accept(&opened.id, Verdict::default(), None, Some("other".into()), NOW + 5_000, NOW + 3).unwrap(),
        "accepted once"
    );
    assert!(
        !store.decline(&opened.id, "access_denied", NOW + 4).unwrap(),
        "a decline never overwrites an accepted outcome"
    );
    store.refuse(&opened.id, &[], NOW + 5).unwrap();
    let found = store.get(&opened.id, NOW + 6).unwrap().unwrap();
    assert!(accepted(&found.outcome).is_some_and(|(v, _)| v.subject.as_deref() == Some("child-7")));
    assert_eq!(found.response_code, None);
    assert_eq!(found.expires_at, NOW + 900);
    // Unknown or expired sessions change nothing.
    assert!(!store.accept("no-such-session", verdict(), None, None, NOW + 900, NOW).unwrap());
    let late = session();
    store.open(late.clone(), NOW, 100).unwrap();
    assert!(!store.accept(&late.id, verdict(), None, None, NOW + 900, NOW + 600).unwrap());
    assert!(!store.decline(&late.id, "access_denied", NOW + 600).unwrap());
}

pub(crate) fn a_session_raced_by_many_servers_is_accepted_once(deployment: &dyn RequestDeployment) {
    let opened = session();
    deployment.sessions("school").open(opened.clone(), NOW, 100).unwrap();
    let servers: Vec<Box<dyn SessionStore>> = (0..RACERS).map(|_| deployment.sessions("school")).collect();
    let wins = AtomicUsize::new(0);
    let barrier = Barrier::new(RACERS);
    std::thread::scope(|scope| {
        for (n, server) in servers.iter().enumerate() {
            let (id, wins, barrier) = (&opened.id, &wins, &barrier);
            scope.spawn(move || {
                barrier.wait();
                if server.accept(id, verdict(), None, Some(format!("code-{n}")), NOW + 900, NOW + 1).unwrap() {
                    wins.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    assert_eq!(wins.load(Ordering::SeqCst), 1);
    let found = deployment.sessions("school").get(&opened.id, NOW + 2).unwrap().unwrap();
    assert!(found.response_code.is_some_and(|code| code.starts_with("code-")));
}

pub(crate) fn one_school_cannot_read_or_answer_another_schools_sessions(deployment: &dyn RequestDeployment) {
    let (school_a, school_b) = (deployment.sessions("a"), deployment.sessions("b"));
    let opened = session();
    school_a.open(opened.clone(), NOW, 100).unwrap();
    assert!(school_b.get(&opened.id, NOW).unwrap().is_none());
    assert_eq!(school_b.id_by_state(&opened.state, NOW).unwrap(), None);
    assert_eq!(school_b.id_by_nonce(&opened.nonce, NOW).unwrap(), None);
    assert!(!school_b.accept(&opened.id, verdict(), None, None, NOW + 900, NOW).unwrap());
    assert!(!school_b.decline(&opened.id, "access_denied", NOW).unwrap());
    assert_eq!(school_b.purge_expired(NOW + 10_000).unwrap(), 0);
    assert!(matches!(school_a.get(&opened.id, NOW).unwrap().unwrap().outcome, SessionOutcome::Pending { .. }));
}

pub(crate) fn sessions_are_limited_expire_and_are_purged(deployment: &dyn RequestDeployment) {
    let store = deployment.sessions("school");
    let mut short = session();
    short.expires_at = NOW + 10;
    store.open(short.clone(), NOW, 2).unwrap();
    store.open(session(), NOW, 2).unwrap();
    assert_eq!(store.open(session(), NOW + 5, 2), Err(SessionError::Full { limit: 2 }));
    // Once the short one expires it no longer counts, is not found, and is purged.
    assert!(store.get(&short.id, NOW + 10).unwrap().is_none());
    assert_eq!(store.id_by_state(&short.state, NOW + 10).unwrap(), None);
    store.open(session(), NOW + 10, 2).unwrap();
    assert_eq!(store.purge_expired(NOW + 10).unwrap(), 0, "opening when full purged it already");
    assert_eq!(store.purge_expired(NOW + 10_000).unwrap(), 2);
    assert_eq!(store.purge_expired(NOW + 10_000).unwrap(), 0);
}
