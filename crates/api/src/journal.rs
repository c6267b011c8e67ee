//! Events the service records for what it changes, in the same journal
//! and with the same attributes as the CLI (see docs/events.md).

use std::path::Path;

use yurta_images::manage::Removed;

pub(crate) use yurta_engine::lifecycle::events::emit;

pub(crate) fn volume(root: &Path, action: &str, name: &str) {
    emit(root, "volume", action, name, &[("driver", "local")]);
}

pub(crate) fn network(root: &Path, action: &str, id: &str, name: &str) {
    emit(
        root,
        "network",
        action,
        id,
        &[("name", name), ("type", "bridge")],
    );
}

pub(crate) fn image(root: &Path, action: &str, id: &str, name: &str) {
    emit(root, "image", action, id, &[("name", name)]);
}

pub(crate) fn image_removed(root: &Path, r: &Removed) {
    match r {
        Removed::Untagged(t) => {
            let name = yurta_images::inspect::familiar_tag(t);
            image(root, "untag", &name, &name);
        }
        Removed::Deleted(d) => image(root, "delete", &d.to_string(), &d.to_string()),
    }
}
