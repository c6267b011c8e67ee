//! Driving the OCI runtime (`yurta-runtime`, or any runc-compatible one):
//! `run --detach` (create and start in one process), `delete --force`, and
//! turning its error messages into Docker's exit codes.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// Exit codes the engine reports when a container cannot be started (Docker's).
pub const ENGINE_ERROR: i32 = 125;
pub const NOT_EXECUTABLE: i32 = 126;
pub const NOT_FOUND: i32 = 127;

/// A failed runtime command: its message and the exit code to report.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn engine(message: String) -> Self {
        Failure {
            message,
            code: ENGINE_ERROR,
        }
    }

    /// A runtime's error message; missing or non-executable commands get
    /// 127 and 126, as with Docker.
    pub fn from_runtime(stderr: &str, what: &str, status: impl std::fmt::Display) -> Self {
        let text = stderr.trim();
        let message = if text.is_empty() {
            format!("runtime {what} failed ({status})")
        } else {
            text.strip_prefix("yurta-runtime: ")
                .unwrap_or(text)
                .to_owned()
        };
        Failure {
            code: classify(&message),
            message,
        }
    }
}

fn classify(message: &str) -> i32 {
    let m = message.to_ascii_lowercase();
    if m.contains("executable file not found") || m.contains("no such file or directory") {
        NOT_FOUND
    } else if m.contains("permission denied") {
        NOT_EXECUTABLE
    } else {
        ENGINE_ERROR
    }
}

/// The container's standard descriptors for `create` (the init inherits them).
pub struct CreateStdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

pub struct Runtime {
    pub bin: PathBuf,
    pub root: PathBuf,
    pub id: String,
    pub bundle: PathBuf,
    pub pid_file: PathBuf,
}

impl Runtime {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--root").arg(&self.root);
        c
    }

    /// `run --detach --bundle B --pid-file P [--console-socket S] ID`:
    /// created and started by one runtime process (one exec fewer than
    /// `create` then `start`; a start that fails deletes what was
    /// created). Returns the exit status; the error text is on the stderr
    /// given in `stdio`.
    pub fn run_detached(
        &self,
        stdio: CreateStdio,
        console: Option<&Path>,
    ) -> Result<ExitStatus, Failure> {
        let mut c = self.cmd();
        c.arg("run")
            .arg("--detach")
            .arg("--bundle")
            .arg(&self.bundle);
        c.arg("--pid-file").arg(&self.pid_file);
        if let Some(sock) = console {
            c.arg("--console-socket").arg(sock);
        }
        c.arg(&self.id);
        c.stdin(stdio.stdin.map_or_else(Stdio::null, Stdio::from));
        c.stdout(Stdio::from(stdio.stdout));
        c.stderr(Stdio::from(stdio.stderr));
        let status = c
            .status()
            .map_err(|e| Failure::engine(format!("running runtime {}: {e}", self.bin.display())))?;
        drop(c); // closes our copies of the container's ends
        Ok(status)
    }

    /// `delete --force ID`; errors are reported but change nothing.
    pub fn delete(&self) -> Result<(), Failure> {
        self.run("delete", &["--force"])
    }

    fn run(&self, verb: &str, flags: &[&str]) -> Result<(), Failure> {
        let out = self
            .cmd()
            .arg(verb)
            .args(flags)
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| Failure::engine(format!("running runtime {}: {e}", self.bin.display())))?;
        if out.status.success() {
            return Ok(());
        }
        let mut f = Failure::from_runtime(&String::from_utf8_lossy(&out.stderr), verb, out.status);
        f.code = ENGINE_ERROR;
        Err(f)
    }

    /// The container init's pid from the pid file `create` wrote.
    pub fn init_pid(&self) -> Result<libc::pid_t, Failure> {
        let text = std::fs::read_to_string(&self.pid_file).map_err(|e| {
            Failure::engine(format!("reading pid file {}: {e}", self.pid_file.display()))
        })?;
        text.trim()
            .parse()
            .ok()
            .filter(|&p: &libc::pid_t| p > 0)
            .ok_or_else(|| {
                Failure::engine(format!(
                    "pid file {} holds {:?}, not a pid",
                    self.pid_file.display(),
                    text.trim()
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_messages_to_docker_codes() {
        assert_eq!(
            classify(r#"create: exec: "nosuch": executable file not found in $PATH"#),
            127
        );
        assert_eq!(
            classify(r#"exec: "/x": stat /x: no such file or directory"#),
            127
        );
        assert_eq!(classify(r#"exec: "/etc": permission denied"#), 126);
        assert_eq!(classify("cgroup: EBUSY"), 125);
    }
}
