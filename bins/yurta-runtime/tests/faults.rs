//! kill -9 of yurta-runtime at each of its fault points (`runtime.*`,
//! crate yurta-fault): whatever the killed `run --detach` or `delete` left
//! behind, `delete --force ID` must remove it all. The points are learned
//! from a traced run, so new points are covered without changing the test.

#[allow(unused_macros)] // scenarios!: this file has yurta-only tests
mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use common::{Ct, Runtime};

/// Runs `args` with the fault variables `env`, output to files of the test dir.
fn runtime(ct: &Ct, args: &[&str], env: &[(&str, &Path)]) -> ExitStatus {
    let mut cmd = ct.cmd(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdout(fs::File::create(ct.dir.join("out")).unwrap())
        .stderr(fs::File::create(ct.dir.join("err")).unwrap())
        .status()
        .unwrap()
}

fn run_detach(ct: &mut Ct, env: &[(&str, &Path)]) -> ExitStatus {
    ct.sh("echo ready; sleep 100");
    ct.write_config();
    let bundle = ct.bundle.to_str().unwrap().to_string();
    runtime(ct, &["run", "--detach", "--bundle", &bundle, &ct.id], env)
}

/// The points `run --detach` and `delete --force` reach, each traced.
fn traced_points(rt: &Runtime) -> (Vec<String>, Vec<String>) {
    let mut ct = Ct::new(rt, "fault_trace");
    let run_trace = ct.dir.join("run.trace");
    let status = run_detach(&mut ct, &[("YURTA_FAULT_TRACE", &run_trace)]);
    assert!(status.success(), "run --detach: {}", ct.file("err"));
    let delete_trace = ct.dir.join("delete.trace");
    let status = runtime(
        &ct,
        &["delete", "--force", &ct.id],
        &[("YURTA_FAULT_TRACE", &delete_trace)],
    );
    assert!(status.success(), "delete --force: {}", ct.file("err"));
    ct.assert_no_leaks();
    (
        yurta_fault_trace(&run_trace),
        yurta_fault_trace(&delete_trace),
    )
}

fn yurta_fault_trace(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut points: Vec<String> = Vec::new();
    for p in text.lines().filter(|l| l.starts_with("runtime.")) {
        if !points.iter().any(|q| q == p) {
            points.push(p.to_string());
        }
    }
    points
}

#[track_caller]
fn assert_killed(status: ExitStatus, ct: &Ct, point: &str) {
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "the runtime was not killed at {point}: {status:?}, {}",
        ct.file("err")
    );
}

#[track_caller]
fn force_delete_cleans_up(ct: &Ct, point: &str) {
    let res = ct.rt(&["delete", "--force", &ct.id]);
    assert!(
        res.ok(),
        "delete --force after a kill at {point}: {}",
        res.stderr
    );
    let leaks = ct.leaks();
    assert!(
        leaks.is_empty(),
        "killed at {point}, delete --force left:\n  {}",
        leaks.join("\n  ")
    );
}

#[test]
fn a_runtime_killed_at_any_point_is_cleaned_up_by_delete_force() {
    let rt = Runtime::yurta();
    let (run_points, delete_points) = traced_points(&rt);
    for want in [
        "runtime.create.cgroup",
        "runtime.create.forked",
        "runtime.create.ready",
        "runtime.create.saving",
        "runtime.start.released",
    ] {
        assert!(run_points.iter().any(|p| p == want), "{run_points:?}");
    }
    for want in ["runtime.delete.killed", "runtime.delete.cgroup-removed"] {
        assert!(delete_points.iter().any(|p| p == want), "{delete_points:?}");
    }
    for (i, point) in run_points.iter().enumerate() {
        let mut ct = Ct::new(&rt, &format!("fault_run{i}"));
        let fault = Path::new(point.as_str());
        let status = run_detach(&mut ct, &[("YURTA_FAULT", fault)]);
        assert_killed(status, &ct, point);
        force_delete_cleans_up(&ct, point);
    }
    for (i, point) in delete_points.iter().enumerate() {
        let mut ct = Ct::new(&rt, &format!("fault_delete{i}"));
        let status = run_detach(&mut ct, &[]);
        assert!(status.success(), "run --detach: {}", ct.file("err"));
        let fault = Path::new(point.as_str());
        let status = runtime(
            &ct,
            &["delete", "--force", &ct.id],
            &[("YURTA_FAULT", fault)],
        );
        assert_killed(status, &ct, point);
        force_delete_cleans_up(&ct, point);
    }
}
