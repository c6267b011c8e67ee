//! `yurta`: Docker-compatible commands over yurta's libraries. Each handler
//! is a few lines calling a library; errors are printed as one line,
//! `yurta: <what failed>: <value>`, with Docker's exit code 125.

mod archive;
mod cli;
mod container;
mod format;
mod images;
mod network;
mod platform;
mod progress;
mod registry;
mod system;
mod vm;
mod volume;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use yurta_images::Store;

use cli::{Cli, Command, ImageCommand, SystemCommand};

/// Exit code for errors of yurta itself (Docker's).
const ENGINE_ERROR: u8 = 125;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { ENGINE_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    progress::set_log_level(&cli.log_level);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<container::Exit>() {
            Some(e) => {
                if let Some(m) = &e.message {
                    eprintln!("yurta: {m}");
                }
                ExitCode::from(e.code)
            }
            None => {
                eprintln!("yurta: {err:#}");
                ExitCode::from(ENGINE_ERROR)
            }
        },
    }
}

/// The global options every handler gets.
pub struct Ctx {
    pub root: PathBuf,
}

impl Ctx {
    pub fn store(&self) -> anyhow::Result<Store> {
        progress::debug(&format!("image store under {}", self.root.display()));
        Ok(Store::open_root(&self.root)?)
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx { root: cli.root };
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
        Command::Image(ImageCommand::Pull(a)) | Command::Pull(a) => registry::pull(&ctx, a),
        Command::Image(ImageCommand::Push(a)) | Command::Push(a) => registry::push(&ctx, a),
        Command::Login(a) => registry::login(&ctx, a),
        Command::Logout(a) => registry::logout(&ctx, a),
        Command::System(SystemCommand::Df(a)) => system::df(&ctx, a),
        Command::System(SystemCommand::Boot) => container::boot::boot(&ctx),
        Command::Volume(c) => volume::run(&ctx, c),
        Command::Container(c) => container::run_sub(&ctx, c),
        Command::Containers(c) => container::run(&ctx, c),
        Command::Network(c) => network::run(&ctx, c),
        Command::Vm(c) => vm::run(&ctx, c),
    }
}
