//! The consoles' WebSockets: a container's terminal (a new exec with a
//! TTY, through `yurta_engine::lifecycle::{exec, terminal}`), a VM's
//! serial console (its supervisor's console socket) and a VM's screen
//! (QEMU's VNC, byte for byte, for noVNC). docs/web.md has the frames.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use yurta_api::body::Body;
use yurta_api::Front;
use yurta_engine::lifecycle::exec::{command, ExecSpec};
use yurta_engine::lifecycle::terminal::{self, Terminal};
use yurta_engine::vm::store::{Status, VmStore};

use crate::http::{self, error, Socket};
use crate::routes::Access;
use crate::tickets::Kind;
use crate::Web;

/// Without `cmd`: bash where the image has it, else sh.
const DEFAULT_SHELL: &str = "command -v bash >/dev/null 2>&1 && exec bash -l || exec sh -l";

/// How much of a VM's console log a new serial client sees first.
const SERIAL_REPLAY: u64 = 16 << 10;

type Sink = SplitSink<Socket, Message>;

/// A console's socket, once the path and the access agree.
pub fn open(web: Arc<Web>, req: Request<Incoming>, access: Access, cx: Front) -> Response<Body> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (kind, target) = match segs.as_slice() {
        ["ws", "containers", name, "exec"] => (Kind::Exec, name.to_string()),
        ["ws", "vms", name, "serial"] => (Kind::Serial, name.to_string()),
        ["ws", "vms", name, "vnc"] => (Kind::Vnc, name.to_string()),
        _ => return error(StatusCode::NOT_FOUND, "no such console"),
    };
    let target = http::decode(&target);
    if let Access::Ticket(id) = &access {
        let now = std::time::Instant::now();
        match web.tickets.peek(id, now) {
            Some(t) if t.kind != kind || t.target != target => {
                return error(
                    StatusCode::FORBIDDEN,
                    "the console link is for another console",
                )
            }
            Some(_) if web.tickets.take(id, now).is_some() => {}
            _ => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "the console link was used or has expired",
                )
            }
        }
    }
    let busy = cx.api.busy();
    let host = cx.api.engine().clone();
    let root = web.root.clone();
    http::websocket(req, move |ws| async move {
        let _busy = busy;
        match kind {
            Kind::Exec => exec(ws, host, target, &query).await,
            Kind::Serial => serial(ws, root, target).await,
            Kind::Vnc => vnc(ws, root, target).await,
        }
    })
}

#[derive(Deserialize)]
struct Control {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    cols: u16,
    #[serde(default)]
    rows: u16,
}

/// Tells the browser why the console ends, and closes.
async fn fail(mut sink: Sink, message: String) {
    let text = serde_json::json!({"type": "error", "message": message}).to_string();
    let _ = sink.send(Message::Text(text)).await;
    let _ = sink.send(Message::Close(None)).await;
}

/// A terminal started by the runtime, and the threads around its master.
struct Started {
    child: Child,
    master: OwnedFd,
    peer: Option<OwnedFd>,
}

async fn exec(ws: Socket, host: yurta_engine::Host, name: String, query: &str) {
    let (sink, mut messages) = ws.split();
    let size = |k: &str| http::param(query, k).and_then(|v| v.parse::<u16>().ok());
    let (cols, rows) = (size("cols").unwrap_or(80), size("rows").unwrap_or(24));
    let cmd = http::param(query, "cmd").filter(|c| !c.trim().is_empty());
    let started = tokio::task::spawn_blocking(move || start_exec(&host, &name, cmd))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    let s = match started {
        Ok(s) => s,
        Err(message) => return fail(sink, message).await,
    };
    terminal::resize(&s.master, rows, cols);
    let Ok(reader_fd) = s.master.try_clone() else {
        return fail(sink, "the terminal could not be shared".into()).await;
    };
    let Ok(writer_fd) = s.master.try_clone() else {
        return fail(sink, "the terminal could not be shared".into()).await;
    };
    let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(16);
    let Ok((stop_read, reader)) = spawn_reader(reader_fd, out_tx) else {
        return fail(sink, "the terminal's reader could not start".into()).await;
    };
    let (in_tx, in_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || write_all(writer_fd, in_rx));
    let (code_tx, code_rx) = oneshot::channel();
    let (mut child, peer) = (s.child, s.peer);
    std::thread::spawn(move || {
        let code = child.wait().ok().and_then(|st| st.code()).unwrap_or(125);
        // The process is gone: the reads drain what it wrote, then end.
        drop(peer);
        let _ = code_tx.send(code);
    });
    let master = s.master;
    let input = async {
        while let Some(Ok(m)) = messages.next().await {
            match m {
                Message::Binary(b) => {
                    let sent = in_tx.send(b);
                    if sent.is_err() {
                        break;
                    }
                }
                Message::Text(t) => {
                    if let Ok(c) = serde_json::from_str::<Control>(&t) {
                        if c.kind == "resize" && c.cols > 0 && c.rows > 0 {
                            terminal::resize(&master, c.rows, c.cols);
                        }
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    };
    let output = forward_output(sink, out_rx, code_rx);
    tokio::pin!(input, output);
    tokio::select! {
        _ = &mut output => {}
        _ = &mut input => {
            // The browser left: close every descriptor of the master so
            // the terminal hangs up and its shell gets SIGHUP.
            drop(in_tx);
            drop(stop_read);
        }
    }
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
}

/// The terminal's bytes to the browser, then the exit code.
async fn forward_output(
    mut sink: Sink,
    mut out: mpsc::Receiver<Vec<u8>>,
    code: oneshot::Receiver<i32>,
) {
    while let Some(chunk) = out.recv().await {
        if sink.send(Message::Binary(chunk)).await.is_err() {
            return;
        }
    }
    if let Ok(code) = code.await {
        let text = serde_json::json!({"type": "exit", "code": code}).to_string();
        let _ = sink.send(Message::Text(text)).await;
    }
    let _ = sink.send(Message::Close(None)).await;
}

fn start_exec(
    host: &yurta_engine::Host,
    name: &str,
    cmd: Option<String>,
) -> Result<Started, String> {
    let engine = yurta_engine::Engine::open(&host.root).map_err(|e| e.to_string())?;
    let rec = engine.containers.lookup(name).map_err(|e| e.to_string())?;
    let command_line = match cmd {
        Some(c) => vec!["/bin/sh".to_string(), "-c".to_string(), c],
        None => vec!["/bin/sh".into(), "-c".into(), DEFAULT_SHELL.into()],
    };
    let sock_name = crate::sessions::token().map_err(|e| e.to_string())?;
    let sock: PathBuf = host
        .root
        .join("attach")
        .join(format!("web-{}", &sock_name[..12]));
    let spec = ExecSpec {
        command: command_line,
        env: vec!["TERM=xterm-256color".to_string()],
        workdir: None,
        user: None,
        detach: false,
        console_socket: Some(sock.clone()),
        pid_file: None,
    };
    let mut c = command(host, &rec, &spec).map_err(|e| format!("{e:#}"))?;
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match terminal::spawn(&mut c, &sock).map_err(|e| format!("{e:#}"))? {
        Terminal::Running {
            child,
            master,
            peer,
        } => Ok(Started {
            child,
            master,
            peer,
        }),
        Terminal::Exited { code, stderr } => {
            let text = terminal::start_failure(&stderr)
                .unwrap_or_else(|| String::from_utf8_lossy(&stderr).trim().to_string());
            Err(format!(
                "the terminal's process ended at once ({code}): {text}"
            ))
        }
    }
}

/// A thread reading the master into `out` until it ends (EIO once the
/// process and our peer are gone) or the returned stop descriptor is
/// dropped: its pipe hangs up and wakes the poll, so an idle terminal
/// costs no wake-ups.
fn spawn_reader(
    master: OwnedFd,
    out: mpsc::Sender<Vec<u8>>,
) -> nix::Result<(OwnedFd, std::thread::JoinHandle<()>)> {
    let (stop_rx, stop_tx) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let handle = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let mut fds = [
                PollFd::new(file.as_fd(), PollFlags::POLLIN),
                PollFd::new(stop_rx.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return,
            }
            if fds[1].any().unwrap_or(true) {
                return;
            }
            match file.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if out.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok((stop_tx, handle))
}

fn write_all(master: OwnedFd, input: std::sync::mpsc::Receiver<Vec<u8>>) {
    let mut file = std::fs::File::from(master);
    while let Ok(chunk) = input.recv() {
        if file.write_all(&chunk).is_err() {
            return;
        }
    }
}

async fn serial(ws: Socket, root: PathBuf, name: String) {
    let (mut sink, messages) = ws.split();
    let vm = match VmStore::new(&root).get(&name) {
        Ok(vm) => vm,
        Err(e) => return fail(sink, e.to_string()).await,
    };
    let running = vm
        .load()
        .map(|r| yurta_engine::vm::store::view(&vm, &r).status == Status::Running)
        .unwrap_or(false);
    if !running {
        return fail(sink, format!("VM {name} is not running")).await;
    }
    let stream = match tokio::net::UnixStream::connect(vm.console_sock()).await {
        Ok(s) => s,
        Err(e) => return fail(sink, format!("VM {name}'s console: {e}")).await,
    };
    // What the guest printed before the browser came (its prompt, say).
    let tail = tokio::task::spawn_blocking({
        let log = vm.console_log();
        move || tail(&log, SERIAL_REPLAY)
    })
    .await
    .unwrap_or_default();
    if !tail.is_empty() && sink.send(Message::Binary(tail)).await.is_err() {
        return;
    }
    relay(sink, messages, stream, true).await;
}

async fn vnc(ws: Socket, root: PathBuf, name: String) {
    let (sink, messages) = ws.split();
    let addr = VmStore::new(&root).get(&name).and_then(|vm| {
        let r = vm.load()?;
        let v = yurta_engine::vm::store::view(&vm, &r);
        match (
            r.vnc,
            v.status == Status::Running,
            v.live.and_then(|l| l.vnc),
        ) {
            (false, _, _) => {
                anyhow::bail!("VM {name} has no display: create it with --display vnc")
            }
            (_, true, Some(addr)) => Ok(addr),
            _ => anyhow::bail!("VM {name} is not running"),
        }
    });
    let addr = match addr {
        Ok(a) => a,
        Err(e) => return fail(sink, e.to_string()).await,
    };
    match tokio::net::TcpStream::connect(&addr).await {
        Ok(s) => {
            let _ = s.set_nodelay(true);
            relay(sink, messages, s, false).await
        }
        Err(e) => fail(sink, format!("VM {name}'s screen ({addr}): {e}")).await,
    }
}

/// Bytes both ways between the socket and `stream` until either ends;
/// text frames are control (ignored here) when `control` is set, and
/// input otherwise.
async fn relay<S>(
    mut sink: Sink,
    mut messages: futures_util::stream::SplitStream<Socket>,
    stream: S,
    control: bool,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut from, mut to) = tokio::io::split(stream);
    let input = async {
        while let Some(Ok(m)) = messages.next().await {
            let data = match m {
                Message::Binary(b) => b,
                Message::Text(_) if control => continue,
                Message::Text(t) => t.into_bytes(),
                Message::Close(_) => break,
                _ => continue,
            };
            if to.write_all(&data).await.is_err() {
                break;
            }
        }
    };
    let output = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink.send(Message::Binary(buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = sink.send(Message::Close(None)).await;
    };
    tokio::pin!(input, output);
    tokio::select! {
        _ = &mut input => {}
        _ = &mut output => {}
    }
}

/// The last `max` bytes of a file, from a line start where possible.
fn tail(path: &std::path::Path, max: u64) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(max);
    if f.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut data = Vec::new();
    let _ = f.read_to_end(&mut data);
    if from > 0 {
        if let Some(i) = data.iter().position(|&b| b == b'\n') {
            data.drain(..=i);
        }
    }
    data
}
