//! The seccomp BPF compiler (`yurta_seccomp::compile_for`) on structured
//! profiles, for every native ABI.
//!
//! Invariants: the compiler fails exactly on the profiles the crate says it
//! refuses (bad errno, arg index > 5, empty name, NOTIFY as default or on
//! `write`, too long); a compiled program passes the kernel's checks (the
//! crate's interpreter, `yurta_seccomp::interp::check`); and on every probe
//! (arch, nr, args) it returns what a direct reading of the profile says
//! (the model below, written from docs/seccomp.md, not from the compiler).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use yurta_seccomp::interp::{check, run, Data};
use yurta_seccomp::{compile_for, Abi, SeccompError};

const NAMES: &[&str] = &[
    "read",
    "write",
    "open",
    "openat",
    "close",
    "mmap",
    "clone",
    "clone3",
    "getpid",
    "socket",
    "ioctl",
    "kill",
    "personality",
    "ptrace",
    "mount",
    "fchmodat",
    "prctl",
    "arch_prctl",
    "setns",
    "unshare",
    "keyctl",
    "socketcall",
    "no_such_syscall",
    "",
];

const ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];

const OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];

/// Names oci-spec knows; MIPS has no table here (listed harmlessly).
const ARCHES: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_MIPS",
];

const FLAGS: &[&str] = &[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];

const RET_KILL_THREAD: u32 = 0;
const RET_ERRNO: u32 = 0x0005_0000;
const ENOSYS: u32 = RET_ERRNO | libc::ENOSYS as u32;
const X32_BIT: u32 = 0x4000_0000;

#[derive(Arbitrary, Debug)]
struct Input {
    native: u8,
    default_action: u8,
    default_errno: Option<u32>,
    arches: Vec<u8>,
    flags: Vec<u8>,
    syscalls: Vec<Syscall>,
    probes: Vec<Probe>,
}

#[derive(Arbitrary, Debug)]
struct Syscall {
    names: Vec<u8>,
    action: u8,
    errno: Option<u32>,
    args: Vec<Arg>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Arg {
    index: u8,
    op: u8,
    value: u64,
    value_two: u64,
}

#[derive(Arbitrary, Debug)]
struct Probe {
    abi: u8,
    name: u8,
    /// A raw syscall number instead of a named one.
    raw: Option<u32>,
    args: [u64; 6],
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[usize::from(i) % list.len()]
}

/// Errno values: small ones mostly, sometimes past 16 bits.
fn errno(e: Option<u32>) -> Option<u32> {
    e.map(|e| if e & 0x100 != 0 { e } else { e & 0xff })
}

fn profile_json(input: &Input) -> Value {
    let syscalls: Vec<Value> = input
        .syscalls
        .iter()
        .map(|s| {
            let args: Vec<Value> = s
                .args
                .iter()
                .map(|a| {
                    json!({"index": a.index % 8, "op": pick(OPS, a.op),
                           "value": a.value, "valueTwo": a.value_two})
                })
                .collect();
            let names: Vec<&str> = s.names.iter().map(|n| pick(NAMES, *n)).collect();
            let mut v = json!({"names": names, "action": pick(ACTIONS, s.action), "args": args});
            if let Some(e) = errno(s.errno) {
                v["errnoRet"] = json!(e);
            }
            v
        })
        .collect();
    let mut p = json!({
        "defaultAction": pick(ACTIONS, input.default_action),
        "architectures": input.arches.iter().map(|a| pick(ARCHES, *a)).collect::<Vec<_>>(),
        "flags": input.flags.iter().map(|f| pick(FLAGS, *f)).collect::<Vec<_>>(),
        "syscalls": syscalls,
    });
    if let Some(e) = errno(input.default_errno) {
        p["defaultErrnoRet"] = json!(e);
    }
    p
}

/// The return value of an action, per docs/seccomp.md (EPERM by default).
fn action_value(action: &str, errno: Option<u32>) -> Option<u32> {
    let data = errno.unwrap_or(libc::EPERM as u32);
    let with_data = |base: u32| (data <= 0xffff).then_some(base | data);
    match action {
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Some(RET_KILL_THREAD),
        "SCMP_ACT_KILL_PROCESS" => Some(0x8000_0000),
        "SCMP_ACT_TRAP" => Some(0x0003_0000),
        "SCMP_ACT_ERRNO" => with_data(RET_ERRNO),
        "SCMP_ACT_TRACE" => with_data(0x7ff0_0000),
        "SCMP_ACT_LOG" => Some(0x7ffc_0000),
        "SCMP_ACT_ALLOW" => Some(0x7fff_0000),
        _ => Some(0x7fc0_0000),
    }
}

/// (nr_lo, nr_hi, argument bits) of an ABI, from the kernel's ABI docs.
fn abi_info(abi: Abi) -> (u32, u32, u8) {
    match abi {
        Abi::X86_64 => (0, X32_BIT - 1, 64),
        Abi::X32 => (X32_BIT, u32::MAX, 32),
        Abi::X86 | Abi::Arm => (0, u32::MAX, 32),
        _ => (0, u32::MAX, 64),
    }
}

fn family(native: Abi) -> &'static [Abi] {
    match native {
        Abi::X86_64 => &[Abi::X86_64, Abi::X86, Abi::X32],
        Abi::X32 => &[Abi::X32, Abi::X86_64, Abi::X86],
        Abi::Aarch64 => &[Abi::Aarch64, Abi::Arm],
        Abi::X86 => &[Abi::X86],
        Abi::Arm => &[Abi::Arm],
        Abi::Riscv64 => &[Abi::Riscv64],
        Abi::Ppc64le => &[Abi::Ppc64le],
        Abi::S390x => &[Abi::S390x],
        Abi::E2k => &[Abi::E2k],
    }
}

fn arch_of(name: &str, native: Abi) -> Option<Abi> {
    if name == "SCMP_ARCH_NATIVE" {
        return Some(native);
    }
    Abi::from_oci_name(name).ok().flatten()
}

/// What compiling should say: Err(()) when the profile must be refused.
fn expect_refused(p: &Value) -> bool {
    let default = &p["defaultAction"];
    // errnoRet is data only for ERRNO and TRACE; other actions ignore it.
    let bad_errno = |action: &Value, e: &Value| {
        (action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE")
            && e.as_u64().is_some_and(|e| e > 0xffff)
    };
    if default == "SCMP_ACT_NOTIFY" || bad_errno(default, &p["defaultErrnoRet"]) {
        return true;
    }
    p["syscalls"].as_array().unwrap().iter().any(|s| {
        let names = s["names"].as_array().unwrap();
        bad_errno(&s["action"], &s["errnoRet"])
            || names.iter().any(|n| n == "")
            || s["args"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["index"].as_u64().unwrap() > 5)
            || (s["action"] == "SCMP_ACT_NOTIFY" && names.iter().any(|n| n == "write"))
    })
}

struct Rule {
    conds: Vec<(usize, String, u64, u64)>,
    action: u32,
}

struct Model<'a> {
    p: &'a Value,
    abis: Vec<Abi>,
    listed: Vec<Abi>,
    default: u32,
}

impl<'a> Model<'a> {
    fn new(p: &'a Value, native: Abi) -> Model<'a> {
        let mut abis = vec![native];
        let mut listed = Vec::new();
        for a in p["architectures"].as_array().unwrap() {
            let Some(abi) = arch_of(a.as_str().unwrap(), native) else {
                continue;
            };
            if !family(native).contains(&abi) {
                continue;
            }
            if !abis.contains(&abi) {
                abis.push(abi);
            }
            if !listed.contains(&abi) {
                listed.push(abi);
            }
        }
        let errno = p["defaultErrnoRet"].as_u64().map(|e| e as u32);
        let default = action_value(p["defaultAction"].as_str().unwrap(), errno).unwrap();
        Model {
            p,
            abis,
            listed,
            default,
        }
    }

    fn stub_wanted(&self) -> bool {
        match self.p["defaultAction"].as_str().unwrap() {
            "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG" | "SCMP_ACT_TRACE" => false,
            "SCMP_ACT_ERRNO" => self.p["defaultErrnoRet"].as_u64() != Some(libc::ENOSYS as u64),
            _ => true,
        }
    }

    fn syscalls(&self) -> &Vec<Value> {
        self.p["syscalls"].as_array().unwrap()
    }

    /// Rules naming `nr` in `abi`, in profile order (default-action rules dropped).
    fn rules(&self, abi: Abi, nr: u32) -> Vec<Rule> {
        let mut out = Vec::new();
        for s in self.syscalls() {
            let errno = s["errnoRet"].as_u64().map(|e| e as u32);
            let action = action_value(s["action"].as_str().unwrap(), errno).unwrap();
            if action == self.default {
                continue;
            }
            let conds: Vec<_> = s["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    let u = |k: &str| a[k].as_u64().unwrap();
                    (
                        u("index") as usize,
                        a["op"].as_str().unwrap().to_string(),
                        u("value"),
                        u("valueTwo"),
                    )
                })
                .collect();
            let same_arg = conds
                .iter()
                .enumerate()
                .any(|(i, c)| conds[..i].iter().any(|p| p.0 == c.0));
            let groups: Vec<Vec<_>> = if same_arg {
                conds.iter().map(|c| vec![c.clone()]).collect()
            } else {
                vec![conds]
            };
            for name in s["names"].as_array().unwrap() {
                if abi.syscall_nr(name.as_str().unwrap()) != Some(nr) {
                    continue;
                }
                for g in &groups {
                    out.push(Rule {
                        conds: g.clone(),
                        action,
                    });
                }
            }
        }
        out
    }

    fn max_nr(&self, abi: Abi) -> Option<u32> {
        self.syscalls()
            .iter()
            .flat_map(|s| s["names"].as_array().unwrap())
            .filter_map(|n| abi.syscall_nr(n.as_str().unwrap()))
            .max()
    }

    fn verdict(&self, data: &Data) -> u32 {
        let Some(&abi) = self.abis.iter().find(|a| {
            let (lo, hi, _) = abi_info(**a);
            a.audit_arch() == data.arch && (lo..=hi).contains(&data.nr)
        }) else {
            return RET_KILL_THREAD;
        };
        let stub = self.stub_wanted() && self.listed.contains(&abi);
        if let Some(max) = self.max_nr(abi).filter(|_| stub) {
            if data.nr > max || (abi == Abi::S390x && data.nr == 0) {
                return ENOSYS;
            }
        }
        let bits = abi_info(abi).2;
        let rules = self.rules(abi, data.nr);
        for r in rules.iter().filter(|r| !r.conds.is_empty()) {
            if r.conds.iter().all(|c| holds(c, data.args[c.0], bits)) {
                return r.action;
            }
        }
        rules
            .iter()
            .find(|r| r.conds.is_empty())
            .map_or(self.default, |r| r.action)
    }
}

fn holds(c: &(usize, String, u64, u64), arg: u64, bits: u8) -> bool {
    let narrow = |v: u64| if bits == 32 { v & 0xffff_ffff } else { v };
    let (a, v) = (narrow(arg), narrow(c.2));
    match c.1.as_str() {
        "SCMP_CMP_NE" => a != v,
        "SCMP_CMP_LT" => a < v,
        "SCMP_CMP_LE" => a <= v,
        "SCMP_CMP_EQ" => a == v,
        "SCMP_CMP_GE" => a >= v,
        "SCMP_CMP_GT" => a > v,
        _ => a & v == narrow(c.3) & v,
    }
}

fuzz_target!(|input: Input| {
    let native = Abi::ALL[usize::from(input.native) % Abi::ALL.len()];
    let json = profile_json(&input);
    let profile: oci_spec::runtime::LinuxSeccomp =
        serde_json::from_value(json.clone()).expect("the generated profile is valid OCI JSON");
    let refused = expect_refused(&json);
    let program = match compile_for(&profile, native) {
        Ok(p) => p,
        Err(SeccompError::ProgramTooLong(_)) => return,
        Err(e) => {
            assert!(refused, "{native:?}: refused a valid profile: {e}\n{json}");
            return;
        }
    };
    assert!(
        !refused,
        "{native:?}: compiled a profile it must refuse\n{json}"
    );
    check(program.instructions());
    let notify = json["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["action"] == "SCMP_ACT_NOTIFY");
    assert_eq!(program.wants_listener(), notify, "{json}");
    let model = Model::new(&json, native);
    let big_endian = native == Abi::S390x;
    for probe in &input.probes {
        let abi = Abi::ALL[usize::from(probe.abi) % Abi::ALL.len()];
        let nr = match probe.raw {
            Some(nr) => nr,
            None => match abi.syscall_nr(pick(NAMES, probe.name)) {
                Some(nr) => nr,
                None => continue,
            },
        };
        let data = Data {
            arch: abi.audit_arch(),
            nr,
            args: probe.args,
        };
        let got = run(program.instructions(), &data, big_endian);
        let want = model.verdict(&data);
        assert_eq!(
            got, want,
            "{native:?} probe {abi:?} nr {nr} args {:x?}: got {got:#x}, want {want:#x}\n{json}",
            probe.args
        );
    }
});
