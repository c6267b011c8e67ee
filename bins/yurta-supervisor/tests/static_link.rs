//! build.rs links the supervisor statically (static-pie) on linux-gnu when
//! libc.a is installed: no program interpreter, so no ld.so or libc.so
//! pages in each supervisor.

const PT_INTERP: u32 = 3;

#[test]
fn supervisor_has_no_program_interpreter() {
    if std::env::var_os("YURTA_SUPERVISOR_DYNAMIC").is_some_and(|v| v == "1") {
        eprintln!("skipping: YURTA_SUPERVISOR_DYNAMIC=1");
        return;
    }
    let elf = std::fs::read(env!("CARGO_BIN_EXE_yurta-supervisor")).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit ELF expected");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    let types: Vec<u32> = (0..phnum)
        .map(|i| {
            let o = phoff + i * phentsize;
            u32::from_le_bytes(elf[o..o + 4].try_into().unwrap())
        })
        .collect();
    assert!(
        !types.contains(&PT_INTERP),
        "yurta-supervisor is dynamically linked (program headers {types:?})"
    );
}
