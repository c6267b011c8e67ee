//! Named and anonymous volumes of the `local` driver.
//!
//! ```text
//! <root>/volumes/
//!   volumes.lock             every change below is made under it
//!   <name>/volume.json       Docker's inspect object (Name, Driver, Mountpoint, ...)
//!   <name>/_data             the content (or the mount point of `device`)
//!   <name>/users/<id>        one empty file per container that uses it
//!   <name>/mounts/<id>       one per running container that mounted it
//! ```
//!
//! A user whose container directory is gone does not count (a killed
//! `rm` cannot pin a volume forever). With driver options `type`, `device`
//! and `o` the volume is mounted on `_data` when its first container
//! mounts it and unmounted after the last one (tmpfs, binds of a host
//! directory, other filesystems), as Docker's local driver does.

pub mod copyup;
pub mod parse;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use serde::{Deserialize, Serialize};

use crate::fsutil::{self, FsError, Lock};
use crate::ids;

pub use copyup::{copy_up, CopyError};
pub use parse::{MountRequest, Source, VolumeSpecError};

/// The label Docker puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// Errors of this module; each names the volume or value.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("create {0}: {0:?} includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")]
    BadName(String),
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    InUse { name: String, users: Vec<String> },
    #[error("create {name}: driver {driver:?} is not supported (only \"local\")")]
    Driver { name: String, driver: String },
    #[error("create {name}: invalid option {option:?} (type, device, o)")]
    Option { name: String, option: String },
    #[error("create {name}: missing required option \"device\"")]
    NoDevice { name: String },
    #[error("mount {device} on {} (type {kind}, o={options}): {errno}", target.display())]
    Mount {
        device: String,
        target: PathBuf,
        kind: String,
        options: String,
        errno: nix::errno::Errno,
    },
    #[error("unmount {}: {errno}", target.display())]
    Unmount {
        target: PathBuf,
        errno: nix::errno::Errno,
    },
    #[error(transparent)]
    Id(#[from] ids::IdError),
    /// A name longer than the file system allows.
    #[error(transparent)]
    Name(crate::options::OptionError),
    #[error(transparent)]
    Fs(#[from] FsError),
}

/// A volume, as `volume inspect` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub created_at: String,
    pub driver: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub mountpoint: String,
    pub name: String,
    pub options: Option<BTreeMap<String, String>>,
    pub scope: String,
}

impl Volume {
    pub fn is_anonymous(&self) -> bool {
        self.labels
            .as_ref()
            .is_some_and(|l| l.contains_key(ANONYMOUS_LABEL))
    }

    /// Whether the local driver mounts something on `_data`.
    pub fn mounts_device(&self) -> bool {
        self.options
            .as_ref()
            .is_some_and(|o| o.contains_key("device"))
    }
}

/// What `volume create` asks for.
#[derive(Debug, Clone, Default)]
pub struct VolumeCreate {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// The volumes under one root.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
    containers: PathBuf,
}

impl VolumeStore {
    /// The store under `<root>/volumes`; users are checked against
    /// `<root>/containers/<id>`.
    pub fn open_root(root: &Path) -> Result<VolumeStore, VolumeError> {
        let dir = root.join("volumes");
        fs::create_dir_all(&dir).map_err(FsError::io("create", &dir))?;
        Ok(VolumeStore {
            dir,
            containers: root.join("containers"),
        })
    }

    fn lock(&self) -> Result<Lock, VolumeError> {
        Ok(fsutil::lock(&self.dir.join("volumes.lock"), true)?)
    }

    fn vdir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `<root>/volumes/<name>/_data`.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.vdir(name).join("_data")
    }

    /// Creates a volume, or returns the existing one of that name (Docker's
    /// `volume create` is idempotent). No name: an anonymous 64-hex name.
    pub fn create(&self, req: &VolumeCreate) -> Result<Volume, VolumeError> {
        let _lock = self.lock()?;
        self.create_locked(req)
    }

    fn create_locked(&self, req: &VolumeCreate) -> Result<Volume, VolumeError> {
        let name = match &req.name {
            Some(n) if ids::validate_volume_name(n) => {
                let max = crate::options::limits::volume_name_max(&self.dir);
                crate::options::limits::name_within("volume", n, max).map_err(VolumeError::Name)?;
                n.clone()
            }
            Some(n) => return Err(VolumeError::BadName(n.clone())),
            None => ids::new_id()?,
        };
        if let Ok(v) = self.read(&name) {
            return Ok(v);
        }
        let driver = req.driver.clone().unwrap_or_else(|| "local".to_string());
        if driver != "local" {
            return Err(VolumeError::Driver { name, driver });
        }
        for k in req.options.keys() {
            if !matches!(k.as_str(), "type" | "device" | "o") {
                return Err(VolumeError::Option {
                    name,
                    option: k.clone(),
                });
            }
        }
        if !req.options.is_empty() && !req.options.contains_key("device") {
            return Err(VolumeError::NoDevice { name });
        }
        let tmp = self.dir.join(format!(".new-{name}"));
        let _ = fs::remove_dir_all(&tmp);
        for d in [tmp.join("_data"), tmp.join("users"), tmp.join("mounts")] {
            fs::create_dir_all(&d).map_err(FsError::io("create", &d))?;
        }
        let volume = Volume {
            created_at: yurta_images::time::now_rfc3339(),
            driver,
            labels: (!req.labels.is_empty()).then(|| req.labels.clone()),
            mountpoint: self.data_dir(&name).display().to_string(),
            name: name.clone(),
            options: (!req.options.is_empty()).then(|| req.options.clone()),
            scope: "local".to_string(),
        };
        fsutil::write_json(&tmp.join("volume.json"), &volume)?;
        let dest = self.vdir(&name);
        fs::rename(&tmp, &dest).map_err(FsError::io("rename", &dest))?;
        Ok(volume)
    }

    /// A new anonymous volume (Docker's label on it).
    pub fn create_anonymous(&self) -> Result<Volume, VolumeError> {
        self.create(&VolumeCreate {
            labels: [(ANONYMOUS_LABEL.to_string(), String::new())].into(),
            ..Default::default()
        })
    }

    /// The volume called `name`.
    pub fn read(&self, name: &str) -> Result<Volume, VolumeError> {
        if !ids::validate_volume_name(name) {
            return Err(VolumeError::NotFound(name.to_string()));
        }
        let path = self.vdir(name).join("volume.json");
        match fsutil::read_json(&path) {
            Err(FsError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(VolumeError::NotFound(name.to_string()))
            }
            other => Ok(other?),
        }
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let entries = fs::read_dir(&self.dir).map_err(FsError::io("read", &self.dir))?;
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| ids::validate_volume_name(n))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for n in names {
            match self.read(&n) {
                Ok(v) => out.push(v),
                Err(VolumeError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The containers using a volume (whose records still exist).
    pub fn users(&self, name: &str) -> Result<Vec<String>, VolumeError> {
        self.live_entries(&self.vdir(name).join("users"))
    }

    fn live_entries(&self, dir: &Path) -> Result<Vec<String>, VolumeError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(FsError::io("read", dir)(e).into()),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| self.containers.join(id).is_dir())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Records that container `id` uses the volume (made at create).
    pub fn add_user(&self, name: &str, id: &str) -> Result<(), VolumeError> {
        let _lock = self.lock()?;
        self.read(name)?;
        touch(&self.vdir(name).join("users").join(id))
    }

    /// Forgets container `id` in every volume: as a user and as a mounter
    /// (the driver's device unmounted when it was the last). `rm` calls
    /// this rather than going by the record's `Mounts`, which a create
    /// killed after marking a volume used has not written yet.
    pub fn forget_container(&self, id: &str) -> Result<(), VolumeError> {
        let _lock = self.lock()?;
        for v in self.list()? {
            let vdir = self.vdir(&v.name);
            remove_file(&vdir.join("users").join(id))?;
            let mounts = vdir.join("mounts");
            if !mounts.join(id).exists() {
                continue;
            }
            remove_file(&mounts.join(id))?;
            if v.mounts_device() && self.live_entries(&mounts)?.is_empty() {
                unmount_if_mounted(&self.data_dir(&v.name))?;
            }
        }
        Ok(())
    }

    /// Removes a volume: refused while a container uses it (also with
    /// `force`, as Docker; `force` only forgives a missing volume).
    pub fn remove(&self, name: &str, force: bool) -> Result<(), VolumeError> {
        let _lock = self.lock()?;
        self.remove_locked(name, force)
    }

    fn remove_locked(&self, name: &str, force: bool) -> Result<(), VolumeError> {
        let v = match self.read(name) {
            Err(VolumeError::NotFound(_)) if force => return Ok(()),
            other => other?,
        };
        let users = self.users(name)?;
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                name: name.to_string(),
                users,
            });
        }
        if v.mounts_device() {
            unmount_if_mounted(&self.data_dir(name))?;
        }
        let gone = self.dir.join(format!(".removing-{name}"));
        let dir = self.vdir(name);
        fs::rename(&dir, &gone).map_err(FsError::io("rename", &dir))?;
        fs::remove_dir_all(&gone).map_err(FsError::io("remove", &gone))?;
        Ok(())
    }

    /// `volume prune`: unused anonymous volumes, or with `all` every unused
    /// volume, matching `filter` (labels). Returns (name, bytes) removed.
    pub fn prune(
        &self,
        all: bool,
        filter: &dyn Fn(&Volume) -> bool,
    ) -> Result<Vec<(String, u64)>, VolumeError> {
        let _lock = self.lock()?;
        let mut removed = Vec::new();
        for v in self.list()? {
            if (!all && !v.is_anonymous()) || !filter(&v) || !self.users(&v.name)?.is_empty() {
                continue;
            }
            let size = if v.mounts_device() {
                0
            } else {
                yurta_images::manage::disk_usage(&self.data_dir(&v.name))
            };
            self.remove_locked(&v.name, false)?;
            removed.push((v.name, size));
        }
        Ok(removed)
    }

    /// Makes the volume ready for container `id` to mount and returns its
    /// `_data`: mounts the driver's device when this is the first
    /// container to mount it.
    pub fn mount(&self, name: &str, id: &str) -> Result<PathBuf, VolumeError> {
        let _lock = self.lock()?;
        let v = self.read(name)?;
        let data = self.data_dir(name);
        if v.mounts_device()
            && self
                .live_entries(&self.vdir(name).join("mounts"))?
                .is_empty()
        {
            unmount_if_mounted(&data)?;
            mount_device(&v, &data)?;
        }
        touch(&self.vdir(name).join("mounts").join(id))?;
        Ok(data)
    }

    /// Container `id` no longer mounts the volume; the driver's device is
    /// unmounted after the last one. A missing volume is not an error.
    pub fn unmount(&self, name: &str, id: &str) -> Result<(), VolumeError> {
        let _lock = self.lock()?;
        let v = match self.read(name) {
            Err(VolumeError::NotFound(_)) => return Ok(()),
            other => other?,
        };
        remove_file(&self.vdir(name).join("mounts").join(id))?;
        if v.mounts_device()
            && self
                .live_entries(&self.vdir(name).join("mounts"))?
                .is_empty()
        {
            unmount_if_mounted(&self.data_dir(name))?;
        }
        Ok(())
    }
}

fn touch(path: &Path) -> Result<(), VolumeError> {
    fs::write(path, b"").map_err(|e| FsError::io("create", path)(e).into())
}

fn remove_file(path: &Path) -> Result<(), VolumeError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(FsError::io("remove", path)(e).into()),
        _ => Ok(()),
    }
}

/// Whether `path` is a mount point (in /proc/self/mountinfo).
pub fn is_mountpoint(path: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.display().to_string().replace(' ', "\\040");
    info.lines()
        .any(|l| l.split(' ').nth(4) == Some(want.as_str()))
}

fn unmount_if_mounted(path: &Path) -> Result<(), VolumeError> {
    while is_mountpoint(path) {
        umount2(path, MntFlags::MNT_DETACH).map_err(|errno| VolumeError::Unmount {
            target: path.to_path_buf(),
            errno,
        })?;
    }
    Ok(())
}

/// mount(8)-style: `o=` words that are flags become flags, the rest data.
fn mount_device(v: &Volume, target: &Path) -> Result<(), VolumeError> {
    let opts = v.options.clone().unwrap_or_default();
    let device = opts.get("device").cloned().unwrap_or_default();
    let kind = opts
        .get("type")
        .cloned()
        .unwrap_or_else(|| "none".to_string());
    let o = opts.get("o").cloned().unwrap_or_default();
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for word in o.split(',').filter(|w| !w.is_empty()) {
        match word {
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            other => data.push(other),
        }
    }
    let data = data.join(",");
    let fstype = (kind != "none").then_some(kind.as_str());
    let err = |errno| VolumeError::Mount {
        device: device.clone(),
        target: target.to_path_buf(),
        kind: kind.clone(),
        options: o.clone(),
        errno,
    };
    let data_opt = (!data.is_empty()).then_some(data.as_str());
    mount(Some(device.as_str()), target, fstype, flags, data_opt).map_err(err)?;
    if flags.contains(MsFlags::MS_BIND) && flags.contains(MsFlags::MS_RDONLY) {
        let re = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(None::<&str>, target, None::<&str>, re, None::<&str>).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
