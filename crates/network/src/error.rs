//! The crate's error: every module's error folded in, plus the list of
//! errors a teardown met (it keeps going after each one, as netavark does).

use std::fmt;

use crate::attach::AttachError;
use crate::files::FilesError;
use crate::hostports::HostPortError;
use crate::ipam::IpamError;
use crate::links::LinkError;
use crate::manage::ManageError;
use crate::netlink::NetlinkError;
use crate::nft::FirewallError;
use crate::ports::PortError;
use crate::store::StoreError;
use crate::subnet::SubnetError;
use crate::tap::TapError;

/// Any error of yurta-network.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error(transparent)]
    Subnet(#[from] SubnetError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    HostPort(#[from] HostPortError),
    #[error(transparent)]
    Ipam(#[from] IpamError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Firewall(#[from] FirewallError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Tap(#[from] TapError),
    #[error(transparent)]
    Teardown(#[from] TeardownError),
}

/// Every error a teardown met, in order.
#[derive(Debug, Default)]
pub struct TeardownError(pub Vec<Error>);

impl fmt::Display for TeardownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
        write!(f, "{}", all.join("; "))
    }
}

impl std::error::Error for TeardownError {}

impl TeardownError {
    /// Records the error of `r`, if any, and goes on.
    pub fn note<T, E: Into<Error>>(&mut self, r: Result<T, E>) -> Option<T> {
        r.map_err(|e| self.0.push(e.into())).ok()
    }

    pub fn into_result(self) -> Result<(), TeardownError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}
