use super::*;
use crate::syscall::{Call, RecordingSyscall};

fn spec(json: serde_json::Value) -> Spec {
    serde_json::from_value(json).unwrap()
}

fn mounts_of(calls: &[Call]) -> Vec<(String, MsFlags)> {
    calls
        .iter()
        .filter_map(|c| match c {
            Call::Mount {
                target,
                flags,
                fstype,
                ..
            } => Some((
                format!(
                    "{}:{}",
                    target.display(),
                    fstype.clone().unwrap_or_default()
                ),
                *flags,
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn prepare_mounts_in_order_with_remounts_for_bind_options() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    let src = tmp.path().join("data");
    std::fs::create_dir_all(&rootfs).unwrap();
    std::fs::create_dir_all(&src).unwrap();
    let s = spec(serde_json::json!({
        "ociVersion": "1.2.0",
        "root": {"path": "rootfs"},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
            {"destination": "/data", "type": "bind", "source": src, "options": ["rbind", "ro", "rprivate"]}
        ]
    }));
    let sys = RecordingSyscall::default();
    let ctx = RootfsContext {
        syscall: &sys,
        rootfs: &rootfs,
        bundle: tmp.path(),
        new_cgroupns: false,
        in_userns: false,
    };
    prepare(&ctx, &s).unwrap();
    let calls = sys.calls();
    let m = mounts_of(&calls);
    let r = rootfs.display();
    assert_eq!(
        m[0],
        ("/:".to_string(), MsFlags::MS_SLAVE | MsFlags::MS_REC)
    );
    assert_eq!(m[1], (format!("{r}:"), MsFlags::MS_BIND | MsFlags::MS_REC));
    assert_eq!(m[2], (format!("{r}/proc:proc"), MsFlags::empty()));
    assert_eq!(m[3], (format!("{r}/dev:tmpfs"), MsFlags::MS_NOSUID));
    assert_eq!(
        m[4],
        (format!("{r}/data:"), MsFlags::MS_BIND | MsFlags::MS_REC)
    );
    assert!(m[5]
        .1
        .contains(MsFlags::MS_RDONLY | MsFlags::MS_REMOUNT | MsFlags::MS_BIND));
    assert_eq!(
        m[6],
        (format!("{r}/data:"), MsFlags::MS_PRIVATE | MsFlags::MS_REC)
    );
    // Default devices are made with mknod, and the /dev symlinks exist.
    let nodes = calls
        .iter()
        .filter(|c| matches!(c, Call::Mknod { .. }))
        .count();
    assert_eq!(nodes, devices::DEFAULTS.len());
    assert!(calls.contains(&Call::Symlink {
        target: "pts/ptmx".into(),
        link: rootfs.join("dev/ptmx")
    }));
}

#[test]
fn in_a_user_namespace_devices_are_bind_mounted() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = RecordingSyscall::default();
    devices::create_defaults(&sys, tmp.path(), true).unwrap();
    let binds = mounts_of(&sys.calls())
        .iter()
        .filter(|(_, f)| *f == MsFlags::MS_BIND)
        .count();
    assert_eq!(binds, devices::DEFAULTS.len());
}

#[test]
fn mount_failures_name_the_destination() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    let s = spec(serde_json::json!({
        "ociVersion": "1.2.0",
        "mounts": [{"destination": "/mnt/x", "type": "tmpfs", "source": "tmpfs"}]
    }));
    let sys = RecordingSyscall {
        fail_mount_target: Some("mnt/x".into()),
        ..Default::default()
    };
    let ctx = RootfsContext {
        syscall: &sys,
        rootfs: &rootfs,
        bundle: tmp.path(),
        new_cgroupns: false,
        in_userns: false,
    };
    let err = prepare(&ctx, &s).unwrap_err().to_string();
    assert!(err.contains("/mnt/x") && err.contains("EPERM"), "{err}");
}

#[test]
fn relative_destinations_and_unsupported_options_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let sys = RecordingSyscall::default();
    let ctx = RootfsContext {
        syscall: &sys,
        rootfs: tmp.path(),
        bundle: tmp.path(),
        new_cgroupns: false,
        in_userns: false,
    };
    let s = spec(
        serde_json::json!({"ociVersion": "1.2.0", "mounts": [{"destination": "rel", "type": "tmpfs"}]}),
    );
    assert!(prepare(&ctx, &s)
        .unwrap_err()
        .to_string()
        .contains("not absolute"));
    let s = spec(
        serde_json::json!({"ociVersion": "1.2.0", "mounts": [{"destination": "/x", "type": "bind", "source": "/tmp", "options": ["bind", "idmap"]}]}),
    );
    assert!(prepare(&ctx, &s).unwrap_err().to_string().contains("idmap"));
}

#[test]
fn pivot_uses_pivot_root_or_move() {
    let sys = RecordingSyscall::default();
    pivot(&sys, Path::new("/r"), false).unwrap();
    let calls = sys.calls();
    assert_eq!(calls[0], Call::Chdir("/r".into()));
    assert_eq!(
        calls[1],
        Call::PivotRoot {
            new_root: ".".into()
        }
    );
    assert!(calls.contains(&Call::Umount { target: ".".into() }));

    let sys = RecordingSyscall::default();
    pivot(&sys, Path::new("/r"), true).unwrap();
    let calls = sys.calls();
    assert!(calls.contains(&Call::Chroot(".".into())));
    assert!(!calls.iter().any(|c| matches!(c, Call::PivotRoot { .. })));
}
