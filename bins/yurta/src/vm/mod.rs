//! `yurta vm …`: virtual machines through QEMU (KVM or TCG), on yurta's
//! own networks, with the same verbs as containers: argument parsing and
//! output over the engine's `yurta_engine::vm`. See docs/vm.md.

pub mod args;
mod console;
mod show;

// The engine's VM modules, under the names the command modules use.
use yurta_engine::vm::{create, hotplug, lifecycle, relay, snapshot, store, supervise};

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::Ctx;
use args::VmCommand;
use store::VmStore;

pub fn run(ctx: &Ctx, c: VmCommand) -> anyhow::Result<()> {
    match c {
        VmCommand::Create(a) => {
            let vm = match a.start {
                true => create::create_and_start(ctx, &a.request())?,
                false => create::create(ctx, &a.request())?,
            };
            outln!("{}", vm.name)?;
            Ok(())
        }
        VmCommand::Start(a) => each(ctx, &a.names, |vm| lifecycle::start(ctx, vm)),
        VmCommand::Stop(a) => each(ctx, &a.names, |vm| {
            lifecycle::stop(ctx, vm, Duration::from_secs(a.time))
        }),
        VmCommand::Restart(a) => each(ctx, &a.names, |vm| {
            lifecycle::stop(ctx, vm, Duration::from_secs(a.time))?;
            lifecycle::start(ctx, vm)
        }),
        VmCommand::Kill(a) => {
            let signal = parse_signal(&a.signal)?;
            each(ctx, &a.names, |vm| lifecycle::kill_vm(ctx, vm, signal))
        }
        VmCommand::Rm(a) => each(ctx, &a.names, |vm| {
            for w in lifecycle::remove(ctx, vm, a.force)? {
                errln!("yurta: {w}");
            }
            Ok(())
        }),
        VmCommand::Ls(a) => show::ls(ctx, &a),
        VmCommand::Inspect(a) => show::inspect(ctx, &a.names, a.format.as_deref()),
        VmCommand::Logs(a) => console::logs(ctx, &a),
        VmCommand::Console(a) => console::console(ctx, &a.name),
        VmCommand::Vnc(a) => show::vnc(ctx, &a.name),
        VmCommand::Snapshot(c) => snapshots(ctx, &c),
        VmCommand::Disk(args::DiskCommand::Add(a)) => {
            outln!("{}", hotplug::add(ctx, &a.name, &a.disk)?)?;
            Ok(())
        }
        VmCommand::Disk(args::DiskCommand::Rm(a)) => {
            for w in hotplug::remove(ctx, &a.name, &a.disk)? {
                errln!("yurta: {w}");
            }
            Ok(())
        }
        VmCommand::Supervise(a) => supervise::supervise(ctx, &a.name, a.sync_fd),
    }
}

/// `vm snapshot create|restore|rm|ls` over the engine's snapshots.
fn snapshots(ctx: &Ctx, c: &args::SnapshotCommand) -> anyhow::Result<()> {
    use args::SnapshotCommand as S;
    use snapshot::Op;
    let (a, op) = match c {
        S::Create(a) => (a, Op::Create),
        S::Restore(a) => (a, Op::Restore),
        S::Rm(a) => (a, Op::Remove),
        S::Ls(a) => {
            out!("{}", snapshot::table(ctx, &a.name)?)?;
            return Ok(());
        }
    };
    snapshot::change(ctx, &a.name, &a.snapshot, op)
}

/// Runs `f` for every named VM, printing each name done (as Docker's
/// start/stop/rm); the first error after trying all of them.
fn each(
    ctx: &Ctx,
    names: &[String],
    f: impl Fn(&store::VmDir) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let store = VmStore::new(&ctx.root);
    let mut failed = None;
    for name in names {
        match store.get(name).and_then(|vm| f(&vm)) {
            Ok(()) => outln!("{name}")?,
            Err(e) => {
                errln!("yurta: {}", crate::out::OneLine(&e));
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(_) => Err(crate::container::Exit {
            code: 125,
            message: None,
        }
        .into()),
        None => Ok(()),
    }
}

/// `KILL`, `SIGKILL`, `9` (the engine's parser, as `yurta kill -s`).
fn parse_signal(s: &str) -> anyhow::Result<Signal> {
    let n = yurta_engine::options::parse::signal(s)?;
    Signal::try_from(n).map_err(|_| anyhow::anyhow!("bad signal {s:?}"))
}
