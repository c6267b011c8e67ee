//! Lifecycle conformance: run/create/start/state/kill/delete/list/ps/
//! pause/resume/update/exec, each against yurta-runtime and runc.

#[macro_use]
mod common;

use std::fs;

use common::{assert_contains, poll, Ct, Runtime};
use serde_json::{json, Value};

scenarios!(
    run_prints_and_propagates_exit_code,
    create_start_stop_states,
    state_json_fields,
    create_pid_file,
    kill_default_is_sigterm,
    kill_all,
    delete_running_needs_force,
    delete_force,
    delete_missing_fails,
    list_json,
    ps_json_has_init,
    pause_resume,
    update_memory_and_pids,
    exec_args_env_cwd_user,
    exec_detach_pid_file,
    exec_process_file,
    exec_exit_code,
    delete_created,
    kill_created,
    delete_force_paused,
    exec_paused_fails,
    run_forwards_sigterm,
    run_reports_killing_signal,
    no_namespaces_share_the_host,
);

/// A loaded machine can delay the intermediate between forking the init
/// and reporting its pid: the init must not get to Ready first (the parent
/// would take it for dead: "container init exited during setup").
#[test]
fn the_init_waits_until_its_pid_is_reported() {
    let rt = Runtime::yurta();
    let mut ct = Ct::new(&rt, "slow_init_pid");
    ct.sh("echo started");
    ct.write_config();
    let bundle = ct.bundle.to_str().unwrap().to_string();
    let out = ct
        .cmd(["run", "--bundle", &bundle, &ct.id])
        .env("YURTA_RUNTIME_TEST_SLOW_INIT_PID_MS", "300")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
    ct.assert_no_leaks();
}

/// A container that waits, and exits cleanly on SIGTERM (pid 1 of a pid
/// namespace only gets signals it handles).
const WAIT: &str = "trap 'echo got-term; exit 0' TERM; echo ready; while true; do sleep 0.05; done";

fn run_prints_and_propagates_exit_code(rt: &Runtime) {
    let mut ct = Ct::new(rt, "run_exit");
    ct.sh("echo hello from $(hostname); exit 3");
    let res = ct.run();
    assert_eq!(res.code, 3, "exit code of run: {res:?}");
    assert_eq!(res.stdout, "hello from yurta-test\n");
    ct.assert_no_leaks();
}

fn create_start_stop_states(rt: &Runtime) {
    let mut ct = Ct::new(rt, "states");
    ct.sh("echo started; sleep 0.2");
    ct.create();
    assert_eq!(ct.status(), "created");
    assert!(ct.pid() > 0);
    assert_eq!(ct.output(), "", "the process must not run before start");
    ct.start();
    assert_eq!(ct.status(), "running");
    ct.wait_output("started");
    ct.wait_status("stopped");
    ct.rt(&["delete", &ct.id])
        .expect_ok("delete of a stopped container");
    ct.assert_no_leaks();
}

fn state_json_fields(rt: &Runtime) {
    let mut ct = Ct::new(rt, "state_json");
    ct.sh("sleep 10");
    ct.create();
    let state = ct.state();
    for key in ["ociVersion", "id", "status", "pid", "bundle"] {
        assert!(state.get(key).is_some(), "state lacks {key}: {state}");
    }
    assert_eq!(state["id"], json!(ct.id));
    assert_eq!(state["bundle"], json!(ct.bundle.to_str().unwrap()));
    assert_eq!(state["status"], json!("created"));
}

fn create_pid_file(rt: &Runtime) {
    let mut ct = Ct::new(rt, "pid_file");
    ct.sh("sleep 10");
    let pid_file = ct.dir.join("init.pid");
    ct.try_create(&["--pid-file", pid_file.to_str().unwrap()])
        .expect_ok("create");
    let written: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(written, ct.pid());
}

fn kill_default_is_sigterm(rt: &Runtime) {
    let mut ct = Ct::new(rt, "kill_term");
    ct.start_sh(WAIT, "ready");
    ct.rt(&["kill", &ct.id]).expect_ok("kill");
    ct.wait_output("got-term");
    ct.wait_status("stopped");
}

fn kill_all(rt: &Runtime) {
    let mut ct = Ct::new(rt, "kill_all");
    ct.start_sh("echo ready; sleep 100", "ready");
    ct.rt_files("exec", &["exec", "--detach", &ct.id, "sleep", "100"])
        .expect_ok("exec -d");
    let pids = ct_pids(&ct);
    assert!(
        pids.len() >= 2,
        "expected init and the exec'd sleep: {pids:?}"
    );
    ct.rt(&["kill", "--all", &ct.id, "KILL"])
        .expect_ok("kill --all");
    ct.wait_status("stopped");
    assert!(
        poll(|| pids.iter().all(|p| !alive(*p))),
        "processes survived kill --all: {pids:?}"
    );
}

fn delete_running_needs_force(rt: &Runtime) {
    let mut ct = Ct::new(rt, "delete_running");
    ct.start_sh("echo ready; sleep 100", "ready");
    ct.rt(&["delete", &ct.id])
        .expect_fail("delete of a running container");
    assert_eq!(ct.status(), "running");
    assert!(alive(ct.pid()));
}

fn delete_force(rt: &Runtime) {
    let mut ct = Ct::new(rt, "delete_force");
    ct.start_sh("echo ready; sleep 100", "ready");
    let pid = ct.pid();
    ct.rt(&["delete", "--force", &ct.id])
        .expect_ok("delete --force");
    assert!(poll(|| !alive(pid)), "init survived delete --force");
    ct.rt(&["state", &ct.id]).expect_fail("state after delete");
    ct.assert_no_leaks();
}

fn delete_missing_fails(rt: &Runtime) {
    let ct = Ct::new(rt, "delete_missing");
    ct.rt(&["delete", &ct.id])
        .expect_fail("delete of a missing container");
}

fn list_json(rt: &Runtime) {
    let mut ct = Ct::new(rt, "list_json");
    ct.sh("sleep 10");
    ct.create();
    let res = ct.rt(&["list", "--format", "json"]).expect_ok("list");
    let list: Value = serde_json::from_str(&res.stdout).unwrap();
    let entries = list
        .as_array()
        .unwrap_or_else(|| panic!("list is not an array: {list}"));
    let me = entries
        .iter()
        .find(|e| e["id"] == json!(ct.id))
        .unwrap_or_else(|| panic!("{} not listed: {list}", ct.id));
    assert_eq!(me["status"], json!("created"));
    assert_eq!(me["pid"], json!(ct.pid()));
}

fn ps_json_has_init(rt: &Runtime) {
    let mut ct = Ct::new(rt, "ps_json");
    ct.start_sh("echo ready; sleep 100", "ready");
    let pids = ct_pids(&ct);
    assert!(
        pids.contains(&ct.pid()),
        "ps lacks init {}: {pids:?}",
        ct.pid()
    );
}

fn pause_resume(rt: &Runtime) {
    let mut ct = Ct::new(rt, "pause");
    ct.start_sh("echo ready; while true; do sleep 0.05; done", "ready");
    ct.rt(&["pause", &ct.id]).expect_ok("pause");
    assert_eq!(ct.status(), "paused");
    let state = fs::read_to_string(ct.cgroup_v1("freezer").join("freezer.state")).unwrap();
    assert_eq!(state.trim(), "FROZEN");
    ct.rt(&["resume", &ct.id]).expect_ok("resume");
    assert_eq!(ct.status(), "running");
}

fn update_memory_and_pids(rt: &Runtime) {
    let mut ct = Ct::new(rt, "update");
    ct.start_sh("echo ready; sleep 100", "ready");
    ct.rt(&["update", "--memory", "64M", "--pids-limit", "20", &ct.id])
        .expect_ok("update");
    let mem = fs::read_to_string(ct.cgroup_v1("memory").join("memory.limit_in_bytes")).unwrap();
    assert_eq!(mem.trim(), (64 << 20).to_string());
    let pids = fs::read_to_string(ct.cgroup_v1("pids").join("pids.max")).unwrap();
    assert_eq!(pids.trim(), "20");
}

fn exec_args_env_cwd_user(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_opts");
    ct.start_sh("echo ready; sleep 100", "ready");
    let res = ct.exec(&[], &["echo", "plain"]).expect_ok("exec");
    assert_eq!(res.stdout, "plain\n");
    let res = ct
        .exec(
            &["--env", "FOO=bar", "--cwd", "/tmp", "--user", "1000:1000"],
            &["sh", "-c", "echo $FOO $(pwd) $(id -u) $(id -g)"],
        )
        .expect_ok("exec with options");
    assert_eq!(res.stdout, "bar /tmp 1000 1000\n");
}

fn exec_detach_pid_file(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_detach");
    ct.start_sh("echo ready; sleep 100", "ready");
    let pid_file = ct.dir.join("exec.pid");
    let res = ct.rt_files(
        "exec",
        &[
            "exec",
            "--detach",
            "--pid-file",
            pid_file.to_str().unwrap(),
            &ct.id,
            "sleep",
            "100",
        ],
    );
    res.expect_ok("exec --detach");
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid), "detached exec {pid} is not running");
    assert!(
        ct_pids(&ct).contains(&pid),
        "detached exec {pid} is not in the container"
    );
}

fn exec_process_file(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_process");
    ct.start_sh("echo ready; sleep 100", "ready");
    let process = json!({
        "terminal": false,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "echo from-file $FOO $(pwd)"],
        "env": ["PATH=/bin", "FOO=bar"],
        "cwd": "/etc"
    });
    let path = ct.dir.join("process.json");
    fs::write(&path, process.to_string()).unwrap();
    let res = ct
        .exec(&["--process", path.to_str().unwrap()], &[])
        .expect_ok("exec --process");
    assert_eq!(res.stdout, "from-file bar /etc\n");
}

fn exec_exit_code(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_exit");
    ct.start_sh("echo ready; sleep 100", "ready");
    let res = ct.exec(&[], &["sh", "-c", "echo out; exit 7"]);
    assert_eq!(res.code, 7, "{res:?}");
    assert_contains(&res.stdout, "out");
}

fn delete_created(rt: &Runtime) {
    let mut ct = Ct::new(rt, "delete_created");
    ct.sh("echo should-not-run");
    ct.create();
    let pid = ct.pid();
    ct.rt(&["delete", &ct.id])
        .expect_ok("delete of a created container");
    assert!(
        poll(|| !alive(pid)),
        "init of a deleted created container survived"
    );
    assert_eq!(ct.output(), "");
    ct.assert_no_leaks();
}

fn kill_created(rt: &Runtime) {
    let mut ct = Ct::new(rt, "kill_created");
    ct.sh("echo should-not-run");
    ct.create();
    ct.rt(&["kill", &ct.id, "KILL"])
        .expect_ok("kill of a created container");
    ct.wait_status("stopped");
    ct.rt(&["delete", &ct.id]).expect_ok("delete");
    assert_eq!(ct.output(), "");
    ct.assert_no_leaks();
}

fn delete_force_paused(rt: &Runtime) {
    let mut ct = Ct::new(rt, "delete_paused");
    ct.start_sh("echo ready; sleep 100", "ready");
    ct.rt_files("exec", &["exec", "-d", &ct.id, "sleep", "100"])
        .expect_ok("exec -d");
    ct.rt(&["pause", &ct.id]).expect_ok("pause");
    ct.rt(&["delete", "--force", &ct.id])
        .expect_ok("delete --force of a paused container");
    ct.assert_no_leaks();
}

fn exec_paused_fails(rt: &Runtime) {
    let mut ct = Ct::new(rt, "exec_paused");
    ct.start_sh("echo ready; sleep 100", "ready");
    ct.rt(&["pause", &ct.id]).expect_ok("pause");
    ct.exec(&[], &["true"])
        .expect_fail("exec into a paused container");
    ct.rt(&["resume", &ct.id]).expect_ok("resume");
    ct.exec(&[], &["true"]).expect_ok("exec after resume");
}

/// Starts `run` of `script` in the background and waits for "ready".
fn run_in_background(ct: &mut Ct, script: &str) -> std::process::Child {
    ct.sh(script);
    ct.write_config();
    let bundle = ct.bundle.to_str().unwrap().to_owned();
    let child = ct.spawn_files("run", &["run", "--bundle", &bundle, &ct.id]);
    assert!(
        poll(|| ct.file("run.out").contains("ready")),
        "run never got ready: {:?}",
        ct.file("run.err")
    );
    child
}

fn run_forwards_sigterm(rt: &Runtime) {
    let mut ct = Ct::new(rt, "run_sigterm");
    let mut child = run_in_background(&mut ct, WAIT);
    // SAFETY: plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "run: {status:?}, err={:?}",
        ct.file("run.err")
    );
    assert_contains(&ct.file("run.out"), "got-term");
    ct.assert_no_leaks();
}

fn run_reports_killing_signal(rt: &Runtime) {
    let mut ct = Ct::new(rt, "run_sigkill");
    let mut child = run_in_background(&mut ct, "echo ready; sleep 100");
    ct.rt(&["kill", &ct.id, "KILL"]).expect_ok("kill");
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(128 + 9),
        "run: {status:?}, err={:?}",
        ct.file("run.err")
    );
    ct.assert_no_leaks();
}

/// `ps --format json`.
fn ct_pids(ct: &Ct) -> Vec<i32> {
    let res = ct.rt(&["ps", "--format", "json", &ct.id]).expect_ok("ps");
    serde_json::from_str(&res.stdout)
        .unwrap_or_else(|e| panic!("ps output is not a JSON list ({e}): {}", res.stdout))
}

/// Alive and not a zombie.
fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// yurta-runtime only: the container starts with no blocked signals and
/// SIGPIPE at its default, whatever its caller had. (runc keeps the caller's
/// mask; we reset it on purpose: a supervisor that blocks SIGTERM to read it
/// from a signalfd must not make the container deaf to `stop`.)
#[test]
fn yurta_container_starts_with_default_signals() {
    use std::os::unix::process::CommandExt;
    let rt = Runtime::yurta();
    let mut ct = Ct::new(&rt, "sigreset");
    ct.sh("grep -E '^Sig(Blk|Ign)' /proc/self/status");
    ct.write_config();
    let bundle = ct.bundle.to_str().unwrap().to_string();
    let mut cmd = ct.cmd(["run", "--bundle", &bundle, &ct.id]);
    // SAFETY: only async-signal-safe libc calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGCHLD] {
                libc::sigaddset(&mut set, s);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = cmd.output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mask = |key: &str| {
        let line = text
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in {text:?}"));
        u64::from_str_radix(line[key.len()..].trim(), 16).unwrap()
    };
    assert_eq!(
        mask("SigBlk:"),
        0,
        "blocked signals reached the container: {text}"
    );
    let sigpipe = 1u64 << (libc::SIGPIPE - 1);
    assert_eq!(
        mask("SigIgn:") & sigpipe,
        0,
        "SIGPIPE ignored in the container: {text}"
    );
    ct.assert_no_leaks();
}

/// `linux.namespaces: []`: the container shares every namespace with the
/// runtime, the mount namespace too, so the runtime must not touch a mount
/// (no rootfs preparation, no pivot, no remount of `/` for `root.readonly`).
/// The runtime runs in a private copy of the host's mount namespace here,
/// so that a runtime getting it wrong cannot remount the host's `/`.
fn no_namespaces_share_the_host(rt: &Runtime) {
    let mut ct = Ct::new(rt, "no_namespaces");
    let linux = &mut ct.config["linux"];
    linux["namespaces"] = json!([]);
    linux["maskedPaths"] = json!([]);
    linux["readonlyPaths"] = json!([]);
    ct.config["root"]["readonly"] = json!(true);
    // runc refuses a hostname without a UTS namespace of its own.
    ct.config.as_object_mut().unwrap().remove("hostname");
    // A child outlives init without a pid namespace: delete must kill it.
    ct.sh("touch /written && echo root-writable; echo pid=$$; echo ready; sleep 100; true");
    ct.write_config();
    let bundle = ct.bundle.to_str().unwrap();
    let create = ["create", "--bundle", bundle, &ct.id];
    let out = fs::File::create(ct.dir.join("create.out")).unwrap();
    let status = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(&rt.bin)
        .arg("--root")
        .arg(&ct.root)
        .args(create)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(fs::File::create(ct.dir.join("create.err")).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "create: {}", ct.file("create.err"));
    assert_eq!(ct.status(), "created");
    let pid = ct.pid();
    for ns in ["pid", "net", "ipc", "uts", "cgroup", "user"] {
        let theirs = fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap();
        let ours = fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_eq!(
            theirs, ours,
            "the container has a {ns} namespace of its own"
        );
    }
    if rt.is_yurta() {
        // Mounts under init's root: none. (runc 1.1 mounts config.json's
        // `mounts` even without a mount namespace, and leaves them there.)
        let mounts = fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
        assert_eq!(mounts, "", "yurta mounted in the host's mount namespace");
    }
    ct.start();
    let out = ct.wait_output("ready");
    assert!(out.starts_with("root-writable\n"), "{out:?}");
    assert_contains(&out, &format!("pid={pid}\n"));
    assert_eq!(ct.status(), "running");
    assert_eq!(ct.pid(), pid);
    ct.rt(&["kill", &ct.id, "KILL"]).expect_ok("kill");
    ct.wait_status("stopped");
    ct.rt(&["delete", &ct.id]).expect_ok("delete");
    ct.assert_no_leaks();
}
