//! A running QEMU: started from a [`QemuCommand`], reached over QMP, and
//! stopped the way `yurta vm stop -t` stops it — the ACPI power button,
//! then `quit` when the guest ignores it, then SIGKILL — leaving none of
//! its sockets or pidfile behind.
//!
//! Owns the child process; does not keep state across commands (the
//! supervisor/CLI does) and does not read the serial console
//! ([`crate::console`]).

use std::fs::File;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cmdline::{QemuCommand, VmPaths};
use crate::qmp::{Qmp, QmpError};

/// How long `quit` may take before SIGKILL.
const QUIT_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("start {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("{program} exited at start ({status}): {message}")]
    Exited {
        program: String,
        status: ExitStatus,
        message: String,
    },
    #[error("{program} did not open its QMP socket: {source}")]
    Qmp { program: String, source: QmpError },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// How [`Instance::stop`] ended QEMU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopHow {
    /// It had already exited.
    AlreadyExited,
    /// The guest powered off after the ACPI power button.
    Powerdown,
    /// QEMU quit on QMP `quit`.
    Quit,
    Killed,
}

pub struct Instance {
    child: Child,
    paths: VmPaths,
    qmp: Qmp,
    status: Option<ExitStatus>,
}

impl Instance {
    /// Starts QEMU and connects to its QMP socket within `timeout`. On
    /// failure QEMU is gone and its files removed; the error carries
    /// QEMU's own last message.
    pub fn start(
        cmd: &QemuCommand,
        paths: &VmPaths,
        timeout: Duration,
    ) -> Result<Instance, InstanceError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| InstanceError::Io { path, source }
        };
        std::fs::create_dir_all(&paths.dir).map_err(io_err(&paths.dir))?;
        // Stale sockets of a killed QEMU would look like a live one.
        remove_runtime_files(paths);
        let log = File::create(&paths.log).map_err(io_err(&paths.log))?;
        let log2 = log.try_clone().map_err(io_err(&paths.log))?;
        let mut child = Command::new(&cmd.program)
            .args(&cmd.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|source| InstanceError::Spawn {
                program: cmd.program.clone(),
                source,
            })?;
        match connect_qmp(&mut child, &cmd.program, paths, timeout) {
            Ok(qmp) => Ok(Instance {
                child,
                paths: paths.clone(),
                qmp,
                status: None,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                remove_runtime_files(paths);
                Err(e)
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn qmp(&mut self) -> &mut Qmp {
        &mut self.qmp
    }

    /// The exit status, if QEMU has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits up to `timeout` for QEMU to exit.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Power button, then `quit` after `grace`, then SIGKILL; then removes
    /// what QEMU left behind.
    pub fn stop(&mut self, grace: Duration) -> StopHow {
        let how = self.stop_steps(grace);
        remove_runtime_files(&self.paths);
        how
    }

    fn stop_steps(&mut self, grace: Duration) -> StopHow {
        if self.try_wait().is_some() {
            return StopHow::AlreadyExited;
        }
        if self.qmp.system_powerdown().is_ok() && self.wait_timeout(grace).is_some() {
            return StopHow::Powerdown;
        }
        if self.qmp.quit().is_ok() && self.wait_timeout(QUIT_GRACE).is_some() {
            return StopHow::Quit;
        }
        self.kill_now();
        StopHow::Killed
    }

    /// SIGKILL, reap, remove what QEMU left behind.
    pub fn kill(&mut self) {
        self.kill_now();
        remove_runtime_files(&self.paths);
    }

    fn kill_now(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// QEMU's own output so far (its stderr carries its errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.paths.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            self.kill();
        }
    }
}

/// Connects to the QMP socket while watching that QEMU is still alive (it
/// exits at once on a bad option or a missing file, possibly after it made
/// the socket).
fn connect_qmp(
    child: &mut Child,
    program: &str,
    paths: &VmPaths,
    timeout: Duration,
) -> Result<Qmp, InstanceError> {
    let deadline = Instant::now() + timeout;
    let qmp_err = |source| InstanceError::Qmp {
        program: program.to_string(),
        source,
    };
    loop {
        exited_at_start(child, program, paths)?;
        let left = deadline.saturating_duration_since(Instant::now());
        match UnixStream::connect(&paths.qmp) {
            Ok(s) => {
                let q = Qmp::negotiate(s, left.max(Duration::from_millis(100)));
                if q.is_err() {
                    // A QEMU dying at start closes the socket just before
                    // it can be reaped; its own message is the better one.
                    reap_within(child, Duration::from_secs(1));
                    exited_at_start(child, program, paths)?;
                }
                let mut q = q.map_err(qmp_err)?;
                q.timeout = crate::qmp::DEFAULT_TIMEOUT;
                return Ok(q);
            }
            Err(e) if crate::sock::retryable(&e) && !left.is_zero() => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(qmp_err(QmpError::Connect {
                    path: paths.qmp.clone(),
                    source,
                }))
            }
        }
    }
}

fn reap_within(child: &mut Child, wait: Duration) {
    let deadline = Instant::now() + wait;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
}

fn exited_at_start(child: &mut Child, program: &str, paths: &VmPaths) -> Result<(), InstanceError> {
    match child.try_wait() {
        Ok(Some(status)) => Err(InstanceError::Exited {
            program: program.to_string(),
            status,
            message: last_line(&paths.log),
        }),
        _ => Ok(()),
    }
}

fn last_line(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message")
        .to_string()
}

/// Removes QMP and serial sockets and the pidfile; QEMU removes them itself
/// when it exits cleanly, not when it is killed.
pub fn remove_runtime_files(paths: &VmPaths) {
    for p in paths.runtime_files() {
        let _ = std::fs::remove_file(p);
    }
}
