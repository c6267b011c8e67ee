//! The read-write layer against real overlay mounts (root, as CI runs):
//! what a container does in its merged view, read back from the upper
//! directory as Docker's diff lines and as a layer that recreates the view.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::*;
use crate::import::{import, ImportSource};
use crate::layers::{mount_rootfs, unmount_rootfs, RootfsKind};
use crate::progress::Silent;
use crate::store::{ImageRecord, Store};

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// An image with files, a directory to replace, one to chmod, a symlink.
pub(crate) fn image(tmp: &Path, etc: bool) -> (Store, ImageRecord) {
    let src = tmp.join("src");
    for d in ["d/sub", "keep", "mnt", "bin"] {
        fs::create_dir_all(src.join(d)).unwrap();
    }
    if etc {
        fs::create_dir_all(src.join("etc")).unwrap();
        fs::write(src.join("etc/passwd"), "root:x:0:0::/:/bin/sh\n").unwrap();
    }
    fs::write(src.join("d/a"), "a").unwrap();
    fs::write(src.join("d/b"), "b").unwrap();
    fs::write(src.join("keep/x"), "x").unwrap();
    fs::write(src.join("old"), "old").unwrap();
    symlink("busybox", src.join("bin/sh")).unwrap();
    let store = Store::open(tmp.join("s")).unwrap();
    let rec = import(
        &store,
        ImportSource::Dir(&src),
        &Default::default(),
        &Silent,
    )
    .unwrap();
    (store, rec)
}

/// The container's overlay: upper, work and merged under `tmp`.
pub(crate) struct Overlay {
    pub merged: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
}

impl Overlay {
    pub(crate) fn mount(tmp: &Path, store: &Store, image: &ImageRecord) -> Overlay {
        let o = Overlay {
            merged: tmp.join("merged"),
            upper: tmp.join("upper"),
            work: tmp.join("work"),
        };
        let kind = mount_rootfs(store, image, &o.merged, &o.upper, &o.work, false).unwrap();
        assert_eq!(kind, RootfsKind::Overlay);
        o
    }

    pub(crate) fn unmount(&self) {
        unmount_rootfs(&self.merged).unwrap();
    }
}

/// What a container does: change, delete, replace a directory, add, and
/// the runtime's mount points.
pub(crate) fn container_changes(m: &Path) {
    fs::write(m.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::remove_file(m.join("old")).unwrap();
    fs::remove_dir_all(m.join("d")).unwrap();
    fs::create_dir(m.join("d")).unwrap();
    fs::write(m.join("d/new"), "new").unwrap();
    fs::create_dir(m.join("d/sub")).unwrap();
    fs::create_dir(m.join("newdir")).unwrap();
    fs::write(m.join("newdir/f"), "f").unwrap();
    fs::set_permissions(m.join("mnt"), fs::Permissions::from_mode(0o700)).unwrap();
    // The runtime's: mount points for /etc/hosts, /proc, /dev/...
    fs::write(m.join("etc/hosts"), "").unwrap();
    fs::create_dir(m.join("proc")).unwrap();
    fs::create_dir_all(m.join("dev/pts")).unwrap();
}

fn lines(upper: &Path, store: &Store, image: &ImageRecord) -> Vec<String> {
    let lowers = Lowers::open(&store.unpack_image(image).unwrap()).unwrap();
    changes(upper, &lowers)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn diff_of_a_real_overlay_in_docker_s_terms() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, image) = image(tmp.path(), true);
    let o = Overlay::mount(tmp.path(), &store, &image);
    container_changes(&o.merged);
    o.unmount();
    assert_eq!(
        lines(&o.upper, &store, &image),
        [
            // An opaque directory replacing the image's is Docker's "D".
            "D /d",
            "A /d/new",
            // Inside it, nothing of the image's counts: new, not changed.
            "A /d/sub",
            // /etc's mtime changed only for the hosts mount point: no "C /etc".
            "C /etc/passwd",
            "C /mnt",
            "A /newdir",
            "A /newdir/f",
            "D /old",
        ]
    );
}

#[test]
fn a_directory_made_only_for_mount_points_is_not_a_change() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, image) = image(tmp.path(), false);
    let o = Overlay::mount(tmp.path(), &store, &image);
    fs::create_dir(o.merged.join("etc")).unwrap();
    fs::write(o.merged.join("etc/hosts"), "").unwrap();
    fs::write(o.merged.join("etc/resolv.conf"), "").unwrap();
    fs::write(o.merged.join("keep/y"), "y").unwrap();
    o.unmount();
    assert_eq!(lines(&o.upper, &store, &image), ["C /keep", "A /keep/y"]);
    // Never started: no upper directory, no changes.
    assert!(lines(&tmp.path().join("none"), &store, &image).is_empty());
}

/// Entry names of a tar stream.
fn names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

#[test]
fn the_upper_layer_has_aufs_whiteouts_and_no_mount_points() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, image) = image(tmp.path(), true);
    let o = Overlay::mount(tmp.path(), &store, &image);
    container_changes(&o.merged);
    o.unmount();
    let lowers = Lowers::open(&store.unpack_image(&image).unwrap()).unwrap();
    let wanted = Selection::of(&changes(&o.upper, &lowers).unwrap());
    let (tar, n) = write_tree(&o.upper, Source::Upper(&wanted), Vec::new()).unwrap();
    let names = names(&tar);
    assert_eq!(
        names,
        [
            "d/",
            "d/.wh..wh..opq",
            "d/new",
            "d/sub/",
            "etc/",
            "etc/passwd",
            "mnt/",
            "newdir/",
            "newdir/f",
            ".wh.old",
        ]
    );
    assert_eq!(n, 9, "the opaque marker is part of its directory's entry");
}

/// Every entry below `root`: kind, mode, owner and content or target.
pub(crate) fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let what = if m.is_dir() {
                walk(root, &p, out);
                String::from("dir")
            } else if m.file_type().is_symlink() {
                format!("-> {}", fs::read_link(&p).unwrap().display())
            } else {
                String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned()
            };
            out.insert(
                rel,
                format!("{:o} {}:{} {what}", m.mode(), m.uid(), m.gid()),
            );
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn a_root_is_written_as_it_is_and_symlinks_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::write(root.join("a/b/f"), "data").unwrap();
    fs::hard_link(root.join("a/b/f"), root.join("a/link")).unwrap();
    symlink("/etc", root.join("escape")).unwrap();
    let (tar, n) = write_tree(&root, Source::Tree, Vec::new()).unwrap();
    assert_eq!(names(&tar), ["a/", "a/b/", "a/b/f", "a/link", "escape"]);
    assert_eq!(n, 5);
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    crate::layers::unpack(&tar[..], &out, crate::layers::Whiteouts::Apply).unwrap();
    assert_eq!(tree(&root), tree(&out));
    assert_eq!(fs::metadata(out.join("a/link")).unwrap().nlink(), 2);
}

/// A flattened copy of `image` (the container's root where overlayfs was
/// unavailable) in `tmp/copy`.
pub(crate) fn copy(tmp: &Path, store: &Store, image: &ImageRecord) -> PathBuf {
    let dir = tmp.join("copy");
    crate::layers::copy_rootfs(store, image, &dir).unwrap();
    dir
}

#[test]
fn diff_of_a_flattened_copy_compares_it_with_the_image() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, image) = image(tmp.path(), true);
    let root = copy(tmp.path(), &store, &image);
    let lowers = Lowers::open(&store.unpack_image(&image).unwrap()).unwrap();
    assert!(copy_changes(&root, &lowers).unwrap().is_empty());
    container_changes(&root);
    let lines: Vec<String> = copy_changes(&root, &lowers)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    // Docker's naive differ: a directory with anything changed below is C.
    assert_eq!(
        lines,
        [
            "C /d",
            "D /d/a",
            "D /d/b",
            "A /d/new",
            "C /etc",
            "C /etc/passwd",
            "C /mnt",
            "A /newdir",
            "A /newdir/f",
            "D /old",
        ]
    );
    let wanted = Selection::of(&copy_changes(&root, &lowers).unwrap());
    let gone = deleted(&copy_changes(&root, &lowers).unwrap());
    let (tar, _) = write_tree(&root, Source::Copy(&wanted, &gone), Vec::new()).unwrap();
    assert_eq!(
        names(&tar),
        [
            // d/sub is the image's, unchanged: the layer below has it.
            "d/",
            "d/new",
            "etc/",
            "etc/passwd",
            "mnt/",
            "newdir/",
            "newdir/f",
            "d/.wh.a",
            "d/.wh.b",
            ".wh.old",
        ]
    );
}
