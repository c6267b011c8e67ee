//! `update` end to end, as root (`common::world`): limits of a running
//! container reach its cgroup and stay across a stop and start, bad values
//! change nothing, and a new restart policy applies to the running
//! container at once — except under a foreground `run`, which cleans up.

mod common;

use std::path::Path;
use std::time::Duration;

use common::world::World;
use serde_json::Value;

fn poll(f: impl FnMut() -> bool) -> bool {
    yurta_testutil::process::poll_until(Duration::from_secs(30), Duration::from_millis(20), f)
}

/// A cgroup file of container `id`: `v1` under its controller on v1 and
/// hybrid hosts, `v2` on a cgroup2 host.
fn cgroup(id: &str, controller: &str, v1: &str, v2: &str) -> String {
    let unified = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let path = match unified {
        true => format!("/sys/fs/cgroup/yurta/{id}/{v2}"),
        false => format!("/sys/fs/cgroup/{controller}/yurta/{id}/{v1}"),
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

fn memory(id: &str) -> String {
    cgroup(id, "memory", "memory.limit_in_bytes", "memory.max")
}

fn pids(id: &str) -> String {
    cgroup(id, "pids", "pids.max", "pids.max")
}

/// The CFS quota in microseconds per 100 ms period.
fn quota(id: &str) -> String {
    let v = cgroup(id, "cpu", "cpu.cfs_quota_us", "cpu.max");
    v.split(' ').next().unwrap_or_default().to_string()
}

fn host_config(w: &World, name: &str) -> Value {
    let v: Value = serde_json::from_str(&w.run(&["inspect", name]).ok().stdout).unwrap();
    v[0]["HostConfig"].clone()
}

#[test]
fn limits_of_a_running_container_change_and_stay() {
    let Some(w) = World::new() else { return };
    let args = [
        "run",
        "-d",
        "--name",
        "lim",
        "--network",
        "none",
        "-m",
        "64m",
        "img",
        "sleep",
        "1000",
    ];
    w.run(&args).ok();
    let id = w.inspect("lim", ".Id");
    assert_eq!(memory(&id), (64u64 << 20).to_string());
    let o = w
        .run(&[
            "update",
            "-m",
            "100m",
            "--memory-swap",
            "300m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "20",
            "-c",
            "512",
            "lim",
        ])
        .ok();
    assert_eq!(o.stdout, "lim\n");
    assert_eq!(memory(&id), (100u64 << 20).to_string());
    assert_eq!(pids(&id), "20");
    assert_eq!(quota(&id), "50000");
    let hc = host_config(&w, "lim");
    assert_eq!(hc["Memory"], 100 << 20);
    assert_eq!(hc["MemorySwap"], 300 << 20);
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["PidsLimit"], 20);
    assert_eq!(hc["CpuShares"], 512);
    // The next start builds the cgroup from the record.
    w.run(&["stop", "-t", "1", "lim"]).ok();
    w.run(&["start", "lim"]).ok();
    assert_eq!(memory(&id), (100u64 << 20).to_string());
    assert_eq!(pids(&id), "20");
    // -1 lifts the process limit; `container update` is the same verb.
    w.run(&["container", "update", "--pids-limit", "-1", "lim"])
        .ok();
    assert_eq!(pids(&id), "max");
    // A stopped container: the record now, the cgroup at its start.
    w.run(&["stop", "-t", "1", "lim"]).ok();
    w.run(&["update", "--pids-limit", "30", "lim"]).ok();
    w.run(&["start", "lim"]).ok();
    assert_eq!(pids(&id), "30");
    w.run(&["rm", "-f", "lim"]).ok();
}

#[test]
fn bad_updates_name_the_value_and_change_nothing() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "bad",
        "--network",
        "none",
        "-m",
        "64m",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let id = w.inspect("bad", ".Id");
    let before = host_config(&w, "bad");
    let cases: [(&[&str], &str); 6] = [
        (
            &["-m", "200m"],
            "Memory limit should be smaller than already set memoryswap limit",
        ),
        (&["--cpus", "999"], "Range of CPUs is from 0.01 to"),
        (&["-m", "12x"], "\"12x\""),
        (&["--restart", "sometimes"], "\"sometimes\""),
        (&["--cpu-shares", "-4"], "-4"),
        (&[], "you must provide one or more flags"),
    ];
    for (flags, want) in cases {
        let mut args = vec!["update"];
        args.extend_from_slice(flags);
        args.push("bad");
        let o = w.run(&args);
        assert_eq!(o.code, 125, "{args:?}");
        assert_eq!(o.stderr.lines().count(), 1, "{args:?}: {}", o.stderr);
        assert!(o.stderr.contains(want), "{args:?}: {}", o.stderr);
        assert_eq!(host_config(&w, "bad"), before, "{args:?}");
        assert_eq!(memory(&id), (64u64 << 20).to_string(), "{args:?}");
    }
    let o = w.run(&["update", "-m", "100m", "nosuch"]);
    assert_eq!(o.code, 125);
    assert!(o.stderr.contains("nosuch"), "{}", o.stderr);
    w.run(&["rm", "-f", "bad"]).ok();
}

fn status(w: &World, name: &str) -> (String, String) {
    let v: Value = serde_json::from_str(&w.run(&["inspect", name]).ok().stdout).unwrap();
    (
        v[0]["State"]["Status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        v[0]["RestartCount"].to_string(),
    )
}

#[test]
fn a_new_restart_policy_applies_to_the_running_container_at_once() {
    let Some(w) = World::new() else { return };
    // USR1 ends it from inside (exit 3): `kill` with SIGKILL or the stop
    // signal would turn restarts off, as Docker's does.
    w.run(&[
        "run",
        "-d",
        "--name",
        "rp",
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        "trap 'exit 3' USR1; while true; do sleep 1; done",
    ])
    .ok();
    w.run(&["update", "--restart", "always", "rp"]).ok();
    assert_eq!(host_config(&w, "rp")["RestartPolicy"]["Name"], "always");
    w.run(&["kill", "-s", "USR1", "rp"]).ok();
    let restarted = || status(&w, "rp") == ("running".into(), "1".into());
    assert!(poll(restarted), "not restarted: {:?}", status(&w, "rp"));
    w.run(&["update", "--restart", "no", "rp"]).ok();
    w.run(&["kill", "-s", "USR1", "rp"]).ok();
    assert!(
        poll(|| status(&w, "rp").0 == "exited"),
        "{:?}",
        status(&w, "rp")
    );
    assert_eq!(status(&w, "rp").1, "1", "no second restart");
    // A container removed at exit keeps "no".
    w.run(&[
        "run",
        "-d",
        "--rm",
        "--name",
        "gone",
        "--network",
        "none",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    let o = w.run(&["update", "--restart", "always", "gone"]);
    assert_eq!(o.code, 125);
    assert!(
        o.stderr
            .contains("Restart policy cannot be updated because AutoRemove is enabled"),
        "{}",
        o.stderr
    );
    w.run(&["update", "--restart", "no", "gone"]).ok();
    w.run(&["rm", "-f", "rp", "gone"]).ok();
}

#[test]
fn a_foreground_run_cleans_up_even_when_the_policy_changes() {
    let Some(w) = World::new() else { return };
    let trace = w.y.path("trace");
    let child = w
        .cmd(&[
            "run",
            "--name",
            "fg",
            "--network",
            "none",
            "img",
            "sh",
            "-c",
            "while [ ! -e /go ]; do sleep 1; done; exit 3",
        ])
        .env("YURTA_FAULT_TRACE", &trace)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(poll(
        || w.run(&["inspect", "fg"]).code == 0 && status(&w, "fg").0 == "running"
    ));
    w.run(&["update", "--restart", "always", "fg"]).ok();
    w.run(&["exec", "fg", "sh", "-c", "echo > /go"]).ok();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(status(&w, "fg"), ("exited".into(), "0".into()));
    // The supervisor left the container to the CLI: it neither deleted
    // it from the runtime nor tried to start it again.
    let points = yurta_fault::read_trace(&trace);
    assert!(
        points.iter().any(|p| p == "supervisor.exited"),
        "{points:?}"
    );
    assert!(
        !points.iter().any(|p| p == "supervisor.deleted"),
        "{points:?}"
    );
    // The policy is the container's from its next start (and /go is
    // there now: it exits at once, and is restarted).
    w.run(&["start", "fg"]).ok();
    let restarted = || status(&w, "fg").1.parse::<u32>().unwrap_or(0) >= 1;
    assert!(poll(restarted), "{:?}", status(&w, "fg"));
    w.run(&["rm", "-f", "fg"]).ok();
}

/// `kill` (SIGKILL, or the stop signal) ends a `--restart always`
/// container for good, as Docker's does: it stays exited, its supervisor
/// goes; any other signal leaves the policy alone; a start turns it on
/// again.
#[test]
fn kill_ends_restarts_until_the_next_start() {
    let Some(w) = World::new() else { return };
    let script = "trap 'exit 3' USR1; while true; do sleep 1; done";
    w.run(&[
        "run",
        "-d",
        "--restart",
        "always",
        "--name",
        "rk",
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        script,
    ])
    .ok();
    w.run(&["kill", "-s", "USR1", "rk"]).ok();
    assert!(
        poll(|| status(&w, "rk") == ("running".into(), "1".into())),
        "not restarted: {:?}",
        status(&w, "rk")
    );
    let id = w.inspect("rk", ".Id");
    let sup =
        w.y.root()
            .join("containers")
            .join(&id)
            .join("supervisor.pid");
    let pid = std::fs::read_to_string(&sup).unwrap();
    let proc_dir = format!("/proc/{}", pid.trim());
    w.run(&["kill", "rk"]).ok();
    assert!(
        poll(|| !Path::new(&proc_dir).exists()),
        "the supervisor stays"
    );
    assert_eq!(status(&w, "rk"), ("exited".into(), "1".into()));
    assert_eq!(w.inspect("rk", ".State.ExitCode"), "137");

    // A start turns restarts on again; a failed kill (an unknown signal)
    // changes nothing.
    w.run(&["start", "rk"]).ok();
    let count: u32 = status(&w, "rk").1.parse().unwrap();
    assert_eq!(w.run(&["kill", "-s", "NOSUCH", "rk"]).code, 125);
    w.run(&["kill", "-s", "USR1", "rk"]).ok();
    let again = (String::from("running"), (count + 1).to_string());
    assert!(
        poll(|| status(&w, "rk") == again),
        "not restarted after the start: {:?}",
        status(&w, "rk")
    );
    w.run(&["rm", "-f", "rk"]).ok();
}

/// `--cpu-quota`/`--cpu-period`, `--memory-reservation` and
/// `--oom-score-adj` at `run` reach the cgroup and the process; Docker's
/// checks refuse bad values and conflicts with one line, making nothing.
#[test]
fn cfs_quota_period_memory_reservation_and_oom_score_adj() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "cfs",
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "200000",
        "--memory-reservation",
        "32m",
        "--oom-score-adj",
        "300",
        "img",
        "sleep",
        "600",
    ])
    .ok();
    let id = w.inspect("cfs", ".Id");
    assert_eq!(quota(&id), "50000");
    let period = cgroup(&id, "cpu", "cpu.cfs_period_us", "cpu.max");
    assert_eq!(period.split(' ').next_back(), Some("200000"));
    let low = cgroup(&id, "memory", "memory.soft_limit_in_bytes", "memory.low");
    assert_eq!(low, (32u64 << 20).to_string());
    let adj = w
        .run(&["exec", "cfs", "cat", "/proc/1/oom_score_adj"])
        .ok()
        .stdout;
    assert_eq!(adj.trim(), "300");
    let hc = host_config(&w, "cfs");
    assert_eq!(
        (hc["CpuQuota"].as_i64(), hc["CpuPeriod"].as_i64()),
        (Some(50000), Some(200000))
    );
    assert_eq!(hc["MemoryReservation"].as_i64(), Some(32 << 20));
    assert_eq!(hc["OomScoreAdj"].as_i64(), Some(300));
    w.run(&["rm", "-f", "cfs"]).ok();
    for (args, want) in [
        (
            vec!["--cpus", "1", "--cpu-quota", "50000"],
            "yurta: Conflicting options: Nano CPUs and CPU Period or Quota cannot both be set",
        ),
        (
            vec!["--oom-score-adj", "5000"],
            "yurta: invalid --oom-score-adj \"5000\": range for oom score adj is [-1000, 1000]",
        ),
        (
            vec!["--cpu-period", "10"],
            "yurta: invalid --cpu-period \"10\": CPU cfs period can not be less than 1ms",
        ),
        (
            vec!["-m", "16m", "--memory-reservation", "32m"],
            "yurta: Minimum memory limit can not be less than memory reservation limit",
        ),
    ] {
        w.assert_run_refused(&args, want);
    }
    assert!(w.ids().is_empty());
}
