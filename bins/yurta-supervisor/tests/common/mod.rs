//! Fixture of the supervisor's integration tests (root, real containers):
//! a throwaway directory with a busybox bundle, the runtime's state root
//! and the files the supervisor writes; `Fixture::spawn` starts the
//! supervisor as the engine does and reads its sync-fd report. Dropping the
//! fixture kills what is left and fails the test if anything of the
//! container remains (state, cgroup, process, socket file).
//!
//! yurta-runtime is taken from next to the supervisor binary, built first
//! if missing (`cargo test --workspace` builds it anyway).

#![allow(dead_code)] // each test file uses a different part

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use yurta_testutil::bundle::{make_rootfs, write_config};
use yurta_testutil::process::poll_until;

pub const SUPERVISOR: &str = env!("CARGO_BIN_EXE_yurta-supervisor");

/// The runtime next to the supervisor, built if missing.
pub fn runtime() -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let path = Path::new(SUPERVISOR).with_file_name("yurta-runtime");
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut c = Command::new(cargo);
        c.args(["build", "-p", "yurta-runtime"]);
        if SUPERVISOR.contains("/release/") {
            c.arg("--release");
        }
        let st = c.status().expect("running cargo build -p yurta-runtime");
        assert!(st.success() && path.exists(), "building {}", path.display());
    }
    path
}

/// The supervisor tests' config: `args` as the process, terminal off,
/// the cgroup under /yurta-sup-test/<id>.
pub fn base_config(id: &str, args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]
            },
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "sup-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}
        ],
        "linux": {
            "cgroupsPath": format!("/yurta-sup-test/{id}"),
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
        }
    })
}

pub struct Fixture {
    pub id: String,
    pub dir: PathBuf,
    pub bundle: PathBuf,
    pub root: PathBuf,
    pub config: Value,
    /// The supervisor's pid, once started.
    pub sup: Option<i32>,
    _tmp: tempfile::TempDir,
}

impl Fixture {
    pub fn new(name: &str, args: &[&str]) -> Self {
        let id = format!("sup-{name}-{}", std::process::id());
        let tmp = tempfile::Builder::new()
            .prefix("yurta-sup-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        let bundle = dir.join("bundle");
        make_rootfs(&bundle.join("rootfs"));
        Fixture {
            config: base_config(&id, args),
            root: dir.join("state"),
            id,
            dir,
            bundle,
            sup: None,
            _tmp: tmp,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// Starts the supervisor with the standard files plus `extra` arguments
    /// and returns its sync-fd line.
    pub fn spawn(&mut self, extra: &[&str]) -> Value {
        let r = self.launch(extra);
        self.sync(r)
    }

    /// Starts the supervisor; returns once its first process has exited
    /// (the attach socket exists then), with the sync pipe's read end.
    pub fn launch(&mut self, extra: &[&str]) -> OwnedFd {
        write_config(&self.bundle, &self.config);
        let (r, w) = cloexec_pipe();
        let wfd = w.as_raw_fd();
        let mut c = Command::new(SUPERVISOR);
        c.arg("--runtime")
            .arg(runtime())
            .arg("--bundle")
            .arg(&self.bundle);
        for (flag, file) in [
            ("--runtime-root", "state"),
            ("--pid-file", "init.pid"),
            ("--log-path", "ctr.log"),
            ("--exit-file", "exit.json"),
            ("--supervisor-pid-file", "supervisor.pid"),
        ] {
            c.arg(flag).arg(self.path(file));
        }
        c.args(["--id", &self.id, "--sync-fd", &wfd.to_string()])
            .args(extra);
        c.stdin(Stdio::null()).stdout(Stdio::null());
        c.stderr(fs::File::create(self.path("supervisor.err")).unwrap());
        // SAFETY: only fcntl, async-signal-safe, between fork and exec.
        unsafe {
            c.pre_exec(move || {
                libc::fcntl(wfd, libc::F_SETFD, 0);
                Ok(())
            });
        }
        let status = c.status().expect("running yurta-supervisor");
        drop(w);
        if status.success() {
            let pid = fs::read_to_string(self.path("supervisor.pid")).unwrap();
            self.sup = Some(pid.trim().parse().unwrap());
        }
        r
    }

    /// The sync-fd line, as JSON.
    pub fn sync(&self, r: OwnedFd) -> Value {
        let line = read_line(&r, Duration::from_secs(30));
        serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "sync line {line:?} is not JSON ({e}); stderr: {}",
                self.text("supervisor.err")
            )
        })
    }

    /// A file of the test directory, "" if missing.
    pub fn text(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// The log's records.
    pub fn log(&self) -> Vec<Value> {
        self.text("ctr.log")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The log's "log" fields of one stream, concatenated.
    pub fn log_text(&self, stream: &str) -> String {
        self.log()
            .iter()
            .filter(|r| r["stream"] == stream)
            .map(|r| r["log"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn exit_file(&self) -> Value {
        serde_json::from_str(&self.text("exit.json")).unwrap_or(Value::Null)
    }

    /// Waits until the supervisor process is gone.
    #[track_caller]
    pub fn wait_supervisor_exit(&self) {
        let pid = self.sup.expect("supervisor started");
        assert!(
            wait_for(Duration::from_secs(30), || !running(pid)),
            "supervisor {pid} still running; log: {}",
            self.text("ctr.log")
        );
    }

    pub fn rt(&self, args: &[&str]) -> std::process::Output {
        Command::new(runtime())
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn kill_container(&self, signal: &str) {
        self.rt(&["kill", &self.id, signal]);
    }

    /// Everything of this container still on the host.
    pub fn leaks(&self) -> Vec<String> {
        let mut found = Vec::new();
        if self.root.join(&self.id).exists() {
            found.push(format!(
                "runtime state {}",
                self.root.join(&self.id).display()
            ));
        }
        for h in fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            for base in [h.path(), Path::new("/sys/fs/cgroup").to_path_buf()] {
                let cg = base.join("yurta-sup-test").join(&self.id);
                if cg.exists() {
                    found.push(format!("cgroup {}", cg.display()));
                }
            }
        }
        for e in fs::read_dir(&self.bundle).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().ends_with(".sock") {
                found.push(format!("socket {}", e.path().display()));
            }
        }
        found.extend(processes(&self.dir, &self.id));
        found.sort();
        found.dedup();
        found
    }

    #[track_caller]
    pub fn assert_no_leaks(&self) {
        let mut leaks = Vec::new();
        wait_for(Duration::from_secs(10), || {
            leaks = self.leaks();
            leaks.is_empty()
        });
        assert!(
            leaks.is_empty(),
            "{} left behind:\n  {}",
            self.id,
            leaks.join("\n  ")
        );
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(pid) = self.sup.filter(|&p| running(p)) {
            self.kill_container("KILL");
            if !wait_for(Duration::from_secs(10), || !running(pid)) {
                // SAFETY: killing the supervisor this test started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        self.kill_container("KILL");
        self.rt(&["delete", "--force", &self.id]);
        let mut leaks = Vec::new();
        wait_for(Duration::from_secs(5), || {
            leaks = self.leaks();
            leaks.is_empty()
        });
        if !leaks.is_empty() {
            let msg = format!("{} left behind:\n  {}", self.id, leaks.join("\n  "));
            if std::thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}

/// Processes (not zombies) whose command line names the test directory or
/// the container id, or that live in the container's cgroup.
pub fn processes(dir: &Path, id: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit())
            || name == me
            || !running(name.parse().unwrap())
        {
            continue;
        }
        let cmdline = fs::read(e.path().join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let mentions = args
            .iter()
            .any(|a| a == id || a.contains(dir.to_str().unwrap()));
        let cgroup = fs::read_to_string(e.path().join("cgroup")).unwrap_or_default();
        if mentions || cgroup.contains(&format!("/yurta-sup-test/{id}")) {
            found.push(format!("process {name}: {}", args.join(" ").trim()));
        }
    }
    found
}

/// Whether `pid` exists and is not a zombie.
pub fn running(pid: i32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, Some(s) if s != "Z" && s != "X")
}

/// The parent pid of `pid`.
pub fn ppid(pid: i32) -> i32 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    rest.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Polls `f` every 20 ms until it holds or `limit` passes.
pub fn wait_for(limit: Duration, f: impl FnMut() -> bool) -> bool {
    poll_until(limit, Duration::from_millis(20), f)
}

fn cloexec_pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array for pipe2 to fill.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 returned two new descriptors we own.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Reads `fd` until end of file or `limit`.
fn read_line(fd: &OwnedFd, limit: Duration) -> String {
    let mut out = Vec::new();
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_millis() as i32;
        if left == 0 || !poll_in(fd.as_raw_fd(), left) {
            break;
        }
        let mut buf = [0u8; 4096];
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn poll_in(fd: RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}
