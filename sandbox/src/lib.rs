//! The AfterShip sandbox (being written).
