//! Stopping, killing, pausing, renaming, removing and waiting for
//! containers; `container prune`; the supervisor's exit command.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use yurta_error::ErrorKind;

use super::{events, fail, one_line, reconcile, state, Host, Paths};
use crate::record::{ContainerRecord, Status};
use crate::Engine;

/// Docker's stop: the stop file (no restart), the stop signal, SIGKILL
/// after the timeout; then the exit's cleanup. A container whose
/// supervisor was killed is waited for by its init; its exit code is the
/// signal that ended it (nobody reaps it to learn more).
pub fn stop(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    timeout: Option<i64>,
    signal: Option<&str>,
) -> anyhow::Result<()> {
    let p = Paths::new(&host.root, &rec.id);
    if !rec.state.running {
        return Ok(());
    }
    std::fs::write(&p.stop, b"").context("stop file")?;
    let supervised = state::supervisor_alive(&p);
    if rec.state.paused {
        let _ = state::runtime(host, &["resume", &rec.id]);
    }
    let sig = signal
        .map(str::to_string)
        .or_else(|| rec.config.stop_signal.clone())
        .unwrap_or_else(|| "TERM".into());
    let sig = sig.trim_start_matches("SIG").to_string();
    let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10).max(0);
    let _ = state::runtime(host, &["kill", &rec.id, &sig]);
    yurta_fault::point("stop.signalled");
    events::killed(&host.root, rec, &sig);
    let mut ended_by = signal_number(&sig);
    if !wait_gone(&p, Duration::from_secs(timeout as u64)) {
        let _ = state::runtime(host, &["kill", &rec.id, "KILL"]);
        ended_by = libc::SIGKILL;
        if !wait_gone(&p, Duration::from_secs(10)) {
            bail!("the container did not stop after SIGKILL");
        }
    }
    if !supervised && state::read_exit(&p).is_none() {
        state::write_unsupervised_exit(&p, 128 + ended_by)?;
    }
    events::container(&host.root, rec, "stop");
    state::after_exit(host, engine, &rec.id)
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

/// Sends `signal` (a name with or without `SIG`, or a number) to a
/// running container. SIGKILL or the container's stop signal ends it as
/// `stop` does: the stop file turns its restart policy off until the next
/// start (Docker's `docker kill` of a `--restart always` container leaves
/// it exited); any other signal is the container's business.
pub fn kill(host: &Host, rec: &ContainerRecord, signal: &str) -> anyhow::Result<()> {
    if !rec.state.running {
        return Err(fail(
            ErrorKind::Conflict,
            format!("container {} is not running", rec.id),
        ));
    }
    let sig = signal.trim_start_matches("SIG");
    let p = Paths::new(&host.root, &rec.id);
    let ends = ends_restarts(rec, sig);
    if ends {
        std::fs::write(&p.stop, b"").context("stop file")?;
    }
    if let Err(e) = state::runtime(host, &["kill", &rec.id, sig]) {
        if ends {
            let _ = std::fs::remove_file(&p.stop);
        }
        return Err(e);
    }
    events::killed(&host.root, rec, sig);
    Ok(())
}

/// True when `sig` is SIGKILL or the container's stop signal (TERM when
/// it has none), by name or number.
fn ends_restarts(rec: &ContainerRecord, sig: &str) -> bool {
    let number = |s: &str| crate::options::parse::signal(s).ok();
    let stop = rec.config.stop_signal.as_deref().unwrap_or("TERM");
    match number(sig) {
        Some(n) => n == libc::SIGKILL || Some(n) == number(stop),
        None => false,
    }
}

/// `rm [-f] [-v]`: under `start.lock` (a start under way finishes first;
/// what a killed one left is settled). With `-f` a running container is
/// killed; whatever else of it may still run (a supervisor between
/// restarts, a container the runtime made for a killed start) is killed
/// too, and the removal fails rather than report success while a process
/// of the container runs.
pub fn remove(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    force: bool,
    volumes: bool,
) -> anyhow::Result<()> {
    let p = Paths::new(&host.root, &rec.id);
    let Some(_held) = reconcile::lock_start(&p) else {
        return Ok(()); // removed meanwhile
    };
    let rec = match reconcile::refresh_held(host, engine, &rec.id) {
        Ok(r) => r,
        Err(crate::ContainerError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if rec.state.running {
        if !force {
            return Err(fail(
                ErrorKind::Conflict,
                format!(
                    "cannot remove container {}: container is {}: stop the container before removing or force remove",
                    rec.bare_name(),
                    rec.state.status
                ),
            ));
        }
        stop(host, engine, &rec, Some(0), Some("KILL"))?;
    }
    yurta_fault::point("rm.stopped");
    state::kill_supervisor(&p);
    let mut errors = reconcile::release(host, engine, &p);
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
    events::container(&host.root, &rec, "destroy");
    Ok(())
}

/// Waits until the container is no longer running and answers its exit
/// code (the exit file's, or the record's when there is none).
pub fn wait_exit(host: &Host, engine: &Engine, id: &str) -> anyhow::Result<i32> {
    let p = Paths::new(&host.root, id);
    while reconcile::refresh(host, engine, engine.containers.read(id)?)
        .state
        .running
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(state::read_exit(&p)
        .map(|e| e.exit_code)
        .unwrap_or_else(|| {
            engine
                .containers
                .read(id)
                .map(|r| r.state.exit_code)
                .unwrap_or(0)
        }))
}

/// Renames a container (its DNS name follows at once).
pub fn rename(host: &Host, engine: &Engine, container: &str, new_name: &str) -> anyhow::Result<()> {
    let old = engine.containers.lookup(container)?.name;
    let rec = engine.containers.rename(container, new_name)?;
    events::renamed(engine, new_name, &old);
    super::netns::renamed(host, &rec.id, rec.bare_name())
}

/// Freezes (`pause`) or thaws a running container.
pub fn pause(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    pause: bool,
) -> anyhow::Result<()> {
    if !rec.state.running {
        return Err(fail(
            ErrorKind::Conflict,
            format!("container {} is not running", rec.id),
        ));
    }
    state::runtime(host, &[if pause { "pause" } else { "resume" }, &rec.id])?;
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
    events::container(&host.root, rec, if pause { "pause" } else { "unpause" });
    Ok(())
}

/// Removes every stopped container; their IDs and the bytes their
/// writable layers held. A container that cannot be removed is reported
/// in `errors`, and the others go on.
pub fn prune_stopped(host: &Host, errors: &mut Vec<String>) -> anyhow::Result<(Vec<String>, u64)> {
    let engine = Engine::open(&host.root)?;
    let (mut ids, mut reclaimed) = (Vec::new(), 0);
    for rec in engine.containers.list()? {
        let rec = reconcile::refresh(host, &engine, rec);
        if !matches!(rec.state.status, Status::Exited | Status::Created) {
            continue;
        }
        let dir = engine.containers.container_dir(&rec.id);
        let size = yurta_images::manage::disk_usage(&dir.join("diff"));
        match remove(host, &engine, &rec, false, false) {
            Ok(()) => {
                ids.push(rec.id);
                reclaimed += size;
            }
            Err(e) => errors.push(format!("{}: {}", rec.id, one_line(&e))),
        }
    }
    Ok((ids, reclaimed))
}

/// The supervisor's exit command: after a start under way has recorded
/// the container as running (so that this exit is not overwritten).
pub fn exit_command(host: &Host, container: &str) -> anyhow::Result<()> {
    let engine = Engine::open(&host.root)?;
    let p = Paths::new(&host.root, container);
    let Some(_start) = reconcile::lock_start(&p) else {
        return Ok(()); // removed already
    };
    // Late: `stop` cleaned up after this exit and a new start (`restart`)
    // removed the exit file; its supervisor runs. Cleaning up now would
    // take the new run for a lost one and kill it.
    if state::read_exit(&p).is_none() && state::supervisor_alive(&p) {
        return Ok(());
    }
    state::after_exit(host, &engine, container)
}
