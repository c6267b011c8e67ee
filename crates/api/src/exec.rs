//! Exec instances: `POST /containers/{id}/exec` makes one (kept in the
//! service's memory, as Docker's daemon keeps them), `POST
//! /exec/{id}/start` runs it through `yurta_engine::lifecycle::exec` —
//! hijacked (`Upgrade: tcp`) or as a streamed answer, its output in 8-byte
//! frames, the client's input to its stdin — or detached, `GET
//! /exec/{id}/json` tells its state and exit code. With `Tty` the exec
//! gets a terminal (`yurta_engine::lifecycle::terminal`): its bytes go to
//! the client unframed, the client's to it, and `POST /exec/{id}/resize`
//! sets its size — `docker exec -it` and the web console's terminals.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

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
use yurta_engine::lifecycle::terminal::{self, Terminal};

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
    /// The terminal's master, for `resize`.
    terminal: Option<Arc<OwnedFd>>,
    /// A size asked for before the terminal existed, set once it does.
    size: Option<(u16, u16)>,
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
            terminal: None,
            size: None,
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
    let console_socket = config.tty.then(|| {
        let short: String = id.chars().take(12).collect();
        state.root.join("attach").join(format!("exec-{short}"))
    });
    let spec = ExecSpec {
        command: config.cmd.clone(),
        env: config.env.clone().unwrap_or_default(),
        workdir: (!config.working_dir.is_empty()).then(|| config.working_dir.clone()),
        user: (!config.user.is_empty()).then(|| config.user.clone()),
        detach: false,
        console_socket: console_socket.clone(),
        pid_file: None,
    };
    let stdin = config.attach_stdin && !body.detach;
    let streams = (config.attach_stdout, config.attach_stderr);
    let cmd = {
        let state = state.clone();
        blocking(move || {
            let rec = lookup(&state, &open(&state)?, &container)?;
            command(&state.engine, &rec, &spec).map_err(lifecycle_error)
        })
        .await?
    };
    let launch = Launch {
        state,
        id,
        cmd,
        console_socket,
        stdin,
        streams,
        detach: body.detach,
    };
    if body.detach {
        blocking(move || launch.run()).await?;
        return Ok(Response::new(empty()));
    }
    match c.parts.extensions.remove::<OnUpgrade>() {
        // The process starts once the answer's head is out: what it
        // writes at once then never arrives with the head, where a
        // client that buffers the head (docker-py) would lose it.
        Some(on_upgrade) => {
            tokio::spawn(async move {
                let upgraded = on_upgrade.await.ok();
                let session = match upgraded {
                    Some(_) => blocking(move || launch.run()).await,
                    None => Err(ApiError::internal("the connection was not upgraded")),
                };
                over_connection(upgraded, session).await;
            });
            Ok(hijacked())
        }
        None => Ok(streamed(blocking(move || launch.run()).await?)),
    }
}

/// What starting an exec takes, gathered before the answer goes out.
struct Launch {
    state: Arc<crate::server::State>,
    id: String,
    cmd: Command,
    console_socket: Option<std::path::PathBuf>,
    stdin: bool,
    streams: (bool, bool),
    detach: bool,
}

impl Launch {
    /// Starts the process; its session, recorded on the instance.
    fn run(mut self) -> Result<Session, ApiError> {
        let (execs, exec_id) = (self.state.clone(), self.id.clone());
        let finished = move |code: i32| {
            let _ = execs.execs.with(&exec_id, |i| {
                i.running = false;
                i.exit_code = Some(code);
            });
        };
        let session = match &self.console_socket {
            Some(sock) => with_terminal(&mut self.cmd, sock, self.stdin, finished),
            None => with_pipes(
                &mut self.cmd,
                self.stdin,
                self.streams,
                self.detach,
                finished,
            ),
        };
        let session = match session {
            Ok(s) => s,
            Err(e) => {
                let _ = self.state.execs.with(&self.id, |i| i.exit_code = Some(126));
                return Err(e);
            }
        };
        let _ = self.state.execs.with(&self.id, |i| {
            i.running = session.pid.is_some() && i.exit_code.is_none();
            i.pid = session.pid.unwrap_or(0);
            i.terminal = session.terminal.clone();
            // A size asked for before the terminal existed.
            if let (Some(master), Some((rows, cols))) = (&i.terminal, i.size) {
                terminal::resize(master, rows, cols);
            }
        });
        Ok(session)
    }
}

/// A started exec as a connection sees it: its output (framed without a
/// terminal, raw with one), where the client's input goes, and the thread
/// that records the exit code and then ends the output.
struct Session {
    output: mpsc::Receiver<Bytes>,
    input: Option<Box<dyn Write + Send>>,
    waiter: std::thread::JoinHandle<()>,
    pid: Option<u32>,
    terminal: Option<Arc<OwnedFd>>,
}

/// Without a terminal: stdout and stderr in frames, stdin from the client.
fn with_pipes(
    cmd: &mut Command,
    stdin: bool,
    streams: (bool, bool),
    detach: bool,
    finished: impl FnOnce(i32) + Send + 'static,
) -> Result<Session, ApiError> {
    cmd.stdin(if stdin { Stdio::piped() } else { Stdio::null() });
    let (out, err) = match detach {
        true => (Stdio::null(), Stdio::null()),
        false => (Stdio::piped(), Stdio::piped()),
    };
    cmd.stdout(out).stderr(err);
    let mut child = cmd
        .spawn()
        .map_err(|e| ApiError::internal(format!("yurta-runtime exec: {e}")))?;
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let readers = output_readers(&mut child, streams, &tx);
    let input = child
        .stdin
        .take()
        .map(|s| Box::new(s) as Box<dyn Write + Send>);
    let pid = Some(child.id());
    // The output ends (tx dropped) only once the exit code is recorded:
    // the client inspects the exec for it as soon as the output ends.
    let waiter = std::thread::spawn(move || {
        for r in readers {
            let _ = r.join();
        }
        finished(child.wait().ok().and_then(|s| s.code()).unwrap_or(125));
        drop(tx);
    });
    Ok(Session {
        output: rx,
        input,
        waiter,
        pid,
        terminal: None,
    })
}

/// With a terminal: its bytes as they come (and the runtime's own
/// errors), the client's input to it; `resize` sets its size.
fn with_terminal(
    cmd: &mut Command,
    sock: &std::path::Path,
    stdin: bool,
    finished: impl FnOnce(i32) + Send + 'static,
) -> Result<Session, ApiError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let started = terminal::spawn(cmd, sock).map_err(lifecycle_error)?;
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let (mut child, master, peer) = match started {
        Terminal::Running {
            child,
            master,
            peer,
        } => (child, master, peer),
        Terminal::Exited { code, stderr } => {
            // The runtime's own error (a missing command) is the output.
            if !stderr.is_empty() {
                let _ = tx.try_send(Bytes::from(stderr));
            }
            finished(code);
            let waiter = std::thread::spawn(move || drop(tx));
            return Ok(Session {
                output: rx,
                input: None,
                waiter,
                pid: None,
                terminal: None,
            });
        }
    };
    let dup = |fd: &OwnedFd| {
        fd.try_clone()
            .map_err(|e| ApiError::internal(format!("the exec's terminal: {e}")))
    };
    let input = match stdin {
        true => Some(Box::new(std::fs::File::from(dup(&master)?)) as Box<dyn Write + Send>),
        false => None,
    };
    let mut readers = vec![copy_raw(Box::new(std::fs::File::from(dup(&master)?)), &tx)];
    if let Some(err) = child.stderr.take() {
        readers.push(copy_raw(Box::new(err), &tx));
    }
    let pid = Some(child.id());
    let waiter = std::thread::spawn(move || {
        // The process first; then the terminal's reads drain what it
        // wrote and end (EIO) once our peer descriptor is closed too.
        let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(125);
        drop(peer);
        for r in readers {
            let _ = r.join();
        }
        finished(code);
        drop(tx);
    });
    Ok(Session {
        output: rx,
        input,
        waiter,
        pid,
        terminal: Some(Arc::new(master)),
    })
}

/// A thread sending what `from` gives, unframed; output nobody reads any
/// more is still drained, so the process never blocks on it.
fn copy_raw(mut from: Pipe, tx: &mpsc::Sender<Bytes>) -> std::thread::JoinHandle<()> {
    let tx = tx.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = tx.blocking_send(Bytes::copy_from_slice(&buf[..n]));
        }
    })
}

/// The output as a plain streamed answer (a client that does not hijack).
fn streamed(session: Session) -> Response<Body> {
    let Session {
        mut output, waiter, ..
    } = session;
    let (tx, body) = Channel::open(16);
    tokio::spawn(async move {
        while let Some(b) = output.recv().await {
            if tx.send(Ok(b)).await.is_err() {
                break;
            }
        }
        drop(output);
        let _ = tokio::task::spawn_blocking(move || waiter.join()).await;
    });
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.docker.raw-stream"),
    );
    r
}

/// The hijacked connection: the output to the client, its input to the
/// process; ends when the process's output ends.
async fn over_connection(
    upgraded: Option<hyper::upgrade::Upgraded>,
    session: Result<Session, ApiError>,
) {
    let Some(upgraded) = upgraded else {
        if let Ok(s) = session {
            drop(s.output);
            let _ = tokio::task::spawn_blocking(move || s.waiter.join()).await;
        }
        return;
    };
    let (mut rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
    let Session {
        mut output,
        input,
        waiter,
        ..
    } = match session {
        Ok(s) => s,
        Err(e) => {
            // Past the head, an error can only be the stream's text.
            let _ = wr.write_all(format!("{}\r\n", e.message).as_bytes()).await;
            let _ = wr.shutdown().await;
            return;
        }
    };
    let input = input.map(|mut to| {
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = rd.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let chunk = buf[..n].to_vec();
                let wrote = tokio::task::spawn_blocking(move || {
                    let r = to.write_all(&chunk);
                    (to, r)
                })
                .await;
                match wrote {
                    Ok((t, Ok(()))) => to = t,
                    _ => return,
                }
            }
            // The client's end of input closes the process's stdin.
        })
    });
    while let Some(chunk) = output.recv().await {
        if wr.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
    if let Some(i) = input {
        i.abort();
    }
    drop(output);
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

/// Sets the terminal's size (`h` rows, `w` columns); accepted and
/// ignored for an exec without one.
pub(crate) async fn resize(c: Call) -> Reply {
    let id = c.param(0).to_string();
    let size = |k: &str| -> Result<u16, ApiError> {
        match c.q(k) {
            None | Some("") => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid {k}: {v:?}"))),
        }
    };
    let (rows, cols) = (size("h")?, size("w")?);
    let terminal = c.state.execs.with(&id, |i| i.terminal.clone())?;
    match terminal {
        Some(master) => terminal::resize(&master, rows, cols),
        None => c.state.execs.with(&id, |i| i.size = Some((rows, cols)))?,
    }
    Ok(Response::new(empty()))
}
