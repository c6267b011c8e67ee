//! build.rs links yurta-runtime statically (static-pie) on linux-gnu when
//! libc.a is installed (yurta-static-link): no program interpreter, so no
//! ld.so work at each start and no ld.so or libc.so pages.

#[test]
fn runtime_has_no_program_interpreter() {
    if std::env::var_os("YURTA_RUNTIME_DYNAMIC").is_some_and(|v| v == "1") {
        eprintln!("skipping: YURTA_RUNTIME_DYNAMIC=1");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_yurta-runtime");
    assert!(
        !yurta_testutil::elf::has_interpreter(bin),
        "yurta-runtime is dynamically linked"
    );
}
