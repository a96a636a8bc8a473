//! The pupil roster: CSV import in both header languages, `;` and BOM, per-line refusals
//! naming line and column (never the value), all-or-nothing, and the claims it answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use schooltas_issuer::ClaimsSource as _;
use schooltas_server::roster::{ImportReport, LineError, LineProblem, Roster, RosterError, SchoolInfo};
use serde_json::json;

/// 2026-09-01T00:00:00Z.
const NOW: i64 = 1_788_220_800;

fn school() -> SchoolInfo {
    SchoolInfo { name: "Basisschool De Linde".into(), brin: "12AB".into(), location: "00".into() }
}

fn roster() -> Roster {
    Roster::in_memory(school()).unwrap().with_clock(|| NOW)
}

const PUPILS_NL: &str = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n\
1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n\
1002,Daan,Jansen,15-10-2010,8A,2026-2027\n";

const GUARDIANS_NL: &str = "leerlingnummer,ouder_id,relatie\n1001,ouder1@example.nl,ouder\n1001,77,voogd\n";

fn line_errors(result: Result<ImportReport, RosterError>) -> Vec<LineError> {
    match result {
        Err(RosterError::Lines(errors)) => errors,
        other => panic!("expected line errors, got {other:?}"),
    }
}

#[test]
fn imports_dutch_headers_with_both_date_forms() {
    let roster = roster();
    let report = roster.import(Some(PUPILS_NL.as_bytes()), Some(GUARDIANS_NL.as_bytes())).unwrap();
    assert_eq!(report, ImportReport { pupils: 2, guardians: 2 });
    let daan = roster.pupil("1002").unwrap().unwrap();
    assert_eq!(daan.birth_date.to_string(), "2010-10-15");
    assert_eq!(daan.group, "8A");
    let guardians = roster.guardians("1001").unwrap();
    assert_eq!(guardians.len(), 2);
    assert_eq!(guardians[0].subject_ref(), "1001/77");
    assert_eq!(guardians[0].relation, "guardian");
    assert_eq!(guardians[1].relation, "parent");
}

#[test]
fn imports_english_headers_semicolons_and_bom() {
    let roster = roster();
    let csv = "\u{feff}Pupil_Number; given_name ;family_name;birth_date;group;school_year;extra\r\n\
               2001;Emma;Bakker;01-02-2015;6A;2026/2027;ignored\r\n";
    let report = roster.import(Some(csv.as_bytes()), None).unwrap();
    assert_eq!(report.pupils, 1);
    let emma = roster.pupil("2001").unwrap().unwrap();
    assert_eq!(emma.given_name, "Emma");
    assert_eq!(emma.school_year, "2026-2027");
    assert_eq!(roster.pupils(Some("6A")).unwrap().len(), 1);
    assert_eq!(roster.pupils(Some("7B")).unwrap().len(), 0);
}

#[test]
fn a_bad_date_names_line_and_column_but_not_the_value() {
    let roster = roster();
    let csv = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n\
               1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n\
               1002,Daan,Jansen,31-02-2010,8A,2026-2027\n";
    let result = roster.import(Some(csv.as_bytes()), None);
    let message = match &result {
        Err(error) => error.to_string(),
        Ok(_) => panic!("imported a bad date"),
    };
    let errors = line_errors(result);
    assert_eq!(
        errors,
        vec![LineError { file: "pupils", line: 3, column: "birth_date", problem: LineProblem::BadDate }]
    );
    assert!(message.contains("line 3") && message.contains("birth_date"), "{message}");
    assert!(!message.contains("31-02-2010") && !message.contains("Daan"), "{message}");
    // All or nothing: the good line 2 was not written either.
    assert!(roster.pupil("1001").unwrap().is_none());
}

#[test]
fn a_duplicate_pupil_in_one_file_is_refused() {
    let roster = roster();
    let csv = "pupil_number,given_name,family_name,birth_date,group,school_year\n\
               1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n\
               1001,Sanne,de Vries,2014-03-01,7B,2026-2027\n";
    let errors = line_errors(roster.import(Some(csv.as_bytes()), None));
    assert_eq!(
        errors,
        vec![LineError { file: "pupils", line: 3, column: "pupil_number", problem: LineProblem::Duplicate }]
    );
    assert!(roster.pupils(None).unwrap().is_empty());
}

#[test]
fn a_second_import_upserts_by_pupil_number() {
    let roster = roster();
    roster.import(Some(PUPILS_NL.as_bytes()), None).unwrap();
    let moved = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1001,Sanne,de Vries,2014-03-01,8B,2027-2028\n";
    roster.import(Some(moved.as_bytes()), None).unwrap();
    let sanne = roster.pupil("1001").unwrap().unwrap();
    assert_eq!((sanne.group.as_str(), sanne.school_year.as_str()), ("8B", "2027-2028"));
    assert_eq!(roster.pupils(None).unwrap().len(), 2);
}

#[test]
fn guardians_of_unknown_pupils_and_bad_relations_are_refused_and_nothing_is_written() {
    let roster = roster();
    let guardians =
        "leerlingnummer;ouder_id;relatie\n1001;a@example.nl;ouder\n9999;b@example.nl;ouder\n1002;c@example.nl;oom\n";
    let errors = line_errors(roster.import(Some(PUPILS_NL.as_bytes()), Some(guardians.as_bytes())));
    assert_eq!(
        errors,
        vec![
            LineError { file: "guardians", line: 3, column: "pupil_number", problem: LineProblem::UnknownPupil },
            LineError { file: "guardians", line: 4, column: "relation", problem: LineProblem::BadRelation },
        ]
    );
    assert!(roster.pupils(None).unwrap().is_empty());
}

#[test]
fn empty_fields_missing_columns_and_bad_school_years_are_refused() {
    let roster = roster();
    let no_year = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep\n1001,Sanne,de Vries,2014-03-01,7B\n";
    assert!(matches!(
        roster.import(Some(no_year.as_bytes()), None),
        Err(RosterError::MissingColumn { file: "pupils", column: "school_year", dutch: "schooljaar" })
    ));
    let csv = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1001,,de Vries,2014-03-01,,2026-2028\n10/2,A,B,2014-03-01,7B,2026-2027\n";
    let errors = line_errors(roster.import(Some(csv.as_bytes()), None));
    assert_eq!(
        errors,
        vec![
            LineError { file: "pupils", line: 2, column: "given_name", problem: LineProblem::Empty },
            LineError { file: "pupils", line: 2, column: "school_year", problem: LineProblem::BadSchoolYear },
            LineError { file: "pupils", line: 3, column: "pupil_number", problem: LineProblem::BadReference },
        ]
    );
}

#[test]
fn enrolment_claims_come_from_the_pupil_row_and_the_clock() {
    let roster = roster();
    roster.import(Some(PUPILS_NL.as_bytes()), Some(GUARDIANS_NL.as_bytes())).unwrap();
    let claims = roster.claims("1001", "pupil_enrolment").unwrap();
    assert_eq!(
        serde_json::Value::Object(claims),
        json!({"school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
               "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
               "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false, "sub": "1001"})
    );
    // Born 2010-10-15: 15 on the clock's day, so over 12 but not 16.
    let daan = roster.claims("1002", "pupil_enrolment").unwrap();
    assert_eq!((daan["age_over_12"].clone(), daan["age_over_16"].clone()), (json!(true), json!(false)));
}

#[test]
fn guardianship_claims_leave_guardian_id_to_the_issuer() {
    let roster = roster();
    roster.import(Some(PUPILS_NL.as_bytes()), Some(GUARDIANS_NL.as_bytes())).unwrap();
    let claims = roster.claims("1001/ouder1@example.nl", "guardianship").unwrap();
    assert_eq!(
        serde_json::Value::Object(claims),
        json!({"child_id": "1001", "relation": "parent", "child_birth_date": "2014-03-01",
               "valid_until": "2030-03-01", "school_brin": "12AB"})
    );
}

#[test]
fn claims_of_unknown_subjects_and_types_are_refused() {
    let roster = roster();
    roster.import(Some(PUPILS_NL.as_bytes()), Some(GUARDIANS_NL.as_bytes())).unwrap();
    assert!(matches!(roster.claims("4242", "pupil_enrolment"), Err(schooltas_issuer::Error::Storage { .. })));
    assert!(matches!(roster.claims("1001/nobody", "guardianship"), Err(schooltas_issuer::Error::Storage { .. })));
    assert!(matches!(roster.claims("1001", "guardianship"), Err(schooltas_issuer::Error::Storage { .. })));
    assert!(matches!(
        roster.claims("1001", "learning_results"),
        Err(schooltas_issuer::Error::UnknownCredentialType { .. })
    ));
}

#[test]
fn the_roster_persists_in_its_file() {
    let dir = std::env::temp_dir().join(format!("schooltas-roster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("roster.sqlite");
    Roster::open(&path, school()).unwrap().import(Some(PUPILS_NL.as_bytes()), None).unwrap();
    let reopened = Roster::open(&path, school()).unwrap();
    assert_eq!(reopened.pupils(None).unwrap().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quoted_fields_oversized_files_and_debug_output() {
    let roster = roster();
    let csv = "leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1001,\"Jan, Piet\",\"de Vries\",2014-03-01,7B,2026-2027\n";
    roster.import(Some(csv.as_bytes()), None).unwrap();
    let pupil = roster.pupil("1001").unwrap().unwrap();
    assert_eq!(pupil.given_name, "Jan, Piet");
    // Debug shows the pupil number only: names and birth dates stay out of logs.
    let shown = format!("{pupil:?}");
    assert!(!shown.contains("Jan") && !shown.contains("2014"), "{shown}");
    let huge = vec![b'a'; schooltas_server::roster::MAX_CSV_BYTES + 1];
    assert!(matches!(roster.import(Some(&huge), None), Err(RosterError::TooLarge { file: "pupils" })));
    // Not UTF-8 (a Latin-1 export): refused as unreadable, with the line.
    let latin1: &[u8] = b"leerlingnummer,roepnaam,achternaam,geboortedatum,groep,schooljaar\n1002,Ren\xe9,Jansen,2014-03-01,7B,2026-2027\n";
    assert!(matches!(roster.import(Some(latin1), None), Err(RosterError::Csv { file: "pupils", line: 2 })));
}
