//! `yurta registry serve` with more real clients (issue 14): buildah makes
//! and pushes a manifest list of yurta's amd64 and e2k images that yurta
//! pulls per platform; podman pulls the e2k entry of a list `yurta
//! manifest push` made; the docker CLI pushes, pulls and runs through
//! `yurta system service`; ORAS pushes and pulls an artifact.

mod api_common;
mod common;
mod regsrv;

use api_common::Service;
use common::podman::PodmanImage;
use common::world::World;
use common::{sh, Yurta};
use regsrv::Server;

/// Builds `name` for `platform` from scratch (one file) and pushes it.
fn build_and_push(y: &Yurta, platform: &str, name: &str, text: &str) {
    y.build_file_image(platform, name, text);
    y.run(&["push", "-q", "--tls-verify=false", name]).ok();
}

/// `ARCH/VARIANT` (`amd64/` without a variant) of a stored image.
fn arch_of(y: &Yurta, image: &str) -> String {
    let out = y.run(&["image", "inspect", image]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    format!(
        "{}/{}\n",
        v[0]["Architecture"].as_str().unwrap_or(""),
        v[0]["Variant"].as_str().unwrap_or("")
    )
}

/// buildah's list (its own format: a Docker manifest list) of images
/// yurta pushed: yurta takes the e2k entry for an e2k platform.
#[test]
fn buildah_lists_yurta_images_and_yurta_pulls_per_platform() {
    if common::podman::skipped() {
        return;
    }
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let (amd, e2k) = (
        format!("{}/b/app:amd", srv.addr()),
        format!("{}/b/app:e2k", srv.addr()),
    );
    build_and_push(&y, "linux/amd64", &amd, "amd\n");
    build_and_push(&y, "linux/e2k/v6", &e2k, "e2k\n");
    let list = format!("yurta-test-list-{}", std::process::id());
    let _guard = PodmanImage(format!("localhost/{list}"));
    sh("buildah", &["manifest", "create", &list]).ok();
    for image in [&amd, &e2k] {
        sh(
            "buildah",
            &[
                "manifest",
                "add",
                "--tls-verify=false",
                &list,
                &format!("docker://{image}"),
            ],
        )
        .ok();
    }
    let multi = format!("{}/b/app:multi", srv.addr());
    sh(
        "buildah",
        &[
            "manifest",
            "push",
            "--all",
            "--tls-verify=false",
            &list,
            &format!("docker://{multi}"),
        ],
    )
    .ok();
    for (platform, want) in [("linux/e2k/v6", "e2k/v6\n"), ("linux/amd64", "amd64/\n")] {
        let other = Yurta::new();
        other
            .run(&[
                "pull",
                "-q",
                "--tls-verify=false",
                "--platform",
                platform,
                &multi,
            ])
            .ok();
        assert_eq!(arch_of(&other, &multi), want, "{platform}");
    }
}

/// podman takes the e2k entry of a list yurta made and pushed.
#[test]
fn podman_pulls_the_e2k_entry_of_a_yurta_list() {
    if common::podman::skipped() {
        return;
    }
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let (amd, e2k) = (
        format!("{}/p/app:amd", srv.addr()),
        format!("{}/p/app:e2k", srv.addr()),
    );
    build_and_push(&y, "linux/amd64", &amd, "amd\n");
    build_and_push(&y, "linux/e2k/v6", &e2k, "e2k\n");
    y.run(&["manifest", "create", "l:1", &amd, &e2k]).ok();
    let multi = format!("{}/p/list:1", srv.addr());
    y.run(&[
        "manifest",
        "push",
        "--all",
        "--tls-verify=false",
        "l:1",
        &multi,
    ])
    .ok();
    let _guard = PodmanImage(multi.clone());
    sh(
        "podman",
        &[
            "pull",
            "-q",
            "--platform",
            "linux/e2k/v6",
            "--tls-verify=false",
            &multi,
        ],
    )
    .ok();
    let arch = sh(
        "podman",
        &["image", "inspect", "-f", "{{.Architecture}}", &multi],
    )
    .ok();
    assert_eq!(arch.stdout, "e2k\n");
    // The same image: its config (the image ID) is the e2k build's.
    let theirs = sh("podman", &["image", "inspect", "-f", "{{.Id}}", &multi]).ok();
    let ours = y.run(&["image", "inspect", "-f", "{{.Id}}", &e2k]).ok();
    assert_eq!(
        format!("sha256:{}", theirs.stdout.trim()),
        ours.stdout.trim(),
        "the e2k entry"
    );
}

/// The docker CLI through `yurta system service`, against yurta's
/// registry: push, pull back, and run an image the service lacks.
#[test]
fn docker_through_the_service_pushes_and_pulls() {
    let Some(w) = World::new() else { return };
    let srv = Server::start(&[]);
    let s = Service::start(&w, &[]);
    let name = format!("{}/d/img:1", srv.addr());
    let ok = |args: &[&str]| s.docker_ok(args);
    ok(&["tag", "img", &name]);
    let out = ok(&["push", &name]);
    assert!(out.contains("1: digest: sha256:"), "{out}");
    ok(&["rmi", &name, "img"]);
    let out = ok(&["pull", &name]);
    assert!(out.contains("Status: Downloaded newer image"), "{out}");
    ok(&["rmi", &name]);
    let run = s.docker(&["run", "--rm", &name, "echo", "hi"]);
    assert_eq!(run.stdout, "hi\n", "{}", run.stderr);
}

/// ORAS (the PyPI SDK, /opt/yurta-test/oras from scripts/test.sh) pushes
/// a file as an OCI artifact and pulls it back, lists the tags.
#[test]
fn oras_pushes_and_pulls_an_artifact() {
    let oras = "/opt/yurta-test/oras";
    assert!(
        std::path::Path::new(oras).join("oras").exists(),
        "ORAS's Python SDK in {oras} is needed (scripts/test.sh installs it)"
    );
    let srv = Server::start(&[]);
    let y = Yurta::new();
    let work = y.path("oras");
    std::fs::create_dir_all(work.join("out")).unwrap();
    std::fs::write(work.join("notes.txt"), "an artifact for e2k hosts\n").unwrap();
    let o = std::process::Command::new("/usr/bin/python3")
        .env("PYTHONPATH", oras)
        .current_dir(&work)
        .arg("-c")
        .arg(ORAS_PY)
        .arg(srv.addr())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        srv.log()
    );
    assert_eq!(
        std::fs::read_to_string(work.join("out/notes.txt")).unwrap(),
        "an artifact for e2k hosts\n"
    );
}

const ORAS_PY: &str = r#"
import sys, oras.client
addr = sys.argv[1]
c = oras.client.OrasClient(hostname=addr, insecure=True)
target = addr + "/docs/notes:v1"
r = c.push(files=["notes.txt"], target=target)
assert r.status_code == 201, r.status_code
m = c.get_manifest(target)
assert m["layers"][0]["annotations"]["org.opencontainers.image.title"] == "notes.txt", m
assert c.get_tags(addr + "/docs/notes") == ["v1"]
got = c.pull(target=target, outdir="out")
assert got and got[0].endswith("out/notes.txt"), got
"#;
