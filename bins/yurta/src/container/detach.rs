//! Detach keys (`--detach-keys`, default Ctrl-P Ctrl-Q): typed on an
//! attached terminal they leave the container running and end the CLI.
//! Docker's syntax: comma-separated keys, each a single character or
//! `ctrl-X` with X one of `a`-`z`, `@`, `[`, `\`, `]`, `^`, `_`; an empty
//! string turns detaching off.

/// Docker's default.
pub const DEFAULT: &str = "ctrl-p,ctrl-q";

/// `--detach-keys`, shared by run, start and attach.
#[derive(clap::Args, Clone, Debug)]
pub struct DetachKeysArg {
    /// Keys that detach from an attached terminal, leaving the container running
    #[arg(long = "detach-keys", value_name = "KEYS", default_value = DEFAULT, value_parser = parse)]
    pub keys: DetachKeys,
}

/// A parsed `--detach-keys` value: the byte sequence, `None` for "".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetachKeys(pub Option<Vec<u8>>);

impl Default for DetachKeysArg {
    fn default() -> Self {
        DetachKeysArg {
            keys: parse(DEFAULT).unwrap_or(DetachKeys(None)),
        }
    }
}

/// Parses a `--detach-keys` value (clap's value parser: a bad value is a
/// usage error naming it, exit 125, before anything is made).
pub fn parse(spec: &str) -> Result<DetachKeys, String> {
    if spec.is_empty() {
        return Ok(DetachKeys(None));
    }
    let mut keys = Vec::new();
    for key in spec.split(',') {
        keys.push(parse_key(key).ok_or_else(|| {
            format!("bad key {key:?}: use a character or ctrl-<a-z, @, [, \\, ], ^ or _>")
        })?);
    }
    Ok(DetachKeys(Some(keys)))
}

fn parse_key(key: &str) -> Option<u8> {
    if let Some(c) = key.strip_prefix("ctrl-") {
        let [b] = c.as_bytes() else { return None };
        return match b {
            b'a'..=b'z' => Some(b - b'a' + 1),
            b'@' => Some(0),
            b'[' | b'\\' | b']' | b'^' | b'_' => Some(b - b'@'),
            _ => None,
        };
    }
    match key.as_bytes() {
        [b] if b.is_ascii() && !b.is_ascii_control() => Some(*b),
        _ => None,
    }
}

/// Finds the sequence in typed input. Bytes that might start it are held
/// back until the next bytes show they do not.
pub struct Matcher {
    keys: Vec<u8>,
    matched: usize,
}

impl Matcher {
    pub fn new(keys: Vec<u8>) -> Matcher {
        Matcher { keys, matched: 0 }
    }

    /// The bytes to send on, and whether the sequence was completed (what
    /// follows it is dropped).
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            // A false start: what was held goes on, and this byte may
            // begin the sequence again.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_syntax() {
        assert_eq!(parse(DEFAULT).unwrap().0, Some(vec![0x10, 0x11]));
        assert_eq!(parse("ctrl-a,x").unwrap().0, Some(vec![1, b'x']));
        assert_eq!(
            parse("ctrl-@,ctrl-[,ctrl-_").unwrap().0,
            Some(vec![0, 0x1b, 0x1f])
        );
        assert_eq!(parse("").unwrap().0, None);
        let e = parse("ctrl-p,ctrl-1").unwrap_err().to_string();
        assert!(e.contains("\"ctrl-1\""), "{e}");
        assert!(parse("ab").is_err());
    }

    #[test]
    fn matches_across_reads_and_releases_false_starts() {
        let mut m = Matcher::new(vec![0x10, 0x11]);
        assert_eq!(m.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(m.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(m.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(m.feed(b"\x11rest"), (Vec::new(), true));
        let mut one = Matcher::new(vec![b'q']);
        assert_eq!(one.feed(b"xq"), (b"x".to_vec(), true));
    }
}
