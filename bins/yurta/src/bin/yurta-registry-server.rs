//! `yurta-registry-server`: `yurta registry serve|gc`, the registry server
//! (crates/registry-server), run by `yurta` with its own command line.
//! Like `yurta-service` it links OpenSSL (for TLS), which `yurta` does not.

use std::process::ExitCode;

fn main() -> ExitCode {
    yurta::registry_server::server_main()
}
