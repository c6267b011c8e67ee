use std::fs;
use std::io::Write;

use super::*;
use crate::import::{import, ImportOptions, ImportSource};
use crate::progress::Silent;
use crate::spec::{media, Descriptor, Index, PlatformSpec};
use crate::store::{ImageRecord, Store};
use crate::Platform;

struct Fixture {
    tmp: tempfile::TempDir,
    src: Store,
    image: ImageRecord,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/motd"), "hello").unwrap();
    // Big enough to go through the on-disk path of load (> 1 MiB).
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(root.join("big"), big).unwrap();
    let src = Store::open(tmp.path().join("src")).unwrap();
    let opts = ImportOptions {
        platform: Some("linux/e2k/v5".parse().unwrap()),
        changes: vec!["CMD [\"/bin/sh\"]".into()],
        reference: Some("myorg/app:1".into()),
        ..Default::default()
    };
    let image = import(&src, ImportSource::Dir(&root), &opts, &Silent).unwrap();
    Fixture { tmp, src, image }
}

fn saved(f: &Fixture, format: ArchiveFormat) -> Vec<u8> {
    let item = SaveItem {
        image: f.image.clone(),
        names: vec!["docker.io/myorg/app:1".into()],
    };
    save(&f.src, &[item], format, Vec::new(), &Silent).unwrap()
}

fn fresh(f: &Fixture, name: &str) -> Store {
    Store::open(f.tmp.path().join(name)).unwrap()
}

fn names(tar: &[u8]) -> Vec<String> {
    let mut a = tar::Archive::new(tar);
    let mut v: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn blob_count(s: &Store) -> usize {
    fs::read_dir(s.dir().join("blobs/sha256")).unwrap().count()
}

#[test]
fn docker_archive_layout_and_round_trip() {
    let f = fixture();
    let tar = saved(&f, ArchiveFormat::DockerArchive);
    let diff = f.image.diff_ids[0].hex();
    let config = format!("{}.json", f.image.id.hex());
    let mut want = vec![
        config.clone(),
        format!("{diff}/layer.tar"),
        "manifest.json".into(),
        "repositories".into(),
    ];
    want.sort();
    assert_eq!(names(&tar), want);
    let mut a = tar::Archive::new(&tar[..]);
    let manifest = a
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path().unwrap().ends_with("manifest.json"));
    let m: serde_json::Value = serde_json::from_reader(manifest.unwrap()).unwrap();
    assert_eq!(m[0]["RepoTags"][0], "myorg/app:1");
    assert_eq!(m[0]["Config"], config);

    let dst = fresh(&f, "dst");
    let loaded = load(&dst, &tar[..], None, &Silent).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].tags, ["docker.io/myorg/app:1"]);
    let img = &loaded[0].image;
    assert_eq!(img.id, f.image.id, "same config, same image ID");
    assert_eq!(img.diff_ids, f.image.diff_ids);
    assert_eq!(img.platform.to_string(), "linux/e2k/v5");
    assert_eq!(img.layers[0].media_type, media::OCI_LAYER);
    let snap = dst.unpack_image(img).unwrap();
    assert_eq!(
        fs::read_to_string(snap[0].join("etc/motd")).unwrap(),
        "hello"
    );
    assert_eq!(dst.resolve("myorg/app:1").unwrap().id, f.image.id);
}

#[test]
fn oci_archive_layout_and_round_trip() {
    let f = fixture();
    let tar = saved(&f, ArchiveFormat::OciArchive);
    let n = names(&tar);
    assert!(n.contains(&"oci-layout".to_string()) && n.contains(&"index.json".to_string()));
    assert!(n.contains(&format!("blobs/sha256/{}", f.image.manifest.digest.hex())));
    assert!(n.contains(&format!("blobs/sha256/{}", f.image.layers[0].digest.hex())));
    let dst = fresh(&f, "dst");
    let loaded = load(&dst, &tar[..], None, &Silent).unwrap();
    assert_eq!(loaded[0].tags, ["docker.io/myorg/app:1"]);
    assert_eq!(
        loaded[0].image.manifest.digest, f.image.manifest.digest,
        "identical manifest"
    );
    assert_eq!(loaded[0].image.layers, f.image.layers);
}

/// Rewrites one file of a tar archive.
fn tamper(tar: &[u8], pick: impl Fn(&str) -> bool, change: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = tar::Builder::new(Vec::new());
    let mut a = tar::Archive::new(tar);
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if pick(&path) {
            change(&mut data);
        }
        let mut h = e.header().clone();
        h.set_size(data.len() as u64);
        h.set_cksum();
        out.append(&h, &data[..]).unwrap();
    }
    out.into_inner().unwrap()
}

#[test]
fn tampered_docker_layer_is_refused_and_nothing_stored() {
    let f = fixture();
    let tar = saved(&f, ArchiveFormat::DockerArchive);
    let bad = tamper(&tar, |p| p.ends_with("layer.tar"), |d| d[600] ^= 1);
    let dst = fresh(&f, "dst");
    let err = load(&dst, &bad[..], None, &Silent).unwrap_err();
    let diff = &f.image.diff_ids[0];
    assert!(
        err.to_string().starts_with(&format!(
            "archive layer {}/layer.tar unpacks to sha256:",
            diff.hex()
        )),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with(&format!("but the image config says {diff}")),
        "{err}"
    );
    assert_eq!(blob_count(&dst), 0);
    assert_eq!(fs::read_dir(dst.dir().join("ingest")).unwrap().count(), 0);
    assert!(dst.list().unwrap().images.is_empty());
}

#[test]
fn tampered_oci_blob_and_truncated_archive_are_refused() {
    let f = fixture();
    let tar = saved(&f, ArchiveFormat::OciArchive);
    let layer = f.image.layers[0].digest.hex().to_string();
    let bad = tamper(&tar, |p| p.ends_with(&layer), |d| d[100] ^= 1);
    let dst = fresh(&f, "dst");
    let err = load(&dst, &bad[..], None, &Silent).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "archive file blobs/sha256/{layer} has digest sha256:"
        )),
        "{err}"
    );
    assert!(
        err.to_string().ends_with(&format!(", not sha256:{layer}")),
        "{err}"
    );
    let truncated = &tar[..tar.len() / 2];
    assert!(load(&dst, truncated, None, &Silent).is_err());
    assert_eq!(blob_count(&dst), 0);
    assert!(dst.list().unwrap().images.is_empty());
    let err = load(&dst, &b"not an archive at all"[..], None, &Silent).unwrap_err();
    assert!(
        matches!(err, ArchiveError::Io { .. } | ArchiveError::Unknown),
        "{err}"
    );
}

/// An OCI layout whose index.json points at a multi-platform index.
fn multi_platform(f: &Fixture) -> Vec<u8> {
    let single = saved(f, ArchiveFormat::OciArchive);
    let m = f.image.manifest.clone();
    let entry = |p: &str| {
        let mut d = Descriptor::new(media::OCI_MANIFEST, m.digest.clone(), m.size);
        d.platform = Some(PlatformSpec::from(&p.parse::<Platform>().unwrap()));
        d
    };
    let nested = Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests: vec![
            entry("linux/amd64"),
            entry("linux/arm64"),
            entry("linux/e2k/v5"),
        ],
        annotations: None,
    };
    let nested = serde_json::to_vec(&nested).unwrap();
    let nd = crate::Digest::of(&nested);
    let mut top_entry = Descriptor::new(media::OCI_INDEX, nd.clone(), nested.len() as u64);
    top_entry.annotations = Some(
        [(
            NAME_ANNOTATION.to_string(),
            "example.org/multi:2".to_string(),
        )]
        .into(),
    );
    let top = Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests: vec![top_entry],
        annotations: None,
    };
    let out = tamper(
        &single,
        |p| p == "index.json",
        |d| *d = serde_json::to_vec(&top).unwrap(),
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(nested.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, format!("blobs/sha256/{}", nd.hex()), &nested[..])
        .unwrap();
    let mut all = b.into_inner().unwrap();
    all.truncate(all.len() - 1024); // drop the end-of-archive blocks
    all.extend_from_slice(&out);
    all
}

#[test]
fn multi_platform_oci_archive_picks_the_platform() {
    let f = fixture();
    let tar = multi_platform(&f);
    let dst = fresh(&f, "dst");
    let v6: Platform = "linux/e2k/v6".parse().unwrap();
    let loaded = load(&dst, &tar[..], Some(&v6), &Silent).unwrap();
    assert_eq!(loaded[0].tags, ["example.org/multi:2"]);
    assert_eq!(loaded[0].image.manifest.digest, f.image.manifest.digest);
    let v4: Platform = "linux/e2k/v4".parse().unwrap();
    let err = load(&fresh(&f, "other"), &tar[..], Some(&v4), &Silent).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no image for linux/e2k/v4 in example.org/multi:2; it has linux/amd64, linux/arm64/v8, linux/e2k/v5"
    );
}

#[test]
fn gzip_compressed_archive_loads() {
    let f = fixture();
    let tar = saved(&f, ArchiveFormat::DockerArchive);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let dst = fresh(&f, "dst");
    let loaded = load(&dst, &gz.finish().unwrap()[..], None, &Silent).unwrap();
    assert_eq!(loaded[0].image.id, f.image.id);
}

#[test]
fn one_image_id_has_one_size_however_its_layers_are_stored() {
    let f = fixture();
    // A docker-archive stores the layer uncompressed; loaded back into the
    // same store under another tag it is a second record of the same ID.
    let mut tar = saved(&f, ArchiveFormat::DockerArchive);
    tar = tamper(
        &tar,
        |p| p == "manifest.json",
        |b| {
            *b = String::from_utf8(b.clone())
                .unwrap()
                .replace("myorg/app:1", "myorg/app:2")
                .into_bytes()
        },
    );
    let loaded = load(&f.src, &tar[..], None, &Silent).unwrap();
    let again = &loaded[0].image;
    assert_eq!(again.id, f.image.id);
    assert_ne!(again.manifest.digest, f.image.manifest.digest);
    assert_eq!(again.size, f.image.size, "same ID, same size");
    let oci = load(
        &fresh(&f, "o"),
        &saved(&f, ArchiveFormat::OciArchive)[..],
        None,
        &Silent,
    );
    assert_eq!(oci.unwrap()[0].image.size, f.image.size);
    let docker = load(&fresh(&f, "d"), &tar[..], None, &Silent);
    assert_eq!(docker.unwrap()[0].image.size, f.image.size);
    // The size is the config plus the uncompressed layer, as Docker's.
    let layer_tar = fs::metadata(f.src.blob_path(&again.layers[0].digest)).unwrap();
    assert_eq!(f.image.diff_sizes, [layer_tar.len()]);
    let config = f.src.blob_size(&f.image.id).unwrap();
    assert_eq!(f.image.size, config + layer_tar.len());
    let rows = crate::inspect::rows(&f.src.list().unwrap());
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.size == f.image.size), "{rows:?}");
    let h = crate::inspect::history(&f.src, again).unwrap();
    assert_eq!(h[0].size, layer_tar.len());
}
