//! The README's examples, run as written. Every line of every ` ```sh `
//! block of README.md is run with bash, in the README's order, against a
//! private root where the image `busybox` was made the way the quick start
//! makes it (scripts/lib.sh's `import_busybox_image`). A block that cannot
//! run there (the quick start itself, a registry, a VM) is preceded by a
//! `<!-- not run: REASON -->` line. A line that fails or hangs fails the
//! test, naming the README's line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::world::World;

/// One command line of the README.
#[derive(Debug, PartialEq)]
struct Example {
    /// 1-based line number in README.md.
    line: usize,
    text: String,
}

const NOT_RUN: &str = "<!-- not run:";

/// The runnable lines of `markdown`: lines of ` ```sh ` blocks not marked
/// `not run`, continuation lines (`\` at the end) joined, blank and
/// comment-only lines left out.
fn examples(markdown: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut block: Option<bool> = None; // Some(runs?) inside a sh block
    let mut other_block = false;
    let mut marked = false;
    let mut pending: Option<Example> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(runs) = block {
            if trimmed == "```" {
                block = None;
                continue;
            }
            if !runs {
                continue;
            }
            let (text, more) = match line.strip_suffix('\\') {
                Some(t) => (t, true),
                None => (line, false),
            };
            let ex = match pending.take() {
                Some(mut p) => {
                    p.text.push(' ');
                    p.text.push_str(text.trim());
                    p
                }
                None => Example {
                    line: i + 1,
                    text: text.trim().to_string(),
                },
            };
            if more {
                pending = Some(ex);
            } else if !ex.text.is_empty() && !ex.text.starts_with('#') {
                out.push(ex);
            }
        } else if other_block {
            other_block = trimmed != "```";
        } else if trimmed == "```sh" {
            block = Some(!marked);
            marked = false;
        } else if trimmed.starts_with("```") {
            other_block = true;
            marked = false;
        } else if !trimmed.is_empty() {
            marked = trimmed.starts_with(NOT_RUN);
        }
    }
    assert!(
        block.is_none() && !other_block,
        "a code block is not closed"
    );
    out
}

/// `<!-- not run: REASON -->` markers without a reason.
fn markers_without_reason(markdown: &str) -> Vec<usize> {
    markdown
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let reason = l.trim().strip_prefix(NOT_RUN)?.strip_suffix("-->")?;
            reason.trim().is_empty().then_some(i + 1)
        })
        .collect()
}

fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// bash with the world's environment: its root as `YURTA_ROOT`, its
/// network names, the built binaries first on PATH.
fn bash(w: &World, cwd: &Path, script: &str) -> Command {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_yurta")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Generous: a line that hangs (`logs -f`, `events` without --until)
    // ends here and fails the test instead of holding it forever.
    let mut c = Command::new("timeout");
    c.args([
        "-k", "10", "300", "bash", "-e", "-o", "pipefail", "-c", script,
    ])
    .current_dir(cwd)
    .env("PATH", path)
    .env("YURTA_ROOT", w.y.root())
    .stdin(Stdio::null());
    for (k, v) in w.cmd(&[]).get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

/// The quick start's image, made by the quick start's own helper.
fn quickstart_image(w: &World, cwd: &Path) {
    let script = format!(
        ". {}/scripts/lib.sh && import_busybox_image yurta busybox",
        repo().display()
    );
    let o = bash(w, cwd, &script).output().unwrap();
    assert!(
        o.status.success(),
        "import_busybox_image: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_readme_examples_run_as_written() {
    let Some(w) = World::new() else { return };
    let text = readme();
    let found = examples(&text);
    // The convention itself must not rot: a README whose blocks all became
    // `not run` (or ` ```console `) would pass with nothing tested.
    assert!(
        found.len() >= 30,
        "only {} runnable lines in README.md: {found:#?}",
        found.len()
    );
    let cwd = w.y.path("readme");
    std::fs::create_dir_all(&cwd).unwrap();
    quickstart_image(&w, &cwd);
    for ex in &found {
        let o = bash(&w, &cwd, &ex.text).output().unwrap();
        // Errors on stderr count too: bash does not see the exit code of
        // a command in `<(...)`, and an example that warns is broken.
        let what = match o.status.code() {
            Some(0) => "wrote to stderr".to_string(),
            Some(124) => "did not end in 300 s".to_string(),
            Some(c) => format!("exited with {c}"),
            None => "was killed".to_string(),
        };
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "README.md line {}: `{}` {what}\nstdout:\n{}\nstderr:\n{}",
            ex.line,
            ex.text,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn every_not_run_marker_says_why() {
    assert_eq!(markers_without_reason(&readme()), Vec::<usize>::new());
}

#[test]
fn runnable_lines_are_found_as_the_convention_says() {
    let md = "\
intro

```sh
yurta run --rm busybox echo a   # a comment
# only a comment

yurta ps \\
    -a
```

<!-- not run: needs a registry -->
```sh
yurta push x
```

```console
yurta nothing
```

```
plain output
```
<!-- not run: a reason -->
```sh
yurta vm ls
```
```sh
yurta images
```
";
    let got = examples(md);
    let want = [
        (4, "yurta run --rm busybox echo a   # a comment"),
        (7, "yurta ps -a"),
        (28, "yurta images"),
    ];
    let want: Vec<Example> = want
        .iter()
        .map(|(line, text)| Example {
            line: *line,
            text: text.to_string(),
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(markers_without_reason("<!-- not run: -->\n"), vec![1]);
    assert!(markers_without_reason("<!-- not run: why -->\n").is_empty());
}
