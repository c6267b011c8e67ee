//! Build facts for `yurta version`: the Rust compiler's version, and the
//! Git commit and its time (a build of the same commit says the same;
//! "unknown" outside a Git checkout).

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rust = output(&rustc, &["--version"])
        .and_then(|v| v.split_whitespace().nth(1).map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    let commit = output("git", &["rev-parse", "--short=12", "HEAD"]);
    let built = output("git", &["log", "-1", "--format=%cI"]);
    println!("cargo:rustc-env=YURTA_RUST_VERSION={rust}");
    println!(
        "cargo:rustc-env=YURTA_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=YURTA_BUILT={}",
        built.as_deref().unwrap_or("unknown")
    );
    // Again when HEAD moves (a commit, a checkout).
    for what in ["HEAD", "refs/heads"] {
        if let Some(p) = output("git", &["rev-parse", "--git-path", what]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
