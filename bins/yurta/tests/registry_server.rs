//! `yurta registry serve` with real clients: skopeo copies images in and
//! out (single and multi-platform, between repositories by mount), and
//! yurta's own push and pull. Needs skopeo, a static /bin/busybox, and
//! readelf (binutils).

mod common;
mod regsrv;

use std::process::Command;

use common::oci::Layout;
use common::registry::skopeo_copy;
use common::{sh, Yurta};
use regsrv::http::request;
use regsrv::Server;

/// `skopeo inspect --raw` of `reference` (plain http).
fn raw(reference: &str) -> Vec<u8> {
    sh(
        "skopeo",
        &["inspect", "--raw", "--tls-verify=false", reference],
    )
    .ok()
    .raw
}

#[test]
fn skopeo_copies_an_image_in_and_out_unchanged() {
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    let dest = format!("docker://{}/e2k/base:1", srv.addr());
    skopeo_copy(&[], &layout.source("1"), &dest);

    // skopeo may compress the layer on the way: the registry's manifest
    // is the reference from here on.
    let manifest = raw(&dest);
    let digest = regsrv::digest(&manifest);
    let head = request(&srv.addr(), "HEAD", "/v2/e2k/base/manifests/1", &[], b"");
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));
    let out_dir = y.path("out");
    skopeo_copy(&[], &dest, &format!("oci:{}:1", out_dir.display()));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let copied = out_dir
        .join("blobs/sha256")
        .join(layer.strip_prefix("sha256:").unwrap());
    assert_eq!(regsrv::digest(&std::fs::read(copied).unwrap()), layer);

    // By digest too, and the tag is listed.
    let by_digest = format!("docker://{}/e2k/base@{digest}", srv.addr());
    assert_eq!(raw(&by_digest), manifest);
    let tags = request(&srv.addr(), "GET", "/v2/e2k/base/tags/list", &[], b"");
    assert_eq!(tags.json()["tags"], serde_json::json!(["1"]));
}

#[test]
fn a_multi_platform_index_with_e2k_entries_round_trips() {
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let layout = Layout::new(&y.path("layout"));
    let rootfs = y.rootfs();
    let amd = layout.image(&rootfs, "amd64", None);
    std::fs::write(rootfs.join("etc/motd"), "e2k v6\n").unwrap();
    let e2k = layout.image(&rootfs, "e2k", Some("v6"));
    let index = layout.index(&[amd.clone(), e2k.clone()]);
    layout.name(&index, "multi");
    let dest = format!("docker://{}/multi/app:1", srv.addr());
    skopeo_copy(
        &["--all", "--preserve-digests"],
        &layout.source("multi"),
        &dest,
    );
    let got: serde_json::Value = serde_json::from_slice(&raw(&dest)).unwrap();
    assert_eq!(got["manifests"][1]["platform"]["variant"], "v6");
    let head = request(&srv.addr(), "HEAD", "/v2/multi/app/manifests/1", &[], b"");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some(common::oci::INDEX));
    assert_eq!(
        head.header("docker-content-digest"),
        index["digest"].as_str()
    );
    for entry in [&amd, &e2k] {
        let path = format!(
            "/v2/multi/app/manifests/{}",
            entry["digest"].as_str().unwrap()
        );
        let m = request(&srv.addr(), "GET", &path, &[], b"");
        assert_eq!(m.status, 200);
        assert_eq!(regsrv::digest(&m.body), entry["digest"].as_str().unwrap());
    }
}

#[test]
fn copying_between_repositories_mounts_the_blobs() {
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    let a = format!("docker://{}/team-a/app:1", srv.addr());
    let b = format!("docker://{}/team-b/app:1", srv.addr());
    skopeo_copy(&[], &layout.source("1"), &a);
    skopeo_copy(&[], &a, &b);
    assert_eq!(raw(&a), raw(&b));
    let catalog = request(&srv.addr(), "GET", "/v2/_catalog", &[], b"");
    assert_eq!(
        catalog.json()["repositories"],
        serde_json::json!(["team-a/app", "team-b/app"])
    );
}

#[test]
fn yurta_pushes_and_pulls_its_own_images() {
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let tarball = y.path("rootfs.tar");
    common::tar_of(&y.rootfs(), &tarball);
    let name = format!("{}/mine/busybox:1", srv.addr());
    y.run(&["import", tarball.to_str().unwrap(), &name]).ok();
    let pushed = y.run(&["push", "-q", &name]).ok();
    let digest = pushed.stdout.trim().to_string();
    assert!(digest.starts_with("sha256:"), "{}", pushed.stdout);

    let other = Yurta::new();
    let out = other.run(&["pull", &name]).ok();
    assert!(out.stdout.contains(&digest), "{}", out.stdout);
    let listed = other
        .run(&["images", "--digests", "--format", "{{.Digest}}"])
        .ok();
    assert_eq!(listed.stdout.trim(), digest);
}

#[test]
fn only_the_server_binary_links_openssl() {
    let needed = |bin: &str| {
        let out = Command::new("readelf").args(["-d", bin]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).contains("libssl")
    };
    assert!(!needed(env!("CARGO_BIN_EXE_yurta")));
    assert!(needed(env!("CARGO_BIN_EXE_yurta-registry-server")));
    let help = Command::new(env!("CARGO_BIN_EXE_yurta"))
        .args(["registry", "serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--storage",
        "--tls-cert",
        "--htpasswd",
        "--read-only",
        "--config",
        "--insecure",
    ] {
        assert!(help.contains(flag), "{flag} in {help}");
    }
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_yurta"))
        .args(["registry", "serve", "--listen", "0.0.0.0:1", "--storage"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.starts_with("yurta: refusing to serve plain HTTP on 0.0.0.0:1"),
        "{err}"
    );
}
