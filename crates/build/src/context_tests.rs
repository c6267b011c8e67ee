use super::*;
use std::os::unix::fs::symlink;

/// A context with files, a directory tree, links and an outside file.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    let write = |p: &str, s: &str| {
        let path = ctx.join(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, s).unwrap();
    };
    write("main.go", "package main");
    write("util.go", "package util");
    write("README.md", "hi");
    write("src/a.rs", "a");
    write("src/deep/b.rs", "b");
    write("src/deep/b.tmp", "tmp");
    write("docs/keep.md", "keep");
    write("docs/drop.md", "drop");
    fs::write(dir.path().join("secret"), "outside").unwrap();
    symlink("src/a.rs", ctx.join("link-rel")).unwrap();
    symlink("/src/deep", ctx.join("link-abs")).unwrap();
    symlink("../../secret", ctx.join("src/escape")).unwrap();
    symlink("/../../../secret", ctx.join("escape-abs")).unwrap();
    symlink("loop2", ctx.join("loop1")).unwrap();
    symlink("loop1", ctx.join("loop2")).unwrap();
    dir
}

fn context(dir: &tempfile::TempDir, ignore: &str) -> Context {
    let ignore = Ignore::parse(".dockerignore", ignore).unwrap();
    Context::with_ignore(&dir.path().join("ctx"), ignore)
}

fn rels(sel: &Selection) -> Vec<String> {
    sel.entries
        .iter()
        .map(|e| format!("{}:{}", e.root, e.rel))
        .collect()
}

fn select(ctx: &Context, sources: &[&str]) -> Result<Selection, ContextError> {
    let sources: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    ctx.select(&sources)
}

#[test]
fn files_globs_and_directories() {
    let dir = fixture();
    let ctx = context(&dir, "");
    let sel = select(&ctx, &["main.go"]).unwrap();
    assert_eq!(sel.roots, ["main.go"]);
    assert_eq!(sel.entries[0].kind, EntryKind::File { size: 12 });
    let sel = select(&ctx, &["*.go"]).unwrap();
    assert_eq!(sel.roots, ["main.go", "util.go"]);
    let sel = select(&ctx, &["src"]).unwrap();
    assert_eq!(
        rels(&sel),
        [
            "0:a.rs",
            "0:deep",
            "0:deep/b.rs",
            "0:deep/b.tmp",
            "0:escape"
        ]
    );
    let sel = select(&ctx, &["/src/deep/", "./README.md"]).unwrap();
    assert_eq!(rels(&sel), ["0:b.rs", "0:b.tmp", "1:"]);
    let sel = select(&ctx, &["src/*/b.?s"]).unwrap();
    assert_eq!(sel.roots, ["src/deep/b.rs"]);
    let sel = select(&ctx, &["."]).unwrap();
    assert_eq!(sel.roots, [""]);
    assert!(rels(&sel).contains(&"0:docs/keep.md".to_string()));
}

#[test]
fn links_are_followed_inside_the_context_only() {
    let dir = fixture();
    let ctx = context(&dir, "");
    let sel = select(&ctx, &["link-rel"]).unwrap();
    assert_eq!(
        (sel.roots, sel.names),
        (vec!["src/a.rs".to_string()], vec!["link-rel".to_string()])
    );
    assert_eq!(select(&ctx, &["link-abs"]).unwrap().roots, ["src/deep"]);
    assert_eq!(
        select(&ctx, &["link-abs/b.rs"]).unwrap().roots,
        ["src/deep/b.rs"]
    );
    // ../../secret from src/ stops at the root: "secret" in the context.
    let err = select(&ctx, &["src/escape"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "file not found in build context or excluded by .dockerignore: src/escape"
    );
    // So is a glob that matches it (buildah 1.28 fails the same way).
    assert!(matches!(
        select(&ctx, &["src/*"]),
        Err(ContextError::NotFound(_))
    ));
    let err = select(&ctx, &["escape-abs"]).unwrap_err();
    assert!(matches!(err, ContextError::NotFound(_)), "{err}");
    // Inside a directory a link stays a link.
    let sel = select(&ctx, &["src"]).unwrap();
    let link = sel.entries.iter().find(|e| e.rel == "escape").unwrap();
    assert_eq!(
        link.kind,
        EntryKind::Symlink {
            target: "../../secret".into()
        }
    );
    let err = select(&ctx, &["loop1"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "too many levels of symbolic links resolving loop1"
    );
}

#[test]
fn paths_outside_the_context_are_refused() {
    let dir = fixture();
    let ctx = context(&dir, "");
    for source in ["../secret", "src/../../secret", "/../secret", ".."] {
        let err = select(&ctx, &[source]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("forbidden path outside the build context: {source}")
        );
    }
    let err = select(&ctx, &["nope"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "file not found in build context or excluded by .dockerignore: nope"
    );
    let err = select(&ctx, &["*.java"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no source files were specified: *.java matches no file of the build context"
    );
}

#[test]
fn dockerignore_removes_files_with_exceptions() {
    let dir = fixture();
    let ctx = context(&dir, "*.go\n!main.go\ndocs\n!docs/keep.md\n**/*.tmp\n");
    assert_eq!(select(&ctx, &["*.go"]).unwrap().roots, ["main.go"]);
    assert!(matches!(
        select(&ctx, &["util.go"]),
        Err(ContextError::NotFound(_))
    ));
    assert!(matches!(
        select(&ctx, &["docs/drop.md"]),
        Err(ContextError::NotFound(_))
    ));
    let all = rels(&select(&ctx, &["."]).unwrap());
    assert!(all.contains(&"0:docs/keep.md".to_string()), "{all:?}");
    for gone in ["0:util.go", "0:docs/drop.md", "0:src/deep/b.tmp"] {
        assert!(!all.contains(&gone.to_string()), "{gone} in {all:?}");
    }
    // An excluded directory stays as the parent of what is brought back.
    let at = |p: &str| all.iter().position(|e| e == p).unwrap();
    assert!(at("0:docs") < at("0:docs/keep.md"), "{all:?}");
    assert_eq!(rels(&select(&ctx, &["docs"]).unwrap()), ["0:keep.md"]);
    let ctx = context(&dir, "docs\n!docs/none.md\n");
    assert!(matches!(
        select(&ctx, &["docs"]),
        Err(ContextError::NotFound(_))
    ));
}

#[test]
fn the_ignore_file_beside_the_dockerfile_wins() {
    let dir = fixture();
    let root = dir.path().join("ctx");
    fs::write(root.join(".dockerignore"), "README.md\n").unwrap();
    let ctx = Context::open(&root, None).unwrap();
    assert!(select(&ctx, &["README.md"]).is_err());
    fs::create_dir(root.join("build")).unwrap();
    let df = root.join("build/Containerfile");
    fs::write(&df, "FROM scratch").unwrap();
    fs::write(root.join("build/Containerfile.dockerignore"), "main.go\n").unwrap();
    let ctx = Context::open(&root, Some(&df)).unwrap();
    assert!(select(&ctx, &["README.md"]).is_ok());
    assert!(select(&ctx, &["main.go"]).is_err());
    fs::write(root.join(".dockerignore"), "[bad\n").unwrap();
    let err = Context::open(&root, None).err().unwrap().to_string();
    assert!(
        err.ends_with(".dockerignore:1: invalid pattern \"[bad\": unterminated ["),
        "{err}"
    );
}

#[test]
fn modes_are_recorded() {
    let dir = fixture();
    let root = dir.path().join("ctx");
    fs::set_permissions(root.join("main.go"), fs::Permissions::from_mode(0o4755)).unwrap();
    let sel = select(&context(&dir, ""), &["main.go"]).unwrap();
    assert_eq!(sel.entries[0].mode, 0o4755);
}
