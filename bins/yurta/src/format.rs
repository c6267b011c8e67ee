//! Docker's human-readable sizes and ages, its tables, and `--format`:
//! every command renders through [`yurta_template`] (Go's template
//! language, Docker's `table`/`json` conventions), so a format means the
//! same everywhere.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
pub use yurta_template::docker::{Format, Row};

pub use yurta_template::docker::{bytes_iec, human_size};

/// Docker's sizes in lists (3 significant digits).
pub fn size(bytes: u64) -> String {
    human_size(bytes as f64, 3)
}

/// go-units' `HumanSize` (4 significant digits), as `system df` prints.
pub fn size4(bytes: u64) -> String {
    human_size(bytes as f64, 4)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `About an hour ago`, `3 days ago`, as `docker images` prints.
pub fn ago(epoch_secs: i64) -> String {
    if epoch_secs == 0 {
        return "N/A".to_string();
    }
    format!("{} ago", duration(now().saturating_sub(epoch_secs).max(0)))
}

/// go-units' HumanDuration.
pub fn duration(secs: i64) -> String {
    yurta_engine::summary::human_duration(secs)
}

/// Prints rows as Docker's tabwriter aligns them (minimum width 10,
/// padding 3, the last column unpadded).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Result<(), crate::out::StdoutError> {
    let mut text = String::new();
    for line in
        std::iter::once(header.iter().map(|h| h.to_string()).collect()).chain(rows.iter().cloned())
    {
        let line: Vec<String> = line;
        text.push_str(&line.join("\t"));
        text.push('\n');
    }
    out!("{}", yurta_template::tabwriter::align(&text, 10, 3))
}

/// Prints a list the way the Docker CLI does for `format` (see
/// [`yurta_template::docker`]); `headers` maps the fields to their
/// column names.
pub fn list(format: &Format, rows: &[Row<'_>], headers: &[(&str, &str)]) -> anyhow::Result<()> {
    let text = yurta_template::docker::render_list(format, rows, headers)?;
    out!("{text}")?;
    Ok(())
}

/// Prints `inspect`'s output: the JSON array (indented as Docker's), or
/// `format` executed over each item.
pub fn inspect(format: Option<&str>, items: &[Value]) -> anyhow::Result<()> {
    let text = yurta_template::docker::render_inspect(format, items)?;
    out!("{text}")?;
    Ok(())
}

/// One value through `--format` as `docker version` and `docker info`
/// render theirs: `json` is the value as JSON, anything else a template
/// over it. No trailing newline.
pub fn render(format: &str, data: &Value) -> anyhow::Result<String> {
    Ok(yurta_template::render(format, data)?)
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

/// Go's `time.Time.String()` of an RFC 3339 UTC time:
/// `2024-03-01 10:00:00.5 +0000 UTC`.
pub fn go_time(rfc3339: &str) -> String {
    let t = rfc3339.trim_end_matches('Z').replacen('T', " ", 1);
    let t = match t.split_once('.') {
        Some((secs, frac)) if frac.trim_end_matches('0').is_empty() => secs.to_string(),
        Some((secs, frac)) => format!("{secs}.{}", frac.trim_end_matches('0')),
        None => t,
    };
    format!("{t} +0000 UTC")
}

/// Docker's `Ellipsis`: at most `max` characters, the last one `…`.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `k=v,k2=v2`, sorted (Docker's `.Labels` of lists).
pub fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    l.join(",")
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
        assert_eq!(size(999_500), "1e+03kB");
        assert_eq!(size4(16_434_000), "16.43MB");
        assert_eq!(bytes_iec(1_572_864), "1.5MiB");
        assert_eq!(bytes_iec(8_237_764_608), "7.672GiB");
        assert_eq!(bytes_iec(512), "512B");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(duration(0), "Less than a second");
        assert_eq!(duration(45), "45 seconds");
        assert_eq!(duration(90), "About a minute");
        assert_eq!(duration(600), "10 minutes");
        assert_eq!(duration(3700), "About an hour");
        assert_eq!(duration(5399), "About an hour");
        assert_eq!(duration(5400), "2 hours");
        assert_eq!(duration(3 * 3600), "3 hours");
        assert_eq!(duration(3 * 86_400), "3 days");
        assert_eq!(duration(21 * 86_400), "3 weeks");
        assert_eq!(duration(100 * 86_400), "3 months");
        assert_eq!(duration(800 * 86_400), "2 years");
        assert_eq!(created_at(1_709_251_200), "2024-03-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time("2024-03-01T10:00:00.500000Z"),
            "2024-03-01 10:00:00.5 +0000 UTC"
        );
        assert_eq!(
            go_time("2024-03-01T10:00:00Z"),
            "2024-03-01 10:00:00 +0000 UTC"
        );
        assert_eq!(id("sha256:0123456789abcdef", false), "0123456789ab");
        assert_eq!(
            ellipsis("sh -c 'echo hello; sleep 1000'", 20),
            "sh -c 'echo hello; …"
        );
    }
}
