//! The 22 AfterShip streams as rows of one table ([`table`]), and the catalog built
//! from it.
//!
//! Every per-stream difference (API product, path, where records sit, key, cursor,
//! pagination with its parameter names and reply keys, server-side filter, sort
//! orders, parent relation, withheld fields, the `check` probe) is a field here;
//! the read engine has no per-stream branches.

mod paging;
mod product;
mod query;
mod source;
mod table;

pub use paging::{AFTERSHIP_REPLY, GUARD_PAGES, Limit, PageEnd, PageKind, Paging, Reply};
pub use product::Product;
pub use query::{Filter, Sort, Sorts};
pub use source::{Gone, Inject, Link, Search, Source};
pub use table::STREAMS;

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
pub struct StreamDef {
    pub name: &'static str,
    pub product: Product,
    pub path: &'static str,
    /// The key under `data` that holds the records.
    pub data_key: &'static str,
    pub primary_key: &'static [&'static str],
    /// The cursor field of incremental streams; None for full-refresh-only streams.
    pub cursor: Option<&'static str>,
    pub paging: Paging,
    pub filter: Filter,
    pub source: Source,
    /// Days of history the API serves at all (older records are gone).
    pub retention_days: Option<i64>,
    pub schema: &'static str,
    /// Sort orders the endpoint offers, if any.
    pub sorts: Option<Sorts>,
    /// Top-level fields whose values are carrier secrets: every value under them is
    /// replaced by null unless the config asks for them (`include_carrier_credentials`).
    pub withheld: &'static [&'static str],
    /// `check` asks this list for one record to prove the key works for its product.
    pub probe: bool,
    /// Documented requests per second of the bucket this endpoint counts against
    /// ([`Product::limit_key`]).
    pub rate: u32,
    /// How the API answers a child's request that names one of this stream's
    /// records which no longer exists (deleted during the sync): that parent's
    /// children are gone too, which is not an error.
    pub gone: Option<Gone>,
}

impl StreamDef {
    pub fn incremental(&self) -> bool {
        self.cursor.is_some()
    }

    /// Whether an attempt that stopped part way can go on where it stopped:
    /// incremental streams from their cursor; full-refresh streams from the page
    /// number they reached (a page-number list), or the partition (one per store
    /// or per search). A full-refresh list of one request has nothing to resume.
    pub fn resumable(&self) -> bool {
        self.incremental()
            || matches!(self.paging.kind, PageKind::Number { .. })
            || !matches!(self.source, Source::List)
    }

    /// Parent values the engine adds to each record as top-level fields.
    pub fn parent_fields(&self) -> &'static [&'static str] {
        match self.source {
            Source::Child(link) => link.carry_as,
            _ => &[],
        }
    }

    /// The primary key fields the API itself sets (the key without parent values).
    pub fn own_key(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.primary_key
            .iter()
            .copied()
            .filter(|k| !self.parent_fields().contains(k))
    }

    /// The query of `check`'s probe of this list: one record, where it pages.
    pub fn probe_query(&self) -> Vec<(String, String)> {
        self.paging
            .limit
            .map(|l| (l.param.to_string(), "1".to_string()))
            .into_iter()
            .collect()
    }

    pub fn json_schema(&self) -> Value {
        serde_json::from_str(self.schema).unwrap_or_else(|_| json!({"type": "object"}))
    }

    /// The AirbyteStream of this row.
    pub fn airbyte_stream(&self) -> Value {
        let mut s = json!({
            "name": self.name,
            "json_schema": self.json_schema(),
            "supported_sync_modes": if self.incremental() { json!(["full_refresh", "incremental"]) } else { json!(["full_refresh"]) },
            "source_defined_primary_key": self.primary_key.iter().map(|k| json!([k])).collect::<Vec<_>>(),
            "is_resumable": self.resumable(),
        });
        if let Some(cursor) = self.cursor {
            s["source_defined_cursor"] = json!(true);
            s["default_cursor_field"] = json!([cursor]);
        }
        s
    }
}

pub fn find(name: &str) -> Option<&'static StreamDef> {
    STREAMS.iter().find(|s| s.name == name)
}

/// The row `check` probes for `product`: the one marked, else its first.
pub fn probe_of(product: Product) -> Option<&'static StreamDef> {
    let of = |s: &&StreamDef| s.product == product;
    STREAMS
        .iter()
        .find(|s| of(s) && s.probe)
        .or_else(|| STREAMS.iter().find(of))
}

/// The CATALOG payload of `discover`.
pub fn catalog() -> Value {
    json!({"streams": STREAMS.iter().map(StreamDef::airbyte_stream).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_two_unique_streams_with_their_modes_and_keys() {
        assert_eq!(STREAMS.len(), 22);
        let mut names: Vec<_> = STREAMS.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 22);
        let full: Vec<_> = STREAMS
            .iter()
            .filter(|s| !s.incremental())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            full,
            [
                "couriers",
                "item_returns",
                "products",
                "memberships",
                "roles",
                "shipping_couriers",
                "locations"
            ]
        );
        assert_eq!(find("item_tags").unwrap().cursor, Some("created_at"));
        assert_eq!(find("roles").unwrap().primary_key, ["code"]);
        assert_eq!(find("locations").unwrap().primary_key, ["location_id"]);
        assert_eq!(
            find("fulfillments").unwrap().primary_key,
            ["store_id", "order_id", "id"]
        );
        assert!(
            STREAMS
                .iter()
                .all(|s| s.path.starts_with('/') && !s.path.contains("//"))
        );
    }

    #[test]
    fn full_refresh_streams_resume_where_pages_or_partitions_allow() {
        let resumable: Vec<_> = STREAMS
            .iter()
            .filter(|s| !s.incremental() && s.resumable())
            .map(|s| s.name)
            .collect();
        assert_eq!(
            resumable,
            ["item_returns", "products", "memberships", "locations"]
        );
        assert!(
            STREAMS
                .iter()
                .filter(|s| s.incremental())
                .all(StreamDef::resumable)
        );
        for s in &STREAMS {
            assert_eq!(
                s.airbyte_stream()["is_resumable"],
                s.resumable(),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn every_schema_compiles_and_has_key_and_cursor() {
        for s in &STREAMS {
            let schema: Value = serde_json::from_str(s.schema).expect(s.name);
            assert!(jsonschema::draft7::new(&schema).is_ok(), "{}", s.name);
            let props = &schema["properties"];
            for k in s.primary_key {
                assert!(props.get(*k).is_some(), "{} lacks key {k}", s.name);
            }
            if let Some(c) = s.cursor {
                assert_eq!(props[c]["format"], "date-time", "{} cursor {c}", s.name);
            }
        }
    }

    #[test]
    fn each_product_probes_one_cheap_list() {
        let probes: Vec<(&str, Vec<(String, String)>)> = Product::ALL
            .iter()
            .map(|p| {
                let row = probe_of(*p).unwrap();
                (row.path, row.probe_query())
            })
            .collect();
        let one = || vec![("limit".to_string(), "1".to_string())];
        assert_eq!(
            probes,
            [
                ("/tracking/2025-07/trackings", one()),
                ("/returns/2025-07/returns", one()),
                ("/admin/2022-01/coverages", one()),
                ("/commerce/2025-07/stores", one()),
                ("/admin/2022-01/roles", vec![]),
                ("/postmen/v3/shipper-accounts", one()),
            ]
        );
        for p in Product::ALL {
            let marked = STREAMS.iter().filter(|s| s.product == p && s.probe);
            assert_eq!(marked.count(), 1, "{p:?}");
        }
    }

    #[test]
    fn rows_of_one_rate_limit_bucket_share_its_rate() {
        for a in &STREAMS {
            for b in &STREAMS {
                if a.product.limit_key(a.path) == b.product.limit_key(b.path) {
                    assert_eq!(a.rate, b.rate, "{} and {}", a.name, b.name);
                }
            }
        }
        assert_eq!(find("trackings").unwrap().rate, 6);
        assert_eq!(find("couriers").unwrap().rate, 5);
        assert_eq!(find("orders").unwrap().rate, 10);
    }

    #[test]
    fn children_carry_their_parents_fields_then_their_own() {
        for s in &STREAMS {
            let parent = match s.source {
                Source::Child(l) => l.parent,
                Source::Search(q) => q.parent,
                Source::List => continue,
            };
            let p = find(parent).unwrap_or_else(|| panic!("{} names no parent", s.name));
            if let Source::Child(l) = s.source {
                let (own, inherited) = l.carry_as.split_last().unwrap();
                assert_eq!(inherited, p.parent_fields(), "{}", s.name);
                assert!(s.primary_key.contains(own), "{}", s.name);
            }
        }
        assert_eq!(
            find("fulfillments").unwrap().parent_fields(),
            ["store_id", "order_id"]
        );
        assert_eq!(
            find("orders").unwrap().own_key().collect::<Vec<_>>(),
            ["id"]
        );
    }
}
