//! Terminals and stdin end to end, as root: `run -i` with a pipe, `run -t`
//! and `exec -t` under script(1), `attach`, and detach keys leaving the
//! container running (`common::world`: own root, nothing left behind).

mod common;

use std::io::{BufRead, Write};
use std::process::Stdio;
use std::time::Duration;

use common::world::World;

#[test]
fn stdin_with_i_and_a_terminal_with_t() {
    let Some(w) = World::new() else { return };
    let mut child = w
        .cmd(&["run", "--rm", "-i", "img", "sh", "-c", "cat; exit 6"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped-in\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(6));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "piped-in\n");
    // A terminal: script(1) gives the CLI one.
    let (code, out) = on_a_terminal(&w, "run --rm -t img sh -c 'tty; exit 5'", &[]);
    assert_eq!(code, Some(5));
    assert!(out.contains("/dev/pts/0"), "{out}");
}

#[test]
fn exec_with_a_terminal_a_missing_command_and_attach() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "et",
        "img",
        "sh",
        "-c",
        // Ticks until the test says go: no race with the clock.
        "until [ -e /go ]; do echo tick; sleep 0.05; done; echo late; exit 2",
    ])
    .ok();
    let o = w.run(&["exec", "et", "nosuch"]);
    assert_eq!(o.code, 127);
    assert_eq!(
        o.stderr,
        "yurta: exec: \"nosuch\": executable file not found in $PATH\n"
    );
    assert_eq!(w.run(&["exec", "et", "/etc/motd"]).code, 126);
    // attach: connected once a tick arrives; then go, and the rest.
    let mut attach = w
        .cmd(&["attach", "et"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(attach.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "tick");
    w.run(&["exec", "et", "sh", "-c", "touch /go"]).ok();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert_eq!(rest.last().map(String::as_str), Some("late"), "{rest:?}");
    assert!(rest.iter().rev().skip(1).all(|l| l == "tick"), "{rest:?}");
    assert_eq!(attach.wait().unwrap().code(), Some(2));
    w.run(&["run", "-d", "--name", "et2", "img", "sleep", "1000"])
        .ok();
    let (code, out) = on_a_terminal(&w, "exec -t et2 sh -c 'tty; exit 9'", &[]);
    assert_eq!(code, Some(9));
    assert!(out.contains("/dev/pts/"), "{out}");
    // With a terminal the runtime's failure still reaches the user.
    let (code, out) = on_a_terminal(&w, "exec -t et2 nosuch", &[]);
    assert_eq!(code, Some(127));
    assert!(
        out.contains("yurta: exec: \"nosuch\": executable file not found"),
        "{out}"
    );
}

/// Runs `yurta ARGS` under script(1) (a terminal), types each of `steps`
/// after a moment; its exit code and what the terminal showed.
fn on_a_terminal(w: &World, args: &str, steps: &[&[u8]]) -> (Option<i32>, String) {
    let yurta = format!(
        "{} --root {} {args}",
        env!("CARGO_BIN_EXE_yurta"),
        w.y.root().display()
    );
    let mut c = std::process::Command::new("script");
    c.args(["-qfec", &yurta, "/dev/null"]);
    for (k, v) in w.cmd(&[]).get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for keys in steps {
        std::thread::sleep(Duration::from_millis(800));
        stdin.write_all(keys).unwrap();
        stdin.flush().unwrap();
    }
    yurta_testutil::process::wait_output(child, Duration::from_secs(10), args)
}

#[test]
fn detach_keys_leave_the_container_running() {
    let Some(w) = World::new() else { return };
    let (code, out) = on_a_terminal(
        &w,
        "run -it --name dk --network none img sh",
        &[b"echo typed-$((3*4))\r", b"\x10\x11"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("typed-12"), "{out}");
    assert_eq!(w.inspect("dk", ".State.Running"), "true");
    // attach with other keys; a false start of them reaches the shell.
    let (code, out) = on_a_terminal(
        &w,
        "attach --detach-keys q,z dk",
        &[b"echo qa-$((2*5))\r", b"qz"],
    );
    assert_eq!(code, Some(0), "{out}");
    // The q of "qa" began the sequence but was passed on when 'a' followed.
    assert!(out.contains("qa-10"), "{out}");
    assert_eq!(w.inspect("dk", ".State.Running"), "true");
    let o = w.run(&["run", "--detach-keys", "ctrl-1", "img", "true"]);
    assert_eq!(o.code, 125);
    assert!(o.stderr.contains("\"ctrl-1\""), "{}", o.stderr);
    w.run(&["rm", "-f", "dk"]).ok();
    assert!(w.ids().is_empty(), "the bad --detach-keys run made nothing");
}
