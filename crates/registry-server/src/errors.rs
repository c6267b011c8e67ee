//! The registry's answers when a request fails: the error codes of the
//! OCI Distribution Spec (and Docker's registry), each with its HTTP
//! status, sent as `{"errors":[{"code","message","detail"}]}`.

use serde_json::json;

/// A spec error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    RangeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    /// Not in the spec's table; distribution's catch-all (500).
    Unknown,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BlobUnknown => "BLOB_UNKNOWN",
            Code::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Code::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Code::DigestInvalid => "DIGEST_INVALID",
            Code::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Code::ManifestInvalid => "MANIFEST_INVALID",
            Code::ManifestUnknown => "MANIFEST_UNKNOWN",
            Code::NameInvalid => "NAME_INVALID",
            Code::NameUnknown => "NAME_UNKNOWN",
            Code::SizeInvalid => "SIZE_INVALID",
            Code::RangeInvalid => "RANGE_INVALID",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Denied => "DENIED",
            Code::Unsupported => "UNSUPPORTED",
            Code::TooManyRequests => "TOOMANYREQUESTS",
            Code::Unknown => "UNKNOWN",
        }
    }

    /// The HTTP status distribution answers with.
    pub fn status(self) -> u16 {
        match self {
            Code::BlobUnknown
            | Code::BlobUploadUnknown
            | Code::ManifestUnknown
            | Code::NameUnknown => 404,
            Code::BlobUploadInvalid
            | Code::DigestInvalid
            | Code::ManifestBlobUnknown
            | Code::ManifestInvalid
            | Code::NameInvalid
            | Code::SizeInvalid => 400,
            Code::RangeInvalid => 416,
            Code::Unauthorized => 401,
            Code::Denied => 403,
            Code::Unsupported => 405,
            Code::TooManyRequests => 429,
            Code::Unknown => 500,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Code::BlobUnknown => "blob unknown to registry",
            Code::BlobUploadInvalid => "blob upload invalid",
            Code::BlobUploadUnknown => "blob upload unknown to registry",
            Code::DigestInvalid => "provided digest did not match uploaded content",
            Code::ManifestBlobUnknown => "blob unknown to registry",
            Code::ManifestInvalid => "manifest invalid",
            Code::ManifestUnknown => "manifest unknown",
            Code::NameInvalid => "invalid repository name",
            Code::NameUnknown => "repository name not known to registry",
            Code::SizeInvalid => "provided length did not match content length",
            Code::RangeInvalid => "invalid content range",
            Code::Unauthorized => "authentication required",
            Code::Denied => "requested access to the resource is denied",
            Code::Unsupported => "The operation is unsupported.",
            Code::TooManyRequests => "too many requests",
            Code::Unknown => "unknown error",
        }
    }
}

/// A failed request: the code, and a detail for the client (the digest,
/// name or limit involved).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub detail: Option<serde_json::Value>,
    /// Overrides the code's status (a too-large body is 413).
    pub status: Option<u16>,
    /// A 401's `WWW-Authenticate` value.
    pub challenge: Option<String>,
}

impl ApiError {
    pub fn new(code: Code) -> ApiError {
        ApiError {
            code,
            detail: None,
            status: None,
            challenge: None,
        }
    }

    pub fn detail(code: Code, detail: impl Into<serde_json::Value>) -> ApiError {
        ApiError {
            code,
            detail: Some(detail.into()),
            status: None,
            challenge: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or(self.code.status())
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let mut e = json!({"code": self.code.as_str(), "message": self.code.message()});
        if let Some(d) = &self.detail {
            e["detail"] = d.clone();
        }
        serde_json::to_vec(&json!({ "errors": [e] })).unwrap_or_default()
    }
}

impl From<Code> for ApiError {
    fn from(code: Code) -> ApiError {
        ApiError::new(code)
    }
}

/// A storage failure the client cannot fix: logged, answered with 500.
impl From<crate::storage::StorageError> for ApiError {
    fn from(e: crate::storage::StorageError) -> ApiError {
        eprintln!("yurta-registry-server: {e}");
        ApiError::detail(Code::Unknown, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_spec_shape() {
        let e = ApiError::detail(Code::BlobUnknown, json!({"digest": "sha256:00"}));
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["errors"][0]["code"], "BLOB_UNKNOWN");
        assert_eq!(v["errors"][0]["detail"]["digest"], "sha256:00");
        assert_eq!(e.status(), 404);
        assert_eq!(
            ApiError::new(Code::SizeInvalid).with_status(413).status(),
            413
        );
    }
}
