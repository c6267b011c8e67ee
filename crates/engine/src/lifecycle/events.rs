//! The container events of the journal under the root (`yurta_events`):
//! one call at each operation's success point, by whichever front end or
//! supervisor exit command did it. Nothing here fails the operation.

use std::path::Path;
use std::process::Command;

use yurta_events::Event;

use crate::record::ContainerRecord;

/// Records one event in `root`'s journal: `kind` is Docker's Type
/// (`container`, `image`, `network`, `volume`) or `vm`.
pub fn emit(root: &Path, kind: &str, action: &str, id: &str, attributes: &[(&str, &str)]) {
    let event = Event {
        kind,
        action,
        id,
        attributes,
    };
    yurta_events::emit(root, &event);
}

/// An image event whose ID is a reference (`pull`, `push`): Docker's
/// `name` attribute is the reference without its tag.
pub fn image_ref(root: &Path, action: &str, reference: &str) {
    emit(
        root,
        "image",
        action,
        reference,
        &[("name", strip_tag(reference))],
    );
}

/// A reference without its tag or digest (`localhost:5000/a` of
/// `localhost:5000/a:1`; a registry's port is not a tag).
pub fn strip_tag(reference: &str) -> &str {
    let r = reference.split('@').next().unwrap_or(reference);
    match r.rfind(':') {
        Some(i) if !r[i..].contains('/') => &r[..i],
        _ => r,
    }
}

/// A VM's event (`create`, `start`, `stop`, `destroy`).
pub fn vm(root: &Path, action: &str, name: &str) {
    emit(root, "vm", action, name, &[("name", name)]);
}

/// `die` of a VM, from its supervisor once QEMU has exited.
pub fn vm_died(root: &Path, name: &str, reason: &str) {
    emit(
        root,
        "vm",
        "die",
        name,
        &[("name", name), ("reason", reason)],
    );
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
pub fn container(root: &Path, rec: &ContainerRecord, action: &str) {
    container_with(root, rec, action, &[]);
}

/// A container event with more attributes (`signal`, `exitCode`, ...).
pub fn container_with(root: &Path, rec: &ContainerRecord, action: &str, extra: &[(&str, &str)]) {
    let mut attrs = extra.to_vec();
    attrs.extend(container_attributes(rec));
    emit(root, "container", action, &rec.id, &attrs);
}

/// `kill` with Docker's `signal` attribute (a number).
pub fn killed(root: &Path, rec: &ContainerRecord, signal: &str) {
    let n = crate::options::parse::signal(signal)
        .map_or_else(|_| signal.to_string(), |n| n.to_string());
    container_with(root, rec, "kill", &[("signal", &n)]);
}

/// `rename`, with the old name.
pub fn renamed(engine: &crate::Engine, new_name: &str, old_name: &str) {
    if let Ok(rec) = engine.containers.lookup(new_name) {
        let old = old_name.trim_start_matches('/');
        container_with(&engine.root, &rec, "rename", &[("oldName", old)]);
    }
}

/// `exec_start: CMD ARGS` (Docker puts the command in the action), with
/// an `execID` made of the time and this process's pid.
pub fn exec_started(root: &Path, rec: &ContainerRecord, command: &[String]) {
    let action = format!("exec_start: {}", command.join(" "));
    let exec_id = format!(
        "{:016x}{:08x}",
        yurta_events::now_nanos(),
        std::process::id()
    );
    container_with(root, rec, &action, &[("execID", &exec_id)]);
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
pub fn connected(root: &Path, rec: &ContainerRecord) {
    network_endpoints(root, rec, "connect");
}

/// `disconnect` for each network an exited container leaves (when it
/// had not been cleaned up already: `exited` records are).
pub fn disconnected_if(root: &Path, first_cleanup: bool, rec: &ContainerRecord) {
    if first_cleanup {
        network_endpoints(root, rec, "disconnect");
    }
}

/// `destroy` of a `--rm` container, when its cleanup removed it.
pub fn destroyed_if(root: &Path, removed: bool, rec: &ContainerRecord) {
    if removed {
        container(root, rec, "destroy");
    }
}

fn network_endpoints(root: &Path, rec: &ContainerRecord, action: &str) {
    for (name, ep) in &rec.network_settings.networks {
        network_connection(root, action, &ep.network_id, name, &rec.id);
    }
}

/// `connect`/`disconnect` of one container on one network.
pub fn network_connection(
    root: &Path,
    action: &str,
    network_id: &str,
    network: &str,
    container: &str,
) {
    let attrs = [
        ("container", container),
        ("name", network),
        ("type", "bridge"),
    ];
    emit(root, "network", action, network_id, &attrs);
}
