//! Flag values of `yurta run`/`create` (`yurta_engine::options::parse`):
//! sizes, memory and swap, CPUs, cpusets, ulimits, devices, sysctls,
//! restart policies, extra hosts, DNS servers, signals, labels.
//!
//! The first byte chooses the parser, the rest is the flag's value.
//! Invariants: no panic (overflow included: targets are built with debug
//! assertions); accepted values respect the documented limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use yurta_engine::options::parse;

fn one(which: u8, s: &str) {
    match which % 12 {
        0 => {
            if let Ok(n) = parse::size("memory", s) {
                assert!(n >= 0, "size {s:?} = {n}");
            }
        }
        1 => {
            let (m, w) = s.split_once('|').unwrap_or((s, ""));
            let swap = (!w.is_empty()).then_some(w);
            if let Ok((mem, swap)) = parse::memory(Some(m), swap) {
                assert!(mem == 0 || mem >= parse::MIN_MEMORY, "memory {s:?}");
                assert!(
                    swap == -1 || swap == 0 || swap >= mem,
                    "swap {s:?}: {mem} {swap}"
                );
            }
        }
        2 => {
            if let Ok(n) = parse::cpus(s) {
                assert!(n >= 0, "cpus {s:?} = {n}");
            }
        }
        3 => {
            if let Ok(c) = parse::cpuset(s) {
                assert_eq!(c, s);
            }
        }
        4 => {
            if let Ok(u) = parse::ulimit(s) {
                assert!(parse::ULIMITS.contains(&u.name.as_str()));
                assert!(u.soft >= -1 && u.hard >= -1, "ulimit {s:?}");
                assert!(
                    u.hard == -1 || (u.soft != -1 && u.soft <= u.hard),
                    "ulimit {s:?}"
                );
            }
        }
        5 => {
            if let Ok(d) = parse::device(s) {
                assert!(d.path_on_host.starts_with('/') && d.path_in_container.starts_with('/'));
                assert!(!d.cgroup_permissions.is_empty());
            }
        }
        6 | 7 => {
            if let Ok((k, _)) = parse::sysctl(s, which % 12 == 7) {
                assert!(!k.contains('/'), "sysctl {s:?}");
            }
        }
        8 => {
            if let Ok(r) = parse::restart(s) {
                assert!(["no", "always", "unless-stopped", "on-failure"].contains(&r.name.as_str()));
            }
        }
        9 => {
            let _ = parse::add_host(s);
            let _ = parse::dns(s);
        }
        10 => {
            if let Ok(n) = parse::signal(s) {
                assert!((1..=64).contains(&n), "signal {s:?} = {n}");
            }
        }
        _ => {
            let (k, v) = parse::key_value(s);
            assert!(k.len() + v.len() <= s.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((which, rest)) = data.split_first() else {
        return;
    };
    if let Ok(s) = std::str::from_utf8(rest) {
        one(*which, s);
    }
});
