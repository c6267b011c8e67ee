//! `pause` and `resume` through the freezer.

use std::path::Path;

use yurta_cgroups::FreezerState;

use super::Container;
use crate::error::Result;
use crate::state::Status;

/// Freezes every process of a running container.
pub fn pause(root: &Path, id: &str) -> Result<()> {
    let c = Container::load(root, id)?;
    c.require(&[Status::Running], "pause", "running")?;
    Ok(c.state.cgroup()?.freeze(FreezerState::Frozen)?)
}

/// Thaws a paused container.
pub fn resume(root: &Path, id: &str) -> Result<()> {
    let c = Container::load(root, id)?;
    c.require(&[Status::Paused], "resume", "paused")?;
    Ok(c.state.cgroup()?.freeze(FreezerState::Thawed)?)
}
