//! `yurta-runtime`: the OCI runtime binary. Each command is a few lines that
//! call `yurta-container`; errors are printed as one line (and to --log as
//! runc-style JSON when asked) and the exit code is 1, as runc's.

mod commands;
mod console;
mod log;
mod run;
mod update;

use clap::Parser;
use yurta_oci_cli::{normalize_args, Cli};

fn main() {
    let cli = match Cli::try_parse_from(normalize_args(std::env::args())) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let logger = log::Logger::new(&cli.global);
    logger.debug(&format!("{:?}", cli.command));
    match commands::dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            logger.error(&err);
            std::process::exit(1);
        }
    }
}
