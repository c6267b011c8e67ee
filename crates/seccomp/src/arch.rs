//! Architecture data: for each syscall ABI we can filter, its OCI name, the
//! `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`, and its syscall
//! table (`tables/<abi>.tsv`, name → number as seen in `seccomp_data.nr`).
//!
//! Owns the data and the lazy name lookup; choosing the host's ABIs is
//! [`crate::native`]'s job. Tables are parsed on first use of each ABI only, so a
//! container start on x86_64 never touches the arm or e2k tables.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::SeccompError;

/// `__AUDIT_ARCH_64BIT` and `__AUDIT_ARCH_LE` from linux/audit.h.
const AUDIT_64BIT: u32 = 0x8000_0000;
const AUDIT_LE: u32 = 0x4000_0000;

/// x32 syscalls run under `AUDIT_ARCH_X86_64` with this bit set in the number.
pub(crate) const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// A syscall ABI that yurta has a table for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Abi {
    /// x86-64, 64-bit ABI.
    X86_64,
    /// i386 binaries (on an i386 or x86-64 kernel).
    X86,
    /// The x32 ABI of x86-64.
    X32,
    /// arm64.
    Aarch64,
    /// 32-bit arm, EABI.
    Arm,
    /// riscv64.
    Riscv64,
    /// ppc64 little-endian.
    Ppc64le,
    /// s390x.
    S390x,
    /// Elbrus (MCST e2k); one table serves its 64-bit, 32-bit and protected ABIs.
    E2k,
}

/// The static description of one ABI.
#[derive(Debug)]
pub(crate) struct AbiInfo {
    pub oci_name: &'static str,
    pub audit_arch: u32,
    /// Width of syscall arguments; 32-bit ABIs compare only the low word (as libseccomp does).
    pub arg_bits: u8,
    pub big_endian: bool,
    /// Syscall numbers of this ABI fall in `nr_lo..=nr_hi` (x86-64 and x32 split one arch).
    pub nr_lo: u32,
    pub nr_hi: u32,
    table: &'static str,
}

impl Abi {
    /// Every ABI, in the order used by [`crate::supported_archs`].
    pub const ALL: [Abi; 9] = [
        Abi::X86_64,
        Abi::X86,
        Abi::X32,
        Abi::Aarch64,
        Abi::Arm,
        Abi::Riscv64,
        Abi::Ppc64le,
        Abi::S390x,
        Abi::E2k,
    ];

    pub(crate) fn info(self) -> &'static AbiInfo {
        &INFO[self as usize]
    }

    /// The OCI name, e.g. `SCMP_ARCH_X86_64`.
    pub fn oci_name(self) -> &'static str {
        self.info().oci_name
    }

    /// The `AUDIT_ARCH_*` value the kernel reports for this ABI.
    pub fn audit_arch(self) -> u32 {
        self.info().audit_arch
    }

    /// Parse an OCI architecture name. Names libseccomp knows but yurta has no
    /// table for give `Ok(None)`: such an ABI can never run on a host yurta
    /// supports, so a profile may list it harmlessly.
    pub fn from_oci_name(name: &str) -> Result<Option<Abi>, SeccompError> {
        if let Some(abi) = Abi::ALL.into_iter().find(|a| a.oci_name() == name) {
            return Ok(Some(abi));
        }
        if FOREIGN_ARCHES.contains(&name) {
            return Ok(None);
        }
        Err(SeccompError::UnsupportedArch(name.to_string()))
    }

    /// The syscall number of `name` in this ABI, if the ABI has that syscall.
    pub fn syscall_nr(self, name: &str) -> Option<u32> {
        let table = TABLES[self as usize].get_or_init(|| parse_table(self.info().table));
        table.get(name).copied()
    }

    /// The ABIs a kernel of this native ABI runs and reports in `seccomp_data`.
    pub(crate) fn kernel_family(self) -> &'static [Abi] {
        match self {
            Abi::X86_64 => &[Abi::X86_64, Abi::X86, Abi::X32],
            Abi::X86 => &[Abi::X86],
            Abi::X32 => &[Abi::X32, Abi::X86_64, Abi::X86],
            Abi::Aarch64 => &[Abi::Aarch64, Abi::Arm],
            Abi::Arm => &[Abi::Arm],
            Abi::Riscv64 => &[Abi::Riscv64],
            Abi::Ppc64le => &[Abi::Ppc64le],
            Abi::S390x => &[Abi::S390x],
            Abi::E2k => &[Abi::E2k],
        }
    }
}

/// OCI/libseccomp names without a yurta table (see [`Abi::from_oci_name`]).
const FOREIGN_ARCHES: &[&str] = &[
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV32",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// Indexed by `Abi as usize`; the order must match the enum.
static INFO: [AbiInfo; 9] = [
    AbiInfo {
        oci_name: "SCMP_ARCH_X86_64",
        audit_arch: 62 | AUDIT_64BIT | AUDIT_LE, // EM_X86_64
        arg_bits: 64,
        big_endian: false,
        nr_lo: 0,
        nr_hi: X32_SYSCALL_BIT - 1,
        table: include_str!("../tables/x86_64.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_X86",
        audit_arch: 3 | AUDIT_LE, // EM_386
        arg_bits: 32,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/x86.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_X32",
        audit_arch: 62 | AUDIT_64BIT | AUDIT_LE, // the kernel reports x32 as x86-64
        arg_bits: 32,                            // libseccomp treats x32 as a 32-bit arch
        big_endian: false,
        nr_lo: X32_SYSCALL_BIT,
        nr_hi: u32::MAX,
        table: include_str!("../tables/x32.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_AARCH64",
        audit_arch: 183 | AUDIT_64BIT | AUDIT_LE, // EM_AARCH64
        arg_bits: 64,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/aarch64.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_ARM",
        audit_arch: 40 | AUDIT_LE, // EM_ARM
        arg_bits: 32,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/arm.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_RISCV64",
        audit_arch: 243 | AUDIT_64BIT | AUDIT_LE, // EM_RISCV
        arg_bits: 64,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/riscv64.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_PPC64LE",
        audit_arch: 21 | AUDIT_64BIT | AUDIT_LE, // EM_PPC64
        arg_bits: 64,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/ppc64le.tsv"),
    },
    AbiInfo {
        oci_name: "SCMP_ARCH_S390X",
        audit_arch: 22 | AUDIT_64BIT, // EM_S390, big-endian
        arg_bits: 64,
        big_endian: true,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/s390x.tsv"),
    },
    AbiInfo {
        // Not an OCI/libseccomp name yet; ours until MCST or the spec picks one.
        oci_name: "SCMP_ARCH_E2K",
        // AUDIT_ARCH_E2K = EM_MCST_ELBRUS | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE (MCST kernel).
        audit_arch: 175 | AUDIT_64BIT | AUDIT_LE,
        arg_bits: 64,
        big_endian: false,
        nr_lo: 0,
        nr_hi: u32::MAX,
        table: include_str!("../tables/e2k.tsv"),
    },
];

impl AbiInfo {
    #[cfg(test)]
    pub(crate) fn table_text(&self) -> &'static str {
        self.table
    }
}

/// Name → number. A compile looks up every name of the profile in each
/// ABI (~1000 lookups for Docker's profile on x86-64): hashed, with FNV-1a
/// (short keys, no untrusted input worth SipHash's cost).
type Table = HashMap<&'static str, u32, BuildHasherDefault<Fnv1a>>;

/// 64-bit FNV-1a.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

static TABLES: [OnceLock<Table>; 9] = [const { OnceLock::new() }; 9];

/// Parse "name<TAB>number" lines, skipping `#` comments; a name listed
/// twice keeps its lowest number.
fn parse_table(text: &'static str) -> Table {
    let mut table = Table::default();
    let rows = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (name, nr) = l.split_once('\t')?;
            Some((name, nr.trim().parse::<u32>().ok()?))
        });
    for (name, nr) in rows {
        let e = table.entry(name).or_insert(nr);
        *e = (*e).min(nr);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_and_resolve() {
        for abi in Abi::ALL {
            let rows = parse_table(abi.info().table);
            assert!(rows.len() > 250, "{abi:?} has only {} syscalls", rows.len());
            // Every number must lie in the ABI's range (catches a lost x32 bit).
            for (name, nr) in &rows {
                let i = abi.info();
                assert!((i.nr_lo..=i.nr_hi).contains(nr), "{abi:?} {name} = {nr}");
            }
        }
        assert_eq!(Abi::X86_64.syscall_nr("getcwd"), Some(79));
        assert_eq!(Abi::X86.syscall_nr("getcwd"), Some(183));
        assert_eq!(Abi::X32.syscall_nr("read"), Some(X32_SYSCALL_BIT));
        assert_eq!(Abi::Aarch64.syscall_nr("getcwd"), Some(17));
        assert_eq!(Abi::Arm.syscall_nr("set_tls"), Some(0x0f_0005));
        assert_eq!(Abi::Riscv64.syscall_nr("riscv_flush_icache"), Some(259));
        assert_eq!(Abi::E2k.syscall_nr("getcwd"), Some(183));
        assert_eq!(Abi::E2k.syscall_nr("clone2"), Some(229));
        assert_eq!(Abi::X86_64.syscall_nr("no_such_syscall"), None);
        assert_eq!(Abi::Aarch64.syscall_nr("open"), None);
    }

    #[test]
    fn audit_arch_values() {
        assert_eq!(Abi::X86_64.audit_arch(), 0xC000_003E);
        assert_eq!(Abi::X86.audit_arch(), 0x4000_0003);
        assert_eq!(Abi::Aarch64.audit_arch(), 0xC000_00B7);
        assert_eq!(Abi::Arm.audit_arch(), 0x4000_0028);
        assert_eq!(Abi::Riscv64.audit_arch(), 0xC000_00F3);
        assert_eq!(Abi::Ppc64le.audit_arch(), 0xC000_0015);
        assert_eq!(Abi::S390x.audit_arch(), 0x8000_0016);
        assert_eq!(Abi::E2k.audit_arch(), 0xC000_00AF);
        for (i, abi) in Abi::ALL.into_iter().enumerate() {
            assert_eq!(abi as usize, i, "INFO order must follow the enum");
        }
    }

    #[test]
    fn arch_names() {
        assert_eq!(Abi::from_oci_name("SCMP_ARCH_X32").unwrap(), Some(Abi::X32));
        assert_eq!(Abi::from_oci_name("SCMP_ARCH_MIPS").unwrap(), None);
        let err = Abi::from_oci_name("SCMP_ARCH_VAX").unwrap_err();
        assert!(err.to_string().contains("\"SCMP_ARCH_VAX\""), "{err}");
    }
}
