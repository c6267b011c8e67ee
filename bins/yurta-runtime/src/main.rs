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
    if cli.command.only_reports() {
        quiet_on_closed_stdout();
    }
    let logger = log::Logger::new(&cli.global);
    logger.debug(&format!("{:?}", cli.command));
    match commands::dispatch(&cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            logger.error(&err);
            std::process::exit(exit_code_of(&err));
        }
    }
}

/// A command that only prints (state, list, ps, features, events) ends as a
/// Unix filter does when its reader goes away: by SIGPIPE, with no
/// message (Rust ignores SIGPIPE by default; runc, in Go, dies of it).
/// Commands that change containers keep EPIPE as an error: they must not
/// die between two steps.
fn quiet_on_closed_stdout() {
    // SAFETY: restoring a signal's default action before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// 126/127 when the container's command cannot run (as a shell, so engines
/// can pass it on), 1 for every other failure (as runc).
fn exit_code_of(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| match e.downcast_ref::<yurta_container::Error>() {
            Some(yurta_container::Error::CannotRun { exit_code, .. }) => Some(*exit_code),
            _ => None,
        })
        .unwrap_or(1)
}
