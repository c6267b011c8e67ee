use std::io::Write;
use std::sync::Arc;

use super::*;
use crate::spec::{RootFs, RunConfig};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_root(dir.path()).unwrap();
    (dir, s)
}

#[test]
fn open_makes_an_oci_layout() {
    let (dir, _s) = store();
    let layout = fs::read_to_string(dir.path().join("images/oci-layout")).unwrap();
    assert_eq!(layout, r#"{"imageLayoutVersion":"1.0.0"}"#);
    assert!(dir.path().join("images/blobs/sha256").is_dir());
}

#[test]
fn blob_written_verified_and_renamed() {
    let (_d, s) = store();
    let data = b"hello blob".to_vec();
    let digest = Digest::of(&data);
    let mut w = s.blob_writer(&digest, data.len() as u64).unwrap();
    assert_eq!(w.offset(), 0);
    w.write_all(&data).unwrap();
    assert!(!s.has_blob(&digest), "invisible before commit");
    assert_eq!(w.commit().unwrap(), (digest.clone(), 10));
    assert!(s.has_blob(&digest));
    assert_eq!(s.read_blob(&digest).unwrap(), data);
    assert_eq!(fs::read_dir(s.ingest_dir()).unwrap().count(), 0);
    // Writing it again is a no-op.
    let again = s.blob_writer(&digest, 10).unwrap();
    assert!(again.is_complete());
    assert_eq!(again.offset(), 10);
    assert_eq!(again.commit().unwrap().0, digest);
}

#[test]
fn killed_write_resumes_from_partial() {
    let (_d, s) = store();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let digest = Digest::of(&data);
    {
        let mut w = s.blob_writer(&digest, data.len() as u64).unwrap();
        w.write_all(&data[..40_000]).unwrap();
        // dropped without commit: as if killed
    }
    assert!(!s.has_blob(&digest));
    let partial = s.ingest_dir().join(format!("{}.partial", digest.hex()));
    assert_eq!(fs::metadata(&partial).unwrap().len(), 40_000);
    let mut w = s.blob_writer(&digest, data.len() as u64).unwrap();
    assert_eq!(w.offset(), 40_000);
    w.write_all(&data[40_000..]).unwrap();
    assert_eq!(w.commit().unwrap().0, digest);
    assert!(!partial.exists());
    assert_eq!(fs::read(s.blob_path(&digest)).unwrap(), data);
}

#[test]
fn digest_mismatch_names_both_and_stores_nothing() {
    let (_d, s) = store();
    let claimed = Digest::of(b"what the registry promised");
    let mut w = s.blob_writer(&claimed, 5).unwrap();
    w.write_all(b"other").unwrap();
    let err = w.commit().unwrap_err();
    let actual = Digest::of(b"other");
    assert_eq!(
        err.to_string(),
        format!("digest mismatch: expected {claimed}, got {actual}")
    );
    assert!(!s.has_blob(&claimed) && !s.has_blob(&actual));
    assert_eq!(fs::read_dir(s.ingest_dir()).unwrap().count(), 0);
}

#[test]
fn truncated_and_overlong_blobs_fail() {
    let (_d, s) = store();
    let d = Digest::of(b"0123456789");
    let mut w = s.blob_writer(&d, 10).unwrap();
    w.write_all(b"01234").unwrap();
    assert_eq!(
        w.commit().unwrap_err().to_string(),
        format!("size mismatch for {d}: expected 10 bytes, got 5")
    );
    let mut w = s.blob_writer(&d, 10).unwrap();
    let err = w.write_all(b"0123456789X").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("blob {d} is longer than the expected 10 bytes")
    );
    assert!(!s.has_blob(&d));
}

#[test]
fn restart_discards_the_partial() {
    let (_d, s) = store();
    let d = Digest::of(b"abc");
    let mut w = s.blob_writer(&d, 3).unwrap();
    w.write_all(b"xy").unwrap();
    drop(w);
    let mut w = s.blob_writer(&d, 3).unwrap();
    assert_eq!(w.offset(), 2);
    w.restart().unwrap();
    assert_eq!(w.offset(), 0);
    w.write_all(b"abc").unwrap();
    assert_eq!(w.commit().unwrap().0, d);
}

#[test]
fn ingest_learns_the_digest_and_cleans_up_on_drop() {
    let (_d, s) = store();
    let mut w = s.ingest().unwrap();
    w.write_all(b"unknown").unwrap();
    assert_eq!(w.commit().unwrap(), (Digest::of(b"unknown"), 7));
    let mut w = s.ingest().unwrap();
    w.write_all(b"abandoned").unwrap();
    drop(w);
    assert_eq!(fs::read_dir(s.ingest_dir()).unwrap().count(), 0);
    assert!(!s.has_blob(&Digest::of(b"abandoned")));
}

#[test]
fn concurrent_writers_of_one_blob_take_turns() {
    let (_d, s) = store();
    let data: Arc<Vec<u8>> = Arc::new((0..300_000u32).map(|i| (i % 251) as u8).collect());
    let digest = Digest::of(&data);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (s, data, digest) = (s.clone(), data.clone(), digest.clone());
            std::thread::spawn(move || {
                let mut w = s.blob_writer(&digest, data.len() as u64).unwrap();
                if !w.is_complete() {
                    let off = w.offset() as usize;
                    for chunk in data[off..].chunks(4096) {
                        w.write_all(chunk).unwrap();
                    }
                }
                w.commit().unwrap().0
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), digest);
    }
    assert_eq!(fs::read(s.blob_path(&digest)).unwrap(), *data);
}

/// Stores a config + one layer + manifest and returns the manifest digest.
pub(crate) fn sample_image(s: &Store, seed: &str) -> Digest {
    let layer = s.put_blob(format!("layer {seed}").as_bytes()).unwrap();
    let config = ImageConfig {
        created: Some("2024-03-01T00:00:00Z".into()),
        architecture: "amd64".into(),
        os: "linux".into(),
        config: Some(RunConfig {
            cmd: Some(vec!["sh".into()]),
            ..Default::default()
        }),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![layer.clone()],
        },
        ..Default::default()
    };
    let cbytes = serde_json::to_vec(&config).unwrap();
    let cdigest = s.put_blob(&cbytes).unwrap();
    let m = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config: Descriptor::new(media::OCI_CONFIG, cdigest, cbytes.len() as u64),
        layers: vec![Descriptor::new(
            media::OCI_LAYER,
            layer,
            7 + seed.len() as u64,
        )],
        annotations: None,
    };
    s.put_manifest(&serde_json::to_vec(&m).unwrap()).unwrap()
}

#[test]
fn add_tag_and_resolve() {
    let (_d, s) = store();
    let m = sample_image(&s, "a");
    let rec = s.add_image(&m, &Provenance::default()).unwrap();
    assert_eq!(rec.platform.to_string(), "linux/amd64");
    assert_eq!(rec.created.as_deref(), Some("2024-03-01T00:00:00Z"));
    assert_eq!(rec.layers.len(), 1);
    assert_eq!(
        s.tag("busybox", &m).unwrap(),
        "docker.io/library/busybox:latest"
    );
    s.tag("localhost:5000/x/y:2", &m).unwrap();
    for q in [
        "busybox",
        "busybox:latest",
        "docker.io/library/busybox",
        "localhost:5000/x/y:2",
        &rec.id.to_string(),
        &rec.id.hex()[..5],
        &m.to_string(),
        &format!("busybox@{m}"),
    ] {
        assert_eq!(s.resolve(q).unwrap().manifest.digest, m, "{q}");
    }
    assert_eq!(
        s.resolve("busybox:2").unwrap_err().to_string(),
        "no such image: busybox:2"
    );
    assert_eq!(s.list().unwrap().tags_of(&m).len(), 2);
    assert_eq!(s.untag("busybox").unwrap(), m);
    assert!(s.resolve("busybox").is_err());
}

#[test]
fn ambiguous_prefix_and_missing_blobs() {
    let (_d, s) = store();
    let a = sample_image(&s, "a");
    let b = sample_image(&s, "b");
    s.add_image(&a, &Provenance::default()).unwrap();
    s.add_image(&b, &Provenance::default()).unwrap();
    assert_eq!(s.resolve("").unwrap_err().to_string(), "no such image: ");
    let missing = Digest::of(b"nothing");
    assert_eq!(
        s.add_image(&missing, &Provenance::default())
            .unwrap_err()
            .to_string(),
        format!("blob {missing} is not in the store")
    );
    let err = s.tag("x", &missing).unwrap_err();
    assert_eq!(err.to_string(), format!("no such image: {missing}"));
}

#[test]
fn catalog_updates_from_many_threads_all_land() {
    let (_d, s) = store();
    let m = sample_image(&s, "a");
    s.add_image(&m, &Provenance::default()).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (s, m) = (s.clone(), m.clone());
            std::thread::spawn(move || {
                for j in 0..5 {
                    s.tag(&format!("t{i}:{j}"), &m).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.list().unwrap().tags.len(), 40);
}
