//! Calendar dates (`YYYY-MM-DD`) for birth dates, `valid_until` and the age of consent.
//!
//! Credentials carry dates as ISO 8601 calendar dates; clocks in this crate are Unix seconds.
//! [`CalendarDate`] converts between the two in UTC (the proleptic Gregorian calendar) and
//! answers the one question the consent rule needs: how old is someone on a given day.
//!
//! ```
//! use schooltas_school::date::CalendarDate;
//!
//! let birth = CalendarDate::parse("2012-02-29")?;
//! // Someone born on 29 February has their birthday on 1 March in other years.
//! assert_eq!(birth.anniversary(16).to_string(), "2028-02-29");
//! assert_eq!(birth.anniversary(15).to_string(), "2027-03-01");
//! assert_eq!(birth.age_on(CalendarDate::parse("2027-02-28")?), 14);
//! assert_eq!(birth.age_on(CalendarDate::parse("2027-03-01")?), 15);
//! assert_eq!(CalendarDate::from_unix(1_800_000_000).to_string(), "2027-01-15");
//! # Ok::<(), schooltas_school::date::DateError>(())
//! ```

use std::fmt;

/// The earliest year accepted.
pub const MIN_YEAR: i32 = 1900;
/// The latest year accepted.
pub const MAX_YEAR: i32 = 2199;

const SECONDS_PER_DAY: i64 = 86_400;

/// A text that is not a real calendar date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a calendar date YYYY-MM-DD between {MIN_YEAR} and {MAX_YEAR}")]
pub struct DateError;

/// A real calendar date between [`MIN_YEAR`] and [`MAX_YEAR`]; ordered chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: i32,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// A date from its parts, if it exists.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return Err(DateError);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DateError);
        }
        Ok(CalendarDate { year, month, day })
    }

    /// Parses `YYYY-MM-DD` exactly (no time, no zone, two-digit month and day).
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(DateError);
        }
        let digits = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = text.get(range).ok_or(DateError)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DateError);
            }
            part.parse().map_err(|_| DateError)
        };
        let year = i32::try_from(digits(0..4)?).map_err(|_| DateError)?;
        let month = u8::try_from(digits(5..7)?).map_err(|_| DateError)?;
        let day = u8::try_from(digits(8..10)?).map_err(|_| DateError)?;
        Self::new(year, month, day)
    }

    /// The UTC date of a Unix time, clamped to the accepted years.
    pub fn from_unix(seconds: i64) -> Self {
        let days = seconds.div_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        if year < MIN_YEAR {
            return CalendarDate { year: MIN_YEAR, month: 1, day: 1 };
        }
        if year > MAX_YEAR {
            return CalendarDate { year: MAX_YEAR, month: 12, day: 31 };
        }
        CalendarDate { year, month, day }
    }

    /// The Unix time of 00:00:00 UTC on this date.
    pub fn to_unix(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * SECONDS_PER_DAY
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The day someone born on this date turns `years` old. A 29 February birthday falls on
    /// 1 March in a year without one (the later of the two customs, so a parent's authority is
    /// never cut short by a day). Clamped to [`MAX_YEAR`].
    pub fn anniversary(self, years: u32) -> CalendarDate {
        let year = i32::try_from(years).map_or(MAX_YEAR, |y| self.year.saturating_add(y)).min(MAX_YEAR);
        if self.month == 2 && self.day == 29 && days_in_month(year, 2) < 29 {
            return CalendarDate { year, month: 3, day: 1 };
        }
        CalendarDate { year, month: self.month, day: self.day }
    }

    /// How old (in whole years) someone born on this date is on `today`; 0 before birth.
    pub fn age_on(self, today: CalendarDate) -> u32 {
        if today < self {
            return 0;
        }
        let mut age = u32::try_from(today.year - self.year).unwrap_or(0);
        while age > 0 && self.anniversary(age) > today {
            age -= 1;
        }
        age
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for CalendarDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CalendarDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CalendarDate::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for CalendarDate {
    type Err = DateError;
    fn from_str(text: &str) -> Result<Self, DateError> {
        Self::parse(text)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (an era-based count of 400-year cycles).
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a count of days since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let clamp = |v: i64| i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX });
    (clamp(year), u8::try_from(month).unwrap_or(1), u8::try_from(day).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_round_trip_over_three_centuries() {
        let mut seconds = CalendarDate::new(1900, 1, 1).map(CalendarDate::to_unix).unwrap_or_default();
        let end = CalendarDate::new(2199, 12, 31).map(CalendarDate::to_unix).unwrap_or_default();
        let mut previous: Option<CalendarDate> = None;
        while seconds <= end {
            let date = CalendarDate::from_unix(seconds);
            assert_eq!(date.to_unix(), seconds);
            assert_eq!(CalendarDate::parse(&date.to_string()), Ok(date));
            if let Some(previous) = previous {
                assert!(previous < date);
            }
            previous = Some(date);
            seconds += SECONDS_PER_DAY;
        }
        assert_eq!(previous.map(|d| d.to_string()), Some("2199-12-31".to_owned()));
    }

    #[test]
    fn known_dates() {
        assert_eq!(CalendarDate::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(CalendarDate::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(CalendarDate::from_unix(1_800_000_000 - 1).to_string(), "2027-01-15");
        assert_eq!(CalendarDate::from_unix(-1).to_string(), "1969-12-31");
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for text in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "24-01-01",
            "2024-1-01",
            "2024-01-01T00:00",
            "+024-01-01",
            "1899-12-31",
            "2200-01-01",
            "２０２４-01-01",
            "",
        ] {
            assert_eq!(CalendarDate::parse(text), Err(DateError), "{text}");
        }
        assert!(CalendarDate::parse("2000-02-29").is_ok());
    }

    #[test]
    fn age_turns_on_the_birthday() {
        let birth = CalendarDate::parse("2010-06-15").unwrap_or(CalendarDate { year: 1900, month: 1, day: 1 });
        let on = |text: &str| birth.age_on(CalendarDate::parse(text).unwrap_or(birth));
        assert_eq!(on("2026-06-14"), 15);
        assert_eq!(on("2026-06-15"), 16);
        assert_eq!(on("2010-06-15"), 0);
        assert_eq!(on("2011-06-14"), 0);
        assert_eq!(birth.age_on(CalendarDate { year: 2000, month: 1, day: 1 }), 0);
    }
}
