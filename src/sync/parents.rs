//! Streams read once per record of a parent: per Commerce store (orders,
//! products) and per order of each store (fulfillments).

use super::cursor::saved;
use super::listing::{Listing, Reach};
use super::run::{CursorVal, Partition, Run, cursor_val, string_field};
use crate::http::{ApiError, Request};
use crate::paginate::{Item, Pager};
use crate::streams::{self, StreamDef};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

impl Run<'_> {
    /// The row of the parent stream `parent` names.
    pub(super) fn parent_def(&self, parent: &str) -> Result<&'static StreamDef, ApiError> {
        streams::find(parent).ok_or_else(|| ApiError::Broken {
            product: self.def.product,
            message: format!(
                "internal: stream {} names no parent `{parent}`",
                self.def.name
            ),
        })
    }

    /// Walk every page of a parent list, handing each record to `each`; a listing
    /// cut at AfterShip's page ceiling is reported on this stream.
    pub(super) async fn parent_records(
        &mut self,
        def: &'static StreamDef,
        store_id: Option<String>,
        mut each: impl FnMut(Item<'_>),
    ) -> Result<(), ApiError> {
        let req = Request {
            product: def.product,
            path: def.path,
            query: Vec::new(),
            store_id: store_id.clone(),
        };
        let mut pager = Pager::new(&self.ctx.client, &self.ctx.sizes, def, req, None);
        while let Some(page) = pager.next().await? {
            page.items().for_each(&mut each);
        }
        if pager.capped() {
            let p = Partition {
                store_id,
                ..Partition::default()
            };
            let what = format!(
                "its parent list {} stops at AfterShip's ceiling after {} records; the children of the {} not listed were not read",
                def.path, pager.records, def.name
            );
            self.truncated(&p, &what);
        }
        Ok(())
    }

    /// The ids of the parent's records, each once, in the API's order.
    async fn parent_ids(&mut self, parent: &str) -> Result<Vec<String>, ApiError> {
        let def = self.parent_def(parent)?;
        let mut ids: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        self.parent_records(def, None, |r| {
            if let Some(id) = string_field(r.text, "id") {
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
        })
        .await?;
        Ok(ids)
    }

    /// Orders and products: one partition per store. A stream the API can sort is
    /// read as a [`Listing`]: in full the first time (past the page ceiling by its
    /// two creation orders), afterwards newest-updated first down to the cursor.
    pub(super) async fn read_per_store(&mut self, parent: &str) -> Result<(), ApiError> {
        for store in self.parent_ids(parent).await? {
            let started = Utc::now();
            let threshold = self.threshold(Some(&store));
            let p = Partition {
                store_id: Some(store),
                ..Partition::default()
            };
            match self.def.sorts {
                Some(sorts) => {
                    let reach = match (self.incremental(), threshold) {
                        (true, Some(t)) if saved(&self.cursor, p.store_id.as_deref()).is_some() => {
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
                        self.advance_cursor(p.store_id.as_deref(), t, started);
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

    /// The orders of `store` whose fulfillments to read: all of them on a first
    /// or full read; afterwards those updated since the store's cursor and those
    /// created within the lookback window (a fulfillment's change is not known to
    /// move its order).
    async fn orders_to_visit(
        &mut self,
        orders: &'static StreamDef,
        store: &str,
        threshold: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, ApiError> {
        let config = &self.ctx.config;
        let first = saved(&self.cursor, Some(store)).is_none();
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
        let p = Partition {
            store_id: Some(store.to_string()),
            order_id: None,
        };
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |ids: &mut Vec<String>, text: &str| {
            if let Some(id) = string_field(text, "id") {
                if seen.insert(id.clone()) {
                    ids.push(id);
                }
            }
        };
        for reach in reaches {
            let req = Request {
                product: orders.product,
                path: orders.path,
                query: Vec::new(),
                store_id: Some(store.to_string()),
            };
            let Some(sorts) = orders.sorts else {
                // No sort order: every order, as the list gives them.
                self.parent_records(orders, Some(store.to_string()), |r| push(&mut ids, r.text))
                    .await?;
                continue;
            };
            let mut listing = Listing::new(
                self.ctx,
                orders,
                sorts,
                req,
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
                        push(&mut ids, item.text);
                    }
                }
            }
            if let Some(what) = listing.unreached.take() {
                self.truncated(&p, &format!("{what}; their fulfillments were not read"));
            }
        }
        Ok(ids)
    }

    /// Fulfillments: per store, the orders to visit, then each order's
    /// fulfillments; one cursor per store.
    pub(super) async fn read_per_order(&mut self, parent: &str) -> Result<(), ApiError> {
        let orders = self.parent_def(parent)?;
        let streams::Source::PerStore { parent: stores } = orders.source else {
            return Err(ApiError::Broken {
                product: self.def.product,
                message: format!("internal: `{parent}` is not read per store"),
            });
        };
        for store in self.parent_ids(stores).await? {
            let started = Utc::now();
            let threshold = self.threshold(Some(&store));
            let order_ids = self.orders_to_visit(orders, &store, threshold).await?;
            // One request per order: fetch a few orders' fulfillments at a time (the
            // Commerce rate limiter still paces them), then emit them in order.
            let width = self.ctx.config.max_concurrent_requests.clamp(1, 4);
            let mut seen = None;
            for chunk in order_ids.chunks(width) {
                let targets: Vec<(Partition, Pager)> = chunk
                    .iter()
                    .map(|order| {
                        let p = Partition {
                            store_id: Some(store.clone()),
                            order_id: Some(order.clone()),
                        };
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
                self.advance_cursor(Some(&store), t, started);
            }
            self.checkpoint();
        }
        Ok(())
    }
}
