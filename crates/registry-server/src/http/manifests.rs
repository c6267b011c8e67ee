//! `/v2/NAME/manifests/REFERENCE`: GET and HEAD by tag or digest, PUT
//! (verified, checked for the blobs it names, indexed by subject), DELETE
//! of a manifest by digest or of a tag.

use std::sync::Arc;

use hyper::{Method, Response};

use super::body::{empty, full, read_limited, Body};
use super::routes::Req;
use super::{blocking, State};
use crate::errors::{ApiError, Code};
use crate::manifest::{self, MAX_MANIFEST};
use crate::names::{Digest, DigestError, Reference, RepoName};
use crate::storage::manifests::PutError;

fn unknown(reference: &str) -> ApiError {
    ApiError::detail(
        Code::ManifestUnknown,
        serde_json::json!({ "reference": reference }),
    )
}

/// Over 4 MiB: refused before the body is read, as distribution does
/// (400 MANIFEST_INVALID, not 413, so clients see the same error).
fn manifest_too_large() -> ApiError {
    ApiError::detail(
        Code::ManifestInvalid,
        format!("the manifest is over the limit of {MAX_MANIFEST} bytes"),
    )
}

fn reference(s: &str) -> Result<Reference, ApiError> {
    Reference::parse(s).map_err(|e| match e {
        _ if !s.contains(':') => {
            ApiError::detail(Code::ManifestInvalid, format!("invalid tag {s:?}"))
        }
        DigestError::Invalid | DigestError::Unsupported => {
            ApiError::detail(Code::DigestInvalid, format!("invalid digest {s:?}"))
        }
    })
}

pub async fn manifest(
    st: &Arc<State>,
    repo: RepoName,
    r: &str,
    req: Req,
) -> Result<Response<Body>, ApiError> {
    let reference = reference(r)?;
    match req.method {
        Method::GET | Method::HEAD => {
            get(st, &repo, r, reference, req.method == Method::HEAD).await
        }
        Method::PUT => put(st, repo, reference, req).await,
        Method::DELETE => delete(st, repo, r, reference).await,
        _ => Err(ApiError::new(Code::Unsupported)),
    }
}

async fn get(
    st: &Arc<State>,
    repo: &RepoName,
    r: &str,
    reference: Reference,
    head: bool,
) -> Result<Response<Body>, ApiError> {
    let d = match reference {
        Reference::Digest(d) => d,
        Reference::Tag(t) => st.storage.tag(repo, &t).ok_or_else(|| unknown(r))?,
    };
    let m = st.storage.manifest(repo, &d)?.ok_or_else(|| unknown(r))?;
    let resp = Response::builder()
        .status(200)
        .header("Content-Type", &m.media_type)
        .header("Content-Length", m.size)
        .header("Docker-Content-Digest", d.to_string())
        .header("ETag", format!("\"{d}\""));
    if head {
        return Ok(resp.body(empty()).unwrap_or_default());
    }
    let data =
        std::fs::read(&m.path).map_err(|e| ApiError::detail(Code::Unknown, e.to_string()))?;
    Ok(resp.body(full(data)).unwrap_or_default())
}

async fn put(
    st: &Arc<State>,
    repo: RepoName,
    reference: Reference,
    mut req: Req,
) -> Result<Response<Body>, ApiError> {
    let declared: Option<u64> = req.header("content-length").and_then(|v| v.parse().ok());
    if declared.is_some_and(|l| l > MAX_MANIFEST as u64) {
        return Err(manifest_too_large());
    }
    let data = read_limited(&mut req.body, MAX_MANIFEST, st.limits.body_idle)
        .await
        .map_err(|e| match e.status() {
            413 => manifest_too_large(),
            _ => e,
        })?;
    let d = Digest::of(&data);
    if let Reference::Digest(want) = &reference {
        if want != &d {
            return Err(ApiError::detail(
                Code::DigestInvalid,
                serde_json::json!({"digest": want.to_string(), "received": d.to_string()}),
            ));
        }
    }
    let content_type = req.header("content-type").unwrap_or("").to_string();
    let info = manifest::parse(&data, &content_type, &d)?;
    let tag = match &reference {
        Reference::Tag(t) => Some(t.clone()),
        Reference::Digest(_) => None,
    };
    let s = st.clone();
    let (r, i) = (repo.clone(), info.clone());
    let stored =
        blocking(move || Ok(s.storage.put_manifest(&r, &d, &data, &i, tag.as_deref()))).await?;
    match stored {
        Ok(()) => {}
        Err(PutError::Missing(m)) => {
            return Err(ApiError::detail(
                Code::ManifestBlobUnknown,
                serde_json::json!({ "digest": m.to_string() }),
            ))
        }
        Err(PutError::Storage(e)) => return Err(e.into()),
    }
    let mut resp = Response::builder()
        .status(201)
        .header("Location", format!("/v2/{repo}/manifests/{d}"))
        .header("Docker-Content-Digest", d.to_string())
        .header("Content-Length", 0);
    if let Some(subject) = info.subject {
        resp = resp.header("OCI-Subject", subject.to_string());
    }
    Ok(resp.body(empty()).unwrap_or_default())
}

async fn delete(
    st: &Arc<State>,
    repo: RepoName,
    r: &str,
    reference: Reference,
) -> Result<Response<Body>, ApiError> {
    let s = st.clone();
    let removed = blocking(move || match reference {
        Reference::Tag(t) => s.storage.delete_tag(&repo, &t),
        Reference::Digest(d) => s.storage.delete_manifest(&repo, &d),
    })
    .await?;
    if !removed {
        return Err(unknown(r));
    }
    Ok(Response::builder()
        .status(202)
        .header("Content-Length", 0)
        .body(empty())
        .unwrap_or_default())
}
