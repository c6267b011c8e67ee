//! Test fixtures of this crate: tiny OCI images built in memory, a token
//! server for the registry's token auth, and a stub HTTP server for the
//! cases a real registry does not produce (token endpoint, redirects,
//! failures). The real `docker-registry` processes, certificates and
//! `skopeo` helpers come from `yurta_testutil`.
#![allow(dead_code)]

pub mod image;
pub mod stub;
pub mod token;
