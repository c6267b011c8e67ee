//! JSON as Go's encoding/json writes it: object keys sorted, floats in
//! Go's notation, `\b \f \n \r \t` and `\u00XX` escapes, U+2028/U+2029
//! escaped, and `<`, `>`, `&` escaped unless the HTML escaping is off
//! (Docker's `json` template function turns it off; the API's JSON, and
//! so `docker inspect`, keeps it). Indented output is `json.MarshalIndent`'s.

use serde_json::Value;

/// Compact JSON.
pub fn to_string(v: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    write(&mut out, v, escape_html, None, 0);
    out
}

/// JSON indented with `indent` per level (`json.MarshalIndent(v, "", indent)`).
pub fn to_string_indent(v: &Value, indent: &str, escape_html: bool) -> String {
    let mut out = String::new();
    write(&mut out, v, escape_html, Some(indent), 0);
    out
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write(out: &mut String, v: &Value, html: bool, indent: Option<&str>, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (None, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&crate::float::json(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => string(out, s, html),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write(out, x, html, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, x, html, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

fn string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_go() {
        let v = json!({"b": [1, 2.5, "x<y&\u{1}\u{8}\u{2028}"], "a": {}, "c": null, "d": []});
        assert_eq!(
            to_string(&v, false),
            r#"{"a":{},"b":[1,2.5,"x<y&\u0001\b\u2028"],"c":null,"d":[]}"#
        );
        assert_eq!(
            to_string(&json!(["<&>"]), true),
            r#"["\u003c\u0026\u003e"]"#
        );
        assert_eq!(
            to_string_indent(&json!([{"a": [1]}]), "    ", true),
            "[\n    {\n        \"a\": [\n            1\n        ]\n    }\n]"
        );
    }
}
