//! `system service`: the Engine API server, run in the sibling binary
//! `yurta-service` (it links OpenSSL for TLS, which `yurta` does not).
//! (`system df` is in [`crate::df`].)

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser};

use crate::Ctx;

/// `system service`'s flags (podman's, plus TLS).
#[derive(Args)]
pub struct ServiceArgs {
    /// Exit after this many seconds without a connection (0: never;
    /// default 5, or 0 with --web)
    #[arg(short, long)]
    pub time: Option<u64>,
    /// Also serve the web console on HOST:PORT (loopback: plain HTTP; any
    /// other address: TLS, with --tls-cert/--tls-key or a self-signed
    /// certificate made on first start). Accounts: `yurta web user add`
    #[arg(long, value_name = "ADDR")]
    pub web: Option<String>,
    /// PEM certificate chain for TLS on tcp://
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA whose client certificates are required (mutual TLS)
    #[arg(long, requires = "tls_cert")]
    pub tls_verify: Option<PathBuf>,
    /// Seconds a client has to send its request headers and JSON body
    #[arg(long, default_value_t = 30, hide = true)]
    pub read_timeout: u64,
    /// Largest JSON request body, in bytes
    #[arg(long, default_value_t = 4 << 20, hide = true)]
    pub max_body: usize,
    /// unix:///PATH (default unix:///run/yurta/yurta.sock) or tcp://HOST:PORT;
    /// without it, sockets passed by systemd (LISTEN_FDS) if any
    pub uri: Option<String>,
}

/// `yurta system service`: becomes `yurta-service` with the same
/// command line (already parsed and valid here).
pub fn service(ctx: &Ctx, _a: ServiceArgs) -> anyhow::Result<()> {
    let bin = ctx.binaries.sibling("yurta-service");
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "yurta".into());
    let err = Command::new(&bin).arg0(arg0).args(args).exec();
    Err(err).with_context(|| format!("run {}", bin.display()))
}

/// `yurta-service`'s main: parses `yurta`'s command line and serves.
pub fn service_main() -> ExitCode {
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
    let crate::cli::Command::System(crate::cli::SystemCommand::Service(a)) = cli.command else {
        errln!("yurta-service: only `system service` runs here; use yurta");
        return ExitCode::from(crate::ENGINE_ERROR);
    };
    match serve(cli.root, a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("yurta: {}", crate::out::OneLine(&e));
            ExitCode::from(crate::ENGINE_ERROR)
        }
    }
}

fn serve(root: PathBuf, a: ServiceArgs) -> anyhow::Result<()> {
    let endpoint = a.uri.as_deref().map(str::parse).transpose()?;
    let web = a.web.clone();
    let time = a.time.unwrap_or(if web.is_some() { 0 } else { 5 });
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(yurta_api::TlsFiles {
            cert,
            key,
            client_ca: a.tls_verify,
        }),
        _ => None,
    };
    let read = Duration::from_secs(a.read_timeout.max(1));
    let cfg = yurta_api::Config {
        endpoint,
        idle: Some(time).filter(|t| *t > 0).map(Duration::from_secs),
        tls,
        host: crate::info::host(&crate::binaries())?,
        // `yurta` beside this `yurta-service`: the supervisors' exit
        // command runs the CLI (`container cleanup`), which this binary
        // does not serve.
        binaries: yurta_engine::Binaries::in_dir(
            crate::binaries().runtime.parent().unwrap_or(Path::new(".")),
        ),
        limits: yurta_api::Limits {
            body: a.max_body,
            header_timeout: read,
            body_timeout: read,
            ..Default::default()
        },
        root,
    };
    let mut frontends = Vec::new();
    if let Some(web) = web {
        // The API's certificate, without its client CA: browsers bring none.
        let tls = cfg.tls.clone().map(|t| yurta_api::TlsFiles {
            client_ca: None,
            ..t
        });
        frontends.push(web_console(&cfg.root, &web, tls)?);
    }
    Ok(yurta_api::serve_with(cfg, frontends)?)
}

/// The web console's listener for `--web ADDR`; says where it is.
fn web_console(
    root: &Path,
    addr: &str,
    tls: Option<yurta_api::TlsFiles>,
) -> anyhow::Result<yurta_api::Frontend> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| anyhow::anyhow!("--web {addr:?}: use HOST:PORT, e.g. 127.0.0.1:8090"))?;
    let cfg = yurta_web::WebConfig {
        root: root.to_path_buf(),
        addr,
        tls,
    };
    let (front, started) = yurta_web::frontend(&cfg)?;
    errln!("yurta: web console on {}", started.url);
    if let Some(fp) = started.fingerprint {
        errln!("yurta: its self-signed certificate's SHA-256 fingerprint: {fp}");
    }
    if !yurta_web::pages_built_in() {
        errln!("yurta: warning: this binary was built without the web console's pages (run scripts/web.sh, then build again)");
    }
    if yurta_web::accounts::Accounts::new(root)
        .list()
        .map_or(true, |u| u.is_empty())
    {
        errln!("yurta: warning: no web console accounts yet: yurta web user add NAME");
    }
    Ok(front)
}
