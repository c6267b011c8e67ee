//! `yurta build` must match the peers (issue 12): a corpus of Dockerfiles
//! built with yurta and with podman (Debian's, buildah inside) from the
//! same context on the same busybox base, and the results compared — the
//! configs (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes,
//! Labels, StopSignal, Healthcheck) and the file trees of the exported
//! root filesystems (path, type, mode, owner, size, content digest, link
//! target; not mtimes). buildah's own `io.buildah.version` label is left
//! out. Debian's podman 4.3 (buildah 1.28) has no heredocs: those are
//! tested in build.rs alone. Where buildah differs from Docker, yurta does
//! what Docker does, and the corpus steers clear or the difference is
//! listed ([`DOCKER_NOT_BUILDAH`]): a WORKDIR no later step uses is
//! created (Docker's documented rule), `EXPOSE 8000-8002` is three ports,
//! SHELL applies to a later shell-form ENTRYPOINT, and the empty mount
//! points buildah's RUN leaves in its layers (/etc/hosts, /dev, ...) are
//! not in yurta's, as they are not in Docker's.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use common::podman::PodmanImage;
use common::world::World;
use common::{sh, tar_of};
use serde_json::Value;

/// Each case: a name and its Dockerfile (`BASE` is the base image).
const CORPUS: &[(&str, &str)] = &[
    (
        "config",
        r#"FROM BASE
ARG VERSION=1.2
ENV APP_HOME=/srv/app VERSION=$VERSION
WORKDIR $APP_HOME
WORKDIR sub
USER 1000:1000
EXPOSE 80 53/udp 8000
VOLUME ["/data", "/cache"]
LABEL a=b "with space"="yes" version=$VERSION
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD ["true"]
ENTRYPOINT echo entry
SHELL ["/bin/sh", "-ec"]
CMD ["arg"]
"#,
    ),
    (
        "files",
        r#"FROM BASE
COPY hello.txt /
COPY hello.txt /renamed.txt
COPY dir/ /dest/
COPY dir /whole/
COPY --chmod=0755 hello.txt /bin/hello
COPY --chown=1000:1000 dir/a.txt /owned/
ADD files.tar /unpacked/
RUN mkdir -p /made/deep && echo made > /made/deep/f && rm /etc/group && ln -s /made/deep/f /link
RUN echo private > /private.txt && chmod 600 /private.txt
"#,
    ),
    (
        "stages",
        r#"FROM BASE AS builder
WORKDIR /src
COPY dir/ ./
RUN cat a.txt b.txt > /out.txt && chown 1000:1000 /out.txt
FROM BASE AS other
RUN echo other > /other.txt
FROM BASE
COPY --from=builder /out.txt /app/out.txt
COPY --from=other /other.txt /app/
COPY --from=builder /src/*.txt /txts/
CMD ["cat", "/app/out.txt"]
"#,
    ),
];

/// Paths only yurta's tree has, or only podman's, where yurta follows
/// Docker and buildah does not (see the module's documentation).
const DOCKER_NOT_BUILDAH: &[&str] = &[
    "config: srv",
    "config: srv/app",
    "config: srv/app/sub",
    "files: dev",
    "files: proc",
    "files: sys",
    "files: run",
    "files: etc/hosts",
    "files: etc/hostname",
    "files: etc/resolv.conf",
    "stages: dev",
    "stages: proc",
    "stages: sys",
    "stages: run",
    "stages: etc/hosts",
    "stages: etc/hostname",
    "stages: etc/resolv.conf",
    "stages: src",
];

fn context(dir: &Path) {
    fs::create_dir_all(dir.join("dir/nested")).unwrap();
    fs::write(dir.join("hello.txt"), "hello\n").unwrap();
    fs::write(dir.join("dir/a.txt"), "a\n").unwrap();
    fs::write(dir.join("dir/b.txt"), "b\n").unwrap();
    fs::write(dir.join("dir/nested/c.txt"), "c\n").unwrap();
    fs::write(dir.join("dir/skipped.tmp"), "ignored\n").unwrap();
    fs::write(dir.join(".dockerignore"), "**/*.tmp\n").unwrap();
    let files = dir.join("../tarred");
    fs::create_dir_all(files.join("t")).unwrap();
    fs::write(files.join("t/x.txt"), "from a tar\n").unwrap();
    tar_of(&files, &dir.join("files.tar"));
}

/// The config fields compared.
fn config(v: &Value) -> BTreeMap<&'static str, Value> {
    let mut out = BTreeMap::new();
    for k in [
        "Env",
        "Cmd",
        "Entrypoint",
        "WorkingDir",
        "User",
        "ExposedPorts",
        "Volumes",
        "Labels",
        "StopSignal",
        "Healthcheck",
    ] {
        let mut x = v.get(k).cloned().unwrap_or(Value::Null);
        if k == "Labels" {
            if let Some(m) = x.as_object_mut() {
                m.remove("io.buildah.version");
            }
            if x.as_object().is_some_and(|m| m.is_empty()) {
                x = Value::Null;
            }
        }
        if x.as_str() == Some("") || x.as_object().is_some_and(|m| m.is_empty()) {
            x = Value::Null;
        }
        out.insert(k, x);
    }
    out
}

/// One line per entry of an exported root filesystem.
fn tree(tar: &[u8]) -> BTreeMap<String, String> {
    let mut a = tar::Archive::new(tar);
    let mut out = BTreeMap::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let path = e.path().unwrap().display().to_string();
        let path = path
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        if path.is_empty() || path == "." {
            continue;
        }
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.display().to_string())
            .unwrap_or_default();
        let line = format!(
            "{:?} {:o} {}:{} {} {} {}",
            h.entry_type(),
            h.mode().unwrap() & 0o7777,
            h.uid().unwrap(),
            h.gid().unwrap(),
            data.len(),
            yurta_images::Digest::of(&data),
            link
        );
        out.insert(path, line);
    }
    out
}

/// The compared config fields of `image` as yurta and podman have it.
fn configs(
    w: &World,
    image: &str,
) -> (BTreeMap<&'static str, Value>, BTreeMap<&'static str, Value>) {
    let inspect = |out: String| -> BTreeMap<&'static str, Value> {
        config(&serde_json::from_str(&out).unwrap())
    };
    let yc = inspect(
        w.run(&["image", "inspect", "-f", "{{json .Config}}", image])
            .ok()
            .stdout,
    );
    let mut pc = inspect(
        sh(
            "podman",
            &["image", "inspect", "-f", "{{json .Config}}", image],
        )
        .stdout,
    );
    if pc["Healthcheck"].is_null() {
        // podman shows a docker-format image's check beside the config.
        let all: Value =
            serde_json::from_str(&sh("podman", &["image", "inspect", image]).stdout).unwrap();
        pc.insert("Healthcheck", all[0]["Healthcheck"].clone());
    }
    (yc, pc)
}

/// The file trees of `image` exported from a container of each (named
/// `ctr` in yurta), yurta's first.
fn exported_trees(
    w: &World,
    image: &str,
    ctr: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    w.run(&["create", "--name", ctr, image, "sh"]).ok();
    let y_tar = w.cmd(&["export", ctr]).output().unwrap().stdout;
    w.run(&["rm", ctr]).ok();
    let id = sh("podman", &["create", image, "sh"])
        .stdout
        .trim()
        .to_string();
    let p_tar = std::process::Command::new("podman")
        .args(["export", &id])
        .output()
        .unwrap()
        .stdout;
    sh("podman", &["rm", &id]);
    (tree(&y_tar), tree(&p_tar))
}

#[test]
fn the_corpus_builds_the_same_as_podman() {
    if common::podman::skipped() {
        eprintln!("skipped: YURTA_SKIP_PODMAN_TESTS");
        return;
    }
    let Some(w) = World::new() else { return };
    let tag = format!("yurta-peer-{}", std::process::id());
    let podman_base = format!("localhost/{tag}/base:1");
    let _base = PodmanImage(podman_base.clone());
    let rootfs = w.y.path("rootfs");
    for tool in ["mkdir", "rm", "ln", "chmod", "chown"] {
        let _ = std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(tool));
    }
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
    let base_tar = w.y.path("base.tar");
    tar_of(&rootfs, &base_tar);
    w.run(&["import", base_tar.to_str().unwrap(), "peerbase"])
        .ok();
    let o = sh(
        "podman",
        &["import", "-q", base_tar.to_str().unwrap(), &podman_base],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let ctx = w.y.path("peer-ctx");
    context(&ctx);

    let mut failures = Vec::new();
    for (name, text) in CORPUS {
        let image = format!("localhost/{tag}/{name}:1");
        let _built = PodmanImage(image.clone());
        let ours = ctx.join(format!("{name}.yurta"));
        let theirs = ctx.join(format!("{name}.podman"));
        fs::write(&ours, text.replace("BASE", "peerbase")).unwrap();
        fs::write(&theirs, text.replace("BASE", &podman_base)).unwrap();
        let ctx_s = ctx.to_str().unwrap();
        let y = w.run(&[
            "build",
            "-q",
            "-f",
            ours.to_str().unwrap(),
            "-t",
            &image,
            ctx_s,
        ]);
        assert_eq!(y.code, 0, "{name}: {}", y.stderr);
        let p = sh(
            "podman",
            &[
                "build",
                "-q",
                "--format",
                "docker",
                "-f",
                theirs.to_str().unwrap(),
                "-t",
                &image,
                ctx_s,
            ],
        );
        assert_eq!(p.code, 0, "{name}: {}", p.stderr);

        let (yc, pc) = configs(&w, &image);
        for (k, v) in &yc {
            if pc.get(k) != Some(v) {
                failures.push(format!("{name}: config {k}: yurta {v} podman {}", pc[k]));
            }
        }

        let (yt, pt) = exported_trees(&w, &image, &format!("{tag}-{name}"));
        let known = |path: &str| DOCKER_NOT_BUILDAH.contains(&format!("{name}: {path}").as_str());
        for (path, line) in &pt {
            match yt.get(path) {
                Some(l) if l == line => {}
                Some(l) => failures.push(format!("{name}: {path}: yurta {l} podman {line}")),
                None if known(path) => {}
                None => failures.push(format!("{name}: {path}: only podman has it: {line}")),
            }
        }
        for (path, line) in &yt {
            if !pt.contains_key(path) && !known(path) {
                failures.push(format!("{name}: {path}: only yurta has it: {line}"));
            }
        }
    }
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

/// A Debian base from debootstrap and a real `RUN apt-get install`,
/// through yurta's build container and its default network, next to
/// podman's: the package comes from a local repository on this machine
/// (scripts/test.sh fetched it), reached at each builder's bridge gateway.
/// The same config, the package's files the same (path, type, mode, owner,
/// size, digest), the same user made by `useradd`, and the program runs.
#[test]
fn apt_get_install_on_a_debian_base_as_podman_does() {
    if common::podman::skipped() {
        eprintln!("skipped: YURTA_SKIP_PODMAN_TESTS");
        return;
    }
    let Some(w) = World::new() else { return };
    let base_tar = common::debian::rootfs_tar();
    let tag = format!("yurta-debian-{}", std::process::id());
    let (podman_base, image) = (
        format!("localhost/{tag}/base:1"),
        format!("localhost/{tag}/hello:1"),
    );
    let (_base, _built) = (PodmanImage(podman_base.clone()), PodmanImage(image.clone()));
    w.run(&["import", base_tar.to_str().unwrap(), "debian"])
        .ok();
    let o = sh(
        "podman",
        &["import", "-q", base_tar.to_str().unwrap(), &podman_base],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let repo = common::debian::LocalRepo::start();
    let text = r#"FROM BASE
ARG REPO
ENV DEBIAN_FRONTEND=noninteractive
RUN rm -f /etc/apt/sources.list /etc/apt/sources.list.d/* \
 && echo "deb [trusted=yes allow-insecure=yes] $REPO ./" >/etc/apt/sources.list.d/local.list \
 && apt-get update && apt-get install -y --no-install-recommends hello \
 && rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/local.list
RUN useradd -m -u 1500 app
USER app
WORKDIR /home/app
CMD ["hello"]
"#;
    let ctx = w.y.path("debian-ctx");
    fs::create_dir_all(&ctx).unwrap();
    let (ours, theirs) = (ctx.join("Dockerfile.yurta"), ctx.join("Dockerfile.podman"));
    fs::write(&ours, text.replace("BASE", "debian")).unwrap();
    fs::write(&theirs, text.replace("BASE", &podman_base)).unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let gateway = |out: String| format!("REPO=http://{}:{}", out.trim(), repo.port);
    let ours_repo = gateway(
        w.run(&[
            "network",
            "inspect",
            "bridge",
            "-f",
            "{{(index .IPAM.Config 0).Gateway}}",
        ])
        .ok()
        .stdout,
    );
    let theirs_repo = gateway(
        sh(
            "podman",
            &[
                "network",
                "inspect",
                "podman",
                "-f",
                "{{range .Subnets}}{{.Gateway}}{{end}}",
            ],
        )
        .stdout,
    );
    let y = w.run(&[
        "build",
        "--build-arg",
        &ours_repo,
        "-f",
        ours.to_str().unwrap(),
        "-t",
        &image,
        ctx_s,
    ]);
    assert_eq!(y.code, 0, "{}{}", y.stdout, y.stderr);
    assert!(y.stdout.contains("Setting up hello"), "{}", y.stdout);
    let p = sh(
        "podman",
        &[
            "build",
            "-q",
            "--format",
            "docker",
            "--build-arg",
            &theirs_repo,
            "-f",
            theirs.to_str().unwrap(),
            "-t",
            &image,
            ctx_s,
        ],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);

    let run = w.run(&["run", "--rm", "--network", "none", &image]).ok();
    assert_eq!(run.stdout, "Hello, world!\n");
    let id = w
        .run(&["run", "--rm", "--network", "none", &image, "id"])
        .ok();
    assert_eq!(id.stdout, "uid=1500(app) gid=1500(app) groups=1500(app)\n");

    let (yc, pc) = configs(&w, &image);
    assert_eq!(yc, pc);

    // The package's files and the accounts, from both exports.
    let listed = w
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            &image,
            "dpkg",
            "-L",
            "hello",
        ])
        .ok()
        .stdout;
    let mut wanted: Vec<String> = listed
        .lines()
        .map(|l| l.trim_start_matches('/').to_string())
        .filter(|l| !l.is_empty() && l != ".")
        .collect();
    wanted.extend(["etc/passwd", "etc/group", "home/app"].map(String::from));
    let (yt, pt) = exported_trees(&w, &image, &format!("{tag}-c"));
    assert!(wanted.iter().any(|p| p == "usr/bin/hello"), "{listed}");
    let mut failures = Vec::new();
    for path in &wanted {
        match (yt.get(path), pt.get(path)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => failures.push(format!("{path}: yurta {a:?} podman {b:?}")),
        }
    }
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}
