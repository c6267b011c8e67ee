//! A record reconciled with what really runs, whatever instant the last
//! command that changed it was killed at.
//!
//! The record is written by the CLI (created, running, exited); the
//! supervisor and the runtime keep their own files (`supervisor.pid`,
//! `pid`, `exit.json`, the runtime's state). A CLI killed between two of
//! these steps leaves them disagreeing. Every command that shows or
//! changes a container reconciles first ([`refresh`]):
//!
//! - a `running` record whose supervisor is gone is exited (its exit file,
//!   or code 255 when the container is gone too), and the cleanup the exit
//!   command did not finish is done; while the container's init still runs
//!   (only the supervisor was killed) it stays `running`, as Docker keeps
//!   it: `exec`, `stop`, `kill` and `rm -f` work, but its exit code will not
//!   be known;
//! - a `created` or `exited` record with anything of a start left (a
//!   namespace file, a mounted rootfs, a bundle, runtime state, a live
//!   supervisor) and no start under way (`start.lock` is free) is settled
//!   ([`settle`]): a live supervisor means the CLI died after starting the
//!   container, which is then `running`; otherwise whatever the start had
//!   made is released, and the container is `created` (or `exited`) with
//!   nothing of it left on the host.
//!
//! Lock order: `start.lock`, then `cleanup.lock`, then the record's lock.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::record::{ContainerRecord, Status};
use crate::Engine;

use super::state::{self, after_exit, init_pid, read_exit, supervisor_alive};
use super::{Host, Paths};

/// How long a settling command waits for a supervisor whose CLI was killed
/// to report the container's start (its runtime normally takes ~10 ms).
const START_WAIT: Duration = Duration::from_secs(30);

/// `start.lock`, held: by a command starting the container (from before its
/// network is made to the record saying how the start ended), and by one
/// settling or removing it.
pub type StartLock = nix::fcntl::Flock<fs::File>;

fn open_start_lock(p: &Paths) -> Option<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p.start_lock)
        .ok()
}

/// Waits for and takes `start.lock`; None when the container's directory
/// is gone (removed meanwhile).
pub fn lock_start(p: &Paths) -> Option<StartLock> {
    let file = open_start_lock(p)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive).ok()
}

/// Takes `start.lock` unless a start is under way.
fn try_lock_start(p: &Paths) -> Option<StartLock> {
    let file = open_start_lock(p)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).ok()
}

/// The record as it really is (see the module's doc).
pub fn refresh(host: &Host, engine: &Engine, rec: ContainerRecord) -> ContainerRecord {
    if rec.state.running {
        return refresh_running(host, engine, rec);
    }
    let p = Paths::new(&host.root, &rec.id);
    if !start_left_over(host, &p) {
        return rec;
    }
    match try_lock_start(&p) {
        Some(_held) => settle(host, engine, rec),
        // A start is under way: it decides.
        None => rec,
    }
}

/// [`refresh`] by a caller that holds `start.lock` (a start, a removal):
/// the record is read again, since it may have changed while the caller
/// waited for the lock. An error when it is gone.
pub fn refresh_held(
    host: &Host,
    engine: &Engine,
    id: &str,
) -> Result<ContainerRecord, crate::ContainerError> {
    let rec = engine.containers.read(id)?;
    if rec.state.running {
        return Ok(refresh_running(host, engine, rec));
    }
    let p = Paths::new(&host.root, id);
    if !start_left_over(host, &p) {
        return Ok(rec);
    }
    Ok(settle(host, engine, rec))
}

fn refresh_running(host: &Host, engine: &Engine, mut rec: ContainerRecord) -> ContainerRecord {
    let p = Paths::new(&host.root, &rec.id);
    if supervisor_alive(&p) {
        // The supervisor rewrites its exit file after each restart (none
        // yet: the first run, count 0).
        let exit = read_exit(&p).unwrap_or_default();
        rec.restart_count = exit.restart_count;
        if exit.restart_count > 0 {
            if !exit.started_at.is_empty() {
                rec.state.started_at = exit.started_at;
            }
            if let Some(pid) = init_pid(&p) {
                rec.state.pid = pid;
            }
        }
        return rec;
    }
    // An exit file: the exit command did not finish. None and no init
    // either: the supervisor and the container are both gone (killed, a
    // reboot) — exited, code unknown (255, as Docker after a crash).
    if read_exit(&p).is_some() || init_pid(&p).is_none() {
        let _ = after_exit(host, engine, &rec.id);
        return engine.containers.read(&rec.id).unwrap_or(rec);
    }
    rec.state.error = UNSUPERVISED.into();
    rec
}

/// `State.Error` of a container whose supervisor was killed.
pub const UNSUPERVISED: &str =
    "the container's supervisor was killed: it runs on, but its output is not logged and its exit code will not be known";

/// Whether anything of a start is on the host: a live supervisor, the
/// runtime's state, a namespace file, a bundle, a mounted rootfs. A few
/// stats: `ps` asks this of every stopped container.
fn start_left_over(host: &Host, p: &Paths) -> bool {
    let id = p.dir.file_name().unwrap_or_default();
    p.netns.exists()
        || p.dir.join("config.json").exists()
        || host.runtime_root().join(id).exists()
        || rootfs_mounted(&p.dir)
        || supervisor_alive(p)
}

/// Whether `<dir>/rootfs` is a mount (another device than its directory).
fn rootfs_mounted(dir: &Path) -> bool {
    match (fs::metadata(dir), fs::metadata(dir.join("rootfs"))) {
        (Ok(d), Ok(r)) => d.dev() != r.dev(),
        _ => false,
    }
}

/// Settles a stopped record under `start.lock` (held by the caller, so no
/// start is under way): adopts a container whose starting CLI was killed
/// after its supervisor started it, or releases what a killed start left.
/// Returns the record as it now is.
pub fn settle(host: &Host, engine: &Engine, rec: ContainerRecord) -> ContainerRecord {
    let p = Paths::new(&host.root, &rec.id);
    let reread = |rec| engine.containers.read(&rec_id(&p)).unwrap_or(rec);
    if supervisor_alive(&p) {
        if let Some(pid) = wait_started(&p) {
            return adopt(engine, rec, &p, pid);
        }
        if supervisor_alive(&p) {
            // Still starting after START_WAIT: leave it to the next look.
            return rec;
        }
    }
    match read_exit(&p) {
        // Its start failed, and the CLI that would have said so was
        // killed: created, with the error (Docker's).
        Some(e) if !e.error.is_empty() => {
            let _ = release(host, engine, &p);
            let _ = engine.containers.update(&rec.id, |r| {
                r.state.set_status(Status::Created);
                r.state.exit_code = e.exit_code;
                r.state.error = e.error.clone();
            });
            reread(rec)
        }
        // It ran and exited, and nobody finished the cleanup.
        Some(_) => {
            let _ = after_exit(host, engine, &rec.id);
            reread(rec)
        }
        // Killed before its supervisor started anything: what the start
        // made goes, the container stays as it was.
        None => {
            let _ = release(host, engine, &p);
            reread(rec)
        }
    }
}

fn rec_id(p: &Paths) -> String {
    p.dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Everything a start makes, released: the runtime's state (the container
/// killed if it runs), the network, the mounts. A runtime still creating
/// the container (its supervisor was killed mid-start) is waited for
/// first, or it would make the container after the delete. Returns every
/// error.
pub fn release(host: &Host, engine: &Engine, p: &Paths) -> Vec<String> {
    let id = rec_id(p);
    wait_runtime_gone(&id);
    let mut errors = Vec::new();
    if let Err(e) = yurta_container::container::delete(&host.runtime_root(), &id, true) {
        errors.push(format!("runtime delete: {e}"));
    }
    errors.extend(state::release(host, engine, &id));
    let _ = fs::remove_file(&p.attach);
    errors
}

/// Waits (up to START_WAIT) until no `yurta-runtime` process works on
/// container `id` any more.
fn wait_runtime_gone(id: &str) {
    let deadline = Instant::now() + START_WAIT;
    while runtime_busy(id) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn runtime_busy(id: &str) -> bool {
    let Ok(procs) = fs::read_dir("/proc") else {
        return false;
    };
    let me = std::process::id().to_string();
    procs.flatten().any(|e| {
        let name = e.file_name();
        let is_pid = name.as_encoded_bytes().iter().all(u8::is_ascii_digit);
        if !is_pid || name.to_str() == Some(me.as_str()) {
            return false;
        }
        let cmdline = fs::read(e.path().join("cmdline")).unwrap_or_default();
        let mut args = cmdline.split(|b| *b == 0);
        let runtime = args.next().is_some_and(|a| a.ends_with(b"yurta-runtime"));
        if !runtime || !args.any(|a| a == id.as_bytes()) {
            return false;
        }
        // The container's init is a copy of the runtime until it execs:
        // it is in the container's cgroup, and delete --force kills it.
        let cgroup = fs::read_to_string(e.path().join("cgroup")).unwrap_or_default();
        !cgroup.contains(&format!("/yurta/{id}"))
    })
}

/// Waits until the supervisor reports the container started (its pid file
/// names a live init) or is gone; the init's pid, if it started.
fn wait_started(p: &Paths) -> Option<i32> {
    let deadline = Instant::now() + START_WAIT;
    loop {
        if let Some(pid) = init_pid(p) {
            return Some(pid);
        }
        if !supervisor_alive(p) || Instant::now() > deadline {
            return init_pid(p);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The record of a container that runs though its starting CLI was killed
/// before saying so.
fn adopt(engine: &Engine, rec: ContainerRecord, p: &Paths, pid: i32) -> ContainerRecord {
    // The runtime wrote the pid file when the container started.
    let started = fs::metadata(&p.pid)
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| yurta_images::time::format_rfc3339(d.as_secs() as i64, d.subsec_nanos()))
        .unwrap_or_else(yurta_images::time::now_rfc3339);
    engine
        .containers
        .update(&rec.id, |r| {
            r.state.set_status(Status::Running);
            r.state.pid = pid;
            r.state.exit_code = 0;
            r.state.error.clear();
            r.state.oom_killed = false;
            r.state.started_at = started.clone();
            r.state.finished_at = crate::record::ZERO_TIME.into();
        })
        .unwrap_or(rec)
}

/// `State.Error` of a container that ended without its supervisor.
pub const UNSUPERVISED_EXIT: &str =
    "the container's supervisor had been killed: the exit code is the signal that stopped it";
