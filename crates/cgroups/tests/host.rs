//! Integration tests against the real host cgroups (v1, v2 or hybrid). They need root and are
//! skipped with a message otherwise. Each test uses its own top-level cgroup and checks that no
//! directory is left behind in any hierarchy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use oci_spec::runtime::LinuxResources;
use yurta_cgroups::{create_manager, detect, CgroupManager, CgroupSetup, FreezerState};

const MIB: i64 = 1 << 20;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipping: cgroup integration tests need root");
    }
    root
}

fn resources(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_string()
}

/// The first manager directory holding `file`.
fn find(m: &dyn CgroupManager, file: &str) -> PathBuf {
    m.paths()
        .into_iter()
        .map(|p| p.join(file))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no cgroup directory has {file}: {:?}", m.paths()))
}

/// A shell child that runs `script` only once it reads a line on stdin, so everything it forks
/// starts inside the cgroup; killed and reaped, with the cgroup removed, even when a test panics.
struct Guard {
    m: Box<dyn CgroupManager>,
    child: Child,
}

impl Guard {
    fn start(m: Box<dyn CgroupManager>, script: &str) -> Self {
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("read _; {script}"))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let g = Guard { m, child };
        g.m.apply(g.pid()).unwrap();
        g
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn go(&mut self) {
        self.child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.m.kill_all(libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = self.m.remove();
    }
}

/// Asserts every directory of the manager and every ancestor below `top` is gone.
fn assert_gone(m: &dyn CgroupManager, top: &str) {
    for p in m.paths() {
        assert!(!p.exists(), "{} left behind", p.display());
        let top_dir = p
            .ancestors()
            .find(|a| a.ends_with(top))
            .unwrap()
            .to_path_buf();
        assert!(!top_dir.exists(), "{} left behind", top_dir.display());
    }
}

fn memory_limit_file(setup: &CgroupSetup) -> &'static str {
    match setup {
        CgroupSetup::V2(_) => "memory.max",
        _ => "memory.limit_in_bytes",
    }
}

#[test]
fn lifecycle_on_host() {
    if !is_root() {
        return;
    }
    let setup = detect().unwrap();
    let top = format!("yurta-itest-{}", std::process::id());
    let path = PathBuf::from(format!("/{top}/c1"));
    let mut g = Guard::start(
        create_manager(Some(&path), "c1", false).unwrap(),
        "exec sleep 60",
    );
    let m = &*g.m;
    assert_eq!(m.pids().unwrap(), vec![g.pid()]);

    m.set(&resources(
        r#"{"memory":{"limit":67108864},"pids":{"limit":16},"cpu":{"quota":50000,"period":100000,"shares":512}}"#,
    ))
    .unwrap();
    assert_eq!(
        read(&find(m, memory_limit_file(&setup))),
        (64 * MIB).to_string()
    );
    assert_eq!(read(&find(m, "pids.max")), "16");
    if matches!(setup, CgroupSetup::V2(_)) {
        assert_eq!(read(&find(m, "cpu.max")), "50000 100000");
        assert_eq!(read(&find(m, "cpu.weight")), "20");
    } else {
        assert_eq!(read(&find(m, "cpu.cfs_quota_us")), "50000");
        assert_eq!(read(&find(m, "cpu.cfs_period_us")), "100000");
        assert_eq!(read(&find(m, "cpu.shares")), "512");
    }

    m.freeze(FreezerState::Frozen).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Frozen);
    m.freeze(FreezerState::Thawed).unwrap();
    assert_eq!(m.freezer_state().unwrap(), FreezerState::Thawed);

    let stats = m.stats().unwrap();
    assert_eq!(stats.memory.usage.limit, 64 * MIB as u64);
    assert!(!stats.memory.raw.is_empty(), "memory.stat not read");
    assert_eq!((stats.pids.current, stats.pids.limit), (1, 16));
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["pids"]["limit"], 16);
    assert_eq!(json["memory"]["usage"]["limit"], 64 * MIB);
    assert_eq!(m.oom_kill_count().unwrap(), 0);

    g.go();
    g.m.kill_all(libc::SIGKILL).unwrap();
    let status = g.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(g.m.pids().unwrap().is_empty());
    g.m.remove().unwrap();
    assert_gone(&*g.m, &top);
    g.m.remove().unwrap(); // idempotent
}

#[test]
fn memory_and_swap_raise_and_lower() {
    if !is_root() {
        return;
    }
    let setup = detect().unwrap();
    let top = format!("yurta-itest-swap-{}", std::process::id());
    let m = create_manager(Some(Path::new(&format!("/{top}"))), "swap", false).unwrap();
    let g = Guard::start(m, "exec sleep 60");
    let m = &*g.m;
    let has_swap_file = m.paths().iter().any(|p| {
        p.join("memory.memsw.limit_in_bytes").exists() || p.join("memory.swap.max").exists()
    });
    let steps = [(64, 128), (256, 512), (32, 64), (48, 48), (-1, -1)];
    for (limit, swap) in steps {
        let (limit, swap) = (
            limit * if limit > 0 { MIB } else { 1 },
            swap * if swap > 0 { MIB } else { 1 },
        );
        let r = format!(r#"{{"memory":{{"limit":{limit},"swap":{swap}}}}}"#);
        match m.set(&resources(&r)) {
            Ok(()) => {}
            Err(e) if !has_swap_file && swap != limit => {
                assert!(e.to_string().contains("swap"), "{e}");
                continue;
            }
            Err(e) => panic!("limit {limit} swap {swap}: {e}"),
        }
        let want = |v: i64| {
            if v > 0 {
                v.to_string()
            } else if matches!(setup, CgroupSetup::V2(_)) {
                "max".into()
            } else {
                "9223372036854771712".into()
            }
        };
        assert_eq!(read(&find(m, memory_limit_file(&setup))), want(limit));
        let memsw = m
            .paths()
            .into_iter()
            .map(|p| p.join("memory.memsw.limit_in_bytes"))
            .find(|p| p.exists());
        if let Some(p) = memsw {
            assert_eq!(read(&p), want(swap));
        }
    }
    drop(g);
    assert_gone(
        &*create_manager(Some(Path::new(&format!("/{top}"))), "swap", false).unwrap(),
        &top,
    );
}

#[test]
fn hugetlb_limit_lands_where_the_controller_is() {
    if !is_root() || !Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() {
        return;
    }
    let top = format!("yurta-itest-huge-{}", std::process::id());
    let m = create_manager(Some(Path::new(&format!("/{top}"))), "h", false).unwrap();
    let g = Guard::start(m, "exec sleep 60");
    g.m.set(&resources(
        r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
    ))
    .unwrap();
    let file = ["hugetlb.2MB.max", "hugetlb.2MB.limit_in_bytes"]
        .iter()
        .find_map(|f| {
            g.m.paths()
                .into_iter()
                .map(|p| p.join(f))
                .find(|p| p.exists())
        })
        .expect("no hugetlb file in any cgroup directory");
    assert_eq!(read(&file), "4194304");
    if let CgroupSetup::Hybrid { v2, .. } = detect().unwrap() {
        if v2.controllers.iter().any(|c| c == "hugetlb") {
            assert!(file.starts_with(&v2.mount_point), "{}", file.display());
        }
    }
    let paths = g.m.paths();
    drop(g);
    assert!(paths.iter().all(|p| !p.exists()), "{paths:?}");
}

#[test]
fn kill_all_stops_forking_processes_and_systemd_path() {
    if !is_root() {
        return;
    }
    let id = format!("fork{}", std::process::id());
    let spec = format!("yurta-itest.slice:yt:{id}");
    let m = create_manager(Some(Path::new(&spec)), &id, true).unwrap();
    assert!(m.paths()[0].ends_with(format!("yurta.slice/yurta-itest.slice/yt-{id}.scope")));
    let mut g = Guard::start(
        m,
        "for i in 1 2 3 4; do sleep 60 & done; while :; do sleep 1; done",
    );
    g.m.set(&resources(r#"{"pids":{"limit":32}}"#)).unwrap();
    g.go();
    let start = Instant::now();
    while g.m.pids().unwrap().len() < 5 && start.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(g.m.pids().unwrap().len() >= 5, "{:?}", g.m.pids());
    g.m.kill_all(libc::SIGKILL).unwrap();
    assert!(g.m.pids().unwrap().is_empty());
    g.child.wait().unwrap();
    g.m.remove().unwrap();
    assert_gone(&*g.m, "yurta.slice");
}

#[test]
fn manager_creation_is_cheap() {
    let start = Instant::now();
    for i in 0..200 {
        let _ = create_manager(None, &format!("bench{i}"), false).unwrap();
    }
    let per = start.elapsed() / 200;
    assert!(per.as_micros() < 1000, "create_manager took {per:?}");
}

/// The v2 device filter, exercised on whatever cgroup2 mount the host has (on hybrid hosts the
/// unified mount, which accepts device programs even without controllers).
#[test]
fn v2_device_filter_blocks_unlisted_devices() {
    if !is_root() {
        return;
    }
    let v2 = match detect().unwrap() {
        CgroupSetup::V2(m) | CgroupSetup::Hybrid { v2: m, .. } => m,
        CgroupSetup::V1(_) => return,
    };
    let top = format!("yurta-itest-dev-{}", std::process::id());
    let path = yurta_cgroups::CgroupPath::Absolute(PathBuf::from(&top));
    let m = yurta_cgroups::create_manager_in(&CgroupSetup::V2(v2), &path, &Default::default());
    // /dev/null allowed; /dev/zero (c 1:5) denied for reading; /dev/full (1:7) write denied.
    let script = "echo hi > /dev/null || exit 3; head -c1 /dev/zero > /dev/null 2>&1 && exit 4; \
                  echo x 2>/dev/null > /dev/full; [ $? -ne 0 ] || exit 5; exit 0";
    let mut g = Guard::start(m, script);
    g.m.set(&resources(
        r#"{"devices":[{"allow":false,"access":"rwm"},
                       {"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},
                       {"allow":true,"type":"c","major":1,"minor":7,"access":"r"}]}"#,
    ))
    .unwrap();
    // A second set replaces the first program instead of stacking another one.
    g.m.set(&resources(
        r#"{"devices":[{"allow":false,"access":"rwm"},
                       {"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},
                       {"allow":true,"type":"c","major":1,"minor":7,"access":"r"}]}"#,
    ))
    .unwrap();
    g.go();
    let status = g.child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "device filter not enforced as expected"
    );
    drop(g);
    assert!(!Path::new(&format!("/sys/fs/cgroup/unified/{top}")).exists());
}

/// kill_all on the cgroup2 side alone (cgroup.kill when the kernel has it).
#[test]
fn v2_kill_all_empties_the_cgroup() {
    if !is_root() {
        return;
    }
    let v2 = match detect().unwrap() {
        CgroupSetup::V2(m) | CgroupSetup::Hybrid { v2: m, .. } => m,
        CgroupSetup::V1(_) => return,
    };
    let top = format!("yurta-itest-v2kill-{}", std::process::id());
    let path = yurta_cgroups::CgroupPath::Absolute(PathBuf::from(&top));
    let m = yurta_cgroups::create_manager_in(&CgroupSetup::V2(v2), &path, &Default::default());
    let mut g = Guard::start(
        m,
        "for i in 1 2 3; do sleep 60 & done; while :; do sleep 1; done",
    );
    g.go();
    let start = Instant::now();
    while g.m.pids().unwrap().len() < 4 && start.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(g.m.pids().unwrap().len() >= 4, "{:?}", g.m.pids());
    g.m.kill_all(libc::SIGKILL).unwrap();
    assert_eq!(g.m.pids().unwrap(), Vec::<i32>::new());
    let paths = g.m.paths();
    drop(g);
    assert!(paths.iter().all(|p| !p.exists()), "{paths:?}");
}
