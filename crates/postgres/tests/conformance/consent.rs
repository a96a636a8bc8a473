//! The consent register store's behaviours: round trips, absent records, ordering, single
//! withdrawal, one record per request also under concurrency, the wall between schools,
//! persistence.

use std::sync::Barrier;

use schooltas_school::LegalBasis;
use schooltas_status_list::{StatusListUri, StatusReference};
use schooltas_verifier::Error;
use schooltas_verifier::register::{
    ConsentId, ConsentRecord, ConsentStore, Evidence, StatusIssuer, Withdrawal, in_transaction,
};
use serde_json::json;

use super::{Deployment, RACERS};

const VERIFIER: &str = "decentralized_identifier:did:web:school.example";
const SUBJECT: &str = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:child-pairwise-1";

fn record(nonce: &str, granted_at: i64) -> ConsentRecord {
    ConsentRecord {
        id: ConsentId::random(),
        verifier: VERIFIER.into(),
        subject: SUBJECT.into(),
        purpose: "newsletter".into(),
        object: Some("sha-256:1111111111111111111111111111111111111111111111111111111111111111".into()),
        channel: Some("newsletter".into()),
        legal_basis: LegalBasis::Consent,
        granted_at,
        valid_until: granted_at + 365 * 86_400,
        approver_jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
        request_nonce: nonce.into(),
        evidence: Evidence {
            presentations: vec!["eyJhbGciOiJFZERTQSJ9.eyJ2Y3QiOiJlbnJvbG1lbnQifQ.sig~WyJzIiwibiIsIlMiXQ~kb".into()],
            guardian_approval: Some("guardian-approval-jws".into()),
            transaction_data: vec!["eyJ0eXBlIjoicGhvdG8ifQ".into()],
        },
        status: None,
        status_issuer: None,
        withdrawn: None,
    }
}

fn withdrawal(at: i64) -> Withdrawal {
    Withdrawal { at, evidence: "withdrawal-jws".into() }
}

pub(crate) fn records_round_trip_with_status_and_withdrawal(d: &dyn Deployment) {
    let store = d.consent("a");
    let plain = ConsentRecord { object: None, channel: None, legal_basis: LegalBasis::PublicTask, ..record("n1", 100) };
    let full = ConsentRecord {
        status: Some(StatusReference::new(
            StatusListUri::new("https://school.example/status/guardianship").unwrap(),
            4_000_000_000,
        )),
        status_issuer: Some(StatusIssuer {
            iss: "https://school.example".into(),
            key: json!({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
        }),
        withdrawn: Some(withdrawal(150)),
        evidence: Evidence { guardian_approval: None, transaction_data: vec![], ..record("n2", 100).evidence },
        ..record("n2", 100)
    };
    in_transaction(&*store, |tx| {
        tx.insert(&plain)?;
        tx.insert(&full)?;
        assert!(tx.get(&plain.id)? == Some(plain.clone()));
        assert!(tx.get(&full.id)? == Some(full.clone()));
        assert_eq!(tx.id_for_request(VERIFIER, "n2")?, Some(full.id.clone()));
        Ok(())
    })
    .unwrap();
}

pub(crate) fn absent_records_read_as_none_or_empty(d: &dyn Deployment) {
    let store = d.consent("a");
    in_transaction(&*store, |tx| {
        tx.insert(&record("n1", 100))?;
        assert!(tx.get(&ConsentId::random())?.is_none());
        assert_eq!(tx.id_for_request(VERIFIER, "n9")?, None);
        assert_eq!(tx.id_for_request("another-verifier", "n1")?, None);
        assert!(tx.find(SUBJECT, "photo_website")?.is_empty());
        assert!(tx.find("another-subject", "newsletter")?.is_empty());
        assert!(tx.of_subject("another-subject")?.is_empty());
        Ok(())
    })
    .unwrap();
}

pub(crate) fn records_are_found_by_subject_and_purpose_oldest_first(d: &dyn Deployment) {
    let store = d.consent("a");
    let newest = record("n1", 300);
    let oldest = record("n2", 100);
    let mut same_time = [record("n3", 200), record("n4", 200)];
    same_time.sort_by(|x, y| x.id.as_str().cmp(y.id.as_str()));
    let other_purpose = ConsentRecord { purpose: "photo_website".into(), ..record("n5", 50) };
    let other_subject = ConsentRecord { subject: "another-subject".into(), ..record("n6", 50) };
    in_transaction(&*store, |tx| {
        for r in [&newest, &same_time[1], &oldest, &other_purpose, &same_time[0], &other_subject] {
            tx.insert(r)?;
        }
        let ids = |records: Vec<ConsentRecord>| records.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(
            ids(tx.find(SUBJECT, "newsletter")?),
            [&oldest, &same_time[0], &same_time[1], &newest].map(|r| r.id.clone())
        );
        assert_eq!(
            ids(tx.of_subject(SUBJECT)?),
            [&other_purpose, &oldest, &same_time[0], &same_time[1], &newest].map(|r| r.id.clone())
        );
        assert_eq!(ids(tx.of_subject("another-subject")?), std::slice::from_ref(&other_subject.id));
        Ok(())
    })
    .unwrap();
}

pub(crate) fn a_withdrawal_is_set_once(d: &dyn Deployment) {
    let store = d.consent("a");
    let consent = record("n1", 100);
    in_transaction(&*store, |tx| tx.insert(&consent)).unwrap();
    in_transaction(&*store, |tx| {
        assert!(tx.set_withdrawal(&consent.id, &withdrawal(150))?);
        assert!(!tx.set_withdrawal(&consent.id, &withdrawal(160))?, "already withdrawn: the first stands");
        assert!(!tx.set_withdrawal(&ConsentId::random(), &withdrawal(150))?, "no such record");
        assert_eq!(tx.get(&consent.id)?.unwrap().withdrawn, Some(withdrawal(150)));
        Ok(())
    })
    .unwrap();
}

pub(crate) fn a_second_record_for_the_same_request_is_refused_and_nothing_is_written(d: &dyn Deployment) {
    let store = d.consent("a");
    let first = record("n1", 100);
    in_transaction(&*store, |tx| tx.insert(&first)).unwrap();
    let unrelated = record("n2", 100);
    let outcome = in_transaction(&*store, |tx| {
        tx.insert(&unrelated)?;
        tx.insert(&record("n1", 200))
    });
    assert!(matches!(outcome, Err(Error::Storage { .. })), "{outcome:?}");
    let same_id = in_transaction(&*store, |tx| tx.insert(&ConsentRecord { id: first.id.clone(), ..record("n3", 1) }));
    assert!(matches!(same_id, Err(Error::Storage { .. })), "{same_id:?}");
    in_transaction(&*store, |tx| {
        assert!(tx.get(&unrelated.id)?.is_none(), "the failed transaction wrote nothing");
        assert_eq!(tx.of_subject(SUBJECT)?.len(), 1);
        Ok(())
    })
    .unwrap();
}

/// Runs `act` on [`RACERS`] handles of school `a` at once, started together; how many
/// returned `true`.
fn race(d: &dyn Deployment, act: &(dyn Fn(&dyn ConsentStore) -> bool + Sync)) -> usize {
    let handles: Vec<_> = (0..RACERS).map(|_| d.consent("a")).collect();
    let start = Barrier::new(RACERS);
    std::thread::scope(|scope| {
        let racers: Vec<_> = handles
            .iter()
            .map(|store| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    act(&**store)
                })
            })
            .collect();
        racers.into_iter().map(|racer| racer.join().unwrap()).filter(|won| *won).count()
    })
}

pub(crate) fn a_request_raced_by_many_servers_is_recorded_once(d: &dyn Deployment) {
    // What the register does with a response: record it unless the request was answered.
    let winners = race(d, &|store| {
        let outcome = in_transaction(store, |tx| {
            if tx.id_for_request(VERIFIER, "n1")?.is_some() {
                return Ok(false);
            }
            tx.insert(&record("n1", 100))?;
            Ok(true)
        });
        match outcome {
            Ok(recorded) => recorded,
            // Two inserts of one request may also meet at the unique key.
            Err(Error::Storage { .. }) => false,
            Err(other) => panic!("{other:?}"),
        }
    });
    assert_eq!(winners, 1);
    assert_eq!(in_transaction(&*d.consent("a"), |tx| tx.of_subject(SUBJECT)).unwrap().len(), 1);
}

pub(crate) fn a_withdrawal_raced_by_many_servers_is_set_once(d: &dyn Deployment) {
    let consent = record("n1", 100);
    in_transaction(&*d.consent("a"), |tx| tx.insert(&consent)).unwrap();
    let winners =
        race(d, &|store| in_transaction(store, |tx| tx.set_withdrawal(&consent.id, &withdrawal(150))).unwrap());
    assert_eq!(winners, 1);
}

pub(crate) fn one_school_cannot_read_or_withdraw_another_schools_consents(d: &dyn Deployment) {
    let a = d.consent("a");
    let b = d.consent("b");
    let consent = record("n1", 100);
    in_transaction(&*a, |tx| tx.insert(&consent)).unwrap();
    in_transaction(&*b, |tx| {
        // School b knows the id, the subject and the request nonce: it reads nothing.
        assert!(tx.get(&consent.id)?.is_none());
        assert_eq!(tx.id_for_request(VERIFIER, "n1")?, None);
        assert!(tx.find(SUBJECT, "newsletter")?.is_empty());
        assert!(tx.of_subject(SUBJECT)?.is_empty());
        assert!(!tx.set_withdrawal(&consent.id, &withdrawal(150))?, "nor withdraws it");
        // Its own record for the same request and even the same id stands beside a's.
        tx.insert(&ConsentRecord { purpose: "photo_website".into(), ..consent.clone() })?;
        Ok(())
    })
    .unwrap();
    in_transaction(&*a, |tx| {
        assert!(tx.get(&consent.id)? == Some(consent.clone()), "school a's record is as it was");
        assert_eq!(tx.of_subject(SUBJECT)?.len(), 1);
        Ok(())
    })
    .unwrap();
    let b_own = in_transaction(&*b, |tx| tx.get(&consent.id)).unwrap().unwrap();
    assert_eq!(b_own.purpose, "photo_website");
}

pub(crate) fn records_survive_reopening(d: &dyn Deployment) {
    let consent = record("n1", 100);
    {
        let store = d.consent("a");
        in_transaction(&*store, |tx| tx.insert(&consent)).unwrap();
    }
    let store = d.consent("a");
    assert!(in_transaction(&*store, |tx| tx.get(&consent.id)).unwrap() == Some(consent.clone()));
}
