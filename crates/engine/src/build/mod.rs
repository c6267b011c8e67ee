//! `yurta build`'s executor, for every front end (the CLI's `build`, the
//! API's `POST /build`): a Dockerfile and a context → a [`yurta_build`]
//! plan and cache keys → each needed stage's steps, in order: RUN in a
//! real container ([`run`]), COPY/ADD into the root filesystem
//! ([`copy`]), configuration instructions as config-only images
//! ([`config`]). Every step's result is an image in the store, recorded as
//! a build cache entry and indexed by its key ([`cache`]), so a rebuild
//! with nothing changed runs nothing, and changing one copied file re-runs
//! from that step on. Progress is Docker's classic builder's (`Step 2/5 :
//! RUN make`, ` ---> Using cache`, ` ---> 3f2a…`).
//!
//! Stages that do not depend on each other build at the same time.
//!

mod bases;
pub mod cache;
mod config;
mod copy;
mod foreign;
mod mounts;
mod run;
pub mod stale;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use yurta_build::cache::keys;
use yurta_build::context::Context;
use yurta_build::plan::{Base, CopyFrom, Op, Plan, PlanOptions, Stage};
use yurta_build::Platform;
use yurta_images::commit::{commit, scratch, CommitOptions, ContainerFs};
use yurta_images::spec::{ImageConfig, RunConfig};
use yurta_images::{ImageRecord, Store};

use crate::distribution::short;
use crate::lifecycle::{self, Host};
use crate::Engine;
use bases::Bases;
use cache::Cache;

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile: absolute, or relative to the context; default
    /// `Dockerfile`, else `Containerfile`.
    pub dockerfile: Option<PathBuf>,
    /// The Dockerfile's text itself (`-f -`), instead of a file.
    pub dockerfile_text: Option<String>,
    /// `name[:tag]` to give the result.
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    /// The stage to build (default the last).
    pub target: Option<String>,
    pub no_cache: bool,
    /// Pull base images even when the store has them.
    pub pull: bool,
    /// Labels of the result.
    pub labels: BTreeMap<String, String>,
    /// The network of RUN steps without `--network` (default bridge).
    pub network: Option<String>,
    /// The target platform (default the host's).
    pub platform: Option<String>,
    /// `--secret id=…,src=…`: each secret's file, by id.
    pub secrets: BTreeMap<String, PathBuf>,
    /// `--output type=docker|oci,dest=FILE`: the image also written as an
    /// archive (docker-archive or OCI layout tar).
    pub output: Option<(yurta_images::ArchiveFormat, PathBuf)>,
    /// `--timestamp`, else the `SOURCE_DATE_EPOCH` build arg: the images'
    /// times and the latest mtime in their layers, so that the same
    /// inputs give the same image ID.
    pub timestamp: Option<i64>,
}

/// Where a build reports what it does.
pub trait BuildProgress: Sync {
    /// A line of Docker's classic output (`Step 1/3 : FROM img`).
    fn line(&self, text: &str);
    /// What a RUN step's command writes.
    fn output(&self, data: &[u8]);
}

/// What a build made.
#[derive(Debug)]
pub struct Built {
    pub image: ImageRecord,
    /// The tags given, as stored.
    pub tags: Vec<String>,
}

/// Builds `opts` on `host`'s root.
pub fn build(
    host: &Host,
    opts: &BuildOptions,
    progress: &dyn BuildProgress,
) -> anyhow::Result<Built> {
    for t in &opts.tags {
        t.parse::<yurta_images::Reference>()
            .with_context(|| format!("invalid tag {t:?}"))?;
    }
    let (name, text, host_file) = dockerfile(opts)?;
    let dockerfile = yurta_build::parse(&name, &text)?;
    let engine = Engine::open(&host.root)?;
    let platform = match &opts.platform {
        Some(p) => Platform::parse(p).map_err(|e| anyhow::anyhow!("--platform {p}: {e}"))?,
        None => Platform::host(),
    };
    let plan_opts = PlanOptions {
        build_args: opts.build_args.clone(),
        target: opts.target.clone(),
        target_platform: platform,
        build_platform: Platform::host(),
    };
    let bases = Bases::new(&host.root, &engine.images, opts.pull, progress);
    let plan = yurta_build::plan(&dockerfile, &plan_opts, &bases);
    if let Some(e) = bases.error() {
        bail!("{e}");
    }
    let plan = plan?;
    for a in &plan.unused_build_args {
        progress.line(&format!(
            "[Warning] One or more build-args [{a}] were not consumed"
        ));
    }
    let context = Context::open(&opts.context, host_file.as_deref())
        .with_context(|| format!("build context {}", opts.context.display()))?;
    let keys = keys(&plan, &context, &bases)?;
    stale::collect(host, &engine);
    let scratch_dir = scratch_dir(&host.root)?;
    let timestamp = match (opts.timestamp, opts.build_args.get("SOURCE_DATE_EPOCH")) {
        (Some(t), _) => Some(t),
        (None, Some(v)) => Some(
            v.trim()
                .parse::<i64>()
                .with_context(|| format!("SOURCE_DATE_EPOCH {v:?}: not a number of seconds"))?,
        ),
        (None, None) => None,
    };
    let b = Builder {
        host,
        engine: &engine,
        plan: &plan,
        context: &context,
        bases: &bases,
        cache: Cache::new(&host.root, timestamp),
        timestamp,
        no_cache: opts.no_cache,
        network: opts.network.as_deref(),
        secrets: &opts.secrets,
        progress,
        scratch: &scratch_dir.dir,
        build_id: scratch_dir.name(),
    };
    let mut image = b.run(&keys)?;
    if !opts.labels.is_empty() {
        let pairs = opts.labels.clone().into_iter().collect();
        image = b.config_step(&image, &Op::Label(pairs), "LABEL (--label)")?;
    }
    let mut tags = Vec::new();
    for t in &opts.tags {
        tags.push(engine.images.tag(t, &image.manifest.digest)?);
        lifecycle::events::emit(
            &host.root,
            "image",
            "tag",
            &image.id.to_string(),
            &[("name", t)],
        );
    }
    if let Some((format, dest)) = &opts.output {
        write_archive(&engine.images, &image, &opts.tags, *format, dest)?;
    }
    progress.line(&format!("Successfully built {}", short(&image.id)));
    for t in &opts.tags {
        progress.line(&format!("Successfully tagged {t}"));
    }
    Ok(Built { image, tags })
}

/// `--output`: the image (named by its tags, if any) as an archive at
/// `dest`, written to `dest.yurta-partial` and renamed when complete.
fn write_archive(
    store: &Store,
    image: &ImageRecord,
    tags: &[String],
    format: yurta_images::ArchiveFormat,
    dest: &Path,
) -> anyhow::Result<()> {
    let catalog = store.list()?;
    let queries = match tags.is_empty() {
        true => vec![image.manifest.digest.to_string()],
        false => tags.to_vec(),
    };
    let items = yurta_images::service::save_items(&catalog, &queries)?;
    let tmp = dest.with_extension("yurta-partial");
    let file = fs::File::create(&tmp).with_context(|| format!("--output {}", dest.display()))?;
    let written = yurta_images::save(store, &items, format, file, &yurta_images::Silent)
        .map_err(anyhow::Error::from)
        .and_then(|f| Ok(f.sync_all()?))
        .and_then(|()| Ok(fs::rename(&tmp, dest)?));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("--output {}", dest.display()))
}

/// A build context sent as a tar (plain, gzip or zstd) — `yurta build -`,
/// the API's request body — unpacked into a new directory under the
/// root's `build/`; the caller builds from it, and it is removed when the
/// returned [`stale::Held`] is dropped.
pub fn unpack_context(root: &Path, tar: impl std::io::Read) -> anyhow::Result<stale::Held> {
    let id = crate::ids::new_id()?;
    let ctx = stale::Held::new(root.join("build").join(format!("context-{}", &id[..16])))?;
    let mut a = tar::Archive::new(yurta_images::layers::decompress(tar)?);
    a.set_preserve_permissions(true);
    a.set_unpack_xattrs(false);
    a.unpack(&ctx.dir)
        .context("build context: not a tar archive")?;
    Ok(ctx)
}

/// `builder prune` (and `system prune`): forgets the cache index and
/// removes the untagged step images no container uses; the IDs removed
/// and the bytes reclaimed.
pub fn prune(host: &Host) -> anyhow::Result<(Vec<String>, u64)> {
    let root = &host.root;
    stale::collect(host, &Engine::open(root)?);
    let in_use = crate::system::images_in_use(root)?
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    Cache::new(root, None).clear()?;
    let mounts = root.join("build/mounts");
    match fs::remove_dir_all(&mounts) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("remove {}", mounts.display()))
        }
        _ => {}
    }
    let store = Store::open_root(root)?;
    let (removed, bytes) = yurta_images::manage::prune_build_cache(&store, &in_use)?;
    let ids = removed
        .iter()
        .map(|r| match r {
            yurta_images::manage::Removed::Deleted(d) => d.to_string(),
            yurta_images::manage::Removed::Untagged(t) => t.clone(),
        })
        .collect();
    Ok((ids, bytes))
}

/// The Dockerfile's name for messages, its text, and its host path.
fn dockerfile(opts: &BuildOptions) -> anyhow::Result<(String, String, Option<PathBuf>)> {
    if let Some(text) = &opts.dockerfile_text {
        return Ok(("Dockerfile".into(), text.clone(), None));
    }
    let path = match &opts.dockerfile {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => opts.context.join(p),
        None => {
            let d = opts.context.join("Dockerfile");
            let c = opts.context.join("Containerfile");
            if !d.exists() && c.exists() {
                c
            } else {
                d
            }
        }
    };
    let text = fs::read_to_string(&path)
        .with_context(|| format!("read the Dockerfile {}", path.display()))?;
    let name = path
        .strip_prefix(&opts.context)
        .unwrap_or(&path)
        .display()
        .to_string();
    Ok((name, text, Some(path)))
}

/// A build's temporary directory under `<root>/build/tmp/`, held (see
/// [`stale`]) and removed at the end.
fn scratch_dir(root: &Path) -> anyhow::Result<stale::Held> {
    let id = crate::ids::new_id()?;
    stale::Held::new(root.join("build").join("tmp").join(&id[..16]))
        .with_context(|| format!("create a build directory under {}", root.display()))
}

struct Builder<'a> {
    host: &'a Host,
    engine: &'a Engine,
    plan: &'a Plan,
    context: &'a Context,
    bases: &'a Bases<'a>,
    cache: Cache,
    timestamp: Option<i64>,
    no_cache: bool,
    network: Option<&'a str>,
    secrets: &'a BTreeMap<String, PathBuf>,
    progress: &'a dyn BuildProgress,
    scratch: &'a Path,
    /// The label of this build's step containers (see [`stale`]).
    build_id: String,
}

impl Builder<'_> {
    fn store(&self) -> &Store {
        &self.engine.images
    }

    /// Every needed stage in order; the target's image.
    /// Every needed stage, level by level: the stages of one level depend
    /// only on earlier levels and build at the same time. The target's
    /// image.
    fn run(&self, keys: &[Option<yurta_build::cache::StageKeys>]) -> anyhow::Result<ImageRecord> {
        let order = self.plan.order();
        let total: usize = order
            .iter()
            .map(|&i| 1 + self.plan.stages[i].steps.len())
            .sum();
        // Each stage's first step number, in the plan's order.
        let mut first = vec![0; self.plan.stages.len()];
        let mut n = 0;
        for &i in &order {
            first[i] = n;
            n += 1 + self.plan.stages[i].steps.len();
        }
        let mut results: Vec<Option<ImageRecord>> = vec![None; self.plan.stages.len()];
        for level in &self.plan.levels {
            let done: Vec<(usize, anyhow::Result<ImageRecord>)> = match level.as_slice() {
                [one] => vec![(*one, self.stage(*one, keys, &results, first[*one], total))],
                many => std::thread::scope(|s| {
                    let results = &results;
                    let first = &first;
                    let handles: Vec<_> = many
                        .iter()
                        .map(|&i| {
                            s.spawn(move || (i, self.stage(i, keys, results, first[i], total)))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                (
                                    usize::MAX,
                                    Err(anyhow::anyhow!("a stage's thread panicked")),
                                )
                            })
                        })
                        .collect()
                }),
            };
            for (i, r) in done {
                let image = r?;
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(image);
                }
            }
        }
        results[self.plan.target]
            .clone()
            .context("the target stage was not built")
    }

    /// One stage; `n` is the number of the steps before its FROM.
    fn stage(
        &self,
        index: usize,
        keys: &[Option<yurta_build::cache::StageKeys>],
        results: &[Option<ImageRecord>],
        mut n: usize,
        total: usize,
    ) -> anyhow::Result<ImageRecord> {
        let stage = &self.plan.stages[index];
        let Some(k) = &keys[index] else {
            bail!("no cache keys for stage {}", stage.display_name());
        };
        n += 1;
        self.progress.line(&format!(
            "Step {n}/{total} : FROM {}",
            from_text(self.plan, stage)
        ));
        let mut image = self.base(stage, &k.base, results)?;
        self.progress.line(&format!(" ---> {}", short(&image.id)));
        for (step, key) in stage.steps.iter().zip(&k.steps) {
            n += 1;
            yurta_fault::point("build.step");
            self.progress
                .line(&format!("Step {n}/{total} : {}", step.original.trim()));
            if !self.no_cache {
                if let Some(hit) = self.cache.get(self.store(), key) {
                    self.progress.line(" ---> Using cache");
                    self.progress.line(&format!(" ---> {}", short(&hit.id)));
                    image = hit;
                    continue;
                }
            }
            image = self.step(stage, &image, step, results).with_context(|| {
                format!(
                    "{}:{}: {}",
                    self.plan.file,
                    step.line,
                    keyword(&step.original)
                )
            })?;
            self.cache.put(key, &image)?;
            self.progress.line(&format!(" ---> {}", short(&image.id)));
        }
        Ok(image)
    }

    fn base(
        &self,
        stage: &Stage,
        key: &yurta_build::cache::Key,
        results: &[Option<ImageRecord>],
    ) -> anyhow::Result<ImageRecord> {
        match &stage.base {
            Base::Image(r) => self.bases.get(r, &stage.platform),
            Base::Stage(i) => results[*i].clone().context("the base stage was not built"),
            Base::Scratch => {
                if let Some(hit) = self.cache.get(self.store(), key) {
                    return Ok(hit);
                }
                let platform: yurta_images::Platform = stage.platform.to_string().parse()?;
                let image = scratch(self.store(), &platform)?;
                self.cache.put(key, &image)?;
                Ok(image)
            }
        }
    }

    fn step(
        &self,
        stage: &Stage,
        image: &ImageRecord,
        step: &yurta_build::plan::Step,
        results: &[Option<ImageRecord>],
    ) -> anyhow::Result<ImageRecord> {
        let mut run_config = run_config(self.store(), image)?;
        with_path(&mut run_config);
        match &step.op {
            Op::Run {
                command,
                heredocs,
                mounts,
                network,
                build_args,
                proxy_args,
            } => {
                foreign::check(&stage.platform)?;
                let from = |name: &str| self.mount_source(stage, name, results);
                let sources = mounts::Sources {
                    root: &self.host.root,
                    context: self.context.root(),
                    scratch: &self.step_dir(stage, step, "mounts"),
                    store: self.store(),
                    from: &from,
                    secrets: self.secrets,
                };
                let prepared = mounts::prepare(mounts, &sources)?;
                let env = build_args
                    .iter()
                    .chain(proxy_args)
                    .chain(&prepared.env)
                    .cloned()
                    .collect();
                let r = run::RunStep {
                    command,
                    heredocs,
                    network: network.as_ref(),
                    env,
                    default_network: self.network,
                    mounts: &prepared.specs,
                    stubs: &prepared.targets,
                    timestamp: self.timestamp,
                    build_id: &self.build_id,
                };
                run::run(
                    self.host,
                    self.engine,
                    image,
                    &run_config,
                    &r,
                    self.progress,
                )
            }
            Op::Copy(c) => {
                let from = match &c.from {
                    CopyFrom::Context => None,
                    CopyFrom::Stage(i) => results[*i].clone(),
                    CopyFrom::Image(r) => Some(self.bases.get(r, &stage.platform)?),
                };
                let sources = copy::Sources {
                    context: self.context,
                    from: from.as_ref(),
                    timestamp: self.timestamp,
                };
                let created_by = config::created_by(&step.original, &config::shell(&run_config));
                copy::copy(
                    self.store(),
                    &self.step_dir(stage, step, "copy"),
                    image,
                    &run_config,
                    c,
                    &sources,
                    &created_by,
                )
            }
            Op::Workdir(dir) => {
                let scratch = self.step_dir(stage, step, "workdir");
                self.workdir(image, &run_config, dir, &step.original, &scratch)
            }
            op => self.config_step(image, op, &step.original),
        }
    }

    /// A step's own temporary directory (stages build at the same time).
    fn step_dir(&self, stage: &Stage, step: &yurta_build::plan::Step, what: &str) -> PathBuf {
        self.scratch
            .join(format!("{}-{}-{what}", stage.index, step.line))
    }

    /// `RUN --mount from=`: a stage (by name or number) or an image.
    fn mount_source(
        &self,
        stage: &Stage,
        name: &str,
        results: &[Option<ImageRecord>],
    ) -> anyhow::Result<ImageRecord> {
        let lower = name.to_ascii_lowercase();
        let index = self
            .plan
            .stages
            .iter()
            .position(|s| s.name.as_deref() == Some(lower.as_str()))
            .or_else(|| name.parse::<usize>().ok());
        match index {
            Some(i) => results
                .get(i)
                .cloned()
                .flatten()
                .with_context(|| format!("--mount from={name}: that stage is not built")),
            None => self.bases.get(name, &stage.platform),
        }
    }

    /// A configuration instruction: the same layers, a new config.
    fn config_step(
        &self,
        image: &ImageRecord,
        op: &Op,
        original: &str,
    ) -> anyhow::Result<ImageRecord> {
        let mut run = run_config(self.store(), image)?;
        with_path(&mut run);
        let created_by = config::created_by(original, &config::shell(&run));
        config::apply(&mut run, op);
        let author = match op {
            Op::Maintainer(m) => Some(m.clone()),
            _ => None,
        };
        let empty = self.scratch.join("empty");
        fs::create_dir_all(&empty)?;
        let opts = CommitOptions {
            config: run,
            created_by,
            author,
            build_cache: true,
            timestamp: self.timestamp,
            ..CommitOptions::default()
        };
        Ok(commit(
            self.store(),
            image,
            ContainerFs::Upper(&empty),
            &opts,
        )?)
    }

    /// WORKDIR: the config, and the directory made when the image lacks it.
    fn workdir(
        &self,
        image: &ImageRecord,
        run: &RunConfig,
        dir: &str,
        original: &str,
        scratch: &Path,
    ) -> anyhow::Result<ImageRecord> {
        let mut run = run.clone();
        let created_by = config::created_by(original, &config::shell(&run));
        config::apply(&mut run, &Op::Workdir(dir.to_string()));
        let mut m = copy::Mounted::new(self.store(), image, scratch.to_path_buf())?;
        let path = crate::fsutil::scoped_join(&m.merged, Path::new(dir))?;
        if !path.exists() {
            fs::create_dir_all(&path).with_context(|| format!("create {dir}"))?;
        }
        m.unmount();
        let opts = CommitOptions {
            config: run,
            created_by,
            build_cache: true,
            timestamp: self.timestamp,
            ..CommitOptions::default()
        };
        Ok(commit(self.store(), image, m.changes(), &opts)?)
    }
}

/// The image's run configuration.
fn run_config(store: &Store, image: &ImageRecord) -> anyhow::Result<RunConfig> {
    let config: ImageConfig = store.read_json(&image.id)?;
    Ok(config.config.unwrap_or_default())
}

/// A stage's images get the default PATH when their base has none, as
/// BuildKit and buildah give it.
fn with_path(run: &mut RunConfig) {
    let has = run.env.iter().flatten().any(|e| e.starts_with("PATH="));
    if !has {
        config::set_env(run, "PATH", yurta_build::plan::DEFAULT_PATH);
    }
}

/// `img AS name` as the FROM said it (expanded).
fn from_text(plan: &Plan, stage: &Stage) -> String {
    let base = match &stage.base {
        Base::Scratch => "scratch".to_string(),
        Base::Image(r) => r.clone(),
        Base::Stage(i) => plan.stages[*i].display_name(),
    };
    match &stage.name {
        Some(n) => format!("{base} AS {n}"),
        None => base,
    }
}

/// The instruction's keyword, for errors.
fn keyword(original: &str) -> String {
    original
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}
