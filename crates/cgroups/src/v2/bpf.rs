//! The cgroup v2 device filter: OCI device rules compiled to a BPF_PROG_TYPE_CGROUP_DEVICE
//! program, loaded with bpf(2) and attached to the container's cgroup, replacing any program a
//! previous `set` attached. Semantics match the v1 implementation: deny everything by default,
//! the last matching rule decides.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::CgroupError;

// From linux/bpf.h.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// One eBPF instruction (struct bpf_insn).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | (dst & 0xf),
        off,
        imm,
    }
}

const LDX_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const AND_K: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
const RSH_K: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
const MOV_K: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const MOV_X: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// A device rule in the program's terms: type 1 block, 2 char, None any; access bits
/// mknod 1, read 2, write 4; None numbers are wildcards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    pub typ: Option<u32>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

/// Parses the v1 rule text ("c 1:3 rwm") shared with the v1 implementation.
pub(crate) fn rule_from_text(allow: bool, text: &str) -> Rule {
    let mut it = text.split(' ');
    let typ = match it.next() {
        Some("b") => Some(1),
        Some("c") => Some(2),
        _ => None,
    };
    let (maj, min) = it
        .next()
        .and_then(|d| d.split_once(':'))
        .unwrap_or(("*", "*"));
    let access = it.next().unwrap_or("rwm").chars().fold(0, |acc, c| {
        acc | match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        }
    });
    Rule {
        allow,
        typ,
        major: maj.parse().ok(),
        minor: min.parse().ok(),
        access,
    }
}

/// Compiles rules: r2 = type, r3 = access, r4 = major, r5 = minor; then one block per rule,
/// last rule first, each returning its verdict on match; finally deny.
pub(crate) fn compile(rules: &[Rule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_W, 2, 1, 0, 0),
        insn(AND_K, 2, 0, 0, 0xffff),
        insn(LDX_W, 3, 1, 0, 0),
        insn(RSH_K, 3, 0, 0, 16),
        insn(LDX_W, 4, 1, 4, 0),
        insn(LDX_W, 5, 1, 8, 0),
    ];
    for rule in rules.iter().rev() {
        // Each check is a (setup instructions, register, value) jump past the block on mismatch.
        let mut checks: Vec<(Vec<Insn>, u8, i32)> = Vec::new();
        if let Some(t) = rule.typ {
            checks.push((vec![], 2, t as i32));
        }
        if rule.access & 7 != 7 {
            let setup = vec![
                insn(MOV_X, 1, 3, 0, 0),
                insn(AND_K, 1, 0, 0, !(rule.access as i32)),
            ];
            checks.push((setup, 1, 0));
        }
        if let Some(m) = rule.major {
            checks.push((vec![], 4, m as i32));
        }
        if let Some(m) = rule.minor {
            checks.push((vec![], 5, m as i32));
        }
        let unconditional = checks.is_empty();
        let mut block = Vec::new();
        let mut jumps = Vec::new();
        for (setup, reg, val) in checks {
            block.extend(setup);
            jumps.push(block.len());
            block.push(insn(JNE_K, reg, 0, 0, val));
        }
        block.push(insn(MOV_K, 0, 0, 0, i32::from(rule.allow)));
        block.push(insn(EXIT, 0, 0, 0, 0));
        for j in jumps {
            block[j].off = (block.len() - j - 1) as i16;
        }
        p.extend(block);
        // A rule matching everything decides alone; code after it would be unreachable, which
        // the verifier rejects.
        if unconditional {
            return p;
        }
    }
    p.push(insn(MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, fully initialised #[repr(C)] prefix of union bpf_attr for `cmd`,
    // and its exact size is passed, so the kernel reads and writes only within it.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn to_fd(r: libc::c_long) -> OwnedFd {
    // SAFETY: bpf(2) returned a new file descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(r as i32) }
}

fn load(insns: &[Insn]) -> io::Result<OwnedFd> {
    load_with_log(insns, &mut []).or_else(|e| {
        // Load again with the verifier's log so the error says why.
        let mut log = vec![0u8; 64 * 1024];
        match load_with_log(insns, &mut log) {
            Ok(fd) => Ok(fd),
            Err(_) => {
                let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
                Err(io::Error::new(e.kind(), format!("{e}; verifier: {text}")))
            }
        }
    })
}

fn load_with_log(insns: &[Insn], log: &mut [u8]) -> io::Result<OwnedFd> {
    let license = CString::new("Apache").expect("no NUL");
    let mut name = [0u8; 16];
    name[..12].copy_from_slice(b"yurta_device");
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(!log.is_empty()),
        log_size: log.len() as u32,
        log_buf: if log.is_empty() {
            0
        } else {
            log.as_mut_ptr() as u64
        },
        prog_name: name,
        ..Default::default()
    };
    bpf(BPF_PROG_LOAD, &mut attr).map(to_fd)
}

/// Ids of the device programs attached to the cgroup now.
fn attached(cgroup: &File) -> io::Result<Vec<u32>> {
    let mut ids = vec![0u32; 64];
    let mut attr = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..Default::default()
    };
    bpf(BPF_PROG_QUERY, &mut attr)?;
    ids.truncate(attr.prog_cnt as usize);
    Ok(ids)
}

fn detach(cgroup: &File, id: u32) -> io::Result<()> {
    let mut get = GetFdAttr {
        prog_id: id,
        ..Default::default()
    };
    let prog = to_fd(bpf(BPF_PROG_GET_FD_BY_ID, &mut get)?);
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    bpf(BPF_PROG_DETACH, &mut attr).map(drop)
}

/// Loads the program for `rules` and attaches it to `dir`, detaching the ones attached before
/// (new first, so there is no window without a filter).
pub(crate) fn install(dir: &Path, rules: &[Rule]) -> Result<(), CgroupError> {
    let err = |action, source| CgroupError::Bpf {
        path: dir.to_path_buf(),
        action,
        source,
    };
    let cgroup = File::open(dir).map_err(|e| err("open cgroup for", e))?;
    let old = attached(&cgroup).map_err(|e| err("query", e))?;
    let prog = load(&compile(rules)).map_err(|e| err("load", e))?;
    let mut attr = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..Default::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map_err(|e| err("attach", e))?;
    for id in old {
        detach(&cgroup, id).map_err(|e| err("detach old", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_text() {
        let r = rule_from_text(true, "c 1:3 rw");
        assert_eq!(
            r,
            Rule {
                allow: true,
                typ: Some(2),
                major: Some(1),
                minor: Some(3),
                access: 6
            }
        );
        let r = rule_from_text(false, "a *:* rwm");
        assert_eq!(
            r,
            Rule {
                allow: false,
                typ: None,
                major: None,
                minor: None,
                access: 7
            }
        );
    }

    #[test]
    fn compiles_jumps_past_the_block() {
        let p = compile(&[rule_from_text(true, "c 1:3 r")]);
        // prologue 6, type check, 2-insn access setup + check, major, minor, verdict 2, deny 2.
        assert_eq!(p.len(), 6 + 1 + 3 + 1 + 1 + 2 + 2);
        assert_eq!(p[6], insn(JNE_K, 2, 0, 7, 2)); // pc + 1 + 7: the final deny
        assert_eq!(p[9], insn(JNE_K, 1, 0, 4, 0));
        assert_eq!(p[12], insn(MOV_K, 0, 0, 0, 1));
        assert_eq!(p[p.len() - 2], insn(MOV_K, 0, 0, 0, 0));
        // deny-all only: no checks, just "return 0".
        let p = compile(&[rule_from_text(false, "a *:* rwm")]);
        assert_eq!(p[6..], [insn(MOV_K, 0, 0, 0, 0), insn(EXIT, 0, 0, 0, 0)]);
        // A later "allow all" hides the earlier rules entirely.
        let p = compile(&[
            rule_from_text(false, "c 1:3 rwm"),
            rule_from_text(true, "a *:* rwm"),
        ]);
        assert_eq!(p[6..], [insn(MOV_K, 0, 0, 0, 1), insn(EXIT, 0, 0, 0, 0)]);
    }
}
