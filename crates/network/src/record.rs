//! What the store keeps per network: its configuration, its address
//! allocations and its endpoints (one per attached container), and the
//! Docker-compatible `network inspect` JSON made from it.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::ports::PortBinding;
use crate::subnet::Ipv4Net;

/// A network as stored in `<root>/networks/<name>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// 64 hex digits.
    pub id: String,
    /// RFC 3339.
    pub created: String,
    /// Always "bridge" today.
    pub driver: String,
    /// The Linux bridge: `yurta0` for the default network, `yt-<shortid>`.
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The default network ("bridge"): no name resolution between its
    /// containers (as Docker's), and it cannot be removed.
    #[serde(default)]
    pub is_default: bool,
    /// IPAM: allocated address → owner (a container id, or another user
    /// such as a VM).
    #[serde(default)]
    pub allocations: BTreeMap<Ipv4Addr, String>,
    /// The last address handed out; the next search starts after it so
    /// that a released address is not reused at once.
    #[serde(default)]
    pub last_ip: Option<Ipv4Addr>,
    /// Container id → endpoint.
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointRecord>,
    /// VMs' taps on the bridge: tap name → owner (whose lease is in
    /// `allocations`).
    #[serde(default)]
    pub taps: BTreeMap<String, String>,
}

/// A container's attachment to a network.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointRecord {
    pub container_id: String,
    pub container_name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub mac: String,
    /// Interface name inside the container (`eth0`…).
    pub ifname: String,
    /// Host side of the veth pair.
    pub host_veth: String,
    #[serde(default)]
    pub ports: Vec<PortBinding>,
    /// A managed /etc/hosts whose peer section yurta rewrites when
    /// containers join or leave this network.
    #[serde(default)]
    pub hosts_file: Option<PathBuf>,
    /// The container's network namespace (its bind-mounted file), where
    /// the embedded DNS resolver answers on user networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<PathBuf>,
    /// `--dns`: the servers the resolver forwards the container's other
    /// names to (the host's when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_servers: Vec<IpAddr>,
}

impl Network {
    /// Docker's `network inspect` object.
    pub fn inspect_json(&self) -> Value {
        let containers: serde_json::Map<String, Value> = self
            .endpoints
            .values()
            .map(|e| {
                let v = json!({
                    "Name": e.container_name,
                    "EndpointID": e.endpoint_id,
                    "MacAddress": e.mac,
                    "IPv4Address": format!("{}/{}", e.ip, self.subnet.prefix()),
                    "IPv6Address": "",
                });
                (e.container_id.clone(), v)
            })
            .collect();
        json!({
            "Name": self.name,
            "Id": self.id,
            "Created": self.created,
            "Scope": "local",
            "Driver": self.driver,
            "EnableIPv6": false,
            "IPAM": {
                "Driver": "default",
                "Options": {},
                "Config": [{"Subnet": self.subnet.to_string(), "Gateway": self.gateway.to_string()}],
            },
            "Internal": self.internal,
            "Attachable": false,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": containers,
            "Options": self.inspect_options(),
            "Labels": self.labels,
        })
    }

    fn inspect_options(&self) -> BTreeMap<String, String> {
        let mut o = self.options.clone();
        o.insert("com.docker.network.bridge.name".into(), self.bridge.clone());
        o
    }

    /// The endpoint's published ports with their owner, for conflict checks.
    pub fn published(&self) -> impl Iterator<Item = (PortBinding, String)> + '_ {
        self.endpoints.values().flat_map(|e| {
            let owner = if e.container_name.is_empty() {
                short(&e.container_id).to_string()
            } else {
                e.container_name.clone()
            };
            e.ports.iter().map(move |p| (*p, owner.clone()))
        })
    }
}

/// The first 12 characters of an id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_has_dockers_fields() {
        let mut n = Network {
            name: "n1".into(),
            id: "ab".repeat(32),
            created: "2024-01-01T00:00:00Z".into(),
            driver: "bridge".into(),
            bridge: "yt-abababababab".into(),
            subnet: "10.110.0.0/24".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 110, 0, 1),
            internal: false,
            labels: BTreeMap::from([("a".into(), "b".into())]),
            options: BTreeMap::new(),
            is_default: false,
            allocations: BTreeMap::new(),
            last_ip: None,
            endpoints: BTreeMap::new(),
            taps: BTreeMap::new(),
        };
        n.endpoints.insert(
            "c1".into(),
            EndpointRecord {
                container_id: "c1".into(),
                container_name: "web".into(),
                aliases: vec![],
                endpoint_id: "e1".into(),
                ip: Ipv4Addr::new(10, 110, 0, 2),
                mac: "02:00:00:00:00:01".into(),
                ifname: "eth0".into(),
                host_veth: "yv1".into(),
                ports: vec![],
                hosts_file: None,
                netns: None,
                dns_servers: vec![],
            },
        );
        let v = n.inspect_json();
        assert_eq!(v["IPAM"]["Config"][0]["Subnet"], "10.110.0.0/24");
        assert_eq!(v["IPAM"]["Config"][0]["Gateway"], "10.110.0.1");
        assert_eq!(v["Containers"]["c1"]["IPv4Address"], "10.110.0.2/24");
        assert_eq!(v["Labels"]["a"], "b");
        assert_eq!(
            v["Options"]["com.docker.network.bridge.name"],
            "yt-abababababab"
        );
        let text = serde_json::to_string(&n).unwrap();
        let back: Network = serde_json::from_str(&text).unwrap();
        assert_eq!(back.endpoints, n.endpoints);
    }
}
