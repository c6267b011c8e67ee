//! Resolving paths inside the root filesystem without escaping it.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Joins `unsafe_path` onto `root`, following symlinks as if `root` were
/// `/`: an absolute link restarts at `root`, `..` never climbs above it.
/// The result is always inside `root` (missing components are kept as they are).
pub fn secure_join(root: &Path, unsafe_path: &Path) -> Result<PathBuf> {
    let mut resolved = PathBuf::new(); // relative to root
    let mut pending: Vec<PathBuf> = vec![unsafe_path.to_path_buf()];
    let mut links = 0;
    while let Some(path) = pending.pop() {
        let mut comps: Vec<Component> = path.components().collect();
        comps.reverse();
        while let Some(comp) = comps.pop() {
            match comp {
                Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                }
                Component::Normal(name) => {
                    let candidate = resolved.join(name);
                    let full = root.join(&candidate);
                    match std::fs::symlink_metadata(&full) {
                        Ok(meta) if meta.file_type().is_symlink() => {
                            links += 1;
                            if links > 255 {
                                return Err(Error::Setup(format!(
                                    "too many symlinks resolving {} in {}",
                                    unsafe_path.display(),
                                    root.display()
                                )));
                            }
                            let target =
                                std::fs::read_link(&full).map_err(|e| Error::read(&full, e))?;
                            if target.is_absolute() {
                                resolved = PathBuf::new();
                            }
                            // Resolve the link target, then whatever was left of this path.
                            let rest: PathBuf = comps.iter().rev().collect();
                            comps.clear();
                            if !rest.as_os_str().is_empty() {
                                pending.push(rest);
                            }
                            pending.push(target);
                        }
                        _ => resolved = candidate,
                    }
                }
            }
        }
    }
    Ok(root.join(resolved))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_cannot_escape_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("../../../../etc/passwd", root.join("etc/rel")).unwrap();
        symlink("loop2", root.join("loop1")).unwrap();
        symlink("loop1", root.join("loop2")).unwrap();
        assert_eq!(
            secure_join(root, Path::new("/abs/x")).unwrap(),
            root.join("etc/x")
        );
        assert_eq!(
            secure_join(root, Path::new("/etc/rel")).unwrap(),
            root.join("etc/passwd")
        );
        assert_eq!(
            secure_join(root, Path::new("../../x/./y")).unwrap(),
            root.join("x/y")
        );
        assert_eq!(
            secure_join(root, Path::new("/new/dir")).unwrap(),
            root.join("new/dir")
        );
        assert!(secure_join(root, Path::new("/loop1")).is_err());
    }
}
