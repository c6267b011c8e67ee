//! One event as one journal line, JSON written by hand (no serde: the
//! supervisor links this).

/// An event: Docker's `Type`, `Action` and `Actor` (`ID`, `Attributes`).
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// `container`, `image`, `network`, `volume`, `vm`.
    pub kind: &'a str,
    /// `create`, `start`, `die`, `pull`, `connect`, ...
    pub action: &'a str,
    /// The object's ID (an image's reference for pull and tag, as Docker).
    pub id: &'a str,
    /// Docker's `Actor.Attributes` (name, image, exitCode, labels, ...).
    pub attributes: &'a [(&'a str, &'a str)],
}

impl Event<'_> {
    /// `{"timeNano":N,"Type":..,"Action":..,"Actor":{"ID":..,"Attributes":{..}}}`
    /// and a newline; attributes sorted by key, a repeated key once (the
    /// first given wins).
    pub fn line(&self, time_nano: i64) -> Vec<u8> {
        let mut attrs: Vec<&(&str, &str)> = self.attributes.iter().collect();
        attrs.sort_by_key(|(k, _)| *k);
        attrs.dedup_by_key(|(k, _)| *k);
        let mut out = Vec::with_capacity(160 + self.id.len() + 40 * attrs.len());
        out.extend_from_slice(crate::LINE_START.as_bytes());
        out.extend_from_slice(time_nano.to_string().as_bytes());
        out.extend_from_slice(b",\"Type\":");
        json_string(&mut out, self.kind);
        out.extend_from_slice(b",\"Action\":");
        json_string(&mut out, self.action);
        out.extend_from_slice(b",\"Actor\":{\"ID\":");
        json_string(&mut out, self.id);
        out.extend_from_slice(b",\"Attributes\":{");
        for (i, (k, v)) in attrs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(&mut out, k);
            out.push(b':');
            json_string(&mut out, v);
        }
        out.extend_from_slice(b"}}}\n");
        out
    }
}

/// Appends `s` as a quoted JSON string.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_docker_shaped_json_with_sorted_attributes() {
        let e = Event {
            kind: "container",
            action: "die",
            id: "abc",
            attributes: &[("name", "we\"b\n"), ("exitCode", "0"), ("name", "x")],
        };
        let line = String::from_utf8(e.line(1_700_000_000_123_456_789)).unwrap();
        assert_eq!(
            line,
            "{\"timeNano\":1700000000123456789,\"Type\":\"container\",\"Action\":\"die\",\
             \"Actor\":{\"ID\":\"abc\",\"Attributes\":{\"exitCode\":\"0\",\"name\":\"we\\\"b\\n\"}}}\n"
        );
        assert!(line.starts_with(crate::LINE_START));
    }

    #[test]
    fn control_bytes_are_escaped() {
        let mut out = Vec::new();
        json_string(&mut out, "a\u{1}\\");
        assert_eq!(out, b"\"a\\u0001\\\\\"");
    }
}
