//! yurta's embedded DNS resolver for user networks, as Docker's: in every
//! container namespace on a user network, 127.0.0.11:53 answers the names
//! of the containers on the container's own networks (names, aliases,
//! short ids, renames at once) and forwards the other names to the
//! container's `--dns` or the host's servers.
//!
//! No process per container: one resolver process per state root
//! ([`server`]), started by the first container that needs it and gone
//! with the last, holding a few sockets in each served namespace. The
//! records under `<root>/networks` are its only input; the CLI tells it
//! when a namespace must be served before its container starts
//! ([`client::sync`]). See docs/network.md ("Embedded DNS").
//!
//! - [`wire`]: DNS messages, parsed without trusting a byte;
//! - [`zone`]: the names each namespace sees, and where the rest goes;
//! - [`server`]: the process (keeper and worker);
//! - [`client`]: asking it from the CLI.

pub mod client;
pub mod server;
pub mod wire;
pub mod zone;

pub use client::{sync, ClientError, Start};
