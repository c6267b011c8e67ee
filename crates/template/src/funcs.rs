//! The functions: Go's builtins (`and`, `or`, `not`, `len`, `index`,
//! `slice`, `print`, `printf`, `println`, `html`, `js`, `urlquery`,
//! `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `call`) and Docker's (`json`,
//! `split`, `join`, `title`, `lower`, `upper`, `pad`, `truncate`), with
//! their Go signatures, which decide how arguments are checked. A table
//! header is rendered with Docker's header functions: the string ones
//! return their argument unchanged, so `{{upper .Name}}` heads its column
//! `NAME`, not an upper-cased `NAME`.

use serde_json::{Map, Value};

use crate::gofmt;
use crate::value::{kind, Kind, V};

/// A parameter's Go type.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Ty {
    /// `interface{}`
    Any,
    /// `reflect.Value`: the value as it is, no value included.
    Value,
    Str,
    Int,
    /// `[]string`
    StrSlice,
}

impl Ty {
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Value => "reflect.Value",
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::StrSlice => "[]string",
        }
    }
}

pub(crate) struct Sig {
    pub fixed: &'static [Ty],
    pub variadic: Option<Ty>,
}

const NAMES: [&str; 27] = [
    "and", "or", "not", "call", "html", "js", "urlquery", "index", "slice", "len", "print",
    "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "json", "split", "join", "title",
    "lower", "upper", "pad", "truncate",
];

pub(crate) fn exists(name: &str) -> bool {
    NAMES.contains(&name)
}

const fn sig(fixed: &'static [Ty], variadic: Option<Ty>) -> Sig {
    Sig { fixed, variadic }
}

pub(crate) fn signature(name: &str, header: bool) -> Sig {
    use Ty::*;
    match (name, header) {
        ("and" | "or" | "call" | "index" | "slice" | "eq", _) => sig(&[Value], Some(Value)),
        ("not" | "len", _) => sig(&[Value], None),
        ("ne" | "lt" | "le" | "gt" | "ge", _) => sig(&[Value, Value], None),
        ("html" | "js" | "urlquery" | "print" | "println", _) => sig(&[], Some(Any)),
        ("printf", _) => sig(&[Str], Some(Any)),
        ("json", false) => sig(&[Any], None),
        ("json" | "title" | "lower" | "upper", _) => sig(&[Str], None),
        ("split", _) => sig(&[Str, Str], None),
        ("join", false) => sig(&[StrSlice, Str], None),
        ("join", true) => sig(&[Str, Str], None),
        ("pad", _) => sig(&[Str, Int, Int], None),
        _ => sig(&[Str, Int], None),
    }
}

fn s<'v>(args: &'v [V<'_>], i: usize) -> &'v str {
    args[i].value().and_then(Value::as_str).unwrap_or_default()
}

fn int(args: &[V<'_>], i: usize) -> i64 {
    args[i].value().and_then(Value::as_i64).unwrap_or_default()
}

/// Calls a function (`and`/`or` are the executor's: they short-circuit).
pub(crate) fn call<'a>(name: &str, args: Vec<V<'a>>, header: bool) -> Result<V<'a>, String> {
    if header
        && matches!(
            name,
            "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate"
        )
    {
        return Ok(V::str(s(&args, 0)));
    }
    let fmt_args = || args.iter().map(V::arg).collect::<Vec<_>>();
    Ok(match name {
        "not" => V::own(Value::Bool(!args[0].truth())),
        "len" => V::own(Value::from(length(&args[0])?)),
        "index" => index(&args)?,
        "slice" => slice(&args)?,
        "print" => V::str(gofmt::sprint(&fmt_args())),
        "println" => V::str(gofmt::sprintln(&fmt_args())),
        "printf" => V::str(gofmt::sprintf(s(&args, 0), &fmt_args()[1..])),
        "html" => V::str(html(&escaper_text(&args))),
        "js" => V::str(js(&escaper_text(&args))),
        "urlquery" => V::str(urlquery(&escaper_text(&args))),
        "eq" => V::own(Value::Bool(eq(&args)?)),
        "ne" => V::own(Value::Bool(!eq(&args)?)),
        "lt" => V::own(Value::Bool(lt(&args[0], &args[1])?)),
        "le" => V::own(Value::Bool(lt(&args[0], &args[1])? || eq(&args)?)),
        "gt" => V::own(Value::Bool(!(lt(&args[0], &args[1])? || eq(&args)?))),
        "ge" => V::own(Value::Bool(!lt(&args[0], &args[1])?)),
        "json" => V::str(crate::json::to_string(
            args[0].value().unwrap_or(&Value::Null),
            false,
        )),
        "split" => V::own(split(s(&args, 0), s(&args, 1))),
        "join" => V::str(join(&args[0], s(&args, 1))),
        "title" => V::str(title(s(&args, 0))),
        "lower" => V::str(s(&args, 0).chars().map(lower_rune).collect::<String>()),
        "upper" => V::str(s(&args, 0).chars().map(upper_rune).collect::<String>()),
        "pad" => V::str(pad(s(&args, 0), int(&args, 1), int(&args, 2))?),
        _ => V::str(truncate(s(&args, 0), int(&args, 1))?),
    })
}

/// `call`'s error: nothing here is a function. `callee` names the
/// argument as written.
pub(crate) fn call_error(callee: &str, f: &V<'_>) -> String {
    if f.is_nil() {
        return "call of nil".into();
    }
    format!(
        "non-function {callee} of type {}",
        gofmt::type_name(f.arg())
    )
}

fn length(v: &V<'_>) -> Result<usize, String> {
    match v.value() {
        None => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Some(Value::Null) => Err("len of nil pointer".into()),
        Some(Value::String(s)) => Ok(s.len()),
        Some(Value::Array(a)) => Ok(a.len()),
        Some(Value::Object(m)) => Ok(m.len()),
        Some(x) => Err(format!("len of type {}", gofmt::type_name(Some(x)))),
    }
}

/// An integer index argument (Go's indexArg).
fn index_arg(i: &V<'_>, cap: usize) -> Result<usize, String> {
    let x = match i.arg() {
        None => return Err("cannot index slice/array with nil".into()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
        Some(x) => {
            return Err(format!(
                "cannot index slice/array with type {}",
                gofmt::type_name(Some(x))
            ))
        }
    };
    if x < 0 || x as usize > cap {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

/// The zero value of a JSON map's element type: Docker's maps of strings
/// (labels, options) give "", others nil.
fn map_zero(m: &Map<String, Value>) -> Value {
    if m.values().all(Value::is_string) {
        Value::String(String::new())
    } else {
        Value::Null
    }
}

fn index<'a>(args: &[V<'a>]) -> Result<V<'a>, String> {
    let mut item = args[0].clone();
    if item.value().is_none() {
        return Err("index of untyped nil".into());
    }
    for i in &args[1..] {
        let next = match item.value() {
            Some(Value::Null) => return Err("index of nil pointer".into()),
            Some(Value::Array(a)) => {
                let x = index_arg(i, a.len())?;
                if x == a.len() {
                    return Err("reflect: slice index out of range".into());
                }
                item.child(|v| v.get(x))
            }
            Some(Value::String(s)) => {
                let x = index_arg(i, s.len())?;
                let b = s
                    .as_bytes()
                    .get(x)
                    .ok_or("reflect: string index out of range")?;
                Some(V::own(Value::from(*b)))
            }
            Some(Value::Object(m)) => {
                let key = match i.value() {
                    Some(Value::String(k)) => k.clone(),
                    None | Some(Value::Null) => {
                        return Err("value is nil; should be of type string".into())
                    }
                    Some(x) => {
                        return Err(format!(
                            "value has type {}; should be string",
                            gofmt::type_name(Some(x))
                        ))
                    }
                };
                let zero = map_zero(m);
                Some(item.child(|v| v.get(&key)).unwrap_or(V::own(zero).boxed()))
            }
            x => return Err(format!("can't index item of type {}", gofmt::type_name(x))),
        };
        item = next.unwrap_or(V::Missing);
    }
    Ok(item)
}

fn slice<'a>(args: &[V<'a>]) -> Result<V<'a>, String> {
    let item = &args[0];
    let idx = &args[1..];
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let (len, is_str) = match item.value() {
        None | Some(Value::Null) => return Err("slice of untyped nil".into()),
        Some(Value::String(s)) if idx.len() == 3 => {
            let _ = s;
            return Err("cannot 3-index slice a string".into());
        }
        Some(Value::String(s)) => (s.len(), true),
        Some(Value::Array(a)) => (a.len(), false),
        Some(x) => {
            return Err(format!(
                "can't slice item of type {}",
                gofmt::type_name(Some(x))
            ))
        }
    };
    let mut bounds = [0, len, len];
    for (n, i) in idx.iter().enumerate() {
        bounds[n] = index_arg(i, len)?;
    }
    if bounds[0] > bounds[1] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[0], bounds[1]
        ));
    }
    if idx.len() == 3 && bounds[1] > bounds[2] {
        return Err(format!(
            "invalid slice index: {} > {}",
            bounds[1], bounds[2]
        ));
    }
    Ok(match item.value() {
        Some(Value::String(s)) if is_str => {
            let b = &s.as_bytes()[bounds[0]..bounds[1]];
            V::own(Value::String(String::from_utf8_lossy(b).into_owned())).boxed()
        }
        Some(Value::Array(a)) => V::own(Value::Array(a[bounds[0]..bounds[1]].to_vec())).boxed(),
        _ => V::Missing,
    })
}

/// The text of `html`/`js`/`urlquery`'s arguments (Go's evalArgs: no
/// value prints `<no value>` here).
fn escaper_text(args: &[V<'_>]) -> String {
    if let [one] = args {
        if let Some(Value::String(s)) = one.value() {
            return s.clone();
        }
    }
    let marked: Vec<Value> = args
        .iter()
        .map(|a| match a.value() {
            None | Some(Value::Null) => Value::String("<no value>".into()),
            Some(v) => v.clone(),
        })
        .collect();
    gofmt::sprint(&marked.iter().map(Some).collect::<Vec<_>>())
}

fn html(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if c.is_ascii() || gofmt::is_print(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

fn urlquery(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn cmp_error(a: Option<&Value>, b: Option<&Value>) -> String {
    let _ = (a, b);
    "incompatible types for comparison".into()
}

/// Go's `eq arg1 arg2...`: true if arg1 equals any of the others.
fn eq(args: &[V<'_>]) -> Result<bool, String> {
    if args.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    let a = args[0].arg();
    let ka = kind(a);
    for other in &args[1..] {
        let b = other.arg();
        let kb = kind(b);
        let truth = match (ka, kb) {
            (Kind::Int, Kind::Uint) | (Kind::Uint, Kind::Int) => num_i128(a) == num_i128(b),
            _ if ka != kb => {
                if a.is_some() && b.is_some() {
                    return Err(cmp_error(a, b));
                }
                false
            }
            (Kind::Invalid, _) => match (a, b) {
                (None, None) => true,
                (None, _) | (_, None) => false,
                (Some(x), _) => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        gofmt::print_value(Some(x)),
                        gofmt::type_name(Some(x))
                    ))
                }
            },
            (Kind::Float, _) => a.and_then(Value::as_f64) == b.and_then(Value::as_f64),
            _ => a == b,
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn num_i128(v: Option<&Value>) -> Option<i128> {
    let n = v?.as_number()?;
    n.as_i64().map(i128::from).or(n.as_u64().map(i128::from))
}

fn lt(a: &V<'_>, b: &V<'_>) -> Result<bool, String> {
    let (a, b) = (a.arg(), b.arg());
    let (ka, kb) = (kind(a), kind(b));
    if ka == Kind::Invalid || kb == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    match (ka, kb) {
        (Kind::Int, Kind::Uint) | (Kind::Uint, Kind::Int) => Ok(num_i128(a) < num_i128(b)),
        _ if ka != kb => Err(cmp_error(a, b)),
        (Kind::Bool, _) => Err("invalid type for comparison".into()),
        (Kind::Float, _) => Ok(a.and_then(Value::as_f64) < b.and_then(Value::as_f64)),
        (Kind::String, _) => Ok(a.and_then(Value::as_str) < b.and_then(Value::as_str)),
        _ => Ok(num_i128(a) < num_i128(b)),
    }
}

fn split(s: &str, sep: &str) -> Value {
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::String(p.into())).collect()
    };
    Value::Array(parts)
}

fn join(v: &V<'_>, sep: &str) -> String {
    match v.value() {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(sep),
        _ => String::new(),
    }
}

/// Go's `unicode.ToLower`: one rune for one rune.
fn lower_rune(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `unicode.ToUpper`: one rune for one rune (`ß` stays).
fn upper_rune(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `strings.Title`: the first letter of each word upper-cased.
fn title(s: &str) -> String {
    let separator = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphabetic() || c.is_numeric()) && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if separator(prev) { upper_rune(c) } else { c };
            prev = c;
            out
        })
        .collect()
}

fn pad(s: &str, prefix: i64, suffix: i64) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if prefix < 0 || suffix < 0 {
        return Err("strings: negative Repeat count".into());
    }
    Ok(format!(
        "{}{s}{}",
        " ".repeat(prefix as usize),
        " ".repeat(suffix as usize)
    ))
}

fn truncate(s: &str, n: i64) -> Result<String, String> {
    if (s.len() as i64) < n {
        return Ok(s.to_string());
    }
    if n < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{n}]"));
    }
    Ok(String::from_utf8_lossy(&s.as_bytes()[..n as usize]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_helpers() {
        assert_eq!(title("hello wORLD-x_y 3a"), "Hello WORLD-X_y 3a");
        assert_eq!(urlquery("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(
            html(r#"<a href="x">&'"#),
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"
        );
        assert_eq!(js("a'b<\n"), "a\\'b\\u003C\\u000A");
        assert_eq!(pad("x", 2, 1).unwrap(), "  x ");
        assert_eq!(pad("", 2, 1).unwrap(), "");
        assert_eq!(truncate("abcdef", 3).unwrap(), "abc");
        assert_eq!(truncate("ab", 3).unwrap(), "ab");
    }
}
