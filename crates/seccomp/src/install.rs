//! Loads a compiled [`Program`] into the kernel for the calling thread.
//!
//! Owns only the seccomp(2)/prctl(2) calls. Setting no_new_privs (or holding
//! CAP_SYS_ADMIN) is the caller's job, as in runc. Nothing here allocates, so
//! it is safe to call between fork and exec.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::{Program, SeccompError};

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_MODE_FILTER: libc::c_ulong = 2;

/// Install `program` with its [`Program::flags`]. Returns the user-notification
/// listener fd when the profile has `SCMP_ACT_NOTIFY` rules.
///
/// Without flags the old prctl(PR_SET_SECCOMP) path is used (works on kernels
/// before 3.17); with flags, seccomp(2).
pub fn install(program: &Program) -> Result<Option<OwnedFd>, SeccompError> {
    let filter = program.instructions();
    let flags = program.flags();
    let fprog = libc::sock_fprog {
        // compile() caps programs at 4096 instructions, so this cannot truncate.
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr().cast_mut(),
    };
    let fail = |source| SeccompError::Install { flags, source };
    if flags == 0 {
        // SAFETY: fprog points at `filter`, which outlives the call; the kernel
        // copies the program and does not keep the pointer.
        let rc = unsafe {
            libc::prctl(
                libc::PR_SET_SECCOMP,
                SECCOMP_MODE_FILTER,
                &fprog as *const libc::sock_fprog,
                0,
                0,
            )
        };
        return if rc == 0 {
            Ok(None)
        } else {
            Err(fail(io::Error::last_os_error()))
        };
    }
    // SAFETY: as above; seccomp(2) takes (operation, flags, const struct sock_fprog *).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            libc::c_ulong::from(flags),
            &fprog as *const libc::sock_fprog,
        )
    };
    if rc < 0 {
        return Err(fail(io::Error::last_os_error()));
    }
    if program.wants_listener() {
        // SAFETY: with SECCOMP_FILTER_FLAG_NEW_LISTENER the kernel returns a new
        // fd that nothing else owns.
        return Ok(Some(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }));
    }
    Ok(None)
}

/// The OCI names of the filter flags this kernel takes, probed as
/// libseccomp does: seccomp(2) with the flag and no program fails with
/// EFAULT when the flag passed the kernel's check (EINVAL when unknown).
/// Nothing is installed. WAIT_KILLABLE_RECV is only valid with a listener.
pub fn supported_flags() -> Vec<&'static str> {
    use crate::bpf::{
        FLAG_LOG, FLAG_NEW_LISTENER, FLAG_SPEC_ALLOW, FLAG_TSYNC, FLAG_WAIT_KILLABLE_RECV,
    };
    [
        ("SECCOMP_FILTER_FLAG_TSYNC", FLAG_TSYNC),
        ("SECCOMP_FILTER_FLAG_LOG", FLAG_LOG),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", FLAG_SPEC_ALLOW),
        (
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
            FLAG_WAIT_KILLABLE_RECV | FLAG_NEW_LISTENER,
        ),
    ]
    .into_iter()
    .filter(|(_, bits)| {
        // SAFETY: a NULL program: the kernel checks the flags, then fails
        // to copy the program and installs nothing.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                SECCOMP_SET_MODE_FILTER,
                libc::c_ulong::from(*bits),
                std::ptr::null::<libc::sock_fprog>(),
            )
        };
        rc < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
    })
    .map(|(name, _)| name)
    .collect()
}
