//! Disk usage (`system df`): images and layers from the image store, the
//! images containers use from the container records.

use std::collections::HashSet;
use std::path::Path;

use yurta_images::Digest;

pub use yurta_images::manage::DiskUsage;

use super::SystemError;

/// Image IDs that containers use, each with one container naming it
/// (`0123456789ab (name)`), for `rmi`'s refusal and prune's keep-list.
pub fn images_in_use(root: &Path) -> Result<Vec<(Digest, String)>, SystemError> {
    let engine = crate::Engine::open(root)?;
    Ok(engine
        .list()?
        .into_iter()
        .filter_map(|r| {
            let id = r.image.parse::<Digest>().ok()?;
            let short = r.id.get(..12).unwrap_or(&r.id).to_string();
            Some((id, format!("{short} ({})", r.name.trim_start_matches('/'))))
        })
        .collect())
}

/// The image store's usage, with the images containers use as active.
pub fn disk_usage(root: &Path) -> Result<DiskUsage, SystemError> {
    let in_use: HashSet<Digest> = images_in_use(root)?.into_iter().map(|(d, _)| d).collect();
    let store = yurta_images::Store::open_root(root)?;
    Ok(yurta_images::manage::disk_usage_report(&store, &in_use)?)
}
