//! Capability sets: Docker's default set, names in any spelling
//! (`net_admin`, `CAP_NET_ADMIN`, `ALL`), and `--cap-add`/`--cap-drop`/
//! `--privileged` applied the way Docker does.

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum CapError {
    #[error("unknown capability: {0:?}")]
    Unknown(String),
}

/// Docker's default capabilities (bounding = effective = permitted);
/// as a mask, 0xa80425fb.
pub const DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability, in number order (CAP_CHOWN is 0): the runtime's table.
pub const ALL: &[&str] = yurta_container::capabilities::NAMES;

/// `CAP_NAME` for `name` in any case, with or without the prefix; `ALL`
/// stays `ALL`.
pub fn normalize(name: &str) -> Result<String, CapError> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("ALL") {
        return Ok("ALL".to_string());
    }
    yurta_container::capabilities::number(name)
        .map(|n| ALL[n as usize].to_string())
        .ok_or_else(|| CapError::Unknown(name.to_string()))
}

/// Checks every name of a `--cap-add`/`--cap-drop` list.
pub fn validate(names: &[String]) -> Result<(), CapError> {
    names.iter().try_for_each(|n| normalize(n).map(drop))
}

/// The capabilities a container gets (Docker's `TweakCapabilities`):
/// privileged → all; `--cap-add ALL` → all but the dropped; `--cap-drop
/// ALL` → only the added; otherwise the defaults plus the added minus the
/// dropped (an added capability wins over the same dropped one). Sorted
/// by capability number.
pub fn effective(
    add: &[String],
    drop: &[String],
    privileged: bool,
) -> Result<Vec<String>, CapError> {
    let add: Vec<String> = add.iter().map(|c| normalize(c)).collect::<Result<_, _>>()?;
    let drop: Vec<String> = drop
        .iter()
        .map(|c| normalize(c))
        .collect::<Result<_, _>>()?;
    let has = |list: &[String], c: &str| list.iter().any(|x| x == c);
    let keep = |c: &str| -> bool {
        if privileged {
            true
        } else if has(&add, "ALL") {
            !has(&drop, c)
        } else if has(&drop, "ALL") {
            has(&add, c)
        } else {
            has(&add, c) || DEFAULT.contains(&c) && !has(&drop, c)
        }
    };
    Ok(ALL
        .iter()
        .filter(|c| keep(c))
        .map(|c| c.to_string())
        .collect())
}

/// The bit mask of a capability list (what `/proc/PID/status` shows).
pub fn mask(caps: &[String]) -> u64 {
    caps.iter()
        .filter_map(|c| ALL.iter().position(|a| a == c))
        .fold(0, |m, bit| m | 1 << bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn default_mask_is_dockers() {
        assert_eq!(mask(&effective(&[], &[], false).unwrap()), 0xa80425fb);
        assert_eq!(effective(&[], &[], false).unwrap().len(), DEFAULT.len());
    }

    #[test]
    fn add_drop_all_privileged() {
        let caps = effective(&s(&["net_admin"]), &s(&["CAP_MKNOD", "kill"]), false).unwrap();
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(
            !caps.contains(&"CAP_MKNOD".to_string()) && !caps.contains(&"CAP_KILL".to_string())
        );
        assert_eq!(
            effective(&[], &s(&["ALL"]), false).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            effective(&s(&["chown"]), &s(&["all"]), false).unwrap(),
            ["CAP_CHOWN"]
        );
        let all_but = effective(&s(&["ALL"]), &s(&["SYS_ADMIN"]), false).unwrap();
        assert_eq!(all_but.len(), ALL.len() - 1);
        assert_eq!(effective(&[], &[], true).unwrap().len(), ALL.len());
        assert_eq!(effective(&[], &s(&["ALL"]), true).unwrap().len(), ALL.len());
        assert_eq!(
            effective(&s(&["KILL"]), &s(&["KILL"]), false)
                .unwrap()
                .len(),
            DEFAULT.len()
        );
        let err = effective(&s(&["CAP_FOO"]), &[], false)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "unknown capability: \"CAP_FOO\"");
        assert_eq!(mask(&s(&["CAP_CHECKPOINT_RESTORE"])), 1 << 40);
    }
}
