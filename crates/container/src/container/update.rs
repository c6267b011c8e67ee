//! `update`: new resource limits for a running container.

use std::path::Path;

use oci_spec::runtime::LinuxResources;

use super::Container;
use crate::error::Result;
use crate::state::Status;

/// Applies `resources` to the container's cgroup.
pub fn update(root: &Path, id: &str, resources: &LinuxResources) -> Result<()> {
    let c = Container::load(root, id)?;
    c.require(
        &[Status::Created, Status::Running, Status::Paused],
        "update",
        "created, running or paused",
    )?;
    Ok(c.state.cgroup()?.set(resources)?)
}
