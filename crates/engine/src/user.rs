//! `-u user[:group]` resolved against the image's `/etc/passwd` and
//! `/etc/group`, as runc's `GetExecUser` does: names must exist, numbers
//! pass through (a uid not in passwd gets gid 0 and home `/`), and the
//! user's supplementary groups come from `/etc/group`.

use std::path::Path;

use crate::fsutil::{self, FsError};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    #[error("invalid user {0:?}")]
    Bad(String),
    #[error(transparent)]
    Fs(#[from] FsError),
}

/// Who the container's process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

impl Default for ResolvedUser {
    fn default() -> ResolvedUser {
        ResolvedUser {
            uid: 0,
            gid: 0,
            additional_gids: Vec::new(),
            home: "/root".to_string(),
        }
    }
}

/// Reads `/etc/passwd` and `/etc/group` of `rootfs` (symlinks resolved
/// inside it; missing files are empty) and resolves `spec`.
pub fn resolve_in_rootfs(rootfs: &Path, spec: &str) -> Result<ResolvedUser, UserError> {
    let read = |p: &str| -> Result<String, UserError> {
        let path = fsutil::scoped_join(rootfs, Path::new(p))?;
        match std::fs::read(&path) {
            Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(FsError::io("read", &path)(e).into()),
        }
    };
    resolve(spec, &read("/etc/passwd")?, &read("/etc/group")?)
}

/// `--group-add`: `groups` (names in the root filesystem's /etc/group, or
/// numbers) added to the user's supplementary groups, each once.
pub fn add_groups_in_rootfs(
    rootfs: &Path,
    user: &mut ResolvedUser,
    groups: &[String],
) -> Result<(), UserError> {
    if groups.is_empty() {
        return Ok(());
    }
    let path = fsutil::scoped_join(rootfs, Path::new("/etc/group"))?;
    let text = match std::fs::read(&path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(FsError::io("read", &path)(e).into()),
    };
    add_groups(user, groups, &text)
}

fn add_groups(user: &mut ResolvedUser, groups: &[String], group: &str) -> Result<(), UserError> {
    for g in groups {
        let gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_entries(group)
                .find(|(name, _, _)| name == g)
                .map(|(_, gid, _)| gid)
                .ok_or_else(|| UserError::NoGroup(g.clone()))?,
        };
        if !user.additional_gids.contains(&gid) {
            user.additional_gids.push(gid);
        }
    }
    Ok(())
}

struct Passwd<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = Passwd<'_>> {
    passwd.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && !l.starts_with('#')).then_some(())?;
        Some(Passwd {
            name: f[0],
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: f[5],
        })
    })
}

fn group_entries(group: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    group.lines().filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && !l.starts_with('#')).then_some(())?;
        let members = f[3].split(',').filter(|m| !m.is_empty()).collect();
        Some((f[0], f[2].parse().ok()?, members))
    })
}

/// Resolves `user[:group]` (empty: root) against the file contents.
pub fn resolve(spec: &str, passwd: &str, group: &str) -> Result<ResolvedUser, UserError> {
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if grp == Some("") {
        return Err(UserError::Bad(spec.to_string()));
    }
    let mut out = ResolvedUser {
        home: "/".to_string(),
        ..Default::default()
    };
    let numeric = user.parse::<u32>().ok();
    let entry = passwd_entries(passwd).find(|p| match numeric {
        Some(uid) => p.uid == uid,
        None => p.name == user,
    });
    let user_name = match (entry, numeric) {
        (Some(p), _) => {
            out.uid = p.uid;
            out.gid = p.gid;
            out.home = p.home.to_string();
            Some(p.name)
        }
        (None, Some(uid)) => {
            out.uid = uid;
            None
        }
        (None, None) if user.is_empty() => {
            out.home = "/root".to_string();
            None
        }
        (None, None) => return Err(UserError::NoUser(user.to_string())),
    };
    if user.is_empty() {
        if let Some(p) = passwd_entries(passwd).find(|p| p.uid == 0) {
            out.gid = p.gid;
            out.home = p.home.to_string();
        }
    }
    match grp {
        Some(g) => {
            out.gid = match g.parse::<u32>() {
                Ok(gid) => gid,
                Err(_) => group_entries(group)
                    .find(|(name, _, _)| *name == g)
                    .map(|(_, gid, _)| gid)
                    .ok_or_else(|| UserError::NoGroup(g.to_string()))?,
            };
        }
        None => {
            if let Some(name) = user_name {
                let mut gids: Vec<u32> = group_entries(group)
                    .filter(|(_, gid, members)| members.contains(&name) && *gid != out.gid)
                    .map(|(_, gid, _)| gid)
                    .collect();
                gids.sort_unstable();
                gids.dedup();
                out.additional_gids = gids;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        app:x:1000:1000:App,,,:/home/app:/bin/sh\n\
        # comment\nbroken line\n";
    const GROUP: &str =
        "root:x:0:\nwheel:x:10:app,root\napp:x:1000:\nstaff:x:50:app\nother:x:60:daemon\n";

    fn r(spec: &str) -> ResolvedUser {
        resolve(spec, PASSWD, GROUP).unwrap()
    }

    #[test]
    fn names_numbers_and_groups() {
        assert_eq!(
            r(""),
            ResolvedUser {
                uid: 0,
                gid: 0,
                additional_gids: vec![],
                home: "/root".into()
            }
        );
        assert_eq!(r("root").additional_gids, vec![10]);
        let app = r("app");
        assert_eq!(
            (app.uid, app.gid, app.home.as_str()),
            (1000, 1000, "/home/app")
        );
        assert_eq!(app.additional_gids, vec![10, 50]);
        assert_eq!(r("1000").additional_gids, vec![10, 50]);
        let n = r("4242");
        assert_eq!((n.uid, n.gid, n.home.as_str()), (4242, 0, "/"));
        assert_eq!((r("4242:4343").uid, r("4242:4343").gid), (4242, 4343));
        let g = r("app:staff");
        assert_eq!((g.uid, g.gid, g.additional_gids.len()), (1000, 50, 0));
        assert_eq!(r("daemon:1").gid, 1);
    }

    #[test]
    fn missing_names_are_errors_naming_them() {
        let e = |s| resolve(s, PASSWD, GROUP).unwrap_err().to_string();
        assert_eq!(
            e("nobody"),
            "unable to find user nobody: no matching entries in passwd file"
        );
        assert_eq!(
            e("app:nogroup"),
            "unable to find group nogroup: no matching entries in group file"
        );
        assert_eq!(e("app:"), "invalid user \"app:\"");
        let empty = resolve("0", "", "").unwrap();
        assert_eq!((empty.uid, empty.gid), (0, 0));
    }

    #[test]
    fn reads_the_rootfs_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/passwd"), PASSWD).unwrap();
        std::fs::write(d.path().join("etc/group"), GROUP).unwrap();
        assert_eq!(resolve_in_rootfs(d.path(), "app").unwrap().uid, 1000);
        let e = tempfile::tempdir().unwrap();
        assert_eq!(resolve_in_rootfs(e.path(), "5:6").unwrap().gid, 6);
    }

    #[test]
    fn group_add_takes_names_and_numbers_once() {
        let mut u = resolve("app", PASSWD, GROUP).unwrap();
        add_groups(
            &mut u,
            &["wheel".into(), "4242".into(), "4242".into()],
            GROUP,
        )
        .unwrap();
        assert_eq!(u.additional_gids, [10, 50, 4242]);
        let e = add_groups(&mut u, &["nosuch".into()], GROUP).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find group nosuch: no matching entries in group file"
        );
    }
}
