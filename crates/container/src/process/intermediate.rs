//! The intermediate process: joins and creates the container's namespaces,
//! then forks init into them and exits.

use std::convert::Infallible;

use crate::channel::{Channel, Message};
use crate::error::{Error, Result};
use crate::namespaces;

use super::cgroup_fork::PendingJoin;
use super::{fork_held, init, run_role, InitArgs, SETUP_FAILED};

/// Entry point of the intermediate process after `fork`.
pub fn run(ch: &Channel, args: &InitArgs, cgroup: PendingJoin) -> ! {
    run_role(ch, || {
        setup(ch, args, cgroup).map_err(|e| (e, SETUP_FAILED))
    })
}

fn setup(ch: &Channel, args: &InitArgs, cgroup: PendingJoin) -> Result<Infallible> {
    // Into the cgroup before anything else, while still the host's root.
    cgroup.finish()?;
    // Host paths, opened while we still are the host's root: a new user
    // namespace may not be allowed to reach them.
    let fds = init::InheritedFds::open(args)?;
    let plan = &args.plan;
    namespaces::join_all(&plan.join)?;
    if plan.new_user {
        namespaces::unshare(nix::sched::CloneFlags::CLONE_NEWUSER)?;
        ch.send(&Message::WriteIdMaps {
            pid: nix::unistd::getpid().as_raw(),
        })?;
        ch.expect("IdMapsWritten", |m| *m == Message::IdMapsWritten)?;
        become_root_in_userns()?;
        // The uid change made us non-dumpable, which makes /proc/self files
        // belong to the (unmapped) host root: timens_offsets and the exec
        // fifo's /proc/self/fd link would be unreachable.
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    }
    namespaces::unshare(plan.create)?;
    if plan.create.contains(nix::sched::CloneFlags::CLONE_NEWNET) {
        namespaces::loopback_up()?;
    }
    if plan
        .create
        .contains(nix::sched::CloneFlags::from_bits_retain(
            namespaces::CLONE_NEWTIME,
        ))
    {
        write_time_offsets(args)?;
    }
    // The init starts its setup only once InitPid is on its way (see
    // fork_held). Otherwise, on a loaded machine, the whole setup and its
    // Ready could reach the parent before InitPid does, and the parent
    // would take the container for dead.
    let (pid, go) = fork_held(|| init::run(ch, args, fds))?;
    slow_down_for_tests();
    ch.send(&Message::InitPid { pid })?;
    drop(go);
    // SAFETY: the intermediate's work is done; leave without unwinding.
    unsafe { libc::_exit(0) }
}

/// `YURTA_RUNTIME_TEST_SLOW_INIT_PID_MS`: the intermediate waits that long
/// before reporting the init's pid, as a loaded machine may make it; the
/// tests check that the init still waits for it.
fn slow_down_for_tests() {
    let ms = std::env::var("YURTA_RUNTIME_TEST_SLOW_INIT_PID_MS").ok();
    if let Some(ms) = ms.and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

fn become_root_in_userns() -> Result<()> {
    // SAFETY: plain syscalls with integer arguments.
    let rc = unsafe { (libc::setresgid(0, 0, 0), libc::setresuid(0, 0, 0)) };
    if rc.0 < 0 || rc.1 < 0 {
        return Err(Error::sys(
            "becoming root in the new user namespace (is uid/gid 0 mapped?)",
            nix::Error::last(),
        ));
    }
    Ok(())
}

fn write_time_offsets(args: &InitArgs) -> Result<()> {
    let Some(offsets) = args
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.time_offsets().as_ref())
    else {
        return Ok(());
    };
    let mut text = String::new();
    for (clock, off) in offsets {
        let clock = match clock.as_str() {
            "monotonic" | "boottime" => clock.as_str(),
            other => {
                return Err(Error::InvalidConfig(format!(
                    "timeOffsets clock {other:?} is not monotonic or boottime"
                )))
            }
        };
        text.push_str(&format!(
            "{clock} {} {}\n",
            off.secs().unwrap_or(0),
            off.nanosecs().unwrap_or(0)
        ));
    }
    std::fs::write("/proc/self/timens_offsets", text)
        .map_err(|e| Error::write("/proc/self/timens_offsets", e))
}
