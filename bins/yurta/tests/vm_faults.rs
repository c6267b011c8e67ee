//! kill -9 of `vm start` and of the VM's supervisor at every named step
//! (issue 9's fault-injection suite): afterwards the VM is either running
//! (and `vm stop` ends it) or stopped with nothing of the boot left — no
//! QEMU, supervisor, tap, lease or run file — and it starts again.

mod common;

use common::vmlab::Lab;

const POINT_VAR: &str = "YURTA_FAULT";
const TRACE_VAR: &str = "YURTA_FAULT_TRACE";

fn status(lab: &Lab, name: &str) -> String {
    lab.inspect(name)["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// No lease left for the VM on the network (its address went with its tap).
fn leases(lab: &Lab) -> String {
    let v = lab.run(&["network", "inspect", "bridge"]).ok().stdout;
    v.lines()
        .filter(|l| l.contains("vm "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn vm_start_killed_at_every_step() {
    let Some(lab) = Lab::new() else { return };
    lab.create("kv", &["--network", "bridge"]).ok();
    // The steps of a start and of the boot's end, listed by a traced run.
    let trace = lab.y.path("trace");
    let out = lab
        .cmd(&["vm", "start", "kv"])
        .env(TRACE_VAR, &trace)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    lab.run(&["vm", "kill", "kv"]).ok();
    let points = yurta_fault::read_trace(&trace);
    for p in [
        "vm.starting",
        "vm.tap",
        "vm.qemu",
        "vm.live",
        "vm.reported",
        "vm.exited",
    ] {
        assert!(points.iter().any(|t| t == p), "{p} not traced: {points:?}");
    }
    lab.assert_clean("kv");
    for point in &points {
        let out = lab
            .cmd(&["vm", "start", "kv"])
            .env(POINT_VAR, point)
            .output()
            .unwrap();
        eprintln!("{point}: {:?}", out.status);
        // Whole: running (and it stops), or stopped with nothing left.
        match status(&lab, "kv").as_str() {
            "running" => {
                let o = lab.run(&["vm", "stop", "-t", "1", "kv"]);
                assert_eq!(o.code, 0, "{point}: vm stop: {}", o.stderr);
                assert_eq!(status(&lab, "kv"), "stopped", "{point}");
            }
            "stopped" | "created" => {}
            other => panic!("{point}: status {other:?}"),
        }
        lab.assert_clean("kv");
        assert_eq!(leases(&lab), "", "{point}: a lease is left");
        // And it starts again.
        let o = lab.run(&["vm", "start", "kv"]);
        assert_eq!(o.code, 0, "{point}: start again: {}", o.stderr);
        assert_eq!(lab.qemu_processes("kv").len(), 1, "{point}");
        lab.run(&["vm", "kill", "kv"]).ok();
        lab.assert_clean("kv");
    }
    lab.run(&["vm", "rm", "kv"]).ok();
}
