//! The `locations` stream: AfterShip's carrier drop-off location search, run for
//! each configured search, or for each distinct carrier and address of the
//! shipper accounts.

use super::run::{Partition, Run, string_field};
use crate::config::LocationSearch;
use crate::http::{ApiError, Request};
use crate::paginate::Pager;
use crate::protocol::LogLevel;
use serde_json::Value;
use std::collections::HashSet;

impl Run<'_> {
    /// Carrier location searches: the configured ones, else one per distinct
    /// carrier and address of the shipper accounts.
    pub(super) async fn read_locations(&mut self, parent: &str) -> Result<(), ApiError> {
        let configured = !self.ctx.config.locations_searches.is_empty();
        let searches = if configured {
            self.ctx.config.locations_searches.clone()
        } else {
            self.derived_searches(parent).await?
        };
        if searches.is_empty() {
            self.ctx.out.log(
                LogLevel::Info,
                "stream locations: no location searches are configured (`locations_searches`) and no shipper account has a carrier and address to derive one from; nothing to read",
            );
            return Ok(());
        }
        let mut seen_ids = HashSet::new();
        for search in searches {
            let req = Request {
                product: self.def.product,
                path: self.def.path,
                query: search.params.clone(),
                store_id: None,
            };
            let mut pager = Pager::new(&self.ctx.client, &self.ctx.sizes, self.def, req, None)
                .with_times(&self.time_fields);
            loop {
                let page = match pager.next().await {
                    Ok(Some(p)) => p,
                    Ok(None) => break,
                    Err(ApiError::Refused { message, .. }) if !configured => {
                        self.ctx.out.log(
                            LogLevel::Warn,
                            &format!(
                                "stream locations: the search {} (derived from a shipper account) was refused: {message}; skipped",
                                describe_search(&search)
                            ),
                        );
                        break;
                    }
                    Err(ApiError::Refused { message, .. }) => {
                        // The user's own search: a configuration to fix.
                        return Err(ApiError::BadConfig {
                            product: self.def.product,
                            message: format!(
                                "the configured location search {} was refused: {message}; check `locations_searches`",
                                describe_search(&search)
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                };
                let fresh = page.items().filter(|r| {
                    string_field(r.text, "location_id").is_none_or(|id| seen_ids.insert(id))
                });
                self.take_page(fresh, None, &mut None, &Partition::default())?;
            }
        }
        Ok(())
    }

    async fn derived_searches(&mut self, parent: &str) -> Result<Vec<LocationSearch>, ApiError> {
        let def = self.parent_def(parent)?;
        let mut out: Vec<LocationSearch> = Vec::new();
        self.parent_records(def, None, |r| {
            let search = serde_json::from_str::<Value>(r.text)
                .ok()
                .and_then(|v| search_from_account(&v));
            if let Some(s) = search {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        })
        .await?;
        Ok(out)
    }
}

fn describe_search(s: &LocationSearch) -> String {
    s.params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// slug + the address fields of a shipper account, as a location search.
fn search_from_account(v: &Value) -> Option<LocationSearch> {
    let slug = v
        .get("slug")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())?;
    let addr = v.get("address")?;
    let mut params = vec![("slug".to_string(), slug.to_string())];
    for (param, fields) in [
        ("country", &["country"][..]),
        ("postal_code", &["postal_code"][..]),
        ("city", &["city"][..]),
        ("state", &["state"][..]),
        ("street", &["street1", "street_1", "street"][..]),
    ] {
        if let Some(val) = fields.iter().find_map(|f| {
            addr.get(*f)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        }) {
            params.push((param.to_string(), val.to_string()));
        }
    }
    (params.len() > 1).then_some(LocationSearch { params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_search_from_shipper_account() {
        let v = serde_json::json!({"slug":"fedex","address":{"country":"USA","postal_code":"10001","street1":"1 Main St","city":null}});
        let s = search_from_account(&v).unwrap();
        assert_eq!(
            s.params,
            vec![
                ("slug".to_string(), "fedex".to_string()),
                ("country".to_string(), "USA".to_string()),
                ("postal_code".to_string(), "10001".to_string()),
                ("street".to_string(), "1 Main St".to_string())
            ]
        );
        assert!(search_from_account(&serde_json::json!({"slug":"fedex"})).is_none());
    }
}
