//! Fixtures shared by the integration tests of several yurta crates. Used
//! only as a dev-dependency; never published.
//!
//! - [`process`]: run a command and insist it succeeds; poll a condition.
//! - [`net`]: free ports on 127.0.0.1 and waiting for a listener.
//! - [`certs`]: a test CA and a server certificate for 127.0.0.1, made with
//!   the `openssl` CLI.
//! - [`registry`]: Debian's `docker-registry` on 127.0.0.1 (plain, htpasswd,
//!   token auth, TLS) and `skopeo` helpers.
//! - [`bundle`]: a busybox root filesystem and `config.json` for OCI
//!   bundles.
//! - [`elf`]: whether a binary is linked statically.
//!
//! Fixtures panic with a clear message when the host lacks something
//! (a package, a free port): they are for tests only.

pub mod bundle;
pub mod certs;
pub mod elf;
pub mod net;
pub mod process;
pub mod registry;
