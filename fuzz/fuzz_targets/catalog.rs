//! The credential catalog's claim validation (an issuer checks the claims a school system
//! hands it before signing; the wallet checks what it receives): unknown claims, required
//! claims, kinds of values, nested objects and arrays; and calendar dates (`birth_date`,
//! `valid_until`).
//!
//! The input is a JSON object of claims, validated against every standard credential type;
//! it is also tried as a calendar date, and its first 12 bytes as a Unix time and a number of
//! years for the date arithmetic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schooltas_school::catalog::Catalog;
use schooltas_school::date::CalendarDate;

fuzz_target!(|data: &[u8]| {
    // Date arithmetic on outside numbers (a credential's `exp`, an age threshold).
    if let (Some(seconds), Some(years)) = (data.get(..8), data.get(8..12)) {
        let seconds = i64::from_le_bytes(seconds.try_into().unwrap_or_default());
        let years = u32::from_le_bytes(years.try_into().unwrap_or_default());
        let date = CalendarDate::from_unix(seconds);
        let later = date.anniversary(years);
        let _ = (date.to_unix(), later.to_unix(), date.age_on(later), later.age_on(date), date.to_string());
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(date) = CalendarDate::parse(text) {
        let again = CalendarDate::parse(&date.to_string());
        assert!(again.is_ok_and(|again| again == date), "a calendar date does not round-trip");
    }
    let Ok(serde_json::Value::Object(claims)) = serde_json::from_str::<serde_json::Value>(text) else { return };
    for credential_type in catalog().iter() {
        if let Err(e) = credential_type.validate(&claims) {
            let _ = e.to_string();
        }
    }
});

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(Catalog::standard)
}
