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
        finish::lock_down(&prepared.process, ch)?;
        ch.send(&Message::Ready).map_err(|e| (e, 1))?;
        wait_for_start(&prepared.fifo, prepared.proc.as_ref()).map_err(|e| (e, 1))?;
        let hooks = args
            .spec
            .hooks()
            .as_ref()
            .and_then(|h| h.start_container().clone())
            .unwrap_or_default();
        hooks::run("startContainer", &hooks, &state_json(args, "running")).map_err(|e| (e, 1))?;
        finish::exec_now(&prepared.process)
    })
}

/// Descriptors the intermediate opened for init while host paths were reachable.
pub struct InheritedFds {
    pub console: Option<std::os::unix::net::UnixStream>,
    pub fifo: OwnedFd,
    /// The host's /proc, without a mount namespace of the container's own:
    /// nothing is mounted in its root, so the fifo is reopened through this.
    pub proc: Option<OwnedFd>,
}

impl InheritedFds {
    /// Opens what init needs from the host (in the intermediate).
    pub fn open(args: &InitArgs) -> Result<Self> {
        let proc = if args.plan.has(LinuxNamespaceType::Mount) {
            None
        } else {
            Some(open_flags(
                Path::new("/proc"),
                libc::O_PATH | libc::O_DIRECTORY,
            )?)
        };
        Ok(InheritedFds {
            console: args
                .console_socket
                .as_deref()
                .map(tty::connect)
                .transpose()?,
            fifo: open_path(&args.fifo)?,
            proc,
        })
    }
}

/// What setup leaves for the moment `start` arrives.
struct PreparedInit {
    fifo: OwnedFd,
    proc: Option<OwnedFd>,
    process: Prepared,
}

fn setup(ch: &Channel, args: &InitArgs, fds: InheritedFds) -> Result<PreparedInit, (Error, i32)> {
    let fail = |e: Error| (e, super::SETUP_FAILED);
    nix::unistd::setsid()
        .sys(|| "setsid".into())
        .map_err(fail)?;
    // SAFETY: umask cannot fail; devices and mountpoints get exact modes.
    unsafe { libc::umask(0) };
    let InheritedFds {
        console,
        fifo,
        proc,
    } = fds;
    if let Some(adj) = args.process.oom_score_adj() {
        write_oom_score_adj(adj).map_err(fail)?;
    }
    let sys = LinuxSyscall;
    let plan = &args.plan;
    // Without a mount namespace of its own the container shares the host's
    // mounts: nothing is mounted, pivoted or remounted (as runc leaves
    // `/` alone), only chroot.
    let own_mounts = plan.has(LinuxNamespaceType::Mount);
    if own_mounts {
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
    run_create_hooks(ch, args).map_err(fail)?;
    if own_mounts {
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
        setup_console(socket, &args.process, own_mounts).map_err(fail)?;
    }
    if plan.has(LinuxNamespaceType::Uts) {
        rootfs::set_names(&sys, &args.spec).map_err(fail)?;
    }
    rootfs::apply_sysctl(&args.spec).map_err(fail)?;
    if own_mounts {
        rootfs::finalize(&sys, &args.spec).map_err(fail)?;
    }
    if let Some(limits) = args.process.rlimits() {
        rlimits::apply(limits).map_err(fail)?;
    }
    let seccomp = args.seccomp.clone();
    let process = finish::prepare(&args.process, &args.spec, args.preserve_fds, seccomp)?;
    let fifo_link = format!("/proc/self/fd/{}", fifo.as_raw_fd());
    if proc.is_none() && !Path::new(&fifo_link).exists() {
        return Err(fail(Error::InvalidConfig(
            "the container has no /proc mount: init needs it to wait for start".into(),
        )));
    }
    Ok(PreparedInit {
        fifo,
        proc,
        process,
    })
}

/// prestart and createRuntime (by the parent), then createContainer.
fn run_create_hooks(ch: &Channel, args: &InitArgs) -> Result<()> {
    let Some(h) = args.spec.hooks() else {
        return Ok(());
    };
    if h.prestart().is_some() || h.create_runtime().is_some() {
        ch.send(&Message::RunCreateRuntimeHooks)?;
        ch.expect("HooksDone", |m| *m == Message::HooksDone)?;
    }
    if let Some(create_container) = h.create_container() {
        hooks::run(
            "createContainer",
            create_container,
            &state_json(args, "created"),
        )?;
    }
    Ok(())
}

/// Opens the exec fifo by path only; opening it for writing later blocks until `start`.
pub fn open_path(path: &Path) -> Result<OwnedFd> {
    open_flags(path, libc::O_PATH)
}

fn open_flags(path: &Path, flags: libc::c_int) -> Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::read(path, e))?;
    Ok(file.into())
}

/// Blocks until `start` opens the fifo for reading, then tells it we go on.
/// The fifo is reopened through the container's /proc, or the host's
/// (`proc`) when the container has no mount namespace of its own.
fn wait_for_start(fifo: &OwnedFd, proc: Option<&OwnedFd>) -> Result<()> {
    let link = format!("self/fd/{}", fifo.as_raw_fd());
    let flags = nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC;
    let opened = match proc {
        Some(dir) => nix::fcntl::openat(
            Some(dir.as_raw_fd()),
            link.as_str(),
            flags,
            nix::sys::stat::Mode::empty(),
        ),
        None => nix::fcntl::open(
            format!("/proc/{link}").as_str(),
            flags,
            nix::sys::stat::Mode::empty(),
        ),
    };
    let fd = opened.map_err(|e| {
        Error::Setup(format!(
            "waiting for start on the exec fifo (/proc/{link}; is /proc mounted?): {e}"
        ))
    })?;
    // SAFETY: open returned a new descriptor that nothing else owns.
    let mut f = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    f.write_all(b"0")
        .map_err(|e| Error::write(format!("/proc/{link}"), e))
}

fn sys_chroot(rootfs: &Path) -> Result<()> {
    nix::unistd::chroot(rootfs).sys(|| format!("chroot {}", rootfs.display()))?;
    nix::unistd::chdir("/").sys(|| "chdir /".into())
}

fn setup_console(
    socket: &std::os::unix::net::UnixStream,
    process: &oci_spec::runtime::Process,
    own_mounts: bool,
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
    if own_mounts {
        bind_console(&pty.slave)?;
    }
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
