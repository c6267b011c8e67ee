//! Text to [`Dockerfile`]: directives, logical lines, heredocs, flags and
//! the arguments of each instruction, checked as far as they can be
//! without knowing the values of variables.

mod flags;
mod instructions;
mod lines;
mod words;

use crate::ast::{Dockerfile, Heredoc, Instruction};
use crate::error::{At, DockerfileError};
use crate::lex::{Lexer, Vars};
use lines::Lines;

/// Go durations, as HEALTHCHECK options and `run --health-*` flags are written.
pub use flags::go_duration;
pub(crate) use instructions::{check_checksum, octal_mode};

/// Parses a Dockerfile. `file` names it in errors (`Dockerfile:7: ...`).
pub fn parse(file: &str, text: &str) -> Result<Dockerfile, DockerfileError> {
    let mut lines = Lines::new(text);
    let mut instructions = Vec::new();
    let mut warnings = Vec::new();
    loop {
        let logical = lines
            .next_logical()
            .map_err(|m| At::new(file, lines.line_number(), None).error(m))?;
        let Some(logical) = logical else { break };
        if logical.empty_continuation {
            warnings.push(format!(
                "{file}:{}: empty continuation line (Docker will make this an error)",
                logical.start
            ));
        }
        let (keyword, _) = words::split_keyword(&logical.text);
        let at = At::new(file, logical.start, Some(keyword));
        let heredocs = read_heredocs(&mut lines, keyword, &logical.text, &at)?;
        let kind = instructions::parse_kind(&logical.text, lines.escape, heredocs, false)
            .map_err(|e| e.at(&at))?;
        instructions.push(Instruction {
            line: logical.start,
            end_line: lines.line_number().max(logical.start),
            original: logical.text,
            kind,
        });
    }
    if instructions.is_empty() {
        return Err(At::new(file, 0, None).error("file with no instructions"));
    }
    Ok(Dockerfile {
        file: file.to_string(),
        escape: lines.escape,
        syntax: lines.syntax,
        instructions,
        warnings,
    })
}

/// Parses one ONBUILD trigger as stored in an image, for the builds that
/// use that image as a base.
pub fn parse_trigger(
    file: &str,
    line: usize,
    trigger: &str,
) -> Result<Instruction, DockerfileError> {
    let (keyword, _) = words::split_keyword(trigger);
    let at = At::new(file, line, Some(keyword));
    let kind = instructions::parse_kind(trigger, '\\', Vec::new(), true).map_err(|e| e.at(&at))?;
    Ok(Instruction {
        line,
        end_line: line,
        original: trigger.to_string(),
        kind,
    })
}

/// An error of one instruction, before the location is known.
#[derive(Debug)]
pub(crate) enum Problem {
    /// About the instruction being parsed.
    Here(String),
    /// Not an instruction Docker knows.
    Unknown(String),
}

impl Problem {
    fn at(self, at: &At) -> DockerfileError {
        match self {
            Problem::Here(m) => at.error(m),
            Problem::Unknown(word) => {
                At::new(&at.file, at.line, None).error(format!("unknown instruction: {word}"))
            }
        }
    }
}

impl From<String> for Problem {
    fn from(m: String) -> Problem {
        Problem::Here(m)
    }
}

/// Instructions whose line may open heredocs.
fn takes_heredocs(keyword: &str) -> bool {
    ["RUN", "COPY", "ADD"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(keyword))
}

fn read_heredocs(
    lines: &mut Lines,
    keyword: &str,
    text: &str,
    at: &At,
) -> Result<Vec<Heredoc>, DockerfileError> {
    if !takes_heredocs(keyword) || !text.contains("<<") {
        return Ok(Vec::new());
    }
    let (_, rest) = words::split_keyword(text);
    if words::json_array(words::extract_flags(rest).1).is_some() {
        return Ok(Vec::new());
    }
    let mut docs = Vec::new();
    for word in heredoc_words(text) {
        let Some(mut doc) = heredoc_marker(&word).map_err(|m| at.error(m))? else {
            continue;
        };
        doc.content = lines
            .heredoc(&doc.name, doc.chomp)
            .map_err(|m| at.error(m))?;
        docs.push(doc);
    }
    Ok(docs)
}

/// The words of a line, with `<<` (or `<<-`, `3<<`) and the word after it
/// joined when blanks separate them (`RUN <<  EOF` is a heredoc).
fn heredoc_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in words::raw_words(text, '\\') {
        let bare = |w: &str| {
            let rest = w.trim_start_matches(|c: char| c.is_ascii_digit());
            rest == "<<" || rest == "<<-"
        };
        match out.last_mut() {
            Some(last) if bare(last) => {
                last.push(' ');
                last.push_str(&word);
            }
            _ => out.push(word),
        }
    }
    out
}

/// `[fd]<<[-]WORD` where WORD is one shell word, possibly quoted (which
/// turns expansion of the body off).
pub(crate) fn heredoc_marker(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(word.len());
    let Some(rest) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let lexer = Lexer {
        skip_unset: true,
        ..Lexer::new('\\')
    };
    let names = lexer.words(rest, &Vars::new())?;
    let [name] = names.as_slice() else {
        return Ok(None);
    };
    let quotes = |s: &str| s.chars().filter(|c| *c == '\'' || *c == '"').count();
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        expand: quotes(name) == quotes(rest),
        chomp,
        fd: word[..digits].parse().unwrap_or(0),
    }))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
