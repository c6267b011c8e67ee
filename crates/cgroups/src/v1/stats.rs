//! Statistics from v1 controller files. Files a kernel lacks read as zero.

use std::path::Path;

use super::V1Manager;
use crate::fsutil::{keyed_value, read_string, read_u64_opt};
use crate::stats::{hugetlb_stats, parse_blkio_v1, parse_flat, MemoryEntry, Stats, HUGETLB_V1};
use crate::CgroupError;

/// USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s.
const NS_PER_TICK: u64 = 10_000_000;

pub(super) fn collect(m: &V1Manager) -> Result<Stats, CgroupError> {
    let mut s = Stats::default();
    if let Some(dir) = m.dir("memory") {
        memory(dir, &mut s)?;
    }
    if let Some(dir) = m.dir("cpuacct") {
        cpuacct(dir, &mut s)?;
    }
    if let Some(dir) = m.dir("cpu") {
        let text = read_opt(&dir.join("cpu.stat"))?;
        s.cpu.throttling.periods = keyed_value(&text, "nr_periods").unwrap_or(0);
        s.cpu.throttling.throttled_periods = keyed_value(&text, "nr_throttled").unwrap_or(0);
        s.cpu.throttling.throttled_time = keyed_value(&text, "throttled_time").unwrap_or(0);
    }
    if let Some(dir) = m.dir("pids") {
        s.pids.current = read_u64_opt(&dir.join("pids.current"))?;
        s.pids.limit = read_u64_opt(&dir.join("pids.max"))?;
        if s.pids.limit == u64::MAX {
            s.pids.limit = 0;
        }
    }
    if let Some(dir) = m.dir("blkio") {
        blkio(dir, &mut s)?;
    }
    if let Some(dir) = m.dir("hugetlb") {
        s.hugetlb = hugetlb_stats(dir, &HUGETLB_V1)?;
    }
    Ok(s)
}

pub(crate) fn read_opt(path: &Path) -> Result<String, CgroupError> {
    if path.exists() {
        read_string(path)
    } else {
        Ok(String::new())
    }
}

fn entry(dir: &Path, prefix: &str) -> Result<MemoryEntry, CgroupError> {
    Ok(MemoryEntry {
        limit: read_u64_opt(&dir.join(format!("{prefix}.limit_in_bytes")))?,
        usage: read_u64_opt(&dir.join(format!("{prefix}.usage_in_bytes")))?,
        max: read_u64_opt(&dir.join(format!("{prefix}.max_usage_in_bytes")))?,
        failcnt: read_u64_opt(&dir.join(format!("{prefix}.failcnt")))?,
    })
}

fn memory(dir: &Path, s: &mut Stats) -> Result<(), CgroupError> {
    s.memory.usage = entry(dir, "memory")?;
    s.memory.swap = entry(dir, "memory.memsw")?;
    s.memory.raw = parse_flat(&read_opt(&dir.join("memory.stat"))?);
    s.memory.cache = s.memory.raw.get("cache").copied().unwrap_or(0);
    Ok(())
}

fn cpuacct(dir: &Path, s: &mut Stats) -> Result<(), CgroupError> {
    s.cpu.usage.total = read_u64_opt(&dir.join("cpuacct.usage"))?;
    s.cpu.usage.percpu = read_opt(&dir.join("cpuacct.usage_percpu"))?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let stat = read_opt(&dir.join("cpuacct.stat"))?;
    s.cpu.usage.user = keyed_value(&stat, "user").unwrap_or(0) * NS_PER_TICK;
    s.cpu.usage.kernel = keyed_value(&stat, "system").unwrap_or(0) * NS_PER_TICK;
    Ok(())
}

fn blkio(dir: &Path, s: &mut Stats) -> Result<(), CgroupError> {
    // CFQ/BFQ accounting when present, else the throttle layer's (always there).
    let pick = |names: &[&str]| -> Result<String, CgroupError> {
        for n in names {
            let text = read_opt(&dir.join(n))?;
            if text.lines().any(|l| !l.starts_with("Total")) {
                return Ok(text);
            }
        }
        Ok(String::new())
    };
    let bytes = pick(&[
        "blkio.io_service_bytes_recursive",
        "blkio.throttle.io_service_bytes_recursive",
    ])?;
    let ios = pick(&[
        "blkio.io_serviced_recursive",
        "blkio.throttle.io_serviced_recursive",
    ])?;
    s.blkio.io_service_bytes_recursive = parse_blkio_v1(&bytes);
    s.blkio.io_serviced_recursive = parse_blkio_v1(&ios);
    Ok(())
}
