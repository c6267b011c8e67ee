use super::*;
use crate::ast::*;
use crate::mount::MountType;
use std::time::Duration;

fn kinds(text: &str) -> Vec<Kind> {
    parse("Dockerfile", text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .instructions
        .into_iter()
        .map(|i| i.kind)
        .collect()
}

fn one(text: &str) -> Kind {
    let mut all = kinds(text);
    assert_eq!(all.len(), 1, "{text:?}: {all:?}");
    all.remove(0)
}

fn error(text: &str) -> String {
    match parse("Dockerfile", text) {
        Ok(d) => panic!("{text:?} parsed: {:?}", d.instructions),
        Err(e) => e.to_string(),
    }
}

fn shell(s: &str) -> Command {
    Command::Shell(s.to_string())
}

fn exec(words: &[&str]) -> Command {
    Command::Exec(words.iter().map(|w| w.to_string()).collect())
}

fn kv(pairs: &[(&str, &str)]) -> Vec<KeyValue> {
    pairs
        .iter()
        .map(|(k, v)| KeyValue {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect()
}

fn run_of(kind: Kind) -> Run {
    match kind {
        Kind::Run(r) => r,
        other => panic!("not RUN: {other:?}"),
    }
}

fn copy_of(kind: Kind) -> CopySpec {
    match kind {
        Kind::Copy(c) | Kind::Add(c) => c,
        other => panic!("not COPY/ADD: {other:?}"),
    }
}

#[test]
fn logical_lines_join_continuations_and_skip_comments() {
    let cases: &[(&str, &str)] = &[
        ("RUN echo a \\\n  b", "echo a   b"),
        ("RUN echo a \\  \t\n b", "echo a  b"),
        ("RUN a \\\n# comment\n b", "a  b"),
        ("RUN a \\\n   # indented comment\n b", "a  b"),
        ("RUN a \\\n\n b", "a  b"),
        ("RUN a \\\n  \n b", "a  b"),
        ("RUN a\\\\", "a\\\\"),
        ("RUN a \\", "a"),
        ("  RUN   a", "a"),
        ("RUN a\r\n", "a"),
        ("\u{feff}RUN a", "a"),
        ("RUN echo '#not a comment'", "echo '#not a comment'"),
        ("RUN a \\\nb \\\nc", "a b c"),
    ];
    for (text, want) in cases {
        let r = run_of(one(text));
        assert_eq!(r.command, shell(want), "{text:?}");
    }
}

#[test]
fn lines_of_each_instruction_are_known() {
    let d = parse(
        "Dockerfile",
        "# c\nFROM a\n\nRUN x \\\n  y\nCOPY <<EOF /f\nhi\nEOF\nUSER u\n",
    )
    .unwrap();
    let spans: Vec<(usize, usize)> = d
        .instructions
        .iter()
        .map(|i| (i.line, i.end_line))
        .collect();
    assert_eq!(spans, [(2, 2), (4, 5), (6, 8), (9, 9)]);
    let d = parse("Dockerfile", "FROM a\nRUN b \\\n").unwrap();
    assert_eq!((d.instructions[1].line, d.instructions[1].end_line), (2, 2));
}

#[test]
fn empty_continuation_lines_warn() {
    let d = parse("Dockerfile", "FROM a\nRUN a \\\n\n b\n").unwrap();
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].starts_with("Dockerfile:2: empty continuation"));
}

#[test]
fn directives_set_the_escape_and_are_read_only_at_the_top() {
    let d = parse(
        "Dockerfile",
        "# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN a `\n b\n",
    )
    .unwrap();
    assert_eq!(d.escape, '`');
    assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert_eq!(
        run_of(d.instructions[1].kind.clone()).command,
        shell("a  b")
    );

    let d = parse("Dockerfile", "#ESCAPE = `\nFROM a\n").unwrap();
    assert_eq!(d.escape, '`');
    // After a comment, an empty line or an instruction it is a comment.
    for text in [
        "# hello\n# escape=`\nFROM a",
        "\n# escape=`\nFROM a",
        "FROM a\n# escape=`\n",
    ] {
        assert_eq!(parse("Dockerfile", text).unwrap().escape, '\\', "{text:?}");
    }
    // Unknown directives are comments and end the directives.
    let d = parse("Dockerfile", "# foo=bar\n# escape=`\nFROM a").unwrap();
    assert_eq!(d.escape, '\\');
    // With backtick, backslash is an ordinary character.
    let d = parse("Dockerfile", "# escape=`\nFROM a\nRUN dir c:\\\nRUN b").unwrap();
    assert_eq!(d.instructions.len(), 3);
}

#[test]
fn directive_errors() {
    assert_eq!(
        error("# escape=x\nFROM a"),
        "Dockerfile:1: invalid escape token 'x' does not match ` or \\"
    );
    assert_eq!(
        error("# escape=`\n# escape=\\\nFROM a"),
        "Dockerfile:2: only one escape parser directive can be used"
    );
    assert_eq!(error(""), "Dockerfile: file with no instructions");
    assert_eq!(
        error("# only\n\n  \n"),
        "Dockerfile: file with no instructions"
    );
}

#[test]
fn unknown_instructions_are_errors() {
    assert_eq!(
        error("FROM a\nFORM b"),
        "Dockerfile:2: unknown instruction: FORM"
    );
    assert_eq!(
        error("FROM a\nONBUILD FORM b"),
        "Dockerfile:2: unknown instruction: FORM"
    );
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(kinds("from a\nrun b\nCoPy x y").len(), 3);
}

#[test]
fn exec_and_shell_forms() {
    let cases: &[(&str, Command)] = &[
        ("RUN [\"echo\", \"a b\"]", exec(&["echo", "a b"])),
        ("RUN [ \"echo\" ]", exec(&["echo"])),
        ("RUN [\"a\\\"b\"]", exec(&["a\"b"])),
        ("RUN []", exec(&[])),
        ("RUN [not json", shell("[not json")),
        ("RUN [\"a\"] trailing", shell("[\"a\"] trailing")),
        ("RUN echo [\"a\"]", shell("echo [\"a\"]")),
        ("RUN ['single']", shell("['single']")),
    ];
    for (text, want) in cases {
        assert_eq!(run_of(one(text)).command, *want, "{text}");
    }
    assert_eq!(one("CMD [\"a\"]"), Kind::Cmd(exec(&["a"])));
    assert_eq!(one("CMD"), Kind::Cmd(shell("")));
    assert_eq!(one("ENTRYPOINT top -b"), Kind::Entrypoint(shell("top -b")));
    assert_eq!(
        error("CMD [\"a\", 1]"),
        "Dockerfile:1: CMD: when using JSON array syntax, arrays must be comprised of strings only"
    );
}

#[test]
fn run_flags() {
    let r = run_of(one(
        "RUN --mount=type=cache,target=/var/cache/apt --mount=type=secret,id=tok --network=none apt-get update",
    ));
    assert_eq!(r.command, shell("apt-get update"));
    assert_eq!(r.network, Some(Network::None));
    let types: Vec<MountType> = r.mounts.iter().map(|m| m.kind).collect();
    assert_eq!(types, [MountType::Cache, MountType::Secret]);
    let r = run_of(one("RUN --network=host -- --not-a-flag"));
    assert_eq!(r.command, shell("--not-a-flag"));
    let r = run_of(one("RUN --mount=\"type=tmpfs,target=/t\" ls"));
    assert_eq!(r.mounts[0].kind, MountType::Tmpfs);
    assert_eq!(
        error("RUN --network=bridge x"),
        "Dockerfile:1: RUN: --network takes default, none or host, got \"bridge\""
    );
    assert_eq!(
        error("RUN --mount=type=nfs,target=/x y"),
        "Dockerfile:1: RUN: --mount=type=nfs,target=/x: unsupported mount type \"nfs\""
    );
    assert_eq!(
        error("RUN --frob x"),
        "Dockerfile:1: RUN: unknown flag: --frob"
    );
    assert_eq!(
        error("RUN --mount"),
        "Dockerfile:1: RUN: missing a value on flag: --mount"
    );
}

#[test]
fn heredocs() {
    let r = run_of(one("RUN <<EOF\necho a\necho b\nEOF\n"));
    assert_eq!(r.command, shell("<<EOF"));
    assert_eq!(r.heredocs.len(), 1);
    let doc = &r.heredocs[0];
    assert_eq!(
        (
            doc.name.as_str(),
            doc.content.as_str(),
            doc.expand,
            doc.chomp
        ),
        ("EOF", "echo a\necho b\n", true, false)
    );
    assert_eq!(r.shell_script().unwrap(), "<<EOF\necho a\necho b\nEOF");

    let r = run_of(one("RUN <<-EOT bash\n\techo $HOME\n\tEOT\n"));
    assert!(r.heredocs[0].chomp);
    assert_eq!(r.heredocs[0].body(), "echo $HOME\n");

    for (text, expand) in [
        ("RUN <<'EOF'\nx\nEOF", false),
        ("RUN <<\"EOF\"\nx\nEOF", false),
        ("RUN <<E\"O\"F\nx\nEOF", false),
        ("RUN <<EOF\nx\nEOF", true),
    ] {
        let r = run_of(one(text));
        assert_eq!(r.heredocs[0].name, "EOF", "{text}");
        assert_eq!(r.heredocs[0].expand, expand, "{text}");
    }

    let r = run_of(one(
        "RUN python3 3<<A <<-B && cat\na body\nA\n\tb body\n\tB\n",
    ));
    let names: Vec<_> = r
        .heredocs
        .iter()
        .map(|d| (d.name.as_str(), d.fd, d.content.as_str()))
        .collect();
    assert_eq!(names, [("A", 3, "a body\n"), ("B", 0, "\tb body\n")]);

    let c = copy_of(one(
        "COPY <<one.txt <<two.txt /dest/\nfirst\none.txt\nsecond\ntwo.txt",
    ));
    assert_eq!(c.dest, "/dest/");
    let bodies: Vec<_> = c
        .sources
        .iter()
        .map(|s| match s {
            Source::Heredoc(d) => d.content.clone(),
            Source::Path(p) => p.clone(),
        })
        .collect();
    assert_eq!(bodies, ["first\n", "second\n"]);

    let c = copy_of(one("COPY a.txt <<EOF b.txt /d/\nx\nEOF"));
    assert!(matches!(
        &c.sources[..],
        [Source::Path(_), Source::Heredoc(_), Source::Path(_)]
    ));

    // Not heredocs: other instructions, quoted, inside a word, JSON form.
    assert_eq!(kinds("FROM a\nENV A=<<EOF\nUSER x").len(), 3);
    assert!(run_of(one("RUN echo '<<EOF'")).heredocs.is_empty());
    assert!(run_of(one("RUN cat<<EOF")).heredocs.is_empty());
    assert!(run_of(one("RUN [\"cat\", \"<<EOF\"]")).heredocs.is_empty());

    assert_eq!(
        error("FROM a\nRUN <<EOF\nnever ends\n"),
        "Dockerfile:2: RUN: unterminated heredoc \"EOF\""
    );
}

#[test]
fn copy_and_add() {
    let c = copy_of(one(
        "COPY --from=build --chown=1000:1000 --chmod=0755 --link a b /dst/",
    ));
    assert_eq!(c.from.as_deref(), Some("build"));
    assert_eq!(c.chown.as_deref(), Some("1000:1000"));
    assert_eq!(c.chmod.as_deref(), Some("0755"));
    assert!(c.link);
    assert_eq!(
        c.sources,
        [Source::Path("a".into()), Source::Path("b".into())]
    );
    assert_eq!(c.dest, "/dst/");
    let c = copy_of(one("COPY [\"a b\", \"c\", \"/d/\"]"));
    assert_eq!(
        c.sources,
        [Source::Path("a b".into()), Source::Path("c".into())]
    );
    let sum = format!("sha256:{}", "ab".repeat(32));
    let c = copy_of(one(&format!(
        "ADD --checksum={sum} https://example.invalid/f /f"
    )));
    assert_eq!(c.checksum, Some(sum));
    let c = copy_of(one("COPY --chmod=$MODE a b"));
    assert_eq!(c.chmod.as_deref(), Some("$MODE"));

    let errors = [
        ("COPY --chmod=rwx a b", "Dockerfile:1: COPY: --chmod needs an octal mode, got \"rwx\""),
        ("COPY --chmod=99 a b", "--chmod needs an octal mode"),
        ("COPY a", "Dockerfile:1: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
        ("ADD", "Dockerfile:1: ADD: ADD requires at least two arguments"),
        ("COPY --checksum=sha256:00 a b", "unknown flag: --checksum"),
        ("ADD --checksum=md5:00 https://x/y /y", "--checksum needs a digest"),
        ("ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 local /y", "--checksum needs URL sources"),
        ("COPY --link=maybe a b", "expecting boolean value for flag --link, not: maybe"),
        ("COPY --from a b", "missing a value on flag: --from"),
        ("COPY https://example.invalid/x /x", "Dockerfile:1: COPY: source can't be a URL for COPY (use ADD)"),
    ];
    for (text, want) in errors {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn env_and_label_forms() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("ENV a=b", &[("a", "b")]),
        ("ENV a=b c=d", &[("a", "b"), ("c", "d")]),
        ("ENV a=\"b c\" d='e f'", &[("a", "\"b c\""), ("d", "'e f'")]),
        ("ENV a=b\\ c", &[("a", "b\\ c")]),
        ("ENV a b c", &[("a", "b c")]),
        ("ENV a   \"b c\"", &[("a", "\"b c\"")]),
        ("ENV a=", &[("a", "")]),
        ("ENV a==b", &[("a", "=b")]),
    ];
    for (text, want) in cases {
        assert_eq!(one(text), Kind::Env(kv(want)), "{text}");
    }
    assert_eq!(
        one("LABEL a=b \"c d\"=e"),
        Kind::Label(kv(&[("a", "b"), ("\"c d\"", "e")]))
    );
    assert_eq!(
        one("LABEL version 1.0"),
        Kind::Label(kv(&[("version", "1.0")]))
    );
    let errors = [
        ("ENV a", "Dockerfile:1: ENV: ENV must have two arguments"),
        ("ENV a=b c", "Dockerfile:1: ENV: syntax error - can't find = in \"c\". Must be of the form: name=value"),
        ("ENV =b", "names can not be blank"),
        ("ENV", "ENV requires at least one argument"),
        ("LABEL", "LABEL requires at least one argument"),
    ];
    for (text, want) in errors {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn arg_forms() {
    let decl = |n: &str, d: Option<&str>| ArgDecl {
        name: n.into(),
        default: d.map(str::to_string),
    };
    assert_eq!(one("ARG a"), Kind::Arg(vec![decl("a", None)]));
    assert_eq!(
        one("ARG a=1 b c=\"x y\""),
        Kind::Arg(vec![
            decl("a", Some("1")),
            decl("b", None),
            decl("c", Some("\"x y\""))
        ])
    );
    assert_eq!(one("ARG a="), Kind::Arg(vec![decl("a", Some(""))]));
    assert!(error("ARG").contains("ARG requires at least one argument"));
}

#[test]
fn from_forms() {
    let f = |text: &str| match one(text) {
        Kind::From(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(f("FROM alpine").image, "alpine");
    let x = f("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build-1.x");
    assert_eq!(
        (x.image.as_str(), x.name.as_deref(), x.platform.as_deref()),
        ("golang:1.22", Some("build-1.x"), Some("$BUILDPLATFORM"))
    );
    assert_eq!(f("FROM a as b").name.as_deref(), Some("b"));
    let errors = [
        (
            "FROM",
            "Dockerfile:1: FROM: FROM requires either one or three arguments",
        ),
        ("FROM a b", "FROM requires either one or three arguments"),
        ("FROM a AS", "FROM requires either one or three arguments"),
        (
            "FROM a AS b c",
            "FROM requires either one or three arguments",
        ),
        ("FROM a AS 1b", "invalid name for build stage: \"1b\""),
        ("FROM a AS b$c", "invalid name for build stage"),
        ("FROM --plaform=x a", "unknown flag: --plaform"),
    ];
    for (text, want) in errors {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn simple_instructions() {
    assert_eq!(one("WORKDIR /a b"), Kind::Workdir("/a b".into()));
    assert_eq!(one("USER app:app"), Kind::User("app:app".into()));
    assert_eq!(
        one("STOPSIGNAL SIGTERM"),
        Kind::StopSignal("SIGTERM".into())
    );
    assert_eq!(
        one("MAINTAINER Jo <jo@example.invalid>"),
        Kind::Maintainer("Jo <jo@example.invalid>".into())
    );
    assert_eq!(
        one("EXPOSE 80 443/tcp 53/udp"),
        Kind::Expose(vec!["80".into(), "443/tcp".into(), "53/udp".into()])
    );
    assert_eq!(
        one("VOLUME /a /b"),
        Kind::Volume(vec!["/a".into(), "/b".into()])
    );
    assert_eq!(one("VOLUME [\"/a b\"]"), Kind::Volume(vec!["/a b".into()]));
    assert_eq!(
        one("SHELL [\"/bin/bash\", \"-c\"]"),
        Kind::Shell(vec!["/bin/bash".into(), "-c".into()])
    );
    let errors = [
        (
            "WORKDIR",
            "Dockerfile:1: WORKDIR: WORKDIR requires exactly one argument",
        ),
        ("USER", "USER requires exactly one argument"),
        ("STOPSIGNAL", "STOPSIGNAL requires exactly one argument"),
        ("MAINTAINER", "MAINTAINER requires exactly one argument"),
        (
            "MAINTAINER --boo joe@example.invalid",
            "unknown flag: --boo",
        ),
        ("HEALTHCHECK", "HEALTHCHECK requires at least one argument"),
        ("VOLUME", "VOLUME requires at least one argument"),
        (
            "COPY\t\n\t\tquux \\\n      bar",
            "COPY requires at least two arguments",
        ),
        (
            "SHELL /bin/sh -c",
            "SHELL requires the arguments to be in JSON form",
        ),
        ("SHELL []", "SHELL requires at least one argument"),
        (
            "VOLUME [\"\"]",
            "VOLUME specified can not be an empty string",
        ),
        ("EXPOSE", "EXPOSE requires at least one argument"),
        ("USER --x=1 a", "unknown flag: --x"),
    ];
    for (text, want) in errors {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn healthcheck_forms() {
    assert_eq!(
        one("HEALTHCHECK NONE"),
        Kind::Healthcheck(Healthcheck::None)
    );
    let Kind::Healthcheck(Healthcheck::Check { command, options }) =
        one("HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=500ms --retries=3 CMD curl -f http://localhost/")
    else {
        panic!()
    };
    assert_eq!(command, shell("curl -f http://localhost/"));
    assert_eq!(options.interval, Some(Duration::from_secs(300)));
    assert_eq!(options.timeout, Some(Duration::from_secs(3)));
    assert_eq!(options.start_interval, Some(Duration::from_millis(500)));
    assert_eq!(options.retries, Some(3));
    let Kind::Healthcheck(Healthcheck::Check { command, .. }) = one("HEALTHCHECK cmd [\"true\"]")
    else {
        panic!()
    };
    assert_eq!(command, exec(&["true"]));
    let errors = [
        ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
        (
            "HEALTHCHECK --retries=1 NONE",
            "HEALTHCHECK NONE takes no options",
        ),
        ("HEALTHCHECK CMD", "missing command after HEALTHCHECK CMD"),
        (
            "HEALTHCHECK RUN x",
            "unknown type \"RUN\" in HEALTHCHECK (try CMD)",
        ),
        (
            "HEALTHCHECK --interval=5 CMD x",
            "--interval: invalid duration \"5\"",
        ),
        (
            "HEALTHCHECK --interval=10us CMD x",
            "--interval cannot be less than 1ms",
        ),
        ("HEALTHCHECK --retries=-1 CMD x", "--retries needs a number"),
    ];
    for (text, want) in errors {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
}

#[test]
fn onbuild_triggers() {
    let Kind::Onbuild { trigger, parsed } = one("ONBUILD RUN echo hi") else {
        panic!()
    };
    assert_eq!(trigger, "RUN echo hi");
    assert_eq!(
        parsed.kind,
        Kind::Run(Run {
            command: shell("echo hi"),
            heredocs: vec![],
            mounts: vec![],
            network: None
        })
    );
    for (text, want) in [
        (
            "ONBUILD ONBUILD RUN x",
            "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
        ),
        ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"),
        (
            "ONBUILD maintainer x",
            "MAINTAINER isn't allowed as an ONBUILD trigger",
        ),
        ("ONBUILD", "ONBUILD requires at least one argument"),
        ("ONBUILD COPY a", "COPY requires at least two arguments"),
    ] {
        let got = error(text);
        assert!(got.contains(want), "{text}: {got}");
    }
    let t = parse_trigger("base:onbuild", 1, "COPY . /app").unwrap();
    assert_eq!(t.keyword(), "COPY");
    assert!(parse_trigger("base", 1, "FROM x").is_err());
}

#[test]
fn flag_words_keep_quoted_spaces() {
    let c = copy_of(one("COPY --chown=\"a b\" x y"));
    assert_eq!(c.chown.as_deref(), Some("a b"));
    // A quoted word is not a flag, as in Docker.
    let c = copy_of(one("COPY \"--chown=a\" x y"));
    assert_eq!(c.chown, None);
    let c = copy_of(one("COPY --chown=a\\ b x y"));
    assert_eq!(c.chown.as_deref(), Some("a b"));
}

/// BuildKit's heredoc cases (parser_heredoc_test.go), as (line and body,
/// expected (name, content, expand, chomp, fd) of each heredoc).
#[test]
fn heredocs_as_buildkit_reads_them() {
    type Doc<'a> = (&'a str, &'a str, bool, bool, u32);
    let cases: &[(&str, &[Doc])] = &[
        ("RUN <<EMPTY\nEMPTY", &[("EMPTY", "", true, false, 0)]),
        ("RUN 3<<EMPTY2\nEMPTY2", &[("EMPTY2", "", true, false, 3)]),
        ("RUN \"<<NOHEREDOC\"", &[]),
        (
            "RUN <<INDENT\n\tfoo\n\tbar\nINDENT",
            &[("INDENT", "\tfoo\n\tbar\n", true, false, 0)],
        ),
        (
            "RUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT",
            &[("UNINDENT", "\tbaz\n\tquux\n", true, true, 0)],
        ),
        (
            "RUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2",
            &[("UNINDENT2", "\tbaz\n\tquux\n", true, true, 0)],
        ),
        (
            "RUN <<-'NOEXPAND'\n\tdon't expand $NAME\nNOEXPAND",
            &[("NOEXPAND", "\tdon't expand $NAME\n", false, true, 0)],
        ),
        (
            "RUN <<COMMENT\n# internal comment\necho foo # trailing\nCOMMENT",
            &[(
                "COMMENT",
                "# internal comment\necho foo # trailing\n",
                true,
                false,
                0,
            )],
        ),
        (
            "RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT",
            &[("MOUNT", "echo hello\n", true, false, 0)],
        ),
        (
            "COPY <<X <<Y /dest\nY\nX\nX\nY",
            &[("X", "Y\n", true, false, 0), ("Y", "X\n", true, false, 0)],
        ),
        (
            "RUN <<COMPLEX python3\nprint('hello world')\nCOMPLEX",
            &[("COMPLEX", "print('hello world')\n", true, false, 0)],
        ),
        (
            "COPY <<file.txt /dest\nhello world\nfile.txt",
            &[("file.txt", "hello world\n", true, false, 0)],
        ),
        (
            "RUN <<eo'f'\necho foo\neof",
            &[("eof", "echo foo\n", false, false, 0)],
        ),
        (
            "RUN <<eo\\'f\necho foo\neo'f",
            &[("eo'f", "echo foo\n", true, false, 0)],
        ),
        (
            "RUN <<'e'o\\'f\necho foo\neo'f",
            &[("eo'f", "echo foo\n", false, false, 0)],
        ),
        (
            "RUN <<'one two'\necho bar\none two",
            &[("one two", "echo bar\n", false, false, 0)],
        ),
        ("RUN <<$EOF\n$EOF", &[("$EOF", "", true, false, 0)]),
        ("RUN <<  EOF\nEOF", &[("EOF", "", true, false, 0)]),
        ("RUN <<  EOF  > foo\nEOF", &[("EOF", "", true, false, 0)]),
        ("RUN << -EOF\n-EOF", &[("-EOF", "", true, false, 0)]),
        ("RUN <<- EOF\nEOF", &[("EOF", "", true, true, 0)]),
        ("RUN [\"<<EOF\"]", &[]),
        ("RUN '<<EOF'", &[]),
        ("RUN <<<EOF", &[]),
    ];
    for (text, want) in cases {
        let d = parse("Dockerfile", &format!("FROM a\n{text}\nUSER after"))
            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(d.instructions.len(), 3, "{text:?}");
        let docs = match &d.instructions[1].kind {
            Kind::Run(r) => r.heredocs.clone(),
            Kind::Copy(c) => c
                .sources
                .iter()
                .filter_map(|s| match s {
                    Source::Heredoc(h) => Some(h.clone()),
                    Source::Path(_) => None,
                })
                .collect(),
            other => panic!("{other:?}"),
        };
        let got: Vec<Doc> = docs
            .iter()
            .map(|h| (h.name.as_str(), h.content.as_str(), h.expand, h.chomp, h.fd))
            .collect();
        assert_eq!(got, *want, "{text:?}");
    }
    for bad in ["RUN <<'EOF\nx", "RUN <<EOF'\nx", "RUN <<\"EOF\nx"] {
        let err = error(&format!("FROM a\n{bad}"));
        assert!(
            err.starts_with("Dockerfile:2: RUN: unexpected end of statement"),
            "{bad:?}: {err}"
        );
    }
}
