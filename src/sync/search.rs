//! Streams read as a search per parameter set (carrier drop-off locations): the
//! configured searches, or one derived from each record of the parent, as the
//! row's [`Search`] says which parent fields feed which parameters.

use super::emit::string_field;
use super::partition::Partition;
use super::run::Run;
use crate::config::LocationSearch;
use crate::http::ApiError;
use crate::paginate::Pager;
use crate::protocol::LogLevel;
use crate::streams::Search;
use serde_json::Value;
use std::collections::HashSet;

impl Run<'_> {
    /// The configured searches, else one per distinct search the parent's records
    /// give; records found by several searches are emitted once.
    pub(super) async fn read_search(&mut self, search: &Search) -> Result<(), ApiError> {
        let configured = !self.ctx.config.locations_searches.is_empty();
        let searches = if configured {
            self.ctx.config.locations_searches.clone()
        } else {
            self.derived_searches(search).await?
        };
        let name = self.def.name;
        if searches.is_empty() {
            self.ctx.out.log(
                LogLevel::Info,
                &format!(
                    "stream {name}: no location searches are configured (`locations_searches`) and no record of {} gives one; nothing to read",
                    search.parent
                ),
            );
            return Ok(());
        }
        let mut seen = HashSet::new();
        for s in searches {
            let mut req = Partition::default().request(self.def);
            req.query = s.params.clone();
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
                                "stream {name}: the search {} (derived from a record of {}) was refused: {message}; skipped",
                                describe(&s),
                                search.parent
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
                                describe(&s)
                            ),
                        });
                    }
                    Err(e) => return Err(e),
                };
                let def = self.def;
                let fresh = page
                    .items()
                    .filter(|r| key_of(def.own_key(), r.text).is_none_or(|k| seen.insert(k)));
                self.take_page(fresh, None, &mut None, &Partition::default())?;
            }
        }
        Ok(())
    }

    async fn derived_searches(&mut self, search: &Search) -> Result<Vec<LocationSearch>, ApiError> {
        let def = self.parent_def(search.parent)?;
        let mut out: Vec<LocationSearch> = Vec::new();
        self.parent_records(def, &Partition::default(), |r| {
            let derived = serde_json::from_str::<Value>(r.text)
                .ok()
                .and_then(|v| search.derive(&v))
                .map(|params| LocationSearch { params });
            if let Some(s) = derived {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        })
        .await?;
        Ok(out)
    }
}

fn describe(s: &LocationSearch) -> String {
    s.params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string values of a record's key fields, joined; None when one is not a
/// string (such a record is never taken for another).
fn key_of<'k>(mut key: impl Iterator<Item = &'k str>, text: &str) -> Option<String> {
    key.try_fold(String::new(), |mut acc, k| {
        if !acc.is_empty() {
            acc.push('\u{1f}');
        }
        acc.push_str(&string_field(text, k)?);
        Some(acc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::{Source, find};

    #[test]
    fn a_location_search_from_a_shipper_account() {
        let Source::Search(search) = find("locations").unwrap().source else {
            panic!("locations is a search");
        };
        let v = serde_json::json!({"slug":"fedex","address":{"country":"USA","postal_code":"10001","street1":"1 Main St","city":null}});
        let params: Vec<String> = search
            .derive(&v)
            .unwrap()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            params,
            [
                "slug=fedex",
                "country=USA",
                "postal_code=10001",
                "street=1 Main St"
            ]
        );
        assert!(
            search
                .derive(&serde_json::json!({"slug":"fedex"}))
                .is_none()
        );
    }

    #[test]
    fn records_are_told_apart_by_their_string_keys() {
        let key = || ["location_id"].into_iter();
        assert_eq!(
            key_of(key(), r#"{"location_id":"a"}"#).as_deref(),
            Some("a")
        );
        assert_eq!(key_of(key(), r#"{"location_id":null}"#), None);
        assert_eq!(key_of(key(), r#"{}"#), None);
    }
}
