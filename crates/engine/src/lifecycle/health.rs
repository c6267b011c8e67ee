//! The health monitor: one process per running container that has a
//! health check (`yurta container __health ID`, started by the container's
//! supervisor with the init's pid after every start and stopped when the
//! init exits). It runs the check in the container as Docker's daemon
//! does — every interval (the start interval during the start period),
//! killed after the timeout, its first 4 KiB of output kept — and records
//! `State.Health` (status, failing streak, the last five probes) in the
//! container's record, with a `health_status: …` event at each change.
//! During the start period a failure does not count; a success ends it.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::exec::{self, ExecSpec};
use super::{events, Host, Paths};
use crate::record::{Health, HealthProbe, Healthcheck};
use crate::Engine;

/// Docker's defaults.
const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(30);
const START_INTERVAL: Duration = Duration::from_secs(5);
const RETRIES: i64 = 3;
/// Probes kept in `Log`, and output kept per probe.
const LOG_LEN: usize = 5;
const OUTPUT_MAX: usize = 4096;

/// The check's timing, defaults applied.
struct Timing {
    interval: Duration,
    timeout: Duration,
    start_period: Duration,
    start_interval: Duration,
    retries: i64,
}

impl Timing {
    fn of(h: &Healthcheck) -> Timing {
        let d = |ns: i64, default: Duration| match ns {
            n if n > 0 => Duration::from_nanos(n as u64),
            _ => default,
        };
        Timing {
            interval: d(h.interval, INTERVAL),
            timeout: d(h.timeout, TIMEOUT),
            start_period: d(h.start_period, Duration::ZERO),
            start_interval: d(h.start_interval, START_INTERVAL),
            retries: if h.retries > 0 { h.retries } else { RETRIES },
        }
    }
}

/// Monitors container `id` while its init `pid` lives; returns when it
/// is gone (or the container record is).
pub fn monitor(host: &Host, id: &str, pid: i32) -> anyhow::Result<()> {
    let engine = Engine::open(&host.root)?;
    let rec = engine.containers.read(id)?;
    let Some(check) = rec.config.healthcheck.clone().filter(Healthcheck::enabled) else {
        return Ok(());
    };
    let timing = Timing::of(&check);
    let init = Init::watch(pid);
    let started = Instant::now();
    let mut health = Health {
        status: "starting".into(),
        ..Health::default()
    };
    save(&engine, id, &health)?;
    loop {
        let starting = health.status == "starting" && started.elapsed() < timing.start_period;
        let wait = if starting {
            timing.start_interval
        } else {
            timing.interval
        };
        if !init.wait_alive(wait) {
            return Ok(());
        }
        let rec = engine.containers.read(id)?;
        if rec.state.paused {
            continue;
        }
        // Not running by the record yet (the start is being recorded):
        // the next round.
        let Some(probe) = run_probe(host, &rec, &check.test, timing.timeout)? else {
            continue;
        };
        let before = health.status.clone();
        let in_start_period = started.elapsed() < timing.start_period;
        apply(&mut health, probe, in_start_period, timing.retries);
        if !init.alive() {
            return Ok(());
        }
        save(&engine, id, &health)?;
        if health.status != before {
            let action = format!("health_status: {}", health.status);
            events::container(&host.root, &rec, &action);
        }
    }
}

/// Docker's rules for one probe's result.
fn apply(health: &mut Health, probe: HealthProbe, in_start_period: bool, retries: i64) {
    if probe.exit_code == 0 {
        health.failing_streak = 0;
        health.status = "healthy".into();
    } else if !(in_start_period && health.status == "starting") {
        health.failing_streak += 1;
        if health.failing_streak >= retries {
            health.status = "unhealthy".into();
        }
    }
    health.log.push(probe);
    if health.log.len() > LOG_LEN {
        health.log.remove(0);
    }
}

fn save(engine: &Engine, id: &str, health: &Health) -> anyhow::Result<()> {
    engine
        .containers
        .update(id, |r| r.state.health = Some(health.clone()))
        .context("record the health")?;
    Ok(())
}

/// One run of the test in the container; None when the record does not
/// say it runs.
fn run_probe(
    host: &Host,
    rec: &crate::ContainerRecord,
    test: &[String],
    timeout: Duration,
) -> anyhow::Result<Option<HealthProbe>> {
    if !rec.state.running {
        return Ok(None);
    }
    let command = match test.first().map(String::as_str) {
        Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")],
        _ => test[1..].to_vec(),
    };
    let pid_file = Paths::new(&host.root, &rec.id).dir.join("health.pid");
    let _ = std::fs::remove_file(&pid_file);
    let spec = ExecSpec {
        command,
        pid_file: Some(pid_file.clone()),
        ..ExecSpec::default()
    };
    let start = yurta_images::time::now_rfc3339();
    let (read, write) = nix::unistd::pipe().context("pipe")?;
    let mut c = exec::command(host, rec, &spec)?;
    c.stdin(Stdio::null())
        .stdout(write.try_clone().context("dup")?)
        .stderr(write);
    let (exit_code, output) = match c.spawn() {
        Ok(child) => {
            drop(c);
            let mut output = Output::new(read);
            let code = wait_for(child, timeout, &pid_file, &mut output);
            let text = output.text();
            match code {
                Some(code) => (code, text),
                None => (-1, format!("Health check exceeded timeout ({timeout:?})")),
            }
        }
        Err(e) => (-1, format!("run the health check: {e}")),
    };
    let _ = std::fs::remove_file(&pid_file);
    Ok(Some(HealthProbe {
        start,
        end: yurta_images::time::now_rfc3339(),
        exit_code: exit_code.into(),
        output,
    }))
}

/// The child's exit code, or None after killing it (and the process in
/// the container, whose pid the runtime wrote) at the deadline; its
/// output is read meanwhile, so a talkative check never blocks.
fn wait_for(
    mut child: Child,
    timeout: Duration,
    pid_file: &std::path::Path,
    output: &mut Output,
) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        output.read_for(Duration::from_millis(10));
        if let Ok(Some(status)) = child.try_wait() {
            // What it wrote before it ended; a process it left in the
            // background may hold the pipe, so no waiting for its end.
            output.read_for(Duration::ZERO);
            return Some(status.code().unwrap_or(-1));
        }
        if Instant::now() >= deadline {
            if let Some(pid) = std::fs::read_to_string(pid_file)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok())
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
}

/// The check's output: the first 4 KiB kept, the rest read and dropped.
struct Output {
    pipe: std::fs::File,
    kept: Vec<u8>,
}

impl Output {
    fn new(read: std::os::fd::OwnedFd) -> Output {
        let _ = nix::fcntl::fcntl(
            read.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        Output {
            pipe: std::fs::File::from(read),
            kept: Vec::new(),
        }
    }

    /// Reads what is there, waiting at most `wait` for more to come.
    fn read_for(&mut self, wait: Duration) {
        let mut p = libc::pollfd {
            fd: self.pipe.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call.
        if unsafe { libc::poll(&mut p, 1, wait.as_millis() as i32) } <= 0 {
            return;
        }
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = OUTPUT_MAX.saturating_sub(self.kept.len());
            self.kept.extend_from_slice(&buf[..n.min(room)]);
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

/// The container's init, watched through a pidfd (woken when it exits),
/// or by polling once a second where the kernel has none.
struct Init {
    pid: i32,
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl Init {
    fn watch(pid: i32) -> Init {
        // SAFETY: pidfd_open takes a pid and flags and returns a new
        // descriptor or -1; nothing is borrowed.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let pidfd = (fd >= 0).then(|| {
            // SAFETY: `fd` was just returned by pidfd_open and is owned
            // by nothing else.
            unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) }
        });
        Init { pid, pidfd }
    }

    fn alive(&self) -> bool {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), None).is_ok()
    }

    /// Waits `d`; false as soon as the init is gone.
    fn wait_alive(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return self.alive();
            }
            match &self.pidfd {
                Some(fd) => {
                    let mut p = libc::pollfd {
                        fd: fd.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    let ms = left.as_millis().min(i32::MAX as u128) as i32;
                    // SAFETY: one valid pollfd for the duration of the call.
                    let n = unsafe { libc::poll(&mut p, 1, ms.max(1)) };
                    if n > 0 {
                        return false;
                    }
                }
                None => {
                    std::thread::sleep(left.min(Duration::from_secs(1)));
                    if !self.alive() {
                        return false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(code: i64) -> HealthProbe {
        HealthProbe {
            exit_code: code,
            ..HealthProbe::default()
        }
    }

    #[test]
    fn failures_count_after_the_start_period_and_a_success_resets() {
        let mut h = Health {
            status: "starting".into(),
            ..Health::default()
        };
        apply(&mut h, probe(1), true, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("starting", 0));
        apply(&mut h, probe(1), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("starting", 1));
        apply(&mut h, probe(1), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("unhealthy", 2));
        apply(&mut h, probe(0), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), ("healthy", 0));
        for _ in 0..7 {
            apply(&mut h, probe(0), false, 2);
        }
        assert_eq!(h.log.len(), LOG_LEN);
    }

    #[test]
    fn a_success_in_the_start_period_makes_it_healthy() {
        let mut h = Health {
            status: "starting".into(),
            ..Health::default()
        };
        apply(&mut h, probe(0), true, 3);
        assert_eq!(h.status, "healthy");
        apply(&mut h, probe(1), true, 1);
        assert_eq!((h.status.as_str(), h.failing_streak), ("unhealthy", 1));
    }

    #[test]
    fn a_pid_that_is_gone_is_seen_at_once() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let init = Init::watch(pid);
        assert!(!init.wait_alive(Duration::from_secs(30)));
    }
}
