//! The HTTP server: a listener (plain on loopback, else TLS through
//! OpenSSL unless `--insecure`), one task per connection (HTTP/1.1 via
//! hyper), a cap on open connections, and the routes.

mod blobs;
pub mod body;
mod listing;
mod manifests;
mod query;
pub mod routes;
mod token;
mod uploads;

use std::convert::Infallible;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::{Ssl, SslAcceptor};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

use crate::auth::Auth;
use crate::config::Limits;
use crate::errors::{ApiError, Code};
use crate::names::{Digest, DigestError};
use crate::storage::{Sessions, Storage};
use body::{full, Body};
use routes::{Req, Route};

/// What every request shares.
pub struct State {
    pub storage: Storage,
    pub sessions: Sessions,
    pub auth: Auth,
    pub read_only: bool,
    pub limits: Limits,
    /// Served over TLS (the token realm is then https).
    pub tls: bool,
}

/// A digest in a path or query: DIGEST_INVALID if it is not one.
pub(crate) fn digest_param(s: &str) -> Result<Digest, ApiError> {
    Digest::parse(s).map_err(|e| {
        let why = match e {
            DigestError::Invalid => "invalid digest",
            DigestError::Unsupported => "unsupported digest algorithm",
        };
        ApiError::detail(Code::DigestInvalid, format!("{why} {s:?}"))
    })
}

/// Runs blocking storage work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::storage::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::detail(Code::Unknown, e.to_string())),
    }
}

pub(crate) async fn dispatch_route(
    st: &Arc<State>,
    route: Route,
    req: Req,
) -> Result<Response<Body>, ApiError> {
    match route {
        Route::Base => Ok(Response::builder()
            .status(200)
            .header("Content-Type", "application/json")
            .body(full("{}"))
            .unwrap_or_default()),
        Route::Catalog => {
            only(&req, &[Method::GET])?;
            listing::catalog(st, req).await
        }
        Route::Tags(repo) => {
            only(&req, &[Method::GET])?;
            listing::tags(st, repo, req).await
        }
        Route::Referrers(repo, d) => {
            only(&req, &[Method::GET])?;
            listing::referrers(st, repo, &d, req).await
        }
        Route::Blob(repo, d) => {
            only(&req, &[Method::GET, Method::HEAD, Method::DELETE])?;
            blobs::blob(st, repo, &d, req).await
        }
        Route::Manifest(repo, r) => manifests::manifest(st, repo, &r, req).await,
        Route::UploadStart(repo) => uploads::start(st, repo, req).await,
        Route::Upload(repo, id) => uploads::session(st, repo, &id, req).await,
        Route::Token => token::answer(st, &req),
    }
}

/// UNSUPPORTED (405) unless the method is one of `allowed`.
fn only(req: &Req, allowed: &[Method]) -> Result<(), ApiError> {
    if allowed.contains(&req.method) {
        Ok(())
    } else {
        Err(ApiError::new(Code::Unsupported))
    }
}

/// Accepts while a connection slot is free; one task per connection.
pub async fn accept_loop(
    l: tokio::net::TcpListener,
    st: Arc<State>,
    tls: Option<Arc<SslAcceptor>>,
) {
    let slots = Arc::new(Semaphore::new(st.limits.connections));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (s, _) = match l.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("yurta-registry-server: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
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
}

async fn tls_connection(s: tokio::net::TcpStream, acceptor: &SslAcceptor, st: Arc<State>) {
    let Ok(ssl) = Ssl::new(acceptor.context()) else {
        return;
    };
    let Ok(mut stream) = tokio_openssl::SslStream::new(ssl, s) else {
        return;
    };
    let handshake = std::pin::Pin::new(&mut stream).accept();
    let shaken = tokio::time::timeout(st.limits.header_timeout, handshake).await;
    if let Ok(Ok(())) = shaken {
        connection(stream, st).await;
    }
}

async fn connection<S>(io: S, st: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = st.limits.header_timeout;
    let svc = service_fn(move |req| {
        let st = st.clone();
        async move { Ok::<_, Infallible>(routes::handle(st, req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), svc);
    let _ = conn.await;
}
