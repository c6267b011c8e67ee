//! Container state on disk: `<root>/<id>/state.json`, written atomically.
//!
//! The status is never stored: it is derived each time from the init
//! process (alive? same start time as recorded?), the exec fifo (still
//! there means `start` has not run) and the freezer, as runc does. A
//! container whose init died is `stopped` whatever happened to the runtime
//! process that created it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Name of the fifo that holds the init process until `start`.
pub const EXEC_FIFO: &str = "exec.fifo";
const STATE_FILE: &str = "state.json";
const CONFIG_FILE: &str = "config.json";

/// The OCI status of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        };
        f.pad(s)
    }
}

/// What the runtime remembers about a container between commands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// Host pid of the container's init process (0 while creating).
    pub pid: i32,
    /// Start time of init in clock ticks since boot, to detect pid reuse.
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    /// linux.cgroupsPath as configured.
    #[serde(default)]
    pub cgroups_path: Option<PathBuf>,
    #[serde(default)]
    pub systemd_cgroup: bool,
}

/// The OCI state JSON printed by `state` (with runc's extra fields).
#[derive(Debug, Serialize)]
pub struct OciState<'a> {
    #[serde(rename = "ociVersion")]
    pub oci_version: &'static str,
    pub id: &'a str,
    pub pid: i32,
    pub status: Status,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    pub owner: &'a str,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
}

/// A container's directory under the state root.
#[derive(Debug, Clone)]
pub struct ContainerDir {
    pub id: String,
    pub path: PathBuf,
}

impl ContainerDir {
    /// The directory of `id` under `root`, after checking the id is safe as a file name.
    pub fn new(root: &Path, id: &str) -> Result<Self> {
        validate_id(id)?;
        Ok(ContainerDir {
            id: id.to_string(),
            path: root.join(id),
        })
    }

    /// Creates the directory; fails if the container exists.
    pub fn create(&self) -> Result<()> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
        }
        match fs::create_dir(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(Error::AlreadyExists(self.id.clone()))
            }
            Err(e) => Err(Error::write(&self.path, e)),
        }
    }

    pub fn exists(&self) -> bool {
        self.path.is_dir()
    }

    pub fn fifo(&self) -> PathBuf {
        self.path.join(EXEC_FIFO)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path.join(CONFIG_FILE)
    }

    /// Loads the saved state; a missing directory is `NotFound`.
    pub fn load(&self) -> Result<State> {
        let path = self.path.join(STATE_FILE);
        let data = match fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(self.id.clone()))
            }
            Err(e) => return Err(Error::read(&path, e)),
        };
        serde_json::from_slice(&data).map_err(|e| Error::Parse {
            path,
            message: e.to_string(),
        })
    }

    /// Writes the state with write-then-rename, so readers never see half a file.
    pub fn save(&self, state: &State) -> Result<()> {
        let data = serde_json::to_vec(state).map_err(|e| Error::Setup(e.to_string()))?;
        write_atomic(&self.path.join(STATE_FILE), &data)
    }

    /// Keeps the container's config for later commands (exec, delete hooks).
    pub fn save_config(&self, raw: &[u8]) -> Result<()> {
        write_atomic(&self.config_path(), raw)
    }

    /// Loads the config kept by `save_config`.
    pub fn load_config(&self) -> Result<oci_spec::runtime::Spec> {
        crate::spec::load(&self.config_path())
    }

    /// Removes the directory and everything in it.
    pub fn remove(&self) -> Result<()> {
        match fs::remove_dir_all(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::write(&self.path, e)),
        }
    }
}

/// Writes `data` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let unsynced = yurta_sysutil::Durability::Unsynced;
    yurta_sysutil::replace_file(path, data, 0o644, unsynced).map_err(|e| Error::write(path, e))
}

/// Container ids become directory names: allow what runc allows.
pub fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 1024
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidId(id.to_string()))
    }
}

/// What /proc says about a process.
pub use yurta_sysutil::proc::{stat as proc_stat, ProcStat};

impl State {
    /// True while the recorded init process still runs (not a zombie, not a reused pid).
    pub fn init_alive(&self) -> bool {
        if self.pid <= 0 {
            return false;
        }
        match proc_stat(self.pid) {
            Some(st) => st.start_time == self.pid_start && st.state != 'Z' && st.state != 'X',
            None => false,
        }
    }

    /// Status without consulting the freezer (created, running or stopped).
    pub fn base_status(&self, dir: &ContainerDir) -> Status {
        if !self.init_alive() {
            Status::Stopped
        } else if dir.fifo().exists() {
            Status::Created
        } else {
            Status::Running
        }
    }

    /// The OCI state document for this container.
    pub fn oci(&self, status: Status) -> OciState<'_> {
        OciState {
            oci_version: crate::spec::OCI_VERSION,
            id: &self.id,
            pid: if status == Status::Stopped {
                0
            } else {
                self.pid
            },
            status,
            bundle: &self.bundle,
            rootfs: &self.rootfs,
            created: &self.created,
            owner: &self.owner,
            annotations: &self.annotations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        for good in ["abc", "a-b_c.d", "0123456789abcdef", "x+y"] {
            validate_id(good).unwrap();
        }
        for bad in ["", "../x", "a/b", ".hidden", "sp ace", "nul\0"] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn own_process_is_alive_and_pid_reuse_is_detected() {
        let me = std::process::id() as i32;
        let st = proc_stat(me).expect("own stat");
        let mut state = State {
            id: "t".into(),
            pid: me,
            pid_start: st.start_time,
            bundle: "/b".into(),
            rootfs: "/b/rootfs".into(),
            created: crate::time::now(),
            owner: "root".into(),
            annotations: HashMap::new(),
            cgroups_path: None,
            systemd_cgroup: false,
        };
        assert!(state.init_alive());
        state.pid_start += 1;
        assert!(!state.init_alive());
    }

    #[test]
    fn save_and_load_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ContainerDir::new(tmp.path(), "c1").unwrap();
        dir.create().unwrap();
        assert!(matches!(dir.create(), Err(Error::AlreadyExists(_))));
        let state = State {
            id: "c1".into(),
            pid: 0,
            pid_start: 0,
            bundle: "/b".into(),
            rootfs: "/b/r".into(),
            created: "t".into(),
            owner: "root".into(),
            annotations: HashMap::from([("k".into(), "v".into())]),
            cgroups_path: Some("/x".into()),
            systemd_cgroup: false,
        };
        dir.save(&state).unwrap();
        let back = dir.load().unwrap();
        assert_eq!(back.annotations["k"], "v");
        assert_eq!(back.base_status(&dir), Status::Stopped);
        dir.remove().unwrap();
        assert!(matches!(dir.load(), Err(Error::NotFound(_))));
    }
}
