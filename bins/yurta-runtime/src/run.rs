//! `run`: create + start, then (unless --detach) wait for the container,
//! forwarding signals, and delete it when it exits.

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::{bail, Result};
use yurta_container::container::{self, CreateOptions};

use crate::console::{proxy, ConsoleSocket};

static TARGET: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int) {
    let pid = TARGET.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

const FORWARDED: [libc::c_int; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// Changes the mask of the forwarded signals (SIG_BLOCK or SIG_UNBLOCK).
fn mask_forwarded(how: libc::c_int) {
    // SAFETY: an initialized sigset_t holding valid signal numbers; only this
    // thread's mask changes.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Installs the forwarding handlers, then lets through what arrived while
/// the signals were blocked during create and start.
fn forward_signals_to(pid: i32) {
    TARGET.store(pid, Ordering::Relaxed);
    for sig in FORWARDED {
        // SAFETY: installing a handler that only calls async-signal-safe kill.
        unsafe { libc::signal(sig, forward as *const () as libc::sighandler_t) };
    }
    mask_forwarded(libc::SIG_UNBLOCK);
}

pub fn run(root: &Path, mut opts: CreateOptions, r: &yurta_oci_cli::Run) -> Result<i32> {
    // With a console socket the terminal is the caller's business: no
    // second read of config.json.
    let mut own_console = None;
    if opts.console_socket.is_none() && wants_terminal(&opts.bundle) {
        if r.detach {
            bail!("cannot allocate a terminal for a detached container without --console-socket");
        }
        let socket = ConsoleSocket::new(root, &opts.id)?;
        opts.console_socket = Some(socket.path.clone());
        own_console = Some(socket);
    }
    if !r.detach && !r.no_subreaper {
        container::become_subreaper()?;
    }
    if !r.detach {
        // A signal for the container that comes before it is started waits
        // (the container's process starts with an empty mask regardless).
        mask_forwarded(libc::SIG_BLOCK);
    }
    let state = container::create(&opts)?;
    if let Err(e) = container::start(root, &opts.id) {
        let _ = container::delete(root, &opts.id, true);
        return Err(e.into());
    }
    if r.detach {
        return Ok(0);
    }
    forward_signals_to(state.pid);
    if let Some(socket) = own_console {
        let master = socket.receive_master()?;
        drop(socket);
        proxy(&master)?;
    }
    let code = if r.no_subreaper {
        wait_not_child(&state)
    } else {
        container::wait_exit_code(state.pid)?
    };
    if !r.keep {
        container::delete(root, &opts.id, true)?;
    }
    Ok(code)
}

fn wants_terminal(bundle: &Path) -> bool {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok())
        .and_then(|v| v.pointer("/process/terminal").and_then(|t| t.as_bool()))
        .unwrap_or(false)
}

/// Without being the subreaper we cannot collect the exit status: poll until gone.
fn wait_not_child(state: &yurta_container::state::State) -> i32 {
    while state.init_alive() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    0
}
