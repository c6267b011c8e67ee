//! Shell completion and manual pages, both made from the clap definitions
//! in [`crate::cli`], so that they cannot drift from the commands.
//!
//! `yurta completion bash|zsh|fish` prints a small script that, at each
//! TAB, runs `_YURTA_COMPLETE=SHELL yurta -- WORDS...` (as Docker's cobra
//! scripts call `docker __complete`). [`complete_if_asked`] answers that
//! before the command line is parsed: clap_complete's engine walks the
//! command tree (commands, flags, their values) and the arguments that
//! take names get the names found under the root (`--root` on the line,
//! else `$YURTA_ROOT`, else the default), read without locks or writes.
//!
//! `yurta __man DIR` writes `yurta.1`, `yurta-run.1`, `yurta-vm-start.1`…
//! (the install script puts them in `PREFIX/share/man/man1`).

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Command, CommandFactory, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::EnvCompleter;

use crate::cli::Cli;

/// The variable the scripts set when they ask for completions.
const VAR: &str = "_YURTA_COMPLETE";

#[derive(Args)]
pub struct CompletionArgs {
    /// The shell to print the completion script for: bash, zsh or fish
    // A string, not a ValueEnum: an unknown shell gets yurta's one-line
    // error rather than clap's usage text.
    pub shell: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing)
    pub dir: PathBuf,
}

/// Bash: the line up to the cursor goes to yurta whole, because
/// `COMP_WORDS` is split at `:` and `=` (`busybox:latest` would be three
/// words); the answers are cut back to the part after the last of them.
const BASH_SCRIPT: &str = r#"# bash completion for yurta; made by `yurta completion bash`.
_yurta() {
    local IFS=$'\n'
    COMPREPLY=($(_YURTA_COMPLETE=bash "${COMP_WORDS[0]}" -- "${COMP_LINE:0:COMP_POINT}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=/] ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -o bashdefault -o default -F _yurta yurta
"#;

/// Installed as `_yurta` in zsh's fpath, the script is the body of the
/// function `_yurta`, which compinit autoloads at the first TAB: it defines
/// the completer and binds it, and must then also complete that first TAB
/// (when sourced, `funcstack[1]` is not `_yurta` and nothing runs).
const ZSH_AUTOLOAD: &str = r#"if [ "$funcstack[1]" = "_yurta" ]; then
    _clap_dynamic_completer_yurta "$@"
fi
"#;

/// `yurta completion SHELL`.
pub fn print_script(a: CompletionArgs) -> anyhow::Result<()> {
    let shell = <Shell as ValueEnum>::from_str(&a.shell, false).map_err(|_| {
        anyhow::anyhow!(
            "unknown shell {:?}: completion scripts are for bash, zsh and fish",
            a.shell
        )
    })?;
    let mut script = Vec::new();
    match shell {
        Shell::Bash => script.extend_from_slice(BASH_SCRIPT.as_bytes()),
        Shell::Zsh => {
            clap_complete::env::Zsh.write_registration(
                VAR,
                "yurta",
                "yurta",
                "yurta",
                &mut script,
            )?;
            script.extend_from_slice(ZSH_AUTOLOAD.as_bytes());
        }
        Shell::Fish => clap_complete::env::Fish.write_registration(
            VAR,
            "yurta",
            "yurta",
            "yurta",
            &mut script,
        )?,
    }
    crate::out::write_bytes(&script)?;
    Ok(())
}

/// `yurta __man DIR`: one page per visible command.
pub fn write_man_pages(a: ManArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("create {}", a.dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &a.dir)
        .with_context(|| format!("write manual pages to {}", a.dir.display()))
}

/// When a completion script asks (`_YURTA_COMPLETE` is set), prints the
/// candidates and ends the process; returns otherwise.
pub fn complete_if_asked() {
    let Some(shell) = std::env::var_os(VAR) else {
        return;
    };
    let shell = match shell
        .to_str()
        .map(|s| <Shell as ValueEnum>::from_str(s, false))
    {
        Some(Ok(s)) => s,
        _ => std::process::exit(1),
    };
    let args: Vec<OsString> = std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .collect();
    let text = answer(shell, args).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let ok = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    std::process::exit(if ok.is_ok() { 0 } else { 1 })
}

/// The candidates for the words of a command line, in the shell's format.
fn answer(shell: Shell, args: Vec<OsString>) -> anyhow::Result<String> {
    let env_index =
        || -> Option<usize> { std::env::var("_CLAP_COMPLETE_INDEX").ok()?.parse().ok() };
    let (mut words, index) = match shell {
        Shell::Bash => {
            let line = args.first().map(|a| a.to_string_lossy().into_owned());
            let words = split_line(&line.unwrap_or_default());
            let index = words.len().saturating_sub(1);
            (words, index)
        }
        Shell::Zsh => (strings(args), env_index().unwrap_or(0)),
        Shell::Fish => {
            let words = strings(args);
            let index = words.len().saturating_sub(1);
            (words, index)
        }
    };
    while words.len() <= index {
        words.push(String::new());
    }
    let current = words[index].clone();
    let root = root_of(&words);
    let mut cmd = with_names(Cli::command(), Arc::new(root));
    let cwd = std::env::current_dir().ok();
    let argv = words.iter().map(OsString::from).collect();
    let found = clap_complete::engine::complete(&mut cmd, argv, index, cwd.as_deref())?;
    Ok(format(shell, &current, &pick(found, &current)))
}

fn strings(args: Vec<OsString>) -> Vec<String> {
    args.into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Flags only when the word starts a flag or nothing else fits: `yurta rm
/// <TAB>` offers container names, not `--force`.
fn pick(found: Vec<CompletionCandidate>, current: &str) -> Vec<(String, String)> {
    let value = |c: &CompletionCandidate| c.get_value().to_string_lossy().into_owned();
    let is_flag = |c: &CompletionCandidate| value(c).starts_with('-');
    let others = found.iter().any(|c| !is_flag(c));
    found
        .iter()
        .filter(|c| current.starts_with('-') || !others || !is_flag(c))
        .map(|c| {
            let help = c.get_help().map(|h| h.to_string()).unwrap_or_default();
            (
                value(c),
                help.lines().next().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn format(shell: Shell, current: &str, found: &[(String, String)]) -> String {
    let mut text = String::new();
    for (value, help) in found {
        let line = match shell {
            // Bash replaces only the part after the last `:` or `=`.
            Shell::Bash => match current.rfind([':', '=']) {
                Some(i) => value.get(i + 1..).unwrap_or(value).to_string(),
                None => value.clone(),
            },
            Shell::Zsh if help.is_empty() => zsh_escape(value, true),
            Shell::Zsh => format!("{}:{}", zsh_escape(value, true), zsh_escape(help, false)),
            Shell::Fish if help.is_empty() => value.clone(),
            Shell::Fish => format!("{value}\t{help}"),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn zsh_escape(s: &str, colon: bool) -> String {
    let s = s.replace('\\', "\\\\");
    if colon {
        s.replace(':', "\\:")
    } else {
        s
    }
}

/// Words of a shell line as the shell would split them (quotes, escapes);
/// a line ending in a blank starts a new, empty word.
fn split_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    word.get_or_insert_with(String::new).push(n);
                }
            }
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.push(word.unwrap_or_default());
    words
}

/// The root the completed command would use.
fn root_of(words: &[String]) -> PathBuf {
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if w == "--root" {
            if let Some(v) = it.next() {
                return PathBuf::from(v);
            }
        } else if let Some(v) = w.strip_prefix("--root=") {
            return PathBuf::from(v);
        }
    }
    std::env::var_os("YURTA_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(yurta_images::DEFAULT_ROOT))
}

/// What an argument names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Containers,
    Images,
    /// Containers, then images (`inspect`).
    Objects,
    Networks,
    /// `--network`: a network, or none, host, bridge.
    NetworkModes,
    Volumes,
    Vms,
    /// `completion SHELL`.
    Shells,
}

/// Which arguments take names, by the command's path and the argument's
/// id; new commands whose arguments are called `container(s)` or
/// `image(s)` get names without a change here.
fn kind_of(path: &[&str], id: &str) -> Option<Kind> {
    use Kind::*;
    match (path, id) {
        (["completion"], "shell") => Some(Shells),
        (["vm", "create"], "network") => Some(NetworkModes),
        (["vm", "create"] | ["network", "create"] | ["volume", "create"], _) => None,
        (["vm", ..], "name" | "names") => Some(Vms),
        (["network", ..], "names" | "network") => Some(Networks),
        (["volume", ..], "volumes") => Some(Volumes),
        (["pull"] | ["image", "pull"] | ["import"] | ["image", "import"] | ["cp"], _) => None,
        ([.., "run" | "create"], "network") => Some(NetworkModes),
        (["inspect"], "names") => Some(Objects),
        (["container", "inspect"], "names") => Some(Containers),
        (_, "container" | "containers") => Some(Containers),
        (_, "image" | "images" | "source") => Some(Images),
        _ => None,
    }
}

/// The command tree with name candidates on the arguments that take names.
fn with_names(cmd: Command, root: Arc<PathBuf>) -> Command {
    attach(cmd, Vec::new(), root)
}

fn attach(cmd: Command, path: Vec<String>, root: Arc<PathBuf>) -> Command {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    // In place: `mut_arg` would move the argument last, renumbering positionals.
    let cmd = cmd.mut_args(|a| match kind_of(&p, a.get_id().as_str()) {
        Some(kind) => {
            let root = root.clone();
            a.add(ArgValueCandidates::new(move || {
                names(kind, &root)
                    .into_iter()
                    .map(CompletionCandidate::new)
                    .collect()
            }))
        }
        None => a,
    });
    cmd.mut_subcommands(|sub| {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        attach(sub, p, root.clone())
    })
}

/// The names of `kind` under `root`, sorted; nothing when the root or
/// the store does not exist (completion creates nothing).
fn names(kind: Kind, root: &Path) -> Vec<String> {
    let mut v = match kind {
        Kind::Containers => containers(root),
        Kind::Images => images(root),
        Kind::Objects => [containers(root), images(root)].concat(),
        Kind::Networks => files_in(&root.join("networks"), ".json"),
        Kind::NetworkModes => {
            let mut v = files_in(&root.join("networks"), ".json");
            v.extend(["bridge", "host", "none"].map(String::from));
            v
        }
        Kind::Volumes => dirs_in(&root.join("volumes"))
            .into_iter()
            .filter(|n| yurta_engine::ids::validate_volume_name(n))
            .collect(),
        Kind::Shells => Shell::value_variants()
            .iter()
            .filter_map(|s| s.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect(),
        Kind::Vms => {
            let dir = root.join("vms");
            let v = dirs_in(&dir);
            v.into_iter()
                .filter(|n| dir.join(n).join("vm.json").is_file())
                .collect()
        }
    };
    v.sort();
    v.dedup();
    v
}

fn containers(root: &Path) -> Vec<String> {
    if !root.join("containers").is_dir() {
        return Vec::new();
    }
    let Ok(store) = yurta_engine::ContainerStore::open_root(root) else {
        return Vec::new();
    };
    let records = store.list().unwrap_or_default();
    records
        .into_iter()
        .map(|r| r.name.trim_start_matches('/').to_string())
        .collect()
}

fn images(root: &Path) -> Vec<String> {
    if !root.join("images").join("catalog.json").is_file() {
        return Vec::new();
    }
    let store = yurta_images::store::CatalogFile {
        dir: &root.join("images"),
    };
    let Ok(catalog) = store.read() else {
        return Vec::new();
    };
    catalog
        .tags
        .keys()
        .map(|t| yurta_images::inspect::familiar_tag(t))
        .collect()
}

fn files_in(dir: &Path, ext: &str) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter_map(|n| n.strip_suffix(ext).map(str::to_string))
        .filter(|n| !n.starts_with('.'))
        .collect()
}

fn dirs_in(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| dir.join(n).is_dir() && !n.starts_with('.'))
        .collect()
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_splits_as_the_shell_splits_it() {
        assert_eq!(split_line("yurta ru"), ["yurta", "ru"]);
        assert_eq!(split_line("yurta rm "), ["yurta", "rm", ""]);
        assert_eq!(
            split_line(r#"yurta --root '/a b' run "x\"y" c\ d"#),
            ["yurta", "--root", "/a b", "run", "x\"y", "c d"]
        );
        assert_eq!(split_line("yurta rmi 'busy"), ["yurta", "rmi", "busy"]);
    }

    #[test]
    fn the_root_comes_from_the_line_first() {
        let w = |s: &str| split_line(s);
        assert_eq!(root_of(&w("yurta --root /r rm ")), PathBuf::from("/r"));
        assert_eq!(root_of(&w("yurta rm --root=/q x")), PathBuf::from("/q"));
    }

    #[test]
    fn arguments_that_take_names_are_known() {
        use Kind::*;
        assert_eq!(kind_of(&["rm"], "containers"), Some(Containers));
        assert_eq!(
            kind_of(&["container", "stop"], "containers"),
            Some(Containers)
        );
        assert_eq!(kind_of(&["run"], "image"), Some(Images));
        assert_eq!(kind_of(&["run"], "network"), Some(NetworkModes));
        assert_eq!(kind_of(&["pull"], "image"), None);
        assert_eq!(kind_of(&["import"], "source"), None);
        assert_eq!(kind_of(&["tag"], "source"), Some(Images));
        assert_eq!(kind_of(&["vm", "create"], "image"), None);
        assert_eq!(kind_of(&["vm", "create"], "network"), Some(NetworkModes));
        assert_eq!(kind_of(&["vm", "snapshot", "ls"], "name"), Some(Vms));
        assert_eq!(
            kind_of(&["network", "connect"], "container"),
            Some(Containers)
        );
        assert_eq!(kind_of(&["network", "rm"], "names"), Some(Networks));
        assert_eq!(kind_of(&["volume", "rm"], "volumes"), Some(Volumes));
        assert_eq!(kind_of(&["inspect"], "names"), Some(Objects));
        assert_eq!(kind_of(&["completion"], "shell"), Some(Shells));
    }

    #[test]
    fn bash_gets_the_part_after_a_word_break() {
        let found = [("busybox:latest".to_string(), String::new())];
        assert_eq!(format(Shell::Bash, "busybox:la", &found), "latest\n");
        let found = [("--network=backend".to_string(), String::new())];
        assert_eq!(format(Shell::Bash, "--network=b", &found), "backend\n");
        let found = [("a:b".to_string(), "help: x".to_string())];
        assert_eq!(format(Shell::Zsh, "", &found), "a\\:b:help: x\n");
        assert_eq!(format(Shell::Fish, "", &found), "a:b\thelp: x\n");
    }
}
