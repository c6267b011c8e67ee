//! `start`: releases the init process waiting on the exec fifo.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::Container;
use crate::error::{Error, Result};
use crate::hooks;
use crate::state::Status;

/// Starts a created container and runs its poststart hooks.
pub fn start(root: &Path, id: &str) -> Result<()> {
    let c = Container::load(root, id)?;
    c.require(&[Status::Created], "start", "created")?;
    let fifo_path = c.dir.fifo();
    let mut fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&fifo_path)
        .map_err(|e| Error::read(&fifo_path, e))?;
    // Wait for init to open its end and write; give up if init dies meanwhile.
    loop {
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) | Err(nix::Error::EINTR) => {
                if !c.state.init_alive() {
                    return Err(Error::Setup(format!(
                        "container {id:?} init exited before start"
                    )));
                }
            }
            Ok(_) => {
                let mut buf = [0u8; 1];
                match fifo.read(&mut buf) {
                    Ok(1) => break,
                    Ok(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(Error::read(&fifo_path, e)),
                }
            }
            Err(e) => return Err(Error::sys("poll on the exec fifo", e)),
        }
    }
    yurta_fault::point("runtime.start.released");
    let _ = std::fs::remove_file(&fifo_path);
    let spec = c.dir.load_config()?;
    if let Some(poststart) = spec.hooks().as_ref().and_then(|h| h.poststart().as_ref()) {
        let json = serde_json::to_string(&c.state.oci(Status::Running)).unwrap_or_default();
        // The spec says a failing poststart hook is a warning, not a failure.
        if let Err(e) = hooks::run("poststart", poststart, &json) {
            eprintln!("warning: {e}");
        }
    }
    Ok(())
}
