//! Date-times the page walk looks for: a stream's schema's `format: date-time`
//! fields as a tree of keys the walk follows alongside the record, and the test
//! for a date-time whose offset is not UTC (those are rewritten, see
//! [`crate::json::shape`]).

/// A path to a `format: date-time` field; `None` steps into every array item.
pub type Path = Vec<Option<String>>;

/// The date-time fields of a stream's schema as a tree of keys (`None` steps into
/// array items), so that one walk knows which strings are date-times.
#[derive(Debug, Default)]
pub struct TimeFields {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    keys: Vec<(Box<[u8]>, usize)>,
    items: Option<usize>,
    leaf: bool,
}

/// For streams whose records need no date-time rewriting (and parent lookups).
pub static NO_TIMES: TimeFields = TimeFields { nodes: Vec::new() };

impl TimeFields {
    pub fn new(paths: &[Path]) -> TimeFields {
        let mut t = TimeFields {
            nodes: vec![Node::default()],
        };
        for path in paths {
            let mut at = 0;
            for step in path {
                let found = match step {
                    Some(k) => t.nodes[at]
                        .keys
                        .iter()
                        .find(|(key, _)| **key == *k.as_bytes())
                        .map(|&(_, n)| n),
                    None => t.nodes[at].items,
                };
                at = match found {
                    Some(n) => n,
                    None => {
                        let n = t.nodes.len();
                        t.nodes.push(Node::default());
                        match step {
                            Some(k) => t.nodes[at].keys.push((k.as_bytes().into(), n)),
                            None => t.nodes[at].items = Some(n),
                        }
                        n
                    }
                };
            }
            t.nodes[at].leaf = true;
        }
        t
    }

    #[inline]
    pub(super) fn key(&self, node: usize, key: &[u8], escaped: bool) -> Option<usize> {
        if escaped {
            return None;
        }
        let n = self.nodes.get(node)?;
        n.keys.iter().find(|(k, _)| **k == *key).map(|&(_, c)| c)
    }

    #[inline]
    pub(super) fn items(&self, node: usize) -> Option<usize> {
        self.nodes.get(node)?.items
    }

    #[inline]
    pub(super) fn leaf(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(|n| n.leaf)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f…]` with an offset that is not RFC 3339's UTC: `±HH:MM`
/// other than `+00:00`/`-00:00`, or any offset written without its colon (`+0800`,
/// `+0000`), which is not RFC 3339 at all.
pub(crate) fn looks_offset_time(s: &[u8]) -> bool {
    let n = s.len();
    if !(24..=40).contains(&n) {
        return false;
    }
    let d = |i: usize| s[i].is_ascii_digit();
    let date = d(0)
        && d(1)
        && d(2)
        && d(3)
        && s[4] == b'-'
        && s[7] == b'-'
        && (s[10] == b'T' || s[10] == b' ')
        && s[13] == b':'
        && s[16] == b':';
    let sign = |i: usize| s[i] == b'+' || s[i] == b'-';
    let colon =
        n >= 25 && sign(n - 6) && d(n - 5) && d(n - 4) && s[n - 3] == b':' && d(n - 2) && d(n - 1);
    let bare = sign(n - 5) && d(n - 4) && d(n - 3) && d(n - 2) && d(n - 1);
    date && ((colon && &s[n - 5..] != b"00:00") || (!colon && bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_of_the_schema_paths() {
        let tf = TimeFields::new(&[
            vec![Some("updated_at".into())],
            vec![Some("checkpoints".into()), None, Some("created_at".into())],
            vec![Some("checkpoints".into()), None, Some("updated_at".into())],
        ]);
        let top = tf.key(0, b"updated_at", false).unwrap();
        assert!(tf.leaf(top));
        assert_eq!(
            tf.key(0, b"updated_at", true),
            None,
            "an escaped key is not matched"
        );
        let cps = tf.key(0, b"checkpoints", false).unwrap();
        assert!(!tf.leaf(cps));
        assert_eq!(
            tf.key(cps, b"created_at", false),
            None,
            "only inside the items"
        );
        let item = tf.items(cps).unwrap();
        assert!(tf.leaf(tf.key(item, b"created_at", false).unwrap()));
        assert!(tf.leaf(tf.key(item, b"updated_at", false).unwrap()));
        assert_eq!(tf.nodes.len(), 6, "the shared prefix is one branch");
        assert_eq!(NO_TIMES.key(0, b"updated_at", false), None);
        assert!(!NO_TIMES.leaf(0));
    }

    #[test]
    fn recognises_non_utc_offsets() {
        assert!(looks_offset_time(b"2025-01-01T10:00:00+08:00"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00.123-05:00"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00Z"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00+00:00"));
        assert!(!looks_offset_time(b"+1 555-12:34"));
        assert!(!looks_offset_time(b"2025-01-01"));
        // Offsets without a colon are not RFC 3339: rewritten like the others.
        assert!(looks_offset_time(b"2025-01-01T10:00:00+0800"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00.5-0530"));
        assert!(looks_offset_time(b"2025-01-01T10:00:00+0000"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00.123Z"));
        assert!(!looks_offset_time(b"2025-01-01T10:00:00.1234"));
    }
}
