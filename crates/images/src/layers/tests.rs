//! Layer extraction tests, hostile layers included. They run as root (CI
//! does): owners, device nodes and trusted.* xattrs need it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use tar::{EntryType, Header};

use super::*;
use crate::store::Store;

/// Builds tars entry by entry, writing names raw so hostile ones (`..`,
/// absolute) get through.
pub(crate) struct TarBuilder {
    b: tar::Builder<Vec<u8>>,
}

impl TarBuilder {
    pub(crate) fn new() -> Self {
        TarBuilder {
            b: tar::Builder::new(Vec::new()),
        }
    }

    fn raw(
        &mut self,
        name: &str,
        kind: EntryType,
        data: &[u8],
        link: &str,
        mode: u32,
    ) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_uid(0);
        h.set_gid(0);
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub(crate) fn with(
        &mut self,
        name: &str,
        kind: EntryType,
        f: impl FnOnce(&mut Header),
        data: &[u8],
    ) -> &mut Self {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_600_000_000);
        h.set_path(name).unwrap();
        h.set_uid(0);
        h.set_gid(0);
        f(&mut h);
        h.set_cksum();
        self.b.append(&h, data).unwrap();
        self
    }

    pub(crate) fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(name, EntryType::Regular, data, "", 0o644)
    }

    pub(crate) fn dir(&mut self, name: &str) -> &mut Self {
        self.raw(name, EntryType::Directory, b"", "", 0o755)
    }

    pub(crate) fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Symlink, b"", target, 0o777)
    }

    pub(crate) fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.raw(name, EntryType::Link, b"", target, 0o644)
    }

    pub(crate) fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        self.b
            .append_pax_extensions(records.iter().copied())
            .unwrap();
        self
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let b = std::mem::replace(&mut self.b, tar::Builder::new(Vec::new()));
        b.into_inner().unwrap()
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 1).unwrap()
}

fn rich_layer() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.dir("etc/")
        .with(
            "etc/conf",
            EntryType::Regular,
            |h| {
                h.set_mode(0o4750);
                h.set_uid(1000);
                h.set_gid(2000);
                h.set_mtime(1_234_567_890);
            },
            b"key=value\n",
        )
        .symlink("etc/link", "/etc/conf")
        .hardlink("etc/hard", "etc/conf")
        .with(
            "dev-null",
            EntryType::Char,
            |h| {
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
                h.set_mode(0o666);
            },
            b"",
        )
        .with("fifo", EntryType::Fifo, |h| h.set_mode(0o600), b"")
        .pax(&[
            ("SCHILY.xattr.user.color", b"blue"),
            ("SCHILY.xattr.security.capability", &CAP),
        ])
        .file("bin/ping", b"\x7fELF")
        .with("sparse", EntryType::Regular, |_| {}, &vec![0u8; 1 << 20])
        .dir("etc/");
    t.finish()
}

/// A valid security.capability v2 value (cap_net_raw, effective).
const CAP: [u8; 20] = [
    0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn check_rich(root: &Path) {
    let conf = root.join("etc/conf");
    let m = fs::symlink_metadata(&conf).unwrap();
    assert_eq!(fs::read(&conf).unwrap(), b"key=value\n");
    assert_eq!(m.permissions().mode() & 0o7777, 0o4750);
    assert_eq!((m.uid(), m.gid()), (1000, 2000));
    assert_eq!(m.mtime(), 1_234_567_890);
    assert_eq!(m.nlink(), 2, "hardlink preserved");
    assert_eq!(
        fs::symlink_metadata(root.join("etc/hard")).unwrap().ino(),
        m.ino()
    );
    assert_eq!(
        fs::read_link(root.join("etc/link")).unwrap(),
        Path::new("/etc/conf")
    );
    let null = fs::symlink_metadata(root.join("dev-null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    assert!(fs::symlink_metadata(root.join("fifo"))
        .unwrap()
        .file_type()
        .is_fifo());
    let ping = root.join("bin/ping");
    let dir = fsops::open_root(&root.join("bin")).unwrap();
    let name = std::ffi::OsStr::new("ping");
    assert_eq!(
        fsops::get_xattr_at(&dir, name, "user.color")
            .unwrap()
            .unwrap(),
        b"blue"
    );
    assert_eq!(
        fsops::get_xattr_at(&dir, name, "security.capability")
            .unwrap()
            .unwrap(),
        CAP
    );
    assert_eq!(fs::read(ping).unwrap(), b"\x7fELF");
    let sparse = fs::metadata(root.join("sparse")).unwrap();
    assert_eq!(sparse.len(), 1 << 20);
    assert_eq!(sparse.blocks(), 0, "zeros stay holes");
    assert_eq!(
        fs::metadata(root.join("etc")).unwrap().mtime(),
        1_600_000_000
    );
    // bin/ was created implicitly.
    assert!(root.join("bin").is_dir());
}

#[test]
fn unpacks_everything_from_plain_gzip_and_zstd() {
    let tar = rich_layer();
    let diff_id = Digest::of(&tar);
    for data in [tar.clone(), gzip(&tar), zstd(&tar)] {
        let dir = tempfile::tempdir().unwrap();
        let got = unpack(&data[..], dir.path(), Whiteouts::Overlay).unwrap();
        assert_eq!(got, diff_id);
        check_rich(dir.path());
    }
}

#[test]
fn detects_compression_by_magic() {
    let tar = rich_layer();
    let kind = |d: &[u8]| detect(&mut std::io::BufReader::new(d)).unwrap();
    assert_eq!(kind(&tar), Compression::None);
    assert_eq!(kind(&gzip(&tar)), Compression::Gzip);
    assert_eq!(kind(&zstd(&tar)), Compression::Zstd);
}

fn whiteout_layer() -> Vec<u8> {
    let mut t = TarBuilder::new();
    t.file("a/.wh.gone", b"")
        .file("a/new", b"n")
        .file("b/.wh..wh..opq", b"")
        .file("b/kept", b"k")
        .file(".wh..wh.plnk", b"");
    t.finish()
}

fn lower(root: &Path) {
    for p in ["a/gone/deep", "a/stay", "b/old", "b/kept"] {
        fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        fs::write(root.join(p), "lower").unwrap();
    }
}

#[test]
fn whiteouts_stored_for_overlay() {
    let dir = tempfile::tempdir().unwrap();
    unpack(&whiteout_layer()[..], dir.path(), Whiteouts::Overlay).unwrap();
    let wh = fs::symlink_metadata(dir.path().join("a/gone")).unwrap();
    assert!(wh.file_type().is_char_device());
    assert_eq!(wh.rdev(), 0);
    let root = fsops::open_root(dir.path()).unwrap();
    let opq = fsops::get_xattr_at(&root, std::ffi::OsStr::new("b"), OVERLAY_OPAQUE_XATTR).unwrap();
    assert_eq!(opq.as_deref(), Some(&b"y"[..]));
    assert!(!dir.path().join(".wh..wh.plnk").exists());
    assert!(!dir.path().join("a/.wh.gone").exists());
}

#[test]
fn whiteouts_applied_on_a_flattened_copy() {
    let dir = tempfile::tempdir().unwrap();
    lower(dir.path());
    unpack(&whiteout_layer()[..], dir.path(), Whiteouts::Apply).unwrap();
    assert!(!dir.path().join("a/gone").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("a/stay")).unwrap(),
        "lower"
    );
    assert_eq!(fs::read_to_string(dir.path().join("a/new")).unwrap(), "n");
    assert!(
        !dir.path().join("b/old").exists(),
        "opaque dir hides lower files"
    );
    assert_eq!(fs::read_to_string(dir.path().join("b/kept")).unwrap(), "k");
}

/// A directory tree next to the snapshot that hostile layers aim at.
struct Arena {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    outside: std::path::PathBuf,
}

fn arena() -> Arena {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snap");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim"), "original").unwrap();
    Arena {
        _tmp: tmp,
        root,
        outside,
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into())
        .collect();
    v.sort();
    v
}

fn assert_outside_untouched(a: &Arena) {
    assert_eq!(listing(&a.outside), ["victim"]);
    assert_eq!(
        fs::read_to_string(a.outside.join("victim")).unwrap(),
        "original"
    );
    assert_eq!(fs::metadata(a.outside.join("victim")).unwrap().nlink(), 1);
}

#[test]
fn hostile_dotdot_is_refused() {
    let a = arena();
    let tar = TarBuilder::new()
        .file("ok", b"1")
        .file("../outside/victim", b"pwned")
        .finish();
    let err = unpack(&tar[..], &a.root, Whiteouts::Overlay).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer entry "../outside/victim" leaves the root ("..")"#
    );
    assert_outside_untouched(&a);
    let tar = TarBuilder::new()
        .file("x/../../outside/new", b"pwned")
        .finish();
    assert!(matches!(
        unpack(&tar[..], &a.root, Whiteouts::Overlay),
        Err(LayerError::Traversal(_))
    ));
    assert_outside_untouched(&a);
}

#[test]
fn hostile_symlink_escape_is_not_followed() {
    let a = arena();
    let out = a.outside.display().to_string();
    let tar = TarBuilder::new()
        .symlink("evil", &out)
        .file("evil/victim", b"pwned")
        .finish();
    let err = unpack(&tar[..], &a.root, Whiteouts::Overlay).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer entry "evil/victim": a parent is a symlink or not a directory"#
    );
    assert_outside_untouched(&a);
    // A directory entry through the symlink, and a relative one.
    let tar = TarBuilder::new()
        .symlink("up", "../outside")
        .dir("up/sub/")
        .finish();
    assert!(matches!(
        unpack(&tar[..], &a.root, Whiteouts::Overlay),
        Err(LayerError::Parent(_))
    ));
    assert_outside_untouched(&a);
    // Replacing the symlink by a file writes the file, not through the link.
    let victim = a.outside.join("victim").display().to_string();
    let tar = TarBuilder::new()
        .symlink("v", &victim)
        .file("v", b"mine")
        .finish();
    unpack(&tar[..], &a.root, Whiteouts::Overlay).unwrap();
    assert_eq!(fs::read(a.root.join("v")).unwrap(), b"mine");
    assert_outside_untouched(&a);
    // A whiteout through a symlinked parent is refused too.
    let tar = TarBuilder::new()
        .symlink("w", &out)
        .file("w/.wh.victim", b"")
        .finish();
    assert!(unpack(&tar[..], &a.root, Whiteouts::Apply).is_err());
    assert_outside_untouched(&a);
}

#[test]
fn hostile_hardlinks_must_point_inside() {
    let a = arena();
    let passwd_links = fs::metadata("/etc/passwd").unwrap().nlink();
    let tar = TarBuilder::new().hardlink("pw", "/etc/passwd").finish();
    let err = unpack(&tar[..], &a.root, Whiteouts::Overlay).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"layer entry "pw" is a hardlink to "/etc/passwd", which is not a file inside the layer"#
    );
    let tar = TarBuilder::new()
        .hardlink("pw", "../outside/victim")
        .finish();
    assert!(matches!(
        unpack(&tar[..], &a.root, Whiteouts::Overlay),
        Err(LayerError::Traversal(_))
    ));
    let out = a.outside.display().to_string();
    let tar = TarBuilder::new()
        .symlink("s", &out)
        .hardlink("pw", "s/victim")
        .finish();
    assert!(matches!(
        unpack(&tar[..], &a.root, Whiteouts::Overlay),
        Err(LayerError::HardlinkOutside { .. })
    ));
    assert_eq!(fs::metadata("/etc/passwd").unwrap().nlink(), passwd_links);
    assert!(!a.root.join("pw").exists());
    assert_outside_untouched(&a);
}

#[test]
fn absolute_paths_are_confined() {
    let a = arena();
    let abs = a.outside.join("victim").display().to_string();
    let tar = TarBuilder::new()
        .file(&abs, b"confined")
        .file("/etc/x", b"y")
        .finish();
    unpack(&tar[..], &a.root, Whiteouts::Overlay).unwrap();
    let inside = a.root.join(abs.trim_start_matches('/'));
    assert_eq!(fs::read(inside).unwrap(), b"confined");
    assert_eq!(fs::read(a.root.join("etc/x")).unwrap(), b"y");
    assert_outside_untouched(&a);
}

fn store_with_layer(tar: &[u8]) -> (tempfile::TempDir, Store, Digest) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let blob = store.put_blob(&gzip(tar)).unwrap();
    (dir, store, blob)
}

#[test]
fn snapshot_is_made_once_and_atomically() {
    let tar = rich_layer();
    let diff = Digest::of(&tar);
    let (_d, store, blob) = store_with_layer(&tar);
    let path = store.unpack_layer(&blob, &diff, &diff).unwrap().0;
    assert_eq!(path, store.snapshots_dir().join(diff.hex()).join("fs"));
    check_rich(&path);
    fs::write(path.join("marker"), "").unwrap();
    assert_eq!(store.unpack_layer(&blob, &diff, &diff).unwrap().0, path);
    assert!(path.join("marker").exists(), "not unpacked twice");
    assert_eq!(listing(&store.snapshots_dir()), [diff.hex().to_string()]);
}

#[test]
fn hostile_or_mismatched_layers_leave_no_snapshot() {
    let a = arena();
    let tar = TarBuilder::new()
        .file("fine", b"1")
        .file("../outside/victim", b"x")
        .finish();
    let (_d, store, blob) = store_with_layer(&tar);
    let diff = Digest::of(&tar);
    assert!(store.unpack_layer(&blob, &diff, &diff).is_err());
    assert!(listing(&store.snapshots_dir()).is_empty());
    assert_outside_untouched(&a);
    let good = TarBuilder::new().file("fine", b"1").finish();
    let (_d, store, blob) = store_with_layer(&good);
    let claimed = Digest::of(b"not this");
    let err = store.unpack_layer(&blob, &claimed, &claimed).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {blob} unpacks to {}, but the image config says {claimed}",
            Digest::of(&good)
        )
    );
    assert!(listing(&store.snapshots_dir()).is_empty());
}

#[test]
fn overlay_stack_and_copy_fallback_agree() {
    let base = TarBuilder::new()
        .file("a/gone", b"1")
        .file("a/stay", b"2")
        .file("b/old", b"3")
        .finish();
    let top = whiteout_layer();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let layers = [&base, &top]
        .map(|t| crate::spec::Descriptor::new("x", store.put_blob(&gzip(t)).unwrap(), 0));
    let diff_ids = vec![Digest::of(&base), Digest::of(&top)];
    let image = crate::store::ImageRecord {
        manifest: layers[0].clone(),
        id: Digest::of(b"id"),
        created: None,
        platform: crate::Platform::host(),
        layers: layers.to_vec(),
        diff_ids,
        diff_sizes: vec![],
        size: 0,
        repo_digests: vec![],
        added: String::new(),
        build_cache: false,
    };
    let copy = dir.path().join("copy");
    copy_rootfs(&store, &image, &copy).unwrap();
    let merged = dir.path().join("merged");
    let kind = mount_rootfs(
        &store,
        &image,
        &merged,
        &dir.path().join("upper"),
        &dir.path().join("work"),
        false,
    )
    .unwrap();
    assert_eq!(kind, RootfsKind::Overlay);
    for root in [&copy, &merged] {
        let mut all = listing(&root.join("a"));
        all.extend(listing(&root.join("b")));
        assert_eq!(all, ["new", "stay", "kept"], "{}", root.display());
    }
    fs::write(merged.join("written"), "w").unwrap();
    unmount_rootfs(&merged).unwrap();
    assert_eq!(fs::read(dir.path().join("upper/written")).unwrap(), b"w");
    assert!(!merged.join("a").exists());
}
