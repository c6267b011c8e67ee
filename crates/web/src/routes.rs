//! Every request of the console, in order: what needs no session (login,
//! static files, a ticket's console), then the session, the CSRF token
//! and the origin, then the pages, the API under `/api/docker/`, the
//! console's own JSON and the WebSockets. docs/web.md lists the routes.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ACCEPT_ENCODING, COOKIE, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use yurta_api::body::Body;
use yurta_api::Front;

use crate::http::{self, error, json, redirect};
use crate::sessions;
use crate::tickets;
use crate::Web;

/// The application's pages: all are index.html, which routes itself.
const PAGES: &[&str] = &["containers", "vms", "images", "networks", "volumes"];

/// Largest login form and JSON body the console reads.
const MAX_FORM: usize = 64 << 10;

/// How a request is allowed in.
pub enum Access {
    Session,
    /// A console ticket's ID, used up once its console is opened.
    Ticket(String),
}

pub async fn handle(web: Arc<Web>, req: Request<Incoming>, cx: Front) -> Response<Body> {
    let mut r = route(web, req, cx).await;
    let h = r.headers_mut();
    h.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("X-Frame-Options", HeaderValue::from_static("DENY"));
    h.insert("Referrer-Policy", HeaderValue::from_static("same-origin"));
    r
}

async fn route(web: Arc<Web>, req: Request<Incoming>, cx: Front) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    // Without a session.
    match (&method, path.as_str()) {
        (&Method::GET, "/login") => return crate::assets::page("login.html", None),
        (&Method::POST, "/login") => return login(&web, req, &cx).await,
        (&Method::GET, p) if p.starts_with("/assets/") => {
            let gzip = http::header(&req, ACCEPT_ENCODING).is_some_and(|a| a.contains("gzip"));
            return crate::assets::response(&p[1..], gzip)
                .unwrap_or_else(|| error(StatusCode::NOT_FOUND, "no such file"));
        }
        (&Method::GET, "/favicon.ico") => return http::status(StatusCode::NO_CONTENT),
        (&Method::GET, p) if p.starts_with("/console/") => {
            return console_page(&web, &p["/console/".len()..]);
        }
        _ => {}
    }
    let query = req.uri().query().unwrap_or("").to_string();
    let websocket = http::is_websocket(&req);
    if (websocket || !matches!(method, Method::GET | Method::HEAD))
        && !http::same_origin(&req, cx.tls)
    {
        return error(StatusCode::FORBIDDEN, "cross-origin request refused");
    }
    let session = web.session(&req);
    if websocket {
        if let Some(t) = http::param(&query, "ticket") {
            return crate::terminals::open(web, req, Access::Ticket(t), cx);
        }
    }
    let Some(session) = session else {
        if path.starts_with("/api/") || websocket {
            return error(StatusCode::UNAUTHORIZED, "login required");
        }
        let target = match req.uri().path_and_query() {
            Some(pq) if pq.as_str() != "/" => format!("/login?next={}", encode(pq.as_str())),
            _ => "/login".to_string(),
        };
        return redirect(&target);
    };
    if !matches!(method, Method::GET | Method::HEAD) {
        let token = http::header(&req, "x-csrf-token".parse().unwrap())
            .map(str::to_string)
            .or_else(|| http::param(&query, "csrf"));
        if token.as_deref() != Some(session.csrf.as_str()) {
            return error(StatusCode::FORBIDDEN, "missing or wrong CSRF token");
        }
    }
    if websocket {
        return crate::terminals::open(web, req, Access::Session, cx);
    }
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match (&method, path.as_str()) {
        (&Method::GET, "/") => crate::assets::page("index.html", None),
        (&Method::GET, _) if PAGES.contains(&first) => crate::assets::page("index.html", None),
        (&Method::POST, "/logout") => logout(&web, &req, cx.tls),
        (&Method::GET, "/api/session") => json(
            StatusCode::OK,
            &serde_json::json!({
                "user": session.user,
                "csrf": session.csrf,
                "version": env!("CARGO_PKG_VERSION"),
            }),
        ),
        (&Method::POST, "/api/tickets") => make_ticket(&web, req).await,
        (_, p) if p.starts_with("/api/docker/") => docker(req, &cx).await,
        (&Method::GET, "/api/stats") => crate::stats::stream(&web, &cx),
        (_, p) if p.starts_with("/api/vms") => crate::vms::handle(&web, req, &cx).await,
        (_, p) if p.starts_with("/api/containers/") => crate::files::handle(req, &cx).await,
        _ => error(StatusCode::NOT_FOUND, "page not found"),
    }
}

/// The Docker Engine API, as the API socket answers it.
async fn docker(mut req: Request<Incoming>, cx: &Front) -> Response<Body> {
    let pq = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_default();
    let inner = &pq["/api/docker".len()..];
    match inner.parse() {
        Ok(uri) => *req.uri_mut() = uri,
        Err(_) => return error(StatusCode::BAD_REQUEST, "bad path"),
    }
    cx.api.handle(req).await
}

async fn login(web: &Web, req: Request<Incoming>, cx: &Front) -> Response<Body> {
    if !http::same_origin(&req, cx.tls) {
        return error(StatusCode::FORBIDDEN, "cross-origin request refused");
    }
    let Some(form) = read_body(req).await else {
        return error(
            StatusCode::BAD_REQUEST,
            "the login form is too large or broken",
        );
    };
    let form = String::from_utf8_lossy(&form).into_owned();
    let user = http::param(&form, "username").unwrap_or_default();
    let password = http::param(&form, "password").unwrap_or_default();
    let next = http::param(&form, "next")
        .filter(|n| local_path(n))
        .unwrap_or_else(|| "/".to_string());
    let back = |flag: &str| {
        let mut to = format!("/login?{flag}=1");
        if next != "/" {
            to.push_str(&format!("&next={}", encode(&next)));
        }
        to
    };
    let now = Instant::now();
    if !web.throttle.allowed(cx.peer, &user, now) {
        // Browsers do not follow a 429's Location: the body takes them on.
        let to = back("limited");
        let body = format!(
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=\"0;url={to}\"><title>yurta</title><p>Too many attempts, try again later. <a href=\"{to}\">Back to the login</a></p>\n"
        );
        let mut r = crate::assets::html(StatusCode::TOO_MANY_REQUESTS, body);
        if let Ok(v) = HeaderValue::from_str(&to) {
            r.headers_mut().insert(hyper::header::LOCATION, v);
        }
        let secs = crate::throttle::WINDOW.as_secs().to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        return r;
    }
    let accounts = crate::accounts::Accounts::new(&web.root);
    let (u, p) = (user.clone(), password);
    let ok = tokio::task::spawn_blocking(move || accounts.verify(&u, &p))
        .await
        .unwrap_or(false);
    if !ok {
        web.throttle.failed(cx.peer, &user, now);
        return redirect(&back("failed"));
    }
    web.throttle.succeeded(cx.peer);
    let id = match web.sessions.open(&user, now) {
        Ok(id) => id,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let mut r = redirect(&next);
    if let Ok(v) = HeaderValue::from_str(&sessions::set_cookie(&id, cx.tls)) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

fn logout(web: &Web, req: &Request<Incoming>, tls: bool) -> Response<Body> {
    if let Some(id) = http::header(req, COOKIE).and_then(|c| sessions::cookie(c, sessions::COOKIE))
    {
        web.sessions.close(id);
    }
    let mut r = redirect("/login");
    if let Ok(v) = HeaderValue::from_str(&sessions::set_cookie("", tls)) {
        r.headers_mut().insert(SET_COOKIE, v);
    }
    r
}

fn console_page(web: &Web, ticket: &str) -> Response<Body> {
    match web.tickets.peek(ticket, Instant::now()) {
        Some(t) => {
            let meta = format!(
                "<meta name=\"yurta-console\" content=\"{} {}\">",
                t.kind.as_str(),
                escape(&t.target)
            );
            crate::assets::page("console.html", Some(("<!--yurta-console-->", &meta)))
        }
        None => crate::assets::html(StatusCode::NOT_FOUND, LINK_GONE),
    }
}

/// The page of a console link that was used or has expired.
const LINK_GONE: &str = "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>yurta: console link</title><p style=\"font:16px system-ui;margin:3em auto;max-width:32em;padding:0 1em\">This console link was used or has expired: a link opens its console once, within a minute of its making. Ask for a new one, or <a href=\"/login\">log in</a>.</p>\n";

async fn make_ticket(web: &Web, req: Request<Incoming>) -> Response<Body> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Ask {
        kind: String,
        target: String,
    }
    let Some(body) = read_body(req).await else {
        return error(StatusCode::BAD_REQUEST, "the body is too large or broken");
    };
    let ask: Ask = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad ticket request: {e}")),
    };
    let Some(kind) = tickets::Kind::parse(&ask.kind) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown console kind {:?}: exec, serial or vnc", ask.kind),
        );
    };
    let now = Instant::now();
    match web.tickets.make(kind, &ask.target, now) {
        Ok(id) => {
            let (secs, nanos) = yurta_time::now_parts();
            let expires = yurta_time::format(secs + tickets::VALID.as_secs() as i64, nanos);
            json(
                StatusCode::CREATED,
                &serde_json::json!({"Url": format!("/console/{id}"), "Expires": expires}),
            )
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// The whole body, up to [`MAX_FORM`].
pub async fn read_body(req: Request<Incoming>) -> Option<bytes::Bytes> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_FORM);
    limited.collect().await.ok().map(|c| c.to_bytes())
}

/// A path on this site (`/x`), not another site (`//host`, `http:`).
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\')
}

/// Percent-encodes what a query value must not hold.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_site() {
        assert!(local_path("/vms/x?a=1"));
        for bad in ["//evil.example", "http://evil", "/\\evil", "vms"] {
            assert!(!local_path(bad), "{bad}");
        }
        assert_eq!(encode("/vms/a b?x=1"), "/vms/a%20b%3Fx%3D1");
        assert_eq!(escape("a\"<b>"), "a&quot;&lt;b&gt;");
    }
}
