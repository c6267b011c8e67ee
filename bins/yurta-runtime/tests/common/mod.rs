//! Shared fixture of the conformance suite: the runtime under test, a
//! throwaway bundle with a busybox rootfs, and the leak check run when the
//! fixture is dropped (also when the test failed).
//!
//! Every scenario is a function taking `&Runtime`; `scenarios!` turns each
//! into `yurta::<name>` and `runc::<name>` tests, so a scenario is known to be
//! right when runc passes it.

#![allow(dead_code)] // each test crate uses a different part of the fixture

pub mod console;
mod leaks;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use yurta_testutil::bundle::{make_rootfs, write_config};
use yurta_testutil::process::poll_until;

/// Generates `yurta::<name>` and `runc::<name>` tests for scenario functions
/// defined next to the macro call.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod yurta {
            $(#[test] fn $name() { super::$name(&crate::common::Runtime::yurta()) })*
        }
        mod runc {
            $(#[test] fn $name() {
                match crate::common::Runtime::runc() {
                    Some(rt) => super::$name(&rt),
                    None => eprintln!("skipping runc::{}: runc is not installed", stringify!($name)),
                }
            })*
        }
    };
}

/// Which implementation a `Runtime` is: message wording is checked for ours only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Yurta,
    Runc,
}

#[derive(Debug, Clone)]
pub struct Runtime {
    pub bin: PathBuf,
    pub kind: Kind,
}

impl Runtime {
    /// `$YURTA_TEST_RUNTIME`, or the yurta-runtime built with this test crate.
    pub fn yurta() -> Self {
        let bin = std::env::var_os("YURTA_TEST_RUNTIME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_yurta-runtime")));
        Runtime {
            bin,
            kind: Kind::Yurta,
        }
    }

    /// runc, if installed.
    pub fn runc() -> Option<Self> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
            .iter()
            .map(PathBuf::from)
            .chain(std::env::split_paths(&path))
            .map(|d| d.join("runc"))
            .find(|p| p.is_file())
            .map(|bin| Runtime {
                bin,
                kind: Kind::Runc,
            })
    }

    pub fn is_yurta(&self) -> bool {
        self.kind == Kind::Yurta
    }

    fn tag(&self) -> &'static str {
        match self.kind {
            Kind::Yurta => "yurta",
            Kind::Runc => "runc",
        }
    }
}

/// The result of one runtime command.
#[derive(Debug)]
pub struct Res {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Res {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    #[track_caller]
    pub fn expect_ok(self, what: &str) -> Self {
        assert!(
            self.ok(),
            "{what} failed ({}): stdout={:?} stderr={:?}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn expect_fail(self, what: &str) -> Self {
        assert!(
            !self.ok(),
            "{what} should have failed: stdout={:?} stderr={:?}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// One container of one test: a temp dir holding the state root (`root`),
/// the bundle and captured output files. Dropping it kills and deletes the
/// container and checks that nothing of it is left on the host.
pub struct Ct<'r> {
    pub rt: &'r Runtime,
    pub id: String,
    pub dir: PathBuf,
    pub root: PathBuf,
    pub bundle: PathBuf,
    pub config: Value,
    _tmp: tempfile::TempDir,
}

/// The config every test starts from: runc's `spec` with terminal off, a
/// writable root and the cgroup under /yurta-test/<id>.
pub fn base_config(id: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "yurta-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "cgroupsPath": format!("/yurta-test/{id}"),
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                "/proc/scsi"
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

impl<'r> Ct<'r> {
    /// A fresh bundle for the test `name`; the container is not created yet.
    pub fn new(rt: &'r Runtime, name: &str) -> Self {
        let id = format!("{}-{}-{}", rt.tag(), name, std::process::id());
        let tmp = tempfile::Builder::new()
            .prefix("yurta-test-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        // Traversable by the mapped root of user-namespace tests.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.join("state");
        let bundle = dir.join("bundle");
        make_rootfs(&bundle.join("rootfs"));
        let config = base_config(&id);
        Ct {
            rt,
            id,
            dir,
            root,
            bundle,
            config,
            _tmp: tmp,
        }
    }

    pub fn rootfs(&self) -> PathBuf {
        self.bundle.join("rootfs")
    }

    /// Sets process.args to `sh -c script`.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.config["process"]["args"] = json!(["sh", "-c", script]);
        self
    }

    pub fn write_config(&self) {
        write_config(&self.bundle, &self.config);
    }

    /// `runtime --root <root> args...`, stdin closed.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new(&self.rt.bin);
        c.arg("--root")
            .arg(&self.root)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs a command that leaves no process holding its stdout behind.
    pub fn rt(&self, args: &[&str]) -> Res {
        let out = self
            .cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.rt.bin.display()));
        Res {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs a command whose stdio the container may keep (create, run, exec -d):
    /// stdout and stderr go to files `<tag>.out` / `<tag>.err` in the test dir.
    pub fn rt_files(&self, tag: &str, args: &[&str]) -> Res {
        let status = self.spawn_files(tag, args).wait().unwrap();
        Res {
            code: status.code().unwrap_or(-1),
            stdout: self.file(&format!("{tag}.out")),
            stderr: self.file(&format!("{tag}.err")),
        }
    }

    /// Starts a command with stdout and stderr going to `<tag>.out` / `<tag>.err`.
    pub fn spawn_files(&self, tag: &str, args: &[&str]) -> Child {
        let out = fs::File::create(self.dir.join(format!("{tag}.out"))).unwrap();
        let err = fs::File::create(self.dir.join(format!("{tag}.err"))).unwrap();
        self.cmd(args).stdout(out).stderr(err).spawn().unwrap()
    }

    /// A file of the test dir, "" if missing.
    pub fn file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// Writes config.json and runs the container in the foreground.
    pub fn run(&self) -> Res {
        self.write_config();
        let bundle = self.bundle.to_str().unwrap();
        self.rt_files("run", &["run", "--bundle", bundle, &self.id])
    }

    /// Runs `sh -c script` in the foreground and expects it to succeed.
    #[track_caller]
    pub fn run_sh(&mut self, script: &str) -> String {
        self.sh(script);
        self.run().expect_ok("run").stdout
    }

    /// Writes config.json and creates the container; its stdout/stderr go to
    /// `create.out`/`create.err`.
    pub fn try_create(&self, extra: &[&str]) -> Res {
        self.write_config();
        let bundle = self.bundle.to_str().unwrap();
        let mut args = vec!["create", "--bundle", bundle];
        args.extend_from_slice(extra);
        args.push(&self.id);
        self.rt_files("create", &args)
    }

    #[track_caller]
    pub fn create(&self) {
        self.try_create(&[]).expect_ok("create");
    }

    #[track_caller]
    pub fn start(&self) {
        self.rt(&["start", &self.id]).expect_ok("start");
    }

    /// Creates and starts `sh -c script`, then waits for `ready` in its output.
    #[track_caller]
    pub fn start_sh(&mut self, script: &str, ready: &str) {
        self.sh(script);
        self.create();
        self.start();
        self.wait_output(ready);
    }

    /// The container's output so far (of `create`).
    pub fn output(&self) -> String {
        self.file("create.out")
    }

    #[track_caller]
    pub fn wait_output(&self, text: &str) -> String {
        let ok = poll(|| self.output().contains(text));
        let out = self.output();
        assert!(
            ok,
            "container output never contained {text:?}: out={out:?} err={:?}",
            self.file("create.err")
        );
        out
    }

    #[track_caller]
    pub fn state(&self) -> Value {
        let res = self.rt(&["state", &self.id]).expect_ok("state");
        serde_json::from_str(&res.stdout)
            .unwrap_or_else(|e| panic!("state is not JSON ({e}): {}", res.stdout))
    }

    #[track_caller]
    pub fn status(&self) -> String {
        self.state()["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    pub fn wait_status(&self, want: &str) {
        let ok = poll(|| self.status() == want);
        assert!(
            ok,
            "container never became {want:?}; it is {:?}",
            self.status()
        );
    }

    #[track_caller]
    pub fn pid(&self) -> i32 {
        self.state()["pid"].as_i64().expect("state has a pid") as i32
    }

    /// Foreground exec of args.
    pub fn exec(&self, opts: &[&str], args: &[&str]) -> Res {
        let mut all = vec!["exec"];
        all.extend_from_slice(opts);
        all.push(&self.id);
        all.extend_from_slice(args);
        self.rt(&all)
    }

    /// The container's cgroup directory in a v1 controller hierarchy.
    pub fn cgroup_v1(&self, controller: &str) -> PathBuf {
        Path::new("/sys/fs/cgroup")
            .join(controller)
            .join("yurta-test")
            .join(&self.id)
    }

    /// Kills and deletes the container (ignoring errors: it may not exist).
    pub fn destroy(&self) {
        let _ = self.rt(&["kill", &self.id, "KILL"]);
        let _ = self.rt(&["delete", "--force", &self.id]);
    }

    /// Everything of this container still on the host, after waiting a little
    /// for it to go away.
    pub fn leaks(&self) -> Vec<String> {
        let mut found = Vec::new();
        poll(|| {
            found = leaks::find(&self.id, &self.dir, &self.root);
            found.is_empty()
        });
        found
    }

    #[track_caller]
    pub fn assert_no_leaks(&self) {
        let leaks = self.leaks();
        assert!(
            leaks.is_empty(),
            "container {} left behind:\n  {}",
            self.id,
            leaks.join("\n  ")
        );
    }
}

impl Drop for Ct<'_> {
    fn drop(&mut self) {
        self.destroy();
        let leaks = self.leaks();
        if leaks.is_empty() {
            return;
        }
        let msg = format!(
            "container {} left behind:\n  {}",
            self.id,
            leaks.join("\n  ")
        );
        if std::thread::panicking() {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}

/// Polls `f` every 10 ms for up to 5 s.
pub fn poll(f: impl FnMut() -> bool) -> bool {
    poll_until(Duration::from_secs(5), Duration::from_millis(10), f)
}

/// Asserts `haystack` contains `needle`, showing both otherwise.
#[track_caller]
pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "{needle:?} not found in {haystack:?}"
    );
}
