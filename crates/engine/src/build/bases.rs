//! Base images of a build (`FROM image`, `COPY --from=image`): found in
//! the store, or pulled when missing (or always, with `--pull`), once per
//! reference and platform. The planner asks for their configuration
//! (environment, working directory, ONBUILD triggers) and the cache for
//! their digests; both go through here.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use yurta_build::cache::ImageDigests;
use yurta_build::plan::{BaseConfig, BaseImages};
use yurta_build::Platform;
use yurta_images::spec::ImageConfig;
use yurta_images::{ImageRecord, Store};

use super::BuildProgress;
use crate::distribution::{self, ClientOptions, PullRequest, Silent};

pub struct Bases<'a> {
    pub root: &'a Path,
    pub store: &'a Store,
    /// Pull even when the store has the image (`--pull`).
    pub pull: bool,
    pub progress: &'a dyn BuildProgress,
    found: Mutex<BTreeMap<(String, String), Result<ImageRecord, String>>>,
}

impl<'a> Bases<'a> {
    pub fn new(
        root: &'a Path,
        store: &'a Store,
        pull: bool,
        progress: &'a dyn BuildProgress,
    ) -> Self {
        Bases {
            root,
            store,
            pull,
            progress,
            found: Mutex::new(BTreeMap::new()),
        }
    }

    /// The image `reference` for `platform`, pulled if need be.
    pub fn get(&self, reference: &str, platform: &Platform) -> anyhow::Result<ImageRecord> {
        let key = (reference.to_string(), platform.to_string());
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let got = found
            .entry(key)
            .or_insert_with(|| self.find(reference, platform).map_err(|e| format!("{e:#}")));
        got.clone().map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn find(&self, reference: &str, platform: &Platform) -> anyhow::Result<ImageRecord> {
        if !self.pull {
            if let Ok(image) = self.store.resolve(reference) {
                return Ok(image);
            }
        }
        let wanted: yurta_images::Platform = platform.to_string().parse()?;
        self.progress
            .line(&format!("Pulling {reference} for {platform}"));
        let client = distribution::client(&ClientOptions::default());
        let req = PullRequest {
            root: self.root,
            image: reference,
            platform: Some(&wanted),
            client: &client,
        };
        let pulled = distribution::pull(&req, &Silent)?;
        Ok(self.store.resolve(&pulled.reference)?)
    }

    /// The first error any lookup met, for the planner's `None`s.
    pub fn error(&self) -> Option<String> {
        let found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        found.values().find_map(|r| r.as_ref().err().cloned())
    }
}

impl BaseImages for Bases<'_> {
    fn config(&self, reference: &str, platform: &Platform) -> Option<BaseConfig> {
        let image = self.get(reference, platform).ok()?;
        let config: ImageConfig = self.store.read_json(&image.id).ok()?;
        let run = config.config.unwrap_or_default();
        let env = run
            .env
            .iter()
            .flatten()
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let onbuild = run
            .extra
            .get("OnBuild")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        Some(BaseConfig {
            env,
            working_dir: run.working_dir.unwrap_or_default(),
            onbuild,
        })
    }
}

impl ImageDigests for Bases<'_> {
    fn digest(&self, reference: &str, platform: &Platform) -> Option<String> {
        let image = self.get(reference, platform).ok()?;
        Some(image.manifest.digest.to_string())
    }
}
