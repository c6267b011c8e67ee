//! The kinds of the container engine's errors (see `yurta_error`): what a
//! front end answers with — the CLI's exit code, the API's HTTP status.
//! The messages stay Docker's; only the classification lives here.

use yurta_error::{ErrorKind, Kinded};

use crate::containers::ContainerError;
use crate::engine::EngineError;
use crate::fsutil::FsError;
use crate::ids::IdError;
use crate::options::OptionError;
use crate::spec::SpecError;
use crate::user::UserError;

impl Kinded for ContainerError {
    fn kind(&self) -> ErrorKind {
        match self {
            ContainerError::NotFound(_) => ErrorKind::NotFound,
            // Docker: an ambiguous prefix is an invalid parameter (400).
            ContainerError::Ambiguous(_) => ErrorKind::Invalid,
            ContainerError::NameInUse { .. } => ErrorKind::Conflict,
            ContainerError::Id(e) => e.kind(),
            ContainerError::Fs(e) => e.kind(),
        }
    }
}

impl Kinded for IdError {
    fn kind(&self) -> ErrorKind {
        match self {
            IdError::Random(_) => ErrorKind::Internal,
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kinded for FsError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}

impl Kinded for OptionError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl Kinded for SpecError {
    fn kind(&self) -> ErrorKind {
        match self {
            SpecError::Invalid(_) => ErrorKind::Internal,
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kinded for UserError {
    fn kind(&self) -> ErrorKind {
        match self {
            UserError::Fs(e) => e.kind(),
            _ => ErrorKind::Invalid,
        }
    }
}

impl Kinded for EngineError {
    fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Image(_) => ErrorKind::NotFound,
            EngineError::DuplicateMount(_) | EngineError::BindSource(_) => ErrorKind::Invalid,
            EngineError::Container(e) => e.kind(),
            EngineError::Options(e) => e.kind(),
            EngineError::Volume(e) => e.kind(),
            EngineError::Spec(e) => e.kind(),
            EngineError::User(e) => e.kind(),
            EngineError::Store(e) => e.kind(),
            EngineError::Fs(e) => e.kind(),
            EngineError::Cleanup(_) | EngineError::Rootfs(_) | EngineError::Copy(_) => {
                ErrorKind::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_errors_have_docker_statuses() {
        let missing = EngineError::Container(ContainerError::NotFound("web".into()));
        assert_eq!(missing.kind().http_status(), 404);
        let taken = ContainerError::NameInUse {
            name: "web".into(),
            id: "abc".into(),
        };
        assert_eq!(EngineError::Container(taken).kind().http_status(), 409);
        assert_eq!(EngineError::Image("x".into()).kind().http_status(), 404);
        let bad = EngineError::Options(OptionError::Cpus("-1".into()));
        assert_eq!(bad.kind().http_status(), 400);
        let name = ContainerError::Id(IdError::BadName("a/b".into()));
        assert_eq!(name.kind(), ErrorKind::Invalid);
        assert_eq!(
            EngineError::Cleanup(vec!["x".into()]).kind(),
            ErrorKind::Internal
        );
    }
}
