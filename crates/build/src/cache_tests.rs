use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

use super::*;
use crate::ignore::Ignore;
use crate::plan::{plan, NoImages, PlanOptions};

const DOCKERFILE: &str = "\
FROM busybox AS build
ARG VERSION=1
COPY src/ /src/
RUN make -C /src VERSION=$VERSION
FROM scratch
COPY --from=build /src/out /app
COPY config.toml /etc/app/
LABEL v=1
";

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "src/main.c", "int main(){}");
    write(dir.path(), "src/util.c", "void u(){}");
    write(dir.path(), "src/notes.tmp", "scratch notes");
    write(dir.path(), "config.toml", "a = 1");
    write(dir.path(), "unrelated.txt", "x");
    write(dir.path(), ".dockerignore", "**/*.tmp\n");
    dir
}

fn opts(args: &[(&str, &str)]) -> PlanOptions {
    let mut o = PlanOptions::host();
    o.build_args = args
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    o
}

/// Every step key of the target's stages, in plan order.
fn all_keys(dir: &Path, text: &str, options: &PlanOptions, digests: &dyn ImageDigests) -> Vec<Key> {
    let df = crate::parse("Dockerfile", text).unwrap();
    let p = plan(&df, options, &NoImages).unwrap();
    let ctx = Context::open(dir, None).unwrap();
    let keys = keys(&p, &ctx, digests).unwrap();
    p.order()
        .into_iter()
        .flat_map(|i| {
            let k = keys[i].clone().unwrap();
            std::iter::once(k.base).chain(k.steps)
        })
        .collect()
}

fn keys_of(dir: &Path) -> Vec<Key> {
    all_keys(dir, DOCKERFILE, &opts(&[]), &NoDigests)
}

/// Indexes of keys that differ.
fn changed(a: &[Key], b: &[Key]) -> Vec<usize> {
    assert_eq!(a.len(), b.len());
    (0..a.len()).filter(|&i| a[i] != b[i]).collect()
}

// Key positions: 0 build base, 1 COPY src, 2 RUN, 3 final base (scratch),
// 4 COPY --from=build, 5 COPY config.toml, 6 LABEL.

#[test]
fn nothing_changed_means_the_same_keys() {
    let dir = fixture();
    let a = keys_of(dir.path());
    assert_eq!(a.len(), 7);
    assert_eq!(a, keys_of(dir.path()));
    let unique: std::collections::BTreeSet<_> = a.iter().collect();
    assert_eq!(unique.len(), a.len(), "{a:?}");
}

#[test]
fn one_copied_file_changes_that_step_and_every_later_one() {
    let dir = fixture();
    let before = keys_of(dir.path());
    write(dir.path(), "src/util.c", "void u(){ return; }");
    assert_eq!(changed(&before, &keys_of(dir.path())), [1, 2, 4, 5, 6]);

    let dir = fixture();
    write(dir.path(), "config.toml", "a = 2");
    assert_eq!(changed(&before, &keys_of(dir.path())), [5, 6]);
}

#[test]
fn files_not_copied_mtimes_and_ignored_files_change_nothing() {
    let dir = fixture();
    let before = keys_of(dir.path());
    write(dir.path(), "unrelated.txt", "changed");
    write(dir.path(), "src/notes.tmp", "ignored anyway");
    let f = fs::File::options()
        .write(true)
        .open(dir.path().join("src/main.c"))
        .unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
    assert_eq!(changed(&before, &keys_of(dir.path())), Vec::<usize>::new());
}

#[test]
fn metadata_counts() {
    let dir = fixture();
    let before = keys_of(dir.path());
    fs::set_permissions(
        dir.path().join("src/main.c"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let after_chmod = keys_of(dir.path());
    assert_eq!(changed(&before, &after_chmod), [1, 2, 4, 5, 6]);
    symlink("main.c", dir.path().join("src/link")).unwrap();
    let with_link = keys_of(dir.path());
    assert_eq!(changed(&after_chmod, &with_link), [1, 2, 4, 5, 6]);
    fs::remove_file(dir.path().join("src/link")).unwrap();
    symlink("util.c", dir.path().join("src/link")).unwrap();
    assert_eq!(changed(&with_link, &keys_of(dir.path())), [1, 2, 4, 5, 6]);
    // A new, empty directory is part of what is copied too.
    let dir = fixture();
    fs::create_dir(dir.path().join("src/empty")).unwrap();
    assert_eq!(changed(&before, &keys_of(dir.path())), [1, 2, 4, 5, 6]);
}

#[test]
fn build_args_and_expanded_arguments_are_part_of_the_key() {
    let dir = fixture();
    let before = keys_of(dir.path());
    let other = all_keys(
        dir.path(),
        DOCKERFILE,
        &opts(&[("VERSION", "2")]),
        &NoDigests,
    );
    assert_eq!(changed(&before, &other), [2, 4, 5, 6]);
    // The same expanded text gives the same key, however it was spelled.
    let a = all_keys(
        dir.path(),
        "FROM scratch\nENV A=x\nLABEL l=$A",
        &opts(&[]),
        &NoDigests,
    );
    let b = all_keys(
        dir.path(),
        "FROM scratch\nENV A=x\nLABEL l=x",
        &opts(&[]),
        &NoDigests,
    );
    assert_eq!(a, b);
}

#[test]
fn base_digests_and_platforms_change_everything() {
    struct Pinned(&'static str);
    impl ImageDigests for Pinned {
        fn digest(&self, _: &str, _: &Platform) -> Option<String> {
            Some(self.0.to_string())
        }
    }
    let dir = fixture();
    let a = all_keys(dir.path(), DOCKERFILE, &opts(&[]), &Pinned("sha256:1"));
    let b = all_keys(dir.path(), DOCKERFILE, &opts(&[]), &Pinned("sha256:2"));
    assert_eq!(changed(&a, &b), [0, 1, 2, 4, 5, 6]);
    let mut e2k = opts(&[]);
    e2k.target_platform = Platform::parse("linux/e2k/v6").unwrap();
    let c = all_keys(dir.path(), DOCKERFILE, &e2k, &Pinned("sha256:1"));
    assert_eq!(changed(&a, &c), [0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn bind_mounts_of_the_context_are_inputs() {
    let dir = fixture();
    let text = "FROM scratch\nRUN --mount=type=bind,source=src,target=/s make\nRUN --mount=type=cache,target=/c true";
    let before = all_keys(dir.path(), text, &opts(&[]), &NoDigests);
    write(dir.path(), "config.toml", "not bound");
    assert_eq!(before, all_keys(dir.path(), text, &opts(&[]), &NoDigests));
    write(dir.path(), "src/main.c", "bound");
    assert_eq!(
        changed(&before, &all_keys(dir.path(), text, &opts(&[]), &NoDigests)),
        [1, 2]
    );
}

#[test]
fn copy_errors_name_the_step() {
    let dir = fixture();
    let ctx = Context::with_ignore(dir.path(), Ignore::default());
    let cases = [
        ("FROM scratch\nCOPY ../x /x", "Dockerfile:2: COPY: forbidden path outside the build context: ../x"),
        ("FROM scratch\n\nADD missing /x", "Dockerfile:3: ADD: file not found in build context or excluded by .dockerignore: missing"),
        ("FROM scratch\nCOPY src/*.c /x", "Dockerfile:2: COPY: when using COPY with more than one source file, the destination must be a directory and end with a /"),
        ("FROM scratch\nCOPY config.toml <<EOF /x\nhi\nEOF", "Dockerfile:2: COPY: when using COPY with more than one source file, the destination must be a directory and end with a /"),
    ];
    for (text, want) in cases {
        let df = crate::parse("Dockerfile", text).unwrap();
        let p = plan(&df, &opts(&[]), &NoImages).unwrap();
        let err = keys(&p, &ctx, &NoDigests).unwrap_err().to_string();
        assert_eq!(err, want, "{text}");
    }
    // URLs of ADD are not looked for in the context.
    let df = crate::parse(
        "Dockerfile",
        "FROM scratch\nADD https://example.invalid/a.tgz /x",
    )
    .unwrap();
    let p = plan(&df, &opts(&[]), &NoImages).unwrap();
    assert!(keys(&p, &ctx, &NoDigests).is_ok());
}

#[test]
fn proxy_settings_do_not_change_keys() {
    let dir = fixture();
    let text = "FROM scratch\nRUN curl example.invalid";
    let plain = all_keys(dir.path(), text, &opts(&[]), &NoDigests);
    let proxied = all_keys(
        dir.path(),
        text,
        &opts(&[("HTTP_PROXY", "http://p:3128")]),
        &NoDigests,
    );
    assert_eq!(plain, proxied);
    let other = all_keys(dir.path(), text, &opts(&[("OTHER", "1")]), &NoDigests);
    assert_eq!(plain, other, "an undeclared build arg changes nothing");
}
