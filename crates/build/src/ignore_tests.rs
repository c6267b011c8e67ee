use super::*;

/// (pattern, path, matches exactly)
const MATCHES: &[(&str, &str, bool)] = &[
    ("*.go", "a.go", true),
    ("*.go", "dir/a.go", false),
    ("*", "abc", true),
    ("*", "a/b", false),
    ("*c", "abc", true),
    ("a*", "a", true),
    ("a*/b", "abc/b", true),
    ("a*/b", "a/c/b", false),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
    ("a*b?c*x", "abxbbxdbxebxczzx", true),
    ("a*b?c*x", "abxbbxdbxebxczzy", false),
    ("ab[c]", "abc", true),
    ("ab[b-d]", "abc", true),
    ("ab[e-g]", "abc", false),
    ("ab[^c]", "abc", false),
    ("ab[^b-d]", "abc", false),
    ("ab[^e-g]", "abc", true),
    ("a\\*b", "a*b", true),
    ("a\\*b", "ab", false),
    ("a?b", "a☺b", true),
    ("a[^a]b", "a☺b", true),
    ("a???b", "a☺b", false),
    ("a?b", "a/b", false),
    ("[\\]a]", "]", true),
    ("[\\-]", "-", true),
    ("[x\\-]", "z", false),
    ("**", "a/b/c", true),
    ("**", "", true),
    ("**/*.go", "a.go", true),
    ("**/*.go", "d/e/a.go", true),
    ("**/node_modules", "node_modules", true),
    ("**/node_modules", "a/b/node_modules", true),
    ("a/**/b", "a/b", true),
    ("a/**/b", "a/x/b", true),
    ("a/**/b", "a/x/y/b", true),
    ("a/**/b", "a/xb", false),
    ("dir/**", "dir/x/y", true),
    ("dir/**", "dir", false),
    ("**/.git", ".git", true),
    ("a**", "abc/d", true),
    // moby/patternmatcher's cases
    ("**/dir2/*", "dir/dir2/file", true),
    ("**/dir2/**", "dir/dir2/dir3/file", true),
    ("**file", "file", true),
    ("**file", "dir/dir/file", true),
    ("**/file*txt", "dir/dir/file.txt", true),
    ("**/**/*.txt", "dir/dir/file.txt", true),
    ("**/**/*.txt2", "dir/dir/file.txt", false),
    ("**/**/*.txt", "file.txt", true),
    ("a**/*.txt", "a/file.txt", true),
    ("a**/*.txt", "a/dir/dir/file.txt", true),
    ("a/*.txt", "a/dir/file.txt", false),
    ("a/*.txt**", "a/file.txt", true),
    ("a[b-d]e", "ae", false),
    ("a[b-d]e", "ace", true),
    ("a[^b-d]e", "aze", true),
    (".*", ".foo", true),
    (".*", "foo", false),
    ("abc.def", "abcZdef", false),
    ("abc?def", "abcZdef", true),
    ("**/foo/bar", "dir/dir2/foo/bar", true),
    ("abc/**", "abc", false),
    ("**/.foo", "bar.foo", false),
    ("a(b)c/def", "a(b)c/def", true),
    ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
    (
        "dist/*.whl",
        "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
        true,
    ),
    ("a\\\\", "a\\", true),
    ("[a-ζ]*", "α", true),
    ("*[a-ζ]", "A", false),
    ("a*b", "a/b", false),
    ("[x\\-]", "x", true),
    ("[x\\-]", "-", true),
    ("[\\-x]", "x", true),
    ("[\\-x]", "a", false),
    ("a[^a][^a][^a]b", "a☺b", false),
    ("*x", "xxx", true),
];

#[test]
fn patterns_match_like_go() {
    for (pattern, path, want) in MATCHES {
        let p = Pattern::new(pattern, false).unwrap();
        assert_eq!(p.matches(path), *want, "{pattern:?} on {path:?}");
    }
}

#[test]
fn bad_patterns_are_errors() {
    // Go's filepath.Match refuses these, so Docker does.
    for bad in [
        "[", "a[", "[a-", "[z-a]", "a]", "[]a]", "[-]", "[x-]", "[-x]", "\\", "[a-b-c]", "[^",
        "[^bc", "[]",
    ] {
        let err = Pattern::new(bad, false).unwrap_err();
        assert!(
            err.starts_with(&format!("invalid pattern {bad:?}")),
            "{err}"
        );
    }
    let err = Ignore::parse(".dockerignore", "ok\n !  \n").unwrap_err();
    assert_eq!(err, ".dockerignore:2: illegal exclusion pattern: \"!\"");
    let err = Ignore::parse(".dockerignore", "ok\n[bad\n").unwrap_err();
    assert!(
        err.starts_with(".dockerignore:2: invalid pattern \"[bad\""),
        "{err}"
    );
}

/// (.dockerignore text, path, excluded)
const EXCLUDES: &[(&str, &str, bool)] = &[
    ("*.go", "a.go", true),
    ("*.go", "dir/a.go", false),
    ("dir", "dir/x/y", true),
    ("dir", "dirx", false),
    ("dir/", "dir/x", true),
    ("/dir", "dir/x", true),
    ("./dir/../other", "other/x", true),
    ("**/*.o", "src/deep/x.o", true),
    ("*\n!README.md", "README.md", false),
    ("*\n!README.md", "main.c", true),
    ("docs\n!docs/keep.md", "docs/keep.md", false),
    ("docs\n!docs/keep.md", "docs/other.md", true),
    ("!a\na", "a", true),
    ("**\n!util/docker/web", "util/docker/web/foo", false),
    (
        "**\n!util/docker/web\nutil/docker/web/foo",
        "util/docker/web/foo",
        true,
    ),
    ("**\n!dist/*.whl", "dist/p-1.0-py3-none-any.whl", false),
    ("docs/*\n!docs/README.md", "docs/README.md", false),
    ("!fileutils.go\n*.go", "fileutils.go", true),
    ("a\n!a", "a", false),
    ("# comment\nx", "# comment", false),
    ("  spaced  ", "spaced", true),
    ("\n\n", "anything", false),
    ("**\n!src/**\nsrc/**/*.tmp", "src/a/b.tmp", true),
    ("**\n!src/**\nsrc/**/*.tmp", "src/a/b.rs", false),
    ("**\n!src/**\nsrc/**/*.tmp", "target/x", true),
];

#[test]
fn the_last_matching_pattern_decides() {
    for (text, path, want) in EXCLUDES {
        let ignore = Ignore::parse(".dockerignore", text).unwrap();
        assert_eq!(ignore.excludes(path), *want, "{text:?} on {path:?}");
    }
}

#[test]
fn paths_clean_like_go() {
    let cases = [
        ("a/b", "a/b"),
        ("a//b/", "a/b"),
        ("./a", "a"),
        ("a/../..", ".."),
        ("/../a", "/a"),
        ("", "."),
        ("a/./b/../c", "a/c"),
    ];
    for (path, want) in cases {
        assert_eq!(clean(path), want, "{path}");
    }
}
