//! RFC 3339 timestamps in UTC (what OCI state, image configs and Docker's
//! `inspect` use) and the civil calendar under them, with no dependency:
//! the per-container supervisor links this too, and formats without
//! allocating ([`format_fixed`]).

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of [`format_fixed`]'s output: `2006-01-02T15:04:05.000000000Z`.
pub const FIXED_LEN: usize = 30;

/// Seconds and nanoseconds since the epoch, now.
pub fn now_parts() -> (i64, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

/// Now, as `2024-05-01T12:34:56.123456789Z` (nine fractional digits).
pub fn now() -> String {
    let (secs, nanos) = now_parts();
    format(secs, nanos)
}

/// Seconds and nanoseconds since the epoch as RFC 3339 in UTC with nine
/// fractional digits (runc's and Docker's form).
pub fn format(secs: i64, nanos: u32) -> String {
    String::from_utf8_lossy(&format_fixed(secs, nanos)).into_owned()
}

/// [`format`] into a fixed buffer, without allocating.
pub fn format_fixed(secs: i64, nanos: u32) -> [u8; FIXED_LEN] {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let mut out = *b"0000-00-00T00:00:00.000000000Z";
    put(&mut out[0..4], y as u64);
    put(&mut out[5..7], m.into());
    put(&mut out[8..10], d.into());
    put(&mut out[11..13], (rem / 3600) as u64);
    put(&mut out[14..16], (rem / 60 % 60) as u64);
    put(&mut out[17..19], (rem % 60) as u64);
    put(&mut out[20..29], nanos.into());
    out
}

/// Writes `v` as zero-padded decimal filling `dst`.
fn put(dst: &mut [u8], mut v: u64) {
    for b in dst.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// RFC 3339 (any offset, any fraction) → seconds since the epoch; None
/// when malformed.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(format(1_795_000_000, 5), "2026-11-18T11:06:40.000000005Z");
        assert_eq!(&format(951_782_400, 0)[..10], "2000-02-29");
        assert_eq!(&format(-86_400, 0)[..10], "1969-12-31");
        assert!(now().ends_with('Z') && now().len() == FIXED_LEN);
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(parse("2024-03-01T00:00:00.000000005Z"), Some(1_709_251_200));
        assert_eq!(parse("2024-03-01T03:00:00+03:00"), Some(1_709_251_200));
        assert_eq!(parse("2024-02-29T23:59:59Z"), Some(1_709_251_199));
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2024-03-01T00:00:00"), None);
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m.into(), d.into()), days, "{y}-{m}-{d}");
        }
    }
}
