//! Pure conversions from OCI resource values to what the cgroup files expect, shared by v1 and
//! v2 and unit-tested without any filesystem.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use crate::CgroupError;

/// A v1 memory byte value: -1 (unlimited) or a positive number.
pub(crate) fn memory_v1(file: &str, value: i64) -> Result<String, CgroupError> {
    if value < -1 {
        return Err(CgroupError::invalid(
            file,
            value,
            "must be -1 (unlimited) or >= 0",
        ));
    }
    Ok(value.to_string())
}

/// A v2 memory byte value: "max" for -1.
pub(crate) fn memory_v2(file: &str, value: i64) -> Result<String, CgroupError> {
    match value {
        -1 => Ok("max".to_string()),
        v if v < -1 => Err(CgroupError::invalid(
            file,
            v,
            "must be -1 (unlimited) or >= 0",
        )),
        v => Ok(v.to_string()),
    }
}

/// OCI `swap` is memory+swap (the v1 memsw meaning); v2's memory.swap.max is swap alone.
/// Returns None when nothing is to be written, Some(-1) for "max".
pub(crate) fn swap_v2(swap: Option<i64>, limit: Option<i64>) -> Result<Option<i64>, CgroupError> {
    let file = "memory.swap.max";
    let limit = limit.unwrap_or(0);
    match swap.unwrap_or(0) {
        // Unlimited memory with swap unset means "both unlimited", as on v1.
        0 if limit == -1 => Ok(Some(-1)),
        0 => Ok(None),
        -1 => Ok(Some(-1)),
        s if s < -1 => Err(CgroupError::invalid(file, s, "swap must be -1 or >= 0")),
        s if limit <= 0 => Err(CgroupError::invalid(
            file,
            s,
            "a swap limit needs a memory limit (OCI swap is memory+swap)",
        )),
        s if s < limit => Err(CgroupError::invalid(
            file,
            s,
            format!("memory+swap must be >= the memory limit {limit}"),
        )),
        s => Ok(Some(s - limit)),
    }
}

/// cgroup v1 cpu.shares to v2 cpu.weight, the way runc converts: [2, 262144] to [1, 10000].
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// blkio weight [10, 1000] to io.weight [1, 10000], as runc does.
pub(crate) fn blkio_to_io_weight(weight: u16) -> u64 {
    let w = u64::from(weight.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

/// pids.max: any value <= 0 means no limit.
pub(crate) fn pids_max(limit: i64) -> String {
    if limit <= 0 {
        "max".to_string()
    } else {
        limit.to_string()
    }
}

/// v2 cpu.max from quota/period, as runc writes it ("max" when quota is not positive; the
/// period is kept by the kernel when omitted).
pub(crate) fn cpu_max(quota: Option<i64>, period: Option<u64>) -> Option<String> {
    let quota = quota.filter(|q| *q != 0);
    let period = period.filter(|p| *p != 0);
    if quota.is_none() && period.is_none() {
        return None;
    }
    let mut s = match quota {
        Some(q) if q > 0 => q.to_string(),
        _ => "max".to_string(),
    };
    if let Some(p) = period {
        s.push_str(&format!(" {p}"));
    }
    Some(s)
}

/// Validates a hugepage size such as "2MB" or "1GB" (it becomes part of a file name).
pub(crate) fn hugepage_size(size: &str) -> Result<&str, CgroupError> {
    let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &size[digits.len()..];
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !matches!(unit, "KB" | "MB" | "GB" | "TB" | "PB")
    {
        return Err(CgroupError::invalid(
            "hugetlb.<size>",
            size,
            "page size must look like 2MB",
        ));
    }
    Ok(size)
}

/// A device rule as written to v1 devices.allow/deny: (allow, "c 1:3 rwm"). FIFO ('p') rules
/// have no cgroup meaning and yield None.
pub(crate) fn device_rule(rule: &LinuxDeviceCgroup) -> Result<Option<(bool, String)>, CgroupError> {
    let file = if rule.allow() {
        "devices.allow"
    } else {
        "devices.deny"
    };
    let typ = match rule.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => 'a',
        LinuxDeviceType::B => 'b',
        LinuxDeviceType::C | LinuxDeviceType::U => 'c',
        LinuxDeviceType::P => return Ok(None),
    };
    let access = rule
        .access()
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or("rwm");
    if !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
        return Err(CgroupError::invalid(
            file,
            access,
            "access must be made of r, w, m",
        ));
    }
    let num = |n: Option<i64>| match n {
        Some(n) if n >= 0 => n.to_string(),
        _ => "*".to_string(),
    };
    let text = format!("{typ} {}:{} {access}", num(rule.major()), num(rule.minor()));
    Ok(Some((rule.allow(), text)))
}

/// rdma.max line for one device; None when no limit is given.
pub(crate) fn rdma_max(dev: &str, handles: Option<u32>, objects: Option<u32>) -> Option<String> {
    if handles.is_none() && objects.is_none() {
        return None;
    }
    let mut s = dev.to_string();
    if let Some(h) = handles {
        s.push_str(&format!(" hca_handle={h}"));
    }
    if let Some(o) = objects {
        s.push_str(&format!(" hca_object={o}"));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    #[test]
    fn shares_weight() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(1), 1);
        assert_eq!(shares_to_weight(u64::MAX), 10_000);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
        assert_eq!(blkio_to_io_weight(500), 4950);
    }

    #[test]
    fn swap_math() {
        let m = 64 << 20;
        assert_eq!(swap_v2(Some(2 * m), Some(m)).unwrap(), Some(m));
        assert_eq!(swap_v2(Some(m), Some(m)).unwrap(), Some(0));
        assert_eq!(swap_v2(Some(-1), Some(m)).unwrap(), Some(-1));
        assert_eq!(swap_v2(None, Some(-1)).unwrap(), Some(-1));
        assert_eq!(swap_v2(None, Some(m)).unwrap(), None);
        assert!(swap_v2(Some(m / 2), Some(m)).is_err());
        assert!(swap_v2(Some(m), None).is_err());
        let e = swap_v2(Some(-5), Some(m)).unwrap_err().to_string();
        assert!(e.contains("memory.swap.max") && e.contains("-5"), "{e}");
    }

    #[test]
    fn memory_values() {
        assert_eq!(memory_v2("memory.max", -1).unwrap(), "max");
        assert_eq!(memory_v2("memory.max", 4096).unwrap(), "4096");
        assert_eq!(memory_v1("memory.limit_in_bytes", -1).unwrap(), "-1");
        let e = memory_v1("memory.limit_in_bytes", -7)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("memory.limit_in_bytes") && e.contains("-7"),
            "{e}"
        );
    }

    #[test]
    fn cpu_and_pids() {
        assert_eq!(
            cpu_max(Some(50_000), Some(100_000)).as_deref(),
            Some("50000 100000")
        );
        assert_eq!(
            cpu_max(Some(-1), Some(100_000)).as_deref(),
            Some("max 100000")
        );
        assert_eq!(cpu_max(Some(20_000), None).as_deref(), Some("20000"));
        assert_eq!(cpu_max(None, None), None);
        assert_eq!(pids_max(0), "max");
        assert_eq!(pids_max(-1), "max");
        assert_eq!(pids_max(16), "16");
    }

    #[test]
    fn hugepages() {
        assert_eq!(hugepage_size("2MB").unwrap(), "2MB");
        assert!(hugepage_size("1GB").is_ok());
        assert!(hugepage_size("../x").is_err());
        assert!(hugepage_size("MB").is_err());
        assert!(hugepage_size("2M").is_err());
    }

    fn rule(
        allow: bool,
        t: Option<LinuxDeviceType>,
        maj: Option<i64>,
        min: Option<i64>,
        acc: &str,
    ) -> LinuxDeviceCgroup {
        let mut b = LinuxDeviceCgroupBuilder::default().allow(allow).access(acc);
        if let Some(t) = t {
            b = b.typ(t);
        }
        if let Some(m) = maj {
            b = b.major(m);
        }
        if let Some(m) = min {
            b = b.minor(m);
        }
        b.build().unwrap()
    }

    #[test]
    fn device_rules() {
        let r = |x| device_rule(&x).unwrap();
        assert_eq!(
            r(rule(false, None, None, None, "rwm")),
            Some((false, "a *:* rwm".into()))
        );
        assert_eq!(
            r(rule(
                true,
                Some(LinuxDeviceType::C),
                Some(1),
                Some(3),
                "rwm"
            )),
            Some((true, "c 1:3 rwm".into()))
        );
        assert_eq!(
            r(rule(true, Some(LinuxDeviceType::B), Some(8), None, "r")),
            Some((true, "b 8:* r".into()))
        );
        assert_eq!(
            r(rule(
                true,
                Some(LinuxDeviceType::C),
                Some(136),
                Some(-1),
                ""
            )),
            Some((true, "c 136:* rwm".into()))
        );
        assert_eq!(
            r(rule(true, Some(LinuxDeviceType::P), None, None, "r")),
            None
        );
        let e = device_rule(&rule(true, None, None, None, "rx"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("devices.allow") && e.contains("rx"), "{e}");
    }
}
