//! What a stream says about its read beside the records: cursor values it could
//! not use, and listings AfterShip cut short.

use super::partition::Partition;
use super::run::Run;
use crate::paginate::{End, Walked};
use crate::protocol::LogLevel;

impl Run<'_> {
    pub(super) fn finish_warnings(&self) {
        let field = self.def.cursor.unwrap_or("cursor");
        if self.no_cursor > 0 {
            self.ctx.out.log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a missing or unparseable `{field}`; they were emitted but did not move the cursor",
                    self.def.name, self.no_cursor
                ),
            );
        }
        if self.future_cursor > 0 {
            self.ctx.out.log(
                LogLevel::Warn,
                &format!(
                    "stream {}: {} records had a `{field}` more than a day in the future; they were emitted but did not move the cursor",
                    self.def.name, self.future_cursor
                ),
            );
        }
    }

    /// A listing AfterShip cut short: say so now, and in the stream's status and
    /// the read summary at the end.
    pub fn truncated(&mut self, p: &Partition, what: &str) {
        let line = format!("stream {}{}: {what}", self.def.name, p.describe());
        self.ctx.out.log(
            LogLevel::Warn,
            &format!("{line}. This listing is truncated."),
        );
        self.summary.truncated.push(line);
    }

    /// A partition of this stream did not complete (skipped, gone or failed): say
    /// so now, and in the read summary at the end.
    pub fn incomplete(&mut self, p: &Partition, level: LogLevel, what: &str) {
        let line = format!("stream {}{}: {what}", self.def.name, p.describe());
        self.ctx.out.log(level, &line);
        self.summary.incomplete.push(line);
    }

    /// A walk ended at its page bound or with one full page: say what was missed.
    pub fn report_end(&mut self, p: &Partition, pager: &Walked) {
        match pager.end {
            Some(End::Capped) => {
                let missed = match pager.total {
                    Some(t) => format!(
                        "{} records could not be reached ({} of {t} were read)",
                        t.saturating_sub(pager.records),
                        pager.records
                    ),
                    None => format!(
                        "more records exist, but {} were read and the API gives no total",
                        pager.records
                    ),
                };
                let what = format!(
                    "AfterShip serves at most {} pages of {} to one query; {missed}",
                    self.def.paging.max_page, pager.limit
                );
                self.truncated(p, &what);
            }
            Some(End::OnePage { full: true }) => {
                let what = format!(
                    "the API takes no paging parameters here and its one page is full ({} records); more may exist",
                    pager.limit
                );
                self.truncated(p, &what);
            }
            _ => {}
        }
    }
}
