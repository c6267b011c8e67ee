//! `yurta manifest` (issue 14): a list of local images for amd64 and e2k
//! v6 and v4 (built for those platforms, COPY-only), annotated, pushed
//! with `--all` to `yurta registry serve`, read back by skopeo, and pulled
//! by yurta per platform — an e2k v5 host takes the v4 entry, the newest
//! generation it runs. Bad input: one line, exit 125, the list unchanged.

mod common;
mod regsrv;

use common::{sh, Yurta};
use regsrv::Server;
use serde_json::Value;

fn platforms(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let p = &m["platform"];
            let mut s = format!(
                "{}/{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap()
            );
            if let Some(v) = p["variant"].as_str() {
                s.push('/');
                s.push_str(v);
            }
            s
        })
        .collect()
}

fn inspect(y: &Yurta, list: &str) -> Value {
    serde_json::from_str(&y.run(&["manifest", "inspect", list]).ok().stdout).unwrap()
}

#[test]
fn a_list_for_amd64_and_e2k_is_made_pushed_and_pulled_per_platform() {
    let y = Yurta::new();
    let tar = y.path("rootfs.tar");
    common::tar_of(&y.rootfs(), &tar);
    y.run(&[
        "import",
        "--platform",
        "linux/amd64",
        tar.to_str().unwrap(),
        "app:amd64",
    ])
    .ok();
    y.build_file_image("linux/e2k/v6", "app:e2k-v6", "for Elbrus-16C\n");
    y.build_file_image("linux/e2k/v4", "app:e2k-v4", "for Elbrus-8C\n");

    let made = y
        .run(&["manifest", "create", "app:multi", "app:amd64", "app:e2k-v6"])
        .ok();
    assert_eq!(made.stdout, "docker.io/library/app:multi\n");
    y.run(&["manifest", "add", "app:multi", "app:e2k-v4"]).ok();
    y.run(&[
        "manifest",
        "annotate",
        "--annotation",
        "org.example.cpu=elbrus-8c",
        "--features",
        "vliw",
        "app:multi",
        "app:e2k-v4",
    ])
    .ok();
    let index = inspect(&y, "app:multi");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        platforms(&index),
        ["linux/amd64", "linux/e2k/v6", "linux/e2k/v4"]
    );
    assert_eq!(
        index["manifests"][2]["annotations"]["org.example.cpu"],
        "elbrus-8c"
    );
    assert_eq!(index["manifests"][2]["platform"]["features"][0], "vliw");

    // Bad input: one line each, nothing changed.
    let again = y.run(&["manifest", "create", "app:multi", "app:amd64"]);
    assert_eq!(again.code, 125);
    assert_eq!(
        again.stderr,
        "yurta: app:multi: a manifest list of that name exists (use --amend to add to it)\n"
    );
    let missing = y.run(&["manifest", "add", "app:multi", "nosuch:1"]);
    assert_eq!(missing.code, 125);
    assert!(missing.stderr.contains("nosuch"), "{}", missing.stderr);
    let v9 = y.run(&[
        "manifest",
        "annotate",
        "--variant",
        "v9",
        "app:multi",
        "app:e2k-v6",
    ]);
    assert_eq!(v9.code, 125);
    assert!(
        v9.stderr
            .contains("e2k has variants v3, v4, v5, v6, v7; got \"v9\""),
        "{}",
        v9.stderr
    );
    // No local list: the registry's, here one where nothing listens.
    let none = y.run(&["manifest", "inspect", "127.0.0.1:1/nolist"]);
    assert_eq!(none.code, 125);
    assert!(
        none.stderr
            .starts_with("yurta: 127.0.0.1:1/nolist: no such manifest list here; ")
            && none.stderr.lines().count() == 1,
        "{}",
        none.stderr
    );
    assert_eq!(
        inspect(&y, "app:multi"),
        index,
        "unchanged by the refused commands"
    );

    // Pushed with its images; what the registry holds is that index.
    let srv = Server::start(&[]);
    let dest = format!("{}/team/app:1", srv.addr());
    let pushed = y
        .run(&[
            "manifest",
            "push",
            "--all",
            "-q",
            "--tls-verify=false",
            "app:multi",
            &dest,
        ])
        .ok();
    let digest = pushed.stdout.trim();
    assert!(digest.starts_with("sha256:"), "{}", pushed.stdout);
    let raw = sh(
        "skopeo",
        &[
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{dest}"),
        ],
    )
    .ok();
    assert_eq!(regsrv::digest(&raw.raw), digest);
    let theirs: Value = serde_json::from_slice(&raw.raw).unwrap();
    assert_eq!(theirs, index);
    // `manifest inspect` of a name with no local list: the registry's
    // bytes, as docker's and podman's.
    let remote = y
        .run(&["manifest", "inspect", "--tls-verify=false", &dest])
        .ok();
    assert_eq!(
        remote.stdout.trim_end().as_bytes(),
        String::from_utf8_lossy(&raw.raw).trim_end().as_bytes()
    );

    // Each platform pulls its own entry; v5 runs v4 code, not v6.
    for (platform, file) in [
        ("linux/e2k/v6", "for Elbrus-16C\n"),
        ("linux/e2k/v5", "for Elbrus-8C\n"),
    ] {
        let other = Yurta::new();
        other
            .run(&[
                "pull",
                "-q",
                "--tls-verify=false",
                "--platform",
                platform,
                &dest,
            ])
            .ok();
        let arch = other
            .run(&[
                "image",
                "inspect",
                "-f",
                "{{.Architecture}}/{{.Variant}}",
                &dest,
            ])
            .ok();
        let want = if platform.ends_with("v6") {
            "e2k/v6\n"
        } else {
            "e2k/v4\n"
        };
        assert_eq!(arch.stdout, want, "{platform}");
        let saved = other.path("saved");
        std::fs::create_dir_all(&saved).unwrap();
        let ctr = other.run(&["create", &dest, "/hello"]).ok().stdout;
        let tarball = other.path("export.tar");
        other
            .run(&["export", "-o", tarball.to_str().unwrap(), ctr.trim()])
            .ok();
        let mut a = tar::Archive::new(std::fs::File::open(&tarball).unwrap());
        let hello = a
            .entries()
            .unwrap()
            .map(Result::unwrap)
            .find(|e| e.path().unwrap().to_string_lossy().trim_start_matches("./") == "hello")
            .map(|mut e| {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut e, &mut s).unwrap();
                s
            });
        assert_eq!(hello.as_deref(), Some(file), "{platform}");
    }
    let host = Yurta::new();
    host.run(&["pull", "-q", "--tls-verify=false", &dest]).ok();
    let arch = host
        .run(&["image", "inspect", "-f", "{{.Architecture}}", &dest])
        .ok();
    assert_eq!(arch.stdout, "amd64\n", "an x86-64 host takes amd64");

    // The list goes, its images stay.
    y.run(&["manifest", "rm", "app:multi"]).ok();
    assert_eq!(y.run(&["manifest", "inspect", "app:multi"]).code, 125);
    y.run(&["image", "inspect", "app:e2k-v6"]).ok();
    let rm = y.run(&["manifest", "rm", "app:multi"]);
    assert_eq!(rm.stderr, "yurta: app:multi: no such manifest list\n");
}
