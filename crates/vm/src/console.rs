//! The serial console: the unix socket QEMU's first serial port listens
//! on. Reads keep a transcript, so a caller can wait for a line and still
//! show everything the guest printed when it does not come.
//!
//! QEMU serves one client at a time and drops output while none is
//! connected; start QEMU paused and connect before `cont` to see the whole
//! boot ([`crate::cmdline::Resolved::paused`]).

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("connect to serial console {path}: {source}")]
    Connect { path: PathBuf, source: io::Error },
    #[error("serial console {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("serial console: {needle:?} did not appear within {:.1} s; last output: {tail:?}", after.as_secs_f64())]
    Timeout {
        needle: String,
        after: Duration,
        tail: String,
    },
    #[error("serial console: closed before {needle:?} appeared; last output: {tail:?}")]
    Closed { needle: String, tail: String },
}

pub struct Console {
    path: PathBuf,
    stream: UnixStream,
    transcript: Vec<u8>,
    /// Where the next [`Console::read_until`] starts looking.
    cursor: usize,
}

impl Console {
    pub fn connect(path: &Path, timeout: Duration) -> Result<Console, ConsoleError> {
        let stream = crate::sock::connect_retrying(path, timeout).map_err(|source| {
            ConsoleError::Connect {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Console {
            path: path.to_path_buf(),
            stream,
            transcript: Vec::new(),
            cursor: 0,
        })
    }

    /// Everything read so far, lossily decoded.
    pub fn transcript(&self) -> String {
        String::from_utf8_lossy(&self.transcript).into_owned()
    }

    /// Reads until `needle` appears after the previous match and returns
    /// the output up to and including it.
    pub fn read_until(&mut self, needle: &str, timeout: Duration) -> Result<String, ConsoleError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.find(needle) {
                let text = String::from_utf8_lossy(&self.transcript[self.cursor..end]).into_owned();
                self.cursor = end;
                return Ok(text);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ConsoleError::Timeout {
                    needle: needle.into(),
                    after: timeout,
                    tail: self.tail(),
                });
            }
            if !self.read_some(left)? {
                return Err(ConsoleError::Closed {
                    needle: needle.into(),
                    tail: self.tail(),
                });
            }
        }
    }

    /// Types `text` into the guest.
    pub fn write_str(&mut self, text: &str) -> Result<(), ConsoleError> {
        self.stream
            .write_all(text.as_bytes())
            .map_err(|source| self.io(source))
    }

    fn find(&self, needle: &str) -> Option<usize> {
        let hay = &self.transcript[self.cursor..];
        let n = needle.as_bytes();
        hay.windows(n.len())
            .position(|w| w == n)
            .map(|i| self.cursor + i + n.len())
    }

    /// Reads what comes within `wait`; `false` when the socket closed.
    fn read_some(&mut self, wait: Duration) -> Result<bool, ConsoleError> {
        self.stream
            .set_read_timeout(Some(wait))
            .map_err(|source| self.io(source))?;
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.transcript.extend_from_slice(&chunk[..n]);
                Ok(n > 0)
            }
            Err(e) if retry_later(&e) => Ok(true),
            Err(source) => Err(self.io(source)),
        }
    }

    fn tail(&self) -> String {
        let t = self.transcript();
        let start = t.len().saturating_sub(300);
        let start = (start..t.len())
            .find(|&i| t.is_char_boundary(i))
            .unwrap_or(t.len());
        t[start..].to_string()
    }

    fn io(&self, source: io::Error) -> ConsoleError {
        ConsoleError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

fn retry_later(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn waits_for_needles_in_order_and_reports_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let l = UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"booting\nREADY\n$ ").unwrap();
            let mut buf = [0u8; 6];
            s.read_exact(&mut buf).unwrap();
            s.write_all(&buf).unwrap();
            s.write_all(b"hi\n").unwrap();
            std::thread::sleep(Duration::from_millis(400));
        });
        let mut c = Console::connect(&path, Duration::from_secs(2)).unwrap();
        let t = Duration::from_secs(2);
        assert_eq!(c.read_until("READY", t).unwrap(), "booting\nREADY");
        c.write_str("echo \n").unwrap();
        assert!(c.read_until("hi\n", t).unwrap().ends_with("echo \nhi\n"));
        let e = c
            .read_until("READY", Duration::from_millis(100))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "serial console: \"READY\" did not appear within 0.1 s; last output: \"booting\\nREADY\\n$ echo \\nhi\\n\""
        );
        server.join().unwrap();
        let e = c.read_until("never", t).unwrap_err().to_string();
        assert!(
            e.starts_with("serial console: closed before \"never\""),
            "{e}"
        );
    }
}
