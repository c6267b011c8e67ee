//! Downloading an image's blobs into the store, several at once, each
//! straight into `Store::blob_writer` (so a killed pull leaves only
//! `ingest/<hex>.partial`, which the next pull resumes with `Range`), and
//! unpacking each layer into its snapshot as soon as it is complete.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use yurta_images::spec::Descriptor;
use yurta_images::{Digest, Store};
use yurta_registry::{BlobFetch, Client, Error, Repository, Resume, Sha256};

use super::pool::{self, THREADS};
use super::progress::Throttle;
use super::{registry_digest, short, Progress, Silent};

/// A layer to fetch and the snapshot it unpacks into.
pub struct Layer {
    pub desc: Descriptor,
    pub diff_id: Digest,
    pub chain_id: Digest,
}

/// Where blobs come from and go to.
pub struct Fetcher<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub repo: &'a Repository,
    pub progress: &'a dyn Progress,
}

/// What fetching the layers did.
#[derive(Default)]
pub struct Fetched {
    /// Anything was downloaded or unpacked.
    pub fresh: bool,
    /// Uncompressed sizes of the layers unpacked now, by diff ID.
    pub diff_sizes: HashMap<Digest, u64>,
}

impl Fetcher<'_> {
    /// Fetches and unpacks every layer.
    pub fn layers(&self, layers: Vec<Layer>) -> anyhow::Result<Fetched> {
        let done = pool::for_each(layers, THREADS, |l| {
            self.layer(&l).map(|(fresh, size)| (l.diff_id, fresh, size))
        })?;
        let mut out = Fetched::default();
        for (diff_id, fresh, size) in done {
            out.fresh |= fresh;
            out.diff_sizes.extend(size.map(|s| (diff_id, s)));
        }
        Ok(out)
    }

    /// One layer: true when it was new, and its uncompressed size when it
    /// was unpacked now.
    fn layer(&self, l: &Layer) -> anyhow::Result<(bool, Option<u64>)> {
        let digest = &l.desc.digest;
        let id = short(digest);
        let snapshot = self.store.snapshot_path(&l.chain_id);
        if self.store.has_blob(digest) && snapshot.is_dir() {
            self.progress.blob_done(&id, "Already exists");
            return Ok((false, None));
        }
        self.progress.blob(&id, "Pulling fs layer");
        self.blob(&l.desc, &id, self.progress)
            .with_context(|| format!("layer {digest}"))?;
        yurta_fault::point("pull.layer.fetched");
        let mut size = None;
        if !snapshot.is_dir() {
            self.progress.blob(&id, "Extracting");
            let started = Instant::now();
            size = self
                .store
                .unpack_layer(digest, &l.diff_id, &l.chain_id)
                .with_context(|| format!("unpack layer {digest}"))?
                .1;
            self.progress.debug(&format!(
                "unpacked {id} ({} bytes) in {:.3}s",
                l.desc.size,
                started.elapsed().as_secs_f64()
            ));
        }
        self.progress.blob_done(&id, "Pull complete");
        Ok((true, size))
    }

    /// Makes sure the store has the blob (an image config, say), showing
    /// no line for it; true when it was downloaded now.
    pub fn quiet_blob(&self, desc: &Descriptor) -> anyhow::Result<bool> {
        self.blob(desc, &short(&desc.digest), &Silent)
            .with_context(|| format!("blob {}", desc.digest))
    }

    /// Downloads one blob into the store unless it is there, resuming what
    /// an earlier pull left. True when bytes were fetched.
    fn blob(&self, desc: &Descriptor, id: &str, progress: &dyn Progress) -> anyhow::Result<bool> {
        let digest = &desc.digest;
        if self.store.has_blob(digest) {
            return Ok(false);
        }
        let mut w = self.store.blob_writer(digest, desc.size)?;
        if w.is_complete() {
            return Ok(false); // another process finished it while we waited
        }
        // The writer has re-hashed what is there and checks the digest at
        // commit, so the client only checks sizes (one sha256 pass, not two).
        let resume = match w.offset() {
            0 => None,
            offset => {
                progress.blob(id, &format!("Resuming download at {offset} bytes"));
                Some(Resume::new(offset, Sha256::default()))
            }
        };
        let started = Instant::now();
        let throttle = Throttle::new();
        let mut report = |done: u64, total: Option<u64>| {
            let total = total.unwrap_or(0);
            if throttle.due(done, total) {
                progress.bytes(id, "Downloading", done, total);
            }
        };
        let fetched = self.client.get_blob(
            self.repo,
            &registry_digest(digest)?,
            &mut w,
            BlobFetch {
                size: Some(desc.size),
                resume,
                progress: Some(&mut report),
                writer_verifies: true,
            },
        );
        if let Err(e) = fetched {
            if matches!(e, Error::DigestMismatch { .. } | Error::SizeMismatch { .. }) {
                // Wrong bytes: never resume from them.
                let _ = std::fs::remove_file(w.path());
            }
            return Err(e.into());
        }
        progress.blob(id, "Verifying Checksum");
        // A mismatch removes the partial file and names both digests.
        w.commit()?;
        progress.debug(&format!(
            "downloaded {id} ({} bytes) in {:.3}s",
            desc.size,
            started.elapsed().as_secs_f64()
        ));
        progress.blob(id, "Download complete");
        Ok(true)
    }
}
