//! `/v2/NAME/blobs/DIGEST`: GET (whole or one byte range), HEAD, DELETE.

use std::sync::Arc;

use hyper::{Method, Response};

use super::body::{empty, file_range, Body};
use super::routes::Req;
use super::{blocking, digest_param, State};
use crate::errors::{ApiError, Code};
use crate::names::{Digest, RepoName};

fn unknown(d: &Digest) -> ApiError {
    ApiError::detail(
        Code::BlobUnknown,
        serde_json::json!({ "digest": d.to_string() }),
    )
}

pub async fn blob(
    st: &Arc<State>,
    repo: RepoName,
    reference: &str,
    req: Req,
) -> Result<Response<Body>, ApiError> {
    let d = digest_param(reference)?;
    if req.method == Method::DELETE {
        let s = st.clone();
        return match blocking(move || s.storage.delete_blob(&repo, &d)).await? {
            true => Ok(Response::builder()
                .status(202)
                .header("Content-Length", 0)
                .body(empty())
                .unwrap_or_default()),
            false => Err(unknown(&d)),
        };
    }
    let Some((path, size)) = st.storage.blob(&repo, &d)? else {
        return Err(unknown(&d));
    };
    let r = Response::builder()
        .header("Docker-Content-Digest", d.to_string())
        .header("Accept-Ranges", "bytes")
        .header("ETag", format!("\"{d}\""))
        .header("Content-Type", "application/octet-stream");
    if req.method == Method::HEAD {
        // A pusher checking for a blob: keep it from gc until its manifest.
        let s = st.clone();
        blocking(move || s.storage.touch_blob(&d)).await?;
        return Ok(r
            .status(200)
            .header("Content-Length", size)
            .body(empty())
            .unwrap_or_default());
    }
    let (start, len, status) = match req.header("range") {
        None => (0, size, 200),
        Some(spec) => match byte_range(spec, size) {
            Some((a, b)) => (a, b - a + 1, 206),
            None => {
                let e = ApiError::detail(
                    Code::RangeInvalid,
                    format!("range {spec:?} of a {size}-byte blob"),
                );
                let mut resp = super::routes::error_response(&e);
                if let Ok(v) = format!("bytes */{size}").parse() {
                    resp.headers_mut().insert("Content-Range", v);
                }
                return Ok(resp);
            }
        },
    };
    let body = file_range(&path, start, len)
        .map_err(|e| ApiError::detail(Code::Unknown, e.to_string()))?;
    let mut r = r.status(status).header("Content-Length", len);
    if status == 206 {
        r = r.header(
            "Content-Range",
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    Ok(r.body(body).unwrap_or_default())
}

/// The first and last byte of a single `bytes=` range within `size`
/// bytes; None if it is malformed or unsatisfiable.
pub fn byte_range(spec: &str, size: u64) -> Option<(u64, u64)> {
    let r = spec.trim().strip_prefix("bytes=")?;
    if r.contains(',') {
        return None;
    }
    let (a, b) = r.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        (size.saturating_sub(n), size.checked_sub(1)?)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size.checked_sub(1)?
        } else {
            b.parse::<u64>().ok()?.min(size.checked_sub(1)?)
        };
        (start, end)
    };
    (start <= end && start < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn ranges_are_clamped_or_refused() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=90-200", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-4", 100), None);
        assert_eq!(byte_range("bytes=0-1,3-4", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=0-0", 0), None);
    }
}
