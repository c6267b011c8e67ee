//! podman drives yurta-runtime (and runc, the reference) end to end.
//!
//! Every check is written once, parameterized by the OCI runtime podman is told
//! to use (`podman --runtime PATH`), and instantiated twice: `podman_yurta_*`
//! runs it against the freshly built `yurta-runtime`, `podman_runc_*` against
//! the host's runc. A check that fails only for yurta is a yurta bug; one that
//! fails for both is a host/podman problem.
//!
//! Requirements: root, `podman`, `runc`, `script` (util-linux), a static
//! `/bin/busybox`, and a containers.conf that lets podman run on the host (see
//! docs / CI script). Set `YURTA_SKIP_PODMAN_TESTS=1` to skip the whole file on
//! machines without them; otherwise a missing prerequisite fails loudly.
//!
//! Self-contained on purpose: std only, no shared test helpers.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const IMAGE: &str = "localhost/yurta-test-busybox:latest";
const CMD_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// process helpers

#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn describe(&self) -> String {
        format!(
            "exit code {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` with stdin from /dev/null, collecting output; panics after
/// `CMD_TIMEOUT` (killing the child) so a hung runtime fails the test instead of
/// hanging the suite.
fn run(mut cmd: Command) -> Out {
    let shown = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {shown}: {e}"));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + CMD_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("timed out after {CMD_TIMEOUT:?}: {shown}");
            }
            Err(e) => panic!("waiting for {shown}: {e}"),
        }
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    Out {
        code: status.code(),
        stdout,
        stderr,
    }
}

fn podman(rt: &str, args: &[&str]) -> Out {
    let mut c = Command::new("podman");
    c.arg("--runtime").arg(rt).args(args);
    run(c)
}

/// Runs podman under util-linux `script` so that it has a controlling terminal
/// (needed for `-it`). Output has CRLF line endings.
fn podman_in_pty(rt: &str, args: &str) -> Out {
    let line = format!("podman --runtime {rt} {args}");
    let mut c = Command::new("script");
    c.args(["-qec", &line, "/dev/null"]);
    run(c)
}

fn ok(out: Out, what: &str) -> Out {
    assert_eq!(out.code, Some(0), "{what} failed: {}", out.describe());
    out
}

// ---------------------------------------------------------------------------
// setup

fn yurta() -> &'static str {
    env!("CARGO_BIN_EXE_yurta-runtime")
}

fn runc() -> &'static str {
    static RUNC: OnceLock<String> = OnceLock::new();
    RUNC.get_or_init(|| {
        find_in_path("runc")
            .unwrap_or_else(|| {
                panic!("runc not found in PATH (set YURTA_SKIP_PODMAN_TESTS=1 to skip)")
            })
            .to_string_lossy()
            .into_owned()
    })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Returns false when the tests should be skipped. Imports the busybox image
/// once per test process.
fn setup() -> bool {
    if std::env::var_os("YURTA_SKIP_PODMAN_TESTS").is_some_and(|v| v == "1") {
        eprintln!("YURTA_SKIP_PODMAN_TESTS=1: skipping");
        return false;
    }
    static IMPORTED: OnceLock<()> = OnceLock::new();
    IMPORTED.get_or_init(import_image);
    true
}

fn import_image() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "podman tests must run as root (or set YURTA_SKIP_PODMAN_TESTS=1)"
    );
    for tool in ["podman", "script", "tar", "chroot"] {
        assert!(
            find_in_path(tool).is_some(),
            "{tool} not found (set YURTA_SKIP_PODMAN_TESTS=1 to skip)"
        );
    }
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.is_file(),
        "/bin/busybox missing: install busybox-static"
    );

    let dir = std::env::temp_dir().join(format!("yurta-podman-rootfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    for d in ["tmp", "proc", "sys", "dev", "etc", "root"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy(busybox, dir.join("bin/busybox")).unwrap();
    let mut c = Command::new("chroot");
    c.arg(&dir)
        .args(["/bin/busybox", "--install", "-s", "/bin"]);
    ok(run(c), "busybox --install in chroot");

    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn tar");
    let tar_out = tar.stdout.take().unwrap();
    let imp = Command::new("podman")
        .args(["import", "-q", "-", IMAGE])
        .stdin(Stdio::from(tar_out))
        .output()
        .expect("spawn podman import");
    let tar_st = tar.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(tar_st.success(), "tar failed: {tar_st}");
    assert!(
        imp.status.success(),
        "podman import failed: {}",
        String::from_utf8_lossy(&imp.stderr)
    );
}

// ---------------------------------------------------------------------------
// containers

/// A container name unique to this test process; the container is removed when
/// the guard drops, also when the test panics.
struct Ctr {
    rt: String,
    name: String,
}

impl Ctr {
    fn new(rt: &str, test: &str) -> Ctr {
        let name = format!("yurta-podman-{test}-{}", std::process::id());
        let c = Ctr {
            rt: rt.to_string(),
            name,
        };
        c.remove(); // leftovers from a crashed earlier run with the same pid
        c
    }
    fn remove(&self) {
        let _ = podman(&self.rt, &["rm", "-f", "-t", "0", &self.name]);
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        self.remove();
    }
}

fn short(rt: &str) -> &'static str {
    if rt == yurta() {
        "yurta"
    } else {
        "runc"
    }
}

/// `podman run --rm --name NAME [opts] IMAGE cmd...`
fn run_rm(rt: &str, test: &str, opts: &[&str], cmd: &[&str]) -> Out {
    let c = Ctr::new(rt, &format!("{}-{test}", short(rt)));
    let mut args = vec!["run", "--rm", "--name", &c.name];
    args.extend_from_slice(opts);
    args.push(IMAGE);
    args.extend_from_slice(cmd);
    podman(rt, &args)
}

fn run_rm_ok(rt: &str, test: &str, opts: &[&str], cmd: &[&str]) -> String {
    ok(
        run_rm(rt, test, opts, cmd),
        &format!("podman run {opts:?} {cmd:?}"),
    )
    .stdout
}

fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status output:\n{status}"))
}

// ---------------------------------------------------------------------------
// checks (parameterized by runtime)

fn check_run_exit_codes(rt: &str) {
    let out = run_rm(rt, "echo", &[], &["echo", "hello from podman"]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert_eq!(out.stdout, "hello from podman\n");

    let out = run_rm(rt, "exit7", &[], &["sh", "-c", "exit 7"]);
    assert_eq!(
        out.code,
        Some(7),
        "exit code must propagate: {}",
        out.describe()
    );

    let out = run_rm(rt, "missing", &[], &["/no/such/command"]);
    assert_eq!(out.code, Some(127), "missing command: {}", out.describe());
    assert!(
        out.stderr.contains("/no/such/command"),
        "error should name the command: {}",
        out.describe()
    );
}

/// After a failed `create`, podman calls `RUNTIME delete --force ID` for a
/// container the runtime never recorded; runc treats that as success. A
/// runtime that errors there makes podman log "Removing container ... from
/// runtime after creation failed".
fn check_missing_command_clean_error(rt: &str) {
    let out = run_rm(rt, "missing-clean", &[], &["nosuchcmd"]);
    assert_eq!(out.code, Some(127), "{}", out.describe());
    assert!(
        !out.stderr.contains("after creation failed") && !out.stderr.contains("does not exist"),
        "cleanup after a failed create must be silent (delete --force of an unknown id succeeds): {}",
        out.describe()
    );
}

fn check_memory(rt: &str) {
    let out = run_rm_ok(
        rt,
        "memory",
        &["--memory", "64m"],
        &["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"],
    );
    assert_eq!(out.trim(), "67108864");
}

fn check_cpus(rt: &str) {
    let out = run_rm_ok(
        rt,
        "cpus",
        &["--cpus", "0.5"],
        &[
            "cat",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
            "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
        ],
    );
    let v: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(v, ["50000", "100000"], "quota, period");
}

fn check_pids(rt: &str) {
    let out = run_rm_ok(
        rt,
        "pids",
        &["--pids-limit", "33"],
        &["cat", "/sys/fs/cgroup/pids/pids.max"],
    );
    assert_eq!(out.trim(), "33");
}

fn check_cap_drop_add(rt: &str) {
    let out = run_rm_ok(
        rt,
        "caps",
        &["--cap-drop", "ALL", "--cap-add", "NET_ADMIN"],
        &["cat", "/proc/self/status"],
    );
    // CAP_NET_ADMIN = 12 → 0x1000
    assert_eq!(status_field(&out, "CapEff"), "0000000000001000");
    assert_eq!(status_field(&out, "CapPrm"), "0000000000001000");
    assert_eq!(status_field(&out, "CapBnd"), "0000000000001000");
    assert_eq!(status_field(&out, "CapInh"), "0000000000000000");
    assert_eq!(status_field(&out, "CapAmb"), "0000000000000000");
}

fn cap_lines(status: &str) -> Vec<String> {
    status
        .lines()
        .filter(|l| l.starts_with("Cap"))
        .map(str::to_string)
        .collect()
}

/// podman's default capability set (containers.conf `default_capabilities` of
/// podman 4.x): CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP
/// SETGID SETPCAP SETUID SYS_CHROOT.
const PODMAN_DEFAULT_CAPS: &str = "00000000800405fb";

fn check_default_caps(rt: &str) {
    let out = run_rm_ok(rt, "defcaps", &[], &["cat", "/proc/self/status"]);
    if rt == runc() {
        assert_eq!(
            status_field(&out, "CapEff"),
            PODMAN_DEFAULT_CAPS,
            "runc with podman's defaults"
        );
    } else {
        // runc is the reference: the same podman invocation must give the same sets.
        let reference = run_rm_ok(runc(), "defcaps-ref", &[], &["cat", "/proc/self/status"]);
        assert_eq!(
            cap_lines(&out),
            cap_lines(&reference),
            "capabilities differ from runc"
        );
        assert_ne!(status_field(&out, "CapEff"), "0000000000000000");
    }
}

fn check_read_only(rt: &str) {
    let out = run_rm_ok(
        rt,
        "readonly",
        &["--read-only"],
        &[
            "sh",
            "-c",
            "touch /probe 2>&1; echo rc=$?; touch /tmp/probe && echo tmp-ok",
        ],
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("rc=1\n"), "writing / must fail: {out}");
    assert!(
        out.contains("tmp-ok\n"),
        "podman mounts a writable tmpfs on /tmp: {out}"
    );

    let rw = run_rm_ok(
        rt,
        "readwrite",
        &[],
        &["sh", "-c", "touch /probe && echo rw-ok"],
    );
    assert_eq!(rw, "rw-ok\n", "without --read-only / is writable");
}

fn check_user(rt: &str) {
    let out = run_rm_ok(
        rt,
        "user",
        &["--user", "1000:1000"],
        &["sh", "-c", "id -u; id -g"],
    );
    assert_eq!(out, "1000\n1000\n");
    let out = run_rm_ok(rt, "root", &[], &["sh", "-c", "id -u; id -g"]);
    assert_eq!(out, "0\n0\n");
}

fn check_tty(rt: &str) {
    let c = Ctr::new(rt, &format!("{}-tty", short(rt)));
    // podman attaches to conmon's console only after `start`; output written
    // before that is lost (with runc too), so the container waits a moment.
    let out = podman_in_pty(
        rt,
        &format!(
            "run --rm -it --name {} {IMAGE} sh -c 'sleep 1; tty; echo ok; exit 3'",
            c.name
        ),
    );
    assert_eq!(
        out.code,
        Some(3),
        "exit code through the tty: {}",
        out.describe()
    );
    // script echoes the EOF of its (null) stdin as "^@" into the output.
    let text = out.stdout.replace("^@", "").replace(['\r', '\0'], "");
    assert!(
        text.lines().any(|l| l.starts_with("/dev/pts/")),
        "tty: {}",
        out.describe()
    );
    assert!(text.lines().any(|l| l == "ok"), "{}", out.describe());
    // Without -t the process has no terminal.
    let out = run_rm(rt, "notty", &[], &["tty"]);
    assert_eq!(out.stdout.trim(), "not a tty", "{}", out.describe());
}

fn check_seccomp(rt: &str) {
    let out = run_rm_ok(rt, "seccomp", &[], &["cat", "/proc/self/status"]);
    assert_eq!(
        status_field(&out, "Seccomp"),
        "2",
        "podman's default profile is a filter"
    );
    let out = run_rm_ok(
        rt,
        "unconfined",
        &["--security-opt", "seccomp=unconfined"],
        &["cat", "/proc/self/status"],
    );
    assert_eq!(status_field(&out, "Seccomp"), "0");
}

fn state_dir(rt: &str, id: &str) -> PathBuf {
    if rt == yurta() {
        Path::new("/run/yurta-runtime").join(id)
    } else {
        Path::new("/run/runc").join(id)
    }
}

fn cgroup_dirs(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(ctrls) = std::fs::read_dir("/sys/fs/cgroup") else {
        return found;
    };
    for ctrl in ctrls.flatten() {
        let parent = ctrl.path().join("libpod_parent");
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().contains(id) {
                found.push(e.path());
            }
        }
    }
    found
}

fn check_detached_lifecycle(rt: &str) {
    let c = Ctr::new(rt, &format!("{}-detached", short(rt)));
    let out = ok(
        podman(
            rt,
            &[
                "run",
                "-d",
                "--name",
                &c.name,
                IMAGE,
                "sh",
                "-c",
                "trap 'exit 0' TERM; sleep 1000 & wait",
            ],
        ),
        "podman run -d",
    );
    let id = out.stdout.trim().to_string();
    assert_eq!(
        id.len(),
        64,
        "podman run -d prints the id: {}",
        out.describe()
    );

    let status = ok(
        podman(
            rt,
            &["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", &c.name],
        ),
        "inspect",
    )
    .stdout;
    let mut it = status.split_whitespace();
    assert_eq!(it.next(), Some("running"), "{status}");
    let pid: u32 = it
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("pid in {status}"));
    assert!(pid > 1);
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "container init {pid} alive"
    );
    assert!(
        state_dir(rt, &id).exists(),
        "runtime state {:?} while running",
        state_dir(rt, &id)
    );
    let cgs = cgroup_dirs(&id);
    assert!(
        cgs.iter().any(|p| p.starts_with("/sys/fs/cgroup/memory")),
        "container cgroup under memory/libpod_parent while running: {cgs:?}"
    );

    // exec: output and exit code
    let out = podman(
        rt,
        &["exec", &c.name, "sh", "-c", "echo in-exec $(id -u); exit 5"],
    );
    assert_eq!(out.code, Some(5), "{}", out.describe());
    assert_eq!(out.stdout, "in-exec 0\n");

    // exec sees the container's processes (same pid namespace)
    let out = ok(
        podman(rt, &["exec", &c.name, "ps", "-o", "comm"]),
        "exec ps",
    )
    .stdout;
    assert!(
        out.lines().any(|l| l.trim() == "sleep"),
        "ps in container: {out}"
    );

    // exec -it (the sleep: see check_tty)
    let out = podman_in_pty(
        rt,
        &format!(
            "exec -it {} sh -c 'sleep 1; tty; echo exec-ok; exit 4'",
            c.name
        ),
    );
    assert_eq!(out.code, Some(4), "{}", out.describe());
    assert!(out.stdout.contains("/dev/pts/"), "{}", out.describe());
    assert!(out.stdout.contains("exec-ok"), "{}", out.describe());

    // stop: SIGTERM is trapped → exit 0; a SIGKILL after the timeout would give 137
    let t = Instant::now();
    ok(podman(rt, &["stop", "-t", "2", &c.name]), "podman stop");
    let took = t.elapsed();
    let st = ok(
        podman(
            rt,
            &[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.ExitCode}}",
                &c.name,
            ],
        ),
        "inspect",
    )
    .stdout;
    assert_eq!(st.trim(), "exited 0", "stopped by SIGTERM (took {took:?})");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} gone after stop"
    );

    ok(podman(rt, &["rm", &c.name]), "podman rm");
    let out = podman(rt, &["container", "exists", &c.name]);
    assert_eq!(out.code, Some(1), "container removed: {}", out.describe());
    assert!(
        !state_dir(rt, &id).exists(),
        "runtime state {:?} left after rm",
        state_dir(rt, &id)
    );
    let cgs = cgroup_dirs(&id);
    assert!(cgs.is_empty(), "cgroup dirs left after rm: {cgs:?}");
}

// ---------------------------------------------------------------------------
// instantiation: podman_yurta_<check> and podman_runc_<check>

macro_rules! both_runtimes {
    ($($check:ident => $yurta:ident, $runc:ident;)*) => {$(
        #[test]
        fn $yurta() {
            if setup() {
                $check(yurta());
            }
        }
        #[test]
        fn $runc() {
            if setup() {
                $check(runc());
            }
        }
    )*};
}

both_runtimes! {
    check_run_exit_codes => podman_yurta_run_exit_codes, podman_runc_run_exit_codes;
    check_missing_command_clean_error => podman_yurta_missing_command_clean_error, podman_runc_missing_command_clean_error;
    check_memory => podman_yurta_memory, podman_runc_memory;
    check_cpus => podman_yurta_cpus, podman_runc_cpus;
    check_pids => podman_yurta_pids, podman_runc_pids;
    check_cap_drop_add => podman_yurta_cap_drop_add, podman_runc_cap_drop_add;
    check_default_caps => podman_yurta_default_caps, podman_runc_default_caps;
    check_read_only => podman_yurta_read_only, podman_runc_read_only;
    check_user => podman_yurta_user, podman_runc_user;
    check_tty => podman_yurta_tty, podman_runc_tty;
    check_seccomp => podman_yurta_seccomp, podman_runc_seccomp;
    check_detached_lifecycle => podman_yurta_detached_lifecycle, podman_runc_detached_lifecycle;
}
