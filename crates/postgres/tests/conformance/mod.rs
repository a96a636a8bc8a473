//! The store conformance suite, written once and run against every implementation of the
//! issuer's and the consent register's store traits (`tests/sqlite.rs`, `tests/postgres.rs`):
//! one function per behaviour, over `&dyn IssuerStore` / `&dyn ConsentStore` handles that a
//! [`Deployment`] opens.
#![allow(dead_code)]

pub(crate) mod consent;
pub(crate) mod issuer;
pub(crate) mod requests;
pub(crate) mod sessions;

use schooltas_issuer::store::IssuerStore;
use schooltas_verifier::RequestStore;
use schooltas_verifier::register::ConsentStore;
use schooltas_verifier::sessions::SessionStore;

/// One fresh database holding the stores of any number of schools.
///
/// Each call opens a new handle (for SQLite a new connection to the school's file, for
/// PostgreSQL a store on the shared pool, whose every transaction takes its own connection),
/// so two handles of one school are two servers over one database, and dropping every handle
/// and opening again is a restart.
pub(crate) trait Deployment: Sync {
    /// A handle on `school`'s issuer store.
    fn issuer(&self, school: &str) -> Box<dyn IssuerStore>;
    /// A handle on `school`'s consent register store.
    fn consent(&self, school: &str) -> Box<dyn ConsentStore>;
}

/// One fresh store of the verifier's open requests and sessions for any number of schools: each call a new
/// handle, as a new server process over the same shared state would have.
pub(crate) trait RequestDeployment: Sync {
    /// A handle on `school`'s open requests.
    fn requests(&self, school: &str) -> Box<dyn RequestStore>;
    /// A handle on `school`'s front-end sessions.
    fn sessions(&self, school: &str) -> Box<dyn SessionStore>;
}

/// Expands to one `#[test]` per behaviour of the request store; `$deployment` is an
/// `Option<Box<dyn RequestDeployment>>` (`None`: not available here, the test says so).
#[macro_export]
macro_rules! request_store_suite {
    ($deployment:expr) => {
        $crate::conformance_suite!(@tests $deployment;
            requests::requests_round_trip_with_their_response_keys,
            requests::unknown_expired_and_spent_are_told_apart,
            requests::a_request_raced_by_many_servers_is_consumed_once,
            requests::one_school_cannot_peek_or_spend_another_schools_request,
            requests::purge_forgets_expired_requests_and_keeps_live_ones,
            sessions::sessions_round_trip_and_are_found_by_id_state_and_nonce,
            sessions::an_accepted_outcome_is_set_once_and_never_overwritten,
            sessions::a_session_raced_by_many_servers_is_accepted_once,
            sessions::one_school_cannot_read_or_answer_another_schools_sessions,
            sessions::sessions_are_limited_expire_and_are_purged,
        );
    };
}

/// How many servers race for one row in the single-use tests.
pub(crate) const RACERS: usize = 8;

/// Expands to one `#[test]` per behaviour of the suite; `$deployment` is an expression of type
/// `Option<Box<dyn Deployment>>` (`None`: this backend is not available here, the test says
/// so and passes).
#[macro_export]
macro_rules! conformance_suite {
    ($deployment:expr) => {
        $crate::conformance_suite!(@tests $deployment;
            issuer::a_failed_transaction_writes_nothing,
            issuer::a_constraint_violation_rolls_back_the_whole_transaction,
            issuer::status_lists_round_trip_and_count_their_entries,
            issuer::concurrent_allocations_in_one_list_all_land_and_are_counted,
            issuer::status_entries_are_allocated_set_and_listed,
            issuer::credentials_round_trip_and_list_by_subject,
            issuer::offers_round_trip_and_update,
            issuer::access_tokens_round_trip_update_and_delete,
            issuer::nonces_are_single_use_and_expire,
            issuer::pending_authorizations_and_codes_round_trip_update_and_purge,
            issuer::purge_is_bounded_per_table_and_keeps_live_rows,
            issuer::a_nonce_raced_by_many_servers_is_consumed_once,
            issuer::an_offer_raced_by_many_servers_is_redeemed_once,
            issuer::a_configuration_raced_on_one_access_token_is_fetched_once,
            issuer::one_school_cannot_read_or_spend_another_schools_rows,
            issuer::rows_survive_reopening,
            issuer::a_proof_is_used_once_until_its_record_expires,
            issuer::a_proof_raced_by_many_servers_is_used_once,
            issuer::offer_references_round_trip_count_expire_and_go_with_their_code,
            issuer::the_pending_offer_limit_holds_when_many_servers_race_for_the_last_place,
            issuer::one_school_cannot_read_another_schools_proofs_or_offer_references,
            consent::records_round_trip_with_status_and_withdrawal,
            consent::absent_records_read_as_none_or_empty,
            consent::records_are_found_by_subject_and_purpose_oldest_first,
            consent::a_withdrawal_is_set_once,
            consent::a_second_record_for_the_same_request_is_refused_and_nothing_is_written,
            consent::a_request_raced_by_many_servers_is_recorded_once,
            consent::a_withdrawal_raced_by_many_servers_is_set_once,
            consent::one_school_cannot_read_or_withdraw_another_schools_consents,
            consent::records_survive_reopening,
        );
    };
    (@tests $deployment:expr; $($module:ident :: $name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                match $deployment {
                    Some(deployment) => conformance::$module::$name(&*deployment),
                    None => eprintln!(
                        "SKIPPED: {}: set SCHOOLTAS_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/DATABASE to run it against PostgreSQL (crates/postgres/ci.sh starts one)",
                        stringify!($name)
                    ),
                }
            }
        )+
    };
}
