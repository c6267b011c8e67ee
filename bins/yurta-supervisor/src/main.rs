//! `yurta-supervisor`: one per container, for the container's whole life
//! (in the spirit of conmon). It holds the container's stdio or terminal,
//! writes its log in Docker's json-file format, serves attach clients,
//! records the exit code and OOM kill, and applies the restart policy, so
//! that the `yurta` CLI can return at once. See docs/supervisor.md.
//!
//! Start-up: parse the arguments, bind the attach socket, fork; the parent
//! exits (so the engine's wait returns), the child detaches (new session,
//! child subreaper, stdio on /dev/null) and supervises.

mod args;
mod attach;
mod console;
mod events;
mod json;
mod lifecycle;
mod logfile;
mod runtime;
mod supervisor;
mod sys;
mod trim;

use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Instant;

use args::Args;
use attach::Attach;
use logfile::{Lines, LogFile, Stream};
use runtime::{Failure, Runtime};
use supervisor::{InputFd, Supervisor};

/// A failure: one line naming what failed and the value involved. A plain
/// string keeps the binary free of error-handling crates.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = match Args::parse(argv.iter().cloned()) {
        Ok(a) => a,
        Err(e) => fail_early(sync_fd_of(&argv), &e),
    };
    let sync = args.sync_fd;
    let sup = match prepare(args) {
        Ok(s) => s,
        Err(e) => fail_early(sync, &e),
    };
    let code = sup.run();
    std::process::exit(code);
}

/// Everything that can fail before the fork, then the fork and detach.
/// Returns in the child only.
fn prepare(args: Args) -> Result<Supervisor, Error> {
    let sync = match args.sync_fd {
        Some(fd) => {
            sys::set_cloexec(fd)?;
            // SAFETY: the engine passed this descriptor for us to own.
            Some(unsafe { OwnedFd::from_raw_fd(fd) })
        }
        None => None,
    };
    let keep: Vec<i32> = args.sync_fd.into_iter().chain(args.attach_fd).collect();
    sys::close_inherited(&keep);
    let mut attach = args
        .attach_socket
        .as_deref()
        .map(Attach::bind)
        .transpose()?;
    if let (Some(a), Some(fd)) = (&mut attach, args.attach_fd) {
        // SAFETY: the engine passed this descriptor for us to own.
        a.adopt(unsafe { OwnedFd::from_raw_fd(fd) })?;
    }
    let log = match &args.log_path {
        Some(p) => Some(LogFile::open(p, args.log_max_size, args.log_max_files)?),
        None => None,
    };
    if let Some(child) = sys::fork()? {
        parent_exit(&args, child);
    }
    sys::detach()?;
    yurta_fault::point("supervisor.detached");
    sys::null_stdio()?;
    let sig = sys::signalfd()?;
    let rt = Runtime {
        bin: args.runtime.clone(),
        root: args.runtime_root.clone(),
        id: args.id.clone(),
        bundle: args.bundle.clone(),
        pid_file: args.pid_file.clone(),
    };
    let pending_cap = if args.stdin { attach::PAYLOAD_MAX } else { 0 };
    let lines = [Lines::new(Stream::Stdout), Lines::new(Stream::Stderr)];
    Ok(Supervisor {
        args,
        rt,
        sig,
        log,
        attach,
        sync,
        outputs: [None, None],
        lines,
        input: InputFd::None,
        pending_in: Vec::with_capacity(pending_cap),
        pending_off: 0,
        init: None,
        status: None,
        stop_requested: false,
        restarts: 0,
        last_exit: None,
        started: Instant::now(),
        started_at: None,
        oom_before: 0,
        trim: trim::Trim::new(),
        quiet: false,
        trimmed: false,
        health: None,
    })
}

/// The parent's part of the fork: record the supervisor's pid, then leave.
fn parent_exit(args: &Args, child: libc::pid_t) -> ! {
    if let Some(path) = &args.supervisor_pid_file {
        let unsynced = yurta_sysutil::Durability::Unsynced;
        let written =
            yurta_sysutil::replace_file(path, format!("{child}").as_bytes(), 0o644, unsynced);
        if let Err(e) = written {
            // SAFETY: killing the child we just forked, which has done nothing yet.
            unsafe { libc::kill(child, libc::SIGKILL) };
            // The child held the sync fd too: report on it here, or the
            // engine would only see it close.
            let e = Error(format!("writing {}: {e}", path.display()));
            fail_early(args.sync_fd, &e);
        }
    }
    // No destructors: the attach socket file belongs to the child now.
    sys::exit_now(0)
}

/// Reports a failure before supervision began: on stderr and the sync fd.
fn fail_early(sync: Option<i32>, e: &Error) -> ! {
    eprintln!("yurta-supervisor: {e}");
    if let Some(fd) = sync {
        let line = lifecycle::sync_error(&Failure::engine(e.0.clone()));
        let _ = sys::write_all(fd, line.as_bytes());
    }
    sys::exit_now(runtime::ENGINE_ERROR)
}

/// `--sync-fd N` from arguments that did not parse, to report the error there.
fn sync_fd_of(argv: &[OsString]) -> Option<i32> {
    let mut it = argv.iter().filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--sync-fd=") {
            return v.parse().ok();
        }
        if a == "--sync-fd" {
            return it.next().and_then(|v| v.parse().ok());
        }
    }
    None
}
