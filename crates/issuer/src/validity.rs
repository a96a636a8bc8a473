//! The disclosed validity of a representation credential (guardianship): coarse enough that it
//! says (almost) nothing about the child (issue 12 item 8).
//!
//! Every guardian approval discloses the guardianship's `valid_until` (it is one of the
//! always-visible [`REPRESENTATION_CLAIMS`]). If that were the end of the parent's authority
//! — for consent, the child's 16th birthday — every approval would tell each verifier the
//! child's birth date, and would carry the same value in every approval the parent gives.
//!
//! ## The rule
//! The administration states when the authority ends (`valid_until`: for consent the 16th
//! birthday, or an earlier date set by a court), and may give `child_birth_date`. Let `E` be
//! the earlier of that date and, when the birth date is given, the 16th birthday
//! ([`CalendarDate::anniversary`]). Every copy then discloses
//!
//! ```text
//! valid_until = min( 31 July of the current school year,
//!                    the last day of the month before the month of E )
//! ```
//!
//! and its `exp` lies in the last 24 hours of that day at the latest (never later: see
//! [`copy_lifetime`]). So
//! - a child whose authority ends after this school year (every primary-school pupil, and most
//!   others) discloses 31 July — the same value as every other guardianship issued in that
//!   school year, by any school;
//! - a child turning 16 during the school year discloses only the month before the birthday
//!   month: the anonymity set is every child turning 16 in that month;
//! - the authority disclosed never extends past `E`, whether `E` is read as the last day of the
//!   authority or as the first day without it: the disclosed day always lies in an earlier
//!   month.
//!
//! ## The cost
//! In the final days before the 16th birthday — from the 1st of the birthday's month (at most
//! 31 days) — no guardianship copy is valid, and the school refuses to issue one
//! ([`crate::Error::RepresentationEnded`]). Consent requests in that window go without the
//! parent's approval and wait until the young person decides alone at 16 (DOMAIN: from 16 the
//! young person decides). Guardianships must be re-issued every August (as the child links
//! already require, see [`crate::child_link`]).
//!
//! The exact end of the authority is kept only where it is needed and never disclosed: in the
//! guardianship's selectively disclosable `child_birth_date` (which a guardian approval never
//! discloses) and in the child's own wallet (its role carries the birth date).
//!
//! [`REPRESENTATION_CLAIMS`]: schooltas_school::catalog::REPRESENTATION_CLAIMS

use schooltas_school::date::CalendarDate;

/// One day in seconds.
const DAY: i64 = 86_400;

/// The age at which parental authority for consent ends (UAVG art. 5, GDPR art. 8).
pub const AGE_OF_CONSENT: u32 = 16;

/// The last day of the Dutch school year `now` falls in (school years start on 1 August).
pub fn school_year_end(now: i64) -> CalendarDate {
    let today = CalendarDate::from_unix(now);
    let year = if today.month() >= 8 { today.year().saturating_add(1) } else { today.year() };
    // 31 July exists in every year; `new` fails only past MAX_YEAR, and then `today` is the
    // safe (earlier) bound.
    CalendarDate::new(year, 7, 31).unwrap_or(today)
}

/// The last day of the month before the month of `date`.
pub fn end_of_previous_month(date: CalendarDate) -> CalendarDate {
    // The 1st of `date`'s month always exists; the day before it is the previous month's end.
    match CalendarDate::new(date.year(), date.month(), 1) {
        Ok(first) => CalendarDate::from_unix(first.to_unix().saturating_sub(DAY)),
        Err(_) => CalendarDate::from_unix(date.to_unix().saturating_sub(31 * DAY)),
    }
}

/// The `valid_until` every copy of a guardianship discloses (see the module docs): the
/// administration's end of authority `stated`, capped by the 16th birthday when the birth
/// date is known, rounded down to the end of the previous month and to the end of the school
/// year. `None` when that day is already past: the authority is (for the wallet) over.
pub fn disclosed_valid_until(
    stated: CalendarDate,
    child_birth_date: Option<CalendarDate>,
    now: i64,
) -> Option<CalendarDate> {
    let end = match child_birth_date {
        Some(birth) => stated.min(birth.anniversary(AGE_OF_CONSENT)),
        None => stated,
    };
    let disclosed = end_of_previous_month(end).min(school_year_end(now));
    (disclosed >= CalendarDate::from_unix(now)).then_some(disclosed)
}

/// The validity (seconds from `now`) a copy disclosing `valid_until` may have: until the end of
/// that day at the latest (`exp` never says more than `valid_until`), and not longer than the
/// type's own `validity`. Fed to [`crate::child_link::jittered_times`], each copy's `exp` then
/// falls in the last (at most) 24 hours of that window, so copies are not linked by it either.
pub fn copy_lifetime(valid_until: CalendarDate, validity: Option<u64>, now: i64) -> u64 {
    let until_end_of_day = valid_until.to_unix().saturating_add(DAY).saturating_sub(now).max(1);
    let until_end_of_day = u64::try_from(until_end_of_day).unwrap_or(1);
    validity.map_or(until_end_of_day, |seconds| seconds.min(until_end_of_day))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn date(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    fn at(text: &str) -> i64 {
        date(text).to_unix() + 12 * 3600
    }

    #[test]
    fn children_far_from_sixteen_all_disclose_the_end_of_the_school_year() {
        let now = at("2027-01-15");
        for birth in ["2014-09-01", "2015-03-17", "2011-08-31", "2011-09-30"] {
            let birth = date(birth);
            let disclosed = disclosed_valid_until(birth.anniversary(16), Some(birth), now).unwrap();
            assert_eq!(disclosed, date("2027-07-31"), "{birth}");
        }
        // In August the next school year counts.
        assert_eq!(school_year_end(at("2027-08-01")), date("2028-07-31"));
        assert_eq!(school_year_end(at("2027-07-31")), date("2027-07-31"));
    }

    #[test]
    fn a_child_turning_sixteen_this_year_discloses_only_the_month_before() {
        let now = at("2027-01-15");
        for (birth, disclosed) in [
            ("2011-03-17", "2027-02-28"),
            ("2011-03-01", "2027-02-28"),
            ("2011-03-31", "2027-02-28"),
            ("2011-07-31", "2027-06-30"),
            ("2011-02-01", "2027-01-31"),
        ] {
            let birth = date(birth);
            assert_eq!(disclosed_valid_until(birth.anniversary(16), Some(birth), now), Some(date(disclosed)));
            // Never past the birthday, read either way.
            assert!(date(disclosed) < birth.anniversary(16));
        }
        // 29 February: the birthday is 1 March in 2027; the previous month is February.
        let leap = date("2012-02-29");
        let now = at("2028-01-10");
        assert_eq!(disclosed_valid_until(leap.anniversary(16), Some(leap), now), Some(date("2028-01-31")));
    }

    #[test]
    fn the_birth_date_caps_a_later_stated_end_and_a_court_date_caps_the_birthday() {
        let now = at("2027-01-15");
        let birth = date("2011-05-10");
        // The administration wrote the 18th birthday: the 16th still bounds consent.
        assert_eq!(disclosed_valid_until(birth.anniversary(18), Some(birth), now), Some(date("2027-04-30")));
        // A court ended the authority on 3 March: rounded down to the end of February.
        assert_eq!(disclosed_valid_until(date("2027-03-03"), Some(birth), now), Some(date("2027-02-28")));
        // Without a birth date, the stated end alone.
        assert_eq!(disclosed_valid_until(date("2027-03-03"), None, now), Some(date("2027-02-28")));
    }

    #[test]
    fn in_the_final_weeks_before_sixteen_no_copy_is_valid() {
        let birth = date("2011-03-17");
        let sixteenth = birth.anniversary(16);
        assert_eq!(disclosed_valid_until(sixteenth, Some(birth), at("2027-02-28")), Some(date("2027-02-28")));
        assert_eq!(disclosed_valid_until(sixteenth, Some(birth), at("2027-03-01")), None);
        assert_eq!(disclosed_valid_until(sixteenth, Some(birth), at("2027-03-16")), None);
        assert_eq!(disclosed_valid_until(sixteenth, Some(birth), at("2027-03-17")), None);
        // A new year of January birthdays: the end of December.
        let january = date("2011-01-05");
        assert_eq!(end_of_previous_month(january.anniversary(16)), date("2026-12-31"));
    }

    #[test]
    fn a_copy_never_outlives_the_disclosed_day() {
        let now = at("2027-07-31"); // noon on the last day
        assert_eq!(copy_lifetime(date("2027-07-31"), None, now), 12 * 3600);
        assert_eq!(copy_lifetime(date("2027-07-31"), Some(3600), now), 3600);
        let now = at("2027-01-15");
        let lifetime = copy_lifetime(date("2027-07-31"), None, now);
        assert_eq!(now + i64::try_from(lifetime).unwrap(), date("2027-08-01").to_unix());
        for _ in 0..500 {
            let (_, exp) = crate::child_link::jittered_times(now, Some(lifetime));
            let exp = exp.unwrap();
            assert!(exp <= date("2027-08-01").to_unix() && exp > date("2027-07-31").to_unix());
        }
    }
}
