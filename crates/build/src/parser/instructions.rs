//! The arguments of each instruction, with Docker's rules and messages.

use super::flags::{go_duration, FlagKind, Flags};
use super::words::{extract_flags, json_array, raw_words, split_keyword};
use super::Problem;
use crate::ast::*;
use crate::mount::Mount;

use FlagKind::{Bool, List, Str};

type Result<T> = std::result::Result<T, Problem>;

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(Problem::Here(message.into()))
}

/// The flags each instruction takes.
fn allowed_flags(keyword: &str) -> &'static [(&'static str, FlagKind)] {
    match keyword {
        "FROM" => &[("platform", Str)],
        "RUN" => &[("mount", List), ("network", Str)],
        "COPY" => &[
            ("from", Str),
            ("chown", Str),
            ("chmod", Str),
            ("link", Bool),
        ],
        "ADD" => &[
            ("chown", Str),
            ("chmod", Str),
            ("link", Bool),
            ("checksum", Str),
        ],
        "HEALTHCHECK" => &[
            ("interval", Str),
            ("timeout", Str),
            ("start-period", Str),
            ("start-interval", Str),
            ("retries", Str),
        ],
        _ => &[],
    }
}

const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "COPY",
    "ADD",
    "ENV",
    "ARG",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "LABEL",
    "ENTRYPOINT",
    "CMD",
    "VOLUME",
    "SHELL",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "ONBUILD",
    "MAINTAINER",
];

/// Parses the logical line `text` (keyword included).
pub fn parse_kind(text: &str, escape: char, heredocs: Vec<Heredoc>, trigger: bool) -> Result<Kind> {
    let (word, rest) = split_keyword(text);
    let keyword = word.to_ascii_uppercase();
    if !KEYWORDS.contains(&keyword.as_str()) {
        return Err(Problem::Unknown(word.to_string()));
    }
    if trigger && matches!(keyword.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
        return match keyword.as_str() {
            "ONBUILD" => fail("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
            _ => fail(format!("{keyword} isn't allowed as an ONBUILD trigger")),
        };
    }
    let (flag_words, args) = extract_flags(rest);
    let flags = Flags::parse(&flag_words, allowed_flags(&keyword))?;
    let args = args.trim();
    if args.is_empty() && !matches!(keyword.as_str(), "CMD" | "ENTRYPOINT") {
        return match keyword.as_str() {
            "FROM" => fail("FROM requires either one or three arguments"),
            "COPY" | "ADD" => fail(format!("{keyword} requires at least two arguments")),
            "MAINTAINER" | "WORKDIR" | "USER" | "STOPSIGNAL" => {
                fail(format!("{keyword} requires exactly one argument"))
            }
            _ => fail(format!("{keyword} requires at least one argument")),
        };
    }
    Ok(match keyword.as_str() {
        "FROM" => Kind::From(from(args, &flags)?),
        "RUN" => Kind::Run(run(args, &flags, heredocs)?),
        "COPY" => Kind::Copy(copy(&keyword, args, &flags, heredocs)?),
        "ADD" => Kind::Add(copy(&keyword, args, &flags, heredocs)?),
        "ENV" => Kind::Env(name_values(&keyword, args, escape)?),
        "LABEL" => Kind::Label(name_values(&keyword, args, escape)?),
        "ARG" => Kind::Arg(arg(args, escape)?),
        "WORKDIR" => Kind::Workdir(args.to_string()),
        "USER" => Kind::User(args.to_string()),
        "STOPSIGNAL" => Kind::StopSignal(args.to_string()),
        "MAINTAINER" => Kind::Maintainer(args.to_string()),
        "EXPOSE" => Kind::Expose(args.split_whitespace().map(str::to_string).collect()),
        "ENTRYPOINT" => Kind::Entrypoint(command(args)?),
        "CMD" => Kind::Cmd(command(args)?),
        "VOLUME" => Kind::Volume(volume(args)?),
        "SHELL" => Kind::Shell(shell(args)?),
        "HEALTHCHECK" => Kind::Healthcheck(healthcheck(args, &flags)?),
        "ONBUILD" => onbuild(args, escape)?,
        other => return Err(Problem::Unknown(other.to_string())),
    })
}

fn from(args: &str, flags: &Flags) -> Result<From> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let name = match words.as_slice() {
        [_] => None,
        [_, as_word, name] if as_word.eq_ignore_ascii_case("as") => Some(stage_name(name)?),
        _ => return fail("FROM requires either one or three arguments"),
    };
    Ok(From {
        image: words[0].to_string(),
        name,
        platform: flags.string("platform"),
    })
}

/// Stage names: a letter, then letters, digits, `_`, `.` and `-`;
/// compared without case, so stored in lower case.
pub(crate) fn stage_name(name: &str) -> Result<String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        return fail(format!(
            "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Exec form when the arguments are a JSON array of strings, shell form
/// otherwise.
fn command(args: &str) -> Result<Command> {
    match json_array(args) {
        Some(Ok(words)) => Ok(Command::Exec(words)),
        Some(Err(e)) => fail(e),
        None => Ok(Command::Shell(args.to_string())),
    }
}

fn run(args: &str, flags: &Flags, heredocs: Vec<Heredoc>) -> Result<Run> {
    let network = match flags.string("network").as_deref() {
        None => None,
        Some("default") => Some(Network::Default),
        Some("none") => Some(Network::None),
        Some("host") => Some(Network::Host),
        Some(other) => {
            return fail(format!(
                "--network takes default, none or host, got {other:?}"
            ))
        }
    };
    let keep = |v: &str| Ok(v.to_string());
    let mounts = flags
        .list("mount")
        .iter()
        .map(|spec| Mount::parse(spec, &keep, true).map_err(|e| format!("--mount={spec}: {e}")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Run {
        command: command(args)?,
        heredocs,
        mounts,
        network,
    })
}

fn copy(keyword: &str, args: &str, flags: &Flags, heredocs: Vec<Heredoc>) -> Result<CopySpec> {
    let words = match json_array(args) {
        Some(result) => result?,
        None => args.split_whitespace().map(str::to_string).collect(),
    };
    let Some((dest, sources)) = words.split_last().filter(|(_, s)| !s.is_empty()) else {
        return fail(format!(
            "{keyword} requires at least two arguments, but only one was provided. Destination could not be determined"
        ));
    };
    let mut docs = heredocs.into_iter();
    let mut resolved = Vec::new();
    for source in sources {
        let is_marker = super::heredoc_marker(source).ok().flatten().is_some();
        match if is_marker { docs.next() } else { None } {
            Some(doc) => resolved.push(Source::Heredoc(doc)),
            None => resolved.push(Source::Path(source.clone())),
        }
    }
    if keyword == "COPY"
        && resolved
            .iter()
            .any(|s| matches!(s, Source::Path(p) if crate::context::is_url(p)))
    {
        return fail("source can't be a URL for COPY (use ADD)");
    }
    let chmod = flags.string("chmod");
    if let Some(mode) = chmod.as_deref().filter(|m| !m.contains('$')) {
        octal_mode(mode)?;
    }
    let checksum = flags.string("checksum");
    if let Some(sum) = checksum.as_deref().filter(|s| !s.contains('$')) {
        check_checksum(sum)?;
    }
    if checksum.is_some() && !resolved.iter().all(is_url) {
        return fail("--checksum needs URL sources");
    }
    Ok(CopySpec {
        sources: resolved,
        dest: dest.clone(),
        from: flags.string("from"),
        chown: flags.string("chown"),
        chmod,
        link: flags.boolean("link"),
        checksum,
    })
}

fn is_url(source: &Source) -> bool {
    matches!(source, Source::Path(p) if p.contains('$') || crate::context::is_url(p))
}

/// `--chmod` takes an octal mode up to 07777.
pub fn octal_mode(mode: &str) -> std::result::Result<u32, String> {
    u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o7777 && !mode.is_empty() && !mode.starts_with('+'))
        .ok_or_else(|| format!("--chmod needs an octal mode, got {mode:?}"))
}

/// `--checksum=sha256:<64 hex digits>` (also sha384/sha512 by length).
pub fn check_checksum(sum: &str) -> std::result::Result<(), String> {
    let ok = sum.split_once(':').is_some_and(|(algo, hex)| {
        let len = match algo {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return false,
        };
        hex.len() == len
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--checksum needs a digest such as sha256:<64 hex digits>, got {sum:?}"
        ))
    }
}

/// ENV and LABEL: `a=b c=d`, or the legacy `key value with spaces`.
fn name_values(keyword: &str, args: &str, escape: char) -> Result<Vec<KeyValue>> {
    let words = raw_words(args, escape);
    let Some(first) = words.first() else {
        return fail(format!("{keyword} requires at least one argument"));
    };
    if !first.contains('=') {
        let Some((key, value)) = args.split_once(char::is_whitespace) else {
            return fail(format!("{keyword} must have two arguments"));
        };
        return Ok(vec![KeyValue {
            key: key.to_string(),
            value: value.trim_start().to_string(),
        }]);
    }
    let mut pairs = Vec::new();
    for word in words {
        let Some((key, value)) = word.split_once('=') else {
            return fail(format!(
                "syntax error - can't find = in {word:?}. Must be of the form: name=value"
            ));
        };
        if key.is_empty() {
            return fail(format!("{keyword} names can not be blank"));
        }
        pairs.push(KeyValue {
            key: key.to_string(),
            value: value.to_string(),
        });
    }
    Ok(pairs)
}

fn arg(args: &str, escape: char) -> Result<Vec<ArgDecl>> {
    let mut decls = Vec::new();
    for word in raw_words(args, escape) {
        let (name, default) = match word.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (word, None),
        };
        if name.is_empty() {
            return fail("ARG names can not be blank");
        }
        decls.push(ArgDecl { name, default });
    }
    Ok(decls)
}

fn volume(args: &str) -> Result<Vec<String>> {
    let paths = match json_array(args) {
        Some(result) => result?,
        None => args.split_whitespace().map(str::to_string).collect(),
    };
    if paths.is_empty() || paths.iter().any(|p| p.trim().is_empty()) {
        return fail("VOLUME specified can not be an empty string");
    }
    Ok(paths)
}

fn shell(args: &str) -> Result<Vec<String>> {
    match json_array(args) {
        Some(Ok(words)) if !words.is_empty() => Ok(words),
        Some(Ok(_)) => fail("SHELL requires at least one argument"),
        Some(Err(e)) => fail(e),
        None => fail("SHELL requires the arguments to be in JSON form"),
    }
}

fn healthcheck(args: &str, flags: &Flags) -> Result<Healthcheck> {
    let (kind, rest) = split_keyword(args);
    match kind.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !rest.is_empty() {
                return fail("HEALTHCHECK NONE takes no arguments");
            }
            let any_flag = [
                "interval",
                "timeout",
                "start-period",
                "start-interval",
                "retries",
            ]
            .iter()
            .any(|f| flags.string(f).is_some());
            if any_flag {
                return fail("HEALTHCHECK NONE takes no options");
            }
            Ok(Healthcheck::None)
        }
        "CMD" => {
            if rest.is_empty() {
                return fail("missing command after HEALTHCHECK CMD");
            }
            Ok(Healthcheck::Check {
                command: command(rest)?,
                options: health_options(flags)?,
            })
        }
        other => fail(format!("unknown type {other:?} in HEALTHCHECK (try CMD)")),
    }
}

fn health_options(flags: &Flags) -> Result<HealthOptions> {
    let duration = |name: &str| -> Result<Option<std::time::Duration>> {
        let Some(text) = flags.string(name) else {
            return Ok(None);
        };
        let d = go_duration(&text).map_err(|e| format!("--{name}: {e}"))?;
        if !d.is_zero() && d < std::time::Duration::from_millis(1) {
            return fail(format!("--{name} cannot be less than 1ms, got {text:?}"));
        }
        Ok(Some(d))
    };
    let retries =
        match flags.string("retries") {
            None => None,
            Some(text) => Some(text.parse::<u32>().map_err(|_| {
                format!("--retries needs a number that is not negative, got {text:?}")
            })?),
        };
    Ok(HealthOptions {
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        start_interval: duration("start-interval")?,
        retries,
    })
}

fn onbuild(args: &str, escape: char) -> Result<Kind> {
    let parsed = parse_kind(args, escape, Vec::new(), true)?;
    Ok(Kind::Onbuild {
        trigger: args.to_string(),
        parsed: Box::new(Instruction {
            line: 0,
            end_line: 0,
            original: args.to_string(),
            kind: parsed,
        }),
    })
}
