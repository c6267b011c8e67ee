//! `yurta-service`: `yurta system service`, the Docker Engine API server
//! (crates/api), run by `yurta` with its own command line. Like
//! `yurta-registry` it links OpenSSL (for TLS), which `yurta` does not.

use std::process::ExitCode;

fn main() -> ExitCode {
    yurta::system::service_main()
}
