//! `POST /build` through `yurta system service` (issue 12): the docker CLI
//! 28 (its legacy builder: BuildKit is not advertised; with and without
//! DOCKER_BUILDKIT=0), docker-compose 1.29's `build` and docker-py's
//! `images.build` build a Dockerfile with the engine's build; the image
//! runs, the yurta CLI sees it, the cache is shared with `yurta build`,
//! and a failing RUN fails the client with the step's message.

mod api_common;
mod common;

use std::fs;
use std::process::Command;

use api_common::{Service, DOCKER};
use common::world::World;

const DOCKERFILE: &str = "FROM img\nARG WHO=nobody\nCOPY greeting.txt /greeting.txt\nRUN echo \"built for $WHO\" > /who.txt\nCMD [\"cat\", \"/greeting.txt\", \"/who.txt\"]\n";

#[test]
fn docker_build_and_docker_py_build_through_the_service() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let ctx = w.y.path("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("greeting.txt"), "hello from the context\n").unwrap();
    fs::write(ctx.join("Dockerfile"), DOCKERFILE).unwrap();
    let ctx_s = ctx.to_str().unwrap();

    let o = s
        .command(DOCKER)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-t", "apib:1", "--build-arg", "WHO=docker", ctx_s])
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{out}{err}\n{}", s.stderr());
    assert!(out.contains("Step 1/4 : FROM img"), "{out}");
    assert!(out.contains("Successfully tagged apib:1"), "{out}");
    let run = s.docker(&["run", "--rm", "apib:1"]);
    assert_eq!(
        run.stdout, "hello from the context\nbuilt for docker\n",
        "{}",
        run.stderr
    );
    assert!(w.run(&["image", "inspect", "apib:1"]).code == 0);

    // Without DOCKER_BUILDKIT=0 the 28.x CLI falls back to the legacy
    // builder by itself (no BuildKit in /_ping).
    let o = s
        .command(DOCKER)
        .env_remove("DOCKER_BUILDKIT")
        .args([
            "build",
            "-q",
            "-t",
            "apib:fallback",
            "--build-arg",
            "WHO=docker",
            ctx_s,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // docker-compose 1.29 builds a service's image through the same route.
    let project = w.y.path("compose-build");
    fs::create_dir_all(&project).unwrap();
    fs::write(
        project.join("docker-compose.yml"),
        format!("version: \"3\"\nservices:\n  app:\n    build:\n      context: {ctx_s}\n      args:\n        WHO: compose\n    image: composed:1\n"),
    )
    .unwrap();
    let o = s
        .command("/usr/bin/docker-compose")
        .args(["--no-ansi", "-p", "cb", "build"])
        .current_dir(&project)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let run = s.docker(&["run", "--rm", "composed:1"]);
    assert_eq!(
        run.stdout, "hello from the context\nbuilt for compose\n",
        "{}",
        run.stderr
    );

    // The cache is the root's: the yurta CLI's build of the same runs nothing.
    let again = w
        .run(&["build", "-t", "apib:2", "--build-arg", "WHO=docker", ctx_s])
        .ok();
    assert_eq!(
        again.stdout.matches("Using cache").count(),
        3,
        "{}",
        again.stdout
    );

    // docker-py's images.build, and a failing build.
    let py = r#"
import sys, docker
c = docker.DockerClient(base_url=sys.argv[1], version="auto")
img, logs = c.images.build(path=sys.argv[2], tag="pyb:1", buildargs={"WHO": "py"})
assert "pyb:1" in img.tags, img.tags
print(c.containers.run("pyb:1", remove=True).decode(), end="")
open(sys.argv[2] + "/Dockerfile", "w").write("FROM img\nRUN exit 7\n")
try:
    c.images.build(path=sys.argv[2], tag="pyb:2")
    raise SystemExit("no error for a failing RUN")
except docker.errors.BuildError as e:
    assert "non-zero code: 7" in str(e), e
print("ok")
"#;
    let o = Command::new("/usr/bin/python3")
        .args(["-c", py, &s.host(), ctx_s])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        s.stderr()
    );
    assert_eq!(text, "hello from the context\nbuilt for py\nok\n");

    // The docker CLI: a failing RUN's message and exit code 1.
    let o = s
        .command(DOCKER)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", ctx_s])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("non-zero code: 7"), "{err}");
    assert_eq!(w.run(&["ps", "-aq"]).ok().stdout, "");
    let left: Vec<_> = fs::read_dir(w.y.root().join("build"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("context-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `docker builder prune` and `docker system prune` through the service
/// (`POST /build/prune`): the hidden step a removed image left is build
/// cache in `docker system df`, and pruning frees it; a filter yurta
/// cannot apply is refused, not ignored.
#[test]
fn docker_builder_and_system_prune_clear_the_build_cache() {
    let Some(w) = World::new() else { return };
    let s = Service::start(&w, &[]);
    let ctx = w.y.path("pctx");
    fs::create_dir_all(&ctx).unwrap();
    let dockerfile = "FROM img\nRUN head -c 30000 /dev/zero > /a\nCMD [\"cat\", \"/a\"]\n";
    fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    let build = s
        .command(DOCKER)
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", "pr:1", ctx.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    s.docker_ok(&["rmi", "pr:1"]);
    let cache_row = || {
        let df = s.docker_ok(&["system", "df", "--format", "{{.Type}}={{.TotalCount}}"]);
        df.lines()
            .find(|l| l.starts_with("Build Cache="))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(cache_row(), "Build Cache=1");
    let refused = s.docker(&["builder", "prune", "-f", "--filter", "until=1h"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("until"), "{}", refused.stderr);
    assert_eq!(cache_row(), "Build Cache=1");
    let pruned = s.docker_ok(&["builder", "prune", "-f"]);
    assert!(pruned.contains("Deleted build cache objects:"), "{pruned}");
    assert_eq!(cache_row(), "Build Cache=0");
    let all = s.docker_ok(&["system", "prune", "-f"]);
    assert!(all.contains("Total reclaimed space:"), "{all}");
    assert_eq!(w.run(&["images", "-q"]).ok().stdout.lines().count(), 1);
}
