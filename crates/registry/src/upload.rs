//! Blob uploads: existence check, cross-repository mount, monolithic
//! (`POST` then one `PUT ?digest=`) or chunked (`PATCH` with
//! `Content-Range` per chunk, then `PUT ?digest=`).

use std::io::{self, Read};

use oci_spec::image::Digest;
use sha2::{Digest as _, Sha256};
use ureq::http::Method;

use crate::auth::{encode_query, repo_scope};
use crate::blob::Progress;
use crate::client::{header, status_error, Call, CallBody, Client};
use crate::digest::{finish, require_sha256};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::manifest::push_scope;
use crate::reference::Repository;

/// How blob data is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadMethod {
    /// One streamed `PUT` with the whole blob.
    #[default]
    Monolithic,
    /// `PATCH` requests of at most `chunk_size` bytes, then a `PUT`.
    Chunked { chunk_size: usize },
}

/// Options of [`Client::push_blob`].
#[derive(Default)]
pub struct BlobPush<'a> {
    pub method: UploadMethod,
    /// A repository of the same registry that may hold the blob already:
    /// try mounting it from there before uploading.
    pub mount_from: Option<&'a str>,
    pub progress: Option<Progress<'a>>,
}

/// What [`Client::push_blob`] had to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushedBlob {
    Exists,
    Mounted,
    Uploaded,
}

/// The uploader's view of the caller's data: hashes and counts what is
/// read, and keeps a read error aside so it is reported as such.
struct HashingReader<'r, 'p> {
    inner: &'r mut dyn Read,
    hasher: Sha256,
    read: u64,
    limit: u64,
    error: Option<io::Error>,
    progress: Option<Progress<'p>>,
}

impl Read for HashingReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = (self.limit - self.read).min(buf.len() as u64) as usize;
        let n = match self.inner.read(&mut buf[..room]) {
            Ok(n) => n,
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                return Err(copy);
            }
        };
        if n == 0 && room > 0 {
            // Announced more than there is: fail the request instead of
            // letting the HTTP layer wait for bytes that never come.
            let e = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("data ended after {} of {} bytes", self.read, self.limit),
            );
            let copy = io::Error::new(e.kind(), e.to_string());
            self.error = Some(e);
            return Err(copy);
        }
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        if let Some(p) = self.progress.as_mut() {
            p(self.read, Some(self.limit));
        }
        Ok(n)
    }
}

impl Client {
    /// Makes sure `repo` has the blob: nothing if it exists, a mount if
    /// `mount_from` has it, else an upload of exactly `size` bytes from `data`.
    pub fn push_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        size: u64,
        data: &mut dyn Read,
        opts: BlobPush,
    ) -> Result<PushedBlob> {
        require_sha256(digest)?;
        if self
            .blob_exists_scoped(repo, digest, push_scope(repo))?
            .is_some()
        {
            return Ok(PushedBlob::Exists);
        }
        let ep = self.endpoint(&repo.registry)?;
        let location = match opts.mount_from {
            Some(from) => match self.try_mount(&ep, repo, digest, from)? {
                None => return Ok(PushedBlob::Mounted),
                Some(location) => location,
            },
            None => self.start_upload(&ep, repo)?,
        };
        let mut reader = HashingReader {
            inner: data,
            hasher: Sha256::new(),
            read: 0,
            limit: size,
            error: None,
            progress: opts.progress,
        };
        let result = match opts.method {
            UploadMethod::Monolithic => self.put_whole(&ep, repo, &location, digest, &mut reader),
            UploadMethod::Chunked { chunk_size } => {
                self.put_chunks(&ep, repo, location, digest, &mut reader, chunk_size.max(1))
            }
        };
        check_read(reader, digest, size, result)?;
        Ok(PushedBlob::Uploaded)
    }

    /// Cross-repository mount: true when `repo` now has the blob. When the
    /// registry cannot mount, the upload session it opened is cancelled.
    pub fn mount_blob(&self, repo: &Repository, digest: &Digest, from: &str) -> Result<bool> {
        let ep = self.endpoint(&repo.registry)?;
        match self.try_mount(&ep, repo, digest, from)? {
            None => Ok(true),
            Some(location) => {
                let call = Call::new(Method::DELETE, location, push_scope(repo));
                let _ = self.send(&ep, call);
                Ok(false)
            }
        }
    }

    /// `None` when mounted; else the location of the upload session opened
    /// instead.
    fn try_mount(
        &self,
        ep: &Endpoint,
        repo: &Repository,
        digest: &Digest,
        from: &str,
    ) -> Result<Option<String>> {
        let url = ep.url(&format!(
            "/v2/{}/blobs/uploads/?mount={}&from={}",
            repo.name,
            encode_query(digest.as_ref()),
            encode_query(from)
        ));
        let mut scopes = push_scope(repo);
        scopes.push(repo_scope(from, "pull"));
        let resp = self.send(ep, Call::new(Method::POST, url.clone(), scopes))?;
        match resp.status().as_u16() {
            201 => Ok(None),
            202 => location(ep, &url, &resp).map(Some),
            _ => Err(status_error(&Method::POST, &url, resp)),
        }
    }

    fn start_upload(&self, ep: &Endpoint, repo: &Repository) -> Result<String> {
        let url = ep.url(&format!("/v2/{}/blobs/uploads/", repo.name));
        let resp = self.send(ep, Call::new(Method::POST, url.clone(), push_scope(repo)))?;
        match resp.status().as_u16() {
            202 => location(ep, &url, &resp),
            _ => Err(status_error(&Method::POST, &url, resp)),
        }
    }

    fn put_whole(
        &self,
        ep: &Endpoint,
        repo: &Repository,
        location: &str,
        digest: &Digest,
        reader: &mut HashingReader,
    ) -> Result<()> {
        let url = with_digest(location, digest);
        let size = reader.limit;
        let call = Call::new(Method::PUT, url.clone(), push_scope(repo))
            .header("Content-Type", "application/octet-stream")
            .body(CallBody::Reader(Some(reader), size));
        let resp = self.send(ep, call)?;
        match resp.status().as_u16() {
            201 => Ok(()),
            _ => Err(status_error(&Method::PUT, &url, resp)),
        }
    }

    fn put_chunks(
        &self,
        ep: &Endpoint,
        repo: &Repository,
        mut location: String,
        digest: &Digest,
        reader: &mut HashingReader,
        chunk_size: usize,
    ) -> Result<()> {
        let mut buf = vec![0u8; chunk_size.min(reader.limit.max(1) as usize)];
        let mut offset = 0u64;
        loop {
            let n = read_full(reader, &mut buf).map_err(|e| read_error(digest, e))?;
            if n == 0 {
                break;
            }
            location = self.patch_chunk(ep, repo, &location, offset, &buf[..n])?;
            offset += n as u64;
        }
        let url = with_digest(&location, digest);
        let resp = self.send(ep, Call::new(Method::PUT, url.clone(), push_scope(repo)))?;
        match resp.status().as_u16() {
            201 => Ok(()),
            _ => Err(status_error(&Method::PUT, &url, resp)),
        }
    }

    /// One `PATCH`; returns the location for the next request.
    fn patch_chunk(
        &self,
        ep: &Endpoint,
        repo: &Repository,
        location: &str,
        offset: u64,
        chunk: &[u8],
    ) -> Result<String> {
        let end = offset + chunk.len() as u64 - 1;
        let call = Call::new(Method::PATCH, location.to_string(), push_scope(repo))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", format!("{offset}-{end}"))
            .body(CallBody::Bytes(chunk))
            .no_transient_retry();
        let resp = self.send(ep, call)?;
        match resp.status().as_u16() {
            202 => location_or(ep, location, &resp),
            _ => Err(status_error(&Method::PATCH, location, resp)),
        }
    }
}

/// After an upload: a read error of the caller's data, or data that is not
/// what the digest and size promised, is reported before the HTTP result.
fn check_read(r: HashingReader, digest: &Digest, size: u64, result: Result<()>) -> Result<()> {
    if let Some(e) = r.error {
        return Err(read_error(digest, e));
    }
    if r.read != size {
        return Err(read_error(
            digest,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("data ended after {} of {size} bytes", r.read),
            ),
        ));
    }
    let actual = finish(r.hasher);
    if actual != *digest {
        return Err(Error::DigestMismatch {
            what: "upload data for blob",
            digest: digest.to_string(),
            url: "the caller's reader".to_string(),
            actual: actual.to_string(),
        });
    }
    result
}

fn read_error(digest: &Digest, error: io::Error) -> Error {
    Error::Read {
        digest: digest.to_string(),
        error,
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn location(ep: &Endpoint, url: &str, resp: &ureq::http::Response<ureq::Body>) -> Result<String> {
    match header(resp, "location") {
        Some(l) => Ok(ep.resolve_location(&l)),
        None => Err(Error::Protocol {
            url: url.to_string(),
            reason: "upload response has no Location header".into(),
        }),
    }
}

fn location_or(
    ep: &Endpoint,
    previous: &str,
    resp: &ureq::http::Response<ureq::Body>,
) -> Result<String> {
    Ok(header(resp, "location").map_or_else(|| previous.to_string(), |l| ep.resolve_location(&l)))
}

fn with_digest(location: &str, digest: &Digest) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}digest={}", encode_query(digest.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_query() {
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        assert!(with_digest("http://h/u?_state=x", &d)
            .starts_with("http://h/u?_state=x&digest=sha256%3Aaaa"));
        assert!(with_digest("/u", &d).starts_with("/u?digest=sha256%3A"));
    }

    #[test]
    fn hashing_reader_stops_at_the_limit() {
        let mut data: &[u8] = b"hello world";
        let mut r = HashingReader {
            inner: &mut data,
            hasher: Sha256::new(),
            read: 0,
            limit: 5,
            error: None,
            progress: None,
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(finish(r.hasher), crate::digest::sha256_digest(b"hello"));
    }
}
