//! pull, push, login, logout: thin handlers over `yurta-registry` (HTTP,
//! auth, TLS) and `yurta-images` (the store). This module owns how the
//! command line becomes a client: TLS verification, insecure (plain http)
//! registries, CA directories and the credentials file.

pub(crate) mod login;
mod pull;
mod push;
mod report;

pub use report::Report;

use std::path::PathBuf;

use yurta_engine::distribution::{self, ClientOptions};
use yurta_registry::Client;

pub use login::{login, logout};
pub use pull::{pull, pull_quiet};
pub use push::push;

use crate::cli::RegistryOpts;
use crate::{Ctx, RegistryCommand};

/// Runs a registry command in this process (`yurta-registry`).
pub fn run_in_process(ctx: &Ctx, cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Build(a) => crate::build::build(ctx, a),
        RegistryCommand::Pull(a) => pull(ctx, a),
        RegistryCommand::Push(a) => push(ctx, a),
        RegistryCommand::Login(a) => login(ctx, a),
        RegistryCommand::Logout(a) => logout(ctx, a),
        RegistryCommand::ManifestPush(a) => crate::manifest::push(ctx, a),
        RegistryCommand::ManifestInspect(a) => crate::manifest::inspect_remote(ctx, a),
        RegistryCommand::ImportUrl(a) => crate::archive::import_url(ctx, a),
        RegistryCommand::PullForRun { image, platform } => {
            pull_quiet(ctx, &image, platform.as_deref())
        }
    }
}

/// A client configured from the command line and the environment
/// (`yurta_engine::distribution::settings`).
pub fn client(opts: &RegistryOpts) -> Client {
    let opts = ClientOptions {
        tls_verify: opts.tls_verify,
        auth_file: opts.authfile.clone(),
        credentials: None,
    };
    let config = distribution::settings::config(&opts);
    crate::progress::debug(&format!("registry client: {config:?}"));
    Client::new(config)
}

/// The credentials file of `--authfile`, else the default.
pub fn auth_file(given: Option<&PathBuf>) -> PathBuf {
    distribution::auth_file(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_file_default_and_override() {
        let p = PathBuf::from("/x/auth.json");
        assert_eq!(auth_file(Some(&p)), p);
        assert!(auth_file(None).ends_with("auth.json"));
    }
}
