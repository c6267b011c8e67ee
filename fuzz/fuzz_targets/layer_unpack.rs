//! Layer extraction (`yurta_images::layers::unpack`) of a hostile tar,
//! gzip or zstd stream into a fresh directory, both whiteout modes.
//!
//! Each process gets a sandbox `/tmp/yurta-fuzz-layer.<pid>/` holding the
//! snapshot root `root/` and a `canary/` beside it. After every input the
//! sandbox must hold exactly those two, and the canary must be untouched
//! (contents, mode, owner, times, link count, no new names): a layer that
//! escaped its root through `..`, a symlink or a hardlink would show there.
//! Relative symlinks in the seed corpus point at `../canary`.

#![no_main]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use yurta_images::layers::unpack;
use yurta_images::Whiteouts;

const CANARY_TEXT: &[u8] = b"the layer must not reach this file\n";

struct Sandbox {
    dir: PathBuf,
    root: PathBuf,
    canary: PathBuf,
    /// What the canary and its files look like before any layer.
    before: Vec<Stamp>,
}

/// (name, size, mode, uid, gid, mtime, nlink, contents).
type Stamp = (String, u64, u32, u32, u32, i64, u64, Vec<u8>);

fn stamp_tree(dir: &Path) -> Vec<Stamp> {
    let mut out = vec![stamp(dir, ".")];
    let mut names: Vec<_> = fs::read_dir(dir)
        .expect("read canary")
        .map(|e| e.expect("canary entry").file_name())
        .collect();
    names.sort();
    for n in names {
        out.push(stamp(&dir.join(&n), &n.to_string_lossy()));
    }
    out
}

fn stamp(path: &Path, name: &str) -> Stamp {
    let m = fs::symlink_metadata(path).expect("stat canary");
    let content = if m.is_file() {
        fs::read(path).expect("read canary file")
    } else {
        Vec::new()
    };
    (
        name.to_string(),
        m.len(),
        m.mode(),
        m.uid(),
        m.gid(),
        m.mtime(),
        m.nlink(),
        content,
    )
}

extern "C" fn remove_sandbox() {
    if let Some(s) = SANDBOX.get() {
        let _ = fs::remove_dir_all(&s.dir);
    }
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

fn sandbox() -> &'static Sandbox {
    SANDBOX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("yurta-fuzz-layer.{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let canary = dir.join("canary");
        fs::create_dir_all(&canary).expect("create sandbox");
        fs::write(canary.join("file"), CANARY_TEXT).expect("write canary");
        fs::create_dir(canary.join("dir")).expect("create canary dir");
        // SAFETY: registering a plain extern "C" function with no arguments.
        unsafe { libc::atexit(remove_sandbox) };
        Sandbox {
            root: dir.join("root"),
            before: stamp_tree(&canary),
            canary,
            dir,
        }
    })
}

fn check_sandbox(s: &Sandbox) {
    let mut names: Vec<_> = fs::read_dir(&s.dir)
        .expect("read sandbox")
        .map(|e| e.expect("sandbox entry").file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["canary", "root"],
        "a layer created a name beside its root"
    );
    assert_eq!(
        stamp_tree(&s.canary),
        s.before,
        "a layer changed the canary"
    );
    let root = fs::symlink_metadata(&s.root).expect("stat root");
    assert!(root.is_dir(), "the root is no longer a directory");
}

fuzz_target!(|data: &[u8]| {
    let s = sandbox();
    let (mode, layer) = match data.split_first() {
        Some((m, rest)) if m & 1 == 1 => (Whiteouts::Apply, rest),
        Some((_, rest)) => (Whiteouts::Overlay, rest),
        None => return,
    };
    if s.root.exists() {
        fs::remove_dir_all(&s.root).expect("clean root");
    }
    fs::create_dir(&s.root).expect("create root");
    let result = unpack(layer, &s.root, mode);
    check_sandbox(s);
    // The error must name something: an empty message is no help to a user.
    if let Err(e) = result {
        assert!(!e.to_string().is_empty());
    }
});
