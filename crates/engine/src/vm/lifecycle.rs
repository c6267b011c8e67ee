//! start, stop, kill, restart, rm — each under the VM's lock — and
//! "settling": folding a finished boot's run files into `vm.json` and
//! cleaning what a dead supervisor could not.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::store::{alive, Live, Status, View, VmDir, VmRecord};
use super::supervise;
use crate::fsutil::Lock;
use crate::lifecycle::{events, netns, Host};

/// How long `vm start` waits for the supervisor's report (an `--accel
/// auto` probe and QEMU's start are in it).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// After `quit`, and after SIGKILL.
const QUIT_GRACE: Duration = Duration::from_secs(5);

/// Takes the VM's lock, loads its record and settles it: how every command
/// that changes a VM begins. Returns the held lock, the record and its
/// state after [`settle`].
pub fn lock_settled(host: &Host, vm: &VmDir) -> anyhow::Result<(Lock, VmRecord, View)> {
    let lock = vm.lock()?;
    let mut record = vm.load()?;
    let view = settle(host, vm, &mut record)?;
    Ok((lock, record, view))
}

/// The VM's state now, with a finished boot folded into the record and
/// its leftovers (taps, sockets) removed. Call with the lock held.
pub fn settle(host: &Host, vm: &VmDir, record: &mut VmRecord) -> anyhow::Result<View> {
    settle_start(host, vm, record)?;
    let v = super::store::view(vm, record);
    if v.status == Status::Running {
        return Ok(v);
    }
    let Some(live) = &v.live else { return Ok(v) };
    // The supervisor removes its taps itself; after a reboot or a killed
    // supervisor nobody did.
    if vm.exit_state().is_none() {
        let nets = netns::networks(host)?;
        // A tap that will not go stays listed in the network's state,
        // where `network rm` and the next settle name it.
        let _ = supervise::remove_taps(&nets, &supervise::owner(&vm.name), &live.taps);
    }
    for (req, tap) in record.networks.iter_mut().zip(&live.taps) {
        req.ip = Some(tap.ip);
    }
    record.last = v.last.clone();
    vm.save(record)?;
    remove_run_files(vm);
    Ok(v)
}

/// A boot whose supervisor has not written `live.json`: waited for while
/// its supervisor lives (its `vm start` was killed, the start goes on);
/// with the supervisor dead, what it made goes: a QEMU it started, the
/// taps and addresses the networks record for the VM, the run files.
fn settle_start(host: &Host, vm: &VmDir, record: &VmRecord) -> anyhow::Result<()> {
    let Some(s) = vm.starting_state() else {
        return Ok(());
    };
    let deadline = Instant::now() + START_TIMEOUT;
    while vm.live_state().is_none() && alive(s.supervisor_pid, s.supervisor_start) {
        if Instant::now() > deadline {
            bail!("VM {}: its supervisor is still starting it", vm.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if vm.live_state().is_some() {
        return Ok(());
    }
    kill_qemu_of(vm);
    let nets = netns::networks(host)?;
    let owner = supervise::owner(&vm.name);
    for req in &record.networks {
        // Every tap the network records for the VM goes (no name known).
        let _ = nets.detach_tap(&req.network, &owner, "");
    }
    remove_run_files(vm);
    Ok(())
}

/// Kills (and waits for) QEMU processes of this VM that no supervisor
/// recorded: their command line names the VM's run directory.
fn kill_qemu_of(vm: &VmDir) {
    let run = vm.run().display().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in procs.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let qemu = args
            .first()
            .is_some_and(|a| String::from_utf8_lossy(a).contains("qemu-system"));
        if qemu && args.iter().any(|a| a.starts_with(run.as_bytes())) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            let start = Instant::now();
            while yurta_sysutil::proc::running(pid) && start.elapsed() < QUIT_GRACE {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn remove_run_files(vm: &VmDir) {
    yurta_vm::instance::remove_runtime_files(&vm.paths());
    for p in vm.boot_files() {
        let _ = std::fs::remove_file(p);
    }
}

/// Starts the VM unless it runs.
pub fn start(host: &Host, vm: &VmDir) -> anyhow::Result<()> {
    let (_lock, record, view) = lock_settled(host, vm)?;
    if view.status == Status::Running {
        return Ok(());
    }
    let started = spawn_supervisor(host, vm);
    if started.is_err() {
        // A supervisor that died without a report left what it made.
        let _ = settle_start(host, vm, &record);
    }
    started
}

/// Runs `yurta vm __supervise NAME` in its own session and waits for its
/// one-line report.
fn spawn_supervisor(host: &Host, vm: &VmDir) -> anyhow::Result<()> {
    let run = vm.run();
    std::fs::create_dir_all(&run).with_context(|| format!("create {}", run.display()))?;
    let log = std::fs::File::create(vm.supervisor_log())
        .with_context(|| format!("create {}", vm.supervisor_log().display()))?;
    let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    const SYNC_FD: i32 = 3;
    let write_raw = write.as_raw_fd();
    let mut cmd = Command::new(&host.binaries.yurta);
    cmd.arg("--root")
        .arg(&host.root)
        .args(["vm", "__supervise", "--sync-fd", "3", &vm.name])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: between fork and exec only async-signal-safe calls: setsid
    // and dup2 (which clears close-on-exec on the copy).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 || libc::dup2(write_raw, SYNC_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().context("start the VM's supervisor")?;
    drop(write);
    let report = read_report(read, START_TIMEOUT);
    // The supervisor lives on; its exit is reaped by init once we are gone.
    drop(child);
    let report = report?;
    if let Some(e) = report.get("error").and_then(|e| e.as_str()) {
        remove_run_files(vm);
        bail!("{e}");
    }
    if report.get("pid").is_none() {
        let log = std::fs::read_to_string(vm.supervisor_log()).unwrap_or_default();
        bail!(
            "VM {}: its supervisor ended without a report: {}",
            vm.name,
            log.lines().last().unwrap_or("no message")
        );
    }
    events::vm(&host.root, "start", &vm.name);
    Ok(())
}

fn read_report(read: OwnedFd, timeout: Duration) -> anyhow::Result<serde_json::Value> {
    let mut f = std::fs::File::from(read);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = f.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    let text = rx
        .recv_timeout(timeout)
        .context("the VM's supervisor did not report in time")?;
    Ok(serde_json::from_str(text.trim()).unwrap_or(serde_json::Value::Null))
}

/// Power button, `quit` after `grace`, SIGKILL after 5 s more.
pub fn stop(host: &Host, vm: &VmDir, grace: Duration) -> anyhow::Result<()> {
    let (_lock, mut record, v) = lock_settled(host, vm)?;
    let (Status::Running, Some(live)) = (v.status, &v.live) else {
        return Ok(());
    };
    let mut qmp = vm.control().ok();
    let powerdown = qmp.as_mut().map(|q| q.system_powerdown().is_ok());
    if powerdown != Some(true) || !wait_gone(live, grace) {
        let quit = qmp.as_mut().map(|q| q.quit().is_ok());
        if quit != Some(true) || !wait_gone(live, QUIT_GRACE) {
            force_kill(live, Signal::SIGKILL)?;
        }
    }
    settle(host, vm, &mut record)?;
    events::vm(&host.root, "stop", &vm.name);
    Ok(())
}

/// Sends `signal` to QEMU; with SIGKILL, waits for the boot to end.
pub fn kill_vm(host: &Host, vm: &VmDir, signal: Signal) -> anyhow::Result<()> {
    let (_lock, mut record, v) = lock_settled(host, vm)?;
    let (Status::Running, Some(live)) = (v.status, &v.live) else {
        bail!("VM {} is not running", vm.name);
    };
    if signal == Signal::SIGKILL {
        force_kill(live, signal)?;
        settle(host, vm, &mut record)?;
    } else {
        kill(Pid::from_raw(live.pid as i32), signal)
            .with_context(|| format!("kill QEMU of VM {}", vm.name))?;
    }
    Ok(())
}

fn force_kill(live: &Live, signal: Signal) -> anyhow::Result<()> {
    if alive(live.pid, live.pid_start) {
        let _ = kill(Pid::from_raw(live.pid as i32), signal);
    }
    if !wait_gone(live, QUIT_GRACE) {
        bail!("QEMU (pid {}) did not exit after SIGKILL", live.pid);
    }
    Ok(())
}

/// Waits until neither QEMU nor the supervisor is alive.
fn wait_gone(live: &Live, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let running =
            alive(live.pid, live.pid_start) || alive(live.supervisor_pid, live.supervisor_start);
        if !running {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes the VM: its directory, the disks yurta made, its addresses.
/// The disks that could not be removed come back as warnings.
pub fn remove(host: &Host, vm: &VmDir, force: bool) -> anyhow::Result<Vec<String>> {
    let (lock, mut record, v) = lock_settled(host, vm)?;
    if v.status == Status::Running {
        if !force {
            bail!(
                "VM {} is running: stop it first, or use rm -f to kill it",
                vm.name
            );
        }
        if let Some(live) = &v.live {
            force_kill(live, Signal::SIGKILL)?;
        }
        settle(host, vm, &mut record)?;
    }
    // Addresses went with the taps at the end of the last boot (settled).
    let warnings = yurta_vm::disk::remove_created(&record.config.disks)
        .iter()
        .map(|e| e.to_string())
        .collect();
    drop(lock);
    let root = vm.dir.parent().unwrap_or(&vm.dir);
    yurta_vm::state::remove_vm_dir(root, &vm.name)?;
    events::vm(&host.root, "destroy", &vm.name);
    Ok(warnings)
}
