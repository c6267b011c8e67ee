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
//! Network rules are commented `yurta net <bridge>`; removal lists the table
//! with handles and deletes exactly the rules with the comment.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use crate::ports::PortBinding;
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
type Rule = (String, u64, String);

/// What the firewall needs to know about a network.
pub struct NetRules<'a> {
    pub bridge: &'a str,
    pub subnet: Ipv4Net,
    pub internal: bool,
}

/// A firewall backend (netavark's `FirewallDriver`): nftables today.
pub trait Firewall {
    /// Adds the network's rules unless they are there.
    fn add_network(&self, net: &NetRules) -> Result<(), FirewallError>;
    /// Removes the network's rules (none: fine).
    fn remove_network(&self, bridge: &str) -> Result<(), FirewallError>;
    /// Adds DNAT rules for one endpoint's published ports.
    fn add_ports(
        &self,
        tag: &str,
        ip: Ipv4Addr,
        ports: &[PortBinding],
    ) -> Result<(), FirewallError>;
    /// Removes exactly the rules added with `tag` (none: fine).
    fn remove_ports(&self, tag: &str) -> Result<(), FirewallError>;
    /// Deletes the whole table (gone already: fine).
    fn delete_table(&self) -> Result<(), FirewallError>;
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

    fn exists(&self) -> Result<bool, FirewallError> {
        let st = Command::new("nft")
            .args(["list", "table", "ip", &self.table])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(FirewallError::Spawn)?;
        Ok(st.success())
    }

    fn ensure_table(&self) -> Result<(), FirewallError> {
        if self.exists()? {
            return Ok(());
        }
        self.run("create table", &base_script(&self.table))
    }

    fn delete_tagged(&self, what: &str, comment: &str) -> Result<(), FirewallError> {
        let script: String = self
            .rules()?
            .iter()
            .filter(|(_, _, c)| c == comment)
            .map(|(chain, handle, _)| {
                format!("delete rule ip {} {chain} handle {handle}\n", self.table)
            })
            .collect();
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
        let tag = net_comment(net.bridge);
        let rules = network_script(&self.table, net);
        let script = match self.listing()? {
            Some(r) if r.iter().any(|(_, _, c)| *c == tag) => return Ok(()),
            Some(_) => rules,
            None => base_script(&self.table) + &rules,
        };
        let what = format!("add rules of bridge {}", net.bridge);
        self.run(&what, &script)
    }

    fn remove_network(&self, bridge: &str) -> Result<(), FirewallError> {
        let what = format!("remove rules of bridge {bridge}");
        self.delete_tagged(&what, &net_comment(bridge))
    }

    fn add_ports(
        &self,
        tag: &str,
        ip: Ipv4Addr,
        ports: &[PortBinding],
    ) -> Result<(), FirewallError> {
        if ports.is_empty() {
            return Ok(());
        }
        self.ensure_table()?;
        let what = format!("publish ports of endpoint {tag} ({} rules)", ports.len());
        self.run(&what, &ports_script(&self.table, tag, ip, ports))
    }

    fn remove_ports(&self, tag: &str) -> Result<(), FirewallError> {
        let what = format!("remove published ports of endpoint {tag}");
        self.delete_tagged(&what, &ports_comment(tag))
    }

    fn delete_table(&self) -> Result<(), FirewallError> {
        if !self.exists()? {
            return Ok(());
        }
        self.run("delete table", &format!("delete table ip {}\n", self.table))
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

pub fn net_comment(bridge: &str) -> String {
    format!("yurta net {bridge}")
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

/// A network's rules.
pub fn network_script(t: &str, n: &NetRules) -> String {
    let (br, s) = (n.bridge, n.subnet);
    let c = net_comment(br);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Protocol;

    #[test]
    fn scripts() {
        let n = NetRules {
            bridge: "yt-1",
            subnet: "10.110.0.0/24".parse().unwrap(),
            internal: false,
        };
        let s = network_script("yurta", &n);
        assert!(s.contains("add rule ip yurta postrouting ip saddr 10.110.0.0/24 oifname != \"yt-1\" masquerade comment \"yurta net yt-1\"\n"));
        assert!(s.contains("forward oifname \"yt-1\" ct status dnat accept"));
        let i = network_script(
            "yurta",
            &NetRules {
                internal: true,
                ..n
            },
        );
        assert!(
            !i.contains("masquerade comment \"yurta net yt-1\"\nadd rule ip yurta forward oifname")
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
