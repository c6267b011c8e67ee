//! yurta-network's errors as [`Kinded`]: the CLI's exit code, the Engine
//! API's HTTP status (Docker's: 404 for no such network, 409 for a name
//! taken or endpoints still attached, 403 for the default network).

use yurta_error::{ErrorKind, Kinded};

use crate::manage::ManageError;
use crate::Error;

impl Kinded for ManageError {
    fn kind(&self) -> ErrorKind {
        match self {
            ManageError::NotFound(_) => ErrorKind::NotFound,
            ManageError::NameTaken(_) | ManageError::HasEndpoints { .. } => ErrorKind::Conflict,
            ManageError::BadName(_)
            | ManageError::Driver(_)
            | ManageError::Overlap { .. }
            | ManageError::BadGateway { .. } => ErrorKind::Invalid,
            ManageError::Default(_) => ErrorKind::Forbidden,
            _ => ErrorKind::Internal,
        }
    }
}

impl Kinded for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Manage(e) => e.kind(),
            Error::Subnet(_) | Error::Port(_) => ErrorKind::Invalid,
            Error::Teardown(t) => t.0.first().map_or(ErrorKind::Internal, Kinded::kind),
            _ => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_statuses_for_network_errors() {
        let e = Error::from(ManageError::NotFound("n".into()));
        assert_eq!(e.kind().http_status(), 404);
        let e = Error::from(ManageError::NameTaken("n".into()));
        assert_eq!(e.kind().http_status(), 409);
        let e = Error::from(ManageError::Default("bridge".into()));
        assert_eq!(e.kind().http_status(), 403);
    }
}
