//! `yurta`: Docker-compatible containers, images and virtual machines
//! without a daemon. The commands are in the library; the registry
//! commands run in the sibling `yurta-registry`, so that this binary does
//! not load OpenSSL (see `yurta::registry_helper`).

use std::process::ExitCode;

fn main() -> ExitCode {
    yurta::main_with(yurta::registry_helper::run_in_sibling)
}
