//! `exec -t`: the engine starts the exec and takes its terminal's master
//! (`yurta_engine::lifecycle::terminal`); we copy it to our stdout, our
//! stdin to it (`-i`), with our terminal raw and its size set, until the
//! runtime's `exec` ends with the process's code.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Command;

use yurta_engine::lifecycle::terminal::{self, Terminal};

/// Runs `c` (a `yurta-runtime exec --tty --console-socket SOCK …`, its
/// stderr piped); its exit code and the runtime's own failure to start
/// the command, if that was the last thing it wrote.
pub fn run(c: &mut Command, sock: &Path, stdin: bool) -> anyhow::Result<(i32, Option<String>)> {
    let (mut child, master, peer) = match terminal::spawn(c, sock)? {
        Terminal::Running {
            child,
            master,
            peer,
        } => (child, master, peer),
        Terminal::Exited { code, stderr } => {
            let failure = terminal::start_failure(&stderr);
            if failure.is_none() {
                let _ = std::io::stderr().write_all(&stderr);
            }
            return Ok((code, failure));
        }
    };
    let errors = child.stderr.take().map(super::exec::pass_stderr);
    if let Some((rows, cols)) = super::attach::term_size() {
        terminal::resize(&master, rows, cols);
    }
    // The process's exit closes our peer of its terminal, so the reads
    // below drain all it wrote before they end.
    let waiter = std::thread::spawn(move || {
        let code = child.wait().ok().and_then(|s| s.code()).unwrap_or(125);
        drop(peer);
        code
    });
    let raw = super::attach::raw_mode();
    if stdin {
        let mut to = std::fs::File::from(master.try_clone()?);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut input = std::io::stdin();
            while let Ok(n) = input.read(&mut buf) {
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
    let mut from = std::fs::File::from(master);
    let mut out = crate::out::Stdout::lock();
    let mut buf = [0u8; 8192];
    // EIO once the last process holding the terminal's other side is gone.
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
            break;
        }
    }
    if let Some(saved) = raw {
        let stdin = std::io::stdin();
        let _ =
            nix::sys::termios::tcsetattr(stdin.as_fd(), nix::sys::termios::SetArg::TCSANOW, &saved);
    }
    let code = waiter.join().unwrap_or(125);
    let failure = errors.and_then(|t| t.join().ok()).flatten();
    Ok((code, failure))
}
