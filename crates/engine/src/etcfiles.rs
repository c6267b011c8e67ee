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
    /// The host's `/etc/resolv.conf` content.
    pub host_resolv_conf: String,
    /// `--network host`: the host's resolv.conf unchanged.
    pub host_network: bool,
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
    if c.host_network && c.dns.is_empty() {
        return c.host_resolv_conf.clone();
    }
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
        let d = tempfile::tempdir().unwrap();
        let files = write(d.path(), &c).unwrap();
        assert_eq!(
            std::fs::read_to_string(files.hostname.unwrap()).unwrap(),
            "abc\n"
        );
    }
}
