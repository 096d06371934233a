//! What a list endpoint lets a read narrow and order by: its server-side time
//! filter and its sort orders, each with the API's parameter names.

/// Sort orders a list endpoint offers (Commerce orders), each a parameter value and
/// the record field it sorts on. They let a read reach past a listing ceiling and
/// stop early on incremental reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorts {
    pub param: &'static str,
    /// Newest update first: incremental reads stop once they pass the cursor.
    pub updated_desc: Sort,
    /// Newest creation first (the API's default order).
    pub created_desc: Sort,
    /// Oldest creation first: the far end of a listing the ceiling cuts.
    pub created_asc: Sort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub value: &'static str,
    pub field: &'static str,
}

/// The server-side time filter a list endpoint offers, with its parameter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    /// On the update time, the cursor itself (Tracking `updated_at_min/max`).
    /// `field` is the record field the filter is on: a record whose value lies
    /// outside the window asked for is not emitted from that window.
    UpdatedAt {
        min: &'static str,
        max: &'static str,
        field: &'static str,
    },
    /// On the creation time only (Returns, Shipping `created_at_min/max`).
    CreatedAt {
        min: &'static str,
        max: &'static str,
        field: &'static str,
    },
}

impl Filter {
    /// The (min, max) parameter names, where the API filters on time.
    pub fn params(self) -> Option<(&'static str, &'static str)> {
        match self {
            Filter::None => None,
            Filter::UpdatedAt { min, max, .. } | Filter::CreatedAt { min, max, .. } => {
                Some((min, max))
            }
        }
    }

    /// The record field the filter is on, where the API filters on time.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Filter::None => None,
            Filter::UpdatedAt { field, .. } | Filter::CreatedAt { field, .. } => Some(field),
        }
    }

    pub fn on_creation(self) -> bool {
        matches!(self, Filter::CreatedAt { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_names_its_parameters() {
        let f = Filter::CreatedAt {
            min: "created_at_min",
            max: "created_at_max",
            field: "created_at",
        };
        assert_eq!(f.params(), Some(("created_at_min", "created_at_max")));
        assert!(f.on_creation());
        assert_eq!(f.field(), Some("created_at"));
        assert_eq!(Filter::None.params(), None);
        assert!(
            !Filter::UpdatedAt {
                min: "a",
                max: "b",
                field: "c"
            }
            .on_creation()
        );
    }
}
