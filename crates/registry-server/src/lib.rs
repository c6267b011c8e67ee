//! yurta's registry server (`yurta registry serve`, `yurta registry gc`):
//! the OCI Distribution Spec v1.1 — pull, push, content discovery and
//! content management — over a content-addressed storage directory.
//!
//! - [`names`]: repository names, tags and digests, validated;
//! - [`storage`]: blobs, manifests, tags, referrers, uploads, gc;
//! - [`manifest`]: what a pushed manifest names;
//! - [`auth`]: htpasswd, Basic and bearer tokens, per-repository rules;
//! - [`http`]: the routes and the server loop;
//! - [`config`]: the config file and flags.
//!
//! It does not own the command line (bins/yurta) or TLS loading
//! (crates/tls).

pub mod auth;
pub mod config;
pub mod errors;
pub mod http;
pub mod manifest;
pub mod names;
pub mod storage;

use std::net::TcpListener;
use std::sync::Arc;

pub use config::{Options, ServerConfig};
pub use storage::gc::{GcOptions, GcReport};

use auth::{Auth, Htpasswd};
use storage::{Sessions, Storage};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Htpasswd(#[from] auth::HtpasswdError),
    #[error(transparent)]
    Tls(#[from] yurta_tls::TlsError),
    #[error("listen on {addr}: {error}")]
    Listen {
        addr: std::net::SocketAddr,
        error: std::io::Error,
    },
    #[error("start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// Serves until SIGTERM or SIGINT.
pub fn serve(cfg: ServerConfig) -> Result<(), ServeError> {
    let storage = Storage::open(&cfg.storage)?;
    let users = cfg.htpasswd.as_deref().map(Htpasswd::load).transpose()?;
    let auth = Auth::new(
        users,
        cfg.rules.clone(),
        cfg.scheme,
        cfg.realm.clone(),
        cfg.service.clone(),
    );
    let acceptor = cfg.tls.as_ref().map(yurta_tls::acceptor).transpose()?;
    let listener = TcpListener::bind(cfg.listen).map_err(|error| ServeError::Listen {
        addr: cfg.listen,
        error,
    })?;
    let addr = listener.local_addr().unwrap_or(cfg.listen);
    let st = Arc::new(http::State {
        storage,
        sessions: Sessions::default(),
        auth,
        read_only: cfg.read_only,
        limits: cfg.limits,
        tls: acceptor.is_some(),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
        .map_err(ServeError::Runtime)?;
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    eprintln!(
        "yurta registry: serving {} on {scheme}://{addr}",
        cfg.storage.display()
    );
    rt.block_on(async move {
        listener
            .set_nonblocking(true)
            .map_err(ServeError::Runtime)?;
        let l = tokio::net::TcpListener::from_std(listener).map_err(ServeError::Runtime)?;
        tokio::spawn(http::accept_loop(l, st, acceptor.map(Arc::new)));
        wait_for_signal().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// One garbage collection of the storage under `root`.
pub fn gc(root: &std::path::Path, opts: GcOptions) -> Result<GcReport, storage::StorageError> {
    Storage::open(root)?.gc(opts)
}
