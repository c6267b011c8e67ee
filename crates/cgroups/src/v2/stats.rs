//! Statistics from v2 files. Files a kernel lacks (controller not enabled) read as zero.

use std::path::Path;

use crate::fsutil::{keyed_value, read_string, read_u64_opt};
use crate::stats::{hugetlb_stats, parse_flat, parse_io_stat, Stats, HUGETLB_V2};
use crate::CgroupError;

fn read_opt(path: &Path) -> Result<String, CgroupError> {
    if path.exists() {
        read_string(path)
    } else {
        Ok(String::new())
    }
}

pub(super) fn collect(dir: &Path) -> Result<Stats, CgroupError> {
    let mut s = Stats::default();
    let cpu = read_opt(&dir.join("cpu.stat"))?;
    let us = |k: &str| keyed_value(&cpu, k).unwrap_or(0) * 1000;
    s.cpu.usage.total = us("usage_usec");
    s.cpu.usage.user = us("user_usec");
    s.cpu.usage.kernel = us("system_usec");
    s.cpu.throttling.periods = keyed_value(&cpu, "nr_periods").unwrap_or(0);
    s.cpu.throttling.throttled_periods = keyed_value(&cpu, "nr_throttled").unwrap_or(0);
    s.cpu.throttling.throttled_time = us("throttled_usec");

    let m = &mut s.memory;
    m.usage.usage = read_u64_opt(&dir.join("memory.current"))?;
    m.usage.limit = read_u64_opt(&dir.join("memory.max"))?;
    m.usage.max = read_u64_opt(&dir.join("memory.peak"))?;
    m.usage.failcnt = keyed_value(&read_opt(&dir.join("memory.events"))?, "max").unwrap_or(0);
    // Report swap as memory+swap, like v1's memsw, as runc does.
    m.swap.usage = read_u64_opt(&dir.join("memory.swap.current"))?.saturating_add(m.usage.usage);
    m.swap.limit = read_u64_opt(&dir.join("memory.swap.max"))?.saturating_add(m.usage.limit);
    m.raw = parse_flat(&read_opt(&dir.join("memory.stat"))?);
    m.cache = m.raw.get("file").copied().unwrap_or(0);

    s.pids.current = read_u64_opt(&dir.join("pids.current"))?;
    s.pids.limit = read_u64_opt(&dir.join("pids.max"))?;
    if s.pids.limit == u64::MAX {
        s.pids.limit = 0;
    }
    s.blkio = parse_io_stat(&read_opt(&dir.join("io.stat"))?);
    s.hugetlb = hugetlb_stats(dir, &HUGETLB_V2)?;
    Ok(s)
}
