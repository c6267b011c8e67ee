//! Upload sessions: `uploads/ID/` holds the repository's name and the
//! bytes received so far. The sha256 state of a session between two
//! requests is kept in memory ([`Sessions`]); after a restart it is
//! recomputed from the bytes on disk, so a client can resume any upload
//! the disk still has. Only verified bytes ever leave `uploads/`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

use super::{Context, Result, Storage};
use crate::names::{Digest, RepoName};

/// An upload's id: 32 lowercase hex characters (random).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    pub fn parse(s: &str) -> Option<UploadId> {
        let ok = s.len() == 32
            && s.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        ok.then(|| UploadId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 16 random bytes in hex, from the kernel.
pub(crate) fn random_id() -> String {
    let mut b = [0u8; 16];
    let read = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        // No /dev/urandom (a minimal chroot): unique enough for a file name.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (nanos ^ u128::from(std::process::id()) << 64).to_le_bytes();
    }
    hex::encode(b)
}

/// An upload being written to by one request.
pub struct Upload {
    pub id: UploadId,
    pub repo: RepoName,
    file: File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
}

impl Upload {
    /// Appends a chunk of the blob.
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk)?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// Why an upload cannot be continued.
#[derive(Debug)]
pub enum BeginError {
    /// No such upload in this repository (finished, cancelled, purged).
    Unknown,
    /// Another request is writing to it.
    Busy,
    Storage(super::StorageError),
}

/// The hash states of uploads between requests (`None`: in use).
#[derive(Default)]
pub struct Sessions {
    states: Mutex<HashMap<UploadId, Option<(Sha256, u64)>>>,
}

impl Sessions {
    fn states(&self) -> std::sync::MutexGuard<'_, HashMap<UploadId, Option<(Sha256, u64)>>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the upload for one request (blocking: may rehash its bytes).
    pub fn begin(
        &self,
        storage: &Storage,
        id: &UploadId,
        repo: &RepoName,
    ) -> std::result::Result<Upload, BeginError> {
        if storage.upload_repo(id).as_ref() != Some(repo) {
            return Err(BeginError::Unknown);
        }
        let cached = match self.states().insert(id.clone(), None) {
            Some(None) => return Err(BeginError::Busy),
            Some(Some(state)) => Some(state),
            None => None,
        };
        let opened = storage.open_upload(id, repo.clone(), cached);
        if opened.is_err() {
            self.states().remove(id);
        }
        opened
    }

    /// Gives the upload back after a request, for the next one.
    pub fn park(&self, upload: Upload) {
        let state = (upload.hasher, upload.size);
        self.states().insert(upload.id, Some(state));
    }

    /// Forgets a finished or cancelled upload.
    pub fn forget(&self, id: &UploadId) {
        self.states().remove(id);
    }
}

impl Storage {
    fn upload_dir(&self, id: &UploadId) -> PathBuf {
        self.root.join("uploads").join(id.as_str())
    }

    /// Starts an upload session for `repo`.
    pub fn start_upload(&self, repo: &RepoName) -> Result<UploadId> {
        let id = UploadId(random_id());
        let dir = self.upload_dir(&id);
        fs::create_dir(&dir).at("create", &dir)?;
        let data = dir.join("data");
        File::create(&data).at("create", &data)?;
        let name = dir.join("repo");
        fs::write(&name, repo.as_str()).at("write", &name)?;
        Ok(id)
    }

    /// The repository an upload belongs to, if it exists.
    pub fn upload_repo(&self, id: &UploadId) -> Option<RepoName> {
        let name = fs::read_to_string(self.upload_dir(id).join("repo")).ok()?;
        RepoName::parse(&name)
    }

    /// Bytes an upload holds, if it exists.
    pub fn upload_size(&self, id: &UploadId) -> Option<u64> {
        fs::metadata(self.upload_dir(id).join("data"))
            .ok()
            .map(|m| m.len())
    }

    /// Removes an upload and what it received.
    pub fn cancel_upload(&self, id: &UploadId) -> Result<()> {
        let dir = self.upload_dir(id);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e).at("remove", &dir),
            _ => Ok(()),
        }
    }

    fn open_upload(
        &self,
        id: &UploadId,
        repo: RepoName,
        cached: Option<(Sha256, u64)>,
    ) -> std::result::Result<Upload, BeginError> {
        let path = self.upload_dir(id).join("data");
        let file = OpenOptions::new().append(true).open(&path);
        let file = file.at("open", &path).map_err(BeginError::Storage)?;
        let on_disk = file
            .metadata()
            .at("stat", &path)
            .map_err(BeginError::Storage)?
            .len();
        let (hasher, size) = match cached {
            Some((h, size)) if size == on_disk => (h, size),
            _ => (rehash(&path).map_err(BeginError::Storage)?, on_disk),
        };
        Ok(Upload {
            id: id.clone(),
            repo,
            file,
            path,
            hasher,
            size,
        })
    }

    /// Verifies a finished upload against `want` and stores it as a blob
    /// of its repository; a mismatch removes the upload and returns the
    /// digest of what was received.
    pub fn finish_upload(
        &self,
        upload: Upload,
        want: &Digest,
    ) -> Result<std::result::Result<(), Digest>> {
        let got = Digest::from_sha256(upload.hasher.finalize().into());
        if &got != want {
            self.cancel_upload(&upload.id)?;
            return Ok(Err(got));
        }
        upload.file.sync_all().at("fsync", &upload.path)?;
        drop(upload.file);
        let lock = self.shared_lock()?;
        self.commit_blob_file(&upload.path, &upload.repo, want)?;
        drop(lock);
        self.cancel_upload(&upload.id)?;
        Ok(Ok(()))
    }
}

fn rehash(path: &std::path::Path) -> Result<Sha256> {
    let mut f = File::open(path).at("open", path)?;
    let mut h = Sha256::new();
    io::copy(&mut f, &mut h).at("read", path)?;
    Ok(h)
}
