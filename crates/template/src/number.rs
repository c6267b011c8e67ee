//! Constants as Go reads them: numbers (`strconv.ParseInt`/`ParseUint`
//! with base prefixes and `_`, `ParseFloat` including hex floats),
//! character constants and quoted strings (`strconv.Unquote`).

use crate::ast::Number;

/// A number's text to the types it can stand for (Go's `newNumber`).
pub(crate) fn parse(text: &str) -> Result<Number, String> {
    if text.ends_with('i') {
        return Err(format!("complex constants are not supported: {text}"));
    }
    let mut n = Number {
        text: text.to_string(),
        int: parse_int(text),
        uint: parse_uint(text),
        float: None,
    };
    if n.int == Some(0) {
        n.uint = Some(0);
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gofmt::quote(text)));
        }
        n.float = Some(f);
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            n.int = Some(f as i64);
        }
        if f.fract() == 0.0 && f >= 0.0 && f < u64::MAX as f64 {
            n.uint = Some(f as u64);
        }
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(format!(
            "illegal number syntax: {}",
            crate::gofmt::quote(text)
        ));
    }
    Ok(n)
}

/// `'x'`, `'\n'`, `'\u00e9'`: an integer constant.
pub(crate) fn char_const(text: &str) -> Result<Number, String> {
    let inner = &text[1..];
    let mut chars = inner.chars();
    let c = match chars.next() {
        Some('\\') => match unescape(&mut chars, '\'') {
            Ok(Unescaped::Char(c)) => c as u32,
            Ok(Unescaped::Byte(b)) => u32::from(b),
            Err(()) => return Err("invalid syntax".into()),
        },
        Some('\'') | None => return Err("invalid syntax".into()),
        Some(c) => c as u32,
    };
    if chars.as_str() != "'" {
        return Err(format!("malformed character constant: {text}"));
    }
    Ok(Number {
        text: text.to_string(),
        int: Some(i64::from(c)),
        uint: Some(u64::from(c)),
        float: Some(f64::from(c)),
    })
}

/// Go's underscoreOK: `_` only between digits (a base prefix counts as one).
fn underscores_ok(s: &str) -> bool {
    let b = s.trim_start_matches(['+', '-']).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'x' | b'o' | b'b') {
        hex = b[1] | 0x20 == b'x';
        i = 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Digits and base of an integer literal (sign removed, `_` checked).
fn int_parts(s: &str) -> Option<(&str, u32)> {
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    let lower = |p: &str| s.len() > 2 && s[..2].eq_ignore_ascii_case(p);
    let (digits, radix) = if lower("0x") {
        (&s[2..], 16)
    } else if lower("0o") {
        (&s[2..], 8)
    } else if lower("0b") {
        (&s[2..], 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    (!digits.is_empty()).then_some((digits, radix))
}

fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    let (digits, radix) = int_parts(s)?;
    let d: String = digits.chars().filter(|c| *c != '_').collect();
    if d.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&d, radix).ok()
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            return Some((u as i64).wrapping_neg());
        }
        return None;
    }
    i64::try_from(u).ok()
}

fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    let t: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t.as_str()),
    };
    let v = if body.len() > 2 && body[..2].eq_ignore_ascii_case("0x") {
        hex_float(&body[2..])?
    } else {
        if !body
            .bytes()
            .all(|c| c.is_ascii_digit() || b".eE+-".contains(&c))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// `1.8p1` (after `0x`): Go requires the `p` exponent.
fn hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

enum Unescaped {
    Char(char),
    Byte(u8),
}

/// One escape after its backslash.
fn unescape(chars: &mut std::str::Chars<'_>, quote: char) -> Result<Unescaped, ()> {
    let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Result<u32, ()> {
        let mut v = 0;
        for _ in 0..n {
            v = v * 16 + chars.next().and_then(|c| c.to_digit(16)).ok_or(())?;
        }
        Ok(v)
    };
    let c = chars.next().ok_or(())?;
    let simple = match c {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        '\'' | '"' if c == quote => c,
        'x' => return Ok(Unescaped::Byte(hex(chars, 2)? as u8)),
        'u' => {
            return char::from_u32(hex(chars, 4)?)
                .map(Unescaped::Char)
                .ok_or(())
        }
        'U' => {
            return char::from_u32(hex(chars, 8)?)
                .map(Unescaped::Char)
                .ok_or(())
        }
        '0'..='7' => {
            let mut v = c.to_digit(8).ok_or(())?;
            for _ in 0..2 {
                v = v * 8 + chars.next().and_then(|c| c.to_digit(8)).ok_or(())?;
            }
            return u8::try_from(v).map(Unescaped::Byte).map_err(|_| ());
        }
        _ => return Err(()),
    };
    Ok(Unescaped::Char(simple))
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` ``.
pub(crate) fn unquote(s: &str) -> Result<String, ()> {
    if s.len() < 2 {
        return Err(());
    }
    let inner = &s[1..s.len() - 1];
    if s.starts_with('`') && s.ends_with('`') {
        if inner.contains('`') {
            return Err(());
        }
        return Ok(inner.replace('\r', ""));
    }
    if !(s.starts_with('"') && s.ends_with('"')) {
        return Err(());
    }
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match unescape(&mut chars, '"')? {
                Unescaped::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                Unescaped::Byte(b) => out.push(b),
            },
            '"' | '\n' => return Err(()),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_go() {
        let n = parse("0x1F").unwrap();
        assert_eq!((n.int, n.uint, n.float), (Some(31), Some(31), Some(31.0)));
        assert_eq!(parse("-0b101").unwrap().int, Some(-5));
        assert_eq!(parse("0755").unwrap().int, Some(493));
        assert_eq!(parse("1_000").unwrap().int, Some(1000));
        let f = parse("1.5e3").unwrap();
        assert_eq!((f.int, f.float), (Some(1500), Some(1500.0)));
        assert_eq!(parse("0x1.8p1").unwrap().float, Some(3.0));
        let big = parse("18446744073709551615").unwrap();
        assert_eq!((big.int, big.uint), (None, Some(u64::MAX)));
        assert!(parse("99999999999999999999")
            .unwrap_err()
            .starts_with("integer overflow"));
        assert!(parse("1__0")
            .unwrap_err()
            .starts_with("illegal number syntax"));
        assert!(parse("-").is_err());
        assert_eq!(char_const("'a'").unwrap().int, Some(97));
        assert_eq!(char_const(r"'\n'").unwrap().int, Some(10));
        assert_eq!(char_const(r"'\u00e9'").unwrap().int, Some(0xe9));
        assert!(char_const("'ab'").unwrap_err().starts_with("malformed"));
    }

    #[test]
    fn unquotes_like_go() {
        assert_eq!(unquote(r#""a\tb\"c\x41\101\u00e9""#).unwrap(), "a\tb\"cAAé");
        assert_eq!(unquote("`a\\n`").unwrap(), "a\\n");
        assert!(unquote(r#""\q""#).is_err());
        assert!(unquote(r#""\'""#).is_err());
    }
}
