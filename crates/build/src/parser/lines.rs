//! Physical lines to logical lines: parser directives, comments, line
//! continuations (also across comment and empty lines, as Docker does),
//! and heredoc bodies.

/// A logical line: an instruction with its continuations joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logical {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// An empty line was skipped inside the continuation.
    pub empty_continuation: bool,
}

pub struct Lines<'a> {
    lines: Vec<&'a str>,
    /// Index of the next physical line (0-based).
    next: usize,
    pub escape: char,
    pub syntax: Option<String>,
    directives_done: bool,
    seen_escape: bool,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        Lines {
            lines,
            next: 0,
            escape: '\\',
            syntax: None,
            directives_done: false,
            seen_escape: false,
        }
    }

    /// The number of the last line read (1-based).
    pub fn line_number(&self) -> usize {
        self.next
    }

    /// The next instruction line, or `None` at the end of the file. The
    /// error is a message for the line [`Lines::line_number`].
    pub fn next_logical(&mut self) -> Result<Option<Logical>, String> {
        while let Some(raw) = self.take() {
            let first = raw.trim_start();
            if !self.directives_done && self.directive(first)? {
                continue;
            }
            self.directives_done = true;
            if first.starts_with('#') {
                continue;
            }
            let start = self.next;
            let (mut text, mut ended) = self.trim_continuation(first);
            if ended && text.is_empty() {
                continue;
            }
            let mut empty_continuation = false;
            while !ended {
                let Some(raw) = self.take() else { break };
                if raw.trim_start().starts_with('#') {
                    continue;
                }
                if raw.trim().is_empty() {
                    empty_continuation = true;
                    continue;
                }
                let (part, end) = self.trim_continuation(raw);
                text.push_str(&part);
                ended = end;
            }
            return Ok(Some(Logical {
                start,
                end: self.next,
                text,
                empty_continuation,
            }));
        }
        Ok(None)
    }

    /// Reads a heredoc body up to the line `name` (after stripping leading
    /// tabs when `chomp`). Each body line keeps its newline.
    pub fn heredoc(&mut self, name: &str, chomp: bool) -> Result<String, String> {
        let mut content = String::new();
        while let Some(raw) = self.take() {
            let candidate = if chomp {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if candidate == name {
                return Ok(content);
            }
            content.push_str(raw);
            // Every body line but an unterminated last one had a newline.
            if self.next < self.lines.len() {
                content.push('\n');
            }
        }
        Err(format!("unterminated heredoc {name:?}"))
    }

    fn take(&mut self) -> Option<&'a str> {
        let line = self.lines.get(self.next).copied()?;
        // A final newline does not make one more (empty) line.
        if self.next + 1 == self.lines.len() && line.is_empty() {
            return None;
        }
        self.next += 1;
        Some(line)
    }

    /// Handles `# name=value` at the top of the file; true when the line
    /// was a directive Docker knows.
    fn directive(&mut self, line: &str) -> Result<bool, String> {
        let Some((name, value)) = parse_directive(line) else {
            return Ok(false);
        };
        match name.as_str() {
            "escape" => {
                if self.seen_escape {
                    return Err("only one escape parser directive can be used".into());
                }
                self.seen_escape = true;
                self.escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(format!(
                            "invalid escape token '{other}' does not match ` or \\"
                        ))
                    }
                };
                Ok(true)
            }
            "syntax" => {
                if self.syntax.is_some() {
                    return Err("only one syntax parser directive can be used".into());
                }
                self.syntax = Some(value.to_string());
                Ok(true)
            }
            "check" => Ok(true),
            _ => Ok(false),
        }
    }

    /// Removes a trailing escape (and blanks after it) that continues the
    /// line; an escaped escape at the end does not continue it.
    fn trim_continuation(&self, line: &str) -> (String, bool) {
        let trimmed = line.trim_end_matches([' ', '\t']);
        let Some(before) = trimmed.strip_suffix(self.escape) else {
            return (line.to_string(), true);
        };
        if before.ends_with(self.escape) {
            return (line.to_string(), true);
        }
        (before.to_string(), false)
    }
}

/// `#\s*name\s*=\s*value` with a name of letters and digits starting with
/// a letter; the name lower-cased, the value trimmed.
fn parse_directive(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let name = &rest[..end];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let value = rest[end..].trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((name.to_ascii_lowercase(), value))
}
