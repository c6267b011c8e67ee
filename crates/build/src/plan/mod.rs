//! From a parsed [`Dockerfile`] and the build's options to a [`Plan`]:
//! stages with their bases and platforms, ARG scoping (global ARGs before
//! the first FROM, redeclared in a stage to be used there; `--build-arg`
//! overrides; the predefined platform ARGs), every instruction expanded
//! where Docker expands it, ONBUILD triggers of the bases inserted, and
//! the stages the target needs in an order that shows what can build in
//! parallel.
//!
//! Base images are not pulled here: their configuration (environment,
//! working directory, ONBUILD triggers), which expansion needs, comes from
//! a [`BaseImages`] the caller provides once it has them.

mod ops;
mod stage;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::{Command, Healthcheck, Heredoc, Network, Source};
use crate::error::DockerfileError;
use crate::mount::Mount;
use crate::platform::Platform;
use crate::Dockerfile;

/// Build args Docker predefines for proxies: usable by RUN without an ARG,
/// left out of cache keys and of the image.
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The `PATH` an image built `FROM scratch` starts with (Docker and
/// buildah put it in the config; `ENV PATH=/x:$PATH` sees it).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a build asks for besides the Dockerfile.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub build_args: BTreeMap<String, String>,
    /// `--target`: the stage to build (default the last).
    pub target: Option<String>,
    pub target_platform: Platform,
    pub build_platform: Platform,
}

impl PlanOptions {
    /// Building for the host, on the host, no build args.
    pub fn host() -> PlanOptions {
        PlanOptions {
            build_args: BTreeMap::new(),
            target: None,
            target_platform: Platform::host(),
            build_platform: Platform::host(),
        }
    }
}

/// What the planner needs to know about a base image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaseConfig {
    /// `Env` of the image config, in order.
    pub env: Vec<(String, String)>,
    /// `WorkingDir`; empty means `/`.
    pub working_dir: String,
    /// `OnBuild` triggers, run at the start of a stage built on it.
    pub onbuild: Vec<String>,
}

/// Configurations of base images, looked up by reference and platform.
pub trait BaseImages {
    fn config(&self, reference: &str, platform: &Platform) -> Option<BaseConfig>;
}

/// No image configurations known: bases have an empty environment.
pub struct NoImages;

impl BaseImages for NoImages {
    fn config(&self, _: &str, _: &Platform) -> Option<BaseConfig> {
        None
    }
}

impl BaseImages for BTreeMap<String, BaseConfig> {
    fn config(&self, reference: &str, _: &Platform) -> Option<BaseConfig> {
        self.get(reference).cloned()
    }
}

/// A validated build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub file: String,
    /// Every stage of the file, in order (index = position).
    pub stages: Vec<Stage>,
    /// The stage that makes the image.
    pub target: usize,
    /// The stages the target needs (itself included), grouped so that the
    /// stages of one group depend only on earlier groups and can build in
    /// parallel.
    pub levels: Vec<Vec<usize>>,
    /// `--build-arg`s no ARG declared (Docker warns about them).
    pub unused_build_args: Vec<String>,
}

impl Plan {
    /// The needed stages in an order where every stage comes after those
    /// it depends on.
    pub fn order(&self) -> Vec<usize> {
        self.levels.iter().flatten().copied().collect()
    }
}

/// Where a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An image reference, as written after expansion.
    Image(String),
    /// An earlier stage.
    Stage(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub index: usize,
    /// `AS name`, lower case.
    pub name: Option<String>,
    /// Line of the FROM.
    pub line: usize,
    pub base: Base,
    pub platform: Platform,
    pub steps: Vec<Step>,
    /// Stages this one needs: its base, `COPY --from`, `RUN --mount from=`.
    pub depends_on: BTreeSet<usize>,
    /// Images it needs besides its base (`COPY --from=image`).
    pub images: BTreeSet<String>,
}

impl Stage {
    /// The name in messages: `builder`, or `stage-2` when unnamed.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", self.index))
    }
}

/// One instruction of a stage, expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub line: usize,
    /// The instruction as written (for progress output and history).
    pub original: String,
    pub op: Op,
}

/// Where COPY takes files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyFrom {
    Context,
    Stage(usize),
    Image(String),
}

/// COPY or ADD with everything expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOp {
    pub add: bool,
    pub sources: Vec<Source>,
    /// Absolute; ends with `/` when the destination is a directory by
    /// its spelling (`dir/`, `.`).
    pub dest: String,
    pub from: CopyFrom,
    pub chown: Option<String>,
    pub chmod: Option<u32>,
    pub link: bool,
    pub checksum: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Run {
        command: Command,
        heredocs: Vec<Heredoc>,
        mounts: Vec<Mount>,
        network: Option<Network>,
        /// Build args in scope, in the command's environment (not in the
        /// image); ENV of the same name wins over them.
        build_args: Vec<(String, String)>,
        /// `HTTP_PROXY` and the other proxy build args: in the command's
        /// environment without an ARG, and not part of the cache key.
        proxy_args: Vec<(String, String)>,
    },
    Copy(CopyOp),
    Env(Vec<(String, String)>),
    /// Absolute and clean.
    Workdir(String),
    User(String),
    /// `port/proto`, ranges expanded.
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    Entrypoint(Command),
    Cmd(Command),
    Volume(Vec<String>),
    Shell(Vec<String>),
    StopSignal(String),
    Healthcheck(Healthcheck),
    /// A trigger stored in the image for builds based on it.
    Onbuild(String),
    Maintainer(String),
}

/// Plans a build of `dockerfile`.
pub fn plan(
    dockerfile: &Dockerfile,
    options: &PlanOptions,
    images: &dyn BaseImages,
) -> Result<Plan, DockerfileError> {
    stage::plan(dockerfile, options, images)
}
