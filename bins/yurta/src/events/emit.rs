//! Recording events: one call at each operation's success point. The
//! journal is the root's (set once by `run`), so that a call needs no
//! context; nothing here fails the operation (see yurta_events).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use yurta_engine::record::ContainerRecord;
use yurta_events::Event;

static ROOT: OnceLock<PathBuf> = OnceLock::new();

/// The root whose journal this process writes (called once, by `run`).
pub fn set_root(root: &Path) {
    let _ = ROOT.set(root.to_path_buf());
}

/// Records one event: `kind` is Docker's Type (`container`, `image`,
/// `network`, `volume`) or `vm`.
pub fn emit(kind: &str, action: &str, id: &str, attributes: &[(&str, &str)]) {
    if let Some(root) = ROOT.get() {
        let event = Event {
            kind,
            action,
            id,
            attributes,
        };
        yurta_events::emit(root, &event);
    }
}

/// A container's attributes as Docker gives them: its labels, then
/// `image` and `name` (which win over labels of those names).
fn container_attributes(rec: &ContainerRecord) -> Vec<(&str, &str)> {
    let mut attrs = vec![
        ("image", rec.config.image.as_str()),
        ("name", rec.bare_name()),
    ];
    attrs.extend(
        rec.config
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    attrs
}

/// A container event (`create`, `stop`, `destroy`, `pause`, ...).
pub fn container(rec: &ContainerRecord, action: &str) {
    container_with(rec, action, &[]);
}

/// A container event with more attributes (`signal`, `exitCode`, ...).
pub fn container_with(rec: &ContainerRecord, action: &str, extra: &[(&str, &str)]) {
    let mut attrs = extra.to_vec();
    attrs.extend(container_attributes(rec));
    emit("container", action, &rec.id, &attrs);
}

/// `kill` with Docker's `signal` attribute (a number).
pub fn killed(rec: &ContainerRecord, signal: &str) {
    let n = yurta_engine::options::parse::signal(signal)
        .map_or_else(|_| signal.to_string(), |n| n.to_string());
    container_with(rec, "kill", &[("signal", &n)]);
}

/// `rename`, with the old name.
pub fn renamed(engine: &yurta_engine::Engine, new_name: &str, old_name: &str) {
    if let Ok(rec) = engine.containers.lookup(new_name) {
        let old = old_name.trim_start_matches('/');
        container_with(&rec, "rename", &[("oldName", old)]);
    }
}

/// `exec_start: CMD ARGS` (Docker puts the command in the action), with
/// an `execID` made of the time and this process's pid.
pub fn exec_started(rec: &ContainerRecord, command: &[String]) {
    let action = format!("exec_start: {}", command.join(" "));
    let exec_id = format!(
        "{:016x}{:08x}",
        yurta_events::now_nanos(),
        std::process::id()
    );
    container_with(rec, &action, &[("execID", &exec_id)]);
}

/// The supervisor's `--events-dir` and `--event-attr`s: it records
/// `start`, `die` and `oom` with the container's attributes.
pub fn supervisor_args(c: &mut Command, root: &Path, rec: &ContainerRecord) {
    c.arg("--events-dir").arg(root.join(yurta_events::DIR));
    for (k, v) in container_attributes(rec) {
        c.arg("--event-attr").arg(format!("{k}={v}"));
    }
}

/// `connect` for each network a starting container joins.
pub fn connected(rec: &ContainerRecord) {
    network_endpoints(rec, "connect");
}

/// `disconnect` for each network an exited container leaves (when it
/// had not been cleaned up already: `exited` records are).
pub fn disconnected_if(first_cleanup: bool, rec: &ContainerRecord) {
    if first_cleanup {
        network_endpoints(rec, "disconnect");
    }
}

/// `destroy` of a `--rm` container, when its cleanup removed it.
pub fn destroyed_if(removed: bool, rec: &ContainerRecord) {
    if removed {
        container(rec, "destroy");
    }
}

fn network_endpoints(rec: &ContainerRecord, action: &str) {
    for (name, ep) in &rec.network_settings.networks {
        network_connection(action, &ep.network_id, name, &rec.id);
    }
}

/// `connect`/`disconnect` of one container on one network.
pub fn network_connection(action: &str, network_id: &str, network: &str, container: &str) {
    let attrs = [
        ("container", container),
        ("name", network),
        ("type", "bridge"),
    ];
    emit("network", action, network_id, &attrs);
}

/// `disconnect` by the network's name or ID, looked up.
pub fn network_disconnected(nets: &yurta_network::Networks, network: &str, container: &str) {
    if let Ok(n) = nets.inspect(network) {
        network_connection("disconnect", &n.id, &n.name, container);
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

/// A VM event: its name is its ID.
pub fn vm(action: &str, name: &str) {
    emit("vm", action, name, &[("name", name)]);
}

/// `die` of a VM, from its supervisor once QEMU has exited.
pub fn vm_died(name: &str, reason: &str) {
    emit("vm", "die", name, &[("name", name), ("reason", reason)]);
}

/// `name:tag` → `name` (a registry's port is not a tag).
pub fn strip_tag(reference: &str) -> &str {
    let r = reference.split('@').next().unwrap_or(reference);
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => &r[..i],
        _ => r,
    }
}

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
