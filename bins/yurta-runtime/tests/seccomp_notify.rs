//! `linux.seccomp.listenerPath` with `SCMP_ACT_NOTIFY`, against
//! yurta-runtime and runc: the test itself is the seccomp agent. It
//! receives the listener with the container process state, answers the
//! container's `mkdir` with success without making the directory (which
//! only an agent can do), and a missing or refusing agent fails `create`.

#[macro_use]
mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{assert_contains, Ct, Runtime};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use serde_json::{json, Value};

scenarios!(
    notify_agent_answers_mkdir,
    notify_agent_missing_fails_create,
    notify_agent_refusing_fails_create,
);

/// How long the agent waits for the runtime (generous: never a timing check).
const DEADLINE: Duration = Duration::from_secs(30);

/// A seccomp agent on a unix socket: each connection's state document is
/// passed on, each listener served until its filter has no users left.
struct Agent {
    states: mpsc::Receiver<Value>,
    answered: mpsc::Receiver<i32>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Agent {
    fn start(path: &Path) -> Agent {
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (state_tx, states) = mpsc::channel();
        let (nr_tx, answered) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut servers = Vec::new();
            while let Some(stream) = accept(&listener, &flag) {
                let (doc, fd) = receive(stream);
                let _ = state_tx.send(doc);
                let (tx, flag) = (nr_tx.clone(), flag.clone());
                servers.push(std::thread::spawn(move || serve(fd, &tx, &flag)));
            }
            servers.into_iter().for_each(|s| s.join().unwrap());
        });
        Agent {
            states,
            answered,
            stop,
            thread: Some(thread),
        }
    }

    /// The next container process state received.
    #[track_caller]
    fn state(&self) -> Value {
        self.states
            .recv_timeout(DEADLINE)
            .expect("the runtime never sent a container process state")
    }

    /// Syscall numbers answered so far.
    fn answered(&self) -> Vec<i32> {
        self.answered.try_iter().collect()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept(listener: &UnixListener, stop: &AtomicBool) -> Option<UnixStream> {
    let end = Instant::now() + DEADLINE;
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        match listener.accept() {
            Ok((s, _)) => return Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    None
}

/// Reads one connection to its end: the JSON document and the descriptor
/// that came with its first bytes.
fn receive(stream: UnixStream) -> (Value, OwnedFd) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut data = Vec::new();
    let mut fd = None;
    loop {
        let mut buf = [0u8; 4096];
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 2]);
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .expect("recvmsg from the runtime");
        for c in msg.cmsgs().unwrap() {
            if let ControlMessageOwned::ScmRights(fds) = c {
                assert_eq!(fds.len(), 1, "one descriptor: {fds:?}");
                // SAFETY: received with SCM_RIGHTS: a new descriptor we own.
                fd = Some(unsafe { OwnedFd::from_raw_fd(fds[0]) });
            }
        }
        let n = msg.bytes;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let doc = serde_json::from_slice(&data).unwrap_or_else(|e| {
        panic!(
            "state is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&data)
        )
    });
    (doc, fd.expect("no descriptor came with the state"))
}

/// Answers every notification: `mkdir`/`mkdirat` succeed without being
/// done, anything else goes on as usual.
fn serve(fd: OwnedFd, answered: &mpsc::Sender<i32>, stop: &AtomicBool) {
    let mkdirs = [libc::SYS_mkdir as i32, libc::SYS_mkdirat as i32];
    while !stop.load(Ordering::Relaxed) {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut p, 1, 50) } <= 0 || p.revents & libc::POLLIN == 0 {
            if p.revents & libc::POLLHUP != 0 {
                return; // no task uses the filter any more
            }
            continue;
        }
        // SAFETY: seccomp_notif is plain data; the kernel wants it zeroed.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: NOTIF_RECV fills `req`, which lives for the call.
        if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } < 0 {
            continue; // the task died meanwhile (ENOENT)
        }
        let nr = req.data.nr;
        let mut resp = libc::seccomp_notif_resp {
            id: req.id,
            val: 0,
            error: 0,
            flags: 0,
        };
        if !mkdirs.contains(&nr) {
            resp.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32;
        }
        // SAFETY: NOTIF_SEND reads `resp`, which lives for the call.
        unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
        let _ = answered.send(nr);
    }
}

/// Allows everything, `mkdir` and `mkdirat` go to the agent at `path`.
fn notify_profile(path: &Path) -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": path,
        "listenerMetadata": "agent-test-metadata",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    })
}

#[track_caller]
fn check_state(doc: &Value, ct: &Ct, pid: i32, status: &str) {
    assert_eq!(doc["fds"], json!(["seccompFd"]), "{doc}");
    assert_eq!(doc["pid"], json!(pid), "{doc}");
    assert_eq!(doc["metadata"], json!("agent-test-metadata"), "{doc}");
    assert!(doc["ociVersion"].is_string(), "{doc}");
    assert_eq!(doc["state"]["id"], json!(ct.id), "{doc}");
    assert_eq!(doc["state"]["status"], json!(status), "{doc}");
    assert_eq!(doc["state"]["bundle"], json!(ct.bundle), "{doc}");
}

fn notify_agent_answers_mkdir(rt: &Runtime) {
    let mut ct = Ct::new(rt, "notify");
    let sock = ct.dir.join("agent.sock");
    let agent = Agent::start(&sock);
    ct.config["linux"]["seccomp"] = notify_profile(&sock);
    ct.sh(
        "mkdir /tmp/made && echo mkdir-ok; test -d /tmp/made || echo absent; echo ready; sleep 100",
    );
    ct.create();
    let init = ct.pid();
    check_state(&agent.state(), &ct, init, "creating");
    ct.start();
    assert_eq!(ct.wait_output("ready"), "mkdir-ok\nabsent\nready\n");
    let mkdirs = [libc::SYS_mkdir as i32, libc::SYS_mkdirat as i32];
    assert!(agent.answered().iter().any(|nr| mkdirs.contains(nr)));
    // exec'd processes load the same filter and hand their listener over
    // too. (Not with runc 1.1.5: its exec'd process gets ENOSYS from mkdir,
    // its listener never reaching the agent.)
    if !rt.is_yurta() {
        return;
    }
    let res = ct.exec(
        &[],
        &[
            "sh",
            "-c",
            "mkdir /tmp/e && test ! -d /tmp/e && echo exec-ok",
        ],
    );
    assert_eq!(res.expect_ok("exec").stdout, "exec-ok\n");
    let doc = agent.state();
    assert_eq!(doc["state"]["status"], json!("running"), "{doc}");
    assert!(
        doc["pid"]
            .as_i64()
            .is_some_and(|p| p > 0 && p != i64::from(init)),
        "{doc}"
    );
}

/// Creates with a listenerPath nobody serves: create must fail (not hang,
/// not leave a container whose mkdir would wait forever).
#[track_caller]
fn create_fails_with_agent(rt: &Runtime, name: &str, sock: impl Fn(&Ct) -> PathBuf) {
    let mut ct = Ct::new(rt, name);
    let path = sock(&ct);
    ct.config["linux"]["seccomp"] = notify_profile(&path);
    ct.sh("mkdir /tmp/made; echo ran");
    let res = ct
        .try_create(&[])
        .expect_fail("create without a seccomp agent");
    if rt.is_yurta() {
        assert_eq!(res.stderr.lines().count(), 1, "{res:?}");
        assert_contains(&res.stderr, "listenerPath");
        assert_contains(&res.stderr, path.to_str().unwrap());
    }
    ct.assert_no_leaks();
}

fn notify_agent_missing_fails_create(rt: &Runtime) {
    create_fails_with_agent(rt, "notify_missing", |ct| ct.dir.join("no-agent.sock"));
}

fn notify_agent_refusing_fails_create(rt: &Runtime) {
    // A socket file whose listener is gone: connect gets ECONNREFUSED.
    create_fails_with_agent(rt, "notify_refused", |ct| {
        let path = ct.dir.join("gone-agent.sock");
        drop(UnixListener::bind(&path).unwrap());
        path
    });
}
