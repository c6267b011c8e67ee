//! Content discovery: `tags/list` and `_catalog` (both paginated with
//! `n` and `last`, the next page in a `Link` header), and the referrers
//! API with its `artifactType` filter.

use std::sync::Arc;

use hyper::Response;
use serde_json::json;

use super::body::{full, Body};
use super::query::encode;
use super::routes::Req;
use super::{digest_param, State};
use crate::auth::Caller;
use crate::errors::{ApiError, Code};
use crate::manifest::OCI_INDEX;
use crate::names::RepoName;

/// Where the next page starts: its `last` and `n`.
type Next = Option<(String, usize)>;

/// One page of a sorted list: the names after `last`, at most `n`, and
/// the `last` of the next page if there is one.
fn page(all: Vec<String>, req: &Req) -> Result<(Vec<String>, Next), ApiError> {
    let n = match req.param("n") {
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            ApiError::detail(Code::Unsupported, format!("invalid n {v:?}")).with_status(400)
        })?),
        None => None,
    };
    let mut rest: Vec<String> = match req.param("last") {
        Some(last) => all.into_iter().filter(|t| t.as_str() > last).collect(),
        None => all,
    };
    let Some(n) = n else {
        return Ok((rest, None));
    };
    if rest.len() <= n || n == 0 {
        rest.truncate(n);
        return Ok((rest, None));
    }
    rest.truncate(n);
    let next = rest.last().cloned().map(|l| (l, n));
    Ok((rest, next))
}

fn json_page(body: serde_json::Value, link: Option<String>) -> Response<Body> {
    let mut r = Response::builder()
        .status(200)
        .header("Content-Type", "application/json");
    if let Some(l) = link {
        r = r.header("Link", l);
    }
    r.body(full(body.to_string())).unwrap_or_default()
}

pub async fn tags(st: &Arc<State>, repo: RepoName, req: Req) -> Result<Response<Body>, ApiError> {
    let Some(all) = st.storage.tags(&repo)? else {
        return Err(ApiError::detail(
            Code::NameUnknown,
            json!({ "name": repo.as_str() }),
        ));
    };
    let (tags, next) = page(all, &req)?;
    let link = next.map(|(last, n)| {
        format!(
            "</v2/{repo}/tags/list?last={}&n={n}>; rel=\"next\"",
            encode(&last)
        )
    });
    Ok(json_page(
        json!({ "name": repo.as_str(), "tags": tags }),
        link,
    ))
}

pub async fn catalog(st: &Arc<State>, req: Req) -> Result<Response<Body>, ApiError> {
    let mut all = st.storage.repositories()?;
    if !matches!(req.caller, Caller::Anyone) {
        all.retain(|r| st.auth.lists(&req.caller, r));
    }
    let (repos, next) = page(all, &req)?;
    let link =
        next.map(|(last, n)| format!("</v2/_catalog?last={}&n={n}>; rel=\"next\"", encode(&last)));
    Ok(json_page(json!({ "repositories": repos }), link))
}

pub async fn referrers(
    st: &Arc<State>,
    repo: RepoName,
    digest: &str,
    req: Req,
) -> Result<Response<Body>, ApiError> {
    let subject = digest_param(digest)?;
    let mut list = st.storage.referrers(&repo, &subject)?;
    let filter = req.param("artifactType");
    if let Some(t) = filter {
        list.retain(|d| d["artifactType"].as_str() == Some(t));
    }
    let body = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list });
    let mut r = Response::builder()
        .status(200)
        .header("Content-Type", OCI_INDEX);
    if filter.is_some() {
        r = r.header("OCI-Filters-Applied", "artifactType");
    }
    Ok(r.body(full(body.to_string())).unwrap_or_default())
}
