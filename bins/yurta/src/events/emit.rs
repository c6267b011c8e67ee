//! Recording events: one call at each operation's success point. The
//! journal is the root's (set once by `run`), so that a call needs no
//! context; nothing here fails the operation (see yurta_events).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The root whose journal this process writes (called once, by `run`).
pub fn set_root(root: &Path) {
    let _ = ROOT.set(root.to_path_buf());
}

/// Records one event: `kind` is Docker's Type (`container`, `image`,
/// `network`, `volume`) or `vm`.
pub fn emit(kind: &str, action: &str, id: &str, attributes: &[(&str, &str)]) {
    if let Some(root) = ROOT.get() {
        yurta_engine::lifecycle::events::emit(root, kind, action, id, attributes);
    }
}

/// A network's `create` or `destroy`.
pub fn network(action: &str, n: &yurta_network::Network) {
    let attrs = [("name", n.name.as_str()), ("type", n.driver.as_str())];
    emit("network", action, &n.id, &attrs);
}

/// `destroy` of a removed network, looked up before its removal.
pub fn network_gone(n: Option<&yurta_network::Network>) {
    if let Some(n) = n {
        network("destroy", n);
    }
}

/// `destroy` of pruned networks (by name: prune reports names).
pub fn networks_pruned(names: &[String]) {
    for n in names {
        emit("network", "destroy", n, &[("name", n)]);
    }
}

/// `destroy` of pruned volumes.
pub fn volumes_pruned(names: &[String]) {
    for n in names {
        volume("destroy", n);
    }
}

/// A volume's `create` or `destroy`.
pub fn volume(action: &str, name: &str) {
    emit("volume", action, name, &[("driver", "local")]);
}

/// An image event whose ID is a reference (`pull`, `push`, `load`):
/// Docker's `name` attribute is the reference without its tag.
pub fn image_ref(action: &str, reference: &str) {
    let name = strip_tag(reference);
    emit("image", action, reference, &[("name", name)]);
}

/// An image event on an image ID (`tag`, `untag`, `delete`, `import`),
/// with the name it concerns.
pub fn image(action: &str, id: &str, name: &str) {
    emit("image", action, id, &[("name", name)]);
}

/// What `rmi` and the prunes report: `untag` (the tag as its ID: the
/// image's ID is not at hand) and `delete`.
pub fn image_removed(r: &yurta_images::manage::Removed) {
    use yurta_images::manage::Removed;
    match r {
        Removed::Untagged(t) => {
            let tag = yurta_images::inspect::familiar_tag(t);
            image("untag", &tag, &tag);
        }
        Removed::Deleted(d) => image("delete", &d.to_string(), &d.to_string()),
    }
}

/// `name:tag` → `name` (a registry's port is not a tag).
pub use yurta_engine::lifecycle::events::strip_tag;

#[cfg(test)]
mod tests {
    #[test]
    fn tags_are_stripped_but_not_ports() {
        use super::strip_tag;
        assert_eq!(strip_tag("busybox:latest"), "busybox");
        assert_eq!(strip_tag("localhost:5000/a/b:1"), "localhost:5000/a/b");
        assert_eq!(strip_tag("localhost:5000/a"), "localhost:5000/a");
        assert_eq!(strip_tag("a@sha256:00"), "a");
    }
}
