//! One directory per VM under a root, made atomically so that two commands
//! creating the same name cannot both win. What goes inside (config,
//! sockets, disks, logs) is the caller's.

use std::io;
use std::path::{Path, PathBuf};

use crate::config::{validate_name, ConfigError};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("VM {0:?} already exists")]
    Duplicate(String),
    #[error("no such VM {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Name(#[from] ConfigError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Makes `root/NAME`; fails naming the VM if it is already there.
pub fn create_vm_dir(root: &Path, name: &str) -> Result<PathBuf, StateError> {
    validate_name(name)?;
    std::fs::create_dir_all(root).map_err(io_err(root))?;
    let dir = root.join(name);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(StateError::Duplicate(name.to_string()))
        }
        Err(e) => Err(io_err(&dir)(e)),
    }
}

/// `root/NAME` of an existing VM.
pub fn vm_dir(root: &Path, name: &str) -> Result<PathBuf, StateError> {
    validate_name(name)?;
    let dir = root.join(name);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(StateError::NotFound(name.to_string()))
    }
}

/// Removes `root/NAME` and everything in it.
pub fn remove_vm_dir(root: &Path, name: &str) -> Result<(), StateError> {
    let dir = vm_dir(root, name)?;
    std::fs::remove_dir_all(&dir).map_err(io_err(&dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dir_per_name() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path().join("vms");
        let d = create_vm_dir(&r, "web").unwrap();
        assert!(d.is_dir());
        let e = create_vm_dir(&r, "web").unwrap_err();
        assert_eq!(e.to_string(), "VM \"web\" already exists");
        assert!(create_vm_dir(&r, "../x")
            .unwrap_err()
            .to_string()
            .starts_with("bad VM name"));
        assert_eq!(vm_dir(&r, "web").unwrap(), d);
        remove_vm_dir(&r, "web").unwrap();
        assert_eq!(
            vm_dir(&r, "web").unwrap_err().to_string(),
            "no such VM \"web\""
        );
    }
}
