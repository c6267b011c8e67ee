//! `.dockerignore`: which files of the context a build may use.
//!
//! Each line is a pattern in Go's `filepath.Match` syntax (`*` and `?` do
//! not cross `/`, `[a-z]` and `[^a-z]` classes, `\` escapes) extended with
//! `**` for any number of directories; `!` makes an exception. Lines are
//! trimmed and cleaned like paths (`/a/./b/` is `a/b`), `#` starts a
//! comment line. A pattern excludes a path when it matches the path or one
//! of its parent directories; the last pattern that matches decides.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    Lit(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `?`: one character but `/`.
    Quest,
    /// `[...]`: ranges, negated with `^`.
    Class(Vec<(char, char)>, bool),
    /// `**/` (or `**` before more pattern): nothing, or anything ending
    /// in `/`.
    AnyDirs,
    /// `**` at the end: anything.
    AnyRest,
}

/// One compiled pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    atoms: Vec<Atom>,
    pub exception: bool,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bang = if self.exception { "!" } else { "" };
        write!(f, "{bang}{}", self.text)
    }
}

impl Pattern {
    /// Compiles `text` (without a leading `!`). The error names the pattern.
    pub fn new(text: &str, exception: bool) -> Result<Pattern, String> {
        let atoms = compile(text).map_err(|why| format!("invalid pattern {text:?}: {why}"))?;
        Ok(Pattern {
            text: text.to_string(),
            atoms,
            exception,
        })
    }

    /// Whether the whole of `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        let s: Vec<char> = path.chars().collect();
        let (m, n) = (self.atoms.len(), s.len());
        // ok[i][j]: atoms[i..] match s[j..]; dirs[j] for AnyDirs at i:
        // s[j..] is "anything, '/', then atoms[i+1..]".
        let mut ok = vec![vec![false; n + 1]; m + 1];
        ok[m][n] = true;
        for i in (0..m).rev() {
            let mut dirs = vec![false; n + 1];
            for j in (0..=n).rev() {
                let c = s.get(j).copied();
                ok[i][j] = match &self.atoms[i] {
                    Atom::Lit(l) => c == Some(*l) && ok[i + 1][j + 1],
                    Atom::Quest => c.is_some_and(|c| c != '/') && ok[i + 1][j + 1],
                    Atom::Class(ranges, negated) => {
                        c.is_some_and(|c| {
                            ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
                        }) && ok[i + 1][j + 1]
                    }
                    Atom::Star => ok[i + 1][j] || (c.is_some_and(|c| c != '/') && ok[i][j + 1]),
                    Atom::AnyRest => true,
                    Atom::AnyDirs => {
                        if j < n {
                            dirs[j] = (c == Some('/') && ok[i + 1][j + 1]) || dirs[j + 1];
                        }
                        ok[i + 1][j] || dirs[j]
                    }
                };
            }
        }
        ok[0][0]
    }

    /// Whether it matches `path` or one of its parent directories.
    pub fn matches_or_parent(&self, path: &str) -> bool {
        if self.matches(path) {
            return true;
        }
        let mut end = 0;
        while let Some(pos) = path[end..].find('/') {
            end += pos;
            if self.matches(&path[..end]) {
                return true;
            }
            end += 1;
        }
        false
    }
}

fn compile(text: &str) -> Result<Vec<Atom>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                atoms.push(if i == chars.len() {
                    Atom::AnyRest
                } else {
                    Atom::AnyDirs
                });
            }
            '*' => atoms.push(Atom::Star),
            '?' => atoms.push(Atom::Quest),
            '\\' => {
                let e = *chars.get(i).ok_or("\\ at the end")?;
                atoms.push(Atom::Lit(e));
                i += 1;
            }
            '[' => {
                let (class, next) = class(&chars, i)?;
                atoms.push(class);
                i = next;
            }
            ']' => return Err("unmatched ]".into()),
            c => atoms.push(Atom::Lit(c)),
        }
    }
    Ok(atoms)
}

/// A `[...]` class starting after the `[` at `start`, with Go's grammar:
/// `[` [`^`] { char | lo `-` hi } `]`, where `-`, `]` and `\` are only
/// characters when escaped with `\`.
fn class(chars: &[char], start: usize) -> Result<(Atom, usize), String> {
    let mut i = start;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    // One class character, escaped or not.
    let item = |i: &mut usize| -> Result<char, String> {
        let c = *chars.get(*i).ok_or("unterminated [")?;
        *i += 1;
        match c {
            '\\' => {
                let e = *chars.get(*i).ok_or("unterminated [")?;
                *i += 1;
                Ok(e)
            }
            '-' | ']' => Err(format!("unescaped {c} in a class")),
            c => Ok(c),
        }
    };
    loop {
        if chars.get(i) == Some(&']') && !ranges.is_empty() {
            i += 1;
            break;
        }
        let lo = item(&mut i)?;
        let hi = if chars.get(i) == Some(&'-') {
            i += 1;
            item(&mut i)?
        } else {
            lo
        };
        if hi < lo {
            return Err(format!("bad range {lo}-{hi}"));
        }
        ranges.push((lo, hi));
    }
    Ok((Atom::Class(ranges, negated), i))
}

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    patterns: Vec<Pattern>,
}

impl Ignore {
    /// Reads the text of a `.dockerignore`; `name` is for errors.
    pub fn parse(name: &str, text: &str) -> Result<Ignore, String> {
        let mut patterns = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            let exception = pattern.starts_with('!');
            if exception {
                pattern = pattern[1..].trim();
                if pattern.is_empty() {
                    return Err(format!(
                        "{name}:{}: illegal exclusion pattern: \"!\"",
                        n + 1
                    ));
                }
            }
            if pattern.is_empty() {
                continue;
            }
            let cleaned = clean(pattern);
            let cleaned = match cleaned.strip_prefix('/') {
                Some(rest) if !rest.is_empty() => rest.to_string(),
                _ => cleaned,
            };
            let compiled =
                Pattern::new(&cleaned, exception).map_err(|e| format!("{name}:{}: {e}", n + 1))?;
            patterns.push(compiled);
        }
        Ok(Ignore { patterns })
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for p in &self.patterns {
            // Only a pattern that could change the answer is evaluated.
            if p.exception != excluded {
                continue;
            }
            if p.matches_or_parent(path) {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether some `!` pattern might bring back a path under an excluded
    /// directory (then the directory must still be walked).
    pub fn has_exceptions(&self) -> bool {
        self.patterns.iter().any(|p| p.exception)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Go's `path.Clean`: no `.`, `..` resolved where possible, no double or
/// trailing slashes.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
#[path = "ignore_tests.rs"]
mod tests;
