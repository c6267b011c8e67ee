//! `list`: every container under the state root.

use std::path::Path;

use super::Container;
use crate::error::{Error, Result};

/// Loads every container under `root`, sorted by id. Directories that are
/// not containers (or are half made) are skipped.
pub fn list(root: &Path) -> Result<Vec<Container>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::read(root, e)),
    };
    let mut out: Vec<Container> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|id| Container::load(root, &id).ok())
        .collect();
    out.sort_by(|a, b| a.state.id.cmp(&b.state.id));
    Ok(out)
}
