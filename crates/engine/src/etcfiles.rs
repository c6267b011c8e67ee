//! The per-container `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`
//! that are bound into the container, written in its directory. The
//! network side supplies addresses (the container's IP, peers' names);
//! without a network of its own the files follow Docker's defaults.

use std::path::{Path, PathBuf};

use crate::fsutil::{self, FsError};
use crate::spec::EtcFiles;

/// What goes into the files.
#[derive(Debug, Clone, Default)]
pub struct EtcContent {
    pub hostname: String,
    /// The container's own addresses, each given the hostname.
    pub addresses: Vec<String>,
    /// `--add-host` entries (`host:ip`) and names of peers (`name:ip`).
    pub extra_hosts: Vec<String>,
    /// `--dns`; empty: the host's non-loopback servers.
    pub dns: Vec<String>,
    /// `--dns-search`, `--dns-option`; empty: the host's lines.
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// The host's `/etc/resolv.conf` content.
    pub host_resolv_conf: String,
    /// `--network host`: the host's resolv.conf unchanged.
    pub host_network: bool,
    /// On a user network: the embedded resolver at 127.0.0.11 (which
    /// forwards to `--dns` or the host's servers), as Docker writes it.
    pub embedded_dns: bool,
}

/// The resolver containers on user networks ask (Docker's address).
pub const EMBEDDED_DNS: &str = "127.0.0.11";

/// Whether a container of this `--network` mode gets the embedded
/// resolver: user networks, not the default `bridge` (Docker's default
/// bridge has none), `host`, `none` or `container:`.
pub fn embedded_dns(network_mode: &str) -> bool {
    !matches!(network_mode, "" | "default" | "bridge" | "host" | "none")
        && !network_mode.starts_with("container:")
}

/// Docker's `/etc/hosts`: localhost lines, extra hosts, then the
/// container's addresses with its hostname.
pub fn hosts(c: &EtcContent) -> String {
    let mut out = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    for e in &c.extra_hosts {
        if let Some((host, ip)) = e.split_once(':') {
            out.push_str(&format!("{ip}\t{host}\n"));
        }
    }
    for ip in &c.addresses {
        out.push_str(&format!("{ip}\t{}\n", c.hostname));
    }
    out
}

/// resolv.conf: the host's with loopback nameservers removed (they cannot
/// be reached from another network namespace) or replaced by `--dns`;
/// Google's public servers when nothing is left, as Docker does.
pub fn resolv_conf(c: &EtcContent) -> String {
    let own = c.dns_search.is_empty() && c.dns_options.is_empty();
    if c.host_network && c.dns.is_empty() && own {
        return c.host_resolv_conf.clone();
    }
    let text = if c.embedded_dns {
        embedded_resolv_conf(&c.host_resolv_conf)
    } else {
        plain_resolv_conf(c)
    };
    with_search_and_options(text, c)
}

/// `--dns-search` replaces the `search`/`domain` lines, `--dns-option`
/// the `options` line (Docker's rule; on a user network Docker's
/// `ndots:0` stays unless an option sets ndots).
fn with_search_and_options(text: String, c: &EtcContent) -> String {
    if c.dns_search.is_empty() && c.dns_options.is_empty() {
        return text;
    }
    let mut out = String::new();
    let mut kept_options: Vec<String> = Vec::new();
    for line in text.lines() {
        let first = line.split_whitespace().next();
        match first {
            Some("search" | "domain") if !c.dns_search.is_empty() => {}
            Some("options") if !c.dns_options.is_empty() => {
                let ndots = c.dns_options.iter().any(|o| o.starts_with("ndots:"));
                kept_options.extend(
                    line.split_whitespace()
                        .skip(1)
                        .filter(|w| c.embedded_dns && !ndots && w.starts_with("ndots:"))
                        .map(str::to_string),
                );
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !c.dns_search.is_empty() {
        out.push_str(&format!("search {}\n", c.dns_search.join(" ")));
    }
    if !c.dns_options.is_empty() {
        kept_options.extend(c.dns_options.iter().cloned());
        out.push_str(&format!("options {}\n", kept_options.join(" ")));
    }
    out
}

/// resolv.conf on a network of the container's own: see [`resolv_conf`].
fn plain_resolv_conf(c: &EtcContent) -> String {
    let mut out = String::new();
    let mut servers = 0;
    for line in c.host_resolv_conf.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let ip = words.next().unwrap_or_default();
            let loopback = ip
                .parse::<std::net::IpAddr>()
                .is_ok_and(|a| a.is_loopback());
            if c.dns.is_empty() && !loopback {
                out.push_str(line);
                out.push('\n');
                servers += 1;
            }
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    for ip in &c.dns {
        out.push_str(&format!("nameserver {ip}\n"));
        servers += 1;
    }
    if servers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

/// resolv.conf on a user network: `nameserver 127.0.0.11` only (the
/// resolver forwards to the real servers), the host's `search` and
/// `domain` lines, and its options with Docker's `ndots:0` (names without
/// dots are tried as they are first: container names).
pub fn embedded_resolv_conf(host_resolv_conf: &str) -> String {
    let mut out = format!("nameserver {EMBEDDED_DNS}\n");
    let mut options = vec!["ndots:0".to_string()];
    for line in host_resolv_conf.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("search" | "domain") => {
                out.push_str(line.trim());
                out.push('\n');
            }
            Some("options") => {
                options.extend(
                    words
                        .filter(|w| !w.starts_with("ndots:"))
                        .map(str::to_string),
                );
            }
            _ => {}
        }
    }
    out.push_str(&format!("options {}\n", options.join(" ")));
    out
}

/// The host's hostname (`--network host` containers take it, as in
/// Docker), from the kernel of yurta's own UTS namespace.
pub fn host_hostname() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(h.trim().to_string()).filter(|h| !h.is_empty())
}

/// Writes the three files into `dir` (each replaced atomically, without
/// fsync: they are written again at every start) and returns their paths
/// for the spec.
pub fn write(dir: &Path, c: &EtcContent) -> Result<EtcFiles, FsError> {
    let path = |n: &str| -> PathBuf { dir.join(n) };
    fsutil::replace(&path("hostname"), format!("{}\n", c.hostname).as_bytes())?;
    fsutil::replace(&path("hosts"), hosts(c).as_bytes())?;
    fsutil::replace(&path("resolv.conf"), resolv_conf(c).as_bytes())?;
    Ok(EtcFiles {
        hosts: Some(path("hosts")),
        hostname: Some(path("hostname")),
        resolv_conf: Some(path("resolv.conf")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_resolv_conf() {
        let c = EtcContent {
            hostname: "abc".into(),
            addresses: vec!["10.88.0.2".into()],
            extra_hosts: vec!["db:10.0.0.9".into()],
            host_resolv_conf:
                "search lan\nnameserver 127.0.0.53\nnameserver 192.0.2.1\noptions ndots:2\n".into(),
            ..Default::default()
        };
        let h = hosts(&c);
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.ends_with("10.0.0.9\tdb\n10.88.0.2\tabc\n"), "{h}");
        assert_eq!(
            resolv_conf(&c),
            "search lan\nnameserver 192.0.2.1\noptions ndots:2\n"
        );
        let dns = EtcContent {
            dns: vec!["192.0.2.53".into()],
            ..c.clone()
        };
        assert_eq!(
            resolv_conf(&dns),
            "search lan\noptions ndots:2\nnameserver 192.0.2.53\n"
        );
        let only_local = EtcContent {
            host_resolv_conf: "nameserver 127.0.0.1\n".into(),
            ..Default::default()
        };
        assert_eq!(
            resolv_conf(&only_local),
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
        let host = EtcContent {
            host_network: true,
            ..only_local
        };
        assert_eq!(resolv_conf(&host), "nameserver 127.0.0.1\n");
        let user = EtcContent {
            embedded_dns: true,
            ..c.clone()
        };
        assert_eq!(
            resolv_conf(&user),
            "nameserver 127.0.0.11\nsearch lan\noptions ndots:0\n"
        );
        let opts = "nameserver 10.0.0.1\noptions ndots:5 edns0\ndomain d.test\n";
        assert_eq!(
            embedded_resolv_conf(opts),
            "nameserver 127.0.0.11\ndomain d.test\noptions ndots:0 edns0\n"
        );
        assert!(embedded_dns("n1") && !embedded_dns("bridge") && !embedded_dns("default"));
        assert!(!embedded_dns("host") && !embedded_dns("none") && !embedded_dns("container:x"));
        let d = tempfile::tempdir().unwrap();
        let files = write(d.path(), &c).unwrap();
        assert_eq!(
            std::fs::read_to_string(files.hostname.unwrap()).unwrap(),
            "abc\n"
        );
    }
}
