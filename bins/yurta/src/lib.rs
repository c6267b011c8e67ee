//! `yurta`'s commands: Docker-compatible verbs over yurta's libraries. Each
//! handler is a few lines calling a library; errors are printed as one
//! line, `yurta: <what failed>: <value>`, with Docker's exit code 125.
//!
//! Two binaries share it: `yurta`, and `yurta-registry`, which runs the
//! registry commands (pull, push, login, logout). Those need OpenSSL, and
//! loading libssl and libcrypto costs every process ~1.3 ms of start-up:
//! `yurta` hands them to its sibling (same command line) and so starts
//! without them (see [`RegistryCommand`]).

#[macro_use]
pub mod out;
pub mod archive;
pub mod build;
pub mod cli;
pub mod completion;
pub mod container;
pub mod df;
pub mod events;
pub mod format;
pub mod images;
pub mod info;
pub mod manifest;
pub mod network;
pub mod platform;
pub mod progress;
pub mod prune;
pub mod registry;
pub mod registry_helper;
pub mod registry_server;
pub mod system;
pub mod version;
pub mod vm;
pub mod volume;
pub mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use yurta_images::Store;

use cli::{
    Cli, Command, ImageCommand, ImportArgs, LoginArgs, LogoutArgs, PullArgs, PushArgs,
    SystemCommand,
};

/// Exit code for errors of yurta itself (Docker's).
pub const ENGINE_ERROR: u8 = 125;

/// Parses the command line and runs it; the registry commands go to
/// `registry`.
pub fn main_with(registry: RegistryRunner) -> ExitCode {
    completion::complete_if_asked();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { ENGINE_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    progress::set_log_level(&cli.log_level);
    let result = run(cli, registry);
    out::exit_if_stdout_failed();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<container::Exit>() {
            Some(e) => {
                if let Some(m) = &e.message {
                    errln!("yurta: {}", out::printable(m));
                }
                ExitCode::from(e.code)
            }
            None => {
                errln!("yurta: {}", out::OneLine(&err));
                ExitCode::from(ENGINE_ERROR)
            }
        },
    }
}

/// A command that talks to a registry.
pub enum RegistryCommand {
    /// `build` may pull base images: it runs where OpenSSL is linked.
    Build(crate::build::BuildArgs),
    Pull(PullArgs),
    Push(PushArgs),
    Login(LoginArgs),
    Logout(LogoutArgs),
    /// `manifest push`.
    ManifestPush(manifest::PushArgs),
    /// `manifest inspect` of a name without a local list: its registry's.
    ManifestInspect(manifest::InspectArgs),
    /// `import URL`: the download may be https.
    ImportUrl(ImportArgs),
    /// `run --pull`: the image, quietly, or "Unable to find image".
    PullForRun {
        image: String,
        platform: Option<String>,
    },
}

/// Runs registry commands: [`registry::run_in_process`] in
/// `yurta-registry`, [`registry_helper::run_in_sibling`] in `yurta`.
pub type RegistryRunner = fn(&Ctx, RegistryCommand) -> anyhow::Result<()>;

/// The global options every handler gets.
#[derive(Clone)]
pub struct Ctx {
    /// The state root and yurta's binaries (beside this one): what the
    /// engine's calls need; `ctx.root` and `ctx.binaries` reach them.
    pub host: yurta_engine::Host,
    pub registry: RegistryRunner,
}

impl std::ops::Deref for Ctx {
    type Target = yurta_engine::Host;
    fn deref(&self) -> &yurta_engine::Host {
        &self.host
    }
}

impl Ctx {
    pub fn store(&self) -> anyhow::Result<Store> {
        progress::debug(&format!("image store under {}", self.root.display()));
        Ok(Store::open_root(&self.root)?)
    }
}

/// yurta's binaries, beside the running one (found on PATH without /proc).
pub fn binaries() -> yurta_engine::Binaries {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("yurta"));
    yurta_engine::Binaries::beside(&exe)
}

fn run(cli: Cli, registry: RegistryRunner) -> anyhow::Result<()> {
    let ctx = Ctx {
        host: yurta_engine::Host {
            root: cli.root,
            binaries: binaries(),
        },
        registry,
    };
    events::set_root(&ctx.root);
    let reg = |c| (ctx.registry)(&ctx, c);
    match cli.command {
        Command::Images(a) => images::list(&ctx, a),
        Command::Image(ImageCommand::Ls(a)) => images::list(&ctx, a),
        Command::Image(ImageCommand::Inspect(a)) => images::inspect(&ctx, a),
        Command::Inspect(a) => container::inspect_any(&ctx, a.args),
        Command::Image(ImageCommand::Rm(a)) | Command::Rmi(a) => images::remove(&ctx, a),
        Command::Image(ImageCommand::Tag(a)) | Command::Tag(a) => images::tag(&ctx, a),
        Command::Image(ImageCommand::History(a)) | Command::History(a) => images::history(&ctx, a),
        Command::Image(ImageCommand::Prune(a)) => images::prune(&ctx, a),
        Command::Image(ImageCommand::Save(a)) | Command::Save(a) => archive::save(&ctx, a),
        Command::Image(ImageCommand::Load(a)) | Command::Load(a) => archive::load(&ctx, a),
        Command::Image(ImageCommand::Import(a)) | Command::Import(a) => archive::import(&ctx, a),
        Command::Image(ImageCommand::Pull(a)) | Command::Pull(a) => reg(RegistryCommand::Pull(a)),
        Command::Image(ImageCommand::Push(a)) | Command::Push(a) => reg(RegistryCommand::Push(a)),
        Command::Login(a) => reg(RegistryCommand::Login(a)),
        Command::Build(a) => reg(RegistryCommand::Build(a)),
        Command::Builder(cli::BuilderCommand::Prune(a)) => prune::builder(&ctx, a),
        Command::Logout(a) => reg(RegistryCommand::Logout(a)),
        Command::PullForRun(a) => reg(RegistryCommand::PullForRun {
            image: a.image,
            platform: a.platform,
        }),
        Command::System(SystemCommand::Df(a)) => df::df(&ctx, a),
        Command::System(SystemCommand::Prune(a)) => prune::system(&ctx, a),
        Command::System(SystemCommand::Boot) => container::boot::boot(&ctx),
        Command::System(SystemCommand::Service(a)) => system::service(&ctx, a),
        Command::Registry(c) => registry_server::run_in_sibling(&ctx, c),
        Command::Web(c) => web::run(&ctx, c),
        Command::Manifest(c) => manifest::run(&ctx, c),
        Command::Volume(c) => volume::run(&ctx, c),
        Command::Container(c) => container::run_sub(&ctx, c),
        Command::Containers(c) => container::run(&ctx, c),
        Command::Network(c) => network::run(&ctx, c),
        Command::Vm(c) => vm::run(&ctx, c),
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => events::events(&ctx, a),
        Command::Version(a) => version::version(&ctx, a),
        Command::Info(a) | Command::System(SystemCommand::Info(a)) => info::info(&ctx, a),
        Command::Completion(a) => completion::print_script(a),
        Command::Man(a) => completion::write_man_pages(a),
    }
}
