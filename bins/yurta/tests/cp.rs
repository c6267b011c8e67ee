//! `cp` end to end, as root: both ways with a running container (paths
//! resolve inside it, never on the host), with a stopped one (its root
//! filesystem mounted for the copy, nothing left mounted), and `SRC/.`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::world::World;

#[test]
fn cp_both_ways_inside_the_container_only() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "-d",
        "--name",
        "cpc",
        "-v",
        "cpvol:/data",
        "img",
        "sh",
        "-c",
        "echo in-volume > /data/v; ln -s /etc /esc; exec sleep 1000",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(300));
    let out = w.y.path("out");
    std::fs::create_dir(&out).unwrap();
    let file = out.join("v.txt");
    w.run(&["cp", "cpc:/data/v", file.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "in-volume\n");
    w.run(&["cp", "cpc:/data", out.to_str().unwrap()]).ok();
    assert!(out.join("data/v").is_file());
    // Into the container: a symlink to /etc stays the container's /etc.
    let host = w.y.path("from-host");
    std::fs::write(&host, "host\n").unwrap();
    let marker = format!("yurta-cp-test-{}", std::process::id());
    w.run(&["cp", host.to_str().unwrap(), &format!("cpc:/esc/{marker}")])
        .ok();
    assert!(!Path::new("/etc").join(&marker).exists());
    let o = w
        .run(&["exec", "cpc", "cat", &format!("/etc/{marker}")])
        .ok();
    assert_eq!(o.stdout, "host\n");
    let o = w.run(&["cp", "cpc:/nonexist", out.join("x").to_str().unwrap()]);
    assert_eq!(o.code, 125);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("/nonexist"), "{}", o.stderr);
    w.run(&["rm", "-f", "cpc"]).ok();
    w.run(&["volume", "rm", "cpvol"]).ok();
}

/// Mount points under `dir`.
fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn cp_with_a_stopped_container_and_a_directory_s_contents() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "--name",
        "stopped",
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        "mkdir -p /d/sub; echo one > /d/a; echo two > /d/sub/b",
    ])
    .ok();
    // DIR/. into a new directory: its contents, not DIR itself.
    let out = w.y.path("out");
    w.run(&["cp", "stopped:/d/.", out.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "one\n");
    assert_eq!(std::fs::read_to_string(out.join("sub/b")).unwrap(), "two\n");
    assert!(!out.join("d").exists());
    // DIR into an existing directory: DIR itself.
    let into = w.y.path("into");
    std::fs::create_dir(&into).unwrap();
    w.run(&["cp", "stopped:/d", into.to_str().unwrap()]).ok();
    assert_eq!(
        std::fs::read_to_string(into.join("d/sub/b")).unwrap(),
        "two\n"
    );
    // Into the stopped container, kept for its next start.
    let host = w.y.path("from-host");
    std::fs::write(&host, "host data\n").unwrap();
    w.run(&["cp", host.to_str().unwrap(), "stopped:/d/"]).ok();
    let back = w.y.path("back");
    w.run(&["cp", "stopped:/d/from-host", back.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "host data\n");
    // A missing path is one line naming it; nothing stays mounted.
    let o = w.run(&["cp", "stopped:/nope", w.y.path("x").to_str().unwrap()]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("/nope"), "{}", o.stderr);
    assert_eq!(mounts_under(&w.y.root()), Vec::<String>::new());
    let cdir = w.y.root().join("containers");
    let leftovers: Vec<_> = std::fs::read_dir(&cdir)
        .unwrap()
        .flatten()
        .flat_map(|c| std::fs::read_dir(c.path()).into_iter().flatten().flatten())
        .filter(|e| e.file_name().to_string_lossy().starts_with("cp-"))
        .map(|e| e.path())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    w.run(&["rm", "stopped"]).ok();
}
