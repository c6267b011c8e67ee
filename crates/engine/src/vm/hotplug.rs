//! Disks added to and removed from a VM (`vm disk add|rm`). On a running VM the disk is hot-plugged over QMP
//! (`blockdev-add` + `device_add` on a free PCIe root port, `device_del`
//! then `blockdev-del` once the guest let go); on a stopped one only the
//! record changes. Either way the VM keeps the disk across restarts.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Map, Value};
use yurta_vm::cmdline::{hotplug_bus, HOTPLUG_SLOTS};
use yurta_vm::qmp::EventKind;
use yurta_vm::{DiskConfig, Qmp, VmConfig};

use super::create::new_or_existing_disk;
use super::lifecycle::lock_settled;
use super::store::{Status, VmDir, VmStore};
use crate::lifecycle::Host;

/// The guest must release the device (Linux's pciehp waits 5 s after the
/// attention button).
const UNPLUG_TIMEOUT: Duration = Duration::from_secs(30);

fn load_slots(vm: &VmDir) -> Map<String, Value> {
    crate::fsutil::read_json(&vm.hotplug()).unwrap_or_default()
}

/// Adds a disk (a size: a new one; else an existing file) to VM `name`,
/// hot-plugged when it runs; its name in the VM (`vblkN`).
pub fn add(host: &Host, name: &str, spec: &str) -> anyhow::Result<String> {
    let vm = VmStore::new(&host.root).get(name)?;
    let (_lock, mut record, view) = lock_settled(host, &vm)?;
    let running = view.status == Status::Running;
    let disk = new_or_existing_disk(&vm, spec, &record.config.disks)?;
    let index = record.config.disks.len();
    if running {
        if let Err(e) = plug(&vm, &record.config, &disk, index) {
            yurta_vm::disk::remove_created(std::slice::from_ref(&disk));
            return Err(e);
        }
    }
    record.config.disks.push(disk);
    vm.save(&record)?;
    Ok(format!("vblk{index}"))
}

fn plug(vm: &VmDir, config: &VmConfig, disk: &DiskConfig, index: usize) -> anyhow::Result<()> {
    let mut slots = load_slots(vm);
    let arch_has_ports = config.arch.info().hotplug_port.is_some();
    let bus = (0..HOTPLUG_SLOTS)
        .map(hotplug_bus)
        .find(|b| !slots.values().any(|v| v.as_str() == Some(b)));
    let bus = match (arch_has_ports, bus) {
        (true, None) => bail!(
            "VM {}: all {HOTPLUG_SLOTS} hot-plug slots are taken; stop the VM to add more disks",
            vm.name
        ),
        (true, Some(b)) => Some(b),
        (false, _) => None,
    };
    let mut q = vm.control()?;
    let (id, node) = qemu_names(index);
    let opts = json!({
        "driver": disk.format.as_str(),
        "node-name": node,
        "read-only": disk.readonly,
        "file": {"driver": "file", "filename": disk.path},
    });
    q.blockdev_add(opts.as_object().cloned().unwrap_or_default())?;
    let mut props = Map::new();
    props.insert("drive".into(), node.clone().into());
    if let Some(b) = &bus {
        props.insert("bus".into(), b.clone().into());
    }
    if let Err(e) = q.device_add("virtio-blk-pci", &id, props) {
        let _ = q.blockdev_del(&node);
        return Err(e.into());
    }
    slots.insert(id, bus.map(Value::from).unwrap_or(Value::Null));
    crate::fsutil::write_json(&vm.hotplug(), &slots)?;
    Ok(())
}

/// Removes disk `disk` (`vblkN` or its path) from VM `name`, unplugged
/// when it runs; a disk yurta made is deleted. Returns the warnings of a
/// deletion that failed.
pub fn remove(host: &Host, name: &str, disk: &str) -> anyhow::Result<Vec<String>> {
    let vm = VmStore::new(&host.root).get(name)?;
    let (_lock, mut record, view) = lock_settled(host, &vm)?;
    let running = view.status == Status::Running;
    let index = record
        .config
        .disks
        .iter()
        .enumerate()
        .position(|(i, d)| disk == format!("vblk{i}") || d.path.as_os_str() == disk)
        .with_context(|| format!("VM {} has no disk {disk}", vm.name))?;
    if running {
        unplug(&vm, index)?;
    }
    let removed = record.config.disks.remove(index);
    vm.save(&record)?;
    Ok(
        yurta_vm::disk::remove_created(std::slice::from_ref(&removed))
            .iter()
            .map(|e| e.to_string())
            .collect(),
    )
}

/// QEMU's device id and block node of a disk plugged while running: not
/// `vblkN`/`diskN`, which the boot's own disks (and the cloud-init seed)
/// may already use.
fn qemu_names(index: usize) -> (String, String) {
    (format!("hotdisk{index}"), format!("hotdisk{index}-node"))
}

fn unplug(vm: &VmDir, index: usize) -> anyhow::Result<()> {
    let (id, node) = qemu_names(index);
    let mut slots = load_slots(vm);
    if !slots.contains_key(&id) {
        bail!(
            "VM {}: vblk{index} was attached at boot and cannot be unplugged while it runs; stop the VM first",
            vm.name
        );
    }
    let mut q = vm.control()?;
    q.device_del(&id)?;
    wait_deleted(&mut q, &id)
        .with_context(|| format!("VM {}: the guest did not release vblk{index}", vm.name))?;
    q.blockdev_del(&node)?;
    slots.remove(&id);
    crate::fsutil::write_json(&vm.hotplug(), &slots)?;
    Ok(())
}

fn wait_deleted(q: &mut Qmp, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + UNPLUG_TIMEOUT;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(e) = q.next_event(left)? {
            if matches!(&e.kind, EventKind::DeviceDeleted { device: Some(d), .. } if d == id) {
                return Ok(());
            }
        }
    }
    bail!("no DEVICE_DELETED within {} s", UNPLUG_TIMEOUT.as_secs())
}
