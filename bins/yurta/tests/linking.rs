//! `yurta` starts without OpenSSL: the registry commands run in
//! `yurta-registry`, the only one of the two that links libssl and
//! libcrypto (loading them costs ~1.3 ms at every start).

use std::process::Command;

/// The shared libraries an ELF file names (`readelf -d`, binutils).
fn needed(bin: &str) -> Vec<String> {
    let out = Command::new("readelf").args(["-d", bin]).output().unwrap();
    assert!(out.status.success(), "readelf -d {bin}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1))
        .map(|l| l.trim_end_matches(']').to_string())
        .collect()
}

fn has_openssl(libs: &[String]) -> bool {
    libs.iter()
        .any(|l| l.starts_with("libssl") || l.starts_with("libcrypto"))
}

#[test]
fn only_yurta_registry_links_openssl() {
    let yurta = needed(env!("CARGO_BIN_EXE_yurta"));
    assert!(!has_openssl(&yurta), "yurta needs {yurta:?}");
    let helper = needed(env!("CARGO_BIN_EXE_yurta-registry"));
    assert!(has_openssl(&helper), "yurta-registry needs {helper:?}");
}

#[test]
fn registry_commands_answer_as_yurta() {
    let yurta = env!("CARGO_BIN_EXE_yurta");
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(yurta)
        .arg("--root")
        .arg(root.path())
        .args(["pull", "127.0.0.1:1/nothing-listens:1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(
        err.starts_with("yurta: pull 127.0.0.1:1/nothing-listens:1") && err.lines().count() == 1,
        "{err}"
    );
    let help = Command::new(yurta)
        .args(["push", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: yurta push"));
}
