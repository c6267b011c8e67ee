//! `network connect` and `disconnect`: one more network for a running
//! container's namespace (endpoint, address, /etc/hosts, DNS), or, for a
//! container not yet started, more aliases on the network it will join
//! at its start (what Compose asks right after `create`).

use std::net::Ipv4Addr;

use yurta_error::ErrorKind;
use yurta_network::AttachRequest;

use super::{events, fail, netns, Host, Paths};
use crate::record::{ContainerRecord, EndpointSettings};
use crate::Engine;

/// What to connect.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    pub network: String,
    pub aliases: Vec<String>,
    pub ip: Option<Ipv4Addr>,
}

/// Connects `rec` to `req.network`.
pub fn connect(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    req: &ConnectRequest,
) -> anyhow::Result<()> {
    let nets = netns::networks(host)?;
    let network = nets.inspect(&req.network)?;
    let p = Paths::new(&host.root, &rec.id);
    if !rec.state.running {
        return connect_created(engine, rec, &network.name, &network.id, req);
    }
    if !p.netns.exists() {
        return Err(fail(
            ErrorKind::Conflict,
            format!(
                "container {} is not running on a bridge network",
                rec.bare_name()
            ),
        ));
    }
    let mut attach = AttachRequest::new(&req.network, &rec.id, &p.netns);
    attach.container_name = rec.bare_name();
    attach.aliases = req.aliases.clone();
    attach.ip = req.ip;
    attach.hosts_file = Some(p.dir.join("hosts"));
    let ep = nets.attach(&attach)?;
    events::network_connection(&host.root, "connect", &ep.network_id, &ep.network, &rec.id);
    engine.containers.update(&rec.id, |r| {
        r.network_settings.networks.insert(
            ep.network.clone(),
            EndpointSettings {
                aliases: (!req.aliases.is_empty()).then(|| req.aliases.clone()),
                network_id: ep.network_id.clone(),
                endpoint_id: ep.endpoint_id.clone(),
                gateway: ep.gateway.to_string(),
                ip_address: ep.ip.to_string(),
                ip_prefix_len: ep.prefix.into(),
                mac_address: ep.mac.clone(),
            },
        );
    })?;
    netns::refresh_peers(host, &rec.id, &p.dir.join("hosts"))
}

/// A container that has not started joins one network at its start: its
/// own (`--network`) takes the aliases; another is refused, naming it.
fn connect_created(
    engine: &Engine,
    rec: &ContainerRecord,
    name: &str,
    id: &str,
    req: &ConnectRequest,
) -> anyhow::Result<()> {
    let mode = rec.host_config.network_mode.as_str();
    let own = match mode {
        "" | "default" | "bridge" => name == "bridge",
        m => m == name || m == id,
    };
    if !own {
        return Err(fail(
            ErrorKind::Unsupported,
            format!(
                "container {} joins {mode:?} at its start; connect it to {name} once it runs",
                rec.bare_name()
            ),
        ));
    }
    let mut aliases: Vec<String> = rec
        .yurta
        .extra
        .get("NetworkAliases")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    for a in &req.aliases {
        if !aliases.contains(a) {
            aliases.push(a.clone());
        }
    }
    let aliases = serde_json::json!(aliases);
    engine.containers.update(&rec.id, |r| {
        r.yurta.extra.insert("NetworkAliases".into(), aliases);
    })?;
    Ok(())
}

/// Disconnects `rec` from `network`.
pub fn disconnect(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    network: &str,
) -> anyhow::Result<()> {
    let nets = netns::networks(host)?;
    nets.detach(network, &rec.id)?;
    let n = nets.inspect(network)?;
    events::network_connection(&host.root, "disconnect", &n.id, &n.name, &rec.id);
    engine.containers.update(&rec.id, |r| {
        r.network_settings.networks.remove(&n.name);
    })?;
    Ok(())
}
