//! Resources for `update`, from a JSON file or runc's flags.

use std::io::Read;

use anyhow::{bail, Context, Result};
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources,
    LinuxResourcesBuilder,
};
use yurta_oci_cli::Update;

/// Parses "64m", "1G", "1024", "-1" into bytes.
pub fn parse_size(text: &str) -> Result<i64> {
    let t = text.trim();
    if t == "-1" {
        return Ok(-1);
    }
    let lower = t.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('b');
    let (digits, mult) = match trimmed.chars().last() {
        Some('k') => (&trimmed[..trimmed.len() - 1], 1i64 << 10),
        Some('m') => (&trimmed[..trimmed.len() - 1], 1i64 << 20),
        Some('g') => (&trimmed[..trimmed.len() - 1], 1i64 << 30),
        Some('t') => (&trimmed[..trimmed.len() - 1], 1i64 << 40),
        _ => (trimmed, 1),
    };
    let n: f64 = digits
        .parse()
        .with_context(|| format!("invalid size {text:?}"))?;
    if n < 0.0 {
        bail!("invalid size {text:?}: negative");
    }
    Ok((n * mult as f64) as i64)
}

pub fn resources_from(u: &Update) -> Result<LinuxResources> {
    if let Some(path) = &u.resources {
        let mut data = Vec::new();
        if path.as_os_str() == "-" {
            std::io::stdin().read_to_end(&mut data)?;
        } else {
            data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        }
        return serde_json::from_slice(&data)
            .with_context(|| format!("parsing resources {}", path.display()));
    }
    let mut res = LinuxResourcesBuilder::default();
    let mut mem = LinuxMemoryBuilder::default();
    let mut any_mem = false;
    if let Some(m) = &u.memory {
        mem = mem.limit(parse_size(m)?);
        any_mem = true;
    }
    if let Some(m) = &u.memory_reservation {
        mem = mem.reservation(parse_size(m)?);
        any_mem = true;
    }
    if let Some(m) = &u.memory_swap {
        mem = mem.swap(parse_size(m)?);
        any_mem = true;
    }
    if any_mem {
        res = res.memory(mem.build()?);
    }
    let mut cpu = LinuxCpuBuilder::default();
    let mut any_cpu = false;
    macro_rules! cpu_field {
        ($opt:expr, $setter:ident) => {
            if let Some(v) = $opt.clone() {
                cpu = cpu.$setter(v);
                any_cpu = true;
            }
        };
    }
    cpu_field!(u.cpu_period, period);
    cpu_field!(u.cpu_quota, quota);
    cpu_field!(u.cpu_share, shares);
    cpu_field!(u.cpu_rt_period, realtime_period);
    cpu_field!(u.cpu_rt_runtime, realtime_runtime);
    cpu_field!(u.cpuset_cpus, cpus);
    cpu_field!(u.cpuset_mems, mems);
    if any_cpu {
        res = res.cpu(cpu.build()?);
    }
    if let Some(p) = u.pids_limit {
        res = res.pids(LinuxPidsBuilder::default().limit(p).build()?);
    }
    if let Some(w) = u.blkio_weight {
        res = res.block_io(LinuxBlockIoBuilder::default().weight(w).build()?);
    }
    Ok(res.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m").unwrap(), 64 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("512kb").unwrap(), 512 << 10);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("-1").unwrap(), -1);
        assert!(parse_size("lots").is_err());
    }
}
