use clap::Parser;

fn main() {
    let cli = source_aftership::cli::Cli::parse();
    std::process::exit(source_aftership::run(cli));
}
