//! `ps`: the processes of a container.

use std::path::Path;

use super::Container;
use crate::error::Result;

/// Host pids of every process in the container's cgroup.
pub fn pids(root: &Path, id: &str) -> Result<Vec<i32>> {
    let c = Container::load(root, id)?;
    let mut pids = c.state.cgroup()?.pids()?;
    pids.sort_unstable();
    Ok(pids)
}
