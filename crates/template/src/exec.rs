//! Execution: walks the tree over a JSON value, as Go's `text/template`
//! executes over `map[string]interface{}` data, with Go's errors naming
//! the template, the position and the node being evaluated.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ast::{Arg, Branch, Cmd, List, Node, Pipe};
use crate::funcs::{self, Ty};
use crate::value::V;

/// A method of the data (Docker's `.Label "key"`): string arguments, a
/// value back.
type MethodFn<'a> = Box<dyn Fn(&[String]) -> Value + 'a>;

/// Methods callable on the data itself (the top-level `.`), like the
/// methods of Docker's formatter contexts. They take string arguments.
#[derive(Default)]
pub struct Methods<'a> {
    map: BTreeMap<String, (usize, MethodFn<'a>)>,
}

impl<'a> Methods<'a> {
    pub fn new() -> Methods<'a> {
        Methods::default()
    }

    /// Adds `name`, taking `arity` string arguments.
    pub fn add(mut self, name: &str, arity: usize, f: impl Fn(&[String]) -> Value + 'a) -> Self {
        self.map.insert(name.to_string(), (arity, Box::new(f)));
        self
    }
}

/// How a template executes.
#[derive(Default)]
pub struct Options<'a> {
    /// A missing key of an object whose keys are all capitalized (a Go
    /// struct in Docker's data) is an error, `map has no entry for key`,
    /// as `docker inspect` reports; other missing keys give `<no value>`.
    pub strict: bool,
    /// Docker's header functions (rendering a table header).
    pub header: bool,
    pub methods: Option<&'a Methods<'a>>,
}

/// An execution error, already in Go's words.
#[derive(Debug)]
pub(crate) struct ExecError(pub String);

type R<T> = Result<T, ExecError>;

#[derive(PartialEq, Clone, Copy)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// Where execution is, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    Arg(&'t Arg),
    Cmd(&'t Cmd),
    Pipe(&'t Pipe),
    Node(&'t Node),
}

/// Nested template calls (Go allows 100000; this stack is smaller).
const MAX_DEPTH: usize = 100;

pub(crate) struct Exec<'t, 'd, 'x> {
    pub name: &'t str,
    pub text: &'t str,
    pub defs: &'t BTreeMap<String, List>,
    pub opts: &'x Options<'x>,
    pub root: &'d Value,
    pub out: &'x mut String,
    vars: Vec<(String, V<'d>)>,
    at: Option<At<'t>>,
    depth: usize,
}

impl<'t, 'd, 'x> Exec<'t, 'd, 'x> {
    pub fn new(
        (name, text, defs): (&'t str, &'t str, &'t BTreeMap<String, List>),
        opts: &'x Options<'x>,
        root: &'d Value,
        out: &'x mut String,
    ) -> Self {
        Exec {
            name,
            text,
            defs,
            opts,
            root,
            out,
            vars: Vec::new(),
            at: None,
            depth: 0,
        }
    }

    pub fn run(&mut self, list: &'t [Node]) -> R<()> {
        let dot = if self.root.is_null() {
            V::Missing
        } else {
            V::Val {
                v: std::borrow::Cow::Borrowed(self.root),
                iface: false,
            }
        };
        self.vars = vec![("$".into(), dot.clone())];
        self.walk(&dot, list).map(|_| ())
    }

    fn error<T>(&self, msg: impl AsRef<str>) -> R<T> {
        let msg = msg.as_ref();
        let Some(at) = self.at else {
            return Err(ExecError(format!("template: {}: {msg}", self.name)));
        };
        let (pos, context) = match at {
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Node(n) => (node_pos(n), n.to_string()),
        };
        let (line, col) = crate::line_col(self.text, pos);
        Err(ExecError(format!(
            "template: {}:{line}:{col}: executing {} at <{context}>: {msg}",
            self.name,
            crate::gofmt::quote(self.name)
        )))
    }

    fn walk(&mut self, dot: &V<'d>, list: &'t [Node]) -> R<Flow> {
        for n in list {
            let flow = self.walk_node(dot, n)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_node(&mut self, dot: &V<'d>, n: &'t Node) -> R<Flow> {
        self.at = Some(At::Node(n));
        match n {
            Node::Text(t) => self.out.push_str(t),
            Node::Action(pipe) => {
                let v = self.pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    match v.value() {
                        None => self.out.push_str("<no value>"),
                        Some(x) => self
                            .out
                            .push_str(&crate::gofmt::print_value(Some(x).filter(|x| !x.is_null()))),
                    }
                }
            }
            Node::If(b) => return self.if_or_with(dot, b, false),
            Node::With(b) => return self.if_or_with(dot, b, true),
            Node::Range(b) => return self.range(dot, b),
            Node::Template { name, pipe, .. } => self.template(dot, name, pipe.as_ref())?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn if_or_with(&mut self, dot: &V<'d>, b: &'t Branch, with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let v = self.pipeline(dot, &b.pipe)?;
        let flow = if v.truth() {
            let inner = if with { &v } else { dot };
            self.walk(inner, &b.list)
        } else if let Some(e) = &b.else_list {
            self.walk(dot, e)
        } else {
            Ok(Flow::Normal)
        };
        self.vars.truncate(mark);
        flow
    }

    fn range(&mut self, dot: &V<'d>, b: &'t Branch) -> R<Flow> {
        let mark = self.vars.len();
        let v = self.pipeline(dot, &b.pipe)?;
        let (count, keys) = match v.value() {
            None | Some(Value::Null) => (0, None),
            Some(Value::Array(a)) => (a.len() as u64, None),
            Some(Value::Object(m)) => (m.len() as u64, Some(m.keys().cloned().collect::<Vec<_>>())),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                if b.pipe.decl.len() > 1 {
                    let shown = crate::gofmt::print_value(v.arg());
                    return self.error(format!(
                        "can't use {shown} to iterate over more than one variable"
                    ));
                }
                (n.as_i64().unwrap_or(i64::MAX).max(0) as u64, None)
            }
            Some(x) => {
                let shown = crate::gofmt::print_value(Some(x));
                return self.error(format!("range can't iterate over {shown}"));
            }
        };
        let inner = self.vars.len();
        for i in 0..count {
            // The index (or key) and the element, made as the loop goes.
            let (index, elem) = match (&keys, v.value()) {
                (Some(k), _) => {
                    let key = &k[i as usize];
                    (V::str(key.clone()), v.child(|x| x.get(key)))
                }
                (None, Some(Value::Array(_))) => {
                    (V::own(Value::from(i)), v.child(|x| x.get(i as usize)))
                }
                _ => (V::own(Value::from(i)), Some(V::own(Value::from(i)))),
            };
            let elem = elem.unwrap_or(V::Missing);
            let n = self.vars.len();
            if !b.pipe.decl.is_empty() {
                self.vars[n - 1].1 = elem.clone();
            }
            if b.pipe.decl.len() > 1 {
                self.vars[n - 2].1 = index;
            }
            let flow = self.walk(&elem, &b.list)?;
            self.vars.truncate(inner);
            if flow == Flow::Break {
                break;
            }
        }
        let flow = match (&b.else_list, count) {
            (Some(e), 0) => self.walk(dot, e)?,
            _ => Flow::Normal,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn template(&mut self, dot: &V<'d>, name: &str, pipe: Option<&'t Pipe>) -> R<()> {
        let Some(def) = self.defs.get(name) else {
            return self.error(format!(
                "template {} not defined",
                crate::gofmt::quote(name)
            ));
        };
        if self.depth >= MAX_DEPTH {
            return self.error(format!("exceeded maximum template depth ({MAX_DEPTH})"));
        }
        let dot = match pipe {
            Some(p) => self.pipeline(dot, p)?,
            None => V::Missing,
        };
        let saved = std::mem::replace(&mut self.vars, vec![("$".into(), dot.clone())]);
        self.depth += 1;
        let r = self.walk(&dot, def);
        self.depth -= 1;
        self.vars = saved;
        r.map(|_| ())
    }

    fn pipeline(&mut self, dot: &V<'d>, pipe: &'t Pipe) -> R<V<'d>> {
        self.at = Some(At::Pipe(pipe));
        let mut value: Option<V<'d>> = None;
        for cmd in &pipe.cmds {
            let v = self.command(dot, cmd, value.take())?;
            value = Some(v.concrete());
        }
        let value = value.unwrap_or(V::Missing);
        for var in &pipe.decl {
            if pipe.is_assign {
                self.set_var(var, value.clone())?;
            } else {
                self.vars.push((var.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, v: V<'d>) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = v;
                Ok(())
            }
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn var_value(&self, name: &str) -> R<V<'d>> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.error(format!("undefined variable: {name}")),
        }
    }

    fn not_a_function(&self, args: &[Arg], last: &Option<V<'d>>) -> R<()> {
        if args.len() > 1 || last.is_some() {
            return self.error(format!("can't give argument to non-function {}", args[0]));
        }
        Ok(())
    }

    fn command(&mut self, dot: &V<'d>, cmd: &'t Cmd, last: Option<V<'d>>) -> R<V<'d>> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { .. } => return self.field_node(dot, first, &cmd.args, last),
            Arg::Chain { .. } => return self.chain(dot, first, &cmd.args, last),
            Arg::Ident { name, .. } => {
                return self.function(dot, first, name, Some(cmd), &cmd.args, last)
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &last)?;
                return self.pipeline(dot, p);
            }
            Arg::Variable { .. } => return self.variable(dot, first, &cmd.args, last),
            _ => {}
        }
        self.at = Some(At::Arg(first));
        self.not_a_function(&cmd.args, &last)?;
        match first {
            Arg::Bool { val, .. } => Ok(V::own(Value::Bool(*val))),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Number { .. } => self.ideal_constant(first),
            Arg::String { text, .. } => Ok(V::str(text.clone())),
            _ => self.error("nil is not a command"),
        }
    }

    fn ideal_constant(&mut self, n: &'t Arg) -> R<V<'d>> {
        self.at = Some(At::Arg(n));
        let Arg::Number { num, .. } = n else {
            return Ok(V::Missing);
        };
        let t = &num.text;
        let hex_int = t.len() > 2 && t[..2].eq_ignore_ascii_case("0x") && !t.contains(['p', 'P']);
        let rune = t.starts_with('\'');
        if let (Some(f), false, false, true) = (
            num.float,
            hex_int,
            rune,
            t.contains(['.', 'e', 'E', 'p', 'P']),
        ) {
            return Ok(V::own(
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            ));
        }
        match (num.int, num.uint) {
            (Some(i), _) => Ok(V::own(Value::from(i))),
            (None, Some(_)) => self.error(format!("{t} overflows int")),
            _ => Ok(V::Missing),
        }
    }

    fn field_node(
        &mut self,
        dot: &V<'d>,
        field: &'t Arg,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        self.at = Some(At::Arg(field));
        let Arg::Field { idents, .. } = field else {
            return Ok(V::Missing);
        };
        self.field_chain(dot, dot.clone(), idents, args, last)
    }

    fn chain(
        &mut self,
        dot: &V<'d>,
        chain: &'t Arg,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        self.at = Some(At::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Ok(V::Missing);
        };
        if matches!(node.as_ref(), Arg::Nil { .. }) {
            return self.error(format!("indirection through explicit nil in {chain}"));
        }
        let receiver = self.arg(dot, Ty::Value, node)?;
        self.field_chain(dot, receiver, fields, args, last)
    }

    fn variable(
        &mut self,
        dot: &V<'d>,
        var: &'t Arg,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        self.at = Some(At::Arg(var));
        let Arg::Variable { idents, .. } = var else {
            return Ok(V::Missing);
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, &last)?;
            return Ok(value);
        }
        self.field_chain(dot, value, &idents[1..], args, last)
    }

    fn field_chain(
        &mut self,
        dot: &V<'d>,
        receiver: V<'d>,
        idents: &[String],
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        let n = idents.len();
        let mut r = receiver;
        for id in &idents[..n - 1] {
            r = self.field(dot, id, &[], None, r)?;
        }
        self.field(dot, &idents[n - 1], args, last, r)
    }

    fn field(
        &mut self,
        dot: &V<'d>,
        name: &str,
        args: &'t [Arg],
        last: Option<V<'d>>,
        receiver: V<'d>,
    ) -> R<V<'d>> {
        let Some(v) = receiver.value() else {
            return Ok(V::Missing);
        };
        if receiver.is(self.root) {
            if let Some(m) = self.opts.methods.and_then(|m| m.map.get(name)) {
                return self.method(dot, name, m, args, last);
            }
        }
        let has_args = args.len() > 1 || last.is_some();
        match v {
            Value::Null => self.error(format!(
                "nil pointer evaluating {}.{name}",
                receiver.go_type()
            )),
            Value::Object(m) => {
                if has_args {
                    return self.error(format!("{name} is not a method but has arguments"));
                }
                if let Some(c) = receiver.child(|x| x.get(name)) {
                    return Ok(c);
                }
                let struct_like = !m.is_empty()
                    && m.keys()
                        .all(|k| k.starts_with(|c: char| c.is_ascii_uppercase()));
                if self.opts.strict && struct_like {
                    return self.error(format!(
                        "map has no entry for key {}",
                        crate::gofmt::quote(name)
                    ));
                }
                Ok(V::Missing)
            }
            _ => self.error(format!(
                "can't evaluate field {name} in type {}",
                receiver.go_type()
            )),
        }
    }

    fn method(
        &mut self,
        dot: &V<'d>,
        name: &str,
        (arity, f): &(usize, MethodFn<'_>),
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        let params = args.get(1..).unwrap_or_default();
        let got = params.len() + usize::from(last.is_some());
        if got != *arity {
            return self.error(format!(
                "wrong number of args for {name}: want {arity} got {got}"
            ));
        }
        let mut strings = Vec::new();
        for a in params {
            let v = self.arg(dot, Ty::Str, a)?;
            strings.push(
                v.value()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        if let Some(l) = last {
            let v = self.validate(l, Ty::Str)?;
            strings.push(
                v.value()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        Ok(V::own(f(&strings)))
    }

    fn function(
        &mut self,
        dot: &V<'d>,
        ident: &'t Arg,
        name: &str,
        cmd: Option<&'t Cmd>,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        self.at = Some(At::Arg(ident));
        let sig = funcs::signature(name, self.opts.header);
        let params = &args[1..];
        let num_in = params.len() + usize::from(last.is_some());
        if sig.variadic.is_some() && num_in < sig.fixed.len() {
            let want = sig.fixed.len();
            return self.error(format!(
                "wrong number of args for {name}: want at least {want} got {}",
                params.len()
            ));
        }
        if sig.variadic.is_none() && num_in != sig.fixed.len() {
            let want = sig.fixed.len();
            return self.error(format!(
                "wrong number of args for {name}: want {want} got {num_in}"
            ));
        }
        if name == "and" || name == "or" {
            return self.and_or(dot, name == "or", params, last);
        }
        let ty = |i: usize| {
            sig.fixed
                .get(i)
                .copied()
                .or(sig.variadic)
                .unwrap_or(Ty::Any)
        };
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in params.iter().enumerate() {
            argv.push(self.arg(dot, ty(i), a)?);
        }
        if let Some(l) = last {
            argv.push(self.validate(l, ty(num_in - 1))?);
        }
        let result = if name == "call" {
            let callee = params.first().map(ToString::to_string).unwrap_or_default();
            Err(funcs::call_error(&callee, &argv[0]))
        } else {
            funcs::call(name, argv, self.opts.header)
        };
        match result {
            Ok(v) => Ok(v),
            Err(e) => {
                self.at = Some(cmd.map_or(At::Arg(ident), At::Cmd));
                self.error(format!("error calling {name}: {e}"))
            }
        }
    }

    /// `and`/`or`: the first false (true) argument, or the last; the
    /// rest are not evaluated.
    fn and_or(
        &mut self,
        dot: &V<'d>,
        or: bool,
        params: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        let mut v = V::Missing;
        for a in params {
            v = self.arg(dot, Ty::Value, a)?;
            if v.truth() == or {
                return Ok(v);
            }
        }
        if let Some(l) = last {
            v = l;
        }
        Ok(v)
    }

    /// An argument evaluated for a parameter of type `ty`.
    fn arg(&mut self, dot: &V<'d>, ty: Ty, n: &'t Arg) -> R<V<'d>> {
        self.at = Some(At::Arg(n));
        let v = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => return self.nil_for(ty),
            Arg::Field { .. } => self.field_node(dot, n, std::slice::from_ref(n), None)?,
            Arg::Variable { .. } => self.variable(dot, n, &[], None)?,
            Arg::Pipe(p) => self.pipeline(dot, p)?,
            Arg::Ident { name, .. } => {
                self.function(dot, n, name, None, std::slice::from_ref(n), None)?
            }
            Arg::Chain { .. } => self.chain(dot, n, &[], None)?,
            literal => return self.literal(ty, literal),
        };
        self.validate(v, ty)
    }

    fn nil_for(&self, ty: Ty) -> R<V<'d>> {
        match ty {
            Ty::Any => Ok(V::own(Value::Null).boxed()),
            Ty::Value => Ok(V::Missing),
            Ty::StrSlice => Ok(V::own(Value::Array(Vec::new()))),
            Ty::Str | Ty::Int => self.error(format!("cannot assign nil to {}", ty.go_name())),
        }
    }

    fn literal(&mut self, ty: Ty, n: &'t Arg) -> R<V<'d>> {
        match (ty, n) {
            (Ty::Str, Arg::String { text, .. }) => Ok(V::str(text.clone())),
            (Ty::Str, _) => self.error(format!("expected string; found {n}")),
            (Ty::Int, Arg::Number { num, .. }) if num.int.is_some() => {
                Ok(V::own(Value::from(num.int.unwrap_or_default())))
            }
            (Ty::Int, _) => self.error(format!("expected integer; found {n}")),
            (Ty::StrSlice, _) => self.error(format!("can't handle {n} for arg of type []string")),
            (_, Arg::Bool { val, .. }) => Ok(V::own(Value::Bool(*val))),
            (_, Arg::String { text, .. }) => Ok(V::str(text.clone())),
            (_, Arg::Number { .. }) => self.ideal_constant(n),
            _ => Ok(V::Missing),
        }
    }

    /// Go's validateType: a value passed to a parameter of type `ty`.
    fn validate(&self, v: V<'d>, ty: Ty) -> R<V<'d>> {
        let Some(x) = v.value() else {
            return match ty {
                Ty::Str | Ty::Int => {
                    self.error(format!("invalid value; expected {}", ty.go_name()))
                }
                _ => self.nil_for(ty),
            };
        };
        let ok = match ty {
            Ty::Any | Ty::Value => true,
            Ty::Str => x.is_string(),
            Ty::Int => x.is_i64(),
            Ty::StrSlice => x.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        };
        if !ok {
            // Go compares the value inside the interface: its own type.
            let got = if x.is_null() {
                v.go_type()
            } else {
                crate::gofmt::type_name(Some(x)).to_string()
            };
            return self.error(format!(
                "wrong type for value; expected {}; got {got}",
                ty.go_name()
            ));
        }
        Ok(v)
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Action(p) => p.pos,
        Node::If(b) | Node::Range(b) | Node::With(b) => b.pipe.pos,
        Node::Template { pos, .. } => *pos,
        Node::Text(_) | Node::Break | Node::Continue => 0,
    }
}
