//! Per-container `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`.
//!
//! Name resolution on user networks is a managed `/etc/hosts`: the file has
//! a peer section between two marker lines listing the other containers of
//! the container's user networks with their names and aliases, and yurta
//! rewrites that section in every registered hosts file when a container
//! joins or leaves (see `Networks::attach`). The default network has no
//! name resolution, as in Docker.

use std::net::IpAddr;
use std::path::Path;

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("bad --add-host {0:?}: expected HOST:IP")]
    AddHost(String),
    #[error("bad --dns {0:?}: not an IP address")]
    Dns(String),
    #[error("write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

const PEERS_BEGIN: &str = "# yurta: containers on the same networks (managed, rewritten by yurta)";
const PEERS_END: &str = "# yurta: end of managed section";

/// One line of a hosts file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostsEntry {
    pub ip: IpAddr,
    pub names: Vec<String>,
}

/// What a container's /etc/hosts holds besides the standard lines.
#[derive(Clone, Debug, Default)]
pub struct Hosts {
    /// `--add-host` entries, in order.
    pub extra: Vec<HostsEntry>,
    /// The container's own addresses with hostname, name and aliases.
    pub own: Vec<HostsEntry>,
    /// Other containers on its user networks.
    pub peers: Vec<HostsEntry>,
}

fn line(e: &HostsEntry) -> String {
    format!("{}\t{}\n", e.ip, e.names.join(" "))
}

impl Hosts {
    pub fn render(&self) -> String {
        let mut s = String::from(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        );
        self.extra
            .iter()
            .chain(&self.own)
            .for_each(|e| s += &line(e));
        s + &peer_section(&self.peers)
    }
}

fn peer_section(peers: &[HostsEntry]) -> String {
    let mut s = format!("{PEERS_BEGIN}\n");
    peers.iter().for_each(|e| s += &line(e));
    s + PEERS_END + "\n"
}

/// `text` with its managed peer section replaced (appended when missing).
pub fn replace_peers(text: &str, peers: &[HostsEntry]) -> String {
    let (Some(b), Some(e)) = (text.find(PEERS_BEGIN), text.find(PEERS_END)) else {
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return format!("{text}{sep}{}", peer_section(peers));
    };
    let after = text[e..].find('\n').map_or(text.len(), |n| e + n + 1);
    format!("{}{}{}", &text[..b], peer_section(peers), &text[after..])
}

/// Rewrites the peer section of the hosts file at `path` in place (the
/// file may be bind-mounted into a running container, so it is not
/// replaced by rename).
pub fn update_peers(path: &Path, peers: &[HostsEntry]) -> Result<(), FilesError> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    std::fs::write(path, replace_peers(&text, peers)).map_err(|source| FilesError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Docker's `--add-host HOST:IP` (also `HOST=IP`; IPv6 addresses may be
/// bracketed).
pub fn parse_add_host(s: &str) -> Result<HostsEntry, FilesError> {
    let bad = || FilesError::AddHost(s.to_string());
    let (host, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(bad)?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(HostsEntry {
        ip,
        names: vec![host.to_string()],
    })
}

/// `/etc/hostname`.
pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

/// DNS settings for resolv.conf (`--dns`, `--dns-search`, `--dns-option`).
#[derive(Clone, Debug, Default)]
pub struct Dns {
    pub servers: Vec<IpAddr>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

/// Parses `--dns` values.
pub fn parse_dns(values: &[String]) -> Result<Vec<IpAddr>, FilesError> {
    values
        .iter()
        .map(|v| v.parse().map_err(|_| FilesError::Dns(v.clone())))
        .collect()
}

/// Docker's fallback when the host only has loopback resolvers.
pub const DEFAULT_DNS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// The words after `key` on the lines of a resolv.conf that start with it.
fn resolv_field(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(key))
        .filter(|rest| rest.starts_with([' ', '\t']))
        .flat_map(|rest| rest.split_whitespace().map(str::to_string))
        .collect()
}

/// The name servers a container or VM can use from the host's resolv.conf
/// text: the host's minus loopback ones (unreachable from another network
/// namespace or a guest), Docker's public defaults when none is left.
pub fn host_nameservers(host: &str) -> Vec<IpAddr> {
    let servers: Vec<IpAddr> = resolv_field(host, "nameserver")
        .iter()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .filter(|ip| !ip.is_loopback())
        .collect();
    if servers.is_empty() {
        return DEFAULT_DNS.iter().filter_map(|s| s.parse().ok()).collect();
    }
    servers
}

/// `/etc/resolv.conf` from the host's file and the container's settings:
/// `--dns` replaces the nameservers; otherwise the host's minus loopback
/// ones (a container cannot reach the host's 127.0.0.53), and Docker's
/// public defaults when none is left. yurta only writes the file.
pub fn resolv_conf(host: &str, dns: &Dns) -> String {
    let field = |key: &str| resolv_field(host, key);
    let servers: Vec<String> = if dns.servers.is_empty() {
        host_nameservers(host)
    } else {
        dns.servers.clone()
    }
    .iter()
    .map(IpAddr::to_string)
    .collect();
    let search = if dns.search.is_empty() {
        field("search")
    } else {
        dns.search.clone()
    };
    let options = if dns.options.is_empty() {
        field("options")
    } else {
        dns.options.clone()
    };
    let mut out = String::new();
    servers
        .iter()
        .for_each(|s| out += &format!("nameserver {s}\n"));
    if !search.is_empty() {
        out += &format!("search {}\n", search.join(" "));
    }
    if !options.is_empty() {
        out += &format!("options {}\n", options.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ip: &str, names: &[&str]) -> HostsEntry {
        HostsEntry {
            ip: ip.parse().unwrap(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn hosts_and_peer_rewrite() {
        let h = Hosts {
            extra: vec![parse_add_host("db:192.0.2.9").unwrap()],
            own: vec![e("10.110.0.2", &["abc123", "web"])],
            peers: vec![e("10.110.0.3", &["api", "api.alias"])],
        };
        let text = h.render();
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("192.0.2.9\tdb\n10.110.0.2\tabc123 web\n"));
        assert!(text.contains("10.110.0.3\tapi api.alias\n"));
        let t2 = replace_peers(
            &(text.clone() + "1.2.3.4\tmine\n"),
            &[e("10.110.0.4", &["x"])],
        );
        assert!(!t2.contains("api"));
        assert!(t2.contains("10.110.0.4\tx\n# yurta: end"));
        assert!(t2.ends_with("1.2.3.4\tmine\n"));
        assert_eq!(
            replace_peers("a", &[]),
            format!("a\n{PEERS_BEGIN}\n{PEERS_END}\n")
        );
    }

    #[test]
    fn add_host_forms() {
        assert_eq!(parse_add_host("h=10.0.0.1").unwrap(), e("10.0.0.1", &["h"]));
        assert_eq!(parse_add_host("h:[::1]").unwrap(), e("::1", &["h"]));
        let err = parse_add_host("nohost").unwrap_err().to_string();
        assert_eq!(err, r#"bad --add-host "nohost": expected HOST:IP"#);
        assert!(parse_add_host("h:300.1.1.1").is_err());
    }

    #[test]
    fn resolv() {
        let host =
            "# comment\nnameserver 127.0.0.53\nsearch example.test\noptions edns0 trust-ad\n";
        let r = resolv_conf(host, &Dns::default());
        assert_eq!(
            r,
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch example.test\noptions edns0 trust-ad\n"
        );
        let r = resolv_conf("nameserver 192.0.2.1\nnameserver ::1\n", &Dns::default());
        assert_eq!(r, "nameserver 192.0.2.1\n");
        let dns = Dns {
            servers: parse_dns(&["10.0.0.53".into()]).unwrap(),
            search: vec!["a.test".into()],
            options: vec![],
        };
        assert_eq!(
            resolv_conf(host, &dns),
            "nameserver 10.0.0.53\nsearch a.test\noptions edns0 trust-ad\n"
        );
        assert!(parse_dns(&["x".into()]).is_err());
        assert_eq!(hostname_file("h"), "h\n");
    }
}
