//! `yurta info` / `yurta system info`: Docker's layout over what yurta
//! has: containers by state, images, storage, cgroups, the runtime, the
//! host (kernel, OS, architecture and e2k variant, CPUs, memory) and the
//! registries' configuration. Container states are the records' (as
//! last reconciled by a command that looked at the container).

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

use crate::Ctx;

#[derive(Args)]
pub struct InfoArgs {
    /// json, or a Go template ({{.Containers}}, {{.CgroupVersion}})
    #[arg(short, long)]
    pub format: Option<String>,
}

pub fn info(ctx: &Ctx, a: InfoArgs) -> anyhow::Result<()> {
    let v = report(ctx)?;
    match a.format.as_deref() {
        Some(f) => outln!("{}", crate::format::render(f, &v)?)?,
        None => print_human(&v)?,
    }
    Ok(())
}

/// Docker's `info --format '{{json .}}'` fields that yurta has: the
/// engine's (yurta_engine::system::info) and the client's.
pub fn report(ctx: &Ctx) -> anyhow::Result<Value> {
    let mut v = yurta_engine::system::info(&ctx.root, &host(&ctx.binaries)?)?;
    let b = &crate::version::BUILD;
    v["ClientInfo"] = json!({"Version": b.version, "Context": "default", "Debug": false});
    Ok(v)
}

/// What the engine's info needs from this binary: the build, the runtime
/// beside it, the registries' configuration.
pub fn host(bins: &yurta_engine::Binaries) -> anyhow::Result<yurta_engine::system::Host> {
    Ok(yurta_engine::system::Host {
        build: crate::version::BUILD,
        runtime: bins.runtime.clone(),
        runtime_version: runtime_version(bins),
        insecure_registries: yurta_engine::distribution::insecure_registries(),
    })
}

/// `yurta-runtime --version`'s version.
pub fn runtime_version(bins: &yurta_engine::Binaries) -> String {
    let out = std::process::Command::new(&bins.runtime)
        .arg("--version")
        .output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().last().map(str::to_string))
        .unwrap_or_default()
}

pub fn kernel_version() -> String {
    yurta_engine::system::version::kernel_version()
}

/// `23.44GiB` (Docker's binary units with two decimals).
fn bytes_binary(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2}{}", UNITS[i]).replace(".00", "")
}

fn print_human(v: &Value) -> anyhow::Result<()> {
    let s = |k: &str| match v.pointer(k) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    outln!(
        "Client:\n Version:    {}\n Context:    default\n Debug Mode: false\n",
        s("/ClientInfo/Version")
    )?;
    outln!("Server:")?;
    outln!(" Containers: {}", s("/Containers"))?;
    outln!(
        "  Running: {}\n  Paused: {}\n  Stopped: {}",
        s("/ContainersRunning"),
        s("/ContainersPaused"),
        s("/ContainersStopped")
    )?;
    outln!(" Images: {}", s("/Images"))?;
    outln!(" Server Version: {}", s("/ServerVersion"))?;
    outln!(
        " Storage Driver: {}\n  Root Dir: {}",
        s("/Driver"),
        s("/DriverStatus/0/1")
    )?;
    outln!(" Logging Driver: {}", s("/LoggingDriver"))?;
    outln!(
        " Cgroup Driver: {}\n Cgroup Version: {} ({})",
        s("/CgroupDriver"),
        s("/CgroupVersion"),
        s("/CgroupMode")
    )?;
    outln!(" Runtimes: yurta-runtime\n Default Runtime: yurta-runtime")?;
    outln!(
        "  Path: {}\n  Version: {}",
        s("/Runtimes/yurta-runtime/path"),
        s("/RuntimeVersion")
    )?;
    outln!(" Kernel Version: {}", s("/KernelVersion"))?;
    outln!(
        " Operating System: {}\n OSType: {}",
        s("/OperatingSystem"),
        s("/OSType")
    )?;
    outln!(" Architecture: {}", s("/Architecture"))?;
    if !s("/Variant").is_empty() {
        outln!(" Variant: {}", s("/Variant"))?;
    }
    outln!(" Platform: {}", s("/Platform"))?;
    outln!(" CPUs: {}", s("/NCPU"))?;
    let mem = v
        .get("MemTotal")
        .and_then(Value::as_u64)
        .context("MemTotal")?;
    outln!(" Total Memory: {}", bytes_binary(mem))?;
    outln!(" Name: {}", s("/Name"))?;
    outln!(" Docker Root Dir: {}", s("/DockerRootDir"))?;
    outln!(" Debug Mode: false\n Experimental: false")?;
    outln!(" Insecure Registries:")?;
    for r in v
        .pointer("/RegistryConfig/InsecureRegistries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        outln!("  {}", r.as_str().unwrap_or_default())?;
    }
    outln!(" Live Restore Enabled: true")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_in_binary_units() {
        assert_eq!(super::bytes_binary(25_165_824_000), "23.44GiB");
        assert_eq!(super::bytes_binary(1024), "1KiB");
    }
}
