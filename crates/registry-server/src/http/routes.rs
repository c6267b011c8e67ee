//! The routes of the Distribution API: which path is which endpoint, who
//! may call it, and the headers every answer carries.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, WWW_AUTHENTICATE};
use hyper::{HeaderMap, Method, Request, Response};

use super::body::{empty, full, Body};
use super::State;
use crate::auth::{Action, Caller, Scheme};
use crate::errors::{ApiError, Code};
use crate::names::RepoName;

/// An endpoint, with the repository it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Base,
    Catalog,
    Token,
    Tags(RepoName),
    Manifest(RepoName, String),
    Blob(RepoName, String),
    UploadStart(RepoName),
    Upload(RepoName, String),
    Referrers(RepoName, String),
}

/// A path that is not an endpoint (404), or a bad name in one.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    Name(String),
}

fn repo(segments: &[&str]) -> Result<RepoName, RouteError> {
    let name = segments.join("/");
    RepoName::parse(&name).ok_or(RouteError::Name(name))
}

/// Which endpoint `path` is (names may contain `/`, so the kind of
/// endpoint is read from the end).
pub fn route(path: &str) -> Result<Route, RouteError> {
    if path == "/token" {
        return Ok(Route::Token);
    }
    let rest = match path.strip_prefix("/v2") {
        Some("") | Some("/") => return Ok(Route::Base),
        Some(r) => r.strip_prefix('/').ok_or(RouteError::NotFound)?,
        None => return Err(RouteError::NotFound),
    };
    if rest == "_catalog" {
        return Ok(Route::Catalog);
    }
    let s: Vec<&str> = rest.split('/').collect();
    let n = s.len();
    if n >= 3 && s[n - 3] == "blobs" && s[n - 2] == "uploads" {
        let name = repo(&s[..n - 3])?;
        return Ok(match s[n - 1] {
            "" => Route::UploadStart(name),
            id => Route::Upload(name, id.to_string()),
        });
    }
    if n >= 3 && s[n - 2] == "tags" && s[n - 1] == "list" {
        return Ok(Route::Tags(repo(&s[..n - 2])?));
    }
    if n >= 3 && !s[n - 1].is_empty() {
        let last = s[n - 1].to_string();
        match s[n - 2] {
            "manifests" => return Ok(Route::Manifest(repo(&s[..n - 2])?, last)),
            "blobs" => return Ok(Route::Blob(repo(&s[..n - 2])?, last)),
            "referrers" => return Ok(Route::Referrers(repo(&s[..n - 2])?, last)),
            _ => {}
        }
    }
    Err(RouteError::NotFound)
}

/// What a request on `route` needs: the repository and action.
fn needs<'a>(route: &'a Route, method: &Method) -> Option<(&'a RepoName, Action)> {
    let action = match *method {
        Method::GET | Method::HEAD => Action::Pull,
        Method::DELETE if !matches!(route, Route::Upload(..)) => Action::Delete,
        _ => Action::Push,
    };
    match route {
        Route::Base | Route::Catalog | Route::Token => None,
        Route::Tags(r) | Route::Referrers(r, _) => Some((r, Action::Pull)),
        Route::Manifest(r, _) | Route::Blob(r, _) => Some((r, action)),
        Route::UploadStart(r) | Route::Upload(r, _) => Some((r, Action::Push)),
    }
}

/// The parts of a request the handlers read.
pub struct Req {
    pub method: Method,
    pub headers: HeaderMap,
    pub query: Vec<(String, String)>,
    pub body: Incoming,
    pub caller: Caller,
    /// `http` or `https`, and the Host header: for the token realm.
    pub origin: String,
}

impl Req {
    /// The first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Answers one request.
pub async fn handle(st: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let mut resp = match dispatch(&st, req).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    };
    resp.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    resp
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = Response::builder()
        .status(e.status())
        .header("Content-Type", "application/json; charset=utf-8");
    if e.status() == 408 {
        r = r.header("Connection", "close");
    }
    if let Some(c) = &e.challenge {
        r = r.header(WWW_AUTHENTICATE, c.as_str());
    }
    r.body(full(e.body()))
        .unwrap_or_else(|_| Response::new(empty()))
}

async fn dispatch(st: &Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (parts, body) = req.into_parts();
    let route = match route(parts.uri.path()) {
        Ok(r) => r,
        Err(RouteError::Name(n)) => return Err(ApiError::detail(Code::NameInvalid, n)),
        Err(RouteError::NotFound) => return Err(ApiError::new(Code::NameUnknown).with_status(404)),
    };
    let authorization = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let caller = st.auth.caller(authorization);
    let scheme = if st.tls { "https" } else { "http" };
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let req = Req {
        method: parts.method,
        query: super::query::parse(parts.uri.query().unwrap_or("")),
        headers: parts.headers.clone(),
        body,
        caller: caller.clone().unwrap_or(Caller::User(None)),
        origin: format!("{scheme}://{host}"),
    };
    if route == Route::Token {
        return super::token::answer(st, &req);
    }
    let Ok(caller) = caller else {
        return Err(challenge(st, &req, None));
    };
    check_access(st, &route, &req, &caller)?;
    if st.read_only && !matches!(req.method, Method::GET | Method::HEAD) {
        return Err(ApiError::detail(
            Code::Unsupported,
            "the registry is read-only",
        ));
    }
    super::dispatch_route(st, route, req).await
}

fn check_access(st: &State, route: &Route, req: &Req, caller: &Caller) -> Result<(), ApiError> {
    let ok = match (route, needs(route, &req.method)) {
        (Route::Base, _) => !matches!(caller, Caller::User(None)) || !st.auth.enabled(),
        (Route::Catalog, _) => st.auth.allows_catalog(caller),
        (_, Some((repo, action))) => st.auth.allows(caller, repo.as_str(), action),
        (_, None) => true,
    };
    if ok {
        return Ok(());
    }
    let scope = match (route, needs(route, &req.method)) {
        (Route::Catalog, _) => Some("registry:catalog:*".to_string()),
        (_, Some((repo, Action::Push))) => Some(format!("repository:{repo}:pull,push")),
        (_, Some((repo, a))) => Some(format!("repository:{repo}:{}", a.as_str())),
        _ => None,
    };
    match caller {
        Caller::User(Some(_)) => Err(ApiError::new(Code::Denied)),
        _ => Err(challenge(st, req, scope.as_deref())),
    }
}

/// 401 with the `WWW-Authenticate` the configured scheme asks for.
fn challenge(st: &State, req: &Req, scope: Option<&str>) -> ApiError {
    let value = match st.auth.scheme {
        Scheme::Basic => format!("Basic realm=\"{}\"", st.auth.service),
        Scheme::Token => {
            let realm = st
                .auth
                .realm
                .clone()
                .unwrap_or_else(|| format!("{}/token", req.origin));
            let mut v = format!("Bearer realm=\"{realm}\",service=\"{}\"", st.auth.service);
            if let Some(s) = scope {
                v += &format!(",scope=\"{s}\"");
            }
            v
        }
    };
    let mut e = ApiError::new(Code::Unauthorized);
    e.challenge = Some(value);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RepoName {
        RepoName::parse(s).unwrap()
    }

    #[test]
    fn paths_route_from_the_end() {
        assert_eq!(route("/v2/"), Ok(Route::Base));
        assert_eq!(route("/v2/_catalog"), Ok(Route::Catalog));
        assert_eq!(route("/v2/a/b/tags/list"), Ok(Route::Tags(name("a/b"))));
        assert_eq!(
            route("/v2/a/blobs/uploads/"),
            Ok(Route::UploadStart(name("a")))
        );
        assert_eq!(
            route("/v2/a/blobs/uploads/xyz"),
            Ok(Route::Upload(name("a"), "xyz".into()))
        );
        assert_eq!(
            route("/v2/x/manifests/blobs/manifests/v1"),
            Ok(Route::Manifest(name("x/manifests/blobs"), "v1".into()))
        );
        assert_eq!(
            route("/v2/a/referrers/sha256:00"),
            Ok(Route::Referrers(name("a"), "sha256:00".into()))
        );
        assert_eq!(
            route("/v2/../x/manifests/v1"),
            Err(RouteError::Name("../x".into()))
        );
        assert_eq!(
            route("/v2/Up/manifests/v1"),
            Err(RouteError::Name("Up".into()))
        );
        assert_eq!(route("/v3/"), Err(RouteError::NotFound));
        assert_eq!(route("/v2/a/other/x"), Err(RouteError::NotFound));
    }
}
