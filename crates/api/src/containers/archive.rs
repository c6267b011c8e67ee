//! `/containers/{id}/archive` (`docker cp`), running or stopped:
//! HEAD (the path's stat in `X-Docker-Container-Path-Stat`, base64 JSON),
//! GET (the stat and the path as a tar) and PUT (a tar unpacked into the
//! directory at the path), through `yurta_engine::lifecycle::archive`'s
//! helper inside the container's mount namespace, or in a stopped
//! container's root filesystem mounted for the one request.

use std::io::{Read, Write};
use std::process::Stdio;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use yurta_engine::lifecycle::archive::{helper, ArchiveOp};

use super::{lifecycle_error, with_container};
use crate::body::{empty, Channel};
use crate::error::ApiError;
use crate::request::{blocking, Call, Reply};

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

fn path_param(c: &Call) -> Result<String, ApiError> {
    match c.q("path").filter(|p| !p.is_empty()) {
        Some(p) => Ok(p.to_string()),
        None => Err(ApiError::bad_request(
            "archive needs a path (the path parameter)",
        )),
    }
}

/// The helper's failure: its last stderr line, 404 for a missing path.
fn helper_failed(stderr: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().last().unwrap_or("cp-helper failed");
    let line = line.trim_start_matches("yurta: ").to_string();
    match line.starts_with("Could not find the file") {
        true => ApiError::not_found(line),
        false => ApiError::internal(line),
    }
}

/// The stat header's value for the path inside the container.
async fn stat(c: &Call, path: String) -> Result<HeaderValue, ApiError> {
    let out = with_container(c, move |state, engine, rec| {
        let mut h =
            helper(&state.engine, engine, &rec, ArchiveOp::Stat(&path)).map_err(lifecycle_error)?;
        h.command
            .output()
            .map_err(|e| ApiError::internal(format!("cp-helper: {e}")))
    })
    .await?;
    if !out.status.success() {
        return Err(helper_failed(&out.stderr));
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(out.stdout.trim_ascii());
    HeaderValue::from_str(&encoded).map_err(|e| ApiError::internal(e.to_string()))
}

pub(crate) async fn head(c: Call) -> Reply {
    let stat = stat(&c, path_param(&c)?).await?;
    let mut r = Response::new(empty());
    r.headers_mut().insert(STAT_HEADER, stat);
    Ok(r)
}

pub(crate) async fn get(c: Call) -> Reply {
    let path = path_param(&c)?;
    let stat = stat(&c, path.clone()).await?;
    let (mut child, h) = with_container(&c, move |state, engine, rec| {
        let mut h =
            helper(&state.engine, engine, &rec, ArchiveOp::Pack(&path)).map_err(lifecycle_error)?;
        h.command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let child = h
            .command
            .spawn()
            .map_err(|e| ApiError::internal(format!("cp-helper: {e}")))?;
        Ok((child, h))
    })
    .await?;
    let (tx, body) = Channel::open(8);
    let Some(mut out) = child.stdout.take() else {
        return Err(ApiError::internal("cp-helper: no stdout"));
    };
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
        drop(out);
        let _ = child.wait();
        drop(h); // a stopped container's view is unmounted after the copy
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(STAT_HEADER, stat);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    Ok(r)
}

pub(crate) async fn put(mut c: Call) -> Reply {
    let path = path_param(&c)?;
    let mut body = c
        .body
        .take()
        .ok_or_else(|| ApiError::bad_request("no archive in the request body"))?;
    let (mut child, h) = with_container(&c, move |state, engine, rec| {
        let mut h = helper(&state.engine, engine, &rec, ArchiveOp::Unpack(&path))
            .map_err(lifecycle_error)?;
        h.command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = h
            .command
            .spawn()
            .map_err(|e| ApiError::internal(format!("cp-helper: {e}")))?;
        Ok((child, h))
    })
    .await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let stdin = child.stdin.take();
    let writer = blocking(move || {
        if let Some(mut stdin) = stdin {
            while let Some(chunk) = rx.blocking_recv() {
                if stdin.write_all(&chunk).is_err() {
                    break;
                }
            }
        }
        let out = child
            .wait_with_output()
            .map_err(|e| ApiError::internal(format!("cp-helper: {e}")))?;
        drop(h);
        match out.status.success() {
            true => Ok(()),
            false => Err(helper_failed(&out.stderr)),
        }
    });
    let pump = async move {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data() {
                if tx.send(data).await.is_err() {
                    break;
                }
            }
        }
    };
    let (done, ()) = tokio::join!(writer, pump);
    done?;
    let mut r = Response::new(empty());
    *r.status_mut() = StatusCode::OK;
    Ok(r)
}
