//! pull, push, login, logout: thin handlers over `yurta-registry` (HTTP,
//! auth, TLS) and `yurta-images` (the store). This module owns how the
//! command line becomes a client: TLS verification, insecure (plain http)
//! registries, CA directories and the credentials file.

mod fetch;
mod login;
mod pool;
mod pull;
mod push;
mod report;

use std::path::PathBuf;

use anyhow::Context;
use yurta_registry::{Client, ClientConfig, DEFAULT_CERTS_DIRS};

pub use login::{login, logout};
pub use pull::{pull, pull_quiet};
pub use push::push;

use crate::cli::RegistryOpts;
use crate::{Ctx, RegistryCommand};

/// Runs a registry command in this process (`yurta-registry`).
pub fn run_in_process(ctx: &Ctx, cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Pull(a) => pull(ctx, a),
        RegistryCommand::Push(a) => push(ctx, a),
        RegistryCommand::Login(a) => login(ctx, a),
        RegistryCommand::Logout(a) => logout(ctx, a),
        RegistryCommand::PullForRun { image, platform } => {
            pull_quiet(ctx, &image, platform.as_deref())
        }
    }
}

/// Plain-http registries, one `host[:port]` a line (`#` comments).
const INSECURE_FILE: &str = "/etc/yurta/insecure-registries";
/// Plain-http registries, comma-separated; added to the file's.
const INSECURE_ENV: &str = "YURTA_INSECURE_REGISTRIES";
/// Replaces /etc/yurta/certs.d (`<dir>/<host[:port]>/*.crt`).
const CERTS_ENV: &str = "YURTA_CERTS_DIR";

/// The credentials file: `--authfile` / `YURTA_AUTH_FILE`, else
/// `~/.config/yurta/auth.json`.
pub fn auth_file(given: Option<&PathBuf>) -> PathBuf {
    if let Some(p) = given {
        return p.clone();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".config/yurta/auth.json")
}

/// The registries to reach over plain http.
pub(crate) fn insecure_registries() -> Vec<String> {
    let file = std::fs::read_to_string(INSECURE_FILE).unwrap_or_default();
    let env = std::env::var(INSECURE_ENV).unwrap_or_default();
    let from_file = file.lines().map(|l| l.split('#').next().unwrap_or(""));
    from_file
        .chain(env.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn certs_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = DEFAULT_CERTS_DIRS.iter().map(PathBuf::from).collect();
    if let Some(dir) = std::env::var_os(CERTS_ENV) {
        dirs[0] = PathBuf::from(dir);
    }
    dirs
}

/// A client configured from the command line and the environment.
pub fn client(opts: &RegistryOpts) -> Client {
    let mut config = ClientConfig::default()
        .tls_verify(opts.tls_verify.unwrap_or(true))
        .certs_dirs(certs_dirs())
        .auth_file(auth_file(opts.authfile.as_ref()));
    for r in insecure_registries() {
        config = config.insecure_registry(&r);
    }
    crate::progress::debug(&format!("registry client: {config:?}"));
    Client::new(config)
}

/// The registry's digest type from the store's.
fn registry_digest(d: &yurta_images::Digest) -> anyhow::Result<yurta_registry::Digest> {
    d.to_string().parse().with_context(|| format!("digest {d}"))
}

/// Docker's short form of a blob digest: 12 hex digits.
fn short(d: &impl std::fmt::Display) -> String {
    let s = d.to_string();
    let hex = s.split_once(':').map_or(s.as_str(), |(_, h)| h);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_digests() {
        assert_eq!(short(&"sha256:0123456789abcdef"), "0123456789ab");
    }

    #[test]
    fn auth_file_default_and_override() {
        let p = PathBuf::from("/x/auth.json");
        assert_eq!(auth_file(Some(&p)), p);
        assert!(auth_file(None).ends_with(".config/yurta/auth.json"));
    }
}
