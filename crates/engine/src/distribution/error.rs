//! A pull's or push's error: the whole chain as one line (`pull
//! localhost:5000/x:1: GET …: HTTP 404 MANIFEST_UNKNOWN …`), classified
//! for the front ends: an unknown image or repository is NotFound (as
//! Docker answers "pull access denied … may require 'docker login'"), a
//! bad reference or platform Invalid, the rest Internal.

use std::fmt;

use yurta_error::{ErrorKind, Kinded};

/// See the module.
#[derive(Debug)]
pub struct DistributionError(pub anyhow::Error);

impl DistributionError {
    /// The kind given explicitly (a reference the caller refused).
    pub(crate) fn invalid(message: String) -> DistributionError {
        DistributionError(anyhow::Error::new(Invalid(message)))
    }
}

impl From<anyhow::Error> for DistributionError {
    fn from(e: anyhow::Error) -> Self {
        DistributionError(e)
    }
}

impl fmt::Display for DistributionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for DistributionError {}

impl Kinded for DistributionError {
    fn kind(&self) -> ErrorKind {
        for cause in self.0.chain() {
            if cause.is::<Invalid>() {
                return ErrorKind::Invalid;
            }
            if let Some(e) = cause.downcast_ref::<yurta_registry::Error>() {
                return match e {
                    yurta_registry::Error::Reference(_) => ErrorKind::Invalid,
                    e if e.is_not_found() || e.is_unauthorized() => ErrorKind::NotFound,
                    _ => ErrorKind::Internal,
                };
            }
            if let Some(e) = cause.downcast_ref::<yurta_images::StoreError>() {
                return e.kind();
            }
            if let Some(e) = cause.downcast_ref::<yurta_images::PlatformError>() {
                return e.kind();
            }
        }
        ErrorKind::Internal
    }
}

/// A refusal of the caller's input.
#[derive(Debug)]
struct Invalid(String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}
