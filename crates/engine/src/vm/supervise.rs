//! The process that owns one boot of a VM (`yurta vm __supervise NAME`,
//! started by `vm start` in its own session): it makes the taps and the
//! cloud-init seed, starts QEMU paused, connects the serial console, lets
//! the guest run, and reports `{"pid":N}` or `{"error":"…"}` on the sync
//! descriptor. Then, until QEMU exits, it records the console to
//! `console.log`, serves console clients on `run/console.sock`, and
//! listens to QMP events for the exit reason. At the end it removes the
//! taps and QEMU's files and writes `run/exit.json`.

use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use crate::fsutil;
use anyhow::Context;
use yurta_network::{Networks, TapEndpoint};
use yurta_vm::config::NetConfig;
use yurta_vm::qmp::EventKind;
use yurta_vm::{DiskConfig, DiskFormat, Display, Instance, VncListen};

use super::store::{self, Exit, Live, VmDir, VmRecord, VmStore};
use crate::lifecycle::{events, netns, Host};

/// How long QEMU gets to open its QMP socket.
const QMP_TIMEOUT: Duration = Duration::from_secs(20);

pub fn supervise(host: &Host, name: &str, sync_fd: RawFd) -> anyhow::Result<()> {
    // SAFETY: `vm start` hands us this descriptor, open and ours alone.
    let mut sync = unsafe { File::from_raw_fd(sync_fd) };
    // SAFETY: F_SETFD on our own descriptor; QEMU must not inherit it, or
    // `vm start` would wait for QEMU's end.
    unsafe { libc::fcntl(sync_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    let vm = VmStore::new(&host.root).get(name)?;
    let record = vm.load()?;
    let nets = netns::networks(host)?;
    let mut boot = match Boot::start(&vm, &record, &nets) {
        Ok(b) => b,
        Err(e) => {
            let msg = serde_json::json!({ "error": crate::lifecycle::one_line(&e) });
            let _ = writeln!(sync, "{msg}");
            return Err(e);
        }
    };
    let _ = writeln!(
        sync,
        "{}",
        serde_json::json!({ "pid": boot.instance.pid() })
    );
    drop(sync);
    yurta_fault::point("vm.reported");
    let reason = boot.watch();
    boot.finish(&host.root, &nets, reason);
    Ok(())
}

/// One running boot and what it made.
struct Boot {
    vm: VmDir,
    instance: Instance,
    taps: Vec<TapEndpoint>,
    owner: String,
}

impl Boot {
    fn start(vm: &VmDir, record: &VmRecord, nets: &Networks) -> anyhow::Result<Boot> {
        let run = vm.run();
        std::fs::create_dir_all(&run).with_context(|| format!("create {}", run.display()))?;
        let me = std::process::id();
        let starting = store::Starting {
            supervisor_pid: me,
            supervisor_start: store::start_time(me).unwrap_or(0),
        };
        fsutil::write_json(&vm.starting(), &starting)?;
        yurta_fault::point("vm.starting");
        let owner = owner(&vm.name);
        let mut taps = Vec::new();
        let started = start_qemu(vm, record, nets, &owner, &mut taps);
        match started {
            Ok(instance) => Ok(Boot {
                vm: vm.clone(),
                instance,
                taps,
                owner,
            }),
            Err(e) => {
                remove_taps(nets, &owner, &taps);
                let _ = std::fs::remove_file(vm.seed());
                let _ = std::fs::remove_file(vm.console_sock());
                Err(e)
            }
        }
    }

    /// Until QEMU exits; the reason it did.
    fn watch(&mut self) -> String {
        let mut shutdown: Option<String> = None;
        loop {
            match self.instance.qmp().next_event(Duration::from_millis(500)) {
                Ok(Some(e)) => {
                    if let EventKind::Shutdown { reason, .. } = e.kind {
                        shutdown = Some(reason);
                    }
                }
                Ok(None) => {}
                // The socket closes as QEMU exits.
                Err(_) => {
                    self.instance.wait_timeout(Duration::from_millis(200));
                }
            }
            if let Some(status) = self.instance.try_wait() {
                return exit_reason(shutdown, status, &self.instance.log());
            }
        }
    }

    fn finish(self, root: &std::path::Path, nets: &Networks, reason: String) {
        let Boot {
            vm,
            mut instance,
            taps,
            owner,
        } = self;
        instance.kill();
        drop(instance);
        let _ = std::fs::remove_file(vm.console_sock());
        let _ = std::fs::remove_file(vm.seed());
        for e in remove_taps(nets, &owner, &taps) {
            // The supervisor's own log (run/supervisor.log).
            eprintln!("yurta: {e}");
        }
        let exit = Exit {
            finished_at: yurta_images::time::now_rfc3339(),
            exit_reason: reason,
        };
        let _ = fsutil::write_json(&vm.exit(), &exit);
        events::vm_died(root, &vm.name, &exit.exit_reason);
        yurta_fault::point("vm.exited");
    }
}

/// The lease owner and tap owner name of a VM.
pub fn owner(name: &str) -> String {
    format!("vm {name}")
}

/// Detaches the boot's taps; the errors of those that would not go.
pub fn remove_taps(nets: &Networks, owner: &str, taps: &[TapEndpoint]) -> Vec<String> {
    taps.iter()
        .filter_map(|t| nets.detach_tap(&t.network, owner, &t.tap).err())
        .map(|e| e.to_string())
        .collect()
}

fn start_qemu(
    vm: &VmDir,
    record: &VmRecord,
    nets: &Networks,
    owner: &str,
    taps: &mut Vec<TapEndpoint>,
) -> anyhow::Result<Instance> {
    let mut config = record.config.clone();
    for req in &record.networks {
        let tap = nets.attach_tap(&req.network, owner, req.ip)?;
        yurta_fault::point("vm.tap");
        config.networks.push(NetConfig {
            ifname: tap.tap.clone(),
            mac: Some(req.mac.clone()),
        });
        taps.push(tap);
    }
    if let Some(user_data) = &record.cloud_init {
        config.disks.push(seed_disk(vm, record, user_data, taps)?);
    }
    let vnc = if record.vnc {
        let port = free_vnc_port()?;
        config.display = Display::Vnc(VncListen::Port(port));
        Some(format!("127.0.0.1:{port}"))
    } else {
        None
    };
    let paths = vm.paths();
    let cache = super::store::accel_cache(vm);
    let plan = yurta_vm::plan::plan_cached(&config, &paths, true, &cache)?;
    let mut instance = Instance::start(&plan.command, &paths, QMP_TIMEOUT)?;
    yurta_fault::point("vm.qemu");
    let serial = UnixStream::connect(&paths.serial)
        .with_context(|| format!("connect to {}", paths.serial.display()))?;
    super::relay::relay_console(vm, serial)?;
    instance.qmp().cont()?;
    let live = Live {
        pid: instance.pid(),
        pid_start: store::start_time(instance.pid()).unwrap_or(0),
        supervisor_pid: std::process::id(),
        supervisor_start: store::start_time(std::process::id()).unwrap_or(0),
        started_at: yurta_images::time::now_rfc3339(),
        accel: plan.accel.accel.as_str().to_string(),
        accel_reason: plan.accel.reason.clone(),
        taps: taps.clone(),
        vnc,
        command: std::iter::once(plan.command.program.clone())
            .chain(plan.command.args.iter().cloned())
            .collect(),
    };
    fsutil::write_json(&vm.live(), &live)?;
    yurta_fault::point("vm.live");
    Ok(instance)
}

/// The NoCloud seed: the user's user-data, the VM's name as hostname, and
/// the first network's address as a static configuration.
fn seed_disk(
    vm: &VmDir,
    record: &VmRecord,
    user_data: &std::path::Path,
    taps: &[TapEndpoint],
) -> anyhow::Result<DiskConfig> {
    let data = std::fs::read(user_data).with_context(|| format!("read {}", user_data.display()))?;
    let network =
        taps.first()
            .zip(record.networks.first())
            .map(|(t, req)| yurta_vm::seed::NetworkConfig {
                mac: req.mac.as_str().to_string(),
                address: t.ip,
                prefix: t.prefix,
                gateway: t.gateway,
                dns: host_ipv4_nameservers(),
            });
    let files = yurta_vm::seed::nocloud_files(&data, &record.id, &vm.name, network.as_ref());
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let path = vm.seed();
    yurta_vm::seed::write_seed_iso(&path, &borrowed)?;
    Ok(DiskConfig {
        path,
        format: DiskFormat::Raw,
        readonly: true,
        created: false,
    })
}

/// The host's name servers a guest can reach (IPv4: the seed's network
/// config is IPv4), as containers get them.
fn host_ipv4_nameservers() -> Vec<std::net::Ipv4Addr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    yurta_network::files::host_nameservers(&text)
        .into_iter()
        .filter_map(|ip| match ip {
            std::net::IpAddr::V4(v4) => Some(v4),
            std::net::IpAddr::V6(_) => None,
        })
        .collect()
}

/// The first TCP port from 5900 nobody listens on (on 127.0.0.1).
fn free_vnc_port() -> anyhow::Result<u16> {
    (5900..6000)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .context("no free VNC port in 5900-5999")
}

/// Why QEMU ended, for `inspect`'s ExitReason: QEMU's own shutdown cause
/// (`guest-shutdown`, `host-qmp-quit`, …) when it said one, else how the
/// process ended.
fn exit_reason(shutdown: Option<String>, status: ExitStatus, log: &str) -> String {
    if let Some(r) = shutdown {
        return r;
    }
    if let Some(sig) = status.signal() {
        return format!("QEMU killed by signal {sig}");
    }
    let last = log.lines().rev().find(|l| !l.trim().is_empty());
    match (status.code(), last) {
        (Some(0), _) => "QEMU exited".into(),
        (Some(c), Some(l)) => format!("QEMU exited with code {c}: {l}"),
        (Some(c), None) => format!("QEMU exited with code {c}"),
        (None, _) => "QEMU ended".into(),
    }
}
