//! Docker seccomp profiles (`--security-opt seccomp=...`) converted to OCI
//! (`yurta_engine::spec::seccomp`), then compiled (`yurta_seccomp`).
//!
//! The first byte chooses the host (x86_64, aarch64, s390x, e2k) and the
//! container's capabilities; the rest is the profile text. Invariants: no
//! panic; a converted profile is valid OCI; compiling it either fails with
//! an error or gives a program the kernel would accept.

#![no_main]

use libfuzzer_sys::fuzz_target;
use yurta_engine::spec::seccomp::{choice, convert, linux_seccomp, Seccomp};
use yurta_seccomp::interp::check;
use yurta_seccomp::{compile_for, Abi};

const HOSTS: &[(Abi, &[&str])] = &[
    (
        Abi::X86_64,
        &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    ),
    (Abi::Aarch64, &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]),
    (Abi::S390x, &["SCMP_ARCH_S390X"]),
    (Abi::E2k, &["SCMP_ARCH_E2K"]),
];

fn caps(which: u8) -> Vec<String> {
    let all = [
        "CAP_SYS_ADMIN",
        "CAP_SYS_PTRACE",
        "CAP_NET_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_CHOWN",
    ];
    all.iter()
        .enumerate()
        .filter(|(i, _)| which & (1 << (i + 2)) != 0)
        .map(|(_, c)| c.to_string())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((which, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let (abi, native) = HOSTS[usize::from(which & 3)];
    let caps = caps(*which);
    let Ok(Seccomp::Profile(profile)) = choice(&[format!("seccomp={text}")], false) else {
        return;
    };
    let Ok(oci) = convert(&profile, &caps, native) else {
        return;
    };
    let parsed: oci_spec::runtime::LinuxSeccomp = serde_json::from_value(oci.clone())
        .unwrap_or_else(|e| panic!("convert gave invalid OCI JSON: {e}\n{oci}"));
    if let Ok(program) = compile_for(&parsed, abi) {
        check(program.instructions());
    }
    // The host's own path: same profile, native arch names of this machine.
    let _ = linux_seccomp(&Seccomp::Profile(profile), &caps);
});
