//! One container's life under the supervisor: create and start it with
//! pipes or a terminal (`runtime run --detach`), report to the engine on
//! the sync fd, wait for the init to exit, record the exit, and restart it
//! or clean up.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::args::Restart;
use crate::console::ConsoleSocket;
use crate::runtime::{CreateStdio, Failure};
use crate::supervisor::{InputFd, LastExit, Supervisor, Until};
use crate::{attach, json, sys};

/// How long output may still arrive after the init exited (a process
/// outside the container's pid namespace may hold its stdout).
const DRAIN: Duration = Duration::from_secs(2);
/// How long attach clients get to take the last output.
const FLUSH: Duration = Duration::from_secs(5);
/// Docker's restart delays: 100 ms doubling up to a minute, back to 100 ms
/// after a run of at least 10 s.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
const BACKOFF_RESET: Duration = Duration::from_secs(10);

impl Supervisor {
    /// The whole life; returns the supervisor's exit code.
    pub fn run(mut self) -> i32 {
        if let Err(f) = self.launch() {
            self.report(&sync_error(&f));
            self.write_exit(f.code, false, &f.message);
            return 1;
        }
        yurta_fault::point("supervisor.launched");
        let pid = self.init.unwrap_or(0);
        self.report(&format!("{{\"pid\":{pid}}}\n"));
        yurta_fault::point("supervisor.reported");
        self.event("start", None);
        self.start_health();
        let mut delay = Duration::ZERO;
        loop {
            self.quiet = true; // started: drop start-up pages at once
            let exited = self.wait_exit();
            self.stop_health();
            let code = match exited {
                Ok(code) => code,
                Err(e) => {
                    self.write_exit(-1, false, &e.0);
                    break;
                }
            };
            yurta_fault::point("supervisor.exited");
            let restart = self.should_restart(code);
            // A foreground `yurta run` holding the lock deletes the
            // container from the runtime itself, in-process.
            if restart || !self.cleanup_taken() {
                let _ = self.rt.delete();
                yurta_fault::point("supervisor.deleted");
            }
            if !restart {
                break;
            }
            delay = next_delay(delay, self.started.elapsed());
            if self.pump(Until::Time(Instant::now() + delay)).is_err() || self.stopped() {
                break;
            }
            self.restarts += 1;
            if let Err(f) = self.launch() {
                self.write_exit(f.code, false, &f.message);
                break;
            }
            // The count the engine shows while the container runs again.
            self.write_exit_file();
            self.event("start", None);
            self.start_health();
            yurta_fault::point("supervisor.restarted");
        }
        self.exit_command();
        0
    }

    /// Creates and starts the container; on failure nothing of it is left.
    fn launch(&mut self) -> Result<(), Failure> {
        let console = if self.args.tty {
            Some(ConsoleSocket::bind(&self.args.bundle).map_err(|e| Failure::engine(e.0))?)
        } else {
            None
        };
        let (stdio, err_fd) = self.prepare_stdio().map_err(|e| Failure::engine(e.0))?;
        // The cgroup is made by the runtime: a new one counts from 0, and
        // the container may run out of memory as soon as it starts.
        self.oom_before = self.oom_count();
        let ran = self
            .rt
            .run_detached(stdio, console.as_ref().map(|c| c.path.as_path()));
        let result = match ran {
            Ok(status) if status.success() => {
                self.after_start(console.as_ref()).inspect_err(|_| {
                    let _ = self.rt.delete();
                })
            }
            // A failed run removes what it made. No delete here: the id
            // may be another container's ("already exists").
            Ok(status) => Err(Failure::from_runtime(&read_text(&err_fd), "run", status)),
            Err(f) => Err(f),
        };
        if result.is_err() {
            self.outputs = [None, None];
            self.input = InputFd::None;
        }
        result
    }

    /// Pipes for the container's stdio (without a terminal), or a pipe for
    /// the runtime's own messages (with one). Returns what `create` gets and
    /// the descriptor its error message is read from.
    fn prepare_stdio(&mut self) -> Result<(CreateStdio, OwnedFd), crate::Error> {
        let (err_r, err_w) = sys::pipe()?;
        if self.args.tty {
            let stdout = err_w
                .try_clone()
                .map_err(|e| crate::Error(format!("dup: {e}")))?;
            let stdio = CreateStdio {
                stdin: None,
                stdout,
                stderr: err_w,
            };
            return Ok((stdio, err_r));
        }
        let (out_r, out_w) = sys::pipe()?;
        let stdin = if self.args.stdin {
            let (in_r, in_w) = sys::pipe()?;
            sys::set_nonblock(in_w.as_raw_fd())?;
            self.input = InputFd::Pipe(in_w);
            Some(in_r)
        } else {
            None
        };
        sys::set_nonblock(out_r.as_raw_fd())?;
        let err_copy = err_r
            .try_clone()
            .map_err(|e| crate::Error(format!("dup: {e}")))?;
        sys::set_nonblock(err_r.as_raw_fd())?;
        self.outputs = [Some(out_r), Some(err_r)];
        Ok((
            CreateStdio {
                stdin,
                stdout: out_w,
                stderr: err_w,
            },
            err_copy,
        ))
    }

    /// The terminal and the init's pid. The container runs already; its
    /// output waits in the pipe (or the terminal) until the pump reads it,
    /// after the waiting attach clients are accepted: they see all of it.
    fn after_start(&mut self, console: Option<&ConsoleSocket>) -> Result<(), Failure> {
        if let Some(c) = console {
            let master = c.receive().map_err(|e| Failure::engine(e.0))?;
            sys::set_nonblock(master.as_raw_fd()).map_err(|e| Failure::engine(e.0))?;
            self.outputs = [Some(master), None];
            self.input = if self.args.stdin {
                InputFd::Pty
            } else {
                InputFd::None
            };
        }
        self.init = Some(self.rt.init_pid()?);
        self.status = None;
        if let Some(a) = &mut self.attach {
            a.accept();
        }
        self.started = Instant::now();
        let (secs, nanos) = sys::now();
        self.started_at = Some(json::rfc3339(secs, nanos));
        Ok(())
    }

    /// Waits for the init to exit and its output to end; records the exit.
    fn wait_exit(&mut self) -> Result<i32, crate::Error> {
        self.pump(Until::InitExit)?;
        self.pump(Until::Drained(Instant::now() + DRAIN))?;
        for i in 0..2 {
            self.close_output(i);
        }
        self.input = InputFd::None;
        self.pending_in.clear();
        self.pending_off = 0;
        let code = sys::exit_code(self.status.take().unwrap_or(0));
        self.init = None;
        let oom = self.oom_count() > self.oom_before;
        // Before the exit file: whoever sees the exit finds its event.
        self.exit_events(code, oom);
        self.write_exit(code, oom, "");
        self.pump(Until::Flushed(Instant::now() + FLUSH))?;
        if let Some(a) = &mut self.attach {
            let mut text = Vec::with_capacity(12);
            json::push_int(&mut text, code.into());
            a.broadcast(attach::OUT_EXIT, &text);
        }
        Ok(code)
    }

    fn stopped(&self) -> bool {
        self.stop_requested || self.args.stop_file.as_deref().is_some_and(sys::exists)
    }

    fn should_restart(&self, code: i32) -> bool {
        if self.stopped() {
            return false;
        }
        let policy = match self.updated_policy() {
            // A foreground `yurta run` attached since the start holds the
            // cleanup lock only for a container it will not see restarted,
            // and cleans up after this exit: the new policy waits for the
            // next start.
            Some(p) if p != Restart::No && self.cleanup_taken() => return false,
            Some(p) => p,
            None => self.args.restart,
        };
        match policy {
            Restart::No => false,
            Restart::OnFailure(max) => code != 0 && (max == 0 || self.restarts < max),
            Restart::Always | Restart::UnlessStopped => true,
        }
    }

    /// A restart policy `yurta update` set while this supervisor runs:
    /// `<bundle>/restart-policy` holding `PID POLICY` with this process's
    /// pid (a file an earlier supervisor's container left is not ours).
    fn updated_policy(&self) -> Option<Restart> {
        let text = std::fs::read_to_string(self.args.bundle.join("restart-policy")).ok()?;
        let (pid, policy) = text.trim().split_once(' ')?;
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
        crate::args::restart(&policy.into()).ok()
    }

    /// The cgroup's oom_kill count (memory.events on v2, memory.oom_control on v1).
    fn oom_count(&self) -> u64 {
        let Some(path) = &self.args.cgroup_oom else {
            return 0;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Records an exit and writes the exit file.
    fn write_exit(&mut self, code: i32, oom: bool, error: &str) {
        let (secs, nanos) = sys::now();
        self.last_exit = Some(LastExit {
            code,
            oom,
            error: error.to_string(),
            finished_at: json::rfc3339(secs, nanos),
        });
        self.write_exit_file();
    }

    /// Writes the last exit and the restart count to the exit file
    /// atomically (a temporary file, then rename).
    fn write_exit_file(&self) {
        let (Some(path), Some(e)) = (&self.args.exit_file, &self.last_exit) else {
            return;
        };
        let mut j = Vec::with_capacity(160);
        j.extend_from_slice(b"{\"ExitCode\":");
        json::push_int(&mut j, e.code.into());
        j.extend_from_slice(if e.oom {
            b",\"OOMKilled\":true"
        } else {
            b",\"OOMKilled\":false"
        });
        j.extend_from_slice(b",\"FinishedAt\":\"");
        j.extend_from_slice(&e.finished_at);
        j.extend_from_slice(b"\",\"Error\":\"");
        json::escape(&mut j, e.error.as_bytes());
        j.extend_from_slice(b"\",\"RestartCount\":");
        json::push_int(&mut j, self.restarts.into());
        if let Some(t) = &self.started_at {
            j.extend_from_slice(b",\"StartedAt\":\"");
            j.extend_from_slice(t);
            j.push(b'"');
        }
        j.extend_from_slice(b"}\n");
        // No fsync: a crash loses the exit, which `ps` then reports as
        // unknown (255), as after a killed supervisor.
        let _ = yurta_sysutil::replace_file(path, &j, 0o644, yurta_sysutil::Durability::Unsynced);
    }

    /// One line on the sync fd, which is then closed.
    fn report(&mut self, line: &str) {
        if let Some(fd) = self.sync.take() {
            let _ = sys::write_all(fd.as_raw_fd(), line.as_bytes());
        }
    }

    /// Whether `--exit-command-lock` is held: a foreground `yurta run`
    /// attached to the container holds it while the container runs, and
    /// then cleans up after it, deleting it from the runtime itself.
    fn cleanup_taken(&self) -> bool {
        let lock = self.args.exit_command_lock.as_deref();
        lock.is_some_and(sys::locked_elsewhere)
    }

    /// Runs `--exit-command` without waiting for it (it outlives us),
    /// unless the cleanup is taken: then starting the 10 MB engine binary
    /// only to wait for that lock would take CPU from its holder.
    /// Starts the health monitor for the init that just started (it dies
    /// with the supervisor: PDEATHSIG).
    fn start_health(&mut self) {
        let (Some(cmd), Some(pid)) = (&self.args.health_command, self.init) else {
            return;
        };
        let mut c = Command::new(cmd);
        c.args(&self.args.health_command_args)
            .arg("--pid")
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only sets this child's
        // parent-death signal between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        self.health = c.spawn().ok().map(|child| child.id() as libc::pid_t);
    }

    /// Stops the health monitor of the init that exited (reaped with the
    /// other children).
    fn stop_health(&mut self) {
        if let Some(pid) = self.health.take() {
            // SAFETY: kill(2) on a pid that is still our unreaped child:
            // `reap` forgets the monitor's pid when it reaps it.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }

    fn exit_command(&self) {
        let Some(cmd) = &self.args.exit_command else {
            return;
        };
        // Its directory gone: the container was removed, nothing is left
        // to clean up.
        let lock = self.args.exit_command_lock.as_deref();
        let removed = lock
            .and_then(|l| l.parent())
            .is_some_and(|d| !sys::exists(d));
        if removed || self.cleanup_taken() {
            return;
        }
        let _ = Command::new(cmd)
            .args(&self.args.exit_command_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

/// `{"error":"...","exit_code":N}` and a newline.
pub fn sync_error(f: &Failure) -> String {
    let mut j = Vec::with_capacity(f.message.len() + 40);
    j.extend_from_slice(b"{\"error\":\"");
    json::escape(&mut j, f.message.as_bytes());
    j.extend_from_slice(b"\",\"exit_code\":");
    json::push_int(&mut j, f.code.into());
    j.extend_from_slice(b"}\n");
    String::from_utf8_lossy(&j).into_owned()
}

fn next_delay(last: Duration, ran: Duration) -> Duration {
    if last.is_zero() || ran >= BACKOFF_RESET {
        BACKOFF_FIRST
    } else {
        (last * 2).min(BACKOFF_MAX)
    }
}

/// Everything readable on `fd` until end of file (the runtime exited), up
/// to 64 KiB, waiting at most a second for more.
fn read_text(fd: &OwnedFd) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < 65536 {
        let mut p = [sys::pollfd(fd.as_raw_fd(), libc::POLLIN)];
        if !matches!(sys::poll(&mut p, 1000), Ok(1)) {
            break;
        }
        match sys::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_resets() {
        let short = Duration::from_secs(1);
        let d1 = next_delay(Duration::ZERO, short);
        assert_eq!(d1, BACKOFF_FIRST);
        assert_eq!(next_delay(d1, short), Duration::from_millis(200));
        assert_eq!(next_delay(Duration::from_secs(50), short), BACKOFF_MAX);
        assert_eq!(
            next_delay(Duration::from_secs(50), Duration::from_secs(11)),
            BACKOFF_FIRST
        );
    }

    #[test]
    fn sync_errors_are_json() {
        let f = Failure {
            message: "exec: \"x\": not found".into(),
            code: 127,
        };
        assert_eq!(
            sync_error(&f),
            "{\"error\":\"exec: \\\"x\\\": not found\",\"exit_code\":127}\n"
        );
    }
}
