//! Timestamp rendering styles used by the different products, and query-time parsing.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};

/// How a product renders instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsStyle {
    /// `2025-01-02T03:04:05+00:00`
    Plus00,
    /// `2025-01-02T03:04:05Z`
    Zulu,
    /// `2025-01-02T03:04:05.123Z`
    Millis,
    /// The same instant shown at a fixed offset in hours, e.g. `+08:00`.
    Offset(i32),
}

/// `YYYY-MM-DDTHH:MM:SS` of a wall-clock time (hand-rolled: chrono's `format` parses
/// its pattern on every call, which dominated data generation).
fn naive_secs(t: &NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn fmt_ts(dt: DateTime<Utc>, style: TsStyle) -> String {
    let utc = dt.naive_utc();
    match style {
        TsStyle::Plus00 => naive_secs(&utc) + "+00:00",
        TsStyle::Zulu => naive_secs(&utc) + "Z",
        TsStyle::Millis => format!(
            "{}.{:03}Z",
            naive_secs(&utc),
            dt.timestamp_subsec_millis().min(999)
        ),
        TsStyle::Offset(h) => {
            let local = utc + Duration::hours(h as i64);
            let sign = if h < 0 { '-' } else { '+' };
            format!("{}{sign}{:02}:00", naive_secs(&local), h.unsigned_abs())
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` without a zone (some carriers send that).
pub fn fmt_naive(dt: DateTime<Utc>) -> String {
    naive_secs(&dt.naive_utc())
}

/// `YYYY-MM-DD` of an instant.
pub fn fmt_date(dt: DateTime<Utc>) -> String {
    let d = dt.naive_utc();
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Parse a query-string date-time: RFC 3339 with an offset or `Z`. An unencoded `+`
/// arrives as a space and is rejected, as the real API documents that it must be `%2B`.
pub fn parse_query_ts(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

/// The pattern the Tracking API reference gives for its date filters
/// (`created_at_min/max`, `updated_at_min/max`), as shown in error messages.
pub const TRACKING_TS_PATTERN: &str = "YYYY-MM-DDTHH:mm:ss±HH:MM";

/// Parse a Tracking date filter, strictly as documented: exactly
/// `YYYY-MM-DDTHH:mm:ss+HH:MM` or `…-HH:MM` (regex
/// `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$`) and a real date and time.
/// `Z`, `+0000`, fractional seconds, a bare date and an unencoded `+` (which arrives as
/// a space) do not match. Seconds run 00–59 (the pattern's `ss`; no leap second), the
/// offset up to ±23:59.
pub fn parse_tracking_ts(raw: &str) -> Option<DateTime<Utc>> {
    let b = raw.as_bytes();
    if b.len() != 25 {
        return None;
    }
    let shape = b.iter().enumerate().all(|(i, &c)| match i {
        4 | 7 => c == b'-',
        10 => c == b'T',
        13 | 16 | 22 => c == b':',
        19 => c == b'+' || c == b'-',
        _ => c.is_ascii_digit(),
    });
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    if !shape || two(17) > 59 || two(20) > 23 || two(23) > 59 {
        return None;
    }
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

/// Parse a timestamp the sandbox wrote itself (any of the styles above).
pub fn parse_any(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn tracking_filters_match_the_documented_pattern_only() {
        let want = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(parse_tracking_ts("2024-01-02T11:04:05+08:00"), Some(want));
        assert_eq!(parse_tracking_ts("2024-01-01T22:04:05-05:00"), Some(want));
        assert_eq!(parse_tracking_ts("2024-01-02T03:04:05+00:00"), Some(want));
        for bad in [
            "2024-01-02T03:04:05Z",
            "2024-01-02T03:04:05+0000",
            "2024-01-02T03:04:05.000+00:00",
            "2024-01-02T03:04:05.5Z",
            "2024-01-02",
            "2024-01-02T03:04:05 08:00",
            "2024-01-02 03:04:05+08:00",
            "2024-01-02t03:04:05+08:00",
            "2024-02-30T03:04:05+00:00",
            "2024-13-01T03:04:05+00:00",
            "2024-01-02T24:04:05+00:00",
            "2024-01-02T03:60:05+00:00",
            "2016-12-31T23:59:60+00:00",
            "2024-01-02T03:04:05+24:00",
            "2024-01-02T03:04:05+08:60",
            "２024-01-02T03:04:05+08:00",
            "+2024-01-02T03:04:05+08:00",
            "",
        ] {
            assert_eq!(parse_tracking_ts(bad), None, "{bad}");
        }
    }

    #[test]
    fn styles() {
        let t = Utc.with_ymd_and_hms(2025, 1, 2, 20, 4, 5).unwrap() + Duration::milliseconds(7);
        assert_eq!(fmt_ts(t, TsStyle::Plus00), "2025-01-02T20:04:05+00:00");
        assert_eq!(fmt_ts(t, TsStyle::Zulu), "2025-01-02T20:04:05Z");
        assert_eq!(fmt_ts(t, TsStyle::Millis), "2025-01-02T20:04:05.007Z");
        assert_eq!(fmt_ts(t, TsStyle::Offset(8)), "2025-01-03T04:04:05+08:00");
        assert_eq!(fmt_ts(t, TsStyle::Offset(-5)), "2025-01-02T15:04:05-05:00");
        assert_eq!(fmt_date(t), "2025-01-02");
        assert_eq!(fmt_naive(t), "2025-01-02T20:04:05");
        for st in [
            TsStyle::Plus00,
            TsStyle::Zulu,
            TsStyle::Millis,
            TsStyle::Offset(8),
            TsStyle::Offset(-5),
        ] {
            assert_eq!(
                parse_any(&fmt_ts(t, st)).unwrap().timestamp(),
                t.timestamp()
            );
        }
    }
}
