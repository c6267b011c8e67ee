//! The `yurta` image commands end to end, each test with its own --root.

mod common;

use common::{tar_of, Yurta};
use serde_json::Value;

fn inspect(y: &Yurta, image: &str) -> Value {
    let out = y.run(&["image", "inspect", image]).ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    v[0].clone()
}

#[test]
fn import_inspect_tag_history_rmi() {
    let y = Yurta::new();
    let rootfs = y.rootfs();
    let out = y
        .run(&[
            "import",
            "--platform",
            "linux/e2k/v6",
            "--change",
            "CMD [\"/bin/sh\"]",
            "-c",
            "ENV A=1",
            "-m",
            "base system",
            rootfs.to_str().unwrap(),
            "myorg/base:1",
        ])
        .ok();
    let id = out.stdout.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let v = inspect(&y, "myorg/base:1");
    assert_eq!(v["Id"], id);
    assert_eq!(v["RepoTags"], serde_json::json!(["myorg/base:1"]));
    assert_eq!(v["Architecture"], "e2k");
    assert_eq!(v["Variant"], "v6");
    assert_eq!(v["Os"], "linux");
    assert_eq!(v["Comment"], "base system");
    assert_eq!(v["Config"]["Cmd"], serde_json::json!(["/bin/sh"]));
    assert_eq!(v["Config"]["Env"], serde_json::json!(["A=1"]));
    assert_eq!(v["RootFS"]["Type"], "layers");
    assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 1);

    y.run(&["tag", "myorg/base:1", "localhost/copy"]).ok();
    let q = y.run(&["images", "-q"]).ok();
    assert_eq!(q.stdout, format!("{}\n", &id[7..19]));
    let table = y.run(&["images"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("REPOSITORY"));
    let json = y
        .run(&[
            "images",
            "--format",
            "json",
            "--filter",
            "reference=localhost/*",
        ])
        .ok()
        .stdout;
    let row: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(
        (row["Repository"].as_str(), row["Tag"].as_str()),
        (Some("localhost/copy"), Some("latest"))
    );

    let hist = y
        .run(&["history", "--format", "json", "myorg/base:1"])
        .ok()
        .stdout;
    let h: Value = serde_json::from_str(hist.trim()).unwrap();
    assert_eq!(h["CreatedBy"], "yurta import");
    assert_eq!(h["Comment"], "base system");

    // Two tags: removing by ID needs -f; removing a tag only untags.
    let conflict = y.run(&["rmi", &id[7..19]]);
    assert_eq!(conflict.code, 125);
    assert_eq!(
        conflict.stderr.trim(),
        format!("yurta: rmi {}: conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories", &id[7..19], &id[7..19])
    );
    assert_eq!(
        y.run(&["rmi", "localhost/copy"]).ok().stdout,
        "Untagged: localhost/copy:latest\n"
    );
    let gone = y.run(&["rmi", "myorg/base:1"]).ok().stdout;
    assert_eq!(gone, format!("Untagged: myorg/base:1\nDeleted: {id}\n"));
    assert_eq!(y.run(&["images", "-q"]).ok().stdout, "");
    let blobs = std::fs::read_dir(y.root().join("images/blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 0, "rmi collects the blobs");
}

/// `import URL` (as `docker import URL`): the download streams into the
/// same image a local import of the tar makes; a missing file is one
/// line naming the URL, and nothing is stored.
#[test]
fn import_from_a_url() {
    let y = Yurta::new();
    let served = y.path("served");
    std::fs::create_dir_all(&served).unwrap();
    let tarball = served.join("rootfs.tar");
    tar_of(&y.rootfs(), &tarball);
    common::sh("gzip", &["-k", tarball.to_str().unwrap()]).ok();
    let server = common::files::FileServer::loopback(&served);
    let url = server.url("rootfs.tar.gz");
    let from_url = y.run(&["import", &url, "fromurl:1"]).ok().stdout;
    let local = y.run(&["import", tarball.to_str().unwrap()]).ok().stdout;
    let layers = |image: &str| inspect(&y, image)["RootFS"]["Layers"].clone();
    assert_eq!(layers("fromurl:1"), layers(local.trim()));
    assert!(from_url.trim().starts_with("sha256:"), "{from_url}");
    let before = y.run(&["images", "-q", "--no-trunc"]).ok().stdout;
    let missing = server.url("missing.tar");
    let out = y.run(&["import", &missing, "missing:1"]);
    assert_eq!(out.code, 125);
    assert_eq!(
        out.stderr,
        format!("yurta: import: {missing}: HTTP 404 Not Found\n")
    );
    drop(server);
    let refused = y.run(&["import", &url, "refused:1"]);
    assert_eq!(refused.code, 125);
    assert!(
        refused
            .stderr
            .starts_with(&format!("yurta: import: {url}: ")),
        "{}",
        refused.stderr
    );
    assert_eq!(y.run(&["images", "-q", "--no-trunc"]).ok().stdout, before);
}

#[test]
fn errors_are_one_line_with_exit_125() {
    let y = Yurta::new();
    for (args, want) in [
        (
            vec!["image", "inspect", "nothing"],
            "yurta: inspect nothing: no such image: nothing",
        ),
        (
            vec!["tag", "nothing", "x"],
            "yurta: tag nothing: no such image: nothing",
        ),
        (
            vec!["import", "--platform", "linux", "/nonexistent"],
            "yurta: invalid platform \"linux\": expected os/arch[/variant]",
        ),
        (
            vec!["import", "/nonexistent/x.tar"],
            "yurta: import: open /nonexistent/x.tar: No such file or directory (os error 2)",
        ),
        (
            vec!["save", "--format", "zip", "-o", "/tmp/x", "a"],
            "yurta: unknown archive format \"zip\": expected docker-archive or oci-archive",
        ),
        (
            vec!["images", "--filter", "label=a"],
            "yurta: invalid filter \"label=a\": expected reference=PATTERN or dangling=true|false",
        ),
    ] {
        let out = y.run(&args);
        assert_eq!(out.code, 125, "{args:?}");
        assert_eq!(out.stderr.trim_end(), want, "{args:?}");
    }
    assert_eq!(y.run(&["no-such-command"]).code, 125);
}

/// Loading an image this root has (its archive's manifest differs from
/// the stored one) makes a second record of the same ID: still one image
/// in `images`, none dangling, and `image prune` deletes no image.
#[test]
fn loading_an_image_already_here_keeps_one_image() {
    let y = Yurta::new();
    let tarball = y.path("rootfs.tar");
    tar_of(&y.rootfs(), &tarball);
    let id = y
        .run(&["import", tarball.to_str().unwrap(), "app:1"])
        .ok()
        .stdout;
    let archive = y.path("app.tar");
    let archive_s = archive.to_str().unwrap();
    y.run(&[
        "save",
        "--format",
        "docker-archive",
        "-o",
        archive_s,
        "app:1",
    ])
    .ok();
    y.run(&["load", "-q", "-i", archive_s]).ok();
    let listed = y
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .ok()
        .stdout;
    assert_eq!(listed, format!("app:1 {}\n", &id.trim()[7..19]));
    assert_eq!(
        y.run(&["images", "-q", "-f", "dangling=true"]).ok().stdout,
        ""
    );
    let pruned = y.run(&["image", "prune", "-f"]).ok().stdout;
    assert!(!pruned.contains("deleted:"), "{pruned}");
    assert_eq!(
        inspect(&y, "app:1")["Id"].as_str().unwrap(),
        id.trim(),
        "{pruned}"
    );
    // Another image in two records, untagged: it goes, every record of it.
    let other = y
        .run(&["import", tarball.to_str().unwrap(), "app:2"])
        .ok()
        .stdout;
    y.run(&[
        "save",
        "--format",
        "docker-archive",
        "-o",
        archive_s,
        "app:2",
    ])
    .ok();
    y.run(&["load", "-q", "-i", archive_s]).ok();
    let removed = y.run(&["rmi", "app:2"]).ok().stdout;
    assert_eq!(
        removed,
        format!("Untagged: app:2\nDeleted: {}\n", other.trim())
    );
    let left = y.run(&["images", "-aq", "--no-trunc"]).ok().stdout;
    assert_eq!(left.trim(), id.trim());
}

#[test]
fn save_load_round_trip_both_formats_and_prune() {
    let y = Yurta::new();
    let rootfs = y.rootfs();
    let tarball = y.path("rootfs.tar");
    tar_of(&rootfs, &tarball);
    let id = y
        .run(&["import", tarball.to_str().unwrap(), "app:2"])
        .ok()
        .stdout
        .trim()
        .to_string();
    for format in ["docker-archive", "oci-archive"] {
        let archive = y.path(&format!("{format}.tar"));
        y.run(&[
            "save",
            "--format",
            format,
            "-o",
            archive.to_str().unwrap(),
            "app:2",
        ])
        .ok();
        let other = Yurta::new();
        let out = other
            .run(&["load", "-q", "-i", archive.to_str().unwrap()])
            .ok();
        assert_eq!(out.stdout, "Loaded image: app:2\n", "{format}");
        assert_eq!(inspect(&other, "app:2")["Id"], id, "{format}");
        let df = other.run(&["system", "df"]).ok().stdout;
        assert!(
            df.lines().nth(1).unwrap().starts_with("Images          1 "),
            "{df}"
        );
    }
    // Untag, then prune the dangling image: nothing is left.
    y.run(&["tag", "app:2", "app:3"]).ok();
    y.run(&["rmi", "app:2"]).ok();
    let pruned = y.run(&["image", "prune", "-f"]).ok().stdout;
    assert_eq!(
        pruned.lines().last(),
        Some("Total reclaimed space: 0B"),
        "tagged images stay"
    );
    let all = y.run(&["image", "prune", "-a", "-f"]).ok().stdout;
    assert!(all.contains(&format!("deleted: {id}")), "{all}");
    assert_eq!(
        std::fs::read_dir(y.root().join("images/blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
}
