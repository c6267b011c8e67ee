//! Terminals through `yurta system service` (issue 11): the docker CLI's
//! `run -it` and `exec -it` under script(1) (a shell's tty and exit code,
//! `top` quit with `q`) and docker-py's low-level exec API (the terminal
//! resized through `/exec/{id}/resize` before the process reads its
//! size) — what the web console's terminals stand on.

mod api_common;
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use api_common::{Service, DOCKER};
use common::world::World;

/// `docker ARGS` on a terminal that script(1) makes; `steps` are typed
/// one after the other. The exit code and everything the terminal showed.
fn docker_on_a_terminal(s: &Service, args: &str, steps: &[&[u8]]) -> (Option<i32>, String) {
    client_on_a_terminal(s, DOCKER, args, steps)
}

/// The same with the client at `bin`.
fn client_on_a_terminal(
    s: &Service,
    bin: &str,
    args: &str,
    steps: &[&[u8]],
) -> (Option<i32>, String) {
    let line = format!("{bin} {args}");
    let mut c = s.command("script");
    c.args(["-qfec", &line, "/dev/null"]);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for keys in steps {
        std::thread::sleep(Duration::from_millis(800));
        // A process that ended early shows in the assertions on its output.
        let _ = stdin.write_all(keys).and_then(|_| stdin.flush());
    }
    yurta_testutil::process::wait_output(child, Duration::from_secs(20), args)
}

/// Debian's Python, with python3-docker and python3-websocket.
const PYTHON: &str = "/usr/bin/python3";

const RESIZE_PY: &str = r#"
import sys, docker
c = docker.APIClient(base_url=sys.argv[1].replace("unix://", "unix://"), version="1.41")
e = c.exec_create(sys.argv[2], ["sh", "-c", "read go; stty size; tty; exit 7"], tty=True, stdin=True)
sock = c.exec_start(e["Id"], tty=True, socket=True)
raw = getattr(sock, "_sock", sock)
c.exec_resize(e["Id"], height=33, width=111)
raw.sendall(b"go\n")
out = b""
while True:
    chunk = raw.recv(4096)
    if not chunk:
        break
    out += chunk
code = None
for _ in range(200):
    i = c.exec_inspect(e["Id"])
    if not i["Running"]:
        code = i["ExitCode"]
        break
    import time; time.sleep(0.05)
print(repr(out.decode()), code)
"#;

#[test]
fn docker_exec_it_and_a_resized_terminal_through_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    w.run(&["run", "-d", "--name", "tt", "img", "sleep", "300"])
        .ok();

    let (code, out) =
        docker_on_a_terminal(&s, "exec -it tt sh -c 'tty; echo TERM=$TERM; exit 4'", &[]);
    assert_eq!(code, Some(4), "{out}\n{}", s.stderr());
    assert!(out.contains("/dev/pts/"), "{out}");
    assert!(out.contains("TERM=xterm"), "{out}");

    // docker run -it: a terminal for the container's own process.
    let (code, out) = docker_on_a_terminal(
        &s,
        "run -it --rm img sh -c 'tty; echo cols=$(stty size); exit 6'",
        &[],
    );
    assert_eq!(code, Some(6), "{out}\n{}", s.stderr());
    assert!(out.contains("/dev/pts/0"), "{out}");
    assert!(out.contains("cols="), "{out}");

    // A full-screen program, quit with a key.
    let (code, out) = docker_on_a_terminal(&s, "exec -it tt busybox top", &[b"q"]);
    assert_eq!(code, Some(0), "{out}\n{}", s.stderr());
    assert!(out.contains("PID") && out.contains("sleep 300"), "{out}");

    // Typed input reaches the process; its echo comes back.
    let (code, out) = docker_on_a_terminal(
        &s,
        "exec -it tt sh",
        &[b"echo typed-$((6*7))\n", b"exit 3\n"],
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("typed-42"), "{out}");

    let o = Command::new(PYTHON)
        .args(["-c", RESIZE_PY, &s.host(), "tt"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        s.stderr()
    );
    assert!(text.contains("33 111"), "{text}");
    assert!(text.contains("/dev/pts/"), "{text}");
    assert!(text.trim_end().ends_with(" 7"), "{text}");

    // A missing command: the exit code, nothing left behind.
    let (code, out) = docker_on_a_terminal(&s, "exec -it tt nosuch", &[]);
    assert_eq!(code, Some(127), "{out}");
    let attach = w.y.root().join("attach");
    let left: Vec<_> = std::fs::read_dir(&attach)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().starts_with("exec-")),
        "{left:?}"
    );
    w.run(&["rm", "-f", "tt"]).ok();
}

const WS_PY: &str = r#"
import socket, sys, websocket
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
url = "ws://localhost/v1.41/containers/%s/attach/ws?stream=1&stdin=1&stdout=1&stderr=1" % sys.argv[2]
ws = websocket.create_connection(url, socket=sock)
ws.send(sys.argv[3])
seen = ""
while sys.argv[4] not in seen:
    seen += ws.recv().decode()
ws.close()
print(repr(seen))
"#;

/// `attach/ws` with Debian's websocket-client: a container's stdin and
/// output as raw WebSocket messages, with and without a TTY.
#[test]
fn attach_over_a_websocket() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    w.run(&[
        "run",
        "-d",
        "-i",
        "--name",
        "wsc",
        "img",
        "sh",
        "-c",
        "while read l; do echo got:$l; done",
    ])
    .ok();
    w.run(&["run", "-d", "-i", "-t", "--name", "wst", "img", "sh"])
        .ok();
    let sock = s.sock.display().to_string();
    for (name, send, want) in [
        ("wsc", "hello\n", "got:hello"),
        ("wst", "echo $((6*7))x\n", "42x"),
    ] {
        let o = Command::new(PYTHON)
            .args(["-c", WS_PY, &sock, name, send, want])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains(want),
            "{name}: {text}{}\n{}",
            String::from_utf8_lossy(&o.stderr),
            s.stderr()
        );
        // No 8-byte frame headers: the text is as the container wrote it.
        assert!(!text.contains("\\x01\\x00"), "{text}");
    }
    // Not a WebSocket handshake: a clear 400.
    let (code, body) = s.raw("GET", "/containers/wsc/attach/ws", b"");
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("WebSocket"), "{body}");
    w.run(&["rm", "-f", "wsc", "wst"]).ok();
}

/// Debian's docker.io 20.10 client: `run -it` and `exec -it` on a terminal.
#[test]
fn debian_docker_20_10_terminals() {
    let Some(bin) = api_common::docker_20() else {
        eprintln!("skipped: Debian's docker.io client is not installed");
        return;
    };
    let bin = bin.to_str().unwrap();
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let (code, out) = client_on_a_terminal(&s, bin, "run -it --rm img sh -c 'tty; exit 6'", &[]);
    assert_eq!(code, Some(6), "{out}\n{}", s.stderr());
    assert!(out.contains("/dev/pts/0"), "{out}");
    w.run(&["run", "-d", "--name", "t20", "img", "sleep", "300"])
        .ok();
    let (code, out) = client_on_a_terminal(
        &s,
        bin,
        "exec -it t20 sh",
        &[b"echo typed-$((6*7))\n", b"exit 3\n"],
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("typed-42"), "{out}");
    w.run(&["rm", "-f", "t20"]).ok();
}
