//! `create` and `start`: the record (engine.create), the network
//! namespace and endpoints (yurta-network), the bundle (engine.prepare),
//! then a `yurta-supervisor` that starts the container and reports on its
//! sync fd.

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use nix::sys::socket::{AddressFamily, SockFlag, SockType};
use serde::Deserialize;
use yurta_error::{ErrorKind, Kinded};

use super::{events, netns, reconcile, state, Host, Paths};
use crate::options::parse;
use crate::record::{ContainerRecord, Status};
use crate::{CreateOptions, Engine, PrepareOptions};

/// The record: engine.create, the `create` event, and the network aliases
/// (`--network-alias`), which the network side reads at start.
pub fn create(
    host: &Host,
    engine: &Engine,
    opts: &CreateOptions,
    aliases: &[String],
) -> anyhow::Result<ContainerRecord> {
    let rec = engine.create(opts)?;
    events::container(&host.root, &rec, "create");
    if aliases.is_empty() {
        return Ok(rec);
    }
    let aliases = serde_json::json!(aliases);
    Ok(engine.containers.update(&rec.id, |r| {
        r.yurta.extra.insert("NetworkAliases".into(), aliases);
    })?)
}

/// The container's process could not be started (its command missing,
/// not executable, a mount refused...): the container stays "created"
/// with this exit code and message in its state, as in Docker.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartFailed {
    /// 126 (cannot run), 127 (not found), or another code the runtime gave.
    pub exit_code: i32,
    pub message: String,
}

impl Kinded for StartFailed {
    fn kind(&self) -> ErrorKind {
        match self.exit_code {
            126 | 127 => ErrorKind::Invalid,
            _ => ErrorKind::Internal,
        }
    }
}

/// Whether the supervisor will not restart the container (no policy).
pub fn single_run(rec: &ContainerRecord) -> bool {
    matches!(rec.host_config.restart_policy.name.as_str(), "" | "no")
}

#[derive(Deserialize)]
struct SyncReport {
    pid: Option<i32>,
    error: Option<String>,
    exit_code: Option<i32>,
}

/// What [`start`] gives an attached front end.
#[derive(Default)]
pub struct Started {
    /// Our end of the attach socket pair (a SOCK_SEQPACKET), connected to
    /// the supervisor before the container started, so that no output is
    /// missed; the supervisor's attach protocol runs over it.
    pub attach: Option<OwnedFd>,
    /// `cleanup.lock`, held for a foreground CLI whose container will not
    /// be restarted: the front end cleans up as soon as the exit code
    /// arrives (see the CLI's `finish_attached`).
    pub cleanup: Option<state::CleanupLock>,
    /// It was running already: nothing was done (Docker's 304).
    pub was_running: bool,
}

/// How a front end follows the container it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Not at all (`start`, `run -d`).
    No,
    /// Through the attach socket pair (the Engine API's attach stream);
    /// the supervisor cleans up after the exit.
    Stream,
    /// Through the socket pair, and the front end cleans up after a
    /// container that will not be restarted, holding `cleanup.lock` from
    /// before the start (a foreground `yurta run`).
    StreamAndCleanUp,
}

/// Starts a created or exited container: network, bundle, supervisor.
/// With `attach`, connects to the attach socket before the
/// container starts so that no output is missed, and takes `cleanup.lock`
/// before the container may exit. Holds `start.lock` throughout: what a
/// killed earlier start left is released first (or a container it started
/// is found running: then nothing is done), and a start killed in turn is
/// settled by the next command (`reconcile`). On failure everything
/// started is undone.
pub fn start(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    attach: Attach,
) -> anyhow::Result<Started> {
    let p = Paths::new(&host.root, &rec.id);
    let Some(_starting) = reconcile::lock_start(&p) else {
        return Err(super::fail(
            ErrorKind::NotFound,
            format!("No such container: {}", rec.id),
        ));
    };
    let rec = reconcile::refresh_held(host, engine, &rec.id)?;
    if rec.state.running {
        return Ok(Started {
            was_running: true,
            ..Started::default()
        });
    }
    let cleanup = match attach {
        Attach::StreamAndCleanUp if single_run(&rec) => state::try_lock_cleanup(&p),
        _ => None,
    };
    for f in [&p.exit, &p.stop, &p.pid, &p.supervisor_pid, &p.attach] {
        let _ = std::fs::remove_file(f);
    }
    yurta_fault::point("start.locked");
    match start_inner(host, engine, &rec, &p, attach != Attach::No) {
        Ok(attach) => Ok(Started {
            attach,
            cleanup,
            was_running: false,
        }),
        Err(e) => {
            let _ = reconcile::release(host, engine, &p);
            Err(e)
        }
    }
}

fn start_inner(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    p: &Paths,
    attach: bool,
) -> anyhow::Result<Option<OwnedFd>> {
    let (joined, settings) = netns::join(host, rec, p)?;
    yurta_fault::point("start.network");
    let rec = match settings {
        Some(s) => engine
            .containers
            .update(&rec.id, |r| r.network_settings = s)?,
        None => rec.clone(),
    };
    yurta_fault::point("start.settings");
    events::connected(&host.root, &rec);
    engine.prepare(
        &rec.id,
        &PrepareOptions {
            network: joined.netns,
            addresses: joined.addresses,
            ..Default::default()
        },
    )?;
    yurta_fault::point("start.prepared");
    if rec.host_config.network_mode != "host" && rec.host_config.network_mode != "none" {
        netns::refresh_peers(host, &rec.id, &p.dir.join("hosts"))?;
    }
    let (read, write) = nix::unistd::pipe().context("pipe")?;
    nix::fcntl::fcntl(
        read.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    let pair = attach.then(socket_pair).transpose()?;
    let mut cmd = supervisor_command(host, &rec, p, &write)?;
    if let Some((_, theirs)) = &pair {
        cmd.arg("--attach-fd").arg(theirs.as_raw_fd().to_string());
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("yurta-supervisor")?;
    drop(write);
    yurta_fault::point("start.supervisor");
    let client = pair.map(|(ours, theirs)| {
        drop(theirs);
        ours
    });
    let report = read_report(read)?;
    yurta_fault::point("start.reported");
    if let Some(pid) = report.pid {
        engine.containers.update(&rec.id, |r| {
            r.state.set_status(Status::Running);
            r.state.pid = pid;
            r.state.exit_code = 0;
            r.state.error.clear();
            r.state.oom_killed = false;
            r.state.started_at = yurta_images::time::now_rfc3339();
            r.state.finished_at = crate::record::ZERO_TIME.into();
        })?;
        return Ok(client);
    }
    let code = report.exit_code.unwrap_or(125);
    let msg = report
        .error
        .unwrap_or_else(|| format!("yurta-supervisor exited with {status}"));
    // Docker: a container that could not start stays "created", with the
    // exit code and the error in its state.
    engine.containers.update(&rec.id, |r| {
        r.state.set_status(Status::Created);
        r.state.exit_code = code;
        r.state.error = msg.clone();
    })?;
    Err(StartFailed {
        exit_code: code.clamp(1, 255),
        message: msg,
    }
    .into())
}

/// The attach socket pair: ours (close-on-exec) and the supervisor's.
fn socket_pair() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (ours, theirs) = nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::empty(),
    )
    .context("attach socket pair")?;
    nix::fcntl::fcntl(
        ours.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    Ok((ours, theirs))
}

fn read_report(read: OwnedFd) -> anyhow::Result<SyncReport> {
    let mut line = String::new();
    BufReader::new(std::fs::File::from(read)).read_line(&mut line)?;
    if line.trim().is_empty() {
        bail!("yurta-supervisor ended without a report");
    }
    serde_json::from_str(line.trim()).with_context(|| format!("supervisor report {line:?}"))
}

fn supervisor_command(
    host: &Host,
    rec: &ContainerRecord,
    p: &Paths,
    sync: &OwnedFd,
) -> anyhow::Result<Command> {
    std::fs::create_dir_all(p.attach.parent().unwrap_or(&host.root))?;
    let hc = &rec.host_config;
    let mut c = Command::new(host.binaries.supervisor.clone());
    c.arg("--runtime").arg(host.binaries.runtime.clone());
    c.arg("--runtime-root").arg(host.runtime_root());
    c.arg("--bundle").arg(&p.dir).args(["--id", &rec.id]);
    c.arg("--pid-file").arg(&p.pid);
    c.arg("--log-path").arg(&rec.log_path);
    if let Some(s) = hc.log_config.config.get("max-size") {
        c.arg("--log-max-size")
            .arg(parse::size("--log-opt max-size", s)?.to_string());
    }
    if let Some(n) = hc.log_config.config.get("max-file") {
        c.arg("--log-max-files").arg(n);
    }
    c.arg("--exit-file").arg(&p.exit);
    c.arg("--sync-fd").arg(sync.as_raw_fd().to_string());
    if rec.config.tty {
        c.arg("--tty");
    }
    if rec.config.open_stdin {
        c.arg("--stdin");
    }
    c.arg("--attach-socket").arg(&p.attach);
    let policy = &hc.restart_policy;
    let restart = match policy.name.as_str() {
        "" | "no" => "no".to_string(),
        "on-failure" if policy.maximum_retry_count > 0 => {
            format!("on-failure:{}", policy.maximum_retry_count)
        }
        n => n.to_string(),
    };
    c.args(["--restart", &restart]);
    c.arg("--stop-file").arg(&p.stop);
    c.arg("--cgroup-oom").arg(oom_file(&rec.id));
    c.arg("--supervisor-pid-file").arg(&p.supervisor_pid);
    c.arg("--exit-command").arg(&host.binaries.yurta);
    for a in [
        "--root",
        &host.root.display().to_string(),
        "container",
        "cleanup",
        &rec.id,
    ] {
        c.arg("--exit-command-arg").arg(a);
    }
    // Held by a foreground `run` from the exit code to the end of its
    // cleanup; a killed CLI's leftovers are finished by the next refresh.
    c.arg("--exit-command-lock").arg(&p.cleanup_lock);
    if rec.config.healthcheck.as_ref().is_some_and(|h| h.enabled()) {
        c.arg("--health-command").arg(&host.binaries.yurta);
        for a in [
            "--root",
            &host.root.display().to_string(),
            "container",
            "__health",
            &rec.id,
        ] {
            c.arg("--health-command-arg").arg(a);
        }
    }
    events::supervisor_args(&mut c, &host.root, rec);
    Ok(c)
}

/// The cgroup file the supervisor reads the OOM kill count from.
fn oom_file(id: &str) -> String {
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        format!("/sys/fs/cgroup/yurta/{id}/memory.events")
    } else {
        format!("/sys/fs/cgroup/memory/yurta/{id}/memory.oom_control")
    }
}
