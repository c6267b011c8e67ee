//! `network connect` and `disconnect`: one more network for a running
//! container's namespace (endpoint, address, /etc/hosts, DNS), or, for a
//! container not yet started, more aliases on the network it will join
//! at its start or another network to join then (what Compose asks right
//! after `create`).

use std::net::Ipv4Addr;

use yurta_error::ErrorKind;
use yurta_network::AttachRequest;

use super::{events, fail, netns, Host, Paths};
use crate::record::ContainerRecord;
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
    let primary = rec.host_config.network_mode.as_str();
    let joined_later = ExtraNetwork {
        name: ep.network.clone(),
        aliases: req.aliases.clone(),
        ip: req.ip,
    };
    engine.containers.update(&rec.id, |r| {
        // Joined again at the next start, as Docker keeps it.
        let mut list = extra_networks(r);
        if primary != ep.network && !list.iter().any(|e| e.name == ep.network) {
            list.push(joined_later.clone());
            set_extra_networks(r, &list);
        }
        r.network_settings.networks.insert(
            ep.network.clone(),
            netns::endpoint_settings(&ep, &req.aliases),
        );
    })?;
    netns::refresh_peers(host, &rec.id, &p.dir.join("hosts"))
}

/// A container that has not started: its own network (`--network`) takes
/// the aliases; another is recorded and joined at its start, with its
/// aliases and address (Compose connects a service's other networks
/// between create and start).
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
    if matches!(mode, "host" | "none") || mode.starts_with("container:") {
        return Err(fail(
            ErrorKind::Conflict,
            format!(
                "container {} uses network mode {mode}: it cannot join {name}",
                rec.bare_name()
            ),
        ));
    }
    if !own {
        let extra = ExtraNetwork {
            name: name.to_string(),
            aliases: req.aliases.clone(),
            ip: req.ip,
        };
        engine.containers.update(&rec.id, |r| {
            let mut list = extra_networks(r);
            match list.iter_mut().find(|e| e.name == extra.name) {
                Some(e) => {
                    for a in &extra.aliases {
                        if !e.aliases.contains(a) {
                            e.aliases.push(a.clone());
                        }
                    }
                    e.ip = extra.ip.or(e.ip);
                }
                None => list.push(extra.clone()),
            }
            set_extra_networks(r, &list);
        })?;
        return Ok(());
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

/// A network besides its own that a created container joins at its start.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExtraNetwork {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
}

/// The record's extra networks (`ExtraNetworks` in yurta's part of it).
pub fn extra_networks(rec: &ContainerRecord) -> Vec<ExtraNetwork> {
    rec.yurta
        .extra
        .get("ExtraNetworks")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

fn set_extra_networks(rec: &mut ContainerRecord, list: &[ExtraNetwork]) {
    match list.is_empty() {
        true => rec.yurta.extra.remove("ExtraNetworks"),
        false => rec
            .yurta
            .extra
            .insert("ExtraNetworks".into(), serde_json::json!(list)),
    };
}

/// Disconnects `rec` from `network`.
pub fn disconnect(
    host: &Host,
    engine: &Engine,
    rec: &ContainerRecord,
    network: &str,
) -> anyhow::Result<()> {
    let nets = netns::networks(host)?;
    let n = nets.inspect(network)?;
    if !rec.state.running {
        let mut list = extra_networks(rec);
        let before = list.len();
        list.retain(|e| e.name != n.name);
        if list.len() == before {
            return Err(fail(
                ErrorKind::NotFound,
                format!(
                    "container {} is not connected to network {}",
                    rec.bare_name(),
                    n.name
                ),
            ));
        }
        engine
            .containers
            .update(&rec.id, |r| set_extra_networks(r, &list))?;
        return Ok(());
    }
    nets.detach(network, &rec.id)?;
    events::network_connection(&host.root, "disconnect", &n.id, &n.name, &rec.id);
    engine.containers.update(&rec.id, |r| {
        r.network_settings.networks.remove(&n.name);
        let mut list = extra_networks(r);
        list.retain(|e| e.name != n.name);
        set_extra_networks(r, &list);
    })?;
    Ok(())
}
