//! Streams read once per record of a parent (a child relation of the table): per
//! record of a parent list (Commerce orders and products per store), or per record
//! of a parent that is itself read per record of a list (fulfillments per order
//! of each store).

use super::cursor::saved;
use super::emit::{CursorVal, cursor_val, string_field};
use super::listing::{Listing, Reach};
use super::partition::Partition;
use super::run::Run;
use crate::http::ApiError;
use crate::paginate::{Item, Pager};
use crate::streams::{self, Link, Source, StreamDef};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

impl Run<'_> {
    /// The row of the parent stream `parent` names.
    pub(super) fn parent_def(&self, parent: &str) -> Result<&'static StreamDef, ApiError> {
        streams::find(parent).ok_or_else(|| self.internal(format!("names no parent `{parent}`")))
    }

    fn internal(&self, what: String) -> ApiError {
        ApiError::Bug {
            stream: self.def.name,
            message: format!("stream {} {what}", self.def.name),
            stack_trace: None,
        }
    }

    /// Walk every page of the parent list `def` within `within`, handing each
    /// record to `each`; a listing cut at AfterShip's page ceiling is reported on
    /// this stream.
    pub(super) async fn parent_records(
        &mut self,
        def: &'static StreamDef,
        within: &Partition,
        mut each: impl FnMut(Item<'_>),
    ) -> Result<(), ApiError> {
        let mut pager = Pager::new(
            &self.ctx.client,
            &self.ctx.sizes,
            def,
            within.request(def),
            None,
        );
        while let Some(page) = pager.next().await? {
            page.items().for_each(&mut each);
        }
        if pager.capped() {
            let what = format!(
                "its parent list {} stops at AfterShip's ceiling after {} records; the children of the {} not listed were not read",
                def.path, pager.records, def.name
            );
            self.truncated(within, &what);
        }
        Ok(())
    }

    /// The values of `link`'s key on the records of its parent list, each once, in
    /// the API's order.
    async fn parent_values(&mut self, link: &Link) -> Result<Vec<String>, ApiError> {
        let def = self.parent_def(link.parent)?;
        let mut values = Unique::default();
        self.parent_records(def, &Partition::default(), |r| {
            values.push(r.text, link.parent_key)
        })
        .await?;
        Ok(values.list)
    }

    /// A child: per record of a parent list, or per record of a parent that is
    /// itself a child of a list.
    pub(super) async fn read_child(&mut self, link: &'static Link) -> Result<(), ApiError> {
        let parent = self.parent_def(link.parent)?;
        match &parent.source {
            Source::List => self.read_per_parent(link).await,
            Source::Child(up) if self.parent_def(up.parent)?.source == Source::List => {
                self.read_per_grandparent(parent, up, link).await
            }
            _ => Err(self.internal(format!(
                "is a child of `{}`, which is not read from a list or a child of one",
                parent.name
            ))),
        }
    }

    /// One partition per parent record, each with its own cursor. A stream the
    /// API can sort is read as a [`Listing`]: in full the first time (past the
    /// page ceiling by its two creation orders), afterwards newest-updated first
    /// down to the cursor.
    async fn read_per_parent(&mut self, link: &'static Link) -> Result<(), ApiError> {
        for value in self.parent_values(link).await? {
            let started = Utc::now();
            let threshold = self.threshold(Some(&value));
            let p = Partition::of(link, value);
            match self.def.sorts {
                Some(sorts) => {
                    let reach = match (self.incremental(), threshold) {
                        (true, Some(t)) if saved(&self.cursor, p.outer()).is_some() => {
                            Reach::UpdatedSince(t)
                        }
                        _ => Reach::All,
                    };
                    let mut listing = Listing::new(
                        self.ctx,
                        self.def,
                        sorts,
                        self.request(&p),
                        self.ctx.config.page_size,
                        Some(self.time_fields.clone()),
                        reach,
                    );
                    let mut seen = None;
                    while let Some(page) = listing.next().await? {
                        let fresh: Vec<Item<'_>> =
                            page.items().filter(|i| listing.fresh(i)).collect();
                        self.take_page(fresh.into_iter(), threshold, &mut seen, &p)?;
                    }
                    if let Some(what) = listing.unreached.take() {
                        self.truncated(&p, &what);
                    }
                    if let Some(t) = seen {
                        self.advance_cursor(p.outer(), t, started);
                    }
                }
                None => self.read_partition(&p, threshold, started).await?,
            }
            if self.def.cursor.is_some() {
                self.checkpoint();
            }
        }
        Ok(())
    }

    /// The records of the parent `parent` within `within` whose children to read:
    /// all of them on a first or full read; afterwards those updated since the
    /// partition's cursor and those created within the lookback window (a child's
    /// change is not known to move its parent).
    async fn parents_to_visit(
        &mut self,
        parent: &'static StreamDef,
        key: &str,
        within: &Partition,
        threshold: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, ApiError> {
        let config = &self.ctx.config;
        let first = saved(&self.cursor, within.outer()).is_none();
        let reaches = match threshold {
            Some(t) if self.incremental() && !first && !config.fulfillments_scan_all_orders => {
                let mut r = vec![Reach::UpdatedSince(t)];
                if config.fulfillments_lookback > chrono::Duration::zero() {
                    r.push(Reach::CreatedSince(
                        self.ctx.now - config.fulfillments_lookback,
                    ));
                }
                r
            }
            _ => vec![Reach::All],
        };
        let mut values = Unique::default();
        for reach in reaches {
            let Some(sorts) = parent.sorts else {
                // No sort order: every parent record, as the list gives them.
                self.parent_records(parent, within, |r| values.push(r.text, key))
                    .await?;
                continue;
            };
            let mut listing = Listing::new(
                self.ctx,
                parent,
                sorts,
                within.request(parent),
                self.ctx.config.page_size,
                None,
                reach,
            );
            while let Some(page) = listing.next().await? {
                for item in page.items() {
                    let changed = match (reach, cursor_val(&item.cursor)) {
                        (Reach::UpdatedSince(t), CursorVal::At(at)) => at >= t,
                        _ => true,
                    };
                    if listing.fresh(&item) && listing.wanted(&item) && changed {
                        values.push(item.text, key);
                    }
                }
            }
            if let Some(what) = listing.unreached.take() {
                let what = format!("{what}; their {} were not read", self.def.name);
                self.truncated(within, &what);
            }
        }
        Ok(values.list)
    }

    /// A child of a child of a list: per record of the list (`up`), the parent
    /// records to visit, then each one's children; one cursor per record of the
    /// list.
    async fn read_per_grandparent(
        &mut self,
        parent: &'static StreamDef,
        up: &'static Link,
        link: &'static Link,
    ) -> Result<(), ApiError> {
        for outer in self.parent_values(up).await? {
            let started = Utc::now();
            let threshold = self.threshold(Some(&outer));
            let within = Partition::of(up, outer);
            let keys = self
                .parents_to_visit(parent, link.parent_key, &within, threshold)
                .await?;
            // One request per parent record: fetch a few at a time (the rate
            // limiter still paces them), then emit them in order.
            let width = self.ctx.config.max_concurrent_requests.clamp(1, 4);
            let mut seen = None;
            for chunk in keys.chunks(width) {
                let targets: Vec<(Partition, Pager)> = chunk
                    .iter()
                    .map(|key| {
                        let p = within.with(link, key.clone());
                        let pager = self.pager(self.request(&p));
                        (p, pager)
                    })
                    .collect();
                let fetches = targets.into_iter().map(|(p, mut pager)| async move {
                    let mut pages = Vec::new();
                    while let Some(page) = pager.next().await? {
                        pages.push(page);
                    }
                    Ok::<_, ApiError>((p, pager, pages))
                });
                for fetched in futures_util::future::join_all(fetches).await {
                    let (p, pager, pages) = fetched?;
                    for page in &pages {
                        self.take_page(page.items(), threshold, &mut seen, &p)?;
                    }
                    self.report_end(&p, &pager);
                }
            }
            if let Some(t) = seen {
                self.advance_cursor(within.outer(), t, started);
            }
            self.checkpoint();
        }
        Ok(())
    }
}

/// String values of one field of records, each once, in the order first seen.
#[derive(Default)]
struct Unique {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Unique {
    fn push(&mut self, text: &str, field: &str) {
        if let Some(v) = string_field(text, field) {
            if self.seen.insert(v.clone()) {
                self.list.push(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_once_in_the_order_first_seen() {
        let mut u = Unique::default();
        for r in [
            r#"{"id":"b"}"#,
            r#"{"id":"a"}"#,
            r#"{"id":"b"}"#,
            r#"{"id":5}"#,
        ] {
            u.push(r, "id");
        }
        assert_eq!(u.list, ["b", "a"]);
    }
}
