//! Disks through the real qemu-img.

use yurta_vm::disk;
use yurta_vm::{ByteSize, DiskFormat};

fn have_qemu_img() -> bool {
    std::process::Command::new(disk::QEMU_IMG)
        .arg("--version")
        .output()
        .is_ok()
}

#[test]
fn create_overlay_info_remove() {
    if !have_qemu_img() {
        eprintln!("skipped: no qemu-img");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.qcow2");
    let d = disk::create_qcow2(&base, "64M".parse::<ByteSize>().unwrap()).unwrap();
    assert!(d.created);
    let i = disk::info(&base).unwrap();
    assert_eq!((i.format.as_str(), i.virtual_size), ("qcow2", 64 << 20));

    let e = disk::create_qcow2(&base, ByteSize(1 << 20))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "disk {}: already exists; yurta does not overwrite disks",
            base.display()
        )
    );

    let over = dir.path().join("over.qcow2");
    let o = disk::create_overlay(&over, &base).unwrap();
    let i = disk::info(&over).unwrap();
    assert_eq!(i.virtual_size, 64 << 20);
    assert_eq!(i.backing_filename.as_deref(), base.to_str());
    assert_eq!(disk::image_format(&over).unwrap(), DiskFormat::Qcow2);

    let mut kept = o.clone();
    kept.path = base.clone();
    kept.created = false;
    assert!(disk::remove_created(&[o.clone(), kept, o]).is_empty());
    assert!(!over.exists());
    assert!(base.exists(), "a disk yurta did not create stays");
}

#[test]
fn errors_name_the_file() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.img");
    let e = disk::create_overlay(&dir.path().join("o.qcow2"), &missing).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("base image {}: file not found", missing.display())
    );
    let e = disk::info(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("qemu-img info {}: ", missing.display())),
        "{e}"
    );
    assert!(!e.contains('\n'));
}
