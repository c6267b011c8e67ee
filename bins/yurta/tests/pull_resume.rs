//! A pull killed with SIGKILL mid-download leaves nothing visible (no
//! image, no blob, only `ingest/<hex>.partial`), and the next pull resumes
//! from that file: it says so and downloads only the rest, as counted by a
//! proxy in front of the registry. Needs docker-registry and skopeo.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::oci::Layout;
use common::proxy::Proxy;
use common::registry::{skopeo_copy, Registry};
use common::{sh, Yurta};

const BIG: usize = 96 << 20;

/// A rootfs with BIG bytes of noise, which no compression shrinks.
fn big_rootfs(y: &Yurta) -> std::path::PathBuf {
    let rootfs = y.rootfs();
    let mut f = std::fs::File::create(rootfs.join("noise")).unwrap();
    let urandom = std::fs::File::open("/dev/urandom").unwrap();
    std::io::copy(&mut std::io::Read::take(urandom, BIG as u64), &mut f).unwrap();
    rootfs
}

fn partial_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .map(|e| e.metadata().unwrap().len())
        .max()
        .unwrap_or(0)
}

#[test]
fn killed_pull_resumes() {
    let reg = Registry::plain();
    let y = Yurta::new();
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&big_rootfs(&y), "amd64", None);
    layout.name(&desc, "1");
    skopeo_copy(
        &[],
        &layout.source("1"),
        &format!("docker://{}/big/img:1", reg.addr()),
    );

    let proxy = Proxy::start(reg.port);
    let name = format!("{}/big/img:1", proxy.addr());
    let ingest = y.root().join("images/ingest");
    let mut child = y.cmd(&["pull", &name]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ingest.is_dir() || partial_size(&ingest) < 16 << 20 {
        assert!(Instant::now() < deadline, "the pull did not get going");
        assert!(child.try_wait().unwrap().is_none(), "the pull ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let kept = partial_size(&ingest);
    assert!(
        kept >= 16 << 20 && kept < BIG as u64,
        "partial file of {kept} bytes"
    );
    assert!(
        y.run(&["images", "-q"]).ok().stdout.is_empty(),
        "nothing visible"
    );
    let blobs = std::fs::read_dir(y.root().join("images/blobs/sha256")).unwrap();
    let big_blobs = blobs
        .flatten()
        .filter(|b| b.metadata().unwrap().len() > 1 << 20)
        .count();
    assert_eq!(big_blobs, 0, "no partial layer under blobs/");

    proxy.slow.store(false, Ordering::SeqCst);
    proxy.down.store(0, Ordering::SeqCst);
    let out = y.run(&["pull", &name]).ok();
    assert!(
        out.stdout.contains(": Resuming download at "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(": Pull complete"), "{}", out.stdout);
    let moved = proxy.down.load(Ordering::SeqCst);
    let layer = std::fs::read_dir(y.root().join("images/blobs/sha256"))
        .unwrap()
        .flatten()
        .map(|b| b.metadata().unwrap().len())
        .max()
        .unwrap();
    assert!(
        moved + kept <= layer + (1 << 20),
        "second pull moved {moved} bytes; {kept} of {layer} were kept"
    );
    assert_eq!(partial_size(&ingest), 0, "the partial file became the blob");
    // The unpacked layer is whole.
    let snapshots = y.root().join("images/snapshots");
    let found = sh(
        "find",
        &[
            snapshots.to_str().unwrap(),
            "-name",
            "noise",
            "-size",
            "+90M",
        ],
    )
    .ok();
    assert_eq!(found.stdout.lines().count(), 1, "{}", found.stdout);
}
