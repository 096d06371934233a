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

use crate::state::{Cursor, Place, Progress, Reached, Resume};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

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
        (Cursor::PerStore { stores, fallback }, Some(s)) => {
            stores.get(s).and_then(|st| st.cursor).or(*fallback)
        }
        (Cursor::PerStore { .. }, None) | (Cursor::Resume(_), _) => None,
    }
}

/// When the last whole walk of `store` began (None: never, or not per store).
pub fn walked(cursor: &Cursor, store: Option<&str>) -> Option<DateTime<Utc>> {
    match (cursor, store) {
        (Cursor::PerStore { stores, .. }, Some(s)) => stores.get(s).and_then(|st| st.walked),
        _ => None,
    }
}

/// Whether an incremental read of `store` walks its whole list (both creation
/// orders) instead of stopping at the cursor: on its first read, and once its
/// last whole walk began `every` ago or more. A single-cursor stream keeps no
/// walk time and never reconciles; `every` zero walks every time.
pub fn walk_due(cursor: &Cursor, store: Option<&str>, now: DateTime<Utc>, every: Duration) -> bool {
    if saved(cursor, store).is_none() {
        return true;
    }
    match (cursor, walked(cursor, store)) {
        (Cursor::Single(_) | Cursor::Resume(_), _) => false,
        (Cursor::PerStore { .. }, None) => true,
        (Cursor::PerStore { .. }, Some(w)) => now - w >= every,
    }
}

/// Where an earlier walk of `store` stopped part way, if it did.
pub fn progress<'c>(cursor: &'c Cursor, store: Option<&str>) -> Option<&'c Progress> {
    match (cursor, store) {
        (Cursor::PerStore { stores, .. }, Some(s)) => {
            stores.get(s).and_then(|st| st.progress.as_ref())
        }
        _ => None,
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
/// The one place a cursor moves.
pub fn advance(
    cursor: &mut Cursor,
    store: Option<&str>,
    to: DateTime<Utc>,
    ceiling: DateTime<Utc>,
) {
    let to = to.min(ceiling);
    let slot = match (cursor, store) {
        (Cursor::Single(c), _) => c,
        (Cursor::PerStore { stores, fallback }, Some(s)) => {
            let slot = &mut stores.entry(s.to_string()).or_default().cursor;
            // A store first named now starts from the fallback it was read from.
            if slot.is_none() {
                *slot = *fallback;
            }
            slot
        }
        (Cursor::PerStore { .. }, None) | (Cursor::Resume(_), _) => return,
    };
    if slot.is_none_or(|old| to > old) {
        *slot = Some(to);
    }
}

/// How far an earlier attempt of a resumable full refresh got in the partition
/// with these fields: None to read it from its start.
pub fn reached<'c>(
    cursor: &'c Cursor,
    partition: &BTreeMap<String, String>,
) -> Option<&'c Reached> {
    match cursor {
        Cursor::Resume(r) => r.parts.get(&Resume::key(partition)),
        _ => None,
    }
}

/// A resumable full refresh emitted every record of its partition `partition`
/// up to `place` (None: all of them). The one place a full refresh's position
/// moves; a partition done stays done.
pub fn reach(cursor: &mut Cursor, partition: &BTreeMap<String, String>, place: Option<Place>) {
    let Cursor::Resume(r) = cursor else { return };
    let key = Resume::key(partition);
    if let Some(Reached::Done { .. }) = r.parts.get(&key) {
        return;
    }
    let partition = partition.clone();
    let to = match place {
        Some(place) => Reached::At { partition, place },
        None => Reached::Done { partition },
    };
    r.parts.insert(key, to);
}

/// A resumable full refresh read its stream to the end: the next read reads it
/// in full again.
pub fn complete(cursor: &mut Cursor) {
    if let Cursor::Resume(r) = cursor {
        *r = Resume {
            parts: BTreeMap::new(),
            complete: true,
        };
    }
}

/// The checkpoint bookkeeping of one cursor group: the records of one store (one
/// outer parent), or of the whole stream.
#[derive(Debug, Clone)]
pub struct Group {
    pub store: Option<String>,
    /// When the group's read began, or the walk it resumes: the cursor never
    /// passes it (less the margin).
    pub started: DateTime<Utc>,
    /// The lowest cursor value this group emits (None: the stream has no cursor).
    pub threshold: Option<DateTime<Utc>>,
    /// The newest plausible cursor value emitted in this group.
    pub seen: Option<DateTime<Utc>>,
    /// The newest value seen in the window being read.
    pub window_seen: Option<DateTime<Utc>>,
    /// Parents whose key sorts at or before this were done by the walk resumed.
    pub after: Option<String>,
    /// This read walks the group's whole sorted list (a first read, a full
    /// refresh, or a reconcile that is due), not only down to the cursor.
    pub whole: bool,
}

impl Group {
    /// A group whose read begins now, or resumes the walk `cursor` saved for it.
    pub fn new(
        cursor: &Cursor,
        store: Option<&str>,
        threshold: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Group {
        let resumed = progress(cursor, store);
        Group {
            store: store.map(str::to_string),
            started: resumed.map_or(now, |p| p.started.min(now)),
            threshold,
            seen: resumed.and_then(|p| p.seen),
            window_seen: None,
            after: resumed.map(|p| p.after.clone()),
            whole: true,
        }
    }

    /// A whole walk of the group ended complete: save when it began, so the next
    /// reads stop at the cursor until the walk is due again. Only where the
    /// store has a saved cursor (else its next read walks anyway).
    pub fn walked(&self, cursor: &mut Cursor) {
        if let (Cursor::PerStore { stores: map, .. }, Some(s)) = (cursor, &self.store) {
            if let Some(st) = map.get_mut(s).filter(|st| st.cursor.is_some()) {
                st.walked = Some(st.walked.map_or(self.started, |w| w.max(self.started)));
            }
        }
    }

    /// A record with cursor value `t` was emitted.
    pub fn saw(&mut self, t: DateTime<Utc>) {
        if self.window_seen.is_none_or(|s| t > s) {
            self.window_seen = Some(t);
        }
    }

    /// A window ended with all its records emitted: how far the cursor may move,
    /// given the window's upper bound (a filtered window vouches for nothing
    /// beyond it).
    pub fn close_window(&mut self, window_max: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        if let Some(w) = self.window_seen.take() {
            self.seen = Some(self.seen.map_or(w, |s| s.max(w)));
        }
        self.seen.map(|s| window_max.map_or(s, |m| s.min(m)))
    }

    /// Move `cursor` to `to` for this group, under the cursor rule.
    pub fn settle(&self, cursor: &mut Cursor, to: DateTime<Utc>) {
        advance(cursor, self.store.as_deref(), to, ceiling(self.started));
    }

    /// Save that the walk got as far as the parent `after`.
    pub fn mark(&mut self, cursor: &mut Cursor, after: String) {
        let seen = self.close_window(None);
        if let (Cursor::PerStore { stores: map, .. }, Some(s)) = (cursor, &self.store) {
            map.entry(s.clone()).or_default().progress = Some(Progress {
                started: self.started,
                after: after.clone(),
                seen,
            });
        }
        self.after = Some(after);
    }

    /// The walk is over (complete or given up): no progress to resume from.
    pub fn unmark(&self, cursor: &mut Cursor) {
        if let (Cursor::PerStore { stores: map, .. }, Some(s)) = (cursor, &self.store) {
            if let Some(st) = map.get_mut(s) {
                st.progress = None;
                if st.cursor.is_none() {
                    map.remove(s);
                }
            }
        }
    }

    /// The store no longer exists: its records were deleted, so is its state.
    pub fn forget(&self, cursor: &mut Cursor) {
        if let (Cursor::PerStore { stores: map, .. }, Some(s)) = (cursor, &self.store) {
            map.remove(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_instant;

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
        let mut per = Cursor::per_store([("s1", input)]);
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
        let with = |fallback| {
            let Cursor::PerStore { stores, .. } = Cursor::per_store([("s1", named)]) else {
                unreachable!()
            };
            Cursor::PerStore { stores, fallback }
        };
        let mut c = with(Some(far));
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
        let mut c = with(Some(t("2025-03-01T00:00:00Z")));
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
        let per = Cursor::per_store([]);
        assert_eq!(threshold(&per, Some("s9"), start, true), start);
    }

    #[test]
    fn a_whole_walk_is_due_first_then_every_period() {
        let now = t("2026-01-10T00:00:00Z");
        let week = Duration::days(7);
        let mut c = Cursor::per_store([]);
        // Never read: walk.
        assert!(walk_due(&c, Some("s1"), now, week));
        let g = Group::new(&c, Some("s1"), None, t("2026-01-09T00:00:00Z"));
        g.settle(&mut c, t("2026-01-08T00:00:00Z"));
        g.walked(&mut c);
        assert_eq!(walked(&c, Some("s1")), Some(t("2026-01-09T00:00:00Z")));
        assert!(!walk_due(&c, Some("s1"), now, week));
        assert!(walk_due(&c, Some("s1"), t("2026-01-16T00:00:00Z"), week));
        assert!(walk_due(&c, Some("s1"), now, Duration::zero()));
        // A saved cursor without a walk time (an older state): walk once.
        let old = Cursor::per_store([("s1", t("2026-01-08T00:00:00Z"))]);
        assert!(walk_due(&old, Some("s1"), now, week));
        // A single cursor keeps no walk time and never reconciles.
        let single = Cursor::Single(Some(t("2026-01-08T00:00:00Z")));
        assert!(!walk_due(&single, None, now, week));
        // A store without a cursor keeps no walk time (its next read walks anyway).
        let mut empty = Cursor::per_store([]);
        Group::new(&empty, Some("s2"), None, now).walked(&mut empty);
        assert_eq!(empty, Cursor::per_store([]));
    }

    #[test]
    fn a_group_moves_its_cursor_by_window_and_resumes_a_walk() {
        let now = t("2026-01-10T00:00:00Z");
        let mut c = Cursor::per_store([]);
        let mut g = Group::new(&c, Some("s1"), None, now);
        g.saw(t("2026-01-05T00:00:00Z"));
        // A filtered window vouches only up to its end.
        assert_eq!(
            g.close_window(Some(t("2026-01-03T00:00:00Z"))),
            Some(t("2026-01-03T00:00:00Z"))
        );
        assert_eq!(g.close_window(None), Some(t("2026-01-05T00:00:00Z")));
        // A walk stopped part way keeps its start and what it saw.
        g.mark(&mut c, "\"o5\"".into());
        assert_eq!(saved(&c, Some("s1")), None);
        let later = t("2026-01-11T00:00:00Z");
        let resumed = Group::new(&c, Some("s1"), None, later);
        assert_eq!(resumed.started, now);
        assert_eq!(resumed.after.as_deref(), Some("\"o5\""));
        assert_eq!(resumed.seen, Some(t("2026-01-05T00:00:00Z")));
        resumed.settle(&mut c, later);
        assert_eq!(saved(&c, Some("s1")), Some(ceiling(now)));
        resumed.unmark(&mut c);
        assert!(progress(&c, Some("s1")).is_none());
        assert_eq!(saved(&c, Some("s1")), Some(ceiling(now)));
        resumed.forget(&mut c);
        assert_eq!(c, Cursor::per_store([]));
    }
}
