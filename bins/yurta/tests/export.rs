//! `export` end to end, as root (`common::world`): a stopped container's
//! root filesystem (mounted for the export in a mount namespace of the
//! helper's own, never on the host), a running one's, `-o FILE`, the
//! refusal of a terminal, and kill -9 of the helper leaving no mount and no
//! partial archive.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::fingerprint::{Fingerprint, Scope};
use common::world::World;

/// Entry names of a tar archive.
fn names(tar: &[u8]) -> BTreeSet<String> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn content(tar: &[u8], name: &str) -> String {
    let mut a = tar::Archive::new(tar);
    let mut e = a
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.path().unwrap().display().to_string() == name)
        .unwrap_or_else(|| panic!("{name} not in the archive"));
    let mut s = String::new();
    std::io::Read::read_to_string(&mut e, &mut s).unwrap();
    s
}

fn mounts_under(w: &World) -> Vec<String> {
    let r = w.y.root().display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&r))
        .map(str::to_string)
        .collect()
}

#[test]
fn export_a_stopped_and_a_running_container() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "--name",
        "ex",
        "--network",
        "none",
        "-v",
        "exvol:/data",
        "img",
        "sh",
        "-c",
        "echo hello > /hello; rm /bin/ls; echo v > /data/v",
    ])
    .ok();
    let o = w.run(&["export", "ex"]).ok();
    let all = names(&o.raw);
    assert!(
        all.contains("bin/") && all.contains("bin/busybox"),
        "{all:?}"
    );
    assert_eq!(content(&o.raw, "hello"), "hello\n");
    assert!(!all.contains("bin/ls"), "deleted in the container");
    assert!(
        all.contains("data/") && !all.contains("data/v"),
        "no volume contents"
    );
    assert_eq!(
        mounts_under(&w),
        Vec::<String>::new(),
        "nothing mounted on the host"
    );
    // -o FILE, and `container export`.
    let file = w.y.path("ex.tar");
    w.run(&["container", "export", "-o", file.to_str().unwrap(), "ex"])
        .ok();
    assert_eq!(names(&std::fs::read(&file).unwrap()), all);
    assert!(!w.y.path("ex.yurta-partial").exists());
    // A running container's root, as it is now.
    w.run(&[
        "run",
        "-d",
        "--name",
        "exr",
        "--network",
        "none",
        "img",
        "sleep",
        "1000",
    ])
    .ok();
    w.run(&["exec", "exr", "sh", "-c", "echo live > /live"])
        .ok();
    let o = w.run(&["export", "exr"]).ok();
    assert_eq!(content(&o.raw, "live"), "live\n");
    assert_eq!(w.inspect("exr", ".State.Status"), "running");
    w.run(&["rm", "-f", "-v", "ex", "exr"]).ok();
    w.run(&["volume", "rm", "exvol"]).ok();
}

#[test]
fn export_refuses_a_terminal_and_bad_names() {
    let Some(w) = World::new() else { return };
    w.run(&["create", "--name", "ext", "img", "true"]).ok();
    let yurta = format!(
        "{} --root {} export ext",
        env!("CARGO_BIN_EXE_yurta"),
        w.y.root().display()
    );
    let o = common::sh("script", &["-qec", &yurta, "/dev/null"]);
    assert_ne!(o.code, 0);
    assert!(
        o.stdout
            .contains("refusing to write an archive to a terminal"),
        "{}",
        o.stdout
    );
    let o = w.run(&[
        "export",
        "-o",
        w.y.path("x.tar").to_str().unwrap(),
        "nosuch",
    ]);
    assert_eq!(o.code, 125);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("nosuch"), "{}", o.stderr);
    assert!(!w.y.path("x.tar").exists() && !w.y.path("x.yurta-partial").exists());
    w.run(&["rm", "ext"]).ok();
}

#[test]
fn export_killed_with_the_overlay_mounted_leaves_nothing() {
    let Some(w) = World::new() else { return };
    w.run(&[
        "run",
        "--name",
        "exk",
        "--network",
        "none",
        "img",
        "sh",
        "-c",
        "echo > /t",
    ])
    .ok();
    let ids: BTreeSet<String> = w.ids().into_iter().collect();
    let print = || {
        Fingerprint::take(&Scope {
            root: &w.y.root(),
            link_prefixes: &[],
            table: &w.table(),
            ids: &ids,
        })
    };
    // Warm up (the overlay's work directory), then the baseline.
    w.run(&[
        "export",
        "-o",
        w.y.path("warm.tar").to_str().unwrap(),
        "exk",
    ])
    .ok();
    assert_eq!(mounts_under(&w), Vec::<String>::new());
    let before = print();
    let file = w.y.path("k.tar");
    let o = w
        .cmd(&["export", "-o", file.to_str().unwrap(), "exk"])
        .env("YURTA_FAULT", "export.mounted")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(125), "{o:?}");
    // The mount was the dead helper's namespace's only.
    assert_eq!(mounts_under(&w), Vec::<String>::new());
    assert!(!file.exists() && !w.y.path("k.yurta-partial").exists());
    let mut diff = Vec::new();
    yurta_testutil::process::poll_until(Duration::from_secs(10), Duration::from_millis(20), || {
        diff = before.diff(&print());
        diff.is_empty()
    });
    assert!(diff.is_empty(), "left {diff:#?}");
    // And it works again.
    w.run(&["export", "-o", file.to_str().unwrap(), "exk"]).ok();
    w.run(&["rm", "exk"]).ok();
}
