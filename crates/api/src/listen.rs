//! Where the service listens: `unix://PATH` (the default
//! `unix:///run/yurta/yurta.sock`, mode 0660, group `yurta` if it
//! exists), `tcp://HOST:PORT` (loopback only unless TLS is configured),
//! or the sockets systemd passes (`LISTEN_FDS`).
//!
//! A unix socket is bound under a lock file beside it (`PATH.lock`, held
//! while the service runs): a second service on the same path is refused
//! instead of stealing it, and a socket file left by a killed service is
//! replaced. The socket is bound under a temporary name and renamed into
//! place, so clients never see it with the wrong mode or owner.

use std::fs;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The default endpoint (podman's is `unix:///run/podman/podman.sock`).
pub const DEFAULT: &str = "unix:///run/yurta/yurta.sock";

/// A parsed `URI` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("invalid service URI {0:?}: expected unix:///PATH or tcp://HOST:PORT")]
    Uri(String),
    #[error("invalid service URI {uri:?}: {error}")]
    Resolve { uri: String, error: io::Error },
    #[error("refusing to serve the API without TLS on {0}, which is not a loopback address: give --tls-cert and --tls-key, or listen on 127.0.0.1")]
    Insecure(SocketAddr),
    #[error("{0} exists and is not a socket")]
    NotASocket(PathBuf),
    #[error("another service is listening on {0}")]
    InUse(PathBuf),
    #[error("{what} {}: {error}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    #[error("listen on {addr}: {error}")]
    Tcp { addr: SocketAddr, error: io::Error },
    #[error("socket activation: fd {fd} is neither a unix nor a TCP socket")]
    Activation { fd: RawFd },
}

impl FromStr for Endpoint {
    type Err = ListenError;

    fn from_str(uri: &str) -> Result<Endpoint, ListenError> {
        if let Some(path) = uri.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(ListenError::Uri(uri.to_string()));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(hostport) = uri.strip_prefix("tcp://") else {
            return Err(ListenError::Uri(uri.to_string()));
        };
        let hostport = hostport.trim_end_matches('/');
        let mut addrs = hostport
            .to_socket_addrs()
            .map_err(|error| ListenError::Resolve {
                uri: uri.to_string(),
                error,
            })?;
        addrs
            .next()
            .map(Endpoint::Tcp)
            .ok_or_else(|| ListenError::Uri(uri.to_string()))
    }
}

/// A bound, listening socket (not yet registered with tokio).
pub enum Bound {
    Unix(std::os::unix::net::UnixListener, Option<SocketFile>),
    Tcp(std::net::TcpListener),
}

/// The socket file this service made, removed when the service ends
/// (if it is still the same file), and the lock that guards it.
pub struct SocketFile {
    path: PathBuf,
    ino: u64,
    _lock: fs::File,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Binds `endpoint`; a TCP address that is not loopback needs `tls`.
pub fn bind(endpoint: &Endpoint, tls: bool) -> Result<Bound, ListenError> {
    match endpoint {
        Endpoint::Tcp(addr) => {
            if !tls && !addr.ip().is_loopback() {
                return Err(ListenError::Insecure(*addr));
            }
            let l = std::net::TcpListener::bind(addr)
                .map_err(|error| ListenError::Tcp { addr: *addr, error })?;
            l.set_nonblocking(true)
                .map_err(|error| ListenError::Tcp { addr: *addr, error })?;
            Ok(Bound::Tcp(l))
        }
        Endpoint::Unix(path) => bind_unix(path),
    }
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ListenError + 'a {
    move |error| ListenError::Io {
        what,
        path: path.to_path_buf(),
        error,
    }
}

fn bind_unix(path: &Path) -> Result<Bound, ListenError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    let lock = lock_beside(path)?;
    match fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => {
            return Err(ListenError::NotASocket(path.to_path_buf()))
        }
        // A socket nobody answers on: left by a service that was killed.
        Ok(_) if std::os::unix::net::UnixStream::connect(path).is_ok() => {
            return Err(ListenError::InUse(path.to_path_buf()))
        }
        _ => {}
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_temporaries(dir, &name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let listener = std::os::unix::net::UnixListener::bind(&tmp).map_err(io_err("bind", &tmp))?;
    yurta_fault::point("service.socket-bound");
    let placed = fs::set_permissions(&tmp, fs::Permissions::from_mode(0o660))
        .map_err(io_err("chmod", &tmp))
        .and_then(|()| set_group(&tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err("rename into place", path)));
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    yurta_fault::point("service.socket-placed");
    listener
        .set_nonblocking(true)
        .map_err(io_err("listen", path))?;
    let ino = fs::symlink_metadata(path)
        .map_err(io_err("stat", path))?
        .ino();
    let file = SocketFile {
        path: path.to_path_buf(),
        ino,
        _lock: lock,
    };
    Ok(Bound::Unix(listener, Some(file)))
}

/// Temporary sockets (`.NAME.PID.tmp`) of services killed while binding
/// this path; the lock is held, so none is being bound now.
fn remove_temporaries(dir: &Path, name: &str) {
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// `PATH.lock`, locked for as long as the service runs.
fn lock_beside(path: &Path) -> Result<fs::File, ListenError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err("open", &lock_path))?;
    lock_file(f, path)
}

/// flock(2) without waiting: dropping the returned file (and only that)
/// releases it; held elsewhere means another service serves `socket`.
fn lock_file(f: fs::File, socket: &Path) -> Result<fs::File, ListenError> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(f);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) => Err(ListenError::InUse(socket.to_path_buf())),
        _ => Err(io_err("lock", socket)(e)),
    }
}

/// Group `yurta` when the host has one (members may use the socket).
fn set_group(path: &Path) -> Result<(), ListenError> {
    let Ok(Some(group)) = nix::unistd::Group::from_name("yurta") else {
        return Ok(());
    };
    nix::unistd::chown(path, None, Some(group.gid)).map_err(|e| io_err("chown", path)(e.into()))
}

/// The sockets systemd passed (`LISTEN_PID` is this process,
/// `LISTEN_FDS` of them from fd 3), taken once: the variables are
/// removed so that children do not take them too.
pub fn activated() -> Result<Vec<Bound>, ListenError> {
    let pid_ok = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(|p| p == std::process::id());
    let n = std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse::<RawFd>().ok())
        .unwrap_or(0);
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_FDNAMES");
    if !pid_ok {
        return Ok(Vec::new());
    }
    (3..3 + n).map(adopt).collect()
}

fn adopt(fd: RawFd) -> Result<Bound, ListenError> {
    use nix::sys::socket::{getsockname, AddressFamily, SockaddrLike, SockaddrStorage};
    let family = getsockname::<SockaddrStorage>(fd)
        .ok()
        .and_then(|a| a.family())
        .ok_or(ListenError::Activation { fd })?;
    // SAFETY: systemd passed this descriptor to this process for it to own
    // (LISTEN_PID is ours); nothing else in the process uses it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let nonblock = |r: io::Result<()>| r.map_err(|_| ListenError::Activation { fd });
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(|_| ListenError::Activation { fd })?;
    match family {
        AddressFamily::Unix => {
            let l = std::os::unix::net::UnixListener::from(owned);
            nonblock(l.set_nonblocking(true))?;
            Ok(Bound::Unix(l, None))
        }
        AddressFamily::Inet | AddressFamily::Inet6 => {
            let l = std::net::TcpListener::from(owned);
            nonblock(l.set_nonblocking(true))?;
            Ok(Bound::Tcp(l))
        }
        _ => Err(ListenError::Activation { fd }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_insecure_tcp_is_refused() {
        assert_eq!(
            "unix:///run/x.sock".parse::<Endpoint>().unwrap(),
            Endpoint::Unix("/run/x.sock".into())
        );
        assert!("unix://rel.sock".parse::<Endpoint>().is_err());
        assert!("http://x".parse::<Endpoint>().is_err());
        let open = "tcp://0.0.0.0:0".parse::<Endpoint>().unwrap();
        assert!(matches!(bind(&open, false), Err(ListenError::Insecure(_))));
        let lo = "tcp://127.0.0.1:0".parse::<Endpoint>().unwrap();
        assert!(bind(&lo, false).is_ok());
    }

    #[test]
    fn a_stale_socket_is_replaced_and_a_live_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("api.sock");
        // Stale: bound, then its listener closed.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let ep = Endpoint::Unix(path.clone());
        let first = bind(&ep, false).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        assert!(matches!(bind(&ep, false), Err(ListenError::InUse(_))));
        drop(first);
        assert!(!path.exists(), "the socket file goes with the service");
        fs::write(&path, "x").unwrap();
        assert!(matches!(bind(&ep, false), Err(ListenError::NotASocket(_))));
    }
}
