//! process.rlimits, with an error that explains EPERM.

use oci_spec::runtime::{PosixRlimit, PosixRlimitType};

use crate::error::{Error, Result};

fn resource(typ: PosixRlimitType) -> (libc::__rlimit_resource_t, &'static str) {
    use PosixRlimitType::*;
    match typ {
        RlimitCpu => (libc::RLIMIT_CPU, "RLIMIT_CPU"),
        RlimitFsize => (libc::RLIMIT_FSIZE, "RLIMIT_FSIZE"),
        RlimitData => (libc::RLIMIT_DATA, "RLIMIT_DATA"),
        RlimitStack => (libc::RLIMIT_STACK, "RLIMIT_STACK"),
        RlimitCore => (libc::RLIMIT_CORE, "RLIMIT_CORE"),
        RlimitRss => (libc::RLIMIT_RSS, "RLIMIT_RSS"),
        RlimitNproc => (libc::RLIMIT_NPROC, "RLIMIT_NPROC"),
        RlimitNofile => (libc::RLIMIT_NOFILE, "RLIMIT_NOFILE"),
        RlimitMemlock => (libc::RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"),
        RlimitAs => (libc::RLIMIT_AS, "RLIMIT_AS"),
        RlimitLocks => (libc::RLIMIT_LOCKS, "RLIMIT_LOCKS"),
        RlimitSigpending => (libc::RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"),
        RlimitMsgqueue => (libc::RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"),
        RlimitNice => (libc::RLIMIT_NICE, "RLIMIT_NICE"),
        RlimitRtprio => (libc::RLIMIT_RTPRIO, "RLIMIT_RTPRIO"),
        RlimitRttime => (libc::RLIMIT_RTTIME, "RLIMIT_RTTIME"),
    }
}

/// Applies each rlimit; an EPERM says which hard limit could not be raised and why.
pub fn apply(limits: &[PosixRlimit]) -> Result<()> {
    for limit in limits {
        let (res, name) = resource(limit.typ());
        let wanted = libc::rlimit {
            rlim_cur: limit.soft(),
            rlim_max: limit.hard(),
        };
        // SAFETY: `wanted` is a valid rlimit structure.
        if unsafe { libc::setrlimit(res, &wanted) } == 0 {
            continue;
        }
        let err = nix::Error::last();
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `current` is a valid rlimit structure to be filled in.
        unsafe { libc::getrlimit(res, &mut current) };
        let why = if err == nix::Error::EPERM && limit.hard() > current.rlim_max {
            format!(
                ": raising the hard limit above the current {} needs CAP_SYS_RESOURCE, which this process does not have",
                current.rlim_max
            )
        } else {
            String::new()
        };
        return Err(Error::Setup(format!(
            "setrlimit {name} soft={} hard={}: {err}{why}",
            limit.soft(),
            limit.hard()
        )));
    }
    Ok(())
}
