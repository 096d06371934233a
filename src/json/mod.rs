//! JSON text: the one validating pass over a page ([`envelope`]), on a hand-written
//! reader ([`reader`]) and following a stream's date-time fields ([`times`]);
//! values found by key ([`lookup`]) and single fields out of a record's text
//! ([`scan`]); the documented rewrites spliced into a record's text on its way out
//! ([`shape`], [`splice`]).
//!
//! Inside `json/` the modules depend one way: `reader` and `times` on nothing,
//! `lookup` on `reader`, `envelope` on those three, `scan` on `envelope`,
//! `splice` on `lookup` and `reader`, `shape` on `splice` and `times`.

pub mod envelope;
mod lookup;
mod reader;
pub mod scan;
pub mod shape;
pub mod splice;
mod times;
