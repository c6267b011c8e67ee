//! yurta-engine end to end, as root: an image imported with `yurta import`,
//! a container record made by `Engine::create`, its bundle by
//! `Engine::prepare` (rootfs, volumes with copy-up, tmpfs, network files,
//! config.json), run by the `yurta-runtime` built next to `yurta`; checked
//! from inside, then `Engine::remove` must leave no mount, cgroup, runtime
//! state or record behind.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{tar_of, Yurta};
use yurta_engine::{CreateOptions, Engine, NetNs, PrepareOptions};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn runtime() -> PathBuf {
    let p = Path::new(env!("CARGO_BIN_EXE_yurta")).with_file_name("yurta-runtime");
    assert!(
        p.is_file(),
        "{} is missing: cargo build -p yurta-runtime",
        p.display()
    );
    p
}

/// busybox with the applets the checks use, a user `app`, content at
/// /data for copy-up; imported as `img` with `VOLUME /data`.
fn image(y: &Yurta) {
    let root = y.rootfs();
    for tool in [
        "grep", "id", "touch", "pwd", "head", "stat", "wc", "sleep", "readlink",
    ] {
        symlink("busybox", root.join("bin").join(tool)).unwrap();
    }
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        root.join("etc/group"),
        "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("data/sub")).unwrap();
    fs::write(root.join("data/seed"), "from the image\n").unwrap();
    fs::write(root.join("data/sub/deep"), "deep\n").unwrap();
    let tar = y.path("rootfs.tar");
    tar_of(&root, &tar);
    y.run(&[
        "import",
        "-c",
        "VOLUME /data",
        "-c",
        "ENV IMG=1",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "img",
    ])
    .ok();
}

/// Removes the container when the test ends, also when it failed, so
/// that a failed check leaves no mount behind.
struct Removal<'a>(&'a Engine, String);

impl Drop for Removal<'_> {
    fn drop(&mut self) {
        let _ = self.0.remove(&self.1, true);
    }
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let d = dir.display().to_string();
    info.lines()
        .filter(|l| l.contains(&d))
        .map(str::to_string)
        .collect()
}

/// Runs the prepared bundle in the foreground; stdout of the container.
fn run(state: &Path, bundle: &Path, id: &str) -> (i32, String, String) {
    let out = Command::new(runtime())
        .arg("--root")
        .arg(state)
        .args(["run", "--bundle"])
        .arg(bundle)
        .arg(id)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const ROOT_CHECKS: &str = r#"
grep -E '^(CapEff|Seccomp):' /proc/self/status
echo "timer_list=$(wc -c < /proc/timer_list)"
echo "firmware=$(ls -A /sys/firmware | wc -l)"
echo x > /proc/sys/kernel/hostname 2>/dev/null || echo "proc-sys=ro"
touch /rootfs-write 2>/dev/null && echo "rootfs=rw" || echo "rootfs=ro"
echo "seed=$(cat /data/seed)"
echo "deep=$(cat /data/sub/deep)"
echo written > /data/by-container
grep ' /scratch ' /proc/mounts | head -1
touch /scratch/ok && echo scratch=rw
echo "mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
echo "env=$A,$IMG,$HOSTNAME,$HOME"
echo "hostname=$(cat /etc/hostname)"
grep -c localhost /etc/hosts
"#;

#[test]
fn a_container_made_by_the_engine_runs_and_leaves_nothing() {
    if !is_root() {
        eprintln!("skipping: needs root");
        return;
    }
    let y = Yurta::new();
    image(&y);
    let state = y.path("runtime-state");
    let engine = Engine::open(&y.root()).unwrap();
    let opts = CreateOptions {
        name: Some("checks".into()),
        image: "img".into(),
        command: vec!["sh".into(), "-c".into(), ROOT_CHECKS.into()],
        env: vec!["A=1".into()],
        hostname: Some("box".into()),
        read_only: true,
        volumes: vec!["named:/data".into()],
        mounts: vec!["type=tmpfs,target=/scratch,tmpfs-size=1m".into()],
        memory: Some("64m".into()),
        ..Default::default()
    };
    let rec = engine.create(&opts).unwrap();
    let _removal = Removal(&engine, rec.id.clone());
    assert_eq!(rec.name, "/checks");
    assert_eq!(engine.containers.lookup("checks").unwrap().id, rec.id);
    let err = engine.create(&opts).unwrap_err().to_string();
    assert!(err.contains("\"/checks\" is already in use"), "{err}");
    assert_eq!(
        rec.mounts.len(),
        2,
        "the named volume covers the image's VOLUME /data"
    );
    assert_eq!(rec.mounts[0].name.as_deref(), Some("named"));

    let p = engine
        .prepare(
            &rec.id,
            &PrepareOptions {
                network: NetNs::New,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(p.bundle.join("config.json").is_file());
    let (code, out, err) = run(&state, &p.bundle, &rec.id);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let has = |line: &str| {
        assert!(
            out.lines().any(|l| l.trim() == line),
            "{line:?} not in:\n{out}\nstderr:\n{err}"
        )
    };
    has("CapEff:\t00000000a80425fb");
    has("Seccomp:\t2");
    has("timer_list=0");
    has("firmware=0");
    has("proc-sys=ro");
    has("rootfs=ro");
    has("seed=from the image");
    has("deep=deep");
    has("scratch=rw");
    has(&format!("mem={}", 64 << 20));
    has("env=1,1,box,/root");
    has("hostname=box");
    assert!(
        out.contains("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec"),
        "{out}"
    );

    let data = y.root().join("volumes/named/_data");
    assert_eq!(
        fs::read_to_string(data.join("by-container")).unwrap(),
        "written\n"
    );
    engine.remove(&rec.id, true).unwrap();
    assert!(
        mounts_under(y.dir.path()).is_empty(),
        "{:?}",
        mounts_under(y.dir.path())
    );
    assert!(!Path::new("/sys/fs/cgroup/memory/yurta")
        .join(&rec.id)
        .exists());
    assert!(
        fs::read_dir(&state).map_or(true, |mut d| d.next().is_none()),
        "runtime state left"
    );
    assert!(engine.containers.list().unwrap().is_empty());
    assert!(engine.volumes.users("named").unwrap().is_empty());
    assert!(data.join("seed").is_file(), "named volumes outlive rm -v");
}

#[test]
fn user_workdir_and_anonymous_volumes() {
    if !is_root() {
        eprintln!("skipping: needs root");
        return;
    }
    let y = Yurta::new();
    image(&y);
    let state = y.path("runtime-state");
    let engine = Engine::open(&y.root()).unwrap();
    let script =
        "id; pwd; echo \"home=$HOME\"; cat /data/seed; grep -E '^CapEff' /proc/self/status";
    let opts = CreateOptions {
        image: "img".into(),
        command: vec!["sh".into(), "-c".into(), script.into()],
        user: Some("app".into()),
        workdir: Some("/work/dir".into()),
        cap_drop: vec!["ALL".into()],
        security_opt: vec!["no-new-privileges".into()],
        ..Default::default()
    };
    let rec = engine.create(&opts).unwrap();
    let _removal = Removal(&engine, rec.id.clone());
    let anon = rec.mounts[0].name.clone().unwrap();
    assert_eq!(anon.len(), 64);
    let p = engine.prepare(&rec.id, &PrepareOptions::default()).unwrap();
    let (code, out, err) = run(&state, &p.bundle, &rec.id);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "uid=1000(app) gid=1000(app) groups=50(staff)");
    assert_eq!(lines[1], "/work/dir");
    assert_eq!(lines[2], "home=/home/app");
    assert_eq!(
        lines[3], "from the image",
        "anonymous volumes are copied up too"
    );
    assert_eq!(lines[4], "CapEff:\t0000000000000000");
    engine.cleanup(&rec.id).unwrap();
    engine.cleanup(&rec.id).unwrap();
    assert!(mounts_under(y.dir.path()).is_empty());
    engine.remove(&rec.id, true).unwrap();
    assert!(
        engine.volumes.read(&anon).is_err(),
        "rm -v removes anonymous volumes"
    );
    assert!(mounts_under(y.dir.path()).is_empty());
    assert!(fs::read_dir(y.root().join("containers")).unwrap().all(|e| {
        let n = e.unwrap().file_name().into_string().unwrap();
        n.ends_with(".lock")
    }));
}

#[test]
fn init_tmpfs_volume_and_privileged() {
    let Some(init) = yurta_engine::engine::default_init() else {
        eprintln!("skipping: no static init (catatonit, tini-static) on this host");
        return;
    };
    if !is_root() {
        eprintln!("skipping: needs root");
        return;
    }
    let y = Yurta::new();
    image(&y);
    y.run(&[
        "volume",
        "create",
        "-o",
        "type=tmpfs",
        "-o",
        "device=tmpfs",
        "-o",
        "o=size=2m",
        "fast",
    ])
    .ok();
    let state = y.path("runtime-state");
    let engine = Engine::open(&y.root()).unwrap();
    let script = "readlink /proc/1/exe; grep ' /fast ' /proc/mounts; grep -E '^(CapEff|Seccomp):' /proc/self/status";
    let opts = CreateOptions {
        image: "img".into(),
        command: vec!["sh".into(), "-c".into(), script.into()],
        init: true,
        privileged: true,
        volumes: vec!["fast:/fast".into()],
        ..Default::default()
    };
    let rec = engine.create(&opts).unwrap();
    let _removal = Removal(&engine, rec.id.clone());
    let prep = PrepareOptions {
        init_path: Some(init),
        ..Default::default()
    };
    let p = engine.prepare(&rec.id, &prep).unwrap();
    let data = y.root().join("volumes/fast/_data");
    assert!(
        mounts_under(&data).len() == 1,
        "the tmpfs volume is mounted while used"
    );
    let (code, out, err) = run(&state, &p.bundle, &rec.id);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "/sbin/docker-init");
    assert!(lines[1].starts_with("tmpfs /fast tmpfs rw"), "{out}");
    let own = fs::read_to_string("/proc/self/status").unwrap();
    let own_caps = own
        .lines()
        .find(|l| l.starts_with("CapBnd:"))
        .unwrap()
        .replace("CapBnd", "CapEff");
    assert_eq!(
        lines[2], own_caps,
        "privileged: every capability the runtime holds"
    );
    assert_eq!(lines[3], "Seccomp:\t0");
    engine.remove(&rec.id, true).unwrap();
    assert!(
        mounts_under(y.dir.path()).is_empty(),
        "{:?}",
        mounts_under(y.dir.path())
    );
}

#[test]
fn create_errors_leave_nothing() {
    let y = Yurta::new();
    image(&y);
    let engine = Engine::open(&y.root()).unwrap();
    let base = CreateOptions {
        image: "img".into(),
        ..Default::default()
    };
    let cases: Vec<(CreateOptions, &str)> = vec![
        (
            CreateOptions {
                image: "ghost".into(),
                ..base.clone()
            },
            "No such image: ghost",
        ),
        (
            CreateOptions {
                memory: Some("12x".into()),
                ..base.clone()
            },
            "invalid memory size \"12x\"",
        ),
        (
            CreateOptions {
                volumes: vec!["aa:/x".into(), "bb:/x".into()],
                ..base.clone()
            },
            "Duplicate mount point: /x",
        ),
        (
            CreateOptions {
                mounts: vec!["type=bind,source=/nonexistent-yurta,target=/x".into()],
                ..base.clone()
            },
            "bind source path does not exist: /nonexistent-yurta",
        ),
    ];
    for (opts, want) in cases {
        let err = engine.create(&opts).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} lacks {want:?}");
    }
    assert!(engine.containers.list().unwrap().is_empty());
    assert!(
        engine.volumes.list().unwrap().is_empty(),
        "{:?}",
        engine.volumes.list().unwrap()
    );
}
