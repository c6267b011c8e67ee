//! The lexer: template text to items, as Go's `text/template/parse`
//! scans it (delimiters `{{ }}`, trim markers `{{- ` and ` -}}`, comments
//! `{{/* */}}`, and the words inside actions). A lexical error ends the
//! item list with an [`Tok::Error`]; the parser reports it when it gets
//! there, so an earlier syntax error wins as in Go.

/// The kinds of items.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    Pipe,
    LeftParen,
    RightParen,
    /// Other printable ASCII inside an action (`,` in range declarations).
    Char(char),
    /// A quoted string, as written (with its quotes).
    Str(String),
    RawStr(String),
    CharConst(String),
    Number(String),
    Bool(bool),
    Nil,
    Dot,
    /// `.Name` (the text with its dot).
    Field(String),
    /// `$` or `$name`.
    Variable(String),
    Ident(String),
    Keyword(&'static str),
    Eof,
    Error(String),
}

/// One item and the byte offset where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub tok: Tok,
    pub pos: usize,
}

impl Item {
    /// How Go's parser names the item in "unexpected ..." errors.
    pub fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "EOF".into(),
            Tok::Error(msg) => msg.clone(),
            Tok::Keyword(k) => format!("<{k}>"),
            t => {
                let val = text_of(t);
                if val.chars().count() > 10 {
                    let head: String = val.chars().take(10).collect();
                    format!("{}...", crate::gofmt::quote(&head))
                } else {
                    crate::gofmt::quote(&val)
                }
            }
        }
    }
}

fn text_of(t: &Tok) -> String {
    match t {
        Tok::Text(s)
        | Tok::Str(s)
        | Tok::RawStr(s)
        | Tok::CharConst(s)
        | Tok::Number(s)
        | Tok::Field(s)
        | Tok::Variable(s)
        | Tok::Ident(s) => s.clone(),
        Tok::LeftDelim => "{{".into(),
        Tok::RightDelim => "}}".into(),
        Tok::Space => " ".into(),
        Tok::Assign => "=".into(),
        Tok::Declare => ":=".into(),
        Tok::Pipe => "|".into(),
        Tok::LeftParen => "(".into(),
        Tok::RightParen => ")".into(),
        Tok::Char(c) => c.to_string(),
        Tok::Bool(b) => b.to_string(),
        Tok::Nil => "nil".into(),
        Tok::Dot => ".".into(),
        Tok::Keyword(k) => (*k).into(),
        Tok::Eof | Tok::Error(_) => String::new(),
    }
}

const KEYWORDS: [&str; 11] = [
    "block", "break", "continue", "define", "else", "end", "if", "nil", "range", "template", "with",
];

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`: `U+0021 '!'`.
fn rune_name(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// Scans `text` into items; the last is `Eof` or `Error`.
pub(crate) fn lex(text: &str) -> Vec<Item> {
    let mut l = Lexer {
        s: text,
        pos: 0,
        start: 0,
        items: Vec::new(),
        paren_depth: 0,
    };
    l.run();
    l.items
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
    start: usize,
    items: Vec<Item>,
    paren_depth: i32,
}

type Step = Result<(), String>;

impl Lexer<'_> {
    fn run(&mut self) {
        loop {
            match self.text() {
                Ok(true) => {}
                Ok(false) => return,
                Err(msg) => {
                    self.items.push(Item {
                        tok: Tok::Error(msg),
                        pos: self.start,
                    });
                    return;
                }
            }
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn emit(&mut self, tok: Tok) {
        self.items.push(Item {
            tok,
            pos: self.start,
        });
        self.start = self.pos;
    }

    fn value(&self) -> String {
        self.s[self.start..self.pos].to_string()
    }

    /// Text up to the next action; false at the end.
    fn text(&mut self) -> Result<bool, String> {
        let Some(x) = self.rest().find("{{") else {
            self.pos = self.s.len();
            if self.pos > self.start {
                let t = self.value();
                self.emit(Tok::Text(t));
            }
            self.emit(Tok::Eof);
            return Ok(false);
        };
        let delim = self.pos + x;
        let mut end = delim;
        if has_left_trim(&self.s[delim + 2..]) {
            end = self.s[self.start..delim].trim_end_matches(is_space).len() + self.start;
        }
        if end > self.start {
            self.items.push(Item {
                tok: Tok::Text(self.s[self.start..end].to_string()),
                pos: self.start,
            });
        }
        self.pos = delim;
        self.start = delim;
        self.left_delim()?;
        Ok(true)
    }

    fn left_delim(&mut self) -> Step {
        self.pos += 2;
        let marker = if has_left_trim(self.rest()) { 2 } else { 0 };
        if self.s[self.pos + marker..].starts_with("/*") {
            self.pos += marker;
            self.start = self.pos;
            return self.comment();
        }
        self.emit(Tok::LeftDelim);
        self.pos += marker;
        self.start = self.pos;
        self.paren_depth = 0;
        self.inside_action()
    }

    fn comment(&mut self) -> Step {
        self.pos += 2;
        let Some(x) = self.rest().find("*/") else {
            return Err("unclosed comment".into());
        };
        self.pos += x + 2;
        let Some(trim) = self.at_right_delim() else {
            return Err("comment ends before closing delimiter".into());
        };
        self.pos += if trim { 4 } else { 2 };
        if trim {
            self.skip_spaces();
        }
        self.start = self.pos;
        Ok(())
    }

    fn skip_spaces(&mut self) {
        let n = self.rest().len() - self.rest().trim_start_matches(is_space).len();
        self.pos += n;
    }

    /// At `}}` (Some(false)) or ` -}}` (Some(true)).
    fn at_right_delim(&self) -> Option<bool> {
        let r = self.rest();
        if has_right_trim(r) && r[2..].starts_with("}}") {
            Some(true)
        } else if r.starts_with("}}") {
            Some(false)
        } else {
            None
        }
    }

    fn right_delim(&mut self, trim: bool) {
        if trim {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += 2;
        self.emit(Tok::RightDelim);
        if trim {
            self.skip_spaces();
            self.start = self.pos;
        }
    }

    fn inside_action(&mut self) -> Step {
        loop {
            if let Some(trim) = self.at_right_delim() {
                if self.paren_depth == 0 {
                    self.right_delim(trim);
                    return Ok(());
                }
                return Err("unclosed left paren".into());
            }
            let Some(c) = self.next() else {
                return Err("unclosed action".into());
            };
            if let Some(done) = self.action_item(c)? {
                if done {
                    return Ok(());
                }
            }
        }
    }

    /// Scans one item that starts with `c`; Some(true) when it closed the
    /// action.
    fn action_item(&mut self, c: char) -> Result<Option<bool>, String> {
        match c {
            c if is_space(c) => {
                self.pos -= c.len_utf8();
                return self.space();
            }
            '=' => self.emit(Tok::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return Err("expected :=".into());
                }
                self.emit(Tok::Declare);
            }
            '|' => self.emit(Tok::Pipe),
            '"' => self.quote()?,
            '`' => self.raw_quote()?,
            '$' => self.field_or_var(true)?,
            '\'' => self.char_const()?,
            '.' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => self.field_or_var(false)?,
            '.' | '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                self.number()?;
            }
            c if is_alnum(c) => {
                self.pos -= c.len_utf8();
                self.identifier()?;
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(Tok::LeftParen);
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Err("unexpected right paren".into());
                }
                self.emit(Tok::RightParen);
            }
            c if c.is_ascii() && !c.is_ascii_control() => self.emit(Tok::Char(c)),
            c => {
                return Err(format!(
                    "unrecognized character in action: {}",
                    rune_name(c)
                ))
            }
        }
        Ok(None)
    }

    /// A run of spaces, or the ` -}}` that closes the action.
    fn space(&mut self) -> Result<Option<bool>, String> {
        let mut n = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            n += 1;
        }
        let before = &self.s[self.pos - 1..];
        if has_right_trim(before) && before[2..].starts_with("}}") {
            self.pos -= 1;
            if n == 1 {
                self.start = self.pos;
                self.right_delim(true);
                return Ok(Some(true));
            }
        }
        self.emit(Tok::Space);
        Ok(None)
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with("}}"),
        }
    }

    fn field_or_var(&mut self, var: bool) -> Step {
        if self.at_terminator() {
            self.emit(if var {
                Tok::Variable("$".into())
            } else {
                Tok::Dot
            });
            return Ok(());
        }
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return Err(format!(
                "bad character {}",
                rune_name(self.peek().unwrap_or(' '))
            ));
        }
        let v = self.value();
        self.emit(if var { Tok::Variable(v) } else { Tok::Field(v) });
        Ok(())
    }

    fn identifier(&mut self) -> Step {
        while self.peek().is_some_and(is_alnum) {
            self.next();
        }
        if !self.at_terminator() {
            return Err(format!(
                "bad character {}",
                rune_name(self.peek().unwrap_or(' '))
            ));
        }
        let word = self.value();
        let tok = match word.as_str() {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "nil" => Tok::Nil,
            w => match KEYWORDS.iter().find(|k| **k == w) {
                Some(k) => Tok::Keyword(k),
                None => Tok::Ident(word),
            },
        };
        self.emit(tok);
        Ok(())
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.next();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.next();
            return false;
        }
        true
    }

    fn number(&mut self) -> Step {
        let bad = |l: &Self| {
            Err(format!(
                "bad number syntax: {}",
                crate::gofmt::quote(&l.value())
            ))
        };
        if !self.scan_number() {
            return bad(self);
        }
        if matches!(self.peek(), Some('+' | '-')) {
            // A complex constant (1+2i): parsed, then refused by the parser.
            if !self.scan_number() || !self.value().ends_with('i') {
                return bad(self);
            }
        }
        let v = self.value();
        self.emit(Tok::Number(v));
        Ok(())
    }

    fn quote(&mut self) -> Step {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return Err("unterminated quoted string".into()),
                },
                None | Some('\n') => return Err("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        let v = self.value();
        self.emit(Tok::Str(v));
        Ok(())
    }

    fn raw_quote(&mut self) -> Step {
        loop {
            match self.next() {
                None => return Err("unterminated raw quoted string".into()),
                Some('`') => break,
                _ => {}
            }
        }
        let v = self.value();
        self.emit(Tok::RawStr(v));
        Ok(())
    }

    fn char_const(&mut self) -> Step {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return Err("unterminated character constant".into()),
                },
                None | Some('\n') => return Err("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        let v = self.value();
        self.emit(Tok::CharConst(v));
        Ok(())
    }
}

/// `-` and a space right after `{{`.
fn has_left_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
}

/// A space and `-` (then `}}`).
fn has_right_trim(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(b[0] as char) && b[1] == b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).into_iter().map(|i| i.tok).collect()
    }

    #[test]
    fn trims_and_comments() {
        assert_eq!(
            toks("a  {{- .X -}}  b{{/* c */}}d"),
            vec![
                Tok::Text("a".into()),
                Tok::LeftDelim,
                Tok::Field(".X".into()),
                Tok::RightDelim,
                Tok::Text("b".into()),
                Tok::Text("d".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("{{-3}}"),
            vec![
                Tok::LeftDelim,
                Tok::Number("-3".into()),
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn words() {
        assert_eq!(
            toks(r#"{{$i, $v := range .A.B | x "s" `r` 'c' 1.5e3 true nil}}"#),
            vec![
                Tok::LeftDelim,
                Tok::Variable("$i".into()),
                Tok::Char(','),
                Tok::Space,
                Tok::Variable("$v".into()),
                Tok::Space,
                Tok::Declare,
                Tok::Space,
                Tok::Keyword("range"),
                Tok::Space,
                Tok::Field(".A".into()),
                Tok::Field(".B".into()),
                Tok::Space,
                Tok::Pipe,
                Tok::Space,
                Tok::Ident("x".into()),
                Tok::Space,
                Tok::Str("\"s\"".into()),
                Tok::Space,
                Tok::RawStr("`r`".into()),
                Tok::Space,
                Tok::CharConst("'c'".into()),
                Tok::Space,
                Tok::Number("1.5e3".into()),
                Tok::Space,
                Tok::Bool(true),
                Tok::Space,
                Tok::Nil,
                Tok::RightDelim,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn errors() {
        let last = |s: &str| lex(s).pop().map(|i| (i.tok, i.pos)).unwrap();
        assert_eq!(last("ab{{.X"), (Tok::Error("unclosed action".into()), 6));
        assert_eq!(last("{{/* x"), (Tok::Error("unclosed comment".into()), 2));
        assert_eq!(
            last("{{3x}}"),
            (Tok::Error("bad number syntax: \"3x\"".into()), 2)
        );
        assert_eq!(
            last("{{\"ab}}"),
            (Tok::Error("unterminated quoted string".into()), 2)
        );
        assert_eq!(
            last("{{.X)}}"),
            (Tok::Error("unexpected right paren".into()), 4)
        );
        assert_eq!(
            last("{{.X%}}"),
            (Tok::Error("bad character U+0025 '%'".into()), 2)
        );
    }
}
