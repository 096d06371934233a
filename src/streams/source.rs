//! Where a stream's requests come from: one list, one request per record of a
//! parent stream (a child relation, as data), or a search per parameter set.

use serde_json::Value;

/// Where a stream's requests come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// One list endpoint.
    List,
    /// One request per record of a parent stream.
    Child(Link),
    /// One request per configured parameter set, or per set derived from each
    /// record of a parent stream.
    Search(Search),
}

/// A child relation: the child is read once per record of `parent`, whose
/// `parent_key` goes into the request as `inject` and onto each child record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The parent stream's name (itself a list or a child of a list).
    pub parent: &'static str,
    /// The top-level field of each parent record that names it.
    pub parent_key: &'static str,
    /// How that value reaches the child's request.
    pub inject: Inject,
    /// The fields the engine adds to each child record: the parent's own carried
    /// fields first, then the one that holds this link's value (last).
    pub carry_as: &'static [&'static str],
}

/// An error answer that means "this parent does not exist": an HTTP status, and
/// the product's error code where the status alone does not say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gone {
    pub status: u16,
    pub code: Option<i64>,
}

impl Gone {
    pub fn matches(&self, status: u16, code: Option<i64>) -> bool {
        self.status == status && self.code.is_none_or(|c| code == Some(c))
    }
}

/// How a parent's value reaches a child's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inject {
    Header(&'static str),
    Query(&'static str),
}

impl Link {
    /// The field of each child record that holds this link's value.
    pub fn field(&self) -> &'static str {
        self.carry_as.last().copied().unwrap_or(self.parent_key)
    }

    /// How messages name one such parent: `store` for `store_id`.
    pub fn label(&self) -> &'static str {
        let f = self.field();
        f.strip_suffix("_id").unwrap_or(f)
    }
}

/// A search run once per parameter set: the configured ones, else one derived
/// from each record of `parent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Search {
    pub parent: &'static str,
    /// Each query parameter and the dotted paths in a parent record its value may
    /// sit at (the first non-empty string wins). The first parameter is required,
    /// and a search needs at least one other.
    pub params: &'static [(&'static str, &'static [&'static str])],
}

impl Search {
    /// The search a parent record gives, as query parameters in `params` order.
    pub fn derive(&self, record: &Value) -> Option<Vec<(String, String)>> {
        let value = |paths: &[&str]| {
            paths.iter().find_map(|path| {
                path.split('.')
                    .try_fold(record, |v, k| v.get(k))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
        };
        let mut out = Vec::new();
        for (i, (param, paths)) in self.params.iter().enumerate() {
            match value(paths) {
                Some(v) => out.push((param.to_string(), v.to_string())),
                None if i == 0 => return None,
                None => {}
            }
        }
        (out.len() > 1).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEARCH: Search = Search {
        parent: "accounts",
        params: &[
            ("slug", &["slug"]),
            ("country", &["address.country"]),
            ("street", &["address.street1", "address.street"]),
        ],
    };

    #[test]
    fn a_search_takes_the_first_non_empty_path_and_needs_its_first_parameter() {
        let v = serde_json::json!({"slug":"fedex","address":{"country":"USA","street1":"","street":"1 Main St"}});
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            SEARCH.derive(&v),
            Some(pairs(&[
                ("slug", "fedex"),
                ("country", "USA"),
                ("street", "1 Main St")
            ]))
        );
        assert_eq!(SEARCH.derive(&serde_json::json!({"slug":"fedex"})), None);
        assert_eq!(
            SEARCH.derive(&serde_json::json!({"address":{"country":"USA"}})),
            None
        );
    }

    #[test]
    fn a_link_names_its_own_field_last() {
        let l = Link {
            parent: "orders",
            parent_key: "id",
            inject: Inject::Query("order_id"),
            carry_as: &["store_id", "order_id"],
        };
        assert_eq!(l.field(), "order_id");
        assert_eq!(l.label(), "order");
        let slug = Link {
            carry_as: &["courier"],
            ..l
        };
        assert_eq!(slug.label(), "courier");
    }
}
