//! `POST /build`: Docker's classic builder protocol over the engine's
//! build (`yurta_engine::build`, the same as `yurta build`). The request
//! body is the context as a tar (plain, gzip or zstd), unpacked as it
//! streams into a directory under the root that goes at the end; the
//! query carries `t` (repeated), `dockerfile`, `buildargs` and `labels`
//! (JSON objects), `target`, `nocache`, `pull`, `q`, `networkmode`,
//! `platform`. The answer is the JSON stream of `stream` lines (Docker's
//! `Step 1/3 : …`), an `aux` with the image ID, and an `error` message
//! when the build fails. BuildKit is not advertised, so clients use this.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use yurta_engine::build::{build as run_build, unpack_context, BuildOptions, BuildProgress};

use crate::body::{Channel, ChannelReader};
use crate::error::ApiError;
use crate::request::{Call, Reply};

pub(crate) async fn build(mut c: Call) -> Reply {
    let mut opts = options(&c)?;
    let quiet = c.flag("q")?;
    let body = c
        .body
        .take()
        .ok_or_else(|| ApiError::bad_request("no build context in the request body"))?;
    let state = Arc::clone(&c.state);
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let root = state.root.clone();
    let unpacked = tokio::task::spawn_blocking(move || {
        let reader = ChannelReader {
            rx,
            buf: Bytes::new(),
        };
        unpack_context(&root, reader)
    });
    crate::body::pump(body, tx).await;
    let dir = unpacked
        .await
        .map_err(|e| ApiError::internal(format!("build context: {e}")))?
        .map_err(|e| ApiError::bad_request(format!("{e:#}")))?;
    opts.context = dir.dir.clone();
    let (out, response) = Channel::open(64);
    std::thread::spawn(move || {
        let progress = Stream {
            tx: out.clone(),
            quiet,
        };
        let built = run_build(&state.engine, &opts, &progress);
        drop(dir);
        let last = match built {
            Ok(b) => {
                if quiet {
                    send(&out, json!({ "stream": format!("{}\n", b.image.id) }));
                }
                json!({ "aux": { "ID": b.image.id.to_string() } })
            }
            Err(e) => {
                let text = format!("{e:#}");
                json!({ "errorDetail": { "message": text }, "error": text })
            }
        };
        send(&out, last);
    });
    let mut r = Response::new(response);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(r)
}

/// The build's options from the query.
fn options(c: &Call) -> Result<BuildOptions, ApiError> {
    let map = |key: &str| -> Result<BTreeMap<String, String>, ApiError> {
        match c.q(key).filter(|v| !v.is_empty()) {
            None => Ok(BTreeMap::new()),
            Some(v) => {
                let parsed: BTreeMap<String, Option<String>> = serde_json::from_str(v)
                    .map_err(|e| ApiError::bad_request(format!("{key}: not a JSON object: {e}")))?;
                Ok(parsed
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
                    .collect())
            }
        }
    };
    let some = |key: &str| c.q(key).filter(|v| !v.is_empty()).map(str::to_string);
    let network = some("networkmode").filter(|m| m != "default");
    Ok(BuildOptions {
        dockerfile: some("dockerfile").map(Into::into),
        tags: c.q_all("t").into_iter().filter(|t| !t.is_empty()).collect(),
        build_args: map("buildargs")?,
        target: some("target"),
        no_cache: c.flag("nocache")?,
        pull: c.flag("pull")?,
        labels: map("labels")?,
        network,
        platform: some("platform"),
        ..BuildOptions::default()
    })
}

/// Progress as Docker's `stream` messages.
struct Stream {
    tx: mpsc::Sender<io::Result<Bytes>>,
    quiet: bool,
}

fn send(tx: &mpsc::Sender<io::Result<Bytes>>, v: Value) {
    let _ = tx.blocking_send(Ok(Bytes::from(v.to_string() + "\r\n")));
}

impl BuildProgress for Stream {
    fn line(&self, text: &str) {
        if !self.quiet {
            send(&self.tx, json!({ "stream": format!("{text}\n") }));
        }
    }

    fn output(&self, data: &[u8]) {
        if !self.quiet {
            send(&self.tx, json!({ "stream": String::from_utf8_lossy(data) }));
        }
    }
}

/// `POST /build/prune` (`docker builder prune`, and the last step of
/// `docker system prune`): the engine's `builder prune` — every build
/// cache entry no container uses, whatever `all` says (yurta keeps no
/// shared build cache that `all` would add); `keep-storage` and filters
/// are refused rather than ignored.
pub(crate) async fn prune(c: Call) -> Reply {
    let f = c.filters()?;
    f.only(&[])?;
    if c.q("keep-storage")
        .is_some_and(|k| !k.is_empty() && k != "0")
    {
        return Err(ApiError::bad_request(
            "keep-storage is not supported: yurta prunes the whole build cache",
        ));
    }
    let host = c.state.engine.clone();
    let (ids, bytes) = crate::request::blocking(move || {
        yurta_engine::build::prune(&host).map_err(crate::containers::lifecycle_error)
    })
    .await?;
    crate::request::ok(&json!({ "CachesDeleted": ids, "SpaceReclaimed": bytes }))
}
