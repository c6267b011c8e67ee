//! VM snapshots (`vm snapshot create|ls|restore|rm`, the web console's
//! snapshot buttons). A running VM is snapshotted whole
//! (memory, devices and disks: HMP `savevm`/`loadvm`/`delvm` over the
//! control QMP socket); a stopped one disk by disk (`qemu-img snapshot`).
//! Either way the snapshots live inside the VM's qcow2 disks.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use yurta_vm::DiskFormat;

use super::lifecycle::lock_settled;
use super::store::{Status, VmDir, VmRecord, VmStore};
use crate::lifecycle::Host;

/// savevm of a guest with much memory under TCG takes a while.
const SAVE_TIMEOUT: Duration = Duration::from_secs(300);

/// What to do with a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Restore,
    Remove,
}

impl Op {
    fn hmp(self) -> &'static str {
        match self {
            Op::Create => "savevm",
            Op::Restore => "loadvm",
            Op::Remove => "delvm",
        }
    }
    fn qemu_img(self) -> &'static str {
        match self {
            Op::Create => "-c",
            Op::Restore => "-a",
            Op::Remove => "-d",
        }
    }
}

/// Creates, restores or removes snapshot `snapshot` of VM `name`.
pub fn change(host: &Host, name: &str, snapshot: &str, op: Op) -> anyhow::Result<()> {
    check_name(snapshot)?;
    let vm = VmStore::new(&host.root).get(name)?;
    let (_lock, record, view) = lock_settled(host, &vm)?;
    let disks = snapshot_disks(&vm, &record)?;
    let exists = list_names(&disks[0])?.iter().any(|n| n == snapshot);
    match op {
        Op::Create if exists => bail!("VM {}: snapshot {} already exists", vm.name, snapshot),
        Op::Restore | Op::Remove if !exists => {
            bail!("VM {}: no snapshot {}", vm.name, snapshot)
        }
        _ => {}
    }
    if view.status == Status::Running {
        let mut q = vm.control()?;
        q.timeout = SAVE_TIMEOUT;
        let out = q.human_monitor_command(&format!("{} {}", op.hmp(), snapshot))?;
        // HMP reports failure as text, not as a QMP error.
        let out = out.trim();
        if out.contains("Error") || out.contains("error") {
            bail!("VM {}: {} {}: {out}", vm.name, op.hmp(), snapshot);
        }
        return Ok(());
    }
    for d in &disks {
        qemu_img(&["snapshot", op.qemu_img(), snapshot, path_str(d)?])?;
    }
    Ok(())
}

/// qemu-img's table of the snapshots of VM `name` (empty when none).
pub fn table(host: &Host, name: &str) -> anyhow::Result<String> {
    let vm = VmStore::new(&host.root).get(name)?;
    let record = vm.load()?;
    let disks = snapshot_disks(&vm, &record)?;
    qemu_img(&["snapshot", "-l", "-U", path_str(&disks[0])?])
}

/// The snapshot names of VM `name`.
pub fn names(host: &Host, name: &str) -> anyhow::Result<Vec<String>> {
    let vm = VmStore::new(&host.root).get(name)?;
    let record = vm.load()?;
    list_names(&snapshot_disks(&vm, &record)?[0])
}

/// The VM's writable qcow2 disks (where snapshots are kept).
fn snapshot_disks(vm: &VmDir, record: &VmRecord) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let disks: Vec<_> = record
        .config
        .disks
        .iter()
        .filter(|d| d.format == DiskFormat::Qcow2 && !d.readonly)
        .map(|d| d.path.clone())
        .collect();
    if disks.is_empty() {
        bail!(
            "VM {} has no qcow2 disk to keep snapshots in (create it with --disk SIZE or --image)",
            vm.name
        );
    }
    Ok(disks)
}

/// Snapshot names of a disk (`-U`: also while QEMU holds it).
fn list_names(disk: &Path) -> anyhow::Result<Vec<String>> {
    let out = qemu_img(&["snapshot", "-l", "-U", path_str(disk)?])?;
    // "ID  TAG  VM SIZE  DATE  VM CLOCK  ICOUNT" after two header lines.
    Ok(out
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect())
}

fn check_name(s: &str) -> anyhow::Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && !s.chars().all(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !ok {
        bail!("bad snapshot name {s:?}: letters, digits, '_', '.', '-', not only digits");
    }
    Ok(())
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{}: not UTF-8", p.display()))
}

fn qemu_img(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(yurta_vm::disk::QEMU_IMG)
        .args(args)
        .output()
        .context("run qemu-img")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("qemu-img {}: {}", args.join(" "), err.trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
