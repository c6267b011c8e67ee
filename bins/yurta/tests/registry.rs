//! pull and push against a real registry (Debian's docker-registry on
//! 127.0.0.1, plain http), filled and read back by skopeo and podman.
//! Needs docker-registry, skopeo, a static /bin/busybox, and for the podman
//! parts podman with runc (`YURTA_SKIP_PODMAN_TESTS=1` skips those parts).

mod common;

use common::oci::Layout;
use common::podman::{self, PodmanImage};
use common::registry::{skopeo_copy, Registry};
use common::{sh, tar_of, Out, Yurta};

fn inspect(y: &Yurta, field: &str, image: &str) -> String {
    let f = format!("{{{{{field}}}}}");
    y.run(&["image", "inspect", "--format", &f, image])
        .ok()
        .stdout
        .trim()
        .to_string()
}

/// A one-layer busybox image in `reg` as `name`, copied in by skopeo.
fn skopeo_image(y: &Yurta, reg: &Registry, name: &str) -> serde_json::Value {
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    skopeo_copy(
        &[],
        &layout.source("1"),
        &format!("docker://{}/{name}", reg.addr()),
    );
    desc
}

/// What the registry holds under `name`, as raw bytes (skopeo may have
/// compressed layers on the way, so the layout's digests do not hold).
fn raw_manifest(name: &str) -> (String, serde_json::Value) {
    let url = format!("docker://{name}");
    let raw = sh("skopeo", &["inspect", "--raw", "--tls-verify=false", &url]).ok();
    let digest = yurta_registry::sha256_digest(&raw.raw).to_string();
    (digest, serde_json::from_slice(&raw.raw).unwrap())
}

fn assert_one_line_error(out: &Out, needle: &str) {
    assert_eq!(
        out.code, 125,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("yurta: "), "{}", out.stderr);
    assert!(out.stderr.contains(needle), "{needle:?} in {}", out.stderr);
}

#[test]
fn pull_by_tag_then_by_digest() {
    let reg = Registry::plain();
    let y = Yurta::new();
    let name = format!("{}/pushed/by-podman:1", reg.addr());
    if podman::skipped() {
        skopeo_image(&y, &reg, "pushed/by-podman:1");
    } else {
        let tarball = y.path("rootfs.tar");
        tar_of(&y.rootfs(), &tarball);
        let local = format!("localhost/yurta-pull-{}:1", std::process::id());
        let _cleanup = PodmanImage(local.clone());
        sh("podman", &["import", tarball.to_str().unwrap(), &local]).ok();
        let dest = format!("docker://{name}");
        sh(
            "podman",
            &["push", "-q", "--tls-verify=false", &local, &dest],
        )
        .ok();
    }
    let out = y.run(&["pull", &name]).ok();
    for want in [
        "1: Pulling from pushed/by-podman",
        ": Pull complete",
        "Digest: sha256:",
    ] {
        assert!(out.stdout.contains(want), "{want:?} in {}", out.stdout);
    }
    assert!(out.stdout.contains(&format!(
        "Status: Downloaded newer image for {name}\n{name}\n"
    )));
    let digest = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap()
        .to_string();
    let repo = name.trim_end_matches(":1");
    let repo_digests = inspect(&y, ".RepoDigests", &name);
    assert!(
        repo_digests.contains(&format!("{repo}@{digest}")),
        "{repo_digests}"
    );
    let again = y.run(&["pull", &name]).ok();
    assert!(again.stdout.contains("Already exists"), "{}", again.stdout);
    assert!(again.stdout.contains("Status: Image is up to date for"));

    // By digest into another store: no tag, found by name@digest.
    let other = Yurta::new();
    let pinned = format!("{repo}@{digest}");
    other.run(&["pull", "-q", &pinned]).ok();
    assert_eq!(inspect(&other, ".Id", &pinned), inspect(&y, ".Id", &name));
    let listed = other.run(&["images"]).ok().stdout;
    assert!(listed.contains("<none>"), "{listed}");
    let run = other.run(&["images", "-q"]).ok();
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn platforms_of_a_multi_platform_index() {
    let reg = Registry::plain();
    let y = Yurta::new();
    let rootfs = y.rootfs();
    let layout = Layout::new(&y.path("layout"));
    let entries = [
        layout.image(&rootfs, "amd64", None),
        layout.image(&rootfs, "arm64", Some("v8")),
        layout.image(&rootfs, "e2k", Some("v6")),
    ];
    let index = layout.index(&entries);
    layout.name(&index, "multi");
    let name = format!("{}/multi/base:1", reg.addr());
    skopeo_copy(
        &["--all"],
        &layout.source("multi"),
        &format!("docker://{name}"),
    );
    let (index_digest, _) = raw_manifest(&name);

    for (wanted, arch, variant) in [
        ("linux/e2k/v6", "e2k", "v6"),
        ("linux/e2k/v7", "e2k", "v6"),
        ("linux/arm64", "arm64", "v8"),
        ("linux/amd64", "amd64", ""),
    ] {
        let fresh = Yurta::new();
        fresh.run(&["pull", "-q", "--platform", wanted, &name]).ok();
        let json = fresh.run(&["image", "inspect", &name]).ok().stdout;
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(json[0]["Architecture"], arch, "{wanted}");
        assert_eq!(
            json[0]["Variant"].as_str().unwrap_or(""),
            variant,
            "{wanted}"
        );
        let repo_digests = inspect(&fresh, ".RepoDigests", &name);
        assert!(repo_digests.contains(&index_digest), "{repo_digests}");
    }
    let out = y.run(&["pull", "--platform", "linux/e2k/v4", &name]);
    assert_one_line_error(&out, "it has linux/amd64, linux/arm64/v8, linux/e2k/v6");
    assert!(out.stderr.contains("linux/e2k/v4"), "{}", out.stderr);
    assert!(y.run(&["images", "-q"]).ok().stdout.is_empty());
}

#[test]
fn push_is_read_by_skopeo_and_podman() {
    let reg = Registry::plain();
    let y = Yurta::new();
    let name = format!("{}/yurta/pushed:1", reg.addr());
    let rootfs = y.rootfs();
    y.run(&[
        "import",
        "-c",
        "CMD [\"/bin/sh\"]",
        rootfs.to_str().unwrap(),
        &name,
    ])
    .ok();
    let out = y.run(&["push", &name]).ok();
    assert!(out.stdout.starts_with(&format!(
        "The push refers to repository [{}/yurta/pushed]\n",
        reg.addr()
    )));
    assert!(out.stdout.contains(": Pushed\n"), "{}", out.stdout);
    let digest = out.stdout.split("digest: ").nth(1).unwrap()[..71].to_string();
    let ours = inspect(&y, ".Id", &name);

    let raw = sh(
        "skopeo",
        &["inspect", "--tls-verify=false", &format!("docker://{name}")],
    )
    .ok();
    let theirs: serde_json::Value = serde_json::from_str(&raw.stdout).unwrap();
    assert_eq!(theirs["Digest"], digest.as_str());
    assert_eq!(theirs["Architecture"], "amd64");
    let (manifest_digest, manifest) = raw_manifest(&name);
    assert_eq!(manifest_digest, digest);
    assert_eq!(manifest["config"]["digest"], ours.as_str());

    // podman's two-argument form to another repository: mounted, not uploaded.
    let other = format!("{}/elsewhere/copy:2", reg.addr());
    let out = y.run(&["push", &name, &other]).ok();
    assert!(
        out.stdout.contains(": Mounted from yurta/pushed"),
        "{}",
        out.stdout
    );
    let out = y.run(&["push", &name]).ok();
    assert!(
        out.stdout.contains(": Layer already exists"),
        "{}",
        out.stdout
    );
    let quiet = y.run(&["push", "-q", &name]).ok();
    assert_eq!(quiet.stdout.trim(), digest);

    if !podman::skipped() {
        let _cleanup = PodmanImage(other.clone());
        sh("podman", &["pull", "-q", "--tls-verify=false", &other]).ok();
        let ran = sh("podman", &["run", "--rm", &other, "echo", "ok"]).ok();
        assert_eq!(ran.stdout, "ok\n");
    }
}

#[test]
fn missing_tag_is_one_clear_line() {
    let reg = Registry::plain();
    let y = Yurta::new();
    skopeo_image(&y, &reg, "here/img:1");
    let name = format!("{}/here/img:nope", reg.addr());
    let out = y.run(&["pull", &name]);
    assert_one_line_error(&out, &format!("pull {name}: "));
    assert!(out.stderr.contains("manifest unknown"), "{}", out.stderr);
    let out = y.run(&["push", "nothing:1"]);
    assert_one_line_error(&out, "push nothing:1: no such image");
    assert!(y.run(&["images", "-q"]).ok().stdout.is_empty());
}

/// A registry serving wrong bytes (same length, then fewer): a digest or
/// size error naming the blob, and nothing of it in the store.
#[test]
fn corrupted_blob_is_refused_and_nothing_stored() {
    let reg = Registry::plain();
    let y = Yurta::new();
    skopeo_image(&y, &reg, "bad/img:1");
    let name = format!("{}/bad/img:1", reg.addr());
    let (_, manifest) = raw_manifest(&name);
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let hex = layer.trim_start_matches("sha256:").to_string();
    let file = reg.blob_file(&layer);
    let mut bytes = std::fs::read(&file).unwrap();
    let store = y.root().join("images");

    bytes[1000] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let out = y.run(&["pull", &name]);
    assert_one_line_error(&out, &format!("layer {layer}: digest mismatch"));
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&file, &bytes).unwrap();
    let out = y.run(&["pull", &name]);
    assert_one_line_error(&out, "bytes, got");

    assert!(y.run(&["images", "-q"]).ok().stdout.is_empty());
    assert!(!store.join("blobs/sha256").join(&hex).exists());
    assert!(!store.join("ingest").join(format!("{hex}.partial")).exists());
    let snapshots: Vec<_> = std::fs::read_dir(store.join("snapshots"))
        .unwrap()
        .collect();
    assert!(snapshots.is_empty(), "{snapshots:?}");
}
