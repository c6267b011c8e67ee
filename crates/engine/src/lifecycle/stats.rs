//! A running container's resource use, read from its cgroups (v1, v2 or
//! hybrid: cgroupsPath `/yurta/<id>`) and its init's /proc/PID/net/dev:
//! one [`Sample`], which `yurta stats` formats as Docker's table and the
//! Engine API as Docker's stats JSON.

use std::fs;
use std::path::Path;

use super::{state, Host, Paths};
use crate::record::ContainerRecord;

/// One reading of a container's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// CPU time its processes used, in nanoseconds (None: not readable).
    pub cpu_ns: Option<u64>,
    /// The host's CPU time (all CPUs, /proc/stat), in nanoseconds.
    pub system_ns: u64,
    pub online_cpus: u32,
    pub memory: u64,
    /// Its memory limit, or the host's memory.
    pub memory_limit: u64,
    /// Bytes received and sent on its interfaces (lo excluded).
    pub rx: u64,
    pub tx: u64,
    /// Bytes read and written by its processes (block I/O).
    pub read: u64,
    pub written: u64,
    pub pids: u64,
}

/// Reads the counters of `rec` now.
pub fn sample(host: &Host, rec: &ContainerRecord) -> Sample {
    let id = &rec.id;
    let (memory, limit) = memory(id);
    let p = Paths::new(&host.root, id);
    let (rx, tx) = state::init_pid(&p).map(net).unwrap_or((0, 0));
    let (read, written) = block_io(id);
    Sample {
        cpu_ns: cpu_ns(id),
        system_ns: system_ns(),
        online_cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        memory,
        memory_limit: limit.unwrap_or(0),
        rx,
        tx,
        read,
        written,
        pids: pids(id),
    }
}

/// The host's CPU time from /proc/stat's `cpu` line, in nanoseconds
/// (Docker's `system_cpu_usage`).
pub fn system_ns() -> u64 {
    let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|x| x.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    ticks * (1_000_000_000 / hz)
}

fn read_u64(path: &str) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// CPU time used, in nanoseconds.
fn cpu_ns(id: &str) -> Option<u64> {
    if v2() {
        let stat = fs::read_to_string(format!("/sys/fs/cgroup/yurta/{id}/cpu.stat")).ok()?;
        let usec = stat
            .lines()
            .find_map(|l| l.strip_prefix("usage_usec "))?
            .trim()
            .parse::<u64>()
            .ok()?;
        return Some(usec * 1000);
    }
    read_u64(&format!("/sys/fs/cgroup/cpuacct/yurta/{id}/cpuacct.usage")).or_else(|| {
        read_u64(&format!(
            "/sys/fs/cgroup/cpu,cpuacct/yurta/{id}/cpuacct.usage"
        ))
    })
}

fn memory(id: &str) -> (u64, Option<u64>) {
    let host = host_memory();
    if v2() {
        let usage = read_u64(&format!("/sys/fs/cgroup/yurta/{id}/memory.current")).unwrap_or(0);
        let limit = read_u64(&format!("/sys/fs/cgroup/yurta/{id}/memory.max"));
        return (usage, limit.or(host));
    }
    let base = format!("/sys/fs/cgroup/memory/yurta/{id}");
    let usage = read_u64(&format!("{base}/memory.usage_in_bytes")).unwrap_or(0);
    let limit = read_u64(&format!("{base}/memory.limit_in_bytes"));
    let limit = match (limit, host) {
        (Some(l), Some(h)) if l < h => Some(l),
        _ => host,
    };
    (usage, limit)
}

fn host_memory() -> Option<u64> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn pids(id: &str) -> u64 {
    let path = if v2() {
        format!("/sys/fs/cgroup/yurta/{id}/pids.current")
    } else {
        format!("/sys/fs/cgroup/pids/yurta/{id}/pids.current")
    };
    read_u64(&path).unwrap_or(0)
}

/// Bytes read and written by the container's processes (block I/O), from
/// the blkio (v1) or io (v2) controller.
fn block_io(id: &str) -> (u64, u64) {
    if v2() {
        let text = std::fs::read_to_string(format!("/sys/fs/cgroup/yurta/{id}/io.stat"));
        let stats = yurta_cgroups::parse_io_stat(&text.unwrap_or_default());
        return yurta_cgroups::read_write(&stats.io_service_bytes_recursive);
    }
    // The throttle layer counts where limits are enabled, bfq where it is
    // the disk's scheduler.
    ["throttle", "bfq"]
        .iter()
        .filter_map(|kind| {
            let file =
                format!("/sys/fs/cgroup/blkio/yurta/{id}/blkio.{kind}.io_service_bytes_recursive");
            std::fs::read_to_string(file).ok()
        })
        .map(|t| yurta_cgroups::read_write(&yurta_cgroups::parse_blkio_v1(&t)))
        .find(|&(r, w)| r > 0 || w > 0)
        .unwrap_or((0, 0))
}

fn net(pid: i32) -> (u64, u64) {
    let text = fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    let mut rx_tx = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() > 8 {
            rx_tx.0 += f[0];
            rx_tx.1 += f[8];
        }
    }
    rx_tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hosts_cpu_time_is_read() {
        assert!(system_ns() > 0);
        let s = sample(
            &Host {
                root: "/nonexistent".into(),
                binaries: crate::Binaries::in_dir(Path::new("/nonexistent")),
            },
            // An ID no cgroup has: the default's empty one would read the
            // parent cgroup, where other tests' containers run.
            &ContainerRecord {
                id: "0".repeat(64),
                ..ContainerRecord::default()
            },
        );
        assert!(s.online_cpus >= 1);
        assert_eq!((s.rx, s.tx, s.pids), (0, 0, 0));
    }
}
