use super::*;
use crate::arch::Arch;
use crate::config::{DiskConfig, DiskFormat, NetConfig};
use crate::size::ByteSize;

fn tcg() -> Resolved {
    Resolved {
        accel: AccelKind::Tcg,
        machine: Some("q35".into()),
        paused: false,
    }
}

fn base() -> VmConfig {
    let mut c = VmConfig::new("web");
    c.arch = Arch::X86_64;
    c.memory = ByteSize(2 << 30);
    c.cpus = 2;
    c
}

fn paths() -> VmPaths {
    VmPaths::in_dir(Path::new("/run/yurta/vm/web"))
}

fn joined(c: &VmConfig, r: &Resolved) -> String {
    build(c, &paths(), r).unwrap().args.join(" ")
}

#[test]
fn minimal_x86() {
    let cmd = build(&base(), &paths(), &tcg()).unwrap();
    assert_eq!(cmd.program, "qemu-system-x86_64");
    assert_eq!(
        cmd.args.join(" "),
        "-name web,process=yurta-vm-web -nodefaults -no-user-config \
         -machine type=q35,accel=tcg -smp 2 -m 2048M \
         -device pcie-root-port,id=hp0,chassis=1 -device pcie-root-port,id=hp1,chassis=2 \
         -device pcie-root-port,id=hp2,chassis=3 -device pcie-root-port,id=hp3,chassis=4 \
         -display none \
         -chardev socket,id=qmp,path=/run/yurta/vm/web/qmp.sock,server=on,wait=off \
         -mon chardev=qmp,mode=control \
         -chardev socket,id=control,path=/run/yurta/vm/web/control.sock,server=on,wait=off \
         -mon chardev=control,mode=control \
         -chardev socket,id=serial0,path=/run/yurta/vm/web/serial.sock,server=on,wait=off \
         -serial chardev:serial0 -pidfile /run/yurta/vm/web/qemu.pid"
    );
}

#[test]
fn kvm_cpu_and_paused() {
    let r = Resolved {
        accel: AccelKind::Kvm,
        machine: None,
        paused: true,
    };
    let s = joined(&base(), &r);
    assert!(s.contains("-machine accel=kvm -cpu host"), "{s}");
    assert!(s.ends_with(" -S"), "{s}");
}

#[test]
fn aarch64_tcg_cpu_max() {
    let mut c = base();
    c.arch = Arch::Aarch64;
    let cmd = build(&c, &paths(), &tcg()).unwrap();
    assert_eq!(cmd.program, "qemu-system-aarch64");
    assert!(cmd.args.join(" ").contains("-cpu max"));
}

#[test]
fn kernel_initrd_cmdline() {
    let mut c = base();
    c.kernel = Some("/boot/vmlinuz".into());
    c.initrd = Some("/boot/initrd.img".into());
    let s = joined(&c, &tcg());
    assert!(
        s.contains("-kernel /boot/vmlinuz -initrd /boot/initrd.img -append console=ttyS0"),
        "{s}"
    );
    c.cmdline = Some("console=ttyS0 quiet".into());
    let cmd = build(&c, &paths(), &tcg()).unwrap();
    let i = cmd.args.iter().position(|x| x == "-append").unwrap();
    assert_eq!(cmd.args[i + 1], "console=ttyS0 quiet");
}

#[test]
fn disks_escape_commas() {
    let mut c = base();
    c.disks.push(DiskConfig {
        path: "/v/a,b.qcow2".into(),
        format: DiskFormat::Qcow2,
        readonly: false,
        created: true,
    });
    c.disks.push(DiskConfig {
        path: "/v/base.img".into(),
        format: DiskFormat::Raw,
        readonly: true,
        created: false,
    });
    let s = joined(&c, &tcg());
    assert!(
        s.contains(
            "-drive file=/v/a,,b.qcow2,format=qcow2,if=none,id=disk0,cache=writeback \
         -device virtio-blk-pci,drive=disk0,id=vblk0"
        ),
        "{s}"
    );
    assert!(
        s.contains("format=raw,if=none,id=disk1,cache=writeback,readonly=on"),
        "{s}"
    );
}

#[test]
fn cdrom_per_arch() {
    let mut c = base();
    c.cdrom = Some("/iso/d.iso".into());
    let s = joined(&c, &tcg());
    assert!(s.contains("-device ide-cd,drive=cd0"), "{s}");
    c.arch = Arch::Riscv64;
    let s = joined(&c, &tcg());
    assert!(s.contains("-device virtio-scsi-pci,id=scsi0 -device scsi-cd,drive=cd0,bus=scsi0.0"));
}

#[test]
fn taps() {
    let mut c = base();
    c.networks.push(NetConfig {
        ifname: "yvm0".into(),
        mac: Some("52:54:00:00:00:07".parse().unwrap()),
    });
    c.networks.push(NetConfig {
        ifname: "yvm1".into(),
        mac: None,
    });
    let s = joined(&c, &tcg());
    assert!(
        s.contains(
            "-netdev tap,id=net0,ifname=yvm0,script=no,downscript=no \
         -device virtio-net-pci,netdev=net0,id=nic0,mac=52:54:00:00:00:07"
        ),
        "{s}"
    );
    assert!(
        s.contains("-device virtio-net-pci,netdev=net1,id=nic1 "),
        "{s}"
    );
}

#[test]
fn vnc() {
    let mut c = base();
    c.display = Display::Vnc(VncListen::Port(5901));
    assert!(joined(&c, &tcg()).contains("-device VGA -vnc 127.0.0.1:1"));
    c.display = Display::Vnc(VncListen::Unix("/run/v.sock".into()));
    assert!(joined(&c, &tcg()).contains("-vnc unix:/run/v.sock"));
    c.display = Display::Vnc(VncListen::Port(80));
    let e = build(&c, &paths(), &tcg()).unwrap_err();
    assert_eq!(e.to_string(), "VNC port 80 is below 5900");
}

#[test]
fn long_socket_path_is_refused() {
    let dir = format!("/{}", "d".repeat(120));
    let e = build(&base(), &VmPaths::in_dir(Path::new(&dir)), &tcg()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("socket path {dir}/qmp.sock is")),
        "{e}"
    );
}
