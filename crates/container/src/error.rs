//! The error type of the runtime library. Every variant names the value
//! involved (container id, path, syscall, signal) so that one line tells a
//! user what went wrong.

use std::path::PathBuf;

/// Result with the library's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the runtime library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "container id {0:?} is invalid: use letters, digits, '_', '-', '.' (not starting with '.')"
    )]
    InvalidId(String),
    #[error("container {0:?} already exists")]
    AlreadyExists(String),
    #[error("container {0:?} does not exist")]
    NotFound(String),
    #[error("container {id:?} is {status}: {action} needs it to be {expected}")]
    WrongState {
        id: String,
        status: String,
        action: &'static str,
        expected: &'static str,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("{op}: {source}")]
    Sys { op: String, source: nix::Error },
    #[error("{0}")]
    Setup(String),
    /// The container's command could not be run (126: not executable,
    /// 127: not found); the runtime exits with this code, as a shell would.
    #[error("{message}")]
    CannotRun { message: String, exit_code: i32 },
    #[error(transparent)]
    Cgroup(#[from] yurta_cgroups::CgroupError),
    #[error(transparent)]
    Seccomp(#[from] yurta_seccomp::SeccompError),
    #[error("unknown signal {0:?}")]
    UnknownSignal(String),
    #[error("hook {path} ({kind}): {message}")]
    Hook {
        kind: String,
        path: String,
        message: String,
    },
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<Error>),
}

impl Error {
    /// Folds the errors met during a teardown into one result.
    pub fn from_list(mut errors: Vec<Error>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }

    /// A system-call failure, naming the call and its arguments.
    pub fn sys(op: impl Into<String>, source: nix::Error) -> Self {
        Error::Sys {
            op: op.into(),
            source,
        }
    }

    /// An I/O failure while reading `path`.
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Read {
            path: path.into(),
            source,
        }
    }

    /// An I/O failure while writing `path`.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}

/// Adds the name of a failing call to a `nix` result.
pub trait SysContext<T> {
    fn sys(self, op: impl FnOnce() -> String) -> Result<T>;
}

impl<T> SysContext<T> for nix::Result<T> {
    fn sys(self, op: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::sys(op(), e))
    }
}
