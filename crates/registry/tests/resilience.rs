//! What a real registry does not do on demand, with a stub server:
//! 5xx then success, bodies cut mid-way (resumed with Range), servers that
//! ignore Range, redirects to blob storage, manifests that lie.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::stub::{Stub, StubResponse};
use yurta_registry::{
    sha256_digest, BlobFetch, Client, ClientConfig, Credentials, Error, Reference, Repository,
    RetryPolicy,
};

fn client(stub: &Stub, attempts: u32) -> Client {
    Client::new(
        ClientConfig::default()
            .certs_dirs(vec![])
            .insecure_registry(&stub.addr())
            .retry(RetryPolicy {
                attempts,
                base: Duration::from_millis(5),
                max: Duration::from_millis(20),
            }),
    )
}

fn blob() -> Arc<Vec<u8>> {
    Arc::new((0..100_000u32).map(|i| (i % 251) as u8).collect())
}

fn repo(stub: &Stub) -> Repository {
    Repository::parse(&format!("{}/r", stub.addr())).unwrap()
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let manifest = br#"{"schemaVersion":2,"layers":[]}"#.to_vec();
    let m = manifest.clone();
    let stub = Stub::start(move |_, i| match i {
        0 | 1 => StubResponse::new(503, "busy"),
        _ => StubResponse::new(200, m.clone())
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
    });
    let r = Reference::parse(&format!("{}/r:1", stub.addr())).unwrap();
    let got = client(&stub, 3).get_manifest(&r).unwrap();
    assert_eq!(got.bytes, manifest);
    assert_eq!(stub.requests().len(), 3);

    let stub = Stub::start(|_, _| StubResponse::new(503, "busy"));
    let r = Reference::parse(&format!("{}/r:1", stub.addr())).unwrap();
    let e = client(&stub, 2).get_manifest(&r).unwrap_err();
    assert_eq!(e.status(), Some(503), "{e}");
    assert!(e.to_string().contains("/v2/r/manifests/1"), "{e}");
    assert_eq!(stub.requests().len(), 2);
}

/// Serves the blob: the first response is cut after 30000 bytes; later ones
/// honour Range unless `ignore_range`.
fn flaky_blob_server(data: Arc<Vec<u8>>, ignore_range: bool) -> Stub {
    Stub::start(move |req, i| {
        let range = req.header("range").and_then(|r| r.strip_prefix("bytes="));
        let start: usize = range
            .and_then(|r| r.trim_end_matches('-').parse().ok())
            .unwrap_or(0);
        if i == 0 {
            let mut r = StubResponse::new(200, data.to_vec());
            r.cut_after = Some(30_000);
            return r;
        }
        if ignore_range || start == 0 {
            return StubResponse::new(200, data.to_vec());
        }
        let cr = format!("bytes {start}-{}/{}", data.len() - 1, data.len());
        StubResponse::new(206, data[start..].to_vec()).header("Content-Range", cr)
    })
}

#[test]
fn cut_bodies_resume_with_range() {
    let data = blob();
    let d = sha256_digest(&data);
    for ignore_range in [false, true] {
        let stub = flaky_blob_server(data.clone(), ignore_range);
        let mut out = Vec::new();
        let opts = BlobFetch {
            size: Some(data.len() as u64),
            ..Default::default()
        };
        let n = client(&stub, 3)
            .get_blob(&repo(&stub), &d, &mut out, opts)
            .unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(out, *data, "ignore_range={ignore_range}");
        let reqs = stub.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[1].header("range"), Some("bytes=30000-"));
    }
}

#[test]
fn cut_body_without_retries_is_an_error_naming_the_blob() {
    let data = blob();
    let d = sha256_digest(&data);
    let stub = flaky_blob_server(data, false);
    let e = client(&stub, 1)
        .get_blob(&repo(&stub), &d, &mut Vec::new(), BlobFetch::default())
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert!(e.to_string().contains(&format!("/v2/r/blobs/{d}")), "{e}");
}

#[test]
fn wrong_content_range_is_refused() {
    let data = blob();
    let d = sha256_digest(&data);
    let body = data.clone();
    let stub = Stub::start(move |_, _| {
        StubResponse::new(206, body[10..].to_vec()).header("Content-Range", "bytes 10-99999/100000")
    });
    let opts = BlobFetch {
        resume: Some(yurta_registry::Resume::from_prefix(&data[..500]).unwrap()),
        ..Default::default()
    };
    let e = client(&stub, 3)
        .get_blob(&repo(&stub), &d, &mut Vec::new(), opts)
        .unwrap_err();
    assert!(e.to_string().contains("asked for bytes from 500"), "{e}");
}

#[test]
fn redirects_to_storage_do_not_leak_credentials() {
    let data = blob();
    let d = sha256_digest(&data);
    let body = data.clone();
    let storage = Stub::start(move |_, _| StubResponse::new(200, body.to_vec()));
    let target = storage.url("/bucket/blob?sig=abc");
    let registry = Stub::start(move |req, _| match req.header("authorization") {
        None => StubResponse::new(401, "").header("WWW-Authenticate", r#"Basic realm="r""#),
        Some(_) => StubResponse::new(307, "").header("Location", target.clone()),
    });
    let c = Client::new(
        ClientConfig::default()
            .certs_dirs(vec![])
            .insecure_registry(&registry.addr())
            .credentials(&registry.addr(), Credentials::new("u", "p")),
    );
    let mut out = Vec::new();
    c.get_blob(&repo(&registry), &d, &mut out, BlobFetch::default())
        .unwrap();
    assert_eq!(out, *data);
    let seen = storage.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/bucket/blob?sig=abc");
    assert_eq!(seen[0].header("authorization"), None);
}

#[test]
fn manifest_that_does_not_match_its_digest_is_refused() {
    let real = br#"{"schemaVersion":2}"#.to_vec();
    let d = sha256_digest(&real);
    let stub = Stub::start(|_, _| {
        StubResponse::new(200, br#"{"schemaVersion":2,"evil":1}"#.to_vec())
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
    });
    let r = Reference::parse(&format!("{}/r@{d}", stub.addr())).unwrap();
    let e = client(&stub, 1).get_manifest(&r).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&d.to_string()), "{e}");

    // By tag, a Docker-Content-Digest header that disagrees is refused too.
    let stub = Stub::start(move |_, _| {
        StubResponse::new(200, br#"{"schemaVersion":2,"x":1}"#.to_vec())
            .header("Docker-Content-Digest", d.to_string())
    });
    let r = Reference::parse(&format!("{}/r:1", stub.addr())).unwrap();
    let e = client(&stub, 1).get_manifest(&r).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
}

#[test]
fn a_writer_that_verifies_gets_sizes_checked_only() {
    let data = blob();
    let mut wrong = data.to_vec();
    wrong[7] ^= 1;
    let d = sha256_digest(&data);
    let body = Arc::new(wrong);
    let stub = Stub::start(move |_, _| StubResponse::new(200, body.to_vec()));
    let fetch = |size: u64| {
        let opts = BlobFetch {
            size: Some(size),
            writer_verifies: true,
            ..Default::default()
        };
        client(&stub, 1).get_blob(&repo(&stub), &d, &mut Vec::new(), opts)
    };
    // The bytes are wrong, but the digest is the writer's to check.
    assert_eq!(fetch(data.len() as u64).unwrap(), data.len() as u64);
    let e = fetch(data.len() as u64 - 1).unwrap_err();
    assert!(matches!(e, Error::SizeMismatch { .. }), "{e}");
}
