//! A container's filesystem as a whole: `GET /containers/{id}/changes`
//! (`docker diff`: `[{"Path", "Kind"}]`, Kind 0 changed, 1 added, 2
//! deleted) and `GET /containers/{id}/export` (`docker export`: the root
//! filesystem as a tar, streamed), over `yurta_engine::lifecycle`.

use std::io::Read;
use std::process::Stdio;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use serde_json::json;
use tokio::sync::oneshot;
use yurta_engine::lifecycle::changes::changes as container_changes;
use yurta_engine::lifecycle::export::export as start_export;
use yurta_images::rwlayer::ChangeKind;

use super::{lifecycle_error, open, with_container};
use crate::body::Channel;
use crate::error::ApiError;
use crate::request::{ok, Call, Reply};

pub(crate) async fn changes(c: Call) -> Reply {
    let list = with_container(&c, |_, engine, rec| {
        container_changes(engine, &rec).map_err(lifecycle_error)
    })
    .await?;
    let rows: Vec<_> = list
        .iter()
        .map(|ch| {
            let kind = match ch.kind {
                ChangeKind::Changed => 0,
                ChangeKind::Added => 1,
                ChangeKind::Deleted => 2,
            };
            json!({ "Path": ch.path.display().to_string(), "Kind": kind })
        })
        .collect();
    ok(&rows)
}

/// The tar streams from the helper's stdout; the thread that starts the
/// helper copies and waits (the helper dies with that thread), so a
/// container that is not there is a 404 before the stream begins.
pub(crate) async fn export(c: Call) -> Reply {
    let (state, name) = (Arc::clone(&c.state), c.param(0).to_string());
    let (tx, body) = Channel::open(8);
    let (started_tx, started_rx) = oneshot::channel::<Result<(), ApiError>>();
    std::thread::spawn(move || {
        let started = open(&state).and_then(|engine| {
            start_export(&state.engine, &engine, &name, Stdio::piped()).map_err(lifecycle_error)
        });
        let mut e = match started {
            Ok(e) => e,
            Err(err) => {
                let _ = started_tx.send(Err(err));
                return;
            }
        };
        let _ = started_tx.send(Ok(()));
        let Some(mut out) = e.child.stdout.take() else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match out.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        let _ = e.child.kill(); // the client went away
                        break;
                    }
                }
                Err(err) => {
                    let _ = tx.blocking_send(Err(err));
                    break;
                }
            }
        }
        drop(out);
        // A helper that failed mid-way truncates the stream.
        if let Ok(status) = e.child.wait() {
            if !status.success() {
                let _ = tx.blocking_send(Err(std::io::Error::other(format!(
                    "export: its helper ended: {status}"
                ))));
            }
        }
    });
    started_rx
        .await
        .map_err(|_| ApiError::internal("export: its thread ended"))??;
    let mut r = Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    Ok(r)
}
