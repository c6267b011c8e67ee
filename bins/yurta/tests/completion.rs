//! Shell completion and manual pages: `yurta completion bash|zsh|fish`
//! scripts checked by the shells themselves and driven as the shells drive
//! them at a TAB (bash's `COMP_LINE`, zsh's `words`/`CURRENT`, fish's
//! `complete -C`), names read from the line's root, `yurta __man DIR`
//! checked against the commands of `--help` and rendered by `man`, and
//! scripts/install.sh into a DESTDIR, twice.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::world::World;
use common::{sh, Out};

const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

fn yurta(args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_yurta"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        raw: o.stdout.clone(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// A directory with `bin/yurta`, so that the scripts find `yurta` on PATH
/// as they would after an install.
struct OnPath {
    dir: tempfile::TempDir,
}

impl OnPath {
    fn new() -> OnPath {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_yurta"), dir.path().join("bin/yurta"))
            .unwrap();
        OnPath { dir }
    }

    fn var(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

/// What `shell` offers at the end of `line`, as the shell itself gets it
/// from the script: values only (descriptions cut off), sorted.
fn complete(shell: &str, line: &str, env: &[(&str, &Path)]) -> BTreeSet<String> {
    let p = OnPath::new();
    let mut c = match shell {
        "bash" => {
            let mut c = Command::new("bash");
            c.args([
                "-c",
                r#"source <(yurta completion bash) || exit 1
                   COMP_LINE=$1; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(yurta); COMP_CWORD=1
                   _yurta
                   printf '%s\n' "${COMPREPLY[@]}""#,
                "bash",
                line,
            ]);
            c
        }
        "zsh" => {
            // The words as zsh has them, an empty one after a blank.
            let mut words: Vec<&str> = line.split_whitespace().collect();
            if line.ends_with(' ') {
                words.push("");
            }
            let mut c = Command::new("zsh");
            c.args([
                "-c",
                r#"compdef() { :; }
                   _describe() { local n=$3; print -rl -- "${(@P)n}"; }
                   source <(yurta completion zsh) || exit 1
                   words=("$@"); CURRENT=$#
                   _clap_dynamic_completer_yurta"#,
                "zsh",
            ])
            .args(words);
            c
        }
        _ => {
            let mut c = Command::new("fish");
            c.args([
                "-c",
                "yurta completion fish | source; complete -C $argv[1]",
                line,
            ]);
            c
        }
    };
    c.env("PATH", p.var()).env_remove("YURTA_ROOT");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.stdin(Stdio::null()).output().unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{shell} completing {line:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| value_of(shell, l))
        .collect()
}

/// The value of a candidate line: zsh's `value:help` (`\:` in the value),
/// fish's `value<TAB>help`.
fn value_of(shell: &str, line: &str) -> String {
    match shell {
        "zsh" => {
            let mut v = String::new();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    ':' => break,
                    c => v.push(c),
                }
            }
            v
        }
        "fish" => line.split('\t').next().unwrap_or_default().to_string(),
        _ => line.to_string(),
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_scripts_are_accepted_by_their_shells() {
    for (shell, check) in [
        ("bash", vec!["-n"]),
        ("zsh", vec!["-n"]),
        ("fish", vec!["--no-execute"]),
    ] {
        let script = yurta(&["completion", shell]).ok().stdout;
        assert!(!script.is_empty(), "{shell}: empty script");
        let mut child = Command::new(shell)
            .args(check)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{shell}: {e} (scripts/test.sh installs it)"));
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{shell} refuses the script: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Each registers a completion for the command `yurta`.
    let p = OnPath::new();
    let o = Command::new("bash")
        .args(["-c", "source <(yurta completion bash) && complete -p yurta"])
        .env("PATH", p.var())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "complete -o bashdefault -o default -F _yurta yurta"
    );
    assert!(yurta(&["completion", "zsh"])
        .stdout
        .starts_with("#compdef yurta\n"));
    assert!(yurta(&["completion", "fish"])
        .stdout
        .contains("complete --keep-order --exclusive --command yurta"));
}

#[test]
fn an_unknown_shell_is_one_line_and_125() {
    let o = yurta(&["completion", "tcsh"]);
    assert_eq!(o.code, 125);
    assert_eq!(o.stdout, "");
    assert_eq!(
        o.stderr,
        "yurta: unknown shell \"tcsh\": completion scripts are for bash, zsh and fish\n"
    );
}

#[test]
fn commands_flags_and_shells_complete() {
    for shell in SHELLS {
        let got = complete(shell, "yurta ru", &[]);
        assert_eq!(got, set(&["run"]), "{shell}");
        let got = complete(shell, "yurta vm sn", &[]);
        assert_eq!(got, set(&["snapshot"]), "{shell}");
        let got = complete(shell, "yurta run --netw", &[]);
        assert_eq!(got, set(&["--network", "--network-alias"]), "{shell}");
        let got = complete(shell, "yurta completion ", &[]);
        assert_eq!(got, set(&["bash", "fish", "zsh"]), "{shell}");
        let got = complete(shell, "yurta system p", &[]);
        assert_eq!(got, set(&["prune"]), "{shell}");
    }
}

#[test]
fn names_come_from_the_root_of_the_line() {
    let Some(w) = World::new() else { return };
    w.run(&["tag", "img", "busybox"]).ok();
    w.run(&["create", "--name", "web", "img"]).ok();
    w.run(&["network", "create", "backend"]).ok();
    w.run(&["volume", "create", "dbdata"]).ok();
    let root = w.y.root();
    let r = root.display();
    let other = tempfile::tempdir().unwrap();
    for shell in SHELLS {
        let line = |rest: &str| format!("yurta --root {r} {rest}");
        let c = |rest: &str| complete(shell, &line(rest), &[]);
        assert_eq!(c("rm "), set(&["web"]), "{shell}");
        assert_eq!(c("container stop "), set(&["web"]), "{shell}");
        assert_eq!(c("rmi "), set(&["busybox:latest", "img:latest"]), "{shell}");
        assert_eq!(c("run --rm b"), set(&["busybox:latest"]), "{shell}");
        assert_eq!(c("network rm "), set(&["backend"]), "{shell}");
        assert_eq!(
            c("run --network "),
            set(&["backend", "bridge", "host", "none"]),
            "{shell}"
        );
        assert_eq!(c("volume rm "), set(&["dbdata"]), "{shell}");
        assert_eq!(c("inspect w"), set(&["web"]), "{shell}");
        // Another root has none of them (only flags are left to offer);
        // without --root, YURTA_ROOT's.
        let o = other.path().display();
        let got = complete(shell, &format!("yurta --root {o} rm "), &[]);
        assert!(got.iter().all(|v| v.starts_with('-')), "{shell}: {got:?}");
        assert!(got.contains("--force"), "{shell}: {got:?}");
        let got = complete(shell, "yurta rm ", &[("YURTA_ROOT", &root)]);
        assert_eq!(got, set(&["web"]), "{shell}");
    }
    // Completion reads; it made nothing under the other root.
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}

/// The command paths `--help` lists, recursively (`run`, `vm snapshot
/// create`, …), without `help`.
fn commands(path: &[String]) -> Vec<Vec<String>> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = yurta(&args).ok().stdout;
    let mut found = Vec::new();
    let listed = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "));
    for name in listed.filter_map(|l| l.split_whitespace().next()) {
        if name == "help" {
            continue;
        }
        let mut p = path.to_vec();
        p.push(name.to_string());
        found.extend(commands(&p));
        found.push(p);
    }
    found
}

#[test]
fn a_manual_page_for_every_command_renders_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    yurta(&["__man", out.to_str().unwrap()]).ok();
    let pages: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let cmds = commands(&[]);
    assert!(cmds.len() > 100, "{cmds:?}");
    let mut want: BTreeSet<String> = cmds
        .iter()
        .map(|p| format!("yurta-{}.1", p.join("-")))
        .collect();
    want.insert("yurta.1".to_string());
    let missing: Vec<_> = want.difference(&pages).collect();
    assert!(missing.is_empty(), "no page for {missing:?}");
    assert!(!pages.iter().any(|p| p.contains("__")), "hidden: {pages:?}");
    for page in &pages {
        let path = out.join(page);
        let o = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .stdin(Stdio::null())
            .output()
            .expect("man (scripts/test.sh installs man-db)");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "man -l {page}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{page}");
    }
    let run = sh("man", &["-l", out.join("yurta-run.1").to_str().unwrap()]).stdout;
    assert!(run.contains("--network-alias"), "{run}");
    assert!(run.contains("Extra names of the container on its network"));
}

/// Every file under `dir`, relative, with its contents.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn install(destdir: &Path, prefix: &str) -> Out {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install.sh");
    let build = Path::new(env!("CARGO_BIN_EXE_yurta")).parent().unwrap();
    let o = Command::new(script)
        .env("DESTDIR", destdir)
        .env("PREFIX", prefix)
        .env("BUILD_DIR", build)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        raw: o.stdout.clone(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// What `yurta ver<TAB>` offers with the installed file loaded as each
/// shell loads it on first use: bash-completion's loader (from
/// `XDG_DATA_DIRS`), zsh's compinit autoloading `_yurta` from fpath, fish
/// from its vendor directory (`XDG_DATA_DIRS`).
fn first_tab_after_install(shell: &str, share: &Path) -> BTreeSet<String> {
    let script = match shell {
        "bash" => {
            r#"source /usr/share/bash-completion/bash_completion || exit 1
               __load_completion yurta || exit 1
               COMP_LINE="yurta ver"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(yurta ver); COMP_CWORD=1
               _yurta
               printf '%s\n' "${COMPREPLY[@]}""#
        }
        "zsh" => {
            r#"fpath=("$XDG_DATA_DIRS/zsh/site-functions" $fpath)
               autoload -U _yurta
               compdef() { :; }
               _describe() { local n=$3; print -rl -- "${(@P)n}"; }
               words=(yurta ver); CURRENT=2
               _yurta"#
        }
        _ => r#"complete -C "yurta ver""#,
    };
    let p = OnPath::new();
    let o = Command::new(shell)
        .args(["-c", script])
        .env("PATH", p.var())
        .env("XDG_DATA_DIRS", share)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{shell}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| value_of(shell, l))
        .collect()
}

#[test]
fn install_sh_puts_everything_under_destdir_and_again() {
    let dest = tempfile::tempdir().unwrap();
    install(dest.path(), "/usr/local").ok();
    let first = tree(dest.path());
    let local = dest.path().join("usr/local");
    let build = Path::new(env!("CARGO_BIN_EXE_yurta")).parent().unwrap();
    for b in [
        "yurta",
        "yurta-registry",
        "yurta-runtime",
        "yurta-supervisor",
        "yurta-dns",
    ] {
        let installed = std::fs::read(local.join("bin").join(b)).unwrap();
        assert!(installed == std::fs::read(build.join(b)).unwrap(), "{b}");
    }
    for (shell, file) in [
        ("bash", "share/bash-completion/completions/yurta"),
        ("zsh", "share/zsh/site-functions/_yurta"),
        ("fish", "share/fish/vendor_completions.d/yurta.fish"),
    ] {
        let text = std::fs::read_to_string(local.join(file)).unwrap();
        assert_eq!(text, yurta(&["completion", shell]).stdout, "{file}");
    }
    let man = local.join("share/man/man1");
    assert!(man.join("yurta-run.1").is_file() && man.join("yurta.1").is_file());
    for shell in SHELLS {
        let got = first_tab_after_install(shell, &local.join("share"));
        assert_eq!(got, set(&["version"]), "{shell}");
    }
    // Again: the same tree (a page of an older install goes), no
    // temporary file left.
    std::fs::write(man.join("yurta-gone.1"), "old").unwrap();
    install(dest.path(), "/usr/local").ok();
    assert!(tree(dest.path()) == first, "a second install differs");
    // Under /usr, zsh's completions go to vendor-completions.
    let usr = tempfile::tempdir().unwrap();
    install(usr.path(), "/usr").ok();
    assert!(usr
        .path()
        .join("usr/share/zsh/vendor-completions/_yurta")
        .is_file());
}

#[test]
fn install_sh_without_a_build_says_so_and_installs_nothing() {
    let dest = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/install.sh");
    let o = Command::new(script)
        .env("DESTDIR", dest.path())
        .env("BUILD_DIR", dest.path().join("nothing"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.ends_with("yurta not found: build it first (cargo build --release --bins)\n"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0, "{err}");
}
