//! Blob downloads: streamed into any `Write`, hashed on the way, resumable
//! with `Range`, retried from where they stopped.
//!
//! Resume contract: the caller has already written a prefix of the blob and
//! passes a [`Resume`] whose hasher has seen exactly those bytes (kept from
//! the interrupted download, or rebuilt with [`Resume::from_prefix`]). The
//! writer must be positioned right after the prefix. At the end the digest
//! of prefix + new bytes is checked, so a wrong prefix is caught too.

use std::io::{self, Read, Write};

use oci_spec::image::Digest;
use sha2::{Digest as _, Sha256};
use ureq::http::Method;

use crate::client::{header, status_error, Call, Client};
use crate::digest::{finish, require_sha256};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::manifest::pull_scope;
use crate::reference::Repository;

/// Called with (bytes so far, total if known).
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

const BUF: usize = 128 * 1024;

/// Where an interrupted download stopped: the prefix length and its hash.
#[derive(Clone, Default)]
pub struct Resume {
    offset: u64,
    hasher: Sha256,
}

impl Resume {
    /// `hasher` must have hashed exactly the `offset` bytes already written.
    pub fn new(offset: u64, hasher: Sha256) -> Self {
        Resume { offset, hasher }
    }

    /// Hashes an already-written prefix (e.g. a partial file opened for
    /// reading) to resume after it.
    pub fn from_prefix(mut prefix: impl Read) -> io::Result<Self> {
        let mut hasher = Sha256::new();
        let offset = io::copy(&mut prefix, &mut hasher)?;
        Ok(Resume { offset, hasher })
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("offset", &self.offset)
            .finish()
    }
}

/// Options of [`Client::get_blob`].
#[derive(Default)]
pub struct BlobFetch<'a> {
    /// The size from the descriptor; more or fewer bytes is an error.
    pub size: Option<u64>,
    pub resume: Option<Resume>,
    pub progress: Option<Progress<'a>>,
    /// The writer verifies the digest itself (a content store that hashes
    /// what it is given): skip hashing here, check only the size. Saves one
    /// sha256 pass over every byte, and the `Resume` hasher is not used.
    pub writer_verifies: bool,
}

/// A download in progress.
struct Download<'a, 'w> {
    digest: &'w Digest,
    url: String,
    written: u64,
    hasher: Sha256,
    hashing: bool,
    size: Option<u64>,
    out: &'w mut dyn Write,
    progress: Option<Progress<'a>>,
}

/// A failure while streaming: transient ones are resumed.
enum Failure {
    Transient(Error),
    Fatal(Error),
}

impl Client {
    /// Downloads a blob into `out`, verifying its sha256 (and size when
    /// given). Follows redirects; a connection lost mid-body is resumed with
    /// `Range` up to the retry policy's attempts. Returns the blob's size.
    pub fn get_blob(
        &self,
        repo: &Repository,
        digest: &Digest,
        out: &mut dyn Write,
        opts: BlobFetch,
    ) -> Result<u64> {
        require_sha256(digest)?;
        let ep = self.endpoint(&repo.registry)?;
        let resume = opts.resume.unwrap_or_default();
        let mut d = Download {
            digest,
            url: ep.url(&blob_path(repo, digest)),
            written: resume.offset,
            hasher: resume.hasher,
            hashing: !opts.writer_verifies,
            size: opts.size,
            out,
            progress: opts.progress,
        };
        d.check_not_over()?;
        let retry = self.inner.config.retry;
        let mut attempt = 0;
        while d.size != Some(d.written) {
            match self.fetch(&ep, repo, &mut d) {
                Ok(()) => break,
                Err(Failure::Transient(_)) if attempt + 1 < retry.attempts => {
                    std::thread::sleep(retry.delay(attempt));
                    attempt += 1;
                }
                Err(Failure::Transient(e) | Failure::Fatal(e)) => return Err(e),
            }
        }
        d.verify()
    }

    /// `HEAD` on a blob: its size, or `None` when the registry lacks it.
    pub fn blob_exists(&self, repo: &Repository, digest: &Digest) -> Result<Option<u64>> {
        self.blob_exists_scoped(repo, digest, pull_scope(repo))
    }

    pub(crate) fn blob_exists_scoped(
        &self,
        repo: &Repository,
        digest: &Digest,
        scopes: Vec<String>,
    ) -> Result<Option<u64>> {
        let ep = self.endpoint(&repo.registry)?;
        let url = ep.url(&blob_path(repo, digest));
        let resp = self.send(&ep, Call::new(Method::HEAD, url.clone(), scopes))?;
        match resp.status().as_u16() {
            200 => Ok(Some(
                header(&resp, "content-length")
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0),
            )),
            404 => Ok(None),
            _ => Err(status_error(&Method::HEAD, &url, resp)),
        }
    }

    /// One GET from `d.written` on; streams until the body ends.
    fn fetch(&self, ep: &Endpoint, repo: &Repository, d: &mut Download) -> Result<(), Failure> {
        let mut call = Call::new(Method::GET, d.url.clone(), pull_scope(repo))
            .header("Accept-Encoding", "identity");
        if d.written > 0 {
            call = call.header("Range", format!("bytes={}-", d.written));
        }
        let resp = self.send(ep, call).map_err(Failure::Fatal)?;
        let length: Option<u64> = header(&resp, "content-length").and_then(|l| l.parse().ok());
        let skip = match resp.status().as_u16() {
            // The server ignored Range: drop the part we already have.
            200 => d.written,
            206 => {
                d.check_content_range(header(&resp, "content-range").as_deref())?;
                0
            }
            _ => return Err(Failure::Fatal(status_error(&Method::GET, &d.url, resp))),
        };
        let total = d.size.or(length.map(|l| l + d.written - skip));
        let mut reader = resp.into_body().into_reader();
        d.stream(&mut reader, skip, total)
    }
}

impl Download<'_, '_> {
    fn stream(
        &mut self,
        r: &mut dyn Read,
        mut skip: u64,
        total: Option<u64>,
    ) -> Result<(), Failure> {
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Failure::Transient(Error::Transport {
                        method: "GET".into(),
                        url: self.url.clone(),
                        error: ureq::Error::Io(e),
                    }))
                }
            };
            let k = skip.min(n as u64) as usize;
            skip -= k as u64;
            self.accept(&buf[k..n]).map_err(Failure::Fatal)?;
            if let Some(p) = self.progress.as_mut() {
                p(self.written, total);
            }
        }
    }

    fn accept(&mut self, data: &[u8]) -> Result<()> {
        self.written += data.len() as u64;
        self.check_not_over()?;
        if self.hashing {
            self.hasher.update(data);
        }
        self.out.write_all(data).map_err(|error| Error::Write {
            digest: self.digest.to_string(),
            error,
        })
    }

    fn check_not_over(&self) -> Result<()> {
        match self.size {
            Some(size) if self.written > size => Err(self.size_error(size)),
            _ => Ok(()),
        }
    }

    fn size_error(&self, expected: u64) -> Error {
        Error::SizeMismatch {
            what: "blob",
            digest: self.digest.to_string(),
            url: self.url.clone(),
            expected,
            actual: self.written,
        }
    }

    /// `bytes START-END/TOTAL` must start where we are.
    fn check_content_range(&self, value: Option<&str>) -> Result<(), Failure> {
        let start = value
            .and_then(|v| v.trim().strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|s| s.trim().parse::<u64>().ok());
        match start {
            Some(s) if s == self.written => Ok(()),
            _ => Err(Failure::Fatal(Error::Protocol {
                url: self.url.clone(),
                reason: format!(
                    "asked for bytes from {}, got Content-Range {:?}",
                    self.written,
                    value.unwrap_or("")
                ),
            })),
        }
    }

    fn verify(self) -> Result<u64> {
        if let Some(size) = self.size.filter(|s| *s != self.written) {
            return Err(self.size_error(size));
        }
        if !self.hashing {
            return Ok(self.written);
        }
        let actual = finish(self.hasher);
        if actual != *self.digest {
            return Err(Error::DigestMismatch {
                what: "blob",
                digest: self.digest.to_string(),
                url: self.url,
                actual: actual.to_string(),
            });
        }
        Ok(self.written)
    }
}

pub(crate) fn blob_path(repo: &Repository, digest: &Digest) -> String {
    format!("/v2/{}/blobs/{digest}", repo.name)
}
