//! The cursor rules of incremental streams.
//!
//! A live AfterShip account changes while a sync reads it, and no listing is in
//! cursor order: a record written after its page was read gets a cursor value
//! later than the moment the read began, yet earlier than values on pages read
//! after it. Saving the newest value seen would skip that write for good. So the
//! saved cursor never passes the moment the read of its partition began, less
//! [`CLOCK_SKEW_MARGIN`] for the clocks of this machine and AfterShip; the next
//! sync asks again for everything changed after that moment. Delivery is at least
//! once (records at or after the cursor are emitted again; primary keys dedupe
//! downstream), and a cursor never moves below the state the sync started from.

use crate::state::Cursor;
use chrono::{DateTime, Duration, Utc};

/// How far this machine's clock may be ahead of AfterShip's (or AfterShip's
/// listings behind its writes) without losing a write.
pub const CLOCK_SKEW_MARGIN: Duration = Duration::minutes(5);

/// The furthest a partition's cursor may move: the moment its first request went
/// out, less the margin, in whole seconds (rounded down).
pub fn ceiling(partition_started: DateTime<Utc>) -> DateTime<Utc> {
    let t = partition_started - CLOCK_SKEW_MARGIN;
    DateTime::<Utc>::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The saved cursor of `store` (or the stream's single cursor); a store the
/// per-store state does not name has the state's fallback, if it has one.
pub fn saved(cursor: &Cursor, store: Option<&str>) -> Option<DateTime<Utc>> {
    match (cursor, store) {
        (Cursor::Single(c), _) => *c,
        (Cursor::PerStore { stores, fallback }, Some(s)) => stores.get(s).copied().or(*fallback),
        (Cursor::PerStore { .. }, None) => None,
    }
}

/// The lowest cursor value a partition emits: the start date, or in incremental
/// mode the saved cursor when it is later (records exactly at it are emitted
/// again: at least once).
pub fn threshold(
    cursor: &Cursor,
    store: Option<&str>,
    start_date: DateTime<Utc>,
    incremental: bool,
) -> DateTime<Utc> {
    match saved(cursor, store).filter(|_| incremental) {
        Some(c) => c.max(start_date),
        None => start_date,
    }
}

/// Move the cursor of `store` towards `to`, but not past `ceiling`, and never back.
pub fn advance(
    cursor: &mut Cursor,
    store: Option<&str>,
    to: DateTime<Utc>,
    ceiling: DateTime<Utc>,
) {
    let to = to.min(ceiling);
    match (cursor, store) {
        (Cursor::Single(c), _) => {
            if c.is_none_or(|old| to > old) {
                *c = Some(to);
            }
        }
        (Cursor::PerStore { stores, fallback }, Some(s)) => {
            // A store first named now starts from the fallback it was read from.
            let e = stores
                .entry(s.to_string())
                .or_insert(fallback.unwrap_or(to));
            if to > *e {
                *e = to;
            }
        }
        (Cursor::PerStore { .. }, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;
    use std::collections::BTreeMap;

    fn t(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    #[test]
    fn the_cursor_never_passes_the_start_of_the_partition_read() {
        let started = t("2026-01-01T12:00:00Z");
        let mut c = Cursor::Single(None);
        // Records seen with values after the read began (written during it).
        advance(&mut c, None, t("2026-01-01T12:30:00Z"), ceiling(started));
        assert_eq!(c, Cursor::Single(Some(t("2026-01-01T11:55:00Z"))));
        assert_eq!(
            ceiling(t("2026-01-01T12:00:00.75Z")),
            t("2026-01-01T11:55:00Z")
        );
        // Older values move it only as far as they go.
        let mut c = Cursor::Single(None);
        advance(&mut c, None, t("2025-06-01T00:00:00Z"), ceiling(started));
        assert_eq!(c, Cursor::Single(Some(t("2025-06-01T00:00:00Z"))));
    }

    #[test]
    fn the_cursor_never_moves_below_the_input_state() {
        let input = t("2099-01-01T00:00:00Z");
        let mut c = Cursor::Single(Some(input));
        advance(
            &mut c,
            None,
            t("2026-01-01T00:00:00Z"),
            ceiling(t("2026-01-02T00:00:00Z")),
        );
        assert_eq!(c, Cursor::Single(Some(input)));
        let mut per = Cursor::PerStore {
            stores: BTreeMap::from([("s1".to_string(), input)]),
            fallback: None,
        };
        advance(
            &mut per,
            Some("s1"),
            t("2026-01-01T00:00:00Z"),
            ceiling(t("2026-01-02T00:00:00Z")),
        );
        advance(
            &mut per,
            Some("s2"),
            t("2026-01-01T00:00:00Z"),
            ceiling(t("2026-01-01T00:02:00Z")),
        );
        assert_eq!(saved(&per, Some("s1")), Some(input));
        assert_eq!(saved(&per, Some("s2")), Some(t("2025-12-31T23:57:00Z")));
        assert_eq!(saved(&per, None), None);
    }

    #[test]
    fn stores_a_state_does_not_name_take_its_fallback() {
        let start = t("2025-01-01T00:00:00Z");
        let named = t("2025-06-01T00:00:00Z");
        let far = t("2099-01-01T00:00:00Z");
        let mut c = Cursor::PerStore {
            stores: BTreeMap::from([("s1".to_string(), named)]),
            fallback: Some(far),
        };
        // A named store keeps its own cursor; any other store has the fallback.
        assert_eq!(saved(&c, Some("s1")), Some(named));
        assert_eq!(saved(&c, Some("s2")), Some(far));
        assert_eq!(saved(&c, None), None);
        assert_eq!(threshold(&c, Some("s1"), start, true), named);
        assert_eq!(threshold(&c, Some("s2"), start, true), far);
        assert_eq!(threshold(&c, Some("s2"), start, false), start);
        // An unnamed store, once read, never moves below the fallback it was read
        // from; the named store moves on its own.
        let ceil = ceiling(t("2026-01-01T00:00:00Z"));
        advance(&mut c, Some("s2"), t("2100-01-01T00:00:00Z"), ceil);
        advance(&mut c, Some("s1"), t("2025-07-01T00:00:00Z"), ceil);
        assert_eq!(saved(&c, Some("s2")), Some(far));
        assert_eq!(saved(&c, Some("s1")), Some(t("2025-07-01T00:00:00Z")));
        // A fallback in the past: an unnamed store moves up from it as usual.
        let mut c = Cursor::PerStore {
            stores: BTreeMap::new(),
            fallback: Some(t("2025-03-01T00:00:00Z")),
        };
        advance(&mut c, Some("s3"), t("2025-04-01T00:00:00Z"), ceil);
        assert_eq!(saved(&c, Some("s3")), Some(t("2025-04-01T00:00:00Z")));
        assert_eq!(saved(&c, Some("s4")), Some(t("2025-03-01T00:00:00Z")));
    }

    #[test]
    fn threshold_is_the_later_of_cursor_and_start_date() {
        let start = t("2025-01-01T00:00:00Z");
        let c = Cursor::Single(Some(t("2025-06-01T00:00:00Z")));
        assert_eq!(threshold(&c, None, start, true), t("2025-06-01T00:00:00Z"));
        assert_eq!(threshold(&c, None, start, false), start);
        let old = Cursor::Single(Some(t("2020-01-01T00:00:00Z")));
        assert_eq!(threshold(&old, None, start, true), start);
        let per = Cursor::per_store();
        assert_eq!(threshold(&per, Some("s9"), start, true), start);
    }
}
