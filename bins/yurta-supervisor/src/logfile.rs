//! The container's log in Docker's json-file format: one JSON object per
//! line, `{"log":"...\n","stream":"stdout","time":"RFC3339Nano"}`, rotated
//! by size into `file.1` ... `file.(N-1)`. Owns the log file only; output
//! streams are split into lines by `Lines`.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::{json, sys, Error};

/// Which output a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static [u8] {
        match self {
            Stream::Stdout => b"stdout",
            Stream::Stderr => b"stderr",
        }
    }
}

pub struct LogFile {
    path: PathBuf,
    /// Rotate before a record would make the file larger; 0 = never.
    max_size: u64,
    /// Files kept, counting the current one (at least 1).
    max_files: u32,
    file: Option<File>,
    size: u64,
    /// The record being written, reused so that logging does not allocate.
    record: Vec<u8>,
}

impl LogFile {
    pub fn open(path: &Path, max_size: u64, max_files: u32) -> Result<Self, Error> {
        let mut log = LogFile {
            path: path.to_path_buf(),
            max_size,
            max_files: max_files.max(1),
            file: None,
            size: 0,
            record: Vec::with_capacity(1024),
        };
        log.reopen(false)?;
        Ok(log)
    }

    fn reopen(&mut self, truncate: bool) -> Result<(), Error> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .truncate(false)
            .mode(0o640)
            .open(&self.path)
            .map_err(|e| Error(format!("opening log file {}: {e}", self.path.display())))?;
        if truncate {
            let _ = file.set_len(0);
        }
        self.size = file.metadata().map(|m| m.len()).unwrap_or(0);
        self.file = Some(file);
        Ok(())
    }

    /// Shrinks the record buffer a long line grew (when going idle).
    pub fn release(&mut self) {
        self.record.shrink_to(1024);
    }

    /// Writes one record for `line` (with its trailing newline, or without
    /// one for a partial line).
    pub fn write(&mut self, stream: Stream, line: &[u8]) {
        let (secs, nanos) = sys::now();
        let r = &mut self.record;
        r.clear();
        r.extend_from_slice(b"{\"log\":\"");
        json::escape(r, line);
        r.extend_from_slice(b"\",\"stream\":\"");
        r.extend_from_slice(stream.name());
        r.extend_from_slice(b"\",\"time\":\"");
        r.extend_from_slice(&json::rfc3339(secs, nanos));
        r.extend_from_slice(b"\"}\n");
        let len = r.len() as u64;
        if self.max_size > 0 && self.size > 0 && self.size + len > self.max_size {
            self.rotate();
        }
        let Some(file) = &self.file else { return };
        // A full disk loses log records, never the container.
        if sys::write_all(file.as_raw_fd(), &self.record).is_ok() {
            self.size += len;
        }
    }

    /// file.(N-2) -> file.(N-1), ..., file -> file.1, then a new empty file.
    fn rotate(&mut self) {
        self.file = None;
        for i in (1..self.max_files).rev() {
            let from = if i == 1 {
                self.path.clone()
            } else {
                numbered(&self.path, i - 1)
            };
            let _ = std::fs::rename(from, numbered(&self.path, i));
        }
        // With max_files 1 nothing was renamed: start the file over.
        let _ = self.reopen(self.max_files == 1);
    }
}

fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Bytes of a line kept before it is written as a partial record (Docker: 16 KiB).
pub const LINE_MAX: usize = 16 * 1024;

/// One output stream's unfinished line.
pub struct Lines {
    pub stream: Stream,
    buf: Vec<u8>,
    used: usize,
}

impl Lines {
    /// The buffer is allocated when output first arrives.
    pub fn new(stream: Stream) -> Self {
        Lines {
            stream,
            buf: Vec::new(),
            used: 0,
        }
    }

    /// Frees the buffer if no unfinished line is in it (when going idle).
    pub fn release(&mut self) {
        if self.used == 0 {
            self.buf = Vec::new();
        }
    }

    /// Where the next read goes: at most `max` bytes after the unfinished line.
    pub fn spare(&mut self, max: usize) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = vec![0; LINE_MAX];
        }
        let end = (self.used + max).min(LINE_MAX);
        &mut self.buf[self.used..end]
    }

    /// The last `n` bytes read into `spare` (for attach clients).
    pub fn fresh(&self, n: usize) -> &[u8] {
        &self.buf[self.used..self.used + n]
    }

    /// Accounts for `n` bytes read into `spare` and logs every complete
    /// line; a full buffer is logged as a partial line.
    pub fn commit(&mut self, n: usize, log: &mut Option<LogFile>) {
        let start_scan = self.used;
        self.used += n;
        let mut start = 0;
        for i in start_scan..self.used {
            if self.buf[i] == b'\n' {
                if let Some(log) = log {
                    log.write(self.stream, &self.buf[start..=i]);
                }
                start = i + 1;
            }
        }
        if start > 0 {
            self.buf.copy_within(start..self.used, 0);
            self.used -= start;
        }
        if self.used == LINE_MAX {
            self.flush(log);
        }
    }

    /// Logs what is left of a line (at end of output, or when it is too long).
    pub fn flush(&mut self, log: &mut Option<LogFile>) {
        if self.used > 0 {
            if let Some(log) = log {
                log.write(self.stream, &self.buf[..self.used]);
            }
            self.used = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn splits_lines_and_flushes_partials() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = Some(LogFile::open(&path, 0, 1).unwrap());
        let mut lines = Lines::new(Stream::Stderr);
        for chunk in [&b"one\ntw"[..], b"o\n", b"three"] {
            let n = chunk.len();
            lines.spare(n).copy_from_slice(chunk);
            lines.commit(n, &mut log);
        }
        lines.flush(&mut log);
        let got = read_lines(&path);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with(r#"{"log":"one\n","stream":"stderr","time":""#));
        assert!(got[1].starts_with(r#"{"log":"two\n","#));
        assert!(got[2].starts_with(r#"{"log":"three","#));
    }

    #[test]
    fn long_lines_become_partial_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = Some(LogFile::open(&path, 0, 1).unwrap());
        let mut lines = Lines::new(Stream::Stdout);
        let mut left = LINE_MAX + 10;
        while left > 0 {
            let spare = lines.spare(4096);
            let n = spare.len().min(left);
            spare[..n].fill(b'x');
            lines.commit(n, &mut log);
            left -= n;
        }
        lines.flush(&mut log);
        let got = read_lines(&path);
        assert_eq!(got.len(), 2);
        assert!(got[0].contains(&"x".repeat(LINE_MAX)));
    }

    #[test]
    fn rotates_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogFile::open(&path, 300, 3).unwrap();
        for i in 0..40 {
            log.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        assert!(path.exists() && numbered(&path, 1).exists() && numbered(&path, 2).exists());
        assert!(!numbered(&path, 3).exists());
        for p in [path.clone(), numbered(&path, 1), numbered(&path, 2)] {
            assert!(std::fs::metadata(&p).unwrap().len() <= 300);
        }
        assert!(read_lines(&path).last().unwrap().contains("line 39"));
    }

    #[test]
    fn one_file_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = LogFile::open(&path, 200, 1).unwrap();
        for i in 0..20 {
            log.write(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        assert!(std::fs::metadata(&path).unwrap().len() <= 200);
        assert!(!numbered(&path, 1).exists());
    }
}
