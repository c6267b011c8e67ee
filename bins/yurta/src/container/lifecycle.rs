//! stop, restart, kill, rm, wait, rename, pause/unpause, container prune
//! and the supervisor's exit command (`container cleanup`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use yurta_engine::record::{ContainerRecord, Status};
use yurta_engine::Engine;

use super::args::{CleanupArgs, ContainersArgs, KillArgs, PruneArgs, RenameArgs, RmArgs, StopArgs};
use super::{reconcile, run, state, Paths};
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

/// Docker's stop: the stop file (no restart), the stop signal, SIGKILL
/// after the timeout; then the exit's cleanup. A container whose
/// supervisor was killed is waited for by its init; its exit code is the
/// signal that ended it (nobody reaps it to learn more).
pub fn stop(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    timeout: Option<i64>,
    signal: Option<&str>,
) -> anyhow::Result<()> {
    let p = Paths::new(&ctx.root, &rec.id);
    if !rec.state.running {
        return Ok(());
    }
    std::fs::write(&p.stop, b"").context("stop file")?;
    let supervised = state::supervisor_alive(&p);
    if rec.state.paused {
        let _ = state::runtime(ctx, &["resume", &rec.id]);
    }
    let sig = signal
        .map(str::to_string)
        .or_else(|| rec.config.stop_signal.clone())
        .unwrap_or_else(|| "TERM".into());
    let sig = sig.trim_start_matches("SIG").to_string();
    let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10).max(0);
    let _ = state::runtime(ctx, &["kill", &rec.id, &sig]);
    yurta_fault::point("stop.signalled");
    crate::events::killed(rec, &sig);
    let mut ended_by = signal_number(&sig);
    if !wait_gone(&p, Duration::from_secs(timeout as u64)) {
        let _ = state::runtime(ctx, &["kill", &rec.id, "KILL"]);
        ended_by = libc::SIGKILL;
        if !wait_gone(&p, Duration::from_secs(10)) {
            bail!("the container did not stop after SIGKILL");
        }
    }
    if !supervised && state::read_exit(&p).is_none() {
        state::write_unsupervised_exit(&p, 128 + ended_by)?;
    }
    crate::events::container(rec, "stop");
    state::after_exit(ctx, engine, &rec.id)
}

/// `TERM`, `15`, `USR1`... → the signal's number (SIGKILL's for a name
/// the runtime took but we do not know: it was killed in the end).
fn signal_number(sig: &str) -> i32 {
    if let Ok(n) = sig.parse() {
        return n;
    }
    format!("SIG{}", sig.to_ascii_uppercase())
        .parse::<nix::sys::signal::Signal>()
        .map_or(libc::SIGKILL, |s| s as i32)
}

/// Waits until the container is gone: its supervisor (which reaps the
/// init and records the exit), or the init itself when the supervisor was
/// killed before.
fn wait_gone(p: &Paths, limit: Duration) -> bool {
    let start = Instant::now();
    while state::supervisor_alive(p) || state::init_pid(p).is_some() {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

pub fn kill_cmd(ctx: &Ctx, a: KillArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |_, rec| {
        if !rec.state.running {
            bail!("container {} is not running", rec.id);
        }
        state::runtime(ctx, &["kill", &rec.id, a.signal.trim_start_matches("SIG")])?;
        crate::events::killed(&rec, a.signal.trim_start_matches("SIG"));
        Ok(())
    })
}

pub fn rm_cmd(ctx: &Ctx, a: RmArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        remove(ctx, engine, &rec, a.force, a.volumes)
    })
}

/// `rm [-f] [-v]`: under `start.lock` (a start under way finishes first;
/// what a killed one left is settled). With `-f` a running container is
/// killed; whatever else of it may still run (a supervisor between
/// restarts, a container the runtime made for a killed start) is killed
/// too, and the removal fails rather than report success while a process
/// of the container runs.
pub fn remove(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    force: bool,
    volumes: bool,
) -> anyhow::Result<()> {
    let p = Paths::new(&ctx.root, &rec.id);
    let Some(_held) = reconcile::lock_start(&p) else {
        return Ok(()); // removed meanwhile
    };
    let rec = match reconcile::refresh_held(ctx, engine, &rec.id) {
        Ok(r) => r,
        Err(yurta_engine::ContainerError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if rec.state.running {
        if !force {
            bail!(
                "cannot remove container {}: container is {}: stop the container before removing or force remove",
                rec.bare_name(),
                rec.state.status
            );
        }
        stop(ctx, engine, &rec, Some(0), Some("KILL"))?;
    }
    yurta_fault::point("rm.stopped");
    state::kill_supervisor(&p);
    let mut errors = reconcile::release(ctx, engine, &p);
    yurta_fault::point("rm.released");
    if let Some(pid) = state::init_pid(&p) {
        bail!("its process {pid} still runs: {}", errors.join("; "));
    }
    if let Err(e) = engine.remove(&rec.id, volumes) {
        errors.push(e.to_string());
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("; "));
    }
    crate::events::container(&rec, "destroy");
    Ok(())
}

pub fn wait_cmd(ctx: &Ctx, a: ContainersArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    for q in &a.containers {
        let rec = engine.containers.lookup(q)?;
        let p = Paths::new(&ctx.root, &rec.id);
        while reconcile::refresh(ctx, &engine, engine.containers.read(&rec.id)?)
            .state
            .running
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let code = state::read_exit(&p)
            .map(|e| e.exit_code)
            .unwrap_or_else(|| {
                engine
                    .containers
                    .read(&rec.id)
                    .map(|r| r.state.exit_code)
                    .unwrap_or(0)
            });
        outln!("{code}")?;
    }
    Ok(())
}

pub fn rename(ctx: &Ctx, a: RenameArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let old = engine.containers.lookup(&a.container)?.name;
    let rec = engine.containers.rename(&a.container, &a.new_name)?;
    crate::events::renamed(&engine, &a.new_name, &old);
    super::netns::renamed(ctx, &rec.id, rec.bare_name())
}

pub fn pause(ctx: &Ctx, a: ContainersArgs, pause: bool) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        if !rec.state.running {
            bail!("container {} is not running", rec.id);
        }
        state::runtime(ctx, &[if pause { "pause" } else { "resume" }, &rec.id])?;
        let status = if pause {
            Status::Paused
        } else {
            Status::Running
        };
        let pid = rec.state.pid;
        engine.containers.update(&rec.id, |r| {
            r.state.set_status(status);
            r.state.pid = pid;
        })?;
        crate::events::container(&rec, if pause { "pause" } else { "unpause" });
        Ok(())
    })
}

/// `container prune [-f]`: every stopped container (exited or created).
pub fn prune(ctx: &Ctx, a: PruneArgs) -> anyhow::Result<()> {
    if !a.force && !crate::prune::confirm(&["all stopped containers"])? {
        return Ok(());
    }
    let mut errors = Vec::new();
    let (ids, reclaimed) = prune_stopped(ctx, &mut errors)?;
    crate::prune::report("Containers", &ids)?;
    crate::prune::total(reclaimed)?;
    anyhow::ensure!(errors.is_empty(), "{}", errors.join("; "));
    Ok(())
}

/// Removes every stopped container; their IDs and the bytes their
/// writable layers held. A container that cannot be removed is reported
/// in `errors`, and the others go on.
pub fn prune_stopped(ctx: &Ctx, errors: &mut Vec<String>) -> anyhow::Result<(Vec<String>, u64)> {
    let engine = Engine::open(&ctx.root)?;
    let (mut ids, mut reclaimed) = (Vec::new(), 0);
    for rec in engine.containers.list()? {
        let rec = reconcile::refresh(ctx, &engine, rec);
        if !matches!(rec.state.status, Status::Exited | Status::Created) {
            continue;
        }
        let dir = engine.containers.container_dir(&rec.id);
        let size = yurta_images::manage::disk_usage(&dir.join("diff"));
        match remove(ctx, &engine, &rec, false, false) {
            Ok(()) => {
                ids.push(rec.id);
                reclaimed += size;
            }
            Err(e) => errors.push(format!("{}: {}", rec.id, crate::out::OneLine(&e))),
        }
    }
    Ok((ids, reclaimed))
}

/// The supervisor's exit command: after a start under way has recorded
/// the container as running (so that this exit is not overwritten).
pub fn cleanup_cmd(ctx: &Ctx, a: CleanupArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let p = Paths::new(&ctx.root, &a.container);
    let Some(_start) = reconcile::lock_start(&p) else {
        return Ok(()); // removed already
    };
    state::after_exit(ctx, &engine, &a.container)
}
