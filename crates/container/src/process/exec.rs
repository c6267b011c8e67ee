//! Processes started by `exec` inside a running container: an intermediate
//! joins the init's namespaces and forks the process that runs the command.

use std::convert::Infallible;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::channel::{Channel, Message};
use crate::error::{Error, Result};
use crate::namespaces::{self, clone_flag, proc_name};
use crate::{rlimits, tty};

use super::cgroup_fork::PendingJoin;
use super::{finish, fork_held, run_role, SETUP_FAILED};

/// What an exec'd process needs, known before the first fork.
#[derive(Debug, Clone)]
pub struct ExecArgs {
    pub init_pid: i32,
    pub spec: Spec,
    pub process: Process,
    pub console_socket: Option<PathBuf>,
    pub preserve_fds: u32,
}

/// Entry point of the exec intermediate after `fork`.
pub fn run(ch: &Channel, args: &ExecArgs, cgroup: PendingJoin) -> ! {
    run_role(ch, || {
        intermediate(ch, args, cgroup).map_err(|e| (e, SETUP_FAILED))
    })
}

fn intermediate(ch: &Channel, args: &ExecArgs, cgroup: PendingJoin) -> Result<Infallible> {
    cgroup.finish()?;
    let console = args
        .console_socket
        .as_deref()
        .map(tty::connect)
        .transpose()?;
    let mut files = open_namespaces(args.init_pid)?;
    // Join everything else while still holding the host's capabilities, then the user namespace.
    files.sort_by_key(|(typ, _)| *typ == LinuxNamespaceType::User);
    for (typ, file) in &files {
        nix::sched::setns(file.as_fd(), clone_flag(*typ)).map_err(|e| {
            Error::sys(
                format!("joining the container's {} namespace", proc_name(*typ)),
                e,
            )
        })?;
    }
    // Held until InitPid is sent: the process's Failed or SeccompListener
    // must not reach the parent first.
    let (pid, go) = fork_held(|| run_role(ch, || process(ch, args, console.as_ref())))?;
    ch.send(&Message::InitPid { pid })?;
    drop(go);
    // SAFETY: the intermediate's work is done; leave without unwinding.
    unsafe { libc::_exit(0) }
}

/// The namespaces of the container's init that differ from ours.
fn open_namespaces(pid: i32) -> Result<Vec<(LinuxNamespaceType, File)>> {
    let mut out = Vec::new();
    for typ in namespaces::ALL {
        let theirs = PathBuf::from(format!("/proc/{pid}/ns/{}", proc_name(typ)));
        let ours = PathBuf::from(format!("/proc/self/ns/{}", proc_name(typ)));
        let (Ok(a), Ok(b)) = (std::fs::metadata(&theirs), std::fs::metadata(&ours)) else {
            continue;
        };
        if a.ino() == b.ino() && a.dev() == b.dev() {
            continue;
        }
        let file = File::open(&theirs).map_err(|e| Error::read(&theirs, e))?;
        out.push((typ, file));
    }
    Ok(out)
}

fn process(
    ch: &Channel,
    args: &ExecArgs,
    console: Option<&UnixStream>,
) -> Result<Infallible, (Error, i32)> {
    let fail = |e: Error| (e, SETUP_FAILED);
    if args.process.terminal().unwrap_or(false) {
        let socket = console
            .ok_or_else(|| fail(Error::InvalidConfig("--tty needs --console-socket".into())))?;
        nix::unistd::setsid().map_err(|e| fail(Error::sys("setsid", e)))?;
        let pty = tty::open_pty().map_err(fail)?;
        if let Some(size) = args.process.console_size() {
            use std::os::fd::AsRawFd;
            tty::set_size(
                pty.master.as_raw_fd(),
                size.height() as u16,
                size.width() as u16,
            )
            .map_err(fail)?;
        }
        tty::send_master(socket, &pty.master).map_err(fail)?;
        drop(pty.master);
        tty::become_console(&pty.slave).map_err(fail)?;
    }
    if let Some(limits) = args.process.rlimits() {
        rlimits::apply(limits).map_err(fail)?;
    }
    let seccomp = finish::compile_seccomp(&args.spec).map_err(fail)?;
    let prepared = finish::prepare(&args.process, &args.spec, args.preserve_fds, seccomp)?;
    finish::lock_down(&prepared, ch)?;
    finish::exec_now(&prepared)
}
