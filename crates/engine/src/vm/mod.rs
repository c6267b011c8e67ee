//! Virtual machines through QEMU (KVM or TCG) on yurta's networks, for
//! every front end: the VM store under the root ([`store`]), checked
//! creation ([`create`]), start, stop, kill and removal ([`lifecycle`]),
//! and the process that owns one boot ([`supervise`], the `yurta vm
//! __supervise` role) with its serial-console relay ([`relay`]), and
//! snapshots ([`snapshot`]) and disks added or removed ([`hotplug`]). QEMU's
//! command lines, QMP and disks are `yurta-vm`'s.

pub mod create;
pub mod hotplug;
pub mod inspect;
pub mod lifecycle;
pub mod relay;
pub mod snapshot;
pub mod store;
pub mod supervise;
