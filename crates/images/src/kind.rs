//! Each error of the image store as a [`Kinded`]: what the CLI turns into
//! an exit code and the Engine API into an HTTP status.

use yurta_error::{ErrorKind, Kinded};

use crate::archive::ArchiveError;
use crate::import::ImportError;
use crate::inspect::FilterError;
use crate::manage::ManageError;
use crate::{DigestError, PlatformError, ReferenceError, StoreError};

impl Kinded for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::ImageNotFound(_) => ErrorKind::NotFound,
            StoreError::Ambiguous(_) | StoreError::NoTag(_) | StoreError::Reference(_) => {
                ErrorKind::Invalid
            }
            StoreError::NotAManifest { .. } => ErrorKind::Invalid,
            StoreError::Io { .. } => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        }
    }
}

impl Kinded for ManageError {
    fn kind(&self) -> ErrorKind {
        match self {
            ManageError::MultipleTags(_) => ErrorKind::Conflict,
            ManageError::Store(e) => e.kind(),
        }
    }
}

impl Kinded for ArchiveError {
    fn kind(&self) -> ErrorKind {
        match self {
            ArchiveError::Store(e) => e.kind(),
            // Reading the archive given (the client's input) is the
            // client's fault; temporary files and the output are ours.
            ArchiveError::Io { what, .. }
                if what.starts_with("read archive") || what.starts_with("decompress") =>
            {
                ErrorKind::Invalid
            }
            ArchiveError::Io { .. } => ErrorKind::Unavailable,
            ArchiveError::Platform(e) => e.kind(),
            ArchiveError::Layer(_) => ErrorKind::Invalid,
            // The archive itself is wrong: the client sent it.
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kinded for FilterError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl Kinded for ReferenceError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl Kinded for DigestError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl Kinded for PlatformError {
    fn kind(&self) -> ErrorKind {
        match self {
            PlatformError::Invalid(_) => ErrorKind::Invalid,
            _ => ErrorKind::NotFound,
        }
    }
}

impl Kinded for ImportError {
    fn kind(&self) -> ErrorKind {
        match self {
            // The tar or the instructions the client sent.
            ImportError::Read { .. } | ImportError::Change(_) => ErrorKind::Invalid,
            ImportError::Store(e) => e.kind(),
        }
    }
}

/// An instruction the caller gave.
impl Kinded for crate::changes::ChangeError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_image_is_not_found_and_a_shared_one_a_conflict() {
        assert_eq!(
            StoreError::ImageNotFound("x".into()).kind(),
            ErrorKind::NotFound
        );
        let e = ManageError::MultipleTags("abc".into());
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(e.kind().http_status(), 409);
        let e = ManageError::Store(StoreError::Ambiguous("a".into()));
        assert_eq!(e.kind(), ErrorKind::Invalid);
    }
}
