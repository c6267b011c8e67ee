//! yurta's seccomp: OCI seccomp profiles compiled to classic BPF, without
//! libseccomp (which has no e2k port).
//!
//! The crate owns the syscall tables (data files under `tables/`, one per ABI),
//! the compiler, the loader and Docker's default profile. It does not decide
//! *when* to install a filter or set no_new_privs; the runtime does that:
//!
//! ```no_run
//! # fn run(profile: &oci_spec::runtime::LinuxSeccomp) -> Result<(), yurta_seccomp::SeccompError> {
//! let program = yurta_seccomp::compile(profile)?;
//! // ... in the container's init, after prctl(PR_SET_NO_NEW_PRIVS) ...
//! let listener = yurta_seccomp::install(&program)?; // Some(fd) with SCMP_ACT_NOTIFY rules
//! # Ok(()) }
//! ```
//!
//! Semantics match runc + libseccomp; docs/seccomp.md lists them and the
//! places where yurta's choices had to be made.

mod arch;
mod bpf;
mod compile;
mod default_profile;
mod error;
mod install;
mod native;

/// The classic-BPF checker and evaluator the tests and fuzz targets run
/// compiled programs in. Not for production use: it panics on a program the
/// kernel would refuse.
#[doc(hidden)]
pub mod interp;
#[cfg(test)]
mod tests;

pub use arch::Abi;
pub use bpf::{
    FLAG_LOG, FLAG_NEW_LISTENER, FLAG_SPEC_ALLOW, FLAG_TSYNC, FLAG_TSYNC_ESRCH,
    FLAG_WAIT_KILLABLE_RECV,
};
pub use compile::{compile, compile_for, Program};
pub use default_profile::{default_profile, default_profile_for};
pub use error::SeccompError;
pub use install::{install, supported_flags};
pub use native::{native_abi, native_arch_names};

use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompOperator};

/// OCI action names this crate implements.
pub fn known_actions() -> &'static [&'static str] {
    &[
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE",
        "SCMP_ACT_ALLOW",
        "SCMP_ACT_LOG",
        "SCMP_ACT_NOTIFY",
    ]
}

/// OCI comparison operator names this crate implements.
pub fn known_operators() -> &'static [&'static str] {
    &[
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    ]
}

/// OCI seccomp flag names this crate passes to the kernel.
pub fn known_flags() -> &'static [&'static str] {
    &[
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]
}

/// OCI names of every architecture with a syscall table (on any host).
pub fn supported_archs() -> &'static [&'static str] {
    &[
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_ARM",
        "SCMP_ARCH_RISCV64",
        "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_E2K",
    ]
}

/// Parse an action name such as `"SCMP_ACT_ERRNO"`.
pub fn parse_action(name: &str) -> Result<LinuxSeccompAction, SeccompError> {
    name.parse()
        .map_err(|_| SeccompError::UnknownAction(name.to_string()))
}

/// Parse an operator name such as `"SCMP_CMP_MASKED_EQ"`.
pub fn parse_operator(name: &str) -> Result<LinuxSeccompOperator, SeccompError> {
    name.parse()
        .map_err(|_| SeccompError::UnknownOperator(name.to_string()))
}

/// The number of `syscall` in the ABI named `arch` (an OCI name), if it has one.
pub fn syscall_number(arch: &str, syscall: &str) -> Result<Option<u32>, SeccompError> {
    match Abi::from_oci_name(arch)? {
        Some(abi) => Ok(abi.syscall_nr(syscall)),
        None => Err(SeccompError::UnsupportedArch(arch.to_string())),
    }
}
