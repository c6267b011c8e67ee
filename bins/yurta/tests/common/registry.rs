//! Registry fixtures for the `yurta` binary's tests, shared with
//! crates/registry/tests through `yurta_testutil`: Debian's
//! `docker-registry` on 127.0.0.1 (plain, htpasswd, TLS with a CA made by
//! `openssl`), killed on drop, and `skopeo` to fill it.

// Each test target uses a different part (as with `dead_code` in mod.rs).
#[allow(unused_imports)]
pub use yurta_testutil::{
    certs::Certs,
    registry::{skopeo_copy, Auth, Registry},
};
