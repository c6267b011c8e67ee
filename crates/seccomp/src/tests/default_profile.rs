//! The default profile, compiled for every architecture and checked syscall by syscall.

use super::*;
use crate::default_profile_for;

const ALL_NATIVE: [Abi; 8] = [
    Abi::X86_64,
    Abi::X86,
    Abi::Aarch64,
    Abi::Arm,
    Abi::Riscv64,
    Abi::Ppc64le,
    Abi::S390x,
    Abi::E2k,
];

fn caps(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Names the default profile allows unconditionally, per the profile itself.
fn allowed_names(profile: &LinuxSeccomp) -> Vec<String> {
    let calls = profile.syscalls().as_ref().unwrap();
    calls
        .iter()
        .filter(|s| {
            s.args().is_none() && s.action() == oci_spec::runtime::LinuxSeccompAction::ScmpActAllow
        })
        .flat_map(|s| s.names().clone())
        .collect()
}

#[test]
fn default_profile_is_large_and_fits_the_kernel_limit() {
    let profile = default_profile_for(&[], Abi::X86_64);
    assert!(allowed_names(&profile).len() >= 300);
    for native in ALL_NATIVE {
        for caps in [
            caps(&[]),
            caps(&["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME"]),
        ] {
            let prog = compile_for(&default_profile_for(&caps, native), native).unwrap();
            check(prog.instructions());
            assert!(
                prog.instructions().len() < 1500,
                "{native:?}: {} instructions",
                prog.instructions().len()
            );
            assert_eq!(prog.flags(), 0);
        }
    }
}

#[test]
fn default_profile_decides_every_syscall_of_every_abi() {
    for native in ALL_NATIVE {
        let profile = default_profile_for(&[], native);
        let prog = compile_for(&profile, native).unwrap();
        let allowed = allowed_names(&profile);
        let max_of = |abi: Abi| {
            profile
                .syscalls()
                .iter()
                .flatten()
                .flat_map(|s| s.names())
                .filter_map(|n| abi.syscall_nr(n))
                .max()
                .unwrap()
        };
        for &abi in native.kernel_family() {
            let max = max_of(abi);
            // Tables have aliases (e2k: pread/pread64), so compare numbers.
            let nrs = |names: &mut dyn Iterator<Item = &str>| {
                names.filter_map(|n| abi.syscall_nr(n)).collect::<Vec<_>>()
            };
            let allowed_nrs = nrs(&mut allowed.iter().map(String::as_str));
            let special =
                nrs(&mut ["socket", "personality", "clone", "clone_thread", "clone3"].into_iter());
            for name in abi.syscall_names() {
                let n = nr(abi, &name);
                let want = if allowed_nrs.contains(&n) {
                    RET_ALLOW
                } else if special.contains(&n) {
                    continue;
                } else if n > max || (abi == Abi::S390x && n == 0) {
                    ENOSYS
                } else {
                    EPERM
                };
                assert_eq!(
                    eval(&prog, abi, &name, &[]),
                    want,
                    "{native:?}/{abi:?} {name} ({n})"
                );
            }
        }
    }
}

#[test]
fn default_profile_special_rules() {
    const CLONE_NEWUSER: u64 = 0x1000_0000;
    const CLONE_THREAD_FLAGS: u64 = 0x3d0f00; // what pthread_create passes
    for native in ALL_NATIVE {
        let abi = native;
        let flags_arg = if abi == Abi::S390x { 1 } else { 0 };
        let clone_args = |flags: u64| {
            let mut a = [0u64; 6];
            a[flags_arg] = flags;
            a
        };
        let plain = compile_for(&default_profile_for(&[], native), native).unwrap();
        let admin = compile_for(
            &default_profile_for(&caps(&["cap_sys_admin"]), native),
            native,
        )
        .unwrap();
        let e = |p: &Program, name: &str, args: &[u64]| eval(p, abi, name, args);

        assert_eq!(
            e(&plain, "clone", &clone_args(CLONE_THREAD_FLAGS)),
            RET_ALLOW,
            "{abi:?}"
        );
        assert_eq!(
            e(&plain, "clone", &clone_args(CLONE_NEWUSER)),
            EPERM,
            "{abi:?}"
        );
        assert_eq!(
            e(&admin, "clone", &clone_args(CLONE_NEWUSER)),
            RET_ALLOW,
            "{abi:?}"
        );
        assert_eq!(e(&plain, "clone3", &[]), ENOSYS, "{abi:?}");
        assert_eq!(e(&admin, "clone3", &[]), RET_ALLOW, "{abi:?}");
        assert_eq!(e(&plain, "mount", &[]), EPERM, "{abi:?}");
        assert_eq!(e(&admin, "mount", &[]), RET_ALLOW, "{abi:?}");
        assert_eq!(e(&plain, "unshare", &[]), EPERM, "{abi:?}");
        assert_eq!(e(&plain, "socket", &[2, 1, 0]), RET_ALLOW, "{abi:?}");
        assert_eq!(e(&plain, "socket", &[40, 1, 0]), EPERM, "{abi:?} AF_VSOCK");
        for p in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            assert_eq!(
                e(&plain, "personality", &[p]),
                RET_ALLOW,
                "{abi:?} personality {p:#x}"
            );
        }
        assert_eq!(
            e(&plain, "personality", &[0x0040_0000]),
            EPERM,
            "{abi:?} READ_IMPLIES_EXEC"
        );
        if native == Abi::E2k {
            assert_eq!(e(&plain, "clone_thread", &[CLONE_THREAD_FLAGS]), RET_ALLOW);
            assert_eq!(e(&plain, "clone_thread", &[CLONE_NEWUSER]), EPERM);
            assert_eq!(e(&plain, "e2k_longjmp2", &[]), RET_ALLOW);
        }
    }
}

#[test]
fn capability_groups() {
    let cases = [
        ("CAP_SYS_PTRACE", "ptrace"),
        ("CAP_SYS_MODULE", "finit_module"),
        ("CAP_SYS_BOOT", "reboot"),
        ("CAP_SYS_TIME", "settimeofday"),
        ("CAP_SYS_PACCT", "acct"),
        ("CAP_SYS_RAWIO", "iopl"),
        ("CAP_SYS_NICE", "mbind"),
        ("CAP_SYSLOG", "syslog"),
        ("CAP_BPF", "bpf"),
        ("CAP_PERFMON", "perf_event_open"),
        ("CAP_SYS_CHROOT", "chroot"),
        ("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
        ("SYS_ADMIN", "setns"),
    ];
    let plain = compile_for(&default_profile_for(&[], Abi::X86_64), Abi::X86_64).unwrap();
    for (cap, name) in cases {
        let with = compile_for(
            &default_profile_for(&caps(&[cap]), Abi::X86_64),
            Abi::X86_64,
        )
        .unwrap();
        assert_eq!(
            eval(&with, Abi::X86_64, name, &[]),
            RET_ALLOW,
            "{cap} {name}"
        );
        let want = if name == "ptrace" { RET_ALLOW } else { EPERM }; // ptrace is in the base list (kernel >= 4.8)
        assert_eq!(
            eval(&plain, Abi::X86_64, name, &[]),
            want,
            "without {cap}: {name}"
        );
    }
}
