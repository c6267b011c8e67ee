//! Compiler tests: programs are checked like the kernel checks them and then
//! run in the test interpreter ([`crate::interp`]).

use oci_spec::runtime::LinuxSeccomp;

use crate::arch::{Abi, X32_SYSCALL_BIT};
use crate::bpf::*;
use crate::interp::{check, run, Data};
use crate::{compile_for, Program, SeccompError};

mod default_profile;
mod real;

const EPERM: u32 = RET_ERRNO | 1;
const ENOSYS: u32 = RET_ERRNO | 38;

fn profile(json: &str) -> LinuxSeccomp {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad test profile: {e}\n{json}"))
}

fn compiled(json: &str, native: Abi) -> Program {
    let prog = compile_for(&profile(json), native).unwrap();
    check(prog.instructions());
    prog
}

fn nr(abi: Abi, name: &str) -> u32 {
    abi.syscall_nr(name)
        .unwrap_or_else(|| panic!("{name} not in {abi:?}"))
}

/// Run `prog` for syscall `name` of `abi` with `args`.
fn eval(prog: &Program, abi: Abi, name: &str, args: &[u64]) -> u32 {
    let mut data = Data::new(abi.audit_arch(), nr(abi, name));
    data.args[..args.len()].copy_from_slice(args);
    run(prog.instructions(), &data, abi.info().big_endian)
}

#[test]
fn every_action_has_its_return_value() {
    let cases = [
        (r#""action":"SCMP_ACT_KILL""#, RET_KILL_THREAD),
        (r#""action":"SCMP_ACT_KILL_THREAD""#, RET_KILL_THREAD),
        (r#""action":"SCMP_ACT_KILL_PROCESS""#, RET_KILL_PROCESS),
        (r#""action":"SCMP_ACT_TRAP""#, RET_TRAP),
        (r#""action":"SCMP_ACT_ERRNO""#, RET_ERRNO | 1),
        (
            r#""action":"SCMP_ACT_ERRNO","errnoRet":1234"#,
            RET_ERRNO | 1234,
        ),
        (r#""action":"SCMP_ACT_TRACE""#, RET_TRACE | 1),
        (r#""action":"SCMP_ACT_TRACE","errnoRet":7"#, RET_TRACE | 7),
        (r#""action":"SCMP_ACT_LOG""#, RET_LOG),
        (r#""action":"SCMP_ACT_NOTIFY""#, RET_USER_NOTIF),
    ];
    for (action, want) in cases {
        let json = format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["getcwd"],{action}}}]}}"#
        );
        let prog = compiled(&json, Abi::X86_64);
        assert_eq!(eval(&prog, Abi::X86_64, "getcwd", &[]), want, "{action}");
        assert_eq!(
            eval(&prog, Abi::X86_64, "getpid", &[]),
            RET_ALLOW,
            "{action}"
        );
    }
    let deny_all = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1234}"#,
        Abi::X86_64,
    );
    assert_eq!(
        eval(&deny_all, Abi::X86_64, "getpid", &[]),
        RET_ERRNO | 1234
    );
    let kill = compiled(r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS"}"#, Abi::Aarch64);
    assert_eq!(eval(&kill, Abi::Aarch64, "read", &[]), RET_KILL_PROCESS);
}

/// What the kernel-side comparison must compute, on `bits`-wide arguments.
fn reference(op: &str, arg: u64, value: u64, value_two: u64, bits: u8) -> bool {
    let trunc = |v: u64| if bits == 32 { v & 0xffff_ffff } else { v };
    let (a, v) = (trunc(arg), trunc(value));
    match op {
        "SCMP_CMP_NE" => a != v,
        "SCMP_CMP_LT" => a < v,
        "SCMP_CMP_LE" => a <= v,
        "SCMP_CMP_EQ" => a == v,
        "SCMP_CMP_GE" => a >= v,
        "SCMP_CMP_GT" => a > v,
        "SCMP_CMP_MASKED_EQ" => a & v == trunc(value_two) & v,
        _ => unreachable!(),
    }
}

const INTERESTING: [u64; 12] = [
    0,
    1,
    2,
    0x7fff_ffff,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x2_0000_0000,
    0x1_ffff_ffff,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
];

#[test]
fn comparisons_on_64_bit_values_use_both_halves() {
    // x86_64 and aarch64 are little-endian, s390x big-endian; x86 and arm are
    // 32-bit ABIs where only the low word counts (as in libseccomp).
    let abis = [
        (Abi::X86_64, Abi::X86_64),
        (Abi::Aarch64, Abi::Aarch64),
        (Abi::S390x, Abi::S390x),
        (Abi::X86_64, Abi::X86),
        (Abi::Aarch64, Abi::Arm),
    ];
    for op in crate::known_operators() {
        for value in INTERESTING {
            let value_two = value.rotate_left(17) ^ 0x0f0f;
            let json = format!(
                r#"{{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_ARM"],
                   "syscalls":[{{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":99,
                   "args":[{{"index":2,"value":{value},"valueTwo":{value_two},"op":"{op}"}}]}}]}}"#
            );
            for (native, abi) in abis {
                let prog = compiled(&json, native);
                for arg in INTERESTING
                    .iter()
                    .flat_map(|&a| [a, a.wrapping_add(1), a.wrapping_sub(1), value])
                {
                    let want = if reference(op, arg, value, value_two, abi.info().arg_bits) {
                        RET_ERRNO | 99
                    } else {
                        RET_ALLOW
                    };
                    let got = eval(&prog, abi, "read", &[7, 8, arg, 9]);
                    assert_eq!(
                        got, want,
                        "{abi:?} {op} value={value:#x} valueTwo={value_two:#x} arg={arg:#x}"
                    );
                }
            }
        }
    }
}

#[test]
fn masked_eq_checks_the_high_word() {
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mmap"],"action":"SCMP_ACT_ERRNO",
        "args":[{"index":3,"value":18446744069414584320,"valueTwo":4294967296,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#;
    let prog = compiled(json, Abi::X86_64); // mask 0xffffffff00000000, datum 0x100000000
    assert_eq!(
        eval(&prog, Abi::X86_64, "mmap", &[0, 0, 0, 0x1_0000_0000]),
        EPERM
    );
    assert_eq!(
        eval(&prog, Abi::X86_64, "mmap", &[0, 0, 0, 0x1_dead_beef]),
        EPERM
    );
    assert_eq!(
        eval(&prog, Abi::X86_64, "mmap", &[0, 0, 0, 0x2_0000_0000]),
        RET_ALLOW
    );
    assert_eq!(
        eval(&prog, Abi::X86_64, "mmap", &[0, 0, 0, 0xdead_beef]),
        RET_ALLOW
    );
}

#[test]
fn args_in_one_rule_are_anded_and_rules_are_ored() {
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["kill"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":1,"value":15,"op":"SCMP_CMP_EQ"}]},
        {"names":["kill"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#;
    let prog = compiled(json, Abi::X86_64);
    assert_eq!(eval(&prog, Abi::X86_64, "kill", &[1, 15]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::X86_64, "kill", &[2, 15]), EPERM);
    assert_eq!(eval(&prog, Abi::X86_64, "kill", &[1, 9]), EPERM);
    assert_eq!(eval(&prog, Abi::X86_64, "kill", &[77, 0]), RET_ALLOW);
}

#[test]
fn conditions_on_the_same_arg_are_ored_like_runc() {
    // runc splits a rule with two conditions on one argument into two rules.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[
            {"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#;
    let prog = compiled(json, Abi::X86_64);
    assert_eq!(eval(&prog, Abi::X86_64, "personality", &[0]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::X86_64, "personality", &[8]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::X86_64, "personality", &[4]), EPERM);
}

#[test]
fn conditional_rules_win_over_an_unconditional_one() {
    let json = r#"{"defaultAction":"SCMP_ACT_KILL","syscalls":[
        {"names":["write"],"action":"SCMP_ACT_ALLOW"},
        {"names":["write"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}]}"#;
    let prog = compiled(json, Abi::Riscv64);
    assert_eq!(eval(&prog, Abi::Riscv64, "write", &[1]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::Riscv64, "write", &[2]), RET_ERRNO | 5);
    assert_eq!(eval(&prog, Abi::Riscv64, "read", &[2]), RET_KILL_THREAD);
}

#[test]
fn other_arches_get_the_bad_arch_action() {
    let prog = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"]}"#,
        Abi::X86_64,
    );
    assert_eq!(eval(&prog, Abi::X86_64, "read", &[]), RET_ALLOW);
    // i386 not listed, aarch64 never possible here, garbage arch: all killed.
    assert_eq!(eval(&prog, Abi::X86, "read", &[]), RET_KILL_THREAD);
    assert_eq!(eval(&prog, Abi::Aarch64, "read", &[]), RET_KILL_THREAD);
    assert_eq!(
        run(prog.instructions(), &Data::new(0x1234, 0), false),
        RET_KILL_THREAD
    );
    // The native arch is always in the filter, even when the list omits it.
    let prog = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"]}"#,
        Abi::X86_64,
    );
    assert_eq!(eval(&prog, Abi::X86_64, "read", &[]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::X86, "read", &[]), RET_ALLOW);
}

#[test]
fn x32_syscalls_are_x86_64_with_the_x32_bit() {
    let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X32"],
        "syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":3}]}"#;
    let prog = compiled(json, Abi::X86_64);
    assert_eq!(nr(Abi::X32, "getcwd"), X32_SYSCALL_BIT | 79);
    assert_eq!(eval(&prog, Abi::X86_64, "getcwd", &[]), RET_ERRNO | 3);
    assert_eq!(eval(&prog, Abi::X32, "getcwd", &[]), RET_ERRNO | 3);
    assert_eq!(eval(&prog, Abi::X32, "read", &[]), RET_ALLOW);
    // Without X32 in the list, x32 numbers get the bad-arch action (libseccomp).
    let json = json.replace(r#","SCMP_ARCH_X32""#, "");
    let prog = compiled(&json, Abi::X86_64);
    assert_eq!(eval(&prog, Abi::X86_64, "getcwd", &[]), RET_ERRNO | 3);
    assert_eq!(eval(&prog, Abi::X32, "read", &[]), RET_KILL_THREAD);
}

#[test]
fn unknown_syscall_names_are_skipped() {
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["no_such_syscall","open","getpid"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let prog = compiled(json, Abi::Aarch64); // aarch64 has no open(2)
    assert_eq!(eval(&prog, Abi::Aarch64, "getpid", &[]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::Aarch64, "openat", &[]), EPERM);
}

#[test]
fn enosys_for_syscalls_newer_than_the_profile() {
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
        "syscalls":[{"names":["read","openat2"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let prog = compiled(json, Abi::X86_64);
    let (max64, max32) = (nr(Abi::X86_64, "openat2"), nr(Abi::X86, "openat2"));
    let at = |abi: Abi, nr: u32| run(prog.instructions(), &Data::new(abi.audit_arch(), nr), false);
    assert_eq!(at(Abi::X86_64, max64), RET_ALLOW);
    assert_eq!(at(Abi::X86_64, max64 - 1), EPERM);
    assert_eq!(at(Abi::X86_64, max64 + 1), ENOSYS);
    assert_eq!(at(Abi::X86_64, X32_SYSCALL_BIT - 1), ENOSYS);
    assert_eq!(at(Abi::X86_64, X32_SYSCALL_BIT), RET_KILL_THREAD); // x32 not in the filter
    assert_eq!(at(Abi::X86, max32 + 1), ENOSYS);
    assert_eq!(at(Abi::X86, u32::MAX), ENOSYS);
    // Permissive defaults get no stub, nor does a default of ENOSYS.
    for default in [
        r#""SCMP_ACT_ALLOW""#,
        r#""SCMP_ACT_LOG""#,
        r#""SCMP_ACT_ERRNO","defaultErrnoRet":38"#,
    ] {
        let json = json.replace(r#""SCMP_ACT_ERRNO""#, default);
        let prog = compiled(&json, Abi::X86_64);
        let want = run(
            prog.instructions(),
            &Data::new(Abi::X86_64.audit_arch(), 0x3fff_0000),
            false,
        );
        assert_ne!(want & 0xffff_0000, RET_KILL_THREAD, "{default}");
        assert!(
            want == RET_ALLOW || want == RET_LOG || want == ENOSYS,
            "{default}: {want:#x}"
        );
    }
    // s390x: nr 0 multiplexes unknown syscalls and must give ENOSYS too.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_S390X"],
        "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let prog = compiled(json, Abi::S390x);
    assert_eq!(
        run(
            prog.instructions(),
            &Data::new(Abi::S390x.audit_arch(), 0),
            true
        ),
        ENOSYS
    );
    assert_eq!(eval(&prog, Abi::S390x, "read", &[]), RET_ALLOW);
    assert_eq!(eval(&prog, Abi::S390x, "exit", &[]), EPERM);
}

#[test]
fn rules_with_the_default_action_are_dropped() {
    let small = compiled(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#, Abi::X86_64);
    let same = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read","write","close"],"action":"SCMP_ACT_ALLOW"}]}"#,
        Abi::X86_64,
    );
    assert_eq!(small.instructions().len(), same.instructions().len());
    // ERRNO(EPERM) and ERRNO(5) differ, so that rule stays.
    let differ = compiled(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5}]}"#,
        Abi::X86_64,
    );
    assert_eq!(eval(&differ, Abi::X86_64, "read", &[]), RET_ERRNO | 5);
}

#[test]
fn long_programs_jump_correctly() {
    // One rule with arguments per syscall: far more than 255 instructions
    // between the binary search and the last blocks.
    let names: Vec<String> = Abi::X86_64.syscall_names().into_iter().take(340).collect();
    let rules: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            format!(r#"{{"names":["{n}"],"action":"SCMP_ACT_ERRNO","errnoRet":{},"args":[{{"index":{},"value":{i},"op":"SCMP_CMP_EQ"}}]}}"#, i + 1, i % 6)
        })
        .collect();
    let json = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{}]}}"#,
        rules.join(",")
    );
    let prog = compiled(&json, Abi::X86_64);
    assert!(
        prog.instructions().len() > 2000,
        "{}",
        prog.instructions().len()
    );
    for (i, n) in names.iter().enumerate() {
        let mut args = [0u64; 6];
        args[i % 6] = i as u64;
        assert_eq!(
            eval(&prog, Abi::X86_64, n, &args),
            RET_ERRNO | (i as u32 + 1),
            "{n}"
        );
        args[i % 6] = i as u64 + 1;
        assert_eq!(eval(&prog, Abi::X86_64, n, &args), RET_ALLOW, "{n}");
    }
}

#[test]
fn errors_name_the_bad_value() {
    let err = |json: &str| compile_for(&profile(json), Abi::X86_64).unwrap_err();
    let e = err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO",
        "args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(
        matches!(e, SeccompError::InvalidArgIndex { index: 7, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("arg index 7") && e.to_string().contains("\"read\""),
        "{e}"
    );
    let e = err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[""],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(matches!(e, SeccompError::EmptySyscallName), "{e}");
    let e = err(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}"#);
    assert!(e.to_string().contains("70000"), "{e}");
    let e = err(r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#);
    assert!(matches!(e, SeccompError::InvalidNotify(_)), "{e}");
    let e = err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["write"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(e.to_string().contains("write"), "{e}");
    let e = crate::parse_action("SCMP_ACT_FOO").unwrap_err();
    assert_eq!(e.to_string(), "seccomp: unknown action \"SCMP_ACT_FOO\"");
    let e = crate::parse_operator("SCMP_CMP_XOR").unwrap_err();
    assert!(e.to_string().contains("\"SCMP_CMP_XOR\""), "{e}");
    let e = crate::syscall_number("SCMP_ARCH_MIPS", "read").unwrap_err();
    assert_eq!(
        e.to_string(),
        "seccomp: unsupported arch \"SCMP_ARCH_MIPS\""
    );
    assert_eq!(
        crate::syscall_number("SCMP_ARCH_E2K", "getcwd").unwrap(),
        Some(183)
    );
    // Foreign arches in a profile are harmless, as under runc.
    let ok = profile(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_MIPS","SCMP_ARCH_AARCH64"]}"#,
    );
    assert!(compile_for(&ok, Abi::X86_64).is_ok());
}

#[test]
fn flags_come_from_the_profile_and_notify_rules() {
    let flags = |json: &str| compile_for(&profile(json), Abi::X86_64).unwrap().flags();
    assert_eq!(flags(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#), 0);
    let all = r#"["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]"#;
    assert_eq!(
        flags(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","flags":{all}}}"#
        )),
        FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW
    );
    let notify = format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","flags":{all},"syscalls":[{{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}}]}}"#
    );
    let want = FLAG_TSYNC
        | FLAG_LOG
        | FLAG_SPEC_ALLOW
        | FLAG_WAIT_KILLABLE_RECV
        | FLAG_NEW_LISTENER
        | FLAG_TSYNC_ESRCH;
    assert_eq!(flags(&notify), want);
    let prog = compile_for(&profile(&notify), Abi::X86_64).unwrap();
    assert!(prog.wants_listener());
    assert_eq!(eval(&prog, Abi::X86_64, "mkdir", &[]), RET_USER_NOTIF);
}

impl Abi {
    /// Test helper: every syscall name of this ABI, in number order.
    fn syscall_names(self) -> Vec<String> {
        let mut rows: Vec<(u32, String)> = self
            .info()
            .table_text()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(n, nr)| (nr.parse().unwrap(), n.to_string()))
            .collect();
        rows.sort();
        rows.dedup_by_key(|r| r.0);
        rows.into_iter().map(|r| r.1).collect()
    }
}
