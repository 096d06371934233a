//! Time windows of a query whose API filters on time: planned lazily in ascending
//! order (each next window starts where the last ended), sized by how busy the
//! last one was, and split in two when a window holds more records than the API's
//! page ceiling lets one query reach. Pure.

use crate::streams::{Filter, StreamDef};
use chrono::{DateTime, Duration, Utc};
use std::collections::VecDeque;

/// One window: the filter's min and max to send (None = omit the parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub min: Option<DateTime<Utc>>,
    pub max: Option<DateTime<Utc>>,
}

/// What planning a partition's windows needs to know.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    pub incremental: bool,
    /// The partition's threshold (start date or saved cursor).
    pub threshold: DateTime<Utc>,
    /// The saved cursor, if any (Shipping's created_at window starts before it).
    pub saved: Option<DateTime<Utc>>,
    pub start_date: DateTime<Utc>,
    /// Shipping filters on created_at only: look back this far before the cursor.
    pub lookback: Duration,
    /// First window size of incremental reads.
    pub slice: Duration,
    /// When the sync started: windows end here.
    pub now: DateTime<Utc>,
}

/// Lazily planned windows: a window of at most one page doubles the next one, a
/// window of many pages halves it, so empty years cost a few requests and busy
/// days still checkpoint often. The last window is open-ended, so that a server
/// clock ahead of ours loses nothing.
#[derive(Debug)]
pub struct Windows {
    pending: VecDeque<Window>,
    next_min: Option<DateTime<Utc>>,
    pos: DateTime<Utc>,
    size: Duration,
    now: DateTime<Utc>,
    sliced: bool,
    done: bool,
}

impl Windows {
    /// One window from `min`, open-ended (None: no lower bound either).
    pub fn single(min: Option<DateTime<Utc>>) -> Windows {
        Windows {
            pending: VecDeque::new(),
            next_min: min,
            pos: DateTime::<Utc>::MIN_UTC,
            size: Duration::zero(),
            now: DateTime::<Utc>::MIN_UTC,
            sliced: false,
            done: false,
        }
    }

    /// The window from `min` to `max` (a window an earlier attempt stopped in),
    /// then, where it ends, one open-ended window from its end.
    pub fn resumed(min: Option<DateTime<Utc>>, max: Option<DateTime<Utc>>) -> Windows {
        let mut w = Windows::single(min);
        if let Some(end) = max {
            w.pending.push_back(Window {
                min,
                max: Some(end),
            });
            w.next_min = Some(end);
        }
        w
    }

    pub fn next_window(&mut self) -> Option<Window> {
        if let Some(w) = self.pending.pop_front() {
            return Some(w);
        }
        if self.done {
            return None;
        }
        // Less than two slices left: one open-ended window is cheaper than two.
        if !self.sliced || self.pos + self.size * 2 >= self.now {
            self.done = true;
            return Some(Window {
                min: self.next_min,
                max: None,
            });
        }
        let end = floor_secs(self.pos + self.size);
        let w = Window {
            min: self.next_min,
            max: Some(end),
        };
        self.next_min = Some(end);
        self.pos = end;
        Some(w)
    }

    pub fn is_done(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    /// Read these two windows next, instead of the one just begun.
    pub fn split(&mut self, halves: [Window; 2]) {
        for h in halves.into_iter().rev() {
            self.pending.push_front(h);
        }
    }

    /// The last window took `pages` pages.
    pub fn feedback(&mut self, pages: u64) {
        if pages <= 1 {
            self.size = (self.size * 2).min(Duration::days(366));
        } else if pages > 20 {
            self.size = (self.size / 2).max(Duration::hours(1));
        }
    }
}

/// The windows of one partition of `def`. Only incremental reads of streams with a
/// server-side time filter are sliced.
pub fn plan(def: &StreamDef, i: &Inputs) -> Windows {
    let retention_edge = def.retention_days.map(|d| i.now - Duration::days(d));
    let lower = match def.filter {
        Filter::None => return Windows::single(None),
        Filter::UpdatedAt { .. } => i.threshold,
        // Shipping: created_at_min = cursor − lookback on incremental reads.
        Filter::CreatedAt { .. } => match (def.cursor, i.incremental, i.saved) {
            (Some(_), true, Some(c)) => (c - i.lookback).max(i.start_date),
            _ => i.start_date,
        },
    };
    // Older than what the API keeps: let the API's own default lower bound apply.
    let lower = match retention_edge {
        Some(edge) if lower <= edge => None,
        _ => Some(lower),
    };
    if !i.incremental {
        return Windows::single(lower);
    }
    Windows {
        pending: VecDeque::new(),
        next_min: lower,
        pos: lower.or(retention_edge).unwrap_or(i.start_date),
        size: i.slice,
        now: i.now,
        sliced: true,
        done: false,
    }
}

/// A created_at-filtered window whose first page reports more records (`total`)
/// than one query can reach (`cap` = page ceiling × page size): its two halves.
pub fn split_if_capped(
    def: &StreamDef,
    w: &Window,
    total: u64,
    cap: u64,
    i: &Inputs,
) -> Option<[Window; 2]> {
    if !def.filter.on_creation() || cap == 0 || total <= cap {
        return None;
    }
    let lo = w
        .min
        .or(def.retention_days.map(|d| i.now - Duration::days(d)))
        .unwrap_or(i.start_date);
    let hi = w.max.unwrap_or(i.now);
    let mid = floor_secs(lo + (hi - lo) / 2);
    if mid <= lo || mid >= hi {
        return None;
    }
    Some([
        Window {
            min: w.min,
            max: Some(mid),
        },
        Window {
            min: Some(mid),
            max: w.max,
        },
    ])
}

fn floor_secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_window_is_read_first_then_everything_after_it() {
        let t = |s: &str| crate::time::parse_instant(s).unwrap();
        let (a, b) = (t("2025-01-01T00:00:00Z"), t("2025-06-01T00:00:00Z"));
        let mut w = Windows::resumed(Some(a), Some(b));
        assert_eq!(
            w.next_window(),
            Some(Window {
                min: Some(a),
                max: Some(b)
            })
        );
        assert!(!w.is_done());
        assert_eq!(
            w.next_window(),
            Some(Window {
                min: Some(b),
                max: None
            })
        );
        assert!(w.is_done());
        assert_eq!(w.next_window(), None);
        let mut open = Windows::resumed(Some(a), None);
        assert_eq!(
            open.next_window(),
            Some(Window {
                min: Some(a),
                max: None
            })
        );
        assert_eq!(open.next_window(), None);
    }
    use crate::streams::find;
    use crate::time::parse_instant;

    fn t(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    fn inputs(incremental: bool, threshold: &str, saved: Option<&str>) -> Inputs {
        Inputs {
            incremental,
            threshold: t(threshold),
            saved: saved.map(t),
            start_date: t("2025-01-01T00:00:00Z"),
            lookback: Duration::days(7),
            slice: Duration::days(7),
            now: t("2026-01-01T00:00:00Z"),
        }
    }

    fn all(mut w: Windows) -> Vec<Window> {
        std::iter::from_fn(|| w.next_window()).take(1000).collect()
    }

    #[test]
    fn full_refresh_is_one_window_from_the_start_date() {
        let labels = find("shipping_labels").unwrap();
        let ws = all(plan(labels, &inputs(false, "2025-01-01T00:00:00Z", None)));
        assert_eq!(
            ws,
            [Window {
                min: Some(t("2025-01-01T00:00:00Z")),
                max: None
            }]
        );
        // Unfiltered streams: no window parameters at all.
        let ws = all(plan(
            find("stores").unwrap(),
            &inputs(true, "2025-06-01T00:00:00Z", None),
        ));
        assert_eq!(
            ws,
            [Window {
                min: None,
                max: None
            }]
        );
    }

    #[test]
    fn incremental_windows_ascend_without_gaps_and_end_open() {
        let trackings = find("trackings").unwrap();
        let mut w = plan(
            trackings,
            &inputs(true, "2025-12-01T00:00:00Z", Some("2025-12-01T00:00:00Z")),
        );
        let mut got = Vec::new();
        while let Some(x) = w.next_window() {
            got.push(x);
            w.feedback(5);
        }
        assert_eq!(got[0].min, Some(t("2025-12-01T00:00:00Z")));
        for pair in got.windows(2) {
            assert_eq!(pair[0].max, pair[1].min, "windows meet: {got:?}");
            assert!(pair[0].max.unwrap() > pair[0].min.unwrap());
        }
        assert_eq!(
            got.last().unwrap().max,
            None,
            "the last window is open-ended"
        );
        assert!(w.is_done());
    }

    #[test]
    fn windows_grow_when_empty_and_shrink_when_busy() {
        let trackings = find("trackings").unwrap();
        let mut w = plan(trackings, &inputs(true, "2025-10-01T00:00:00Z", None));
        let a = w.next_window().unwrap();
        w.feedback(0);
        let b = w.next_window().unwrap();
        assert_eq!(
            b.max.unwrap() - b.min.unwrap(),
            (a.max.unwrap() - a.min.unwrap()) * 2
        );
        w.feedback(50);
        let c = w.next_window().unwrap();
        assert_eq!(
            c.max.unwrap() - c.min.unwrap(),
            a.max.unwrap() - a.min.unwrap()
        );
    }

    #[test]
    fn shipping_looks_back_before_the_cursor_and_retention_clips() {
        let labels = find("shipping_labels").unwrap();
        let ws = all(plan(
            labels,
            &inputs(true, "2025-12-20T00:00:00Z", Some("2025-12-20T00:00:00Z")),
        ));
        assert_eq!(ws[0].min, Some(t("2025-12-13T00:00:00Z")));
        // Trackings older than the 120 days AfterShip keeps: the API's default.
        let trackings = find("trackings").unwrap();
        let ws = all(plan(
            trackings,
            &inputs(false, "2025-01-01T00:00:00Z", None),
        ));
        assert_eq!(
            ws,
            [Window {
                min: None,
                max: None
            }]
        );
    }

    #[test]
    fn a_window_past_the_page_ceiling_splits_in_two() {
        let returns = find("item_returns").unwrap();
        let i = inputs(false, "2025-01-01T00:00:00Z", None);
        let w = Window {
            min: Some(t("2025-01-01T00:00:00Z")),
            max: Some(t("2025-01-03T00:00:00Z")),
        };
        let halves = split_if_capped(returns, &w, 12_000, 10_000, &i).unwrap();
        assert_eq!(halves[0].max, Some(t("2025-01-02T00:00:00Z")));
        assert_eq!(halves[1].min, halves[0].max);
        assert_eq!((halves[0].min, halves[1].max), (w.min, w.max));
        assert!(split_if_capped(returns, &w, 10_000, 10_000, &i).is_none());
        assert!(split_if_capped(find("trackings").unwrap(), &w, 12_000, 10_000, &i).is_none());
        let tiny = Window {
            min: Some(t("2025-01-01T00:00:00Z")),
            max: Some(t("2025-01-01T00:00:01Z")),
        };
        assert!(split_if_capped(returns, &tiny, 12_000, 10_000, &i).is_none());
    }
}
