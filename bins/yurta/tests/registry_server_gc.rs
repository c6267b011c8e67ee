//! `yurta registry gc` against a running `yurta registry serve`: what no
//! manifest names goes (after the grace, and never in the first gc run
//! that sees it), what manifests name stays, abandoned uploads go, and a
//! push that races gc runs loses nothing. Needs skopeo and a static
//! /bin/busybox.

mod common;
mod regsrv;

use common::oci::Layout;
use common::registry::skopeo_copy;
use common::Yurta;
use regsrv::http::request;
use regsrv::{digest, gc, Server};
use serde_json::json;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn post_blob(a: &str, repo: &str, blob: &[u8]) -> String {
    let d = digest(blob);
    let r = request(
        a,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?digest={d}"),
        &[],
        blob,
    );
    assert_eq!(r.status, 201);
    d
}

fn manifest(config: &str, layer: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 5}],
    }))
    .unwrap()
}

fn blob_status(a: &str, repo: &str, d: &str) -> u16 {
    request(a, "GET", &format!("/v2/{repo}/blobs/{d}"), &[], b"").status
}

#[test]
fn unreferenced_blobs_go_after_a_second_run_and_referenced_ones_stay() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let config = post_blob(&a, "g/app", b"{}");
    let layer = post_blob(&a, "g/app", b"layer");
    let m = manifest(&config, &layer);
    let r = request(
        &a,
        "PUT",
        "/v2/g/app/manifests/1",
        &[("Content-Type", OCI_MANIFEST)],
        &m,
    );
    assert_eq!(r.status, 201);
    let orphan = post_blob(&a, "g/app", b"pushed, never named");

    let first = gc(&srv.storage(), &["--grace", "0"]);
    assert!(first.starts_with("removed 0 blobs"), "{first}");
    assert!(first.contains("kept 1 recently pushed"), "{first}");
    assert_eq!(blob_status(&a, "g/app", &orphan), 200);
    let dry = gc(&srv.storage(), &["--grace", "0", "--dry-run"]);
    assert!(dry.starts_with("would remove 1 blobs (19 bytes)"), "{dry}");
    assert_eq!(blob_status(&a, "g/app", &orphan), 200);
    let second = gc(&srv.storage(), &["--grace", "0"]);
    assert!(second.starts_with("removed 1 blobs (19 bytes)"), "{second}");
    assert_eq!(blob_status(&a, "g/app", &orphan), 404);
    for d in [&config, &layer] {
        assert_eq!(blob_status(&a, "g/app", d), 200);
    }

    // A long grace keeps what is young, however many runs.
    let kept = post_blob(&a, "g/app", b"young");
    for _ in 0..3 {
        gc(&srv.storage(), &[]);
    }
    assert_eq!(blob_status(&a, "g/app", &kept), 200);

    // Once the manifest is deleted its blobs go too.
    let dm = digest(&m);
    assert_eq!(
        request(&a, "DELETE", &format!("/v2/g/app/manifests/{dm}"), &[], b"").status,
        202
    );
    let out = gc(&srv.storage(), &["--grace", "0"]);
    assert!(out.starts_with("removed 4 blobs"), "{out}");
    for d in [&config, &layer] {
        assert_eq!(blob_status(&a, "g/app", d), 404);
    }
}

#[test]
fn a_push_between_gc_runs_keeps_its_blobs() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    // Half an upload, then gc; the rest, then gc; then the manifest.
    let loc = request(&a, "POST", "/v2/g/push/blobs/uploads/", &[], b"")
        .header("location")
        .unwrap()
        .to_string();
    assert_eq!(
        request(&a, "PATCH", &loc, &[("Content-Range", "0-1")], b"la").status,
        202
    );
    gc(&srv.storage(), &["--grace", "0"]);
    assert_eq!(
        request(&a, "PATCH", &loc, &[("Content-Range", "2-4")], b"yer").status,
        202
    );
    let layer = digest(b"layer");
    assert_eq!(
        request(&a, "PUT", &format!("{loc}?digest={layer}"), &[], b"").status,
        201
    );
    gc(&srv.storage(), &["--grace", "0"]);
    let config = post_blob(&a, "g/push", b"{}");
    let r = request(
        &a,
        "PUT",
        "/v2/g/push/manifests/1",
        &[("Content-Type", OCI_MANIFEST)],
        &manifest(&config, &layer),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    gc(&srv.storage(), &["--grace", "0"]);
    assert_eq!(blob_status(&a, "g/push", &layer), 200);
}

#[test]
fn abandoned_uploads_are_purged() {
    let srv = Server::start(&[]);
    let a = srv.addr();
    let loc = request(&a, "POST", "/v2/g/gone/blobs/uploads/", &[], b"")
        .header("location")
        .unwrap()
        .to_string();
    assert_eq!(request(&a, "PATCH", &loc, &[], b"half").status, 202);
    let first = gc(&srv.storage(), &["--grace", "0"]);
    assert!(first.contains("and 0 abandoned uploads"), "{first}");
    assert_eq!(request(&a, "GET", &loc, &[], b"").status, 204);
    let second = gc(&srv.storage(), &["--grace", "0"]);
    assert!(second.contains("and 1 abandoned uploads"), "{second}");
    let r = request(&a, "GET", &loc, &[], b"");
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (404, Some("BLOB_UPLOAD_UNKNOWN"))
    );
}

#[test]
fn skopeo_pushes_while_gc_runs_in_a_loop() {
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let layout = Layout::new(&y.path("layout"));
    let desc = layout.image(&y.rootfs(), "amd64", None);
    layout.name(&desc, "1");
    let (src, dest) = (
        layout.source("1"),
        format!("docker://{}/g/raced:1", srv.addr()),
    );
    let pusher = std::thread::spawn(move || skopeo_copy(&[], &src, &dest));
    let mut runs = 0;
    while !pusher.is_finished() || runs < 2 {
        gc(&srv.storage(), &[]);
        runs += 1;
    }
    pusher.join().unwrap();
    gc(&srv.storage(), &[]);
    let out = y.path("out");
    skopeo_copy(
        &[],
        &format!("docker://{}/g/raced:1", srv.addr()),
        &format!("oci:{}:1", out.display()),
    );
    assert!(out.join("index.json").exists());
}
