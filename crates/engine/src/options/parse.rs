//! Parsers of single flag values, with Docker's syntax and limits: sizes,
//! CPUs, ulimits, devices, sysctls, restart policies, extra hosts, signals.

use std::net::IpAddr;

use super::OptionError;
use crate::record::{DeviceMapping, RestartPolicy, Ulimit};

/// Docker's smallest `--memory`.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// go-units' `RAMInBytes`: `512`, `64k`, `1.5g`, `100MB`, `2GiB`
/// (binary multiples, case-insensitive unit, optional `i` and `b`).
pub fn size(flag: &'static str, s: &str) -> Result<i64, OptionError> {
    let bad = || OptionError::Size {
        flag,
        value: s.to_string(),
    };
    let t = s.trim();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(bad());
    }
    let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let mult: i64 = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return Err(bad()),
    };
    let value: f64 = num.parse().map_err(|_| bad())?;
    let bytes = value * mult as f64;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as i64)
}

/// `--memory` and `--memory-swap` → (Memory, MemorySwap) with Docker's
/// rules: memory at least 6 MiB; swap needs memory, is -1 (unlimited) or
/// memory + swap and so at least memory; swap unset means twice memory.
pub fn memory(memory: Option<&str>, swap: Option<&str>) -> Result<(i64, i64), OptionError> {
    let mem = memory.map(|m| size("memory", m)).transpose()?.unwrap_or(0);
    if mem != 0 && mem < MIN_MEMORY {
        return Err(OptionError::MemoryTooSmall(
            memory.unwrap_or_default().to_string(),
        ));
    }
    let swap = match swap {
        None | Some("") | Some("0") => {
            if mem > 0 {
                // Saturating: sizes go up to i64::MAX, twice that does not fit.
                mem.saturating_mul(2)
            } else {
                0
            }
        }
        Some("-1") => -1,
        Some(s) => size("memory-swap", s)?,
    };
    if swap != 0 && mem == 0 {
        return Err(OptionError::SwapWithoutMemory);
    }
    if swap > 0 && swap < mem {
        return Err(OptionError::SwapBelowMemory);
    }
    Ok((mem, swap))
}

/// `--cpus 1.5` → NanoCpus.
pub fn cpus(s: &str) -> Result<i64, OptionError> {
    let bad = || OptionError::Cpus(s.to_string());
    let v: f64 = s.trim().parse().map_err(|_| bad())?;
    if !v.is_finite() || !(0.0..=1e6).contains(&v) {
        return Err(bad());
    }
    let nano = (v * 1e9).round() as i64;
    if nano != 0 && nano < 10_000_000 {
        return Err(bad());
    }
    Ok(nano)
}

/// `0-3,5` (`--cpuset-cpus`).
pub fn cpuset(s: &str) -> Result<String, OptionError> {
    let ok = !s.is_empty()
        && s.split(',').all(|part| {
            let mut r = part.splitn(2, '-');
            let lo = r.next().and_then(|x| x.parse::<u32>().ok());
            match (lo, r.next()) {
                (Some(_), None) => true,
                (Some(lo), Some(hi)) => hi.parse::<u32>().is_ok_and(|hi| hi >= lo),
                _ => false,
            }
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(OptionError::Cpuset(s.to_string()))
    }
}

/// Names `--ulimit` accepts (go-units), with their RLIMIT_ spelling.
pub const ULIMITS: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

/// `nofile=1024[:2048]`; -1 is unlimited.
pub fn ulimit(s: &str) -> Result<Ulimit, OptionError> {
    let bad = |why: &str| OptionError::Ulimit {
        value: s.to_string(),
        why: why.to_string(),
    };
    let (name, limits) = s
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=SOFT[:HARD]"))?;
    if !ULIMITS.contains(&name) {
        return Err(bad("unknown ulimit type"));
    }
    let num = |v: &str| v.parse::<i64>().map_err(|_| bad("limits must be integers"));
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (num(s)?, num(h)?),
        None => {
            let v = num(limits)?;
            (v, v)
        }
    };
    let unlimited = |v: i64| v == -1;
    if soft < -1 || hard < -1 {
        return Err(bad("limits must be -1 (unlimited) or positive"));
    }
    if !unlimited(hard) && (unlimited(soft) || soft > hard) {
        return Err(bad("the soft limit must not exceed the hard limit"));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// `/dev/x[:/dev/y][:rwm]` (Docker's order and defaults).
pub fn device(s: &str) -> Result<DeviceMapping, OptionError> {
    let bad = |why: &str| OptionError::Device {
        value: s.to_string(),
        why: why.to_string(),
    };
    let is_perms = |p: &str| !p.is_empty() && p.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    let parts: Vec<&str> = s.split(':').collect();
    let (src, dst, perms) = match parts.as_slice() {
        [src] => (*src, *src, "rwm"),
        [src, x] if is_perms(x) => (*src, *src, *x),
        [src, dst] => (*src, *dst, "rwm"),
        [src, dst, perms] => (*src, *dst, *perms),
        _ => return Err(bad("expected HOST[:CONTAINER][:PERMISSIONS]")),
    };
    if !src.starts_with('/') || !dst.starts_with('/') {
        return Err(bad("paths must be absolute"));
    }
    if !is_perms(perms) {
        return Err(bad("permissions are a combination of r, w and m"));
    }
    Ok(DeviceMapping {
        path_on_host: src.to_string(),
        path_in_container: dst.to_string(),
        cgroup_permissions: perms.to_string(),
    })
}

/// `key=value` for `--sysctl`: only namespaced sysctls (Docker's list);
/// `net.*` not with the host's network.
pub fn sysctl(s: &str, host_network: bool) -> Result<(String, String), OptionError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| OptionError::Sysctl(s.to_string(), "expected KEY=VALUE"))?;
    let key = k.replace('/', ".");
    const IPC: &[&str] = &[
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    let allowed = if IPC.contains(&key.as_str()) || key.starts_with("fs.mqueue.") {
        true
    } else if key.starts_with("net.") {
        if host_network {
            return Err(OptionError::Sysctl(
                s.to_string(),
                "net.* sysctls are not allowed with the host's network",
            ));
        }
        true
    } else {
        matches!(key.as_str(), "kernel.domainname" | "kernel.hostname")
    };
    if !allowed {
        return Err(OptionError::Sysctl(
            s.to_string(),
            "not a namespaced sysctl",
        ));
    }
    Ok((key, v.to_string()))
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]`.
pub fn restart(s: &str) -> Result<RestartPolicy, OptionError> {
    let bad = || OptionError::Restart(s.to_string());
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (n, Some(c.parse::<u32>().map_err(|_| bad())?)),
        None => (s, None),
    };
    match (name, count) {
        ("no" | "always" | "unless-stopped", None) => {}
        ("on-failure", _) => {}
        _ => return Err(bad()),
    }
    Ok(RestartPolicy {
        name: name.to_string(),
        maximum_retry_count: count.unwrap_or(0),
    })
}

/// `host:ip` or `host=ip` (`--add-host`); `host-gateway` is kept for the
/// network side to replace.
pub fn add_host(s: &str) -> Result<String, OptionError> {
    let bad = || OptionError::AddHost(s.to_string());
    let (host, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || (ip != "host-gateway" && ip.parse::<IpAddr>().is_err()) {
        return Err(bad());
    }
    Ok(format!("{host}:{ip}"))
}

/// `--dns` servers are IP addresses.
pub fn dns(s: &str) -> Result<String, OptionError> {
    s.parse::<IpAddr>()
        .map(|_| s.to_string())
        .map_err(|_| OptionError::Dns(s.to_string()))
}

/// A signal by name (`SIGTERM`, `TERM`, `SIGRTMIN+3`) or number.
pub fn signal(s: &str) -> Result<i32, OptionError> {
    let bad = || OptionError::Signal(s.to_string());
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(rest) = name.strip_prefix("RTMIN") {
        // Digits only after '+': "RTMIN+-5" and "RTMIN++5" are not offsets.
        let off = match rest.strip_prefix('+') {
            None if rest.is_empty() => 0,
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                n.parse::<i32>().map_err(|_| bad())?
            }
            _ => return Err(bad()),
        };
        return libc::SIGRTMIN()
            .checked_add(off)
            .filter(|n| *n <= libc::SIGRTMAX())
            .ok_or_else(bad);
    }
    format!("SIG{name}")
        .parse::<nix::sys::signal::Signal>()
        .map(|sig| sig as i32)
        .map_err(|_| bad())
}

/// `key=value` (`--label`, `--log-opt`); a bare key has an empty value.
pub fn key_value(s: &str) -> (String, String) {
    match s.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (s.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        let ok = |s, v| assert_eq!(size("memory", s).unwrap(), v, "{s}");
        ok("512", 512);
        ok("64k", 65536);
        ok("64K", 65536);
        ok("100m", 100 << 20);
        ok("100MB", 100 << 20);
        ok("100MiB", 100 << 20);
        ok("1.5g", 3 << 29);
        ok("1 g", 1 << 30);
        ok("2t", 2 << 40);
        for bad in ["12x", "", "m", "1.m", "-1m", "1mm", "1e3", "1.2.3k"] {
            let err = size("memory", bad).unwrap_err().to_string();
            assert_eq!(err, format!("invalid memory size {bad:?}"));
        }
    }

    #[test]
    fn memory_and_swap_follow_docker() {
        assert_eq!(memory(None, None).unwrap(), (0, 0));
        assert_eq!(memory(Some("64m"), None).unwrap(), (64 << 20, 128 << 20));
        assert_eq!(memory(Some("64m"), Some("-1")).unwrap(), (64 << 20, -1));
        assert_eq!(
            memory(Some("64m"), Some("100m")).unwrap(),
            (64 << 20, 100 << 20)
        );
        assert_eq!(
            memory(Some("64m"), Some("64m")).unwrap(),
            (64 << 20, 64 << 20)
        );
        let e = |m, s| memory(m, s).unwrap_err().to_string();
        assert!(e(Some("1m"), None).contains("Minimum memory limit allowed is 6MB"));
        assert!(e(None, Some("1g")).contains("set the memory limit"));
        assert!(e(Some("64m"), Some("32m")).contains("larger than memory"));
        assert_eq!(
            e(Some("64m"), Some("1q")),
            "invalid memory-swap size \"1q\""
        );
    }

    /// Found by fuzz/run_options: twice a memory limit above 4 EiB
    /// overflowed (a panic with debug assertions, a negative swap without).
    #[test]
    fn default_swap_of_a_huge_memory_limit_saturates() {
        assert_eq!(memory(Some("5000p"), None).unwrap(), (5000 << 50, i64::MAX));
        assert_eq!(
            memory(Some("4894725449591879792"), None).unwrap().1,
            i64::MAX
        );
    }

    #[test]
    fn cpus_and_cpusets() {
        assert_eq!(cpus("1.5").unwrap(), 1_500_000_000);
        assert_eq!(cpus("0.01").unwrap(), 10_000_000);
        assert_eq!(cpus("0").unwrap(), 0);
        for bad in ["x", "-1", "0.001", "NaN"] {
            assert!(cpus(bad)
                .unwrap_err()
                .to_string()
                .contains(&format!("{bad:?}")));
        }
        assert_eq!(cpuset("0-3,5").unwrap(), "0-3,5");
        for bad in ["", "a", "3-1", "1,", "1-"] {
            assert!(cpuset(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ulimits() {
        let u = ulimit("nofile=1024:2048").unwrap();
        assert_eq!((u.name.as_str(), u.soft, u.hard), ("nofile", 1024, 2048));
        let u = ulimit("nproc=100").unwrap();
        assert_eq!((u.soft, u.hard), (100, 100));
        assert_eq!(ulimit("core=-1").unwrap().hard, -1);
        assert_eq!(ulimit("core=10:-1").unwrap().soft, 10);
        for bad in [
            "nofile=a",
            "nofile",
            "nofiles=1",
            "nofile=10:5",
            "nofile=-1:5",
            "nofile=-2",
        ] {
            let err = ulimit(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("bad ulimit {bad:?}: ")), "{err}");
        }
    }

    #[test]
    fn devices() {
        let d = device("/dev/fuse").unwrap();
        assert_eq!(
            (
                d.path_on_host.as_str(),
                d.path_in_container.as_str(),
                d.cgroup_permissions.as_str()
            ),
            ("/dev/fuse", "/dev/fuse", "rwm")
        );
        let d = device("/dev/sda:/dev/xvda:r").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/xvda", "r")
        );
        assert_eq!(device("/dev/null:rw").unwrap().cgroup_permissions, "rw");
        assert_eq!(
            device("/dev/null:/dev/n2").unwrap().path_in_container,
            "/dev/n2"
        );
        for bad in ["dev/x", "/dev/x:/y:q", "/a:/b:r:w", "/a:b"] {
            let err = device(bad).unwrap_err().to_string();
            assert!(err.starts_with(&format!("bad device {bad:?}: ")), "{err}");
        }
    }

    #[test]
    fn sysctls_restart_hosts_dns_signals() {
        assert_eq!(
            sysctl("net.ipv4.ip_forward=1", false).unwrap().0,
            "net.ipv4.ip_forward"
        );
        assert_eq!(sysctl("kernel/shmmax=1", false).unwrap().0, "kernel.shmmax");
        assert!(sysctl("net.ipv4.ip_forward=1", true).is_err());
        assert!(sysctl("vm.swappiness=1", false)
            .unwrap_err()
            .to_string()
            .contains("vm.swappiness"));
        assert!(sysctl("kernel.shmmax", false).is_err());
        assert_eq!(restart("on-failure:3").unwrap().maximum_retry_count, 3);
        assert_eq!(restart("always").unwrap().name, "always");
        for bad in ["sometimes", "always:3", "on-failure:x"] {
            assert!(restart(bad).unwrap_err().to_string().contains(bad));
        }
        assert_eq!(add_host("db:10.0.0.2").unwrap(), "db:10.0.0.2");
        assert_eq!(add_host("db=::1").unwrap(), "db:::1");
        assert_eq!(add_host("gw:host-gateway").unwrap(), "gw:host-gateway");
        assert!(add_host("db:999.1.1.1")
            .unwrap_err()
            .to_string()
            .contains("db:999.1.1.1"));
        assert!(dns("8.8.8.8").is_ok() && dns("x").is_err());
        assert_eq!(signal("SIGTERM").unwrap(), 15);
        assert_eq!(signal("kill").unwrap(), 9);
        assert_eq!(signal("2").unwrap(), 2);
        assert_eq!(signal("SIGRTMIN+3").unwrap(), libc::SIGRTMIN() + 3);
        for bad in ["SIGFOO", "0", "65", "RTMIN+99"] {
            assert!(signal(bad).unwrap_err().to_string().contains(bad));
        }
    }

    /// Found by fuzz/run_options: a negative offset gave a negative
    /// "signal", a huge one overflowed (a panic with debug assertions).
    #[test]
    fn realtime_signal_offsets_are_bounded() {
        assert_eq!(signal("RTMIN").unwrap(), libc::SIGRTMIN());
        assert_eq!(signal("SIGRTMIN+0").unwrap(), libc::SIGRTMIN());
        let top = libc::SIGRTMAX() - libc::SIGRTMIN();
        assert_eq!(signal(&format!("RTMIN+{top}")).unwrap(), libc::SIGRTMAX());
        for bad in [
            "RTMIN+-6602",
            "RTMIN+-1",
            "RTMIN++1",
            "RTMIN+",
            "RTMIN+2147483647",
            "RTMINX",
        ] {
            assert!(signal(bad).unwrap_err().to_string().contains(bad), "{bad}");
        }
    }
}
