//! Writing blobs: into a file under `ingest/`, hashed while written, then
//! verified and renamed into `blobs/sha256/`. Nothing is visible under
//! `blobs/` until it is complete and verified; a killed write leaves only a
//! partial file that the next writer of the same digest resumes from.
//!
//! Every writer holds an exclusive flock on its ingest file while it works,
//! so garbage collection removes only files nobody holds. A write that
//! fails for lack of space drops what was written: the disk needs the
//! space more than a later attempt needs to resume.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::fcntl::Flock;
use sha2::{Digest as _, Sha256};

use super::lock::{hold, lock_file};
use super::{fsync_dir, Store, StoreError};
use crate::digest::Digest;

/// A blob being written. For a known digest (`Store::blob_writer`) the file
/// is `ingest/<hex>.partial`, locked so that two processes fetching the same
/// blob take turns, and kept after a failure so the next attempt resumes.
/// For an unknown digest (`Store::ingest`) it is a private temporary file
/// removed on drop.
pub struct BlobWriter {
    file: Option<Flock<File>>,
    temp: Option<tempfile::NamedTempFile>,
    /// The flock that marks a temporary file as in use.
    _held: Option<Flock<File>>,
    partial: PathBuf,
    blobs_dir: PathBuf,
    expected: Option<(Digest, u64)>,
    hasher: Sha256,
    written: u64,
    complete: bool,
}

impl BlobWriter {
    pub(super) fn known(
        store: &Store,
        digest: &Digest,
        size: u64,
    ) -> Result<BlobWriter, StoreError> {
        let partial = store.ingest_dir().join(format!("{}.partial", digest.hex()));
        let file = open_locked_partial(&partial)?;
        let mut w = BlobWriter {
            file: Some(file),
            temp: None,
            _held: None,
            partial,
            blobs_dir: store.blobs_dir(),
            expected: Some((digest.clone(), size)),
            hasher: Sha256::new(),
            written: 0,
            complete: false,
        };
        if store.has_blob(digest) {
            w.complete = true;
            w.written = size;
            let _ = fs::remove_file(&w.partial);
            return Ok(w);
        }
        w.rehash_existing()?;
        Ok(w)
    }

    pub(super) fn unknown(store: &Store) -> Result<BlobWriter, StoreError> {
        let dir = store.ingest_dir();
        let temp = tempfile::Builder::new()
            .prefix("new-")
            .tempfile_in(&dir)
            .map_err(StoreError::io("create temporary file in", &dir))?;
        let held = hold(temp.path())?;
        Ok(BlobWriter {
            file: None,
            partial: temp.path().to_path_buf(),
            temp: Some(temp),
            _held: Some(held),
            blobs_dir: store.blobs_dir(),
            expected: None,
            hasher: Sha256::new(),
            written: 0,
            complete: false,
        })
    }

    /// Bytes already present: resume the download from here (for example
    /// with `Range: bytes=<offset>-`).
    pub fn offset(&self) -> u64 {
        self.written
    }

    /// The digest of what has been written so far.
    pub fn digest(&self) -> Digest {
        Digest::from_hasher(self.hasher.clone())
    }

    /// Where the bytes are being written (to read them back before commit).
    pub fn path(&self) -> &std::path::Path {
        &self.partial
    }

    /// The blob is already in the store: nothing to write, `commit` is a no-op.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Drops what a previous attempt left and starts from byte 0 (for a
    /// server that ignores ranges).
    pub fn restart(&mut self) -> Result<(), StoreError> {
        let file = self.file_mut();
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)).map(|_| ()))
            .map_err(StoreError::io("truncate", &self.partial))?;
        self.hasher = Sha256::new();
        self.written = 0;
        Ok(())
    }

    /// Verifies size and digest, makes the blob durable and visible, and
    /// returns its digest and size. On a mismatch the partial file is removed
    /// (its bytes are wrong) and the error names both digests.
    pub fn commit(mut self) -> Result<(Digest, u64), StoreError> {
        if self.complete {
            let (d, s) = self
                .expected
                .clone()
                .expect("complete implies a known digest");
            return Ok((d, s));
        }
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if let Err(e) = self.verify(&actual) {
            let _ = fs::remove_file(&self.partial);
            return Err(e);
        }
        let path = self.partial.clone();
        yurta_fault::point("store.blob.written");
        if let Err(e) = self.file_mut().sync_all() {
            if is_no_space(&e) {
                self.discard();
            }
            return Err(StoreError::io("fsync", &path)(e));
        }
        let target = self.blobs_dir.join(actual.hex());
        match self.temp.take() {
            Some(temp) => temp
                .persist(&target)
                .map(|_| ())
                .map_err(|e| StoreError::io("rename into", &target)(e.error))?,
            None => fs::rename(&self.partial, &target)
                .map_err(StoreError::io("rename into", &target))?,
        }
        yurta_fault::point("store.blob.committed");
        fsync_dir(&self.blobs_dir)?;
        Ok((actual, self.written))
    }

    /// Drops the bytes written so far and the partial file (a temporary
    /// file goes when the writer is dropped).
    fn discard(&mut self) {
        let _ = self.file_mut().set_len(0);
        if self.temp.is_none() {
            let _ = fs::remove_file(&self.partial);
        }
        self.hasher = Sha256::new();
        self.written = 0;
    }

    /// A failed write, naming the file; on a full disk the partial file is
    /// dropped so that the failure does not keep the disk full.
    fn failed(&mut self, e: io::Error) -> io::Error {
        if is_no_space(&e) {
            self.discard();
        }
        io::Error::new(e.kind(), format!("write {}: {e}", self.partial.display()))
    }

    fn verify(&self, actual: &Digest) -> Result<(), StoreError> {
        let Some((expected, size)) = &self.expected else {
            return Ok(());
        };
        if self.written != *size {
            return Err(StoreError::SizeMismatch {
                digest: expected.clone(),
                expected: *size,
                actual: self.written,
            });
        }
        if actual != expected {
            return Err(StoreError::DigestMismatch {
                expected: expected.clone(),
                actual: actual.clone(),
            });
        }
        Ok(())
    }

    fn file_mut(&mut self) -> &mut File {
        match (&mut self.file, &mut self.temp) {
            (Some(f), _) => f,
            (None, Some(t)) => t.as_file_mut(),
            (None, None) => unreachable!("a BlobWriter always has a file"),
        }
    }

    /// Feeds the bytes of an earlier attempt to the hasher; drops them when
    /// they are already longer than the blob.
    fn rehash_existing(&mut self) -> Result<(), StoreError> {
        let size = self.expected.as_ref().map_or(0, |(_, s)| *s);
        let path = self.partial.clone();
        let file = self.file_mut();
        let len = file
            .metadata()
            .map_err(StoreError::io("stat", &path))?
            .len();
        if len > size {
            return self.restart();
        }
        file.seek(SeekFrom::Start(0))
            .map_err(StoreError::io("seek", &path))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(StoreError::io("read", &path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        self.hasher = hasher;
        self.written = len;
        Ok(())
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some((digest, size)) = &self.expected {
            if self.complete || self.written + buf.len() as u64 > *size {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("blob {digest} is longer than the expected {size} bytes"),
                ));
            }
        }
        let n = match self.file_mut().write(buf) {
            Ok(n) => n,
            Err(e) => return Err(self.failed(e)),
        };
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file_mut().flush()
    }
}

/// ENOSPC or EDQUOT: the file system (or the user's quota) is full.
pub(crate) fn is_no_space(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
}

/// Opens and locks `ingest/<hex>.partial`. When the lock is granted the
/// path may meanwhile name another inode (the holder committed or dropped
/// it), so retry until the locked file is the one at the path.
fn open_locked_partial(path: &PathBuf) -> Result<Flock<File>, StoreError> {
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(StoreError::io("open", path))?;
        let mut locked = lock_file(file, true, path)?;
        let held = locked
            .metadata()
            .map_err(StoreError::io("stat", path))?
            .ino();
        match fs::metadata(path) {
            Ok(m) if m.ino() == held => {
                locked
                    .seek(SeekFrom::End(0))
                    .map_err(StoreError::io("seek", path))?;
                return Ok(locked);
            }
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io("stat", path)(e)),
        }
    }
}
