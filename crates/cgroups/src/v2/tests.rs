use std::path::Path;

use super::*;
use crate::testutil::{fake_v2, read, resources, touch};

const CONTROLLERS: &[&str] = &["cpu", "memory", "pids", "io", "hugetlb"];

fn manager(root: &Path) -> V2Manager {
    let m = fake_v2(root, CONTROLLERS, "yurta/c1");
    V2Manager::new(
        &m,
        &CgroupPath::Absolute("yurta/c1".into()),
        &ProcCgroups::default(),
    )
}

#[test]
fn apply_enables_controllers_in_ancestors() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path());
    m.apply(77).unwrap();
    assert_eq!(read(t.path().join("yurta/c1/cgroup.procs")), "77");
    let all = "+cpu +memory +pids +io +hugetlb";
    assert_eq!(read(t.path().join("cgroup.subtree_control")), all);
    assert_eq!(read(t.path().join("yurta/cgroup.subtree_control")), all);
    assert_eq!(read(t.path().join("yurta/c1/cgroup.subtree_control")), "");
}

#[test]
fn set_converts_values() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path());
    let r = resources(
        r#"{"memory":{"limit":67108864,"swap":100663296,"reservation":1024},
            "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1"},
            "pids":{"limit":0},
            "blockIO":{"weight":500,"throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":300}]},
            "hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
    );
    m.set(&r).unwrap();
    let d = t.path().join("yurta/c1");
    assert_eq!(read(d.join("memory.max")), "67108864");
    assert_eq!(read(d.join("memory.swap.max")), "33554432");
    assert_eq!(read(d.join("memory.low")), "1024");
    assert_eq!(read(d.join("cpu.weight")), "39");
    assert_eq!(read(d.join("cpu.max")), "50000 100000");
    assert_eq!(read(d.join("cpuset.cpus")), "0-1");
    assert_eq!(read(d.join("pids.max")), "max");
    assert_eq!(read(d.join("io.weight")), "default 4950");
    assert_eq!(read(d.join("io.max")), "8:16 wiops=300");
    assert_eq!(read(d.join("hugetlb.2MB.max")), "4194304");
}

#[test]
fn unlimited_and_missing_swap_file() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path());
    let d = t.path().join("yurta/c1");
    std::fs::remove_file(d.join("memory.swap.max")).unwrap();
    m.set(&resources(r#"{"memory":{"limit":-1}}"#)).unwrap();
    assert_eq!(read(d.join("memory.max")), "max");
    m.set(&resources(r#"{"memory":{"limit":1000,"swap":1000}}"#))
        .unwrap();
    let e = m
        .set(&resources(r#"{"memory":{"limit":1000,"swap":3000}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory.swap.max") && e.contains("2000"), "{e}");
}

#[test]
fn unified_keys_and_realtime() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path());
    touch(&t.path().join("yurta/c1"), &[("memory.high", "max")]);
    m.set(&resources(r#"{"unified":{"memory.high":"1000000"}}"#))
        .unwrap();
    assert_eq!(read(t.path().join("yurta/c1/memory.high")), "1000000");
    let e = m
        .set(&resources(r#"{"unified":{"foo.bar":"1"}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("foo.bar") && e.contains("\"1\""), "{e}");
    let e = m
        .set(&resources(r#"{"unified":{"../x":"1"}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("../x"), "{e}");
    let e = m
        .set(&resources(r#"{"cpu":{"realtimeRuntime":950000}}"#))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cpu.rt_runtime_us") && e.contains("950000"),
        "{e}"
    );
}

#[test]
fn freezer_stats_and_oom() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path());
    let d = t.path().join("yurta/c1");
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);
    touch(
        &d,
        &[
            ("cgroup.freeze", "1"),
            ("cgroup.events", "populated 1\nfrozen 0\n"),
        ],
    );
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Freezing);
    touch(&d, &[("cgroup.events", "populated 1\nfrozen 1\n")]);
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    assert_eq!(m.oom_kill_count().unwrap(), 5);
    touch(
        &d,
        &[
            (
                "cpu.stat",
                "usage_usec 7\nuser_usec 5\nsystem_usec 2\nnr_periods 3\n",
            ),
            ("memory.current", "8192"),
            ("pids.current", "2"),
            ("pids.max", "16"),
            ("hugetlb.2MB.current", "0"),
            ("hugetlb.2MB.events", "max 4\n"),
        ],
    );
    let s = m.stats().unwrap();
    assert_eq!(s.cpu.usage.total, 7000);
    assert_eq!(s.cpu.throttling.periods, 3);
    assert_eq!(s.memory.usage.usage, 8192);
    assert_eq!(s.memory.usage.limit, u64::MAX);
    assert_eq!((s.pids.current, s.pids.limit), (2, 16));
    assert_eq!(s.hugetlb["2MB"].failcnt, 4);
}
