//! Network verbs: create, list, inspect, remove, prune, and the default
//! network "bridge" made on first use.
//!
//! Each verb holds the store's lock from its first read to its last write
//! (and the host-wide lock while it picks or changes host objects), and
//! creates the network's bridge and firewall rules eagerly (as Docker
//! does), rolling back what it made when a later step fails (`host`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::error::{Error, TeardownError};
use crate::ids;
use crate::links;
use crate::nft::{Firewall, Nft};
use crate::record::{short, Network};
use crate::store::{Locked, Store};
use crate::subnet::{host_routes, parse_ip, Ipv4Net, Pools};

/// The default network's name, as Docker's.
pub const DEFAULT_NETWORK: &str = "bridge";

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("no such network: {0}")]
    NotFound(String),
    #[error("network name already taken: {0}")]
    NameTaken(String),
    #[error("bad network name {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    BadName(String),
    #[error("unsupported network driver {0:?}: only \"bridge\"")]
    Driver(String),
    #[error("subnet {subnet} overlaps {what}")]
    Overlap { subnet: Ipv4Net, what: String },
    #[error("gateway {gateway} is not a host address of subnet {subnet}")]
    BadGateway { gateway: Ipv4Addr, subnet: Ipv4Net },
    #[error("network {network} has active endpoints: {containers}")]
    HasEndpoints { network: String, containers: String },
    #[error("network {0} is the default network and cannot be removed")]
    Default(String),
    #[error("no free name for a default network's bridge: {0} and the next 99 are links")]
    NoBridgeName(String),
}

/// Where state lives and which names yurta's objects get.
#[derive(Clone, Debug)]
pub struct Config {
    /// yurta's root (`--root`); networks live in `<root>/networks`.
    pub root: PathBuf,
    /// nftables table (family ip).
    pub table: String,
    /// The default network's bridge.
    pub default_bridge: String,
    /// User networks' bridges: prefix + the id's first hex digits (15
    /// characters at most, the kernel's limit).
    pub bridge_prefix: String,
    /// Host sides of veth pairs: prefix + random hex.
    pub veth_prefix: String,
    /// VMs' tap devices: prefix + random hex (at most 11 characters, so
    /// that 4 hex digits at least are left).
    pub tap_prefix: String,
    pub pools: Pools,
    /// The host-wide lock shared by every state root on the host.
    pub host_lock: PathBuf,
}

impl Config {
    /// yurta's names: table `yurta`, bridges `yurta0` and `yt-<id>`, veths
    /// `yv<hex>`, taps `ytap<hex>`.
    pub fn new(root: &Path) -> Self {
        Config {
            root: root.to_path_buf(),
            table: "yurta".into(),
            default_bridge: "yurta0".into(),
            bridge_prefix: "yt-".into(),
            veth_prefix: "yv".into(),
            tap_prefix: "ytap".into(),
            pools: Pools::default(),
            host_lock: PathBuf::from("/run/lock/yurta-network.lock"),
        }
    }

    /// `Config::new` renamed by the environment: `YURTA_NET_TABLE`,
    /// `YURTA_NET_BRIDGE`, `YURTA_NET_BRIDGE_PREFIX`,
    /// `YURTA_NET_VETH_PREFIX` and `YURTA_NET_TAP_PREFIX` (tests run beside
    /// a real installation with their own host objects).
    pub fn from_env(root: &Path) -> Self {
        Self::new(root).renamed(|k| std::env::var(k).ok())
    }

    /// The names `get` gives for the `YURTA_NET_*` variables; unset and
    /// empty ones keep theirs.
    pub fn renamed(mut self, get: impl Fn(&str) -> Option<String>) -> Self {
        let fields = [
            ("YURTA_NET_TABLE", &mut self.table),
            ("YURTA_NET_BRIDGE", &mut self.default_bridge),
            ("YURTA_NET_BRIDGE_PREFIX", &mut self.bridge_prefix),
            ("YURTA_NET_VETH_PREFIX", &mut self.veth_prefix),
            ("YURTA_NET_TAP_PREFIX", &mut self.tap_prefix),
        ];
        for (var, field) in fields {
            if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                *field = v;
            }
        }
        self
    }
}

/// `network create` options.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// None or "bridge".
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// The network manager.
pub struct Networks {
    pub(crate) cfg: Config,
    pub(crate) store: Store,
    pub(crate) fw: Box<dyn Firewall>,
}

/// An interface name of at most 15 characters.
pub(crate) fn ifname(prefix: &str, hex: &str) -> String {
    let take = 15usize.saturating_sub(prefix.len()).min(hex.len());
    format!("{prefix}{}", &hex[..take])
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

impl Networks {
    pub fn open(cfg: Config) -> Result<Self, Error> {
        let store = Store::open(&cfg.root)?;
        let fw = Box::new(Nft::new(&cfg.table));
        Ok(Networks { cfg, store, fw })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Creates a user network with its bridge and rules.
    pub fn create(&self, name: &str, opts: &CreateOptions) -> Result<Network, Error> {
        let lock = self.lock()?;
        let all = lock.load_all()?;
        if !valid_name(name) {
            return Err(ManageError::BadName(name.into()).into());
        }
        if all.iter().any(|n| n.name == name) || name == DEFAULT_NETWORK {
            return Err(ManageError::NameTaken(name.into()).into());
        }
        let driver = opts.driver.as_deref().unwrap_or("bridge");
        if driver != "bridge" {
            return Err(ManageError::Driver(driver.into()).into());
        }
        let _host = self.host_lock()?;
        let subnet = match &opts.subnet {
            Some(s) => check_free(s.parse()?, &all)?,
            None => self.cfg.pools.pick_user(&taken(&all)?)?,
        };
        let gateway = gateway_of(subnet, opts.gateway.as_deref())?;
        let id = ids::random_hex(32);
        let net = Network {
            name: name.into(),
            bridge: ifname(&self.cfg.bridge_prefix, &id),
            id,
            created: ids::now_rfc3339(),
            driver: driver.into(),
            subnet,
            gateway,
            internal: opts.internal,
            labels: opts.labels.clone(),
            options: opts.options.clone(),
            is_default: false,
            allocations: BTreeMap::new(),
            last_ip: None,
            endpoints: BTreeMap::new(),
            taps: BTreeMap::new(),
        };
        self.materialize(&lock, &net)?;
        Ok(net)
    }

    /// The default network, created when missing.
    pub fn ensure_default(&self) -> Result<Network, Error> {
        let lock = self.lock()?;
        self.default_locked(&lock)
    }

    pub(crate) fn default_locked(&self, lock: &Locked) -> Result<Network, Error> {
        if let Some(n) = lock.load(DEFAULT_NETWORK)? {
            return Ok(n);
        }
        let all = lock.load_all()?;
        let _host = self.host_lock()?;
        let subnet = self.cfg.pools.pick_default(&taken(&all)?)?;
        let net = Network {
            name: DEFAULT_NETWORK.into(),
            id: ids::random_hex(32),
            created: ids::now_rfc3339(),
            driver: "bridge".into(),
            bridge: self.free_default_bridge()?,
            subnet,
            gateway: gateway_of(subnet, None)?,
            internal: false,
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
            is_default: true,
            allocations: BTreeMap::new(),
            last_ip: None,
            endpoints: BTreeMap::new(),
            taps: BTreeMap::new(),
        };
        self.materialize(lock, &net)?;
        Ok(net)
    }

    /// Every network (the default one included, made on first use).
    pub fn list(&self) -> Result<Vec<Network>, Error> {
        let lock = self.lock()?;
        self.default_locked(&lock)?;
        Ok(lock.load_all()?)
    }

    /// A network by name, full id or unique id prefix.
    pub fn inspect(&self, name_or_id: &str) -> Result<Network, Error> {
        let lock = self.lock()?;
        find(&lock, name_or_id, self)
    }

    /// Removes a network without endpoints: rules, bridge, record; the
    /// table too when no network of any root is left in it.
    pub fn remove(&self, name_or_id: &str) -> Result<(), Error> {
        let lock = self.lock()?;
        let net = find(&lock, name_or_id, self)?;
        if net.is_default {
            return Err(ManageError::Default(net.name).into());
        }
        let users = users(&net);
        if !users.is_empty() {
            return Err(ManageError::HasEndpoints {
                network: net.name,
                containers: users.join(", "),
            }
            .into());
        }
        let _host = self.host_lock()?;
        let mut errs = self.destroy(&lock, &net);
        errs.note(self.fw.drop_if_unused());
        errs.into_result().map_err(Error::from)
    }

    /// Removes every user network without endpoints; returns their names.
    /// Ends by dropping the table if nothing uses it (what a killed
    /// removal may have left).
    pub fn prune(&self) -> Result<Vec<String>, Error> {
        let lock = self.lock()?;
        let _host = self.host_lock()?;
        let mut removed = Vec::new();
        let mut errs = TeardownError::default();
        for net in lock.load_all()? {
            if net.is_default || !users(&net).is_empty() {
                continue;
            }
            let e = self.destroy(&lock, &net);
            if e.0.is_empty() {
                removed.push(net.name);
            }
            errs.0.extend(e.0);
        }
        errs.note(self.fw.drop_if_unused());
        errs.into_result()?;
        Ok(removed)
    }

    /// Removes every network and endpoint record of this root, whatever
    /// their state (uninstall, tests), and the table unless another root
    /// still has rules in it. Links of endpoints and VMs' taps are deleted
    /// too.
    pub fn destroy_all(&self) -> Result<(), Error> {
        let lock = self.lock()?;
        let _host = self.host_lock()?;
        let mut errs = TeardownError::default();
        for net in lock.load_all()? {
            for ep in net.endpoints.values() {
                errs.note(self.fw.remove_ports(&ep.endpoint_id));
                errs.note(links::delete_link(&ep.host_veth));
            }
            for tap in net.taps.keys() {
                errs.note(crate::tap::delete_tap(tap));
            }
            errs.0.extend(self.destroy(&lock, &net).0);
        }
        errs.note(self.fw.drop_if_unused());
        Ok(errs.into_result()?)
    }
}

/// Who uses the network: its containers (by name) and other leases.
pub(crate) fn users(net: &Network) -> Vec<String> {
    let mut out: Vec<String> = net
        .endpoints
        .values()
        .map(|e| match e.container_name.as_str() {
            "" => short(&e.container_id).to_string(),
            name => name.to_string(),
        })
        .collect();
    let others = net
        .allocations
        .values()
        .filter(|o| !net.endpoints.contains_key(*o));
    out.extend(others.cloned());
    out
}

pub(crate) fn find(lock: &Locked, key: &str, nets: &Networks) -> Result<Network, Error> {
    if key == DEFAULT_NETWORK {
        return nets.default_locked(lock);
    }
    if let Some(n) = lock.load(key)? {
        return Ok(n);
    }
    let mut hits: Vec<Network> = lock
        .load_all()?
        .into_iter()
        .filter(|n| !key.is_empty() && n.id.starts_with(key))
        .collect();
    match hits.len() {
        1 => Ok(hits.remove(0)),
        _ => Err(ManageError::NotFound(key.into()).into()),
    }
}

/// Subnets in use: yurta's networks and the host's routes (yurta's own
/// bridges' routes are the same subnets).
pub(crate) fn taken(all: &[Network]) -> Result<Vec<Ipv4Net>, Error> {
    let mut t: Vec<Ipv4Net> = all.iter().map(|n| n.subnet).collect();
    t.extend(host_routes()?.into_iter().map(|r| r.dest));
    Ok(t)
}

fn check_free(subnet: Ipv4Net, all: &[Network]) -> Result<Ipv4Net, Error> {
    if let Some(n) = all.iter().find(|n| n.subnet.overlaps(&subnet)) {
        let what = format!("network {} ({})", n.name, n.subnet);
        return Err(ManageError::Overlap { subnet, what }.into());
    }
    let bridges: Vec<&str> = all.iter().map(|n| n.bridge.as_str()).collect();
    if let Some(r) = host_routes()?
        .into_iter()
        .find(|r| r.dest.overlaps(&subnet) && !bridges.contains(&r.dev.as_str()))
    {
        let what = format!("host route {} dev {}", r.dest, r.dev);
        return Err(ManageError::Overlap { subnet, what }.into());
    }
    Ok(subnet)
}

pub(crate) fn gateway_of(subnet: Ipv4Net, given: Option<&str>) -> Result<Ipv4Addr, Error> {
    let (first, last) = subnet.hosts();
    let gateway = match given {
        Some(g) => parse_ip(g)?,
        None => subnet.nth(first).expect("a subnet has a first host"),
    };
    match subnet.offset(gateway) {
        Some(o) if (first..=last).contains(&o) => Ok(gateway),
        _ => Err(ManageError::BadGateway { gateway, subnet }.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_gateways() {
        assert!(valid_name("my-net_1.x"));
        assert!(!valid_name("-x") && !valid_name("") && !valid_name("a/b"));
        assert_eq!(ifname("yt-", &"a".repeat(64)), "yt-aaaaaaaaaaaa");
        let s: Ipv4Net = "10.0.0.0/24".parse().unwrap();
        assert_eq!(gateway_of(s, None).unwrap(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(
            gateway_of(s, Some("10.0.0.254")).unwrap(),
            Ipv4Addr::new(10, 0, 0, 254)
        );
        let e = gateway_of(s, Some("10.0.0.255")).unwrap_err().to_string();
        assert_eq!(
            e,
            "gateway 10.0.0.255 is not a host address of subnet 10.0.0.0/24"
        );
        assert!(gateway_of(s, Some("x"))
            .unwrap_err()
            .to_string()
            .contains("\"x\""));
    }

    #[test]
    fn names_from_the_environment() {
        let env = |k: &str| match k {
            "YURTA_NET_TAP_PREFIX" => Some("ztap".to_string()),
            "YURTA_NET_TABLE" => Some("t1".to_string()),
            "YURTA_NET_BRIDGE" => Some(String::new()),
            _ => None,
        };
        let c = Config::new(Path::new("/r")).renamed(env);
        assert_eq!((c.tap_prefix.as_str(), c.table.as_str()), ("ztap", "t1"));
        assert_eq!(
            (c.default_bridge.as_str(), c.veth_prefix.as_str()),
            ("yurta0", "yv")
        );
        assert_eq!(Config::new(Path::new("/r")).tap_prefix, "ytap");
    }
}
