//! Reading from a real registry filled by skopeo: manifests, blobs with
//! digest and size checks, resume with Range, tags.

mod common;

use std::fs;
use std::time::Duration;

use common::image::{image, write_layout, Image};
use yurta_registry::{
    BlobFetch, Client, ClientConfig, Digest, Error, Reference, Resume, RetryPolicy, Sha256,
    MEDIA_OCI_MANIFEST,
};
use yurta_testutil::registry::{skopeo_copy, Registry};

fn client() -> Client {
    Client::new(test_config())
}

fn test_config() -> ClientConfig {
    ClientConfig::default()
        .certs_dirs(vec![])
        .retry(RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
        })
}

/// A registry holding `test:1`, pushed by skopeo from an OCI layout.
fn filled() -> (Registry, Image) {
    let reg = Registry::plain();
    let img = image("amd64", None, "hello from pull", 200_000);
    let layout = tempfile::tempdir().unwrap();
    write_layout(layout.path(), &img, "v1");
    skopeo_copy(
        &[],
        &format!("oci:{}:v1", layout.path().display()),
        &format!("docker://{}/test:1", reg.addr()),
    );
    (reg, img)
}

fn digest(s: &str) -> Digest {
    s.parse().unwrap()
}

fn reference(reg: &Registry, rest: &str) -> Reference {
    Reference::parse(&format!("{}/{rest}", reg.addr())).unwrap()
}

#[test]
fn manifests_blobs_and_tags() {
    let (reg, img) = filled();
    let c = client();
    c.ping(&reg.addr()).unwrap();

    let r = reference(&reg, "test:1");
    let m = c.get_manifest(&r).unwrap();
    assert_eq!(m.media_type, MEDIA_OCI_MANIFEST);
    assert_eq!(m.digest.to_string(), img.manifest.digest);
    assert_eq!(m.bytes, img.manifest.bytes);
    assert!(!m.is_index());

    let by_digest = c.get_manifest(&r.with_digest(m.digest.clone())).unwrap();
    assert_eq!(by_digest.bytes, m.bytes);

    let head = c.head_manifest(&r).unwrap().unwrap();
    assert_eq!(head.digest, Some(m.digest.clone()));
    assert_eq!(head.size, Some(m.bytes.len() as u64));
    assert_eq!(c.head_manifest(&r.with_tag("nope")).unwrap(), None);

    let mut out = Vec::new();
    let mut calls = Vec::new();
    let mut progress = |done: u64, total: Option<u64>| calls.push((done, total));
    let opts = BlobFetch {
        size: Some(img.layer.bytes.len() as u64),
        progress: Some(&mut progress),
        ..Default::default()
    };
    let n = c
        .get_blob(&r.repo, &digest(&img.layer.digest), &mut out, opts)
        .unwrap();
    assert_eq!(n, img.layer.bytes.len() as u64);
    assert_eq!(out, img.layer.bytes);
    let total = Some(img.layer.bytes.len() as u64);
    assert_eq!(calls.last(), Some(&(n, total)));
    assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));

    let size = c.blob_exists(&r.repo, &digest(&img.config.digest)).unwrap();
    assert_eq!(size, Some(img.config.bytes.len() as u64));
    assert_eq!(c.list_tags(&r.repo).unwrap(), vec!["1".to_string()]);
}

#[test]
fn unknown_things_are_404_naming_the_url() {
    let (reg, img) = filled();
    let c = client();
    let e = c.get_manifest(&reference(&reg, "test:nope")).unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("/v2/test/manifests/nope") && msg.contains("MANIFEST_UNKNOWN"),
        "{msg}"
    );

    let e = c.list_tags(&reference(&reg, "other:1").repo).unwrap_err();
    assert!(e.is_not_found(), "{e}");

    let repo = reference(&reg, "test:1").repo;
    let missing = digest(&format!("sha256:{}", "0".repeat(64)));
    assert_eq!(c.blob_exists(&repo, &missing).unwrap(), None);
    let e = c
        .get_blob(&repo, &missing, &mut Vec::new(), BlobFetch::default())
        .unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains(&missing.to_string()),
        "{e}"
    );
    let _ = img;
}

#[test]
fn corrupted_and_truncated_blobs_are_refused() {
    let (reg, img) = filled();
    let c = client();
    let repo = reference(&reg, "test:1").repo;
    let d = digest(&img.layer.digest);
    let file = reg.blob_file(&img.layer.digest);
    let size = img.layer.bytes.len() as u64;

    let mut bad = img.layer.bytes.clone();
    bad[1000] ^= 0xff;
    fs::write(&file, &bad).unwrap();
    let e = c
        .get_blob(&repo, &d, &mut Vec::new(), BlobFetch::default())
        .unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&img.layer.digest) && msg.contains("/blobs/"),
        "{msg}"
    );

    fs::write(&file, &img.layer.bytes[..5000]).unwrap();
    let e = c
        .get_blob(&repo, &d, &mut Vec::new(), BlobFetch::default())
        .unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    let opts = BlobFetch {
        size: Some(size),
        ..Default::default()
    };
    let e = c.get_blob(&repo, &d, &mut Vec::new(), opts).unwrap_err();
    assert!(
        matches!(e, Error::SizeMismatch { expected, actual: 5000, .. } if expected == size),
        "{e}"
    );
    assert!(e.to_string().contains("5000"), "{e}");
}

#[test]
fn resume_with_range() {
    let (reg, img) = filled();
    let c = client();
    let repo = reference(&reg, "test:1").repo;
    let d = digest(&img.layer.digest);
    let blob = &img.layer.bytes;
    let half = blob.len() / 2;

    // The caller re-hashes the prefix it already has.
    let resume = Resume::from_prefix(&blob[..half]).unwrap();
    assert_eq!(resume.offset(), half as u64);
    let mut rest = Vec::new();
    let opts = BlobFetch {
        resume: Some(resume),
        size: Some(blob.len() as u64),
        ..Default::default()
    };
    let n = c.get_blob(&repo, &d, &mut rest, opts).unwrap();
    assert_eq!(n, blob.len() as u64);
    assert_eq!(rest, blob[half..]);

    // Or keeps the hasher state from the interrupted download.
    use sha2::Digest as _;
    let hasher = Sha256::new_with_prefix(&blob[..100]);
    let mut rest = Vec::new();
    let opts = BlobFetch {
        resume: Some(Resume::new(100, hasher)),
        ..Default::default()
    };
    c.get_blob(&repo, &d, &mut rest, opts).unwrap();
    assert_eq!(rest, blob[100..]);

    // A prefix that is not the blob's is caught by the final digest check.
    let mut wrong = blob[..half].to_vec();
    wrong[0] ^= 1;
    let opts = BlobFetch {
        resume: Some(Resume::from_prefix(&wrong[..]).unwrap()),
        ..Default::default()
    };
    let e = c.get_blob(&repo, &d, &mut Vec::new(), opts).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");

    // Everything already there: nothing to fetch, only the check.
    let opts = BlobFetch {
        resume: Some(Resume::from_prefix(&blob[..]).unwrap()),
        size: Some(blob.len() as u64),
        ..Default::default()
    };
    let mut none = Vec::new();
    assert_eq!(
        c.get_blob(&repo, &d, &mut none, opts).unwrap(),
        blob.len() as u64
    );
    assert!(none.is_empty());
}

#[test]
fn insecure_registry_setting_and_loopback_fallback() {
    let (reg, img) = filled();
    let r = reference(&reg, "test:1");
    let explicit = Client::new(test_config().insecure_registry(&reg.addr()));
    assert_eq!(
        explicit.get_manifest(&r).unwrap().digest.to_string(),
        img.manifest.digest
    );
    // 127.0.0.1 without any setting: https fails, http answers /v2/.
    let fallback = client();
    assert_eq!(
        fallback.get_manifest(&r).unwrap().digest.to_string(),
        img.manifest.digest
    );
}

#[test]
fn parallel_downloads_share_one_client() {
    let (reg, img) = filled();
    let c = client();
    let repo = reference(&reg, "test:1").repo;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (c, repo, d) = (c.clone(), repo.clone(), digest(&img.layer.digest));
            std::thread::spawn(move || {
                let mut out = Vec::new();
                c.get_blob(&repo, &d, &mut out, BlobFetch::default())
                    .unwrap();
                out
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), img.layer.bytes);
    }
}
