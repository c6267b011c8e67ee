//! Exec instances: `POST /containers/{id}/exec` makes one (kept in the
//! service's memory, as Docker's daemon keeps them), `POST
//! /exec/{id}/start` runs it through `yurta_engine::lifecycle::exec` —
//! hijacked (`Upgrade: tcp`) or as a streamed answer, its output in 8-byte
//! frames, the client's input to its stdin — or detached, `GET
//! /exec/{id}/json` tells its state and exit code, `POST
//! /exec/{id}/resize` is accepted. Without a TTY only: an exec with one
//! answers 501 until the console socket is bridged too.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::Mutex;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::upgrade::OnUpgrade;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use yurta_engine::lifecycle::exec::{command, ExecSpec};

use crate::body::{empty, Body, Channel};
use crate::containers::{frame, hijacked, lifecycle_error, lookup, open};
use crate::error::ApiError;
use crate::request::{blocking, json, ok, Call, Reply};

/// Docker's `ExecConfig`.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(rename_all = "PascalCase", default)]
struct ExecConfig {
    attach_stdin: bool,
    attach_stdout: bool,
    attach_stderr: bool,
    tty: bool,
    cmd: Vec<String>,
    env: Option<Vec<String>>,
    working_dir: String,
    user: String,
    privileged: bool,
}

/// One exec instance.
struct Instance {
    container: String,
    config: ExecConfig,
    started: bool,
    running: bool,
    pid: u32,
    exit_code: Option<i32>,
}

/// How many exec instances are kept before finished ones are dropped.
const MAX_KEPT: usize = 1024;

/// The service's exec instances by ID.
#[derive(Default)]
pub(crate) struct Execs(Mutex<HashMap<String, Instance>>);

impl Execs {
    fn with<T>(&self, id: &str, f: impl FnOnce(&mut Instance) -> T) -> Result<T, ApiError> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(id) {
            Some(i) => Ok(f(i)),
            None => Err(ApiError::not_found(format!("No such exec instance: {id}"))),
        }
    }
}

pub(crate) async fn create(mut c: Call) -> Reply {
    let config: ExecConfig = c.json().await?;
    if config.cmd.is_empty() {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    if config.privileged {
        return Err(ApiError::bad_request(
            "exec --privileged is not supported: the exec runs with the container's privileges",
        ));
    }
    let (state, name) = (c.state.clone(), c.param(0).to_string());
    let id = blocking(move || {
        let rec = lookup(&state, &open(&state)?, &name)?;
        if !rec.state.running || rec.state.paused {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("Container {} is not running", rec.id),
            ));
        }
        let id = yurta_engine::ids::new_id().map_err(|e| ApiError::internal(e.to_string()))?;
        let instance = Instance {
            container: rec.id,
            config,
            started: false,
            running: false,
            pid: 0,
            exit_code: None,
        };
        let mut map = state.execs.0.lock().unwrap_or_else(|e| e.into_inner());
        // Finished instances stay for `inspect`, up to a bound.
        if map.len() >= MAX_KEPT {
            map.retain(|_, i| i.exit_code.is_none());
        }
        map.insert(id.clone(), instance);
        Ok(id)
    })
    .await?;
    Ok(json(StatusCode::CREATED, &json!({"Id": id})))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct StartBody {
    detach: bool,
}

pub(crate) async fn start(mut c: Call) -> Reply {
    let body: StartBody = c.json().await?;
    let id = c.param(0).to_string();
    let state = c.state.clone();
    let config = state.execs.with(&id, |i| {
        let was = i.started;
        i.started = true;
        (was, i.config.clone(), i.container.clone())
    })?;
    let (already, config, container) = config;
    if already {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("exec {id} has already been started"),
        ));
    }
    if config.tty {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "exec with a TTY is not served by yurta system service yet: use yurta exec -t",
        ));
    }
    let spec = ExecSpec {
        command: config.cmd.clone(),
        env: config.env.clone().unwrap_or_default(),
        workdir: (!config.working_dir.is_empty()).then(|| config.working_dir.clone()),
        user: (!config.user.is_empty()).then(|| config.user.clone()),
        detach: false,
        console_socket: None,
    };
    let stdin = config.attach_stdin && !body.detach;
    let child = {
        let state = state.clone();
        blocking(move || {
            let rec = lookup(&state, &open(&state)?, &container)?;
            let mut cmd = command(&state.engine, &rec, &spec).map_err(lifecycle_error)?;
            cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() });
            let (out, err) = match body.detach {
                true => (Stdio::null(), Stdio::null()),
                false => (Stdio::piped(), Stdio::piped()),
            };
            cmd.stdout(out).stderr(err);
            cmd.spawn()
                .map_err(|e| ApiError::internal(format!("yurta-runtime exec: {e}")))
        })
        .await?
    };
    state.execs.with(&id, |i| {
        i.running = true;
        i.pid = child.id();
    })?;
    let execs = state.clone();
    let finished = move |code: i32| {
        let _ = execs.execs.with(&id, |i| {
            i.running = false;
            i.exit_code = Some(code);
        });
    };
    if body.detach {
        std::thread::spawn(move || {
            let mut child = child;
            finished(child.wait().ok().and_then(|s| s.code()).unwrap_or(125));
        });
        return Ok(Response::new(empty()));
    }
    let streams = (config.attach_stdout, config.attach_stderr);
    match c.parts.extensions.remove::<OnUpgrade>() {
        Some(on_upgrade) => {
            tokio::spawn(async move {
                let upgraded = on_upgrade.await.ok();
                over_connection(upgraded, child, streams, finished).await;
            });
            Ok(hijacked())
        }
        None => Ok(streamed(child, streams, finished)),
    }
}

/// The output as a plain streamed answer (a client that does not hijack).
fn streamed(
    mut child: Child,
    streams: (bool, bool),
    finished: impl FnOnce(i32) + Send + 'static,
) -> Response<Body> {
    let (tx, body) = Channel::open(16);
    let (ctx, mut crx) = mpsc::channel::<Bytes>(16);
    let readers = output_readers(&mut child, streams, &ctx);
    tokio::spawn(async move {
        while let Some(b) = crx.recv().await {
            if tx.send(Ok(b)).await.is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for r in readers {
            let _ = r.join();
        }
        finished(child.wait().ok().and_then(|s| s.code()).unwrap_or(125));
        drop(ctx);
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.docker.raw-stream"),
    );
    r
}

/// The hijacked connection: output framed to the client, its input to the
/// process's stdin; ends when the process's output ends.
async fn over_connection(
    upgraded: Option<hyper::upgrade::Upgraded>,
    mut child: Child,
    streams: (bool, bool),
    finished: impl FnOnce(i32) + Send + 'static,
) {
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let readers = output_readers(&mut child, streams, &tx);
    let stdin = child.stdin.take();
    // The stream ends (tx dropped) only once the exit code is recorded: the
    // client inspects the exec for it as soon as the output ends.
    let waiter = std::thread::spawn(move || {
        for r in readers {
            let _ = r.join();
        }
        finished(child.wait().ok().and_then(|s| s.code()).unwrap_or(125));
        drop(tx);
    });
    let Some(upgraded) = upgraded else {
        let _ = tokio::task::spawn_blocking(move || waiter.join()).await;
        return;
    };
    let (mut rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
    let input = stdin.map(|mut stdin| {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = rd.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let chunk = buf[..n].to_vec();
                let wrote = tokio::task::spawn_blocking(move || {
                    let r = stdin.write_all(&chunk);
                    (stdin, r)
                })
                .await;
                match wrote {
                    Ok((s, Ok(()))) => stdin = s,
                    _ => return,
                }
            }
            // The client's end of input closes the process's stdin.
        })
    });
    while let Some(chunk) = rx.recv().await {
        if wr.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
    if let Some(i) = input {
        i.abort();
    }
    let _ = tokio::task::spawn_blocking(move || waiter.join()).await;
}

/// One of the process's output pipes.
type Pipe = Box<dyn Read + Send>;

/// Threads copying the process's stdout and stderr into frames.
fn output_readers(
    child: &mut Child,
    (stdout, stderr): (bool, bool),
    tx: &mpsc::Sender<Bytes>,
) -> Vec<std::thread::JoinHandle<()>> {
    let mut threads = Vec::new();
    let pipes: [(Option<Pipe>, u8, bool); 2] = [
        (child.stdout.take().map(|p| Box::new(p) as _), 1, stdout),
        (child.stderr.take().map(|p| Box::new(p) as _), 2, stderr),
    ];
    for (pipe, kind, wanted) in pipes {
        let Some(mut pipe) = pipe else { continue };
        let tx = tx.clone();
        threads.push(std::thread::spawn(move || {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = pipe.read(&mut buf) {
                // Unwanted output is read all the same (the process must
                // not block on a full pipe); a client gone is ignored.
                if n == 0 {
                    break;
                }
                if wanted {
                    let _ = tx.blocking_send(frame(kind, &buf[..n], false));
                }
            }
        }));
    }
    threads
}

pub(crate) async fn inspect(c: Call) -> Reply {
    let id = c.param(0).to_string();
    let v = c.state.execs.with(&id, |i| {
        let mut args = i.config.cmd.clone();
        let entrypoint = args.remove(0);
        json!({
            "ID": id,
            "ContainerID": i.container,
            "Running": i.running,
            "ExitCode": i.exit_code,
            "Pid": i.pid,
            "OpenStdin": i.config.attach_stdin,
            "OpenStdout": i.config.attach_stdout,
            "OpenStderr": i.config.attach_stderr,
            "CanRemove": false,
            "DetachKeys": "",
            "ProcessConfig": {
                "tty": i.config.tty,
                "entrypoint": entrypoint,
                "arguments": args,
                "privileged": false,
                "user": i.config.user,
            },
        })
    })?;
    ok(&v)
}

/// Accepted (an exec without a TTY has no size).
pub(crate) async fn resize(c: Call) -> Reply {
    let id = c.param(0).to_string();
    c.state.execs.with(&id, |_| ())?;
    Ok(Response::new(empty()))
}
