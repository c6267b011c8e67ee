//! Killing every process of a cgroup, shared by all managers: freeze so nothing can fork while
//! we read the pid list, signal, thaw, and with SIGKILL repeat until the cgroup is empty.

use std::io;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::{CgroupError, CgroupManager, FreezerState};

const KILL_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn kill_all<M: CgroupManager + ?Sized>(m: &M, signal: i32) -> Result<(), CgroupError> {
    let start = Instant::now();
    loop {
        let frozen = m.freeze(FreezerState::Frozen).is_ok();
        let pids = m.pids()?;
        let sent = signal_all(m, &pids, signal);
        if frozen {
            m.freeze(FreezerState::Thawed)?;
        }
        sent?;
        if signal != libc::SIGKILL || pids.is_empty() || wait_empty(m, Duration::from_millis(200))?
        {
            return Ok(());
        }
        if start.elapsed() > KILL_TIMEOUT {
            return Err(CgroupError::Timeout {
                path: m.paths().into_iter().next().unwrap_or_default(),
                value: "empty".into(),
                millis: KILL_TIMEOUT.as_millis() as u64,
            });
        }
    }
}

fn signal_all<M: CgroupManager + ?Sized>(
    m: &M,
    pids: &[i32],
    signal: i32,
) -> Result<(), CgroupError> {
    for &pid in pids {
        // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions.
        if unsafe { libc::kill(pid, signal) } != 0 {
            let source = io::Error::last_os_error();
            if source.raw_os_error() != Some(libc::ESRCH) {
                let path = m.paths().into_iter().next().unwrap_or_default();
                return Err(CgroupError::Kill {
                    path,
                    pid,
                    signal,
                    source,
                });
            }
        }
    }
    Ok(())
}

fn wait_empty<M: CgroupManager + ?Sized>(m: &M, max: Duration) -> Result<bool, CgroupError> {
    let start = Instant::now();
    while start.elapsed() < max {
        if m.pids()?.is_empty() {
            return Ok(true);
        }
        sleep(Duration::from_millis(2));
    }
    Ok(false)
}
