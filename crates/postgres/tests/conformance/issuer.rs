//! The issuer store's behaviours: round trips, absent rows, refusals, purge, single use under
//! concurrency, the wall between schools, persistence.

use std::sync::Barrier;

use schooltas_issuer::Error;
use schooltas_issuer::store::{
    AccessTokenRow, AuthorizationCodeRow, CredentialRow, IssuerStore, OfferReferenceRow, OfferRow,
    PendingAuthorizationRow, StatusListRow, in_transaction,
};

use super::{Deployment, RACERS};

fn credential(id: &str) -> CredentialRow {
    CredentialRow {
        id: id.into(),
        config_id: "pupil_enrolment".into(),
        subject_ref: "pupil-17".into(),
        issued_at: 100,
        expires_at: Some(200),
        copies: 2,
    }
}

fn list(purpose: &str, n: u32) -> StatusListRow {
    StatusListRow {
        id: 0,
        purpose: purpose.into(),
        uri: format!("https://school.example/status/{purpose}/{n}"),
        bits: 2,
        capacity: 1024,
        allocated: 0,
    }
}

fn offer(code: u8) -> OfferRow {
    OfferRow {
        code_digest: [code; 32],
        tx_code_digest: Some([2; 32]),
        subject_ref: "pupil-17".into(),
        config_ids: vec!["pupil_enrolment".into(), "school_advice".into()],
        expires_at: 1_000,
        failed_attempts: 0,
        redeemed: false,
    }
}

fn token(digest: u8) -> AccessTokenRow {
    AccessTokenRow {
        token_digest: [digest; 32],
        subject_ref: "pupil-17".into(),
        config_ids: vec!["pupil_enrolment".into(), "school_advice".into()],
        used_config_ids: vec![],
        expires_at: 900,
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        credential_identifiers: vec!["school_advice".into()],
    }
}

fn pending() -> PendingAuthorizationRow {
    PendingAuthorizationRow {
        request_uri_digest: [7; 32],
        client_id: "https://wallet.example".into(),
        redirect_uri: "nl.schooltas.wallet:/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        state: Some("s".into()),
        config_ids: vec!["guardianship".into(), "pupil_enrolment".into()],
        detail_config_ids: vec!["pupil_enrolment".into()],
        issuer_state: None,
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        expires_at: 1_000,
        handle_digest: None,
        completed: false,
    }
}

fn code() -> AuthorizationCodeRow {
    AuthorizationCodeRow {
        code_digest: [8; 32],
        client_id: "https://wallet.example".into(),
        redirect_uri: "nl.schooltas.wallet:/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        dpop_jkt: None,
        subject_ref: "pupil-0417/parent".into(),
        config_ids: vec!["guardianship".into(), "pupil_enrolment".into()],
        detail_config_ids: vec!["pupil_enrolment".into()],
        expires_at: 1_000,
        redeemed: false,
        access_token_digest: None,
    }
}

fn is_corrupt(outcome: &Result<(), Error>, starts: &str) -> bool {
    matches!(outcome, Err(Error::CorruptStore { reason }) if reason.starts_with(starts))
}

pub(crate) fn a_failed_transaction_writes_nothing(d: &dyn Deployment) {
    let store = d.issuer("a");
    let outcome = in_transaction(&*store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list("enrolment", 1))?;
        tx.allocate(list, 7, "c1")?;
        tx.insert_nonce(&[1; 32], 500)?;
        Err::<(), _>(Error::Storage { reason: "signing failed".into() })
    });
    assert!(matches!(&outcome, Err(Error::Storage { reason }) if reason == "signing failed"), "{outcome:?}");
    in_transaction(&*store, |tx| {
        assert_eq!(tx.credential("c1")?, None);
        assert!(tx.all_status_lists()?.is_empty());
        assert!(!tx.consume_nonce(&[1; 32], 1)?);
        Ok(())
    })
    .unwrap();
}

pub(crate) fn a_constraint_violation_rolls_back_the_whole_transaction(d: &dyn Deployment) {
    let store = d.issuer("a");
    let list_id = in_transaction(&*store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list("enrolment", 1))?;
        tx.allocate(list, 7, "c1")?;
        Ok(list)
    })
    .unwrap();
    // The second allocation of entry 7 fails; the credential inserted before it must vanish.
    let outcome = in_transaction(&*store, |tx| {
        tx.insert_credential(&credential("c2"))?;
        tx.allocate(list_id, 7, "c2")
    });
    assert!(matches!(outcome, Err(Error::Storage { .. })), "{outcome:?}");
    // A duplicate offer digest, a duplicate status list URI, an entry of an unknown credential.
    for refused in [
        in_transaction(&*store, |tx| {
            tx.insert_offer(&offer(1))?;
            tx.insert_offer(&offer(1))
        }),
        in_transaction(&*store, |tx| tx.insert_status_list(&list("enrolment", 1)).map(drop)),
        in_transaction(&*store, |tx| tx.allocate(list_id, 8, "never-issued")),
    ] {
        assert!(matches!(refused, Err(Error::Storage { .. })), "{refused:?}");
    }
    in_transaction(&*store, |tx| {
        assert_eq!(tx.credential("c2")?, None);
        assert_eq!(tx.offer(&[1; 32])?, None);
        assert_eq!(tx.entries_of("c1")?, [(list_id, 7)]);
        assert_eq!(tx.status_list(list_id)?.unwrap().allocated, 1);
        assert_eq!(tx.all_status_lists()?.len(), 1);
        Ok(())
    })
    .unwrap();
}

pub(crate) fn status_lists_round_trip_and_count_their_entries(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        let first = tx.insert_status_list(&list("enrolment", 1))?;
        let consent = tx.insert_status_list(&list("consent", 1))?;
        let second = tx.insert_status_list(&StatusListRow { bits: 1, capacity: 16, ..list("enrolment", 2) })?;
        assert!(first < second, "ids grow: lists are oldest first by id");
        let lists = tx.status_lists("enrolment")?;
        assert_eq!(
            lists,
            [
                StatusListRow { id: first, ..list("enrolment", 1) },
                StatusListRow { id: second, bits: 1, capacity: 16, ..list("enrolment", 2) },
            ]
        );
        assert!(tx.status_lists("photo")?.is_empty());
        assert_eq!(tx.status_list(consent)?, Some(StatusListRow { id: consent, ..list("consent", 1) }));
        assert_eq!(tx.status_list(consent + second + 1_000)?, None);
        assert_eq!(tx.all_status_lists()?.iter().map(|l| l.id).collect::<Vec<_>>(), [first, consent, second]);
        tx.insert_credential(&credential("c1"))?;
        tx.allocate(second, 0, "c1")?;
        tx.allocate(second, 15, "c1")?;
        Ok((first, second))
    })
    .map(|(first, second)| {
        // Counted once committed (PostgreSQL moves the counter just after the commit).
        in_transaction(&*store, |tx| {
            assert_eq!(tx.status_list(second)?.unwrap().allocated, 2);
            assert_eq!(tx.status_list(first)?.unwrap().allocated, 0);
            Ok(())
        })
    })
    .unwrap()
    .unwrap();
}

/// Issuers of one school allocating in one list at once: every allocation lands (none lost to
/// a conflict that retries cannot get past), each index once, and the list's counter counts
/// them all.
pub(crate) fn concurrent_allocations_in_one_list_all_land_and_are_counted(d: &dyn Deployment) {
    let store = d.issuer("a");
    let list = in_transaction(&*store, |tx| {
        tx.insert_status_list(&StatusListRow { capacity: 1 << 16, ..list("enrolment", 1) })
    })
    .unwrap();
    let per_racer = 25u64;
    let barrier = Barrier::new(RACERS);
    std::thread::scope(|scope| {
        for racer in 0..RACERS as u64 {
            let (store, barrier) = (&store, &barrier);
            scope.spawn(move || {
                barrier.wait();
                for n in 0..per_racer {
                    let id = format!("c-{racer}-{n}");
                    in_transaction(&**store, |tx| {
                        tx.insert_credential(&credential(&id))?;
                        for copy in 0..3 {
                            // Taken as the issuer takes them, with scattered indices
                            // (an odd multiplier is a bijection modulo 2^16) in a young list
                            // whose entries share few index pages.
                            let index = ((racer * per_racer + n) * 3 + copy) * 40_503 % (1 << 16);
                            assert!(tx.try_allocate(list, index, &id)?);
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    in_transaction(&*store, |tx| {
        assert_eq!(tx.status_list(list)?.unwrap().allocated, RACERS as u64 * per_racer * 3);
        assert_eq!(tx.entries_of("c-0-0")?, [(list, 0), (list, 81_006 % (1 << 16)), (list, 40_503)]);
        Ok(())
    })
    .unwrap();
}

pub(crate) fn status_entries_are_allocated_set_and_listed(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_credential(&credential("c1"))?;
        tx.insert_credential(&credential("c2"))?;
        let list = tx.insert_status_list(&list("enrolment", 1))?;
        tx.allocate(list, 900, "c1")?;
        tx.allocate(list, 3, "c1")?;
        tx.allocate(list, 4, "c2")?;
        assert!(tx.is_allocated(list, 3)?);
        assert!(!tx.is_allocated(list, 5)?);
        // An index handed out is not taken again, and its holder stays.
        assert!(!tx.try_allocate(list, 3, "c2")?);
        assert!(tx.try_allocate(list, 6, "c2")?);
        assert_eq!(tx.entries_of("c2")?, [(list, 4), (list, 6)]);
        assert_eq!(tx.entries_of("c1")?, [(list, 3), (list, 900)]);
        assert!(tx.entries_of("c3")?.is_empty());
        assert_eq!(tx.status(list, 3)?, 0, "entries start VALID");
        tx.set_status(list, 900, 2)?;
        tx.set_status(list, 4, 255)?;
        assert_eq!(tx.status(list, 900)?, 2);
        assert_eq!(tx.non_valid(list)?, [(4, 255), (900, 2)]);
        Ok(())
    })
    .unwrap();
    let list = in_transaction(&*store, |tx| Ok(tx.all_status_lists()?[0].id)).unwrap();
    let refused = in_transaction(&*store, |tx| tx.allocate(list, 3, "c2"));
    assert!(matches!(&refused, Err(Error::Storage { .. })), "allocate refuses an index handed out: {refused:?}");
    let list = in_transaction(&*store, |tx| Ok(tx.all_status_lists()?[0].id)).unwrap();
    let refused = in_transaction(&*store, |tx| tx.set_status(list, 5, 1));
    assert!(is_corrupt(&refused, "no entry 5 in list"), "an entry never allocated cannot change: {refused:?}");
    let refused = in_transaction(&*store, |tx| tx.status(list, 5).map(drop));
    assert!(is_corrupt(&refused, "no entry 5 in list"), "{refused:?}");
}

pub(crate) fn credentials_round_trip_and_list_by_subject(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        // Inserted out of order; listed by issue time, then id (byte order).
        let later = CredentialRow { issued_at: 150, expires_at: None, ..credential("b-later") };
        tx.insert_credential(&later)?;
        tx.insert_credential(&credential("a2"))?;
        tx.insert_credential(&credential("A1"))?;
        tx.insert_credential(&CredentialRow { subject_ref: "pupil-18".into(), ..credential("other") })?;
        assert_eq!(tx.credential("b-later")?, Some(later.clone()));
        assert_eq!(tx.credential("missing")?, None);
        assert_eq!(tx.credentials_of("pupil-17")?, [credential("A1"), credential("a2"), later.clone()]);
        assert!(tx.credentials_of("pupil-99")?.is_empty());
        Ok(())
    })
    .unwrap();
}

pub(crate) fn offers_round_trip_and_update(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_offer(&offer(1))?;
        let without_pin = OfferRow { tx_code_digest: None, config_ids: vec![], ..offer(2) };
        tx.insert_offer(&without_pin)?;
        let mut stored = tx.offer(&[1; 32])?.unwrap();
        assert_eq!(stored, offer(1));
        assert_eq!(tx.offer(&[2; 32])?, Some(without_pin));
        assert_eq!(tx.offer(&[3; 32])?, None);
        stored.failed_attempts = 2;
        stored.redeemed = true;
        tx.update_offer(&stored)?;
        assert_eq!(tx.offer(&[1; 32])?, Some(stored));
        Ok(())
    })
    .unwrap();
}

pub(crate) fn access_tokens_round_trip_update_and_delete(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_access_token(&token(3))?;
        let bearer = AccessTokenRow { dpop_jkt: None, credential_identifiers: vec![], ..token(4) };
        tx.insert_access_token(&bearer)?;
        assert_eq!(tx.access_token(&[3; 32])?, Some(token(3)));
        assert_eq!(tx.access_token(&[4; 32])?, Some(bearer));
        assert_eq!(tx.access_token(&[5; 32])?, None);
        let used = AccessTokenRow { used_config_ids: vec!["school_advice".into()], ..token(3) };
        tx.update_access_token(&used)?;
        assert_eq!(tx.access_token(&[3; 32])?, Some(used));
        tx.delete_access_token(&[3; 32])?;
        assert_eq!(tx.access_token(&[3; 32])?, None);
        tx.delete_access_token(&[3; 32])?; // deleting what is gone is no error
        Ok(())
    })
    .unwrap();
    let refused = in_transaction(&*store, |tx| tx.update_access_token(&token(3)));
    assert!(is_corrupt(&refused, "the access token to update is not stored"), "{refused:?}");
}

pub(crate) fn nonces_are_single_use_and_expire(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_nonce(&[1; 32], 500)?;
        tx.insert_nonce(&[2; 32], 500)?;
        assert!(tx.consume_nonce(&[1; 32], 400)?);
        assert!(!tx.consume_nonce(&[1; 32], 400)?, "second use");
        assert!(!tx.consume_nonce(&[2; 32], 500)?, "expired");
        assert!(!tx.consume_nonce(&[2; 32], 1)?, "an expired nonce is also used up");
        assert!(!tx.consume_nonce(&[3; 32], 1)?, "never issued");
        Ok(())
    })
    .unwrap();
    let duplicate = in_transaction(&*store, |tx| {
        tx.insert_nonce(&[9; 32], 500)?;
        tx.insert_nonce(&[9; 32], 600)
    });
    assert!(matches!(duplicate, Err(Error::Storage { .. })), "{duplicate:?}");
}

pub(crate) fn pending_authorizations_and_codes_round_trip_update_and_purge(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_pending_authorization(&pending())?;
        assert_eq!(tx.pending_authorization(&[7; 32])?, Some(pending()));
        assert_eq!(tx.pending_authorization(&[1; 32])?, None);
        let mut answered = pending();
        answered.handle_digest = Some([9; 32]);
        answered.expires_at = 2_000;
        answered.completed = true;
        tx.update_pending_authorization(&answered)?;
        assert_eq!(tx.pending_authorization_by_handle(&[9; 32])?, Some(answered.clone()));
        assert_eq!(tx.pending_authorization_by_handle(&[1; 32])?, None);
        tx.insert_authorization_code(&code())?;
        assert_eq!(tx.authorization_code(&[8; 32])?, Some(code()));
        assert_eq!(tx.authorization_code(&[1; 32])?, None);
        let redeemed =
            AuthorizationCodeRow { redeemed: true, access_token_digest: Some([3; 32]), expires_at: 1_500, ..code() };
        tx.update_authorization_code(&redeemed)?;
        assert_eq!(tx.authorization_code(&[8; 32])?, Some(redeemed));
        assert_eq!(tx.purge_expired(1_600, 10)?, 1, "the code went, the answered authorization stays");
        assert_eq!(tx.authorization_code(&[8; 32])?, None);
        assert_eq!(tx.purge_expired(2_000, 10)?, 1);
        assert_eq!(tx.pending_authorization(&[7; 32])?, None);
        Ok(())
    })
    .unwrap();
    let missing = in_transaction(&*store, |tx| tx.update_authorization_code(&code()));
    assert!(is_corrupt(&missing, "the authorization code to update is not stored"), "{missing:?}");
    let missing = in_transaction(&*store, |tx| tx.update_pending_authorization(&pending()));
    assert!(is_corrupt(&missing, "the pending authorization to update is not stored"), "{missing:?}");
    // A portal handle belongs to one pending authorization.
    let twice = in_transaction(&*store, |tx| {
        tx.insert_pending_authorization(&PendingAuthorizationRow { handle_digest: Some([5; 32]), ..pending() })?;
        tx.insert_pending_authorization(&PendingAuthorizationRow {
            request_uri_digest: [6; 32],
            handle_digest: Some([5; 32]),
            ..pending()
        })
    });
    assert!(matches!(twice, Err(Error::Storage { .. })), "{twice:?}");
}

fn numbered(i: u32) -> [u8; 32] {
    let mut d = [0u8; 32];
    d[..4].copy_from_slice(&i.to_be_bytes());
    d
}

pub(crate) fn purge_is_bounded_per_table_and_keeps_live_rows(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        for i in 0..30u32 {
            tx.insert_nonce(&numbered(i), 100)?; // expired at 100
        }
        tx.insert_nonce(&numbered(1_000), 101)?; // still live at 100
        tx.insert_offer(&OfferRow { expires_at: 100, ..offer(1) })?;
        tx.insert_offer(&OfferRow { expires_at: 101, ..offer(2) })?;
        tx.insert_access_token(&AccessTokenRow { expires_at: 100, ..token(3) })?;
        tx.insert_access_token(&AccessTokenRow { expires_at: 99, ..token(4) })?;
        tx.insert_pending_authorization(&PendingAuthorizationRow { expires_at: 100, ..pending() })?;
        tx.insert_authorization_code(&AuthorizationCodeRow { expires_at: 100, ..code() })?;
        Ok(())
    })
    .unwrap();
    in_transaction(&*store, |tx| {
        assert_eq!(tx.purge_expired(99, 100)?, 1, "only what expired at or before `now`");
        assert_eq!(tx.purge_expired(100, 10)?, 10 + 1 + 1 + 1 + 1, "at most 10 rows of each table");
        assert_eq!(tx.purge_expired(100, 10)?, 10);
        assert_eq!(tx.purge_expired(100, 100)?, 10);
        assert_eq!(tx.purge_expired(100, 100)?, 0);
        assert!(tx.consume_nonce(&numbered(1_000), 100)?, "a live nonce is never purged");
        assert!(tx.offer(&[2; 32])?.is_some(), "a live offer is never purged");
        assert_eq!(tx.offer(&[1; 32])?, None);
        assert_eq!(tx.access_token(&[3; 32])?, None);
        assert_eq!(tx.pending_authorization(&[7; 32])?, None);
        assert_eq!(tx.authorization_code(&[8; 32])?, None);
        Ok(())
    })
    .unwrap();
}

/// Runs `spend` on [`RACERS`] handles of school `a` at once (each its own server and
/// connection), started together; how many returned `true`.
fn race(d: &dyn Deployment, spend: &(dyn Fn(&dyn IssuerStore) -> bool + Sync)) -> usize {
    let handles: Vec<_> = (0..RACERS).map(|_| d.issuer("a")).collect();
    let start = Barrier::new(RACERS);
    std::thread::scope(|scope| {
        let racers: Vec<_> = handles
            .iter()
            .map(|store| {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    spend(&**store)
                })
            })
            .collect();
        racers.into_iter().map(|racer| racer.join().unwrap()).filter(|won| *won).count()
    })
}

pub(crate) fn a_nonce_raced_by_many_servers_is_consumed_once(d: &dyn Deployment) {
    in_transaction(&*d.issuer("a"), |tx| tx.insert_nonce(&[1; 32], 500)).unwrap();
    let winners = race(d, &|store| in_transaction(store, |tx| tx.consume_nonce(&[1; 32], 400)).unwrap());
    assert_eq!(winners, 1);
}

pub(crate) fn an_offer_raced_by_many_servers_is_redeemed_once(d: &dyn Deployment) {
    in_transaction(&*d.issuer("a"), |tx| tx.insert_offer(&offer(1))).unwrap();
    // What the token endpoint does: read the offer, refuse it if redeemed, else mark it.
    let winners = race(d, &|store| {
        in_transaction(store, |tx| {
            let Some(mut offer) = tx.offer(&[1; 32])? else { return Ok(false) };
            if offer.redeemed {
                return Ok(false);
            }
            offer.redeemed = true;
            tx.update_offer(&offer)?;
            Ok(true)
        })
        .unwrap()
    });
    assert_eq!(winners, 1);
    assert!(in_transaction(&*d.issuer("a"), |tx| tx.offer(&[1; 32])).unwrap().unwrap().redeemed);
}

pub(crate) fn a_configuration_raced_on_one_access_token_is_fetched_once(d: &dyn Deployment) {
    in_transaction(&*d.issuer("a"), |tx| tx.insert_access_token(&token(3))).unwrap();
    // What the credential endpoint does: each offered configuration once per token.
    let winners = race(d, &|store| {
        in_transaction(store, |tx| {
            let Some(mut token) = tx.access_token(&[3; 32])? else { return Ok(false) };
            if token.used_config_ids.iter().any(|c| c == "school_advice") {
                return Ok(false);
            }
            token.used_config_ids.push("school_advice".into());
            tx.update_access_token(&token)?;
            Ok(true)
        })
        .unwrap()
    });
    assert_eq!(winners, 1);
    let stored = in_transaction(&*d.issuer("a"), |tx| tx.access_token(&[3; 32])).unwrap().unwrap();
    assert_eq!(stored.used_config_ids, ["school_advice"]);
}

pub(crate) fn one_school_cannot_read_or_spend_another_schools_rows(d: &dyn Deployment) {
    let a = d.issuer("a");
    let b = d.issuer("b");
    let a_list = in_transaction(&*a, |tx| {
        tx.insert_credential(&credential("c1"))?;
        let list = tx.insert_status_list(&list("enrolment", 1))?;
        tx.allocate(list, 7, "c1")?;
        tx.set_status(list, 7, 1)?;
        tx.insert_offer(&offer(1))?;
        tx.insert_access_token(&token(3))?;
        tx.insert_nonce(&[4; 32], 500)?;
        tx.insert_nonce(&[5; 32], 100)?; // expired: a purge of school b must leave it to a
        tx.insert_pending_authorization(&PendingAuthorizationRow { handle_digest: Some([9; 32]), ..pending() })?;
        tx.insert_authorization_code(&code())?;
        Ok(list)
    })
    .unwrap();

    // School b knows every digest and id of school a's rows (guessed or stolen): it reads none.
    in_transaction(&*b, |tx| {
        assert_eq!(tx.credential("c1")?, None);
        assert!(tx.credentials_of("pupil-17")?.is_empty());
        assert_eq!(tx.status_list(a_list)?, None);
        assert!(tx.status_lists("enrolment")?.is_empty());
        assert!(tx.all_status_lists()?.is_empty());
        assert!(!tx.is_allocated(a_list, 7)?);
        assert!(tx.entries_of("c1")?.is_empty());
        assert!(tx.non_valid(a_list)?.is_empty());
        assert_eq!(tx.offer(&[1; 32])?, None);
        assert_eq!(tx.access_token(&[3; 32])?, None);
        assert_eq!(tx.pending_authorization(&[7; 32])?, None);
        assert_eq!(tx.pending_authorization_by_handle(&[9; 32])?, None);
        assert_eq!(tx.authorization_code(&[8; 32])?, None);
        Ok(())
    })
    .unwrap();

    // Nor spends or changes any.
    in_transaction(&*b, |tx| {
        assert!(!tx.consume_nonce(&[4; 32], 400)?, "another school's nonce is unknown here");
        tx.update_offer(&OfferRow { redeemed: true, failed_attempts: 9, ..offer(1) })?;
        tx.delete_access_token(&[3; 32])?;
        assert_eq!(tx.purge_expired(10_000, 100)?, 0, "school b has nothing to purge");
        Ok(())
    })
    .unwrap();
    for refused in [
        in_transaction(&*b, |tx| tx.set_status(a_list, 7, 2)),
        in_transaction(&*b, |tx| tx.status(a_list, 7).map(drop)),
    ] {
        assert!(is_corrupt(&refused, "no entry 7 in list"), "{refused:?}");
    }
    let refused = in_transaction(&*b, |tx| tx.update_access_token(&token(3)));
    assert!(is_corrupt(&refused, "the access token to update is not stored"), "{refused:?}");
    let refused = in_transaction(&*b, |tx| tx.update_authorization_code(&code()));
    assert!(is_corrupt(&refused, "the authorization code to update is not stored"), "{refused:?}");
    let refused = in_transaction(&*b, |tx| tx.update_pending_authorization(&pending()));
    assert!(is_corrupt(&refused, "the pending authorization to update is not stored"), "{refused:?}");
    // An entry in school a's list for a credential of school b: the list is not b's.
    let refused = in_transaction(&*b, |tx| {
        tx.insert_credential(&credential("c9"))?;
        tx.allocate(a_list, 8, "c9")
    });
    assert!(matches!(refused, Err(Error::Storage { .. })), "{refused:?}");

    // School b may hold rows with the same keys as a's, each school its own.
    in_transaction(&*b, |tx| {
        tx.insert_credential(&CredentialRow { subject_ref: "pupil-b".into(), ..credential("c1") })?;
        tx.insert_offer(&OfferRow { subject_ref: "pupil-b".into(), ..offer(1) })?;
        tx.insert_nonce(&[4; 32], 900)?;
        tx.insert_status_list(&list("enrolment", 1))?;
        Ok(())
    })
    .unwrap();

    // School a's rows are as it left them.
    in_transaction(&*a, |tx| {
        assert_eq!(tx.credential("c1")?, Some(credential("c1")));
        assert_eq!(tx.status(a_list, 7)?, 1);
        assert_eq!(tx.status_list(a_list)?.unwrap().allocated, 1);
        assert_eq!(tx.offer(&[1; 32])?, Some(offer(1)));
        assert_eq!(tx.access_token(&[3; 32])?, Some(token(3)));
        assert_eq!(tx.authorization_code(&[8; 32])?, Some(code()));
        assert!(tx.consume_nonce(&[4; 32], 400)?);
        assert_eq!(tx.purge_expired(100, 100)?, 1, "its own expired nonce");
        Ok(())
    })
    .unwrap();
}

pub(crate) fn rows_survive_reopening(d: &dyn Deployment) {
    let list = {
        let store = d.issuer("a");
        in_transaction(&*store, |tx| {
            tx.insert_credential(&credential("c1"))?;
            tx.insert_offer(&offer(1))?;
            tx.insert_nonce(&[4; 32], 500)?;
            let list = tx.insert_status_list(&list("enrolment", 1))?;
            tx.allocate(list, 7, "c1")?;
            Ok(list)
        })
        .unwrap()
    };
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        assert_eq!(tx.credential("c1")?, Some(credential("c1")));
        assert_eq!(tx.offer(&[1; 32])?, Some(offer(1)));
        assert_eq!(tx.entries_of("c1")?, [(list, 7)]);
        assert!(tx.consume_nonce(&[4; 32], 400)?);
        Ok(())
    })
    .unwrap();
}

fn reference(id: u8, code: u8, expires_at: i64) -> OfferReferenceRow {
    OfferReferenceRow { id_digest: [id; 32], code_digest: [code; 32], sealed: vec![id, code, 0, 255], expires_at }
}

pub(crate) fn a_proof_is_used_once_until_its_record_expires(d: &dyn Deployment) {
    let store = d.issuer("a");
    assert!(in_transaction(&*store, |tx| tx.first_use_of_proof(&[4; 32], 500, 100)).unwrap());
    assert!(!in_transaction(&*store, |tx| tx.first_use_of_proof(&[4; 32], 600, 200)).unwrap(), "a replay");
    assert!(
        !in_transaction(&*d.issuer("a"), |tx| tx.first_use_of_proof(&[4; 32], 600, 499)).unwrap(),
        "on another server"
    );
    assert!(in_transaction(&*store, |tx| tx.first_use_of_proof(&[5; 32], 500, 100)).unwrap(), "another proof");
    // Once its record has expired (not yet purged) the digest may be taken anew: by then no
    // proof with its `iat` is accepted any more.
    assert!(in_transaction(&*store, |tx| tx.first_use_of_proof(&[4; 32], 900, 500)).unwrap());
    assert!(!in_transaction(&*store, |tx| tx.first_use_of_proof(&[4; 32], 900, 600)).unwrap());
    // The purge takes expired records only.
    let purged = in_transaction(&*store, |tx| tx.purge_expired(800, 100)).unwrap();
    assert_eq!(purged, 1, "the second proof's record (expired at 500)");
    assert!(!in_transaction(&*store, |tx| tx.first_use_of_proof(&[4; 32], 900, 800)).unwrap(), "kept");
    assert!(in_transaction(&*store, |tx| tx.first_use_of_proof(&[5; 32], 900, 800)).unwrap(), "purged");
}

pub(crate) fn a_proof_raced_by_many_servers_is_used_once(d: &dyn Deployment) {
    let winners = race(d, &|store| in_transaction(store, |tx| tx.first_use_of_proof(&[6; 32], 500, 100)).unwrap());
    assert_eq!(winners, 1);
}

pub(crate) fn offer_references_round_trip_count_expire_and_go_with_their_code(d: &dyn Deployment) {
    let store = d.issuer("a");
    in_transaction(&*store, |tx| {
        tx.insert_offer_reference(&reference(1, 9, 500))?;
        tx.insert_offer_reference(&reference(2, 9, 500))?;
        tx.insert_offer_reference(&reference(3, 8, 300))
    })
    .unwrap();
    assert_eq!(
        in_transaction(&*d.issuer("a"), |tx| tx.offer_reference(&[1; 32], 100)).unwrap(),
        Some(reference(1, 9, 500))
    );
    assert_eq!(in_transaction(&*store, |tx| tx.pending_offer_references(100)).unwrap(), 3);
    assert_eq!(in_transaction(&*store, |tx| tx.pending_offer_references(300)).unwrap(), 2, "one expired");
    assert_eq!(in_transaction(&*store, |tx| tx.offer_reference(&[3; 32], 300)).unwrap(), None, "expired");
    assert_eq!(in_transaction(&*store, |tx| tx.offer_reference(&[7; 32], 100)).unwrap(), None, "absent");
    // A second reference under one id is refused (the id is the key).
    let twice = in_transaction(&*store, |tx| tx.insert_offer_reference(&reference(1, 7, 500)));
    assert!(matches!(twice, Err(Error::Storage { .. })), "{twice:?}");
    // Redeeming code 9 takes both of its references away, not code 8's.
    in_transaction(&*store, |tx| tx.delete_offer_references(&[9; 32])).unwrap();
    assert_eq!(in_transaction(&*store, |tx| tx.offer_reference(&[1; 32], 100)).unwrap(), None);
    assert_eq!(in_transaction(&*store, |tx| tx.offer_reference(&[2; 32], 100)).unwrap(), None);
    assert_eq!(in_transaction(&*store, |tx| tx.pending_offer_references(100)).unwrap(), 1);
    assert_eq!(in_transaction(&*store, |tx| tx.purge_expired(300, 100)).unwrap(), 1);
    assert_eq!(in_transaction(&*store, |tx| tx.pending_offer_references(0)).unwrap(), 0);
}

/// What the server does to shelve an offer under its limit: count and insert in one
/// transaction. Many servers racing for the last free place: exactly one gets it.
pub(crate) fn the_pending_offer_limit_holds_when_many_servers_race_for_the_last_place(d: &dyn Deployment) {
    in_transaction(&*d.issuer("a"), |tx| tx.insert_offer_reference(&reference(200, 200, 500))).unwrap();
    let next = std::sync::atomic::AtomicU8::new(1);
    let winners = race(d, &|store| {
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        in_transaction(store, |tx| {
            if tx.pending_offer_references(100)? >= 2 {
                return Ok(false);
            }
            tx.insert_offer_reference(&reference(id, id, 500))?;
            Ok(true)
        })
        .unwrap()
    });
    assert_eq!(winners, 1);
    assert_eq!(in_transaction(&*d.issuer("a"), |tx| tx.pending_offer_references(100)).unwrap(), 2);
}

pub(crate) fn one_school_cannot_read_another_schools_proofs_or_offer_references(d: &dyn Deployment) {
    let a = d.issuer("a");
    let b = d.issuer("b");
    in_transaction(&*a, |tx| {
        assert!(tx.first_use_of_proof(&[4; 32], 500, 100)?);
        tx.insert_offer_reference(&reference(1, 9, 500))
    })
    .unwrap();
    // The same proof digest is new to school b; a's reference is not b's to read or take.
    assert!(in_transaction(&*b, |tx| tx.first_use_of_proof(&[4; 32], 500, 100)).unwrap());
    assert_eq!(in_transaction(&*b, |tx| tx.offer_reference(&[1; 32], 100)).unwrap(), None);
    assert_eq!(in_transaction(&*b, |tx| tx.pending_offer_references(100)).unwrap(), 0);
    in_transaction(&*b, |tx| tx.delete_offer_references(&[9; 32])).unwrap();
    assert_eq!(in_transaction(&*b, |tx| tx.purge_expired(10_000, 100)).unwrap(), 1, "b's own proof only");
    assert_eq!(in_transaction(&*a, |tx| tx.offer_reference(&[1; 32], 100)).unwrap(), Some(reference(1, 9, 500)));
    assert!(!in_transaction(&*a, |tx| tx.first_use_of_proof(&[4; 32], 500, 100)).unwrap());
}
