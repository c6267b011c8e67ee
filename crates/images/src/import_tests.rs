use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

use super::*;
use crate::progress::Silent;

fn rootfs(dir: &Path) {
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::write(dir.join("bin/tool"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(dir.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::hard_link(dir.join("bin/tool"), dir.join("bin/tool2")).unwrap();
    symlink("tool", dir.join("bin/sh")).unwrap();
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::write(dir.join("etc/hostname"), b"x\n").unwrap();
}

fn opts(reference: &str) -> ImportOptions {
    ImportOptions {
        platform: Some("linux/e2k/v6".parse().unwrap()),
        changes: vec![r#"CMD ["/bin/sh"]"#.into(), "ENV A=1".into()],
        message: Some("base system".into()),
        reference: Some(reference.into()),
    }
}

#[test]
fn import_directory_makes_a_tagged_one_layer_image() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("rootfs");
    rootfs(&src);
    let store = Store::open(tmp.path().join("s")).unwrap();
    let rec = import(
        &store,
        ImportSource::Dir(&src),
        &opts("myorg/base:1"),
        &Silent,
    )
    .unwrap();
    assert_eq!(rec.platform.to_string(), "linux/e2k/v6");
    assert_eq!(rec.layers.len(), 1);
    assert_eq!(rec.layers[0].media_type, media::OCI_LAYER_GZIP);
    assert_eq!(store.resolve("myorg/base:1").unwrap(), rec);
    let config: ImageConfig = store.read_json(&rec.id).unwrap();
    let run = config.config.unwrap();
    assert_eq!(run.cmd.unwrap(), ["/bin/sh"]);
    assert_eq!(run.env.unwrap(), ["A=1"]);
    assert_eq!(config.variant.as_deref(), Some("v6"));
    assert_eq!(config.history[0].comment.as_deref(), Some("base system"));
    let snaps = store.unpack_image(&rec).unwrap();
    let root = &snaps[0];
    assert_eq!(
        fs::read(root.join("bin/tool")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    let tool = fs::metadata(root.join("bin/tool")).unwrap();
    assert_eq!(tool.mode() & 0o7777, 0o755);
    assert_eq!(tool.nlink(), 2);
    assert_eq!(
        fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(fs::read(root.join("etc/hostname")).unwrap(), b"x\n");
}

#[test]
fn import_tarball_keeps_the_stream_as_the_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = crate::layers::tests::TarBuilder::new()
        .file("hello", b"world")
        .finish();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let store = Store::open(tmp.path().join("s")).unwrap();
    let source = ImportSource::Tar {
        name: "-".into(),
        reader: Box::new(io::Cursor::new(gz.finish().unwrap())),
    };
    let mut o = opts("x");
    o.platform = None;
    o.message = None;
    let rec = import(&store, source, &o, &Silent).unwrap();
    assert_eq!(rec.diff_ids, [Digest::of(&tar)]);
    assert_eq!(rec.platform, Platform::host());
    let config: ImageConfig = store.read_json(&rec.id).unwrap();
    assert_eq!(
        config.history[0].comment.as_deref(),
        Some("Imported from -")
    );
    assert_eq!(store.resolve("x:latest").unwrap().id, rec.id);
}

#[test]
fn garbage_is_refused_and_nothing_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("s")).unwrap();
    let source = ImportSource::Tar {
        name: "junk.tar".into(),
        reader: Box::new(io::Cursor::new(vec![7u8; 2000])),
    };
    let err = import(&store, source, &opts("x"), &Silent).unwrap_err();
    assert!(err.to_string().starts_with("import junk.tar: "), "{err}");
    assert_eq!(
        fs::read_dir(store.blob_path(&Digest::of(b"")).parent().unwrap())
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        fs::read_dir(tmp.path().join("s/ingest")).unwrap().count(),
        0
    );
    let bad = ImportOptions {
        changes: vec!["RUN x".into()],
        ..Default::default()
    };
    let src = ImportSource::Dir(tmp.path());
    assert!(matches!(
        import(&store, src, &bad, &Silent),
        Err(ImportError::Change(_))
    ));
}
