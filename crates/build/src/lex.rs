//! Word processing as Docker's builder does it: quote removal, escapes and
//! `$VAR` / `${VAR...}` expansion, and splitting into words after expansion.
//!
//! This is not a shell: there is no command substitution, no arithmetic and
//! no globbing. It follows the behaviour documented in the Dockerfile
//! reference ("Environment replacement") and BuildKit's `shell` package:
//! single quotes keep everything literal, double quotes keep everything but
//! `$` and the escape character, the escape character outside quotes makes
//! the next character literal, and an unset variable expands to nothing.
//! The modifiers are `:-` `-` `:+` `+` `:?` `?`, `#` `##` `%` `%%` (prefix
//! and suffix removal) and `/` `//` (replacement), with `*` and `?` as
//! pattern wildcards.

use std::collections::BTreeMap;

/// Variables visible to an expansion, by name (case-sensitive, as on Linux).
pub type Vars = BTreeMap<String, String>;

/// How words are processed. The default is what instructions use:
/// expansion with quote and escape removal, escape character `\`.
#[derive(Debug, Clone, Copy)]
pub struct Lexer {
    pub escape: char,
    /// Keep quote characters in the result (they still group words).
    pub raw_quotes: bool,
    /// Keep escape characters in the result.
    pub raw_escapes: bool,
    /// Leave `$NAME` / `${NAME...}` as written when NAME is unset.
    pub skip_unset: bool,
    /// Treat quotes as ordinary characters (heredoc bodies).
    pub skip_quotes: bool,
}

/// The result of processing one string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Processed {
    /// The whole string after expansion and quote removal.
    pub word: String,
    /// The same split into words on unquoted whitespace; whitespace that
    /// came out of a variable's value splits too, as in a shell.
    pub words: Vec<String>,
}

impl Lexer {
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
            skip_quotes: false,
        }
    }

    /// Expands `input` with `vars`; the error is one line without the input
    /// (callers add where it came from).
    pub fn process(&self, input: &str, vars: &Vars) -> Result<Processed, String> {
        let mut scan = Scanner {
            lexer: *self,
            chars: input.chars().collect(),
            pos: 0,
            vars,
            raw_escapes: self.raw_escapes,
            depth: 0,
        };
        let (word, words) = scan.until(None, self.raw_escapes)?;
        Ok(Processed { word, words })
    }

    /// Just the expanded string.
    pub fn word(&self, input: &str, vars: &Vars) -> Result<String, String> {
        self.process(input, vars).map(|p| p.word)
    }

    /// Just the words.
    pub fn words(&self, input: &str, vars: &Vars) -> Result<Vec<String>, String> {
        self.process(input, vars).map(|p| p.words)
    }
}

/// Accumulates words: whitespace ends a word unless it was quoted.
#[derive(Default)]
struct Words {
    current: String,
    in_word: bool,
    done: Vec<String>,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.current.is_empty() {
                self.done.push(std::mem::take(&mut self.current));
                self.in_word = false;
            }
        } else {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.current.push(ch);
        self.in_word = true;
    }

    fn add_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_str(&mut self, s: &str) {
        self.current.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.done.push(self.current);
        }
        self.done
    }
}

struct Scanner<'a> {
    lexer: Lexer,
    chars: Vec<char>,
    pos: usize,
    vars: &'a Vars,
    raw_escapes: bool,
    /// Nesting of `${...}` inside `${...}`, bounded so that hostile input
    /// cannot exhaust the stack.
    depth: usize,
}

/// How deep `${a:-${b:-...}}` may nest.
const MAX_DEPTH: usize = 64;

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Processes up to `stop` (consumed) or the end of input.
    fn until(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.until_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn until_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            if ch == '$' {
                let value = self.dollar()?;
                result.push_str(&value);
                words.add_str(&value);
                continue;
            }
            if !self.lexer.skip_quotes && (ch == '\'' || ch == '"') {
                let value = if ch == '\'' {
                    self.single_quoted()?
                } else {
                    self.double_quoted()?
                };
                result.push_str(&value);
                words.add_raw_str(&value);
                continue;
            }
            self.pos += 1;
            if ch == self.lexer.escape {
                if self.raw_escapes {
                    words.add_raw_char(ch);
                    result.push(ch);
                }
                let Some(escaped) = self.next() else { break };
                words.add_raw_char(escaped);
                result.push(escaped);
            } else {
                words.add_char(ch);
                result.push(ch);
            }
        }
        match stop {
            Some(c) => Err(format!(
                "unexpected end of statement while looking for matching {c}"
            )),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.lexer.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.pos += 1;
                    if self.lexer.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(ch) => {
                    self.pos += 1;
                    if ch != self.lexer.escape {
                        out.push(ch);
                        continue;
                    }
                    if self.raw_escapes {
                        out.push(ch);
                    }
                    // Inside double quotes the escape only quotes `"`, `$`
                    // and itself; before anything else it stays literal.
                    match self.peek() {
                        None => {}
                        Some(n) if n == '"' || n == '$' || n == self.lexer.escape => {
                            self.pos += 1;
                            out.push(n);
                        }
                        Some(_) if !self.raw_escapes => out.push(ch),
                        Some(_) => {}
                    }
                }
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    /// After `$`: a name, `{...}`, or a lone `$`.
    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match self.lookup(&name) {
                Some(v) => v,
                None if self.lexer.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "substitutions nested deeper than {MAX_DEPTH} levels"
            ));
        }
        self.depth += 1;
        let result = self.braced();
        self.depth -= 1;
        result
    }

    /// After `${`.
    fn braced(&mut self) -> Result<String, String> {
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            None => Err("syntax error: missing '}'".into()),
            Some('}') => Ok(match self.lookup(&name) {
                Some(v) => v,
                None if self.lexer.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => match self.next() {
                None => Err("syntax error: missing '}'".into()),
                Some(op) => self.modifier(&name, op, true),
            },
            Some('/') => self.replace(&name),
            Some(op) => self.modifier(&name, op, false),
        }
    }

    /// `${name<op>word}` with the word not yet read.
    fn modifier(&mut self, name: &str, op: char, colon: bool) -> Result<String, String> {
        let spelled = if colon {
            format!(":{op}")
        } else {
            op.to_string()
        };
        if !matches!(op, '-' | '+' | '?' | '#' | '%') {
            return Err(format!("unsupported modifier ({spelled}) in substitution"));
        }
        let raw = op == '#' || op == '%';
        let word = self.brace_word(raw)?;
        let value = self.lookup(name);
        if value.is_none() && self.lexer.skip_unset {
            return Ok(format!("${{{name}{spelled}{word}}}"));
        }
        let unset = value.is_none() || (colon && value.as_deref() == Some(""));
        let value = value.unwrap_or_default();
        match op {
            '-' => Ok(if unset { word } else { value }),
            '+' => Ok(if unset { String::new() } else { word }),
            '?' => {
                if !unset {
                    return Ok(value);
                }
                let default = if colon && self.lookup(name).is_some() {
                    "is not allowed to be empty"
                } else {
                    "is not allowed to be unset"
                };
                let message = if word.is_empty() { default } else { &word };
                Err(format!("{name}: {message}"))
            }
            _ => {
                let (greedy, pattern) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, word),
                };
                let pattern = Pattern::parse(&pattern)?;
                Ok(if op == '#' {
                    pattern.trim_prefix(&value, greedy)
                } else {
                    pattern.trim_suffix(&value, greedy)
                })
            }
        }
    }

    fn brace_word(&mut self, raw_escapes: bool) -> Result<String, String> {
        match self.until(Some('}'), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => Err("syntax error: missing '}'".into()),
            Err(e) => Err(e),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn replace(&mut self, name: &str) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = match self.until(Some('/'), true) {
            Ok((p, _)) => p,
            Err(_) if self.peek().is_none() => {
                return Err("syntax error: missing '/' in ${}".into())
            }
            Err(e) => return Err(e),
        };
        let replacement = self.brace_word(true)?;
        let Some(value) = self.lookup(name) else {
            if self.lexer.skip_unset {
                let slashes = if all { "//" } else { "/" };
                return Ok(format!("${{{name}{slashes}{pattern}/{replacement}}}"));
            }
            return Ok(String::new());
        };
        Ok(Pattern::parse(&pattern)?.replace(&value, &replacement, all))
    }

    /// A variable name: letters, digits and `_`; or digits only when it
    /// starts with one (`$1`); or one special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                self.pos += 1;
                name.push(c);
                return name;
            }
            _ => {}
        }
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.pos += 1;
        }
        name
    }
}

/// A `${var#pattern}` pattern: `*` any run of characters, `?` one
/// character, `\*` `\?` `\\` literal; `\}` and `\/` stand for `}` and `/`.
#[derive(Debug)]
struct Pattern(Vec<Atom>);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Atom {
    Any,
    One,
    Lit(char),
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, String> {
        let mut atoms = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            atoms.push(match c {
                '*' => Atom::Any,
                '?' => Atom::One,
                '\\' => match chars.next() {
                    Some(e @ ('*' | '?' | '\\' | '}' | '/')) => Atom::Lit(e),
                    Some(e) => {
                        return Err(format!(
                            "invalid pattern ({text}) in substitution: invalid escape '\\{e}'"
                        ))
                    }
                    None => Atom::Lit('\\'),
                },
                c => Atom::Lit(c),
            });
        }
        Ok(Pattern(atoms))
    }

    /// Every length `n` such that the pattern matches `s[..n]`, shortest
    /// first (a set-of-states simulation: no backtracking, O(len·pattern)).
    fn match_lengths(&self, s: &[char]) -> Vec<usize> {
        let m = self.0.len();
        let mut states = vec![false; m + 1];
        let mut next = vec![false; m + 1];
        states[0] = true;
        let mut lengths = Vec::new();
        for k in 0..=s.len() {
            for j in 0..m {
                if states[j] && self.0[j] == Atom::Any {
                    states[j + 1] = true;
                }
            }
            if states[m] {
                lengths.push(k);
            }
            let Some(&c) = s.get(k) else { break };
            next.iter_mut().for_each(|n| *n = false);
            let mut alive = false;
            for (j, atom) in self.0.iter().enumerate() {
                if !states[j] {
                    continue;
                }
                let to = match *atom {
                    Atom::Any => j,
                    Atom::One => j + 1,
                    Atom::Lit(l) if l == c => j + 1,
                    Atom::Lit(_) => continue,
                };
                next[to] = true;
                alive = true;
            }
            if !alive {
                break;
            }
            std::mem::swap(&mut states, &mut next);
        }
        lengths
    }

    fn reversed(&self) -> Pattern {
        Pattern(self.0.iter().rev().copied().collect())
    }

    fn trim_prefix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let lengths = self.match_lengths(&chars);
        let n = if greedy {
            lengths.last()
        } else {
            lengths.first()
        };
        match n {
            Some(&n) => chars[n..].iter().collect(),
            None => value.to_string(),
        }
    }

    /// A suffix match is a prefix match of the reversed pattern on the
    /// reversed value.
    fn trim_suffix(&self, value: &str, greedy: bool) -> String {
        let mut chars: Vec<char> = value.chars().collect();
        chars.reverse();
        let lengths = self.reversed().match_lengths(&chars);
        let n = if greedy {
            lengths.last()
        } else {
            lengths.first()
        };
        chars.reverse();
        match n {
            Some(&n) => chars[..chars.len() - n].iter().collect(),
            None => value.to_string(),
        }
    }

    /// The leftmost match in `s`, as long as it can be: one pass keeping,
    /// for each pattern position, the earliest start that reaches it.
    fn find(&self, s: &[char]) -> Option<(usize, usize)> {
        let m = self.0.len();
        let mut cur: Vec<Option<usize>> = vec![None; m + 1];
        let mut next: Vec<Option<usize>> = vec![None; m + 1];
        let mut best: Option<(usize, usize)> = None;
        let earliest = |a: Option<usize>, b: Option<usize>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, None) => x,
            (None, y) => y,
        };
        for k in 0..=s.len() {
            if best.is_none() && cur[0].is_none() {
                cur[0] = Some(k);
            }
            for j in 0..m {
                if self.0[j] == Atom::Any {
                    cur[j + 1] = earliest(cur[j + 1], cur[j]);
                }
            }
            if let Some(start) = cur[m] {
                match best {
                    Some((b, _)) if start > b => {}
                    _ => best = Some((start, k)),
                }
            }
            if let Some((b, _)) = best {
                cur.iter_mut()
                    .filter(|c| c.is_some_and(|st| st > b))
                    .for_each(|c| *c = None);
            }
            let Some(&c) = s.get(k) else { break };
            next.iter_mut().for_each(|n| *n = None);
            for (j, atom) in self.0.iter().enumerate() {
                let Some(start) = cur[j] else { continue };
                let to = match *atom {
                    Atom::Any => j,
                    Atom::One => j + 1,
                    Atom::Lit(l) if l == c => j + 1,
                    Atom::Lit(_) => continue,
                };
                next[to] = earliest(next[to], Some(start));
            }
            std::mem::swap(&mut cur, &mut next);
            if best.is_some() && cur.iter().all(Option::is_none) {
                break;
            }
        }
        best
    }

    /// Leftmost, longest match; with `all`, every non-overlapping one.
    fn replace(&self, value: &str, replacement: &str, all: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut out = String::new();
        let mut i = 0;
        while i <= n {
            let Some((s, e)) = self.find(&chars[i..]) else {
                break;
            };
            let (s, e) = (i + s, i + e);
            out.extend(&chars[i..s]);
            out.push_str(replacement);
            if e == s {
                out.extend(chars.get(s));
                i = s + 1;
            } else {
                i = e;
            }
            if !all {
                break;
            }
        }
        if i <= n {
            out.extend(&chars[i..]);
        }
        out
    }
}

#[cfg(test)]
#[path = "lex_tests.rs"]
mod tests;
