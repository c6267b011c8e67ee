//! kill -9 at every step of `pull`, `load`, `import` and of the garbage
//! collection of `image prune`: each command runs once with
//! `YURTA_FAULT_TRACE` to learn its fault points, then once per hit of
//! every point with `YURTA_FAULT` set. After each kill the store must be
//! consistent (every listed image inspects and saves, every blob is whole),
//! a retry must succeed, and after `image prune -a -f` the files under the
//! root must be exactly those of before (lock files aside). New points are
//! covered without changing the test. Needs docker-registry and skopeo for
//! the pull, a static /bin/busybox.

mod common;

#[path = "common/store_check.rs"]
mod store_check;

use std::process::Output;

use serde_json::json;

use common::oci::{Layout, MANIFEST};
use common::registry::{skopeo_copy, Registry};
use common::{sh, tar_of, Yurta};
use store_check::{assert_consistent, assert_killed, fingerprint, hits, prune_all, specs};

const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";

fn run_env(y: &Yurta, args: &[&str], var: &str, value: &str) -> Output {
    y.cmd(args)
        .env(var, value)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// Runs `args` traced (it must succeed) and returns every hit of every
/// point it passed, checking that the points in `expected` are among them.
fn traced(y: &Yurta, args: &[&str], expected: &[&str]) -> Vec<String> {
    let trace = y.path("trace");
    let _ = std::fs::remove_file(&trace);
    let o = run_env(y, args, "YURTA_FAULT_TRACE", trace.to_str().unwrap());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hits = hits(&trace);
    for e in expected {
        assert!(hits.iter().any(|(p, _)| p == e), "{e} not in {hits:?}");
    }
    specs(&hits)
}

/// Kills `args` at every hit of every point it passes; see the module
/// documentation for what is checked after each.
fn kill_everywhere(y: &Yurta, args: &[&str], expected: &[&str]) -> Vec<String> {
    let specs = traced(y, args, expected);
    prune_all(y, "after the traced run");
    let before = fingerprint(&y.root());
    for spec in &specs {
        let o = run_env(y, args, "YURTA_FAULT", spec);
        assert_killed(&o, spec);
        assert_consistent(y, spec);
        let retry = y.run(args);
        assert_eq!(retry.code, 0, "{spec}: retry: {}", retry.stderr);
        assert_consistent(y, spec);
        prune_all(y, spec);
        assert_eq!(fingerprint(&y.root()), before, "{spec}: files left");
    }
    eprintln!("{} kills of {args:?}", specs.len());
    specs
}

/// Kills `image prune -a -f` at every hit of its points on a store made
/// by `setup`; afterwards the store is consistent and a prune finishes.
fn kill_prune_everywhere(y: &Yurta, setup: impl Fn(), expected: &[&str]) {
    let before = fingerprint(&y.root());
    setup();
    let specs = traced(y, &["image", "prune", "-a", "-f"], expected);
    assert_eq!(fingerprint(&y.root()), before, "the traced prune");
    for spec in &specs {
        setup();
        let o = run_env(y, &["image", "prune", "-a", "-f"], "YURTA_FAULT", spec);
        assert_killed(&o, spec);
        assert_consistent(y, spec);
        prune_all(y, spec);
        assert_eq!(fingerprint(&y.root()), before, "{spec}: files left");
    }
    eprintln!("{} kills of image prune", specs.len());
}

fn tar_bytes(dir: &std::path::Path) -> Vec<u8> {
    sh("tar", &["-C", dir.to_str().unwrap(), "-cf", "-", "."])
        .ok()
        .raw
}

/// A two-layer amd64 image (busybox, then a config file) in `reg` as
/// `faults/img:1`, layers gzipped by skopeo on the way.
fn registry_image(y: &Yurta, reg: &Registry) -> String {
    let layout = Layout::new(&y.path("layout"));
    let top = y.path("top");
    std::fs::create_dir_all(top.join("etc")).unwrap();
    std::fs::write(top.join("etc/app.conf"), "x = 1\n".repeat(20_000)).unwrap();
    let base = layout.blob(LAYER, &tar_bytes(&y.rootfs()));
    let top = layout.blob(LAYER, &tar_bytes(&top));
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [base["digest"], top["digest"]]},
    });
    let config = layout.blob(CONFIG, &serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2, "mediaType": MANIFEST, "config": config, "layers": [base, top],
    });
    let desc = layout.blob(MANIFEST, &serde_json::to_vec(&manifest).unwrap());
    layout.name(&desc, "1");
    let name = format!("{}/faults/img:1", reg.addr());
    skopeo_copy(
        &["--dest-compress"],
        &layout.source("1"),
        &format!("docker://{name}"),
    );
    name
}

fn host_is_amd64() -> bool {
    std::env::consts::ARCH == "x86_64"
}

#[test]
fn pull_and_prune_killed_at_every_step() {
    if !host_is_amd64() {
        eprintln!("skipped: the test image is amd64");
        return;
    }
    let reg = Registry::plain();
    let y = Yurta::new();
    let name = registry_image(&y, &reg);
    kill_everywhere(
        &y,
        &["pull", &name],
        &[
            "pull.manifest",
            "store.blob.written",
            "store.unpack.dir",
            "store.unpack.rename",
            "pull.layers",
            "store.catalog.written",
            "pull.recorded",
        ],
    );
    // A prune with everything to do: snapshots, blobs, and what a killed
    // import left in ingest/.
    let tar = y.path("rootfs.tar");
    tar_of(&y.path("rootfs"), &tar);
    let setup = || {
        y.run(&["pull", &name]).ok();
        let o = run_env(
            &y,
            &["import", tar.to_str().unwrap(), "half:1"],
            "YURTA_FAULT",
            "import.layer",
        );
        assert_killed(&o, "import.layer");
    };
    kill_prune_everywhere(
        &y,
        setup,
        &[
            "gc.decided",
            "gc.stale",
            "gc.snapshot",
            "gc.saved",
            "gc.blob",
        ],
    );
}

#[test]
fn load_killed_at_every_step() {
    let y = Yurta::new();
    let tar = y.path("rootfs.tar");
    tar_of(&y.rootfs(), &tar);
    y.run(&["import", tar.to_str().unwrap(), "src:1"]).ok();
    let docker = y.path("docker.tar");
    let oci = y.path("oci.tar");
    y.run(&["save", "-o", docker.to_str().unwrap(), "src:1"])
        .ok();
    let o = oci.to_str().unwrap();
    y.run(&["save", "--format", "oci-archive", "-o", o, "src:1"])
        .ok();
    for archive in [&docker, &oci] {
        kill_everywhere(
            &y,
            &["load", "-q", "-i", archive.to_str().unwrap()],
            &[
                "load.ingested",
                "load.verified",
                "store.blob.written",
                "store.blob.committed",
                "store.catalog.written",
                "load.recorded",
            ],
        );
    }
}

#[test]
fn import_killed_at_every_step() {
    let y = Yurta::new();
    let rootfs = y.path("small");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/motd"), "small\n".repeat(10_000)).unwrap();
    let tar = y.path("rootfs.tar");
    tar_of(&rootfs, &tar);
    kill_everywhere(
        &y,
        &["import", tar.to_str().unwrap(), "imported:1"],
        &[
            "import.layer",
            "store.blob.written",
            "store.blob.committed",
            "store.catalog.written",
            "import.recorded",
        ],
    );
}
