//! Device access on cgroup v2 is enforced by a BPF_PROG_TYPE_CGROUP_DEVICE program (`bpf.rs`).

use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use super::bpf::{install, rule_from_text};
use crate::convert::device_rule;
use crate::CgroupError;

/// Compiles `rules` (deny all first, as on v1) and attaches them to the cgroup at `dir`.
pub(super) fn apply(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
    let mut compiled = vec![rule_from_text(false, "a *:* rwm")];
    for rule in rules {
        if let Some((allow, text)) = device_rule(rule)? {
            compiled.push(rule_from_text(allow, &text));
        }
    }
    install(dir, &compiled)
}
