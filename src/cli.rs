//! The command line: exactly Airbyte's source contract.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "source-aftership",
    version,
    about = "Airbyte source connector for AfterShip: trackings, returns, protection, commerce, members and shipping.",
    long_about = None
)]
pub struct Cli {
    /// Log at DEBUG level (as LOG messages on stdout).
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the connector specification.
    Spec,
    /// Check that the config's API key works, API by API.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the catalog of the 22 streams.
    Discover {
        #[arg(long)]
        config: PathBuf,
    },
    /// Read the configured streams.
    Read {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        catalog: PathBuf,
        #[arg(long)]
        state: Option<PathBuf>,
    },
}
