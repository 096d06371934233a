//! Cursor values are instants: parsed from RFC 3339 with any offset and compared
//! as points in time, never as strings.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// Parse an AfterShip timestamp: RFC 3339 with `Z` or any offset (also `+0000`
/// style offsets and a space instead of `T`). Returns None for anything else.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    None
}

/// Lenient parse for the user's start date and stored cursors: RFC 3339, or a
/// zone-less date-time / plain date taken as UTC.
pub fn parse_instant_lenient(s: &str) -> Option<DateTime<Utc>> {
    parse_instant(s)
        .or_else(|| {
            NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        })
}

/// Canonical form for state: UTC with `Z`, sub-second digits only when present.
pub fn format_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Form for API filter parameters: whole seconds, rounded down (so a filter never
/// moves past a record it should include), UTC written as `+00:00`. Tracking
/// documents its date filters as `YYYY-MM-DDTHH:mm:ss+HH:MM` (every example has an
/// offset; a `Z` does not match the pattern), and the other APIs accept an offset
/// too; the query encoding sends the `+` as `%2B`.
pub fn format_filter(t: DateTime<Utc>) -> String {
    let secs = t.timestamp();
    let whole = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(t);
    format!("{}+00:00", whole.format("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_offsets_as_instants() {
        let a = parse_instant("2025-01-01T08:00:00+08:00").unwrap();
        let b = parse_instant("2025-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        let c = parse_instant("2025-01-01T00:00:01.5+00:00").unwrap();
        assert!(c > b);
        assert!(parse_instant("2025-01-01T00:00:00+0000").is_some());
        assert!(parse_instant("yesterday").is_none());
        assert!(parse_instant("").is_none());
    }

    #[test]
    fn filters_round_down_to_seconds() {
        let t = parse_instant("2025-01-01T00:00:01.9Z").unwrap();
        assert_eq!(format_filter(t), "2025-01-01T00:00:01+00:00");
        assert_eq!(format_instant(t), "2025-01-01T00:00:01.900Z");
    }
}
