//! The operating-system calls that set up a root filesystem, behind a trait.
//!
//! `rootfs` and `namespaces` talk to the kernel only through [`Syscall`], so
//! their logic (which mounts, in which order, with which flags) is unit-tested
//! with [`RecordingSyscall`] without root. [`LinuxSyscall`] is the real thing.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};
use nix::sys::stat::{Mode, SFlag};

/// Kernel calls used while building a container's filesystem and identity.
pub trait Syscall {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()>;
    fn umount2(&self, target: &Path, flags: MntFlags) -> nix::Result<()>;
    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> nix::Result<()>;
    fn chdir(&self, path: &Path) -> nix::Result<()>;
    fn chroot(&self, path: &Path) -> nix::Result<()>;
    fn mknod(&self, path: &Path, kind: SFlag, mode: Mode, dev: u64) -> nix::Result<()>;
    fn chown(&self, path: &Path, uid: Option<u32>, gid: Option<u32>) -> nix::Result<()>;
    fn symlink(&self, target: &Path, link: &Path) -> nix::Result<()>;
    fn sethostname(&self, name: &str) -> nix::Result<()>;
    fn setdomainname(&self, name: &str) -> nix::Result<()>;
}

/// The real kernel.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxSyscall;

impl Syscall for LinuxSyscall {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()> {
        nix::mount::mount(source, target, fstype, flags, data)
    }

    fn umount2(&self, target: &Path, flags: MntFlags) -> nix::Result<()> {
        nix::mount::umount2(target, flags)
    }

    fn pivot_root(&self, new_root: &Path, put_old: &Path) -> nix::Result<()> {
        nix::unistd::pivot_root(new_root, put_old)
    }

    fn chdir(&self, path: &Path) -> nix::Result<()> {
        nix::unistd::chdir(path)
    }

    fn chroot(&self, path: &Path) -> nix::Result<()> {
        nix::unistd::chroot(path)
    }

    fn mknod(&self, path: &Path, kind: SFlag, mode: Mode, dev: u64) -> nix::Result<()> {
        nix::sys::stat::mknod(path, kind, mode, dev)
    }

    fn chown(&self, path: &Path, uid: Option<u32>, gid: Option<u32>) -> nix::Result<()> {
        nix::unistd::chown(
            path,
            uid.map(nix::unistd::Uid::from_raw),
            gid.map(nix::unistd::Gid::from_raw),
        )
    }

    fn symlink(&self, target: &Path, link: &Path) -> nix::Result<()> {
        nix::unistd::symlinkat(target, None, link)
    }

    fn sethostname(&self, name: &str) -> nix::Result<()> {
        nix::unistd::sethostname(name)
    }

    fn setdomainname(&self, name: &str) -> nix::Result<()> {
        let name = CString::new(name.as_bytes()).map_err(|_| nix::Error::EINVAL)?;
        // SAFETY: `name` is a valid NUL-terminated buffer of the given length.
        let rc = unsafe { libc::setdomainname(name.as_ptr(), name.as_bytes().len()) };
        nix::Error::result(rc).map(drop)
    }
}

/// One recorded call, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Mount {
        source: Option<PathBuf>,
        target: PathBuf,
        fstype: Option<String>,
        flags: MsFlags,
        data: Option<String>,
    },
    Umount {
        target: PathBuf,
    },
    PivotRoot {
        new_root: PathBuf,
    },
    Chdir(PathBuf),
    Chroot(PathBuf),
    Mknod {
        path: PathBuf,
        kind: SFlag,
        dev: u64,
    },
    Chown(PathBuf),
    Symlink {
        target: PathBuf,
        link: PathBuf,
    },
    Hostname(String),
    Domainname(String),
}

/// A test double that records every call and succeeds (or fails the mounts
/// whose target ends with a configured path).
#[derive(Debug, Default)]
pub struct RecordingSyscall {
    pub calls: std::cell::RefCell<Vec<Call>>,
    pub fail_mount_target: Option<PathBuf>,
}

impl RecordingSyscall {
    /// The recorded calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn push(&self, call: Call) {
        self.calls.borrow_mut().push(call);
    }
}

impl Syscall for RecordingSyscall {
    fn mount(
        &self,
        source: Option<&Path>,
        target: &Path,
        fstype: Option<&str>,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()> {
        self.push(Call::Mount {
            source: source.map(Path::to_path_buf),
            target: target.to_path_buf(),
            fstype: fstype.map(str::to_string),
            flags,
            data: data.map(str::to_string),
        });
        match &self.fail_mount_target {
            Some(fail) if target.ends_with(fail) => Err(nix::Error::EPERM),
            _ => Ok(()),
        }
    }

    fn umount2(&self, target: &Path, _flags: MntFlags) -> nix::Result<()> {
        self.push(Call::Umount {
            target: target.to_path_buf(),
        });
        Ok(())
    }

    fn pivot_root(&self, new_root: &Path, _put_old: &Path) -> nix::Result<()> {
        self.push(Call::PivotRoot {
            new_root: new_root.to_path_buf(),
        });
        Ok(())
    }

    fn chdir(&self, path: &Path) -> nix::Result<()> {
        self.push(Call::Chdir(path.to_path_buf()));
        Ok(())
    }

    fn chroot(&self, path: &Path) -> nix::Result<()> {
        self.push(Call::Chroot(path.to_path_buf()));
        Ok(())
    }

    fn mknod(&self, path: &Path, kind: SFlag, _mode: Mode, dev: u64) -> nix::Result<()> {
        self.push(Call::Mknod {
            path: path.to_path_buf(),
            kind,
            dev,
        });
        Ok(())
    }

    fn chown(&self, path: &Path, _uid: Option<u32>, _gid: Option<u32>) -> nix::Result<()> {
        self.push(Call::Chown(path.to_path_buf()));
        Ok(())
    }

    fn symlink(&self, target: &Path, link: &Path) -> nix::Result<()> {
        self.push(Call::Symlink {
            target: target.to_path_buf(),
            link: link.to_path_buf(),
        });
        Ok(())
    }

    fn sethostname(&self, name: &str) -> nix::Result<()> {
        self.push(Call::Hostname(name.to_string()));
        Ok(())
    }

    fn setdomainname(&self, name: &str) -> nix::Result<()> {
        self.push(Call::Domainname(name.to_string()));
        Ok(())
    }
}

/// A path as a C string (paths from configs never contain NUL; if one does,
/// the kernel call fails with EINVAL).
pub fn cstring(path: &Path) -> nix::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| nix::Error::EINVAL)
}
