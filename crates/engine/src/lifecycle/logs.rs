//! A container's json-file log as records: the past (rotated files,
//! oldest first, then the current one; `tail`, `since`, `until`) and, for
//! a follower, what is appended after, until the supervisor that writes
//! the log is gone. The front ends print (the CLI) or frame (the API) the
//! records.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;

use serde::Deserialize;

use super::{state, Paths};
use crate::record::ContainerRecord;

/// One line of the log, as the supervisor wrote it.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// RFC 3339 with nanoseconds.
    pub time: String,
}

impl LogRecord {
    pub fn is_stderr(&self) -> bool {
        self.stream == "stderr"
    }

    /// Seconds and nanoseconds as one sortable number.
    pub fn seconds(&self) -> f64 {
        timestamp(&self.time)
    }
}

/// Which past records to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogQuery {
    /// The last N records only.
    pub tail: Option<usize>,
    /// Records at or after this time (Unix seconds).
    pub since: Option<f64>,
    /// Records at or before this time.
    pub until: Option<f64>,
}

impl LogQuery {
    fn wants(&self, r: &LogRecord) -> bool {
        let t = r.seconds();
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

/// A reader of one container's log.
pub struct Logs {
    path: PathBuf,
    paths: Paths,
    file: Option<fs::File>,
    /// How far the current file has been read (whole lines only).
    pos: u64,
    pending: String,
}

impl Logs {
    pub fn open(root: &std::path::Path, rec: &ContainerRecord) -> Logs {
        Logs {
            path: PathBuf::from(&rec.log_path),
            paths: Paths::new(root, &rec.id),
            file: None,
            pos: 0,
            pending: String::new(),
        }
    }

    /// The records written so far that `q` wants.
    pub fn past(&mut self, q: &LogQuery) -> io::Result<Vec<LogRecord>> {
        let mut lines = Vec::new();
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        for n in (1..100).rev() {
            let rotated = self.path.with_file_name(format!("{name}.{n}"));
            if let Ok(t) = fs::read_to_string(&rotated) {
                lines.extend(t.lines().map(str::to_string));
            }
        }
        self.file = fs::File::open(&self.path).ok();
        let mut text = String::new();
        if let Some(f) = self.file.as_mut() {
            f.read_to_string(&mut text)?;
        }
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        lines.extend(text[..complete].lines().map(str::to_string));
        self.pos = complete as u64;
        let records: Vec<LogRecord> = lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|r| q.wants(r))
            .collect();
        let skip = q.tail.map_or(0, |t| records.len().saturating_sub(t));
        Ok(records[skip..].to_vec())
    }

    /// Whether the log may still grow: the container's supervisor runs.
    pub fn writer_alive(&self) -> bool {
        state::supervisor_alive(&self.paths)
    }

    /// The whole records appended since the last call (or [`Logs::past`]);
    /// a rotation starts over at the new file.
    pub fn more(&mut self) -> io::Result<Vec<LogRecord>> {
        if self.file.is_none() {
            self.file = fs::File::open(&self.path).ok();
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        if f.metadata()?.len() < self.pos {
            self.pos = 0;
            *f = fs::File::open(&self.path)?;
        }
        f.seek(SeekFrom::Start(self.pos))?;
        let mut more = String::new();
        self.pos += f.read_to_string(&mut more)? as u64;
        self.pending.push_str(&more);
        let mut out = Vec::new();
        while let Some(i) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=i).collect();
            if let Ok(r) = serde_json::from_str(&line) {
                out.push(r);
            }
        }
        Ok(out)
    }
}

/// An RFC 3339 time with a fraction as seconds.
fn timestamp(t: &str) -> f64 {
    let secs = yurta_time::parse(t).unwrap_or(0) as f64;
    let frac = t
        .split_once('.')
        .map(|(_, f)| f.trim_end_matches('Z'))
        .and_then(|f| format!("0.{f}").parse::<f64>().ok())
        .unwrap_or(0.0);
    secs + frac
}

/// `since`/`until` as Docker takes them: RFC 3339, Unix seconds (with a
/// fraction), or a duration before `now` (`10s`, `5m`, `2h`). None when
/// it is none of these.
pub fn time_arg(s: &str, now: f64) -> Option<f64> {
    if let Some(t) = yurta_time::parse(s) {
        return Some(t as f64);
    }
    if let Ok(t) = s.parse::<f64>() {
        return Some(t);
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    num.parse::<f64>().ok().map(|n| now - n * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: &str) -> LogRecord {
        LogRecord {
            log: "x\n".into(),
            stream: "stdout".into(),
            time: time.into(),
        }
    }

    #[test]
    fn times_parse_as_docker_takes_them() {
        assert_eq!(time_arg("1700000000", 0.0), Some(1_700_000_000.0));
        assert_eq!(time_arg("1700000000.5", 0.0), Some(1_700_000_000.5));
        assert_eq!(time_arg("10s", 100.0), Some(90.0));
        assert_eq!(time_arg("2m", 1000.0), Some(880.0));
        assert_eq!(time_arg("1970-01-01T00:01:00Z", 0.0), Some(60.0));
        assert_eq!(time_arg("yesterday", 0.0), None);
    }

    #[test]
    fn queries_select_by_time() {
        let q = LogQuery {
            since: Some(60.5),
            until: Some(120.0),
            tail: None,
        };
        assert!(!q.wants(&record("1970-01-01T00:01:00.25Z")));
        assert!(q.wants(&record("1970-01-01T00:01:00.75Z")));
        assert!(!q.wants(&record("1970-01-01T00:02:00.5Z")));
    }
}
