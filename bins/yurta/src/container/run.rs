//! `create`, `start`, `run` and `attach` over `yurta_engine::lifecycle`
//! (record, network, bundle, supervisor). A foreground `run` attaches to
//! the supervisor's socket and exits with the container's code.

use anyhow::{bail, Context};
use yurta_engine::lifecycle::{self, single_run, StartFailed};
use yurta_engine::record::ContainerRecord;
use yurta_engine::{CreateOptions, Engine};

use super::args::{AttachArgs, CreateArgs, StartArgs};
use super::attach::{Attach, Until};
use super::{exit, netns, reconcile, state, Exit, Paths};
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

/// The record: flags → CreateOptions → lifecycle::create (pulling the
/// image per `--pull`).
pub fn create(ctx: &Ctx, engine: &Engine, a: &CreateArgs) -> anyhow::Result<ContainerRecord> {
    ensure_image(ctx, engine, a)?;
    warn_platform(engine, a);
    let mut opts = options(a)?;
    opts.load_files(&|k| std::env::var(k).ok())?;
    lifecycle::create(ctx, engine, &opts, &a.network_alias)
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
    let health = yurta_engine::options::health::HealthFlags {
        cmd: a.health_cmd.clone(),
        interval: a.health_interval.clone(),
        timeout: a.health_timeout.clone(),
        start_period: a.health_start_period.clone(),
        start_interval: a.health_start_interval.clone(),
        retries: a.health_retries,
        none: a.no_healthcheck,
    };
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
        tmpfs: a.tmpfs.clone(),
        cpu_quota: a.cpu_quota,
        cpu_period: a.cpu_period,
        memory_reservation: a.memory_reservation.clone(),
        oom_score_adj: a.oom_score_adj,
        dns_search: a.dns_search.clone(),
        dns_options: a.dns_option.clone(),
        group_add: a.group_add.clone(),
        pid_mode: a.pid.clone(),
        ipc_mode: a.ipc.clone(),
        uts_mode: a.uts.clone(),
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
        healthcheck: yurta_engine::options::health::from_flags(&health)?,
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

/// What [`start`] gives an attached CLI.
#[derive(Default)]
pub struct Started {
    /// Connected to the supervisor before the container started.
    pub attach: Option<Attach>,
    /// `cleanup.lock`, held for a foreground CLI whose container will not
    /// be restarted: see [`finish_attached`].
    pub cleanup: Option<state::CleanupLock>,
}

/// [`lifecycle::start`], with our end of the attach socket as a client
/// when `attach` is Some (whether to forward our stdin), and a process
/// that could not start as the CLI's exit code (126, 127, ...).
pub fn start(
    ctx: &Ctx,
    engine: &Engine,
    rec: &ContainerRecord,
    attach: Option<bool>,
) -> anyhow::Result<Started> {
    let mode = match attach {
        Some(_) => lifecycle::Attach::StreamAndCleanUp,
        None => lifecycle::Attach::No,
    };
    let started = lifecycle::start(ctx, engine, rec, mode).map_err(as_exit)?;
    let stdin = attach.unwrap_or(false) && rec.config.open_stdin;
    Ok(Started {
        attach: started
            .attach
            .map(|sock| Attach::on(sock, stdin, rec.config.tty)),
        cleanup: started.cleanup,
    })
}

/// A container whose process could not start ends the CLI with its code.
fn as_exit(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<StartFailed>() {
        Ok(f) => Exit {
            code: f.exit_code.clamp(1, 255) as u8,
            message: Some(f.message),
        }
        .into(),
        Err(e) => e,
    }
}
