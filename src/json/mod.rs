//! JSON text: the one validating pass over a page ([`envelope`]), reading single
//! fields out of a record's text ([`scan`]), and the documented rewrites spliced
//! into a record's text on its way out ([`shape`]).

pub mod envelope;
pub mod scan;
pub mod shape;
pub mod splice;
