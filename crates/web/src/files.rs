//! A container's files for the browser: a directory's entries, one file's
//! bytes as a download, and an upload into a directory — all through
//! `yurta_engine::lifecycle::archive`'s helper (inside the container's
//! mount namespace, or its stopped root filesystem), as `docker cp` is.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use yurta_api::body::{full, Body, Channel};
use yurta_api::Front;
use yurta_engine::lifecycle::archive::{helper, ArchiveOp};

use crate::http::{self, error, json};

/// The largest upload taken.
const MAX_UPLOAD: u64 = 1 << 30;

type Failure = (StatusCode, String);

pub async fn handle(req: Request<Incoming>, cx: &Front) -> Response<Body> {
    let host = cx.api.engine().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (name, what) = match segs.as_slice() {
        ["api", "containers", name, what] => (http::decode(name), what.to_string()),
        _ => return error(StatusCode::NOT_FOUND, "page not found"),
    };
    let Some(target) = http::param(&query, "path").filter(|p| p.starts_with('/')) else {
        return error(
            StatusCode::BAD_REQUEST,
            "an absolute path is needed (?path=/…)",
        );
    };
    let method = req.method().clone();
    let r = match (method, what.as_str()) {
        (Method::GET, "files") => {
            tokio::task::spawn_blocking(move || list(&host, &name, &target)).await
        }
        (Method::GET, "file") => {
            tokio::task::spawn_blocking(move || download(&host, &name, &target)).await
        }
        (Method::PUT, "file") => match spool(req, &host.root).await {
            Ok(tmp) => {
                let r = tokio::task::spawn_blocking(move || upload(&host, &name, &target, &tmp.0))
                    .await;
                r
            }
            Err(f) => Ok(Err(f)),
        },
        _ => return error(StatusCode::NOT_FOUND, "page not found"),
    };
    match r {
        Ok(Ok(r)) => r,
        Ok(Err((code, message))) => error(code, message),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// Runs the helper for `op` with stdio set by `setup`.
fn run_helper<T>(
    host: &yurta_engine::Host,
    name: &str,
    op: ArchiveOp,
    use_it: impl FnOnce(&mut std::process::Command) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let engine = yurta_engine::Engine::open(&host.root)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let rec = engine
        .containers
        .lookup(name)
        .map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    let mut h = helper(host, &engine, &rec, op)
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")))?;
    // `h` (a stopped container's mounted view) lives until the helper ends.
    let r = use_it(&mut h.command);
    drop(h);
    r
}

fn helper_failed(stderr: &[u8]) -> Failure {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().last().unwrap_or("the file helper failed");
    let line = line.trim_start_matches("yurta: ").to_string();
    let code = match line.contains("Could not find") || line.contains("not a directory") {
        true => StatusCode::NOT_FOUND,
        false => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (code, line)
}

fn list(host: &yurta_engine::Host, name: &str, dir: &str) -> Result<Response<Body>, Failure> {
    let out = run_helper(host, name, ArchiveOp::List(dir), |c| {
        c.stdin(Stdio::null())
            .output()
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    })?;
    if !out.status.success() {
        return Err(helper_failed(&out.stderr));
    }
    let mut r = Response::new(full(out.stdout));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// The file's bytes, streamed out of the helper's tar.
fn download(host: &yurta_engine::Host, name: &str, file: &str) -> Result<Response<Body>, Failure> {
    let base = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "download".into());
    let (tx, body) = Channel::open(8);
    let (first_tx, first_rx) = std::sync::mpsc::channel::<Result<(), Failure>>();
    let host = host.clone();
    let (name, file) = (name.to_string(), file.to_string());
    std::thread::spawn(move || {
        let r = run_helper(&host, &name, ArchiveOp::Pack(&file), |c| {
            let mut child = c
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            let stdout = child.stdout.take().expect("piped");
            let mut sent_first = false;
            let mut ar = tar::Archive::new(stdout);
            if let Ok(mut entries) = ar.entries() {
                if let Some(Ok(mut e)) = entries.next() {
                    if e.header().entry_type().is_file() {
                        let _ = first_tx.send(Ok(()));
                        sent_first = true;
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = e.read(&mut buf) {
                            if n == 0
                                || tx
                                    .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                                    .is_err()
                            {
                                break;
                            }
                        }
                    } else {
                        let _ = first_tx.send(Err((
                            StatusCode::BAD_REQUEST,
                            format!("{file} is not a regular file"),
                        )));
                        sent_first = true;
                    }
                }
            }
            drop(ar);
            let out = child.wait_with_output();
            if !sent_first {
                let stderr = out.map(|o| o.stderr).unwrap_or_default();
                let _ = first_tx.send(Err(helper_failed(&stderr)));
            }
            Ok(())
        });
        if let Err(f) = r {
            let _ = first_tx.send(Err(f));
        }
    });
    first_rx.recv().unwrap_or(Err((
        StatusCode::INTERNAL_SERVER_ERROR,
        "the file helper failed".into(),
    )))?;
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let disposition = format!(
        "attachment; filename=\"{}\"",
        base.replace(['"', '\\', '\r', '\n'], "_")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// An upload spooled to a file under the root, removed when dropped.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn spool(req: Request<Incoming>, root: &Path) -> Result<Spooled, Failure> {
    let internal = |e: std::io::Error| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let dir = root.join("web").join("uploads");
    std::fs::create_dir_all(&dir).map_err(internal)?;
    let id =
        crate::sessions::token().map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let spooled = Spooled(dir.join(id));
    let mut f = std::fs::File::create(&spooled.0).map_err(internal)?;
    let mut body = req.into_body();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > MAX_UPLOAD {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("uploads are limited to {} MiB", MAX_UPLOAD >> 20),
                ));
            }
            f.write_all(&data).map_err(internal)?;
        }
    }
    Ok(spooled)
}

fn upload(
    host: &yurta_engine::Host,
    name: &str,
    target: &str,
    data: &Path,
) -> Result<Response<Body>, Failure> {
    let t = Path::new(target);
    let (Some(dir), Some(file_name)) = (t.parent(), t.file_name()) else {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("{target}: a file path is needed"),
        ));
    };
    if dir.as_os_str().is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("{target}: a file path is needed"),
        ));
    }
    let internal = |e: std::io::Error| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    // The one entry becomes `target` (or goes into it, a directory).
    let out = run_helper(host, name, ArchiveOp::Unpack(target), |c| {
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(internal)?;
        let stdin = child.stdin.take().expect("piped");
        let mut src = std::fs::File::open(data).map_err(internal)?;
        let size = src.metadata().map_err(internal)?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(yurta_time::now_parts().0.max(0) as u64);
        header.set_entry_type(tar::EntryType::Regular);
        let mut b = tar::Builder::new(stdin);
        // A helper that failed early closes its stdin: its stderr says why.
        let _ = b
            .append_data(&mut header, file_name, &mut src)
            .and_then(|()| b.finish());
        drop(b);
        child.wait_with_output().map_err(internal)
    })?;
    if !out.status.success() {
        return Err(helper_failed(&out.stderr));
    }
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({"Path": target}),
    ))
}
