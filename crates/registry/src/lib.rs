//! yurta's registry client: the OCI distribution spec and Docker Registry
//! v2 API over blocking HTTP (ureq, TLS through OpenSSL).
//!
//! It owns references, manifests, blobs, uploads, authentication and the
//! credentials file. It does not store images: blobs are written to any
//! `std::io::Write` and uploaded from any `std::io::Read`, so the image store
//! (`yurta-images`) decides where bytes live. See docs/registry.md.

mod auth;
mod authfile;
mod blob;
mod client;
mod config;
mod digest;
mod endpoint;
mod error;
mod login;
mod manifest;
mod reference;
mod upload;

pub use authfile::AuthFile;
pub use blob::{BlobFetch, Progress, Resume};
pub use client::Client;
pub use config::{ClientConfig, Credentials, RegistrySettings, RetryPolicy, DEFAULT_CERTS_DIRS};
pub use digest::{finish as digest_of_hasher, sha256_digest};
pub use endpoint::is_loopback;
pub use error::{Error, ReferenceError, Result};
pub use login::{login, logout};
pub use manifest::{
    media_type_of, next_link, Manifest, ManifestInfo, MANIFEST_MEDIA_TYPES, MEDIA_DOCKER_LIST,
    MEDIA_DOCKER_MANIFEST, MEDIA_OCI_INDEX, MEDIA_OCI_MANIFEST,
};
pub use reference::{Reference, Repository, DOCKER_HUB};
pub use upload::{BlobPush, PushedBlob, UploadMethod};

/// Re-exported so callers name the same types: `Digest` and `Sha256`.
pub use oci_spec::image::Digest;
pub use sha2::Sha256;
