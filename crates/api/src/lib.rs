//! The Docker Engine API over yurta's libraries: the HTTP server behind
//! `yurta system service`.
//!
//! This crate owns the transports (unix sockets, loopback TCP, TCP with
//! TLS through OpenSSL, systemd socket activation), HTTP/1.1 with its
//! limits (body size, header and body read timeouts, idle exit), version
//! negotiation (`/v1.NN/` or none), the routes and their translation
//! between Docker's JSON and the libraries' typed calls, and errors as
//! Docker's `{"message": …}` with the status of their
//! [`yurta_error::ErrorKind`]. It owns no engine logic: every route is a
//! call into `yurta-images`, `yurta-network`, `yurta-engine` (containers,
//! volumes, registries, system) or `yurta-events`, the same calls the CLI makes. It runs on a
//! current-thread tokio runtime: one task per connection, nothing per
//! container; blocking library calls go to tokio's blocking pool.
//!
//! The routes served are listed in [`routes::ROUTES`] and in docs/api.md
//! (a test checks that both agree).

pub mod body;
mod build;
mod containers;
mod distribution;
mod error;
mod events;
mod exec;
mod filters;
mod images;
mod journal;
mod listen;
mod networks;
mod request;
mod routes;
mod server;
mod system;
mod volumes;

pub use error::ApiError;
pub use listen::{Endpoint, ListenError};
/// Query strings and forms (`a=1&b=x+y`), for the other front ends.
pub use request::{decode as form_decode, query as form_pairs};
pub use routes::ROUTES;
pub use server::{
    serve, serve_with, Api, Busy, Config, Front, Frontend, FrontendHandler, Limits, ServeError,
    TlsFiles,
};

#[cfg(test)]
mod tests {
    /// TLS is OpenSSL's: no other crypto library may enter the build
    /// (hyper's and tokio's ecosystems pull ring or aws-lc in easily).
    #[test]
    fn no_ring_or_aws_lc_in_the_lock_file() {
        let lock = include_str!("../../../Cargo.lock");
        for name in ["ring", "aws-lc-rs", "aws-lc-sys", "rustls"] {
            let entry = format!("name = \"{name}\"\n");
            assert!(!lock.contains(&entry), "{name} is in Cargo.lock");
        }
    }
}
