//! The service's loop: the listeners, one task per connection (HTTP/1.1
//! through hyper, TLS through OpenSSL), the limits, and the idle exit.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::{Ssl, SslAcceptor};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, Semaphore};

use crate::body::Body;
use crate::listen::{self, Bound, Endpoint, ListenError};
pub use yurta_tls::TlsFiles;

/// What `yurta system service` was asked for.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    /// None: the sockets systemd passed, else [`listen::DEFAULT`].
    pub endpoint: Option<Endpoint>,
    /// Exit after this long without a connection; None: never.
    pub idle: Option<Duration>,
    pub tls: Option<TlsFiles>,
    pub host: yurta_engine::system::Host,
    /// The binaries that run containers (the supervisor, the runtime, the
    /// exit command's `yurta`).
    pub binaries: yurta_engine::Binaries,
    pub limits: Limits,
}

/// Protections against clients that send too much or too slowly.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest JSON request body (image uploads are streamed, unbounded).
    pub body: usize,
    /// A client has this long to send a request's headers (slowloris),
    /// and to finish a TLS handshake.
    pub header_timeout: Duration,
    /// ... and this long to send a JSON body.
    pub body_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body: 4 << 20,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            connections: 512,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error(transparent)]
    Tls(#[from] yurta_tls::TlsError),
    #[error("start the service's runtime: {0}")]
    Runtime(std::io::Error),
}

/// What every request handler shares.
pub(crate) struct State {
    pub root: PathBuf,
    pub host: yurta_engine::system::Host,
    /// The root and binaries for the container lifecycle calls.
    pub engine: yurta_engine::Host,
    /// Attaches waiting for their container's start.
    pub attaches: crate::containers::Pending,
    /// Exec instances (`docker exec`).
    pub execs: crate::exec::Execs,
    pub limits: Limits,
    activity: Activity,
}

/// Open connections, and a wake-up when their number changes.
#[derive(Default)]
struct Activity {
    open: AtomicUsize,
    changed: Notify,
}

/// Counts one connection while it lives.
struct Open<'a>(&'a Activity);

impl Activity {
    fn enter(&self) -> Open<'_> {
        self.open.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_one();
        Open(self)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_one();
    }
}

/// Another front end the same process serves beside the API (the web
/// console): its bound listener, its TLS, and what answers its requests.
pub struct Frontend {
    pub listener: std::net::TcpListener,
    pub tls: Option<SslAcceptor>,
    pub handler: Arc<dyn FrontendHandler>,
}

/// Answers a front end's requests; it may hand some to the API ([`Api`]).
pub trait FrontendHandler: Send + Sync + 'static {
    fn handle(
        &self,
        req: Request<Incoming>,
        cx: Front,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
}

/// What a front end's request comes with.
#[derive(Clone)]
pub struct Front {
    pub api: Api,
    /// The client's address.
    pub peer: IpAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// The API as a front end sees it: its routes, and the engine's host.
#[derive(Clone)]
pub struct Api(Arc<State>);

impl Api {
    /// Answers `req` as the API socket would (its path without the
    /// front end's prefix).
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        crate::routes::handle(self.0.clone(), req).await
    }

    /// The root and binaries the engine's calls take.
    pub fn engine(&self) -> &yurta_engine::Host {
        &self.0.engine
    }

    /// Counts as an open connection while it lives (an upgraded
    /// websocket's), so the idle exit waits for it.
    pub fn busy(&self) -> Busy {
        let a = &self.0.activity;
        a.open.fetch_add(1, Ordering::SeqCst);
        a.changed.notify_one();
        Busy(self.0.clone())
    }
}

/// See [`Api::busy`].
pub struct Busy(Arc<State>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0.activity;
        a.open.fetch_sub(1, Ordering::SeqCst);
        a.changed.notify_one();
    }
}

/// Serves until the idle time passes or SIGTERM/SIGINT; removes the
/// socket file it made.
pub fn serve(cfg: Config) -> Result<(), ServeError> {
    serve_with(cfg, Vec::new())
}

/// [`serve`], with other front ends on their own listeners.
pub fn serve_with(cfg: Config, frontends: Vec<Frontend>) -> Result<(), ServeError> {
    let mut bound = listen::activated()?;
    if bound.is_empty() || cfg.endpoint.is_some() {
        let ep = match &cfg.endpoint {
            Some(ep) => ep.clone(),
            None => listen::DEFAULT.parse()?,
        };
        bound = vec![listen::bind(&ep, cfg.tls.is_some())?];
    }
    let acceptor = cfg.tls.as_ref().map(yurta_tls::acceptor).transpose()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(32)
        .thread_keep_alive(Duration::from_secs(5))
        .build()
        .map_err(ServeError::Runtime)?;
    let state = Arc::new(State {
        root: cfg.root.clone(),
        host: cfg.host.clone(),
        engine: yurta_engine::Host {
            root: cfg.root.clone(),
            binaries: cfg.binaries.clone(),
        },
        attaches: Default::default(),
        execs: Default::default(),
        limits: cfg.limits,
        activity: Activity::default(),
    });
    rt.block_on(async {
        for f in frontends {
            let l = tokio::net::TcpListener::from_std(f.listener).map_err(ServeError::Runtime)?;
            let front = FrontendLoop {
                state: state.clone(),
                handler: f.handler,
                tls: f.tls.map(Arc::new),
            };
            tokio::spawn(front.accept(l));
        }
        run(state, bound, acceptor.map(Arc::new), cfg.idle).await
    })
}

/// A front end's listener.
struct FrontendLoop {
    state: Arc<State>,
    handler: Arc<dyn FrontendHandler>,
    tls: Option<Arc<SslAcceptor>>,
}

impl FrontendLoop {
    async fn accept(self, l: tokio::net::TcpListener) {
        let me = Arc::new(self);
        let slots = Arc::new(Semaphore::new(me.state.limits.connections));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            match l.accept().await {
                Ok((s, peer)) => {
                    let me = me.clone();
                    tokio::spawn(async move {
                        let _ = s.set_nodelay(true);
                        me.connection(s, peer.ip()).await;
                        drop(permit);
                    });
                }
                Err(e) => accept_failed(e).await,
            }
        }
    }

    async fn connection(self: Arc<Self>, s: tokio::net::TcpStream, peer: IpAddr) {
        let Some(acceptor) = self.tls.clone() else {
            return self.serve(s, peer, false).await;
        };
        let Ok(ssl) = Ssl::new(acceptor.context()) else {
            return;
        };
        let Ok(mut stream) = tokio_openssl::SslStream::new(ssl, s) else {
            return;
        };
        let handshake = std::pin::Pin::new(&mut stream).accept();
        if let Ok(Ok(())) = tokio::time::timeout(self.state.limits.header_timeout, handshake).await
        {
            self.serve(stream, peer, true).await;
        }
    }

    async fn serve<S>(self: Arc<Self>, io: S, peer: IpAddr, tls: bool)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let _open = self.state.activity.enter();
        let front = Front {
            api: Api(self.state.clone()),
            peer,
            tls,
        };
        let me = self.clone();
        let svc = service_fn(move |req| {
            let fut = me.handler.handle(req, front.clone());
            async move { Ok::<_, Infallible>(fut.await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(self.state.limits.header_timeout)
            .serve_connection(TokioIo::new(io), svc)
            .with_upgrades();
        let _ = conn.await;
    }
}

async fn run(
    state: Arc<State>,
    bound: Vec<Bound>,
    acceptor: Option<Arc<SslAcceptor>>,
    idle: Option<Duration>,
) -> Result<(), ServeError> {
    let slots = Arc::new(Semaphore::new(state.limits.connections));
    let mut files = Vec::new();
    for b in bound {
        match b {
            Bound::Unix(l, file) => {
                files.push(file);
                let l = tokio::net::UnixListener::from_std(l).map_err(ServeError::Runtime)?;
                tokio::spawn(accept_unix(l, state.clone(), slots.clone()));
            }
            Bound::Tcp(l) => {
                let l = tokio::net::TcpListener::from_std(l).map_err(ServeError::Runtime)?;
                let tls = acceptor.clone();
                tokio::spawn(accept_tcp(l, state.clone(), slots.clone(), tls));
            }
        }
    }
    wait_for_end(&state, idle).await;
    drop(files);
    Ok(())
}

/// Accepts while a connection slot is free; one task per connection.
async fn accept_unix(l: tokio::net::UnixListener, st: Arc<State>, slots: Arc<Semaphore>) {
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        match l.accept().await {
            Ok((s, _)) => {
                let st = st.clone();
                tokio::spawn(async move {
                    connection(s, st).await;
                    drop(permit);
                });
            }
            Err(e) => accept_failed(e).await,
        }
    }
}

async fn accept_tcp(
    l: tokio::net::TcpListener,
    st: Arc<State>,
    slots: Arc<Semaphore>,
    tls: Option<Arc<SslAcceptor>>,
) {
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        match l.accept().await {
            Ok((s, _)) => {
                let (st, tls) = (st.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = s.set_nodelay(true);
                    match tls {
                        Some(a) => tls_connection(s, &a, st).await,
                        None => connection(s, st).await,
                    }
                    drop(permit);
                });
            }
            Err(e) => accept_failed(e).await,
        }
    }
}

/// Too many open files and the like: wait a little instead of spinning.
async fn accept_failed(e: std::io::Error) {
    eprintln!("yurta system service: accept: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Until a signal, or `idle` without any open connection.
async fn wait_for_end(state: &State, idle: Option<Duration>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    let a = &state.activity;
    loop {
        let quiet = a.open.load(Ordering::SeqCst) == 0;
        let timer = async {
            match idle {
                Some(d) if quiet => tokio::time::sleep(d).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term.recv() => return,
            _ = int.recv() => return,
            _ = a.changed.notified() => {}
            _ = timer => if a.open.load(Ordering::SeqCst) == 0 { return },
        }
    }
}

async fn tls_connection(s: tokio::net::TcpStream, acceptor: &SslAcceptor, state: Arc<State>) {
    let Ok(ssl) = Ssl::new(acceptor.context()) else {
        return;
    };
    let Ok(mut stream) = tokio_openssl::SslStream::new(ssl, s) else {
        return;
    };
    let handshake = std::pin::Pin::new(&mut stream).accept();
    match tokio::time::timeout(state.limits.header_timeout, handshake).await {
        Ok(Ok(())) => connection(stream, state).await,
        Ok(Err(e)) => eprintln!("yurta system service: TLS handshake: {e}"),
        Err(_) => {}
    }
}

/// HTTP/1.1 on one connection, upgrades allowed (attach, next).
async fn connection<S>(io: S, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let _open = state.activity.enter();
    let st = state.clone();
    let svc = service_fn(move |req| {
        let st = st.clone();
        async move { Ok::<_, Infallible>(crate::routes::handle(st, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.limits.header_timeout)
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    let _ = conn.await;
}
