//! The container's init process: builds the root filesystem, waits for
//! `start` on the exec fifo, then becomes the user's process.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use oci_spec::runtime::LinuxNamespaceType;

use crate::channel::{Channel, Message};
use crate::error::{Error, Result, SysContext};
use crate::rootfs::{self, RootfsContext};
use crate::syscall::LinuxSyscall;
use crate::{hooks, rlimits, tty};

use super::finish::{self, Prepared};
use super::{run_role, InitArgs};

/// Entry point of init after the intermediate's fork.
pub fn run(ch: &Channel, args: &InitArgs, fds: InheritedFds) -> ! {
    run_role(ch, || {
        let prepared = setup(ch, args, fds)?;
        wait_for_start(&prepared.fifo).map_err(|e| (e, 1))?;
        let hooks = args
            .spec
            .hooks()
            .as_ref()
            .and_then(|h| h.start_container().clone())
            .unwrap_or_default();
        hooks::run("startContainer", &hooks, &state_json(args, "running")).map_err(|e| (e, 1))?;
        finish::exec(&prepared.process).map_err(|e| (e.0, e.1))
    })
}

/// Descriptors the intermediate opened for init while host paths were reachable.
pub struct InheritedFds {
    pub console: Option<std::os::unix::net::UnixStream>,
    pub fifo: OwnedFd,
}

/// What setup leaves for the moment `start` arrives.
struct PreparedInit {
    fifo: OwnedFd,
    process: Prepared,
}

fn setup(ch: &Channel, args: &InitArgs, fds: InheritedFds) -> Result<PreparedInit, (Error, i32)> {
    let fail = |e: Error| (e, super::SETUP_FAILED);
    nix::unistd::setsid()
        .sys(|| "setsid".into())
        .map_err(fail)?;
    // SAFETY: umask cannot fail; devices and mountpoints get exact modes.
    unsafe { libc::umask(0) };
    let InheritedFds { console, fifo } = fds;
    if let Some(adj) = args.process.oom_score_adj() {
        write_oom_score_adj(adj).map_err(fail)?;
    }
    let sys = LinuxSyscall;
    let plan = &args.plan;
    if plan.has(LinuxNamespaceType::Mount) {
        let ctx = RootfsContext {
            syscall: &sys,
            rootfs: &args.rootfs,
            bundle: &args.bundle,
            new_cgroupns: plan
                .create
                .contains(nix::sched::CloneFlags::CLONE_NEWCGROUP),
            in_userns: plan.has(LinuxNamespaceType::User),
        };
        rootfs::prepare(&ctx, &args.spec).map_err(fail)?;
    }
    if let Some(h) = args.spec.hooks() {
        if h.prestart().is_some() || h.create_runtime().is_some() {
            ch.send(&Message::RunCreateRuntimeHooks).map_err(fail)?;
            ch.expect("HooksDone", |m| *m == Message::HooksDone)
                .map_err(fail)?;
        }
        if let Some(create_container) = h.create_container() {
            hooks::run(
                "createContainer",
                create_container,
                &state_json(args, "created"),
            )
            .map_err(fail)?;
        }
    }
    if plan.has(LinuxNamespaceType::Mount) {
        // pivot_root cannot move away from an initramfs root: use MS_MOVE there.
        let no_pivot = args.no_pivot || rootfs::root_is_initramfs();
        rootfs::pivot(&sys, &args.rootfs, no_pivot).map_err(fail)?;
    } else {
        sys_chroot(&args.rootfs).map_err(fail)?;
    }
    if args.process.terminal().unwrap_or(false) {
        let socket = console.as_ref().ok_or_else(|| {
            fail(Error::InvalidConfig(
                "process.terminal is true but no --console-socket was given".into(),
            ))
        })?;
        setup_console(socket, &args.process).map_err(fail)?;
    }
    if plan.has(LinuxNamespaceType::Uts) {
        rootfs::set_names(&sys, &args.spec).map_err(fail)?;
    }
    rootfs::apply_sysctl(&args.spec).map_err(fail)?;
    rootfs::finalize(&sys, &args.spec).map_err(fail)?;
    if let Some(limits) = args.process.rlimits() {
        rlimits::apply(limits).map_err(fail)?;
    }
    let seccomp = args.seccomp.clone();
    let process = finish::prepare(&args.process, &args.spec, args.preserve_fds, seccomp)?;
    let fifo_link = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    if !Path::new(&fifo_link).exists() {
        return Err(fail(Error::InvalidConfig(
            "the container has no /proc mount: init needs it to wait for start".into(),
        )));
    }
    ch.send(&Message::Ready).map_err(fail)?;
    Ok(PreparedInit { fifo, process })
}

/// Opens the exec fifo by path only; opening it for writing later blocks until `start`.
pub fn open_path(path: &Path) -> Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::read(path, e))?;
    Ok(file.into())
}

/// Blocks until `start` opens the fifo for reading, then tells it we go on.
fn wait_for_start(fifo: &OwnedFd) -> Result<()> {
    let path = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| {
            Error::Setup(format!(
                "waiting for start on the exec fifo ({path}; is /proc mounted?): {e}"
            ))
        })?;
    f.write_all(b"0").map_err(|e| Error::write(&path, e))
}

fn sys_chroot(rootfs: &Path) -> Result<()> {
    nix::unistd::chroot(rootfs).sys(|| format!("chroot {}", rootfs.display()))?;
    nix::unistd::chdir("/").sys(|| "chdir /".into())
}

fn setup_console(
    socket: &std::os::unix::net::UnixStream,
    process: &oci_spec::runtime::Process,
) -> Result<()> {
    let pty = tty::open_pty()?;
    if let Some(size) = process.console_size() {
        tty::set_size(
            pty.master.as_raw_fd(),
            size.height() as u16,
            size.width() as u16,
        )?;
    }
    tty::send_master(socket, &pty.master)?;
    drop(pty.master);
    bind_console(&pty.slave)?;
    tty::become_console(&pty.slave)
}

/// Bind-mounts the pty slave on /dev/console, as runc does.
fn bind_console(slave: &OwnedFd) -> Result<()> {
    let link = format!("/proc/self/fd/{}", slave.as_raw_fd());
    let Ok(pts) = std::fs::read_link(&link) else {
        return Ok(());
    };
    let console = Path::new("/dev/console");
    if console.symlink_metadata().is_err() && File::create(console).is_err() {
        return Ok(());
    }
    nix::mount::mount(
        Some(&pts),
        console,
        None::<&str>,
        nix::mount::MsFlags::MS_BIND,
        None::<&str>,
    )
    .sys(|| format!("binding {} on /dev/console", pts.display()))
}

fn write_oom_score_adj(adj: i32) -> Result<()> {
    std::fs::write("/proc/self/oom_score_adj", adj.to_string()).map_err(|e| {
        let hint = if e.raw_os_error() == Some(libc::EACCES) {
            " (lowering it needs CAP_SYS_RESOURCE, which this process does not have)"
        } else {
            ""
        };
        Error::Setup(format!("setting oomScoreAdj to {adj}: {e}{hint}"))
    })
}

/// A minimal state document for hooks run from inside the container.
fn state_json(args: &InitArgs, status: &str) -> String {
    serde_json::json!({
        "ociVersion": crate::spec::OCI_VERSION,
        "id": args.id,
        "status": status,
        "pid": std::process::id(),
        "bundle": args.bundle,
    })
    .to_string()
}
