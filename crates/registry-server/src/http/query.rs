//! Query strings: `k=v&k=v`, percent-decoded (`+` is a space).

/// The pairs of a query string, in order.
pub fn parse(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Percent-encodes a query value (for `Link` headers).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for c in s.bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            out += &format!("%{c:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded() {
        let q = parse("digest=sha256%3Aab&n=2&flag&x=a+b&bad=%zz&end=%4&u=%\u{e9}");
        assert_eq!(q[0], ("digest".into(), "sha256:ab".into()));
        assert_eq!(q[1], ("n".into(), "2".into()));
        assert_eq!(q[2], ("flag".into(), String::new()));
        assert_eq!(q[3].1, "a b");
        assert_eq!(q[4].1, "%zz");
        assert_eq!(q[5].1, "%4");
        assert_eq!(encode("a/b:c"), "a%2Fb%3Ac");
    }
}
