//! File primitives the stores share: flock(2) locks, atomic JSON writes
//! (write, fsync, rename), and resolving a path inside a root filesystem
//! without leaving it through symlinks.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

/// Errors of this module; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("parsing {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: too many levels of symbolic links inside the root filesystem", path.display())]
    Loop { path: PathBuf },
}

impl FsError {
    pub fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FsError + 'a {
        move |source| FsError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A held flock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    _lock: Flock<File>,
}

/// Takes an exclusive (or shared) flock on `path`, creating the file;
/// blocks until granted.
pub fn lock(path: &Path, exclusive: bool) -> Result<Lock, FsError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(FsError::io("open lock file", path))?;
    let arg = if exclusive {
        FlockArg::LockExclusive
    } else {
        FlockArg::LockShared
    };
    let lock = Flock::lock(file, arg).map_err(|(_, errno)| FsError::Io {
        what: "lock",
        path: path.to_path_buf(),
        source: io::Error::from(errno),
    })?;
    Ok(Lock { _lock: lock })
}

/// Writes `value` as pretty JSON to `path` atomically: a temporary file
/// next to it, fsync, rename.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), FsError> {
    let data = serde_json::to_vec_pretty(value).map_err(|e| FsError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, &data)
}

/// Writes bytes to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), FsError> {
    write_via_rename(path, data, true)
}

/// Replaces `path` atomically (temporary file, rename) without fsync: for
/// files rebuilt from the record each time a container starts (the
/// bundle's config.json, hostname, hosts, resolv.conf). A reader never
/// sees half a file; a crash may lose the new content, and the next start
/// writes it again. An fsync costs from a fraction of a millisecond to
/// several on a busy disk (it waits for the journal commit).
pub fn replace(path: &Path, data: &[u8]) -> Result<(), FsError> {
    write_via_rename(path, data, false)
}

/// [`replace`] with `value` as pretty JSON.
pub fn replace_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), FsError> {
    let data = serde_json::to_vec_pretty(value).map_err(|e| FsError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    replace(path, &data)
}

fn write_via_rename(path: &Path, data: &[u8], durable: bool) -> Result<(), FsError> {
    use yurta_sysutil::Durability;
    let durability = if durable {
        Durability::Synced
    } else {
        Durability::Unsynced
    };
    yurta_sysutil::replace_file(path, data, 0o644, durability).map_err(FsError::io("write", path))
}

/// Reads and parses a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FsError> {
    let data = fs::read(path).map_err(FsError::io("read", path))?;
    serde_json::from_slice(&data).map_err(|e| FsError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Resolves `path` (absolute, as seen inside the container) under `root`,
/// following symlinks as the container would see them: absolute targets
/// and `..` never climb above `root`. Missing components are appended as
/// they are. The result is a host path under `root`.
pub fn scoped_join(root: &Path, path: &Path) -> Result<PathBuf, FsError> {
    let mut pending: Vec<PathBuf> = vec![path.to_path_buf()];
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    let mut hops = 0;
    while let Some(p) = pending.pop() {
        let mut comps: Vec<Component> = p.components().collect();
        comps.reverse();
        while let Some(c) = comps.pop() {
            match c {
                Component::RootDir => out.clear(),
                Component::CurDir | Component::Prefix(_) => {}
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(name) => {
                    let mut host = root.to_path_buf();
                    host.extend(&out);
                    host.push(name);
                    match fs::symlink_metadata(&host) {
                        Ok(m) if m.file_type().is_symlink() => {
                            hops += 1;
                            if hops > 40 {
                                return Err(FsError::Loop {
                                    path: path.to_path_buf(),
                                });
                            }
                            let target =
                                fs::read_link(&host).map_err(FsError::io("readlink", &host))?;
                            let rest: PathBuf = comps.iter().rev().collect();
                            pending.push(rest);
                            pending.push(target);
                            break;
                        }
                        _ => out.push(name.to_os_string()),
                    }
                }
            }
        }
    }
    let mut host = root.to_path_buf();
    host.extend(&out);
    Ok(host)
}

/// Bytes in the files under `path` on its file system, each inode once,
/// as Docker counts a container's layer and a volume: the files' apparent
/// sizes, directories not counted.
pub fn apparent_size(path: &Path) -> u64 {
    let Ok(top) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut todo = vec![path.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(m) = e.metadata() else { continue };
            if m.dev() != top.dev() {
                continue;
            }
            if m.is_dir() {
                todo.push(e.path());
            } else if seen.insert(m.ino()) {
                total += m.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn scoped_join_stays_inside() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("usr/lib")).unwrap();
        symlink("/usr/lib", r.join("lib")).unwrap();
        symlink("../../../../etc", r.join("usr/evil")).unwrap();
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();
        let j = |p: &str| scoped_join(r, Path::new(p)).unwrap();
        assert_eq!(j("/lib/x"), r.join("usr/lib/x"));
        assert_eq!(j("/usr/evil/passwd"), r.join("etc/passwd"));
        assert_eq!(j("/../../x"), r.join("x"));
        assert_eq!(j("/a/./b/../c"), r.join("a/c"));
        let err = scoped_join(r, Path::new("/loop1/x")).unwrap_err();
        assert!(err.to_string().contains("/loop1/x"), "{err}");
    }

    #[test]
    fn json_round_trip_is_atomic() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_json(&p, &serde_json::json!({"a": 1})).unwrap();
        let v: serde_json::Value = read_json(&p).unwrap();
        assert_eq!(v["a"], 1);
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
        replace_json(&p, &serde_json::json!({"a": 2})).unwrap();
        let v: serde_json::Value = read_json(&p).unwrap();
        assert_eq!(v["a"], 2);
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
        let _l = lock(&d.path().join("l"), true).unwrap();
    }

    #[test]
    fn apparent_size_counts_files_once_and_not_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/f"), [0u8; 1000]).unwrap();
        fs::write(dir.path().join("g"), [0u8; 10]).unwrap();
        fs::hard_link(dir.path().join("g"), dir.path().join("a/g2")).unwrap();
        assert_eq!(apparent_size(dir.path()), 1010);
        assert_eq!(apparent_size(&dir.path().join("missing")), 0);
    }
}
