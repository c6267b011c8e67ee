//! `yurta registry serve|gc`: the registry server (crates/registry-server),
//! run in the sibling binary `yurta-registry-server`, which links OpenSSL
//! for TLS (`yurta` does not). Only argument types and the hand-over here.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::Ctx;

/// The sibling's file name, next to `yurta`.
const SERVER: &str = "yurta-registry-server";

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Serve an OCI registry (Distribution Spec v1.1 and Docker Registry v2)
    /// from a storage directory (docs/registry-server.md)
    #[command(after_help = "Plain HTTP is served only on loopback addresses; give \
--tls-cert and --tls-key (or --insecure) to listen elsewhere.\n\n\
Examples:\n  yurta registry serve --storage /srv/registry\n  \
yurta registry serve --listen 0.0.0.0:5000 --tls-cert reg.crt --tls-key reg.key --htpasswd users\n  \
yurta registry serve --config /etc/yurta/registry.toml")]
    Serve(ServeArgs),
    /// Remove blobs no manifest refers to and abandoned uploads (safe while
    /// the server runs: recent pushes are kept)
    Gc(GcArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// HOST:PORT to listen on [default: 127.0.0.1:5000]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Where blobs, manifests and uploads are kept [default: /var/lib/yurta/registry]
    #[arg(long, value_name = "DIR")]
    pub storage: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require logins from this htpasswd file (bcrypt: `htpasswd -Bc FILE USER`)
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// Refuse pushes and deletes
    #[arg(long)]
    pub read_only: bool,
    /// TOML config file (listen, storage, tls, auth, per-repository access);
    /// flags override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Allow plain HTTP on addresses other than loopback
    #[arg(long)]
    pub insecure: bool,
    /// Seconds a request body may stall before the client is cut off
    #[arg(long, hide = true)]
    pub body_idle_timeout: Option<u64>,
}

#[derive(Args)]
pub struct GcArgs {
    /// The storage directory [default: the config's, else /var/lib/yurta/registry]
    #[arg(long, value_name = "DIR")]
    pub storage: Option<PathBuf>,
    /// The server's config file (for its storage directory)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep unreferenced blobs pushed and uploads touched within this many
    /// seconds (and always those no earlier gc run has seen)
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub grace: u64,
    /// Only report what would be removed
    #[arg(long)]
    pub dry_run: bool,
}

/// `yurta registry …`: this process becomes `yurta-registry-server` with
/// the same command line (already parsed and valid here).
pub fn run_in_sibling(ctx: &Ctx, _cmd: RegistryCommand) -> anyhow::Result<()> {
    let bin = ctx.binaries.sibling(SERVER);
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "yurta".into());
    let err = Command::new(&bin).arg0(arg0).args(args).exec();
    Err(err).with_context(|| format!("run {}", bin.display()))
}

/// `yurta-registry-server`'s main: parses `yurta`'s command line and runs
/// `registry serve` or `registry gc`.
pub fn server_main() -> ExitCode {
    let cli = match crate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                crate::ENGINE_ERROR
            } else {
                0
            });
        }
    };
    let crate::cli::Command::Registry(cmd) = cli.command else {
        errln!("{SERVER}: only `registry serve` and `registry gc` run here; use yurta");
        return ExitCode::from(crate::ENGINE_ERROR);
    };
    let result = match cmd {
        RegistryCommand::Serve(a) => serve(a),
        RegistryCommand::Gc(a) => gc(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("yurta: {}", crate::out::OneLine(&e));
            ExitCode::from(crate::ENGINE_ERROR)
        }
    }
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let cfg = yurta_registry_server::config::resolve(yurta_registry_server::Options {
        config: a.config,
        listen: a.listen,
        storage: a.storage,
        tls_cert: a.tls_cert,
        tls_key: a.tls_key,
        htpasswd: a.htpasswd,
        read_only: a.read_only,
        insecure: a.insecure,
        body_idle_timeout: a.body_idle_timeout.map(|s| Duration::from_secs(s.max(1))),
    })?;
    Ok(yurta_registry_server::serve(cfg)?)
}

fn gc(a: GcArgs) -> anyhow::Result<()> {
    let from_file = match &a.config {
        Some(p) => yurta_registry_server::config::load(p)?.storage,
        None => None,
    };
    let storage = a
        .storage
        .or(from_file)
        .unwrap_or_else(|| yurta_registry_server::config::DEFAULT_STORAGE.into());
    let opts = yurta_registry_server::GcOptions {
        grace: Duration::from_secs(a.grace),
        dry_run: a.dry_run,
    };
    let r = yurta_registry_server::gc(&storage, opts)?;
    let verb = if a.dry_run { "would remove" } else { "removed" };
    println!(
        "{verb} {} blobs ({} bytes) and {} abandoned uploads; kept {} recently pushed blobs",
        r.blobs_removed, r.bytes_freed, r.uploads_removed, r.blobs_kept_marked
    );
    Ok(())
}
