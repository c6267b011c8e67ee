//! `yurta build` end to end, as root (issue 12): a multi-stage Dockerfile
//! on a busybox image made here — ARG/ENV/WORKDIR/COPY (files, a
//! directory's contents, --chown by name, heredocs)/ADD of a tar/RUN
//! (shell form, exec form, a heredoc script)/config instructions — the
//! image's config and files checked by running it; the cache (a rebuild
//! runs nothing and makes the same image, a changed file re-runs from its
//! COPY on, --no-cache runs all); -f -, --target, --label, --iidfile,
//! -q; a failing RUN and a bad Dockerfile fail with one line naming the
//! line, exit 1, and leave no container, mount or temporary directory.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use common::world::World;
use common::Out;

const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1
FROM img AS first
ARG GREETING=hi
ENV APP=/app PATH=/bin
WORKDIR $APP
COPY hello.txt ./
COPY sub/ ./sub/
COPY --chown=app:app hello.txt /tmp/owned.txt
ADD files.tar.gz /unpacked/
RUN echo "$GREETING from run" > made.txt && cat hello.txt
RUN ["sh", "-c", "echo exec form > exec.txt"]
RUN <<EOF
echo heredoc one > heredoc.txt
echo heredoc two >> heredoc.txt
EOF
COPY <<EOF /app/inline.txt
inline $APP
EOF

FROM img
COPY --from=first /app/ /app/
COPY --from=first /tmp/owned.txt /owned.txt
LABEL stage=final team="build tests"
EXPOSE 8080 9000/udp
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s CMD true
USER app
WORKDIR /app
ENTRYPOINT ["sh", "-c"]
CMD ["cat made.txt"]
"#;

/// The context: files, a directory, a tar, an ignored file.
fn context(w: &World) -> PathBuf {
    let ctx = w.y.path("ctx");
    fs::create_dir_all(ctx.join("sub/deeper")).unwrap();
    fs::write(ctx.join("hello.txt"), "hello\n").unwrap();
    fs::write(ctx.join("sub/a.txt"), "a\n").unwrap();
    fs::write(ctx.join("sub/deeper/b.txt"), "b\n").unwrap();
    fs::write(ctx.join("sub/secret.key"), "never copied\n").unwrap();
    fs::write(ctx.join(".dockerignore"), "sub/*.key\n").unwrap();
    let files = w.y.path("files");
    fs::create_dir_all(&files).unwrap();
    fs::write(files.join("from-tar.txt"), "from a tar\n").unwrap();
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(ctx.join("files.tar.gz"))
        .arg("-C")
        .arg(&files)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
    ctx
}

/// The world's busybox (`img`) again, with a user `app` (1000) and the
/// applets the steps use.
fn base(w: &World) {
    let rootfs = w.y.path("rootfs");
    fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    fs::write(rootfs.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    for tool in ["stat", "id", "find", "sort", "sleep"] {
        let _ = std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(tool));
    }
    fs::create_dir_all(rootfs.join("tmp")).unwrap();
    let tar = w.y.path("img.tar");
    common::tar_of(&rootfs, &tar);
    w.run(&["import", tar.to_str().unwrap(), "img"]).ok();
}

fn build(w: &World, args: &[&str]) -> Out {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    w.run(&all)
}

/// The image's output for `cmd` (through its entrypoint, if any).
fn run_out(w: &World, image: &str, cmd: &[&str]) -> String {
    let mut args = vec!["run", "--rm", "--network", "none", image];
    args.extend_from_slice(cmd);
    w.run(&args).ok().stdout
}

/// Nothing of a build is left: containers, mounts, temporary directories.
fn nothing_left(w: &World) {
    assert_eq!(
        w.run(&["ps", "-aq"]).ok().stdout,
        "",
        "a build container is left"
    );
    let root = w.y.root().display().to_string();
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let ours: Vec<&str> = mounts.lines().filter(|l| l.contains(&root)).collect();
    assert!(ours.is_empty(), "mounts left: {ours:#?}");
    let tmp = w.y.root().join("build/tmp");
    let left: Vec<_> = fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "temporary directories left: {left:?}");
}

#[test]
fn a_multi_stage_dockerfile_builds_and_runs() {
    let Some(w) = World::new() else { return };
    base(&w);
    let ctx = context(&w);
    let ctx_s = ctx.to_str().unwrap();
    let out = build(&w, &["-t", "built:1", "--build-arg", "GREETING=hey", ctx_s]).ok();
    assert!(out.stdout.contains("Step 1/"), "{}", out.stdout);
    assert!(out.stdout.contains("hello\n"), "RUN output: {}", out.stdout);
    assert!(
        out.stdout.contains("Successfully tagged built:1"),
        "{}",
        out.stdout
    );

    // The final image: its config, as Docker's fields.
    let config: serde_json::Value = serde_json::from_str(
        &w.run(&["image", "inspect", "-f", "{{json .Config}}", "built:1"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(config["Cmd"], serde_json::json!(["cat made.txt"]));
    assert_eq!(config["Entrypoint"], serde_json::json!(["sh", "-c"]));
    assert_eq!(config["User"], "app");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(config["Labels"]["team"], "build tests");
    assert!(config["ExposedPorts"].get("8080/tcp").is_some(), "{config}");
    assert!(config["ExposedPorts"].get("9000/udp").is_some(), "{config}");
    assert!(config["Volumes"].get("/data").is_some(), "{config}");
    assert_eq!(config["StopSignal"], "SIGINT");
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "true"])
    );

    // Its files: what each step made, as the image runs.
    assert_eq!(run_out(&w, "built:1", &[]), "hey from run\n");
    let tree = run_out(
        &w,
        "built:1",
        &["find . -type f | sort && cat exec.txt heredoc.txt inline.txt && stat -c '%u:%g %a' /owned.txt"],
    );
    for want in [
        "./hello.txt",
        "./sub/a.txt",
        "./sub/deeper/b.txt",
        "exec form",
        "heredoc one\nheredoc two",
        "inline /app",
        "1000:1000 644",
    ] {
        assert!(tree.contains(want), "{want:?} in {tree}");
    }
    assert!(!tree.contains("secret.key"), ".dockerignore: {tree}");
    let first = build(
        &w,
        &[
            "-q",
            "--target",
            "first",
            "--build-arg",
            "GREETING=hey",
            ctx_s,
        ],
    )
    .ok();
    let first_id = first.stdout.trim();
    assert!(first_id.starts_with("sha256:"), "{first_id}");
    assert_eq!(
        run_out(&w, first_id, &["cat", "/unpacked/from-tar.txt"]),
        "from a tar\n"
    );
    // Intermediate images are the cache's: not listed, not dangling (the
    // prune removes only the world's first `img`, re-imported above).
    w.run(&["image", "prune", "-f"]).ok();
    let images = w.run(&["images", "-q"]).ok().stdout;
    assert_eq!(images.lines().count(), 2, "{images}");
    let again = build(&w, &["-t", "built:1", "--build-arg", "GREETING=hey", ctx_s]).ok();
    assert!(!again.stdout.contains("hello\n"), "{}", again.stdout);
    nothing_left(&w);
}

#[test]
fn the_cache_reruns_only_from_the_changed_step() {
    let Some(w) = World::new() else { return };
    base(&w);
    let ctx = context(&w);
    let ctx_s = ctx.to_str().unwrap();
    let iid = w.y.path("iid");
    let iid_s = iid.to_str().unwrap();
    let first = build(&w, &["-t", "c:1", "--iidfile", iid_s, ctx_s]).ok();
    let id = fs::read_to_string(&iid).unwrap();
    assert!(first.stdout.contains(&id[7..19]), "{}", first.stdout);

    // Nothing changed: every step from the cache, the same image.
    let again = build(&w, &["-t", "c:2", "--iidfile", iid_s, ctx_s]).ok();
    assert_eq!(fs::read_to_string(&iid).unwrap(), id);
    let steps = again.stdout.matches("Step ").count();
    let froms = again.stdout.matches(" : FROM ").count();
    assert_eq!(
        again.stdout.matches("Using cache").count(),
        steps - froms,
        "{}",
        again.stdout
    );

    // One copied file changed: the steps before it are cached, not after.
    fs::write(ctx.join("sub/a.txt"), "changed\n").unwrap();
    let changed = build(&w, &["-t", "c:3", ctx_s]).ok();
    let text = &changed.stdout;
    let at = text.find("COPY sub/").unwrap();
    assert_eq!(text[..at].matches("Using cache").count(), 3, "{text}");
    let rest = &text[at..];
    let first_stage_rest = &rest[..rest.find(" : FROM img").unwrap()];
    assert!(!first_stage_rest.contains("Using cache"), "{text}");
    assert_eq!(run_out(&w, "c:3", &["cat /app/sub/a.txt"]), "changed\n");

    let none = build(&w, &["--no-cache", "-t", "c:4", ctx_s]).ok();
    assert!(!none.stdout.contains("Using cache"), "{}", none.stdout);

    // builder prune: the cache goes, the tagged images stay.
    let pruned = w.run(&["builder", "prune", "-f"]).ok();
    assert!(
        pruned.stdout.contains("Total reclaimed space"),
        "{}",
        pruned.stdout
    );
    assert_eq!(run_out(&w, "c:4", &["cat /app/sub/a.txt"]), "changed\n");
    let cold = build(&w, &["-t", "c:5", ctx_s]).ok();
    assert!(!cold.stdout.contains("Using cache"), "{}", cold.stdout);
    nothing_left(&w);
}

#[test]
fn stdin_dockerfiles_labels_and_failures() {
    let Some(w) = World::new() else { return };
    base(&w);
    let ctx = w.y.path("empty-ctx");
    fs::create_dir_all(&ctx).unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let out = w.run_stdin(
        &[
            "build",
            "-q",
            "-f",
            "-",
            "--label",
            "from=stdin",
            "-t",
            "s:1",
            ctx_s,
        ],
        "FROM img\nRUN echo quiet\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "-q: {}", out.stdout);
    let label = w
        .run(&["image", "inspect", "-f", "{{.Config.Labels.from}}", "s:1"])
        .ok()
        .stdout;
    assert_eq!(label.trim(), "stdin");

    // The context as a (gzip) tar on stdin.
    let tctx = w.y.path("tar-ctx");
    fs::create_dir_all(&tctx).unwrap();
    fs::write(tctx.join("Dockerfile"), "FROM img\nCOPY in.txt /in.txt\n").unwrap();
    fs::write(tctx.join("in.txt"), "from a tar context\n").unwrap();
    let tgz = w.y.path("ctx.tgz");
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(&tgz)
        .arg("-C")
        .arg(&tctx)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let o = w
        .cmd(&["build", "-q", "-t", "t:1", "-"])
        .stdin(fs::File::open(&tgz).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        run_out(&w, "t:1", &["cat", "/in.txt"]),
        "from a tar context\n"
    );
    let both = w.run_stdin(&["build", "-f", "-", "-"], "FROM img\n");
    assert_eq!(both.code, 125, "{}", both.stderr);

    // A failing RUN: its line, its code, exit 1, nothing left behind.
    let df = w.y.path("Failing");
    fs::write(
        &df,
        "FROM img\nRUN echo before\nRUN sh -c 'exit 3'\nRUN echo never\n",
    )
    .unwrap();
    let out = build(&w, &["-f", df.to_str().unwrap(), "-t", "f:1", ctx_s]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("Failing:3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("returned a non-zero code: 3"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("never"), "{}", out.stdout);
    assert!(w.run(&["image", "inspect", "f:1"]).code != 0);
    nothing_left(&w);

    // Bad input: one line naming the file and line or the value.
    let bad = w.run_stdin(&["build", "-f", "-", ctx_s], "FROM img\nFROBNICATE x\n");
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("Dockerfile:2"), "{}", bad.stderr);
    let missing = w.run_stdin(&["build", "-f", "-", ctx_s], "FROM img\nCOPY nosuch /x\n");
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("nosuch"), "{}", missing.stderr);
    let tag = w.run_stdin(&["build", "-t", "Bad:Tag!", "-f", "-", ctx_s], "FROM img\n");
    assert_eq!(tag.code, 1, "{}", tag.stderr);
    assert!(tag.stderr.contains("Bad:Tag!"), "{}", tag.stderr);
    let no_ctx = w.run(&["build", "/nonexistent-context"]);
    assert_eq!(no_ctx.code, 125, "{}", no_ctx.stderr);
    assert!(
        no_ctx.stderr.contains("/nonexistent-context"),
        "{}",
        no_ctx.stderr
    );
    nothing_left(&w);
}

/// A COPY-only stage builds for any platform; a RUN for a foreign one
/// needs a binfmt_misc interpreter, and says so when there is none.
#[test]
fn foreign_platforms_copy_and_refuse_to_run_without_an_interpreter() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("fctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("app"), "an e2k binary, say\n").unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let out = w.run_stdin(
        &[
            "build",
            "-q",
            "--platform",
            "linux/e2k/v6",
            "-t",
            "e2k:1",
            "-f",
            "-",
            ctx_s,
        ],
        "FROM scratch\nCOPY app /usr/bin/app\nCMD [\"/usr/bin/app\"]\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let platform = w
        .run(&[
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}}/{{.Variant}}",
            "e2k:1",
        ])
        .ok()
        .stdout;
    assert_eq!(platform.trim(), "linux/e2k/v6");
    let riscv = std::fs::read_dir("/proc/sys/fs/binfmt_misc")
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains("riscv64"))
        })
        .unwrap_or(false);
    if !riscv {
        let out = w.run_stdin(
            &["build", "--platform", "linux/riscv64", "-f", "-", ctx_s],
            "FROM scratch\nCOPY app /app\nRUN /app\n",
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("RUN for linux/riscv64"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("binfmt_misc"), "{}", out.stderr);
    }
    nothing_left(&w);
}

const MOUNTS: &str = r#"FROM img AS first
RUN mkdir -p /app && echo from-first > /app/a.txt
FROM img
RUN --mount=type=cache,target=/var/cache/mine sh -c 'echo run >> /var/cache/mine/log; cat /var/cache/mine/log | wc -l > /count'
RUN --mount=type=bind,source=hello.txt,target=/mnt/hello cat /mnt/hello > /copied
RUN --mount=type=tmpfs,target=/scratch sh -c 'echo x > /scratch/x && test -f /scratch/x'
RUN --mount=type=secret,id=token cat /run/secrets/token > /secret-seen
RUN --mount=type=secret,id=token,env=TOKEN sh -c 'test "$TOKEN" = s3cret'
RUN --mount=type=bind,from=first,source=/app,target=/from-first cat /from-first/a.txt > /listing
"#;

/// RUN --mount: a cache kept across builds, binds of the context and of a
/// stage, a tmpfs, secrets as files and variables; no mount point is left
/// in the image.
#[test]
fn run_mounts_cache_bind_tmpfs_and_secrets() {
    let Some(w) = World::new() else { return };
    base(&w);
    let ctx = w.y.path("mctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("hello.txt"), "hello mount\n").unwrap();
    fs::write(ctx.join("Dockerfile"), MOUNTS).unwrap();
    let secret = w.y.path("token");
    fs::write(&secret, "s3cret").unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let secret_arg = format!("id=token,src={}", secret.display());
    build(&w, &["-q", "--secret", &secret_arg, "-t", "m:1", ctx_s]).ok();
    let seen = run_out(
        &w,
        "m:1",
        &[
            "sh",
            "-c",
            "cat /count /copied /secret-seen /listing; ls -a /",
        ],
    );
    assert!(
        seen.starts_with("1\nhello mount\ns3cretfrom-first\n"),
        "{seen}"
    );
    for stub in ["mnt", "scratch", "from-first", "run"] {
        assert!(
            !seen.lines().any(|l| l == stub),
            "/{stub} left in the image: {seen}"
        );
    }
    // The cache mount is kept: a second, uncached build sees the first run.
    build(
        &w,
        &[
            "-q",
            "--no-cache",
            "--secret",
            &secret_arg,
            "-t",
            "m:2",
            ctx_s,
        ],
    )
    .ok();
    assert_eq!(run_out(&w, "m:2", &["cat", "/count"]), "2\n");
    // A required secret that is not given fails the step, naming it.
    let no = w.run_stdin(
        &["build", "-f", "-", ctx_s],
        "FROM img\nRUN --mount=type=secret,id=missing,required=true true\n",
    );
    assert_eq!(no.code, 1, "{}", no.stderr);
    assert!(
        no.stderr.contains("secret missing is required"),
        "{}",
        no.stderr
    );
    let bad = w.run(&["build", "--secret", "src=/nonexistent", ctx_s]);
    assert_eq!(bad.code, 125, "{}", bad.stderr);
    // builder prune takes the cache mounts too.
    w.run(&["builder", "prune", "-f"]).ok();
    assert!(!w.y.root().join("build/mounts").exists());
    nothing_left(&w);
}

/// Stages that do not depend on each other build at the same time: each
/// RUN waits (up to 30 s, in the container) for the other's file in a
/// shared cache mount, which only works when both run at once.
#[test]
fn independent_stages_build_at_the_same_time() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("pctx");
    fs::create_dir_all(&ctx).unwrap();
    let wait = |me: &str, other: &str| {
        format!(
            "RUN --mount=type=cache,id=rendezvous,target=/r sh -c 'touch /r/{me}; i=0; \\\n    while [ ! -e /r/{other} ]; do i=$((i+1)); [ $i -gt 600 ] && exit 9; sleep 0.05; done'"
        )
    };
    let dockerfile = format!(
        "FROM img AS a\n{}\nFROM img AS b\n{}\nFROM img\nCOPY --from=a /bin/sh /a\nCOPY --from=b /bin/sh /b\n",
        wait("a", "b"),
        wait("b", "a")
    );
    fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    let out = build(&w, &["-t", "par:1", ctx.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    nothing_left(&w);
}

/// `ADD URL` from an HTTP server on 127.0.0.1: the file, 0600, named from
/// the URL; `--checksum` checked, a mismatch failing with both digests.
#[test]
fn add_downloads_with_a_checksum() {
    let Some(w) = World::new() else { return };
    let served = w.y.path("served");
    fs::create_dir_all(&served).unwrap();
    fs::write(served.join("file.txt"), "downloaded\n").unwrap();
    let server = common::files::FileServer::loopback(&served);
    let url = server.url("file.txt");
    // sha256 of "downloaded\n", and a wrong one.
    let sum = "sha256:30031a9831674dd684c3817399acebc88a116ce5a7a3fbc0cf34d92521a534e6";
    let wrong = format!("sha256:{}", "0".repeat(64));
    let ctx = w.y.path("uctx");
    fs::create_dir_all(&ctx).unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let good = format!("FROM img\nADD --checksum={sum} {url} /dl/\n");
    let out = w.run_stdin(&["build", "-q", "-t", "dl:1", "-f", "-", ctx_s], &good);
    let bad = format!("FROM img\nADD --checksum={wrong} {url} /dl/\n");
    let mismatch = w.run_stdin(&["build", "-f", "-", ctx_s], &bad);
    let missing_url = server.url("nothing.txt");
    let missing = format!("FROM img\nADD {missing_url} /dl/\n");
    let not_found = w.run_stdin(&["build", "-f", "-", ctx_s], &missing);
    drop(server);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let seen = run_out(
        &w,
        "dl:1",
        &["sh", "-c", "cat /dl/file.txt; stat -c %a /dl/file.txt"],
    );
    assert_eq!(seen, "downloaded\n600\n");
    assert_eq!(mismatch.code, 1, "{}", mismatch.stderr);
    assert!(
        mismatch.stderr.contains("checksum mismatch"),
        "{}",
        mismatch.stderr
    );
    assert!(mismatch.stderr.contains(sum), "{}", mismatch.stderr);
    assert_eq!(not_found.code, 1, "{}", not_found.stderr);
    let want = format!("ADD {missing_url}: HTTP 404 Not Found");
    assert!(not_found.stderr.contains(&want), "{}", not_found.stderr);
    nothing_left(&w);
}

/// `--timestamp` (and SOURCE_DATE_EPOCH): the same inputs give the same
/// image ID, RUN-made files and all; without it two builds differ.
#[test]
fn a_timestamp_makes_builds_reproducible() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("rctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("in.txt"), "input\n").unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM img\nCOPY in.txt /in.txt\nRUN echo made > /made.txt\nENV A=1\n",
    )
    .unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let id = |args: &[&str]| {
        let mut all = vec!["-q", "--no-cache"];
        all.extend_from_slice(args);
        all.push(ctx_s);
        build(&w, &all).ok().stdout.trim().to_string()
    };
    let a = id(&["--timestamp", "1700000000"]);
    let b = id(&["--timestamp", "1700000000"]);
    assert_eq!(a, b, "the same inputs and timestamp, another image");
    let created = w
        .run(&["image", "inspect", "-f", "{{.Created}}", &a])
        .ok()
        .stdout;
    assert!(created.starts_with("2023-11-14T22:13:20"), "{created}");
    // Files' mtimes are clamped in the layers (two builds in one second
    // would agree without it).
    let mtimes = run_out(
        &w,
        &a,
        &["busybox", "stat", "-c", "%Y", "/made.txt", "/in.txt"],
    );
    assert_eq!(mtimes, "1700000000\n1700000000\n");
    let by_env = w
        .cmd(&["build", "-q", "--no-cache", ctx_s])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&by_env.stdout).trim(), a);
    let c = id(&[]);
    let d = id(&[]);
    assert_ne!(c, d, "without a timestamp the times differ");
    nothing_left(&w);
}

/// `--output`: the image as a docker-archive podman loads and runs, or an
/// OCI archive skopeo reads; a bad spec is refused before building.
#[test]
fn output_archives_for_the_peers() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("octx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM img\nRUN echo archived > /a.txt\nCMD [\"cat\", \"/a.txt\"]\n",
    )
    .unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let tag = format!("localhost/yurta-out-{}:1", std::process::id());
    let docker_tar = w.y.path("out-docker.tar");
    let oci_tar = w.y.path("out-oci.tar");
    let spec = format!("type=docker,dest={}", docker_tar.display());
    build(&w, &["-q", "-t", &tag, "--output", &spec, ctx_s]).ok();
    let spec = format!("type=oci,dest={}", oci_tar.display());
    build(&w, &["-q", "--output", &spec, ctx_s]).ok();
    if !common::podman::skipped() {
        let _guard = common::podman::PodmanImage(tag.clone());
        let load = common::sh(
            "podman",
            &["load", "-q", "-i", docker_tar.to_str().unwrap()],
        );
        assert_eq!(load.code, 0, "{}", load.stderr);
        let run = common::sh("podman", &["run", "--rm", &tag]);
        assert_eq!(run.stdout, "archived\n", "{}", run.stderr);
    }
    let inspect = common::sh(
        "skopeo",
        &["inspect", &format!("oci-archive:{}", oci_tar.display())],
    );
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    let bad = build(&w, &["--output", "type=zip", ctx_s]);
    assert_eq!(bad.code, 125, "{}", bad.stderr);
    assert!(bad.stderr.contains("type=zip"), "{}", bad.stderr);
    nothing_left(&w);
}

/// On a terminal the build shows a live view (script(1) gives it one):
/// the step lines, RUN output in a window; a failed step's whole output
/// with the error. `--progress plain` on a pipe is Docker's lines.
#[test]
fn a_live_view_on_a_terminal() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("lctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM img\nRUN echo shown-in-the-window\n",
    )
    .unwrap();
    fs::write(
        ctx.join("Failing"),
        "FROM img\nRUN echo first-line; echo last-words; exit 4\n",
    )
    .unwrap();
    let on_terminal = |args: &str| {
        let line = format!(
            "{} --root {} build {args} {}",
            env!("CARGO_BIN_EXE_yurta"),
            w.y.root().display(),
            ctx.display()
        );
        let mut c = std::process::Command::new("script");
        c.args(["-qfec", &line, "/dev/null"]);
        for (k, v) in w.cmd(&[]).get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        let o = c.stdin(std::process::Stdio::null()).output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, out) = on_terminal("-t live:1");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Step 2/2 : RUN echo shown-in-the-window"),
        "{out}"
    );
    assert!(out.contains("shown-in-the-window"), "{out}");
    assert!(out.contains("Successfully tagged live:1"), "{out}");
    let failing = format!("-f {}", ctx.join("Failing").display());
    let (code, out) = on_terminal(&failing);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("last-words"), "{out}");
    assert!(out.contains("returned a non-zero code: 4"), "{out}");
    let plain = build(
        &w,
        &["--progress", "plain", "--no-cache", ctx.to_str().unwrap()],
    )
    .ok();
    // The step line and the command's output line.
    assert_eq!(
        plain.stdout.matches("shown-in-the-window\n").count(),
        2,
        "{}",
        plain.stdout
    );
    let bad = build(&w, &["--progress", "fancy", ctx.to_str().unwrap()]);
    assert_eq!(bad.code, 125, "{}", bad.stderr);
    nothing_left(&w);
}

/// kill -9 at every step of a build (its fault points, learnt from a
/// traced run): the next `builder prune` collects what it left — the
/// step container once it has exited, the overlay mounts, the temporary
/// directory — and the build after it works.
#[test]
fn a_killed_build_leaves_nothing_builder_prune_does_not_collect() {
    let Some(w) = World::new() else { return };
    let ctx = w.y.path("kctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("f.txt"), "f\n").unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM img\nCOPY f.txt /f.txt\nRUN echo ran > /ran.txt\nENV A=1\n",
    )
    .unwrap();
    let ctx_s = ctx.to_str().unwrap();
    let trace = w.y.path("build.trace");
    let o = w
        .cmd(&["build", "--no-cache", ctx_s])
        .env("YURTA_FAULT_TRACE", &trace)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = fs::read_to_string(&trace).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut points = Vec::new();
    for name in text.lines().filter(|l| l.starts_with("build.")) {
        let n = seen.entry(name.to_string()).or_default();
        *n += 1;
        points.push(format!("{name}:{n}"));
    }
    assert!(points.len() >= 5, "{points:?}");
    for point in &points {
        let o = w
            .cmd(&["build", "--no-cache", ctx_s])
            .env("YURTA_FAULT", point)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), None, "{point}: not killed");
        let mut left = String::new();
        let clean = yurta_testutil::process::poll_until(
            std::time::Duration::from_secs(30),
            std::time::Duration::from_millis(100),
            || {
                w.run(&["builder", "prune", "-f"]).ok();
                left = w.run(&["ps", "-aq"]).ok().stdout;
                left.is_empty()
            },
        );
        assert!(clean, "{point}: containers left: {left}");
        nothing_left(&w);
    }
    build(&w, &["-q", ctx_s]).ok();
    nothing_left(&w);
}
