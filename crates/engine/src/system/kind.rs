//! Kinds of the errors the system queries and the volume service return
//! (see yurta_error). `VolumeError`'s impl lives here until the volume
//! module gets its own.

use yurta_error::{ErrorKind, Kinded};

use super::{SystemError, VolumeFilterError};
use crate::VolumeError;

impl Kinded for VolumeError {
    fn kind(&self) -> ErrorKind {
        match self {
            VolumeError::NotFound(_) => ErrorKind::NotFound,
            VolumeError::InUse { .. } => ErrorKind::Conflict,
            VolumeError::BadName(_)
            | VolumeError::Driver { .. }
            | VolumeError::Option { .. }
            | VolumeError::NoDevice { .. }
            | VolumeError::Name(_) => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        }
    }
}

impl Kinded for VolumeFilterError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

impl Kinded for SystemError {
    fn kind(&self) -> ErrorKind {
        match self {
            SystemError::Images(e) => e.kind(),
            SystemError::Volume(e) => e.kind(),
            SystemError::Engine(_) => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_errors_have_docker_statuses() {
        assert_eq!(VolumeError::NotFound("v".into()).kind().http_status(), 404);
        let busy = VolumeError::InUse {
            name: "v".into(),
            users: vec!["c".into()],
        };
        assert_eq!(busy.kind().http_status(), 409);
        assert_eq!(VolumeError::BadName("/x".into()).kind().http_status(), 400);
    }
}
