//! Creating a VM: a [`VmCreate`] → a checked [`VmConfig`], the VM's directory
//! (made atomically: two creates of one name cannot both win), its disks
//! and overlay. Any failure removes the directory and everything in it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use yurta_vm::config::Mac;
use yurta_vm::{disk, size, Accel, Arch, DiskConfig, VmConfig};

use super::store::{LastRun, NetRequest, VmDir, VmRecord, VmStore};
use crate::lifecycle::{events, netns, Host};

/// What a VM is made of: `yurta vm create`'s flags, the web console's
/// form. Relative paths are taken from the caller's working directory.
#[derive(Debug, Clone)]
pub struct VmCreate {
    pub name: String,
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub cmdline: Option<String>,
    /// A disk image to boot, through a qcow2 overlay unless `no_overlay`.
    pub image: Option<PathBuf>,
    pub no_overlay: bool,
    pub cdrom: Option<PathBuf>,
    /// Each a size (a new disk) or an existing file.
    pub disk: Vec<String>,
    /// A size, `512M`.
    pub memory: String,
    pub cpus: u32,
    pub arch: Option<String>,
    pub machine: Option<String>,
    /// `auto`, `kvm` or `tcg`.
    pub accel: String,
    /// Network names, or `none`.
    pub network: Vec<String>,
    pub mac: Option<String>,
    /// `none` or `vnc`.
    pub display: String,
    pub cloud_init: Option<PathBuf>,
}

impl VmCreate {
    /// A VM named `name` with the CLI's defaults: 512M, one CPU, the
    /// default bridge, no display.
    pub fn new(name: &str) -> VmCreate {
        VmCreate {
            name: name.to_string(),
            kernel: None,
            initrd: None,
            cmdline: None,
            image: None,
            no_overlay: false,
            cdrom: None,
            disk: Vec::new(),
            memory: "512M".into(),
            cpus: 1,
            arch: None,
            machine: None,
            accel: "auto".into(),
            network: vec![yurta_network::DEFAULT_NETWORK.into()],
            mac: None,
            display: "none".into(),
            cloud_init: None,
        }
    }
}

/// [`create`], then starts it; a VM that fails to start is removed, so a
/// failed `vm create --start` leaves nothing.
pub fn create_and_start(host: &Host, a: &VmCreate) -> anyhow::Result<VmDir> {
    let vm = create(host, a)?;
    if let Err(e) = super::lifecycle::start(host, &vm) {
        let _ = super::lifecycle::remove(host, &vm, true);
        return Err(e);
    }
    Ok(vm)
}

/// Checks `a` and makes the VM (not started).
pub fn create(host: &Host, a: &VmCreate) -> anyhow::Result<VmDir> {
    let (config, networks) = check_args(host, a)?;
    let store = VmStore::new(&host.root);
    let dir = yurta_vm::state::create_vm_dir(&store.dir, &a.name)?;
    let vm = VmDir {
        name: a.name.clone(),
        dir,
    };
    let made = vm.lock().and_then(|_lock| fill(&vm, a, config, networks));
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&vm.dir);
        return Err(e);
    }
    events::vm(&host.root, "create", &vm.name);
    Ok(vm)
}

/// Everything that can be checked before anything is made.
fn check_args(host: &Host, a: &VmCreate) -> anyhow::Result<(VmConfig, Vec<NetRequest>)> {
    let mut c = VmConfig::new(&a.name);
    if let Some(arch) = &a.arch {
        c.arch = arch.parse::<Arch>()?;
    }
    c.machine = a.machine.clone();
    c.accel = a.accel.parse::<Accel>()?;
    c.cpus = a.cpus;
    c.memory = size::parse_size(&a.memory, 1 << 20).with_context(|| "--memory".to_string())?;
    c.kernel = a.kernel.as_deref().map(absolute).transpose()?;
    c.initrd = a.initrd.as_deref().map(absolute).transpose()?;
    c.cmdline = a.cmdline.clone();
    c.cdrom = a.cdrom.as_deref().map(absolute).transpose()?;
    if a.no_overlay && a.image.is_none() {
        bail!("--no-overlay needs --image");
    }
    if let Some(image) = &a.image {
        existing("--image", image)?;
    }
    if let Some(f) = &a.cloud_init {
        existing("--cloud-init", f)?;
    }
    for d in &a.disk {
        disk_spec(d)?;
    }
    match a.display.as_str() {
        "none" | "vnc" => {}
        other => bail!("--display {other:?}: use none or vnc"),
    }
    c.validate()?;
    let networks = network_requests(host, a)?;
    Ok((c, networks))
}

fn existing(flag: &str, p: &Path) -> anyhow::Result<()> {
    if !p.is_file() {
        bail!("{flag} {}: file not found", p.display());
    }
    Ok(())
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("{}", p.display()))
}

/// `--disk`: a size makes a new disk, anything else must be a file.
pub enum DiskSpec {
    New(yurta_vm::ByteSize),
    Existing(PathBuf),
}

pub fn disk_spec(s: &str) -> anyhow::Result<DiskSpec> {
    let p = Path::new(s);
    if p.is_file() {
        return Ok(DiskSpec::Existing(absolute(p)?));
    }
    let looks_like_size = s.starts_with(|c: char| c.is_ascii_digit()) && !s.contains('/');
    if looks_like_size {
        let size = size::parse_size(s, 1 << 20).with_context(|| format!("--disk {s}"))?;
        if size.bytes() < 1 << 20 {
            bail!("--disk {s}: a disk needs at least 1M");
        }
        return Ok(DiskSpec::New(size));
    }
    bail!("--disk {s}: no such file, and not a size like 10G")
}

fn network_requests(host: &Host, a: &VmCreate) -> anyhow::Result<Vec<NetRequest>> {
    let names: Vec<&str> = a.network.iter().map(String::as_str).collect();
    if names.contains(&"none") {
        if names.len() > 1 {
            bail!("--network none cannot be combined with other networks");
        }
        if let Some(m) = &a.mac {
            bail!("--mac {m} needs a network");
        }
        return Ok(Vec::new());
    }
    if a.mac.is_some() && names.len() > 1 {
        bail!(
            "--mac applies to a single network, not {}",
            names.join(", ")
        );
    }
    let nets = netns::networks(host)?;
    let mut out = Vec::new();
    for n in names {
        if n != yurta_network::DEFAULT_NETWORK {
            nets.inspect(n)?;
        }
        let mac = match &a.mac {
            Some(m) => m.parse::<Mac>()?,
            None => random_mac()?,
        };
        out.push(NetRequest {
            network: n.to_string(),
            mac,
            ip: None,
        });
    }
    Ok(out)
}

/// QEMU's own prefix 52:54:00, the rest random.
fn random_mac() -> anyhow::Result<Mac> {
    let b: [u8; 3] = crate::ids::random_bytes()?;
    Ok(format!("52:54:00:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2]).parse()?)
}

fn fill(
    vm: &VmDir,
    a: &VmCreate,
    mut config: VmConfig,
    networks: Vec<NetRequest>,
) -> anyhow::Result<()> {
    let disks = vm.disks();
    std::fs::create_dir_all(&disks).with_context(|| format!("create {}", disks.display()))?;
    if let Some(image) = &a.image {
        config.disks.push(boot_disk(&disks, image, a.no_overlay)?);
    }
    for d in &a.disk {
        let disk = new_or_existing_disk(vm, d, &config.disks)?;
        config.disks.push(disk);
    }
    let cloud_init = match &a.cloud_init {
        Some(f) => Some(copy_user_data(vm, f)?),
        None => None,
    };
    let record = VmRecord {
        id: crate::ids::new_id()?,
        created: yurta_images::time::now_rfc3339(),
        config,
        image: a.image.as_deref().map(absolute).transpose()?,
        networks,
        cloud_init,
        vnc: a.display == "vnc",
        last: LastRun::default(),
    };
    vm.save(&record)
}

fn boot_disk(disks: &Path, image: &Path, no_overlay: bool) -> anyhow::Result<DiskConfig> {
    let image = absolute(image)?;
    if no_overlay {
        return existing_disk(&image);
    }
    Ok(disk::create_overlay(&disks.join("root.qcow2"), &image)?)
}

fn existing_disk(path: &Path) -> anyhow::Result<DiskConfig> {
    Ok(DiskConfig {
        path: path.to_path_buf(),
        format: disk::image_format(path)?,
        readonly: false,
        created: false,
    })
}

/// The user-data is copied: the VM keeps what it was created with.
fn copy_user_data(vm: &VmDir, from: &Path) -> anyhow::Result<PathBuf> {
    let dir = vm.dir.join("cloud-init");
    std::fs::create_dir_all(&dir)?;
    let to = dir.join("user-data");
    std::fs::copy(from, &to).with_context(|| format!("--cloud-init {}", from.display()))?;
    Ok(to)
}

/// Makes a new disk for `disk add` in the VM's directory, or checks an
/// existing one.
pub fn new_or_existing_disk(
    vm: &VmDir,
    spec: &str,
    taken: &[DiskConfig],
) -> anyhow::Result<DiskConfig> {
    match disk_spec(spec)? {
        DiskSpec::Existing(path) => {
            if taken.iter().any(|d| d.path == path) {
                bail!("disk {} is already attached", path.display());
            }
            existing_disk(&path)
        }
        DiskSpec::New(size) => {
            let dir = vm.disks();
            std::fs::create_dir_all(&dir)?;
            let free = |p: &PathBuf| !p.exists() && !taken.iter().any(|d| &d.path == p);
            let Some(path) = (0..1000)
                .map(|i| dir.join(format!("disk{i}.qcow2")))
                .find(free)
            else {
                bail!("{}: no free disk name", dir.display());
            };
            Ok(disk::create_qcow2(&path, size)?)
        }
    }
}
