//! build.rs links yurta-dns statically (static-pie) on linux-gnu when
//! libc.a is installed (yurta-static-link), as yurta-supervisor: no
//! ld.so or libc.so pages in a process that lives as long as containers
//! use user networks.

#[test]
fn resolver_has_no_program_interpreter() {
    if std::env::var_os("YURTA_DNS_DYNAMIC").is_some_and(|v| v == "1") {
        eprintln!("skipping: YURTA_DNS_DYNAMIC=1");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_yurta-dns");
    assert!(
        !yurta_testutil::elf::has_interpreter(bin),
        "yurta-dns is dynamically linked"
    );
}

#[test]
fn usage_without_root() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_yurta-dns"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "usage: yurta-dns --root ROOT\n"
    );
}
