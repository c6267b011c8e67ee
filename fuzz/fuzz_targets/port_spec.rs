//! `-p` publish specs (`yurta_network::PortSpec::parse`).
//!
//! Invariants: no panic; an accepted spec has ports in 1..=65535, ranges
//! with start <= end, and equal lengths when both sides are ranges; the
//! spec printed back in Docker's syntax parses to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use yurta_network::ports::PortRange;
use yurta_network::PortSpec;

fn range(r: &PortRange) -> String {
    if r.start == r.end {
        r.start.to_string()
    } else {
        format!("{}-{}", r.start, r.end)
    }
}

fn print(p: &PortSpec) -> String {
    let host = p.host.as_ref().map(range).unwrap_or_default();
    let container = range(&p.container);
    match p.host_ip {
        Some(ip) => format!("{ip}:{host}:{container}/{}", p.protocol),
        None => format!("{host}:{container}/{}", p.protocol),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(p) = PortSpec::parse(s) else {
        return;
    };
    for r in p.host.iter().chain([&p.container]) {
        assert!(r.start >= 1 && r.start <= r.end, "{s:?}: range {r:?}");
        assert_eq!(r.len(), u32::from(r.end - r.start) + 1);
    }
    if let Some(h) = p.host {
        assert!(
            p.container.len() == 1 || h.len() == p.container.len(),
            "{s:?}"
        );
    }
    let printed = print(&p);
    let again = PortSpec::parse(&printed)
        .unwrap_or_else(|e| panic!("{s:?} printed as {printed:?}, which does not parse: {e}"));
    assert_eq!(again, p, "{s:?} printed as {printed:?}");
});
