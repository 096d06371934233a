//! The partition router: which partitions a stream reads. A stream's cursor
//! groups are one per record of its outermost parent list (a store), or the whole
//! stream; within a group, the partitions are the group itself, one per record
//! of each parent level below it (fulfillments per order), or one per search.

use super::cursor::{Group, saved};
use super::emit::{CursorVal, cursor_val};
use super::feed::{Feed, Plan};
use super::key::parent_value;
use super::listing::Reach;
use super::partition::Partition;
use super::run::Run;
use super::walk::Sink;
use crate::config::LocationSearch;
use crate::http::ApiError;
use crate::paginate::Item;
use crate::protocol::LogLevel;
use crate::streams::{self, Link, Search, Source, StreamDef};
use serde_json::Value;
use std::collections::HashSet;

/// The links from a stream's outermost parent down to the stream (empty for a
/// list or a search).
pub fn chain(def: &StreamDef) -> Result<Vec<&'static Link>, String> {
    let mut links = Vec::new();
    let mut at = def.source;
    while let Source::Child(link) = at {
        if links.len() > streams::STREAMS.len() {
            return Err(format!("the parents of stream {} form a cycle", def.name));
        }
        links.push(link_ref(link)?);
        at = row(link.parent)?.source;
    }
    links.reverse();
    Ok(links)
}

/// The `'static` link a row holds (rows live in the table, or are leaked test rows).
fn link_ref(link: Link) -> Result<&'static Link, String> {
    streams::STREAMS
        .iter()
        .find_map(|s| match &s.source {
            Source::Child(l) if *l == link => Some(l),
            _ => None,
        })
        .map_or_else(|| Ok(&*Box::leak(Box::new(link))), Ok)
}

pub fn row(name: &str) -> Result<&'static StreamDef, String> {
    streams::find(name).ok_or_else(|| format!("names no parent `{name}`"))
}

/// The parent values of one walk, each once, in the order first seen.
#[derive(Default)]
struct Values {
    list: Vec<String>,
    seen: HashSet<String>,
    /// Records whose key field held no usable value.
    unusable: u64,
}

impl Values {
    fn push(&mut self, text: &str, field: &str) {
        match parent_value(text, field) {
            Some(v) if self.seen.insert(v.clone()) => self.list.push(v),
            Some(_) => {}
            None => self.unusable += 1,
        }
    }
}

impl<'a> Run<'a> {
    fn internal(&self, what: String) -> ApiError {
        ApiError::Bug {
            stream: self.def.name,
            message: format!("stream {} {what}", self.def.name),
            stack_trace: None,
        }
    }

    pub(super) fn chain(&self) -> Result<Vec<&'static Link>, ApiError> {
        chain(self.def).map_err(|e| self.internal(e))
    }

    /// The cursor groups: one per record of the outermost parent list, or the
    /// whole stream.
    pub(super) async fn groups(&mut self) -> Result<Vec<Partition>, ApiError> {
        let chain = self.chain()?;
        let Some(&link) = chain.first() else {
            return Ok(vec![Partition::default()]);
        };
        let root = row(link.parent).map_err(|e| self.internal(e))?;
        let values = self
            .parent_values(
                root,
                link.parent_key,
                &Partition::default(),
                &[Reach::All],
                None,
            )
            .await?;
        Ok(values.into_iter().map(|v| Partition::of(link, v)).collect())
    }

    /// The partitions read within the group `group`: the group itself; or, for
    /// each parent level below it, one per parent record to visit; or one per
    /// search.
    pub(super) async fn partitions(
        &mut self,
        group: &Partition,
        g: &Group,
    ) -> Result<Vec<Partition>, ApiError> {
        if let Source::Search(search) = self.def.source {
            return Ok(self
                .searches(&search)
                .await?
                .into_iter()
                .map(|s| Partition::search(s.params))
                .collect());
        }
        let chain = self.chain()?;
        let mut parts = vec![group.clone()];
        for &link in chain.iter().skip(1) {
            let parent = row(link.parent).map_err(|e| self.internal(e))?;
            let (reaches, since) = self.reaches(g);
            let mut next = Vec::new();
            for within in &parts {
                let values = self
                    .parent_values(parent, link.parent_key, within, &reaches, since)
                    .await?;
                next.extend(values.into_iter().map(|v| within.with(link, v)));
            }
            parts = next;
        }
        Ok(parts)
    }

    /// Which records of an intermediate parent to visit, and the least cursor
    /// value a record of a whole walk ([`Reach::All`]) needs to be visited: all
    /// of them on a first or full read; afterwards those updated since the
    /// group's cursor and those created within the lookback window (a child's
    /// change is not known to move its parent). Updated since the cursor is
    /// found by the parent's newest-updated listing, or, when the group's
    /// reconcile is due, by walking the parent's whole list (a change made on
    /// AfterShip's side moves `updated_at` but not the listing's sort clock).
    fn reaches(&self, g: &Group) -> (Vec<Reach>, Option<chrono::DateTime<chrono::Utc>>) {
        let config = &self.ctx.config;
        let first = saved(&self.cursor, g.store.as_deref()).is_none();
        match g.threshold {
            Some(t) if self.incremental() && !first && !config.fulfillments_scan_all_orders => {
                let (mut r, since) = if g.whole {
                    (vec![Reach::All], Some(t))
                } else {
                    (vec![Reach::UpdatedSince(t)], None)
                };
                if config.fulfillments_lookback > chrono::Duration::zero() {
                    r.push(Reach::CreatedSince(
                        self.ctx.now - config.fulfillments_lookback,
                    ));
                }
                (r, since)
            }
            _ => (vec![Reach::All], None),
        }
    }

    /// The stream has a whole walk that a sorted listing otherwise shortens: its
    /// own list, or a parent list below its cursor group, can be sorted.
    pub(super) fn reconciles(&self) -> bool {
        self.def.sorts.is_some()
            || self.chain().is_ok_and(|c| {
                c.iter()
                    .skip(1)
                    .any(|l| row(l.parent).is_ok_and(|r| r.sorts.is_some()))
            })
    }

    /// The values of `key` on the records of `parent` within `within` that fall
    /// in one of `reaches`, each once: the parent's sorted listing where it has
    /// one, else every record of its list; of a whole walk only the records
    /// whose cursor value is at or after `since` (or has none), where given.
    async fn parent_values(
        &mut self,
        parent: &'static StreamDef,
        key: &str,
        within: &Partition,
        reaches: &[Reach],
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<String>, ApiError> {
        let mut values = Values::default();
        let mut reached_all = false;
        for &reach in reaches {
            let ctx: &'a super::Ctx = self.ctx;
            let plan = |page_size| Plan {
                ctx,
                def: parent,
                base: within.request(parent),
                page_size,
                times: None,
                label: within.describe(),
            };
            let mut feed = match parent.sorts {
                Some(sorts) => Feed::sorted(plan(self.ctx.config.page_size), sorts, reach),
                None => {
                    // No sort order: every parent record, as the list gives them.
                    if std::mem::replace(&mut reached_all, true) {
                        continue;
                    }
                    Feed::plain(plan(None), self.inputs(since, None))
                }
            };
            let mut take = |item: &Item<'_>| {
                let changed = match (reach, cursor_val(&item.cursor)) {
                    (Reach::UpdatedSince(t), CursorVal::At(at)) => at >= t,
                    (Reach::All, CursorVal::At(at)) => since.is_none_or(|s| at >= s),
                    _ => true,
                };
                if changed {
                    values.push(item.text, key);
                }
            };
            let mut sink = Sink::Parents {
                parent,
                take: &mut take,
            };
            self.walk(&mut feed, within, &mut sink).await?;
        }
        if values.unusable > 0 {
            self.ctx.out.log(
                LogLevel::Warn,
                &format!(
                    "stream {}{}: {} records of {} have no usable `{key}` (not a string or a number); their {} cannot be asked for and were not read",
                    self.def.name,
                    within.describe(),
                    values.unusable,
                    parent.name,
                    self.def.name
                ),
            );
            self.summary.truncated.push(format!(
                "stream {}{}: {} {} without a usable `{key}`",
                self.def.name,
                within.describe(),
                values.unusable,
                parent.name
            ));
        }
        Ok(values.list)
    }

    /// The configured searches, else one per distinct search the parent's
    /// records give.
    async fn searches(&mut self, search: &Search) -> Result<Vec<LocationSearch>, ApiError> {
        if !self.ctx.config.locations_searches.is_empty() {
            return Ok(self.ctx.config.locations_searches.clone());
        }
        let parent = row(search.parent).map_err(|e| self.internal(e))?;
        let mut out: Vec<LocationSearch> = Vec::new();
        let mut take = |item: &Item<'_>| {
            let derived = serde_json::from_str::<Value>(item.text)
                .ok()
                .and_then(|v| search.derive(&v))
                .map(|params| LocationSearch { params });
            if let Some(s) = derived {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        };
        let ctx: &'a super::Ctx = self.ctx;
        let plan = Plan {
            ctx,
            def: parent,
            base: Partition::default().request(parent),
            page_size: None,
            times: None,
            label: String::new(),
        };
        let mut feed = Feed::plain(plan, self.inputs(None, None));
        let mut sink = Sink::Parents {
            parent,
            take: &mut take,
        };
        self.walk(&mut feed, &Partition::default(), &mut sink)
            .await?;
        if out.is_empty() {
            self.ctx.out.log(
                LogLevel::Info,
                &format!(
                    "stream {}: no location searches are configured (`locations_searches`) and no record of {} gives one; nothing to read",
                    self.def.name, search.parent
                ),
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_run_from_the_outermost_parent_down() {
        let names = |s: &str| -> Vec<&str> {
            chain(streams::find(s).unwrap())
                .unwrap()
                .iter()
                .map(|l| l.parent)
                .collect()
        };
        assert_eq!(names("fulfillments"), ["stores", "orders"]);
        assert_eq!(names("orders"), ["stores"]);
        assert!(names("trackings").is_empty());
        assert!(names("locations").is_empty());
    }

    #[test]
    fn parent_values_are_kept_once_in_order_numbers_included() {
        let mut v = Values::default();
        for r in [
            r#"{"id":"b"}"#,
            r#"{"id":"a"}"#,
            r#"{"id":"b"}"#,
            r#"{"id":5}"#,
            r#"{"id":null}"#,
            r#"{"id":{"x":1}}"#,
        ] {
            v.push(r, "id");
        }
        assert_eq!(v.list, ["b", "a", "5"]);
        assert_eq!(v.unusable, 2);
    }
}
