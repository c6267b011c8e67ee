//! Go's `text/template` language over `serde_json::Value`, as the Docker
//! CLI uses it for `--format`: one engine for every command that takes a
//! format.
//!
//! What it owns: the template language (lexer, parser, executor), Go's
//! value printing (`fmt`'s `%v` and `Printf` verbs, `strconv.Quote`,
//! float formatting), Go's JSON encoding, Go's `text/tabwriter`, and the
//! Docker CLI's `--format` conventions ([`docker`]: the `table` directive
//! with its headers, `json` as a format word, `\t` and `\n` escapes).
//! What it does not: building each command's data (the CLI does, with
//! Docker's field names) and writing to stdout.
//!
//! Data is JSON, so Go's types are those of `encoding/json` decoding
//! into `interface{}`, except that integers stay integers (Docker's data
//! are int64 fields, printed without `.0`): strings print as they are,
//! slices as `[a b]`, maps as `map[k:v]` with sorted keys, a missing key
//! as `<no value>`. Errors name the template and the position,
//! `template: NAME:LINE:COL: ...`, on one line.

mod ast;
pub mod docker;
mod exec;
mod float;
mod funcs;
mod gofmt;
pub mod json;
mod lex;
mod number;
mod parse;
pub mod tabwriter;
mod value;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub use exec::{Methods, Options};
pub use gofmt::quote;

/// A template error (parse or execution), one line in Go's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// A parsed template.
pub struct Template {
    name: String,
    text: String,
    root: ast::List,
    defs: BTreeMap<String, ast::List>,
}

/// 1-based line and 0-based byte column of `pos` (Go's ErrorContext).
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(nl) => pos - nl - 1,
        None => pos,
    };
    (line, col)
}

impl Template {
    /// Parses `text`; errors name the template `name` and the position.
    pub fn parse(name: &str, text: &str) -> Result<Template, Error> {
        match parse::parse(text) {
            Ok(p) => Ok(Template {
                name: name.to_string(),
                text: text.to_string(),
                root: p.root,
                defs: p.defs,
            }),
            Err(e) => {
                let (line, col) = line_col(text, e.pos);
                Err(Error(format!("template: {name}:{line}:{col}: {}", e.msg)))
            }
        }
    }

    /// Executes over `data` with Docker's rules for its JSON data (missing
    /// fields of capitalized objects are errors).
    pub fn execute(&self, data: &Value) -> Result<String, Error> {
        let mut out = String::new();
        let opts = Options {
            strict: true,
            ..Options::default()
        };
        self.execute_into(data, &opts, &mut out)?;
        Ok(out)
    }

    /// Executes into `out`; on an error, `out` holds what was written
    /// before it (as Go's writer would).
    pub fn execute_into(
        &self,
        data: &Value,
        opts: &Options<'_>,
        out: &mut String,
    ) -> Result<(), Error> {
        let names = (self.name.as_str(), self.text.as_str(), &self.defs);
        let mut ex = exec::Exec::new(names, opts, data, out);
        ex.run(&self.root).map_err(|e| Error(e.0))
    }
}

/// Go's `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `eEfgG`
/// (`prec` -1: the fewest digits that read back the same); `'g'` with
/// a precision is `%.*g`, as go-units formats human sizes.
pub fn format_float(f: f64, fmt: char, prec: i32) -> String {
    float::format(f, fmt, prec)
}

/// Renders one value with a `--format` string as `docker version` and
/// `docker info` do: `json` prints the value as JSON, anything else is a
/// template executed over the value. The result has no final newline.
pub fn render(format: &str, data: &Value) -> Result<String, Error> {
    let text = if format == "json" {
        "{{json .}}"
    } else {
        format
    };
    Template::parse(docker::NAME, text)?.execute(data)
}
