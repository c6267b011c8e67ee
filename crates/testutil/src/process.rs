//! Running host tools and waiting for conditions.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs a command, panics with its stderr on failure, returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Calls `f` every `every` until it returns true (then true) or `limit`
/// has passed (then false). `f` is always called at least once.
pub fn poll_until(limit: Duration, every: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Waits for `child` to exit, then returns its exit code and everything it
/// wrote to its (piped) stdout. Still running after `limit`: killed, and
/// the test fails naming `what`.
pub fn wait_output(
    mut child: std::process::Child,
    limit: Duration,
    what: &str,
) -> (Option<i32>, String) {
    use std::io::Read;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).unwrap();
    }
    (status.code(), out)
}
