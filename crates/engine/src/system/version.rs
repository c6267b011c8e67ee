//! This build's version and the Engine API versions it speaks.

use serde_json::{json, Value};

/// The Engine API version served: Docker 20.10's (the docker.io client of
/// Debian 12 speaks it natively; newer clients negotiate down to it).
pub const API_VERSION: &str = "1.41";

/// The oldest API version a client may ask for (`/v1.24/...`), Docker's.
pub const MIN_API_VERSION: &str = "1.24";

/// This build's version, commit, time and compiler (the binary knows
/// them from its build script).
#[derive(Debug, Clone, Copy)]
pub struct Build {
    pub version: &'static str,
    pub commit: &'static str,
    pub built: &'static str,
    pub rust: &'static str,
}

/// `linux`, `amd64` (Docker's architecture names), the variant if any.
pub fn host_platform() -> (String, String, Option<String>) {
    let p = yurta_images::Platform::host();
    (p.os.clone(), p.architecture.clone(), p.variant.clone())
}

/// The kernel release, from uname(2).
pub fn kernel_version() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Docker's server version (`GET /version`, the `Server` of `docker
/// version`): the engine, the runtime and the supervisor as components.
pub fn server_version(b: &Build, runtime_version: &str) -> Value {
    let (os, arch, variant) = host_platform();
    let variant = variant.unwrap_or_default();
    let kernel = kernel_version();
    json!({
        "Platform": {"Name": "yurta Engine"},
        "Components": [
            {"Name": "Engine", "Version": b.version, "Details": {
                "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                "RustVersion": b.rust, "GoVersion": format!("rust{}", b.rust),
                "GitCommit": b.commit, "BuildTime": b.built,
                "Os": os, "Arch": arch, "Variant": variant, "KernelVersion": kernel,
                "Experimental": "false"}},
            {"Name": "yurta-runtime", "Version": runtime_version, "Details": {"GitCommit": b.commit}},
            {"Name": "yurta-supervisor", "Version": b.version, "Details": {"GitCommit": b.commit}},
        ],
        "Version": b.version, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
        "RustVersion": b.rust, "GoVersion": format!("rust{}", b.rust), "GitCommit": b.commit,
        "BuildTime": b.built, "Os": os, "Arch": arch, "Variant": variant,
        "KernelVersion": kernel, "Experimental": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_version_names_the_api_versions_and_platform() {
        let b = Build {
            version: "1.2.3",
            commit: "abc",
            built: "now",
            rust: "1.85.0",
        };
        let v = server_version(&b, "0.1");
        assert_eq!(v["ApiVersion"], API_VERSION);
        assert_eq!(v["MinAPIVersion"], MIN_API_VERSION);
        assert_eq!(v["Os"], "linux");
        assert_eq!(v["Components"][1]["Version"], "0.1");
        assert!(!v["Arch"].as_str().unwrap_or_default().is_empty());
    }
}
