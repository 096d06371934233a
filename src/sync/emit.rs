//! The record selector and emitter: a page's records at or after the group's
//! threshold kept (and, where partitions overlap, each record once), the newest
//! cursor value tracked, each shaped (parent values, UTC date-times, withheld
//! secrets) and written through the protocol writer.

use super::cursor::Group;
use super::key::first_time;
use super::partition::Partition;
use super::run::Run;
use crate::http::ApiError;
use crate::json::scan::Field;
use crate::json::shape::{self, Rewrites};
use crate::paginate::Item;
use crate::protocol::StreamStatus;
use crate::time::parse_instant;
use chrono::{DateTime, Utc};

/// A record's cursor value.
pub(super) enum CursorVal {
    At(DateTime<Utc>),
    Missing,
    Unparseable,
}

pub(super) fn cursor_val(f: &Field<'_>) -> CursorVal {
    match f {
        Field::Str(s) => parse_instant(s).map_or(CursorVal::Unparseable, CursorVal::At),
        Field::Missing | Field::Null => CursorVal::Missing,
        Field::Other => CursorVal::Unparseable,
    }
}

impl Run<'_> {
    /// Emit one page's records that pass the group's threshold, tracking the
    /// newest cursor.
    pub fn take_page<'r>(
        &mut self,
        records: impl Iterator<Item = Item<'r>>,
        g: &mut Group,
        p: &Partition,
    ) -> Result<(), ApiError> {
        let kept = self.filter_and_track(records, g);
        self.emit(&kept, p)?;
        self.summary.pages += 1;
        if self.ctx.out.is_broken() {
            return Err(ApiError::Interrupted);
        }
        Ok(())
    }

    /// Keep records at or after `threshold` (records without a usable cursor are
    /// kept and counted); track the newest plausible cursor value.
    fn filter_and_track<'r>(
        &mut self,
        records: impl Iterator<Item = Item<'r>>,
        g: &mut Group,
    ) -> Vec<Item<'r>> {
        let horizon = self.ctx.now + chrono::Duration::days(1);
        let mut kept = Vec::new();
        for item in records {
            if let Some(once) = &mut self.once {
                // Partitions that overlap (searches): each record once per sync.
                if !first_time(once, self.def, item.text) {
                    continue;
                }
            }
            if self.def.cursor.is_some() {
                match cursor_val(&item.cursor) {
                    CursorVal::At(t) => {
                        if g.threshold.is_some_and(|th| t < th) {
                            continue;
                        }
                        if t > horizon {
                            self.future_cursor += 1;
                        } else {
                            g.saw(t);
                        }
                    }
                    CursorVal::Missing | CursorVal::Unparseable => self.no_cursor += 1,
                }
            }
            kept.push(item);
        }
        kept
    }

    fn emit(&mut self, records: &[Item<'_>], p: &Partition) -> Result<(), ApiError> {
        if records.is_empty() {
            return Ok(());
        }
        if !self.running {
            self.running = true;
            self.ctx
                .out
                .stream_status(self.def.name, StreamStatus::Running);
        }
        let parents = p.carried();
        let rw = Rewrites {
            parents: &parents,
            withheld: self.withheld,
        };
        let mut data = Vec::with_capacity(records.len());
        for r in records {
            let shaped = shape::shape(r.text, r.times, r.multiline, &rw).map_err(|why| {
                ApiError::Broken {
                    product: self.def.product,
                    message: format!(
                        "stream {}{}: {why}, so it cannot carry its parent ids (part of its primary key)",
                        self.def.name,
                        p.describe()
                    ),
                }
            })?;
            data.push(shaped);
        }
        self.ctx.out.records(self.def.name, &data);
        self.since_state += records.len() as u64;
        self.summary.records += records.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_instant;

    fn cursor_of(text: &str, field: &str) -> CursorVal {
        cursor_val(&crate::json::scan::top_level_field(text, field))
    }

    #[test]
    fn reads_top_level_cursor_only() {
        let r = r#"{"a":{"updated_at":"2020-01-01T00:00:00Z"},"updated_at":"2025-01-01T08:00:00+08:00","z":[1]}"#;
        match cursor_of(r, "updated_at") {
            CursorVal::At(t) => assert_eq!(format_instant(t), "2025-01-01T00:00:00Z"),
            _ => panic!("no cursor"),
        }
        assert!(matches!(
            cursor_of(r#"{"id":1}"#, "updated_at"),
            CursorVal::Missing
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":null}"#, "updated_at"),
            CursorVal::Missing
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":"soon"}"#, "updated_at"),
            CursorVal::Unparseable
        ));
        assert!(matches!(
            cursor_of(r#"{"updated_at":5}"#, "updated_at"),
            CursorVal::Unparseable
        ));
    }
}
