//! Processes as `/proc/PID/stat` shows them: the state letter and the
//! start time (clock ticks after boot), which together tell a live process
//! from a zombie and from another process that took its pid.

use std::fs;

/// What yurta reads of `/proc/PID/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// `R`, `S`, `D`, `T`, `Z` (zombie), `X` (dead)...
    pub state: char,
    /// Field 22: when the process started, in clock ticks after boot.
    pub start_time: u64,
}

impl ProcStat {
    /// Not a zombie nor dead: it still runs (or sleeps, or is stopped).
    pub fn running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// The process's stat; None when there is no such process.
pub fn stat(pid: i32) -> Option<ProcStat> {
    if pid <= 0 {
        return None;
    }
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses a `/proc/PID/stat` line. The command name may hold spaces and
/// parentheses: the fields start after the last `)`.
pub fn parse_stat(line: &str) -> Option<ProcStat> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start_time = fields.nth(18)?.parse().ok()?;
    Some(ProcStat { state, start_time })
}

/// Whether `pid` is a process that has not exited (a zombie has).
pub fn running(pid: i32) -> bool {
    stat(pid).is_some_and(|s| s.running())
}

/// Whether `pid` is still the process that started at `start_time` and
/// has not exited.
pub fn same_and_running(pid: i32, start_time: u64) -> bool {
    stat(pid).is_some_and(|s| s.running() && s.start_time == start_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let line = "42 (a) b (c) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!((s.state, s.start_time), ('S', 12345));
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn this_process_runs_and_keeps_its_start_time() {
        let me = std::process::id() as i32;
        let s = stat(me).unwrap();
        assert!(s.running());
        assert!(same_and_running(me, s.start_time));
        assert!(!same_and_running(me, s.start_time + 1));
        assert!(!running(0));
    }
}
