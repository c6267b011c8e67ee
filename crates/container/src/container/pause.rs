//! `pause` and `resume` through the freezer.

use std::path::Path;

use yurta_cgroups::FreezerState;

use super::Container;
use crate::error::{Error, Result};
use crate::state::Status;

/// Freezes every process of a running container.
pub fn pause(root: &Path, id: &str) -> Result<()> {
    let c = Container::load(root, id)?;
    if c.status != Status::Running {
        return Err(Error::WrongState {
            id: id.into(),
            status: c.status.to_string(),
            action: "pause",
            expected: "running",
        });
    }
    Ok(c.state.cgroup()?.freeze(FreezerState::Frozen)?)
}

/// Thaws a paused container.
pub fn resume(root: &Path, id: &str) -> Result<()> {
    let c = Container::load(root, id)?;
    if c.status != Status::Paused {
        return Err(Error::WrongState {
            id: id.into(),
            status: c.status.to_string(),
            action: "resume",
            expected: "paused",
        });
    }
    Ok(c.state.cgroup()?.freeze(FreezerState::Thawed)?)
}
