//! The built-in credential types (../shared/DOMAIN.md, "Credential types").

use super::{ClaimDefinition, ClaimKind, CredentialType, Label, TextFormat};
use schooltas_sd_jwt::{ClaimPath, PathElement, Vct};

const DAY: u64 = 86_400;

fn path(dotted: &str) -> ClaimPath {
    ClaimPath::new(dotted.split('.').map(|name| PathElement::Key(name.to_owned())).collect())
        .unwrap_or_else(|_| ClaimPath::claim(dotted))
}

/// A claim: (dotted path, kind, required, disclosable, special category, Dutch, English).
fn claim(at: &str, kind: ClaimKind, required: bool, disclosable: bool, nl: &str, en: &str) -> ClaimDefinition {
    ClaimDefinition { path: path(at), kind, required, disclosable, special_category: false, label: Label::new(nl, en) }
}

fn special(mut definition: ClaimDefinition) -> ClaimDefinition {
    definition.special_category = true;
    definition
}

fn one_of(options: &[&str]) -> ClaimKind {
    ClaimKind::OneOf(options.iter().map(|o| (*o).to_owned()).collect())
}

fn credential_type(id: &str, name: &str, (nl, en): (&str, &str), (dnl, den): (&str, &str)) -> CredentialType {
    // The URIs are fixed ASCII without spaces; Vct::new cannot refuse them.
    let vct = Vct::new(format!("https://schooltas.nl/credentials/{name}/v1")).unwrap_or_else(|_| unreachable_vct());
    CredentialType::new(id, vct, Label::new(nl, en), Label::new(dnl, den))
}

#[cold]
fn unreachable_vct() -> Vct {
    // Only reached if the constant URIs above were edited into something invalid; the catalog
    // tests would then fail on the vct.
    Vct::new("urn:schooltas:invalid").unwrap_or_else(|_| unreachable_vct())
}

fn school_claims(t: CredentialType) -> CredentialType {
    t.with_claim(claim("school_name", ClaimKind::String, true, true, "Naam school", "School name"))
        .with_claim(claim("school_brin", ClaimKind::Text(TextFormat::Brin), true, true, "BRIN-code", "BRIN code"))
        .with_claim(claim(
            "school_location",
            ClaimKind::Text(TextFormat::TwoDigits),
            false,
            true,
            "Vestigingsnummer",
            "School location number",
        ))
}

const LEVELS: [&str; 3] = ["1F", "2F", "1S"];
const ADVICE: [&str; 6] = ["praktijkonderwijs", "vmbo-bb", "vmbo-kb", "vmbo-gt", "havo", "vwo"];

pub(super) fn types() -> Vec<CredentialType> {
    let enrolment = school_claims(credential_type(
        "pupil_enrolment",
        "enrolment",
        ("Inschrijving leerling", "Pupil enrolment"),
        ("Bewijs dat de leerling op deze school staat ingeschreven", "Proof that the pupil is enrolled at this school"),
    ))
    .with_claim(claim("school_year", ClaimKind::Text(TextFormat::SchoolYear), true, true, "Schooljaar", "School year"))
    .with_claim(claim("group", ClaimKind::String, false, true, "Groep of klas", "Group or class"))
    .with_claim(claim("given_name", ClaimKind::String, true, true, "Voornaam", "Given name"))
    .with_claim(claim("family_name", ClaimKind::String, true, true, "Achternaam", "Family name"))
    .with_claim(claim("birth_date", ClaimKind::Date, true, true, "Geboortedatum", "Birth date"))
    .with_claim(claim("age_over_12", ClaimKind::Boolean, false, true, "Ouder dan 12", "Older than 12"))
    .with_claim(claim("age_over_16", ClaimKind::Boolean, false, true, "Ouder dan 16", "Older than 16"))
    .with_validity(366 * DAY)
    .with_status("enrolment");

    let guardianship = credential_type(
        "guardianship",
        "guardianship",
        ("Ouderlijk gezag / voogdij", "Guardianship"),
        (
            "Deze ouder of voogd is wettelijk vertegenwoordiger van dit kind (volgens de inschrijving op school)",
            "This parent or guardian legally represents this child (per the school's enrolment records)",
        ),
    )
    // The parent's DID, the child's birth date and the school are selectively disclosable and
    // left out of guardian approvals (issue 12 item 8); relation, child link and validity are
    // made always visible by `representing()`. `child_id` is the copy's opaque one-time child
    // link (the issuer derives it from the pupil reference the administration gives), not a DID.
    .with_claim(claim(
        "guardian_id",
        ClaimKind::Text(TextFormat::Did),
        true,
        true,
        "Ouder of voogd",
        "Parent or guardian",
    ))
    .with_claim(claim("child_id", ClaimKind::String, true, false, "Kind", "Child"))
    .with_claim(claim("relation", one_of(&["parent", "guardian"]), true, false, "Relatie", "Relation"))
    .with_claim(claim("child_birth_date", ClaimKind::Date, false, true, "Geboortedatum kind", "Child's birth date"))
    .with_claim(claim("valid_until", ClaimKind::Date, true, false, "Geldig tot", "Valid until"))
    .with_claim(claim("school_brin", ClaimKind::Text(TextFormat::Brin), false, true, "BRIN-code", "BRIN code"))
    .representing()
    .with_status("guardianship");

    let results = school_claims(credential_type(
        "learning_results",
        "learning-results",
        ("Leerresultaten", "Learning results"),
        ("Referentieniveaus lezen, taalverzorging en rekenen", "Reference levels for reading, language and maths"),
    ))
    .with_claim(claim("test_name", ClaimKind::String, true, true, "Naam toets", "Test name"))
    .with_claim(claim("test_date", ClaimKind::Date, true, true, "Datum toets", "Test date"))
    .with_claim(claim("reading_level", one_of(&LEVELS), false, true, "Niveau lezen", "Reading level"))
    .with_claim(claim("language_level", one_of(&LEVELS), false, true, "Niveau taalverzorging", "Language level"))
    .with_claim(claim("maths_level", one_of(&LEVELS), false, true, "Niveau rekenen", "Maths level"));

    let advice = school_claims(credential_type(
        "school_advice",
        "school-advice",
        ("Schooladvies", "School advice"),
        ("Het schooladvies voor het voortgezet onderwijs", "The school advice for secondary education"),
    ))
    .with_claim(claim("advice", ClaimKind::Array(Box::new(one_of(&ADVICE))), true, true, "Advies", "Advice"))
    .with_claim(claim("advice_date", ClaimKind::Date, true, true, "Datum advies", "Advice date"))
    .with_claim(claim(
        "adjusted_after_final_test",
        ClaimKind::Boolean,
        true,
        true,
        "Bijgesteld na doorstroomtoets",
        "Adjusted after the final test",
    ))
    .with_status("advice");

    let support = school_claims(credential_type(
        "support_needs",
        "support-needs",
        ("Ondersteuningsbehoefte", "Support needs"),
        (
            "Afspraken over extra ondersteuning, los van de onderliggende verklaring",
            "Support arrangements, separate from the underlying statement",
        ),
    ))
    .with_claim(claim(
        "arrangements",
        ClaimKind::Array(Box::new(ClaimKind::String)),
        true,
        true,
        "Afspraken (bijv. extra tijd, voorleessoftware)",
        "Arrangements (e.g. extra time, read-aloud software)",
    ))
    .with_claim(special(claim(
        "dyslexia_statement",
        ClaimKind::Boolean,
        false,
        true,
        "Dyslexieverklaring",
        "Dyslexia statement",
    )))
    .with_claim(special(claim(
        "statement_issued_by",
        ClaimKind::String,
        false,
        true,
        "Verklaring afgegeven door",
        "Statement issued by",
    )))
    .with_validity(366 * DAY)
    .with_status("support");

    let mut dossier = credential_type(
        "transfer_dossier",
        "transfer-dossier",
        ("Onderwijskundig rapport", "Transfer dossier (onderwijskundig rapport)"),
        (
            "De vijf wettelijke onderdelen van het onderwijskundig rapport",
            "The five statutory sections of the transfer report",
        ),
    );
    for (name, nl, en, special_category) in [
        ("administrative", "Administratieve gegevens", "Administrative data", false),
        ("school_history_and_results", "Schoolloopbaan en resultaten", "School history and results", false),
        ("social_emotional_development", "Sociaal-emotionele ontwikkeling", "Social-emotional development", false),
        ("guidance", "Begeleiding (incl. vastgestelde beperkingen)", "Guidance (incl. diagnosed limitations)", true),
        ("absence", "Verzuim afgelopen jaar", "Absence in the last year", false),
    ] {
        let mut section = claim(name, ClaimKind::Object, name != "guidance", true, nl, en);
        section.special_category = special_category;
        dossier = dossier.with_claim(section);
    }
    let dossier = dossier
        .with_claim(claim("administrative.given_name", ClaimKind::String, true, true, "Voornaam", "Given name"))
        .with_claim(claim("administrative.family_name", ClaimKind::String, true, true, "Achternaam", "Family name"))
        .with_claim(claim("administrative.birth_date", ClaimKind::Date, true, true, "Geboortedatum", "Birth date"))
        .with_claim(claim(
            "administrative.education_number",
            ClaimKind::String,
            false,
            true,
            "Onderwijsnummer / BSN",
            "Education number / citizen service number",
        ))
        .with_claim(claim(
            "school_history_and_results.final_test_result",
            ClaimKind::String,
            false,
            true,
            "Uitslag doorstroomtoets",
            "Final test result",
        ))
        .with_claim(claim(
            "school_history_and_results.advice",
            ClaimKind::Array(Box::new(one_of(&ADVICE))),
            false,
            true,
            "Schooladvies",
            "School advice",
        ))
        .with_claim(claim(
            "school_history_and_results.wishes",
            ClaimKind::String,
            false,
            true,
            "Wensen ouders en leerling",
            "Wishes of parents and pupil",
        ))
        .with_claim(claim(
            "social_emotional_development.summary",
            ClaimKind::String,
            false,
            true,
            "Samenvatting",
            "Summary",
        ))
        .with_claim(special(claim(
            "guidance.summary",
            ClaimKind::String,
            false,
            true,
            "Gegeven begeleiding",
            "Guidance given",
        )))
        .with_claim(claim("absence.days", ClaimKind::Integer, false, true, "Dagen verzuim", "Days absent"))
        .with_claim(claim("parents_view", ClaimKind::String, false, true, "Zienswijze ouders", "Parents' view"))
        .with_validity(90 * DAY);

    let consent = credential_type(
        "consent_receipt",
        "consent-receipt",
        ("Toestemmingsbewijs", "Consent receipt"),
        ("Bewijs van een gegeven toestemming; intrekbaar", "Proof of a consent given; withdrawable"),
    )
    .with_claim(claim("purpose", ClaimKind::String, true, false, "Doel", "Purpose"))
    .with_claim(claim(
        "channel",
        one_of(&["school_guide", "website", "newsletter", "social_media", "class_photo"]),
        true,
        false,
        "Kanaal",
        "Channel",
    ))
    .with_claim(claim(
        "object_digest",
        ClaimKind::Text(TextFormat::Sha256Hex),
        false,
        false,
        "Betreft (bijv. foto)",
        "Concerning (e.g. photo)",
    ))
    .with_claim(claim("subject_id", ClaimKind::Text(TextFormat::Did), true, true, "Over", "About"))
    .with_claim(claim("consented_by", ClaimKind::Text(TextFormat::Did), true, true, "Gegeven door", "Given by"))
    .with_claim(claim(
        "school_year",
        ClaimKind::Text(TextFormat::SchoolYear),
        false,
        false,
        "Schooljaar",
        "School year",
    ))
    .with_claim(claim("valid_until", ClaimKind::Date, true, false, "Geldig tot", "Valid until"))
    .with_status("consent");

    let achievement = credential_type(
        "achievement",
        "achievement",
        ("Prestatie / badge", "Achievement / badge"),
        ("Een behaalde prestatie, zoals een edubadge", "An achievement earned, such as an edubadge"),
    )
    .with_claim(claim("title", ClaimKind::String, true, true, "Titel", "Title"))
    .with_claim(claim("criteria", ClaimKind::String, true, true, "Criteria", "Criteria"))
    .with_claim(claim("achieved_on", ClaimKind::Date, true, true, "Behaald op", "Achieved on"))
    .with_claim(claim("issued_by", ClaimKind::String, false, true, "Uitgegeven door", "Issued by"));

    vec![enrolment, guardianship, results, advice, support, dossier, consent, achievement]
}
