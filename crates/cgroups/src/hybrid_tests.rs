use std::path::Path;

use crate::testutil::{fake_v1, fake_v2, read, resources};
use crate::{create_manager_in, CgroupPath, CgroupSetup, FreezerState, ProcCgroups};

#[test]
fn hugetlb_goes_to_v2_everything_else_to_v1() {
    let t = tempfile::tempdir().unwrap();
    let v1 = fake_v1(
        &t.path().join("v1"),
        &["cpu", "cpuacct", "memory", "pids", "freezer"],
        "yurta/h",
    );
    let v2 = fake_v2(&t.path().join("unified"), &["hugetlb"], "yurta/h");
    let setup = CgroupSetup::Hybrid { v1, v2 };
    let m = create_manager_in(
        &setup,
        &CgroupPath::Absolute("yurta/h".into()),
        &ProcCgroups::default(),
    );
    m.apply(99).unwrap();
    let p = |s: &str| t.path().join(s);
    assert_eq!(read(p("unified/yurta/h/cgroup.procs")), "99");
    assert_eq!(read(p("v1/memory/yurta/h/cgroup.procs")), "99");
    assert_eq!(read(p("unified/cgroup.subtree_control")), "+hugetlb");
    m.set(&resources(
        r#"{"memory":{"limit":1048576},"pids":{"limit":5},
            "hugepageLimits":[{"pageSize":"2MB","limit":2097152}],"unified":{"cpu.weight":"7"}}"#,
    ))
    .unwrap();
    assert_eq!(read(p("unified/yurta/h/hugetlb.2MB.max")), "2097152");
    assert_eq!(
        read(p("v1/memory/yurta/h/memory.limit_in_bytes")),
        "1048576"
    );
    assert_eq!(read(p("v1/pids/yurta/h/pids.max")), "5");
    assert_eq!(read(p("unified/yurta/h/cpu.weight")), "7");
    m.freeze(FreezerState::Frozen).unwrap();
    assert_eq!(read(p("v1/freezer/yurta/h/freezer.state")), "FROZEN");
    assert_eq!(read(p("unified/yurta/h/cgroup.freeze")), "0");
    assert_eq!(m.paths().len(), 6);
    assert!(m.paths().iter().all(|d| d.ends_with(Path::new("yurta/h"))));
}
