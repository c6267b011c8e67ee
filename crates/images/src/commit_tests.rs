//! `commit` against a real overlay (root, as CI runs): the new image shows
//! what the container saw, minus the runtime's mount points.

use std::fs;

use super::*;
use crate::layers::mount_rootfs;
use crate::rwlayer::tests::{container_changes, copy, image, tree, Overlay};

fn opts() -> CommitOptions {
    CommitOptions {
        config: RunConfig {
            cmd: Some(vec!["sh".into(), "-c".into(), "make".into()]),
            env: Some(vec!["A=1".into()]),
            ..Default::default()
        },
        changes: vec![r#"CMD ["cat", "/d/new"]"#.into(), "ENV B=2".into()],
        author: Some("Jo <jo@example.org>".into()),
        comment: Some("first".into()),
        created_by: "sh -c make".into(),
        reference: Some("myorg/committed:1".into()),
        build_cache: false,
        timestamp: None,
    }
}

#[test]
fn the_committed_image_shows_the_container_s_view() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, parent) = image(tmp.path(), true);
    let o = Overlay::mount(tmp.path(), &store, &parent);
    container_changes(&o.merged);
    let mut seen = tree(&o.merged);
    for artifact in ["etc/hosts", "proc", "dev", "dev/pts"] {
        seen.remove(artifact).unwrap();
    }
    o.unmount();
    let rec = commit(&store, &parent, ContainerFs::Upper(&o.upper), &opts()).unwrap();
    assert_eq!(store.resolve("myorg/committed:1").unwrap(), rec);
    assert_eq!(rec.layers.len(), 2);
    assert_eq!(rec.layers[..1], parent.layers[..]);
    assert_eq!(rec.layers[1].media_type, media::OCI_LAYER_GZIP);
    let config: ImageConfig = store.read_json(&rec.id).unwrap();
    let run = config.config.unwrap();
    assert_eq!(run.cmd.unwrap(), ["cat", "/d/new"]);
    assert_eq!(run.env.unwrap(), ["A=1", "B=2"]);
    assert_eq!(config.author.as_deref(), Some("Jo <jo@example.org>"));
    let last = config.history.last().unwrap();
    assert_eq!(last.comment.as_deref(), Some("first"));
    assert_eq!(last.created_by.as_deref(), Some("sh -c make"));
    assert_eq!(last.empty_layer, None);
    let view = tmp.path().join("view");
    let (up, work) = (tmp.path().join("u2"), tmp.path().join("w2"));
    mount_rootfs(&store, &rec, &view, &up, &work, false).unwrap();
    let got = tree(&view);
    crate::layers::unmount_rootfs(&view).unwrap();
    assert_eq!(got, seen);
}

#[test]
fn no_changes_make_no_layer_only_a_history_entry() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, parent) = image(tmp.path(), true);
    let o = Overlay::mount(tmp.path(), &store, &parent);
    // Only the runtime's mount points.
    fs::write(o.merged.join("etc/hosts"), "").unwrap();
    fs::create_dir(o.merged.join("proc")).unwrap();
    o.unmount();
    let ingest_before = fs::read_dir(store.dir().join("ingest")).unwrap().count();
    let rec = commit(
        &store,
        &parent,
        ContainerFs::Upper(&o.upper),
        &CommitOptions::default(),
    )
    .unwrap();
    assert_eq!(rec.layers, parent.layers);
    assert_ne!(rec.id, parent.id);
    let config: ImageConfig = store.read_json(&rec.id).unwrap();
    assert_eq!(config.history.last().unwrap().empty_layer, Some(true));
    let ingest_after = fs::read_dir(store.dir().join("ingest")).unwrap().count();
    assert_eq!(ingest_before, ingest_after, "no ingest file left");
    // A bad --change is refused before anything is written.
    let bad = CommitOptions {
        changes: vec!["RUN make".into()],
        ..Default::default()
    };
    let e = commit(&store, &parent, ContainerFs::Upper(&o.upper), &bad).unwrap_err();
    assert!(e.to_string().contains("RUN make"), "{e}");
}

#[test]
fn a_flattened_copy_commits_what_differs_from_the_image() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, parent) = image(tmp.path(), true);
    let root = copy(tmp.path(), &store, &parent);
    container_changes(&root);
    let mut seen = tree(&root);
    for artifact in ["etc/hosts", "proc", "dev", "dev/pts"] {
        seen.remove(artifact).unwrap();
    }
    let rec = commit(&store, &parent, ContainerFs::Copy(&root), &opts()).unwrap();
    assert_eq!(rec.layers.len(), 2);
    let view = tmp.path().join("view");
    let (up, work) = (tmp.path().join("u2"), tmp.path().join("w2"));
    mount_rootfs(&store, &rec, &view, &up, &work, false).unwrap();
    let got = tree(&view);
    crate::layers::unmount_rootfs(&view).unwrap();
    assert_eq!(got, seen);
}

#[test]
fn build_cache_images_are_hidden_kept_by_image_prune_and_taken_by_builder_prune() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, parent) = image(tmp.path(), false);
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let step = CommitOptions {
        created_by: "/bin/sh -c #(nop)  ENV A=1".into(),
        build_cache: true,
        ..CommitOptions::default()
    };
    let rec = commit(&store, &parent, ContainerFs::Upper(&empty), &step).unwrap();
    assert!(rec.build_cache);
    let scratch = crate::commit::scratch(&store, &crate::Platform::host()).unwrap();
    assert!(scratch.layers.is_empty() && scratch.build_cache);
    let listed = |store: &Store| crate::inspect::rows(&store.list().unwrap()).len();
    let none = std::collections::HashSet::new();
    crate::manage::prune(&store, false, &none).unwrap();
    assert!(store
        .list()
        .unwrap()
        .images
        .contains_key(&rec.manifest.digest));
    let before = listed(&store);
    // Tagged, it is listed; untagged again, hidden.
    store.tag("shown:1", &rec.manifest.digest).unwrap();
    assert_eq!(listed(&store), before + 1);
    store.untag("shown:1").unwrap();
    let (removed, _) = crate::manage::prune_build_cache(&store, &none).unwrap();
    assert_eq!(removed.len(), 2, "{removed:?}");
    assert!(!store
        .list()
        .unwrap()
        .images
        .contains_key(&rec.manifest.digest));
}
