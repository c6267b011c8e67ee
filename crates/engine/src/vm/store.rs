//! Virtual machines' state under `<root>/vms/NAME/`:
//!
//! ```text
//! lock          flock(2) held by every command that changes the VM
//! vm.json       VmRecord: what the VM is, and its last settled state
//! disks/        disks yurta made for it (removed with it)
//! cloud-init/   the user-data given at create
//! console.log   everything the serial console printed, across boots
//! run/          one boot: QEMU's sockets, pidfile and log, console.sock,
//!               live.json (written by the supervisor once QEMU runs) and
//!               exit.json (written by it when QEMU is gone)
//! ```
//!
//! The supervisor never takes the lock (a `stop` holding it waits for the
//! supervisor to end); it only writes `run/live.json` and `run/exit.json`,
//! atomically. A command holding the lock "settles" them into `vm.json`.
//! Where neither the supervisor nor QEMU is alive any more (killed, host
//! rebooted), the VM shows as stopped and the next command cleans up.

use std::path::{Path, PathBuf};

use crate::fsutil::{self, Lock};
use serde::{Deserialize, Serialize};
use yurta_network::TapEndpoint;
use yurta_vm::config::Mac;
use yurta_vm::VmConfig;

/// created | running | stopped, as `inspect` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopped => "stopped",
        }
    }
}

/// A network the VM joins at every start through a tap.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetRequest {
    pub network: String,
    pub mac: Mac,
    /// The address of the last boot, asked for again at the next.
    #[serde(default)]
    pub ip: Option<std::net::Ipv4Addr>,
}

/// What the VM is (fixed at create, disks change with `disk add|rm`) and
/// how its last boot ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VmRecord {
    pub id: String,
    pub created: String,
    /// Networks are filled in per boot from `networks`.
    pub config: VmConfig,
    #[serde(default)]
    pub image: Option<PathBuf>,
    #[serde(default)]
    pub networks: Vec<NetRequest>,
    #[serde(default)]
    pub cloud_init: Option<PathBuf>,
    #[serde(default)]
    pub vnc: bool,
    #[serde(default)]
    pub last: LastRun,
}

/// The last boot, once settled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LastRun {
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub exit_reason: String,
    #[serde(default)]
    pub accel: Option<String>,
    #[serde(default)]
    pub accel_reason: Option<String>,
}

/// Written by the supervisor before it makes anything of a boot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Starting {
    pub supervisor_pid: u32,
    pub supervisor_start: u64,
}

/// Written by the supervisor once QEMU runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Live {
    pub pid: u32,
    /// `/proc/PID/stat` start time: a recycled pid is not our QEMU.
    pub pid_start: u64,
    pub supervisor_pid: u32,
    pub supervisor_start: u64,
    pub started_at: String,
    pub accel: String,
    pub accel_reason: String,
    #[serde(default)]
    pub taps: Vec<TapEndpoint>,
    #[serde(default)]
    pub vnc: Option<String>,
    pub command: Vec<String>,
}

/// Written by the supervisor when QEMU has exited and its taps are gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exit {
    pub finished_at: String,
    pub exit_reason: String,
}

/// The paths of one VM.
#[derive(Debug, Clone)]
pub struct VmDir {
    pub name: String,
    pub dir: PathBuf,
}

impl VmDir {
    pub fn record(&self) -> PathBuf {
        self.dir.join("vm.json")
    }
    pub fn disks(&self) -> PathBuf {
        self.dir.join("disks")
    }
    pub fn console_log(&self) -> PathBuf {
        self.dir.join("console.log")
    }
    pub fn run(&self) -> PathBuf {
        self.dir.join("run")
    }
    pub fn live(&self) -> PathBuf {
        self.run().join("live.json")
    }
    pub fn exit(&self) -> PathBuf {
        self.run().join("exit.json")
    }
    pub fn console_sock(&self) -> PathBuf {
        self.run().join("console.sock")
    }
    /// The cloud-init seed of the current boot.
    pub fn seed(&self) -> PathBuf {
        self.run().join("seed.iso")
    }
    /// Which hot-plug slot each disk plugged in this boot took.
    pub fn hotplug(&self) -> PathBuf {
        self.run().join("hotplug.json")
    }
    /// Files of one boot that outlive a killed QEMU or supervisor (QEMU's
    /// own are `paths().runtime_files()`).
    /// Written by the supervisor before it makes anything of a boot (taps,
    /// QEMU), replaced in effect by `live.json` once QEMU runs: a
    /// supervisor killed in between left what [`Starting`] lets the next
    /// command find.
    pub fn starting(&self) -> PathBuf {
        self.run().join("starting.json")
    }
    pub fn boot_files(&self) -> [PathBuf; 6] {
        [
            self.live(),
            self.exit(),
            self.console_sock(),
            self.seed(),
            self.hotplug(),
            self.starting(),
        ]
    }
    pub fn supervisor_log(&self) -> PathBuf {
        self.run().join("supervisor.log")
    }
    pub fn paths(&self) -> yurta_vm::VmPaths {
        yurta_vm::VmPaths::in_dir(&self.run())
    }

    /// The second QMP monitor of the running QEMU, for commands.
    pub fn control(&self) -> anyhow::Result<yurta_vm::Qmp> {
        let path = self.paths().control;
        Ok(yurta_vm::Qmp::connect(
            &path,
            std::time::Duration::from_secs(5),
        )?)
    }

    pub fn lock(&self) -> anyhow::Result<Lock> {
        Ok(fsutil::lock(&self.dir.join("lock"), true)?)
    }

    pub fn load(&self) -> anyhow::Result<VmRecord> {
        Ok(fsutil::read_json(&self.record())?)
    }

    pub fn save(&self, r: &VmRecord) -> anyhow::Result<()> {
        Ok(fsutil::write_json(&self.record(), r)?)
    }

    pub fn live_state(&self) -> Option<Live> {
        fsutil::read_json(&self.live()).ok()
    }

    pub fn starting_state(&self) -> Option<Starting> {
        fsutil::read_json(&self.starting()).ok()
    }

    pub fn exit_state(&self) -> Option<Exit> {
        fsutil::read_json(&self.exit()).ok()
    }
}

/// `<root>/vms`.
pub struct VmStore {
    pub dir: PathBuf,
}

impl VmStore {
    pub fn new(root: &Path) -> VmStore {
        VmStore {
            dir: root.join("vms"),
        }
    }

    /// An existing VM (its record written); `no such VM "NAME"` otherwise.
    pub fn get(&self, name: &str) -> anyhow::Result<VmDir> {
        let dir = yurta_vm::state::vm_dir(&self.dir, name)?;
        if !dir.join("vm.json").is_file() {
            return Err(yurta_vm::state::StateError::NotFound(name.to_string()).into());
        }
        Ok(VmDir {
            name: name.to_string(),
            dir,
        })
    }

    /// Every VM's name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("vm.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort();
        v
    }
}

/// The state a reader sees, from the record and the run files.
#[derive(Debug, Clone)]
pub struct View {
    pub status: Status,
    pub live: Option<Live>,
    pub last: LastRun,
    /// QEMU runs but its supervisor is gone: no console, no log.
    pub unsupervised: bool,
}

/// What the VM is doing now, without the lock (for `ls`, `inspect`).
pub fn view(vm: &VmDir, record: &VmRecord) -> View {
    let mut last = record.last.clone();
    let live = vm.live_state();
    let exit = vm.exit_state();
    let mut v = View {
        status: if last.started_at.is_some() {
            Status::Stopped
        } else {
            Status::Created
        },
        live: None,
        last: last.clone(),
        unsupervised: false,
    };
    let Some(live) = live else { return v };
    last.started_at = Some(live.started_at.clone());
    last.accel = Some(live.accel.clone());
    last.accel_reason = Some(live.accel_reason.clone());
    match exit {
        Some(e) => {
            last.finished_at = Some(e.finished_at);
            last.exit_reason = e.exit_reason;
            v.status = Status::Stopped;
        }
        None if alive(live.supervisor_pid, live.supervisor_start) => v.status = Status::Running,
        None if alive(live.pid, live.pid_start) => {
            v.status = Status::Running;
            v.unsupervised = true;
        }
        None => {
            last.exit_reason =
                "QEMU and its supervisor are gone (killed, or the host rebooted)".into();
            v.status = Status::Stopped;
        }
    }
    v.last = last;
    v.live = Some(live);
    v
}

/// The start time of a process.
pub fn start_time(pid: u32) -> Option<u64> {
    yurta_sysutil::proc::stat(pid as i32).map(|s| s.start_time)
}

/// The process is there and is the one recorded (not a recycled pid, not
/// a zombie).
pub fn alive(pid: u32, start: u64) -> bool {
    yurta_sysutil::proc::same_and_running(pid as i32, start)
}

/// The `--accel auto` probe's answers, shared by every VM of the root.
pub fn accel_cache(vm: &VmDir) -> PathBuf {
    vm.dir.with_file_name("accel-probe.json")
}
