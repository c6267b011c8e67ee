//! `-v` and `--mount` values (`yurta_engine::volume::parse`).
//!
//! Invariants: no panic; an accepted mount has an absolute target other
//! than `/`; a bind's source is absolute; a named volume's name is valid;
//! a `--mount` value serialized as Docker's `HostConfig.Mounts` JSON and
//! read back gives the same request.

#![no_main]

use libfuzzer_sys::fuzz_target;
use yurta_engine::record::MountSpec;
use yurta_engine::volume::parse::{from_mount_spec, mount_flag, volume_flag};
use yurta_engine::volume::{MountRequest, Source};

fn check(spec: &str, m: &MountRequest) {
    assert!(m.target.starts_with('/'), "{spec:?}: target {:?}", m.target);
    assert!(
        !m.target.trim_end_matches('/').is_empty(),
        "{spec:?}: target is /"
    );
    match &m.source {
        Source::Host(p) => assert!(p.starts_with('/'), "{spec:?}: bind source {p:?}"),
        Source::Named(n) => assert!(
            yurta_engine::ids::validate_volume_name(n),
            "{spec:?}: volume name {n:?}"
        ),
        Source::Anonymous | Source::Tmpfs => {}
    }
    if let Some(mode) = m.tmpfs_mode {
        assert!(mode <= 0o7777, "{spec:?}: tmpfs mode {mode:o}");
    }
    if let Some(size) = m.tmpfs_size {
        assert!(size >= 0, "{spec:?}: tmpfs size {size}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = volume_flag(s) {
        check(s, &m);
    }
    if let Ok(spec) = mount_flag(s) {
        let m = from_mount_spec(&spec);
        check(s, &m);
        let json = serde_json::to_string(&spec).expect("a mount serializes");
        let back: MountSpec = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{s:?}: {json} does not read back: {e}"));
        assert_eq!(from_mount_spec(&back), m, "{s:?}: {json}");
    }
});
