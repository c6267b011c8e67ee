//! `--change` instructions in Dockerfile syntax (CMD, ENTRYPOINT, ENV,
//! WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL) applied to an image's
//! run configuration, as `docker import --change` does.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::spec::RunConfig;

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChangeError {
    #[error("invalid --change {0:?}: {1}")]
    Invalid(String, &'static str),
    #[error("invalid --change {0:?}: {1} is not supported (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL are)")]
    Unsupported(String, String),
}

/// Applies one instruction to `config`.
pub fn apply(config: &mut RunConfig, change: &str) -> Result<(), ChangeError> {
    let invalid = |why| ChangeError::Invalid(change.to_string(), why);
    let trimmed = change.trim();
    let (keyword, rest) = trimmed
        .split_once(char::is_whitespace)
        .unwrap_or((trimmed, ""));
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(invalid("missing arguments"));
    }
    match keyword.to_ascii_uppercase().as_str() {
        "CMD" => config.cmd = Some(command(rest, change)?),
        "ENTRYPOINT" => config.entrypoint = Some(command(rest, change)?),
        "WORKDIR" => config.working_dir = Some(rest.to_string()),
        "USER" => config.user = Some(rest.to_string()),
        "STOPSIGNAL" => config.stop_signal = Some(rest.to_string()),
        "ENV" => env(config, rest, change)?,
        "LABEL" => {
            let labels = config.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs(rest, change)? {
                labels.insert(k, v);
            }
        }
        "EXPOSE" => {
            let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
            for w in words(rest).ok_or_else(|| invalid("unbalanced quotes"))? {
                ports.insert(
                    port(&w).ok_or_else(|| invalid("expected PORT[/tcp|udp|sctp]"))?,
                    Value::Object(Default::default()),
                );
            }
        }
        "VOLUME" => {
            let list = if rest.starts_with('[') {
                serde_json::from_str::<Vec<String>>(rest)
                    .map_err(|_| invalid("expected a JSON array of strings"))?
            } else {
                words(rest).ok_or_else(|| invalid("unbalanced quotes"))?
            };
            let volumes = config.volumes.get_or_insert_with(BTreeMap::new);
            for v in list {
                volumes.insert(v, Value::Object(Default::default()));
            }
        }
        other => {
            return Err(ChangeError::Unsupported(
                change.to_string(),
                other.to_string(),
            ))
        }
    }
    Ok(())
}

/// Exec form (`["a","b"]`) or shell form (`a b` → `/bin/sh -c "a b"`).
fn command(rest: &str, change: &str) -> Result<Vec<String>, ChangeError> {
    if rest.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Vec<String>>(rest) {
            return Ok(v);
        }
    }
    if rest.starts_with('[') && rest.ends_with(']') {
        return Err(ChangeError::Invalid(
            change.to_string(),
            "expected a JSON array of strings",
        ));
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_string()])
}

fn env(config: &mut RunConfig, rest: &str, change: &str) -> Result<(), ChangeError> {
    let first = rest.split_whitespace().next().unwrap_or("");
    let new: Vec<(String, String)> = if first.contains('=') {
        pairs(rest, change)?
    } else {
        let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        vec![(k.to_string(), v.trim().to_string())]
    };
    let list = config.env.get_or_insert_with(Vec::new);
    for (k, v) in new {
        let prefix = format!("{k}=");
        list.retain(|e| !e.starts_with(&prefix));
        list.push(format!("{k}={v}"));
    }
    Ok(())
}

/// `k=v k2="v 2"` → pairs.
fn pairs(rest: &str, change: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let invalid = |why| ChangeError::Invalid(change.to_string(), why);
    let ws = words(rest).ok_or_else(|| invalid("unbalanced quotes"))?;
    ws.into_iter()
        .map(|w| {
            let (k, v) = w
                .split_once('=')
                .ok_or_else(|| invalid("expected KEY=VALUE"))?;
            if k.is_empty() {
                return Err(invalid("empty key"));
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Splits on whitespace honouring "double" and 'single' quotes and
/// backslash escapes; None when a quote is not closed.
fn words(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                cur.push(chars.next()?);
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// `80` → `80/tcp`; `53/udp` stays.
fn port(w: &str) -> Option<String> {
    let (num, proto) = w.split_once('/').unwrap_or((w, "tcp"));
    let ok_num = num.split('-').all(|n| n.parse::<u16>().is_ok());
    let proto = proto.to_ascii_lowercase();
    (ok_num && matches!(proto.as_str(), "tcp" | "udp" | "sctp")).then(|| format!("{num}/{proto}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(changes: &[&str]) -> RunConfig {
        let mut c = RunConfig::default();
        for ch in changes {
            apply(&mut c, ch).unwrap();
        }
        c
    }

    #[test]
    fn dockerfile_instructions() {
        let c = run(&[
            r#"CMD ["echo", "hi there"]"#,
            "ENTRYPOINT /init --flag",
            "ENV A=1 B=\"two words\"",
            "ENV C three four",
            "ENV A=replaced",
            "WORKDIR /srv",
            "user 1000:1000",
            r#"LABEL org.x=1 "quoted key"='v 2'"#,
            "EXPOSE 80 53/udp 8000-8002",
            "VOLUME /data",
            "STOPSIGNAL SIGINT",
        ]);
        assert_eq!(c.cmd.unwrap(), ["echo", "hi there"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "/init --flag"]);
        assert_eq!(
            c.env.unwrap(),
            ["B=two words", "C=three four", "A=replaced"]
        );
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert_eq!(c.user.as_deref(), Some("1000:1000"));
        let labels: Vec<_> = c.labels.unwrap().into_iter().collect();
        assert_eq!(
            labels,
            [
                ("org.x".into(), "1".into()),
                ("quoted key".into(), "v 2".into())
            ]
        );
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000-8002/tcp"]);
        assert_eq!(
            c.volumes.unwrap().into_keys().collect::<Vec<_>>(),
            ["/data"]
        );
        assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    }

    #[test]
    fn bad_changes_name_the_value() {
        let mut c = RunConfig::default();
        let err = |s: &str| apply(&mut RunConfig::default(), s).unwrap_err().to_string();
        assert_eq!(err("RUN make"), "invalid --change \"RUN make\": RUN is not supported (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL are)");
        assert_eq!(err("CMD"), "invalid --change \"CMD\": missing arguments");
        assert_eq!(
            err("EXPOSE http"),
            "invalid --change \"EXPOSE http\": expected PORT[/tcp|udp|sctp]"
        );
        assert_eq!(
            err("LABEL a"),
            "invalid --change \"LABEL a\": expected KEY=VALUE"
        );
        assert_eq!(
            err("LABEL a=\"x"),
            "invalid --change \"LABEL a=\\\"x\": unbalanced quotes"
        );
        assert_eq!(
            err("CMD [1, 2]"),
            "invalid --change \"CMD [1, 2]\": expected a JSON array of strings"
        );
        assert!(apply(&mut c, "CMD [\"ok\"]").is_ok());
    }
}
