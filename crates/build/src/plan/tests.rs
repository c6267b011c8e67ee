use std::collections::BTreeMap;

use super::*;
use crate::ast::Command;
use crate::parse;

fn options(args: &[(&str, &str)]) -> PlanOptions {
    PlanOptions {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        target: None,
        target_platform: Platform::parse("linux/e2k/v6").unwrap(),
        build_platform: Platform::parse("linux/amd64").unwrap(),
    }
}

fn plan_with(text: &str, opts: &PlanOptions) -> Result<Plan, String> {
    let df = parse("Dockerfile", text).map_err(|e| e.to_string())?;
    plan(&df, opts, &NoImages).map_err(|e| e.to_string())
}

fn planned(text: &str) -> Plan {
    plan_with(text, &options(&[])).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn ops(text: &str) -> Vec<Op> {
    let p = planned(text);
    p.stages[p.target]
        .steps
        .iter()
        .map(|s| s.op.clone())
        .collect()
}

fn last_op(text: &str) -> Op {
    ops(text).pop().unwrap()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn env_expands_with_the_values_before_the_instruction() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("ENV a=1\nENV b=$a", &[("b", "1")]),
        ("ENV a=1\nENV a=2 b=$a", &[("a", "2"), ("b", "1")]),
        (
            "ENV a=\"x y\" b='$a' c=\\$a",
            &[("a", "x y"), ("b", "$a"), ("c", "$a")],
        ),
        ("ENV a x   y", &[("a", "x   y")]),
        ("ENV a=${UNSET:-dflt}", &[("a", "dflt")]),
        ("ENV p=/bin\nENV p=$p:/sbin", &[("p", "/bin:/sbin")]),
        ("ARG v=1\nENV v=2\nENV w=$v", &[("w", "2")]),
        (
            "ENV PATH=/opt/bin:$PATH",
            &[(
                "PATH",
                "/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )],
        ),
    ];
    for (body, want) in cases {
        let op = last_op(&format!("FROM scratch\n{body}"));
        assert_eq!(op, Op::Env(pairs(want)), "{body}");
    }
}

#[test]
fn expansion_happens_only_where_docker_expands() {
    let text = "FROM scratch\nENV D=/data P=8080 U=app S=SIGINT\nWORKDIR $D\nUSER ${U}:${U}\nEXPOSE $P\nVOLUME $D/v\nSTOPSIGNAL $S\nLABEL dir=$D\nRUN echo $D\nCMD echo $D\nENTRYPOINT [\"$D\"]\nSHELL [\"/bin/sh\", \"$D\"]\nONBUILD RUN echo $D\nHEALTHCHECK CMD test $D";
    let got = ops(text);
    assert_eq!(got[1], Op::Workdir("/data".into()));
    assert_eq!(got[2], Op::User("app:app".into()));
    assert_eq!(got[3], Op::Expose(vec!["8080/tcp".into()]));
    assert_eq!(got[4], Op::Volume(vec!["/data/v".into()]));
    assert_eq!(got[5], Op::StopSignal("SIGINT".into()));
    assert_eq!(got[6], Op::Label(pairs(&[("dir", "/data")])));
    assert!(matches!(&got[7], Op::Run { command: Command::Shell(s), .. } if s == "echo $D"));
    assert_eq!(got[8], Op::Cmd(Command::Shell("echo $D".into())));
    assert_eq!(got[9], Op::Entrypoint(Command::Exec(vec!["$D".into()])));
    assert_eq!(got[10], Op::Shell(vec!["/bin/sh".into(), "$D".into()]));
    assert_eq!(got[11], Op::Onbuild("RUN echo $D".into()));
    let Op::Healthcheck(crate::ast::Healthcheck::Check { command, .. }) = &got[12] else {
        panic!()
    };
    assert_eq!(*command, Command::Shell("test $D".into()));
}

#[test]
fn workdir_is_relative_to_the_previous_one() {
    let cases = [
        ("WORKDIR /a\nWORKDIR b\nWORKDIR c", "/a/b/c"),
        ("WORKDIR a", "/a"),
        ("WORKDIR /a/b\nWORKDIR ../c", "/a/c"),
        ("WORKDIR /a/./b//", "/a/b"),
        ("WORKDIR /../..", "/"),
        ("WORKDIR /a\nWORKDIR $UNSET", "/a"),
    ];
    for (body, want) in cases {
        assert_eq!(
            last_op(&format!("FROM scratch\n{body}")),
            Op::Workdir(want.into()),
            "{body}"
        );
    }
}

#[test]
fn copy_is_expanded_and_resolved() {
    let op = last_op("FROM scratch\nARG SRC=app\nARG OWNER=1000\nWORKDIR /srv\nCOPY --chown=$OWNER:$OWNER --chmod=${MODE:-0640} $SRC/*.py lib/ ./");
    let Op::Copy(c) = op else { panic!() };
    assert_eq!(
        c.sources,
        [Source::Path("app/*.py".into()), Source::Path("lib/".into())]
    );
    assert_eq!(c.dest, "/srv/");
    assert_eq!(c.chown.as_deref(), Some("1000:1000"));
    assert_eq!(c.chmod, Some(0o640));
    assert_eq!(c.from, CopyFrom::Context);
    let dests = [
        ("f", "/w/f"),
        ("d/", "/w/d/"),
        (".", "/w/"),
        ("/abs", "/abs"),
        ("../up/", "/up/"),
    ];
    for (dest, want) in dests {
        let Op::Copy(c) = last_op(&format!("FROM scratch\nWORKDIR /w\nCOPY x {dest}")) else {
            panic!()
        };
        assert_eq!(c.dest, want, "{dest}");
    }
    let err = plan_with(
        "FROM scratch\nARG M=rwx\nCOPY --chmod=$M a b",
        &options(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err,
        "Dockerfile:3: COPY: --chmod needs an octal mode, got \"rwx\""
    );
}

#[test]
fn heredoc_bodies_of_copy_expand_unless_quoted() {
    let text = "FROM scratch\nENV NAME=yurta\nCOPY <<EOF <<'RAW' <<-TABS /d/\nhello $NAME \"q\"\nEOF\nhello $NAME\nRAW\n\tindented $NAME\n\tTABS\n";
    let Op::Copy(c) = last_op(text) else { panic!() };
    let bodies: Vec<String> = c
        .sources
        .iter()
        .map(|s| match s {
            Source::Heredoc(d) => d.content.clone(),
            Source::Path(p) => p.clone(),
        })
        .collect();
    assert_eq!(
        bodies,
        ["hello yurta \"q\"\n", "hello $NAME\n", "indented yurta\n"]
    );
}

#[test]
fn run_sees_build_args_but_not_as_config() {
    let op = last_op("FROM scratch\nARG A=1\nARG B\nARG C=3\nENV C=env\nRUN --mount=type=cache,target=/c,id=$A true");
    let Op::Run {
        build_args, mounts, ..
    } = op
    else {
        panic!()
    };
    assert_eq!(build_args, pairs(&[("A", "1")]));
    assert_eq!(mounts[0].id.as_deref(), Some("1"));
}

#[test]
fn arg_scoping_follows_docker() {
    // (build args, body of the second stage, expected LABEL value of v)
    let text = |body: &str| {
        format!("ARG G=global\nARG H\nFROM scratch AS one\nARG L=one\nFROM scratch\n{body}\nLABEL v=\"$G|$L|$H\"")
    };
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[], "", "||"),
        (&[], "ARG G", "global||"),
        (&[("G", "cli")], "ARG G", "cli||"),
        (&[("G", "cli")], "ARG G=stage", "cli||"),
        (&[], "ARG G=stage", "stage||"),
        (&[], "ARG L", "||"),
        (&[("L", "cli")], "ARG L", "|cli|"),
        (&[("H", "h")], "ARG H", "||h"),
        (&[], "ARG H=$G", "||"),
        (&[], "ARG G\nARG H=$G", "global||global"),
        (&[], "ARG G\nENV G=env", "env||"),
    ];
    for (args, body, want) in cases {
        let p = plan_with(&text(body), &options(args)).unwrap_or_else(|e| panic!("{body}: {e}"));
        let op = p.stages[1].steps.last().unwrap().op.clone();
        assert_eq!(
            op,
            Op::Label(pairs(&[("v", want)])),
            "args {args:?}, body {body:?}"
        );
    }
}

#[test]
fn global_args_and_platform_args_in_from() {
    let p = plan_with(
        "ARG BASE=busybox\nARG TAG\nFROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-latest} AS build\nARG TARGETARCH\nARG BUILDPLATFORM\nARG TARGETPLATFORM\nARG TARGETVARIANT\nLABEL a=$TARGETARCH b=$BUILDPLATFORM c=$TARGETPLATFORM d=$TARGETVARIANT\nFROM $BASE\nLABEL a=$TARGETARCH",
        &options(&[("TAG", "1.36")]),
    )
    .unwrap();
    assert_eq!(p.stages[0].base, Base::Image("busybox:1.36".into()));
    assert_eq!(p.stages[0].platform.to_string(), "linux/amd64");
    assert_eq!(p.stages[1].platform.to_string(), "linux/e2k/v6");
    assert_eq!(
        p.stages[0].steps[0].op,
        Op::Label(pairs(&[
            ("a", "e2k"),
            ("b", "linux/amd64"),
            ("c", "linux/e2k/v6"),
            ("d", "v6")
        ]))
    );
    // Not declared in the stage: not visible.
    assert_eq!(p.stages[1].steps[0].op, Op::Label(pairs(&[("a", "")])));
}

#[test]
fn stages_bases_and_names() {
    let p = planned("FROM busybox AS Base\nENV X=1\nWORKDIR /app\nFROM base AS child\nWORKDIR sub\nLABEL x=$X\nFROM scratch\nFROM child");
    assert_eq!(p.stages[0].name.as_deref(), Some("base"));
    assert_eq!(p.stages[1].base, Base::Stage(0));
    assert_eq!(p.stages[1].steps[0].op, Op::Workdir("/app/sub".into()));
    assert_eq!(p.stages[1].steps[1].op, Op::Label(pairs(&[("x", "1")])));
    assert_eq!(p.stages[2].base, Base::Scratch);
    assert_eq!(p.stages[3].base, Base::Stage(1));
    // FROM a later stage's name is an image, as in Docker.
    let p = planned("FROM later\nFROM scratch AS later");
    assert_eq!(p.stages[0].base, Base::Image("later".into()));
    let errors = [
        ("FROM a AS x\nFROM b AS X", "Dockerfile:2: FROM: duplicate stage name \"x\""),
        ("ENV a=b\nFROM x", "Dockerfile:1: ENV: no build stage in current context"),
        ("ARG a", "Dockerfile: dockerfile contains no stages to build"),
        ("ARG B\nFROM $B", "Dockerfile:2: FROM: base name ($B) should not be blank"),
        ("FROM --platform=linux/e2k/v9 a", "Dockerfile:1: FROM: --platform: e2k has variants v3, v4, v5, v6, v7; got \"v9\" in \"linux/e2k/v9\""),
    ];
    for (text, want) in errors {
        assert_eq!(plan_with(text, &options(&[])).unwrap_err(), want, "{text}");
    }
}

#[test]
fn dependencies_levels_and_target_pruning() {
    let text = "FROM scratch AS a\nFROM scratch AS b\nFROM a AS c\nCOPY --from=b /x /x\nFROM scratch AS unused\nFROM scratch AS d\nCOPY --from=2 /y /y\nRUN --mount=type=bind,from=a,target=/m true\nCOPY --from=alpine:3 /z /z";
    let p = planned(text);
    assert_eq!(p.target, 4);
    assert_eq!(p.levels, vec![vec![0, 1], vec![2], vec![4]]);
    assert_eq!(p.order(), [0, 1, 2, 4]);
    assert_eq!(p.stages[4].depends_on, [0, 2].into());
    assert_eq!(p.stages[4].images, ["alpine:3".to_string()].into());
    let mut opts = options(&[]);
    opts.target = Some("C".into());
    let p = plan_with(text, &opts).unwrap();
    assert_eq!((p.target, p.levels.clone()), (2, vec![vec![0, 1], vec![2]]));
    opts.target = Some("unused".into());
    assert_eq!(plan_with(text, &opts).unwrap().levels, vec![vec![3]]);
    opts.target = Some("nope".into());
    assert_eq!(
        plan_with(text, &opts).unwrap_err(),
        "Dockerfile: target stage \"nope\" could not be found"
    );
}

#[test]
fn cycles_and_bad_stage_references_are_errors() {
    let cases = [
        ("FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/", "Dockerfile:1: circular dependency detected on stage: stage0"),
        (
            "FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\nFROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/",
            "Dockerfile:1: circular dependency detected on stage: stage0",
        ),
        ("FROM a\nCOPY --from=0 x y", "circular dependency detected on stage: stage-0"),
        ("FROM a\nCOPY --from=5 x y", "Dockerfile:2: COPY: --from=5: there is no stage 5"),
        ("FROM a\nRUN --mount=from=0,target=/x y", "circular dependency"),
    ];
    for (text, want) in cases {
        let err = plan_with(text, &options(&[])).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn base_image_config_feeds_expansion_and_onbuild() {
    let mut images = BTreeMap::new();
    images.insert(
        "golang".to_string(),
        BaseConfig {
            env: pairs(&[("GOPATH", "/go")]),
            working_dir: "/go".into(),
            onbuild: vec!["COPY . $GOPATH/src/app".into(), "RUN go build".into()],
        },
    );
    let df = parse("Dockerfile", "FROM golang\nWORKDIR src\nLABEL p=$GOPATH").unwrap();
    let p = plan(&df, &options(&[]), &images).unwrap();
    let ops: Vec<&Op> = p.stages[0].steps.iter().map(|s| &s.op).collect();
    assert!(matches!(ops[0], Op::Copy(c) if c.dest == "/go/src/app"));
    assert!(matches!(ops[1], Op::Run { .. }));
    assert_eq!(*ops[2], Op::Workdir("/go/src".into()));
    assert_eq!(*ops[3], Op::Label(pairs(&[("p", "/go")])));
    // Triggers of an earlier stage run in the stages built on it.
    let p = planned("FROM scratch AS base\nONBUILD LABEL from=base\nFROM base\nLABEL own=1");
    assert_eq!(
        p.stages[1].steps[0].op,
        Op::Label(pairs(&[("from", "base")]))
    );
}

#[test]
fn expose_and_stopsignal_are_checked_after_expansion() {
    assert_eq!(
        last_op("FROM a\nEXPOSE 80 53/UDP 8000-8002/tcp 80/tcp"),
        Op::Expose(
            ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"]
                .map(String::from)
                .to_vec()
        )
    );
    assert_eq!(
        last_op("FROM a\nARG P=\"1 2\"\nEXPOSE $P"),
        Op::Expose(vec!["1/tcp".into(), "2/tcp".into()])
    );
    // Docker tolerates a host part and exposes the container port.
    assert_eq!(
        last_op("FROM a\nEXPOSE 127.0.0.1:8080:80/udp 9000:90 0"),
        Op::Expose(vec!["80/udp".into(), "90/tcp".into(), "0/tcp".into()])
    );
    let Op::Expose(all) = last_op("FROM a\nEXPOSE 1-65535 80") else {
        panic!()
    };
    assert_eq!(all.len(), 65535);
    for s in ["SIGTERM", "term", "9", "SIGRTMIN+3", "RTMAX-1"] {
        assert_eq!(
            last_op(&format!("FROM a\nSTOPSIGNAL {s}")),
            Op::StopSignal(s.into())
        );
    }
    let errors = [
        ("EXPOSE x", "invalid containerPort: x"),
        ("EXPOSE 70000", "invalid containerPort: 70000"),
        ("EXPOSE 80/icmp", "invalid proto: icmp"),
        ("EXPOSE x:80", "invalid hostPort: x"),
        ("EXPOSE 90-80", "invalid containerPort: 90-80"),
        ("EXPOSE 1-2-3", "invalid containerPort"),
        ("STOPSIGNAL SIGNOPE", "invalid signal: \"SIGNOPE\""),
        ("STOPSIGNAL 65", "invalid signal"),
        ("ENV ${X}=1", "ENV names can not be blank"),
        ("LABEL a=\"unterminated", "matching double-quote"),
    ];
    for (body, want) in errors {
        let err = plan_with(&format!("FROM a\n{body}"), &options(&[])).unwrap_err();
        assert!(err.starts_with("Dockerfile:2: "), "{body}: {err}");
        assert!(err.contains(want), "{body}: {err}");
    }
}

#[test]
fn unused_build_args_are_reported() {
    let p = plan_with(
        "ARG USED\nFROM a\nARG ALSO",
        &options(&[
            ("USED", "1"),
            ("ALSO", "2"),
            ("EXTRA", "3"),
            ("TARGETARCH", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(p.unused_build_args, ["EXTRA"]);
}

#[test]
fn proxy_args_reach_run_without_an_arg() {
    let p = plan_with(
        "FROM a\nRUN true\nARG no_proxy\nENV HTTPS_PROXY=env\nRUN true",
        &options(&[
            ("HTTP_PROXY", "http://proxy:3128"),
            ("no_proxy", "x"),
            ("HTTPS_PROXY", "arg"),
        ]),
    )
    .unwrap();
    type Env = Vec<(String, String)>;
    let runs: Vec<(Env, Env)> = p.stages[0]
        .steps
        .iter()
        .filter_map(|s| match &s.op {
            Op::Run {
                build_args,
                proxy_args,
                ..
            } => Some((build_args.clone(), proxy_args.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(runs[0].0, pairs(&[]));
    assert_eq!(
        runs[0].1,
        pairs(&[
            ("HTTPS_PROXY", "arg"),
            ("HTTP_PROXY", "http://proxy:3128"),
            ("no_proxy", "x")
        ])
    );
    // Declared: a build arg like any other; overridden by ENV: gone.
    assert_eq!(runs[1].0, pairs(&[("no_proxy", "x")]));
    assert_eq!(runs[1].1, pairs(&[("HTTP_PROXY", "http://proxy:3128")]));
    assert!(p.unused_build_args.is_empty());
}

#[test]
fn user_may_expand_to_nothing() {
    assert_eq!(last_op("FROM a\nUSER $UNSET"), Op::User(String::new()));
}
