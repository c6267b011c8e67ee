//! Expanding one instruction in its stage's scope, where Docker expands:
//! ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR
//! (and ARG defaults, `--chown`, `--chmod`, `--from`, `--checksum`, mount
//! options). RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK are left to the
//! shell; ONBUILD triggers are stored as written.

use super::stage::Planner;
use super::{CopyFrom, CopyOp, Op};
use crate::ast::{CopySpec, KeyValue, Kind, Source};
use crate::lex::{Lexer, Vars};
use crate::mount::Mount;

/// The variables of a stage at one point.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    /// ENV, in order of definition (base image's first).
    pub env: Vec<(String, String)>,
    /// ARGs declared in the stage, with their values (None: unset).
    pub args: Vec<(String, Option<String>)>,
    pub workdir: String,
}

impl Scope {
    pub fn new(env: Vec<(String, String)>, workdir: String) -> Scope {
        Scope {
            env,
            args: Vec::new(),
            workdir,
        }
    }

    /// What `$NAME` sees: ARGs with a value, then ENV over them.
    pub fn vars(&self) -> Vars {
        let mut vars: Vars = self
            .args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect();
        vars.extend(self.env.iter().cloned());
        vars
    }

    fn set_env(&mut self, key: String, value: String) {
        match self.env.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.env.push((key, value)),
        }
    }
}

pub(super) fn expand(
    planner: &mut Planner,
    stage: usize,
    scope: &mut Scope,
    kind: &Kind,
) -> Result<Op, String> {
    let vars = scope.vars();
    let lex = planner.lexer;
    let word = |s: &str| lex.word(s, &vars);
    Ok(match kind {
        Kind::Run(run) => {
            let mounts = run
                .mounts
                .iter()
                .map(|m| {
                    let mount = Mount::parse(&m.spec, &|v| word(v), false)
                        .map_err(|e| format!("--mount={}: {e}", m.spec))?;
                    if let Some(from) = &mount.from {
                        note_source(planner, stage, from)?;
                    }
                    Ok(mount)
                })
                .collect::<Result<Vec<_>, String>>()?;
            let env_names: Vec<&String> = scope.env.iter().map(|(k, _)| k).collect();
            let build_args = scope
                .args
                .iter()
                .filter(|(k, _)| !env_names.contains(&k))
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect();
            let proxy_args = planner
                .options
                .build_args
                .iter()
                .filter(|(k, _)| super::PROXY_ARGS.contains(&k.as_str()))
                .filter(|(k, _)| !scope.args.iter().any(|(n, _)| n == *k))
                .filter(|(k, _)| !env_names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Op::Run {
                command: run.command.clone(),
                heredocs: run.heredocs.clone(),
                mounts,
                network: run.network,
                build_args,
                proxy_args,
            }
        }
        Kind::Copy(spec) => Op::Copy(copy(planner, stage, scope, &vars, spec, false)?),
        Kind::Add(spec) => Op::Copy(copy(planner, stage, scope, &vars, spec, true)?),
        Kind::Env(pairs) => {
            let pairs = key_values(&lex, &vars, pairs, "ENV")?;
            for (k, v) in &pairs {
                scope.set_env(k.clone(), v.clone());
            }
            Op::Env(pairs)
        }
        Kind::Label(pairs) => Op::Label(key_values(&lex, &vars, pairs, "LABEL")?),
        // Empty after expansion is allowed, as in Docker: WORKDIR stays
        // where it was, USER goes back to the default (root).
        Kind::Workdir(path) => {
            scope.workdir = absolute(&scope.workdir, &word(path)?);
            Op::Workdir(scope.workdir.clone())
        }
        Kind::User(user) => Op::User(word(user)?),
        Kind::Expose(ports) => {
            let mut all = Vec::new();
            for p in ports {
                for port in lex.words(p, &vars)? {
                    expose(&port, &mut all)?;
                }
            }
            Op::Expose(all)
        }
        Kind::Volume(paths) => {
            let paths = paths
                .iter()
                .map(|p| word(p))
                .collect::<Result<Vec<_>, _>>()?;
            if paths.iter().any(|p| p.trim().is_empty()) {
                return Err("VOLUME specified can not be an empty string".into());
            }
            Op::Volume(paths)
        }
        Kind::StopSignal(signal) => Op::StopSignal(stop_signal(&word(signal)?)?),
        Kind::Entrypoint(c) => Op::Entrypoint(c.clone()),
        Kind::Cmd(c) => Op::Cmd(c.clone()),
        Kind::Shell(s) => Op::Shell(s.clone()),
        Kind::Healthcheck(h) => Op::Healthcheck(h.clone()),
        Kind::Onbuild { trigger, .. } => Op::Onbuild(trigger.clone()),
        Kind::Maintainer(m) => Op::Maintainer(m.clone()),
        Kind::From(_) | Kind::Arg(_) => return Err("not a step".into()),
    })
}

fn key_values(
    lex: &Lexer,
    vars: &Vars,
    pairs: &[KeyValue],
    what: &str,
) -> Result<Vec<(String, String)>, String> {
    pairs
        .iter()
        .map(|kv| {
            let key = lex.word(&kv.key, vars)?;
            if key.is_empty() {
                return Err(format!("{what} names can not be blank"));
            }
            Ok((key, lex.word(&kv.value, vars)?))
        })
        .collect()
}

fn copy(
    planner: &mut Planner,
    stage: usize,
    scope: &Scope,
    vars: &Vars,
    spec: &CopySpec,
    add: bool,
) -> Result<CopyOp, String> {
    let lex = planner.lexer;
    let word = |s: &str| lex.word(s, vars);
    let body_lexer = Lexer {
        skip_quotes: true,
        ..Lexer::new('\\')
    };
    let mut sources = Vec::new();
    for source in &spec.sources {
        sources.push(match source {
            Source::Path(p) => Source::Path(word(p)?),
            Source::Heredoc(doc) if doc.expand => {
                let mut doc = doc.clone();
                doc.content = body_lexer.word(&doc.body(), vars)?;
                doc.chomp = false;
                Source::Heredoc(doc)
            }
            Source::Heredoc(doc) => {
                let mut doc = doc.clone();
                doc.content = doc.body();
                doc.chomp = false;
                Source::Heredoc(doc)
            }
        });
    }
    let from = match &spec.from {
        None => CopyFrom::Context,
        Some(f) => note_source(planner, stage, &word(f)?)?,
    };
    let chmod = match &spec.chmod {
        None => None,
        Some(m) => Some(crate::parser::octal_mode(&word(m)?)?),
    };
    let checksum = match &spec.checksum {
        None => None,
        Some(c) => {
            let c = word(c)?;
            crate::parser::check_checksum(&c)?;
            Some(c)
        }
    };
    let dest = word(&spec.dest)?;
    if dest.is_empty() {
        return Err("the destination can not be empty".into());
    }
    Ok(CopyOp {
        add,
        sources,
        dest: destination(&scope.workdir, &dest),
        from,
        chown: spec.chown.as_deref().map(word).transpose()?,
        chmod,
        link: spec.link,
        checksum,
    })
}

/// `--from=` or `from=`: a stage by index or name (any stage of the file),
/// otherwise an image. Recorded as a dependency of `stage`.
fn note_source(planner: &mut Planner, stage: usize, from: &str) -> Result<CopyFrom, String> {
    if from.is_empty() {
        return Err("--from needs a stage or an image".into());
    }
    let source = if let Ok(i) = from.parse::<usize>() {
        if i >= planner.names.len() {
            return Err(format!(
                "--from={i}: there is no stage {i} (stages are numbered from 0, the file has {})",
                planner.names.len()
            ));
        }
        CopyFrom::Stage(i)
    } else {
        let lower = from.to_ascii_lowercase();
        match planner
            .names
            .iter()
            .position(|n| n.as_deref() == Some(lower.as_str()))
        {
            Some(i) => CopyFrom::Stage(i),
            None => CopyFrom::Image(from.to_string()),
        }
    };
    match &source {
        CopyFrom::Stage(i) => {
            planner.stages[stage].depends_on.insert(*i);
        }
        CopyFrom::Image(image) => {
            planner.stages[stage].images.insert(image.clone());
        }
        CopyFrom::Context => {}
    }
    Ok(source)
}

/// `path` against the working directory, cleaned (`.` and `..` resolved,
/// never above `/`).
pub(crate) fn absolute(workdir: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{workdir}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A COPY destination: absolute, keeping "this is a directory" when it
/// ends with `/` or is `.`-like.
fn destination(workdir: &str, dest: &str) -> String {
    let dir = dest.ends_with('/') || dest == "." || dest.ends_with("/.") || dest == "..";
    let abs = absolute(workdir, dest);
    if dir && abs != "/" {
        format!("{abs}/")
    } else {
        abs
    }
}

/// `80`, `80/tcp`, `53/UDP`, `8000-8010/sctp` → `port/proto` each, as
/// BuildKit does: ranges expanded, protocol lower-cased; a `host:` part
/// (which Docker tolerates in EXPOSE) is checked and dropped.
fn expose(spec: &str, into: &mut Vec<String>) -> Result<(), String> {
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    let proto = if proto.is_empty() {
        "tcp".to_string()
    } else {
        proto
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let (host, container) = match ports.rsplit_once(':') {
        Some((rest, c)) => (Some(rest.rsplit_once(':').map_or(rest, |(_, h)| h)), c),
        None => (None, ports),
    };
    let (start, end) =
        port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        port_range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?;
    }
    let seen: std::collections::HashSet<String> = into.iter().cloned().collect();
    for n in start..=end {
        let entry = format!("{n}/{proto}");
        if !seen.contains(&entry) {
            into.push(entry);
        }
    }
    Ok(())
}

/// `N` or `N-M` with ports up to 65535, M not below N.
fn port_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('-').unwrap_or((text, text));
    let (start, end) = (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?);
    (start <= end).then_some((start, end))
}

const SIGNALS: &[&str] = &[
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "IOT", "BUS", "FPE", "KILL", "USR1", "SEGV",
    "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
    "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "POLL", "PWR", "SYS",
];

/// `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`: kept as written when valid.
fn stop_signal(signal: &str) -> Result<String, String> {
    let bad = || format!("invalid signal: {signal:?}");
    if let Ok(n) = signal.parse::<u32>() {
        return if (1..=64).contains(&n) {
            Ok(signal.to_string())
        } else {
            Err(bad())
        };
    }
    let upper = signal.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    let realtime = |base: &str, sign: char| {
        name.strip_prefix(base)
            .and_then(|r| r.strip_prefix(sign))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n <= 30)
    };
    let ok = SIGNALS.contains(&name)
        || name == "RTMIN"
        || name == "RTMAX"
        || realtime("RTMIN", '+')
        || realtime("RTMAX", '-');
    if ok {
        Ok(signal.to_string())
    } else {
        Err(bad())
    }
}
