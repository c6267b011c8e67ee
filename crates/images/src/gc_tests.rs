use std::io::Write;

use super::*;
use crate::manage::{collect_garbage, prune, remove};
use crate::store::tests::sample_image;
use crate::store::{hold, Provenance};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_root(dir.path()).unwrap();
    (dir, s)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// What a killed pull, load and unpack leave: a partial download, a
/// temporary ingest file, an unpack directory and a temporary catalog.
fn leftovers(s: &Store) {
    let digest = Digest::of(b"a blob never finished");
    let mut w = s.blob_writer(&digest, 100).unwrap();
    w.write_all(b"a blob").unwrap();
    drop(w);
    fs::write(s.ingest_dir().join("new-killed"), vec![1u8; 10_000]).unwrap();
    let unpack = s.snapshots_dir().join("tmp-0123-killed");
    fs::create_dir_all(unpack.join("fs/etc")).unwrap();
    fs::write(unpack.join("fs/etc/motd"), vec![2u8; 10_000]).unwrap();
    fs::write(s.dir().join("catalog.json.tmp-999999"), "{").unwrap();
}

#[test]
fn leftovers_nobody_holds_are_counted_and_collected() {
    let (_d, s) = store();
    leftovers(&s);
    let u = disk_usage_report(&s, &HashSet::new()).unwrap();
    assert!(u.reclaimable >= 10_000, "{u:?}");
    assert_eq!(u.images_size, u.reclaimable, "{u:?}");
    assert!(u.layers_reclaimable >= 10_000, "{u:?}");
    assert_eq!(u.layers, 0, "an unpack directory is not a layer");
    let freed = collect_garbage(&s).unwrap();
    assert!(freed >= 20_000, "freed {freed}");
    assert!(names(&s.ingest_dir()).is_empty());
    assert!(names(&s.snapshots_dir()).is_empty());
    assert!(!s.dir().join("catalog.json.tmp-999999").exists());
    let u = disk_usage_report(&s, &HashSet::new()).unwrap();
    assert_eq!((u.reclaimable, u.layers_reclaimable), (0, 0), "{u:?}");
}

#[test]
fn work_in_progress_is_never_collected() {
    let (_d, s) = store();
    // A download and an import in progress in this process hold their files.
    let digest = Digest::of(b"in progress");
    let mut partial = s.blob_writer(&digest, 11).unwrap();
    partial.write_all(b"in").unwrap();
    let mut new = s.ingest().unwrap();
    new.write_all(b"importing").unwrap();
    let unpack = s.snapshots_dir().join("tmp-4567-busy");
    fs::create_dir_all(unpack.join("fs")).unwrap();
    let _held = hold(&unpack).unwrap();
    let before = (names(&s.ingest_dir()), names(&s.snapshots_dir()));
    let u = disk_usage_report(&s, &HashSet::new()).unwrap();
    assert_eq!((u.reclaimable, u.layers_reclaimable), (0, 0), "{u:?}");
    // GC waits for leases; these writers hold none, only their locks.
    collect_garbage(&s).unwrap();
    assert_eq!((names(&s.ingest_dir()), names(&s.snapshots_dir())), before);
    partial.write_all(b" progress").unwrap();
    assert_eq!(partial.commit().unwrap().0, digest);
}

#[test]
fn removing_images_frees_snapshots_before_writing_the_catalog() {
    let (_d, s) = store();
    let keep = sample_image(&s, "keep");
    let gone = sample_image(&s, "gone");
    for m in [&keep, &gone] {
        s.add_image(m, &Provenance::default()).unwrap();
    }
    s.tag("keep:1", &keep).unwrap();
    s.tag("gone:1", &gone).unwrap();
    let gone_image = s.resolve("gone:1").unwrap();
    let snap = chain_ids(&gone_image.diff_ids)[0].hex().to_string();
    fs::create_dir_all(s.snapshots_dir().join(&snap).join("fs")).unwrap();
    leftovers(&s);
    let events = remove(&s, "gone:1", false).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(names(&s.snapshots_dir()).is_empty());
    assert!(!s.has_blob(&gone) && s.has_blob(&keep));
    assert!(names(&s.ingest_dir()).is_empty());
    let (events, _) = prune(&s, true, &HashSet::new()).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(names(&s.blobs_dir()).is_empty());
    assert_eq!(
        names(s.dir()),
        [
            "blobs",
            "catalog.json",
            "catalog.lock",
            "gc.lock",
            "ingest",
            "oci-layout",
            "snapshots",
            "tmp"
        ]
    );
}
