//! The parser: items to a tree, with Go's checks (defined functions and
//! variables, `{{break}}` inside `{{range}}`, no literal after `|`) and
//! Go's error messages.

use std::collections::BTreeMap;

use crate::ast::{Arg, Branch, Cmd, List, Node, Pipe};
use crate::lex::{Item, Tok};
use crate::number;

/// A parse error at a byte offset of the template text.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub pos: usize,
    pub msg: String,
}

pub(crate) struct Parsed {
    pub root: List,
    pub defs: BTreeMap<String, List>,
}

type R<T> = Result<T, ParseError>;

/// What an item of a list turned out to be.
enum Elem {
    Node(Node),
    /// `{{end}}` and `{{else}}`, with their keyword's position.
    End(usize),
    Else(usize),
}

pub(crate) fn parse(text: &str) -> R<Parsed> {
    let mut p = Parser {
        items: crate::lex::lex(text),
        i: 0,
        last: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        defs: BTreeMap::new(),
        depth: 0,
    };
    let root = p.top()?;
    Ok(Parsed { root, defs: p.defs })
}

struct Parser {
    items: Vec<Item>,
    i: usize,
    last: usize,
    vars: Vec<String>,
    range_depth: usize,
    defs: BTreeMap<String, List>,
    /// Nested parentheses and control structures, bounded so that a
    /// pathological template is an error, not a stack overflow.
    depth: usize,
}

/// Far more than templates nest, few enough for the executor's stack.
const MAX_NESTING: usize = 100;

impl Parser {
    fn at(&self, i: usize) -> &Item {
        &self.items[i.min(self.items.len() - 1)]
    }

    fn next(&mut self) -> Item {
        self.last = self.i.min(self.items.len() - 1);
        self.i += 1;
        self.at(self.i - 1).clone()
    }

    fn backup(&mut self, n: usize) {
        self.i -= n;
    }

    fn peek(&mut self) -> Item {
        self.last = self.i.min(self.items.len() - 1);
        self.at(self.i).clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.tok != Tok::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup(1);
        t
    }

    fn error<T>(&self, msg: impl Into<String>) -> R<T> {
        Err(ParseError {
            pos: self.at(self.last).pos,
            msg: msg.into(),
        })
    }

    /// Enters a nested structure; [`Parser::leave`] when done.
    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_NESTING {
            return self.error("max expression depth exceeded");
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn error_at<T>(&self, pos: usize, msg: &str) -> R<T> {
        Err(ParseError {
            pos,
            msg: msg.into(),
        })
    }

    fn unexpected<T>(&self, item: &Item, context: &str) -> R<T> {
        match &item.tok {
            Tok::Error(msg) => self.error(msg.clone()),
            _ => self.error(format!("unexpected {} in {context}", item.describe())),
        }
    }

    fn expect(&mut self, want: &Tok, context: &str) -> R<Item> {
        let t = self.next_non_space();
        if &t.tok != want {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn top(&mut self) -> R<List> {
        let mut list = Vec::new();
        loop {
            let t = self.peek();
            match t.tok {
                Tok::Eof => return Ok(list),
                Tok::LeftDelim => {
                    let start = self.i;
                    self.next();
                    if self.next_non_space().tok == Tok::Keyword("define") {
                        self.definition()?;
                        continue;
                    }
                    self.i = start;
                }
                _ => {}
            }
            match self.text_or_action()? {
                Elem::Node(n) => list.push(n),
                Elem::End(pos) => return self.error_at(pos, "unexpected {{end}}"),
                Elem::Else(pos) => return self.error_at(pos, "unexpected {{else}}"),
            }
        }
    }

    fn definition(&mut self) -> R<()> {
        let context = "define clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        self.expect(&Tok::RightDelim, context)?;
        let saved = (
            std::mem::replace(&mut self.vars, vec!["$".into()]),
            self.range_depth,
        );
        self.range_depth = 0;
        let (list, end) = self.item_list()?;
        (self.vars, self.range_depth) = saved;
        if let Elem::Else(pos) = end {
            return self.error_at(pos, &format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add(name, list)
    }

    fn add(&mut self, name: String, list: List) -> R<()> {
        match self.defs.get(&name) {
            Some(old) if !is_empty(old) && !is_empty(&list) => self.error(format!(
                "template: multiple definition of template {}",
                crate::gofmt::quote(&name)
            )),
            Some(old) if !is_empty(old) => Ok(()),
            _ => {
                self.defs.insert(name, list);
                Ok(())
            }
        }
    }

    fn template_name(&self, t: &Item, context: &str) -> R<String> {
        match &t.tok {
            Tok::Str(s) | Tok::RawStr(s) => self.unquote(s),
            _ => self.unexpected(t, context),
        }
    }

    fn unquote(&self, s: &str) -> R<String> {
        number::unquote(s).or_else(|()| self.error("invalid syntax"))
    }

    fn item_list(&mut self) -> R<(List, Elem)> {
        let mut list = Vec::new();
        while self.peek_non_space().tok != Tok::Eof {
            match self.text_or_action()? {
                Elem::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> R<Elem> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Elem::Node(Node::Text(s))),
            Tok::LeftDelim => self.action(),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> R<Elem> {
        let t = self.next_non_space();
        let node = match t.tok {
            Tok::Keyword("block") => self.block()?,
            Tok::Keyword("break") => self.loop_control("{{break}}", Node::Break)?,
            Tok::Keyword("continue") => self.loop_control("{{continue}}", Node::Continue)?,
            Tok::Keyword("else") => return self.else_control(t.pos),
            Tok::Keyword("end") => {
                self.expect(&Tok::RightDelim, "end")?;
                return Ok(Elem::End(t.pos));
            }
            Tok::Keyword("if") => Node::If(self.control("if")?),
            Tok::Keyword("range") => Node::Range(self.control("range")?),
            Tok::Keyword("template") => self.template_control()?,
            Tok::Keyword("with") => Node::With(self.control("with")?),
            _ => {
                self.backup(1);
                Node::Action(self.pipeline("command", &Tok::RightDelim)?)
            }
        };
        Ok(Elem::Node(node))
    }

    fn loop_control(&mut self, what: &str, node: Node) -> R<Node> {
        let t = self.next_non_space();
        if t.tok != Tok::RightDelim {
            return self.unexpected(&t, what);
        }
        if self.range_depth == 0 {
            return self.error(format!("{what} outside {{{{range}}}}"));
        }
        Ok(node)
    }

    fn else_control(&mut self, pos: usize) -> R<Elem> {
        let peek = self.peek_non_space();
        if matches!(peek.tok, Tok::Keyword("if" | "with")) {
            return Ok(Elem::Else(pos));
        }
        self.expect(&Tok::RightDelim, "else")?;
        Ok(Elem::Else(pos))
    }

    fn control(&mut self, context: &str) -> R<Branch> {
        self.enter()?;
        let b = self.control_body(context);
        self.leave();
        b
    }

    fn control_body(&mut self, context: &str) -> R<Branch> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let range = context == "range";
        self.range_depth += usize::from(range);
        let (list, next) = self.item_list()?;
        self.range_depth -= usize::from(range);
        let mut else_list = None;
        if matches!(next, Elem::Else(_)) {
            let chained = matches!(
                (context, &self.peek().tok),
                ("if", Tok::Keyword("if")) | ("with", Tok::Keyword("with"))
            );
            if chained {
                self.next();
                let inner = self.control(context)?;
                else_list = Some(vec![if context == "if" {
                    Node::If(inner)
                } else {
                    Node::With(inner)
                }]);
            } else {
                let (l, end) = self.item_list()?;
                if let Elem::Else(pos) = end {
                    return self.error_at(pos, "expected end; found {{else}}");
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(mark);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_control(&mut self) -> R<Node> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = if self.next_non_space().tok != Tok::RightDelim {
            self.backup(1);
            Some(self.pipeline(context, &Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe,
        })
    }

    fn block(&mut self) -> R<Node> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let saved = (
            std::mem::replace(&mut self.vars, vec!["$".into()]),
            self.range_depth,
        );
        self.range_depth = 0;
        self.enter()?;
        let body = self.item_list();
        self.leave();
        let (list, end) = body?;
        (self.vars, self.range_depth) = saved;
        if let Elem::Else(pos) = end {
            return self.error_at(pos, &format!("unexpected {{{{else}}}} in {context}"));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> R<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let t = self.next_non_space();
            if &t.tok == end {
                return self.check_pipeline(pipe, context);
            }
            match t.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::RawStr(_)
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup(1);
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    /// `$x :=`, `$x =`, `$i, $v :=` (range only) at the start of a pipeline.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> R<()> {
        loop {
            let v = self.peek_non_space();
            let Tok::Variable(name) = &v.tok else {
                return Ok(());
            };
            let start = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.tok == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                    return Ok(());
                }
                Tok::Char(',') => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name.clone());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return self.error("range can only initialize variables"),
                        }
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = start;
                    return Ok(());
                }
            }
        }
    }

    fn check_pipeline(&self, pipe: Pipe, context: &str) -> R<Pipe> {
        if pipe.cmds.is_empty() {
            return self.error(format!("missing value for {context}"));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool { .. }
                    | Arg::Dot { .. }
                    | Arg::Nil { .. }
                    | Arg::Number { .. }
                    | Arg::String { .. }
            ) {
                return self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(pipe)
    }

    fn command(&mut self) -> R<Cmd> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                args.push(a);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(1),
                Tok::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.error("empty command");
        }
        Ok(Cmd { pos, args })
    }

    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if !matches!(self.peek().tok, Tok::Field(_)) {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while let Tok::Field(f) = self.peek().tok {
            self.next();
            fields.push(f[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable { mut idents, .. } => {
                idents.extend(fields);
                Arg::Variable { pos, idents }
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return self.error(format!(
                    "unexpected . after term {}",
                    crate::gofmt::quote(&node.to_string())
                ))
            }
            node => Arg::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.tok {
            Tok::Ident(name) => {
                if !crate::funcs::exists(&name) {
                    return self.error(format!(
                        "function {} not defined",
                        crate::gofmt::quote(&name)
                    ));
                }
                Arg::Ident { pos, name }
            }
            Tok::Dot => Arg::Dot { pos },
            Tok::Nil => Arg::Nil { pos },
            Tok::Variable(v) => {
                let first = v.split('.').next().unwrap_or_default().to_string();
                if !self.vars.contains(&first) {
                    return self.error(format!(
                        "undefined variable {}",
                        crate::gofmt::quote(&first)
                    ));
                }
                Arg::Variable {
                    pos,
                    idents: vec![v],
                }
            }
            Tok::Field(f) => Arg::Field {
                pos,
                idents: vec![f[1..].to_string()],
            },
            Tok::Bool(val) => Arg::Bool { pos, val },
            Tok::Number(text) => match number::parse(&text) {
                Ok(num) => Arg::Number { pos, num },
                Err(e) => return self.error(e),
            },
            Tok::CharConst(text) => match number::char_const(&text) {
                Ok(num) => Arg::Number { pos, num },
                Err(e) => return self.error(e),
            },
            Tok::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", &Tok::RightParen);
                self.leave();
                Arg::Pipe(Box::new(p?))
            }
            Tok::Str(q) | Tok::RawStr(q) => {
                let text = self.unquote(&q)?;
                Arg::String {
                    pos,
                    quoted: q,
                    text,
                }
            }
            _ => {
                self.backup(1);
                return Ok(None);
            }
        }))
    }
}

fn is_empty(list: &List) -> bool {
    list.iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
}
