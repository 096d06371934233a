//! One request target of a stream: the values of its parents (outermost first),
//! each sent as its row's link says and put on every record, and the parameters
//! of a search. Pure.

use crate::http::Request;
use crate::streams::{Inject, Link, StreamDef};
use std::collections::BTreeMap;

/// The parent values of one request target; empty for a plain list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partition {
    pub parents: Vec<(&'static Link, String)>,
    /// A search's query parameters.
    pub params: Vec<(String, String)>,
}

impl Partition {
    /// The partition of one parent record.
    pub fn of(link: &'static Link, value: String) -> Partition {
        Partition {
            parents: vec![(link, value)],
            params: Vec::new(),
        }
    }

    /// This partition narrowed to one record of a child relation.
    pub fn with(&self, link: &'static Link, value: String) -> Partition {
        let mut p = self.clone();
        p.parents.push((link, value));
        p
    }

    /// The outermost parent's value: what the stream's cursor is kept per.
    pub fn outer(&self) -> Option<&str> {
        self.parents.first().map(|(_, v)| v.as_str())
    }

    /// The partition of one search.
    pub fn search(params: Vec<(String, String)>) -> Partition {
        Partition {
            parents: Vec::new(),
            params,
        }
    }

    /// The value of the innermost parent (what a walk of parents is ordered by).
    pub fn inner(&self) -> Option<&str> {
        self.parents.last().map(|(_, v)| v.as_str())
    }

    /// `, store S, order O` or `, search k=v&…` for messages (empty for a plain list).
    pub fn describe(&self) -> String {
        let mut out: String = self
            .parents
            .iter()
            .map(|(link, v)| format!(", {} {v}", link.label()))
            .collect();
        if !self.params.is_empty() {
            let query: Vec<String> = self
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.push_str(&format!(", search {}", query.join("&")));
        }
        out
    }

    /// The request of `def` for this partition: its path, each parent value in
    /// the header or query parameter its link names.
    pub fn request(&self, def: &StreamDef) -> Request {
        let mut req = Request {
            product: def.product,
            path: def.path,
            query: self.params.clone(),
            headers: Vec::new(),
            rate: def.rate,
            stream: Some(def.name),
        };
        for (link, value) in &self.parents {
            match link.inject {
                Inject::Header(name) => req.headers.push((name, value.clone())),
                Inject::Query(name) => req.query.push((name.to_string(), value.clone())),
            }
        }
        req
    }

    /// What names this partition in a resumable full refresh's state: each
    /// parent's value under its field, and the search's parameters (empty for a
    /// plain list).
    pub fn fields(&self) -> BTreeMap<String, String> {
        let carried = self
            .carried()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()));
        carried.chain(self.params.iter().cloned()).collect()
    }

    /// The fields to add to each record: each parent's value under its field.
    pub fn carried(&self) -> Vec<(&'static str, &str)> {
        self.parents
            .iter()
            .map(|(link, v)| (link.field(), v.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::{Source, find};

    fn link(stream: &str) -> &'static Link {
        match &find(stream).unwrap().source {
            Source::Child(l) => l,
            _ => panic!("{stream} is not a child"),
        }
    }

    #[test]
    fn a_partition_sends_and_carries_each_parent_as_its_link_says() {
        let p = Partition::of(link("orders"), "s1".into()).with(link("fulfillments"), "o2".into());
        assert_eq!(p.describe(), ", store s1, order o2");
        assert_eq!(p.outer(), Some("s1"));
        assert_eq!(p.carried(), [("store_id", "s1"), ("order_id", "o2")]);
        let req = p.request(find("fulfillments").unwrap());
        assert_eq!(req.path, "/commerce/2025-07/fulfillments");
        assert_eq!(req.headers, [("as-store-id", "s1".to_string())]);
        assert_eq!(req.query, [("order_id".to_string(), "o2".to_string())]);
        let plain = Partition::default();
        assert_eq!((plain.describe(), plain.outer()), (String::new(), None));
        assert!(plain.request(find("stores").unwrap()).headers.is_empty());
        let s = Partition::search(vec![("slug".into(), "fedex".into())]);
        assert_eq!(s.describe(), ", search slug=fedex");
        assert_eq!(s.request(find("locations").unwrap()).query, s.params);
    }
}
