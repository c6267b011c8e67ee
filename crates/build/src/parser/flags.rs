//! `--name=value` flags of an instruction, checked against the flags that
//! instruction takes (Docker's BFlags rules: unknown and repeated flags are
//! errors, string flags need a value, boolean flags take true/false).

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    Str,
    Bool,
    /// May be repeated (`--mount`).
    List,
}

#[derive(Debug, Default)]
pub struct Flags {
    strings: BTreeMap<&'static str, String>,
    bools: BTreeMap<&'static str, bool>,
    lists: BTreeMap<&'static str, Vec<String>>,
}

impl Flags {
    pub fn parse(words: &[String], allowed: &[(&'static str, FlagKind)]) -> Result<Flags, String> {
        let mut flags = Flags::default();
        for word in words {
            let Some(body) = word.strip_prefix("--") else {
                return Err(format!("arguments should start with --: {word}"));
            };
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(&(name, kind)) = allowed.iter().find(|(n, _)| *n == name) else {
                return Err(format!("unknown flag: --{name}"));
            };
            flags.set(name, kind, value)?;
        }
        Ok(flags)
    }

    fn set(
        &mut self,
        name: &'static str,
        kind: FlagKind,
        value: Option<&str>,
    ) -> Result<(), String> {
        match kind {
            FlagKind::Bool => {
                if value == Some("") {
                    return Err(format!("missing a value on flag: --{name}"));
                }
                let v = match value.map(str::to_ascii_lowercase).as_deref() {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(other) => {
                        return Err(format!(
                            "expecting boolean value for flag --{name}, not: {other}"
                        ))
                    }
                };
                if self.bools.insert(name, v).is_some() {
                    return Err(format!("duplicate flag specified: --{name}"));
                }
            }
            FlagKind::Str | FlagKind::List => {
                let Some(v) = value else {
                    return Err(format!("missing a value on flag: --{name}"));
                };
                if kind == FlagKind::List {
                    self.lists.entry(name).or_default().push(v.to_string());
                } else if self.strings.insert(name, v.to_string()).is_some() {
                    return Err(format!("duplicate flag specified: --{name}"));
                }
            }
        }
        Ok(())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.strings.get(name).cloned()
    }

    pub fn boolean(&self, name: &str) -> bool {
        self.bools.get(name).copied().unwrap_or(false)
    }

    pub fn list(&self, name: &str) -> Vec<String> {
        self.lists.get(name).cloned().unwrap_or_default()
    }
}

/// A Go duration (`30s`, `1m30s`, `1.5h`, `250ms`, `0`), as HEALTHCHECK
/// options are written.
pub fn go_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration {text:?}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() || text.starts_with('-') {
        return Err(bad());
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        rest = &rest[unit_end..];
        total += number * nanos;
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPY_FLAGS: &[(&str, FlagKind)] = &[
        ("from", FlagKind::Str),
        ("link", FlagKind::Bool),
        ("mount", FlagKind::List),
    ];

    fn parse(words: &[&str]) -> Result<Flags, String> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        Flags::parse(&words, COPY_FLAGS)
    }

    #[test]
    fn flags_follow_bflags_rules() {
        let f = parse(&["--from=a", "--link", "--mount=x", "--mount=y"]).unwrap();
        assert_eq!(f.string("from").as_deref(), Some("a"));
        assert!(f.boolean("link"));
        assert_eq!(f.list("mount"), ["x", "y"]);
        assert!(!parse(&["--link=false"]).unwrap().boolean("link"));
        assert_eq!(
            parse(&["--from="]).unwrap().string("from").as_deref(),
            Some("")
        );
        let errors = [
            (&["--nope=1"][..], "unknown flag: --nope"),
            (&["--from"], "missing a value on flag: --from"),
            (
                &["--from=a", "--from=b"],
                "duplicate flag specified: --from",
            ),
            (
                &["--link=yes"],
                "expecting boolean value for flag --link, not: yes",
            ),
            (&["--link", "--link"], "duplicate flag specified: --link"),
            (&["--link="], "missing a value on flag: --link"),
        ];
        for (words, want) in errors {
            assert_eq!(parse(words).unwrap_err(), want);
        }
    }

    #[test]
    fn durations_are_gos() {
        let ok = [
            ("0", 0),
            ("30s", 30_000_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("250ms", 250_000_000),
            ("10us", 10_000),
            ("7ns", 7),
        ];
        for (text, nanos) in ok {
            assert_eq!(
                go_duration(text).unwrap(),
                Duration::from_nanos(nanos),
                "{text}"
            );
        }
        for bad in ["", "5", "-1s", "1d", "s", "1..2s", "1e400h"] {
            assert!(go_duration(bad).is_err(), "{bad}");
        }
    }
}
