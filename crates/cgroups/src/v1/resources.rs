//! Writing OCI `linux.resources` to v1 controller files. Only values present are written.

use std::path::Path;

use oci_spec::runtime::{
    LinuxBlockIo, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxNetwork, LinuxResources,
    LinuxThrottleDevice,
};

use super::V1Manager;
use crate::convert::{device_rule, hugepage_size, memory_v1, pids_max, rdma_max};
use crate::fsutil::{read_u64, write_in};
use crate::CgroupError;

const MEM_LIMIT: &str = "memory.limit_in_bytes";
const MEMSW_LIMIT: &str = "memory.memsw.limit_in_bytes";

pub(super) fn set(m: &V1Manager, r: &LinuxResources) -> Result<(), CgroupError> {
    if let Some(mem) = r.memory() {
        set_memory(m, mem)?;
    }
    if let Some(cpu) = r.cpu() {
        set_cpu(m, cpu)?;
        set_cpuset(m, cpu)?;
    }
    if let Some(pids) = r.pids() {
        let value = pids_max(pids.limit());
        write_in(m.need("pids", "pids.max", &value)?, "pids.max", &value)?;
    }
    if let Some(blkio) = r.block_io() {
        set_blkio(m, blkio)?;
    }
    for limit in r.hugepage_limits().iter().flatten() {
        let file = format!(
            "hugetlb.{}.limit_in_bytes",
            hugepage_size(limit.page_size())?
        );
        let value = memory_v1(&file, limit.limit())?;
        write_in(m.need("hugetlb", &file, &value)?, &file, &value)?;
    }
    if let Some(devices) = r.devices() {
        set_devices(m, devices)?;
    }
    if let Some(net) = r.network() {
        set_network(m, net)?;
    }
    // rdma is optional: skipped when the controller is not mounted.
    if let (Some(rdma), Some(dir)) = (r.rdma(), m.dir("rdma")) {
        for (dev, l) in rdma {
            if let Some(value) = rdma_max(dev, l.hca_handles(), l.hca_objects()) {
                write_in(dir, "rdma.max", &value)?;
            }
        }
    }
    if let Some((key, value)) = r.unified().iter().flatten().next() {
        return Err(CgroupError::unsupported(
            key,
            value,
            "unified resources need cgroup v2, and this host is v1 only",
        ));
    }
    Ok(())
}

fn set_memory(m: &V1Manager, mem: &LinuxMemory) -> Result<(), CgroupError> {
    // 0 means "unset" for byte limits, as in runc.
    let limit = mem.limit().filter(|v| *v != 0);
    let swap = mem.swap().filter(|v| *v != 0);
    if limit.is_none()
        && swap.is_none()
        && mem.reservation().is_none()
        && mem.swappiness().is_none()
        && mem.disable_oom_killer().is_none()
        && mem.use_hierarchy().is_none()
    {
        return Ok(());
    }
    let first = limit.or(swap).unwrap_or(0);
    let dir = m.need("memory", MEM_LIMIT, first)?;
    set_memory_and_swap(dir, limit, swap)?;
    if let Some(v) = mem.reservation() {
        write_in(
            dir,
            "memory.soft_limit_in_bytes",
            &memory_v1("memory.soft_limit_in_bytes", v)?,
        )?;
    }
    // runc treats a swappiness of u64::MAX (-1 in Go) as unset.
    if let Some(v) = mem.swappiness().filter(|v| *v != u64::MAX) {
        if v > 100 {
            return Err(CgroupError::invalid(
                "memory.swappiness",
                v,
                "must be between 0 and 100",
            ));
        }
        write_in(dir, "memory.swappiness", &v.to_string())?;
    }
    if mem.disable_oom_killer() == Some(true) {
        write_in(dir, "memory.oom_control", "1")?;
    }
    if let Some(h) = mem.use_hierarchy() {
        write_in(dir, "memory.use_hierarchy", if h { "1" } else { "0" })?;
    }
    Ok(())
}

/// memsw must stay >= the memory limit at every step, so raise memsw first when growing and
/// lower the memory limit first when shrinking.
fn set_memory_and_swap(
    dir: &Path,
    limit: Option<i64>,
    swap: Option<i64>,
) -> Result<(), CgroupError> {
    let memsw_present = dir.join(MEMSW_LIMIT).exists();
    // Unlimited memory with swap unset means both unlimited.
    let swap = match (limit, swap) {
        (Some(-1), None) if memsw_present => Some(-1),
        _ => swap,
    };
    let swap = match swap {
        Some(s) if !memsw_present => {
            if s == -1 || Some(s) == limit {
                None
            } else {
                return Err(CgroupError::unsupported(
                    MEMSW_LIMIT,
                    s,
                    "swap accounting is disabled in this kernel (swapaccount=1)",
                ));
            }
        }
        other => other,
    };
    if let (Some(l), Some(s)) = (limit, swap) {
        if l > 0 && s > 0 && s < l {
            return Err(CgroupError::invalid(
                MEMSW_LIMIT,
                s,
                format!("memory+swap must be >= the memory limit {l}"),
            ));
        }
    }
    let swap_first = match (limit, swap) {
        (Some(_), Some(-1)) => true,
        (Some(_), Some(s)) => read_u64(&dir.join(MEM_LIMIT))? < s as u64,
        _ => false,
    };
    let write_mem = || {
        limit.map_or(Ok(()), |v| {
            write_in(dir, MEM_LIMIT, &memory_v1(MEM_LIMIT, v)?)
        })
    };
    let write_swap = || {
        swap.map_or(Ok(()), |v| {
            write_in(dir, MEMSW_LIMIT, &memory_v1(MEMSW_LIMIT, v)?)
        })
    };
    if swap_first {
        write_swap()?;
        write_mem()
    } else {
        write_mem()?;
        write_swap()
    }
}

fn set_cpu(m: &V1Manager, cpu: &LinuxCpu) -> Result<(), CgroupError> {
    let need = |file: &str, v: &str| m.need("cpu", file, v);
    if let Some(shares) = cpu.shares().filter(|s| *s != 0) {
        let v = shares.to_string();
        write_in(need("cpu.shares", &v)?, "cpu.shares", &v)?;
    }
    let period = cpu.period().filter(|p| *p != 0).map(|p| p.to_string());
    let quota = cpu.quota().filter(|q| *q != 0).map(|q| q.to_string());
    if let Some(p) = &period {
        let dir = need("cpu.cfs_period_us", p)?;
        // A new period can be rejected against the old quota; then write the quota first.
        if let Err(e) = write_in(dir, "cpu.cfs_period_us", p) {
            let q = quota.as_ref().ok_or(e)?;
            write_in(dir, "cpu.cfs_quota_us", q)?;
            write_in(dir, "cpu.cfs_period_us", p)?;
        }
    }
    if let Some(q) = &quota {
        write_in(need("cpu.cfs_quota_us", q)?, "cpu.cfs_quota_us", q)?;
    }
    if let Some(b) = cpu.burst() {
        let v = b.to_string();
        write_in(need("cpu.cfs_burst_us", &v)?, "cpu.cfs_burst_us", &v)?;
    }
    if let Some(p) = cpu.realtime_period().filter(|p| *p != 0) {
        let v = p.to_string();
        write_in(need("cpu.rt_period_us", &v)?, "cpu.rt_period_us", &v)?;
    }
    if let Some(r) = cpu.realtime_runtime().filter(|r| *r != 0) {
        let v = r.to_string();
        write_in(need("cpu.rt_runtime_us", &v)?, "cpu.rt_runtime_us", &v)?;
    }
    Ok(())
}

fn set_cpuset(m: &V1Manager, cpu: &LinuxCpu) -> Result<(), CgroupError> {
    for (file, value) in [("cpuset.cpus", cpu.cpus()), ("cpuset.mems", cpu.mems())] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            write_in(m.need("cpuset", file, v)?, file, v)?;
        }
    }
    Ok(())
}

/// Writes a weight to blkio.<name>, falling back to the BFQ file (blkio.bfq.<name>); names the
/// CFQ file when neither exists.
fn write_weight(dir: &Path, name: &str, value: &str) -> Result<(), CgroupError> {
    let cfq = format!("blkio.{name}");
    let bfq = format!("blkio.bfq.{name}");
    if dir.join(&cfq).exists() {
        write_in(dir, &cfq, value)
    } else if dir.join(&bfq).exists() {
        write_in(dir, &bfq, value)
    } else {
        Err(CgroupError::unsupported(
            &cfq,
            value,
            "no CFQ or BFQ I/O scheduler weight file on this host",
        ))
    }
}

fn set_blkio(m: &V1Manager, b: &LinuxBlockIo) -> Result<(), CgroupError> {
    let need = |file: &str| m.need("blkio", file, "");
    if let Some(w) = b.weight() {
        write_weight(need("blkio.weight")?, "weight", &w.to_string())?;
    }
    if let Some(w) = b.leaf_weight() {
        let v = w.to_string();
        write_in(need("blkio.leaf_weight")?, "blkio.leaf_weight", &v)?;
    }
    for wd in b.weight_device().iter().flatten() {
        let dev = format!("{}:{}", wd.major(), wd.minor());
        if let Some(w) = wd.weight() {
            write_weight(
                need("blkio.weight_device")?,
                "weight_device",
                &format!("{dev} {w}"),
            )?;
        }
        if let Some(w) = wd.leaf_weight() {
            write_in(
                need("blkio.leaf_weight_device")?,
                "blkio.leaf_weight_device",
                &format!("{dev} {w}"),
            )?;
        }
    }
    let throttles: [(&str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        (
            "blkio.throttle.read_bps_device",
            b.throttle_read_bps_device(),
        ),
        (
            "blkio.throttle.write_bps_device",
            b.throttle_write_bps_device(),
        ),
        (
            "blkio.throttle.read_iops_device",
            b.throttle_read_iops_device(),
        ),
        (
            "blkio.throttle.write_iops_device",
            b.throttle_write_iops_device(),
        ),
    ];
    for (file, list) in throttles {
        for t in list.iter().flatten() {
            let v = format!("{}:{} {}", t.major(), t.minor(), t.rate());
            write_in(m.need("blkio", file, &v)?, file, &v)?;
        }
    }
    Ok(())
}

/// Deny everything, then apply the rules in order, as runc does.
fn set_devices(m: &V1Manager, rules: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
    let dir = m.need("devices", "devices.deny", "a")?;
    write_in(dir, "devices.deny", "a")?;
    for rule in rules {
        if let Some((allow, text)) = device_rule(rule)? {
            // "deny a" again is redundant (and the common first OCI rule).
            if !allow && text.starts_with('a') {
                continue;
            }
            write_in(
                dir,
                if allow {
                    "devices.allow"
                } else {
                    "devices.deny"
                },
                &text,
            )?;
        }
    }
    Ok(())
}

/// net_cls/net_prio are optional: silently skipped when not mounted.
fn set_network(m: &V1Manager, net: &LinuxNetwork) -> Result<(), CgroupError> {
    if let (Some(id), Some(dir)) = (net.class_id(), m.dir("net_cls")) {
        write_in(dir, "net_cls.classid", &id.to_string())?;
    }
    if let Some(dir) = m.dir("net_prio") {
        for p in net.priorities().iter().flatten() {
            write_in(
                dir,
                "net_prio.ifpriomap",
                &format!("{} {}", p.name(), p.priority()),
            )?;
        }
    }
    Ok(())
}
