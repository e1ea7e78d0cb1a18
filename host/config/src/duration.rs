//! Durations as the config writes them: a decimal number and a unit, such as
//! `"10ms"`, `"1s"`, `"1.5s"`, `"40.95s"`, `"2m"`, `"100us"`.
//!
//! Parsing is exact decimal arithmetic on integers (no floating point), so
//! `"40.95s"` is exactly 40 950 ms and `"0.1s"` exactly 100 ms. A unit is
//! always required: a bare `"1"` is refused rather than guessed.

use std::fmt;
use std::time::Duration;

/// The units accepted, smallest first, with their length in nanoseconds.
pub const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The unit list as shown in messages.
const UNIT_LIST: &str = "us, ms, s, m, h";

/// Why a duration string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    /// Digits only: `"1"`.
    NoUnit(String),
    /// A unit without a number: `"s"`.
    NoNumber(String),
    UnknownUnit {
        text: String,
        unit: String,
    },
    /// `"1.2.3s"`, `"1.s"`, `".5s"`, `"1e3s"`.
    BadNumber(String),
    Negative(String),
    /// More decimals than whole nanoseconds: `"1.0000000001s"`.
    TooPrecise(String),
    TooLarge(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => write!(f, "empty duration: write a number and a unit, e.g. \"1s\""),
            DurationError::NoUnit(t) => write!(f, "\"{t}\" needs a unit ({UNIT_LIST}), e.g. \"{t}s\""),
            DurationError::NoNumber(t) => write!(f, "\"{t}\" has no number before its unit"),
            DurationError::UnknownUnit { text, unit } => {
                write!(f, "\"{text}\": unknown unit `{unit}` (use {UNIT_LIST})")
            }
            DurationError::BadNumber(t) => {
                write!(
                    f,
                    "\"{t}\" is not a decimal number followed by a unit, e.g. \"1.5s\""
                )
            }
            DurationError::Negative(t) => write!(f, "\"{t}\": a duration cannot be negative"),
            DurationError::TooPrecise(t) => write!(f, "\"{t}\" is finer than a nanosecond"),
            DurationError::TooLarge(t) => write!(f, "\"{t}\" is too large"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses `NUMBER UNIT` (no space needed, none allowed inside the number).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let owned = || s.to_string();
    if s.starts_with('-') {
        return Err(DurationError::Negative(owned()));
    }
    let s_num = s.strip_prefix('+').unwrap_or(s);
    let num_end = s_num
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s_num.len());
    let (number, unit) = s_num.split_at(num_end);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(DurationError::NoNumber(owned()));
    }
    if unit.is_empty() {
        return Err(if number.chars().all(|c| c.is_ascii_digit() || c == '.') {
            DurationError::NoUnit(owned())
        } else {
            DurationError::BadNumber(owned())
        });
    }
    let Some(&(_, unit_ns)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        // "1e3s", "1.5 s x": the unit holds more than letters.
        if !unit.chars().all(char::is_alphabetic) {
            return Err(DurationError::BadNumber(owned()));
        }
        return Err(DurationError::UnknownUnit {
            text: owned(),
            unit: unit.to_string(),
        });
    };
    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    let valid_digits = |d: &str| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit());
    if !valid_digits(int_part) || number.contains('.') && !valid_digits(frac_part) {
        return Err(DurationError::BadNumber(owned()));
    }
    let too_large = || DurationError::TooLarge(owned());
    let whole: u128 = int_part.parse().map_err(|_| too_large())?;
    let mut nanos = whole.checked_mul(unit_ns).ok_or_else(too_large)?;
    // The fraction: frac / 10^len of one unit, which must be whole nanoseconds.
    let frac_digits = frac_part.trim_end_matches('0');
    if !frac_digits.is_empty() {
        let len = u32::try_from(frac_digits.len()).map_err(|_| DurationError::TooPrecise(owned()))?;
        let scale = 10u128
            .checked_pow(len)
            .ok_or_else(|| DurationError::TooPrecise(owned()))?;
        let frac: u128 = frac_digits
            .parse()
            .map_err(|_| DurationError::TooPrecise(owned()))?;
        let scaled = frac
            .checked_mul(unit_ns)
            .ok_or_else(|| DurationError::TooPrecise(owned()))?;
        if scaled % scale != 0 {
            return Err(DurationError::TooPrecise(owned()));
        }
        nanos = nanos.checked_add(scaled / scale).ok_or_else(too_large)?;
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| too_large())?;
    let sub = u32::try_from(nanos % 1_000_000_000).map_err(|_| too_large())?;
    Ok(Duration::new(secs, sub))
}

/// Formats a duration the way the config writes it: the shortest exact form
/// among `"2h"`, `"2m"`, `"1.5s"`, `"40.95s"`, `"10ms"`, `"100us"`, `"1ns"`.
/// `parse_duration(&format_duration(d)) == Ok(d)` for every `d`.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    const S: u128 = 1_000_000_000;
    if nanos.is_multiple_of(S) {
        let secs = nanos / S;
        return if secs.is_multiple_of(3600) {
            format!("{}h", secs / 3600)
        } else if secs.is_multiple_of(60) {
            format!("{}m", secs / 60)
        } else {
            format!("{secs}s")
        };
    }
    if nanos < S {
        if nanos.is_multiple_of(1_000_000) {
            return format!("{}ms", nanos / 1_000_000);
        }
        if nanos.is_multiple_of(1_000) {
            return format!("{}us", nanos / 1_000);
        }
        return format!("{nanos}ns");
    }
    let frac = format!("{:09}", nanos % S);
    format!("{}.{}s", nanos / S, frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("10ms"), Ok(ms(10)));
        assert_eq!(parse_duration("1s"), Ok(ms(1000)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("40.95s"), Ok(ms(40_950)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("100us"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("100µs"), Ok(Duration::from_micros(100)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 1s "), Ok(ms(1000)));
        assert_eq!(parse_duration("1 s"), Ok(ms(1000)));
    }

    #[test]
    fn decimals_are_exact() {
        // As floats, 0.1 + 0.2 style rounding would give 40.949999...s.
        assert_eq!(parse_duration("40.95s").map(|d| d.as_nanos()), Ok(40_950_000_000));
        assert_eq!(parse_duration("0.1s"), Ok(ms(100)));
        assert_eq!(parse_duration("0.01s"), Ok(ms(10)));
        assert_eq!(parse_duration("1.10s"), Ok(ms(1100)));
        assert_eq!(parse_duration("0.5ms"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(parse_duration("1.000000000000s"), Ok(ms(1000)));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        assert_eq!(parse_duration("1"), Err(DurationError::NoUnit("1".into())));
        assert_eq!(parse_duration("1.5"), Err(DurationError::NoUnit("1.5".into())));
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(parse_duration("s"), Err(DurationError::NoNumber("s".into())));
        assert_eq!(parse_duration("-1s"), Err(DurationError::Negative("-1s".into())));
        assert_eq!(
            parse_duration("1sec"),
            Err(DurationError::UnknownUnit {
                text: "1sec".into(),
                unit: "sec".into()
            })
        );
        assert_eq!(
            parse_duration("1.2.3s"),
            Err(DurationError::BadNumber("1.2.3s".into()))
        );
        assert_eq!(parse_duration(".5s"), Err(DurationError::BadNumber(".5s".into())));
        assert_eq!(parse_duration("1.s"), Err(DurationError::BadNumber("1.s".into())));
        assert_eq!(
            parse_duration("1e3s"),
            Err(DurationError::BadNumber("1e3s".into()))
        );
        assert_eq!(parse_duration("1s5"), Err(DurationError::BadNumber("1s5".into())));
        assert_eq!(
            parse_duration("1.0000000001s"),
            Err(DurationError::TooPrecise("1.0000000001s".into()))
        );
        assert!(matches!(
            parse_duration("99999999999999999999999999999999999999999h"),
            Err(DurationError::TooLarge(_))
        ));
    }

    #[test]
    fn messages_name_the_text() {
        let e = parse_duration("1").expect_err("no unit");
        assert_eq!(e.to_string(), "\"1\" needs a unit (us, ms, s, m, h), e.g. \"1s\"");
        let e = parse_duration("3 secs").expect_err("bad unit");
        assert_eq!(
            e.to_string(),
            "\"3 secs\": unknown unit `secs` (use us, ms, s, m, h)"
        );
    }

    #[test]
    fn formats_round_trip() {
        for (d, s) in [
            (Duration::ZERO, "0s"),
            (ms(10), "10ms"),
            (ms(1000), "1s"),
            (ms(1500), "1.5s"),
            (ms(40_950), "40.95s"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(120), "2m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_micros(100), "100us"),
            (Duration::from_nanos(3), "3ns"),
            (Duration::new(1, 1), "1.000000001s"),
        ] {
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(s), Ok(d));
        }
    }
}
