//! Docker's `info` over what yurta has: containers by state (as their
//! records were last reconciled), images, storage, cgroups, the runtime,
//! the host (kernel, OS, architecture and e2k variant, CPUs, memory) and
//! the registries' configuration.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::version::{host_platform, kernel_version, Build};
use super::SystemError;

/// What the front end knows and the engine cannot find itself.
#[derive(Debug, Clone)]
pub struct Host {
    pub build: Build,
    /// `yurta-runtime`'s path and `--version`.
    pub runtime: PathBuf,
    pub runtime_version: String,
    /// The registries configured as insecure (HTTP or unverified TLS).
    pub insecure_registries: Vec<String>,
}

/// Docker's `GET /info` (and `docker info --format '{{json .}}'`) fields
/// that yurta has, for the state under `root`.
pub fn info(root: &Path, host: &Host) -> Result<Value, SystemError> {
    let (running, paused, stopped) = container_counts(root)?;
    let images = yurta_images::Store::open_root(root)?.list()?.images.len();
    let (os, arch, variant) = host_platform();
    let (cgroup_version, cgroup_mode) = cgroups();
    let b = &host.build;
    let insecure = &host.insecure_registries;
    let platform = match &variant {
        Some(v) => format!("linux/{arch}/{v}"),
        None => format!("linux/{arch}"),
    };
    Ok(json!({
        "ID": "", "Name": hostname(),
        "Containers": running + paused + stopped, "ContainersRunning": running,
        "ContainersPaused": paused, "ContainersStopped": stopped, "Images": images,
        "Driver": storage_driver(),
        "DriverStatus": [["Root Dir", root.join("images").display().to_string()]],
        "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs", "CgroupVersion": cgroup_version,
        "CgroupMode": cgroup_mode,
        "Runtimes": {"yurta-runtime": {"path": host.runtime.display().to_string()}},
        "DefaultRuntime": "yurta-runtime", "RuntimeVersion": host.runtime_version,
        "KernelVersion": kernel_version(), "OperatingSystem": os_release("PRETTY_NAME"),
        "OSVersion": os_release("VERSION_ID"), "OSType": os, "Architecture": machine(),
        "Platform": platform, "Variant": variant.unwrap_or_default(),
        "NCPU": cpus(), "MemTotal": mem_total(),
        "DockerRootDir": root.display().to_string(),
        "ServerVersion": b.version, "Debug": false, "Experimental": false,
        "LiveRestoreEnabled": true, "SecurityOptions": ["name=seccomp,profile=builtin"],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
            "Log": ["json-file"]},
        "Swarm": {"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "",
            "ControlAvailable": false, "Error": "", "RemoteManagers": null},
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"InsecureRegistryCIDRs": [], "IndexConfigs": index_configs(insecure),
            "Mirrors": [], "InsecureRegistries": insecure},
        "Warnings": [],
    }))
}

fn container_counts(root: &Path) -> Result<(usize, usize, usize), SystemError> {
    let engine = crate::Engine::open(root)?;
    let (mut running, mut paused, mut stopped) = (0, 0, 0);
    for r in engine.list()? {
        match (r.state.running, r.state.paused) {
            (true, true) => paused += 1,
            (true, false) => running += 1,
            _ => stopped += 1,
        }
    }
    Ok((running, paused, stopped))
}

fn index_configs(insecure: &[String]) -> Value {
    let mut m = serde_json::Map::new();
    for r in insecure {
        m.insert(
            r.clone(),
            json!({"Name": r, "Mirrors": [], "Secure": false, "Official": false}),
        );
    }
    Value::Object(m)
}

/// `overlay` where the kernel has overlayfs, else `copy`.
fn storage_driver() -> &'static str {
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if fs.lines().any(|l| l.trim_end().ends_with("\toverlay")) {
        "overlay"
    } else {
        "copy"
    }
}

/// Docker's `CgroupVersion` ("1" or "2"; hybrid hosts are v1 with a
/// cgroup2 mount: "1") and yurta's mode (v1, v2, hybrid).
fn cgroups() -> (&'static str, &'static str) {
    match yurta_cgroups::detect() {
        Ok(yurta_cgroups::CgroupSetup::V2(_)) => ("2", "v2"),
        Ok(yurta_cgroups::CgroupSetup::Hybrid { .. }) => ("1", "hybrid"),
        Ok(yurta_cgroups::CgroupSetup::V1(_)) => ("1", "v1"),
        Err(_) => ("", "none"),
    }
}

/// The machine name of uname(2) (`x86_64`, `e2k`).
fn machine() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.machine().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A field of /etc/os-release (unquoted).
fn os_release(key: &str) -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default()
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Bytes, from /proc/meminfo.
fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn os_release_fields_are_unquoted() {
        let name = super::os_release("PRETTY_NAME");
        assert!(!name.starts_with('"'), "{name}");
    }
}
