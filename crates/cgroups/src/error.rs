//! The crate's one error type. Every variant names the cgroup file or directory involved and, where
//! there is one, the value that was being written, so a user can act on the message alone.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while managing control groups.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Writing a value to a cgroup file failed (the kernel rejected it, or the file is missing).
    #[error("cannot write {value:?} to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    /// Reading a cgroup file failed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A cgroup file held something we could not parse.
    #[error("cannot parse {value:?} read from {}", path.display())]
    Parse { path: PathBuf, value: String },
    /// Creating a cgroup directory failed.
    #[error("cannot create cgroup directory {}: {source}", path.display())]
    Mkdir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Removing a cgroup directory failed (after retries on EBUSY).
    #[error("cannot remove cgroup directory {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A requested resource value is invalid for the named cgroup file.
    #[error("invalid value {value:?} for {file}: {reason}")]
    Invalid {
        file: String,
        value: String,
        reason: String,
    },
    /// The host cannot honour the request (controller or file missing, wrong cgroup version).
    #[error("cannot set {file} to {value:?}: {reason}")]
    Unsupported {
        file: String,
        value: String,
        reason: String,
    },
    /// The OCI cgroupsPath (or the systemd-style slice:prefix:name) is malformed.
    #[error("invalid cgroups path {path:?}: {reason}")]
    Path { path: String, reason: String },
    /// No cgroup filesystem could be found in the mount table.
    #[error("no cgroup filesystem mounted (read {})", path.display())]
    NoCgroupFs { path: PathBuf },
    /// Sending a signal to a process of the cgroup failed.
    #[error("cannot send signal {signal} to pid {pid} of {}: {source}", path.display())]
    Kill {
        path: PathBuf,
        pid: i32,
        signal: i32,
        #[source]
        source: io::Error,
    },
    /// A state change (freeze, emptying the cgroup) did not complete in time.
    #[error("timed out after {millis} ms waiting for {} to become {value:?}", path.display())]
    Timeout {
        path: PathBuf,
        value: String,
        millis: u64,
    },
    /// Loading or attaching the cgroup v2 device eBPF program failed.
    #[error("cannot {action} device eBPF program for {}: {source}", path.display())]
    Bpf {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
}

impl CgroupError {
    pub(crate) fn invalid(file: &str, value: impl ToString, reason: impl Into<String>) -> Self {
        CgroupError::Invalid {
            file: file.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(file: &str, value: impl ToString, reason: impl Into<String>) -> Self {
        CgroupError::Unsupported {
            file: file.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
