//! The supervisor's contract with the engine: sync-fd reports, the exit
//! file, restart policies, failures that leave nothing, a killed
//! supervisor, and its idle memory. Real containers; run as root.

mod common;

use std::time::Duration;

use common::{ppid, running, wait_for, Fixture};
use serde_json::Value;

#[test]
fn logs_streams_and_records_the_exit_code() {
    let mut f = Fixture::new("exit3", &["sh", "-c", "echo out; echo err >&2; exit 3"]);
    let sync = f.spawn(&[]);
    let pid = sync["pid"]
        .as_i64()
        .unwrap_or_else(|| panic!("sync: {sync}"));
    assert_eq!(f.text("init.pid").trim(), pid.to_string());
    f.wait_supervisor_exit();
    let log = f.log();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["log"], "out\n");
    assert_eq!(log[0]["stream"], "stdout");
    assert_eq!(log[1]["log"], "err\n");
    assert_eq!(log[1]["stream"], "stderr");
    let time = log[0]["time"].as_str().unwrap();
    assert!(time.len() == 30 && time.ends_with('Z'), "{time}");
    let exit = f.exit_file();
    assert_eq!(exit["ExitCode"], 3);
    assert_eq!(exit["OOMKilled"], false);
    assert_eq!(exit["Error"], "");
    assert!(exit["FinishedAt"].as_str().unwrap().ends_with('Z'));
    f.assert_no_leaks();
}

#[test]
fn sync_fd_reports_the_init_which_is_the_supervisors_child() {
    let mut f = Fixture::new("syncpid", &["sleep", "1000"]);
    let sync = f.spawn(&[]);
    let pid = sync["pid"].as_i64().unwrap() as i32;
    let sup = f.sup.unwrap();
    assert!(running(pid) && running(sup));
    assert_eq!(
        ppid(pid),
        sup,
        "the init is reparented to the subreaper supervisor"
    );
    // Its own session, stdio on /dev/null, only its own descriptors.
    let stat = std::fs::read_to_string(format!("/proc/{sup}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(fields[3], sup.to_string(), "session id: {stat}");
    let stdin = std::fs::read_link(format!("/proc/{sup}/fd/0")).unwrap();
    assert_eq!(stdin.to_str(), Some("/dev/null"));
    f.kill_container("KILL");
    f.wait_supervisor_exit();
    assert_eq!(f.exit_file()["ExitCode"], 137);
    f.assert_no_leaks();
}

#[test]
fn missing_command_reports_127_and_leaves_nothing() {
    let mut f = Fixture::new("nocmd", &["no-such-command"]);
    let sync = f.spawn(&[]);
    assert_eq!(sync["exit_code"], 127, "{sync}");
    let err = sync["error"].as_str().unwrap();
    assert!(
        err.contains("no-such-command") && err.contains("not found"),
        "{err}"
    );
    assert!(sync.get("pid").is_none());
    f.wait_supervisor_exit();
    assert_eq!(f.exit_file()["ExitCode"], 127);
    assert_eq!(f.exit_file()["Error"], err);
    assert_eq!(
        f.text("ctr.log"),
        "",
        "the runtime's message is not the container's output"
    );
    f.assert_no_leaks();
}

#[test]
fn non_executable_command_reports_126() {
    let mut f = Fixture::new("noexec", &["/etc/passwd"]);
    let sync = f.spawn(&[]);
    assert_eq!(sync["exit_code"], 126, "{sync}");
    f.wait_supervisor_exit();
    f.assert_no_leaks();
}

#[test]
fn an_id_in_use_fails_without_touching_that_container() {
    let mut f = Fixture::new("dupid", &["sleep", "1000"]);
    let first = f.spawn(&[])["pid"].as_i64().unwrap() as i32;
    let first_sup = f.sup.unwrap();
    let sync = f.spawn(&[]);
    assert_eq!(sync["exit_code"], 125, "{sync}");
    assert!(
        sync["error"].as_str().unwrap().contains("already exists"),
        "{sync}"
    );
    let second_sup = f.sup.unwrap();
    assert!(common::wait_for(Duration::from_secs(10), || !running(
        second_sup
    )));
    assert!(
        running(first) && running(first_sup),
        "the existing container is left alone"
    );
    f.sup = Some(first_sup); // Drop stops it
}

#[test]
fn bad_arguments_are_reported_on_the_sync_fd() {
    let mut f = Fixture::new("badarg", &["true"]);
    let sync = f.spawn(&["--restart", "sometimes"]);
    assert_eq!(sync["exit_code"], 125);
    assert!(
        sync["error"].as_str().unwrap().contains("\"sometimes\""),
        "{sync}"
    );
    assert!(f.text("supervisor.err").contains("sometimes"));
    f.assert_no_leaks();
}

/// Lines of the log equal to `text`.
fn count(f: &Fixture, text: &str) -> usize {
    f.log().iter().filter(|r| r["log"] == text).count()
}

#[test]
fn on_failure_restarts_exactly_n_times() {
    let mut f = Fixture::new("onfail", &["sh", "-c", "echo out; exit 1"]);
    assert!(f.spawn(&["--restart", "on-failure:2"])["pid"].is_i64());
    f.wait_supervisor_exit();
    assert_eq!(
        count(&f, "out\n"),
        3,
        "first run and two restarts: {}",
        f.text("ctr.log")
    );
    assert_eq!(f.exit_file()["ExitCode"], 1);
    f.assert_no_leaks();
}

#[test]
fn on_failure_does_not_restart_after_success() {
    let mut f = Fixture::new("onfail0", &["sh", "-c", "echo out"]);
    f.spawn(&["--restart", "on-failure"]);
    f.wait_supervisor_exit();
    assert_eq!(count(&f, "out\n"), 1);
    f.assert_no_leaks();
}

#[test]
fn always_restarts_until_the_stop_file_exists() {
    let mut f = Fixture::new("always", &["sh", "-c", "echo out; sleep 1000"]);
    let stop = f.arg("stopped");
    let sync = f.spawn(&["--restart", "always", "--stop-file", &stop]);
    let first = sync["pid"].as_i64().unwrap();
    wait_for(Duration::from_secs(10), || count(&f, "out\n") == 1);
    f.kill_container("KILL");
    let restarted = wait_for(Duration::from_secs(20), || count(&f, "out\n") == 2);
    assert!(restarted, "not restarted: {}", f.text("ctr.log"));
    let second: i64 = f.text("init.pid").trim().parse().unwrap();
    assert_ne!(first, second);
    // The engine's stop: the stop file first, then the signal.
    std::fs::write(&stop, "").unwrap();
    f.kill_container("TERM");
    f.kill_container("KILL");
    f.wait_supervisor_exit();
    assert_eq!(count(&f, "out\n"), 2);
    f.assert_no_leaks();
}

#[test]
fn sigterm_to_the_supervisor_only_ends_restarts() {
    let mut f = Fixture::new("sigterm", &["sleep", "1000"]);
    let pid = f.spawn(&["--restart", "always"])["pid"].as_i64().unwrap() as i32;
    let sup = f.sup.unwrap();
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: signalling the supervisor this test started.
        unsafe { libc::kill(sup, sig) };
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        running(sup) && running(pid),
        "the container and its supervisor keep running"
    );
    f.kill_container("KILL");
    f.wait_supervisor_exit();
    assert_eq!(f.exit_file()["ExitCode"], 137);
    f.assert_no_leaks();
}

#[test]
fn killed_supervisor_leaves_the_container_running() {
    let mut f = Fixture::new("killsup", &["sleep", "1000"]);
    let pid = f.spawn(&[])["pid"].as_i64().unwrap() as i32;
    let sup = f.sup.unwrap();
    // SAFETY: killing the supervisor this test started.
    unsafe { libc::kill(sup, libc::SIGKILL) };
    assert!(wait_for(Duration::from_secs(5), || !running(sup)));
    std::thread::sleep(Duration::from_millis(100));
    assert!(running(pid), "the container outlives its supervisor");
    let state: Value = serde_json::from_slice(&f.rt(&["state", &f.id]).stdout).unwrap();
    assert_eq!(state["status"], "running");
    assert_eq!(f.exit_file(), Value::Null, "nobody recorded an exit");
    // The engine's cleanup of such a container: kill and delete (Drop does it).
}

#[test]
fn oom_kill_is_recorded() {
    let mut f = Fixture::new("oom", &["sh", "-c", "x=a; while true; do x=$x$x$x$x; done"]);
    let limit = 16 << 20;
    f.config["linux"]["resources"]["memory"] = serde_json::json!({"limit": limit, "swap": limit});
    let v1 = std::path::Path::new("/sys/fs/cgroup/memory");
    let oom = if v1.exists() {
        v1.join("yurta-sup-test")
            .join(&f.id)
            .join("memory.oom_control")
    } else {
        std::path::Path::new("/sys/fs/cgroup/yurta-sup-test")
            .join(&f.id)
            .join("memory.events")
    };
    f.spawn(&["--cgroup-oom", oom.to_str().unwrap()]);
    f.wait_supervisor_exit();
    let exit = f.exit_file();
    assert_eq!(exit["OOMKilled"], true, "{exit}");
    assert_eq!(exit["ExitCode"], 137, "{exit}");
    f.assert_no_leaks();
}

/// VmRSS and Pss (kB) of `pid`.
fn memory(pid: i32) -> (u64, u64) {
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&rollup, "Pss:"))
}

#[test]
fn idle_supervisor_memory() {
    let mut f = Fixture::new("rss", &["sleep", "1000"]);
    f.spawn(&["--attach-socket", &f.arg("attach.sock")]);
    let sup = f.sup.unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (rss, pss) = memory(sup);
    println!(
        "idle yurta-supervisor ({}): VmRSS {rss} kB, Pss {pss} kB",
        common::SUPERVISOR
    );
    assert!(
        rss > 0 && rss < 4096,
        "VmRSS {rss} kB: a regression (target 512 kB in release builds)"
    );
    f.kill_container("KILL");
    f.wait_supervisor_exit();
    f.assert_no_leaks();
}
