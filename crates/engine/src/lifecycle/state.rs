//! A container's live state: its record reconciled with the supervisor's
//! files (the supervisor's pid, the exit file), and the cleanup after an
//! exit (network, namespace file, mounts, `--rm`), run by whoever sees the
//! exit first — the supervisor's exit command, `stop`, `rm`, `ps`.

use std::fs;
use std::process::{Command, Stdio};

use crate::record::{ContainerRecord, Status};
use crate::Engine;
use anyhow::Context;
use serde::Deserialize;
use yurta_network::Links;

use super::{netns, Host, Paths};

/// The supervisor's exit file.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ExitFile {
    pub exit_code: i32,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub finished_at: String,
    #[serde(default)]
    pub error: String,
    /// Restarts by the policy since the container was started.
    #[serde(default)]
    pub restart_count: u32,
    /// When the run that is going on (or ended last) began; the
    /// supervisor writes it after each restart.
    #[serde(default)]
    pub started_at: String,
}

pub fn read_exit(p: &Paths) -> Option<ExitFile> {
    serde_json::from_slice(&fs::read(&p.exit).ok()?).ok()
}

/// Writes the exit file for a container that ended without its supervisor
/// (killed earlier): `stop` knows only the signal it sent.
pub fn write_unsupervised_exit(p: &Paths, exit_code: i32) -> anyhow::Result<()> {
    let e = serde_json::json!({
        "ExitCode": exit_code,
        "OOMKilled": false,
        "FinishedAt": yurta_images::time::now_rfc3339(),
        "Error": super::reconcile::UNSUPERVISED_EXIT,
        "RestartCount": 0,
    });
    let unsynced = yurta_sysutil::Durability::Unsynced;
    yurta_sysutil::replace_file(&p.exit, e.to_string().as_bytes(), 0o644, unsynced)
        .with_context(|| format!("write {}", p.exit.display()))
}

fn read_pid(path: &std::path::Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether the supervisor of this container still runs (its pid file
/// names a live `yurta-supervisor` of this container, not a reused pid).
pub fn supervisor_alive(p: &Paths) -> bool {
    let Some(pid) = read_pid(&p.supervisor_pid) else {
        return false;
    };
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    let id = p.dir.file_name().unwrap_or_default().to_string_lossy();
    // After a reboot the pid may be another container's supervisor.
    cmdline.contains("yurta-supervisor")
        && cmdline.contains(id.as_ref())
        && yurta_sysutil::proc::running(pid)
}

/// A live supervisor pinned by a pidfd: its exit can be awaited after the
/// container's directory (with the pid file) is removed.
pub struct SupervisorExit(std::os::fd::OwnedFd);

impl SupervisorExit {
    /// None when the supervisor is gone or pidfds are unsupported.
    pub fn open(p: &Paths) -> Option<Self> {
        use std::os::fd::FromRawFd;
        let pid = read_pid(&p.supervisor_pid)?;
        // SAFETY: pidfd_open with integer arguments; returns a new descriptor.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return None;
        }
        // SAFETY: the descriptor was just opened and is ours.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        // Checked once the pidfd pins the pid: it is this container's.
        supervisor_alive(p).then_some(SupervisorExit(fd))
    }

    /// Kills the supervisor (SIGKILL through the pidfd: never another
    /// process that took its pid).
    pub fn kill(&self) {
        use std::os::fd::AsRawFd;
        // SAFETY: pidfd_send_signal with our pidfd, no siginfo, no flags.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
    }

    /// Waits until the supervisor has exited.
    pub fn wait(&self) {
        use std::os::fd::AsRawFd;
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd that lives for the call.
        while unsafe { libc::poll(&mut pfd, 1, -1) } < 0
            && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {}
    }
}

/// Kills the container's supervisor if it still runs (a restart pending
/// when the container is removed) and waits until it is gone.
pub fn kill_supervisor(p: &Paths) {
    if let Some(s) = SupervisorExit::open(p) {
        s.kill();
        s.wait();
    }
}

/// The container's init pid, if it runs.
pub fn init_pid(p: &Paths) -> Option<i32> {
    let pid = read_pid(&p.pid)?;
    yurta_sysutil::proc::running(pid).then_some(pid)
}

/// Runs `yurta-runtime --root R ARGS`, quietly; its stderr on failure.
pub fn runtime(host: &Host, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(host.binaries.runtime.clone())
        .arg("--root")
        .arg(host.runtime_root())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("yurta-runtime")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("{}", err.trim().trim_start_matches("yurta-runtime: "));
    }
    Ok(())
}

/// After the container's last exit: state from the exit file, network
/// detached, namespace file unmounted, rootfs and volumes released; with
/// `--rm` everything removed. Idempotent, serialized by a lock file.
pub fn after_exit(host: &Host, engine: &Engine, id: &str) -> anyhow::Result<()> {
    match Cleanup::begin(host, engine, id)? {
        Some(c) => c.finish(),
        None => Ok(()),
    }
}

/// `cleanup.lock`, held: by whoever cleans up after the container's exit,
/// and by a foreground `run` from the start, which tells the supervisor
/// that the CLI will clean up (the runtime's delete included).
pub type CleanupLock = nix::fcntl::Flock<fs::File>;

/// `cleanup.lock`, opened (created if missing); an error when the
/// container's directory is gone (removed already).
fn open_cleanup_lock(p: &Paths) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p.cleanup_lock)
}

/// Waits for and takes `cleanup.lock`; None when the container's directory
/// is gone (removed already).
pub fn lock_cleanup(p: &Paths) -> anyhow::Result<Option<CleanupLock>> {
    let Ok(file) = open_cleanup_lock(p) else {
        return Ok(None);
    };
    let held = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .context("lock")?;
    Ok(Some(held))
}

/// Takes `cleanup.lock` unless someone holds it (a second `attach`, a
/// cleanup under way): None then, and when the directory is gone.
pub fn try_lock_cleanup(p: &Paths) -> Option<CleanupLock> {
    let file = open_cleanup_lock(p).ok()?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).ok()
}

/// [`after_exit`] under `cleanup.lock`, from [`Cleanup::begin`] (or a lock
/// a foreground `run` took before the start, [`Cleanup::with_lock`]) to the
/// end of [`Cleanup::finish`].
pub struct Cleanup<'a> {
    host: &'a Host,
    engine: &'a Engine,
    rec: ContainerRecord,
    p: Paths,
    errors: Vec<String>,
    held: CleanupLock,
}

impl<'a> Cleanup<'a> {
    /// Takes the lock; None when the container is gone already.
    pub fn begin(host: &'a Host, engine: &'a Engine, id: &str) -> anyhow::Result<Option<Self>> {
        let p = Paths::new(&host.root, id);
        match lock_cleanup(&p)? {
            Some(held) => {
                yurta_fault::point("cleanup.locked");
                Ok(Self::with_lock(host, engine, id, held))
            }
            None => Ok(None), // removed already
        }
    }

    /// With the lock from [`lock_cleanup`]; None when the container is gone.
    pub fn with_lock(
        host: &'a Host,
        engine: &'a Engine,
        id: &str,
        held: CleanupLock,
    ) -> Option<Self> {
        let p = Paths::new(&host.root, id);
        let Ok(rec) = engine.containers.read(id) else {
            return None;
        };
        Some(Cleanup {
            host,
            engine,
            rec,
            p,
            errors: Vec::new(),
            held,
        })
    }

    /// Deletes the container from the runtime (its state and cgroups),
    /// in-process. With an exit file the container has stopped, and a
    /// supervisor that saw this cleanup's lock held left the delete to it
    /// (`--exit-command-lock`): it runs in a thread beside the rest of the
    /// cleanup; deleting what is gone already is fine, and a container that
    /// runs again is not touched. Without one (nobody saw the exit) the
    /// container may still run: it is killed and deleted before anything
    /// else. Errors change nothing (the next delete finds the leftovers).
    /// Returns the thread to join.
    fn start_runtime_delete(&self) -> Option<std::thread::JoinHandle<()>> {
        let exited = self.rec.state.status == Status::Exited && !self.rec.state.running;
        if exited {
            return None;
        }
        let (root, id) = (self.host.runtime_root(), self.rec.id.clone());
        let delete = move |force| {
            let _ = yurta_container::container::delete(&root, &id, force);
        };
        if read_exit(&self.p).is_none() {
            delete(true);
            return None;
        }
        Some(std::thread::spawn(move || delete(false)))
    }

    fn release_network(&mut self) {
        // none, host and container: have no endpoints of their own (network
        // connect refuses them): no need to take the network store's lock.
        let mode = self.rec.host_config.network_mode.as_str();
        if matches!(mode, "none" | "host") || mode.starts_with("container:") {
            // A namespace file only from yurta before the runtime made
            // none's namespace: a stat when there is none.
            if let Err(e) = netns::remove(&self.p.netns) {
                self.errors.push(super::one_line(&e));
            }
            return;
        }
        self.errors
            .extend(release_network(self.host, &self.rec.id, &self.p));
    }

    /// The runtime's state (deleted in a thread), the network, the exit, the
    /// mounts, and with `--rm` the container; the exit state goes into the
    /// record unless the record is removed (an fsync saved). Every error is
    /// reported.
    pub fn finish(self) -> anyhow::Result<()> {
        self.finish_holding().0
    }

    /// [`Cleanup::finish`], still holding the lock (returned): a foreground
    /// `run` cleans up while the supervisor finishes, and keeps the lock
    /// until the supervisor is gone, which then starts no exit command.
    pub fn finish_holding(mut self) -> (anyhow::Result<()>, CleanupLock) {
        let r = self.finish_inner();
        (r, self.held)
    }

    fn finish_inner(&mut self) -> anyhow::Result<()> {
        let (engine, id) = (self.engine, self.rec.id.clone());
        // The container's processes are gone or dying: its runtime state,
        // network and mounts need nothing of it any more.
        let deleting = self.start_runtime_delete();
        self.release_network();
        yurta_fault::point("cleanup.network");
        let exited = self.rec.state.status == Status::Exited && !self.rec.state.running;
        super::events::disconnected_if(&self.host.root, !exited, &self.rec);
        let exit = (!exited).then(|| self.exit_file());
        let mut removed = false;
        if self.rec.host_config.auto_remove {
            // remove does the cleanup first.
            match engine.remove(&id, true) {
                Ok(()) => removed = true,
                Err(e) => self.errors.push(e.to_string()),
            }
            let _ = fs::remove_file(&self.p.attach);
            super::events::destroyed_if(&self.host.root, removed, &self.rec);
        } else if let Err(e) = engine.cleanup(&id) {
            self.errors.push(e.to_string());
        }
        yurta_fault::point("cleanup.unmounted");
        if let (Some(ex), false) = (exit, removed) {
            let r = engine.containers.update(&id, |r| {
                r.state.set_status(Status::Exited);
                r.state.exit_code = ex.exit_code;
                r.state.oom_killed = ex.oom_killed;
                r.state.error = ex.error.clone();
                r.restart_count = ex.restart_count;
                if !ex.started_at.is_empty() {
                    r.state.started_at = ex.started_at.clone();
                }
                r.state.finished_at = if ex.finished_at.is_empty() {
                    yurta_images::time::now_rfc3339()
                } else {
                    ex.finished_at.clone()
                };
                r.network_settings.ip_address.clear();
                r.network_settings.ports.clear();
                r.network_settings.sandbox_key.clear();
            });
            if let Err(e) = r {
                self.errors.push(e.to_string());
            }
        }
        if let Some(deleting) = deleting {
            let _ = deleting.join();
        }
        let errors = &self.errors;
        anyhow::ensure!(errors.is_empty(), "cleanup {id}: {}", errors.join("; "));
        Ok(())
    }

    /// The supervisor's exit file; without one (nobody saw the exit) the
    /// code is unknown.
    fn exit_file(&self) -> ExitFile {
        read_exit(&self.p).unwrap_or_else(|| {
            let _ = fs::remove_file(&self.p.attach);
            ExitFile {
                exit_code: 255,
                error: "the supervisor was gone before the container exited; exit code unknown"
                    .into(),
                ..Default::default()
            }
        })
    }
}

/// What a started container holds on the host: its endpoints, the
/// namespace file, its mounts. Returns every error.
pub fn release(host: &Host, engine: &Engine, id: &str) -> Vec<String> {
    let p = Paths::new(&host.root, id);
    let mut errors = release_network(host, id, &p);
    if let Err(e) = engine.cleanup(id) {
        errors.push(e.to_string());
    }
    errors
}

/// The container's endpoints and its namespace file. Its veths are left
/// to the namespace's teardown when nothing else is in the namespace
/// (deleting them here would wait 10–20 ms for the kernel's RCU grace
/// periods; the teardown does it in the background a few ms later).
fn release_network(host: &Host, id: &str, p: &Paths) -> Vec<String> {
    let mut errors = Vec::new();
    let links = if netns::unused(&p.netns) {
        Links::DieWithNamespace
    } else {
        Links::Delete
    };
    match super::netns::networks(host).and_then(|n| Ok(n.detach_all(id, links)?)) {
        Ok(()) => {}
        Err(e) => errors.push(format!("network: {}", super::one_line(&e))),
    }
    // A running DNS resolver drops its sockets in the namespace now (they
    // would keep it, and the veths, alive until it saw the records
    // change); with no other container to serve, it exits.
    let _ = yurta_resolver::sync(&host.root, None, yurta_resolver::Start::No);
    if let Err(e) = netns::remove(&p.netns) {
        errors.push(super::one_line(&e));
    }
    errors
}
