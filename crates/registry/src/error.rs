//! The crate's error: one line naming the URL, repository or digest involved.

use std::io;
use std::path::PathBuf;

pub use crate::reference::ReferenceError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),

    /// Connection, DNS, timeout or protocol failure below HTTP status codes.
    #[error("{method} {url}: {error}")]
    Transport {
        method: String,
        url: String,
        error: ureq::Error,
    },

    /// TLS handshake failed; `hint` tells the user how to trust the server.
    #[error("{method} {url}: TLS: {detail}; {hint}")]
    Tls {
        method: String,
        url: String,
        detail: String,
        hint: String,
    },

    /// The registry answered with an unexpected status. `detail` holds the
    /// registry's error codes (`MANIFEST_UNKNOWN: manifest unknown`).
    #[error("{method} {url}: HTTP {status}{detail}")]
    Status {
        method: String,
        url: String,
        status: u16,
        detail: String,
    },

    #[error("{what} {digest} from {url}: digest mismatch, got {actual}")]
    DigestMismatch {
        what: &'static str,
        digest: String,
        url: String,
        actual: String,
    },

    #[error("{what} {digest} from {url}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: &'static str,
        digest: String,
        url: String,
        expected: u64,
        actual: u64,
    },

    #[error("{digest}: only sha256 digests are supported")]
    UnsupportedDigest { digest: String },

    #[error("token from {realm} for {registry}: {reason}")]
    Token {
        realm: String,
        registry: String,
        reason: String,
    },

    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },

    /// Writing a downloaded blob to the caller's writer failed. (The cause
    /// is in the message, so it is not also a `source`, which would print
    /// it twice in a chain.)
    #[error("write blob {digest}: {error}")]
    Write { digest: String, error: io::Error },

    /// Reading data to upload from the caller's reader failed.
    #[error("read blob {digest} for upload: {error}")]
    Read { digest: String, error: io::Error },

    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },

    #[error("login to {registry}: {reason}")]
    Login { registry: String, reason: String },
}

impl Error {
    /// The HTTP status when the registry answered with an unexpected one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for 404: manifest, blob or repository unknown.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True for 401/403 after credentials (if any) were tried.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// True for a TLS failure (unknown CA, bad certificate, HTTP server).
    pub fn is_tls(&self) -> bool {
        matches!(self, Error::Tls { .. })
    }

    pub(crate) fn file(path: &std::path::Path, reason: impl ToString) -> Error {
        Error::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}
