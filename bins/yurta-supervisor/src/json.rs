//! The little JSON the supervisor writes (log records, the exit file, sync
//! messages) and RFC 3339 timestamps, without serde: appending to a reused
//! buffer allocates nothing once the buffer has grown.

/// Appends `s` as a JSON string body (no quotes). Invalid UTF-8 becomes
/// U+FFFD, as Docker's json-file driver does.
pub fn escape(out: &mut Vec<u8>, mut s: &[u8]) {
    loop {
        match std::str::from_utf8(s) {
            Ok(valid) => {
                escape_str(out, valid);
                return;
            }
            Err(e) => {
                let (valid, rest) = s.split_at(e.valid_up_to());
                // SAFETY: from_utf8 reported this prefix as valid UTF-8.
                escape_str(out, unsafe { std::str::from_utf8_unchecked(valid) });
                out.extend_from_slice("\u{fffd}".as_bytes());
                let skip = e.error_len().unwrap_or(rest.len()).max(1);
                s = &rest[skip.min(rest.len())..];
            }
        }
    }
}

fn escape_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
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
}

/// Length of an RFC 3339 UTC time with nanoseconds: 2006-01-02T15:04:05.000000000Z.
pub const TIME_LEN: usize = yurta_time::FIXED_LEN;

/// Formats (seconds, nanoseconds) since the epoch as RFC 3339 UTC with
/// nine fractional digits, without allocating.
pub fn rfc3339(secs: i64, nanos: u32) -> [u8; TIME_LEN] {
    yurta_time::format_fixed(secs, nanos)
}

/// Appends the decimal form of `v`.
pub fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &[u8]) -> String {
        let mut v = Vec::new();
        escape(&mut v, s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_like_json() {
        assert_eq!(esc(b"a\"b\\c\n\t\x01"), "a\\\"b\\\\c\\n\\t\\u0001");
        assert_eq!(esc("é ok".as_bytes()), "é ok");
        assert_eq!(esc(b"a\xffb"), "a\u{fffd}b");
        assert_eq!(esc(b"a\xe2\x82"), "a\u{fffd}");
    }

    #[test]
    fn formats_times() {
        let t = rfc3339(0, 0);
        assert_eq!(&t, b"1970-01-01T00:00:00.000000000Z");
        let t = rfc3339(1_709_210_096, 123_456_789); // a leap day
        assert_eq!(&t, b"2024-02-29T12:34:56.123456789Z");
        let t = rfc3339(4_102_444_799, 999_999_999);
        assert_eq!(&t, b"2099-12-31T23:59:59.999999999Z");
    }

    #[test]
    fn formats_ints() {
        let mut v = Vec::new();
        push_int(&mut v, -137);
        push_int(&mut v, 0);
        assert_eq!(v, b"-1370");
    }
}
