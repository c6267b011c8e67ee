//! From a [`VmConfig`] to the QEMU command to run: validation, the
//! accelerator decision, the machine type, the argv. The one call the CLI
//! makes before [`crate::instance::Instance::start`].

use crate::accel::{self, CachedProbe, Decision, HostProbe, KvmProbe};
use crate::arch::{self, Arch};
use crate::cmdline::{self, QemuCommand, Resolved, VmPaths};
use crate::config::VmConfig;
use crate::Error;

/// What will run, and why this accelerator.
#[derive(Debug, Clone)]
pub struct Plan {
    pub command: QemuCommand,
    pub accel: Decision,
    pub machine: Option<String>,
}

/// Plans with the real host ([`HostProbe`] for `--accel auto`).
pub fn plan(config: &VmConfig, paths: &VmPaths, paused: bool) -> Result<Plan, Error> {
    let probe = HostProbe::new(config.arch, config.kernel.as_deref());
    plan_with(config, paths, paused, &probe)
}

/// As [`plan`], with the `--accel auto` probe remembered in `cache`
/// ([`CachedProbe`]).
pub fn plan_cached(
    config: &VmConfig,
    paths: &VmPaths,
    paused: bool,
    cache: &std::path::Path,
) -> Result<Plan, Error> {
    let host = HostProbe::new(config.arch, config.kernel.as_deref());
    if config.accel != crate::config::Accel::Auto {
        // Only auto probes: no key to work out.
        return plan_with(config, paths, paused, &host);
    }
    let probe = CachedProbe::for_host(host, cache);
    plan_with(config, paths, paused, &probe)
}

pub fn plan_with(
    config: &VmConfig,
    paths: &VmPaths,
    paused: bool,
    probe: &dyn KvmProbe,
) -> Result<Plan, Error> {
    config.validate()?;
    let accel = accel::decide(config.accel, config.arch, probe)?;
    let machine = machine_type(config.arch, config.machine.as_deref())?;
    let resolved = Resolved {
        accel: accel.accel,
        machine: machine.clone(),
        paused,
    };
    let command = cmdline::build(config, paths, &resolved)?;
    Ok(Plan {
        command,
        accel,
        machine,
    })
}

/// The machine type: the one asked for, the table's, or (e2k) the one the
/// host's QEMU marks as default.
pub fn machine_type(arch: Arch, requested: Option<&str>) -> Result<Option<String>, Error> {
    if let Some(m) = requested {
        return Ok(Some(m.to_string()));
    }
    let info = arch.info();
    match info.default_machine {
        Some(m) => Ok(Some(m.to_string())),
        None => Ok(arch::discover_default_machine(info.qemu_binary)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Accel;
    use std::path::Path;

    struct Hangs;
    impl KvmProbe for Hangs {
        fn device(&self) -> Result<(), String> {
            Ok(())
        }
        fn guest_boots(&self) -> Result<bool, String> {
            Ok(false)
        }
    }

    #[test]
    fn plans_tcg_when_kvm_hangs() {
        let mut c = VmConfig::new("p");
        c.accel = Accel::Auto;
        let paths = VmPaths::in_dir(Path::new("/run/p"));
        let p = plan_with(&c, &paths, true, &Hangs).unwrap();
        assert_eq!(p.accel.accel, cmdline::AccelKind::Tcg);
        assert_eq!(p.machine, c.arch.info().default_machine.map(String::from));
        assert!(p.command.args.contains(&"-S".to_string()));
    }

    #[test]
    fn errors_come_before_anything_runs() {
        let mut c = VmConfig::new("p");
        c.kernel = Some("/nonexistent/k".into());
        let paths = VmPaths::in_dir(Path::new("/run/p"));
        let e = plan_with(&c, &paths, false, &Hangs)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "kernel /nonexistent/k: file not found");
    }

    #[test]
    fn machine_types() {
        assert_eq!(
            machine_type(Arch::X86_64, Some("pc")).unwrap().as_deref(),
            Some("pc")
        );
        assert_eq!(
            machine_type(Arch::Aarch64, None).unwrap().as_deref(),
            Some("virt")
        );
        if std::process::Command::new("qemu-system-e2k")
            .arg("--version")
            .output()
            .is_err()
        {
            let e = machine_type(Arch::E2k, None).unwrap_err().to_string();
            assert!(e.starts_with("qemu-system-e2k -machine help: "), "{e}");
        }
    }
}
