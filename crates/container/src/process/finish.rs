//! The last steps before `execve`, shared by init and exec'd processes:
//! working directory, identity, capabilities, no_new_privs, seccomp.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Process, Spec};

use std::os::fd::AsRawFd;

use crate::capabilities::{self, CapSets};
use crate::channel::{Channel, Message};
use crate::error::{Error, Result};
use crate::user;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Exit code when the command cannot be found (like a shell's).
pub const NOT_FOUND: i32 = 127;
/// Exit code when the command cannot be executed.
pub const NOT_EXECUTABLE: i32 = 126;

/// A process ready for `exec`, with every check that can fail early done.
#[derive(Debug)]
pub struct Prepared {
    process: Process,
    executable: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    caps: Option<CapSets>,
    seccomp: Option<yurta_seccomp::Program>,
    personality: Option<oci_spec::runtime::LinuxPersonality>,
    preserve_fds: u32,
}

/// The spec's seccomp program, compiled (None without a profile).
pub fn compile_seccomp(spec: &Spec) -> Result<Option<yurta_seccomp::Program>> {
    match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(profile) => Ok(Some(yurta_seccomp::compile(profile)?)),
        None => Ok(None),
    }
}

/// Resolves the executable, environment and capabilities, with the seccomp
/// program from [`compile_seccomp`].
pub fn prepare(
    process: &Process,
    spec: &Spec,
    preserve_fds: u32,
    seccomp: Option<yurta_seccomp::Program>,
) -> Result<Prepared, (Error, i32)> {
    let fail = |e: Error| (e, super::SETUP_FAILED);
    let args = process.args().clone().unwrap_or_default();
    let Some(arg0) = args.first() else {
        return Err(fail(Error::InvalidConfig(
            "process.args is empty: nothing to run".into(),
        )));
    };
    let mut env = process.env().clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!(
            "HOME={}",
            user::home_of(process.user().uid(), Path::new("/etc/passwd"))
        ));
    }
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let cwd = process.cwd();
    let executable = find_executable(arg0, path_var, cwd)?;
    let cstr = |s: &[u8]| {
        CString::new(s).map_err(|_| {
            fail(Error::InvalidConfig(format!(
                "NUL byte in {:?}",
                String::from_utf8_lossy(s)
            )))
        })
    };
    Ok(Prepared {
        process: process.clone(),
        executable: cstr(executable.as_os_str().as_bytes())?,
        argv: args
            .iter()
            .map(|a| cstr(a.as_bytes()))
            .collect::<Result<_, _>>()?,
        envp: env
            .iter()
            .map(|e| cstr(e.as_bytes()))
            .collect::<Result<_, _>>()?,
        caps: process.capabilities().as_ref().map(CapSets::from_config),
        seccomp,
        personality: spec.linux().as_ref().and_then(|l| l.personality().clone()),
        preserve_fds,
    })
}

/// Looks `name` up like execvp does, with the container's PATH; errors use
/// the wording engines map to exit codes 127 and 126.
fn find_executable(name: &str, path_var: &str, cwd: &Path) -> Result<PathBuf, (Error, i32)> {
    let check = |p: PathBuf| -> Result<PathBuf, (Error, i32)> {
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(p),
            Ok(_) => Err((
                Error::Setup(format!("exec: {name:?}: permission denied")),
                NOT_EXECUTABLE,
            )),
            Err(_) => Err((
                Error::Setup(format!(
                    "exec: {name:?}: stat {}: no such file or directory",
                    p.display()
                )),
                NOT_FOUND,
            )),
        }
    };
    if name.contains('/') {
        let p = Path::new(name);
        return check(if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        });
    }
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(name);
        if let Ok(m) = std::fs::metadata(&candidate) {
            if m.is_file() && m.permissions().mode() & 0o111 != 0 {
                return Ok(candidate);
            }
        }
    }
    Err((
        Error::Setup(format!(
            "exec: {name:?}: executable file not found in $PATH"
        )),
        NOT_FOUND,
    ))
}

/// Applies identity and security settings: working directory, scheduling,
/// bounding set, user and groups, capabilities, no_new_privs and seccomp
/// (whose notify listener, if any, goes to the parent over `ch`). What is
/// left before [`exec_now`] runs under the filter, as in runc.
pub fn lock_down(p: &Prepared, ch: &Channel) -> Result<(), (Error, i32)> {
    let fail = |e: Error| (e, super::SETUP_FAILED);
    let cwd = p.process.cwd();
    nix::unistd::chdir(cwd).map_err(|e| {
        fail(Error::Setup(format!(
            "chdir to cwd {} set in config.json: {e}",
            cwd.display()
        )))
    })?;
    apply_scheduling(p).map_err(fail)?;
    let nnp = p.process.no_new_privileges().unwrap_or(false);
    if let Some(caps) = &p.caps {
        capabilities::drop_bounding(caps.bounding).map_err(fail)?;
    }
    // Without no_new_privs the filter must go in while CAP_SYS_ADMIN is still held.
    if !nnp {
        install_seccomp(p, ch).map_err(fail)?;
    }
    user::switch(p.process.user()).map_err(fail)?;
    if let Some(caps) = &p.caps {
        let available = crate::capabilities::permitted();
        let sets = CapSets {
            effective: caps.effective & available,
            permitted: caps.permitted & available,
            inheritable: caps.inheritable & available,
            ..*caps
        };
        capabilities::set(&sets).map_err(fail)?;
        capabilities::set_ambient(caps.ambient & sets.permitted & sets.inheritable)
            .map_err(fail)?;
    }
    if nnp {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(fail(Error::sys(
                "prctl(PR_SET_NO_NEW_PRIVS)",
                nix::Error::last(),
            )));
        }
        install_seccomp(p, ch).map_err(fail)?;
    }
    Ok(())
}

/// Replaces this process with the command, after [`lock_down`]. Returns
/// only on failure.
pub fn exec_now(p: &Prepared) -> Result<std::convert::Infallible, (Error, i32)> {
    close_extra_fds(3 + p.preserve_fds);
    reset_signals();
    let argv: Vec<*const libc::c_char> = p
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = p
        .envp
        .iter()
        .map(|e| e.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: argv and envp are NULL-terminated arrays of pointers into CStrings
    // that outlive this call.
    unsafe { libc::execve(p.executable.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let err = nix::Error::last();
    let code = if err == nix::Error::ENOENT {
        NOT_FOUND
    } else {
        NOT_EXECUTABLE
    };
    Err((
        Error::Setup(format!("exec {:?}: {err}", p.executable)),
        code,
    ))
}

/// Scheduler, I/O priority and personality: set while still privileged.
fn apply_scheduling(p: &Prepared) -> Result<()> {
    if let Some(s) = p.process.scheduler() {
        super::sched::apply_scheduler(s)?;
    }
    if let Some(io) = p.process.io_priority() {
        super::sched::apply_io_priority(io)?;
    }
    if let Some(persona) = &p.personality {
        super::sched::apply_personality(persona)?;
    }
    Ok(())
}

/// Loads the filter. A notify listener is handed to the parent at once:
/// its number goes over the channel (with write(2), which no profile may
/// notify), the parent copies it with pidfd_getfd and says so, and ours is
/// closed — if the agent goes away, notified syscalls then fail instead of
/// waiting forever.
fn install_seccomp(p: &Prepared, ch: &Channel) -> Result<()> {
    let Some(program) = &p.seccomp else {
        return Ok(());
    };
    if let Some(listener) = yurta_seccomp::install(program)? {
        ch.send(&Message::SeccompListener {
            fd: listener.as_raw_fd(),
        })?;
        ch.expect("SeccompListenerTaken", |m| {
            *m == Message::SeccompListenerTaken
        })?;
    }
    Ok(())
}

/// The process starts with no blocked signals and SIGPIPE at its default,
/// whatever the caller had: a supervisor that blocks SIGTERM to read it from
/// a signalfd must not make the container deaf to `stop`, and Rust ignores
/// SIGPIPE in this binary, which must not reach `yes | head` in a container.
fn reset_signals() {
    // SAFETY: an empty, initialized set installed as this thread's mask;
    // SIG_DFL for SIGPIPE. Both only affect this process.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Marks every descriptor from `first` up close-on-exec.
fn close_extra_fds(first: u32) {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range only changes descriptor flags in this process.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc == 0 {
        return;
    }
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    for fd in fds.into_iter().filter(|fd| *fd >= first as i32) {
        // SAFETY: setting FD_CLOEXEC on a descriptor number is harmless even if it closed meanwhile.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}
