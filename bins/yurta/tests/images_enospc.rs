//! A full disk: on a small tmpfs mounted as the `--root`, `pull`, `load`
//! and `import` of images bigger than the free space fail with one line
//! (exit 125) and leave nothing behind — no ingest file, no `.partial`, no
//! unpack directory, no temporary catalog — and `rmi` and `image prune`
//! work on a disk filled to the last block, freeing the space. Needs root
//! (mount), docker-registry, and a static /bin/busybox.

mod common;

#[path = "common/store_check.rs"]
mod store_check;

use std::io::Write;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use common::registry::Registry;
use common::world::is_root;
use common::{tar_of, Out, Yurta};
use store_check::{assert_consistent, fingerprint, named};

/// A tmpfs of `size` mounted on a test's root, unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let opts = format!("size={size},mode=0755");
        mount(
            Some("tmpfs"),
            dir,
            Some("tmpfs"),
            MsFlags::empty(),
            Some(opts.as_str()),
        )
        .unwrap_or_else(|e| panic!("mount tmpfs on {}: {e}", dir.display()));
        Tmpfs {
            dir: dir.to_path_buf(),
        }
    }

    /// Bytes free for writing.
    fn free(&self) -> u64 {
        let s = nix::sys::statvfs::statvfs(&self.dir).unwrap();
        s.blocks_available() * s.fragment_size()
    }

    /// Writes to `filler` until the disk is full to the last block.
    fn fill(&self) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("filler"))
            .unwrap();
        let chunk = vec![7u8; 64 << 10];
        while f.write_all(&chunk).is_ok() {}
        while f.write_all(&chunk[..512]).is_ok() {}
        assert_eq!(self.free(), 0, "the disk is full");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = umount2(&self.dir, MntFlags::MNT_DETACH);
    }
}

/// A root filesystem of 12 MB of `noise` (random, so no compression
/// shrinks it) or of `text` (which gzip shrinks to little but unpacks to
/// 12 MB).
fn rootfs(y: &Yurta, kind: &str) -> PathBuf {
    let dir = y.path(kind);
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = match kind {
        "noise" => {
            let mut v = vec![0u8; 12 << 20];
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for b in v.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            v
        }
        _ => b"a full disk stays full\n".repeat(12 << 20 >> 4),
    };
    std::fs::write(dir.join(kind), data).unwrap();
    dir
}

fn assert_no_space(out: &Out, what: &str) {
    assert_eq!(
        out.code, 125,
        "{what}: stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    eprintln!("{what}: {}", out.stderr.trim_end());
    let errors: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{what}: {}", out.stderr);
    assert!(errors[0].starts_with("yurta: "), "{what}: {}", out.stderr);
    assert_eq!(
        errors[0].matches("No space left on device").count(),
        1,
        "{what}: {}",
        out.stderr
    );
}

/// Nothing a failed or finished command may leave: ingest files (partial
/// downloads included), unpack directories, temporary catalogs, scratch.
fn assert_no_leftovers(root: &Path, what: &str) {
    let images = root.join("images");
    let left = [
        fingerprint(&images.join("ingest")),
        named(&images.join("snapshots"), "tmp-"),
        named(&images, "catalog.json.tmp-"),
        fingerprint(&images.join("tmp")),
    ]
    .concat();
    assert!(left.is_empty(), "{what}: left {left:?}");
}

fn ids(y: &Yurta) -> Vec<String> {
    let out = y.run(&["images", "-q", "--no-trunc"]).ok().stdout;
    out.lines().map(str::to_string).collect()
}

#[test]
fn pull_load_and_import_fail_cleanly_on_a_full_disk() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // The big images, made on the ordinary disk.
    let reg = Registry::plain();
    let src = Yurta::new();
    let mut tars = Vec::new();
    for kind in ["noise", "text"] {
        let tar = src.path(&format!("{kind}.tar"));
        tar_of(&rootfs(&src, kind), &tar);
        let name = format!("{}/big/{kind}:1", reg.addr());
        src.run(&["import", tar.to_str().unwrap(), &name]).ok();
        src.run(&["push", "-q", &name]).ok();
        tars.push((kind, tar, name));
    }
    let archive = src.path("noise-archive.tar");
    let (_, _, noise) = &tars[0];
    src.run(&["save", "-o", archive.to_str().unwrap(), noise])
        .ok();

    let y = Yurta::new();
    let disk = Tmpfs::mount(&y.root(), "8m");
    let small = y.path("small.tar");
    tar_of(&y.rootfs(), &small);
    y.run(&["import", small.to_str().unwrap(), "small:1"]).ok();
    let free = disk.free();
    let (noise_tar, text_name) = (&tars[0].1, &tars[1].2);
    let attempts: [(&str, Vec<&str>); 4] = [
        ("import", vec!["import", noise_tar.to_str().unwrap(), "x:1"]),
        ("load", vec!["load", "-q", "-i", archive.to_str().unwrap()]),
        ("pull of a big blob", vec!["pull", "-q", noise]),
        ("pull of a big unpack", vec!["pull", "-q", text_name]),
    ];
    for (what, args) in &attempts {
        assert_no_space(&y.run(args), what);
        assert_no_leftovers(&y.root(), what);
        assert_eq!(ids(&y).len(), 1, "{what}: only small:1");
        assert_consistent(&y, what);
        // Only blobs a retry needs may stay (the unpack's layer blob, 1 MB).
        assert!(disk.free() + (1 << 20) >= free, "{what}: disk stays full");
    }
    let df = y.run(&["system", "df", "--format", "json"]).ok().stdout;
    assert!(
        !df.lines().next().unwrap().contains(r#""Reclaimable":"0B"#),
        "{df}"
    );
    y.run(&["image", "prune", "-f"]).ok();
    assert!(disk.free() >= free, "prune frees what the pulls kept");
}

#[test]
fn rmi_and_prune_work_on_a_full_disk() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let y = Yurta::new();
    let disk = Tmpfs::mount(&y.root(), "8m");
    let small = y.path("small.tar");
    tar_of(&y.rootfs(), &small);
    let s = small.to_str().unwrap();
    y.run(&["import", s, "small:1"]).ok();
    y.run(&["import", "-m", "another", s, "small:2"]).ok();
    assert_eq!(ids(&y).len(), 2);

    disk.fill();
    y.run(&["rmi", "small:2"]).ok();
    assert_no_leftovers(&y.root(), "rmi");
    assert_eq!(ids(&y).len(), 1);

    disk.fill();
    let archive = y.root().join("small.tar");
    let out = y.run(&["save", "-o", archive.to_str().unwrap(), "small:1"]);
    assert_no_space(&out, "save");
    assert!(!archive.exists() && !archive.with_extension("yurta-partial").exists());
    let out = y.run(&["image", "prune", "-a", "-f"]).ok();
    assert!(out.stdout.contains("deleted: sha256:"), "{}", out.stdout);
    assert_no_leftovers(&y.root(), "prune");
    assert!(ids(&y).is_empty());
    assert!(disk.free() >= 1 << 20, "the layer's space is free");
    std::fs::remove_file(y.root().join("filler")).unwrap();
    assert_consistent(&y, "prune");

    // What a killed import leaves is reclaimable, and prune reclaims it.
    let o = y
        .cmd(&["import", s, "half:1"])
        .env("YURTA_FAULT", "import.layer")
        .output()
        .unwrap();
    store_check::assert_killed(&o, "import.layer");
    let df = y.run(&["system", "df", "--format", "json"]).ok().stdout;
    let images_row = df.lines().next().unwrap().to_string();
    assert!(!images_row.contains(r#""Reclaimable":"0B"#), "{df}");
    y.run(&["image", "prune", "-f"]).ok();
    assert_no_leftovers(&y.root(), "prune after a killed import");
    let df = y.run(&["system", "df", "--format", "json"]).ok().stdout;
    assert!(
        df.lines().all(|l| l.contains(r#""Reclaimable":"0B"#)),
        "{df}"
    );
}
