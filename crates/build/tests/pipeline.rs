//! The whole pipeline on a realistic project: parse, plan for e2k, open the
//! context with the ignore file beside the Containerfile, key every step.

use std::fs;
use std::path::Path;

use yurta_build::cache::{keys, NoDigests};
use yurta_build::context::Context;
use yurta_build::plan::{plan, Base, CopyFrom, NoImages, Op, PlanOptions};
use yurta_build::{parse, Platform};

const CONTAINERFILE: &str = r#"# syntax=docker/dockerfile:1
ARG RUST_IMAGE=myorg/rust
ARG RUST_VERSION=1.85

FROM --platform=$BUILDPLATFORM ${RUST_IMAGE}:${RUST_VERSION} AS build
ARG TARGETARCH TARGETVARIANT
WORKDIR /src
COPY Cargo.toml ./
COPY src/ src/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --target-dir out \
 && echo "built for ${TARGETARCH}${TARGETVARIANT:+/$TARGETVARIANT}"

FROM scratch AS docs
COPY <<EOF /README
Built by yurta.
EOF

FROM myorg/base:1
LABEL org.opencontainers.image.title="app" \
      org.opencontainers.image.version=$RUST_VERSION
COPY --from=build --chmod=0755 /src/out/release/app /usr/local/bin/app
COPY --from=docs /README /usr/share/doc/app/
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s CMD ["/usr/local/bin/app", "--health"]
ENTRYPOINT ["/usr/local/bin/app"]
"#;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

#[test]
fn a_multi_stage_project_plans_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[package]\nname = \"app\"\n");
    write(root, "src/main.rs", "fn main() {}\n");
    write(root, "src/main.rs.orig", "leftover\n");
    write(root, "target/debug/app", "big binary\n");
    write(root, "build/Containerfile", CONTAINERFILE);
    write(
        root,
        "build/Containerfile.dockerignore",
        "target\n**/*.orig\n",
    );

    let df = parse("build/Containerfile", CONTAINERFILE).unwrap();
    let mut options = PlanOptions::host();
    options.target_platform = Platform::parse("linux/e2k/v6").unwrap();
    options.build_platform = Platform::parse("linux/amd64").unwrap();
    let p = plan(&df, &options, &NoImages).unwrap();

    assert_eq!(p.levels, vec![vec![0, 1], vec![2]]);
    assert_eq!(p.stages[0].base, Base::Image("myorg/rust:1.85".into()));
    assert_eq!(p.stages[0].platform.to_string(), "linux/amd64");
    assert_eq!(p.stages[2].platform.to_string(), "linux/e2k/v6");
    // The global ARG is not redeclared in the last stage: empty there.
    let label = &p.stages[2].steps[0].op;
    assert_eq!(
        *label,
        Op::Label(vec![
            ("org.opencontainers.image.title".into(), "app".into()),
            ("org.opencontainers.image.version".into(), String::new()),
        ])
    );
    let Op::Run {
        build_args, mounts, ..
    } = &p.stages[0].steps[3].op
    else {
        panic!("{:?}", p.stages[0].steps[3])
    };
    assert_eq!(
        *build_args,
        vec![
            ("TARGETARCH".to_string(), "e2k".to_string()),
            ("TARGETVARIANT".into(), "v6".into())
        ]
    );
    assert_eq!(mounts.len(), 2);
    let Op::Copy(copy) = &p.stages[2].steps[1].op else {
        panic!()
    };
    assert_eq!(
        (copy.from.clone(), copy.chmod),
        (CopyFrom::Stage(0), Some(0o755))
    );

    let ctx = Context::open(root, Some(&root.join("build/Containerfile"))).unwrap();
    let first = keys(&p, &ctx, &NoDigests).unwrap();
    assert!(first.iter().all(Option::is_some));

    // Ignored files do not matter; a source file does, from its COPY on.
    write(root, "src/main.rs.orig", "changed leftover\n");
    write(root, "target/debug/app", "rebuilt\n");
    assert_eq!(keys(&p, &ctx, &NoDigests).unwrap(), first);
    write(root, "src/main.rs", "fn main() { println!(\"hi\"); }\n");
    let second = keys(&p, &ctx, &NoDigests).unwrap();
    let (a, b) = (first[0].as_ref().unwrap(), second[0].as_ref().unwrap());
    assert_eq!(a.steps[..2], b.steps[..2]);
    assert_ne!(a.steps[2], b.steps[2]);
    assert_ne!(a.steps[3], b.steps[3]);
    assert_eq!(
        first[1], second[1],
        "the docs stage does not use the context"
    );
    assert_ne!(
        first[2].as_ref().unwrap().steps[1],
        second[2].as_ref().unwrap().steps[1]
    );
    assert_eq!(
        first[2].as_ref().unwrap().steps[0],
        second[2].as_ref().unwrap().steps[0]
    );
}
