//! `create`, `start` and `run`: record (engine.create), network
//! namespace and endpoints (yurta-network), bundle (engine.prepare),
//! then a `yurta-supervisor` that starts the container and reports on
//! its sync fd. A foreground `run` attaches to the supervisor's socket
//! and exits with the container's code.

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use serde::Deserialize;
use yurta_engine::options::parse;
use yurta_engine::record::{ContainerRecord, Status};
use yurta_engine::{CreateOptions, Engine, PrepareOptions};

use super::args::{AttachArgs, CreateArgs, StartArgs};
use super::attach::{Attach, Until};
use super::{exit, netns, reconcile, runtime_root, state, Exit, Paths};
use crate::Ctx;

pub fn create_cmd(ctx: &Ctx, a: CreateArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = create(ctx, &engine, &a)?;
    outln!("{}", rec.id)?;
    Ok(())
}

pub fn start_cmd(ctx: &Ctx, a: StartArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    for q in &a.containers {
        let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(q)?);
        if rec.state.running {
            outln!("{q}")?;
            continue;
        }
        if a.attach && a.containers.len() == 1 {
            let started = start(ctx, &engine, &rec, Some(a.interactive))?;
            let client = started.attach.map(|c| c.with_detach_keys(&a.detach_keys));
            return finish_attached(ctx, &engine, &rec, client, started.cleanup);
        }
        start(ctx, &engine, &rec, None).with_context(|| format!("start {q}"))?;
        outln!("{q}")?;
    }
    Ok(())
}

/// `attach`: the running container's output from now on (and our stdin
/// when it was started with `-i`), then its exit code.
pub fn attach_cmd(ctx: &Ctx, a: AttachArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = reconcile::refresh(ctx, &engine, engine.containers.lookup(&a.container)?);
    if !rec.state.running {
        bail!("You cannot attach to a stopped container, start it first");
    }
    let p = Paths::new(&ctx.root, &rec.id);
    let stdin = !a.no_stdin && rec.config.open_stdin;
    let held = single_run(&rec)
        .then(|| state::try_lock_cleanup(&p))
        .flatten();
    let client =
        Attach::connect(&p.attach, stdin, rec.config.tty)?.with_detach_keys(&a.detach_keys);
    finish_attached(ctx, &engine, &rec, Some(client), held)
}

pub fn run(ctx: &Ctx, a: CreateArgs) -> anyhow::Result<()> {
    let engine = Engine::open(&ctx.root)?;
    let rec = create(ctx, &engine, &a)?;
    yurta_fault::point("run.created");
    if a.detach {
        if let Err(e) = start(ctx, &engine, &rec, None) {
            discard(&engine, &rec, a.rm);
            return Err(e);
        }
        outln!("{}", rec.id)?;
        return Ok(());
    }
    match start(ctx, &engine, &rec, Some(a.interactive)) {
        Ok(started) => {
            let attach = started.attach.map(|c| c.with_detach_keys(&a.detach_keys));
            finish_attached(ctx, &engine, &rec, attach, started.cleanup)
        }
        Err(e) => {
            discard(&engine, &rec, a.rm);
            Err(e)
        }
    }
}

/// After a failed start (which released what it made): the record stays
/// (Docker keeps a "created" container) unless `--rm`.
fn discard(engine: &Engine, rec: &ContainerRecord, rm: bool) {
    if rm {
        let _ = engine.remove(&rec.id, true);
    }
}

fn single_run(rec: &ContainerRecord) -> bool {
    matches!(rec.host_config.restart_policy.name.as_str(), "" | "no")
}

/// Streams the container's output, then cleans up after it and ends with
/// its exit code. When the supervisor will not restart the container, this
/// CLI holds `cleanup.lock` (`held`) from before the start, which tells the
/// supervisor to leave the cleanup to it: as soon as the exit code arrives it releases
/// the network, deletes the container from the runtime (in-process, no
/// `yurta-runtime delete` to exec) and unmounts and removes what it has,
/// while the supervisor finishes. The init has exited, and with it every
/// process of the container's pid namespace (the kernel kills and reaps
/// them first), so nothing uses the rootfs any more. The lock is held until
/// the supervisor is gone (awaited through a pidfd). Detached (detach keys)
/// or killed, the CLI drops the lock and the supervisor cleans up. Either
/// way nothing of the container is left when this returns.
fn finish_attached(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    attach: Option<Attach>,
    held: Option<state::CleanupLock>,
) -> anyhow::Result<()> {
    let p = Paths::new(&ctx.root, &rec.id);
    super::attach::proxy_signals(ctx.clone(), rec.id.clone());
    let code = match &attach {
        Some(client) if single_run(rec) => {
            let code = client.pump(Until::Exit)?;
            if client.detached() {
                return Ok(());
            }
            let supervisor = state::SupervisorExit::open(&p);
            let cleanup = held.and_then(|h| state::Cleanup::with_lock(ctx, engine, &rec.id, h));
            if let (Some(code), Some(c), Some(supervisor)) = (code, cleanup, supervisor) {
                let code = state::read_exit(&p).map_or(code, |e| e.exit_code);
                let (r, lock) = c.finish_holding();
                client.wait_closed();
                supervisor.wait();
                drop(lock);
                r?;
                return Err(exit(code));
            }
            client.wait_closed();
            code
        }
        Some(client) => {
            let code = client.pump(Until::Closed)?;
            if client.detached() {
                return Ok(());
            }
            code
        }
        None => None,
    };
    // No exit code (the stream broke) or the supervisor gone: wait for it,
    // then the usual cleanup, which deletes from the runtime when the
    // supervisor could not.
    match state::SupervisorExit::open(&p) {
        Some(supervisor) => supervisor.wait(),
        // No pidfd (a kernel before 5.3): poll.
        None => {
            while state::supervisor_alive(&p) {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
    let code = state::read_exit(&p)
        .map(|e| e.exit_code)
        .or(code)
        .unwrap_or(125);
    state::after_exit(ctx, engine, &rec.id)?;
    Err(exit(code))
}

/// The record: flags → CreateOptions → engine.create (pulling the image
/// per `--pull`).
pub fn create(ctx: &Ctx, engine: &Engine, a: &CreateArgs) -> anyhow::Result<ContainerRecord> {
    ensure_image(ctx, engine, a)?;
    warn_platform(engine, a);
    let mut opts = options(a)?;
    opts.load_files(&|k| std::env::var(k).ok())?;
    let rec = engine.create(&opts)?;
    crate::events::container(&rec, "create");
    if !a.network_alias.is_empty() {
        let aliases = serde_json::json!(a.network_alias);
        engine
            .containers
            .update(&rec.id, |r| {
                r.yurta.extra.insert("NetworkAliases".into(), aliases);
            })
            .map_err(anyhow::Error::from)
    } else {
        Ok(rec)
    }
}

fn ensure_image(ctx: &Ctx, engine: &Engine, a: &CreateArgs) -> anyhow::Result<()> {
    let wanted = crate::platform::given(a.platform.as_deref())?;
    let local = engine.images.resolve(&a.image).ok();
    // With --platform, a local image of another platform does not count
    // (the platform module decides, e2k generations included).
    let present = match (&local, &wanted) {
        (Some(img), Some(w)) => w.rank(&img.platform).is_some(),
        (found, _) => found.is_some(),
    };
    match a.pull.as_str() {
        "never" if !present => match (&local, &wanted) {
            (Some(img), Some(w)) => bail!(
                "image {} is for {}, which cannot run as the requested {w}",
                a.image,
                img.platform
            ),
            _ => bail!("No such image: {}", a.image),
        },
        "missing" if present => Ok(()),
        "never" => Ok(()),
        "missing" | "always" => (ctx.registry)(
            ctx,
            crate::RegistryCommand::PullForRun {
                image: a.image.clone(),
                platform: a.platform.clone(),
            },
        ),
        other => bail!("invalid --pull {other:?}: expected missing, always or never"),
    }
}

/// Docker's warning (on stderr; the container is created all the same)
/// when, without `--platform`, the image is for a platform this host does
/// not run.
fn warn_platform(engine: &Engine, a: &CreateArgs) {
    if a.platform.is_some() {
        return;
    }
    let Ok(image) = engine.images.resolve(&a.image) else {
        return;
    };
    let host = yurta_images::Platform::host();
    if host.rank(&image.platform).is_none() {
        errln!(
            "WARNING: The requested image's platform ({}) does not match the detected host platform ({host}) and no specific platform was requested",
            image.platform
        );
    }
}

fn options(a: &CreateArgs) -> anyhow::Result<CreateOptions> {
    if let Some(d) = a.log_driver.as_deref().filter(|d| *d != "json-file") {
        bail!("log driver {d:?} is not supported (json-file only)");
    }
    let port_bindings = netns::port_bindings(&a.publish)?;
    Ok(CreateOptions {
        name: a.name.clone(),
        image: a.image.clone(),
        command: a.command.clone(),
        entrypoint: a.entrypoint.clone(),
        env: a.env.clone(),
        env_files: a.env_file.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        hostname: a.hostname.clone(),
        labels: a.label.clone(),
        tty: a.tty,
        interactive: a.interactive,
        detach: a.detach,
        volumes: a.volume.clone(),
        mounts: a.mount.clone(),
        read_only: a.read_only,
        privileged: a.privileged,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        security_opt: a.security_opt.clone(),
        memory: a.memory.clone(),
        memory_swap: a.memory_swap.clone(),
        shm_size: a.shm_size.clone(),
        cpus: a.cpus.clone(),
        cpu_shares: a.cpu_shares,
        cpuset_cpus: a.cpuset_cpus.clone(),
        pids_limit: a.pids_limit,
        ulimits: a.ulimit.clone(),
        sysctls: a.sysctl.clone(),
        devices: a.device.clone(),
        init: a.init,
        stop_signal: a.stop_signal.clone(),
        stop_timeout: a.stop_timeout,
        restart: a.restart.clone(),
        auto_remove: a.rm,
        network: a.network.clone(),
        add_hosts: a.add_host.clone(),
        dns: a.dns.clone(),
        log_opts: a.log_opt.clone(),
        publish_all: a.publish_all,
        port_bindings,
        expose: a.expose.clone(),
    })
}

#[derive(Deserialize)]
struct SyncReport {
    pid: Option<i32>,
    error: Option<String>,
    exit_code: Option<i32>,
}

/// What [`start`] gives an attached CLI.
#[derive(Default)]
pub struct Started {
    /// Connected to the supervisor before the container started.
    pub attach: Option<Attach>,
    /// `cleanup.lock`, held for a foreground CLI whose container will not
    /// be restarted: see [`finish_attached`].
    pub cleanup: Option<state::CleanupLock>,
}

/// Starts a created or exited container: network, bundle, supervisor.
/// With `attach` (Some(stdin)), connects to the attach socket before the
/// container starts so that no output is missed, and takes `cleanup.lock`
/// before the container may exit. Holds `start.lock` throughout: what a
/// killed earlier start left is released first (or a container it started
/// is found running: then nothing is done), and a start killed in turn is
/// settled by the next command (`reconcile`). On failure everything
/// started is undone.
pub fn start(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    attach: Option<bool>,
) -> anyhow::Result<Started> {
    let p = Paths::new(&ctx.root, &rec.id);
    let Some(_starting) = reconcile::lock_start(&p) else {
        bail!("No such container: {}", rec.id);
    };
    let rec = reconcile::refresh_held(ctx, engine, &rec.id)?;
    if rec.state.running {
        return Ok(Started::default());
    }
    let cleanup = match attach {
        Some(_) if single_run(&rec) => state::try_lock_cleanup(&p),
        _ => None,
    };
    for f in [&p.exit, &p.stop, &p.pid, &p.supervisor_pid, &p.attach] {
        let _ = std::fs::remove_file(f);
    }
    yurta_fault::point("start.locked");
    match start_inner(ctx, engine, &rec, &p, attach) {
        Ok(attach) => Ok(Started { attach, cleanup }),
        Err(e) => {
            let _ = reconcile::release(ctx, engine, &p);
            Err(e)
        }
    }
}

fn start_inner(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    p: &Paths,
    attach: Option<bool>,
) -> anyhow::Result<Option<Attach>> {
    let (joined, settings) = netns::join(ctx, rec, p)?;
    yurta_fault::point("start.network");
    let rec = match settings {
        Some(s) => engine
            .containers
            .update(&rec.id, |r| r.network_settings = s)?,
        None => rec.clone(),
    };
    yurta_fault::point("start.settings");
    crate::events::connected(&rec);
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
        netns::refresh_peers(ctx, &rec.id, &p.dir.join("hosts"))?;
    }
    let (read, write) = nix::unistd::pipe().context("pipe")?;
    nix::fcntl::fcntl(
        read.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    let pair = attach.map(|_| Attach::pair()).transpose()?;
    let mut cmd = supervisor_command(ctx, &rec, p, &write)?;
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
        let stdin = attach.unwrap_or(false) && rec.config.open_stdin;
        Attach::on(ours, stdin, rec.config.tty)
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
            r.state.finished_at = yurta_engine::record::ZERO_TIME.into();
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
    Err(Exit {
        code: code.clamp(1, 255) as u8,
        message: Some(msg),
    }
    .into())
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
    ctx: &Ctx,
    rec: &ContainerRecord,
    p: &Paths,
    sync: &OwnedFd,
) -> anyhow::Result<Command> {
    std::fs::create_dir_all(p.attach.parent().unwrap_or(&ctx.root))?;
    let hc = &rec.host_config;
    let mut c = Command::new(ctx.binaries.supervisor.clone());
    c.arg("--runtime").arg(ctx.binaries.runtime.clone());
    c.arg("--runtime-root").arg(runtime_root(ctx));
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
    c.arg("--exit-command").arg(&ctx.binaries.yurta);
    for a in [
        "--root",
        &ctx.root.display().to_string(),
        "container",
        "cleanup",
        &rec.id,
    ] {
        c.arg("--exit-command-arg").arg(a);
    }
    // Held by a foreground `run` from the exit code to the end of its
    // cleanup; a killed CLI's leftovers are finished by the next refresh.
    c.arg("--exit-command-lock").arg(&p.cleanup_lock);
    crate::events::supervisor_args(&mut c, &ctx.root, rec);
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
