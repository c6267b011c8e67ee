//! Interchange with podman both ways: what yurta saves, podman loads and
//! runs; what podman saves, yurta loads. Needs root, podman (with runc, see
//! scripts/test.sh) and a static /bin/busybox. `YURTA_SKIP_PODMAN_TESTS=1`
//! skips the file; otherwise a missing prerequisite fails loudly.

mod common;

use common::podman::{skipped, PodmanImage};
use common::{sh, tar_of, Yurta};

fn unique(what: &str) -> String {
    format!("localhost/yurta-{what}-{}:1", std::process::id())
}

#[test]
fn podman_loads_and_runs_what_yurta_saves() {
    if skipped() {
        return;
    }
    let y = Yurta::new();
    let rootfs = y.rootfs();
    for format in ["docker-archive", "oci-archive"] {
        let name = unique(&format!("saved-{format}"));
        let _cleanup = PodmanImage(name.clone());
        y.run(&[
            "import",
            "-c",
            "CMD [\"/bin/sh\"]",
            rootfs.to_str().unwrap(),
            &name,
        ])
        .ok();
        let archive = y.path(&format!("{format}.tar"));
        y.run(&[
            "save",
            "--format",
            format,
            "-o",
            archive.to_str().unwrap(),
            &name,
        ])
        .ok();
        let loaded = sh("podman", &["load", "-i", archive.to_str().unwrap()]).ok();
        assert!(
            loaded.stdout.contains(&format!("Loaded image: {name}")),
            "{format}: {}",
            loaded.stdout
        );
        let ran = sh("podman", &["run", "--rm", &name, "echo", "ok"]).ok();
        assert_eq!(ran.stdout, "ok\n", "{format}");
        let id = sh(
            "podman",
            &["image", "inspect", "--format", "{{.Id}}", &name],
        )
        .ok();
        let ours = y
            .run(&["image", "inspect", "--format", "{{.Id}}", &name])
            .ok();
        assert_eq!(
            format!("sha256:{}", id.stdout.trim()),
            ours.stdout.trim(),
            "same image ID"
        );
    }
}

#[test]
fn yurta_loads_what_podman_saves() {
    if skipped() {
        return;
    }
    let y = Yurta::new();
    let rootfs = y.rootfs();
    let tarball = y.path("rootfs.tar");
    tar_of(&rootfs, &tarball);
    let name = unique("from-podman");
    let _cleanup = PodmanImage(name.clone());
    sh("podman", &["import", tarball.to_str().unwrap(), &name]).ok();
    let podman_id = sh(
        "podman",
        &["image", "inspect", "--format", "{{.Id}}", &name],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    let podman_layers = sh(
        "podman",
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            &name,
        ],
    )
    .ok()
    .stdout;
    for format in ["docker-archive", "oci-archive"] {
        let archive = y.path(&format!("podman-{format}.tar"));
        sh(
            "podman",
            &[
                "save",
                "--format",
                format,
                "-o",
                archive.to_str().unwrap(),
                &name,
            ],
        )
        .ok();
        let other = Yurta::new();
        let out = other
            .run(&["load", "-q", "-i", archive.to_str().unwrap()])
            .ok();
        assert_eq!(out.stdout, format!("Loaded image: {name}\n"), "{format}");
        let id = other
            .run(&["image", "inspect", "--format", "{{.Id}}", &name])
            .ok()
            .stdout;
        assert_eq!(id.trim(), format!("sha256:{podman_id}"), "{format}");
        let layers = other
            .run(&[
                "image",
                "inspect",
                "--format",
                "{{json .RootFS.Layers}}",
                &name,
            ])
            .ok()
            .stdout;
        let ours: serde_json::Value = serde_json::from_str(layers.trim()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(podman_layers.trim()).unwrap();
        assert_eq!(ours, theirs, "{format}");
        // And it round-trips back: what yurta re-saves, podman loads again.
        let again = other.path("again.tar");
        other
            .run(&["save", "-o", again.to_str().unwrap(), &name])
            .ok();
        assert!(sh("podman", &["load", "-i", again.to_str().unwrap()])
            .ok()
            .stdout
            .contains(&name));
    }
}
