//! The routes served, version negotiation, and the headers every answer
//! carries. [`ROUTES`] is the one list: docs/api.md shows it and a test
//! checks that the two agree.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};
use yurta_engine::system::{API_VERSION, MIN_API_VERSION};

use crate::body::Body;
use crate::error::ApiError;
use crate::request::{query, Call, Reply};
use crate::server::State;
use crate::{build, containers, distribution, exec, images, networks, system, volumes};

type Handler = fn(Call) -> Pin<Box<dyn Future<Output = Reply> + Send>>;

/// A method, a path pattern (`{x}` one segment, `{x*}` one or more, for
/// image names with slashes) and its handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    handler: Handler,
}

macro_rules! route {
    ($m:literal, $p:literal, $h:path) => {
        Route {
            method: $m,
            path: $p,
            handler: |c| Box::pin($h(c)),
        }
    };
}

/// Everything served (without the optional `/v1.NN` prefix).
pub static ROUTES: &[Route] = &[
    route!("GET", "/_ping", system::ping),
    route!("HEAD", "/_ping", system::ping),
    route!("GET", "/version", system::version),
    route!("GET", "/info", system::info),
    route!("GET", "/events", crate::events::events),
    route!("GET", "/system/df", system::df),
    route!("POST", "/build", build::build),
    route!("POST", "/build/prune", build::prune),
    route!("GET", "/images/json", images::list),
    route!("POST", "/images/create", distribution::pull),
    route!("POST", "/images/{name*}/push", distribution::push),
    route!("GET", "/distribution/{name*}/json", distribution::inspect),
    route!("POST", "/commit", images::commit),
    route!("POST", "/auth", distribution::auth),
    route!("GET", "/images/get", images::save_many),
    route!("POST", "/images/load", images::load),
    route!("POST", "/images/prune", images::prune),
    route!("GET", "/images/search", images::search),
    route!("GET", "/images/{name*}/json", images::inspect),
    route!("GET", "/images/{name*}/history", images::history),
    route!("GET", "/images/{name*}/get", images::save_one),
    route!("POST", "/images/{name*}/tag", images::tag),
    route!("DELETE", "/images/{name*}", images::remove),
    route!("GET", "/volumes", volumes::list),
    route!("POST", "/volumes/create", volumes::create),
    route!("POST", "/volumes/prune", volumes::prune),
    route!("GET", "/volumes/{name}", volumes::inspect),
    route!("DELETE", "/volumes/{name}", volumes::remove),
    route!("GET", "/containers/json", containers::list),
    route!("POST", "/containers/create", containers::create),
    route!("POST", "/containers/prune", containers::prune),
    route!("GET", "/containers/{id}/json", containers::inspect),
    route!("GET", "/containers/{id}/logs", containers::logs),
    route!("GET", "/containers/{id}/top", containers::top),
    route!("GET", "/containers/{id}/changes", containers::changes),
    route!("GET", "/containers/{id}/export", containers::export),
    route!("HEAD", "/containers/{id}/archive", containers::archive_head),
    route!("GET", "/containers/{id}/archive", containers::archive_get),
    route!("PUT", "/containers/{id}/archive", containers::archive_put),
    route!("GET", "/containers/{id}/stats", containers::stats),
    route!("POST", "/containers/{id}/start", containers::start),
    route!("POST", "/containers/{id}/stop", containers::stop),
    route!("POST", "/containers/{id}/restart", containers::restart),
    route!("POST", "/containers/{id}/kill", containers::kill),
    route!("POST", "/containers/{id}/pause", containers::pause),
    route!("POST", "/containers/{id}/unpause", containers::unpause),
    route!("POST", "/containers/{id}/rename", containers::rename),
    route!("POST", "/containers/{id}/update", containers::update),
    route!("POST", "/containers/{id}/wait", containers::wait),
    route!("POST", "/containers/{id}/attach", containers::attach),
    route!("GET", "/containers/{id}/attach/ws", containers::attach_ws),
    route!("POST", "/containers/{id}/resize", containers::resize),
    route!("POST", "/containers/{id}/exec", exec::create),
    route!("DELETE", "/containers/{id}", containers::remove),
    route!("POST", "/exec/{id}/start", exec::start),
    route!("POST", "/exec/{id}/resize", exec::resize),
    route!("GET", "/exec/{id}/json", exec::inspect),
    route!("GET", "/networks", networks::list),
    route!("POST", "/networks/create", networks::create),
    route!("POST", "/networks/prune", networks::prune),
    route!("GET", "/networks/{id}", networks::inspect),
    route!("POST", "/networks/{id}/connect", networks::connect),
    route!("POST", "/networks/{id}/disconnect", networks::disconnect),
    route!("DELETE", "/networks/{id}", networks::remove),
];

/// Matches `path` against `pattern`, returning the parameters.
fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let Some(star) = pat.iter().position(|p| p.ends_with("*}")) else {
        if pat.len() != segs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (p, s) in pat.iter().zip(&segs) {
            match p.starts_with('{') {
                true if !s.is_empty() => params.push((*s).to_string()),
                false if p == s => {}
                _ => return None,
            }
        }
        return Some(params);
    };
    let tail = pat.len() - star - 1;
    if segs.len() < pat.len() || pat[..star] != segs[..star] {
        return None;
    }
    if pat[star + 1..] != segs[segs.len() - tail..] {
        return None;
    }
    let middle = segs[star..segs.len() - tail].join("/");
    (!middle.is_empty()).then(|| vec![middle])
}

/// `/v1.41/x` → (Some((1, 41)), "/x"); `/x` → (None, "/x").
fn split_version(path: &str) -> (Option<&str>, &str) {
    let Some(rest) = path.strip_prefix("/v") else {
        return (None, path);
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let v = &rest[..end];
    let numeric = v.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
    });
    match numeric {
        true => (Some(v), &rest[end..]),
        false => (None, path),
    }
}

fn version_key(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// Docker's answers to a version outside what is served.
fn check_version(v: &str) -> Result<(), ApiError> {
    if version_key(v) < version_key(MIN_API_VERSION) {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    if version_key(v) > version_key(API_VERSION) {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    Ok(())
}

/// Routes one request and answers it (errors included).
pub(crate) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let mut r = match dispatch(state, req).await {
        Ok(r) => r,
        Err(e) => e.response(),
    };
    let h = r.headers_mut();
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert(
        "Server",
        HeaderValue::from_static(concat!("yurta/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    r
}

/// Docker's 404 for unknown paths; a clear 501 for the container routes
/// that yurta serves in a later release.
fn not_served(path: &str) -> ApiError {
    let later = ["/containers/"];
    match later
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'))
    {
        true => ApiError::new(
            hyper::StatusCode::NOT_IMPLEMENTED,
            format!("{path} is not served by yurta system service yet: use the yurta CLI"),
        ),
        false => ApiError::not_found("page not found"),
    }
}

async fn dispatch(state: Arc<State>, req: Request<Incoming>) -> Reply {
    let (parts, body) = req.into_parts();
    let (version, path) = split_version(parts.uri.path());
    if let Some(v) = version {
        check_version(v)?;
    }
    let path = path.to_string();
    let found = ROUTES.iter().find_map(|r| {
        (r.method == parts.method.as_str())
            .then(|| matches(r.path, &path))
            .flatten()
            .map(|params| (r.handler, params))
    });
    let Some((handler, params)) = found else {
        return Err(not_served(&path));
    };
    let query = query(parts.uri.query());
    let call = Call {
        state,
        parts,
        body: Some(body),
        params,
        query,
    };
    handler(call).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_image_names_with_slashes() {
        assert_eq!(
            matches("/images/{name*}/json", "/images/library/busybox:1/json"),
            Some(vec!["library/busybox:1".into()])
        );
        assert_eq!(matches("/images/{name*}/json", "/images/json"), None);
        assert_eq!(
            matches("/images/{name*}", "/images/a/b"),
            Some(vec!["a/b".into()])
        );
        assert_eq!(
            matches("/volumes/{name}", "/volumes/x"),
            Some(vec!["x".into()])
        );
        assert_eq!(matches("/volumes/{name}", "/volumes/x/y"), None);
        assert_eq!(matches("/volumes/{name}", "/volumes/"), None);
    }

    #[test]
    fn versions_are_negotiated_as_docker_does() {
        assert_eq!(split_version("/v1.41/info"), (Some("1.41"), "/info"));
        assert_eq!(split_version("/version"), (None, "/version"));
        assert_eq!(split_version("/volumes/x"), (None, "/volumes/x"));
        assert!(check_version("1.24").is_ok());
        assert!(check_version(API_VERSION).is_ok());
        assert!(check_version("1.12")
            .unwrap_err()
            .message
            .contains("too old"));
        assert!(check_version("1.99")
            .unwrap_err()
            .message
            .contains("too new"));
    }

    #[test]
    fn docs_list_every_route() {
        let doc = include_str!("../../../docs/api.md");
        let table: Vec<String> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect();
        let served: Vec<String> = ROUTES
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(table, served, "docs/api.md's route table and ROUTES differ");
    }
}
