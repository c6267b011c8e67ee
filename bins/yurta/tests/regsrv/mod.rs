//! Fixtures for the registry server's tests: `yurta registry serve` as a
//! real process on 127.0.0.1 (killed on drop), and a tiny HTTP/1.1 client
//! that shows status, headers and body exactly as sent, for the spec
//! cases and the differential test against docker-registry.

#![allow(dead_code)]

pub mod http;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;
use yurta_testutil::net::{free_port, wait_listening};

/// A `yurta registry serve` child with storage in `dir/data`.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Server {
    /// Serves a fresh storage directory; `extra` goes after `serve`.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("data");
        Server::start_in(dir, &storage, extra)
    }

    /// Serves `storage` (which may be shared with another server or gc).
    pub fn start_in(dir: TempDir, storage: &Path, extra: &[&str]) -> Server {
        let port = free_port();
        let log = fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_yurta"))
            .args(["registry", "serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--storage")
            .arg(storage)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let server = Server { child, port, dir };
        assert!(
            wait_listening(port, Duration::from_secs(20)),
            "yurta registry serve did not listen; log:\n{}",
            server.log()
        );
        server
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `yurta registry gc --storage DIR ARGS`, its stdout.
pub fn gc(storage: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_yurta"))
        .args(["registry", "gc", "--storage"])
        .arg(storage)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// sha256 of `data` as a digest string.
pub fn digest(data: &[u8]) -> String {
    yurta_registry::sha256_digest(data).to_string()
}

/// An `Authorization: Basic` value.
pub fn basic_auth(user: &str, pass: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{user}:{pass}").into_bytes();
    let mut out = String::new();
    for chunk in raw.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}
