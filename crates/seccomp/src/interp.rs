//! Test-only classic BPF evaluator for seccomp programs.
//!
//! Checks each program the way the kernel's seccomp_check_filter does (known
//! opcodes, aligned loads inside seccomp_data, forward in-range jumps, ends in
//! ret) and runs it on a `seccomp_data` built from (arch, nr, args).

use libc::sock_filter;

use crate::bpf::*;

/// The `seccomp_data` the kernel would pass.
#[derive(Clone, Copy, Debug)]
pub struct Data {
    pub arch: u32,
    pub nr: u32,
    pub args: [u64; 6],
}

impl Data {
    pub fn new(arch: u32, nr: u32) -> Data {
        Data {
            arch,
            nr,
            args: [0; 6],
        }
    }

    /// The 32-bit word at `offset`, in the layout of a kernel with that endianness.
    fn word(&self, offset: u32, big_endian: bool) -> u32 {
        match offset {
            0 => self.nr,
            4 => self.arch,
            8 | 12 => 0, // instruction_pointer: never used by our filters
            16..=63 => {
                let arg = self.args[(offset as usize - 16) / 8];
                let first_half = offset & 7 == 0;
                if first_half != big_endian {
                    arg as u32
                } else {
                    (arg >> 32) as u32
                }
            }
            _ => panic!("load outside seccomp_data at {offset}"),
        }
    }
}

/// Reject programs the kernel would reject.
pub fn check(prog: &[sock_filter]) {
    assert!(
        !prog.is_empty() && prog.len() <= MAX_INSNS,
        "length {}",
        prog.len()
    );
    for (pc, insn) in prog.iter().enumerate() {
        match insn.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => {
                assert!(
                    insn.k % 4 == 0 && insn.k < 64,
                    "bad load at {pc}: {}",
                    insn.k
                )
            }
            c if c == BPF_ALU | BPF_AND | BPF_K || c == BPF_RET | BPF_K => {}
            c if c == BPF_JMP | BPF_JA => {
                assert!(
                    pc + 1 + (insn.k as usize) < prog.len(),
                    "ja out of range at {pc}"
                )
            }
            c if c == BPF_JMP | BPF_JEQ | BPF_K
                || c == BPF_JMP | BPF_JGT | BPF_K
                || c == BPF_JMP | BPF_JGE | BPF_K =>
            {
                let far = pc + 1 + usize::from(insn.jt.max(insn.jf));
                assert!(far < prog.len(), "jump out of range at {pc}");
            }
            c => panic!("unexpected opcode {c:#x} at {pc}"),
        }
    }
    assert_eq!(
        prog.last().map(|i| i.code),
        Some(BPF_RET | BPF_K),
        "must end in ret"
    );
}

/// Run `prog` and return the seccomp action value.
pub fn run(prog: &[sock_filter], data: &Data, big_endian: bool) -> u32 {
    let mut acc = 0u32;
    let mut pc = 0usize;
    loop {
        let insn = prog[pc];
        pc += 1;
        let cond = |op: u16| match op {
            BPF_JEQ => acc == insn.k,
            BPF_JGT => acc > insn.k,
            BPF_JGE => acc >= insn.k,
            _ => unreachable!(),
        };
        match insn.code {
            c if c == BPF_LD | BPF_W | BPF_ABS => acc = data.word(insn.k, big_endian),
            c if c == BPF_ALU | BPF_AND | BPF_K => acc &= insn.k,
            c if c == BPF_RET | BPF_K => return insn.k,
            c if c == BPF_JMP | BPF_JA => pc += insn.k as usize,
            c if c & 0x07 == BPF_JMP => {
                pc += usize::from(if cond(c & 0xf0) { insn.jt } else { insn.jf });
            }
            c => panic!("unexpected opcode {c:#x}"),
        }
    }
}
