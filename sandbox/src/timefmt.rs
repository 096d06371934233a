//! Timestamp rendering styles used by the different products, and query-time parsing.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

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

pub fn fmt_ts(dt: DateTime<Utc>, style: TsStyle) -> String {
    match style {
        TsStyle::Plus00 => dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        TsStyle::Zulu => dt.to_rfc3339_opts(SecondsFormat::Secs, true),
        TsStyle::Millis => dt.to_rfc3339_opts(SecondsFormat::Millis, true),
        TsStyle::Offset(h) => match FixedOffset::east_opt(h * 3600) {
            Some(off) => dt
                .with_timezone(&off)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            None => dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        },
    }
}

/// `YYYY-MM-DD` of an instant.
pub fn fmt_date(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d").to_string()
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
