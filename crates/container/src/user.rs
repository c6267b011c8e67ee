//! User identity: id maps of a new user namespace and the process's uid,
//! gids and umask.

use std::path::Path;

use oci_spec::runtime::{LinuxIdMapping, User};

use crate::error::{Error, Result};

/// Formats id mappings the way /proc/PID/uid_map wants them.
pub fn format_id_map(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Writes uid_map and gid_map of `pid` (called by the parent, in the host's user namespace).
pub fn write_id_maps(pid: i32, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<()> {
    let write = |file: &str, data: &str| {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, data).map_err(|e| Error::write(path, e))
    };
    if gids.is_empty() || uids.is_empty() {
        return Err(Error::InvalidConfig(
            "a new user namespace needs linux.uidMappings and linux.gidMappings".into(),
        ));
    }
    // SAFETY: getuid cannot fail.
    if unsafe { libc::getuid() } != 0 {
        write("setgroups", "deny")?;
    }
    write("uid_map", &format_id_map(uids))?;
    write("gid_map", &format_id_map(gids))
}

/// Refuses a gid listed twice in `additionalGids` (setgroups would take it,
/// but it is a mistake in the config), naming it.
pub fn check_additional_gids(user: &User) -> Result<()> {
    let gids = user.additional_gids().as_deref().unwrap_or(&[]);
    for (i, gid) in gids.iter().enumerate() {
        if gids[..i].contains(gid) {
            return Err(Error::InvalidConfig(format!(
                "process.user.additionalGids lists gid {gid} twice"
            )));
        }
    }
    Ok(())
}

/// Switches to the configured user: groups, gid, uid (keeping capabilities
/// so the caller can set them afterwards), and umask.
pub fn switch(user: &User) -> Result<()> {
    let gid = user.gid();
    let uid = user.uid();
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // SAFETY: `groups` is a valid slice of gid_t of the given length.
    let rc = unsafe { libc::setgroups(groups.len(), groups.as_ptr()) };
    if rc < 0 {
        let err = nix::Error::last();
        // In a user namespace with setgroups denied, an empty list is fine to skip.
        if !(err == nix::Error::EPERM && groups.is_empty()) {
            return Err(Error::sys(format!("setgroups {groups:?}"), err));
        }
    }
    // SAFETY: plain syscall with integer arguments.
    if unsafe { libc::setresgid(gid, gid, gid) } < 0 {
        return Err(Error::sys(format!("setresgid {gid}"), nix::Error::last()));
    }
    crate::capabilities::keep_caps(true)?;
    // SAFETY: plain syscall with integer arguments.
    if unsafe { libc::setresuid(uid, uid, uid) } < 0 {
        return Err(Error::sys(format!("setresuid {uid}"), nix::Error::last()));
    }
    crate::capabilities::keep_caps(false)?;
    // The spec's umask, else 0022 as runc gives (init ran with 0 to make
    // devices and mount points with exact modes).
    let mask = user.umask().unwrap_or(DEFAULT_UMASK);
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask as libc::mode_t) };
    Ok(())
}

/// The process's umask when the spec gives none (runc's).
pub const DEFAULT_UMASK: u32 = 0o022;

/// The home directory of `uid` from the container's /etc/passwd, or "/".
pub fn home_of(uid: u32, passwd: &Path) -> String {
    std::fs::read_to_string(passwd)
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                (f.len() >= 6 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_string())
            })
        })
        .unwrap_or_else(|| "/".to_string())
}

/// Parses `UID[:GID]` as given to `exec --user`.
pub fn parse_user(spec: &str) -> Result<(u32, Option<u32>)> {
    let bad = || Error::InvalidConfig(format!("user {spec:?} is not UID[:GID] (numbers)"));
    let mut parts = spec.splitn(2, ':');
    let uid = parts.next().unwrap_or("").parse().map_err(|_| bad())?;
    let gid = match parts.next() {
        Some(g) => Some(g.parse().map_err(|_| bad())?),
        None => None,
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxIdMappingBuilder;

    #[test]
    fn id_maps_are_formatted_one_per_line() {
        let maps = vec![
            LinuxIdMappingBuilder::default()
                .container_id(0u32)
                .host_id(100000u32)
                .size(65536u32)
                .build()
                .unwrap(),
            LinuxIdMappingBuilder::default()
                .container_id(65536u32)
                .host_id(5u32)
                .size(1u32)
                .build()
                .unwrap(),
        ];
        assert_eq!(format_id_map(&maps), "0 100000 65536\n65536 5 1\n");
    }

    #[test]
    fn home_comes_from_passwd() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            tmp.path(),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n",
        )
        .unwrap();
        assert_eq!(home_of(33, tmp.path()), "/var/www");
        assert_eq!(home_of(7, tmp.path()), "/");
        assert_eq!(home_of(0, Path::new("/nonexistent/passwd")), "/");
    }

    #[test]
    fn duplicate_additional_gids_are_named() {
        let mut user = User::default();
        user.set_additional_gids(Some(vec![10, 20, 30]));
        check_additional_gids(&user).unwrap();
        user.set_additional_gids(Some(vec![10, 20, 10]));
        let err = check_additional_gids(&user).unwrap_err().to_string();
        assert!(err.contains("gid 10 twice"), "{err}");
    }

    #[test]
    fn exec_user_spec() {
        assert_eq!(parse_user("1000").unwrap(), (1000, None));
        assert_eq!(parse_user("1000:50").unwrap(), (1000, Some(50)));
        assert!(parse_user("bob").is_err());
        assert!(parse_user("1:x").is_err());
    }
}
