//! A container's record → the config.json `yurta-runtime` runs: process
//! (args, env, user, cwd, capabilities, rlimits, no_new_privs), root,
//! hostname, mounts, namespaces, cgroup path and resources, devices,
//! masked and read-only paths, sysctls, seccomp — Docker's choices
//! throughout (see docs/engine.md).
//!
//! [`generate`] is pure: everything read from the host or the rootfs (the
//! user's uid/gid, device nodes, the network namespace, the network files)
//! comes in through [`SpecInput`].

pub mod devices;
pub mod mounts;
pub mod seccomp;

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::caps;
use crate::options::env;
use crate::record::{ContainerRecord, HostConfig};
use crate::user::ResolvedUser;
pub use devices::HostDevice;

/// Where `--init`'s binary appears in the container (Docker's path).
pub const INIT_PATH: &str = "/sbin/docker-init";

/// The PATH a container gets when its image sets none (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Docker's masked paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Errors of this module; each names the value.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("bad seccomp profile: {0}")]
    Seccomp(String),
    #[error("error gathering device information while adding custom device {path:?}: {why}")]
    Device { path: String, why: String },
    #[error("--init: no init binary at {}", .0.display())]
    NoInit(PathBuf),
    #[error("the generated spec does not parse: {0}")]
    Invalid(String),
    #[error(transparent)]
    Caps(#[from] caps::CapError),
}

/// The container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetNs {
    /// `--network host`: the host's (no namespace).
    Host,
    /// `--network none`: a new, empty one.
    New,
    /// A namespace made by the network side (bridge modes) or another
    /// container's (`container:ID`, `/proc/PID/ns/net`).
    Path(PathBuf),
}

/// The network files bound into the container (made by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcFiles {
    pub hosts: Option<PathBuf>,
    pub hostname: Option<PathBuf>,
    pub resolv_conf: Option<PathBuf>,
}

/// Everything [`generate`] needs besides the record.
#[derive(Debug, Clone)]
pub struct SpecInput<'a> {
    pub record: &'a ContainerRecord,
    /// The mounted root filesystem (absolute).
    pub rootfs: &'a Path,
    /// `Config.User` resolved in the rootfs.
    pub user: &'a ResolvedUser,
    pub network: NetNs,
    pub etc: EtcFiles,
    /// `HostConfig.Devices` resolved on the host.
    pub devices: &'a [HostDevice],
    /// The host's devices, used with `--privileged`.
    pub privileged_devices: &'a [HostDevice],
    /// The init binary for `--init` (must exist when asked for).
    pub init_path: Option<&'a Path>,
    /// A private cgroup namespace (Docker's default on cgroup v2 hosts).
    pub cgroup_ns: bool,
}

/// The config.json for a container.
pub fn generate(input: &SpecInput) -> Result<Value, SpecError> {
    let r = input.record;
    let hc = &r.host_config;
    let cfg = &r.config;
    let caps = caps::effective(
        hc.cap_add.as_deref().unwrap_or_default(),
        hc.cap_drop.as_deref().unwrap_or_default(),
        hc.privileged,
    )?;
    let security_opt = hc.security_opt.as_deref().unwrap_or_default();
    let seccomp_choice = seccomp::choice(security_opt, hc.privileged)?;
    let no_new_privs = security_opt.iter().any(|o| {
        o == "no-new-privileges" || o == "no-new-privileges=true" || o == "no-new-privileges:true"
    });

    let init = if hc.init == Some(true) {
        let path = input
            .init_path
            .ok_or_else(|| SpecError::NoInit(PathBuf::from("(none given)")))?;
        if !path.is_file() {
            return Err(SpecError::NoInit(path.to_path_buf()));
        }
        Some(path)
    } else {
        None
    };
    let mut args: Vec<String> = Vec::new();
    if init.is_some() {
        args.extend([INIT_PATH.to_string(), "--".to_string()]);
    }
    args.push(r.path.clone());
    args.extend(r.args.iter().cloned());

    let mut process = json!({
        "terminal": cfg.tty,
        "user": user_json(input.user),
        "args": args,
        "env": process_env(r, input.user),
        "cwd": if cfg.working_dir.is_empty() { "/" } else { cfg.working_dir.as_str() },
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": no_new_privs,
    });
    if hc.oom_score_adj != 0 {
        process["oomScoreAdj"] = json!(hc.oom_score_adj);
    }
    if let Some(ulimits) = &hc.ulimits {
        let limit = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
        process["rlimits"] = ulimits
            .iter()
            .map(|u| {
                json!({"type": format!("RLIMIT_{}", u.name.to_ascii_uppercase()),
                            "soft": limit(u.soft), "hard": limit(u.hard)})
            })
            .collect();
    }

    let mut linux = json!({
        "namespaces": namespaces(&input.network, input.cgroup_ns, hc),
        "cgroupsPath": format!("/yurta/{}", r.id),
        "resources": resources(r, input),
    });
    if !hc.privileged {
        linux["maskedPaths"] = json!(MASKED_PATHS);
        linux["readonlyPaths"] = json!(READONLY_PATHS);
    }
    let devices: Vec<Value> = if hc.privileged {
        input
            .privileged_devices
            .iter()
            .map(HostDevice::spec_entry)
            .collect()
    } else {
        input.devices.iter().map(HostDevice::spec_entry).collect()
    };
    if !devices.is_empty() {
        linux["devices"] = Value::Array(devices);
    }
    if !hc.sysctls.is_empty() {
        linux["sysctl"] = json!(hc.sysctls);
    }
    if let Some(profile) = seccomp::linux_seccomp(&seccomp_choice, &caps)? {
        linux["seccomp"] = profile;
    }

    let mut defaults = mounts::defaults(
        hc.privileged,
        if hc.shm_size > 0 {
            hc.shm_size
        } else {
            64 << 20
        },
    );
    if hc.ipc_mode == "host" {
        mounts::share_host_shm(&mut defaults);
    }
    let mount_list = mounts::assemble(
        defaults,
        mounts::etc_files(&input.etc, hc.readonly_rootfs),
        &r.mounts,
        init.map(mounts::init),
    );

    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": input.rootfs.display().to_string(), "readonly": hc.readonly_rootfs},
        "hostname": if hc.uts_mode == "host" { Value::Null } else { json!(cfg.hostname) },
        "mounts": mount_list,
        "linux": linux,
        "annotations": annotations(r),
    });
    if !cfg.domainname.is_empty() {
        spec["domainname"] = json!(cfg.domainname);
    }
    serde_json::from_value::<oci_spec::runtime::Spec>(spec.clone())
        .map_err(|e| SpecError::Invalid(e.to_string()))?;
    Ok(spec)
}

fn user_json(u: &ResolvedUser) -> Value {
    let mut v = json!({"uid": u.uid, "gid": u.gid});
    if !u.additional_gids.is_empty() {
        v["additionalGids"] = json!(u.additional_gids);
    }
    v
}

/// Docker's process environment: PATH (when the image has none),
/// HOSTNAME, TERM with a terminal, then the container's `Config.Env`;
/// HOME from passwd unless set.
pub fn process_env(r: &ContainerRecord, user: &ResolvedUser) -> Vec<String> {
    let mut base = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", r.config.hostname),
    ];
    if r.config.tty {
        base.push("TERM=xterm".to_string());
    }
    let mut out = env::merge(&base, &r.config.env);
    if env::get(&out, "HOME").is_none() {
        out.push(format!("HOME={}", user.home));
    }
    out
}

fn namespaces(network: &NetNs, cgroup_ns: bool, hc: &HostConfig) -> Value {
    let mut ns = Vec::new();
    for (kind, mode) in [
        ("pid", &hc.pid_mode),
        ("ipc", &hc.ipc_mode),
        ("uts", &hc.uts_mode),
    ] {
        if mode != "host" {
            ns.push(json!({ "type": kind }));
        }
    }
    ns.push(json!({"type": "mount"}));
    match network {
        NetNs::Host => {}
        NetNs::New => ns.push(json!({"type": "network"})),
        NetNs::Path(p) => ns.push(json!({"type": "network", "path": p.display().to_string()})),
    }
    if cgroup_ns {
        ns.push(json!({"type": "cgroup"}));
    }
    Value::Array(ns)
}

fn resources(r: &ContainerRecord, input: &SpecInput) -> Value {
    let hc = &r.host_config;
    let mut res = Map::new();
    let device_rules: Vec<Value> = if hc.privileged {
        vec![json!({"allow": true, "access": "rwm"})]
    } else {
        let mut rules = devices::default_rules();
        rules.extend(input.devices.iter().map(HostDevice::cgroup_rule));
        rules
    };
    res.insert("devices".into(), Value::Array(device_rules));
    let mut mem = Map::new();
    if hc.memory > 0 {
        mem.insert("limit".into(), json!(hc.memory));
        if hc.memory_swap != 0 {
            mem.insert("swap".into(), json!(hc.memory_swap));
        }
    }
    if hc.memory_reservation > 0 {
        mem.insert("reservation".into(), json!(hc.memory_reservation));
    }
    if !mem.is_empty() {
        res.insert("memory".into(), Value::Object(mem));
    }
    let mut cpu = Map::new();
    if hc.cpu_shares > 0 {
        cpu.insert("shares".into(), json!(hc.cpu_shares));
    }
    if hc.nano_cpus > 0 {
        const PERIOD: i64 = 100_000;
        cpu.insert("quota".into(), json!(hc.nano_cpus * PERIOD / 1_000_000_000));
        cpu.insert("period".into(), json!(PERIOD));
    }
    if hc.cpu_quota != 0 {
        cpu.insert("quota".into(), json!(hc.cpu_quota));
    }
    if hc.cpu_period != 0 {
        cpu.insert("period".into(), json!(hc.cpu_period));
    }
    if !hc.cpuset_cpus.is_empty() {
        cpu.insert("cpus".into(), json!(hc.cpuset_cpus));
    }
    if !cpu.is_empty() {
        res.insert("cpu".into(), Value::Object(cpu));
    }
    if let Some(limit) = hc.pids_limit.filter(|n| *n != 0) {
        res.insert(
            "pids".into(),
            json!({"limit": if limit < 0 { -1 } else { limit }}),
        );
    }
    Value::Object(res)
}

fn annotations(r: &ContainerRecord) -> Value {
    let mut a = Map::new();
    a.insert("io.yurta.container.name".into(), json!(r.bare_name()));
    a.insert("io.yurta.image".into(), json!(r.image));
    if let Some(sig) = &r.config.stop_signal {
        a.insert("org.opencontainers.image.stopSignal".into(), json!(sig));
    }
    Value::Object(a)
}

#[cfg(test)]
mod tests;
