//! `/v2/NAME/blobs/uploads/[ID]`: starting uploads (and the single-POST
//! and cross-repository mount forms), chunks with `Content-Range`, the
//! upload's status for resuming, finishing with the digest, cancelling.

use std::sync::Arc;

use hyper::{Method, Response};

use super::body::{empty, next_chunk, too_large, Body};
use super::routes::Req;
use super::{blocking, digest_param, State};
use crate::auth::Action;
use crate::errors::{ApiError, Code};
use crate::names::{Digest, RepoName};
use crate::storage::{BeginError, Upload, UploadId};

fn upload_unknown() -> ApiError {
    ApiError::new(Code::BlobUploadUnknown)
}

/// `0-<last byte>` of what an upload holds (`0-0` when empty, as
/// clients expect).
fn range(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

/// 202 for an upload in progress: where to send the next chunk.
fn in_progress(status: u16, repo: &RepoName, id: &UploadId, size: u64) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(
            "Location",
            format!("/v2/{repo}/blobs/uploads/{}", id.as_str()),
        )
        .header("Range", range(size))
        .header("Docker-Upload-UUID", id.as_str())
        .header("Content-Length", 0)
        .body(empty())
        .unwrap_or_default()
}

/// 201 for a stored blob.
fn created(repo: &RepoName, d: &Digest) -> Response<Body> {
    Response::builder()
        .status(201)
        .header("Location", format!("/v2/{repo}/blobs/{d}"))
        .header("Docker-Content-Digest", d.to_string())
        .header("Content-Length", 0)
        .body(empty())
        .unwrap_or_default()
}

pub async fn start(
    st: &Arc<State>,
    repo: RepoName,
    mut req: Req,
) -> Result<Response<Body>, ApiError> {
    if req.method != Method::POST {
        return Err(ApiError::new(Code::Unsupported));
    }
    if let Some(mounted) = mount(st, &repo, &req).await? {
        return Ok(created(&repo, &mounted));
    }
    let single = req.param("digest").map(digest_param).transpose()?;
    let s = st.clone();
    let r = repo.clone();
    let id = blocking(move || s.storage.start_upload(&r)).await?;
    let Some(want) = single else {
        return Ok(in_progress(202, &repo, &id, 0));
    };
    let upload = begin(st, &id, &repo).await?;
    finish(st, upload, &mut req, want).await?;
    Ok(created(&repo, &want))
}

/// `?mount=DIGEST&from=REPO`: the blob linked in if the caller may pull
/// it from REPO and it is there; None: start an upload instead.
async fn mount(st: &Arc<State>, repo: &RepoName, req: &Req) -> Result<Option<Digest>, ApiError> {
    let Some(m) = req.param("mount") else {
        return Ok(None);
    };
    let d = digest_param(m)?;
    let Some(from) = req.param("from").and_then(RepoName::parse) else {
        return Ok(None);
    };
    if !st.auth.allows(&req.caller, from.as_str(), Action::Pull) {
        return Ok(None);
    }
    let s = st.clone();
    let to = repo.clone();
    let done = blocking(move || s.storage.mount_blob(&from, &to, &d)).await?;
    Ok(done.then_some(d))
}

async fn begin(st: &Arc<State>, id: &UploadId, repo: &RepoName) -> Result<Upload, ApiError> {
    let (s, id, repo) = (st.clone(), id.clone(), repo.clone());
    let begun = tokio::task::spawn_blocking(move || s.sessions.begin(&s.storage, &id, &repo))
        .await
        .map_err(|e| ApiError::detail(Code::Unknown, e.to_string()))?;
    match begun {
        Ok(u) => Ok(u),
        Err(BeginError::Unknown) => Err(upload_unknown()),
        Err(BeginError::Busy) => Err(ApiError::detail(
            Code::RangeInvalid,
            "another request is writing to this upload",
        )),
        Err(BeginError::Storage(e)) => Err(e.into()),
    }
}

/// Appends the request body to the upload, within the size limit.
async fn write_body(st: &State, upload: &mut Upload, req: &mut Req) -> Result<(), ApiError> {
    while let Some(chunk) = next_chunk(&mut req.body, st.limits.body_idle).await? {
        if let Some(max) = st.limits.max_blob {
            if upload.size() + chunk.len() as u64 > max {
                return Err(too_large(max as usize));
            }
        }
        upload
            .write(&chunk)
            .map_err(|e| ApiError::detail(Code::Unknown, format!("write the upload: {e}")))?;
    }
    Ok(())
}

/// Writes the rest of the body, verifies and stores the blob.
async fn finish(
    st: &Arc<State>,
    mut upload: Upload,
    req: &mut Req,
    want: Digest,
) -> Result<(), ApiError> {
    let id = upload.id.clone();
    if let Err(e) = write_body(st, &mut upload, req).await {
        st.sessions.park(upload);
        return Err(e);
    }
    let s = st.clone();
    let verified = blocking(move || s.storage.finish_upload(upload, &want)).await;
    st.sessions.forget(&id);
    match verified? {
        Ok(()) => Ok(()),
        Err(got) => Err(ApiError::detail(
            Code::DigestInvalid,
            serde_json::json!({"digest": want.to_string(), "received": got.to_string()}),
        )),
    }
}

/// `Content-Range: START-END` (also with a `bytes ` prefix).
fn content_range(v: &str) -> Option<(u64, u64)> {
    let v = v
        .trim()
        .trim_start_matches("bytes ")
        .trim_start_matches("bytes=");
    let v = v.split('/').next()?;
    let (a, b) = v.split_once('-')?;
    let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a <= b).then_some((a, b))
}

pub async fn session(
    st: &Arc<State>,
    repo: RepoName,
    id: &str,
    mut req: Req,
) -> Result<Response<Body>, ApiError> {
    // distribution: an id it could not have made is "invalid" (still 404).
    let id = UploadId::parse(id)
        .ok_or_else(|| ApiError::new(Code::BlobUploadInvalid).with_status(404))?;
    match req.method {
        Method::GET => {
            if st.storage.upload_repo(&id).as_ref() != Some(&repo) {
                return Err(upload_unknown());
            }
            let size = st.storage.upload_size(&id).ok_or_else(upload_unknown)?;
            Ok(in_progress(204, &repo, &id, size))
        }
        Method::DELETE => {
            if st.storage.upload_repo(&id).as_ref() != Some(&repo) {
                return Err(upload_unknown());
            }
            let s = st.clone();
            let gone = id.clone();
            blocking(move || s.storage.cancel_upload(&gone)).await?;
            st.sessions.forget(&id);
            Ok(Response::builder()
                .status(204)
                .body(empty())
                .unwrap_or_default())
        }
        Method::PATCH => patch(st, repo, id, &mut req).await,
        Method::PUT => {
            let want = req
                .param("digest")
                .ok_or_else(|| ApiError::detail(Code::DigestInvalid, "PUT needs ?digest="))
                .and_then(digest_param)?;
            let upload = begin(st, &id, &repo).await?;
            finish(st, upload, &mut req, want).await?;
            Ok(created(&repo, &want))
        }
        _ => Err(ApiError::new(Code::Unsupported)),
    }
}

async fn patch(
    st: &Arc<State>,
    repo: RepoName,
    id: UploadId,
    req: &mut Req,
) -> Result<Response<Body>, ApiError> {
    let declared = match req.header("content-range") {
        Some(v) => Some(
            content_range(v).ok_or_else(|| ApiError::detail(Code::RangeInvalid, v.to_string()))?,
        ),
        None => None,
    };
    let length: Option<u64> = req.header("content-length").and_then(|v| v.parse().ok());
    let mut upload = begin(st, &id, &repo).await?;
    if let Some((start, end)) = declared {
        let fits = length.is_none_or(|l| l == end - start + 1);
        if start != upload.size() || !fits {
            let size = upload.size();
            st.sessions.park(upload);
            let mut e = super::routes::error_response(&ApiError::detail(
                Code::RangeInvalid,
                format!("the upload holds {size} bytes; the chunk says {start}-{end}"),
            ));
            if let Ok(v) = range(size).parse() {
                e.headers_mut().insert("Range", v);
            }
            return Ok(e);
        }
    }
    let written = write_body(st, &mut upload, req).await;
    let size = upload.size();
    st.sessions.park(upload);
    written?;
    Ok(in_progress(202, &repo, &id, size))
}
