//! The crate's one error type.

use std::io;

/// Everything that can go wrong while compiling or installing a seccomp filter.
///
/// Each variant names the value that was rejected, so the message alone tells the
/// user what to fix in the profile.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The host CPU is not one yurta has a syscall table for.
    #[error("seccomp: unsupported native architecture {0:?} (no syscall table compiled in)")]
    UnsupportedNativeArch(&'static str),

    /// An architecture name that is neither in our tables nor known to libseccomp.
    #[error("seccomp: unsupported arch {0:?}")]
    UnsupportedArch(String),

    /// An action name that is not one of the OCI `SCMP_ACT_*` values.
    #[error("seccomp: unknown action {0:?}")]
    UnknownAction(String),

    /// An operator name that is not one of the OCI `SCMP_CMP_*` values.
    #[error("seccomp: unknown operator {0:?}")]
    UnknownOperator(String),

    /// An argument index outside 0..=5.
    #[error("seccomp: invalid arg index {index} for syscall {syscall:?} (must be 0..=5)")]
    InvalidArgIndex {
        /// The syscall whose rule has the bad condition.
        syscall: String,
        /// The index given in the profile.
        index: usize,
    },

    /// A syscall entry with an empty name.
    #[error("seccomp: empty string is not a valid syscall name")]
    EmptySyscallName,

    /// `errnoRet` does not fit the 16 data bits of a seccomp return value.
    #[error("seccomp: errnoRet {0} does not fit in 16 bits")]
    InvalidErrno(u32),

    /// `SCMP_ACT_NOTIFY` used where it would deadlock the runtime.
    #[error("seccomp: SCMP_ACT_NOTIFY cannot be used {0}")]
    InvalidNotify(&'static str),

    /// The generated program exceeds the kernel's BPF_MAXINSNS.
    #[error("seccomp: filter needs {0} instructions, more than the kernel limit of 4096")]
    ProgramTooLong(usize),

    /// seccomp(2) or prctl(2) refused the filter.
    #[error("seccomp: loading the filter (flags {flags:#x}) failed: {source}")]
    Install {
        /// The SECCOMP_FILTER_FLAG_* bits passed to the kernel.
        flags: u32,
        /// The errno the kernel returned.
        source: io::Error,
    },
}
