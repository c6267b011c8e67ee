//! Docker's human-readable sizes and ages, and table printing.

use std::time::{SystemTime, UNIX_EPOCH};

/// Decimal units with three significant digits: `4.26MB`, `812kB`, `0B`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let text = if unit == 0 {
        format!("{bytes}")
    } else {
        format!("{v:.digits$}")
    };
    format!("{}{}", trim_zeros(&text), UNITS[unit])
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `About an hour ago`, `3 days ago`, as `docker images` prints.
pub fn ago(epoch_secs: i64) -> String {
    if epoch_secs == 0 {
        return "N/A".to_string();
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format!("{} ago", duration(now.saturating_sub(epoch_secs).max(0)))
}

/// go-units' HumanDuration.
pub fn duration(secs: i64) -> String {
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86_400);
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if (h as f64 + 0.5) as i64 == 1 && h < 2 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{d} days"),
        _ if h < 24 * 30 * 2 => format!("{} weeks", d / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", d / 30),
        _ => format!("{} years", d / 365),
    }
}

/// Prints rows as left-aligned columns separated by three spaces (the
/// last column unpadded), the way Docker's tabwriter does.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == last {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        println!("{}", parts.join("   ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

/// A 12-digit ID unless `no_trunc` (Docker's short IDs drop `sha256:`).
pub fn id(full: &str, no_trunc: bool) -> String {
    if no_trunc {
        return full.to_string();
    }
    let hex = full.strip_prefix("sha256:").unwrap_or(full);
    hex.chars().take(12).collect()
}

/// `2024-03-01 00:00:00 +0000 UTC` (Docker's CreatedAt).
pub fn created_at(epoch_secs: i64) -> String {
    let t = yurta_images::time::format_rfc3339(epoch_secs, 0);
    format!(
        "{} +0000 UTC",
        t.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(999), "999B");
        assert_eq!(size(1000), "1kB");
        assert_eq!(size(4_261_000), "4.26MB");
        assert_eq!(size(12_345_678), "12.3MB");
        assert_eq!(size(123_456_789), "123MB");
        assert_eq!(size(1_500_000_000), "1.5GB");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(duration(0), "Less than a second");
        assert_eq!(duration(45), "45 seconds");
        assert_eq!(duration(90), "About a minute");
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(3700), "About an hour");
        assert_eq!(duration(3 * 3600), "3 hours");
        assert_eq!(duration(3 * 86_400), "3 days");
        assert_eq!(duration(21 * 86_400), "3 weeks");
        assert_eq!(duration(100 * 86_400), "3 months");
        assert_eq!(duration(800 * 86_400), "2 years");
        assert_eq!(created_at(1_709_251_200), "2024-03-01 00:00:00 +0000 UTC");
        assert_eq!(id("sha256:0123456789abcdef", false), "0123456789ab");
    }
}
