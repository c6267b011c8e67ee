//! The web console: containers and VMs in a browser, served by `yurta
//! system service --web ADDR` in the same process as the Engine API.
//!
//! It is a front end like the CLI and the API: lists and actions go to
//! the API's own routes (under `/api/docker/`), VMs, files, terminals and
//! screens to `yurta-engine`; it owns only what a browser needs on top —
//! accounts ([`accounts`]), sessions and CSRF tokens ([`sessions`]), login
//! throttling ([`throttle`]), console tickets ([`tickets`]), the pages
//! built from web/ ([`assets`]) and the WebSockets of the consoles
//! ([`terminals`]). docs/web.md describes the routes.

pub mod accounts;
mod assets;
mod files;
mod http;
mod routes;
pub mod sessions;
mod stats;
mod terminals;
pub mod throttle;
pub mod tickets;
mod tls;
mod vms;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::header::COOKIE;
use hyper::{Request, Response};
use yurta_api::body::Body;
use yurta_api::{Front, Frontend, FrontendHandler, TlsFiles};

/// What `--web` asks for.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub root: PathBuf,
    pub addr: SocketAddr,
    /// `--tls-cert/--tls-key`; None on a non-loopback address: a
    /// self-signed certificate under `<root>/web/tls`.
    pub tls: Option<TlsFiles>,
}

/// The console's state, shared by its connections.
pub struct Web {
    root: PathBuf,
    users: accounts::KnownUsers,
    sessions: sessions::Sessions,
    throttle: throttle::Throttle,
    tickets: tickets::Tickets,
    stats: stats::Hub,
}

impl Web {
    /// The request's live session whose user still exists.
    fn session(&self, req: &Request<Incoming>) -> Option<sessions::Session> {
        let cookies = req.headers().get(COOKIE)?.to_str().ok()?;
        let id = sessions::cookie(cookies, sessions::COOKIE)?;
        let s = self.sessions.get(id, Instant::now())?;
        if !self.users.contains(&s.user) {
            self.sessions.close(id);
            return None;
        }
        Some(s)
    }
}

struct Handler(Arc<Web>);

impl FrontendHandler for Handler {
    fn handle(
        &self,
        req: Request<Incoming>,
        cx: Front,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(routes::handle(self.0.clone(), req, cx))
    }
}

/// Whether this binary has the pages (scripts/web.sh ran before the build).
pub fn pages_built_in() -> bool {
    assets::built_in()
}

/// A password check takes 19 MiB (argon2). glibc gives the first such
/// block its own mapping, then raises its threshold and serves the next
/// ones from a heap that keeps them resident after they are freed; a fixed
/// threshold keeps every large block a mapping, returned when freed.
fn large_blocks_from_the_system() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes the allocator's tuning; called before
    // the service's threads allocate such blocks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// What the service prints about the console once it listens.
pub struct Started {
    pub url: String,
    /// SHA-256 of a self-signed certificate made for the console.
    pub fingerprint: Option<String>,
}

/// Binds the console's address and makes its front end for
/// `yurta_api::serve_with`.
pub fn frontend(cfg: &WebConfig) -> anyhow::Result<(Frontend, Started)> {
    large_blocks_from_the_system();
    let loopback = cfg.addr.ip().is_loopback();
    let (tls, fingerprint) = match (&cfg.tls, loopback) {
        (Some(files), _) => (Some(yurta_tls::acceptor(files)?), None),
        (None, true) => (None, None),
        (None, false) => {
            let (files, fp) = tls::self_signed(&cfg.root)?;
            (Some(yurta_tls::acceptor(&files)?), Some(fp))
        }
    };
    let listener = std::net::TcpListener::bind(cfg.addr)
        .with_context(|| format!("--web {}: listen", cfg.addr))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let web = Arc::new(Web {
        root: cfg.root.clone(),
        users: accounts::KnownUsers::new(&cfg.root),
        sessions: Default::default(),
        throttle: Default::default(),
        tickets: Default::default(),
        stats: Default::default(),
    });
    let started = Started {
        url: format!("{scheme}://{addr}/"),
        fingerprint,
    };
    let front = Frontend {
        listener,
        tls,
        handler: Arc::new(Handler(web)),
    };
    Ok((front, started))
}
