//! RFC 3339 timestamps (what image configs and `inspect` use) without a
//! date library: UTC only on output; offsets accepted on input.

/// Now, as `2024-05-01T12:34:56.123456789Z`.
pub fn now_rfc3339() -> String {
    let (secs, nanos) = yurta_time::now_parts();
    format_rfc3339(secs, nanos)
}

/// Seconds since the epoch (and nanoseconds) → RFC 3339 in UTC, without
/// a fraction when there is none (image configs' form).
pub fn format_rfc3339(secs: i64, nanos: u32) -> String {
    let full = yurta_time::format(secs, nanos);
    if nanos == 0 {
        format!("{}Z", &full[..19])
    } else {
        full
    }
}

/// RFC 3339 → seconds since the epoch; None when malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    yurta_time::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(1_709_251_200, 5),
            "2024-03-01T00:00:00.000000005Z"
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T00:00:00.000000005Z"),
            Some(1_709_251_200)
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T03:00:00+03:00"),
            Some(1_709_251_200)
        );
        assert_eq!(parse_rfc3339("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2024-03-01T00:00:00"), None);
    }
}
