//! Environment variables: `-e`/`--env-file` parsing and Docker's merge
//! (later values replace earlier ones with the same key, in place).

use super::OptionError;

/// One `-e` value: `KEY=VALUE`, or `KEY` taken from `lookup` (the CLI's own
/// environment) and dropped when unset there.
pub fn env_value(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, OptionError> {
    let key = s.split_once('=').map_or(s, |(k, _)| k);
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(OptionError::Env(s.to_string()));
    }
    if s.contains('=') {
        return Ok(Some(s.to_string()));
    }
    Ok(lookup(key).map(|v| format!("{key}={v}")))
}

/// An env file's lines: `KEY=VALUE` taken as is (no quote processing, as
/// Docker), `KEY` from `lookup`, blank lines and `#` comments skipped.
pub fn env_file(
    file: &str,
    content: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, OptionError> {
    let mut out = Vec::new();
    for (n, line) in content.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match env_value(line, lookup) {
            Ok(v) => out.extend(v),
            Err(_) => {
                return Err(OptionError::EnvFile {
                    file: file.to_string(),
                    line: n + 1,
                    value: line.to_string(),
                })
            }
        }
    }
    Ok(out)
}

/// Docker's `ReplaceOrAppendEnvValues`: each of `over` replaces the entry
/// of `base` with the same key, or is appended.
pub fn merge(base: &[String], over: &[String]) -> Vec<String> {
    let mut out: Vec<String> = base.to_vec();
    for v in over {
        let key = v.split_once('=').map_or(v.as_str(), |(k, _)| k);
        match out
            .iter_mut()
            .find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key)
        {
            Some(e) => *e = v.clone(),
            None => out.push(v.clone()),
        }
    }
    out
}

/// The value of `key` in a `KEY=VALUE` list.
pub fn get<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter()
        .find_map(|e| e.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(k: &str) -> Option<String> {
        (k == "HOME_SET").then(|| "/root".to_string())
    }

    #[test]
    fn values_and_files() {
        assert_eq!(env_value("A=1", &lookup).unwrap().unwrap(), "A=1");
        assert_eq!(env_value("A==1", &lookup).unwrap().unwrap(), "A==1");
        assert_eq!(
            env_value("HOME_SET", &lookup).unwrap().unwrap(),
            "HOME_SET=/root"
        );
        assert_eq!(env_value("UNSET", &lookup).unwrap(), None);
        assert!(env_value("=x", &lookup)
            .unwrap_err()
            .to_string()
            .contains("\"=x\""));
        assert!(env_value("A B=1", &lookup).is_err());
        let f = "# comment\n\nA=1\n  B=\"q\"\nHOME_SET\nUNSET\n";
        assert_eq!(
            env_file("f", f, &lookup).unwrap(),
            ["A=1", "B=\"q\"", "HOME_SET=/root"]
        );
        let err = env_file("/x/env", "A=1\nB C\n", &lookup)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "bad env file /x/env line 2: \"B C\"");
    }

    #[test]
    fn merge_replaces_in_place() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let over = vec!["A=2".to_string(), "B=3".to_string(), "PATH=/x".to_string()];
        assert_eq!(merge(&base, &over), ["PATH=/x", "A=2", "B=3"]);
        assert_eq!(get(&merge(&base, &over), "A"), Some("2"));
        assert_eq!(get(&base, "Z"), None);
    }
}
