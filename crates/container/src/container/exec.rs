//! `exec`: a new process inside a running container.

use std::path::PathBuf;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use oci_spec::runtime::{Process, User};

use super::Container;
use crate::channel::{self, Message};
use crate::error::{Error, Result};
use crate::process::cgroup_fork::fork_in_cgroup;
use crate::process::exec::{self as exec_role, ExecArgs};
use crate::state::Status;

/// Options of `exec`.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub root: PathBuf,
    pub id: String,
    /// `--process FILE`: a whole OCI process object.
    pub process_file: Option<PathBuf>,
    /// Command and arguments (when there is no process file).
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: Option<String>,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub caps: Vec<String>,
    pub tty: bool,
    pub no_new_privs: bool,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub detach: bool,
    pub preserve_fds: u32,
    pub ignore_paused: bool,
}

/// How an exec ended (or that it was left running with --detach).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecOutcome {
    Detached { pid: i32 },
    Exited { code: i32 },
}

/// Starts the process; waits for it unless `detach`.
pub fn exec(opts: &ExecOptions) -> Result<ExecOutcome> {
    let c = Container::load(&opts.root, &opts.id)?;
    match c.status {
        Status::Running | Status::Created => {}
        Status::Paused if opts.ignore_paused => {}
        other => {
            return Err(Error::WrongState {
                id: opts.id.clone(),
                status: other.to_string(),
                action: "exec",
                expected: "running",
            })
        }
    }
    let spec = c.dir.load_config()?;
    let base = spec.process().clone().unwrap_or_default();
    let process = build_process(opts, &base)?;
    crate::user::check_additional_gids(process.user())?;
    let cgroup = c.state.cgroup()?;
    let args = ExecArgs {
        init_pid: c.state.pid,
        spec,
        process,
        console_socket: opts.console_socket.clone(),
        preserve_fds: opts.preserve_fds,
    };
    if !opts.detach {
        become_subreaper()?;
    }
    let (parent_end, child_end) = channel::pair()?;
    let intermediate = fork_in_cgroup(&cgroup.self_join(), |pending| {
        exec_role::run(&child_end, &args, pending)
    })?;
    drop(child_end);
    let kill_intermediate = |e: Error| {
        let _ = nix::sys::signal::kill(
            Pid::from_raw(intermediate),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = waitpid(Pid::from_raw(intermediate), None);
        e
    };
    let pid = match parent_end
        .expect("InitPid", |m| matches!(m, Message::InitPid { .. }))
        .map_err(kill_intermediate)?
    {
        Message::InitPid { pid } => pid,
        _ => unreachable!("expect() only returns accepted messages"),
    };
    let _ = waitpid(Pid::from_raw(intermediate), None);
    let running = c.state.oci(c.status);
    if let Err(e) = follow_process(&parent_end, &args.spec, pid, &running) {
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        let _ = waitpid(Pid::from_raw(pid), None);
        return Err(e);
    }
    if let Some(pid_file) = &opts.pid_file {
        super::write_pid_file(pid_file, pid)?;
    }
    if opts.detach {
        return Ok(ExecOutcome::Detached { pid });
    }
    Ok(ExecOutcome::Exited {
        code: wait_exit_code(pid)?,
    })
}

/// Answers the process until its end of the channel closes on a
/// successful execve.
fn follow_process(
    ch: &channel::Channel,
    spec: &oci_spec::runtime::Spec,
    pid: i32,
    state: &crate::state::OciState,
) -> Result<()> {
    loop {
        match ch.recv()? {
            None => return Ok(()),
            Some(Message::SeccompListener { fd }) => {
                super::seccomp_agent::hand_over(ch, spec, pid, fd, state)?;
            }
            Some(Message::Failed { message, exit_code }) => {
                return Err(match exit_code {
                    126 | 127 => Error::CannotRun { message, exit_code },
                    _ => Error::Setup(message),
                });
            }
            Some(other) => return Err(Error::Setup(format!("unexpected setup message {other:?}"))),
        }
    }
}

/// Waits for `pid` and turns its status into a shell-style exit code.
pub fn wait_exit_code(pid: i32) -> Result<i32> {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(128 + sig as i32),
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(Error::sys(format!("waiting for pid {pid}"), e)),
        }
    }
}

/// Makes orphaned descendants (our grandchild, once the intermediate exits) our children.
pub fn become_subreaper() -> Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        return Err(Error::sys(
            "prctl(PR_SET_CHILD_SUBREAPER)",
            nix::Error::last(),
        ));
    }
    Ok(())
}

/// The process to run: the --process file, or the container's process with
/// the command and flags of `exec` applied, as runc builds it.
fn build_process(opts: &ExecOptions, base: &Process) -> Result<Process> {
    if let Some(path) = &opts.process_file {
        let data = std::fs::read(path).map_err(|e| Error::read(path, e))?;
        return serde_json::from_slice(&data).map_err(|e| Error::Parse {
            path: path.clone(),
            message: e.to_string(),
        });
    }
    if opts.args.is_empty() {
        return Err(Error::InvalidConfig(
            "exec needs a command (or --process FILE)".into(),
        ));
    }
    let mut p = base.clone();
    p.set_args(Some(opts.args.clone()));
    p.set_terminal(Some(opts.tty));
    p.set_console_size(None);
    let mut env = base.env().clone().unwrap_or_default();
    for kv in &opts.env {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    p.set_env(Some(env));
    if let Some(cwd) = &opts.cwd {
        p.set_cwd(cwd.into());
    }
    if let Some(u) = &opts.user {
        let (uid, gid) = crate::user::parse_user(u)?;
        let mut user: User = p.user().clone();
        user.set_uid(uid);
        user.set_gid(gid.unwrap_or(0));
        p.set_user(user);
    }
    if !opts.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(opts.additional_gids.clone()));
        p.set_user(user);
    }
    if opts.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    if !opts.caps.is_empty() {
        add_caps(&mut p, &opts.caps)?;
    }
    Ok(p)
}

fn add_caps(p: &mut Process, caps: &[String]) -> Result<()> {
    use oci_spec::runtime::Capability;
    use std::str::FromStr;
    let mut all = p.capabilities().clone().unwrap_or_default();
    for name in caps {
        let cap = crate::capabilities::number(name)
            .and_then(|n| Capability::from_str(crate::capabilities::NAMES[n as usize]).ok())
            .ok_or_else(|| Error::InvalidConfig(format!("unknown capability {name:?}")))?;
        let add = |s: &Option<oci_spec::runtime::Capabilities>| {
            let mut s = s.clone().unwrap_or_default();
            s.insert(cap);
            Some(s)
        };
        let (b, e, pm) = (
            add(all.bounding()),
            add(all.effective()),
            add(all.permitted()),
        );
        all.set_bounding(b);
        all.set_effective(e);
        all.set_permitted(pm);
    }
    p.set_capabilities(Some(all));
    Ok(())
}
