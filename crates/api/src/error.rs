//! Errors as Docker sends them: `{"message": "…"}` with the HTTP status
//! of the error's kind (404 no such object, 409 conflict, 400 bad
//! parameter, 500 otherwise).

use std::fmt;

use hyper::{Response, StatusCode};
use yurta_error::{ErrorKind, Kinded};

use crate::body::{full, Body};

/// A failed request: a status and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// From a library error: its kind gives the status.
    pub fn of<E: Kinded + fmt::Display + ?Sized>(e: &E) -> ApiError {
        ApiError::kind(e.kind(), e.to_string())
    }

    pub fn kind(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        let status =
            StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The response: Docker's JSON error object.
    pub fn response(&self) -> Response<Body> {
        let text = serde_json::json!({ "message": self.message }).to_string() + "\n";
        let mut r = Response::new(full(text));
        *r.status_mut() = self.status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        r
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

/// Library errors that know their kind convert with `?`.
macro_rules! from_kinded {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> ApiError {
                ApiError::of(&e)
            }
        }
    )*};
}

/// Docker's words for a missing image (`No such image: NAME`): clients
/// (docker-py) tell ImageNotFound from other 404s by them.
impl From<yurta_images::StoreError> for ApiError {
    fn from(e: yurta_images::StoreError) -> ApiError {
        match &e {
            yurta_images::StoreError::ImageNotFound(name) => {
                ApiError::not_found(format!("No such image: {name}"))
            }
            _ => ApiError::of(&e),
        }
    }
}

impl From<yurta_images::manage::ManageError> for ApiError {
    fn from(e: yurta_images::manage::ManageError) -> ApiError {
        match e {
            yurta_images::manage::ManageError::Store(s) => s.into(),
            other => ApiError::of(&other),
        }
    }
}

from_kinded!(
    yurta_images::ArchiveError,
    yurta_images::ImportError,
    yurta_images::service::RemoveError,
    yurta_images::inspect::FilterError,
    yurta_images::ReferenceError,
    yurta_network::Error,
    yurta_engine::system::SystemError,
    yurta_engine::system::VolumeFilterError,
    yurta_engine::VolumeError,
    yurta_engine::distribution::DistributionError,
    yurta_engine::fetch::FetchError,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_become_docker_statuses() {
        let e = ApiError::of(&yurta_images::StoreError::ImageNotFound("x".into()));
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert_eq!(e.message, "no such image: x");
        let e = ApiError::from(yurta_images::StoreError::ImageNotFound("x".into()));
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::NOT_FOUND, "No such image: x")
        );
        let r = ApiError::bad_request("bad").response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
