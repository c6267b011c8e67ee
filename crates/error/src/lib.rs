//! What kind of failure an error is, independent of its message.
//!
//! Every library error of yurta (engine, images, networks, volumes, VMs,
//! registry) answers [`Kinded::kind`]; the front ends translate a kind
//! once: the CLI into Docker's exit codes ([`ErrorKind::exit_code`]), the
//! Engine API service into HTTP statuses ([`ErrorKind::http_status`]).
//! Messages stay one line naming the value involved; the kind never
//! replaces them.
//!
//! This crate owns only the classification; it has no dependencies so
//! that every crate, the supervisor included, can use it.

use std::fmt;

/// The classes of failure a client can act on differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// No such container, image, network, volume, VM or file.
    NotFound,
    /// The name is taken, the object is in use, or its state forbids the
    /// request (removing a running container without force).
    Conflict,
    /// The request itself is wrong: a malformed flag or field, an
    /// out-of-range value.
    Invalid,
    /// Nothing to do: the object is already in the wanted state (Docker's
    /// 304 for starting a running container).
    NotModified,
    /// Not allowed for this client (authentication, permissions).
    Forbidden,
    /// Valid, but not implemented here (Docker's 501).
    Unsupported,
    /// A resource outside yurta failed or is missing: a registry, the
    /// disk, a helper binary.
    Unavailable,
    /// Everything else: a bug or an unexpected system error.
    Internal,
}

impl ErrorKind {
    /// The HTTP status the Docker Engine API answers with for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Invalid => 400,
            ErrorKind::NotModified => 304,
            ErrorKind::Forbidden => 403,
            ErrorKind::Unsupported => 501,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The exit code of the `yurta` CLI: Docker's CLI exits 125 for every
    /// daemon-side failure, whatever its kind.
    pub fn exit_code(self) -> u8 {
        125
    }

    /// A short lower-case name for logs and JSON (`not_found`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotModified => "not_modified",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows its kind. Library error enums implement it; the
/// front ends ask it instead of matching messages.
pub trait Kinded {
    fn kind(&self) -> ErrorKind;
}

/// A plain error with a kind and a one-line message, for code that has no
/// richer type (and for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, message)
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl Kinded for Error {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_docker_statuses() {
        assert_eq!(ErrorKind::NotFound.http_status(), 404);
        assert_eq!(ErrorKind::Conflict.http_status(), 409);
        assert_eq!(ErrorKind::Invalid.http_status(), 400);
        assert_eq!(ErrorKind::NotModified.http_status(), 304);
        assert_eq!(ErrorKind::Internal.http_status(), 500);
        assert_eq!(ErrorKind::Unsupported.http_status(), 501);
        assert_eq!(ErrorKind::Conflict.exit_code(), 125);
    }

    #[test]
    fn an_error_is_its_message() {
        let e = Error::not_found("No such container: web");
        assert_eq!(e.to_string(), "No such container: web");
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}
