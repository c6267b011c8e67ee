//! podman in the `yurta` binary's tests (`podman.rs`, `registry.rs`): the
//! switch that skips it, and a guard that removes a podman image.

use super::sh;

/// Whether `YURTA_SKIP_PODMAN_TESTS` is set: skip what needs podman.
pub fn skipped() -> bool {
    std::env::var_os("YURTA_SKIP_PODMAN_TESTS").is_some()
}

/// Removes a podman image when the test ends, pass or fail.
pub struct PodmanImage(pub String);

impl Drop for PodmanImage {
    fn drop(&mut self) {
        let _ = sh("podman", &["rmi", "-f", &self.0]);
    }
}
