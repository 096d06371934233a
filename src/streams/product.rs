//! The six AfterShip API products: each has its own envelope dialect, rate-limit
//! bucket and permission (a key may be denied one product and allowed the others).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Tracking,
    Returns,
    Protection,
    Commerce,
    Members,
    Shipping,
}

impl Product {
    pub const ALL: [Product; 6] = [
        Product::Tracking,
        Product::Returns,
        Product::Protection,
        Product::Commerce,
        Product::Members,
        Product::Shipping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Product::Tracking => "Tracking",
            Product::Returns => "Returns",
            Product::Protection => "Protection",
            Product::Commerce => "Commerce",
            Product::Members => "Members",
            Product::Shipping => "Shipping",
        }
    }

    /// The rate-limit bucket a request to `path` counts against.
    pub fn limit_key(self, path: &str) -> String {
        match self {
            Product::Tracking => format!("tracking:{path}"),
            other => other.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_limits_each_endpoint_the_others_the_organisation() {
        assert_ne!(
            Product::Tracking.limit_key("/a"),
            Product::Tracking.limit_key("/b")
        );
        assert_eq!(
            Product::Commerce.limit_key("/a"),
            Product::Commerce.limit_key("/b")
        );
    }
}
