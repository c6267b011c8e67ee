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
    let line = format!("{DOCKER} {args}");
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

    let o = Command::new("python3")
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
