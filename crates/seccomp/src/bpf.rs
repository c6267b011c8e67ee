//! Classic BPF building blocks: opcodes, seccomp return values and filter flags,
//! and a small assembler with symbolic labels.
//!
//! Conditional jumps in classic BPF reach at most 255 instructions ahead. The
//! assembler lets the compiler jump anywhere and, when a branch is too far,
//! points it at an inserted `ja` (32-bit offset) instead, repeating until every
//! branch fits. Only forward jumps exist, as the kernel requires.

use libc::sock_filter;

// Opcode parts, from linux/bpf_common.h.
pub(crate) const BPF_LD: u16 = 0x00;
pub(crate) const BPF_ALU: u16 = 0x04;
pub(crate) const BPF_JMP: u16 = 0x05;
pub(crate) const BPF_RET: u16 = 0x06;
pub(crate) const BPF_W: u16 = 0x00;
pub(crate) const BPF_ABS: u16 = 0x20;
pub(crate) const BPF_AND: u16 = 0x50;
pub(crate) const BPF_K: u16 = 0x00;
pub(crate) const BPF_JA: u16 = 0x00;
pub(crate) const BPF_JEQ: u16 = 0x10;
pub(crate) const BPF_JGT: u16 = 0x20;
pub(crate) const BPF_JGE: u16 = 0x30;

/// The kernel's limit on filter length (BPF_MAXINSNS).
pub(crate) const MAX_INSNS: usize = 4096;

// Return values, from linux/seccomp.h.
pub(crate) const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub(crate) const RET_KILL_THREAD: u32 = 0x0000_0000;
pub(crate) const RET_TRAP: u32 = 0x0003_0000;
pub(crate) const RET_ERRNO: u32 = 0x0005_0000;
pub(crate) const RET_USER_NOTIF: u32 = 0x7fc0_0000;
pub(crate) const RET_TRACE: u32 = 0x7ff0_0000;
pub(crate) const RET_LOG: u32 = 0x7ffc_0000;
pub(crate) const RET_ALLOW: u32 = 0x7fff_0000;

// seccomp(2) filter flags, from linux/seccomp.h.
/// SECCOMP_FILTER_FLAG_TSYNC
pub const FLAG_TSYNC: u32 = 1 << 0;
/// SECCOMP_FILTER_FLAG_LOG
pub const FLAG_LOG: u32 = 1 << 1;
/// SECCOMP_FILTER_FLAG_SPEC_ALLOW
pub const FLAG_SPEC_ALLOW: u32 = 1 << 2;
/// SECCOMP_FILTER_FLAG_NEW_LISTENER
pub const FLAG_NEW_LISTENER: u32 = 1 << 3;
/// SECCOMP_FILTER_FLAG_TSYNC_ESRCH
pub const FLAG_TSYNC_ESRCH: u32 = 1 << 4;
/// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
pub const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

/// Offsets into `struct seccomp_data`.
pub(crate) const DATA_NR: u32 = 0;
pub(crate) const DATA_ARCH: u32 = 4;
pub(crate) const DATA_ARGS: u32 = 16;

/// A jump target, bound to a position with [`Asm::bind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label(usize);

/// The conditional jumps we use; all compare the accumulator with a constant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cmp {
    Eq,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug)]
enum Item {
    Stmt {
        code: u16,
        k: u32,
    },
    Jump {
        code: u16,
        k: u32,
        jt: Label,
        jf: Label,
    },
    Ja(Label),
    Bind(Label),
}

/// Collects instructions with symbolic jumps; [`Asm::finish`] resolves them.
#[derive(Default)]
pub(crate) struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    /// Place `label` before the next instruction.
    pub fn bind(&mut self, label: Label) {
        self.items.push(Item::Bind(label));
    }

    /// `A = seccomp_data[offset]` (32 bits).
    pub fn load(&mut self, offset: u32) {
        self.items.push(Item::Stmt {
            code: BPF_LD | BPF_W | BPF_ABS,
            k: offset,
        });
    }

    /// `A &= k`.
    pub fn and(&mut self, k: u32) {
        self.items.push(Item::Stmt {
            code: BPF_ALU | BPF_AND | BPF_K,
            k,
        });
    }

    pub fn ret(&mut self, k: u32) {
        self.items.push(Item::Stmt {
            code: BPF_RET | BPF_K,
            k,
        });
    }

    /// `if A <cmp> k goto jt else goto jf`.
    pub fn jump(&mut self, cmp: Cmp, k: u32, jt: Label, jf: Label) {
        let op = match cmp {
            Cmp::Eq => BPF_JEQ,
            Cmp::Gt => BPF_JGT,
            Cmp::Ge => BPF_JGE,
        };
        self.items.push(Item::Jump {
            code: BPF_JMP | op | BPF_K,
            k,
            jt,
            jf,
        });
    }

    /// Resolve labels into offsets, inserting `ja` trampolines for far branches.
    pub fn finish(mut self) -> Vec<sock_filter> {
        while let Some(far) = self.far_branches() {
            self.add_trampolines(&far);
        }
        let (pos, at) = self.layout();
        let mut out = Vec::with_capacity(pos.len());
        for (i, item) in self.items.iter().enumerate() {
            let here = pos[i];
            let dist = |l: Label| {
                let target = at[l.0].expect("every label is bound");
                assert!(target > here, "backward jump in seccomp filter");
                target - here - 1
            };
            match *item {
                Item::Stmt { code, k } => out.push(insn(code, 0, 0, k)),
                Item::Jump { code, k, jt, jf } => {
                    // far_branches() guarantees both fit in u8.
                    out.push(insn(code, dist(jt) as u8, dist(jf) as u8, k));
                }
                Item::Ja(l) => out.push(insn(BPF_JMP | BPF_JA, 0, 0, dist(l) as u32)),
                Item::Bind(_) => {}
            }
        }
        out
    }

    /// Instruction index of each item, and of each label.
    fn layout(&self) -> (Vec<usize>, Vec<Option<usize>>) {
        let mut pos = Vec::with_capacity(self.items.len());
        let mut at = vec![None; self.labels];
        let mut n = 0;
        for item in &self.items {
            pos.push(n);
            match item {
                Item::Bind(l) => at[l.0] = Some(n),
                _ => n += 1,
            }
        }
        (pos, at)
    }

    /// For each conditional jump with a branch out of range: (item, jt far, jf far).
    fn far_branches(&self) -> Option<Vec<(usize, bool, bool)>> {
        let (pos, at) = self.layout();
        let too_far = |here: usize, l: Label| at[l.0].is_some_and(|t| t > here + 256);
        let far: Vec<_> = self
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match *item {
                Item::Jump { jt, jf, .. } => {
                    let (t, f) = (too_far(pos[i], jt), too_far(pos[i], jf));
                    (t || f).then_some((i, t, f))
                }
                _ => None,
            })
            .collect();
        (!far.is_empty()).then_some(far)
    }

    /// Redirect far branches to `ja` instructions placed right after their jump
    /// (a conditional jump never falls through, so nothing else reaches them).
    fn add_trampolines(&mut self, far: &[(usize, bool, bool)]) {
        let old = std::mem::take(&mut self.items);
        let mut far = far.iter().peekable();
        for (i, item) in old.into_iter().enumerate() {
            let Some(&(_, t_far, f_far)) = far.next_if(|f| f.0 == i) else {
                self.items.push(item);
                continue;
            };
            let Item::Jump {
                code,
                k,
                mut jt,
                mut jf,
            } = item
            else {
                unreachable!("only jumps are listed as far")
            };
            let mut tail = Vec::new();
            for (far, target) in [(t_far, &mut jt), (f_far, &mut jf)] {
                if far {
                    let tramp = self.label();
                    tail.push(Item::Bind(tramp));
                    tail.push(Item::Ja(*target));
                    *target = tramp;
                }
            }
            self.items.push(Item::Jump { code, k, jt, jf });
            self.items.extend(tail);
        }
    }
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_branches_get_trampolines() {
        let mut asm = Asm::default();
        let (near, far) = (asm.label(), asm.label());
        asm.load(DATA_NR);
        asm.jump(Cmp::Eq, 7, far, near);
        asm.bind(near);
        for i in 0..300 {
            asm.ret(i);
        }
        asm.bind(far);
        asm.ret(RET_ALLOW);
        let prog = asm.finish();
        // load, jeq, ja, 300 rets, ret allow
        assert_eq!(prog.len(), 304);
        assert_eq!((prog[1].jt, prog[1].jf), (0, 1));
        assert_eq!(prog[2].code, BPF_JMP | BPF_JA);
        assert_eq!(2 + 1 + prog[2].k as usize, 303);
        assert_eq!(prog[303].k, RET_ALLOW);
    }
}
