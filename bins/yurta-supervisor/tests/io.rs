//! The container's output and input through the supervisor: json-file
//! records, partial lines, rotation, terminals, and attach clients.
//! Real containers; run as root.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use common::Fixture;

#[test]
fn partial_last_line_is_logged_without_newline() {
    let mut f = Fixture::new(
        "partial",
        &["sh", "-c", "echo one; printf 'two\\tthree \"q\"'"],
    );
    f.spawn(&[]);
    f.wait_supervisor_exit();
    let log = f.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["log"], "two\tthree \"q\"");
    f.assert_no_leaks();
}

#[test]
fn log_rotation_keeps_max_files() {
    let script = "i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line $i; done";
    let mut f = Fixture::new("rotate", &["sh", "-c", script]);
    f.spawn(&["--log-max-size", "1000", "--log-max-files", "3"]);
    f.wait_supervisor_exit();
    for name in ["ctr.log", "ctr.log.1", "ctr.log.2"] {
        let len = std::fs::metadata(f.path(name)).map(|m| m.len());
        assert!(matches!(len, Ok(1..=1000)), "{name}: {len:?}");
    }
    assert!(!f.path("ctr.log.3").exists());
    let log = f.log();
    assert_eq!(log.last().unwrap()["log"], "line 300\n");
    let older = std::fs::read_to_string(f.path("ctr.log.1")).unwrap();
    let last_older: serde_json::Value =
        serde_json::from_str(older.lines().last().unwrap()).unwrap();
    let first: serde_json::Value = log[0].clone();
    let n =
        |v: &serde_json::Value| -> u32 { v["log"].as_str().unwrap()[5..].trim().parse().unwrap() };
    assert_eq!(
        n(&last_older) + 1,
        n(&first),
        "records continue across files"
    );
    f.assert_no_leaks();
}

#[test]
fn tty_output_lands_in_the_log() {
    let mut f = Fixture::new("tty", &["sh", "-c", "echo hello-tty; tty; echo oops >&2"]);
    f.config["process"]["terminal"] = true.into();
    f.spawn(&["--tty"]);
    f.wait_supervisor_exit();
    let out = f.log_text("stdout");
    assert!(out.contains("hello-tty\r\n"), "{out:?}");
    assert!(out.contains("/dev/pts/0"), "{out:?}");
    assert!(out.contains("oops"), "stderr shares the terminal: {out:?}");
    assert_eq!(f.log_text("stderr"), "");
    assert_eq!(f.exit_file()["ExitCode"], 0);
    f.assert_no_leaks();
}

#[test]
fn tty_with_a_bundle_path_too_long_for_a_socket_address() {
    let mut f = Fixture::new("ttylong", &["sh", "-c", "echo long-path-ok"]);
    f.config["process"]["terminal"] = true.into();
    let long = f.dir.join("d".repeat(60)).join("e".repeat(60));
    std::fs::create_dir_all(&long).unwrap();
    let bundle = long.join("bundle");
    std::fs::rename(&f.bundle, &bundle).unwrap();
    f.bundle = bundle;
    assert!(f.spawn(&["--tty"])["pid"].is_i64());
    f.wait_supervisor_exit();
    assert!(f.log_text("stdout").contains("long-path-ok"));
    f.assert_no_leaks();
}

/// A client of the attach socket.
struct Client(OwnedFd);

impl Client {
    fn connect(path: &Path) -> Client {
        // SAFETY: plain socket(2) call.
        let fd =
            unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0);
        // SAFETY: socket returned a new descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_un is plain data.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as _;
        for (d, s) in addr.sun_path.iter_mut().zip(path.to_str().unwrap().bytes()) {
            *d = s as _;
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        // SAFETY: `addr` is a valid sockaddr_un of `len` bytes.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_un).cast(),
                len,
            )
        };
        assert_eq!(
            r,
            0,
            "connect {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
        Client(fd)
    }

    fn send(&self, kind: u8, data: &[u8]) {
        let mut p = vec![kind];
        p.extend_from_slice(data);
        // SAFETY: `p` is valid for reads of its length.
        let n = unsafe { libc::send(self.0.as_raw_fd(), p.as_ptr().cast(), p.len(), 0) };
        assert_eq!(n as usize, p.len());
    }

    /// The next packet, None at end of file or after 10 s.
    fn recv(&self) -> Option<(u8, Vec<u8>)> {
        if !common::poll_in(self.0.as_raw_fd(), 10_000) {
            return None;
        }
        let mut buf = vec![0u8; 8193];
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            return None;
        }
        buf.truncate(n as usize);
        Some((buf[0], buf[1..].to_vec()))
    }

    /// Output packets until the text contains `want` (or the exit packet
    /// comes, or 20 s pass); returns the text and the exit code if seen.
    fn read_until(&self, want: &str) -> (String, Option<i32>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut text = String::new();
        while Instant::now() < deadline && !text.contains(want) {
            match self.recv() {
                Some((3, code)) => return (text, String::from_utf8(code).unwrap().parse().ok()),
                Some((_, data)) => text.push_str(&String::from_utf8_lossy(&data)),
                None => break,
            }
        }
        (text, None)
    }
}

#[test]
fn attach_client_gets_output_from_the_start_and_feeds_stdin() {
    let mut f = Fixture::new("attach", &["sh", "-c", "echo early; cat; echo done >&2"]);
    let sock = f.path("attach.sock");
    let r = f.launch(&["--stdin", "--attach-socket", sock.to_str().unwrap()]);
    let c = Client::connect(&sock); // before the container starts
    assert!(f.sync(r)["pid"].is_i64());
    let (text, _) = c.read_until("early\n");
    assert_eq!(text, "early\n");
    c.send(0, b"hello\n");
    let (text, _) = c.read_until("hello\n");
    assert_eq!(text, "hello\n");
    c.send(1, b""); // close stdin: cat ends
    let (text, code) = c.read_until("never");
    assert_eq!((text.as_str(), code), ("done\n", Some(0)));
    assert_eq!(c.recv(), None, "the socket closes when the supervisor ends");
    f.wait_supervisor_exit();
    assert_eq!(f.log_text("stdout"), "early\nhello\n");
    assert_eq!(f.log_text("stderr"), "done\n");
    assert!(!sock.exists(), "the attach socket is removed");
    f.assert_no_leaks();
}

#[test]
fn attach_to_a_terminal_with_resize() {
    let mut f = Fixture::new("attachtty", &["sh"]);
    f.config["process"]["terminal"] = true.into();
    let sock = f.arg("attach.sock");
    f.spawn(&["--tty", "--stdin", "--attach-socket", &sock]);
    let c = Client::connect(Path::new(&sock));
    c.send(2, b"40 100");
    c.send(0, b"stty size; echo result=$((6*7))\n");
    let (text, _) = c.read_until("result=42");
    assert!(text.contains("40 100"), "{text:?}");
    c.send(0, b"exit 5\n");
    let (_, code) = c.read_until("never");
    assert_eq!(code, Some(5));
    f.wait_supervisor_exit();
    assert_eq!(f.exit_file()["ExitCode"], 5);
    assert!(f.log_text("stdout").contains("result=42"));
    f.assert_no_leaks();
}

#[test]
fn second_client_and_detach_do_not_disturb_the_container() {
    let mut f = Fixture::new("detach", &["cat"]);
    let sock = f.arg("attach.sock");
    f.spawn(&["--stdin", "--attach-socket", &sock]);
    let a = Client::connect(Path::new(&sock));
    let b = Client::connect(Path::new(&sock));
    a.send(0, b"one\n");
    assert_eq!(a.read_until("one\n").0, "one\n");
    assert_eq!(b.read_until("one\n").0, "one\n");
    drop(a); // detaching keeps stdin open
    b.send(0, b"two\n");
    assert_eq!(b.read_until("two\n").0, "two\n");
    f.kill_container("KILL");
    assert_eq!(b.read_until("never").1, Some(137));
    f.wait_supervisor_exit();
    f.assert_no_leaks();
}
