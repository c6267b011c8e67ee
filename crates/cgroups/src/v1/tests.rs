use std::path::Path;

use super::*;
use crate::testutil::{fake_v1, read, resources, touch};

const ALL: &[&str] = &[
    "cpu,cpuacct",
    "cpuset",
    "memory",
    "pids",
    "freezer",
    "devices",
    "blkio",
    "name=systemd",
];

fn manager(root: &Path, hierarchies: &[&str]) -> V1Manager {
    let h = fake_v1(root, hierarchies, "yurta/c1");
    V1Manager::new(
        &h,
        &CgroupPath::Absolute("yurta/c1".into()),
        &ProcCgroups::default(),
    )
}

#[test]
fn apply_joins_every_hierarchy_and_fills_cpuset() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    assert_eq!(m.paths().len(), 8);
    m.apply(4321).unwrap();
    for p in m.paths() {
        assert_eq!(read(p.join("cgroup.procs")), "4321", "{}", p.display());
    }
    assert_eq!(read(t.path().join("cpuset/yurta/cpuset.cpus")), "0-1");
    assert_eq!(read(t.path().join("cpuset/yurta/c1/cpuset.mems")), "0");
    assert_eq!(
        m.dir("cpuacct"),
        Some(t.path().join("cpu,cpuacct/yurta/c1").as_path())
    );
}

#[test]
fn set_writes_exactly_the_given_values() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    let r = resources(
        r#"{"memory":{"limit":67108864,"swap":134217728,"reservation":33554432,"swappiness":10},
            "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0"},
            "pids":{"limit":16},
            "blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}]},
            "devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}"#,
    );
    m.set(&r).unwrap();
    let mem = t.path().join("memory/yurta/c1");
    assert_eq!(read(mem.join("memory.limit_in_bytes")), "67108864");
    assert_eq!(read(mem.join("memory.memsw.limit_in_bytes")), "134217728");
    assert_eq!(read(mem.join("memory.soft_limit_in_bytes")), "33554432");
    assert_eq!(read(mem.join("memory.swappiness")), "10");
    let cpu = t.path().join("cpu,cpuacct/yurta/c1");
    assert_eq!(read(cpu.join("cpu.shares")), "512");
    assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "50000");
    assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
    assert_eq!(read(t.path().join("cpuset/yurta/c1/cpuset.cpus")), "0");
    assert_eq!(read(t.path().join("pids/yurta/c1/pids.max")), "16");
    assert_eq!(
        read(
            t.path()
                .join("blkio/yurta/c1/blkio.throttle.read_bps_device")
        ),
        "8:0 1048576"
    );
    assert_eq!(read(t.path().join("devices/yurta/c1/devices.deny")), "a");
    assert_eq!(
        read(t.path().join("devices/yurta/c1/devices.allow")),
        "c 1:3 rwm"
    );
    // Untouched: nothing given, nothing written.
    assert_eq!(read(mem.join("memory.oom_control")).lines().count(), 3);
}

#[test]
fn absent_resources_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    m.set(&resources(r#"{"memory":{},"cpu":{}}"#)).unwrap();
    let mem = t.path().join("memory/yurta/c1");
    assert_eq!(
        read(mem.join("memory.limit_in_bytes")),
        "9223372036854771712"
    );
    assert_eq!(
        read(t.path().join("cpu,cpuacct/yurta/c1/cpu.shares")),
        "1024"
    );
}

#[test]
fn missing_memsw_is_an_error_only_for_a_real_swap_limit() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    std::fs::remove_file(t.path().join("memory/yurta/c1/memory.memsw.limit_in_bytes")).unwrap();
    let e = m
        .set(&resources(r#"{"memory":{"limit":1000000,"swap":2000000}}"#))
        .unwrap_err();
    assert!(e.to_string().contains("memory.memsw.limit_in_bytes"), "{e}");
    assert!(e.to_string().contains("2000000"), "{e}");
    m.set(&resources(r#"{"memory":{"limit":1000000,"swap":1000000}}"#))
        .unwrap();
    m.set(&resources(r#"{"memory":{"limit":1000000,"swap":-1}}"#))
        .unwrap();
    m.set(&resources(r#"{"memory":{"limit":-1}}"#)).unwrap();
    assert_eq!(
        read(t.path().join("memory/yurta/c1/memory.limit_in_bytes")),
        "-1"
    );
}

#[test]
fn invalid_values_name_file_and_value() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    let e = m
        .set(&resources(r#"{"memory":{"limit":2000,"swap":1000}}"#))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("memory.memsw.limit_in_bytes") && e.contains("1000"),
        "{e}"
    );
    let e = m
        .set(&resources(r#"{"memory":{"swappiness":101}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory.swappiness") && e.contains("101"), "{e}");
    let e = m
        .set(&resources(r#"{"blockIO":{"weight":500}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("blkio.weight") && e.contains("500"), "{e}");
    let e = m
        .set(&resources(r#"{"unified":{"memory.high":"5"}}"#))
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory.high") && e.contains("v2"), "{e}");
    let e = m
        .set(&resources(
            r#"{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}"#,
        ))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("hugetlb.2MB.limit_in_bytes") && e.contains("not mounted"),
        "{e}"
    );
}

#[test]
fn bfq_weight_fallback_and_network_ignored() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    touch(
        &t.path().join("blkio/yurta/c1"),
        &[("blkio.bfq.weight", "100")],
    );
    m.set(&resources(
        r#"{"blockIO":{"weight":300},"network":{"classID":7}}"#,
    ))
    .unwrap();
    assert_eq!(
        read(t.path().join("blkio/yurta/c1/blkio.bfq.weight")),
        "300"
    );
}

#[test]
fn freezer_and_oom_and_pids() {
    let t = tempfile::tempdir().unwrap();
    let m = manager(t.path(), ALL);
    // A plain file reads back what we wrote, so freezing "completes" at once.
    m.freeze(FreezerState::Frozen).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    touch(
        &t.path().join("freezer/yurta/c1"),
        &[("freezer.state", "FREEZING\n")],
    );
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Freezing);
    assert_eq!(m.oom_kill_count().unwrap(), 2);
    touch(
        &t.path().join("freezer/yurta/c1"),
        &[("cgroup.procs", "10\n11\n")],
    );
    touch(
        &t.path().join("freezer/yurta/c1/sub"),
        &[("cgroup.procs", "12\n")],
    );
    let mut pids = m.pids().unwrap();
    pids.sort();
    assert_eq!(pids, vec![10, 11, 12]);
    assert_eq!(m.stats().unwrap().memory.usage.usage, 4096);
}

#[test]
fn remove_of_missing_dirs_is_ok() {
    let t = tempfile::tempdir().unwrap();
    let h = fake_v1(t.path(), &["memory"], "");
    let m = V1Manager::new(
        &h,
        &CgroupPath::Absolute("gone/x".into()),
        &ProcCgroups::default(),
    );
    m.remove().unwrap();
}

#[test]
fn relative_path_is_below_own_cgroup() {
    let t = tempfile::tempdir().unwrap();
    let h = fake_v1(t.path(), &["memory", "cpu,cpuacct"], "");
    let own = ProcCgroups::parse("4:memory:/user/me\n2:cpu,cpuacct:/other\n");
    let m = V1Manager::new(&h, &CgroupPath::Relative("c2".into()), &own);
    assert_eq!(
        m.paths(),
        vec![
            t.path().join("memory/user/me/c2"),
            t.path().join("cpu,cpuacct/other/c2")
        ]
    );
}
