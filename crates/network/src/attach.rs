//! Attaching a container's network namespace to a network (veth, address,
//! routes, published ports) and detaching it again.
//!
//! Attach undoes what it made when a step fails; detach keeps going after
//! errors and reports all of them. Both hold the store's lock throughout,
//! so port conflicts and addresses are decided once across processes.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use crate::error::{Error, TeardownError};
use crate::files::{update_peers, HostsEntry};
use crate::hostports::{dynamic_range, host_sockets, resolve, Taken};
use crate::ids;
use crate::links::{self, Veth};
use crate::manage::{find, ifname, Networks};
use crate::nft::Firewall;
use crate::ports::{PortBinding, PortSpec};
use crate::record::{short, EndpointRecord, Network};
use crate::store::{Locked, Pending};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("container {container} is already attached to network {network}")]
    AlreadyAttached { container: String, network: String },
    #[error("container {container} is not attached to network {network}")]
    NotAttached { container: String, network: String },
}

/// What to attach.
#[derive(Clone, Debug)]
pub struct AttachRequest<'a> {
    /// Network name or id ("bridge": the default network).
    pub network: &'a str,
    pub container_id: &'a str,
    pub container_name: &'a str,
    /// `--network-alias`.
    pub aliases: Vec<String>,
    /// `/proc/PID/ns/net` or a bind-mounted namespace file.
    pub netns: &'a Path,
    /// `--ip`.
    pub ip: Option<Ipv4Addr>,
    /// `--mac-address`.
    pub mac: Option<[u8; 6]>,
    /// Name inside the container; default the first free `ethN`.
    pub ifname: Option<String>,
    /// `-p`/`-P` (give them with the container's first network only).
    pub ports: Vec<PortSpec>,
    /// The container's managed /etc/hosts, kept up to date with its peers.
    pub hosts_file: Option<PathBuf>,
    /// `--dns`, for the embedded resolver (recorded with the endpoint).
    pub dns_servers: Vec<IpAddr>,
}

impl<'a> AttachRequest<'a> {
    pub fn new(network: &'a str, container_id: &'a str, netns: &'a Path) -> Self {
        AttachRequest {
            network,
            container_id,
            container_name: "",
            aliases: Vec::new(),
            netns,
            ip: None,
            mac: None,
            ifname: None,
            ports: Vec::new(),
            hosts_file: None,
            dns_servers: Vec::new(),
        }
    }
}

/// The result of an attach: what the container got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub network: String,
    pub network_id: String,
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: String,
    pub ifname: String,
    pub host_veth: String,
    pub ports: Vec<PortBinding>,
}

impl Endpoint {
    fn new(net: &Network, e: &EndpointRecord) -> Self {
        Endpoint {
            network: net.name.clone(),
            network_id: net.id.clone(),
            endpoint_id: e.endpoint_id.clone(),
            ip: e.ip,
            prefix: net.subnet.prefix(),
            gateway: net.gateway,
            mac: e.mac.clone(),
            ifname: e.ifname.clone(),
            host_veth: e.host_veth.clone(),
            ports: e.ports.clone(),
        }
    }
}

/// What becomes of an endpoint's veth pair when it is detached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Deleted now (one RTM_DELLINK; the kernel waits 10–20 ms of RCU
    /// grace periods before it returns).
    Delete,
    /// Left to the kernel: the caller drops the last reference to the
    /// container's network namespace right after, and the namespace's
    /// teardown (a kernel work queue, a few ms later) deletes every link
    /// in it, the veth pair with its host end included. Only for a
    /// namespace nothing else is in.
    DieWithNamespace,
}

impl Networks {
    /// Attaches the namespace to the network and publishes its ports.
    pub fn attach(&self, req: &AttachRequest) -> Result<Endpoint, Error> {
        let lock = self.lock()?;
        let mut net = find(&lock, req.network, self)?;
        if net.endpoints.contains_key(req.container_id) {
            return Err(AttachError::AlreadyAttached {
                container: req.container_id.into(),
                network: net.name,
            }
            .into());
        }
        self.ensure_plumbing(&lock, &mut net)?;
        let all = lock.load_all()?;
        let ip = net.allocate(req.container_id, req.ip)?;
        let ports = resolve_ports(&req.ports, &all, self.fw.as_ref())?;
        let rec = self.record(req, &all, ip, ports);
        // What the attach makes before its record exists is journaled: a
        // kill leaves nothing the next verb does not remove (`journal`).
        lock.begin(&Pending {
            network: net.name.clone(),
            link: rec.host_veth.clone(),
            endpoint_id: (!rec.ports.is_empty()).then(|| rec.endpoint_id.clone()),
        })?;
        yurta_fault::point("network.attach.begun");
        net.endpoints.insert(req.container_id.into(), rec.clone());
        let res = self
            .plumb_endpoint(&net, &rec, req.netns)
            .and_then(|()| Ok(lock.save(&net)?));
        if let Err(e) = res {
            let _ = self.fw.remove_ports(&rec.endpoint_id);
            let _ = links::delete_link(&rec.host_veth);
            let _ = lock.done();
            return Err(e);
        }
        yurta_fault::point("network.attach.saved");
        // Left behind, the journal names a recorded veth: the next verb
        // only drops it.
        let _ = lock.done();
        self.refresh_hosts(&lock)?;
        Ok(Endpoint::new(&net, &rec))
    }

    fn record(
        &self,
        req: &AttachRequest,
        all: &[Network],
        ip: Ipv4Addr,
        ports: Vec<PortBinding>,
    ) -> EndpointRecord {
        let mac = req.mac.unwrap_or_else(ids::random_mac);
        EndpointRecord {
            container_id: req.container_id.into(),
            container_name: req.container_name.into(),
            aliases: req.aliases.clone(),
            endpoint_id: ids::random_hex(32),
            ip,
            mac: ids::format_mac(&mac),
            ifname: req
                .ifname
                .clone()
                .unwrap_or_else(|| next_ifname(all, req.container_id)),
            host_veth: ifname(&self.cfg.veth_prefix, &ids::random_hex(8)),
            ports,
            hosts_file: req.hosts_file.clone(),
            netns: Some(req.netns.to_path_buf()),
            dns_servers: req.dns_servers.clone(),
        }
    }

    /// Veth and port rules; nothing is left when a step fails.
    fn plumb_endpoint(
        &self,
        net: &Network,
        rec: &EndpointRecord,
        netns: &Path,
    ) -> Result<(), Error> {
        let mac = parse_mac(&rec.mac);
        links::attach_veth(&Veth {
            bridge: &net.bridge,
            host_name: &rec.host_veth,
            ifname: &rec.ifname,
            mac,
            ip: rec.ip,
            prefix: net.subnet.prefix(),
            gateway: (!net.internal).then_some(net.gateway),
            netns,
        })?;
        yurta_fault::point("network.attach.veth");
        if let Err(e) = self.fw.add_ports(&rec.endpoint_id, rec.ip, &rec.ports) {
            let _ = links::delete_link(&rec.host_veth);
            return Err(e.into());
        }
        yurta_fault::point("network.attach.ports");
        Ok(())
    }

    /// Detaches the container from one network: its port rules, its veth,
    /// its address. Goes on after errors and reports all of them; the
    /// endpoint's record is removed in any case.
    pub fn detach(&self, network: &str, container_id: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut net = find(&lock, network, self)?;
        let Some(ep) = net.endpoints.remove(container_id) else {
            return Err(AttachError::NotAttached {
                container: container_id.into(),
                network: net.name,
            }
            .into());
        };
        let mut errs = self.teardown(&lock, &mut net, &ep, Links::Delete);
        errs.note(self.refresh_hosts(&lock));
        Ok(errs.into_result()?)
    }

    /// Detaches the container from every network it is on (cleanup after
    /// the container is gone: missing links are fine). With
    /// [`Links::DieWithNamespace`] the veths are left to the kernel.
    pub fn detach_all(&self, container_id: &str, links: Links) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut errs = TeardownError::default();
        let mut peers_changed = false;
        for mut net in lock.load_all()? {
            if let Some(ep) = net.endpoints.remove(container_id) {
                errs.0.extend(self.teardown(&lock, &mut net, &ep, links).0);
                peers_changed = true;
            }
        }
        if peers_changed {
            errs.note(self.refresh_hosts(&lock));
        }
        Ok(errs.into_result()?)
    }

    fn teardown(
        &self,
        lock: &Locked,
        net: &mut Network,
        ep: &EndpointRecord,
        links: Links,
    ) -> TeardownError {
        let mut errs = TeardownError::default();
        // Port rules exist only for published ports (no `nft` process
        // otherwise).
        if !ep.ports.is_empty() {
            errs.note(self.fw.remove_ports(&ep.endpoint_id));
        }
        yurta_fault::point("network.detach.ports");
        if links == Links::Delete {
            errs.note(links::delete_link(&ep.host_veth));
        }
        yurta_fault::point("network.detach.veth");
        net.release(ep.ip);
        errs.note(lock.save(net));
        errs
    }

    /// The container's endpoints, by network name.
    pub fn endpoints(&self, container_id: &str) -> Result<Vec<Endpoint>, Error> {
        let lock = self.lock()?;
        Ok(lock
            .load_all()?
            .iter()
            .filter_map(|n| n.endpoints.get(container_id).map(|e| Endpoint::new(n, e)))
            .collect())
    }

    /// The other containers on the container's user networks, as hosts
    /// entries (name, aliases, short id), for its /etc/hosts.
    pub fn peers_of(&self, container_id: &str) -> Result<Vec<HostsEntry>, Error> {
        let lock = self.lock()?;
        Ok(peers(&lock.load_all()?, container_id))
    }

    /// Whether the container has an endpoint on a user network (not the
    /// default one): its namespace gets the embedded DNS resolver.
    pub fn on_user_network(&self, container_id: &str) -> Result<bool, Error> {
        let lock = self.lock()?;
        Ok(lock
            .load_all()?
            .iter()
            .any(|n| !n.is_default && n.endpoints.contains_key(container_id)))
    }

    /// `rename`: the container's endpoints carry its new name, and the
    /// peers' /etc/hosts and the DNS resolver (which watches the records)
    /// follow at once.
    pub fn rename_container(&self, container_id: &str, name: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let mut changed = false;
        for mut net in lock.load_all()? {
            let Some(ep) = net.endpoints.get_mut(container_id) else {
                continue;
            };
            if ep.container_name != name {
                ep.container_name = name.to_string();
                lock.save(&net)?;
                changed = true;
            }
        }
        if changed {
            self.refresh_hosts(&lock)?;
        }
        Ok(())
    }

    /// Rewrites the managed section of every registered hosts file on user
    /// networks (simple and always right; a file per container).
    fn refresh_hosts(&self, lock: &Locked) -> Result<(), Error> {
        let all = lock.load_all()?;
        let mut errs = TeardownError::default();
        let mut done = BTreeSet::new();
        for net in all.iter().filter(|n| !n.is_default) {
            for ep in net.endpoints.values() {
                let Some(path) = &ep.hosts_file else { continue };
                if path.exists() && done.insert(ep.container_id.clone()) {
                    errs.note(update_peers(path, &peers(&all, &ep.container_id)));
                }
            }
        }
        Ok(errs.into_result()?)
    }
}

fn peers(all: &[Network], container_id: &str) -> Vec<HostsEntry> {
    let mut out = Vec::new();
    for net in all
        .iter()
        .filter(|n| !n.is_default && n.endpoints.contains_key(container_id))
    {
        for ep in net
            .endpoints
            .values()
            .filter(|e| e.container_id != container_id)
        {
            let mut names: Vec<String> = Vec::new();
            if !ep.container_name.is_empty() {
                names.push(ep.container_name.clone());
            }
            names.extend(ep.aliases.iter().cloned());
            names.push(short(&ep.container_id).to_string());
            out.push(HostsEntry {
                ip: ep.ip.into(),
                names,
            });
        }
    }
    out
}

/// Host ports for the specs, clear of this root's containers' ports, of
/// the ports other state roots published in the shared table, and of the
/// host's sockets.
fn resolve_ports(
    specs: &[PortSpec],
    all: &[Network],
    fw: &dyn Firewall,
) -> Result<Vec<PortBinding>, Error> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let mut published: Vec<(PortBinding, String)> =
        all.iter().flat_map(|n| n.published()).collect();
    let ours: BTreeSet<&str> = all
        .iter()
        .flat_map(|n| n.endpoints.values().map(|e| e.endpoint_id.as_str()))
        .collect();
    for (binding, tag) in fw.published()? {
        if !ours.contains(tag.as_str()) {
            let owner = format!("(endpoint {}) of another yurta root", short(&tag));
            published.push((binding, owner));
        }
    }
    let sockets = host_sockets();
    let taken = Taken {
        published: &published,
        sockets: &sockets,
        dynamic: dynamic_range(),
    };
    Ok(resolve(specs, &taken)?)
}

/// The first `ethN` the container does not use on any network.
fn next_ifname(all: &[Network], container_id: &str) -> String {
    let used: BTreeSet<&str> = all
        .iter()
        .filter_map(|n| n.endpoints.get(container_id))
        .map(|e| e.ifname.as_str())
        .collect();
    (0..)
        .map(|i| format!("eth{i}"))
        .find(|n| !used.contains(n.as_str()))
        .expect("an unused ethN exists")
}

fn parse_mac(s: &str) -> [u8; 6] {
    let mut m = [0u8; 6];
    for (i, part) in s.split(':').take(6).enumerate() {
        m[i] = u8::from_str_radix(part, 16).unwrap_or(0);
    }
    m
}
