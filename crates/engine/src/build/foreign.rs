//! RUN for a platform other than the host's: the kernel runs the stage's
//! binaries only through an interpreter registered in binfmt_misc
//! (qemu-user on x86, the x86 translator on e2k). Without one the build
//! stops before starting the container, with one line saying which
//! platform needed running and that no interpreter is registered.

use std::path::Path;

use anyhow::bail;
use yurta_build::Platform;

const BINFMT: &str = "/proc/sys/fs/binfmt_misc";

/// Fails when `platform`'s binaries cannot run here.
pub fn check(platform: &Platform) -> anyhow::Result<()> {
    let host = Platform::host();
    if platform.architecture == host.architecture || compatible(&host, platform) {
        return Ok(());
    }
    if registered(Path::new(BINFMT), &platform.architecture) {
        return Ok(());
    }
    bail!(
        "RUN for {platform} on this {} host needs an interpreter for {} registered in binfmt_misc \
         (qemu-user-binfmt on x86, the x86 translator on e2k); none is",
        host.architecture,
        platform.architecture
    )
}

/// Platforms the host runs natively besides its own (32-bit x86 on amd64,
/// arm on arm64).
fn compatible(host: &Platform, p: &Platform) -> bool {
    matches!(
        (host.architecture.as_str(), p.architecture.as_str()),
        ("amd64", "386") | ("arm64", "arm")
    )
}

/// The names binfmt_misc entries for `arch` go by (`qemu-aarch64`).
fn names(arch: &str) -> Vec<&str> {
    let mut v = vec![arch];
    v.extend(match arch {
        "amd64" => &["x86_64", "x86-64"][..],
        "arm64" => &["aarch64"][..],
        "386" => &["i386", "i486", "i686"][..],
        "ppc64le" => &["ppc64le"][..],
        "e2k" => &["e2k", "elbrus"][..],
        _ => &[][..],
    });
    v
}

/// An enabled entry in `dir` whose name mentions `arch`.
fn registered(dir: &Path, arch: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let wanted = names(arch);
    entries.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        if name == "register" || name == "status" {
            return false;
        }
        let matches = wanted
            .iter()
            .any(|w| name.ends_with(&format!("-{w}")) || name == *w);
        matches
            && std::fs::read_to_string(e.path())
                .map(|t| t.starts_with("enabled"))
                .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_by_architecture_and_must_be_enabled() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("register"), "").unwrap();
        std::fs::write(
            dir.path().join("qemu-aarch64"),
            "enabled\ninterpreter /usr/bin/qemu-aarch64\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("qemu-riscv64"), "disabled\n").unwrap();
        assert!(registered(dir.path(), "arm64"));
        assert!(!registered(dir.path(), "riscv64"));
        assert!(!registered(dir.path(), "e2k"));
        assert!(!registered(Path::new("/nonexistent"), "arm64"));
    }

    #[test]
    fn the_host_and_its_compatible_platforms_need_nothing() {
        let host = Platform::host();
        assert!(check(&host).is_ok());
    }
}
