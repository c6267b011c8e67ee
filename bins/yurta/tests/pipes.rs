//! A closed or full stdout (issue 9, items 1 and 2): every command ends
//! quietly on a closed pipe, as a Unix filter does (SIGPIPE, nothing on
//! stderr, never a panic), reports a full disk on stdout as one line with
//! exit 125, and `logs -f` stops once its reader is gone.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::world::World;

/// Runs `cmd` with stdout a pipe whose reader is already closed.
fn closed_pipe(mut cmd: Command) -> (std::process::ExitStatus, String) {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `cmd` with stdout on /dev/full.
fn full_disk(mut cmd: Command) -> (Option<i32>, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn closed_or_full_stdout_ends_every_command_cleanly() {
    let Some(w) = World::new() else { return };
    let script = "echo up; exec sleep 1000";
    w.run(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        "127.0.0.1::80",
        "img",
        "sh",
        "-c",
        script,
    ])
    .ok();
    assert!(yurta_testutil::process::poll_until(
        Duration::from_secs(30),
        Duration::from_millis(20),
        || w.run(&["logs", "web"]).stdout == "up\n"
    ));
    w.run(&["tag", "img", "img:two"]).ok();
    w.run(&["volume", "create", "vol"]).ok();
    let kernel = w.y.path("vmlinuz");
    std::fs::write(&kernel, b"not booted").unwrap();
    let k = kernel.to_str().unwrap();
    w.run(&["vm", "create", "--network", "none", "--kernel", k, "vm1"])
        .ok();
    let commands: &[&[&str]] = &[
        &["ps", "-a"],
        &["ps", "-aq"],
        &["images"],
        &["images", "--format", "json"],
        &["system", "df"],
        &["vm", "ls"],
        &["vm", "inspect", "vm1"],
        &["stats", "--no-stream"],
        &["top", "web"],
        &["inspect", "web"],
        &["inspect", "img"],
        &["network", "ls"],
        &["network", "inspect", "bridge"],
        &["volume", "ls"],
        &["history", "img"],
        &["port", "web"],
        &["logs", "web"],
        &["save", "img"],
        &["cp", "web:/bin", "-"],
    ];
    for args in commands {
        let (status, stderr) = closed_pipe(w.cmd(args));
        assert_eq!(
            status.signal(),
            Some(libc::SIGPIPE),
            "{args:?} on a closed pipe: {status}, stderr {stderr:?}"
        );
        assert_eq!(stderr, "", "{args:?} on a closed pipe");
        let (code, stderr) = full_disk(w.cmd(args));
        assert_eq!(code, Some(125), "{args:?} on /dev/full: {stderr}");
        assert_eq!(
            stderr, "yurta: write to stdout: No space left on device (os error 28)\n",
            "{args:?} on /dev/full"
        );
    }
    w.run(&["vm", "rm", "vm1"]).ok();
    w.run(&["volume", "rm", "vol"]).ok();
}

#[test]
fn logs_follow_stops_when_its_reader_goes() {
    let Some(w) = World::new() else { return };
    let script = "echo one; echo two; exec sleep 1000";
    w.run(&["run", "-d", "--name", "chatty", "img", "sh", "-c", script])
        .ok();
    let mut logs = w
        .cmd(&["logs", "-f", "chatty"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: one line read, then the reader is gone while the
    // container is silent.
    let mut first = String::new();
    let mut reader = BufReader::new(logs.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    assert_eq!(first, "one\n");
    drop(reader);
    let (code, _) = yurta_testutil::process::wait_output(logs, Duration::from_secs(30), "logs -f");
    assert_eq!(code, None, "logs -f ends by SIGPIPE, as a filter");
    assert_eq!(w.inspect("chatty", ".State.Status"), "running");
}
