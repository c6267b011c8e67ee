//! Small file helpers shared by the v1 and v2 implementations. Cgroup files must be written with a
//! single write(2) and must never be created, so a missing file shows up as ENOENT naming it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

use crate::CgroupError;

/// Writes `value` to an existing cgroup file in one write(2).
pub(crate) fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    let err = |source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(err)?;
    let written = file.write(value.as_bytes()).map_err(err)?;
    if written != value.len() {
        return Err(err(io::Error::new(io::ErrorKind::WriteZero, "short write")));
    }
    Ok(())
}

/// Writes `value` to `dir/name`.
pub(crate) fn write_in(dir: &Path, name: &str, value: &str) -> Result<(), CgroupError> {
    write_file(&dir.join(name), value)
}

pub(crate) fn read_string(path: &Path) -> Result<String, CgroupError> {
    fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a single-number file; "max" (v2) reads as `u64::MAX`, "-1" (v1) too.
pub(crate) fn parse_u64(path: &Path, text: &str) -> Result<u64, CgroupError> {
    let t = text.trim();
    match t {
        "max" | "-1" => Ok(u64::MAX),
        _ => t.parse().map_err(|_| CgroupError::Parse {
            path: path.to_path_buf(),
            value: t.to_string(),
        }),
    }
}

pub(crate) fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    parse_u64(path, &read_string(path)?)
}

/// Like `read_u64` but a missing file reads as 0 (optional statistics).
pub(crate) fn read_u64_opt(path: &Path) -> Result<u64, CgroupError> {
    if path.exists() {
        read_u64(path)
    } else {
        Ok(0)
    }
}

/// Looks up `key` in a flat-keyed file ("key value" per line, e.g. memory.stat, memory.events).
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut it = line.split_whitespace();
        (it.next()? == key).then(|| it.next()?.parse().ok())?
    })
}

/// Creates `leaf` and any missing ancestors below `root`, calling `init` on each directory it
/// created (top-down, so a parent is initialised before its child). Returns the created ones.
pub(crate) fn create_dirs(
    root: &Path,
    leaf: &Path,
    mut init: impl FnMut(&Path) -> Result<(), CgroupError>,
) -> Result<Vec<PathBuf>, CgroupError> {
    let mut created = Vec::new();
    let rel = leaf.strip_prefix(root).unwrap_or(Path::new(""));
    let mut dir = root.to_path_buf();
    for comp in rel.components() {
        dir.push(comp);
        match fs::create_dir(&dir) {
            Ok(()) => created.push(dir.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(CgroupError::Mkdir { path: dir, source }),
        }
        init(&dir)?;
    }
    Ok(created)
}

/// Removes a cgroup directory and any child cgroups, retrying briefly on EBUSY (tasks that are
/// still exiting). A missing directory is not an error.
pub(crate) fn remove_cgroup_dir(dir: &Path) -> Result<(), CgroupError> {
    let children = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CgroupError::Remove {
                path: dir.into(),
                source,
            })
        }
    };
    for entry in children.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_cgroup_dir(&entry.path())?;
        }
    }
    let mut delay = Duration::from_millis(5);
    for attempt in 0.. {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < 7 => {
                sleep(delay);
                delay *= 2;
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: dir.into(),
                    source,
                })
            }
        }
    }
    Ok(())
}

/// Removes directories this manager created above the leaf, deepest first, stopping silently at
/// the first one that is still in use (another container's cgroup lives there).
pub(crate) fn remove_created_parents(created: &[PathBuf], leaf: &Path) {
    for dir in created.iter().rev().filter(|d| d.as_path() != leaf) {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// All pids listed in `cgroup.procs` of `dir` and its descendants.
pub(crate) fn procs_recursive(dir: &Path, out: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    let text = match fs::read_to_string(&procs) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !dir.exists() => return Ok(()),
        Err(source) => {
            return Err(CgroupError::Read {
                path: procs,
                source,
            })
        }
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let pid = line.trim().parse().map_err(|_| CgroupError::Parse {
            path: procs.clone(),
            value: line.to_string(),
        })?;
        out.push(pid);
    }
    if let Ok(rd) = fs::read_dir(dir) {
        for entry in rd.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                procs_recursive(&entry.path(), out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_values() {
        let text = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed_value(text, "oom_kill"), Some(3));
        assert_eq!(keyed_value(text, "oom"), None);
    }

    #[test]
    fn write_missing_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_in(dir.path(), "memory.memsw.limit_in_bytes", "5").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("memory.memsw.limit_in_bytes"), "{msg}");
        assert!(msg.contains("\"5\""), "{msg}");
    }

    #[test]
    fn create_and_remove_dirs() {
        let root = tempfile::tempdir().unwrap();
        let leaf = root.path().join("a/b/c");
        fs::create_dir(root.path().join("a")).unwrap();
        let mut seen = Vec::new();
        let created = create_dirs(root.path(), &leaf, |d| {
            seen.push(d.to_path_buf());
            Ok(())
        })
        .unwrap();
        assert_eq!(created, vec![root.path().join("a/b"), leaf.clone()]);
        assert_eq!(seen, created);
        remove_cgroup_dir(&leaf).unwrap();
        remove_created_parents(&created, &leaf);
        assert!(!root.path().join("a/b").exists());
        assert!(root.path().join("a").exists());
        remove_cgroup_dir(&leaf).unwrap();
    }
}
