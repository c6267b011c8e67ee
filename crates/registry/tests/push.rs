//! Writing to a real registry: monolithic and chunked uploads, mounts,
//! manifests and a multi-platform index (amd64, arm64/v8, e2k/v6), checked
//! with skopeo.

mod common;

use std::process::Command;
use std::time::Duration;

use common::image::{image, Blob, Image, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST};
use serde_json::json;
use yurta_registry::{
    BlobPush, Client, ClientConfig, Digest, Error, PushedBlob, Reference, Repository, RetryPolicy,
    UploadMethod, MEDIA_OCI_INDEX,
};
use yurta_testutil::process::run;
use yurta_testutil::registry::{skopeo_copy, skopeo_raw, Registry};

fn client() -> Client {
    Client::new(
        ClientConfig::default()
            .certs_dirs(vec![])
            .retry(RetryPolicy {
                attempts: 2,
                base: Duration::from_millis(10),
                max: Duration::from_millis(10),
            }),
    )
}

fn repo(reg: &Registry, name: &str) -> Repository {
    Repository::parse(&format!("{}/{name}", reg.addr())).unwrap()
}

fn push(c: &Client, repo: &Repository, b: &Blob, method: UploadMethod) -> PushedBlob {
    let d: Digest = b.digest.parse().unwrap();
    let opts = BlobPush {
        method,
        ..Default::default()
    };
    c.push_blob(repo, &d, b.bytes.len() as u64, &mut &b.bytes[..], opts)
        .unwrap()
}

fn push_image(c: &Client, repo: &Repository, img: &Image, tag: &str, method: UploadMethod) {
    push(c, repo, &img.layer, method);
    push(c, repo, &img.config, method);
    let d = c
        .put_manifest(repo, tag, OCI_MANIFEST, &img.manifest.bytes)
        .unwrap();
    assert_eq!(d.to_string(), img.manifest.digest);
}

/// skopeo reads back what we pushed, into an OCI layout; compare the layer.
fn skopeo_reads_layer(reg: &Registry, name_tag: &str, img: &Image) {
    let out = tempfile::tempdir().unwrap();
    skopeo_copy(
        &[],
        &format!("docker://{}/{name_tag}", reg.addr()),
        &format!("oci:{}:x", out.path().display()),
    );
    let hex = img.layer.digest.strip_prefix("sha256:").unwrap();
    let layer = std::fs::read(out.path().join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(layer, img.layer.bytes);
}

#[test]
fn monolithic_upload() {
    let reg = Registry::plain();
    let c = client();
    let r = repo(&reg, "mono");
    let img = image("amd64", None, "mono", 300_000);
    let mut seen = 0;
    let mut progress = |done: u64, _: Option<u64>| seen = done;
    let opts = BlobPush {
        progress: Some(&mut progress),
        ..Default::default()
    };
    let d: Digest = img.layer.digest.parse().unwrap();
    let size = img.layer.bytes.len() as u64;
    let got = c.push_blob(&r, &d, size, &mut &img.layer.bytes[..], opts);
    assert_eq!(got.unwrap(), PushedBlob::Uploaded);
    assert_eq!(seen, size);
    push_image(&c, &r, &img, "1", UploadMethod::Monolithic);
    assert_eq!(
        push(&c, &r, &img.layer, UploadMethod::Monolithic),
        PushedBlob::Exists
    );
    skopeo_reads_layer(&reg, "mono:1", &img);
}

#[test]
fn chunked_upload() {
    let reg = Registry::plain();
    let c = client();
    let r = repo(&reg, "chunked");
    let img = image("amd64", None, "chunked", 300_000);
    // Several chunks and a short last one.
    let chunked = UploadMethod::Chunked {
        chunk_size: 64 * 1024,
    };
    assert!(
        img.layer.bytes.len() > 3 * 64 * 1024,
        "{}",
        img.layer.bytes.len()
    );
    push_image(&c, &r, &img, "1", chunked);
    skopeo_reads_layer(&reg, "chunked:1", &img);
    let m = c.get_manifest(&Reference::parse(&format!("{}/chunked:1", reg.addr())).unwrap());
    assert_eq!(m.unwrap().bytes, img.manifest.bytes);
}

#[test]
fn cross_repository_mount() {
    let reg = Registry::plain();
    let c = client();
    let (a, b) = (repo(&reg, "team/a"), repo(&reg, "team/b"));
    let img = image("amd64", None, "mount", 10_000);
    push_image(&c, &a, &img, "1", UploadMethod::Monolithic);
    let d: Digest = img.layer.digest.parse().unwrap();
    let opts = BlobPush {
        mount_from: Some("team/a"),
        ..Default::default()
    };
    let got = c.push_blob(&b, &d, 0, &mut std::io::empty(), opts).unwrap();
    assert_eq!(got, PushedBlob::Mounted);
    assert!(c.blob_exists(&b, &d).unwrap().is_some());
    // Config blob through the plain mount call.
    let cfg: Digest = img.config.digest.parse().unwrap();
    assert!(c.mount_blob(&b, &cfg, "team/a").unwrap());
    // Not in the source: no mount, and push_blob falls back to uploading.
    let other = image("amd64", None, "other", 0);
    let od: Digest = other.layer.digest.parse().unwrap();
    assert!(!c.mount_blob(&b, &od, "team/a").unwrap());
    let opts = BlobPush {
        mount_from: Some("team/a"),
        ..Default::default()
    };
    let size = other.layer.bytes.len() as u64;
    let got = c.push_blob(&b, &od, size, &mut &other.layer.bytes[..], opts);
    assert_eq!(got.unwrap(), PushedBlob::Uploaded);
}

#[test]
fn data_that_is_not_the_digest_is_refused() {
    let reg = Registry::plain();
    let c = client();
    let r = repo(&reg, "bad");
    let img = image("amd64", None, "bad", 0);
    let d: Digest = img.layer.digest.parse().unwrap();
    let mut wrong = img.layer.bytes.clone();
    wrong[10] ^= 1;
    for method in [
        UploadMethod::Monolithic,
        UploadMethod::Chunked { chunk_size: 100 },
    ] {
        let opts = BlobPush {
            method,
            ..Default::default()
        };
        let e = c
            .push_blob(&r, &d, wrong.len() as u64, &mut &wrong[..], opts)
            .unwrap_err();
        assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
        assert!(e.to_string().contains(&img.layer.digest), "{e}");
    }
    let short = &img.layer.bytes[..10];
    let size = img.layer.bytes.len() as u64;
    let e = c
        .push_blob(&r, &d, size, &mut &short[..], BlobPush::default())
        .unwrap_err();
    assert!(
        matches!(e, Error::Read { .. }) && e.to_string().contains("10 of"),
        "{e}"
    );
    assert_eq!(c.blob_exists(&r, &d).unwrap(), None);
}

fn platform(img: &Image) -> serde_json::Value {
    let mut p = json!({"os": "linux", "architecture": img.arch});
    if let Some(v) = &img.variant {
        p["variant"] = json!(v);
    }
    p
}

#[test]
fn multi_platform_index() {
    let reg = Registry::plain();
    let c = client();
    let r = repo(&reg, "multi");
    let images = [
        image("amd64", None, "x86", 1000),
        image("arm64", Some("v8"), "arm", 1000),
        image("e2k", Some("v6"), "elbrus", 1000),
    ];
    let mut entries = Vec::new();
    for img in &images {
        push_image(&c, &r, img, &img.manifest.digest, UploadMethod::Monolithic);
        let mut desc = img.manifest.descriptor(OCI_MANIFEST);
        desc["platform"] = platform(img);
        entries.push(desc);
    }
    let index = json!({"schemaVersion": 2, "mediaType": MEDIA_OCI_INDEX, "manifests": entries});
    let index = serde_json::to_vec(&index).unwrap();
    let d = c.put_manifest(&r, "1", MEDIA_OCI_INDEX, &index).unwrap();

    let name = format!("{}/multi:1", reg.addr());
    assert_eq!(skopeo_raw(&format!("docker://{name}")), index);
    let got = c.get_manifest(&Reference::parse(&name).unwrap()).unwrap();
    assert!(got.is_index());
    assert_eq!((got.digest, got.bytes), (d, index));

    // skopeo picks the e2k/v6 entry of our index.
    let out = tempfile::tempdir().unwrap();
    run(Command::new("skopeo").args([
        "--insecure-policy",
        "--override-arch=e2k",
        "--override-variant=v6",
        "copy",
        "--src-tls-verify=false",
        "--quiet",
        &format!("docker://{name}"),
        &format!("oci:{}:e2k", out.path().display()),
    ]));
    let e2k = &images[2];
    let hex = e2k.layer.digest.strip_prefix("sha256:").unwrap();
    assert!(out.path().join("blobs/sha256").join(hex).exists());
    let raw = skopeo_raw(&format!(
        "docker://{}/multi@{}",
        reg.addr(),
        e2k.manifest.digest
    ));
    assert_eq!(raw, e2k.manifest.bytes);
    let _ = (OCI_CONFIG, OCI_LAYER);
}
