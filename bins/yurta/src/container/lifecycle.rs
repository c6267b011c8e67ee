//! stop, restart, kill, rm, wait, rename, pause/unpause, container prune
//! and the supervisor's exit command (`container cleanup`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use yurta_engine::record::{ContainerRecord, Status};
use yurta_engine::Engine;

use super::args::{CleanupArgs, ContainersArgs, KillArgs, PruneArgs, RenameArgs, RmArgs, StopArgs};
use super::{run, state, Paths};
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
            .map(|rec| state::refresh(ctx, &engine, rec))
            .and_then(|rec| f(&engine, rec));
        match r {
            Ok(()) => println!("{q}"),
            Err(e) => failed.push(format!("{q}: {e:#}")),
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
/// after the timeout; then the exit's cleanup.
pub fn stop(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    timeout: Option<i64>,
    signal: Option<&str>,
) -> anyhow::Result<()> {
    let p = Paths::new(&ctx.root, &rec.id);
    if !rec.state.running {
        if rec.state.status == Status::Dead {
            return kill_orphan(ctx, engine, rec);
        }
        return Ok(());
    }
    std::fs::write(&p.stop, b"").context("stop file")?;
    if rec.state.paused {
        let _ = state::runtime(ctx, &["resume", &rec.id]);
    }
    let sig = signal
        .map(str::to_string)
        .or_else(|| rec.config.stop_signal.clone())
        .unwrap_or_else(|| "TERM".into());
    let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10).max(0);
    let _ = state::runtime(ctx, &["kill", &rec.id, sig.trim_start_matches("SIG")]);
    if !wait_gone(&p, Duration::from_secs(timeout as u64)) {
        let _ = state::runtime(ctx, &["kill", &rec.id, "KILL"]);
        if !wait_gone(&p, Duration::from_secs(10)) {
            bail!("the container did not stop after SIGKILL");
        }
    }
    state::after_exit(ctx, engine, &rec.id)
}

fn wait_gone(p: &Paths, limit: Duration) -> bool {
    let start = Instant::now();
    while state::supervisor_alive(p) {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// A container whose supervisor was killed: the runtime kills and
/// deletes it; then the usual cleanup.
fn kill_orphan(ctx: &Ctx, engine: &Engine, rec: &ContainerRecord) -> anyhow::Result<()> {
    let p = Paths::new(&ctx.root, &rec.id);
    let _ = state::runtime(ctx, &["kill", &rec.id, "KILL"]);
    let start = Instant::now();
    while state::init_pid(&p).is_some() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = state::runtime(ctx, &["delete", "--force", &rec.id]);
    let _ = std::fs::remove_file(&p.attach);
    engine.containers.update(&rec.id, |r| {
        r.state.set_status(Status::Exited);
        r.state.exit_code = 137;
        r.state.finished_at = yurta_images::time::now_rfc3339();
    })?;
    state::after_exit(ctx, engine, &rec.id)
}

pub fn kill_cmd(ctx: &Ctx, a: KillArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |_, rec| {
        if !rec.state.running {
            bail!("container {} is not running", rec.id);
        }
        state::runtime(ctx, &["kill", &rec.id, a.signal.trim_start_matches("SIG")])
    })
}

pub fn rm_cmd(ctx: &Ctx, a: RmArgs) -> anyhow::Result<()> {
    each(ctx, &a.containers, |engine, rec| {
        remove(ctx, engine, &rec, a.force, a.volumes)
    })
}

pub fn remove(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    force: bool,
    volumes: bool,
) -> anyhow::Result<()> {
    if rec.state.running || rec.state.status == Status::Dead {
        if !force {
            bail!(
                "cannot remove container {}: container is {}: stop the container before removing or force remove",
                rec.bare_name(),
                rec.state.status
            );
        }
        stop(ctx, engine, rec, Some(0), Some("KILL"))?;
    }
    let mut errors = state::release(ctx, engine, &rec.id);
    let p = Paths::new(&ctx.root, &rec.id);
    let _ = std::fs::remove_file(&p.attach);
    if let Err(e) = engine.remove(&rec.id, volumes) {
        errors.push(e.to_string());
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("; "));
    }
    Ok(())
}

pub fn wait_cmd(ctx: &Ctx, a: ContainersArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    for q in &a.containers {
        let rec = engine.containers.lookup(q)?;
        let p = Paths::new(&ctx.root, &rec.id);
        while state::refresh(ctx, &engine, engine.containers.read(&rec.id)?)
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
        println!("{code}");
    }
    Ok(())
}

pub fn rename(ctx: &Ctx, a: RenameArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    engine.containers.rename(&a.container, &a.new_name)?;
    Ok(())
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
        Ok(())
    })
}

pub fn prune(ctx: &Ctx, _a: PruneArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    println!("Deleted Containers:");
    for rec in engine.containers.list()? {
        let rec = state::refresh(ctx, &engine, rec);
        if matches!(rec.state.status, Status::Exited | Status::Created) {
            remove(ctx, &engine, &rec, false, false)?;
            println!("{}", rec.id);
        }
    }
    Ok(())
}

pub fn cleanup_cmd(ctx: &Ctx, a: CleanupArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    state::after_exit(ctx, &engine, &a.container)
}
