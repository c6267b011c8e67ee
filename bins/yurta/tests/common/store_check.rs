//! Checks of an image store for the kill -9 and full-disk tests
//! (`images_faults.rs`, `images_enospc.rs`): the files under a root, a
//! store whose every record is whole, and the fault points a command
//! passes. Included by path (`#[path]`), not through `common/mod.rs`.

// Each test target uses a different part.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;

use super::Yurta;

/// Every file and directory under `root`, relative, except lock files
/// (`*.lock`), which stay by design once made.
pub fn fingerprint(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if rel.ends_with(".lock") {
                continue;
            }
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            out.push(rel);
            if is_dir {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Files under `dir` whose names start with `prefix` (leftovers).
pub fn named(dir: &Path, prefix: &str) -> Vec<String> {
    fingerprint(dir)
        .into_iter()
        .filter(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect()
}

/// Panics unless the command died of SIGKILL.
pub fn assert_killed(o: &Output, what: &str) {
    assert_eq!(
        o.status.signal(),
        Some(libc::SIGKILL),
        "{what}: {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The points a trace file lists, each with the number of times it was
/// reached, in the order first reached.
pub fn hits(trace: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order = Vec::new();
    for l in text.lines().filter(|l| !l.is_empty()) {
        let n = counts.entry(l).or_insert(0);
        if *n == 0 {
            order.push(l.to_string());
        }
        *n += 1;
    }
    order
        .into_iter()
        .map(|p| {
            let n = counts[p.as_str()];
            (p, n)
        })
        .collect()
}

/// `NAME:K` for every hit of every point.
pub fn specs(hits: &[(String, usize)]) -> Vec<String> {
    hits.iter()
        .flat_map(|(p, n)| (1..=*n).map(move |k| format!("{p}:{k}")))
        .collect()
}

/// The store is consistent: `images` lists images whose `inspect` and
/// `save` (which reads every blob) work, every blob hashes to its name,
/// and every snapshot is whole (has its `fs`).
pub fn assert_consistent(y: &Yurta, what: &str) {
    let images = y.run(&["images", "-q", "--no-trunc"]);
    assert_eq!(images.code, 0, "{what}: images: {}", images.stderr);
    let archive = y.path("check.tar");
    for id in images.stdout.lines() {
        let i = y.run(&["image", "inspect", id]);
        assert_eq!(i.code, 0, "{what}: inspect {id}: {}", i.stderr);
        let s = y.run(&["save", "-o", archive.to_str().unwrap(), id]);
        assert_eq!(s.code, 0, "{what}: save {id}: {}", s.stderr);
    }
    let _ = std::fs::remove_file(&archive);
    let blobs = y.root().join("images/blobs/sha256");
    for e in std::fs::read_dir(&blobs).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let digest = yurta_registry::sha256_digest(&bytes).to_string();
        let name = e.file_name().to_string_lossy().into_owned();
        assert_eq!(digest, format!("sha256:{name}"), "{what}: blob {name}");
    }
    let snapshots = y.root().join("images/snapshots");
    for e in std::fs::read_dir(&snapshots).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("tmp-") {
            assert!(e.path().join("fs").is_dir(), "{what}: snapshot {name}");
        }
    }
}

/// `image prune -a -f`, which must succeed.
pub fn prune_all(y: &Yurta, what: &str) {
    let o = y.run(&["image", "prune", "-a", "-f"]);
    assert_eq!(o.code, 0, "{what}: prune: {}", o.stderr);
}
