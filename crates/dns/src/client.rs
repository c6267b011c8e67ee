//! The `yurta` CLI's side of the resolver: [`sync`] asks the root's
//! resolver to reread the records now and to serve the namespace the
//! caller names, starting the resolver if it is not running.
//!
//! The control socket is an abstract unix socket named after the device
//! and inode of `<root>/networks` (`yurta-dns/DEV:INO`): nothing to
//! remove after a kill -9, and unique per root on the host. Requests from
//! users other than root (and the resolver's own) are ignored.

use std::io::{BufRead, BufReader, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("start the DNS resolver {bin}: {source}")]
    Spawn {
        bin: PathBuf,
        source: std::io::Error,
    },
    #[error("start the DNS resolver {bin}: {status}: {stderr}")]
    Failed {
        bin: PathBuf,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("the DNS resolver of {root} did not answer")]
    NoAnswer { root: PathBuf },
    #[error("DNS resolver: {0}")]
    Resolver(String),
    #[error("DNS resolver control socket of {root}: {source}")]
    Io {
        root: PathBuf,
        source: std::io::Error,
    },
}

/// Whether [`sync`] may start the resolver.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// Yes, with this `yurta-dns` binary.
    With(&'a Path),
    /// No: nothing to do when none runs (after a container left).
    No,
}

/// The control socket's address for `root`.
pub fn socket_addr(root: &Path) -> std::io::Result<SocketAddr> {
    let m = std::fs::metadata(root.join("networks"))?;
    SocketAddr::from_abstract_name(format!("yurta-dns/{}:{}", m.dev(), m.ino()))
}

/// At most this many starts per call (a resolver that exits right away
/// because it saw no container, a keeper that gave up).
const STARTS: usize = 3;
const ATTEMPTS: usize = 20;

/// Asks the resolver of `root` to reread the records, and to serve the
/// namespace file `netns` (an error if it cannot).
pub fn sync(root: &Path, netns: Option<&Path>, start: Start) -> Result<(), ClientError> {
    let io = |source| ClientError::Io {
        root: root.to_path_buf(),
        source,
    };
    let addr = match socket_addr(root) {
        Ok(a) => a,
        Err(_) if matches!(start, Start::No) => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let mut starts = 0;
    for attempt in 0..ATTEMPTS {
        match UnixStream::connect_addr(&addr) {
            Ok(s) => {
                check_owner(&s, root)?;
                if let Some(reply) = exchange(s, netns) {
                    return match reply.strip_prefix("error ") {
                        Some(e) => Err(ClientError::Resolver(e.to_string())),
                        None => Ok(()),
                    };
                }
                // Closed without a reply: it was exiting, or its worker died.
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => match start {
                Start::No => return Ok(()),
                Start::With(bin) if starts < STARTS => {
                    starts += 1;
                    spawn(bin, root)?;
                    continue;
                }
                Start::With(_) => break,
            },
            Err(e) => return Err(io(e)),
        }
        std::thread::sleep(Duration::from_millis(5 * attempt as u64 + 1));
    }
    Err(ClientError::NoAnswer {
        root: root.to_path_buf(),
    })
}

/// The resolver is root's or ours: another user could have bound the
/// abstract name first.
fn check_owner(s: &UnixStream, root: &Path) -> Result<(), ClientError> {
    use std::os::fd::AsRawFd;
    // SAFETY: geteuid has no arguments and cannot fail.
    let me = unsafe { libc::geteuid() };
    match crate::server::sys::peer_uid(s.as_raw_fd()) {
        Some(uid) if uid == 0 || uid == me => Ok(()),
        other => Err(ClientError::Resolver(format!(
            "the control socket of {} belongs to uid {}, not root",
            root.display(),
            other.map_or("?".into(), |u| u.to_string())
        ))),
    }
}

/// One request; the reply line without its newline, None when the
/// connection closed first.
fn exchange(mut s: UnixStream, netns: Option<&Path>) -> Option<String> {
    // A resolver that restarts serves every namespace again first.
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let line = match netns {
        Some(p) => format!("sync {}\n", p.display()),
        None => "sync\n".to_string(),
    };
    s.write_all(line.as_bytes()).ok()?;
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).ok()?;
    reply.strip_suffix('\n').map(str::to_string)
}

/// Starts `bin --root ROOT` and waits for its first process, which exits
/// once the control socket is bound (or another resolver has it). It gets
/// a clean environment: PATH (for `nft`), and the fault-injection and
/// test variables.
fn spawn(bin: &Path, root: &Path) -> Result<(), ClientError> {
    let keep = |k: &str| k == "PATH" || k.starts_with("YURTA_FAULT") || k.starts_with("YURTA_DNS_");
    let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| keep(k)).collect();
    let out = Command::new(bin)
        .arg("--root")
        .arg(root)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| ClientError::Spawn {
            bin: bin.to_path_buf(),
            source,
        })?;
    if !out.status.success() {
        return Err(ClientError::Failed {
            bin: bin.to_path_buf(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}
