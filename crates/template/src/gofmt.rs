//! Go's `fmt` over JSON values: `Sprint`, `Sprintln`, `Sprintf` (flags,
//! width, precision, `*`, the verbs of strings, integers, floats, bools,
//! slices and maps, and Go's `%!verb(type=value)` error notes), and
//! `strconv.Quote`. `None` is Go's nil.

use serde_json::Value;

use crate::float;

/// The type name Go prints for a value decoded from JSON.
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None | Some(Value::Null) => "<nil>",
        Some(Value::Bool(_)) => "bool",
        Some(Value::Number(n)) if n.is_i64() => "int",
        Some(Value::Number(n)) if n.is_u64() => "uint",
        Some(Value::Number(_)) => "float64",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "[]interface {}",
        Some(Value::Object(_)) => "map[string]interface {}",
    }
}

#[derive(Clone, Copy, Default)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    sharp_v: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// Go's `strconv.IsPrint`, closely enough: graphic characters and the
/// ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let format = matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    !c.is_control() && !c.is_whitespace() && !format
}

fn quote_with(s: &str, q: char, ascii: bool) -> String {
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            c if c == q || c == '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_print(c) && (!ascii || c.is_ascii()) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(q);
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

/// `fmt.Sprint`: spaces between operands when neither is a string.
pub(crate) fn sprint(args: &[Option<&Value>]) -> String {
    let mut p = Printer::default();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Some(Value::String(_)));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.arg(*a, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// `fmt.Sprintln`.
pub(crate) fn sprintln(args: &[Option<&Value>]) -> String {
    let mut p = Printer::default();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.arg(*a, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Option<&Value>]) -> String {
    let mut p = Printer::default();
    let mut argn = 0;
    let mut rest = format;
    while let Some(i) = rest.find('%') {
        p.buf.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        p.spec = Spec::default();
        rest = p.flags(rest);
        rest = p.width_and_prec(rest, args, &mut argn);
        let Some(verb) = rest.chars().next() else {
            p.buf.push_str("%!(NOVERB)");
            break;
        };
        rest = &rest[verb.len_utf8()..];
        if verb == '%' {
            p.buf.push('%');
        } else if argn >= args.len() {
            p.buf.push_str(&format!("%!{verb}(MISSING)"));
        } else {
            if verb == 'v' {
                p.spec.sharp_v = p.spec.sharp;
                p.spec.sharp = false;
                p.spec.plus = false;
            }
            p.arg(args[argn], verb);
            argn += 1;
        }
    }
    p.buf.push_str(rest);
    if argn < args.len() {
        p.spec = Spec::default();
        p.buf.push_str("%!(EXTRA ");
        for (i, a) in args[argn..].iter().enumerate() {
            if i > 0 {
                p.buf.push_str(", ");
            }
            if a.is_none() {
                p.buf.push_str("<nil>");
            } else {
                p.buf.push_str(type_name(*a));
                p.buf.push('=');
                p.arg(*a, 'v');
            }
        }
        p.buf.push(')');
    }
    p.buf
}

/// `%v` of one value (what an action prints).
pub(crate) fn print_value(v: Option<&Value>) -> String {
    sprint(&[v])
}

#[derive(Default)]
struct Printer {
    buf: String,
    spec: Spec,
}

impl Printer {
    fn flags<'a>(&mut self, mut s: &'a str) -> &'a str {
        while let Some(c) = s.chars().next() {
            match c {
                '#' => self.spec.sharp = true,
                '0' => self.spec.zero = !self.spec.minus,
                '+' => self.spec.plus = true,
                '-' => {
                    self.spec.minus = true;
                    self.spec.zero = false;
                }
                ' ' => self.spec.space = true,
                _ => break,
            }
            s = &s[1..];
        }
        s
    }

    /// Width and precision (digits or `*`).
    fn width_and_prec<'a>(
        &mut self,
        s: &'a str,
        args: &[Option<&Value>],
        argn: &mut usize,
    ) -> &'a str {
        let mut s = s;
        if let Some(r) = s.strip_prefix('*') {
            s = r;
            match star(args, argn) {
                Some(w) if w < 0 => {
                    self.spec.minus = true;
                    self.spec.zero = false;
                    self.spec.width = Some(w.unsigned_abs() as usize);
                }
                Some(w) => self.spec.width = Some(w as usize),
                None => self.buf.push_str("%!(BADWIDTH)"),
            }
        } else {
            let (n, r) = digits(s);
            self.spec.width = n;
            s = r;
        }
        if let Some(r) = s.strip_prefix('.') {
            s = r;
            if let Some(r) = s.strip_prefix('*') {
                s = r;
                match star(args, argn) {
                    Some(p) if p >= 0 => self.spec.prec = Some(p as usize),
                    Some(_) => self.spec.prec = None,
                    None => self.buf.push_str("%!(BADPREC)"),
                }
            } else {
                let (n, r) = digits(s);
                self.spec.prec = Some(n.unwrap_or(0));
                s = r;
            }
        }
        s
    }

    fn pad(&mut self, s: &str) {
        let n = s.chars().count();
        let fill = self.spec.width.unwrap_or(0).saturating_sub(n);
        let c = if self.spec.zero { '0' } else { ' ' };
        if self.spec.minus {
            self.buf.push_str(s);
            self.buf.extend(std::iter::repeat_n(' ', fill));
        } else {
            self.buf.extend(std::iter::repeat_n(c, fill));
            self.buf.push_str(s);
        }
    }

    fn pad_spaces(&mut self, s: &str) {
        let zero = std::mem::replace(&mut self.spec.zero, false);
        self.pad(s);
        self.spec.zero = zero;
    }

    fn bad_verb(&mut self, v: Option<&Value>, verb: char) {
        self.buf.push_str(&format!("%!{verb}("));
        match v {
            None => self.buf.push_str("<nil>"),
            Some(x) => {
                self.buf.push_str(type_name(v));
                self.buf.push('=');
                self.arg(Some(x), 'v');
            }
        }
        self.buf.push(')');
    }

    fn arg(&mut self, v: Option<&Value>, verb: char) {
        if verb == 'T' {
            let t = type_name(v);
            return self.pad(t);
        }
        match v {
            None | Some(Value::Null) if matches!(verb, 'v') => self.pad_spaces("<nil>"),
            None | Some(Value::Null) => self.bad_verb(None, verb),
            Some(Value::Bool(b)) => match verb {
                't' | 'v' => self.pad(&b.to_string()),
                _ => self.bad_verb(v, verb),
            },
            Some(Value::Number(n)) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => self.integer(i.unsigned_abs(), i < 0, verb, v),
                (None, Some(u), _) => self.integer(u, false, verb, v),
                (_, _, Some(f)) => self.float(f, verb, v),
                _ => self.bad_verb(v, verb),
            },
            Some(Value::String(s)) => self.string(s, verb, v),
            Some(Value::Array(a)) => {
                if self.spec.sharp_v {
                    return self.go_syntax(v);
                }
                self.buf.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.elem(x, verb);
                }
                self.buf.push(']');
            }
            Some(Value::Object(m)) => {
                if self.spec.sharp_v {
                    return self.go_syntax(v);
                }
                self.buf.push_str("map[");
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.string(k, verb, None);
                    self.buf.push(':');
                    self.elem(x, verb);
                }
                self.buf.push(']');
            }
        }
    }

    /// An element of a slice or map: nil prints as `<nil>` whatever the verb.
    fn elem(&mut self, x: &Value, verb: char) {
        match x {
            Value::Null => self.pad_spaces("<nil>"),
            x => self.arg(Some(x), verb),
        }
    }

    fn go_syntax(&mut self, v: Option<&Value>) {
        let s = go_syntax(v);
        self.pad(&s);
    }

    fn string(&mut self, s: &str, verb: char, v: Option<&Value>) {
        let truncated: String = match self.spec.prec {
            Some(p) if matches!(verb, 's' | 'v' | 'q') => s.chars().take(p).collect(),
            _ => s.to_string(),
        };
        match verb {
            'v' if self.spec.sharp_v => self.pad(&quote(s)),
            's' | 'v' => self.pad(&truncated),
            'q' if self.spec.sharp && can_backquote(&truncated) => {
                self.pad(&format!("`{truncated}`"))
            }
            'q' => {
                let q = quote_with(&truncated, '"', self.spec.plus);
                self.pad(&q);
            }
            'x' | 'X' => self.hex_bytes(s.as_bytes(), verb == 'X'),
            _ => match v {
                Some(v) => self.bad_verb(Some(v), verb),
                None => self.bad_verb(Some(&Value::String(s.into())), verb),
            },
        }
    }

    fn hex_bytes(&mut self, b: &[u8], upper: bool) {
        let len = self.spec.prec.map_or(b.len(), |p| p.min(b.len()));
        let x = if upper { "0X" } else { "0x" };
        let mut s = String::new();
        if len > 0 && self.spec.sharp {
            s.push_str(x);
        }
        for (i, c) in b[..len].iter().enumerate() {
            if self.spec.space && i > 0 {
                s.push(' ');
                if self.spec.sharp {
                    s.push_str(x);
                }
            }
            if upper {
                s.push_str(&format!("{c:02X}"));
            } else {
                s.push_str(&format!("{c:02x}"));
            }
        }
        self.pad(&s);
    }

    fn integer(&mut self, u: u64, neg: bool, verb: char, v: Option<&Value>) {
        let (base, upper) = match verb {
            'd' | 'v' => (10, false),
            'b' => (2, false),
            'o' | 'O' => (8, false),
            'x' => (16, false),
            'X' => (16, true),
            'c' => {
                let c = char::from_u32(u as u32).filter(|_| !neg && u <= 0x10FFFF);
                return self.pad(&c.unwrap_or('\u{FFFD}').to_string());
            }
            'q' => {
                let c = char::from_u32(u as u32).filter(|_| !neg && u <= 0x10FFFF);
                let q = quote_with(&c.unwrap_or('\u{FFFD}').to_string(), '\'', self.spec.plus);
                return self.pad(&q);
            }
            'U' => return self.unicode(u, neg),
            _ => return self.bad_verb(v, verb),
        };
        let mut digits = radix(u, base, upper);
        let mut prec = self.spec.prec;
        if prec.is_none() && self.spec.zero && !self.spec.minus {
            if let Some(w) = self.spec.width {
                let sign = usize::from(neg || self.spec.plus || self.spec.space);
                prec = Some(w.saturating_sub(sign));
            }
        }
        if let Some(p) = prec {
            if p == 0 && u == 0 {
                digits.clear();
            }
            while digits.len() < p {
                digits.insert(0, '0');
            }
        }
        let prefix = match (base, self.spec.sharp, verb) {
            (_, _, 'O') => "0o",
            (2, true, _) => "0b",
            (8, true, _) if !digits.starts_with('0') => "0",
            (16, true, _) if upper => "0X",
            (16, true, _) => "0x",
            _ => "",
        };
        let sign = if neg {
            "-"
        } else if self.spec.plus {
            "+"
        } else if self.spec.space {
            " "
        } else {
            ""
        };
        let s = format!("{sign}{prefix}{digits}");
        self.pad_spaces(&s);
    }

    fn unicode(&mut self, u: u64, neg: bool) {
        let mut hex = format!("{u:X}");
        let p = self.spec.prec.unwrap_or(4).max(4);
        while hex.len() < p {
            hex.insert(0, '0');
        }
        let mut s = format!("{}U+{hex}", if neg { "-" } else { "" });
        if self.spec.sharp && !neg {
            if let Some(c) = char::from_u32(u as u32).filter(|c| is_print(*c)) {
                s.push_str(&format!(" '{c}'"));
            }
        }
        self.pad_spaces(&s);
    }

    fn float(&mut self, f: f64, verb: char, v: Option<&Value>) {
        let p = self.spec.prec.map(|p| p as i32);
        let mut num = match verb {
            'v' => float::format(f, 'g', p.unwrap_or(-1)),
            'g' | 'G' => float::format(f, verb, p.unwrap_or(-1)),
            'b' | 'x' | 'X' => float::format(f, verb, p.unwrap_or(-1)),
            'e' | 'E' | 'f' => float::format(f, verb, p.unwrap_or(6)),
            'F' => float::format(f, 'f', p.unwrap_or(6)),
            _ => return self.bad_verb(v, verb),
        };
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.spec.space && num.starts_with('+') && !self.spec.plus {
            num.replace_range(0..1, " ");
        }
        if num[1..].starts_with(['I', 'N']) {
            if num[1..].starts_with('N') && !self.spec.space && !self.spec.plus {
                num.remove(0);
            }
            return self.pad_spaces(&num);
        }
        if self.spec.sharp && !matches!(verb, 'b' | 'x' | 'X') {
            num = sharp_float(num, verb, p);
        }
        if self.spec.plus || !num.starts_with('+') {
            let w = self.spec.width.unwrap_or(0);
            if self.spec.zero && w > num.chars().count() {
                self.buf.push_str(&num[..1]);
                self.buf
                    .extend(std::iter::repeat_n('0', w - num.chars().count()));
                self.buf.push_str(&num[1..]);
                return;
            }
            return self.pad(&num);
        }
        self.pad(&num[1..]);
    }
}

/// The `#` flag of floats: a decimal point always, and for `%g` the
/// trailing zeros kept.
fn sharp_float(num: String, verb: char, prec: Option<i32>) -> String {
    let mut digits = match verb {
        'v' | 'g' | 'G' => prec.unwrap_or(6),
        _ => 0,
    };
    let (mut body, tail) = match num.find(['e', 'E']) {
        Some(i) => (num[..i].to_string(), num[i..].to_string()),
        None => (num.clone(), String::new()),
    };
    let mut saw_nonzero = false;
    for c in body[1..].chars() {
        if c == '.' {
            continue;
        }
        if c != '0' {
            saw_nonzero = true;
        }
        if saw_nonzero {
            digits -= 1;
        }
    }
    if !body.contains('.') {
        if body.len() == 2 && body.ends_with('0') {
            digits -= 1;
        }
        body.push('.');
    }
    while digits > 0 {
        body.push('0');
        digits -= 1;
    }
    body + &tail
}

fn radix(mut u: u64, base: u64, upper: bool) -> String {
    if u == 0 {
        return "0".into();
    }
    let set = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::new();
    while u > 0 {
        out.push(set[(u % base) as usize]);
        u /= base;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Decimal digits at the start of `s` (Go's parsenum, capped like Go's).
fn digits(s: &str) -> (Option<usize>, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return (None, s);
    }
    (s[..n].parse().ok().filter(|v| *v < 1_000_000), &s[n..])
}

fn star(args: &[Option<&Value>], argn: &mut usize) -> Option<i64> {
    let v = args.get(*argn)?;
    *argn += 1;
    match v {
        Some(Value::Number(n)) => n.as_i64().filter(|w| w.unsigned_abs() < 1_000_000),
        _ => None,
    }
}

/// `%#v`: Go syntax for values decoded from JSON.
fn go_syntax(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "<nil>".into(),
        Some(Value::String(s)) => quote(s),
        Some(Value::Array(a)) => {
            let items: Vec<String> = a.iter().map(|x| go_syntax(Some(x))).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Some(Value::Object(m)) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{}:{}", quote(k), go_syntax(Some(x))))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
        Some(x) => print_value(Some(x)),
    }
}
