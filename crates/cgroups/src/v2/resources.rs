//! Writing OCI `linux.resources` to v2 files. Only values present are written.

use std::path::Path;

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice};

use super::V2Manager;
use crate::convert::{
    blkio_to_io_weight, cpu_max, hugepage_size, memory_v2, pids_max, rdma_max, shares_to_weight,
    swap_v2,
};
use crate::fsutil::write_in;
use crate::CgroupError;

pub(super) fn set(m: &V2Manager, r: &LinuxResources) -> Result<(), CgroupError> {
    let dir = m.dir();
    if let Some(mem) = r.memory() {
        set_memory(dir, mem)?;
    }
    if let Some(cpu) = r.cpu() {
        set_cpu(dir, cpu)?;
    }
    if let Some(pids) = r.pids() {
        write_in(dir, "pids.max", &pids_max(pids.limit()))?;
    }
    if let Some(io) = r.block_io() {
        set_io(dir, io)?;
    }
    for limit in r.hugepage_limits().iter().flatten() {
        let file = format!("hugetlb.{}.max", hugepage_size(limit.page_size())?);
        write_in(dir, &file, &memory_v2(&file, limit.limit())?)?;
    }
    if let Some(devices) = r.devices() {
        super::devices::apply(dir, devices)?;
    }
    for (dev, l) in r.rdma().iter().flatten() {
        if let (Some(v), true) = (
            rdma_max(dev, l.hca_handles(), l.hca_objects()),
            m.has("rdma"),
        ) {
            write_in(dir, "rdma.max", &v)?;
        }
    }
    set_unified(dir, r)
}

fn set_memory(dir: &Path, mem: &LinuxMemory) -> Result<(), CgroupError> {
    let limit = mem.limit().filter(|v| *v != 0);
    if let Some(swap) = swap_v2(mem.swap().filter(|v| *v != 0), limit)? {
        let value = memory_v2("memory.swap.max", swap)?;
        // Without swap (or swap accounting) the file is absent; only a real limit matters.
        if dir.join("memory.swap.max").exists() || !(swap == -1 || swap == 0) {
            write_in(dir, "memory.swap.max", &value)?;
        }
    }
    if let Some(v) = limit {
        write_in(dir, "memory.max", &memory_v2("memory.max", v)?)?;
    }
    if let Some(v) = mem.reservation() {
        write_in(dir, "memory.low", &memory_v2("memory.low", v)?)?;
    }
    Ok(())
}

fn set_cpu(dir: &Path, cpu: &LinuxCpu) -> Result<(), CgroupError> {
    if let Some(shares) = cpu.shares().filter(|s| *s != 0) {
        write_in(dir, "cpu.weight", &shares_to_weight(shares).to_string())?;
    }
    if let Some(v) = cpu_max(cpu.quota(), cpu.period()) {
        write_in(dir, "cpu.max", &v)?;
    }
    if let Some(b) = cpu.burst() {
        write_in(dir, "cpu.max.burst", &b.to_string())?;
    }
    if let Some(idle) = cpu.idle() {
        if dir.join("cpu.idle").exists() {
            write_in(dir, "cpu.idle", &idle.to_string())?;
        }
    }
    let rt = cpu
        .realtime_runtime()
        .filter(|v| *v != 0)
        .map(|v| v.to_string());
    if let Some(v) = rt.or(cpu
        .realtime_period()
        .filter(|v| *v != 0)
        .map(|v| v.to_string()))
    {
        return Err(CgroupError::unsupported(
            "cpu.rt_runtime_us",
            v,
            "realtime CPU limits need cgroup v1",
        ));
    }
    for (file, value) in [("cpuset.cpus", cpu.cpus()), ("cpuset.mems", cpu.mems())] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            write_in(dir, file, v)?;
        }
    }
    Ok(())
}

/// BFQ's io.bfq.weight takes the blkio weight as is; io.weight has its own range.
fn write_weight(dir: &Path, dev: Option<(i64, i64)>, weight: u16) -> Result<(), CgroupError> {
    let prefix = dev.map_or("default".to_string(), |(a, b)| format!("{a}:{b}"));
    if dir.join("io.bfq.weight").exists() {
        let v = match dev {
            Some(_) => format!("{prefix} {weight}"),
            None => weight.to_string(),
        };
        return write_in(dir, "io.bfq.weight", &v);
    }
    write_in(
        dir,
        "io.weight",
        &format!("{prefix} {}", blkio_to_io_weight(weight)),
    )
}

fn set_io(dir: &Path, io: &LinuxBlockIo) -> Result<(), CgroupError> {
    if let Some(w) = io.weight() {
        write_weight(dir, None, w)?;
    }
    for wd in io.weight_device().iter().flatten() {
        if let Some(w) = wd.weight() {
            write_weight(dir, Some((wd.major(), wd.minor())), w)?;
        }
    }
    let throttles: [(&str, &Option<Vec<LinuxThrottleDevice>>); 4] = [
        ("rbps", io.throttle_read_bps_device()),
        ("wbps", io.throttle_write_bps_device()),
        ("riops", io.throttle_read_iops_device()),
        ("wiops", io.throttle_write_iops_device()),
    ];
    for (key, list) in throttles {
        for t in list.iter().flatten() {
            write_in(
                dir,
                "io.max",
                &format!("{}:{} {key}={}", t.major(), t.minor(), t.rate()),
            )?;
        }
    }
    Ok(())
}

/// linux.resources.unified: key is a file in the container's cgroup; it must already exist.
fn set_unified(dir: &Path, r: &LinuxResources) -> Result<(), CgroupError> {
    for (key, value) in r.unified().iter().flatten() {
        if key.contains('/') || key.starts_with('.') || key.is_empty() {
            return Err(CgroupError::invalid(
                key,
                value,
                "unified keys must be plain cgroup file names",
            ));
        }
        if !dir.join(key).exists() {
            let reason = format!(
                "no such file in {} (controller not enabled?)",
                dir.display()
            );
            return Err(CgroupError::unsupported(key, value, reason));
        }
        write_in(dir, key, value)?;
    }
    Ok(())
}
