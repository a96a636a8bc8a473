//! The pupil roster: pupils and their guardians as a Dutch school administration system
//! (ParnasSys, Magister, Esis) exports them, kept in SQLite, and answered to the issuer as its
//! [`ClaimsSource`] when a wallet redeems an offer.
//!
//! ## CSV files
//! Header names are matched without regard to case or surrounding spaces, in Dutch or English;
//! other columns are ignored (exports carry many). A UTF-8 byte order mark is skipped, and the
//! separator is `;` when the header line has more `;` than `,` (Dutch Excel exports), else `,`.
//!
//! `pupils.csv`:
//!
//! | Dutch | English | value |
//! |---|---|---|
//! | `leerlingnummer` | `pupil_number` | the pupil's number in the administration (the subject reference) |
//! | `roepnaam` | `given_name` | given name |
//! | `achternaam` | `family_name` | family name (with any prefix: `de Vries`) |
//! | `geboortedatum` | `birth_date` | `YYYY-MM-DD` or `DD-MM-YYYY` |
//! | `groep` | `group` | group or class (`7B`); may be empty |
//! | `schooljaar` | `school_year` | `2026-2027` (or `2026/2027`) |
//!
//! `guardians.csv`:
//!
//! | Dutch | English | value |
//! |---|---|---|
//! | `leerlingnummer` | `pupil_number` | a pupil in the roster or in the same import |
//! | `ouder_id` | `guardian_ref` | a stable reference of the guardian in the administration (an e-mail address, a number) |
//! | `relatie` | `relation` | `ouder` / `parent` or `voogd` / `guardian` |
//!
//! An import is all or nothing (one transaction): every problem of every line is reported
//! ([`RosterError::Lines`], each with its line number and column name, never the value), and
//! nothing is written unless there are none. Pupils are upserted by pupil number and
//! guardians by (pupil number, guardian reference); a pupil number twice in one file is
//! refused. The database runs in WAL mode with a busy time-out, so `schooltas school import`
//! can write while the server reads.
//!
//! ## Claims
//! Subject references are `<pupil number>` for `pupil_enrolment` (to the child) and
//! `<pupil number>/<guardian ref>` for `guardianship` (to the parent). Enrolment claims carry
//! the school from the [`SchoolInfo`], `age_over_12` / `age_over_16` computed from the birth
//! date on the clock's day, and `sub` = the pupil number (the issuer turns it into one-time
//! child links). Guardianship claims carry `child_id` = the pupil number, `relation`,
//! `child_birth_date`, `valid_until` = the 16th birthday and `school_brin`; `guardian_id` is
//! left out on purpose: the school does not know the parent's wallet DID, so the issuer fills it
//! per copy from that copy's holder key.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension as _, params};
use schooltas_issuer::ClaimsSource;
use schooltas_school::date::CalendarDate;
use serde_json::{Map, Value};

use crate::service::{Clock, SystemClock};

/// How long a write waits for another process's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest CSV file [`Roster::import`] reads, in bytes (a school of 2 000 pupils exports
/// well under 1 MiB).
pub const MAX_CSV_BYTES: usize = 16 << 20;

/// The age from which a child decides alone (Dutch law, AVG art. 8 UAVG: 16).
const AGE_OF_CONSENT: u32 = 16;

/// What is wrong with one field of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// The field is empty but required.
    #[error("is empty")]
    Empty,
    /// Not a date in `YYYY-MM-DD` or `DD-MM-YYYY`.
    #[error("is not a date YYYY-MM-DD or DD-MM-YYYY")]
    BadDate,
    /// Not a school year `YYYY-YYYY` of two consecutive years.
    #[error("is not a school year like 2026-2027")]
    BadSchoolYear,
    /// Not `ouder`, `voogd`, `parent` or `guardian`.
    #[error("is not ouder, voogd, parent or guardian")]
    BadRelation,
    /// The same pupil (or pupil and guardian) already appeared on an earlier line of the file.
    #[error("repeats an earlier line of this file")]
    Duplicate,
    /// The pupil number is neither in the roster nor in this import's pupils file.
    #[error("names no pupil in the roster or in this import")]
    UnknownPupil,
    /// The pupil number or guardian reference contains a `/` (the subject separator) or a
    /// control character.
    #[error("contains '/' or a control character")]
    BadReference,
    /// The line has fewer fields than the header.
    #[error("is missing (the line has fewer fields than the header)")]
    Missing,
    /// The field is longer than 200 characters.
    #[error("is longer than 200 characters")]
    TooLong,
}

/// One problem of an import: the file, the line (1 = the header), the column and what is wrong.
/// Never the value itself: a roster is a child's personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// `pupils` or `guardians`.
    pub file: &'static str,
    /// The line number in the file (the header is line 1).
    pub line: u64,
    /// The column, by its canonical (English) name.
    pub column: &'static str,
    /// What is wrong.
    pub problem: LineProblem,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}: {} {}", self.file, self.line, self.column, self.problem)
    }
}

/// Why a roster operation failed. No variant carries a claim value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RosterError {
    /// The database could not be opened, read or written; nothing of the operation was written.
    #[error("roster database failed (nothing was written): {0}")]
    Database(#[from] rusqlite::Error),
    /// The file is not CSV the reader understands (bad UTF-8, unbalanced quotes).
    #[error("{file} is not readable CSV near line {line}; save it as UTF-8 CSV")]
    Csv {
        /// `pupils` or `guardians`.
        file: &'static str,
        /// Where the reader stopped.
        line: u64,
    },
    /// A required column is not in the header.
    #[error("{file} has no column {column} (or its Dutch name {dutch})")]
    MissingColumn {
        /// `pupils` or `guardians`.
        file: &'static str,
        /// The English name.
        column: &'static str,
        /// The Dutch name.
        dutch: &'static str,
    },
    /// The file is larger than [`MAX_CSV_BYTES`].
    #[error("{file} is larger than {MAX_CSV_BYTES} bytes")]
    TooLarge {
        /// `pupils` or `guardians`.
        file: &'static str,
    },
    /// Lines with problems; nothing was imported.
    #[error("{} problem(s), nothing was imported: {}", .0.len(), list(.0))]
    Lines(Vec<LineError>),
}

fn list(errors: &[LineError]) -> String {
    let shown: Vec<String> = errors.iter().take(20).map(ToString::to_string).collect();
    let more = errors.len().saturating_sub(20);
    if more > 0 { format!("{}; and {more} more", shown.join("; ")) } else { shown.join("; ") }
}

/// The school's own facts that enrolment and guardianship claims carry (from the configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchoolInfo {
    /// The school's name.
    pub name: String,
    /// The BRIN code (`12AB`).
    pub brin: String,
    /// The two-digit location number (`00`).
    pub location: String,
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Pupils inserted or updated.
    pub pupils: usize,
    /// Guardians inserted or updated.
    pub guardians: usize,
}

/// A pupil as the roster keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct Pupil {
    /// The pupil number.
    pub number: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Birth date.
    pub birth_date: CalendarDate,
    /// Group or class; empty when not given.
    pub group: String,
    /// School year, `2026-2027`.
    pub school_year: String,
}

impl fmt::Debug for Pupil {
    /// Only the pupil number: names and birth dates stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pupil").field("number", &self.number).finish_non_exhaustive()
    }
}

/// A guardian of a pupil.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guardian {
    /// The pupil number.
    pub pupil_number: String,
    /// The guardian's reference in the administration.
    pub guardian_ref: String,
    /// `parent` or `guardian`.
    pub relation: &'static str,
}

impl Guardian {
    /// The subject reference of this guardian's guardianship offer: `<pupil>/<guardian>`.
    pub fn subject_ref(&self) -> String {
        format!("{}/{}", self.pupil_number, self.guardian_ref)
    }
}

/// The roster on SQLite, shared by the server (claims) and the import (writes).
pub struct Roster {
    connection: Mutex<Connection>,
    school: SchoolInfo,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Roster").field("school", &self.school).finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pupils (
    pupil_number TEXT PRIMARY KEY NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    grp TEXT NOT NULL,
    school_year TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS guardians (
    pupil_number TEXT NOT NULL REFERENCES pupils(pupil_number) ON DELETE CASCADE,
    guardian_ref TEXT NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (pupil_number, guardian_ref)
);
";

impl Roster {
    /// Opens (or creates) the roster database at `path` (WAL, busy time-out
    /// [`BUSY_TIMEOUT`]), with the system clock.
    pub fn open(path: impl AsRef<Path>, school: SchoolInfo) -> Result<Self, RosterError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        Self::init(connection, school, Arc::new(SystemClock))
    }

    /// A roster in memory, for tests and examples.
    pub fn in_memory(school: SchoolInfo) -> Result<Self, RosterError> {
        Self::init(Connection::open_in_memory()?, school, Arc::new(SystemClock))
    }

    /// The same roster reading the day from `clock` (ages are computed on its day).
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn init(connection: Connection, school: SchoolInfo, clock: Arc<dyn Clock>) -> Result<Self, RosterError> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.execute_batch(SCHEMA)?;
        Ok(Roster { connection: Mutex::new(connection), school, clock })
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while the lock was held left no transaction open: rusqlite rolls back on drop.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Imports a pupils file and, optionally, a guardians file, in one transaction: all or
    /// nothing. See the [module docs](self) for the columns.
    pub fn import(&self, pupils: Option<&[u8]>, guardians: Option<&[u8]>) -> Result<ImportReport, RosterError> {
        let mut errors = Vec::new();
        let pupils = match pupils {
            Some(bytes) => parse_pupils(bytes, &mut errors)?,
            None => Vec::new(),
        };
        let guardians = match guardians {
            Some(bytes) => parse_guardians(bytes, &mut errors)?,
            None => Vec::new(),
        };
        let mut connection = self.connection();
        let tx = connection.transaction()?;
        let new_numbers: HashSet<&str> = pupils.iter().map(|p| p.number.as_str()).collect();
        for (line, guardian) in &guardians {
            if new_numbers.contains(guardian.pupil_number.as_str()) {
                continue;
            }
            let known: Option<i64> = tx
                .query_row("SELECT 1 FROM pupils WHERE pupil_number = ?1", [&guardian.pupil_number], |row| row.get(0))
                .optional()?;
            if known.is_none() {
                errors.push(LineError {
                    file: "guardians",
                    line: *line,
                    column: "pupil_number",
                    problem: LineProblem::UnknownPupil,
                });
            }
        }
        if !errors.is_empty() {
            errors.sort_by(|a, b| (a.file, a.line).cmp(&(b.file, b.line)));
            return Err(RosterError::Lines(errors));
        }
        for pupil in &pupils {
            tx.execute(
                "INSERT INTO pupils (pupil_number, given_name, family_name, birth_date, grp, school_year)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(pupil_number) DO UPDATE SET given_name = excluded.given_name,
                   family_name = excluded.family_name, birth_date = excluded.birth_date,
                   grp = excluded.grp, school_year = excluded.school_year",
                params![
                    pupil.number,
                    pupil.given_name,
                    pupil.family_name,
                    pupil.birth_date.to_string(),
                    pupil.group,
                    pupil.school_year
                ],
            )?;
        }
        for (_, guardian) in &guardians {
            tx.execute(
                "INSERT INTO guardians (pupil_number, guardian_ref, relation) VALUES (?1, ?2, ?3)
                 ON CONFLICT(pupil_number, guardian_ref) DO UPDATE SET relation = excluded.relation",
                params![guardian.pupil_number, guardian.guardian_ref, guardian.relation],
            )?;
        }
        tx.commit()?;
        Ok(ImportReport { pupils: pupils.len(), guardians: guardians.len() })
    }

    /// The pupil with this number, if the roster has one.
    pub fn pupil(&self, number: &str) -> Result<Option<Pupil>, RosterError> {
        let connection = self.connection();
        let row = connection
            .query_row(
                "SELECT pupil_number, given_name, family_name, birth_date, grp, school_year FROM pupils WHERE pupil_number = ?1",
                [number],
                pupil_row,
            )
            .optional()?;
        row.transpose()
    }

    /// Every pupil, by number; only those of `group` when given.
    pub fn pupils(&self, group: Option<&str>) -> Result<Vec<Pupil>, RosterError> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT pupil_number, given_name, family_name, birth_date, grp, school_year FROM pupils
             WHERE ?1 IS NULL OR grp = ?1 ORDER BY pupil_number",
        )?;
        let rows = statement.query_map([group], pupil_row)?;
        let mut pupils = Vec::new();
        for row in rows {
            pupils.push(row??);
        }
        Ok(pupils)
    }

    /// The guardians of a pupil, by reference.
    pub fn guardians(&self, pupil_number: &str) -> Result<Vec<Guardian>, RosterError> {
        let connection = self.connection();
        let mut statement = connection
            .prepare("SELECT guardian_ref, relation FROM guardians WHERE pupil_number = ?1 ORDER BY guardian_ref")?;
        let rows =
            statement.query_map([pupil_number], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
        let mut guardians = Vec::new();
        for row in rows {
            let (guardian_ref, relation) = row?;
            let relation = if relation == "guardian" { "guardian" } else { "parent" };
            guardians.push(Guardian { pupil_number: pupil_number.to_owned(), guardian_ref, relation });
        }
        Ok(guardians)
    }

    fn guardian(&self, pupil_number: &str, guardian_ref: &str) -> Result<Option<Guardian>, RosterError> {
        Ok(self.guardians(pupil_number)?.into_iter().find(|g| g.guardian_ref == guardian_ref))
    }

    /// The `pupil_enrolment` claims of a pupil, as of the clock's day.
    pub fn enrolment_claims(&self, pupil: &Pupil) -> Map<String, Value> {
        let today = CalendarDate::from_unix(self.clock.now());
        let age = pupil.birth_date.age_on(today);
        let mut claims = Map::new();
        claims.insert("school_name".into(), self.school.name.clone().into());
        claims.insert("school_brin".into(), self.school.brin.clone().into());
        claims.insert("school_location".into(), self.school.location.clone().into());
        claims.insert("school_year".into(), pupil.school_year.clone().into());
        if !pupil.group.is_empty() {
            claims.insert("group".into(), pupil.group.clone().into());
        }
        claims.insert("given_name".into(), pupil.given_name.clone().into());
        claims.insert("family_name".into(), pupil.family_name.clone().into());
        claims.insert("birth_date".into(), pupil.birth_date.to_string().into());
        claims.insert("age_over_12".into(), (age >= 12).into());
        claims.insert("age_over_16".into(), (age >= AGE_OF_CONSENT).into());
        claims.insert("sub".into(), pupil.number.clone().into());
        claims
    }

    /// The `guardianship` claims of a guardian of `pupil`, without `guardian_id` (the issuer
    /// fills it per copy from the holder key).
    pub fn guardianship_claims(&self, pupil: &Pupil, guardian: &Guardian) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("child_id".into(), pupil.number.clone().into());
        claims.insert("relation".into(), guardian.relation.into());
        claims.insert("child_birth_date".into(), pupil.birth_date.to_string().into());
        claims.insert("valid_until".into(), pupil.birth_date.anniversary(AGE_OF_CONSENT).to_string().into());
        claims.insert("school_brin".into(), self.school.brin.clone().into());
        claims
    }
}

fn pupil_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Pupil, RosterError>> {
    let birth_date: String = row.get(3)?;
    let Ok(birth_date) = CalendarDate::parse(&birth_date) else {
        return Ok(Err(RosterError::Database(rusqlite::Error::InvalidColumnType(
            3,
            "birth_date".into(),
            rusqlite::types::Type::Text,
        ))));
    };
    Ok(Ok(Pupil {
        number: row.get(0)?,
        given_name: row.get(1)?,
        family_name: row.get(2)?,
        birth_date,
        group: row.get(4)?,
        school_year: row.get(5)?,
    }))
}

fn storage(reason: &str) -> schooltas_issuer::Error {
    schooltas_issuer::Error::Storage { reason: reason.to_owned() }
}

impl ClaimsSource for Roster {
    fn claims(&self, subject_ref: &str, config_id: &str) -> schooltas_issuer::Result<Map<String, Value>> {
        let failed = |error: RosterError| match error {
            RosterError::Database(_) => storage("the roster database could not be read"),
            _ => storage("the roster could not be read"),
        };
        match config_id {
            "pupil_enrolment" => {
                let pupil =
                    self.pupil(subject_ref).map_err(failed)?.ok_or_else(|| storage("no such pupil in the roster"))?;
                Ok(self.enrolment_claims(&pupil))
            }
            "guardianship" => {
                let (number, guardian_ref) = subject_ref
                    .split_once('/')
                    .ok_or_else(|| storage("a guardianship subject is <pupil>/<guardian>"))?;
                let pupil =
                    self.pupil(number).map_err(failed)?.ok_or_else(|| storage("no such pupil in the roster"))?;
                let guardian = self
                    .guardian(number, guardian_ref)
                    .map_err(failed)?
                    .ok_or_else(|| storage("no such guardian of this pupil in the roster"))?;
                Ok(self.guardianship_claims(&pupil, &guardian))
            }
            _ => Err(schooltas_issuer::Error::UnknownCredentialType { config_id: config_id.to_owned() }),
        }
    }
}

/// A column: canonical (English) name, Dutch name, required.
struct Column {
    english: &'static str,
    dutch: &'static str,
}

const PUPIL_COLUMNS: [Column; 6] = [
    Column { english: "pupil_number", dutch: "leerlingnummer" },
    Column { english: "given_name", dutch: "roepnaam" },
    Column { english: "family_name", dutch: "achternaam" },
    Column { english: "birth_date", dutch: "geboortedatum" },
    Column { english: "group", dutch: "groep" },
    Column { english: "school_year", dutch: "schooljaar" },
];

const GUARDIAN_COLUMNS: [Column; 3] = [
    Column { english: "pupil_number", dutch: "leerlingnummer" },
    Column { english: "guardian_ref", dutch: "ouder_id" },
    Column { english: "relation", dutch: "relatie" },
];

/// The records of a CSV file with the positions of `columns` in it.
struct Table {
    file: &'static str,
    records: Vec<(u64, csv::StringRecord)>,
    positions: Vec<usize>,
}

fn read_table(file: &'static str, bytes: &[u8], columns: &[Column]) -> Result<Table, RosterError> {
    if bytes.len() > MAX_CSV_BYTES {
        return Err(RosterError::TooLarge { file });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let header_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| header_line.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') { b';' } else { b',' };
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let csv_error =
        |error: &csv::Error| RosterError::Csv { file, line: error.position().map_or(1, csv::Position::line) };
    let headers = reader.headers().map_err(|e| csv_error(&e))?.clone();
    let mut positions = Vec::with_capacity(columns.len());
    for column in columns {
        let position = headers.iter().position(|header| {
            let header = header.trim().to_lowercase();
            header == column.english || header == column.dutch
        });
        positions.push(position.ok_or(RosterError::MissingColumn {
            file,
            column: column.english,
            dutch: column.dutch,
        })?);
    }
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        records.push((line, record));
    }
    Ok(Table { file, records, positions })
}

impl Table {
    /// Field `index` (of the columns asked for) of a record, trimmed; a [`LineError`] when
    /// missing, empty (unless `optional`) or too long.
    fn field<'a>(
        &self,
        record: &'a csv::StringRecord,
        line: u64,
        column: &Column,
        index: usize,
        optional: bool,
        errors: &mut Vec<LineError>,
    ) -> Option<&'a str> {
        let problem = |problem| LineError { file: self.file, line, column: column.english, problem };
        let Some(value) = self.positions.get(index).and_then(|position| record.get(*position)) else {
            errors.push(problem(LineProblem::Missing));
            return None;
        };
        if value.is_empty() && !optional {
            errors.push(problem(LineProblem::Empty));
            return None;
        }
        if value.chars().count() > 200 {
            errors.push(problem(LineProblem::TooLong));
            return None;
        }
        Some(value)
    }
}

fn is_reference(value: &str) -> bool {
    !value.contains('/') && !value.chars().any(char::is_control)
}

/// `YYYY-MM-DD` or `DD-MM-YYYY`.
pub fn parse_date(text: &str) -> Option<CalendarDate> {
    if let Ok(date) = CalendarDate::parse(text) {
        return Some(date);
    }
    let bytes = text.as_bytes();
    if bytes.len() == 10 && bytes[2] == b'-' && bytes[5] == b'-' {
        let iso = format!("{}-{}-{}", text.get(6..10)?, text.get(3..5)?, text.get(0..2)?);
        return CalendarDate::parse(&iso).ok();
    }
    None
}

fn parse_school_year(text: &str) -> Option<String> {
    let (first, second) = text.split_once(['-', '/'])?;
    let digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(second) {
        return None;
    }
    let (first_year, second_year): (u32, u32) = (first.parse().ok()?, second.parse().ok()?);
    (second_year == first_year + 1).then(|| format!("{first}-{second}"))
}

fn parse_pupils(bytes: &[u8], errors: &mut Vec<LineError>) -> Result<Vec<Pupil>, RosterError> {
    let table = read_table("pupils", bytes, &PUPIL_COLUMNS)?;
    let mut pupils = Vec::with_capacity(table.records.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, record) in &table.records {
        let line = *line;
        let before = errors.len();
        let mut get =
            |index: usize, optional| table.field(record, line, &PUPIL_COLUMNS[index], index, optional, errors);
        let number = get(0, false);
        let given_name = get(1, false);
        let family_name = get(2, false);
        let birth_date = get(3, false);
        let group = get(4, true);
        let school_year = get(5, false);
        let problem = |column: &'static str, problem| LineError { file: "pupils", line, column, problem };
        if let Some(number) = number {
            if !is_reference(number) {
                errors.push(problem("pupil_number", LineProblem::BadReference));
            } else if seen.insert(number.to_owned(), line).is_some() {
                errors.push(problem("pupil_number", LineProblem::Duplicate));
            }
        }
        let birth_date = birth_date.and_then(|text| {
            let date = parse_date(text);
            if date.is_none() {
                errors.push(problem("birth_date", LineProblem::BadDate));
            }
            date
        });
        let school_year = school_year.and_then(|text| {
            let year = parse_school_year(text);
            if year.is_none() {
                errors.push(problem("school_year", LineProblem::BadSchoolYear));
            }
            year
        });
        if errors.len() > before {
            continue;
        }
        if let (Some(number), Some(given_name), Some(family_name), Some(birth_date), Some(school_year)) =
            (number, given_name, family_name, birth_date, school_year)
        {
            pupils.push(Pupil {
                number: number.to_owned(),
                given_name: given_name.to_owned(),
                family_name: family_name.to_owned(),
                birth_date,
                group: group.unwrap_or_default().to_owned(),
                school_year,
            });
        }
    }
    Ok(pupils)
}

fn parse_guardians(bytes: &[u8], errors: &mut Vec<LineError>) -> Result<Vec<(u64, Guardian)>, RosterError> {
    let table = read_table("guardians", bytes, &GUARDIAN_COLUMNS)?;
    let mut guardians = Vec::with_capacity(table.records.len());
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (line, record) in &table.records {
        let line = *line;
        let before = errors.len();
        let mut get = |index: usize| table.field(record, line, &GUARDIAN_COLUMNS[index], index, false, errors);
        let number = get(0);
        let guardian_ref = get(1);
        let relation = get(2);
        let problem = |column: &'static str, problem| LineError { file: "guardians", line, column, problem };
        if number.is_some_and(|n| !is_reference(n)) {
            errors.push(problem("pupil_number", LineProblem::BadReference));
        }
        if guardian_ref.is_some_and(|g| !is_reference(g)) {
            errors.push(problem("guardian_ref", LineProblem::BadReference));
        }
        let relation = relation.and_then(|text| match text.to_lowercase().as_str() {
            "ouder" | "parent" => Some("parent"),
            "voogd" | "guardian" => Some("guardian"),
            _ => {
                errors.push(problem("relation", LineProblem::BadRelation));
                None
            }
        });
        if let (Some(number), Some(guardian_ref)) = (number, guardian_ref)
            && errors.len() == before
            && !seen.insert((number.to_owned(), guardian_ref.to_owned()))
        {
            errors.push(problem("guardian_ref", LineProblem::Duplicate));
        }
        if errors.len() > before {
            continue;
        }
        if let (Some(number), Some(guardian_ref), Some(relation)) = (number, guardian_ref, relation) {
            guardians.push((
                line,
                Guardian { pupil_number: number.to_owned(), guardian_ref: guardian_ref.to_owned(), relation },
            ));
        }
    }
    Ok(guardians)
}
