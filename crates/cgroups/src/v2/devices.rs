//! Device access on cgroup v2 is enforced with a BPF_PROG_TYPE_CGROUP_DEVICE program.
//! Not implemented yet: rules beyond the OCI default (deny all, then allow the standard character
//! devices /dev/null, zero, full, random, urandom, tty, console, ptmx and pts) produce a warning.

use std::path::Path;

use oci_spec::runtime::LinuxDeviceCgroup;

use crate::convert::device_rule;
use crate::CgroupError;

pub(super) fn apply(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<(), CgroupError> {
    let mut beyond_default = false;
    for rule in rules {
        if let Some((allow, text)) = device_rule(rule)? {
            beyond_default |= !is_default_rule(allow, &text);
        }
    }
    if beyond_default {
        eprintln!(
            "yurta: warning: device rules for {} not enforced: cgroup v2 device eBPF filter not implemented",
            dir.display()
        );
    }
    Ok(())
}

/// The rules every runtime's default configuration carries.
const DEFAULT_ALLOWED: &[&str] = &[
    "c 1:3 ", "c 1:5 ", "c 1:7 ", "c 1:8 ", "c 1:9 ", "c 5:0 ", "c 5:1 ", "c 5:2 ", "c 136:* ",
    "c *:* m", "b *:* m",
];

fn is_default_rule(allow: bool, text: &str) -> bool {
    if !allow {
        return text.starts_with("a ");
    }
    DEFAULT_ALLOWED.iter().any(|d| text.starts_with(d))
}

#[cfg(test)]
mod tests {
    use super::is_default_rule;

    #[test]
    fn default_rules() {
        assert!(is_default_rule(false, "a *:* rwm"));
        assert!(is_default_rule(true, "c 1:3 rwm"));
        assert!(is_default_rule(true, "c 136:* rwm"));
        assert!(is_default_rule(true, "c *:* m"));
        assert!(!is_default_rule(true, "a *:* rwm"));
        assert!(!is_default_rule(true, "b 8:0 rw"));
        assert!(!is_default_rule(false, "c 1:3 rwm"));
    }
}
