//! Named fault points: how yurta's tests kill a process at an exact step.
//!
//! A process calls [`point`] at the steps where dying would leave the most
//! to clean up (after the network is attached, after the supervisor is
//! spawned, after a blob is written, ...). Two environment variables,
//! read once per process, decide what a point does:
//!
//! - `YURTA_FAULT=NAME[:N][=stop][,...]`: the process kills itself with
//!   SIGKILL at the Nth time (default the first) it reaches `NAME` — the
//!   same as a `kill -9` from outside at that instant, but repeatable; with
//!   `=stop` it stops itself (SIGSTOP) there instead, for a test that lets
//!   the rest of the world move on and then continues it (SIGCONT).
//! - `YURTA_FAULT_TRACE=FILE`: every point reached is appended to FILE as
//!   `NAME\n` (one `write(2)` with `O_APPEND`, so several processes may
//!   share the file). A test runs a command once with a trace to learn
//!   its points, then once per point with `YURTA_FAULT` set, and checks
//!   after each that nothing was left behind — new points are covered
//!   without changing the test.
//!
//! Without either variable a point costs one relaxed atomic load. The
//! variables are inherited, so a point named for the supervisor fires in
//! the supervisor that a traced CLI starts; names are prefixed by the role
//! (`run.`, `supervisor.`, `runtime.`, `pull.`, ...) to keep them apart.
//! This crate owns only the mechanism; each caller owns its point names.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The variable that arms points.
pub const FAULT_VAR: &str = "YURTA_FAULT";
/// The variable naming the trace file.
pub const TRACE_VAR: &str = "YURTA_FAULT_TRACE";

struct Armed {
    name: String,
    at: u32,
    stop: bool,
    seen: AtomicU32,
}

struct Config {
    armed: Vec<Armed>,
    trace: Option<OsString>,
}

/// Parsed on first use; None when neither variable is set (the usual case).
fn config() -> Option<&'static Config> {
    static CONFIG: OnceLock<Option<Config>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let armed = std::env::var(FAULT_VAR).ok().map(|v| parse(&v));
            let trace = std::env::var_os(TRACE_VAR).filter(|t| !t.is_empty());
            match (armed, trace) {
                (None, None) => None,
                (armed, trace) => Some(Config {
                    armed: armed.unwrap_or_default(),
                    trace,
                }),
            }
        })
        .as_ref()
}

fn parse(spec: &str) -> Vec<Armed> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (s, stop) = match s.strip_suffix("=stop") {
                Some(rest) => (rest, true),
                None => (s, false),
            };
            let (name, at) = match s.rsplit_once(':') {
                Some((n, k)) if k.parse::<u32>().is_ok_and(|k| k > 0) => {
                    (n, k.parse().unwrap_or(1))
                }
                _ => (s, 1),
            };
            Armed {
                name: name.to_string(),
                at,
                stop,
                seen: AtomicU32::new(0),
            }
        })
        .collect()
}

/// A named step. Traced when `YURTA_FAULT_TRACE` is set; the process dies
/// by SIGKILL here when `YURTA_FAULT` arms this name (and this is the
/// armed hit).
pub fn point(name: &str) {
    let Some(cfg) = config() else {
        return;
    };
    if let Some(path) = &cfg.trace {
        trace(path, name);
    }
    for a in cfg.armed.iter().filter(|a| a.name == name) {
        if a.seen.fetch_add(1, Ordering::Relaxed) + 1 == a.at {
            if a.stop {
                // SAFETY: stopping ourselves; SIGCONT from the test resumes.
                unsafe { libc::raise(libc::SIGSTOP) };
            } else {
                die();
            }
        }
    }
}

fn trace(path: &OsString, name: &str) {
    // Threads of one process write whole lines too.
    static LOCK: Mutex<()> = Mutex::new(());
    let _held = LOCK.lock();
    let Ok(cpath) = std::ffi::CString::new(path.as_bytes()) else {
        return;
    };
    let line = format!("{name}\n");
    // SAFETY: a NUL-terminated path and constant flags; the descriptor is
    // ours and closed below.
    let fd = unsafe {
        libc::open(
            cpath.as_ptr(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        return;
    }
    // SAFETY: the buffer is valid for its length; fd is open.
    unsafe {
        libc::write(fd, line.as_ptr().cast(), line.len());
        libc::close(fd);
    }
}

fn die() -> ! {
    // SAFETY: signalling ourselves; SIGKILL cannot be caught or blocked.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // SIGKILL is delivered before kill(2) returns to a process signalling
    // itself; abort in case it is not.
    std::process::abort()
}

/// The points a trace file lists, in the order first reached, each once.
pub fn read_trace(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = Vec::<String>::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !seen.iter().any(|s| s == l) {
            seen.push(l.to_string());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_points_and_hits() {
        let a = parse("run.netns, pull.blob:3,,x:0,start.supervisor=stop,y:2=stop");
        let got: Vec<_> = a.iter().map(|a| (a.name.as_str(), a.at, a.stop)).collect();
        assert_eq!(
            got,
            [
                ("run.netns", 1, false),
                ("pull.blob", 3, false),
                ("x:0", 1, false),
                ("start.supervisor", 1, true),
                ("y", 2, true)
            ]
        );
    }

    #[test]
    fn a_trace_lists_points_once_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        let os: OsString = f.clone().into();
        for n in ["a", "b", "a", "c"] {
            trace(&os, n);
        }
        assert_eq!(read_trace(&f), ["a", "b", "c"]);
    }

    #[test]
    fn an_armed_point_kills_the_process_at_its_hit() {
        // Run in a child process (this test binary, filtered to a helper).
        if std::env::var_os("YURTA_FAULT_CHILD").is_some() {
            point("child.step");
            point("child.step");
            println!("survived");
            return;
        }
        let exe = std::env::current_exe().unwrap();
        for (spec, killed) in [
            ("child.step:2", true),
            ("child.step:3", false),
            ("other", false),
        ] {
            let out = std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "tests::an_armed_point_kills_the_process_at_its_hit",
                    "--nocapture",
                ])
                .env("YURTA_FAULT_CHILD", "1")
                .env(FAULT_VAR, spec)
                .output()
                .unwrap();
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(out.status.signal() == Some(libc::SIGKILL), killed, "{spec}");
            let said = String::from_utf8_lossy(&out.stdout).contains("survived");
            assert_eq!(said, !killed, "{spec}");
        }
    }
}
