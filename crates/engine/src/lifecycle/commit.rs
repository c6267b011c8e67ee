//! `commit`: a container's changes become an image on top of its own
//! (`yurta_images::commit`), with the container's configuration and
//! `--change` instructions; a running container is paused meanwhile
//! unless asked not to. The CLI's `commit` and the API's `POST /commit`.
//!
//! `start.lock` is held throughout, so the container is neither started
//! nor removed under the commit. While paused, the record says so: a
//! commit killed then leaves a container that `ps` shows paused and
//! `unpause` resumes.

use anyhow::{bail, Context};
use yurta_images::commit::{CommitOptions, ContainerFs};
use yurta_images::spec::RunConfig;
use yurta_images::ImageRecord;

use super::changes::{image_of, ReadFs};
use super::{reconcile, state, Host, Paths};
use crate::record::{Config, ContainerRecord, Status};
use crate::Engine;

/// What to commit, and how.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    /// The container: a name or ID (prefix).
    pub container: String,
    /// `REPOSITORY[:TAG]` for the new image; none leaves it untagged.
    pub reference: Option<String>,
    /// Dockerfile instructions applied to the configuration.
    pub changes: Vec<String>,
    pub author: Option<String>,
    pub comment: Option<String>,
    /// Freeze a running container meanwhile (Docker's default).
    pub pause: bool,
}

/// Commits the container; returns the new image's record.
pub fn commit(host: &Host, req: &CommitRequest) -> anyhow::Result<ImageRecord> {
    // Bad input is refused before the container is paused.
    if let Some(r) = &req.reference {
        r.parse::<yurta_images::Reference>()
            .with_context(|| format!("commit: invalid reference {r:?}"))?;
    }
    for c in &req.changes {
        yurta_images::changes::apply(&mut RunConfig::default(), c)?;
    }
    let engine = Engine::open(&host.root)?;
    let id = engine.containers.lookup(&req.container)?.id;
    let p = Paths::new(&host.root, &id);
    let Some(_held) = reconcile::lock_start(&p) else {
        bail!("No such container: {}", req.container);
    };
    let rec = reconcile::refresh_held(host, &engine, &id)?;
    let parent = image_of(&engine, &rec, "commit")?;
    let opts = CommitOptions {
        config: run_config(&rec.config),
        changes: req.changes.clone(),
        author: req.author.clone(),
        comment: req.comment.clone(),
        created_by: rec.config.cmd.clone().unwrap_or_default().join(" "),
        reference: req.reference.clone(),
        build_cache: false,
        timestamp: None,
    };
    let paused = match req.pause {
        true => Paused::pause(host, &engine, &rec)?,
        false => None,
    };
    yurta_fault::point("commit.paused");
    let (fs, dir) = ReadFs::of(&engine, &rec);
    let fs = match fs {
        ReadFs::Upper => ContainerFs::Upper(&dir),
        ReadFs::Copy => ContainerFs::Copy(&dir),
    };
    let made = yurta_images::commit::commit(&engine.images, &parent, fs, &opts);
    let resumed = paused.map_or(Ok(()), Paused::resume);
    let image = made.with_context(|| format!("commit {}", req.container))?;
    resumed?;
    Ok(image)
}

/// The image's run configuration from the container's, as Docker commits
/// it (the OCI fields; empty ones left out).
fn run_config(c: &Config) -> RunConfig {
    let some = |s: &String| (!s.is_empty()).then(|| s.clone());
    RunConfig {
        user: some(&c.user),
        exposed_ports: c.exposed_ports.clone(),
        env: (!c.env.is_empty()).then(|| c.env.clone()),
        entrypoint: c.entrypoint.clone(),
        cmd: c.cmd.clone(),
        volumes: c.volumes.clone(),
        working_dir: some(&c.working_dir),
        labels: (!c.labels.is_empty()).then(|| c.labels.clone()),
        stop_signal: c.stop_signal.clone(),
        extra: Default::default(),
    }
}

/// A running container frozen for the commit (the runtime's freezer) and
/// recorded paused; resumed by [`Paused::resume`].
struct Paused<'a> {
    host: &'a Host,
    engine: &'a Engine,
    id: String,
    pid: i32,
}

impl<'a> Paused<'a> {
    /// Pauses `rec` if it runs and is not paused already (then it stays as
    /// the user left it).
    fn pause(
        host: &'a Host,
        engine: &'a Engine,
        rec: &ContainerRecord,
    ) -> anyhow::Result<Option<Paused<'a>>> {
        if !rec.state.running || rec.state.paused {
            return Ok(None);
        }
        state::runtime(host, &["pause", &rec.id])
            .with_context(|| format!("commit: pause {}", rec.bare_name()))?;
        let p = Paused {
            host,
            engine,
            id: rec.id.clone(),
            pid: rec.state.pid,
        };
        if let Err(e) = p.record(Status::Paused) {
            let _ = state::runtime(host, &["resume", &rec.id]);
            return Err(e);
        }
        Ok(Some(p))
    }

    fn record(&self, status: Status) -> anyhow::Result<()> {
        let pid = self.pid;
        self.engine.containers.update(&self.id, |r| {
            r.state.set_status(status);
            r.state.pid = pid;
        })?;
        Ok(())
    }

    fn resume(self) -> anyhow::Result<()> {
        state::runtime(self.host, &["resume", &self.id]).context("commit: unpause")?;
        self.record(Status::Running)
    }
}
