//! Real QEMU under TCG: Debian's kernel with a busybox initramfs made here.
//! One QEMU at a time ([`common::qemu_lock`]).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use yurta_vm::accel::{self, HostProbe};
use yurta_vm::cmdline::{self, AccelKind, Resolved, VmPaths};
use yurta_vm::console::Console;
use yurta_vm::instance::{Instance, StopHow};
use yurta_vm::{disk, Accel, Arch, ByteSize, DiskConfig, DiskFormat, EventKind, VmConfig};

use common::{MARK_READY, MARK_UP};

const BOOT_TIMEOUT: Duration = Duration::from_secs(60);

fn tcg_paused() -> Resolved {
    Resolved {
        accel: AccelKind::Tcg,
        machine: Some("q35".into()),
        paused: true,
    }
}

fn guest_config(kernel: &Path, initrd: &Path, disk: &DiskConfig, extra: &str) -> VmConfig {
    let mut c = VmConfig::new("itest");
    c.arch = Arch::X86_64;
    c.accel = Accel::Tcg;
    c.memory = "256M".parse().unwrap();
    c.kernel = Some(kernel.to_path_buf());
    c.initrd = Some(initrd.to_path_buf());
    c.cmdline = Some(format!("console=ttyS0 quiet panic=-1 {extra}"));
    c.disks.push(disk.clone());
    c
}

/// Starts paused, attaches the console, lets the guest run; returns the
/// instance, the console and the time from `cont` to the first marker.
fn boot(config: &VmConfig, paths: &VmPaths) -> (Instance, Console, Duration) {
    let plan = yurta_vm::plan(config, paths, true).unwrap();
    assert_eq!(plan.accel.accel, AccelKind::Tcg);
    let mut vm = Instance::start(&plan.command, paths, Duration::from_secs(10)).unwrap();
    let mut console = Console::connect(&paths.serial, Duration::from_secs(5)).unwrap();
    assert_eq!(vm.qmp().query_status().unwrap().status, "prelaunch");
    let t0 = Instant::now();
    vm.qmp().cont().unwrap();
    console.read_until(MARK_UP, BOOT_TIMEOUT).unwrap();
    let boot = t0.elapsed();
    console.read_until(MARK_READY, BOOT_TIMEOUT).unwrap();
    (vm, console, boot)
}

fn assert_gone(pid: u32, paths: &VmPaths) {
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "QEMU {pid} still there"
    );
    for f in paths.runtime_files() {
        assert!(!f.exists(), "{} left behind", f.display());
    }
}

fn drain_events(vm: &mut Instance) -> Vec<EventKind> {
    let mut v = Vec::new();
    while let Ok(Some(e)) = vm.qmp().next_event(Duration::ZERO) {
        v.push(e.kind);
    }
    v
}

struct Kit {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    kernel: PathBuf,
    initrd: PathBuf,
}

fn kit() -> Option<Kit> {
    let kernel = match common::host_kit() {
        Ok(k) => k,
        Err(why) => {
            eprintln!("skipped: {why}");
            return None;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let initrd = common::build_initramfs(&kernel, &dir);
    Some(Kit {
        _tmp: tmp,
        dir,
        kernel,
        initrd,
    })
}

#[test]
fn boot_console_qmp_stop_and_disk_survives_restart() {
    let _g = common::qemu_lock();
    let Some(k) = kit() else { return };
    let data = disk::create_qcow2(&k.dir.join("data.qcow2"), "64M".parse().unwrap()).unwrap();
    let paths = VmPaths::in_dir(&k.dir.join("run"));

    let config = guest_config(&k.kernel, &k.initrd, &data, "yurta.write=mark-4711");
    let (mut vm, mut console, boot_time) = boot(&config, &paths);
    eprintln!(
        "boot 1: first guest line {:.2} s after cont (TCG)",
        boot_time.as_secs_f64()
    );
    assert!(
        console.transcript().contains("YURTA-DISK-WROTE mark-4711"),
        "{}",
        console.transcript()
    );
    assert!(
        !console.transcript().contains("INSMOD-FAILED"),
        "{}",
        console.transcript()
    );
    let st = vm.qmp().query_status().unwrap();
    assert!(st.running && st.status == "running", "{st:?}");
    check_ps_name(vm.pid());

    console.write_str("echo hi-$((6*7))-guest\n").unwrap();
    console
        .read_until("hi-42-guest", Duration::from_secs(20))
        .unwrap();

    let pid = vm.pid();
    let t = Instant::now();
    let how = vm.stop(Duration::from_secs(3));
    eprintln!("stop: {how:?} after {:.2} s", t.elapsed().as_secs_f64());
    // busybox sh as init ignores the ACPI power button: quit follows.
    assert!(matches!(how, StopHow::Quit | StopHow::Powerdown), "{how:?}");
    assert!(drain_events(&mut vm).contains(&EventKind::Powerdown));
    assert_gone(pid, &paths);
    drop(vm);

    let config = guest_config(&k.kernel, &k.initrd, &data, "");
    let (mut vm, console, boot_time) = boot(&config, &paths);
    eprintln!(
        "boot 2: first guest line {:.2} s after cont (TCG)",
        boot_time.as_secs_f64()
    );
    assert!(
        console.transcript().contains("YURTA-DISK-READ mark-4711"),
        "{}",
        console.transcript()
    );
    let pid = vm.pid();
    vm.kill();
    assert_gone(pid, &paths);
    assert_eq!(common::files_in(&paths.dir), ["qemu.log"]);
    assert!(disk::remove_created(std::slice::from_ref(&data)).is_empty());
    assert!(!data.path.exists());
}

/// `-name` is in the command line and the process name (`ps`, `top`).
fn check_ps_name(pid: u32) {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let i = args.iter().position(|a| a == "-name").unwrap();
    assert_eq!(args[i + 1], "itest,process=yurta-vm-itest");
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "yurta-vm-itest");
}

#[test]
fn qemu_refusing_to_start_is_one_line_and_leaves_nothing() {
    let _g = common::qemu_lock();
    if common::host_kit().is_err() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("not-a.qcow2");
    std::fs::write(&bogus, b"definitely not qcow2").unwrap();
    let mut c = VmConfig::new("bad");
    c.arch = Arch::X86_64;
    c.disks.push(DiskConfig {
        path: bogus.clone(),
        format: DiskFormat::Qcow2,
        readonly: false,
        created: false,
    });
    c.validate().unwrap();
    let paths = VmPaths::in_dir(&tmp.path().join("run"));
    let cmd = cmdline::build(&c, &paths, &tcg_paused()).unwrap();
    let e = Instance::start(&cmd, &paths, Duration::from_secs(10))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("qemu-system-x86_64 exited at start (exit status: 1): "),
        "{e}"
    );
    assert!(e.contains("not-a.qcow2") && !e.contains('\n'), "{e}");
    assert_eq!(common::files_in(&paths.dir), ["qemu.log"]);
}

#[test]
fn accel_auto_does_not_hang_and_tcg_probe_sees_the_kernel() {
    let _g = common::qemu_lock();
    let Ok(kernel) = common::host_kit() else {
        return;
    };
    let t = Instant::now();
    let d = accel::decide(
        Accel::Auto,
        Arch::X86_64,
        &HostProbe::new(Arch::X86_64, Some(&kernel)),
    )
    .unwrap();
    eprintln!(
        "accel auto: {:?}: {} ({:.1} s)",
        d.accel,
        d.reason,
        t.elapsed().as_secs_f64()
    );
    assert!(t.elapsed() < accel::PROBE_DEADLINE + Duration::from_secs(3));
    let first = accel::first_serial_byte(
        Arch::X86_64,
        AccelKind::Tcg,
        &kernel,
        Duration::from_secs(30),
    )
    .unwrap()
    .expect("the kernel prints under TCG");
    eprintln!("TCG: first serial byte after {:.2} s", first.as_secs_f64());
}

#[test]
fn bad_input_is_one_line_naming_the_value_and_makes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = VmConfig::new("bad");
    let missing = tmp.path().join("vmlinuz-missing");
    c.kernel = Some(missing.clone());
    let e = c.validate().unwrap_err().to_string();
    assert_eq!(e, format!("kernel {}: file not found", missing.display()));
    let e = "12x".parse::<ByteSize>().unwrap_err().to_string();
    assert!(e.starts_with("bad size \"12x\""), "{e}");
    let e = "mips".parse::<Arch>().unwrap_err().to_string();
    assert!(e.starts_with("unknown arch \"mips\""), "{e}");
    let root = tmp.path().join("vms");
    yurta_vm::state::create_vm_dir(&root, "web").unwrap();
    let e = yurta_vm::state::create_vm_dir(&root, "web")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "VM \"web\" already exists");
    assert_eq!(common::files_in(tmp.path()), ["vms"]);
}
