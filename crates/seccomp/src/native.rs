//! The host's syscall ABI, picked at compile time with `cfg(target_arch)`.
//!
//! This is the only place that looks at the build target; everything else takes
//! an [`Abi`] as data, so tests can compile filters for every architecture on
//! any host.

#![allow(unexpected_cfgs)]

use crate::arch::Abi;
use crate::SeccompError;

#[cfg(all(target_arch = "x86_64", target_pointer_width = "64"))]
const NATIVE: Option<Abi> = Some(Abi::X86_64);
#[cfg(all(target_arch = "x86_64", target_pointer_width = "32"))]
const NATIVE: Option<Abi> = Some(Abi::X32);
#[cfg(target_arch = "x86")]
const NATIVE: Option<Abi> = Some(Abi::X86);
#[cfg(target_arch = "aarch64")]
const NATIVE: Option<Abi> = Some(Abi::Aarch64);
#[cfg(target_arch = "arm")]
const NATIVE: Option<Abi> = Some(Abi::Arm);
#[cfg(target_arch = "riscv64")]
const NATIVE: Option<Abi> = Some(Abi::Riscv64);
#[cfg(all(target_arch = "powerpc64", target_endian = "little"))]
const NATIVE: Option<Abi> = Some(Abi::Ppc64le);
#[cfg(target_arch = "s390x")]
const NATIVE: Option<Abi> = Some(Abi::S390x);
// The MCST Rust toolchain calls the arch "e2k64"; accept "e2k" too. Upstream
// rustc knows neither value, hence the module-wide allow(unexpected_cfgs).
#[cfg(any(target_arch = "e2k64", target_arch = "e2k"))]
const NATIVE: Option<Abi> = Some(Abi::E2k);
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "x86",
    target_arch = "aarch64",
    target_arch = "arm",
    target_arch = "riscv64",
    all(target_arch = "powerpc64", target_endian = "little"),
    target_arch = "s390x",
    target_arch = "e2k64",
    target_arch = "e2k",
)))]
const NATIVE: Option<Abi> = None;

/// The ABI this binary was built for, or a clear error on a host without a table.
pub fn native_abi() -> Result<Abi, SeccompError> {
    NATIVE.ok_or(SeccompError::UnsupportedNativeArch(std::env::consts::ARCH))
}

/// OCI names of the ABIs the host kernel runs (native first); empty on an
/// unsupported host. Meant for the runtime's `features` output.
pub fn native_arch_names() -> &'static [&'static str] {
    // Literal lists (a test checks them against `Abi::kernel_family`).
    match NATIVE {
        Some(Abi::X86_64) => &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        Some(Abi::X32) => &["SCMP_ARCH_X32", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        Some(Abi::X86) => &["SCMP_ARCH_X86"],
        Some(Abi::Aarch64) => &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        Some(Abi::Arm) => &["SCMP_ARCH_ARM"],
        Some(Abi::Riscv64) => &["SCMP_ARCH_RISCV64"],
        Some(Abi::Ppc64le) => &["SCMP_ARCH_PPC64LE"],
        Some(Abi::S390x) => &["SCMP_ARCH_S390X"],
        Some(Abi::E2k) => &["SCMP_ARCH_E2K"],
        None => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_names_follow_the_kernel_family() {
        let Ok(native) = native_abi() else {
            assert!(native_arch_names().is_empty());
            return;
        };
        let family: Vec<_> = native
            .kernel_family()
            .iter()
            .map(|a| a.oci_name())
            .collect();
        assert_eq!(native_arch_names(), family.as_slice());
    }
}
