//! The programs the engine starts, passed in by the front end rather than
//! found through `current_exe()`: called from the Engine API service or a
//! test, the library must start yurta's binaries, not its caller's.

use std::path::{Path, PathBuf};

/// Paths of the binaries a container or VM needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// `yurta` itself: the supervisor's exit command and the hidden helper
    /// roles (`container cleanup`, `cp-helper`, `export-helper`, `vm
    /// __supervise`).
    pub yurta: PathBuf,
    /// The OCI runtime, `yurta-runtime`.
    pub runtime: PathBuf,
    /// The per-container supervisor, `yurta-supervisor`.
    pub supervisor: PathBuf,
    /// The embedded DNS server of user networks, `yurta-dns`.
    pub dns: PathBuf,
}

impl Binaries {
    /// yurta's binaries installed side by side in `dir` (as `cargo build`
    /// and `scripts/install.sh` lay them out).
    pub fn in_dir(dir: &Path) -> Binaries {
        Binaries {
            yurta: dir.join("yurta"),
            runtime: dir.join("yurta-runtime"),
            supervisor: dir.join("yurta-supervisor"),
            dns: dir.join("yurta-dns"),
        }
    }

    /// The binaries beside `exe` (a front end passes its own path; `yurta`
    /// is then `exe` itself, whatever its file name).
    pub fn beside(exe: &Path) -> Binaries {
        let dir = exe.parent().unwrap_or(Path::new("."));
        Binaries {
            yurta: exe.to_path_buf(),
            ..Binaries::in_dir(dir)
        }
    }

    /// Another program installed beside these (`yurta-service`,
    /// `yurta-registry`).
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.runtime.with_file_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_beside_an_executable() {
        let b = Binaries::beside(Path::new("/opt/y/bin/yurta-service"));
        assert_eq!(b.yurta, Path::new("/opt/y/bin/yurta-service"));
        assert_eq!(b.runtime, Path::new("/opt/y/bin/yurta-runtime"));
        assert_eq!(b.supervisor, Path::new("/opt/y/bin/yurta-supervisor"));
        assert_eq!(b.dns, Path::new("/opt/y/bin/yurta-dns"));
        assert_eq!(
            b.sibling("yurta-registry"),
            Path::new("/opt/y/bin/yurta-registry")
        );
    }
}
