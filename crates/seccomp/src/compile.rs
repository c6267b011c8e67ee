//! Compiles an OCI `LinuxSeccomp` profile into a classic BPF [`Program`].
//!
//! Semantics follow runc on libseccomp, so a profile behaves the same under
//! yurta as under runc (see docs/seccomp.md for the list). Owns the translation
//! from profile to filter; the syscall tables live in [`crate::arch`], the
//! instruction encoding in [`crate::bpf`], loading in [`crate::install`].
//!
//! Layout of the generated filter:
//! ```text
//!   load arch; one `jeq` per AUDIT_ARCH in the filter; else ret KILL_THREAD
//!   per arch: load nr; binary search over ranges of syscall numbers;
//!             each leaf returns an action or runs that syscall's argument rules
//! ```

use std::collections::BTreeMap;
use std::fmt;

use libc::sock_filter;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction as Action, LinuxSeccompFilterFlag as Flag,
    LinuxSeccompOperator as Op,
};

use crate::arch::Abi;
use crate::bpf::{self, Asm, Cmp, Label};
use crate::SeccompError;

/// A compiled filter and the `SECCOMP_FILTER_FLAG_*` bits to load it with.
#[derive(Clone)]
pub struct Program {
    filter: Vec<sock_filter>,
    flags: u32,
}

impl Program {
    /// The BPF instructions.
    pub fn instructions(&self) -> &[sock_filter] {
        &self.filter
    }

    /// Flags for seccomp(2), derived from the profile's `flags` and from any
    /// `SCMP_ACT_NOTIFY` rule (which needs a listener fd).
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Whether installing returns a user-notification listener fd.
    pub fn wants_listener(&self) -> bool {
        self.flags & bpf::FLAG_NEW_LISTENER != 0
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program")
            .field("instructions", &self.filter.len())
            .field("flags", &format_args!("{:#x}", self.flags))
            .finish()
    }
}

/// Compile `profile` for the host: its native ABI plus those listed in
/// `architectures` that the host kernel also runs (e.g. X86 and X32 on x86_64).
pub fn compile(profile: &LinuxSeccomp) -> Result<Program, SeccompError> {
    compile_for(profile, crate::native::native_abi()?)
}

/// Compile `profile` as if `native` were the host ABI.
pub fn compile_for(profile: &LinuxSeccomp, native: Abi) -> Result<Program, SeccompError> {
    let default = action_value(profile.default_action(), profile.default_errno_ret())?;
    if profile.default_action() == Action::ScmpActNotify {
        return Err(SeccompError::InvalidNotify("as the default action"));
    }
    let (abis, stub_abis) = filter_abis(profile, native);
    let rules = collect_rules(profile, default)?;

    let stub = enosys_stub_wanted(profile);
    let mut per_abi: Vec<AbiSegments> = Vec::new();
    for &abi in &abis {
        let max_nr = if stub && stub_abis.contains(&abi) {
            max_nr(profile, abi)
        } else {
            None
        };
        per_abi.push((abi, segments(abi, &rules, default, max_nr)));
    }
    let filter = generate(&per_abi);
    if filter.len() > bpf::MAX_INSNS {
        return Err(SeccompError::ProgramTooLong(filter.len()));
    }
    Ok(Program {
        filter,
        flags: flags(profile, &rules),
    })
}

/// The seccomp return value for an OCI action.
fn action_value(action: Action, errno: Option<u32>) -> Result<u32, SeccompError> {
    let data = |e: Option<u32>| match e {
        None => Ok(libc::EPERM as u32), // runc's default for ERRNO and TRACE
        Some(e) if e <= 0xffff => Ok(e),
        Some(e) => Err(SeccompError::InvalidErrno(e)),
    };
    Ok(match action {
        Action::ScmpActKill | Action::ScmpActKillThread => bpf::RET_KILL_THREAD,
        Action::ScmpActKillProcess => bpf::RET_KILL_PROCESS,
        Action::ScmpActTrap => bpf::RET_TRAP,
        Action::ScmpActErrno => bpf::RET_ERRNO | data(errno)?,
        Action::ScmpActTrace => bpf::RET_TRACE | data(errno)?,
        Action::ScmpActLog => bpf::RET_LOG,
        Action::ScmpActAllow => bpf::RET_ALLOW,
        Action::ScmpActNotify => bpf::RET_USER_NOTIF,
    })
}

/// The ABI for an OCI arch; `None` for one without a table (never on our hosts).
fn arch_abi(arch: Arch, native: Abi) -> Option<Abi> {
    Some(match arch {
        Arch::ScmpArchNative => native,
        Arch::ScmpArchX86_64 => Abi::X86_64,
        Arch::ScmpArchX86 => Abi::X86,
        Arch::ScmpArchX32 => Abi::X32,
        Arch::ScmpArchAarch64 => Abi::Aarch64,
        Arch::ScmpArchArm => Abi::Arm,
        Arch::ScmpArchRiscv64 => Abi::Riscv64,
        Arch::ScmpArchPpc64le => Abi::Ppc64le,
        Arch::ScmpArchS390x => Abi::S390x,
        _ => return None, // MIPS, PPC, S390, ...: no table, and never on our hosts
    })
}

/// ABIs in the filter (native first), and those the profile lists explicitly
/// (runc adds its -ENOSYS stub only for listed ones).
fn filter_abis(profile: &LinuxSeccomp, native: Abi) -> (Vec<Abi>, Vec<Abi>) {
    let family = native.kernel_family();
    let mut abis = vec![native];
    let mut listed = Vec::new();
    for &arch in profile.architectures().iter().flatten() {
        let Some(abi) = arch_abi(arch, native) else {
            continue;
        };
        if !family.contains(&abi) {
            continue; // another kernel's ABI: its AUDIT_ARCH never shows up here
        }
        if !abis.contains(&abi) {
            abis.push(abi);
        }
        if !listed.contains(&abi) {
            listed.push(abi);
        }
    }
    (abis, listed)
}

/// One argument comparison; `value` is the mask for MASKED_EQ, as in OCI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cond {
    index: u32,
    op: Op,
    value: u64,
    value_two: u64,
}

/// Conditions (AND-ed) and the action when they all hold.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    conds: Vec<Cond>,
    action: u32,
}

/// A profile's rules by syscall name, in profile order.
struct Rules {
    by_name: Vec<(String, Rule)>,
    notify: bool,
}

fn collect_rules(profile: &LinuxSeccomp, default: u32) -> Result<Rules, SeccompError> {
    let mut by_name = Vec::new();
    let mut notify = false;
    for sc in profile.syscalls().iter().flatten() {
        let action = action_value(sc.action(), sc.errno_ret())?;
        let conds = conditions(sc.names(), sc.args().as_deref().unwrap_or_default())?;
        if sc.action() == Action::ScmpActNotify {
            notify = true;
            if sc.names().iter().any(|n| n == "write") {
                return Err(SeccompError::InvalidNotify("for the write syscall"));
            }
        }
        if action == default {
            continue; // redundant, as in runc
        }
        // runc: if two conditions test the same argument, each becomes its own
        // rule (OR); otherwise all conditions form one rule (AND).
        let same_arg = conds
            .iter()
            .enumerate()
            .any(|(i, c)| conds[..i].iter().any(|p| p.index == c.index));
        let groups: Vec<Vec<Cond>> = if same_arg {
            conds.iter().map(|c| vec![*c]).collect()
        } else {
            vec![conds]
        };
        for name in sc.names() {
            for conds in &groups {
                by_name.push((
                    name.clone(),
                    Rule {
                        conds: conds.clone(),
                        action,
                    },
                ));
            }
        }
    }
    Ok(Rules { by_name, notify })
}

fn conditions(
    names: &[String],
    args: &[oci_spec::runtime::LinuxSeccompArg],
) -> Result<Vec<Cond>, SeccompError> {
    if names.iter().any(|n| n.is_empty()) {
        return Err(SeccompError::EmptySyscallName);
    }
    args.iter()
        .map(|a| {
            if a.index() > 5 {
                return Err(SeccompError::InvalidArgIndex {
                    syscall: names.first().cloned().unwrap_or_default(),
                    index: a.index(),
                });
            }
            Ok(Cond {
                index: a.index() as u32,
                op: a.op(),
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
            })
        })
        .collect()
}

/// runc's -ENOSYS stub: unless the default action already lets syscalls
/// through (ALLOW, LOG, TRACE) or returns ENOSYS, numbers above the highest one
/// the profile names get ENOSYS, so libcs fall back from syscalls newer than
/// the profile (clone3, faccessat2, ...) instead of failing with EPERM.
fn enosys_stub_wanted(profile: &LinuxSeccomp) -> bool {
    match profile.default_action() {
        Action::ScmpActAllow | Action::ScmpActLog | Action::ScmpActTrace => false,
        Action::ScmpActErrno => profile.default_errno_ret() != Some(libc::ENOSYS as u32),
        _ => true,
    }
}

/// Highest number in `abi` among all names in the profile (whatever their action).
fn max_nr(profile: &LinuxSeccomp, abi: Abi) -> Option<u32> {
    let names = profile.syscalls().iter().flatten().flat_map(|s| s.names());
    names.filter_map(|n| abi.syscall_nr(n)).max()
}

fn flags(profile: &LinuxSeccomp, rules: &Rules) -> u32 {
    let mut flags = 0;
    for flag in profile.flags().iter().flatten() {
        flags |= match flag {
            Flag::SeccompFilterFlagTsync => bpf::FLAG_TSYNC,
            Flag::SeccompFilterFlagLog => bpf::FLAG_LOG,
            Flag::SeccompFilterFlagSpecAllow => bpf::FLAG_SPEC_ALLOW,
            Flag::SeccompFilterFlagWaitKillableRecv => bpf::FLAG_WAIT_KILLABLE_RECV,
        };
    }
    if rules.notify {
        flags |= bpf::FLAG_NEW_LISTENER;
        if flags & bpf::FLAG_TSYNC != 0 {
            flags |= bpf::FLAG_TSYNC_ESRCH; // the kernel refuses TSYNC + listener otherwise
        }
    } else {
        flags &= !bpf::FLAG_WAIT_KILLABLE_RECV; // only meaningful with a listener
    }
    flags
}

/// What a range of syscall numbers does.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ret(u32),
    /// Argument rules tried in order, then `fallback`.
    Rules {
        rules: Vec<Rule>,
        fallback: u32,
    },
}

/// `outcome` applies from `start` up to the next segment's start.
type Segment = (u32, Outcome);

fn push_segment(segs: &mut Vec<Segment>, start: u32, outcome: Outcome) {
    if segs.last().is_some_and(|(_, o)| *o == outcome) {
        return;
    }
    segs.push((start, outcome));
}

/// Partition `abi`'s syscall-number range into segments.
fn segments(abi: Abi, rules: &Rules, default: u32, max_nr: Option<u32>) -> Vec<Segment> {
    // Per number: conditional rules in profile order, and the first unconditional action.
    let mut per_nr: BTreeMap<u32, (Vec<Rule>, Option<u32>)> = BTreeMap::new();
    for (name, rule) in &rules.by_name {
        let Some(nr) = abi.syscall_nr(name) else {
            continue;
        }; // unknown here: skipped, as in runc
        let entry = per_nr.entry(nr).or_default();
        if rule.conds.is_empty() {
            entry.1.get_or_insert(rule.action);
        } else {
            entry.0.push(rule.clone());
        }
    }
    let enosys = bpf::RET_ERRNO | libc::ENOSYS as u32;
    if max_nr.is_some() && abi == Abi::S390x {
        // s390x multiplexes unknown large numbers through nr 0; runc returns ENOSYS.
        per_nr.insert(0, (Vec::new(), Some(enosys)));
    }
    let info = abi.info();
    let last = max_nr.map_or(info.nr_hi, |m| m.min(info.nr_hi));
    let mut segs = Vec::new();
    let mut next = u64::from(info.nr_lo);
    for (nr, (rules, uncond)) in per_nr {
        if u64::from(nr) > next {
            push_segment(&mut segs, next as u32, Outcome::Ret(default));
        }
        let fallback = uncond.unwrap_or(default);
        let outcome = if rules.is_empty() {
            Outcome::Ret(fallback)
        } else {
            Outcome::Rules { rules, fallback }
        };
        push_segment(&mut segs, nr, outcome);
        next = u64::from(nr) + 1;
    }
    if next <= u64::from(last) {
        push_segment(&mut segs, next as u32, Outcome::Ret(default));
    }
    if last < info.nr_hi {
        push_segment(&mut segs, last + 1, Outcome::Ret(enosys));
    }
    segs
}

/// An ABI with its segments.
type AbiSegments = (Abi, Vec<Segment>);

fn generate(per_abi: &[AbiSegments]) -> Vec<sock_filter> {
    // Group ABIs sharing an AUDIT_ARCH (x86_64 and x32), keeping first-seen order.
    let mut arches: Vec<(u32, Vec<&AbiSegments>)> = Vec::new();
    for entry in per_abi {
        let audit = entry.0.audit_arch();
        match arches.iter_mut().find(|(a, _)| *a == audit) {
            Some((_, group)) => group.push(entry),
            None => arches.push((audit, vec![entry])),
        }
    }
    let mut asm = Asm::default();
    asm.load(bpf::DATA_ARCH);
    let targets: Vec<Label> = arches.iter().map(|_| asm.label()).collect();
    for ((audit, _), &target) in arches.iter().zip(&targets) {
        let next = asm.label();
        asm.jump(Cmp::Eq, *audit, target, next);
        asm.bind(next);
    }
    // libseccomp's default bad-arch action; runc keeps it.
    asm.ret(bpf::RET_KILL_THREAD);
    for ((_, group), target) in arches.iter().zip(targets) {
        asm.bind(target);
        asm.load(bpf::DATA_NR);
        emit_tree(&mut asm, &arch_segments(group));
    }
    asm.finish()
}

/// Segments of all ABIs of one AUDIT_ARCH covering 0..=u32::MAX; number ranges
/// no ABI claims (x32's, when only x86_64 is filtered) get the bad-arch action.
fn arch_segments<'a>(group: &[&'a AbiSegments]) -> Vec<(u32, &'a Outcome, Abi)> {
    static BAD_ARCH: Outcome = Outcome::Ret(bpf::RET_KILL_THREAD);
    let mut abis: Vec<_> = group.to_vec();
    abis.sort_by_key(|(abi, _)| abi.info().nr_lo);
    let mut out = Vec::new();
    let mut next = 0u64;
    for (abi, segs) in abis {
        let info = abi.info();
        if u64::from(info.nr_lo) > next {
            out.push((next as u32, &BAD_ARCH, *abi));
        }
        out.extend(segs.iter().map(|(s, o)| (*s, o, *abi)));
        next = u64::from(info.nr_hi) + 1;
    }
    if next <= u64::from(u32::MAX) {
        out.push((next as u32, &BAD_ARCH, group[0].0));
    }
    out
}

/// Binary search on the syscall number (in A) down to one segment.
fn emit_tree(asm: &mut Asm, segs: &[(u32, &Outcome, Abi)]) {
    if let [(_, outcome, abi)] = segs {
        return emit_outcome(asm, outcome, *abi);
    }
    let mid = segs.len() / 2;
    let (low, high) = (asm.label(), asm.label());
    asm.jump(Cmp::Ge, segs[mid].0, high, low);
    asm.bind(low);
    emit_tree(asm, &segs[..mid]);
    asm.bind(high);
    emit_tree(asm, &segs[mid..]);
}

fn emit_outcome(asm: &mut Asm, outcome: &Outcome, abi: Abi) {
    match outcome {
        Outcome::Ret(action) => asm.ret(*action),
        Outcome::Rules { rules, fallback } => {
            for rule in rules {
                let next_rule = asm.label();
                for cond in &rule.conds {
                    emit_cond(asm, abi, cond, next_rule);
                }
                asm.ret(rule.action);
                asm.bind(next_rule);
            }
            asm.ret(*fallback);
        }
    }
}

/// Fall through when `cond` holds on the syscall's argument, else go to `fail`.
fn emit_cond(asm: &mut Asm, abi: Abi, cond: &Cond, fail: Label) {
    let info = abi.info();
    let base = bpf::DATA_ARGS + 8 * cond.index;
    let (lo_off, hi_off) = if info.big_endian {
        (base + 4, base)
    } else {
        (base, base + 4)
    };
    // MASKED_EQ compares (arg & mask) with (datum & mask), as libseccomp does.
    let (mask, datum) = match cond.op {
        Op::ScmpCmpMaskedEq => (cond.value, cond.value_two & cond.value),
        _ => (u64::MAX, cond.value),
    };
    let (m_hi, m_lo, d_hi, d_lo) = (
        (mask >> 32) as u32,
        mask as u32,
        (datum >> 32) as u32,
        datum as u32,
    );
    let pass = asm.label();
    if info.arg_bits == 64 {
        // High word decides unless equal; then the low word decides.
        let low = asm.label();
        asm.load(hi_off);
        match cond.op {
            Op::ScmpCmpEq => asm.jump(Cmp::Eq, d_hi, low, fail),
            Op::ScmpCmpNe => asm.jump(Cmp::Eq, d_hi, low, pass),
            Op::ScmpCmpMaskedEq => {
                asm.and(m_hi);
                asm.jump(Cmp::Eq, d_hi, low, fail);
            }
            Op::ScmpCmpGt | Op::ScmpCmpGe => {
                let eq = asm.label();
                asm.jump(Cmp::Gt, d_hi, pass, eq);
                asm.bind(eq);
                asm.jump(Cmp::Eq, d_hi, low, fail);
            }
            Op::ScmpCmpLt | Op::ScmpCmpLe => {
                let eq = asm.label();
                asm.jump(Cmp::Gt, d_hi, fail, eq);
                asm.bind(eq);
                asm.jump(Cmp::Eq, d_hi, low, pass);
            }
        }
        asm.bind(low);
    }
    // 32-bit ABIs compare only the low word, with the datum truncated (libseccomp).
    asm.load(lo_off);
    match cond.op {
        Op::ScmpCmpEq => asm.jump(Cmp::Eq, d_lo, pass, fail),
        Op::ScmpCmpNe => asm.jump(Cmp::Eq, d_lo, fail, pass),
        Op::ScmpCmpGt => asm.jump(Cmp::Gt, d_lo, pass, fail),
        Op::ScmpCmpGe => asm.jump(Cmp::Ge, d_lo, pass, fail),
        Op::ScmpCmpLt => asm.jump(Cmp::Ge, d_lo, fail, pass),
        Op::ScmpCmpLe => asm.jump(Cmp::Gt, d_lo, fail, pass),
        Op::ScmpCmpMaskedEq => {
            asm.and(m_lo);
            asm.jump(Cmp::Eq, d_lo, pass, fail);
        }
    }
    asm.bind(pass);
}
