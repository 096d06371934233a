//! Row estimates for Airbyte's progress display (ESTIMATE trace messages).
//!
//! Where AfterShip reports how many records a query matches (`pagination.total`,
//! couriers' `data.total`), a stream's estimate is the sum of the totals of the
//! queries it has started (a time window, a store). The first one is announced as
//! soon as it is known; later ones only when the sum moved by a tenth or more, so a
//! stream read in many windows does not flood the output.

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Estimate {
    /// The largest total each query reported.
    totals: BTreeMap<String, u64>,
    /// The last estimate announced.
    announced: Option<u64>,
}

impl Estimate {
    /// Record that `query` matches `total` records; the estimate to announce, if any.
    pub fn observe(&mut self, query: &str, total: u64) -> Option<u64> {
        let slot = self.totals.entry(query.to_string()).or_insert(0);
        *slot = (*slot).max(total);
        let sum: u64 = self.totals.values().sum();
        let announce = match self.announced {
            None => true,
            Some(prev) => moved_much(prev, sum),
        };
        if announce {
            self.announced = Some(sum);
            Some(sum)
        } else {
            None
        }
    }
}

/// A change of at least a tenth of the previous figure (any change from 0).
fn moved_much(prev: u64, now: u64) -> bool {
    if prev == 0 {
        return now != 0;
    }
    now.abs_diff(prev).saturating_mul(10) >= prev
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_total_is_announced_at_once() {
        let mut e = Estimate::default();
        assert_eq!(e.observe("all", 300), Some(300));
        assert_eq!(e.observe("all", 300), None, "the same query again");
    }

    #[test]
    fn totals_of_queries_add_up_and_small_moves_stay_quiet() {
        let mut e = Estimate::default();
        assert_eq!(e.observe("w1", 100), Some(100));
        assert_eq!(e.observe("w2", 5), None, "105 is within a tenth of 100");
        assert_eq!(e.observe("w3", 5), Some(110), "110 is a tenth more");
        assert_eq!(e.observe("w3", 4), None, "a query's largest total counts");
        assert_eq!(e.observe("w4", 1000), Some(1110));
    }

    #[test]
    fn from_zero_any_total_is_news() {
        let mut e = Estimate::default();
        assert_eq!(e.observe("w1", 0), Some(0));
        assert_eq!(e.observe("w2", 0), None);
        assert_eq!(e.observe("w3", 1), Some(1));
    }
}
