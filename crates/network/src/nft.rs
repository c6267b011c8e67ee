//! Firewall: NAT, forwarding and published ports in yurta's own nftables
//! table (`table ip yurta` by default), through the `nft` binary's script
//! input (`nft -f -`) and JSON listing (`nft -j -a`). Nothing outside that
//! table is read or written.
//!
//! Layout of the table:
//! - `prerouting`/`output` (nat): traffic to a local address jumps to `ports`;
//! - `ports`: one DNAT rule per published port, commented `yurta ep <id>`;
//! - `postrouting` (nat): per network, masquerade of its subnet leaving
//!   through other interfaces, of hairpin (DNATed traffic from the subnet
//!   back into the bridge) and of 127.0.0.0/8 sources DNATed into it;
//! - `forward` (filter): per network, replies and DNATed traffic may enter
//!   the bridge, traffic within the bridge is accepted, the rest entering it
//!   is dropped (internal networks also drop what leaves them);
//! - `input` (filter): 127.0.0.0/8 arriving from a bridge is dropped unless
//!   it is a reply (`route_localnet` must not expose the host's loopback
//!   services to containers).
//!
//! Network rules are commented `yurta net <network id>` (ids are unique
//! across state roots; older yurta commented `yurta net <bridge>`, which
//! is replaced when the network's rules are next ensured and removed with
//! the network); removal lists the table with handles and deletes exactly
//! the rules with the comment. The table is shared by every state root
//! using its name: it is deleted only when no rule with a comment is left
//! in it, i.e. when no network of any root and no published port uses it.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::ports::{PortBinding, Protocol};
use crate::subnet::Ipv4Net;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("nft {what}: {detail}")]
    Nft { what: String, detail: String },
    #[error("run nft: {0}")]
    Spawn(std::io::Error),
    #[error("nft -j list table ip {table}: bad JSON: {detail}")]
    Json { table: String, detail: String },
}

/// A rule of the table: (chain, handle, comment).
pub type Rule = (String, u64, String);

/// What the firewall needs to know about a network.
pub struct NetRules<'a> {
    /// The network's id: its rules' comment.
    pub id: &'a str,
    pub bridge: &'a str,
    pub subnet: Ipv4Net,
    pub internal: bool,
}

/// A firewall backend (netavark's `FirewallDriver`): nftables today.
pub trait Firewall {
    /// Adds the network's rules unless they are there (replacing rules an
    /// older yurta commented with the bridge's name).
    fn add_network(&self, net: &NetRules) -> Result<(), FirewallError>;
    /// Removes the rules of network `id`, and those an older yurta
    /// commented with `legacy_bridge` (none: fine).
    fn remove_network(&self, id: &str, legacy_bridge: Option<&str>) -> Result<(), FirewallError>;
    /// Adds DNAT rules for one endpoint's published ports.
    fn add_ports(
        &self,
        tag: &str,
        ip: Ipv4Addr,
        ports: &[PortBinding],
    ) -> Result<(), FirewallError>;
    /// Removes exactly the rules added with `tag` (none: fine).
    fn remove_ports(&self, tag: &str) -> Result<(), FirewallError>;
    /// Every published port in the table, of any state root, with the
    /// tag it was added with.
    fn published(&self) -> Result<Vec<(PortBinding, String)>, FirewallError>;
    /// Deletes the table when no network or endpoint of any state root
    /// has a rule in it (gone already: fine); true when it is gone.
    fn drop_if_unused(&self) -> Result<bool, FirewallError>;
}

/// The nftables backend, on table `ip <table>`.
pub struct Nft {
    pub table: String,
}

impl Nft {
    pub fn new(table: &str) -> Self {
        Nft {
            table: table.to_string(),
        }
    }

    fn run(&self, what: &str, script: &str) -> Result<(), FirewallError> {
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(FirewallError::Spawn)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(FirewallError::Spawn)?;
        }
        let out = child.wait_with_output().map_err(FirewallError::Spawn)?;
        if out.status.success() {
            return Ok(());
        }
        Err(FirewallError::Nft {
            what: what.into(),
            detail: first_error(&String::from_utf8_lossy(&out.stderr)),
        })
    }

    /// The table's rules as (chain, handle, comment); empty when the table
    /// does not exist.
    pub fn rules(&self) -> Result<Vec<(String, u64, String)>, FirewallError> {
        Ok(self.listing()?.unwrap_or_default())
    }

    /// The table's rules as (chain, handle, comment); None when the table
    /// does not exist. One `nft` process.
    fn listing(&self) -> Result<Option<Vec<Rule>>, FirewallError> {
        let out = Command::new("nft")
            .args(["-j", "-a", "list", "table", "ip", &self.table])
            .stderr(Stdio::null())
            .output()
            .map_err(FirewallError::Spawn)?;
        if !out.status.success() {
            return Ok(None);
        }
        parse_rules(&out.stdout)
            .map(Some)
            .map_err(|detail| FirewallError::Json {
                table: self.table.clone(),
                detail,
            })
    }

    fn delete_tagged(&self, what: &str, comments: &[String]) -> Result<(), FirewallError> {
        let script = delete_script(&self.table, &self.rules()?, comments);
        if script.is_empty() {
            return Ok(());
        }
        self.run(what, &script)
    }
}

impl Firewall for Nft {
    /// One `nft` listing when the rules are there (every attach), one more
    /// process (table and rules in one script) when they are not.
    fn add_network(&self, net: &NetRules) -> Result<(), FirewallError> {
        let Some(script) = add_network_script(&self.table, self.listing()?.as_deref(), net) else {
            return Ok(());
        };
        let what = format!("add rules of bridge {}", net.bridge);
        self.run(&what, &script)
    }

    fn remove_network(&self, id: &str, legacy_bridge: Option<&str>) -> Result<(), FirewallError> {
        let what = format!("remove rules of network {}", crate::record::short(id));
        let mut tags = vec![net_comment(id)];
        tags.extend(legacy_bridge.map(net_comment));
        self.delete_tagged(&what, &tags)
    }

    fn add_ports(
        &self,
        tag: &str,
        ip: Ipv4Addr,
        ports: &[PortBinding],
    ) -> Result<(), FirewallError> {
        // The table is there: the network's rules, ensured first, keep it.
        if ports.is_empty() {
            return Ok(());
        }
        let what = format!("publish ports of endpoint {tag} ({} rules)", ports.len());
        self.run(&what, &ports_script(&self.table, tag, ip, ports))
    }

    fn remove_ports(&self, tag: &str) -> Result<(), FirewallError> {
        let what = format!("remove published ports of endpoint {tag}");
        self.delete_tagged(&what, &[ports_comment(tag)])
    }

    /// One `nft` process (the `ports` chain only).
    fn published(&self) -> Result<Vec<(PortBinding, String)>, FirewallError> {
        let out = Command::new("nft")
            .args(["-j", "list", "chain", "ip", &self.table, "ports"])
            .stderr(Stdio::null())
            .output()
            .map_err(FirewallError::Spawn)?;
        if !out.status.success() {
            return Ok(Vec::new());
        }
        parse_published(&out.stdout).map_err(|detail| FirewallError::Json {
            table: self.table.clone(),
            detail,
        })
    }

    fn drop_if_unused(&self) -> Result<bool, FirewallError> {
        match self.listing()? {
            None => Ok(true),
            Some(rules) if unused(&rules) => {
                let script = format!("delete table ip {}\n", self.table);
                self.run("delete table", &script).map(|()| true)
            }
            Some(_) => Ok(false),
        }
    }
}

fn first_error(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.contains("Error"))
        .or_else(|| stderr.lines().next())
        .unwrap_or("failed")
        .trim()
        .to_string()
}

/// The comment of a network's rules and the alias of its bridge: `yurta
/// net <id>` (older yurta: `yurta net <bridge>`).
pub fn net_comment(tag: &str) -> String {
    format!("yurta net {tag}")
}

pub fn ports_comment(tag: &str) -> String {
    format!("yurta ep {tag}")
}

/// The table with its base chains.
pub fn base_script(t: &str) -> String {
    format!(
        "add table ip {t}\n\
add chain ip {t} prerouting {{ type nat hook prerouting priority dstnat; policy accept; }}\n\
add chain ip {t} output {{ type nat hook output priority -100; policy accept; }}\n\
add chain ip {t} postrouting {{ type nat hook postrouting priority srcnat; policy accept; }}\n\
add chain ip {t} forward {{ type filter hook forward priority filter; policy accept; }}\n\
add chain ip {t} input {{ type filter hook input priority filter; policy accept; }}\n\
add chain ip {t} ports\n\
add rule ip {t} prerouting fib daddr type local jump ports\n\
add rule ip {t} output fib daddr type local jump ports\n"
    )
}

/// Whether no network or endpoint has a rule in the table (the base
/// chains' jumps have no comment).
pub fn unused(rules: &[Rule]) -> bool {
    rules.iter().all(|(_, _, c)| !c.starts_with("yurta "))
}

/// `delete rule` lines for every rule whose comment is one of `comments`.
pub fn delete_script(t: &str, rules: &[Rule], comments: &[String]) -> String {
    rules
        .iter()
        .filter(|(_, _, c)| comments.contains(c))
        .map(|(chain, handle, _)| format!("delete rule ip {t} {chain} handle {handle}\n"))
        .collect()
}

/// What makes the network's rules complete, given the table's listing
/// (None: no table): nothing when they are there; otherwise the table (if
/// missing), the removal of rules an older yurta commented with the
/// bridge's name, and the rules, in one script (one transaction).
pub fn add_network_script(t: &str, listing: Option<&[Rule]>, n: &NetRules) -> Option<String> {
    let tag = net_comment(n.id);
    match listing {
        Some(r) if r.iter().any(|(_, _, c)| *c == tag) => None,
        Some(r) => Some(delete_script(t, r, &[net_comment(n.bridge)]) + &network_script(t, n)),
        None => Some(base_script(t) + &network_script(t, n)),
    }
}

/// A network's rules.
pub fn network_script(t: &str, n: &NetRules) -> String {
    let (br, s) = (n.bridge, n.subnet);
    let c = net_comment(n.id);
    let mut rules = vec![
        format!("postrouting ct status dnat ip saddr {s} oifname \"{br}\" masquerade"),
        format!("postrouting ip saddr 127.0.0.0/8 oifname \"{br}\" masquerade"),
        format!("input iifname \"{br}\" ip daddr 127.0.0.0/8 ct state established,related accept"),
        format!("input iifname \"{br}\" ip daddr 127.0.0.0/8 drop"),
        format!("forward iifname \"{br}\" oifname \"{br}\" accept"),
    ];
    if n.internal {
        rules.push(format!("forward iifname \"{br}\" drop"));
    } else {
        rules.push(format!(
            "postrouting ip saddr {s} oifname != \"{br}\" masquerade"
        ));
        rules.push(format!(
            "forward oifname \"{br}\" ct state established,related accept"
        ));
        rules.push(format!("forward oifname \"{br}\" ct status dnat accept"));
    }
    rules.push(format!("forward oifname \"{br}\" drop"));
    rules
        .iter()
        .map(|r| format!("add rule ip {t} {r} comment \"{c}\"\n"))
        .collect()
}

/// DNAT rules for an endpoint's published ports.
pub fn ports_script(t: &str, tag: &str, ip: Ipv4Addr, ports: &[PortBinding]) -> String {
    let c = ports_comment(tag);
    ports
        .iter()
        .map(|p| {
            let daddr = if p.host_ip.is_unspecified() {
                String::new()
            } else {
                format!("ip daddr {} ", p.host_ip)
            };
            format!(
                "add rule ip {t} ports {daddr}{} dport {} dnat to {ip}:{} comment \"{c}\"\n",
                p.protocol, p.host_port, p.container_port
            )
        })
        .collect()
}

/// (chain, handle, comment) of every rule in `nft -j -a list table` output.
pub fn parse_rules(json: &[u8]) -> Result<Vec<(String, u64, String)>, String> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let items = v["nftables"].as_array().ok_or("no \"nftables\" array")?;
    Ok(items
        .iter()
        .filter_map(|i| i.get("rule"))
        .filter_map(|r| {
            Some((
                r["chain"].as_str()?.to_string(),
                r["handle"].as_u64()?,
                r["comment"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect())
}

/// The published ports of `nft -j list chain ... ports` output, with the
/// tag of their comment (`yurta ep <tag>`); other rules are skipped.
pub fn parse_published(json: &[u8]) -> Result<Vec<(PortBinding, String)>, String> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    let items = v["nftables"].as_array().ok_or("no \"nftables\" array")?;
    Ok(items
        .iter()
        .filter_map(|i| i.get("rule"))
        .filter_map(|r| {
            let tag = r["comment"].as_str()?.strip_prefix("yurta ep ")?;
            Some((dnat_binding(r["expr"].as_array()?)?, tag.to_string()))
        })
        .collect())
}

/// `[ip daddr H] tcp|udp dport P dnat to C:P'` as a binding.
fn dnat_binding(expr: &[serde_json::Value]) -> Option<PortBinding> {
    let mut host_ip = Ipv4Addr::UNSPECIFIED;
    let mut dport = None;
    let mut container_port = None;
    for e in expr {
        let m = &e["match"];
        match (m["left"]["payload"]["field"].as_str(), &e["dnat"]) {
            (Some("daddr"), _) => host_ip = m["right"].as_str()?.parse().ok()?,
            (Some("dport"), _) => {
                let proto: Protocol = m["left"]["payload"]["protocol"].as_str()?.parse().ok()?;
                dport = Some((proto, u16::try_from(m["right"].as_u64()?).ok()?));
            }
            (_, d) if d.is_object() => {
                container_port = u16::try_from(d["port"].as_u64()?).ok();
            }
            _ => {}
        }
    }
    let (protocol, host_port) = dport?;
    Some(PortBinding {
        host_ip,
        host_port,
        container_port: container_port?,
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        let n = NetRules {
            id: "ab12",
            bridge: "yt-1",
            subnet: "10.110.0.0/24".parse().unwrap(),
            internal: false,
        };
        let s = network_script("yurta", &n);
        assert!(s.contains("add rule ip yurta postrouting ip saddr 10.110.0.0/24 oifname != \"yt-1\" masquerade comment \"yurta net ab12\"\n"));
        assert!(s.contains("forward oifname \"yt-1\" ct status dnat accept"));
        let i = network_script(
            "yurta",
            &NetRules {
                internal: true,
                ..n
            },
        );
        assert!(
            !i.contains("masquerade comment \"yurta net ab12\"\nadd rule ip yurta forward oifname")
        );
        assert!(i.contains("forward iifname \"yt-1\" drop"));
        assert!(!i.contains("oifname != "));
        let p = [PortBinding {
            host_ip: Ipv4Addr::LOCALHOST,
            host_port: 8080,
            container_port: 80,
            protocol: Protocol::Udp,
        }];
        let s = ports_script("yurta", "e1", Ipv4Addr::new(10, 0, 0, 2), &p);
        assert_eq!(s, "add rule ip yurta ports ip daddr 127.0.0.1 udp dport 8080 dnat to 10.0.0.2:80 comment \"yurta ep e1\"\n");
    }

    #[test]
    fn adds_once_and_replaces_legacy_rules() {
        let n = NetRules {
            id: "ab12",
            bridge: "yurta0",
            subnet: "10.100.0.0/16".parse().unwrap(),
            internal: false,
        };
        let rule = |chain: &str, h, c: &str| (chain.to_string(), h, c.to_string());
        let fresh = add_network_script("t", None, &n).unwrap();
        assert!(fresh.starts_with("add table ip t\n"), "{fresh}");
        // Another root's network on another bridge, and this bridge's
        // rules as an older yurta commented them.
        let listing = [
            rule("prerouting", 1, ""),
            rule("postrouting", 2, "yurta net cd34"),
            rule("forward", 3, "yurta net yurta0"),
            rule("input", 4, "yurta net yurta0"),
        ];
        let s = add_network_script("t", Some(&listing), &n).unwrap();
        assert!(s.starts_with(
            "delete rule ip t forward handle 3\ndelete rule ip t input handle 4\nadd rule ip t "
        ));
        assert!(!s.contains("add table") && !s.contains("handle 2"), "{s}");
        let done = [rule("forward", 9, "yurta net ab12")];
        assert_eq!(add_network_script("t", Some(&done), &n), None);
        assert!(!unused(&listing));
        assert!(unused(&[rule("prerouting", 1, ""), rule("output", 2, "")]));
        assert!(!unused(&[rule("ports", 5, "yurta ep e1")]));
        let tags = [net_comment("cd34")];
        assert_eq!(
            delete_script("t", &listing, &tags),
            "delete rule ip t postrouting handle 2\n"
        );
    }

    #[test]
    fn parses_published_ports() {
        let j = br#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
            {"chain": {"family": "ip", "table": "t", "name": "ports", "handle": 1}},
            {"rule": {"chain": "ports", "handle": 2, "comment": "yurta ep e1", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "127.0.0.1"}},
                {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
                {"dnat": {"addr": "10.0.0.2", "port": 80}}]}},
            {"rule": {"chain": "ports", "handle": 3, "comment": "yurta ep e2", "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}},
                {"dnat": {"addr": "10.0.0.3", "port": 5353}}]}},
            {"rule": {"chain": "ports", "handle": 4, "comment": "someone's", "expr": []}}]}"#;
        let b = |ip: [u8; 4], h, c, protocol| PortBinding {
            host_ip: Ipv4Addr::from(ip),
            host_port: h,
            container_port: c,
            protocol,
        };
        assert_eq!(
            parse_published(j).unwrap(),
            vec![
                (b([127, 0, 0, 1], 8080, 80, Protocol::Tcp), "e1".to_string()),
                (b([0, 0, 0, 0], 53, 5353, Protocol::Udp), "e2".to_string()),
            ]
        );
    }

    #[test]
    fn parses_listing() {
        let j = br#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "ip", "name": "yurta", "handle": 1}},
            {"chain": {"family": "ip", "table": "yurta", "name": "ports", "handle": 2}},
            {"rule": {"family": "ip", "table": "yurta", "chain": "ports", "handle": 7, "comment": "yurta ep e1", "expr": []}},
            {"rule": {"family": "ip", "table": "yurta", "chain": "prerouting", "handle": 3, "expr": []}}]}"#;
        let r = parse_rules(j).unwrap();
        assert_eq!(
            r,
            vec![
                ("ports".into(), 7, "yurta ep e1".into()),
                ("prerouting".into(), 3, String::new())
            ]
        );
        assert!(parse_rules(b"{}").is_err());
    }
}
