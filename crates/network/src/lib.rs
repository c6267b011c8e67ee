//! yurta's container networks: bridge networks with persisted IPAM, veth
//! attachment of containers' network namespaces, NAT and published ports in
//! yurta's own nftables table, and the per-container `/etc/hosts`,
//! `/etc/hostname` and `/etc/resolv.conf`.
//!
//! The engine drives it through [`Networks`]; VMs get taps on the same
//! bridges with addresses from the same IPAM ([`Networks::attach_tap`]).
//! Modes `none` (the runtime makes the namespace and brings lo up), `host` (nothing to do)
//! and `container:NAME` (the engine joins the other container's namespace)
//! need nothing else.
//! See docs/network.md.

pub mod attach;
pub mod error;
pub mod files;
pub mod filter;
pub mod host;
pub mod hostports;
pub mod ids;
pub mod ipam;
mod journal;
mod kind;
pub mod lease;
pub mod links;
pub mod manage;
pub mod netlink;
pub mod nft;
pub mod ports;
pub mod record;
pub mod store;
pub mod subnet;
pub mod tap;

pub use attach::{AttachRequest, Endpoint, Links};
pub use error::{Error, TeardownError};
pub use files::{Dns, Hosts, HostsEntry};
pub use manage::{Config, CreateOptions, Networks, DEFAULT_NETWORK};
pub use ports::{PortBinding, PortSpec, Protocol};
pub use record::{EndpointRecord, Network};
pub use subnet::{Ipv4Net, Pools};
pub use tap::TapEndpoint;
