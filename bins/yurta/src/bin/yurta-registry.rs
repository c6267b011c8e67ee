//! `yurta-registry`: yurta's registry commands (pull, push, login,
//! logout), run by `yurta` with its own command line. It links OpenSSL,
//! which `yurta` itself does not load (~1.3 ms of every start).

use std::process::ExitCode;

fn main() -> ExitCode {
    yurta::main_with(yurta::registry::run_in_process)
}
