//! Docker's container verbs over yurta-engine (records, bundles),
//! yurta-network (namespaces, addresses, ports), `yurta-supervisor` (one
//! per running container) and `yurta-runtime` (signals, exec, state).
//!
//! The lifecycle itself (start, stop, kill, rm, wait, reconciliation) is
//! `yurta_engine::lifecycle`'s, shared with the Engine API service; this
//! module owns the arguments, the output, the terminal side of attach,
//! and the exit codes the verbs return.

pub mod args;
pub mod attach;
pub mod boot;
mod commit;
mod console;
mod cp;
pub mod detach;
mod diff;
mod exec;
mod export;
mod inspect;
mod lifecycle;
mod logs;
mod ps;
mod run;
mod stats;
mod update;

use std::path::PathBuf;

use clap::Subcommand;

use crate::Ctx;
use args::*;
pub use yurta_engine::lifecycle::netns::{networks, refresh_peers};

/// Docker's container context of `record` as `ps` shows it (truncated),
/// for the other lists that show containers (`system df -v`).
pub fn ps_context(record: &yurta_engine::ContainerRecord) -> serde_json::Value {
    ps::context(record, true, None)
}
pub use yurta_engine::lifecycle::{netns, prune_stopped, reconcile, state, Paths};

/// The verbs Docker has at the top level (`yurta run`, `yurta ps`, ...).
#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, never moved around
pub enum ContainerCommand {
    /// Create and start a container
    Run(CreateArgs),
    /// Create a container
    Create(CreateArgs),
    /// Start stopped containers
    Start(StartArgs),
    /// Stop running containers
    Stop(StopArgs),
    /// Restart containers
    Restart(StopArgs),
    /// Send a signal to running containers
    Kill(KillArgs),
    /// Remove containers
    Rm(RmArgs),
    /// List containers
    Ps(PsArgs),
    /// Show a container's output
    Logs(LogsArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Wait for containers to stop and print their exit codes
    Wait(ContainersArgs),
    /// List a container's published ports
    Port(PortArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Pause all processes of containers
    Pause(ContainersArgs),
    /// Unpause containers
    Unpause(ContainersArgs),
    /// Show a container's processes
    Top(TopArgs),
    /// Attach to a running container's output (and input)
    Attach(AttachArgs),
    /// CPU, memory, network and pids of running containers
    Stats(StatsArgs),
    /// Copy files between a running container and the host
    Cp(CpArgs),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Update configuration (resources, restart policy) of containers
    Update(UpdateArgs),
}

/// `yurta container ...`.
#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once, never moved around
pub enum ContainerSub {
    #[command(flatten)]
    Verb(ContainerCommand),
    /// List containers
    #[command(alias = "list")]
    Ls(PsArgs),
    /// Show low-level information on containers
    Inspect(InspectArgs),
    /// Remove stopped containers
    Prune(PruneArgs),
    /// Internal: the supervisor's exit command (state, network, mounts, --rm)
    #[command(hide = true)]
    Cleanup(CleanupArgs),
    /// Internal: the health monitor the supervisor runs beside the init
    #[command(hide = true, name = "__health")]
    Health(HealthArgs),
    /// Internal: `cp`'s side inside the container's mount namespace
    #[command(hide = true)]
    CpHelper(CpHelperArgs),
    /// Internal: `export`'s side, in a mount namespace of its own
    #[command(hide = true)]
    ExportHelper(ExportHelperArgs),
}

/// Ends the command with this exit code; a message is printed as
/// `yurta: MSG` first (126/127 when the command cannot run, the
/// container's own code otherwise, without a message).
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: Option<String>,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message.as_deref().unwrap_or("exit"))
    }
}

impl std::error::Error for Exit {}

pub fn exit(code: i32) -> anyhow::Error {
    Exit {
        code: code.clamp(0, 255) as u8,
        message: None,
    }
    .into()
}

pub fn run(ctx: &Ctx, c: ContainerCommand) -> anyhow::Result<()> {
    match c {
        ContainerCommand::Run(a) => run::run(ctx, a),
        ContainerCommand::Create(a) => run::create_cmd(ctx, a),
        ContainerCommand::Start(a) => run::start_cmd(ctx, a),
        ContainerCommand::Stop(a) => lifecycle::stop_cmd(ctx, a),
        ContainerCommand::Restart(a) => lifecycle::restart_cmd(ctx, a),
        ContainerCommand::Kill(a) => lifecycle::kill_cmd(ctx, a),
        ContainerCommand::Rm(a) => lifecycle::rm_cmd(ctx, a),
        ContainerCommand::Ps(a) => ps::ps(ctx, a),
        ContainerCommand::Logs(a) => logs::logs(ctx, a),
        ContainerCommand::Exec(a) => exec::exec(ctx, a),
        ContainerCommand::Wait(a) => lifecycle::wait_cmd(ctx, a),
        ContainerCommand::Port(a) => inspect::port(ctx, a),
        ContainerCommand::Rename(a) => lifecycle::rename(ctx, a),
        ContainerCommand::Pause(a) => lifecycle::pause(ctx, a, true),
        ContainerCommand::Unpause(a) => lifecycle::pause(ctx, a, false),
        ContainerCommand::Top(a) => inspect::top(ctx, a),
        ContainerCommand::Attach(a) => run::attach_cmd(ctx, a),
        ContainerCommand::Stats(a) => stats::stats(ctx, a),
        ContainerCommand::Cp(a) => cp::cp(ctx, a),
        ContainerCommand::Commit(a) => commit::commit(ctx, a),
        ContainerCommand::Diff(a) => diff::diff(ctx, a),
        ContainerCommand::Export(a) => export::export(ctx, a),
        ContainerCommand::Update(a) => update::update(ctx, a),
    }
}

pub fn run_sub(ctx: &Ctx, c: ContainerSub) -> anyhow::Result<()> {
    match c {
        ContainerSub::Verb(v) => run(ctx, v),
        ContainerSub::Ls(a) => ps::ps(ctx, a),
        ContainerSub::Inspect(a) => inspect::inspect(ctx, a, false),
        ContainerSub::Prune(a) => lifecycle::prune(ctx, a),
        ContainerSub::Cleanup(a) => lifecycle::cleanup_cmd(ctx, a),
        ContainerSub::Health(a) => {
            yurta_engine::lifecycle::health::monitor(ctx, &a.container, a.pid)
        }
        ContainerSub::CpHelper(a) => cp::helper(a),
        ContainerSub::ExportHelper(a) => export::helper(ctx, a),
    }
}

/// `yurta inspect`: containers first, then images.
pub fn inspect_any(ctx: &Ctx, a: InspectArgs) -> anyhow::Result<()> {
    inspect::inspect(ctx, a, true)
}

/// The runtime's `--root`.
pub fn runtime_root(ctx: &Ctx) -> PathBuf {
    ctx.runtime_root()
}
