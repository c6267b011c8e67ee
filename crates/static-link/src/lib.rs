//! For build scripts: links the package's binaries statically (static-pie)
//! with plain `cargo build`.
//!
//! yurta-supervisor runs once per container, so its resident memory matters
//! (dynamically linked, ld.so and libc.so alone keep ~0.8 MiB of pages
//! mapped); yurta-runtime is started for every container and every signal,
//! exec and delete (static: 0.8 ms to its first instruction of `main`
//! instead of 1.1 ms, no symbol lookups in ld.so). Neither calls glibc's
//! NSS functions (getpwnam, getaddrinfo), which a static glibc cannot load.
//! rustc links statically only with `-C target-feature=+crt-static`,
//! which a build script cannot set for one package, so this does the
//! equivalent at link time: `-static-pie`, and a directory searched before
//! the system's in which `libc.so`, `libgcc_s.so`, ... are linker scripts
//! naming the static archives (rustc asks for those libraries with
//! `-Bdynamic`). Each binary's `tests/static_link.rs` checks the result.
//!
//! Skipped (a normal dynamic build, with a warning) when the target is not
//! linux-gnu, when the static archives are not installed (Debian:
//! libc6-dev), or when the package's `dynamic_env` variable is `1`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// rustc's library names for a gnu target and the archives that replace them.
const LIBS: &[(&str, &str)] = &[
    ("gcc_s", "INPUT(-l:libgcc_eh.a -l:libgcc.a)"),
    ("c", "GROUP(-l:libc.a -l:libgcc.a -l:libgcc_eh.a)"),
    ("m", "INPUT(-l:libm.a)"),
    ("dl", "INPUT(-l:libdl.a)"),
    ("rt", "INPUT(-l:librt.a)"),
    ("pthread", "INPUT(-l:libpthread.a)"),
    ("util", "INPUT(-l:libutil.a)"),
];

/// Called from a build script's `main`; `dynamic_env` names the variable
/// that turns static linking off (`YURTA_SUPERVISOR_DYNAMIC=1`).
pub fn link_statically(dynamic_env: &str) {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed={dynamic_env}");
    let target = std::env::var("TARGET").unwrap_or_default();
    if std::env::var_os(dynamic_env).is_some_and(|v| v == "1") {
        return;
    }
    if !target.contains("linux-gnu") {
        return;
    }
    let crt_static = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .unwrap_or_default()
        .split(',')
        .any(|f| f == "crt-static");
    if crt_static {
        return; // already static through RUSTFLAGS
    }
    if !has_static_libc() {
        let pkg = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
        println!("cargo:warning=libc.a not found (install libc6-dev): {pkg} is linked dynamically");
        return;
    }
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("static-libs");
    std::fs::create_dir_all(&dir).expect("creating OUT_DIR/static-libs");
    for (name, script) in LIBS {
        let path = dir.join(format!("lib{name}.so"));
        std::fs::write(&path, format!("{script}\n"))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
    println!("cargo:rustc-link-arg=-static-pie");
}

/// Whether the C compiler finds libc.a (it prints the bare name otherwise).
fn has_static_libc() -> bool {
    let cc = std::env::var("RUSTC_LINKER")
        .or_else(|_| std::env::var("CC"))
        .unwrap_or_else(|_| "cc".into());
    let Ok(out) = Command::new(cc).arg("-print-file-name=libc.a").output() else {
        return false;
    };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Path::new(&path).is_absolute() && Path::new(&path).exists()
}
