//! The engine's steps over the stores: `create` (record, volumes, mounts),
//! `prepare` (rootfs, volume mounts and copy-up, user, network files,
//! config.json — the bundle the runtime runs), `cleanup` (after the
//! container stopped) and `remove`. Starting and watching the process is
//! the supervisor's; the network namespace and addresses come from the
//! network side through [`PrepareOptions`].

use std::fs;
use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};

use serde_json::Value;
use yurta_images::spec::ImageConfig;
use yurta_images::Store;

use crate::containers::{ContainerError, ContainerStore};
use crate::etcfiles::{self, EtcContent};
use crate::fsutil::{self, FsError};
use crate::options::{self, CreateOptions, OptionError};
use crate::record::{ContainerRecord, MountExtra, MountPoint, MountType};
use crate::rootfs::{self, RootfsError, RootfsPaths};
use crate::spec::{self, devices, NetNs, SpecError, SpecInput};
use crate::user::{self, UserError};
use crate::volume::{
    self, parse, CopyError, MountRequest, Source, VolumeCreate, VolumeError, VolumeStore,
};

/// Errors of this module (the steps' errors, folded).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("No such image: {0}")]
    Image(String),
    #[error("Duplicate mount point: {0}")]
    DuplicateMount(String),
    #[error("invalid mount config for type \"bind\": bind source path does not exist: {0}")]
    BindSource(String),
    #[error("{}", .0.join("; "))]
    Cleanup(Vec<String>),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Options(#[from] OptionError),
    #[error(transparent)]
    Volume(#[from] VolumeError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Store(#[from] yurta_images::StoreError),
}

/// The stores under one root (`--root`).
pub struct Engine {
    pub root: PathBuf,
    pub images: Store,
    pub containers: ContainerStore,
    pub volumes: VolumeStore,
}

/// What the network side (and the caller) decide for `prepare`.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    pub network: NetNs,
    /// The container's addresses (written to /etc/hosts with its hostname).
    pub addresses: Vec<String>,
    /// Peers' `name:ip` entries for /etc/hosts.
    pub peer_hosts: Vec<String>,
    /// The init binary for `--init`.
    pub init_path: Option<PathBuf>,
    /// A private cgroup namespace; default: on cgroup v2 hosts (Docker's).
    pub cgroup_ns: Option<bool>,
}

impl Default for PrepareOptions {
    fn default() -> PrepareOptions {
        PrepareOptions {
            network: NetNs::New,
            addresses: Vec::new(),
            peer_hosts: Vec::new(),
            init_path: default_init(),
            cgroup_ns: None,
        }
    }
}

/// The first static init found: yurta's own, catatonit, tini, docker-init.
pub fn default_init() -> Option<PathBuf> {
    [
        "/usr/libexec/yurta/yurta-init",
        "/usr/libexec/podman/catatonit",
        "/usr/bin/catatonit",
        "/usr/bin/tini-static",
        "/usr/bin/docker-init",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// A bundle ready for `yurta-runtime create --bundle`.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bundle: PathBuf,
    pub spec: Value,
    pub rootfs: PathBuf,
}

impl Engine {
    /// Opens (creating) the stores under `root`.
    pub fn open(root: &Path) -> Result<Engine, EngineError> {
        Ok(Engine {
            root: root.to_path_buf(),
            images: Store::open_root(root)?,
            containers: ContainerStore::open_root(root)?,
            volumes: VolumeStore::open_root(root)?,
        })
    }

    /// `create`: the record with the image's configuration merged, volumes
    /// created and marked used, the `Mounts` list. Nothing is left behind
    /// on failure.
    pub fn create(&self, opts: &CreateOptions) -> Result<ContainerRecord, EngineError> {
        let image = self
            .images
            .resolve(&opts.image)
            .map_err(|_| EngineError::Image(opts.image.clone()))?;
        let image_config: ImageConfig = self.images.read_json(&image.id)?;
        let run = image_config.config.clone().unwrap_or_default();
        let (config, host_config) = options::build(&run, opts)?;
        let requests = mount_requests(&config, &host_config)?;
        let platform = image.platform.os.clone();
        let host_hostname = host_config.network_mode == "host" || host_config.uts_mode == "host";
        let record = self.containers.create(opts.name.as_deref(), |id, _| {
            let mut config = config;
            if config.hostname.is_empty() {
                // Docker: with --network host or --uts host, the host's
                // hostname.
                let host = host_hostname.then(etcfiles::host_hostname).flatten();
                config.hostname = host.unwrap_or_else(|| id[..12].to_string());
            }
            let args: Vec<String> = config
                .entrypoint
                .iter()
                .chain(&config.cmd)
                .flatten()
                .cloned()
                .collect();
            let dir = Path::new(&self.root).join("containers").join(id);
            ContainerRecord {
                created: yurta_images::time::now_rfc3339(),
                path: args.first().cloned().unwrap_or_default(),
                args: args.iter().skip(1).cloned().collect(),
                image: image.id.to_string(),
                image_name: Some(opts.image.clone()),
                resolv_conf_path: dir.join("resolv.conf").display().to_string(),
                hostname_path: dir.join("hostname").display().to_string(),
                hosts_path: dir.join("hosts").display().to_string(),
                log_path: dir.join(format!("{id}-json.log")).display().to_string(),
                platform,
                config,
                host_config,
                ..Default::default()
            }
        })?;
        yurta_fault::point("create.record");
        if requests.is_empty() {
            return Ok(record);
        }
        match self.attach_volumes(&record.id, &requests) {
            Ok(mounts) => Ok(self.containers.update(&record.id, |r| r.mounts = mounts)?),
            Err(e) => {
                let _ = self.remove(&record.id, true);
                Err(e)
            }
        }
    }

    fn attach_volumes(
        &self,
        id: &str,
        requests: &[(MountRequest, bool)],
    ) -> Result<Vec<MountPoint>, EngineError> {
        let mut out = Vec::new();
        for (req, from_flag_v) in requests {
            let mut mp = MountPoint {
                kind: req.kind(),
                name: None,
                source: String::new(),
                destination: req.target.clone(),
                driver: None,
                mode: req.mode.clone(),
                rw: !req.read_only,
                propagation: req.propagation.clone(),
                extra: MountExtra {
                    tmpfs_size: req.tmpfs_size,
                    tmpfs_mode: req.tmpfs_mode,
                    no_copy: req.no_copy,
                    anonymous: false,
                },
            };
            match &req.source {
                Source::Named(name) => {
                    let v = self.volumes.create(&VolumeCreate {
                        name: Some(name.clone()),
                        labels: req.volume_labels.clone(),
                        ..Default::default()
                    })?;
                    self.volumes.add_user(name, id)?;
                    yurta_fault::point("create.volume");
                    (mp.name, mp.source, mp.driver) = (Some(v.name), v.mountpoint, Some(v.driver));
                }
                Source::Anonymous => {
                    let v = self.volumes.create_anonymous()?;
                    self.volumes.add_user(&v.name, id)?;
                    mp.extra.anonymous = true;
                    (mp.name, mp.source, mp.driver) = (Some(v.name), v.mountpoint, Some(v.driver));
                }
                Source::Host(path) => {
                    if !Path::new(path).exists() {
                        if !from_flag_v {
                            return Err(EngineError::BindSource(path.clone()));
                        }
                        fs::create_dir_all(path).map_err(FsError::io("create", Path::new(path)))?;
                    }
                    mp.source = path.clone();
                }
                Source::Tmpfs => {}
            }
            out.push(mp);
        }
        Ok(out)
    }

    /// `start`'s first half: everything on disk the runtime needs, written
    /// to `<root>/containers/<id>/config.json`. Undone on failure.
    pub fn prepare(&self, id: &str, p: &PrepareOptions) -> Result<Prepared, EngineError> {
        let result = self.prepare_inner(id, p);
        if result.is_err() {
            let _ = self.cleanup(id);
        }
        result
    }

    fn prepare_inner(&self, id: &str, p: &PrepareOptions) -> Result<Prepared, EngineError> {
        let record = self.containers.read(id)?;
        let dir = self.containers.container_dir(id);
        let image = self
            .images
            .resolve(&record.image)
            .map_err(|_| EngineError::Image(record.image.clone()))?;
        let paths = RootfsPaths::new(&dir);
        let volatile = record.host_config.auto_remove;
        let kind = rootfs::mount(&self.images, &image, &paths, &record.driver, volatile)?;
        yurta_fault::point("prepare.rootfs");
        let mut record = self.containers.update(id, |r| {
            r.driver = rootfs::kind_name(kind).to_string();
            r.yurta.rootfs = Some(paths.rootfs.clone());
        })?;
        for m in &mut record.mounts {
            if m.kind != MountType::Volume {
                continue;
            }
            let name = m.name.clone().unwrap_or_default();
            let data = self.volumes.mount(&name, id)?;
            if !m.extra.no_copy {
                volume::copy_up(&paths.rootfs, &m.destination, &data)?;
            }
            m.source = data.display().to_string();
            yurta_fault::point("prepare.volume");
        }
        let mut user = user::resolve_in_rootfs(&paths.rootfs, &record.config.user)?;
        user::add_groups_in_rootfs(&paths.rootfs, &mut user, &record.host_config.group_add)?;
        if !record.config.working_dir.is_empty() {
            let wd = fsutil::scoped_join(&paths.rootfs, Path::new(&record.config.working_dir))?;
            if !wd.exists() {
                fs::create_dir_all(&wd).map_err(FsError::io("create", &wd))?;
                chown(&wd, Some(user.uid), Some(user.gid)).map_err(FsError::io("chown", &wd))?;
            }
        }
        let host_network = p.network == NetNs::Host;
        let hc = &record.host_config;
        let read_host = |f: &str| fs::read_to_string(f).unwrap_or_default();
        let content = EtcContent {
            hostname: record.config.hostname.clone(),
            addresses: p.addresses.clone(),
            extra_hosts: hc
                .extra_hosts
                .iter()
                .flatten()
                .chain(&p.peer_hosts)
                .cloned()
                .collect(),
            dns: hc.dns.clone(),
            dns_search: hc.dns_search.clone(),
            dns_options: hc.dns_options.clone(),
            host_resolv_conf: read_host("/etc/resolv.conf"),
            host_network,
            embedded_dns: etcfiles::embedded_dns(&hc.network_mode),
        };
        let mut etc = etcfiles::write(&dir, &content)?;
        if host_network {
            etc.hosts = Some(PathBuf::from("/etc/hosts"));
        }
        let mut devs = Vec::new();
        for d in &hc.devices {
            devs.extend(devices::resolve(d)?);
        }
        let privileged_devices = if hc.privileged {
            devices::host_devices()
        } else {
            Vec::new()
        };
        let cgroup_ns = p
            .cgroup_ns
            .unwrap_or_else(|| Path::new("/sys/fs/cgroup/cgroup.controllers").exists());
        let spec = spec::generate(&SpecInput {
            record: &record,
            rootfs: &paths.rootfs,
            user: &user,
            network: p.network.clone(),
            etc,
            devices: &devs,
            privileged_devices: &privileged_devices,
            init_path: p.init_path.as_deref(),
            cgroup_ns,
        })?;
        // Rebuilt from the record at every start: no fsync needed.
        fsutil::replace_json(&dir.join("config.json"), &spec)?;
        Ok(Prepared {
            bundle: dir,
            spec,
            rootfs: paths.rootfs,
        })
    }

    /// After the container stopped: volume mounts released, rootfs
    /// unmounted. Goes on after errors and reports them all.
    pub fn cleanup(&self, id: &str) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        match self.containers.read(id) {
            Ok(record) => {
                for m in record.mounts.iter().filter(|m| m.kind == MountType::Volume) {
                    if let Err(e) = self
                        .volumes
                        .unmount(m.name.as_deref().unwrap_or_default(), id)
                    {
                        errors.push(e.to_string());
                    }
                }
            }
            Err(ContainerError::NotFound(_)) => {}
            Err(e) => errors.push(e.to_string()),
        }
        let paths = RootfsPaths::new(&self.containers.container_dir(id));
        if let Err(e) = rootfs::unmount(&paths) {
            errors.push(e.to_string());
        }
        let _ = fs::remove_file(self.containers.container_dir(id).join("config.json"));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Cleanup(errors))
        }
    }

    /// `rm` of a stopped container: cleanup, volumes released (anonymous
    /// ones removed with `remove_volumes`, Docker's `-v`), rootfs deleted,
    /// record removed. Reports every error; the record goes only when the
    /// rootfs is unmounted.
    pub fn remove(&self, id: &str, remove_volumes: bool) -> Result<(), EngineError> {
        let mut errors = Vec::new();
        if let Err(EngineError::Cleanup(e)) = self.cleanup(id) {
            errors.extend(e);
        }
        let record = self.containers.read(id).ok();
        let paths = RootfsPaths::new(&self.containers.container_dir(id));
        yurta_fault::point("remove.cleaned");
        let rootfs_errors = rootfs::remove(&paths);
        let rootfs_ok = rootfs_errors.is_empty();
        errors.extend(rootfs_errors.iter().map(ToString::to_string));
        if rootfs_ok {
            if let Err(e) = self.containers.remove(id) {
                errors.push(e.to_string());
            }
            yurta_fault::point("remove.record");
            // Gone: its volumes forget it (by marker, not by its Mounts,
            // which a killed create may not have written).
            if let Err(e) = self.volumes.forget_container(id) {
                errors.push(e.to_string());
            }
        }
        for m in record
            .iter()
            .flat_map(|r| &r.mounts)
            .filter(|m| m.kind == MountType::Volume)
        {
            let name = m.name.as_deref().unwrap_or_default();
            if remove_volumes && m.extra.anonymous {
                match self.volumes.remove(name, true) {
                    Ok(()) | Err(VolumeError::InUse { .. }) => {}
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Cleanup(errors))
        }
    }

    /// Every container, newest first (for `ps`).
    pub fn list(&self) -> Result<Vec<ContainerRecord>, EngineError> {
        let mut all = self.containers.list()?;
        all.sort_by(|a, b| b.created.cmp(&a.created));
        Ok(all)
    }
}

/// The mounts of a container in Docker's precedence: `-v` binds and
/// volumes and `--mount`s (a destination twice is an error), then the
/// image's and `-v /path` anonymous volumes where nothing else mounts.
/// The flag says whether it came from `-v` (whose missing host paths are
/// created).
pub fn mount_requests(
    config: &crate::record::Config,
    hc: &crate::record::HostConfig,
) -> Result<Vec<(MountRequest, bool)>, EngineError> {
    let clean = |t: &str| t.trim_end_matches('/').to_string();
    let mut out: Vec<(MountRequest, bool)> = Vec::new();
    for b in hc.binds.iter().flatten() {
        out.push((parse::volume_flag(b).map_err(OptionError::from)?, true));
    }
    for m in &hc.mounts {
        out.push((parse::from_mount_spec(m), false));
    }
    let mut seen = std::collections::HashSet::new();
    for (r, _) in &out {
        if !seen.insert(clean(&r.target)) {
            return Err(EngineError::DuplicateMount(r.target.clone()));
        }
    }
    for target in config.volumes.iter().flat_map(|v| v.keys()) {
        if seen.insert(clean(target)) {
            out.push((MountRequest::image_volume(target), true));
        }
    }
    Ok(out)
}
