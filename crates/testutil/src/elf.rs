//! A look at an ELF file's program headers.

const PT_INTERP: u32 = 3;

/// Whether the 64-bit little-endian ELF executable at `path` names a
/// program interpreter (ld.so): false for a static(-pie) binary.
pub fn has_interpreter(path: &str) -> bool {
    let elf = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(&elf[..4], b"\x7fELF", "{path}: not ELF");
    assert_eq!(elf[4], 2, "{path}: 64-bit ELF expected");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == PT_INTERP
    })
}
