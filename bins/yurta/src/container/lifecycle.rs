//! stop, restart, kill, rm, wait, rename, pause/unpause, container prune
//! and the supervisor's exit command (`container cleanup`).

use anyhow::bail;
use yurta_engine::lifecycle::{self, stop};
use yurta_engine::record::ContainerRecord;
use yurta_engine::Engine;

use super::args::{CleanupArgs, ContainersArgs, KillArgs, PruneArgs, RenameArgs, RmArgs, StopArgs};
use super::{reconcile, run};
use crate::Ctx;

fn each(
    ctx: &Ctx,
    names: &[String],
    mut f: impl FnMut(&Engine, ContainerRecord) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let mut failed = Vec::new();
    for q in names {
        let r = engine
            .containers
            .lookup(q)
            .map_err(anyhow::Error::from)
            .map(|rec| reconcile::refresh(ctx, &engine, rec))
            .and_then(|rec| f(&engine, rec));
        match r {
            Ok(()) => outln!("{q}")?,
            Err(e) => failed.push(format!("{q}: {}", crate::out::OneLine(&e))),
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{}", failed.join("; "))
    }
}

pub fn stop_cmd(ctx: &Ctx, a: StopArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        stop(ctx, engine, &rec, a.timeout, a.signal.as_deref())
    })
}

pub fn restart_cmd(ctx: &Ctx, a: StopArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        stop(ctx, engine, &rec, a.timeout, a.signal.as_deref())?;
        let rec = engine.containers.read(&rec.id)?;
        run::start(ctx, engine, &rec, None).map(|_| ())
    })
}

pub fn kill_cmd(ctx: &Ctx, a: KillArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |_, rec| {
        lifecycle::kill(ctx, &rec, &a.signal)
    })
}

pub fn rm_cmd(ctx: &Ctx, a: RmArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        lifecycle::remove(ctx, engine, &rec, a.force, a.volumes)
    })
}

pub fn wait_cmd(ctx: &Ctx, a: ContainersArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    for q in &a.containers {
        let rec = engine.containers.lookup(q)?;
        let code = lifecycle::wait_exit(ctx, &engine, &rec.id)?;
        outln!("{code}")?;
    }
    Ok(())
}

pub fn rename(ctx: &Ctx, a: RenameArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    lifecycle::rename(ctx, &engine, &a.container, &a.new_name)
}

pub fn pause(ctx: &Ctx, a: ContainersArgs, pause: bool) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        lifecycle::pause(ctx, engine, &rec, pause)
    })
}

/// `container prune [-f]`: every stopped container (exited or created).
pub fn prune(ctx: &Ctx, a: PruneArgs) -> anyhow::Result<()> {
    if !a.force && !crate::prune::confirm(&["all stopped containers"])? {
        return Ok(());
    }
    let mut errors = Vec::new();
    let (ids, reclaimed) = lifecycle::prune_stopped(ctx, &mut errors)?;
    crate::prune::report("Containers", &ids)?;
    crate::prune::total(reclaimed)?;
    anyhow::ensure!(errors.is_empty(), "{}", errors.join("; "));
    Ok(())
}

/// The supervisor's exit command (`container cleanup`, hidden).
pub fn cleanup_cmd(ctx: &Ctx, a: CleanupArgs) -> anyhow::Result<()> {
    lifecycle::stop::exit_command(ctx, &a.container)
}
