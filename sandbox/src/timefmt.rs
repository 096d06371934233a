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
